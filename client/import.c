/*
 * import.c -- roster import KIND FILE: a spreadsheet's rows into the
 * event, one request per row, pipelined with a window of requests in
 * flight. The file is read as UTF-8 whatever its encoding (charset.c), cut
 * into rows (csv.c), its headers mapped to the keys of the kind's command
 * (colmap.c: --map, the keys' names, headers in English and French), every
 * cell trimmed. Which columns a kind accepts and which it needs come from
 * the server's HELP for its command. Each row is then compared with what
 * the server has (upsert.c): a row that matches a record is left alone
 * when nothing differs and updated (the kind's SET, under version=) when
 * something does; the others are added, with ref=imp-<HMAC of the row
 * under the event's import key> when the command takes ref=, so that
 * running the same import again adds nothing, while a ref cannot be
 * recomputed from the row by anyone without the key. Refused rows are
 * listed at the end with their line, the person and the value.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
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
#define IMPORT_SHOWN	60 /* bytes of a value quoted in a message */

static const struct import_kind import_kinds[] = {
	{ "parties", "PARTY ADD", NULL, NULL, "PARTY LIST", 0, NULL, "code",
	    NULL, "code" },
	{ "delegations", "DELEGATION REGISTER", NULL, NULL, "DELEGATION LIST",
	    1, "DELEGATION SET", "party", "party", "party" },
	{ "participants", "PARTICIPANT ADD", NULL, NULL, "PARTICIPANT LIST", 1,
	    "PARTICIPANT SET", NULL, "id", "name" },
	{ "sessions", "SESSION CREATE", NULL, NULL, "SESSION LIST", 1,
	    "SESSION SET", "code", "session", "code" },
	/* names looked up with PARTICIPANT LIST */
	{ "speakers", "SPEAKER ADD", "participant_name", "participant",
	    "SPEAKER LIST", 1, NULL, NULL, NULL, "participant_name" },
};

/* An event's import key (EVENT SHOW import_key=), for the refs of the
 * rows of that event. */
struct import_key {
	char	     *event;
	unsigned char key[IMPORT_KEY];
	int	      have; /* else: an unkeyed ref, as before 0.2 */
};

static void
import_free(struct import *im)
{
	size_t i, j;

	for (i = 0; i < im->nrows; i++) {
		for (j = 0; j < im->ncols; j++)
			free(im->rows[i].v[j]);
		free(im->rows[i].error);
	}
	free(im->rows);
	for (j = 0; j < im->ncols; j++)
		free(im->cols[j]);
	csv_free(&im->csv);
	free(im->columns);
	upsert_recs_free(&im->recs);
	upsert_recs_free(&im->parties);
	upsert_recs_free(&im->people);
	for (i = 0; i < im->nkeys; i++)
		free(im->keys[i].event);
	free(im->keys);
}

/* Refuse a row (not sent, or answered ERR) with a message. */
void
import_refuse(struct import_row *row, const char *fmt, ...)
{
	va_list ap;
	char	buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(row->error);
	row->error = strdup(buf);
	row->state = IMPORT_REFUSED;
	row->retry = 0;
}

/* The column of a key, or -1. */
ssize_t
import_col(const struct import *im, const char *key)
{
	size_t i;

	for (i = 0; i < im->ncols; i++)
		if (strcmp(im->cols[i], key) == 0)
			return (i);
	return (-1);
}

/* The event of a row: its event= cell, else --event; NULL for none. */
const char *
import_event(const struct import *im, const struct import_row *row)
{
	ssize_t col = import_col(im, "event");

	if (col != -1 && *row->v[col] != '\0')
		return (row->v[col]);
	return (im->r->event);
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
		if ((ev = import_event(im, &im->rows[i])) == NULL)
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

/* 1 for a column that is not sent with the kind's ADD. */
static int
import_not_added(const char *key)
{
	return (strcmp(key, "id") == 0 || strcmp(key, "version") == 0);
}

/*
 * ref=imp-<32 hex digits of HMAC-SHA256(K, D)>, where K is the row's
 * event's import key and D the first 16 bytes of SHA-256 over the kind and
 * the row's columns (as sent: trimmed, the party by its code) in name
 * order: the same content gives the same ref, and without K nobody can
 * tell which content a ref is of. D alone is the ref when the server gives
 * no key (it did not before migration 012, which keyed the stored refs of
 * that form the same way).
 */
static void
import_ref(const struct import *im, const struct import_row *row,
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
	for (i = 0; i < im->ncols; i++) {
		c = im->order[i];
		if (import_not_added(im->cols[c]))
			continue;
		proto_buf_add(&content, im->cols[c], strlen(im->cols[c]) + 1);
		proto_buf_add(&content, row->v[c], strlen(row->v[c]) + 1);
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

/* The SET of a row that matched a record: what names the record, the
 * columns that differ, version=. */
static void
import_set_request(struct import *im, const struct import_row *row,
    struct proto_buf *buf)
{
	const char *v, *event = NULL;
	ssize_t	    vcol = import_col(im, "version");
	size_t	    i;

	proto_buf_addstr(buf, im->set->name);
	if (import_col(im, "event") != -1)
		event = import_event(im, row);
	if (event != NULL)
		proto_buf_field(buf, "event", event, strlen(event));
	v = upsert_field(row->rec,
	    im->kind->ident == NULL ? "id" : im->kind->ident);
	proto_buf_field(buf, im->kind->set_ident, v ? v : "",
	    v ? strlen(v) : 0);
	for (i = 0; i < im->ncols; i++)
		if (row->changed & (1UL << i))
			proto_buf_field(buf, im->cols[i], row->v[i],
			    strlen(row->v[i]));
	v = vcol != -1 && *row->v[vcol] != '\0' ?
	    row->v[vcol] :
	    upsert_field(row->rec, "version");
	if (v != NULL && commands_key(im->set, "version") != NULL)
		proto_buf_field(buf, "version", v, strlen(v));
}

/* The request for row n in buf; -1 (row refused) when it cannot be
 * made. */
static int
import_request(struct import *im, size_t n, struct proto_buf *buf)
{
	struct import_row *row = &im->rows[n];
	const char	  *key, *v;
	size_t		   i;

	proto_buf_reset(buf);
	if (row->state == IMPORT_SET ||
	    (row->state == IMPORT_REFUSED && row->set))
		import_set_request(im, row, buf);
	else {
		proto_buf_addstr(buf, im->kind->command);
		for (i = 0; i < im->ncols; i++) {
			key = im->cols[i];
			v = row->v[i];
			if (*v == '\0' || import_not_added(key))
				continue; /* an empty cell: key left out */
			if (im->kind->alias != NULL &&
			    strcmp(key, im->kind->alias) == 0) {
				v = row->person;
				key = im->kind->alias_of;
			}
			proto_buf_field(buf, key, v, strlen(v));
		}
		if (im->ref)
			import_ref(im, row, buf);
	}
	if (im->r->dry_run) /* checked by the server, changes nothing */
		proto_buf_addstr(buf, " dry_run=yes");
	if (buf->oom) {
		import_refuse(row, "out of memory");
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

/*
 * The message of an ERR for a row: the server's text, and when it names a
 * key with what is wrong with it ("email: not an e-mail address"), the
 * value sent: email: "ivanov@" is not an e-mail address.
 */
static void
import_error(struct import *im, struct import_row *row,
    const struct proto_reply *rep, const char *line, size_t len)
{
	const char *text = line + 4, *colon, *v = NULL, *what;
	size_t	    klen, i;

	text += strcspn(text, " ");
	text += *text == ' ';
	colon = strstr(text, ": ");
	if (rep->code == PROTO_INVALID && colon != NULL) {
		klen = (size_t)(colon - text);
		for (i = 0; i < im->ncols; i++) {
			if (strlen(im->cols[i]) == klen &&
			    strncmp(im->cols[i], text, klen) == 0)
				v = row->v[i];
		}
	}
	if (v != NULL) {
		what = colon + 2;
		import_refuse(row, "%.*s: \"%.*s%s\" %s%s", (int)klen, text,
		    IMPORT_SHOWN, v, strlen(v) > IMPORT_SHOWN ? "..." : "",
		    strncmp(what, "not ", 4) == 0 ? "is " : "", what);
	} else
		import_refuse(row, "%.*s", (int)(len - 4), line + 4);
}

/* Record the final line answering a row. */
static void
import_answer(struct import *im, struct import_row *row, const char *line,
    size_t len)
{
	struct proto_reply	  rep;
	const struct proto_field *f;
	int			  set;

	set = row->state == IMPORT_SET ||
	    (row->state == IMPORT_REFUSED && row->set);
	switch (proto_parse_reply(line, len, &rep)) {
	case PROTO_LINE_OK:
		f = proto_reply_field(&rep, "replay");
		if (set)
			row->state = IMPORT_UPDATED;
		else if (f != NULL && strcmp(f->value, "1") == 0)
			row->state = IMPORT_UNCHANGED; /* added before */
		else
			row->state = IMPORT_ADDED;
		row->retry = 0;
		break;
	case PROTO_LINE_ERR:
		import_error(im, row, &rep, line, len);
		row->retry = rep.code == PROTO_BUSY ||
		    rep.code == PROTO_UNAVAILABLE;
		break;
	default:
		break;
	}
	row->set = set;
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
		import_answer(im, &im->rows[todo[answered]], line, len);
		answered++;
		(*done)++;
		import_progress(im, *done, 0);
	}
	proto_buf_free(&req);
	return (0);
}

/* The file as UTF-8 (--encoding, or by its byte order mark), cut into
 * rows. */
static int
import_read_file(struct import *im)
{
	FILE		*f;
	struct proto_buf data;
	char		 chunk[65536], err[256], *text = NULL;
	size_t		 n, tlen = 0;
	int		 rv = -1;

	csv_init(&im->csv);
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
		goto out;
	}
	if (charset_to_utf8(data.len ? data.data : "", data.len,
		im->r->encoding, &text, &tlen, err, sizeof err) == -1) {
		fprintf(stderr, "%s: %s\n", im->path, err);
		goto out;
	}
	if (csv_parse(&im->csv, text, tlen) == -1)
		fprintf(stderr, "%s:%zu: %s\n", im->path, im->csv.errline,
		    im->csv.err);
	else if (im->csv.nrows == 0)
		fprintf(stderr, "%s: no header row\n", im->path);
	else
		rv = 0;
out:
	fclose(f);
	free(text);
	proto_buf_free(&data);
	return (rv);
}

/* The summary on stderr, then the refused rows; the exit status. */
static int
import_report(struct import *im)
{
	size_t	    i, n[IMPORT_REFUSED + 1];
	ssize_t	    lcol = import_col(im, im->kind->label);
	const char *who;

	memset(n, 0, sizeof n);
	for (i = 1; i < im->nrows; i++)
		n[im->rows[i].state]++;
	/* A row still to send in a dry run is what the server would do. */
	if (im->r->dry_run)
		fprintf(stderr,
		    "roster: %s: %zu rows checked (dry run): would add %zu, "
		    "update %zu, leave %zu unchanged, refuse %zu\n",
		    im->path, im->nrows - 1, n[IMPORT_ADDED], n[IMPORT_UPDATED],
		    n[IMPORT_UNCHANGED], n[IMPORT_REFUSED]);
	else
		fprintf(stderr,
		    "roster: %s: %zu rows: added %zu, updated %zu, "
		    "unchanged %zu, refused %zu\n",
		    im->path, im->nrows - 1, n[IMPORT_ADDED], n[IMPORT_UPDATED],
		    n[IMPORT_UNCHANGED], n[IMPORT_REFUSED]);
	for (i = 1; i < im->nrows; i++) {
		if (im->rows[i].state != IMPORT_REFUSED)
			continue;
		who = lcol != -1 ? im->rows[i].v[lcol] : "";
		fprintf(stderr, "line %zu%s%s%s: %s\n", im->rows[i].line,
		    *who ? " (" : "", who, *who ? ")" : "",
		    im->rows[i].error != NULL ?
			im->rows[i].error :
			"out of memory");
	}
	return (n[IMPORT_REFUSED] > 0 ? ROSTER_EXIT_ERR : ROSTER_EXIT_OK);
}

/*
 * Connect, learn the command's keys from HELP and check the header against
 * them (before logging in, so that a wrong file costs no login), log in,
 * then read what the rows are compared with (upsert.c) and the events'
 * import keys.
 */
static int
import_connect(struct import *im)
{
	const struct commands *set;
	ssize_t		       src[IMPORT_MAX_COLS], given;
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
	if (im->kind->set != NULL)
		im->set = commands_find(set, im->kind->set);
	if (columns_header(im, src, &given) == -1)
		return (ROSTER_EXIT_FAIL);
	if (columns_rows(im, src, given) == -1) {
		fprintf(stderr, "roster: out of memory\n");
		return (ROSTER_EXIT_FAIL);
	}
	if ((rv = session_start(im->r)) != ROSTER_EXIT_OK)
		return (rv);
	if (upsert_load(im) == -1)
		return (ROSTER_EXIT_FAIL);
	if (im->ref && import_keys(im) == -1)
		return (ROSTER_EXIT_FAIL);
	return (ROSTER_EXIT_OK);
}

/* 1 when a row is (again) to be sent. */
static int
import_due(const struct import_row *row)
{
	return (row->state == IMPORT_ADD || row->state == IMPORT_SET ||
	    (row->state == IMPORT_REFUSED && row->retry));
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
		fprintf(stderr, "usage: roster import KIND FILE\n");
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
	upsert_classify(&im);
	if ((todo = calloc(im.nrows, sizeof *todo)) == NULL) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	im.bar = isatty(STDERR_FILENO);
	for (round = 0; round <= IMPORT_RETRIES; round++) {
		n = 0;
		for (i = 1; i < im.nrows; i++)
			if (import_due(&im.rows[i]))
				todo[n++] = i;
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
