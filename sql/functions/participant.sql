-- participant.sql -- PARTICIPANT ADD, LIST, SHOW, SET, CONFIRM, DECLINE,
-- ERASE and CHECKIN (daemon/cmd-participant.c): quota, one head per
-- delegation, badges.
--
-- The commands that name a participant by id (all but ADD and LIST) take
-- p_event NULL too: the id (or badge) is unique across the installation.
-- When it is given, the participant must belong to that event.

-- 10 characters of RFC 4648 base32 from 50 random bits, in one expression
-- so that it is inlined: the random bytes of two version 4 UUIDs (the
-- server's strong random source; bytes 10-16 of a v4 UUID are all random)
-- in base64, whose first 10 characters are each 6 random bits, and each
-- of the 64 characters of base64 turned into one of the 32 of base32, two
-- into each (5 random bits). No lookup: the badge's unique index is the
-- check (participant_add: ON CONFLICT (badge) DO NOTHING, and a new code
-- when it refuses; participant_add_many: the statement fails, and each
-- goes by participant_add. At a million participants one code in 10^9 is
-- taken).
CREATE FUNCTION roster._badge() RETURNS text
LANGUAGE sql AS $$
	SELECT pg_catalog.translate(pg_catalog.left(pg_catalog.encode(
	    pg_catalog.substr(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 10, 7)
	    || pg_catalog.substr(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 10, 7),
	    'base64'), 10),
	    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
	    'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')
$$;

CREATE FUNCTION roster._participant_role(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_value NOT IN ('head', 'member', 'adviser', 'observer', 'staff') THEN
		PERFORM _fail('RSINV', 'role: must be head, member, adviser, observer or staff');
	END IF;
	RETURN p_value;
END $$;

-- RSQUO when the (locked) delegation is at its quota.
CREATE FUNCTION roster._quota_check(d roster.delegation, p_code text)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM participant WHERE delegation_id = p_delegation_id
	    AND role = 'head' AND status <> 'declined'
	    AND id IS DISTINCT FROM p_except) THEN
		PERFORM _fail('RSCNF', 'the delegation already has a head');
	END IF;
END $$;

-- PARTICIPANT ADD party= name= [family=] [latin=] [honorific=] [title=]
-- [email=] [role=] [ref=]. A focal point may leave party= out (their own).
-- latin= comes from the daemon when the name is not in Latin script and
-- the request gave none.
--
-- The usual registration (no ref=, not of a head, into a delegation that
-- has no quota and has not declined, of an open event) is two statements:
-- one finds the event, the party and the delegation and shares their
-- locks, one writes the participant, its audit row and its notification.
-- Anything else, and anything that the first does not find, takes the
-- checks one by one, so that every error and its order are the same
-- either way: the event, the party, then the values, then the ref, the
-- event's status and the delegation.
--
-- Its statements find a few rows each by their keys, planned (generic
-- plans, cached) with random_page_cost 1.1, a read from memory: at
-- PostgreSQL's default of 4 the first one scans the 249 parties, lower()
-- on each, rather than use party_code_key, and a registration costs
-- PostgreSQL a third more (tests/bench/sql-cost). Only here and in
-- _party_by_code, not for the daemon's whole session: what reads many
-- rows (an export, a list) keeps the server's costs, for tables that may
-- not fit in memory (tried in session 12: roster export at half of psql's
-- speed).
CREATE FUNCTION roster.participant_add(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_name text,
    p_family text, p_latin text, p_honorific text, p_title text,
    p_email text, p_role text, p_ref text)
RETURNS TABLE (id text, party text, badge text, version text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp
SET random_page_cost = 1.1 AS $$
#variable_conflict use_column
DECLARE
	e event;
	pa party;
	d delegation;
	p participant;
	v_reply jsonb;
	v_lsn pg_lsn;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	IF p_ref IS NULL AND p_event IS NOT NULL AND p_name IS NOT NULL
	    AND (p_actor_role = 'focal' OR p_party IS NOT NULL)
	    AND p_role IS DISTINCT FROM 'head' THEN
		-- The event is locked first, then the delegation, as _event_open
		-- and the rest would; a delegation whose quota is set or that
		-- declines meanwhile is not found (its row is read again once
		-- the change commits), and the checks below lock and count.
		SELECT ev.id, ev.code, pa2.id, pa2.code, dl.id
		INTO e.id, e.code, pa.id, pa.code, d.id
		FROM event ev
		JOIN delegation dl ON dl.event_id = ev.id
		JOIN party pa2 ON pa2.id = dl.party_id
		WHERE lower(ev.code) = lower(p_event) AND ev.status = 'open'
		    AND lower(pa2.code) = lower(CASE WHEN p_actor_role = 'focal'
		        THEN p_actor_party ELSE p_party END)
		    AND (p_actor_role <> 'focal' OR p_party IS NULL
		        OR lower(p_party) = lower(p_actor_party))
		    AND dl.quota IS NULL AND dl.status <> 'declined'
		FOR SHARE OF ev, dl;
	END IF;
	IF d.id IS NULL THEN
		IF p_ref IS NULL THEN
			-- No ref to claim first: the event is locked at once, as
			-- _event_open would lock it after the claim (one statement
			-- instead of two; its status is checked where _event_open
			-- would).
			IF p_event IS NULL THEN
				PERFORM _fail('RSSYN', 'event= is required');
			END IF;
			SELECT * INTO e FROM event WHERE lower(code) = lower(p_event)
			FOR SHARE;
			IF NOT FOUND THEN
				PERFORM _fail('RSNFD', format('event %s not found', p_event));
			END IF;
		ELSE
			e := _event(p_event);
		END IF;
		IF p_actor_role <> 'focal' THEN
			PERFORM _need('party', p_party);
		END IF;
		pa := _scope_party(p_actor_role, p_actor_party, p_party);
		PERFORM _need('name', p_name);
	END IF;
	-- The optional keys' checks run only for the keys given (each of
	-- them gives NULL for NULL).
	p.name := _name('name', p_name);
	IF p_family IS NOT NULL THEN
		p.family := _name('family', nullif(btrim(p_family), ''));
	END IF;
	IF p_latin IS NOT NULL THEN
		p.latin := _name('latin', nullif(btrim(p_latin), ''));
	END IF;
	IF p_honorific IS NOT NULL THEN
		p.honorific := _name('honorific', nullif(btrim(p_honorific), ''));
	END IF;
	IF p_title IS NOT NULL THEN
		p.title := _name('title', nullif(btrim(p_title), ''));
	END IF;
	IF p_email IS NOT NULL THEN
		p.email := _email(p_email);
	END IF;
	p.role := CASE WHEN p_role IS NULL THEN 'member'
	    ELSE _participant_role(p_role) END;
	IF d.id IS NULL THEN
		IF p_ref IS NOT NULL THEN
			v_reply := _ref_claim(e.id, p_ref, 'PARTICIPANT ADD', pa.id);
			IF v_reply IS NOT NULL THEN
				RETURN QUERY SELECT v_reply->>'id', v_reply->>'party',
				    v_reply->>'badge', v_reply->>'version', '1';
				RETURN;
			END IF;
			e := _event_open(e.id);
		ELSIF e.status <> 'open' THEN
			PERFORM _fail('RSCLO', format('event %s is %s, not open', e.code,
			    e.status));
		END IF;
		-- The delegation is locked exclusively when its quota is counted
		-- or its head checked (the count must not change meanwhile);
		-- otherwise shared, so that registrations into one delegation do
		-- not wait for each other's commits (a batch of the pool's group
		-- commit holds its locks to its end), while a change of the
		-- delegation (its quota, a decline) waits for them. A quota set
		-- between the look and the lock is a serialization failure: the
		-- pool runs the write again alone, or the client is told BUSY.
		SELECT * INTO d FROM delegation
		WHERE event_id = e.id AND party_id = pa.id;
		IF FOUND AND d.quota IS NULL AND p.role <> 'head' THEN
			SELECT * INTO d FROM delegation WHERE delegation.id = d.id
			FOR SHARE;
			IF d.quota IS NOT NULL THEN
				PERFORM _fail('40001', format('the quota of delegation %s '
				    'changed meanwhile; try again', pa.code));
			END IF;
		ELSE
			d := _delegation_lock(e.id, pa);
		END IF;
		IF d.status = 'declined' THEN
			PERFORM _fail('RSCNF', format('delegation %s has declined', pa.code));
		END IF;
		IF d.quota IS NOT NULL THEN
			PERFORM _quota_check(d, pa.code);
		END IF;
		IF p.role = 'head' THEN
			PERFORM _head_check(d.id, NULL);
		END IF;
	END IF;
	-- The participant, its audit row (as _changed writes it) and its
	-- notification (as _notify sends it) in one statement; a badge that
	-- is taken inserts nothing, and another is drawn.
	LOOP
		WITH n AS (
			INSERT INTO participant AS x (delegation_id, name, family,
			    latin, honorific, title, email, role, badge)
			VALUES (d.id, p.name, p.family, p.latin, p.honorific, p.title,
			    p.email, p.role, _badge())
			ON CONFLICT (badge) DO NOTHING
			RETURNING x.id, x.badge, x.version
		), a AS (
			INSERT INTO audit (event_id, username, command, target, detail)
			SELECT e.id, coalesce(p_actor, '-'), 'PARTICIPANT ADD',
			    e.code || '/participant/' || n.id,
			    jsonb_strip_nulls(jsonb_build_object('party', pa.code,
			    'name', p.name, 'family', p.family, 'latin', p.latin,
			    'honorific', p.honorific, 'title', p.title,
			    'email', p.email, 'role', p.role, 'ref', p_ref))
			FROM n
		), b AS (
			SELECT n.id, n.badge, n.version,
			    json_strip_nulls(json_build_object('event', e.code,
			    'kind', 'participant.added', 'id', n.id::text,
			    'party', pa.code, 'name', p.name, 'latin', p.latin,
			    'role', p.role))::text AS body
			FROM n
		)
		SELECT b.id, b.badge, b.version, _notify_emit(k.key, 'roster', b.body)
		INTO p.id, p.badge, p.version, v_lsn
		FROM b LEFT JOIN notify_key k ON true;
		EXIT WHEN FOUND;
	END LOOP;
	IF v_lsn IS NULL THEN
		PERFORM _fail('XX000', 'no notification key (roster.notify_key)');
	END IF;
	IF p_ref IS NOT NULL THEN
		PERFORM _ref_store(e.id, p_ref, pa.id,
		    jsonb_build_object('id', p.id::text, 'party', pa.code::text,
		    'badge', p.badge::text, 'version', p.version::text));
	END IF;
	-- the row by assignment: no statement to run
	id := p.id::text;
	party := pa.code::text;
	badge := p.badge::text;
	version := p.version::text;
	replay := NULL;
	RETURN NEXT;
END $$;

-- PARTICIPANT ADD, many at once: the pool's group commit (daemon/db.c)
-- sends the registrations of different clients that wait together as one
-- call, arrays of participant_add's arguments (element i is one
-- registration). A row for each element, by its ord (1-based): what
-- participant_add returns, or the state and message of the error it
-- raised, having done nothing. The registrations of participant_add's
-- usual path whose values pass their checks are written by one statement
-- for all of them (a call per registration costs PostgreSQL several times
-- the work: tests/bench/sql-cost); each other one, and each that the
-- statement did not write (a delegation with a quota; all of them when
-- it failed), is a call of participant_add in a subtransaction of its own, so that
-- every error is the same as alone. A serialization failure, a deadlock
-- or a lock not granted in time is raised, not returned: the pool then
-- runs each registration again, alone, after the batch.
CREATE FUNCTION roster.participant_add_many(p_actor text[],
    p_actor_role text[], p_actor_party text[], p_event text[],
    p_party text[], p_name text[], p_family text[], p_latin text[],
    p_honorific text[], p_title text[], p_email text[], p_role text[],
    p_ref text[])
RETURNS TABLE (ord integer, id text, party text, badge text,
    version text, replay text, state text, message text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp
SET random_page_cost = 1.1 AS $$
#variable_conflict use_column
DECLARE
	v_n integer := coalesce(cardinality(p_actor), 0);
	v_done boolean[];
	v_ord integer[];
	v_id text[];
	v_party text[];
	v_badge text[];
	v_version text[];
	v_body text[];
	v_key bytea;
	v_state text;
	v_msg text;
	i integer;
	v_seq regclass := pg_get_serial_sequence('roster.participant', 'id');
BEGIN
	IF v_n = 0 OR v_n > 1000 OR v_n <> ALL (ARRAY[cardinality(p_actor_role),
	    cardinality(p_actor_party), cardinality(p_event),
	    cardinality(p_party), cardinality(p_name), cardinality(p_family),
	    cardinality(p_latin), cardinality(p_honorific),
	    cardinality(p_title), cardinality(p_email), cardinality(p_role),
	    cardinality(p_ref)]) THEN
		PERFORM _fail('RSSYN', 'participant_add_many: 1-1000 of each '
		    'argument, as many of each');
	END IF;
	v_done := array_fill(false, ARRAY[v_n]);
	BEGIN
		-- r: the elements of the usual path (roles, no ref=), their
		-- values as participant_add writes them, each normalised once
		-- (MATERIALIZED: inlined into u, every check would normalise
		-- again); u: those whose values pass participant_add's checks;
		-- f: those whose event, party and delegation its first
		-- statement would find (with the same locks); n, a: their
		-- participants and audit rows, the ids drawn first to tie each
		-- row to its element (every row of f is written, or the
		-- statement fails: a's rows are f's, and the answers are read
		-- in one pass, sorted once). r's and u's conditions must never take
		-- more than participant_add does: what they leave out only goes
		-- the slow way, what they took too many would be written
		-- without its checks. A badge that is taken fails the whole
		-- statement (the unique index; at a million participants one
		-- code in 10^9): each then goes the slow way, which draws
		-- another (ON CONFLICT would cost every row a look at the index
		-- before its insert).
			WITH r AS MATERIALIZED (
				SELECT x.*,
				    normalize(btrim(x.name), NFC) AS v_name,
				    normalize(btrim(nullif(btrim(x.family), '')), NFC)
				        AS v_family,
				    normalize(btrim(nullif(btrim(x.latin), '')), NFC)
				        AS v_latin,
				    normalize(btrim(nullif(btrim(x.honorific), '')), NFC)
				        AS v_honorific,
				    normalize(btrim(nullif(btrim(x.title), '')), NFC)
				        AS v_title,
				    nullif(btrim(x.email), '') AS v_email,
				    coalesce(x.role, 'member') AS v_role
				FROM unnest(p_actor, p_actor_role, p_actor_party, p_event,
				    p_party, p_name, p_family, p_latin, p_honorific,
				    p_title, p_email, p_role, p_ref)
				    WITH ORDINALITY AS x(actor, actor_role, actor_party,
				    event, party, name, family, latin, honorific, title,
				    email, role, ref, ord)
				WHERE x.ref IS NULL AND x.event IS NOT NULL
				    AND x.actor_role IN ('admin', 'secretariat', 'host',
				        'focal')
				    AND (x.actor_role = 'focal' OR x.party IS NOT NULL)
				    AND (x.role IS NULL OR x.role IN ('member', 'adviser',
				        'observer', 'staff'))
			), u AS (
				SELECT * FROM r
				WHERE _nfc_name_ok(r.v_name)
				    AND (r.v_family IS NULL OR _nfc_name_ok(r.v_family))
				    AND (r.v_latin IS NULL OR _nfc_name_ok(r.v_latin))
				    AND (r.v_honorific IS NULL
				        OR _nfc_name_ok(r.v_honorific))
				    AND (r.v_title IS NULL OR _nfc_name_ok(r.v_title))
				    AND (r.v_email IS NULL OR _email_ok(r.v_email))
			), f AS (
				SELECT u.*, ev.id AS e_id, ev.code AS e_code,
				    pa.code AS pa_code, dl.id AS d_id,
				    nextval(v_seq) AS p_id,
				    _badge() AS p_badge
				FROM u
				JOIN event ev ON lower(ev.code) = lower(u.event)
				JOIN delegation dl ON dl.event_id = ev.id
				JOIN party pa ON pa.id = dl.party_id
				WHERE ev.status = 'open'
				    AND lower(pa.code) = lower(CASE
				        WHEN u.actor_role = 'focal' THEN u.actor_party
				        ELSE u.party END)
				    AND (u.actor_role <> 'focal' OR u.party IS NULL
				        OR lower(u.party) = lower(u.actor_party))
				    AND dl.quota IS NULL AND dl.status <> 'declined'
				FOR SHARE OF ev, dl
			), n AS (
				INSERT INTO participant AS x (id, delegation_id, name,
				    family, latin, honorific, title, email, role, badge)
				OVERRIDING SYSTEM VALUE
				SELECT f.p_id, f.d_id, f.v_name, f.v_family, f.v_latin,
				    f.v_honorific, f.v_title, f.v_email, f.v_role,
				    f.p_badge
				FROM f
				RETURNING x.id, x.badge, x.version
			), a AS (
				INSERT INTO audit (event_id, username, command, target,
				    detail)
				SELECT f.e_id, coalesce(f.actor, '-'), 'PARTICIPANT ADD',
				    f.e_code || '/participant/' || f.p_id,
				    jsonb_strip_nulls(jsonb_build_object('party', f.pa_code,
				    'name', f.v_name, 'family', f.v_family,
				    'latin', f.v_latin, 'honorific', f.v_honorific,
				    'title', f.v_title, 'email', f.v_email,
				    'role', f.v_role))
				FROM f
				ORDER BY f.ord
			)
			SELECT array_agg(s.ord), array_agg(s.id), array_agg(s.pa_code),
			    array_agg(s.badge), array_agg(s.version), array_agg(s.body)
			FROM (SELECT f.ord::integer AS ord, n.id::text AS id,
			    f.pa_code::text AS pa_code, n.badge::text AS badge,
			    n.version::text AS version,
			    json_strip_nulls(json_build_object(
			        'event', f.e_code, 'kind', 'participant.added',
			        'id', n.id::text, 'party', f.pa_code, 'name', f.v_name,
			        'latin', f.v_latin, 'role', f.v_role))::text AS body
			    FROM n JOIN f ON f.p_id = n.id
			    ORDER BY f.ord) s
			INTO v_ord, v_id, v_party, v_badge, v_version, v_body;
		IF v_ord IS NOT NULL THEN
			SELECT k.key INTO v_key FROM notify_key k;
			IF v_key IS NULL THEN
				PERFORM _fail('XX000',
				    'no notification key (roster.notify_key)');
			END IF;
			PERFORM _notify_emit(v_key, 'roster', b.body)
			FROM unnest(v_body) WITH ORDINALITY AS b(body, n)
			ORDER BY b.n;
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE;
		IF v_state IN ('40001', '40P01', '55P03') THEN
			RAISE;
		END IF;
		v_ord := NULL; /* undone: each by participant_add, below */
	END;
	FOR i IN 1 .. coalesce(cardinality(v_ord), 0) LOOP
		v_done[v_ord[i]] := true;
		ord := v_ord[i];
		id := v_id[i];
		party := v_party[i];
		badge := v_badge[i];
		version := v_version[i];
		replay := NULL;
		state := NULL;
		message := NULL;
		RETURN NEXT;
	END LOOP;
	FOR i IN 1 .. v_n LOOP
		CONTINUE WHEN v_done[i];
		v_state := NULL;
		BEGIN
			SELECT * INTO id, party, badge, version, replay
			FROM participant_add(p_actor[i], p_actor_role[i],
			    p_actor_party[i], p_event[i], p_party[i], p_name[i],
			    p_family[i], p_latin[i], p_honorific[i], p_title[i],
			    p_email[i], p_role[i], p_ref[i]);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE,
			    v_msg = MESSAGE_TEXT;
			IF v_state IN ('40001', '40P01', '55P03') THEN
				RAISE;
			END IF;
			id := NULL;
			party := NULL;
			badge := NULL;
			version := NULL;
			replay := NULL;
		END;
		ord := i;
		state := v_state;
		message := CASE WHEN v_state IS NOT NULL THEN v_msg END;
		RETURN NEXT;
	END LOOP;
END $$;

-- A party by its code, any case (NULL: none), through party_code_key: for
-- the inlined SELECTs, whose generic plans at PostgreSQL's default
-- random_page_cost read the few pages of party whole, lower() of each of
-- its codes, rather than use the index (callgrind, PARTICIPANT LIST of 40
-- rows: 2.19 -> 1.33 million instructions with this). A function of
-- one row (NULLs when there is none), so that a caller's FROM has its row
-- either way.
CREATE FUNCTION roster._party_by_code(p_code text) RETURNS roster.party
LANGUAGE plpgsql STABLE STRICT SET search_path = roster, pg_catalog, pg_temp
SET random_page_cost = 1.1 AS $$
DECLARE
	v party;
BEGIN
	SELECT * INTO v FROM party WHERE lower(code) = lower(p_code);
	RETURN v;
END $$;

-- PARTICIPANT LIST [party=] [status=] [role=]: the event's and the party's
-- ids when every check passes (an allowed role, the event, a focal
-- point's own party and no other's, a party given that exists, status=
-- and role= among their values), else no row; participant_list then
-- calls _participant_list_fail. One SELECT, as _participant_find.
CREATE FUNCTION roster._participant_list_scope(p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_status text,
    p_role text)
RETURNS TABLE (event_id integer, e_code text, party_id integer,
    pa_code text, status text, role text)
LANGUAGE sql STABLE AS $$
	SELECT e.id, e.code::text, pa.id, pa.code::text, p_status, p_role
	FROM roster.event e
	CROSS JOIN roster._party_by_code(CASE WHEN p_actor_role = 'focal'
	    THEN p_actor_party ELSE p_party END) AS pa
	WHERE pg_catalog.lower(e.code) = CASE WHEN p_actor_role IN ('admin',
	        'secretariat', 'host', 'focal')
	    THEN pg_catalog.lower(p_event) END
	    AND CASE WHEN p_actor_role = 'focal'
	        THEN pa.id IS NOT NULL AND (p_party IS NULL
	            OR pg_catalog.lower(p_party) = pg_catalog.lower(pa.code))
	        ELSE p_party IS NULL OR pa.id IS NOT NULL END
	    AND (p_status IS NULL
	        OR p_status IN ('registered', 'confirmed', 'declined'))
	    AND (p_role IS NULL
	        OR p_role IN ('head', 'member', 'adviser', 'observer', 'staff'))
$$;

-- PARTICIPANT LIST, when _participant_list_scope found no row: the checks
-- one by one, so that the first that fails raises its error. Only
-- participant_list calls it, and only then.
CREATE FUNCTION roster._participant_list_fail(p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_status text,
    p_role text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	PERFORM _event(p_event);
	PERFORM _scope_party(p_actor_role, p_actor_party, p_party);
	IF p_status NOT IN ('registered', 'confirmed', 'declined') THEN
		PERFORM _fail('RSINV', 'status: must be registered, confirmed or declined');
	END IF;
	PERFORM _participant_role(p_role);
	-- not reached: the checks pass for the rows the lookups find, and the
	-- two read the same snapshot
	PERFORM _fail('RSNFD', format('event %s not found', p_event));
	RETURN false;
END $$;

-- PARTICIPANT LIST [party=] [status=] [role=]: a focal point sees their own
-- party's only (party= of another is RSFRB). In list order: countries
-- first then organisations, by the delegation's name; within a delegation
-- the head first, then by family name (the whole name when none is
-- given), then by name.
--
-- LANGUAGE sql without SET, inlined into rosterd's statement as
-- participant_show is: no tuplestore of RETURN QUERY (there were two),
-- one call (_party_by_code's) when a party is named. First the scope's
-- one row, or the checks' error. Then the records of one party or of the
-- whole event, each a branch that a one-time filter on the scope's party
-- turns on, so that each is planned for its key (an index cannot be used
-- through "party_id IS NULL OR ...") and sorted by its own keys (within
-- one party the party's name and kind are the same on every row). Each
-- branch walks the event's delegations and each one's participants by
-- delegation_id, a LATERAL subquery that OFFSET 0 keeps apart: never a
-- scan of every participant of the installation, which the whole event's
-- generic plan chose before. Each sorts rows whose first columns are its
-- keys: a sort reads a key by walking the columns before it, and with a
-- record's 14 columns first the sort was the dearest part of a 40-row
-- list. status= and role= come through the scope's row, as the ids do:
-- constants folded into a custom plan would make it look cheaper than
-- the generic one, and the plan cache would plan every call again. The
-- domains' columns are compared as text: an operator on a domain would be
-- looked for on the caller's search_path, where a better match than the
-- catalog's could stand. rosterd's statement has no ORDER BY: the order
-- is the one row's nested loop over the sorted branch
-- (tests/bench/RESULTS.md, session 12).
CREATE FUNCTION roster.participant_list(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_party text, p_status text,
    p_role text)
RETURNS TABLE (id text, event text, party text, name text, family text,
    latin text, honorific text, title text, email text, role text,
    status text, badge text, checked_in text, version text)
LANGUAGE sql STABLE AS $$
	SELECT r.id::text, s.e_code, r.pa_code, r.name::text, r.family::text,
	    r.latin::text, r.honorific::text, r.title::text, r.email::text,
	    r.role::text, r.status::text, r.badge::text,
	    roster._fmt_ts(r.checked_in), r.version::text
	FROM (SELECT s.* FROM (SELECT) AS one
	    LEFT JOIN roster._participant_list_scope(p_actor_role,
	        p_actor_party, p_event, p_party, p_status, p_role) AS s ON true
	    WHERE s.event_id IS NOT NULL
	        OR roster._participant_list_fail(p_actor_role, p_actor_party,
	            p_event, p_party, p_status, p_role)
	    OFFSET 0) s
	CROSS JOIN LATERAL (
	    SELECT x.id, x.pa_code, x.name, x.family, x.latin, x.honorific,
	        x.title, x.email, x.role, x.status, x.badge, x.checked_in,
	        x.version
	    FROM (SELECT p.role::text <> 'head' AS k_head,
	        coalesce(p.family, p.name) COLLATE roster.names AS k_family,
	        p.name COLLATE roster.names AS k_name, p.id, s.pa_code,
	        p.name, p.family, p.latin, p.honorific, p.title, p.email,
	        p.role, p.status, p.badge, p.checked_in, p.version
	        FROM roster.delegation d
	        CROSS JOIN LATERAL (SELECT p.* FROM roster.participant p
	            WHERE p.delegation_id = d.id
	                AND (s.status IS NULL OR p.status::text = s.status)
	                AND (s.role IS NULL OR p.role::text = s.role) OFFSET 0) p
	        WHERE s.party_id IS NOT NULL AND d.event_id = s.event_id
	            AND d.party_id = s.party_id
	        ORDER BY 1, 2, 3, 4 OFFSET 0) x
	    UNION ALL
	    SELECT y.id, y.pa_code, y.name, y.family, y.latin, y.honorific,
	        y.title, y.email, y.role, y.status, y.badge, y.checked_in,
	        y.version
	    FROM (SELECT pa.kind <> 'country' AS k_kind,
	        pa.name COLLATE roster.names AS k_party, pa.code AS k_code,
	        p.role::text <> 'head' AS k_head,
	        coalesce(p.family, p.name) COLLATE roster.names AS k_family,
	        p.name COLLATE roster.names AS k_name, p.id,
	        pa.code::text AS pa_code, p.name, p.family, p.latin,
	        p.honorific, p.title, p.email, p.role, p.status, p.badge,
	        p.checked_in, p.version
	        FROM roster.delegation d
	        CROSS JOIN LATERAL (SELECT pa.kind, pa.name, pa.code
	            FROM roster.party pa WHERE pa.id = d.party_id OFFSET 0) pa
	        CROSS JOIN LATERAL (SELECT p.* FROM roster.participant p
	            WHERE p.delegation_id = d.id
	                AND (s.status IS NULL OR p.status::text = s.status)
	                AND (s.role IS NULL OR p.role::text = s.role) OFFSET 0) p
	        WHERE s.party_id IS NULL AND d.event_id = s.event_id
	        ORDER BY 1, 2, 3, 4, 5, 6, 7 OFFSET 0) y) r
$$;

-- PARTICIPANT SHOW id=, when participant_show found no row: the checks one
-- by one, as every command on a participant runs them, so that the first
-- that fails raises its error (the errors and their order are those of
-- the others). Only participant_show calls it, and only then.
CREATE FUNCTION roster._participant_show_fail(p_actor_role text,
    p_actor_party text, p_event text, p_id text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	PERFORM _participant(p_actor_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	-- not reached: the checks pass for the rows the join finds, and the
	-- two read the same snapshot
	PERFORM _fail('RSNFD', format('participant %s not found', p_id));
	RETURN false;
END $$;

-- PARTICIPANT SHOW id=: the row, when everything is in order (an allowed
-- role, an id of the right form, the participant found, in the event named
-- if one is, and of the focal point's party), else none. participant_show
-- and participant_show_many find their rows with it; neither raises here.
-- A function without SET (sql/README.md, "Cost"): LANGUAGE sql, STABLE,
-- one SELECT, every function and table named with its schema, so that
-- PostgreSQL inlines it into its caller, and the caller into rosterd's
-- prepared statement, whose plan the session keeps: no call, no SPI
-- statement, no tuplestore of RETURN QUERY. Each row is looked up by its
-- key, in a fixed order (participant, then its delegation, party and
-- event, each a LATERAL subquery that OFFSET 0 keeps apart, so that the
-- planner cannot hash or merge-join whole tables, which it finds cheaper
-- when they are small); event= and a focal point's party only check the
-- row found by key (a CASE, not a catch-all on the event's code: one plan
-- with event= and without). The role and the id's form are checked in the
-- participant's key, and the id is cast only when it has an id's form (a
-- CASE, which the folding of a custom plan's constants keeps too: a bad id
-- is left to the checks' RSINV).
CREATE FUNCTION roster._participant_find(p_actor_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, event text, party text, name text, family text,
    latin text, honorific text, title text, email text, role text,
    status text, badge text, checked_in text, version text)
LANGUAGE sql STABLE AS $$
	SELECT p.id::text, e.code AS event, pa.code AS party,
	    p.name::text, p.family::text, p.latin::text,
	    p.honorific::text, p.title::text, p.email::text, p.role::text,
	    p.status::text, p.badge::text,
	    roster._fmt_ts(p.checked_in), p.version::text
	FROM roster.participant p
	CROSS JOIN LATERAL (SELECT d.party_id, d.event_id
	    FROM roster.delegation d
	    WHERE d.id = p.delegation_id OFFSET 0) d
	CROSS JOIN LATERAL (SELECT pa.code::text FROM roster.party pa
	    WHERE pa.id = d.party_id
	        AND (p_actor_role <> 'focal' OR pg_catalog.lower(pa.code)
	            = pg_catalog.lower(p_actor_party)) OFFSET 0) pa
	CROSS JOIN LATERAL (SELECT e.code::text FROM roster.event e
	    WHERE e.id = d.event_id
	        AND CASE WHEN p_event IS NULL THEN true
	            ELSE pg_catalog.lower(e.code) = pg_catalog.lower(p_event)
	            END OFFSET 0) e
	WHERE p.id = CASE WHEN p_actor_role IN ('admin', 'secretariat',
	        'host', 'focal') AND p_id ~ '^[1-9][0-9]{0,17}$'
	    THEN p_id::bigint END
$$;

-- PARTICIPANT SHOW id=: one row by its key, no ordering
-- (_participant_find); when it finds none, and only then (the WHERE of
-- the outer join's one row), _participant_show_fail raises the first
-- error. LANGUAGE sql without SET, as _participant_find, for the same
-- reason.
CREATE FUNCTION roster.participant_show(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, event text, party text, name text, family text,
    latin text, honorific text, title text, email text, role text,
    status text, badge text, checked_in text, version text)
LANGUAGE sql STABLE AS $$
	SELECT r.* FROM (SELECT) AS one
	LEFT JOIN roster._participant_find(p_actor_role, p_actor_party,
	    p_event, p_id) AS r ON true
	WHERE r.id IS NOT NULL
	    OR roster._participant_show_fail(p_actor_role, p_actor_party,
	        p_event, p_id)
$$;

-- 1 to p_n, for a call of many (participant_show_many) to walk its arrays
-- by: a set the planner always expects 16 rows of (DB_READ_GROUP, the
-- most rosterd sends in one call). unnest() or generate_series() of the
-- arrays would be estimated from their length in a custom plan and by a
-- default in the generic one: with calls of changing sizes the plan cache
-- would find the generic plan dearer than the custom ones and plan every
-- call again (it did: most of PostgreSQL's time in a SHOW benchmark).
CREATE FUNCTION roster._ords(p_n integer) RETURNS SETOF integer
LANGUAGE plpgsql STABLE ROWS 16
SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT generate_series(1, p_n);
END $$;

-- The PARTICIPANT SHOWs of several clients that rosterd sends together
-- (db_mergeable in daemon/db.c): arrays of participant_show's arguments,
-- one element each, and a row for each that _participant_find finds, by
-- its ord (from 1): ord, participant_show's columns, then state and
-- message (always NULL here: nothing fails alone inside). rosterd sends
-- each that has no row again as a participant_show, which raises its
-- error. One statement for them all: PostgreSQL starts and ends one
-- executor where the SHOWs sent one by one each start their own (pgbench,
-- 4 clients: 16 in one call cost a third of 16 in one segment).
CREATE FUNCTION roster.participant_show_many(p_actor text[],
    p_actor_role text[], p_actor_party text[], p_event text[], p_id text[])
RETURNS TABLE (ord bigint, id text, event text, party text, name text,
    family text, latin text, honorific text, title text, email text,
    role text, status text, badge text, checked_in text, version text,
    state text, message text)
LANGUAGE sql STABLE AS $$
	SELECT a.n::bigint, r.*, NULL::text, NULL::text
	FROM roster._ords(pg_catalog.cardinality(p_id)) AS a(n)
	CROSS JOIN LATERAL roster._participant_find(p_actor_role[a.n],
	    p_actor_party[a.n], p_event[a.n], p_id[a.n]) AS r
$$;

-- Lock a participant for a change, in the order delegation -> participant,
-- after locking the event open. Returns the locked participant.
CREATE FUNCTION roster._participant_lock(c roster.participant_ctx,
    p_need_open boolean DEFAULT true, p_delegation boolean DEFAULT true)
RETURNS roster.participant
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	p participant;
BEGIN
	IF p_need_open THEN
		PERFORM _event_open(c.event_id);
	END IF;
	-- the delegation when the change may need its head or its quota
	-- (counted under this lock); a change that cannot (a PARTICIPANT SET
	-- of no role=) leaves it to other writers of the delegation
	IF p_delegation THEN
		PERFORM 1 FROM delegation WHERE id = c.delegation_id
		FOR NO KEY UPDATE;
	END IF;
	SELECT * INTO p FROM participant WHERE id = c.id FOR NO KEY UPDATE;
	RETURN p;
END $$;

-- PARTICIPANT SET id= [name=] [family=] [latin=] [honorific=] [title=]
-- [email=] [role=] [version=]. family/latin/honorific/title/email ""
-- clears the field. With name= and no latin=, the daemon gives latin= the
-- new name's derived form, or "" for a name in Latin script.
CREATE FUNCTION roster.participant_set(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text, p_name text,
    p_family text, p_latin text, p_honorific text, p_title text,
    p_email text, p_role text, p_version text)
RETURNS TABLE (id text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	o participant;
	n participant;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_actor_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	o := _participant_lock(c, true, p_role IS NOT NULL);
	IF p_version IS NOT NULL AND _int('version', p_version) <> o.version THEN
		PERFORM _fail('RSCNF', format('version is %s', o.version));
	END IF;
	IF o.erased THEN
		PERFORM _fail('RSCNF', format('participant %s was erased', o.id));
	END IF;
	n := o;
	n.name := coalesce(_name('name', p_name), o.name);
	IF p_family IS NOT NULL THEN
		n.family := _name('family', nullif(btrim(p_family), ''));
	END IF;
	IF p_latin IS NOT NULL THEN
		n.latin := _name('latin', nullif(btrim(p_latin), ''));
	END IF;
	IF p_honorific IS NOT NULL THEN
		n.honorific := _name('honorific', nullif(btrim(p_honorific), ''));
	END IF;
	IF p_title IS NOT NULL THEN
		n.title := _name('title', nullif(btrim(p_title), ''));
	END IF;
	IF p_email IS NOT NULL THEN
		n.email := _email(p_email);
	END IF;
	n.role := coalesce(_participant_role(p_role), o.role);
	IF n.role = 'head' AND o.role <> 'head' AND o.status <> 'declined' THEN
		PERFORM _head_check(o.delegation_id, o.id);
	END IF;

	IF n.name IS DISTINCT FROM o.name THEN
		v_detail := v_detail || jsonb_build_object('name', n.name);
	END IF;
	IF n.family IS DISTINCT FROM o.family THEN
		v_detail := v_detail || jsonb_build_object('family', coalesce(n.family, ''));
	END IF;
	IF n.latin IS DISTINCT FROM o.latin THEN
		v_detail := v_detail || jsonb_build_object('latin', coalesce(n.latin, ''));
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
	UPDATE participant SET name = n.name, family = n.family,
	    latin = n.latin, honorific = n.honorific,
	    title = n.title, email = n.email, role = n.role,
	    version = version + 1
	WHERE id = o.id RETURNING * INTO n;
	PERFORM _changed(c.event_id, p_actor, 'PARTICIPANT SET',
	    c.event || '/participant/' || o.id, v_detail,
	    json_build_object('event', c.event,
	    'kind', 'participant.updated', 'id', n.id::text, 'party', c.party,
	    'name', n.name, 'latin', n.latin, 'role', n.role,
	    'version', n.version::text));
	RETURN QUERY SELECT n.id::text, n.version::text;
END $$;

-- PARTICIPANT CONFIRM id=. Confirming a confirmed participant changes
-- nothing. A declined one may be confirmed again if the delegation has not
-- declined, is under its quota and has no other head (for a head).
CREATE FUNCTION roster.participant_confirm(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	d delegation;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_actor_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	p := _participant_lock(c);
	IF p.status = 'confirmed' THEN
		RETURN QUERY SELECT p.id::text, p.status::text, p.version::text;
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
	PERFORM _changed(c.event_id, p_actor, 'PARTICIPANT CONFIRM',
	    c.event || '/participant/' || p.id,
	    jsonb_build_object('status', 'confirmed', 'was', c.status),
	    json_build_object('event', c.event,
	    'kind', 'participant.confirmed', 'id', p.id::text, 'party', c.party,
	    'name', p.name));
	RETURN QUERY SELECT p.id::text, p.status::text, p.version::text;
END $$;

-- PARTICIPANT DECLINE id= [reason=]: also leaves every session (the
-- waiting lists move up). Declining a declined participant changes nothing.
CREATE FUNCTION roster.participant_decline(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text, p_reason text)
RETURNS TABLE (id text, status text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	v_reason text;
	v_promoted bigint[];
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	c := _participant(p_actor_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	v_reason := _text('reason', p_reason);
	p := _participant_lock(c);
	IF p.status = 'declined' THEN
		RETURN QUERY SELECT p.id::text, p.status::text, p.version::text;
		RETURN;
	END IF;
	UPDATE participant SET status = 'declined', reason = v_reason,
	    version = version + 1
	WHERE id = p.id RETURNING * INTO p;
	SELECT array_agg(x) INTO v_promoted FROM _drop_enrolments(ARRAY[p.id]) x;
	PERFORM _changed(c.event_id, p_actor, 'PARTICIPANT DECLINE',
	    c.event || '/participant/' || p.id,
	    jsonb_build_object('status', 'declined', 'was', c.status,
	    'reason', v_reason, 'promoted', to_jsonb(v_promoted)),
	    json_build_object('event', c.event,
	    'kind', 'participant.declined', 'id', p.id::text, 'party', c.party,
	    'name', p.name));
	RETURN QUERY SELECT p.id::text, p.status::text, p.version::text;
END $$;

-- PARTICIPANT ERASE id= (admin): the personal data (name, family, latin,
-- honorific, title, e-mail, reason) becomes 'erased', in
-- the participant, their speakers' topics and the audit trail (where the
-- refs of their rows become 'erased' too: an import's ref is keyed by the
-- row's content); the refs that created them or made them a speaker are
-- forgotten (request_ref, whose replies name them). Status, role, badge,
-- enrolments and check-ins stay, so counts do not change. Allowed whatever
-- the event's status.
CREATE FUNCTION roster.participant_erase(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text)
RETURNS TABLE (id text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	c participant_ctx;
	p participant;
	v_target text;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin');
	c := _participant(p_actor_role, p_actor_party,
	    CASE WHEN p_event IS NOT NULL THEN (_event(p_event)).id END, 'id', p_id);
	p := _participant_lock(c, false);
	IF p.erased THEN
		RETURN QUERY SELECT p.id::text, p.version::text;
		RETURN;
	END IF;
	UPDATE participant SET name = 'erased',
	    family = CASE WHEN family IS NOT NULL THEN 'erased' END,
	    latin = CASE WHEN latin IS NOT NULL THEN 'erased' END,
	    honorific = CASE WHEN honorific IS NOT NULL THEN 'erased' END,
	    title = CASE WHEN title IS NOT NULL THEN 'erased' END,
	    email = CASE WHEN email IS NOT NULL THEN 'erased' END,
	    reason = CASE WHEN reason IS NOT NULL THEN 'erased' END,
	    erased = true, version = version + 1
	WHERE id = p.id RETURNING * INTO p;
	UPDATE speaker SET topic = 'erased'
	WHERE participant_id = p.id AND topic IS NOT NULL;
	PERFORM _ref_forget(c.event_id, p.id);
	v_target := c.event || '/participant/' || p.id;
	UPDATE audit SET detail = (
		SELECT jsonb_object_agg(k, CASE WHEN k IN ('name', 'family',
		    'latin', 'honorific', 'title', 'email', 'reason', 'topic', 'ref')
		    THEN '"erased"'::jsonb ELSE v END)
		FROM jsonb_each(detail) AS x(k, v))
	WHERE target = v_target
	    AND detail ?| ARRAY['name', 'family', 'latin', 'honorific', 'title',
	        'email', 'reason', 'topic', 'ref'];
	PERFORM _changed(c.event_id, p_actor, 'PARTICIPANT ERASE', v_target,
	    jsonb_build_object('erased', true),
	    json_build_object('event', c.event,
	    'kind', 'participant.erased', 'id', p.id::text, 'party', c.party));
	RETURN QUERY SELECT p.id::text, p.version::text;
END $$;

-- The moment at= of a CHECKIN, checked against the event e: not more than
-- 5 minutes (the clock skew allowed a desk) past the server's clock, and
-- within the event's days in its time zone, from the start of its first
-- day to the end of its last.
CREATE FUNCTION roster._checkin_at(e roster.event, p_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	IF p_at > now() + interval '5 minutes' THEN
		PERFORM _fail('RSINV', format('at: %s is in the future (more than '
		    '5 minutes past the server''s clock, %s)', _fmt_ts(p_at),
		    _fmt_ts(now())));
	END IF;
	IF p_at < e.starts::timestamp AT TIME ZONE e.timezone
	    OR p_at >= (e.ends + 1)::timestamp AT TIME ZONE e.timezone THEN
		PERFORM _fail('RSINV', format('at: %s is outside the days of event '
		    '%s (%s to %s, %s)', _fmt_ts(p_at), e.code, _fmt_date(e.starts),
		    _fmt_date(e.ends), e.timezone));
	END IF;
	RETURN p_at;
END $$;

-- CHECKIN (id= / badge=) [session=] [at=] [ref=]: while the event is open
-- or closed. A repeat for the same session (or for the event) answers the
-- check-in's time with already=1; when its at= is earlier than the time
-- recorded (an offline desk's scan replayed after an online one), the
-- check-in takes the earlier time, which is a change (audit row and
-- notification, already=1). checked_in of the participant is the earliest
-- of their check-ins of any kind. ref= is scoped to the event, no party
-- (CHECKIN is staff's): a repeat with the same ref answers the first reply
-- (the participant's name as it is now: the stored reply holds none, so
-- that PARTICIPANT ERASE leaves nothing of theirs in it) with replay=1 and
-- does nothing else; the same ref for another participant or session is
-- CONFLICT.
CREATE FUNCTION roster.checkin(p_actor text, p_actor_role text,
    p_actor_party text, p_event text, p_id text, p_badge text,
    p_session text, p_at text, p_ref text)
RETURNS TABLE (id text, party text, name text, checked_in text, already text,
    latin text, status text, replay text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	v_event_id integer;
	c participant_ctx;
	e event;
	s session;
	p participant;
	k checkin;
	v_scan timestamptz;
	v_at timestamptz;
	v_was timestamptz;
	v_already text;
	v_bid bigint;
	v_reply jsonb;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	IF p_event IS NOT NULL THEN
		v_event_id := (_event(p_event)).id;
	END IF;
	IF p_id IS NOT NULL THEN
		c := _participant(p_actor_role, p_actor_party, v_event_id, 'id', p_id);
	ELSIF p_badge IS NOT NULL THEN
		IF upper(p_badge) !~ '^[A-Z2-7]{10}$' THEN
			PERFORM _fail('RSINV', 'badge: must be 10 characters of A-Z 2-7');
		END IF;
		-- char(10) as the column is: the badge index finds it
		SELECT p.id INTO v_bid FROM participant p
		WHERE p.badge = upper(p_badge)::char(10);
		IF NOT FOUND THEN
			PERFORM _fail('RSNFD', 'badge not found');
		END IF;
		c := _participant(p_actor_role, p_actor_party, v_event_id, 'badge',
		    v_bid::text);
	ELSE
		PERFORM _fail('RSSYN', 'id= or badge= is required');
	END IF;
	IF p_id IS NOT NULL AND p_badge IS NOT NULL
	    AND c.badge::text <> upper(p_badge) THEN
		PERFORM _fail('RSNFD', 'badge not found');
	END IF;
	SELECT * INTO e FROM event WHERE event.id = c.event_id;
	IF p_session IS NOT NULL THEN
		s := _session(e.id, p_session);
	END IF;
	-- (at=, ref=: their helpers give NULL for NULL; called only when given)
	IF p_at IS NOT NULL THEN
		v_scan := _timestamp('at', p_at);
	END IF;
	IF p_ref IS NOT NULL THEN
		v_reply := _ref_claim(e.id, p_ref, 'CHECKIN', NULL);
	END IF;
	IF v_reply IS NOT NULL THEN
		IF v_reply->>'id' <> c.id::text
		    OR v_reply->>'session' IS DISTINCT FROM s.code::text THEN
			PERFORM _fail('RSCNF', 'ref: already used for another request');
		END IF;
		RETURN QUERY SELECT v_reply->>'id', v_reply->>'party', c.name::text,
		    v_reply->>'checked_in', v_reply->>'already', x.latin::text,
		    x.status::text, '1'
		FROM participant x WHERE x.id = c.id;
		RETURN;
	END IF;
	IF e.status NOT IN ('open', 'closed') THEN
		PERFORM _fail('RSCLO', format('event %s is %s: no check-in yet',
		    e.code, e.status));
	END IF;
	IF v_scan IS NOT NULL THEN
		v_scan := _checkin_at(e, v_scan);
	END IF;
	SELECT * INTO p FROM participant WHERE participant.id = c.id FOR NO KEY UPDATE;
	IF p.status = 'declined' THEN
		PERFORM _fail('RSCNF', format('participant %s has declined', p.id));
	END IF;
	-- The participant's row is locked: their check-ins cannot change
	-- under us.
	SELECT * INTO k FROM checkin
	WHERE checkin.participant_id = p.id
	    AND checkin.session_id IS NOT DISTINCT FROM s.id;
	IF k.id IS NULL THEN
		INSERT INTO checkin (participant_id, session_id, at, by_user)
		VALUES (p.id, s.id, coalesce(v_scan, now()), coalesce(p_actor, '-'))
		RETURNING at INTO v_at;
	ELSIF v_scan < date_trunc('second', k.at) THEN
		v_was := k.at;
		UPDATE checkin SET at = v_scan WHERE checkin.id = k.id
		RETURNING at INTO v_at;
		v_already := '1';
	ELSE
		v_at := k.at;
		v_already := '1';
	END IF;
	IF v_already IS NULL OR v_was IS NOT NULL THEN
		UPDATE participant SET checked_in = least(checked_in, v_at)
		WHERE participant.id = p.id;
		PERFORM _changed(e.id, p_actor, 'CHECKIN',
		    e.code || '/participant/' || p.id,
		    jsonb_build_object('session', s.code, 'badge', p_badge IS NOT NULL,
		    'at', _fmt_ts(v_scan), 'was', _fmt_ts(v_was), 'ref', p_ref),
		    json_build_object('event', e.code, 'kind', 'checkin',
		    'id', p.id::text, 'party', c.party, 'name', p.name,
		    'latin', p.latin, 'session', s.code, 'checked_in', _fmt_ts(v_at),
		    'already', v_already));
	END IF;
	IF p_ref IS NOT NULL THEN
		PERFORM _ref_store(e.id, p_ref, NULL, jsonb_strip_nulls(
		    jsonb_build_object('id', p.id::text, 'party', c.party,
		    'session', s.code::text, 'checked_in', _fmt_ts(v_at),
		    'already', v_already)));
	END IF;
	RETURN QUERY SELECT p.id::text, c.party, p.name::text, _fmt_ts(v_at),
	    v_already, p.latin::text, p.status::text, NULL::text;
END $$;
