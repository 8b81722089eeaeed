/*
 * feed.c -- the changes committed by every daemon, in commit order, from
 * PostgreSQL's logical decoding. roster._notify_send (core.sql) writes each
 * notification as a transactional logical decoding message whose prefix is
 * its channel ("roster", "roster_user", "roster_web"); this file keeps one
 * replication connection of its own (libpq, replication=database,
 * non-blocking, on the event loop), reads the daemon's permanent slot with
 * the built-in output plugin pgoutput (protocol 1, publication roster_feed
 * of migration 016, messages on) and hands each message of a committed
 * transaction, its signature checked, to the callback of feed_listen.
 *
 * Why not NOTIFY: PostgreSQL serialises the commits of every transaction
 * that has notified (a global lock held through the commit's WAL flush),
 * and what is notified while the listener is away is lost. A message is
 * written to the WAL with its transaction: nothing is serialised, it is
 * delivered only if the transaction (and its subtransaction) commits, and
 * the slot keeps it until this daemon says it has handed it on.
 *
 * Exactly once, in order: a transaction's messages are collected from its
 * BEGIN to its COMMIT and handed on at the COMMIT; feed.done is then the
 * end of that commit record, and every transaction whose commit record
 * starts before feed.done has been handed on. A keepalive between
 * transactions moves feed.done to the server's position (everything
 * committed before it was sent before the keepalive). Standby status
 * updates report feed.done as written, flushed and applied (every second
 * while it moves, every FEED_STATUS_IDLE seconds otherwise, and when the
 * server asks), so that the slot keeps only what is not handed on yet. A
 * lost connection is opened again with back-off and streams from
 * feed.done; a transaction sent again (its commit before feed.done) is
 * skipped. At a fresh start of the daemon no watcher is waiting for older
 * changes: the slot is dropped and made anew.
 *
 * Every network input is hostile: the CopyData records are read by length,
 * a message that is not transactional, has another prefix, holds a NUL, or
 * is not signed under roster.notify_key for its own transaction
 * (notify_check: "MAC XID BODY", XID the transaction's id, so that a
 * signed message copied into another transaction is refused) is ignored,
 * and counted in a warning logged at most once a minute.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "rosterd.h"

#define FEED_BACKOFF_MIN 100  /* ms */
#define FEED_BACKOFF_MAX 5000 /* ms */
#define FEED_STATUS_IDLE 10   /* seconds between status updates at rest */
#define FEED_PUBLICATION "roster_feed"
#define FEED_MAX_MESSAGE (1024 * 1024) /* bytes of one message's content */
#define FEED_PG_EPOCH	 946684800     /* 2000-01-01 in Unix time */
#define FEED_STOP_WAIT	 2000	       /* ms for the last status, at exit */

enum feed_state {
	FEED_DOWN,
	FEED_CONNECTING,
	FEED_SETUP,    /* the settings, the key and the slot: a query */
	FEED_DROPPING, /* DROP_REPLICATION_SLOT */
	FEED_CREATING, /* CREATE_REPLICATION_SLOT */
	FEED_STARTING, /* START_REPLICATION */
	FEED_STREAMING
};

/* A message of the transaction being received, handed on at its commit. */
struct feed_msg {
	STAILQ_ENTRY(feed_msg) entry;
	const char *channel;
	char	   *body;
};

static const char *const feed_channels[] = { "roster", "roster_user",
	"roster_web" };

static struct {
	struct event_base *base;
	char		  *conninfo;
	char		   slot[FEED_SLOT_MAX + 1];
	feed_cb		   cb;
	PGconn		  *pg;
	PGresult	  *res; /* the first result of the command in flight */
	enum feed_state	   state;
	struct event	  *ev;
	struct event	  *retry;
	struct event	  *timer;
	int		   backoff;
	int		   fresh; /* no slot made by this process yet */
	int	      missed;	  /* the slot was lost: say so once streaming */
	int	      stopping;
	uint64_t      done;	/* LSN: what is before it is handed on */
	uint64_t      reported; /* feed.done as last reported */
	time_t	      reported_at;
	unsigned char key[NOTIFY_KEY_LEN];
	int	      have_key;
	/* the transaction being received */
	int	 in_xact;
	int	 skip_xact; /* handed on before: its commit is before done */
	uint32_t xid;
	STAILQ_HEAD(, feed_msg) msgs;
	/* the last failure logged, so that a retry repeats nothing */
	char   last_error[768];
	long   forged;
	time_t forged_logged;
} feed = { .fresh = 1, .msgs = STAILQ_HEAD_INITIALIZER(feed.msgs) };

static void feed_connect(void);
static void feed_fail(const char *);
static void feed_io_cb(evutil_socket_t, short, void *);

static uint64_t
feed_get64(const unsigned char *p)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

static uint32_t
feed_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

static void
feed_put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static void
feed_msgs_free(void)
{
	struct feed_msg *m;

	while ((m = STAILQ_FIRST(&feed.msgs)) != NULL) {
		STAILQ_REMOVE_HEAD(&feed.msgs, entry);
		free(m->body);
		free(m);
	}
	feed.in_xact = 0;
	feed.skip_xact = 0;
}

/* Log a failure once, until the feed streams again; a repeat goes to the
 * debug log. */
static void
feed_log_failure(int level, const char *msg)
{
	if (strcmp(msg, feed.last_error) == 0) {
		log_debug("feed: %s", msg);
		return;
	}
	snprintf(feed.last_error, sizeof feed.last_error, "%s", msg);
	log_msg(level, "feed: %s", msg);
}

/*
 * What the administrator must do about a server's error, when it says:
 * the settings and the privilege logical decoding needs (rosterd.8).
 */
static const char *
feed_hint(const char *msg)
{
	if (strstr(msg, "replication role") != NULL ||
	    strstr(msg, "permission denied to start WAL sender") != NULL ||
	    strstr(msg, "REPLICATION attribute") != NULL)
		return ("; give rosterd's role the REPLICATION attribute "
			"(ALTER ROLE ... REPLICATION)");
	if (strstr(msg, "max_wal_senders") != NULL)
		return ("; raise max_wal_senders in postgresql.conf (one per "
			"rosterd, beside other uses) and restart PostgreSQL");
	if (strstr(msg, "replication slots are in use") != NULL ||
	    strstr(msg, "max_replication_slots") != NULL)
		return ("; raise max_replication_slots in postgresql.conf "
			"(one per rosterd, beside other uses) and restart "
			"PostgreSQL");
	if (strstr(msg, "wal_level") != NULL)
		return ("; set wal_level = logical in postgresql.conf and "
			"restart PostgreSQL");
	if (strstr(msg, "no pg_hba.conf entry") != NULL)
		return ("; a replication=database connection is matched by "
			"pg_hba.conf as a connection to the database");
	return ("");
}

static void
feed_notice_cb(void *arg, const char *msg)
{
	char buf[512];

	log_escape(buf, sizeof buf, msg, strcspn(msg, "\n"));
	log_debug("feed: notice: %s", buf);
}

static void
feed_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	feed_connect();
}

/* Close the connection; what a transaction half received held is
 * forgotten (it comes again). */
static void
feed_reset(void)
{
	if (feed.ev != NULL) {
		event_free(feed.ev);
		feed.ev = NULL;
	}
	if (feed.res != NULL) {
		PQclear(feed.res);
		feed.res = NULL;
	}
	if (feed.pg != NULL) {
		PQfinish(feed.pg);
		feed.pg = NULL;
	}
	feed_msgs_free();
	feed.state = FEED_DOWN;
}

/* Drop the connection and open it again after a back-off; what was not
 * handed on comes again from the slot. */
static void
feed_fail(const char *why)
{
	struct timeval tv;
	char	       buf[512], msg[768];

	log_escape(buf, sizeof buf, why, strcspn(why, "\n"));
	if (feed.state == FEED_STREAMING) {
		log_warnx("feed: connection lost: %s; live updates wait until "
			  "it is back (none is lost)",
		    buf);
		feed.last_error[0] = '\0';
	} else {
		snprintf(msg, sizeof msg, "%s%s", buf, feed_hint(buf));
		feed_log_failure(LOG_LVL_ERROR, msg);
	}
	feed_reset();
	if (feed.stopping)
		return;
	if (feed.backoff == 0)
		feed.backoff = FEED_BACKOFF_MIN;
	else if ((feed.backoff *= 2) > FEED_BACKOFF_MAX)
		feed.backoff = FEED_BACKOFF_MAX;
	tv.tv_sec = feed.backoff / 1000;
	tv.tv_usec = (feed.backoff % 1000) * 1000;
	evtimer_add(feed.retry, &tv);
}

static int
feed_watch(short what, event_callback_fn cb)
{
	if (feed.ev != NULL)
		event_free(feed.ev);
	feed.ev = event_new(feed.base, PQsocket(feed.pg), what, cb, NULL);
	if (feed.ev == NULL || event_add(feed.ev, NULL) == -1)
		return (-1);
	return (0);
}

/* Send what libpq holds; wait for write readiness only while some is left. */
static void
feed_flush(void)
{
	int r;

	if ((r = PQflush(feed.pg)) == -1) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	if ((r == 1) != ((event_get_events(feed.ev) & EV_WRITE) != 0) &&
	    feed_watch(EV_READ | EV_PERSIST | (r == 1 ? EV_WRITE : 0),
		feed_io_cb) == -1)
		feed_fail("event_add");
}

/* Send a command of the replication protocol, or a query, in state. */
static void
feed_send(const char *cmd, enum feed_state state)
{
	if (!PQsendQuery(feed.pg, cmd)) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	feed.state = state;
	feed_flush();
}

/* The standby status update: feed.done written, flushed and applied. */
static void
feed_status(int reply)
{
	unsigned char	msg[1 + 8 + 8 + 8 + 8 + 1];
	struct timespec ts;
	int64_t		now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ((int64_t)ts.tv_sec - FEED_PG_EPOCH) * 1000000 +
	    ts.tv_nsec / 1000;
	msg[0] = 'r';
	feed_put64(msg + 1, feed.done);
	feed_put64(msg + 9, feed.done);
	feed_put64(msg + 17, feed.done);
	feed_put64(msg + 25, (uint64_t)now);
	msg[33] = reply ? 1 : 0;
	switch (PQputCopyData(feed.pg, (const char *)msg, sizeof msg)) {
	case 1:
		break;
	case 0: /* libpq's buffer is full: the timer tries again */
		return;
	default:
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	feed.reported = feed.done;
	feed.reported_at = time(NULL);
	feed_flush();
}

static void
feed_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	if (feed.state != FEED_STREAMING)
		return;
	if (feed.done != feed.reported ||
	    time(NULL) - feed.reported_at >= FEED_STATUS_IDLE)
		feed_status(0);
}

/* A message not signed by rosterd: ignored, and logged once a minute. */
static void
feed_forged(const char *prefix, const char *why)
{
	time_t now = time(NULL);
	char   buf[64];

	feed.forged++;
	if (feed.forged_logged != 0 && now - feed.forged_logged < 60)
		return;
	log_escape(buf, sizeof buf, prefix, strlen(prefix));
	log_warnx("feed: ignored %ld message%s not signed by rosterd (last: "
		  "prefix %s, %s)",
	    feed.forged, feed.forged == 1 ? "" : "s", buf, why);
	feed.forged_logged = now;
	feed.forged = 0;
}

/* pgoutput's 'M': Int8 flags, Int64 LSN, String prefix, Int32 length,
 * Byte(length) content. Kept for the commit when it is ours. */
static void
feed_message(const unsigned char *p, size_t len)
{
	struct feed_msg *m;
	const char	*channel = NULL, *prefix, *content;
	uint64_t	 xid;
	uint32_t	 clen;
	size_t		 plen, i, off;
	char		 why[128];

	if (len < 1 + 8 + 1)
		goto bad;
	prefix = (const char *)p + 9;
	if ((plen = strnlen(prefix, len - 9)) == len - 9 ||
	    len - 9 - plen - 1 < 4)
		goto bad;
	clen = feed_get32(p + 9 + plen + 1);
	off = 9 + plen + 1 + 4;
	if (clen != len - off)
		goto bad;
	content = (const char *)p + off;
	for (i = 0; i < sizeof feed_channels / sizeof feed_channels[0]; i++)
		if (strcmp(prefix, feed_channels[i]) == 0)
			channel = feed_channels[i];
	if (channel == NULL)
		return; /* another application's messages */
	if (!(p[0] & 1) || !feed.in_xact) {
		feed_forged(prefix, "not transactional");
		return;
	}
	if (feed.skip_xact)
		return;
	if (clen > FEED_MAX_MESSAGE || memchr(content, '\0', clen) != NULL) {
		feed_forged(prefix, "too long, or a NUL");
		return;
	}
	if (!feed.have_key ||
	    notify_check(feed.key, sizeof feed.key, channel, content, clen,
		&xid, &off, why, sizeof why) == -1) {
		feed_forged(prefix, feed.have_key ? why : "no key");
		return;
	}
	if ((uint32_t)xid != feed.xid) {
		feed_forged(prefix, "signed for another transaction");
		return;
	}
	if ((m = calloc(1, sizeof *m)) == NULL ||
	    (m->body = strndup(content + off, clen - off)) == NULL) {
		free(m);
		feed_fail("out of memory");
		return;
	}
	m->channel = channel;
	STAILQ_INSERT_TAIL(&feed.msgs, m, entry);
	return;
bad:
	feed_fail("a malformed message record");
}

/* Hand on the messages of a committed transaction, in their order. */
static void
feed_commit(uint64_t end)
{
	struct feed_msg *m;

	while ((m = STAILQ_FIRST(&feed.msgs)) != NULL) {
		STAILQ_REMOVE_HEAD(&feed.msgs, entry);
		if (feed.cb != NULL)
			feed.cb(m->channel, m->body);
		free(m->body);
		free(m);
	}
	if (end > feed.done)
		feed.done = end;
	feed.in_xact = 0;
	feed.skip_xact = 0;
}

/* One pgoutput message of an XLogData record. */
static void
feed_decode(const unsigned char *p, size_t len)
{
	if (len < 1)
		goto bad;
	switch (p[0]) {
	case 'B': /* Int64 final LSN, Int64 time, Int32 xid */
		if (len < 1 + 8 + 8 + 4)
			goto bad;
		feed_msgs_free();
		feed.in_xact = 1;
		feed.skip_xact = feed_get64(p + 1) < feed.done;
		feed.xid = feed_get32(p + 17);
		return;
	case 'M':
		feed_message(p + 1, len - 1);
		return;
	case 'C': /* Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 time */
		if (len < 1 + 1 + 8 + 8 + 8 || !feed.in_xact)
			goto bad;
		feed_commit(feed_get64(p + 10));
		return;
	default: /* relations, types, origins: nothing of ours */
		return;
	}
bad:
	feed_fail("a malformed pgoutput message");
}

/* One CopyData of the stream: XLogData or a keepalive. */
static void
feed_copydata(const unsigned char *p, size_t len)
{
	uint64_t end;

	if (len >= 1 + 8 + 8 + 8 && p[0] == 'w') {
		feed_decode(p + 25, len - 25);
		return;
	}
	if (len >= 1 + 8 + 8 + 1 && p[0] == 'k') {
		end = feed_get64(p + 1);
		if (!feed.in_xact && end > feed.done)
			feed.done = end;
		if (p[17])
			feed_status(0);
		return;
	}
	feed_fail("an unknown replication record");
}

/* Read what the stream has brought. */
static void
feed_stream(void)
{
	PGresult *res;
	char	 *buf;
	int	  n;

	while (feed.state == FEED_STREAMING) {
		n = PQgetCopyData(feed.pg, &buf, 1);
		if (n == 0)
			return;
		if (n > 0) {
			feed_copydata((unsigned char *)buf, (size_t)n);
			PQfreemem(buf);
			continue;
		}
		if (n == -1 && (res = PQgetResult(feed.pg)) != NULL) {
			feed_fail(PQresultStatus(res) == PGRES_COMMAND_OK ?
				"the server ended the stream" :
				PQresultErrorMessage(res));
			PQclear(res);
		} else
			feed_fail(PQerrorMessage(feed.pg));
		return;
	}
}

/* START_REPLICATION from feed.done. */
static void
feed_start_replication(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd,
	    "START_REPLICATION SLOT %s LOGICAL %X/%X (proto_version '1', "
	    "publication_names '" FEED_PUBLICATION "', messages 'true')",
	    feed.slot, (unsigned int)(feed.done >> 32),
	    (unsigned int)feed.done);
	feed_send(cmd, FEED_STARTING);
}

static void
feed_create_slot(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd,
	    "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput "
	    "(SNAPSHOT 'nothing')",
	    feed.slot);
	feed_send(cmd, FEED_CREATING);
}

static int
feed_key(const char *hex, size_t len)
{
	size_t i;
	int    hi, lo;

	if (len != 2 * NOTIFY_KEY_LEN)
		return (-1);
	for (i = 0; i < NOTIFY_KEY_LEN; i++) {
		hi = notify_hexval((unsigned char)hex[2 * i]);
		lo = notify_hexval((unsigned char)hex[2 * i + 1]);
		if (hi == -1 || lo == -1)
			return (-1);
		feed.key[i] = (unsigned char)(hi << 4 | lo);
	}
	feed.have_key = 1;
	return (0);
}

/*
 * The set-up's answer: wal_level, the key, whether the publication is
 * there, and the slot: whether it exists, its active pid, whether it is a
 * pgoutput slot of this database, whether it was invalidated.
 */
static void
feed_setup_done(PGresult *res)
{
	char msg[384];

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 7) {
		feed_fail("the set-up query failed");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0) {
		snprintf(msg, sizeof msg,
		    "the database has wal_level = %s; rosterd needs "
		    "wal_level = logical in postgresql.conf (then restart "
		    "PostgreSQL)",
		    PQgetvalue(res, 0, 0));
		feed_fail(msg);
		return;
	}
	if (feed_key(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1)) ==
	    -1) {
		feed_fail("no key to check notifications with (run rosterd "
			  "--migrate)");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		feed_fail("no publication " FEED_PUBLICATION
			  " (run rosterd --migrate)");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 3), "t") != 0) { /* no slot */
		if (!feed.fresh) {
			log_warnx("feed: the replication slot %s is gone "
				  "(dropped): changes made since may be "
				  "missed; it is made anew",
			    feed.slot);
			feed.missed = 1;
		}
		feed_create_slot();
		return;
	}
	if (!PQgetisnull(res, 0, 4)) {
		snprintf(msg, sizeof msg,
		    "the replication slot %s is in use by another "
		    "connection (pid %s): the walsender of a connection "
		    "lost and not ended yet, or another rosterd with "
		    "feed_slot = %s (give each its own)",
		    feed.slot, PQgetvalue(res, 0, 4), feed.slot);
		feed_fail(msg);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 5), "t") != 0) {
		snprintf(msg, sizeof msg,
		    "the replication slot %s is not a pgoutput slot of this "
		    "database: choose another feed_slot, or drop it "
		    "(SELECT pg_drop_replication_slot('%s'))",
		    feed.slot, feed.slot);
		feed_fail(msg);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 6), "t") == 0) { /* invalidated */
		if (!feed.fresh) {
			log_warnx("feed: the replication slot %s was "
				  "invalidated (its WAL passed "
				  "max_slot_wal_keep_size): changes made "
				  "since may be missed; it is made anew",
			    feed.slot);
			feed.missed = 1;
		}
	} else if (!feed.fresh) {
		feed_start_replication();
		return;
	}
	/* a fresh start (what the slot holds is older than every watcher),
	 * or a slot that cannot be read */
	snprintf(msg, sizeof msg, "DROP_REPLICATION_SLOT %s", feed.slot);
	feed_send(msg, FEED_DROPPING);
}

/* A command has all its results: the next step of the set-up. */
static void
feed_step(void)
{
	PGresult      *res = feed.res;
	ExecStatusType st;
	unsigned int   hi, lo;

	feed.res = NULL;
	if (res == NULL) {
		feed_fail("no result");
		return;
	}
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		feed_fail(PQresultErrorMessage(res));
		PQclear(res);
		return;
	}
	switch (feed.state) {
	case FEED_SETUP:
		feed_setup_done(res);
		break;
	case FEED_DROPPING:
		feed_create_slot();
		break;
	case FEED_CREATING: /* slot_name, consistent_point, ... */
		if (PQntuples(res) != 1 || PQnfields(res) < 2 ||
		    sscanf(PQgetvalue(res, 0, 1), "%X/%X", &hi, &lo) != 2) {
			feed_fail("CREATE_REPLICATION_SLOT: no consistent "
				  "point");
			break;
		}
		feed.done = (uint64_t)hi << 32 | lo;
		feed.fresh = 0;
		log_info("feed: replication slot %s made at %X/%X", feed.slot,
		    hi, lo);
		feed_start_replication();
		break;
	default:
		feed_fail("an unexpected result");
		break;
	}
	PQclear(res);
}

/* Socket events once connected: flush, read, results, the stream. */
static void
feed_io_cb(evutil_socket_t fd, short what, void *arg)
{
	PGresult *res;

	if (PQflush(feed.pg) == -1) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	if ((what & EV_READ) && !PQconsumeInput(feed.pg)) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	while (feed.state != FEED_STREAMING && feed.state != FEED_DOWN &&
	    !PQisBusy(feed.pg)) {
		if ((res = PQgetResult(feed.pg)) == NULL) {
			feed_step();
			continue;
		}
		if (PQresultStatus(res) == PGRES_COPY_BOTH &&
		    feed.state == FEED_STARTING) {
			PQclear(res);
			feed.state = FEED_STREAMING;
			feed.backoff = 0;
			feed.last_error[0] = '\0';
			feed.reported = 0;
			log_notice("feed: streaming from slot %s at %X/%X",
			    feed.slot, (unsigned int)(feed.done >> 32),
			    (unsigned int)feed.done);
			if (feed.missed && feed.cb != NULL) {
				feed.missed = 0;
				feed.cb(NULL, NULL);
			}
			break;
		}
		if (feed.res == NULL)
			feed.res = res;
		else
			PQclear(res);
	}
	if (feed.state == FEED_STREAMING)
		feed_stream();
	if (feed.state == FEED_DOWN)
		return;
	if (PQstatus(feed.pg) == CONNECTION_BAD) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	feed_flush();
}

static void
feed_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	char sql[1024];

	switch (PQconnectPoll(feed.pg)) {
	case PGRES_POLLING_READING:
		if (feed_watch(EV_READ, feed_connect_cb) == -1)
			feed_fail("event_add");
		return;
	case PGRES_POLLING_WRITING:
		if (feed_watch(EV_WRITE, feed_connect_cb) == -1)
			feed_fail("event_add");
		return;
	case PGRES_POLLING_FAILED:
		feed_fail(PQerrorMessage(feed.pg));
		return;
	default:
		break;
	}
	PQsetNoticeProcessor(feed.pg, feed_notice_cb, NULL);
	if (PQsetnonblocking(feed.pg, 1) == -1) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	/* a replication connection takes only simple queries: the slot's
	 * name (FEED_SLOT_MAX of [a-z0-9_], checked) is written in */
	snprintf(sql, sizeof sql,
	    "SELECT current_setting('wal_level'), "
	    "(SELECT encode(key, 'hex') FROM roster.notify_key), "
	    "EXISTS (SELECT 1 FROM pg_publication WHERE pubname = "
	    "'" FEED_PUBLICATION "'), s.slot_name IS NOT NULL, s.active_pid, "
	    "coalesce(s.plugin = 'pgoutput' AND s.slot_type = 'logical' AND "
	    "s.database = current_database(), false), "
	    "coalesce(s.wal_status = 'lost', false) "
	    "FROM (SELECT 1) o LEFT JOIN pg_replication_slots s ON "
	    "s.slot_name = '%s'",
	    feed.slot);
	if (feed_watch(EV_READ | EV_PERSIST, feed_io_cb) == -1) {
		feed_fail("event_add");
		return;
	}
	feed_send(sql, FEED_SETUP);
}

static void
feed_connect(void)
{
	const char *keys[] = { "dbname", "replication",
		"fallback_application_name", NULL };
	const char *vals[] = { feed.conninfo, "database", "rosterd feed",
		NULL };

	if (feed.stopping)
		return;
	/* the connection string is expanded; replication= comes after it,
	 * so that it cannot be overridden */
	feed.pg = PQconnectStartParams(keys, vals, 1);
	if (feed.pg == NULL) {
		feed_fail("out of memory");
		return;
	}
	if (PQstatus(feed.pg) == CONNECTION_BAD) {
		feed_fail(PQerrorMessage(feed.pg));
		return;
	}
	feed.state = FEED_CONNECTING;
	if (feed_watch(EV_WRITE, feed_connect_cb) == -1)
		feed_fail("event_add");
}

/* Before feed_start: the function every committed notification goes to,
 * cb(channel, body); cb(NULL, NULL) when some may have been missed (the
 * slot was lost while this daemon ran). */
void
feed_listen(feed_cb cb)
{
	feed.cb = cb;
}

/*
 * The default slot name: "rosterd_", this host's name in [a-z0-9_] (at
 * most 32 characters), "_", and 8 hex digits of a hash (FNV-1a) of the
 * host's name and the listen and http_listen addresses: two daemons on one
 * host listen on different addresses, two hosts have different names.
 */
void
feed_slot_default(const struct config *cfg, char *out, size_t size)
{
	char	 host[256], name[33];
	uint32_t h = 2166136261u;
	size_t	 i, n = 0;
	int	 k;

	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
#define FEED_FNV(s)                                               \
	do {                                                      \
		const char *p_ = (s);                             \
		for (; *p_ != '\0'; p_++)                         \
			h = (h ^ (unsigned char)*p_) * 16777619u; \
		h = (h ^ 0xff) * 16777619u; /* a separator */     \
	} while (0)
	FEED_FNV(host);
	for (k = 0; k < cfg->nlisten; k++)
		FEED_FNV(cfg->listen[k]);
	for (k = 0; k < cfg->nhttp_listen; k++)
		FEED_FNV(cfg->http_listen[k]);
#undef FEED_FNV
	for (i = 0; host[i] != '\0' && n < sizeof name - 1; i++) {
		char ch = host[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
			ch = '_';
		name[n++] = ch;
	}
	name[n] = '\0';
	snprintf(out, size, "rosterd_%s_%08" PRIx32, name, h);
}

/* Run cmd on pg (blocking) and wait for its result at most ms
 * milliseconds: the result, or NULL (a timeout, or the connection failed). */
static PGresult *
feed_exec_wait(PGconn *pg, const char *cmd, int ms)
{
	struct pollfd pfd;
	PGresult     *res, *first = NULL;
	int	      waited = 0;

	if (!PQsendQuery(pg, cmd))
		return (NULL);
	for (;;) {
		if (!PQconsumeInput(pg))
			break;
		while (!PQisBusy(pg)) {
			if ((res = PQgetResult(pg)) == NULL)
				return (first);
			if (first == NULL)
				first = res;
			else
				PQclear(res);
		}
		if (waited >= ms)
			break;
		pfd.fd = PQsocket(pg);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == -1)
			break;
		waited += 100;
	}
	PQclear(first);
	return (NULL);
}

/*
 * A fresh start, before the loop: the slot dropped (what it holds is
 * older than any watcher of this daemon) and made anew, so that every
 * change committed once rosterd listens is in it. 0 when done; 1 when it
 * is left to the feed (the slot is in use, or making it waits for the
 * transactions running now), the reason in err; -1 with it in err.
 */
static int
feed_check_slot(PGconn *pg, const char *slot, char *err, size_t errlen)
{
	PGresult    *res;
	char	     cmd[256];
	unsigned int hi, lo;
	int	     tries, rc = -1;

	for (tries = 0;; tries++) {
		snprintf(cmd, sizeof cmd,
		    "SELECT active_pid, plugin = 'pgoutput' AND slot_type = "
		    "'logical' AND database = current_database() FROM "
		    "pg_replication_slots WHERE slot_name = '%s'",
		    slot);
		res = PQexec(pg, cmd);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			snprintf(err, errlen, "database: %s",
			    PQresultErrorMessage(res));
			PQclear(res);
			return (-1);
		}
		if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
			break;
		if (tries == 30) { /* 3 s: not a walsender of ours ending */
			snprintf(err, errlen,
			    "the replication slot %s is in use by another "
			    "connection (pid %s): does another rosterd have "
			    "feed_slot = %s? give each its own",
			    slot, PQgetvalue(res, 0, 0), slot);
			PQclear(res);
			return (1);
		}
		PQclear(res);
		usleep(100000);
	}
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
			snprintf(err, errlen,
			    "the replication slot %s is not a pgoutput slot "
			    "of this database: choose another feed_slot, or "
			    "drop it (SELECT pg_drop_replication_slot('%s'))",
			    slot, slot);
			PQclear(res);
			return (-1);
		}
		PQclear(res);
		snprintf(cmd, sizeof cmd, "DROP_REPLICATION_SLOT %s", slot);
		res = PQexec(pg, cmd);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "database: %s",
			    PQresultErrorMessage(res));
			PQclear(res);
			return (1);
		}
	}
	PQclear(res);
	snprintf(cmd, sizeof cmd,
	    "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'nothing')",
	    slot);
	if ((res = feed_exec_wait(pg, cmd, 10000)) == NULL) {
		snprintf(err, errlen,
		    "making the replication slot %s waits for the "
		    "transactions running now to end; it goes on once "
		    "rosterd runs",
		    slot);
		return (1);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) < 2 ||
	    sscanf(PQgetvalue(res, 0, 1), "%X/%X", &hi, &lo) != 2) {
		snprintf(err, errlen, "CREATE_REPLICATION_SLOT: %s%s",
		    PQresultErrorMessage(res),
		    feed_hint(PQresultErrorMessage(res)));
		rc = *feed_hint(PQresultErrorMessage(res)) != '\0' ? -1 : 1;
	} else {
		feed.done = (uint64_t)hi << 32 | lo;
		feed.fresh = 0;
		log_info("feed: replication slot %s made at %X/%X", slot, hi,
		    lo);
		rc = 0;
	}
	PQclear(res);
	return (rc);
}

/*
 * At start, before the loop: connect once (blocking, 5 s at most) as the
 * feed will, check what logical decoding needs, so that a server or a role
 * without it refuses the start with what to set, and make the slot anew.
 * Returns 0 when all is there, 1 when the feed is left to try on its own
 * (the server cannot be reached now, or the slot is busy), -1 with the
 * reason in err.
 */
int
feed_check(const char *conninfo, const char *slot, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "replication", "connect_timeout",
		"fallback_application_name", NULL };
	const char *vals[] = { conninfo, "database", "5", "rosterd feed",
		NULL };
	PGconn	   *pg;
	PGresult   *res;
	const char *msg;
	char	    sql[512];
	int	    rc = 0;

	pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		msg = PQerrorMessage(pg);
		snprintf(err, errlen,
		    "database (replication connection): %.*s%s",
		    (int)strcspn(msg, "\n"), msg, feed_hint(msg));
		rc = *feed_hint(msg) != '\0' ? -1 : 1;
		PQfinish(pg);
		return (rc);
	}
	PQsetNoticeProcessor(pg, feed_notice_cb, NULL);
	snprintf(sql, sizeof sql,
	    "SELECT current_setting('wal_level'), "
	    "current_setting('max_replication_slots')::int <= (SELECT "
	    "count(*) FROM pg_replication_slots WHERE slot_name <> '%s')",
	    slot);
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		msg = PQresultErrorMessage(res);
		snprintf(err, errlen, "database: %.*s", (int)strcspn(msg, "\n"),
		    msg);
		rc = -1;
	} else if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0) {
		snprintf(err, errlen,
		    "the database has wal_level = %s: rosterd needs "
		    "wal_level = logical in postgresql.conf (then restart "
		    "PostgreSQL), max_replication_slots and max_wal_senders "
		    "of one per rosterd beside other uses, and its role "
		    "with REPLICATION",
		    PQgetvalue(res, 0, 0));
		rc = -1;
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		snprintf(err, errlen,
		    "every replication slot of the database server is taken: "
		    "raise max_replication_slots in postgresql.conf (one per "
		    "rosterd beside other uses), or drop an abandoned slot "
		    "(rosterd(8))");
		rc = -1;
	}
	PQclear(res);
	if (rc == 0)
		rc = feed_check_slot(pg, slot, err, errlen);
	PQfinish(pg);
	return (rc);
}

/* Start the feed on base, through conninfo (a connection string; host
 * names resolved), from the slot named slot. */
void
feed_start(struct event_base *base, const char *conninfo, const char *slot)
{
	struct timeval tv = { 1, 0 };

	feed.base = base;
	if ((feed.conninfo = strdup(conninfo)) == NULL)
		fatalx("out of memory");
	snprintf(feed.slot, sizeof feed.slot, "%s", slot);
	if ((feed.retry = evtimer_new(base, feed_retry_cb, NULL)) == NULL)
		fatalx("evtimer_new");
	feed.timer = event_new(base, -1, EV_PERSIST, feed_timer_cb, NULL);
	if (feed.timer == NULL || event_add(feed.timer, &tv) == -1)
		fatalx("event_add");
	log_info("feed: replication slot %s", feed.slot);
	feed_connect();
}

/* At exit: report what was handed on (waiting FEED_STOP_WAIT ms at most),
 * close, free. The slot stays: rosterd(8) says how to drop one. */
void
feed_stop(void)
{
	int waited;

	feed.stopping = 1;
	if (feed.state == FEED_STREAMING && feed.done != feed.reported) {
		feed_status(0);
		for (waited = 0; feed.pg != NULL && waited < FEED_STOP_WAIT &&
		     PQflush(feed.pg) == 1;
		     waited += 10)
			usleep(10000);
	}
	feed_reset();
	if (feed.retry != NULL)
		event_free(feed.retry);
	if (feed.timer != NULL)
		event_free(feed.timer);
	feed.retry = feed.timer = NULL;
	free(feed.conninfo);
	feed.conninfo = NULL;
	OPENSSL_cleanse(feed.key, sizeof feed.key);
}
