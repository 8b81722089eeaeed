"""test_login.py -- failed logins (PROTOCOL.md section 4): an unknown user,
a wrong password and a disabled user get the same AUTH_FAILED answer; five
failed logins for one user within a minute make that user's logins answer
RATE_LIMITED whatever the password, on any connection; fifty from one
address make every login from that address answer RATE_LIMITED."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
ipv6 = h.have_ipv6_loopback()
listen = None
if ipv6:
    listen = ['127.0.0.1:%d' % h.free_port(), '[::1]:%d' % h.free_port('::1')]
env, rd = h.setup(listen=listen,
                  users=[('victim', 'host', None), ('other', 'host', None),
                         ('third', 'host', None), ('dis', 'host', None)])

with h.section('one message for every failure'):
    with rd.login('admin') as a:
        h.ok_reply(a.request('USER SET name=dis enabled=no'), 'disable dis')
    c = rd.connect()
    unknown = c.login('nosuchuser', PW)
    wrong = c.login('other', 'wrong password here')
    disabled = c.login('dis', PW)
    h.err_reply(unknown, 'AUTH_FAILED', 'unknown user -> AUTH_FAILED')
    h.err_reply(wrong, 'AUTH_FAILED', 'wrong password -> AUTH_FAILED')
    h.err_reply(disabled, 'AUTH_FAILED', 'disabled user -> AUTH_FAILED')
    h.is_(wrong.final, unknown.final,
          'wrong password and unknown user: the same line')
    h.is_(disabled.final, unknown.final,
          'disabled user and unknown user: the same line')
    h.ok('nosuchuser' not in unknown.final and 'other' not in wrong.final,
         'the answer names no user')
    h.is_(c.request('WHOAMI').final, 'OK user=-', 'not logged in')
    h.is_(c.login('third').final, 'OK user=third role=host',
          'the connection may still log in')
    c.close()

with h.section('five failures for one user'):
    c1 = rd.connect()
    c2 = rd.connect()
    replies = [c1.login('victim', 'bad password %d' % i) for i in range(3)]
    replies += [c2.login('victim', 'bad password %d' % i) for i in range(3, 5)]
    h.is_([r.code for r in replies], ['AUTH_FAILED'] * 5,
          'five wrong passwords (two connections): AUTH_FAILED each')
    h.err_reply(c1.login('victim', PW), 'RATE_LIMITED',
                'then the right password: RATE_LIMITED')
    with rd.connect() as c3:
        h.err_reply(c3.login('victim', PW), 'RATE_LIMITED',
                    'on a new connection too')
        h.err_reply(c3.login('VICTIM', PW), 'RATE_LIMITED',
                    'the user name in another case too')
        h.is_(c3.request('WHOAMI').final, 'OK user=-', 'not logged in')
    h.is_(c2.login('other').final, 'OK user=other role=host',
          'another user from the same address still logs in')
    c1.close()
    c2.close()
    if ipv6:
        with rd.connect(host='::1', port=int(listen[1].rsplit(':', 1)[1])) \
                as c6:
            h.err_reply(c6.login('victim', PW), 'RATE_LIMITED',
                        'the user limit holds from another address (::1)')
    else:
        h.skip('user limit from ::1', 'no IPv6 loopback')

with h.section('fifty failures from one address'):
    # So far: 3 + 5 failures, and 3 answers RATE_LIMITED. Whatever the
    # daemon counts, the first 39 of these cannot reach fifty.
    conns = [rd.connect() for _ in range(5)]
    codes = []
    for k in range(5):
        lines = ['LOGIN user=nobody%02d password="%s"' % (k * 10 + i, PW)
                 for i in range(10)]
        codes += [r.code for r in conns[k].pipeline(lines, timeout=60)]
    h.is_(codes[:39], ['AUTH_FAILED'] * 39,
          'unknown users, one try each: AUTH_FAILED')
    h.ok(all(code in ('AUTH_FAILED', 'RATE_LIMITED') for code in codes[39:]),
         'the rest: AUTH_FAILED or RATE_LIMITED', '    %r' % codes[39:])
    with rd.connect() as c:
        h.err_reply(c.login('third'), 'RATE_LIMITED',
                    'after fifty failures, a good login from this address '
                    'is RATE_LIMITED')
        h.err_reply(c.login('admin'), 'RATE_LIMITED', 'admin too')
        h.is_(c.request('PING').final, 'OK pong', 'the connection stays')
    if ipv6:
        with rd.connect(host='::1', port=int(listen[1].rsplit(':', 1)[1])) \
                as c6:
            h.is_(c6.login('third').final, 'OK user=third role=host',
                  'another address (::1) is not limited')
    else:
        h.skip('login from ::1', 'no IPv6 loopback')
    for c in conns:
        c.close()

with h.section('the limits hold on every daemon sharing the database'):
    # the failures are counted in PostgreSQL: a second daemon, which has
    # seen none of them, refuses the limited user (and address) as well
    rd2 = env.rosterd(migrate=False)
    with rd2.connect() as c2:
        h.err_reply(c2.login('victim', PW), 'RATE_LIMITED',
                    'the user limited on one daemon is limited on another')

h.done_testing()
