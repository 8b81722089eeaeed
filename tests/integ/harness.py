"""harness.py -- what every integration test of roster stands on.

A test starts a private PostgreSQL 15 on a free port in a temporary
directory, makes its certificates with the openssl CLI (through
deploy/gen-certs), writes a rosterd configuration, starts the real rosterd
from the build directory and talks to it over TLS with Python's ssl module.
Results are TAP for automake's tap-driver.sh. Standard library only, and
nothing here uses the C code under test: the reply parser below follows
PROTOCOL.md section 2 on its own.

A test reads as request -> expected reply:

    import harness as h
    env, rd = h.setup(users=[('hst', 'host', None)])
    A = rd.login('admin')
    H = rd.login('hst')
    h.must(A, 'PARTY ADD code=IOM kind=organisation name=IOM')  # set-up
    with h.section('PARTY ADD'):
        h.write(H, 'PARTY ADD code=ICMPD kind=organisation name=ICMPD',
                'host adds a party')          # OK, one audit row, by hst
        h.refused(H, 'PARTY ADD code=X kind=planet name=X', 'INVALID',
                  'unknown kind')             # ERR INVALID, no audit row
        h.ok_reply(H.request('PARTY LIST kind=organisation'),
                   'both organisations', count='2')
        h.err_reply(H.request('PARTY SHOW'), 'SYNTAX', 'without party=')
    h.done_testing()

Everything started is stopped when the test exits, fails, is interrupted or
runs past its watchdog (ROSTER_TEST_TIMEOUT seconds, default 180). The
environment gives ROSTER_BUILDDIR and ROSTER_SRCDIR (Makefile.am's
AM_TESTS_ENVIRONMENT); ROSTER_KEEP_TMP=1 keeps the temporary directory;
ROSTER_PG_NO_TEMPLATE=1 runs initdb for each test instead of copying the
cluster it made once (Postgres._template).
"""

import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get('ROSTER_SRCDIR') or
                         os.path.join(HERE, '..', '..'))
BUILDDIR = os.path.abspath(os.environ.get('ROSTER_BUILDDIR') or
                           (os.path.join(SRCDIR, 'build')
                            if os.path.isdir(os.path.join(SRCDIR, 'build'))
                            else SRCDIR))
ROSTERD = os.path.join(BUILDDIR, 'daemon', 'rosterd')
ROSTER = os.path.join(BUILDDIR, 'client', 'roster')
GEN_CERTS = os.path.join(SRCDIR, 'deploy', 'gen-certs')

GREETING = 'OK rosterd ready proto=1 version=0.1.0'
ADMIN = 'admin'
PASSWORD = 'correct horse battery staple'   # >= 12 characters
ERROR_CODES = ('SYNTAX', 'INVALID', 'TOO_LONG', 'AUTH_REQUIRED',
               'AUTH_FAILED', 'RATE_LIMITED', 'FORBIDDEN', 'NOT_FOUND',
               'CONFLICT', 'QUOTA', 'CLOSED', 'BUSY', 'UNAVAILABLE',
               'INTERNAL')


# --------------------------------------------------------------------------
# TAP

class _Tap:
    count = 0
    failed = 0
    planned = None
    finished = False


_tap = _Tap()


def _out(text):
    # A reader that went away (a closed pipe) must not keep the clean-up
    # from running.
    try:
        sys.stdout.write(text + '\n')
        sys.stdout.flush()
    except (BrokenPipeError, OSError):
        pass


def diag(*lines):
    """Write lines as TAP comments ("# ..."), which the log keeps."""
    for text in lines:
        for line in str(text).splitlines() or ['']:
            _out('# ' + line)


def plan(n):
    """Announce n tests up front (or call done_testing() at the end)."""
    _tap.planned = n
    _out('1..%d' % n)


def ok(cond, name, *why):
    """One test: passes when cond is true. why: lines of diagnostics."""
    _tap.count += 1
    name = str(name).replace('\n', ' ').replace('#', '\\#')
    if cond:
        _out('ok %d - %s' % (_tap.count, name))
    else:
        _tap.failed += 1
        _out('not ok %d - %s' % (_tap.count, name))
        where = [f for f in traceback.extract_stack()[:-1]
                 if os.path.basename(f.filename) not in ('harness.py',
                                                         'contextlib.py')]
        diag('  Failed test %r' % name)
        if where:
            diag('  at %s line %d.' % (os.path.basename(where[-1].filename),
                                       where[-1].lineno))
        for w in why:
            diag(w)
    return bool(cond)


def is_(got, want, name):
    """Passes when got == want; otherwise shows both."""
    return ok(got == want, name, '         got: %r' % (got,),
              '    expected: %r' % (want,))


def isnt(got, unwanted, name):
    return ok(got != unwanted, name, '         got: %r' % (got,),
              '    expected: anything else')


def like(got, pattern, name):
    """Passes when the regular expression matches somewhere in got."""
    return ok(got is not None and re.search(pattern, str(got)) is not None,
              name, '                  %r' % (got,),
              "    doesn't match '%s'" % pattern)


def cmp_ok(got, op, want, name):
    ops = {'<': lambda a, b: a < b, '<=': lambda a, b: a <= b,
           '>': lambda a, b: a > b, '>=': lambda a, b: a >= b,
           '==': lambda a, b: a == b, '!=': lambda a, b: a != b}
    try:
        cond = ops[op](got, want)
    except TypeError:
        cond = False
    return ok(cond, name, '    %r' % (got,), '        %s' % op,
              '    %r' % (want,))


def skip(name, reason):
    """A test that could not run here: counted by automake as SKIP, never
    as a pass."""
    _tap.count += 1
    _out('ok %d - %s # SKIP %s' % (_tap.count, name, reason))


def bail(reason):
    """Stop the whole test file: automake counts it as an ERROR."""
    _out('Bail out! %s' % reason)
    try:
        _dump_logs()
    finally:
        _run_cleanups()
        os._exit(2)


def failed():
    return _tap.failed


@contextlib.contextmanager
def section(name):
    """Run a block of checks; an exception in it is a failed test (with the
    traceback) and the file goes on with the next block."""
    diag('--- %s' % name)
    try:
        yield
    except Exception as e:
        ok(False, '%s: no exception' % name,
           '%s: %s' % (type(e).__name__, e),
           *traceback.format_exc().splitlines())
        if isinstance(e, (socket.timeout, TimeoutError)):
            _bail_if_hung()


def _bail_if_hung():
    """After a time-out: when a running rosterd no longer answers a PING
    on a new connection, every later check would only wait out its own
    time-out, so stop here."""
    for d in _daemons:
        if not d.running():
            continue
        try:
            with d.connect(timeout=5) as c:
                if c.greeting.ok:
                    c.request('PING', timeout=5)
        except (OSError, Closed, ProtocolError, ssl.SSLError) as e:
            bail('%s (pid %d) is running but does not answer: %s'
                 % (d.name, d.pid, e))


def done_testing():
    """Stop every daemon that is still running and check that each exits 0
    on SIGTERM (which also catches sanitizer reports at exit), print the
    plan, clean up and exit 0 when all passed, 1 otherwise."""
    for d in list(_daemons):
        if d.running():
            rc = d.stop()
            is_(rc, 0, '%s exits 0 on SIGTERM at the end' % d.name)
    if _tap.planned is None:
        _out('1..%d' % _tap.count)
    elif _tap.planned != _tap.count:
        diag('planned %d tests but ran %d' % (_tap.planned, _tap.count))
        _tap.failed += 1
    _tap.finished = True
    if _tap.count == 0:
        diag('no test ran')
        _tap.failed += 1
    sys.exit(1 if _tap.failed else 0)


# --------------------------------------------------------------------------
# clean-up, watchdog

_cleanups = []
_daemons = []
_logs = []          # (title, path, lines) shown when a test failed


def on_cleanup(fn):
    """Run fn at exit (last registered first), whatever happens."""
    _cleanups.append(fn)
    return fn


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # clean-up goes on regardless
            sys.stderr.write('harness: clean-up %r failed: %s\n' % (fn, e))


def _tail(path, n):
    try:
        with open(path, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError as e:
        return ['(cannot read %s: %s)' % (path, e)]
    if len(lines) > n:
        return ['(... %d lines before)' % (len(lines) - n)] + lines[-n:]
    return lines


def _dump_logs():
    for title, path, n in _logs:
        if os.path.exists(path):
            diag('==== %s (%s) ====' % (title, path))
            diag(*_tail(path, n))


def _at_exit():
    try:
        if _tap.failed or not _tap.finished:
            _dump_logs()
    finally:
        _run_cleanups()


atexit.register(_at_exit)


def _on_signal(signum, frame):
    _out('not ok %d - interrupted by signal %d' % (_tap.count + 1, signum))
    _tap.failed += 1
    bail('signal %d' % signum)


def _on_alarm(signum, frame):
    _out('not ok %d - watchdog: the test ran past %d s' %
         (_tap.count + 1, WATCHDOG))
    _tap.failed += 1
    diag(*traceback.format_stack(frame))
    bail('watchdog')


WATCHDOG = int(os.environ.get('ROSTER_TEST_TIMEOUT', '180'))
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)
signal.signal(signal.SIGALRM, _on_alarm)
signal.alarm(WATCHDOG)


def _die_with_parent():
    """In a child before exec: get SIGKILL if the test process dies without
    cleaning up (e.g. killed with SIGKILL)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)    # PR_SET_PDEATHSIG
    except Exception:
        pass


# --------------------------------------------------------------------------
# small helpers

def free_port(host='127.0.0.1'):
    """A TCP port nobody listens on right now."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


def wait_for(cond, timeout, interval=0.1):
    """Call cond() until it returns something true or timeout seconds pass;
    returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def run(argv, check=True, timeout=120, **kw):
    """subprocess.run with text output captured; raises with the output
    when check and the command fails."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError('%s exited %d\nstdout: %s\nstderr: %s' % (
            ' '.join(argv), p.returncode, p.stdout, p.stderr))
    return p


def _read_proc_status(pid, key):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# --------------------------------------------------------------------------
# values and replies (PROTOCOL.md sections 2 and 3)

class ProtocolError(Exception):
    """The server sent something that is not a well-formed reply line."""


_ESCAPES = {'"': '"', '\\': '\\', 'n': '\n', 't': '\t', 'r': '\r'}
_ESCAPE_OF = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t',
              '\r': '\\r'}
_KEY = re.compile(r'([a-z0-9_]+)=')


def _is_ctl(ch):
    return ord(ch) < 0x20 or ord(ch) == 0x7f


def quote(value):
    """A value as a request or reply writes it: bare when it can be, else
    in double quotes with \\" \\\\ \\n \\t \\r escapes."""
    value = str(value)
    if value and not any(c in ' "\\=' or _is_ctl(c) for c in value):
        return value
    out = []
    for c in value:
        if c in _ESCAPE_OF:
            out.append(_ESCAPE_OF[c])
        elif _is_ctl(c):
            raise ValueError('control %r cannot be written in a value' % c)
        else:
            out.append(c)
    return '"' + ''.join(out) + '"'


def unquote(s, i=0):
    """Decode the quoted value that starts at s[i] (a DQUOTE); returns
    (value, index just past the closing DQUOTE)."""
    if i >= len(s) or s[i] != '"':
        raise ProtocolError('no quoted value at %d in %r' % (i, s))
    out = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == '"':
            return ''.join(out), i + 1
        if c == '\\':
            if i + 1 >= len(s) or s[i + 1] not in _ESCAPES:
                raise ProtocolError('bad escape at %d in %r' % (i, s))
            out.append(_ESCAPES[s[i + 1]])
            i += 2
            continue
        if _is_ctl(c):
            raise ProtocolError('raw control in quoted value: %r' % s)
        out.append(c)
        i += 1
    raise ProtocolError('unterminated quoted value in %r' % s)


def parse_fields(s):
    """Split the fields of a reply line into a list of (key, value) pairs;
    key is None for a bare word such as "pong". Fields are separated by
    one or more spaces; values are bare or quoted."""
    out = []
    i, n = 0, len(s)
    while i < n:
        if s[i] == ' ':
            i += 1
            continue
        m = _KEY.match(s, i)
        key = None
        if m:
            key = m.group(1)
            i = m.end()
        if i < n and s[i] == '"':
            value, i = unquote(s, i)
            if i < n and s[i] != ' ':
                raise ProtocolError('junk after a quoted value in %r' % s)
        else:
            j = s.find(' ', i)
            j = n if j < 0 else j
            value = s[i:j]
            i = j
            if '"' in value or '\\' in value:
                raise ProtocolError('DQUOTE or backslash in a bare value '
                                    'in %r' % s)
            if key is not None and value == '':
                raise ProtocolError('empty value not quoted in %r' % s)
        if any(_is_ctl(c) for c in value if c not in '\n\t\r') or \
                (m is None and value == ''):
            raise ProtocolError('bad field in %r' % s)
        out.append((key, value))
    return out


def fields_dict(pairs, line):
    d = {}
    for k, v in pairs:
        if k is None:
            continue
        if k in d:
            raise ProtocolError('key %r twice in %r' % (k, line))
        d[k] = v
    return d


class Reply:
    """One request's answer.

    kind     'OK' or 'ERR'
    code     the error code (ERR), else None
    text     ERR: the text after the code; OK: everything after "OK "
    fields   OK: dict of the key=value fields of the final line
    words    OK: the bare words of the final line (["pong"])
    records  list of dicts, one per "* " line
    data     list of the "= " lines' text
    notes    list of (kind, dict) for "! " lines
    lines    every line, final one included
    final    the final line
    """

    def __init__(self):
        self.kind = None
        self.code = None
        self.text = ''
        self.fields = {}
        self.words = []
        self.records = []
        self.data = []
        self.notes = []
        self.lines = []
        self.final = None

    @property
    def ok(self):
        return self.kind == 'OK'

    def __repr__(self):
        extra = ''
        if self.records:
            extra += ' +%d records' % len(self.records)
        if self.data:
            extra += ' +%d data lines' % len(self.data)
        return '<Reply %r%s>' % (self.final, extra)

    def __str__(self):
        return self.final or ''


def _check_line(line, allow_tab=False):
    for c in line:
        if _is_ctl(c) and not (allow_tab and c == '\t'):
            raise ProtocolError('raw control %r in line %r' % (c, line))


def parse_final(line, reply=None):
    """Fill (or make) a Reply from a final line "OK ..." or "ERR CODE ..."."""
    r = reply or Reply()
    r.final = line
    _check_line(line)
    if line == 'OK' or line.startswith('OK '):
        r.kind = 'OK'
        r.text = line[3:]
        pairs = parse_fields(r.text)
        r.fields = fields_dict(pairs, line)
        r.words = [v for k, v in pairs if k is None]
    elif line.startswith('ERR '):
        r.kind = 'ERR'
        parts = line[4:].split(' ', 1)
        r.code = parts[0]
        r.text = parts[1] if len(parts) > 1 else ''
        if r.code not in ERROR_CODES:
            raise ProtocolError('unknown error code in %r' % line)
    else:
        raise ProtocolError('not a final line: %r' % line)
    return r


def parse_record(line):
    """The dict of a "* k=v ..." line."""
    if not line.startswith('* '):
        raise ProtocolError('not a record: %r' % line)
    _check_line(line)
    pairs = parse_fields(line[2:])
    if any(k is None for k, _ in pairs):
        raise ProtocolError('bare word in a record: %r' % line)
    return fields_dict(pairs, line)


# --------------------------------------------------------------------------
# TLS client

class Closed(Exception):
    """The server closed the connection."""


def client_context(ca, cert=None, key=None, tls_max=None, tls_min=None,
                   ciphers=None, verify=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(ca)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if tls_min is not None:
        ctx.minimum_version = tls_min
    if tls_max is not None:
        ctx.maximum_version = tls_max
    return ctx


def tcp_connect(host, port, timeout=10.0, rcvbuf=None, sndbuf=None):
    """A plain TCP connection; socket buffer sizes set before connecting
    when given (small buffers make back-pressure show sooner)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        s.settimeout(timeout)
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


class Client:
    """A TLS connection to rosterd that speaks the line protocol.

    Client(port, ca=...) connects, handshakes and reads the greeting (a
    Reply, in .greeting) unless greeting=False. .env is the Env of the
    daemon when Rosterd.connect made it (write() and refused() below read
    the audit table through it)."""

    def __init__(self, port, host='127.0.0.1', ca=None, cert=None, key=None,
                 server_hostname='localhost', timeout=10.0, greeting=True,
                 context=None, rcvbuf=None, sndbuf=None, env=None):
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False
        self.env = env
        ctx = context or client_context(ca, cert, key)
        raw = tcp_connect(host, port, timeout, rcvbuf, sndbuf)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        self.greeting = self.read_reply() if greeting else None

    # --- bytes and lines ---
    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode('utf-8')
        self.sock.sendall(data)

    def send(self, line):
        """Send one request line (LF appended)."""
        self.send_raw(line.encode('utf-8') + b'\n')

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('no complete line within %.1f s'
                                 % self.timeout)
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError) as e:
            self.eof = True
            raise Closed('connection closed: %s' % e)
        if not data:
            self.eof = True
            raise Closed('connection closed')
        self.buf += data

    def read_line_bytes(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            i = self.buf.find(b'\n')
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                if line.endswith(b'\r'):
                    line = line[:-1]
                return line
            if self.eof:
                raise Closed('connection closed (%d bytes without LF)'
                             % len(self.buf))
            self._fill(deadline)

    def read_line(self, timeout=None):
        """The next line, without its LF, as text (must be UTF-8)."""
        raw = self.read_line_bytes(timeout)
        try:
            return raw.decode('utf-8')
        except UnicodeDecodeError:
            raise ProtocolError('server sent invalid UTF-8: %r' % raw)

    def read_reply(self, timeout=None):
        """Read lines up to and including one final line."""
        r = Reply()
        while True:
            line = self.read_line(timeout)
            r.lines.append(line)
            if line.startswith('* '):
                r.records.append(parse_record(line))
            elif line.startswith('= ') or line == '=':
                _check_line(line, allow_tab=True)
                r.data.append(line[2:])
            elif line.startswith('! '):
                _check_line(line)
                pairs = parse_fields(line[2:])
                if not pairs or pairs[0][0] is not None:
                    raise ProtocolError('bad notification %r' % line)
                r.notes.append((pairs[0][1], fields_dict(pairs[1:], line)))
            else:
                return parse_final(line, r)

    def request(self, line, timeout=None):
        """Send one request and read its whole reply."""
        self.send(line)
        return self.read_reply(timeout)

    def pipeline(self, lines, timeout=None):
        """Send all requests at once, then read one reply for each."""
        self.send_raw(''.join(l + '\n' for l in lines).encode('utf-8'))
        return [self.read_reply(timeout) for _ in lines]

    def login(self, user, password=PASSWORD):
        return self.request('LOGIN user=%s password=%s'
                            % (quote(user), quote(password)))

    def closed_within(self, timeout):
        """Read (and keep in .after) whatever comes until the server closes
        the connection; True when it did within timeout seconds."""
        self.after = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                i = self.buf.find(b'\n')
                if i >= 0:
                    self.after.append(bytes(self.buf[:i]))
                    del self.buf[:i + 1]
                    continue
                if self.eof:
                    return True
                self._fill(deadline)
            except Closed:
                return True
            except (socket.timeout, TimeoutError):
                return False
            except (ssl.SSLError, OSError):
                return True

    def peer_serial(self):
        """The server certificate's serial number, in upper-case hex."""
        return self.sock.getpeercert()['serialNumber'].lstrip('0').upper()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RecordingClient(Client):
    """A Client that keeps every byte received after the handshake in
    .raw (to check what a reply never contains)."""

    def __init__(self, *args, **kw):
        self.raw = bytearray()
        super().__init__(*args, **kw)

    def _fill(self, deadline):
        n = len(self.buf)
        try:
            super()._fill(deadline)
        finally:
            self.raw += self.buf[n:]


# --------------------------------------------------------------------------
# PostgreSQL

def pg_bindir():
    for d in (os.environ.get('ROSTER_PG_BINDIR'),
              '/usr/lib/postgresql/15/bin'):
        if d and os.path.exists(os.path.join(d, 'initdb')):
            return d
    try:
        d = run(['pg_config', '--bindir']).stdout.strip()
        if os.path.exists(os.path.join(d, 'initdb')):
            return d
    except (OSError, RuntimeError):
        pass
    raise RuntimeError('no PostgreSQL 15 server binaries (initdb) found: '
                       'apt-get install postgresql-15')


class _SqlEnded(Exception):
    """The psql of Postgres.query ended."""


class Postgres:
    """A private PostgreSQL cluster in base/pg, on 127.0.0.1 and a unix
    socket in the same directory. As root its programs run as the postgres
    user (runuser); otherwise as the current user. The superuser is
    "postgres" either way."""

    def __init__(self, base):
        self.dir = os.path.join(base, 'pg')
        self.template_base = os.path.dirname(os.path.abspath(base))
        self.data = os.path.join(self.dir, 'data')
        self.logfile = os.path.join(self.dir, 'postgres.log')
        self.bindir = pg_bindir()
        self.as_root = os.geteuid() == 0
        self.port = None
        self.started = False
        self._sql = None            # the psql that query() keeps open
        self._sql_n = 0
        self._sql_lock = threading.Lock()
        self._sql_cleanup = False
        _logs.append(('PostgreSQL log', self.logfile, 40))

    def _argv(self, prog, *args):
        argv = [os.path.join(self.bindir, prog)] + list(args)
        if self.as_root:
            argv = ['runuser', '-u', 'postgres', '--'] + argv
        return argv

    def _write_port(self):
        with open(os.path.join(self.data, 'postgresql.auto.conf'), 'a') as f:
            f.write("port = %d\n" % self.port)

    _INITDB = ('-E', 'UTF8', '--locale=C.UTF-8', '-A', 'trust', '-U',
               'postgres', '--no-sync', '--wal-segsize=1')

    def init(self):
        os.makedirs(self.dir)
        self._chown(self.dir)
        if os.environ.get('ROSTER_PG_NO_TEMPLATE'):
            run(self._argv('initdb', '-D', self.data, *self._INITDB))
        else:
            run(['cp', '-a', self._template(), self.data])
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write("\n# roster test cluster\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '%s'\n"
                    "max_connections = 60\n"
                    # fsync off is safe for these tests (a process
                    # stop, never a machine crash); synchronous_commit
                    # stays on: an OK must survive "pg_ctl -m immediate"
                    "fsync = off\n"
                    "full_page_writes = off\n"
                    # each rosterd reads the notifications from a
                    # replication slot of its own (daemon/feed.c); a
                    # slot left behind keeps at most this much WAL
                    "wal_level = logical\n"
                    "max_wal_senders = 20\n"
                    "max_replication_slots = 20\n"
                    "max_slot_wal_keep_size = '256MB'\n"
                    "log_min_messages = warning\n" % self.dir)
        on_cleanup(self._cleanup)

    def _chown(self, path):
        if self.as_root:
            import pwd
            pw = pwd.getpwnam('postgres')
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _template(self):
        """The data directory of a cluster fresh from initdb, made once for
        this user, PostgreSQL build and initdb arguments and kept beside
        the test directories; each test copies it (initdb took most of a
        test's set-up time). ROSTER_PG_NO_TEMPLATE=1 runs initdb instead."""
        st = os.stat(os.path.join(self.bindir, 'postgres'))
        key = hashlib.sha256(repr((self.bindir, st.st_size, st.st_mtime_ns,
                                   self._INITDB, os.geteuid()))
                             .encode()).hexdigest()[:16]
        path = os.path.join(self.template_base, 'roster-pg-template-' + key)
        ready = os.path.join(path, 'ready')
        if not os.path.exists(ready):
            with open(path + '.lock', 'a') as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)       # one makes it
                if not os.path.exists(ready):
                    shutil.rmtree(path, ignore_errors=True)  # unfinished
                    os.makedirs(path)
                    os.chmod(path, 0o755)
                    self._chown(path)
                    run(self._argv('initdb', '-D', os.path.join(path, 'data'),
                                   *self._INITDB))
                    open(ready, 'w').close()
        return os.path.join(path, 'data')

    def start(self):
        """Start the cluster (first time: on a free port, retried if another
        process takes it first); later starts keep the port."""
        for attempt in range(3):
            if self.port is None or (attempt and not self.started):
                self.port = free_port()
                self._write_port()
            p = run(self._argv('pg_ctl', '-D', self.data, '-l', self.logfile,
                               '-w', '-t', '60', 'start'), check=False)
            if p.returncode == 0:
                self.started = True
                return
            if self.started or 'in use' not in ''.join(
                    _tail(self.logfile, 20)):
                break
        raise RuntimeError('pg_ctl start failed:\n%s%s\n%s' % (
            p.stdout, p.stderr, '\n'.join(_tail(self.logfile, 20))))

    def stop(self, mode='fast'):
        """Stop the server (mode: smart, fast or immediate)."""
        run(self._argv('pg_ctl', '-D', self.data, '-m', mode, '-w', '-t',
                       '60', 'stop'))

    def restart(self, mode='fast'):
        self.stop(mode)
        self.start()

    def running(self):
        return run(self._argv('pg_ctl', '-D', self.data, 'status'),
                   check=False).returncode == 0

    def _cleanup(self):
        pidfile = os.path.join(self.data, 'postmaster.pid')
        if not os.path.exists(pidfile):
            return
        p = run(self._argv('pg_ctl', '-D', self.data, '-m', 'immediate',
                           '-w', 'stop'), check=False, timeout=60)
        if p.returncode != 0 and os.path.exists(pidfile):
            # pg_ctl itself failed: SIGQUIT is an immediate shutdown.
            try:
                with open(pidfile) as f:
                    os.kill(int(f.readline()), signal.SIGQUIT)
            except (OSError, ValueError):
                pass

    @property
    def conninfo(self):
        return ('host=127.0.0.1 port=%d dbname=roster user=postgres'
                % self.port)

    def psql(self, sql, db='roster', check=True):
        """Run SQL with psql over TCP; returns stdout (unaligned, tuples
        only, fields separated by \\x1f)."""
        env = dict(os.environ, PGCONNECT_TIMEOUT='5')
        return run([os.path.join(self.bindir, 'psql'), '-X', '-q', '-A',
                    '-t', '-F', '\x1f', '-v', 'ON_ERROR_STOP=1',
                    '-h', '127.0.0.1', '-p', str(self.port), '-U',
                    'postgres', '-d', db, '-c', sql],
                   check=check, env=env).stdout

    def query(self, sql):
        """The rows of one SQL statement as lists of strings, through one
        psql kept open (a query costs about a millisecond instead of a
        process). A psql that ended (the server was stopped or restarted)
        is started again once; an error in the SQL raises RuntimeError."""
        with self._sql_lock:
            for attempt in (1, 2):
                if self._sql is None or self._sql.poll() is not None:
                    self._sql_open()
                try:
                    return self._sql_query(sql)
                except _SqlEnded as e:
                    self._sql_close()
                    if attempt == 2:
                        raise RuntimeError('psql: %s' % e)

    def scalar(self, sql):
        """The first column of the first row, or None when there is none."""
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def _sql_open(self):
        argv = [os.path.join(self.bindir, 'psql'), '-X', '-q', '-A', '-t',
                '-F', '\x1f', '-h', '127.0.0.1', '-p', str(self.port),
                '-U', 'postgres', '-d', 'roster']
        self._sql = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding='utf-8',
            bufsize=1, env=dict(os.environ, PGCONNECT_TIMEOUT='5'))
        if not self._sql_cleanup:
            self._sql_cleanup = True
            on_cleanup(self._sql_close)

    def _sql_query(self, sql):
        self._sql_n += 1
        marker = '__harness_end_%d__' % self._sql_n
        try:
            self._sql.stdin.write(sql.strip().rstrip(';') + ';\n\\echo '
                                  + marker + '\n')
            self._sql.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise _SqlEnded('%s: %s' % (sql, e))
        rows, errors = [], []
        for line in self._sql.stdout:
            line = line.rstrip('\n')
            if line == marker:
                break
            if line.startswith(('ERROR:', 'FATAL:', 'psql:')) or errors:
                errors.append(line)
            else:
                rows.append(line.split('\x1f'))
        else:
            raise _SqlEnded('ended at %s\n%s' % (sql, '\n'.join(errors)))
        if errors:
            raise RuntimeError('psql: %s\n%s' % (sql, '\n'.join(errors)))
        return rows

    def _sql_close(self):
        p, self._sql = self._sql, None
        if p is None or p.poll() is not None:
            return
        try:
            p.stdin.close()
            p.wait(5)
        except Exception:
            p.kill()
            p.wait()

    def createdb(self, name='roster'):
        self.psql('CREATE DATABASE %s' % name, db='postgres')

    def session(self):
        """A long-lived psql reading SQL from a pipe (to hold locks)."""
        env = dict(os.environ, PGCONNECT_TIMEOUT='5')
        p = subprocess.Popen(
            [os.path.join(self.bindir, 'psql'), '-X', '-q', '-v',
             'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', str(self.port),
             '-U', 'postgres', '-d', 'roster'],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True, env=env)

        def _end():
            if p.poll() is None:
                p.kill()
                p.wait()
        on_cleanup(_end)
        return p


# --------------------------------------------------------------------------
# certificates

class Certs:
    """Certificates made with deploy/gen-certs: a CA and server certificate
    in base/tls, client certificates on demand, and a second, untrusted CA
    in base/tls-other."""

    def __init__(self, base):
        self.dir = os.path.join(base, 'tls')
        self.other_dir = os.path.join(base, 'tls-other')
        self._gen(self.dir)
        self.ca = os.path.join(self.dir, 'ca.crt')
        self.server_crt = os.path.join(self.dir, 'server.crt')
        self.server_key = os.path.join(self.dir, 'server.key')
        self.other_ca = os.path.join(self.other_dir, 'ca.crt')

    @staticmethod
    def _gen(directory, *args):
        return run(['bash', GEN_CERTS, '--dir', directory] + list(args))

    def client(self, name):
        """(cert, key) for CN=name signed by the test CA."""
        self._gen(self.dir, '--client', name)
        return (os.path.join(self.dir, name + '.crt'),
                os.path.join(self.dir, name + '.key'))

    def other_client(self, name):
        """(cert, key) for CN=name signed by a CA rosterd does not trust."""
        self._gen(self.other_dir, '--client', name)
        return (os.path.join(self.other_dir, name + '.crt'),
                os.path.join(self.other_dir, name + '.key'))

    def reissue_server(self):
        """A new server key and certificate in place; returns its serial."""
        self._gen(self.dir, '--renew-server')
        return self.serial()

    def serial(self, path=None):
        out = run(['openssl', 'x509', '-noout', '-serial', '-in',
                   path or self.server_crt]).stdout.strip()
        return out.split('=', 1)[1].lstrip('0').upper()


# --------------------------------------------------------------------------
# rosterd

def _is_asan(path):
    """Whether the program was built with AddressSanitizer (whose
    quarantine makes RSS grow by design)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return False
    return b'__asan_init' in data or b'libasan.so' in data


class Rosterd:
    """One rosterd process with its own configuration file and log.

    config: the configuration keys; 'listen' may be a list. A key given as
    None is left out. Defaults: listen on 127.0.0.1 and a free port, the
    test certificates, the test database, log_level info."""

    def __init__(self, env, name='rosterd', **config):
        self.env = env
        self.name = name
        self.port = free_port()
        self.conffile = os.path.join(env.tmp, name + '.conf')
        self.logfile = os.path.join(env.tmp, name + '.log')
        self.proc = None
        self.config = {
            'listen': None,
            'cert': env.certs.server_crt,
            'key': env.certs.server_key,
            'client_ca': env.certs.ca,
            'database': env.pg.conninfo,
            'log_level': 'info',
        }
        self.config.update(config)
        self.host = '127.0.0.1'
        listen = self.config.get('listen')
        if listen:
            # Connect to the first listen address given.
            first = listen if isinstance(listen, str) else listen[0]
            host, _, port = first.rpartition(':')
            self.host = host.strip('[]')
            self.port = int(port)
        _logs.append(('%s log' % name, self.logfile, 150))
        _daemons.append(self)
        on_cleanup(self._cleanup)

    @property
    def asan(self):
        return _is_asan(ROSTERD)

    def write_config(self):
        lines = ['# written by tests/integ/harness.py']
        listen = self.config.get('listen')
        if listen is None:
            listen = ['127.0.0.1:%d' % self.port]
        elif isinstance(listen, str):
            listen = [listen]
        for addr in listen:
            lines.append('listen = %s' % addr)
        for k, v in self.config.items():
            if k == 'listen' or v is None:
                continue
            lines.append('%s = %s' % (k, v))
        with open(self.conffile, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def command(self, *args, env=None, check=False, timeout=120):
        """Run rosterd -c CONF ARGS... to completion (--migrate,
        --add-user, ...); returns the CompletedProcess."""
        self.write_config()
        e = dict(os.environ)
        e.update(env or {})
        return run([ROSTERD, '-c', self.conffile] + list(args), env=e,
                   check=check, timeout=timeout)

    def migrate(self):
        return self.command('--migrate', check=True)

    def add_user(self, name, role, password=PASSWORD, party=None):
        args = ['--add-user', name, '--role', role]
        if party:
            args += ['--party', party]
        return self.command(*args, env={'ROSTER_PASSWORD': password},
                            check=True)

    def start(self, timeout=20):
        """Start rosterd -f and wait until it answers a TLS connection with
        its greeting. A port taken meanwhile by someone else is retried
        with another."""
        for attempt in range(3):
            self.write_config()
            log = open(self.logfile, 'ab')
            log.write(b'==== harness: starting %s\n' % self.name.encode())
            log.flush()
            self.proc = subprocess.Popen(
                [ROSTERD, '-c', self.conffile, '-f'], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent)
            log.close()
            try:
                self.wait_ready(timeout)
                return self
            except RuntimeError:
                if self.proc.poll() is not None and attempt < 2 and \
                        self.config.get('listen') is None and \
                        'in use' in '\n'.join(_tail(self.logfile, 10)):
                    self.port = free_port()
                    continue
                raise

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited with %s while starting:\n%s' % (
                    self.name, self.proc.returncode,
                    '\n'.join(_tail(self.logfile, 30))))
            try:
                with self.connect(timeout=2) as c:
                    if c.greeting.ok:
                        return
                    last = c.greeting.final
            except (OSError, Closed, ProtocolError, ssl.SSLError) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError('%s did not greet within %d s (last: %s):\n%s' % (
            self.name, timeout, last, '\n'.join(_tail(self.logfile, 30))))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def sighup(self):
        self.signal(signal.SIGHUP)

    def stop(self, timeout=20):
        """SIGTERM and wait: returns the exit status (negative: killed by
        that signal; None: had to be killed after timeout seconds)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            diag('%s did not exit within %d s of SIGTERM; killed'
                 % (self.name, timeout))
            return None

    def kill(self):
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def wait(self, timeout):
        """Wait for the process to exit by itself; its status or None."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _cleanup(self):
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_kb(self):
        return _read_proc_status(self.proc.pid, 'VmRSS')

    def fd_count(self):
        try:
            return len(os.listdir('/proc/%d/fd' % self.proc.pid))
        except OSError:
            return None

    def log(self):
        with open(self.logfile, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def connect(self, host=None, port=None, cls=None, **kw):
        """A Client (or an instance of cls, e.g. RecordingClient) to this
        daemon, verifying against the test CA."""
        kw.setdefault('ca', self.env.certs.ca)
        return (cls or Client)(port or self.port, host=host or self.host,
                               env=self.env, **kw)

    def login(self, user=ADMIN, password=PASSWORD, use=None, **kw):
        """A connection logged in as user, with USE event=use when given;
        raises SetupError when that fails."""
        c = self.connect(**kw)
        r = c.login(user, password)
        if not r.ok:
            c.close()
            raise SetupError('LOGIN %s: %s' % (user, r.final))
        if use:
            must(c, 'USE event=%s' % use)
        return c

    def cert_login(self, user, use=None, timeout=30.0):
        """A connection logged in by a client certificate with CN=user (no
        password hashing: quick to open many)."""
        crt, key = self.env.client_cert(user)
        c = self.connect(cert=crt, key=key, timeout=timeout)
        if not c.greeting.ok or c.greeting.fields.get('user') != user:
            c.close()
            raise SetupError('certificate login of %s: %s'
                             % (user, c.greeting.final))
        if use:
            must(c, 'USE event=%s' % use)
        return c


# --------------------------------------------------------------------------
# the whole set-up

class Env:
    """A temporary directory with certificates and a running PostgreSQL
    holding an empty database "roster"."""

    def __init__(self):
        base = tempfile.gettempdir()
        if len(base) > 40:          # unix socket paths are short
            base = '/tmp'
        self.tmp = tempfile.mkdtemp(prefix='roster-test-', dir=base)
        os.chmod(self.tmp, 0o755)   # the postgres user walks through it
        self.home = os.path.join(self.tmp, 'home')
        os.makedirs(self.home)
        on_cleanup(self._remove)
        diag('temporary directory %s' % self.tmp)
        self.certs = Certs(self.tmp)
        self.pg = Postgres(self.tmp)
        self.pg.init()
        self.pg.start()
        self.pg.createdb('roster')
        self.daemons = []
        self._client_certs = {}

    def _remove(self):
        if os.environ.get('ROSTER_KEEP_TMP'):
            sys.stderr.write('harness: kept %s\n' % self.tmp)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def rosterd(self, name=None, start=True, migrate=True, **config):
        """A new Rosterd (migrated and started unless told otherwise)."""
        name = name or ('rosterd' if not self.daemons
                        else 'rosterd%d' % (len(self.daemons) + 1))
        rd = Rosterd(self, name, **config)
        self.daemons.append(rd)
        if migrate:
            rd.migrate()
        if start:
            rd.start()
        return rd

    def client_cert(self, user):
        """(cert, key) of a client certificate for user, made once."""
        if user not in self._client_certs:
            self._client_certs[user] = self.certs.client(user)
        return self._client_certs[user]

    def audit_count(self):
        return int(self.pg.scalar('SELECT count(*) FROM roster.audit'))

    def last_audit(self):
        """(username, command, target) of the newest audit row, or None."""
        rows = self.pg.query("SELECT username, command, coalesce(target, '') "
                             "FROM roster.audit ORDER BY id DESC LIMIT 1")
        return tuple(rows[0]) if rows else None

    def cli(self, rd, *args, user=None, password=None, ca=None,
            host='127.0.0.1', port=None, env=None, input=None, timeout=60):
        """Run the real CLI (client/roster) against rd; returns (exit code,
        stdout, stderr). The password goes in ROSTER_PASSWORD."""
        argv = [ROSTER, '--host', host, '--port', str(port or rd.port),
                '--ca', ca or self.certs.ca]
        if user is not None:
            argv += ['--user', user]
        argv += list(args)
        e = {k: v for k, v in os.environ.items()
             if not k.startswith('ROSTER_')}
        e.update(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home,
                                                              '.config'))
        if password is not None:
            e['ROSTER_PASSWORD'] = password
        e.update(env or {})
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=e,
                           timeout=timeout, start_new_session=True,
                           stdin=None if input is not None
                           else subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr


def setup(users=(), **config):
    """The usual start of a test: an Env, one rosterd (migrated, started)
    with config, the user "admin" (role admin, password PASSWORD) and the
    users given as (name, role, party or None) tuples. Returns (env, rd).
    A failure here bails out: nothing else could run."""
    for prog in (ROSTERD,):
        if not os.access(prog, os.X_OK):
            bail('%s is not built (ROSTER_BUILDDIR=%s)' % (prog, BUILDDIR))
    try:
        env = Env()
        rd = env.rosterd(start=False, **config)
        rd.add_user(ADMIN, 'admin')
        for name, role, party in users:
            rd.add_user(name, role, party=party)
        rd.start()
    except Exception as e:
        diag(*traceback.format_exc().splitlines())
        bail('set-up failed: %s' % str(e).splitlines()[0])
    return env, rd



# The users of the family tests: one per role, and two focal points.
ROLE_USERS = [('sec', 'secretariat', None), ('hst', 'host', None),
              ('ftr', 'focal', 'TR'), ('fhu', 'focal', 'HU')]


class Roles:
    """A connection logged in as each of ROLE_USERS: A (admin), S
    (secretariat), H (host), F (focal TR), FH (focal HU); N logged in as
    nobody; S2 a second secretariat with no USE; by_role maps each role's
    name to its connection."""

    def __init__(self, rd):
        self.A = rd.login('admin')
        self.S = rd.login('sec')
        self.H = rd.login('hst')
        self.F = rd.login('ftr')
        self.FH = rd.login('fhu')
        self.N = rd.connect()
        self.S2 = rd.login('sec')
        self.by_role = {'admin': self.A, 'secretariat': self.S,
                        'host': self.H, 'focal': self.F}


def setup_roles(**config):
    """setup() with ROLE_USERS, and a Roles of connections."""
    env, rd = setup(users=ROLE_USERS, **config)
    return env, rd, Roles(rd)

# --------------------------------------------------------------------------
# checks on replies

def ok_reply(r, name, /, **want):
    """Passes when r is an OK reply whose fields include want."""
    if r is None or r.kind != 'OK':
        return ok(False, name, '    got: %r' % (r.final if r else None,),
                  '    expected: OK %s' % ' '.join(
                      '%s=%s' % kv for kv in want.items()))
    bad = {k: (r.fields.get(k), v) for k, v in want.items()
           if r.fields.get(k) != v}
    return ok(not bad, name, '    got: %r' % r.final,
              *('    %s: got %r, expected %r' % (k, g, w)
                for k, (g, w) in bad.items()))


def err_reply(r, code, name):
    """Passes when r is "ERR CODE ..."."""
    return ok(r is not None and r.kind == 'ERR' and r.code == code, name,
              '    got: %r' % (r.final if r else None,),
              '    expected: ERR %s ...' % code)


# --------------------------------------------------------------------------
# requests that set a test up, writes checked against the audit table

BADGE_RE = re.compile(r'^[A-Z2-7]{10}$')
TIMESTAMP_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')


class SetupError(RuntimeError):
    """A set-up step the test depends on did not succeed."""


def must(conn, line, **want):
    """Send a set-up request that has to succeed (with the want fields);
    raises SetupError otherwise. Returns the Reply."""
    r = conn.request(line)
    if not r.ok or any(r.fields.get(k) != v for k, v in want.items()):
        raise SetupError('%s -> %s' % (line, r.final))
    return r


def event(conn, code, country='TR', city='Ankara', status='open',
          timezone='Europe/Istanbul', starts='2025-11-26',
          ends='2025-11-28', title=None):
    """EVENT CREATE (and EVENT SET status= unless draft) as conn."""
    must(conn, 'EVENT CREATE code=%s title=%s city=%s country=%s starts=%s '
         'ends=%s timezone=%s' % (code, quote(title or 'Meeting ' + code),
                                  quote(city), country, starts, ends,
                                  timezone))
    if status != 'draft':
        must(conn, 'EVENT SET event=%s status=%s' % (code, status))


_commands = None        # the server's command names, from HELP


def commands(conn):
    """The names of the server's commands ("PING", "PARTICIPANT ADD" ...)
    as the command= fields of HELP, asked once per test run on conn."""
    global _commands
    if _commands is None:
        r = conn.request('HELP')
        if not r.ok or not r.records:
            raise ProtocolError('HELP -> %s' % r.final)
        _commands = frozenset(rec.get('command', '').upper()
                              for rec in r.records)
    return _commands


def command_of(conn, line):
    """The command of a request line as HELP names it, upper case:
    "PARTICIPANT ADD party=TR" is PARTICIPANT ADD, "CHECKIN id=1" is
    CHECKIN."""
    words = line.split()
    two = ' '.join(words[:2]).upper()
    if len(words) > 1 and two in commands(conn):
        return two
    return words[0].upper() if words else ''


def write(conn, line, name, /, changes=1, **want):
    """Send a write that must succeed: OK with the want fields, `changes`
    new audit rows, and when that is one, the newest is this command (as
    HELP names it) by conn's user (as WHOAMI names it). Returns the
    Reply."""
    env = conn.env
    before = env.audit_count()
    r = conn.request(line)
    ok_reply(r, name, **want)
    is_(env.audit_count() - before, changes,
        '%s: %d audit row%s' % (name, changes, '' if changes == 1 else 's'))
    if changes == 1 and r.ok:
        last = env.last_audit() or ('', '', '')
        cmd = command_of(conn, line)
        user = conn.request('WHOAMI').fields.get('user')
        is_((last[0], last[1]), (user, cmd),
            '%s: audit row is %s by %s' % (name, cmd, user))
    return r


def refused(conn, line, code, name):
    """Send a write that must be refused: ERR code, and no audit row."""
    env = conn.env
    before = env.audit_count()
    r = conn.request(line)
    err_reply(r, code, name)
    is_(env.audit_count() - before, 0, name + ': no audit row')
    return r


def records(conn, line):
    """The records of a LIST (with a diagnostic when it is refused)."""
    r = conn.request(line)
    if not r.ok:
        diag('%s -> %s' % (line, r.final))
    return r.records


def show(conn, line):
    """The one record of a SHOW, or {} (with a diagnostic)."""
    r = conn.request(line)
    if r.ok and len(r.records) == 1 and r.fields.get('count') == '1':
        return r.records[0]
    diag('%s -> %r' % (line, r))
    return {}


def only_for(roles, nobody, line, allowed, name=None, nobody_line=None):
    """Who may send line: each connection of roles (role -> Client) whose
    role is not in allowed is refused FORBIDDEN (no audit row), and
    nobody (a connection not logged in) gets AUTH_REQUIRED for
    nobody_line (default line)."""
    if name is None:
        name = line if len(line) < 45 else command_of(nobody, line)
    for role, conn in roles.items():
        if role not in allowed:
            refused(conn, line, 'FORBIDDEN', '%s: %s -> FORBIDDEN'
                    % (name, role))
    err_reply(nobody.request(nobody_line or line), 'AUTH_REQUIRED',
              '%s: not logged in -> AUTH_REQUIRED' % name)


# --------------------------------------------------------------------------
# threads, notifications

def race(n, fn, timeout=60):
    """Run fn(i) for i in 0..n-1 in n threads that start at the same
    moment (a barrier); returns the n results. An exception in a thread
    is raised here once all have ended."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = [None] * n

    def run_one(i):
        try:
            barrier.wait(timeout)
            results[i] = fn(i)
        except BaseException as e:      # reported below
            errors[i] = e

    threads = [threading.Thread(target=run_one, args=(i,), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise TimeoutError('race: threads still running after %d s'
                           % timeout)
    for e in errors:
        if e is not None:
            raise e
    return results


def read_note(conn, timeout=10):
    """The next line of a watching connection, which must be a "! " line:
    (kind, fields dict)."""
    return read_note_line(conn.read_line(timeout))


def read_note_line(line):
    """(kind, fields dict) of a "! " line."""
    if not line.startswith('! '):
        raise ProtocolError('expected a "!" line, got %r' % line)
    pairs = parse_fields(line[2:])
    if not pairs or pairs[0][0] is not None:
        raise ProtocolError('bad notification %r' % line)
    return pairs[0][1], fields_dict(pairs[1:], line)


def drain(conn, wait=0.5):
    """Read lines until none comes for `wait` seconds; how many came."""
    n = 0
    while True:
        try:
            conn.read_line(wait)
        except (socket.timeout, TimeoutError):
            return n
        n += 1


def quiet(conn, seconds):
    """True when nothing at all arrives on conn within seconds."""
    if conn.buf:
        return False
    conn.sock.settimeout(seconds)
    try:
        data = conn.sock.recv(4096)
    except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
        return True
    conn.buf += data
    return False
