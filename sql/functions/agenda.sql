-- agenda.sql -- the agenda (daemon/cmd-agenda.c): SESSION CREATE, LIST,
-- SHOW, SET; SPEAKER ADD, LIST, REMOVE; ENROL and UNENROL, with a session's
-- capacity and its waiting list (whose moves are _promote and
-- _drop_enrolments in core.sql); ROSTER.

-- Session records, by start time then code. The statement for one session
-- (by its key) is apart from the one for the event's list, so that each is
-- planned for its key; kind= filters the list, it is no key.
CREATE FUNCTION roster._session_records(p_event_id integer,
    p_session_id integer, p_kind text)
RETURNS TABLE (code text, kind text, title text, starts text, ends text,
    room text, capacity text, theme text, enrolled text, waitlisted text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	IF p_session_id IS NOT NULL THEN
		RETURN QUERY SELECT s.code::text, s.kind, s.title::text,
		    _fmt_time(s.starts, e.timezone), _fmt_time(s.ends, e.timezone),
		    s.room::text, s.capacity::text, s.theme::text,
		    (SELECT count(*) FROM enrolment n
		     WHERE n.session_id = s.id AND n.status = 'enrolled')::text,
		    (SELECT count(*) FROM enrolment n
		     WHERE n.session_id = s.id AND n.status = 'waitlisted')::text,
		    s.version::text
		FROM session s JOIN event e ON e.id = s.event_id
		WHERE s.event_id = p_event_id AND s.id = p_session_id
		    AND (p_kind IS NULL OR s.kind = p_kind);
		RETURN;
	END IF;
	RETURN QUERY SELECT s.code::text, s.kind, s.title::text,
	    _fmt_time(s.starts, e.timezone), _fmt_time(s.ends, e.timezone),
	    s.room::text, s.capacity::text, s.theme::text,
	    (SELECT count(*) FROM enrolment n
	     WHERE n.session_id = s.id AND n.status = 'enrolled')::text,
	    (SELECT count(*) FROM enrolment n
	     WHERE n.session_id = s.id AND n.status = 'waitlisted')::text,
	    s.version::text
	FROM session s JOIN event e ON e.id = s.event_id
	WHERE s.event_id = p_event_id
	    AND (p_kind IS NULL OR s.kind = p_kind)
	ORDER BY s.starts, lower(s.code);
END $$;

CREATE FUNCTION roster._session_kind(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_value NOT IN ('plenary', 'panel', 'working_group', 'side_event') THEN
		PERFORM _fail('RSINV', 'kind: must be plenary, panel, working_group or side_event');
	END IF;
	RETURN p_value;
END $$;

-- SESSION CREATE code= kind= title= starts= ends= [room=] [capacity=]
-- [theme=] [ref=]. Times are local to the event's time zone.
CREATE FUNCTION roster.session_create(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_code text, p_kind text,
    p_title text, p_starts text, p_ends text, p_room text,
    p_capacity text, p_theme text, p_ref text)
RETURNS TABLE (code text, version text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
	v_reply jsonb;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	PERFORM _need('code', p_code);
	PERFORM _need('kind', p_kind);
	PERFORM _need('title', p_title);
	PERFORM _need('starts', p_starts);
	PERFORM _need('ends', p_ends);
	s.code := _code('code', p_code);
	s.kind := _session_kind(p_kind);
	s.title := _name('title', p_title);
	s.starts := _local_time('starts', p_starts, e.timezone);
	s.ends := _local_time('ends', p_ends, e.timezone);
	IF s.starts > s.ends THEN
		PERFORM _fail('RSINV', 'ends: before starts');
	END IF;
	s.room := _name('room', nullif(btrim(p_room), ''));
	s.capacity := _int('capacity', nullif(p_capacity, ''), 0, 1000000);
	s.theme := _name('theme', nullif(btrim(p_theme), ''));
	v_reply := _ref_claim(e.id, p_ref, 'SESSION CREATE', NULL);
	IF v_reply IS NOT NULL THEN
		RETURN QUERY SELECT v_reply->>'code', v_reply->>'version', '1';
		RETURN;
	END IF;
	e := _event_open(e.id);
	INSERT INTO session (event_id, code, kind, title, starts, ends, room,
	    capacity, theme)
	VALUES (e.id, s.code, s.kind, s.title, s.starts, s.ends, s.room,
	    s.capacity, s.theme)
	ON CONFLICT (event_id, lower(code::text)) DO NOTHING
	RETURNING * INTO s;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('session %s exists', p_code));
	END IF;
	PERFORM _changed(e.id, p_actor, 'SESSION CREATE',
	    e.code || '/session/' || s.code,
	    (SELECT to_jsonb(r) - 'enrolled' - 'waitlisted' - 'version'
	     FROM _session_records(e.id, s.id, NULL) r) || jsonb_build_object('ref', p_ref),
	    json_build_object('event', e.code, 'kind', 'session.created',
	    'session', s.code, 'title', s.title,
	    'starts', _fmt_time(s.starts, e.timezone)));
	v_reply := jsonb_build_object('code', s.code::text, 'version', s.version::text);
	PERFORM _ref_store(e.id, p_ref, NULL, v_reply);
	RETURN QUERY SELECT s.code::text, s.version::text, NULL::text;
END $$;

-- SESSION LIST [kind=].
CREATE FUNCTION roster.session_list(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_kind text)
RETURNS TABLE (code text, kind text, title text, starts text, ends text,
    room text, capacity text, theme text, enrolled text, waitlisted text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	e roster.event;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	PERFORM _session_kind(p_kind);
	RETURN QUERY SELECT * FROM _session_records(e.id, NULL, p_kind);
END $$;

-- SESSION SHOW session=.
CREATE FUNCTION roster.session_show(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text)
RETURNS TABLE (code text, kind text, title text, starts text, ends text,
    room text, capacity text, theme text, enrolled text, waitlisted text,
    version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	e roster.event;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	RETURN QUERY SELECT * FROM _session_records(e.id, (_session(e.id, p_session)).id, NULL);
END $$;

-- SESSION SET session= [kind=] [title=] [starts=] [ends=] [room=]
-- [capacity=] [theme=] [version=]. room/theme/capacity "" clears the field
-- (no capacity: no limit). A capacity below the number enrolled is RSCNF;
-- a larger one moves the waiting list up.
CREATE FUNCTION roster.session_set(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text, p_kind text,
    p_title text, p_starts text, p_ends text, p_room text,
    p_capacity text, p_theme text, p_version text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	o session;
	n session;
	v_enrolled bigint;
	v_promoted bigint[];
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	o := _session(e.id, p_session);
	e := _event_open(e.id);
	SELECT * INTO o FROM session WHERE id = o.id FOR NO KEY UPDATE;
	IF p_version IS NOT NULL AND _int('version', p_version) <> o.version THEN
		PERFORM _fail('RSCNF', format('version is %s', o.version));
	END IF;
	n := o;
	n.kind := coalesce(_session_kind(p_kind), o.kind);
	n.title := coalesce(_name('title', p_title), o.title);
	n.starts := coalesce(_local_time('starts', p_starts, e.timezone), o.starts);
	n.ends := coalesce(_local_time('ends', p_ends, e.timezone), o.ends);
	IF n.starts > n.ends THEN
		PERFORM _fail('RSINV', CASE WHEN p_ends IS NOT NULL
		    THEN 'ends: before starts' ELSE 'starts: after ends' END);
	END IF;
	IF p_room IS NOT NULL THEN
		n.room := _name('room', nullif(btrim(p_room), ''));
	END IF;
	IF p_theme IS NOT NULL THEN
		n.theme := _name('theme', nullif(btrim(p_theme), ''));
	END IF;
	IF p_capacity IS NOT NULL THEN
		n.capacity := _int('capacity', nullif(p_capacity, ''), 0, 1000000);
	END IF;
	IF n.capacity IS DISTINCT FROM o.capacity AND n.capacity IS NOT NULL THEN
		SELECT count(*) INTO v_enrolled FROM enrolment
		WHERE session_id = o.id AND status = 'enrolled';
		IF n.capacity < v_enrolled THEN
			PERFORM _fail('RSCNF', format('capacity: %s already enrolled',
			    v_enrolled));
		END IF;
	END IF;

	IF n.kind IS DISTINCT FROM o.kind THEN
		v_detail := v_detail || jsonb_build_object('kind', n.kind);
	END IF;
	IF n.title IS DISTINCT FROM o.title THEN
		v_detail := v_detail || jsonb_build_object('title', n.title);
	END IF;
	IF n.starts IS DISTINCT FROM o.starts THEN
		v_detail := v_detail || jsonb_build_object('starts', _fmt_time(n.starts, e.timezone));
	END IF;
	IF n.ends IS DISTINCT FROM o.ends THEN
		v_detail := v_detail || jsonb_build_object('ends', _fmt_time(n.ends, e.timezone));
	END IF;
	IF n.room IS DISTINCT FROM o.room THEN
		v_detail := v_detail || jsonb_build_object('room', coalesce(n.room, ''));
	END IF;
	IF n.capacity IS DISTINCT FROM o.capacity THEN
		v_detail := v_detail || jsonb_build_object('capacity', coalesce(n.capacity::text, ''));
	END IF;
	IF n.theme IS DISTINCT FROM o.theme THEN
		v_detail := v_detail || jsonb_build_object('theme', coalesce(n.theme, ''));
	END IF;
	IF v_detail = '{}' THEN
		RETURN QUERY SELECT o.code::text, o.version::text;
		RETURN;
	END IF;
	UPDATE session SET kind = n.kind, title = n.title, starts = n.starts,
	    ends = n.ends, room = n.room, capacity = n.capacity, theme = n.theme,
	    version = version + 1
	WHERE id = o.id RETURNING * INTO n;
	SELECT array_agg(x) INTO v_promoted FROM _promote(n.id) x;
	IF v_promoted IS NOT NULL THEN
		v_detail := v_detail || jsonb_build_object('promoted', to_jsonb(v_promoted));
	END IF;
	PERFORM _changed(e.id, p_actor, 'SESSION SET', e.code || '/session/' || n.code,
	    v_detail,
	    json_build_object('event', e.code, 'kind', 'session.updated',
	    'session', n.code, 'title', n.title, 'version', n.version::text));
	RETURN QUERY SELECT n.code::text, n.version::text;
END $$;

-- SPEAKER ADD session= participant= [role=] [topic=] [position=] [ref=].
-- position defaults to the end of the session's list.
CREATE FUNCTION roster.speaker_add(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text, p_participant text,
    p_role text, p_topic text, p_position text, p_ref text)
RETURNS TABLE (session text, participant text, role text, "position" text,
    replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
	c participant_ctx;
	k speaker;
	v_status text;
	v_reply jsonb;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	s := _session(e.id, p_session);
	c := _participant(p_actor_role, p_actor_party, e.id, 'participant',
	    p_participant);
	k.role := coalesce(p_role, 'speaker');
	IF k.role NOT IN ('speaker', 'moderator', 'chair', 'panelist') THEN
		PERFORM _fail('RSINV', 'role: must be speaker, moderator, chair or panelist');
	END IF;
	k.topic := _text('topic', p_topic);
	k.position := _int('position', p_position, 0, 100000);
	v_reply := _ref_claim(e.id, p_ref, 'SPEAKER ADD', c.party_id);
	IF v_reply IS NOT NULL THEN
		RETURN QUERY SELECT v_reply->>'session', v_reply->>'participant',
		    v_reply->>'role', v_reply->>'position', '1';
		RETURN;
	END IF;
	e := _event_open(e.id);
	SELECT p.status INTO v_status FROM participant p WHERE p.id = c.id FOR SHARE;
	IF v_status = 'declined' THEN
		PERFORM _fail('RSCNF', format('participant %s has declined', c.id));
	END IF;
	IF k.position IS NULL THEN
		SELECT coalesce(max(x.position), 0) + 1 INTO k.position
		FROM speaker x WHERE x.session_id = s.id;
	END IF;
	INSERT INTO speaker (session_id, participant_id, role, topic, position)
	VALUES (s.id, c.id, k.role, k.topic, k.position)
	ON CONFLICT (session_id, participant_id) DO NOTHING
	RETURNING * INTO k;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('participant %s already speaks in session %s',
		    c.id, s.code));
	END IF;
	PERFORM _changed(e.id, p_actor, 'SPEAKER ADD',
	    e.code || '/participant/' || c.id,
	    jsonb_build_object('session', s.code, 'role', k.role, 'topic', k.topic,
	    'position', k.position, 'ref', p_ref),
	    json_build_object('event', e.code, 'kind', 'speaker.added',
	    'session', s.code, 'id', c.id::text, 'party', c.party, 'name', c.name,
	    'role', k.role, 'position', k.position::text));
	v_reply := jsonb_build_object('session', s.code::text,
	    'participant', c.id::text, 'role', k.role, 'position', k.position::text);
	PERFORM _ref_store(e.id, p_ref, c.party_id, v_reply);
	RETURN QUERY SELECT s.code::text, c.id::text, k.role, k.position::text,
	    NULL::text;
END $$;

-- SPEAKER LIST [session=]: by session time, then position. The agenda is
-- for every role, but a focal point sees the participant id, name and
-- topic of their own party's speakers only.
CREATE FUNCTION roster.speaker_list(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text)
RETURNS TABLE (session text, participant text, name text, party text,
    role text, topic text, "position" text, family text, latin text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_sid integer;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	IF p_session IS NOT NULL THEN
		v_sid := (_session(e.id, p_session)).id;
	END IF;
	-- EXECUTE: planned for the values given, so that the session's key
	-- is used when session= was (no "$2 IS NULL OR ..." under a generic
	-- plan); the text is constant, the values are parameters.
	RETURN QUERY EXECUTE $q$
	SELECT s.code::text,
	    CASE WHEN v.visible THEN p.id::text END,
	    CASE WHEN v.visible THEN p.name::text END,
	    pa.code::text, k.role, CASE WHEN v.visible THEN k.topic::text END,
	    k.position::text, CASE WHEN v.visible THEN p.family::text END,
	    CASE WHEN v.visible THEN p.latin::text END
	FROM roster.speaker k
	JOIN roster.session s ON s.id = k.session_id
	JOIN roster.participant p ON p.id = k.participant_id
	JOIN roster.delegation d ON d.id = p.delegation_id
	JOIN roster.party pa ON pa.id = d.party_id
	CROSS JOIN LATERAL (SELECT $3 <> 'focal'
	    OR lower(pa.code) = lower($4) AS visible) v
	WHERE s.event_id = $1 AND ($2 IS NULL OR s.id = $2)
	ORDER BY s.starts, lower(s.code), k.position, k.id
	$q$ USING e.id, v_sid, p_actor_role, p_actor_party;
END $$;

-- SPEAKER REMOVE session= participant=.
CREATE FUNCTION roster.speaker_remove(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text, p_participant text)
RETURNS TABLE (session text, participant text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
	c participant_ctx;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	s := _session(e.id, p_session);
	c := _participant(p_actor_role, p_actor_party, e.id, 'participant',
	    p_participant);
	e := _event_open(e.id);
	DELETE FROM speaker WHERE session_id = s.id AND participant_id = c.id;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('participant %s is not a speaker in session %s',
		    c.id, s.code));
	END IF;
	PERFORM _changed(e.id, p_actor, 'SPEAKER REMOVE',
	    e.code || '/participant/' || c.id,
	    jsonb_build_object('session', s.code),
	    json_build_object('event', e.code, 'kind', 'speaker.removed',
	    'session', s.code, 'id', c.id::text, 'party', c.party, 'name', c.name));
	RETURN QUERY SELECT s.code::text, c.id::text;
END $$;

-- The place of a waiting participant: 1 for the first.
CREATE FUNCTION roster._wait_position(p_session_id integer, p_seq bigint)
RETURNS integer
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT count(*)::integer FROM roster.enrolment
	WHERE session_id = p_session_id AND status = 'waitlisted' AND seq <= p_seq
$$;

-- ENROL session= participant=: status=enrolled, or status=waitlisted
-- position=N when the session is full; already=1 when they already were.
CREATE FUNCTION roster.enrol(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text, p_participant text)
RETURNS TABLE (status text, "position" text, already text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
	c participant_ctx;
	n enrolment;
	v_pstatus text;
	v_enrolled bigint;
	v_position integer;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	s := _session(e.id, p_session);
	c := _participant(p_actor_role, p_actor_party, e.id, 'participant',
	    p_participant);
	e := _event_open(e.id);
	-- Lock order: participant, then session.
	SELECT p.status INTO v_pstatus FROM participant p WHERE p.id = c.id FOR SHARE;
	IF v_pstatus = 'declined' THEN
		PERFORM _fail('RSCNF', format('participant %s has declined', c.id));
	END IF;
	SELECT * INTO s FROM session WHERE id = s.id FOR NO KEY UPDATE;
	SELECT * INTO n FROM enrolment
	WHERE session_id = s.id AND participant_id = c.id;
	IF FOUND THEN
		RETURN QUERY SELECT n.status, CASE WHEN n.status = 'waitlisted'
		    THEN _wait_position(s.id, n.seq)::text END, '1';
		RETURN;
	END IF;
	SELECT count(*) INTO v_enrolled FROM enrolment
	WHERE session_id = s.id AND status = 'enrolled';
	INSERT INTO enrolment (session_id, participant_id, status)
	VALUES (s.id, c.id, CASE WHEN s.capacity IS NULL OR v_enrolled < s.capacity
	    THEN 'enrolled' ELSE 'waitlisted' END)
	RETURNING * INTO n;
	IF n.status = 'waitlisted' THEN
		v_position := _wait_position(s.id, n.seq);
	END IF;
	PERFORM _changed(e.id, p_actor, 'ENROL', e.code || '/participant/' || c.id,
	    jsonb_build_object('session', s.code, 'status', n.status,
	    'position', v_position),
	    json_build_object('event', e.code, 'kind', 'enrol',
	    'session', s.code, 'id', c.id::text, 'party', c.party, 'name', c.name,
	    'status', n.status, 'position', v_position::text));
	RETURN QUERY SELECT n.status, v_position::text, NULL::text;
END $$;

-- UNENROL session= participant=: NOT_FOUND unless enrolled or waiting. A
-- freed place goes to the first on the waiting list, in this transaction;
-- promoted= names them (not shown to a focal point).
CREATE FUNCTION roster.unenrol(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text, p_participant text)
RETURNS TABLE (session text, participant text, promoted text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
	c participant_ctx;
	v_status text;
	v_promoted bigint[];
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	e := _event(p_event);
	s := _session(e.id, p_session);
	c := _participant(p_actor_role, p_actor_party, e.id, 'participant',
	    p_participant);
	e := _event_open(e.id);
	PERFORM 1 FROM participant p WHERE p.id = c.id FOR SHARE;
	PERFORM 1 FROM session x WHERE x.id = s.id FOR NO KEY UPDATE;
	DELETE FROM enrolment WHERE session_id = s.id AND participant_id = c.id
	RETURNING enrolment.status INTO v_status;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('participant %s is not enrolled in session %s',
		    c.id, s.code));
	END IF;
	IF v_status = 'enrolled' THEN
		SELECT array_agg(x) INTO v_promoted FROM _promote(s.id) x;
	END IF;
	PERFORM _changed(e.id, p_actor, 'UNENROL', e.code || '/participant/' || c.id,
	    jsonb_build_object('session', s.code, 'was', v_status,
	    'promoted', to_jsonb(v_promoted)),
	    json_build_object('event', e.code, 'kind', 'unenrol',
	    'session', s.code, 'id', c.id::text, 'party', c.party, 'name', c.name,
	    'was', v_status));
	RETURN QUERY SELECT s.code::text, c.id::text,
	    CASE WHEN p_actor_role <> 'focal' THEN v_promoted[1]::text END;
END $$;

-- ROSTER session=: the enrolled in arrival order, then the waiting list
-- with positions.
CREATE FUNCTION roster.roster(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_session text)
RETURNS TABLE (participant text, name text, party text, status text,
    "position" text, family text, latin text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	s session;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	e := _event(p_event);
	s := _session(e.id, p_session);
	RETURN QUERY
	SELECT p.id::text, p.name::text, pa.code::text, n.status,
	    CASE WHEN n.status = 'waitlisted' THEN (row_number() OVER (
	        PARTITION BY n.status ORDER BY n.seq))::text END,
	    p.family::text, p.latin::text
	FROM enrolment n
	JOIN participant p ON p.id = n.participant_id
	JOIN delegation d ON d.id = p.delegation_id
	JOIN party pa ON pa.id = d.party_id
	WHERE n.session_id = s.id
	ORDER BY n.status = 'waitlisted', n.seq;
END $$;
