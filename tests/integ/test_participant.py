"""test_participant.py -- PARTICIPANT ADD, LIST, SHOW, SET, CONFIRM,
DECLINE and ERASE, and CHECKIN (PROTOCOL.md section 5,
daemon/cmd-participant.c): badges, quota, one head, idempotent ref=,
version= conflicts, Unicode names and NFC, the delegation counts, check-in
by id and by badge for the event and for a session, erasure of the
personal data, each role's rights and the error code of each refusal.
Every write is checked against roster.audit: one row for a change, none
for a refusal."""

import os
import sys
import unicodedata

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, FH, N, S2 = (roles.A, roles.S, roles.H, roles.F, roles.FH,
                         roles.N, roles.S2)
ROLES = roles.by_role

SERRA = 'Serra Albayrakoğlu'
TIMEA = 'Tímea Lehoczki'
TIMEA_NFD = unicodedata.normalize('NFD', TIMEA)      # "Ti\u0301mea ..."
JOVAN = 'Јован Петровић'
MUHAMMAD = 'محمد الأحمد'
MILICA = 'Милица Јовановић'
P = {}          # name -> participant id
BADGE = {}      # name -> badge


def deleg(party):
    return h.show(A, 'DELEGATION SHOW party=%s' % party)


def part(pid):
    return h.show(A, 'PARTICIPANT SHOW id=%s' % pid)


def roster(session):
    return [(r.get('participant'), r.get('status'), r.get('position'))
            for r in h.records(A, 'ROSTER session=%s' % session)]


with h.section('set-up: events E1 and E2, organisation IOM, delegations'):
    h.event(A, 'E1', title='Regional Conference on Migration')
    h.event(A, 'E2', country='HU', city='Budapest',
            timezone='Europe/Budapest')
    h.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for c in (A, S, H, F, FH):
        h.must(c, 'USE event=E1', event='E1')
    for line in ('DELEGATION REGISTER party=TR quota=5',
                 'DELEGATION REGISTER party=HU',
                 'DELEGATION REGISTER party=RS quota=2',
                 'DELEGATION REGISTER party=SA',
                 'DELEGATION REGISTER party=IOM quota=3',
                 'DELEGATION REGISTER event=E2 party=TR'):
        h.must(A, line)

# --------------------------------------------------------------------------
with h.section('PARTICIPANT ADD'):
    line = ('PARTICIPANT ADD party=TR name=%s honorific=H.E. '
            'title="Deputy Director General" email=serra@example.org '
            'role=head ref=add-serra' % h.quote(SERRA))
    r = h.write(H, line, 'host adds the head of TR with ref=', party='TR',
                version='1')
    P[SERRA] = r.fields.get('id')
    BADGE[SERRA] = r.fields.get('badge')
    h.like(P[SERRA], r'^[1-9][0-9]*$', 'ADD answers an id')
    h.like(BADGE[SERRA], h.BADGE_RE.pattern,
           'the badge is 10 characters of base32 [A-Z2-7]')
    h.ok('replay' not in r.fields, 'the first ADD has no replay=')
    n_before = len(h.records(A, 'PARTICIPANT LIST'))
    r2 = h.write(H, line, 'the same ADD with the same ref=', changes=0,
                 id=P[SERRA], party='TR', badge=BADGE[SERRA], version='1',
                 replay='1')
    h.is_(r2.final, r.final + ' replay=1',
          'the replay is the first reply plus replay=1')
    h.write(S, 'PARTICIPANT ADD party=TR name="Somebody Else" ref=add-serra',
            'a retry with the same ref= and other values is still the first '
            'request', changes=0, id=P[SERRA], badge=BADGE[SERRA], replay='1')
    h.is_(len(h.records(A, 'PARTICIPANT LIST')), n_before,
          'the replays added nobody')
    # refs are scoped to the party: the clash is within TR's own refs
    r = S.request('DELEGATION REGISTER party=TR ref=add-serra')
    h.ok(r.code == 'CONFLICT' and 'ref' in r.text,
         'a DELEGATION REGISTER reusing the ref= of a PARTICIPANT ADD '
         'of the same party creates nothing', '    got: %r' % r.final)
    h.refused(S, 'PARTICIPANT ADD party=TR name="Kemal Yıldız" role=head',
              'CONFLICT', 'a second head in TR')
    r = h.write(S, 'PARTICIPANT ADD party=TR name="Kemal Yıldız"',
                'secretariat adds a member of TR', party='TR', version='1')
    P['Kemal'] = r.fields.get('id')
    BADGE['Kemal'] = r.fields.get('badge')
    r = h.write(F, 'PARTICIPANT ADD party=TR name="Ayşe Çelik" role=adviser '
                'email=ayse@example.org', 'focal adds to its own party',
                party='TR')
    P['Ayse'] = r.fields.get('id')
    BADGE['Ayse'] = r.fields.get('badge')
    h.refused(F, 'PARTICIPANT ADD party=HU name="Not Mine"', 'FORBIDDEN',
              'focal TR adds to HU')
    r = h.write(FH, 'PARTICIPANT ADD party=HU name=%s role=head'
                % h.quote(TIMEA_NFD),
                'focal HU adds a name sent decomposed (NFD)', party='HU')
    P[TIMEA] = r.fields.get('id')
    BADGE[TIMEA] = r.fields.get('badge')
    r = h.write(A, 'PARTICIPANT ADD party=RS name=%s role=head '
                'title="Head of Section"' % h.quote(JOVAN),
                'admin adds Cyrillic', party='RS')
    P[JOVAN] = r.fields.get('id')
    BADGE[JOVAN] = r.fields.get('badge')
    r = h.write(A, 'PARTICIPANT ADD party=RS name=%s' % h.quote(MILICA),
                'admin adds RS member (quota 2 now full)', party='RS')
    P[MILICA] = r.fields.get('id')
    BADGE[MILICA] = r.fields.get('badge')
    h.refused(A, 'PARTICIPANT ADD party=RS name="Petar Nikolić"', 'QUOTA',
              'a third participant of RS (quota=2)')
    h.refused(S, 'PARTICIPANT ADD party=RS name="Petar Nikolić" ref=q-1',
              'QUOTA', 'past the quota with a ref=')
    d = deleg('RS')
    h.is_((d.get('quota'), d.get('size')), ('2', '2'),
          'RS: quota 2, size 2 after the refusals')
    r = h.write(H, 'PARTICIPANT ADD party=SA name=%s role=head'
                % h.quote(MUHAMMAD), 'host adds Arabic', party='SA')
    P[MUHAMMAD] = r.fields.get('id')
    BADGE[MUHAMMAD] = r.fields.get('badge')
    r = h.write(S, 'PARTICIPANT ADD party=IOM name="Maria Rossi" '
                'email=mrossi@example.org role=observer',
                'secretariat adds to an organisation', party='IOM')
    P['Maria'] = r.fields.get('id')
    BADGE['Maria'] = r.fields.get('badge')
    h.refused(S, 'PARTICIPANT ADD party=FR name="Jean Dupont"', 'NOT_FOUND',
              'ADD to a party without a delegation')
    h.refused(S, 'PARTICIPANT ADD party=ZZ name="Jean Dupont"', 'NOT_FOUND',
              'ADD to an unknown party')
    h.refused(S, 'PARTICIPANT ADD party=FR name="Jean Dupont" event=NOPE',
              'NOT_FOUND', 'ADD in an unknown event')
    h.refused(S, 'PARTICIPANT ADD name="Jean Dupont"', 'SYNTAX',
              'ADD without party=')
    h.refused(S, 'PARTICIPANT ADD party=TR', 'SYNTAX', 'ADD without name=')
    h.refused(S, 'PARTICIPANT ADD party=TR name=X nickname=Y', 'SYNTAX',
              'ADD with an unknown key')
    h.refused(S, 'PARTICIPANT ADD party=TR name=X role=king', 'INVALID',
              'ADD role=king')
    h.refused(S, 'PARTICIPANT ADD party=TR name=X email=nobody', 'INVALID',
              'ADD email= not an address')
    h.refused(S, 'PARTICIPANT ADD party=TR name=""', 'INVALID',
              'ADD name= empty')
    h.refused(S, 'PARTICIPANT ADD party=TR name="   "', 'INVALID',
              'ADD name= only spaces')
    h.refused(S, 'PARTICIPANT ADD party=TR name=%s' % ('x' * 201), 'INVALID',
              'ADD name= of 201 characters')
    r = h.write(S, 'PARTICIPANT ADD party=TR name=%s' % ('ğ' * 200),
                'ADD name= of 200 characters (400 bytes)', party='TR')
    P['long'] = r.fields.get('id')
    h.write(S, 'PARTICIPANT DECLINE id=%s' % P['long'], 'decline it again',
            status='declined')
    badges = [b for b in BADGE.values()]
    h.ok(all(b and h.BADGE_RE.match(b) for b in badges),
         'every badge is 10 characters of [A-Z2-7]', repr(badges))
    h.is_(len(set(badges)), len(badges), 'the badges all differ')

with h.section('Unicode names and NFC'):
    for name in (SERRA, TIMEA, JOVAN, MUHAMMAD, MILICA):
        h.is_(part(P[name]).get('name'), name, 'SHOW gives %s back' % name)
    got = part(P[TIMEA]).get('name')
    h.is_(got, unicodedata.normalize('NFC', TIMEA_NFD),
          'the decomposed "Ti\\u0301mea" is stored in NFC "T\\u00edmea"')
    h.isnt(got, TIMEA_NFD, 'not as sent (NFD)')
    h.ok(got is not None and got.encode('utf-8').startswith(b'T\xc3\xadmea'),
         'on the wire: T, U+00ED in two bytes, mea')
    names = [r.get('name') for r in h.records(FH, 'PARTICIPANT LIST')]
    h.is_(names, [TIMEA], 'LIST of HU (focal HU) shows the NFC name')
    h.is_(part(P['long']).get('name'), 'ğ' * 200,
          '200 two-byte characters round trip')

with h.section('PARTICIPANT LIST and SHOW'):
    recs = h.records(S, 'PARTICIPANT LIST')
    h.is_([r.get('id') for r in recs],
          [P[TIMEA], P[MUHAMMAD], P[JOVAN], P[MILICA], P[SERRA], P['Ayse'],
           P['long'], P['Kemal'], P['Maria']],
          'LIST: by delegation (Hungary, Saudi Arabia, Serbia, Türkiye, '
          'then IOM), the head first, then by name (Ayşe, ğğ..., Kemal: '
          'ğ sorts with g)')
    serra = {'id': P[SERRA], 'event': 'E1', 'party': 'TR', 'name': SERRA,
             'honorific': 'H.E.', 'title': 'Deputy Director General',
             'email': 'serra@example.org', 'role': 'head',
             'status': 'registered', 'badge': BADGE[SERRA], 'version': '1'}
    h.is_([r for r in recs if r.get('id') == P[SERRA]], [serra],
          'LIST: the record of the head of TR, every field')
    h.is_(part(P[SERRA]), serra, 'SHOW: the same record')
    h.is_(h.show(F, 'PARTICIPANT SHOW id=%s' % P[SERRA]), serra,
          'SHOW by the focal point of TR')
    h.is_(h.show(S2, 'PARTICIPANT SHOW id=%s' % P[SERRA]), serra,
          'SHOW id= needs no event (ids are unique)')
    h.is_([r.get('id') for r in h.records(S, 'PARTICIPANT LIST party=TR')],
          [P[SERRA], P['Ayse'], P['long'], P['Kemal']],
          'LIST party=TR (the declined too)')
    h.is_([r.get('party') for r in h.records(H, 'PARTICIPANT LIST role=head')],
          ['HU', 'SA', 'RS', 'TR'], 'LIST role=head (as host)')
    h.is_([r.get('id') for r in h.records(S, 'PARTICIPANT LIST '
                                           'status=declined')],
          [P['long']], 'LIST status=declined')
    h.is_([r.get('id') for r in h.records(S, 'PARTICIPANT LIST party=RS '
                                           'role=member')],
          [P[MILICA]], 'LIST party=RS role=member')
    h.err_reply(S.request('PARTICIPANT LIST role=king'), 'INVALID',
                'LIST role=king')
    h.err_reply(S.request('PARTICIPANT LIST status=maybe'), 'INVALID',
                'LIST status=maybe')
    h.err_reply(S.request('PARTICIPANT LIST party=ZZ'), 'NOT_FOUND',
                'LIST party=ZZ (unknown)')
    r = S.request('PARTICIPANT LIST party=fr')
    h.ok(r.ok and r.records == [] and r.fields.get('count') == '0',
         'LIST party=fr (a party with no delegation here): none, no error',
         '    %r' % (r.final,))
    h.err_reply(S.request('PARTICIPANT LIST event=NOPE'), 'NOT_FOUND',
                'LIST in an unknown event')
    h.err_reply(S.request('PARTICIPANT SHOW id=999999'), 'NOT_FOUND',
                'SHOW of an unknown id')
    h.err_reply(S.request('PARTICIPANT SHOW id=0'), 'INVALID', 'SHOW id=0')
    h.err_reply(S.request('PARTICIPANT SHOW id=abc'), 'INVALID',
                'SHOW id=abc')
    h.err_reply(S.request('PARTICIPANT SHOW'), 'SYNTAX', 'SHOW without id=')
    h.err_reply(S.request('PARTICIPANT SHOW id=%s event=E2' % P[SERRA]),
                'NOT_FOUND', 'SHOW of an E1 participant with event=E2')
    h.err_reply(S.request('PARTICIPANT SHOW id=%s event=NOPE' % P[SERRA]),
                'NOT_FOUND', 'SHOW with an unknown event=')

with h.section('PARTICIPANT SET and version='):
    k = P['Kemal']
    h.write(S, 'PARTICIPANT SET id=%s title=Counsellor version=1' % k,
            'SET title= version=1', id=k, version='2')
    h.refused(H, 'PARTICIPANT SET id=%s title=Minister version=1' % k,
              'CONFLICT', 'SET with a stale version=1')
    h.is_(part(k).get('title'), 'Counsellor', 'the stale SET changed nothing')
    h.write(F, 'PARTICIPANT SET id=%s name="Kemal Yıldız Bey" version=2' % k,
            'focal SETs its own participant', id=k, version='3')
    h.write(H, 'PARTICIPANT SET id=%s email=kemal@example.org' % k,
            'host SET email= (no version=)', id=k, version='4')
    rec = part(k)
    h.is_((rec.get('name'), rec.get('title'), rec.get('email'),
           rec.get('version')),
          ('Kemal Yıldız Bey', 'Counsellor', 'kemal@example.org', '4'),
          'SHOW after the SETs')
    h.refused(S, 'PARTICIPANT SET id=%s role=head' % k, 'CONFLICT',
              'SET role=head while TR has a head')
    h.refused(S, 'PARTICIPANT SET id=999999 title=X', 'NOT_FOUND',
              'SET of an unknown id')
    h.refused(S, 'PARTICIPANT SET title=X', 'SYNTAX', 'SET without id=')
    h.refused(S, 'PARTICIPANT SET id=%s name=""' % k, 'INVALID',
              'SET name= empty')
    h.refused(S, 'PARTICIPANT SET id=%s role=king' % k, 'INVALID',
              'SET role=king')
    h.refused(S, 'PARTICIPANT SET id=%s version=x' % k, 'INVALID',
              'SET version=x')
    h.refused(S, 'PARTICIPANT SET id=%s party=HU' % k, 'SYNTAX',
              'SET party= (not a key of SET)')

with h.section('PARTICIPANT CONFIRM / DECLINE and the delegation counts'):
    h.write(H, 'PARTICIPANT CONFIRM id=%s' % P[SERRA],
            'host CONFIRMs the head', id=P[SERRA], status='confirmed',
            version='2')
    h.write(S, 'PARTICIPANT CONFIRM id=%s' % P[SERRA],
            'CONFIRM again: no change', changes=0, id=P[SERRA],
            status='confirmed', version='2')
    h.write(F, 'PARTICIPANT CONFIRM id=%s' % P['Ayse'],
            'focal CONFIRMs its own', status='confirmed')
    d = deleg('TR')
    h.is_((d.get('size'), d.get('confirmed')), ('3', '2'),
          'TR: size 3, confirmed 2')
    h.write(S, 'PARTICIPANT DECLINE id=%s reason="Cannot travel"' % P['Kemal'],
            'secretariat DECLINEs a member', id=P['Kemal'], status='declined',
            version='5')
    d = deleg('TR')
    h.is_((d.get('size'), d.get('confirmed')), ('2', '2'),
          'TR after the decline: size 2 (declined not counted), '
          'confirmed 2')
    h.is_(part(P['Kemal']).get('status'), 'declined', 'SHOW: declined')
    h.write(S, 'PARTICIPANT DECLINE id=%s' % P['Kemal'], 'DECLINE again: no '
            'change', changes=0, status='declined')
    h.refused(S, 'PARTICIPANT CONFIRM id=999999', 'NOT_FOUND',
              'CONFIRM of an unknown id')
    h.refused(S, 'PARTICIPANT DECLINE id=999999', 'NOT_FOUND',
              'DECLINE of an unknown id')
    h.refused(S, 'PARTICIPANT CONFIRM', 'SYNTAX', 'CONFIRM without id=')
    h.refused(S, 'PARTICIPANT DECLINE id=x', 'INVALID', 'DECLINE id=x')
    h.write(S, 'PARTICIPANT DECLINE id=%s' % P[MILICA],
            'RS: decline one of two', status='declined')
    r = h.write(S, 'PARTICIPANT ADD party=RS name="Petar Nikolić"',
                'RS: a place is free again (declined are not counted)',
                party='RS')
    P['Petar'] = r.fields.get('id')
    BADGE['Petar'] = r.fields.get('badge')
    h.refused(S, 'PARTICIPANT ADD party=RS name="Ana Marković"', 'QUOTA',
              'RS at its quota again')

# --------------------------------------------------------------------------
with h.section('set-up: sessions S1 and W1, a participant of E2'):
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:30')
    h.must(A, 'SESSION CREATE code=W1 kind=working_group '
           'title="Working group on return" starts=2025-11-26T11:00 '
           'ends=2025-11-26T12:30 capacity=2')
    E2_ID = h.must(A, 'PARTICIPANT ADD event=E2 party=TR '
                   'name="Only In E2"').fields['id']

with h.section('CHECKIN'):
    r1 = h.write(H, 'CHECKIN id=%s' % P[SERRA], 'host checks in by id',
                 id=P[SERRA], party='TR', name=SERRA)
    t1 = r1.fields.get('checked_in')
    h.like(t1, h.TIMESTAMP_RE.pattern, 'checked_in is a UTC timestamp')
    h.ok('already' not in r1.fields, 'the first check-in has no already=')
    r2 = h.write(S, 'CHECKIN id=%s' % P[SERRA], 'the same check-in again',
                 changes=0, id=P[SERRA], checked_in=t1, already='1')
    h.is_(r2.final, 'OK id=%s party=TR name=%s checked_in=%s already=1 '
          'status=confirmed' % (P[SERRA], h.quote(SERRA), t1),
          'the second: the first time, already=1, and the status')
    h.is_(part(P[SERRA]).get('checked_in'), t1, 'SHOW: checked_in')
    r = h.write(H, 'CHECKIN badge=%s' % BADGE[JOVAN], 'check-in by badge',
                id=P[JOVAN], party='RS', name=JOVAN)
    tj = r.fields.get('checked_in')
    h.write(A, 'CHECKIN id=%s' % P[JOVAN], 'then by id: the same check-in',
            changes=0, id=P[JOVAN], checked_in=tj, already='1')
    h.write(S, 'CHECKIN badge=%s' % BADGE[JOVAN], 'by badge again', changes=0,
            checked_in=tj, already='1')
    r = h.write(H, 'CHECKIN id=%s session=S1' % P[SERRA],
                'check-in for a session', id=P[SERRA], party='TR', name=SERRA)
    ts = r.fields.get('checked_in')
    h.ok('already' not in r.fields,
         'a session check-in is not the event check-in again')
    h.write(H, 'CHECKIN badge=%s session=S1' % BADGE[SERRA], 'the session '
            'check-in again (by badge)', changes=0, checked_in=ts, already='1')
    r = h.write(H, 'CHECKIN id=%s session=W1' % P['Ayse'],
                'a session check-in first', id=P['Ayse'])
    ta = part(P['Ayse']).get('checked_in')
    h.is_(ta, r.fields.get('checked_in'),
          'checked_in is set by the first check-in of any kind')
    r = h.write(H, 'CHECKIN id=%s' % P['Ayse'], 'then the event check-in',
                id=P['Ayse'])
    h.ok('already' not in r.fields, 'the event check-in is new')
    h.is_(part(P['Ayse']).get('checked_in'), ta,
          'checked_in stays the first check-in time')
    h.refused(H, 'CHECKIN', 'SYNTAX', 'CHECKIN without id= or badge=')
    h.refused(H, 'CHECKIN id=%s badge=%s' % (P[SERRA], BADGE[SERRA]),
              'SYNTAX', 'CHECKIN with both id= and badge=')
    h.refused(H, 'CHECKIN id=999999', 'NOT_FOUND', 'CHECKIN of an unknown id')
    unknown = ('AAAAAAAAAA' if 'AAAAAAAAAA' not in BADGE.values()
               else 'BBBBBBBBBB')
    h.refused(H, 'CHECKIN badge=%s' % unknown, 'NOT_FOUND',
              'CHECKIN of an unknown badge')
    h.refused(H, 'CHECKIN badge=ABC', 'INVALID', 'CHECKIN badge=ABC')
    h.refused(H, 'CHECKIN id=x', 'INVALID', 'CHECKIN id=x')
    h.refused(H, 'CHECKIN id=%s session=NOPE' % P[SERRA], 'NOT_FOUND',
              'CHECKIN for an unknown session')
    h.refused(H, 'CHECKIN id=%s event=E2' % P[SERRA], 'NOT_FOUND',
              'CHECKIN of an E1 participant with event=E2')
    h.refused(H, 'CHECKIN event=E2 id=%s session=W1' % E2_ID, 'NOT_FOUND',
              'CHECKIN in E2 for a session of E1')
    h.refused(H, 'CHECKIN id=%s' % P['Kemal'], 'CONFLICT',
              'CHECKIN of a declined participant')
    h.refused(H, 'CHECKIN badge=%s' % BADGE['Kemal'], 'CONFLICT',
              'CHECKIN by badge of a declined participant')
    h.refused(F, 'CHECKIN id=%s' % P['Ayse'], 'FORBIDDEN',
              'focal cannot CHECKIN')

with h.section('set-up: Maria Rossi enrolled in W1 and checked in'):
    h.must(A, 'ENROL session=W1 participant=%s' % P['Maria'])
    h.must(A, 'CHECKIN id=%s' % P['Maria'])

with h.section('PARTICIPANT ERASE'):
    for role in ('secretariat', 'host', 'focal'):
        h.refused(ROLES[role], 'PARTICIPANT ERASE id=%s' % P['Ayse'],
                  'FORBIDDEN', '%s cannot ERASE' % role)
    before = part(P['Maria'])
    size = deleg('IOM').get('size')
    h.write(A, 'PARTICIPANT ERASE id=%s' % P['Maria'], 'admin ERASEs',
            id=P['Maria'])
    after = part(P['Maria'])
    h.is_((after.get('name'), after.get('email')), ('erased', 'erased'),
          'the personal data reads "erased"')
    h.is_((after.get('status'), after.get('role'), after.get('badge'),
           after.get('checked_in'), after.get('party')),
          (before.get('status'), before.get('role'), before.get('badge'),
           before.get('checked_in'), before.get('party')),
          'status, role, badge, check-in and party are kept')
    h.is_(deleg('IOM').get('size'), size, 'the delegation size is kept')
    h.ok(any(r[0] == P['Maria'] for r in roster('W1')),
         'the enrolment is kept')
    raw = '\n'.join(A.request('AUDIT limit=1000000').lines)
    h.ok('Maria Rossi' not in raw and 'mrossi@' not in raw,
         'the audit trail no longer holds the erased name or e-mail')
    h.refused(A, 'PARTICIPANT ERASE id=999999', 'NOT_FOUND',
              'ERASE of an unknown id')

# --------------------------------------------------------------------------
with h.section('role rules'):
    pid = P['Petar']
    for line, allowed in (
            ('PARTICIPANT ERASE id=%s' % pid, ('admin',)),
            ('CHECKIN id=%s' % pid, ('admin', 'secretariat', 'host'))):
        h.only_for(ROLES, N, line, allowed, nobody_line=line + ' event=E1')
    for line in ('PARTICIPANT LIST', 'PARTICIPANT SHOW id=%s' % P['Ayse']):
        for role, conn in ROLES.items():
            r = conn.request(line)
            h.ok(r.ok and r.fields.get('count') == str(len(r.records)),
                 '%s: %s may read' % (line, role), '    got: %r' % r.final)
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED' % line)
    for line in ('PARTICIPANT ADD party=TR name=X',
                 'PARTICIPANT SET id=%s title=X' % P['Ayse'],
                 'PARTICIPANT CONFIRM id=%s' % P['Ayse'],
                 'PARTICIPANT DECLINE id=%s' % P['Ayse']):
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED'
                    % h.command_of(N, line))

with h.section('unknown event, participant; invalid values'):
    for line, code in (('PARTICIPANT LIST event=NOPE', 'NOT_FOUND'),
                       ('PARTICIPANT SHOW id=987654', 'NOT_FOUND'),
                       ('PARTICIPANT SHOW id=-1', 'INVALID'),
                       ('PARTICIPANT LIST bogus=1', 'SYNTAX')):
        h.err_reply(A.request(line), code, '%s -> %s' % (line, code))

h.done_testing()
