"""test_admin.py -- USER ADD/LIST/SET, EVENT CREATE/LIST/SHOW/SET and PARTY
ADD/LIST/SHOW (PROTOCOL.md sections 3-5): every role's right to each
command, the error code of each refusal, version= conflicts, records and
their fields, and one roster.audit row per committed write (none for a
refused one)."""

import json
import os
import sys
import unicodedata

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PW = h.PASSWORD
env, rd = h.setup(users=[('sec', 'secretariat', None),
                         ('hst', 'host', None),
                         ('fp', 'focal', 'TR')])

A = rd.login('admin')
S = rd.login('sec')
H = rd.login('hst')
F = rd.login('fp')
N = rd.connect()
ROLES = {'admin': A, 'secretariat': S, 'host': H, 'focal': F}


def last_audit_user():
    return env.pg.scalar('SELECT username FROM roster.audit '
                         'ORDER BY id DESC LIMIT 1')


def write(conn, line, name, /, err=None, actor=None, **want):
    """Send a write; check its reply (OK with the want fields, or ERR err)
    and that exactly one audit row (by actor) or none was added."""
    before = env.audit_count()
    r = conn.request(line)
    if err:
        h.err_reply(r, err, name)
        h.is_(env.audit_count() - before, 0, name + ': no audit row')
    else:
        h.ok_reply(r, name, **want)
        h.is_(env.audit_count() - before, 1, name + ': one audit row')
        if actor:
            h.is_(last_audit_user(), actor, name + ': audit row by ' + actor)
    return r


def roles_check(line, allowed, name, ok_line=None):
    """Refusals of line for the roles not in allowed (FORBIDDEN) and for
    nobody logged in (AUTH_REQUIRED)."""
    h.err_reply(N.request(line), 'AUTH_REQUIRED', name + ': not logged in')
    for role, conn in ROLES.items():
        if role not in allowed:
            before = env.audit_count()
            h.err_reply(conn.request(line), 'FORBIDDEN',
                        '%s: %s -> FORBIDDEN' % (name, role))
            h.is_(env.audit_count() - before, 0,
                  '%s: %s refused, no audit row' % (name, role))


def show(conn, line):
    """The one record of a SHOW; {} (and a note) when it is not one."""
    r = conn.request(line)
    if r.ok and len(r.records) == 1:
        return r.records[0]
    h.diag('%s -> %r' % (line, r))
    return {}


# --- users --------------------------------------------------------------
with h.section('USER: roles'):
    roles_check('USER ADD name=x1 role=host password="%s"' % PW, ['admin'],
                'USER ADD')
    roles_check('USER LIST', ['admin'], 'USER LIST')
    roles_check('USER SET name=hst enabled=no', ['admin'], 'USER SET')

with h.section('USER ADD'):
    write(A, 'USER ADD name=u1 role=host password="%s"' % PW,
          'USER ADD host', actor='admin', name='u1')
    h.is_(A.request('USER ADD name=u2 role=secretariat password="%s"'
                    % PW).final, 'OK name=u2', 'USER ADD reply is exact')
    write(A, 'USER ADD name=U1 role=host password="%s"' % PW,
          'USER ADD of a name that differs only in case', err='CONFLICT')
    write(A, 'USER ADD name=u3 role=king password="%s"' % PW,
          'USER ADD unknown role', err='INVALID')
    write(A, 'USER ADD name=u3 role=host password=elevenchars',
          'USER ADD password of 11 characters', err='INVALID')
    write(A, 'USER ADD name=-u3 role=host password="%s"' % PW,
          'USER ADD name not a code', err='INVALID')
    write(A, 'USER ADD name=%s role=host password="%s"' % ('u' * 33, PW),
          'USER ADD name of 33 characters', err='INVALID')
    write(A, 'USER ADD name=u3 role=host', 'USER ADD without password',
          err='SYNTAX')
    write(A, 'USER ADD name=u3 role=host password="%s" colour=red' % PW,
          'USER ADD unknown key', err='SYNTAX')
    write(A, 'USER ADD name=f9 role=focal party=ZZ password="%s"' % PW,
          'USER ADD focal of an unknown party', err='NOT_FOUND')
    before = env.audit_count()
    r = A.request('USER ADD name=f8 role=focal password="%s"' % PW)
    h.ok(r.kind == 'ERR' and r.code in ('INVALID', 'SYNTAX'),
         'USER ADD focal without party= is refused', '    %r' % r.final)
    r = A.request('USER ADD name=h8 role=host party=TR password="%s"' % PW)
    h.ok(r.kind == 'ERR' and r.code in ('INVALID', 'SYNTAX'),
         'USER ADD host with party= is refused', '    %r' % r.final)
    h.is_(env.audit_count() - before, 0, 'refusals left no audit row')
    write(A, 'USER ADD name=f2 role=focal party=hu password="%s"' % PW,
          'USER ADD focal HU (party code in lower case)', name='f2')
    with rd.connect() as c:
        h.is_(c.login('u1').final, 'OK user=u1 role=host',
              'the new host logs in')
    with rd.connect() as c:
        h.is_(c.login('f2').final, 'OK user=f2 role=focal party=HU',
              'the new focal point logs in, party=HU')

with h.section('USER LIST'):
    r = A.request('USER LIST')
    h.ok_reply(r, 'USER LIST', count=str(len(r.records)))
    users = {rec.get('name'): rec for rec in r.records}
    h.is_(sorted(users), sorted(['admin', 'sec', 'hst', 'fp', 'u1', 'u2',
                                 'f2']), 'every user listed once')
    for name, role, party in (('admin', 'admin', None),
                              ('sec', 'secretariat', None),
                              ('fp', 'focal', 'TR'), ('f2', 'focal', 'HU')):
        rec = users.get(name, {})
        got = {k: rec.get(k) for k in ('role', 'party', 'enabled')}
        h.is_(got, {'role': role, 'party': party, 'enabled': 'yes'},
              'USER LIST record of %s' % name)
    h.ok(all('hash' not in rec and 'password' not in rec
             for rec in r.records), 'no password hashes in USER LIST')
    h.err_reply(A.request('USER LIST role=host'), 'SYNTAX',
                'USER LIST takes no keys')

with h.section('USER SET'):
    write(A, 'USER SET name=u1 enabled=no', 'USER SET enabled=no',
          actor='admin')
    rec = [x for x in A.request('USER LIST').records if x.get('name') ==
           'u1']
    h.is_([x.get('enabled') for x in rec], ['no'], 'listed as enabled=no')
    with rd.connect() as c:
        h.err_reply(c.login('u1'), 'AUTH_FAILED',
                    'a disabled user cannot log in')
    write(A, 'USER SET name=U1 enabled=yes',
          'USER SET enabled=yes (name in another case)')
    with rd.connect() as c:
        h.is_(c.login('u1').final, 'OK user=u1 role=host',
              'enabled again: logs in')
    write(A, 'USER SET name=u1 password="another long secret"',
          'USER SET password=')
    with rd.connect() as c:
        h.err_reply(c.login('u1'), 'AUTH_FAILED', 'old password refused')
        h.ok_reply(c.login('u1', 'another long secret'),
                   'new password works')
    write(A, 'USER SET name=u1 role=secretariat', 'USER SET role=')
    with rd.connect() as c:
        h.is_(c.login('u1', 'another long secret').final,
              'OK user=u1 role=secretariat', 'LOGIN shows the new role')
    write(A, 'USER SET name=u1 role=focal party=TR',
          'USER SET role=focal party=TR')
    with rd.connect() as c:
        h.is_(c.login('u1', 'another long secret').final,
              'OK user=u1 role=focal party=TR', 'now a focal point of TR')
    write(A, 'USER SET name=nobody enabled=no', 'USER SET unknown user',
          err='NOT_FOUND')
    write(A, 'USER SET name=u1 enabled=maybe', 'USER SET enabled=maybe',
          err='INVALID')
    write(A, 'USER SET name=u1 password=short', 'USER SET short password',
          err='INVALID')
    write(A, 'USER SET name=u1 role=king', 'USER SET unknown role',
          err='INVALID')
    write(A, 'USER SET name=u1 party=ZZ', 'USER SET unknown party',
          err='NOT_FOUND')
    write(A, 'USER SET enabled=no', 'USER SET without name=',
          err='SYNTAX')

# --- parties ------------------------------------------------------------
ICMPD = 'International Centre for Migration Policy Development'
with h.section('PARTY: roles'):
    roles_check('PARTY ADD code=X1 kind=organisation name=X1',
                ['admin', 'secretariat', 'host'], 'PARTY ADD')
    h.err_reply(N.request('PARTY LIST'), 'AUTH_REQUIRED',
                'PARTY LIST: not logged in')
    h.err_reply(N.request('PARTY SHOW party=TR'), 'AUTH_REQUIRED',
                'PARTY SHOW: not logged in')

with h.section('PARTY ADD'):
    write(H, 'PARTY ADD code=ICMPD kind=organisation name="%s"' % ICMPD,
          'PARTY ADD by host', actor='hst')
    write(S, 'PARTY ADD code=IOM kind=organisation '
          'name="International Organization for Migration"',
          'PARTY ADD by secretariat', actor='sec')
    write(A, 'PARTY ADD code=FRONTEX kind=organisation name=Frontex',
          'PARTY ADD by admin', actor='admin')
    write(A, 'PARTY ADD code=icmpd kind=organisation name=Other',
          'PARTY ADD of a code that exists in another case',
          err='CONFLICT')
    write(A, 'PARTY ADD code=TR kind=country name=Turkey',
          'PARTY ADD of a preloaded country', err='CONFLICT')
    write(A, 'PARTY ADD code=UNHCR kind=planet name=UNHCR',
          'PARTY ADD unknown kind', err='INVALID')
    write(A, 'PARTY ADD code=UNHCR kind=organisation name=""',
          'PARTY ADD empty name', err='INVALID')
    write(A, 'PARTY ADD code=UNHCR kind=organisation name="   "',
          'PARTY ADD name of spaces only', err='INVALID')
    write(A, 'PARTY ADD code=UNHCR kind=organisation name=%s' % ('n' * 201),
          'PARTY ADD name of 201 characters', err='INVALID')
    write(A, 'PARTY ADD code=UN!HCR kind=organisation name=UNHCR',
          'PARTY ADD malformed code', err='INVALID')
    write(A, 'PARTY ADD code=UNHCR kind=organisation',
          'PARTY ADD without name=', err='SYNTAX')
    write(A, 'PARTY ADD code=UNHCR kind=organisation name="%s"' % ('é' * 200),
          'PARTY ADD name of 200 characters (400 bytes)')

with h.section('PARTY LIST and SHOW'):
    r = F.request('PARTY LIST kind=country')
    h.ok_reply(r, 'PARTY LIST kind=country (focal)',
               count=str(len(r.records)))
    codes = {rec.get('code') for rec in r.records}
    h.ok(all(rec.get('kind') == 'country' for rec in r.records),
         'only countries')
    try:
        with open('/usr/share/iso-codes/json/iso_3166-1.json') as f:
            iso = {c['alpha_2'] for c in json.load(f)['3166-1']}
    except OSError:
        iso = None
    if iso:
        h.is_(sorted(iso - codes), [],
              'every ISO 3166-1 country (%d) is there' % len(iso))
        if codes - iso:
            h.diag('countries beyond ISO 3166-1: %s' % sorted(codes - iso))
    else:
        h.cmp_ok(len(codes), '>=', 249, '249 countries or more')
    r = H.request('PARTY LIST kind=organisation')
    h.is_(sorted(rec.get('code') for rec in r.records),
          ['FRONTEX', 'ICMPD', 'IOM', 'UNHCR'],
          'PARTY LIST kind=organisation')
    h.ok_reply(r, 'count=4', count='4')
    r = S.request('PARTY LIST')
    h.ok_reply(r, 'PARTY LIST, all kinds', count=str(len(codes) + 4))
    h.err_reply(A.request('PARTY LIST kind=planet'), 'INVALID',
                'PARTY LIST kind=planet')
    r = F.request('PARTY SHOW party=TR')
    h.ok_reply(r, 'PARTY SHOW party=TR -> OK count=1', count='1')
    rec = r.records[0] if len(r.records) == 1 else {}
    h.is_((rec.get('code'), rec.get('kind')), ('TR', 'country'),
          'TR is a country')
    h.ok(bool(rec.get('name')), 'TR has a name (%r)' % rec.get('name'))
    rec = show(A, 'PARTY SHOW party=icmpd')
    h.is_(rec.get('code'), 'ICMPD',
          'PARTY SHOW is case-insensitive')
    h.is_(rec.get('name'), ICMPD,
          'name with spaces round-trips')
    h.err_reply(A.request('PARTY SHOW party=ZZ'), 'NOT_FOUND',
                'PARTY SHOW unknown party')
    h.err_reply(A.request('PARTY SHOW'), 'SYNTAX', 'PARTY SHOW without party=')

# --- events -------------------------------------------------------------
SOM = ('EVENT CREATE code=SOM37 title="37th Senior Officials Meeting of the '
       'Budapest Process" venue="Istanbul Congress Centre" city=Istanbul '
       'country=TR starts=2025-11-26 ends=2025-11-27 '
       'timezone=Europe/Istanbul chair=TR co_chair=HU secretariat=ICMPD')
E2 = ('EVENT CREATE code=E2 title=Second city=Budapest country=HU '
      'starts=2026-03-01 ends=2026-03-01')
with h.section('EVENT: roles'):
    roles_check(E2, ['admin', 'secretariat'], 'EVENT CREATE')
    roles_check('EVENT SET event=E2 title=x', ['admin', 'secretariat'],
                'EVENT SET')
    h.err_reply(N.request('EVENT LIST'), 'AUTH_REQUIRED',
                'EVENT LIST: not logged in')
    h.err_reply(N.request('EVENT SHOW event=E2'), 'AUTH_REQUIRED',
                'EVENT SHOW: not logged in')

with h.section('EVENT CREATE'):
    r = write(S, SOM, 'EVENT CREATE by secretariat', actor='sec',
              version='1')
    write(A, E2, 'EVENT CREATE by admin (one-day event)', actor='admin',
          version='1')
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
    write(A, variant(code='som37'), 'EVENT CREATE duplicate code (case)',
          err='CONFLICT')
    write(A, variant(starts='2026-03-03'), 'starts after ends',
          err='INVALID')
    write(A, variant(starts='2025-02-30'), 'starts=2025-02-30',
          err='INVALID')
    write(A, variant(ends='2026-3-2'), 'ends=2026-3-2', err='INVALID')
    write(A, variant(country='ZZ'), 'country=ZZ (no such party)',
          err='NOT_FOUND')
    write(A, variant(timezone='nonsense'), 'timezone=nonsense',
          err='INVALID')
    write(A, variant(chair='QQ'), 'chair=QQ (no such party)',
          err='NOT_FOUND')
    write(A, variant(title=None), 'EVENT CREATE without title=',
          err='SYNTAX')
    write(A, variant(title='""'), 'EVENT CREATE with an empty title',
          err='INVALID')
    write(A, variant(title='t' * 201), 'title of 201 characters',
          err='INVALID')
    write(A, variant(code='bad!'), 'malformed code', err='INVALID')
    write(A, variant(colour='red'), 'unknown key', err='SYNTAX')
    write(A, variant() + ' city=Again', 'key given twice', err='SYNTAX')
    title = 'Budapest Process: "Silk Routes" \\ Ελληνικά = İstanbul'
    nfd = unicodedata.normalize('NFD', 'Tímea Lehoczki – Türkiye')
    write(A, variant(code='E3', title=h.quote(title), venue=h.quote(nfd)),
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
    rec = show(F, 'EVENT SHOW event=som37')
    h.is_(rec.get('code'), 'SOM37',
          'EVENT SHOW is case-insensitive')
    rec = show(A, 'EVENT SHOW event=E2')
    h.ok(rec and 'venue' not in rec and 'chair' not in rec, 'absent fields are left out of the record',
         '    %r' % (rec,))
    rec = show(A, 'EVENT SHOW event=E3')
    h.is_(rec.get('title'), title,
          'title round-trips exactly')
    h.is_(rec.get('venue'),
          unicodedata.normalize('NFC', nfd), 'venue is stored in NFC')
    h.err_reply(A.request('EVENT SHOW event=NOPE'), 'NOT_FOUND',
                'EVENT SHOW unknown event')
    h.err_reply(A.request('EVENT LIST x=1'), 'SYNTAX', 'EVENT LIST x=1')

with h.section('EVENT SET'):
    write(S, 'EVENT SET event=SOM37 venue="Hotel X" version=1',
          'EVENT SET with the current version', actor='sec', version='2')
    write(A, 'EVENT SET event=SOM37 venue=Y version=1',
          'EVENT SET with a stale version', err='CONFLICT')
    rec = show(A, 'EVENT SHOW event=SOM37')
    h.is_(rec.get('venue'), 'Hotel X',
          'the stale write changed nothing')
    write(A, 'EVENT SET event=SOM37 status=open', 'EVENT SET without '
          'version= (unconditional)', actor='admin', version='3')
    rec = show(H, 'EVENT SHOW event=SOM37')
    h.is_({k: rec.get(k)
           for k in ('status', 'venue', 'version')},
          {'status': 'open', 'venue': 'Hotel X', 'version': '3'},
          'SHOW after two sets')
    write(A, 'EVENT SET event=SOM37 status=bogus', 'status=bogus',
          err='INVALID')
    write(A, 'EVENT SET event=SOM37 version=abc title=x', 'version=abc',
          err='INVALID')
    write(A, 'EVENT SET event=NOPE title=x', 'EVENT SET unknown event',
          err='NOT_FOUND')
    write(A, 'EVENT SET event=SOM37 starts=2025-11-28',
          'EVENT SET starts after ends', err='INVALID')
    write(A, 'EVENT SET event=SOM37 colour=red', 'EVENT SET unknown key',
          err='SYNTAX')
    h.err_reply(A.request('EVENT SET title=x'), 'SYNTAX',
                'EVENT SET without event= and no USE')
    h.is_(A.request('USE event=E2').final, 'OK event=E2', 'USE E2')
    write(A, 'EVENT SET title="Second meeting" version=1',
          'EVENT SET after USE', version='2')
    rec = show(A, 'EVENT SHOW event=E2')
    h.is_(rec.get('title'), 'Second meeting',
          'EVENT SET after USE changed E2')
    write(S, 'EVENT SET event=SOM37 status=closed version=3',
          'EVENT SET status=closed', version='4')
    write(S, 'EVENT SET event=SOM37 status=draft version=3',
          'a second writer with the old version', err='CONFLICT')

h.done_testing()
