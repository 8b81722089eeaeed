-- 005_export.sql -- how EXPORT hands its parameters to a COPY.
--
-- COPY (query) TO STDOUT takes no bind parameters. So that no client value
-- is ever spliced into SQL text, the daemon first runs the prepared
-- statement SELECT roster.export_args($1 .. $7) (actor, role, actor party,
-- event, party, session, status), which keeps them in a setting of the
-- session, and then, on the same connection, a constant
-- COPY (SELECT * FROM roster.export_WHAT(roster.export_arg(1), ...)).

CREATE FUNCTION roster.export_args(VARIADIC p text[]) RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('roster.export_args', array_to_json(p)::text, false);
$$;

CREATE FUNCTION roster.export_arg(i int) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT current_setting('roster.export_args', true)::json ->> (i - 1);
$$;
