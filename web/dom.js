// dom.js -- building the page from data: text only (textContent), never
// HTML from a string, so that no name can become markup.

import {t} from './i18n.js';

// el('button', {type: 'button', class: 'x', onclick: fn}, 'text', child...)
export function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) {
			continue;
		}
		if (k.startsWith('on') && typeof v === 'function') {
			e.addEventListener(k.slice(2), v);
		} else if (k === 'class') {
			e.className = v;
		} else if (k === 'text') {
			e.textContent = v;
		} else if (k === 'value') {
			e.value = v;
		} else if (v === true) {
			e.setAttribute(k, '');
		} else {
			e.setAttribute(k, String(v));
		}
	}
	for (const c of children) {
		if (c === null || c === undefined || c === false) {
			continue;
		}
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

export function clear(node) {
	while (node.firstChild) {
		node.removeChild(node.firstChild);
	}
	return node;
}

let uid = 0;
export function newId(prefix) {
	uid += 1;
	return (prefix || 'f') + '-' + uid;
}

// A labelled field: returns {wrap, input}.
export function field(labelKey, input, hintKey) {
	const id = input.id || newId('in');
	input.id = id;
	const label = el('label', {for: id}, t(labelKey));
	const wrap = el('div', {class: 'field'}, label, input);
	if (hintKey) {
		const hid = id + '-hint';
		wrap.append(el('p', {class: 'hint', id: hid}, t(hintKey)));
		input.setAttribute('aria-describedby', hid);
	}
	return {wrap, input};
}

export function select(options, value) {
	const s = el('select');
	for (const [v, text] of options) {
		s.append(el('option', {value: v, selected: v === value}, text));
	}
	return s;
}

// A message in the page's live region.
export function say(text, kind) {
	const box = document.getElementById('status');
	clear(box);
	if (text) {
		box.append(el('p', {class: 'msg ' + (kind || 'info')}, text));
	}
}

// The text of an API error for a person.
export function errorText(err) {
	const code = err && err.code ? err.code : 'INTERNAL';
	const key = 'err.' + code;
	const text = t(key);
	return text === key ? code + ': ' + (err.message || '') : text;
}

// A person's name, with its Latin form beside it when it has one.
export function personName(p) {
	const span = el('span', {class: 'person'}, el('span', {lang: ''}, p.name || ''));
	if (p.latin && p.latin !== p.name) {
		span.append(' ', el('span', {class: 'latin'}, '(' + p.latin + ')'));
	}
	return span;
}

export function statusBadge(status) {
	return el('span', {class: 'status s-' + (status || 'none')}, t('status.' + (status || 'none')));
}

// A UTC timestamp as a time of day in the event's time zone.
export function timeOf(ts, tz) {
	if (!ts) {
		return '';
	}
	const d = new Date(ts);
	if (isNaN(d.getTime())) {
		return ts;
	}
	try {
		return new Intl.DateTimeFormat(document.documentElement.lang || undefined,
			{timeZone: tz || undefined, hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
			 day: 'numeric', month: 'short'}).format(d);
	} catch (err) {
		return d.toISOString().slice(11, 16);
	}
}
