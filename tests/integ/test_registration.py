"""test_registration.py -- the registration capability of PROTOCOL.md
sections 5 and 6 against the real rosterd: delegations (REGISTER, LIST,
SHOW, SET, CONFIRM, DECLINE, with their size and confirmed counts),
participants (ADD, LIST, SHOW, SET, CONFIRM, DECLINE, ERASE), CHECKIN by id
and by badge for the event and for a session, quota, one head, the event's
status, idempotent ref=, version= conflicts, Unicode names and NFC,
sessions, speakers, enrolment with its waiting list, ROSTER, AUDIT, each
role's rights and the error code of each refusal. Every write is checked
against roster.audit: one row for a change, none for a refusal."""

import os
import sys
import unicodedata

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import regutil as u  # noqa: E402

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('ftr', 'focal', 'TR'),
                         ('fhu', 'focal', 'HU')])
pg = u.Pg(env)

A = u.login(rd, 'admin')
S = u.login(rd, 'sec')
H = u.login(rd, 'hst')
F = u.login(rd, 'ftr')
FH = u.login(rd, 'fhu')
N = u.connect(rd)                  # nobody logged in
S2 = u.login(rd, 'sec')            # logged in, no USE
ROLES = {'admin': A, 'secretariat': S, 'host': H, 'focal': F}
USER_OF = {id(A): 'admin', id(S): 'sec', id(H): 'hst', id(F): 'ftr',
           id(FH): 'fhu', id(S2): 'sec'}

SERRA = 'Serra Albayrakoğlu'
TIMEA = 'Tímea Lehoczki'
TIMEA_NFD = unicodedata.normalize('NFD', TIMEA)      # "Ti\u0301mea ..."
JOVAN = 'Јован Петровић'
MUHAMMAD = 'محمد الأحمد'
MILICA = 'Милица Јовановић'
P = {}          # name -> participant id
BADGE = {}      # name -> badge


def w(conn, line, name, /, err=None, changes=1, **want):
    """A write, checked with its audit row(s) (by this connection's user)."""
    return u.write(pg, conn, line, name, err=err, changes=changes,
                   user=USER_OF.get(id(conn)) if changes == 1 else None,
                   **want)


def records(conn, line):
    r = conn.request(line)
    if not r.ok:
        h.diag('%s -> %s' % (line, r.final))
    return r.records


def show(conn, line):
    """The one record of a SHOW, or {} (with a diagnostic)."""
    r = conn.request(line)
    if r.ok and len(r.records) == 1 and r.fields.get('count') == '1':
        return r.records[0]
    h.diag('%s -> %r' % (line, r))
    return {}


def deleg(party):
    return show(A, 'DELEGATION SHOW party=%s' % party)


def part(pid):
    return show(A, 'PARTICIPANT SHOW id=%s' % pid)


def refused(conn, line, code, name):
    """A refusal: ERR code and no audit row."""
    return w(conn, line, name, err=code)


def roster(session):
    return [(r.get('participant'), r.get('status'), r.get('position'))
            for r in records(A, 'ROSTER session=%s' % session)]


# --------------------------------------------------------------------------
with h.section('set-up: events E1 (draft) and E2, organisation IOM'):
    u.event(A, 'E1', status='draft',
            title='Regional Conference on Migration')
    u.event(A, 'E2', country='HU', city='Budapest',
            timezone='Europe/Budapest')
    u.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for c in (A, S, H, F, FH):
        u.must(c, 'USE event=E1', event='E1')

with h.section('event in draft: changes are CLOSED'):
    refused(H, 'DELEGATION REGISTER party=TR quota=4', 'CLOSED',
            'DELEGATION REGISTER while the event is draft')
    refused(A, 'SESSION CREATE code=S0 kind=plenary title=Zero '
            'starts=2025-11-26T08:00 ends=2025-11-26T09:00', 'CLOSED',
            'SESSION CREATE while the event is draft')
    h.is_(records(A, 'DELEGATION LIST'), [], 'nothing was registered')
    w(A, 'EVENT SET status=open', 'EVENT SET status=open', code='E1')

# --------------------------------------------------------------------------
with h.section('DELEGATION REGISTER'):
    refused(F, 'DELEGATION REGISTER party=TR', 'FORBIDDEN',
            'focal cannot REGISTER (own party)')
    refused(FH, 'DELEGATION REGISTER party=HU', 'FORBIDDEN',
            'focal cannot REGISTER (HU)')
    refused(N, 'DELEGATION REGISTER event=E1 party=TR', 'AUTH_REQUIRED',
            'REGISTER not logged in')
    line = ('DELEGATION REGISTER party=TR quota=4 '
            'note="Delegation of Türkiye" ref=reg-tr')
    r = w(H, line, 'host registers TR with ref=', party='TR',
          status='registered', version='1')
    D_TR = r.fields.get('id')
    h.like(D_TR, r'^[1-9][0-9]*$', 'REGISTER answers a positive id')
    h.ok('replay' not in r.fields, 'the first REGISTER has no replay=')
    r2 = w(H, line, 'the same REGISTER with the same ref=', changes=0,
           id=D_TR, party='TR', status='registered', version='1',
           replay='1')
    h.is_(r2.final, 'OK id=%s party=TR status=registered version=1 '
          'replay=1' % D_TR, 'the replay is the first reply plus replay=1')
    w(S, 'DELEGATION REGISTER party=TR ref=reg-tr', 'same ref=, from '
      'another user, still a replay', changes=0, id=D_TR, replay='1')
    h.is_(len(records(A, 'DELEGATION LIST')), 1,
          'replays added no delegation')
    r = w(S, 'DELEGATION REGISTER event=E2 party=TR ref=reg-tr',
          'the same ref= in another event is another request', party='TR',
          status='registered', version='1')
    h.ok('replay' not in r.fields and r.fields.get('id') != D_TR,
         'a new delegation, no replay=', '    got: %r' % r.final)
    refused(S, 'DELEGATION REGISTER party=TR', 'CONFLICT',
            'a second delegation of TR (no ref=)')
    refused(S, 'DELEGATION REGISTER party=tr ref=reg-tr-2', 'CONFLICT',
            'a second delegation of TR (code in lower case, new ref=)')
    r = w(S, 'DELEGATION REGISTER party=hu', 'secretariat registers hu',
          party='HU', status='registered', version='1')
    D_HU = r.fields.get('id')
    w(A, 'DELEGATION REGISTER party=RS quota=2', 'admin registers RS',
      party='RS')
    w(A, 'DELEGATION REGISTER party=SA', 'admin registers SA', party='SA')
    w(S, 'DELEGATION REGISTER party=IOM quota=3', 'secretariat registers '
      'the organisation IOM', party='IOM')
    refused(S, 'DELEGATION REGISTER party=ZZ', 'NOT_FOUND',
            'REGISTER of an unknown party')
    refused(S, 'DELEGATION REGISTER party=FR event=NOPE', 'NOT_FOUND',
            'REGISTER in an unknown event')
    refused(S, 'DELEGATION REGISTER quota=3', 'SYNTAX',
            'REGISTER without party=')
    refused(S2, 'DELEGATION REGISTER party=FR', 'SYNTAX',
            'REGISTER without event= and no USE')
    refused(S, 'DELEGATION REGISTER party=FR colour=red', 'SYNTAX',
            'REGISTER with an unknown key')
    refused(S, 'DELEGATION REGISTER party=FR party=DE', 'SYNTAX',
            'REGISTER with a key given twice')
    refused(S, 'DELEGATION REGISTER party="F R"', 'INVALID',
            'REGISTER party= not a code')
    refused(S, 'DELEGATION REGISTER party=FR quota=-1', 'INVALID',
            'REGISTER quota=-1')
    refused(S, 'DELEGATION REGISTER party=FR quota=many', 'INVALID',
            'REGISTER quota=many')
    refused(S, 'DELEGATION REGISTER party=FR ref="a b"', 'INVALID',
            'REGISTER ref= with a space')
    refused(S, 'DELEGATION REGISTER party=FR ref=%s' % ('r' * 65),
            'INVALID', 'REGISTER ref= of 65 characters')
    refused(S, 'DELEGATION REGISTER party=FR note=%s' % ('n' * 4001),
            'INVALID', 'REGISTER note= of 4001 characters')

with h.section('DELEGATION LIST and SHOW'):
    recs = records(S, 'DELEGATION LIST')
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
    h.is_(show(H, 'DELEGATION SHOW party=tr'), tr,
          'SHOW party=tr (case-insensitive), as host')
    h.is_(show(F, 'DELEGATION SHOW party=TR'), tr,
          'SHOW of its own party, as focal')
    h.is_([r.get('party') for r in records(S, 'DELEGATION LIST '
                                            'kind=organisation')],
          ['IOM'], 'LIST kind=organisation')
    h.is_([r.get('party') for r in records(S, 'DELEGATION LIST '
                                            'kind=country')],
          ['HU', 'SA', 'RS', 'TR'], 'LIST kind=country')
    h.is_(records(S, 'DELEGATION LIST status=confirmed'), [],
          'LIST status=confirmed: none yet')
    h.is_(len(records(S, 'DELEGATION LIST status=registered')), 5,
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
    w(H, 'DELEGATION SET party=TR quota=5 version=1', 'host SET quota=5 '
      'version=1', id=D_TR, party='TR', version='2')
    refused(S, 'DELEGATION SET party=TR quota=6 version=1', 'CONFLICT',
            'SET with a stale version=1')
    w(S, 'DELEGATION SET party=TR note=Updated version=2',
      'SET note= version=2', version='3')
    d = deleg('TR')
    h.is_((d.get('quota'), d.get('note'), d.get('version')),
          ('5', 'Updated', '3'), 'SHOW: quota 5 (not 6), note, version 3')
    refused(F, 'DELEGATION SET party=TR quota=9', 'FORBIDDEN',
            'focal cannot SET its own delegation')
    refused(S, 'DELEGATION SET party=FR quota=1', 'NOT_FOUND',
            'SET of a party without a delegation')
    refused(S, 'DELEGATION SET party=ZZ quota=1', 'NOT_FOUND',
            'SET of an unknown party')
    refused(S, 'DELEGATION SET quota=1', 'SYNTAX', 'SET without party=')
    refused(S, 'DELEGATION SET party=TR quota=x', 'INVALID', 'SET quota=x')
    refused(S, 'DELEGATION SET party=TR version=0', 'INVALID',
            'SET version=0')

# --------------------------------------------------------------------------
with h.section('PARTICIPANT ADD'):
    line = ('PARTICIPANT ADD party=TR name=%s honorific=H.E. '
            'title="Deputy Director General" email=serra@example.org '
            'role=head ref=add-serra' % u.q(SERRA))
    r = w(H, line, 'host adds the head of TR with ref=', party='TR',
          version='1')
    P[SERRA] = r.fields.get('id')
    BADGE[SERRA] = r.fields.get('badge')
    h.like(P[SERRA], r'^[1-9][0-9]*$', 'ADD answers an id')
    h.like(BADGE[SERRA], u.BADGE_RE.pattern,
           'the badge is 10 characters of base32 [A-Z2-7]')
    h.ok('replay' not in r.fields, 'the first ADD has no replay=')
    n_before = len(records(A, 'PARTICIPANT LIST'))
    r2 = w(H, line, 'the same ADD with the same ref=', changes=0,
           id=P[SERRA], party='TR', badge=BADGE[SERRA], version='1',
           replay='1')
    h.is_(r2.final, r.final + ' replay=1',
          'the replay is the first reply plus replay=1')
    w(S, 'PARTICIPANT ADD party=TR name="Somebody Else" ref=add-serra',
      'a retry with the same ref= and other values is still the first '
      'request', changes=0, id=P[SERRA], badge=BADGE[SERRA], replay='1')
    h.is_(len(records(A, 'PARTICIPANT LIST')), n_before,
          'the replays added nobody')
    r = S.request('DELEGATION REGISTER party=FR ref=add-serra')
    h.ok(not (r.ok and 'replay' not in r.fields) and
         S.request('DELEGATION SHOW party=FR').code == 'NOT_FOUND',
         'a DELEGATION REGISTER reusing the ref= of a PARTICIPANT ADD '
         'creates nothing', '    got: %r' % r.final)
    refused(S, 'PARTICIPANT ADD party=TR name="Kemal Yıldız" role=head',
            'CONFLICT', 'a second head in TR')
    r = w(S, 'PARTICIPANT ADD party=TR name="Kemal Yıldız"',
          'secretariat adds a member of TR', party='TR', version='1')
    P['Kemal'] = r.fields.get('id')
    BADGE['Kemal'] = r.fields.get('badge')
    r = w(F, 'PARTICIPANT ADD party=TR name="Ayşe Çelik" role=adviser '
          'email=ayse@example.org', 'focal adds to its own party',
          party='TR')
    P['Ayse'] = r.fields.get('id')
    BADGE['Ayse'] = r.fields.get('badge')
    refused(F, 'PARTICIPANT ADD party=HU name="Not Mine"', 'FORBIDDEN',
            'focal TR adds to HU')
    r = w(FH, 'PARTICIPANT ADD party=HU name=%s role=head' % u.q(TIMEA_NFD),
          'focal HU adds a name sent decomposed (NFD)', party='HU')
    P[TIMEA] = r.fields.get('id')
    BADGE[TIMEA] = r.fields.get('badge')
    r = w(A, 'PARTICIPANT ADD party=RS name=%s role=head '
          'title="Head of Section"' % u.q(JOVAN), 'admin adds Cyrillic',
          party='RS')
    P[JOVAN] = r.fields.get('id')
    BADGE[JOVAN] = r.fields.get('badge')
    r = w(A, 'PARTICIPANT ADD party=RS name=%s' % u.q(MILICA),
          'admin adds RS member (quota 2 now full)', party='RS')
    P[MILICA] = r.fields.get('id')
    BADGE[MILICA] = r.fields.get('badge')
    refused(A, 'PARTICIPANT ADD party=RS name="Petar Nikolić"', 'QUOTA',
            'a third participant of RS (quota=2)')
    refused(S, 'PARTICIPANT ADD party=RS name="Petar Nikolić" ref=q-1',
            'QUOTA', 'past the quota with a ref=')
    d = deleg('RS')
    h.is_((d.get('quota'), d.get('size')), ('2', '2'),
          'RS: quota 2, size 2 after the refusals')
    r = w(H, 'PARTICIPANT ADD party=SA name=%s role=head' % u.q(MUHAMMAD),
          'host adds Arabic', party='SA')
    P[MUHAMMAD] = r.fields.get('id')
    BADGE[MUHAMMAD] = r.fields.get('badge')
    r = w(S, 'PARTICIPANT ADD party=IOM name="Maria Rossi" '
          'email=mrossi@example.org role=observer', 'secretariat adds to '
          'an organisation', party='IOM')
    P['Maria'] = r.fields.get('id')
    BADGE['Maria'] = r.fields.get('badge')
    refused(S, 'PARTICIPANT ADD party=FR name="Jean Dupont"', 'NOT_FOUND',
            'ADD to a party without a delegation')
    refused(S, 'PARTICIPANT ADD party=ZZ name="Jean Dupont"', 'NOT_FOUND',
            'ADD to an unknown party')
    refused(S, 'PARTICIPANT ADD party=FR name="Jean Dupont" event=NOPE',
            'NOT_FOUND', 'ADD in an unknown event')
    refused(S, 'PARTICIPANT ADD name="Jean Dupont"', 'SYNTAX',
            'ADD without party=')
    refused(S, 'PARTICIPANT ADD party=TR', 'SYNTAX', 'ADD without name=')
    refused(S, 'PARTICIPANT ADD party=TR name=X nickname=Y', 'SYNTAX',
            'ADD with an unknown key')
    refused(S, 'PARTICIPANT ADD party=TR name=X role=king', 'INVALID',
            'ADD role=king')
    refused(S, 'PARTICIPANT ADD party=TR name=X email=nobody', 'INVALID',
            'ADD email= not an address')
    refused(S, 'PARTICIPANT ADD party=TR name=""', 'INVALID',
            'ADD name= empty')
    refused(S, 'PARTICIPANT ADD party=TR name="   "', 'INVALID',
            'ADD name= only spaces')
    refused(S, 'PARTICIPANT ADD party=TR name=%s' % ('x' * 201), 'INVALID',
            'ADD name= of 201 characters')
    r = w(S, 'PARTICIPANT ADD party=TR name=%s' % ('ğ' * 200),
          'ADD name= of 200 characters (400 bytes)', party='TR')
    P['long'] = r.fields.get('id')
    w(S, 'PARTICIPANT DECLINE id=%s' % P['long'], 'decline it again',
      status='declined')
    badges = [b for b in BADGE.values()]
    h.ok(all(b and u.BADGE_RE.match(b) for b in badges),
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
    names = [r.get('name') for r in records(FH, 'PARTICIPANT LIST')]
    h.is_(names, [TIMEA], 'LIST of HU (focal HU) shows the NFC name')
    h.is_(part(P['long']).get('name'), 'ğ' * 200,
          '200 two-byte characters round trip')

with h.section('PARTICIPANT LIST and SHOW'):
    recs = records(S, 'PARTICIPANT LIST')
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
    h.is_(show(F, 'PARTICIPANT SHOW id=%s' % P[SERRA]), serra,
          'SHOW by the focal point of TR')
    h.is_(show(S2, 'PARTICIPANT SHOW id=%s' % P[SERRA]), serra,
          'SHOW id= needs no event (ids are unique)')
    h.is_([r.get('id') for r in records(S, 'PARTICIPANT LIST party=TR')],
          [P[SERRA], P['Ayse'], P['long'], P['Kemal']],
          'LIST party=TR (the declined too)')
    h.is_([r.get('party') for r in records(H, 'PARTICIPANT LIST role=head')],
          ['HU', 'SA', 'RS', 'TR'], 'LIST role=head (as host)')
    h.is_([r.get('id') for r in records(S, 'PARTICIPANT LIST '
                                         'status=declined')],
          [P['long']], 'LIST status=declined')
    h.is_([r.get('id') for r in records(S, 'PARTICIPANT LIST party=RS '
                                         'role=member')],
          [P[MILICA]], 'LIST party=RS role=member')
    h.err_reply(S.request('PARTICIPANT LIST role=king'), 'INVALID',
                'LIST role=king')
    h.err_reply(S.request('PARTICIPANT LIST status=maybe'), 'INVALID',
                'LIST status=maybe')
    h.err_reply(S.request('PARTICIPANT LIST party=ZZ'), 'NOT_FOUND',
                'LIST party=ZZ (unknown)')
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
    w(S, 'PARTICIPANT SET id=%s title=Counsellor version=1' % k,
      'SET title= version=1', id=k, version='2')
    refused(H, 'PARTICIPANT SET id=%s title=Minister version=1' % k,
            'CONFLICT', 'SET with a stale version=1')
    h.is_(part(k).get('title'), 'Counsellor', 'the stale SET changed nothing')
    w(F, 'PARTICIPANT SET id=%s name="Kemal Yıldız Bey" version=2' % k,
      'focal SETs its own participant', id=k, version='3')
    w(H, 'PARTICIPANT SET id=%s email=kemal@example.org' % k,
      'host SET email= (no version=)', id=k, version='4')
    rec = part(k)
    h.is_((rec.get('name'), rec.get('title'), rec.get('email'),
           rec.get('version')),
          ('Kemal Yıldız Bey', 'Counsellor', 'kemal@example.org', '4'),
          'SHOW after the SETs')
    refused(S, 'PARTICIPANT SET id=%s role=head' % k, 'CONFLICT',
            'SET role=head while TR has a head')
    refused(S, 'PARTICIPANT SET id=999999 title=X', 'NOT_FOUND',
            'SET of an unknown id')
    refused(S, 'PARTICIPANT SET title=X', 'SYNTAX', 'SET without id=')
    refused(S, 'PARTICIPANT SET id=%s name=""' % k, 'INVALID',
            'SET name= empty')
    refused(S, 'PARTICIPANT SET id=%s role=king' % k, 'INVALID',
            'SET role=king')
    refused(S, 'PARTICIPANT SET id=%s version=x' % k, 'INVALID',
            'SET version=x')
    refused(S, 'PARTICIPANT SET id=%s party=HU' % k, 'SYNTAX',
            'SET party= (not a key of SET)')

with h.section('PARTICIPANT CONFIRM / DECLINE and the delegation counts'):
    w(H, 'PARTICIPANT CONFIRM id=%s' % P[SERRA], 'host CONFIRMs the head',
      id=P[SERRA], status='confirmed', version='2')
    w(S, 'PARTICIPANT CONFIRM id=%s' % P[SERRA], 'CONFIRM again: no change',
      changes=0, id=P[SERRA], status='confirmed', version='2')
    w(F, 'PARTICIPANT CONFIRM id=%s' % P['Ayse'], 'focal CONFIRMs its own',
      status='confirmed')
    d = deleg('TR')
    h.is_((d.get('size'), d.get('confirmed')), ('3', '2'),
          'TR: size 3, confirmed 2')
    w(S, 'PARTICIPANT DECLINE id=%s reason="Cannot travel"' % P['Kemal'],
      'secretariat DECLINEs a member', id=P['Kemal'], status='declined',
      version='5')
    d = deleg('TR')
    h.is_((d.get('size'), d.get('confirmed')), ('2', '2'),
          'TR after the decline: size 2 (declined not counted), '
          'confirmed 2')
    h.is_(part(P['Kemal']).get('status'), 'declined', 'SHOW: declined')
    w(S, 'PARTICIPANT DECLINE id=%s' % P['Kemal'], 'DECLINE again: no '
      'change', changes=0, status='declined')
    refused(S, 'PARTICIPANT CONFIRM id=999999', 'NOT_FOUND',
            'CONFIRM of an unknown id')
    refused(S, 'PARTICIPANT DECLINE id=999999', 'NOT_FOUND',
            'DECLINE of an unknown id')
    refused(S, 'PARTICIPANT CONFIRM', 'SYNTAX', 'CONFIRM without id=')
    refused(S, 'PARTICIPANT DECLINE id=x', 'INVALID', 'DECLINE id=x')
    w(S, 'PARTICIPANT DECLINE id=%s' % P[MILICA], 'RS: decline one of two',
      status='declined')
    r = w(S, 'PARTICIPANT ADD party=RS name="Petar Nikolić"',
          'RS: a place is free again (declined are not counted)',
          party='RS')
    P['Petar'] = r.fields.get('id')
    BADGE['Petar'] = r.fields.get('badge')
    refused(S, 'PARTICIPANT ADD party=RS name="Ana Marković"', 'QUOTA',
            'RS at its quota again')
    refused(S, 'DELEGATION SET party=RS quota=1', 'CONFLICT',
            'a quota below the size (2)')

with h.section('DELEGATION CONFIRM / DECLINE'):
    refused(H, 'DELEGATION CONFIRM party=TR', 'FORBIDDEN',
            'host cannot CONFIRM a delegation')
    refused(H, 'DELEGATION DECLINE party=TR', 'FORBIDDEN',
            'host cannot DECLINE a delegation')
    w(S, 'DELEGATION CONFIRM party=TR', 'secretariat CONFIRMs TR',
      id=D_TR, party='TR', status='confirmed', version='4')
    w(S, 'DELEGATION CONFIRM party=TR', 'CONFIRM again: no change',
      changes=0, status='confirmed', version='4')
    w(FH, 'DELEGATION CONFIRM party=HU', 'focal CONFIRMs its own',
      id=D_HU, party='HU', status='confirmed')
    refused(F, 'DELEGATION CONFIRM party=HU', 'FORBIDDEN',
            'focal TR CONFIRMs HU')
    refused(S, 'DELEGATION CONFIRM party=FR', 'NOT_FOUND',
            'CONFIRM of a party without a delegation')
    refused(S, 'DELEGATION CONFIRM party=ZZ', 'NOT_FOUND',
            'CONFIRM of an unknown party')
    refused(S, 'DELEGATION CONFIRM', 'SYNTAX', 'CONFIRM without party=')
    h.is_([r.get('party') for r in records(S, 'DELEGATION LIST '
                                            'status=confirmed')],
          ['HU', 'TR'], 'LIST status=confirmed')
    w(S, 'DELEGATION DECLINE party=SA reason="Not attending"',
      'secretariat DECLINEs SA', party='SA', status='declined')
    d = deleg('SA')
    h.is_((d.get('status'), d.get('size'), d.get('confirmed')),
          ('declined', '0', '0'), 'SA: declined, size 0, confirmed 0')
    h.is_(part(P[MUHAMMAD]).get('status'), 'declined',
          'the participants of a declined delegation are declined')
    refused(S, 'PARTICIPANT ADD party=SA name="Ali Hassan"', 'CONFLICT',
            'ADD to a declined delegation')

# --------------------------------------------------------------------------
with h.section('SESSION CREATE / LIST / SHOW / SET'):
    w(H, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
      'starts=2025-11-26T09:00 ends=2025-11-26T10:30 room="Hall A" '
      'theme=Opening', 'host creates S1', code='S1', version='1')
    line = ('SESSION CREATE code=W1 kind=working_group '
            'title="Working group on return" starts=2025-11-26T11:00 '
            'ends=2025-11-26T12:30 capacity=2 ref=ses-w1')
    w(S, line, 'secretariat creates W1 (capacity 2) with ref=', code='W1',
      version='1')
    r = w(S, line, 'the same SESSION CREATE again', changes=0, code='W1',
          version='1', replay='1')
    h.is_(r.final, 'OK code=W1 version=1 replay=1', 'the replay, exactly')
    w(A, 'SESSION CREATE code=P1 kind=panel title="Panel on labour '
      'migration" starts=2025-11-26T08:00 ends=2025-11-26T08:45 '
      'capacity=10', 'admin creates P1', code='P1')
    refused(S, 'SESSION CREATE code=s1 kind=panel title=Dup '
            'starts=2025-11-27T09:00 ends=2025-11-27T10:00', 'CONFLICT',
            'a second session s1 (codes ignore case)')
    base = ('SESSION CREATE code=X1 kind=panel title=X '
            'starts=2025-11-27T09:00 ends=2025-11-27T10:00')
    refused(F, base, 'FORBIDDEN', 'focal cannot CREATE a session')
    refused(S, base.replace('kind=panel', 'kind=party'), 'INVALID',
            'SESSION CREATE kind=party')
    refused(S, base.replace('T09:00', 'T25:00'), 'INVALID',
            'SESSION CREATE starts= hour 25')
    refused(S, base.replace('starts=2025-11-27T09:00', 'starts=2025-11-27'),
            'INVALID', 'SESSION CREATE starts= a date only')
    refused(S, base.replace('T10:00', 'T08:00'), 'INVALID',
            'SESSION CREATE ends before starts')
    refused(S, base + ' capacity=-1', 'INVALID', 'SESSION CREATE capacity=-1')
    refused(S, base.replace('code=X1', 'code="X 1"'), 'INVALID',
            'SESSION CREATE code= with a space')
    refused(S, base.replace(' title=X', ''), 'SYNTAX',
            'SESSION CREATE without title=')
    refused(S, base + ' event=NOPE', 'NOT_FOUND',
            'SESSION CREATE in an unknown event')
    h.is_([r.get('code') for r in records(F, 'SESSION LIST')],
          ['P1', 'S1', 'W1'], 'SESSION LIST by start time (as focal)')
    h.is_([r.get('code') for r in records(S, 'SESSION LIST kind=panel')],
          ['P1'], 'SESSION LIST kind=panel')
    h.err_reply(S.request('SESSION LIST kind=party'), 'INVALID',
                'SESSION LIST kind=party')
    w1 = {'code': 'W1', 'kind': 'working_group',
          'title': 'Working group on return',
          'starts': '2025-11-26T11:00+03:00',
          'ends': '2025-11-26T12:30+03:00', 'capacity': '2',
          'enrolled': '0', 'waitlisted': '0', 'version': '1'}
    h.is_(show(H, 'SESSION SHOW session=W1'), w1,
          'SESSION SHOW W1: every field, times in the event\'s zone')
    h.is_(show(F, 'SESSION SHOW session=w1'), w1,
          'SESSION SHOW w1 (case), as focal')
    h.err_reply(S.request('SESSION SHOW session=NOPE'), 'NOT_FOUND',
                'SESSION SHOW of an unknown session')
    h.err_reply(S.request('SESSION SHOW'), 'SYNTAX',
                'SESSION SHOW without session=')
    w(H, 'SESSION SET session=S1 room="Hall B" version=1', 'SESSION SET '
      'room= version=1', code='S1', version='2')
    refused(S, 'SESSION SET session=S1 room="Hall C" version=1', 'CONFLICT',
            'SESSION SET with a stale version=1')
    h.is_(show(S, 'SESSION SHOW session=S1').get('room'), 'Hall B',
          'the stale SET changed nothing')
    refused(F, 'SESSION SET session=S1 room="Hall C"', 'FORBIDDEN',
            'focal cannot SET a session')
    refused(S, 'SESSION SET session=NOPE room=X', 'NOT_FOUND',
            'SESSION SET of an unknown session')
    refused(S, 'SESSION SET session=S1 capacity=x', 'INVALID',
            'SESSION SET capacity=x')

with h.section('SPEAKER ADD / LIST / REMOVE'):
    w(S, 'SPEAKER ADD session=S1 participant=%s role=chair topic=Welcome '
      'position=1' % P[SERRA], 'SPEAKER ADD the chair at position 1',
      session='S1', participant=P[SERRA], role='chair', position='1')
    w(H, 'SPEAKER ADD session=S1 participant=%s topic="Western Balkans '
      'route"' % P[JOVAN], 'SPEAKER ADD without role= and position=',
      session='S1', participant=P[JOVAN], role='speaker', position='2')
    w(A, 'SPEAKER ADD session=S1 participant=%s role=panelist position=5'
      % P[TIMEA], 'SPEAKER ADD at position 5', position='5')
    refused(S, 'SPEAKER ADD session=S1 participant=%s' % P[SERRA],
            'CONFLICT', 'SPEAKER ADD of a speaker already there')
    refused(S, 'SPEAKER ADD session=S1 participant=%s' % P['Kemal'],
            'CONFLICT', 'SPEAKER ADD of a declined participant')
    refused(S, 'SPEAKER ADD session=S1 participant=999999', 'NOT_FOUND',
            'SPEAKER ADD of an unknown participant')
    refused(S, 'SPEAKER ADD session=NOPE participant=%s' % P['Ayse'],
            'NOT_FOUND', 'SPEAKER ADD to an unknown session')
    refused(S, 'SPEAKER ADD session=S1 participant=%s role=king' % P['Ayse'],
            'INVALID', 'SPEAKER ADD role=king')
    refused(S, 'SPEAKER ADD session=S1', 'SYNTAX',
            'SPEAKER ADD without participant=')
    refused(F, 'SPEAKER ADD session=S1 participant=%s' % P['Ayse'],
            'FORBIDDEN', 'focal cannot ADD a speaker')
    recs = records(S, 'SPEAKER LIST session=S1')
    h.is_(recs, [
        {'session': 'S1', 'participant': P[SERRA], 'name': SERRA,
         'party': 'TR', 'role': 'chair', 'topic': 'Welcome',
         'position': '1'},
        {'session': 'S1', 'participant': P[JOVAN], 'name': JOVAN,
         'party': 'RS', 'role': 'speaker', 'topic': 'Western Balkans route',
         'position': '2'},
        {'session': 'S1', 'participant': P[TIMEA], 'name': TIMEA,
         'party': 'HU', 'role': 'panelist', 'position': '5'}],
        'SPEAKER LIST session=S1: the records, by position')
    h.is_(len(records(H, 'SPEAKER LIST')), 3, 'SPEAKER LIST (all)')
    w(H, 'SPEAKER REMOVE session=S1 participant=%s' % P[JOVAN],
      'SPEAKER REMOVE', session='S1', participant=P[JOVAN])
    refused(H, 'SPEAKER REMOVE session=S1 participant=%s' % P[JOVAN],
            'NOT_FOUND', 'SPEAKER REMOVE of someone not speaking')
    refused(F, 'SPEAKER REMOVE session=S1 participant=%s' % P[SERRA],
            'FORBIDDEN', 'focal cannot REMOVE a speaker')
    h.is_([r.get('participant') for r in records(S, 'SPEAKER LIST '
                                                  'session=S1')],
          [P[SERRA], P[TIMEA]], 'SPEAKER LIST after the REMOVE')

with h.section('ENROL / UNENROL, waiting list, ROSTER'):
    def enrol(conn, who, name, changes=1, **want):
        return w(conn, 'ENROL session=W1 participant=%s' % P[who], name,
                 changes=changes, **want)

    r = enrol(S, SERRA, 'ENROL 1st of 2 places', status='enrolled')
    h.is_(r.final, 'OK status=enrolled', 'ENROL reply, exactly')
    enrol(F, 'Ayse', 'ENROL 2nd (focal, own participant)',
          status='enrolled')
    r = enrol(FH, TIMEA, 'ENROL 3rd: waiting list', status='waitlisted',
              position='1')
    h.is_(r.final, 'OK status=waitlisted position=1', 'waitlisted reply, '
          'exactly')
    enrol(H, JOVAN, 'ENROL 4th', status='waitlisted', position='2')
    enrol(S, 'Maria', 'ENROL 5th', status='waitlisted', position='3')
    r = enrol(S, JOVAN, 'ENROL of someone waiting', changes=0,
              status='waitlisted', position='2', already='1')
    h.is_(r.final, 'OK status=waitlisted position=2 already=1',
          'already waiting: current status and position, already=1')
    r = enrol(S, SERRA, 'ENROL of someone enrolled', changes=0,
              status='enrolled', already='1')
    h.is_(r.final, 'OK status=enrolled already=1', 'already enrolled reply')
    s = show(S, 'SESSION SHOW session=W1')
    h.is_((s.get('enrolled'), s.get('waitlisted')), ('2', '3'),
          'SESSION SHOW: enrolled 2, waitlisted 3')
    recs = records(H, 'ROSTER session=W1')
    h.is_(recs, [
        {'participant': P[SERRA], 'name': SERRA, 'party': 'TR',
         'status': 'enrolled'},
        {'participant': P['Ayse'], 'name': 'Ayşe Çelik', 'party': 'TR',
         'status': 'enrolled'},
        {'participant': P[TIMEA], 'name': TIMEA, 'party': 'HU',
         'status': 'waitlisted', 'position': '1'},
        {'participant': P[JOVAN], 'name': JOVAN, 'party': 'RS',
         'status': 'waitlisted', 'position': '2'},
        {'participant': P['Maria'], 'name': 'Maria Rossi', 'party': 'IOM',
         'status': 'waitlisted', 'position': '3'}],
        'ROSTER: the enrolled first, then the waiting list in order')
    w(S, 'UNENROL session=W1 participant=%s' % P[SERRA], 'UNENROL an '
      'enrolled: the first waiting is promoted', session='W1',
      participant=P[SERRA], promoted=P[TIMEA])
    h.is_(roster('W1'), [(P['Ayse'], 'enrolled', None),
                         (P[TIMEA], 'enrolled', None),
                         (P[JOVAN], 'waitlisted', '1'),
                         (P['Maria'], 'waitlisted', '2')],
          'ROSTER after the promotion: the waiting list moved up')
    r = w(S, 'UNENROL session=W1 participant=%s' % P[JOVAN], 'UNENROL '
          'someone waiting', session='W1', participant=P[JOVAN])
    h.ok('promoted' not in r.fields, 'nobody promoted for a waiting one')
    enrol(S, SERRA, 'ENROL again: at the end of the waiting list',
          status='waitlisted', position='2')
    h.is_(roster('W1'), [(P['Ayse'], 'enrolled', None),
                         (P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'waitlisted', '1'),
                         (P[SERRA], 'waitlisted', '2')],
          'ROSTER: positions without gaps')
    w(F, 'UNENROL session=W1 participant=%s' % P['Ayse'], 'focal UNENROLs '
      'its own: the first in arrival order is promoted', session='W1',
      participant=P['Ayse'])
    h.is_(roster('W1'), [(P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'enrolled', None),
                         (P[SERRA], 'waitlisted', '1')],
          'ROSTER: promoted in arrival order (IOM before TR)')
    refused(S, 'UNENROL session=W1 participant=%s' % P[JOVAN], 'NOT_FOUND',
            'UNENROL of someone neither enrolled nor waiting')
    refused(S, 'ENROL session=W1 participant=%s' % P['Kemal'], 'CONFLICT',
            'ENROL of a declined participant')
    refused(S, 'ENROL session=W1 participant=999999', 'NOT_FOUND',
            'ENROL of an unknown participant')
    refused(S, 'ENROL session=NOPE participant=%s' % P[JOVAN], 'NOT_FOUND',
            'ENROL in an unknown session')
    refused(S, 'ENROL session=W1 participant=x', 'INVALID',
            'ENROL participant=x')
    r = w(S, 'PARTICIPANT ADD event=E2 party=TR name="Only In E2"',
          'a participant of E2', party='TR')
    e2 = r.fields.get('id')
    refused(S, 'ENROL session=W1 participant=%s' % e2, 'NOT_FOUND',
            'ENROL of an E2 participant in an E1 session')
    refused(S, 'ENROL event=E2 session=W1 participant=%s' % e2, 'NOT_FOUND',
            'ENROL in E2 of a session of E1')
    refused(H, 'CHECKIN event=E2 id=%s session=W1' % e2, 'NOT_FOUND',
            'CHECKIN in E2 for a session of E1')
    refused(S, 'ENROL participant=%s' % P[JOVAN], 'SYNTAX',
            'ENROL without session=')
    refused(S, 'UNENROL session=W1', 'SYNTAX', 'UNENROL without participant=')
    h.err_reply(F.request('ROSTER session=W1'), 'FORBIDDEN',
                'focal cannot read a ROSTER')
    h.err_reply(S.request('ROSTER session=NOPE'), 'NOT_FOUND',
                'ROSTER of an unknown session')
    h.err_reply(S.request('ROSTER'), 'SYNTAX', 'ROSTER without session=')
    w(S, 'SESSION SET session=W1 capacity=3', 'a larger capacity',
      code='W1', version='2')
    h.is_(roster('W1'), [(P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'enrolled', None),
                         (P[SERRA], 'enrolled', None)],
          'a larger capacity moves the waiting list up')
    refused(S, 'SESSION SET session=W1 capacity=1', 'CONFLICT',
            'a capacity below the number enrolled')
    enrol(S, 'Ayse', 'ENROL in the full session again',
          status='waitlisted', position='1')
    w(S, 'PARTICIPANT DECLINE id=%s' % P[TIMEA], 'declining an enrolled '
      'participant', status='declined')
    h.is_(roster('W1'), [(P['Maria'], 'enrolled', None),
                         (P[SERRA], 'enrolled', None),
                         (P['Ayse'], 'enrolled', None)],
          'the declined left the session; the waiting list moved up')
    w(S, 'PARTICIPANT CONFIRM id=%s' % P[TIMEA], 'confirm her again',
      status='confirmed')
    for who in (SERRA, 'Ayse', JOVAN):
        w(S, 'ENROL session=S1 participant=%s' % P[who],
          'ENROL in S1 (no capacity)', status='enrolled')

# --------------------------------------------------------------------------
with h.section('CHECKIN'):
    r1 = w(H, 'CHECKIN id=%s' % P[SERRA], 'host checks in by id',
           id=P[SERRA], party='TR', name=SERRA)
    t1 = r1.fields.get('checked_in')
    h.like(t1, u.TIMESTAMP_RE.pattern, 'checked_in is a UTC timestamp')
    h.ok('already' not in r1.fields, 'the first check-in has no already=')
    r2 = w(S, 'CHECKIN id=%s' % P[SERRA], 'the same check-in again',
           changes=0, id=P[SERRA], checked_in=t1, already='1')
    h.is_(r2.final, 'OK id=%s party=TR name=%s checked_in=%s already=1'
          % (P[SERRA], u.q(SERRA), t1),
          'the second: the first time, already=1')
    h.is_(part(P[SERRA]).get('checked_in'), t1, 'SHOW: checked_in')
    r = w(H, 'CHECKIN badge=%s' % BADGE[JOVAN], 'check-in by badge',
          id=P[JOVAN], party='RS', name=JOVAN)
    tj = r.fields.get('checked_in')
    w(A, 'CHECKIN id=%s' % P[JOVAN], 'then by id: the same check-in',
      changes=0, id=P[JOVAN], checked_in=tj, already='1')
    w(S, 'CHECKIN badge=%s' % BADGE[JOVAN], 'by badge again', changes=0,
      checked_in=tj, already='1')
    r = w(H, 'CHECKIN id=%s session=S1' % P[SERRA], 'check-in for a session',
          id=P[SERRA], party='TR', name=SERRA)
    ts = r.fields.get('checked_in')
    h.ok('already' not in r.fields,
         'a session check-in is not the event check-in again')
    w(H, 'CHECKIN badge=%s session=S1' % BADGE[SERRA], 'the session '
      'check-in again (by badge)', changes=0, checked_in=ts, already='1')
    r = w(H, 'CHECKIN id=%s session=W1' % P['Ayse'], 'a session check-in '
          'first', id=P['Ayse'])
    ta = part(P['Ayse']).get('checked_in')
    h.is_(ta, r.fields.get('checked_in'),
          'checked_in is set by the first check-in of any kind')
    r = w(H, 'CHECKIN id=%s' % P['Ayse'], 'then the event check-in',
          id=P['Ayse'])
    h.ok('already' not in r.fields, 'the event check-in is new')
    h.is_(part(P['Ayse']).get('checked_in'), ta,
          'checked_in stays the first check-in time')
    refused(H, 'CHECKIN', 'SYNTAX', 'CHECKIN without id= or badge=')
    refused(H, 'CHECKIN id=%s badge=%s' % (P[SERRA], BADGE[SERRA]),
            'SYNTAX', 'CHECKIN with both id= and badge=')
    refused(H, 'CHECKIN id=999999', 'NOT_FOUND', 'CHECKIN of an unknown id')
    unknown = ('AAAAAAAAAA' if 'AAAAAAAAAA' not in BADGE.values()
               else 'BBBBBBBBBB')
    refused(H, 'CHECKIN badge=%s' % unknown, 'NOT_FOUND',
            'CHECKIN of an unknown badge')
    refused(H, 'CHECKIN badge=ABC', 'INVALID', 'CHECKIN badge=ABC')
    refused(H, 'CHECKIN id=x', 'INVALID', 'CHECKIN id=x')
    refused(H, 'CHECKIN id=%s session=NOPE' % P[SERRA], 'NOT_FOUND',
            'CHECKIN for an unknown session')
    refused(H, 'CHECKIN id=%s event=E2' % P[SERRA], 'NOT_FOUND',
            'CHECKIN of an E1 participant with event=E2')
    refused(H, 'CHECKIN id=%s' % P['Kemal'], 'CONFLICT',
            'CHECKIN of a declined participant')
    refused(H, 'CHECKIN badge=%s' % BADGE['Kemal'], 'CONFLICT',
            'CHECKIN by badge of a declined participant')
    refused(F, 'CHECKIN id=%s' % P['Ayse'], 'FORBIDDEN',
            'focal cannot CHECKIN')

with h.section('event closed: changes are CLOSED, check-in goes on'):
    w(A, 'EVENT SET status=closed', 'EVENT SET status=closed', code='E1')
    r = w(H, 'CHECKIN id=%s' % P['Maria'], 'CHECKIN while closed',
          id=P['Maria'], party='IOM')
    refused(S, 'PARTICIPANT ADD party=TR name="Late Comer"', 'CLOSED',
            'PARTICIPANT ADD while closed')
    refused(S, 'PARTICIPANT SET id=%s title=X' % P['Ayse'], 'CLOSED',
            'PARTICIPANT SET while closed')
    refused(S, 'PARTICIPANT CONFIRM id=%s' % P[JOVAN], 'CLOSED',
            'PARTICIPANT CONFIRM while closed')
    refused(S, 'PARTICIPANT DECLINE id=%s' % P[JOVAN], 'CLOSED',
            'PARTICIPANT DECLINE while closed')
    refused(S, 'DELEGATION REGISTER party=FR', 'CLOSED',
            'DELEGATION REGISTER while closed')
    refused(S, 'DELEGATION SET party=TR note=X', 'CLOSED',
            'DELEGATION SET while closed')
    refused(S, 'DELEGATION CONFIRM party=RS', 'CLOSED',
            'DELEGATION CONFIRM while closed')
    refused(S, 'SESSION CREATE code=X2 kind=panel title=X '
            'starts=2025-11-27T09:00 ends=2025-11-27T10:00', 'CLOSED',
            'SESSION CREATE while closed')
    refused(S, 'SESSION SET session=S1 room=X', 'CLOSED',
            'SESSION SET while closed')
    refused(S, 'ENROL session=S1 participant=%s' % P['Maria'], 'CLOSED',
            'ENROL while closed')
    refused(S, 'UNENROL session=S1 participant=%s' % P[SERRA], 'CLOSED',
            'UNENROL while closed')
    refused(S, 'SPEAKER ADD session=S1 participant=%s' % P['Maria'],
            'CLOSED', 'SPEAKER ADD while closed')
    w(A, 'EVENT SET status=draft', 'EVENT SET status=draft', code='E1')
    refused(H, 'CHECKIN id=%s' % P['Petar'], 'CLOSED',
            'CHECKIN while draft')
    w(A, 'EVENT SET status=open', 'EVENT SET status=open again', code='E1')

with h.section('PARTICIPANT ERASE'):
    for role in ('secretariat', 'host', 'focal'):
        refused(ROLES[role], 'PARTICIPANT ERASE id=%s' % P['Ayse'],
                'FORBIDDEN', '%s cannot ERASE' % role)
    before = part(P['Maria'])
    size = deleg('IOM').get('size')
    w(A, 'PARTICIPANT ERASE id=%s' % P['Maria'], 'admin ERASEs',
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
    refused(A, 'PARTICIPANT ERASE id=999999', 'NOT_FOUND',
            'ERASE of an unknown id')

# --------------------------------------------------------------------------
with h.section('AUDIT'):
    full = A.request('AUDIT limit=1000000')
    h.ok_reply(full, 'AUDIT: OK count=N', count=str(len(full.records)))
    db = pg.query('SELECT username, command, coalesce(target, \'\') '
                  'FROM roster.audit ORDER BY at, id')
    h.is_(len(full.records), len(db), 'AUDIT: one record per audit row')
    h.is_([(r.get('user'), r.get('command'), r.get('target', ''))
           for r in full.records], [tuple(x) for x in db],
          'AUDIT: user, command and target of each change, oldest first')
    ats = [r.get('at') for r in full.records]
    h.ok(all(u.TIMESTAMP_RE.match(a or '') for a in ats),
         'every at= is a UTC timestamp')
    h.is_(ats, sorted(ats), 'oldest first')
    h.ok(all(set(r) <= {'at', 'user', 'command', 'target', 'detail'}
             for r in full.records), 'records: at user command target '
         'detail')
    cmds = {r.get('command') for r in full.records}
    want = {'DELEGATION REGISTER', 'DELEGATION SET', 'DELEGATION CONFIRM',
            'DELEGATION DECLINE', 'PARTICIPANT ADD', 'PARTICIPANT SET',
            'PARTICIPANT CONFIRM', 'PARTICIPANT DECLINE', 'PARTICIPANT ERASE',
            'CHECKIN', 'SESSION CREATE', 'SESSION SET', 'SPEAKER ADD',
            'SPEAKER REMOVE', 'ENROL', 'UNENROL'}
    h.is_(sorted(want - cmds), [], 'every kind of change is in AUDIT')
    h.is_(A.request('AUDIT limit=3').records, full.records[-3:],
          'AUDIT limit=3: the last three changes, oldest first')
    hst = [r for r in full.records if r.get('user') == 'hst']
    h.ok(len(hst) > 3, 'host made changes')
    h.is_(A.request('AUDIT user=hst limit=1000000').records, hst,
          'AUDIT user=hst: exactly the host\'s changes')
    h.is_(S.request('AUDIT user=HST limit=1000000').records, hst,
          'AUDIT user=HST (case), as secretariat')
    h.is_(A.request('AUDIT user=nobody').records, [],
          'AUDIT user= of someone who changed nothing')
    t = ats[len(ats) // 2]
    since = [r for r in full.records if r.get('at') >= t]
    h.is_(A.request('AUDIT since=%s limit=1000000' % t).records, since,
          'AUDIT since=: the changes at or after it')
    h.is_(A.request('AUDIT since=%s limit=2' % t).records, since[:2],
          'AUDIT since= limit=2: the first two at or after it')
    h.is_(A.request('AUDIT since=%s user=hst limit=1000000' % t).records,
          [r for r in since if r.get('user') == 'hst'],
          'AUDIT since= user=')
    r = A.request('AUDIT since=2100-01-01T00:00:00Z')
    h.is_((r.final, r.records), ('OK count=0', []),
          'AUDIT since= in the future: none')
    h.err_reply(A.request('AUDIT since=2025-11-26'), 'INVALID',
                'AUDIT since= a date only')
    h.err_reply(A.request('AUDIT limit=0'), 'INVALID', 'AUDIT limit=0')
    h.err_reply(A.request('AUDIT limit=x'), 'INVALID', 'AUDIT limit=x')
    h.err_reply(A.request('AUDIT user="a b"'), 'INVALID',
                'AUDIT user= not a code')
    h.err_reply(A.request('AUDIT party=TR'), 'SYNTAX',
                'AUDIT with an unknown key')
    h.err_reply(H.request('AUDIT'), 'FORBIDDEN', 'host cannot AUDIT')
    h.err_reply(F.request('AUDIT'), 'FORBIDDEN', 'focal cannot AUDIT')
    h.err_reply(N.request('AUDIT'), 'AUTH_REQUIRED', 'AUDIT not logged in')
    # A change shows up at once, with its actor.
    n = pg.audit_count()
    w(H, 'PARTICIPANT SET id=%s title="Adviser on return"' % P['Petar'],
      'one more change')
    last = A.request('AUDIT limit=1').records
    h.ok(len(last) == 1 and last[0].get('command') == 'PARTICIPANT SET' and
         last[0].get('user') == 'hst' and
         last[0].get('target', '').endswith('/participant/%s' % P['Petar']),
         'AUDIT limit=1: the change just made', repr(last))
    h.is_(len(A.request('AUDIT limit=1000000').records), n + 1,
          'AUDIT holds one more record')

# --------------------------------------------------------------------------
with h.section('role rules'):
    pid = P['Petar']
    matrix = [
        ('DELEGATION REGISTER party=FR', ('admin', 'secretariat', 'host')),
        ('DELEGATION SET party=TR note=X', ('admin', 'secretariat', 'host')),
        ('DELEGATION CONFIRM party=TR', ('admin', 'secretariat', 'focal')),
        ('DELEGATION DECLINE party=TR', ('admin', 'secretariat', 'focal')),
        ('PARTICIPANT ERASE id=%s' % pid, ('admin',)),
        ('CHECKIN id=%s' % pid, ('admin', 'secretariat', 'host')),
        ('SESSION CREATE code=X3 kind=panel title=X '
         'starts=2025-11-27T09:00 ends=2025-11-27T10:00',
         ('admin', 'secretariat', 'host')),
        ('SESSION SET session=S1 room=X', ('admin', 'secretariat', 'host')),
        ('SPEAKER ADD session=S1 participant=%s' % pid,
         ('admin', 'secretariat', 'host')),
        ('SPEAKER REMOVE session=S1 participant=%s' % P[SERRA],
         ('admin', 'secretariat', 'host')),
        ('ROSTER session=W1', ('admin', 'secretariat', 'host')),
        ('AUDIT', ('admin', 'secretariat')),
        ('EXPORT what=participants', ('admin', 'secretariat')),
        ('EXPORT what=delegations', ('admin', 'secretariat')),
        ('EXPORT what=speakers', ('admin', 'secretariat')),
        ('EXPORT what=sessions', ('admin', 'secretariat')),
        ('EXPORT what=enrolments', ('admin', 'secretariat')),
        ('EXPORT what=attendance', ('admin', 'secretariat', 'host')),
        ('WATCH', ('admin', 'secretariat', 'host')),
    ]
    for line, allowed in matrix:
        cmd = u.command_of(line)
        for role, conn in ROLES.items():
            if role not in allowed:
                refused(conn, line, 'FORBIDDEN', '%s: %s -> FORBIDDEN'
                        % (line if len(line) < 45 else cmd, role))
        h.err_reply(N.request(line + ' event=E1' if 'AUDIT' not in line
                              else line), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED'
                    % (line if len(line) < 45 else cmd))
    r = H.request('EXPORT what=attendance')
    h.ok(r.ok and r.final.startswith('OK rows='), 'host exports attendance',
         '    got: %r' % r.final)
    for line in ('DELEGATION LIST', 'DELEGATION SHOW party=TR',
                 'PARTICIPANT LIST', 'PARTICIPANT SHOW id=%s' % P['Ayse'],
                 'SESSION LIST', 'SESSION SHOW session=S1', 'SPEAKER LIST',
                 'SPEAKER LIST session=S1'):
        for role, conn in ROLES.items():
            r = conn.request(line)
            h.ok(r.ok and r.fields.get('count') == str(len(r.records)),
                 '%s: %s may read' % (line, role), '    got: %r' % r.final)
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED' % line)
    for line in ('PARTICIPANT ADD party=TR name=X',
                 'PARTICIPANT SET id=%s title=X' % P['Ayse'],
                 'PARTICIPANT CONFIRM id=%s' % P['Ayse'],
                 'PARTICIPANT DECLINE id=%s' % P['Ayse'],
                 'ENROL session=S1 participant=%s' % P['Ayse'],
                 'UNENROL session=S1 participant=%s' % P['Ayse']):
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED'
                    % u.command_of(line))

with h.section('unknown event, party, session, participant'):
    for line, code in (
            ('DELEGATION LIST event=NOPE', 'NOT_FOUND'),
            ('DELEGATION SHOW party=ZZ', 'NOT_FOUND'),
            ('PARTICIPANT LIST event=NOPE', 'NOT_FOUND'),
            ('PARTICIPANT SHOW id=987654', 'NOT_FOUND'),
            ('SESSION LIST event=NOPE', 'NOT_FOUND'),
            ('SESSION SHOW session=ZZZ', 'NOT_FOUND'),
            ('SPEAKER LIST session=ZZZ', 'NOT_FOUND'),
            ('ROSTER session=ZZZ', 'NOT_FOUND'),
            ('ROSTER session=W1 event=NOPE', 'NOT_FOUND'),
            ('EXPORT what=participants event=NOPE', 'NOT_FOUND'),
            ('EXPORT what=participants party=ZZ', 'NOT_FOUND'),
            ('EXPORT what=enrolments session=ZZZ', 'NOT_FOUND'),
            ('DELEGATION LIST status=""', 'INVALID'),
            ('PARTICIPANT SHOW id=-1', 'INVALID'),
            ('SESSION SHOW session=-x', 'INVALID'),
            ('EXPORT what=everything', 'INVALID'),
            ('EXPORT what=participants format=xlsx', 'INVALID'),
            ('EXPORT', 'SYNTAX'),
            ('SESSION SHOW', 'SYNTAX'),
            ('SPEAKER REMOVE session=S1', 'SYNTAX'),
            ('PARTICIPANT LIST bogus=1', 'SYNTAX')):
        h.err_reply(A.request(line), code, '%s -> %s' % (line, code))

h.done_testing()
