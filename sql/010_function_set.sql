-- 010_function_set.sql -- which set of functions the database holds.
--
-- From here on the functions live in sql/functions/, one file per command
-- family, and every `rosterd --migrate` loads them all after the
-- migrations, in one transaction (sql/README.md). The load records here the
-- SHA-256 of the files rosterd was built with and a hash of the functions
-- in the catalog as the load left them; rosterd refuses to serve a database
-- whose record is not its own (another build's functions, or a function
-- changed by hand since).

CREATE TABLE roster.function_set (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	files_sha256	text NOT NULL,
	catalog_sha256	text NOT NULL,
	functions	integer NOT NULL,
	loaded_at	timestamptz NOT NULL DEFAULT now()
);

-- Every function that rosterd does not call starts with "_". The trigger
-- event_timezone_check follows its function through the rename.
ALTER FUNCTION roster.timezone_check() RENAME TO _timezone_check;
