// lists.js -- the secretariat's lists: participants and delegations, with
// filters, and the export of what the filters pick.

import * as api from './api.js';
import {t} from './i18n.js';
import {el, clear, field, select, personName, statusBadge, timeOf} from './dom.js';
import {exportLinks} from './overview.js';

const STATUSES = ['registered', 'confirmed', 'declined'];
const ROLES = ['head', 'member', 'adviser', 'observer', 'staff'];

export async function render(root, ctx) {
	const ev = ctx.event;
	const tz = ctx.eventInfo && ctx.eventInfo.timezone;
	const [d, p] = await Promise.all([
		api.call('DELEGATION LIST', {event: ev}),
		api.call('PARTICIPANT LIST', {event: ev}),
	]);
	const dels = d.records;
	const people = p.records;
	const dname = {};
	for (const x of dels) {
		dname[x.party] = x.name || x.party;
	}

	root.append(el('h1', {}, t('lists.title')));

	// participants
	const fParty = select([['', t('filter.all')]].concat(dels.map(x => [x.party, x.name || x.party])), '');
	const fStatus = select([['', t('filter.all')]].concat(STATUSES.map(s => [s, t('status.' + s)])), '');
	const fRole = select([['', t('filter.all')]].concat(ROLES.map(r => [r, t('prole.' + r)])), '');
	const fChecked = select([['', t('filter.all')], ['yes', t('filter.checked.yes')],
		['no', t('filter.checked.no')]], '');
	const fText = el('input', {type: 'search', autocomplete: 'off'});
	fParty.id = 'filter-party';
	fStatus.id = 'filter-status';
	fRole.id = 'filter-role';
	fChecked.id = 'filter-checked';
	fText.id = 'filter-text';
	const filters = el('form', {class: 'filters grid', role: 'search'},
		field('filter.delegation', fParty).wrap, field('filter.status', fStatus).wrap,
		field('filter.role', fRole).wrap, field('filter.checked', fChecked).wrap,
		field('filter.text', fText, 'filter.text.hint').wrap);
	filters.addEventListener('submit', e => e.preventDefault());
	const count = el('p', {class: 'counts', 'aria-live': 'polite', id: 'lists-count'});
	const wrap = el('div', {class: 'table-wrap'});
	const expBox = el('div');
	const sec = el('section', {class: 'card', 'aria-labelledby': 'lists-people'},
		el('h2', {id: 'lists-people'}, t('lists.people')), filters, count, wrap, expBox);
	root.append(sec);

	function drawPeople() {
		const q = fText.value.trim().toLowerCase();
		const rows = people.filter(x =>
			(!fParty.value || x.party === fParty.value) &&
			(!fStatus.value || x.status === fStatus.value) &&
			(!fRole.value || x.role === fRole.value) &&
			(!fChecked.value || (fChecked.value === 'yes') === Boolean(x.checked_in)) &&
			(!q || [x.name, x.latin, x.family, x.title, x.email, x.badge]
				.some(v => v && v.toLowerCase().includes(q))));
		count.textContent = t('lists.count', {n: rows.length, total: people.length});
		const cols = ['delegation', 'person.name', 'person.title', 'person.role', 'person.status',
			'person.badge', 'person.checkedin'];
		const table = el('table', {id: 'lists-table'},
			el('thead', {}, el('tr', {}, ...cols.map(c => el('th', {scope: 'col'}, t(c))))));
		const body = el('tbody');
		for (const x of rows) {
			body.append(el('tr', {},
				el('td', {'data-label': t('delegation')}, dname[x.party] || x.party),
				el('td', {'data-label': t('person.name')}, personName(x)),
				el('td', {'data-label': t('person.title')}, x.title || ''),
				el('td', {'data-label': t('person.role')}, t('prole.' + (x.role || 'member'))),
				el('td', {'data-label': t('person.status')}, statusBadge(x.status)),
				el('td', {'data-label': t('person.badge'), class: 'code'}, x.badge || ''),
				el('td', {'data-label': t('person.checkedin')}, timeOf(x.checked_in, tz))));
		}
		table.append(body);
		clear(wrap).append(table);
		clear(expBox).append(el('h3', {}, t('lists.export')),
			exportLinks(ev, {party: fParty.value || undefined, status: fStatus.value || undefined}));
	}
	for (const c of [fParty, fStatus, fRole, fChecked]) {
		c.addEventListener('change', drawPeople);
	}
	fText.addEventListener('input', drawPeople);
	drawPeople();

	// delegations
	const dStatus = select([['', t('filter.all')]].concat(STATUSES.map(s => [s, t('status.' + s)])), '');
	dStatus.id = 'filter-dstatus';
	const dwrap = el('div', {class: 'table-wrap'});
	const dsec = el('section', {class: 'card', 'aria-labelledby': 'lists-dels'},
		el('h2', {id: 'lists-dels'}, t('lists.delegations')), field('filter.status', dStatus).wrap, dwrap);
	root.append(dsec);
	function drawDels() {
		const cols = ['delegation', 'person.status', 'overview.col.people', 'overview.col.confirmed',
			'delegation.quota', 'delegation.note'];
		const table = el('table', {id: 'lists-dtable'},
			el('thead', {}, el('tr', {}, ...cols.map(c => el('th', {scope: 'col'}, t(c))))));
		const body = el('tbody');
		for (const x of dels.filter(x => !dStatus.value || x.status === dStatus.value)) {
			body.append(el('tr', {},
				el('td', {'data-label': t('delegation')}, x.name || x.party, ' ', el('span', {class: 'code'}, x.party)),
				el('td', {'data-label': t('person.status')}, statusBadge(x.status)),
				el('td', {'data-label': t('overview.col.people')}, x.size || '0'),
				el('td', {'data-label': t('overview.col.confirmed')}, x.confirmed || '0'),
				el('td', {'data-label': t('delegation.quota')}, x.quota || ''),
				el('td', {'data-label': t('delegation.note')}, x.note || '')));
		}
		table.append(body);
		clear(dwrap).append(table);
	}
	dStatus.addEventListener('change', drawDels);
	drawDels();
	return null;
}
