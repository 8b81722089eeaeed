"""test_http.py -- the HTTPS face (proto/HTTP.md) through the real rosterd:
LOGIN sets a session cookie (HttpOnly, Secure, SameSite=Strict) and gives
a CSRF token, without which a session's request is refused; every command's
role rules are the same as on the line protocol (the same HELP table driven
through both faces); a focal point sees no other party; a session holds on
a second rosterd and across a restart, ends when idle, at LOGOUT, at a
password change and when its user is disabled; the security headers are on
every response, errors included; bad bodies, methods, content types and
paths get clear JSON errors; an export is a streamed download; WATCH is a
Server-Sent Events stream that sees a change made on the line protocol."""

import http.client
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
HTTP_PORT = h.free_port()
HTTP_PORT2 = h.free_port()
WEB = tempfile.mkdtemp(prefix='roster-web-')
h.on_cleanup(lambda: shutil.rmtree(WEB, ignore_errors=True))
FILES = {'index.html': '<!doctype html><title>roster</title>\n',
         'app.js': 'export const x = 1;\n',
         'style.css': 'body { margin: 0 }\n',
         'sub/index.html': '<p>sub</p>\n',
         '.hidden': 'secret\n', 'a b.html': 'bad name\n'}
for rel, text in FILES.items():
    os.makedirs(os.path.dirname(os.path.join(WEB, rel)), exist_ok=True)
    with open(os.path.join(WEB, rel), 'w') as f:
        f.write(text)
os.symlink('/etc/passwd', os.path.join(WEB, 'passwd'))
env, rd, R = h.setup_roles(http_listen='127.0.0.1:%d' % HTTP_PORT,
                           web_root=WEB)
CTX = h.client_context(env.certs.ca)

STATUS = {'OK': 200, 'SYNTAX': 400, 'INVALID': 422, 'TOO_LONG': 413,
          'AUTH_REQUIRED': 401, 'AUTH_FAILED': 401, 'RATE_LIMITED': 429,
          'FORBIDDEN': 403, 'NOT_FOUND': 404, 'CONFLICT': 409, 'QUOTA': 409,
          'CLOSED': 409, 'BUSY': 503, 'UNAVAILABLE': 503, 'INTERNAL': 500}
SECURITY = ('Content-Security-Policy', 'X-Content-Type-Options',
            'Strict-Transport-Security')
all_headers_ok = True


class Answer:
    def __init__(self, resp, body):
        self.status = resp.status
        self.headers = resp.headers
        self.raw = body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None
        self.code = None
        if isinstance(self.json, dict):
            if self.json.get('ok') is True:
                self.code = 'OK'
            elif isinstance(self.json.get('error'), dict):
                self.code = self.json['error'].get('code')
        check_headers(self)

    @property
    def fields(self):
        return (self.json or {}).get('fields', {})

    @property
    def records(self):
        return (self.json or {}).get('records', [])

    def __repr__(self):
        return '%d %r' % (self.status, self.raw[:300])


def check_headers(a):
    """Every response carries the security headers."""
    global all_headers_ok
    csp = a.headers.get('Content-Security-Policy', '')
    good = (all(a.headers.get(k) for k in SECURITY) and
            "frame-ancestors 'none'" in csp and 'unsafe-inline' not in csp
            and a.headers.get('X-Content-Type-Options') == 'nosniff' and
            'max-age=' in a.headers.get('Strict-Transport-Security', ''))
    if not good:
        all_headers_ok = False
        h.diag('security headers missing on %d: %r' % (a.status,
                                                       dict(a.headers)))


class Web:
    """A browser-like client of one rosterd's HTTPS face: its cookie and
    CSRF token."""

    def __init__(self, port=HTTP_PORT):
        self.port = port
        self.cookie = None
        self.csrf = None

    def conn(self):
        return http.client.HTTPSConnection('127.0.0.1', self.port,
                                           context=CTX, timeout=15)

    def send(self, method, path, body=None, headers=None, csrf=True):
        hd = {}
        if body is not None:
            hd['Content-Type'] = 'application/json'
        if self.cookie:
            hd['Cookie'] = '__Host-roster=' + self.cookie
        if csrf and self.csrf:
            hd['X-CSRF-Token'] = self.csrf
        hd.update(headers or {})
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=hd)
            resp = c.getresponse()
            data = resp.read()
        finally:
            c.close()
        a = Answer(resp, data)
        sc = resp.headers.get('Set-Cookie')
        if sc and sc.startswith('__Host-roster='):
            val = sc.split(';')[0].split('=', 1)[1]
            self.cookie = val or None
        return a

    def cmd(self, command, csrf=True, **keys):
        body = json.dumps({'command': command, 'keys': keys})
        return self.send('POST', '/api', body, csrf=csrf)

    def login(self, user, password=PW):
        a = self.cmd('LOGIN', user=user, password=password)
        if a.code == 'OK':
            self.csrf = a.json.get('csrf')
        return a


def web_login(user, port=HTTP_PORT):
    w = Web(port)
    a = w.login(user)
    if a.code != 'OK':
        h.bail('LOGIN %s over HTTPS: %r' % (user, a))
    return w


def line_code(conn, line):
    r = conn.request(line)
    return 'OK' if r.ok else r.code


with h.section('LOGIN sets the session cookie and gives a CSRF token'):
    w = Web()
    a = w.login('admin')
    h.is_(a.status, 200, 'LOGIN: 200')
    h.is_(a.fields, {'user': 'admin', 'role': 'admin'},
          'the final fields as an object')
    sc = a.headers.get('Set-Cookie', '')
    attrs = [x.strip().lower() for x in sc.split(';')[1:]]
    h.ok(sc.startswith('__Host-roster=') and len(w.cookie or '') == 64,
         'a cookie __Host-roster of 64 hex digits', sc)
    h.ok('httponly' in attrs and 'secure' in attrs and
         'samesite=strict' in attrs and 'path=/' in attrs,
         'HttpOnly, Secure, SameSite=Strict, Path=/', sc)
    h.ok(isinstance(w.csrf, str) and len(w.csrf) == 64 and w.csrf != w.cookie,
         'a CSRF token of its own in the body')
    h.is_(env.pg.scalar("SELECT count(*) FROM roster.web_session "
                        "WHERE token_hash = encode(sha256('%s'::bytea), 'hex')"
                        % w.cookie), '1',
          'the database keeps the SHA-256 of the token')
    h.is_(env.pg.scalar("SELECT count(*) FROM roster.web_session "
                        "WHERE token_hash = '%s'" % w.cookie), '0',
          'and not the token itself')
    bad = Web().login('admin', 'wrong password 1')
    h.is_((bad.status, bad.code), (401, 'AUTH_FAILED'),
          'a wrong password: 401 AUTH_FAILED')
    h.ok(bad.headers.get('Set-Cookie') is None, 'and no cookie')
    ADMIN = w

with h.section('CSRF token'):
    a = ADMIN.cmd('WHOAMI', csrf=False)
    h.is_((a.status, a.code), (403, 'FORBIDDEN'),
          'a session request without X-CSRF-Token: 403 FORBIDDEN')
    a = ADMIN.send('POST', '/api', json.dumps({'command': 'EVENT LIST'}),
                   headers={'X-CSRF-Token': '0' * 64}, csrf=False)
    h.is_((a.status, a.code), (403, 'FORBIDDEN'), 'a wrong token: 403')
    a = ADMIN.cmd('EVENT CREATE', csrf=False, code='X1', title='x',
                  city='Ankara', country='TR', starts='2025-11-26',
                  ends='2025-11-28')
    h.is_(a.code, 'FORBIDDEN', 'a write without the token is refused')
    h.is_(env.pg.scalar("SELECT count(*) FROM roster.event "
                        "WHERE code = 'X1'"), '0', 'and did nothing')
    a = ADMIN.cmd('WHOAMI')
    h.is_((a.status, a.fields.get('user')), (200, 'admin'),
          'with the token: 200')
    s = ADMIN.send('GET', '/api/session')
    h.is_((s.status, s.json.get('csrf'), s.fields.get('role')),
          (200, ADMIN.csrf, 'admin'),
          'GET /api/session gives the user and the CSRF token')
    cross = ADMIN.send('POST', '/api', json.dumps({'command': 'PING'}),
                       headers={'Origin': 'https://evil.example'})
    h.is_((cross.status, cross.code), (403, 'FORBIDDEN'),
          'another Origin: 403')
    n = Web().cmd('PING')
    h.is_((n.status, n.json.get('words')), (200, ['pong']),
          'no session: PING needs no token ("OK pong" as words)')

# The data of the tests below, made on the line protocol.
h.event(R.A, 'E1')
for p in ('TR', 'HU'):
    h.must(R.A, 'DELEGATION REGISTER event=E1 party=%s' % p)
TR_ID = h.must(R.A, 'PARTICIPANT ADD event=E1 party=TR name="Ayse Yilmaz"'
               ).fields['id']
HU_ID = h.must(R.A, 'PARTICIPANT ADD event=E1 party=HU name="Nagy Anna"'
               ).fields['id']

with h.section('every command: the same role rules on both faces'):
    webs = {role: web_login(user) for role, user in
            (('admin', 'admin'), ('secretariat', 'sec'), ('host', 'hst'),
             ('focal', 'ftr'))}
    webs['nobody'] = Web()
    lines = dict(R.by_role)
    lines['nobody'] = R.N
    names = sorted(h.commands(R.A))
    # These end or leave the session, or are other routes: below.
    skip = {'LOGOUT', 'QUIT', 'WATCH', 'EXPORT'}
    diffs = []
    codes = []
    compared = 0
    for cmd in names:
        if cmd in skip:
            continue
        for role in ('admin', 'secretariat', 'host', 'focal', 'nobody'):
            want = line_code(lines[role], cmd)
            a = webs[role].cmd(cmd)
            compared += 1
            codes.append(want)
            if a.code != want or a.status != STATUS.get(want):
                diffs.append('%s as %s: line %s, https %r'
                             % (cmd, role, want, a))
    h.ok(compared >= 4 * 40, '%d command and role pairs compared' % compared)
    h.ok({'OK', 'FORBIDDEN', 'AUTH_REQUIRED', 'SYNTAX'} <= set(codes),
         'among them OK, FORBIDDEN, AUTH_REQUIRED and SYNTAX answers',
         repr(sorted(set(codes))))
    h.is_(diffs, [], 'the same answer code (and its HTTP status) for each')
    for role in ('admin', 'focal', 'nobody'):
        want = line_code(lines[role], 'EXPORT what=participants event=E1')
        e = webs[role].send('GET', '/api/export?what=participants&event=E1')
        got = 'OK' if e.status == 200 else (e.code or e.status)
        h.is_(got, want, 'EXPORT as %s: %s on both faces' % (role, want))
    for role in ('host', 'focal', 'nobody'):
        want = line_code(lines[role], 'WATCH event=NOPE')
        e = webs[role].send('GET', '/api/watch?event=NOPE')
        h.is_(e.code, want, 'WATCH of no event as %s: %s on both faces'
              % (role, want))

with h.section('a focal point cannot see another party'):
    F = webs['focal']
    a = F.cmd('PARTICIPANT SHOW', event='E1', id=HU_ID)
    h.is_((a.status, a.code), (404, 'NOT_FOUND'),
          "another party's participant: 404 NOT_FOUND")
    a = F.cmd('PARTICIPANT SHOW', event='E1', id=int(TR_ID))
    h.is_((a.code, [r.get('name') for r in a.records]),
          ('OK', ['Ayse Yilmaz']), 'its own (an integer id): the record')
    a = F.cmd('PARTICIPANT LIST', event='E1', party='HU')
    h.is_((a.status, a.code), (403, 'FORBIDDEN'), 'party=HU: 403 FORBIDDEN')
    a = F.cmd('PARTICIPANT LIST', event='E1')
    h.is_(sorted({r.get('party') for r in a.records}), ['TR'],
          'its list holds its own party only')
    a = F.cmd('USE', event='E1')
    h.is_(a.fields, {'event': 'E1'}, 'USE over HTTPS')
    a = F.cmd('PARTICIPANT LIST')
    h.is_((a.code, len(a.records)), ('OK', 1),
          'a later request defaults event= to it (kept in the session)')

rd2 = env.rosterd(name='rosterd2', migrate=False, http_listen='127.0.0.1:%d'
                  % HTTP_PORT2, http_session_idle=2,
                  max_connections_per_address=3)

with h.section('a session on a second rosterd and after a restart'):
    S = webs['secretariat']
    other = Web(HTTP_PORT2)
    other.cookie, other.csrf = S.cookie, S.csrf
    a = other.cmd('WHOAMI')
    h.is_((a.status, a.fields.get('user')), (200, 'sec'),
          'the cookie of rosterd 1 works on rosterd 2')
    rd.stop()
    rd.start()
    R = h.Roles(rd)
    a = S.cmd('WHOAMI')
    h.is_((a.status, a.fields.get('user')), (200, 'sec'),
          'and on rosterd 1 after its restart')

with h.section('idle expiry'):
    w2 = web_login('hst', port=HTTP_PORT2)
    h.is_(w2.cmd('WHOAMI').fields.get('user'), 'hst', 'a session on rosterd 2')
    a = w2.cmd('PING')
    time.sleep(1.2)
    h.is_(w2.cmd('WHOAMI').fields.get('user'), 'hst',
          'used within http_session_idle=2: still there')
    time.sleep(3)
    cookie = w2.cookie
    a = w2.cmd('EVENT LIST')
    h.is_((a.status, a.code), (401, 'AUTH_REQUIRED'),
          'idle for longer: 401 AUTH_REQUIRED')
    h.ok('Max-Age=0' in (a.headers.get('Set-Cookie') or ''),
         'and the cookie is cleared')
    h.is_(env.pg.scalar("SELECT count(*) FROM roster.web_session WHERE "
                        "token_hash = encode(sha256('%s'::bytea), 'hex')"
                        % cookie), '0', 'the session row is gone')
    w3 = web_login('hst', port=HTTP_PORT2)
    h.is_(w3.cmd('WHOAMI').fields.get('user'), 'hst',
          'a new session on rosterd 2 (whose LOGIN sweeps idle sessions)')
    a = webs['secretariat'].cmd('WHOAMI')
    h.is_((a.status, a.fields.get('user')), (200, 'sec'),
          'a session of rosterd 1, unused for longer than rosterd 2\'s '
          'idle, keeps its own idle (1800 s): rosterd 2 ends none of it')

with h.section('LOGOUT ends the session'):
    w = web_login('hst')
    old = w.cookie
    a = w.cmd('LOGOUT')
    h.is_(a.status, 200, 'LOGOUT: 200')
    h.ok('Max-Age=0' in (a.headers.get('Set-Cookie') or ''),
         'the cookie is cleared')
    w.cookie = old
    a = w.cmd('WHOAMI')
    h.is_(a.fields.get('user'), '-', 'the old cookie: no user')
    h.is_(w.cmd('EVENT LIST').code, 'AUTH_REQUIRED',
          'and no command that needs one')

with h.section('a password change or a disabled user ends sessions'):
    h.must(R.A, 'USER ADD name=pwu role=host password=%s' % h.quote(PW))
    one, two = web_login('pwu'), web_login('pwu')
    a = one.cmd('PASSWORD', old=PW, new='another password 2')
    h.is_(a.status, 200, 'PASSWORD over HTTPS: 200')
    h.is_(one.cmd('WHOAMI').fields.get('user'), 'pwu',
          'the session that changed it stays')
    h.is_(two.cmd('EVENT LIST').code, 'AUTH_REQUIRED',
          "the user's other session has ended")
    h.must(R.A, 'USER SET name=pwu password=%s' % h.quote('third password 3'))
    h.is_(one.cmd('EVENT LIST').code, 'AUTH_REQUIRED',
          'USER SET password= ends the remaining one')
    three = web_login('hst')
    h.must(R.A, 'USER SET name=hst enabled=no')
    h.is_(three.cmd('EVENT LIST').code, 'AUTH_REQUIRED',
          'a disabled user: its session ends')
    h.must(R.A, 'USER SET name=hst enabled=yes')
    h.is_(three.cmd('EVENT LIST').code, 'AUTH_REQUIRED',
          'and stays ended once enabled again')

def tls_raw(port):
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    return CTX.wrap_socket(s, server_hostname='127.0.0.1')


def read_all(t, want=None, timeout=10):
    got = b''
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if want is not None and got.count(b'HTTP/1.1 ') >= want and \
                got.endswith(b'}\n'):
            break
        try:
            d = t.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not d:
            break
        got += d
    return got


with h.section('bad requests: clear JSON errors'):
    w = ADMIN
    big = json.dumps({'command': 'PING', 'keys': {'x': 'a' * 40000}})
    a = w.send('POST', '/api', big)
    h.is_((a.status, a.code), (413, 'TOO_LONG'), 'a body over the limit: 413')
    a = w.send('POST', '/api', json.dumps({'command': 'PING'}))
    h.is_(a.code, 'OK', 'the connection after it is served')
    t = tls_raw(HTTP_PORT)
    t.sendall(b'POST /api HTTP/1.1\r\nHost: x\r\nContent-Type: '
              b'application/json\r\nContent-Length: 900000000\r\n\r\n{')
    got = read_all(t).decode('latin-1')
    t.close()
    h.like(got.split('\r\n')[0], r'^HTTP/1\.1 413 ',
           'a body announced far over the limit: 413 at once')
    h.ok('Connection: close' in got and '"TOO_LONG"' in got,
         'TOO_LONG, and the connection closed')
    t = tls_raw(HTTP_PORT)
    t.sendall(b'GET /api/session HTTP/1.1\r\nHost: x\r\n' +
              b'X-Filler: ' + b'a' * 9000 + b'\r\n\r\n')
    got = read_all(t).decode('latin-1')
    t.close()
    h.like(got.split('\r\n')[0], r'^HTTP/1\.1 431 ',
           'a head over 8192 bytes: 431')
    a = w.send('POST', '/api', '{"command": "PING",')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'malformed JSON: 400 SYNTAX')
    h.like(a.json['error']['text'], r'malformed JSON', 'which it says')
    a = w.send('POST', '/api', '["PING"]')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'a JSON array: 400')
    a = w.send('POST', '/api', '{"command":"PING","extra":1}')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'an unknown member: 400')
    a = w.cmd('NO SUCH')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'an unknown command: 400')
    h.like(a.json['error']['text'], r'unknown command', 'named so')
    a = w.cmd('PING user=admin')
    h.is_(a.code, 'SYNTAX', 'a command with a key inside it: SYNTAX')
    a = w.send('POST', '/api', '{"command":"PING","keys":{"a":[1]}}')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'a value not a string: 400')
    a = w.cmd('PARTY SHOW', party='T\u0001R')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'a control character: 400')
    a = w.cmd('PARTY SHOW', party='not a code')
    h.is_((a.status, a.code), (422, 'INVALID'),
          'a value out of its format: 422 INVALID (the line grammar)')
    a = w.send('GET', '/api')
    h.is_((a.status, a.code, a.headers.get('Allow')), (405, 'SYNTAX', 'POST'),
          'GET /api: 405 with Allow: POST')
    a = w.send('POST', '/api', '{"command":"PING"}',
               headers={'Content-Type': 'text/plain'})
    h.is_((a.status, a.code), (415, 'SYNTAX'),
          'Content-Type text/plain: 415')
    a = w.send('GET', '/nowhere')
    h.is_((a.status, a.code), (404, 'NOT_FOUND'), 'an unknown path: 404')
    a = w.cmd('WATCH', event='E1')
    h.is_((a.status, a.code), (400, 'SYNTAX'), 'WATCH by POST: 400')
    s = socket.create_connection(('127.0.0.1', HTTP_PORT), timeout=10)
    t = CTX.wrap_socket(s, server_hostname='127.0.0.1')
    t.sendall(b'\x01\x02 nonsense\r\n\r\n')
    got = b''
    while True:
        try:
            d = t.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not d:
            break
        got += d
    t.close()
    h.like(got.decode('latin-1').split('\r\n')[0], r'^HTTP/1\.1 400 ',
           'a broken request line: 400, then closed')
    h.ok(b'Content-Security-Policy' in got, 'with the security headers')
    h.ok(Web().cmd('PING').code == 'OK', 'rosterd still answers')

with h.section('keep-alive: requests on one connection, in order'):
    t = tls_raw(HTTP_PORT)
    ping = json.dumps({'command': 'PING'}).encode()
    who = json.dumps({'command': 'WHOAMI'}).encode()
    req = b''
    for body in (ping, who, ping):
        req += (b'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                b'Content-Type: application/json\r\n'
                b'Content-Length: %d\r\n\r\n%s' % (len(body), body))
    t.sendall(req)  # pipelined: answered one after the other
    got = read_all(t, want=3).decode()
    t.close()
    h.is_(got.count('HTTP/1.1 200 OK'), 3, 'three answers, each 200')
    order = [w for w in ('"pong"', '"user":"-"', '"pong"')]
    pos, okorder = 0, True
    for w in order:
        i = got.find(w, pos)
        okorder = okorder and i >= 0
        pos = i + 1
    h.ok(okorder, 'in the order of the requests', got[:400])

with h.section('the same limits: login rate limit, per-address cap'):
    h.must(R.A, 'USER ADD name=rl role=host password=%s' % h.quote(PW))
    codes = [Web().login('rl', 'wrong password %d' % i).code
             for i in range(5)]
    h.is_(codes, ['AUTH_FAILED'] * 5, 'five wrong passwords over HTTPS')
    a = Web().login('rl')
    h.is_((a.status, a.code), (429, 'RATE_LIMITED'),
          'then the right one: 429 RATE_LIMITED')
    h.is_(R.N.login('rl').code, 'RATE_LIMITED',
          'and on the line protocol too: the same count')
    held = [tls_raw(HTTP_PORT2) for _ in range(3)]
    try:
        extra = tls_raw(HTTP_PORT2)
        extra.sendall(b'GET /api/session HTTP/1.1\r\nHost: x\r\n\r\n')
        refused = extra.recv(100) == b''
        extra.close()
    except (ssl.SSLError, OSError):
        refused = True
    h.ok(refused, 'max_connections_per_address=3: a 4th HTTPS connection '
         'is closed at once')
    for t in held:
        t.close()

    def served():
        try:
            return Web(HTTP_PORT2).cmd('PING').code == 'OK'
        except (ssl.SSLError, OSError, http.client.HTTPException):
            return False
    h.ok(h.wait_for(served, 10), 'once they are closed, a new one is served')

with h.section('the files of web_root'):
    w = Web()
    for path, rel, ctype in (('/', 'index.html', 'text/html'),
                             ('/app.js', 'app.js', 'text/javascript'),
                             ('/style.css', 'style.css', 'text/css'),
                             ('/sub/', 'sub/index.html', 'text/html')):
        a = w.send('GET', path)
        h.is_((a.status, a.raw.decode(), a.headers.get('Content-Type', '')
               .split(';')[0]), (200, FILES[rel], ctype),
              'GET %s: %s as %s' % (path, rel, ctype))
    for path in ('/.hidden', '/passwd', '/a%20b.html', '/../etc/passwd',
                 '/%2e%2e/etc/passwd', '/sub/../index.html', '/sub//index.html',
                 '/index.html/', '/nothing.js'):
        a = w.send('GET', path)
        h.is_((a.status, a.code), (404, 'NOT_FOUND'), 'GET %s: 404' % path)
    a = w.send('POST', '/app.js', '{}')
    h.is_(a.status, 404, 'a POST to a file: 404')

with h.section('an export is a streamed download'):
    for i in range(300):
        h.must(R.A, 'PARTICIPANT ADD event=E1 party=TR name="Person %d"' % i)
    lines_ = [ln for ln in R.A.request(
        'EXPORT what=participants event=E1').data]
    c = ADMIN.conn()
    c.request('GET', '/api/export?what=participants&event=E1',
              headers={'Cookie': '__Host-roster=' + ADMIN.cookie})
    resp = c.getresponse()
    body = resp.read().decode()
    c.close()
    check_headers(resp)
    h.is_(resp.status, 200, 'GET /api/export: 200')
    h.is_(resp.headers.get('Content-Disposition'),
          'attachment; filename="participants.csv"', 'as a download')
    h.like(resp.headers.get('Content-Type', ''), r'^text/csv',
           'of type text/csv')
    h.is_(resp.headers.get('Transfer-Encoding'), 'chunked',
          'streamed (chunked, no Content-Length)')
    h.is_(body, '\n'.join(lines_) + '\n',
          'the same file as the line protocol\'s export')
    a = ADMIN.send('GET', '/api/export?what=nothing&event=E1')
    h.is_((a.status, a.code), (422, 'INVALID'),
          'a bad what=: a JSON error, not a download')

with h.section('WATCH as Server-Sent Events'):
    c = ADMIN.conn()
    c.request('GET', '/api/watch?event=E1',
              headers={'Cookie': '__Host-roster=' + ADMIN.cookie})
    resp = c.getresponse()
    check_headers(resp)
    h.is_(resp.status, 200, 'GET /api/watch: 200')
    h.like(resp.headers.get('Content-Type', ''), r'^text/event-stream',
           'text/event-stream')
    buf = b''
    deadline = time.monotonic() + 10
    while b': watching\n\n' not in buf and time.monotonic() < deadline:
        buf += resp.read1(4096)
    h.must(R.A, 'CHECKIN event=E1 id=%s' % TR_ID)
    while b'event: checkin' not in buf or not buf.endswith(b'\n\n'):
        if time.monotonic() > deadline:
            break
        buf += resp.read1(4096)
    text = buf.decode()
    ev = [blk for blk in text.split('\n\n') if 'event: checkin' in blk]
    h.ok(ev, 'a checkin made on the line protocol arrives as an event',
         repr(text[-300:]))
    data = {}
    if ev:
        for ln in ev[0].split('\n'):
            if ln.startswith('data: '):
                data = json.loads(ln[6:])
    h.is_((data.get('id'), data.get('party')), (TR_ID, 'TR'),
          'its data is the notification as JSON')
    c.close()

with h.section('LOGOUT closes the session\'s event stream'):
    B = web_login('admin')
    c = B.conn()
    c.request('GET', '/api/watch?event=E1',
              headers={'Cookie': '__Host-roster=' + B.cookie})
    resp = c.getresponse()
    h.is_(resp.status, 200, 'a second stream, of its own session')
    buf = resp.read1(4096)
    B.cmd('LOGOUT')
    ended = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            d = resp.read1(4096)
        except (OSError, http.client.HTTPException):
            ended = True
            break
        if not d:
            ended = True
            break
    h.ok(ended, 'LOGOUT (another connection) closes the stream')
    c.close()



def open_stream(port, cookie):
    """A raw TLS connection that has read the head of GET /api/watch and
    its ': watching' comment."""
    t = tls_raw(port)
    t.sendall(b'GET /api/watch?event=E1 HTTP/1.1\r\nHost: x\r\n'
              b'Cookie: __Host-roster=%s\r\n\r\n' % cookie.encode())
    got = b''
    deadline = time.monotonic() + 10
    while b': watching' not in got and time.monotonic() < deadline:
        d = t.recv(4096)
        if not d:
            break
        got += d
    h.like(got.decode('latin-1').split('\r\n')[0], r'^HTTP/1\.1 200 ',
           'a stream on port %d: 200' % port)
    return t


def closed_within(t, seconds):
    """The seconds until the server closed t, or None if it did not
    within seconds."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        t.settimeout(max(0.05, seconds - (time.monotonic() - start)))
        try:
            d = t.recv(4096)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return time.monotonic() - start
        if not d:
            return time.monotonic() - start
    return None


with h.section('an event stream ends with its session: idle expiry'):
    # rosterd 2 opens sessions of http_session_idle=2 seconds
    w = web_login('hst', port=HTTP_PORT2)
    t = open_stream(HTTP_PORT2, w.cookie)
    h.is_(closed_within(t, 1.2), None, 'open while the session is fresh')
    h.is_(w.cmd('WHOAMI').fields.get('user'), 'hst',
          'the page uses its session meanwhile (on rosterd 2)')
    h.is_(closed_within(t, 1.3), None,
          'past the first 2 s: still open, the session was used at 1.2 s')
    took = closed_within(t, 5)
    h.ok(took is not None,
         'once unused for longer than 2 s: the stream closes', repr(took))
    t.close()
    h.is_(w.cmd('WHOAMI').fields.get('user'), '-',
          'and the session has ended')
    # a stream of a session used on the other rosterd is kept by that use
    w = web_login('hst', port=HTTP_PORT2)
    t = open_stream(HTTP_PORT2, w.cookie)
    other = Web(HTTP_PORT)
    other.cookie, other.csrf = w.cookie, w.csrf
    h.is_(closed_within(t, 1.2), None, 'a second stream, open')
    h.is_(other.cmd('WHOAMI').fields.get('user'), 'hst',
          'its session used on rosterd 1')
    h.is_(closed_within(t, 1.3), None,
          'a use on another rosterd keeps the stream open too')
    h.ok(closed_within(t, 5) is not None, 'then it closes')
    t.close()

with h.section('an event stream ends with its session: LOGOUT, a disabled '
               'user'):
    w = web_login('hst')
    t = open_stream(HTTP_PORT, w.cookie)
    h.is_(closed_within(t, 0.5), None, 'open')
    h.is_(w.cmd('LOGOUT').status, 200, 'LOGOUT from another request')
    h.ok(closed_within(t, 5) is not None, 'the stream closes')
    t.close()
    h.must(R.A, 'USER ADD name=dis role=host password=%s' % h.quote(PW))
    w = web_login('dis')
    t = open_stream(HTTP_PORT, w.cookie)
    h.is_(closed_within(t, 0.5), None, 'a stream of user dis, open')
    h.must(R.A, 'USER SET name=dis enabled=no')
    h.ok(closed_within(t, 5) is not None,
         'USER SET enabled=no on the line protocol: the stream closes')
    t.close()
    h.must(R.A, 'USER SET name=dis enabled=yes')
    w = web_login('dis')
    t = open_stream(HTTP_PORT, w.cookie)
    h.must(R.A, 'USER SET name=dis role=secretariat')
    h.ok(closed_within(t, 5) is not None, 'another role: it closes')
    t.close()

with h.section('files: HEAD, ETag, 304, Cache-Control'):
    w = Web()
    a = w.send('GET', '/app.js')
    etag = a.headers.get('ETag') or ''
    h.like(etag, r'^"[0-9a-f]+-[0-9a-f]+\.[0-9a-f]+"$',
           'a file has an ETag (size and time)')
    h.is_(a.headers.get('Cache-Control'), 'no-cache',
          'and Cache-Control: no-cache (kept, but revalidated)')
    h.ok(etag != w.send('GET', '/style.css').headers.get('ETag'),
         'another file, another ETag')
    for inm, want in ((etag, 304), ('W/' + etag, 304),
                      ('"x", ' + etag, 304), ('*', 304),
                      ('"nothing"', 200), (etag[:-2] + '"', 200)):
        a = w.send('GET', '/app.js', headers={'If-None-Match': inm})
        h.is_((a.status, len(a.raw)),
              (want, 0 if want == 304 else len(FILES['app.js'])),
              'If-None-Match: %s: %d' % (inm, want))
    h.is_(a.headers.get('ETag'), etag, 'a 200 has it too')
    a = w.send('GET', '/app.js', headers={'If-None-Match': etag})
    h.is_((a.headers.get('ETag'), a.headers.get('Content-Length')),
          (etag, None), 'a 304 has the ETag, no Content-Length')
    h.is_(w.send('GET', '/api/session').headers.get('Cache-Control'),
          'no-store', 'an API answer stays no-store')
    # HEAD, then GET, on one connection: the second answer follows the
    # first head at once, so HEAD sent no body
    t = tls_raw(HTTP_PORT)
    t.sendall(b'HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n'
              b'GET /style.css HTTP/1.1\r\nHost: x\r\n'
              b'Connection: close\r\n\r\n')
    got = read_all(t).decode()
    t.close()
    heads = got.split('\r\n\r\n')
    h.like(heads[0], r'^HTTP/1\.1 200 OK\r\n', 'HEAD of a file: 200')
    h.ok('Content-Length: %d\r\n' % len(FILES['app.js']) in heads[0] + '\r\n'
         and 'ETag: ' + etag in heads[0],
         'with the Content-Length and ETag of the GET', heads[0])
    h.like(heads[1] if len(heads) > 1 else '', r'^HTTP/1\.1 200 OK\r\n',
           'and no body: the next answer comes right after its head')
    h.is_(heads[2] if len(heads) > 2 else '', FILES['style.css'],
          'the next answer is the GET\'s, whole')
    for path, want in (('/nothing.js', 404), ('/api/session', 405)):
        t = tls_raw(HTTP_PORT)
        t.sendall(b'HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close'
                  b'\r\n\r\n' % path.encode())
        got = b''
        while True:
            try:
                d = t.recv(4096)
            except (ssl.SSLError, OSError):
                break
            if not d:
                break
            got += d
        t.close()
        hd, _, rest = got.decode().partition('\r\n\r\n')
        h.like(hd, r'^HTTP/1\.1 %d ' % want, 'HEAD %s: %d' % (path, want))
        h.is_(rest, '', 'without a body')

h.ok(all_headers_ok, 'the security headers were on every response')
h.done_testing()
