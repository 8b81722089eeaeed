"""test_db_limits.py -- the database layer under a hostile client or a
failing database (issue 7): statement_timeout bounds a statement (a write
blocked by a lock is answered UNAVAILABLE and changes nothing; so is an
export); an error raised at commit, after the statement completed, is the
answer; a request whose connection fails with its statement in flight is
answered "outcome unknown"; an export whose client stops reading or leaves
gives its database connection back; one connection's flood does not delay
another's requests; SIGTERM answers every request it was given and
commits nothing after rosterd has exited; a host name in `database` is
resolved once; notifications not signed by rosterd are ignored; an outage
is logged once."""

import os
import socket
import statistics
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(statement_timeout=2, db_connections=2)
pg = env.pg
# the same database, statements without a short limit
rd2 = env.rosterd(migrate=False, statement_timeout=60, db_connections=2)
A = rd.login('admin')
B = rd2.login('admin')
h.event(A, 'E1')
h.must(A, 'DELEGATION REGISTER event=E1 party=TR')
h.must(A, 'DELEGATION REGISTER event=E1 party=HU')
BIG = 20000


def add(ref, name, party='TR'):
    return ('PARTICIPANT ADD event=E1 party=%s name=%s ref=%s'
            % (party, h.quote(name), ref))


def committed(name):
    return int(pg.scalar("SELECT count(*) FROM roster.participant "
                         "WHERE name = '%s'" % name))


def lock_participants():
    """A psql session holding an ACCESS EXCLUSIVE lock on participant."""
    s = env.pg.session()
    s.stdin.write('BEGIN; LOCK TABLE roster.participant IN ACCESS '
                  'EXCLUSIVE MODE;\n')
    s.stdin.flush()
    ok = h.wait_for(lambda: pg.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
        "l.relation WHERE c.relname = 'participant' AND l.granted AND "
        "l.mode = 'AccessExclusiveLock'") == '1', 20)
    if not ok:
        raise h.SetupError('no lock')
    return s


def unlock(s):
    s.stdin.write('ROLLBACK;\n\\q\n')
    s.stdin.flush()
    s.wait(20)


def backend_waiting(fn='participant_add'):
    """The pid of a backend waiting for a lock in roster.fn, or None."""
    return pg.scalar("SELECT pid FROM pg_stat_activity WHERE "
                     "wait_event_type = 'Lock' AND query LIKE '%%%s%%' "
                     "LIMIT 1" % fn)


def copies():
    return int(pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE "
                         "query LIKE 'COPY (SELECT * FROM roster.export%' "
                         "AND state = 'active'"))


with h.section('statement_timeout: a write blocked by a lock'):
    s = lock_participants()
    t0 = time.monotonic()
    r = A.request(add('st1', 'Timeout Test'), timeout=60)
    secs = time.monotonic() - t0
    h.err_reply(r, 'UNAVAILABLE', 'blocked write -> UNAVAILABLE')
    h.like(r.text, r'nothing was done', 'its text says nothing was done')
    h.ok('outcome unknown' not in r.text, 'and not "outcome unknown"')
    h.diag('answered after %.1f s (statement_timeout = 2)' % secs)
    h.cmp_ok(secs, '<', 10, 'within 10 s, not after the lock ends')
    t0 = time.monotonic()
    r = A.request('EXPORT event=E1 what=participants', timeout=60)
    h.err_reply(r, 'UNAVAILABLE', 'an export (COPY) blocked -> UNAVAILABLE')
    h.cmp_ok(time.monotonic() - t0, '<', 10, 'also within 10 s')
    unlock(s)
    h.is_(committed('Timeout Test'), 0, 'nothing committed')
    r = A.request(add('st1', 'Timeout Test'))
    h.ok_reply(r, 'the same ref= later: done now, not a replay')
    h.ok('replay' not in r.fields, 'no replay=1', '    %r' % r.final)

with h.section('an error raised at commit is the answer'):
    pg.query("""CREATE FUNCTION public.fail_at_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.name = 'Deferred Failure' THEN
                RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'RSCNF';
            END IF;
            RETURN NULL;
        END $$""")
    pg.query("CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON "
             "roster.participant DEFERRABLE INITIALLY DEFERRED FOR EACH "
             "ROW EXECUTE FUNCTION public.fail_at_commit()")
    audit0 = env.audit_count()
    r = A.request(add('dc1', 'Deferred Failure'))
    h.err_reply(r, 'CONFLICT', 'a deferred constraint failing at commit -> '
                'ERR CONFLICT, not OK')
    h.is_(committed('Deferred Failure'), 0, 'nothing committed')
    h.is_(env.audit_count(), audit0, 'no audit row')
    h.ok_reply(A.request(add('dc2', 'After Deferred')),
               'the connection serves the next write')
    pg.query('DROP TRIGGER fail_at_commit ON roster.participant')

with h.section('a connection lost with the statement in flight'):
    s = lock_participants()
    B.send(add('unk1', 'Unknown Outcome'))
    h.ok(h.wait_for(lambda: backend_waiting() is not None, 20),
         'the write waits for the lock in PostgreSQL')
    pg.query('SELECT pg_terminate_backend(%s)' % backend_waiting())
    r = B.read_reply(30)
    h.err_reply(r, 'UNAVAILABLE', 'backend terminated -> UNAVAILABLE')
    h.like(r.text, r'^outcome unknown: .*ref=', 'text starts "outcome '
           'unknown: " and says to retry with the same ref=')
    unlock(s)
    r, n = None, 0
    while n < 20:
        r = B.request(add('unk1', 'Unknown Outcome'))
        if r.ok:
            break
        n += 1
        time.sleep(0.5)
    h.ok_reply(r, 'the retry with the same ref= succeeds')
    h.is_(committed('Unknown Outcome'), 1, 'committed exactly once')

with h.section('set-up: %d participants in event BIG' % BIG):
    h.event(A, 'BIG', country='DE', city='Berlin')
    h.must(A, 'DELEGATION REGISTER event=BIG party=DE')
    # about 1 kB a row: 20 MB, more than the socket buffers hold
    pg.query("""INSERT INTO roster.participant (delegation_id, name, role,
            honorific, title, email, badge)
        SELECT d.id, 'Participant ' || g || ' ' || repeat('x', 180),
            'member', repeat('h', 200), repeat('t', 200),
            'p' || g || '.' || repeat('e', 200) || '@example.org', 'ZZ' || translate(lpad(to_hex(g), 8, '0'),
                '0123456789abcdef', 'ABCDEFGHIJKLMNOP')
        FROM generate_series(1, %d) g, roster.delegation d
        JOIN roster.event e ON e.id = d.event_id WHERE e.code = 'BIG'"""
             % BIG)
    pg.query('ANALYZE roster.participant')

with h.section('an export nobody reads gives its connection back'):
    X = rd.login('admin', rcvbuf=4096)
    X.send('EXPORT event=BIG what=participants')
    h.ok(h.wait_for(lambda: copies() == 1, 20), 'the COPY runs')
    t0 = time.monotonic()
    gone = h.wait_for(lambda: copies() == 0, 20)
    secs = time.monotonic() - t0
    h.ok(gone, 'the COPY ends though the client never reads')
    h.diag('COPY ended %.1f s after it stalled (statement_timeout = 2)'
           % secs)
    h.cmp_ok(secs, '<', 10, 'within 10 s')
    r = X.read_reply(60)
    h.err_reply(r, 'UNAVAILABLE', 'the export is answered UNAVAILABLE')
    h.like(r.text, r'not read', 'because it was not read')
    r = A.request('EXPORT event=E1 what=participants', timeout=30)
    h.ok_reply(r, 'the pool serves the next export')
    X.close()

with h.section('an export whose client leaves ends at once'):
    X = rd2.login('admin', rcvbuf=4096)
    X.send('EXPORT event=BIG what=participants')
    h.ok(h.wait_for(lambda: copies() == 1, 20), 'the COPY runs')
    time.sleep(0.5)
    X.sock.close()
    t0 = time.monotonic()
    h.ok(h.wait_for(lambda: copies() == 0, 20), 'the COPY ends')
    secs = time.monotonic() - t0
    h.diag('COPY ended %.2f s after the client left' % secs)
    h.cmp_ok(secs, '<', 5, 'within 5 s')
    h.like(rd2.log(), r'export cancelled', 'logged as cancelled')
    h.ok_reply(B.request('EXPORT event=E1 what=participants', timeout=30),
               'the pool serves the next export')

with h.section('one connection floods; another is still served'):
    rd3 = env.rosterd(migrate=False, db_connections=2, max_pending=4096)
    F = rd3.login('admin')
    O = rd3.login('admin')
    # not a LIST: a connection has only a few of those in flight at once
    # (conn.c's CONN_MAX_LARGE), too few to fill its share of the queue
    SLOW = 'EVENT SHOW event=BIG'
    t0 = time.monotonic()
    F.request(SLOW)
    h.diag('one %s takes %.0f ms' % (SLOW, 1000 * (time.monotonic() - t0)))
    stop = threading.Event()
    flood = {'ok': 0, 'busy': 0, 'other': 0}

    def flooder():
        while not stop.is_set():
            for r in F.pipeline([SLOW] * 2000, timeout=120):
                k = ('ok' if r.ok else 'busy' if r.code == 'BUSY'
                     else 'other')
                flood[k] += 1
    t = threading.Thread(target=flooder, daemon=True)
    t.start()
    time.sleep(1)
    lat, errors = [], []
    t_end = time.monotonic() + 8
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        r = O.request('EVENT SHOW event=E1', timeout=60)
        lat.append(time.monotonic() - t0)
        if not r.ok:
            errors.append(r.final)
        time.sleep(0.1)
    stop.set()
    t.join(150)
    lat.sort()
    h.diag('other connection: %d EVENT SHOW, p50 %.0f ms, max %.0f ms, '
           '%d errors' % (len(lat), 1000 * statistics.median(lat),
                          1000 * lat[-1], len(errors)))
    h.diag('flooder: %(ok)d OK, %(busy)d BUSY, %(other)d other' % flood)
    h.is_(errors, [], "none of the other connection's requests failed")
    h.cmp_ok(lat[-1], '<', 1.0, 'its slowest answer took under 1 s')
    h.cmp_ok(flood['busy'], '>', 0, 'the flooder was told BUSY')
    h.cmp_ok(flood['ok'], '>', 0, 'and was served its fair share')
    h.is_(flood['other'], 0, 'and got no other error')
    F.close()
    O.close()
    rd3.stop()

with h.section('a host name in database is resolved once, at start'):
    rd4 = env.rosterd(migrate=False, database='host=localhost port=%d '
                           'dbname=roster user=postgres' % env.pg.port)
    h.like(rd4.log(), r'host localhost is [0-9a-f.:]+ \(resolved once',
           'the address is logged as resolved at start')
    c = rd4.login('admin')
    h.ok_reply(c.request('EVENT SHOW event=E1'), 'and it serves')
    c.close()
    rd4.stop()

with h.section('notifications not signed by rosterd are ignored'):
    h.is_(pg.scalar("SELECT encode(roster._hmac_sha256('Jefe'::bytea, "
                    "'what do ya want for nothing?'::bytea), 'hex')"),
          '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
          'the SQL HMAC-SHA256 gives RFC 4231 test case 2')
    pg.query('CREATE ROLE intruder LOGIN')
    p = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-h', '127.0.0.1',
               '-p', str(env.pg.port), '-U', 'intruder', '-d', 'roster',
               '-c', 'SELECT key FROM roster.notify_key'], check=False)
    h.ok(p.returncode != 0 and 'permission denied' in p.stderr,
         'another role cannot read the key', '    %r' % p.stderr)
    W = rd.login('admin')
    h.ok_reply(W.request('WATCH event=E1'), 'WATCH event=E1')
    h.ok_reply(A.request(add('w1', 'Watched One')), 'a real change')
    kind, f = h.read_note(W)
    h.is_((kind, f.get('name')), ('participant.added', 'Watched One'),
          'is seen by the watcher')
    # any role may emit a logical decoding message (test_feed.py has the
    # replays and the signatures for another transaction)
    for i in range(20):
        p = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-h',
                   '127.0.0.1', '-p', str(env.pg.port), '-U', 'intruder',
                   '-d', 'roster', '-c',
                   """SELECT pg_logical_emit_message(true, 'roster', """
                   """'{"event":"E1","kind":"checkin","id":"%d",'"""
                   """ || '"name":"Forged"}')""" % i], check=False)
    h.is_(p.returncode, 0, 'another role can emit a message on "roster"')
    pg.query("SELECT pg_logical_emit_message(true, 'roster', '%s')"
             % ('0' * 64 + ' 999999 {"event":"E1","kind":"checkin"}'))
    pg.query("SELECT pg_logical_emit_message(true, 'roster_user', 'admin')")
    pg.query("SELECT pg_logical_emit_message(true, 'roster_web', '%s')"
             % ('0' * 64))
    h.ok(h.quiet(W, 2), 'forged and wrongly signed messages reach no '
         'watcher')
    h.is_(A.request('WHOAMI').final, 'OK user=admin role=admin',
          'a forged user change logs nobody out')
    h.ok_reply(A.request(add('w2', 'Watched Two')), 'another real change')
    kind, f = h.read_note(W)
    h.is_(f.get('name'), 'Watched Two', 'is seen')
    log = rd.log()
    h.cmp_ok(log.count('not signed by rosterd'), '==', 1,
             '23 forgeries logged once')
    W.close()

def served(d):
    """Whether d answers a request that needs the database."""
    try:
        with d.login('admin') as c:
            return c.request('EVENT SHOW event=E1').ok
    except Exception:       # refused while its pool reconnects
        return False


with h.section('an outage is logged once, its end once'):
    mark = len(rd.log())
    env.pg.stop('immediate')
    time.sleep(7)        # several reconnect back-off steps
    env.pg.start()
    t0 = time.monotonic()
    r = None
    while time.monotonic() - t0 < 30:
        r = A.request('EVENT SHOW event=E1', timeout=30)
        if r.ok:
            break
        time.sleep(0.2)
    h.ok_reply(r, 'served again after %.1f s' % (time.monotonic() - t0))
    h.ok(h.wait_for(lambda: 'feed: streaming' in rd.log()[mark:], 20),
         'the feed is back')
    log = rd.log()[mark:]
    for line, n in (('feed: connection lost', 1), ('db unavailable', 1),
                    ('db available', 1), ('feed: streaming', 1)):
        h.is_(log.count(line), n, '"%s" logged %d time' % (line, n))

with h.section('SIGTERM: every request answered, nothing committed after'):
    # the second daemon's pool comes back from the outage on its own time
    h.ok(h.wait_for(lambda: served(rd2), 30), 'the second daemon serves '
         'again')
    B = rd2.login('admin')
    C = rd2.login('admin')
    D = rd2.login('admin')
    s = lock_participants()
    B.send(add('dr1', 'Drain One'))
    C.send(add('dr2', 'Drain Two', party='HU'))
    # one write waits for the lock in PostgreSQL, the other for a pool
    # connection that may write (at most half of them write at once)
    h.ok(h.wait_for(lambda: int(pg.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
        "'Lock' AND query LIKE '%participant_add%'")) == 1, 20),
        'a pool connection waits for the lock')
    D.send('EVENT SHOW event=E1')      # reads never wait behind writes
    time.sleep(0.3)
    t0 = time.monotonic()
    rd2.signal(15)
    replies = []
    for conn in (B, C, D):
        try:
            replies.append(conn.read_reply(40))
        except (h.Closed, socket.timeout) as e:
            replies.append(None)
            h.diag('no answer: %s' % e)
    status = rd2.wait(40)
    secs = time.monotonic() - t0
    h.diag('rosterd exited %.1f s after SIGTERM' % secs)
    h.is_(status, 0, 'rosterd exits 0')
    h.ok(all(r is not None for r in replies), 'all three requests answered',
         *('    %r' % (r.final if r else None) for r in replies))
    for r in replies[:2]:
        h.ok(r is not None and r.code == 'UNAVAILABLE' and
             'nothing was done' in r.text, 'a cancelled write: UNAVAILABLE '
             'nothing was done', '    %r' % (r.final if r else None))
    h.ok(replies[2] is not None and replies[2].ok,
         'the read was served beside the waiting writes',
         '    %r' % (replies[2].final if replies[2] else None))
    unlock(s)
    time.sleep(1)
    h.is_(committed('Drain One') + committed('Drain Two'), 0,
          'neither write committed once the lock was gone')

h.done_testing()
