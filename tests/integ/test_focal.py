"""test_focal.py -- a focal point's isolation (PROTOCOL.md sections 3-8):
the focal point of one party can neither see nor change another party's
people through any command. LIST shows only their own; SHOW, SET,
CONFIRM, DECLINE, ENROL and UNENROL of another party's participant are
NOT_FOUND with the same answer as for an id that does not exist; naming
another party with party= is FORBIDDEN; EXPORT, WATCH, ROSTER, AUDIT and
CHECKIN are FORBIDDEN; DELEGATION LIST/SHOW only their own. Every byte the
focal points' connections received is kept and searched for the other
parties' names, e-mail addresses, titles and badges."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('ftr', 'focal', 'TR'),
                         ('fhu', 'focal', 'HU')])
A = rd.login('admin')
S = rd.login('sec')

# Personal data of each party; ids and badges filled in below.
PEOPLE = {
    'TR': [('Serra Albayrakoğlu', 'head', 'serra@tr.example',
            'Deputy Director General'),
           ('Kemal Yıldız', 'member', 'kemal@tr.example', 'Counsellor')],
    'HU': [('Tímea Lehoczki', 'head', 'timea@hu.example',
            'Head of Department'),
           ('Zoltán Kovács', 'member', 'zoltan@hu.example', 'Attaché')],
    'RS': [('Јован Петровић', 'head', 'jovan@rs.example',
            'Помоћник министра')],
}
ID = {}         # name -> id
BADGE = {}      # name -> badge
PARTY_OF = {}   # id -> party

with h.section('set-up: event E1 with TR, HU and RS, sessions, speakers'):
    h.event(A, 'E1')
    h.must(A, 'USE event=E1')
    for party, people in PEOPLE.items():
        h.must(A, 'DELEGATION REGISTER party=%s' % party)
        for name, role, email, title in people:
            r = h.must(A, 'PARTICIPANT ADD party=%s name=%s role=%s email=%s '
                       'title=%s ref=ref-%s' % (party, h.quote(name), role,
                                                email, h.quote(title),
                                                email.split('@')[0]))
            ID[name] = r.fields['id']
            BADGE[name] = r.fields['badge']
            PARTY_OF[ID[name]] = party
    SERRA, KEMAL = ID['Serra Albayrakoğlu'], ID['Kemal Yıldız']
    TIMEA, ZOLTAN = ID['Tímea Lehoczki'], ID['Zoltán Kovács']
    JOVAN = ID['Јован Петровић']
    MISSING = str(max(int(i) for i in ID.values()) + 1000)
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title=Opening '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:00')
    h.must(A, 'SESSION CREATE code=S2 kind=panel title=Panel capacity=1 '
           'starts=2025-11-26T11:00 ends=2025-11-26T12:00')
    h.must(A, 'ENROL session=S1 participant=%s' % ZOLTAN)
    h.must(A, 'ENROL session=S1 participant=%s' % JOVAN)
    h.must(A, 'SPEAKER ADD session=S1 participant=%s topic="Hungarian '
           'position"' % TIMEA)
    h.must(A, 'SPEAKER ADD session=S1 participant=%s' % SERRA)
    h.must(A, 'CHECKIN id=%s' % TIMEA)

F = rd.login('ftr', cls=h.RecordingClient, use='E1')
FH = rd.login('fhu', cls=h.RecordingClient, use='E1')


def ids(recs):
    return [r.get('id') for r in recs]


def same_answer(conn, fmt, other, name):
    """The reply for another party's id is the reply for a missing id,
    but for the id itself: NOT_FOUND, indistinguishable."""
    before = env.audit_count()
    r1 = conn.request(fmt % other)
    r2 = conn.request(fmt % MISSING)
    h.err_reply(r1, 'NOT_FOUND', name + ': NOT_FOUND')
    h.is_(r1.final.replace(other, 'N'), r2.final.replace(MISSING, 'N'),
          name + ': the same answer as for a missing id')
    h.is_(env.audit_count(), before, name + ': nothing changed')


def admin_view(pid):
    r = A.request('PARTICIPANT SHOW id=%s' % pid)
    return r.records[0] if r.ok and r.records else {}


with h.section('PARTICIPANT LIST: own party only'):
    r = F.request('PARTICIPANT LIST')
    h.ok_reply(r, 'LIST as focal TR', count='2')
    h.is_(ids(r.records), [SERRA, KEMAL], 'LIST: the two of TR, nobody else')
    h.is_({x.get('party') for x in r.records}, {'TR'}, 'LIST: party TR only')
    h.is_(ids(F.request('PARTICIPANT LIST party=TR').records),
          [SERRA, KEMAL], 'LIST party=TR')
    h.is_(ids(F.request('PARTICIPANT LIST party=tr').records),
          [SERRA, KEMAL], 'LIST party=tr (own party, any case)')
    h.is_(ids(F.request('PARTICIPANT LIST role=head').records), [SERRA],
          'LIST role=head: own head only')
    h.is_(ids(F.request('PARTICIPANT LIST status=registered').records),
          [SERRA, KEMAL], 'LIST status=registered: own only')
    for other in ('HU', 'hu', 'RS'):
        h.err_reply(F.request('PARTICIPANT LIST party=%s' % other),
                    'FORBIDDEN', 'LIST party=%s -> FORBIDDEN' % other)
    h.is_(ids(FH.request('PARTICIPANT LIST').records), [TIMEA, ZOLTAN],
          'LIST as focal HU: the two of HU')
    h.err_reply(FH.request('PARTICIPANT LIST party=TR'), 'FORBIDDEN',
                'focal HU: LIST party=TR -> FORBIDDEN')

with h.section('another party\'s participant is NOT_FOUND'):
    for pid, who in ((TIMEA, 'HU head'), (ZOLTAN, 'HU member'),
                     (JOVAN, 'RS head')):
        same_answer(F, 'PARTICIPANT SHOW id=%s', pid, 'SHOW ' + who)
        same_answer(F, 'PARTICIPANT SHOW id=%s event=E1', pid,
                    'SHOW event=E1 ' + who)
        same_answer(F, 'PARTICIPANT SET id=%s title=Spy', pid, 'SET ' + who)
        same_answer(F, 'PARTICIPANT SET id=%s name="Changed Name" version=1',
                    pid, 'SET name= version= ' + who)
        same_answer(F, 'PARTICIPANT CONFIRM id=%s', pid, 'CONFIRM ' + who)
        same_answer(F, 'PARTICIPANT DECLINE id=%s reason=No', pid,
                    'DECLINE ' + who)
        same_answer(F, 'ENROL session=S2 participant=%s', pid,
                    'ENROL ' + who)
    same_answer(F, 'UNENROL session=S1 participant=%s', ZOLTAN,
                'UNENROL of an enrolled HU member')
    same_answer(F, 'UNENROL session=S1 participant=%s', TIMEA,
                'UNENROL of a HU head not enrolled')
    same_answer(FH, 'PARTICIPANT SHOW id=%s', SERRA, 'focal HU: SHOW of TR')
    same_answer(FH, 'PARTICIPANT CONFIRM id=%s', KEMAL,
                'focal HU: CONFIRM of TR')
    t = admin_view(TIMEA)
    h.is_((t.get('name'), t.get('title'), t.get('status'), t.get('version')),
          ('Tímea Lehoczki', 'Head of Department', 'registered', '1'),
          'the HU head is unchanged')
    z = A.request('ROSTER session=S1').records
    h.is_([x.get('participant') for x in z], [ZOLTAN, JOVAN],
          'the HU member is still enrolled in S1; nobody added')
    h.is_(A.request('ROSTER session=S2').records, [],
          'nobody was enrolled in S2')

with h.section('naming another party: FORBIDDEN'):
    before = env.audit_count()
    for line in ('PARTICIPANT ADD party=HU name="Planted Person"',
                 'PARTICIPANT ADD party=hu name="Planted Person"',
                 'PARTICIPANT ADD party=RS name="Planted Person"',
                 'DELEGATION SHOW party=HU',
                 'DELEGATION CONFIRM party=HU',
                 'DELEGATION DECLINE party=HU reason=No',
                 'DELEGATION SHOW party=RS'):
        h.err_reply(F.request(line), 'FORBIDDEN', line + ' -> FORBIDDEN')
    h.is_(env.audit_count(), before, 'nothing changed')
    h.is_(A.request('PARTICIPANT LIST party=HU').fields.get('count'), '2',
          'HU still has two participants')
    h.is_(A.request('DELEGATION SHOW party=HU').records[0].get('status'),
          'registered', 'the HU delegation is still registered')

with h.section('commands a focal point may not run'):
    before = env.audit_count()
    for line in ('EXPORT what=participants',
                 'EXPORT what=participants party=TR',
                 'EXPORT what=attendance', 'EXPORT what=attendance party=TR',
                 'EXPORT what=delegations', 'EXPORT what=speakers',
                 'EXPORT what=sessions', 'EXPORT what=enrolments', 'WATCH',
                 'WATCH event=E1', 'ROSTER session=S1', 'AUDIT',
                 'AUDIT user=admin', 'CHECKIN id=%s' % SERRA,
                 'CHECKIN badge=%s' % BADGE['Tímea Lehoczki'],
                 'PARTICIPANT ERASE id=%s' % TIMEA,
                 'PARTICIPANT ERASE id=%s' % KEMAL,
                 'DELEGATION REGISTER party=TR', 'DELEGATION SET party=TR '
                 'quota=9', 'DELEGATION SET party=HU quota=0',
                 'SPEAKER ADD session=S2 participant=%s' % SERRA,
                 'SPEAKER REMOVE session=S1 participant=%s' % TIMEA,
                 'SESSION CREATE code=X kind=panel title=X '
                 'starts=2025-11-26T09:00 ends=2025-11-26T10:00',
                 'USER LIST'):
        h.err_reply(F.request(line), 'FORBIDDEN', line + ' -> FORBIDDEN')
    h.is_(env.audit_count(), before, 'nothing changed')
    r = F.request('PING')
    h.is_(r.final, 'OK pong', 'not watching after the refused WATCH')

with h.section('DELEGATION LIST and SHOW: own only'):
    r = F.request('DELEGATION LIST')
    h.is_([x.get('party') for x in r.records], ['TR'],
          'DELEGATION LIST: TR only')
    h.is_(r.final, 'OK count=1', 'DELEGATION LIST count=1')
    h.is_([x.get('party') for x in F.request('DELEGATION LIST '
                                             'kind=country').records],
          ['TR'], 'DELEGATION LIST kind=country: TR only')
    h.is_([x.get('party') for x in F.request('DELEGATION LIST '
                                             'status=registered').records],
          ['TR'], 'DELEGATION LIST status=registered: TR only')
    h.is_(F.request('DELEGATION LIST kind=organisation').records, [],
          'DELEGATION LIST kind=organisation: none')
    r = F.request('DELEGATION SHOW party=TR')
    h.ok(r.ok and len(r.records) == 1 and r.records[0].get('party') == 'TR'
         and r.records[0].get('size') == '2', 'DELEGATION SHOW of its own',
         '    %r' % r.lines)
    h.is_([x.get('party') for x in FH.request('DELEGATION LIST').records],
          ['HU'], 'focal HU: DELEGATION LIST: HU only')

with h.section('what a focal point may do with its own people'):
    h.write(F, 'PARTICIPANT SET id=%s title=Minister-Counsellor' % KEMAL,
            'SET own participant', id=KEMAL, version='2')
    h.write(F, 'PARTICIPANT CONFIRM id=%s' % KEMAL, 'CONFIRM own',
            status='confirmed')
    h.write(F, 'ENROL session=S2 participant=%s' % SERRA, 'ENROL own',
            status='enrolled')
    h.write(A, 'ENROL session=S2 participant=%s' % TIMEA, 'admin ENROLs '
            'HU in the full S2', status='waitlisted', position='1')
    r = h.write(F, 'UNENROL session=S2 participant=%s' % SERRA,
                'UNENROL own: the HU participant is promoted', session='S2',
                participant=SERRA)
    h.ok(TIMEA not in r.fields.values(),
         'the UNENROL reply does not name the promoted HU participant',
         '    got: %r' % r.final)
    h.is_([x.get('participant') for x in A.request('ROSTER '
                                                   'session=S2').records],
          [TIMEA], 'the HU participant was promoted all the same')
    r = h.write(F, 'PARTICIPANT ADD party=TR name="Ayşe Çelik"',
                'ADD to own party', party='TR')
    AYSE = r.fields.get('id')
    r = F.request('PARTICIPANT ADD party=TR name="Ayşe Çelik" ref=ref-timea')
    h.ok_reply(r, 'ADD with the ref= of a HU participant\'s ADD: refs are '
               'scoped to the party, so a TR participant is added',
               party='TR')
    AYSE2 = r.fields.get('id')
    h.ok('replay' not in r.fields and AYSE2 != TIMEA and
         BADGE['Tímea Lehoczki'] not in r.final,
         'not their reply: neither the HU id nor the HU badge',
         '    got: %r' % r.final)
    recs = F.request('SPEAKER LIST session=S1').records
    h.is_(len(recs), 2, 'SPEAKER LIST: the agenda has both speakers')
    hu = [x for x in recs if x.get('party') == 'HU']
    tr = [x for x in recs if x.get('party') == 'TR']
    h.ok(len(hu) == 1 and 'name' not in hu[0] and 'participant' not in hu[0],
         'SPEAKER LIST: no name or id of the HU speaker', '    %r' % hu)
    h.ok(len(tr) == 1 and tr[0].get('name') == 'Serra Albayrakoğlu' and
         tr[0].get('participant') == SERRA,
         'SPEAKER LIST: name and id of its own speaker', '    %r' % tr)
    for line in ('SESSION LIST', 'SESSION SHOW session=S1', 'EVENT SHOW',
                 'PARTY SHOW party=HU', 'WHOAMI', 'HELP'):
        h.ok(F.request(line).ok, line + ' is allowed')
    h.is_(ids(F.request('PARTICIPANT LIST').records),
          [SERRA, AYSE, AYSE2, KEMAL], 'LIST: still TR only')

with h.section('the bytes sent to the focal points'):
    raw_tr = bytes(F.raw)
    raw_hu = bytes(FH.raw)

    def personal(party):
        out = []
        for name, role, email, title in PEOPLE[party]:
            out += [name, email, title, BADGE[name]]
        return out

    h.is_([s for s in personal('TR') if s.encode() not in raw_tr], [],
          'focal TR did receive its own people\'s names, e-mail addresses, '
          'titles and badges (the search below can find them)')
    leaks = [s for p in ('HU', 'RS') for s in personal(p)
             if s.encode() in raw_tr]
    h.is_(leaks, [], 'focal TR received no name, e-mail, title or badge of '
          'HU or RS')
    lower = raw_tr.decode('utf-8').lower()
    h.is_([s for s in ('tímea', 'lehoczki', 'zoltán', 'kovács', 'петровић')
           if s in lower], [], 'not even parts of their names, in any case')
    leaks = [s for p in ('TR', 'RS') for s in personal(p)
             if s.encode() in raw_hu]
    h.is_(leaks, [], 'focal HU received no name, e-mail, title or badge of '
          'TR or RS')
    h.ok('Tímea Lehoczki'.encode() in raw_hu, 'focal HU did receive its own '
         'names')

h.done_testing()
