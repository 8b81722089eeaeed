// overview.js -- the secretariat's view of the meeting at a glance:
// delegations registered / confirmed / declined, participants confirmed
// and checked in per delegation, each session's enrolment against its
// capacity, kept up to date from the event stream (GET /api/watch): a
// check-in or a confirmation is applied from the event itself, any other
// change reads the lists again; the exports to download.

import * as api from './api.js';
import {t} from './i18n.js';
import {el, clear, timeOf} from './dom.js';

export const EXPORTS = ['participants', 'attendance', 'delegations', 'speakers', 'sessions', 'enrolments'];

export function exportLinks(ev, extra) {
	const ul = el('ul', {class: 'exports'});
	for (const what of EXPORTS) {
		const li = el('li', {}, el('span', {class: 'export-name'}, t('export.' + what)), ' ');
		for (const format of ['csv', 'tsv']) {
			li.append(el('a', {class: 'button secondary', download: what + '.' + format,
				href: api.exportUrl(Object.assign({what, event: ev, format}, extra || {})),
				'aria-label': t('export.link', {what: t('export.' + what), format: format.toUpperCase()})},
			format.toUpperCase()), ' ');
		}
		ul.append(li);
	}
	return ul;
}

function tile(id, label, value) {
	return el('div', {class: 'tile'}, el('span', {class: 'tile-value', id}, String(value)),
		el('span', {class: 'tile-label'}, label));
}

export async function render(root, ctx) {
	const ev = ctx.event;
	const tz = ctx.eventInfo && ctx.eventInfo.timezone;
	const head = el('div', {class: 'view-head'}, el('h1', {}, t('overview.title')));
	const live = el('p', {id: 'live', class: 'live', 'aria-live': 'polite'}, t('live.connecting'));
	const tiles = el('div', {class: 'tiles', id: 'tiles'});
	const deleg = el('section', {class: 'card', 'aria-labelledby': 'ov-deleg'});
	const sess = el('section', {class: 'card', 'aria-labelledby': 'ov-sess'});
	const exp = el('section', {class: 'card', 'aria-labelledby': 'ov-exp'},
		el('h2', {id: 'ov-exp'}, t('export.title')), exportLinks(ev),
		el('p', {class: 'hint'}, t('export.cli')));
	head.append(live);
	root.append(head, tiles, deleg, sess, exp);

	// What the page shows, as last read or changed since by an event.
	const state = {dels: [], people: new Map(), sessions: []};
	let loading = null;

	async function load() {
		const [d, p, s] = await Promise.all([
			api.call('DELEGATION LIST', {event: ev}),
			api.call('PARTICIPANT LIST', {event: ev}),
			api.call('SESSION LIST', {event: ev}),
		]);
		state.dels = d.records;
		state.people = new Map(p.records.map(x => [x.id, x]));
		state.sessions = s.records;
		redraw();
	}

	function redraw() {
		draw(state.dels, Array.from(state.people.values()), state.sessions);
	}

	// An event whose data says all there is to change: applied here, and
	// true; false when the lists must be read again.
	function apply(kind, data) {
		const p = state.people.get(data.id);
		if (kind === 'checkin') {
			if (!p) {
				return false;
			}
			if (!p.checked_in || (data.checked_in && data.checked_in < p.checked_in)) {
				p.checked_in = data.checked_in || p.checked_in || 'yes';
			}
			return true;
		}
		if (kind === 'participant.confirmed') {
			if (!p) {
				return false;
			}
			p.status = 'confirmed';
			return true;
		}
		if (kind === 'delegation.confirmed') {
			const d = state.dels.find(x => x.party === data.party);
			if (!d) {
				return false;
			}
			d.status = 'confirmed';
			return true;
		}
		return false;
	}

	function draw(dels, people, sessions) {
		const by = {};
		for (const d of dels) {
			by[d.party] = {d, confirmed: 0, checked: 0, people: 0};
		}
		let confirmed = 0;
		let checked = 0;
		for (const p of people) {
			const b = by[p.party];
			if (p.status === 'confirmed') {
				confirmed += 1;
				if (b) {
					b.confirmed += 1;
				}
			}
			if (p.checked_in) {
				checked += 1;
				if (b) {
					b.checked += 1;
				}
			}
			if (b && p.status !== 'declined') {
				b.people += 1;
			}
		}
		const count = st => dels.filter(d => d.status === st).length;
		clear(tiles).append(
			tile('n-registered', t('overview.registered'), count('registered')),
			tile('n-confirmed', t('overview.confirmed'), count('confirmed')),
			tile('n-declined', t('overview.declined'), count('declined')),
			tile('n-people', t('overview.people.confirmed'), confirmed),
			tile('n-checkedin', t('overview.people.checkedin'), checked));

		clear(deleg).append(el('h2', {id: 'ov-deleg'}, t('overview.delegations')));
		const table = el('table', {id: 'ov-delegations'},
			el('thead', {}, el('tr', {}, ...['delegation', 'person.status', 'overview.col.people',
				'overview.col.confirmed', 'overview.col.checkedin']
				.map(c => el('th', {scope: 'col'}, t(c))))));
		const body = el('tbody');
		for (const b of Object.values(by)) {
			body.append(el('tr', {'data-party': b.d.party},
				el('th', {scope: 'row', 'data-label': t('delegation')}, b.d.name || b.d.party,
					' ', el('span', {class: 'code'}, b.d.party)),
				el('td', {'data-label': t('person.status')},
					el('span', {class: 'status s-' + b.d.status}, t('status.' + b.d.status))),
				el('td', {'data-label': t('overview.col.people')}, String(b.people)),
				el('td', {'data-label': t('overview.col.confirmed')}, String(b.confirmed)),
				el('td', {'data-label': t('overview.col.checkedin'), class: 'checkedin',
					id: 'ci-' + b.d.party}, String(b.checked))));
		}
		table.append(body);
		deleg.append(el('div', {class: 'table-wrap'}, table));

		clear(sess).append(el('h2', {id: 'ov-sess'}, t('overview.sessions')));
		const st = el('table', {id: 'ov-sessions'},
			el('thead', {}, el('tr', {}, ...['session.title', 'session.starts', 'session.enrolled',
				'session.capacity', 'session.waitlisted'].map(c => el('th', {scope: 'col'}, t(c))))));
		const sb = el('tbody');
		for (const s of sessions) {
			const n = Number(s.enrolled || 0);
			const cap = s.capacity ? Number(s.capacity) : 0;
			const cell = el('td', {'data-label': t('session.enrolled')}, String(n));
			if (cap) {
				cell.append(' ', el('meter', {min: '0', max: String(cap), value: String(n),
					high: String(Math.max(cap - 1, 0)), optimum: '0',
					'aria-label': t('session.meter', {n, cap})}));
			}
			sb.append(el('tr', {},
				el('th', {scope: 'row', 'data-label': t('session.title')}, s.title || s.code),
				el('td', {'data-label': t('session.starts')}, (s.starts || '').replace('T', ' ').slice(0, 16)),
				cell,
				el('td', {'data-label': t('session.capacity')}, s.capacity || t('session.unlimited')),
				el('td', {'data-label': t('session.waitlisted')}, s.waitlisted || '0')));
		}
		st.append(sb);
		sess.append(el('div', {class: 'table-wrap'}, st));
	}

	await load();

	// Live: a change the event's data describes is applied at once; any
	// other reads the lists again (at most about three times a second, and
	// once more if something happened while they were being read); the
	// last change is said in words.
	const source = api.watch(ev);
	let pending = null;
	let again = false;
	function reload() {
		if (loading) {
			again = true;
			return;
		}
		if (pending) {
			return;
		}
		pending = setTimeout(() => {
			pending = null;
			loading = load().catch(() => {
				live.textContent = t('live.lost');
			}).finally(() => {
				loading = null;
				if (again) {
					again = false;
					reload();
				}
			});
		}, 300);
	}
	const kinds = ['checkin', 'participant.added', 'participant.updated', 'participant.confirmed',
		'participant.declined', 'participant.erased', 'delegation.registered',
		'delegation.updated', 'delegation.confirmed', 'delegation.declined', 'enrol', 'unenrol',
		'session.created', 'session.updated', 'event.updated'];
	const onEvent = e => {
		let data = {};
		try {
			data = JSON.parse(e.data);
		} catch (err) {
			data = {};
		}
		const what = e.type === 'checkin'
			? t('live.checkin', {name: data.name || '', party: data.party || '',
				time: timeOf(data.checked_in, tz)})
			: t('live.change', {kind: e.type});
		live.textContent = t('live.on') + ' ' + what;
		if (loading || pending || !apply(e.type, data)) {
			reload(); // the lists being read may not have it yet
		} else {
			redraw();
		}
	};
	for (const k of kinds) {
		source.addEventListener(k, onEvent);
	}
	source.onmessage = onEvent;
	source.onopen = () => {
		live.textContent = t('live.on');
		// what changed before the stream was open (or while it was
		// broken) is read; from now on the stream says it
		reload();
	};
	source.onerror = () => {
		live.textContent = t('live.lost');
		if (source.readyState === EventSource.CLOSED) {
			// refused, not cut: has the session ended (idle, LOGOUT
			// elsewhere, a changed user)?
			api.session().then(f => {
				if (!f) {
					window.dispatchEvent(new CustomEvent('roster-session-ended'));
				}
			}).catch(() => {});
		}
	};
	return () => {
		source.close();
		if (pending) {
			clearTimeout(pending);
		}
	};
}
