/*
 * db.c -- the asynchronous PostgreSQL pool, and the only file of the event
 * loop that calls libpq. A fixed number of non-blocking connections, each
 * driven by events on its socket: connect (PQconnectStart/PQconnectPoll),
 * check the schema version, prepare every registered statement, then serve
 * queries from one explicit queue with PQsendQueryPrepared. A lost
 * connection fails its query with UNAVAILABLE and is replaced with back-off.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "rosterd.h"

#define DB_MAX_STATEMENTS 160
#define DB_MAX_QUEUE	  200000
#define DB_QUEUE_TIMEOUT  10  /* seconds a query may wait for a connection */
#define DB_BACKOFF_MIN	  100 /* ms */
#define DB_BACKOFF_MAX	  5000

struct db_statement {
	const char *sql;
	int	    nparams;
};

struct db_query {
	TAILQ_ENTRY(db_query) entry;
	int    stmt;
	int    nparams;
	char **params;
	db_cb  cb;
	void  *arg;
	time_t queued;
	/* COPY ... TO STDOUT after the statement, streamed row by row */
	const char    *copy_sql;
	db_row_cb      row_cb;
	int	       copying;
	struct dbconn *conn;
};
TAILQ_HEAD(db_queryq, db_query);

enum dbc_state {
	DBC_DOWN,
	DBC_CONNECTING,
	DBC_CHECKING, /* schema version query in flight */
	DBC_PREPARING,
	DBC_READY,
	DBC_BUSY,
	DBC_LISTEN_SETUP, /* the listener: LISTEN in flight */
	DBC_LISTENING
};

struct dbconn {
	int		 idx;
	PGconn		*pg;
	enum dbc_state	 state;
	struct event	*ev;
	struct event	*retry;
	int		 backoff;
	int		 prep; /* next statement to prepare */
	struct db_query *q;
	PGresult	*res;	   /* first result of the query */
	int		 listener; /* LISTENs, serves no queries */
	int		 paused;   /* COPY reader waits for a client */
};

static struct db_statement db_stmts[DB_MAX_STATEMENTS];
static int		   db_nstmts;
static struct dbconn	  *db_conns;
static int		   db_nconns;
static struct event_base  *db_base;
static char		  *db_conninfo;
static struct db_queryq	   db_queue = TAILQ_HEAD_INITIALIZER(db_queue);
static int		   db_queued;
static int		   db_up; /* some connection serves */
static int		   db_starting = 1;
static struct event	  *db_sweep_ev;
static db_notify_cb	   db_notify;
static int		   db_ncopies;

static void dbc_connect(struct dbconn *);
static void dbc_fail(struct dbconn *, const char *);
static int  dbc_watch(struct dbconn *, short, event_callback_fn);
static void dbc_io_cb(evutil_socket_t, short, void *);
static void dbc_next(struct dbconn *);
static void dbc_notifies(struct dbconn *);
static int  dbc_copy_read(struct dbconn *);

/* Send what libpq holds; wait for write readiness only while some is left. */
static void
dbc_flush(struct dbconn *c)
{
	int r;

	if ((r = PQflush(c->pg)) == -1) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if ((r == 1) != ((event_get_events(c->ev) & EV_WRITE) != 0)) {
		if (dbc_watch(c, EV_READ | EV_PERSIST | (r == 1 ? EV_WRITE : 0),
			dbc_io_cb) == -1)
			dbc_fail(c, "event_add");
	}
}

/* Register a statement before db_start; returns its index. */
int
db_statement(const char *sql, int nparams)
{
	if (db_nstmts == DB_MAX_STATEMENTS)
		fatalx("too many statements");
	db_stmts[db_nstmts].sql = sql;
	db_stmts[db_nstmts].nparams = nparams;
	return (db_nstmts++);
}

static void
db_notice_cb(void *arg, const char *msg)
{
	char buf[512];

	log_escape(buf, sizeof buf, msg, strcspn(msg, "\n"));
	log_debug("db notice: %s", buf);
}

static void
db_query_free(struct db_query *q)
{
	if (q->copy_sql != NULL)
		db_ncopies--;
	free(q->params);
	free(q);
}

static void
db_query_fail(struct db_query *q, enum proto_code code, const char *msg)
{
	q->cb(q->arg, NULL, code, msg);
	db_query_free(q);
}

/* Fail every queued query: no connection can serve them now. */
static void
db_fail_queue(enum proto_code code, const char *msg)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&db_queue)) != NULL) {
		TAILQ_REMOVE(&db_queue, q, entry);
		db_queued--;
		db_query_fail(q, code, msg);
	}
}

static int
db_live(void)
{
	int i;

	for (i = 0; i < db_nconns; i++)
		if (db_conns[i].state == DBC_READY ||
		    db_conns[i].state == DBC_BUSY)
			return (1);
	return (0);
}

static void
dbc_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	dbc_connect(arg);
}

/* Drop the connection, fail its query, and try again after a back-off. */
static void
dbc_fail(struct dbconn *c, const char *why)
{
	struct timeval tv;
	char	       buf[256];
	int	       was_up = (c->state == DBC_READY || c->state == DBC_BUSY);

	log_escape(buf, sizeof buf, why, strcspn(why, "\n"));
	if (was_up || c->backoff == DB_BACKOFF_MIN || c->backoff == 0)
		log_warnx("db conn=%d lost: %s", c->idx, buf);
	else
		log_debug("db conn=%d connect failed: %s", c->idx, buf);
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = DBC_DOWN;
	c->paused = 0;
	if (c->q != NULL) {
		db_query_fail(c->q, PROTO_UNAVAILABLE,
		    "the database connection was lost");
		c->q = NULL;
	}
	if (c->listener) {
		log_warnx("db listener lost: live updates pause until it "
			  "reconnects");
		goto retry;
	}
	db_starting = 0;
	if (!db_live()) {
		if (db_up)
			log_error("db unavailable: no connection to the "
				  "database");
		db_up = 0;
		db_fail_queue(PROTO_UNAVAILABLE,
		    "the database cannot be reached");
	}
retry:
	if (c->backoff == 0)
		c->backoff = DB_BACKOFF_MIN;
	else if ((c->backoff *= 2) > DB_BACKOFF_MAX)
		c->backoff = DB_BACKOFF_MAX;
	tv.tv_sec = c->backoff / 1000;
	tv.tv_usec = (c->backoff % 1000) * 1000;
	evtimer_add(c->retry, &tv);
}

/* Wait on the socket for what libpq wants next. */
static int
dbc_watch(struct dbconn *c, short what, event_callback_fn cb)
{
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = event_new(db_base, PQsocket(c->pg), what, cb, c);
	if (c->ev == NULL || event_add(c->ev, NULL) == -1)
		return (-1);
	return (0);
}

static void
dbc_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *c = arg;
	/* the schema's version; whether the functions are this rosterd's
	 * (migrate.c); and an OK must mean committed to disk, so a server
	 * whose default is synchronous_commit=off does not apply to this
	 * session */
	const char *sql =
	    "SELECT coalesce(max(version), 0), CASE WHEN "
	    "current_setting('synchronous_commit') = 'off' THEN "
	    "set_config('synchronous_commit', 'on', false) END, "
	    "(SELECT f.files_sha256 = $1 AND f.catalog_sha256 = " MIGRATE_CATALOG_HASH_SQL
	    " FROM roster.function_set f) "
	    "FROM roster.schema_migration";
	const char *params[1] = { function_files_sha256 };

	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (dbc_watch(c, EV_READ, dbc_connect_cb) == -1)
			dbc_fail(c, "event_add");
		return;
	case PGRES_POLLING_WRITING:
		if (dbc_watch(c, EV_WRITE, dbc_connect_cb) == -1)
			dbc_fail(c, "event_add");
		return;
	case PGRES_POLLING_FAILED:
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	default:
		break;
	}
	/* connected: check the schema, then prepare the statements */
	PQsetNoticeProcessor(c->pg, db_notice_cb, NULL);
	if (c->listener)
		sql = "LISTEN roster; LISTEN roster_user";
	if (PQsetnonblocking(c->pg, 1) == -1 ||
	    !(c->listener ? PQsendQuery(c->pg, sql) :
			    PQsendQueryParams(c->pg, sql, 1, NULL, params, NULL,
				NULL, 0))) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = c->listener ? DBC_LISTEN_SETUP : DBC_CHECKING;
	if (dbc_watch(c, EV_READ | EV_WRITE | EV_PERSIST, dbc_io_cb) == -1)
		dbc_fail(c, "event_add");
}

static void
dbc_connect(struct dbconn *c)
{
	c->pg = PQconnectStart(db_conninfo);
	if (c->pg == NULL) {
		dbc_fail(c, "out of memory");
		return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = DBC_CONNECTING;
	if (dbc_watch(c, EV_WRITE, dbc_connect_cb) == -1)
		dbc_fail(c, "event_add");
}

/* Map a failed result to a protocol error code. */
static enum proto_code
db_error_code(PGresult *res, const char **msg)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	static const struct {
		const char     *state;
		enum proto_code code;
	} map[] = {
		{ "RSSYN", PROTO_SYNTAX },
		{ "RSINV", PROTO_INVALID },
		{ "RSFRB", PROTO_FORBIDDEN },
		{ "RSNFD", PROTO_NOT_FOUND },
		{ "RSCNF", PROTO_CONFLICT },
		{ "RSQUO", PROTO_QUOTA },
		{ "RSCLO", PROTO_CLOSED },
		{ "RSAUF", PROTO_AUTH_FAILED },
		{ "23505", PROTO_CONFLICT },
		{ "23503", PROTO_NOT_FOUND },
		{ "23514", PROTO_INVALID },
	};
	size_t i;

	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (*msg == NULL)
		*msg = "database error";
	if (state == NULL)
		return (PROTO_INTERNAL);
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(state, map[i].state) == 0)
			return (map[i].code);
	if (strncmp(state, "22", 2) == 0)
		return (PROTO_INVALID);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0)
		return (PROTO_UNAVAILABLE);
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return (PROTO_BUSY);
	return (PROTO_INTERNAL);
}

/* A whole result has arrived for what was in flight on c. */
static void
dbc_complete(struct dbconn *c)
{
	PGresult	*res = c->res;
	struct db_query *q;
	enum proto_code	 code = PROTO_OK;
	const char	*msg = NULL;
	ExecStatusType	 st;

	c->res = NULL;
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		if (res == NULL) {
			code = PROTO_INTERNAL;
			msg = "no result";
		} else
			code = db_error_code(res, &msg);
	}
	switch (c->state) {
	case DBC_LISTEN_SETUP:
		PQclear(res);
		if (code != PROTO_OK) {
			dbc_fail(c, msg);
			return;
		}
		c->state = DBC_LISTENING;
		c->backoff = 0;
		log_notice("db listener ready");
		/* what was notified while it was down is lost: say so */
		if (db_notify != NULL)
			db_notify(NULL, NULL);
		return;
	case DBC_CHECKING:
		if (code != PROTO_OK) {
			log_error("db conn=%d schema check failed: %s (run "
				  "rosterd --migrate)",
			    c->idx, msg);
			PQclear(res);
			dbc_fail(c, "schema check failed");
			return;
		}
		if (atoi(PQgetvalue(res, 0, 0)) < migrate_latest()) {
			log_error("db conn=%d: the database schema is version "
				  "%s, rosterd needs %d: run rosterd --migrate",
			    c->idx, PQgetvalue(res, 0, 0), migrate_latest());
			PQclear(res);
			dbc_fail(c, "schema too old");
			return;
		}
		if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
			log_error(
			    "db conn=%d: the functions in the database "
			    "are not this rosterd's: run rosterd --migrate",
			    c->idx);
			PQclear(res);
			dbc_fail(c, "functions not ours");
			return;
		}
		PQclear(res);
		c->state = DBC_PREPARING;
		c->prep = 0;
		break;
	case DBC_PREPARING:
		if (code != PROTO_OK) {
			log_error("db conn=%d prepare s%d failed: %s", c->idx,
			    c->prep, msg);
			PQclear(res);
			dbc_fail(c, "prepare failed");
			return;
		}
		PQclear(res);
		c->prep++;
		break;
	case DBC_BUSY:
		q = c->q;
		if (q->copy_sql != NULL && !q->copying && code == PROTO_OK) {
			/* the parameters are set: now stream */
			PQclear(res);
			q->copying = 1;
			if (!PQsendQuery(c->pg, q->copy_sql))
				dbc_fail(c, PQerrorMessage(c->pg));
			else
				dbc_flush(c);
			return;
		}
		c->q = NULL;
		c->state = DBC_READY;
		if (code == PROTO_INTERNAL || code == PROTO_UNAVAILABLE) {
			char buf[256];

			log_escape(buf, sizeof buf, msg, strlen(msg));
			log_error("db conn=%d query s%d failed: %s state=%s",
			    c->idx, q->stmt, buf,
			    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
				  "-");
			if (code == PROTO_INTERNAL)
				msg = "internal error";
		}
		q->cb(q->arg, code == PROTO_OK ? res : NULL, code, msg);
		db_query_free(q);
		PQclear(res);
		break;
	default:
		PQclear(res);
		break;
	}
	dbc_next(c);
}

/* Start the next piece of work on an idle connection. */
static void
dbc_next(struct dbconn *c)
{
	struct db_query *q;
	char		 name[16];

	if (c->state == DBC_PREPARING) {
		if (c->prep < db_nstmts) {
			snprintf(name, sizeof name, "s%d", c->prep);
			if (!PQsendPrepare(c->pg, name, db_stmts[c->prep].sql,
				db_stmts[c->prep].nparams, NULL))
				dbc_fail(c, PQerrorMessage(c->pg));
			else
				dbc_flush(c);
			return;
		}
		c->state = DBC_READY;
		c->backoff = 0;
		db_starting = 0;
		if (!db_up)
			log_notice("db available");
		db_up = 1;
		log_debug("db conn=%d ready", c->idx);
	}
	if (c->state != DBC_READY || (q = TAILQ_FIRST(&db_queue)) == NULL)
		return;
	TAILQ_REMOVE(&db_queue, q, entry);
	db_queued--;
	snprintf(name, sizeof name, "s%d", q->stmt);
	c->q = q;
	c->state = DBC_BUSY;
	if (!PQsendQueryPrepared(c->pg, name, q->nparams,
		(const char *const *)q->params, NULL, NULL, 0)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	dbc_flush(c);
}

/* Hand NOTIFY payloads on to the live-update fan-out. */
static void
dbc_notifies(struct dbconn *c)
{
	PGnotify *n;

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (db_notify != NULL)
			db_notify(n->relname, n->extra);
		PQfreemem(n);
	}
}

/*
 * Read COPY rows that have arrived and give them to the row callback, then
 * call it with no row to say that no more has arrived for now; stop when
 * the callback asks to pause (its client's output is full: the socket
 * is then not read, and PostgreSQL waits on TCP). Returns 1 when the COPY is
 * over (its result follows), 0 when waiting for rows or paused.
 */
static int
dbc_copy_read(struct dbconn *c)
{
	struct db_query *q = c->q;
	char		*buf;
	int		 n;

	for (;;) {
		n = PQgetCopyData(c->pg, &buf, 1);
		if (n == 0 || n < 0) {
			/* what has arrived is handed on: a batch ends */
			if (q->row_cb(q->arg, NULL, 0) == 1) {
				c->paused = 1;
				event_del(c->ev);
				return (0);
			}
			return (n == 0 ? 0 : 1);
		}
		n = q->row_cb(q->arg, buf, n);
		PQfreemem(buf);
		if (n == 1) {
			c->paused = 1;
			event_del(c->ev);
			return (0);
		}
	}
}

/* Socket events of a connected connection: flush, read, collect results. */
static void
dbc_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dbconn *c = arg;
	PGresult      *res;

	if (PQflush(c->pg) == -1) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (what & EV_READ) {
		if (!PQconsumeInput(c->pg)) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (c->listener) {
		dbc_notifies(c);
		if (c->state == DBC_LISTENING) {
			if (PQstatus(c->pg) == CONNECTION_BAD)
				dbc_fail(c, PQerrorMessage(c->pg));
			return;
		}
	}
	while ((c->state == DBC_CHECKING || c->state == DBC_PREPARING ||
		   c->state == DBC_BUSY || c->state == DBC_LISTEN_SETUP) &&
	    !c->paused && !PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			dbc_complete(c);
			continue;
		}
		if (PQresultStatus(res) == PGRES_COPY_OUT) {
			PQclear(res);
			if (dbc_copy_read(c) == 0)
				return; /* more rows to come */
			continue;
		}
		if (c->res == NULL)
			c->res = res;
		else
			PQclear(res);
	}
	if (c->paused)
		return;
	if (c->state == DBC_DOWN)
		return;
	if (c->state == DBC_READY && PQstatus(c->pg) == CONNECTION_BAD) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	dbc_flush(c);
}

static void
db_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_query *q, *next;
	time_t		 now = time(NULL);

	for (q = TAILQ_FIRST(&db_queue); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (now - q->queued < DB_QUEUE_TIMEOUT)
			break;
		TAILQ_REMOVE(&db_queue, q, entry);
		db_queued--;
		db_query_fail(q, PROTO_UNAVAILABLE,
		    "the database did not answer in time");
	}
}

/* Before db_start: receive every NOTIFY on the channels "roster" (changes
 * in events) and "roster_user" (users changed) through one extra
 * connection that does nothing else. Each time that connection's LISTEN
 * is in force (at start, and again after it was lost), cb is called with
 * channel and payload NULL: notifications may have been missed. */
void
db_listen(db_notify_cb cb)
{
	db_notify = cb;
}

void
db_start(struct event_base *base, const char *conninfo, int n)
{
	struct timeval tv = { 1, 0 };
	int	       i, total = n + (db_notify != NULL);

	db_base = base;
	if ((db_conninfo = strdup(conninfo)) == NULL)
		fatalx("out of memory");
	db_nconns = total;
	if ((db_conns = calloc((size_t)total, sizeof *db_conns)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < total; i++) {
		db_conns[i].idx = i;
		db_conns[i].listener = (i == n);
		db_conns[i].retry = evtimer_new(base, dbc_retry_cb,
		    &db_conns[i]);
		if (db_conns[i].retry == NULL)
			fatalx("evtimer_new");
		dbc_connect(&db_conns[i]);
	}
	db_sweep_ev = event_new(base, -1, EV_PERSIST, db_sweep_cb, NULL);
	if (db_sweep_ev == NULL || event_add(db_sweep_ev, &tv) == -1)
		fatalx("event_add");
}

/* Queue a statement, COPY-ing after it when copy_sql is set. */
static enum db_refusal
db_enqueue(int stmt, int nparams, const char *const *params,
    const char *copy_sql, db_row_cb row_cb, db_cb cb, void *arg)
{
	struct db_query *q;
	size_t		 size, len;
	char		*p;
	int		 i;

	if (!db_up && !db_starting)
		return (DB_DOWN);
	if (db_queued >= DB_MAX_QUEUE)
		return (DB_QUEUE_FULL);
	size = (size_t)nparams * sizeof(char *);
	for (i = 0; i < nparams; i++)
		if (params[i] != NULL)
			size += strlen(params[i]) + 1;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return (DB_NO_MEMORY);
	if ((q->params = malloc(size > 0 ? size : 1)) == NULL) {
		free(q);
		return (DB_NO_MEMORY);
	}
	p = (char *)(q->params + nparams);
	for (i = 0; i < nparams; i++) {
		if (params[i] == NULL) {
			q->params[i] = NULL;
			continue;
		}
		len = strlen(params[i]) + 1;
		memcpy(p, params[i], len);
		q->params[i] = p;
		p += len;
	}
	q->stmt = stmt;
	q->nparams = nparams;
	q->cb = cb;
	q->arg = arg;
	q->copy_sql = copy_sql;
	q->row_cb = row_cb;
	q->queued = time(NULL);
	if (copy_sql != NULL)
		db_ncopies++;
	TAILQ_INSERT_TAIL(&db_queue, q, entry);
	db_queued++;
	for (i = 0; i < db_nconns; i++) {
		if (db_conns[i].state == DBC_READY) {
			dbc_next(&db_conns[i]);
			break;
		}
	}
	return (DB_QUEUED);
}

/*
 * Queue one prepared statement with its parameters (copied). The callback
 * runs exactly once, also when the query fails, and may run before db_query
 * returns (a connection failing as the query is sent). Returns DB_QUEUED,
 * or why the query could not even be queued (then the callback is not
 * called).
 */
enum db_refusal
db_query(int stmt, int nparams, const char *const *params, db_cb cb, void *arg)
{
	return (db_enqueue(stmt, nparams, params, NULL, NULL, cb, arg));
}

/*
 * An export: the statement (which hands the request's parameters to the
 * session) and then copy_sql, a constant COPY ... TO STDOUT, on the same
 * connection. Each row goes to row_cb as it arrives (return 1 to pause
 * until db_copy_resume(arg)); done gets the COPY's final result. At most
 * all but one pool connection stream at once, so that exports never starve
 * other requests. Returns what db_query does, or DB_TOO_MANY_COPIES.
 */
enum db_refusal
db_copy(int stmt, int nparams, const char *const *params, const char *copy_sql,
    db_row_cb row_cb, db_cb done, void *arg)
{
	int max = db_nconns - (db_notify != NULL) - 1;

	if (db_ncopies >= (max > 0 ? max : 1))
		return (DB_TOO_MANY_COPIES);
	return (db_enqueue(stmt, nparams, params, copy_sql, row_cb, done, arg));
}

/* The client of a paused export can take more: read rows again. */
void
db_copy_resume(void *arg)
{
	struct dbconn *c;
	int	       i;

	for (i = 0; i < db_nconns; i++) {
		c = &db_conns[i];
		if (c->q == NULL || c->q->arg != arg || !c->paused)
			continue;
		c->paused = 0;
		if (event_add(c->ev, NULL) == -1) {
			dbc_fail(c, "event_add");
			return;
		}
		/* rows libpq already holds come without a socket event */
		dbc_io_cb(PQsocket(c->pg), 0, c);
		return;
	}
}

void
db_stop(void)
{
	int i;

	for (i = 0; i < db_nconns; i++) {
		struct dbconn *c = &db_conns[i];

		if (c->ev != NULL)
			event_free(c->ev);
		if (c->retry != NULL)
			event_free(c->retry);
		if (c->res != NULL)
			PQclear(c->res);
		if (c->q != NULL)
			db_query_fail(c->q, PROTO_UNAVAILABLE,
			    "the server is stopping");
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	db_fail_queue(PROTO_UNAVAILABLE, "the server is stopping");
	if (db_sweep_ev != NULL)
		event_free(db_sweep_ev);
	free(db_conns);
	db_conns = NULL;
	db_nconns = 0;
	free(db_conninfo);
}

/* Result accessors, so that command files need not include libpq. */
int
db_nfields(struct pg_result *res)
{
	return (PQnfields(res));
}

int
db_ntuples(struct pg_result *res)
{
	return (PQntuples(res));
}

const char *
db_fname(struct pg_result *res, int col)
{
	return (PQfname(res, col));
}

const char *
db_value(struct pg_result *res, int row, int col)
{
	return (PQgetvalue(res, row, col));
}

int
db_isnull(struct pg_result *res, int row, int col)
{
	return (PQgetisnull(res, row, col));
}

int
db_getlength(struct pg_result *res, int row, int col)
{
	return (PQgetlength(res, row, col));
}
