-- delegation.sql -- DELEGATION REGISTER, LIST, SHOW, SET, CONFIRM, DECLINE
-- (daemon/cmd-delegation.c). A focal point acts on their own party's
-- delegation only.

-- Delegation records, countries first then organisations, by name. The
-- statement for one party (its delegation by the key event, party) is apart
-- from the one for the event's list, so that each is planned for its key
-- (a cached generic plan cannot use the key through "p_party_id IS NULL OR
-- ..."). status= and kind= filter the list; they are no key.
CREATE FUNCTION roster._delegation_records(p_event_id integer,
    p_party_id integer, p_status text, p_kind text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	IF p_party_id IS NOT NULL THEN
		RETURN QUERY SELECT d.id::text, e.code::text, pa.code::text, pa.kind,
		    pa.name::text, d.status, d.quota::text,
		    (SELECT count(*) FROM participant p
		     WHERE p.delegation_id = d.id AND p.status <> 'declined')::text,
		    (SELECT count(*) FROM participant p
		     WHERE p.delegation_id = d.id AND p.status = 'confirmed')::text,
		    d.note::text, d.version::text
		FROM delegation d
		JOIN event e ON e.id = d.event_id
		JOIN party pa ON pa.id = d.party_id
		WHERE d.event_id = p_event_id AND d.party_id = p_party_id
		    AND (p_status IS NULL OR d.status = p_status)
		    AND (p_kind IS NULL OR pa.kind = p_kind);
		RETURN;
	END IF;
	RETURN QUERY SELECT d.id::text, e.code::text, pa.code::text, pa.kind,
	    pa.name::text, d.status, d.quota::text,
	    (SELECT count(*) FROM participant p
	     WHERE p.delegation_id = d.id AND p.status <> 'declined')::text,
	    (SELECT count(*) FROM participant p
	     WHERE p.delegation_id = d.id AND p.status = 'confirmed')::text,
	    d.note::text, d.version::text
	FROM delegation d
	JOIN event e ON e.id = d.event_id
	JOIN party pa ON pa.id = d.party_id
	WHERE d.event_id = p_event_id
	    AND (p_status IS NULL OR d.status = p_status)
	    AND (p_kind IS NULL OR pa.kind = p_kind)
	ORDER BY pa.kind <> 'country', pa.name COLLATE roster.names, pa.code;
END $$;

-- The delegation of a party in an event, locked for update; RSNFD if none.
CREATE FUNCTION roster._delegation_lock(p_event_id integer, p_party roster.party)
RETURNS roster.delegation
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
CREATE FUNCTION roster.delegation_register(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_quota text,
    p_note text, p_ref text)
RETURNS TABLE (id text, party text, status text, version text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	v_quota integer;
	v_note text;
	v_reply jsonb;
	d delegation;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
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
	PERFORM _changed(e.id, p_actor, 'DELEGATION REGISTER',
	    e.code || '/delegation/' || pa.code,
	    jsonb_build_object('party', pa.code, 'quota', v_quota, 'note', v_note,
	    'ref', p_ref),
	    json_build_object('event', e.code,
	    'kind', 'delegation.registered', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name, 'quota', d.quota::text));
	v_reply := jsonb_build_object('id', d.id::text, 'party', pa.code::text,
	    'status', d.status, 'version', d.version::text);
	PERFORM _ref_store(e.id, p_ref, pa.id, v_reply);
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text,
	    NULL::text;
END $$;

-- DELEGATION LIST [status=] [kind=]: a focal point sees their own only.
CREATE FUNCTION roster.delegation_list(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_status text, p_kind text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_party_id integer;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_status NOT IN ('registered', 'confirmed', 'declined') THEN
		PERFORM _fail('RSINV', 'status: must be registered, confirmed or declined');
	END IF;
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	IF p_actor_role = 'focal' THEN
		v_party_id := (_scope_party(p_actor_role, p_actor_party, NULL)).id;
	END IF;
	RETURN QUERY SELECT * FROM _delegation_records(e.id, v_party_id, p_status, p_kind);
END $$;

-- DELEGATION SHOW party=.
CREATE FUNCTION roster.delegation_show(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text)
RETURNS TABLE (id text, event text, party text, kind text, name text,
    status text, quota text, size text, confirmed text, note text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_actor_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_actor_role, p_actor_party, p_party);
	RETURN QUERY SELECT * FROM _delegation_records(e.id, pa.id, NULL, NULL);
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('party %s has no delegation in this event',
		    pa.code));
	END IF;
END $$;

-- DELEGATION SET party= [quota=] [note=] [version=]. quota= "" removes the
-- quota, note= "" the note. A quota below the delegation's size is RSCNF.
CREATE FUNCTION roster.delegation_set(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_quota text,
    p_note text, p_version text)
RETURNS TABLE (id text, party text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
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
	PERFORM _changed(e.id, p_actor, 'DELEGATION SET',
	    e.code || '/delegation/' || pa.code, v_detail,
	    json_build_object('event', e.code,
	    'kind', 'delegation.updated', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name, 'quota', d.quota::text, 'version', d.version::text));
	RETURN QUERY SELECT d.id::text, pa.code::text, d.version::text;
END $$;

-- DELEGATION CONFIRM party=. Confirming a confirmed delegation changes
-- nothing; a declined one may be confirmed again (its participants stay
-- declined until confirmed one by one).
CREATE FUNCTION roster.delegation_confirm(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text)
RETURNS TABLE (id text, party text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'focal');
	e := _event(p_event);
	IF p_actor_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_actor_role, p_actor_party, p_party);
	e := _event_open(e.id);
	d := _delegation_lock(e.id, pa);
	IF d.status <> 'confirmed' THEN
		UPDATE delegation SET status = 'confirmed', reason = NULL,
		    version = version + 1
		WHERE id = d.id RETURNING * INTO d;
		PERFORM _changed(e.id, p_actor, 'DELEGATION CONFIRM',
		    e.code || '/delegation/' || pa.code,
		    jsonb_build_object('status', 'confirmed'),
		    json_build_object('event', e.code,
		    'kind', 'delegation.confirmed', 'party', pa.code,
		    'id', d.id::text, 'name', pa.name));
	END IF;
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text;
END $$;

-- DELEGATION DECLINE party= [reason=]: the delegation will not come, so
-- its participants are declined too and leave their sessions (the waiting
-- lists move up).
CREATE FUNCTION roster.delegation_decline(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_reason text)
RETURNS TABLE (id text, party text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'focal');
	e := _event(p_event);
	IF p_actor_role <> 'focal' THEN
		PERFORM _need('party', p_party);
	END IF;
	pa := _scope_party(p_actor_role, p_actor_party, p_party);
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
	PERFORM _changed(e.id, p_actor, 'DELEGATION DECLINE',
	    e.code || '/delegation/' || pa.code,
	    jsonb_build_object('status', 'declined', 'reason', v_reason,
	    'participants_declined', to_jsonb(v_ids), 'promoted', to_jsonb(v_promoted)),
	    json_build_object('event', e.code,
	    'kind', 'delegation.declined', 'id', d.id::text, 'party', pa.code,
	    'name', pa.name));
	RETURN QUERY SELECT d.id::text, pa.code::text, d.status, d.version::text;
END $$;
