-- web.sql -- the sessions of the HTTPS face (daemon/http-session.c,
-- migration 015): opened after a LOGIN over HTTPS, looked up by every
-- request that carries the cookie, ended by LOGOUT, by idleness past its
-- own idle (the opening daemon's http_session_idle, seconds), or by any
-- change of the
-- user's stamp (disabled, another role, party or password). Sessions are
-- named by the SHA-256 of their token, in hex.

-- After LOGIN: a session for the user whose password was checked, if the
-- user still has the stamp it had then; the session the request came
-- with (p_old), and every idle one, go. No row: refused.
CREATE FUNCTION roster.web_session_open(p_hash text, p_user text,
    p_stamp text, p_csrf text, p_idle integer, p_old text)
RETURNS TABLE (csrf text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	u app_user;
BEGIN
	DELETE FROM web_session
	WHERE seen_at < clock_timestamp() - make_interval(secs => idle)
	    OR token_hash = p_old;
	SELECT * INTO u FROM app_user
	WHERE lower(name) = lower(p_user) AND enabled FOR SHARE;
	IF NOT FOUND OR _user_stamp(u) <> p_stamp THEN
		RETURN;
	END IF;
	INSERT INTO web_session (token_hash, user_id, stamp, csrf, idle)
	VALUES (p_hash, u.id, p_stamp, p_csrf, p_idle);
	RETURN QUERY SELECT p_csrf;
END $$;

-- A request's session: its user (as login_done answers it), its CSRF
-- token and event, and it is used now. An idle session, or one whose
-- user has another stamp, is ended instead: no row.
CREATE FUNCTION roster.web_session_get(p_hash text)
RETURNS TABLE (name text, role text, party text, stamp text, csrf text,
    event text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	s web_session;
	u app_user;
BEGIN
	SELECT * INTO s FROM web_session WHERE token_hash = p_hash FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT * INTO u FROM app_user WHERE id = s.user_id;
	IF s.seen_at < clock_timestamp() - make_interval(secs => s.idle)
	    OR NOT u.enabled OR _user_stamp(u) <> s.stamp THEN
		DELETE FROM web_session WHERE token_hash = p_hash;
		RETURN;
	END IF;
	UPDATE web_session SET seen_at = clock_timestamp()
	WHERE token_hash = p_hash;
	RETURN QUERY SELECT u.name::text, u.role,
	    (SELECT p.code::text FROM party p WHERE p.id = u.party_id),
	    s.stamp, s.csrf, s.event;
END $$;

-- LOGOUT over HTTPS: every daemon is told on channel roster_web, to
-- close the session's Server-Sent Events streams.
CREATE FUNCTION roster.web_session_end(p_hash text)
RETURNS void
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	DELETE FROM web_session WHERE token_hash = p_hash;
	PERFORM _notify_send('roster_web', p_hash);
END $$;

-- PASSWORD over HTTPS keeps the session that ran it: it takes the user's
-- new stamp (the user's other sessions keep the old one, and end).
CREATE FUNCTION roster.web_session_restamp(p_hash text, p_stamp text)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	UPDATE web_session SET stamp = p_stamp WHERE token_hash = p_hash;
$$;

-- USE over HTTPS: the session's later requests default event= to it.
CREATE FUNCTION roster.web_session_use(p_hash text, p_event text)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog, pg_temp AS $$
	UPDATE web_session SET event = p_event WHERE token_hash = p_hash;
$$;

-- The seconds a web session has left before it is idle for too long (a
-- read, not a use: it does not renew the session); none when it is gone.
-- http-session.c asks it for a session's event streams.
CREATE FUNCTION roster.web_session_left(p_hash text) RETURNS integer
LANGUAGE sql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
	SELECT ceil(date_part('epoch', s.seen_at + make_interval(secs => s.idle)
	    - clock_timestamp()))::integer
	FROM web_session s WHERE s.token_hash = p_hash
$$;
