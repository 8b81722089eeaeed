-- core.sql -- the helpers that every family of functions uses: errors and
-- role checks, the checking of values, the wire formats, the lookups of an
-- event, a party, a participant and a session, idempotent refs, the moves
-- of the waiting lists, and the tail of every change (its audit row and its
-- notification).
--
-- Loaded first by `rosterd --migrate` (sql/README.md says how, and the
-- conventions: names, the actor's parameters, errors). Helpers start with
-- "_"; the daemon calls none of them.
--
-- Concurrency. Rows are locked in one order so that commands cannot
-- deadlock: event (FOR SHARE: a registration write holds the event open
-- until it commits) -> request_ref -> delegation -> participant -> sessions
-- (by id). Quota: the delegation row is locked while counting (a
-- PARTICIPANT ADD into a delegation with no quota, not of its head, only
-- shares the lock, see participant_add). Capacity and
-- the waiting list: the session row is locked while counting and promoting.

-- Cost. Every command's function but one is PL/pgSQL (its plans are cached
-- for the session) and carries SET search_path = roster, pg_catalog,
-- pg_temp. The helpers that are one expression are LANGUAGE sql functions
-- without a SET (marked "Inlined."): PostgreSQL then inlines them into the
-- statement that calls them (no call at all; a SET would prevent that,
-- and a SQL function that is not inlined is parsed and planned again at
-- each run of the statement that calls it). That is safe: no function of
-- schema roster is SECURITY DEFINER, so a helper runs with its caller's
-- rights whatever it finds; the daemon never calls a helper, and the
-- functions it calls have the SET, which is in force while the helper is
-- inlined into their statements; and the helpers name every function and
-- table with its schema (roster., pg_catalog.), so that they find the
-- same ones from a session with any search_path (test_privacy.py checks
-- both: the SET of every other function, and the schema of every name in
-- these). The one command's function without a SET, participant_show
-- (participant.sql), is inlined the same way into the daemon's own
-- prepared statement: the hottest read then costs no call, no SPI
-- statement and no tuplestore. No SET of a caller is in force there, so
-- the other reasons must hold alone: no SECURITY DEFINER, every function
-- and table named with its schema, and its checks, which need the SET, in
-- a PL/pgSQL helper that has it (test_privacy.py checks that it is
-- inlined).

-- ------------------------------------------------------- errors and roles

-- Raise one of the protocol's errors (sql/README.md).
CREATE FUNCTION roster._fail(p_state text, p_message text) RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = p_state, MESSAGE = p_message;
END $$;

-- RSFRB unless the role is one of those allowed; NULL otherwise. Inlined:
-- declared to return void, these two were not (EXPLAIN VERBOSE showed the
-- call, and PostgreSQL parsed and planned the body at every call), so
-- they return text, always NULL (test_privacy checks every helper).
CREATE FUNCTION roster._need_role(p_actor_role text, VARIADIC p_allowed text[])
RETURNS text
LANGUAGE sql AS $$
	SELECT CASE WHEN p_actor_role IS NULL OR NOT p_actor_role = ANY (p_allowed)
	    THEN roster._fail('RSFRB', pg_catalog.format('not allowed for role=%s',
	        coalesce(p_actor_role, '-')))::text END
$$;

-- RSSYN when a required key is missing (the daemon checks first). Inlined.
CREATE FUNCTION roster._need(p_key text, p_value text) RETURNS text
LANGUAGE sql AS $$
	SELECT CASE WHEN p_value IS NULL
	    THEN roster._fail('RSSYN', pg_catalog.format('%s= is required',
	        p_key))::text END
$$;

-- ---------------------------------------------------------------- values

-- A code (event, party, session, user name): checked, returned as given.
CREATE FUNCTION roster._code(p_key text, p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- Whether a name or title passes _name's check (NULL for NULL), for a
-- statement that takes only the values that pass (participant_add_many).
-- Inlined.
CREATE FUNCTION roster._name_ok(p_value text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT pg_catalog.char_length(pg_catalog.normalize(
	        pg_catalog.btrim(p_value), 'NFC')) BETWEEN 1 AND 200
	    AND pg_catalog.normalize(pg_catalog.btrim(p_value), 'NFC')
	        !~ '[\x01-\x1f\x7f]'
$$;

-- The same check of a value already trimmed and normalised (NFC), for a
-- statement that normalises each value once (participant_add_many).
-- Inlined.
CREATE FUNCTION roster._nfc_name_ok(p_value text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT pg_catalog.char_length(p_value) BETWEEN 1 AND 200
	    AND p_value !~ '[\x01-\x1f\x7f]'
$$;

-- A name or title: trimmed, NFC, 1-200 characters. NULL stays NULL.
-- Inlined (every command that writes a person calls it, for each name):
-- the value is written out three times, which costs less than a call.
CREATE FUNCTION roster._name(p_key text, p_value text) RETURNS text
LANGUAGE sql AS $$
	SELECT CASE WHEN p_value IS NULL THEN NULL
	    WHEN roster._name_ok(p_value)
	    THEN pg_catalog.normalize(pg_catalog.btrim(p_value), 'NFC')
	    ELSE roster._fail('RSINV', pg_catalog.format(
	        '%s: must be 1-200 characters', p_key))::text END
$$;

-- Free text (note, reason, topic): NFC, at most p_max characters; '' is NULL.
CREATE FUNCTION roster._text(p_key text, p_value text, p_max integer DEFAULT 4000)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- An id: a positive integer.
CREATE FUNCTION roster._id(p_key text, p_value text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- Whether a trimmed, non-empty value is an e-mail address as _email
-- takes it. Inlined.
CREATE FUNCTION roster._email_ok(p_value text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT pg_catalog.char_length(p_value) <= 254
	    AND p_value ~ '^[^@[:space:]]+@[^@[:space:]]+$'
$$;

-- An e-mail address (the daemon checks the shape first); '' is NULL.
CREATE FUNCTION roster._email(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v text := btrim(p_value);
BEGIN
	IF v = '' THEN
		RETURN NULL;
	END IF;
	IF NOT _email_ok(v) THEN
		RAISE EXCEPTION USING ERRCODE = 'RSINV',
		    MESSAGE = 'email: not an e-mail address';
	END IF;
	RETURN v;
END $$;

-- A date YYYY-MM-DD.
CREATE FUNCTION roster._date(p_key text, p_value text) RETURNS date
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- ---------------------------------------------------------- wire formats

-- Wire formats (sql/README.md). Inlined, all of them; NULL gives NULL.
-- STABLE like to_char (an IMMUTABLE function of a STABLE expression is
-- not inlined).
CREATE FUNCTION roster._fmt_date(p date) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pg_catalog.to_char(p, 'YYYY-MM-DD')
$$;

CREATE FUNCTION roster._fmt_ts(p timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pg_catalog.to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- +03:00: the offset from UTC of p in p_tz: the seconds between the local
-- and the UTC wall clock, written out three times (one expression, so that
-- it is inlined).
CREATE FUNCTION roster._fmt_offset(p timestamptz, p_tz text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN EXTRACT(epoch FROM (p AT TIME ZONE p_tz)
	        - (p AT TIME ZONE 'UTC'))::integer < 0 THEN '-' ELSE '+' END
	    || pg_catalog.lpad((pg_catalog.abs(EXTRACT(epoch FROM
	        (p AT TIME ZONE p_tz) - (p AT TIME ZONE 'UTC'))::integer)
	        / 3600)::text, 2, '0') || ':'
	    || pg_catalog.lpad((pg_catalog.abs(EXTRACT(epoch FROM
	        (p AT TIME ZONE p_tz) - (p AT TIME ZONE 'UTC'))::integer)
	        % 3600 / 60)::text, 2, '0')
$$;

-- 2025-11-26T10:00+03:00: the local time in p_tz and its offset.
CREATE FUNCTION roster._fmt_time(p timestamptz, p_tz text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pg_catalog.to_char(p AT TIME ZONE p_tz, 'YYYY-MM-DD"T"HH24:MI')
	    || roster._fmt_offset(p, p_tz)
$$;

-- 2025-11-26T10:00:05+03:00: the same with seconds.
CREATE FUNCTION roster._fmt_local(p timestamptz, p_tz text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT pg_catalog.to_char(p AT TIME ZONE p_tz, 'YYYY-MM-DD"T"HH24:MI:SS')
	    || roster._fmt_offset(p, p_tz)
$$;

CREATE FUNCTION roster._fmt_bool(p boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p THEN 'yes' WHEN NOT p THEN 'no' END
$$;

-- jsonb as compact text: {"a":1,"b":"x"} (jsonb's own text has spaces).
CREATE FUNCTION roster._json_compact(p jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT CASE jsonb_typeof(p)
	WHEN 'object' THEN '{' || coalesce((SELECT string_agg(to_jsonb(k)::text
	    || ':' || roster._json_compact(v), ',' ORDER BY k)
	    FROM jsonb_each(p) AS e(k, v)), '') || '}'
	WHEN 'array' THEN '[' || coalesce((SELECT string_agg(roster._json_compact(v),
	    ',' ORDER BY n) FROM jsonb_array_elements(p) WITH ORDINALITY AS a(v, n)),
	    '') || ']'
	ELSE p::text
	END
$$;

-- --------------------------------------------------------------- lookups

-- The event by code, or RSNFD.
CREATE FUNCTION roster._event(p_event text) RETURNS roster.event
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v event;
BEGIN
	IF p_event IS NULL THEN
		PERFORM _fail('RSSYN', 'event= is required');
	END IF;
	SELECT * INTO v FROM event WHERE lower(code) = lower(p_event);
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'RSNFD',
		    MESSAGE = format('event %s not found', p_event);
	END IF;
	RETURN v;
END $$;

-- Lock the event for a registration write; RSCLO unless it is open.
CREATE FUNCTION roster._event_open(p_event_id integer) RETURNS roster.event
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- The party by code, or RSNFD naming the key. NULL stays NULL.
CREATE FUNCTION roster._party(p_key text, p_code text) RETURNS roster.party
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- The party id for a code, or RSNFD naming the key; NULL for NULL. Inlined.
CREATE FUNCTION roster._party_id(p_key text, p_code text) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT (roster._party(p_key, p_code)).id
$$;

-- The party a command acts on. A focal point acts on their own party only:
-- naming another is RSFRB; naming none means their own. For the other roles
-- the party named (RSNFD if unknown), or NULL when none was named.
CREATE FUNCTION roster._scope_party(p_actor_role text, p_actor_party text,
    p_party text) RETURNS roster.party
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v party;
BEGIN
	IF p_actor_role = 'focal' THEN
		SELECT * INTO v FROM party WHERE lower(code) = lower(p_actor_party);
		IF NOT FOUND THEN
			PERFORM _fail('RSFRB', 'no party bound to this focal point');
		END IF;
		IF p_party IS NOT NULL AND lower(p_party) <> lower(v.code) THEN
			PERFORM _fail('RSFRB', 'party: not your party');
		END IF;
		RETURN v;
	END IF;
	IF p_party IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT * INTO v FROM party WHERE lower(code) = lower(p_party);
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('party: party %s not found', p_party));
	END IF;
	RETURN v;
END $$;

-- A participant by id, in the event when one is given. A focal point only
-- finds their own party's: another party's is "not found", like a missing one.
-- (_need and _id written out: the checks of every command on a participant.)
CREATE FUNCTION roster._participant(p_actor_role text, p_actor_party text,
    p_event_id integer, p_key text, p_id text) RETURNS roster.participant_ctx
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v participant_ctx;
BEGIN
	IF p_id IS NULL THEN
		PERFORM _fail('RSSYN', format('%s= is required', p_key));
	END IF;
	IF p_id !~ '^[1-9][0-9]{0,17}$' THEN
		PERFORM _fail('RSINV', format('%s: must be a positive integer', p_key));
	END IF;
	IF p_event_id IS NULL THEN
		SELECT * INTO v FROM participant_ctx c
		WHERE c.id = p_id::bigint
		    AND (p_actor_role <> 'focal' OR lower(c.party) = lower(p_actor_party));
	ELSE
		SELECT * INTO v FROM participant_ctx c
		WHERE c.id = p_id::bigint AND c.event_id = p_event_id
		    AND (p_actor_role <> 'focal' OR lower(c.party) = lower(p_actor_party));
	END IF;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('participant %s not found', p_id));
	END IF;
	RETURN v;
END $$;

-- A session of the event by code, or RSNFD.
CREATE FUNCTION roster._session(p_event_id integer, p_session text)
RETURNS roster.session
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v session;
BEGIN
	IF p_session IS NULL THEN
		PERFORM _fail('RSSYN', 'session= is required');
	END IF;
	SELECT * INTO v FROM session
	WHERE event_id = p_event_id AND lower(code) = lower(p_session);
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('session %s not found', p_session));
	END IF;
	RETURN v;
END $$;

-- ------------------------------------------------------------------ refs

-- Claim p_ref for a create. A ref belongs to its event and its scope
-- p_party_id: the party the request creates something for (PARTICIPANT
-- ADD, DELEGATION REGISTER), the participant's party (SPEAKER ADD), or
-- NULL (SESSION CREATE). The same ref in another scope is another request,
-- so that nothing about another party's refs is observable. NULL: this
-- request is the first with the ref in its scope (its row is now held by
-- this transaction; a concurrent duplicate waits on the unique index until
-- we commit or roll back). Else the stored reply of the first request. A
-- ref reused in its scope for another command is RSCNF.
CREATE FUNCTION roster._ref_claim(p_event_id integer, p_ref text,
    p_command text, p_party_id integer) RETURNS jsonb
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
	SELECT * INTO r FROM request_ref
	WHERE event_id = p_event_id AND coalesce(party_id, 0) = coalesce(p_party_id, 0)
	    AND ref = p_ref;
	IF r.command <> p_command OR r.reply IS NULL THEN
		PERFORM _fail('RSCNF', 'ref: already used for another request');
	END IF;
	RETURN r.reply;
END $$;

-- Keep the reply of the request that claimed p_ref in scope p_party_id
-- (nothing to do without a ref: no statement runs).
CREATE FUNCTION roster._ref_store(p_event_id integer, p_ref text,
    p_party_id integer, p_reply jsonb)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_ref IS NOT NULL THEN
		UPDATE request_ref SET reply = p_reply
		WHERE event_id = p_event_id
		    AND coalesce(party_id, 0) = coalesce(p_party_id, 0) AND ref = p_ref;
	END IF;
END $$;

-- Forget the refs that created participant p_id or made them a speaker
-- (PARTICIPANT ERASE): their replies name the participant.
CREATE FUNCTION roster._ref_forget(p_event_id integer, p_id bigint)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	DELETE FROM roster.request_ref r
	WHERE r.event_id = p_event_id
	    AND ((r.command = 'PARTICIPANT ADD' AND r.reply->>'id' = p_id::text)
	      OR (r.command = 'SPEAKER ADD'
	          AND r.reply->>'participant' = p_id::text))
$$;

-- --------------------------------------------------------- waiting lists

-- Fill the places a session has free from its waiting list, in arrival
-- order. The caller holds the session row locked. Returns the participants
-- promoted and notifies each.
CREATE FUNCTION roster._promote(p_session_id integer)
RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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

-- -------------------------------------------------- the tail of a change

-- HMAC-SHA256 (RFC 2104) with the built-in sha256, so that no extension is
-- needed: sha256((K xor opad) || sha256((K xor ipad) || msg)), K the key
-- (its SHA-256 when longer than a block) padded with zeros to the block of
-- 64 bytes. Each xor is one operation on bit(512) (the key's hex digits
-- read as bits), whose bytes bit_send gives after its 4 bytes of length.
-- NULL for a NULL key or message. Inlined.
CREATE FUNCTION roster._hmac_sha256(p_key bytea, p_msg bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
	SELECT pg_catalog.sha256(pg_catalog.substr(pg_catalog.bit_send(
	    ('x' || pg_catalog.rpad(pg_catalog.encode(CASE WHEN
	        pg_catalog.length(p_key) > 64 THEN pg_catalog.sha256(p_key)
	        ELSE p_key END, 'hex'), 128, '0'))::pg_catalog.bit(512)
	    # ('x' || pg_catalog.repeat('5c', 64))::pg_catalog.bit(512)), 5)
	    || pg_catalog.sha256(pg_catalog.substr(pg_catalog.bit_send(
	    ('x' || pg_catalog.rpad(pg_catalog.encode(CASE WHEN
	        pg_catalog.length(p_key) > 64 THEN pg_catalog.sha256(p_key)
	        ELSE p_key END, 'hex'), 128, '0'))::pg_catalog.bit(512)
	    # ('x' || pg_catalog.repeat('36', 64))::pg_catalog.bit(512)), 5)
	    || p_msg))
$$;

-- Every notification rosterd acts on goes through here, signed (migration
-- 011) and written to the WAL as a transactional logical decoding message
-- whose prefix is the channel (migration 016): delivered to each rosterd's
-- replication slot (daemon/feed.c) at commit and in commit order, and
-- discarded with the transaction, or the subtransaction, that sent it. No
-- NOTIFY: it would serialise every commit on its global queue lock. The
-- content is "MAC XID BODY", XID the transaction's id (pg_current_xact_id,
-- which the decoded transaction carries too), MAC the hex HMAC-SHA256 of
-- "CHANNEL XID" under roster.notify_key. Any role may emit a message; one
-- that cannot read the key cannot sign, and rosterd ignores what is not
-- signed, or signed for another transaction (a replay). The MAC covers
-- the transaction, not the body: a message of transaction XID can only be
-- written by what runs in it, these functions, so that a MAC for XID says
-- that the message is theirs. It is computed once per transaction and
-- channel and kept in the transaction's setting roster.mac_CHANNEL (a
-- subtransaction undone takes its setting with it): a batch of the pool's
-- group commit signs once, not once per command (two SHA-256 of the HMAC,
-- a sixth of what a PARTICIPANT ADD costs PostgreSQL). _notify_emit is
-- the message itself, given the key: a statement that joins notify_key can
-- send it without a call (participant_add does); NULL for a NULL key.
-- Inlined (when its arguments are cheap to repeat: a column, a variable).
CREATE FUNCTION roster._notify_emit(p_key bytea, p_channel text,
    p_body text) RETURNS pg_lsn
LANGUAGE sql AS $$
	SELECT CASE WHEN p_key IS NOT NULL THEN
	    pg_catalog.pg_logical_emit_message(true, p_channel,
	    coalesce(NULLIF(pg_catalog.current_setting(
	        'roster.mac_' || p_channel, true), ''),
	    pg_catalog.set_config('roster.mac_' || p_channel,
	        pg_catalog.encode(roster._hmac_sha256(p_key, pg_catalog.convert_to(
	        p_channel || ' ' || pg_catalog.pg_current_xact_id()::text,
	        'UTF8')), 'hex'), true))
	    || ' ' || pg_catalog.pg_current_xact_id()::text || ' ' || p_body) END
$$;

CREATE FUNCTION roster._notify_send(p_channel text, p_body text) RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v_key bytea;
BEGIN
	SELECT k.key INTO STRICT v_key FROM notify_key k;
	PERFORM _notify_emit(v_key, p_channel, p_body);
END $$;

-- A notification (PROTOCOL.md section 8) on channel "roster", delivered at
-- commit: a JSON object of strings {"event":CODE,"kind":KIND, ...} where
-- every key but "kind" is a field of `! KIND key=value ...`; NULL fields
-- are left out. Kinds: event.created event.updated delegation.registered
-- delegation.updated delegation.confirmed delegation.declined
-- participant.added participant.updated participant.confirmed
-- participant.declined participant.erased checkin session.created
-- session.updated speaker.added speaker.removed enrol unenrol.
-- Inlined.
CREATE FUNCTION roster._notify(p_payload json) RETURNS void
LANGUAGE sql AS $$
	SELECT roster._notify_send('roster',
	    pg_catalog.json_strip_nulls(p_payload)::text)
$$;

-- The end of every write that changed something: its row in roster.audit
-- (NULL details left out) and, unless p_notice is NULL, its notification.
-- p_actor NULL is written "-".
CREATE FUNCTION roster._changed(p_event_id integer, p_actor text,
    p_command text, p_target text, p_detail jsonb, p_notice json)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO audit (event_id, username, command, target, detail)
	VALUES (p_event_id, coalesce(p_actor, '-'), p_command, p_target,
	    jsonb_strip_nulls(p_detail));
	IF p_notice IS NOT NULL THEN
		PERFORM _notify(p_notice);
	END IF;
END $$;
