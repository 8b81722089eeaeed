/*
 * cmd.c -- the command table. A request is looked up by its command words,
 * its user and role are checked against the entry, its keys against the
 * entry's key list (known, required, well-formed, a focal point's own
 * party), and only then does the handler run. Most commands need no handler
 * of their own: their entry names a SQL function, and cmd_exec sends it the
 * actor and the keys as one statement and writes the rows back as records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rosterd.h"

static struct cmd_entry *cmd_table[] = {
	&cmd_ping_entry,
	&cmd_help_entry,
	&cmd_login_entry,
	&cmd_logout_entry,
	&cmd_whoami_entry,
	&cmd_password_entry,
	&cmd_use_entry,
	&cmd_quit_entry,
	&cmd_user_add_entry,
	&cmd_user_list_entry,
	&cmd_user_set_entry,
	&cmd_event_create_entry,
	&cmd_event_list_entry,
	&cmd_event_show_entry,
	&cmd_event_set_entry,
	&cmd_party_add_entry,
	&cmd_party_list_entry,
	&cmd_party_show_entry,
	&cmd_delegation_register_entry,
	&cmd_delegation_list_entry,
	&cmd_delegation_show_entry,
	&cmd_delegation_set_entry,
	&cmd_delegation_confirm_entry,
	&cmd_delegation_decline_entry,
	&cmd_participant_add_entry,
	&cmd_participant_list_entry,
	&cmd_participant_show_entry,
	&cmd_participant_set_entry,
	&cmd_participant_confirm_entry,
	&cmd_participant_decline_entry,
	&cmd_participant_erase_entry,
	&cmd_checkin_entry,
	&cmd_session_create_entry,
	&cmd_session_list_entry,
	&cmd_session_show_entry,
	&cmd_session_set_entry,
	&cmd_speaker_add_entry,
	&cmd_speaker_list_entry,
	&cmd_speaker_remove_entry,
	&cmd_enrol_entry,
	&cmd_unenrol_entry,
	&cmd_roster_entry,
	&cmd_export_entry,
	&cmd_audit_entry,
	&cmd_watch_entry,
	NULL
};

int	cmd_stmt_user_auth = -1;
int	cmd_stmt_user_password = -1;
int	cmd_stmt_login_check = -1;
int	cmd_stmt_login_failed = -1;

static const struct {
	enum role	 role;
	const char	*name;
} cmd_roles[] = {
	{ ROLE_ADMIN, "admin" },
	{ ROLE_SECRETARIAT, "secretariat" },
	{ ROLE_HOST, "host" },
	{ ROLE_FOCAL, "focal" },
};

const char *
role_name(enum role role)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_roles / sizeof cmd_roles[0]; i++)
		if (cmd_roles[i].role == role)
			return (cmd_roles[i].name);
	return ("-");
}

enum role
role_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_roles / sizeof cmd_roles[0]; i++)
		if (strcmp(cmd_roles[i].name, name) == 0)
			return (cmd_roles[i].role);
	return (ROLE_NONE);
}

static int
cmd_nkeys(const struct cmd_entry *e)
{
	int	n = 0;

	while (e->keys != NULL && e->keys[n].name != NULL)
		n++;
	return (n);
}

/* Register one statement per entry that names a SQL function:
 * SELECT * FROM func($1 .. $N), N = 3 actor parameters + the keys. */
void
cmd_init(void)
{
	struct cmd_entry	*e;
	struct proto_buf	 b;
	char			 arg[16];
	int			 i, j, n;

	for (i = 0; (e = cmd_table[i]) != NULL; i++) {
		e->stmt = e->dry_stmt = -1;
		if (e->sql == NULL)
			continue;
		n = 3 + cmd_nkeys(e);
		proto_buf_init(&b);
		proto_buf_addstr(&b, "SELECT * FROM ");
		proto_buf_addstr(&b, e->sql);
		proto_buf_addch(&b, '(');
		for (j = 1; j <= n; j++) {
			snprintf(arg, sizeof arg, "%s$%d", j > 1 ? ", " : "",
			    j);
			proto_buf_addstr(&b, arg);
		}
		proto_buf_addch(&b, ')');
		if (b.oom)
			fatalx("out of memory");
		e->stmt = db_statement(b.data, n);	/* kept for life */
		e->dry_stmt = -1;
		if (e->reply != CMD_REPLY_FIELDS ||
		    strncmp(e->sql, "roster.", 7) != 0)
			continue;
		/* the same call, checked and rolled back */
		proto_buf_init(&b);
		proto_buf_addstr(&b, "SELECT * FROM roster.dry_run('");
		proto_buf_addstr(&b, e->sql + 7);
		proto_buf_addch(&b, '\'');
		for (j = 1; j <= n; j++) {
			snprintf(arg, sizeof arg, ", $%d", j);
			proto_buf_addstr(&b, arg);
		}
		proto_buf_addch(&b, ')');
		if (b.oom)
			fatalx("out of memory");
		e->dry_stmt = db_statement(b.data, n);
	}
	cmd_export_init();
	cmd_watch_init();
	/* statements of the session commands' several steps */
	cmd_stmt_user_auth = db_statement("SELECT * FROM roster.cert_login($1)",
	    1);
	cmd_stmt_user_password = db_statement("SELECT * FROM "
	    "roster.password_set($1, $2, $3, $4)", 4);
	cmd_stmt_login_check = db_statement("SELECT * FROM "
	    "roster.login_check($1, $2)", 2);
	cmd_stmt_login_failed = db_statement("SELECT roster.login_failed($1, "
	    "$2)", 2);
}

const struct cmd_entry *
cmd_find(const char *name)
{
	int	i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return (cmd_table[i]);
	return (NULL);
}

/* The value of a key of the request, or NULL. */
const char *
cmd_arg(struct req *r, const char *key)
{
	const struct proto_arg	*a = proto_request_arg(&r->preq, key);

	return (a != NULL ? a->value : NULL);
}

/* Check one value against its key's type; on failure write why. */
static int
cmd_check_value(const struct cmd_key *k, const struct proto_arg *a,
    char *why, size_t len)
{
	const char	*v = a->value;
	size_t		 n = a->vlen;
	const char	*c, *e;

	if ((a->flags & PROTO_ARG_OTHER_CTL) ||
	    ((a->flags & PROTO_ARG_LF_TAB) && k->type != KEY_TEXT)) {
		snprintf(why, len, "%s: control characters are not allowed "
		    "here", k->name);
		return (-1);
	}
	/* "" for an optional text or number clears it (SET) */
	if (n == 0 && !(k->flags & KEY_REQUIRED) && (k->type == KEY_NAME ||
	    k->type == KEY_TEXT || k->type == KEY_LINE ||
	    k->type == KEY_EMAIL || k->type == KEY_COUNT))
		return (0);
	switch (k->type) {
	case KEY_CODE:
		if (proto_valid_code(v, n))
			return (0);
		snprintf(why, len, "%s: a code is 1-32 of A-Z a-z 0-9 _ . - "
		    "starting with a letter or digit", k->name);
		return (-1);
	case KEY_ID:
		if (proto_valid_uint(v, n, 1, INT64_MAX, NULL))
			return (0);
		snprintf(why, len, "%s: must be a positive integer", k->name);
		return (-1);
	case KEY_COUNT:
		if (proto_valid_uint(v, n, 0, 1000000, NULL))
			return (0);
		snprintf(why, len, "%s: must be an integer from 0 to 1000000",
		    k->name);
		return (-1);
	case KEY_NAME:
		if (proto_valid_name(v, n))
			return (0);
		snprintf(why, len, "%s: must be 1-%d characters", k->name,
		    PROTO_MAX_NAME);
		return (-1);
	case KEY_TEXT:
	case KEY_LINE:
		if (proto_valid_text(v, n, PROTO_MAX_TEXT))
			return (0);
		snprintf(why, len, "%s: at most %d characters", k->name,
		    PROTO_MAX_TEXT);
		return (-1);
	case KEY_DATE:
		if (proto_valid_date(v, n))
			return (0);
		snprintf(why, len, "%s: must be a date YYYY-MM-DD", k->name);
		return (-1);
	case KEY_TIME:
		if (proto_valid_time(v, n))
			return (0);
		snprintf(why, len, "%s: must be a time YYYY-MM-DDTHH:MM",
		    k->name);
		return (-1);
	case KEY_TIMESTAMP:
		if (proto_valid_timestamp(v, n))
			return (0);
		snprintf(why, len, "%s: must be a UTC time "
		    "YYYY-MM-DDTHH:MM:SSZ", k->name);
		return (-1);
	case KEY_EMAIL:
		if (proto_valid_email(v, n))
			return (0);
		snprintf(why, len, "%s: not an e-mail address", k->name);
		return (-1);
	case KEY_TZ:
		if (proto_valid_timezone(v, n))
			return (0);
		snprintf(why, len, "%s: must be a time zone such as "
		    "Europe/Istanbul", k->name);
		return (-1);
	case KEY_REF:
		if (proto_valid_ref(v, n))
			return (0);
		snprintf(why, len, "%s: 1-64 of A-Z a-z 0-9 _ . : -", k->name);
		return (-1);
	case KEY_PASSWORD:
		if (n <= PROTO_MAX_PASSWORD && proto_utf8_count(v, n) >=
		    PROTO_MIN_PASSWORD)
			return (0);
		snprintf(why, len, "%s: a password has at least %d characters",
		    k->name, PROTO_MIN_PASSWORD);
		return (-1);
	case KEY_SECRET:
		if (n > 0 && n <= PROTO_MAX_PASSWORD)
			return (0);
		snprintf(why, len, "%s: must be 1-%d bytes", k->name,
		    PROTO_MAX_PASSWORD);
		return (-1);
	case KEY_ENUM:
		for (c = k->choices; *c != '\0'; c = *e ? e + 1 : e) {
			e = c + strcspn(c, "|");
			if ((size_t)(e - c) == n && memcmp(c, v, n) == 0)
				return (0);
		}
		snprintf(why, len, "%s: must be one of %s", k->name,
		    k->choices);
		return (-1);
	case KEY_COMMAND:
		if (n > 0 && n <= PROTO_MAX_COMMAND)
			return (0);
		snprintf(why, len, "%s: not a command", k->name);
		return (-1);
	}
	snprintf(why, len, "%s: bad value", k->name);
	return (-1);
}

/* Keys: every argument known, well-formed, the required ones present. */
static enum proto_code
cmd_check_keys(struct req *r, char *why, size_t len)
{
	const struct cmd_entry	*e = r->cmd;
	const struct cmd_key	*k;
	const struct proto_arg	*a;
	struct conn		*c = r->conn;
	size_t			 i;

	for (i = 0; i < r->preq.nargs; i++) {
		if (e->dry_stmt != -1 &&
		    strcmp(r->preq.args[i].key, "dry_run") == 0) {
			if (strcmp(r->preq.args[i].value, "yes") != 0) {
				snprintf(why, len, "dry_run: must be yes");
				return (PROTO_INVALID);
			}
			continue;
		}
		for (k = e->keys; k != NULL && k->name != NULL; k++)
			if (strcmp(k->name, r->preq.args[i].key) == 0)
				break;
		if (k == NULL || k->name == NULL) {
			snprintf(why, len, "unknown key \"%s\" for %s",
			    r->preq.args[i].key, e->name);
			return (PROTO_SYNTAX);
		}
	}
	for (k = e->keys; k != NULL && k->name != NULL; k++) {
		a = proto_request_arg(&r->preq, k->name);
		if (a == NULL) {
			if ((k->flags & KEY_EVENT) && c->event[0] != '\0')
				continue;
			if (k->flags & KEY_REQUIRED) {
				snprintf(why, len, "missing key \"%s\"%s",
				    k->name, (k->flags & KEY_EVENT) ?
				    " (or USE event=...)" : "");
				return (PROTO_SYNTAX);
			}
			continue;
		}
		if (cmd_check_value(k, a, why, len) == -1)
			return (PROTO_INVALID);
		if ((k->flags & KEY_OWN_PARTY) && c->role == ROLE_FOCAL &&
		    strcasecmp(a->value, c->party) != 0) {
			snprintf(why, len, "%s: a focal point may only name "
			    "its own party", k->name);
			return (PROTO_FORBIDDEN);
		}
	}
	return (PROTO_OK);
}

void
cmd_dispatch(struct req *r)
{
	const struct cmd_entry	*e;
	struct conn		*c = r->conn;
	enum proto_code		 code;
	char			 why[256];

	if ((e = cmd_find(r->preq.command)) == NULL) {
		log_escape(why, 64, r->preq.command, strlen(r->preq.command));
		req_err(r, PROTO_SYNTAX, "unknown command \"%s\"", why);
		return;
	}
	r->cmd = e;
	if (!(e->roles & ROLE_ANYONE)) {
		if (c->role == ROLE_NONE) {
			req_err(r, PROTO_AUTH_REQUIRED, "log in first");
			return;
		}
		if (!(e->roles & c->role)) {
			req_err(r, PROTO_FORBIDDEN, "role %s may not run %s",
			    role_name(c->role), e->name);
			return;
		}
	}
	if ((code = cmd_check_keys(r, why, sizeof why)) != PROTO_OK) {
		req_err(r, code, "%s", why);
		return;
	}
	if (e->handler != NULL)
		e->handler(r);
	else
		cmd_exec(r, NULL, 0);
}

/* The start of every callback that gets a request back from the database:
 * -1 when it is done with (its client left, or it failed and is answered
 * here), 0 when the callback goes on with the result. */
int
cmd_result(struct req *r, enum proto_code code, const char *msg)
{
	if (req_resume(r) == -1)
		return (-1);
	if (code != PROTO_OK) {
		req_err(r, code, "%s", msg);
		return (-1);
	}
	return (0);
}

/* Write row i of res as fields named after its columns; NULLs left out. */
void
cmd_write_row(struct req *r, struct pg_result *res, int row,
    const char *prefix)
{
	struct proto_buf	b;
	int			i, n = db_nfields(res);

	proto_buf_init(&b);
	proto_buf_addstr(&b, prefix);
	for (i = 0; i < n; i++) {
		if (db_isnull(res, row, i))
			continue;
		proto_buf_field(&b, db_fname(res, i), db_value(res, row, i),
		    (size_t)db_getlength(res, row, i));
	}
	proto_buf_addch(&b, '\n');
	req_line(r, &b);
	proto_buf_free(&b);
}

/* The generic reply to an entry's statement. */
void
cmd_sql_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req	*r = arg;
	int		 i, n;

	if (cmd_result(r, code, msg) == -1)
		return;
	n = db_ntuples(res);
	switch (r->cmd->reply) {
	case CMD_REPLY_ONE:
		if (n != 1) {
			req_err(r, PROTO_NOT_FOUND, "not found");
			return;
		}
		/* FALLTHROUGH */
	case CMD_REPLY_RECORDS:
		for (i = 0; i < n; i++)
			cmd_write_row(r, res, i, "*");
		req_printf(r, "OK count=%d\n", n);
		break;
	case CMD_REPLY_FIELDS:
		if (n < 1) {
			req_err(r, PROTO_INTERNAL, "no result");
			return;
		}
		cmd_write_row(r, res, 0, "OK");
		break;
	case CMD_REPLY_BARE:
	case CMD_REPLY_CUSTOM:
		req_printf(r, "OK\n");
		break;
	}
	req_done(r);
}

/* The reply to a dry run: the fields the write would answer (rows of key
 * and value), and dry_run=yes. */
static void
cmd_dry_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req		*r = arg;
	struct proto_buf	 b;
	int			 i, n;

	if (cmd_result(r, code, msg) == -1)
		return;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK");
	n = db_ntuples(res);
	for (i = 0; i < n; i++)
		if (!db_isnull(res, i, 1))
			proto_buf_field(&b, db_value(res, i, 0),
			    db_value(res, i, 1),
			    (size_t)db_getlength(res, i, 1));
	proto_buf_addstr(&b, " dry_run=yes\n");
	req_line(r, &b);
	proto_buf_free(&b);
	req_done(r);
}

/*
 * Send the entry's statement: $1-$3 the actor (user, role, party), then one
 * parameter per key in the entry's order (NULL when absent; the event from
 * USE when the key allows). A handler may override values: over[i] for key
 * i when i < nover and over[i] != NULL. The reply is written by cb, or by
 * cmd_sql_cb when cb is NULL.
 */
static void
cmd_send(struct req *r, const char *const *over, int nover, db_cb cb)
{
	const struct cmd_entry	*e = r->cmd;
	struct conn		*c = r->conn;
	const char		*params[3 + CMD_MAX_KEYS];
	int			 i, n = cmd_nkeys(e), stmt = e->stmt;

	params[0] = c->user;
	params[1] = role_name(c->role);
	params[2] = c->party[0] != '\0' ? c->party : NULL;
	for (i = 0; i < n && i < CMD_MAX_KEYS; i++) {
		params[3 + i] = cmd_arg(r, e->keys[i].name);
		if (params[3 + i] == NULL && (e->keys[i].flags & KEY_EVENT) &&
		    c->event[0] != '\0')
			params[3 + i] = c->event;
		if (i < nover && over[i] != NULL)
			params[3 + i] = over[i];
	}
	r->waiting = 1;
	if (cmd_arg(r, "dry_run") != NULL && e->dry_stmt != -1 && cb == NULL) {
		stmt = e->dry_stmt;
		cb = cmd_dry_cb;
	}
	if (db_query(stmt, 3 + n, params, cb ? cb : cmd_sql_cb, r) == -1) {
		r->waiting = 0;
		if (db_busy())
			req_err(r, PROTO_UNAVAILABLE, "the database cannot be "
			    "reached; nothing was done");
		else
			req_err(r, PROTO_BUSY, "too many requests in flight");
	}
}

void
cmd_exec(struct req *r, const char *const *over, int nover)
{
	cmd_send(r, over, nover, NULL);
}

void
cmd_exec_cb(struct req *r, const char *const *over, int nover, db_cb cb)
{
	cmd_send(r, over, nover, cb);
}

/* The key list of an entry as HELP shows it: "code= title= [venue=]". */
static void
cmd_help_args(struct proto_buf *b, const struct cmd_entry *e)
{
	const struct cmd_key	*k;

	for (k = e->keys; k != NULL && k->name != NULL; k++) {
		if (k != e->keys)
			proto_buf_addch(b, ' ');
		if (!(k->flags & KEY_REQUIRED) || (k->flags & KEY_EVENT))
			proto_buf_addch(b, '[');
		proto_buf_addstr(b, k->name);
		proto_buf_addch(b, '=');
		if (!(k->flags & KEY_REQUIRED) || (k->flags & KEY_EVENT))
			proto_buf_addch(b, ']');
	}
	if (e->dry_stmt != -1)
		proto_buf_addstr(b, " [dry_run=]");
}

static void
cmd_help_roles(struct proto_buf *b, int roles)
{
	size_t	i;
	int	first = 1;

	if (roles & ROLE_ANYONE) {
		proto_buf_addstr(b, "anyone");
		return;
	}
	for (i = 0; i < sizeof cmd_roles / sizeof cmd_roles[0]; i++) {
		if (!(roles & cmd_roles[i].role))
			continue;
		if (!first)
			proto_buf_addch(b, ',');
		proto_buf_addstr(b, cmd_roles[i].name);
		first = 0;
	}
}

/* HELP [command=WORDS]: one record per command. */
void
cmd_help(struct req *r)
{
	const char		*want = cmd_arg(r, "command");
	char			 name[PROTO_MAX_COMMAND + 1];
	struct proto_buf	 line, args, roles;
	const struct cmd_entry	*e;
	size_t			 i, j;
	int			 n = 0;

	if (want != NULL) {
		/* upper-case, single spaces, as the parser writes names */
		for (i = j = 0; want[i] != '\0' && j < sizeof name - 1; i++) {
			if (want[i] == ' ' && (j == 0 || name[j - 1] == ' '))
				continue;
			name[j++] = (want[i] >= 'a' && want[i] <= 'z') ?
			    want[i] - 32 : want[i];
		}
		while (j > 0 && name[j - 1] == ' ')
			j--;
		name[j] = '\0';
		if (cmd_find(name) == NULL) {
			req_err(r, PROTO_NOT_FOUND, "no such command");
			return;
		}
	}
	for (i = 0; (e = cmd_table[i]) != NULL; i++) {
		if (want != NULL && strcmp(e->name, name) != 0)
			continue;
		proto_buf_init(&line);
		proto_buf_init(&args);
		proto_buf_init(&roles);
		cmd_help_args(&args, e);
		cmd_help_roles(&roles, e->roles);
		proto_buf_addch(&line, '*');
		proto_buf_field(&line, "command", e->name, strlen(e->name));
		proto_buf_field(&line, "args", args.len ? args.data : "",
		    args.len);
		proto_buf_field(&line, "roles", roles.data, roles.len);
		proto_buf_addch(&line, '\n');
		req_line(r, &line);
		proto_buf_free(&line);
		proto_buf_free(&args);
		proto_buf_free(&roles);
		n++;
	}
	req_printf(r, "OK count=%d\n", n);
	req_done(r);
}
