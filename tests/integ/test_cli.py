"""test_cli.py -- the real CLI, client/roster, in one-shot mode against a
real rosterd: exit status 0 for OK, 1 for ERR, 2 for usage, connection,
TLS and login errors; --format records, csv and json; values quoted for the
wire; --event; a client certificate instead of a password; import of a
CSV file as Excel writes it (a BOM, ';' between fields, CRLF, a line end
inside a quoted cell)."""

import csv
import io
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup(users=[('fp', 'focal', 'TR')])
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
TITLE = 'Meeting, "quoted" title'
with rd.login('admin') as a:
    for line in ('PARTY ADD code=ICMPD kind=organisation name="ICMPD HQ"',
                 'EVENT CREATE code=SOM37 title=%s city=Istanbul country=TR '
                 'starts=2025-11-26 ends=2025-11-27' % h.quote(TITLE)):
        r = a.request(line)
        if not r.ok:
            h.bail('%s: %s' % (line, r.final))


def cli(*args, **kw):
    kw.setdefault('user', 'admin')
    kw.setdefault('password', PW)
    rc, out, err = env.cli(rd, *args, **kw)
    h.diag('roster %s -> %d' % (' '.join(args), rc))
    return rc, out, err


def show(rc, out, err):
    return ('    exit %d' % rc, '    stdout: %r' % out[:2000],
            '    stderr: %r' % err[:2000])


with h.section('exit status'):
    res = cli('PING', user=None, password=None)
    h.ok(res[0] == 0 and 'pong' in res[1], 'PING: exit 0, pong', *show(*res))
    res = cli('EVENT', 'LIST')
    h.ok(res[0] == 0 and 'SOM37' in res[1], 'EVENT LIST: exit 0',
         *show(*res))
    res = cli('event', 'list')
    h.is_(res[0], 0, 'command words in lower case')
    res = cli('EVENT', 'SHOW', 'event=NOPE')
    h.ok(res[0] == 1 and 'NOT_FOUND' in res[1] + res[2],
         'ERR NOT_FOUND: exit 1 and the code shown', *show(*res))
    res = cli('USER', 'LIST', user='fp')
    h.ok(res[0] == 1 and 'FORBIDDEN' in res[1] + res[2],
         'ERR FORBIDDEN: exit 1', *show(*res))
    res = cli('EVENT', 'LIST', password='wrong password!')
    h.is_(res[0], 2, 'wrong password: exit 2 (login error)')
    res = cli('EVENT', 'LIST', ca=env.certs.other_ca)
    h.ok(res[0] == 2 and res[1] == '', 'a CA that does not match: exit 2, '
         'nothing on stdout', *show(*res))
    res = cli('EVENT', 'LIST', port=h.free_port())
    h.is_(res[0], 2, 'nobody listening: exit 2')
    res = cli(user=None, password=None)
    h.is_(res[0], 2, 'no command: exit 2 (usage)')
    res = cli('--format', 'yaml', 'PING')
    h.is_(res[0], 2, '--format yaml: exit 2 (usage)')
    res = cli('EVENT', 'LIST', password=None)
    h.is_(res[0], 2, 'no password and no terminal to ask on: exit 2')

with h.section('--format records'):
    rc, out, err = cli('--format', 'records', 'EVENT', 'LIST')
    lines = out.splitlines()
    h.is_(rc, 0, 'exit 0')
    h.is_(lines[-1:], ['OK count=1'], 'the final line as received')
    recs = [h.parse_record(l) for l in lines if l.startswith('* ')]
    h.is_([(r.get('code'), r.get('title')) for r in recs],
          [('SOM37', TITLE)], 'the record as received, parseable')
    rc, out, err = cli('PING', user=None)
    h.is_(out, 'OK pong\n', 'records is the default when stdout is no '
          'terminal')

with h.section('--format json'):
    rc, out, err = cli('--format', 'json', 'EVENT', 'LIST')
    try:
        data = json.loads(out)
    except ValueError as e:
        data = None
        h.diag('not JSON: %s: %r' % (e, out))
    h.ok(isinstance(data, list) and len(data) == 1, 'a JSON list of one')
    rec = data[0] if data else {}
    h.is_((rec.get('code'), rec.get('title'), rec.get('city')),
          ('SOM37', TITLE, 'Istanbul'), 'the record as an object')
    rc, out, err = cli('--format', 'json', 'PARTY', 'SHOW', 'party=TR')
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    h.ok(isinstance(data, list) and len(data) == 1 and
         data[0].get('code') == 'TR', 'PARTY SHOW as JSON', *show(rc, out,
                                                                  err))
    rc, out, err = cli('--format', 'json', 'EVENT', 'SET', 'event=SOM37',
                       'city=Izmir')
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    h.ok(rc == 0 and isinstance(data, dict) and data.get('version') == 2,
         'a write\'s OK fields as a JSON object', *show(rc, out, err))
    rc, out, err = cli('--format', 'json', 'EVENT', 'LIST', 'kind=x')
    h.is_(rc, 1, 'an ERR in JSON mode: exit 1')

with h.section('--format csv'):
    rc, out, err = cli('--format', 'csv', 'PARTY', 'LIST',
                       'kind=organisation')
    rows = list(csv.DictReader(io.StringIO(out)))
    h.is_([(r.get('code'), r.get('kind'), r.get('name')) for r in rows],
          [('ICMPD', 'organisation', 'ICMPD HQ')], 'CSV with a header row')
    rc, out, err = cli('--format', 'csv', 'EVENT', 'SHOW', 'event=SOM37')
    rows = list(csv.DictReader(io.StringIO(out)))
    h.is_([r.get('title') for r in rows], [TITLE],
          'comma and quotes survive RFC 4180 quoting')

with h.section('arguments'):
    venue = 'Hall "B" \\ east = 2'
    rc, out, err = cli('EVENT', 'SET', 'event=SOM37', 'venue=' + venue)
    h.is_(rc, 0, 'EVENT SET with a value needing quotes', ) or \
        h.diag(*show(rc, out, err))
    with rd.login('admin') as a:
        r = a.request('EVENT SHOW event=SOM37')
        h.is_((r.records or [{}])[0].get('venue'), venue,
              'the value arrived exactly')
    rc, out, err = cli('-e', 'SOM37', 'EVENT', 'SHOW')
    h.ok(rc == 0 and 'code=SOM37' in out, '--event sends USE first',
         *show(rc, out, err))
    crt, key = env.certs.client('admin')
    rc, out, err = cli('--cert', crt, '--key', key, 'WHOAMI', user=None,
                       password=None)
    h.ok(rc == 0 and 'user=admin' in out,
         'a client certificate logs in without a password',
         *show(rc, out, err))
    rc, out, err = cli('--help', user=None, password=None)
    h.ok(rc == 0 and 'usage' in out.lower(), '--help: exit 0, usage')

with h.section('import of a file as Excel writes it'):
    xls = os.path.join(h.SRCDIR, 'tests', 'integ', 'data',
                       'excel-delegations.csv')
    with rd.login('admin') as a:
        for line in ('EVENT CREATE code=XL title=Excel city=Istanbul '
                     'country=TR starts=2025-11-26 ends=2025-11-27',
                     'EVENT SET event=XL status=open'):
            r = a.request(line)
            if not r.ok:
                h.bail('%s: %s' % (line, r.final))
    rc, out, err = cli('--event', 'XL', 'import', 'delegations', xls)
    h.ok(rc == 0 and '3 rows: added 3, updated 0, unchanged 0, refused 0' in err,
         'BOM, ";", CRLF and a quoted line end: 3 rows added',
         *show(rc, out, err))
    with rd.login('admin') as a:
        got = {r.get('party'): (r.get('quota'), r.get('note'))
               for r in a.request('DELEGATION LIST event=XL').records}
    h.is_(got, {'TR': ('5', 'Arrives Monday 24 November;\nhotel: Pera '
                       'Palace, "room block" B'),
                'DE': ('3', 'Frau M\u00fcller leads'),
                'ICMPD': (None, 'two\nlines')},
          'each cell arrived as Excel showed it (an empty cell left out)')
    rc, out, err = cli('--event', 'XL', 'import', 'delegations', xls)
    h.ok(rc == 0 and 'added 0, updated 0, unchanged 3, refused 0' in err,
         'imported again: nothing added twice', *show(rc, out, err))

h.done_testing()
