"""test_attendance.py -- roster export attendance (README, "roster
export"): the CLI turns rosterd's sessions cell ("S1 TIME; W1 TIME") into
one column per session of the event, in SESSION LIST's order and headed by
the session's code, whether or not anyone was checked in to it; with
--long, one row per person and session (session, session_time), a person
checked in to none on a row of their own. The times are the event's local
times with the offset; CSV, TSV and XLSX carry the same rows; --long is
refused for another list."""

import csv
import io
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup()
ID = {}
with rd.login('admin') as a:
    h.event(a, 'E1')
    h.must(a, 'USE event=E1')
    h.must(a, 'DELEGATION REGISTER party=TR')
    for code, start in (('W1', '2025-11-26T14:00'), ('S1', '2025-11-26T09:00'),
                        ('S2', '2025-11-27T09:00')):
        h.must(a, 'SESSION CREATE code=%s kind=plenary title=T%s starts=%s '
               'ends=%s' % (code, code, start, start[:-5] + '23:00'))
    for name in ('Ayla Kaya', 'Bora Demir', 'Cem Polat'):
        ID[name] = h.must(a, 'PARTICIPANT ADD party=TR name=%s'
                          % h.quote(name)).fields['id']
    for name, session, at in (('Ayla Kaya', 'S1', '2025-11-26T06:05:00Z'),
                              ('Ayla Kaya', 'W1', '2025-11-26T11:02:00Z'),
                              ('Bora Demir', 'S2', '2025-11-27T06:30:00Z')):
        h.must(a, 'CHECKIN id=%s session=%s at=%s' % (ID[name], session, at))
    order = [r['code'] for r in h.records(a, 'SESSION LIST')]


def cli(*args):
    return env.cli(rd, '--event', 'E1', *args, user='admin',
                   password=h.PASSWORD)


def rows_of(path, delim=','):
    with open(path, encoding='utf-8', newline='') as f:
        return list(csv.reader(f, delimiter=delim))


OUT = env.tmp
with h.section('a column per session'):
    h.is_(order, ['S1', 'W1', 'S2'], 'SESSION LIST: by start')
    path = os.path.join(OUT, 'att.csv')
    rc, out, err = cli('export', 'attendance', '-o', path)
    h.is_(rc, 0, 'exit 0') or h.diag(err)
    rows = rows_of(path)
    head = rows[0] if rows else []
    h.ok('sessions' not in head, 'no sessions column')
    h.is_(head[-3:], order, 'the sessions\' codes as the last columns, '
          'in SESSION LIST\'s order')
    got = {r[head.index('name')]: r[-3:] for r in rows[1:]}
    h.is_(got, {'Ayla Kaya': ['2025-11-26T09:05:00+03:00',
                              '2025-11-26T14:02:00+03:00', ''],
                'Bora Demir': ['', '', '2025-11-27T09:30:00+03:00'],
                'Cem Polat': ['', '', '']},
          'each check-in under its session, in Istanbul time')
    h.is_(len(head), len(set(head)), 'no column twice')
    h.ok('checked_in' in head and 'family' in head,
         'the other columns stay')

with h.section('--long: a row per person and session'):
    path = os.path.join(OUT, 'long.csv')
    rc, out, err = cli('--long', 'export', 'attendance', '-o', path)
    h.is_(rc, 0, 'exit 0') or h.diag(err)
    rows = rows_of(path)
    head = rows[0] if rows else []
    h.is_(head[-2:], ['session', 'session_time'], 'session, session_time')
    got = [(r[head.index('name')], r[-2], r[-1]) for r in rows[1:]]
    h.is_(got, [('Ayla Kaya', 'S1', '2025-11-26T09:05:00+03:00'),
                ('Ayla Kaya', 'W1', '2025-11-26T14:02:00+03:00'),
                ('Bora Demir', 'S2', '2025-11-27T09:30:00+03:00'),
                ('Cem Polat', '', '')],
          'Ayla twice, Bora once, Cem (no session) once')

with h.section('TSV and XLSX carry the same rows'):
    csvp, tsvp = os.path.join(OUT, 'a.csv'), os.path.join(OUT, 'a.tsv')
    cli('export', 'attendance', '-o', csvp)
    rc, out, err = cli('export', 'attendance', '-o', tsvp)
    h.is_(rc, 0, '.tsv: exit 0') or h.diag(err)
    h.is_(rows_of(tsvp, '\t'), rows_of(csvp), 'TSV: the CSV\'s rows')
    rc, out, err = cli('export', 'attendance', 'format=tsv')
    h.is_(out.splitlines()[0].split('\t') if out else None, rows_of(csvp)[0],
          'TSV to stdout too')
    x = os.path.join(OUT, 'a.xlsx')
    rc, out, err = cli('export', 'attendance', '-o', x)
    p = subprocess.run(['/usr/bin/python3', '-c',
                        'import openpyxl,sys,json;'
                        'ws=openpyxl.load_workbook(sys.argv[1]).worksheets[0];'
                        'print(json.dumps([c.value for c in ws[1]]))', x],
                       capture_output=True, text=True)
    h.is_(p.stdout.strip(), '[%s]' % ', '.join('"%s"' % c
                                               for c in rows_of(csvp)[0]),
          'XLSX: the same header') or h.diag(p.stderr)

with h.section('--long is for attendance'):
    rc, out, err = cli('--long', 'export', 'participants')
    h.ok(rc == 2 and '--long' in err, '--long with participants: refused',
         '    %r' % err)

h.done_testing()
