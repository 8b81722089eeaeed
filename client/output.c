/*
 * output.c -- printing replies: an aligned table (the default on a
 * terminal; table.c), the raw lines ("records", the default otherwise),
 * RFC 4180 CSV, or JSON (counts as numbers, yes/no as booleans). Records
 * are kept until the final line, since a table's widths and a CSV header
 * need all of them; columns come in the order of the command's fields
 * (HELP fields=), then any other key. On a terminal the reply is built in
 * memory first and goes through the pager when it has more lines than
 * the screen. Export payload lines are written as they come.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>

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
	o->pager = 1;
	o->cli_hints = 1;
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

/* The next character of s (len > 0): its length in bytes, and in *width
 * the columns it takes as output_text writes it (LF, TAB and CR as two,
 * \n \t \r; other controls as one, '?'). */
size_t
output_char(const char *s, size_t len, size_t *width)
{
	uint32_t cp;
	size_t	 n;

	n = output_utf8((const unsigned char *)s, len, &cp);
	if (cp == '\n' || cp == '\t' || cp == '\r')
		*width = 2;
	else if (cp < 0x20 || cp == 0x7f)
		*width = 1;
	else
		*width = output_cpwidth(cp);
	return (n);
}

/* Display width of a UTF-8 string as output_text writes it. */
size_t
output_width(const char *s, size_t len)
{
	size_t i = 0, w = 0, cw;

	while (i < len) {
		i += output_char(s + i, len - i, &cw);
		w += cw;
	}
	return (w);
}

/* Text in a table: LF, TAB and CR shown as \n, \t, \r, so that a row
 * stays on its lines; other controls as '?'. */
void
output_text(FILE *f, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			fputs("\\n", f);
		else if (s[i] == '\t')
			fputs("\\t", f);
		else if (s[i] == '\r')
			fputs("\\r", f);
		else if (proto_is_ctl((unsigned char)s[i]))
			fputc('?', f);
		else
			fputc(s[i], f);
	}
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

static int
output_has_key(const struct output *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i], key) == 0)
			return (1);
	return (0);
}

/*
 * The columns of the records, in order: the command's fields (HELP's
 * fields=) first, those some record has (every one with all, so that a
 * CSV's header does not depend on the rows), then the keys no field
 * names, in the order met. The strings point into o->keys and *buf, which
 * the caller frees with the array. NULL when out of memory.
 */
static char **
output_columns(struct output *o, int all, size_t *n, char **buf)
{
	char **cols, *w, *save;
	size_t i, j, cap = o->nkeys + 1;

	*n = 0;
	*buf = NULL;
	if (o->fields != NULL) {
		if ((*buf = strdup(o->fields)) == NULL)
			return (NULL);
		for (w = *buf; *w != '\0'; w++)
			cap += *w == ' ';
		cap++;
	}
	if ((cols = calloc(cap, sizeof *cols)) == NULL) {
		free(*buf);
		*buf = NULL;
		return (NULL);
	}
	if (*buf != NULL)
		for (w = strtok_r(*buf, " ", &save); w != NULL;
		     w = strtok_r(NULL, " ", &save))
			if (all || output_has_key(o, w))
				cols[(*n)++] = w;
	for (i = 0; i < o->nkeys; i++) {
		for (j = 0; j < *n; j++)
			if (strcmp(cols[j], o->keys[i]) == 0)
				break;
		if (j == *n)
			cols[(*n)++] = o->keys[i];
	}
	return (cols);
}

/* The terminal's size when stdout is one; 0 for what is not known. */
static void
output_terminal(size_t *cols, size_t *rows)
{
	struct winsize ws;
	const char    *env;

	*cols = *rows = 0;
	if (!isatty(STDOUT_FILENO))
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
	if (*cols == 0 && (env = getenv("COLUMNS")) != NULL)
		*cols = (size_t)strtoul(env, NULL, 10);
}

/* The fields whose values are counts or ids: numbers in JSON when they
 * look like one (checked_in is a time in some lists, a count in others). */
static const char *const output_numbers[] = {
	"id",
	"participant",
	"count",
	"version",
	"quota",
	"size",
	"confirmed",
	"capacity",
	"enrolled",
	"waitlisted",
	"position",
	"checked_in",
};

/* A value in JSON: a number for a count that is one, true and false for
 * yes and no, else a string. */
static void
output_json_value(FILE *f, const char *key, const char *v, size_t len)
{
	size_t i;

	if (len == 3 && memcmp(v, "yes", 3) == 0) {
		fputs("true", f);
		return;
	}
	if (len == 2 && memcmp(v, "no", 2) == 0) {
		fputs("false", f);
		return;
	}
	for (i = 0; i < sizeof output_numbers / sizeof output_numbers[0]; i++)
		if (strcmp(output_numbers[i], key) == 0)
			break;
	if (i < sizeof output_numbers / sizeof output_numbers[0] &&
	    proto_valid_uint(v, len, 0, (1ULL << 53) - 1, NULL)) {
		fwrite(v, 1, len, f);
		return;
	}
	output_json_string(f, v, len);
}

static void
output_json_pair(FILE *f, const char *key, const char *v, size_t len)
{
	output_json_string(f, key, strlen(key));
	fputs(": ", f);
	output_json_value(f, key, v, len);
}

static void
output_csv(struct output *o, FILE *f)
{
	const char *v;
	char	  **cols, *buf;
	size_t	    i, j, n;

	if ((cols = output_columns(o, 1, &n, &buf)) == NULL) {
		o->oom = 1;
		return;
	}
	for (j = 0; j < n; j++) {
		if (j > 0)
			fputc(',', f);
		output_csv_field(f, cols[j], strlen(cols[j]));
	}
	fputc('\n', f);
	for (i = 0; i < o->nrecs; i++) {
		for (j = 0; j < n; j++) {
			if (j > 0)
				fputc(',', f);
			if ((v = output_rec_get(&o->recs[i], cols[j])) != NULL)
				output_csv_field(f, v, strlen(v));
		}
		fputc('\n', f);
	}
	free(cols);
	free(buf);
}

static void
output_json(struct output *o, FILE *f)
{
	const char *v;
	char	  **cols, *buf;
	size_t	    i, j, n, k;

	if (o->nrecs == 0) {
		fputs("[]\n", f);
		return;
	}
	if ((cols = output_columns(o, 0, &n, &buf)) == NULL) {
		o->oom = 1;
		return;
	}
	fputs("[\n", f);
	for (i = 0; i < o->nrecs; i++) {
		fputs("  {", f);
		for (k = j = 0; j < n; j++) {
			if ((v = output_rec_get(&o->recs[i], cols[j])) == NULL)
				continue;
			if (k++ > 0)
				fputs(", ", f);
			output_json_pair(f, cols[j], v, strlen(v));
		}
		fputs(i + 1 < o->nrecs ? "},\n" : "}\n", f);
	}
	fputs("]\n", f);
	free(cols);
	free(buf);
}

static void
output_table(struct output *o, FILE *f, size_t width)
{
	char **cols, *buf;
	size_t n;

	if ((cols = output_columns(o, 0, &n, &buf)) == NULL) {
		o->oom = 1;
		return;
	}
	table_print(f, cols, n, o->recs, o->nrecs, width, o->expanded);
	free(cols);
	free(buf);
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
output_final_fields(struct output *o, const struct proto_reply *r, FILE *f)
{
	struct proto_buf bare;
	const char	*sep = "";
	size_t		 i;

	proto_buf_init(&bare);
	output_bare_words(r, &bare);
	switch (o->format) {
	case OUTPUT_TABLE:
		if (r->nfields == 0)
			fputs("OK\n", f);
		if (bare.len > 0)
			fprintf(f, "%s\n", bare.data);
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fprintf(f, "%s=", r->fields[i].key);
			output_text(f, r->fields[i].value, r->fields[i].vlen);
			fputc('\n', f);
		}
		break;
	case OUTPUT_CSV:
		if (bare.len > 0) {
			output_csv_field(f, OUTPUT_BARE_KEY,
			    strlen(OUTPUT_BARE_KEY));
			sep = ",";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, f);
			output_csv_field(f, r->fields[i].key,
			    strlen(r->fields[i].key));
			sep = ",";
		}
		fputc('\n', f);
		sep = "";
		if (bare.len > 0) {
			output_csv_field(f, bare.data, bare.len);
			sep = ",";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, f);
			output_csv_field(f, r->fields[i].value,
			    r->fields[i].vlen);
			sep = ",";
		}
		fputc('\n', f);
		break;
	case OUTPUT_JSON:
		fputc('{', f);
		if (bare.len > 0) {
			output_json_string(f, OUTPUT_BARE_KEY,
			    strlen(OUTPUT_BARE_KEY));
			fputs(": ", f);
			output_json_string(f, bare.data, bare.len);
			sep = ", ";
		}
		for (i = 0; i < r->nfields; i++) {
			if (r->fields[i].key == NULL)
				continue;
			fputs(sep, f);
			output_json_pair(f, r->fields[i].key,
			    r->fields[i].value, r->fields[i].vlen);
			sep = ", ";
		}
		fputs("}\n", f);
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

/* The pager's command: $PAGER, else less -FRSX; NULL for none ($PAGER
 * empty). */
static const char *
output_pager(void)
{
	const char *p = getenv("PAGER");

	if (p == NULL)
		return ("less -FRSX");
	return (*p == '\0' ? NULL : p);
}

/* The reply printed for people: through the pager when it has more lines
 * than the terminal has rows, else to stdout. */
static void
output_show(const char *text, size_t len, size_t rows, int pager)
{
	const char *cmd;
	FILE	   *p;
	size_t	    i, lines = 0;
	int	    st;

	for (i = 0; i < len; i++)
		lines += text[i] == '\n';
	if (pager && rows > 0 && lines >= rows &&
	    (cmd = output_pager()) != NULL) {
		fflush(stdout);
		if ((p = popen(cmd, "w")) != NULL) {
			fwrite(text, 1, len, p);
			st = pclose(p);
			/* a pager that could not be run: print it here */
			if (st == -1 || !WIFEXITED(st) ||
			    WEXITSTATUS(st) != 127)
				return;
		}
	}
	fwrite(text, 1, len, stdout);
}

/* Print a reply at its final OK line. */
static void
output_final_ok(struct output *o, const char *line, size_t len,
    const struct proto_reply *r)
{
	struct proto_reply rest;
	FILE		  *f;
	char		  *text = NULL;
	size_t		   i, tlen = 0, cols, rows;

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
	output_terminal(&cols, &rows);
	if (rows == 0 || (f = open_memstream(&text, &tlen)) == NULL)
		f = stdout;
	if (o->nrecs == 0 && !output_only_count(r))
		output_final_fields(o, r, f);
	else
		switch (o->format) {
		case OUTPUT_TABLE:
			output_table(o, f, cols);
			/* Fields of the final line other than count. */
			rest = *r;
			rest.nfields = 0;
			for (i = 0; i < r->nfields; i++)
				if (r->fields[i].key == NULL ||
				    strcmp(r->fields[i].key, "count") != 0)
					rest.fields[rest.nfields++] =
					    r->fields[i];
			if (rest.nfields > 0)
				output_final_fields(o, &rest, f);
			break;
		case OUTPUT_CSV:
			output_csv(o, f);
			break;
		case OUTPUT_JSON:
			output_json(o, f);
			break;
		case OUTPUT_RECORDS:
			break;
		}
	if (f != stdout) {
		if (fclose(f) == 0)
			output_show(text, tlen, rows, o->pager);
		free(text);
	}
}

/* ERR CODE text, as JSON on stderr: {"error": {"code": …, "message": …}}. */
static void
output_json_error(const char *line, size_t len)
{
	size_t i = 4, c;

	for (c = i; c < len && line[c] != ' '; c++)
		;
	fputs("{\"error\": {\"code\": ", stderr);
	output_json_string(stderr, line + i, c - i);
	fputs(", \"message\": ", stderr);
	if (c < len)
		c++;
	output_json_string(stderr, line + c, len - c);
	fputs("}}\n", stderr);
}

/* The server's words for the shell's USE, and the CLI's for the same. */
#define OUTPUT_USE_HINT " (or USE event=...)"
#define OUTPUT_CLI_HINT " (give --event CODE, or event=CODE)"

/* An ERR line on stderr: as received (after errprefix), or as JSON; in
 * the CLI (not the shell), a hint of USE becomes one of --event. */
static void
output_err(struct output *o, const char *line, size_t len)
{
	struct proto_buf b;
	const char	*hint;
	size_t		 n = strlen(OUTPUT_USE_HINT);

	proto_buf_init(&b);
	if (o->cli_hints &&
	    (hint = memmem(line, len, OUTPUT_USE_HINT, n)) != NULL) {
		proto_buf_add(&b, line, hint - line);
		proto_buf_addstr(&b, OUTPUT_CLI_HINT);
		proto_buf_add(&b, hint + n, len - (hint - line) - n);
		if (!b.oom) {
			line = b.data;
			len = b.len;
		}
	}
	if (o->format == OUTPUT_JSON)
		output_json_error(line, len);
	else
		fprintf(stderr, "%s%.*s\n", o->errprefix, (int)len, line);
	proto_buf_free(&b);
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
		output_err(o, line, len);
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
			output_json_pair(stdout, r.fields[i].key,
			    r.fields[i].value, r.fields[i].vlen);
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
