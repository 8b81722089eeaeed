"""test_login_limits.py -- the login limits of PROTOCOL.md section 4 under
concurrency (issue 7, items 2 and 3): a wrong password is counted before it
is checked, so that however many arrive at once, on however many daemons,
at most five per user per minute are ever evaluated; an address is counted
by its /32 (IPv4) or /64 (IPv6); an attempt that cannot be counted is
refused with UNAVAILABLE; PASSWORD's old= is counted the same way; Argon2
is shared fairly between connections (one job per connection at a time,
round robin) and its queue is bounded (BUSY past it).

Each section connects from its own loopback address (127.0.0.N), so that
the per-address count of one section does not spill into the next."""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
WRONG = 'not the password at all'

env, rd = h.setup(users=[('victim', 'host', None), ('pwuser', 'host', None),
                         ('other', 'host', None), ('fair', 'host', None)]
                  + [('flood%d' % i, 'host', None) for i in range(4)])
rd2 = env.rosterd(migrate=False)


def connect_from(daemon, source, **kw):
    """A Client of daemon whose TCP connection comes from source (an
    address of the loopback interface: every 127.0.0.N is one)."""
    def tcp(host, port, timeout=10.0, rcvbuf=None, sndbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((source, 0))
            s.settimeout(timeout)
            s.connect((host, port))
        except BaseException:
            s.close()
            raise
        return s
    saved = h.tcp_connect
    h.tcp_connect = tcp
    try:
        return daemon.connect(**kw)
    finally:
        h.tcp_connect = saved


def at_once(conns, lines, timeout=60):
    """Send lines[i] on conns[i], all before reading any reply; the
    replies, in order."""
    for c, line in zip(conns, lines):
        c.send(line)
    return [c.read_reply(timeout) for c in conns]


def codes(replies):
    out = {}
    for r in replies:
        key = r.code if r.kind == 'ERR' else 'OK'
        out[key] = out.get(key, 0) + 1
    return out


with h.section('40 wrong passwords at once, on two daemons'):
    conns = [connect_from(rd if i % 2 == 0 else rd2, '127.0.0.2')
             for i in range(40)]
    replies = at_once(conns, ['LOGIN user=victim password="%s %d"'
                              % (WRONG, i) for i in range(40)])
    n = codes(replies)
    evaluated = n.get('AUTH_FAILED', 0)
    h.diag('of 40 simultaneous wrong passwords, %d were evaluated: %r'
           % (evaluated, n))
    h.cmp_ok(evaluated, '<=', 5,
             'at most five of the 40 were evaluated (AUTH_FAILED)')
    h.cmp_ok(evaluated, '>=', 1, 'and some were')
    h.is_(evaluated + n.get('RATE_LIMITED', 0), 40,
          'the others: RATE_LIMITED, before any hash')
    h.err_reply(conns[0].login('victim', PW), 'RATE_LIMITED',
                'then the right password: RATE_LIMITED')
    h.err_reply(conns[1].login('victim', PW), 'RATE_LIMITED',
                'on the other daemon too')
    failed = {r.final for r in replies if r.code == 'AUTH_FAILED'}
    h.ok(len(failed) == 1, 'every evaluated one has the same answer',
         '    %r' % failed)
    for c in conns:
        c.close()

with h.section('an address is counted by /32 (IPv4) and /64 (IPv6)'):
    # the daemon hands the client's address to roster.login_check, which
    # counts each attempt as failed until its password proves right; the
    # loopback has one IPv6 address only, so the /64 is shown with the
    # function the daemon calls, as it calls it
    def limited(user, addr):
        return env.pg.scalar("SELECT limited FROM roster.login_check("
                             "'%s', '%s')" % (user, addr))

    for i in range(50):
        limited('nobody%d' % i, '2001:db8:1:2::%x' % (i + 1))
    h.is_(limited('nobody-else', '2001:db8:1:2:ffff::1'), 'yes',
          'fifty failures from a /64: another address in it is limited')
    h.is_(limited('nobody-else', '2001:db8:1:3::1'), 'no',
          'the next /64 is not')
    for i in range(50):
        limited('someone%d' % i, '192.0.2.7')
    h.is_(limited('someone-else', '::ffff:192.0.2.7'), 'yes',
          'an IPv4 address written as IPv6 (::ffff:) is that address')
    h.is_(limited('someone-else', '192.0.2.8'), 'no',
          'the next IPv4 address is not limited')

with h.section('a failure that cannot be counted: UNAVAILABLE'):
    env.pg.psql("""
        CREATE FUNCTION public.deny_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'no space left (test)'; END $$;
        CREATE TRIGGER deny_insert BEFORE INSERT ON roster.login_failure
            FOR EACH ROW EXECUTE FUNCTION public.deny_insert();""")
    with connect_from(rd, '127.0.0.3') as c:
        h.err_reply(c.login('other', WRONG), 'UNAVAILABLE',
                    'a wrong password that cannot be counted: UNAVAILABLE')
        h.err_reply(c.login('other', PW), 'UNAVAILABLE',
                    'a login that cannot be counted is not checked at all')
        h.is_(c.request('WHOAMI').final, 'OK user=-', 'not logged in')
    env.pg.psql('DROP TRIGGER deny_insert ON roster.login_failure; '
                'DROP FUNCTION public.deny_insert()')
    with connect_from(rd, '127.0.0.3') as c:
        h.ok_reply(c.login('other', PW), 'once it can: logged in',
                   user='other')
    h.like(rd.log(), 'conn=\\d+ login attempt not counted',
           'the daemon logs why')

with h.section("PASSWORD's old= at once on 20 connections"):
    conns = []
    for i in range(20):
        c = connect_from(rd if i % 2 == 0 else rd2, '127.0.0.4')
        r = c.login('pwuser', PW)
        if not r.ok:
            raise RuntimeError('LOGIN pwuser: %s' % r.final)
        conns.append(c)
    replies = at_once(conns, ['PASSWORD old="%s %d" new="%s"' % (WRONG, i, PW)
                              for i in range(20)])
    n = codes(replies)
    h.diag('of 20 simultaneous wrong old passwords, %d were evaluated: %r'
           % (n.get('AUTH_FAILED', 0), n))
    h.cmp_ok(n.get('AUTH_FAILED', 0), '<=', 5,
             'at most five wrong old= were evaluated')
    h.is_(n.get('AUTH_FAILED', 0) + n.get('RATE_LIMITED', 0), 20,
          'the others: RATE_LIMITED')
    h.err_reply(conns[0].request('PASSWORD old="%s" new="%s"' % (PW, PW)),
                'RATE_LIMITED', 'then the right old=: RATE_LIMITED')
    for c in conns:
        c.close()


def login_time(c, user):
    t = time.monotonic()
    r = c.login(user)
    if not r.ok:
        raise RuntimeError('LOGIN %s: %s' % (user, r.final))
    return time.monotonic() - t


with h.section('Argon2 is shared fairly: PASSWORD pipelined on 4 '
               'connections'):
    probe = [connect_from(rd, '127.0.0.5') for _ in range(4)]
    base = sorted(login_time(probe[i], 'fair') for i in range(3))[1]
    h.diag('one LOGIN alone: %.0f ms' % (base * 1000))
    flood = [connect_from(rd, '127.0.0.5') for _ in range(4)]
    for i, c in enumerate(flood):
        if not c.login('flood%d' % i).ok:
            raise RuntimeError('LOGIN flood%d' % i)
    # long enough to be still running when the LOGIN is answered: some
    # four seconds of hashing at the speed just measured (each PASSWORD
    # costs two hashes, and two workers share them)
    NPW = min(60, max(12, int(4.0 / (4 * base))))
    done_at = [None] * 4
    results = [None] * 4

    def drain(i):
        results[i] = [flood[i].read_reply(120) for _ in range(NPW)]
        done_at[i] = time.monotonic()

    threads = [threading.Thread(target=drain, args=(i,), daemon=True)
               for i in range(4)]
    for c in flood:
        c.send_raw(''.join('PASSWORD old="%s" new="%s"\n' % (PW, PW)
                           for _ in range(NPW)))
    for t in threads:
        t.start()
    time.sleep(0.3)
    waited = login_time(probe[3], 'fair')
    replied = time.monotonic()
    for t in threads:
        t.join(150)
    h.diag('LOGIN behind %d pipelined PASSWORDs: %.0f ms (%.1f times one '
           'alone)' % (4 * NPW, waited * 1000, waited / base))
    h.ok(all(r is not None and all(x.ok for x in r) for r in results),
         'every pipelined PASSWORD answered OK')
    h.ok(all(d is not None and d > replied for d in done_at),
         'the LOGIN was answered while every pipeline still ran')
    h.cmp_ok(waited, "<=", 10 * base + 0.3,
             'another user\'s LOGIN waited no more than a few hashes')
    for c in probe + flood:
        c.close()

with h.section('the queue of password checks is bounded: BUSY past it'):
    # 120 users, each logging in once, from three addresses (40 each:
    # below the address limit); all with the right password
    env.pg.psql("INSERT INTO roster.app_user (name, role, hash) "
                "SELECT 'q' || g, 'host', u.hash FROM roster.app_user u, "
                "generate_series(1, 120) g WHERE u.name = 'admin'")
    conns = [connect_from(rd, '127.0.0.%d' % (6 + i % 3)) for i in range(120)]
    replies = at_once(conns, ['LOGIN user=q%d password="%s"' % (i + 1, PW)
                              for i in range(120)], timeout=120)
    n = codes(replies)
    h.diag('120 logins at once: %r' % n)
    h.cmp_ok(n.get('BUSY', 0), '>=', 1, 'some are refused BUSY')
    h.is_(n.get('OK', 0) + n.get('BUSY', 0), 120, 'the others log in')
    busy = [r for r in replies if r.code == 'BUSY']
    if busy:
        h.like(busy[0].text, 'password', 'BUSY says why')
    else:
        h.ok(False, 'BUSY says why')
    again = [c.login('q%d' % (i + 1)) for i, (c, r) in
             enumerate(zip(conns, replies)) if r.code == 'BUSY']
    h.ok(all(r.ok for r in again), 'each refused one logs in when tried '
         'again')
    for c in conns:
        c.close()

h.done_testing()
