-- login.sql -- the steps of LOGIN and PASSWORD, the login by client
-- certificate, and USE: the commands of a session (daemon/cmd-session.c)
-- that need the database. Failed logins are counted here, so that the
-- limits of PROTOCOL.md section 4 hold across every daemon sharing the
-- database (and across restarts): after five failed logins for one user
-- within a minute that user's logins are refused for a minute, and after
-- fifty from one address, that address's.

-- The login record of a user (name case-insensitive); no row if unknown.
CREATE FUNCTION roster._login_record(p_user text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, u.hash, _fmt_bool(u.enabled)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	WHERE lower(u.name) = lower(p_user);
END $$;

-- At connect: the login record of the user a verified client certificate
-- names (no row if unknown); the daemon logs in an enabled one.
CREATE FUNCTION roster.cert_login(p_user text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text)
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT * FROM roster._login_record(p_user)
$$;

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

-- LOGIN and PASSWORD: the user's login record (no row when unknown) and
-- whether logins for that user or from that address are refused now.
CREATE FUNCTION roster.login_check(p_user text, p_address text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text,
    limited text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v_limited boolean;
BEGIN
	v_limited := _login_blocked(ARRAY(SELECT at FROM login_failure
		WHERE username = lower(p_user)
		    AND at > clock_timestamp() - interval '2 minutes'), 5)
	    OR _login_blocked(ARRAY(SELECT at FROM login_failure
		WHERE address = p_address
		    AND at > clock_timestamp() - interval '2 minutes'), 50);
	RETURN QUERY SELECT u.name, u.role, u.party, u.hash, u.enabled,
	    CASE WHEN v_limited THEN 'yes' ELSE 'no' END
	FROM _login_record(p_user) u;
	IF NOT FOUND THEN
		RETURN QUERY SELECT NULL::text, NULL::text, NULL::text,
		    NULL::text, NULL::text,
		    CASE WHEN v_limited THEN 'yes' ELSE 'no' END;
	END IF;
END $$;

-- A failed login (or wrong old password); rows older than ten minutes go.
CREATE FUNCTION roster.login_failed(p_user text, p_address text)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	DELETE FROM login_failure WHERE at < clock_timestamp() - interval '10 minutes';
	INSERT INTO login_failure (username, address)
	VALUES (lower(p_user), p_address);
$$;

-- PASSWORD old= new=, the last step: the daemon has checked old= (through
-- login_check) and hashed new=; p_new is the hash.
CREATE FUNCTION roster.password_set(p_actor text, p_actor_role text,
    p_actor_party text, p_new text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	v_name text;
BEGIN
	PERFORM _need('new', p_new);
	IF p_new = '' THEN
		PERFORM _fail('RSINV', 'new: empty');
	END IF;
	UPDATE app_user SET hash = p_new, version = version + 1
	WHERE lower(name) = lower(p_actor)
	RETURNING app_user.name INTO v_name;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', 'user not found');
	END IF;
	PERFORM _changed(NULL, p_actor, 'PASSWORD', 'user/' || v_name,
	    jsonb_build_object('password_changed', true), NULL);
	RETURN QUERY SELECT v_name;
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
