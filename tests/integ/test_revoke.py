"""test_revoke.py -- revocation that holds (issue 7, item 8): a user
disabled while a daemon's feed connection is down loses the sessions once
it is back (the change waits in the daemon's replication slot); a LOGIN whose
password check runs while the account is disabled is refused; a password
set with USER SET ends that user's sessions on every daemon; PASSWORD
keeps the session that ran it and ends the user's others."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
NEWPW = 'a brand new long password'

env, rd = h.setup(users=[('gone', 'host', None), ('stays', 'host', None),
                         ('racer', 'host', None), ('reset', 'host', None),
                         ('changer', 'host', None), ('moved', 'host', None)])
rd2 = env.rosterd(migrate=False)

# The walsenders of the daemons' feeds (daemon/feed.c).
LISTENERS = ("SELECT active_pid AS pid FROM pg_replication_slots "
             "WHERE active_pid IS NOT NULL")


def whoami(c):
    return c.request('WHOAMI').fields.get('user')


def logged_out(c, timeout=15.0):
    """True once WHOAMI on c says nobody (within timeout seconds)."""
    return h.wait_for(lambda: whoami(c) == '-', timeout, 0.1)


def ready_count(d):
    return d.log().count('feed: streaming from slot')


with h.section('a user disabled while the feed is down'):
    gone = rd.login('gone')
    gone2 = rd2.login('gone')
    stays = rd.login('stays')
    changer = rd.login('changer')
    h.is_(changer.request('PASSWORD old="%s" new="%s"' % (PW, PW)).final,
          'OK', 'changer ran PASSWORD on this session')
    moved = rd.login('moved')
    before = (ready_count(rd), ready_count(rd2))
    h.is_(len(env.pg.query(LISTENERS)), 2, 'one feed per daemon')
    # One transaction: the changes are made, both walsenders are told to
    # terminate, and it commits at once: no daemon can have connected
    # again (it waits 100 ms first), so the change is committed while
    # neither feed is there; it waits in their slots.
    out = env.pg.query(
        "UPDATE roster.app_user SET enabled = false WHERE name = 'gone'; "
        "UPDATE roster.app_user SET role = 'secretariat', "
        "version = version + 1 WHERE name = 'moved'; "
        "SELECT bool_and(pg_terminate_backend(pid)) FROM ("
        + LISTENERS + ") l")
    h.is_(out, [['t']], 'both walsenders terminated at the commit')
    h.ok(h.wait_for(lambda: ready_count(rd) > before[0]
                    and ready_count(rd2) > before[1], 20),
         'both feeds are back')
    h.ok(logged_out(gone), "the disabled user's session ends")
    h.ok(logged_out(gone2), 'on the other daemon too')
    h.ok(logged_out(moved), "a user given another role: the session ends")
    h.err_reply(gone.request('EVENT LIST'), 'AUTH_REQUIRED',
                'its next command: AUTH_REQUIRED')
    h.is_(whoami(stays), 'stays', "another user's session stays")
    h.is_(whoami(changer), 'changer',
          'the session that changed its own password stays')
    h.like(rd.log(), 'conn=\\d+ user=gone changed: logged out',
           'the daemon logs it')
    for c in (gone, gone2, stays, changer, moved):
        c.close()

with h.section('LOGIN racing a disable'):
    # The disable is made and held uncommitted; LOGIN reads the user (the
    # enabled one: the change is not committed), checks the password, and
    # must then wait for the change before creating the session.
    tx = env.pg.session()
    tx.stdin.write("BEGIN;\nUPDATE roster.app_user SET enabled = false "
                   "WHERE name = 'racer';\n")
    tx.stdin.flush()
    h.ok(h.wait_for(lambda: env.pg.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON "
        "c.oid = l.relation WHERE c.relname = 'app_user' AND "
        "l.mode = 'RowExclusiveLock' AND l.granted") != '0', 10),
        'the disable is made, not committed')
    c = rd.connect()
    t0 = time.monotonic()
    c.send('LOGIN user=racer password="%s"' % PW)
    # the password check takes one hash; then the session's statement
    # waits on the uncommitted change
    h.wait_for(lambda: env.pg.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'roster' "
        "AND wait_event_type = 'Lock'") != '0', 10)
    time.sleep(max(0, 1.0 - (time.monotonic() - t0)))
    tx.stdin.write('COMMIT;\n')
    tx.stdin.flush()
    r = c.read_reply(30)
    h.err_reply(r, 'AUTH_FAILED',
                'the LOGIN checked against the enabled user is refused')
    h.is_(whoami(c), '-', 'no session')
    tx.stdin.close()
    tx.wait(10)
    c.close()

with h.section('USER SET password= ends the sessions of that user'):
    admin = rd.login('admin')
    r1 = rd.login('reset')
    r2 = rd2.login('reset')
    other = rd.login('stays')
    h.ok_reply(admin.request('USER SET name=reset password="%s"' % NEWPW),
               'the password is set')
    h.ok(logged_out(r1), "the user's session ends")
    h.ok(logged_out(r2), 'on the other daemon too')
    h.is_(whoami(other), 'stays', "another user's session stays")
    h.is_(whoami(admin), 'admin', "the admin's session stays")
    h.err_reply(r1.login('reset', PW), 'AUTH_FAILED',
                'the old password no longer logs in')
    h.ok_reply(r1.login('reset', NEWPW), 'the new one does', user='reset')
    for c in (admin, r1, r2, other):
        c.close()

with h.section('PASSWORD keeps its own session and ends the others'):
    own = rd.login('changer')
    same = rd.login('changer')
    far = rd2.login('changer')
    h.is_(own.request('PASSWORD old="%s" new="%s"' % (PW, NEWPW)).final,
          'OK', 'PASSWORD')
    h.ok(logged_out(same), "the user's other session on this daemon ends")
    h.ok(logged_out(far), 'and on the other daemon')
    time.sleep(0.5)
    h.is_(whoami(own), 'changer', 'the session that ran PASSWORD stays')
    h.ok(own.request('EVENT LIST').ok, 'and goes on working')
    h.ok_reply(same.login('changer', NEWPW), 'the new password logs in',
               user='changer')
    for c in (own, same, far):
        c.close()

h.done_testing()
