/*
 * import.c -- roster import KIND FILE.csv: one request per row of a CSV
 * file (csv.c; the header row names the keys), pipelined with a window of
 * requests in flight. Which columns a kind accepts and which it needs come
 * from the server's HELP for its command; what is kept here is only which
 * kind maps to which command, and the column the CLI resolves itself (a
 * speaker's participant_name). Each row carries ref=imp-<HMAC of its
 * content under the event's import key> when the command takes ref=, so
 * that running the same import again adds nothing, while a ref cannot be
 * recomputed from the row by anyone without the key; parties, which have
 * no ref, are checked against PARTY LIST instead. Refused rows are listed
 * at the end.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "roster.h"

#define IMPORT_WINDOW	64 /* requests in flight */
#define IMPORT_MAX_FILE (64 * 1024 * 1024)
#define IMPORT_RETRIES	3  /* after BUSY, UNAVAILABLE */
#define IMPORT_BAR	30 /* progress bar width */
#define IMPORT_KEY	32 /* bytes of an event's import key */

struct import_kind {
	const char *name;
	const char *command;
	const char *alias;    /* a column the CLI turns into ... */
	const char *alias_of; /* ... this key */
};

static const struct import_kind import_kinds[] = {
	{ "parties", "PARTY ADD", NULL, NULL },
	{ "delegations", "DELEGATION REGISTER", NULL, NULL },
	{ "participants", "PARTICIPANT ADD", NULL, NULL },
	{ "sessions", "SESSION CREATE", NULL, NULL },
	/* names looked up with PARTICIPANT LIST */
	{ "speakers", "SPEAKER ADD", "participant_name", "participant" },
};

enum import_state {
	IMPORT_PENDING,
	IMPORT_ADDED,
	IMPORT_REPLAYED, /* answered replay=1: added by an earlier run */
	IMPORT_SKIPPED,	 /* exists already (parties) */
	IMPORT_REFUSED
};

/* What became of a row of the file (the same index in csv.rows). */
struct import_row {
	enum import_state state;
	char		 *error; /* "CODE text" when refused */
	int		  retry; /* BUSY or UNAVAILABLE */
};

/* An event's import key (EVENT SHOW import_key=), for the refs of the
 * rows of that event. */
struct import_key {
	char	     *event;
	unsigned char key[IMPORT_KEY];
	int	      have; /* else: an unkeyed ref, as before 0.2 */
};

/* A participant known by name, for speakers. */
struct import_person {
	char *name;
	char *id;
	int   declined;
};

struct import {
	struct roster		    *r;
	const struct import_kind    *kind;
	const struct commands_entry *cmd; /* from HELP */
	const char		    *path;
	struct csv		     csv;  /* [0]: the header */
	struct import_row	    *rows; /* as many as csv's */
	size_t			     nrows;
	char			    *columns; /* for messages */
	int			     ref;     /* cmd takes ref= */
	size_t			    *order;   /* columns by name */
	struct import_person	    *people;
	size_t			     npeople;
	size_t			     capeople;
	struct import_key	    *keys;
	size_t			     nkeys;
	int			     bar; /* show progress */
	long long		     lastbar;
	size_t			     total;
};

static void
import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->nrows; i++)
		free(im->rows[i].error);
	free(im->rows);
	csv_free(&im->csv);
	free(im->columns);
	free(im->order);
	for (i = 0; i < im->npeople; i++) {
		free(im->people[i].name);
		free(im->people[i].id);
	}
	free(im->people);
	for (i = 0; i < im->nkeys; i++)
		free(im->keys[i].event);
	free(im->keys);
}

static void
import_refuse(struct import_row *row, const char *fmt, const char *a,
    const char *b)
{
	char buf[512];

	snprintf(buf, sizeof buf, fmt, a, b);
	free(row->error);
	row->error = strdup(buf);
	row->state = IMPORT_REFUSED;
}

static ssize_t
import_col(const struct import *im, const char *name)
{
	const struct csv_row *h = &im->csv.rows[0];
	size_t		      i;

	for (i = 0; i < h->nfields; i++)
		if (strcmp(h->fields[i], name) == 0)
			return (i);
	return (-1);
}

static int
import_cmp_cols(const void *a, const void *b, void *arg)
{
	const struct import *im = arg;
	char *const	    *h = im->csv.rows[0].fields;

	return (strcmp(h[*(const size_t *)a], h[*(const size_t *)b]));
}

/* ref= and dry_run= are the CLI's to send, never a column. */
static int
import_own_key(const char *key)
{
	return (strcmp(key, "ref") == 0 || strcmp(key, "dry_run") == 0);
}

/* 1 when col names a key of the command, or the kind's alias. */
static int
import_known(const struct import *im, const char *col)
{
	if (im->kind->alias != NULL && strcmp(col, im->kind->alias) == 0)
		return (1);
	return (!import_own_key(col) && commands_key(im->cmd, col) != NULL);
}

/* The accepted columns, for messages: the command's keys in its order,
 * the alias after the key it stands for. */
static int
import_columns(struct import *im)
{
	struct proto_buf b;
	const char	*key;
	size_t		 i;

	proto_buf_init(&b);
	for (i = 0; i < im->cmd->nkeys; i++) {
		key = im->cmd->keys[i].name;
		if (import_own_key(key))
			continue;
		if (b.len > 0)
			proto_buf_addch(&b, ' ');
		proto_buf_addstr(&b, key);
		if (im->kind->alias_of != NULL &&
		    strcmp(key, im->kind->alias_of) == 0) {
			proto_buf_addch(&b, ' ');
			proto_buf_addstr(&b, im->kind->alias);
		}
	}
	im->columns = b.oom ? NULL : strdup(b.len ? b.data : "");
	proto_buf_free(&b);
	return (im->columns == NULL ? -1 : 0);
}

/* 1 when the command requires k and no column gives it. */
static int
import_missing(const struct import *im, const struct commands_key *k)
{
	return ((k->flags & COMMANDS_REQUIRED) && !import_own_key(k->name) &&
	    import_col(im, k->name) == -1);
}

/* Check the header row against the command's keys. */
static int
import_header(struct import *im)
{
	const struct csv_row	  *h = &im->csv.rows[0];
	const struct commands_key *k;
	const struct import_kind  *kind = im->kind;
	size_t			   i, j;
	int			   key, alias;

	if (import_columns(im) == -1) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	for (i = 0; i < h->nfields; i++) {
		if (!import_known(im, h->fields[i])) {
			fprintf(stderr,
			    "%s: unknown column \"%s\" for %s "
			    "(columns: %s)\n",
			    im->path, h->fields[i], kind->name, im->columns);
			return (-1);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(h->fields[i], h->fields[j]) == 0) {
				fprintf(stderr,
				    "%s: column \"%s\" given "
				    "twice\n",
				    im->path, h->fields[i]);
				return (-1);
			}
		}
	}
	for (i = 0; i < im->cmd->nkeys; i++) {
		k = &im->cmd->keys[i];
		if (!import_missing(im, k) || (k->flags & COMMANDS_USE) ||
		    (kind->alias_of != NULL &&
			strcmp(k->name, kind->alias_of) == 0))
			continue;
		fprintf(stderr, "%s: no column \"%s\"\n", im->path, k->name);
		return (-1);
	}
	if (kind->alias != NULL) {
		key = import_col(im, kind->alias_of) != -1;
		alias = import_col(im, kind->alias) != -1;
		k = commands_key(im->cmd, kind->alias_of);
		if ((key && alias) ||
		    (!key && !alias && k != NULL &&
			(k->flags & COMMANDS_REQUIRED))) {
			fprintf(stderr,
			    "%s: one of the columns %s or %s is "
			    "needed\n",
			    im->path, kind->alias, kind->alias_of);
			return (-1);
		}
	}
	/* The event: --event sends USE. */
	for (i = 0; im->r->event == NULL && i < im->cmd->nkeys; i++) {
		k = &im->cmd->keys[i];
		if (import_missing(im, k) && (k->flags & COMMANDS_USE)) {
			fprintf(stderr,
			    "roster: import %s needs --event CODE "
			    "(or an %s column)\n",
			    kind->name, k->name);
			return (-1);
		}
	}
	if (im->r->dry_run && !im->cmd->dry_run) {
		fprintf(stderr, "roster: %s does not take dry_run=yes\n",
		    im->cmd->name);
		return (-1);
	}
	im->ref = commands_key(im->cmd, "ref") != NULL;
	if ((im->order = calloc(h->nfields, sizeof *im->order)) == NULL)
		return (-1);
	for (i = 0; i < h->nfields; i++)
		im->order[i] = i;
	qsort_r(im->order, h->nfields, sizeof *im->order, import_cmp_cols, im);
	return (0);
}

/* The event of a row: its event= cell, else --event; NULL for none. */
static const char *
import_event(const struct import *im, const struct csv_row *row)
{
	ssize_t col = import_col(im, "event");

	if (col != -1 && (size_t)col < row->nfields && *row->fields[col])
		return (row->fields[col]);
	return (im->r->event);
}

/* The import key of an event, or NULL. */
static const struct import_key *
import_key_of(const struct import *im, const char *event)
{
	size_t i;

	for (i = 0; event != NULL && i < im->nkeys; i++)
		if (strcasecmp(im->keys[i].event, event) == 0)
			return (im->keys[i].have ? &im->keys[i] : NULL);
	return (NULL);
}

static int
import_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	return (-1);
}

/* n bytes from 2n lower-case hex digits; -1 when s is not that. */
static int
import_unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t i;
	int    hi, lo;

	if (len != 2 * n)
		return (-1);
	for (i = 0; i < n; i++) {
		hi = import_hexval(s[2 * i]);
		lo = import_hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return (-1);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (0);
}

/*
 * Read the import key of every event the rows name (EVENT SHOW). An event
 * that is unknown, or a server that gives no key, leaves its rows with
 * unkeyed refs (the server refuses the rows of an unknown event anyway).
 * -1 when the connection fails.
 */
static int
import_keys(struct import *im)
{
	struct net_conn		 *c = &im->r->conn;
	struct proto_buf	  req;
	struct proto_reply	  rep;
	const struct proto_field *f;
	struct import_key	 *k;
	const char		 *ev;
	char			 *line;
	size_t			  i, j, len;
	int			  kind, rv = 0;

	proto_buf_init(&req);
	for (i = 1; rv == 0 && i < im->nrows; i++) {
		if ((ev = import_event(im, &im->csv.rows[i])) == NULL)
			continue;
		for (j = 0; j < im->nkeys; j++)
			if (strcasecmp(im->keys[j].event, ev) == 0)
				break;
		if (j < im->nkeys)
			continue;
		k = reallocarray(im->keys, im->nkeys + 1, sizeof *k);
		if (k == NULL) {
			req.oom = 1;
			rv = -1;
			break;
		}
		im->keys = k;
		k = &im->keys[im->nkeys];
		memset(k, 0, sizeof *k);
		if ((k->event = strdup(ev)) == NULL) {
			req.oom = 1;
			rv = -1;
			break;
		}
		im->nkeys++;
		proto_buf_reset(&req);
		proto_buf_addstr(&req, "EVENT SHOW");
		proto_buf_field(&req, "event", ev, strlen(ev));
		if (req.oom) {
			rv = -1;
			break;
		}
		net_queue(c, req.data, req.len);
		for (;;) {
			if (net_read_line(c, &line, &len) != NET_LINE) {
				fprintf(stderr, "roster: %s\n", c->err);
				rv = -1;
				break;
			}
			kind = proto_parse_reply(line, len, &rep);
			if (kind == PROTO_LINE_RECORD &&
			    (f = proto_reply_field(&rep, "import_key")) !=
				NULL &&
			    import_unhex(f->value, f->vlen, k->key,
				sizeof k->key) == 0)
				k->have = 1;
			proto_reply_free(&rep);
			if (kind == PROTO_LINE_OK || kind == PROTO_LINE_ERR)
				break;
		}
	}
	if (rv == -1 && req.oom)
		fprintf(stderr, "roster: out of memory\n");
	proto_buf_free(&req);
	return (rv);
}

/*
 * ref=imp-<32 hex digits of HMAC-SHA256(K, D)>, where K is the row's
 * event's import key and D the first 16 bytes of SHA-256 over the kind and
 * the row's columns in name order: the same content gives the same ref,
 * and without K nobody can tell which content a ref is of. D alone is
 * the ref when the server gives no key (it did not before migration 012,
 * which keyed the stored refs of that form the same way).
 */
static void
import_ref(const struct import *im, const struct csv_row *row,
    struct proto_buf *buf)
{
	static const char	 hex[] = "0123456789abcdef";
	const struct import_key *k;
	struct proto_buf	 content;
	unsigned char		 d[EVP_MAX_MD_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int		 dlen = 0, mdlen = 0;
	char			 ref[PROTO_MAX_REF + 1] = "imp-";
	size_t			 i, c;

	proto_buf_init(&content);
	proto_buf_add(&content, im->kind->name, strlen(im->kind->name) + 1);
	for (i = 0; i < im->csv.rows[0].nfields; i++) {
		c = im->order[i];
		proto_buf_add(&content, im->csv.rows[0].fields[c],
		    strlen(im->csv.rows[0].fields[c]) + 1);
		proto_buf_add(&content, row->fields[c],
		    strlen(row->fields[c]) + 1);
	}
	k = import_key_of(im, import_event(im, row));
	if (content.oom ||
	    EVP_Digest(content.data, content.len, d, &dlen, EVP_sha256(),
		NULL) != 1 ||
	    dlen < 16)
		buf->oom = 1;
	else if (k == NULL) {
		memcpy(md, d, 16);
		mdlen = 16;
	} else if (HMAC(EVP_sha256(), k->key, sizeof k->key, d, 16, md,
		       &mdlen) == NULL)
		buf->oom = 1;
	if (!buf->oom && mdlen >= 16) {
		for (i = 0; i < 16; i++) {
			ref[4 + 2 * i] = hex[md[i] >> 4];
			ref[5 + 2 * i] = hex[md[i] & 0xf];
		}
		ref[4 + 2 * i] = '\0';
		proto_buf_field(buf, "ref", ref, strlen(ref));
	}
	proto_buf_free(&content);
}

/* The id of the participant with this name; NULL (row refused) when there
 * is none or more than one. */
static const char *
import_person(struct import *im, struct import_row *row, const char *name)
{
	const struct import_person *live = NULL, *gone = NULL;
	size_t			    i, nlive = 0, ngone = 0;

	for (i = 0; i < im->npeople; i++) {
		if (strcmp(im->people[i].name, name) != 0)
			continue;
		if (im->people[i].declined) {
			gone = &im->people[i];
			ngone++;
		} else {
			live = &im->people[i];
			nlive++;
		}
	}
	/* Someone who declined does not hide a namesake who did not. */
	if (nlive == 1)
		return (live->id);
	if (nlive == 0 && ngone == 1)
		return (gone->id);
	import_refuse(row,
	    nlive + ngone == 0 ?
		"NOT_FOUND no participant named \"%s\"%s" :
		"CONFLICT more than one participant named \"%s\"%s",
	    name, " (not sent)");
	return (NULL);
}

/* The request for row n in buf; -1 (row refused) when it cannot be
 * made. */
static int
import_request(struct import *im, size_t n, struct proto_buf *buf)
{
	const struct csv_row *h = &im->csv.rows[0], *cells;
	struct import_row    *row = &im->rows[n];
	const char	     *key, *v;
	char		      n1[32], n2[32];
	size_t		      i;

	cells = &im->csv.rows[n];
	proto_buf_reset(buf);
	if (cells->nfields != h->nfields) {
		/* a ragged row */
		snprintf(n1, sizeof n1, "%zu", cells->nfields);
		snprintf(n2, sizeof n2, "%zu", h->nfields);
		import_refuse(row,
		    "INVALID %s fields where the header has %s "
		    "(not sent)",
		    n1, n2);
		return (-1);
	}
	proto_buf_addstr(buf, im->kind->command);
	for (i = 0; i < h->nfields; i++) {
		key = h->fields[i];
		v = cells->fields[i];
		if (*v == '\0')
			continue; /* an empty cell: key left out */
		if (!proto_utf8_valid(v, strlen(v))) {
			import_refuse(row, "INVALID %s: not UTF-8%s", key,
			    " (not sent)");
			return (-1);
		}
		if (im->kind->alias != NULL &&
		    strcmp(key, im->kind->alias) == 0) {
			if ((v = import_person(im, row, v)) == NULL)
				return (-1);
			key = im->kind->alias_of;
		}
		proto_buf_field(buf, key, v, strlen(v));
	}
	if (im->ref)
		import_ref(im, cells, buf);
	if (im->r->dry_run) /* checked by the server, changes nothing */
		proto_buf_addstr(buf, " dry_run=yes");
	if (buf->oom) {
		import_refuse(row, "INTERNAL out of memory%s%s", "", "");
		return (-1);
	}
	return (0);
}

static long long
import_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
import_progress(struct import *im, size_t done, int last)
{
	static const char hashes[IMPORT_BAR + 1] =
	    "##############################";
	long long now;
	size_t	  n;

	if (!im->bar || im->total == 0)
		return;
	now = import_now();
	if (!last && now - im->lastbar < 100)
		return;
	im->lastbar = now;
	n = done * IMPORT_BAR / im->total;
	fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu", im->kind->name, (int)n,
	    hashes, (int)(IMPORT_BAR - n), "", done, im->total);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Record the final line answering a row. */
static void
import_answer(struct import_row *row, const char *line, size_t len)
{
	struct proto_reply	  rep;
	const struct proto_field *f;

	switch (proto_parse_reply(line, len, &rep)) {
	case PROTO_LINE_OK:
		f = proto_reply_field(&rep, "replay");
		row->state = f != NULL && strcmp(f->value, "1") == 0 ?
		    IMPORT_REPLAYED :
		    IMPORT_ADDED;
		row->retry = 0;
		break;
	case PROTO_LINE_ERR:
		row->retry = rep.code == PROTO_BUSY ||
		    rep.code == PROTO_UNAVAILABLE;
		free(row->error);
		row->error = strndup(line + 4, len - 4);
		row->state = IMPORT_REFUSED;
		break;
	default:
		break;
	}
	proto_reply_free(&rep);
}

/*
 * Send the rows listed in todo, keeping up to IMPORT_WINDOW requests in
 * flight; replies come in order. -1 when the connection fails.
 */
static int
import_send(struct import *im, size_t *todo, size_t n, size_t *done)
{
	struct net_conn *c = &im->r->conn;
	struct proto_buf req;
	size_t		 sent = 0, answered = 0, len;
	char		*line;
	int		 rv;

	proto_buf_init(&req);
	while (answered < sent || sent < n) {
		while (sent < n && sent - answered < IMPORT_WINDOW) {
			if (import_request(im, todo[sent], &req) == -1) {
				/* Refused before sending: drop it from todo. */
				memmove(todo + sent, todo + sent + 1,
				    (n - sent - 1) * sizeof *todo);
				n--;
				(*done)++;
				continue;
			}
			net_queue(c, req.data, req.len);
			sent++;
		}
		if (answered == sent)
			break;
		rv = net_read_line(c, &line, &len);
		if (rv != NET_LINE) {
			if (im->bar)
				fputc('\n', stderr);
			fprintf(stderr, "roster: %s\n",
			    rv == NET_INTR ? "interrupted" : c->err);
			proto_buf_free(&req);
			return (-1);
		}
		if (!output_is_final(line, len))
			continue; /* no records are expected */
		import_answer(&im->rows[todo[answered]], line, len);
		answered++;
		(*done)++;
		import_progress(im, *done, 0);
	}
	proto_buf_free(&req);
	return (0);
}

/* Read a list's records; fn is called with each. -1 on failure. */
static int
import_list(struct import *im, const char *request,
    int (*fn)(struct import *, const struct proto_reply *))
{
	struct net_conn	  *c = &im->r->conn;
	struct proto_reply rep;
	char		  *line;
	size_t		   len;
	int		   kind, rv;

	net_queue(c, request, strlen(request));
	for (;;) {
		if ((rv = net_read_line(c, &line, &len)) != NET_LINE) {
			fprintf(stderr, "roster: %s\n", c->err);
			return (-1);
		}
		kind = proto_parse_reply(line, len, &rep);
		rv = 0;
		if (kind == PROTO_LINE_RECORD)
			rv = fn(im, &rep);
		proto_reply_free(&rep);
		if (rv == -1) {
			fprintf(stderr, "roster: out of memory\n");
			return (-1);
		}
		if (kind == PROTO_LINE_OK)
			return (0);
		if (kind == PROTO_LINE_ERR) {
			fprintf(stderr, "roster: %s: %.*s\n", request, (int)len,
			    line);
			return (-1);
		}
	}
}

static int
import_add_person(struct import *im, const struct proto_reply *rep)
{
	const struct proto_field *id, *name, *status;
	struct import_person	 *p;

	id = proto_reply_field(rep, "id");
	name = proto_reply_field(rep, "name");
	status = proto_reply_field(rep, "status");
	if (id == NULL || name == NULL)
		return (0);
	if (im->npeople == im->capeople) {
		p = reallocarray(im->people, im->capeople + 256, sizeof *p);
		if (p == NULL)
			return (-1);
		im->people = p;
		im->capeople += 256;
	}
	p = &im->people[im->npeople];
	p->name = strndup(name->value, name->vlen);
	p->id = strndup(id->value, id->vlen);
	p->declined = status != NULL && strcmp(status->value, "declined") == 0;
	if (p->name == NULL || p->id == NULL) {
		free(p->name);
		free(p->id);
		return (-1);
	}
	im->npeople++;
	return (0);
}

/* A party code in the list: rows with that code are skipped. */
static int
import_skip_party(struct import *im, const struct proto_reply *rep)
{
	const struct proto_field *code;
	ssize_t			  col;
	size_t			  i;

	if ((code = proto_reply_field(rep, "code")) == NULL ||
	    (col = import_col(im, "code")) == -1)
		return (0);
	for (i = 1; i < im->nrows; i++) {
		if ((size_t)col < im->csv.rows[i].nfields &&
		    strcasecmp(im->csv.rows[i].fields[col], code->value) == 0)
			im->rows[i].state = IMPORT_SKIPPED;
	}
	return (0);
}

static int
import_read_file(struct import *im)
{
	FILE		*f;
	struct proto_buf data;
	char		 chunk[65536];
	size_t		 n;
	int		 rv;

	if ((f = fopen(im->path, "r")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", im->path, strerror(errno));
		return (-1);
	}
	proto_buf_init(&data);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 &&
	    data.len <= IMPORT_MAX_FILE)
		proto_buf_add(&data, chunk, n);
	if (ferror(f) || data.oom || data.len > IMPORT_MAX_FILE) {
		fprintf(stderr, "roster: %s: %s\n", im->path,
		    ferror(f)	 ? strerror(errno) :
			data.oom ? "out of memory" :
				   "file too large");
		fclose(f);
		proto_buf_free(&data);
		return (-1);
	}
	fclose(f);
	csv_init(&im->csv);
	rv = csv_parse(&im->csv, data.len ? data.data : "", data.len);
	proto_buf_free(&data);
	if (rv == -1)
		fprintf(stderr, "%s:%zu: %s\n", im->path, im->csv.errline,
		    im->csv.err);
	else if (im->csv.nrows == 0) {
		fprintf(stderr, "%s: no header row\n", im->path);
		rv = -1;
	} else if ((im->rows = calloc(im->csv.nrows, sizeof *im->rows)) ==
	    NULL) {
		fprintf(stderr, "roster: out of memory\n");
		rv = -1;
	} else
		im->nrows = im->csv.nrows;
	return (rv);
}

/* The summary on stderr; the exit status. */
static int
import_report(struct import *im)
{
	size_t i, added = 0, replayed = 0, skipped = 0, refused = 0;

	for (i = 1; i < im->nrows; i++) {
		switch (im->rows[i].state) {
		case IMPORT_ADDED:
			added++;
			break;
		case IMPORT_REPLAYED:
			replayed++;
			break;
		case IMPORT_SKIPPED:
			skipped++;
			break;
		case IMPORT_REFUSED:
			refused++;
			break;
		case IMPORT_PENDING:
			break;
		}
	}
	if (im->r->dry_run)
		fprintf(stderr,
		    "roster: %s: %zu rows checked (dry run): %zu "
		    "would be added",
		    im->path, im->nrows - 1, added);
	else
		fprintf(stderr, "roster: %s: %zu rows: %zu added", im->path,
		    im->nrows - 1, added);
	if (replayed > 0)
		fprintf(stderr, ", %zu imported before", replayed);
	if (skipped > 0)
		fprintf(stderr, ", %zu existing", skipped);
	fprintf(stderr, ", %zu refused\n", refused);
	for (i = 1; i < im->nrows; i++)
		if (im->rows[i].state == IMPORT_REFUSED)
			fprintf(stderr, "row %zu (line %zu): %s\n", i,
			    im->csv.rows[i].line,
			    im->rows[i].error != NULL ?
				im->rows[i].error :
				"INTERNAL out of memory");
	return (refused > 0 ? ROSTER_EXIT_ERR : ROSTER_EXIT_OK);
}

/*
 * Connect, learn the command's keys from HELP and check the header against
 * them (before logging in, so that a wrong file costs no login), log in,
 * then read what the rows need: the participants by name for speakers,
 * the parties that exist.
 */
static int
import_connect(struct import *im)
{
	const struct commands *set;
	int		       rv;

	if ((rv = session_connect(im->r, im->kind->command)) != ROSTER_EXIT_OK)
		return (rv);
	if ((set = session_commands(im->r)) == NULL)
		return (ROSTER_EXIT_FAIL);
	if ((im->cmd = commands_find(set, im->kind->command)) == NULL) {
		fprintf(stderr,
		    "roster: the server has no %s (for import "
		    "%s)\n",
		    im->kind->command, im->kind->name);
		return (ROSTER_EXIT_FAIL);
	}
	if (import_header(im) == -1)
		return (ROSTER_EXIT_FAIL);
	if ((rv = session_start(im->r)) != ROSTER_EXIT_OK)
		return (rv);
	if (im->kind->alias != NULL && import_col(im, im->kind->alias) != -1 &&
	    import_list(im, "PARTICIPANT LIST", import_add_person) == -1)
		return (ROSTER_EXIT_FAIL);
	if (strcmp(im->kind->name, "parties") == 0 &&
	    import_list(im, "PARTY LIST", import_skip_party) == -1)
		return (ROSTER_EXIT_FAIL);
	if (im->ref && import_keys(im) == -1)
		return (ROSTER_EXIT_FAIL);
	return (ROSTER_EXIT_OK);
}

int
import_run(struct roster *r)
{
	struct import im;
	size_t	     *todo = NULL, n, i, done;
	int	      rv = ROSTER_EXIT_FAIL, round;

	memset(&im, 0, sizeof im);
	im.r = r;
	if (r->argc != 3) {
		fprintf(stderr, "usage: roster import KIND FILE.csv\n");
		return (ROSTER_EXIT_FAIL);
	}
	for (i = 0; i < sizeof import_kinds / sizeof import_kinds[0]; i++)
		if (strcmp(r->argv[1], import_kinds[i].name) == 0)
			im.kind = &import_kinds[i];
	if (im.kind == NULL) {
		fprintf(stderr,
		    "roster: import: KIND is one of parties, "
		    "delegations, participants, sessions, speakers\n");
		return (ROSTER_EXIT_FAIL);
	}
	im.path = r->argv[2];
	if (import_read_file(&im) == -1)
		goto out;
	if ((rv = import_connect(&im)) != ROSTER_EXIT_OK)
		goto out;
	if ((todo = calloc(im.nrows, sizeof *todo)) == NULL) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	im.bar = isatty(STDERR_FILENO);
	for (round = 0; round <= IMPORT_RETRIES; round++) {
		n = 0;
		for (i = 1; i < im.nrows; i++) {
			if (im.rows[i].state == IMPORT_PENDING ||
			    (im.rows[i].state == IMPORT_REFUSED &&
				im.rows[i].retry))
				todo[n++] = i;
		}
		if (n == 0)
			break;
		if (round > 0) {
			fprintf(stderr,
			    "roster: %zu row(s) refused as busy or "
			    "unavailable; again in %d s\n",
			    n, 1 << round);
			sleep(1 << round);
		}
		im.total = n;
		done = 0;
		if (import_send(&im, todo, n, &done) == -1) {
			rv = ROSTER_EXIT_FAIL;
			goto out;
		}
		import_progress(&im, done, 1);
	}
	rv = import_report(&im);
out:
	free(todo);
	import_free(&im);
	return (rv);
}
