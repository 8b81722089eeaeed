"""test_docs.py -- every configuration key rosterd accepts (the entries
`{ "KEY", ...` of the key table in daemon/config.c) is documented in
README.md as `KEY`, and so is every key the tests write. Needs no daemon and
no database."""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

KEYS_THE_TESTS_USE = ('listen', 'cert', 'key', 'client_ca', 'database',
                      'db_connections', 'max_connections', 'max_line',
                      'max_pending', 'idle_timeout', 'handshake_timeout',
                      'log_level', 'user')


def read(rel):
    try:
        with open(os.path.join(h.SRCDIR, rel), encoding='utf-8') as f:
            return f.read()
    except OSError as e:
        h.diag('cannot read %s: %s' % (rel, e))
        return None


config_c = read('daemon/config.c')
readme = read('README.md')
h.ok(config_c is not None, 'daemon/config.c is there')
h.ok(readme is not None, 'README.md is there')
config_c = config_c or ''
readme = readme or ''

# The key table: from "config_keys[] = {" to the "};" that ends it.
m = re.search(r'config_keys\s*\[\s*\]\s*=\s*\{(.*?)\n\};', config_c, re.S)
table = m.group(1) if m else config_c
keys = re.findall(r'\{\s*"([a-z0-9_]+)"\s*,', table)
h.ok(len(keys) >= len(KEYS_THE_TESTS_USE),
     'found the key table in daemon/config.c (%d keys)' % len(keys))
h.is_(sorted(set(keys)), sorted(keys), 'no key twice in the table')
for k in keys:
    h.ok('`%s`' % k in readme, 'README.md documents `%s`' % k)
for k in KEYS_THE_TESTS_USE:
    h.ok(k in keys, 'the daemon accepts `%s`, which the tests use' % k)

h.done_testing()
