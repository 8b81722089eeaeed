-- 011_notify_key.sql -- the key that signs notifications.
--
-- Any role of the database may NOTIFY on any channel, and any role may
-- LISTEN; rosterd acts on channel "roster" (WATCH lines) and "roster_user"
-- (sessions of a changed user end). So every payload rosterd sends is
-- signed (roster._notify_send in functions/core.sql): an HMAC-SHA256 under
-- this key, which only the owner of the schema (rosterd's role) can read,
-- over the channel, a number from roster.notify_seq (each taken once, so a
-- payload seen and sent again is refused) and the body. rosterd reads the
-- key on its LISTEN connection and ignores whatever is not signed with it.

CREATE TABLE roster.notify_key (
	one	boolean PRIMARY KEY DEFAULT true CHECK (one),
	key	bytea NOT NULL CHECK (length(key) = 32)
);
REVOKE ALL ON roster.notify_key FROM PUBLIC;

-- 256 bits from gen_random_uuid (pg_strong_random, 122 bits each).
INSERT INTO roster.notify_key (key)
VALUES (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
    || gen_random_uuid()::text, 'UTF8')));

CREATE SEQUENCE roster.notify_seq;
REVOKE ALL ON SEQUENCE roster.notify_seq FROM PUBLIC;
