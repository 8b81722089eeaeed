/*
 * migrate.c -- start-up commands that talk to PostgreSQL before (or instead
 * of) the event loop: applying the migrations compiled in from sql/ and
 * loading the function files, checking that the database holds this
 * rosterd's schema and functions, and adding a user. These block, which is
 * fine here: no client is served yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "rosterd.h"

int
migrate_latest(void)
{
	return (nmigrations > 0 ? migrations[nmigrations - 1].version : 0);
}

static PGconn *
migrate_connect(const char *conninfo)
{
	PGconn *pg;

	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "rosterd: cannot connect to the database: %s",
		    PQerrorMessage(pg));
		PQfinish(pg);
		return (NULL);
	}
	return (pg);
}

static int
migrate_exec(PGconn *pg, const char *sql)
{
	PGresult *res;
	int	  ok;

	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "rosterd: %s", PQerrorMessage(pg));
	PQclear(res);
	return (ok ? 0 : -1);
}

/* Drop every function of schema roster that nothing depends on (a
 * trigger's function stays: its file replaces it) and that no extension
 * owns. */
static const char migrate_drop_sql[] =
    "DO $$DECLARE f regprocedure; BEGIN "
    "FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p "
    "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = 'roster' AND NOT EXISTS (SELECT 1 FROM "
    "pg_catalog.pg_depend d WHERE d.refclassid = "
    "'pg_catalog.pg_proc'::regclass AND d.refobjid = p.oid) "
    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE "
    "d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid "
    "AND d.deptype = 'e') "
    "LOOP EXECUTE pg_catalog.format('DROP FUNCTION %s', f); END LOOP; "
    "END$$";

/* Record the set just loaded: the files' hash, the catalog's, a count. */
static const char migrate_record_sql[] =
    "INSERT INTO roster.function_set (files_sha256, catalog_sha256, "
    "functions) SELECT $1, " MIGRATE_CATALOG_HASH_SQL ", (SELECT count(*) "
    "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON "
    "n.oid = p.pronamespace WHERE n.nspname = 'roster') "
    "ON CONFLICT (one) DO UPDATE SET files_sha256 = EXCLUDED.files_sha256, "
    "catalog_sha256 = EXCLUDED.catalog_sha256, "
    "functions = EXCLUDED.functions, loaded_at = now() "
    "RETURNING functions";

/* The line of sql where a failed statement's error points, or 0. */
static int
migrate_error_line(PGresult *res, const char *sql)
{
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	long	    chars;
	int	    line = 1;

	if (pos == NULL || (chars = strtol(pos, NULL, 10)) < 1)
		return (0);
	/* the position counts characters: skip UTF-8 continuation bytes */
	for (; *sql != '\0'; sql++) {
		if (((unsigned char)*sql & 0xc0) != 0x80 && --chars == 0)
			break;
		if (*sql == '\n')
			line++;
	}
	return (*sql != '\0' ? line : 0);
}

/* Load every function file in one transaction: drop the functions that
 * can go, run the files in order, record the set. A file that fails rolls
 * it all back, so the functions are as they were. */
static int
migrate_functions(PGconn *pg)
{
	const struct function_file *ff;
	PGresult		   *res;
	const char		   *params[1] = { function_files_sha256 };
	int			    i, line;

	if (migrate_exec(pg, "BEGIN") == -1)
		return (-1);
	if (migrate_exec(pg, migrate_drop_sql) == -1)
		goto fail;
	for (i = 0; i < nfunction_files; i++) {
		ff = &function_files[i];
		res = PQexec(pg, ff->sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			if ((line = migrate_error_line(res, ff->sql)) > 0)
				fprintf(stderr, "rosterd: %s:%d: %s", ff->name,
				    line, PQerrorMessage(pg));
			else
				fprintf(stderr, "rosterd: %s: %s", ff->name,
				    PQerrorMessage(pg));
			PQclear(res);
			fprintf(stderr,
			    "rosterd: no function was loaded; those "
			    "in the database are as they were\n");
			goto fail;
		}
		PQclear(res);
	}
	res = PQexecParams(pg, migrate_record_sql, 1, NULL, params, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		fprintf(stderr, "rosterd: %s", PQerrorMessage(pg));
		PQclear(res);
		goto fail;
	}
	if (migrate_exec(pg, "COMMIT") == -1) {
		PQclear(res);
		return (-1);
	}
	printf("functions loaded: %s from %d files (sha256 %s)\n",
	    PQgetvalue(res, 0, 0), nfunction_files, function_files_sha256);
	PQclear(res);
	return (0);
fail:
	migrate_exec(pg, "ROLLBACK");
	return (-1);
}

/* Apply, in order and each in its own transaction, the migrations the
 * database has not recorded yet, then load the function files. Running it
 * twice changes nothing the second time. A lock keeps two concurrent runs
 * apart. */
int
migrate_run(const char *conninfo)
{
	PGconn	   *pg;
	PGresult   *res;
	const char *params[2];
	char	    vbuf[16];
	int	    i, applied = 0, have;

	if ((pg = migrate_connect(conninfo)) == NULL)
		return (-1);
	if (migrate_exec(pg, "SET client_min_messages = warning") == -1 ||
	    migrate_exec(pg, "SELECT pg_advisory_lock(7470)") == -1 ||
	    migrate_exec(pg, "CREATE SCHEMA IF NOT EXISTS roster") == -1 ||
	    migrate_exec(pg,
		"CREATE TABLE IF NOT EXISTS "
		"roster.schema_migration (version int PRIMARY KEY, "
		"name text NOT NULL, applied_at timestamptz NOT NULL "
		"DEFAULT now())") == -1)
		goto fail;
	for (i = 0; i < nmigrations; i++) {
		snprintf(vbuf, sizeof vbuf, "%d", migrations[i].version);
		params[0] = vbuf;
		res = PQexecParams(pg,
		    "SELECT 1 FROM roster.schema_migration "
		    "WHERE version = $1",
		    1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "rosterd: %s", PQerrorMessage(pg));
			PQclear(res);
			goto fail;
		}
		have = PQntuples(res) > 0;
		PQclear(res);
		if (have)
			continue;
		if (migrate_exec(pg, "BEGIN") == -1)
			goto fail;
		if (migrate_exec(pg, migrations[i].sql) == -1) {
			fprintf(stderr, "rosterd: migration %s failed\n",
			    migrations[i].name);
			migrate_exec(pg, "ROLLBACK");
			goto fail;
		}
		params[1] = migrations[i].name;
		res = PQexecParams(pg,
		    "INSERT INTO roster.schema_migration "
		    "(version, name) VALUES ($1, $2)",
		    2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "rosterd: %s", PQerrorMessage(pg));
			PQclear(res);
			migrate_exec(pg, "ROLLBACK");
			goto fail;
		}
		PQclear(res);
		if (migrate_exec(pg, "COMMIT") == -1)
			goto fail;
		printf("applied %s\n", migrations[i].name);
		applied++;
	}
	printf("schema at version %d (%d applied)\n", migrate_latest(),
	    applied);
	if (migrate_functions(pg) == -1)
		goto fail;
	PQfinish(pg);
	return (0);
fail:
	PQfinish(pg);
	return (-1);
}

/* The function set of the database against this rosterd's: 0 when it is
 * ours, else -1 with why in err. */
static int
migrate_functions_check(PGconn *pg, char *err, size_t errlen)
{
	PGresult   *res;
	const char *params[1] = { function_files_sha256 };
	int	    rc = -1;

	res = PQexecParams(pg,
	    "SELECT files_sha256, files_sha256 = $1, "
	    "catalog_sha256 = " MIGRATE_CATALOG_HASH_SQL " FROM "
	    "roster.function_set",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(err, errlen,
		    "the database's functions cannot be "
		    "checked: %s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
			PQerrorMessage(pg));
	else if (PQntuples(res) != 1)
		snprintf(err, errlen,
		    "the database has no functions loaded "
		    "by rosterd --migrate: run rosterd -c FILE --migrate");
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		snprintf(err, errlen,
		    "the database's functions are those of "
		    "another rosterd (sha256 %.12s..., this one has %.12s...): "
		    "run rosterd -c FILE --migrate",
		    PQgetvalue(res, 0, 0), function_files_sha256);
	else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
		snprintf(err, errlen,
		    "the database's functions were changed "
		    "since rosterd --migrate loaded them: run rosterd -c FILE "
		    "--migrate");
	else
		rc = 0;
	PQclear(res);
	return (rc);
}

/* At start-up: refuse a database whose schema is older than this rosterd,
 * or whose functions are not this rosterd's. Returns 0 when fine, 1 when
 * the database cannot be reached (the daemon starts anyway and the pool
 * keeps trying), -1 when it is refused. */
int
db_schema_check(const char *conninfo, char *err, size_t errlen)
{
	PGconn	 *pg;
	PGresult *res;
	int	  v, rc = 0;
	char	 *ci;

	/* do not wait long for an absent server */
	if (asprintf(&ci, "%s connect_timeout=5", conninfo) == -1)
		return (1);
	pg = PQconnectdb(ci);
	free(ci);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(pg));
		PQfinish(pg);
		return (1);
	}
	res = PQexec(pg,
	    "SELECT coalesce(max(version), 0) FROM "
	    "roster.schema_migration");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		v = 0;
	else
		v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (v < migrate_latest()) {
		snprintf(err, errlen,
		    "the database schema is at version %d, "
		    "this rosterd needs %d: run rosterd -c FILE --migrate",
		    v, migrate_latest());
		rc = -1;
	} else if (migrate_functions_check(pg, err, errlen) == -1)
		rc = -1;
	PQfinish(pg);
	return (rc);
}

/* rosterd --add-user: hash the password here and create the user through
 * the same SQL function as USER ADD, audited as done by "rosterd". */
int
migrate_add_user(const char *conninfo, const char *name, const char *role,
    const char *party, const char *password)
{
	PGconn	   *pg;
	PGresult   *res;
	char	    hash[256];
	const char *params[7];
	int	    rc = -1;

	if (auth_hash_now(password, hash, sizeof hash) == -1) {
		fprintf(stderr, "rosterd: password hashing failed\n");
		return (-1);
	}
	if ((pg = migrate_connect(conninfo)) == NULL)
		return (-1);
	params[0] = "rosterd";
	params[1] = "admin";
	params[2] = NULL;
	params[3] = name;
	params[4] = role;
	params[5] = party;
	params[6] = hash;
	res = PQexecParams(pg,
	    "SELECT * FROM roster.user_add($1, $2, $3, $4, "
	    "$5, $6, $7)",
	    7, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		printf("user %s added role=%s%s%s\n", name, role,
		    party ? " party=" : "", party ? party : "");
		rc = 0;
	} else
		fprintf(stderr, "rosterd: %s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
			PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
			PQerrorMessage(pg));
	if (rc == -1)
		fputc('\n', stderr);
	PQclear(res);
	PQfinish(pg);
	return (rc);
}
