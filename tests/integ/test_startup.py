#!/usr/bin/env python3
"""rosterd's start: --version and --help, a bad configuration stops it
with FILE:LINE, a database whose schema is older than rosterd needs is
refused with a message that says to run --migrate, --migrate twice is
harmless, and `user = NAME` drops root after binding."""
import os
import pwd
import subprocess

import harness as h


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
    h.plan(12 if as_root else 10)
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
    h.done_testing()


if __name__ == '__main__':
    main()
