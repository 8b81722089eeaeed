/*
 * cmd-session.c -- the commands of a session (PROTOCOL.md section 4): PING,
 * HELP, LOGIN, LOGOUT, WHOAMI, PASSWORD, USE, QUIT, the login by client
 * certificate at connect time, and the end of the sessions whose user
 * changed. Password checks run on the auth workers.
 *
 * A password is counted as a failed login before it is checked: LOGIN and
 * PASSWORD claim the attempt in the statement that reads the user
 * (login_check, sql/functions/login.sql), and only a right password takes
 * the claim back, so that the limits hold however many attempts arrive at
 * once on however many daemons. An attempt that cannot be counted is not
 * checked (UNAVAILABLE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "rosterd.h"

#define SESSION_RECHECK_RETRY 1 /* seconds */

/* The statements of the session commands' several steps. */
static int stmt_cert_login = -1;
static int stmt_password_set = -1;
static int stmt_login_check = -1;
static int stmt_login_done = -1;
static int stmt_login_release = -1;
static int stmt_login_recheck = -1;

/* This daemon's part of a session's name in a roster_user payload (the
 * session that PASSWORD keeps): random, unlike any other daemon's. */
static char session_daemon[17];

/* The check of every session once notifications may have been missed. */
static struct event *session_recheck_ev;
static int	     session_rechecking;    /* a check in flight */
static int	     session_recheck_again; /* another wanted after it */

/* What LOGIN and PASSWORD learn about the user between their steps. */
struct login {
	char	  name[PROTO_MAX_CODE + 1];
	char	  party[PROTO_MAX_CODE + 1];
	char	  stamp[SESSION_STAMP_LEN + 1];
	char	  attempt[24]; /* the attempt claimed, "" when none */
	enum role role;
	int	  known;
	int	  enabled;
	int	  limited; /* login_check: refused for a while */
	char	 *hash;
};

/* Sessions to end: those of a user (name, namelen), only with that stamp
 * when stamp is set, except the one named keep (cmd_session_name). */
struct session_match {
	const char *name;
	size_t	    namelen;
	const char *stamp;
	const char *keep;
};

/* Every open session's user and stamp, separated by ",". */
struct session_list {
	struct proto_buf users;
	struct proto_buf stamps;
};

static void
login_free(void *arg)
{
	struct login *l = arg;

	free(l->hash);
	free(l);
}

/* Wipe a secret the parser decoded, once it has been handed on. */
static void
cmd_wipe(struct req *r, const char *key)
{
	const struct proto_arg *a = proto_request_arg(&r->preq, key);

	if (a != NULL)
		OPENSSL_cleanse((char *)a->value, a->vlen);
}

/* Read the row of cert_login or login_check (name, role, party, hash,
 * enabled, stamp[, limited, attempt]) into r->data; an unknown user has no
 * row, or (from login_check) a row with no name. */
static int
cmd_login_row(struct req *r, struct pg_result *res)
{
	struct login *l;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return (-1);
	r->data = l;
	r->data_free = login_free;
	if (db_ntuples(res) != 1)
		return (0);
	if (db_nfields(res) > 7) {
		l->limited = strcmp(db_value(res, 0, 6), "yes") == 0;
		if (!db_isnull(res, 0, 7))
			snprintf(l->attempt, sizeof l->attempt, "%s",
			    db_value(res, 0, 7));
	}
	if (db_isnull(res, 0, 0))
		return (0);
	l->known = 1;
	snprintf(l->name, sizeof l->name, "%s", db_value(res, 0, 0));
	l->role = role_from_name(db_value(res, 0, 1));
	if (!db_isnull(res, 0, 2))
		snprintf(l->party, sizeof l->party, "%s", db_value(res, 0, 2));
	if ((l->hash = strdup(db_value(res, 0, 3))) == NULL)
		return (-1);
	l->enabled = strcmp(db_value(res, 0, 4), "yes") == 0 &&
	    l->role != ROLE_NONE;
	snprintf(l->stamp, sizeof l->stamp, "%s", db_value(res, 0, 5));
	return (0);
}

/* LOGIN and PASSWORD, first step: the user's record, whether logins for
 * the user or from the client's address are refused now, and else the
 * attempt, claimed as a failure until the password proves right. */
static void
cmd_login_lookup(struct req *r, const char *user, db_cb cb)
{
	const char *params[2];
	char	    host[64];

	params[0] = user;
	params[1] = conn_host(r->conn, host, sizeof host);
	cmd_query(r, stmt_login_check, 2, params, cb);
}

static void
cmd_release_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	if (code != PROTO_OK)
		log_warnx("login attempt not released: %s", msg);
}

/* An attempt whose password was never checked, or was right but is not
 * used (its client left), is no failure: take the claim back. */
static void
cmd_login_release(struct login *l)
{
	const char *params[1];

	if (l == NULL || l->attempt[0] == '\0')
		return;
	params[0] = l->attempt;
	/* owner NULL: the daemon's own statement, not a client's */
	if (db_query(NULL, stmt_login_release, 1, params, cmd_release_cb,
		NULL) != DB_QUEUED)
		log_warnx("login attempt not released");
	l->attempt[0] = '\0';
}

/* A password check or hash the workers refused: r is answered. */
static void
cmd_auth_refused(struct req *r, enum auth_refusal why)
{
	r->waiting = 0;
	cmd_login_release(r->data);
	if (why == AUTH_BUSY)
		req_err(r, PROTO_BUSY,
		    "too many password checks waiting; "
		    "try again shortly");
	else
		req_err(r, PROTO_INTERNAL, "out of memory");
}

/*
 * The first step's answer, for LOGIN and PASSWORD: -1 when r is answered
 * (refused for a while, or the attempt could not be counted: then it is
 * not checked either) and its secrets (keys, ended by NULL) are wiped, 0
 * when the password is to be checked.
 */
static int
cmd_login_claimed(struct req *r, struct pg_result *res, enum proto_code code,
    const char *msg, const char *const *secrets)
{
	static const char not_counted[] =
	    "login attempts cannot be counted "
	    "now; try again later";
	struct login   *l;
	enum proto_code answer = PROTO_OK;
	const char     *text = NULL;

	if (code != PROTO_OK) {
		log_warnx("conn=%llu login attempt not counted: %s",
		    (unsigned long long)r->conn->id, msg);
		answer = code == PROTO_BUSY ? PROTO_BUSY : PROTO_UNAVAILABLE;
		text = code == PROTO_BUSY ? msg : not_counted;
	} else if (cmd_login_row(r, res) == -1) {
		cmd_login_release(r->data);
		answer = PROTO_INTERNAL;
		text = "out of memory";
	} else if ((l = r->data)->limited) {
		answer = PROTO_RATE_LIMITED;
		text = "too many failed or concurrent attempts; try again in "
		       "a minute";
	} else if (l->attempt[0] == '\0') {
		log_warnx("conn=%llu login attempt not counted: none claimed",
		    (unsigned long long)r->conn->id);
		answer = PROTO_UNAVAILABLE;
		text = not_counted;
	}
	if (answer == PROTO_OK)
		return (0);
	while (*secrets != NULL)
		cmd_wipe(r, *secrets++);
	req_err(r, answer, "%s", text);
	return (-1);
}

static void
cmd_ping(struct req *r)
{
	req_printf(r, "OK pong\n");
	req_done(r);
}

/* LOGIN, step 4: the session's statement re-read the user, after any
 * change being made to it: no row, and the user is not the one whose
 * password was checked (disabled or changed meanwhile). */
static void
cmd_login_done(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	*r = arg;
	struct conn	*c;
	struct proto_buf b;

	if (cmd_result(r, code, msg) == -1)
		return;
	c = r->conn;
	if (db_ntuples(res) != 1 ||
	    role_from_name(db_value(res, 0, 1)) == ROLE_NONE) {
		log_notice("conn=%llu login refused user=%s: the user changed "
			   "during the check",
		    (unsigned long long)c->id, cmd_arg(r, "user"));
		req_err(r, PROTO_AUTH_FAILED, "wrong user or password");
		return;
	}
	snprintf(c->user, sizeof c->user, "%s", db_value(res, 0, 0));
	c->role = role_from_name(db_value(res, 0, 1));
	snprintf(c->party, sizeof c->party, "%s",
	    db_isnull(res, 0, 2) ? "" : db_value(res, 0, 2));
	snprintf(c->stamp, sizeof c->stamp, "%s", db_value(res, 0, 3));
	c->event[0] = '\0';
	log_info("conn=%llu login user=%s role=%s method=password",
	    (unsigned long long)c->id, c->user, role_name(c->role));
	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK");
	proto_buf_field(&b, "user", c->user, strlen(c->user));
	proto_buf_field(&b, "role", role_name(c->role),
	    strlen(role_name(c->role)));
	if (c->party[0] != '\0')
		proto_buf_field(&b, "party", c->party, strlen(c->party));
	proto_buf_addch(&b, '\n');
	req_line(r, &b);
	proto_buf_free(&b);
	req_done(r);
}

/* LOGIN, step 3: the password was checked. A wrong one stays counted. */
static void
cmd_login_checked(struct auth_job *job, void *arg)
{
	struct req   *r = arg;
	struct login *l = r->data;
	const char   *params[3];
	int	      ok = auth_result(job) == 0 && l->known && l->enabled;

	auth_job_free(job);
	if (r->conn == NULL && ok)
		cmd_login_release(l);
	if (req_resume(r) == -1)
		return;
	if (!ok) {
		char host[64];

		log_limited(LOG_LVL_NOTICE, "login failed",
		    conn_host(r->conn, host, sizeof host),
		    "conn=%llu login failed user=%s addr=%s",
		    (unsigned long long)r->conn->id, cmd_arg(r, "user"),
		    r->conn->addr);
		req_err(r, PROTO_AUTH_FAILED, "wrong user or password");
		return;
	}
	params[0] = l->attempt;
	params[1] = l->name;
	params[2] = l->stamp;
	cmd_query(r, stmt_login_done, 3, params, cmd_login_done);
}

/* LOGIN, step 2: the user's row (or none) is here, and the attempt
 * counted; verify off the loop. An unknown or disabled user costs the same
 * hash as a wrong password. */
static void
cmd_login_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	 *r = arg;
	enum auth_refusal why;

	static const char *const secrets[] = { "password", NULL };

	if (req_resume(r) == -1)
		return;
	if (cmd_login_claimed(r, res, code, msg, secrets) == -1)
		return;
	r->waiting = 1;
	why = auth_verify(r->conn->id, cmd_arg(r, "password"),
	    ((struct login *)r->data)->hash, cmd_login_checked, r);
	cmd_wipe(r, "password");
	if (why != AUTH_QUEUED)
		cmd_auth_refused(r, why);
}

/* LOGIN, step 1: look the user up (and the limits). */
static void
cmd_login_start(struct req *r)
{
	cmd_login_lookup(r, cmd_arg(r, "user"), cmd_login_found);
}

/* LOGIN, PASSWORD and USE change what the requests after them may do:
 * those are not read until the change is made (or refused). Being in
 * order also keeps a connection to one password check at a time. */
static void
cmd_login(struct req *r)
{
	req_barrier(r, cmd_login_start);
}

static void
cmd_logout(struct req *r)
{
	struct conn *c = r->conn;

	log_info("conn=%llu logout user=%s", (unsigned long long)c->id,
	    c->user);
	c->user[0] = c->party[0] = c->event[0] = '\0';
	c->role = ROLE_NONE;
	req_printf(r, "OK\n");
	req_done(r);
}

static void
cmd_whoami(struct req *r)
{
	struct conn	*c = r->conn;
	struct proto_buf b;

	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK");
	if (c->role == ROLE_NONE)
		proto_buf_addstr(&b, " user=-");
	else {
		proto_buf_field(&b, "user", c->user, strlen(c->user));
		proto_buf_field(&b, "role", role_name(c->role),
		    strlen(role_name(c->role)));
		if (c->party[0] != '\0')
			proto_buf_field(&b, "party", c->party,
			    strlen(c->party));
	}
	proto_buf_addch(&b, '\n');
	req_line(r, &b);
	proto_buf_free(&b);
	req_done(r);
}

/* PASSWORD, step 4: the new hash is stored; the session has the user's
 * new stamp (the user's other sessions end, on every daemon). */
static void
cmd_password_stored(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req *r = arg;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (db_ntuples(res) == 1 && !db_isnull(res, 0, 1))
		snprintf(r->conn->stamp, sizeof r->conn->stamp, "%s",
		    db_value(res, 0, 1));
	log_info("conn=%llu password changed user=%s",
	    (unsigned long long)r->conn->id, r->conn->user);
	req_printf(r, "OK\n");
	req_done(r);
}

/* A session's name in a roster_user payload: this daemon's, and the
 * connection's id. */
static void
cmd_session_name(struct conn *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%llu", session_daemon,
	    (unsigned long long)c->id);
}

/* PASSWORD, step 3: the new password is hashed. */
static void
cmd_password_hashed(struct auth_job *job, void *arg)
{
	struct req   *r = arg;
	struct login *l = r->data;
	struct conn  *c;
	const char   *params[7];
	char	      keep[64];
	int	      ok = auth_result(job) == 0;

	if (r->conn == NULL || !ok)
		cmd_login_release(l);
	if (req_resume(r) == -1) {
		auth_job_free(job);
		return;
	}
	if (!ok) {
		auth_job_free(job);
		req_err(r, PROTO_INTERNAL, "password hashing failed");
		return;
	}
	c = r->conn;
	cmd_session_name(c, keep, sizeof keep);
	params[0] = c->user;
	params[1] = role_name(c->role);
	params[2] = c->party[0] ? c->party : NULL;
	params[3] = auth_out_hash(job);
	params[4] = l->attempt;
	params[5] = l->stamp;
	params[6] = keep;
	cmd_query(r, stmt_password_set, 7, params, cmd_password_stored);
	auth_job_free(job);
}

/* PASSWORD, step 2: the old password was checked. A wrong one stays
 * counted. */
static void
cmd_password_checked(struct auth_job *job, void *arg)
{
	struct req	 *r = arg;
	struct login	 *l = r->data;
	enum auth_refusal why;
	int		  ok = auth_result(job) == 0 && l->known && l->enabled;

	auth_job_free(job);
	if (r->conn == NULL && ok)
		cmd_login_release(l);
	if (req_resume(r) == -1)
		return;
	if (!ok) {
		cmd_wipe(r, "new");
		log_notice("conn=%llu password not changed user=%s: wrong "
			   "password",
		    (unsigned long long)r->conn->id, r->conn->user);
		req_err(r, PROTO_AUTH_FAILED, "wrong password");
		return;
	}
	r->waiting = 1;
	why = auth_hash(r->conn->id, cmd_arg(r, "new"), cmd_password_hashed, r);
	cmd_wipe(r, "new");
	if (why != AUTH_QUEUED)
		cmd_auth_refused(r, why);
}

static void
cmd_password_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	 *r = arg;
	enum auth_refusal why;

	static const char *const secrets[] = { "old", "new", NULL };

	if (req_resume(r) == -1)
		return;
	if (cmd_login_claimed(r, res, code, msg, secrets) == -1)
		return;
	r->waiting = 1;
	why = auth_verify(r->conn->id, cmd_arg(r, "old"),
	    ((struct login *)r->data)->hash, cmd_password_checked, r);
	cmd_wipe(r, "old");
	if (why != AUTH_QUEUED) {
		cmd_wipe(r, "new");
		cmd_auth_refused(r, why);
	}
}

/* PASSWORD, step 1, once every earlier request is answered (the session
 * may have ended meanwhile). */
static void
cmd_password_start(struct req *r)
{
	if (r->conn->role == ROLE_NONE) {
		cmd_wipe(r, "old");
		cmd_wipe(r, "new");
		req_err(r, PROTO_AUTH_REQUIRED, "log in first");
		return;
	}
	cmd_login_lookup(r, r->conn->user, cmd_password_found);
}

/* PASSWORD old= new=: check the old one, hash the new one, store it. */
static void
cmd_password(struct req *r)
{
	req_barrier(r, cmd_password_start);
}

/* USE: the event must exist; remember its code as stored. */
static void
cmd_use_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	*r = arg;
	struct conn	*c;
	struct proto_buf b;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (db_ntuples(res) != 1) {
		req_err(r, PROTO_NOT_FOUND, "no such event");
		return;
	}
	c = r->conn;
	snprintf(c->event, sizeof c->event, "%s", db_value(res, 0, 0));
	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK");
	proto_buf_field(&b, "event", c->event, strlen(c->event));
	proto_buf_addch(&b, '\n');
	req_line(r, &b);
	proto_buf_free(&b);
	req_done(r);
}

static void
cmd_use_start(struct req *r)
{
	/* USE names the event outright: a USE already in force is no
	 * default here */
	const char *over[1] = { cmd_arg(r, "event") };

	cmd_exec(r, over, 1, cmd_use_found);
}

static void
cmd_use(struct req *r)
{
	req_barrier(r, cmd_use_start);
}

static void
cmd_quit(struct req *r)
{
	r->close_after = 1;
	req_printf(r, "OK bye\n");
	req_done(r);
}

/* At connect: a verified client certificate names a user; an enabled one
 * is logged in and named in the greeting. */
static void
cmd_cert_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req   *r = arg;
	struct login *l;
	struct conn  *c;

	if (req_resume(r) == -1)
		return;
	c = r->conn;
	if (code != PROTO_OK || cmd_login_row(r, res) == -1) {
		/* not refused: greeted without a user */
		log_warnx("conn=%llu certificate login not checked: %s",
		    (unsigned long long)c->id, msg ? msg : "out of memory");
		conn_greet(c, NULL, ROLE_NONE, NULL);
	} else if ((l = r->data)->known && l->enabled) {
		snprintf(c->stamp, sizeof c->stamp, "%s", l->stamp);
		conn_greet(c, l->name, l->role, l->party);
	} else {
		log_notice("conn=%llu certificate names no enabled user",
		    (unsigned long long)c->id);
		conn_greet(c, NULL, ROLE_NONE, NULL);
	}
	req_done(r);
}

/*
 * Run when a connection is established: a verified client certificate
 * names a user, looked up before the greeting. Returns 1 when the greeting
 * waits for the lookup (a request holds it, so that replies to lines sent
 * early wait for it), 0 when the connection may be greeted now.
 */
static int
cmd_session_established(struct conn *c)
{
	const char *params[1];
	struct req *r;
	char	   *user;

	if ((user = conn_peer_user(c)) == NULL)
		return (0);
	if ((r = conn_new_req(c)) == NULL) {
		free(user);
		return (0);
	}
	params[0] = user;
	cmd_query(r, stmt_cert_login, 1, params, cmd_cert_found);
	free(user);
	return (1);
}

/* Does session c match m (struct session_match)? */
static int
cmd_session_matches(struct conn *c, void *arg)
{
	const struct session_match *m = arg;
	char			    name[64];

	if (strlen(c->user) != m->namelen ||
	    strncasecmp(c->user, m->name, m->namelen) != 0)
		return (0);
	if (m->stamp != NULL && strcmp(c->stamp, m->stamp) != 0)
		return (0);
	if (m->keep != NULL) {
		cmd_session_name(c, name, sizeof name);
		if (strcmp(name, m->keep) == 0)
			return (0);
	}
	return (1);
}

/*
 * A notification on channel roster_user (from any daemon): a user was
 * disabled or given another role, party or password. The payload is the
 * user's name, then, after a space, the session to keep (the one that
 * changed its own password) if any. The user's other sessions end here.
 */
void
cmd_session_user_changed(const char *payload)
{
	struct session_match m;
	const char	    *sp;

	if (payload == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.name = payload;
	if ((sp = strchr(payload, ' ')) != NULL) {
		m.namelen = (size_t)(sp - payload);
		m.keep = sp + 1;
	} else
		m.namelen = strlen(payload);
	conn_each_session(cmd_session_matches, &m);
}

static int
cmd_session_collect(struct conn *c, void *arg)
{
	struct session_list *s = arg;

	if (s->users.len > 0) {
		proto_buf_addch(&s->users, ',');
		proto_buf_addch(&s->stamps, ',');
	}
	proto_buf_addstr(&s->users, c->user);
	proto_buf_addstr(&s->stamps, c->stamp);
	return (0);
}

static void
cmd_session_recheck_later(void)
{
	struct timeval tv = { SESSION_RECHECK_RETRY, 0 };

	if (session_recheck_ev != NULL)
		evtimer_add(session_recheck_ev, &tv);
}

/* The answer of login_recheck: the sessions (user and stamp) that no
 * longer hold end. */
static void
cmd_session_rechecked(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct session_match m;
	int		     i, n;

	session_rechecking = 0;
	if (code != PROTO_OK) {
		log_warnx("sessions not checked again: %s; trying again", msg);
		cmd_session_recheck_later();
		return;
	}
	n = db_ntuples(res);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof m);
		m.name = db_value(res, i, 0);
		m.namelen = strlen(m.name);
		m.stamp = db_value(res, i, 1);
		conn_each_session(cmd_session_matches, &m);
	}
	log_info("sessions checked again: %d no longer hold", n);
	if (session_recheck_again) {
		session_recheck_again = 0;
		cmd_session_recheck();
	}
}

/*
 * Notifications on roster_user may have been missed (the listening
 * connection was lost, and is back): every open session's user is read
 * again, in one statement, and the sessions whose user is gone, disabled
 * or changed end. Tried again every second until it could be done.
 */
void
cmd_session_recheck(void)
{
	struct session_list s;
	const char	   *params[2];
	enum db_refusal	    why;

	if (session_rechecking) {
		session_recheck_again = 1;
		return;
	}
	proto_buf_init(&s.users);
	proto_buf_init(&s.stamps);
	conn_each_session(cmd_session_collect, &s);
	if (s.users.oom || s.stamps.oom) {
		log_warnx("sessions not checked again: out of memory; trying "
			  "again");
		cmd_session_recheck_later();
	} else if (s.users.len > 0) {
		params[0] = s.users.data;
		params[1] = s.stamps.data;
		session_rechecking = 1;
		why = db_query(NULL, stmt_login_recheck, 2, params,
		    cmd_session_rechecked, NULL);
		if (why != DB_QUEUED) {
			session_rechecking = 0;
			log_warnx("sessions not checked again: the database "
				  "cannot take it now; trying again");
			cmd_session_recheck_later();
		}
	}
	proto_buf_free(&s.users);
	proto_buf_free(&s.stamps);
}

static void
cmd_session_recheck_cb(evutil_socket_t fd, short what, void *arg)
{
	cmd_session_recheck();
}

void
cmd_session_init(void)
{
	unsigned char rnd[8];
	size_t	      i;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		fatalx("RAND_bytes failed");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(session_daemon + 2 * i, 3, "%02x", rnd[i]);
	if ((session_recheck_ev = evtimer_new(rd->base, cmd_session_recheck_cb,
		 NULL)) == NULL)
		fatalx("evtimer_new failed");
	stmt_cert_login = db_statement("SELECT * FROM roster.cert_login($1)",
	    1);
	stmt_password_set = db_statement("SELECT * FROM roster.password_set("
					 "$1, $2, $3, $4, $5, $6, $7)",
	    7);
	stmt_login_check = db_statement("SELECT * FROM "
					"roster.login_check($1, $2)",
	    2);
	stmt_login_done = db_statement("SELECT * FROM "
				       "roster.login_done($1, $2, $3)",
	    3);
	stmt_login_release = db_statement("SELECT roster.login_release($1)", 1);
	stmt_login_recheck = db_statement("SELECT * FROM "
					  "roster.login_recheck($1, $2)",
	    2);
	conn_established_hook(cmd_session_established);
}

static const struct cmd_key help_keys[] = {
	{ .name = "command", .type = KEY_COMMAND },
	CMD_KEYS_END,
};
static const struct cmd_key login_keys[] = {
	{ .name = "user", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "password", .type = KEY_SECRET, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key password_keys[] = {
	{ .name = "old", .type = KEY_SECRET, .flags = KEY_REQUIRED },
	{ .name = "new", .type = KEY_PASSWORD, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key use_keys[] = {
	{ .name = "event", .type = KEY_CODE, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_session_entries[] = {
	{
	    .name = "PING",
	    .roles = ROLE_ANYONE,
	    .handler = cmd_ping,
	},
	{
	    .name = "HELP",
	    .keys = help_keys,
	    .roles = ROLE_ANYONE,
	    .handler = cmd_help,
	},
	{
	    .name = "LOGIN",
	    .keys = login_keys,
	    .roles = ROLE_ANYONE,
	    .handler = cmd_login,
	},
	{
	    .name = "LOGOUT",
	    .roles = ROLE_ANY_USER,
	    .handler = cmd_logout,
	},
	{
	    .name = "WHOAMI",
	    .roles = ROLE_ANYONE,
	    .handler = cmd_whoami,
	},
	{
	    .name = "PASSWORD",
	    .keys = password_keys,
	    .roles = ROLE_ANY_USER,
	    .handler = cmd_password,
	},
	{
	    .name = "USE",
	    .keys = use_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "use",
	    .handler = cmd_use,
	},
	{
	    .name = "QUIT",
	    .roles = ROLE_ANYONE,
	    .handler = cmd_quit,
	},
	{ .name = NULL },
};
