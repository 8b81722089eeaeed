#!/usr/bin/env python3
"""A user disabled, or given another role or password, loses the sessions
already open on every daemon sharing the database."""
import time

import harness as h


def wait_reply(c, line, code, timeout=5.0):
    """The reply to line once it is ERR code (the change travels by NOTIFY,
    so it may take a moment), or the last reply."""
    end = time.monotonic() + timeout
    while True:
        r = c.request(line)
        if (r.kind == 'ERR' and r.code == code) or time.monotonic() > end:
            return r
        time.sleep(0.05)


def main():
    h.plan(12)  # 10, and each daemon exits 0
    env, rd = h.setup(users=[('sec', 'secretariat', None),
                             ('hst', 'host', None)])
    rd2 = env.rosterd(migrate=False)

    admin = h.Client(rd.port, ca=env.certs.ca)
    admin.login(h.ADMIN)
    sec = h.Client(rd.port, ca=env.certs.ca)
    sec.login('sec')
    sec2 = h.Client(rd2.port, ca=env.certs.ca)
    sec2.login('sec')
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

    hst = h.Client(rd.port, ca=env.certs.ca)
    hst.login('hst')
    h.ok_reply(admin.request('USER SET name=hst role=secretariat'),
               'hst becomes secretariat')
    h.err_reply(wait_reply(hst, 'EVENT LIST', 'AUTH_REQUIRED'),
                'AUTH_REQUIRED', 'a role change ends the session as well')
    h.ok_reply(hst.request('LOGIN user=hst password="%s"' % h.PASSWORD),
               'logging in again gives the new role', role='secretariat')
    for c in (admin, sec, sec2, hst):
        c.close()
    h.done_testing()


if __name__ == '__main__':
    main()
