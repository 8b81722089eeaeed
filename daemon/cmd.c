/*
 * cmd.c -- the command table. A request is looked up by its command words,
 * its user and role are checked against the entry, its keys against the
 * entry's key list (known, required, well-formed, a focal point's own
 * party), and only then does the handler run. Most commands need no handler
 * of their own: their entry names a SQL function, and cmd_exec sends it the
 * actor and the keys as one statement and writes the rows back as records.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rosterd.h"

/* The families, in the order HELP lists them. */
static const struct cmd_entry *const cmd_families[] = {
	cmd_session_entries,
	cmd_user_entries,
	cmd_event_entries,
	cmd_party_entries,
	cmd_delegation_entries,
	cmd_participant_entries,
	cmd_agenda_entries,
	cmd_export_entries,
	cmd_audit_entries,
	cmd_watch_entries,
};

#define CMD_MAX_ENTRIES 128

/* Every entry, and the statements registered for it (-1: none). */
static const struct cmd_entry *cmd_table[CMD_MAX_ENTRIES];
static int		       cmd_nentries;
static int		       cmd_stmt[CMD_MAX_ENTRIES];
static int		       cmd_dry_stmt[CMD_MAX_ENTRIES];

static const struct {
	enum role   role;
	const char *name;
} cmd_roles[] = {
	{ ROLE_ADMIN, "admin" },
	{ ROLE_SECRETARIAT, "secretariat" },
	{ ROLE_HOST, "host" },
	{ ROLE_FOCAL, "focal" },
};

const char *
role_name(enum role role)
{
	size_t i;

	for (i = 0; i < sizeof cmd_roles / sizeof cmd_roles[0]; i++)
		if (cmd_roles[i].role == role)
			return (cmd_roles[i].name);
	return ("-");
}

enum role
role_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof cmd_roles / sizeof cmd_roles[0]; i++)
		if (strcmp(cmd_roles[i].name, name) == 0)
			return (cmd_roles[i].role);
	return (ROLE_NONE);
}

static int
cmd_nkeys(const struct cmd_entry *e)
{
	int n = 0;

	while (e->keys != NULL && e->keys[n].name != NULL)
		n++;
	return (n);
}

/* The index of key name in e's keys, or -1. */
int
cmd_key_index(const struct cmd_entry *e, const char *name)
{
	int i;

	for (i = 0; e->keys != NULL && e->keys[i].name != NULL; i++)
		if (strcmp(e->keys[i].name, name) == 0)
			return (i);
	return (-1);
}

/* "PARTICIPANT ADD" -> "participant_add": what an entry's sql must be. */
static void
cmd_sql_name(const char *command, char *buf, size_t len)
{
	size_t i;

	for (i = 0; command[i] != '\0' && i < len - 1; i++)
		buf[i] = command[i] == ' ' ?
		    '_' :
		    (char)tolower((unsigned char)command[i]);
	buf[i] = '\0';
}

/* SELECT * FROM [roster.dry_run('f', ]roster.f($1 .. $n)[)] */
static int
cmd_register(const char *func, int n, int dry)
{
	struct proto_buf b;
	char		 arg[16];
	int		 j, stmt;

	proto_buf_init(&b);
	proto_buf_addstr(&b, "SELECT * FROM roster.");
	if (dry) {
		proto_buf_addstr(&b, "dry_run('");
		proto_buf_addstr(&b, func);
		proto_buf_addch(&b, '\'');
	} else {
		proto_buf_addstr(&b, func);
		proto_buf_addch(&b, '(');
	}
	for (j = 1; j <= n; j++) {
		snprintf(arg, sizeof arg, "%s$%d", j > 1 || dry ? ", " : "", j);
		proto_buf_addstr(&b, arg);
	}
	proto_buf_addch(&b, ')');
	if (b.oom)
		fatalx("out of memory");
	stmt = db_statement(b.data, n); /* kept for life */
	return (stmt);
}

/*
 * Collect the families' entries and register one statement per entry that
 * names a SQL function (and its dry run when it takes one). An entry that
 * breaks the table's rules is a bug: refuse to start.
 */
void
cmd_init(void)
{
	const struct cmd_entry *e;
	char			want[PROTO_MAX_COMMAND + 1];
	size_t			f;
	int			i, n;

	for (f = 0; f < sizeof cmd_families / sizeof cmd_families[0]; f++) {
		for (e = cmd_families[f]; e->name != NULL; e++) {
			if (cmd_nentries == CMD_MAX_ENTRIES)
				fatalx("too many commands");
			for (i = 0; i < cmd_nentries; i++)
				if (strcmp(cmd_table[i]->name, e->name) == 0)
					fatalx("command %s twice", e->name);
			if ((n = cmd_nkeys(e)) > CMD_MAX_KEYS)
				fatalx("%s: too many keys", e->name);
			cmd_sql_name(e->name, want, sizeof want);
			if (e->sql != NULL && strcmp(e->sql, want) != 0)
				fatalx("%s: its function must be named %s",
				    e->name, want);
			if (e->dry_run &&
			    (e->sql == NULL || e->reply != CMD_REPLY_FIELDS))
				fatalx("%s: a dry run needs a function that "
				       "answers fields",
				    e->name);
			i = cmd_nentries++;
			cmd_table[i] = e;
			cmd_stmt[i] = e->sql ?
			    cmd_register(e->sql, 3 + n, 0) :
			    -1;
			cmd_dry_stmt[i] = e->dry_run ?
			    cmd_register(e->sql, 3 + n, 1) :
			    -1;
			/* a write (one that can be dry run): it may share a
			 * transaction with others (group commit, db.c) */
			if (e->dry_run)
				db_batchable(cmd_stmt[i]);
			if (e->read) {
				if (e->dry_run || e->sql == NULL)
					fatalx("%s: only a function that "
					       "reads is marked read",
					    e->name);
				db_readonly(cmd_stmt[i]);
			}
			if (e->many != NULL) {
				if (!e->dry_run && !e->read)
					fatalx("%s: only a write or a read "
					       "takes many",
					    e->name);
				db_mergeable(cmd_stmt[i],
				    cmd_register(e->many, 3 + n, 0));
			}
		}
	}
	cmd_session_init();
	cmd_export_init();
	cmd_watch_init();
}

static int
cmd_find(const char *name)
{
	int i;

	for (i = 0; i < cmd_nentries; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return (i);
	return (-1);
}

/* The value of a key of the request, or NULL. */
const char *
cmd_arg(struct req *r, const char *key)
{
	const struct proto_arg *a = proto_request_arg(&r->preq, key);

	return (a != NULL ? a->value : NULL);
}

/* Check one value against its key's type; on failure write why. */
static int
cmd_check_value(const struct cmd_key *k, const struct proto_arg *a, char *why,
    size_t len)
{
	return (proto_check_value(k->type, k->name, k->choices,
	    (k->flags & KEY_REQUIRED) != 0, a->value, a->vlen, a->flags, why,
	    len));
}

/* Keys: every argument known, well-formed, the required ones present. */
static enum proto_code
cmd_check_keys(struct req *r, char *why, size_t len)
{
	const struct cmd_entry *e = r->cmd;
	const struct cmd_key   *k;
	const struct proto_arg *a;
	struct conn	       *c = r->conn;
	size_t			i;

	for (i = 0; i < r->preq.nargs; i++) {
		if (e->dry_run && strcmp(r->preq.args[i].key, "dry_run") == 0) {
			if (strcmp(r->preq.args[i].value, "yes") != 0) {
				snprintf(why, len, "dry_run: must be yes");
				return (PROTO_INVALID);
			}
			continue;
		}
		if (cmd_key_index(e, r->preq.args[i].key) == -1) {
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
				    k->name,
				    (k->flags & KEY_EVENT) ?
					" (or USE event=...)" :
					"");
				return (PROTO_SYNTAX);
			}
			continue;
		}
		if (cmd_check_value(k, a, why, len) == -1)
			return (PROTO_INVALID);
		if ((k->flags & KEY_OWN_PARTY) && c->role == ROLE_FOCAL &&
		    strcasecmp(a->value, c->party) != 0) {
			snprintf(why, len,
			    "%s: a focal point may only name "
			    "its own party",
			    k->name);
			return (PROTO_FORBIDDEN);
		}
	}
	return (PROTO_OK);
}

void
cmd_dispatch(struct req *r)
{
	const struct cmd_entry *e;
	struct conn	       *c = r->conn;
	enum proto_code		code;
	char			why[256];

	if ((r->cmdi = cmd_find(r->preq.command)) == -1) {
		log_escape(why, 64, r->preq.command, strlen(r->preq.command));
		req_err(r, PROTO_SYNTAX, "unknown command \"%s\"", why);
		return;
	}
	r->cmd = e = cmd_table[r->cmdi];
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
		cmd_exec(r, NULL, 0, NULL);
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
cmd_write_row(struct req *r, struct pg_result *res, int row, const char *prefix)
{
	struct proto_buf b;
	int		 i, n = db_nfields(res);

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
static void
cmd_sql_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req *r = arg;
	int	    i, n;

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
	struct req	*r = arg;
	struct proto_buf b;
	int		 i, n;

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

/* What the client is told when a statement could not be queued. */
static const struct {
	enum proto_code code;
	const char     *text;
} cmd_refusals[] = {
	[DB_QUEUED] = { PROTO_OK, "" },
	[DB_QUEUE_FULL] = { PROTO_BUSY, "too many requests in flight" },
	[DB_DOWN] = { PROTO_UNAVAILABLE,
	    "the database cannot be reached; "
	    "nothing was done" },
	[DB_NO_MEMORY] = { PROTO_INTERNAL, "out of memory" },
	[DB_TOO_MANY_COPIES] = { PROTO_BUSY,
	    "too many exports running; try "
	    "again shortly" },
	[DB_OWNER_FULL] = { PROTO_BUSY,
	    "too many requests of this connection waiting for the "
	    "database; nothing was done" },
	[DB_STOPPING] = { PROTO_UNAVAILABLE,
	    "the server is stopping; nothing was done" },
};

/*
 * The one way a command sends a statement: cb gets the result, and also
 * the failure when the statement cannot even be queued (then at once), so
 * that every failure is answered where every result is. The request's
 * connection is the statement's owner: the pool serves owners in turn.
 */
void
cmd_query(struct req *r, int stmt, int nparams, const char *const *params,
    db_cb cb)
{
	enum db_refusal why;

	r->waiting = 1;
	if ((why = db_query(r->conn, stmt, nparams, params, cb, r)) !=
	    DB_QUEUED)
		cb(r, NULL, cmd_refusals[why].code, cmd_refusals[why].text);
}

/* The same for an export: a statement, then a COPY streamed to row_cb. */
void
cmd_copy(struct req *r, int stmt, int nparams, const char *const *params,
    const char *copy_sql, db_row_cb row_cb, db_cb cb)
{
	enum db_refusal why;

	r->waiting = 1;
	if ((why = db_copy(r->conn, stmt, nparams, params, copy_sql, row_cb, cb,
		 r)) != DB_QUEUED)
		cb(r, NULL, cmd_refusals[why].code, cmd_refusals[why].text);
}

/*
 * Send the entry's statement: $1-$3 the actor (user, role, party), then one
 * parameter per key in the entry's order (NULL when absent; the event from
 * USE when the key allows). A handler may override values: over[i] for key
 * i when i < nover and over[i] != NULL. The reply is written by cb, or by
 * the generic reply (or the dry run's) when cb is NULL.
 */
void
cmd_exec(struct req *r, const char *const *over, int nover, db_cb cb)
{
	const struct cmd_entry *e = r->cmd;
	struct conn	       *c = r->conn;
	const char	       *params[3 + CMD_MAX_KEYS];
	int			i, n = cmd_nkeys(e), stmt = cmd_stmt[r->cmdi];

	params[0] = c->user;
	params[1] = role_name(c->role);
	params[2] = c->party[0] != '\0' ? c->party : NULL;
	for (i = 0; i < n; i++) {
		params[3 + i] = cmd_arg(r, e->keys[i].name);
		if (params[3 + i] == NULL && (e->keys[i].flags & KEY_EVENT) &&
		    c->event[0] != '\0')
			params[3 + i] = c->event;
		if (i < nover && over[i] != NULL)
			params[3 + i] = over[i];
	}
	if (e->reply == CMD_REPLY_RECORDS)
		req_large(r);
	if (cb == NULL && e->dry_run && cmd_arg(r, "dry_run") != NULL) {
		stmt = cmd_dry_stmt[r->cmdi];
		cb = cmd_dry_cb;
	}
	cmd_query(r, stmt, 3 + n, params, cb ? cb : cmd_sql_cb);
}

/* The key list of an entry as HELP's args shows it: "code= [venue=]". */
static void
cmd_help_args(struct proto_buf *b, const struct cmd_entry *e)
{
	const struct cmd_key *k;

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
	if (e->dry_run)
		proto_buf_addstr(b, " [dry_run=]");
}

/* The keys as HELP's keys shows them: "name:type[:required][:use][:own]
 * [:choices=a|b]", separated by spaces. */
static void
cmd_help_keys(struct proto_buf *b, const struct cmd_entry *e)
{
	const struct cmd_key *k;

	for (k = e->keys; k != NULL && k->name != NULL; k++) {
		if (k != e->keys)
			proto_buf_addch(b, ' ');
		proto_buf_addstr(b, k->name);
		proto_buf_addch(b, ':');
		proto_buf_addstr(b, proto_key_type_name(k->type));
		if (k->flags & KEY_REQUIRED)
			proto_buf_addstr(b, ":required");
		if (k->flags & KEY_EVENT)
			proto_buf_addstr(b, ":use");
		if (k->flags & KEY_OWN_PARTY)
			proto_buf_addstr(b, ":own");
		if (k->type == KEY_ENUM) {
			proto_buf_addstr(b, ":choices=");
			proto_buf_addstr(b, k->choices);
		}
	}
}

static void
cmd_help_roles(struct proto_buf *b, int roles)
{
	size_t i;
	int    first = 1;

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

/* The fields of a command's records, in order: its function's RETURNS
 * TABLE (sql/embed.sh reads them from the function files), for commands
 * that answer with records; NULL for the others. */
static const char *
cmd_help_fields(const struct cmd_entry *e)
{
	int i;

	if (e->sql == NULL ||
	    (e->reply != CMD_REPLY_RECORDS && e->reply != CMD_REPLY_ONE))
		return (NULL);
	for (i = 0; i < nfunction_fields; i++)
		if (strcmp(function_fields[i].name, e->sql) == 0)
			return (function_fields[i].fields);
	return (NULL);
}

/* HELP [command=WORDS]: one record per command. */
void
cmd_help(struct req *r)
{
	const char	       *want = cmd_arg(r, "command");
	char			name[PROTO_MAX_COMMAND + 1];
	struct proto_buf	line, args, roles, keys;
	const struct cmd_entry *e;
	size_t			i, j;
	const char	       *fields;
	int			n = 0, k;

	if (want != NULL) {
		/* upper-case, single spaces, as the parser writes names */
		for (i = j = 0; want[i] != '\0' && j < sizeof name - 1; i++) {
			if (want[i] == ' ' && (j == 0 || name[j - 1] == ' '))
				continue;
			name[j++] = (char)toupper((unsigned char)want[i]);
		}
		while (j > 0 && name[j - 1] == ' ')
			j--;
		name[j] = '\0';
		if (cmd_find(name) == -1) {
			req_err(r, PROTO_NOT_FOUND, "no such command");
			return;
		}
	}
	for (k = 0; k < cmd_nentries; k++) {
		e = cmd_table[k];
		if (want != NULL && strcmp(e->name, name) != 0)
			continue;
		proto_buf_init(&line);
		proto_buf_init(&args);
		proto_buf_init(&roles);
		proto_buf_init(&keys);
		cmd_help_args(&args, e);
		cmd_help_roles(&roles, e->roles);
		cmd_help_keys(&keys, e);
		proto_buf_addch(&line, '*');
		proto_buf_field(&line, "command", e->name, strlen(e->name));
		proto_buf_field(&line, "args", args.len ? args.data : "",
		    args.len);
		proto_buf_field(&line, "roles", roles.data, roles.len);
		proto_buf_field(&line, "keys", keys.len ? keys.data : "",
		    keys.len);
		proto_buf_addstr(&line,
		    e->dry_run ? " dry_run=yes" : " dry_run=no");
		if ((fields = cmd_help_fields(e)) != NULL)
			proto_buf_field(&line, "fields", fields,
			    strlen(fields));
		proto_buf_addch(&line, '\n');
		req_line(r, &line);
		proto_buf_free(&line);
		proto_buf_free(&args);
		proto_buf_free(&roles);
		proto_buf_free(&keys);
		n++;
	}
	req_printf(r, "OK count=%d\n", n);
	req_done(r);
}
