"""test_commands.py -- the command table as the server describes it: HELP
gives every command's keys (type, required, USE default, own party,
choices) and whether it takes dry_run=yes; and that description agrees
with the database: each command's SQL function (named after the command)
takes the actor and then exactly the command's keys, in order, and each
enumeration's choices are the values its column's CHECK allows."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

TYPES = {'code', 'id', 'count', 'name', 'text', 'line', 'date', 'time',
         'timestamp', 'email', 'tz', 'ref', 'password', 'secret', 'enum',
         'command'}
ACTOR = ['p_actor', 'p_actor_role', 'p_actor_party']


def parse_keys(spec):
    """keys="name:type[:required][:use][:own][:choices=a|b]" -> dicts."""
    keys = []
    for item in spec.split():
        parts = item.split(':')
        k = {'name': parts[0], 'type': parts[1], 'required': False,
             'use': False, 'own': False, 'choices': None, 'bad': []}
        for p in parts[2:]:
            if p in ('required', 'use', 'own'):
                k[p] = True
            elif p.startswith('choices='):
                k['choices'] = p[len('choices='):].split('|')
            else:
                k['bad'].append(p)
        keys.append(k)
    return keys


env, rd = h.setup()
c = rd.connect()
helped = c.request('HELP')
h.ok_reply(helped, 'HELP answers OK', count=str(len(helped.records)))
cmds = {}
for rec in helped.records:
    cmds[rec['command']] = rec

with h.section('HELP describes every key'):
    h.cmp_ok(len(cmds), '>=', 45, 'HELP lists every command')
    missing = [n for n, r in cmds.items()
               if 'keys' not in r or r.get('dry_run') not in ('yes', 'no')]
    h.is_(missing, [], 'every record has keys= and dry_run=yes/no')
    bad = []
    for name, rec in cmds.items():
        keys = parse_keys(rec['keys'])
        args = [a.strip('[]').rstrip('=') for a in rec['args'].split()]
        names = [k['name'] for k in keys]
        want = names + (['dry_run'] if rec['dry_run'] == 'yes' else [])
        if args != want:
            bad.append('%s: args %r, keys %r' % (name, args, want))
        for k in keys:
            if k['type'] not in TYPES or k['bad']:
                bad.append('%s %s: %r' % (name, k['name'], k))
            if (k['type'] == 'enum') != (k['choices'] is not None):
                bad.append('%s %s: choices only for enum' % (name,
                                                            k['name']))
            optional = '[%s=]' % k['name'] in rec['args'].split()
            if optional == (k['required'] and not k['use']):
                bad.append('%s %s: args and keys disagree on required'
                           % (name, k['name']))
    h.is_(bad, [], 'keys= agrees with args= and uses only known types')
    one = c.request('HELP command="participant   add"')
    h.is_([r['command'] for r in one.records], ['PARTICIPANT ADD'],
          'HELP command= names one command, spelt loosely')
    part = parse_keys(one.records[0]['keys'])
    h.is_([(k['name'], k['type'], k['required'], k['use'], k['own'])
           for k in part[:3]],
          [('event', 'code', True, True, False),
           ('party', 'code', True, False, True),
           ('name', 'name', True, False, False)],
          'PARTICIPANT ADD: event defaults to USE, party is the focal '
          'point\'s own')
    role = [k for k in part if k['name'] == 'role'][0]
    h.is_(role['choices'], ['head', 'member', 'adviser', 'observer',
                            'staff'], 'PARTICIPANT ADD role= choices')
    h.is_(one.records[0]['dry_run'], 'yes', 'PARTICIPANT ADD takes dry_run')
    h.err_reply(c.request('HELP command="NO SUCH"'), 'NOT_FOUND',
                'HELP of an unknown command -> NOT_FOUND')

# The database side: every function in schema roster with its arguments.
procs = {}
for name, args in env.pg.query(
        "SELECT p.proname, coalesce((SELECT string_agg(a.n, ' ' ORDER BY"
        " a.i) FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY"
        " AS a(n, m, i) WHERE coalesce(a.m, 'i') IN ('i', 'b', 'v')), '')"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'roster' AND p.prokind = 'f'"):
    procs.setdefault(name, []).append(args.split())

# The commands served by C alone, with no function of their own.
NO_FUNCTION = {'PING', 'HELP', 'LOGIN', 'LOGOUT', 'WHOAMI', 'PASSWORD',
               'QUIT', 'EXPORT'}

with h.section('each command\'s function takes its keys'):
    bad = []
    for name, rec in cmds.items():
        func = name.lower().replace(' ', '_')
        keys = [k['name'] for k in parse_keys(rec['keys'])]
        if name in NO_FUNCTION:
            if func in procs:
                bad.append('%s: served in C, yet roster.%s exists'
                           % (name, func))
            continue
        if func not in procs:
            bad.append('%s: no function roster.%s' % (name, func))
            continue
        if len(procs[func]) != 1:
            bad.append('%s: roster.%s is overloaded' % (name, func))
            continue
        want = ACTOR + ['p_' + k for k in keys]
        if procs[func][0] != want:
            bad.append('%s: roster.%s(%s), keys want (%s)'
                       % (name, func, ', '.join(procs[func][0]),
                          ', '.join(want)))
    h.is_(bad, [], 'every command but %d served in C has roster.<words> '
          'taking actor, actor_role, actor_party and then its keys'
          % len(NO_FUNCTION))
    export = parse_keys(cmds['EXPORT']['keys'])
    whats = [k for k in export if k['name'] == 'what'][0]['choices']
    params = [k['name'] for k in export if k['name'] not in
              ('what', 'format')]
    bad = []
    for what in whats:
        f = 'export_' + what
        if f not in procs:
            bad.append('no function roster.%s' % f)
        elif sorted(procs[f][0]) != sorted(ACTOR + ['p_' + p
                                                    for p in params]):
            bad.append('roster.%s(%s)' % (f, ', '.join(procs[f][0])))
    h.is_(bad, [], 'EXPORT what=X has roster.export_X taking the actor and '
          'the other keys')

with h.section('HELP fields= are the records\' fields, in order'):
    outs = {}
    for name, cols in env.pg.query(
            "SELECT p.proname, coalesce((SELECT string_agg(a.n, ' ' ORDER BY"
            " a.i) FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY"
            " AS a(n, m, i) WHERE a.m = 't'), '')"
            " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'roster' AND p.prokind = 'f'"):
        outs[name] = cols
    with_fields = sorted(n for n, r in cmds.items() if 'fields' in r)
    listing = sorted(n for n in cmds if n.endswith((' LIST', ' SHOW'))
                     or n in ('ROSTER', 'AUDIT'))
    h.is_(with_fields, listing, 'every LIST, SHOW, ROSTER and AUDIT has '
          'fields=, no other command')
    bad = ['%s: fields=%r, roster.%s returns %r'
           % (n, cmds[n]['fields'], n.lower().replace(' ', '_'),
              outs.get(n.lower().replace(' ', '_')))
           for n in with_fields
           if cmds[n]['fields'] != outs.get(n.lower().replace(' ', '_'))]
    h.is_(bad, [], 'fields= is the function\'s RETURNS TABLE, in order')
    A = rd.login('admin')
    recs = h.records(A, 'PARTY LIST')
    A.close()
    fields = cmds['PARTY LIST']['fields'].split()
    h.ok(recs and all([k for k in fields if k in r] == list(r)
                      for r in recs),
         'PARTY LIST records carry their fields in fields= order')

# The CHECK constraints of the tables, as column -> allowed values: a
# table's own, and those of a column's domain (migration 017).
checks = {}
for table, column, cond in env.pg.query(
        "SELECT c.conrelid::regclass::text, '', pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_namespace n"
        " ON n.oid = c.connamespace WHERE n.nspname = 'roster'"
        " AND c.contype = 'c' AND c.conrelid <> 0"
        " UNION ALL SELECT a.attrelid::regclass::text, a.attname,"
        " pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_attribute a ON a.atttypid = c.contypid"
        " JOIN pg_class r ON r.oid = a.attrelid AND r.relkind = 'r'"
        " WHERE c.contype = 'c' AND c.contypid <> 0"
        " AND r.relnamespace = 'roster'::regnamespace"):
    m = re.match(r"CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$", cond)
    if m:
        vals = re.findall(r"'([^']*)'::text", m.group(2))
        col = column if m.group(1) == 'VALUE' else m.group(1)
        checks[(table.replace('roster.', ''), col)] = vals

# Which table a command's words name; keys checked elsewhere or nowhere.
TABLE = {'USER': 'app_user', 'EVENT': 'event', 'PARTY': 'party',
         'DELEGATION': 'delegation', 'PARTICIPANT': 'participant',
         'SESSION': 'session', 'SPEAKER': 'speaker'}
NOT_A_COLUMN = {('USER SET', 'enabled'), ('EXPORT', 'what'),
                ('EXPORT', 'format'), ('EXPORT', 'status'),
                ('DELEGATION LIST', 'kind')}

with h.section('enumerations agree with the CHECK constraints'):
    bad = []
    compared = 0
    for name, rec in cmds.items():
        for k in parse_keys(rec['keys']):
            if k['type'] != 'enum' or (name, k['name']) in NOT_A_COLUMN:
                continue
            table = TABLE.get(name.split()[0])
            if table is None:
                bad.append('%s %s: no table to compare with'
                           % (name, k['name']))
                continue
            allowed = checks.get((table, k['name']))
            if allowed is None:
                bad.append('%s %s: no CHECK on %s.%s' % (name, k['name'],
                                                        table, k['name']))
            elif sorted(allowed) != sorted(k['choices']):
                bad.append('%s %s: entry %r, CHECK %r' % (
                    name, k['name'], k['choices'], allowed))
            compared += 1
    h.is_(bad, [], 'every enumeration key of a table (%d) has the choices '
          'its column allows' % compared)
    status = parse_keys(cmds['EXPORT']['keys'])
    status = [k for k in status if k['name'] == 'status'][0]['choices']
    h.is_(sorted(status), sorted(set(checks[('participant', 'status')] +
                                     checks[('enrolment', 'status')])),
          'EXPORT status= is a participant\'s or an enrolment\'s status')
    kinds = parse_keys(cmds['DELEGATION LIST']['keys'])
    kinds = [k for k in kinds if k['name'] == 'kind'][0]['choices']
    h.is_(sorted(kinds), sorted(checks[('party', 'kind')]),
          'DELEGATION LIST kind= is a party\'s kind')

h.done_testing()
