"""test_web.py -- the web application (web/) in a real headless Chromium,
driven by Selenium, against the real rosterd's HTTPS face: a focal point
logs in with the keyboard, sees only their delegation (no other party's
names anywhere in the DOM), confirms a participant, and the status changes
on the page and in the database; a door user types a badge code and sees
the ✓ line, then ALREADY for the second scan, ✗ for an unknown badge; the
secretariat's overview updates, without a reload, when someone is checked
in with the CLI; the language switch changes the strings; every field has
a label. Screenshots of each page go to the test's temporary directory and
to /tmp/roster-web-shots/.

Chromium trusts the server certificate through
--ignore-certificate-errors-spki-list with the SHA-256 of that certificate's
public key only (with a --user-data-dir of its own, which the flag needs):
any other certificate is still refused.

Debian's python3-selenium belongs to /usr/bin/python3; under another
python3 without selenium the test runs itself again under /usr/bin/python3.
Without chromium, chromedriver or selenium it fails (tests/run installs
them)."""

import os
import sys

if __name__ == '__main__':
    try:
        import selenium  # noqa: F401
    except ImportError:
        if (os.path.realpath(sys.executable) !=
                os.path.realpath('/usr/bin/python3') and
                os.access('/usr/bin/python3', os.X_OK) and
                not os.environ.get('ROSTER_WEB_REEXEC')):
            os.environ['ROSTER_WEB_REEXEC'] = '1'
            os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)

import base64  # noqa: E402
import hashlib  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import Select, WebDriverWait
    from selenium.common.exceptions import (NoSuchElementException,
                                            StaleElementReferenceException)
except ImportError as e:
    h.plan(1)
    h.ok(False, 'python3-selenium is installed (%s, under %s)' %
         (e, sys.executable))
    sys.exit(1)
for prog in (CHROMIUM, CHROMEDRIVER):
    if not os.access(prog, os.X_OK):
        h.bail('%s is missing: install chromium and chromium-driver '
               '(tests/run does)' % prog)

PW = h.PASSWORD
HTTP_PORT = h.free_port()
WEB = os.path.join(h.SRCDIR, 'web')
SHOTS = '/tmp/roster-web-shots'

env, rd, R = h.setup_roles(http_listen='127.0.0.1:%d' % HTTP_PORT,
                           web_root=WEB)
BASE = 'https://127.0.0.1:%d/' % HTTP_PORT

# --- the meeting ---------------------------------------------------------
A = R.A
h.event(A, 'som37', city='Istanbul', title='37th Senior Officials Meeting')
for party in ('TR', 'HU'):
    h.must(A, 'DELEGATION REGISTER event=som37 party=%s quota=6' % party)
PEOPLE = {
    'TR': [('Ayşe Yılmaz', 'head', 'Director General'),
           ('Mehmet Demir', 'member', 'Head of Department'),
           ('Иван Петров', 'adviser', 'Adviser')],
    'HU': [('Tímea Lehoczki', 'head', 'Deputy State Secretary'),
           ('Zoltán Kovácsházi', 'member', 'Counsellor')],
}
ids = {}
badges = {}
for party, rows in PEOPLE.items():
    for name, role, title in rows:
        r = h.must(A, 'PARTICIPANT ADD event=som37 party=%s name=%s role=%s '
                   'title=%s' % (party, h.quote(name), role, h.quote(title)))
        ids[name] = r.fields['id']
        rec = h.show(A, 'PARTICIPANT SHOW event=som37 id=%s' % ids[name])
        badges[name] = rec['badge']
h.must(A, 'SESSION CREATE event=som37 code=twg kind=working_group '
       'title="Working group on return" starts=2025-11-27T09:30 '
       'ends=2025-11-27T12:00 capacity=1')
h.must(A, 'SESSION CREATE event=som37 code=opening kind=plenary '
       'title="Opening session" starts=2025-11-26T09:30 '
       'ends=2025-11-26T10:30')
HU_WORDS = ['Tímea', 'Lehoczki', 'Zoltán', 'Kovácsházi', 'Hungary',
            'Deputy State Secretary', badges['Tímea Lehoczki']]


def spki_hash(cert):
    """base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo."""
    pub = subprocess.run(['openssl', 'x509', '-in', cert, '-noout',
                          '-pubkey'], check=True, capture_output=True).stdout
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'],
                         input=pub, check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


profile = os.path.join(env.tmp, 'chromium')
shots = os.path.join(env.tmp, 'shots')
os.makedirs(shots, exist_ok=True)
os.makedirs(SHOTS, exist_ok=True)
opts = webdriver.ChromeOptions()
opts.binary_location = CHROMIUM
for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
            '--disable-dev-shm-usage', '--no-first-run',
            '--disable-extensions', '--lang=en-GB',
            '--window-size=1280,1000', '--user-data-dir=' + profile,
            '--ignore-certificate-errors-spki-list=' +
            spki_hash(env.certs.server_crt)):
    opts.add_argument(arg)
opts.add_experimental_option('prefs', {'intl.accept_languages': 'en-GB,en'})
opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
try:
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER,
                                              log_output=os.path.join(
                                                  env.tmp, 'chromedriver.log')),
                              options=opts)
except TypeError:   # selenium before 4.10 names it log_path
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER,
                                              log_path=os.path.join(
                                                  env.tmp, 'chromedriver.log')),
                              options=opts)
h.on_cleanup(driver.quit)
driver.set_page_load_timeout(20)


def wait(cond, what, timeout=10):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(
                                 StaleElementReferenceException,
                                 NoSuchElementException)).until(
            lambda d: cond())
    except Exception:
        h.diag('timed out waiting for %s' % what)
        return None


def css(sel):
    return driver.find_elements(By.CSS_SELECTOR, sel)


def text_of(sel):
    """The text of the first element sel picks, as shown ('' if none)."""
    return driver.execute_script(
        'const e = document.querySelector(arguments[0]);'
        'return e ? e.innerText.trim() : "";', sel)


def attr(sel, name):
    return driver.execute_script(
        'const e = document.querySelector(arguments[0]);'
        'return e ? e.getAttribute(arguments[1]) : null;', sel, name)


def shot(name):
    path = os.path.join(shots, name + '.png')
    driver.save_screenshot(path)
    shutil.copy(path, os.path.join(SHOTS, name + '.png'))
    h.diag('screenshot %s' % os.path.join(SHOTS, name + '.png'))


# What the pages are looked at on: a phone and a desk screen.
SIZES = (('phone', 360, 740, True), ('desk', 1366, 768, False))
FITS = """
const w = document.documentElement.clientWidth, bad = [];
if (document.documentElement.scrollWidth > w)
  bad.push('the page is ' + document.documentElement.scrollWidth +
           ' px wide in ' + w);
for (const e of document.querySelectorAll('body *')) {
  if (!e.offsetParent) continue;
  const r = e.getBoundingClientRect();
  if (r.right > w + 0.5 && !e.closest('.table-wrap'))
    bad.push(e.tagName + '#' + e.id + '.' + e.className + ' ends at ' +
             Math.round(r.right));
  const st = getComputedStyle(e);
  if (e.matches('button, a.button, input, select, nav a') &&
      (r.height < 24 || r.width < 24))
    bad.push('a small target: ' + e.tagName + ' "' +
             (e.textContent || e.id).trim().slice(0, 30) + '" ' +
             Math.round(r.width) + 'x' + Math.round(r.height));
  if (parseFloat(st.fontSize) < 12 && e.textContent.trim())
    bad.push('tiny text: ' + e.tagName + ' ' + st.fontSize);
}
return bad.slice(0, 10);
"""


def look(name):
    """Screenshots of the page at each of SIZES, and what reads badly
    there: a page wider than the screen, an element past its right edge
    (a table scrolls in its own box), a target under 24 px, text under
    12 px."""
    for size, w, ht, mobile in SIZES:
        driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': w, 'height': ht, 'deviceScaleFactor': 1,
            'mobile': mobile})
        time.sleep(0.2)
        bad = driver.execute_script(FITS)
        h.ok(not bad, '%s at %dx%d: fits, targets of 24 px, text of 12 px'
             % (name, w, ht), *bad)
        shot('%s-%s' % (name, size))
    driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})


def console_errors():
    """The page's script errors and CSP violations since the last call
    (the network's lines are left out: the API's refusals, a wrong password
    or an unknown badge, are answers the page shows)."""
    try:
        return [e for e in driver.get_log('browser')
                if e.get('level') == 'SEVERE' and
                e.get('source') != 'network']
    except Exception as e:
        return ['no console log: %s' % e]


UNLABELLED = """
const bad = [];
for (const e of document.querySelectorAll('input, select, textarea')) {
  if (e.type === 'hidden') continue;
  const ok = (e.id && document.querySelector('label[for="' + e.id + '"]')) ||
    e.closest('label') || e.getAttribute('aria-label') ||
    e.getAttribute('aria-labelledby');
  if (!ok) bad.push(e.outerHTML.slice(0, 120));
}
return bad;
"""


CONTRAST = """
function rgb(s) {
  const m = s.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const v = m[1].split(',').map(Number);
  return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1};
}
function lum(c) {
  const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function bg(e) {
  for (; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
const bad = [];
let n = 0;
for (const e of document.querySelectorAll('body *')) {
  if (!e.offsetParent && getComputedStyle(e).position !== 'fixed') continue;
  if (e.tagName === 'OPTION') continue;
  const own = Array.from(e.childNodes).some(x => x.nodeType === 3 && x.textContent.trim());
  if (!own) continue;
  const st = getComputedStyle(e);
  const fg = rgb(st.color), b = bg(e);
  if (!fg) continue;
  const l1 = lum(fg), l2 = lum(b);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
  const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
  n++;
  if (ratio < need) bad.push(e.tagName + ' "' + e.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2) + ' < ' + need);
}
return [n, bad];
"""


def contrast(page):
    n, bad = driver.execute_script(CONTRAST)
    h.ok(n > 0 and not bad, '%s: the %d texts shown pass WCAG AA contrast'
         % (page, n), *bad)


def labelled(page):
    bad = driver.execute_script(UNLABELLED)
    n = driver.execute_script(
        "return document.querySelectorAll('input, select').length")
    h.ok(n > 0 and not bad, '%s: every one of its %d fields has a label'
         % (page, n), *['unlabelled: %s' % b for b in bad])


def login(user):
    """Log in with the keyboard: type, Tab, type, Enter."""
    driver.get(BASE)
    box = wait(lambda: css('#login-user') and css('#login-user')[0]
               .is_displayed() and css('#login-user')[0], 'the login form')
    if not box:
        h.bail('no login form at %s: %s' % (BASE, driver.page_source[:500]))
    box.clear()
    box.send_keys(user)
    box.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    h.is_(active.get_attribute('id'), 'login-password',
          '%s: Tab goes from the user name to the password' % user)
    active.send_keys(PW + Keys.ENTER)


def logout():
    b = css('#logout')
    if b and b[0].is_displayed():
        b[0].click()
        wait(lambda: css('#login-user') and css('#login-user')[0]
             .is_displayed(), 'the login form after logging out')


start = time.monotonic()

# --- the page and its headers --------------------------------------------
with h.section('the page'):
    driver.get(BASE)
    wait(lambda: css('#login-user'), 'the login form')
    h.ok(driver.execute_script(
        "return document.querySelectorAll('script:not([src]), [style]')"
        ".length") == 0, 'no inline script or style attribute in index.html')
    labelled('login page')
    contrast('login page')
    look('login')
    # a wrong password says so and keeps the form
    box = css('#login-user')[0]
    box.send_keys('ftr')
    css('#login-password')[0].send_keys('wrong password here' + Keys.ENTER)
    h.ok(wait(lambda: 'Wrong user name or password' in text_of('#status'),
              'the refusal'), 'a wrong password: "Wrong user name or '
         'password." in the status line')

# --- the focal point -----------------------------------------------------
with h.section('focal point'):
    login('ftr')
    table = wait(lambda: css('#people tbody tr'), "the delegation's people")
    h.ok(table, 'focal TR logged in with the keyboard sees a people table')
    page = driver.page_source
    body = driver.find_element(By.TAG_NAME, 'body').text
    h.ok('Türkiye' in text_of('#delegation-title') or
         'Turkey' in text_of('#delegation-title'),
         "the page's title is the delegation: %r" % text_of('#delegation-title'))
    for name, _, _ in PEOPLE['TR']:
        h.ok(name in body, 'TR: %s is shown' % name)
    h.ok('(Ivan Petrov)' in body, 'the Latin form beside a Cyrillic name')
    leaked = [w for w in HU_WORDS if w in page]
    h.ok(not leaked, 'nothing of Hungary anywhere in the DOM',
         'found: %r' % leaked)
    labelled('focal page')
    contrast('focal page')
    row = '#people tr[data-id="%s"]' % ids['Mehmet Demir']
    h.is_(attr(row, 'data-status'), 'registered', 'Mehmet Demir is registered at first')
    shot('focal')
    css(row + ' button.confirm')[0].click()
    h.ok(wait(lambda: attr(row, 'data-status') == 'confirmed',
              'the confirmed status'),
         'Confirm: the row says confirmed')
    h.like(text_of(row + ' .status'), r'^confirmed$',
           'the status badge reads "confirmed"')
    h.like(text_of('#status'), r'Mehmet Demir is confirmed',
           'the status line says so')
    h.is_(env.pg.scalar('SELECT status FROM roster.participant WHERE id = %s'
                        % ids['Mehmet Demir']), 'confirmed',
          'and the database has it confirmed')
    shot('focal-confirmed')
    # correct a title, with the keyboard
    erow = '#people tr[data-id="%s"]' % ids['Ayşe Yılmaz']
    css(erow + ' button.edit')[0].click()
    form = wait(lambda: css('tr.editing form'), 'the edit form')
    h.ok(form, 'Correct opens a form under the row')
    if form:
        title = css('tr.editing input')[4]
        title.clear()
        title.send_keys('Director General for Migration' + Keys.ENTER)
        h.ok(wait(lambda: 'Director General for Migration' in text_of(erow),
                  'the new title'), 'the corrected title is shown')
        h.is_(env.pg.scalar('SELECT title FROM roster.participant WHERE '
                            'id = %s' % ids['Ayşe Yılmaz']),
              'Director General for Migration', 'and stored')
    # add a person
    css('#add-name')[0].send_keys('Elif Şahin')
    css('#add-title-field')[0].send_keys('Expert' + Keys.ENTER)
    h.ok(wait(lambda: 'Elif Şahin' in text_of('#people'), 'the new person'),
         'Add: the new person is in the list')
    h.is_(env.pg.scalar("SELECT count(*) FROM roster.participant WHERE "
                        "name = 'Elif Şahin'"), '1', 'added once')
    # enrol in the working group (capacity 1)
    Select(css('#enrol-person')[0]).select_by_visible_text('Ayşe Yılmaz')
    btn = wait(lambda: [b for b in css('#enrol-list button')
                        if b.text == 'Enrol'], 'the Enrol button')
    h.ok(btn, 'the working group lists Enrol for someone not enrolled')
    if btn:
        btn[0].click()
        h.ok(wait(lambda: 'enrolled' in text_of('#enrol-list') and
                  'not enrolled' not in text_of('#enrol-list'),
                  'enrolled'), 'Enrol: the person is enrolled')
        h.ok(wait(lambda: '1' in text_of('table.groups tbody tr') and
                  'full' in text_of('table.groups tbody tr'), 'full'),
             'the group shows 1 of capacity 1, full')
    # the language switch
    Select(css('#lang')[0]).select_by_value('fr')
    h.ok(wait(lambda: 'Personnes' in text_of('#people-title'), 'French'),
         'the language switch: the page in French')
    h.is_(driver.execute_script('return document.documentElement.lang'),
          'fr', '<html lang="fr">')
    h.like(text_of('#logout'), r'^Se déconnecter$', 'the header too')
    look('focal-fr')
    Select(css('#lang')[0]).select_by_value('ru')
    h.ok(wait(lambda: 'Участники' in text_of('#people-title'), 'Russian'),
         'and in Russian')
    Select(css('#lang')[0]).select_by_value('en')
    wait(lambda: 'People' in text_of('#people-title'), 'English again')
    look('focal')
    errs = console_errors()
    h.ok(not errs, 'no errors in the console', *[str(e) for e in errs])
    logout()

# --- the door --------------------------------------------------------------
with h.section('door'):
    # a browser without BarcodeDetector (whatever this Chromium has)
    no_bd = driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {
        'source': 'delete window.BarcodeDetector;'})
    login('hst')
    badge = wait(lambda: css('#badge'), 'the door page')
    h.ok(badge, 'host logged in: the door page')
    h.ok(not css('#door-camera') and driver.execute_script(
        "return !('BarcodeDetector' in window)"),
        'without BarcodeDetector: no camera button')
    driver.execute_cdp_cmd('Page.removeScriptToEvaluateOnNewDocument',
                           {'identifier': no_bd['identifier']})
    h.is_(driver.switch_to.active_element.get_attribute('id'), 'badge',
          'the badge field has the focus (a scanner types into it)')
    labelled('door page')
    contrast('door page')
    driver.switch_to.active_element.send_keys(badges['Ayşe Yılmaz'].lower()
                                              + Keys.ENTER)
    h.ok(wait(lambda: text_of('#door-result').startswith('✓'), 'the ✓'),
         'first scan: ✓')
    res = text_of('#door-result')
    h.like(res, r'✓ Ayşe Yılmaz', 'with the name')
    h.like(res, r'Türkiye|Turkey', 'and the delegation')
    h.like(res, r'Not confirmed', 'a person never confirmed is pointed out')
    h.is_(driver.switch_to.active_element.get_attribute('id'), 'badge',
          'the field is empty and focused again for the next scan')
    look('door')
    driver.switch_to.active_element.send_keys(badges['Ayşe Yılmaz'] +
                                              Keys.ENTER)
    h.ok(wait(lambda: text_of('#door-result').startswith('ALREADY'),
              'ALREADY'), 'second scan: ALREADY')
    h.like(text_of('#door-result'), r'ALREADY checked in at .*\d\d:\d\d',
           'with the time')
    shot('door-already')
    driver.switch_to.active_element.send_keys('AAAAAAAAAA' + Keys.ENTER)
    h.ok(wait(lambda: text_of('#door-result').startswith('✗'), '✗'),
         'an unknown badge: ✗')
    h.like(text_of('#door-result'), r'unknown badge', 'says unknown')
    h.is_(env.pg.scalar('SELECT count(*) FROM roster.participant WHERE '
                        'checked_in IS NOT NULL'), '1',
          'one check-in in the database')
    shot('door-unknown')
    logout()

# --- the secretariat ---------------------------------------------------------
with h.section('secretariat'):
    login('sec')
    h.ok(wait(lambda: css('#ci-TR'), 'the overview'), 'secretariat: overview')
    h.is_(text_of('#ci-TR'), '1', 'TR: 1 checked in')
    h.is_(text_of('#n-registered'), '2', '2 delegations registered')
    h.ok(wait(lambda: text_of('#live').startswith('Live'), 'live'),
         'the event stream is open')
    leaked = [a.get_attribute('href') for a in css('a.button')
              if '/api/export?' not in a.get_attribute('href')]
    h.ok(css('a.button') and not leaked,
         'the downloads are links to /api/export')
    driver.execute_script('window.__noReload = 42;')
    time.sleep(1)  # the lists read again once the stream is open
    # from here, every request the page makes is counted
    driver.execute_script(
        'window.__asked = []; const f = window.fetch;'
        'window.fetch = function (u, o) {'
        '  window.__asked.push((o && o.body) || String(u));'
        '  return f.apply(this, arguments); };')
    checked = int(text_of('#n-checkedin') or -1)
    rc, out, err = env.cli(rd, '--event', 'som37', 'CHECKIN',
                           'badge=' + badges['Mehmet Demir'], user='sec',
                           password=PW)
    h.is_(rc, 0, 'the CLI checks Mehmet Demir in (%s)' % err.strip())
    h.ok(wait(lambda: text_of('#ci-TR') == '2', 'the live update'),
         'the overview shows 2 checked in for TR')
    h.is_(text_of('#n-checkedin'), str(checked + 1),
          'and one more in all')
    h.like(text_of('#live'), r'Mehmet Demir', 'and says who came')
    h.is_(driver.execute_script('return window.__noReload'), 42,
          'without a reload')
    h.is_(text_of('#ci-HU'), '0', 'HU: 0')
    time.sleep(0.5)
    h.is_(driver.execute_script('return window.__asked'), [],
          'a check-in is applied from the event: no request at all')
    confirmed = int(text_of('#n-people') or -1)
    h.must(A, 'PARTICIPANT CONFIRM event=som37 id=%s' % ids['Иван Петров'])
    h.ok(wait(lambda: text_of('#n-people') == str(confirmed + 1),
              'the confirmation'), 'a confirmation: one more confirmed')
    h.is_(driver.execute_script('return window.__asked'), [],
          'also from the event alone')
    h.must(A, 'SESSION SET event=som37 session=twg capacity=3')
    cap = ("return Array.from(document.querySelectorAll('#ov-sessions "
           "tbody tr')).filter(r => r.textContent.includes('Working group'))"
           ".map(r => r.children[3].textContent).join()")
    h.ok(wait(lambda: driver.execute_script(cap) == '3', 'the capacity'),
         'a change the event does not describe: the session shows capacity 3')
    h.ok(len(driver.execute_script('return window.__asked')) >= 1,
         'read again from the lists')
    errs = console_errors()
    h.ok(not errs, 'no errors in the console (door, overview)',
         *[str(e) for e in errs])
    labelled('overview')
    contrast('overview')
    look('overview')
    css('nav a[href="#lists"]')[0].click()
    h.ok(wait(lambda: css('#lists-table tbody tr'), 'the lists'),
         'the lists page')
    n = len(css('#lists-table tbody tr'))
    Select(css('#filter-party')[0]).select_by_value('HU')
    h.ok(wait(lambda: len(css('#lists-table tbody tr')) == 2, 'the filter'),
         'filter by delegation: the 2 of Hungary (of %d)' % n)
    h.ok(all('party=HU' in a.get_attribute('href')
             for a in css('#lists-table ~ div a.button') or
             css('ul.exports a')), 'the download follows the filter')
    labelled('lists')
    contrast('lists')
    look('lists')
    css('nav a[href="#door"]')[0].click()
    h.ok(wait(lambda: css('#badge'), 'the door'), 'and the door')
    # the session ends elsewhere (its user disabled): the next scan finds
    # it ended and the page goes back to the login form
    h.must(A, 'USER SET name=sec enabled=no')
    css('#badge')[0].send_keys(badges['Tímea Lehoczki'] + Keys.ENTER)
    h.ok(wait(lambda: css('#login-user') and css('#login-user')[0]
              .is_displayed(), 'the login form'),
         'a session ended elsewhere: the page shows the login form')
    h.like(text_of('#status'), r'session has ended', 'and says why')
    h.is_(env.pg.scalar('SELECT count(*) FROM roster.participant WHERE '
                        'checked_in IS NOT NULL'), '2',
          'and nothing was checked in')

# --- the door's camera --------------------------------------------------------
# Installed before the page's scripts run: a BarcodeDetector that reads
# the code a fake camera shows (getUserMedia gives a stream of a canvas,
# the code it was asked to film in window.__badge), and only from a video
# element that plays that stream and has a frame, as a real one would.
FAKE_CAMERA = '''
(() => {
  window.__gum = [];
  window.BarcodeDetector = class {
    constructor(o) { window.__formats = (o || {}).formats; }
    static async getSupportedFormats() { return ['qr_code']; }
    async detect(src) {
      if (!(src instanceof HTMLVideoElement) || !src.srcObject ||
          !src.srcObject.__fake || src.readyState < 2 || src.paused)
        return [];
      const code = window.__badge;
      return code ? [{format: 'qr_code', rawValue: code,
                      boundingBox: {x: 0, y: 0, width: 1, height: 1},
                      cornerPoints: []}] : [];
    }
  };
  const md = navigator.mediaDevices;
  md.getUserMedia = async (constraints) => {
    window.__gum.push(constraints);
    const cv = document.createElement('canvas');
    cv.width = 160; cv.height = 120;
    const g = cv.getContext('2d');
    const draw = () => { g.fillStyle = '#fff'; g.fillRect(0, 0, 160, 120);
      g.fillStyle = '#000'; g.fillText(window.__badge || '', 8, 60); };
    draw();
    setInterval(draw, 100);
    const stream = cv.captureStream(10);
    stream.__fake = true;
    return stream;
  };
})();
'''

with h.section('door: the camera, where the browser has BarcodeDetector'):
    driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument',
                           {'source': FAKE_CAMERA})
    login('hst')
    cam = wait(lambda: css('#door-camera'), 'the camera button')
    h.ok(cam and cam[0].is_displayed(),
         'with BarcodeDetector: the door offers the camera')
    if cam:
        h.is_(cam[0].text, 'Use the camera', 'labelled "Use the camera"')
        cam[0].click()
        h.ok(wait(lambda: driver.execute_script(
            "const v = document.getElementById('door-video');"
            "return v && !v.hidden && v.readyState >= 2 && !v.paused;"),
            'the video playing'), 'clicked: the camera plays in the page')
        h.is_(driver.execute_script('return window.__gum'),
              [{'video': {'facingMode': 'environment'}}],
              'the camera asked for is the one facing away')
        h.is_(driver.execute_script('return window.__formats'), ['qr_code'],
              'a detector of QR codes')
        h.is_(cam[0].text, 'Stop the camera', 'the button now stops it')
        code = badges['Zoltán Kovácsházi']
        # as a badge's QR code may be printed: lower case, with a dash
        driver.execute_script('window.__badge = arguments[0];',
                              ' ' + code[:5].lower() + '-' + code[5:] + ' ')
        h.ok(wait(lambda: text_of('#door-result').startswith('✓'),
                  'the ✓ of the camera'), 'the code in front of the camera: ✓')
        h.like(text_of('#door-result'), r'✓ Zoltán Kovácsházi',
               'with the name')
        h.like(text_of('#door-result'), r'Hungary', 'and the delegation')
        h.ok(env.pg.scalar("SELECT checked_in IS NOT NULL FROM "
                           "roster.participant WHERE id = %s"
                           % ids['Zoltán Kovácsházi']) == 't',
             'checked in, in the database')
        time.sleep(1)
        h.is_(len(css('#door-history li')), 1,
              'the code still in view is not scanned again at once')
        look('door-camera')
        cam[0].click()
        h.ok(wait(lambda: driver.execute_script(
            "const v = document.getElementById('door-video');"
            "return v.hidden && !v.srcObject;"), 'the camera off'),
             'clicked again: the camera stops')
    errs = console_errors()
    h.ok(not errs, 'no errors in the console (camera)',
         *[str(e) for e in errs])

h.diag('browser part: %.1f s' % (time.monotonic() - start))
h.done_testing()
