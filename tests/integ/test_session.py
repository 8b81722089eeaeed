"""test_session.py -- the session commands of PROTOCOL.md section 4
(daemon/cmd-session.c): PING, HELP, LOGIN, LOGOUT, WHOAMI, PASSWORD, USE,
QUIT, and the request grammar of section 2 as those commands see it
(case-insensitive commands, unknown commands, missing, unknown, duplicate
and upper-case keys, quoted values, escapes)."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('fp', 'focal', 'TR'),
                         ('pwuser', 'host', None)])

with h.section('not logged in'):
    c = rd.connect()
    h.is_(c.request('WHOAMI').final, 'OK user=-', 'WHOAMI -> OK user=-')
    h.is_(c.request('PING').final, 'OK pong', 'PING needs no login')
    h.err_reply(c.request('LOGOUT'), 'AUTH_REQUIRED',
                'LOGOUT needs a login')
    h.err_reply(c.request('PASSWORD old="%s" new="another password 1"'
                          % PW), 'AUTH_REQUIRED', 'PASSWORD needs a login')
    h.err_reply(c.request('USE event=X1'), 'AUTH_REQUIRED',
                'USE needs a login')
    h.err_reply(c.request('EVENT LIST'), 'AUTH_REQUIRED',
                'EVENT LIST needs a login')
    h.err_reply(c.request('USER LIST'), 'AUTH_REQUIRED',
                'USER LIST needs a login (before the role check)')

with h.section('PING'):
    h.is_(c.request('PING').final, 'OK pong', 'PING -> OK pong')
    h.is_(c.request('ping').final, 'OK pong', 'commands are case-insensitive')
    h.is_(c.request('PiNg').final, 'OK pong', 'mixed case')
    h.is_(c.request('PING   ').final, 'OK pong', 'trailing spaces allowed')
    r = c.request('PING extra=1')
    h.err_reply(r, 'SYNTAX', 'PING with an unknown key -> ERR SYNTAX')
    r = c.request('NOSUCHCOMMAND')
    h.err_reply(r, 'SYNTAX', 'unknown command -> ERR SYNTAX')
    r = c.request('NO SUCH COMMAND')
    h.err_reply(r, 'SYNTAX', 'unknown three words -> ERR SYNTAX')
    h.is_(c.request('PING').final, 'OK pong', 'still usable after errors')

with h.section('HELP'):
    r = c.request('HELP')
    h.ok_reply(r, 'HELP -> OK count=N', count=str(len(r.records)))
    cmds = {rec.get('command', '').upper(): rec for rec in r.records}
    for want in ('PING', 'HELP', 'LOGIN', 'LOGOUT', 'WHOAMI', 'PASSWORD',
                 'USE', 'QUIT', 'USER ADD', 'USER LIST', 'USER SET',
                 'EVENT CREATE', 'EVENT LIST', 'EVENT SHOW', 'EVENT SET',
                 'PARTY ADD', 'PARTY LIST', 'PARTY SHOW'):
        h.ok(want in cmds, 'HELP lists %s' % want,
             '    commands: %s' % sorted(cmds))
    h.ok(all('command' in rec and 'roles' in rec for rec in r.records),
         'every HELP record has command= and roles=',
         *['    %r' % rec for rec in r.records
           if 'command' not in rec or 'roles' not in rec])
    r = c.request('HELP command=PING')
    h.ok_reply(r, 'HELP command=PING -> OK count=1', count='1')
    h.is_([rec.get('command') for rec in r.records], ['PING'],
          'one record, for PING')
    r = c.request('help command="user add"')
    h.ok_reply(r, 'HELP command="user add" (two words, any case)',
               count='1')
    rec = r.records[0] if r.records else {}
    h.is_(rec.get('command', '').upper(), 'USER ADD', 'record is USER ADD')
    roles = set(re.split(r'[^a-z]+', rec.get('roles', '')))
    h.ok('admin' in roles and not roles & {'secretariat', 'host', 'focal'},
         'USER ADD roles: admin only', '    roles=%r' % rec.get('roles'))
    args = rec.get('args', '')
    h.ok(all(k in args for k in ('name', 'role', 'password', 'party')),
         'USER ADD args name role password party', '    args=%r' % args)
    r = c.request('HELP command="EVENT CREATE"')
    roles = set(re.split(r'[^a-z]+', (r.records or [{}])[0].get('roles', '')))
    h.ok({'admin', 'secretariat'} <= roles and
         not roles & {'host', 'focal'},
         'EVENT CREATE roles: admin, secretariat', '    %r' % r.final)
    r = c.request('HELP command=NOSUCH')
    h.ok(r.kind == 'ERR' and r.code in ('NOT_FOUND', 'SYNTAX', 'INVALID'),
         'HELP of an unknown command is an error', '    %r' % r.final)
    h.err_reply(c.request('HELP bogus=1'), 'SYNTAX', 'HELP unknown key')

with h.section('LOGIN grammar'):
    h.err_reply(c.request('LOGIN user=admin'), 'SYNTAX',
                'LOGIN without password= -> SYNTAX')
    h.err_reply(c.request('LOGIN password="%s"' % PW), 'SYNTAX',
                'LOGIN without user= -> SYNTAX')
    h.err_reply(c.request('LOGIN user=admin password="%s" extra=1' % PW),
                'SYNTAX', 'unknown key -> SYNTAX')
    h.err_reply(c.request('LOGIN user=admin user=admin password="%s"' % PW),
                'SYNTAX', 'key given twice -> SYNTAX')
    h.err_reply(c.request('LOGIN USER=admin PASSWORD="%s"' % PW),
                'SYNTAX', 'upper-case keys -> SYNTAX')
    h.err_reply(c.request('LOGIN user=admin password="%s' % PW),
                'SYNTAX', 'unterminated quote -> SYNTAX')
    h.err_reply(c.request('LOGIN user="adm\\qin" password="%s"' % PW),
                'SYNTAX', 'unknown escape \\q -> SYNTAX')
    h.err_reply(c.request('LOGIN user=admin password="%s"x' % PW),
                'SYNTAX', 'junk after a quoted value -> SYNTAX')
    h.err_reply(c.request('LOGIN user=ad"min password="%s"' % PW),
                'SYNTAX', 'DQUOTE inside a bare value -> SYNTAX')
    h.err_reply(c.request('LOGIN =admin password="%s"' % PW),
                'SYNTAX', 'empty key -> SYNTAX')
    h.is_(c.request('WHOAMI').final, 'OK user=-',
          'still not logged in after the errors')

with h.section('LOGIN'):
    r = c.request('LOGIN user=admin password="%s"' % PW)
    h.is_(r.final, 'OK user=admin role=admin', 'LOGIN admin')
    h.is_(c.request('WHOAMI').final, 'OK user=admin role=admin',
          'WHOAMI admin')
    c2 = rd.connect()
    r = c2.request('LOGIN    user="fp"   password="%s"   ' % PW)
    h.is_(r.final, 'OK user=fp role=focal party=TR',
          'LOGIN focal (quoted name, extra spaces) -> party=TR')
    h.is_(c2.request('WHOAMI').final, 'OK user=fp role=focal party=TR',
          'WHOAMI focal')
    c2.close()
    c2 = rd.connect()
    r = c2.login('SEC')
    h.ok_reply(r, 'user names compare case-insensitively', role='secretariat')
    h.is_(r.fields.get('user', '').lower(), 'sec', 'user=sec')
    h.is_(c2.login('hst').final, 'OK user=hst role=host',
          'LOGIN again on the same connection, as another user')
    h.is_(c2.request('WHOAMI').final, 'OK user=hst role=host',
          'WHOAMI is the new user')
    c2.close()

with h.section('LOGOUT'):
    c3 = rd.login('sec')
    h.ok_reply(c3.request('EVENT LIST'), 'EVENT LIST while logged in')
    h.err_reply(c3.request('LOGOUT now=1'), 'SYNTAX', 'LOGOUT with a key')
    h.is_(c3.request('WHOAMI').final, 'OK user=sec role=secretariat',
          'a refused LOGOUT leaves the login')
    h.is_(c3.request('LOGOUT').final, 'OK', 'LOGOUT -> OK')
    h.is_(c3.request('WHOAMI').final, 'OK user=-', 'WHOAMI after LOGOUT')
    h.err_reply(c3.request('EVENT LIST'), 'AUTH_REQUIRED',
                'EVENT LIST after LOGOUT')
    h.err_reply(c3.request('LOGOUT'), 'AUTH_REQUIRED', 'LOGOUT twice')
    h.is_(c3.login('sec').final, 'OK user=sec role=secretariat',
          'LOGIN again after LOGOUT')
    c3.close()

with h.section('PASSWORD'):
    new = 'a new pass phrase "with" \\ quotes'
    c4 = rd.login('pwuser')
    h.err_reply(c4.request('PASSWORD old="%s"' % PW), 'SYNTAX',
                'PASSWORD without new= -> SYNTAX')
    h.err_reply(c4.request('PASSWORD old="wrong password!" new=%s'
                           % h.quote(new)),
                'AUTH_FAILED', 'PASSWORD with a wrong old= -> AUTH_FAILED')
    h.err_reply(c4.request('PASSWORD old="%s" new=short12345' % PW),
                'INVALID', 'new password of 10 characters -> INVALID')
    h.err_reply(c4.request('PASSWORD old="%s" new=12345678901' % PW),
                'INVALID', 'new password of 11 characters -> INVALID')
    before = env.audit_count()
    h.is_(c4.request('PASSWORD old="%s" new=%s' % (PW, h.quote(new))).final,
          'OK', 'PASSWORD -> OK')
    h.is_(env.audit_count() - before, 1, 'PASSWORD wrote one audit row')
    h.is_(c4.request('WHOAMI').final, 'OK user=pwuser role=host',
          'still logged in after PASSWORD')
    c4.close()
    with rd.connect() as c5:
        h.err_reply(c5.login('pwuser', PW), 'AUTH_FAILED',
                    'the old password no longer works')
        h.is_(c5.login('pwuser', new).final, 'OK user=pwuser role=host',
              'the new password works (escapes decoded)')
        h.is_(c5.request('PASSWORD old=%s new=Twelve-chars' % h.quote(new))
              .final, 'OK', 'a password of exactly 12 characters is fine')
    with rd.connect() as c5:
        h.is_(c5.login('pwuser', 'Twelve-chars').final,
              'OK user=pwuser role=host', 'LOGIN with the 12-char password')

with h.section('USE'):
    h.ok_reply(c.request('EVENT CREATE code=SES1 title="Session test" '
                         'city=Ankara country=TR starts=2025-11-26 '
                         'ends=2025-11-27'), 'EVENT CREATE SES1')
    h.ok_reply(c.request('EVENT CREATE code=SES2 title="Second" '
                         'city=Budapest country=HU starts=2026-01-10 '
                         'ends=2026-01-11'), 'EVENT CREATE SES2')
    h.err_reply(c.request('EVENT SHOW'), 'SYNTAX',
                'EVENT SHOW without event= and no USE -> SYNTAX')
    h.err_reply(c.request('USE'), 'SYNTAX', 'USE without event= -> SYNTAX')
    h.err_reply(c.request('USE event=NOPE'), 'NOT_FOUND',
                'USE of an unknown event -> NOT_FOUND')
    h.err_reply(c.request('USE event=bad!code'), 'INVALID',
                'USE of a malformed code -> INVALID')
    h.is_(c.request('USE event=SES1').final, 'OK event=SES1',
          'USE event=SES1 -> OK event=SES1')
    r = c.request('EVENT SHOW')
    h.ok_reply(r, 'EVENT SHOW after USE', count='1')
    h.is_([rec.get('code') for rec in r.records], ['SES1'],
          'defaults to the USE event')
    r = c.request('EVENT SHOW event=SES2')
    h.is_([rec.get('code') for rec in r.records], ['SES2'],
          'an explicit event= wins over USE')
    r = c.request('use event=ses2')
    h.ok_reply(r, 'USE in lower case, code in lower case')
    h.is_(r.fields.get('event', '').upper(), 'SES2', 'event=SES2')
    h.is_([rec.get('code') for rec in c.request('EVENT SHOW').records],
          ['SES2'], 'the later USE is in force')
    with rd.login('fp') as c6:
        h.is_(c6.request('USE event=SES1').final, 'OK event=SES1',
              'a focal point may USE an event')
    with rd.login('hst') as c7:
        h.err_reply(c7.request('EVENT SHOW'), 'SYNTAX',
                    'USE is per connection: another one has none')

with h.section('QUIT'):
    c.send('QUIT')
    h.is_(c.read_reply().final, 'OK bye', 'QUIT while logged in -> OK bye')
    h.ok(c.closed_within(5), 'closed after QUIT')
    with rd.connect() as c8:
        h.err_reply(c8.request('QUIT now=1'), 'SYNTAX', 'QUIT with a key')
        h.is_(c8.request('PING').final, 'OK pong', 'still open')
    c9 = rd.connect()
    c9.send('QUIT')
    h.is_(c9.read_reply().final, 'OK bye', 'QUIT -> OK bye')
    h.ok(c9.closed_within(5), 'server closes after QUIT')
    h.is_(c9.after, [], 'nothing after OK bye')
    c9 = rd.connect()
    replies = c9.pipeline(['PING', 'QUIT'])
    h.is_([r.final for r in replies], ['OK pong', 'OK bye'],
          'pipelined PING QUIT')
    c9.send_raw(b'PING\n')
    h.ok(c9.closed_within(5), 'requests after QUIT are not answered')
    h.is_(c9.after, [], 'no reply after QUIT')

h.done_testing()
