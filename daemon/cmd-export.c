/*
 * cmd-export.c -- EXPORT: a list as CSV or TSV, streamed. The statement
 * roster.export_args() hands the request's parameters to the session, then
 * a constant COPY (SELECT * FROM roster.export_WHAT(...)) TO STDOUT runs on
 * the same connection; each row is written as "= " lines as it arrives, and
 * reading from PostgreSQL pauses while the client's output is full, so that
 * memory does not grow with the size of the export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rosterd.h"

/* What may be exported: the choices of what=, each a function
 * roster.export_WHAT; written once, here. */
#define EXPORT_WHATS \
	"participants|attendance|delegations|speakers|sessions|enrolments"
#define EXPORT_MAX_WHAT 16
#define EXPORT_CHUNK	(32 * 1024)
static char *export_whats[EXPORT_MAX_WHAT];
static int   export_nwhat;
static char *export_sql[EXPORT_MAX_WHAT][2]; /* [what][tsv] */
static int   export_stmt = -1;

struct export
{
	long		 rows;	 /* COPY rows, the header included */
	struct proto_buf header; /* held until a data row or the end */
};

static void
export_free(void *arg)
{
	struct export *x = arg;

	proto_buf_free(&x->header);
	free(x);
}

static int
export_what(const char *what)
{
	int i;

	for (i = 0; i < export_nwhat; i++)
		if (strcmp(export_whats[i], what) == 0)
			return (i);
	return (-1);
}

/* Write one COPY row: one line of the file, or several when a quoted
 * field holds a line break. */
static void
export_lines(struct req *r, const char *p, const char *end)
{
	const char *nl;

	if (end > p && end[-1] == '\n')
		end--;
	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		req_write(r, "= ", 2);
		req_write(r, p, (size_t)((nl ? nl : end) - p));
		req_write(r, "\n", 1);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/*
 * A COPY row (data NULL: the end of what has arrived). The header row is
 * held back until the first data row or the end of the COPY: the export
 * functions check the request (event, party, role) before their first row,
 * and a refused export must answer with its error alone.
 */
static int
export_row_cb(void *arg, const char *data, int len)
{
	struct req    *r = arg;
	struct export *x = r->data;

	if (r->conn == NULL)
		return (0); /* the client left: read on, discard */
	if (data == NULL)   /* the end of what arrived: send it */
		return (x->rows > 1 && req_stream(r) > 0 ? 1 : 0);
	if (x->rows++ == 0) {
		proto_buf_add(&x->header, data, (size_t)len);
		return (0);
	}
	if (x->rows == 2)
		export_lines(r, x->header.data, x->header.data + x->header.len);
	export_lines(r, data, data + len);
	/* send in large pieces, not a TLS record per row */
	if (req_pending(r) < EXPORT_CHUNK)
		return (0);
	return (req_stream(r) > 0 ? 1 : 0);
}

/* The client left with the export waiting or streaming: end it, rather
 * than hold a database connection (and its snapshot) to read it out. */
static void
export_gone(struct req *r)
{
	r->on_drain = NULL;
	r->on_gone = NULL;
	db_copy_cancel(r); /* answers r, which frees it */
}

/* The client's output drained: read on. (conn.c also calls this for a
 * request whose client has gone.) */
static void
export_drain(struct req *r)
{
	if (r->conn == NULL)
		export_gone(r);
	else
		db_copy_resume(r);
}

static void
export_done_cb(void *arg, struct pg_result *res, enum proto_code code,
    const char *msg)
{
	struct req    *r = arg;
	struct export *x = r->data;

	r->on_drain = NULL;
	r->on_gone = NULL;
	if (cmd_result(r, code, msg) == -1)
		return;
	if (x->rows == 1) /* the header alone: no data row */
		export_lines(r, x->header.data, x->header.data + x->header.len);
	req_printf(r, "OK rows=%ld\n", x->rows > 0 ? x->rows - 1 : 0);
	req_done(r);
}

static void
export_start(struct req *r)
{
	struct conn   *c = r->conn;
	struct export *x;
	const char    *params[7], *fmt = cmd_arg(r, "format");
	int	       w = export_what(cmd_arg(r, "what"));

	if ((x = calloc(1, sizeof *x)) == NULL) {
		req_err(r, PROTO_INTERNAL, "out of memory");
		return;
	}
	proto_buf_init(&x->header);
	r->data = x;
	r->data_free = export_free;
	params[0] = c->user;
	params[1] = role_name(c->role);
	params[2] = c->party[0] ? c->party : NULL;
	params[3] = cmd_arg(r, "event") ? cmd_arg(r, "event") : c->event;
	params[4] = cmd_arg(r, "party");
	params[5] = cmd_arg(r, "session");
	params[6] = cmd_arg(r, "status");
	r->on_drain = export_drain;
	r->on_gone = export_gone;
	cmd_copy(r, export_stmt, 7, params,
	    export_sql[w][fmt != NULL && strcmp(fmt, "tsv") == 0],
	    export_row_cb, export_done_cb);
}

static void
cmd_export(struct req *r)
{
	if (r->conn->role == ROLE_HOST &&
	    strcmp(cmd_arg(r, "what"), "attendance") != 0) {
		req_err(r, PROTO_FORBIDDEN,
		    "role host may export only "
		    "attendance");
		return;
	}
	req_barrier(r, export_start);
}

/* Build the constant COPY statements and register the parameter step. */
void
cmd_export_init(void)
{
	const char *p, *e;
	int	    i, tsv;

	for (p = EXPORT_WHATS; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "|");
		if (export_nwhat == EXPORT_MAX_WHAT ||
		    (export_whats[export_nwhat] = strndup(p, e - p)) == NULL)
			fatalx("export kinds");
		export_nwhat++;
	}
	for (i = 0; i < export_nwhat; i++) {
		for (tsv = 0; tsv < 2; tsv++) {
			if (asprintf(&export_sql[i][tsv],
				"COPY (SELECT * FROM "
				"roster.export_%s(roster.export_arg(1), "
				"roster.export_arg(2), roster.export_arg(3), "
				"roster.export_arg(4), roster.export_arg(5), "
				"roster.export_arg(6), roster.export_arg(7))) TO "
				"STDOUT (FORMAT %s, HEADER%s)",
				export_whats[i], tsv ? "text" : "csv",
				tsv ? ", NULL ''" : "") == -1)
				fatalx("out of memory");
		}
	}
	export_stmt = db_statement("SELECT roster.export_args($1, $2, $3, "
				   "$4, $5, $6, $7)",
	    7);
}

static const struct cmd_key export_keys[] = {
	{ .name = "what",
	    .type = KEY_ENUM,
	    .flags = KEY_REQUIRED,
	    .choices = EXPORT_WHATS },
	{ .name = "format", .type = KEY_ENUM, .choices = "csv|tsv" },
	{ .name = "party", .type = KEY_CODE, .flags = KEY_OWN_PARTY },
	{ .name = "session", .type = KEY_CODE },
	{ .name = "status",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_STATUS "|enrolled|waitlisted" },
	CMD_KEY_EVENT,
	CMD_KEYS_END,
};

const struct cmd_entry cmd_export_entries[] = {
	{
	    .name = "EXPORT",
	    .keys = export_keys,
	    .roles = ROLES_STAFF,
	    .handler = cmd_export,
	},
	{ .name = NULL },
};
