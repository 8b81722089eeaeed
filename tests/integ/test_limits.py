"""test_limits.py -- what one hostile client costs everyone else (issue 7,
the connection layer): memory bounded while a request holds the
connection (a LOGIN or EXPORT flood that never reads), replies not yet
written bounded over many connections, login_timeout, write_timeout, empty
lines that are not activity, max_connections_per_address against bare TCP
connections, repeated log lines summarised, and a client certificate whose
CN holds a NUL. Each section measures (RSS, lines, seconds) and says so in
its diagnostics."""

import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ML = 1024
NPART = 3000
env, rd = h.setup(max_line=ML, max_pending=16, db_connections=2)
pg = env.pg
ASAN = rd.asan
MB = 1 << 10                    # in kB, as VmRSS counts


def rss_settled(d, quiet=1.0, timeout=10):
    """VmRSS once it has stopped changing by more than 1 MB for quiet s."""
    last, since = d.rss_kb(), time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = d.rss_kb()
        if abs(now - last) > 1024:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return d.rss_kb()


def flood(c, chunk, seconds=8.0, cap=48 << 20, stall=2.0):
    """Send chunk again and again without reading, until the daemon stops
    taking bytes for stall seconds, cap bytes are sent or seconds pass.
    Returns (bytes sent, stalled)."""
    c.sock.setblocking(False)
    pending, sent = b'', 0
    t0 = last = time.monotonic()
    while time.monotonic() - t0 < seconds and sent < cap:
        if not pending:
            pending = chunk
        try:
            n = c.sock.send(pending)
            pending = pending[n:]
            sent += n
            last = time.monotonic()
            continue
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                BlockingIOError, InterruptedError):
            pass
        if time.monotonic() - last > stall:
            return sent, True
        select.select([], [c.sock], [], 0.05)
    return sent, False


# --- data: an event with NPART participants -----------------------------
A = rd.login('admin')
h.event(A, 'E1')
pg.query("INSERT INTO roster.delegation (event_id, party_id) SELECT e.id, "
         "p.id FROM roster.event e, roster.party p WHERE e.code = 'E1' AND "
         "p.code IN ('DE', 'FR', 'IT')")
pg.query("""
    INSERT INTO roster.participant (delegation_id, name, email, badge)
    SELECT d.id, 'Participant ' || g || ' ' || repeat('x', 60),
        'p' || g || '@example.org',
        'ZZ' || translate(lpad(to_hex(g), 8, '0'), '0123456789abcdef',
                          'ABCDEFGHIJKLMNOP')
    FROM generate_series(1, {n}) g
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn
          FROM roster.delegation) d ON d.rn = g % 3 + 1
""".format(n=NPART))
r = A.request('PARTICIPANT LIST event=E1')
LIST_BYTES = sum(len(x) + 1 for x in r.lines)
h.diag('PARTICIPANT LIST event=E1: %d records, %d bytes'
       % (len(r.records), LIST_BYTES))
# Warm up: a failed LOGIN (a memory-hard hash), certificates, an export.
A.login('nobody', 'not the password at all')
rd.cert_login('admin').close()
A.request('EXPORT what=participants event=E1')
A.close()

with h.section('a LOGIN flood that never reads, before logging in'):
    base = rss_settled(rd)
    c = rd.connect(rcvbuf=65536, sndbuf=65536)
    chunk = b'LOGIN user=flood1 password="wrong wrong wrong"\n' * 1000
    sent, stalled = flood(c, chunk)
    grown = rd.rss_kb() - base
    h.diag('LOGIN flood: sent %.1f MB; RSS %d -> %d kB (+%d kB)'
           % (sent / 1e6, base, base + grown, grown))
    # The LOGINs are still answered, slowly (a hash, then RATE_LIMITED):
    # the flood is read as fast as they are, no faster.
    h.cmp_ok(sent, '<', 8 << 20, 'the daemon took less than 8 MB of a '
             'LOGIN flood in 8 s')
    limit = 512 * MB if ASAN else 16 * MB   # ASan: its quarantine (256 MB)
    h.cmp_ok(grown, '<', limit, 'RSS grew less than %d MB' % (limit >> 10))
    c.close()
    with rd.connect(timeout=10) as c2:
        h.is_(c2.request('PING').final, 'OK pong', 'others are served')

with h.section('an EXPORT flood that never reads, logged in'):
    base = rss_settled(rd)
    crt, key = env.certs.client('admin')
    c = rd.connect(cert=crt, key=key, rcvbuf=16384, sndbuf=65536)
    h.is_(c.greeting.fields.get('user'), 'admin', 'logged in by certificate')
    sent, stalled = flood(c, b'EXPORT what=participants event=E1\n' * 1000)
    grown = rd.rss_kb() - base
    h.diag('EXPORT flood: sent %.1f MB; RSS %d -> %d kB (+%d kB)'
           % (sent / 1e6, base, base + grown, grown))
    h.ok(stalled, 'the daemon stops reading an EXPORT flood')
    h.cmp_ok(sent, '<', 8 << 20, 'it took less than 8 MB of it')
    limit = 512 * MB if ASAN else 16 * MB   # ASan: its quarantine (256 MB)
    h.cmp_ok(grown, '<', limit, 'RSS grew less than %d MB' % (limit >> 10))
    c.close()
    after = rss_settled(rd, quiet=2.0)
    h.diag('after the client left: RSS %d kB' % after)
    h.cmp_ok(after - base, '<', limit, 'and stays so once it has left')
    with rd.connect(timeout=10) as c2:
        h.is_(c2.request('PING').final, 'OK pong', 'others are served')

with h.section('small requests first, then large LISTs, never read'):
    # Answers to PING shrink the estimate of a reply's size to nothing; the
    # LISTs pipelined then still count: at most a few are built at once.
    NCONN = 6
    base = rss_settled(rd)
    crt, key = env.certs.client('admin')
    conns = [rd.connect(cert=crt, key=key, rcvbuf=16384, sndbuf=16384)
             for _ in range(NCONN)]
    for c in conns:
        c.pipeline(['PING'] * 60)
    line = b'PARTICIPANT LIST event=E1\n'
    threads, res = [], {}
    for i, c in enumerate(conns):
        def go(i=i, c=c):
            res[i] = flood(c, line * 200, seconds=10, stall=3.0)
        threads.append(threading.Thread(target=go, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    peak = rss_settled(rd, quiet=2.0, timeout=20)
    grown = peak - base
    h.diag('%d connections x 60 PINGs read, then PARTICIPANT LISTs not '
           'read: RSS %d -> %d kB (+%d kB, %d kB a connection)'
           % (NCONN, base, peak, grown, grown // NCONN))
    h.ok(all(res.get(i, (0, False))[1] for i in range(NCONN)),
         'the daemon stops reading every one of them')
    # max_pending (16) LISTs each would be 16 x 579 kB x 6 = 55 MB; four
    # in flight, and what waits to be written, are less than 3 MB each.
    limit = (512 if ASAN else 16) * MB
    h.cmp_ok(grown, '<', limit, 'RSS grew less than %d MB' % (limit >> 10))
    for c in conns:
        c.close()

with h.section('large LISTs pipelined on many connections, never read'):
    NCONN = 6
    base = rss_settled(rd)
    crt, key = env.certs.client('admin')
    conns = [rd.connect(cert=crt, key=key, rcvbuf=16384, sndbuf=16384)
             for _ in range(NCONN)]
    line = b'PARTICIPANT LIST event=E1\n'
    threads, res = [], {}
    for i, c in enumerate(conns):
        def go(i=i, c=c):
            res[i] = flood(c, line * 200, seconds=10, stall=3.0)
        threads.append(threading.Thread(target=go, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    peak = rss_settled(rd, quiet=2.0, timeout=20)
    grown = peak - base
    h.diag('%d connections x PARTICIPANT LIST (%d bytes each), not read: '
           'RSS %d -> %d kB (+%d kB, %d kB a connection)'
           % (NCONN, LIST_BYTES, base, peak, grown, grown // NCONN))
    h.ok(all(res.get(i, (0, False))[1] for i in range(NCONN)),
         'the daemon stops reading every one of them')
    # Each may have about five replies built (the first estimate lets 256 kB
    # / 64 kB requests in), not max_pending (16) of them: 16 x 579 kB x 6
    # would be 55 MB.
    limit = (512 if ASAN else 32) * MB
    h.cmp_ok(grown, '<', limit, 'RSS grew less than %d MB' % (limit >> 10))
    with rd.connect(timeout=10) as c2:
        h.is_(c2.request('PING').final, 'OK pong', 'others are served')
    # A client that reads after all gets every reply, whole and in order.
    c = conns[0]
    c.sock.setblocking(True)
    got = []
    try:
        for _ in range(5):
            got.append(c.read_reply(timeout=20))
    except Exception as e:  # reported below
        h.diag('reading: %r' % e)
    h.is_([(x.final, len(x.records)) for x in got],
          [('OK count=%d' % NPART, NPART)] * 5,
          'the first replies arrive whole once it reads')
    for c in conns:
        c.close()

with h.section('repeated log lines are summarised'):
    name = 'flood2'
    c = rd.connect()
    for _ in range(5):          # five failures: the user is rate-limited
        c.login(name, 'wrong wrong wrong')
    r = c.login(name, 'wrong wrong wrong')
    h.err_reply(r, 'RATE_LIMITED', '%s is rate-limited' % name)
    before = len(rd.log().splitlines())
    t0 = time.monotonic()
    n = 0
    batch = ['LOGIN user=%s password="wrong wrong wrong"' % name] * 50
    while time.monotonic() - t0 < 3.0:
        n += len(c.pipeline(batch, timeout=30))
    secs = time.monotonic() - t0
    # and a burst of connections opened and closed
    for _ in range(100):
        s = rd.connect(greeting=False)
        s.close()
    time.sleep(1.0)
    lines = rd.log().splitlines()[before:]
    h.diag('%d rate-limited LOGINs in %.1f s (%.0f/s), 100 connections '
           'opened and closed: %d log lines (%.0f/s)'
           % (n, secs, n / secs, len(lines), len(lines) / secs))
    h.cmp_ok(n, '>', 500, 'the flood got more than 500 answers')
    h.ok(len(lines) < 100, 'fewer than 100 log lines for it all',
         '    %d lines; the first:' % len(lines), *lines[:20])
    c.close()

def ca_signed(name, subj, patch=None):
    """A certificate for subj signed by the test CA, with the test client
    key of 'flood3': made self-signed (its DER patched by patch=(old, new)
    bytes of the same length, then signed again by its own key), then
    signed by the CA with no extensions. Returns (cert, key)."""
    d = os.path.join(env.tmp, 'made')
    os.makedirs(d, exist_ok=True)
    _, key = env.certs.client('flood3')
    ss = os.path.join(d, name + '.ss.crt')
    h.run(['openssl', 'req', '-x509', '-new', '-key', key, '-subj', subj,
           '-days', '30', '-out', ss])
    if patch:
        der = subprocess.run(['openssl', 'x509', '-in', ss, '-outform',
                              'DER'], stdout=subprocess.PIPE,
                             check=True).stdout
        with open(ss + '.der', 'wb') as f:
            f.write(der.replace(*patch))
        h.run(['openssl', 'x509', '-in', ss + '.der', '-inform', 'DER',
               '-key', key, '-out', ss])
    crt = os.path.join(d, name + '.crt')
    h.run(['openssl', 'x509', '-in', ss, '-CA', env.certs.ca, '-CAkey',
           os.path.join(env.certs.dir, 'ca.key'), '-CAcreateserial',
           '-clrext', '-days', '30', '-out', crt])
    h.run(['openssl', 'verify', '-CAfile', env.certs.ca, crt])
    return crt, key


with h.section('a client certificate whose CN holds a NUL'):
    crt, key = ca_signed('nul', '/CN=adminX.evil',
                         (b'adminX.evil', b'admin\x00.evil'))
    subj = h.run(['openssl', 'x509', '-in', crt, '-noout', '-subject'])
    h.like(subj.stdout, r'admin\\00\.evil', 'the certificate names '
           'admin\\0.evil')
    with rd.connect(cert=crt, key=key) as c:
        h.is_(c.greeting.final, h.GREETING,
              'CN admin\\0.evil logs no one in')
        h.is_(c.request('WHOAMI').final, 'OK user=-', 'WHOAMI: no user')
    rd.add_user('a' * 32, 'admin')
    crt, key = ca_signed('long', '/CN=' + 'a' * 40)
    with rd.connect(cert=crt, key=key) as c:
        h.is_(c.greeting.final, h.GREETING, 'a CN of 40 characters logs '
              'no one in (not cut to an existing user)')
    crt, key = ca_signed('two', '/CN=admin/CN=nobody')
    with rd.connect(cert=crt, key=key) as c:
        h.is_(c.greeting.final, h.GREETING, 'a subject with two CNs logs '
              'no one in')
    crt, key = ca_signed('ok', '/CN=admin')
    with rd.connect(cert=crt, key=key) as c:
        h.is_(c.greeting.fields.get('user'), 'admin',
              'a certificate made the same way for CN=admin logs admin in')

# --- short deadlines ------------------------------------------------------
with h.section('login_timeout, write_timeout, empty lines'):
    rd2 = env.rosterd(name='rosterd-deadlines', login_timeout=2,
                      write_timeout=3, idle_timeout=3, max_line=ML)

    def pinger(c, every, line='PING'):
        """Send line every s seconds, reading answers, until closed; the
        seconds it stayed open (None: open after 10 s)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            try:
                c.send(line)
                if line:
                    c.read_reply(timeout=5)
                elif c.closed_within(every):
                    return time.monotonic() - t0
                else:
                    continue
            except (OSError, h.Closed, ssl.SSLError):
                return time.monotonic() - t0
            time.sleep(every)
        return None

    res = {}
    crt, key = env.certs.client('admin')

    def anon():
        res['anon'] = pinger(rd2.connect(), 0.5)

    def cert():
        res['cert'] = pinger(rd2.connect(cert=crt, key=key), 0.5)

    def pw():
        res['pw'] = pinger(rd2.login('admin'), 0.5)

    def empty():
        res['empty'] = pinger(rd2.connect(cert=crt, key=key), 0.5, '')

    ts = [threading.Thread(target=f, daemon=True)
          for f in (anon, cert, pw, empty)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    h.diag('stayed open: %r' % res)
    a = res.get('anon')
    h.ok(a is not None and 1.5 <= a <= 6, 'a connection that does not log '
         'in within login_timeout (2 s) is closed, PINGs or not',
         '    %r' % a)
    h.is_(res.get('cert', 0), None, 'a certificate login is a login')
    h.is_(res.get('pw', 0), None, 'so is LOGIN')
    e = res.get('empty')
    h.ok(e is not None and 2.5 <= e <= 8, 'empty lines are not activity: '
         'closed after idle_timeout (3 s)', '    %r' % e)

    # A client that takes no byte of a reply for write_timeout is closed,
    # a paused EXPORT included (E2: more than any socket buffer holds).
    h.event(rd2.login('admin'), 'E2')
    pg.query("INSERT INTO roster.delegation (event_id, party_id) SELECT "
             "e.id, p.id FROM roster.event e, roster.party p WHERE e.code = "
             "'E2' AND p.code = 'DE'")
    pg.query("""
        INSERT INTO roster.participant (delegation_id, name, email, badge)
        SELECT d.id, 'Participant ' || g || ' ' || repeat('y', 150),
            'p' || g || '@example.org',
            'YY' || translate(lpad(to_hex(g), 8, '0'), '0123456789abcdef',
                              'ABCDEFGHIJKLMNOP')
        FROM generate_series(1, 30000) g, roster.delegation d
        JOIN roster.event e ON e.id = d.event_id WHERE e.code = 'E2'
    """)
    time.sleep(0.5)
    fds = rd2.fd_count()
    c = rd2.connect(cert=crt, key=key, rcvbuf=4096)
    c.send('EXPORT what=participants event=E2')
    t0 = time.monotonic()
    h.ok(h.wait_for(lambda: rd2.fd_count() > fds, 5, 0.05),
         'the connection holds a descriptor')
    closed = h.wait_for(lambda: rd2.fd_count() <= fds, 12, 0.1)
    secs = time.monotonic() - t0
    h.ok(closed and secs <= 10, 'a client that reads nothing of an EXPORT '
         'is closed after write_timeout (3 s)', '    %.1f s' % secs)
    c.close()
    # One that reads slowly is not.
    c = rd2.connect(cert=crt, key=key, rcvbuf=4096)
    c.send('EXPORT what=participants event=E1')
    n, t0, alive = 0, time.monotonic(), True
    while time.monotonic() - t0 < 6:
        try:
            c.read_line(timeout=5)
            n += 1
        except (h.Closed, OSError, ssl.SSLError):
            alive = False
            break
        if n % 50 == 0:
            time.sleep(1)
    h.ok(alive, 'a client reading an EXPORT slowly for 6 s stays (%d '
         'lines)' % n)
    c.close()
    with rd2.connect(cert=crt, key=key) as c:
        h.is_(c.request('PING').final, 'OK pong', 'still serving')
    h.is_(rd2.stop(), 0, 'the deadlines daemon exits 0')

with h.section('max_connections_per_address against bare TCP connections'):
    rd3 = env.rosterd(name='rosterd-peraddr', max_connections=70,
                      handshake_timeout=30)
    time.sleep(0.5)
    bare = []
    for _ in range(80):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.2', 0))
        s.settimeout(5)
        s.connect(('127.0.0.1', rd3.port))
        bare.append(s)
    time.sleep(1.0)
    t0 = time.monotonic()
    good = 0
    for _ in range(5):
        try:
            with rd3.connect(timeout=10) as c:
                if c.greeting.ok and c.login('admin').ok:
                    good += 1
        except (OSError, h.Closed, ssl.SSLError) as e:
            h.diag('login: %r' % e)
    h.diag('80 bare TCP connections from 127.0.0.2 held: %d of 5 logins '
           'from 127.0.0.1 succeeded in %.1f s'
           % (good, time.monotonic() - t0))
    h.is_(good, 5, 'logins from another address succeed meanwhile')
    gone = 0
    for s in bare:
        s.setblocking(False)
        try:
            if s.recv(1) == b'':
                gone += 1
        except BlockingIOError:
            pass
        except OSError:
            gone += 1
    h.is_(gone, 16, 'past 64 from one address, connections are closed at '
          'once (16 of 80)')
    for s in bare:
        s.close()
    h.is_(rd3.stop(), 0, 'the per-address daemon exits 0')

# The summaries come once their minute is over, or when rosterd stops.
h.is_(rd.stop(), 0, 'the main daemon exits 0')
h.like(rd.log(), r'request result=RATE_LIMITED addr=127\.0\.0\.1: \d+ more '
       r'like this in the last \d+ s', 'the rate-limited LOGINs summarised')
h.like(rd.log(), r'conn open addr=127\.0\.0\.1: \d+ more like this',
       'the connections opened summarised')
h.done_testing()
