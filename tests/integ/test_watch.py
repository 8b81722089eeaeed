"""test_watch.py -- WATCH (PROTOCOL.md section 8): `OK watching`, then a
"!" line for every change committed in the event by any daemon sharing the
database (`! participant.added`, `! delegation.confirmed`, `! enrol`,
`! checkin` ...), in commit order, none for a refused request or a replay;
a watcher of another event sees none of them; while watching, other
requests are not served (this daemon answers them ERR SYNTAX) until DONE,
answered OK. Two rosterd share one database: a change made through the
second reaches a watcher on the first, and the other way round."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SERRA = 'Serra Albayrakoğlu'
TIMEA = 'Tímea Lehoczki'
JOVAN = 'Јован Петровић'

env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('ftr', 'focal', 'TR')])

with h.section('set-up: a second rosterd on the same database, events'):
    rd2 = env.rosterd(migrate=False)
    h.ok(rd2.running() and rd2.port != rd.port,
         'a second rosterd runs on its own port')
    A = rd.login('admin')
    h.event(A, 'E1')
    h.event(A, 'E2')
    h.must(A, 'USE event=E1')
    DTR = h.must(A, 'DELEGATION REGISTER party=TR').fields['id']
    h.must(A, 'DELEGATION REGISTER party=HU')
    h.must(A, 'DELEGATION REGISTER party=RS quota=1')
    h.must(A, 'DELEGATION REGISTER event=E2 party=TR')
    h.must(A, 'SESSION CREATE code=S1 kind=panel title=Panel capacity=1 '
           'starts=2025-11-26T10:00 ends=2025-11-26T11:00')
    A2 = rd2.login('admin', use='E1')          # through the second daemon


def expect(conn, kind, label, /, **want):
    """The next line on a watching conn is "! kind" with the want fields;
    returns its fields."""
    try:
        k, f = h.read_note(conn)
    except Exception as e:
        h.ok(False, label, '    %s: %s' % (type(e).__name__, e))
        return {}
    bad = {key: (f.get(key), v) for key, v in want.items()
           if f.get(key) != v}
    h.ok(k == kind and not bad, label, '    got: ! %s %r' % (k, f),
         '    expected: ! %s %r' % (kind, want))
    return f


with h.section('WATCH answers OK watching'):
    W = rd.login('hst')
    r = W.request('WATCH event=E1')
    h.is_(r.lines, ['OK watching'], 'host: WATCH event=E1 -> OK watching')
    W2 = rd2.login('sec', use='E1')
    r = W2.request('WATCH')
    h.is_(r.final, 'OK watching', 'secretariat on the second daemon: WATCH '
          '(event from USE)')
    WX = rd.login('sec')
    h.is_(WX.request('WATCH event=e2').final, 'OK watching',
          'a watcher of E2 (code in lower case)')
    WA = rd.login('admin')
    h.is_(WA.request('WATCH event=E1').final, 'OK watching', 'admin: WATCH')
    h.ok(h.quiet(W, 0.3), 'nothing more until something changes')

with h.section('changes made by another client'):
    r = h.must(A, 'PARTICIPANT ADD party=TR name=%s role=head'
               % h.quote(SERRA))
    serra = r.fields['id']
    for c, where in ((W, 'first daemon'), (W2, 'second daemon'),
                     (WA, 'admin')):
        expect(c, 'participant.added', '%s: ! participant.added' % where,
               party='TR', id=serra, name=SERRA)
    h.must(A, 'DELEGATION CONFIRM party=TR')
    f = expect(W, 'delegation.confirmed', '! delegation.confirmed',
               party='TR')
    h.is_(f.get('id'), DTR, 'delegation.confirmed: id= of the delegation')
    expect(W2, 'delegation.confirmed', 'second daemon: '
           '! delegation.confirmed', party='TR')
    h.must(A, 'ENROL session=S1 participant=%s' % serra, status='enrolled')
    expect(W, 'enrol', '! enrol', session='S1', party='TR', id=serra,
           name=SERRA, status='enrolled')
    expect(W2, 'enrol', 'second daemon: ! enrol', session='S1', id=serra)
    r = h.must(A, 'CHECKIN id=%s' % serra)
    line = W.read_line(10)
    k, f = h.read_note_line(line)
    h.ok(k == 'checkin' and f.get('id') == serra and
         f.get('party') == 'TR' and f.get('name') == SERRA and
         f.get('checked_in') == r.fields['checked_in'],
         '! checkin: id, party, name and the time CHECKIN answered',
         '    got: %r' % line)
    h.is_([x.split('=')[0] for x in line.split(' ')[2:5]],
          ['id', 'party', 'name'],
          '! checkin id=... party=... name=...: the fields in the order '
          'PROTOCOL.md section 8 writes them')
    expect(W2, 'checkin', 'second daemon: ! checkin', id=serra,
           checked_in=r.fields['checked_in'])
    h.must(A, 'CHECKIN id=%s' % serra, already='1')
    h.must(A, 'PARTICIPANT CONFIRM id=%s' % serra)
    expect(W, 'participant.confirmed', 'a repeated check-in (no change) '
           'sends nothing: the next line is the next change', id=serra)
    expect(W2, 'participant.confirmed', 'second daemon: the same',
           id=serra)
    h.is_(h.drain(WA), 4, 'admin watcher: the other four changes')

with h.section('a change through the second daemon'):
    r = h.must(A2, 'PARTICIPANT ADD party=HU name=%s role=head'
               % h.quote(TIMEA))
    timea = r.fields['id']
    expect(W, 'participant.added', 'a watcher on the first daemon sees an '
           'ADD made through the second', party='HU', id=timea, name=TIMEA)
    expect(W2, 'participant.added', 'and so does the one on the second',
           id=timea)
    r = h.must(A2, 'CHECKIN id=%s' % timea)
    expect(W, 'checkin', 'a CHECKIN made through the second daemon',
           id=timea, party='HU', name=TIMEA,
           checked_in=r.fields['checked_in'])
    expect(W2, 'checkin', 'second daemon: ! checkin', id=timea)
    h.must(A2, 'ENROL session=S1 participant=%s' % timea,
           status='waitlisted', position='1')
    expect(W, 'enrol', 'waitlisted: ! enrol status=waitlisted position=1',
           id=timea, status='waitlisted', position='1')
    h.must(A2, 'UNENROL session=S1 participant=%s' % serra)
    kinds = [h.read_note(W) for _ in range(2)]
    h.is_(sorted(k for k, f in kinds), ['enrol', 'unenrol'],
          'UNENROL with a promotion: ! unenrol and ! enrol')
    prom = [f for k, f in kinds if k == 'enrol']
    h.ok(prom and prom[0].get('id') == timea and
         prom[0].get('status') == 'enrolled',
         'the promoted participant is now enrolled', '    %r' % kinds)
    h.is_(h.drain(W2), 3, 'second daemon: the other three changes')
    h.is_(h.drain(WA), 5, 'admin watcher: the five changes')

with h.section('no line for a refused request or a replay; commit order'):
    for line in ('PARTICIPANT ADD party=TR name=X role=head',      # CONFLICT
                 'PARTICIPANT ADD party=FR name=X',               # NOT_FOUND
                 'ENROL session=S1 participant=999999'):          # NOT_FOUND
        h.ok(not A.request(line).ok, 'refused: %s' % line)
    r = h.must(A, 'PARTICIPANT ADD party=RS name=%s ref=w-jovan'
               % h.quote(JOVAN))
    jovan = r.fields['id']
    h.must(A, 'PARTICIPANT ADD party=RS name=%s ref=w-jovan' % h.quote(JOVAN),
           replay='1')
    h.ok(not A.request('PARTICIPANT ADD party=RS name=Y').ok,
         'refused: past the quota of RS')
    h.must(A, 'PARTICIPANT SET id=%s title="Head of Section"' % jovan)
    h.must(A, 'PARTICIPANT DECLINE id=%s' % jovan)
    expect(W, 'participant.added', 'the first line after the refusals is '
           'the ADD, with a Cyrillic name', party='RS', id=jovan, name=JOVAN)
    expect(W, 'participant.updated', 'then the SET (the replay sent '
           'nothing)', id=jovan)
    expect(W, 'participant.declined', 'then the DECLINE', id=jovan)

with h.section('values that need quoting'):
    odd = 'Anna "Ani" Back\\slash = Øre 😀'
    r = h.must(A, 'PARTICIPANT ADD party=TR name=%s' % h.quote(odd))
    expect(W, 'participant.added', 'a name with a quote, a backslash, an '
           '"=", and a character outside the BMP arrives intact',
           id=r.fields['id'], name=odd)
    h.must(A, 'PARTICIPANT DECLINE id=%s' % r.fields['id'])
    expect(W, 'participant.declined', 'and its DECLINE', name=odd)

with h.section('a watcher of another event sees nothing of E1'):
    r = h.must(A, 'PARTICIPANT ADD event=E2 party=TR name="Only In E2"')
    e2 = r.fields['id']
    expect(WX, 'participant.added', 'the E2 watcher\'s first line is the '
           'first change in E2', id=e2, name='Only In E2')
    h.must(A, 'CHECKIN event=E2 id=%s' % e2)
    expect(WX, 'checkin', 'and then its check-in', id=e2)
    h.must(A, 'PARTICIPANT SET id=%s title=Ambassador' % serra)
    expect(W, 'participant.updated', 'the E1 watcher saw nothing of E2: '
           'its next line is the next change in E1', id=serra)
    h.ok(h.quiet(WX, 0.5), 'the E2 watcher got nothing of that E1 change')

with h.section('while watching, only DONE is read'):
    before = env.audit_count()
    W.send('PING')
    line = W.read_line(10)
    h.like(line, r'^ERR SYNTAX( |$)', 'PING while watching -> ERR SYNTAX')
    W.send('PARTICIPANT ADD party=TR name=Sneaky')
    h.like(W.read_line(10), r'^ERR SYNTAX( |$)',
           'PARTICIPANT ADD while watching -> ERR SYNTAX')
    W.send('WATCH event=E2')
    h.like(W.read_line(10), r'^ERR SYNTAX( |$)',
           'WATCH while watching -> ERR SYNTAX')
    h.is_(env.audit_count(), before, 'nothing was done')
    h.is_([x.get('name') for x in A.request('PARTICIPANT LIST '
                                            'party=TR').records
           if x.get('name') == 'Sneaky'], [], 'no participant Sneaky')
    h.must(A, 'PARTICIPANT SET id=%s title="Deputy Minister"' % serra)
    expect(W, 'participant.updated', 'notifications go on meanwhile',
           id=serra)
    W.send('done')
    h.is_(W.read_line(10), 'OK', 'DONE (any case) -> OK')
    r = W.request('PING')
    h.is_(r.lines, ['OK pong'], 'after DONE requests are served again')
    h.must(A, 'PARTICIPANT SET id=%s title="Minister"' % serra)
    r = W.request('WHOAMI')
    h.is_((r.notes, r.final), ([], 'OK user=hst role=host'),
          'after DONE no more "!" lines')
    h.ok(h.quiet(W, 0.3), 'nothing more arrives')

with h.section('WATCH pipelined with what follows'):
    with rd.login('sec') as c:
        c.send_raw(b'WATCH event=E1\nPING\nDONE\nPING\n')
        got = [c.read_line(10) for _ in range(4)]
        h.is_([got[0], got[1].split(' ')[:2], got[2], got[3]],
              ['OK watching', ['ERR', 'SYNTAX'], 'OK', 'OK pong'],
              'WATCH, PING, DONE, PING sent at once: OK watching, '
              'ERR SYNTAX, OK, OK pong')

with h.section('WATCH: who and which event'):
    F = rd.login('ftr', use='E1')
    N = rd.connect()
    h.only_for({'focal': F}, N, 'WATCH', ('admin', 'secretariat', 'host'),
               nobody_line='WATCH event=E1')
    h.is_(F.request('PING').final, 'OK pong', 'and the focal point is not '
          'watching')
    S = rd.login('sec')
    h.err_reply(S.request('WATCH event=NOPE'), 'NOT_FOUND',
                'WATCH of an unknown event')
    h.err_reply(S.request('WATCH'), 'SYNTAX', 'WATCH without event= and no '
                'USE')
    h.err_reply(S.request('WATCH event=E1 party=TR'), 'SYNTAX',
                'WATCH with an unknown key')
    h.err_reply(S.request('WATCH event="E 1"'), 'INVALID',
                'WATCH event= not a code')
    h.is_(S.request('PING').final, 'OK pong', 'not watching after those')
    h.is_(S.request('DONE').code, 'SYNTAX', 'DONE when not watching is an '
          'unknown command')

with h.section('ending'):
    for c in (W2, WX, WA):
        c.send('DONE')
        lines = []
        while True:
            line = c.read_line(10)
            lines.append(line)
            if not line.startswith('! '):
                break
        h.is_(lines[-1], 'OK', 'DONE -> OK')

h.done_testing()
