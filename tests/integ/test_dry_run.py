"""test_dry_run.py -- dry_run=yes (PROTOCOL.md section 5): a write is
checked against every rule and answered as it would be, and nothing
changes: no row, no audit entry, no notification."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

env, rd = h.setup()
c = rd.login('admin')
w = rd.login('admin')

with h.section('set-up: event dry, a delegation of TR with a quota of 1'):
    for line in ('EVENT CREATE code=dry title=Dry city=Istanbul country=TR '
                 'starts=2025-11-26 ends=2025-11-27',
                 'EVENT SET event=dry status=open', 'USE event=dry',
                 'DELEGATION REGISTER party=TR quota=1'):
        h.must(c, line)

with h.section('dry runs'):
    h.is_(w.request('WATCH event=dry').final, 'OK watching', 'a watcher')
    audit = env.audit_count()
    r = c.request('PARTICIPANT ADD party=TR name="Ayşe Yılmaz" role=head '
                  'dry_run=yes')
    h.ok(r.ok and r.fields.get('dry_run') == 'yes' and
         r.fields.get('party') == 'TR' and len(r.fields.get('badge', '')) ==
         10, 'PARTICIPANT ADD dry_run=yes: the reply it would get',
         '    %r' % r.final)
    h.is_(env.pg.scalar('SELECT count(*) FROM roster.participant'), '0',
          'no participant was added')
    h.is_(env.audit_count(), audit, 'no audit row')
    r = c.request('PARTICIPANT ADD party=TR name="Ayşe Yılmaz" role=head')
    h.ok_reply(r, 'the real add', party='TR')
    # The set-up's own changes may reach the watcher late (notifications
    # travel on their own connection): the first participant line must be
    # the real add's, by its id, with no dry run's before it.
    kind, note = h.read_note(w)
    while not kind.startswith('participant.'):
        kind, note = h.read_note(w)
    h.is_((kind, note.get('id')), ('participant.added', r.fields.get('id')),
          'the watcher saw the real add, and nothing before it')

    h.err_reply(c.request('PARTICIPANT ADD party=TR name="Second" '
                          'dry_run=yes'), 'QUOTA',
                'a dry run past the quota: QUOTA')
    h.err_reply(c.request('DELEGATION REGISTER party=TR dry_run=yes'),
                'CONFLICT', 'a dry run of a duplicate: CONFLICT')
    h.ok_reply(c.request('DELEGATION SET party=TR quota=5 dry_run=yes'),
               'DELEGATION SET dry_run=yes', dry_run='yes', version='2')
    h.is_(env.pg.scalar("SELECT quota FROM roster.delegation"), '1',
          'the quota is still 1')
    h.err_reply(c.request('PARTICIPANT ADD party=TR name=X dry_run=no'),
                'INVALID', 'dry_run=no: INVALID')
    h.err_reply(c.request('EVENT LIST dry_run=yes'), 'SYNTAX',
                'a read takes no dry_run')
c.close()
w.close()
h.done_testing()
