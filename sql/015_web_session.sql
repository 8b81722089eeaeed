-- 015_web_session.sql -- the sessions of the HTTPS face (proto/HTTP.md):
-- one row per session opened by a LOGIN over HTTPS, found by the SHA-256
-- of its token (the token itself is only in the browser's cookie), with
-- the stamp of its user as it logged in (login.sql's _user_stamp: another
-- stamp ends the session), its CSRF token, the event of its USE and when
-- it was last used (the idle expiry). In the database, so that every
-- rosterd sharing it knows the session, and across restarts.

CREATE TABLE roster.web_session (
	token_hash	text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
	user_id		integer NOT NULL REFERENCES roster.app_user ON DELETE CASCADE,
	stamp		text NOT NULL,
	csrf		text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
	event		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	seen_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_session_seen_idx ON roster.web_session (seen_at);
CREATE INDEX web_session_user_idx ON roster.web_session (user_id);
