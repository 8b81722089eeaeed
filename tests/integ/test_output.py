"""test_output.py -- the CLI's output for people, as psql users expect it
(README, "Output"): on a terminal (a pty of a fixed size) a table fits the
terminal's width: cells wrapped inside their columns when that is enough,
else one block per record (-x forces it); a row count; a pager when the
output has more lines than the terminal ($PAGER, --no-pager, $PAGER empty);
columns in the order of the command's record definition (HELP fields=),
the same for every row and in CSV whatever the first row holds; --format
json with numbers as numbers, yes/no as booleans and an error as a JSON
object on stderr; the shell's \\x, \\format and \\pager switches."""

import csv
import fcntl
import io
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup()
TITLE = ('Director-General, Department of Migration Policy and '
         'International Cooperation')
NAMES = ['Ayşe Yılmaz', 'Mehmet Öztürk', 'Elif Kaya', 'Can Demir',
         'Zeynep Aydın', 'Emre Şahin', 'Selin Koç', 'Burak Arslan',
         'Deniz Çelik', 'Ece Kurt', 'Kerem Aslan', 'Naz Polat']
with rd.login('admin') as a:
    for line in ['EVENT CREATE code=SOM37 title=SOM city=Istanbul country=TR '
                 'starts=2025-11-26 ends=2025-11-27',
                 'EVENT SET event=SOM37 status=open',
                 'USE event=SOM37',
                 'DELEGATION REGISTER party=TR quota=40',
                 # the first session has neither theme nor capacity
                 'SESSION CREATE code=S1 kind=plenary title=Opening '
                 'starts=2025-11-26T09:00 ends=2025-11-26T10:00',
                 'SESSION CREATE code=W1 kind=working_group title=Routes '
                 'starts=2025-11-26T11:00 ends=2025-11-26T12:00 '
                 'capacity=20 theme=Routes']:
        r = a.request(line)
        if not r.ok:
            h.bail('%s: %s' % (line, r.final))
    for i, name in enumerate(NAMES):
        r = a.request('PARTICIPANT ADD party=TR name=%s title=%s '
                      'honorific=H.E. email=participant.%02d@mfa.gov.tr'
                      % (h.quote(name), h.quote(TITLE), i))
        if not r.ok:
            h.bail(r.final)
    fields = a.request('HELP command="PARTICIPANT LIST"').records[0][
        'fields'].split()


def argv(*args):
    return [h.ROSTER, '--host', '127.0.0.1', '--port', str(rd.port),
            '--ca', env.certs.ca, '--user', 'admin', '--event', 'SOM37'] + \
        list(args)


def environ(extra=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')
         and k not in ('PAGER', 'COLUMNS', 'LINES')}
    e.update(HOME=env.home, ROSTER_PASSWORD=PW, TERM='dumb')
    e.update(extra or {})
    return e


def tty(*args, cols=80, rows=24, extra=None, stdin=None):
    """Run the CLI with stdout on a pty of cols x rows; (exit, screen text
    with CR removed, stderr)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack('HHHH', rows, cols, 0, 0))
    p = subprocess.Popen(argv(*args), stdout=slave, stderr=subprocess.PIPE,
                         stdin=subprocess.PIPE if stdin is not None
                         else subprocess.DEVNULL, env=environ(extra),
                         start_new_session=True)
    os.close(slave)
    if stdin is not None:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    out = b''
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    rc = p.wait(timeout=30)
    err = p.stderr.read().decode()
    p.stderr.close()
    return rc, out.decode().replace('\r', ''), err


def plain(*args, extra=None):
    p = subprocess.run(argv(*args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=environ(extra),
                       stdin=subprocess.DEVNULL, timeout=60)
    return p.returncode, p.stdout, p.stderr


def width(line):
    return sum(2 if '\u1100' <= c <= '\u115f' or '\u2e80' <= c <= '\ua4cf'
               or '\uac00' <= c <= '\ud7a3' else 1 for c in line)


def show(rc, out, err):
    return ('    exit %d' % rc, '    screen:\n%s' % out[:3000],
            '    stderr: %r' % err[:500])


with h.section('80 columns: one block per record, nothing wider'):
    res = tty('--no-pager', 'PARTICIPANT', 'LIST', cols=80)
    rc, out, err = res
    lines = out.splitlines()
    h.is_(rc, 0, 'exit 0')
    h.ok(lines and not [l for l in lines if width(l) > 80],
         'no line is wider than the terminal', *show(*res))
    h.is_(len(re.findall(r'^-\[ RECORD \d+ \]-*$', out, re.M)), len(NAMES),
          'one block per participant (the table would be wider)')
    h.ok(all(re.search(r'^name +\| %s$' % re.escape(n), out, re.M)
             for n in NAMES), 'each name on its own "name | ..." line')
    h.like(lines[-1] if lines else '', r'^\(12 rows\)$', 'the row count')
    keys = [m.split(' ')[0] for m in
            re.findall(r'^(\w+ +)\|', out.split('-[ RECORD 2 ]')[0], re.M)]
    h.is_(keys, [f for f in fields if f in keys],
          'the fields in the order HELP fields= gives')

with h.section('120 columns: a table, long cells wrapped in their column'):
    res = tty('--no-pager', 'PARTICIPANT', 'LIST', cols=120)
    rc, out, err = res
    lines = out.splitlines()
    h.ok(lines and not [l for l in lines if width(l) > 120],
         'no line is wider than 120', *show(*res))
    h.ok('-[ RECORD' not in out and lines and lines[0].startswith('id'),
         'a table with its header', *show(*res))
    h.cmp_ok(len(lines), '>', len(NAMES) + 3,
             'more lines than rows: cells wrapped')
    h.ok(all(n in out for n in NAMES), 'every name shown whole')
    h.ok('Director-General' in out and TITLE not in out,
         'the long title wrapped over lines')
    h.ok(all(re.search(r'\bregistered\b', l) for l in lines[2:-1]
             if re.match(r'^\d+ ', l)), 'short columns (status) kept whole')
    h.is_(lines[-1] if lines else '', '(12 rows)', 'the row count')

with h.section('a wide terminal: one line per row; -x: blocks anyway'):
    res = tty('--no-pager', 'PARTICIPANT', 'LIST', cols=250)
    rc, out, err = res
    lines = out.splitlines()
    h.ok(len(lines) == len(NAMES) + 3,
         'header, rule, a line per row, count', *show(*res))
    header = lines[0].split() if lines else []
    h.is_(header, [f for f in fields if f in header],
          'columns in the record definition\'s order')
    res = tty('--no-pager', '-x', 'PARTICIPANT', 'LIST', cols=250)
    h.ok(len(re.findall(r'^-\[ RECORD', res[1], re.M)) == len(NAMES),
         '-x: one block per record', *show(*res))

with h.section('the pager'):
    log = os.path.join(env.tmp, 'paged')
    pager = 'cat > %s' % log
    res = tty('PARTICIPANT', 'LIST', cols=250, rows=10,
              extra={'PAGER': pager})
    paged = open(log).read() if os.path.exists(log) else ''
    h.ok('(12 rows)' in paged and '(12 rows)' not in res[1],
         'longer than the screen: through $PAGER', *show(*res))
    os.unlink(log) if os.path.exists(log) else None
    res = tty('PARTICIPANT', 'LIST', cols=250, rows=50,
              extra={'PAGER': pager})
    h.ok(not os.path.exists(log) and '(12 rows)' in res[1],
         'shorter than the screen: printed', *show(*res))
    res = tty('--no-pager', 'PARTICIPANT', 'LIST', cols=250, rows=10,
              extra={'PAGER': pager})
    h.ok(not os.path.exists(log) and '(12 rows)' in res[1],
         '--no-pager: printed', *show(*res))
    res = tty('PARTICIPANT', 'LIST', cols=250, rows=10, extra={'PAGER': ''})
    h.ok(not os.path.exists(log) and '(12 rows)' in res[1],
         'PAGER empty: printed', *show(*res))
    res = tty('PARTICIPANT', 'LIST', cols=250, rows=10,
              extra={'PAGER': 'no-such-pager-here'})
    h.ok('(12 rows)' in res[1], 'a pager that cannot run: printed anyway',
         *show(*res))
    rc, out, err = plain('PARTICIPANT', 'LIST', '--format', 'table',
                         extra={'PAGER': pager})
    h.ok(not os.path.exists(log) and '(12 rows)' in out,
         'not a terminal: never paged')

with h.section('CSV columns do not depend on the first row'):
    rc, out, err = plain('--format', 'csv', 'SESSION', 'LIST')
    rows = list(csv.reader(io.StringIO(out)))
    with rd.login('admin') as a:
        sfields = a.request('HELP command="SESSION LIST"').records[0][
            'fields'].split()
    h.is_(rows[0] if rows else None, sfields,
          'the header is HELP fields=, in order, though S1 has no theme')
    h.is_([r[sfields.index('theme')] for r in rows[1:]], ['', 'Routes'],
          'each value under its own column')
    rc, out, err = plain('--format', 'csv', 'PARTICIPANT', 'LIST')
    rows = list(csv.reader(io.StringIO(out)))
    h.is_(rows[0] if rows else None, fields,
          'PARTICIPANT LIST: every field, checked_in too though empty')

with h.section('--format json: numbers, booleans, errors'):
    rc, out, err = plain('--format', 'json', 'PARTICIPANT', 'LIST')
    data = json.loads(out) if rc == 0 else []
    first = data[0] if data else {}
    h.ok(isinstance(first.get('id'), int) and
         isinstance(first.get('version'), int), 'id and version are numbers',
         '    %r' % first)
    h.ok(isinstance(first.get('badge'), str) and
         isinstance(first.get('party'), str), 'codes stay strings')
    rc, out, err = plain('--format', 'json', 'USER', 'LIST')
    data = json.loads(out) if rc == 0 else []
    h.is_([u.get('enabled') for u in data], [True],
          'enabled=yes is true')
    rc, out, err = plain('--format', 'json', 'PARTICIPANT', 'SHOW',
                         'id=999999')
    try:
        e = json.loads(err)
    except ValueError:
        e = None
    h.ok(rc == 1 and isinstance(e, dict) and
         e.get('error', {}).get('code') == 'NOT_FOUND' and
         'not found' in e.get('error', {}).get('message', ''),
         'an ERR is a JSON object on stderr, exit 1', '    %r' % err)

with h.section('the shell: \\x, \\format, \\pager'):
    res = tty('shell', cols=250, extra={'PAGER': ''}, stdin='\\x on\nPARTY LIST kind=country\n'
              '\\x off\n\\format csv\nSESSION LIST\n\\pager off\n\\?\n')
    rc, out, err = res
    h.ok(re.search(r'Expanded display is on\.', out), '\\x on',
         *show(*res))
    h.ok(re.search(r'^-\[ RECORD 1 \]', out, re.M) is not None,
         'a list in blocks after \\x on')
    h.like(out, r'Output format is csv\.', '\\format csv')
    h.ok(','.join(sfields) in out, 'then CSV with the defined columns')
    h.like(out, r'Pager is off\.', '\\pager off')
    h.like(out, r'\\x \[on\|off\|auto\]', '\\? lists the switches')

h.done_testing()
