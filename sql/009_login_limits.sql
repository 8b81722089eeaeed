-- 009_login_limits.sql -- failed logins, counted in the database so that
-- the limits of PROTOCOL.md section 4 hold across every daemon sharing it
-- (and across restarts): after five failed logins for one user within a
-- minute that user's logins are refused for a minute, and after fifty from
-- one address, that address's.

CREATE TABLE roster.login_failure (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	username	text NOT NULL,		-- lower case
	address		text NOT NULL
);
CREATE INDEX login_failure_user_idx ON roster.login_failure (username, at);
CREATE INDEX login_failure_address_idx ON roster.login_failure (address, at);
CREATE INDEX login_failure_at_idx ON roster.login_failure (at);

-- Whether logins are refused now for these failures (of one user, or from
-- one address): some failure in the last minute was the p_limit-th within
-- a minute.
CREATE FUNCTION roster._login_blocked(p_at timestamptz[], p_limit integer)
RETURNS boolean
LANGUAGE sql AS $$
	SELECT EXISTS (
	    SELECT 1 FROM unnest(p_at) f(at)
	    WHERE f.at > clock_timestamp() - interval '1 minute'
		AND (SELECT count(*) FROM unnest(p_at) g(at)
		     WHERE g.at BETWEEN f.at - interval '1 minute' AND f.at)
		    >= p_limit)
$$;

-- LOGIN and PASSWORD: the user's login record (no row when unknown) and
-- whether logins for that user or from that address are refused now.
CREATE FUNCTION roster.login_check(p_name text, p_address text)
RETURNS TABLE (name text, role text, party text, hash text, enabled text,
    limited text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
DECLARE
	v_limited boolean;
BEGIN
	v_limited := _login_blocked(ARRAY(SELECT at FROM login_failure
		WHERE username = lower(p_name)
		    AND at > clock_timestamp() - interval '2 minutes'), 5)
	    OR _login_blocked(ARRAY(SELECT at FROM login_failure
		WHERE address = p_address
		    AND at > clock_timestamp() - interval '2 minutes'), 50);
	RETURN QUERY SELECT u.name, u.role, u.party, u.hash, u.enabled,
	    CASE WHEN v_limited THEN 'yes' ELSE 'no' END
	FROM user_auth(p_name) u;
	IF NOT FOUND THEN
		RETURN QUERY SELECT NULL::text, NULL::text, NULL::text,
		    NULL::text, NULL::text,
		    CASE WHEN v_limited THEN 'yes' ELSE 'no' END;
	END IF;
END $$;

-- A failed login (or wrong old password); rows older than ten minutes go.
CREATE FUNCTION roster.login_failed(p_name text, p_address text)
RETURNS void
LANGUAGE sql SET search_path = roster, pg_catalog AS $$
	DELETE FROM login_failure WHERE at < clock_timestamp() - interval '10 minutes';
	INSERT INTO login_failure (username, address)
	VALUES (lower(p_name), p_address);
$$;
