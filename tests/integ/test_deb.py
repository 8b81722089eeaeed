"""test_deb.py -- the Debian packages: "dpkg-buildpackage -us -uc -b" in a
copy of the release tree ("make distdir") builds rosterd and roster;
lintian finds no error or warning in them (the accepted ones are overridden
in debian/*.lintian-overrides, each with its reason); the packages hold
what they should (the daemon, its unit, /etc/roster/rosterd.conf as a
conffile, the man pages; the CLI and its completion), their postinst makes
the system user and enables the unit without starting it, the packaged
unit's exposure stays at most 2.0, and the packaged rosterd and roster,
unpacked with dpkg-deb -x, serve and talk to a private PostgreSQL.

It does not install the packages into this machine unless asked to
(ROSTER_TEST_DPKG_INSTALL=1, as root): then dpkg -i, the user, the
permissions and the enabled unit are checked, and everything is purged
again, the user included. The package build is a full compile: its time is
printed (about a minute on two cores)."""

import glob
import grp
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('ROSTER_TEST_TIMEOUT', '600')
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MAX_EXPOSURE = 2.0
TOOLS = ('dpkg-buildpackage', 'dpkg-deb', 'dh', 'lintian')

missing = [t for t in TOOLS if shutil.which(t) is None]
if missing:
    h.skip('the Debian packages', 'not found: %s (apt-get install '
           'debhelper dpkg-dev lintian)' % ' '.join(missing))
    h.done_testing()

with open(os.path.join(h.SRCDIR, 'configure.ac'), encoding='utf-8') as f:
    m = re.search(r'AC_INIT\(\[roster\],\s*\[([^]]+)\]', f.read())
VERSION = m.group(1) if m else None
if VERSION is None:
    h.bail('no version in configure.ac')

tmp = tempfile.mkdtemp(prefix='roster-deb-')
h.on_cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
tree = os.path.join(tmp, 'roster-%s' % VERSION)
debs = {}


def deb_fields(deb):
    r = h.run(['dpkg-deb', '-f', deb])
    out, key = {}, None
    for line in r.stdout.splitlines():
        if line[:1] in (' ', '\t') and key:
            out[key] += '\n' + line.strip()
        elif ':' in line:
            key, v = line.split(':', 1)
            out[key] = v.strip()
    return out


def deb_files(deb):
    r = h.run(['dpkg-deb', '-c', deb])
    return {l.split()[-1][1:] for l in r.stdout.splitlines()
            if not l.startswith('d')}


def deb_control(deb, name):
    r = h.run(['dpkg-deb', '-I', deb, name], check=False)
    return r.stdout if r.returncode == 0 else ''


with h.section('dpkg-buildpackage -us -uc -b'):
    r = h.run(['make', '-s', '-C', h.BUILDDIR, 'distdir',
               'distdir=' + tree], check=False, timeout=300)
    h.ok(r.returncode == 0, 'make distdir: a copy of the release tree',
         *r.stderr.splitlines())
    r = h.run(['dpkg-parsechangelog', '-S', 'Version'], cwd=tree,
              check=False)
    h.is_(r.stdout.strip(), VERSION,
          "debian/changelog's version is configure.ac's")
    r = h.run(['dpkg-checkbuilddeps'], cwd=tree, check=False)
    h.ok(r.returncode == 0, 'the Build-Depends are installed',
         *r.stderr.splitlines())
    env = dict(os.environ, DEB_BUILD_OPTIONS='parallel=2')
    for k in list(env):
        if k.startswith('ROSTER_') or k in ('MAKEFLAGS', 'MFLAGS',
                                            'MAKELEVEL'):
            del env[k]
    t0 = time.monotonic()
    r = h.run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=tree,
              check=False, timeout=480, env=env)
    took = time.monotonic() - t0
    h.diag('dpkg-buildpackage took %.0f s' % took)
    h.is_(r.returncode, 0, 'dpkg-buildpackage -us -uc -b exits 0')
    if r.returncode:
        h.diag(*(r.stdout + r.stderr).splitlines()[-40:])
    for name in ('rosterd', 'roster'):
        found = glob.glob(os.path.join(tmp, '%s_%s_*.deb' % (name, VERSION)))
        h.is_(len(found), 1, 'the package %s was built' % name)
        if found:
            debs[name] = found[0]
    changes = glob.glob(os.path.join(tmp, 'roster_%s_*.changes' % VERSION))
    h.is_(len(changes), 1, 'and its .changes')

if len(debs) != 2:
    h.bail('no packages to check')

with h.section('lintian'):
    r = h.run(['lintian', '--display-info', '--fail-on', 'error,warning',
               changes[0]], check=False, timeout=300)
    out = [l for l in (r.stdout + r.stderr).splitlines()
           if 'running with root privileges' not in l]
    h.diag('lintian:', *(out or ['(nothing to say)']))
    h.is_(r.returncode, 0, 'lintian --fail-on error,warning exits 0')
    h.is_([l for l in out if re.match(r'[EW]: ', l)], [],
          'no error or warning from lintian')

with h.section('the rosterd package'):
    files = deb_files(debs['rosterd'])
    for p in ('/usr/sbin/rosterd', '/lib/systemd/system/rosterd.service',
              '/etc/roster/rosterd.conf', '/usr/share/man/man8/rosterd.8.gz',
              '/usr/share/man/man5/rosterd.conf.5.gz',
              '/usr/share/doc/rosterd/copyright',
              '/usr/share/roster/web/index.html',
              '/usr/share/roster/web/app.js',
              '/usr/share/roster/web/i18n.js'):
        h.ok(p in files, 'rosterd holds %s' % p)
    h.is_(deb_control(debs['rosterd'], 'conffiles').split(),
          ['/etc/roster/rosterd.conf'], 'its conffile')
    fields = deb_fields(debs['rosterd'])
    h.like(fields.get('Depends', ''), r'(^|, )adduser(,|$)',
           'it depends on adduser')
    for lib in ('libevent-2.1-7', 'libpq5', 'libssl3'):
        h.like(fields.get('Depends', ''), r'\b%s\b' % re.escape(lib),
               'it depends on %s (shlibs)' % lib)
    post = deb_control(debs['rosterd'], 'postinst')
    h.like(post, r'adduser --system --group [^\n]*\\\n[^\n]* roster\n',
           'postinst makes the system user and group roster')
    h.like(post, r"deb-systemd-helper enable 'rosterd.service'",
           'postinst enables the unit')
    h.ok('deb-systemd-invoke' not in post and
         'systemctl start' not in post and 'invoke-rc.d' not in post,
         'postinst does not start it')

with h.section('the roster package'):
    files = deb_files(debs['roster'])
    for p in ('/usr/bin/roster', '/usr/share/man/man1/roster.1.gz',
              '/usr/share/bash-completion/completions/roster'):
        h.ok(p in files, 'roster holds %s' % p)
    h.ok(not any(f.startswith('/etc/') for f in files),
         'nothing under /etc')

root = os.path.join(tmp, 'root')
with h.section('the unpacked packages'):
    for deb in debs.values():
        h.run(['dpkg-deb', '-x', deb, root])
    with open(os.path.join(root, 'lib/systemd/system/rosterd.service'),
              encoding='utf-8') as f:
        unit = f.read()
    h.like(unit, r'(?m)^ExecStart=/usr/sbin/rosterd -c '
           r'/etc/roster/rosterd\.conf -f$', 'the unit runs /usr/sbin/rosterd '
           'with /etc/roster/rosterd.conf')
    h.like(unit, r'(?m)^User=roster$', 'as the user roster')
    with open(os.path.join(root, 'etc/roster/rosterd.conf'),
              encoding='utf-8') as f, \
            open(os.path.join(h.SRCDIR, 'deploy/rosterd.conf.example'),
                 encoding='utf-8') as g:
        h.ok(f.read() == g.read(), '/etc/roster/rosterd.conf is the example')
    for page, sec in (('rosterd.8', '8'), ('rosterd.conf.5', '5'),
                      ('roster.1', '1')):
        with gzip.open(os.path.join(root, 'usr/share/man/man%s/%s.gz'
                                    % (sec, page)), 'rt') as f, \
                open(os.path.join(h.SRCDIR, 'man', page),
                     encoding='utf-8') as g:
            h.ok(f.read() == g.read(), '%s is the page of the source' % page)
    sa = shutil.which('systemd-analyze')
    if sa is None:
        h.skip('exposure of the packaged unit', 'systemd-analyze not found')
    else:
        r = h.run([sa, 'security', '--offline=true', '--no-pager',
                   os.path.join(root, 'lib/systemd/system/rosterd.service')],
                  check=False)
        m = re.search(r'Overall exposure level for \S+: ([0-9.]+)',
                      r.stdout + r.stderr)
        h.ok(m is not None and float(m.group(1)) <= MAX_EXPOSURE,
             'exposure of the packaged unit %s <= %.1f'
             % (m.group(1) if m else '?', MAX_EXPOSURE),
             *(r.stdout + r.stderr).splitlines()[-5:])

with h.section('the packaged rosterd and roster run'):
    h.ROSTERD = os.path.join(root, 'usr/sbin/rosterd')
    h.ROSTER = os.path.join(root, 'usr/bin/roster')
    r = h.run([h.ROSTERD, '--version'], check=False)
    h.like(r.stdout + r.stderr, re.escape(VERSION), 'rosterd --version')
    env, rd = h.setup()
    rc, out, err = env.cli(rd, '--user', 'admin', 'WHOAMI',
                           password=h.PASSWORD)
    h.ok(rc == 0 and 'user=admin' in out, 'the packaged roster logs in to '
         'the packaged rosterd (migrated, started)', out, err)

with h.section('dpkg -i into this machine'):
    if os.environ.get('ROSTER_TEST_DPKG_INSTALL') != '1' or os.getuid():
        h.skip('dpkg -i, postinst, purge',
               'installs into this machine: set ROSTER_TEST_DPKG_INSTALL=1 '
               '(as root) to run it')
    elif subprocess.run(['dpkg', '-s', 'rosterd'], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0 or \
            subprocess.run(['getent', 'passwd', 'roster'],
                           stdout=subprocess.DEVNULL).returncode == 0:
        h.skip('dpkg -i, postinst, purge', 'rosterd or the user roster is '
               'already on this machine: not touching them')
    else:
        def purge():
            subprocess.run(['dpkg', '--purge', 'rosterd', 'roster'],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            if subprocess.run(['getent', 'passwd', 'roster'],
                              stdout=subprocess.DEVNULL).returncode == 0:
                subprocess.run(['deluser', '--system', '--quiet', 'roster'],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            subprocess.run(['delgroup', '--system', '--quiet', 'roster'],
                           stderr=subprocess.DEVNULL)
        h.on_cleanup(purge)
        r = h.run(['dpkg', '-i', debs['rosterd'], debs['roster']],
                  check=False, timeout=300,
                  env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
        h.is_(r.returncode, 0, 'dpkg -i rosterd roster exits 0')
        if r.returncode:
            h.diag(*(r.stdout + r.stderr).splitlines()[-20:])
        pw = h.run(['getent', 'passwd', 'roster'], check=False).stdout
        h.like(pw, r'^roster:x:\d+:\d+:[^:]*:/nonexistent:/usr/sbin/nologin',
               'the system user roster, without a home or a shell')
        for path, mode in (('/etc/roster', 0o750),
                           ('/etc/roster/rosterd.conf', 0o640)):
            st = os.stat(path)
            h.is_((oct(st.st_mode & 0o7777), st.st_uid,
                   grp.getgrgid(st.st_gid).gr_name), (oct(mode), 0, 'roster'),
                  '%s: root:roster %o' % (path, mode))
        h.ok(os.path.islink('/etc/systemd/system/multi-user.target.wants/'
                            'rosterd.service'), 'the unit is enabled')
        running = []
        for exe in glob.glob('/proc/[0-9]*/exe'):
            try:
                if os.readlink(exe) == '/usr/sbin/rosterd':
                    running.append(exe)
            except OSError:
                pass
        h.is_(running, [], 'and not started (no /usr/sbin/rosterd runs)')
        r = h.run(['/usr/bin/roster', '--version'], check=False)
        h.is_(r.returncode, 0, '/usr/bin/roster runs')
        r = h.run(['dpkg', '--purge', 'rosterd', 'roster'], check=False,
                  timeout=300)
        h.is_(r.returncode, 0, 'dpkg --purge exits 0')
        h.ok(not os.path.exists('/etc/roster') and
             not os.path.exists('/usr/sbin/rosterd') and
             not os.path.lexists('/etc/systemd/system/multi-user.target.wants'
                                 '/rosterd.service'),
             'purge leaves no file, conffile or enablement behind')

h.done_testing()
