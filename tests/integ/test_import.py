"""test_import.py -- roster import with the files people have, and
corrections that update instead of duplicating.

The fixtures (tests/integ/data/) are written the way Excel writes them: a
UTF-8 BOM with ';' and CRLF and the header "First name;Last name;Country;
E-mail;Title" (excel-semicolon.csv), "Unicode text" (UTF-16LE with a BOM,
TAB, French headers: excel-unicode.txt), and cp1252 with ';'
(excel-cp1252.csv). Checked: each imports the right people with the right
fields (name made of first and last name, family, the party given by its
name in several spellings, every cell trimmed); a cp1252 file is refused
without --encoding; importing a file again changes nothing; a corrected
title updates that person (same id, version + 1, no second person); a
stale version= is reported; an unknown party, a bad e-mail address and a
row given twice are refused with the line, the name and the value; the
dry run's counts; unknown columns (refused whole, or skipped with
--ignore-unknown); --map; delegations and sessions updated by party and
code, speakers left unchanged; a focal point updates its own people."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

DATA = os.path.join(h.SRCDIR, 'tests', 'integ', 'data')
env, rd = h.setup(users=[('ftr', 'focal', 'TR')])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
A = rd.login('admin')
try:
    h.event(A, 'IMP', country='TR')
    h.must(A, 'USE event=IMP')
    for p in ('TR', 'HU'):
        h.must(A, 'DELEGATION REGISTER event=IMP party=%s quota=20' % p)
except h.SetupError as e:
    h.bail(str(e))


def cli(*args, user='admin'):
    rc, out, err = env.cli(rd, '--event', 'IMP', *args, user=user,
                           password=h.PASSWORD)
    h.diag('roster %s -> %d' % (' '.join(args), rc))
    return rc, out, err


def show(rc, out, err):
    return ('    exit %d' % rc, '    stdout: %r' % out[:2000],
            '    stderr: %r' % err[:3000])


def people():
    """Participants of IMP by name: the record."""
    return {x.get('name'): x for x in h.records(A, 'PARTICIPANT LIST')}


def count():
    return int(env.pg.scalar('SELECT count(*) FROM roster.participant'))


def write(name, text, encoding='utf-8', bom=b''):
    path = os.path.join(env.tmp, name)
    with open(path, 'wb') as f:
        f.write(bom + text.encode(encoding))
    return path


def summary(err):
    """(added, updated, unchanged, refused) of the summary line."""
    m = re.search(r'added (\d+), updated (\d+), unchanged (\d+), '
                  r'refused (\d+)', err)
    return tuple(int(x) for x in m.groups()) if m else None


SEMI = os.path.join(DATA, 'excel-semicolon.csv')
UNI = os.path.join(DATA, 'excel-unicode.txt')
CP = os.path.join(DATA, 'excel-cp1252.csv')

with h.section('Excel CSV: a BOM, ";", CRLF, First name / Last name'):
    res = cli('import', 'participants', SEMI)
    h.ok(res[0] == 0 and summary(res[2]) == (3, 0, 0, 0), 'added 3',
         *show(*res))
    got = people()
    ivan = got.get('Алексей Иванов', {})
    h.is_((ivan.get('party'), ivan.get('family'), ivan.get('email'),
           ivan.get('title')),
          ('TR', 'Иванов', 'ivanov@tr.example', 'Adviser'),
          'name = first + last, family = last, "Türkiye " is TR, the '
          'e-mail trimmed')
    zs = got.get('Zsófia Kovács', {})
    h.is_((zs.get('party'), zs.get('email'), zs.get('title')),
          ('HU', 'zsofia@hu.example', 'Head of Unit'),
          '"Hungary" is HU; e-mail and title trimmed')
    h.is_(got.get('Ayşe Öztürk', {}).get('title'), 'Director; Migration',
          'a quoted ";" inside a cell')

with h.section('Unicode text: UTF-16LE with a BOM, TAB, French headers'):
    res = cli('import', 'participants', UNI)
    h.ok(res[0] == 0 and summary(res[2]) == (3, 0, 0, 0), 'added 3',
         *show(*res))
    got = people()
    h.is_([(got.get(n, {}).get('party'), got.get(n, {}).get('honorific'),
            got.get(n, {}).get('title'))
           for n in ('Xiaoming Wang', 'Éva Szabó', 'Mehmet Yılmaz')],
          [('TR', 'M.', 'Conseiller'), ('HU', 'Mme', 'Cheffe de bureau'),
           ('TR', 'Dr', 'Expert, "return"')],
          'Prénom/Nom/Pays/Courriel/Fonction/Civilité; turkiye, HUNGARY '
          'and TÜRKIYE are parties')
    h.is_(got.get('Éva Szabó', {}).get('family'), 'Szabó',
          'Nom is the family name')

with h.section('ISO\'s names of a country, and Turkey'):
    h.must(A, 'DELEGATION REGISTER event=IMP party=KR')
    res = cli('import', 'participants', write('iso.csv',
              'name,party\nKim Min-jun,"Korea, Republic of"\n'
              'Lee Ji-woo,south korea\nKemal Turk,Turkey\n'))
    got = people()
    h.ok(res[0] == 0 and summary(res[2]) == (3, 0, 0, 0) and
         [got.get(n, {}).get('party') for n in ('Kim Min-jun', 'Lee Ji-woo',
                                                 'Kemal Turk')] ==
         ['KR', 'KR', 'TR'], 'ISO\'s short name, the common name, Turkey',
         *show(*res))

with h.section('cp1252: refused without --encoding, read with it'):
    before = count()
    res = cli('import', 'participants', CP)
    h.ok(res[0] == 2 and 'line 2 is not UTF-8' in res[2] and
         '--encoding' in res[2], 'without --encoding: refused whole, the '
         'line named, --encoding suggested', *show(*res))
    h.is_(count(), before, 'nothing added')
    res = cli('--encoding', 'cp1252', 'import', 'participants', CP)
    h.ok(res[0] == 0 and summary(res[2]) == (2, 0, 0, 0),
         '--encoding cp1252: added 2', *show(*res))
    got = people()
    h.is_((got.get('François Müller', {}).get('title'),
           got.get('François Müller', {}).get('party'),
           got.get('Zoë Ångström', {}).get('party')),
          ('Budget € officer', 'HU', 'TR'), 'ç, ü, € and Å arrive right')

with h.section('the same files again change nothing'):
    before = count()
    versions = {n: x.get('version') for n, x in people().items()}
    for args, n in ((('import', 'participants', SEMI), 3),
                    (('import', 'participants', UNI), 3),
                    (('--encoding', 'cp1252', 'import', 'participants', CP),
                     2)):
        res = cli(*args)
        h.ok(res[0] == 0 and summary(res[2]) == (0, 0, n, 0),
             '%s: unchanged %d' % (os.path.basename(args[-1]), n),
             *show(*res))
    h.is_(count(), before, 'no participant added')
    h.is_({n: x.get('version') for n, x in people().items()}, versions,
          'no version changed')

with h.section('a corrected title updates that person'):
    old = people()['Алексей Иванов']
    with open(SEMI, 'rb') as f:
        text = f.read()[3:].decode('utf-8')
    fixed = write('fixed.csv', text.replace('Adviser', 'Senior Adviser'),
                  bom=b'\xef\xbb\xbf')
    res = cli('import', 'participants', fixed)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 1, 2, 0),
         'updated 1, unchanged 2', *show(*res))
    got = [x for x in h.records(A, 'PARTICIPANT LIST')
           if x.get('name') == 'Алексей Иванов']
    h.is_(len(got), 1, 'still one Алексей Иванов')
    new = got[0] if got else {}
    h.is_((new.get('id'), new.get('title'), new.get('email')),
          (old.get('id'), 'Senior Adviser', 'ivanov@tr.example'),
          'the same id, the new title')
    h.is_(int(new.get('version', 0)), int(old.get('version', 0)) + 1,
          'version + 1')
    res = cli('import', 'participants', fixed)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 0, 3, 0),
         'imported again: unchanged 3', *show(*res))
    # The e-mail address in another case, the name corrected: by e-mail.
    res = cli('import', 'participants', write('renamed.csv',
              'party,name,email\nTR,Alexei Ivanov,IVANOV@TR.EXAMPLE\n'))
    got = people()
    h.ok(res[0] == 0 and summary(res[2]) == (0, 1, 0, 0) and
         'Алексей Иванов' not in got and
         got.get('Alexei Ivanov', {}).get('id') == old.get('id'),
         'matched by e-mail in any case: the name corrected in place',
         *show(*res))

with h.section('a stale version is reported'):
    p = people()['Zsófia Kovács']
    h.must(A, 'PARTICIPANT SET id=%s title="Head of Section"' % p['id'])
    path = write('stale.csv', 'id,version,party,name,title\n'
                 '%s,%s,HU,Zsófia Kovács,Director\n' % (p['id'],
                                                       p['version']))
    res = cli('import', 'participants', path)
    h.ok(res[0] == 1 and summary(res[2]) == (0, 0, 0, 1) and
         re.search(r'line 2 \(Zsófia Kovács\): CONFLICT', res[2]),
         'version= of the file is stale: CONFLICT for line 2, with the '
         'name', *show(*res))
    h.is_(people()['Zsófia Kovács'].get('title'), 'Head of Section',
          'the title set meanwhile stays')
    path = write('fresh.csv', 'id,party,name,title\n'
                 '%s,HU,Zsófia Kovács,Director\n' % p['id'])
    res = cli('import', 'participants', path)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 1, 0, 0) and
         people()['Zsófia Kovács'].get('title') == 'Director',
         'by id without version: the listed version, updated', *show(*res))

with h.section('refused rows name the line, the person and the value'):
    before = count()
    path = write('bad.csv', 'name;party;email\n'
                 'Kemal Yildiz;TR;ivanov@\n'
                 'Nora Nilsen;Narnia;nora@example.org\n'
                 'Pál Kiss;hu;pal@hu.example\n'
                 'Pál Kiss Jr;HU;PAL@hu.example\n')
    res = cli('import', 'participants', path)
    err = res[2]
    h.ok(res[0] == 1 and summary(err) == (1, 0, 0, 3), 'added 1, refused 3',
         *show(*res))
    h.ok('line 2 (Kemal Yildiz): email: "ivanov@" is not an e-mail '
         'address' in err, 'the server\'s message with the value',
         *show(*res))
    h.ok('line 3 (Nora Nilsen): party: "Narnia" is no party\'s code or '
         'name' in err, 'an unknown party, with its value', *show(*res))
    h.ok('line 5 (Pál Kiss Jr): email: "PAL@hu.example" is on line 4 too'
         in err, 'an e-mail address twice in the file', *show(*res))
    h.is_(count(), before + 1, 'only the good row added')

with h.section('the dry run counts and changes nothing'):
    before = count()
    versions = {n: x.get('version') for n, x in people().items()}
    path = write('dry.csv', 'Name,Country,E-mail,Title\n'
                 'Dry New,TR,dry.new@tr.example,Observer\n'
                 'Ayşe Öztürk,TR,ayse@tr.example,Deputy Director\n'
                 'Xiaoming Wang,TR,wang@tr.example,Conseiller\n'
                 'Dry Bad,TR,not-an-address,x\n')
    rc, out, err = cli('--dry-run', 'import', 'participants', path)
    h.ok(rc == 1 and 'would add 1, update 1, leave 1 unchanged, refuse 1'
         in err, 'would add 1, update 1, leave 1 unchanged, refuse 1',
         *show(rc, out, err))
    h.is_(count(), before, 'nobody added')
    h.is_({n: x.get('version') for n, x in people().items()}, versions,
          'nobody changed')

with h.section('unknown columns: refused whole, or skipped'):
    before = count()
    path = write('extra.csv', 'name,party,email,Phone\n'
                 'Extra One,TR,extra1@tr.example,+90 312 000\n'
                 'Extra Two,HU,extra2@hu.example,+36 1 000\n')
    res = cli('import', 'participants', path)
    h.ok(res[0] == 2 and 'unknown column "Phone"' in res[2] and
         '--ignore-unknown' in res[2], 'refused whole, the column named',
         *show(*res))
    h.is_(count(), before, 'nothing added')
    res = cli('--ignore-unknown', 'import', 'participants', path)
    h.ok(res[0] == 0 and summary(res[2]) == (2, 0, 0, 0) and
         res[2].count('"Phone"') == 1,
         '--ignore-unknown: added 2, the column reported once', *show(*res))
    res = cli('import', 'participants', write('nohead.csv',
              'name,party,\nExtra One,TR,+90 312 000\nExtra Two,HU,\n'))
    h.ok(res[0] == 0 and summary(res[2]) == (0, 0, 2, 0) and
         'column 3 has no header: its cells are left out' in res[2],
         'a column without a header: its cells left out, and said so',
         *show(*res))
    res = cli('--map', 'Phone=', 'import', 'participants', path)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 0, 2, 0),
         '--map "Phone=" leaves it out too (and nothing changed)',
         *show(*res))

with h.section('--map'):
    path = write('map.csv', 'Vorname;Nachname;Land;Mail\n'
                 'Jürgen;Schmidt;Hungary;juergen@hu.example\n')
    res = cli('import', 'participants', path)
    h.ok(res[0] == 2 and 'unknown column "Vorname"' in res[2],
         'German headers are unknown', *show(*res))
    res = cli('--map', 'Vorname=given,Nachname=family, Land=party',
              'import', 'participants', path)
    got = people().get('Jürgen Schmidt', {})
    h.ok(res[0] == 0 and summary(res[2]) == (1, 0, 0, 0) and
         (got.get('family'), got.get('party'), got.get('email')) ==
         ('Schmidt', 'HU', 'juergen@hu.example'),
         'mapped: given + family, party by name, Mail known', *show(*res))
    res = cli('--map', 'Vorname', 'import', 'participants', path)
    h.ok(res[0] == 2 and 'HEADER=KEY' in res[2], 'a bad --map: exit 2',
         *show(*res))

with h.section('delegations and sessions: updated by party and code'):
    path = write('deleg.csv', 'Country;Quota;Note\r\nTürkiye;20;\r\n'
                 'hungary;12;Arrives Sunday\r\n', bom=b'\xef\xbb\xbf')
    old = {x['party']: x for x in h.records(A, 'DELEGATION LIST')}
    res = cli('import', 'delegations', path)
    new = {x['party']: x for x in h.records(A, 'DELEGATION LIST')}
    h.ok(res[0] == 0 and summary(res[2]) == (0, 1, 1, 0), 'updated 1, '
         'unchanged 1', *show(*res))
    h.is_((new['HU'].get('quota'), new['HU'].get('note'),
           int(new['HU']['version']) - int(old['HU']['version']),
           new['TR']['version'] == old['TR']['version']),
          ('12', 'Arrives Sunday', 1, True),
          'HU\'s quota and note set (version + 1), TR left alone')
    sess = write('sessions.csv',
                 'code,kind,title,starts,ends,room,capacity\n'
                 'open,plenary,Opening,2025-11-26T09:30,2025-11-26T10:30,'
                 'Hall A,100\n'
                 'twg,working_group,Return,2025-11-27T09:30,'
                 '2025-11-27T12:00,Room 2,40\n')
    res = cli('import', 'sessions', sess)
    h.ok(res[0] == 0 and summary(res[2]) == (2, 0, 0, 0), 'sessions: added 2',
         *show(*res))
    res = cli('import', 'sessions', sess)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 0, 2, 0),
         'again: unchanged 2 (times compared without the offset)',
         *show(*res))
    with open(sess) as f:
        moved = f.read().replace('Hall A,100', 'Hall B,120')
    res = cli('import', 'sessions', write('sessions2.csv', moved))
    got = {x['code']: x for x in h.records(A, 'SESSION LIST')}
    h.ok(res[0] == 0 and summary(res[2]) == (0, 1, 1, 0) and
         (got['open'].get('room'), got['open'].get('capacity')) ==
         ('Hall B', '120'), 'a new room and capacity: SESSION SET',
         *show(*res))
    spk = write('speakers.csv', 'session,participant_name,role\n'
                'open,Ayşe Öztürk,chair\n')
    res = cli('import', 'speakers', spk)
    h.ok(res[0] == 0 and summary(res[2]) == (1, 0, 0, 0), 'a speaker added',
         *show(*res))
    res = cli('import', 'speakers', spk)
    h.ok(res[0] == 0 and summary(res[2]) == (0, 0, 1, 0),
         'again: unchanged', *show(*res))

with h.section('a focal point corrects its own people'):
    path = write('focal.csv', 'E-mail,Title,Name,Country\n'
                 'ayse@tr.example,Head of Department,Ayşe Öztürk,TR\n'
                 'kemal@tr.example,Expert,Kemal Focal,TR\n')
    before = count()
    res = cli('import', 'participants', path, user='ftr')
    got = people()
    h.ok(res[0] == 0 and summary(res[2]) == (1, 1, 0, 0) and
         got['Ayşe Öztürk'].get('title') == 'Head of Department' and
         count() == before + 1, 'focal TR: updated 1, added 1',
         *show(*res))
    res = cli('import', 'participants', write('focal-hu.csv',
              'name,party,email\nZsófia Kovács,HU,zsofia@hu.example\n'),
              user='ftr')
    h.ok(res[0] == 1 and 'FORBIDDEN' in res[2] and
         summary(res[2]) == (0, 0, 0, 1),
         'another party\'s row: refused, nothing learnt of HU',
         *show(*res))

with h.section('a name that two parties have is ambiguous'):
    h.must(A, 'PARTY ADD code=HUORG kind=organisation name=HUNGARY')
    res = cli('import', 'participants', write('amb.csv',
              'name,party\nAmbi Guous,Hungary\nCode Wins,HU\n'))
    h.ok(res[0] == 1 and summary(res[2]) == (1, 0, 0, 1) and
         'line 2 (Ambi Guous): party: "Hungary" is the name of 2 parties'
         in res[2], 'refused, the code asked for; a code still works',
         *show(*res))

h.done_testing()
