"""test_plans.py -- the SQL of the hot commands does not grow with the
installation (issue 11): with 200,000 participants in another event, the
statements that PARTICIPANT ADD, SHOW, LIST, SET and CHECKIN badge=
run (inside their functions, or inlined) find the participant rows through an index,
never a sequential scan, under the generic plans that PL/pgSQL caches
(plan_cache_mode = force_generic_plan); and the statements of every
command that looks something up by a key it may be given (EVENT SHOW,
DELEGATION SHOW, SESSION SHOW, SPEAKER LIST session=, PARTICIPANT SHOW,
the exports with party= and session=) hold no catch-all predicate on a
key ("$1 IS NULL OR x.id = $1"), which a generic plan can only filter
with, never look up by. The plans of the nested
statements come from auto_explain, as notices to the psql session that
calls the functions. PARTICIPANT SHOW's function is inlined into the
daemon's prepared statement (sql/functions/participant.sql): its plan is
that statement's, generic once PostgreSQL's plan cache switches to it,
and its checks' function is not called when the row is found; so is the
call of many SHOWs at once (participant_show_many), whatever the number
in each call, and PARTICIPANT LIST's function, whose records of a party,
of a party of the big event and of a whole event come by the
delegation's index. Plans only,
no timing: the benchmark measures speed (tests/bench/all)."""

import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

BIG = 200000

env, rd = h.setup()
A = rd.login('admin')
for line in ('EVENT CREATE code=som title=SOM city=Istanbul country=TR '
             'starts=2025-11-26 ends=2025-11-27',
             'EVENT SET event=som status=open',
             'EVENT CREATE code=big title=Big city=Vienna country=AT '
             'starts=2025-11-26 ends=2025-11-27',
             'USE event=som',
             'DELEGATION REGISTER party=TR',
             'DELEGATION REGISTER party=HU',
             'SESSION CREATE code=S1 kind=plenary title=Opening '
             'starts=2025-11-26T10:00 ends=2025-11-26T11:00'):
    h.ok_reply(A.request(line), line)
r = A.request('PARTICIPANT ADD party=TR name="Ayşe Yılmaz"')
h.ok_reply(r, 'PARTICIPANT ADD in som')
pid, badge = r.fields.get('id'), r.fields.get('badge')
for line in ('SPEAKER ADD session=S1 participant=%s' % pid,
             'ENROL session=S1 participant=%s' % pid):
    h.ok_reply(A.request(line), line)

# The installation's bulk: 200,000 participants in 40 delegations of
# event big, with badges of their own (a bijection of the row number).
BADGE = ' || '.join(
    "substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', ((b >> %d) & 31)::int + 1, 1)"
    % (5 * k) for k in range(10))
env.pg.psql("""
INSERT INTO roster.delegation (event_id, party_id)
SELECT e.id, p.id FROM roster.event e, roster.party p
WHERE e.code = 'big' AND p.kind = 'country' ORDER BY p.code LIMIT 40;
INSERT INTO roster.participant (delegation_id, name, role, badge)
SELECT d.id, 'Participant ' || i, 'member', %s
FROM generate_series(1, %d) i
CROSS JOIN LATERAL (SELECT (i * 1103515245::bigint) & 1125899906842623 AS b) x
JOIN (SELECT d.id, row_number() OVER (ORDER BY d.id) - 1 AS n
      FROM roster.delegation d JOIN roster.event e ON e.id = d.event_id
      WHERE e.code = 'big') d ON d.n = i %% 40;
""" % (BADGE, BIG))
env.pg.psql('VACUUM ANALYZE')
h.is_(env.pg.scalar('SELECT count(*) FROM roster.participant'), str(BIG + 1),
      'the installation holds %d participants' % (BIG + 1))
# (from a session that ends here: the statistics of one that stays, which
# reads party sequentially, could reach the counters while the
# PARTICIPANT ADDs below are counted)
big_party = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-q', '-A',
                   '-t', '-h', '127.0.0.1', '-p', str(env.pg.port), '-U',
                   'postgres', '-d', 'roster', '-c',
                   "SELECT min(pa.code) FROM roster.delegation d "
                   "JOIN roster.party pa ON pa.id = d.party_id "
                   "JOIN roster.event e ON e.id = d.event_id "
                   "WHERE e.code = 'big'"]).stdout.strip()
big_id = env.pg.scalar("SELECT max(p.id) FROM roster.participant p "
                       "JOIN roster.delegation d ON d.id = p.delegation_id "
                       "JOIN roster.event e ON e.id = d.event_id "
                       "WHERE e.code = 'big'")


def plans(calls):
    """The plans (JSON) of every statement that the SQL in calls runs,
    nested ones included, under generic plans."""
    sql = ("LOAD 'auto_explain';\n"
           "SET auto_explain.log_min_duration = 0;\n"
           "SET auto_explain.log_nested_statements = on;\n"
           "SET auto_explain.log_format = json;\n"
           "SET auto_explain.log_level = notice;\n"
           "SET plan_cache_mode = force_generic_plan;\n"
           "SET client_min_messages = notice;\n" + calls)
    p = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-q', '-A', '-t',
               '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1',
               '-p', str(env.pg.port), '-U', 'postgres', '-d', 'roster'],
              input=sql)
    out, dec, i = [], json.JSONDecoder(), 0
    for m in re.finditer(r'plan:\s*\n', p.stderr):
        if m.start() < i:
            continue
        j = p.stderr.index('{', m.end())
        doc, i = dec.raw_decode(p.stderr, j)
        out.append(doc)
    return out


def nodes(plan):
    """Every node of a plan: (node type, relation, index). A bitmap scan
    is its heap scan's relation by its index scans' index (one each)."""
    stack, out = [(plan['Plan'], None)], []
    while stack:
        n, rel = stack.pop()
        kids = n.get('Plans', [])
        rel = n.get('Relation Name') or n.get('Function Name') or rel
        index = n.get('Index Name')
        if n.get('Node Type') == 'Bitmap Heap Scan':
            names = [k.get('Index Name') for k in kids]
            index = names[0] if len(set(names)) == 1 else None
        out.append((n.get('Node Type'), rel, index))
        stack.extend((k, rel if n.get('Node Type').startswith('Bitmap')
                      else None) for k in kids)
    return out


def scans(ps):
    return [n for p in ps for n in nodes(p)]


def seq_on_participant(ps):
    return [n for n in scans(ps)
            if n[0] == 'Seq Scan' and n[1] == 'participant']


def uses_index(ps, index):
    return any(n[2] == index and n[1] == 'participant' for n in scans(ps))


SCANS = ('Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Heap Scan',
         'Bitmap Index Scan', 'Tid Scan')


def other_scans(ps, indexes):
    """The scans of participant by anything but the indexes given."""
    return [n for n in scans(ps) if n[0] in SCANS and n[1] == 'participant'
            and n[2] not in indexes]


def literals(*args):
    return ', '.join('NULL' if a is None else "'%s'" % a for a in args)


def actor(*args):
    return "'admin', 'admin', NULL, " + literals(*args)


def twice(call):
    """A function's call run twice: the second runs the cached plans."""
    return call + '\n' + call


def show(name, *args, by="'admin', 'admin', NULL"):
    """PARTICIPANT SHOW as the daemon sends it: prepared, a parameter for
    each argument, run twice."""
    run = 'EXECUTE %s(%s, %s);' % (name, by, literals(*args))
    return ('PREPARE %s(text, text, text, text, text) AS SELECT * FROM '
            'roster.participant_show($1, $2, $3, $4, $5);\n%s\n%s'
            % (name, run, run))


def list_(name, *args):
    """PARTICIPANT LIST as the daemon sends it, as show() does."""
    run = 'EXECUTE %s(%s, %s);' % (name, "'admin', 'admin', NULL",
                                   literals(*args))
    return ('PREPARE %s(text, text, text, text, text, text, text) AS '
            'SELECT * FROM roster.participant_list($1, $2, $3, $4, $5, '
            '$6, $7);\n%s\n%s' % (name, run, run))


# The check itself can fail: text compared with char(10) is a scan.
ps = plans("SELECT 1 FROM roster.participant WHERE badge = '%s'::text;"
           % badge)
h.ok(seq_on_participant(ps),
     'the check sees a sequential scan (badge compared as text)',
     '    %r' % scans(ps))
ps = plans("SELECT 1 FROM roster.participant WHERE badge = '%s'::char(10);"
           % badge)
h.ok(not seq_on_participant(ps) and uses_index(ps, 'participant_badge_key'),
     'and the badge index when compared as char(10)', '    %r' % scans(ps))

CASES = [
    ('PARTICIPANT ADD', twice('SELECT * FROM roster.participant_add(%s);'
     % actor('som', 'TR', 'Plan Test', None, None, None, None, None, None,
             None)), 4, [], ['participant_pkey']),
    # inlined: one plan per run, the statement's; a call of the checks'
    # function would add the plans of its statements
    ('PARTICIPANT SHOW', show('s1', 'som', pid), 2, ['participant_pkey'],
     ['participant_pkey']),
    ('PARTICIPANT SHOW (no event)', show('s2', None, pid), 2,
     ['participant_pkey'], ['participant_pkey']),
    ('PARTICIPANT SHOW (of the big event)', show('s3', 'big', big_id), 2,
     ['participant_pkey'], ['participant_pkey']),
    ('PARTICIPANT SHOW (constants)',
     twice('SELECT * FROM roster.participant_show(%s);' % actor('som', pid)),
     2, ['participant_pkey'], ['participant_pkey']),
    # inlined too: per run the statement's plan and, with party=, its
    # look-up of the party (_party_by_code); the records by the delegation
    ('PARTICIPANT LIST party=', list_('l1', 'som', 'TR', None, None), 4,
     ['participant_delegation_idx'], ['participant_delegation_idx']),
    ('PARTICIPANT LIST party= (of the big event)',
     list_('l2', 'big', big_party, None, None), 4,
     ['participant_delegation_idx'], ['participant_delegation_idx']),
    ('PARTICIPANT LIST (the whole event)',
     list_('l3', 'som', None, None, None), 2,
     ['participant_delegation_idx'], ['participant_delegation_idx']),
    ('PARTICIPANT LIST status= role=', list_('l4', 'som', 'TR', 'confirmed',
     'member'), 4, ['participant_delegation_idx'],
     ['participant_delegation_idx']),
    ('PARTICIPANT LIST (constants)', twice(
     'SELECT * FROM roster.participant_list(%s);'
     % actor('som', 'TR', None, None)), 4, ['participant_delegation_idx'],
     ['participant_delegation_idx']),
    ('PARTICIPANT SET', twice('SELECT * FROM roster.participant_set(%s);'
     % actor('som', pid, None, None, None, None, 'Adviser', None, None,
             None)), 4, ['participant_pkey'], ['participant_pkey']),
    ('CHECKIN badge=', twice('SELECT * FROM roster.checkin(%s);'
     % actor('som', None, badge, None, None, None)), 4,
     ['participant_badge_key'], ['participant_badge_key', 'participant_pkey']),
]

# (command, the SQL that runs its function twice, how many plans it
# explains at least (SHOW: exactly), the indexes it must use, the only
# indexes it may scan participant by, None for any)
for name, sql, nplans, indexes, only in CASES:
    ps = plans(sql)
    if name.startswith('PARTICIPANT SHOW'):
        h.is_(len(ps), nplans, '%s: one plan per run, the statement\'s '
              '(inlined; the checks not called)' % name)
        h.is_([n for n in scans(ps) if n[0] == 'Function Scan'], [],
              '%s: no function scan' % name)
    elif name.startswith('PARTICIPANT LIST'):
        h.is_(len(ps), nplans, '%s: per run the statement\'s plan and '
              'the party\'s look-up (inlined; the checks not called)'
              % name)
        h.is_([n for n in scans(ps) if n[0] == 'Function Scan'
               and n[1] != '_party_by_code'], [],
              '%s: no function scan but the party\'s look-up' % name)
        if nplans > 2:
            # (its key's scans of party by id are the planner's: a few
            # pages, integers compared; lower() of every code is not)
            h.ok(any(n[1] == 'party' and n[2] == 'party_code_key'
                     for n in scans(ps)),
                 '%s: the party\'s code by party_code_key' % name,
                 '    %r' % scans(ps))
    else:
        h.ok(len(ps) >= nplans, '%s: its statements were explained '
             '(%d plans)' % (name, len(ps)))
    bad = seq_on_participant(ps)
    h.ok(not bad, '%s: no sequential scan of participant' % name,
         '    %r' % scans(ps))
    for ix in indexes:
        h.ok(uses_index(ps, ix), '%s: uses %s' % (name, ix),
             '    %r' % scans(ps))
    if only:
        # the key's index and no other: not all of an event's rows
        h.ok(not other_scans(ps, only), '%s: participant only by %s'
             % (name, ' or '.join(only)), '    %r' % other_scans(ps, only))



def arbiters(plan):
    """The arbiter indexes of every ON CONFLICT in a plan."""
    stack, out = [plan['Plan']], []
    while stack:
        n = stack.pop()
        out.extend(n.get('Conflict Arbiter Indexes', []))
        stack.extend(n.get('Plans', []))
    return out


# A new badge is checked by its unique index as the participant is
# inserted (ON CONFLICT), not looked up first.
ps = plans(CASES[0][1])
h.is_(sorted(set(a for p in ps for a in arbiters(p))),
      ['participant_badge_key'],
      'PARTICIPANT ADD: the badge index checks the new badge (ON CONFLICT)')

ps = plans(show('s4', 'som', pid))
h.ok(not [n for n in scans(ps) if n[0] in ('Sort', 'Incremental Sort')],
     'PARTICIPANT SHOW: one record, no sort', '    %r' % scans(ps))
h.is_(len(plans(show('s5', None, pid, by="'f', 'focal', 'TR'"))), 2,
      'PARTICIPANT SHOW by a focal point of the party: one plan per run')

# The daemon's statement under the plan cache's own choice: five custom
# plans, then the generic one, kept (a generic plan that the cache found
# dearer than the custom ones would leave it planning every run).
run = 'EXECUTE s(%s);\n' % actor('som', pid)
cache = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-q', '-A', '-t',
               '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
               str(env.pg.port), '-U', 'postgres', '-d', 'roster'],
              input='PREPARE s(text, text, text, text, text) AS SELECT * '
              'FROM roster.participant_show($1, $2, $3, $4, $5);\n'
              '\\o /dev/null\n' + run * 10 + '\\o\n'
              "SELECT custom_plans || ' ' || generic_plans "
              "FROM pg_prepared_statements WHERE name = 's';\n").stdout
h.is_(cache.split(), ['5', '5'], 'PARTICIPANT SHOW, 10 runs of the '
      "daemon's statement: 5 custom plans, then the generic plan")

# The SHOWs of several clients in one call (participant_show_many, arrays
# of 2 to 16 of them, as rosterd sends them, the first calls of a session
# small ones): the same, whatever the sizes (a plan estimated from the
# arrays' length left the cache planning every call); and the generic plan
# finds each row by the participant's key.
def many(n, pids):
    arr = lambda v: "'{%s}'" % ','.join([v] * n)
    return 'EXECUTE m(%s, %s, %s, %s, %s);\n' % (
        arr('admin'), arr('admin'), arr('NULL'), arr('som'),
        "'{%s}'" % ','.join(pids[:n]))


PREP_MANY = ('PREPARE m(text[], text[], text[], text[], text[]) AS SELECT * '
             'FROM roster.participant_show_many($1, $2, $3, $4, $5);\n')
pids = [pid, str(big_id)] * 8
cache = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-q', '-A', '-t',
               '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p',
               str(env.pg.port), '-U', 'postgres', '-d', 'roster'],
              input=PREP_MANY + '\\o /dev/null\n' +
              ''.join(many(n, pids) for n in (2, 3, 2, 2, 3, 16, 9, 12, 5,
                                               14)) + '\\o\n'
              "SELECT custom_plans || ' ' || generic_plans "
              "FROM pg_prepared_statements WHERE name = 'm';\n").stdout
h.is_(cache.split(), ['5', '5'], 'PARTICIPANT SHOW of many, 10 runs of 2 '
      'to 16: 5 custom plans, then the generic plan')
ps = plans(PREP_MANY + many(16, pids) + many(16, pids))
h.ok(ps and not seq_on_participant(ps) and
     not other_scans(ps, ('participant_pkey',)) and
     uses_index(ps, 'participant_pkey'),
     'PARTICIPANT SHOW of many: each row by participant_pkey',
     '    %r' % scans(ps))


# A catch-all on a key: "($1 IS NULL) OR (d.party_id = $1)", or on a code
# "(lower(e.code) = lower($1))", in any condition of any node.
CATCH_ALL = re.compile(r'\$\d+ IS NULL\) OR \(+(?:lower\()?(?:\w+\.)?'
                       r'(?:id|\w+_id|code)\b')
CONDS = ('Filter', 'Index Cond', 'Join Filter', 'Recheck Cond',
         'One-Time Filter', 'Hash Cond', 'Merge Cond')


def catch_alls(ps):
    out = []
    for p in ps:
        stack = [p['Plan']]
        while stack:
            n = stack.pop()
            out.extend(n[c] for c in CONDS
                       if c in n and CATCH_ALL.search(n[c]))
            stack.extend(n.get('Plans', []))
    return out


# The check itself can fail: a prepared statement with a catch-all.
ps = plans("PREPARE ca(integer) AS SELECT 1 FROM roster.delegation d "
           "WHERE d.event_id = 1 AND ($1 IS NULL OR d.party_id = $1);\n"
           "EXECUTE ca(1);")
h.ok(catch_alls(ps), 'the check sees a catch-all under a generic plan',
     '    %r' % ps)

EXPORT = "'admin', 'admin', NULL, 'som', %s, %s, NULL"
KEYED = [
    ('EVENT SHOW', 'SELECT * FROM roster.event_show(%s);' % actor('som')),
    ('EVENT LIST', 'SELECT * FROM roster.event_list(%s);' % actor()[:-2]),
    ('DELEGATION SHOW', 'SELECT * FROM roster.delegation_show(%s);'
     % actor('som', 'TR')),
    ('DELEGATION LIST (focal)', "SELECT * FROM roster.delegation_list("
     "'f', 'focal', 'TR', 'som', NULL, NULL);"),
    ('SESSION SHOW', 'SELECT * FROM roster.session_show(%s);'
     % actor('som', 'S1')),
    ('SPEAKER LIST session=', 'SELECT * FROM roster.speaker_list(%s);'
     % actor('som', 'S1')),
    ('PARTICIPANT SHOW', show('k1', 'som', pid)),
    ('PARTICIPANT SHOW (no event)', show('k2', None, pid)),
]
for what, party, session in (('participants', 'TR', 'S1'),
                             ('delegations', 'TR', None),
                             ('speakers', 'TR', 'S1'),
                             ('sessions', None, 'S1'),
                             ('enrolments', 'TR', 'S1')):
    KEYED.append(('EXPORT what=%s' % what,
                  'SELECT * FROM roster.export_%s(%s);' % (what, EXPORT % (
                      "'%s'" % party if party else 'NULL',
                      "'%s'" % session if session else 'NULL'))))

for name, call in KEYED:
    ps = plans(call if call.startswith('PREPARE') else twice(call))
    h.ok(len(ps) >= 2, '%s: its statements were explained (%d plans)'
         % (name, len(ps)))
    h.is_(catch_alls(ps), [], '%s: no catch-all predicate on a key' % name)


# PARTICIPANT ADD's statements are planned with random_page_cost 1.1
# (its function's setting, sql/functions/participant.sql), so that they
# find a small table's rows such as the parties' through their index on
# lower(code); at PostgreSQL's default of 4 its generic plans scan party,
# lower() on every row. From the statistics, as the daemon runs them: 30
# registrations look party up by party_code_key, and never sequentially.
def party_scans():
    out = h.run([os.path.join(env.pg.bindir, 'psql'), '-X', '-q', '-A', '-t',
                 '-F', ' ', '-h', '127.0.0.1', '-p', str(env.pg.port),
                 '-U', 'postgres', '-d', 'roster', '-c',
                 "SELECT t.seq_scan, i.idx_scan FROM pg_stat_user_tables t "
                 "JOIN pg_stat_user_indexes i USING (relid) WHERE "
                 "t.schemaname = 'roster' AND t.relname = 'party' "
                 "AND i.indexrelname = 'party_code_key'"]).stdout.split()
    return int(out[0]), int(out[1])


seq0, idx0 = party_scans()
added = [A.request('PARTICIPANT ADD event=som party=%s name="Plan %d"'
                   % (('TR', 'HU')[i % 2], i)) for i in range(30)]
h.is_([r.ok for r in added], [True] * 30, '30 PARTICIPANT ADDs through '
      'the daemon')
# the sessions report their statistics once idle, within a second or so
h.wait_for(lambda: party_scans()[1] >= idx0 + 30, 10)
seq1, idx1 = party_scans()
h.diag('party: seq_scan %d -> %d, party_code_key %d -> %d'
       % (seq0, seq1, idx0, idx1))
h.cmp_ok(idx1 - idx0, '>=', 30, "the daemon's PARTICIPANT ADDs look their "
         'party up by party_code_key')
h.is_(seq1 - seq0, 0, "the daemon's PARTICIPANT ADDs scan no party "
      'sequentially')

h.done_testing()
