-- 013_user_password_notify.sql -- a password set (USER SET password=, or
-- PASSWORD) ends the sessions of whoever knew the old one, on every
-- daemon: the trigger of migration 008 announces a change of the hash too.
-- Its function, _user_changed (functions/user.sql), names in the payload
-- the one session that survives (the one that ran PASSWORD), if any.

DROP TRIGGER app_user_changed ON roster.app_user;
CREATE TRIGGER app_user_changed AFTER UPDATE ON roster.app_user
	FOR EACH ROW
	WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
	    OR OLD.role IS DISTINCT FROM NEW.role
	    OR OLD.party_id IS DISTINCT FROM NEW.party_id
	    OR OLD.hash IS DISTINCT FROM NEW.hash)
	EXECUTE FUNCTION roster._user_changed();
