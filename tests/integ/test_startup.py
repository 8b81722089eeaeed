#!/usr/bin/env python3
"""rosterd's start: --version and --help, a bad configuration stops it
with FILE:LINE, a database whose schema is older than rosterd needs is
refused with a message that says to run --migrate, and so is one whose
functions are not this rosterd's (another build's, none recorded, one
changed or dropped by hand), at start and on each new pool connection;
--migrate twice is harmless, a function file that fails to load leaves the
functions as they were, and `user = NAME` drops root after binding."""
import os
import pwd
import subprocess
import time

import harness as h

HAND_MADE = ("CREATE OR REPLACE FUNCTION roster._fmt_bool(p boolean) "
             "RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN p "
             "THEN 'Y' WHEN NOT p THEN 'N' END $$")


def start_fails(rd):
    """Run rosterd -f with rd's config; it must exit by itself. Returns
    (exit code, stderr)."""
    rd.write_config()
    p = subprocess.run([h.ROSTERD, '-c', rd.conffile, '-f'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    return p.returncode, p.stderr


def main():
    as_root = os.geteuid() == 0
    h.plan(27 if as_root else 25)
    env = h.Env()

    p = h.run([h.ROSTERD, '--version'], check=False)
    h.ok(p.returncode == 0 and p.stdout.startswith('rosterd 0.1.0'),
         '--version', '    %r' % p.stdout)
    p = h.run([h.ROSTERD, '--help'], check=False)
    h.ok(p.returncode == 0 and '--add-user' in p.stdout, '--help')

    bad = os.path.join(env.tmp, 'bad.conf')
    with open(bad, 'w') as f:
        f.write('listen = 127.0.0.1:7999\n# fine so far\nmax_line = lots\n')
    p = h.run([h.ROSTERD, '-c', bad, '-f'], check=False, timeout=30)
    h.is_(p.returncode, 1, 'a bad value stops the start')
    h.like(p.stderr, r'%s:3: max_line: ' % bad, 'FILE:LINE: what is wrong')
    with open(bad, 'w') as f:
        f.write('colour = blue\n')
    p = h.run([h.ROSTERD, '-c', bad, '-f'], check=False, timeout=30)
    h.like(p.stderr, r'%s:1: unknown key "colour"' % bad,
           'an unknown key stops the start')

    # no schema at all, then one migration short of what rosterd needs
    rd = env.rosterd(start=False, migrate=False)
    code, err = start_fails(rd)
    h.ok(code != 0 and '--migrate' in err,
         'an empty database is refused: run --migrate', '    ' + err)
    rd.migrate()
    p = rd.migrate()
    h.like(p.stdout, r'\(0 applied\)', '--migrate twice: nothing the second '
           'time')
    # the record of the newest migration taken away: an older schema
    latest = env.pg.query('SELECT version, name FROM roster.schema_migration '
                          'ORDER BY version DESC LIMIT 1')[0]
    env.pg.psql('DELETE FROM roster.schema_migration WHERE version = %s'
                % latest[0])
    code, err = start_fails(rd)
    h.ok(code != 0 and 'schema' in err and '--migrate' in err,
         'an older schema is refused, saying to run --migrate',
         '    ' + err)
    env.pg.psql("INSERT INTO roster.schema_migration (version, name) "
                "VALUES (%s, '%s')" % tuple(latest))
    h.is_(env.pg.scalar('SELECT max(version) FROM roster.schema_migration'),
          latest[0], 'the schema is whole again')

    # functions that are not this rosterd's
    pg = env.pg
    loaded = pg.query('SELECT * FROM roster.function_set')
    for label, sql, why in (
            ('the functions of another build',
             "UPDATE roster.function_set SET files_sha256 = repeat('0', 64)",
             'another rosterd'),
            ('no function set recorded', 'DELETE FROM roster.function_set',
             'no functions loaded'),
            ('a function changed by hand', HAND_MADE, 'changed'),
            ('a function dropped by hand',
             'DROP FUNCTION roster.watch(text, text, text, text)',
             'changed')):
        pg.psql(sql)
        code, err = start_fails(rd)
        h.ok(code != 0 and why in err and '--migrate' in err,
             '%s: refused, saying to run --migrate' % label, '    ' + err)
        p = rd.migrate()
        h.like(p.stdout, r'functions loaded: ', '--migrate loads them again')

    # a file that fails (a function it defines cannot be dropped: a view
    # depends on it) leaves the functions as they were
    pg.psql('CREATE VIEW roster.blocker AS SELECT roster._fmt_bool(true)')
    pg.psql(HAND_MADE.replace("'Y'", "'yes'").replace("'N'", "'no'"))
    hand = pg.scalar("SELECT prosrc FROM pg_proc "
                     "WHERE proname = '_fmt_bool'")
    p = rd.command('--migrate')
    h.ok(p.returncode != 0 and 'sql/functions/core.sql' in p.stderr and
         'as they were' in p.stderr, 'a function file that fails: '
         '--migrate fails, naming it', '    ' + p.stderr)
    h.is_(pg.scalar("SELECT prosrc FROM pg_proc WHERE proname = "
                    "'_fmt_bool'"), hand, 'the functions are as they were')
    h.ok('watch' in pg.scalar("SELECT string_agg(proname, ' ') FROM pg_proc "
                              "WHERE pronamespace = 'roster'::regnamespace"),
         'none was dropped')
    pg.psql('DROP VIEW roster.blocker')
    p = rd.migrate()
    h.is_(pg.query('SELECT files_sha256, catalog_sha256, functions FROM '
                   'roster.function_set'), [r[1:4] for r in loaded],
          'without the view, --migrate loads the same set as before')

    rd.add_user(h.ADMIN, 'admin')
    if as_root:
        nobody = pwd.getpwnam('nobody')
        rd.config['user'] = 'nobody'
        rd.start()
        with open('/proc/%d/status' % rd.pid) as f:
            uid = [ln.split()[1:] for ln in f if ln.startswith('Uid:')][0]
        h.is_(uid, [str(nobody.pw_uid)] * 4, 'user = nobody: root dropped '
              'after binding')
        c = h.Client(rd.port, ca=env.certs.ca)
        h.ok_reply(c.login(h.ADMIN), 'and it serves', user='admin')
        c.close()
    else:
        rd.start()

    # the pool checks the functions on each new connection: a function
    # changed by hand, then PostgreSQL restarted
    c = h.Client(rd.port, ca=env.certs.ca)
    c.login(h.ADMIN)
    pg.psql(HAND_MADE)
    pg.restart()
    h.ok(h.wait_for(lambda: "are not this rosterd's" in rd.log(), 30),
         'the pool refuses its new connections, saying why')
    h.err_reply(c.request('EVENT LIST', timeout=30), 'UNAVAILABLE',
                'and requests answer UNAVAILABLE')
    rd.migrate()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30:
        r = c.request('EVENT LIST', timeout=30)
        if r.ok:
            break
        time.sleep(0.25)
    h.ok_reply(r, 'after --migrate the same connection is served again')
    c.close()
    h.done_testing()


if __name__ == '__main__':
    main()
