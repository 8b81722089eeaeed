"""test_concurrency.py -- PROTOCOL.md section 5 under concurrent clients:
16 clients, each on its own TLS connection in its own thread, started
together, race for the last places of a session (exactly `capacity`
enrolled, the rest waitlisted with positions 1..n, no gap, no duplicate),
for the last places of a delegation's quota (exactly `quota`
participants, the rest QUOTA), register while a quota is set (none past
it) and for the one head of a delegation, send
the same ref= at once (one created, the rest replays of it), check in one
participant at once (one time, the rest already=1 with that time), and mix
ENROL and UNENROL while another client watches the ROSTER (capacity never
exceeded)."""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NCLIENTS = 16

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None)])
pg = env.pg
A = rd.login('admin')

with h.section('set-up: event, delegations, %d client connections'
               % NCLIENTS):
    h.event(A, 'E1')
    h.must(A, 'USE event=E1')
    for line in ('DELEGATION REGISTER party=TR',
                 'DELEGATION REGISTER party=HU quota=10',
                 'DELEGATION REGISTER party=RS',
                 'DELEGATION REGISTER party=DE'):
        h.must(A, line)
    # Clients log in with client certificates (no password hashing), half
    # as secretariat, half as host.
    C = [rd.cert_login('sec' if i % 2 == 0 else 'hst', use='E1')
         for i in range(NCLIENTS)]
    h.is_(len(C), NCLIENTS, '%d connections logged in' % NCLIENTS)


def add_people(party, n, prefix):
    """n participants of party, added in one pipeline; their ids."""
    replies = A.pipeline(['PARTICIPANT ADD party=%s name="%s %03d"'
                          % (party, prefix, i) for i in range(n)])
    bad = [r.final for r in replies if not r.ok]
    if bad:
        raise h.SetupError('PARTICIPANT ADD: %s' % bad[:3])
    return [r.fields['id'] for r in replies]


def roster(session):
    r = A.request('ROSTER session=%s' % session)
    if not r.ok:
        raise h.SetupError('ROSTER %s: %s' % (session, r.final))
    return r.records


def gapless(positions):
    return sorted(positions) == list(range(1, len(positions) + 1))


# --------------------------------------------------------------------------
with h.section('the last places of a session'):
    CAP, PRE, EACH = 20, 12, 3
    h.must(A, 'SESSION CREATE code=CAP kind=panel title="Full house" '
           'starts=2025-11-26T10:00 ends=2025-11-26T11:00 capacity=%d' % CAP)
    people = add_people('TR', PRE + NCLIENTS * EACH, 'Cap')
    for pid in people[:PRE]:
        h.must(A, 'ENROL session=CAP participant=%s' % pid,
               status='enrolled')
    racers = people[PRE:]
    audit0 = env.audit_count()

    def enrol_three(i):
        out = []
        for pid in racers[i * EACH:(i + 1) * EACH]:
            r = C[i].request('ENROL session=CAP participant=%s' % pid)
            out.append((pid, r))
        return out

    got = [x for res in h.race(NCLIENTS, enrol_three) for x in res]
    bad = [(pid, r.final) for pid, r in got if not r.ok]
    h.is_(bad, [], 'every ENROL answered OK')
    enrolled = [pid for pid, r in got if r.fields.get('status') == 'enrolled']
    waiting = {pid: r.fields.get('position') for pid, r in got
               if r.fields.get('status') == 'waitlisted'}
    h.is_(len(enrolled), CAP - PRE, 'exactly the %d last places were taken'
          % (CAP - PRE))
    h.is_(len(waiting), len(racers) - (CAP - PRE), 'the other %d were '
          'waitlisted' % (len(racers) - (CAP - PRE)))
    h.ok(all('position' not in r.fields for pid, r in got
             if pid in enrolled), 'no position= for the enrolled')
    positions = [int(p) for p in waiting.values() if p and p.isdigit()]
    h.ok(len(positions) == len(waiting) and gapless(positions),
         'the waitlisted got positions 1..%d, no gap, no duplicate'
         % len(waiting), '    %r' % sorted(positions))
    h.ok(all('already' not in r.fields for pid, r in got), 'no already=')
    recs = roster('CAP')
    h.is_(len(recs), CAP + len(waiting), 'ROSTER: %d records' %
          (CAP + len(waiting)))
    h.is_([r.get('status') for r in recs],
          ['enrolled'] * CAP + ['waitlisted'] * len(waiting),
          'ROSTER: %d enrolled, then the waiting list' % CAP)
    h.is_(sorted(r.get('participant') for r in recs[:CAP]),
          sorted(people[:PRE] + enrolled),
          'ROSTER: the enrolled are the first %d and the race\'s winners'
          % PRE)
    h.is_({r.get('participant'): r.get('position') for r in recs[CAP:]},
          waiting, 'ROSTER: each waiting participant at the position its '
          'ENROL answered')
    h.is_([r.get('position') for r in recs[CAP:]],
          [str(i) for i in range(1, len(waiting) + 1)],
          'ROSTER: the waiting list in order 1..n')
    h.is_(len({r.get('participant') for r in recs}), len(recs),
          'ROSTER: nobody twice')
    s = A.request('SESSION SHOW session=CAP').records
    h.is_((s[0].get('enrolled'), s[0].get('waitlisted')) if s else None,
          (str(CAP), str(len(waiting))), 'SESSION SHOW: the same counts')
    h.is_(env.audit_count() - audit0, len(racers), 'one audit row per ENROL')

    # Free places are taken from the waiting list in order, under a race
    # of UNENROLs too.
    leavers = people[:PRE][:NCLIENTS // 2]
    first = [r.get('participant') for r in recs[CAP:CAP + len(leavers)]]
    got = h.race(len(leavers), lambda i: C[i].request(
        'UNENROL session=CAP participant=%s' % leavers[i]))
    h.is_([r.final.split()[0] for r in got], ['OK'] * len(leavers),
          '%d UNENROLs at once all OK' % len(leavers))
    h.is_(sorted(r.fields.get('promoted') for r in got), sorted(first),
          'each promoted one of the first %d waiting, each once'
          % len(leavers))
    recs2 = roster('CAP')
    h.is_(sum(r.get('status') == 'enrolled' for r in recs2), CAP,
          'still exactly %d enrolled' % CAP)
    h.is_([r.get('participant') for r in recs2[CAP:]],
          [r.get('participant') for r in recs[CAP + len(leavers):]],
          'the rest of the waiting list moved up in order')
    h.ok(gapless([int(r.get('position')) for r in recs2[CAP:]]),
         'positions 1..n again')

# --------------------------------------------------------------------------
with h.section('the last places of a delegation\'s quota'):
    QUOTA, PRE, EACH = 10, 4, 2
    add_people('HU', PRE, 'Quota')
    audit0 = env.audit_count()

    def add_two(i):
        return [C[i].request('PARTICIPANT ADD party=HU name="Racer %02d-%d"'
                             % (i, k)) for k in range(EACH)]

    got = [r for res in h.race(NCLIENTS, add_two) for r in res]
    oks = [r for r in got if r.ok]
    h.is_(len(oks), QUOTA - PRE, 'exactly %d ADDs succeeded'
          % (QUOTA - PRE))
    h.is_(sorted({r.code for r in got if not r.ok}), ['QUOTA'],
          'every other ADD was QUOTA')
    h.is_(len(got) - len(oks), NCLIENTS * EACH - (QUOTA - PRE),
          '%d QUOTA answers' % (NCLIENTS * EACH - (QUOTA - PRE)))
    h.is_(len({r.fields.get('id') for r in oks}), len(oks),
          'the ADDs answered distinct ids')
    d = A.request('DELEGATION SHOW party=HU').records
    h.is_((d[0].get('quota'), d[0].get('size')) if d else None,
          (str(QUOTA), str(QUOTA)), 'DELEGATION SHOW: size = quota = %d'
          % QUOTA)
    h.is_(A.request('PARTICIPANT LIST party=HU').fields.get('count'),
          str(QUOTA), 'PARTICIPANT LIST party=HU: %d' % QUOTA)
    h.is_(env.audit_count() - audit0, QUOTA - PRE,
          'one audit row per participant added, none for QUOTA')

with h.section('a quota set while registrations stream in'):
    # TR has no quota: its registrations share the delegation's lock
    # (participant_add's usual path). A quota set meanwhile must hold for
    # every registration that commits after it: those that meet it are
    # counted under the delegation's lock, not added past it.
    EACH, quota = 20, {}
    planned = (int(A.request('DELEGATION SHOW party=TR').records[0]
                   .get('size')) + NCLIENTS * EACH)

    def stream(i):
        got = []
        for k in range(EACH):
            got.append(C[i].request('PARTICIPANT ADD party=TR '
                                    'name="Stream %02d-%02d"' % (i, k)))
            if i == 0 and k == 2:
                for _ in range(10):
                    size = int(C[0].request('DELEGATION SHOW party=TR')
                               .records[0].get('size'))
                    # room for half of what is still to come (at least
                    # the rest of this client's own): some of it then
                    # meets the quota however fast the others are
                    room = max((planned - size) // 2, 1)
                    r = C[0].request('DELEGATION SET party=TR quota=%d'
                                     % (size + room))
                    quota['last'] = r.final
                    if r.ok:
                        quota['q'] = size + room
                        break
        return got

    got = [r for res in h.race(NCLIENTS, stream) for r in res]
    h.ok('q' in quota, 'the quota was set while the others registered',
         '    %s' % quota.get('last'))
    d = A.request('DELEGATION SHOW party=TR').records[0]
    h.is_(d.get('size'), str(quota.get('q')),
          'TR holds exactly its quota (%s), none past it' % quota.get('q'))
    h.is_(sorted({r.code for r in got if not r.ok}), ['QUOTA'],
          'every refused ADD was QUOTA')
    h.must(A, 'DELEGATION SET party=TR quota=""')

with h.section('one head: a race of heads'):
    got = h.race(NCLIENTS, lambda i: C[i].request(
        'PARTICIPANT ADD party=RS name="Head %02d" role=head' % i))
    h.is_(sum(r.ok for r in got), 1, 'exactly one head was added')
    h.is_(sorted({r.code for r in got if not r.ok}), ['CONFLICT'],
          'the others: CONFLICT')
    h.is_(A.request('PARTICIPANT LIST party=RS role=head').fields.get(
        'count'), '1', 'RS has one head')

# --------------------------------------------------------------------------
with h.section('the same ref= from %d clients at once' % NCLIENTS):
    for k in range(3):
        audit0 = env.audit_count()
        line = ('PARTICIPANT ADD party=DE name="Ref Race %d" role=member '
                'ref=race-%d' % (k, k))
        got = h.race(NCLIENTS, lambda i: C[i].request(line))
        h.is_([r.kind for r in got], ['OK'] * NCLIENTS,
              'round %d: every client answered OK' % k)
        firsts = [r for r in got if 'replay' not in r.fields]
        replays = [r for r in got if r.fields.get('replay') == '1']
        h.is_((len(firsts), len(replays)), (1, NCLIENTS - 1),
              'round %d: one created, %d replays' % (k, NCLIENTS - 1))
        h.is_(len({(r.fields.get('id'), r.fields.get('badge'),
                    r.fields.get('version')) for r in got}), 1,
              'round %d: all with the same id, badge and version' % k)
        if firsts:
            h.is_(sorted({r.final for r in replays}),
                  [firsts[0].final + ' replay=1'],
                  'round %d: each replay is the first reply + replay=1' % k)
        names = [r.get('name') for r in A.request(
            'PARTICIPANT LIST party=DE').records]
        h.is_(names.count('Ref Race %d' % k), 1,
              'round %d: one participant added' % k)
        h.is_(env.audit_count() - audit0, 1, 'round %d: one audit row' % k)
    line = ('SESSION CREATE code=REF kind=side_event title="Side event" '
            'starts=2025-11-27T18:00 ends=2025-11-27T19:00 ref=race-session')
    got = h.race(NCLIENTS, lambda i: C[i].request(line))
    h.is_(sorted(r.final for r in got),
          ['OK code=REF version=1'] +
          ['OK code=REF version=1 replay=1'] * (NCLIENTS - 1),
          'SESSION CREATE: one created, %d replays' % (NCLIENTS - 1))
    line = 'DELEGATION REGISTER party=FR quota=3 ref=race-fr'
    got = h.race(NCLIENTS, lambda i: C[i].request(line))
    h.is_(sum(r.ok and 'replay' not in r.fields for r in got), 1,
          'DELEGATION REGISTER: one created')
    h.is_(sum(r.fields.get('replay') == '1' for r in got), NCLIENTS - 1,
          'DELEGATION REGISTER: %d replays' % (NCLIENTS - 1))
    h.is_(len({r.fields.get('id') for r in got}), 1,
          'DELEGATION REGISTER: the same id for all')

# --------------------------------------------------------------------------
with h.section('CHECKIN of one participant from %d clients at once'
               % NCLIENTS):
    who = add_people('TR', 2, 'Checkin')
    badge = A.request('PARTICIPANT SHOW id=%s' % who[1]).records[0]['badge']
    for label, pid, session in (('event', who[0], None),
                                ('session', who[0], 'CAP'),
                                ('event, half by badge', who[1], None)):
        audit0 = env.audit_count()

        def checkin(i, pid=pid, session=session):
            key = ('badge=%s' % badge if pid == who[1] and i % 2
                   else 'id=%s' % pid)
            return C[i].request('CHECKIN %s%s' % (
                key, ' session=' + session if session else ''))

        got = h.race(NCLIENTS, checkin)
        h.is_([r.kind for r in got], ['OK'] * NCLIENTS,
              '%s: every CHECKIN answered OK' % label)
        h.is_(sum('already' not in r.fields for r in got), 1,
              '%s: one check-in without already=' % label)
        h.is_(sum(r.fields.get('already') == '1' for r in got),
              NCLIENTS - 1, '%s: %d with already=1' % (label, NCLIENTS - 1))
        times = {r.fields.get('checked_in') for r in got}
        h.ok(len(times) == 1 and h.TIMESTAMP_RE.match(times.pop() or ''),
             '%s: all with the same checked_in time' % label,
             '    %r' % {r.fields.get('checked_in') for r in got})
        h.is_({r.fields.get('id') for r in got}, {pid},
              '%s: all for the same participant' % label)
        h.is_(env.audit_count() - audit0, 1, '%s: one audit row' % label)
    h.is_(pg.scalar('SELECT count(*) FROM roster.checkin WHERE '
                    'participant_id IN (%s, %s)' % tuple(who)), '3',
          'three check-in rows in all')

# --------------------------------------------------------------------------
with h.section('ENROL and UNENROL racing'):
    CAP, PER, ROUNDS = 5, 2, 15
    h.must(A, 'SESSION CREATE code=MIX kind=working_group title=Mix '
           'starts=2025-11-26T14:00 ends=2025-11-26T15:00 capacity=%d' % CAP)
    people = add_people('TR', NCLIENTS * PER, 'Mix')
    mine = [people[i * PER:(i + 1) * PER] for i in range(NCLIENTS)]
    state = [dict.fromkeys(m, False) for m in mine]   # in the session?
    stop = threading.Event()
    seen = {'max_enrolled': 0, 'bad': [], 'looks': 0}
    W = rd.cert_login('sec', use='E1')

    def watch_roster():
        while not stop.is_set():
            r = W.request('ROSTER session=MIX')
            if not r.ok:
                seen['bad'].append(r.final)
                continue
            st = [x.get('status') for x in r.records]
            n = st.count('enrolled')
            seen['looks'] += 1
            seen['max_enrolled'] = max(seen['max_enrolled'], n)
            pos = [int(x.get('position', 0)) for x in r.records
                   if x.get('status') == 'waitlisted']
            if (n > CAP or not gapless(pos) or
                    st != sorted(st, key=lambda s: s != 'enrolled') or
                    (pos and n < CAP)):
                seen['bad'].append([(x.get('participant'), x.get('status'),
                                     x.get('position')) for x in r.records])

    monitor = threading.Thread(target=watch_roster, daemon=True)
    monitor.start()

    def mix(i):
        rnd = random.Random(1000 + i)
        errors = []
        for _ in range(ROUNDS):
            pid = rnd.choice(mine[i])
            if state[i][pid]:
                r = C[i].request('UNENROL session=MIX participant=%s' % pid)
                if r.ok:
                    state[i][pid] = False
            else:
                r = C[i].request('ENROL session=MIX participant=%s' % pid)
                if r.ok and r.fields.get('status') in ('enrolled',
                                                       'waitlisted'):
                    state[i][pid] = True
                    if 'already' in r.fields:
                        errors.append('already= for a new ENROL: ' + r.final)
            if not r.ok:
                errors.append(r.final)
        return errors

    try:
        errors = [e for res in h.race(NCLIENTS, mix) for e in res]
    finally:
        time.sleep(0.2)
        stop.set()
        monitor.join(30)
    h.is_(errors, [], 'every ENROL and UNENROL answered OK as expected')
    h.ok(seen['looks'] > 0, 'the ROSTER was read %d times during the race'
         % seen['looks'])
    h.cmp_ok(seen['max_enrolled'], '<=', CAP,
             'the ROSTER never showed more than %d enrolled' % CAP)
    h.is_(seen['bad'][:3], [], 'every ROSTER seen: capacity held, enrolled '
          'first, positions 1..n, no free place while someone waits')
    recs = roster('MIX')
    st = [r.get('status') for r in recs]
    n = st.count('enrolled')
    h.cmp_ok(n, '<=', CAP, 'after: at most %d enrolled' % CAP)
    expect_in = sorted(p for s in state for p, v in s.items() if v)
    h.is_(sorted(r.get('participant') for r in recs), expect_in,
          'after: the ROSTER holds exactly those each client left in')
    h.is_(n, min(CAP, len(expect_in)), 'after: no free place while '
          'someone waits')
    h.ok(gapless([int(r.get('position', 0)) for r in recs
                  if r.get('status') == 'waitlisted']),
         'after: positions 1..n')
    h.is_(pg.scalar("SELECT count(*) FROM roster.enrolment n JOIN "
                    "roster.session s ON s.id = n.session_id WHERE "
                    "s.code = 'MIX' AND n.status = 'enrolled'"), str(n),
          'the database agrees')

for c in C:
    c.close()
h.done_testing()
