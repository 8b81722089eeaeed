/*
 * fuzz_csv.c -- libFuzzer target for csv_parse (client/csv.c), the CSV
 * reader of roster import.
 *
 * A refusal must name a line of the text and say what is wrong. Rows must
 * be what the text can hold: a known separator, lines in order and inside
 * the text, no blank row, no more fields or bytes than the text has. Then
 * the rows are written again as CSV, twice (every field quoted; and quoted
 * only when it must be), and each text must read back to the same rows (but
 * for a CRLF in a cell, read as LF), on the lines the writing puts them. Any
 * difference aborts; ASan counts what is not freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "fuzz_csv: %s: [%.*s]\n", what, (int)len, s);
	abort();
}

/* The lines of d[0..len) as csv.c counts them: LF, and a CR at the end. */
static size_t
fuzz_lines(const char *d, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		if (d[i] == '\n' || (d[i] == '\r' && i + 1 == len))
			n++;
	return (n);
}

static size_t
fuzz_count(const char *d, size_t len, char c)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += d[i] == c;
	return (n);
}

static void
fuzz_rows(const struct csv *csv, const char *d, size_t len)
{
	const struct csv_row *row;
	size_t		      i, j, bytes = 0, seps = 0, lines;

	if (csv->sep != ',' && csv->sep != ';' && csv->sep != '\t')
		fuzz_fail("separator", d, len);
	if (csv->nrows > csv->caprows || (csv->nrows > 0 && csv->rows == NULL))
		fuzz_fail("row array", d, len);
	lines = fuzz_lines(d, len);
	for (i = 0; i < csv->nrows; i++) {
		row = &csv->rows[i];
		if (row->line < 1 || row->line > lines ||
		    (i > 0 && row->line <= csv->rows[i - 1].line))
			fuzz_fail("row line", d, len);
		if (row->nfields < 1 ||
		    (row->nfields == 1 && row->fields[0][0] == '\0'))
			fuzz_fail("a blank row kept", d, len);
		seps += row->nfields - 1;
		for (j = 0; j < row->nfields; j++)
			bytes += strlen(row->fields[j]);
	}
	if (bytes > len || seps > fuzz_count(d, len, csv->sep))
		fuzz_fail("more than the text holds", d, len);
}

/* 1 when a field must be quoted: it holds a quote, a line end or any of
 * the separators (so that the header names the same one), or it is the
 * first of the text and starts like a byte order mark. */
static int
fuzz_must_quote(const char *f, int first)
{
	return (strpbrk(f, "\",;\t\r\n") != NULL ||
	    (first && strncmp(f, "\xef\xbb\xbf", 3) == 0));
}

/* The rows as CSV: quoted all, or only where they must be. The separator is
 * the reader's, but ',' for a header of one field (nothing to tell). */
static void
fuzz_write(const struct csv *csv, int all, struct proto_buf *b)
{
	const struct csv_row *row;
	const char	     *f;
	size_t		      i, j;
	char		      sep;

	sep = csv->nrows > 0 && csv->rows[0].nfields > 1 ? csv->sep : ',';
	for (i = 0; i < csv->nrows; i++) {
		row = &csv->rows[i];
		for (j = 0; j < row->nfields; j++) {
			if (j > 0)
				proto_buf_addch(b, sep);
			f = row->fields[j];
			if (!all && !fuzz_must_quote(f, i == 0 && j == 0)) {
				proto_buf_addstr(b, f);
				continue;
			}
			proto_buf_addch(b, '"');
			for (; *f != '\0'; f++) {
				if (*f == '"')
					proto_buf_addch(b, '"');
				proto_buf_addch(b, *f);
			}
			proto_buf_addch(b, '"');
		}
		/* LF and CRLF in turn: both end a record */
		proto_buf_addstr(b, i % 2 ? "\r\n" : "\n");
	}
	if (b->oom)
		abort();
}

/* 1 when a field read again is the field written: the same but for a CR
 * before an LF, which the reader drops (a CRLF in a cell is an LF; "\r\r\n"
 * is read as CR CRLF, and so written again as CRLF). */
static int
fuzz_same(const char *again, const char *was)
{
	for (; *was != '\0'; was++) {
		if (was[0] == '\r' && was[1] == '\n')
			continue;
		if (*again++ != *was)
			return (0);
	}
	return (*again == '\0');
}

/* Read the written text again: the same rows, each on the line after the
 * line ends of the rows before it. */
static void
fuzz_again(const struct csv *csv, int all)
{
	struct csv	      again;
	struct proto_buf      b;
	const struct csv_row *r, *s;
	size_t		      i, j, line = 1;

	proto_buf_init(&b);
	fuzz_write(csv, all, &b);
	csv_init(&again);
	if (csv_parse(&again, b.len ? b.data : "", b.len) != 0)
		fuzz_fail(again.err, b.data, b.len);
	if (again.nrows != csv->nrows)
		fuzz_fail("not as many rows", b.data, b.len);
	if (csv->nrows > 0 && csv->rows[0].nfields > 1 && again.sep != csv->sep)
		fuzz_fail("another separator", b.data, b.len);
	for (i = 0; i < csv->nrows; i++) {
		r = &csv->rows[i];
		s = &again.rows[i];
		if (s->line != line || s->nfields != r->nfields)
			fuzz_fail("another row", b.data, b.len);
		for (j = 0; j < r->nfields; j++) {
			if (!fuzz_same(s->fields[j], r->fields[j]))
				fuzz_fail("another field", b.data, b.len);
			line += fuzz_count(r->fields[j], strlen(r->fields[j]),
			    '\n');
		}
		line++;
	}
	csv_free(&again);
	proto_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv csv;
	char	  *d;

	/* A copy of exactly size bytes, so that ASan sees any overread. */
	if ((d = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(d, data, size);
	csv_init(&csv);
	if (csv_parse(&csv, d, size) == -1) {
		if (csv.err[0] == '\0' ||
		    memchr(csv.err, '\0', sizeof csv.err) == NULL)
			fuzz_fail("no reason", d, size);
		if (csv.errline < 1 || csv.errline > fuzz_lines(d, size))
			fuzz_fail("error line", d, size);
	} else {
		if (memchr(d, '\0', size) != NULL)
			fuzz_fail("a NUL accepted", d, size);
		fuzz_rows(&csv, d, size);
		fuzz_again(&csv, 1);
		fuzz_again(&csv, 0);
	}
	csv_free(&csv);
	free(d);
	return (0);
}
