-- watch.sql -- WATCH (daemon/cmd-watch.c): the daemon relays to the client
-- every notification of the event (core.sql, _notify) from then on.

-- WATCH event=: admin, secretariat and host; the event's code as stored.
CREATE FUNCTION roster.watch(p_actor text, p_actor_role text,
    p_actor_party text, p_event text)
RETURNS TABLE (event text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	RETURN QUERY SELECT (_event(p_event)).code::text;
END $$;
