"""test_group_many.py -- registrations of different clients that wait
together go to PostgreSQL as one call (issue 11: daemon/db.c's carriers,
roster.participant_add_many), and each is still answered as if alone:
its own OK or error, its own rows, nothing of a failed one left; a call
that fails as a whole is run again, one by one, unseen; one client's
registrations keep their order.

The pool has one writing connection (db_connections = 2), and a first
registration that sleeps in a trigger holds it, so that what the other
clients send meanwhile waits together."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('fhu', 'focal', 'HU')], db_connections=2,
                  log_level='debug')
pg = env.pg
A = rd.login('admin')
h.event(A, 'E1')
h.event(A, 'E2', status='draft')
for p in ('TR', 'HU', 'DE'):
    h.must(A, 'DELEGATION REGISTER event=E1 party=%s' % p)
h.must(A, 'DELEGATION REGISTER event=E1 party=FR quota=1')

pg.query("""CREATE FUNCTION public.slow_first() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.name LIKE 'Slow First%' THEN
            PERFORM pg_sleep(1);
        END IF;
        RETURN NULL;
    END $$""")
pg.query("CREATE TRIGGER slow_first AFTER INSERT ON roster.participant "
         "FOR EACH ROW EXECUTE FUNCTION public.slow_first()")
# the transaction each participant was written in
pg.query("CREATE TABLE public.written (name text, xid bigint)")
pg.query("""CREATE FUNCTION public.note_written() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO public.written VALUES (NEW.name, txid_current());
        RETURN NULL;
    END $$""")
pg.query("CREATE TRIGGER note_written AFTER INSERT ON roster.participant "
         "FOR EACH ROW EXECUTE FUNCTION public.note_written()")

clients = [rd.login('admin') for _ in range(12)]
focal = rd.login('fhu')
slow_n = 0


def count(sql):
    return int(pg.scalar(sql))


def together(sends, meanwhile=None):
    """sends: (connection, [lines]). A slow registration first holds the
    writing connection; then meanwhile() is called, if given, each
    connection sends its lines, and once the slow one is answered, every
    reply is read, by connection."""
    global slow_n
    slow_n += 1
    S = clients[-1]
    S.send('PARTICIPANT ADD event=E1 party=DE name=%s'
           % h.quote('Slow First %d' % slow_n))
    h.wait_for(lambda: count(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
        "'PgSleep'") == 1, 20)
    if meanwhile is not None:
        meanwhile()
    for c, lines in sends:
        for line in lines:
            c.send(line)
    h.ok(S.read_reply(30).ok, 'the slow registration is answered OK')
    return [[c.read_reply(30) for _ in lines] for c, lines in sends]


def calls_logged():
    """(writes, calls) of each batch the daemon logged so far."""
    out = []
    for line in rd.log().splitlines():
        if 'writes in one transaction,' in line:
            words = line.split()
            i = words.index('writes')
            out.append((int(words[i - 1]),
                        int(words[words.index('calls') - 1])))
    return out


def code(r):
    return 'OK' if r.ok else r.code


with h.section('each registration of a shared call has its own answer'):
    first = h.must(A, 'PARTICIPANT ADD event=E1 party=DE name=%s ref=rp1'
                   % h.quote('Replayed'))
    before = len(calls_logged())
    sends = [
        (clients[0], ['PARTICIPANT ADD event=E1 party=DE name="Many One"']),
        (clients[1], ['PARTICIPANT ADD event=E1 party=JP name="No Delegation"']),
        (clients[2], ['PARTICIPANT ADD event=E1 party=TR name="Head A" '
                      'role=head']),
        (clients[3], ['PARTICIPANT ADD event=E1 party=TR name="Head B" '
                      'role=head']),
        (clients[4], ['PARTICIPANT ADD event=E1 party=FR name="Quota A"']),
        (clients[5], ['PARTICIPANT ADD event=E1 party=FR name="Quota B"']),
        (clients[6], ['PARTICIPANT ADD event=E1 party=DE name="Replayed" '
                      'ref=rp1']),
        (clients[7], ['PARTICIPANT ADD event=E2 party=DE name="Draft Event"']),
        (clients[8], ['PARTICIPANT ADD event=E1 party=HU '
                      'name="  Spaced   Name  " family=" Spaced "']),
        (focal, ['PARTICIPANT ADD event=E1 party=HU name="Focal Own"']),
        (clients[9], ['PARTICIPANT ADD event=E1 party=DE name="Many Two" '
                      'email=two@example.org title=Adviser']),
    ]
    got = [code(rs[0]) for rs in together(sends)]
    replies = dict(zip(['one', 'jp', 'ha', 'hb', 'qa', 'qb', 'replay',
                        'draft', 'spaced', 'focal', 'two'], got))
    h.is_([replies[k] for k in ('one', 'spaced', 'focal', 'two')],
          ['OK'] * 4, 'the usual ones are OK')
    h.is_(replies['jp'], 'NOT_FOUND', 'a party with no delegation: NOT_FOUND')
    h.is_(sorted([replies['ha'], replies['hb']]), ['CONFLICT', 'OK'],
          'two heads of one delegation: one OK, one CONFLICT')
    h.is_(sorted([replies['qa'], replies['qb']]), ['OK', 'QUOTA'],
          'two into a quota of 1: one OK, one QUOTA')
    h.is_(replies['replay'], 'OK', 'a ref used before is OK')
    h.is_(replies['draft'], 'CLOSED', 'an event not open: CLOSED')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name IN "
                "('No Delegation', 'Draft Event')"), 0,
          'the refused left nothing')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Head _' OR name LIKE 'Quota _'"), 2,
          'of the heads and the quota, one each')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name = "
                "'Replayed'"), 1, 'the replayed one is not written twice')
    h.is_(pg.scalar("SELECT name || '/' || family FROM roster.participant "
                    "WHERE name LIKE 'Spaced%'"), 'Spaced   Name/Spaced',
          'values written as alone (trimmed)')
    h.is_(pg.scalar("SELECT pa.code FROM roster.participant p JOIN "
                    "roster.delegation d ON d.id = p.delegation_id JOIN "
                    "roster.party pa ON pa.id = d.party_id WHERE p.name = "
                    "'Focal Own'"), 'HU', "a focal point's into their own")
    h.is_(pg.scalar("SELECT email || '/' || title FROM roster.participant "
                    "WHERE name = 'Many Two'"), 'two@example.org/Adviser',
          'e-mail and title written')
    ok_names = ('Many One', 'Spaced   Name', 'Focal Own', 'Many Two')
    h.is_(count("SELECT count(*) FROM roster.audit a JOIN "
                "roster.participant p ON a.target = 'E1/participant/' || p.id "
                "WHERE a.command = 'PARTICIPANT ADD' AND p.name IN (%s)"
                % ', '.join("'%s'" % n for n in ok_names)), 4,
          'one audit row each')
    h.is_(count("SELECT count(DISTINCT xid) FROM public.written WHERE name "
                "IN (%s)" % ', '.join("'%s'" % n for n in ok_names)), 1,
          'they shared a transaction')
    merged = [(w, c) for w, c in calls_logged()[before:] if c < w]
    h.ok(merged, 'writes went as fewer calls than writes',
         '    %r' % calls_logged()[before:])

with h.section('a shared call that fails is run again, one by one, unseen'):
    pg.query("CREATE SEQUENCE public.fail_once")
    pg.query("""CREATE FUNCTION public.fail_once() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            IF NEW.name = 'Retried Many'
               AND nextval('public.fail_once') = 1 THEN
                RAISE EXCEPTION 'could not serialize (test)'
                    USING ERRCODE = '40001';
            END IF;
            IF NEW.name = 'Always Bad' THEN
                RAISE EXCEPTION 'refused by a trigger (test)';
            END IF;
            RETURN NULL;
        END $$""")
    pg.query("CREATE TRIGGER fail_once AFTER INSERT ON roster.participant "
             "FOR EACH ROW EXECUTE FUNCTION public.fail_once()")
    log_at = len(rd.log())
    names = ['Retry Many %d' % i for i in range(6)]
    names[3] = 'Retried Many'
    rs = together([(clients[i], ['PARTICIPANT ADD event=E1 party=DE name=%s'
                                 % h.quote(n)]) for i, n in enumerate(names)])
    h.is_([code(r[0]) for r in rs], ['OK'] * 6, 'every one is OK')
    h.is_(count("SELECT last_value FROM public.fail_once"), 2,
          'the failing one ran twice')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name = "
                "'Retried Many' OR name LIKE 'Retry Many %'"), 6,
          'each committed once')
    # one call, its COMMIT sent behind it: the failure rolled the batch
    # back (the COMMIT answered ROLLBACK), and every write ran again
    h.like(rd.log()[log_at:], r'a call of a batch failed; its writes run again',
           'the COMMIT sent behind the call answered ROLLBACK')

    names = ['Beside Bad %d' % i for i in range(5)]
    names[2] = 'Always Bad'
    rs = together([(clients[i], ['PARTICIPANT ADD event=E1 party=HU name=%s'
                                 % h.quote(n)]) for i, n in enumerate(names)])
    h.is_([code(r[0]) for r in rs], ['OK', 'OK', 'INTERNAL', 'OK', 'OK'],
          'a failure of the shared statement fails only its own')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name LIKE "
                "'Beside Bad %'"), 4, 'the others committed')
    h.is_(count("SELECT count(*) FROM roster.participant WHERE name = "
                "'Always Bad'"), 0, 'the failed one left nothing')
    pg.query('DROP TRIGGER fail_once ON roster.participant')

with h.section('a badge that is taken: the shared call is done one by one'):
    # _badge() draws a code that a participant has for its first two calls
    # once the slow registration holds the connection: the first of the
    # shared statement (which fails), and the first of participant_add,
    # which draws again
    pg.query("CREATE TABLE public.badge_src AS SELECT prosrc FROM pg_proc "
             "WHERE oid = 'roster._badge()'::regprocedure")
    pg.query("UPDATE roster.participant SET badge = 'TAKEN2345A' "
             "WHERE name = 'Many One'")
    pg.query("CREATE SEQUENCE public.badge_draws")

    def badge_body(body):
        pg.query("DO $$ BEGIN EXECUTE format('CREATE OR REPLACE FUNCTION "
                 "roster._badge() RETURNS text LANGUAGE sql AS %%L', "
                 "(SELECT %s FROM public.badge_src)); END $$" % body)

    before = len(calls_logged())
    names = ['Badge Drawn %d' % i for i in range(4)]
    rs = together([(clients[i], ['PARTICIPANT ADD event=E1 party=TR name=%s'
                                 % h.quote(n)]) for i, n in enumerate(names)],
                  meanwhile=lambda: badge_body(
                      "'SELECT CASE WHEN nextval(''public.badge_draws'') <= 2 "
                      "THEN ''TAKEN2345A'' ELSE (' || prosrc || ') END'"))
    badge_body('prosrc')
    h.is_([code(r[0]) for r in rs], ['OK'] * 4, 'every one is OK')
    h.ok(count("SELECT last_value FROM public.badge_draws") > 4,
         'the taken code was drawn, and others after it (4 without a '
         'refusal)')
    badges = [r[0].fields.get('badge') for r in rs]
    h.is_(sorted(set(badges)), sorted(badges), 'four badges, all different')
    h.ok('TAKEN2345A' not in badges, 'none of them the one taken')
    h.is_(sorted(row[0] for row in pg.query(
        "SELECT badge FROM roster.participant WHERE name LIKE 'Badge Drawn %'")),
        sorted(badges), 'the badges answered are those written')
    h.is_(count("SELECT count(*) FROM roster.audit WHERE command = "
                "'PARTICIPANT ADD' AND detail->>'name' LIKE 'Badge Drawn %'"),
          4, 'one audit row each')
    h.ok(any(c < w for w, c in calls_logged()[before:]),
         'they went as one shared call', '    %r' % calls_logged()[before:])


with h.section("one client's registrations keep their order"):
    lines = ['PARTICIPANT ADD event=E1 party=TR name=%s' % h.quote(
        'Ordered %d' % i) for i in range(5)]
    sends = [(clients[0], lines)] + [
        (clients[i], ['PARTICIPANT ADD event=E1 party=HU name=%s'
                      % h.quote('Beside %d' % i)]) for i in range(1, 8)]
    rs = together(sends)
    h.ok(all(r.ok for rr in rs for r in rr), 'every one is OK')
    ids = [int(r.fields['id']) for r in rs[0]]
    h.is_(ids, sorted(ids), 'the pipelined ones in the order sent')
    h.is_([row[0] for row in pg.query(
        "SELECT name FROM roster.participant WHERE name LIKE 'Ordered %' "
        "ORDER BY id")], ['Ordered %d' % i for i in range(5)],
        'written in that order')

h.done_testing()
