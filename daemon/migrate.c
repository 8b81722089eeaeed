/*
 * migrate.c -- start-up commands that talk to PostgreSQL before (or instead
 * of) the event loop: applying the migrations compiled in from sql/, checking
 * the schema version, and adding a user. These block, which is fine here:
 * no client is served yet.
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
	PGconn	*pg;

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
	PGresult	*res;
	int		 ok;

	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "rosterd: %s", PQerrorMessage(pg));
	PQclear(res);
	return (ok ? 0 : -1);
}

/* Apply, in order and each in its own transaction, the migrations the
 * database has not recorded yet. Running it twice does nothing the second
 * time. A lock keeps two concurrent runs apart. */
int
migrate_run(const char *conninfo)
{
	PGconn		*pg;
	PGresult	*res;
	const char	*params[2];
	char		 vbuf[16];
	int		 i, applied = 0, have;

	if ((pg = migrate_connect(conninfo)) == NULL)
		return (-1);
	if (migrate_exec(pg, "SET client_min_messages = warning") == -1 ||
	    migrate_exec(pg, "SELECT pg_advisory_lock(7470)") == -1 ||
	    migrate_exec(pg, "CREATE SCHEMA IF NOT EXISTS roster") == -1 ||
	    migrate_exec(pg, "CREATE TABLE IF NOT EXISTS "
	    "roster.schema_migration (version int PRIMARY KEY, "
	    "name text NOT NULL, applied_at timestamptz NOT NULL "
	    "DEFAULT now())") == -1)
		goto fail;
	for (i = 0; i < nmigrations; i++) {
		snprintf(vbuf, sizeof vbuf, "%d", migrations[i].version);
		params[0] = vbuf;
		res = PQexecParams(pg, "SELECT 1 FROM roster.schema_migration "
		    "WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
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
		res = PQexecParams(pg, "INSERT INTO roster.schema_migration "
		    "(version, name) VALUES ($1, $2)", 2, NULL, params, NULL,
		    NULL, 0);
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
	PQfinish(pg);
	return (0);
fail:
	PQfinish(pg);
	return (-1);
}

/* At start-up: refuse a database whose schema is older than this rosterd.
 * Returns 0 when fine, 1 when the database cannot be reached (the daemon
 * starts anyway and the pool keeps trying), -1 when the schema is old. */
int
db_schema_check(const char *conninfo, char *err, size_t errlen)
{
	PGconn		*pg;
	PGresult	*res;
	int		 v, rc = 0;
	char		*ci;

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
	res = PQexec(pg, "SELECT coalesce(max(version), 0) FROM "
	    "roster.schema_migration");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		v = 0;
	else
		v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(pg);
	if (v < migrate_latest()) {
		snprintf(err, errlen, "the database schema is at version %d, "
		    "this rosterd needs %d: run rosterd -c FILE --migrate", v,
		    migrate_latest());
		rc = -1;
	}
	return (rc);
}

/* rosterd --add-user: hash the password here and create the user through
 * the same SQL function as USER ADD, audited as done by "rosterd". */
int
migrate_add_user(const char *conninfo, const char *name, const char *role,
    const char *party, const char *password)
{
	PGconn		*pg;
	PGresult	*res;
	char		 hash[256];
	const char	*params[7];
	int		 rc = -1;

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
	res = PQexecParams(pg, "SELECT * FROM roster.user_add($1, $2, $3, $4, "
	    "$5, $6, $7)", 7, NULL, params, NULL, NULL, 0);
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
