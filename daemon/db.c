/*
 * db.c -- the asynchronous PostgreSQL pool, and the only file of the event
 * loop that calls libpq. A fixed number of non-blocking connections, each
 * driven by events on its socket: connect (PQconnectStart/PQconnectPoll),
 * check the schema version and set the session's statement_timeout,
 * prepare every registered statement, then serve queries with
 * PQsendQueryPrepared. Queries wait in one queue per owner (a client
 * connection), at most DB_MAX_PER_OWNER each, and the owners are served in
 * turn, so that one client's flood does not delay everyone else. Every
 * result of a query is read, and an error among them (one raised at commit)
 * is the answer. A lost connection fails its query with UNAVAILABLE ("outcome
 * unknown" when the statement had been sent) and is replaced with back-off.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "rosterd.h"

#define DB_MAX_STATEMENTS  160
#define DB_MAX_QUEUE	   20000	      /* queries waiting, all owners */
#define DB_MAX_QUEUE_BYTES (64 * 1024 * 1024) /* their parameters */
#define DB_MAX_PER_OWNER   64	/* queries one client connection may queue */
#define DB_OWNER_BUCKETS   256	/* hash of the owners with queries waiting */
#define DB_QUEUE_TIMEOUT   10	/* seconds a query may wait for a connection */
#define DB_STOP_WAIT	   3000 /* ms for cancelled statements, at exit */
#define DB_BACKOFF_MIN	   100	/* ms */
#define DB_BACKOFF_MAX	   2000 /* so that service resumes soon after an outage */

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
	const char	*copy_sql;
	db_row_cb	 row_cb;
	int		 copying;
	int		 sent;	/* may have reached PostgreSQL */
	size_t		 size;	/* bytes of params */
	struct db_owner *owner; /* while queued */
};
TAILQ_HEAD(db_queryq, db_query);

/* The queries one client connection has waiting, and its turn. */
struct db_owner {
	TAILQ_ENTRY(db_owner) turn;
	LIST_ENTRY(db_owner) hash;
	const void	*key;
	struct db_queryq queue;
	int		 nqueued;
};
TAILQ_HEAD(db_ownerq, db_owner);
LIST_HEAD(db_ownerl, db_owner);

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
	PGresult	*res;	   /* the answer: first result, or an error */
	int		 listener; /* LISTENs, serves no queries */
	int		 paused;   /* COPY reader waits for a client */
	time_t		 paused_at;
	int		 cancelling; /* a cancel request is on its way */
};

static struct db_statement db_stmts[DB_MAX_STATEMENTS];
static int		   db_nstmts;
static struct dbconn	  *db_conns;
static int		   db_nconns;
static struct event_base  *db_base;
static char		  *db_conninfo;
static struct db_ownerq	   db_turns = TAILQ_HEAD_INITIALIZER(db_turns);
static struct db_ownerl	   db_owners[DB_OWNER_BUCKETS];
static int		   db_queued;
static size_t		   db_queued_bytes;
static int		   db_up; /* some connection serves */
static int		   db_starting = 1;
static int		   db_stopping; /* the drain: no new connections */
static int		   db_timeout;	/* statement_timeout, seconds */
static struct event	  *db_sweep_ev;
static db_notify_cb	   db_notify;
static int		   db_ncopies;
static unsigned char	   db_key[NOTIFY_KEY_LEN]; /* signs notifications */
static int		   db_have_key;
static struct notify_seen  db_seen;
static time_t		   db_forged_logged;
static long		   db_forged;

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

static unsigned int
db_owner_hash(const void *key)
{
	uintptr_t k = (uintptr_t)key;

	return ((unsigned int)((k >> 4) ^ (k >> 12)) % DB_OWNER_BUCKETS);
}

static struct db_owner *
db_owner_find(const void *key)
{
	struct db_owner *o;

	LIST_FOREACH (o, &db_owners[db_owner_hash(key)], hash)
		if (o->key == key)
			return (o);
	return (NULL);
}

/* Take q out of its owner's queue; an owner left with none is freed. */
static void
db_unqueue(struct db_query *q)
{
	struct db_owner *o = q->owner;

	TAILQ_REMOVE(&o->queue, q, entry);
	q->owner = NULL;
	db_queued--;
	db_queued_bytes -= q->size;
	if (--o->nqueued == 0) {
		TAILQ_REMOVE(&db_turns, o, turn);
		LIST_REMOVE(o, hash);
		free(o);
	}
}

/* The next query to send: the first of the owner whose turn it is, who
 * then goes to the back of the line. */
static struct db_query *
db_take(void)
{
	struct db_owner *o;
	struct db_query *q;

	if ((o = TAILQ_FIRST(&db_turns)) == NULL)
		return (NULL);
	q = TAILQ_FIRST(&o->queue);
	if (o->nqueued > 1) {
		TAILQ_REMOVE(&db_turns, o, turn);
		TAILQ_INSERT_TAIL(&db_turns, o, turn);
	}
	db_unqueue(q);
	return (q);
}

/* Fail every queued query: no connection can serve them now. They are
 * taken out first, since a callback may queue new ones. */
static void
db_fail_queue(enum proto_code code, const char *msg)
{
	struct db_queryq failed = TAILQ_HEAD_INITIALIZER(failed);
	struct db_query *q;

	while ((q = db_take()) != NULL)
		TAILQ_INSERT_TAIL(&failed, q, entry);
	while ((q = TAILQ_FIRST(&failed)) != NULL) {
		TAILQ_REMOVE(&failed, q, entry);
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

/* Close the connection and forget its state. */
static void
dbc_reset(struct dbconn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	c->cancelling = 0;
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = DBC_DOWN;
	c->paused = 0;
}

/* What a query is told when its connection is lost: once its statement may
 * have reached PostgreSQL, it may also have committed. An export only
 * reads. */
static void
dbc_lost(struct db_query *q, const char *why)
{
	if (q->sent && q->copy_sql == NULL)
		db_query_fail(q, PROTO_UNAVAILABLE,
		    DB_OUTCOME_UNKNOWN
		    "the database connection was lost "
		    "while the request ran; retry with the "
		    "same ref=");
	else
		db_query_fail(q, PROTO_UNAVAILABLE, why);
}

/* Drop the connection, fail its query, and try again after a back-off.
 * An outage is logged once, when a serving connection is lost, and its end
 * once, by the first connection ready again. */
static void
dbc_fail(struct dbconn *c, const char *why)
{
	struct timeval	 tv;
	struct db_query *q = c->q;
	char		 buf[256];
	int was_up = (c->state == DBC_READY || c->state == DBC_BUSY ||
	    c->state == DBC_LISTENING);

	log_escape(buf, sizeof buf, why, strcspn(why, "\n"));
	if (was_up && c->listener)
		log_warnx("db listener lost: %s; live updates pause until it "
			  "reconnects",
		    buf);
	else if (was_up)
		log_warnx("db conn=%d lost: %s", c->idx, buf);
	else
		log_debug("db conn=%d connect failed: %s", c->idx, buf);
	c->q = NULL;
	dbc_reset(c);
	if (q != NULL)
		dbc_lost(q,
		    "the database connection was lost; nothing was "
		    "done");
	if (c->listener)
		goto retry;
	db_starting = 0;
	if (!db_live()) {
		if (db_up)
			log_error("db unavailable: no connection to the "
				  "database");
		db_up = 0;
		db_fail_queue(PROTO_UNAVAILABLE,
		    "the database cannot be reached; nothing was done");
	}
retry:
	if (db_stopping)
		return;
	if (c->backoff == 0)
		c->backoff = DB_BACKOFF_MIN;
	else if ((c->backoff *= 2) > DB_BACKOFF_MAX)
		c->backoff = DB_BACKOFF_MAX;
	tv.tv_sec = c->backoff / 1000;
	tv.tv_usec = (c->backoff % 1000) * 1000;
	evtimer_add(c->retry, &tv);
}

/*
 * End the read-only query on c (an export) by closing the connection, and
 * connect it again at once. A cancel would not do: PostgreSQL acts on a
 * cancel only between rows it sends, and a backend whose client (we) stopped
 * reading waits in its write for ever; a closed socket ends that write, the
 * statement and its snapshot. Nothing it did needs keeping.
 */
static void
dbc_drop(struct dbconn *c, const char *msg)
{
	struct db_query *q = c->q;

	c->q = NULL;
	dbc_reset(c);
	c->backoff = 0;
	if (q != NULL)
		db_query_fail(q, PROTO_UNAVAILABLE, msg);
	if (!db_stopping && c->state == DBC_DOWN &&
	    !evtimer_pending(c->retry, NULL))
		dbc_connect(c);
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
	 * (migrate.c); an OK must mean committed to disk, so a server
	 * whose default is synchronous_commit=off does not apply to this
	 * session; and no statement runs longer than statement_timeout */
	const char *sql =
	    "SELECT coalesce(max(version), 0), CASE WHEN "
	    "current_setting('synchronous_commit') = 'off' THEN "
	    "set_config('synchronous_commit', 'on', false) END, "
	    "(SELECT f.files_sha256 = $1 AND f.catalog_sha256 = " MIGRATE_CATALOG_HASH_SQL
	    " FROM roster.function_set f), "
	    "set_config('statement_timeout', $2, false) "
	    "FROM roster.schema_migration";
	/* the listener: the key that signs notifications and where their
	 * numbers stand, then LISTEN */
	const char *listen_sql =
	    "SELECT encode(k.key, 'hex'), CASE WHEN s.is_called THEN "
	    "s.last_value ELSE 0 END FROM roster.notify_key k, "
	    "roster.notify_seq s; LISTEN roster; LISTEN roster_web; "
	    "LISTEN roster_user";
	char	    timeout[32];
	const char *params[2] = { function_files_sha256, timeout };

	snprintf(timeout, sizeof timeout, "%d", db_timeout * 1000);
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
	if (PQsetnonblocking(c->pg, 1) == -1 ||
	    !(c->listener ? PQsendQuery(c->pg, listen_sql) :
			    PQsendQueryParams(c->pg, sql, 2, NULL, params, NULL,
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

/* Whether a result reports a failure. */
static int
db_failed(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK &&
	    st != PGRES_COPY_OUT);
}

/*
 * Map a failed result to a protocol error code. *unknown is set when the
 * failure does not prove that nothing was committed: an ERROR always aborts
 * the transaction, but a FATAL (the backend terminated, the server crashing)
 * or a connection failure can come after the commit.
 */
static enum proto_code
db_error_code(PGresult *res, const char **msg, int *unknown)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *sev = PQresultErrorField(res,
	    PG_DIAG_SEVERITY_NONLOCALIZED);
	static const struct {
		const char     *state;
		enum proto_code code;
	} map[] = {
		{ "RSSYN", PROTO_SYNTAX }, { "RSINV", PROTO_INVALID },
		{ "RSFRB", PROTO_FORBIDDEN }, { "RSNFD", PROTO_NOT_FOUND },
		{ "RSCNF", PROTO_CONFLICT }, { "RSQUO", PROTO_QUOTA },
		{ "RSCLO", PROTO_CLOSED }, { "RSAUF", PROTO_AUTH_FAILED },
		{ "23505", PROTO_CONFLICT }, { "23503", PROTO_NOT_FOUND },
		{ "23514", PROTO_INVALID },
		{ "57014", PROTO_UNAVAILABLE }, /* statement_timeout, cancel */
	};
	size_t i;

	*unknown = sev == NULL || strcmp(sev, "ERROR") != 0;
	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (*msg == NULL)
		*msg = "database error";
	if (state == NULL)
		return (*unknown ? PROTO_UNAVAILABLE : PROTO_INTERNAL);
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(state, map[i].state) == 0)
			return (map[i].code);
	if (strncmp(state, "22", 2) == 0)
		return (PROTO_INVALID);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0) {
		if (strncmp(state, "53", 2) != 0)
			*unknown = 1;
		return (PROTO_UNAVAILABLE);
	}
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return (PROTO_BUSY);
	return (*unknown ? PROTO_UNAVAILABLE : PROTO_INTERNAL);
}

/* The listener's key and the number its notifications start after. */
static int
dbc_listen_ready(PGresult *res)
{
	const char *hex;
	size_t	    i;
	int	    hi, lo;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQgetlength(res, 0, 0) != 2 * NOTIFY_KEY_LEN)
		return (-1);
	hex = PQgetvalue(res, 0, 0);
	for (i = 0; i < NOTIFY_KEY_LEN; i++) {
		hi = notify_hexval(hex[2 * i]);
		lo = notify_hexval(hex[2 * i + 1]);
		if (hi == -1 || lo == -1)
			return (-1);
		db_key[i] = (unsigned char)(hi << 4 | lo);
	}
	db_have_key = 1;
	notify_seen_reset(&db_seen, strtoull(PQgetvalue(res, 0, 1), NULL, 10));
	return (0);
}

/* A query's answer is a failure: say so, truthfully. */
static void
dbc_answer_failure(struct dbconn *c, struct db_query *q, PGresult *res,
    enum proto_code code, const char *msg, int unknown)
{
	char buf[256], text[320];

	log_escape(buf, sizeof buf, msg, strlen(msg));
	if (unknown || code == PROTO_INTERNAL || code == PROTO_UNAVAILABLE)
		log_error("db conn=%d query s%d failed: %s state=%s", c->idx,
		    q->stmt, buf,
		    res && PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
			PQresultErrorField(res, PG_DIAG_SQLSTATE) :
			"-");
	if (code == PROTO_INTERNAL)
		msg = "internal error";
	else if (unknown && q->copy_sql == NULL) {
		code = PROTO_UNAVAILABLE;
		msg = DB_OUTCOME_UNKNOWN
		    "the database connection failed while "
		    "the request ran; retry with the same "
		    "ref=";
	} else if (code == PROTO_UNAVAILABLE) {
		/* an ERROR: the transaction was rolled back */
		snprintf(text, sizeof text, "%s; nothing was done", buf);
		msg = text;
	}
	q->cb(q->arg, NULL, code, msg);
}

/* Every result has arrived for what was in flight on c. */
static void
dbc_complete(struct dbconn *c)
{
	PGresult	*res = c->res;
	struct db_query *q;
	enum proto_code	 code = PROTO_OK;
	const char	*msg = NULL;
	int		 unknown = 0;

	c->res = NULL;
	if (res == NULL || db_failed(res)) {
		if (res == NULL) {
			code = PROTO_INTERNAL;
			msg = "no result";
		} else
			code = db_error_code(res, &msg, &unknown);
		if (PQstatus(c->pg) == CONNECTION_BAD)
			unknown = 1;
	}
	switch (c->state) {
	case DBC_LISTEN_SETUP:
		if (code != PROTO_OK || dbc_listen_ready(res) == -1) {
			log_error("db listener: no key to check notifications "
				  "with (run rosterd --migrate)");
			PQclear(res);
			dbc_fail(c, msg ? msg : "no notification key");
			return;
		}
		PQclear(res);
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
		c->cancelling = 0;
		if (code == PROTO_OK)
			q->cb(q->arg, res, code, msg);
		else
			dbc_answer_failure(c, q, res, code, msg, unknown);
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
	if (c->state != DBC_READY || db_stopping || (q = db_take()) == NULL)
		return;
	snprintf(name, sizeof name, "s%d", q->stmt);
	c->q = q;
	c->state = DBC_BUSY;
	if (!PQsendQueryPrepared(c->pg, name, q->nparams,
		(const char *const *)q->params, NULL, NULL, 0)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	q->sent = 1;
	dbc_flush(c);
}

/* A notification that is not ours: ignored, and logged once a minute. */
static void
db_forged_notify(const char *channel, const char *why)
{
	time_t now = time(NULL);
	char   buf[64];

	db_forged++;
	if (db_forged_logged != 0 && now - db_forged_logged < 60)
		return;
	log_escape(buf, sizeof buf, channel, strlen(channel));
	log_warnx("db listener: ignored %ld notification%s not signed by "
		  "rosterd (last: channel %s, %s)",
	    db_forged, db_forged == 1 ? "" : "s", buf, why);
	db_forged_logged = now;
	db_forged = 0;
}

/* Hand NOTIFY payloads, once their signature is checked, on to the
 * live-update fan-out. */
static void
dbc_notifies(struct dbconn *c)
{
	PGnotify *n;
	size_t	  off;
	char	  why[128];

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (!db_have_key ||
		    notify_verify(db_key, sizeof db_key, n->relname, n->extra,
			strlen(n->extra), &db_seen, &off, why,
			sizeof why) == -1)
			db_forged_notify(n->relname,
			    db_have_key ? why : "no key");
		else if (db_notify != NULL)
			db_notify(n->relname, n->extra + off);
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
				c->paused_at = time(NULL);
				event_del(c->ev);
				return (0);
			}
			return (n == 0 ? 0 : 1);
		}
		n = q->row_cb(q->arg, buf, n);
		PQfreemem(buf);
		if (n == 1) {
			c->paused = 1;
			c->paused_at = time(NULL);
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
		/* the answer is the first result, unless a later one is an
		 * error (one raised at commit, after CommandComplete) */
		if (c->res == NULL)
			c->res = res;
		else if (db_failed(res) && !db_failed(c->res)) {
			PQclear(c->res);
			c->res = res;
		} else
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

/* Once a second: queries that waited too long for a connection, and
 * exports whose client has taken nothing for statement_timeout seconds. */
static void
db_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_queryq expired = TAILQ_HEAD_INITIALIZER(expired);
	struct db_owner *o, *next;
	struct db_query *q;
	time_t		 now = time(NULL);
	char		 msg[128];
	int		 i, last;

	for (o = TAILQ_FIRST(&db_turns); o != NULL; o = next) {
		next = TAILQ_NEXT(o, turn);
		for (;;) {
			q = TAILQ_FIRST(&o->queue);
			if (now - q->queued < DB_QUEUE_TIMEOUT)
				break;
			last = (o->nqueued == 1);
			db_unqueue(q); /* the last one frees o */
			TAILQ_INSERT_TAIL(&expired, q, entry);
			if (last)
				break;
		}
	}
	while ((q = TAILQ_FIRST(&expired)) != NULL) {
		TAILQ_REMOVE(&expired, q, entry);
		db_query_fail(q, PROTO_UNAVAILABLE,
		    "the database did not answer in time; nothing was done");
	}
	for (i = 0; i < db_nconns; i++) {
		struct dbconn *c = &db_conns[i];

		if (c->paused && c->q != NULL && db_timeout > 0 &&
		    now - c->paused_at >= db_timeout) {
			log_warnx("db conn=%d: an export not read for %d s "
				  "ended",
			    c->idx, db_timeout);
			snprintf(msg, sizeof msg,
			    "the export was not read for %d s", db_timeout);
			dbc_drop(c, msg);
		}
	}
}

/* Before db_start: receive every NOTIFY on the channels "roster" (changes
 * in events), "roster_user" (users changed) and "roster_web" (a web
 * session ended) through one extra
 * connection that does nothing else. Each time that connection's LISTEN
 * is in force (at start, and again after it was lost), cb is called with
 * channel and payload NULL: notifications may have been missed. */
void
db_listen(db_notify_cb cb)
{
	db_notify = cb;
}

/* Append "key='value'" to b, quoted as libpq reads it. */
static void
db_conninfo_add(struct proto_buf *b, const char *key, const char *val)
{
	if (b->len > 0)
		proto_buf_addch(b, ' ');
	proto_buf_addstr(b, key);
	proto_buf_addstr(b, "='");
	for (; *val != '\0'; val++) {
		if (*val == '\'' || *val == '\\')
			proto_buf_addch(b, '\\');
		proto_buf_addch(b, *val);
	}
	proto_buf_addch(b, '\'');
}

/* Append one item to the comma-separated list b of *n items. */
static void
db_list_add(struct proto_buf *b, int *n, const char *item, size_t len)
{
	if ((*n)++ > 0)
		proto_buf_addch(b, ',');
	proto_buf_add(b, item, len);
}

/*
 * libpq resolves a host name with blocking getaddrinfo on every connection
 * attempt, which would stall the event loop at each reconnect. So names in
 * "host" are resolved once, here at start, into "hostaddr" (the name stays
 * in "host" for TLS verification and .pgpass); a socket directory and a
 * numeric address need nothing. A name that does not resolve refuses the
 * start. Returns the connection string to use (allocated), or NULL with
 * the reason in err.
 */
static char *
db_resolve(const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	struct proto_buf  hosts, addrs, ports, out;
	struct addrinfo	  hints, *ai, *a;
	const char	 *host = NULL, *port = NULL, *p, *end, *pe;
	char		 *errmsg = NULL, *name, num[NI_MAXHOST], *res = NULL;
	size_t		  len, plen = 0;
	int		  nports = 0, nhosts = 0, changed = 0, rc = 0, k;
	int		  nh = 0, na = 0, np = 0;

	if ((opts = PQconninfoParse(conninfo, &errmsg)) == NULL) {
		snprintf(err, errlen, "database: %s",
		    errmsg ? errmsg : "out of memory");
		PQfreemem(errmsg);
		return (NULL);
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			changed = -1; /* addresses given: nothing to do */
	}
	if (host == NULL || changed == -1) {
		PQconninfoFree(opts);
		return (strdup(conninfo));
	}
	if (port != NULL)
		for (p = port, nports = 1; *p != '\0'; p++)
			nports += *p == ',';
	proto_buf_init(&hosts);
	proto_buf_init(&addrs);
	proto_buf_init(&ports);
	proto_buf_init(&out);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (p = host;; p = end + 1) {
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		pe = port;
		if (nports > 1) { /* this host's port: item nhosts */
			for (k = 0; k < nhosts && pe != NULL; k++)
				pe = strchr(pe, ',') ?
				    strchr(pe, ',') + 1 :
				    NULL;
			if (pe == NULL) {
				snprintf(err, errlen,
				    "database: more hosts than ports");
				goto done;
			}
			plen = strcspn(pe, ",");
		}
		nhosts++;
		if ((name = strndup(p, len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (len == 0 || name[0] == '/' || name[0] == '@' ||
		    (rc = getaddrinfo(name, NULL, &hints, &ai)) != 0) {
			if (len != 0 && name[0] != '/' && name[0] != '@') {
				snprintf(err, errlen,
				    "database: host %s does not resolve: %s "
				    "(give its address in hostaddr=)",
				    name, gai_strerror(rc));
				free(name);
				goto done;
			}
			/* a socket: as it is, with an empty address */
			db_list_add(&hosts, &nh, p, len);
			db_list_add(&addrs, &na, "", 0);
			if (nports > 1)
				db_list_add(&ports, &np, pe, plen);
			free(name);
			if (*end == '\0')
				break;
			continue;
		}
		for (a = ai; a != NULL; a = a->ai_next) {
			if (getnameinfo(a->ai_addr, a->ai_addrlen, num,
				sizeof num, NULL, 0, NI_NUMERICHOST) != 0)
				continue;
			if (strcmp(num, name) != 0)
				changed = 1;
			db_list_add(&hosts, &nh, p, len);
			db_list_add(&addrs, &na, num, strlen(num));
			if (nports > 1)
				db_list_add(&ports, &np, pe, plen);
			log_notice(
			    "db: host %s is %s (resolved once, at start)", name,
			    num);
		}
		freeaddrinfo(ai);
		free(name);
		if (*end == '\0')
			break;
	}
	if (!changed) {
		res = strdup(conninfo);
		goto done;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "host") == 0 ||
		    strcmp(o->keyword, "hostaddr") == 0 ||
		    (nports > 1 && strcmp(o->keyword, "port") == 0))
			continue;
		db_conninfo_add(&out, o->keyword, o->val);
	}
	proto_buf_addch(&hosts, '\0');
	proto_buf_addch(&addrs, '\0');
	proto_buf_addch(&ports, '\0');
	db_conninfo_add(&out, "host", hosts.data);
	db_conninfo_add(&out, "hostaddr", addrs.data);
	if (nports > 1)
		db_conninfo_add(&out, "port", ports.data);
	proto_buf_addch(&out, '\0');
	if (hosts.oom || addrs.oom || ports.oom || out.oom)
		snprintf(err, errlen, "out of memory");
	else
		res = strdup(out.data);
done:
	proto_buf_free(&hosts);
	proto_buf_free(&addrs);
	proto_buf_free(&ports);
	proto_buf_free(&out);
	PQconninfoFree(opts);
	return (res);
}

/* Open the pool: n connections for requests (plus the listener) whose
 * statements may run statement_timeout seconds. Returns -1 with the
 * reason in err when the database setting cannot be used. */
int
db_start(struct event_base *base, const char *conninfo, int n,
    int statement_timeout, char *err, size_t errlen)
{
	struct timeval tv = { 1, 0 };
	int	       i, total = n + (db_notify != NULL);

	db_base = base;
	db_timeout = statement_timeout;
	for (i = 0; i < DB_OWNER_BUCKETS; i++)
		LIST_INIT(&db_owners[i]);
	if ((db_conninfo = db_resolve(conninfo, err, errlen)) == NULL)
		return (-1);
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
	return (0);
}

/* Queue a statement of owner, COPY-ing after it when copy_sql is set. */
static enum db_refusal
db_enqueue(const void *owner, int stmt, int nparams, const char *const *params,
    const char *copy_sql, db_row_cb row_cb, db_cb cb, void *arg)
{
	struct db_owner *o;
	struct db_query *q;
	size_t		 size, len;
	char		*p;
	int		 i;

	if (db_stopping)
		return (DB_STOPPING);
	if (!db_up && !db_starting)
		return (DB_DOWN);
	size = (size_t)nparams * sizeof(char *);
	for (i = 0; i < nparams; i++)
		if (params[i] != NULL)
			size += strlen(params[i]) + 1;
	if (db_queued >= DB_MAX_QUEUE ||
	    db_queued_bytes + size > DB_MAX_QUEUE_BYTES)
		return (DB_QUEUE_FULL);
	if ((o = db_owner_find(owner)) != NULL &&
	    o->nqueued >= DB_MAX_PER_OWNER)
		return (DB_OWNER_FULL);
	if ((q = calloc(1, sizeof *q)) == NULL)
		return (DB_NO_MEMORY);
	if ((q->params = malloc(size > 0 ? size : 1)) == NULL) {
		free(q);
		return (DB_NO_MEMORY);
	}
	if (o == NULL) {
		if ((o = calloc(1, sizeof *o)) == NULL) {
			free(q->params);
			free(q);
			return (DB_NO_MEMORY);
		}
		o->key = owner;
		TAILQ_INIT(&o->queue);
		LIST_INSERT_HEAD(&db_owners[db_owner_hash(owner)], o, hash);
		TAILQ_INSERT_TAIL(&db_turns, o, turn);
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
	q->size = size;
	q->owner = o;
	if (copy_sql != NULL)
		db_ncopies++;
	TAILQ_INSERT_TAIL(&o->queue, q, entry);
	o->nqueued++;
	db_queued++;
	db_queued_bytes += size;
	for (i = 0; i < db_nconns; i++) {
		if (db_conns[i].state == DBC_READY) {
			dbc_next(&db_conns[i]);
			break;
		}
	}
	return (DB_QUEUED);
}

/*
 * Queue one prepared statement with its parameters (copied) for owner (the
 * client connection: owners are served in turn, each with at most
 * DB_MAX_PER_OWNER waiting). The callback runs exactly once, also when the
 * query fails, and may run before db_query returns (a connection failing
 * as the query is sent). Returns DB_QUEUED, or why the query could not even
 * be queued (then the callback is not called).
 */
enum db_refusal
db_query(const void *owner, int stmt, int nparams, const char *const *params,
    db_cb cb, void *arg)
{
	return (db_enqueue(owner, stmt, nparams, params, NULL, NULL, cb, arg));
}

/*
 * An export: the statement (which hands the request's parameters to the
 * session) and then copy_sql, a constant COPY ... TO STDOUT, on the same
 * connection. Each row goes to row_cb as it arrives (return 1 to pause
 * until db_copy_resume(arg)); done gets the COPY's final result. At most
 * all but one pool connection stream at once, so that exports never starve
 * other requests; an export paused for statement_timeout seconds (its
 * client takes nothing) is ended. Returns what db_query does, or
 * DB_TOO_MANY_COPIES.
 */
enum db_refusal
db_copy(const void *owner, int stmt, int nparams, const char *const *params,
    const char *copy_sql, db_row_cb row_cb, db_cb done, void *arg)
{
	int max = db_nconns - (db_notify != NULL) - 1;

	if (db_ncopies >= (max > 0 ? max : 1))
		return (DB_TOO_MANY_COPIES);
	return (db_enqueue(owner, stmt, nparams, params, copy_sql, row_cb, done,
	    arg));
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

/*
 * The client of an export (arg) has gone: end it now, queued or streaming
 * (its connection is closed and opened again: see dbc_drop), rather than
 * read it to the end. The done callback runs before this returns.
 */
void
db_copy_cancel(void *arg)
{
	struct db_owner *o;
	struct db_query *q;
	int		 i;

	for (i = 0; i < db_nconns; i++) {
		if (db_conns[i].q != NULL && db_conns[i].q->arg == arg &&
		    db_conns[i].q->copy_sql != NULL) {
			log_info("db conn=%d: export cancelled, its client "
				 "left",
			    db_conns[i].idx);
			dbc_drop(&db_conns[i], "the client has gone");
			return;
		}
	}
	TAILQ_FOREACH (o, &db_turns, turn) {
		TAILQ_FOREACH (q, &o->queue, entry) {
			if (q->arg == arg && q->copy_sql != NULL) {
				db_unqueue(q);
				db_query_fail(q, PROTO_UNAVAILABLE,
				    "the client has gone");
				return;
			}
		}
	}
}

/* Send a cancel request without blocking the loop: PQcancel connects to
 * the server, so it runs on a thread of its own. */
static void *
dbc_cancel_main(void *arg)
{
	PGcancel *k = arg;
	char	  err[256];

	PQcancel(k, err, sizeof err);
	PQfreeCancel(k);
	return (NULL);
}

static void
dbc_cancel(struct dbconn *c)
{
	PGcancel *k;
	pthread_t t;

	if (c->cancelling || (k = PQgetCancel(c->pg)) == NULL)
		return;
	if (pthread_create(&t, NULL, dbc_cancel_main, k) != 0) {
		PQfreeCancel(k);
		return;
	}
	pthread_detach(t); /* it frees k, and may outlive c->pg */
	c->cancelling = 1;
}

/*
 * The drain's deadline (SIGTERM): what waits for a connection is answered
 * UNAVAILABLE (nothing was done), exports are ended, statements still
 * running are cancelled: each is then answered with what PostgreSQL says
 * (cancelled: nothing done; or its result, had it finished first). No new
 * query is taken from here on.
 */
void
db_drain(void)
{
	struct dbconn *c;
	int	       i;

	db_stopping = 1;
	db_fail_queue(PROTO_UNAVAILABLE,
	    "the server is stopping; nothing was done");
	for (i = 0; i < db_nconns; i++) {
		c = &db_conns[i];
		if (c->q == NULL)
			continue;
		if (c->q->copy_sql != NULL)
			dbc_drop(c, "the server is stopping");
		else
			dbc_cancel(c);
	}
}

/* The drain's last step: a statement that ignored its cancel is answered
 * as what it is, of unknown outcome. */
void
db_abandon(void)
{
	struct db_query *q;
	struct dbconn	*c;
	int		 i;

	db_stopping = 1;
	for (i = 0; i < db_nconns; i++) {
		c = &db_conns[i];
		if ((q = c->q) == NULL)
			continue;
		c->q = NULL;
		dbc_reset(c);
		dbc_lost(q, "the server is stopping");
	}
}

/* At exit, for a statement whose client has gone: cancel it and wait a
 * little for its end, so that nothing commits after rosterd has exited. */
static void
dbc_cancel_wait(struct dbconn *c)
{
	struct pollfd pfd;
	PGcancel     *k;
	PGresult     *res;
	char	      err[256];
	int	      waited = 0;

	if (c->pg == NULL || c->q == NULL || c->q->copy_sql != NULL)
		return;
	if (!c->cancelling && (k = PQgetCancel(c->pg)) != NULL) {
		PQcancel(k, err, sizeof err); /* at exit: blocking is fine */
		PQfreeCancel(k);
	}
	while (waited < DB_STOP_WAIT) {
		if (!PQconsumeInput(c->pg))
			return;
		while (!PQisBusy(c->pg)) {
			if ((res = PQgetResult(c->pg)) == NULL)
				return;
			PQclear(res);
		}
		pfd.fd = PQsocket(c->pg);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == -1)
			return;
		waited += 100;
	}
	log_warnx("db conn=%d: a statement still running at exit", c->idx);
}

void
db_stop(void)
{
	int i;

	db_stopping = 1;
	for (i = 0; i < db_nconns; i++) {
		struct dbconn *c = &db_conns[i];

		dbc_cancel_wait(c);
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
	OPENSSL_cleanse(db_key, sizeof db_key);
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

/* The connection string in use (host names resolved at db_start), for
 * feed.c's replication connection. */
const char *
db_conninfo_resolved(void)
{
	return (db_conninfo);
}
