"""test_party.py -- PARTY ADD, LIST and SHOW (PROTOCOL.md section 5,
daemon/cmd-party.c): who may add a party, the error code of each refusal,
every ISO 3166-1 country preloaded, codes that ignore case, names that
round-trip; one roster.audit row per committed write, none for a refused
one."""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd, roles = h.setup_roles()
A, S, H, F, N = roles.A, roles.S, roles.H, roles.F, roles.N
ROLES = roles.by_role
ICMPD = 'International Centre for Migration Policy Development'

with h.section('PARTY: roles'):
    h.only_for(ROLES, N, 'PARTY ADD code=X1 kind=organisation name=X1',
               ['admin', 'secretariat', 'host'], 'PARTY ADD')
    h.err_reply(N.request('PARTY LIST'), 'AUTH_REQUIRED',
                'PARTY LIST: not logged in')
    h.err_reply(N.request('PARTY SHOW party=TR'), 'AUTH_REQUIRED',
                'PARTY SHOW: not logged in')

with h.section('PARTY ADD'):
    h.write(H, 'PARTY ADD code=ICMPD kind=organisation name="%s"' % ICMPD,
            'PARTY ADD by host')
    h.write(S, 'PARTY ADD code=IOM kind=organisation '
            'name="International Organization for Migration"',
            'PARTY ADD by secretariat')
    h.write(A, 'PARTY ADD code=FRONTEX kind=organisation name=Frontex',
            'PARTY ADD by admin')
    h.refused(A, 'PARTY ADD code=icmpd kind=organisation name=Other',
              'CONFLICT', 'PARTY ADD of a code that exists in another case')
    h.refused(A, 'PARTY ADD code=TR kind=country name=Turkey', 'CONFLICT',
              'PARTY ADD of a preloaded country')
    h.refused(A, 'PARTY ADD code=UNHCR kind=planet name=UNHCR', 'INVALID',
              'PARTY ADD unknown kind')
    h.refused(A, 'PARTY ADD code=UNHCR kind=organisation name=""',
              'INVALID', 'PARTY ADD empty name')
    h.refused(A, 'PARTY ADD code=UNHCR kind=organisation name="   "',
              'INVALID', 'PARTY ADD name of spaces only')
    h.refused(A, 'PARTY ADD code=UNHCR kind=organisation name=%s'
              % ('n' * 201), 'INVALID', 'PARTY ADD name of 201 characters')
    h.refused(A, 'PARTY ADD code=UN!HCR kind=organisation name=UNHCR',
              'INVALID', 'PARTY ADD malformed code')
    h.refused(A, 'PARTY ADD code=UNHCR kind=organisation', 'SYNTAX',
              'PARTY ADD without name=')
    h.write(A, 'PARTY ADD code=UNHCR kind=organisation name="%s"'
            % ('é' * 200), 'PARTY ADD name of 200 characters (400 bytes)')

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
    rec = h.show(A, 'PARTY SHOW party=icmpd')
    h.is_(rec.get('code'), 'ICMPD', 'PARTY SHOW is case-insensitive')
    h.is_(rec.get('name'), ICMPD, 'name with spaces round-trips')
    h.err_reply(A.request('PARTY SHOW party=ZZ'), 'NOT_FOUND',
                'PARTY SHOW unknown party')
    h.err_reply(A.request('PARTY SHOW'), 'SYNTAX', 'PARTY SHOW without party=')

h.done_testing()
