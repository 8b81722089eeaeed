-- event.sql -- EVENT CREATE, LIST, SHOW, SET (daemon/cmd-event.c), and the
-- trigger function that checks an event's time zone.

-- The time zone must be one PostgreSQL knows by name (Area/City or UTC).
-- The trigger is event_timezone_check (migration 001; the function was
-- renamed with a "_" by 010).
CREATE OR REPLACE FUNCTION roster._timezone_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.timezone = OLD.timezone THEN
		RETURN NEW;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.timezone) THEN
		RAISE EXCEPTION 'timezone: unknown time zone' USING ERRCODE = 'RSINV';
	END IF;
	RETURN NEW;
END $$;

-- The event record (one event, or all when p_id is NULL), by starts, code.
-- The statement for one event is apart from the one for all, so that each
-- is planned for its key (no "p_id IS NULL OR ..." under a generic plan).
CREATE FUNCTION roster._event_records(p_id integer)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	IF p_id IS NOT NULL THEN
		RETURN QUERY SELECT e.code::text, e.title::text, e.venue::text,
		    e.city::text, c.code::text, _fmt_date(e.starts),
		    _fmt_date(e.ends), e.timezone, ch.code::text, co.code::text,
		    se.code::text, e.status, e.version::text
		FROM event e
		JOIN party c ON c.id = e.country_id
		LEFT JOIN party ch ON ch.id = e.chair_id
		LEFT JOIN party co ON co.id = e.co_chair_id
		LEFT JOIN party se ON se.id = e.secretariat_id
		WHERE e.id = p_id;
		RETURN;
	END IF;
	RETURN QUERY SELECT e.code::text, e.title::text, e.venue::text,
	    e.city::text, c.code::text, _fmt_date(e.starts), _fmt_date(e.ends),
	    e.timezone, ch.code::text, co.code::text, se.code::text, e.status,
	    e.version::text
	FROM event e
	JOIN party c ON c.id = e.country_id
	LEFT JOIN party ch ON ch.id = e.chair_id
	LEFT JOIN party co ON co.id = e.co_chair_id
	LEFT JOIN party se ON se.id = e.secretariat_id
	ORDER BY e.starts, lower(e.code);
END $$;

-- RSINV unless PostgreSQL knows the time zone.
CREATE FUNCTION roster._timezone(p_value text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_value IS NOT NULL
	    AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_value) THEN
		PERFORM _fail('RSINV', 'timezone: unknown time zone');
	END IF;
	RETURN p_value;
END $$;

-- The id of the country named by country=: RSNFD if unknown, RSINV if the
-- party is an organisation. NULL for NULL.
CREATE FUNCTION roster._country_id(p_code text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v party;
BEGIN
	v := _party('country', p_code);
	IF v.kind <> 'country' THEN
		PERFORM _fail('RSINV', format('country: %s is not a country', v.code));
	END IF;
	RETURN v.id;
END $$;

-- A party's code by id, NULL for NULL.
CREATE FUNCTION roster._party_code(p_id integer) RETURNS text
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT code::text FROM roster.party WHERE id = p_id
$$;

-- EVENT CREATE code= title= city= country= starts= ends= [venue=]
-- [timezone=] [chair=] [co_chair=] [secretariat=]. A new event is a draft.
CREATE FUNCTION roster.event_create(p_actor text, p_actor_role text,
    p_actor_party text, p_code text, p_title text, p_city text,
    p_country text, p_starts text, p_ends text, p_venue text,
    p_timezone text, p_chair text, p_co_chair text, p_secretariat text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	e event;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat');
	PERFORM _need('code', p_code);
	PERFORM _need('title', p_title);
	PERFORM _need('city', p_city);
	PERFORM _need('country', p_country);
	PERFORM _need('starts', p_starts);
	PERFORM _need('ends', p_ends);
	e.code := _code('code', p_code);
	e.title := _name('title', p_title);
	e.city := _name('city', p_city);
	e.venue := _name('venue', nullif(btrim(p_venue), ''));
	e.starts := _date('starts', p_starts);
	e.ends := _date('ends', p_ends);
	IF e.starts > e.ends THEN
		PERFORM _fail('RSINV', 'ends: before starts');
	END IF;
	e.timezone := _timezone(coalesce(p_timezone, 'UTC'));
	e.country_id := _country_id(p_country);
	e.chair_id := _party_id('chair', nullif(p_chair, ''));
	e.co_chair_id := _party_id('co_chair', nullif(p_co_chair, ''));
	e.secretariat_id := _party_id('secretariat', nullif(p_secretariat, ''));

	INSERT INTO event (code, title, venue, city, country_id, starts, ends,
	    timezone, chair_id, co_chair_id, secretariat_id)
	VALUES (e.code, e.title, e.venue, e.city, e.country_id, e.starts, e.ends,
	    e.timezone, e.chair_id, e.co_chair_id, e.secretariat_id)
	ON CONFLICT ((lower(code::text))) DO NOTHING
	RETURNING id, version INTO e.id, e.version;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('event %s exists', e.code));
	END IF;
	PERFORM _changed(e.id, p_actor, 'EVENT CREATE', 'event/' || e.code,
	    (SELECT to_jsonb(r) - 'version' - 'status'
	     FROM _event_records(e.id) r),
	    json_build_object('event', e.code, 'kind', 'event.created',
	    'version', e.version::text));
	RETURN QUERY SELECT e.code::text, e.version::text;
END $$;

-- EVENT LIST: every event, by starts then code. Any role.
CREATE FUNCTION roster.event_list(p_actor text, p_actor_role text,
    p_actor_party text)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	RETURN QUERY SELECT * FROM _event_records(NULL);
END $$;

-- EVENT SHOW event=: the record, when the role is allowed and the event
-- is there, else none; event_show finds its row with it and does not
-- raise here. Like _participant_find (participant.sql), a function without
-- SET (sql/README.md, "Cost"): LANGUAGE sql, STABLE, one SELECT, every
-- function and table named with its schema, so that PostgreSQL inlines it
-- into event_show and event_show into rosterd's prepared statement: no
-- call, no SPI statement, no tuplestore of RETURN QUERY. The event by its
-- key (lower(code)), then each of its parties by id, in LATERAL subqueries
-- that OFFSET 0 keeps apart, each for the one row of the event (party
-- has a few pages: the planner may read them rather than its index). The
-- role is checked in the event's key.
CREATE FUNCTION roster._event_find(p_actor_role text, p_event text)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text, import_key text)
LANGUAGE sql STABLE AS $$
	SELECT e.code::text, e.title::text, e.venue::text, e.city::text,
	    c.code, roster._fmt_date(e.starts), roster._fmt_date(e.ends),
	    e.timezone::text, ch.code, co.code, se.code, e.status::text,
	    e.version::text, pg_catalog.encode(e.import_key, 'hex')
	FROM roster.event e
	CROSS JOIN LATERAL (SELECT c.code::text FROM roster.party c
	    WHERE c.id = e.country_id OFFSET 0) c
	LEFT JOIN LATERAL (SELECT ch.code::text FROM roster.party ch
	    WHERE ch.id = e.chair_id OFFSET 0) ch ON true
	LEFT JOIN LATERAL (SELECT co.code::text FROM roster.party co
	    WHERE co.id = e.co_chair_id OFFSET 0) co ON true
	LEFT JOIN LATERAL (SELECT se.code::text FROM roster.party se
	    WHERE se.id = e.secretariat_id OFFSET 0) se ON true
	WHERE pg_catalog.lower(e.code) = CASE WHEN p_actor_role IN ('admin',
	        'secretariat', 'host', 'focal')
	    THEN pg_catalog.lower(p_event) END
$$;

-- EVENT SHOW, when _event_find found no row: the checks one by one, so
-- that the first that fails raises its error (those of the other
-- commands, in their order). Only event_show calls it, and only then.
CREATE FUNCTION roster._event_show_fail(p_actor_role text, p_event text)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	PERFORM _event(p_event);
	-- not reached: the checks pass for the row the lookup finds, and the
	-- two read the same snapshot
	PERFORM _fail('RSNFD', format('event %s not found', p_event));
	RETURN false;
END $$;

-- EVENT SHOW event=: one record, with the event's import key (hex; migration
-- 012) with which `roster import` keys the refs of its rows. Any role: a
-- focal point imports its participants too, and a ref it makes is scoped
-- to its own party. One row by its key (_event_find); when it finds none,
-- and only then (the WHERE of the outer join's one row), _event_show_fail
-- raises the first error. LANGUAGE sql without SET, as _event_find, for
-- the same reason.
CREATE FUNCTION roster.event_show(p_actor text, p_actor_role text,
    p_actor_party text, p_event text)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text, import_key text)
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM (SELECT) AS one
	LEFT JOIN roster._event_find(p_actor_role, p_event) AS r ON true
	WHERE r.code IS NOT NULL
	    OR roster._event_show_fail(p_actor_role, p_event)
$$;

-- EVENT SET event= [title=] [venue=] [city=] [country=] [starts=] [ends=]
-- [timezone=] [chair=] [co_chair=] [secretariat=] [status=] [version=].
-- NULL leaves a field as it is; "" clears an optional one (venue, chair,
-- co_chair, secretariat). A new time zone keeps the sessions' local times.
CREATE FUNCTION roster.event_set(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_title text, p_venue text,
    p_city text, p_country text, p_starts text, p_ends text,
    p_timezone text, p_chair text, p_co_chair text, p_secretariat text,
    p_status text, p_version text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	o event;
	n event;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat');
	o := _event(p_event);
	SELECT * INTO o FROM event WHERE id = o.id FOR NO KEY UPDATE;
	IF p_version IS NOT NULL AND _int('version', p_version) <> o.version THEN
		PERFORM _fail('RSCNF', format('version is %s', o.version));
	END IF;
	n := o;
	n.title := coalesce(_name('title', p_title), o.title);
	n.city := coalesce(_name('city', p_city), o.city);
	IF p_venue IS NOT NULL THEN
		n.venue := _name('venue', nullif(btrim(p_venue), ''));
	END IF;
	n.country_id := coalesce(_country_id(p_country), o.country_id);
	n.starts := coalesce(_date('starts', p_starts), o.starts);
	n.ends := coalesce(_date('ends', p_ends), o.ends);
	IF n.starts > n.ends THEN
		PERFORM _fail('RSINV', CASE WHEN p_ends IS NOT NULL
		    THEN 'ends: before starts' ELSE 'starts: after ends' END);
	END IF;
	n.timezone := coalesce(_timezone(p_timezone), o.timezone);
	IF p_chair IS NOT NULL THEN
		n.chair_id := _party_id('chair', nullif(p_chair, ''));
	END IF;
	IF p_co_chair IS NOT NULL THEN
		n.co_chair_id := _party_id('co_chair', nullif(p_co_chair, ''));
	END IF;
	IF p_secretariat IS NOT NULL THEN
		n.secretariat_id := _party_id('secretariat', nullif(p_secretariat, ''));
	END IF;
	IF p_status IS NOT NULL THEN
		IF p_status NOT IN ('draft', 'open', 'closed') THEN
			PERFORM _fail('RSINV', 'status: must be draft, open or closed');
		END IF;
		n.status := p_status;
	END IF;

	IF n.title IS DISTINCT FROM o.title THEN
		v_detail := v_detail || jsonb_build_object('title', n.title);
	END IF;
	IF n.venue IS DISTINCT FROM o.venue THEN
		v_detail := v_detail || jsonb_build_object('venue', coalesce(n.venue, ''));
	END IF;
	IF n.city IS DISTINCT FROM o.city THEN
		v_detail := v_detail || jsonb_build_object('city', n.city);
	END IF;
	IF n.country_id IS DISTINCT FROM o.country_id THEN
		v_detail := v_detail || jsonb_build_object('country', coalesce(_party_code(n.country_id), ''));
	END IF;
	IF n.starts IS DISTINCT FROM o.starts THEN
		v_detail := v_detail || jsonb_build_object('starts', _fmt_date(n.starts));
	END IF;
	IF n.ends IS DISTINCT FROM o.ends THEN
		v_detail := v_detail || jsonb_build_object('ends', _fmt_date(n.ends));
	END IF;
	IF n.timezone IS DISTINCT FROM o.timezone THEN
		v_detail := v_detail || jsonb_build_object('timezone', n.timezone);
	END IF;
	IF n.chair_id IS DISTINCT FROM o.chair_id THEN
		v_detail := v_detail || jsonb_build_object('chair', coalesce(_party_code(n.chair_id), ''));
	END IF;
	IF n.co_chair_id IS DISTINCT FROM o.co_chair_id THEN
		v_detail := v_detail || jsonb_build_object('co_chair', coalesce(_party_code(n.co_chair_id), ''));
	END IF;
	IF n.secretariat_id IS DISTINCT FROM o.secretariat_id THEN
		v_detail := v_detail || jsonb_build_object('secretariat', coalesce(_party_code(n.secretariat_id), ''));
	END IF;
	IF n.status IS DISTINCT FROM o.status THEN
		v_detail := v_detail || jsonb_build_object('status', n.status);
	END IF;
	IF v_detail = '{}' THEN
		RETURN QUERY SELECT o.code::text, o.version::text;
		RETURN;
	END IF;

	UPDATE event SET title = n.title, venue = n.venue, city = n.city,
	    country_id = n.country_id, starts = n.starts, ends = n.ends,
	    timezone = n.timezone, chair_id = n.chair_id,
	    co_chair_id = n.co_chair_id, secretariat_id = n.secretariat_id,
	    status = n.status, version = version + 1
	WHERE id = o.id
	RETURNING event.version INTO n.version;
	IF n.timezone <> o.timezone THEN
		-- Sessions were given in local time: keep their wall-clock times.
		UPDATE session
		SET starts = (starts AT TIME ZONE o.timezone) AT TIME ZONE n.timezone,
		    ends = (ends AT TIME ZONE o.timezone) AT TIME ZONE n.timezone,
		    version = version + 1
		WHERE event_id = o.id;
	END IF;
	PERFORM _changed(o.id, p_actor, 'EVENT SET', 'event/' || o.code, v_detail,
	    json_build_object('event', o.code, 'kind', 'event.updated',
	    'status', n.status, 'version', n.version::text));
	RETURN QUERY SELECT o.code::text, n.version::text;
END $$;
