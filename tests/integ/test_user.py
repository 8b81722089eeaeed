"""test_user.py -- USER ADD, LIST and SET (PROTOCOL.md section 4,
daemon/cmd-user.c): only an admin may run them; the error code of each
refusal; the records and their fields (never a password hash); a new,
disabled, re-enabled, re-passworded or re-roled user as LOGIN sees it; one
roster.audit row per committed write, none for a refused one."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('fp', 'focal', 'TR')])

A = rd.login('admin')
S = rd.login('sec')
H = rd.login('hst')
F = rd.login('fp')
N = rd.connect()                   # nobody logged in
ROLES = {'admin': A, 'secretariat': S, 'host': H, 'focal': F}

with h.section('USER: roles'):
    h.only_for(ROLES, N, 'USER ADD name=x1 role=host password="%s"' % PW,
               ['admin'], 'USER ADD')
    h.only_for(ROLES, N, 'USER LIST', ['admin'], 'USER LIST')
    h.only_for(ROLES, N, 'USER SET name=hst enabled=no', ['admin'],
               'USER SET')

with h.section('USER ADD'):
    h.write(A, 'USER ADD name=u1 role=host password="%s"' % PW,
            'USER ADD host', name='u1')
    h.is_(A.request('USER ADD name=u2 role=secretariat password="%s"'
                    % PW).final, 'OK name=u2', 'USER ADD reply is exact')
    h.refused(A, 'USER ADD name=U1 role=host password="%s"' % PW,
              'CONFLICT', 'USER ADD of a name that differs only in case')
    h.refused(A, 'USER ADD name=u3 role=king password="%s"' % PW,
              'INVALID', 'USER ADD unknown role')
    h.refused(A, 'USER ADD name=u3 role=host password=elevenchars',
              'INVALID', 'USER ADD password of 11 characters')
    h.refused(A, 'USER ADD name=-u3 role=host password="%s"' % PW,
              'INVALID', 'USER ADD name not a code')
    h.refused(A, 'USER ADD name=%s role=host password="%s"' % ('u' * 33, PW),
              'INVALID', 'USER ADD name of 33 characters')
    h.refused(A, 'USER ADD name=u3 role=host', 'SYNTAX',
              'USER ADD without password')
    h.refused(A, 'USER ADD name=u3 role=host password="%s" colour=red' % PW,
              'SYNTAX', 'USER ADD unknown key')
    h.refused(A, 'USER ADD name=f9 role=focal party=ZZ password="%s"' % PW,
              'NOT_FOUND', 'USER ADD focal of an unknown party')
    before = env.audit_count()
    r = A.request('USER ADD name=f8 role=focal password="%s"' % PW)
    h.ok(r.kind == 'ERR' and r.code in ('INVALID', 'SYNTAX'),
         'USER ADD focal without party= is refused', '    %r' % r.final)
    r = A.request('USER ADD name=h8 role=host party=TR password="%s"' % PW)
    h.ok(r.kind == 'ERR' and r.code in ('INVALID', 'SYNTAX'),
         'USER ADD host with party= is refused', '    %r' % r.final)
    h.is_(env.audit_count() - before, 0, 'refusals left no audit row')
    h.write(A, 'USER ADD name=f2 role=focal party=hu password="%s"' % PW,
            'USER ADD focal HU (party code in lower case)', name='f2')
    with rd.connect() as c:
        h.is_(c.login('u1').final, 'OK user=u1 role=host',
              'the new host logs in')
    with rd.connect() as c:
        h.is_(c.login('f2').final, 'OK user=f2 role=focal party=HU',
              'the new focal point logs in, party=HU')

with h.section('USER LIST'):
    r = A.request('USER LIST')
    h.ok_reply(r, 'USER LIST', count=str(len(r.records)))
    users = {rec.get('name'): rec for rec in r.records}
    h.is_(sorted(users), sorted(['admin', 'sec', 'hst', 'fp', 'u1', 'u2',
                                 'f2']), 'every user listed once')
    for name, role, party in (('admin', 'admin', None),
                              ('sec', 'secretariat', None),
                              ('fp', 'focal', 'TR'), ('f2', 'focal', 'HU')):
        rec = users.get(name, {})
        got = {k: rec.get(k) for k in ('role', 'party', 'enabled')}
        h.is_(got, {'role': role, 'party': party, 'enabled': 'yes'},
              'USER LIST record of %s' % name)
    h.ok(all('hash' not in rec and 'password' not in rec
             for rec in r.records), 'no password hashes in USER LIST')
    h.err_reply(A.request('USER LIST role=host'), 'SYNTAX',
                'USER LIST takes no keys')

with h.section('USER SET'):
    h.write(A, 'USER SET name=u1 enabled=no', 'USER SET enabled=no')
    rec = [x for x in A.request('USER LIST').records if x.get('name') ==
           'u1']
    h.is_([x.get('enabled') for x in rec], ['no'], 'listed as enabled=no')
    with rd.connect() as c:
        h.err_reply(c.login('u1'), 'AUTH_FAILED',
                    'a disabled user cannot log in')
    h.write(A, 'USER SET name=U1 enabled=yes',
            'USER SET enabled=yes (name in another case)')
    with rd.connect() as c:
        h.is_(c.login('u1').final, 'OK user=u1 role=host',
              'enabled again: logs in')
    h.write(A, 'USER SET name=u1 password="another long secret"',
            'USER SET password=')
    with rd.connect() as c:
        h.err_reply(c.login('u1'), 'AUTH_FAILED', 'old password refused')
        h.ok_reply(c.login('u1', 'another long secret'),
                   'new password works')
    h.write(A, 'USER SET name=u1 role=secretariat', 'USER SET role=')
    with rd.connect() as c:
        h.is_(c.login('u1', 'another long secret').final,
              'OK user=u1 role=secretariat', 'LOGIN shows the new role')
    h.write(A, 'USER SET name=u1 role=focal party=TR',
            'USER SET role=focal party=TR')
    with rd.connect() as c:
        h.is_(c.login('u1', 'another long secret').final,
              'OK user=u1 role=focal party=TR', 'now a focal point of TR')
    h.refused(A, 'USER SET name=nobody enabled=no', 'NOT_FOUND',
              'USER SET unknown user')
    h.refused(A, 'USER SET name=u1 enabled=maybe', 'INVALID',
              'USER SET enabled=maybe')
    h.refused(A, 'USER SET name=u1 password=short', 'INVALID',
              'USER SET short password')
    h.refused(A, 'USER SET name=u1 role=king', 'INVALID',
              'USER SET unknown role')
    h.refused(A, 'USER SET name=u1 party=ZZ', 'NOT_FOUND',
              'USER SET unknown party')
    h.refused(A, 'USER SET enabled=no', 'SYNTAX', 'USER SET without name=')

h.done_testing()
