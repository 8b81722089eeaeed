"""test_db.py -- the database going away and coming back (PROTOCOL.md
section 3, UNAVAILABLE; DESIGN.md "asynchronous libpq"): while PostgreSQL
is down, commands that need it answer ERR UNAVAILABLE and commit nothing,
commands that do not (PING, WHOAMI) still answer, new connections are still
greeted; once it is back, the same connections work again without a rosterd
restart. Data survives a rosterd restart, and --migrate run again is
harmless."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(db_connections=2)
pg = env.pg
EV = ('EVENT CREATE code=%s title="Database test" city=Ankara country=TR '
      'starts=2025-11-26 ends=2025-11-27')


def wait_ok(conn, line, timeout=20):
    """Repeat line until it answers OK; returns (reply, seconds)."""
    t0 = time.monotonic()
    r = None
    while time.monotonic() - t0 < timeout:
        r = conn.request(line, timeout=timeout)
        if r.ok:
            break
        time.sleep(0.25)
    return r, time.monotonic() - t0


with h.section('before'):
    c = rd.login('admin')
    h.ok_reply(c.request(EV % 'DB1'), 'EVENT CREATE DB1')
    h.ok_reply(c.request('EVENT LIST'), 'EVENT LIST', count='1')
    anon = rd.connect()
    audit0 = env.audit_count()

for round_, mode in ((1, 'fast'), (2, 'immediate')):
    with h.section('PostgreSQL stopped (%s), round %d' % (mode, round_)):
        pg.stop(mode)
        r = c.request('EVENT LIST', timeout=30)
        h.err_reply(r, 'UNAVAILABLE', 'EVENT LIST -> UNAVAILABLE')
        h.err_reply(c.request('EVENT SHOW event=DB1', timeout=30),
                    'UNAVAILABLE', 'EVENT SHOW -> UNAVAILABLE')
        h.err_reply(c.request(EV % ('DB%d' % (round_ + 1)), timeout=30),
                    'UNAVAILABLE', 'a write -> UNAVAILABLE')
        h.is_(c.request('PING').final, 'OK pong', 'PING still OK pong')
        h.is_(c.request('WHOAMI').final, 'OK user=admin role=admin',
              'WHOAMI still answers, still logged in')
        replies = c.pipeline(['PING', 'EVENT LIST', 'PING', 'WHOAMI'],
                             timeout=30)
        h.is_([r.final if r.ok else 'ERR ' + r.code for r in replies],
              ['OK pong', 'ERR UNAVAILABLE', 'OK pong',
               'OK user=admin role=admin'],
              'pipelined: in order, only the database request fails')
        c2 = rd.connect()
        h.is_(c2.greeting.final, h.GREETING, 'a new connection is greeted')
        h.err_reply(c2.login('admin'), 'UNAVAILABLE',
                    'LOGIN -> UNAVAILABLE, not AUTH_FAILED')
        h.is_(c2.request('WHOAMI').final, 'OK user=-', 'not logged in')
        h.is_(anon.request('PING').final, 'OK pong',
              'an older connection still answers PING')
        pg.start()
        r, secs = wait_ok(c, 'EVENT LIST')
        h.ok(r is not None and r.ok, 'EVENT LIST works again on the same '
             'connection after %.1f s' % secs, '    %r' % r)
        h.cmp_ok(secs, '<', 15, 'recovered within 15 s')
        r = c.request(EV % ('DB%d' % (round_ + 1)))
        h.ok_reply(r, 'the write refused earlier now succeeds (it had '
                   'committed nothing)', version='1')
        h.ok_reply(c2.login('admin'), 'LOGIN works again')
        h.ok_reply(anon.login('admin'), 'LOGIN on the older connection')
        anon.request('LOGOUT')
        c2.close()

with h.section('nothing was committed by a refused request'):
    h.is_(env.audit_count() - audit0, 2,
          'two audit rows: the two successful writes only')
    r = c.request('EVENT LIST')
    h.is_(sorted(rec.get('code') for rec in r.records),
          ['DB1', 'DB2', 'DB3'], 'three events')

with h.section('rosterd restart keeps the data'):
    c.close()
    anon.close()
    h.is_(rd.stop(), 0, 'rosterd exits 0 on SIGTERM')
    rd.start()
    with rd.login('admin') as c3:
        r = c3.request('EVENT LIST')
        h.is_(sorted(rec.get('code') for rec in r.records),
              ['DB1', 'DB2', 'DB3'], 'events still there after a restart')

with h.section('--migrate again'):
    before = pg.scalar('SELECT count(*) FROM roster.schema_migration')
    parties = pg.scalar('SELECT count(*) FROM roster.party')
    p = rd.command('--migrate')
    h.is_(p.returncode, 0, '--migrate on a migrated database exits 0',
          ) or h.diag(p.stdout, p.stderr)
    p = rd.command('--migrate')
    h.is_(p.returncode, 0, 'and again')
    h.is_(pg.scalar('SELECT count(*) FROM roster.schema_migration'), before,
          'no migration applied twice')
    h.is_(pg.scalar('SELECT count(*) FROM roster.party'), parties,
          'no country loaded twice')
    with rd.login('admin') as c4:
        h.is_(len(c4.request('EVENT LIST').records), 3,
              'the running daemon still serves the data')

with h.section("the pool's sessions: synchronous_commit on, no JIT"):
    # the server's defaults are the other way; a trigger notes what the
    # daemon's session has
    pg.query("ALTER SYSTEM SET synchronous_commit = off")
    pg.query("ALTER SYSTEM SET jit = on")
    pg.query("SELECT pg_reload_conf()")
    pg.query("CREATE TABLE public.seen (sc text, jit text)")
    pg.query("""CREATE FUNCTION public.note_settings() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            INSERT INTO public.seen VALUES (
                current_setting('synchronous_commit'), current_setting('jit'));
            RETURN NULL;
        END $$""")
    pg.query("CREATE TRIGGER note_settings AFTER INSERT ON roster.event "
             "FOR EACH ROW EXECUTE FUNCTION public.note_settings()")
    rd2 = env.rosterd(db_connections=2)
    c2 = rd2.login('admin')
    h.ok_reply(c2.request(EV % 'DB9'), 'EVENT CREATE DB9 through a new rosterd')
    h.is_([tuple(r) for r in pg.query("SELECT sc, jit FROM public.seen")],
          [('on', 'off')],
          'its session: synchronous_commit on, jit off')
    c2.close()
    rd2.stop()
    pg.query('DROP TRIGGER note_settings ON roster.event')
    pg.query("ALTER SYSTEM RESET synchronous_commit")
    pg.query("ALTER SYSTEM RESET jit")
    pg.query("SELECT pg_reload_conf()")

with h.section('--migrate without a database'):
    pg.stop()
    p = rd.command('--migrate', timeout=60)
    h.isnt(p.returncode, 0, '--migrate fails when PostgreSQL is down')
    pg.start()
    with rd.connect() as c5:
        r, secs = wait_ok(c5, 'LOGIN user=admin password="%s"' % h.PASSWORD)
        h.ok(r is not None and r.ok, 'daemon recovers once more (%.1f s)'
             % secs)

with h.section('SIGTERM while the database is down'):
    pg.stop()
    with rd.connect() as c6:
        h.is_(c6.request('PING').final, 'OK pong', 'PING')
    t0 = time.monotonic()
    h.is_(rd.stop(), 0, 'rosterd exits 0 on SIGTERM with PostgreSQL down')
    h.cmp_ok(time.monotonic() - t0, '<', 10, 'and promptly')
    pg.start()

h.done_testing()
