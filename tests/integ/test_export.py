"""test_export.py -- EXPORT (PROTOCOL.md sections 3 and 7): participants,
attendance, delegations, speakers, sessions and enrolments as CSV (RFC
4180, a header row) and TSV; rows=N counts the data rows; the payload
lines joined by LF are the file; participants grouped by delegation,
countries then organisations, each sorted by name in the Unicode collation
(checked on names where byte order differs); quoting of a name with a
comma and a quote; the roles allowed. Then a big export (20,000
participants inserted with psql) read slowly: rosterd's VmRSS stays within
32 MiB of where it started, other clients are served meanwhile, and a PING
sent after the EXPORT is answered after the export's OK."""

import csv
import datetime
import io
import os
import re
import sys
import time
import zoneinfo

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('ftr', 'focal', 'TR')])
pg = env.pg

# Countries (their names from the installation) and organisations, in the
# order of the Unicode collation; Python's sorted() (code points, the same
# as UTF-8 byte order) puts them otherwise.
COUNTRIES = [('AX', 'Åland Islands'), ('AT', 'Austria'),
             ('CI', 'Côte d\'Ivoire'), ('HR', 'Croatia'), ('CU', 'Cuba'),
             ('TN', 'Tunisia'), ('TR', 'Türkiye'), ('TV', 'Tuvalu')]
ORGS = [('CER', 'Černomorská rada'), ('CEV', 'Çevre Forumu'),
        ('DON', 'Donau Kommission'), ('OST', 'Österreichisches Institut'),
        ('PAC', 'Pacific Forum')]
# The TR delegation: the head first, then by name in the collation.
TR_PEOPLE = ['Zeynep Kaya', 'Ahmet Demir', 'Çağlar Öztürk', 'Deniz Ak',
             'Ömer Polat', 'Şule Yılmaz']
TRICKY = 'O"Brien, Seán'          # a quote and a comma
ID = {}


def parse_csv(lines):
    """The payload lines joined by LF, read as CSV: (header, rows)."""
    text = '\n'.join(lines) + '\n'
    rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))
    return (rows[0] if rows else None), rows[1:]


def export(conn, line):
    r = conn.request(line, timeout=60)
    if not r.ok:
        h.diag('%s -> %s' % (line, r.final))
    return r


with h.section('set-up: event E1, parties, delegations, participants'):
    A = rd.login('admin')
    h.event(A, 'E1')
    h.must(A, 'USE event=E1')
    for code, name in ORGS:
        h.must(A, 'PARTY ADD code=%s kind=organisation name=%s'
               % (code, h.quote(name)))
    # Registered in neither order, so that the order seen is the export's.
    for code, name in reversed(COUNTRIES + ORGS):
        note = ' note="Line one\\nLine two, with a comma"'
        h.must(A, 'DELEGATION REGISTER party=%s%s'
               % (code, note if code == 'AT' else ''))
    for code, name in COUNTRIES + ORGS:
        if code == 'TR':
            continue
        r = h.must(A, 'PARTICIPANT ADD party=%s name=%s role=head'
                   % (code, h.quote('Head of ' + name)))
        ID[code] = r.fields['id']
    for i, name in enumerate(reversed(TR_PEOPLE)):
        r = h.must(A, 'PARTICIPANT ADD party=TR name=%s role=%s' % (
            h.quote(name), 'head' if name == 'Zeynep Kaya' else 'member'))
        ID[name] = r.fields['id']
    h.must(A, 'DELEGATION REGISTER party=IE')
    r = h.must(A, 'PARTICIPANT ADD party=IE name=%s title="Adviser, '
               'legal"' % h.quote(TRICKY))
    ID[TRICKY] = r.fields['id']
    r = h.must(A, 'PARTICIPANT ADD party=IE name="Declined Person"')
    ID['declined'] = r.fields['id']
    h.must(A, 'PARTICIPANT DECLINE id=%s' % ID['declined'])
    h.must(A, 'PARTICIPANT CONFIRM id=%s' % ID['Zeynep Kaya'])
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title="Opening, plenary" '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:00 capacity=2')
    h.must(A, 'SESSION CREATE code=S2 kind=panel title=Panel '
           'starts=2025-11-26T11:00 ends=2025-11-26T12:00')
    for name in ('Zeynep Kaya', 'Ahmet Demir', TRICKY):
        h.must(A, 'ENROL session=S1 participant=%s' % ID[name])
    h.must(A, 'ENROL session=S2 participant=%s' % ID['Deniz Ak'])
    h.must(A, 'SPEAKER ADD session=S1 participant=%s role=chair topic=%s'
           % (ID['Zeynep Kaya'], h.quote('Opening "remarks", welcome')))
    h.must(A, 'SPEAKER ADD session=S2 participant=%s' % ID[TRICKY])

    def local(ts):
        """A UTC time as the attendance export writes it: Istanbul's."""
        t = datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%SZ').replace(
            tzinfo=datetime.timezone.utc)
        return t.astimezone(zoneinfo.ZoneInfo('Europe/Istanbul')).isoformat()

    CHECKED = h.must(A, 'CHECKIN id=%s' % ID['Ahmet Demir']).fields[
        'checked_in']
    h.must(A, 'CHECKIN id=%s session=S1' % ID['Ahmet Demir'])
    S = rd.login('sec', use='E1')
    H = rd.login('hst', use='E1')
    F = rd.login('ftr', use='E1')
    N = rd.connect()               # nobody logged in
    ROLES = {'admin': A, 'secretariat': S, 'host': H, 'focal': F}

NPART = len(COUNTRIES) + len(ORGS) - 1 + len(TR_PEOPLE) + 1  # not declined

with h.section('EXPORT what=participants as CSV'):
    r = export(S, 'EXPORT what=participants')
    h.like(r.final, r'^OK rows=\d+$', 'the final line is OK rows=N')
    header, rows = parse_csv(r.data)
    h.is_(r.final, 'OK rows=%d' % len(rows), 'rows=N counts the data rows')
    h.is_(len(rows), NPART, 'every participant not declined, once')
    h.ok(header is not None and {'party', 'delegation', 'kind', 'id',
                                 'name'} <= set(header),
         'a header row naming the columns', '    %r' % header)
    h.ok(all(len(x) == len(header or []) for x in rows),
         'every record has as many fields as the header')
    col = {k: i for i, k in enumerate(header or [])}
    parties = []
    for x in rows:
        if not parties or parties[-1] != x[col['party']]:
            parties.append(x[col['party']])
    # Ireland sorts between Croatia/Cuba and Tunisia.
    want = ['AX', 'AT', 'CI', 'HR', 'CU', 'IE', 'TN', 'TR', 'TV',
            'CER', 'CEV', 'DON', 'OST', 'PAC']
    h.is_(parties, want, 'grouped by delegation: countries, then '
          'organisations, each by name in the Unicode collation')
    names = {c: n for c, n in COUNTRIES + ORGS + [('IE', 'Ireland')]}
    h.isnt([names[c] for c in want], sorted(names[c] for c in want[:9]) +
           sorted(names[c] for c in want[9:]),
           '(that order is not the byte order: the check can tell)')
    h.is_(sorted({x[col['party']]: x[col['delegation']] for x in rows}
                 .items()), sorted((c, names[c]) for c in want),
          'the delegation column holds the party\'s name')
    h.is_({x[col['party']]: x[col['kind']] for x in rows},
          dict([(c, 'country') for c in want[:9]] +
               [(c, 'organisation') for c in want[9:]]),
          'the kind column')
    tr = [x[col['name']] for x in rows if x[col['party']] == 'TR']
    h.is_(tr, TR_PEOPLE, 'within a delegation: the head, then by name in '
          'the collation (Ahmet, Çağlar, Deniz, Ömer, Şule)')
    h.isnt(TR_PEOPLE[1:], sorted(TR_PEOPLE[1:]), '(not the byte order)')
    h.ok(str(ID['declined']) not in [x[col['id']] for x in rows],
         'the declined participant is left out')
    tricky = [x for x in rows if x[col['name']] == TRICKY]
    h.is_(len(tricky), 1, 'the name with a quote and a comma reads back')
    h.ok(any('"O""Brien, Seán"' in line for line in r.data),
         'written "O""Brien, Seán": quoted, the quote doubled')
    h.ok(any('"Adviser, legal"' in line for line in r.data),
         'a title with a comma is quoted')
    h.ok(all(not line.endswith('\r') for line in r.data),
         'payload lines carry no CR (the client adds the line ends)')

with h.section('EXPORT what=participants as TSV'):
    r = export(S, 'EXPORT what=participants format=tsv')
    lines = r.data
    h.is_(r.final, 'OK rows=%d' % (len(lines) - 1), 'rows=N: the lines '
          'but the header')
    h.is_(len(lines) - 1, NPART, 'the same participants as the CSV')
    thead = lines[0].split('\t') if lines else []
    h.is_(thead, header, 'the same header row, split by TAB')
    h.ok(all(len(x.split('\t')) == len(thead) for x in lines[1:]),
         'every line has as many fields as the header')
    tcol = {k: i for i, k in enumerate(thead)}
    h.is_([x.split('\t')[tcol['name']] for x in lines[1:]
           if x.split('\t')[tcol['party']] == 'TR'], TR_PEOPLE,
          'TSV: the same order')
    h.ok(any(x.split('\t')[tcol['name']] == TRICKY for x in lines[1:]),
         'TSV: the quote and the comma as they are')
    h.is_([x.split('\t') for x in lines[1:]], rows,
          'TSV and CSV hold the same values')

with h.section('EXPORT filters'):
    r = export(S, 'EXPORT what=participants party=TR')
    hd, rows = parse_csv(r.data)
    h.is_([x[hd.index('name')] for x in rows], TR_PEOPLE, 'party=TR')
    h.is_(r.final, 'OK rows=6', 'party=TR: rows=6')
    r = export(S, 'EXPORT what=participants status=confirmed')
    hd, rows = parse_csv(r.data)
    h.is_([x[hd.index('name')] for x in rows], ['Zeynep Kaya'],
          'status=confirmed')
    r = export(S, 'EXPORT what=participants status=declined')
    hd, rows = parse_csv(r.data)
    h.is_([x[hd.index('name')] for x in rows], ['Declined Person'],
          'status=declined')
    r = export(S, 'EXPORT what=participants session=S1')
    hd, rows = parse_csv(r.data)
    h.is_(sorted(x[hd.index('name')] for x in rows),
          sorted(['Zeynep Kaya', 'Ahmet Demir', TRICKY]),
          'session=S1: those enrolled in it')

with h.section('the other exports: CSV and TSV, rows=N'):
    for what in ('attendance', 'delegations', 'speakers', 'sessions',
                 'enrolments'):
        r = export(S, 'EXPORT what=%s' % what)
        hd, rows = parse_csv(r.data)
        h.ok(r.ok and hd is not None and len(hd) > 1,
             '%s: CSV with a header row' % what, '    %r' % (r.data[:1],))
        h.is_(r.final, 'OK rows=%d' % len(rows), '%s: rows=N is the data '
              'rows' % what)
        h.ok(all(len(x) == len(hd or []) for x in rows),
             '%s: every record has the header\'s fields' % what)
        t = export(S, 'EXPORT what=%s format=tsv' % what)
        h.is_(t.final, r.final, '%s: TSV, the same rows=N' % what)
        h.is_(t.data[0].split('\t') if t.data else None, hd,
              '%s: TSV, the same header' % what)
        if what == 'attendance':
            byname = {x[hd.index('name')]: x for x in rows}
            a = byname.get('Ahmet Demir', [])
            h.ok(a and a[hd.index('checked_in')] == local(CHECKED),
                 'attendance: checked_in of the checked-in participant',
                 '    %r' % (a,))
            sess = a[hd.index('sessions')].split(' ') if a else []
            h.ok(len(sess) == 2 and sess[0] == 'S1' and
                 re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$',
                          sess[1]),
                 'attendance: the session checked in to, and when',
                 '    %r' % (a,))
            z = byname.get('Zeynep Kaya', [])
            h.ok(z and z[hd.index('checked_in')] == '',
                 'attendance: empty checked_in for one not checked in')
            h.is_(len(rows), NPART, 'attendance: every participant')
        if what == 'delegations':
            at = [x for x in rows if x[hd.index('party')] == 'AT']
            h.ok(at and at[0][hd.index('note')] ==
                 'Line one\nLine two, with a comma',
                 'delegations: a note with a line break reads back (a '
                 'quoted field over two payload lines)', '    %r' % at)
            h.ok(any(line.startswith('AT,') and line.endswith('"Line one')
                     for line in r.data), 'delegations: the field is '
                 'split over two "= " lines')
            h.is_(len(rows), len(COUNTRIES) + len(ORGS) + 1,
                  'delegations: every delegation')
            h.is_([x[hd.index('party')] for x in rows],
                  ['AX', 'AT', 'CI', 'HR', 'CU', 'IE', 'TN', 'TR', 'TV',
                   'CER', 'CEV', 'DON', 'OST', 'PAC'],
                  'delegations: countries then organisations, by name')
            h.is_(len(t.data) - 1, len(rows), 'delegations TSV: one line '
                  'per row (the line break escaped)')
        if what == 'speakers':
            h.is_([x[hd.index('name')] for x in rows],
                  ['Zeynep Kaya', TRICKY], 'speakers: by session time')
            h.ok(any('"Opening ""remarks"", welcome"' in line
                     for line in r.data), 'speakers: a topic with quotes '
                 'and a comma is quoted')
        if what == 'sessions':
            h.is_([x[0] for x in rows], ['S1', 'S2'], 'sessions: by time')
            h.ok(any('"Opening, plenary"' in line for line in r.data),
                 'sessions: a title with a comma is quoted')
        if what == 'enrolments':
            h.is_([(x[hd.index('session')], x[hd.index('status')])
                   for x in rows],
                  [('S1', 'enrolled'), ('S1', 'enrolled'),
                   ('S1', 'waitlisted'), ('S2', 'enrolled')],
                  'enrolments: by session, the enrolled then the waiting')
    r = export(S, 'EXPORT what=enrolments session=S2')
    hd, rows = parse_csv(r.data)
    h.is_([x[hd.index('participant')] for x in rows], [ID['Deniz Ak']],
          'enrolments session=S2')
    # The statuses of an enrolment are enrolled and waitlisted (section 5);
    # status= must be able to pick them.
    r = export(S, 'EXPORT what=enrolments status=waitlisted')
    hd, rows = parse_csv(r.data)
    h.ok(r.ok and [x[hd.index('participant')] for x in rows] ==
         [ID[TRICKY]], 'enrolments status=waitlisted: the waiting list',
         '    got: %r' % r.final)
    h.is_([x.get('party') for x in S.request('DELEGATION LIST').records],
          ['AX', 'AT', 'CI', 'HR', 'CU', 'IE', 'TN', 'TR', 'TV',
           'CER', 'CEV', 'DON', 'OST', 'PAC'],
          'DELEGATION LIST: the same order as the export')

with h.section('EXPORT: roles and errors'):
    r = export(H, 'EXPORT what=attendance')
    h.ok(r.ok and r.final.startswith('OK rows=') and
         len(r.data) == NPART + 1, 'host exports attendance',
         '    %r' % r.final)
    for what in ('participants', 'delegations', 'speakers', 'sessions',
                 'enrolments', 'attendance'):
        line = 'EXPORT what=%s' % what
        allowed = ('admin', 'secretariat') + (
            ('host',) if what == 'attendance' else ())
        h.only_for(ROLES, N, line, allowed, nobody_line=line + ' event=E1')
    h.ok(export(A, 'EXPORT what=participants format=csv').ok,
         'admin exports, format=csv')
    for line, code in (('EXPORT', 'SYNTAX'),
                       ('EXPORT what=people', 'INVALID'),
                       ('EXPORT what=participants format=xls', 'INVALID'),
                       ('EXPORT what=participants status=maybe', 'INVALID'),
                       ('EXPORT what=participants event=NOPE', 'NOT_FOUND'),
                       ('EXPORT what=participants party=ZZ', 'NOT_FOUND'),
                       ('EXPORT what=speakers session=ZZZ', 'NOT_FOUND'),
                       ('EXPORT what=delegations session=S1', 'INVALID'),
                       ('EXPORT what=sessions party=TR', 'INVALID'),
                       ('EXPORT what=participants limit=3', 'SYNTAX')):
        r = S.request(line)
        h.err_reply(r, code, '%s -> %s' % (line, code))
        h.is_(r.data, [], '%s: no payload before the error' % line)
    for line, code in (('EXPORT what=participants event=NOPE', 'NOT_FOUND'),
                       ('EXPORT what=participants party=ZZ', 'NOT_FOUND'),
                       ('EXPORT what=enrolments session=ZZZ', 'NOT_FOUND'),
                       ('EXPORT what=everything', 'INVALID'),
                       ('EXPORT what=participants format=xlsx', 'INVALID'),
                       ('EXPORT', 'SYNTAX')):
        h.err_reply(A.request(line), code, '%s -> %s' % (line, code))
    r = S.request('PING')
    h.is_(r.final, 'OK pong', 'the connection is still in order')

with h.section('pipelining around EXPORT'):
    replies = S.pipeline(['PING', 'EXPORT what=participants', 'PING',
                          'EXPORT what=sessions format=tsv', 'WHOAMI'])
    h.is_([x.final.split(' ')[0:2] for x in replies],
          [['OK', 'pong'], ['OK', 'rows=%d' % NPART], ['OK', 'pong'],
           ['OK', 'rows=2'], ['OK', 'user=sec']],
          'five pipelined requests: five replies, in order')
    h.is_((len(replies[1].data), replies[2].data, replies[4].data),
          (NPART + 1, [], []), 'the payload belongs to the EXPORT')

# --------------------------------------------------------------------------
BIG = 20000
FOURBYTE = '\U0001D504'        # MATHEMATICAL FRAKTUR CAPITAL A: 4 bytes

with h.section('a big export read slowly'):
    parties = ['DE', 'FR', 'IT', 'ES', 'PT', 'NL', 'BE', 'LU', 'PL', 'CZ',
               'SK', 'SI', 'HU', 'RO', 'BG', 'GR', 'CY', 'MT', 'SE', 'FI']
    h.event(A, 'BIG', country='DE', city='Berlin', timezone='Europe/Berlin')
    t0 = time.monotonic()
    pg.query("INSERT INTO roster.delegation (event_id, party_id) "
             "SELECT e.id, p.id FROM roster.event e, roster.party p "
             "WHERE e.code = 'BIG' AND p.code IN (%s)"
             % ', '.join("'%s'" % p for p in parties))
    pg.query("""
        INSERT INTO roster.participant (delegation_id, name, honorific,
            title, email, role, badge)
        SELECT d.id,
            'P' || lpad(g::text, 5, '0') || ' ' || repeat('{c}', 190),
            repeat('{c}', 200), repeat('{c}', 200),
            'p' || g || '.' || repeat('x', 200) || '@example.org',
            'member',
            'ZZ' || translate(lpad(to_hex(g), 8, '0'), '0123456789abcdef',
                              'ABCDEFGHIJKLMNOP')
        FROM generate_series(1, {n}) g
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn
              FROM roster.delegation d
              WHERE d.event_id = (SELECT id FROM roster.event
                                  WHERE code = 'BIG')) d
          ON d.rn = g % {k} + 1
    """.format(c=FOURBYTE, n=BIG, k=len(parties)))
    h.diag('inserted %d participants in %.1f s'
           % (BIG, time.monotonic() - t0))
    h.is_(pg.scalar("SELECT count(*) FROM roster.participant p JOIN "
                    "roster.delegation d ON d.id = p.delegation_id JOIN "
                    "roster.event e ON e.id = d.event_id "
                    "WHERE e.code = 'BIG'"), str(BIG),
          '%d participants in event BIG' % BIG)

    # Warm up (the same export, small) and take the baseline. The other
    # clients below log in with certificates: a LOGIN's memory-hard hash
    # would make VmRSS jump for reasons of its own.
    rd.cert_login('hst').close()
    rd.cert_login('admin').close()
    export(A, 'EXPORT what=participants event=BIG party=DE')
    base = rd.rss_kb()
    h.diag('rosterd VmRSS before: %d kB%s' % (base, ' (AddressSanitizer '
                                              'build)' if rd.asan else ''))
    slow = rd.connect(rcvbuf=16384, timeout=60)
    h.must(slow, 'LOGIN user=sec password=%s' % h.quote(h.PASSWORD))
    slow.send('EXPORT what=participants event=BIG')
    slow.send('PING')
    peak = base
    payload = 0
    nlines = 0
    first = slow.read_line_bytes(60)
    h.ok(first.startswith(b'= ') and b'party' in first,
         'the export starts with its header line')
    nlines += 1
    payload += len(first) - 2 + 1
    # Read nothing for a while: the daemon must wait, not buffer.
    others = []
    for i in range(8):
        time.sleep(0.4)
        peak = max(peak, rd.rss_kb() or 0)
        t = time.monotonic()
        with rd.cert_login('hst') as c:
            ping = c.request('PING')
            lst = c.request('PARTICIPANT LIST event=E1 party=TR')
            others.append((ping.final, lst.ok and len(lst.records) == 6,
                           time.monotonic() - t))
    h.is_([(p, ok) for p, ok, _ in others], [('OK pong', True)] * 8,
          'other clients are served while the export waits for its reader')
    h.cmp_ok(max(t for _, _, t in others), '<', 3.0,
             'and promptly (slowest %.2f s, with a TLS handshake)'
             % max(t for _, _, t in others))
    with rd.cert_login('admin', timeout=60) as c:
        r = c.request('EXPORT what=participants event=E1', timeout=60)
        h.is_(r.final, 'OK rows=%d' % NPART,
              'another EXPORT runs to the end meanwhile')
    peak = max(peak, rd.rss_kb() or 0)
    # Now read the rest at full speed.
    final = None
    t0 = time.monotonic()
    while True:
        line = slow.read_line_bytes(60)
        if line.startswith(b'= '):
            nlines += 1
            payload += len(line) - 2 + 1
            if nlines % 2000 == 0:
                peak = max(peak, rd.rss_kb() or 0)
            continue
        final = line.decode('utf-8')
        break
    h.diag('read %d lines, %.1f MiB of payload in %.1f s'
           % (nlines, payload / 1048576.0, time.monotonic() - t0))
    h.is_(final, 'OK rows=%d' % BIG, 'the big export ends OK rows=%d' % BIG)
    h.is_(nlines, BIG + 1, 'header + %d data lines' % BIG)
    h.is_(slow.read_line(30), 'OK pong', 'the PING sent after the EXPORT '
          'is answered after its OK')
    h.cmp_ok(payload, '>', 40 * 1048576,
             'the payload (%.0f MiB) is larger than the limit below'
             % (payload / 1048576.0))
    grow = (peak - base) / 1024.0
    h.diag('rosterd VmRSS peak: %d kB (+%.1f MiB)' % (peak, grow))
    if rd.asan:
        h.skip('VmRSS grows by less than 32 MiB', 'AddressSanitizer build')
    else:
        h.cmp_ok(grow, '<', 32, 'rosterd VmRSS grew by less than 32 MiB')
    slow.close()

with h.section('exports whose client leaves'):
    # Each starts the big export, reads its first line and disconnects: the
    # daemon must finish (or drop) the COPY and free its place, so that
    # exports keep working after more of these than it runs at once.
    for i in range(5):
        with rd.connect(timeout=30) as c:
            h.must(c, 'LOGIN user=sec password=%s' % h.quote(h.PASSWORD))
            c.send('EXPORT what=participants event=BIG')
            c.read_line_bytes(30)
    deadline = time.monotonic() + 30
    while True:
        r = S.request('EXPORT what=sessions', timeout=30)
        if r.ok or r.code != 'BUSY' or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    h.is_(r.final, 'OK rows=2', 'after 5 abandoned exports an export runs')
    for what in ('participants', 'delegations', 'enrolments'):
        r = S.request('EXPORT what=%s' % what, timeout=30)
        h.ok(r.ok, 'and so do the next ones (%s)' % what, '    %r' % r.final)
    h.is_(S.request('PING').final, 'OK pong', 'the daemon still answers')

h.done_testing()
