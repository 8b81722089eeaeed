/*
 * cmd-session.c -- the commands of a session (PROTOCOL.md section 4): PING,
 * HELP, LOGIN, LOGOUT, WHOAMI, PASSWORD, USE, QUIT, and the login by client
 * certificate at connect time. Password checks run on the auth workers.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "rosterd.h"

/* The statements of the session commands' several steps. */
static int stmt_cert_login = -1;
static int stmt_password_set = -1;
static int stmt_login_check = -1;
static int stmt_login_failed = -1;

/* What LOGIN and PASSWORD learn about the user between their steps. */
struct login {
	char	  name[PROTO_MAX_CODE + 1];
	char	  party[PROTO_MAX_CODE + 1];
	enum role role;
	int	  known;
	int	  enabled;
	int	  limited; /* login_check: refused for a while */
	char	 *hash;
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
 * enabled[, limited]) into r->data; an unknown user has no row, or (from
 * login_check) a row with no name. */
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
	l->limited = db_nfields(res) > 5 &&
	    strcmp(db_value(res, 0, 5), "yes") == 0;
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
	return (0);
}

/* LOGIN and PASSWORD, first step: the user's record and whether logins
 * for the user or from the client's address are refused now. */
static void
cmd_login_lookup(struct req *r, const char *user, db_cb cb)
{
	const char *params[2];
	char	    host[64];

	params[0] = user;
	params[1] = conn_host(r->conn, host, sizeof host);
	cmd_query(r, stmt_login_check, 2, params, cb);
}

/* A wrong password is counted in the database (limits hold on every
 * daemon); then the request is answered, as failed. */
static void
cmd_login_counted(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req *r = arg;

	if (req_resume(r) == -1)
		return;
	if (code != PROTO_OK)
		log_warnx("conn=%llu failed login not counted: %s",
		    (unsigned long long)r->conn->id, msg);
	req_err(r, PROTO_AUTH_FAILED,
	    strcmp(r->cmd->name, "PASSWORD") == 0 ?
		"wrong password" :
		"wrong user or password");
}

static void
cmd_login_failed(struct req *r, const char *user)
{
	const char *params[2];
	char	    host[64];

	params[0] = user;
	params[1] = conn_host(r->conn, host, sizeof host);
	cmd_query(r, stmt_login_failed, 2, params, cmd_login_counted);
}

static void
cmd_ping(struct req *r)
{
	req_printf(r, "OK pong\n");
	req_done(r);
}

/* LOGIN, step 3: the password was checked. */
static void
cmd_login_checked(struct auth_job *job, void *arg)
{
	struct req	*r = arg;
	struct login	*l = r->data;
	struct conn	*c;
	struct proto_buf b;
	int		 ok = auth_result(job) == 0;

	auth_job_free(job);
	if (req_resume(r) == -1)
		return;
	c = r->conn;
	if (!ok || !l->known || !l->enabled) {
		char host[64];

		log_limited(LOG_LVL_NOTICE, "login failed",
		    conn_host(c, host, sizeof host),
		    "conn=%llu login failed user=%s addr=%s",
		    (unsigned long long)c->id, cmd_arg(r, "user"), c->addr);
		cmd_login_failed(r, cmd_arg(r, "user"));
		return;
	}
	snprintf(c->user, sizeof c->user, "%s", l->name);
	snprintf(c->party, sizeof c->party, "%s", l->party);
	c->role = l->role;
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

/* LOGIN, step 2: the user's row (or none) is here; verify off the loop.
 * An unknown or disabled user costs the same hash as a wrong password. */
static void
cmd_login_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req   *r = arg;
	struct login *l;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (cmd_login_row(r, res) == -1) {
		req_err(r, PROTO_INTERNAL, "out of memory");
		return;
	}
	l = r->data;
	if (l->limited) {
		cmd_wipe(r, "password");
		req_err(r, PROTO_RATE_LIMITED,
		    "too many failed logins; try "
		    "again in a minute");
		return;
	}
	r->waiting = 1;
	if (auth_verify(cmd_arg(r, "password"), l->hash, cmd_login_checked,
		r) == -1) {
		r->waiting = 0;
		req_err(r, PROTO_INTERNAL, "out of memory");
	}
	cmd_wipe(r, "password");
}

/* LOGIN, step 1: look the user up (and the limits). */
static void
cmd_login_start(struct req *r)
{
	cmd_login_lookup(r, cmd_arg(r, "user"), cmd_login_found);
}

/* LOGIN and USE change what the requests after them may do: those are
 * not read until the change is made (or refused). */
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

/* PASSWORD, step 4: the new hash is stored. */
static void
cmd_password_stored(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req *r = arg;

	if (cmd_result(r, code, msg) == -1)
		return;
	log_info("conn=%llu password changed user=%s",
	    (unsigned long long)r->conn->id, r->conn->user);
	req_printf(r, "OK\n");
	req_done(r);
}

/* PASSWORD, step 3: the new password is hashed. */
static void
cmd_password_hashed(struct auth_job *job, void *arg)
{
	struct req  *r = arg;
	struct conn *c;
	const char  *params[4];
	int	     ok = auth_result(job) == 0;

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
	params[0] = c->user;
	params[1] = role_name(c->role);
	params[2] = c->party[0] ? c->party : NULL;
	params[3] = auth_out_hash(job);
	cmd_query(r, stmt_password_set, 4, params, cmd_password_stored);
	auth_job_free(job);
}

/* PASSWORD, step 2: the old password was checked. */
static void
cmd_password_checked(struct auth_job *job, void *arg)
{
	struct req   *r = arg;
	struct login *l = r->data;
	int	      ok = auth_result(job) == 0;

	auth_job_free(job);
	if (req_resume(r) == -1)
		return;
	if (!ok || !l->known || !l->enabled) {
		cmd_wipe(r, "new");
		cmd_login_failed(r, r->conn->user);
		return;
	}
	r->waiting = 1;
	if (auth_hash(cmd_arg(r, "new"), cmd_password_hashed, r) == -1) {
		r->waiting = 0;
		req_err(r, PROTO_INTERNAL, "out of memory");
	}
	cmd_wipe(r, "new");
}

static void
cmd_password_found(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req *r = arg;

	if (cmd_result(r, code, msg) == -1)
		return;
	if (cmd_login_row(r, res) == -1) {
		req_err(r, PROTO_INTERNAL, "out of memory");
		return;
	}
	if (((struct login *)r->data)->limited) {
		cmd_wipe(r, "old");
		cmd_wipe(r, "new");
		req_err(r, PROTO_RATE_LIMITED,
		    "too many failed attempts; try "
		    "again in a minute");
		return;
	}
	r->waiting = 1;
	if (auth_verify(cmd_arg(r, "old"), ((struct login *)r->data)->hash,
		cmd_password_checked, r) == -1) {
		r->waiting = 0;
		req_err(r, PROTO_INTERNAL, "out of memory");
	}
	cmd_wipe(r, "old");
}

/* PASSWORD old= new=: check the old one, hash the new one, store it. */
static void
cmd_password(struct req *r)
{
	cmd_login_lookup(r, r->conn->user, cmd_password_found);
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

void
cmd_session_init(void)
{
	stmt_cert_login = db_statement("SELECT * FROM roster.cert_login($1)",
	    1);
	stmt_password_set = db_statement("SELECT * FROM "
					 "roster.password_set($1, $2, $3, $4)",
	    4);
	stmt_login_check = db_statement("SELECT * FROM "
					"roster.login_check($1, $2)",
	    2);
	stmt_login_failed = db_statement("SELECT roster.login_failed($1, $2)",
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
