"""test_abuse.py -- what a careless or hostile client can do to rosterd
(PROTOCOL.md sections 2 and 3, DESIGN.md "abuse tests"): over-long lines,
invalid UTF-8, NUL and other control bytes, the fourth framing error in a
row, plain text and garbage on the TLS port, abrupt disconnects, a client
that pipelines without reading, deep pipelines of database requests, idle
and trickling clients, stalled handshakes, and max_connections."""

import os
import select
import socket
import ssl
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ML = 1024
env, rd = h.setup(max_line=ML, max_pending=16, db_connections=2,
                  log_level='notice')


def framing_err(r, name):
    return h.ok(r.kind == 'ERR' and r.code in ('SYNTAX', 'TOO_LONG'), name,
                '    got: %r' % r.final)


with h.section('line length'):
    c = rd.connect()
    c.send_raw(b'PING ' + b'x' * 2000 + b'\n')
    h.err_reply(c.read_reply(), 'TOO_LONG', 'a line of 2005 bytes -> TOO_LONG')
    h.is_(c.request('PING').final, 'OK pong', 'connection usable after it')
    c.send_raw(b'PING' + b' ' * (ML - 4) + b'\n')
    h.is_(c.read_reply().final, 'OK pong',
          'a line of exactly max_line bytes is accepted')
    c.send_raw(b'PING' + b' ' * (ML - 3) + b'\n')
    h.err_reply(c.read_reply(), 'TOO_LONG', 'max_line + 1 bytes -> TOO_LONG')
    h.is_(c.request('PING').final, 'OK pong', 'usable again')
    c.send_raw(b'PING' + b' ' * (ML - 4) + b'\r\n')
    r = c.read_reply()
    h.ok(r.final == 'OK pong' or r.code == 'TOO_LONG',
         'max_line bytes + CRLF: pong or TOO_LONG', '    %r' % r.final)
    # A megabyte without LF, in pieces: one TOO_LONG, the rest discarded.
    for _ in range(16):
        c.send_raw(b'A' * 65536)
    c.send_raw(b'\nPING\n')
    h.err_reply(c.read_reply(), 'TOO_LONG', '1 MiB line -> one TOO_LONG')
    h.is_(c.read_reply().final, 'OK pong',
          'bytes up to the LF discarded, the next line served')
    c.close()

with h.section('invalid UTF-8, NUL and controls'):
    c = rd.connect()
    bad = [
        (b'PING \xff', 'byte 0xFF'),
        (b'PING x="\xc0\xaf"', 'overlong encoding'),
        (b'PING x="\xed\xa0\x80"', 'UTF-16 surrogate'),
        (b'PING x="\xf4\x90\x80\x80"', 'above U+10FFFF'),
        (b'PING x="\xe2\x82"', 'truncated sequence'),
        (b'PING x="\x80"', 'lone continuation byte'),
        (b'PI\x00NG', 'NUL in the command'),
        (b'PING x="a\x00b"', 'NUL in a quoted value'),
        (b'PING \x01', 'control 0x01'),
        (b'PING x="\x7f"', 'DEL'),
        (b'PING\tx=1', 'raw TAB'),
        (b'PI\rNG', 'CR not before LF'),
        (b'PING x="\x1b[31m"', 'ESC'),
    ]
    for raw, what in bad:
        c.send_raw(raw + b'\n')
        h.err_reply(c.read_reply(), 'SYNTAX', '%s -> SYNTAX' % what)
        h.is_(c.request('PING').final, 'OK pong', 'usable after %s' % what)
    c.close()

with h.section('framing errors in a row'):
    c = rd.connect()
    seq = [b'PING \xff\n', b'PING ' + b'y' * 1500 + b'\n', b'PI\x00NG\n']
    for raw in seq:
        c.send_raw(raw)
        framing_err(c.read_reply(), 'framing error (%d bytes)' % len(raw))
    h.is_(c.request('PING').final, 'OK pong',
          'three framing errors, then a good line: still open')
    for raw in seq:
        c.send_raw(raw)
        framing_err(c.read_reply(), 'framing error after the reset')
    h.is_(c.request('PING').final, 'OK pong',
          'the good line reset the count: three more are fine')
    c.send_raw(b'BOGUS COMMAND\n')
    h.err_reply(c.read_reply(), 'SYNTAX', 'unknown command: not framing')
    c.send_raw(b'NO SUCH COMMAND AT ALL\n')
    h.err_reply(c.read_reply(), 'SYNTAX', 'unknown command again')
    for _ in range(5):
        c.send('PING x=1')
        h.err_reply(c.read_reply(), 'SYNTAX', 'unknown key')
    h.is_(c.request('PING').final, 'OK pong', 'other errors never close')
    c.close()

    c = rd.connect()
    for i, raw in enumerate(seq + [b'PING \xfe\n']):
        c.send_raw(raw)
        framing_err(c.read_reply(), 'framing error %d of 4' % (i + 1))
    h.ok(c.closed_within(5), 'the 4th framing error in a row closes')
    h.is_(c.after, [], 'nothing after the 4th answer')

    c = rd.connect()
    c.send_raw(b''.join(seq) + b'PING \xfe\nPING\nPING\n')
    replies = []
    for _ in range(4):
        replies.append(c.read_reply())
    h.ok(all(r.kind == 'ERR' for r in replies),
         'pipelined: four framing errors answered',
         *['    %r' % r.final for r in replies])
    h.ok(c.closed_within(5), 'pipelined: then closed')
    h.is_(c.after, [], 'pipelined: the PINGs after them are not answered')

with h.section('deep pipeline of database requests (max_pending=16)'):
    c = rd.login('admin')
    lines = []
    for i in range(600):
        lines.append(('EVENT LIST', 'PING', 'WHOAMI')[i % 3])
    replies = c.pipeline(lines, timeout=60)
    want = [('OK count=0', 'OK pong', 'OK user=admin role=admin')[i % 3]
            for i in range(600)]
    h.is_([r.final for r in replies], want,
          '600 pipelined requests, 200 of them to the database, in order')
    c.close()

time.sleep(0.5)
fds = rd.fd_count()     # after the database pool is up (deep pipeline)
with h.section('not TLS on the TLS port'):
    for payload in (b'PING\r\n', b'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
                    os.urandom(4096), b'\x16\x03\x01\x00\x05hello' * 50):
        s = h.tcp_connect('127.0.0.1', rd.port, timeout=5)
        s.sendall(payload)
        got = b''
        closed = False
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 5:
                d = s.recv(4096)
                if not d:
                    closed = True
                    break
                got += d
        except (ConnectionResetError, socket.timeout, TimeoutError) as e:
            closed = not isinstance(e, (socket.timeout, TimeoutError))
        s.close()
        h.ok(closed, 'plain %r...: dropped' % payload[:12])
        h.ok(b'OK' not in got and b'ERR' not in got,
             'plain %r...: no protocol text in clear' % payload[:12])
    with rd.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'still serving over TLS')

with h.section('abrupt disconnects'):
    for i in range(30):
        s = h.tcp_connect('127.0.0.1', rd.port)
        if i % 3 == 0:
            s.close()                       # before the handshake
            continue
        ctx = h.client_context(env.certs.ca)
        t = ctx.wrap_socket(s, server_hostname='localhost')
        if i % 3 == 1:
            t.sendall(b'PING\n' * 100)     # and never read
        if i % 2:                           # RST rather than FIN
            t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b'\x01\x00\x00\x00\x00\x00\x00\x00')
        t.close()                           # no close_notify either way
    with rd.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'serving after 30 '
              'abrupt disconnects')
    settled = h.wait_for(lambda: rd.fd_count() <= fds + 3, 5)
    h.ok(settled, 'descriptors back to where they were (%s -> %s)'
         % (fds, rd.fd_count()))

with h.section('a client that pipelines and never reads'):
    base_rss = rd.rss_kb()
    fl = rd.connect(rcvbuf=65536, sndbuf=65536)
    fl.sock.setblocking(False)
    chunk = b'PING\n' * 4096
    pending = b''
    sent = 0
    t0 = last = time.monotonic()
    stalled = False
    while time.monotonic() - t0 < 30 and sent < (64 << 20):
        if not pending:
            pending = chunk
        try:
            n = fl.sock.send(pending)
            pending = pending[n:]
            sent += n
            last = time.monotonic()
            continue
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                BlockingIOError, InterruptedError):
            pass
        if time.monotonic() - last > 2.0:
            stalled = True
            break
        select.select([], [fl.sock], [], 0.05)
    rss1 = rd.rss_kb()
    h.diag('sent %.1f MB in %.1f s; RSS %s -> %s kB'
           % (sent / 1e6, time.monotonic() - t0, base_rss, rss1))
    h.ok(stalled, 'the daemon stopped reading a client that does not read')
    h.cmp_ok(sent, '<', 48 << 20, 'it stopped within a bounded amount')
    limit = (400 << 10) if rd.asan else (16 << 10)   # kB; ASan quarantines
    h.cmp_ok(rss1 - base_rss, '<', limit, 'RSS grew less than %d MB'
             % (limit >> 10))
    # Trying to send more changes nothing.
    t1 = time.monotonic()
    while time.monotonic() - t1 < 1.0:
        try:
            fl.sock.send(pending or chunk)
            break
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                BlockingIOError):
            time.sleep(0.1)
    rss2 = rd.rss_kb()
    h.cmp_ok(rss2 - rss1, '<', 8 << 10, 'RSS steady while it stays stalled '
             '(%s -> %s kB)' % (rss1, rss2))
    with rd.connect(timeout=5) as c:
        h.is_(c.request('PING').final, 'OK pong',
              'another client is served meanwhile')
        h.ok_reply(c.login('admin'), 'and may log in')
        h.ok_reply(c.request('EVENT LIST'), 'and reach the database')
    # Read some of the replies: pongs, in order, nothing else.
    fl.sock.setblocking(True)
    fl.sock.settimeout(5)
    got = bytearray()
    try:
        while len(got) < (1 << 20):
            d = fl.sock.recv(1 << 16)
            if not d:
                break
            got += d
    except (socket.timeout, TimeoutError, ssl.SSLError, OSError):
        pass
    whole = len(got) - len(got) % 8
    h.ok(whole > 0 and bytes(got[:whole]) == b'OK pong\n' * (whole // 8),
         'the flood\'s replies are pongs in order (%d read)' % (whole // 8))
    fl.sock.close()
    with rd.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'serving after the flood')
    h.ok(h.wait_for(lambda: rd.fd_count() <= fds + 3, 10),
         'the flooder\'s descriptor is freed')

# --- a second daemon with short timeouts --------------------------------
rd2 = env.rosterd(name='rosterd-timeouts', idle_timeout=2,
                  handshake_timeout=2)


def timed_close(check):
    """Run check() -> (closed, seconds) in a thread; returns the holder."""
    res = {}

    def run():
        try:
            res['v'] = check()
        except Exception as e:  # reported by the caller
            res['v'] = (None, repr(e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    res['thread'] = t
    return res


def idle():
    c = rd2.connect()
    t0 = time.monotonic()
    closed = c.closed_within(10)
    return closed, time.monotonic() - t0


def trickle():
    c = rd2.connect()
    t0 = time.monotonic()
    for b in b'PING PING PING PING PING PING PING PING':
        try:
            c.send_raw(bytes([b]))
        except (OSError, ssl.SSLError):
            return True, time.monotonic() - t0
        if c.closed_within(0.5):
            return True, time.monotonic() - t0
    return False, time.monotonic() - t0


def active():
    c = rd2.connect()
    answers = []
    for _ in range(7):
        answers.append(c.request('PING').final)
        time.sleep(0.7)
    return answers == ['OK pong'] * 7, answers


def silent_tcp():
    s = h.tcp_connect('127.0.0.1', rd2.port, timeout=12)
    t0 = time.monotonic()
    try:
        closed = s.recv(100) == b''
    except ConnectionResetError:
        closed = True
    except (socket.timeout, TimeoutError):
        closed = False
    s.close()
    return closed, time.monotonic() - t0


def slow_hello():
    """A real ClientHello, one byte every 0.25 s."""
    ctx = h.client_context(env.certs.ca)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    s = h.tcp_connect('127.0.0.1', rd2.port, timeout=12)
    t0 = time.monotonic()
    try:
        for b in hello:
            s.sendall(bytes([b]))
            r, _, _ = select.select([s], [], [], 0.25)
            if r:
                try:
                    if s.recv(100) == b'':
                        return True, time.monotonic() - t0
                except ConnectionResetError:
                    return True, time.monotonic() - t0
            if time.monotonic() - t0 > 12:
                break
    except (BrokenPipeError, ConnectionResetError):
        return True, time.monotonic() - t0
    finally:
        s.close()
    return False, time.monotonic() - t0


with h.section('idle and handshake timeouts (both 2 s)'):
    checks = {name: timed_close(fn) for name, fn in
              (('idle', idle), ('trickle', trickle), ('active', active),
               ('silent', silent_tcp), ('slow hello', slow_hello))}
    for v in checks.values():
        v['thread'].join(30)
    closed, secs = checks['idle'].get('v', (None, 'no result'))
    h.ok(closed is True and 1.5 <= secs <= 8,
         'an idle connection is closed after idle_timeout', '    %r %r'
         % (closed, secs))
    closed, secs = checks['trickle'].get('v', (None, 'no result'))
    h.ok(closed is True and secs <= 8,
         'a client trickling bytes without a whole line is closed too',
         '    %r %r' % (closed, secs))
    good, answers = checks['active'].get('v', (None, 'no result'))
    h.ok(good is True, 'a client sending a request every 0.7 s stays open',
         '    %r' % (answers,))
    closed, secs = checks['silent'].get('v', (None, 'no result'))
    h.ok(closed is True and 1.5 <= secs <= 8,
         'a TCP connection that never starts TLS is closed after '
         'handshake_timeout', '    %r %r' % (closed, secs))
    closed, secs = checks['slow hello'].get('v', (None, 'no result'))
    h.ok(closed is True and secs <= 8,
         'a ClientHello sent a byte at a time is cut off by the handshake '
         'timeout', '    %r %r' % (closed, secs))
    with rd2.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'still serving')

h.is_(rd2.stop(), 0, 'the second daemon exits 0')

# --- a third with max_connections = 5 -----------------------------------
rd3 = env.rosterd(name='rosterd-maxconn', max_connections=5)
time.sleep(0.5)     # let the start-up probe's connection be gone
with h.section('max_connections = 5'):
    open_ = [rd3.connect() for _ in range(5)]
    h.is_([c.greeting.final for c in open_], [h.GREETING] * 5,
          'five connections greeted')
    sixth = rd3.connect()
    h.err_reply(sixth.greeting, 'BUSY', 'the sixth is greeted ERR BUSY')
    h.ok(sixth.closed_within(5), 'and closed')
    h.is_([c.request('PING').final for c in open_], ['OK pong'] * 5,
          'the five still work')
    open_.pop().close()

    def seventh():
        try:
            c = rd3.connect()
        except (OSError, ssl.SSLError, h.Closed):
            return None
        if c.greeting.ok:
            return c
        c.close()
        return None
    c7 = h.wait_for(seventh, 5, 0.2)
    h.ok(c7 is not None, 'after one closes, a new connection is greeted OK')
    if c7:
        h.is_(c7.request('PING').final, 'OK pong', 'and served')
        c7.close()
    for c in open_:
        c.close()

h.done_testing()
