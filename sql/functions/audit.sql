-- audit.sql -- AUDIT (daemon/cmd-audit.c): the committed changes, oldest
-- first, from roster.audit, which every write fills through _changed.

-- AUDIT [since=] [user=] [limit=]: oldest first. With since=, the first
-- `limit` changes at or after it; without, the last `limit` changes.
-- limit defaults to 1000.
CREATE FUNCTION roster.audit(p_actor text, p_actor_role text,
    p_actor_party text, p_since text, p_user text, p_limit text)
RETURNS TABLE (at text, "user" text, command text, target text, detail text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	v_since timestamptz;
	v_limit integer;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat');
	v_since := _timestamp('since', p_since);
	v_limit := coalesce(_int('limit', p_limit, 1, 1000000), 1000);
	IF v_since IS NOT NULL THEN
		RETURN QUERY
		SELECT _fmt_ts(a.at), a.username, a.command, a.target,
		    _json_compact(a.detail)
		FROM audit a
		WHERE a.at >= v_since
		    AND (p_user IS NULL OR lower(a.username) = lower(p_user))
		ORDER BY a.at, a.id
		LIMIT v_limit;
	ELSE
		RETURN QUERY
		SELECT _fmt_ts(x.at), x.username, x.command, x.target,
		    _json_compact(x.detail)
		FROM (SELECT a.* FROM audit a
		      WHERE p_user IS NULL OR lower(a.username) = lower(p_user)
		      ORDER BY a.at DESC, a.id DESC
		      LIMIT v_limit) x
		ORDER BY x.at, x.id;
	END IF;
END $$;
