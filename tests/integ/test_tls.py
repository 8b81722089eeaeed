"""test_tls.py -- TLS as PROTOCOL.md section 1 and DESIGN.md describe it:
TLS 1.2 and 1.3 only, client certificates that log a user in (greeting
with user= role=), certificates of another CA or of no known user that do
not, certificate reload on SIGHUP (new connections get the new certificate,
old ones keep working, a broken file keeps the old one), and SIGTERM
draining a request in flight before exiting 0."""

import os
import shutil
import signal
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
