-- party.sql -- PARTY ADD, LIST, SHOW (daemon/cmd-party.c): countries
-- (ISO 3166-1, preloaded by migration 002) and organisations.

-- PARTY ADD code= kind=country/organisation name=.
CREATE FUNCTION roster.party_add(p_actor text, p_actor_role text,
    p_actor_party text, p_code text, p_kind text, p_name text)
RETURNS TABLE (code text, version text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	v_code text;
	v_name text;
	v_version integer;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host');
	PERFORM _need('code', p_code);
	PERFORM _need('kind', p_kind);
	PERFORM _need('name', p_name);
	v_code := _code('code', p_code);
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	IF p_kind = 'country' AND v_code !~ '^[A-Z]{2}$' THEN
		PERFORM _fail('RSINV', 'code: a country needs its ISO 3166-1 alpha-2 code in upper case');
	END IF;
	v_name := _name('name', p_name);
	INSERT INTO party (code, kind, name) VALUES (v_code, p_kind, v_name)
	ON CONFLICT ((lower(code::text))) DO NOTHING
	RETURNING party.version INTO v_version;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('party %s exists', v_code));
	END IF;
	PERFORM _changed(NULL, p_actor, 'PARTY ADD', 'party/' || v_code,
	    jsonb_build_object('code', v_code, 'kind', p_kind, 'name', v_name), NULL);
	RETURN QUERY SELECT v_code, v_version::text;
END $$;

-- PARTY LIST [kind=]: countries first, then organisations, by name.
CREATE FUNCTION roster.party_list(p_actor text, p_actor_role text,
    p_actor_party text, p_kind text)
RETURNS TABLE (code text, kind text, name text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	IF p_kind NOT IN ('country', 'organisation') THEN
		PERFORM _fail('RSINV', 'kind: must be country or organisation');
	END IF;
	RETURN QUERY
	SELECT p.code::text, p.kind, p.name::text, p.version::text
	FROM party p
	WHERE p_kind IS NULL OR p.kind = p_kind
	ORDER BY p.kind <> 'country', p.name COLLATE roster.names, p.code;
END $$;

-- PARTY SHOW party=.
CREATE FUNCTION roster.party_show(p_actor text, p_actor_role text,
    p_actor_party text, p_party text)
RETURNS TABLE (code text, kind text, name text, version text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	p party;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin', 'secretariat', 'host', 'focal');
	PERFORM _need('party', p_party);
	p := _party('party', p_party);
	RETURN QUERY SELECT p.code::text, p.kind, p.name::text, p.version::text;
END $$;
