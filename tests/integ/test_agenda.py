"""test_agenda.py -- the agenda of an event (PROTOCOL.md section 6,
daemon/cmd-agenda.c): SESSION CREATE, LIST, SHOW and SET (times in the
event's zone, capacity, version= conflicts, idempotent ref=); SPEAKER ADD,
LIST and REMOVE; ENROL and UNENROL with the waiting list and its
promotions; ROSTER; each role's rights and the error code of each refusal.
Every write is checked against roster.audit: one row for a change, none
for a refusal."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, FH, N, S2 = (roles.A, roles.S, roles.H, roles.F, roles.FH,
                         roles.N, roles.S2)
ROLES = roles.by_role

SERRA = 'Serra Albayrakoğlu'
TIMEA = 'Tímea Lehoczki'
JOVAN = 'Јован Петровић'
P = {}          # name -> participant id


def roster(session):
    return [(r.get('participant'), r.get('status'), r.get('position'))
            for r in h.records(A, 'ROSTER session=%s' % session)]


with h.section('set-up: events E1 and E2, delegations, participants'):
    h.event(A, 'E1', title='Regional Conference on Migration')
    h.event(A, 'E2', country='HU', city='Budapest',
            timezone='Europe/Budapest')
    h.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for c in (A, S, H, F, FH):
        h.must(c, 'USE event=E1', event='E1')
    for line in ('DELEGATION REGISTER party=TR',
                 'DELEGATION REGISTER party=HU',
                 'DELEGATION REGISTER party=RS',
                 'DELEGATION REGISTER party=IOM',
                 'DELEGATION REGISTER event=E2 party=TR'):
        h.must(A, line)
    for key, party, line in (
            (SERRA, 'TR', 'name=%s role=head' % h.quote(SERRA)),
            ('Ayse', 'TR', 'name="Ayşe Çelik" role=adviser'),
            ('Kemal', 'TR', 'name="Kemal Yıldız"'),
            (TIMEA, 'HU', 'name=%s role=head' % h.quote(TIMEA)),
            (JOVAN, 'RS', 'name=%s role=head' % h.quote(JOVAN)),
            ('Petar', 'RS', 'name="Petar Nikolić"'),
            ('Maria', 'IOM', 'name="Maria Rossi" role=observer')):
        P[key] = h.must(A, 'PARTICIPANT ADD party=%s %s'
                        % (party, line)).fields['id']
    h.must(A, 'PARTICIPANT DECLINE id=%s' % P['Kemal'])

# --------------------------------------------------------------------------
with h.section('SESSION CREATE / LIST / SHOW / SET'):
    h.write(H, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
            'starts=2025-11-26T09:00 ends=2025-11-26T10:30 room="Hall A" '
            'theme=Opening', 'host creates S1', code='S1', version='1')
    line = ('SESSION CREATE code=W1 kind=working_group '
            'title="Working group on return" starts=2025-11-26T11:00 '
            'ends=2025-11-26T12:30 capacity=2 ref=ses-w1')
    h.write(S, line, 'secretariat creates W1 (capacity 2) with ref=',
            code='W1', version='1')
    r = h.write(S, line, 'the same SESSION CREATE again', changes=0, code='W1',
                version='1', replay='1')
    h.is_(r.final, 'OK code=W1 version=1 replay=1', 'the replay, exactly')
    h.write(A, 'SESSION CREATE code=P1 kind=panel title="Panel on labour '
            'migration" starts=2025-11-26T08:00 ends=2025-11-26T08:45 '
            'capacity=10', 'admin creates P1', code='P1')
    h.refused(S, 'SESSION CREATE code=s1 kind=panel title=Dup '
              'starts=2025-11-27T09:00 ends=2025-11-27T10:00', 'CONFLICT',
              'a second session s1 (codes ignore case)')
    base = ('SESSION CREATE code=X1 kind=panel title=X '
            'starts=2025-11-27T09:00 ends=2025-11-27T10:00')
    h.refused(F, base, 'FORBIDDEN', 'focal cannot CREATE a session')
    h.refused(S, base.replace('kind=panel', 'kind=party'), 'INVALID',
              'SESSION CREATE kind=party')
    h.refused(S, base.replace('T09:00', 'T25:00'), 'INVALID',
              'SESSION CREATE starts= hour 25')
    h.refused(S, base.replace('starts=2025-11-27T09:00', 'starts=2025-11-27'),
              'INVALID', 'SESSION CREATE starts= a date only')
    h.refused(S, base.replace('T10:00', 'T08:00'), 'INVALID',
              'SESSION CREATE ends before starts')
    h.refused(S, base + ' capacity=-1', 'INVALID',
              'SESSION CREATE capacity=-1')
    h.refused(S, base.replace('code=X1', 'code="X 1"'), 'INVALID',
              'SESSION CREATE code= with a space')
    h.refused(S, base.replace(' title=X', ''), 'SYNTAX',
              'SESSION CREATE without title=')
    h.refused(S, base + ' event=NOPE', 'NOT_FOUND',
              'SESSION CREATE in an unknown event')
    h.is_([r.get('code') for r in h.records(F, 'SESSION LIST')],
          ['P1', 'S1', 'W1'], 'SESSION LIST by start time (as focal)')
    h.is_([r.get('code') for r in h.records(S, 'SESSION LIST kind=panel')],
          ['P1'], 'SESSION LIST kind=panel')
    h.err_reply(S.request('SESSION LIST kind=party'), 'INVALID',
                'SESSION LIST kind=party')
    w1 = {'code': 'W1', 'kind': 'working_group',
          'title': 'Working group on return',
          'starts': '2025-11-26T11:00+03:00',
          'ends': '2025-11-26T12:30+03:00', 'capacity': '2',
          'enrolled': '0', 'waitlisted': '0', 'version': '1'}
    h.is_(h.show(H, 'SESSION SHOW session=W1'), w1,
          'SESSION SHOW W1: every field, times in the event\'s zone')
    h.is_(h.show(F, 'SESSION SHOW session=w1'), w1,
          'SESSION SHOW w1 (case), as focal')
    h.err_reply(S.request('SESSION SHOW session=NOPE'), 'NOT_FOUND',
                'SESSION SHOW of an unknown session')
    h.err_reply(S.request('SESSION SHOW'), 'SYNTAX',
                'SESSION SHOW without session=')
    h.write(H, 'SESSION SET session=S1 room="Hall B" version=1', 'SESSION SET '
            'room= version=1', code='S1', version='2')
    h.refused(S, 'SESSION SET session=S1 room="Hall C" version=1', 'CONFLICT',
              'SESSION SET with a stale version=1')
    h.is_(h.show(S, 'SESSION SHOW session=S1').get('room'), 'Hall B',
          'the stale SET changed nothing')
    h.refused(F, 'SESSION SET session=S1 room="Hall C"', 'FORBIDDEN',
              'focal cannot SET a session')
    h.refused(S, 'SESSION SET session=NOPE room=X', 'NOT_FOUND',
              'SESSION SET of an unknown session')
    h.refused(S, 'SESSION SET session=S1 capacity=x', 'INVALID',
              'SESSION SET capacity=x')

with h.section('SPEAKER ADD / LIST / REMOVE'):
    h.write(S, 'SPEAKER ADD session=S1 participant=%s role=chair '
            'topic=Welcome position=1' % P[SERRA],
            'SPEAKER ADD the chair at position 1',
            session='S1', participant=P[SERRA], role='chair', position='1')
    h.write(H, 'SPEAKER ADD session=S1 participant=%s topic="Western Balkans '
            'route"' % P[JOVAN], 'SPEAKER ADD without role= and position=',
            session='S1', participant=P[JOVAN], role='speaker', position='2')
    h.write(A, 'SPEAKER ADD session=S1 participant=%s role=panelist position=5'
            % P[TIMEA], 'SPEAKER ADD at position 5', position='5')
    h.refused(S, 'SPEAKER ADD session=S1 participant=%s' % P[SERRA],
              'CONFLICT', 'SPEAKER ADD of a speaker already there')
    h.refused(S, 'SPEAKER ADD session=S1 participant=%s' % P['Kemal'],
              'CONFLICT', 'SPEAKER ADD of a declined participant')
    h.refused(S, 'SPEAKER ADD session=S1 participant=999999', 'NOT_FOUND',
              'SPEAKER ADD of an unknown participant')
    h.refused(S, 'SPEAKER ADD session=NOPE participant=%s' % P['Ayse'],
              'NOT_FOUND', 'SPEAKER ADD to an unknown session')
    h.refused(S, 'SPEAKER ADD session=S1 participant=%s role=king' % P['Ayse'],
              'INVALID', 'SPEAKER ADD role=king')
    h.refused(S, 'SPEAKER ADD session=S1', 'SYNTAX',
              'SPEAKER ADD without participant=')
    h.refused(F, 'SPEAKER ADD session=S1 participant=%s' % P['Ayse'],
              'FORBIDDEN', 'focal cannot ADD a speaker')
    recs = h.records(S, 'SPEAKER LIST session=S1')
    h.is_(recs, [
        {'session': 'S1', 'participant': P[SERRA], 'name': SERRA,
         'party': 'TR', 'role': 'chair', 'topic': 'Welcome',
         'position': '1'},
        {'session': 'S1', 'participant': P[JOVAN], 'name': JOVAN,
         'party': 'RS', 'role': 'speaker', 'topic': 'Western Balkans route',
         'position': '2', 'latin': 'Jovan Petrovic'},
        {'session': 'S1', 'participant': P[TIMEA], 'name': TIMEA,
         'party': 'HU', 'role': 'panelist', 'position': '5'}],
        'SPEAKER LIST session=S1: the records, by position')
    h.is_(len(h.records(H, 'SPEAKER LIST')), 3, 'SPEAKER LIST (all)')
    h.write(H, 'SPEAKER REMOVE session=S1 participant=%s' % P[JOVAN],
            'SPEAKER REMOVE', session='S1', participant=P[JOVAN])
    h.refused(H, 'SPEAKER REMOVE session=S1 participant=%s' % P[JOVAN],
              'NOT_FOUND', 'SPEAKER REMOVE of someone not speaking')
    h.refused(F, 'SPEAKER REMOVE session=S1 participant=%s' % P[SERRA],
              'FORBIDDEN', 'focal cannot REMOVE a speaker')
    h.is_([r.get('participant') for r in h.records(S, 'SPEAKER LIST '
                                                    'session=S1')],
          [P[SERRA], P[TIMEA]], 'SPEAKER LIST after the REMOVE')

with h.section('ENROL / UNENROL, waiting list, ROSTER'):
    def enrol(conn, who, name, changes=1, **want):
        return h.write(conn, 'ENROL session=W1 participant=%s' % P[who], name,
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
    s = h.show(S, 'SESSION SHOW session=W1')
    h.is_((s.get('enrolled'), s.get('waitlisted')), ('2', '3'),
          'SESSION SHOW: enrolled 2, waitlisted 3')
    recs = h.records(H, 'ROSTER session=W1')
    h.is_(recs, [
        {'participant': P[SERRA], 'name': SERRA, 'party': 'TR',
         'status': 'enrolled'},
        {'participant': P['Ayse'], 'name': 'Ayşe Çelik', 'party': 'TR',
         'status': 'enrolled'},
        {'participant': P[TIMEA], 'name': TIMEA, 'party': 'HU',
         'status': 'waitlisted', 'position': '1'},
        {'participant': P[JOVAN], 'name': JOVAN, 'party': 'RS',
         'status': 'waitlisted', 'position': '2', 'latin': 'Jovan Petrovic'},
        {'participant': P['Maria'], 'name': 'Maria Rossi', 'party': 'IOM',
         'status': 'waitlisted', 'position': '3'}],
        'ROSTER: the enrolled first, then the waiting list in order')
    h.write(S, 'UNENROL session=W1 participant=%s' % P[SERRA], 'UNENROL an '
            'enrolled: the first waiting is promoted', session='W1',
            participant=P[SERRA], promoted=P[TIMEA])
    h.is_(roster('W1'), [(P['Ayse'], 'enrolled', None),
                         (P[TIMEA], 'enrolled', None),
                         (P[JOVAN], 'waitlisted', '1'),
                         (P['Maria'], 'waitlisted', '2')],
          'ROSTER after the promotion: the waiting list moved up')
    r = h.write(S, 'UNENROL session=W1 participant=%s' % P[JOVAN], 'UNENROL '
                'someone waiting', session='W1', participant=P[JOVAN])
    h.ok('promoted' not in r.fields, 'nobody promoted for a waiting one')
    enrol(S, SERRA, 'ENROL again: at the end of the waiting list',
          status='waitlisted', position='2')
    h.is_(roster('W1'), [(P['Ayse'], 'enrolled', None),
                         (P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'waitlisted', '1'),
                         (P[SERRA], 'waitlisted', '2')],
          'ROSTER: positions without gaps')
    h.write(F, 'UNENROL session=W1 participant=%s' % P['Ayse'],
            'focal UNENROLs its own: the first in arrival order is promoted',
            session='W1',
            participant=P['Ayse'])
    h.is_(roster('W1'), [(P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'enrolled', None),
                         (P[SERRA], 'waitlisted', '1')],
          'ROSTER: promoted in arrival order (IOM before TR)')
    h.refused(S, 'UNENROL session=W1 participant=%s' % P[JOVAN], 'NOT_FOUND',
              'UNENROL of someone neither enrolled nor waiting')
    h.refused(S, 'ENROL session=W1 participant=%s' % P['Kemal'], 'CONFLICT',
              'ENROL of a declined participant')
    h.refused(S, 'ENROL session=W1 participant=999999', 'NOT_FOUND',
              'ENROL of an unknown participant')
    h.refused(S, 'ENROL session=NOPE participant=%s' % P[JOVAN], 'NOT_FOUND',
              'ENROL in an unknown session')
    h.refused(S, 'ENROL session=W1 participant=x', 'INVALID',
              'ENROL participant=x')
    r = h.write(S, 'PARTICIPANT ADD event=E2 party=TR name="Only In E2"',
                'a participant of E2', party='TR')
    e2 = r.fields.get('id')
    h.refused(S, 'ENROL session=W1 participant=%s' % e2, 'NOT_FOUND',
              'ENROL of an E2 participant in an E1 session')
    h.refused(S, 'ENROL event=E2 session=W1 participant=%s' % e2, 'NOT_FOUND',
              'ENROL in E2 of a session of E1')
    h.refused(S, 'ENROL participant=%s' % P[JOVAN], 'SYNTAX',
              'ENROL without session=')
    h.refused(S, 'UNENROL session=W1', 'SYNTAX',
              'UNENROL without participant=')
    h.err_reply(F.request('ROSTER session=W1'), 'FORBIDDEN',
                'focal cannot read a ROSTER')
    h.err_reply(S.request('ROSTER session=NOPE'), 'NOT_FOUND',
                'ROSTER of an unknown session')
    h.err_reply(S.request('ROSTER'), 'SYNTAX', 'ROSTER without session=')
    h.write(S, 'SESSION SET session=W1 capacity=3', 'a larger capacity',
            code='W1', version='2')
    h.is_(roster('W1'), [(P[TIMEA], 'enrolled', None),
                         (P['Maria'], 'enrolled', None),
                         (P[SERRA], 'enrolled', None)],
          'a larger capacity moves the waiting list up')
    h.refused(S, 'SESSION SET session=W1 capacity=1', 'CONFLICT',
              'a capacity below the number enrolled')
    enrol(S, 'Ayse', 'ENROL in the full session again',
          status='waitlisted', position='1')
    h.write(S, 'PARTICIPANT DECLINE id=%s' % P[TIMEA], 'declining an enrolled '
            'participant', status='declined')
    h.is_(roster('W1'), [(P['Maria'], 'enrolled', None),
                         (P[SERRA], 'enrolled', None),
                         (P['Ayse'], 'enrolled', None)],
          'the declined left the session; the waiting list moved up')
    h.write(S, 'PARTICIPANT CONFIRM id=%s' % P[TIMEA], 'confirm her again',
            status='confirmed')
    for who in (SERRA, 'Ayse', JOVAN):
        h.write(S, 'ENROL session=S1 participant=%s' % P[who],
                'ENROL in S1 (no capacity)', status='enrolled')

# --------------------------------------------------------------------------
with h.section('role rules'):
    pid = P['Petar']
    for line, allowed in (
            ('SESSION CREATE code=X3 kind=panel title=X '
             'starts=2025-11-27T09:00 ends=2025-11-27T10:00',
             ('admin', 'secretariat', 'host')),
            ('SESSION SET session=S1 room=X',
             ('admin', 'secretariat', 'host')),
            ('SPEAKER ADD session=S1 participant=%s' % pid,
             ('admin', 'secretariat', 'host')),
            ('SPEAKER REMOVE session=S1 participant=%s' % P[SERRA],
             ('admin', 'secretariat', 'host')),
            ('ROSTER session=W1', ('admin', 'secretariat', 'host'))):
        h.only_for(ROLES, N, line, allowed, nobody_line=line + ' event=E1')
    for line in ('SESSION LIST', 'SESSION SHOW session=S1', 'SPEAKER LIST',
                 'SPEAKER LIST session=S1'):
        for role, conn in ROLES.items():
            r = conn.request(line)
            h.ok(r.ok and r.fields.get('count') == str(len(r.records)),
                 '%s: %s may read' % (line, role), '    got: %r' % r.final)
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED' % line)
    for line in ('ENROL session=S1 participant=%s' % P['Ayse'],
                 'UNENROL session=S1 participant=%s' % P['Ayse']):
        h.err_reply(N.request(line + ' event=E1'), 'AUTH_REQUIRED',
                    '%s: not logged in -> AUTH_REQUIRED'
                    % h.command_of(N, line))

with h.section('unknown event, session; invalid values'):
    for line, code in (('SESSION LIST event=NOPE', 'NOT_FOUND'),
                       ('SESSION SHOW session=ZZZ', 'NOT_FOUND'),
                       ('SPEAKER LIST session=ZZZ', 'NOT_FOUND'),
                       ('ROSTER session=ZZZ', 'NOT_FOUND'),
                       ('ROSTER session=W1 event=NOPE', 'NOT_FOUND'),
                       ('SESSION SHOW session=-x', 'INVALID'),
                       ('SESSION SHOW', 'SYNTAX'),
                       ('SPEAKER REMOVE session=S1', 'SYNTAX')):
        h.err_reply(A.request(line), code, '%s -> %s' % (line, code))

h.done_testing()
