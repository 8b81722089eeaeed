#!/usr/bin/env python3
"""roster shell on a terminal (a pty): the prompt, requests typed in
protocol syntax, USE in the prompt, completion of command words and keys,
history kept without secrets, QUIT."""
import os
import pty
import select
import subprocess
import time

import harness as h


class Pty:
    """roster shell on a pseudo-terminal."""

    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                     stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.buf = b''

    def expect(self, text, timeout=10.0):
        """Read until text appears; returns what was read up to it (or
        None on timeout)."""
        end = time.monotonic() + timeout
        want = text.encode()
        while want not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    return None
                if not data:
                    return None
                self.buf += data
        i = self.buf.index(want) + len(want)
        got, self.buf = self.buf[:i], self.buf[i:]
        return got.decode(errors='replace')

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def main():
    h.plan(11)  # 10, and rosterd exits 0
    env, rd = h.setup()
    c = h.Client(rd.port, ca=env.certs.ca)
    c.login(h.ADMIN)
    c.request('EVENT CREATE code=som37 title="SOM 37" city=Istanbul '
              'country=TR starts=2025-11-26 ends=2025-11-27')
    c.close()
    home = os.path.join(env.tmp, 'shellhome')
    os.makedirs(home)
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')}
    e.update(HOME=home, TERM='dumb', ROSTER_PASSWORD=h.PASSWORD)
    sh = Pty([h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port),
              '--ca', env.certs.ca, '--user', h.ADMIN, 'shell'], e)

    h.ok(sh.expect('roster> ') is not None, 'the prompt')
    sh.send('PING\r')
    h.ok(sh.expect('pong') is not None and sh.expect('roster> '),
         'PING typed in: pong')
    sh.send('use event=SOM37\r')
    h.ok(sh.expect('roster[som37]> ') is not None,
         'after USE the prompt names the event')
    sh.send('EVE\t')
    got = sh.expect('EVENT ', timeout=5)
    h.ok(got is not None, 'Tab completes a command word (EVE -> EVENT)')
    sh.send('SHO\t')
    h.ok(sh.expect('SHOW ', timeout=5) is not None,
         'and the second word (SHO -> SHOW)')
    sh.send('\r')
    out = sh.expect('roster[som37]> ')
    h.ok(out is not None and 'SOM 37' in out,
         'EVENT SHOW with the event from USE', '    %r' % out)
    sh.send('PASSWORD old="%s" new="%s"\r' % (h.PASSWORD, h.PASSWORD))
    h.ok(sh.expect('roster[som37]> ') is not None, 'PASSWORD answered')
    sh.send('QUIT\r')
    code = sh.close()
    h.is_(code, 0, 'QUIT ends the shell with 0')
    hist = os.path.join(home, '.roster_history')
    text = open(hist).read() if os.path.exists(hist) else ''
    h.ok('PING' in text, 'the history keeps the requests', '    %r' % text)
    h.ok('PASSWORD' not in text and h.PASSWORD not in text,
         'but never a line with a password', '    %r' % text)
    h.done_testing()


if __name__ == '__main__':
    main()
