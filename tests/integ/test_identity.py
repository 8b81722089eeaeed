"""test_identity.py -- the CLI in the user's terms (README, "The CLI:
roster"): a usage error says what is wrong and then "Try 'roster
--help'"; a missing event names --event, not the shell's USE; the config's
password_file is its own user's only (--user someone else never sends
it), password_dir holds each user's; PASSWORD asks for the current
password once and logs in with it (through a pty, the prompts counted)."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup()
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)


def cli(*args, **kw):
    kw.setdefault('user', 'admin')
    kw.setdefault('password', PW)
    rc, out, err = env.cli(rd, *args, **kw)
    h.diag('roster %s -> %d' % (' '.join(args), rc))
    return rc, out, err


def show(rc, out, err):
    return ('    exit %d' % rc, '    stdout: %r' % out[:2000],
            '    stderr: %r' % err[:2000])


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
    deadline = time.time() + 120
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if not r:
            continue
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
    if time.time() >= deadline:
        os.kill(pid, 9)
        h.diag('the CLI still waited after 120 s: killed', text)
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
