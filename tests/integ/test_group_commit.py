"""test_group_commit.py -- writes that wait together share one transaction
(issue 11, daemon/db.c): a client's pipelined writes are committed
together, each still answered on its own (a failure is undone alone, the
others commit); a serialization failure or a COMMIT that fails inside a
batch is retried one by one without the client seeing it; an OK is
durable: PostgreSQL stopped with -m immediate in the middle of a batch
loses no OK'd write, and leaves no failed one half-done."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(db_connections=4)
pg = env.pg
A = rd.login('admin')
h.event(A, 'E1')
PARTIES = ('TR', 'HU', 'DE', 'FR')
for p in PARTIES:
    h.must(A, 'DELEGATION REGISTER event=E1 party=%s' % p)

# Each participant row written records the transaction it was written in
# (txid_current() is the top-level transaction's, also in a savepoint), so
# that the test sees which writes shared a transaction. The row goes with
# its write: a write undone to its savepoint leaves none.
pg.query("""CREATE TABLE public.written (name text, xid bigint)""")
pg.query("""CREATE FUNCTION public.note_written() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO public.written VALUES (NEW.name, txid_current());
        RETURN NULL;
    END $$""")
pg.query("CREATE TRIGGER note_written AFTER INSERT ON roster.participant "
         "FOR EACH ROW EXECUTE FUNCTION public.note_written()")


def add(ref, name, party='TR', role=None):
    return ('PARTICIPANT ADD event=E1 party=%s name=%s ref=%s%s'
            % (party, h.quote(name), ref, ' role=' + role if role else ''))


def rows(sql):
    return pg.query(sql)


def count(sql):
    return int(pg.scalar(sql))


def audit_of(name):
    return count("SELECT count(*) FROM roster.audit a WHERE a.command = "
                 "'PARTICIPANT ADD' AND a.target IN (SELECT 'E1/participant/' || "
                 "p.id FROM roster.participant p WHERE p.name = '%s')"
                 % name)


with h.section('pipelined writes share a transaction, each answered alone'):
    lines, expect = [], []
    for i in range(40):
        if i in (7, 23):
            # a second head of TR's delegation: refused, alone
            lines.append(add('gc%d' % i, 'Second Head %d' % i, role='head'))
            expect.append('CONFLICT')
        else:
            lines.append(add('gc%d' % i, 'Batch Member %d' % i,
                             party=PARTIES[i % 4],
                             role='head' if i == 0 else None))
            expect.append('OK')
    replies = A.pipeline(lines, timeout=60)
    got = [r.code if not r.ok else 'OK' for r in replies]
    h.is_(got, expect, 'every write has its own answer, in order')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Batch Member %'"), 38, 'the 38 that succeeded committed')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Second Head %'"), 0, 'the two refused left nothing')
    h.is_(count("SELECT count(*) FROM public.written WHERE name LIKE "
                "'Second Head %'"), 0, '... not even in a savepoint')
    h.is_(sum(audit_of('Batch Member %d' % i) for i in range(40)
              if i not in (7, 23)), 38, 'one audit row each')
    shared = count("SELECT count(*) FROM (SELECT xid FROM public.written "
                   "WHERE name LIKE 'Batch Member %' GROUP BY xid "
                   "HAVING count(*) > 1) s")
    txns = count("SELECT count(DISTINCT xid) FROM public.written "
                 "WHERE name LIKE 'Batch Member %'")
    h.diag('38 writes in %d transactions' % txns)
    h.cmp_ok(shared, '>', 0, 'some writes shared a transaction')
    h.cmp_ok(txns, '<', 20, 'in fewer transactions than half the writes')
    ids = [int(r.fields['id']) for r in replies if r.ok]
    h.is_(ids, sorted(ids), 'in the order they were sent')

with h.section('a serialization failure in a batch is retried unseen'):
    pg.query("CREATE SEQUENCE public.fail_once")
    pg.query("""CREATE FUNCTION public.fail_once() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.name = 'Retried Member'
               AND nextval('public.fail_once') = 1 THEN
                RAISE EXCEPTION 'could not serialize (test)'
                    USING ERRCODE = '40001';
            END IF;
            RETURN NULL;
        END $$""")
    pg.query("CREATE TRIGGER fail_once AFTER INSERT ON roster.participant "
             "FOR EACH ROW EXECUTE FUNCTION public.fail_once()")
    names = ['Retry Batch %d' % i for i in range(12)]
    names[6] = 'Retried Member'
    replies = A.pipeline([add('sf%d' % i, n, party=PARTIES[i % 4])
                          for i, n in enumerate(names)], timeout=60)
    h.ok(all(r.ok for r in replies), 'every write is answered OK',
         *('    %r' % r.final for r in replies if not r.ok))
    h.is_(count("SELECT last_value FROM public.fail_once"), 2,
          'the failing write ran twice (the second time alone)')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name = "
                "'Retried Member' OR name LIKE 'Retry Batch %'"), 12,
          'each committed once')
    h.is_(sum(audit_of(n) for n in names), 12, 'one audit row each')
    pg.query('DROP TRIGGER fail_once ON roster.participant')

with h.section('a write of a batch that waits for a lock runs alone, after'):
    # another session holds TR's delegation: the batch's TR write would
    # hold up the others (and two batches could wait for each other)
    s = env.pg.session()
    s.stdin.write("BEGIN; SELECT 1 FROM roster.delegation d JOIN "
                  "roster.party p ON p.id = d.party_id WHERE p.code = 'TR' "
                  "FOR NO KEY UPDATE OF d;\n")
    s.stdin.flush()
    h.ok(h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_stat_activity WHERE state = "
        "'idle in transaction'") >= 1, 20), 'the delegation is locked')
    names = ['Lock Batch %d' % i for i in range(10)]
    parties = ['HU', 'DE', 'FR', 'HU', 'TR', 'DE', 'FR', 'HU', 'DE', 'FR']
    for i, n in enumerate(names):
        A.send(add('lk%d' % i, n, party=parties[i]))
    # another client's writes are not held up by A's
    B = rd.login('admin')
    others = ['Other Client %d' % i for i in range(3)]
    for i, n in enumerate(others):
        B.send(add('oc%d' % i, n, party='HU'))
    h.ok(h.wait_for(lambda: count(
        "SELECT count(*) FROM roster.participant WHERE name LIKE "
        "'Other Client %'") == 3, 20), "another client's writes commit "
         'while TR is locked')
    h.ok(h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
        "'Lock' AND query LIKE '%participant_add%'") == 1, 20),
         'the TR write waits for the lock, alone')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Lock Batch %'"), 4, 'the four sent before it committed; '
          'those sent after it by the same client wait behind it')
    s.stdin.write('COMMIT;\n')
    s.stdin.close()
    s.wait(20)
    replies = [A.read_reply(30) for _ in names]
    h.ok(all(r.ok for r in replies), 'then all ten are answered OK',
         *('    %r' % r.final for r in replies if not r.ok))
    ids = [int(r.fields['id']) for r in replies if r.ok]
    h.is_(ids, sorted(ids), "and ran in the client's order")
    h.ok(all(B.read_reply(30).ok for _ in others), "the other client's OK")
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Lock Batch %'"), 10, 'each committed once')
    h.is_(sum(audit_of(n) for n in names), 10, 'one audit row each')

with h.section('a COMMIT that fails is retried one by one'):
    pg.query("""CREATE FUNCTION public.fail_at_commit() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.name = 'Refused At Commit' THEN
                RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'RSCNF';
            END IF;
            RETURN NULL;
        END $$""")
    pg.query("CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON "
             "roster.participant DEFERRABLE INITIALLY DEFERRED FOR EACH "
             "ROW EXECUTE FUNCTION public.fail_at_commit()")
    names = ['Commit Batch %d' % i for i in range(10)]
    names[4] = 'Refused At Commit'
    replies = A.pipeline([add('cf%d' % i, n, party=PARTIES[i % 4])
                          for i, n in enumerate(names)], timeout=60)
    got = [r.code if not r.ok else 'OK' for r in replies]
    h.is_(got, ['CONFLICT' if n == 'Refused At Commit' else 'OK'
                for n in names], 'only the write refused at commit fails')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Commit Batch %'"), 9, 'the others committed')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name = "
                "'Refused At Commit'"), 0, 'the refused one did not')
    pg.query('DROP TRIGGER fail_at_commit ON roster.participant')

with h.section('PostgreSQL stopped -m immediate in the middle of a batch'):
    # a write in the middle of the batch sleeps, so that the stop comes
    # while the batch's transaction is open: nothing of it may commit
    pg.query("""CREATE FUNCTION public.slow_member() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.name = 'Slow Member' THEN
                PERFORM pg_sleep(30);
            END IF;
            RETURN NULL;
        END $$""")
    pg.query("CREATE TRIGGER slow_member AFTER INSERT ON roster.participant "
             "FOR EACH ROW EXECUTE FUNCTION public.slow_member()")
    # meanwhile, other clients write all the time: some of theirs commit
    # before the stop, some are lost in flight
    stop = threading.Event()
    answers = []          # (ref, name, reply) of the writers

    def writer(k):
        c = rd.login('admin')
        i = 0
        while not stop.is_set():
            lines = []
            for j in range(8):
                ref = 'w%d-%d' % (k, i)
                lines.append((ref, 'Writer %d-%d' % (k, i)))
                i += 1
            try:
                rs = c.pipeline([add(ref, n, party=PARTIES[k % 4])
                                 for ref, n in lines], timeout=60)
            except (h.Closed, OSError) as e:
                h.diag('writer %d: %s' % (k, e))
                return
            answers.extend((ref, n, r) for (ref, n), r in zip(lines, rs))
    threads = [threading.Thread(target=writer, args=(k,), daemon=True)
               for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(1)
    B = rd.login('admin')
    names = ['Durable %d' % i for i in range(10)]
    names[5] = 'Slow Member'
    for i, n in enumerate(names):
        B.send(add('du%d' % i, n, party=PARTIES[i % 4]))
    h.ok(h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
        "'PgSleep'") == 1, 20), 'the slow member runs, in its batch')
    env.pg.stop('immediate')
    batch = [B.read_reply(40) for _ in names]
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join(90)
    env.pg.start()
    pg.query('SELECT 1')
    codes = [r.code if not r.ok else 'OK' for r in batch]
    h.diag('the batch: %s' % ' '.join(codes))
    # the first of B's writes may have gone alone, and committed before
    # the stop; those that were in the open batch committed nothing
    present = set(n for (n,) in rows(
        "SELECT name FROM roster.participant WHERE name LIKE 'Durable %' "
        "OR name = 'Slow Member'"))
    lost_ok = [n for n, r in zip(names, batch) if r.ok and n not in present]
    h.is_(lost_ok, [], "no OK'd write of the batch is lost")
    h.ok(all(r.ok or r.code == 'UNAVAILABLE' for r in batch),
         'the others are UNAVAILABLE', *('    %r' % r.final for r in batch))
    not_done = [n for n, r in zip(names, batch)
                if not r.ok and 'nothing was done' in r.text]
    # those of the open batch: "nothing was done" (its COMMIT was never
    # sent), or "outcome unknown" when they went as calls of
    # participant_add_many with other clients' writes, a batch whose
    # COMMIT is sent right behind its calls (daemon/db.c): then rosterd
    # cannot know whether PostgreSQL reached it
    told = [n for n, r in zip(names, batch)
            if not r.ok and ('nothing was done' in r.text or
                             'outcome unknown' in r.text)]
    h.cmp_ok(len(told), '>=', 8, 'those of the open batch: nothing was '
             'done, or the outcome unknown (it was never committed)')
    h.is_([n for n in not_done if n in present], [],
          '"nothing was done" is true of each')
    ok_w = [ref for ref, n, r in answers if r.ok]
    done_w = set(ref for (ref,) in rows(
        "SELECT r.ref FROM roster.request_ref r WHERE r.ref LIKE 'w%'"))
    h.diag('the writers: %d OK, %d other' % (
        len(ok_w), len(answers) - len(ok_w)))
    h.cmp_ok(len(ok_w), '>', 0, 'the writers had OKs before the stop')
    h.is_([ref for ref in ok_w if ref not in done_w], [],
          "no OK'd write of theirs is lost")
    h.is_([ref for ref, n, r in answers
           if not r.ok and 'nothing was done' in r.text and ref in done_w],
          [], 'none said "nothing was done" of a committed one')
    # nothing half-done: each participant written has its audit row
    h.is_(count("SELECT count(*) FROM roster.participant p WHERE NOT "
                "EXISTS (SELECT 1 FROM roster.audit a WHERE a.target = "
                "'E1/participant/' || p.id AND a.command = "
                "'PARTICIPANT ADD')"), 0,
          'every participant has its audit row')
    h.is_(count("SELECT count(*) FROM roster.participant p WHERE name LIKE "
                "'Writer %'"), len(done_w), 'and its reference')
    pg.query('DROP TRIGGER slow_member ON roster.participant')
    ok = False
    for _ in range(100):
        r = A.request("EVENT SHOW event=E1", timeout=30)
        if r.ok:
            ok = True
            break
        time.sleep(0.2)
    h.ok(ok, 'served again after the restart')

rd.stop()
h.done_testing()
