"""test_badges.py -- roster badges (README, "roster badges"): a PDF of
badges for the participants who have not declined, one A6 page each or
eight to an A4 sheet. Twelve participants, one declined, with names in
Cyrillic, Arabic, Chinese and Devanagari and one very long name: the
pages are rendered with pdftoppm and every QR code decoded with zbarimg
(Debian's poppler-utils and zbar-tools); the set of codes read is exactly
the set of badge codes of those who have not declined, each once. The
page counts and sizes; pdftotext shows each name (its Latin form too),
the code in two groups of five and the role's word; party= and id= pick
the right people; an empty selection, an unknown id, a refused export and
a bad --layout are errors that leave no file; the PDF goes to a pipe
too."""

import csv
import html
import io
import math
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

for tool, pkg in (('pdftoppm', 'poppler-utils'), ('pdftotext',
                                                   'poppler-utils'),
                  ('pdfinfo', 'poppler-utils'), ('zbarimg', 'zbar-tools')):
    if shutil.which(tool) is None:
        h.bail('%s is not installed: apt-get install %s' % (tool, pkg))
env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('ftr', 'focal', 'TR')])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
OUT = os.path.join(env.tmp, 'out')
os.mkdir(OUT)
DPI = 200
LONG = ('Maria Fernanda de los Ángeles Carolina Rodríguez-Villanueva '
        'y Montenegro-Castellanos de la Santísima Trinidad')

# (party, role, honorific, name, title)
PEOPLE = [
    ('TR', 'head', 'H.E. Ms.', 'Ayşe Yılmaz', 'Deputy Minister of Interior'),
    ('TR', 'member', 'Mr.', 'Mehmet Öztürk', 'Director General'),
    ('TR', 'adviser', '', 'Zeynep Kaya', ''),
    ('TR', 'member', 'Mr.', 'Declined Person', 'Not Coming'),
    ('RU', 'head', '', 'Дмитрий Иванов', 'Ambassador'),
    ('EG', 'member', 'Dr.', 'محمد علي', 'Counsellor'),
    ('EG', 'adviser', '', 'فاطمة الزهراء', 'Legal Adviser'),
    ('CN', 'member', '', '王小明', 'First Secretary'),
    ('IN', 'adviser', '', 'अमित शर्मा', 'Joint Secretary'),
    ('IOM', 'observer', '', LONG, 'Senior Regional Migration Policy '
     'Officer for Latin America and the Caribbean'),
    ('IOM', 'staff', '', 'Jean Dupont', 'Conference Services'),
    ('IOM', 'staff', '', 'Li Wei', 'Interpreter'),
]
WORDS = {'head': 'HEAD OF DELEGATION', 'member': 'MEMBER',
         'adviser': 'ADVISER', 'observer': 'OBSERVER', 'staff': 'STAFF'}
ID = {}


def cli(*args, user='sec', **kw):
    rc, out, err = env.cli(rd, '--event', 'E1', *args, user=user,
                           password=h.PASSWORD, **kw)
    h.diag('roster %s -> %d %s' % (' '.join(args), rc, err.strip()))
    return rc, out, err


def pages(path):
    p = subprocess.run(['pdfinfo', path], capture_output=True, text=True)
    m = re.search(r'^Pages:\s+(\d+)', p.stdout, re.M)
    s = re.search(r'^Page size:\s+([\d.]+) x ([\d.]+) pts', p.stdout, re.M)
    return (int(m.group(1)) if m else None,
            (round(float(s.group(1))), round(float(s.group(2))))
            if s else None)


def text(path):
    p = subprocess.run(['pdftotext', '-enc', 'UTF-8', path, '-'],
                       capture_output=True, text=True)
    return p.stdout


def words(path):
    """Per page, the words pdftotext -bbox finds: (text, x0, y0, x1, y1),
    in mm from the page's top left."""
    p = subprocess.run(['pdftotext', '-bbox', path, '-'],
                       capture_output=True, text=True)
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" '
                      r'xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    return [[(html.unescape(w[4]),) + tuple(float(v) * 25.4 / 72
                                            for v in w[:4])
             for w in word.findall(page)]
            for page in re.findall(r'<page[^>]*>(.*?)</page>', p.stdout,
                                   re.S)]


def fonts(path):
    p = subprocess.run(['pdffonts', path], capture_output=True, text=True)
    return {line.split()[0].split('+')[-1]
            for line in p.stdout.splitlines()[2:] if line.strip()}


def squeeze(s):
    return re.sub(r'\s+', '', s)


def px(mm):
    return int(round(mm / 25.4 * DPI))


def zbar(png):
    p = subprocess.run(['zbarimg', '--raw', '-q', '-Sdisable',
                        '-Sqrcode.enable', png], capture_output=True,
                       text=True, timeout=60)
    return p.stdout.split()


def decode(path, tag, npages, cells=None):
    """The codes zbarimg reads from the PDF's pages rendered at DPI (a
    code read twice is there twice). cells: (x, y, w, h) in mm, each
    rendered and read on its own, as a scanner sees one card of a sheet
    (zbar may miss one of several codes on a page)."""
    codes = []
    for page in range(1, npages + 1):
        for i, cell in enumerate(cells or [None]):
            prefix = os.path.join(OUT, '%s-%d-%d' % (tag, page, i))
            crop = [] if cell is None else [
                a for k, v in zip(('-x', '-y', '-W', '-H'), cell)
                for a in (k, str(px(v)))]
            subprocess.run(['pdftoppm', '-r', str(DPI), '-png', '-gray',
                            '-f', str(page), '-l', str(page),
                            '-singlefile'] + crop + [path, prefix],
                           check=True, timeout=60)
            codes += zbar(prefix + '.png')
    return codes


def grouped(code):
    return code[:5] + ' ' + code[5:]


def no_file(path):
    d, base = os.path.split(path)
    return not os.path.exists(path) and not any(
        n.startswith(base + '.') for n in os.listdir(d))


with h.section('set-up: event E1, six delegations, twelve participants '
               '(one declined)'):
    A = rd.login('admin')
    h.event(A, 'E1', title='Fourth Regional Conference on Migration, '
            'Mobility and Development', city='Ankara')
    h.must(A, 'USE event=E1')
    h.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for code in ('TR', 'RU', 'EG', 'CN', 'IN', 'IOM', 'GR'):
        h.must(A, 'DELEGATION REGISTER party=%s' % code)
    for party, role, hon, name, title in PEOPLE:
        r = h.must(A, 'PARTICIPANT ADD party=%s role=%s name=%s%s%s'
                   % (party, role, h.quote(name),
                      ' honorific=%s' % h.quote(hon) if hon else '',
                      ' title=%s' % h.quote(title) if title else ''))
        ID[name] = r.fields['id']
    h.must(A, 'PARTICIPANT DECLINE id=%s' % ID['Declined Person'])
    rc, out, _ = cli('export', 'participants')
    rows = list(csv.DictReader(io.StringIO(out)))
    WANT = {r['badge'] for r in rows}
    LATIN = {r['name']: r['latin'] for r in rows}
    DB = env.pg.query('SELECT name, badge, status FROM roster.participant')
    BADGE = {r[0]: r[1] for r in DB}
    h.ok(rc == 0 and len(DB) == 12 and len(rows) == 11 and WANT ==
         {r[1] for r in DB if r[2] != 'declined'},
         'twelve in the database; the export has the eleven not declined')
    h.ok(all(LATIN.get(n) for n in ('Дмитрий Иванов', '王小明',
                                    'अमित शर्मा')),
         'the names in other scripts have a Latin form', repr(LATIN))

with h.section('--layout a6: one A6 page each, every QR code reads back'):
    a6 = os.path.join(OUT, 'badges-a6.pdf')
    rc, _, err = cli('badges', '-o', a6)
    h.is_(rc, 0, 'badges -o FILE.pdf: exit 0')
    with open(a6, 'rb') as f:
        h.is_(f.read(5), b'%PDF-', 'the file is a PDF')
    n, size = pages(a6)
    h.is_(n, 11, 'eleven pages: one per participant who has not declined')
    h.is_(size, (298, 420), 'A6 pages (105 x 148 mm)')
    codes = decode(a6, 'a6', n or 0)
    h.is_(sorted(codes), sorted(WANT), 'zbarimg reads every badge code '
          'from the pages at %d dpi, each once, and nothing else' % DPI)
    h.ok(BADGE['Declined Person'] not in codes, 'not the declined one\'s')
    t = text(a6)
    flat = squeeze(t)
    missing = [p[3] for p in PEOPLE if p[3] != 'Declined Person' and
               squeeze(p[3]) not in flat]
    h.is_(missing, [], 'pdftotext shows each name, the long one whole, '
          'Arabic, Chinese and Devanagari too')
    h.ok('Declined' not in t, 'the declined one is not there')
    missing = [n for n, l in LATIN.items() if l and squeeze(l) not in flat]
    h.is_(missing, [], 'the Latin form of each name in another script')
    missing = [c for c in WANT if grouped(c) not in t]
    h.is_(missing, [], 'each badge code printed in two groups of five')
    for role, word in sorted(WORDS.items()):
        want = sum(1 for p in PEOPLE if p[1] == role and
                   p[3] != 'Declined Person')
        h.is_(t.count(word), want, '%s: "%s" on %d badges'
              % (role, word, want))
    f = fonts(a6)
    h.ok({'NotoSansArabic-Bold', 'NotoSansDevanagari-Bold',
          'NotoSansCJKsc-Bold', 'NotoSans-Bold'} <= f and
         not any(x.startswith('DejaVu') for x in f),
         'the names in Noto fonts: Arabic, Devanagari, CJK (SC for China)',
         repr(sorted(f)))
    w = words(a6)
    size = {x[0]: x[4] - x[2] for page in w for x in page}
    h.ok(size.get('Wei', 0) > 2.5 * size.get('Maria', 99),
         'a short name large, the long one shrunk (%.1f, %.1f mm high)'
         % (size.get('Wei', 0), size.get('Maria', 0)))
    h.ok(all(3 < x[1] and x[3] < 102 and 3 < x[2] and x[4] < 145
             for page in w for x in page),
         'no text nearer than 3 mm to an edge of the page')
    h.ok('Fourth Regional Conference' in t and 'Ankara' in t and
         '26–28 November 2025' in t and 'Türkiye' in t and
         squeeze('International Organization for Migration') in flat,
         'the meeting, its city and days, the delegations')

with h.section('--layout a4-8: eight to an A4 sheet'):
    a4 = os.path.join(OUT, 'badges-a4.pdf')
    rc, _, err = cli('badges', '--layout', 'a4-8', '-o', a4)
    h.is_(rc, 0, 'badges --layout a4-8: exit 0')
    n, size = pages(a4)
    h.is_(n, math.ceil(11 / 8), 'two sheets for eleven badges')
    h.is_(size, (595, 842), 'A4 sheets')
    cells = [(105 * (i % 2), 0.5 + 74 * (i // 2), 105, 74)
             for i in range(8)]
    codes = decode(a4, 'a4', n or 0, cells)
    h.is_(sorted(codes), sorted(WANT), 'zbarimg reads every badge code '
          'from the 105 x 74 mm cells of the sheets, each once')
    t = text(a4)
    missing = [c for c in WANT if grouped(c) not in t]
    h.is_(missing, [], 'each code printed in two groups')
    flat = squeeze(t)
    h.ok(all(squeeze(p[3]) in flat for p in PEOPLE[4:]),
         'the names, other scripts and the long one too')
    w = words(a4)
    out = [x for page in w for x in page
           if int(x[1] // 105) != int(x[3] // 105) or
           int((x[2] - 0.5) // 74) != int((x[4] - 0.5) // 74) or
           x[1] % 105 < 3 or x[3] % 105 > 102 or
           (x[2] - 0.5) % 74 < 3 or (x[4] - 0.5) % 74 > 71]
    h.is_(out, [], 'every word inside its card, 3 mm from the cut lines')
    long = set(LONG.split())
    h.ok(all(x[3] % 105 < 72 for page in w for x in page if x[0] in long),
         'the long name in the card\'s left column, clear of the QR code')

with h.section('party= and id= pick the people'):
    p = os.path.join(OUT, 'tr.pdf')
    rc, _, _ = cli('badges', 'party=TR', '-o', p)
    t = text(p)
    tr = {BADGE[x[3]] for x in PEOPLE if x[0] == 'TR'} - {
        BADGE['Declined Person']}
    h.ok(rc == 0 and pages(p)[0] == 3 and
         {c for c in WANT if grouped(c) in t} == tr,
         'party=TR: the three of TR who have not declined, no one else')
    p = os.path.join(OUT, 'focal.pdf')
    rc, _, err = cli('badges', '-o', p, user='ftr')
    h.ok(rc == 1 and 'FORBIDDEN' in err and no_file(p),
         'a focal point, who may not EXPORT: refused, exit 1, no file')
    p = os.path.join(OUT, 'ids.pdf')
    pick = ['王小明', 'Jean Dupont']
    rc, _, _ = cli('badges', 'id=%s' % ID[pick[0]], 'id=%s' % ID[pick[1]],
                   '--layout', 'a4-8', '-o', p)
    t = text(p)
    h.ok(rc == 0 and pages(p)[0] == 1 and
         {c for c in WANT if grouped(c) in t} == {BADGE[x] for x in pick},
         'id= twice: those two on one sheet')
    rc, _, _ = cli('badges', 'party=IOM', 'id=%s' % ID['Jean Dupont'],
                   '-o', p)
    t = text(p)
    h.ok(rc == 0 and pages(p)[0] == 1 and grouped(BADGE['Jean Dupont'])
         in t, 'party= and id= together')
    proc = subprocess.run(
        [h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port), '--ca',
         env.certs.ca, '--user', 'sec', '--event', 'E1', 'badges',
         'id=%s' % ID['Li Wei']], capture_output=True, timeout=60,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, ROSTER_PASSWORD=h.PASSWORD, HOME=env.home))
    h.ok(proc.returncode == 0 and proc.stdout.startswith(b'%PDF-') and
         proc.stdout.rstrip().endswith(b'%%EOF'),
         'without -o, to a pipe: the PDF on stdout', proc.stderr)

with h.section('errors leave no file'):
    p = os.path.join(OUT, 'none.pdf')
    rc, _, err = cli('badges', 'party=GR', '-o', p)
    h.ok(rc == 1 and 'nobody to print' in err and no_file(p),
         'a delegation with nobody: exit 1, a clear message, no file',
         repr(err))
    rc, _, err = cli('badges', 'id=%s' % ID['Declined Person'], '-o', p)
    h.ok(rc == 1 and 'id=%s' % ID['Declined Person'] in err and
         no_file(p), 'id= of the declined one: exit 1, named, no file',
         repr(err))
    rc, _, err = cli('badges', 'party=TR', 'id=%s' % ID['王小明'], '-o', p)
    h.ok(rc == 1 and no_file(p), 'id= outside party=: exit 1, no file')
    rc, _, err = cli('badges', 'party=NOPE', '-o', p)
    h.ok(rc == 1 and no_file(p), 'a refused export: exit 1, no file')
    rc, _, err = cli('badges', 'id=x1', '-o', p)
    h.ok(rc == 2 and no_file(p), 'id=x1: not a number, exit 2')
    rc, _, err = cli('badges', '--layout', 'a3', '-o', p)
    h.ok(rc == 2 and 'a6 or a4-8' in err and no_file(p),
         '--layout a3: exit 2')
    rc, _, err = cli('export', 'participants', '--layout', 'a6', '-o', p)
    h.ok(rc == 2 and '--layout is for badges' in err and no_file(p),
         '--layout is only for badges')
    with open(a6, 'rb') as f:
        before = f.read()
    rc, _, _ = cli('badges', 'party=GR', '-o', a6)
    with open(a6, 'rb') as f:
        h.ok(rc == 1 and f.read() == before, 'a failed run leaves the '
             'last good file as it was')

h.done_testing()
