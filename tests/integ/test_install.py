"""test_install.py -- what "make install" puts where, and the pages and
files it installs: the man pages are clean for mandoc -Tlint and document
every configuration key, every option and every verb, read from the
sources (daemon/config.c's key table, the getopt tables of daemon/main.c
and client/main.c, the CLI's verbs, its config keys and import kinds); "make
install DESTDIR=..." installs exactly the expected files, in the
directories that configure chose (systemd's and bash-completion's from
pkg-config), and "make uninstall" removes them; the installed unit's
exposure by "systemd-analyze security" is at most 2.0; the bash completion
completes the options, verbs and fixed values without a server. Needs no
daemon and no database."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PAGES = ('man/rosterd.8', 'man/rosterd.conf.5', 'man/roster.1')
MAX_EXPOSURE = 2.0


def read(rel):
    with open(os.path.join(h.SRCDIR, rel), encoding='utf-8') as f:
        return f.read()


def table(source, name):
    """The first quoted string of each row of the C array `name[] = {`."""
    m = re.search(r'\b%s\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\};' % re.escape(name),
                  source, re.S)
    if m is None:
        return []
    return re.findall(r'\{\s*"([A-Za-z0-9_-]+)"\s*,', m.group(1))


def getopt_short(source):
    """The option letters of the getopt_long call's option string."""
    m = re.search(r'getopt_long\s*\(\s*argc\s*,\s*argv\s*,\s*"([^"]*)"',
                  source)
    return [c for c in (m.group(1) if m else '') if c != ':']


# --- mdoc: what a page documents -------------------------------------------

MACRO = re.compile(r'^[A-Z][a-z]{1,2}$')


def mdoc_entries(text):
    """{macro: set of arguments} of the macros Fl, Cm and Ic on the .It
    lines of a page (the entries of its lists: what it documents, not only
    mentions). An Fl argument "-listen" stands for --listen, "H" for -H."""
    found = {'Fl': set(), 'Cm': set(), 'Ic': set()}
    for line in text.splitlines():
        if not line.startswith('.It'):
            continue
        toks = line.split()[1:]
        cur = None
        for t in toks:
            if MACRO.match(t):
                cur = t if t in found else None
            elif cur is not None and t not in (',', '|', '(', ')'):
                found[cur].add(t.rstrip(',').split('=')[0]
                               if cur == 'Fl' else t)
    return found


def flag_words(longs, shorts):
    """How a page writes these options after Fl: -name and the letter."""
    return ['-' + n for n in longs] + list(shorts)


# --- sources ---------------------------------------------------------------

try:
    config_c = read('daemon/config.c')
    daemon_main = read('daemon/main.c')
    client_main = read('client/main.c')
    clicfg_c = read('client/clicfg.c')
    import_c = read('client/import.c')
    pages = {p: read(p) for p in PAGES}
except OSError as e:
    h.bail('cannot read the sources: %s' % e)

conf_keys = table(config_c, 'config_keys')
rosterd_longs = table(daemon_main, 'longopts')
rosterd_shorts = getopt_short(daemon_main)
roster_longs = table(client_main, 'longopts')
roster_shorts = getopt_short(client_main)
roster_verbs = table(client_main, 'main_verbs')
cli_keys = table(clicfg_c, 'clicfg_keys')
import_kinds = table(import_c, 'import_kinds')

with h.section('the tables read from the sources'):
    h.cmp_ok(len(conf_keys), '>=', 17,
             'daemon/config.c: config_keys (%d)' % len(conf_keys))
    h.cmp_ok(len(rosterd_longs), '>=', 12,
             'daemon/main.c: longopts (%d)' % len(rosterd_longs))
    h.ok('c' in rosterd_shorts and 'f' in rosterd_shorts,
         'daemon/main.c: the getopt string (%s)' % ''.join(rosterd_shorts))
    h.cmp_ok(len(roster_longs), '>=', 13,
             'client/main.c: longopts (%d)' % len(roster_longs))
    h.cmp_ok(len(roster_shorts), '>=', 10,
             'client/main.c: the getopt string (%s)' % ''.join(roster_shorts))
    h.ok({'shell', 'import', 'export', 'watch'} <= set(roster_verbs),
         'client/main.c: main_verbs (%s)' % ' '.join(roster_verbs))
    h.cmp_ok(len(cli_keys), '>=', 8,
             'client/clicfg.c: clicfg_keys (%d)' % len(cli_keys))
    h.cmp_ok(len(import_kinds), '>=', 5,
             'client/import.c: import_kinds (%d)' % len(import_kinds))

# --- the man pages: mandoc -Tlint ------------------------------------------

mandoc = shutil.which('mandoc')
# -W style, the strictest level, less "referenced manual not found" (which
# pages this machine has installed) and the note on its mandoc.db.
with h.section('mandoc -Tlint -W style'):
    for p in PAGES:
        if mandoc is None:
            h.skip('%s: mandoc -Tlint' % p,
                   'mandoc not found: apt-get install mandoc')
            continue
        r = h.run([mandoc, '-Tlint', '-W', 'style',
                   os.path.join(h.SRCDIR, p)], check=False)
        msgs = [l for l in (r.stdout + r.stderr).splitlines()
                if 'outdated mandoc.db' not in l and
                'referenced manual not found' not in l]
        h.ok(r.returncode in (0, 1) and not msgs,
             '%s: no style message, warning or error from mandoc -Tlint'
             % p, *msgs)

# --- the man pages: every key, option and verb -----------------------------

with h.section('rosterd.conf(5) documents every key of daemon/config.c'):
    ent = mdoc_entries(pages['man/rosterd.conf.5'])
    for k in conf_keys:
        h.ok(k in ent['Ic'], 'rosterd.conf.5: .It Ic %s' % k)

with h.section('rosterd(8) documents every option of daemon/main.c'):
    ent = mdoc_entries(pages['man/rosterd.8'])
    for f in flag_words(rosterd_longs, rosterd_shorts):
        h.ok(f in ent['Fl'], 'rosterd.8: .It Fl %s' % f)

with h.section('roster(1) documents every option, verb, config key, kind'):
    ent = mdoc_entries(pages['man/roster.1'])
    for f in flag_words(roster_longs, roster_shorts):
        h.ok(f in ent['Fl'], 'roster.1: .It Fl %s' % f)
    for v in roster_verbs:
        h.ok(v in ent['Cm'], 'roster.1: .It Cm %s (a verb)' % v)
    for k in cli_keys:
        h.ok(k in ent['Ic'], 'roster.1: .It Ic %s (a config key)' % k)
    for k in import_kinds:
        h.ok(k in ent['Cm'], 'roster.1: .It Cm %s (an import kind)' % k)

with h.section("the options the programs' --help prints are documented"):
    for prog, page in ((h.ROSTER, 'man/roster.1'),
                       (h.ROSTERD, 'man/rosterd.8')):
        r = h.run([prog, '--help'], check=False)
        ent = mdoc_entries(pages[page])
        opts = sorted(set(re.findall(r'(?<![\w-])--([a-z][a-z-]*)',
                                     r.stdout + r.stderr)))
        h.cmp_ok(len(opts), '>=', 8, '%s --help names %d long options'
                 % (os.path.basename(prog), len(opts)))
        for o in opts:
            h.ok('-' + o in ent['Fl'], '%s: --%s from --help' % (page, o))

# --- make install DESTDIR=... ----------------------------------------------

DIRS = ('prefix', 'bindir', 'sbindir', 'sysconfdir', 'mandir', 'docdir',
        'datadir',
        'systemdsystemunitdir', 'bashcompletiondir')


def make_vars(names):
    """The values of the build's Makefile variables, expanded by make."""
    rules = 'print-dirs:\n' + ''.join(
        '\t@echo "%s=$(%s)"\n' % (n, n) for n in names)
    r = subprocess.run(['make', '-s', '-C', h.BUILDDIR, '-f', 'Makefile',
                        '-f', '-', 'print-dirs'], input=rules, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError('make print-dirs: %s' % r.stderr)
    return dict(l.split('=', 1) for l in r.stdout.splitlines() if '=' in l)


def pkg_config_var(module, var):
    if shutil.which('pkg-config') is None:
        return None
    r = h.run(['pkg-config', '--variable=' + var, module], check=False)
    return r.stdout.strip() or None if r.returncode == 0 else None


def listing(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add('/' + os.path.relpath(os.path.join(d, f), root))
    return out


tmp = tempfile.mkdtemp(prefix='roster-install-')
h.on_cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
dest = os.path.join(tmp, 'dest')
unit = None
completion = None
with h.section('make install DESTDIR=...'):
    v = make_vars(DIRS)
    h.diag(*('%s = %s' % (n, v.get(n)) for n in DIRS))
    want = {
        v['bindir'] + '/roster',
        v['sbindir'] + '/rosterd',
        v['mandir'] + '/man1/roster.1',
        v['mandir'] + '/man5/rosterd.conf.5',
        v['mandir'] + '/man8/rosterd.8',
        v['docdir'] + '/rosterd.conf.example',
    }
    # the web application, which rosterd serves from web_root
    WEB = ('index.html', 'style.css', 'app.js', 'api.js', 'dom.js',
           'i18n.js', 'focal.js', 'door.js', 'overview.js', 'lists.js')
    want |= {v['datadir'] + '/roster/web/' + f for f in WEB}
    if v.get('systemdsystemunitdir'):
        want.add(v['systemdsystemunitdir'] + '/rosterd.service')
    if v.get('bashcompletiondir'):
        want.add(v['bashcompletiondir'] + '/roster')
    r = h.run(['make', '-s', '-C', h.BUILDDIR, 'install',
               'DESTDIR=' + dest], check=False, timeout=300)
    h.is_(r.returncode, 0, 'make install exits 0')
    if r.returncode:
        h.diag(*r.stderr.splitlines()[-20:])
    got = listing(dest)
    h.is_(sorted(got), sorted(want), 'exactly the binaries, the three man '
          'pages, the example configuration, the unit, the completion and '
          'the web files (no SQL: it is compiled into rosterd)')
    h.is_(sorted(f for f in os.listdir(os.path.join(h.SRCDIR, 'web'))),
          sorted(WEB), 'every file of web/ is installed')
    for f in WEB:
        with open(os.path.join(h.SRCDIR, 'web', f), 'rb') as a, \
                open(dest + v['datadir'] + '/roster/web/' + f, 'rb') as b:
            h.ok(a.read() == b.read(), 'web/%s installed as is' % f)
    for p in (v['bindir'] + '/roster', v['sbindir'] + '/rosterd'):
        h.ok(os.access(dest + p, os.X_OK), '%s is executable' % p)
    h.ok(v['sbindir'].endswith('/sbin'), 'rosterd, a daemon, goes to an '
         'sbin directory (%s)' % v['sbindir'])
    for page in PAGES:
        sec = page.rsplit('.', 1)[1]
        inst = '%s%s/man%s/%s' % (dest, v['mandir'], sec,
                                  os.path.basename(page))
        with open(inst, encoding='utf-8') as f:
            h.ok(f.read() == pages[page], '%s installed as is' % page)
    # configure's choice when it was not told: pkg-config's, else the
    # fallback (make distcheck tells it a directory in its prefix)
    r = h.run([os.path.join(h.BUILDDIR, 'config.status'), '--config'],
              check=False)
    told = r.stdout
    for var, opt, module, pcvar, fallback in (
            ('systemdsystemunitdir', '--with-systemdsystemunitdir',
             'systemd', 'systemdsystemunitdir', '/lib/systemd/system'),
            ('bashcompletiondir', '--with-bashcompletiondir',
             'bash-completion', 'completionsdir',
             v['prefix'] + '/share/bash-completion/completions')):
        if opt in told:
            h.diag('%s: configure was given %s' % (var, opt))
            continue
        pc = pkg_config_var(module, pcvar)
        if pc is None:
            h.is_(v[var], fallback, 'no %s.pc: %s is %s'
                  % (module, var, fallback))
        else:
            h.is_(v[var], pc, '%s is what pkg-config --variable=%s %s says'
                  % (var, pcvar, module))
    # copies for the checks below, made after "make uninstall"
    if v.get('systemdsystemunitdir'):
        unit = os.path.join(tmp, 'rosterd.service')
        shutil.copy(dest + v['systemdsystemunitdir'] + '/rosterd.service',
                    unit)
        with open(unit, encoding='utf-8') as f:
            text = f.read()
        h.like(text, r'(?m)^ExecStart=%s/rosterd -c %s/roster/rosterd\.conf'
               r' -f$' % (re.escape(v['sbindir']),
                          re.escape(v['sysconfdir'])),
               'the unit runs the installed rosterd with '
               '$(sysconfdir)/roster/rosterd.conf')
    if v.get('bashcompletiondir'):
        completion = os.path.join(tmp, 'roster.bash')
        shutil.copy(dest + v['bashcompletiondir'] + '/roster', completion)
    with open(dest + v['docdir'] + '/rosterd.conf.example',
              encoding='utf-8') as f:
        example = f.read()
    for k in conf_keys:
        h.like(example, r'(?m)^#?%s = ' % re.escape(k),
               'the example configuration shows %s' % k)
    r = h.run(['make', '-s', '-C', h.BUILDDIR, 'uninstall',
               'DESTDIR=' + dest], check=False, timeout=300)
    h.is_(r.returncode, 0, 'make uninstall exits 0')
    h.is_(sorted(listing(dest)), [], 'make uninstall removes every file')

# --- systemd-analyze security ----------------------------------------------

with h.section('systemd-analyze security --offline=true'):
    sa = shutil.which('systemd-analyze')
    if unit is None:
        h.skip('exposure of rosterd.service', 'configured without a unit')
    elif sa is None:
        h.skip('exposure of rosterd.service', 'systemd-analyze not found')
    else:
        r = h.run([sa, 'security', '--offline=true', '--no-pager', unit],
                  check=False, timeout=60)
        m = re.search(r'Overall exposure level for \S+: ([0-9.]+)',
                      r.stdout + r.stderr)
        if m is None and 'offline' in r.stderr:
            h.skip('exposure of rosterd.service',
                   'systemd-analyze cannot analyse a unit offline here: '
                   + r.stderr.strip().splitlines()[-1])
        else:
            h.ok(m is not None, 'systemd-analyze reports an exposure',
                 *(r.stdout + r.stderr).splitlines()[-15:])
            if m is not None:
                h.diag('exposure %s' % m.group(1))
                h.cmp_ok(float(m.group(1)), '<=', MAX_EXPOSURE,
                         'exposure of rosterd.service at most %.1f'
                         % MAX_EXPOSURE)

# --- bash completion, without a server --------------------------------------


def complete(line, script=None, env=None):
    """COMPREPLY of _roster for the command line `line` (the cursor at its
    end), in a bash that sourced the completion."""
    prog = r'''
source "$1" || exit 3
COMP_LINE=$2
COMP_POINT=${#2}
read -r -a COMP_WORDS <<<"$2"
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_roster
printf '%s\n' "${COMPREPLY[@]}"
'''
    e = dict(os.environ, HOME=tmp, ROSTER_COMPLETION_TIMEOUT='3')
    e.pop('XDG_CONFIG_HOME', None)
    e.update(env or {})
    r = subprocess.run(['bash', '--norc', '--noprofile', '-c', prog, 'bash',
                        script or completion, line], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30, env=e)
    if r.returncode != 0:
        raise RuntimeError('bash exited %d: %s' % (r.returncode, r.stderr))
    return [w for w in r.stdout.splitlines() if w]


with h.section('bash completion: static part'):
    if completion is None:
        h.skip('bash completion', 'configured without bash completion')
    else:
        r = subprocess.run(['bash', '--norc', '--noprofile', '-c',
                            'source "$1" && complete -p roster', 'bash',
                            completion], stdout=subprocess.PIPE, text=True,
                           timeout=30)
        h.is_(r.stdout.strip(), 'complete -F _roster roster',
              'sourcing it registers _roster for roster')
        # nobody listens on this port: HELP fails, the static part remains
        none = '%s --port %d ' % (h.ROSTER, h.free_port())
        opts = set(complete(none + '-'))
        for f in ['--' + n for n in roster_longs] + \
                 ['-' + c for c in roster_shorts]:
            h.ok(f in opts, 'completes the option %s' % f)
        h.is_(complete(none + '--format '),
              ['table', 'records', 'csv', 'json'], '--format: its values')
        h.is_(complete(none + '-f c'), ['csv'], '-f c: csv')
        h.is_(sorted(complete(none)), sorted(roster_verbs),
              'the verbs, when no server answers HELP')
        h.is_(complete(none + 'sh'), ['shell'], 'sh: shell')
        h.is_(sorted(complete(none + 'import ')), sorted(import_kinds),
              'import: the kinds')
        h.is_(complete(none + 'import spe'), ['speakers'],
              'import spe: speakers')
        h.is_(complete(none + 'shell '), [], 'shell takes no argument')

h.done_testing()
