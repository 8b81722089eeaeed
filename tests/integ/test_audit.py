"""test_audit.py -- AUDIT (PROTOCOL.md section 7, daemon/cmd-audit.c):
one record per roster.audit row, oldest first, with user, command and
target; every kind of change is there; limit=, user= and since= and their
combinations; a change shows at once; only admin and secretariat may
read it, and the error code of each refusal."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('ftr', 'focal', 'TR')])

A = rd.login('admin')
S = rd.login('sec')
H = rd.login('hst')
F = rd.login('ftr')
N = rd.connect()                   # nobody logged in
ROLES = {'admin': A, 'secretariat': S, 'host': H, 'focal': F}
P = {}          # name -> participant id

with h.section('set-up: every kind of change, some by the host'):
    h.event(A, 'E1')
    for c in (A, S, H, F):
        h.must(c, 'USE event=E1', event='E1')
    for line in ('DELEGATION REGISTER party=TR',
                 'DELEGATION REGISTER party=RS',
                 'DELEGATION REGISTER party=SA'):
        h.must(H, line)
    h.must(S, 'DELEGATION SET party=TR note="Delegation of Türkiye"')
    h.must(S, 'DELEGATION CONFIRM party=TR')
    h.must(S, 'DELEGATION DECLINE party=SA reason="Not attending"')
    for key, party, name in (('Serra', 'TR', 'Serra Albayrakoğlu'),
                             ('Kemal', 'TR', 'Kemal Yıldız'),
                             ('Petar', 'RS', 'Petar Nikolić'),
                             ('Maria', 'RS', 'Maria Rossi')):
        P[key] = h.must(H, 'PARTICIPANT ADD party=%s name=%s'
                        % (party, h.quote(name))).fields['id']
    h.must(S, 'PARTICIPANT SET id=%s title=Counsellor' % P['Kemal'])
    h.must(S, 'PARTICIPANT CONFIRM id=%s' % P['Serra'])
    h.must(S, 'PARTICIPANT DECLINE id=%s' % P['Kemal'])
    h.must(H, 'CHECKIN id=%s' % P['Serra'])
    h.must(H, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:30')
    h.must(S, 'SESSION SET session=S1 room="Hall B"')
    h.must(H, 'SPEAKER ADD session=S1 participant=%s' % P['Serra'])
    h.must(S, 'SPEAKER REMOVE session=S1 participant=%s' % P['Serra'])
    h.must(S, 'ENROL session=S1 participant=%s' % P['Petar'])
    h.must(S, 'UNENROL session=S1 participant=%s' % P['Petar'])
    h.must(A, 'PARTICIPANT ERASE id=%s' % P['Maria'])

# --------------------------------------------------------------------------
with h.section('AUDIT'):
    full = A.request('AUDIT limit=1000000')
    h.ok_reply(full, 'AUDIT: OK count=N', count=str(len(full.records)))
    db = env.pg.query('SELECT username, command, coalesce(target, \'\') '
                  'FROM roster.audit ORDER BY at, id')
    h.is_(len(full.records), len(db), 'AUDIT: one record per audit row')
    h.is_([(r.get('user'), r.get('command'), r.get('target', ''))
           for r in full.records], [tuple(x) for x in db],
          'AUDIT: user, command and target of each change, oldest first')
    ats = [r.get('at') for r in full.records]
    h.ok(all(h.TIMESTAMP_RE.match(a or '') for a in ats),
         'every at= is a UTC timestamp')
    h.is_(ats, sorted(ats), 'oldest first')
    h.ok(all(set(r) <= {'at', 'user', 'command', 'target', 'detail'}
             for r in full.records), 'records: at user command target '
         'detail')
    cmds = {r.get('command') for r in full.records}
    want = {'DELEGATION REGISTER', 'DELEGATION SET', 'DELEGATION CONFIRM',
            'DELEGATION DECLINE', 'PARTICIPANT ADD', 'PARTICIPANT SET',
            'PARTICIPANT CONFIRM', 'PARTICIPANT DECLINE', 'PARTICIPANT ERASE',
            'CHECKIN', 'SESSION CREATE', 'SESSION SET', 'SPEAKER ADD',
            'SPEAKER REMOVE', 'ENROL', 'UNENROL'}
    h.is_(sorted(want - cmds), [], 'every kind of change is in AUDIT')
    h.is_(A.request('AUDIT limit=3').records, full.records[-3:],
          'AUDIT limit=3: the last three changes, oldest first')
    hst = [r for r in full.records if r.get('user') == 'hst']
    h.ok(len(hst) > 3, 'host made changes')
    h.is_(A.request('AUDIT user=hst limit=1000000').records, hst,
          'AUDIT user=hst: exactly the host\'s changes')
    h.is_(S.request('AUDIT user=HST limit=1000000').records, hst,
          'AUDIT user=HST (case), as secretariat')
    h.is_(A.request('AUDIT user=nobody').records, [],
          'AUDIT user= of someone who changed nothing')
    t = ats[len(ats) // 2]
    since = [r for r in full.records if r.get('at') >= t]
    h.is_(A.request('AUDIT since=%s limit=1000000' % t).records, since,
          'AUDIT since=: the changes at or after it')
    h.is_(A.request('AUDIT since=%s limit=2' % t).records, since[:2],
          'AUDIT since= limit=2: the first two at or after it')
    h.is_(A.request('AUDIT since=%s user=hst limit=1000000' % t).records,
          [r for r in since if r.get('user') == 'hst'],
          'AUDIT since= user=')
    r = A.request('AUDIT since=2100-01-01T00:00:00Z')
    h.is_((r.final, r.records), ('OK count=0', []),
          'AUDIT since= in the future: none')
    h.err_reply(A.request('AUDIT since=2025-11-26'), 'INVALID',
                'AUDIT since= a date only')
    h.err_reply(A.request('AUDIT limit=0'), 'INVALID', 'AUDIT limit=0')
    h.err_reply(A.request('AUDIT limit=x'), 'INVALID', 'AUDIT limit=x')
    h.err_reply(A.request('AUDIT user="a b"'), 'INVALID',
                'AUDIT user= not a code')
    h.err_reply(A.request('AUDIT party=TR'), 'SYNTAX',
                'AUDIT with an unknown key')
    # Who may: the same request and refusal as "host cannot AUDIT", "focal
    # cannot AUDIT" and "AUDIT not logged in", with no audit row for them.
    h.only_for(ROLES, N, 'AUDIT', ('admin', 'secretariat'))
    # A change shows up at once, with its actor.
    n = env.audit_count()
    h.write(H, 'PARTICIPANT SET id=%s title="Adviser on return"' % P['Petar'],
            'one more change')
    last = A.request('AUDIT limit=1').records
    h.ok(len(last) == 1 and last[0].get('command') == 'PARTICIPANT SET' and
         last[0].get('user') == 'hst' and
         last[0].get('target', '').endswith('/participant/%s' % P['Petar']),
         'AUDIT limit=1: the change just made', repr(last))
    h.is_(len(A.request('AUDIT limit=1000000').records), n + 1,
          'AUDIT holds one more record')

h.done_testing()
