// focal.js -- a focal point's page: their delegation only (every request
// names their own party, and rosterd answers nothing of another): its
// people with their status, confirm or decline each and the delegation,
// add a person, correct a name or title, enrol in working groups.

import * as api from './api.js';
import {t} from './i18n.js';
import {el, clear, field, select, say, errorText, personName, statusBadge} from './dom.js';

const ROLES = ['head', 'member', 'adviser', 'observer', 'staff'];

function ref() {
	const b = new Uint8Array(12);
	crypto.getRandomValues(b);
	return 'web-' + Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
}

export async function render(root, ctx) {
	const ev = ctx.event;
	const party = ctx.party;
	const state = {delegation: null, people: [], sessions: []};

	const head = el('div', {class: 'view-head'});
	const people = el('section', {class: 'card', 'aria-labelledby': 'people-title'});
	const add = el('section', {class: 'card', 'aria-labelledby': 'add-title'});
	const groups = el('section', {class: 'card', 'aria-labelledby': 'groups-title'});
	root.append(head, people, add, groups);

	async function load() {
		const [d, p, s] = await Promise.all([
			api.call('DELEGATION SHOW', {event: ev, party}),
			api.call('PARTICIPANT LIST', {event: ev, party}),
			api.call('SESSION LIST', {event: ev, kind: 'working_group'}),
		]);
		state.delegation = d.records[0] || null;
		state.people = p.records;
		state.sessions = s.records;
	}

	async function act(command, keys, done) {
		try {
			const a = await api.call(command, Object.assign({event: ev}, keys));
			await load();
			redraw();
			say(done(a.fields), 'ok');
			return true;
		} catch (err) {
			say(errorText(err), 'error');
			if (err.code === 'CONFLICT') {
				await load();
				redraw();
			}
			return false;
		}
	}

	function drawHead() {
		clear(head);
		const d = state.delegation;
		if (!d) {
			head.append(el('h1', {}, t('focal.nodelegation')));
			return;
		}
		head.append(el('h1', {id: 'delegation-title'}, d.name || d.party, ' ', statusBadge(d.status)));
		const counts = t('focal.counts', {size: d.size || '0', confirmed: d.confirmed || '0'}) +
			(d.quota ? ' · ' + t('focal.quota', {quota: d.quota}) : '');
		head.append(el('p', {class: 'counts'}, counts));
		const bar = el('div', {class: 'actions'});
		if (d.status !== 'confirmed') {
			bar.append(el('button', {type: 'button', id: 'delegation-confirm',
				onclick: () => act('DELEGATION CONFIRM', {party},
					() => t('focal.delegation.confirmed'))}, t('focal.delegation.confirm')));
		}
		if (d.status !== 'declined') {
			const reason = el('input', {id: 'delegation-reason', maxlength: '500'});
			const f = field('focal.reason', reason);
			const form = el('form', {class: 'inline'}, f.wrap,
				el('button', {type: 'submit', class: 'danger'}, t('focal.delegation.decline')));
			form.addEventListener('submit', e => {
				e.preventDefault();
				if (!window.confirm(t('focal.delegation.sure'))) {
					return;
				}
				act('DELEGATION DECLINE', {party, reason: reason.value.trim() || undefined},
					() => t('focal.delegation.declined'));
			});
			bar.append(el('details', {}, el('summary', {}, t('focal.delegation.decline') + '…'), form));
		}
		head.append(bar);
	}

	function editForm(p, row, cols) {
		const name = el('input', {value: p.name || '', required: true, maxlength: '200'});
		const family = el('input', {value: p.family || '', maxlength: '200'});
		const latin = el('input', {value: p.latin || '', maxlength: '200'});
		const honorific = el('input', {value: p.honorific || '', maxlength: '200'});
		const title = el('input', {value: p.title || '', maxlength: '200'});
		const form = el('form', {class: 'edit grid'},
			field('person.name', name).wrap, field('person.family', family, 'person.family.hint').wrap,
			field('person.latin', latin, 'person.latin.hint').wrap,
			field('person.honorific', honorific).wrap, field('person.title', title).wrap,
			el('div', {class: 'actions'},
				el('button', {type: 'submit'}, t('save')),
				el('button', {type: 'button', class: 'secondary', onclick: () => redraw()}, t('cancel'))));
		form.addEventListener('submit', e => {
			e.preventDefault();
			const keys = {id: p.id, version: p.version};
			const put = (k, input) => {
				const v = input.value.trim();
				if (v !== (p[k] || '')) {
					keys[k] = v;
				}
			};
			put('name', name);
			put('family', family);
			put('honorific', honorific);
			put('title', title);
			// latin follows a new name unless given (PROTOCOL.md section 5)
			if (latin.value.trim() !== (p.latin || '') || keys.name === undefined) {
				put('latin', latin);
			}
			act('PARTICIPANT SET', keys, () => t('person.saved', {name: keys.name || p.name}));
		});
		const cell = el('td', {colspan: String(cols)}, form);
		const tr = el('tr', {class: 'editing'}, cell);
		row.after(tr);
		name.focus();
	}

	function drawPeople() {
		clear(people);
		people.append(el('h2', {id: 'people-title'}, t('focal.people')));
		if (!state.people.length) {
			people.append(el('p', {class: 'empty'}, t('focal.nopeople')));
			return;
		}
		const cols = ['person.name', 'person.title', 'person.role', 'person.status', 'actions'];
		const table = el('table', {class: 'people', id: 'people'},
			el('caption', {class: 'sr-only'}, t('focal.people')),
			el('thead', {}, el('tr', {}, ...cols.map(c => el('th', {scope: 'col'}, t(c))))));
		const body = el('tbody');
		for (const p of state.people) {
			const tr = el('tr', {'data-id': p.id, 'data-status': p.status});
			const who = p.name || '';
			const acts = el('div', {class: 'actions'});
			if (p.status !== 'confirmed') {
				acts.append(el('button', {type: 'button', class: 'confirm',
					'aria-label': t('person.confirm.who', {name: who}),
					onclick: () => act('PARTICIPANT CONFIRM', {id: p.id},
						() => t('person.confirmed', {name: who}))}, t('person.confirm')));
			}
			if (p.status !== 'declined') {
				acts.append(el('button', {type: 'button', class: 'danger decline',
					'aria-label': t('person.decline.who', {name: who}),
					onclick: () => {
						if (window.confirm(t('person.decline.sure', {name: who}))) {
							act('PARTICIPANT DECLINE', {id: p.id},
								() => t('person.declined', {name: who}));
						}
					}}, t('person.decline')));
			}
			acts.append(el('button', {type: 'button', class: 'secondary edit',
				'aria-label': t('person.edit.who', {name: who}),
				onclick: () => editForm(p, tr, cols.length)}, t('person.edit')));
			const nameCell = el('td', {'data-label': t('person.name')}, personName(p));
			if (p.honorific) {
				nameCell.prepend(p.honorific + ' ');
			}
			tr.append(nameCell,
				el('td', {'data-label': t('person.title')}, p.title || ''),
				el('td', {'data-label': t('person.role')}, t('prole.' + (p.role || 'member'))),
				el('td', {'data-label': t('person.status'), class: 'status-cell'}, statusBadge(p.status)),
				el('td', {'data-label': t('actions')}, acts));
			body.append(tr);
		}
		table.append(body);
		people.append(el('div', {class: 'table-wrap'}, table));
	}

	function drawAdd() {
		clear(add);
		add.append(el('h2', {id: 'add-title'}, t('focal.add')));
		const name = el('input', {id: 'add-name', required: true, maxlength: '200', autocomplete: 'off'});
		const family = el('input', {id: 'add-family', maxlength: '200', autocomplete: 'off'});
		const honorific = el('input', {id: 'add-honorific', maxlength: '200', autocomplete: 'off'});
		const title = el('input', {id: 'add-title-field', maxlength: '200', autocomplete: 'off'});
		const email = el('input', {id: 'add-email', type: 'email', maxlength: '200', autocomplete: 'off'});
		const role = select(ROLES.map(r => [r, t('prole.' + r)]), 'member');
		role.id = 'add-role';
		const form = el('form', {class: 'grid', id: 'add-form'},
			field('person.name', name, 'person.name.hint').wrap,
			field('person.family', family, 'person.family.hint').wrap,
			field('person.honorific', honorific).wrap, field('person.title', title).wrap,
			field('person.email', email).wrap, field('person.role', role).wrap,
			el('div', {class: 'actions'}, el('button', {type: 'submit'}, t('focal.add.submit'))));
		let pending = null;
		form.addEventListener('submit', async e => {
			e.preventDefault();
			const keys = {party, name: name.value.trim(), role: role.value};
			for (const [k, input] of [['family', family], ['honorific', honorific],
				['title', title], ['email', email]]) {
				if (input.value.trim()) {
					keys[k] = input.value.trim();
				}
			}
			// one ref per person typed, so that a retry adds them once
			const sig = JSON.stringify(keys);
			if (!pending || pending.sig !== sig) {
				pending = {sig, ref: ref()};
			}
			keys.ref = pending.ref;
			if (await act('PARTICIPANT ADD', keys, () => t('person.added', {name: keys.name}))) {
				pending = null;
				form.reset();
				name.focus();
			}
		});
		add.append(form);
	}

	async function enrolment(pid, code) {
		try {
			const a = await api.call('ENROL', {event: ev, session: code, participant: pid, dry_run: 'yes'});
			if (a.fields.already === '1') {
				return a.fields;
			}
			return {status: 'none'};
		} catch (err) {
			return {status: 'error', code: err.code};
		}
	}

	function drawGroups() {
		clear(groups);
		groups.append(el('h2', {id: 'groups-title'}, t('focal.groups')));
		if (!state.sessions.length) {
			groups.append(el('p', {class: 'empty'}, t('focal.nogroups')));
			return;
		}
		const table = el('table', {class: 'groups'},
			el('thead', {}, el('tr', {}, ...['session.title', 'session.capacity', 'session.enrolled',
				'session.waitlisted'].map(c => el('th', {scope: 'col'}, t(c))))));
		const body = el('tbody');
		for (const s of state.sessions) {
			const full = s.capacity && Number(s.enrolled || 0) >= Number(s.capacity);
			body.append(el('tr', {},
				el('td', {'data-label': t('session.title')}, s.title || s.code),
				el('td', {'data-label': t('session.capacity')}, s.capacity || t('session.unlimited')),
				el('td', {'data-label': t('session.enrolled')}, s.enrolled || '0',
					full ? el('span', {class: 'status s-full'}, t('session.full')) : null),
				el('td', {'data-label': t('session.waitlisted')}, s.waitlisted || '0')));
		}
		table.append(body);
		groups.append(el('div', {class: 'table-wrap'}, table));

		const who = select([['', t('focal.groups.pick')]].concat(
			state.people.filter(p => p.status !== 'declined').map(p => [p.id, p.name])), '');
		who.id = 'enrol-person';
		const list = el('div', {id: 'enrol-list', 'aria-live': 'polite'});
		groups.append(field('focal.groups.person', who).wrap, list);

		async function showPerson() {
			clear(list);
			const pid = who.value;
			if (!pid) {
				return;
			}
			list.append(el('p', {class: 'hint'}, t('loading')));
			const rows = await Promise.all(state.sessions.map(async s => [s, await enrolment(pid, s.code)]));
			clear(list);
			const ul = el('ul', {class: 'enrol'});
			for (const [s, st] of rows) {
				let text;
				if (st.status === 'enrolled') {
					text = t('enrol.enrolled');
				} else if (st.status === 'waitlisted') {
					text = t('enrol.waitlisted', {position: st.position || '?'});
				} else if (st.status === 'none') {
					text = t('enrol.none');
				} else {
					text = errorText({code: st.code});
				}
				const li = el('li', {}, el('span', {class: 'enrol-title'}, s.title || s.code), ' ',
					el('span', {class: 'enrol-status'}, text), ' ');
				const pname = (state.people.find(p => p.id === pid) || {}).name || '';
				if (st.status === 'none') {
					li.append(el('button', {type: 'button', onclick: async () => {
						await act('ENROL', {session: s.code, participant: pid}, f => f.status === 'waitlisted'
							? t('enrol.done.waitlisted', {name: pname, position: f.position || '?'})
							: t('enrol.done.enrolled', {name: pname}));
						restore(pid);
					}}, t('enrol.do')));
				} else if (st.status === 'enrolled' || st.status === 'waitlisted') {
					li.append(el('button', {type: 'button', class: 'secondary', onclick: async () => {
						await act('UNENROL', {session: s.code, participant: pid},
							() => t('enrol.done.withdrawn', {name: pname}));
						restore(pid);
					}}, t('enrol.undo')));
				}
				ul.append(li);
			}
			list.append(ul);
		}
		who.addEventListener('change', showPerson);
		groups.showPerson = showPerson;
		groups.who = who;
	}

	function restore(pid) {
		if (groups.who) {
			groups.who.value = pid;
			groups.showPerson();
			groups.who.focus();
		}
	}

	function redraw() {
		drawHead();
		drawPeople();
		drawGroups();
	}

	function draw() {
		drawHead();
		drawPeople();
		drawAdd();
		drawGroups();
	}

	await load();
	draw();
	return null;
}
