"""test_basic.py -- rosterd starts, greets, keeps replies in order under
pipelining, and reads lines as PROTOCOL.md sections 1-3 say (CRLF, empty
lines, a line split across writes, requests sent before the greeting), on
IPv4 and IPv6 listeners, with many clients at once. PING and QUIT
themselves are in test_session.py."""

import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ipv6 = h.have_ipv6_loopback()
port6 = h.free_port('::1') if ipv6 else None
listen = None
if ipv6:
    listen = ['127.0.0.1:%d' % h.free_port(), '[::1]:%d' % port6]
env, rd = h.setup(listen=listen)

with h.section('greeting'):
    c = rd.connect()
    h.is_(c.greeting.final, h.GREETING, 'greeting is exact')
    h.is_(c.sock.version() in ('TLSv1.3', 'TLSv1.2'), True,
          'TLS 1.2 or 1.3 (%s)' % c.sock.version())
    h.is_(c.sock.version(), 'TLSv1.3', 'TLS 1.3 preferred')

with h.section('line endings and empty lines'):
    c.send_raw(b'PING\r\n')
    h.is_(c.read_reply().final, 'OK pong', 'CRLF: CR before LF dropped')
    c.send_raw(b'\n\nPING\n')
    h.is_(c.read_reply().final, 'OK pong',
          'empty lines are ignored (no reply of their own)')
    c.send_raw(b'\r\nPING\n')
    h.is_(c.read_reply().final, 'OK pong', 'a lone CRLF is an empty line')
    c.send_raw(b'PI')
    c.send_raw(b'NG\n')
    h.is_(c.read_reply().final, 'OK pong', 'a line split across writes')

with h.section('pipelining'):
    lines = []
    for i in range(200):
        lines.append('PING' if i % 3 else 'WHOAMI')
    replies = c.pipeline(lines)
    want = ['OK pong' if i % 3 else 'OK user=-' for i in range(200)]
    h.is_([r.final for r in replies], want,
          '200 pipelined requests answered in order')
    # Interleave errors: each request still gets exactly one final line.
    replies = c.pipeline(['PING', 'BOGUS', 'PING x=1', 'WHOAMI', 'PING'])
    h.is_([r.kind + (' ' + r.code if r.code else '') for r in replies],
          ['OK', 'ERR SYNTAX', 'ERR SYNTAX', 'OK', 'OK'],
          'errors keep their place in the pipeline')
    # Many requests in one write, a reply read only after all are sent.
    c.send_raw(b'PING\n' * 2000)
    got = [c.read_reply().final for _ in range(2000)]
    h.is_(got.count('OK pong'), 2000, '2000 PINGs in one write')

with h.section('requests before the greeting'):
    c2 = rd.connect(greeting=False)
    c2.send('PING')
    c2.send('WHOAMI')
    g = c2.read_reply()
    h.is_(g.final, h.GREETING, 'greeting comes first')
    h.is_(c2.read_reply().final, 'OK pong', 'then the early PING')
    h.is_(c2.read_reply().final, 'OK user=-', 'then the early WHOAMI')
    c2.close()

with h.section('login and a database round trip'):
    c4 = rd.connect()
    r = c4.login(h.ADMIN)
    h.is_(r.final, 'OK user=admin role=admin', 'LOGIN admin')
    r = c4.request('EVENT LIST')
    h.ok_reply(r, 'EVENT LIST on an empty database', count='0')
    h.is_(r.records, [], 'no records')
    c4.close()

with h.section('listeners'):
    if ipv6:
        c6 = rd.connect(host='::1', port=port6)
        h.is_(c6.greeting.final, h.GREETING, 'greeting on [::1]')
        h.is_(c6.request('PING').final, 'OK pong', 'PING on [::1]')
        c6.close()
        c6 = rd.connect(host='::1', port=port6, server_hostname='::1')
        h.is_(c6.greeting.final, h.GREETING,
              'server certificate valid for IP ::1')
        c6.close()
    else:
        h.skip('IPv6 listener', 'no ::1 on this machine')
        h.skip('IPv6 PING', 'no ::1 on this machine')
        h.skip('IPv6 certificate', 'no ::1 on this machine')
    c5 = rd.connect(server_hostname='127.0.0.1')
    h.is_(c5.greeting.final, h.GREETING, 'server certificate valid for IP '
          '127.0.0.1')
    c5.close()
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(('127.0.0.2', rd.port))
        h.ok(False, 'not listening on other addresses (default bind is '
             'the listen address only)')
    except OSError:
        h.ok(True, 'not listening on other addresses')
    finally:
        s.close()

with h.section('concurrent clients'):
    clients = [rd.connect() for _ in range(20)]
    for i, cl in enumerate(clients):
        cl.send('PING')
    h.is_([cl.read_reply().final for cl in clients], ['OK pong'] * 20,
          '20 clients at once')
    for cl in clients:
        cl.close()
    c.close()
    h.is_(rd.connect().request('PING').final, 'OK pong',
          'still serving after 20 disconnects')

h.done_testing()
