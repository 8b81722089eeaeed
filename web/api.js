// api.js -- rosterd's JSON API (proto/HTTP.md): POST /api with the
// session's CSRF token, GET /api/session, the export and watch addresses.

let csrf = null;

export class ApiError extends Error {
	constructor(code, text, status) {
		super(text || code);
		this.code = code;
		this.status = status;
	}
}

function answer(status, body) {
	if (body && body.ok === true) {
		return body;
	}
	const e = (body && body.error) || {};
	throw new ApiError(e.code || 'INTERNAL', e.text || ('HTTP ' + status), status);
}

// call('PARTICIPANT CONFIRM', {event: 'som37', id: '126'}) -> {fields, records}
export async function call(command, keys) {
	const headers = {'Content-Type': 'application/json'};
	if (csrf) {
		headers['X-CSRF-Token'] = csrf;
	}
	const body = {command};
	if (keys) {
		const clean = {};
		for (const [k, v] of Object.entries(keys)) {
			if (v !== undefined && v !== null) {
				clean[k] = String(v);
			}
		}
		body.keys = clean;
	}
	let resp;
	try {
		resp = await fetch('/api', {method: 'POST', headers, body: JSON.stringify(body),
			credentials: 'same-origin', cache: 'no-store'});
	} catch (err) {
		throw new ApiError('UNAVAILABLE', String(err), 0);
	}
	let data = null;
	try {
		data = await resp.json();
	} catch (err) {
		data = null;
	}
	if (resp.status === 401 && command !== 'LOGIN' && data && data.error &&
	    data.error.code === 'AUTH_REQUIRED') {
		// the session ended (idle, LOGOUT elsewhere, a changed user): the
		// page goes back to its login form (app.js)
		csrf = null;
		window.dispatchEvent(new CustomEvent('roster-session-ended'));
	}
	return answer(resp.status, data);
}

export async function login(user, password) {
	csrf = null;
	const a = await call('LOGIN', {user, password});
	csrf = a.csrf || null;
	return a.fields;
}

export async function logout() {
	try {
		await call('LOGOUT');
	} finally {
		csrf = null;
	}
}

// The session of a reloaded page: its user's fields, or null.
export async function session() {
	const resp = await fetch('/api/session', {credentials: 'same-origin', cache: 'no-store'});
	let data = null;
	try {
		data = await resp.json();
	} catch (err) {
		return null;
	}
	if (!data || data.ok !== true || !data.fields || !data.fields.user ||
	    data.fields.user === '-') {
		return null;
	}
	csrf = data.csrf || null;
	return data.fields;
}

function query(keys) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(keys)) {
		if (v !== undefined && v !== null && v !== '') {
			q.set(k, String(v));
		}
	}
	return q.toString();
}

export function exportUrl(keys) {
	return '/api/export?' + query(keys);
}

export function watch(event) {
	return new EventSource('/api/watch?' + query({event}));
}
