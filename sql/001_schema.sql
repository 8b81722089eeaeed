-- 001_schema.sql -- roster's data model: every table, constraint and index.
--
-- Applied once by `rosterd --migrate` inside one transaction; the runner has
-- already created schema roster and roster.schema_migration. The rules that
-- need more than one row (quota, capacity, one head, idempotent refs, who may
-- see what) live in the functions of the later migrations; the constraints
-- here are the last line of defence and never the only check.
--
-- Codes (events, parties, sessions, user names) keep the case they were given
-- and compare case-insensitively: every lookup is on lower(code), backed by a
-- unique index on lower(code). Times are timestamptz; session times are shown
-- in the event's own time zone.

CREATE SCHEMA IF NOT EXISTS roster;

-- Sorting of people's and parties' names: the Unicode root collation, whatever
-- locale the cluster was initialised with (often C or C.UTF-8).
CREATE COLLATION roster.names (provider = icu, locale = 'und');

-- 1-32 characters, first a letter or digit (PROTOCOL.md section 2).
CREATE DOMAIN roster.code_t AS text
	CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$');

-- A name or title: 1-200 characters, no leading or trailing space.
CREATE DOMAIN roster.name_t AS text
	CHECK (char_length(VALUE) BETWEEN 1 AND 200 AND VALUE = btrim(VALUE));

-- Free text (note, reason, topic): at most 4000 characters.
CREATE DOMAIN roster.note_t AS text
	CHECK (char_length(VALUE) <= 4000);

-- The time zone must be one PostgreSQL knows by name (Area/City or UTC).
CREATE FUNCTION roster.timezone_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = roster, pg_catalog AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.timezone = OLD.timezone THEN
		RETURN NEW;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.timezone) THEN
		RAISE EXCEPTION 'timezone: unknown time zone' USING ERRCODE = 'RSINV';
	END IF;
	RETURN NEW;
END $$;

CREATE TABLE roster.party (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code		roster.code_t NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('country', 'organisation')),
	name		roster.name_t NOT NULL,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	-- Countries use ISO 3166-1 alpha-2 codes.
	CHECK (kind <> 'country' OR code ~ '^[A-Z]{2}$')
);
CREATE UNIQUE INDEX party_code_key ON roster.party (lower(code));

CREATE TABLE roster.event (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code		roster.code_t NOT NULL,
	title		roster.name_t NOT NULL,
	venue		roster.name_t,
	city		roster.name_t NOT NULL,
	country_id	integer NOT NULL REFERENCES roster.party,
	starts		date NOT NULL,
	ends		date NOT NULL,
	timezone	text NOT NULL DEFAULT 'UTC',
	chair_id	integer REFERENCES roster.party,
	co_chair_id	integer REFERENCES roster.party,
	secretariat_id	integer REFERENCES roster.party,
	status		text NOT NULL DEFAULT 'draft'
			CHECK (status IN ('draft', 'open', 'closed')),
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (starts <= ends)
);
CREATE UNIQUE INDEX event_code_key ON roster.event (lower(code));
CREATE INDEX event_starts_idx ON roster.event (starts, code);
CREATE TRIGGER event_timezone_check BEFORE INSERT OR UPDATE OF timezone
	ON roster.event FOR EACH ROW EXECUTE FUNCTION roster.timezone_check();

CREATE TABLE roster.delegation (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	integer NOT NULL REFERENCES roster.event,
	party_id	integer NOT NULL REFERENCES roster.party,
	quota		integer CHECK (quota >= 0),
	note		roster.note_t,
	status		text NOT NULL DEFAULT 'registered'
			CHECK (status IN ('registered', 'confirmed', 'declined')),
	reason		roster.note_t,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (event_id, party_id)
);
CREATE INDEX delegation_party_idx ON roster.delegation (party_id);

CREATE TABLE roster.participant (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delegation_id	integer NOT NULL REFERENCES roster.delegation,
	name		roster.name_t NOT NULL,
	honorific	text CHECK (char_length(honorific) BETWEEN 1 AND 200),
	title		text CHECK (char_length(title) BETWEEN 1 AND 200),
	email		text CHECK (char_length(email) BETWEEN 1 AND 254),
	role		text NOT NULL DEFAULT 'member'
			CHECK (role IN ('head', 'member', 'adviser', 'observer', 'staff')),
	status		text NOT NULL DEFAULT 'registered'
			CHECK (status IN ('registered', 'confirmed', 'declined')),
	reason		roster.note_t,
	-- 10 characters of RFC 4648 base32, unique across the installation.
	badge		char(10) NOT NULL UNIQUE CHECK (badge ~ '^[A-Z2-7]{10}$'),
	checked_in	timestamptz,
	erased		boolean NOT NULL DEFAULT false,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX participant_delegation_idx ON roster.participant (delegation_id);
-- At most one head of delegation who has not declined.
CREATE UNIQUE INDEX participant_one_head ON roster.participant (delegation_id)
	WHERE role = 'head' AND status <> 'declined';

CREATE TABLE roster.session (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	integer NOT NULL REFERENCES roster.event,
	code		roster.code_t NOT NULL,
	kind		text NOT NULL
			CHECK (kind IN ('plenary', 'panel', 'working_group', 'side_event')),
	title		roster.name_t NOT NULL,
	starts		timestamptz NOT NULL,
	ends		timestamptz NOT NULL,
	room		roster.name_t,
	capacity	integer CHECK (capacity >= 0),
	theme		roster.name_t,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (starts <= ends)
);
CREATE UNIQUE INDEX session_code_key ON roster.session (event_id, lower(code));
CREATE INDEX session_starts_idx ON roster.session (event_id, starts);

CREATE TABLE roster.speaker (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id	integer NOT NULL REFERENCES roster.session,
	participant_id	bigint NOT NULL REFERENCES roster.participant,
	role		text NOT NULL DEFAULT 'speaker'
			CHECK (role IN ('speaker', 'moderator', 'chair', 'panelist')),
	topic		roster.note_t,
	position	integer NOT NULL CHECK (position >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (session_id, participant_id)
);
CREATE INDEX speaker_participant_idx ON roster.speaker (participant_id);

-- Arrival order across all sessions; a waiting list is ordered by it.
CREATE SEQUENCE roster.enrolment_seq AS bigint;

CREATE TABLE roster.enrolment (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id	integer NOT NULL REFERENCES roster.session,
	participant_id	bigint NOT NULL REFERENCES roster.participant,
	status		text NOT NULL CHECK (status IN ('enrolled', 'waitlisted')),
	seq		bigint NOT NULL DEFAULT nextval('roster.enrolment_seq'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (session_id, participant_id)
);
ALTER SEQUENCE roster.enrolment_seq OWNED BY roster.enrolment.seq;
CREATE INDEX enrolment_queue_idx ON roster.enrolment (session_id, status, seq);
CREATE INDEX enrolment_participant_idx ON roster.enrolment (participant_id);

-- One check-in per participant for the event (session_id NULL) and one per
-- session.
CREATE TABLE roster.checkin (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	participant_id	bigint NOT NULL REFERENCES roster.participant,
	session_id	integer REFERENCES roster.session,
	at		timestamptz NOT NULL DEFAULT now(),
	by_user		text NOT NULL
);
CREATE UNIQUE INDEX checkin_event_key ON roster.checkin (participant_id)
	WHERE session_id IS NULL;
CREATE UNIQUE INDEX checkin_session_key ON roster.checkin (participant_id, session_id)
	WHERE session_id IS NOT NULL;
CREATE INDEX checkin_session_idx ON roster.checkin (session_id);

CREATE TABLE roster.app_user (
	id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		roster.code_t NOT NULL,
	role		text NOT NULL
			CHECK (role IN ('admin', 'secretariat', 'host', 'focal')),
	party_id	integer REFERENCES roster.party,
	hash		text NOT NULL,
	enabled		boolean NOT NULL DEFAULT true,
	version		integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT now(),
	-- A focal point is bound to one party; nobody else is.
	CHECK ((role = 'focal') = (party_id IS NOT NULL))
);
CREATE UNIQUE INDEX app_user_name_key ON roster.app_user (lower(name));
CREATE INDEX app_user_party_idx ON roster.app_user (party_id);

-- One row per committed change, written by the function that made it.
CREATE TABLE roster.audit (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	event_id	integer REFERENCES roster.event,
	username	text NOT NULL,
	command		text NOT NULL,
	target		text,
	detail		jsonb
);
CREATE INDEX audit_at_idx ON roster.audit (at);
CREATE INDEX audit_user_idx ON roster.audit (lower(username), at);
CREATE INDEX audit_target_idx ON roster.audit (target);

-- Idempotent creates: the first request with a ref in an event stores its
-- reply; a repeat returns it. command and party_id tell a repeat from a
-- different request that reused the token.
CREATE TABLE roster.request_ref (
	event_id	integer NOT NULL REFERENCES roster.event,
	ref		text NOT NULL CHECK (ref ~ '^[A-Za-z0-9_.:-]{1,64}$'),
	command		text NOT NULL,
	party_id	integer REFERENCES roster.party,
	reply		jsonb,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (event_id, ref)
);
