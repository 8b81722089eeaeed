// door.js -- the check-in page of a host or secretariat user: a field a
// USB QR scanner types into (a badge code and Enter), the camera where the
// browser has BarcodeDetector, each scan answered at once in large type.

import * as api from './api.js';
import {t} from './i18n.js';
import {el, clear, field, select, errorText, timeOf} from './dom.js';

const BADGE = /^[A-Z2-7]{10}$/;

// As the CLI's desk: trimmed, upper case, without spaces and '-'.
export function normalise(text) {
	return String(text || '').trim().toUpperCase().replace(/[\s-]/g, '');
}

function ref() {
	const b = new Uint8Array(16);
	crypto.getRandomValues(b);
	return 'web-' + Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
}

export async function render(root, ctx) {
	const ev = ctx.event;
	const [evShow, parties, sessions] = await Promise.all([
		api.call('EVENT SHOW', {event: ev}),
		api.call('PARTY LIST'),
		api.call('SESSION LIST', {event: ev}),
	]);
	const tz = (evShow.records[0] || {}).timezone;
	const partyName = {};
	for (const p of parties.records) {
		partyName[p.code] = p.name;
	}

	root.append(el('h1', {}, t('door.title')));
	const code = el('input', {id: 'badge', autocomplete: 'off', autocapitalize: 'characters',
		spellcheck: 'false', inputmode: 'text', maxlength: '64', class: 'big-input'});
	const sess = select([['', t('door.session.none')]].concat(
		sessions.records.map(s => [s.code, s.title || s.code])), '');
	sess.id = 'door-session';
	const actions = el('div', {class: 'actions'}, el('button', {type: 'submit'}, t('door.checkin')));
	const form = el('form', {id: 'door-form', class: 'card door-form'},
		field('door.badge', code, 'door.badge.hint').wrap,
		field('door.session', sess).wrap,
		actions);
	const result = el('div', {id: 'door-result', class: 'door-result', role: 'alert', 'aria-live': 'assertive'});
	const history = el('ol', {id: 'door-history', class: 'door-history', reversed: true});
	root.append(form, result);

	let stream = null;
	let timer = null;
	let lastCode = '';
	let lastAt = 0;
	if ('BarcodeDetector' in window && navigator.mediaDevices) {
		const video = el('video', {id: 'door-video', playsinline: true, muted: true, hidden: true});
		const cam = el('button', {type: 'button', class: 'secondary', id: 'door-camera'}, t('door.camera.on'));
		cam.addEventListener('click', async () => {
			if (stream) {
				stopCamera();
				cam.textContent = t('door.camera.on');
				return;
			}
			try {
				stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}});
				video.srcObject = stream;
				video.hidden = false;
				await video.play();
				cam.textContent = t('door.camera.off');
				const detector = new window.BarcodeDetector({formats: ['qr_code']});
				timer = setInterval(async () => {
					try {
						const found = await detector.detect(video);
						if (!found.length) {
							return;
						}
						const c = normalise(found[0].rawValue);
						const now = Date.now();
						if (c === lastCode && now - lastAt < 3000) {
							return;
						}
						lastCode = c;
						lastAt = now;
						code.value = c;
						scan();
					} catch (err) {
						// a frame not ready yet
					}
				}, 300);
			} catch (err) {
				stopCamera();
				show('bad', '✗ ' + t('door.camera.error'), '');
			}
		});
		actions.append(cam);
		form.append(el('div', {class: 'camera'}, video));
		function stopCamera() {
			if (timer) {
				clearInterval(timer);
				timer = null;
			}
			if (stream) {
				stream.getTracks().forEach(tr => tr.stop());
				stream = null;
			}
			video.srcObject = null;
			video.hidden = true;
		}
		root.stopCamera = stopCamera;
	}
	root.append(el('h2', {}, t('door.history')), history);

	function show(kind, big, small, note) {
		clear(result);
		result.className = 'door-result ' + kind;
		result.append(el('p', {class: 'door-big'}, big));
		if (small) {
			result.append(el('p', {class: 'door-small'}, small));
		}
		if (note) {
			result.append(el('p', {class: 'door-note'}, note));
		}
		// on a phone the camera's picture can push the answer down
		result.scrollIntoView({block: 'nearest'});
		history.prepend(el('li', {class: kind}, big + (small ? ' — ' + small : '')));
		while (history.children.length > 20) {
			history.lastChild.remove();
		}
	}

	async function scan() {
		const c = normalise(code.value);
		code.value = '';
		code.focus();
		if (!c) {
			return;
		}
		if (!BADGE.test(c)) {
			show('bad', '✗ ' + t('door.unknown'), c);
			return;
		}
		try {
			const a = await api.call('CHECKIN', {event: ev, badge: c, session: sess.value || undefined, ref: ref()});
			const f = a.fields;
			const name = f.name + (f.latin && f.latin !== f.name ? ' (' + f.latin + ')' : '');
			const deleg = partyName[f.party] || f.party || '';
			const note = f.status === 'registered' ? t('door.registered') : '';
			if (f.already === '1') {
				show('already', t('door.already', {time: timeOf(f.checked_in, tz)}), name + ' — ' + deleg, note);
			} else {
				show('good', '✓ ' + name, deleg, note);
			}
		} catch (err) {
			if (err.code === 'NOT_FOUND') {
				show('bad', '✗ ' + t('door.unknown'), c);
			} else if (err.code === 'CONFLICT') {
				show('bad', '✗ ' + t('door.declined'), c);
			} else {
				show('bad', '✗ ' + errorText(err), c);
			}
		}
	}

	form.addEventListener('submit', e => {
		e.preventDefault();
		scan();
	});
	code.focus();
	return () => {
		if (root.stopCamera) {
			root.stopCamera();
		}
	};
}
