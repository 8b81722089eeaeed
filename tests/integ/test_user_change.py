"""test_user_change.py -- a user disabled, or given another role or
password, loses the sessions already open on every daemon sharing the
database."""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def wait_reply(c, line, code, timeout=5.0):
    """The reply to line once it is ERR code (the change travels by NOTIFY,
    so it may take a moment), or the last reply."""
    end = time.monotonic() + timeout
    while True:
        r = c.request(line)
        if (r.kind == 'ERR' and r.code == code) or time.monotonic() > end:
            return r
        time.sleep(0.05)


env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None)])
rd2 = env.rosterd(migrate=False)

admin = rd.login('admin')
sec = rd.login('sec')
sec2 = rd2.login('sec')
h.ok_reply(sec.request('WHOAMI'), 'sec is logged in', user='sec')

h.ok_reply(admin.request('USER SET name=sec password="another long '
                         'password"'), 'password changed')
# whoever knew the old password is out (issue 7; test_revoke.py)
h.err_reply(wait_reply(sec, 'EVENT LIST', 'AUTH_REQUIRED'),
            'AUTH_REQUIRED', 'a password change ends the session')
wait_reply(sec2, 'EVENT LIST', 'AUTH_REQUIRED')
sec.login('sec', 'another long password')
sec2.login('sec', 'another long password')

h.ok_reply(admin.request('USER SET name=sec enabled=no'),
           'sec disabled')
h.err_reply(wait_reply(sec, 'EVENT LIST', 'AUTH_REQUIRED'),
            'AUTH_REQUIRED', 'the session of the disabled user ends')
h.err_reply(wait_reply(sec2, 'EVENT LIST', 'AUTH_REQUIRED'),
            'AUTH_REQUIRED', 'on the other daemon too')
h.ok_reply(sec.request('WHOAMI'), 'WHOAMI says nobody', user='-')

hst = rd.login('hst')
h.ok_reply(admin.request('USER SET name=hst role=secretariat'),
           'hst becomes secretariat')
h.err_reply(wait_reply(hst, 'EVENT LIST', 'AUTH_REQUIRED'),
            'AUTH_REQUIRED', 'a role change ends the session as well')
h.ok_reply(hst.request('LOGIN user=hst password="%s"' % h.PASSWORD),
           'logging in again gives the new role', role='secretariat')
for c in (admin, sec, sec2, hst):
    c.close()
h.done_testing()

