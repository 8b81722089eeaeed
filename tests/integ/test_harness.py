"""test_harness.py -- the harness's own pieces, without rosterd: the reply
parser and quoting (PROTOCOL.md section 2), the certificates of
deploy/gen-certs (chains, names, client certificates, the untrusted CA, a
re-issued server certificate), and the private PostgreSQL (start, stop,
restart on the same port with the data kept)."""

import os
import socket
import ssl
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

# --- values and replies -------------------------------------------------
with h.section('parser'):
    h.is_(h.parse_fields('a=1 b="x y" pong'),
          [('a', '1'), ('b', 'x y'), (None, 'pong')], 'bare, quoted, word')
    h.is_(h.parse_fields('t="q\\"b\\\\s\\nl\\tt\\rc"'),
          [('t', 'q"b\\s\nl\tt\rc')], 'every escape decodes')
    h.is_(h.parse_fields('note=a=b  x=""'), [('note', 'a=b'), ('x', '')],
          '= inside a bare value, empty quoted value, two spaces')
    h.is_(h.parse_fields('name="Tímea Lehoczki" city=İstanbul'),
          [('name', 'Tímea Lehoczki'), ('city', 'İstanbul')], 'UTF-8')
    for bad in ('a="x', 'a="\\q"', 'a="x"y', 'a=x"y', 'a=', 'a=\\'):
        try:
            h.parse_fields(bad)
            h.ok(False, 'refuses %r' % bad)
        except h.ProtocolError:
            h.ok(True, 'refuses %r' % bad)
    for v in ('plain', '', 'two words', 'a=b', 'q"uote', 'back\\slash',
              'line\nbreak\ttab\rcr', 'Ελληνικά'):
        h.is_(h.parse_fields('k=' + h.quote(v)), [('k', v)],
              'quote/parse round trip of %r' % v)
    h.is_(h.quote('x y'), '"x y"', 'quote adds quotes for a space')
    h.is_(h.quote('SOM37'), 'SOM37', 'quote leaves a code bare')
    r = h.parse_final(h.GREETING)
    h.is_((r.kind, r.words, r.fields), ('OK', ['rosterd', 'ready'],
                                        {'proto': '1', 'version': '0.1.0'}),
          'greeting parses')
    r = h.parse_final('ERR NOT_FOUND no such event: "x"')
    h.is_((r.kind, r.code, r.text),
          ('ERR', 'NOT_FOUND', 'no such event: "x"'), 'ERR line parses')
    r = h.parse_final('OK')
    h.is_((r.kind, r.fields, r.words), ('OK', {}, []), 'bare OK')
    for bad in ('ERR NOPE x', 'OKAY', 'OK a=1 a=2', 'OK a=\x01'):
        try:
            h.parse_final(bad)
            h.ok(False, 'refuses final line %r' % bad)
        except h.ProtocolError:
            h.ok(True, 'refuses final line %r' % bad)
    h.is_(h.parse_record('* code=TR kind=country name="Türkiye"'),
          {'code': 'TR', 'kind': 'country', 'name': 'Türkiye'}, 'record')

# --- certificates -------------------------------------------------------
env = None
with h.section('set-up'):
    env = h.Env()
if env is None:
    h.bail('no environment')
certs = env.certs


def verify(ca, crt, purpose):
    p = h.run(['openssl', 'verify', '-purpose', purpose, '-CAfile', ca, crt],
              check=False)
    return p.returncode == 0


with h.section('certificates'):
    h.ok(verify(certs.ca, certs.server_crt, 'sslserver'),
         'server certificate chains to the CA')
    text = h.run(['openssl', 'x509', '-noout', '-text', '-in',
                  certs.server_crt]).stdout
    h.like(text, r'DNS:localhost, IP Address:127\.0\.0\.1, '
           r'IP Address:0:0:0:0:0:0:0:1', 'subjectAltName')
    h.like(text, r'Subject: CN ?= ?localhost', 'CN=localhost')
    crt, key = certs.client('alice')
    h.ok(verify(certs.ca, crt, 'sslclient'), 'client certificate chains')
    subj = h.run(['openssl', 'x509', '-noout', '-subject', '-in',
                  crt]).stdout
    h.like(subj, r'CN ?= ?alice', 'client CN is the user name')
    h.is_(oct(os.stat(key).st_mode & 0o777), '0o600', 'client key 0600')
    h.is_(oct(os.stat(certs.server_key).st_mode & 0o777), '0o600',
          'server key 0600')
    ocrt, okey = certs.other_client('alice')
    h.ok(not verify(certs.ca, ocrt, 'sslclient'),
         'a certificate of the other CA does not chain to the test CA')
    ca_before = open(certs.ca).read()
    s1 = certs.serial()
    s2 = certs.reissue_server()
    h.isnt(s2, s1, 're-issued server certificate has a new serial')
    h.is_(open(certs.ca).read(), ca_before, 'the CA is kept')
    h.ok(verify(certs.ca, certs.server_crt, 'sslserver'),
         're-issued certificate chains to the same CA')
    crt2, _ = certs.client('alice')
    h.is_(certs.serial(crt2), certs.serial(crt), 'client cert kept')

# --- the TLS client against a Python TLS server with these certificates --
with h.section('TLS with the test certificates'):
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(certs.server_crt, certs.server_key)
    sctx.load_verify_locations(certs.ca)
    sctx.verify_mode = ssl.CERT_OPTIONAL
    lsock = socket.create_server(('127.0.0.1', 0))
    port = lsock.getsockname()[1]
    seen = []

    def serve(n):
        for _ in range(n):
            conn, _ = lsock.accept()
            try:
                t = sctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                seen.append(None)
                continue
            peer = t.getpeercert()
            cn = None
            if peer:
                cn = dict(x[0] for x in peer['subject']).get('commonName')
            seen.append(cn)
            extra = ' user=%s role=admin' % cn if cn else ''
            # a client that refused this server may be gone already
            try:
                t.sendall(('OK rosterd ready proto=1 version=0.1.0%s\n'
                           '* a=1 b="two words"\n* a=2\nOK count=2\n'
                           'ERR SYNTAX unknown command\n' % extra).encode())
                t.recv(100)
            except (ssl.SSLError, OSError):
                pass
            t.close()

    th = threading.Thread(target=serve, args=(4,), daemon=True)
    th.start()
    c = h.Client(port, ca=certs.ca)
    h.is_(c.greeting.final, h.GREETING, 'greeting read')
    r = c.read_reply()
    h.is_((r.kind, r.fields, r.records),
          ('OK', {'count': '2'}, [{'a': '1', 'b': 'two words'}, {'a': '2'}]),
          'records then OK count=2')
    h.is_(c.read_reply().code, 'SYNTAX', 'ERR code')
    h.is_(len(c.peer_serial()) > 0, True, 'peer serial readable')
    h.is_(c.peer_serial(), certs.serial(), 'peer serial is the file\'s')
    c.close()
    c = h.Client(port, ca=certs.ca, cert=crt, key=key,
                 server_hostname='127.0.0.1')
    h.is_(c.greeting.fields.get('user'), 'alice',
          'client certificate presented, IP name verified')
    c.close()
    try:
        h.Client(port, ca=certs.other_ca)
        h.ok(False, 'a client trusting the other CA refuses the server')
    except ssl.SSLCertVerificationError:
        h.ok(True, 'a client trusting the other CA refuses the server')
    c = h.Client(port, ca=certs.ca, greeting=False)
    c.send('QUIT')
    c.read_reply()
    c.read_reply()
    c.read_reply()
    h.ok(c.closed_within(5), 'closed_within sees the close')
    th.join(5)
    lsock.close()

# --- PostgreSQL ---------------------------------------------------------
with h.section('PostgreSQL'):
    pg = env.pg
    h.is_(pg.scalar('SELECT 1'), '1', 'database "roster" answers')
    h.is_(pg.scalar("SELECT current_setting('server_encoding')"), 'UTF8',
          'UTF-8')
    h.is_(pg.scalar("SELECT current_setting('listen_addresses')"),
          '127.0.0.1', '127.0.0.1 only')
    pg.psql('CREATE TABLE t (x int); INSERT INTO t VALUES (42)')
    port = pg.port
    pg.stop()
    h.ok(not pg.running(), 'stopped')
    try:
        pg.psql('SELECT 1')
        h.ok(False, 'no answer while stopped')
    except RuntimeError:
        h.ok(True, 'no answer while stopped')
    pg.start()
    h.is_(pg.port, port, 'same port after start')
    h.is_(pg.scalar('SELECT x FROM t'), '42', 'data kept over stop/start')
    pg.restart()
    h.is_(pg.query('SELECT x, x + 1 FROM t'), [['42', '43']],
          'restart, query() rows')

h.done_testing()
