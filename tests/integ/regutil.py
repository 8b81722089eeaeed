"""regutil.py -- what the registration tests (test_registration,
test_focal, test_concurrency, test_export, test_watch) share, on top of
harness.py: set-up steps that must succeed, a write checked against the
audit table, one long-lived psql for quick look-ups and bulk inserts, a
client that keeps every byte the server sent, threads that start
together, client-certificate connections and a second rosterd on the same
database.

    import harness as h
    import regutil as u
    env, rd = h.setup(users=[('sec', 'secretariat', None)])
    pg = u.Pg(env)
    A = rd.login('admin')
    u.event(A, 'E1')
    u.write(pg, A, 'DELEGATION REGISTER event=E1 party=TR', 'register TR',
            party='TR')
"""

import os
import re
import socket
import ssl
import subprocess
import threading
import time

import harness as h

BADGE_RE = re.compile(r'^[A-Z2-7]{10}$')
TIMESTAMP_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

# Commands of two words (PROTOCOL.md sections 4-8); the rest are one word.
_TWO_WORDS = ('USER', 'EVENT', 'PARTY', 'DELEGATION', 'PARTICIPANT',
              'SESSION', 'SPEAKER')


class SetupError(Exception):
    """A set-up step the test depends on did not succeed."""


def command_of(line):
    """The command words of a request line, upper case: "PARTICIPANT ADD"."""
    words = line.split()
    if words and words[0].upper() in _TWO_WORDS and len(words) > 1:
        return '%s %s' % (words[0].upper(), words[1].upper())
    return words[0].upper() if words else ''


def must(conn, line, **want):
    """Send a set-up request that has to succeed (with the want fields);
    raises SetupError otherwise. Returns the Reply."""
    r = conn.request(line)
    if not r.ok or any(r.fields.get(k) != v for k, v in want.items()):
        raise SetupError('%s -> %s' % (line, r.final))
    return r


def q(value):
    """A value quoted for a request line when it needs to be."""
    return h.quote(value)


def event(conn, code, country='TR', city='Ankara', status='open',
          timezone='Europe/Istanbul', starts='2025-11-26',
          ends='2025-11-28', title=None):
    """EVENT CREATE (and EVENT SET status= unless draft) as conn."""
    must(conn, 'EVENT CREATE code=%s title=%s city=%s country=%s starts=%s '
         'ends=%s timezone=%s' % (code, q(title or 'Meeting ' + code),
                                  q(city), country, starts, ends, timezone))
    if status != 'draft':
        must(conn, 'EVENT SET event=%s status=%s' % (code, status))


# --------------------------------------------------------------------------
# PostgreSQL


class Pg:
    """One psql kept open (unaligned, tuples only, fields separated by
    \\x1f): a query costs about a millisecond instead of a process."""

    def __init__(self, env):
        pg = env.pg
        argv = [os.path.join(pg.bindir, 'psql'), '-X', '-q', '-A', '-t',
                '-F', '\x1f', '-h', '127.0.0.1', '-p', str(pg.port),
                '-U', 'postgres', '-d', 'roster']
        self.p = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding='utf-8',
            bufsize=1, env=dict(os.environ, PGCONNECT_TIMEOUT='5'))
        self.n = 0
        h.on_cleanup(self.close)

    def query(self, sql):
        """The rows of sql (one statement) as lists of strings."""
        self.n += 1
        marker = '__regutil_end_%d__' % self.n
        self.p.stdin.write(sql.strip().rstrip(';') + ';\n\\echo ' + marker
                           + '\n')
        self.p.stdin.flush()
        rows, errors = [], []
        for line in self.p.stdout:
            line = line.rstrip('\n')
            if line == marker:
                break
            if line.startswith(('ERROR:', 'FATAL:', 'psql:')) or errors:
                errors.append(line)
            else:
                rows.append(line.split('\x1f'))
        else:
            raise RuntimeError('psql ended: %s' % sql)
        if errors:
            raise RuntimeError('psql: %s\n%s' % (sql, '\n'.join(errors)))
        return rows

    def scalar(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def audit_count(self):
        return int(self.scalar('SELECT count(*) FROM roster.audit'))

    def last_audit(self):
        """(username, command, target) of the newest audit row."""
        rows = self.query('SELECT username, command, coalesce(target, \'\') '
                          'FROM roster.audit ORDER BY id DESC LIMIT 1')
        return tuple(rows[0]) if rows else None

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(5)
            except Exception:
                self.p.kill()
                self.p.wait()


def write(pg, conn, line, name, /, err=None, changes=1, user=None,
          command=None, **want):
    """Send a write and check it: OK with the want fields and `changes`
    new audit rows (the newest by `user` for `command` when given), or
    ERR err and no audit row at all. Returns the Reply."""
    before = pg.audit_count()
    r = conn.request(line)
    if err:
        h.err_reply(r, err, name)
        h.is_(pg.audit_count() - before, 0, name + ': no audit row')
        return r
    h.ok_reply(r, name, **want)
    h.is_(pg.audit_count() - before, changes,
          '%s: %d audit row%s' % (name, changes, '' if changes == 1 else 's'))
    if changes == 1 and r.ok:
        last = pg.last_audit() or ('', '', '')
        want_cmd = command or command_of(line)
        if user:
            h.is_((last[0], last[1]), (user, want_cmd),
                  '%s: audit row is %s by %s' % (name, want_cmd, user))
        else:
            h.is_(last[1], want_cmd, '%s: audit row is %s'
                  % (name, want_cmd))
    return r


# --------------------------------------------------------------------------
# connections


class RecordingClient(h.Client):
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


def connect(rd, cls=h.Client, **kw):
    kw.setdefault('ca', rd.env.certs.ca)
    return cls(rd.port, host=rd.host, **kw)


def login(rd, user, cls=h.Client, use=None, **kw):
    """A connection of class cls logged in as user (USE event=use when
    given); raises SetupError when that fails."""
    c = connect(rd, cls, **kw)
    must(c, 'LOGIN user=%s password=%s' % (q(user), q(h.PASSWORD)))
    if use:
        must(c, 'USE event=%s' % use)
    return c


_certs = {}


def cert_client(rd, user, use=None, timeout=30.0):
    """A connection logged in by a client certificate with CN=user (no
    password hashing: quick to open many)."""
    if user not in _certs:
        _certs[user] = rd.env.certs.client(user)
    crt, key = _certs[user]
    c = connect(rd, cert=crt, key=key, timeout=timeout)
    if not c.greeting.ok or c.greeting.fields.get('user') != user:
        raise SetupError('certificate login of %s: %s'
                         % (user, c.greeting.final))
    if use:
        must(c, 'USE event=%s' % use)
    return c


def second_rosterd(env, **config):
    """Another rosterd on the same database (already migrated): its own
    port, configuration and log."""
    return env.rosterd(migrate=False, **config)


# --------------------------------------------------------------------------
# threads


def race(n, fn, timeout=60):
    """Run fn(i) for i in 0..n-1 in n threads that start at the same
    moment (a barrier); returns the n results. An exception in a thread
    is raised here once all have ended."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = [None] * n

    def run(i):
        try:
            barrier.wait(timeout)
            results[i] = fn(i)
        except BaseException as e:      # reported below
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True)
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
        raise h.ProtocolError('expected a "!" line, got %r' % line)
    pairs = h.parse_fields(line[2:])
    if not pairs or pairs[0][0] is not None:
        raise h.ProtocolError('bad notification %r' % line)
    return pairs[0][1], h.fields_dict(pairs[1:], line)


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
