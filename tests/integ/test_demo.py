"""test_demo.py -- the demo meeting end to end with the CLI alone: import
its parties, delegations, participants, sessions and speakers
(deploy/demo/, the som37 fixture), import them all again (nothing is
added), confirm, enrol, check in, and export the list of participants,
which must equal tests/integ/expected/som37-participants.csv but for the
ids and badges (assigned at import time, so masked in both)."""

import csv
import io
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

DEMO = os.path.join(h.SRCDIR, 'deploy', 'demo')
EXPECTED = os.path.join(h.SRCDIR, 'tests', 'integ', 'expected',
                        'som37-participants.csv')


def masked(text):
    """The CSV with the id and badge columns blanked."""
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    drop = [head.index('id'), head.index('badge')]
    for row in rows[1:]:
        for i in drop:
            row[i] = '*'
    out = io.StringIO()
    csv.writer(out, lineterminator='\n').writerows(rows)
    return out.getvalue()


env, rd = h.setup()


def cli(*args, **kw):
    return env.cli(rd, *args, user=h.ADMIN, password=h.PASSWORD, **kw)


def imp(kind):
    t = time.monotonic()
    event = ['--event', 'som37'] if kind != 'parties' else []
    code, out, err = cli(*event, 'import', kind,
                         os.path.join(DEMO, kind + '.csv'), timeout=120)
    return code, out + err, time.monotonic() - t


timings = {}
code, text, timings['parties'] = imp('parties')
h.is_(code, 0, 'import parties: every row accepted')
if code != 0:
    h.diag(text)
with open(os.path.join(DEMO, 'event.csv'), newline='') as f:
    ev = next(csv.DictReader(f))
code, out, err = cli('EVENT', 'CREATE', *('%s=%s' % kv
                                          for kv in ev.items()))
h.is_(code, 0, 'EVENT CREATE som37 from event.csv (%s)' % err.strip())
code, out, err = cli('EVENT', 'SET', 'event=som37', 'status=open')
h.is_(code, 0, 'the event is open')

for kind in ('delegations', 'participants', 'sessions', 'speakers'):
    if kind == 'participants':
        code, out, err = cli('--event', 'som37', '--dry-run', 'import',
                             kind, os.path.join(DEMO, kind + '.csv'))
        h.is_(code, 0, 'import --dry-run participants: every row would '
              'be accepted (%s)' % err.strip().splitlines()[0])
        h.is_(env.pg.scalar('SELECT count(*) FROM roster.participant'),
              '0', 'a dry run adds nothing')
    code, text, secs = imp(kind)
    timings[kind] = secs
    h.is_(code, 0, 'import %s: every row accepted' % kind)
    if code != 0:
        h.diag(text)
h.diag('import wall times: ' + ', '.join(
    '%s %.2f s' % kv for kv in timings.items()))

counts = {
    'parties': "SELECT count(*) FROM roster.party WHERE kind = "
               "'organisation'",
    'delegations': 'SELECT count(*) FROM roster.delegation',
    'participants': 'SELECT count(*) FROM roster.participant',
    'speakers': 'SELECT count(*) FROM roster.speaker',
    'sessions': 'SELECT count(*) FROM roster.session',
}
before = {k: env.pg.scalar(q) for k, q in counts.items()}
h.is_(before, {'parties': '12', 'delegations': '51',
               'participants': '165', 'speakers': '4',
               'sessions': '7'},
      '12 organisations, 51 delegations, 165 participants, 7 sessions, '
      '4 speakers')
kinds = env.pg.query("SELECT p.kind, count(*) FROM roster.delegation d "
                     "JOIN roster.party p ON p.id = d.party_id "
                     "GROUP BY 1 ORDER BY 1")
h.is_(kinds, [['country', '39'], ['organisation', '12']],
      '39 country delegations and 12 of organisations')

for kind in ('delegations', 'participants', 'sessions', 'speakers'):
    code, text, _ = imp(kind)
    h.is_(code, 0, 're-import %s is accepted' % kind)
after = {k: env.pg.scalar(q) for k, q in counts.items()}
h.is_(after, before, 'importing again added nothing')

# a day at the meeting: confirm, enrol, check in
c = rd.login('admin', use='som37')
ids = [r['id'] for r in c.request('PARTICIPANT LIST party=HU').records]
replies = c.pipeline(['PARTICIPANT CONFIRM id=%s' % i for i in ids] +
                     ['ENROL session=twg-return participant=%s' % ids[0],
                      'CHECKIN id=%s' % ids[0]])
h.ok(all(r.ok for r in replies), 'confirm, enrol and check in HU',
     *[r.final for r in replies if not r.ok])
c.close()

code, out, err = cli('--event', 'som37', 'export', 'participants')
h.is_(code, 0, 'roster export participants')
if os.environ.get('ROSTER_WRITE_EXPECTED'):  # to review by hand
    with open(os.environ['ROSTER_WRITE_EXPECTED'], 'w') as f:
        f.write(out)
with open(EXPECTED, newline='') as f:
    want = f.read()
got = masked(out)
h.is_(got, masked(want), 'the list of participants is the expected file')
if got != masked(want):
    for a, b in zip(got.splitlines(), masked(want).splitlines()):
        if a != b:
            h.diag('first difference:', '  got:  ' + a, '  want: ' + b)
            break
h.done_testing()

