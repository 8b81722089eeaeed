"""test_tls_scan.py -- Debian's sslscan against a test rosterd on loopback
(PROTOCOL.md section 1): TLS 1.2 and 1.3 only; forward-secret AEAD ciphers
only (ECDHE or DHE key exchange with AES-GCM or CHACHA20-POLY1305 in TLS
1.2, the TLS 1.3 suites); no compression, no insecure renegotiation, no
Heartbleed. Skipped when sslscan is not installed (tests/run installs it)."""

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SSLSCAN = shutil.which('sslscan')
if SSLSCAN is None:
    h.skip('sslscan', 'sslscan is not installed (apt-get install sslscan)')
    h.done_testing()

env, rd = h.setup()
TLS13 = {'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
         'TLS_CHACHA20_POLY1305_SHA256'}
TLS12 = re.compile(r'^(ECDHE|DHE)-(RSA|ECDSA)-'
                   r'(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$')

with h.section('sslscan'):
    p = h.run([SSLSCAN, '--no-colour', '--xml=-', '--ipv4',
               '127.0.0.1:%d' % rd.port], timeout=170)
    out = p.stdout[p.stdout.find('<?xml'):] if '<?xml' in p.stdout \
        else p.stdout
    root = ET.fromstring(out[:out.rfind('</document>') + len('</document>')])
    test = root.find('ssltest')
    h.ok(test is not None, 'sslscan wrote its results')
    protos = {(e.get('type'), e.get('version')): e.get('enabled')
              for e in test.iter('protocol')}
    h.diag('protocols: %r' % sorted(protos.items()))
    enabled = sorted(v for (t, v), on in protos.items() if on == '1')
    h.is_(enabled, ['1.2', '1.3'], 'TLS 1.2 and 1.3 enabled, nothing else')
    ciphers = [(e.get('sslversion'), e.get('cipher'))
               for e in test.iter('cipher')
               if e.get('status') in ('accepted', 'preferred')]
    h.diag('accepted: %s' % ', '.join('%s %s' % c for c in ciphers))
    h.is_(sorted({v for v, _ in ciphers}), ['TLSv1.2', 'TLSv1.3'],
          'ciphers accepted in TLS 1.2 and 1.3 only')
    bad = [c for c in ciphers
           if not ((c[0] == 'TLSv1.3' and c[1] in TLS13) or
                   (c[0] == 'TLSv1.2' and TLS12.match(c[1] or '')))]
    h.is_(bad, [], 'every cipher accepted is forward-secret AEAD')
    comp = test.find('compression')
    h.ok(comp is None or comp.get('supported') == '0', 'no TLS compression',
         '    %r' % (comp.attrib if comp is not None else None))
    reneg = test.find('renegotiation')
    h.ok(reneg is None or reneg.get('supported') == '0' or
         reneg.get('secure') == '1', 'no insecure renegotiation',
         '    %r' % (reneg.attrib if reneg is not None else None))
    hb = [e.attrib for e in test.iter('heartbleed')
          if e.get('vulnerable') != '0']
    h.is_(hb, [], 'not vulnerable to Heartbleed')
    with rd.connect() as c:
        h.is_(c.request('PING').final, 'OK pong', 'serving after the scan')

h.done_testing()
