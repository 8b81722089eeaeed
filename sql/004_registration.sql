-- 004_registration.sql -- the functions of the registration commands:
-- delegations, participants and check-in (PROTOCOL.md section 5), the
-- helpers of every registration command, and the NOTIFY payloads that WATCH
-- relays (8). The agenda and AUDIT follow in 005_agenda.sql, the exports
-- in 006_export.sql; the parameter orders of all are listed here.
--
-- Same conventions as 003_core.sql. Parameters, after p_actor, p_role,
-- p_actor_party (the daemon's command entries must pass them in this order;
-- every one is text, NULL when the key was not given):
--
--   delegation_register  p_event, p_party, p_quota, p_note, p_ref
--   delegation_list      p_event, p_status, p_kind
--   delegation_show      p_event, p_party
--   delegation_set       p_event, p_party, p_quota, p_note, p_version
--   delegation_confirm   p_event, p_party
--   delegation_decline   p_event, p_party, p_reason
--   participant_add      p_event, p_party, p_name, p_honorific, p_title,
--                        p_email, p_role, p_ref
--   participant_list     p_event, p_party, p_status, p_role
--   participant_show     p_event, p_id
--   participant_set      p_event, p_id, p_name, p_honorific, p_title,
--                        p_email, p_role, p_version
--   participant_confirm  p_event, p_id
--   participant_decline  p_event, p_id, p_reason
--   participant_erase    p_event, p_id
--   participant_checkin  p_event, p_id, p_badge, p_session      (CHECKIN)
--   session_create       p_event, p_code, p_kind, p_title, p_starts,
--                        p_ends, p_room, p_capacity, p_theme, p_ref
--   session_list         p_event, p_kind
--   session_show         p_event, p_session
--   session_set          p_event, p_session, p_kind, p_title, p_starts,
--                        p_ends, p_room, p_capacity, p_theme, p_version
--   speaker_add          p_event, p_session, p_participant, p_role,
--                        p_topic, p_position, p_ref
--   speaker_list         p_event, p_session
--   speaker_remove       p_event, p_session, p_participant
--   session_enrol        p_event, p_session, p_participant     (ENROL)
--   session_unenrol      p_event, p_session, p_participant     (UNENROL)
--   session_roster       p_event, p_session                    (ROSTER)
--   audit_list           p_since, p_user, p_limit              (AUDIT)
--   export_participants, export_attendance, export_delegations,
--   export_speakers, export_sessions, export_enrolments
--                        p_event, p_party, p_session, p_status (EXPORT)
--
-- For the commands that name a participant by id (PARTICIPANT SHOW/SET/
-- CONFIRM/DECLINE/ERASE, CHECKIN) p_event may be NULL: the id (or badge) is
-- unique across the installation. When given, the participant must belong
-- to that event.
--
-- Concurrency. Rows are locked in one order so that commands cannot
-- deadlock: event (FOR SHARE: a registration write holds the event open
-- until it commits) -> request_ref -> delegation -> participant -> sessions
-- (by id). Quota: the delegation row is locked while counting. Capacity and
-- the waiting list: the session row is locked while counting and promoting.
--
-- NOTIFY: channel 'roster', payload a JSON object of strings:
--   {"event":CODE,"kind":KIND, ...fields}
-- where every key but "kind" is a field for `! KIND key=value ...`; absent
-- fields are left out. Kinds: event.created event.updated
-- delegation.registered delegation.updated delegation.confirmed
-- delegation.declined participant.added participant.updated
-- participant.confirmed participant.declined participant.erased checkin
-- session.created session.updated speaker.added speaker.removed enrol
-- unenrol.

-- ---------------------------------------------------------------- helpers

-- A participant with the keys that scope it.
CREATE VIEW roster.participant_ctx AS
SELECT p.id, p.delegation_id, p.name, p.role, p.status, p.badge, p.erased,
    p.version, p.checked_in, d.event_id, d.party_id, pa.code::text AS party,
    e.code::text AS event
FROM roster.participant p
JOIN roster.delegation d ON d.id = p.delegation_id
JOIN roster.party pa ON pa.id = d.party_id
JOIN roster.event e ON e.id = d.event_id;

-- An id: a positive integer.
CREATE FUNCTION roster._id(p_key text, p_value text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^[1-9][0-9]{0,17}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: must be a positive integer', p_key);
	END IF;
	RETURN p_value::bigint;
END $$;

-- An e-mail address (the daemon checks the shape first); '' is NULL.
CREATE FUNCTION roster._email(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v text := btrim(p_value);
BEGIN
	IF v = '' THEN
		RETURN NULL;
	END IF;
	IF char_length(v) > 254 OR v !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = 'email: not an e-mail address';
	END IF;
	RETURN v;
END $$;

-- Lock the event for a registration write; RSCLO unless it is open.
CREATE FUNCTION roster._event_open(p_event_id integer) RETURNS roster.event
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	v event;
BEGIN
	SELECT * INTO v FROM event WHERE id = p_event_id FOR SHARE;
	IF v.status <> 'open' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSCLO',
		    MESSAGE = format('event %s is %s, not open', v.code, v.status);
	END IF;
	RETURN v;
END $$;

-- The party a command acts on. A focal point acts on their own party only:
-- naming another is RSFRB; naming none means their own. For the other roles
-- the party named (RSNFD if unknown), or NULL when none was named.
CREATE FUNCTION roster._scope_party(p_role text, p_actor_party text,
    p_party text) RETURNS roster.party
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v party;
BEGIN
	IF p_role = 'focal' THEN
		SELECT * INTO v FROM party WHERE lower(code) = lower(p_actor_party);
		IF NOT FOUND THEN
			PERFORM _fail('RSFRB', 'no party bound to this focal point');
		END IF;
		IF p_party IS NOT NULL AND lower(p_party) <> lower(v.code) THEN
			PERFORM _fail('RSFRB', 'party: not your party');
		END IF;
		RETURN v;
	END IF;
	RETURN _party('party', p_party);
END $$;

-- A participant by id, in the event when one is given. A focal point only
-- finds their own party's: another party's is "not found", like a missing one.
CREATE FUNCTION roster._participant(p_role text, p_actor_party text,
    p_event_id integer, p_key text, p_id text) RETURNS roster.participant_ctx
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v participant_ctx;
	v_id bigint;
BEGIN
	PERFORM _need(p_key, p_id);
	v_id := _id(p_key, p_id);
	SELECT * INTO v FROM participant_ctx c
	WHERE c.id = v_id
	    AND (p_event_id IS NULL OR c.event_id = p_event_id)
	    AND (p_role <> 'focal' OR lower(c.party) = lower(p_actor_party));
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('participant %s not found', p_id));
	END IF;
	RETURN v;
END $$;

-- A session of the event by code, or RSNFD.
CREATE FUNCTION roster._session(p_event_id integer, p_session text)
RETURNS roster.session
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v session;
BEGIN
	PERFORM _need('session', p_session);
	SELECT * INTO v FROM session
	WHERE event_id = p_event_id AND lower(code) = lower(p_session);
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('session %s not found', p_session));
	END IF;
	RETURN v;
END $$;

-- Claim p_ref for a create. NULL: this request is the first with the ref
-- (its row is now held by this transaction; a concurrent duplicate waits on
-- the primary key until we commit or roll back). Else the stored reply of
-- the first request. A ref reused for another command or another party is
-- RSCNF: it is not a repeat (and a focal point must not see another party's
-- reply).
CREATE FUNCTION roster._ref_claim(p_event_id integer, p_ref text,
    p_command text, p_party_id integer) RETURNS jsonb
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	r request_ref;
BEGIN
	IF p_ref IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_ref !~ '^[A-Za-z0-9_.:-]{1,64}$' THEN
		PERFORM _fail('RSINV', 'ref: must be 1-64 of A-Z a-z 0-9 _ . : -');
	END IF;
	INSERT INTO request_ref (event_id, ref, command, party_id)
	VALUES (p_event_id, p_ref, p_command, p_party_id)
	ON CONFLICT DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO r FROM request_ref WHERE event_id = p_event_id AND ref = p_ref;
	IF r.command <> p_command OR r.reply IS NULL
	    OR r.party_id IS DISTINCT FROM p_party_id THEN
		PERFORM _fail('RSCNF', 'ref: already used for another request');
	END IF;
	RETURN r.reply;
END $$;

CREATE FUNCTION roster._ref_store(p_event_id integer, p_ref text, p_reply jsonb)
RETURNS void
LANGUAGE sql AS $$
	UPDATE roster.request_ref SET reply = p_reply
	WHERE p_ref IS NOT NULL AND event_id = p_event_id AND ref = p_ref
$$;

-- 10 characters of RFC 4648 base32 from 50 random bits: pgcrypto's
-- gen_random_bytes when it is installed, else the random bytes of a
-- version 4 UUID (both come from the server's strong random source).
CREATE FUNCTION roster._badge() RETURNS text
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	v_nsp text;
	v_bytes bytea;
	v_bits bigint;
	v_badge text;
	i integer;
BEGIN
	SELECT n.nspname INTO v_nsp
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE p.proname = 'gen_random_bytes' AND p.pronargs = 1
	    AND p.proargtypes[0] = 'integer'::regtype
	LIMIT 1;
	LOOP
		IF v_nsp IS NOT NULL THEN
			EXECUTE format('SELECT %I.gen_random_bytes(7)', v_nsp) INTO v_bytes;
		ELSE
			-- Bytes 9-15 of a v4 UUID are all random.
			v_bytes := substr(uuid_send(gen_random_uuid()), 10, 7);
		END IF;
		v_bits := 0;
		FOR i IN 0..6 LOOP
			v_bits := (v_bits << 8) | get_byte(v_bytes, i);
		END LOOP;
		v_badge := '';
		FOR i IN 0..9 LOOP
			v_badge := v_badge || substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
			    ((v_bits >> (5 * i)) & 31)::integer + 1, 1);
		END LOOP;
		EXIT WHEN NOT EXISTS (SELECT 1 FROM participant WHERE badge = v_badge);
	END LOOP;
	RETURN v_badge;
END $$;

-- Fill the places a session has free from its waiting list, in arrival
-- order. The caller holds the session row locked. Returns the participants
-- promoted and notifies each.
CREATE FUNCTION roster._promote(p_session_id integer)
RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	s session;
	v_enrolled bigint;
	w enrolment;
	c participant_ctx;
BEGIN
	SELECT * INTO s FROM session WHERE id = p_session_id;
	SELECT count(*) INTO v_enrolled FROM enrolment
	WHERE session_id = s.id AND status = 'enrolled';
	LOOP
		EXIT WHEN s.capacity IS NOT NULL AND v_enrolled >= s.capacity;
		SELECT * INTO w FROM enrolment
		WHERE session_id = s.id AND status = 'waitlisted'
		ORDER BY seq LIMIT 1;
		EXIT WHEN NOT FOUND;
		UPDATE enrolment SET status = 'enrolled' WHERE id = w.id;
		v_enrolled := v_enrolled + 1;
		SELECT * INTO c FROM participant_ctx WHERE id = w.participant_id;
		PERFORM _notify(json_build_object('event', c.event, 'kind', 'enrol',
		    'session', s.code, 'id', c.id::text, 'party', c.party,
		    'name', c.name, 'status', 'enrolled', 'promoted', '1'));
		RETURN NEXT w.participant_id;
	END LOOP;
END $$;

-- Take the participants (already locked by the caller) out of every
-- session they are enrolled in or waiting for, promoting from the waiting
-- lists. Sessions are locked in id order. Returns the participants promoted.
CREATE FUNCTION roster._drop_enrolments(p_ids bigint[])
RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	v_sid integer;
	v_freed boolean;
BEGIN
	PERFORM 1 FROM session WHERE id IN (SELECT session_id FROM enrolment
	    WHERE participant_id = ANY (p_ids))
	ORDER BY id FOR NO KEY UPDATE;
	FOR v_sid IN SELECT DISTINCT session_id FROM enrolment
	    WHERE participant_id = ANY (p_ids) ORDER BY session_id LOOP
		WITH d AS (
			DELETE FROM enrolment
			WHERE session_id = v_sid AND participant_id = ANY (p_ids)
			RETURNING status
		)
		SELECT bool_or(status = 'enrolled') INTO v_freed FROM d;
		IF v_freed THEN
			RETURN QUERY SELECT * FROM _promote(v_sid);
		END IF;
	END LOOP;
END $$;

-- ------------------------------------------------------------ delegations

-- Delegation records, countries first then organisations, by name.
CREATE FUNCTION roster._delegation_records(p_event_id integer,
    p_party_id integer, p_status text, p_kind text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE sql STABLE AS $$
	SELECT d.id::text, e.code, pa.code, pa.kind, pa.name, d.status,
	    d.quota::text,
	    (SELECT count(*) FROM roster.participant p
	     WHERE p.delegation_id = d.id AND p.status <> 'declined')::text,
	    (SELECT count(*) FROM roster.participant p
	     WHERE p.delegation_id = d.id AND p.status = 'confirmed')::text,
	    d.note, d.version::text
	FROM roster.delegation d
	JOIN roster.event e ON e.id = d.event_id
	JOIN roster.party pa ON pa.id = d.party_id
	WHERE d.event_id = p_event_id
	    AND (p_party_id IS NULL OR d.party_id = p_party_id)
	    AND (p_status IS NULL OR d.status = p_status)
	    AND (p_kind IS NULL OR pa.kind = p_kind)
	ORDER BY pa.kind <> 'country', pa.name COLLATE roster.names, pa.code
$$;

-- The delegation of a party in an event, locked for update; RSNFD if none.
CREATE FUNCTION roster._delegation_lock(p_event_id integer, p_party roster.party)
RETURNS roster.delegation
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	d delegation;
BEGIN
	SELECT * INTO d FROM delegation
	WHERE event_id = p_event_id AND party_id = p_party.id
	FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('party %s has no delegation in this event',
		    p_party.code));
	END IF;
	RETURN d;
END $$;

-- DELEGATION REGISTER party= [quota=] [note=] [ref=].
CREATE FUNCTION roster.delegation_register(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text, p_quota text,
    p_note text, p_ref text)
RETURNS TABLE (id text, party text, status text, version text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	v_quota integer;
	v_note text;
	v_reply jsonb;
	d delegation;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	PERFORM _need('party', p_party);
	pa := _party('party', p_party);
	v_quota := _int('quota', p_quota, 0, 100000);
	v_note := _text('note', p_note);
	v_reply := _ref_claim(e.id, p_ref, 'DELEGATION REGISTER', pa.id);
	IF v_reply IS NOT NULL THEN
		RETURN QUERY SELECT v_reply->>'id', v_reply->>'party',
		    v_reply->>'status', v_reply->>'version', '1';
		RETURN;
	END IF;
	e := _event_open(e.id);
	INSERT INTO delegation (event_id, party_id, quota, note)
	VALUES (e.id, pa.id, v_quota, v_note)
	ON CONFLICT (event_id, party_id) DO NOTHING
	RETURNING * INTO d;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('party %s already has a delegation', pa.code));
	END IF;
	PERFORM _audit(e.id, p_actor, 'DELEGATION REGISTER',
	    e.code || '/delegation/' || pa.code,
	    jsonb_build_object('party', pa.code, 'quota', v_quota, 'note', v_note,
	    'ref', p_ref));
	PERFORM _notify(json_build_object('event', e.code,
	    'kind', 'delegation.registered', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name, 'quota', d.quota::text));
	v_reply := jsonb_build_object('id', d.id::text, 'party', pa.code::text,
	    'status', d.status, 'version', d.version::text);
	PERFORM _ref_store(e.id, p_ref, v_reply);
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text,
	    NULL::text;
END $$;

-- DELEGATION LIST [status=] [kind=]: a focal point sees their own only.
CREATE FUNCTION roster.delegation_list(p_actor text, p_role text,
    p_actor_party text, p_event text, p_status text, p_kind text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_party_id integer;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_status NOT IN ('registered', 'confirmed', 'declined') THEN
		PERFORM _fail('RSINV', 'status: must be registered, confirmed or declined');
	END IF;
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	IF p_role = 'focal' THEN
		v_party_id := (_scope_party(p_role, p_actor_party, NULL)).id;
	END IF;
	RETURN QUERY SELECT * FROM _delegation_records(e.id, v_party_id, p_status, p_kind);
END $$;

-- DELEGATION SHOW party=.
CREATE FUNCTION roster.delegation_show(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_role, p_actor_party, p_party);
	RETURN QUERY SELECT * FROM _delegation_records(e.id, pa.id, NULL, NULL);
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('party %s has no delegation in this event',
		    pa.code));
	END IF;
END $$;

-- DELEGATION SET party= [quota=] [note=] [version=]. quota= "" removes the
-- quota, note= "" the note. A quota below the delegation's size is RSCNF.
CREATE FUNCTION roster.delegation_set(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text, p_quota text,
    p_note text, p_version text)
RETURNS TABLE (id text, party text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
	v_quota integer;
	v_note text;
	v_size bigint;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	PERFORM _need('party', p_party);
	pa := _party('party', p_party);
	e := _event_open(e.id);
	d := _delegation_lock(e.id, pa);
	IF p_version IS NOT NULL AND _int('version', p_version) <> d.version THEN
		PERFORM _fail('RSCNF', format('version is %s', d.version));
	END IF;
	v_quota := CASE WHEN p_quota IS NULL THEN d.quota
	    WHEN p_quota = '' THEN NULL ELSE _int('quota', p_quota, 0, 100000) END;
	v_note := CASE WHEN p_note IS NULL THEN d.note ELSE _text('note', p_note) END;
	IF v_quota IS DISTINCT FROM d.quota THEN
		SELECT count(*) INTO v_size FROM participant
		WHERE delegation_id = d.id AND status <> 'declined';
		IF v_quota < v_size THEN
			PERFORM _fail('RSCNF', format('quota: the delegation has %s participants',
			    v_size));
		END IF;
		v_detail := v_detail || jsonb_build_object('quota', coalesce(v_quota::text, ''));
	END IF;
	IF v_note IS DISTINCT FROM d.note THEN
		v_detail := v_detail || jsonb_build_object('note', coalesce(v_note, ''));
	END IF;
	IF v_detail = '{}' THEN
		RETURN QUERY SELECT d.id::text, pa.code::text, d.version::text;
		RETURN;
	END IF;
	UPDATE delegation SET quota = v_quota, note = v_note, version = version + 1
	WHERE id = d.id RETURNING * INTO d;
	PERFORM _audit(e.id, p_actor, 'DELEGATION SET',
	    e.code || '/delegation/' || pa.code, v_detail);
	PERFORM _notify(json_build_object('event', e.code,
	    'kind', 'delegation.updated', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name, 'quota', d.quota::text, 'version', d.version::text));
	RETURN QUERY SELECT d.id::text, pa.code::text, d.version::text;
END $$;

-- DELEGATION CONFIRM party=. Confirming a confirmed delegation changes
-- nothing; a declined one may be confirmed again (its participants stay
-- declined until confirmed one by one).
CREATE FUNCTION roster.delegation_confirm(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text)
RETURNS TABLE (id text, party text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'focal');
	e := _event(p_event);
	IF p_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_role, p_actor_party, p_party);
	e := _event_open(e.id);
	d := _delegation_lock(e.id, pa);
	IF d.status <> 'confirmed' THEN
		UPDATE delegation SET status = 'confirmed', reason = NULL,
		    version = version + 1
		WHERE id = d.id RETURNING * INTO d;
		PERFORM _audit(e.id, p_actor, 'DELEGATION CONFIRM',
		    e.code || '/delegation/' || pa.code,
		    jsonb_build_object('status', 'confirmed'));
		PERFORM _notify(json_build_object('event', e.code,
		    'kind', 'delegation.confirmed', 'party', pa.code,
		    'id', d.id::text, 'name', pa.name));
	END IF;
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text;
END $$;

-- DELEGATION DECLINE party= [reason=]: the delegation will not come, so
-- its participants are declined too and leave their sessions (the waiting
-- lists move up).
CREATE FUNCTION roster.delegation_decline(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text, p_reason text)
RETURNS TABLE (id text, party text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
	v_reason text;
	v_ids bigint[];
	v_promoted bigint[];
	c participant_ctx;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'focal');
	e := _event(p_event);
	IF p_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_role, p_actor_party, p_party);
	v_reason := _text('reason', p_reason);
	e := _event_open(e.id);
	d := _delegation_lock(e.id, pa);
	IF d.status = 'declined' THEN
		RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text;
		RETURN;
	END IF;
	UPDATE delegation SET status = 'declined', reason = v_reason,
	    version = version + 1
	WHERE id = d.id RETURNING * INTO d;

	SELECT array_agg(p.id ORDER BY p.id) INTO v_ids
	FROM (SELECT p.id FROM participant p
	      WHERE p.delegation_id = d.id AND p.status <> 'declined'
	      ORDER BY p.id FOR NO KEY UPDATE) p;
	IF v_ids IS NOT NULL THEN
		UPDATE participant SET status = 'declined',
		    reason = coalesce(v_reason, 'delegation declined'),
		    version = version + 1
		WHERE id = ANY (v_ids);
		SELECT array_agg(x) INTO v_promoted FROM _drop_enrolments(v_ids) x;
		FOR c IN SELECT * FROM participant_ctx WHERE id = ANY (v_ids) ORDER BY id LOOP
			PERFORM _notify(json_build_object('event', e.code,
			    'kind', 'participant.declined', 'party', pa.code,
			    'id', c.id::text, 'name', c.name));
		END LOOP;
	END IF;
	PERFORM _audit(e.id, p_actor, 'DELEGATION DECLINE',
	    e.code || '/delegation/' || pa.code,
	    jsonb_build_object('status', 'declined', 'reason', v_reason,
	    'participants_declined', to_jsonb(v_ids), 'promoted', to_jsonb(v_promoted)));
	PERFORM _notify(json_build_object('event', e.code,
	    'kind', 'delegation.declined', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name));
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text;
END $$;

-- ----------------------------------------------------------- participants

-- Participant records in list order: countries first then organisations,
-- by the delegation's name; within a delegation the head first, then by
-- name.
CREATE FUNCTION roster._participant_records(p_event_id integer,
    p_id bigint, p_party_id integer, p_status text, p_role text)
RETURNS TABLE (id text, event text, party text, name text, honorific text,
    title text, email text, role text, status text, badge text,
    checked_in text, version text)
LANGUAGE sql STABLE AS $$
	SELECT p.id::text, e.code, pa.code, p.name, p.honorific, p.title, p.email,
	    p.role, p.status, p.badge::text, roster.fmt_ts(p.checked_in),
	    p.version::text
	FROM roster.participant p
	JOIN roster.delegation d ON d.id = p.delegation_id
	JOIN roster.party pa ON pa.id = d.party_id
	JOIN roster.event e ON e.id = d.event_id
	WHERE d.event_id = p_event_id
	    AND (p_id IS NULL OR p.id = p_id)
	    AND (p_party_id IS NULL OR d.party_id = p_party_id)
	    AND (p_status IS NULL OR p.status = p_status)
	    AND (p_role IS NULL OR p.role = p_role)
	ORDER BY pa.kind <> 'country', pa.name COLLATE roster.names, pa.code,
	    p.role <> 'head', p.name COLLATE roster.names, p.id
$$;

CREATE FUNCTION roster._check_role(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value NOT IN ('head', 'member', 'adviser', 'observer', 'staff') THEN
		PERFORM _fail('RSINV', 'role: must be head, member, adviser, observer or staff');
	END IF;
	RETURN p_value;
END $$;

-- RSQUO when the (locked) delegation is at its quota, counting p_more more.
CREATE FUNCTION roster._quota_check(d roster.delegation, p_code text)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	v_size bigint;
BEGIN
	IF d.quota IS NULL THEN
		RETURN;
	END IF;
	SELECT count(*) INTO v_size FROM participant
	WHERE delegation_id = d.id AND status <> 'declined';
	IF v_size >= d.quota THEN
		PERFORM _fail('RSQUO', format('delegation %s is at its quota of %s',
		    p_code, d.quota));
	END IF;
END $$;

-- RSCNF when the (locked) delegation has a head who has not declined,
-- other than participant p_except.
CREATE FUNCTION roster._head_check(p_delegation_id integer, p_except bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM participant WHERE delegation_id = p_delegation_id
	    AND role = 'head' AND status <> 'declined'
	    AND id IS DISTINCT FROM p_except) THEN
		PERFORM _fail('RSCNF', 'the delegation already has a head');
	END IF;
END $$;

-- PARTICIPANT ADD party= name= [honorific=] [title=] [email=] [role=] [ref=].
-- A focal point may leave party= out (their own).
CREATE FUNCTION roster.participant_add(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text, p_name text,
    p_honorific text, p_title text, p_email text, p_role_key text,
    p_ref text)
RETURNS TABLE (id text, party text, badge text, version text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
	p participant;
	v_reply jsonb;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_role, p_actor_party, p_party);
	PERFORM _need('name', p_name);
	p.name := _name('name', p_name);
	p.honorific := _name('honorific', nullif(btrim(p_honorific), ''));
	p.title := _name('title', nullif(btrim(p_title), ''));
	p.email := _email(p_email);
	p.role := _check_role(coalesce(p_role_key, 'member'));
	v_reply := _ref_claim(e.id, p_ref, 'PARTICIPANT ADD', pa.id);
	IF v_reply IS NOT NULL THEN
		RETURN QUERY SELECT v_reply->>'id', v_reply->>'party',
		    v_reply->>'badge', v_reply->>'version', '1';
		RETURN;
	END IF;
	e := _event_open(e.id);
	d := _delegation_lock(e.id, pa);
	IF d.status = 'declined' THEN
		PERFORM _fail('RSCNF', format('delegation %s has declined', pa.code));
	END IF;
	PERFORM _quota_check(d, pa.code);
	IF p.role = 'head' THEN
		PERFORM _head_check(d.id, NULL);
	END IF;
	INSERT INTO participant (delegation_id, name, honorific, title, email,
	    role, badge)
	VALUES (d.id, p.name, p.honorific, p.title, p.email, p.role, _badge())
	RETURNING * INTO p;
	PERFORM _audit(e.id, p_actor, 'PARTICIPANT ADD',
	    e.code || '/participant/' || p.id,
	    jsonb_build_object('party', pa.code, 'name', p.name,
	    'honorific', p.honorific, 'title', p.title, 'email', p.email,
	    'role', p.role, 'ref', p_ref));
	PERFORM _notify(json_build_object('event', e.code,
	    'kind', 'participant.added', 'id', p.id::text, 'party', pa.code,
	    'name', p.name, 'role', p.role));
	v_reply := jsonb_build_object('id', p.id::text, 'party', pa.code::text,
	    'badge', p.badge::text, 'version', p.version::text);
	PERFORM _ref_store(e.id, p_ref, v_reply);
	RETURN QUERY SELECT p.id::text, pa.code::text, p.badge::text,
	    p.version::text, NULL::text;
END $$;

-- PARTICIPANT LIST [party=] [status=] [role=]: a focal point sees their own
-- party's only (party= of another is RSFRB).
CREATE FUNCTION roster.participant_list(p_actor text, p_role text,
    p_actor_party text, p_event text, p_party text, p_status text,
    p_role_key text)
RETURNS TABLE (id text, event text, party text, name text, honorific text,
    title text, email text, role text, status text, badge text,
    checked_in text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	pa := _scope_party(p_role, p_actor_party, p_party);
	IF p_status NOT IN ('registered', 'confirmed', 'declined') THEN
		PERFORM _fail('RSINV', 'status: must be registered, confirmed or declined');
	END IF;
	PERFORM _check_role(p_role_key);
	RETURN QUERY SELECT * FROM _participant_records(e.id, NULL, pa.id,
	    p_status, p_role_key);
END $$;

-- PARTICIPANT SHOW id=.
CREATE FUNCTION roster.participant_show(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, event text, party text, name text, honorific text,
    title text, email text, role text, status text, badge text,
    checked_in text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	RETURN QUERY SELECT * FROM _participant_records(c.event_id, c.id, NULL,
	    NULL, NULL);
END $$;

-- Lock a participant for a change, in the order delegation -> participant,
-- after locking the event open. Returns the locked participant.
CREATE FUNCTION roster._participant_lock(c roster.participant_ctx,
    p_need_open boolean DEFAULT true)
RETURNS roster.participant
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	p participant;
BEGIN
	IF p_need_open THEN
		PERFORM _event_open(c.event_id);
	END IF;
	PERFORM 1 FROM delegation WHERE id = c.delegation_id FOR NO KEY UPDATE;
	SELECT * INTO p FROM participant WHERE id = c.id FOR NO KEY UPDATE;
	RETURN p;
END $$;

-- PARTICIPANT SET id= [name=] [honorific=] [title=] [email=] [role=]
-- [version=]. honorific/title/email "" clears the field.
CREATE FUNCTION roster.participant_set(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text, p_name text,
    p_honorific text, p_title text, p_email text, p_role_key text,
    p_version text)
RETURNS TABLE (id text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	o participant;
	n participant;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	o := _participant_lock(c);
	IF p_version IS NOT NULL AND _int('version', p_version) <> o.version THEN
		PERFORM _fail('RSCNF', format('version is %s', o.version));
	END IF;
	IF o.erased THEN
		PERFORM _fail('RSCNF', format('participant %s was erased', o.id));
	END IF;
	n := o;
	n.name := coalesce(_name('name', p_name), o.name);
	IF p_honorific IS NOT NULL THEN
		n.honorific := _name('honorific', nullif(btrim(p_honorific), ''));
	END IF;
	IF p_title IS NOT NULL THEN
		n.title := _name('title', nullif(btrim(p_title), ''));
	END IF;
	IF p_email IS NOT NULL THEN
		n.email := _email(p_email);
	END IF;
	n.role := coalesce(_check_role(p_role_key), o.role);
	IF n.role = 'head' AND o.role <> 'head' AND o.status <> 'declined' THEN
		PERFORM _head_check(o.delegation_id, o.id);
	END IF;

	IF n.name IS DISTINCT FROM o.name THEN
		v_detail := v_detail || jsonb_build_object('name', n.name);
	END IF;
	IF n.honorific IS DISTINCT FROM o.honorific THEN
		v_detail := v_detail || jsonb_build_object('honorific', coalesce(n.honorific, ''));
	END IF;
	IF n.title IS DISTINCT FROM o.title THEN
		v_detail := v_detail || jsonb_build_object('title', coalesce(n.title, ''));
	END IF;
	IF n.email IS DISTINCT FROM o.email THEN
		v_detail := v_detail || jsonb_build_object('email', coalesce(n.email, ''));
	END IF;
	IF n.role IS DISTINCT FROM o.role THEN
		v_detail := v_detail || jsonb_build_object('role', n.role);
	END IF;
	IF v_detail = '{}' THEN
		RETURN QUERY SELECT o.id::text, o.version::text;
		RETURN;
	END IF;
	UPDATE participant SET name = n.name, honorific = n.honorific,
	    title = n.title, email = n.email, role = n.role,
	    version = version + 1
	WHERE id = o.id RETURNING * INTO n;
	PERFORM _audit(c.event_id, p_actor, 'PARTICIPANT SET',
	    c.event || '/participant/' || o.id, v_detail);
	PERFORM _notify(json_build_object('event', c.event,
	    'kind', 'participant.updated', 'id', n.id::text, 'party', c.party,
	    'name', n.name, 'role', n.role, 'version', n.version::text));
	RETURN QUERY SELECT n.id::text, n.version::text;
END $$;

-- PARTICIPANT CONFIRM id=. Confirming a confirmed participant changes
-- nothing. A declined one may be confirmed again if the delegation has not
-- declined, is under its quota and has no other head (for a head).
CREATE FUNCTION roster.participant_confirm(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	d delegation;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	p := _participant_lock(c);
	IF p.status = 'confirmed' THEN
		RETURN QUERY SELECT p.id::text, p.status, p.version::text;
		RETURN;
	END IF;
	IF p.erased THEN
		PERFORM _fail('RSCNF', format('participant %s was erased', p.id));
	END IF;
	SELECT * INTO d FROM delegation WHERE id = p.delegation_id;
	IF d.status = 'declined' THEN
		PERFORM _fail('RSCNF', format('delegation %s has declined', c.party));
	END IF;
	IF p.status = 'declined' THEN
		PERFORM _quota_check(d, c.party);
		IF p.role = 'head' THEN
			PERFORM _head_check(d.id, p.id);
		END IF;
	END IF;
	UPDATE participant SET status = 'confirmed', reason = NULL,
	    version = version + 1
	WHERE id = p.id RETURNING * INTO p;
	PERFORM _audit(c.event_id, p_actor, 'PARTICIPANT CONFIRM',
	    c.event || '/participant/' || p.id,
	    jsonb_build_object('status', 'confirmed', 'was', c.status));
	PERFORM _notify(json_build_object('event', c.event,
	    'kind', 'participant.confirmed', 'id', p.id::text, 'party', c.party,
	    'name', p.name));
	RETURN QUERY SELECT p.id::text, p.status, p.version::text;
END $$;

-- PARTICIPANT DECLINE id= [reason=]: also leaves every session (the
-- waiting lists move up). Declining a declined participant changes nothing.
CREATE FUNCTION roster.participant_decline(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text, p_reason text)
RETURNS TABLE (id text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	v_reason text;
	v_promoted bigint[];
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	v_reason := _text('reason', p_reason);
	p := _participant_lock(c);
	IF p.status = 'declined' THEN
		RETURN QUERY SELECT p.id::text, p.status, p.version::text;
		RETURN;
	END IF;
	UPDATE participant SET status = 'declined', reason = v_reason,
	    version = version + 1
	WHERE id = p.id RETURNING * INTO p;
	SELECT array_agg(x) INTO v_promoted FROM _drop_enrolments(ARRAY[p.id]) x;
	PERFORM _audit(c.event_id, p_actor, 'PARTICIPANT DECLINE',
	    c.event || '/participant/' || p.id,
	    jsonb_build_object('status', 'declined', 'was', c.status,
	    'reason', v_reason, 'promoted', to_jsonb(v_promoted)));
	PERFORM _notify(json_build_object('event', c.event,
	    'kind', 'participant.declined', 'id', p.id::text, 'party', c.party,
	    'name', p.name));
	RETURN QUERY SELECT p.id::text, p.status, p.version::text;
END $$;

-- PARTICIPANT ERASE id= (admin): the personal data becomes 'erased', in
-- the participant and in the audit trail; status, role, badge and
-- check-ins stay, so counts do not change. Allowed whatever the event's
-- status.
CREATE FUNCTION roster.participant_erase(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	v_target text;
BEGIN
	PERFORM _need_role(p_role, 'admin');
	c := _participant(p_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	p := _participant_lock(c, false);
	IF p.erased THEN
		RETURN QUERY SELECT p.id::text, p.version::text;
		RETURN;
	END IF;
	UPDATE participant SET name = 'erased',
	    honorific = CASE WHEN honorific IS NOT NULL THEN 'erased' END,
	    title = CASE WHEN title IS NOT NULL THEN 'erased' END,
	    email = CASE WHEN email IS NOT NULL THEN 'erased' END,
	    reason = CASE WHEN reason IS NOT NULL THEN 'erased' END,
	    erased = true, version = version + 1
	WHERE id = p.id RETURNING * INTO p;
	v_target := c.event || '/participant/' || p.id;
	UPDATE audit SET detail = (
		SELECT jsonb_object_agg(k, CASE WHEN k IN ('name', 'honorific',
		    'title', 'email', 'reason') THEN '"erased"'::jsonb ELSE v END)
		FROM jsonb_each(detail) AS x(k, v))
	WHERE target = v_target
	    AND detail ?| ARRAY['name', 'honorific', 'title', 'email', 'reason'];
	PERFORM _audit(c.event_id, p_actor, 'PARTICIPANT ERASE', v_target,
	    jsonb_build_object('erased', true));
	PERFORM _notify(json_build_object('event', c.event,
	    'kind', 'participant.erased', 'id', p.id::text, 'party', c.party));
	RETURN QUERY SELECT p.id::text, p.version::text;
END $$;

-- CHECKIN (id= / badge=) [session=]: while the event is open or closed.
-- A repeat for the same session (or for the event) answers the first time
-- with already=1. checked_in of the participant is their first check-in of
-- any kind.
CREATE FUNCTION roster.participant_checkin(p_actor text, p_role text,
    p_actor_party text, p_event text, p_id text, p_badge text,
    p_session text)
RETURNS TABLE (id text, party text, name text, checked_in text, already text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_event_id integer;
	c participant_ctx;
	e event;
	s session;
	p participant;
	v_at timestamptz;
	v_bid bigint;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host');
	IF p_event IS NOT NULL THEN
		v_event_id := (_event(p_event)).id;
	END IF;
	IF p_id IS NOT NULL THEN
		c := _participant(p_role, p_actor_party, v_event_id, 'id', p_id);
	ELSIF p_badge IS NOT NULL THEN
		IF upper(p_badge) !~ '^[A-Z2-7]{10}$' THEN
			PERFORM _fail('RSINV', 'badge: must be 10 characters of A-Z 2-7');
		END IF;
		SELECT p.id INTO v_bid FROM participant p WHERE p.badge = upper(p_badge);
		IF NOT FOUND THEN
			PERFORM _fail('RSNFD', 'badge not found');
		END IF;
		c := _participant(p_role, p_actor_party, v_event_id, 'badge', v_bid::text);
	ELSE
		PERFORM _fail('RSSYN', 'id= or badge= is required');
	END IF;
	IF p_id IS NOT NULL AND p_badge IS NOT NULL
	    AND c.badge::text <> upper(p_badge) THEN
		PERFORM _fail('RSNFD', 'badge not found');
	END IF;
	SELECT * INTO e FROM event WHERE event.id = c.event_id;
	IF e.status NOT IN ('open', 'closed') THEN
		PERFORM _fail('RSCLO', format('event %s is %s: no check-in yet',
		    e.code, e.status));
	END IF;
	IF p_session IS NOT NULL THEN
		s := _session(e.id, p_session);
	END IF;
	SELECT * INTO p FROM participant WHERE participant.id = c.id FOR NO KEY UPDATE;
	IF p.status = 'declined' THEN
		PERFORM _fail('RSCNF', format('participant %s has declined', p.id));
	END IF;
	IF s.id IS NULL THEN
		INSERT INTO checkin (participant_id, session_id, by_user)
		VALUES (p.id, NULL, coalesce(p_actor, '-'))
		ON CONFLICT (participant_id) WHERE session_id IS NULL DO NOTHING
		RETURNING at INTO v_at;
	ELSE
		INSERT INTO checkin (participant_id, session_id, by_user)
		VALUES (p.id, s.id, coalesce(p_actor, '-'))
		ON CONFLICT (participant_id, session_id) WHERE session_id IS NOT NULL
		DO NOTHING
		RETURNING at INTO v_at;
	END IF;
	IF v_at IS NULL THEN
		SELECT k.at INTO v_at FROM checkin k
		WHERE k.participant_id = p.id
		    AND k.session_id IS NOT DISTINCT FROM s.id;
		RETURN QUERY SELECT p.id::text, c.party, p.name::text, fmt_ts(v_at), '1';
		RETURN;
	END IF;
	UPDATE participant SET checked_in = coalesce(checked_in, v_at)
	WHERE participant.id = p.id;
	PERFORM _audit(e.id, p_actor, 'CHECKIN', e.code || '/participant/' || p.id,
	    jsonb_build_object('session', s.code, 'badge', p_badge IS NOT NULL));
	PERFORM _notify(json_build_object('event', e.code, 'kind', 'checkin',
	    'id', p.id::text, 'party', c.party, 'name', p.name,
	    'session', s.code, 'checked_in', fmt_ts(v_at)));
	RETURN QUERY SELECT p.id::text, c.party, p.name::text, fmt_ts(v_at), NULL::text;
END $$;
