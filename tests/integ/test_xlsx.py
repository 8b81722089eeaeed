"""test_xlsx.py -- roster export WHAT -o FILE in the format FILE's
extension names, or format= (README, "roster export"): participants,
attendance and delegations to CSV and to XLSX, the workbook read back with
openpyxl (Debian's, under /usr/bin/python3) and compared cell by cell
with the CSV: the same rows in the same order; codes (party 00123 and 1E5,
a badge of digits) are text cells; ids and counts numbers; check-in times
real dates; the ' the CSV puts before a formula-like name is taken off;
names in Cyrillic, Greek, Arabic and Chinese exactly; a note with a line
break; the sheet named after the list, the header bold and frozen, widths
that fit. Then: .tsv gives TSV, format= overrides the extension, .pdf is
for participants only, XLSX to a pipe or a device, a refused export
leaves no file."""

import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys

READER = r'''
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = []
for row in ws.iter_rows():
    rows.append([[c.data_type, c.value.isoformat()
                  if hasattr(c.value, 'isoformat') else c.value,
                  bool(c.font and c.font.b)] for c in row])
widths = {k: v.width for k, v in ws.column_dimensions.items()}
print(json.dumps({'sheets': wb.sheetnames, 'title': ws.title,
                  'freeze': ws.freeze_panes, 'rows': rows,
                  'widths': widths}))
'''

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

OPENPYXL = '/usr/bin/python3'
if subprocess.run([OPENPYXL, '-c', 'import openpyxl'],
                  capture_output=True).returncode != 0:
    h.bail('%s has no openpyxl: apt-get install python3-openpyxl' % OPENPYXL)
env, rd = h.setup(users=[('sec', 'secretariat', None)])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
OUT = os.path.join(env.tmp, 'out')
os.mkdir(OUT)

NAMES = ['Дмитрий Иванов', 'Ελένη Παπαδοπούλου', 'محمد علي', '王小明',
         '=1+2 Formula', '-Dash Minus', '@At Sign', 'O"Brien, Seán',
         'An Unusually Long Name For Measuring Column Widths']
LONG_TITLE = 'Adviser ' * 10    # 80 characters: wider than the cap
PARTIES = [('00123', 'Zero Institute'), ('1E5', 'Exponent Forum')]
BADGE = '2345672345'
ID = {}
TIME_COLUMNS = {'checked_in', 'session_checked_in'}
NUMBER_COLUMNS = {'id', 'quota', 'size', 'confirmed', 'checked_in'}


def cli(*args):
    rc, out, err = env.cli(rd, '--event', 'E1', *args, user='sec',
                           password=h.PASSWORD)
    h.diag('roster %s -> %d %s' % (' '.join(args), rc, err.strip()))
    return rc, out, err


def read_csv(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.reader(f, strict=True))


def read_xlsx(path):
    p = subprocess.run([OPENPYXL, '-c', READER, path], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        h.diag(p.stderr)
        return None
    return json.loads(p.stdout)


def as_time(v):
    """A time as the exports write it, as the naive wall-clock time."""
    return datetime.datetime.fromisoformat(
        re.sub(r'(Z|[+-]\d\d:\d\d)$', '', v))


def cell_ok(col, v, cell):
    """Why the workbook's cell is not the CSV's value v, or None."""
    t, x, _ = cell if cell is not None else ('n', None, False)
    if v == '':
        return None if x is None else 'not empty'
    if col in TIME_COLUMNS and 'T' in v:
        if t != 'd' or datetime.datetime.fromisoformat(x) != as_time(v):
            return 'not the date %s' % v
        return None
    if col in NUMBER_COLUMNS and v.isdigit():
        return None if t == 'n' and x == int(v) else 'not the number'
    want = v[1:] if v[:1] == "'" and v[1:2] in ('=', '+', '-', '@') else v
    return None if t == 's' and x == want else 'not the text %r' % want


def compare(what, rows, wb):
    h.ok(wb is not None, '%s: openpyxl reads the workbook' % what)
    if wb is None:
        return
    h.is_(wb['sheets'], [what], '%s: one sheet, named %s' % (what, what))
    h.is_(wb['freeze'], 'A2', '%s: the header row is frozen' % what)
    got = wb['rows']
    h.is_(len(got), len(rows), '%s: as many rows as the CSV' % what)
    h.is_([c[1] for c in got[0]], rows[0], '%s: the same header' % what)
    h.ok(all(c[0] == 's' and c[2] for c in got[0]),
         '%s: the header cells are bold text' % what)
    bad = []
    for i, row in enumerate(rows[1:], 1):
        cells = got[i] if i < len(got) else []
        for j, v in enumerate(row):
            why = cell_ok(rows[0][j], v, cells[j] if j < len(cells) else
                          None)
            if why:
                bad.append('row %d %s=%r: %s (%r)' % (
                    i, rows[0][j], v, why, cells[j] if j < len(cells)
                    else None))
        if any(c[1] is not None for c in cells[len(row):]):
            bad.append('row %d: cells past the CSV\'s' % i)
    h.is_(bad, [], '%s: every cell is the CSV\'s, in the same order'
          % what)
    for col in ('party', 'badge'):
        if col in rows[0]:
            j = rows[0].index(col)
            h.ok(all(r[j][0] == 's' for r in got[1:] if r[j][1] is not None)
                 and any(r[j][1] is not None for r in got[1:]),
                 '%s: every %s is a text cell' % (what, col))


with h.section('set-up: event E1, parties with codes like numbers, '
               'participants, check-ins'):
    A = rd.login('admin')
    h.event(A, 'E1')
    h.must(A, 'USE event=E1')
    for code, name in PARTIES:
        h.must(A, 'PARTY ADD code=%s kind=organisation name=%s'
               % (code, h.quote(name)))
    for code in ('TR', 'GR') + tuple(c for c, _ in PARTIES):
        h.must(A, 'DELEGATION REGISTER party=%s%s' % (
            code, ' note="Line one\\nLine two, with a comma" quota=4'
            if code == 'GR' else ''))
    for i, name in enumerate(NAMES):
        party = ('TR', 'GR', '00123', '1E5')[i % 4]
        r = h.must(A, 'PARTICIPANT ADD party=%s name=%s role=member%s'
                   % (party, h.quote(name), ' title="=SUM(A1:A9)"'
                      if i == 0 else ' title=%s' % h.quote(LONG_TITLE.strip())
                      if i == 1 else ''))
        ID[name] = r.fields['id']
    env.pg.query("UPDATE roster.participant SET badge = '%s' WHERE id = %s"
                 % (BADGE, ID['王小明']))
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title=Opening '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:00')
    for name in NAMES[:3]:
        h.must(A, 'CHECKIN id=%s' % ID[name])
    h.must(A, 'CHECKIN id=%s session=S1' % ID[NAMES[0]])

for what, more in (('participants', ()), ('attendance', ()),
                   ('attendance', ('session=S1',)), ('delegations', ())):
    with h.section('%s %s: CSV and XLSX' % (what, ' '.join(more))):
        c, x = (os.path.join(OUT, what + ''.join(more) + ext)
                for ext in ('.csv', '.xlsx'))
        rc, _, _ = cli('export', what, *more, '-o', c)
        h.is_(rc, 0, '%s: export to .csv: exit 0' % what)
        rc, out, err = cli('export', what, *more, '-o', x)
        h.is_(rc, 0, '%s: export to .xlsx: exit 0' % what)
        rows = read_csv(c)
        with open(x, 'rb') as f:
            h.is_(f.read(2), b'PK', '%s: the .xlsx is a zip file' % what)
        wb = read_xlsx(x)
        compare(what, rows, wb)
        if what == 'participants' and wb:
            col = rows[0].index('name')
            names = [r[col] for r in rows[1:]]
            h.ok(set(NAMES[:4]) <= set(names) and
                 set(c[col][1] for c in wb['rows'][1:]) >= set(NAMES),
                 'non-Latin names (and all the others) exactly')
            h.ok("'=1+2 Formula" in names and '=1+2 Formula' not in names,
                 'the CSV has the formula-like name with a \' before it')
            cells = {c[col][1]: c[col] for c in wb['rows'][1:]}
            h.ok(all(cells.get(n, ['?'])[0] == 's' for n in NAMES[4:7]),
                 'in the workbook without it, as text cells (not formulas)')
            j = rows[0].index('badge')
            h.ok(any(c[j] == ['s', BADGE, False] for c in wb['rows'][1:]),
                 'a badge of digits is a text cell, not a number')
            j = rows[0].index('party')
            h.is_(sorted({c[j][1] for c in wb['rows'][1:]} &
                         {'00123', '1E5'}), ['00123', '1E5'],
                  'party codes 00123 and 1E5 stay as written')
            longest = max(len(n) for n in NAMES)
            w = wb['widths'].get(chr(ord('A') + col), 0)
            h.ok(longest + 2 <= w < longest + 3, 'the name column fits the '
                 'longest name, and two more characters (%s)' % w)
            w = wb['widths'].get(chr(ord('A') + rows[0].index('title')), 0)
            h.ok(60 <= w < 61, 'the title column is capped at 60 (%s)' % w)
        if what == 'attendance' and wb:
            j = rows[0].index('session_checked_in' if more else 'checked_in')
            h.is_(sum(1 for c in wb['rows'][1:] if c[j][0] == 'd'),
                  1 if more else 3, 'the check-ins are dates')
        if what == 'delegations' and wb:
            j = rows[0].index('note')
            h.ok(any(c[j][1] == 'Line one\nLine two, with a comma'
                     for c in wb['rows'][1:]),
                 'a note with a line break, whole in one cell')

with h.section('which format'):
    t = os.path.join(OUT, 'participants.tsv')
    rc, _, _ = cli('export', 'participants', '-o', t)
    with open(t, encoding='utf-8') as f:
        first = f.readline()
    h.ok(rc == 0 and '\t' in first and ',' not in first,
         '.tsv: the file is TSV', '    %r' % first)
    d = os.path.join(OUT, 'participants.dat')
    rc, _, _ = cli('export', 'participants', 'format=xlsx', '-o', d)
    with open(d, 'rb') as f:
        h.ok(rc == 0 and f.read(2) == b'PK', 'format=xlsx: a workbook, '
             'whatever the extension')
    d = os.path.join(OUT, 'participants2.xlsx')
    rc, _, _ = cli('export', 'participants', 'format=csv', '-o', d)
    with open(d, encoding='utf-8') as f:
        h.ok(rc == 0 and f.readline().startswith('party,'),
             'format=csv overrides .xlsx')
    rc, out, _ = cli('export', 'participants')
    h.ok(rc == 0 and out.startswith('party,'), 'stdout: CSV, as before')
    p = os.path.join(OUT, 'list.pdf')
    rc, _, err = cli('export', 'attendance', '-o', p)
    h.ok(rc == 2 and 'only of participants' in err and
         not os.path.exists(p),
         '.pdf of attendance: only the participants (test_lop.py), exit 2, '
         'no file', '    %r' % err)
    argv = [h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port),
            '--ca', env.certs.ca, '--user', 'sec', '--event', 'E1',
            'export', 'participants', 'format=xlsx']
    e = dict(os.environ, ROSTER_PASSWORD=h.PASSWORD, HOME=env.home)
    proc = subprocess.run(argv, capture_output=True, env=e, timeout=60,
                          stdin=subprocess.DEVNULL)
    x = os.path.join(OUT, 'stdout.xlsx')
    with open(x, 'wb') as f:
        f.write(proc.stdout)
    wb = read_xlsx(x)
    h.ok(proc.returncode == 0 and wb is not None and len(wb['rows']) ==
         len(read_csv(os.path.join(OUT, 'participants.csv'))),
         'format=xlsx to a pipe: the workbook on stdout',
         '    %r' % proc.stderr)
    rc, _, err = cli('export', 'participants', '-o', '/dev/null',
                     'format=xlsx')
    h.is_(rc, 0, 'format=xlsx to a device (/dev/null): exit 0')
    rc, _, err = cli('export', 'participants', 'format=ods', '-o', p)
    h.ok(rc == 2 and 'csv, tsv, xlsx' in err, 'format=ods: refused')
    x = os.path.join(OUT, 'refused.xlsx')
    rc, _, _ = cli('export', 'participants', 'party=NOPE', '-o', x)
    h.ok(rc == 1 and not os.path.exists(x) and
         not any(n.startswith('refused.xlsx') for n in os.listdir(OUT)),
         'a refused export: exit 1, no file and no temporary left')

h.done_testing()
