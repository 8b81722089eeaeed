/*
 * db.c -- the asynchronous PostgreSQL pool, and the only file of the event
 * loop that calls libpq. A fixed number of non-blocking connections, each
 * driven by events on its socket: connect (PQconnectStart/PQconnectPoll),
 * check the schema version and set the session's statement_timeout,
 * prepare every registered statement, then serve queries in libpq's
 * pipeline mode. Queries wait in one queue per owner (a client
 * connection), at most DB_MAX_PER_OWNER each, and the owners are served in
 * turn, so that one client's flood does not delay everyone else.
 *
 * A connection has many queries in flight: each write that is alone is its
 * own segment, the statement and a Sync, so its own transaction. Reads
 * (statements marked with db_readonly) that wait together share one: their
 * statements, then one Sync; each is answered as its result comes in, and
 * one that fails makes PostgreSQL skip the rest, which go back to the head
 * of their owners' queues (never onto their connection, behind what was
 * sent there since), so an owner's next queries wait while some of its are
 * in such a segment.
 * The reads there of a statement that takes many (db_mergeable: PARTICIPANT
 * SHOW), of owners with nothing else in the segment, go as one carrier
 * (below): one statement for them all; one that finds no row runs again
 * alone, to raise its own error. Queries
 * are taken from the queue once the event loop has run the callbacks that
 * are ready (db_kick_soon), so that those of clients whose requests
 * arrived together go together. Writes that wait together (statements marked with
 * db_batchable) go as one transaction, "group commit": BEGIN, then for each
 * SAVEPOINT, the statement, RELEASE and a Sync, then COMMIT once every
 * answer is in, so that one WAL flush commits them all. Each still fails
 * alone: a failure is undone to its savepoint (ROLLBACK TO), and what had
 * been sent after it, which PostgreSQL skipped, is sent again. A write
 * that meets a deadlock, a serialization failure or a lock it waits for
 * longer than DB_BATCH_LOCK_WAIT (two batches can wait for each other) is
 * undone too and runs again alone after the COMMIT. Writes of a statement
 * that takes many at once (db_mergeable: PARTICIPANT ADD), of different
 * owners and next to each other in the batch, go as one member, a
 * "carrier": one call with arrays of their parameters, whose rows are the
 * answer of each (or its own failure, undone inside the call); a carrier
 * that fails as a whole is undone and its writes run again alone, after
 * the COMMIT, in order. A batch of carriers only sends its COMMIT right
 * behind them, not once their answers are in: a carrier answers each of
 * its writes, failures and all, and one that fails as a whole rolls the
 * transaction back (its COMMIT answers ROLLBACK), which runs every write
 * of the batch again alone. A COMMIT that fails
 * rolls the batch back and runs its statements again one by one; neither
 * is seen by their clients. An
 * answer is given only once its transaction has committed. A connection
 * with a write in flight takes nothing more, so reads never wait behind
 * writes, and at most half the connections write at once. An owner's
 * queries run in order: while some are in flight, its next ones go to the
 * same connection, behind them.
 *
 * Every result of a query is read, and an error among them (one raised at
 * commit) is the answer. A lost connection fails its queries with
 * UNAVAILABLE ("outcome unknown" when a statement, or its batch's COMMIT,
 * had been sent) and is replaced with back-off. An export (COPY) takes a
 * connection of its own, out of pipeline mode, for as long as it streams.
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
#define DB_BATCH_MAX	   64	/* writes in one transaction */
#define DB_BATCH_LOCK_WAIT "50ms" /* then a write waits alone, after */
#define DB_DEPTH	   32	  /* queries in flight on one connection */
#define DB_READ_GROUP	   16	  /* reads in one segment */
#define DB_MAX_OPS	   (4 * DB_BATCH_MAX + 2 * DB_DEPTH + 16)

struct db_statement {
	const char *sql;
	int	    nparams;
	int	    batch; /* a write that may share a transaction */
	int	    many;  /* 1 + the statement that takes many at once, or 0 */
	int	    read;  /* only reads: may share a segment with others */
};

/* Where a query of a batch stands. */
enum db_member {
	DBM_WAIT,   /* sent, its answer not in */
	DBM_DONE,   /* succeeded: its result waits for the COMMIT */
	DBM_FAILED, /* failed alone, undone to its savepoint */
	DBM_RESEND, /* skipped after an earlier failure: to send again */
	DBM_LATER   /* met a lock held by another (batch): alone, after */
};

TAILQ_HEAD(db_queryq, db_query);
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
	int		 sent; /* may have reached PostgreSQL */
	size_t		 size; /* bytes of params */
	struct db_owner *owner;
	int		 waiting; /* in its owner's queue */
	int		 member;  /* of its connection's batch */
	unsigned int	 seg;	  /* the segment of reads it is in, or 0 */
	int		 alone;	  /* a read that runs in a segment of its own */
	enum db_member	 mstate;
	PGresult	*res; /* its answer so far */
	/* a carrier: queries of one statement (its parts, of different
	 * owners) sent as one call of the statement that takes many */
	struct db_queryq parts;
	int		 nparts;
	/* a part that failed alone: its SQLSTATE and message */
	char *fail_state;
	char *fail_msg;
};

/* The queries one client connection has waiting, and its turn. */
struct db_owner {
	TAILQ_ENTRY(db_owner) turn;
	LIST_ENTRY(db_owner) hash;
	const void	*key;
	struct db_queryq queue;
	int		 nqueued;
	int		 inflight; /* its queries sent on conn */
	struct dbconn	*conn;
	/* its queries in flight in segments of several reads, each of which
	 * PostgreSQL may skip and rosterd then sends again: while there are
	 * some, its next ones wait, but for the segment being formed, the
	 * last it joined (group) */
	int	     ngrouped;
	unsigned int group;
};
TAILQ_HEAD(db_ownerq, db_owner);
LIST_HEAD(db_ownerl, db_owner);

enum dbc_state {
	DBC_DOWN,
	DBC_CONNECTING,
	DBC_CHECKING, /* schema version query in flight */
	DBC_PREPARING,
	DBC_READY, /* pipeline mode: queries in flight or none */
	DBC_COPY   /* an export, out of pipeline mode */
};

/* What was sent on a connection in pipeline mode, whose results come back
 * in that order. */
enum dbop_kind {
	DBOP_EXEC,	/* q's statement */
	DBOP_SYNC,	/* the end of a segment: q's commit, if it is alone */
	DBOP_BEGIN,	/* a batch: */
	DBOP_SAVEPOINT, /* before each member */
	DBOP_RELEASE,	/* after it */
	DBOP_UNDO,	/* ROLLBACK TO SAVEPOINT: a member failed */
	DBOP_COMMIT,
	DBOP_ROLLBACK /* the whole batch, to run its members one by one */
};

struct dbop {
	enum dbop_kind	 kind;
	struct db_query *q;
	unsigned int	 seg; /* a Sync of a segment of reads: its id */
};

/* Where a connection's batch stands. */
enum db_phase {
	DBB_NONE,
	DBB_RUN,      /* members in flight */
	DBB_UNDO,     /* a failure being undone */
	DBB_COMMIT,   /* COMMIT sent */
	DBB_ROLLBACK, /* ROLLBACK sent */
};

struct dbconn {
	int		 idx;
	PGconn		*pg;
	enum dbc_state	 state;
	struct event	*ev;
	struct event	*retry;
	int		 backoff;
	int		 prep; /* next statement to prepare */
	struct db_query *q;    /* the export, in DBC_COPY */
	PGresult	*res;  /* the answer: first result, or an error */
	/* pipeline mode */
	struct dbop	 ops[DB_MAX_OPS]; /* a ring: what is in flight */
	int		 op_head, nops;
	struct db_queryq flight; /* queries in flight, in order */
	int		 nflight;
	int		 nwrites; /* batchable writes among them */
	enum db_phase	 phase;
	int		 segs;	 /* the batch's segments in flight */
	int		 broken; /* a member failed: the rest were skipped */
	int		 redo;	 /* run the batch one by one */
	int		 early;	 /* its COMMIT sent behind its calls */
	int		 sync_error; /* a result came for a Sync */
	int		 paused;     /* COPY reader waits for a client */
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
static int		   db_ncopies;
static int		   db_busy; /* reading results: kick the queue after */
static int		   db_stmt_begin, db_stmt_savepoint, db_stmt_release;
static int		   db_stmt_undo, db_stmt_commit, db_stmt_rollback;
static int		   db_stmt_lock_timeout;
static struct event	  *db_kick_ev; /* db_kick after the ready callbacks */
static unsigned int	   db_groups;  /* read groups formed, for their ids */
static unsigned int	   db_forming; /* the one being formed, or 0 */

static void dbc_connect(struct dbconn *);
static void dbc_fail(struct dbconn *, const char *);
static int  dbc_watch(struct dbconn *, short, event_callback_fn);
static void dbc_io_cb(evutil_socket_t, short, void *);
static int  dbc_next(struct dbconn *);
static void db_kick(void);
static void db_kick_soon(void);
static int  dbc_copy_read(struct dbconn *);
static int  db_merge_reads(struct db_query **, int);
static void dbc_cancel(struct dbconn *);

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

/* Before db_start: stmt is a write that may share a transaction with
 * other writes (group commit): it must not depend on being alone in its
 * transaction. */
void
db_batchable(int stmt)
{
	db_stmts[stmt].batch = 1;
}

/*
 * Before db_start: writes of stmt (batchable) that wait together, of
 * different owners, may go as one call of many (registered with as many
 * parameters), each parameter the array of theirs. many returns a row for
 * each, by its ord (from 1): ord, stmt's columns, then state and message,
 * set when that one failed having done nothing (its SQLSTATE and error
 * message). A failure of the call itself undoes all of them; they then
 * run again alone. For reads (stmt marked db_readonly first) many returns
 * a row for each it finds, and those it finds none for go back to their
 * owners' queues to run alone, as does every one when the call fails.
 */
void
db_mergeable(int stmt, int many)
{
	db_stmts[stmt].many = many + 1;
	if (db_stmts[stmt].read)
		db_stmts[many].read = 1;
	else
		db_stmts[many].batch = 1;
}

/*
 * Before db_start: stmt only reads (its function is STABLE, and so is
 * everything it calls), so that reads of different clients that wait
 * together may go in one segment (several statements, one Sync: one
 * implicit transaction). Each is answered as soon as its result is in,
 * before the Sync: a statement that wrote would lose its write, already
 * answered, whenever a later one of its segment failed.
 */
void
db_readonly(int stmt)
{
	db_stmts[stmt].read = 1;
}

static void
db_notice_cb(void *arg, const char *msg)
{
	char buf[512];

	log_escape(buf, sizeof buf, msg, strcspn(msg, "\n"));
	log_debug("db notice: %s", buf);
}

static void db_owner_put(struct db_owner *);

/* q (a carrier: each of its parts) is in the segment of reads seg. */
static void
db_group(struct db_query *q, unsigned int seg)
{
	struct db_query *p;

	q->seg = seg;
	TAILQ_FOREACH (p, &q->parts, entry)
		db_group(p, seg);
	if (q->owner != NULL)
		q->owner->ngrouped++;
}

/* q has left its segment of reads: answered, failed, or to be sent
 * again. Its owner's next queries wait no longer once none of its are in
 * one. */
static void
db_ungroup(struct db_query *q)
{
	struct db_query *p;

	if (q->seg == 0)
		return;
	q->seg = 0;
	TAILQ_FOREACH (p, &q->parts, entry)
		db_ungroup(p);
	if (q->owner != NULL && --q->owner->ngrouped == 0 &&
	    q->owner->nqueued > 0)
		db_kick_soon();
}

/* A query answered: its owner has one fewer in flight. */
static void
db_query_free(struct db_query *q)
{
	struct db_owner *o = q->owner;

	db_ungroup(q);
	if (q->copy_sql != NULL)
		db_ncopies--;
	if (o != NULL && !q->waiting) {
		o->inflight--;
		db_owner_put(o);
	}
	if (q->res != NULL)
		PQclear(q->res);
	free(q->fail_state);
	free(q->fail_msg);
	free(q->params);
	free(q);
}

/* Fail q, or each part of a carrier, then free it. */
static void
db_query_fail(struct db_query *q, enum proto_code code, const char *msg)
{
	struct db_query *p;

	while ((p = TAILQ_FIRST(&q->parts)) != NULL) {
		TAILQ_REMOVE(&q->parts, p, entry);
		q->nparts--;
		db_query_fail(p, code, msg);
	}
	if (q->cb != NULL)
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

/* An owner with nothing queued and nothing in flight is freed. */
static void
db_owner_put(struct db_owner *o)
{
	if (o->nqueued > 0 || o->inflight > 0)
		return;
	LIST_REMOVE(o, hash);
	free(o);
}

/* Take q out of its owner's queue: it is answered now, or sent. An owner
 * with none left waiting leaves the line of turns. */
static void
db_unqueue(struct db_query *q)
{
	struct db_owner *o = q->owner;

	TAILQ_REMOVE(&o->queue, q, entry);
	q->waiting = 0;
	o->inflight++; /* until db_query_free */
	db_queued--;
	db_queued_bytes -= q->size;
	if (--o->nqueued == 0)
		TAILQ_REMOVE(&db_turns, o, turn);
}

/*
 * q, a read taken from the queue and answered by nothing yet (PostgreSQL
 * skipped it after a failure in its segment; or it found no row in a call
 * of many), goes back to the head of its owner's queue, to run again
 * before anything else of its owner, on whatever connection takes it
 * next: never on its own behind what its connection was sent since (a
 * batch's transaction may have begun there). A carrier goes back as its
 * parts, and is freed.
 */
static void
db_requeue(struct db_query *q)
{
	struct db_owner *o = q->owner;
	struct db_query *p;

	db_ungroup(q);
	if (q->res != NULL) {
		PQclear(q->res);
		q->res = NULL;
	}
	if (q->nparts > 0) {
		while ((p = TAILQ_LAST(&q->parts, db_queryq)) != NULL) {
			TAILQ_REMOVE(&q->parts, p, entry);
			q->nparts--;
			db_requeue(p);
		}
		db_query_free(q);
		return;
	}
	q->sent = 0;
	q->waiting = 1;
	o->inflight--;
	if (o->nqueued++ == 0)
		TAILQ_INSERT_HEAD(&db_turns, o, turn);
	TAILQ_INSERT_HEAD(&o->queue, q, entry);
	db_queued++;
	db_queued_bytes += q->size;
	db_kick_soon();
}

/* What a connection can take now. */
enum db_want {
	DBW_ANY,   /* a read, a write, or an export if c is empty */
	DBW_BATCH, /* another write for the batch being formed */
	DBW_READ   /* another read for the segment being formed */
};

/* Whether c may take q: an owner's queries run in order, so while some are
 * in flight the next go to the same connection; a connection with a write
 * in flight takes nothing (reads never wait behind writes); at most half
 * the connections write at once; an export needs an empty connection. */
static int
db_fits(struct dbconn *c, struct db_query *q, enum db_want want, int writers)
{
	struct db_owner *o = q->owner;

	if (o->inflight > 0 && o->conn != NULL && o->conn != c &&
	    o->conn->state != DBC_COPY)
		return (0);
	if (o->ngrouped > 0 && o->group != db_forming)
		return (0);
	if (want == DBW_BATCH)
		return (q->copy_sql == NULL && db_stmts[q->stmt].batch);
	if (want == DBW_READ)
		return (q->copy_sql == NULL && db_stmts[q->stmt].read &&
		    !q->alone && c->nflight < DB_DEPTH &&
		    c->nops + 8 <= DB_MAX_OPS);
	if (c->nwrites > 0 || c->nflight >= DB_DEPTH ||
	    c->nops + 8 > DB_MAX_OPS)
		return (0);
	if (q->copy_sql != NULL)
		return (c->nflight == 0);
	if (db_stmts[q->stmt].batch) {
		int max = db_nconns / 2;

		return (writers < (max > 0 ? max : 1));
	}
	return (1);
}

/* The next query c may take: the first of the first owner in the line of
 * turns whose first query fits; that owner then goes to the back. A
 * connection that takes nothing now (full, or writing) is told so at
 * once: the line holds an owner for each client waiting, and db_kick asks
 * every connection after every answer (walking 300 owners for each of 4
 * full connections was a fifth of rosterd's time at 300 clients). */
static struct db_query *
db_take_for(struct dbconn *c, enum db_want want)
{
	struct db_owner *o;
	struct db_query *q;
	int		 i, writers = 0;

	if (want == DBW_ANY &&
	    (c->nwrites > 0 || c->nflight >= DB_DEPTH ||
		c->nops + 8 > DB_MAX_OPS))
		return (NULL);
	for (i = 0; i < db_nconns; i++)
		writers += db_conns[i].nwrites > 0;
	TAILQ_FOREACH (o, &db_turns, turn) {
		q = TAILQ_FIRST(&o->queue);
		if (!db_fits(c, q, want, writers))
			continue;
		if (o->nqueued > 1) {
			TAILQ_REMOVE(&db_turns, o, turn);
			TAILQ_INSERT_TAIL(&db_turns, o, turn);
		}
		db_unqueue(q);
		o->conn = c;
		return (q);
	}
	return (NULL);
}

/* Any queued query, for failing them all. */
static struct db_query *
db_take(void)
{
	struct db_owner *o;
	struct db_query *q;

	if ((o = TAILQ_FIRST(&db_turns)) == NULL)
		return (NULL);
	q = TAILQ_FIRST(&o->queue);
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
		    db_conns[i].state == DBC_COPY)
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
	c->op_head = c->nops = 0;
	c->phase = DBB_NONE;
	c->segs = c->broken = c->redo = c->early = c->sync_error = 0;
}

/*
 * Take every query in flight off c, to be failed: a write of a batch whose
 * COMMIT was not sent committed nothing (sent is cleared), the others may
 * have, once sent.
 */
static void
dbc_take_flight(struct dbconn *c, struct db_queryq *out)
{
	struct db_query *q;

	while ((q = TAILQ_FIRST(&c->flight)) != NULL) {
		TAILQ_REMOVE(&c->flight, q, entry);
		if (q->member && c->phase != DBB_COMMIT)
			q->sent = 0;
		TAILQ_INSERT_TAIL(out, q, entry);
	}
	c->nflight = c->nwrites = 0;
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
	struct db_queryq lost = TAILQ_HEAD_INITIALIZER(lost);
	struct timeval	 tv;
	struct db_query *q = c->q;
	char		 buf[256];
	int was_up = (c->state == DBC_READY || c->state == DBC_COPY);

	log_escape(buf, sizeof buf, why, strcspn(why, "\n"));
	if (was_up)
		log_warnx("db conn=%d lost: %s", c->idx, buf);
	else
		log_debug("db conn=%d connect failed: %s", c->idx, buf);
	c->q = NULL;
	dbc_take_flight(c, &lost);
	dbc_reset(c);
	if (q != NULL)
		dbc_lost(q,
		    "the database connection was lost; nothing was "
		    "done");
	while ((q = TAILQ_FIRST(&lost)) != NULL) {
		TAILQ_REMOVE(&lost, q, entry);
		dbc_lost(q,
		    "the database connection was lost; nothing was "
		    "done");
	}
	db_starting = 0;
	if (!db_live()) {
		if (db_up)
			log_error("db unavailable: no connection to the "
				  "database");
		db_up = 0;
		db_fail_queue(PROTO_UNAVAILABLE,
		    "the database cannot be reached; nothing was done");
	}
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
	 * session; no statement runs longer than statement_timeout; and
	 * none is compiled by JIT, which a large installation's estimates
	 * would turn on for short statements (milliseconds of compiling for
	 * each run of a LIST that takes a fraction of one) */
	const char *sql =
	    "SELECT coalesce(max(version), 0), CASE WHEN "
	    "current_setting('synchronous_commit') = 'off' THEN "
	    "set_config('synchronous_commit', 'on', false) END, "
	    "(SELECT f.files_sha256 = $1 AND f.catalog_sha256 = " MIGRATE_CATALOG_HASH_SQL
	    " FROM roster.function_set f), "
	    "set_config('statement_timeout', $2, false), "
	    "set_config('jit', 'off', false) "
	    "FROM roster.schema_migration";
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
	    !PQsendQueryParams(c->pg, sql, 2, NULL, params, NULL, NULL, 0)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = DBC_CHECKING;
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
db_state_code(const char *state, const char *sev, int *unknown)
{
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

static enum proto_code
db_error_code(PGresult *res, const char **msg, int *unknown)
{
	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (*msg == NULL)
		*msg = "database error";
	return (db_state_code(PQresultErrorField(res, PG_DIAG_SQLSTATE),
	    PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED), unknown));
}

/* A query's answer is a failure: say so, truthfully. */
static void
dbc_answer_failure(struct dbconn *c, struct db_query *q, const char *state,
    enum proto_code code, const char *msg, int unknown)
{
	char buf[256], text[320];

	log_escape(buf, sizeof buf, msg, strlen(msg));
	if (unknown || code == PROTO_INTERNAL || code == PROTO_UNAVAILABLE)
		log_error("db conn=%d query s%d failed: %s state=%s", c->idx,
		    q->stmt, buf, state != NULL ? state : "-");
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

static void dbc_answer(struct dbconn *, struct db_query *);

/* A part's own answer from a row of its carrier's result: its columns
 * (between ord and state) as a result of one row, or its failure. */
static int
db_part_result(struct db_query *p, PGresult *res, int row)
{
	PGresAttDesc attrs[16];
	PGresult    *r;
	int	     i, n = PQnfields(res) - 3;

	if (!PQgetisnull(res, row, n + 1)) {
		p->fail_state = strdup(PQgetvalue(res, row, n + 1));
		p->fail_msg = strdup(PQgetisnull(res, row, n + 2) ?
			"database error" :
			PQgetvalue(res, row, n + 2));
		if (p->fail_state != NULL && p->fail_msg != NULL)
			return (0);
		free(p->fail_state);
		free(p->fail_msg);
		p->fail_state = p->fail_msg = NULL;
		return (-1);
	}
	if (n < 1 || n > (int)(sizeof attrs / sizeof attrs[0]))
		return (-1);
	memset(attrs, 0, sizeof attrs);
	for (i = 0; i < n; i++) {
		attrs[i].name = PQfname(res, i + 1);
		attrs[i].typid = PQftype(res, i + 1);
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	if ((r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK)) == NULL)
		return (-1);
	if (!PQsetResultAttrs(r, n, attrs))
		goto fail;
	for (i = 0; i < n; i++)
		if (!PQsetvalue(r, 0, i,
			PQgetisnull(res, row, i + 1) ?
			    NULL :
			    PQgetvalue(res, row, i + 1),
			PQgetisnull(res, row, i + 1) ?
			    -1 :
			    PQgetlength(res, row, i + 1)))
			goto fail;
	p->res = r;
	return (0);
fail:
	PQclear(r);
	return (-1);
}

/* Each of the n parts of a carrier its row of the carrier's result res (by
 * ord), when it has one and its answer can be built. */
static void
db_part_rows(struct dbconn *c, PGresult *res, struct db_query **part, int n)
{
	int i, k;

	for (i = 0; i < PQntuples(res) && PQnfields(res) >= 4; i++) {
		k = atoi(PQgetvalue(res, i, 0)) - 1;
		if (k < 0 || k >= n || part[k]->res != NULL ||
		    part[k]->fail_state != NULL)
			continue;
		if (db_part_result(part[k], res, i) == -1)
			log_warnx("db conn=%d: no answer for part %d: out of "
				  "memory",
			    c->idx, k + 1);
	}
}

/* A carrier's transaction has committed: each part is answered from its
 * row (one that has none, or whose answer cannot be built, is told so). */
static void
dbc_answer_parts(struct dbconn *c, struct db_query *m)
{
	struct db_query *part[DB_BATCH_MAX], *p;
	int		 n = 0;

	TAILQ_FOREACH (p, &m->parts, entry)
		part[n++] = p;
	db_part_rows(c, m->res, part, n);
	while ((p = TAILQ_FIRST(&m->parts)) != NULL) {
		TAILQ_REMOVE(&m->parts, p, entry);
		m->nparts--;
		dbc_answer(c, p);
	}
	db_query_free(m);
}

/*
 * A carrier of reads has its result: each part that has its row is
 * answered from it; those without one (participant_show_many finds only
 * what is in order), or all of them when the call failed, go back to the
 * head of their owners' queues (db_requeue) to run alone, as what they
 * are: their statement raises their error.
 */
static void
dbc_read_parts(struct dbconn *c, struct db_query *m)
{
	struct db_query *part[DB_READ_GROUP], *p;
	PGresult	*res = m->res;
	int		 i, k, n = 0;

	TAILQ_FOREACH (p, &m->parts, entry)
		part[n++] = p;
	if (res != NULL && !db_failed(res))
		db_part_rows(c, res, part, n); /* those without run again */
	TAILQ_INIT(&m->parts);
	m->nparts = 0;
	db_query_free(m);
	for (i = k = 0; i < n; i++) {
		p = part[i];
		if (p->res != NULL || p->fail_state != NULL)
			dbc_answer(c, p);
		else {
			p->alone = 1;
			db_requeue(p);
			k++;
		}
	}
	if (k > 0)
		log_debug("db conn=%d: %d reads without a row sent again",
		    c->idx, k);
}

/* Answer q with what it has (q->res: a success, or a failure told
 * truthfully; a part's own failure), then free it. A carrier answers each
 * of its parts. */
static void
dbc_answer(struct dbconn *c, struct db_query *q)
{
	PGresult       *res = q->res;
	enum proto_code code = PROTO_INTERNAL;
	const char     *msg = "no result";
	int		unknown = 0;

	if (q->nparts > 0 && db_stmts[q->stmt].read) {
		dbc_read_parts(c, q);
		return;
	}
	if (q->nparts > 0 && res != NULL && !db_failed(res)) {
		dbc_answer_parts(c, q);
		return;
	}
	if (q->nparts > 0) {
		/* not sent alone; cannot happen, but answer them */
		db_query_fail(q, PROTO_INTERNAL, "internal error");
		return;
	}
	if (q->fail_state != NULL) {
		code = db_state_code(q->fail_state, "ERROR", &unknown);
		dbc_answer_failure(c, q, q->fail_state, code, q->fail_msg, 0);
	} else if (res != NULL && !db_failed(res))
		q->cb(q->arg, res, PROTO_OK, NULL);
	else {
		if (res != NULL)
			code = db_error_code(res, &msg, &unknown);
		if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_BAD)
			unknown = 1;
		dbc_answer_failure(c, q,
		    res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
				  NULL,
		    code, msg, unknown);
	}
	db_query_free(q);
}

/* What q counts for in a connection's flight (DB_DEPTH): a carrier of
 * reads, each of its parts. */
static int
db_weight(const struct db_query *q)
{
	return (q->nparts > 0 && db_stmts[q->stmt].read ? q->nparts : 1);
}

/* q is in flight on c (a member of its batch, or alone). */
static void
dbc_enflight(struct dbconn *c, struct db_query *q, int member)
{
	q->member = member;
	q->mstate = DBM_WAIT;
	TAILQ_INSERT_TAIL(&c->flight, q, entry);
	c->nflight += db_weight(q);
	if (db_stmts[q->stmt].batch)
		c->nwrites++;
}

static void
dbc_unflight(struct dbconn *c, struct db_query *q)
{
	TAILQ_REMOVE(&c->flight, q, entry);
	c->nflight -= db_weight(q);
	if (db_stmts[q->stmt].batch)
		c->nwrites--;
}

/* Send one statement (q's, with its parameters, or an internal one) or a
 * Sync, in pipeline mode, and remember it. */
static int
dbc_send(struct dbconn *c, enum dbop_kind kind, int stmt, struct db_query *q)
{
	struct dbop *op;
	char	     name[16];
	int	     ok;

	if (c->nops == DB_MAX_OPS)
		fatalx("db conn=%d: too much in flight", c->idx);
	snprintf(name, sizeof name, "s%d", stmt);
	if (kind == DBOP_SYNC)
		ok = PQpipelineSync(c->pg);
	else if (kind == DBOP_EXEC)
		ok = PQsendQueryPrepared(c->pg, name, q->nparams,
		    (const char *const *)q->params, NULL, NULL, 0);
	else
		ok = PQsendQueryPrepared(c->pg, name, 0, NULL, NULL, NULL, 0);
	if (!ok)
		return (-1);
	op = &c->ops[(c->op_head + c->nops) % DB_MAX_OPS];
	c->nops++;
	op->kind = kind;
	op->q = q;
	op->seg = 0;
	if (kind == DBOP_EXEC)
		q->sent = 1;
	return (0);
}

static void
dbc_pop(struct dbconn *c)
{
	c->op_head = (c->op_head + 1) % DB_MAX_OPS;
	c->nops--;
}

/* q alone in its segment: its statement, then a Sync (its commit). */
static int
dbc_send_alone(struct dbconn *c, struct db_query *q)
{
	dbc_enflight(c, q, 0);
	if (dbc_send(c, DBOP_EXEC, q->stmt, q) == -1 ||
	    dbc_send(c, DBOP_SYNC, 0, q) == -1)
		return (-1);
	return (0);
}

/* The reads g[0..n-1], already in flight, in one segment of their own: each
 * statement, then one Sync. Each is answered as soon as its result is in
 * (dbc_op_done); at the Sync, those that PostgreSQL skipped after a failure
 * go again (dbc_reads_synced). */
static int
dbc_send_segment(struct dbconn *c, struct db_query **g, int n)
{
	unsigned int seg;
	int	     i, reads = 0;

	if (++db_groups == 0)
		db_groups = 1;
	seg = db_groups;
	for (i = 0; i < n; i++) {
		db_group(g[i], seg);
		reads += g[i]->nparts > 0 ? g[i]->nparts : 1;
	}
	for (i = 0; i < n; i++)
		if (dbc_send(c, DBOP_EXEC, g[i]->stmt, g[i]) == -1)
			return (-1);
	if (dbc_send(c, DBOP_SYNC, 0, NULL) == -1)
		return (-1);
	c->ops[(c->op_head + c->nops - 1) % DB_MAX_OPS].seg = seg;
	log_debug("db conn=%d: %d reads in one segment, %d statements", c->idx,
	    reads, n);
	return (0);
}

/*
 * Reads in one segment, q and those that wait with it (of any owner, as
 * many as fit, in their turns), then one Sync: PostgreSQL runs them in one
 * implicit transaction and sends their results one after another. One that
 * fails makes PostgreSQL skip the rest, which go back to their owners'
 * queues (db_requeue); so that an owner's queries still run in order, its
 * next ones wait while some of its are in such a segment
 * (db_owner.ngrouped). q alone (or one that must run alone) is sent alone.
 */
static int
dbc_send_reads(struct dbconn *c, struct db_query *q)
{
	struct db_query *g[DB_READ_GROUP], *more;
	int		 i, n = 1;

	if (++db_groups == 0)
		db_groups = 1;
	db_forming = db_groups;
	g[0] = q;
	q->owner->group = db_forming;
	dbc_enflight(c, q, 0);
	while (!q->alone && n < DB_READ_GROUP &&
	    (more = db_take_for(c, DBW_READ)) != NULL) {
		more->owner->group = db_forming;
		dbc_enflight(c, more, 0);
		g[n++] = more;
	}
	db_forming = 0;
	if (n > 1) {
		for (i = 0; i < n; i++)
			dbc_unflight(c, g[i]);
		n = db_merge_reads(g, n);
		for (i = 0; i < n; i++)
			dbc_enflight(c, g[i], 0);
	}
	if (n > 1 || g[0]->nparts > 0)
		return (dbc_send_segment(c, g, n));
	if (dbc_send(c, DBOP_EXEC, g[0]->stmt, g[0]) == -1 ||
	    dbc_send(c, DBOP_SYNC, 0, g[0]) == -1)
		return (-1);
	return (0);
}

/* A member of the batch (already in flight): under a savepoint of its
 * own, in a segment of its own. */
static int
dbc_send_member(struct dbconn *c, struct db_query *q)
{
	q->mstate = DBM_WAIT;
	c->segs++;
	if (dbc_send(c, DBOP_SAVEPOINT, db_stmt_savepoint, NULL) == -1 ||
	    dbc_send(c, DBOP_EXEC, q->stmt, q) == -1 ||
	    dbc_send(c, DBOP_RELEASE, db_stmt_release, NULL) == -1 ||
	    dbc_send(c, DBOP_SYNC, 0, NULL) == -1)
		return (-1);
	return (0);
}

/* An export takes c, empty, out of pipeline mode until it ends. */
static void
dbc_copy_start(struct dbconn *c, struct db_query *q)
{
	char name[16];

	if (!PQexitPipelineMode(c->pg)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		db_query_fail(q, PROTO_UNAVAILABLE,
		    "the database connection failed; nothing was done");
		return;
	}
	snprintf(name, sizeof name, "s%d", q->stmt);
	c->q = q;
	c->state = DBC_COPY;
	if (!PQsendQueryPrepared(c->pg, name, q->nparams,
		(const char *const *)q->params, NULL, NULL, 0)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	q->sent = 1;
	dbc_flush(c);
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
	case DBC_COPY:
		q = c->q;
		if (!q->copying && code == PROTO_OK) {
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
			dbc_answer_failure(c, q,
			    PQresultErrorField(res, PG_DIAG_SQLSTATE), code,
			    msg, unknown);
		db_query_free(q);
		PQclear(res);
		if (c->state == DBC_READY && !PQenterPipelineMode(c->pg)) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return;
		}
		break;
	default:
		PQclear(res);
		break;
	}
	dbc_next(c);
}

/* Write the array literal of parameter j of the n queries q[] into dst
 * (NULL: measure); returns its length. */
static size_t
db_array(char *dst, struct db_query **q, int n, int j)
{
	const char *v;
	size_t	    len = 0;
	int	    i;

#define DB_PUT(ch)                       \
	do {                             \
		if (dst != NULL)         \
			dst[len] = (ch); \
		len++;                   \
	} while (0)
	DB_PUT('{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			DB_PUT(',');
		if ((v = q[i]->params[j]) == NULL) {
			DB_PUT('N');
			DB_PUT('U');
			DB_PUT('L');
			DB_PUT('L');
			continue;
		}
		DB_PUT('"');
		for (; *v != '\0'; v++) {
			if (*v == '"' || *v == '\\')
				DB_PUT('\\');
			DB_PUT(*v);
		}
		DB_PUT('"');
	}
	DB_PUT('}');
	DB_PUT('\0');
#undef DB_PUT
	return (len);
}

/* A carrier for the n queries run[] of one statement (db_mergeable): the
 * call of many with the arrays of their parameters, no parts yet (the
 * caller moves run[] there). NULL without the memory for it. */
static struct db_query *
db_carrier(struct db_query **run, int n)
{
	struct db_query *m, *q = run[0];
	size_t		 size;
	char		*dst;
	int		 j;

	size = (size_t)q->nparams * sizeof(char *);
	for (j = 0; j < q->nparams; j++)
		size += db_array(NULL, run, n, j);
	if ((m = calloc(1, sizeof *m)) == NULL)
		return (NULL);
	if ((m->params = malloc(size)) == NULL) {
		free(m);
		return (NULL);
	}
	dst = (char *)(m->params + q->nparams);
	for (j = 0; j < q->nparams; j++) {
		m->params[j] = dst;
		dst += db_array(dst, run, n, j);
	}
	m->stmt = db_stmts[q->stmt].many - 1;
	m->nparams = q->nparams;
	m->queued = q->queued;
	m->size = size;
	TAILQ_INIT(&m->parts);
	return (m);
}

/*
 * q and the queries that follow it in rest of its statement, of owners
 * all different, as one carrier (db_mergeable) when there are two or more
 * (they leave rest: the carrier stands for them in its place), else q.
 * Without the memory for it, q.
 */
static struct db_query *
db_merge(struct db_query *q, struct db_queryq *rest)
{
	struct db_query *run[DB_BATCH_MAX], *m, *p;
	int		 i, n = 1;

	if (db_stmts[q->stmt].many == 0)
		return (q);
	run[0] = q;
	for (p = TAILQ_FIRST(rest); p != NULL && n < DB_BATCH_MAX &&
	     p->stmt == q->stmt && p->copy_sql == NULL;
	     p = TAILQ_NEXT(p, entry)) {
		for (i = 0; i < n && run[i]->owner != p->owner; i++)
			;
		if (i < n)
			break;
		run[n++] = p;
	}
	if (n < 2 || (m = db_carrier(run, n)) == NULL)
		return (q);
	for (i = 0; i < n; i++) {
		if (i > 0)
			TAILQ_REMOVE(rest, run[i], entry);
		TAILQ_INSERT_TAIL(&m->parts, run[i], entry);
	}
	m->nparts = n;
	return (m);
}

/* Whether the owner of g[k] has nothing else among the n reads of g. */
static int
db_alone_in(struct db_query **g, int n, int k)
{
	int i;

	for (i = 0; i < n; i++)
		if (i != k && g[i] != NULL && g[i]->owner == g[k]->owner)
			return (0);
	return (1);
}

/*
 * The reads g[0..n-1] of a segment being formed (in no list): those of one
 * statement that takes many (db_mergeable: PARTICIPANT SHOW), of owners
 * with nothing else in the segment, as one carrier in the place of the
 * first of them: one statement, whose executor PostgreSQL starts once, for
 * them all. A part that finds no row goes back to the head of its owner's
 * queue, to run alone (dbc_read_parts), before anything else of its owner,
 * which has nothing after it in the segment. Returns the new n.
 */
static int
db_merge_reads(struct db_query **g, int n)
{
	struct db_query *run[DB_READ_GROUP], *m;
	int		 at[DB_READ_GROUP];
	int		 i, j, k, nrun;

	for (i = 0; i < n; i++) {
		if (g[i] == NULL || g[i]->nparts > 0 || g[i]->alone ||
		    db_stmts[g[i]->stmt].many == 0)
			continue;
		for (nrun = 0, j = i; j < n; j++)
			if (g[j] != NULL && g[j]->stmt == g[i]->stmt &&
			    g[j]->nparts == 0 && !g[j]->alone &&
			    db_alone_in(g, n, j)) {
				at[nrun] = j;
				run[nrun++] = g[j];
			}
		if (nrun < 2 || (m = db_carrier(run, nrun)) == NULL)
			continue;
		for (k = 0; k < nrun; k++) {
			TAILQ_INSERT_TAIL(&m->parts, run[k], entry);
			g[at[k]] = NULL;
		}
		m->nparts = nrun;
		g[at[0]] = m;
	}
	for (i = k = 0; i < n; i++)
		if (g[i] != NULL)
			g[k++] = g[i];
	return (k);
}

/* Start the next piece of work on c: the next statement to prepare, or
 * what c may take from the queue (a read, a write alone, a batch of writes
 * or an export). Returns 1 when it took a query. */
static int
dbc_next(struct dbconn *c)
{
	struct db_queryq taken = TAILQ_HEAD_INITIALIZER(taken);
	struct db_query *q, *more;
	char		 name[16];
	int		 n, r, calls = 0, carriers = 0;

	if (c->state == DBC_PREPARING) {
		if (c->prep < db_nstmts) {
			snprintf(name, sizeof name, "s%d", c->prep);
			if (!PQsendPrepare(c->pg, name, db_stmts[c->prep].sql,
				db_stmts[c->prep].nparams, NULL))
				dbc_fail(c, PQerrorMessage(c->pg));
			else
				dbc_flush(c);
			return (0);
		}
		if (!PQenterPipelineMode(c->pg)) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return (0);
		}
		c->state = DBC_READY;
		c->backoff = 0;
		db_starting = 0;
		if (!db_up)
			log_notice("db available");
		db_up = 1;
		log_debug("db conn=%d ready", c->idx);
	}
	if (c->state != DBC_READY || db_stopping || c->phase != DBB_NONE ||
	    (q = db_take_for(c, DBW_ANY)) == NULL)
		return (0);
	if (q->copy_sql != NULL) {
		dbc_copy_start(c, q);
		return (1);
	}
	if (db_stmts[q->stmt].read) {
		if (dbc_send_reads(c, q) == -1) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return (0);
		}
		dbc_flush(c);
		return (1);
	}
	if (!db_stmts[q->stmt].batch ||
	    (more = db_take_for(c, DBW_BATCH)) == NULL) {
		if (dbc_send_alone(c, q) == -1) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return (0);
		}
		dbc_flush(c);
		return (1);
	}
	/* writes that wait together: one transaction, those of one
	 * statement that takes many at once in as few calls as may be */
	TAILQ_INSERT_TAIL(&taken, q, entry);
	TAILQ_INSERT_TAIL(&taken, more, entry);
	for (n = 2; n < DB_BATCH_MAX; n++) {
		if ((more = db_take_for(c, DBW_BATCH)) == NULL)
			break;
		TAILQ_INSERT_TAIL(&taken, more, entry);
	}
	c->phase = DBB_RUN;
	c->broken = c->redo = c->early = 0;
	r = dbc_send(c, DBOP_BEGIN, db_stmt_begin, NULL) == -1 ||
	    dbc_send(c, DBOP_BEGIN, db_stmt_lock_timeout, NULL) == -1;
	while ((q = TAILQ_FIRST(&taken)) != NULL) {
		TAILQ_REMOVE(&taken, q, entry);
		if (!r)
			q = db_merge(q, &taken);
		dbc_enflight(c, q, 1);
		if (!r && dbc_send_member(c, q) == -1)
			r = 1; /* the rest in flight too, failed with c */
		if (q->nparts > 0)
			carriers++;
		calls++;
	}
	if (!r && carriers == calls) {
		/* calls that each answer every write in them, failures and
		 * all: only a failure of a whole call would need its
		 * savepoint, and then the transaction is rolled back and
		 * its writes run again alone, as they would behind a COMMIT.
		 * So the COMMIT goes now, behind them, not a round trip
		 * later; from here a lost connection leaves their outcome
		 * unknown */
		c->early = 1;
		c->phase = DBB_COMMIT;
		c->segs++;
		r = dbc_send(c, DBOP_COMMIT, db_stmt_commit, NULL) == -1 ||
		    dbc_send(c, DBOP_SYNC, 0, NULL) == -1;
	}
	if (r) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return (0);
	}
	log_debug("db conn=%d: %d writes in one transaction, %d calls", c->idx,
	    n, calls);
	dbc_flush(c);
	return (1);
}

/* Offer the queue to the connections in turn, one piece each, for as
 * long as some connection takes some. */
static void
db_kick(void)
{
	int i, took;

	if (db_busy > 0 || db_stopping)
		return;
	db_busy++;
	do {
		took = 0;
		for (i = 0; i < db_nconns && db_queued > 0; i++)
			if (db_conns[i].state == DBC_READY &&
			    dbc_next(&db_conns[i]))
				took = 1;
	} while (took && db_queued > 0);
	db_busy--;
}

static void
db_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	db_kick();
}

/* Offer the queue once the event loop has run the callbacks that are
 * ready now: the queries of clients whose requests arrived together are
 * then taken together (reads in one segment, writes in one batch) and
 * sent with one write each connection. */
static void
db_kick_soon(void)
{
	if (db_kick_ev == NULL)
		db_kick();
	else
		event_active(db_kick_ev, EV_TIMEOUT, 0);
}

/* Whether a result says that its statement was skipped: an earlier one
 * of its transaction failed. */
static int
db_skipped(PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return (PQresultStatus(res) == PGRES_PIPELINE_ABORTED ||
	    (state != NULL && strcmp(state, "25P02") == 0));
}

/* Keep in *slot the first result, or a later one that is a failure. */
static void
db_keep(PGresult **slot, PGresult *res)
{
	if (*slot == NULL)
		*slot = res;
	else if (db_failed(res) && !db_failed(*slot)) {
		PQclear(*slot);
		*slot = res;
	} else
		PQclear(res);
}

/* A member of the batch has its answer: kept for the COMMIT, or a failure
 * (its savepoint is rolled back to before anything else is done), or
 * skipped after an earlier failure. */
static void
dbc_member_done(struct dbconn *c, struct db_query *q, PGresult *res)
{
	const char *state;

	if (res == NULL || db_skipped(res)) {
		q->mstate = DBM_RESEND;
		if (res != NULL)
			PQclear(res);
		return;
	}
	if (!db_failed(res)) {
		q->res = res;
		q->mstate = DBM_DONE;
		return;
	}
	c->broken = 1;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (q->nparts > 0) {
		/* a carrier undoes all its parts: each runs again alone (its
		 * own failure is then its own) */
		log_info("db conn=%d: a call for %d writes of a batch met %s; "
			 "they run again alone",
		    c->idx, q->nparts, state != NULL ? state : "-");
		q->mstate = DBM_LATER;
		PQclear(res);
		return;
	}
	if (state != NULL &&
	    (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		strcmp(state, "55P03") == 0)) {
		/* a serialization failure, a deadlock, or a lock waited for
		 * longer than the batch's lock_timeout (another batch may
		 * wait for one of ours): undone to its savepoint, the batch
		 * goes on, and it runs again alone once the batch is over */
		log_info("db conn=%d: a write of a batch met %s; it runs again "
			 "alone",
		    c->idx, state);
		q->mstate = DBM_LATER;
		PQclear(res);
		return;
	}
	q->res = res;
	q->mstate = DBM_FAILED;
}

/* The batch's members, taken off c in order, to be answered or sent again. */
static void
dbc_take_members(struct dbconn *c, struct db_queryq *out)
{
	struct db_query *q, *next;

	for (q = TAILQ_FIRST(&c->flight); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (!q->member)
			continue;
		dbc_unflight(c, q);
		TAILQ_INSERT_TAIL(out, q, entry);
	}
}

/* q, undone, runs again alone: a carrier's parts each alone, in order
 * (the carrier is freed). On a failure to send, what was not sent is in
 * flight too, to be failed with c. */
static int
dbc_again_alone(struct dbconn *c, struct db_query *q)
{
	struct db_query *p;
	int		 r = 0;

	if (q->res != NULL) {
		PQclear(q->res);
		q->res = NULL;
	}
	q->sent = 0; /* rolled back: nothing of it is done */
	if (q->nparts == 0)
		return (dbc_send_alone(c, q));
	while ((p = TAILQ_FIRST(&q->parts)) != NULL) {
		TAILQ_REMOVE(&q->parts, p, entry);
		q->nparts--;
		if (r == 0)
			r = dbc_send_alone(c, p);
		else
			dbc_enflight(c, p, 0);
	}
	db_query_free(q);
	return (r);
}

/* Send the batch's members again, each alone, in their order. */
static int
dbc_batch_alone(struct dbconn *c)
{
	struct db_queryq again = TAILQ_HEAD_INITIALIZER(again);
	struct db_query *q;

	dbc_take_members(c, &again);
	while ((q = TAILQ_FIRST(&again)) != NULL) {
		TAILQ_REMOVE(&again, q, entry);
		if (dbc_again_alone(c, q) == -1) {
			/* the rest were never sent: failed with c */
			while ((q = TAILQ_FIRST(&again)) != NULL) {
				TAILQ_REMOVE(&again, q, entry);
				dbc_enflight(c, q, 0);
			}
			return (-1);
		}
	}
	return (0);
}

/* The batch's COMMIT has its answer. */
static void
dbc_commit_done(struct dbconn *c, PGresult *res)
{
	struct db_queryq done = TAILQ_HEAD_INITIALIZER(done);
	struct db_query *q;
	const char	*msg;
	int		 unknown = 0;

	if (res != NULL && !db_failed(res) && c->early && c->redo) {
		/* a COMMIT sent behind calls whose BEGIN failed: it ended no
		 * transaction of theirs, and they were skipped (their
		 * SAVEPOINTs outside a transaction block): nothing was done,
		 * and each runs again alone */
		log_info("db conn=%d: a batch's BEGIN failed; its writes run "
			 "again one by one",
		    c->idx);
		PQclear(res);
		if (dbc_batch_alone(c) == -1)
			dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (res != NULL && !db_failed(res) &&
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* a COMMIT of a transaction that had failed answers
		 * "ROLLBACK": expected when it was sent behind calls of which
		 * one failed as a whole (c->early), not otherwise (nothing but
		 * the batch runs in it); never answer its writes as
		 * committed */
		if (c->early)
			log_info("db conn=%d: a call of a batch failed; its "
				 "writes run again one by one",
			    c->idx);
		else
			log_warnx("db conn=%d: a batch's COMMIT answered %s; "
				  "its writes run again one by one",
			    c->idx, PQcmdStatus(res));
		PQclear(res);
		if (dbc_batch_alone(c) == -1)
			dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (res != NULL && !db_failed(res)) {
		/* committed: every member has its answer now, but those that
		 * are to run again alone, behind the COMMIT */
		PQclear(res);
		dbc_take_members(c, &done);
		while ((q = TAILQ_FIRST(&done)) != NULL) {
			TAILQ_REMOVE(&done, q, entry);
			if (q->mstate != DBM_LATER) {
				dbc_answer(c, q);
				continue;
			}
			/* undone to its savepoint */
			if (dbc_again_alone(c, q) == -1) {
				while ((q = TAILQ_FIRST(&done)) != NULL) {
					TAILQ_REMOVE(&done, q, entry);
					if (q->mstate == DBM_LATER)
						dbc_enflight(c, q, 0);
					else
						dbc_answer(c, q);
				}
				dbc_fail(c, PQerrorMessage(c->pg));
				return;
			}
		}
		return;
	}
	if (res != NULL)
		(void)db_error_code(res, &msg, &unknown);
	if (res == NULL || unknown || PQstatus(c->pg) == CONNECTION_BAD) {
		/* it may have committed: their outcome is unknown */
		if (res != NULL)
			PQclear(res);
		dbc_fail(c, "COMMIT failed");
		return;
	}
	/* an ERROR: the batch was rolled back; each again, alone */
	log_info("db conn=%d: a batch's COMMIT failed (%s); its writes run "
		 "again one by one",
	    c->idx,
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
		PQresultErrorField(res, PG_DIAG_SQLSTATE) :
		"-");
	PQclear(res);
	if (dbc_batch_alone(c) == -1)
		dbc_fail(c, PQerrorMessage(c->pg));
}

/* Whether q, or a part of the carrier q, is of owner o. */
static int
db_of_owner(struct db_query *q, const struct db_owner *o)
{
	struct db_query *p;

	if (q->nparts == 0)
		return (q->owner == o);
	TAILQ_FOREACH (p, &q->parts, entry)
		if (p->owner == o)
			return (1);
	return (0);
}

/* Whether p and q (either may be a carrier) have an owner in common. */
static int
db_share_owner(struct db_query *p, struct db_query *q)
{
	struct db_query *r;

	if (q->nparts == 0)
		return (db_of_owner(p, q->owner));
	TAILQ_FOREACH (r, &q->parts, entry)
		if (db_of_owner(p, r->owner))
			return (1);
	return (0);
}

/* Whether an earlier member of q's owner in the batch is to run again
 * alone after the COMMIT (an owner's queries run in order). */
static int
dbc_later_before(struct dbconn *c, struct db_query *q)
{
	struct db_query *p;

	TAILQ_FOREACH (p, &c->flight, entry) {
		if (p == q)
			return (0);
		if (p->member && p->mstate == DBM_LATER && db_share_owner(p, q))
			return (1);
	}
	return (0);
}

/* Every segment of the batch sent so far has its answers: the next step. */
static void
dbc_batch_step(struct dbconn *c)
{
	struct db_query *q;
	int		 n = 0, r = 0;

	if (c->segs > 0)
		return;
	switch (c->phase) {
	case DBB_RUN:
	case DBB_UNDO:
		if (c->redo) {
			c->phase = DBB_ROLLBACK;
			c->segs++;
			r = dbc_send(c, DBOP_ROLLBACK, db_stmt_rollback,
				NULL) == -1 ||
			    dbc_send(c, DBOP_SYNC, 0, NULL) == -1;
			break;
		}
		if (c->broken) {
			/* undo the failed one; what followed it runs again */
			c->phase = DBB_UNDO;
			c->broken = 0;
			c->segs++;
			r = dbc_send(c, DBOP_UNDO, db_stmt_undo, NULL) == -1 ||
			    dbc_send(c, DBOP_RELEASE, db_stmt_release, NULL) ==
				-1 ||
			    dbc_send(c, DBOP_SYNC, 0, NULL) == -1;
			break;
		}
		TAILQ_FOREACH (q, &c->flight, entry) {
			if (!q->member || q->mstate != DBM_RESEND)
				continue;
			if (dbc_later_before(c, q)) {
				/* its owner's earlier write runs after the
				 * COMMIT: so does this one, behind it */
				q->mstate = DBM_LATER;
				continue;
			}
			if ((r = dbc_send_member(c, q) == -1))
				break;
			n++;
		}
		if (n > 0 || r) {
			c->phase = DBB_RUN;
			break;
		}
		c->phase = DBB_COMMIT;
		c->segs++;
		r = dbc_send(c, DBOP_COMMIT, db_stmt_commit, NULL) == -1 ||
		    dbc_send(c, DBOP_SYNC, 0, NULL) == -1;
		break;
	case DBB_COMMIT:
		c->phase = DBB_NONE; /* answered at the COMMIT's result */
		break;
	case DBB_ROLLBACK:
		c->phase = DBB_NONE;
		r = dbc_batch_alone(c);
		break;
	case DBB_NONE:
		break;
	}
	if (r)
		dbc_fail(c, PQerrorMessage(c->pg));
	else
		dbc_flush(c);
}

/* What was sent on c has this answer (res: its first result, or the
 * failure among them; NULL when none came). */
static void
dbc_op_done(struct dbconn *c, const struct dbop *op, PGresult *res)
{
	char buf[256];

	switch (op->kind) {
	case DBOP_EXEC:
		if (op->q->member)
			dbc_member_done(c, op->q, res);
		else if (op->q->seg != 0 && res != NULL && !db_skipped(res)) {
			/* a read of a segment has its answer (its records,
			 * or its own failure): it is told now, not at the
			 * Sync. PostgreSQL sends a segment's results as its
			 * output buffer fills, so a large one is not held
			 * beside the others' (without a Flush after each
			 * statement, small ones still come at the Sync) */
			dbc_unflight(c, op->q);
			db_ungroup(op->q);
			db_keep(&op->q->res, res);
			dbc_answer(c, op->q);
		} else if (res != NULL)
			db_keep(&op->q->res, res);
		return;
	case DBOP_COMMIT:
		dbc_commit_done(c, res);
		return;
	default:
		if (res != NULL && db_failed(res) && !db_skipped(res)) {
			log_escape(buf, sizeof buf, PQresultErrorMessage(res),
			    strcspn(PQresultErrorMessage(res), "\n"));
			log_warnx("db conn=%d: batch step %d failed: %s",
			    c->idx, op->kind, buf);
			c->broken = c->redo = 1;
		}
		if (res != NULL)
			PQclear(res);
		return;
	}
}

/*
 * A segment of reads has ended. Those answered are gone from the head of
 * c's flight (all that was sent before the segment has its answers, and
 * what was sent after it is behind it); what is left of it there was
 * skipped by PostgreSQL after a failure, and goes back to the head of its
 * owners' queues, in order (db_requeue). (A failure at the Sync, the end
 * of a transaction that only read, changes none of the answers.)
 */
static void
dbc_reads_synced(struct dbconn *c, const struct dbop *op)
{
	struct db_query *q, *g[DB_READ_GROUP], *again[DB_READ_GROUP];
	int		 i, n = 0, m = 0;

	while (n + m < DB_READ_GROUP && (q = TAILQ_FIRST(&c->flight)) != NULL &&
	    q->seg == op->seg) {
		dbc_unflight(c, q);
		db_ungroup(q);
		if (q->res != NULL && db_skipped(q->res))
			again[m++] = q;
		else
			g[n++] = q; /* no result: told so */
	}
	for (i = m - 1; i >= 0; i--)
		db_requeue(again[i]);
	if (m > 0)
		log_debug("db conn=%d: %d reads skipped, sent again", c->idx,
		    m);
	for (i = 0; i < n; i++)
		dbc_answer(c, g[i]);
}

/* A segment has ended (its Sync): a query alone is answered, having
 * committed; a batch takes its next step. */
static void
dbc_synced(struct dbconn *c, const struct dbop *op)
{
	if (op->seg != 0) {
		dbc_reads_synced(c, op);
		return;
	}
	if (op->q != NULL) {
		dbc_unflight(c, op->q);
		dbc_answer(c, op->q);
		return;
	}
	c->segs--;
	dbc_batch_step(c);
}

/* Read the results of what is in flight on c, in the order it was sent. */
static void
dbc_pipeline_read(struct dbconn *c)
{
	struct dbop op, *head;
	PGresult   *res;

	while (c->state == DBC_READY && c->nops > 0 && !PQisBusy(c->pg)) {
		head = &c->ops[c->op_head];
		res = PQgetResult(c->pg);
		if (head->kind == DBOP_SYNC) {
			/* a failure at the Sync (the commit of an implicit
			 * transaction) comes as a result and its end, before
			 * PGRES_PIPELINE_SYNC; a NULL otherwise means that
			 * nothing more has arrived */
			if (res == NULL) {
				if (!c->sync_error)
					break;
				c->sync_error = 0;
				continue;
			}
			if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
				/* a failure at the end: the commit of an
				 * implicit transaction */
				if (head->q != NULL)
					db_keep(&head->q->res, res);
				else
					PQclear(res);
				c->sync_error = 1;
				continue;
			}
			c->sync_error = 0;
			PQclear(res);
			op = *head;
			dbc_pop(c);
			dbc_synced(c, &op);
			/* the drain cancels what runs; once a segment has
			 * ended, what was sent behind it runs: cancel that
			 * too, so that nothing commits after rosterd exits */
			if (db_stopping && c->state == DBC_READY &&
			    c->nflight > 0) {
				c->cancelling = 0;
				dbc_cancel(c);
			}
			continue;
		}
		if (res != NULL) {
			db_keep(&c->res, res);
			continue;
		}
		op = *head;
		dbc_pop(c);
		res = c->res;
		c->res = NULL;
		dbc_op_done(c, &op, res);
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
	db_busy++;
	if (c->state == DBC_READY)
		dbc_pipeline_read(c);
	while ((c->state == DBC_CHECKING || c->state == DBC_PREPARING ||
		   c->state == DBC_COPY) &&
	    !c->paused && !PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			dbc_complete(c);
			continue;
		}
		if (PQresultStatus(res) == PGRES_COPY_OUT) {
			PQclear(res);
			if (dbc_copy_read(c) == 0)
				break; /* more rows to come */
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
	db_busy--;
	if (c->state == DBC_READY && PQstatus(c->pg) == CONNECTION_BAD)
		dbc_fail(c, PQerrorMessage(c->pg));
	else if (c->state != DBC_DOWN && !c->paused)
		dbc_flush(c);
	db_kick();
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
		/* an owner whose queries wait behind its own statement, which
		 * statement_timeout bounds, is not timed out here */
		if (o->inflight > 0 && o->conn != NULL &&
		    o->conn->state == DBC_READY)
			continue;
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

/* Open the pool: n connections for requests whose
 * statements may run statement_timeout seconds. Returns -1 with the
 * reason in err when the database setting cannot be used. */
int
db_start(struct event_base *base, const char *conninfo, int n,
    int statement_timeout, char *err, size_t errlen)
{
	struct timeval tv = { 1, 0 };
	int	       i, total = n;

	db_base = base;
	db_timeout = statement_timeout;
	db_stmt_begin = db_statement("BEGIN", 0);
	db_stmt_savepoint = db_statement("SAVEPOINT g", 0);
	db_stmt_release = db_statement("RELEASE SAVEPOINT g", 0);
	db_stmt_undo = db_statement("ROLLBACK TO SAVEPOINT g", 0);
	db_stmt_commit = db_statement("COMMIT", 0);
	db_stmt_rollback = db_statement("ROLLBACK", 0);
	db_stmt_lock_timeout = db_statement("SET LOCAL lock_timeout = "
					    "'" DB_BATCH_LOCK_WAIT "'",
	    0);
	for (i = 0; i < DB_OWNER_BUCKETS; i++)
		LIST_INIT(&db_owners[i]);
	if ((db_conninfo = db_resolve(conninfo, err, errlen)) == NULL)
		return (-1);
	db_nconns = total;
	if ((db_conns = calloc((size_t)total, sizeof *db_conns)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < total; i++) {
		db_conns[i].idx = i;
		TAILQ_INIT(&db_conns[i].flight);
		db_conns[i].retry = evtimer_new(base, dbc_retry_cb,
		    &db_conns[i]);
		if (db_conns[i].retry == NULL)
			fatalx("evtimer_new");
		dbc_connect(&db_conns[i]);
	}
	if ((db_kick_ev = event_new(base, -1, 0, db_kick_cb, NULL)) == NULL)
		fatalx("event_new");
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
	}
	if (o->nqueued == 0)
		TAILQ_INSERT_TAIL(&db_turns, o, turn);
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
	TAILQ_INIT(&q->parts);
	q->owner = o;
	q->waiting = 1;
	if (copy_sql != NULL)
		db_ncopies++;
	TAILQ_INSERT_TAIL(&o->queue, q, entry);
	o->nqueued++;
	db_queued++;
	db_queued_bytes += size;
	db_kick_soon();
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
	int max = db_nconns - 1;

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
		if (c->q != NULL)
			dbc_drop(c, "the server is stopping");
		else if (c->nflight > 0)
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
		struct db_queryq lost = TAILQ_HEAD_INITIALIZER(lost);

		c = &db_conns[i];
		if (c->q == NULL && c->nflight == 0)
			continue;
		q = c->q;
		c->q = NULL;
		dbc_take_flight(c, &lost);
		dbc_reset(c);
		if (q != NULL)
			dbc_lost(q, "the server is stopping");
		while ((q = TAILQ_FIRST(&lost)) != NULL) {
			TAILQ_REMOVE(&lost, q, entry);
			dbc_lost(q, "the server is stopping");
		}
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
	int	      waited = 0, syncs = 0, i;

	if (c->pg == NULL || c->nflight == 0 || c->state != DBC_READY)
		return;
	for (i = 0; i < c->nops; i++)
		syncs += c->ops[(c->op_head + i) % DB_MAX_OPS].kind ==
		    DBOP_SYNC;
	if (!c->cancelling && (k = PQgetCancel(c->pg)) != NULL) {
		PQcancel(k, err, sizeof err); /* at exit: blocking is fine */
		PQfreeCancel(k);
	}
	while (waited < DB_STOP_WAIT) {
		if (!PQconsumeInput(c->pg))
			return;
		while (!PQisBusy(c->pg)) {
			if ((res = PQgetResult(c->pg)) == NULL)
				continue;
			if (PQresultStatus(res) == PGRES_PIPELINE_SYNC &&
			    --syncs == 0) {
				PQclear(res);
				return;
			}
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
		struct db_queryq gone = TAILQ_HEAD_INITIALIZER(gone);
		struct db_query *q;

		if (c->res != NULL)
			PQclear(c->res);
		if (c->q != NULL)
			db_query_fail(c->q, PROTO_UNAVAILABLE,
			    "the server is stopping");
		dbc_take_flight(c, &gone);
		while ((q = TAILQ_FIRST(&gone)) != NULL) {
			TAILQ_REMOVE(&gone, q, entry);
			dbc_lost(q, "the server is stopping");
		}
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	db_fail_queue(PROTO_UNAVAILABLE, "the server is stopping");
	if (db_sweep_ev != NULL)
		event_free(db_sweep_ev);
	if (db_kick_ev != NULL) {
		event_free(db_kick_ev);
		db_kick_ev = NULL;
	}
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

/* The connection string in use (host names resolved at db_start), for
 * feed.c's replication connection. */
const char *
db_conninfo_resolved(void)
{
	return (db_conninfo);
}
