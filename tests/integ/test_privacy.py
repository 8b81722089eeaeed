"""test_privacy.py -- privacy in the data (issue 7, items 7, 10 and 13):

- refs are scoped to a party (PROTOCOL.md section 5): a focal point that
  sends another party's ref= creates its own thing, and learns nothing of
  the other's; a dry run of it answers as for an unused ref; a ref cannot
  be claimed ahead of another party;
- `roster import` keys the refs of its rows with the event's import key
  (EVENT SHOW import_key=): a ref is not a hash of the row that anyone can
  recompute, and an import run again still adds nothing;
- after PARTICIPANT ERASE, neither a pg_dump of the database nor
  PostgreSQL's log holds anything of the person (name, honorific, title,
  e-mail addresses, topic, reason, nor their SHA-256 or MD5), though they
  had audit rows, an import ref, a speaker's topic, an enrolment and failed
  dry runs; no dry run writes a password hash into the log;
- every function of schema roster sets its search_path;
- SPEAKER LIST shows a focal point the topics of its own party's speakers
  only;
- exports write a free-text cell that begins with = + - or @ with a ' in
  front (PROTOCOL.md section 7), and every other cell exactly."""

import csv
import hashlib
import hmac
import io
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('ftr', 'focal', 'TR'), ('fhu', 'focal', 'HU')])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
pg = env.pg
A = rd.login('admin')
h.event(A, 'P1')
h.must(A, 'USE event=P1')
for party in ('TR', 'HU'):
    h.must(A, 'DELEGATION REGISTER party=%s' % party)
h.must(A, 'SESSION CREATE code=S1 kind=plenary title=Opening '
       'starts=2025-11-26T09:00 ends=2025-11-26T10:00')
h.must(A, 'SESSION CREATE code=S2 kind=panel title=Panel '
       'starts=2025-11-26T11:00 ends=2025-11-26T12:00')
FT = rd.login('ftr', cls=h.RecordingClient, use='P1')
FH = rd.login('fhu', cls=h.RecordingClient, use='P1')


def cli(*args):
    rc, out, err = env.cli(rd, *args, user='admin', password=h.PASSWORD)
    return rc, out, err


def write_csv(name, rows):
    path = os.path.join(env.tmp, name)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows(rows)
    return path


def row_digest(kind, header, row):
    """The first 16 bytes of SHA-256 over the kind and the row's columns in
    name order: what the 0.1 CLI put in its refs (imp-<hex>)."""
    content = kind.encode() + b'\0'
    for name, cell in sorted(zip(header, row)):
        content += name.encode() + b'\0' + cell.encode() + b'\0'
    return hashlib.sha256(content).digest()[:16]


def old_ref(kind, header, row):
    return 'imp-' + row_digest(kind, header, row).hex()


def keyed_ref(key, kind, header, row):
    return 'imp-' + hmac.new(key, row_digest(kind, header, row),
                             hashlib.sha256).hexdigest()[:32]


def refs():
    return {r[0] for r in pg.query('SELECT ref FROM roster.request_ref')}


with h.section('refs are scoped to the party'):
    r = h.write(FH, 'PARTICIPANT ADD party=HU name="Hanna Kertesz" '
                'email=hanna@hu.example ref=shared-1', 'focal HU adds with '
                'ref=shared-1', party='HU')
    HANNA, HANNA_BADGE = r.fields.get('id'), r.fields.get('badge')
    before = env.audit_count()
    used = FT.request('PARTICIPANT ADD party=TR name="Tarik Aydin" '
                      'ref=shared-1 dry_run=yes')
    fresh = FT.request('PARTICIPANT ADD party=TR name="Tarik Aydin" '
                       'ref=never-used dry_run=yes')
    h.ok_reply(used, 'focal TR: a dry run with the ref HU used is answered',
               dry_run='yes', party='TR')
    h.is_(sorted(used.fields), sorted(fresh.fields),
          'the same answer as a dry run with a ref nobody used')
    h.ok('replay' not in used.fields, 'no replay=1')
    h.is_(env.audit_count(), before, 'the dry runs changed nothing')
    r = h.write(FT, 'PARTICIPANT ADD party=TR name="Tarik Aydin" '
                'ref=shared-1', 'focal TR adds with ref=shared-1: its own '
                'participant', party='TR')
    TARIK = r.fields.get('id')
    h.ok('replay' not in r.fields and TARIK != HANNA
         and HANNA_BADGE not in r.final,
         'not a replay, and nothing of the HU participant', '    %r' % r.final)
    h.write(FT, 'PARTICIPANT ADD party=TR name="Tarik Aydin" '
            'ref=shared-1', 'focal TR again: the replay of its own', changes=0,
            id=TARIK, party='TR', replay='1')
    h.write(FH, 'PARTICIPANT ADD party=HU name="Hanna Kertesz" '
            'ref=shared-1', 'focal HU again: the replay of its own', changes=0,
            id=HANNA, party='HU', replay='1')
    h.write(A, 'PARTICIPANT ADD party=HU name="Hanna Kertesz" '
            'ref=shared-1', 'staff for HU: the same scope, HU\'s replay',
            changes=0, id=HANNA, replay='1')
    h.write(FT, 'PARTICIPANT ADD party=TR name="Ayse Celik" '
            'ref=hu-next', 'focal TR takes a ref first', party='TR')
    r = h.write(FH, 'PARTICIPANT ADD party=HU name="Hu Person" '
                'ref=hu-next', 'focal HU with the same ref: not pre-claimed',
                party='HU')
    h.ok('replay' not in r.fields, 'a new participant of HU')
    h.is_([A.request('PARTICIPANT LIST party=%s' % p).fields.get('count')
           for p in ('TR', 'HU')], ['2', '2'], 'two participants each')

with h.section('import refs are keyed by the event\'s import key'):
    key_hex = A.request('EVENT SHOW').records[0].get('import_key') or ''
    h.like(key_hex, r'^[0-9a-f]{64}$', 'EVENT SHOW: import_key, 32 bytes')
    h.is_(FT.request('EVENT SHOW').records[0].get('import_key'), key_hex,
          'the focal point reads the same key (its refs are its party\'s)')
    KEY = bytes.fromhex(key_hex) if len(key_hex) == 64 else b''
    header = ['party', 'name', 'email', 'role']
    rows = [['TR', 'Kemal Yildiz', 'kemal@tr.example', 'member'],
            ['HU', 'Zoltan Kovacs', 'zoltan@hu.example', 'member']]
    path = write_csv('people.csv', [header] + rows)
    rc, out, err = cli('--event', 'P1', 'import', 'participants', path)
    h.ok(rc == 0 and '2 rows: added 2,' in err, 'import: 2 added',
         '    %r' % err)
    rc, out, err = cli('--event', 'P1', 'import', 'participants', path)
    h.ok(rc == 0 and 'unchanged 2,' in err, 'again: nothing added',
         '    %r' % err)
    have = refs()
    h.is_([x for x in rows if old_ref('participants', header, x) in have],
          [], 'no ref is the bare SHA-256 of its row')
    h.is_([x for x in rows
           if keyed_ref(KEY, 'participants', header, x) not in have], [],
          'each is the HMAC-SHA256 of it under the event\'s key')

# The person to be erased, and what they leave.
P = {'name': 'Zephyrine Quillfeather', 'honorific': 'Hon. Wxqvz',
     'title': 'Undersecretary for Qzvjy Affairs',
     'email': 'zephyrine.q@tr.example'}
EMAIL2 = 'zq.second@tr.example'
EMAIL3 = 'zq.third@tr.example'
TOPIC = 'Qzvjy fisheries and the Wxqvz accord'
REASON = 'Zqxvk visa delayed'
SECRET = 'a password only in a dry run 1'
header = ['party', 'name', 'honorific', 'title', 'email', 'role']
prow = ['TR', P['name'], P['honorific'], P['title'], P['email'], 'adviser']


def dump():
    return h.run([os.path.join(env.pg.bindir, 'pg_dump'), '-h', '127.0.0.1',
                  '-p', str(env.pg.port), '-U', 'postgres', '-d', 'roster'],
                 env=dict(os.environ, PGCONNECT_TIMEOUT='5')).stdout


def pglog():
    with open(env.pg.logfile, encoding='utf-8', errors='replace') as f:
        return f.read()


def forms(values):
    """Each value as given and in lower case, and the hex SHA-256 and MD5
    of both. (Searched for with their case: a short part in lower case
    could turn up by chance in a lower-cased password hash or badge.)"""
    out = set()
    for v in values:
        out.update((v, v.lower()))
        for w in (v, v.lower()):
            out.add(hashlib.sha256(w.encode()).hexdigest())
            out.add(hashlib.md5(w.encode()).hexdigest())
    return out


with h.section('PARTICIPANT ERASE leaves nothing of the person'):
    path = write_csv('one.csv', [header, prow])
    rc, out, err = cli('--event', 'P1', 'import', 'participants', path)
    h.ok(rc == 0 and 'added 1,' in err, 'imported', '    %r' % err)
    ZID = next((x['id'] for x in A.request('PARTICIPANT LIST party=TR')
                .records if x.get('name') == P['name']), None)
    h.ok(ZID is not None, 'the participant is there')
    for line in ('PARTICIPANT SET id=%s email=%s' % (ZID, EMAIL2),
                 'PARTICIPANT DECLINE id=%s reason=%s' % (ZID, h.quote(REASON)),
                 'PARTICIPANT CONFIRM id=%s' % ZID,
                 'SPEAKER ADD session=S1 participant=%s topic=%s ref=spk-1'
                 % (ZID, h.quote(TOPIC)),
                 'ENROL session=S1 participant=%s' % ZID):
        h.ok(A.request(line).ok, line.split(' ', 2)[0] + ' ' +
             line.split(' ', 2)[1])
    for line, code in (
            ('PARTICIPANT SET id=%s email=%s version=99 dry_run=yes'
             % (ZID, EMAIL3), 'CONFLICT'),
            ('PARTICIPANT ADD party=RS name=%s honorific=%s title=%s '
             'email=%s dry_run=yes' % (h.quote(P['name']), h.quote(P['honorific']),
                                       h.quote(P['title']), P['email']),
             'NOT_FOUND'),
            ('SPEAKER ADD session=S9 participant=%s topic=%s dry_run=yes'
             % (ZID, h.quote(TOPIC)), 'NOT_FOUND'),
            ('USER ADD name=admin role=admin password=%s dry_run=yes'
             % h.quote(SECRET), 'CONFLICT')):
        h.err_reply(A.request(line), code, 'a failed dry run: ' + code)
    h.ok(P['name'] in dump(), 'before ERASE the dump holds the name (the '
         'search below can find it)')
    kref = keyed_ref(KEY, 'participants', header, prow)
    h.ok(kref in refs(), 'and the import ref of their row')
    size = A.request('DELEGATION SHOW party=TR').records[0].get('size')

    h.ok_reply(A.request('PARTICIPANT ERASE id=%s' % ZID), 'ERASE', id=ZID)
    values = list(P.values()) + [EMAIL2, EMAIL3, TOPIC, REASON]
    parts = {'Zephyrine', 'Quillfeather', 'Wxqvz', 'Qzvjy', 'Zqxvk',
             'zephyrine.q', 'zq.second', 'zq.third'}
    text = dump()
    h.is_(sorted(v for v in forms(values) | parts if v in text), [],
          'the dump holds none of their values, their parts, SHA-256 or MD5')
    h.ok(kref not in text and old_ref('participants', header, prow)
         not in text, 'nor the ref of their row, keyed or not')
    log = pglog()
    h.ok(len(log) > 0, 'PostgreSQL\'s log is there (%d bytes)' % len(log))
    h.is_(sorted(v for v in forms(values) | parts if v in log), [],
          'PostgreSQL\'s log holds none of them')
    h.ok('$argon2' not in log and SECRET not in log,
         'nor a password hash (the failed USER ADD dry run)')
    h.is_(A.request('DELEGATION SHOW party=TR').records[0].get('size'),
          size, 'the delegation\'s size is the same')
    h.is_([(x.get('participant'), x.get('name'))
           for x in A.request('ROSTER session=S1').records],
          [(ZID, 'erased')], 'still enrolled, as "erased"')
    h.is_([(x.get('participant'), x.get('topic'))
           for x in A.request('SPEAKER LIST session=S1').records],
          [(ZID, 'erased')], 'still a speaker, topic "erased"')

with h.section('every function sets its search_path'):
    rows = pg.query(
        "SELECT p.oid::regprocedure::text, coalesce(array_to_string("
        "p.proconfig, '|'), '') FROM pg_proc p WHERE p.pronamespace = "
        "'roster'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_depend d "
        "WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND "
        "d.deptype = 'e') ORDER BY 1")
    h.cmp_ok(len(rows), '>', 100, 'the functions of schema roster')
    # The exceptions (sql/functions/core.sql, "Cost"): helpers that are one
    # SQL expression, and a command's function that is one SELECT, STABLE
    # and set-returning (PARTICIPANT SHOW), have no SET, so that PostgreSQL
    # inlines them; they must name every function and table with its
    # schema, and nothing in roster may run with its owner's rights.
    inl = dict(pg.query(
        "SELECT p.oid::regprocedure::text, "
        "translate(p.prosrc, E'\\n\\t', '  ') FROM pg_proc p "
        "WHERE p.pronamespace = 'roster'::regnamespace AND p.proconfig "
        "IS NULL AND p.prolang = (SELECT oid FROM pg_language "
        "WHERE lanname = 'sql') AND p.prokind = 'f' AND "
        "((p.proname LIKE '\\_%' AND NOT p.proretset) OR "
        "(p.proretset AND p.provolatile = 's'))"))
    bad = [name for name, cfg in rows
           if 'search_path=roster, pg_catalog, pg_temp' not in cfg.split('|')
           and name not in inl]
    h.is_(bad, [], 'each has SET search_path = roster, pg_catalog, pg_temp '
          '(or is a helper of one SQL expression, or a command\'s '
          'function that is inlined)')
    h.cmp_ok(len(inl), '>=', 5, 'the functions without SET: %s'
             % ' '.join(sorted(n.split('(')[0] for n in inl)))
    # A command's function without SET is called by the daemon: it must
    # really be inlined into the daemon's statement (no function scan of
    # its own, where it would run with the daemon's search_path).
    commands = [n for n in inl if not n.startswith('roster._')]
    h.is_(sorted(n.split('(')[0] for n in commands),
          ['roster.event_show', 'roster.participant_list',
           'roster.participant_show', 'roster.participant_show_many'],
          'the command functions without SET')
    for name in commands:
        types = name[name.index('(') + 1:-1].split(',')
        plan = '\n'.join(r[0] for r in pg.query(
            'EXPLAIN (FORMAT JSON) SELECT * FROM %s(%s)' % (
                name.split('(')[0],
                ', '.join('NULL::%s' % t for t in types))))
        # (participant_show_many walks its arrays by _ords(), and
        # participant_list looks its party up by _party_by_code(), both
        # with the SET)
        allowed = {'roster.participant_show_many': '_ords',
                   'roster.participant_list': '_party_by_code'}.get(
                       name.split('(')[0], '-')
        funcs = re.findall(r'"Function Name": "(\w+)"', plan)
        h.ok(set(funcs) <= {allowed} and
             plan.count('"Function Scan"') == len(funcs),
             '%s: inlined' % name, plan)
    grammar = {'select', 'case', 'when', 'then', 'else', 'end', 'and', 'or',
               'not', 'in', 'any', 'all', 'exists', 'coalesce', 'nullif',
               'greatest', 'least', 'extract', 'array', 'row', 'cast',
               'from', 'where', 'is', 'null', 'join', 'lateral'}
    loose = []
    for name, src in sorted(inl.items()):
        body = re.sub(r"'(?:[^']|'')*'", "''", src)
        body = re.sub(r'(?i)\bas\s+\w+\s*\(', 'AS ', body)  # a(x, y)
        for m in re.finditer(r'(?<![.\w])([A-Za-z_]\w*)\s*\(', body):
            if m.group(1).lower() not in grammar:
                loose.append('%s: %s(' % (name, m.group(1)))
        # (LATERAL before a subquery; before a function, that function's
        # name is checked above)
        for m in re.finditer(r'(?i)\b(?:from|join)\s+(?!lateral\b)'
                             r'([A-Za-z_]\w*)\b(?!\.)', body):
            if m.group(1).lower() not in ('epoch', 'rows'):
                loose.append('%s: FROM %s' % (name, m.group(1)))
    h.is_(loose, [], 'they name every function and table with its schema')
    # and a helper of one expression is really inlined where it is called
    # (one that is not is parsed and planned again at every run of its
    # caller's statement: a function of SQL that returns void, or one
    # declared IMMUTABLE over a STABLE expression, is not)
    helpers = pg.query(
        "SELECT p.oid::regprocedure::text, p.proname, "
        "array_to_string(p.proargtypes::regtype[], ','), p.provariadic <> 0 "
        "FROM pg_proc p WHERE p.pronamespace = 'roster'::regnamespace AND "
        "p.proconfig IS NULL AND p.prolang = (SELECT oid FROM pg_language "
        "WHERE lanname = 'sql') AND p.prokind = 'f' AND "
        "p.proname LIKE '\\_%' AND NOT p.proretset")
    called = []
    for sig, fname, types, variadic in helpers:
        types = types.split(',') if types else []
        args = ['x.c%d' % i for i in range(len(types))]
        if variadic == 't':
            args[-1] = 'VARIADIC ' + args[-1]
        plan = '\n'.join(r[0] for r in pg.query(
            'EXPLAIN (VERBOSE, COSTS OFF) SELECT roster.%s(%s) FROM '
            '(SELECT %s OFFSET 0) x(%s)' % (
                fname, ', '.join(args),
                ', '.join('NULL::%s' % t for t in types) or '1',
                ', '.join('c%d' % i for i in range(len(types))) or 'c')))
        if ('roster.%s(' % fname) in plan:
            called.append(sig)
    h.cmp_ok(len(helpers), '>=', 10, 'the helpers of one expression')
    h.is_(called, [], 'each is inlined into the statement that calls it')
    h.is_(pg.query("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE "
                   "p.pronamespace = 'roster'::regnamespace AND p.prosecdef"),
          [], 'no function of roster is SECURITY DEFINER')

with h.section('SPEAKER LIST: a focal point sees its own speakers\' topics'):
    for pid, topic in ((HANNA, 'Hungarian border position'),
                       (TARIK, 'Turkish migration view')):
        h.must(A, 'SPEAKER ADD session=S2 participant=%s topic=%s'
               % (pid, h.quote(topic)))
    for conn, own, other in ((FT, 'TR', 'HU'), (FH, 'HU', 'TR')):
        recs = conn.request('SPEAKER LIST session=S2').records
        got = {x.get('party'): x.get('topic') for x in recs}
        h.is_(sorted(got), ['HU', 'TR'], 'focal %s: both speakers' % own)
        h.ok(got.get(own) is not None, 'focal %s: its own speaker\'s topic'
             % own)
        h.is_(got.get(other), None, 'focal %s: no topic of %s\'s speaker'
              % (own, other))
    h.ok(b'Hungarian border position' not in bytes(FT.raw),
         'focal TR never received the HU topic')
    got = {x.get('party'): x.get('topic')
           for x in A.request('SPEAKER LIST session=S2').records}
    h.is_(got, {'HU': 'Hungarian border position',
                'TR': 'Turkish migration view'}, 'staff see both topics')


def export(line):
    r = A.request(line)
    sep = '\t' if 'format=tsv' in line else ','
    rows = list(csv.reader(io.StringIO('\n'.join(r.data), newline=''),
                           delimiter=sep))
    if not r.ok or not rows:
        return []
    return [dict(zip(rows[0], x)) for x in rows[1:]]


with h.section('exports: cells that a spreadsheet would run as formulas'):
    r = h.must(A, 'PARTICIPANT ADD party=TR name="=1+2" honorific="+Hon" '
               'title="-Head" email=plain@tr.example')
    FID = r.fields['id']
    r = h.must(A, 'PARTICIPANT ADD party=TR name="@Ali=Veli+" '
               'title="Director-General"')
    OID = r.fields['id']
    h.must(A, 'DELEGATION SET party=HU note="@SUM(A1)"')
    h.must(A, 'SPEAKER ADD session=S2 participant=%s topic="=topic()"' % FID)
    h.must(A, 'SESSION SET session=S2 theme="-theme" room="+room"')
    for fmt in ('csv', 'tsv'):
        got = {x['id']: x for x in export('EXPORT what=participants '
                                          'party=TR format=%s' % fmt)}
        f, o = got.get(FID, {}), got.get(OID, {})
        h.is_((f.get('name'), f.get('honorific'), f.get('title'),
               f.get('email')), ("'=1+2", "'+Hon", "'-Head",
                                 'plain@tr.example'),
              '%s participants: name, honorific, title with a \' '
              'in front, the e-mail exact' % fmt)
        h.is_((o.get('name'), o.get('title')),
              ("'@Ali=Veli+", 'Director-General'),
              '%s: "@" too; "=", "+" and "-" inside a cell stay' % fmt)
    got = {x['id']: x for x in export('EXPORT what=attendance party=TR')}
    h.is_(got.get(FID, {}).get('name'), "'=1+2", 'attendance: the name')
    got = {x['party']: x for x in export('EXPORT what=delegations')}
    h.is_(got.get('HU', {}).get('note'), "'@SUM(A1)", 'delegations: note')
    got = {x['participant']: x for x in export('EXPORT what=speakers '
                                               'session=S2')}
    h.is_((got.get(FID, {}).get('topic'), got.get(FID, {}).get('name')),
          ("'=topic()", "'=1+2"), 'speakers: topic and name')
    got = {x['code']: x for x in export('EXPORT what=sessions')}
    h.is_((got.get('S2', {}).get('theme'), got.get('S2', {}).get('room')),
          ("'-theme", "'+room"), 'sessions: theme and room')
    h.must(A, 'ENROL session=S2 participant=%s' % FID)
    got = {x['participant']: x for x in export('EXPORT what=enrolments')}
    h.is_(got.get(FID, {}).get('name'), "'=1+2", 'enrolments: the name')
    h.is_(A.request('PARTICIPANT SHOW id=%s' % FID).records[0].get('name'),
          '=1+2', 'the data itself is unchanged')

with h.section('an inlined command uses no operator of the caller\'s path'):
    # PARTICIPANT LIST runs without a SET of its own, with the daemon's
    # search_path ("$user", public): an operator on one of roster's
    # domains in public would be a better match than the catalog's on
    # text, and run in its place
    types = ('roster.participant_role_t', 'roster.participant_status_t')
    for t in types:
        pg.query("""CREATE FUNCTION public.op_hijack(%s, text)
            RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN
                RAISE EXCEPTION 'hijacked';
            END $$""" % t)
    ops = [(op, t) for op in ('=', '<>') for t in types]
    for op, t in ops:
        pg.query('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = '
                 'text, FUNCTION = public.op_hijack)' % (op, t))
    for line in ('PARTICIPANT LIST party=TR',
                 'PARTICIPANT LIST party=TR status=registered role=member',
                 'PARTICIPANT LIST status=registered role=head'):
        r = A.request(line)
        h.ok(r.ok, line + ": answered by the catalog's operators",
             '    %r' % (r.final,))
    h.cmp_ok(len(A.request('PARTICIPANT LIST party=TR').records), '>=', 1,
             'the list has rows (each compared)')
    for op, t in ops:
        pg.query('DROP OPERATOR public.%s (%s, text)' % (op, t))
    for t in types:
        pg.query('DROP FUNCTION public.op_hijack(%s, text)' % t)

h.done_testing()
