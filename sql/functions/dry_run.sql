-- dry_run.sql -- dry_run=yes on a write: check, answer, change nothing.
--
-- roster.dry_run('participant_add', actor, role, party, keys...) calls the
-- command's function inside a subtransaction and rolls it back, so that
-- every rule is checked against the data as it is (quota, one head, codes,
-- the event's status, the actor's party) and the reply is what the write
-- would answer, but no row, audit entry or notification remains. The
-- function name comes from the daemon's statement text, never from a
-- client. The arguments are parameters of the EXECUTE ($1[1], $1[2] ...
-- of the array p_args), never literals in its text: the text is what
-- PostgreSQL logs with an error (CONTEXT), and it must hold no name,
-- e-mail address or password hash. Rows are checked one at a time: a dry
-- run of several rows does not see the others' effects (two rows that each
-- fit a quota may not fit together).

CREATE FUNCTION roster.dry_run(p_func text, VARIADIC p_args text[])
RETURNS TABLE (key text, value text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
DECLARE
	v_reply	json;
	v_call	text;
BEGIN
	IF p_func !~ '^[a-z][a-z_]*$' THEN
		RAISE EXCEPTION 'no such command' USING ERRCODE = 'RSSYN';
	END IF;
	SELECT string_agg(format('$1[%s]', i), ', ' ORDER BY i)
	  INTO v_call
	  FROM generate_subscripts(p_args, 1) AS i;
	BEGIN
		-- A subquery: a function of one column (USER ADD's name) would
		-- make t that column, not a row.
		EXECUTE format('SELECT row_to_json(t) FROM (SELECT * FROM roster.%I(%s)) t',
		    p_func, v_call) INTO v_reply USING p_args;
		RAISE EXCEPTION 'dry run' USING ERRCODE = 'RSDRY';
	EXCEPTION WHEN SQLSTATE 'RSDRY' THEN
		NULL;	-- everything the call did is rolled back
	END;
	RETURN QUERY SELECT j.key, j.value FROM json_each_text(v_reply) j;
END;
$$;
