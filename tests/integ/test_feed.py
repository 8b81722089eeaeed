"""test_feed.py -- the notifications carried by logical decoding
(daemon/feed.c): each rosterd reads a permanent replication slot of its
own; a walsender terminated while changes are committed loses none of them
(a watcher gets each once, in commit order, after the reconnect, and no
session is re-checked as after a loss); what a rolled-back subtransaction
sent is never delivered, while a later write of the same transaction is;
messages not signed by rosterd for their own transaction (unsigned,
another key, a signed one copied into another transaction, not
transactional) reach nobody; a slot dropped while its daemon runs is made
anew, and the loss logged; a restarted daemon starts from a new slot and
replays nothing older; a role without REPLICATION, or a server without
wal_level = logical, is refused at start with what to set."""

import hashlib
import hmac
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('gone', 'host', None)])
pg = env.pg


def slot_of(d):
    """The replication slot d logged at start."""
    m = re.findall(r'feed: replication slot (\w+)$', d.log(), re.M)
    return m[-1] if m else None


def streaming(d, n):
    """True once d has logged its n-th 'feed: streaming'."""
    return h.wait_for(lambda: d.log().count('feed: streaming from slot')
                      >= n, 20)


def add_sql(name, party='TR'):
    """A PARTICIPANT ADD as its SQL function, run by the admin."""
    return ("SELECT id FROM roster.participant_add('admin', 'admin', NULL, "
            "'E1', '%s', '%s', NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
            % (party, name))


def names(conn, n, timeout=10):
    """The names of the next n "! participant.added" lines on conn."""
    got = []
    for _ in range(n):
        try:
            k, f = h.read_note(conn, timeout)
        except Exception as e:
            got.append('<%s>' % type(e).__name__)
            break
        got.append(f.get('name') if k == 'participant.added' else k)
    return got


with h.section('each rosterd reads a replication slot of its own'):
    rd2 = env.rosterd(migrate=False)
    A = rd.login('admin')
    h.event(A, 'E1')
    h.must(A, 'USE event=E1')
    h.must(A, 'DELEGATION REGISTER party=TR')
    h.must(A, 'DELEGATION REGISTER party=HU')
    A2 = rd2.login('admin', use='E1')
    s1, s2 = slot_of(rd), slot_of(rd2)
    h.ok(s1 and s2 and s1 != s2 and s1.startswith('rosterd_'),
         'two daemons on one host: two slot names by default (%s, %s)'
         % (s1, s2))
    h.ok(streaming(rd, 1) and streaming(rd2, 1), 'both stream')
    rows = pg.query("SELECT slot_name, plugin, slot_type, "
                    "active_pid IS NOT NULL FROM pg_replication_slots "
                    "ORDER BY slot_name")
    h.is_(sorted(rows), sorted([[s1, 'pgoutput', 'logical', 't'],
                                [s2, 'pgoutput', 'logical', 't']]),
          'two permanent logical slots of pgoutput, each in use')
    h.is_(pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE "
                    "query ILIKE '%LISTEN%' AND pid <> pg_backend_pid()"),
          '0', 'no LISTEN connection any more')

with h.section('a walsender terminated: every change once, in order'):
    W = rd.login('admin')
    h.ok_reply(W.request('WATCH event=E1'), 'WATCH on the first daemon')
    W2 = rd2.login('admin')
    h.ok_reply(W2.request('WATCH event=E1'), 'WATCH on the second')
    h.must(A, 'PARTICIPANT ADD party=TR name="Before The Cut"')
    h.is_(names(W, 1), ['Before The Cut'], 'a change arrives live')
    h.is_(names(W2, 1), ['Before The Cut'], 'on both daemons')
    # Nobody may connect to the database for a while: the terminated
    # walsender cannot come back until it is allowed again; the pools'
    # connections are open already and serve.
    mark = len(rd.log())
    pg.psql('ALTER DATABASE roster ALLOW_CONNECTIONS false', db='postgres')
    h.is_(pg.scalar("SELECT count(pg_terminate_backend(active_pid)) FROM "
                    "pg_replication_slots WHERE slot_name = '%s'" % s1),
          '1', "the first daemon's walsender is terminated")
    h.ok(h.wait_for(lambda: 'feed: connection lost' in rd.log()[mark:], 10),
         'the daemon sees its feed lost')
    want = []
    for i in range(12):
        d, c = (A, 'TR') if i % 3 else (A2, 'HU')   # both daemons write
        name = 'Down %02d' % i
        h.must(d, 'PARTICIPANT ADD party=%s name="%s"' % (c, name))
        want.append(name)
    h.ok(h.quiet(W, 1), 'nothing reaches the watcher while its feed is '
         'down')
    h.is_(names(W2, 12), want, 'the other daemon\'s watcher got them live')
    pg.psql('ALTER DATABASE roster ALLOW_CONNECTIONS true', db='postgres')
    h.ok(streaming(rd, 2), 'the feed reconnects and streams again')
    h.is_(names(W, 12), want, 'after the reconnect the watcher gets each '
          'change committed meanwhile, in commit order')
    h.ok(h.quiet(W, 1), 'and none twice')
    log = rd.log()[mark:]
    h.ok('may be missed' not in log and 'gone' not in log,
         'no "may be missed": the slot kept them', '    %r' % log[-400:])
    h.is_(log.count('feed: connection lost'), 1, 'the loss is logged once')
    # at once after a delivery, before the status update reports it: the
    # server may send that transaction again, the daemon skips it
    h.must(A, 'PARTICIPANT ADD party=TR name="Just Delivered"')
    h.is_(names(W, 1), ['Just Delivered'], 'a change delivered')
    pg.query("SELECT pg_terminate_backend(active_pid) FROM "
             "pg_replication_slots WHERE slot_name = '%s'" % s1)
    h.ok(streaming(rd, 3), 'the feed is back at once')
    h.must(A, 'PARTICIPANT ADD party=TR name="After The Cut"')
    h.is_(names(W, 1), ['After The Cut'], 'the next line is the next '
          'change: the delivered one did not come again')
    h.drain(W2)

with h.section('a slot dropped while its daemon runs: said, and made anew'):
    G = rd.login('gone')
    mark = len(rd.log())
    pg.psql('ALTER DATABASE roster ALLOW_CONNECTIONS false', db='postgres')
    pg.query("SELECT pg_terminate_backend(active_pid) FROM "
             "pg_replication_slots WHERE slot_name = '%s'" % s1)
    h.ok(h.wait_for(lambda: pg.scalar(
        "SELECT active_pid IS NULL FROM pg_replication_slots WHERE "
        "slot_name = '%s'" % s1) == 't', 10), 'its walsender has ended')
    pg.query("SELECT pg_drop_replication_slot('%s')" % s1)
    # committed while the daemon has no slot: it never reaches it
    pg.query("UPDATE roster.app_user SET enabled = false WHERE "
             "name = 'gone'")
    pg.psql('ALTER DATABASE roster ALLOW_CONNECTIONS true', db='postgres')
    h.ok(h.wait_for(lambda: 'feed: streaming' in rd.log()[mark:], 20),
         'the daemon streams again')
    log = rd.log()[mark:]
    h.like(log, r'replication slot %s is gone \(dropped\): changes made '
           r'since may be missed' % s1, 'and logs that changes may have '
           'been missed')
    h.is_(pg.scalar("SELECT count(*) FROM pg_replication_slots WHERE "
                    "slot_name = '%s' AND active_pid IS NOT NULL" % s1), '1',
          'from a new slot of the same name')
    h.must(A, 'PARTICIPANT ADD party=TR name="New Slot"')
    h.is_(names(W, 1), ['New Slot'], 'which carries the next change')
    h.ok(h.wait_for(lambda: G.request('WHOAMI').fields.get('user') == '-',
                    10), 'every session is read again: the user disabled '
         'meanwhile is logged out')
    h.is_(A.request('WHOAMI').final, 'OK user=admin role=admin',
          'the others stay')
    G.close()
    h.drain(W2)

with h.section('a subtransaction rolled back sends nothing'):
    pg.query("BEGIN; SAVEPOINT one; %s; ROLLBACK TO SAVEPOINT one; "
             "SAVEPOINT two; %s; RELEASE SAVEPOINT two; COMMIT"
             % (add_sql('Rolled Back'), add_sql('Kept After')))
    h.is_(names(W, 1), ['Kept After'], 'the write after the rolled-back '
          'savepoint is delivered, the rolled-back one is not')
    h.ok(h.quiet(W, 0.5), 'and nothing else')
    h.is_(pg.scalar("SELECT count(*) FROM roster.participant WHERE name IN "
                    "('Rolled Back', 'Kept After')"), '1',
          'only the kept write is in the database')
    pg.query("BEGIN; %s; ROLLBACK" % add_sql('Whole Rollback'))
    h.must(A, 'PARTICIPANT ADD party=TR name="Next One"')
    h.is_(names(W, 1), ['Next One'], 'a transaction rolled back whole '
          'sends nothing either')

with h.section('messages not signed by rosterd for their transaction'):
    key = bytes.fromhex(pg.scalar("SELECT encode(key, 'hex') FROM "
                                  "roster.notify_key"))
    body = '{"event":"E1","kind":"participant.added","name":"Forged"}'
    # a genuine message, seen through a slot of our own
    pg.query("SELECT pg_create_logical_replication_slot('spy', "
             "'test_decoding')")
    h.must(A, 'PARTICIPANT ADD party=TR name="Spied On"')
    h.is_(names(W, 1), ['Spied On'], 'a real change')
    # two in one transaction, as a batch of the pool's group commit
    pg.query('SELECT (%s), (%s)' % (add_sql('Spied Twice'),
                                     add_sql('Spied Thrice')))
    h.is_(names(W, 2), ['Spied Twice', 'Spied Thrice'],
          'two changes of one transaction')
    seen = [r[0] for r in pg.query(
        "SELECT data FROM pg_logical_slot_get_changes('spy', NULL, NULL) "
        "WHERE data LIKE 'message:%prefix: roster,%'")]
    pg.query("SELECT pg_drop_replication_slot('spy')")
    genuine = seen[0].split('content:', 1)[1] if seen else ''
    h.like(genuine, r'^[0-9a-f]{64} \d+ \{', 'its content: MAC XID BODY')
    pair = [x.split('content:', 1)[1].split(' ', 2)[:2] for x in seen[1:]]
    h.ok(len(pair) == 2 and pair[0] == pair[1] and pair[0] != genuine.split(
        ' ', 2)[:2], 'the two of one transaction carry its MAC and id, '
         'computed once; another transaction has its own', '    %r' % pair)

    def emit(content, prefix='roster', transactional='true'):
        pg.query("SELECT pg_logical_emit_message(%s, '%s', '%s')"
                 % (transactional, prefix, content.replace("'", "''")))

    def signed(k, xid, channel='roster', b=body):
        mac = hmac.new(k, ('%s %s' % (channel, xid)).encode(),
                       hashlib.sha256).hexdigest()
        return '%s %s %s' % (mac, xid, b)

    emit(body)                                          # unsigned
    emit(genuine)                                       # a replay
    xid = pg.scalar("SELECT pg_current_xact_id()")      # a past transaction
    emit(signed(key, xid))                              # signed for it
    emit(signed(b'\x01' * 32, xid))                     # another key
    emit(signed(key, xid), transactional='false')       # not transactional
    emit(signed(key, xid, 'roster_user', 'admin'), prefix='roster_user')
    emit('admin', prefix='roster_user')
    h.ok(h.quiet(W, 1), 'unsigned, replayed, signed for another transaction '
         'or with another key, and non-transactional messages reach no '
         'watcher')
    h.is_(A.request('WHOAMI').final, 'OK user=admin role=admin',
          'a forged user change logs nobody out')
    # the check is the transaction's: signed for its own, it is taken
    pg.query("SELECT pg_logical_emit_message(true, 'roster', encode("
             "roster._hmac_sha256(decode('%s', 'hex'), convert_to('roster ' "
             "|| pg_current_xact_id(), 'UTF8')), 'hex') || ' ' "
             "|| pg_current_xact_id() || ' ' || '%s')"
             % (key.hex(), body))
    h.is_(names(W, 1), ['Forged'], 'signed with the key for its own '
          'transaction, a message is delivered (what refused the others '
          'was the signature)')
    h.must(A, 'PARTICIPANT ADD party=TR name="Real Again"')
    h.is_(names(W, 1), ['Real Again'], 'the next line is the next change')
    h.is_(rd.log().count('not signed by rosterd'), 1,
          'the forgeries are logged once')

with h.section('a restarted daemon starts from a new slot'):
    W2.close()
    h.is_(rd2.stop(), 0, 'the second daemon stops')
    # its walsender ends a moment after the daemon's connection closes
    unused, deadline = None, time.time() + 10
    while unused != 't' and time.time() < deadline:
        unused = pg.scalar("SELECT active_pid IS NULL FROM "
                           "pg_replication_slots WHERE slot_name = '%s'"
                           % s2)
        if unused != 't':
            time.sleep(0.05)
    h.is_(unused, 't', 'its slot stays, unused')
    h.must(A, 'PARTICIPANT ADD party=TR name="While Away"')
    h.is_(names(W, 1), ['While Away'], 'a change while it is away')
    rd2.start()
    h.is_(slot_of(rd2), s2, 'the same configuration: the same slot name')
    h.ok(streaming(rd2, 2), 'it streams')
    W2 = rd2.login('admin')
    h.ok_reply(W2.request('WATCH event=E1'), 'WATCH on it')
    h.must(A, 'PARTICIPANT ADD party=TR name="Back Again"')
    h.is_(names(W2, 1), ['Back Again'], 'its watcher gets the next change, '
          'not the one from before its start')
    h.is_(pg.scalar("SELECT count(*) FROM pg_replication_slots"), '2',
          'still one slot per daemon')
    h.drain(W)

with h.section('the requirements are said at start'):
    pg.query("CREATE ROLE norepl LOGIN; GRANT pg_read_all_data TO norepl")
    bad = env.rosterd(start=False, migrate=False,
                      database='host=127.0.0.1 port=%d dbname=roster '
                      'user=norepl' % pg.port)
    p = bad.command('-f', timeout=30)
    h.ok(p.returncode != 0 and 'REPLICATION' in p.stdout + p.stderr,
         'a role without REPLICATION: rosterd refuses to start and says '
         'to give it REPLICATION', '    %r' % (p.stdout + p.stderr)[-300:])
    bad2 = env.rosterd(start=False, migrate=False, feed_slot='Not-Valid')
    p = bad2.command('-f', timeout=30)
    h.ok(p.returncode != 0 and 'feed_slot' in p.stdout + p.stderr,
         'feed_slot must be a-z, 0-9 and _', '    %r' % p.stderr[-200:])

with h.section('a server without wal_level = logical is refused at start'):
    other = h.Postgres(os.path.join(env.tmp, 'replica'))
    other.template_base = pg.template_base
    other.init()
    with open(os.path.join(other.data, 'postgresql.conf'), 'a') as f:
        f.write('wal_level = replica\n')
    other.start()
    other.createdb()
    bad3 = env.rosterd(start=False, migrate=False,
                       database=other.conninfo)
    p = bad3.command('--migrate')
    h.is_(p.returncode, 0, '--migrate works there (the publication is made)')
    p = bad3.command('-f', timeout=30)
    h.ok(p.returncode != 0 and
         'wal_level = logical' in p.stdout + p.stderr and
         'REPLICATION' in p.stdout + p.stderr,
         'rosterd refuses to start and says what to set',
         '    %r' % (p.stdout + p.stderr)[-400:])
    other.stop('immediate')

h.done_testing()
