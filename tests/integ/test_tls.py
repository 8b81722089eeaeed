"""test_tls.py -- TLS as PROTOCOL.md section 1 and DESIGN.md describe it:
TLS 1.2 and 1.3 only, client certificates that log a user in (greeting
with user= role=), certificates of another CA or of no known user that do
not, requests that come as several records in one segment (the server reads
ahead: every record is answered, none waits for the client to send more),
certificate reload on SIGHUP (new connections get the new certificate,
old ones keep working, a broken file keeps the old one), and SIGTERM
draining a request in flight before exiting 0."""

import os
import shutil
import signal
import socket
import ssl
import sys
import time
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

warnings.filterwarnings('ignore', category=DeprecationWarning)
env, rd = h.setup(users=[('fp', 'focal', 'TR'), ('dis', 'host', None),
                         ('sec', 'secretariat', None)])
certs = env.certs

with h.section('protocol versions'):
    with rd.connect() as c:
        h.is_(c.sock.version(), 'TLSv1.3', 'TLS 1.3 by default')
    ctx = h.client_context(certs.ca, tls_max=ssl.TLSVersion.TLSv1_2)
    with rd.connect(context=ctx) as c:
        h.is_((c.sock.version(), c.greeting.final), ('TLSv1.2', h.GREETING),
              'TLS 1.2 accepted')
    for ver in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        ctx = h.client_context(certs.ca, tls_min=ssl.TLSVersion.TLSv1,
                               tls_max=ver, ciphers='DEFAULT:@SECLEVEL=0')
        try:
            with rd.connect(context=ctx) as c:
                h.ok(False, '%s refused' % ver.name,
                     '    connected with %s' % c.sock.version())
        except ssl.SSLError as e:
            h.ok(e.reason != 'NO_PROTOCOLS_AVAILABLE',
                 '%s refused by the server (%s)' % (ver.name, e.reason),
                 '    the client could not offer %s: the test is broken'
                 % ver.name)
        except (ConnectionResetError, h.Closed) as e:
            h.ok(True, '%s refused by the server (%s)' % (ver.name, e))

with h.section('client certificates'):
    adm = certs.client('admin')
    with rd.connect(cert=adm[0], key=adm[1]) as c:
        h.is_(c.greeting.final, h.GREETING + ' user=admin role=admin',
              'admin certificate: greeting carries user= role=')
        h.is_(c.request('WHOAMI').final, 'OK user=admin role=admin',
              'WHOAMI')
        h.ok_reply(c.request('EVENT LIST'), 'logged in: EVENT LIST works')
        h.is_(c.request('LOGOUT').final, 'OK', 'LOGOUT')
        h.is_(c.request('WHOAMI').final, 'OK user=-', 'logged out')
    fp = certs.client('fp')
    with rd.connect(cert=fp[0], key=fp[1]) as c:
        h.is_((c.greeting.fields.get('user'), c.greeting.fields.get('role')),
              ('fp', 'focal'), 'focal certificate: user=fp role=focal')
        h.is_(c.greeting.words, ['rosterd', 'ready'], 'still the greeting')
        h.is_(c.request('WHOAMI').final, 'OK user=fp role=focal party=TR',
              'WHOAMI focal with party')
    ghost = certs.client('ghost')
    with rd.connect(cert=ghost[0], key=ghost[1]) as c:
        h.is_(c.greeting.final, h.GREETING,
              'certificate of no known user: plain greeting')
        h.is_(c.request('WHOAMI').final, 'OK user=-', 'not logged in')
        h.is_(c.login('sec').final, 'OK user=sec role=secretariat',
              'LOGIN still possible')
    with rd.login('admin') as a:
        h.ok_reply(a.request('USER SET name=dis enabled=no'),
                   'disable user dis')
    dis = certs.client('dis')
    with rd.connect(cert=dis[0], key=dis[1]) as c:
        h.is_(c.greeting.final, h.GREETING,
              'certificate of a disabled user: plain greeting')
        h.is_(c.request('WHOAMI').final, 'OK user=-', 'not logged in')
    other = certs.other_client('admin')
    try:
        c = rd.connect(cert=other[0], key=other[1])
        h.is_(c.greeting.final, h.GREETING, 'CN=admin from another CA: '
              'not logged in')
        h.is_(c.request('WHOAMI').final, 'OK user=-',
              'CN=admin from another CA: WHOAMI user=-')
        c.close()
    except (ssl.SSLError, ConnectionResetError, h.Closed) as e:
        h.ok(True, 'CN=admin from another CA: refused (%s)' % e)
        h.ok(True, 'CN=admin from another CA: never logged in')
    with rd.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'still serving')


class SegmentClient:
    """TLS over memory BIOs: what it writes goes out when flush() sends it,
    as many records as were written, in one TCP segment. After the
    handshake the client's Finished waits in out too, so that the first
    requests can go with it."""

    def __init__(self, cert=None):
        ctx = h.client_context(certs.ca, *(cert or ()))
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out,
                                server_hostname='localhost')
        self.sock = h.tcp_connect('127.0.0.1', rd.port)
        self.text = bytearray()
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self._recv(10)

    def write(self, line):
        self.obj.write(line.encode() + b'\n')   # a record of its own

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise h.Closed('connection closed')
        self.inc.write(data)

    def lines(self, n, timeout=5):
        """The next n lines, or fewer if no more come within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                while True:
                    self.text += self.obj.read(65536)
            except ssl.SSLWantReadError:
                pass
            if self.text.count(b'\n') >= n:
                break
            self.flush()   # a reply to a post-handshake message
            try:
                self._recv(max(deadline - time.monotonic(), 0.01))
            except (socket.timeout, TimeoutError, h.Closed):
                break
        got = self.text.decode().split('\n')
        del self.text[:len('\n'.join(got[:n])) + 1]
        return got[:n] if len(got) > n else got[:-1]

    def close(self):
        self.sock.close()


with h.section('several records in one segment'):
    c = SegmentClient()
    c.write('PING')
    c.flush()   # with the client's Finished
    h.is_(c.lines(2), [h.GREETING, 'OK pong'],
          'a request sent with the Finished, before the greeting: answered')
    for i in range(5):
        c.write('PING' if i % 2 else 'WHOAMI')
    c.flush()
    h.is_(c.lines(5), ['OK user=-', 'OK pong'] * 2 + ['OK user=-'],
          'five requests, five records, one segment: five replies')
    c.close()
    # logged in by certificate (the greeting waits for the database),
    # more requests to the database than max_pending (64): reading pauses
    # with records held in OpenSSL, and resumes
    c = SegmentClient(certs.client('admin'))
    for _ in range(100):
        c.write('EVENT LIST')
    c.flush()
    got = c.lines(101, timeout=20)
    h.is_((len(got), got[:1]), (101, [h.GREETING + ' user=admin role=admin']),
          '100 database requests with the Finished: the greeting, then ...')
    h.is_(sorted(set(got[1:])), ['OK count=0'], '... 100 replies')
    c.close()

with h.section('SIGHUP reload'):
    keep = rd.login('admin')
    old = certs.serial()
    h.is_(keep.peer_serial(), old, 'connection sees the current serial')
    new = certs.reissue_server()
    h.isnt(new, old, 'new certificate issued')
    rd.sighup()

    def serial_now():
        try:
            with rd.connect(timeout=3) as c:
                return c.peer_serial()
        except (OSError, ssl.SSLError, h.Closed):
            return None
    h.ok(h.wait_for(lambda: serial_now() == new, 5),
         'new connections get the new certificate after SIGHUP')
    h.is_(keep.request('PING').final, 'OK pong',
          'the existing connection keeps working')
    h.ok_reply(keep.request('EVENT LIST'), 'and stays logged in')

    good_crt = certs.server_crt + '.good'
    good_key = certs.server_key + '.good'
    shutil.copy(certs.server_crt, good_crt)
    shutil.copy(certs.server_key, good_key)

    def broken(name, damage):
        damage()
        rd.sighup()
        time.sleep(1)
        h.ok(rd.running(), '%s + SIGHUP: daemon still running' % name)
        h.is_(serial_now(), new, '%s + SIGHUP: the old certificate stays'
              % name)
        h.is_(keep.request('PING').final, 'OK pong',
              '%s + SIGHUP: existing connection fine' % name)
        shutil.copy(good_crt, certs.server_crt)
        shutil.copy(good_key, certs.server_key)

    def garbage():
        with open(certs.server_crt, 'w') as f:
            f.write('-----BEGIN CERTIFICATE-----\nnot base64\n'
                    '-----END CERTIFICATE-----\n')

    def mismatch():
        # A key that is not the certificate's.
        other_key = os.path.join(certs.other_dir, 'admin.key')
        shutil.copy(other_key, certs.server_key)

    def missing():
        os.unlink(certs.server_crt)

    def empty_key():
        open(certs.server_key, 'w').close()

    broken('a garbage certificate', garbage)
    broken('a key that does not match', mismatch)
    broken('a missing certificate file', missing)
    broken('an empty key file', empty_key)
    third = certs.reissue_server()
    rd.sighup()
    h.ok(h.wait_for(lambda: serial_now() == third, 5),
         'a good certificate after the broken ones is loaded')
    keep.close()

with h.section('SIGTERM drains a request in flight'):
    c = rd.login('admin')
    h.ok_reply(c.request('EVENT CREATE code=T1 title="TLS test" city=Ankara '
                         'country=TR starts=2025-11-26 ends=2025-11-27'),
               'EVENT CREATE T1')
    idle = rd.login('sec')
    pg = env.pg
    tables = pg.scalar("SELECT string_agg(format('%I.%I', schemaname, "
                       "tablename), ', ') FROM pg_tables "
                       "WHERE schemaname = 'roster'")
    locker = pg.session()
    locker.stdin.write('BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n'
                       % tables)
    locker.stdin.flush()
    locked = h.wait_for(lambda: int(pg.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = "
        "l.relation JOIN pg_namespace n ON n.oid = r.relnamespace "
        "WHERE n.nspname = 'roster' AND l.granted AND "
        "l.mode = 'AccessExclusiveLock'")) > 0, 10)
    h.ok(locked, 'the roster tables are locked')
    c.send('EVENT LIST')
    waiting = h.wait_for(lambda: int(pg.scalar(
        'SELECT count(*) FROM pg_locks WHERE NOT granted')) > 0, 10)
    h.ok(waiting, 'EVENT LIST is in flight (waiting on the lock)')
    rd.signal(signal.SIGTERM)
    time.sleep(1)
    h.ok(rd.running(), 'rosterd waits for the request in flight')
    locker.stdin.write('COMMIT;\n')
    locker.stdin.close()
    locker.wait(10)
    r = c.read_reply(timeout=15)
    h.ok_reply(r, 'the request in flight got its answer', count='1')
    h.is_([rec.get('code') for rec in r.records], ['T1'], 'with its record')
    h.is_(rd.wait(20), 0, 'then rosterd exits 0')
    h.ok(c.closed_within(5), 'and the connection is closed')
    h.ok(idle.closed_within(5), 'an idle connection is closed too')

h.done_testing()
