/*
 * cmd-watch.c -- WATCH and its live "!" lines. The daemon's feed (feed.c:
 * logical decoding, a replication slot of its own) hands on every
 * notification committed on channel "roster", whichever daemon committed
 * the change, once and in commit order; each payload, a flat JSON object
 * {"event":CODE,"kind":KIND,...}, becomes one line "! KIND key=value ..."
 * (notify_line, notify.c) for the clients watching that event. The other
 * channels go to the sessions (roster_user) and the web sessions
 * (roster_web).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rosterd.h"

/* The WATCH mode's state of one connection. */
struct watcher {
	TAILQ_ENTRY(watcher) entry;
	struct conn *conn;
	char	     event[PROTO_MAX_CODE + 1];
};
static TAILQ_HEAD(, watcher) watchers = TAILQ_HEAD_INITIALIZER(watchers);

static void
watch_notify_cb(const char *channel, const char *payload)
{
	struct proto_buf line;
	struct watcher	*w, *next;
	char		 event[PROTO_MAX_CODE + 1], why[128];

	if (channel == NULL) { /* the feed's slot was lost: users may have
				  changed meanwhile */
		cmd_session_recheck();
		return;
	}
	if (strcmp(channel, "roster_user") == 0) {
		cmd_session_user_changed(payload);
		return;
	}
	if (strcmp(channel, "roster_web") == 0) {
		http_session_ended(payload);
		return;
	}
	proto_buf_init(&line);
	if (notify_line(payload, strlen(payload), &line, event, sizeof event,
		why, sizeof why) == -1) {
		log_warnx("watch: notification ignored: %s", why);
		proto_buf_free(&line);
		return;
	}
	for (w = TAILQ_FIRST(&watchers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry); /* a slow watcher is closed */
		if (strcasecmp(w->event, event) == 0)
			conn_notify(w->conn, line.data, line.len);
	}
	proto_buf_free(&line);
}

/* The connection leaves WATCH (DONE) or goes away. */
static void
watch_close(struct conn *c, void *arg)
{
	struct watcher *w = arg;

	TAILQ_REMOVE(&watchers, w, entry);
	free(w);
}

/* While watching, only DONE is read. */
static void
watch_line(struct req *r, const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
		len--;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
		snprintf(r->preq.command, sizeof r->preq.command, "DONE");
		conn_set_mode(r->conn, NULL, NULL);
		req_printf(r, "OK\n");
		req_done(r);
		return;
	}
	if (len == 0) { /* ignored, as always */
		req_done(r);
		return;
	}
	req_err(r, PROTO_SYNTAX, "watching: only DONE is read until then");
}

static const struct conn_mode watch_mode = {
	.name = "watch",
	.line = watch_line,
	.close = watch_close,
};

static void
watch_found_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req     *r = arg;
	struct watcher *w;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (db_ntuples(res) != 1) {
		req_err(r, PROTO_NOT_FOUND, "no such event");
		return;
	}
	if ((w = calloc(1, sizeof *w)) == NULL) {
		req_err(r, PROTO_INTERNAL, "out of memory");
		return;
	}
	w->conn = r->conn;
	snprintf(w->event, sizeof w->event, "%s", db_value(res, 0, 0));
	TAILQ_INSERT_TAIL(&watchers, w, entry);
	conn_set_mode(r->conn, &watch_mode, w);
	log_info("conn=%llu watch event=%s", (unsigned long long)w->conn->id,
	    w->event);
	req_printf(r, "OK watching\n");
	req_done(r);
}

static void
watch_start(struct req *r)
{
	cmd_exec(r, NULL, 0, watch_found_cb);
}

static void
cmd_watch(struct req *r)
{
	req_barrier(r, watch_start);
}

void
cmd_watch_init(void)
{
	feed_listen(watch_notify_cb);
}

static const struct cmd_key watch_keys[] = {
	CMD_KEY_EVENT,
	CMD_KEYS_END,
};

const struct cmd_entry cmd_watch_entries[] = {
	{
	    .name = "WATCH",
	    .keys = watch_keys,
	    .roles = ROLES_STAFF,
	    .sql = "watch",
	    .handler = cmd_watch,
	},
	{ .name = NULL },
};
