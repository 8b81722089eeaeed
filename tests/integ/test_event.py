"""test_event.py -- EVENT CREATE, LIST, SHOW and SET (PROTOCOL.md section
5, daemon/cmd-event.c): who may create and change an event, the error code
of each refusal, version= conflicts, records and their fields, values with
quotes, escapes and Unicode (stored in NFC), USE as the default event; and
what an event's status allows: in draft and when closed every change is
CLOSED, but check-in goes on while closed. One roster.audit row per
committed write, none for a refused one."""

import os
import sys
import unicodedata

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, N = roles.A, roles.S, roles.H, roles.F, roles.N
ROLES = roles.by_role

with h.section('set-up: organisation ICMPD'):
    h.must(A, 'PARTY ADD code=ICMPD kind=organisation name="International '
           'Centre for Migration Policy Development"')

SOM = ('EVENT CREATE code=SOM37 title="37th Senior Officials Meeting of the '
       'Budapest Process" venue="Istanbul Congress Centre" city=Istanbul '
       'country=TR starts=2025-11-26 ends=2025-11-27 '
       'timezone=Europe/Istanbul chair=TR co_chair=HU secretariat=ICMPD')
E2 = ('EVENT CREATE code=E2 title=Second city=Budapest country=HU '
      'starts=2026-03-01 ends=2026-03-01')
with h.section('EVENT: roles'):
    h.only_for(ROLES, N, E2, ['admin', 'secretariat'], 'EVENT CREATE')
    h.only_for(ROLES, N, 'EVENT SET event=E2 title=x',
               ['admin', 'secretariat'], 'EVENT SET')
    h.err_reply(N.request('EVENT LIST'), 'AUTH_REQUIRED',
                'EVENT LIST: not logged in')
    h.err_reply(N.request('EVENT SHOW event=E2'), 'AUTH_REQUIRED',
                'EVENT SHOW: not logged in')

with h.section('EVENT CREATE'):
    h.write(S, SOM, 'EVENT CREATE by secretariat', version='1')
    h.write(A, E2, 'EVENT CREATE by admin (one-day event)', version='1')
    bad = 'code=E3 title=T city=C country=HU starts=2026-03-01 ends=2026-03-02'

    def variant(**kv):
        parts = dict(p.split('=', 1) for p in bad.split(' '))
        for k, v in kv.items():
            if v is None:
                parts.pop(k, None)
            else:
                parts[k] = v
        return 'EVENT CREATE ' + ' '.join('%s=%s' % kv
                                          for kv in parts.items())
    h.refused(A, variant(code='som37'), 'CONFLICT',
              'EVENT CREATE duplicate code (case)')
    h.refused(A, variant(starts='2026-03-03'), 'INVALID',
              'starts after ends')
    h.refused(A, variant(starts='2025-02-30'), 'INVALID',
              'starts=2025-02-30')
    h.refused(A, variant(ends='2026-3-2'), 'INVALID', 'ends=2026-3-2')
    h.refused(A, variant(country='ZZ'), 'NOT_FOUND',
              'country=ZZ (no such party)')
    h.refused(A, variant(timezone='nonsense'), 'INVALID',
              'timezone=nonsense')
    h.refused(A, variant(chair='QQ'), 'NOT_FOUND',
              'chair=QQ (no such party)')
    h.refused(A, variant(title=None), 'SYNTAX',
              'EVENT CREATE without title=')
    h.refused(A, variant(title='""'), 'INVALID',
              'EVENT CREATE with an empty title')
    h.refused(A, variant(title='t' * 201), 'INVALID',
              'title of 201 characters')
    h.refused(A, variant(code='bad!'), 'INVALID', 'malformed code')
    h.refused(A, variant(colour='red'), 'SYNTAX', 'unknown key')
    h.refused(A, variant() + ' city=Again', 'SYNTAX', 'key given twice')
    title = 'Budapest Process: "Silk Routes" \\ Ελληνικά = İstanbul'
    nfd = unicodedata.normalize('NFD', 'Tímea Lehoczki – Türkiye')
    h.write(A, variant(code='E3', title=h.quote(title), venue=h.quote(nfd)),
            'EVENT CREATE with quotes, backslash, =, TAB and Unicode')

with h.section('EVENT LIST and SHOW'):
    r = F.request('EVENT LIST')
    h.ok_reply(r, 'EVENT LIST (focal)', count='3')
    h.is_(sorted(rec.get('code') for rec in r.records),
          ['E2', 'E3', 'SOM37'], 'three events')
    r = H.request('EVENT SHOW event=SOM37')
    h.ok_reply(r, 'EVENT SHOW -> OK count=1', count='1')
    rec = r.records[0] if len(r.records) == 1 else {}
    want = {'code': 'SOM37',
            'title': '37th Senior Officials Meeting of the Budapest Process',
            'venue': 'Istanbul Congress Centre', 'city': 'Istanbul',
            'country': 'TR', 'starts': '2025-11-26', 'ends': '2025-11-27',
            'timezone': 'Europe/Istanbul', 'chair': 'TR', 'co_chair': 'HU',
            'secretariat': 'ICMPD', 'version': '1'}
    h.is_({k: rec.get(k) for k in want}, want, 'SOM37 record')
    h.ok(rec.get('status') in ('draft', 'open', 'closed'),
         'status is draft/open/closed (%r)' % rec.get('status'))
    rec = h.show(F, 'EVENT SHOW event=som37')
    h.is_(rec.get('code'), 'SOM37', 'EVENT SHOW is case-insensitive')
    rec = h.show(A, 'EVENT SHOW event=E2')
    h.ok(rec and 'venue' not in rec and 'chair' not in rec,
         'absent fields are left out of the record', '    %r' % (rec,))
    rec = h.show(A, 'EVENT SHOW event=E3')
    h.is_(rec.get('title'), title, 'title round-trips exactly')
    h.is_(rec.get('venue'), unicodedata.normalize('NFC', nfd),
          'venue is stored in NFC')
    h.err_reply(A.request('EVENT SHOW event=NOPE'), 'NOT_FOUND',
                'EVENT SHOW unknown event')
    h.err_reply(A.request('EVENT LIST x=1'), 'SYNTAX', 'EVENT LIST x=1')

with h.section('EVENT SET'):
    h.write(S, 'EVENT SET event=SOM37 venue="Hotel X" version=1',
            'EVENT SET with the current version', version='2')
    h.refused(A, 'EVENT SET event=SOM37 venue=Y version=1', 'CONFLICT',
              'EVENT SET with a stale version')
    rec = h.show(A, 'EVENT SHOW event=SOM37')
    h.is_(rec.get('venue'), 'Hotel X', 'the stale write changed nothing')
    h.write(A, 'EVENT SET event=SOM37 status=open', 'EVENT SET without '
            'version= (unconditional)', version='3')
    rec = h.show(H, 'EVENT SHOW event=SOM37')
    h.is_({k: rec.get(k) for k in ('status', 'venue', 'version')},
          {'status': 'open', 'venue': 'Hotel X', 'version': '3'},
          'SHOW after two sets')
    h.refused(A, 'EVENT SET event=SOM37 status=bogus', 'INVALID',
              'status=bogus')
    h.refused(A, 'EVENT SET event=SOM37 version=abc title=x', 'INVALID',
              'version=abc')
    h.refused(A, 'EVENT SET event=NOPE title=x', 'NOT_FOUND',
              'EVENT SET unknown event')
    h.refused(A, 'EVENT SET event=SOM37 starts=2025-11-28', 'INVALID',
              'EVENT SET starts after ends')
    h.refused(A, 'EVENT SET event=SOM37 colour=red', 'SYNTAX',
              'EVENT SET unknown key')
    h.err_reply(A.request('EVENT SET title=x'), 'SYNTAX',
                'EVENT SET without event= and no USE')
    h.is_(A.request('USE event=E2').final, 'OK event=E2', 'USE E2')
    h.write(A, 'EVENT SET title="Second meeting" version=1',
            'EVENT SET after USE', version='2')
    rec = h.show(A, 'EVENT SHOW event=E2')
    h.is_(rec.get('title'), 'Second meeting',
          'EVENT SET after USE changed E2')
    h.write(S, 'EVENT SET event=SOM37 status=closed version=3',
            'EVENT SET status=closed', version='4')
    h.refused(S, 'EVENT SET event=SOM37 status=draft version=3', 'CONFLICT',
              'a second writer with the old version')

# --------------------------------------------------------------------------
# What the status of an event allows.

with h.section('set-up: event E1 (draft)'):
    h.event(A, 'E1', status='draft', title='Regional Conference on Migration')
    for c in (A, S, H):
        h.must(c, 'USE event=E1', event='E1')

with h.section('event in draft: changes are CLOSED'):
    h.refused(H, 'DELEGATION REGISTER party=TR quota=4', 'CLOSED',
              'DELEGATION REGISTER while the event is draft')
    h.refused(A, 'SESSION CREATE code=S0 kind=plenary title=Zero '
              'starts=2025-11-26T08:00 ends=2025-11-26T09:00', 'CLOSED',
              'SESSION CREATE while the event is draft')
    h.is_(h.records(A, 'DELEGATION LIST'), [], 'nothing was registered')
    h.write(A, 'EVENT SET status=open', 'EVENT SET status=open', code='E1')

P = {}          # name -> participant id
with h.section('set-up: delegations, participants, session S1'):
    h.must(A, 'PARTY ADD code=IOM kind=organisation '
           'name="International Organization for Migration"')
    for party in ('TR', 'RS', 'IOM'):
        h.must(A, 'DELEGATION REGISTER party=%s' % party)
    for key, party, name in (('Serra', 'TR', 'Serra Albayrakoğlu'),
                             ('Ayse', 'TR', 'Ayşe Çelik'),
                             ('Jovan', 'RS', 'Јован Петровић'),
                             ('Petar', 'RS', 'Petar Nikolić'),
                             ('Maria', 'IOM', 'Maria Rossi')):
        P[key] = h.must(A, 'PARTICIPANT ADD party=%s name=%s'
                        % (party, h.quote(name))).fields['id']
    h.must(A, 'SESSION CREATE code=S1 kind=plenary title="Opening plenary" '
           'starts=2025-11-26T09:00 ends=2025-11-26T10:30')
    h.must(A, 'ENROL session=S1 participant=%s' % P['Serra'])

with h.section('event closed: changes are CLOSED, check-in goes on'):
    h.write(A, 'EVENT SET status=closed', 'EVENT SET status=closed',
            code='E1')
    h.write(H, 'CHECKIN id=%s' % P['Maria'], 'CHECKIN while closed',
            id=P['Maria'], party='IOM')
    h.refused(S, 'PARTICIPANT ADD party=TR name="Late Comer"', 'CLOSED',
              'PARTICIPANT ADD while closed')
    h.refused(S, 'PARTICIPANT SET id=%s title=X' % P['Ayse'], 'CLOSED',
              'PARTICIPANT SET while closed')
    h.refused(S, 'PARTICIPANT CONFIRM id=%s' % P['Jovan'], 'CLOSED',
              'PARTICIPANT CONFIRM while closed')
    h.refused(S, 'PARTICIPANT DECLINE id=%s' % P['Jovan'], 'CLOSED',
              'PARTICIPANT DECLINE while closed')
    h.refused(S, 'DELEGATION REGISTER party=FR', 'CLOSED',
              'DELEGATION REGISTER while closed')
    h.refused(S, 'DELEGATION SET party=TR note=X', 'CLOSED',
              'DELEGATION SET while closed')
    h.refused(S, 'DELEGATION CONFIRM party=RS', 'CLOSED',
              'DELEGATION CONFIRM while closed')
    h.refused(S, 'SESSION CREATE code=X2 kind=panel title=X '
              'starts=2025-11-27T09:00 ends=2025-11-27T10:00', 'CLOSED',
              'SESSION CREATE while closed')
    h.refused(S, 'SESSION SET session=S1 room=X', 'CLOSED',
              'SESSION SET while closed')
    h.refused(S, 'ENROL session=S1 participant=%s' % P['Maria'], 'CLOSED',
              'ENROL while closed')
    h.refused(S, 'UNENROL session=S1 participant=%s' % P['Serra'], 'CLOSED',
              'UNENROL while closed')
    h.refused(S, 'SPEAKER ADD session=S1 participant=%s' % P['Maria'],
              'CLOSED', 'SPEAKER ADD while closed')
    h.write(A, 'EVENT SET status=draft', 'EVENT SET status=draft',
            code='E1')
    h.refused(H, 'CHECKIN id=%s' % P['Petar'], 'CLOSED',
              'CHECKIN while draft')
    h.write(A, 'EVENT SET status=open', 'EVENT SET status=open again',
            code='E1')

h.done_testing()
