/*
 * http-session.c -- the sessions of the HTTPS face (proto/HTTP.md): a
 * LOGIN over HTTPS opens one, kept in PostgreSQL (sql/functions/web.sql)
 * so that every rosterd sharing the database knows it, and answers with an
 * opaque random token in a cookie and a CSRF token in the body. Each
 * request that carries the cookie looks its session up again, which ends
 * it when it has been idle past http_session_idle or its user has another
 * stamp (disabled, another role, party or password); LOGOUT ends it. The
 * database keeps only the SHA-256 of a token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "rosterd.h"

static int stmt_get = -1;
static int stmt_open = -1;
static int stmt_end = -1;
static int stmt_restamp = -1;
static int stmt_use = -1;
static int stmt_left = -1;

void
http_session_init(void)
{
	stmt_get = db_statement("SELECT * FROM roster.web_session_get($1)", 1);
	stmt_open = db_statement(
	    "SELECT * FROM roster.web_session_open($1, $2, $3, $4, $5, $6)", 6);
	stmt_end = db_statement("SELECT roster.web_session_end($1)", 1);
	stmt_restamp = db_statement("SELECT roster.web_session_restamp($1, $2)",
	    2);
	stmt_use = db_statement("SELECT roster.web_session_use($1, $2)", 2);
	/* the seconds a session has left before it is idle for too long (a
	 * read, not a use: it does not renew the session) */
	stmt_left = db_statement("SELECT roster.web_session_left($1)", 1);
}

static void
http_session_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* What the database keeps of a token: its SHA-256, in hex. */
static int
http_session_hash(const char *token, char *out)
{
	unsigned char md[32];
	unsigned int  mdlen = 0;

	if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) !=
		1 ||
	    mdlen != sizeof md)
		return (-1);
	http_session_hex(md, sizeof md, out);
	return (0);
}

/* A new random token: 32 bytes in hex. */
static int
http_session_random(char *out)
{
	unsigned char b[HTTP_TOKEN_LEN / 2];

	if (RAND_bytes(b, sizeof b) != 1)
		return (-1);
	http_session_hex(b, sizeof b, out);
	OPENSSL_cleanse(b, sizeof b);
	return (0);
}

/* Whether the request's X-CSRF-Token is its session's. */
int
http_session_csrf_ok(struct http_conn *hc)
{
	return (strlen(hc->csrf_sent) == HTTP_TOKEN_LEN &&
	    strlen(hc->csrf) == HTTP_TOKEN_LEN &&
	    CRYPTO_memcmp(hc->csrf_sent, hc->csrf, HTTP_TOKEN_LEN) == 0);
}

/* The session of the cookie, or none: the connection is its user's for
 * this one request. */
static void
http_session_loaded(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	 *r = arg;
	struct conn	 *c;
	struct http_conn *hc;

	if (cmd_result(r, code, msg) == -1)
		return;
	c = r->conn;
	hc = c->face_data;
	if (db_ntuples(res) != 1 ||
	    role_from_name(db_value(res, 0, 1)) == ROLE_NONE) {
		hc->clear_cookie = 1; /* ended, expired or unknown */
		http_dispatch(r);
		return;
	}
	snprintf(c->user, sizeof c->user, "%s", db_value(res, 0, 0));
	c->role = role_from_name(db_value(res, 0, 1));
	snprintf(c->party, sizeof c->party, "%s",
	    db_isnull(res, 0, 2) ? "" : db_value(res, 0, 2));
	snprintf(c->stamp, sizeof c->stamp, "%s", db_value(res, 0, 3));
	snprintf(hc->csrf, sizeof hc->csrf, "%s", db_value(res, 0, 4));
	snprintf(c->event, sizeof c->event, "%s",
	    db_isnull(res, 0, 5) ? "" : db_value(res, 0, 5));
	c->logged_in = 1;
	hc->session = 1;
	http_dispatch(r);
}

/* Look the cookie's session up; then http_dispatch. */
void
http_session_load(struct req *r)
{
	struct http_conn *hc = r->conn->face_data;
	const char	 *params[1];
	char		  hash[HTTP_TOKEN_LEN + 1];

	if (http_session_hash(hc->token, hash) == -1) {
		req_err(r, PROTO_INTERNAL, "hash failed");
		return;
	}
	memcpy(hc->token_hash, hash, sizeof hc->token_hash);
	params[0] = hash;
	cmd_query(r, stmt_get, 1, params, http_session_loaded);
}

/* Is c a connection of the web session whose hash is arg? */
static int
http_session_matches(struct conn *c, void *arg)
{
	struct http_conn *hc = c->face_data;

	return (c->face == &http_face && hc != NULL &&
	    strcmp(hc->token_hash, arg) == 0);
}

/*
 * A notification on channel roster_web (from any daemon): the session
 * whose hash is the payload has ended (LOGOUT). Its connections are logged
 * out, and its Server-Sent Events streams closed.
 */
void
http_session_ended(const char *payload)
{
	if (payload == NULL || strlen(payload) != HTTP_TOKEN_LEN)
		return;
	conn_each_session(http_session_matches, (void *)payload);
}

/* An SSE stream of a session; arg its hash. */
static int
http_session_stream(struct conn *c, void *arg)
{
	struct http_conn *hc = c->face_data;

	return (c->face == &http_face && hc != NULL && c->mode != NULL &&
	    hc->expiry != NULL && strcmp(hc->token_hash, arg) == 0);
}

struct http_session_later {
	const char *hash;
	int	    seconds;
};

/* Look at the session of the stream c again in so many seconds. */
static int
http_session_rearm(struct conn *c, void *arg)
{
	struct http_session_later *l = arg;
	struct http_conn	  *hc = c->face_data;
	struct timeval		   tv = { l->seconds, 0 };

	if (http_session_stream(c, (void *)l->hash))
		evtimer_add(hc->expiry, &tv);
	return (0);
}

/* How long the session of the streams has left: none, they end. */
static void
http_session_left(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct http_session_later l = { arg, 1 };

	if (code != PROTO_OK) { /* tried again in a second */
		log_warnx("web session not looked at: %s", msg);
		conn_each_session(http_session_rearm, &l);
	} else if (db_ntuples(res) == 1 && !db_isnull(res, 0, 0) &&
	    (l.seconds = atoi(db_value(res, 0, 0))) > 0)
		conn_each_session(http_session_rearm, &l);
	else /* idle for too long (or ended): its streams close */
		conn_each_session(http_session_stream, arg);
	free(arg);
}

static void
http_session_expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	 *c = arg;
	struct http_conn *hc = c->face_data;
	struct timeval	  tv = { 1, 0 };
	const char	 *params[1];
	char		 *hash;

	(void)fd;
	(void)what;
	if ((hash = strdup(hc->token_hash)) != NULL) {
		params[0] = hash;
		if (db_query(NULL, stmt_left, 1, params, http_session_left,
			hash) == DB_QUEUED)
			return;
		free(hash);
	}
	evtimer_add(hc->expiry, &tv); /* the database is busy: later */
}

/*
 * The connection c has become an SSE stream of its session: it closes
 * when the session has been idle for longer than its idle (the stream
 * itself is not a use), as it does at LOGOUT (http_session_ended) and
 * when its user changes (cmd_session_user_changed). Looked at now, then
 * when the session would expire if nothing used it meanwhile.
 */
void
http_session_watch(struct conn *c)
{
	struct http_conn *hc = c->face_data;
	struct timeval	  tv = { 0, 0 };

	if (!hc->session || hc->token_hash[0] == '\0')
		return;
	if (hc->expiry == NULL &&
	    (hc->expiry = evtimer_new(rd->base, http_session_expiry_cb, c)) ==
		NULL)
		return;
	evtimer_add(hc->expiry, &tv);
}

/* The end of a session step: its failure replaces the command's answer. */
static void
http_session_stepped(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	 *r = arg;
	struct http_conn *hc;

	if (req_resume(r) == -1)
		return;
	hc = r->conn->face_data;
	if (code != PROTO_OK) {
		hc->code = code;
		snprintf(hc->text, sizeof hc->text, "%s", msg);
		hc->new_token[0] = '\0';
	} else if (r->cmd != NULL && strcmp(r->cmd->name, "LOGIN") == 0 &&
	    db_ntuples(res) != 1) {
		/* the user changed between the check and the session */
		hc->code = PROTO_AUTH_FAILED;
		snprintf(hc->text, sizeof hc->text, "wrong user or password");
		hc->new_token[0] = '\0';
		hc->csrf[0] = '\0';
	} else if (r->cmd != NULL && strcmp(r->cmd->name, "LOGOUT") == 0)
		hc->clear_cookie = 1;
	if (hc->code != PROTO_OK && r->cmd != NULL &&
	    strcmp(r->cmd->name, "LOGIN") == 0) {
		struct conn *c = r->conn;

		c->user[0] = c->party[0] = c->event[0] = c->stamp[0] = '\0';
		c->role = ROLE_NONE;
	}
	r->result = hc->code;
	http_finish(r);
}

/*
 * After a command answered OK: the session steps of LOGIN (open one),
 * LOGOUT (end it), PASSWORD (the session keeps its user's new stamp) and
 * USE (the session keeps its event). 1 when one was started (it ends the
 * request), 0 when there is none.
 */
int
http_session_after(struct req *r)
{
	struct conn	 *c = r->conn;
	struct http_conn *hc = c->face_data;
	const char	 *name = r->cmd != NULL ? r->cmd->name : "";
	const char	 *params[6];
	char		  hash[HTTP_TOKEN_LEN + 1], old[HTTP_TOKEN_LEN + 1];
	char		  idle[16];

	if (strcmp(name, "LOGIN") == 0) {
		if (http_session_random(hc->new_token) == -1 ||
		    http_session_random(hc->csrf) == -1 ||
		    http_session_hash(hc->new_token, hash) == -1) {
			hc->new_token[0] = '\0';
			return (0);
		}
		old[0] = '\0';
		if (hc->token[0] != '\0' &&
		    http_session_hash(hc->token, old) == -1)
			old[0] = '\0';
		snprintf(idle, sizeof idle, "%d", rd->cfg->http_session_idle);
		params[0] = hash;
		params[1] = c->user;
		params[2] = c->stamp;
		params[3] = hc->csrf;
		params[4] = idle;
		params[5] = old[0] != '\0' ? old : NULL;
		cmd_query(r, stmt_open, 6, params, http_session_stepped);
		return (1);
	}
	if (!hc->session || http_session_hash(hc->token, hash) == -1)
		return (0);
	params[0] = hash;
	if (strcmp(name, "LOGOUT") == 0)
		cmd_query(r, stmt_end, 1, params, http_session_stepped);
	else if (strcmp(name, "PASSWORD") == 0) {
		params[1] = c->stamp;
		cmd_query(r, stmt_restamp, 2, params, http_session_stepped);
	} else if (strcmp(name, "USE") == 0) {
		params[1] = c->event;
		cmd_query(r, stmt_use, 2, params, http_session_stepped);
	} else
		return (0);
	return (1);
}
