"""test_names.py -- a participant's family= and latin= (PROTOCOL.md
section 5): family is what lists sort by (the whole name when absent);
latin is given, or derived by rosterd with ICU when the name is not in
Latin script (Cyrillic, Arabic, Greek, Chinese), the same each time and in
ASCII; a Latin name gets none unless given; SET latin="" clears; a new
name= on SET derives again. LIST and the exports sort a delegation by
family name in the collation; the CSV exports carry family and latin as
their last columns; a focal point still sees only their own party's."""

import csv
import io
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, F, FH = roles.A, roles.S, roles.F, roles.FH

IVAN = 'Иван Петров'
MUHAMMAD = 'محمد علي'
GREEK = 'Γιώργος Παπαδόπουλος'
CHINESE = '王小明'
NON_LATIN = (IVAN, MUHAMMAD, GREEK, CHINESE)
ID = {}


def part(pid):
    return h.show(A, 'PARTICIPANT SHOW id=%s' % pid)


def ascii_name(s):
    return (s is not None and s != '' and all(32 <= ord(c) < 127 for c in s)
            and any(c.isalpha() for c in s))


def parse_csv(lines):
    text = '\n'.join(lines) + '\n'
    rows = list(csv.reader(io.StringIO(text, newline=''), strict=True))
    return (rows[0] if rows else None), rows[1:]


with h.section('set-up: event E1, delegations HU, RS, TR'):
    h.event(A, 'E1')
    for c in (A, S, F, FH):
        h.must(c, 'USE event=E1', event='E1')
    for party in ('HU', 'RS', 'TR'):
        h.must(A, 'DELEGATION REGISTER party=%s' % party)

with h.section('HELP: ADD and SET take family= and latin= as names'):
    for cmd in ('PARTICIPANT ADD', 'PARTICIPANT SET'):
        rec = [x for x in h.records(A, 'HELP')
               if x.get('command') == cmd]
        keys = rec[0].get('keys', '').split() if rec else []
        h.ok('family:name' in keys and 'latin:name' in keys,
             '%s: keys family:name and latin:name' % cmd, '    %r' % keys)

with h.section('ADD with and without family='):
    r = h.write(A, 'PARTICIPANT ADD party=HU name="Anna Szabó" '
                'family=Szabó', 'ADD with family=')
    ID['anna'] = r.fields.get('id')
    p = part(ID['anna'])
    h.is_(p.get('family'), 'Szabó', 'family= is stored')
    h.ok('latin' not in p, 'a Latin name gets no latin form')
    r = h.write(A, 'PARTICIPANT ADD party=HU name="Zoltán Kovács" '
                'family=Kovács', 'ADD a second with family=')
    ID['zoltan'] = r.fields.get('id')
    r = h.write(A, 'PARTICIPANT ADD party=HU name="Béla Nagy"',
                'ADD without family=')
    ID['bela'] = r.fields.get('id')
    p = part(ID['bela'])
    h.ok('family' not in p, 'no family= given: none stored')
    r = h.write(A, 'PARTICIPANT ADD party=HU name="Mária Tóth" '
                'family=Tóth latin="Maria Toth"', 'ADD a Latin name with latin=')
    ID['maria'] = r.fields.get('id')
    h.is_(part(ID['maria']).get('latin'), 'Maria Toth',
          'latin= given for a Latin name is kept')

with h.section('LIST sorts a delegation by family name'):
    names = [x.get('name') for x in h.records(A, 'PARTICIPANT LIST party=HU')]
    # Béla Nagy sorts as his whole name (B...), before Kovács and Szabó.
    h.is_(names, ['Béla Nagy', 'Zoltán Kovács', 'Anna Szabó', 'Mária Tóth'],
          'by family name (the whole name when none), in the collation')
    h.write(A, 'PARTICIPANT SET id=%s family=Zsigmond' % ID['bela'],
            'SET family=')
    names = [x.get('name') for x in h.records(A, 'PARTICIPANT LIST party=HU')]
    h.is_(names, ['Zoltán Kovács', 'Anna Szabó', 'Mária Tóth', 'Béla Nagy'],
          'SET family= moves him to Z')
    h.write(A, 'PARTICIPANT SET id=%s family=""' % ID['bela'],
            'SET family="" clears')
    h.ok('family' not in part(ID['bela']), 'family is gone')
    names = [x.get('name') for x in h.records(A, 'PARTICIPANT LIST party=HU')]
    h.is_(names[0], 'Béla Nagy', 'and he sorts by his whole name again')

with h.section('names in other scripts get a Latin form'):
    for name in NON_LATIN:
        r = h.write(A, 'PARTICIPANT ADD party=RS name=%s' % h.quote(name),
                    'ADD %s' % name)
        ID[name] = r.fields.get('id')
        latin = part(ID[name]).get('latin')
        h.ok(ascii_name(latin), '%s: latin derived, ASCII: %r'
             % (name, latin))
    h.is_(part(ID[IVAN]).get('latin'), 'Ivan Petrov',
          'Иван Петров is Ivan Petrov')
    h.is_(part(ID[CHINESE]).get('latin'), 'Wang Xiao Ming',
          '王小明 is Wang Xiao Ming (capitals for a caseless script)')
    # The same name added again gets the same form.
    r = h.must(A, 'PARTICIPANT ADD party=TR name=%s' % h.quote(MUHAMMAD))
    h.is_(part(r.fields['id']).get('latin'), part(ID[MUHAMMAD]).get('latin'),
          'the derivation is stable')
    ID['muhammad2'] = r.fields['id']
    mixed = 'Ivan Петров'
    r = h.must(A, 'PARTICIPANT ADD party=RS name=%s' % h.quote(mixed))
    h.is_(part(r.fields['id']).get('latin'), 'Ivan Petrov',
          'a name partly in Cyrillic is derived too')

with h.section('latin= given is kept; SET latin="" clears; name= derives'):
    r = h.write(A, 'PARTICIPANT ADD party=RS name=%s latin="Ivan Petroff"'
                % h.quote('Иван Петров'), 'ADD with latin=')
    pid = r.fields.get('id')
    h.is_(part(pid).get('latin'), 'Ivan Petroff', 'latin= is not replaced')
    h.write(A, 'PARTICIPANT SET id=%s latin=""' % pid, 'SET latin=""')
    h.ok('latin' not in part(pid), 'latin is cleared')
    h.write(A, 'PARTICIPANT SET id=%s name=%s' % (pid, h.quote('Пётр Иванов')),
            'SET name= in Cyrillic')
    h.ok(ascii_name(part(pid).get('latin')), 'the new name is derived: %r'
         % part(pid).get('latin'))
    h.write(A, 'PARTICIPANT SET id=%s name="Peter Ivanov"' % pid,
            'SET name= in Latin script')
    h.ok('latin' not in part(pid), 'a Latin name= clears the derived form')
    h.write(A, 'PARTICIPANT SET id=%s name=%s latin="P. Ivanov"'
            % (pid, h.quote('Пётр Иванов')), 'SET name= with latin=')
    h.is_(part(pid).get('latin'), 'P. Ivanov', 'latin= given wins')
    r = h.write(A, 'PARTICIPANT ADD party=RS name=%s latin=""'
                % h.quote('Ольга Смирнова'), 'ADD latin="" asks for none')
    h.ok('latin' not in part(r.fields.get('id')), 'no latin stored')
    r = A.request('PARTICIPANT ADD party=RS name=%s dry_run=yes'
                  % h.quote(GREEK))
    h.ok(r.ok, 'a dry run of an ADD to derive: %s' % r.final)

with h.section('exports: family and latin are the last columns'):
    r = S.request('EXPORT what=participants party=HU', timeout=60)
    header, rows = parse_csv(r.data)
    h.is_((header or [])[-2:], ['family', 'latin'],
          'participants: family, latin at the end')
    h.is_((header or [])[:11], ['party', 'delegation', 'kind', 'id',
                                'honorific', 'name', 'title', 'email',
                                'role', 'status', 'badge'],
          'the older columns keep their place')
    col = {k: i for i, k in enumerate(header or [])}
    h.is_([x[col['name']] for x in rows],
          ['Béla Nagy', 'Zoltán Kovács', 'Anna Szabó', 'Mária Tóth'],
          'the export sorts by family name')
    h.is_([x[col['family']] for x in rows], ['', 'Kovács', 'Szabó', 'Tóth'],
          'family in its column')
    r = S.request('EXPORT what=participants party=RS', timeout=60)
    header, rows = parse_csv(r.data)
    col = {k: i for i, k in enumerate(header or [])}
    got = {x[col['name']]: x[col['latin']] for x in rows}
    h.is_(got.get(IVAN), 'Ivan Petrov', 'latin in its column')
    for what in ('attendance', 'speakers', 'enrolments'):
        r = S.request('EXPORT what=%s' % what, timeout=60)
        header, rows = parse_csv(r.data)
        h.is_((header or [])[-2:], ['family', 'latin'],
              '%s: family, latin at the end' % what)
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title=Opening '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:00')
    h.must(A, 'ENROL session=S1 participant=%s' % ID['zoltan'])
    h.must(A, 'SPEAKER ADD session=S1 participant=%s' % ID[IVAN])
    r = S.request('EXPORT what=enrolments', timeout=60)
    header, rows = parse_csv(r.data)
    h.is_([x[-2:] for x in rows], [['Kovács', '']], 'enrolments: the forms')
    r = S.request('EXPORT what=speakers', timeout=60)
    header, rows = parse_csv(r.data)
    h.is_([x[-1] for x in rows], ['Ivan Petrov'], 'speakers: latin')

with h.section('ROSTER, SPEAKER LIST, CHECKIN and WATCH carry the forms'):
    h.must(A, 'ENROL session=S1 participant=%s' % ID[IVAN])
    got = {x.get('participant'): (x.get('family'), x.get('latin'))
           for x in h.records(S, 'ROSTER session=S1')}
    h.is_(got, {ID['zoltan']: ('Kovács', None),
                ID[IVAN]: (None, 'Ivan Petrov')},
          'ROSTER records: family and latin')
    recs = h.records(S, 'SPEAKER LIST session=S1')
    h.is_([(x.get('participant'), x.get('latin')) for x in recs],
          [(ID[IVAN], 'Ivan Petrov')], 'SPEAKER LIST records: latin')
    recs = h.records(F, 'SPEAKER LIST session=S1')
    h.is_([sorted(x) for x in recs],
          [['party', 'position', 'role', 'session']],
          'a focal point of another party gets no name, family nor latin')
    W = rd.login('admin', use='E1')
    h.must(W, 'WATCH')
    r = h.must(A, 'CHECKIN id=%s' % ID[IVAN])
    h.is_(r.fields.get('latin'), 'Ivan Petrov', 'CHECKIN answers latin=')
    kind, note = h.read_note(W)
    h.is_((kind, note.get('name'), note.get('latin')),
          ('checkin', IVAN, 'Ivan Petrov'), '! checkin carries latin=')
    h.write(A, 'PARTICIPANT SET id=%s name=%s' % (ID[IVAN],
                                                  h.quote('Иван Петрович')),
            'a new name')
    kind, note = h.read_note(W)
    h.is_((kind, note.get('latin')), ('participant.updated', 'Ivan Petrovic'),
          '! participant.updated carries the new latin=')
    h.write(A, 'PARTICIPANT SET id=%s name=%s' % (ID[IVAN], h.quote(IVAN)),
            'the name back')
    r = h.must(A, 'CHECKIN id=%s' % ID['zoltan'])
    h.ok('latin' not in r.fields, 'a Latin name: CHECKIN without latin=',
         '    %r' % r.final)
    W.close()

with h.section('roster import participants takes family and latin'):
    path = os.path.join(env.tmp, 'names.csv')
    with open(path, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows([
            ['party', 'name', 'family', 'latin'],
            ['TR', 'Ayşe Öztürk', 'Öztürk', ''],
            ['TR', 'Олег Сидоров', 'Сидоров', 'Oleg Sidorov'],
            ['TR', 'Нина Орлова', '', '']])
    rc, out, err = env.cli(rd, '--event', 'E1', 'import', 'participants',
                           path, user='admin', password=h.PASSWORD)
    h.ok(rc == 0 and 'added 3,' in err, 'import: 3 added', '    %r' % err)
    got = {x.get('name'): (x.get('family'), x.get('latin'))
           for x in h.records(A, 'PARTICIPANT LIST party=TR')}
    h.is_(got.get('Ayşe Öztürk'), ('Öztürk', None), 'family from its column')
    h.is_(got.get('Олег Сидоров'), ('Сидоров', 'Oleg Sidorov'),
          'latin from its column')
    h.is_(got.get('Нина Орлова'), (None, 'Nina Orlova'),
          'an empty cell is left out: latin derived')
    IMPORTED = ['Ayşe Öztürk', 'Олег Сидоров', 'Нина Орлова']

with h.section('focal isolation is unchanged'):
    recs = h.records(F, 'PARTICIPANT LIST')
    h.is_(sorted({x.get('party') for x in recs}), ['TR'],
          'focal TR lists only TR')
    h.is_([x.get('latin') for x in recs if x.get('name') not in IMPORTED],
          [part(ID['muhammad2']).get('latin')], 'with the Latin form')
    r = F.request('PARTICIPANT SHOW id=%s' % ID[IVAN])
    h.err_reply(r, 'NOT_FOUND', 'focal TR cannot show RS\'s participant')
    h.refused(F, 'PARTICIPANT SET id=%s latin=x' % ID[IVAN], 'NOT_FOUND',
              'nor set its latin=')
    h.refused(FH, 'PARTICIPANT ADD party=RS name=%s' % h.quote(IVAN),
              'FORBIDDEN', 'focal HU cannot add to RS')

h.done_testing()
