"""test_readme.py -- the README's examples run as written after the
quickstart: a directory laid out as deploy/quickstart leaves the checkout
(var/roster.conf naming the server, its CA, admin and its password_file,
password_dir var/passwords/ with a user per role; build/client/roster; the
demo meeting loaded as the quickstart loads it), then every command line
of the README's "Connecting" block and of the secretariat's block, taken
from README.md itself, each run with bash in that directory: each must
exit 0, and what it says it makes must be there."""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

USERS = [('secretariat', 'secretariat', None), ('host', 'host', None),
         ('focal-tr', 'focal', 'TR'), ('focal-hu', 'focal', 'HU')]
env, rd = h.setup(users=USERS)
for prog in (h.ROSTER,):
    if not os.access(prog, os.X_OK):
        h.bail('%s is not built' % prog)

# The checkout as the quickstart leaves it.
top = os.path.join(env.tmp, 'checkout')
var = os.path.join(top, 'var')
os.makedirs(os.path.join(var, 'tls'))
os.makedirs(os.path.join(var, 'passwords'), mode=0o700)
os.makedirs(os.path.join(top, 'build', 'client'))
os.symlink(h.ROSTER, os.path.join(top, 'build', 'client', 'roster'))
shutil.copytree(os.path.join(h.SRCDIR, 'deploy'), os.path.join(top, 'deploy'))
shutil.copy(env.certs.ca, os.path.join(var, 'tls', 'ca.crt'))
with open(os.path.join(var, 'admin-password'), 'w') as f:
    f.write(h.PASSWORD + '\n')
for name, _, _ in USERS:
    with open(os.path.join(var, 'passwords', name), 'w') as f:
        f.write(h.PASSWORD + '\n')
with open(os.path.join(var, 'roster.conf'), 'w') as f:
    f.write('host = 127.0.0.1\nport = %d\nca = %s/tls/ca.crt\nuser = admin\n'
            'password_file = %s/admin-password\npassword_dir = %s/passwords\n'
            % (rd.port, var, var, var))

clean = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')
         and k not in ('PAGER',)}
clean.update(HOME=env.home, XDG_CONFIG_HOME=os.path.join(env.home, 'cfg'))

with h.section('the demo, loaded as the quickstart loads it'):
    p = subprocess.run(
        [sys.executable, os.path.join(top, 'deploy', 'load-demo'), '--host',
         '127.0.0.1', '--port', str(rd.port), '--ca', env.certs.ca,
         '--user', 'admin', '--password-file',
         os.path.join(var, 'admin-password'),
         os.path.join(top, 'deploy', 'demo')],
        capture_output=True, text=True, env=clean, timeout=120)
    h.is_(p.returncode, 0, 'load-demo') or h.diag(p.stdout, p.stderr)
    for kind in ('delegations', 'participants', 'sessions', 'speakers'):
        p = subprocess.run(
            [h.ROSTER, '--config', os.path.join(var, 'roster.conf'),
             '--event', 'som37', 'import', kind,
             os.path.join(top, 'deploy', 'demo', kind + '.csv')],
            capture_output=True, text=True, env=clean, timeout=120)
        h.is_(p.returncode, 0, 'import %s' % kind) or h.diag(p.stderr)


def blocks(text):
    """The README's indented blocks, each as its lines (indent removed),
    with the heading or paragraph that comes before it."""
    out, lead, cur = [], '', None
    for line in text.splitlines():
        if line.startswith('    '):
            if cur is None:
                cur = (lead, [])
                out.append(cur)
            cur[1].append(line[4:])
        else:
            cur = None
            if line.strip():
                lead = line
    return out


readme = open(os.path.join(h.SRCDIR, 'README.md'), encoding='utf-8').read()
found = blocks(readme)
connecting = [b for lead, b in found
              if b and b[0].startswith('build/client/roster ')]
secretariat = [b for lead, b in found
               if b and b[0].startswith('export PATH=')]
h.is_(len(connecting), 1, 'README: the "Connecting" block')
h.is_(len(secretariat), 1, 'README: the secretariat\'s block')
lines = (connecting[0] if connecting else []) + \
    (secretariat[0] if secretariat else [])
h.cmp_ok(len(lines), '>=', 10, 'README: the command lines (%d)' % len(lines))

with h.section('each line of the README, as written'):
    prefix = []         # lines that set up the shell (export PATH=...)
    for line in lines:
        if line.startswith('export '):
            prefix.append(line)
            continue
        script = '\n'.join(['set -e', 'cd "%s"' % top] + prefix + [line])
        stdin = 'QUIT\n' if line.rstrip().endswith(' shell') else None
        p = subprocess.run(['bash', '-c', script], capture_output=True,
                           text=True, env=clean, timeout=120, input=stdin,
                           stdin=None if stdin else subprocess.DEVNULL)
        h.ok(p.returncode == 0, line,
             '    exit %d' % p.returncode,
             '    stdout: %r' % p.stdout[:600], '    stderr: %r' % p.stderr[:600])
        m = re.search(r' -o (\S+)', line)
        if m and p.returncode == 0:
            path = os.path.join(top, m.group(1))
            h.ok(os.path.exists(path) and os.path.getsize(path) > 0,
                 '    it wrote %s' % m.group(1))

with h.section('what the lines did'):
    with open(os.path.join(top, 'lop.pdf'), 'rb') as f:
        h.is_(f.read(5), b'%PDF-', 'lop.pdf is a PDF')
    with open(os.path.join(top, 'participants.xlsx'), 'rb') as f:
        h.is_(f.read(2), b'PK', 'participants.xlsx is a workbook')
    with open(os.path.join(top, 'attendance.tsv'), encoding='utf-8') as f:
        head = f.readline()
    h.ok('\t' in head and 'checked_in' in head, 'attendance.tsv: TSV')
    with rd.login('admin') as a:
        r = a.request('PARTICIPANT SHOW event=som37 id=1')
        h.ok(r.ok and r.records and r.records[0].get('checked_in'),
             'CHECKIN id=1 checked participant 1 in')

h.done_testing()
