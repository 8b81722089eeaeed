-- user.sql -- USER ADD, USER LIST, USER SET (admin only; daemon/cmd-user.c),
-- and the trigger function that announces a change of a user's rights.
-- A password arrives here already hashed by the daemon: p_password holds
-- the Argon2id hash, never the password.

-- A user disabled, given another role or party, or another password,
-- loses the sessions already open on every daemon: announced on channel
-- "roster_user". The payload is the user name, and when PASSWORD made the
-- change, a space and the session that keeps going (the setting
-- roster.session_kept of password_set, functions/login.sql: the daemon's
-- own name for it). The trigger is app_user_changed (migrations 008 and
-- 013), which calls it after an UPDATE that changes those.
CREATE OR REPLACE FUNCTION roster._user_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
BEGIN
	PERFORM roster._notify_send('roster_user', NEW.name || coalesce(' ' ||
	    nullif(current_setting('roster.session_kept', true), ''), ''));
	RETURN NULL;
END $$;

-- USER ADD name= role= [party=] password=.
CREATE FUNCTION roster.user_add(p_actor text, p_actor_role text,
    p_actor_party text, p_name text, p_role text, p_party text, p_password text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	v_party party;
	v_name text;
BEGIN
	PERFORM _need_role(p_actor_role, 'admin');
	PERFORM _need('name', p_name);
	PERFORM _need('role', p_role);
	PERFORM _need('password', p_password);
	v_name := _code('name', p_name);
	IF p_role NOT IN ('admin', 'secretariat', 'host', 'focal') THEN
		PERFORM _fail('RSINV', 'role: must be admin, secretariat, host or focal');
	END IF;
	IF p_role = 'focal' AND p_party IS NULL THEN
		PERFORM _fail('RSINV', 'party: role=focal needs party=');
	ELSIF p_role <> 'focal' AND p_party IS NOT NULL THEN
		PERFORM _fail('RSINV', 'party: party is only for role=focal');
	END IF;
	v_party := _party('party', p_party);
	IF p_password = '' THEN
		PERFORM _fail('RSINV', 'password: empty');
	END IF;
	INSERT INTO app_user (name, role, party_id, hash)
	VALUES (v_name, p_role, v_party.id, p_password)
	ON CONFLICT ((lower(name::text))) DO NOTHING;
	IF NOT FOUND THEN
		PERFORM _fail('RSCNF', format('user %s exists', v_name));
	END IF;
	PERFORM _changed(NULL, p_actor, 'USER ADD', 'user/' || v_name,
	    jsonb_build_object('name', v_name, 'role', p_role,
	    'party', v_party.code), NULL);
	RETURN QUERY SELECT v_name;
END $$;

-- USER LIST: every user, by name.
CREATE FUNCTION roster.user_list(p_actor text, p_actor_role text,
    p_actor_party text)
RETURNS TABLE (name text, role text, party text, enabled text)
LANGUAGE plpgsql STABLE SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
	PERFORM _need_role(p_actor_role, 'admin');
	RETURN QUERY
	SELECT u.name::text, u.role, p.code::text, _fmt_bool(u.enabled)
	FROM app_user u LEFT JOIN party p ON p.id = u.party_id
	ORDER BY lower(u.name), u.id;
END $$;

-- USER SET name= [password=] [role=] [party=] [enabled=yes/no]. NULL leaves
-- a field as it is; party= "" clears it. Only a focal point has a party.
-- The last enabled admin cannot be demoted or disabled.
CREATE FUNCTION roster.user_set(p_actor text, p_actor_role text,
    p_actor_party text, p_name text, p_password text, p_role text,
    p_party text, p_enabled text)
RETURNS TABLE (name text)
LANGUAGE plpgsql SET search_path = roster, pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	u app_user;
	v_role text;
	v_party_id integer;
	v_enabled boolean;
	v_party_code text;
	v_detail jsonb := '{}';
BEGIN
	PERFORM _need_role(p_actor_role, 'admin');
	PERFORM _need('name', p_name);
	SELECT * INTO u FROM app_user WHERE lower(name) = lower(p_name) FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM _fail('RSNFD', format('user %s not found', p_name));
	END IF;
	v_role := coalesce(p_role, u.role);
	IF v_role NOT IN ('admin', 'secretariat', 'host', 'focal') THEN
		PERFORM _fail('RSINV', 'role: must be admin, secretariat, host or focal');
	END IF;
	IF v_role = 'focal' THEN
		IF p_party IS NULL THEN
			v_party_id := u.party_id;
		ELSIF p_party <> '' THEN
			v_party_id := _party_id('party', p_party);
		END IF;
		IF v_party_id IS NULL THEN
			PERFORM _fail('RSINV', 'party: role=focal needs party=');
		END IF;
	ELSE
		IF coalesce(p_party, '') <> '' THEN
			PERFORM _fail('RSINV', 'party: party is only for role=focal');
		END IF;
		v_party_id := NULL;
	END IF;
	IF p_enabled IS NULL THEN
		v_enabled := u.enabled;
	ELSIF p_enabled IN ('yes', 'no') THEN
		v_enabled := p_enabled = 'yes';
	ELSE
		PERFORM _fail('RSINV', 'enabled: must be yes or no');
	END IF;
	IF p_password = '' THEN
		PERFORM _fail('RSINV', 'password: empty');
	END IF;

	IF u.role = 'admin' AND u.enabled AND (v_role <> 'admin' OR NOT v_enabled) THEN
		-- Serialise changes to admins so that two admins cannot disable
		-- each other at the same time.
		PERFORM pg_advisory_xact_lock(hashtext('roster.app_user.admin'));
		IF NOT EXISTS (SELECT 1 FROM app_user WHERE role = 'admin' AND enabled
		    AND id <> u.id) THEN
			PERFORM _fail('RSCNF', 'cannot demote or disable the last enabled admin');
		END IF;
	END IF;

	IF v_role IS DISTINCT FROM u.role THEN
		v_detail := v_detail || jsonb_build_object('role', v_role);
	END IF;
	IF v_party_id IS DISTINCT FROM u.party_id THEN
		SELECT code INTO v_party_code FROM party WHERE id = v_party_id;
		v_detail := v_detail || jsonb_build_object('party', coalesce(v_party_code, ''));
	END IF;
	IF v_enabled IS DISTINCT FROM u.enabled THEN
		v_detail := v_detail || jsonb_build_object('enabled', _fmt_bool(v_enabled));
	END IF;
	IF p_password IS NOT NULL THEN
		v_detail := v_detail || jsonb_build_object('password_changed', true);
	END IF;
	IF v_detail <> '{}' THEN
		UPDATE app_user SET role = v_role, party_id = v_party_id,
		    enabled = v_enabled, hash = coalesce(p_password, hash),
		    version = version + 1
		WHERE id = u.id;
		PERFORM _changed(NULL, p_actor, 'USER SET', 'user/' || u.name,
		    v_detail, NULL);
	END IF;
	RETURN QUERY SELECT u.name::text;
END $$;
