"""test_desk.py -- roster checkin-desk, the laptop at the door (client/desk.c),
driven through a pipe as a QR scanner would type: scans with rosterd up
(✓ name — delegation, ALREADY at the time in the event's zone, an unknown
badge, a line that is no badge, a declined participant); then rosterd
stopped: scans queued in the journal (fsync'd before the answer, the count
shown), rosterd started again and the journal replayed by the same desk
process on its own retry, each badge checked in once at the time of its scan,
not of the replay; `--replay` of the same journal again (all replays, nothing
changes) and of a second desk's journal holding an earlier offline scan of
an overlapping badge (still one check-in, now at the earliest time); a torn
last line of a journal cut off when the desk opens it; exit 3 when scans
still wait at the end."""

import datetime
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import zoneinfo

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('hst', 'host', None)])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
pg = env.pg
TZ = zoneinfo.ZoneInfo('Europe/Istanbul')
P = {}          # name -> participant id
BADGE = {}      # name -> badge
NAMES = ('Deniz Ak', 'Ömer Polat', 'Şule Kaya', 'Can Demir', 'Elif Şahin',
         'Mert Aydın')
UNKNOWN1, UNKNOWN2 = 'AAAAAAAAAA', 'BBBBBBBBBB'

with rd.login('admin') as a:
    today = datetime.datetime.now(TZ).date()
    h.event(a, 'DESK', timezone='Europe/Istanbul',
            starts=(today - datetime.timedelta(days=1)).isoformat(),
            ends=(today + datetime.timedelta(days=1)).isoformat())
    h.must(a, 'USE event=DESK')
    h.must(a, 'DELEGATION REGISTER party=RU')
    h.must(a, 'DELEGATION REGISTER party=TR')
    r = h.must(a, 'PARTICIPANT ADD party=RU name="Ivan PETROV"')
    P['Ivan PETROV'], BADGE['Ivan PETROV'] = r.fields['id'], r.fields['badge']
    for name in NAMES + ('Nur Declined',):
        r = h.must(a, 'PARTICIPANT ADD party=TR name=%s' % h.quote(name))
        P[name], BADGE[name] = r.fields['id'], r.fields['badge']
    h.must(a, 'PARTICIPANT DECLINE id=%s' % P['Nur Declined'])
    for name in ('Анна Смирнова', 'Kaan Unconfirmed'):
        r = h.must(a, 'PARTICIPANT ADD party=%s name=%s'
                   % ('RU' if name[0] == 'А' else 'TR', h.quote(name)))
        P[name], BADGE[name] = r.fields['id'], r.fields['badge']
    # everyone has confirmed but Kaan (and Nur, who declined)
    for name in P:
        if name not in ('Nur Declined', 'Kaan Unconfirmed'):
            h.must(a, 'PARTICIPANT CONFIRM id=%s' % P[name])
    h.must(a, 'SESSION CREATE code=S1 kind=plenary title=Opening '
           'starts=%sT09:00 ends=%sT10:00' % (today, today))
    for code in (UNKNOWN1, UNKNOWN2):
        if code in BADGE.values():
            h.bail('a random badge is %s' % code)


def checkins(name):
    """[(UTC timestamp)] of the participant's event check-ins."""
    rows = pg.query(
        "SELECT to_char(at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM roster.checkin "
        "WHERE participant_id = %d AND session_id IS NULL" % int(P[name]))
    return [r[0] for r in rows]


def total_checkins():
    return int(pg.scalar('SELECT count(*) FROM roster.checkin'))


def cli_env(password=h.PASSWORD):
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')}
    e.update(HOME=env.home, ROSTER_PASSWORD=password,
             XDG_CONFIG_HOME=os.path.join(env.home, '.config'),
             XDG_STATE_HOME=os.path.join(env.home, '.state'))
    return e


def argv(port, *args):
    return [h.ROSTER, '--host', '127.0.0.1', '--port', str(port), '--ca',
            env.certs.ca, '--user', 'hst'] + list(args)


class Desk:
    """A roster checkin-desk process: scans written to its stdin, its
    answer lines read from its stdout (by a thread, into a queue)."""

    def __init__(self, name, journal, port=None, args=()):
        self.name = name
        self.errfile = os.path.join(env.tmp, name + '.stderr')
        self.err = open(self.errfile, 'w')
        self.p = subprocess.Popen(
            argv(port or rd.port, '-e', 'DESK', 'checkin-desk', '--journal',
                 journal, *args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
            text=True, encoding='utf-8', bufsize=1, env=cli_env(),
            start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        h.on_cleanup(self.kill)

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip('\n'))
        self.lines.put(None)

    def line(self, timeout=10):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            line = '(nothing within %s s)' % timeout
        h.diag('%s: %r' % (self.name, line))
        return line

    def scan(self, code, timeout=10):
        self.p.stdin.write(code + '\n')
        self.p.stdin.flush()
        return self.line(timeout)

    def stderr(self):
        with open(self.errfile, encoding='utf-8') as f:
            return f.read()

    def wait_ready(self, timeout=20):
        return h.wait_for(lambda: 'roster: ready' in self.stderr(), timeout)

    def end(self, timeout=30):
        """Close stdin (EOF) and wait: the exit status."""
        self.p.stdin.close()
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def journal(path):
    """(scans {badge: [at, ...]}, refs of scans, refs done, text)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    scans, refs, done = {}, [], set()
    for line in text.splitlines():
        fields = dict(w.split('=', 1) for w in line.split()[1:])
        if line.startswith('SCAN '):
            scans.setdefault(fields['badge'], []).append(fields['at'])
            refs.append(fields['ref'])
        elif line.startswith('DONE '):
            done.add(fields['ref'])
    return scans, refs, done, text


def local_hhmm(ts):
    t = datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=datetime.timezone.utc)
    return t.astimezone(TZ).strftime('%H:%M')


J1 = os.path.join(env.tmp, 'desk1.journal')
J2 = os.path.join(env.tmp, 'desk2.journal')
J3 = os.path.join(env.tmp, 'desk3.journal')
IVAN, DENIZ, OMER, SULE, CAN = ('Ivan PETROV',) + NAMES[:4]

with h.section('the Latin form of a name; someone who never confirmed'):
    d0 = Desk('desk0', os.path.join(env.tmp, 'desk0.journal'))
    h.is_(d0.scan(BADGE['Анна Смирнова']),
          '✓ Анна Смирнова (Anna Smirnova) — Russian Federation',
          'a name in another script: its Latin form beside it')
    h.is_(d0.scan(BADGE['Kaan Unconfirmed']),
          '✓ Kaan Unconfirmed — Türkiye — NOT CONFIRMED (registered only)',
          'someone who never confirmed: checked in, and said so plainly')
    h.is_(d0.scan(BADGE['Kaan Unconfirmed']).split(' — ')[-1],
          'NOT CONFIRMED (registered only)', 'and again on ALREADY')
    h.is_(d0.end(), 0, 'the desk ends: exit 0')

with h.section('online: answers at once, the database has the check-in'):
    d1 = Desk('desk1', J1)
    line = d1.scan(BADGE[IVAN])
    h.is_(line, '✓ Ivan PETROV — Russian Federation',
          'a badge: ✓ name — delegation (the party\'s name)')
    h.is_(len(checkins(IVAN)), 1, 'Ivan is checked in')
    b = BADGE[DENIZ].lower()
    line = d1.scan('  %s-%s %s\r' % (b[:4], b[4:7], b[7:]))
    h.is_(line, '✓ Deniz Ak — Türkiye', 'typed in lower case, with a dash, '
          'a space, blanks and a CR: the same badge')
    h.is_(len(checkins(DENIZ)), 1, 'Deniz is checked in')
    line = d1.scan(BADGE[IVAN])
    h.is_(line, 'ALREADY checked in at %s — Ivan PETROV'
          % local_hhmm(checkins(IVAN)[0]),
          'a second scan: ALREADY at the first time, in Istanbul time')
    h.is_(len(checkins(IVAN)), 1, 'still one check-in')
    h.is_(d1.scan(UNKNOWN1), '✗ unknown badge %s' % UNKNOWN1,
          'an unknown badge is reported (no bell: stdout is no terminal)')
    h.is_(d1.scan('no badge 1'), '✗ not a badge code: "no badge 1"',
          'a line that is no badge code is refused at once')
    h.is_(d1.scan('é' * 30), '✗ not a badge code: "%s…"' % ('é' * 20),
          'what was typed is shown cut to 40 bytes, whole characters')
    h.is_(d1.scan('X' * 300), '✗ not a badge code: a line too long',
          'a line past 256 bytes: refused')
    line = d1.scan(BADGE['Nur Declined'])
    h.like(line, r'^✗ declined badge %s ' % BADGE['Nur Declined'],
           'a declined participant: ✗ declined')
    d1.p.stdin.write('\n   \n')
    d1.p.stdin.flush()
    scans, refs, done, _ = journal(J1)
    h.is_(sorted(scans), sorted([BADGE[IVAN], BADGE[DENIZ], UNKNOWN1,
                                 BADGE['Nur Declined']]),
          'the journal holds the badge scans (not the line that was none, '
          'not the empty lines)')
    h.is_((len(refs), len(set(refs)), set(refs) == done), (5, 5, True),
          'five scans, five refs of their own, each done')
    h.ok(all(re.fullmatch(r'desk-[0-9a-f]{32}', x) for x in refs),
         'refs are desk- and 32 hex digits')

with h.section('offline: scans queued in the journal, the count shown'):
    # A second desk that never reaches the server scans Şule first; a third
    # is left with a scan pending at its end.
    dead = h.free_port()
    d2 = Desk('desk2', J2, port=dead)
    h.is_(d2.scan(BADGE[SULE]), '… queued %s (1 waiting)' % BADGE[SULE],
          'desk 2, server unreachable: queued')
    d3 = Desk('desk3', J3, port=dead)
    h.is_(d3.scan(BADGE[CAN]), '… queued %s (1 waiting)' % BADGE[CAN],
          'desk 3: queued')
    d3_end = time.monotonic()
    d3.p.stdin.close()
    time.sleep(1.2)
    before = total_checkins()
    h.ok(rd.stop() == 0, 'rosterd stopped (PostgreSQL goes on)')
    offline_scans = [BADGE[SULE], BADGE[OMER], UNKNOWN2, BADGE[CAN]]
    for n, code in enumerate(offline_scans, 1):
        line = d1.scan(code)
        h.is_(line, '… queued %s (%d waiting)' % (code, n),
              'desk 1, rosterd down: scan %d queued, the count shown' % n)
        scans, refs, done, _ = journal(J1)
        h.is_((code in scans, len(refs) - len(done)), (True, n),
              'the scan is in the journal before its answer, pending')
    h.like(d1.stderr(), r'cannot reach the server .*%s' % re.escape(J1),
           'the desk says it cannot reach the server, and where scans go')
    h.is_(total_checkins(), before, 'nothing reached the database')
    time.sleep(2.5)     # the gap between the scans and their replay

with h.section('rosterd back: the same desk replays its journal'):
    rd.start()
    started = datetime.datetime.now(datetime.timezone.utc)
    got = [d1.line(timeout=15) for _ in range(len(offline_scans) + 1)]
    want = [r'^\[queued \d\d:\d\d\] ✓ Şule Kaya — Türkiye$',
            r'^\[queued \d\d:\d\d\] ✓ Ömer Polat — Türkiye$',
            r'^\[queued \d\d:\d\d\] ✗ unknown badge %s$' % UNKNOWN2,
            r'^\[queued \d\d:\d\d\] ✓ Can Demir — Türkiye$',
            r'^replayed 4 queued scans$']
    h.ok(all(re.match(w, g) for w, g in zip(want, got)),
         'each queued scan answered in journal order, the unknown badge '
         'reported, then "replayed 4 queued scans"',
         *('    got %r' % g for g in got))
    scans, refs, done, _ = journal(J1)
    h.is_(set(refs) - done, set(), 'every scan of the journal is done')
    for name in (SULE, OMER, CAN):
        got = checkins(name)
        h.is_(got, scans[BADGE[name]], '%s: one check-in, at the time of '
              'the scan in the journal' % name)
    at = datetime.datetime.strptime(
        scans[BADGE[CAN]][0], '%Y-%m-%dT%H:%M:%SZ').replace(
            tzinfo=datetime.timezone.utc)
    h.cmp_ok((started - at).total_seconds(), '>=', 2,
             'that time is the scan\'s, seconds before the replay')
    line = d1.scan(BADGE[OMER])
    h.like(line, r'^ALREADY checked in at %s — Ömer Polat$'
           % local_hhmm(scans[BADGE[OMER]][0]), 'online again: ALREADY')
    h.is_(len(checkins(OMER)), 1, 'Ömer: still one check-in')

with h.section('desk 3 ended with a scan it could not send: exit 3'):
    rc = d3.p.wait(30)
    h.is_(rc, 3, 'exit status 3: scans still wait')
    h.like(d3.stderr(), r'1 scan still wait in %s' % re.escape(J3),
           'it says how many wait and where')
    h.cmp_ok(time.monotonic() - d3_end, '>=', 9,
             'it tried for about 10 s first')

with h.section('--replay: the same journal again, and a second desk\'s'):
    before = total_checkins()
    audit = env.audit_count()
    p = subprocess.run(argv(rd.port, 'checkin-desk', '--replay', J1),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=cli_env(), timeout=60)
    h.diag(p.stdout, p.stderr)
    h.like(p.stdout, r'replayed .*: 10 scans: 0 checked in, 0 already '
           r'checked in, 7 replayed \(sent before\), 3 refused',
           'every scan of it sent again: replays, and the refused again')
    h.is_(p.returncode, 1, 'exit 1: scans were refused')
    h.is_((total_checkins(), env.audit_count()), (before, audit),
          'nothing changed: no check-in, no audit row')
    h.like(p.stdout, r'✗ unknown badge %s' % UNKNOWN2,
           'the refused scans are shown')
    d2.kill()           # the laptop carried to the server
    s2 = journal(J2)[0][BADGE[SULE]][0]
    s1 = checkins(SULE)[0]
    h.cmp_ok(s2, '<', s1, 'desk 2 scanned Şule before desk 1 did')
    p = subprocess.run(argv(rd.port, 'checkin-desk', '--replay', J2),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=cli_env(), timeout=60)
    h.diag(p.stdout, p.stderr)
    h.like(p.stdout, r': 1 scans: 0 checked in, 1 already checked in, '
           r'0 replayed', 'desk 2\'s scan: already checked in')
    h.is_(p.returncode, 0, 'exit 0')
    h.is_(checkins(SULE), [s2], 'Şule: one check-in, now at the earliest '
          'scan, desk 2\'s')
    p = subprocess.run(argv(rd.port, 'checkin-desk', '--replay', J2),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=cli_env(), timeout=60)
    h.like(p.stdout, r': 1 scans: 0 checked in, 0 already checked in, '
           r'1 replayed', 'desk 2\'s journal again: a replay')
    h.is_(checkins(SULE), [s2], 'Şule: still one check-in, at that time')
    for name in (IVAN, DENIZ, OMER, CAN):
        h.is_(len(checkins(name)), 1, '%s: one check-in' % name)
    h.is_(len(checkins(NAMES[4])), 0, 'nobody scanned is not checked in')
    p = subprocess.run(argv(h.free_port(), 'checkin-desk', '--replay', J2),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=cli_env(), timeout=60)
    h.is_(p.returncode, 2, '--replay with the server unreachable: exit 2')

with h.section('the end of desk 1, and a torn journal'):
    h.is_(d1.end(), 0, 'EOF with nothing pending: exit 0')
    with open(J1, 'a') as f:
        f.write('SCAN ref=desk-torn at=2026-01-01T00:00:00Z event=DESK '
                'badge=%s' % BADGE[NAMES[4]])
    audit = env.audit_count()
    d4 = Desk('desk4', J1)
    h.is_(d4.end(), 0, 'a desk started on it sends nothing, exit 0')
    text = journal(J1)[3]
    h.ok(text.endswith('\n') and 'desk-torn' not in text,
         'the torn last line was cut off')
    h.like(d4.stderr(), r'cut short', 'and it says so')
    h.is_((env.audit_count(), len(checkins(NAMES[4]))), (audit, 0),
          'nothing sent: every scan was done')
    mode = os.stat(J1).st_mode & 0o777
    h.is_(oct(mode), oct(0o600), 'the journal is 0600')
    d5 = Desk('desk5', J1)
    h.ok(d5.wait_ready(), 'a desk on it is ready')
    d6 = Desk('desk6', J1)
    h.is_(d6.p.wait(10), 2, 'a second desk on a journal in use: exit 2')
    h.like(d6.stderr(), r'in use by another desk', 'it says why')
    d5.p.send_signal(signal.SIGINT)
    h.is_(d5.p.wait(10), 0, 'the first one goes on; Ctrl-C with nothing '
          'pending: exit 0')

with h.section('default journal path'):
    d7 = subprocess.run(argv(rd.port, '-e', 'DESK', 'checkin-desk'),
                        input=BADGE[NAMES[5]] + '\n', capture_output=True,
                        text=True, env=cli_env(), timeout=60)
    path = os.path.join(env.home, '.state', 'roster', 'desk-desk.journal')
    h.is_((d7.returncode, d7.stdout), (0, '✓ Mert Aydın — Türkiye\n'),
          'without --journal: checked in, exit 0')
    h.ok(os.path.exists(path) and BADGE[NAMES[5]] in journal(path)[0],
         'the scan is in $XDG_STATE_HOME/roster/desk-desk.journal')
    h.is_(oct(os.stat(os.path.dirname(path)).st_mode & 0o777), oct(0o700),
          'its directory is 0700')

with h.section('session=CODE, and a refused login'):
    js = os.path.join(env.tmp, 'desk-s1.journal')
    p = subprocess.run(argv(rd.port, '-e', 'DESK', 'checkin-desk',
                            'session=S1', '--journal', js),
                       input='%s\n%s\n' % (BADGE[IVAN], BADGE[IVAN]),
                       capture_output=True, text=True, env=cli_env(),
                       timeout=60)
    lines = p.stdout.splitlines()
    h.ok(p.returncode == 0 and len(lines) == 2 and
         lines[0] == '✓ Ivan PETROV — Russian Federation' and
         lines[1].startswith('ALREADY checked in at '),
         'a check-in of the session, then ALREADY', '    %r' % p.stdout)
    n = pg.scalar('SELECT count(*) FROM roster.checkin k JOIN '
                  'roster.session s ON s.id = k.session_id '
                  "WHERE s.code = 'S1' AND k.participant_id = %d"
                  % int(P[IVAN]))
    h.is_(int(n), 1, 'one check-in of Ivan for S1')
    h.like(journal(js)[3], r'SCAN ref=\S+ at=\S+ event=DESK badge=%s '
           r'session=S1\n' % BADGE[IVAN], 'the journal keeps the session')
    p = subprocess.run(argv(rd.port, '-e', 'DESK', 'checkin-desk',
                            '--journal', js),
                       input=BADGE[IVAN] + '\n', capture_output=True,
                       text=True, env=cli_env('not the password!'),
                       timeout=60)
    h.ok(p.returncode == 2 and 'login' in p.stderr and p.stdout == '',
         'a refused first login: exit 2, nothing scanned',
         '    %r %r' % (p.stdout, p.stderr))

h.done_testing()
