"""test_delegation.py -- DELEGATION REGISTER, LIST, SHOW, SET, CONFIRM and
DECLINE (PROTOCOL.md section 5, daemon/cmd-delegation.c): idempotent
ref=, version= conflicts, the size and confirmed counts, a quota below the
size, a declined delegation's participants, each role's rights and the
error code of each refusal. Every write is checked against roster.audit:
one row for a change, none for a refusal."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, FH, N, S2 = (roles.A, roles.S, roles.H, roles.F, roles.FH,
                         roles.N, roles.S2)
ROLES = roles.by_role


def deleg(party):
    return h.show(A, 'DELEGATION SHOW party=%s' % party)


with h.section('set-up: events E1 and E2, organisation IOM'):
    h.event(A, 'E1', title='Regional Conference on Migration')
    h.event(A, 'E2', country='HU', city='Budapest',
            timezone='Europe/Budapest')
    h.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for c in (A, S, H, F, FH):
        h.must(c, 'USE event=E1', event='E1')

with h.section('DELEGATION REGISTER'):
    h.refused(F, 'DELEGATION REGISTER party=TR', 'FORBIDDEN',
              'focal cannot REGISTER (own party)')
    h.refused(FH, 'DELEGATION REGISTER party=HU', 'FORBIDDEN',
              'focal cannot REGISTER (HU)')
    h.refused(N, 'DELEGATION REGISTER event=E1 party=TR', 'AUTH_REQUIRED',
              'REGISTER not logged in')
    line = ('DELEGATION REGISTER party=TR quota=4 '
            'note="Delegation of Türkiye" ref=reg-tr')
    r = h.write(H, line, 'host registers TR with ref=', party='TR',
                status='registered', version='1')
    D_TR = r.fields.get('id')
    h.like(D_TR, r'^[1-9][0-9]*$', 'REGISTER answers a positive id')
    h.ok('replay' not in r.fields, 'the first REGISTER has no replay=')
    r2 = h.write(H, line, 'the same REGISTER with the same ref=', changes=0,
                 id=D_TR, party='TR', status='registered', version='1',
                 replay='1')
    h.is_(r2.final, 'OK id=%s party=TR status=registered version=1 '
          'replay=1' % D_TR, 'the replay is the first reply plus replay=1')
    h.write(S, 'DELEGATION REGISTER party=TR ref=reg-tr', 'same ref=, from '
            'another user, still a replay', changes=0, id=D_TR, replay='1')
    h.is_(len(h.records(A, 'DELEGATION LIST')), 1,
          'replays added no delegation')
    r = h.write(S, 'DELEGATION REGISTER event=E2 party=TR ref=reg-tr',
                'the same ref= in another event is another request',
                party='TR', status='registered', version='1')
    h.ok('replay' not in r.fields and r.fields.get('id') != D_TR,
         'a new delegation, no replay=', '    got: %r' % r.final)
    h.refused(S, 'DELEGATION REGISTER party=TR', 'CONFLICT',
              'a second delegation of TR (no ref=)')
    h.refused(S, 'DELEGATION REGISTER party=tr ref=reg-tr-2', 'CONFLICT',
              'a second delegation of TR (code in lower case, new ref=)')
    r = h.write(S, 'DELEGATION REGISTER party=hu', 'secretariat registers hu',
                party='HU', status='registered', version='1')
    D_HU = r.fields.get('id')
    h.write(A, 'DELEGATION REGISTER party=RS quota=2', 'admin registers RS',
            party='RS')
    h.write(A, 'DELEGATION REGISTER party=SA', 'admin registers SA',
            party='SA')
    h.write(S, 'DELEGATION REGISTER party=IOM quota=3', 'secretariat '
            'registers the organisation IOM', party='IOM')
    h.refused(S, 'DELEGATION REGISTER party=ZZ', 'NOT_FOUND',
              'REGISTER of an unknown party')
    h.refused(S, 'DELEGATION REGISTER party=FR event=NOPE', 'NOT_FOUND',
              'REGISTER in an unknown event')
    h.refused(S, 'DELEGATION REGISTER quota=3', 'SYNTAX',
              'REGISTER without party=')
    h.refused(S2, 'DELEGATION REGISTER party=FR', 'SYNTAX',
              'REGISTER without event= and no USE')
    h.refused(S, 'DELEGATION REGISTER party=FR colour=red', 'SYNTAX',
              'REGISTER with an unknown key')
    h.refused(S, 'DELEGATION REGISTER party=FR party=DE', 'SYNTAX',
              'REGISTER with a key given twice')
    h.refused(S, 'DELEGATION REGISTER party="F R"', 'INVALID',
              'REGISTER party= not a code')
    h.refused(S, 'DELEGATION REGISTER party=FR quota=-1', 'INVALID',
              'REGISTER quota=-1')
    h.refused(S, 'DELEGATION REGISTER party=FR quota=many', 'INVALID',
              'REGISTER quota=many')
    h.refused(S, 'DELEGATION REGISTER party=FR ref="a b"', 'INVALID',
              'REGISTER ref= with a space')
    h.refused(S, 'DELEGATION REGISTER party=FR ref=%s' % ('r' * 65),
              'INVALID', 'REGISTER ref= of 65 characters')
    h.refused(S, 'DELEGATION REGISTER party=FR note=%s' % ('n' * 4001),
              'INVALID', 'REGISTER note= of 4001 characters')

with h.section('DELEGATION LIST and SHOW'):
    recs = h.records(S, 'DELEGATION LIST')
    h.is_([r.get('party') for r in recs], ['HU', 'SA', 'RS', 'TR', 'IOM'],
          'LIST: countries by name (Hungary, Saudi Arabia, Serbia, '
          'Türkiye), then organisations')
    tr = {'id': D_TR, 'event': 'E1', 'party': 'TR', 'kind': 'country',
          'name': 'Türkiye', 'status': 'registered', 'quota': '4',
          'size': '0', 'confirmed': '0', 'note': 'Delegation of Türkiye',
          'version': '1'}
    h.is_([r for r in recs if r.get('party') == 'TR'], [tr],
          'LIST: the TR record, every field')
    hu = [r for r in recs if r.get('party') == 'HU']
    h.ok(hu and 'quota' not in hu[0] and 'note' not in hu[0],
         'LIST: no quota, no note: the fields are left out', repr(hu))
    h.is_(deleg('TR'), tr, 'SHOW party=TR: the same record')
    h.is_(h.show(H, 'DELEGATION SHOW party=tr'), tr,
          'SHOW party=tr (case-insensitive), as host')
    h.is_(h.show(F, 'DELEGATION SHOW party=TR'), tr,
          'SHOW of its own party, as focal')
    h.is_([r.get('party') for r in h.records(S, 'DELEGATION LIST '
                                              'kind=organisation')],
          ['IOM'], 'LIST kind=organisation')
    h.is_([r.get('party') for r in h.records(S, 'DELEGATION LIST '
                                              'kind=country')],
          ['HU', 'SA', 'RS', 'TR'], 'LIST kind=country')
    h.is_(h.records(S, 'DELEGATION LIST status=confirmed'), [],
          'LIST status=confirmed: none yet')
    h.is_(len(h.records(S, 'DELEGATION LIST status=registered')), 5,
          'LIST status=registered: all five')
    h.err_reply(S.request('DELEGATION LIST status=maybe'), 'INVALID',
                'LIST status=maybe')
    h.err_reply(S.request('DELEGATION LIST kind=city'), 'INVALID',
                'LIST kind=city')
    h.err_reply(S.request('DELEGATION LIST event=NOPE'), 'NOT_FOUND',
                'LIST in an unknown event')
    h.err_reply(S2.request('DELEGATION LIST'), 'SYNTAX',
                'LIST without event= and no USE')
    h.err_reply(S.request('DELEGATION SHOW party=FR'), 'NOT_FOUND',
                'SHOW of a party without a delegation')
    h.err_reply(S.request('DELEGATION SHOW party=ZZ'), 'NOT_FOUND',
                'SHOW of an unknown party')
    h.err_reply(S.request('DELEGATION SHOW'), 'SYNTAX', 'SHOW without '
                'party=')
    h.err_reply(S.request('DELEGATION SHOW party=HU event=E2'), 'NOT_FOUND',
                'SHOW of HU in E2 (no delegation there)')

with h.section('DELEGATION SET and version='):
    h.write(H, 'DELEGATION SET party=TR quota=5 version=1', 'host SET '
            'quota=5 version=1', id=D_TR, party='TR', version='2')
    h.refused(S, 'DELEGATION SET party=TR quota=6 version=1', 'CONFLICT',
              'SET with a stale version=1')
    h.write(S, 'DELEGATION SET party=TR note=Updated version=2',
            'SET note= version=2', version='3')
    d = deleg('TR')
    h.is_((d.get('quota'), d.get('note'), d.get('version')),
          ('5', 'Updated', '3'), 'SHOW: quota 5 (not 6), note, version 3')
    h.refused(F, 'DELEGATION SET party=TR quota=9', 'FORBIDDEN',
              'focal cannot SET its own delegation')
    h.refused(S, 'DELEGATION SET party=FR quota=1', 'NOT_FOUND',
              'SET of a party without a delegation')
    h.refused(S, 'DELEGATION SET party=ZZ quota=1', 'NOT_FOUND',
              'SET of an unknown party')
    h.refused(S, 'DELEGATION SET quota=1', 'SYNTAX', 'SET without party=')
    h.refused(S, 'DELEGATION SET party=TR quota=x', 'INVALID',
              'SET quota=x')
    h.refused(S, 'DELEGATION SET party=TR version=0', 'INVALID',
              'SET version=0')

with h.section('set-up: participants of RS (its quota of 2) and SA'):
    for name in ('Јован Петровић', 'Petar Nikolić'):
        h.must(A, 'PARTICIPANT ADD party=RS name=%s' % h.quote(name))
    MUHAMMAD = h.must(A, 'PARTICIPANT ADD party=SA name="محمد الأحمد" '
                      'role=head').fields['id']

with h.section('DELEGATION SET: the quota and the size'):
    h.refused(S, 'DELEGATION SET party=RS quota=1', 'CONFLICT',
              'a quota below the size (2)')

with h.section('DELEGATION CONFIRM / DECLINE'):
    h.refused(H, 'DELEGATION CONFIRM party=TR', 'FORBIDDEN',
              'host cannot CONFIRM a delegation')
    h.refused(H, 'DELEGATION DECLINE party=TR', 'FORBIDDEN',
              'host cannot DECLINE a delegation')
    h.write(S, 'DELEGATION CONFIRM party=TR', 'secretariat CONFIRMs TR',
            id=D_TR, party='TR', status='confirmed', version='4')
    h.write(S, 'DELEGATION CONFIRM party=TR', 'CONFIRM again: no change',
            changes=0, status='confirmed', version='4')
    h.write(FH, 'DELEGATION CONFIRM party=HU', 'focal CONFIRMs its own',
            id=D_HU, party='HU', status='confirmed')
    h.refused(F, 'DELEGATION CONFIRM party=HU', 'FORBIDDEN',
              'focal TR CONFIRMs HU')
    h.refused(S, 'DELEGATION CONFIRM party=FR', 'NOT_FOUND',
              'CONFIRM of a party without a delegation')
    h.refused(S, 'DELEGATION CONFIRM party=ZZ', 'NOT_FOUND',
              'CONFIRM of an unknown party')
    h.refused(S, 'DELEGATION CONFIRM', 'SYNTAX', 'CONFIRM without party=')
    h.is_([r.get('party') for r in h.records(S, 'DELEGATION LIST '
                                              'status=confirmed')],
          ['HU', 'TR'], 'LIST status=confirmed')
    h.write(S, 'DELEGATION DECLINE party=SA reason="Not attending"',
            'secretariat DECLINEs SA', party='SA', status='declined')
    d = deleg('SA')
    h.is_((d.get('status'), d.get('size'), d.get('confirmed')),
          ('declined', '0', '0'), 'SA: declined, size 0, confirmed 0')
    h.is_(h.show(A, 'PARTICIPANT SHOW id=%s' % MUHAMMAD).get('status'),
          'declined',
          'the participants of a declined delegation are declined')
    h.refused(S, 'PARTICIPANT ADD party=SA name="Ali Hassan"', 'CONFLICT',
              'ADD to a declined delegation')

with h.section('role rules'):
    for line, allowed in (
            ('DELEGATION REGISTER party=FR',
             ('admin', 'secretariat', 'host')),
            ('DELEGATION SET party=TR note=X',
             ('admin', 'secretariat', 'host')),
            ('DELEGATION CONFIRM party=TR',
             ('admin', 'secretariat', 'focal')),
            ('DELEGATION DECLINE party=TR',
             ('admin', 'secretariat', 'focal'))):
        h.only_for(ROLES, N, line, allowed, nobody_line=line + ' event=E1')
    for line in ('DELEGATION LIST', 'DELEGATION SHOW party=TR'):
        for role, conn in ROLES.items():
            r = conn.request(line)
            h.ok(r.ok and r.fields.get('count') == str(len(r.records)),
                 '%s: %s may read' % (line, role), '    got: %r' % r.final)
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED' % line)

with h.section('unknown event, party; invalid values'):
    for line, code in (('DELEGATION LIST event=NOPE', 'NOT_FOUND'),
                       ('DELEGATION SHOW party=ZZ', 'NOT_FOUND'),
                       ('DELEGATION LIST status=""', 'INVALID')):
        h.err_reply(A.request(line), code, '%s -> %s' % (line, code))

h.done_testing()
