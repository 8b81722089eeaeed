#!/usr/bin/env python3
"""An installation of release 0.1.0 upgraded: its database (the dump in
tests/integ/fixtures/roster-0.1.0.sql) restored, refused by this rosterd
until --migrate, then migrated: every row is still there, the users log in
with their old passwords, writes and reads work, the functions' old names
are gone, --migrate again (with rosterd running) changes nothing, and a
function changed by hand makes a restarted rosterd refuse the database
until --migrate loads the functions again."""
import hashlib
import hmac
import os
import re
import subprocess

import harness as h

FIXTURE = os.path.join(h.SRCDIR, 'tests', 'integ', 'fixtures',
                       'roster-0.1.0.sql')
# The users of the fixture (tests/integ/fixtures/make-fixture.py).
USERS = {'admin': h.PASSWORD, 'sec': 'secretariat password 1',
         'door': 'door password 22', 'fp-hu': 'focal point of HU'}
TABLES = ('party', 'event', 'delegation', 'participant', 'session',
          'speaker', 'enrolment', 'checkin', 'app_user', 'audit',
          'request_ref', 'login_failure')
# Old names that the function files renamed or dropped.
OLD_NAMES = ('session_enrol', 'session_unenrol', 'session_roster',
             'audit_list', 'participant_checkin', 'user_auth',
             'user_password', 'fmt_date', 'fmt_ts', 'fmt_time', 'fmt_bool',
             'json_compact', '_audit', 'timezone_check', '_check_role',
             '_check_session_kind')
NEW_NAMES = ('enrol', 'unenrol', 'roster', 'audit', 'checkin', 'use',
             'watch', 'cert_login', 'password_set', '_changed',
             '_timezone_check')


def start_fails(rd):
    """Run rosterd -f with rd's config; it must exit by itself. Returns
    (exit code, stderr)."""
    rd.write_config()
    p = subprocess.run([h.ROSTERD, '-c', rd.conffile, '-f'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    return p.returncode, p.stderr


# Columns that a later migration changes on purpose, left out of the
# digest (and checked on their own below): each event's new import key,
# and the import refs that 012 re-keys with it; the participants' family
# and latin of 014 (NULL for the old rows).
CHANGED = {'event': ['import_key'], 'request_ref': ['ref'],
           'audit': ['detail'], 'participant': ['family', 'latin']}


def snapshot(pg):
    """A digest of every data table's rows, by table."""
    return {t: pg.scalar(
        "SELECT count(*) || ' ' || coalesce(md5(string_agg(j::text, '|' "
        "ORDER BY j::text)), '-') FROM (SELECT to_jsonb(x) - ARRAY[%s]::text[]"
        " AS j FROM roster.%s x) y"
        % (', '.join("'%s'" % c for c in CHANGED.get(t, [])), t))
        for t in TABLES}


def import_refs(pg):
    """(event, ref) of every import ref, and of every audit row's."""
    return sorted(tuple(r) for r in pg.query(
        "SELECT e.code, r.ref FROM roster.request_ref r JOIN roster.event e "
        "ON e.id = r.event_id WHERE r.ref LIKE 'imp-%' UNION ALL "
        "SELECT e.code, a.detail->>'ref' FROM roster.audit a JOIN "
        "roster.event e ON e.id = a.event_id WHERE a.detail->>'ref' LIKE "
        "'imp-%'"))


def rekeyed(refs, keys):
    """What the CLI makes of an old import ref imp-<32 hex> now: imp- and
    32 hex digits of HMAC-SHA256(the event's import key, the old bytes)."""
    return sorted((ev, 'imp-' + hmac.new(keys[ev], bytes.fromhex(ref[4:]),
                                         hashlib.sha256).hexdigest()[:32])
                  for ev, ref in refs)


def later_migrations():
    """The migrations after 0.1.0's last (009), as NNN_name."""
    names = [f[:-4] for f in os.listdir(os.path.join(h.SRCDIR, 'sql'))
             if re.match(r'^\d{3}_.*\.sql$', f) and int(f[:3]) > 9]
    return sorted(names)


def functions(pg):
    return {r[0] for r in pg.query(
        "SELECT proname FROM pg_proc WHERE pronamespace = "
        "'roster'::regnamespace")}


def main():
    env = h.Env()
    pg = env.pg
    h.run([os.path.join(pg.bindir, 'psql'), '-X', '-q', '-v',
           'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', str(pg.port), '-U',
           'postgres', '-d', 'roster', '-f', FIXTURE])
    h.is_(pg.scalar('SELECT max(version) FROM roster.schema_migration'),
          '9', 'the 0.1.0 dump is restored: schema at version 9')
    before = snapshot(pg)
    refs_before = import_refs(pg)
    hash_060 = pg.scalar("SELECT hash FROM roster.app_user "
                         "WHERE name = 'fp-hu'")

    rd = env.rosterd(start=False, migrate=False)
    code, err = start_fails(rd)
    h.ok(code != 0 and 'schema' in err and '--migrate' in err,
         'the new rosterd refuses the 0.1.0 database: run --migrate',
         '    ' + err)

    with h.section('--migrate'):
        p = rd.command('--migrate')
        h.is_(p.returncode, 0, '--migrate upgrades it')
        later = later_migrations()
        h.is_(re.findall(r'^applied (\S+)$', p.stdout, re.M), later,
              'the migrations after 009 are applied, in order: %s'
              % ', '.join(later))
        h.like(p.stdout, r'schema at version %d \(%d applied\)'
               % (int(later[-1][:3]), len(later)), 'and no other')
        h.like(p.stdout, r'functions loaded: \d+ from \d+ files '
               r'\(sha256 [0-9a-f]{64}\)', 'the functions are loaded')
        if p.returncode != 0:
            h.diag(p.stdout, p.stderr)
        loaded = pg.query('SELECT files_sha256, catalog_sha256, functions '
                          'FROM roster.function_set')

    with h.section('the data is all there'):
        h.is_(snapshot(pg), before, 'every row of every table as it was '
              '(but for the columns below)')
        h.is_(pg.scalar('SELECT count(*) FROM roster.participant WHERE '
                        'family IS NOT NULL OR latin IS NOT NULL'), '0',
              'the old participants have no family or latin (014)')
        keys = {r[0]: bytes.fromhex(r[1]) for r in pg.query(
            "SELECT code, encode(import_key, 'hex') FROM roster.event")}
        h.is_(len(set(keys.values())), len(keys), 'each event has an import '
              'key of its own')
        h.cmp_ok(len(refs_before), '>', 0, 'the dump has import refs')
        h.is_(import_refs(pg), rekeyed(refs_before, keys), 'its import refs '
              '(%d, with the audit\'s) are re-keyed with the event\'s import '
              'key, as the CLI now makes them' % len(refs_before))
        counts = pg.query(
            'SELECT (SELECT count(*) FROM roster.participant), '
            '(SELECT count(*) FROM roster.delegation), '
            '(SELECT count(*) FROM roster.session), '
            '(SELECT count(*) FROM roster.app_user)')[0]
        h.is_(counts, ['165', '51', '7', '4'], '165 participants, 51 '
              'delegations, 7 sessions, 4 users')
        h.is_(pg.scalar("SELECT hash FROM roster.app_user "
                        "WHERE name = 'fp-hu'"), hash_060,
              'the password hashes are untouched')

    names = functions(pg)
    h.is_(sorted(n for n in OLD_NAMES if n in names), [],
          'the old names are gone from pg_proc')
    h.is_(sorted(n for n in NEW_NAMES if n not in names), [],
          'the new names are there')
    h.is_(pg.query("SELECT tgname, tgfoid::regproc::text FROM pg_trigger "
                   "WHERE NOT tgisinternal ORDER BY 1"),
          [['app_user_changed', 'roster._user_changed'],
           ['event_timezone_check', 'roster._timezone_check']],
          'the triggers keep their functions')

    rd.start()
    with h.section('old users, old data, new writes'):
        conns = {}
        for user, pw in USERS.items():
            c = rd.connect()
            h.ok_reply(c.login(user, pw), '%s logs in with the password '
                       'set under 0.1.0' % user, user=user)
            conns[user] = c
        a, fp, door = conns['admin'], conns['fp-hu'], conns['door']
        h.ok_reply(a.request('USE event=som37'), 'USE', event='som37')
        r = a.request('PARTICIPANT SHOW id=57')
        rec = dict(r.records[0]) if len(r.records) == 1 else {}
        badge, checked_in = rec.pop('badge', None), rec.pop('checked_in', None)
        h.is_(rec, {
            'id': '57', 'event': 'som37', 'party': 'HU',
            'name': 'Tímea Lehoczki', 'honorific': 'Ms',
            'title': 'Head of Unit, Department of European Home Affairs '
                     'Cooperation, Ministry of Interior',
            'email': 'timea.lehoczki@hu.example', 'role': 'head',
            'status': 'confirmed', 'version': '2'},
            'a known participant, every field as 0.1.0 left it')
        h.is_(badge, pg.scalar('SELECT badge FROM roster.participant '
                               'WHERE id = 57'), 'and the badge')
        h.like(checked_in, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$',
               'and the check-in')
        r = a.request('ROSTER session=twg-return')
        h.is_([(x['participant'], x['status'], x.get('position'))
               for x in r.records],
              [('60', 'enrolled', None), ('57', 'enrolled', None),
               ('124', 'waitlisted', '1')],
              'the session roster with its waiting list')

        w = rd.connect()
        w.login('door', USERS['door'])
        h.ok_reply(w.request('WATCH event=som37'), 'WATCH (host)')
        h.err_reply(fp.request('WATCH event=som37'), 'FORBIDDEN',
                    'WATCH is not for a focal point')
        r = fp.request('PARTICIPANT ADD event=som37 party=HU '
                       'name="Új Résztvevő" '
                       'role=adviser')
        h.ok_reply(r, 'the focal point of HU adds a participant',
                   party='HU')
        new_id = r.fields.get('id')
        r = door.request('CHECKIN id=%s' % new_id)
        h.ok_reply(r, 'the door checks them in', id=new_id)
        r = fp.request('UNENROL event=som37 session=twg-return '
                       'participant=60')
        h.ok_reply(r, 'an unenrolment from a full session', participant='60')
        r = a.request('SESSION SHOW session=twg-return')
        h.is_([(x['enrolled'], x['waitlisted']) for x in r.records],
              [('2', '0')], 'the waiting list moved up')
        got = [h.read_note(w) for _ in range(4)]
        h.is_([(k, f.get('id'), f.get('session'), f.get('promoted'))
               for k, f in got],
              [('participant.added', new_id, None, None),
               ('checkin', new_id, None, None),
               ('enrol', '124', 'twg-return', '1'),
               ('unenrol', '60', 'twg-return', None)],
              'the watcher saw each change, the promotion first')
        r = a.request('AUDIT limit=3')
        h.is_([(x['user'], x['command'], x['target']) for x in r.records],
              [('fp-hu', 'PARTICIPANT ADD',
                'som37/participant/%s' % new_id),
               ('door', 'CHECKIN', 'som37/participant/%s' % new_id),
               ('fp-hu', 'UNENROL', 'som37/participant/60')],
              'AUDIT: the new rows after the old ones')
        h.is_(pg.scalar('SELECT count(*) FROM roster.audit'),
              str(int(before['audit'].split()[0]) + 3),
              'three audit rows more than 0.1.0 left')

    with h.section('--migrate again, rosterd running'):
        p = rd.command('--migrate')
        h.like(p.stdout, r'\(0 applied\)', '--migrate twice: no migration')
        h.is_(pg.query('SELECT files_sha256, catalog_sha256, functions '
                       'FROM roster.function_set'), loaded,
              'the same function set, recorded the same')
        h.ok_reply(a.request('PARTICIPANT SHOW id=%s' % new_id),
                   'a connection open across it still reads', count='1')
        h.ok_reply(fp.request('PARTICIPANT SET event=som37 id=%s '
                              'title=Adviser' % new_id),
                   'and writes', id=new_id)
        c = rd.connect()
        h.ok_reply(c.login('sec', USERS['sec']), 'a new connection logs in',
                   user='sec')
        c.close()
        for c in list(conns.values()) + [w]:
            c.close()
    h.is_(rd.stop(), 0, 'rosterd exits 0')

    with h.section('a function changed by hand'):
        pg.psql("CREATE OR REPLACE FUNCTION roster._fmt_bool(p boolean) "
                "RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN "
                "p THEN 'oui' WHEN NOT p THEN 'non' END $$")
        code, err = start_fails(rd)
        h.ok(code != 0 and 'changed' in err and '--migrate' in err,
             'a restarted rosterd refuses the database: run --migrate',
             '    ' + err)
        p = rd.command('--migrate')
        h.is_(p.returncode, 0, '--migrate loads the functions again')
        h.is_(pg.query('SELECT files_sha256, catalog_sha256 '
                       'FROM roster.function_set'),
              [row[:2] for row in loaded], 'the set is the files\' again')
        rd.start()
        c = rd.login('admin')
        r = c.request('USER LIST')
        h.is_(sorted({x['enabled'] for x in r.records}), ['yes'],
              'and rosterd serves it with the files\' functions')
        c.close()
    h.done_testing()


if __name__ == '__main__':
    main()
