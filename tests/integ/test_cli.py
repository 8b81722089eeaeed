"""test_cli.py -- the real CLI, client/roster, in one-shot mode against a
real rosterd: exit status 0 for OK, 1 for ERR, 2 for usage, connection,
TLS and login errors; --format records, csv and json; values quoted for the
wire; --event; a client certificate instead of a password; import of a
CSV file as Excel writes it (a BOM, ';' between fields, CRLF, a line end
inside a quoted cell)."""

import csv
import io
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup(users=[('fp', 'focal', 'TR')])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
TITLE = 'Meeting, "quoted" title'
with rd.login('admin') as a:
    for line in ('PARTY ADD code=ICMPD kind=organisation name="ICMPD HQ"',
                 'EVENT CREATE code=SOM37 title=%s city=Istanbul country=TR '
                 'starts=2025-11-26 ends=2025-11-27' % h.quote(TITLE)):
        r = a.request(line)
        if not r.ok:
            h.bail('%s: %s' % (line, r.final))


def cli(*args, **kw):
    kw.setdefault('user', 'admin')
    kw.setdefault('password', PW)
    rc, out, err = env.cli(rd, *args, **kw)
    h.diag('roster %s -> %d' % (' '.join(args), rc))
    return rc, out, err


def show(rc, out, err):
    return ('    exit %d' % rc, '    stdout: %r' % out[:2000],
            '    stderr: %r' % err[:2000])


with h.section('exit status'):
    res = cli('PING', user=None, password=None)
    h.ok(res[0] == 0 and 'pong' in res[1], 'PING: exit 0, pong', *show(*res))
    res = cli('EVENT', 'LIST')
    h.ok(res[0] == 0 and 'SOM37' in res[1], 'EVENT LIST: exit 0',
         *show(*res))
    res = cli('event', 'list')
    h.is_(res[0], 0, 'command words in lower case')
    res = cli('EVENT', 'SHOW', 'event=NOPE')
    h.ok(res[0] == 1 and 'NOT_FOUND' in res[1] + res[2],
         'ERR NOT_FOUND: exit 1 and the code shown', *show(*res))
    res = cli('USER', 'LIST', user='fp')
    h.ok(res[0] == 1 and 'FORBIDDEN' in res[1] + res[2],
         'ERR FORBIDDEN: exit 1', *show(*res))
    res = cli('EVENT', 'LIST', password='wrong password!')
    h.is_(res[0], 2, 'wrong password: exit 2 (login error)')
    res = cli('EVENT', 'LIST', ca=env.certs.other_ca)
    h.ok(res[0] == 2 and res[1] == '', 'a CA that does not match: exit 2, '
         'nothing on stdout', *show(*res))
    res = cli('EVENT', 'LIST', port=h.free_port())
    h.is_(res[0], 2, 'nobody listening: exit 2')
    res = cli(user=None, password=None)
    h.is_(res[0], 2, 'no command: exit 2 (usage)')
    res = cli('--format', 'yaml', 'PING')
    h.is_(res[0], 2, '--format yaml: exit 2 (usage)')
    res = cli('EVENT', 'LIST', password=None)
    h.is_(res[0], 2, 'no password and no terminal to ask on: exit 2')

with h.section('--format records'):
    rc, out, err = cli('--format', 'records', 'EVENT', 'LIST')
    lines = out.splitlines()
    h.is_(rc, 0, 'exit 0')
    h.is_(lines[-1:], ['OK count=1'], 'the final line as received')
    recs = [h.parse_record(l) for l in lines if l.startswith('* ')]
    h.is_([(r.get('code'), r.get('title')) for r in recs],
          [('SOM37', TITLE)], 'the record as received, parseable')
    rc, out, err = cli('PING', user=None)
    h.is_(out, 'OK pong\n', 'records is the default when stdout is no '
          'terminal')

with h.section('--format json'):
    rc, out, err = cli('--format', 'json', 'EVENT', 'LIST')
    try:
        data = json.loads(out)
    except ValueError as e:
        data = None
        h.diag('not JSON: %s: %r' % (e, out))
    h.ok(isinstance(data, list) and len(data) == 1, 'a JSON list of one')
    rec = data[0] if data else {}
    h.is_((rec.get('code'), rec.get('title'), rec.get('city')),
          ('SOM37', TITLE, 'Istanbul'), 'the record as an object')
    rc, out, err = cli('--format', 'json', 'PARTY', 'SHOW', 'party=TR')
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    h.ok(isinstance(data, list) and len(data) == 1 and
         data[0].get('code') == 'TR', 'PARTY SHOW as JSON', *show(rc, out,
                                                                  err))
    rc, out, err = cli('--format', 'json', 'EVENT', 'SET', 'event=SOM37',
                       'city=Izmir')
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    h.ok(rc == 0 and isinstance(data, dict) and data.get('version') == 2,
         'a write\'s OK fields as a JSON object', *show(rc, out, err))
    rc, out, err = cli('--format', 'json', 'EVENT', 'LIST', 'kind=x')
    h.is_(rc, 1, 'an ERR in JSON mode: exit 1')

with h.section('--format csv'):
    rc, out, err = cli('--format', 'csv', 'PARTY', 'LIST',
                       'kind=organisation')
    rows = list(csv.DictReader(io.StringIO(out)))
    h.is_([(r.get('code'), r.get('kind'), r.get('name')) for r in rows],
          [('ICMPD', 'organisation', 'ICMPD HQ')], 'CSV with a header row')
    rc, out, err = cli('--format', 'csv', 'EVENT', 'SHOW', 'event=SOM37')
    rows = list(csv.DictReader(io.StringIO(out)))
    h.is_([r.get('title') for r in rows], [TITLE],
          'comma and quotes survive RFC 4180 quoting')

with h.section('arguments'):
    venue = 'Hall "B" \\ east = 2'
    rc, out, err = cli('EVENT', 'SET', 'event=SOM37', 'venue=' + venue)
    h.is_(rc, 0, 'EVENT SET with a value needing quotes', ) or \
        h.diag(*show(rc, out, err))
    with rd.login('admin') as a:
        r = a.request('EVENT SHOW event=SOM37')
        h.is_((r.records or [{}])[0].get('venue'), venue,
              'the value arrived exactly')
    rc, out, err = cli('-e', 'SOM37', 'EVENT', 'SHOW')
    h.ok(rc == 0 and 'code=SOM37' in out, '--event sends USE first',
         *show(rc, out, err))
    crt, key = env.certs.client('admin')
    rc, out, err = cli('--cert', crt, '--key', key, 'WHOAMI', user=None,
                       password=None)
    h.ok(rc == 0 and 'user=admin' in out,
         'a client certificate logs in without a password',
         *show(rc, out, err))
    rc, out, err = cli('--help', user=None, password=None)
    h.ok(rc == 0 and 'usage' in out.lower(), '--help: exit 0, usage')

with h.section('import of a file as Excel writes it'):
    xls = os.path.join(h.SRCDIR, 'tests', 'integ', 'data',
                       'excel-delegations.csv')
    with rd.login('admin') as a:
        for line in ('EVENT CREATE code=XL title=Excel city=Istanbul '
                     'country=TR starts=2025-11-26 ends=2025-11-27',
                     'EVENT SET event=XL status=open'):
            r = a.request(line)
            if not r.ok:
                h.bail('%s: %s' % (line, r.final))
    rc, out, err = cli('--event', 'XL', 'import', 'delegations', xls)
    h.ok(rc == 0 and '3 rows: added 3, updated 0, unchanged 0, refused 0' in err,
         'BOM, ";", CRLF and a quoted line end: 3 rows added',
         *show(rc, out, err))
    with rd.login('admin') as a:
        got = {r.get('party'): (r.get('quota'), r.get('note'))
               for r in a.request('DELEGATION LIST event=XL').records}
    h.is_(got, {'TR': ('5', 'Arrives Monday 24 November;\nhotel: Pera '
                       'Palace, "room block" B'),
                'DE': ('3', 'Frau M\u00fcller leads'),
                'ICMPD': (None, 'two\nlines')},
          'each cell arrived as Excel showed it (an empty cell left out)')
    rc, out, err = cli('--event', 'XL', 'import', 'delegations', xls)
    h.ok(rc == 0 and 'added 0, updated 0, unchanged 3, refused 0' in err,
         'imported again: nothing added twice', *show(rc, out, err))


def on_tty(args, answers, extra=None):
    """The CLI with a controlling terminal (a pty): each time a prompt
    ending in ': ' shows, the next answer is typed. (exit, the terminal's
    text, the prompts seen)."""
    import pty
    import select
    argv = [h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port),
            '--ca', env.certs.ca] + list(args)
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')}
    e.update(HOME=env.home, XDG_CONFIG_HOME=os.path.join(env.home, 'none'))
    e.update(extra or {})
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, e)
    text, prompts, answers = '', [], list(answers)
    while True:
        r, _, _ = select.select([fd], [], [], 20)
        if not r:
            break
        try:
            chunk = os.read(fd, 4096).decode(errors='replace')
        except OSError:
            break
        if not chunk:
            break
        text += chunk
        if text.rstrip(' ').endswith(':') and text.endswith(': '):
            prompts.append(text.rsplit('\n', 1)[-1])
            text += '\n'
            os.write(fd, ((answers.pop(0) if answers else '') +
                          '\n').encode())
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(st), text, prompts


with h.section('usage errors, messages in the CLI\'s terms'):
    rc, out, err = cli('--no-such-option', 'PING')
    h.ok(rc == 2 and "Try 'roster --help' for more information." in err
         and 'usage:' not in err and 'no-such-option' in err,
         'a bad option: what is wrong, then "Try \'roster --help\'"',
         *show(rc, out, err))
    rc, out, err = cli(user=None, password=None)
    h.ok(rc == 2 and 'no command given' in err and 'Try ' in err,
         'no command: said, then the hint', *show(rc, out, err))
    rc, out, err = cli('shell', 'extra')
    h.ok(rc == 2 and 'too many arguments' in err, 'too many arguments',
         *show(rc, out, err))
    rc, out, err = cli('PARTICIPANT', 'LIST')
    h.ok(rc == 1 and '--event' in err and 'USE event' not in err,
         'a missing event names --event, not USE', *show(rc, out, err))

with h.section('whose password: password_file is the config\'s user\'s'):
    with rd.login('admin') as a:
        h.must(a, 'USER ADD name=sec2 role=secretariat password=%s'
               % h.quote('sec2 password 123'))
    cfgdir = os.path.join(env.tmp, 'cfg')
    pwdir = os.path.join(cfgdir, 'passwords')
    os.makedirs(pwdir, mode=0o700, exist_ok=True)
    with open(os.path.join(cfgdir, 'admin-password'), 'w') as f:
        f.write(PW + '\n')
    conf = os.path.join(cfgdir, 'roster.conf')
    with open(conf, 'w') as f:
        f.write('user = admin\npassword_file = admin-password\n')
    rc, out, err = cli('--config', conf, 'WHOAMI', user=None, password=None)
    h.ok(rc == 0 and 'admin' in out, 'the config\'s user: its password_file',
         *show(rc, out, err))
    rc, out, err = cli('--config', conf, 'WHOAMI', user='sec2',
                       password=None)
    h.ok(rc == 2 and 'no terminal to ask' in err,
         '--user sec2: admin\'s password_file is not sent',
         *show(rc, out, err))
    with rd.login('admin') as a:
        fails = a.request('AUDIT').records
    h.ok(not any(r.get('command') == 'LOGIN' and 'sec2' in str(r)
                 for r in fails), 'no failed login of sec2 was tried')
    with open(os.path.join(pwdir, 'sec2'), 'w') as f:
        f.write('sec2 password 123\n')
    with open(conf, 'a') as f:
        f.write('password_dir = passwords\n')
    rc, out, err = cli('--config', conf, 'WHOAMI', user='sec2',
                       password=None)
    h.ok(rc == 0 and 'sec2' in out, 'password_dir/sec2 logs sec2 in',
         *show(rc, out, err))
    rc, out, err = cli('--config', conf, 'WHOAMI', user=None, password=None)
    h.ok(rc == 0 and 'admin' in out, 'and admin still has their own',
         *show(rc, out, err))

with h.section('PASSWORD asks for the current password once'):
    rc, text, prompts = on_tty(
        ['--user', 'sec2', 'PASSWORD', 'old=', 'new='],
        ['sec2 password 123', 'sec2 new password 4', 'sec2 new password 4'])
    h.is_([p.split(':')[0] for p in prompts],
          ['Current password', 'New password', 'Again'],
          'three prompts: current, new, again; no second one to log in')
    h.is_(rc, 0, 'the password changed') or h.diag(text)
    rc, out, err = cli('WHOAMI', user='sec2', password='sec2 new password 4')
    h.ok(rc == 0 and 'sec2' in out, 'the new password logs in')

h.done_testing()
