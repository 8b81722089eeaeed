"""test_fault.py -- no acknowledged write is lost (issue 7): writers on
several connections add participants, each with its own ref=, and retry
UNAVAILABLE (plain or "outcome unknown"), BUSY and lost connections with
the same ref=, while PostgreSQL is stopped with -m immediate and started
again, twice, and while rosterd is killed with SIGKILL and started again.
Afterwards every write answered OK is in the database exactly once, and
rosterd served again within 5 s of PostgreSQL's return each time, without
being restarted."""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(db_connections=2)
A = rd.login('admin')
h.event(A, 'F1')
PARTIES = ('TR', 'HU', 'DE', 'FR')
for p in PARTIES:
    h.must(A, 'DELEGATION REGISTER event=F1 party=%s' % p)
A.close()

stop = threading.Event()
lock = threading.Lock()
acked = {}                  # ref -> name, answered OK
stats = {'unknown': 0, 'unavailable': 0, 'busy': 0, 'reconnects': 0,
         'replays': 0, 'errors': []}


def writer(w):
    conn, i = None, 0
    while not stop.is_set():
        i += 1
        ref = 'w%d-%d' % (w, i)
        name = 'Fault W%d N%d' % (w, i)
        line = ('PARTICIPANT ADD event=F1 party=%s name=%s ref=%s'
                % (PARTIES[w % len(PARTIES)], h.quote(name), ref))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:     # this ref until it is done
            try:
                if conn is None:
                    conn = rd.login('admin', timeout=5)
                r = conn.request(line, timeout=30)
            except (h.Closed, OSError, RuntimeError, h.ProtocolError):
                if conn is not None:
                    conn.close()
                conn = None
                with lock:
                    stats['reconnects'] += 1
                time.sleep(0.2)
                continue
            if r.ok:
                with lock:
                    acked[ref] = name
                    stats['replays'] += 'replay' in r.fields
                time.sleep(0.01)      # a steady load, not all we can
                break
            with lock:
                if r.code == 'UNAVAILABLE' and \
                        r.text.startswith('outcome unknown: '):
                    stats['unknown'] += 1
                elif r.code == 'UNAVAILABLE':
                    stats['unavailable'] += 1
                elif r.code == 'BUSY':
                    stats['busy'] += 1
                else:
                    stats['errors'].append(r.final)
                    break
            time.sleep(0.2)
    if conn is not None:
        conn.close()


def served_again(timeout=30):
    """Seconds until a new connection's EVENT SHOW answers OK."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with rd.login('admin', timeout=5) as c:
                while time.monotonic() - t0 < timeout:
                    if c.request('EVENT SHOW event=F1', timeout=10).ok:
                        return time.monotonic() - t0
                    time.sleep(0.05)
        except (h.Closed, OSError, RuntimeError, h.ProtocolError):
            time.sleep(0.05)
    return None


threads = [threading.Thread(target=writer, args=(w,), daemon=True)
           for w in range(4)]
for t in threads:
    t.start()
time.sleep(2)
pid = rd.pid

for n in (1, 2):
    with h.section('PostgreSQL stopped with -m immediate, round %d' % n):
        before = len(acked)
        env.pg.stop('immediate')
        time.sleep(2)
        env.pg.start()
        secs = served_again()
        h.diag('recovery: served again %s s after PostgreSQL was back'
               % ('%.2f' % secs if secs is not None else 'never'))
        h.ok(secs is not None and secs < 5, 'served again within 5 s of '
             "PostgreSQL's return")
        h.ok(rd.running() and rd.pid == pid, 'by the same rosterd')
        time.sleep(2)
        h.cmp_ok(len(acked), '>', before, 'the writers go on')

with h.section('rosterd killed with SIGKILL and started again'):
    before = len(acked)
    rd.signal(9)
    rd.wait(20)
    time.sleep(0.5)
    rd.start()
    secs = served_again()
    h.diag('rosterd restarted, serving after %.2f s' % (secs or -1))
    time.sleep(2)
    h.cmp_ok(len(acked), '>', before, 'the writers go on')

stop.set()
for t in threads:
    t.join(90)
h.ok(not any(t.is_alive() for t in threads), 'the writers ended')

with h.section('every acknowledged write is there exactly once'):
    pg = env.pg
    rows = pg.query("SELECT p.name, count(*) FROM roster.participant p "
                    "JOIN roster.delegation d ON d.id = p.delegation_id "
                    "JOIN roster.event e ON e.id = d.event_id "
                    "WHERE e.code = 'F1' GROUP BY p.name")
    have = {name: int(n) for name, n in rows}
    lost = [ref for ref, name in acked.items() if have.get(name, 0) == 0]
    twice = [name for name, n in have.items() if n > 1]
    h.diag('acknowledged writes: %d; in the database: %d; lost: %d; '
           'duplicated: %d' % (len(acked), len(have), len(lost), len(twice)))
    h.diag('answers retried: %(unknown)d outcome unknown, %(unavailable)d '
           'UNAVAILABLE, %(busy)d BUSY; %(reconnects)d reconnects; '
           '%(replays)d OK with replay=1' % stats)
    h.cmp_ok(len(acked), '>', 20, 'writes were acknowledged')
    h.is_(len(lost), 0, 'acknowledged writes lost: 0')
    h.is_(twice, [], 'no write committed twice')
    h.is_(stats['errors'], [], 'no other error')

h.done_testing()
