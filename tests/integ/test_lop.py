"""test_lop.py -- roster export participants -o FILE.pdf: the List of
Participants (README, "roster export"), read back with poppler's
pdftotext, pdffonts and pdfinfo. An event with a chair, a co-chair and a
secretariat; delegations whose people write their names in Latin with
Turkish and Hungarian letters, Cyrillic, Arabic, Chinese, Japanese, Korean
and Devanagari; heads of delegation; one declined; enough people for
several pages. Then: every name not declined is in the text exactly once,
in the order of the CSV export, and the declined one is not; a Latin form
is beside its name; every font is embedded; pdfinfo's page count is the M
of "page N of M" on each page; the running header from page 2; a
delegation's heading is never the last line of a page; --no-email leaves
no address; --title replaces the list's title; to a pipe; a list of 500
people; .pdf of another list, --title with a CSV, and a refused export
are errors that leave no file."""

import csv
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

for tool in ('pdftotext', 'pdffonts', 'pdfinfo'):
    if shutil.which(tool) is None:
        h.bail('%s not found: apt-get install poppler-utils' % tool)
env, rd = h.setup(users=[('sec', 'secretariat', None)])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
OUT = os.path.join(env.tmp, 'out')
os.mkdir(OUT)
MEETING = 'Budapest Process Senior Officials Meeting'

# (party, honorific, name, title, role); e-mail addresses are made up.
PEOPLE = [
    ('TR', 'H.E. Mr', 'Şükrü Yılmaz', 'Deputy Minister of Interior', 'head'),
    ('TR', 'Ms', 'Gülşen Öztürk', 'Head of Department', 'member'),
    ('TR', 'Mr', 'İsmail Çağlayan', 'Expert', 'adviser'),
    ('HU', 'Dr', 'Erzsébet Szőke', 'Director General', 'head'),
    ('HU', 'Mr', 'Ödön Győri', 'Counsellor', 'member'),
    ('HU', 'Ms', 'Zsófia Tűzkő', 'Desk Officer', 'member'),
    ('RU', 'Mr', 'Дмитрий Иванов', 'Counsellor', 'head'),
    ('RU', 'Ms', 'Ольга Смирнова', 'First Secretary', 'member'),
    ('EG', 'H.E. Mr', 'محمد علي', 'Ambassador', 'head'),
    ('EG', 'Ms', 'فاطمة الزهراء', 'Attaché', 'member'),
    ('CN', 'Mr', '王小明', 'Director', 'head'),
    ('CN', 'Ms', '李华', 'Programme Officer', 'member'),
    ('IN', 'Mr', 'राजेश कुमार', 'Joint Secretary', 'head'),
    ('IN', 'Ms', 'प्रिया शर्मा', 'Under Secretary', 'member'),
    ('JP', 'Ms', '田中さくら', 'Minister-Counsellor', 'head'),
    ('JP', 'Mr', '山田太郎', 'First Secretary', 'member'),
    ('KR', 'Mr', '김민준', 'Director', 'head'),
    ('KR', 'Ms', '이서연', 'Second Secretary', 'member'),
]
DECLINED = ('HU', 'Mr', 'Béla Declinedné', 'Adviser', 'member')
GIVEN = ['Ayla', 'Berk', 'Ceren', 'Deniz', 'Emre', 'Fulya', 'Gökhan',
         'Hülya', 'Işıl', 'Kaan']
FAMILY = ['Aksoy', 'Bulut', 'Çınar', 'Doğru', 'Erdem', 'Güneş', 'Kılınç']
# Enough more people for several pages, in delegations of several sizes.
PARTIES = ['TR', 'HU', 'DE', 'AT', 'FR', 'IT', 'GR', 'BG', 'RS', 'GE']
k = 0
for i, g in enumerate(GIVEN):
    for j, f in enumerate(FAMILY):
        PEOPLE.append((PARTIES[(i * 3 + j) % len(PARTIES) if k % 5 else
                               k % len(PARTIES)],
                       'Mr' if k % 2 else 'Ms', '%s %s' % (g, f),
                       'Officer of a very long-named directorate of '
                       'migration policy' if k % 7 == 0 else 'Officer',
                       'member'))
        k += 1
ORGS = [('ICMPD', 'International Centre for Migration Policy Development'),
        ('IOM', 'International Organization for Migration')]
PEOPLE += [('ICMPD', 'Mr', 'Lukas Gehrke', 'Director', 'head'),
           ('ICMPD', 'Ms', 'Ana Popescu', 'Programme Manager', 'member'),
           ('IOM', 'Ms', 'Mariam Haddad', 'Chief of Mission', 'head')]
NONLATIN = [p[2] for p in PEOPLE[6:18]]


def email(name, n):
    return 'p%d@example.org' % n


def cli(*args):
    rc, out, err = env.cli(rd, '--event', 'E1', *args, user='sec',
                           password=h.PASSWORD)
    h.diag('roster %s -> %d %s' % (' '.join(args), rc, err.strip()))
    return rc, out, err


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          check=True).stdout


def text(path, *more):
    return run('pdftotext', '-enc', 'UTF-8', *more, path, '-')


def pages(path):
    m = re.search(r'^Pages:\s+(\d+)$', run('pdfinfo', path), re.M)
    return int(m.group(1)) if m else 0


with h.section('set-up: an event with officers, delegations, participants'):
    A = rd.login('admin')
    for code, name in ORGS:
        h.must(A, 'PARTY ADD code=%s kind=organisation name=%s'
               % (code, h.quote(name)))
    h.must(A, 'EVENT CREATE code=E1 title=%s city=Budapest country=HU '
           'starts=2025-11-26 ends=2025-11-28 timezone=Europe/Budapest '
           'chair=HU co_chair=TR secretariat=ICMPD' % h.quote(MEETING))
    h.must(A, 'EVENT SET event=E1 status=open')
    h.must(A, 'USE event=E1')
    for code in sorted({p[0] for p in PEOPLE}):
        h.must(A, 'DELEGATION REGISTER party=%s' % code)
    for n, (party, hon, name, title, role) in enumerate(PEOPLE + [DECLINED]):
        r = h.must(A, 'PARTICIPANT ADD party=%s honorific=%s name=%s '
                   'title=%s email=%s role=%s'
                   % (party, h.quote(hon), h.quote(name), h.quote(title),
                      email(name, n), role))
        if (party, hon, name, title, role) == DECLINED:
            h.must(A, 'PARTICIPANT DECLINE id=%s' % r.fields['id'])

with h.section('the list: every name once, in the export\'s order'):
    c = os.path.join(OUT, 'participants.csv')
    p = os.path.join(OUT, 'lop.pdf')
    rc, _, _ = cli('export', 'participants', '-o', c)
    h.is_(rc, 0, 'the CSV export: exit 0')
    with open(c, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    want = [r for r in rows if r['status'] != 'declined']
    h.is_(len(want), len(PEOPLE), 'the CSV has everyone not declined')
    rc, out, err = cli('export', 'participants', '-o', p)
    h.is_(rc, 0, 'export participants -o lop.pdf: exit 0')
    with open(p, 'rb') as f:
        h.is_(f.read(5), b'%PDF-', 'the file is a PDF')
    t = text(p)
    counts = {r['name']: t.count(r['name']) for r in want}
    h.is_({k: v for k, v in counts.items() if v != 1}, {},
          'pdftotext: every name exactly once')
    h.ok(all(n in counts for n in NONLATIN) and
         all(counts[n] == 1 for n in NONLATIN),
         'including the Cyrillic, Arabic, Chinese, Japanese, Korean and '
         'Devanagari ones')
    where = [t.find(r['name']) for r in want]
    h.ok(where == sorted(where), 'in the order of the CSV export',
         *('    %r before %r' % (want[i]['name'], want[i + 1]['name'])
           for i in range(len(where) - 1) if where[i] > where[i + 1]))
    h.is_(t.count(DECLINED[2]), 0, 'the declined participant is left out')
    # On the name's line (poppler reorders a right-to-left run with the
    # parenthesis beside it, so the two are not always next to each other
    # in its text).
    beside = [r['name'] for r in want if r['latin'] and
              not any(r['name'] in x and r['latin'] + ')' in x
                      for x in t.splitlines())]
    h.ok(len([r for r in want if r['latin']]) >= len(NONLATIN) and
         beside == [], 'the Latin form beside each name in another script',
         '    not beside: %r' % beside)
    h.ok(MEETING in t and 'Budapest (Hungary), 26\u201328 November 2025'
         in t and 'List of participants' in t,
         'the meeting, its city and dates, the list\'s title')
    h.ok(re.search(r'Chair\s+Hungary', t) and
         re.search(r'Co-chair\s+T\u00fcrkiye', t) and
         re.search(r'Secretariat\s+International Centre', t),
         'the chair, the co-chair and the secretariat by name')
    h.ok(email('x', 0) in t and 'Head of delegation' in t and
         'Deputy Minister of Interior' in t,
         'titles, e-mail addresses, heads marked')
    d = [t.find(n) for n in ('Countries', 'Türkiye', 'Hungary',
                             'Organisations',
                             'International Organization for Migration')]
    h.ok(-1 not in d and t.find('Countries') < t.find('Organisations') and
         t.find('Şükrü Yılmaz') < t.find('Gülşen Öztürk'),
         'countries, then organisations; the head first')

with h.section('fonts, pages, the running header'):
    fonts = run('pdffonts', p).splitlines()
    col = fonts[0].index('emb') if fonts else 0
    rows_f = fonts[2:]
    h.diag(*fonts)
    h.ok(len(rows_f) >= 4 and all(r[col:col + 3] == 'yes' for r in rows_f),
         'pdffonts: every font embedded (%d fonts)' % len(rows_f))
    names = ' '.join(r.split()[0] for r in rows_f)
    h.ok(all(f in names for f in ('NotoSans-', 'NotoSansArabic',
                                  'NotoSansCJK', 'NotoSansDevanagari')) and
         'DejaVu' not in names,
         'Noto fonts for Latin, Arabic, CJK and Devanagari', '    ' + names)
    h.ok(all(f in names for f in ('NotoSansCJKsc', 'NotoSansCJKjp',
                                  'NotoSansCJKkr')),
         'Chinese, Japanese and Korean names each in their own font')
    m = pages(p)
    h.cmp_ok(m, '>=', 3, 'several pages (%d)' % m)
    bad = []
    for n in range(1, m + 1):
        pt = text(p, '-f', str(n), '-l', str(n))
        if 'page %d of %d' % (n, m) not in pt:
            bad.append('page %d: no "page %d of %d"' % (n, n, m))
        lines = [x.strip() for x in text(p, '-layout', '-f', str(n), '-l',
                                         str(n)).splitlines() if x.strip()]
        if n > 1 and not (lines and lines[0].startswith(MEETING) and
                          lines[0].endswith('List of participants')):
            bad.append('page %d: no running header: %r' % (n, lines[:1]))
        heads = {r['delegation'] for r in want}
        heads |= {x + ' (continued)' for x in heads}
        body = [x for x in lines if not x.startswith('page ')]
        if body and body[-1] in heads:
            bad.append('page %d ends with the heading %r' % (n, body[-1]))
    h.is_(bad, [], 'pdfinfo\'s page count is M of "page N of M" on each '
          'page; the running header from page 2; no heading last on a page')
    t1 = [x for x in text(p, '-f', '1', '-l', '1').splitlines() if x]
    h.ok(t1[:1] == [MEETING] and
         sum(x.count('List of participants') for x in t1) == 1,
         'page 1 opens with the meeting\'s title, and no running header',
         '    %r' % t1[:3])

with h.section('--no-email, --title, to a pipe'):
    q = os.path.join(OUT, 'noemail.pdf')
    rc, _, _ = cli('export', 'participants', '--no-email', '-o', q)
    t = text(q) if rc == 0 else ''
    h.ok(rc == 0 and '@' not in t and 'Gülşen Öztürk' in t,
         '--no-email: no address in the text, the names all there')
    q = os.path.join(OUT, 'prov.pdf')
    rc, _, _ = cli('export', 'participants', '--title',
                   'Provisional list of participants', '-o', q)
    t = text(q) if rc == 0 else ''
    h.ok(rc == 0 and 'Provisional list of participants' in t and
         'List of participants' not in t,
         '--title replaces the list\'s title (heading and running header)')
    q = os.path.join(OUT, 'event.pdf')
    rc, _, err = env.cli(rd, 'export', 'participants', 'event=E1', '-o', q,
                         user='sec', password=h.PASSWORD)
    h.ok(rc == 0 and MEETING in text(q), 'event=E1 instead of --event: '
         'the same event\'s list', '    %r' % err)
    argv = [h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port),
            '--ca', env.certs.ca, '--user', 'sec', '--event', 'E1',
            'export', 'participants', 'format=pdf', 'party=KR']
    e = dict(os.environ, ROSTER_PASSWORD=h.PASSWORD, HOME=env.home)
    proc = subprocess.run(argv, capture_output=True, env=e, timeout=60,
                          stdin=subprocess.DEVNULL)
    q = os.path.join(OUT, 'stdout.pdf')
    with open(q, 'wb') as f:
        f.write(proc.stdout)
    t = text(q) if proc.stdout.startswith(b'%PDF-') else ''
    h.ok(proc.returncode == 0 and '김민준' in t and '王小明' not in t,
         'format=pdf party=KR to a pipe: one delegation\'s list on stdout, '
         'nothing before it', '    %r' % proc.stdout[:40])

with h.section('a long list: hundreds of people, dozens of pages'):
    h.event(A, 'E2')
    codes = [r[0] for r in env.pg.query(
        "SELECT code FROM roster.party WHERE kind = 'country' "
        "ORDER BY code LIMIT 40")]
    h.must(A, 'USE event=E2')
    h.ok(all(r.ok for r in A.pipeline(['DELEGATION REGISTER party=%s' % c
                                       for c in codes])),
         'E2: %d delegations' % len(codes))
    many = ['%s %s %s' % (g, f, chr(0x41 + n // 70) + chr(0x61 + n % 26))
            for n, (g, f) in enumerate((g, f) for g in GIVEN * 8
                                       for f in FAMILY)][:500]
    replies = A.pipeline(['PARTICIPANT ADD party=%s name=%s title=Officer '
                          'email=m%d@example.org'
                          % (codes[n % len(codes)], h.quote(x), n)
                          for n, x in enumerate(many)])
    h.is_(sum(1 for r in replies if r.ok), len(many), '500 participants')
    q = os.path.join(OUT, 'long.pdf')
    rc, _, _ = env.cli(rd, '--event', 'E2', 'export', 'participants', '-o',
                       q, user='sec', password=h.PASSWORD)
    t = text(q) if rc == 0 else ''
    m = pages(q) if rc == 0 else 0
    h.ok(rc == 0 and m >= 20 and 'page %d of %d' % (m, m) in t and
         all(t.count(x) == 1 for x in many),
         'exit 0; %d pages; every one of the 500 names once' % m)

with h.section('errors leave no file'):
    for args, rc_want, msg, name in (
            (('export', 'delegations'), 2, 'only of participants',
             'a list other than participants to .pdf'),
            (('export', 'participants', 'party=NOPE'), 1, 'NOT_FOUND',
             'a refused export'),
            (('export', 'participants', '--title', 'X', 'format=csv'), 2,
             '--title', '--title with a CSV')):
        q = os.path.join(OUT, 'refused.pdf')
        rc, _, err = cli(*args, '-o', q)
        h.ok(rc == rc_want and msg in err and
             not any(n.startswith('refused.pdf') for n in os.listdir(OUT)),
             '%s: exit %d, no file and no temporary left' % (name, rc_want),
             '    %d %r' % (rc, err))
    rc, _, err = cli('PING', '--no-email')
    h.ok(rc == 2, '--no-email outside export: refused')

h.done_testing()
