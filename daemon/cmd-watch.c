/*
 * cmd-watch.c -- WATCH and its live "!" lines. One LISTEN connection per
 * daemon (db_listen) receives every NOTIFY on channel "roster", whichever
 * daemon committed the change; each payload, a flat JSON object
 * {"event":CODE,"kind":KIND,...}, becomes one line "! KIND key=value ..."
 * (notify_line, notify.c) for the clients watching that event.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rosterd.h"

static TAILQ_HEAD(, conn) watchers = TAILQ_HEAD_INITIALIZER(watchers);

static void
watch_notify_cb(const char *channel, const char *payload)
{
	struct proto_buf	 line;
	struct conn		*c, *next;
	char			 event[PROTO_MAX_CODE + 1], why[128];

	if (strcmp(channel, "roster_user") == 0) {
		conn_user_changed(payload);
		return;
	}
	proto_buf_init(&line);
	if (notify_line(payload, strlen(payload), &line, event, sizeof event,
	    why, sizeof why) == -1) {
		log_warnx("watch: notification ignored: %s", why);
		proto_buf_free(&line);
		return;
	}
	for (c = TAILQ_FIRST(&watchers); c != NULL; c = next) {
		next = TAILQ_NEXT(c, wentry);
		if (strcasecmp(c->watch_event, event) == 0)
			conn_notify(c, line.data, line.len);
	}
	proto_buf_free(&line);
}

void
cmd_watch_stop(struct conn *c)
{
	if (!c->watching)
		return;
	c->watching = 0;
	TAILQ_REMOVE(&watchers, c, wentry);
}

/* While watching, only DONE is read. */
void
cmd_watch_line(struct req *r, const char *line, size_t len)
{
	struct conn	*c = r->conn;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
		len--;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0) {
		cmd_watch_stop(c);
		snprintf(r->preq.command, sizeof r->preq.command, "DONE");
		req_printf(r, "OK\n");
		req_done(r);
		return;
	}
	if (len == 0) {		/* ignored, as always */
		req_done(r);
		return;
	}
	req_err(r, PROTO_SYNTAX, "watching: only DONE is read until then");
}

static void
watch_found_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	*r = arg;
	struct conn	*c;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (db_ntuples(res) != 1) {
		req_err(r, PROTO_NOT_FOUND, "no such event");
		return;
	}
	c = r->conn;
	snprintf(c->watch_event, sizeof c->watch_event, "%s",
	    db_value(res, 0, 0));
	c->watching = 1;
	TAILQ_INSERT_TAIL(&watchers, c, wentry);
	log_info("conn=%llu watch event=%s", (unsigned long long)c->id,
	    c->watch_event);
	req_printf(r, "OK watching\n");
	req_done(r);
}

static void
watch_start(struct req *r)
{
	cmd_exec_cb(r, NULL, 0, watch_found_cb);
}

static void
cmd_watch(struct req *r)
{
	req_barrier(r, watch_start);
}

void
cmd_watch_init(void)
{
	db_listen(watch_notify_cb);
}

static const struct cmd_key watch_keys[] = {
	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL },
	{ NULL, 0, 0, NULL }
};

struct cmd_entry cmd_watch_entry = {
	"WATCH", watch_keys, ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST,
	"roster.event_show", CMD_REPLY_CUSTOM, cmd_watch, 0, 0
};
