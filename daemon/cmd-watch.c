/*
 * cmd-watch.c -- WATCH and its live "!" lines. One LISTEN connection per
 * daemon (db_listen) receives every NOTIFY on channel "roster", whichever
 * daemon committed the change; each payload, a flat JSON object of strings
 * {"event":CODE,"kind":KIND,...}, becomes one line "! KIND key=value ..."
 * for the clients watching that event.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rosterd.h"

#define WATCH_MAX_FIELDS	32

static TAILQ_HEAD(, conn) watchers = TAILQ_HEAD_INITIALIZER(watchers);

/* Decode one JSON string starting at *p (just past its opening quote) into
 * b; returns 0 with *p past the closing quote, or -1. */
static int
watch_json_string(const char **p, struct proto_buf *b)
{
	const char	*s = *p;
	unsigned long	 cp, lo;
	char		 u[5];
	int		 i;

	for (;;) {
		if (*s == '\0')
			return (-1);
		if (*s == '"')
			break;
		if (*s != '\\') {
			proto_buf_addch(b, *s++);
			continue;
		}
		s++;
		switch (*s) {
		case '"': case '\\': case '/':
			proto_buf_addch(b, *s);
			break;
		case 'b': proto_buf_addch(b, '\b'); break;
		case 'f': proto_buf_addch(b, '\f'); break;
		case 'n': proto_buf_addch(b, '\n'); break;
		case 'r': proto_buf_addch(b, '\r'); break;
		case 't': proto_buf_addch(b, '\t'); break;
		case 'u':
			for (i = 0; i < 4; i++)
				if ((u[i] = s[1 + i]) == '\0')
					return (-1);
			u[4] = '\0';
			cp = strtoul(u, NULL, 16);
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && s[1] == '\\' &&
			    s[2] == 'u') {
				memcpy(u, s + 3, 4);
				lo = strtoul(u, NULL, 16);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					s += 6;
				}
			}
			if (cp < 0x80)
				proto_buf_addch(b, (char)cp);
			else if (cp < 0x800) {
				proto_buf_addch(b, (char)(0xc0 | (cp >> 6)));
				proto_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
			} else if (cp < 0x10000) {
				proto_buf_addch(b, (char)(0xe0 | (cp >> 12)));
				proto_buf_addch(b, (char)(0x80 |
				    ((cp >> 6) & 0x3f)));
				proto_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
			} else {
				proto_buf_addch(b, (char)(0xf0 | (cp >> 18)));
				proto_buf_addch(b, (char)(0x80 |
				    ((cp >> 12) & 0x3f)));
				proto_buf_addch(b, (char)(0x80 |
				    ((cp >> 6) & 0x3f)));
				proto_buf_addch(b, (char)(0x80 | (cp & 0x3f)));
			}
			break;
		default:
			return (-1);
		}
		s++;
	}
	*p = s + 1;
	return (0);
}

static const char *
watch_json_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return (s);
}

/*
 * Turn a notification payload into the line "! KIND k=v ...\n" (in out),
 * and its event code (in event). Non-string values are written as they
 * are; null ones are left out. Returns 0, or -1 for a payload of another
 * shape.
 */
int
watch_json_line(const char *json, struct proto_buf *out, char *event,
    size_t eventlen)
{
	struct proto_buf	 key, val, fields;
	const char		*p = watch_json_space(json), *start;
	int			 rc = -1, have_kind = 0, n = 0;

	proto_buf_init(&key);
	proto_buf_init(&val);
	proto_buf_init(&fields);
	event[0] = '\0';
	if (*p++ != '{')
		goto done;
	for (p = watch_json_space(p); *p != '}'; p = watch_json_space(p)) {
		if (n > 0) {
			if (*p++ != ',')
				goto done;
			p = watch_json_space(p);
		}
		proto_buf_reset(&key);
		proto_buf_reset(&val);
		if (*p++ != '"' || watch_json_string(&p, &key) == -1 ||
		    key.len == 0)
			goto done;
		p = watch_json_space(p);
		if (*p++ != ':')
			goto done;
		p = watch_json_space(p);
		if (*p == '"') {
			p++;
			if (watch_json_string(&p, &val) == -1)
				goto done;
		} else {
			for (start = p; *p != '\0' && *p != ',' && *p != '}' &&
			    *p != ' '; p++)
				;
			if (p == start)
				goto done;
			if ((size_t)(p - start) == 4 &&
			    memcmp(start, "null", 4) == 0) {
				n++;
				continue;
			}
			proto_buf_add(&val, start, (size_t)(p - start));
		}
		if (++n > WATCH_MAX_FIELDS || key.oom || val.oom)
			goto done;
		if (strcmp(key.data, "event") == 0)
			snprintf(event, eventlen, "%s", val.len ? val.data :
			    "");
		else if (strcmp(key.data, "kind") == 0 && val.len > 0 &&
		    !have_kind) {
			have_kind = 1;
			proto_buf_addstr(out, "! ");
			proto_buf_add(out, val.data, val.len);
		} else
			proto_buf_field(&fields, key.data, val.len ? val.data :
			    "", val.len);
	}
	if (!have_kind || event[0] == '\0' || *watch_json_space(p + 1) != '\0')
		goto done;
	proto_buf_add(out, fields.data ? fields.data : "", fields.len);
	proto_buf_addch(out, '\n');
	rc = out->oom ? -1 : 0;
done:
	proto_buf_free(&key);
	proto_buf_free(&val);
	proto_buf_free(&fields);
	return (rc);
}

static void
watch_notify_cb(const char *channel, const char *payload)
{
	struct proto_buf	 line;
	struct conn		*c, *next;
	char			 event[PROTO_MAX_CODE + 1];

	if (strcmp(channel, "roster_user") == 0) {
		conn_user_changed(payload);
		return;
	}
	proto_buf_init(&line);
	if (watch_json_line(payload, &line, event, sizeof event) == -1) {
		log_warnx("watch: notification of unknown shape ignored");
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
	"roster.watch", CMD_REPLY_CUSTOM, cmd_watch, 0, 0
};
