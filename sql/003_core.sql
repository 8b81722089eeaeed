-- 003_core.sql -- helpers, and the functions of the foundation's commands:
-- users (PROTOCOL.md section 4), events and parties (section 5).
--
-- Conventions (sql/README.md): one function per command, called as
-- `SELECT * FROM roster.<family>_<verb>(...)`; the acting user first
-- (p_actor, p_role, p_actor_party), then the command's keys, all text, NULL
-- when a key was not given; TABLE(...) of text columns formatted for the wire;
-- errors raised with the RS* SQLSTATEs; a write inserts its audit row itself.
-- Every function repeats the role check of the daemon's command table.
--
-- Helpers are named roster._*; they are not commands.

-- ---------------------------------------------------------------- helpers

-- Raise one of the protocol's errors (sql/README.md).
CREATE FUNCTION roster._fail(p_state text, p_message text) RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = p_state, MESSAGE = p_message;
END $$;

-- RSFRB unless the role is one of those allowed.
CREATE FUNCTION roster._need_role(p_role text, VARIADIC p_allowed text[])
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_role IS NULL OR NOT p_role = ANY (p_allowed) THEN
		RAISE EXCEPTION USING ERRCODE = 'RSFRB',
		    MESSAGE = format('not allowed for role=%s', coalesce(p_role, '-'));
	END IF;
END $$;

-- RSSYN when a required key is missing (the daemon checks first).
CREATE FUNCTION roster._need(p_key text, p_value text) RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'RSSYN',
		    MESSAGE = format('%s= is required', p_key);
	END IF;
END $$;

-- A code (event, party, session, user name): checked, returned as given.
CREATE FUNCTION roster._code(p_key text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: must be 1-32 of A-Z a-z 0-9 _ . - starting with a letter or digit', p_key);
	END IF;
	RETURN p_value;
END $$;

-- A name or title: trimmed, NFC, 1-200 characters. NULL stays NULL.
CREATE FUNCTION roster._name(p_key text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v text;
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	v := normalize(btrim(p_value), NFC);
	IF char_length(v) NOT BETWEEN 1 AND 200 OR v ~ '[\x01-\x1f\x7f]' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: must be 1-200 characters', p_key);
	END IF;
	RETURN v;
END $$;

-- Free text (note, reason, topic): NFC, at most p_max characters; '' is NULL.
CREATE FUNCTION roster._text(p_key text, p_value text, p_max integer DEFAULT 4000)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v text;
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	v := normalize(btrim(p_value, E' \t\n\r'), NFC);
	IF char_length(v) > p_max THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: at most %s characters', p_key, p_max);
	END IF;
	RETURN nullif(v, '');
END $$;

-- A decimal number p_min..p_max.
CREATE FUNCTION roster._int(p_key text, p_value text, p_min integer DEFAULT 0,
    p_max integer DEFAULT 2147483647) RETURNS integer
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v bigint;
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^[0-9]{1,10}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: must be a number', p_key);
	END IF;
	v := p_value::bigint;
	IF v < p_min OR v > p_max THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = format('%s: must be %s to %s', p_key, p_min, p_max);
	END IF;
	RETURN v;
END $$;

-- A date YYYY-MM-DD.
CREATE FUNCTION roster._date(p_key text, p_value text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		BEGIN
			RETURN p_value::date;
		EXCEPTION WHEN data_exception THEN
			NULL;
		END;
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'RSINV',
	    MESSAGE = format('%s: must be a date YYYY-MM-DD', p_key);
END $$;

-- A time YYYY-MM-DDTHH:MM in the time zone p_tz.
CREATE FUNCTION roster._local_time(p_key text, p_value text, p_tz text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$' THEN
		BEGIN
			RETURN p_value::timestamp AT TIME ZONE p_tz;
		EXCEPTION WHEN data_exception THEN
			NULL;
		END;
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'RSINV',
	    MESSAGE = format('%s: must be a time YYYY-MM-DDTHH:MM', p_key);
END $$;

-- A timestamp YYYY-MM-DDTHH:MM[:SS][Z], always UTC.
CREATE FUNCTION roster._timestamp(p_key text, p_value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?$' THEN
		BEGIN
			RETURN rtrim(p_value, 'Z')::timestamp AT TIME ZONE 'UTC';
		EXCEPTION WHEN data_exception THEN
			NULL;
		END;
	END IF;
	RAISE EXCEPTION USING ERRCODE = 'RSINV',
	    MESSAGE = format('%s: must be a timestamp YYYY-MM-DDTHH:MM:SSZ', p_key);
END $$;

-- Wire formats (sql/README.md).
CREATE FUNCTION roster.fmt_date(p date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(p, 'YYYY-MM-DD')
$$;

CREATE FUNCTION roster.fmt_ts(p timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- 2025-11-26T10:00+03:00: the local time in p_tz and its offset.
CREATE FUNCTION roster.fmt_time(p timestamptz, p_tz text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(l, 'YYYY-MM-DD"T"HH24:MI')
	    || CASE WHEN o < 0 THEN '-' ELSE '+' END
	    || lpad((abs(o) / 3600)::text, 2, '0') || ':'
	    || lpad((abs(o) % 3600 / 60)::text, 2, '0')
	FROM (SELECT p AT TIME ZONE p_tz AS l,
	    extract(epoch FROM (p AT TIME ZONE p_tz) - (p AT TIME ZONE 'UTC'))::integer AS o) t
	WHERE p IS NOT NULL
$$;

CREATE FUNCTION roster.fmt_bool(p boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p THEN 'yes' WHEN NOT p THEN 'no' END
$$;

-- jsonb as compact text: {"a":1,"b":"x"} (jsonb's own text has spaces).
CREATE FUNCTION roster.json_compact(p jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE jsonb_typeof(p)
	WHEN 'object' THEN '{' || coalesce((SELECT string_agg(to_jsonb(k)::text
	    || ':' || roster.json_compact(v), ',' ORDER BY k)
	    FROM jsonb_each(p) AS e(k, v)), '') || '}'
	WHEN 'array' THEN '[' || coalesce((SELECT string_agg(roster.json_compact(v),
	    ',' ORDER BY n) FROM jsonb_array_elements(p) WITH ORDINALITY AS a(v, n)),
	    '') || ']'
	ELSE p::text
	END
$$;

-- The event by code, or RSNFD.
CREATE FUNCTION roster._event(p_event text) RETURNS roster.event
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v event;
BEGIN
	PERFORM _need('event', p_event);
	SELECT * INTO v FROM event WHERE lower(code) = lower(p_event);
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'RSNFD',
		    MESSAGE = format('event %s not found', p_event);
	END IF;
	RETURN v;
END $$;

-- The party by code, or RSNFD naming the key. NULL stays NULL.
CREATE FUNCTION roster._party(p_key text, p_code text) RETURNS roster.party
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
DECLARE
	v party;
BEGIN
	IF p_code IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO v FROM party WHERE lower(code) = lower(p_code);
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'RSNFD',
		    MESSAGE = format('%s: party %s not found', p_key, p_code);
	END IF;
	RETURN v;
END $$;

-- The party id for a code, or RSNFD naming the key; NULL for NULL.
CREATE FUNCTION roster._party_id(p_key text, p_code text) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT (roster._party(p_key, p_code)).id
$$;

-- The id of the country named by country=: RSNFD if unknown, RSINV if the
-- party is an organisation. NULL for NULL.
CREATE FUNCTION roster._country_id(p_code text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
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
LANGUAGE sql STABLE AS $$
	SELECT code::text FROM roster.party WHERE id = p_id
$$;

CREATE FUNCTION roster._audit(p_event_id integer, p_actor text, p_command text,
    p_target text, p_detail jsonb) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO roster.audit (event_id, username, command, target, detail)
	VALUES (p_event_id, coalesce(p_actor, '-'), p_command, p_target,
	    jsonb_strip_nulls(p_detail))
$$;

-- The NOTIFY of a change (PROTOCOL.md section 8); delivered at commit.
CREATE FUNCTION roster._notify(p_payload json) RETURNS void
LANGUAGE sql AS $$
	SELECT pg_notify('roster', json_strip_nulls(p_payload)::text)
$$;

-- ------------------------------------------------------------------ users

-- The login record of a user (name case-insensitive); no row if unknown.
CREATE FUNCTION roster.user_auth(p_name text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, u.hash, fmt_bool(u.enabled)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	WHERE lower(u.name) = lower(p_name);
END $$;

-- USER ADD name= role= password= [party=]; p_hash is the password's hash.
CREATE FUNCTION roster.user_add(p_actor text, p_role text, p_actor_party text,
    p_name text, p_new_role text, p_party text, p_hash text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_party party;
	v_name text;
BEGIN
	PERFORM _need_role(p_role, 'admin');
	PERFORM _need('name', p_name);
	PERFORM _need('role', p_new_role);
	PERFORM _need('password', p_hash);
	v_name := _code('name', p_name);
	IF p_new_role NOT IN ('admin', 'secretariat', 'host', 'focal') THEN
		PERFORM _fail('RSINV', 'role: must be admin, secretariat, host or focal');
	END IF;
	IF p_new_role = 'focal' AND p_party IS NULL THEN
		PERFORM _fail('RSINV', 'party: role=focal needs party=');
	ELSIF p_new_role <> 'focal' AND p_party IS NOT NULL THEN
		PERFORM _fail('RSINV', 'party: party is only for role=focal');
	END IF;
	v_party := _party('party', p_party);
	IF p_hash = '' THEN
		PERFORM _fail('RSINV', 'password: empty');
	END IF;
	INSERT INTO app_user (name, role, party_id, hash)
	VALUES (v_name, p_new_role, v_party.id, p_hash)
	ON CONFLICT ((lower(name::text))) DO NOTHING;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('user %s exists', v_name));
	END IF;
	PERFORM _audit(NULL, p_actor, 'USER ADD', 'user/' || v_name,
	    jsonb_build_object('name', v_name, 'role', p_new_role,
	    'party', v_party.code));
	RETURN QUERY SELECT v_name;
END $$;

-- USER LIST: every user, by name.
CREATE FUNCTION roster.user_list(p_actor text, p_role text, p_actor_party text)
RETURNS TABLE (name text, role text, party text, enabled text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
BEGIN
	PERFORM _need_role(p_role, 'admin');
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, fmt_bool(u.enabled)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	ORDER BY lower(u.name), u.id;
END $$;

-- USER SET name= [password=] [role=] [party=] [enabled=yes/no]. NULL leaves
-- a field as it is; party= "" clears it. Only a focal point has a party.
-- The last enabled admin cannot be demoted or disabled.
CREATE FUNCTION roster.user_set(p_actor text, p_role text, p_actor_party text,
    p_name text, p_hash text, p_new_role text, p_party text, p_enabled text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	u app_user;
	v_role text;
	v_party_id integer;
	v_enabled boolean;
	v_party_code text;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_role, 'admin');
	PERFORM _need('name', p_name);
	SELECT * INTO u FROM app_user WHERE lower(name) = lower(p_name) FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('user %s not found', p_name));
	END IF;
	v_role := coalesce(p_new_role, u.role);
	IF v_role NOT IN ('admin', 'secretariat', 'host', 'focal') THEN
		PERFORM _fail('RSINV', 'role: must be admin, secretariat, host or focal');
	END IF;
	IF v_role = 'focal' THEN
		IF p_party IS NULL THEN
			v_party_id := u.party_id;
		ELSIF p_party <> '' THEN
			v_party_id := _party_id('party', p_party);
		END IF;
		IF v_party_id IS NULL THEN
			PERFORM _fail('RSINV', 'party: role=focal needs party=');
		END IF;
	ELSE
		IF coalesce(p_party, '') <> '' THEN
			PERFORM _fail('RSINV', 'party: party is only for role=focal');
		END IF;
		v_party_id := NULL;
	END IF;
	IF p_enabled IS NULL THEN
		v_enabled := u.enabled;
	ELSIF p_enabled IN ('yes', 'no') THEN
		v_enabled := p_enabled = 'yes';
	ELSE
		PERFORM _fail('RSINV', 'enabled: must be yes or no');
	END IF;
	IF p_hash = '' THEN
		PERFORM _fail('RSINV', 'password: empty');
	END IF;

	IF u.role = 'admin' AND u.enabled AND (v_role <> 'admin' OR NOT v_enabled) THEN
		-- Serialise changes to admins so that two admins cannot disable
		-- each other at the same time.
		PERFORM pg_advisory_xact_lock(hashtext('roster.app_user.admin'));
		IF NOT EXISTS (SELECT 1 FROM app_user WHERE role = 'admin' AND enabled
		    AND id <> u.id) THEN
			PERFORM _fail('RSCNF', 'cannot demote or disable the last enabled admin');
		END IF;
	END IF;

	IF v_role IS DISTINCT FROM u.role THEN
		v_detail := v_detail || jsonb_build_object('role', v_role);
	END IF;
	IF v_party_id IS DISTINCT FROM u.party_id THEN
		SELECT code INTO v_party_code FROM party WHERE id = v_party_id;
		v_detail := v_detail || jsonb_build_object('party', coalesce(v_party_code, ''));
	END IF;
	IF v_enabled IS DISTINCT FROM u.enabled THEN
		v_detail := v_detail || jsonb_build_object('enabled', fmt_bool(v_enabled));
	END IF;
	IF p_hash IS NOT NULL THEN
		v_detail := v_detail || jsonb_build_object('password_changed', true);
	END IF;
	IF v_detail <> '{}' THEN
		UPDATE app_user SET role = v_role, party_id = v_party_id,
		    enabled = v_enabled, hash = coalesce(p_hash, hash),
		    version = version + 1
		WHERE id = u.id;
		PERFORM _audit(NULL, p_actor, 'USER SET', 'user/' || u.name, v_detail);
	END IF;
	RETURN QUERY SELECT u.name::text;
END $$;

-- PASSWORD old= new=: the daemon has checked old= and hashed new=.
CREATE FUNCTION roster.user_password(p_actor text, p_role text,
    p_actor_party text, p_hash text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_name text;
BEGIN
	PERFORM _need('new', p_hash);
	IF p_hash = '' THEN
		PERFORM _fail('RSINV', 'new: empty');
	END IF;
	UPDATE app_user SET hash = p_hash, version = version + 1
	WHERE lower(name) = lower(p_actor)
	RETURNING app_user.name INTO v_name;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', 'user not found');
	END IF;
	PERFORM _audit(NULL, p_actor, 'PASSWORD', 'user/' || v_name,
	    jsonb_build_object('password_changed', true));
	RETURN QUERY SELECT v_name;
END $$;

-- ----------------------------------------------------------------- events

-- The event record (one event, or all when p_id is NULL), by starts, code.
CREATE FUNCTION roster._event_records(p_id integer)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text)
LANGUAGE sql STABLE AS $$
	SELECT e.code, e.title, e.venue, e.city, c.code, roster.fmt_date(e.starts),
	    roster.fmt_date(e.ends), e.timezone, ch.code, co.code, se.code, e.status,
	    e.version::text
	FROM roster.event e
	JOIN roster.party c ON c.id = e.country_id
	LEFT JOIN roster.party ch ON ch.id = e.chair_id
	LEFT JOIN roster.party co ON co.id = e.co_chair_id
	LEFT JOIN roster.party se ON se.id = e.secretariat_id
	WHERE p_id IS NULL OR e.id = p_id
	ORDER BY e.starts, lower(e.code)
$$;

-- RSINV unless PostgreSQL knows the time zone.
CREATE FUNCTION roster._timezone(p_value text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	IF p_value IS NOT NULL
	    AND NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_value) THEN
		PERFORM _fail('RSINV', 'timezone: unknown time zone');
	END IF;
	RETURN p_value;
END $$;

-- EVENT CREATE code= title= city= country= starts= ends= [venue=]
-- [timezone=] [chair=] [co_chair=] [secretariat=]. A new event is a draft.
CREATE FUNCTION roster.event_create(p_actor text, p_role text,
    p_actor_party text, p_code text, p_title text, p_city text,
    p_country text, p_starts text, p_ends text, p_venue text,
    p_timezone text, p_chair text, p_co_chair text, p_secretariat text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	e event;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat');
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
	PERFORM _audit(e.id, p_actor, 'EVENT CREATE', 'event/' || e.code,
	    (SELECT to_jsonb(r) - 'version' - 'status'
	     FROM _event_records(e.id) r));
	PERFORM _notify(json_build_object('event', e.code, 'kind', 'event.created',
	    'version', e.version::text));
	RETURN QUERY SELECT e.code::text, e.version::text;
END $$;

-- EVENT LIST: every event, by starts then code. Any role.
CREATE FUNCTION roster.event_list(p_actor text, p_role text, p_actor_party text)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	RETURN QUERY SELECT * FROM _event_records(NULL);
END $$;

-- EVENT SHOW event=: one record. Any role.
CREATE FUNCTION roster.event_show(p_actor text, p_role text,
    p_actor_party text, p_event text)
RETURNS TABLE (code text, title text, venue text, city text, country text,
    starts text, ends text, timezone text, chair text, co_chair text,
    secretariat text, status text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	RETURN QUERY SELECT * FROM _event_records((_event(p_event)).id);
END $$;

-- EVENT SET event= [title=] [venue=] [city=] [country=] [starts=] [ends=]
-- [timezone=] [chair=] [co_chair=] [secretariat=] [status=] [version=].
-- NULL leaves a field as it is; "" clears an optional one (venue, chair,
-- co_chair, secretariat). A new time zone keeps the sessions' local times.
CREATE FUNCTION roster.event_set(p_actor text, p_role text, p_actor_party text,
    p_event text, p_title text, p_venue text, p_city text, p_country text,
    p_starts text, p_ends text, p_timezone text, p_chair text,
    p_co_chair text, p_secretariat text, p_status text, p_version text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	o event;
	n event;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat');
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
		v_detail := v_detail || jsonb_build_object('starts', fmt_date(n.starts));
	END IF;
	IF n.ends IS DISTINCT FROM o.ends THEN
		v_detail := v_detail || jsonb_build_object('ends', fmt_date(n.ends));
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
	PERFORM _audit(o.id, p_actor, 'EVENT SET', 'event/' || o.code, v_detail);
	PERFORM _notify(json_build_object('event', o.code, 'kind', 'event.updated',
	    'status', n.status, 'version', n.version::text));
	RETURN QUERY SELECT o.code::text, n.version::text;
END $$;

-- ---------------------------------------------------------------- parties

-- PARTY ADD code= kind=country/organisation name=.
CREATE FUNCTION roster.party_add(p_actor text, p_role text, p_actor_party text,
    p_code text, p_kind text, p_name text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_code text;
	v_name text;
	v_version integer;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host');
	PERFORM _need('code', p_code);
	PERFORM _need('kind', p_kind);
	PERFORM _need('name', p_name);
	v_code := _code('code', p_code);
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	IF p_kind = 'country' AND v_code !~ '^[A-Z]{2}$' THEN
		PERFORM _fail('RSINV', 'code: a country needs its ISO 3166-1 alpha-2 code in upper case');
	END IF;
	v_name := _name('name', p_name);
	INSERT INTO party (code, kind, name) VALUES (v_code, p_kind, v_name)
	ON CONFLICT ((lower(code::text))) DO NOTHING
	RETURNING party.version INTO v_version;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('party %s exists', v_code));
	END IF;
	PERFORM _audit(NULL, p_actor, 'PARTY ADD', 'party/' || v_code,
	    jsonb_build_object('code', v_code, 'kind', p_kind, 'name', v_name));
	RETURN QUERY SELECT v_code, v_version::text;
END $$;

-- PARTY LIST [kind=]: countries first, then organisations, by name.
CREATE FUNCTION roster.party_list(p_actor text, p_role text,
    p_actor_party text, p_kind text)
RETURNS TABLE (code text, kind text, name text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	RETURN QUERY
	SELECT p.code::text, p.kind, p.name::text, p.version::text
	FROM party p
	WHERE p_kind IS NULL OR p.kind = p_kind
	ORDER BY p.kind <> 'country', p.name COLLATE roster.names, p.code;
END $$;

-- PARTY SHOW party=.
CREATE FUNCTION roster.party_show(p_actor text, p_role text,
    p_actor_party text, p_party text)
RETURNS TABLE (code text, kind text, name text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog AS $$
#variable_conflict use_column
DECLARE
	p party;
BEGIN
	PERFORM _need_role(p_role, 'admin', 'secretariat', 'host', 'focal');
	PERFORM _need('party', p_party);
	p := _party('party', p_party);
	RETURN QUERY SELECT p.code::text, p.kind, p.name::text, p.version::text;
END $$;
