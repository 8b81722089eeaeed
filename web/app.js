// app.js -- the page: log in, then the view of the user's role (focal:
// their delegation; host: the door; secretariat and admin: the overview,
// the door and the lists). Views live in the address's #fragment.

import * as api from './api.js';
import {t, setLanguage, language, languages, translatePage} from './i18n.js';
import {el, clear, say, errorText} from './dom.js';
import * as focal from './focal.js';
import * as door from './door.js';
import * as overview from './overview.js';
import * as lists from './lists.js';

const VIEWS = {
	delegation: {module: focal, label: 'nav.delegation', roles: ['focal']},
	overview: {module: overview, label: 'nav.overview', roles: ['admin', 'secretariat']},
	lists: {module: lists, label: 'nav.lists', roles: ['admin', 'secretariat']},
	door: {module: door, label: 'nav.door', roles: ['admin', 'secretariat', 'host']},
};
const HOME = {focal: 'delegation', host: 'door', secretariat: 'overview', admin: 'overview'};

const ctx = {user: null, role: null, party: null, event: null, events: [], eventInfo: null};
let cleanup = null;

function $(id) {
	return document.getElementById(id);
}

function allowed(name) {
	const v = VIEWS[name];
	return v && ctx.role && v.roles.includes(ctx.role);
}

function current() {
	const name = location.hash.replace(/^#/, '');
	return allowed(name) ? name : HOME[ctx.role];
}

function stop() {
	if (cleanup) {
		try {
			cleanup();
		} catch (err) {
			// nothing to keep
		}
		cleanup = null;
	}
}

function renderNav() {
	const nav = clear($('nav'));
	if (!ctx.role) {
		return;
	}
	const here = current();
	const names = Object.keys(VIEWS).filter(allowed);
	if (names.length < 2) {
		return;
	}
	const ul = el('ul');
	for (const n of names) {
		ul.append(el('li', {}, el('a', {href: '#' + n,
			'aria-current': n === here ? 'page' : null}, t(VIEWS[n].label))));
	}
	nav.append(ul);
}

function renderHeader() {
	$('who').textContent = ctx.user ? t('who', {user: ctx.user, role: t('role.' + ctx.role)}) +
		(ctx.party ? ' · ' + ctx.party : '') : '';
	$('logout').hidden = !ctx.user;
	const sel = clear($('event'));
	for (const e of ctx.events) {
		sel.append(el('option', {value: e.code, selected: e.code === ctx.event},
			e.code + ' — ' + (e.title || '')));
	}
	$('event-field').hidden = !ctx.user || ctx.events.length < 2;
	$('event-title').textContent = ctx.eventInfo ? ctx.eventInfo.title || '' : '';
	renderNav();
}

async function show() {
	stop();
	const view = clear($('view'));
	say('');
	translatePage();
	if (!ctx.user) {
		$('login-view').hidden = false;
		renderHeader();
		return;
	}
	$('login-view').hidden = true;
	renderHeader();
	if (!ctx.event) {
		view.append(el('p', {class: 'empty'}, t('event.none')));
		return;
	}
	const name = current();
	document.title = t(VIEWS[name].label) + ' — roster';
	try {
		cleanup = await VIEWS[name].module.render(view, ctx) || null;
	} catch (err) {
		if (err && (err.code === 'AUTH_REQUIRED' || err.status === 401)) {
			return loggedOut();
		}
		say(errorText(err), 'error');
	}
}

async function loadEvents() {
	const a = await api.call('EVENT LIST');
	ctx.events = a.records;
	const saved = sessionStorage.getItem('roster.event');
	const pick = ctx.events.find(e => e.code === saved) ||
		ctx.events.find(e => e.status === 'open') || ctx.events[0];
	ctx.event = pick ? pick.code : null;
	ctx.eventInfo = pick || null;
}

async function loggedIn(fields) {
	ctx.user = fields.user;
	ctx.role = fields.role;
	ctx.party = fields.party || null;
	await loadEvents();
	await show();
}

function loggedOut(message) {
	stop();
	ctx.user = ctx.role = ctx.party = ctx.event = ctx.eventInfo = null;
	ctx.events = [];
	show().then(() => {
		if (message) {
			say(message, 'error');
		}
		$('login-user').focus();
	});
}


function setupLanguage() {
	const sel = $('lang');
	for (const [code, name] of languages()) {
		sel.append(el('option', {value: code, selected: code === language()}, name));
	}
	sel.addEventListener('change', () => {
		setLanguage(sel.value);
		show();
	});
}

async function start() {
	setupLanguage();
	translatePage();
	$('login-form').addEventListener('submit', async ev => {
		ev.preventDefault();
		const user = $('login-user').value.trim();
		const pw = $('login-password').value;
		$('login-submit').disabled = true;
		say(t('login.busy'));
		try {
			const f = await api.login(user, pw);
			$('login-password').value = '';
			await loggedIn(f);
			// the view may have put the focus where work starts (the door's
			// field); else the content
			if (!document.activeElement || document.activeElement === document.body ||
			    $('login-view').contains(document.activeElement)) {
				$('main').focus({preventScroll: true});
			}
		} catch (err) {
			say(err.code === 'AUTH_FAILED' ? t('login.failed') : errorText(err), 'error');
			$('login-password').select();
		} finally {
			$('login-submit').disabled = false;
		}
	});
	$('logout').addEventListener('click', async () => {
		try {
			await api.logout();
		} catch (err) {
			// the session is gone either way
		}
		loggedOut();
	});
	$('event').addEventListener('change', () => {
		const e = ctx.events.find(x => x.code === $('event').value);
		if (e) {
			ctx.event = e.code;
			ctx.eventInfo = e;
			sessionStorage.setItem('roster.event', e.code);
			show();
		}
	});
	// a request found the session ended (api.js)
	window.addEventListener('roster-session-ended', () => {
		if (ctx.user) {
			loggedOut(t('session.ended'));
		}
	});
	window.addEventListener('hashchange', () => {
		if (ctx.user) {
			show();
		}
	});
	let fields = null;
	try {
		fields = await api.session();
	} catch (err) {
		fields = null;
	}
	if (fields) {
		try {
			await loggedIn(fields);
			return;
		} catch (err) {
			say(errorText(err), 'error');
		}
	}
	await show();
	$('login-user').focus();
}

start();
