/*
 * output.c -- printing replies: an aligned table (the default on a
 * terminal), the raw lines ("records", the default otherwise), RFC 4180 CSV,
 * or JSON. Records are kept until the final line, since a table's widths and
 * a CSV header (the union of the records' keys) need all of them. Export
 * payload lines are written as they come, in every format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roster.h"

#define OUTPUT_BARE_KEY "result" /* CSV/JSON key for bare words */

void
output_init(struct output *o, enum output_format format, FILE *data)
{
	memset(o, 0, sizeof *o);
	o->format = format;
	o->data = data;
	o->errprefix = "roster: ";
}

static void
output_reset(struct output *o)
{
	size_t i, j;

	for (i = 0; i < o->nrecs; i++) {
		for (j = 0; j < o->recs[i].n; j++) {
			free(o->recs[i].keys[j]);
			free(o->recs[i].values[j]);
		}
		free(o->recs[i].keys);
		free(o->recs[i].values);
	}
	free(o->recs);
	for (i = 0; i < o->nkeys; i++)
		free(o->keys[i]);
	free(o->keys);
	o->recs = NULL;
	o->keys = NULL;
	o->nrecs = o->caprecs = o->nkeys = o->capkeys = 0;
	o->ndata = 0;
	o->oom = 0;
}

void
output_free(struct output *o)
{
	output_reset(o);
}

/* Decode one code point; returns its length in bytes (1 for a byte that
 * does not start well-formed UTF-8, with *cp set to U+FFFD). */
static size_t
output_utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	size_t	 n, i;

	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return (1);
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		goto bad;
	if (n > len)
		goto bad;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return (n);
bad:
	*cp = 0xfffd;
	return (1);
}

/* Columns a code point takes on a terminal: 0 for combining marks, 2 for
 * East Asian wide and full-width characters, else 1. Good enough, not
 * Unicode's full tables. */
static int
output_cpwidth(uint32_t c)
{
	static const uint32_t zero[][2] = {
		{ 0x0300, 0x036f },
		{ 0x0483, 0x0489 },
		{ 0x0591, 0x05bd },
		{ 0x0610, 0x061a },
		{ 0x064b, 0x065f },
		{ 0x0e31, 0x0e31 },
		{ 0x0e34, 0x0e3a },
		{ 0x1ab0, 0x1aff },
		{ 0x1dc0, 0x1dff },
		{ 0x200b, 0x200f },
		{ 0x20d0, 0x20ff },
		{ 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f },
	};
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f },
		{ 0x2e80, 0x303e },
		{ 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf },
		{ 0x4e00, 0x9fff },
		{ 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 },
		{ 0xf900, 0xfaff },
		{ 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 },
		{ 0xffe0, 0xffe6 },
		{ 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff },
		{ 0x20000, 0x3fffd },
	};
	size_t i;

	for (i = 0; i < sizeof zero / sizeof zero[0]; i++)
		if (c >= zero[i][0] && c <= zero[i][1])
			return (0);
	for (i = 0; i < sizeof wide / sizeof wide[0]; i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return (2);
	return (1);
}

/* Display width of a UTF-8 string as output_cell writes it. */
size_t
output_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t	     cp;
	size_t		     i = 0, w = 0;

	while (i < len) {
		i += output_utf8(p + i, len - i, &cp);
		if (cp == '\n' || cp == '\t' || cp == '\r')
			w += 2;
		else if (cp < 0x20 || cp == 0x7f)
			w += 1;
		else
			w += output_cpwidth(cp);
	}
	return (w);
}

/* A value in a table cell: LF, TAB and CR shown as \n, \t, \r, so that a
 * row stays on one line; other controls as '?'. */
static void
output_cell(FILE *f, const char *s, size_t pad)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else if (proto_is_ctl((unsigned char)*s))
			fputc('?', f);
		else
			fputc(*s, f);
	}
	while (pad-- > 0)
		fputc(' ', f);
}

void
output_json_string(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t	     cp;
	size_t		     i = 0, n;

	fputc('"', f);
	while (i < len) {
		n = output_utf8(p + i, len - i, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\u%04x", (unsigned int)cp);
		else if (cp == 0xfffd && n == 1)
			fputs("\\ufffd", f);
		else
			fwrite(p + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

/* RFC 4180: quoted when it holds a comma, a quote, CR or LF, or starts or
 * ends with a space; quotes doubled. */
void
output_csv_field(FILE *f, const char *s, size_t len)
{
	size_t i;

	if (len > 0 && strcspn(s, ",\"\r\n") == len && s[0] != ' ' &&
	    s[len - 1] != ' ') {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static void *
output_grow(struct output *o, void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void  *q;

	if (n < *cap)
		return (p);
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((q = reallocarray(p, ncap, size)) == NULL) {
		o->oom = 1;
		return (NULL);
	}
	*cap = ncap;
	return (q);
}

static int
output_add_key(struct output *o, const char *key)
{
	char **keys;
	size_t i;

	for (i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i], key) == 0)
			return (0);
	if ((keys = output_grow(o, o->keys, &o->capkeys, o->nkeys,
		 sizeof *keys)) == NULL)
		return (-1);
	o->keys = keys;
	if ((o->keys[o->nkeys] = strdup(key)) == NULL) {
		o->oom = 1;
		return (-1);
	}
	o->nkeys++;
	return (0);
}

/* Keep a record's fields; a bare word becomes a key with an empty value. */
static void
output_add_rec(struct output *o, const struct proto_reply *r)
{
	struct output_rec *recs, *rec;
	const char	  *key;
	size_t		   i;

	if ((recs = output_grow(o, o->recs, &o->caprecs, o->nrecs,
		 sizeof *recs)) == NULL)
		return;
	o->recs = recs;
	rec = &o->recs[o->nrecs];
	rec->n = 0;
	rec->keys = calloc(r->nfields ? r->nfields : 1, sizeof *rec->keys);
	rec->values = calloc(r->nfields ? r->nfields : 1, sizeof *rec->values);
	if (rec->keys == NULL || rec->values == NULL) {
		free(rec->keys);
		free(rec->values);
		o->oom = 1;
		return;
	}
	o->nrecs++;
	for (i = 0; i < r->nfields; i++) {
		key = r->fields[i].key;
		if (key == NULL) {
			key = r->fields[i].value;
			rec->values[rec->n] = strdup("");
		} else
			rec->values[rec->n] = strndup(r->fields[i].value,
			    r->fields[i].vlen);
		rec->keys[rec->n] = strdup(key);
		if (rec->keys[rec->n] == NULL || rec->values[rec->n] == NULL ||
		    output_add_key(o, key) == -1) {
			free(rec->keys[rec->n]);
			free(rec->values[rec->n]);
			o->oom = 1;
			return;
		}
		rec->n++;
	}
}

static const char *
output_rec_get(const struct output_rec *rec, const char *key)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (strcmp(rec->keys[i], key) == 0)
			return (rec->values[i]);
	return (NULL);
}

static void
output_table(struct output *o)
{
	size_t	   *w, i, j, vw, last;
	const char *v;

	if ((w = calloc(o->nkeys, sizeof *w)) == NULL) {
		o->oom = 1;
		return;
	}
	for (j = 0; j < o->nkeys; j++)
		w[j] = output_width(o->keys[j], strlen(o->keys[j]));
	for (i = 0; i < o->nrecs; i++) {
		for (j = 0; j < o->nkeys; j++) {
			if ((v = output_rec_get(&o->recs[i], o->keys[j])) ==
			    NULL)
				continue;
			if ((vw = output_width(v, strlen(v))) > w[j])
				w[j] = vw;
		}
	}
	for (j = 0; j < o->nkeys; j++)
		output_cell(stdout, o->keys[j],
		    j + 1 < o->nkeys ?
			w[j] + 2 -
			    output_width(o->keys[j], strlen(o->keys[j])) :
			0);
	putchar('\n');
	for (j = 0; j < o->nkeys; j++) {
		for (vw = 0; vw < w[j]; vw++)
			putchar('-');
		if (j + 1 < o->nkeys)
			fputs("  ", stdout);
	}
	putchar('\n');
	for (i = 0; i < o->nrecs; i++) {
		/* No padding after the last value of the row. */
		for (last = 0, j = 0; j < o->nkeys; j++)
			if ((v = output_rec_get(&o->recs[i], o->keys[j])) !=
				NULL &&
			    *v != '\0')
				last = j;
		for (j = 0; j <= last; j++) {
			if ((v = output_rec_get(&o->recs[i], o->keys[j])) ==
			    NULL)
				v = "";
			vw = output_width(v, strlen(v));
			output_cell(stdout, v, j < last ? w[j] + 2 - vw : 0);
		}
		putchar('\n');
	}
	free(w);
}

static void
output_csv(struct output *o)
{
	size_t	    i, j;
	const char *v;

	for (j = 0; j < o->nkeys; j++) {
		if (j > 0)
			putchar(',');
		output_csv_field(stdout, o->keys[j], strlen(o->keys[j]));
	}
	putchar('\n');
	for (i = 0; i < o->nrecs; i++) {
		for (j = 0; j < o->nkeys; j++) {
			if (j > 0)
				putchar(',');
			if ((v = output_rec_get(&o->recs[i], o->keys[j])) !=
			    NULL)
				output_csv_field(stdout, v, strlen(v));
		}
		putchar('\n');
	}
}

static void
output_json(struct output *o)
{
	struct output_rec *rec;
	size_t		   i, j;

	if (o->nrecs == 0) {
		puts("[]");
		return;
	}
	puts("[");
	for (i = 0; i < o->nrecs; i++) {
		rec = &o->recs[i];
		fputs("  {", stdout);
		for (j = 0; j < rec->n; j++) {
			if (j > 0)
				fputs(", ", stdout);
			output_json_string(stdout, rec->keys[j],
			    strlen(rec->keys[j]));
			fputs(": ", stdout);
			output_json_string(stdout, rec->values[j],
			    strlen(rec->values[j]));
		}
		fputs(i + 1 < o->nrecs ? "},\n" : "}\n", stdout);
	}
	puts("]");
}

/* The bare words of a final line, joined by spaces, in buf. */
static void
output_bare_words(const struct proto_reply *r, struct proto_buf *buf)
{
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		if (r->fields[i].key != NULL)
			continue;
		if (buf->len > 0)
			proto_buf_addch(buf, ' ');
		proto_buf_add(buf, r->fields[i].value, r->fields[i].vlen);
	}
}

/* A final OK line without records: one field a line in a table, a one-row
 * CSV, one JSON object. A "count" alone (an empty list) prints as a list. */
static void
output_final_fields(struct output *o, const struct proto_reply *r)
{
	struct proto_buf bare;
	const char	*sep = "";
	size_t		 i;

	proto_buf_init(&bare);
	output_bare_words(r, &bare);
	switch (o->format) {
	case OUTPUT_TABLE:
		if (r->nfields == 0)
			puts("OK");
		if (bare.len > 0)
			puts(bare.data);
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			printf("%s=", r->fields[i].key);
			output_cell(stdout, r->fields[i].value, 0);
			putchar('\n');
		}
		break;
	case OUTPUT_CSV:
		if (bare.len > 0) {
			output_csv_field(stdout, OUTPUT_BARE_KEY,
			    strlen(OUTPUT_BARE_KEY));
			sep = ",";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, stdout);
			output_csv_field(stdout, r->fields[i].key,
			    strlen(r->fields[i].key));
			sep = ",";
		}
		putchar('\n');
		sep = "";
		if (bare.len > 0) {
			output_csv_field(stdout, bare.data, bare.len);
			sep = ",";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, stdout);
			output_csv_field(stdout, r->fields[i].value,
			    r->fields[i].vlen);
			sep = ",";
		}
		putchar('\n');
		break;
	case OUTPUT_JSON:
		putchar('{');
		if (bare.len > 0) {
			output_json_string(stdout, OUTPUT_BARE_KEY,
			    strlen(OUTPUT_BARE_KEY));
			fputs(": ", stdout);
			output_json_string(stdout, bare.data, bare.len);
			sep = ", ";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, stdout);
			output_json_string(stdout, r->fields[i].key,
			    strlen(r->fields[i].key));
			fputs(": ", stdout);
			output_json_string(stdout, r->fields[i].value,
			    r->fields[i].vlen);
			sep = ", ";
		}
		puts("}");
		break;
	case OUTPUT_RECORDS:
		break;
	}
	proto_buf_free(&bare);
}

static int
output_only_count(const struct proto_reply *r)
{
	return (r->nfields == 1 && r->fields[0].key != NULL &&
	    strcmp(r->fields[0].key, "count") == 0);
}

/* Print a reply at its final OK line. */
static void
output_final_ok(struct output *o, const char *line, size_t len,
    const struct proto_reply *r)
{
	struct proto_reply rest;
	size_t		   i;

	if (o->ndata > 0 && o->data == stdout) {
		/* The payload went to stdout; keep it a clean file. */
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "roster: %.*s\n", (int)len, line);
		return;
	}
	if (o->format == OUTPUT_RECORDS) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
		return;
	}
	if (o->nrecs == 0 && !output_only_count(r)) {
		output_final_fields(o, r);
		return;
	}
	switch (o->format) {
	case OUTPUT_TABLE:
		if (o->nrecs == 0) {
			puts("(no records)");
			break;
		}
		output_table(o);
		/* Fields of the final line other than count, if any. */
		rest = *r;
		rest.nfields = 0;
		for (i = 0; i < r->nfields; i++)
			if (r->fields[i].key == NULL ||
			    strcmp(r->fields[i].key, "count") != 0)
				rest.fields[rest.nfields++] = r->fields[i];
		if (rest.nfields > 0)
			output_final_fields(o, &rest);
		break;
	case OUTPUT_CSV:
		if (o->nrecs > 0)
			output_csv(o);
		break;
	case OUTPUT_JSON:
		output_json(o);
		break;
	case OUTPUT_RECORDS:
		break;
	}
}

/*
 * Feed one line of a reply. Records are kept (or, as records, printed),
 * payload lines written, and the final line prints the whole reply.
 * Returns OUTPUT_MORE until the final line, then OUTPUT_OK or OUTPUT_ERR;
 * OUTPUT_BAD for a line that is not part of a reply.
 */
int
output_line(struct output *o, const char *line, size_t len)
{
	struct proto_reply r;
	int		   rv = OUTPUT_MORE;

	switch (proto_parse_reply(line, len, &r)) {
	case PROTO_LINE_RECORD:
		if (o->format == OUTPUT_RECORDS) {
			fwrite(line, 1, len, stdout);
			putchar('\n');
		} else
			output_add_rec(o, &r);
		break;
	case PROTO_LINE_DATA:
		fwrite(r.text, 1, r.textlen, o->data);
		fputc('\n', o->data);
		o->ndata++;
		break;
	case PROTO_LINE_NOTIFY:
		output_notify(o, line, len);
		break;
	case PROTO_LINE_OK:
		if (!o->keep)
			output_final_ok(o, line, len, &r);
		rv = OUTPUT_OK;
		break;
	case PROTO_LINE_ERR:
		fflush(stdout);
		fprintf(stderr, "%s%.*s\n", o->errprefix, (int)len, line);
		rv = OUTPUT_ERR;
		break;
	case PROTO_LINE_BAD:
		rv = OUTPUT_BAD;
		break;
	}
	proto_reply_free(&r);
	if ((rv == OUTPUT_OK && !o->keep) || rv == OUTPUT_ERR) {
		if (o->oom)
			fprintf(stderr,
			    "roster: out of memory: the reply "
			    "was not shown whole\n");
		output_reset(o);
		fflush(stdout);
	}
	return (rv);
}

/* 1 for a final line: "OK", "OK ...", "ERR ...". */
int
output_is_final(const char *line, size_t len)
{
	return ((len == 2 && memcmp(line, "OK", 2) == 0) ||
	    (len > 3 && memcmp(line, "OK ", 3) == 0) ||
	    (len > 4 && memcmp(line, "ERR ", 4) == 0));
}

/* For people: "14:05:09  checkin              TR       Elif Kaya  id=131
 * ...": the local time it arrived, the kind, the party, the name, then
 * the other fields. */
static void
output_notify_line(const char *line, size_t len)
{
	struct proto_reply	  r;
	const struct proto_field *party, *name;
	struct tm		  tm;
	time_t			  now = time(NULL);
	size_t			  i;

	if (proto_parse_reply(line, len, &r) != PROTO_LINE_NOTIFY) {
		proto_reply_free(&r);
		printf("%.*s\n", (int)len, line);
		return;
	}
	localtime_r(&now, &tm);
	party = proto_reply_field(&r, "party");
	name = proto_reply_field(&r, "name");
	printf("%02d:%02d:%02d  %-22.*s %-8.*s %.*s", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)r.textlen, r.text, party ? (int)party->vlen : 1,
	    party ? party->value : "-", name ? (int)name->vlen : 0,
	    name ? name->value : "");
	for (i = 0; i < r.nfields; i++) {
		if (&r.fields[i] == party || &r.fields[i] == name ||
		    r.fields[i].key == NULL)
			continue;
		printf("  %s=%.*s", r.fields[i].key, (int)r.fields[i].vlen,
		    r.fields[i].value);
	}
	putchar('\n');
	proto_reply_free(&r);
}

/* A notification line ("! kind k=v ..."), printed at once. */
void
output_notify(struct output *o, const char *line, size_t len)
{
	struct proto_reply r;
	size_t		   i;

	switch (o->format) {
	case OUTPUT_TABLE:
		output_notify_line(line, len);
		break;
	case OUTPUT_JSON:
		if (proto_parse_reply(line, len, &r) != PROTO_LINE_NOTIFY) {
			proto_reply_free(&r);
			break;
		}
		fputs("{\"kind\": ", stdout);
		output_json_string(stdout, r.text, r.textlen);
		for (i = 0; i < r.nfields; i++) {
			if (r.fields[i].key == NULL)
				continue;
			fputs(", ", stdout);
			output_json_string(stdout, r.fields[i].key,
			    strlen(r.fields[i].key));
			fputs(": ", stdout);
			output_json_string(stdout, r.fields[i].value,
			    r.fields[i].vlen);
		}
		puts("}");
		proto_reply_free(&r);
		break;
	case OUTPUT_RECORDS:
	case OUTPUT_CSV:
		printf("%.*s\n", (int)len, line);
		break;
	}
	fflush(stdout);
}
