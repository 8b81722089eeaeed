-- 008_user_sessions.sql -- a user disabled, or given another role or
-- party, loses the sessions already open, on every daemon: the change is
-- announced on channel "roster_user" (payload: the user name), and each
-- daemon's listener logs that user's connections out.

CREATE FUNCTION roster._user_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('roster_user', NEW.name);
	RETURN NULL;
END $$;

CREATE TRIGGER app_user_changed AFTER UPDATE ON roster.app_user
	FOR EACH ROW
	WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
	    OR OLD.role IS DISTINCT FROM NEW.role
	    OR OLD.party_id IS DISTINCT FROM NEW.party_id)
	EXECUTE FUNCTION roster._user_changed();
