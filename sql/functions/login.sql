-- login.sql -- the steps of LOGIN and PASSWORD, the login by client
-- certificate, the check of open sessions, and USE: the commands of a
-- session (daemon/cmd-session.c) that need the database. Login attempts
-- are counted here, so that the limits of PROTOCOL.md section 4 hold
-- across every daemon sharing the database (and across restarts): after
-- five failed logins for one user within a minute that user's logins are
-- refused for a minute, and after fifty from one address (an IPv4 address,
-- or an IPv6 /64), that address's.
--
-- An attempt is counted as failed *before* its password is checked: the
-- statement that reads the user (login_check) claims it, and only a right
-- password takes the claim back (login_done, password_set; login_release
-- when the check did not even run). However many attempts arrive at once,
-- on however many daemons, at most five of a user's are ever checked
-- within a minute: the claims of one user (and of one address) are made
-- one at a time.

-- What changes a session depends on: whether it is the same user (id),
-- with the same password (hash), role, party and enablement. A session
-- keeps the stamp it was opened with; another stamp ends it.
CREATE FUNCTION roster._user_stamp(p_user roster.app_user)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT left(encode(sha256(convert_to(concat_ws(' ', p_user.id,
	    p_user.hash, p_user.role, p_user.party_id, p_user.enabled),
	    'UTF8')), 'hex'), 32)
$$;

-- The login record of a user (name case-insensitive); no row if unknown.
CREATE FUNCTION roster._login_record(p_user text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text,
    stamp text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, u.hash, _fmt_bool(u.enabled),
	    _user_stamp(u)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	WHERE lower(u.name) = lower(p_user);
END $$;

-- At connect: the login record of the user a verified client certificate
-- names (no row if unknown); the daemon logs in an enabled one.
CREATE FUNCTION roster.cert_login(p_user text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text,
    stamp text)
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT * FROM roster._login_record(p_user)
$$;

-- What the limits count an address by: an IPv4 address itself (also when
-- written as IPv6, ::ffff:a.b.c.d), an IPv6 address by its /64 (one
-- subscriber's network, whose addresses cost an attacker nothing). What
-- is not an address is counted as given.
CREATE FUNCTION roster._login_network(p_address text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	a inet;
BEGIN
	BEGIN
		a := host(p_address::inet)::inet;
	EXCEPTION WHEN invalid_text_representation THEN
		RETURN p_address;
	END;
	IF family(a) = 6 AND a <<= inet '::ffff:0.0.0.0/96' THEN
		a := inet '0.0.0.0' + (a - inet '::ffff:0.0.0.0');
	END IF;
	IF family(a) = 4 THEN
		RETURN host(a);
	END IF;
	RETURN network(set_masklen(a, 64))::text;
END $$;

-- Whether logins are refused now for these failures (of one user, or from
-- one address): some failure in the last minute was the p_limit-th within
-- a minute.
CREATE FUNCTION roster._login_blocked(p_at timestamptz[], p_limit integer)
RETURNS boolean
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT EXISTS (
	    SELECT 1 FROM unnest(p_at) f(at)
	    WHERE f.at > clock_timestamp() - interval '1 minute'
		AND (SELECT count(*) FROM unnest(p_at) g(at)
		     WHERE g.at BETWEEN f.at - interval '1 minute' AND f.at)
		    >= p_limit)
$$;

-- LOGIN and PASSWORD, first step: the user's login record (a row of NULLs
-- when unknown), whether logins for that user or from that address are
-- refused now (limited), and else the attempt, claimed as a failure until
-- its password proves right (its id, for login_done, password_set or
-- login_release). The claims of one user, and of one address, are made
-- one at a time (advisory locks held to the commit, always taken user
-- first), so that each sees every claim made before it on any daemon.
CREATE FUNCTION roster.login_check(p_user text, p_address text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text,
    stamp text, limited text, attempt text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v_user text := lower(p_user);
	v_net text := coalesce(_login_network(p_address), '-');
	v_limited boolean;
	v_attempt bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('roster.login_failure.user'),
	    hashtext(v_user));
	PERFORM pg_advisory_xact_lock(hashtext('roster.login_failure.address'),
	    hashtext(v_net));
	v_limited := _login_blocked(ARRAY(SELECT f.at FROM login_failure f
		WHERE f.username = v_user
		    AND f.at > clock_timestamp() - interval '2 minutes'), 5)
	    OR _login_blocked(ARRAY(SELECT f.at FROM login_failure f
		WHERE f.address = v_net
		    AND f.at > clock_timestamp() - interval '2 minutes'), 50);
	IF NOT v_limited THEN
		DELETE FROM login_failure
		WHERE login_failure.at < clock_timestamp() - interval '10 minutes';
		INSERT INTO login_failure (username, address)
		VALUES (v_user, v_net)
		RETURNING id INTO v_attempt;
	END IF;
	RETURN QUERY SELECT u.name, u.role, u.party, u.hash, u.enabled, u.stamp,
	    CASE WHEN v_limited THEN 'yes' ELSE 'no' END, v_attempt::text
	FROM _login_record(p_user) u;
	IF NOT FOUND THEN
		RETURN QUERY SELECT NULL::text, NULL::text, NULL::text,
		    NULL::text, NULL::text, NULL::text,
		    CASE WHEN v_limited THEN 'yes' ELSE 'no' END, v_attempt::text;
	END IF;
END $$;

-- LOGIN, last step, once the password proved right: the claim is taken
-- back, and the user read again, waiting for a change being made to it
-- (FOR SHARE): the session is opened only for the user whose hash was
-- checked, still enabled (stamp unchanged). No row: refused.
CREATE FUNCTION roster.login_done(p_attempt text, p_user text, p_stamp text)
RETURNS TABLE (name text, role text, party text, stamp text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	DELETE FROM login_failure WHERE id = p_attempt::bigint;
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, _user_stamp(u)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	WHERE lower(u.name) = lower(p_user) AND u.enabled
	    AND _user_stamp(u) = p_stamp
	FOR SHARE OF u;
END $$;

-- LOGIN and PASSWORD: an attempt claimed whose password was never checked
-- (the daemon was too busy) is not a failure.
CREATE FUNCTION roster.login_release(p_attempt text)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	DELETE FROM login_failure WHERE id = p_attempt::bigint;
$$;

-- After the daemon may have missed notifications on "roster_user" (its
-- listening connection was lost): of the sessions open, given as the
-- users' names and stamps (separated by ","; codes hold none), those that
-- no longer hold (the user gone, disabled or changed).
CREATE FUNCTION roster.login_recheck(p_users text, p_stamps text)
RETURNS TABLE (name text, stamp text)
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT s.name, s.stamp
	FROM unnest(string_to_array(p_users, ','),
	    string_to_array(p_stamps, ',')) s(name, stamp)
	WHERE NOT EXISTS (SELECT 1 FROM app_user u
	    WHERE lower(u.name) = lower(s.name) AND u.enabled
		AND _user_stamp(u) = s.stamp)
$$;

-- PASSWORD old= new=, the last step: the daemon has checked old= against
-- the user as login_check read it (p_stamp) and hashed new=; p_new is the
-- hash. The claim p_attempt is taken back. The password is set only if
-- the user is still that one (an admin's reset meanwhile is not undone by
-- someone who knew the old password). The user's other sessions end on
-- every daemon (_user_changed), except p_session, the one that ran it.
-- Returns the session's new stamp.
CREATE FUNCTION roster.password_set(p_actor text, p_actor_role text,
    p_actor_party text, p_new text, p_attempt text, p_stamp text,
    p_session text)
RETURNS TABLE (name text, stamp text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	u app_user;
BEGIN
	PERFORM _need('new', p_new);
	IF p_new = '' THEN
		PERFORM _fail('RSINV', 'new: empty');
	END IF;
	DELETE FROM login_failure WHERE id = p_attempt::bigint;
	PERFORM set_config('roster.session_kept', coalesce(p_session, ''), true);
	UPDATE app_user SET hash = p_new, version = version + 1
	WHERE lower(app_user.name) = lower(p_actor) AND enabled
	    AND _user_stamp(app_user) = p_stamp
	RETURNING * INTO u;
	IF NOT FOUND THEN
		PERFORM _fail('RSAUF', 'wrong password');
	END IF;
	PERFORM _changed(NULL, p_actor, 'PASSWORD', 'user/' || u.name,
	    jsonb_build_object('password_changed', true), NULL);
	RETURN QUERY SELECT u.name::text, _user_stamp(u);
END $$;

-- USE event=: any user who is logged in; the event's code as stored (a
-- connection's default event from then on).
CREATE FUNCTION roster.use(p_actor text, p_actor_role text,
    p_actor_party text, p_event text)
RETURNS TABLE (event text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	RETURN QUERY SELECT (_event(p_event)).code::text;
END $$;
