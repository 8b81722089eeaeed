"""test_read_groups.py -- reads that wait together go to PostgreSQL in one
segment (issue 11, daemon/db.c: several statements, one Sync), and each
is still answered as if alone: its own record or its own error, in each
client's order; a read that PostgreSQL skipped after another's failure in
the segment is sent again, unseen. Only functions that only read are
marked to share a segment: each is STABLE.

The pool has one connection (db_connections = 1); a registration that
sleeps in a trigger holds it, so that the reads sent meanwhile by
several clients wait together and go as one segment once it is done. A
read is answered once its result is in, not held to the segment's end;
and when the connection is lost in the middle of a segment (a second
rosterd, with two connections, so that the other serves), its reads
fail and their clients' next requests still run."""

import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('fhu', 'focal', 'HU')], db_connections=1,
                  log_level='debug')
pg = env.pg
A = rd.login('admin')
h.event(A, 'E1')
h.event(A, 'E2')
for p in ('TR', 'HU'):
    h.must(A, 'DELEGATION REGISTER event=E1 party=%s' % p)
h.must(A, 'DELEGATION REGISTER event=E2 party=DE')

ids = {}
for i in range(24):
    party = ('TR', 'HU')[i % 2]
    r = h.must(A, 'PARTICIPANT ADD event=E1 party=%s name=%s'
               % (party, h.quote('Reader %d' % i)))
    ids[i] = (r.fields['id'], party)
other = h.must(A, 'PARTICIPANT ADD event=E2 party=DE name="Other Event"')
other_id = other.fields['id']

pg.query("""CREATE FUNCTION public.slow_first() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.name LIKE 'Slow First%' THEN
            PERFORM pg_sleep(1);
        END IF;
        RETURN NULL;
    END $$""")
pg.query("CREATE TRIGGER slow_first AFTER INSERT ON roster.participant "
         "FOR EACH ROW EXECUTE FUNCTION public.slow_first()")

clients = [rd.login('admin') for _ in range(8)]
focal = rd.login('fhu')
slow_n = 0


def count(sql):
    return int(pg.scalar(sql))


def segments():
    """Sizes of the read segments the daemon logged so far, and how many
    times it sent skipped reads again."""
    sizes, again = [], 0
    for line in rd.log().splitlines():
        m = re.search(r'(\d+) reads in one segment', line)
        if m:
            sizes.append(int(m.group(1)))
        if 'reads skipped, sent again' in line:
            again += 1
    return sizes, again


def calls():
    """(reads, statements) of each read segment logged so far, and how
    many reads of a carrier found no row and were sent again."""
    segs, norow = [], 0
    for line in rd.log().splitlines():
        m = re.search(r'(\d+) reads in one segment, (\d+) statements', line)
        if m:
            segs.append((int(m.group(1)), int(m.group(2))))
        m = re.search(r'(\d+) reads without a row sent again', line)
        if m:
            norow += int(m.group(1))
    return segs, norow


def hold():
    """A slow registration (the last client's) that holds the pool's one
    connection for a second, once it sleeps in its trigger; returns the
    client, whose reply is to be read."""
    global slow_n
    slow_n += 1
    S = clients[-1]
    S.send('PARTICIPANT ADD event=E1 party=TR name=%s'
           % h.quote('Slow First %d' % slow_n))
    h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
        "'PgSleep'") == 1, 20)
    return S


def together(sends):
    """sends: (connection, [lines]). A slow registration holds the pool's
    one connection while each connection sends its lines; then every
    reply is read, by connection."""
    S = hold()
    for c, lines in sends:
        for line in lines:
            c.send(line)
    h.ok(S.read_reply(30).ok, 'the slow registration is answered OK')
    return [[c.read_reply(30) for _ in lines] for c, lines in sends]


def answer(r):
    """What a reply says: the name shown, or the error code."""
    if not r.ok:
        return r.code
    return r.records[0]['name'] if r.records else 'no record'


def show(i):
    return 'PARTICIPANT SHOW id=%s' % ids[i][0]


with h.section('reads of different clients share a segment, each its own '
               'answer'):
    before, again0 = segments()
    sends = [(clients[k], [show(k), show(k + 8)]) for k in range(7)]
    got = together(sends)
    h.is_([[answer(r) for r in rs] for rs in got],
          [['Reader %d' % k, 'Reader %d' % (k + 8)] for k in range(7)],
          'each client has its own records, in its order')
    after, again1 = segments()
    h.ok(any(n >= 7 for n in after[len(before):]),
         'the reads waiting together went in one segment',
         after[len(before):])
    h.is_(again1, again0, 'none failed, so none was sent again')

with h.section('a read that fails in a segment fails alone; those skipped '
               'after it are sent again'):
    before, again0 = segments()
    # focal point of HU: a TR participant is not theirs; 999999 is no one;
    # a participant of E2 is not in E1
    sends = [
        (clients[0], [show(0)]),
        (clients[1], ['PARTICIPANT SHOW id=999999']),
        (clients[2], [show(2)]),
        (focal, [show(4), show(1)]),
        (clients[3], ['PARTICIPANT SHOW id=%s event=E1' % other_id]),
        (clients[4], [show(6), 'PARTICIPANT SHOW id=0', show(7)]),
        (clients[5], ['PARTICIPANT SHOW id=%s event=E2' % other_id]),
    ]
    got = together(sends)
    want_focal_tr = answer(focal.request(show(4)))
    h.ok(want_focal_tr != 'Reader 4',
         "a focal point does not see another party's participant",
         want_focal_tr)
    h.is_([[answer(r) for r in rs] for rs in got], [
        ['Reader 0'],
        ['NOT_FOUND'],
        ['Reader 2'],
        [want_focal_tr, 'Reader 1'],
        ['NOT_FOUND'],
        ['Reader 6', 'INVALID', 'Reader 7'],
        ['Other Event'],
    ], 'each read has the answer it has alone, in its client\'s order')
    after, again1 = segments()
    h.ok(any(n >= 8 for n in after[len(before):]),
         'the reads went in one segment', after[len(before):])
    h.ok(again1 > again0, 'the reads skipped after a failure were sent again')

with h.section('the SHOWs of clients that wait together go as one call; '
               'each has the answer it has alone'):
    segs0, norow0 = calls()
    sends = [
        (clients[0], [show(0)]),
        (clients[1], ['PARTICIPANT SHOW id=999999']),
        (clients[2], [show(2)]),
        (focal, [show(4)]),
        (clients[3], ['PARTICIPANT SHOW id=%s event=E1' % other_id]),
        (clients[4], [show(5)]),
        (clients[5], ['PARTICIPANT SHOW id=%s event=E2' % other_id]),
        (clients[6], [show(7)]),
    ]
    got = together(sends)
    alone = [[answer(c.request(line)) for line in lines]
             for c, lines in sends]
    h.is_([[answer(r) for r in rs] for rs in got], alone,
          'each SHOW has the answer it has alone')
    h.is_(alone, [['Reader 0'], ['NOT_FOUND'], ['Reader 2'], [alone[3][0]],
                  ['NOT_FOUND'], ['Reader 5'], ['Other Event'],
                  ['Reader 7']], 'found, not found, not in the event')
    h.ok(alone[3][0] != 'Reader 4', "a focal point does not see another "
         "party's participant in a call of many", alone[3])
    h.is_(got[3][0].records, [], 'nor any record of it')
    segs1, norow1 = calls()
    h.ok(any(n >= 8 and k == 1 for n, k in segs1[len(segs0):]),
         'the eight went as one statement', segs1[len(segs0):])
    h.is_(norow1 - norow0, 3, 'the three without a row were sent again')

with h.section("one client's pipelined reads, failures among them, keep "
               'their order'):
    lines, want = [], []
    for i in range(40):
        if i % 9 == 4:
            lines.append('PARTICIPANT SHOW id=%d' % (900000 + i))
            want.append('NOT_FOUND')
        elif i % 13 == 6:
            lines.append('PARTICIPANT SET id=%s title=%s'
                         % (ids[i % 24][0], h.quote('Title %d' % i)))
            want.append('SET')
        else:
            lines.append(show(i % 24))
            want.append('Reader %d' % (i % 24))
    got = [answer(r) if not l.startswith('PARTICIPANT SET') or not r.ok
           else 'SET' for l, r in zip(lines, A.pipeline(lines, timeout=60))]
    h.is_(got, want, 'every read and write answered in order')
    t = h.show(A, show(8))
    h.is_(t.get('title'), 'Title 32', 'the last write of a record is kept')

def lock_sessions():
    """A psql session that holds roster.session locked (SESSION LIST then
    waits for it) until COMMIT is written to it."""
    lock = pg.session()
    lock.stdin.write('BEGIN;\nLOCK TABLE roster.session IN ACCESS '
                     'EXCLUSIVE MODE;\n')
    lock.stdin.flush()
    h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_locks WHERE granted AND mode = "
        "'AccessExclusiveLock' AND relation = 'roster.session'::regclass")
        == 1, 20)
    return lock


def waiting_on_lock():
    return count("SELECT count(*) FROM pg_stat_activity WHERE "
                 "wait_event_type = 'Lock' AND query LIKE '%session_list%'")


def reply_within(c, seconds):
    try:
        return c.read_reply(seconds)
    except OSError:
        return None


with h.section('a read of a segment is answered once its result is in, '
               'not held to the end of the segment'):
    # PostgreSQL sends what a segment's statements return as its output
    # buffer fills (and all of it at the Sync): a LIST of E2's 300 is
    # complete at rosterd once the next LIST's rows follow it, while the
    # third read of the segment still waits for a lock
    pg.query("""INSERT INTO roster.participant (delegation_id, name, email,
            badge)
        SELECT d.id, 'Listed ' || g, 'listed' || g || '@example.org',
            'ZZ' || translate(lpad(to_hex(g), 8, '0'), '0123456789abcdef',
                              'ABCDEFGHIJKLMNOP')
        FROM generate_series(1, 300) g,
             (SELECT d.id FROM roster.delegation d
              JOIN roster.event e ON e.id = d.event_id
              WHERE e.code = 'E2') d""")
    lock = lock_sessions()
    before, _ = segments()
    S = hold()
    for k, line in enumerate(['PARTICIPANT LIST event=E2',
                              'PARTICIPANT LIST event=E2',
                              'SESSION LIST event=E1']):
        clients[k].send(line)
        time.sleep(0.2)
    h.ok(S.read_reply(30).ok, 'the slow registration is answered OK')
    r = reply_within(clients[0], 15)
    h.is_(len(r.records) if r is not None else 'no reply while the third '
          'read waits', 301, 'the first read of the segment is answered')
    h.is_(waiting_on_lock(), 1, 'while the third still waits for its lock')
    after, _ = segments()
    h.ok(3 in after[len(before):], 'the three went in one segment',
         after[len(before):])
    lock.stdin.write('COMMIT;\n')
    lock.stdin.flush()
    r = reply_within(clients[1], 30)
    h.is_(len(r.records) if r is not None else 'no reply', 301,
          'the second is answered')
    r = reply_within(clients[2], 30)
    h.ok(r is not None and r.ok, 'the third is answered once the lock is '
         'released', r)

with h.section('reads sent again never run inside a batch begun behind '
               'their segment'):
    # a carrier of SHOWs (two find no row) and a SESSION LIST that waits
    # for a lock go as one segment; two registrations arrive meanwhile and
    # go, as a batch (BEGIN ... COMMIT), behind it on the same connection
    # (db_connections = 1).
    # The SHOWs without a row run again, raising their errors: inside that
    # transaction they would abort it, and its COMMIT would only roll back.
    lock = lock_sessions()
    before = count('SELECT count(*) FROM roster.participant')
    log0 = len(rd.log())
    S = hold()
    reads = [(clients[0], show(9)), (clients[1], 'PARTICIPANT SHOW id=999991'),
             (clients[2], 'PARTICIPANT SHOW id=999992'),
             (clients[3], 'SESSION LIST event=E1')]
    for c, line in reads:
        c.send(line)
        time.sleep(0.1)
    h.ok(S.read_reply(30).ok, 'the slow registration is answered OK')
    h.wait_for(lambda: waiting_on_lock() == 1, 20)
    # in one write, so that they wait together (a batch) however slowly
    # the daemon reads (ASan)
    clients[4].send_raw(''.join('PARTICIPANT ADD event=E1 party=HU name=%s\n'
                                % h.quote('Batched %d' % k) for k in (4, 5)))
    time.sleep(0.5)
    lock.stdin.write('COMMIT;\n')
    lock.stdin.flush()
    got = [reply_within(c, 30) for c, _ in reads]
    h.is_([answer(r) if r is not None else 'no reply' for r in got[:3]],
          ['Reader 9', 'NOT_FOUND', 'NOT_FOUND'], 'the SHOWs: their answers')
    h.ok(got[3] is not None and got[3].ok, 'the SESSION LIST is answered')
    adds = [reply_within(clients[4], 30) for k in (4, 5)]
    h.ok(all(r is not None and r.ok for r in adds),
         'the registrations are answered OK', adds)
    ids_added = [r.fields.get('id') for r in adds if r is not None and r.ok]
    h.is_(count("SELECT count(*) FROM roster.participant WHERE id IN (%s)"
                % ','.join(ids_added or ['0'])), 2,
          'and both are in the database')
    h.is_(count('SELECT count(*) FROM roster.participant'), before + 3,
          'with the slow one: three more participants')
    h.ok(re.search(r'2 writes in one transaction', rd.log()[log0:]),
         'the two registrations went as one batch')

with h.section('a connection lost in the middle of a segment: its reads '
               'fail, their clients\' next requests still run'):
    # two connections: the other serves while the lost one comes back
    rd2 = env.rosterd(migrate=False, db_connections=2, log_level='debug')
    X = rd2.login('admin')
    lock = lock_sessions()
    # two reads in one write: taken together, one segment of one client's
    X.send_raw(b'SESSION LIST event=E1\nSESSION LIST event=E1\n')
    h.wait_for(lambda: waiting_on_lock() == 1, 20)
    X.send(show(5))     # waits for the segment: its reads may go again
    time.sleep(0.5)
    h.ok(re.search(r'2 reads in one segment', rd2.log()) is not None,
         'the two reads went in one segment')
    pg.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
             "wait_event_type = 'Lock' AND query LIKE '%session_list%'")
    got = [reply_within(X, 30) for _ in range(3)]
    h.is_([r.code if r is not None and not r.ok else
           (answer(r) if r is not None else 'no reply') for r in got],
          ['UNAVAILABLE', 'UNAVAILABLE', 'Reader 5'],
          'the two reads fail as lost; the next request is answered')
    lock.stdin.write('COMMIT;\n')
    lock.stdin.flush()
    h.ok(X.request('SESSION LIST event=E1', 30).ok,
         'the same read runs once the lock is gone')
    X.close()
    rd2.stop()

with h.section('the functions marked as only reading are STABLE'):
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    marked = []
    for name in sorted(os.listdir(os.path.join(top, 'daemon'))):
        if not (name.startswith('cmd') and name.endswith('.c')):
            continue
        with open(os.path.join(top, 'daemon', name)) as f:
            text = f.read()
        for entry in re.findall(r'\{[^{}]*\}', text):
            if re.search(r'\.read\s*=\s*1', entry):
                m = re.search(r'\.sql\s*=\s*"(\w+)"', entry)
                h.ok(m is not None, 'a read entry names its function', entry)
                if m:
                    marked.append(m.group(1))
    h.ok('participant_show' in marked, 'PARTICIPANT SHOW is marked', marked)
    for f in marked:
        h.is_(pg.scalar("SELECT string_agg(provolatile::text, ',') FROM "
                        "pg_proc WHERE pronamespace = 'roster'::regnamespace "
                        "AND proname = '%s'" % f), 's',
              '%s is STABLE' % f)

h.done_testing()
