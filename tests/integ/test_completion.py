"""test_completion.py -- the bash completion of roster (deploy/roster.bash)
against a real rosterd: the command words, keys and choices come from the
server's HELP (asked with the connection options on the line, no login),
and "=" in COMP_WORDBREAKS or not gives the same result."""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SCRIPT = os.path.join(h.SRCDIR, 'deploy', 'roster.bash')
if not os.access(h.ROSTER, os.X_OK):
    h.bail('%s is not built' % h.ROSTER)
env, rd = h.setup()


def complete(line, split_at_equals=True):
    """COMPREPLY of _roster for `line` with the cursor at its end; COMP_WORDS
    split as bash does (at "=" too unless split_at_equals is false)."""
    prog = r'''
source "$1" || exit 3
COMP_LINE=$2
COMP_POINT=${#2}
if [[ $3 == yes ]]; then
	read -r -a COMP_WORDS <<<"${2//=/ = }"
else
	read -r -a COMP_WORDS <<<"$2"
	COMP_WORDBREAKS=${COMP_WORDBREAKS//=/}
fi
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_roster
printf '%s\n' "${COMPREPLY[@]}"
'''
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROSTER_')}
    e.update(HOME=env.home, XDG_CONFIG_HOME=os.path.join(env.home, '.config'))
    r = subprocess.run(['bash', '--norc', '--noprofile', '-c', prog, 'bash',
                        SCRIPT, line, 'yes' if split_at_equals else 'no'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60, env=e,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError('bash exited %d: %s' % (r.returncode, r.stderr))
    return [w for w in r.stdout.splitlines() if w]


base = '%s --host 127.0.0.1 --port %d --ca %s ' % (h.ROSTER, rd.port,
                                                   env.certs.ca)

with h.section('command words from HELP'):
    first = complete(base)
    for w in ('shell', 'import', 'export', 'watch', 'PARTICIPANT', 'PARTY',
              'USER', 'CHECKIN', 'HELP'):
        h.ok(w in first, 'the first word may be %s' % w)
    h.is_(sorted(complete(base + 'US')), ['USE', 'USER'], 'US: USE, USER')
    h.is_(sorted(complete(base + 'us')), ['use', 'user'],
          'us: in lower case, as typed')
    h.is_(sorted(complete(base + 'USER ')), ['ADD', 'LIST', 'SET'],
          'USER: its second words')
    h.is_(complete(base + 'PARTY SH'), ['SHOW'], 'PARTY SH: SHOW')

with h.section('keys and choices from HELP'):
    keys = complete(base + 'USER ADD ')
    h.is_(sorted(keys), ['dry_run=', 'name=', 'party=', 'password=',
                         'role='], 'USER ADD: its keys and dry_run=')
    h.is_(complete(base + 'USER ADD ro'), ['role='], 'ro: role=')
    for split in (True, False):
        how = 'words split at "="' if split else 'whole key=value words'
        got = complete(base + 'USER ADD role=', split)
        want = ['admin', 'secretariat', 'host', 'focal']
        h.is_([g.lstrip('=').split('=')[-1] for g in got], want,
              'role=: the roles (%s)' % how)
        got = complete(base + 'PARTY LIST kind=c', split)
        h.is_(got, ['country'] if split else ['kind=country'],
              'kind=c: country (%s)' % how)
    h.is_(complete(base + 'EVENT SET status=', False),
          ['status=draft', 'status=open', 'status=closed'],
          'EVENT SET status=: the statuses')
    h.is_(complete(base + 'PARTY LIST name='), [],
          'a key without choices: nothing')

with h.section('export and watch'):
    whats = complete(base + 'export ')
    h.ok({'participants', 'attendance'} <= set(whats),
         'export: what= choices from HELP (%s)' % ' '.join(whats))
    after = complete(base + 'export participants ')
    h.ok('format=' in after and 'what=' not in after,
         'export WHAT: the keys of EXPORT but what=', *after)
    h.is_(complete(base + 'export participants format=', False),
          ['format=csv', 'format=tsv', 'format=xlsx'],
          'export format=: csv, tsv, xlsx')
    h.is_(complete(base + 'watch ev'), ['event='], 'watch: event=')

with h.section('a config file names the server'):
    cfg = os.path.join(env.tmp, 'completion.conf')
    with open(cfg, 'w') as f:
        f.write('host = 127.0.0.1\nport = %d\nca = %s\n'
                % (rd.port, env.certs.ca))
    h.is_(sorted(complete('%s -c %s US' % (h.ROSTER, cfg))),
          ['USE', 'USER'], '-c FILE: HELP from the server it names')
    h.is_(sorted(complete('%s --port %d US' % (h.ROSTER, h.free_port()))),
          [], 'no server: no command words')

h.done_testing()
