"""test_checkin.py -- CHECKIN's ref= and at= (PROTOCOL.md section 5), what
the offline check-in desk replays: a ref is done once and its repeat
answers the first reply with replay=1 (also after another check-in path,
and by badge or id alike; for another participant or session it is
CONFLICT); two refs for one badge: the second answers already=1; at= is
recorded as given (PARTICIPANT SHOW, EXPORT attendance), refused in the
future (past 5 minutes of skew) and outside the event's days in its time
zone; the earliest scan wins, for the event and for a session, and is a
change (audit row, `! checkin ... already=1`); the roles; dry runs change
nothing and claim no ref; a replay after a decline or an erasure (whose
stored reply holds no name)."""

import csv
import datetime
import io
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, N = roles.A, roles.S, roles.H, roles.F, roles.N
ROLES = roles.by_role
pg = env.pg
P = {}          # name -> participant id
BADGE = {}      # name -> badge
NAMES = ('Ayşe Yılmaz', 'Deniz Ak', 'Ömer Polat', 'Şule Kaya', 'Can Demir',
         'Elif Şahin', 'Mert Aydın', 'Zeynep Arslan', 'Emre Koç')


def part(pid):
    return h.show(A, 'PARTICIPANT SHOW id=%s' % pid)


def checkins(pid):
    return int(pg.scalar('SELECT count(*) FROM roster.checkin '
                         'WHERE participant_id = %d' % int(pid)))


def refs(ref):
    return int(pg.scalar("SELECT count(*) FROM roster.request_ref "
                         "WHERE ref = '%s'" % ref))


def attendance(line='EXPORT what=attendance'):
    """The attendance export as {id: row}."""
    r = A.request(line)
    rows = list(csv.reader(io.StringIO('\n'.join(r.data), newline='')))
    if not r.ok or not rows:
        h.diag('%s -> %s' % (line, r.final))
        return {}
    return {x[rows[0].index('id')]: dict(zip(rows[0], x)) for x in rows[1:]}


def utc(dt):
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


with h.section('set-up: E1 (2025-11-26 to 28, Istanbul), session S1, '
               'participants; E3 around today'):
    h.event(A, 'E1')
    today = datetime.datetime.now(datetime.timezone.utc).date()
    h.event(A, 'E3', timezone='UTC',
            starts=(today - datetime.timedelta(days=1)).isoformat(),
            ends=(today + datetime.timedelta(days=1)).isoformat())
    for c in (A, S, H, F):
        h.must(c, 'USE event=E1', event='E1')
    h.must(A, 'DELEGATION REGISTER party=TR quota=20')
    h.must(A, 'DELEGATION REGISTER event=E3 party=TR')
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:30')
    for name in NAMES:
        r = h.must(A, 'PARTICIPANT ADD party=TR name=%s' % h.quote(name))
        P[name] = r.fields['id']
        BADGE[name] = r.fields['badge']
    E3_ID = h.must(A, 'PARTICIPANT ADD event=E3 party=TR '
                   'name="Today Only"').fields['id']
    W = rd.login('admin')
    h.must(W, 'WATCH event=E1')

# --------------------------------------------------------------------------
with h.section('ref=: done once, the repeat answers replay=1'):
    who = P[NAMES[0]]
    line = 'CHECKIN badge=%s at=2025-11-26T07:15:00Z ref=desk1:1' % (
        BADGE[NAMES[0]])
    r1 = h.write(H, line, 'a desk scan with ref= and at=', id=who,
                 party='TR', name=NAMES[0], checked_in='2025-11-26T07:15:00Z')
    h.ok('replay' not in r1.fields and 'already' not in r1.fields,
         'the first: neither replay= nor already=', '    %r' % r1.final)
    r2 = h.write(H, line, 'the same scan replayed', changes=0, replay='1')
    h.is_(r2.final, r1.final + ' replay=1',
          'the replay is the first reply plus replay=1')
    h.is_(checkins(who), 1, 'one check-in')
    h.write(S, 'CHECKIN id=%s at=2025-11-26T07:15:00Z ref=desk1:1' % who,
            'replayed by id, by another user', changes=0, replay='1',
            checked_in='2025-11-26T07:15:00Z')
    h.refused(H, 'CHECKIN id=%s ref=desk1:1' % P[NAMES[1]], 'CONFLICT',
              'the same ref for another participant')
    h.refused(H, 'CHECKIN id=%s session=S1 ref=desk1:1' % who, 'CONFLICT',
              'the same ref for a session')
    h.refused(A, 'SESSION CREATE code=S9 kind=plenary title=X '
              'starts=2025-11-27T09:00 ends=2025-11-27T10:00 ref=desk1:1',
              'CONFLICT', 'the ref reused for another command of no party')
    h.write(F, 'PARTICIPANT ADD party=TR name="Focal Ref" ref=desk1:1',
            'a focal point\'s ref of the same text is their own party\'s',
            party='TR')
    h.write(H, line, 'and the desk\'s replay still answers', changes=0,
            replay='1', checked_in='2025-11-26T07:15:00Z')

with h.section('ref=: replayed after a check-in by another path'):
    who = P[NAMES[1]]
    line = 'CHECKIN id=%s at=2025-11-26T08:00:00Z ref=desk1:2' % who
    r1 = h.write(H, line, 'a desk scan', checked_in='2025-11-26T08:00:00Z')
    h.write(A, 'CHECKIN id=%s' % who, 'checked in again online, no ref',
            changes=0, already='1', checked_in='2025-11-26T08:00:00Z')
    h.write(A, 'CHECKIN id=%s at=2025-11-26T07:00:00Z' % who,
            'an earlier scan from another desk', already='1',
            checked_in='2025-11-26T07:00:00Z')
    r2 = h.write(H, line, 'the first desk replays its scan', changes=0,
                 replay='1')
    h.is_(r2.final, r1.final + ' replay=1',
          'it answers its first reply, and does nothing else')
    h.is_(part(who).get('checked_in'), '2025-11-26T07:00:00Z',
          'checked_in stays the earliest scan')

with h.section('two refs for one badge'):
    who, badge = P[NAMES[2]], BADGE[NAMES[2]]
    h.write(H, 'CHECKIN badge=%s at=2025-11-27T06:30:00Z ref=desk1:3' % badge,
            'the first desk', checked_in='2025-11-27T06:30:00Z')
    r = h.write(H, 'CHECKIN badge=%s at=2025-11-27T06:45:00Z ref=desk2:1'
                % badge, 'a second desk, another ref, a later scan',
                changes=0, id=who, already='1',
                checked_in='2025-11-27T06:30:00Z')
    h.ok('replay' not in r.fields, 'the existing already=1 answer, no replay')
    h.is_(r.final, 'OK id=%s party=TR name=%s checked_in=2025-11-27T06:30:00Z '
          'already=1 status=registered' % (who, h.quote(NAMES[2])),
          'the reply of a second check-in, as without ref=')
    h.write(H, 'CHECKIN badge=%s at=2025-11-27T06:45:00Z ref=desk2:1' % badge,
            'the second desk replays', changes=0, already='1', replay='1')
    h.is_(checkins(who), 1, 'one check-in')

# --------------------------------------------------------------------------
with h.section('at=: recorded as given'):
    who = P[NAMES[3]]
    h.write(H, 'CHECKIN id=%s at=2025-11-28T12:34:56Z' % who,
            'at= on the last day', checked_in='2025-11-28T12:34:56Z')
    h.is_(part(who).get('checked_in'), '2025-11-28T12:34:56Z',
          'PARTICIPANT SHOW: checked_in is the scan\'s time')
    h.write(H, 'CHECKIN id=%s session=S1 at=2025-11-26T06:05' % who,
            'at= with session= (HH:MM, no Z: UTC)',
            checked_in='2025-11-26T06:05:00Z')
    h.is_(part(who).get('checked_in'), '2025-11-26T06:05:00Z',
          'checked_in: the earliest check-in of any kind')
    row = attendance().get(who, {})
    h.is_((row.get('checked_in'), row.get('sessions')),
          ('2025-11-26T09:05:00+03:00', 'S1 2025-11-26T09:05:00+03:00'),
          'EXPORT attendance: checked_in and the session\'s time, in the '
          'event\'s zone (Istanbul) with its offset')
    row = attendance('EXPORT what=attendance session=S1').get(who, {})
    h.is_(row.get('session_checked_in'), '2025-11-26T09:05:00+03:00',
          'EXPORT attendance session=S1: session_checked_in')
    h.is_(pg.scalar("SELECT roster._fmt_ts(at) FROM roster.checkin WHERE "
                    "participant_id = %s AND session_id IS NULL" % who),
          '2025-11-28T12:34:56Z',
          'the event check-in keeps its own time')

with h.section('at=: the event\'s days, in its time zone'):
    who = P[NAMES[4]]
    # Europe/Istanbul is UTC+3: the days run from 2025-11-25T21:00:00Z to
    # 2025-11-28T21:00:00Z.
    for at in ('2025-11-25T20:59:59Z', '2025-11-28T21:00:00Z',
               '2025-11-20T10:00:00Z', '2026-01-01T00:00:00Z'):
        r = h.refused(H, 'CHECKIN id=%s at=%s' % (who, at), 'INVALID',
                      'at=%s: outside the event\'s days' % at)
        h.like(r.text, r'^at: ', 'the message names the key')
    h.is_(checkins(who), 0, 'no check-in')
    h.write(H, 'CHECKIN id=%s at=2025-11-25T21:00:00Z' % who,
            'at= the first moment of the first day (local midnight)',
            checked_in='2025-11-25T21:00:00Z')
    h.write(H, 'CHECKIN id=%s session=S1 at=2025-11-28T20:59:59Z' % who,
            'at= the last second of the last day',
            checked_in='2025-11-28T20:59:59Z')
    r = h.refused(H, 'CHECKIN id=%s session=S1 at=2025-11-29T08:00:00Z '
                  'ref=late:1' % P[NAMES[5]], 'INVALID',
                  'a session check-in after the days, with ref=')
    h.is_(refs('late:1'), 0, 'a refused request claims no ref')
    for at in ('2025-11-26', '2025-11-26T07:15:00+03:00',
               '2025-11-26T25:00:00Z'):
        h.refused(H, 'CHECKIN id=%s at=%s' % (P[NAMES[5]], at), 'INVALID',
                  'at=%s: not a timestamp' % at)

with h.section('at=: not in the future (5 minutes of skew)'):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for minutes in (10, 60 * 24):
        at = utc(now + datetime.timedelta(minutes=minutes))
        r = h.refused(H, 'CHECKIN event=E3 id=%s at=%s' % (E3_ID, at),
                      'INVALID', 'at= %d minutes ahead' % minutes)
        h.like(r.text, r'^at: .*future', 'the message names the key')
    at = utc(now + datetime.timedelta(minutes=2))
    h.write(H, 'CHECKIN event=E3 id=%s at=%s' % (E3_ID, at),
            'at= 2 minutes ahead: within the skew', checked_in=at)

# --------------------------------------------------------------------------
with h.section('the earliest scan wins'):
    who = P[NAMES[5]]
    r = h.write(H, 'CHECKIN id=%s' % who, 'an online check-in: now')
    now_at = r.fields.get('checked_in')
    h.like(now_at, r'^20[2-9][0-9]-', 'without at= the time is now')
    h.write(S, 'CHECKIN id=%s at=2025-11-27T09:00:00Z ref=off:1' % who,
            'an offline scan from before it, replayed later: moves the time '
            'earlier', id=who, already='1', checked_in='2025-11-27T09:00:00Z')
    kind, note = h.read_note(W)
    while not (kind == 'checkin' and note.get('id') == who):
        kind, note = h.read_note(W)
    while kind == 'checkin' and note.get('id') == who and \
            note.get('checked_in') != '2025-11-27T09:00:00Z':
        kind, note = h.read_note(W)
    h.is_((kind, note.get('checked_in'), note.get('already')),
          ('checkin', '2025-11-27T09:00:00Z', '1'),
          '! checkin with the earlier time and already=1')
    h.like(pg.scalar("SELECT detail::text FROM roster.audit ORDER BY id DESC "
                     "LIMIT 1"), r'"was": "%s"' % now_at,
           'the audit row keeps the time it replaced')
    h.write(S, 'CHECKIN id=%s at=2025-11-27T10:00:00Z' % who,
            'a later scan: no change', changes=0, already='1',
            checked_in='2025-11-27T09:00:00Z')
    h.write(S, 'CHECKIN id=%s at=2025-11-27T09:00:00Z' % who,
            'the same time: no change', changes=0, already='1',
            checked_in='2025-11-27T09:00:00Z')
    h.write(S, 'CHECKIN id=%s at=2025-11-27T09:00:00Z ref=off:1' % who,
            'the replay of the moving scan', changes=0, already='1',
            replay='1', checked_in='2025-11-27T09:00:00Z')
    h.is_(part(who).get('checked_in'), '2025-11-27T09:00:00Z',
          'PARTICIPANT SHOW: the earliest scan')
    h.is_(attendance().get(who, {}).get('checked_in'),
          '2025-11-27T12:00:00+03:00', 'EXPORT attendance: the earliest scan')
    h.is_(checkins(who), 1, 'still one check-in')

with h.section('the earliest scan wins, for a session'):
    who = P[NAMES[6]]
    h.write(H, 'CHECKIN id=%s at=2025-11-26T09:00:00Z' % who,
            'the event check-in', checked_in='2025-11-26T09:00:00Z')
    h.write(H, 'CHECKIN id=%s session=S1 at=2025-11-26T08:30:00Z' % who,
            'a session check-in from before it',
            checked_in='2025-11-26T08:30:00Z')
    h.is_(part(who).get('checked_in'), '2025-11-26T08:30:00Z',
          'checked_in: the session\'s, the earliest')
    h.write(H, 'CHECKIN id=%s session=S1 at=2025-11-26T06:10:00Z' % who,
            'an earlier scan for the session', already='1',
            checked_in='2025-11-26T06:10:00Z')
    h.write(H, 'CHECKIN id=%s session=S1 at=2025-11-26T07:00:00Z' % who,
            'a later one for the session', changes=0, already='1',
            checked_in='2025-11-26T06:10:00Z')
    h.is_(part(who).get('checked_in'), '2025-11-26T06:10:00Z',
          'checked_in moves with it')
    row = attendance().get(who, {})
    h.is_((row.get('checked_in'), row.get('sessions')),
          ('2025-11-26T09:10:00+03:00', 'S1 2025-11-26T09:10:00+03:00'),
          'EXPORT attendance: both')
    h.write(H, 'CHECKIN id=%s at=2025-11-26T08:59:00Z' % who,
            'an earlier event scan moves the event check-in only',
            already='1', checked_in='2025-11-26T08:59:00Z')
    h.is_(part(who).get('checked_in'), '2025-11-26T06:10:00Z',
          'checked_in stays the session\'s, earlier still')

# --------------------------------------------------------------------------
with h.section('roles: a focal point may not CHECKIN, with or without the '
               'new keys'):
    who = P[NAMES[7]]
    for line in ('CHECKIN id=%s' % who,
                 'CHECKIN id=%s ref=f:1 at=2025-11-26T07:00:00Z' % who,
                 'CHECKIN badge=%s ref=f:1 dry_run=yes' % BADGE[NAMES[7]]):
        h.only_for(ROLES, N, line, ('admin', 'secretariat', 'host'),
                   nobody_line=line + ' event=E1')
    h.is_(refs('f:1'), 0, 'the refused requests claimed no ref')
    h.is_(checkins(who), 0, 'and checked nobody in')

with h.section('dry runs with ref= and at='):
    who = P[NAMES[8]]
    audit = env.audit_count()
    line = 'CHECKIN id=%s session=S1 at=2025-11-26T07:20:00Z ref=dry:1' % who
    r = A.request(line + ' dry_run=yes')
    h.ok_reply(r, 'a dry run: the reply it would get', id=who, party='TR',
               checked_in='2025-11-26T07:20:00Z', dry_run='yes')
    h.ok('replay' not in r.fields, 'no replay=')
    h.is_((checkins(who), refs('dry:1'), env.audit_count()), (0, 0, audit),
          'no check-in, no ref claimed, no audit row')
    h.ok('checked_in' not in part(who), 'SHOW: not checked in')
    h.err_reply(A.request('CHECKIN id=%s at=2030-01-01T00:00:00Z ref=dry:2 '
                          'dry_run=yes' % who), 'INVALID',
                'a dry run with at= in 2030: INVALID')
    r = h.write(A, line, 'the real check-in after it: new',
                checked_in='2025-11-26T07:20:00Z')
    h.ok('replay' not in r.fields, 'not a replay: the dry run claimed nothing')
    r = A.request(line + ' dry_run=yes')
    h.ok_reply(r, 'a dry run of the replay answers as the replay would',
               replay='1', dry_run='yes', checked_in='2025-11-26T07:20:00Z')
    h.write(A, 'CHECKIN id=%s session=S1 at=2025-11-26T07:00:00Z '
            'dry_run=yes' % who, 'a dry run of an earlier scan', changes=0,
            already='1', checked_in='2025-11-26T07:00:00Z', dry_run='yes')
    h.is_(part(who).get('checked_in'), '2025-11-26T07:20:00Z',
          'the time did not move')

with h.section('ref=: replayed after a decline and an erasure'):
    h.must(A, 'PARTICIPANT DECLINE id=%s' % P[NAMES[1]])
    h.write(H, 'CHECKIN id=%s at=2025-11-26T08:00:00Z ref=desk1:2'
            % P[NAMES[1]], 'the replay of a declined participant\'s scan',
            changes=0, replay='1', checked_in='2025-11-26T08:00:00Z')
    h.refused(H, 'CHECKIN id=%s' % P[NAMES[1]], 'CONFLICT',
              'a new check-in of them: CONFLICT, as before')
    h.must(A, 'PARTICIPANT ERASE id=%s' % P[NAMES[0]])
    h.write(H, 'CHECKIN badge=%s at=2025-11-26T07:15:00Z ref=desk1:1'
            % BADGE[NAMES[0]], 'the replay after an erasure: the name as '
            'it is now', changes=0, replay='1', name='erased',
            checked_in='2025-11-26T07:15:00Z')
    h.is_(pg.scalar("SELECT count(*) FROM roster.request_ref WHERE "
                    "command = 'CHECKIN' AND reply::text LIKE '%%%s%%'"
                    % NAMES[0].split()[0]), '0',
          'no CHECKIN ref\'s reply holds a name')

W.close()
h.done_testing()
