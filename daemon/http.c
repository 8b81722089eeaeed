/*
 * http.c -- the HTTPS face of the protocol (proto/HTTP.md): a conn_face on
 * the connections of the http_listen addresses. It reads one HTTP/1.1
 * request at a time (bounded head and body), turns it into the protocol
 * line it stands for (http-json.c), and hands that to the same parser and
 * cmd_dispatch as the line protocol; the reply lines the command writes
 * are collected and answered as JSON with an HTTP status, an export's as
 * a chunked download, WATCH's as Server-Sent Events.
 *
 * Why not libevent's evhttp: in libevent 2.1 its bufferevent callback is
 * not told the peer's address (no per-address cap before the handshake),
 * a NULL from it silently gives a plaintext connection, it has no limit on
 * connections and one timeout for everything. Here the connection stays
 * conn.c's, with every limit of the line protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "rosterd.h"

#define HTTP_MAX_HEAD	 PROTO_HTTP_MAX_HEAD
#define HTTP_MAX_TARGET	 PROTO_HTTP_MAX_TARGET
#define HTTP_CHUNK	 (16 * 1024)   /* a stream's chunks, at most */
#define HTTP_DISCARD_MAX (1024 * 1024) /* a body too long, read to answer */

/* Every response carries these. */
#define HTTP_SECURITY_HEADERS                                                \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; "   \
	"style-src 'self'; img-src 'self'; connect-src 'self'; "             \
	"font-src 'self'; base-uri 'none'; form-action 'self'; "             \
	"frame-ancestors 'none'\r\n"                                         \
	"X-Content-Type-Options: nosniff\r\n"                                \
	"X-Frame-Options: DENY\r\n"                                          \
	"Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n" \
	"Referrer-Policy: no-referrer\r\n"                                   \
	"Cross-Origin-Opener-Policy: same-origin\r\n"                        \
	"Cross-Origin-Resource-Policy: same-origin\r\n"

static const char http_busy[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 78\r\n"
    "Cache-Control: no-store\r\n" HTTP_SECURITY_HEADERS "Retry-After: 1\r\n"
    "Connection: close\r\n\r\n"
    "{\"ok\":false,\"error\":{\"code\":\"BUSY\",\"text\":\"too many "
    "connections, try again\"}}\n";

static const struct {
	enum proto_code code;
	int		status;
} http_statuses[] = {
	{ PROTO_OK, 200 },
	{ PROTO_SYNTAX, 400 },
	{ PROTO_INVALID, 422 },
	{ PROTO_TOO_LONG, 413 },
	{ PROTO_AUTH_REQUIRED, 401 },
	{ PROTO_AUTH_FAILED, 401 },
	{ PROTO_RATE_LIMITED, 429 },
	{ PROTO_FORBIDDEN, 403 },
	{ PROTO_NOT_FOUND, 404 },
	{ PROTO_CONFLICT, 409 },
	{ PROTO_QUOTA, 409 },
	{ PROTO_CLOSED, 409 },
	{ PROTO_BUSY, 503 },
	{ PROTO_UNAVAILABLE, 503 },
	{ PROTO_INTERNAL, 500 },
};

static int
http_status_of(enum proto_code code)
{
	size_t i;

	for (i = 0; i < sizeof http_statuses / sizeof http_statuses[0]; i++)
		if (http_statuses[i].code == code)
			return (http_statuses[i].status);
	return (500);
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 304:
		return ("Not Modified");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 409:
		return ("Conflict");
	case 411:
		return ("Length Required");
	case 413:
		return ("Content Too Large");
	case 414:
		return ("URI Too Long");
	case 415:
		return ("Unsupported Media Type");
	case 422:
		return ("Unprocessable Content");
	case 429:
		return ("Too Many Requests");
	case 431:
		return ("Request Header Fields Too Large");
	case 501:
		return ("Not Implemented");
	case 503:
		return ("Service Unavailable");
	case 505:
		return ("HTTP Version Not Supported");
	default:
		return ("Internal Server Error");
	}
}

/* A request's body may hold a JSON document of a line of max_line bytes. */
static size_t
http_body_max(void)
{
	return (2 * (size_t)rd->cfg->max_line);
}

/* Forget the reply of the last request. */
static void
http_reset(struct http_conn *hc)
{
	evbuffer_drain(hc->line, evbuffer_get_length(hc->line));
	evbuffer_drain(hc->records, evbuffer_get_length(hc->records));
	evbuffer_drain(hc->chunk, evbuffer_get_length(hc->chunk));
	json_decref(hc->fields);
	json_decref(hc->words);
	hc->fields = hc->words = NULL;
	hc->nrecords = 0;
	hc->code = PROTO_OK;
	hc->text[0] = '\0';
	hc->final = hc->streaming = hc->finished = 0;
	hc->status = 0;
	hc->allow = NULL;
	hc->session = hc->clear_cookie = 0;
	hc->token[0] = hc->csrf_sent[0] = hc->csrf[0] = '\0';
	hc->token_hash[0] = '\0';
	hc->new_token[0] = '\0';
	hc->filename[0] = '\0';
	hc->tsv = 0;
	hc->head_only = 0;
	hc->cache = NULL;
}

static void
http_established(struct conn *c)
{
	struct http_conn *hc;

	if ((hc = calloc(1, sizeof *hc)) == NULL ||
	    (hc->line = evbuffer_new()) == NULL ||
	    (hc->records = evbuffer_new()) == NULL ||
	    (hc->chunk = evbuffer_new()) == NULL) {
		if (hc != NULL) {
			if (hc->line != NULL)
				evbuffer_free(hc->line);
			if (hc->records != NULL)
				evbuffer_free(hc->records);
			free(hc);
		}
		c->state = CONN_CLOSING; /* nothing read; the sweep frees it */
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	c->face_data = hc;
	/* room for a whole request: its head and its largest body */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    HTTP_MAX_HEAD + http_body_max() + 16);
}

static void
http_free(struct conn *c)
{
	struct http_conn *hc = c->face_data;

	if (hc == NULL)
		return;
	http_reset(hc);
	if (hc->expiry != NULL)
		event_free(hc->expiry);
	evbuffer_free(hc->line);
	evbuffer_free(hc->records);
	evbuffer_free(hc->chunk);
	free(hc);
}

/* The head of a response, security headers included. */
static void
http_head_out(struct req *r, int status, const char *ctype, long long length,
    const char *extra)
{
	struct http_conn *hc = r->conn->face_data;
	char		  buf[1024];

	if (status == 304) /* no body, none described */
		snprintf(buf, sizeof buf, "HTTP/1.1 304 %s\r\n",
		    http_reason(status));
	else
		snprintf(buf, sizeof buf,
		    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", status,
		    http_reason(status), ctype);
	req_emit(r, buf, strlen(buf));
	if (status == 304)
		;
	else if (length >= 0) {
		snprintf(buf, sizeof buf, "Content-Length: %lld\r\n", length);
		req_emit(r, buf, strlen(buf));
	} else
		req_emit(r, "Transfer-Encoding: chunked\r\n", 28);
	snprintf(buf, sizeof buf, "Cache-Control: %s\r\n",
	    hc->cache != NULL ? hc->cache : "no-store");
	req_emit(r, buf, strlen(buf));
	req_emit(r, HTTP_SECURITY_HEADERS, strlen(HTTP_SECURITY_HEADERS));
	if (hc->new_token[0] != '\0') {
		snprintf(buf, sizeof buf,
		    "Set-Cookie: __Host-roster=%s; Path=/; Secure; HttpOnly; "
		    "SameSite=Strict\r\n",
		    hc->new_token);
		req_emit(r, buf, strlen(buf));
	} else if (hc->clear_cookie) {
		static const char clear[] =
		    "Set-Cookie: __Host-roster=; Path=/; Secure; HttpOnly; "
		    "SameSite=Strict; Max-Age=0\r\n";

		req_emit(r, clear, sizeof clear - 1);
	}
	if (status == 503 || status == 429)
		req_emit(r, "Retry-After: 1\r\n", 16);
	if (hc->allow != NULL) {
		snprintf(buf, sizeof buf, "Allow: %s\r\n", hc->allow);
		req_emit(r, buf, strlen(buf));
	}
	if (extra != NULL)
		req_emit(r, extra, strlen(extra));
	if (r->close_after || !hc->keep_alive || hc->closing) {
		hc->closing = 1;
		r->close_after = 1;
		req_emit(r, "Connection: close\r\n", 19);
	}
	req_emit(r, "\r\n", 2);
}

/* Send a stream's bytes so far as one chunk. */
static void
http_chunk_out(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;
	size_t		  n = evbuffer_get_length(hc->chunk);
	char		  size[24];

	if (n == 0)
		return;
	snprintf(size, sizeof size, "%zx\r\n", n);
	req_emit(r, size, strlen(size));
	req_emit(r, evbuffer_pullup(hc->chunk, -1), n);
	req_emit(r, "\r\n", 2);
	evbuffer_drain(hc->chunk, n);
}

/* The JSON answer of a request whose final line has come. */
static void
http_answer(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;
	struct evbuffer	 *body;
	json_t		 *err;
	int		  status;

	if ((body = evbuffer_new()) == NULL) {
		r->close_after = 1;
		return;
	}
	if (hc->code == PROTO_OK) {
		evbuffer_add_printf(body, "{\"ok\":true,\"fields\":");
		if (hc->fields != NULL)
			http_json_dump(body, hc->fields);
		else
			evbuffer_add(body, "{}", 2);
		if (hc->words != NULL) {
			evbuffer_add_printf(body, ",\"words\":");
			http_json_dump(body, hc->words);
		}
		evbuffer_add_printf(body, ",\"records\":[");
		evbuffer_add_buffer(body, hc->records);
		evbuffer_add(body, "]", 1);
		if ((r->cmd != NULL && strcmp(r->cmd->name, "LOGIN") == 0 &&
			hc->new_token[0] != '\0') ||
		    (hc->route == HTTP_SESSION && hc->session))
			evbuffer_add_printf(body, ",\"csrf\":\"%s\"", hc->csrf);
		evbuffer_add(body, "}\n", 2);
	} else {
		err = json_pack("{s:{s:s,s:s}}", "error", "code",
		    proto_code_name(hc->code), "text", hc->text);
		evbuffer_add_printf(body, "{\"ok\":false,");
		if (err != NULL) {
			struct evbuffer *e = evbuffer_new();

			if (e != NULL) {
				http_json_dump(e, err);
				/* the members of {"error":...}, without its
				 * braces */
				evbuffer_drain(e, 1);
				evbuffer_add(body, evbuffer_pullup(e, -1),
				    evbuffer_get_length(e) - 1);
				evbuffer_free(e);
			}
			json_decref(err);
		}
		evbuffer_add(body, "}\n", 2);
	}
	status = hc->status ? hc->status : http_status_of(hc->code);
	http_head_out(r, status, "application/json; charset=utf-8",
	    (long long)evbuffer_get_length(body), NULL);
	if (!hc->head_only)
		req_emit(r, evbuffer_pullup(body, -1),
		    evbuffer_get_length(body));
	evbuffer_free(body);
}

/* Answer r with its collected reply and end it (a session step's end). */
void
http_finish(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;

	http_answer(r);
	hc->finished = 1;
	req_done(r);
}

/* End r with an error of the face's own: its code, and an HTTP status
 * other than the code's when status is not 0. */
void
http_fail(struct req *r, int status, enum proto_code code, const char *text)
{
	struct http_conn *hc = r->conn->face_data;

	hc->status = status;
	req_err(r, code, "%s", text);
}

/* An export's first payload line: the head of a download. */
static void
http_export_head(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;
	char		  disp[128];

	snprintf(disp, sizeof disp,
	    "Content-Disposition: attachment; filename=\"%s.%s\"\r\n",
	    hc->filename[0] ? hc->filename : "export", hc->tsv ? "tsv" : "csv");
	http_head_out(r, 200,
	    hc->tsv ? "text/tab-separated-values; charset=utf-8" :
		      "text/csv; charset=utf-8",
	    -1, disp);
	hc->streaming = 1;
}

/* One whole reply line, as the command wrote it (without its LF). */
static void
http_reply_line(struct req *r, const char *line, size_t len)
{
	struct http_conn *hc = r->conn->face_data;
	json_t		 *rec = NULL, *words = NULL;
	char		  why[128];

	if (hc->final || hc->finished)
		return; /* nothing follows a final line */
	if (len >= 2 && line[0] == '=' && line[1] == ' ') {
		if (!hc->streaming)
			http_export_head(r);
		evbuffer_add(hc->chunk, line + 2, len - 2);
		evbuffer_add(hc->chunk, "\n", 1);
		if (evbuffer_get_length(hc->chunk) >= HTTP_CHUNK)
			http_chunk_out(r);
		return;
	}
	if (len >= 1 && line[0] == '*') {
		if (http_json_fields(line, len, &rec, NULL, why, sizeof why) ==
		    -1) {
			log_warnx("conn=%llu http: record not rendered: %s",
			    (unsigned long long)r->conn->id, why);
			return;
		}
		if (hc->nrecords++ > 0)
			evbuffer_add(hc->records, ",", 1);
		http_json_dump(hc->records, rec);
		json_decref(rec);
		return;
	}
	hc->final = 1;
	if (len >= 4 && strncmp(line, "ERR ", 4) == 0) {
		struct proto_reply rep;

		proto_parse_reply(line, len, &rep);
		hc->code = rep.kind == PROTO_LINE_ERR ?
		    rep.code :
		    PROTO_INTERNAL;
		snprintf(hc->text, sizeof hc->text, "%.*s",
		    rep.text != NULL ? (int)rep.textlen : 0,
		    rep.text != NULL ? rep.text : "");
		proto_reply_free(&rep);
	} else if (http_json_fields(line, len, &rec, &words, why, sizeof why) ==
	    0) {
		hc->code = PROTO_OK;
		hc->fields = rec;
		hc->words = words;
	} else {
		hc->code = PROTO_INTERNAL;
		snprintf(hc->text, sizeof hc->text, "reply not rendered");
	}
	if (hc->streaming) { /* an export's end, or its failure midway */
		if (hc->code == PROTO_OK) {
			http_chunk_out(r);
			req_emit(r, "0\r\n\r\n", 5);
		} else {
			/* no last chunk: the client sees a cut download */
			evbuffer_drain(hc->chunk,
			    evbuffer_get_length(hc->chunk));
			r->close_after = 1;
			hc->closing = 1;
		}
		return;
	}
	if (hc->route == HTTP_WATCH && hc->code == PROTO_OK) {
		http_head_out(r, 200, "text/event-stream; charset=utf-8", -1,
		    NULL);
		evbuffer_add_printf(hc->chunk, ": watching\n\n");
		http_chunk_out(r);
		hc->streaming = 1;
		http_session_watch(r->conn);
	}
}

/* The face's reply hook: cut what the command writes into lines. */
static void
http_reply(struct req *r, const char *data, size_t len)
{
	struct http_conn   *hc = r->conn->face_data;
	struct evbuffer_ptr eol;
	size_t		    eol_len;

	if (hc->finished)
		return;
	evbuffer_add(hc->line, data, len);
	for (;;) {
		eol = evbuffer_search_eol(hc->line, NULL, &eol_len,
		    EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		http_reply_line(r,
		    (const char *)evbuffer_pullup(hc->line, eol.pos + 1),
		    (size_t)eol.pos);
		evbuffer_drain(hc->line, (size_t)eol.pos + 1);
		if (r->conn == NULL)
			return;
	}
}

/* The face's done hook: answer, unless a session step comes first. */
static int
http_done(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;

	if (hc->finished)
		return (0);
	if (!hc->final) {
		hc->final = 1;
		hc->code = PROTO_INTERNAL;
		snprintf(hc->text, sizeof hc->text, "no reply");
	}
	if (hc->streaming) {
		hc->finished = 1;
		return (0);
	}
	if (hc->code == PROTO_OK && http_session_after(r))
		return (1);
	http_answer(r);
	hc->finished = 1;
	return (0);
}

/* A live update of WATCH, as one Server-Sent Event. */
static void
http_notify(struct conn *c, const char *line, size_t len, struct evbuffer *out)
{
	struct proto_reply rep;
	json_t		  *o;
	struct evbuffer	  *ev;
	size_t		   i, n;

	while (len > 0 && line[len - 1] == '\n')
		len--;
	if (proto_parse_reply(line, len, &rep) != PROTO_LINE_NOTIFY ||
	    (o = json_object()) == NULL || (ev = evbuffer_new()) == NULL) {
		proto_reply_free(&rep);
		return;
	}
	for (i = 0; i < rep.nfields; i++)
		if (rep.fields[i].key != NULL)
			json_object_set_new(o, rep.fields[i].key,
			    json_stringn(rep.fields[i].value,
				rep.fields[i].vlen));
	/* a kind is a word of the protocol: no line break in it */
	evbuffer_add_printf(ev, "event: %.*s\ndata: ", (int)rep.textlen,
	    rep.text);
	http_json_dump(ev, o);
	evbuffer_add(ev, "\n\n", 2);
	n = evbuffer_get_length(ev);
	evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, ev);
	evbuffer_add(out, "\r\n", 2);
	evbuffer_free(ev);
	json_decref(o);
	proto_reply_free(&rep);
}

/* Which route a path names, or -1 (404). */
static int
http_route_of(const char *path, size_t len, const char **allow)
{
	static const struct {
		const char     *path;
		enum http_route route;
		const char     *allow;
	} routes[] = {
		{ "/api", HTTP_API, "POST" },
		{ "/api/session", HTTP_SESSION, "GET" },
		{ "/api/export", HTTP_EXPORT, "GET" },
		{ "/api/watch", HTTP_WATCH, "GET" },
	};
	size_t i;

	for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (strlen(routes[i].path) == len &&
		    memcmp(routes[i].path, path, len) == 0) {
			*allow = routes[i].allow;
			return ((int)routes[i].route);
		}
	return (-1);
}

/* The request line is parsed: look the session up, then dispatch. */
static void
http_start(struct req *r)
{
	struct conn	 *c = r->conn;
	struct http_conn *hc = c->face_data;

	c->user[0] = c->party[0] = c->event[0] = c->stamp[0] = '\0';
	c->role = ROLE_NONE;
	if (hc->token[0] != '\0')
		http_session_load(r); /* then http_dispatch */
	else
		http_dispatch(r);
}

/* The session (if any) is known: the CSRF rule, then the command table. */
void
http_dispatch(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;

	if (hc->route == HTTP_API && hc->session && !http_session_csrf_ok(hc)) {
		http_fail(r, 0, PROTO_FORBIDDEN,
		    "a request of a session needs its X-CSRF-Token");
		return;
	}
	cmd_dispatch(r);
}

/* Build the request line, parse it as the line protocol does, start. */
static void
http_request(struct req *r, const struct proto_http_head *h, const char *body,
    size_t blen)
{
	struct http_conn *hc = r->conn->face_data;
	struct proto_buf  line;
	const char	 *q = strchr(h->target, '?');
	enum proto_code	  code;
	char		  why[256];
	int		  framing, rc;

	proto_buf_init(&line);
	switch (hc->route) {
	case HTTP_API:
		rc = http_json_request(body, blen, &line, why, sizeof why);
		break;
	case HTTP_SESSION:
		rc = http_query_request("WHOAMI", NULL, &line, why, sizeof why);
		break;
	case HTTP_EXPORT:
		rc = http_query_request("EXPORT", q ? q + 1 : NULL, &line, why,
		    sizeof why);
		break;
	default:
		rc = http_query_request("WATCH", q ? q + 1 : NULL, &line, why,
		    sizeof why);
		break;
	}
	if (rc == 0 && line.oom) {
		rc = -1;
		snprintf(why, sizeof why, "out of memory");
	}
	if (rc == 0 && line.len > (size_t)rd->cfg->max_line) {
		proto_buf_free(&line);
		snprintf(why, sizeof why, "request longer than %d bytes",
		    rd->cfg->max_line);
		http_fail(r, 0, PROTO_TOO_LONG, why);
		return;
	}
	if (rc == -1) {
		proto_buf_free(&line);
		http_fail(r, 0, PROTO_SYNTAX, why);
		return;
	}
	code = proto_parse_request(line.data, line.len, &r->preq, &framing, why,
	    sizeof why);
	proto_buf_free(&line);
	if (code != PROTO_OK) {
		memset(&r->preq, 0, sizeof r->preq);
		http_fail(r, 0, code, why);
		return;
	}
	if (hc->route == HTTP_API &&
	    (strcmp(r->preq.command, "WATCH") == 0 ||
		strcmp(r->preq.command, "EXPORT") == 0)) {
		http_fail(r, 0, PROTO_SYNTAX,
		    strcmp(r->preq.command, "WATCH") == 0 ?
			"WATCH is GET /api/watch (Server-Sent Events)" :
			"EXPORT is GET /api/export (a download)");
		return;
	}
	if (hc->route == HTTP_EXPORT) {
		const char *what = cmd_arg(r, "what");
		const char *format = cmd_arg(r, "format");
		size_t	    i;

		if (what != NULL && strlen(what) < sizeof hc->filename) {
			for (i = 0; what[i] >= 'a' && what[i] <= 'z'; i++)
				;
			if (what[i] == '\0')
				snprintf(hc->filename, sizeof hc->filename,
				    "%s", what);
		}
		hc->tsv = format != NULL && strcmp(format, "tsv") == 0;
	}
	http_start(r);
}

/* A file of web_root: its ETag, to be revalidated each time it is used;
 * 304 when the browser's copy is the same (If-None-Match). */
static void
http_file_out(struct req *r, const struct http_file *f,
    const char *if_none_match)
{
	struct http_conn *hc = r->conn->face_data;
	char		  etag[64];
	int		  same = proto_http_etag_match(if_none_match, f->etag);

	hc->final = 1;
	hc->cache = "no-cache";
	snprintf(etag, sizeof etag, "ETag: %s\r\n", f->etag);
	http_head_out(r, same ? 304 : 200, f->type, (long long)f->len, etag);
	if (!same && !hc->head_only)
		req_emit_ref(r, f->data, f->len);
	hc->finished = 1;
	req_done(r);
}

/* Answer a request that could not even be read, and close. */
static void
http_refuse(struct conn *c, int status, enum proto_code code, const char *why)
{
	struct http_conn *hc = c->face_data;
	struct req	 *r;

	hc->closing = 1;
	if ((r = conn_new_req(c)) == NULL)
		return;
	c->barrier = r;
	http_fail(r, status, code, why);
}

/*
 * The face's input hook: read one whole request, if there is one. Returns
 * 1 when it started one (the connection reads no other until it is
 * answered), 0 when it waits for more bytes or reads no more.
 */
static int
http_input(struct conn *c)
{
	struct http_conn       *hc = c->face_data;
	struct evbuffer	       *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	end;
	struct proto_http_head	h;
	struct req	       *r;
	const struct http_file *file;
	const char	       *why, *allow = NULL;
	char  *body = NULL, path[HTTP_MAX_TARGET + 1], text[96];
	size_t len = evbuffer_get_length(in), headlen, n;
	int    status, route, get;

	if (hc == NULL || c->mode != NULL || hc->closing) {
		evbuffer_drain(in, len); /* nothing more is read */
		return (0);
	}
	if (len == 0)
		return (0);
	if (hc->discard > 0) {
		/* a body over the limit is read and dropped, so that its
		 * client, still sending, gets the answer */
		n = len < hc->discard ? len : hc->discard;
		evbuffer_drain(in, n);
		hc->discard -= n;
		conn_touch(c);
		if (hc->discard > 0)
			return (0);
		if ((r = conn_new_req(c)) == NULL) {
			hc->closing = 1;
			return (0);
		}
		c->barrier = r;
		snprintf(text, sizeof text, "body longer than %zu bytes",
		    http_body_max());
		http_fail(r, 413, PROTO_TOO_LONG, text);
		return (1);
	}
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos == -1 || (size_t)end.pos + 4 > HTTP_MAX_HEAD) {
		if (len > HTTP_MAX_HEAD) {
			http_refuse(c, 431, PROTO_TOO_LONG,
			    "request head too large");
			return (1);
		}
		return (0);
	}
	headlen = (size_t)end.pos + 4;
	http_reset(hc);
	conn_touch(c);
	if (proto_http_head((const char *)evbuffer_pullup(in, (ssize_t)headlen),
		headlen, &h, &status, &why) == -1) {
		http_refuse(c, status,
		    status == 431 ? PROTO_TOO_LONG : PROTO_SYNTAX, why);
		return (1);
	}
	hc->keep_alive = h.minor == 1 ? !h.conn_close : h.conn_keep;
	if (h.chunked) {
		http_refuse(c, 501, PROTO_SYNTAX,
		    "Transfer-Encoding is not accepted; send Content-Length");
		return (1);
	}
	if (h.length > (long long)http_body_max()) {
		if (h.length <= HTTP_DISCARD_MAX) {
			evbuffer_drain(in, headlen);
			hc->discard = (size_t)h.length;
			return (1); /* the loop comes back to drop it */
		}
		snprintf(text, sizeof text, "body longer than %zu bytes",
		    http_body_max());
		http_refuse(c, 413, PROTO_TOO_LONG, text);
		return (1);
	}
	if (len < headlen + (size_t)(h.length > 0 ? h.length : 0))
		return (0); /* the body is on its way */
	evbuffer_drain(in, headlen);
	if (h.length > 0) {
		if ((body = malloc((size_t)h.length)) == NULL) {
			http_refuse(c, 503, PROTO_BUSY, "out of memory");
			return (1);
		}
		evbuffer_remove(in, body, (size_t)h.length);
	}
	if ((r = conn_new_req(c)) == NULL) {
		free(body);
		hc->closing = 1;
		return (0);
	}
	c->barrier = r; /* one request at a time */
	snprintf(path, sizeof path, "%.*s", (int)strcspn(h.target, "?"),
	    h.target);
	get = strcmp(h.method, "GET") == 0;
	hc->head_only = strcmp(h.method, "HEAD") == 0;
	route = http_route_of(path, strlen(path), &allow);
	memcpy(hc->token, h.token, sizeof hc->token);
	memcpy(hc->csrf_sent, h.csrf, sizeof hc->csrf_sent);
	if (route == -1 && (get || hc->head_only) &&
	    (file = http_static_find(path)) != NULL)
		http_file_out(r, file, h.if_none_match);
	else if (route == -1)
		http_fail(r, 404, PROTO_NOT_FOUND, "no such path");
	else if (strcmp(h.method, allow) != 0) {
		hc->allow = allow;
		http_fail(r, 405, PROTO_SYNTAX, "method not allowed");
	} else if (get && h.length > 0)
		http_fail(r, 400, PROTO_SYNTAX, "a GET has no body");
	else if (!get && h.length == -1) {
		hc->closing = 1;
		http_fail(r, 411, PROTO_SYNTAX, "Content-Length required");
	} else if (!get && !h.json)
		http_fail(r, 415, PROTO_SYNTAX,
		    "Content-Type must be application/json");
	else if (!get && h.origin[0] != '\0' &&
	    (strncmp(h.origin, "https://", 8) != 0 ||
		strcasecmp(h.origin + 8, h.host) != 0))
		http_fail(r, 403, PROTO_FORBIDDEN, "cross-origin request");
	else {
		hc->route = (enum http_route)route;
		http_request(r, &h, body, h.length > 0 ? (size_t)h.length : 0);
	}
	free(body);
	return (1);
}

const struct conn_face http_face = {
	.name = "https",
	.busy = http_busy,
	.established = http_established,
	.input = http_input,
	.reply = http_reply,
	.done = http_done,
	.notify = http_notify,
	.free = http_free,
};
