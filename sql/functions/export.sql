-- export.sql -- EXPORT what=... [party=] [session=] [status=]
-- (daemon/cmd-export.c): one function per list, export_<what>, and how the
-- daemon hands a request's parameters to the COPY that runs it.
--
-- COPY (query) TO STDOUT takes no bind parameters. So that no client value
-- is ever spliced into SQL text, the daemon first runs the prepared
-- statement SELECT roster.export_args($1 .. $7) (actor, role, actor party,
-- event, party, session, status), which keeps them in a setting of the
-- session, and then, on the same connection, a constant
--   COPY (SELECT * FROM roster.export_<what>(roster.export_arg(1), ...))
--   TO STDOUT (FORMAT csv, HEADER)
-- The column names are the header. what= and format= are the daemon's
-- (which function, which format), so every export_<what> takes the same
-- parameters: the actor, then p_event, p_party, p_session, p_status. A
-- filter that does not apply to an export is RSINV naming it.
-- Participants exports leave out the declined unless status= asks for
-- them. A cell of free text (a name, title, e-mail address, topic, note)
-- that begins with = + - or @ is written with a ' before it (_cell), so
-- that a spreadsheet opening the file shows it as text instead of running
-- it as a formula. Where a person is named, family and latin (PROTOCOL.md
-- section 5) are the last two columns, so that the older columns keep
-- their place.

-- The parameters of the next export_arg() calls on this connection.
CREATE FUNCTION roster.export_args(VARIADIC p text[]) RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT set_config('roster.export_args', array_to_json(p)::text, false);
$$;

-- The i-th parameter kept by export_args (1: the actor), or NULL.
CREATE FUNCTION roster.export_arg(i int) RETURNS text
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT current_setting('roster.export_args', true)::json ->> (i - 1);
$$;

-- A cell of free text as an export writes it: with a ' before a first
-- character that makes a spreadsheet read a formula (= + - @). Inlined
-- (core.sql, "Cost"): an export calls it for every text cell of every
-- row, and with a SET it was a call each time (a SQL function planned
-- again, the search_path set and restored: a fifth of an export's time).
CREATE FUNCTION roster._cell(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p ~ '^[=+@-]' THEN '''' || p ELSE p END
$$;

-- The checks every export shares; returns the event.
CREATE FUNCTION roster._export_start(p_actor_role text, p_event text,
    p_what text, p_allow_host boolean) RETURNS roster.event
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_allow_host THEN
		PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	ELSE
		PERFORM _need_role(p_actor_role, 'admin', 'secretariat');
	END IF;
	RETURN _event(p_event);
END $$;

CREATE FUNCTION roster._export_unused(p_what text, p_key text, p_value text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_value IS NOT NULL THEN
		PERFORM _fail('RSINV', format('%s: not used by what=%s', p_key, p_what));
	END IF;
END $$;

CREATE FUNCTION roster._export_pstatus(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_value NOT IN ('registered', 'confirmed', 'declined') THEN
		PERFORM _fail('RSINV', 'status: must be registered, confirmed or declined');
	END IF;
	RETURN p_value;
END $$;

-- The people of an export of participants or attendance, in the order a
-- secretariat publishes them: grouped by delegation (countries, then
-- organisations, by name in the Unicode collation), the head first, then
-- by family name (the whole name when none is given), then by name. Declined people only when status= asks for them. session= keeps
-- those enrolled in (or waiting for) the session, and for attendance also
-- those checked in to it. Checks the request first (role: host may export
-- attendance; event, party, session, status), so that a refused export
-- fails before its first row.
CREATE FUNCTION roster._export_people(p_actor_role text, p_event text,
    p_what text, p_party text, p_session text, p_status text)
RETURNS TABLE (person roster.participant, party_code text, party_name text,
    party_kind text, session_id integer)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	e event;
	v_party_id integer;
	v_sid integer;
	v_attendance boolean := p_what = 'attendance';
BEGIN
	e := _export_start(p_actor_role, p_event, p_what, v_attendance);
	v_party_id := _party_id('party', p_party);
	IF p_session IS NOT NULL THEN
		v_sid := (_session(e.id, p_session)).id;
	END IF;
	PERFORM _export_pstatus(p_status);
	-- EXECUTE: planned for this export's values ($2 party, $3 session,
	-- $4 status, $5 attendance), so that the filters left out vanish from
	-- the plan (no "$2 IS NULL OR ..." under a generic plan); the text is
	-- constant, the values are parameters.
	RETURN QUERY EXECUTE $q$
	SELECT p, pa.code::text, pa.name::text, pa.kind, $3
	FROM roster.participant p
	JOIN roster.delegation d ON d.id = p.delegation_id
	JOIN roster.party pa ON pa.id = d.party_id
	WHERE d.event_id = $1
	    AND ($2 IS NULL OR d.party_id = $2)
	    AND (p.status = $4 OR ($4 IS NULL AND p.status <> 'declined'))
	    AND ($3 IS NULL
	        OR EXISTS (SELECT 1 FROM roster.enrolment n
	            WHERE n.session_id = $3 AND n.participant_id = p.id)
	        OR ($5 AND EXISTS (SELECT 1 FROM roster.checkin k
	            WHERE k.session_id = $3 AND k.participant_id = p.id)))
	ORDER BY pa.kind <> 'country', pa.name COLLATE roster.names, pa.code,
	    p.role <> 'head', coalesce(p.family, p.name) COLLATE roster.names,
	    p.name COLLATE roster.names, p.id
	$q$ USING e.id, v_party_id, v_sid, p_status, v_attendance;
END $$;

-- what=participants: the list of participants (see _export_people).
CREATE FUNCTION roster.export_participants(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (party text, delegation text, kind text, id text,
    honorific text, name text, title text, email text, role text,
    status text, badge text, family text, latin text)
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT x.party_code, _cell(x.party_name), x.party_kind,
	    (x.person).id::text, _cell((x.person).honorific),
	    _cell((x.person).name), _cell((x.person).title),
	    _cell((x.person).email), (x.person).role, (x.person).status,
	    (x.person).badge::text, _cell((x.person).family),
	    _cell((x.person).latin)
	FROM _export_people(p_actor_role, p_event, 'participants', p_party,
	    p_session, p_status) WITH ORDINALITY x
	ORDER BY x.ordinality
$$;

-- what=attendance (host too): the participants as above, with checked_in
-- (first check-in) and sessions (each session they were checked in to,
-- by the session's time, as "CODE TIMESTAMP", separated by "; "), the
-- times in the event's time zone with its offset.
-- session= keeps those enrolled in or checked in to the session, and
-- session_checked_in is their check-in time there.
CREATE FUNCTION roster.export_attendance(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (party text, delegation text, kind text, id text,
    honorific text, name text, title text, role text, status text,
    badge text, checked_in text, sessions text, session_checked_in text,
    family text, latin text)
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT x.party_code, _cell(x.party_name), x.party_kind,
	    (x.person).id::text, _cell((x.person).honorific),
	    _cell((x.person).name), _cell((x.person).title),
	    (x.person).role::text, (x.person).status::text, (x.person).badge::text,
	    _fmt_local((x.person).checked_in, z.tz),
	    (SELECT string_agg(s.code || ' ' || _fmt_local(k.at, z.tz), '; '
	         ORDER BY s.starts, lower(s.code))
	     FROM checkin k JOIN session s ON s.id = k.session_id
	     WHERE k.participant_id = (x.person).id),
	    (SELECT _fmt_local(k.at, z.tz) FROM checkin k
	     WHERE k.participant_id = (x.person).id
		AND k.session_id = x.session_id),
	    _cell((x.person).family), _cell((x.person).latin)
	FROM _export_people(p_actor_role, p_event, 'attendance', p_party,
	    p_session, p_status) WITH ORDINALITY x,
	    (SELECT (_event(p_event)).timezone AS tz) z
	ORDER BY x.ordinality
$$;

-- what=delegations: countries, then organisations, by name.
CREATE FUNCTION roster.export_delegations(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (party text, name text, kind text, status text, quota text,
    size text, confirmed text, checked_in text, note text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_party_id integer;
BEGIN
	e := _export_start(p_actor_role, p_event, 'delegations', false);
	v_party_id := _party_id('party', p_party);
	PERFORM _export_unused('delegations', 'session', p_session);
	PERFORM _export_pstatus(p_status);
	-- EXECUTE: planned for the values given (see _export_people)
	RETURN QUERY EXECUTE $q$
	SELECT pa.code::text, roster._cell(pa.name), pa.kind, d.status,
	    d.quota::text,
	    (SELECT count(*) FROM roster.participant p
	     WHERE p.delegation_id = d.id AND p.status <> 'declined')::text,
	    (SELECT count(*) FROM roster.participant p
	     WHERE p.delegation_id = d.id AND p.status = 'confirmed')::text,
	    (SELECT count(*) FROM roster.participant p
	     WHERE p.delegation_id = d.id AND p.checked_in IS NOT NULL)::text,
	    roster._cell(d.note)
	FROM roster.delegation d JOIN roster.party pa ON pa.id = d.party_id
	WHERE d.event_id = $1
	    AND ($2 IS NULL OR d.party_id = $2)
	    AND ($3 IS NULL OR d.status = $3)
	ORDER BY pa.kind <> 'country', pa.name COLLATE roster.names, pa.code
	$q$ USING e.id, v_party_id, p_status;
END $$;

-- what=speakers: by session time, then position.
CREATE FUNCTION roster.export_speakers(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (session text, session_title text, starts text, ends text,
    "position" text, role text, participant text, honorific text, name text,
    title text, party text, delegation text, topic text, family text,
    latin text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_party_id integer;
	v_sid integer;
BEGIN
	e := _export_start(p_actor_role, p_event, 'speakers', false);
	v_party_id := _party_id('party', p_party);
	IF p_session IS NOT NULL THEN
		v_sid := (_session(e.id, p_session)).id;
	END IF;
	PERFORM _export_unused('speakers', 'status', p_status);
	-- EXECUTE: planned for the values given (see _export_people)
	RETURN QUERY EXECUTE $q$
	SELECT s.code::text, roster._cell(s.title),
	    roster._fmt_time(s.starts, $4), roster._fmt_time(s.ends, $4),
	    k.position::text, k.role, p.id::text, roster._cell(p.honorific),
	    roster._cell(p.name), roster._cell(p.title), pa.code::text,
	    roster._cell(pa.name), roster._cell(k.topic), roster._cell(p.family),
	    roster._cell(p.latin)
	FROM roster.speaker k
	JOIN roster.session s ON s.id = k.session_id
	JOIN roster.participant p ON p.id = k.participant_id
	JOIN roster.delegation d ON d.id = p.delegation_id
	JOIN roster.party pa ON pa.id = d.party_id
	WHERE s.event_id = $1
	    AND ($2 IS NULL OR s.id = $2)
	    AND ($3 IS NULL OR d.party_id = $3)
	ORDER BY s.starts, lower(s.code), k.position, k.id
	$q$ USING e.id, v_sid, v_party_id, e.timezone;
END $$;

-- what=sessions: by time; with the numbers enrolled, waiting and checked in.
CREATE FUNCTION roster.export_sessions(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (code text, kind text, title text, starts text, ends text,
    room text, capacity text, theme text, enrolled text, waitlisted text,
    checked_in text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_sid integer;
BEGIN
	e := _export_start(p_actor_role, p_event, 'sessions', false);
	PERFORM _export_unused('sessions', 'party', p_party);
	PERFORM _export_unused('sessions', 'status', p_status);
	IF p_session IS NOT NULL THEN
		v_sid := (_session(e.id, p_session)).id;
	END IF;
	RETURN QUERY
	SELECT r.code, r.kind, _cell(r.title), r.starts, r.ends, _cell(r.room),
	    r.capacity, _cell(r.theme), r.enrolled, r.waitlisted,
	    (SELECT count(*) FROM checkin k JOIN session s ON s.id = k.session_id
	     WHERE s.event_id = e.id AND lower(s.code) = lower(r.code))::text
	FROM _session_records(e.id, v_sid, NULL) r;
END $$;

-- what=enrolments: by session time; in each session the enrolled in
-- arrival order, then the waiting list. status= is enrolled or waitlisted.
CREATE FUNCTION roster.export_enrolments(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_session text,
    p_status text)
RETURNS TABLE (session text, participant text, name text, party text,
    delegation text, status text, "position" text, enrolled_at text,
    family text, latin text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
	v_party_id integer;
	v_sid integer;
BEGIN
	e := _export_start(p_actor_role, p_event, 'enrolments', false);
	v_party_id := _party_id('party', p_party);
	IF p_session IS NOT NULL THEN
		v_sid := (_session(e.id, p_session)).id;
	END IF;
	IF p_status NOT IN ('enrolled', 'waitlisted') THEN
		PERFORM _fail('RSINV', 'status: must be enrolled or waitlisted');
	END IF;
	-- EXECUTE: planned for the values given (see _export_people)
	RETURN QUERY EXECUTE $q$
	SELECT x.code, x.pid, roster._cell(x.pname), x.pcode,
	    roster._cell(x.dname), x.status, x.position, x.created,
	    roster._cell(x.family), roster._cell(x.latin)
	FROM (SELECT s.code::text AS code, p.id::text AS pid,
	        p.name::text AS pname, p.family::text AS family,
	        p.latin::text AS latin, pa.code::text AS pcode,
	        pa.name::text AS dname, n.status,
	        CASE WHEN n.status = 'waitlisted' THEN (row_number() OVER (
	            PARTITION BY n.session_id, n.status ORDER BY n.seq))::text
	        END AS position,
	        roster._fmt_ts(n.created_at) AS created, d.party_id, s.starts,
	        n.seq
	      FROM roster.enrolment n
	      JOIN roster.session s ON s.id = n.session_id
	      JOIN roster.participant p ON p.id = n.participant_id
	      JOIN roster.delegation d ON d.id = p.delegation_id
	      JOIN roster.party pa ON pa.id = d.party_id
	      WHERE s.event_id = $1 AND ($2 IS NULL OR s.id = $2)) x
	WHERE ($3 IS NULL OR x.party_id = $3)
	    AND ($4 IS NULL OR x.status = $4)
	ORDER BY x.starts, lower(x.code), x.status = 'waitlisted', x.seq
	$q$ USING e.id, v_sid, v_party_id, p_status;
END $$;
