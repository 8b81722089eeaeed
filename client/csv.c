/*
 * csv.c -- a CSV reader over a buffer, for roster import: RFC 4180 as
 * spreadsheets write it. Fields are separated by a comma, or by a
 * semicolon or a TAB when the header row has more of those outside quotes
 * (Excel in many locales writes ';'); records end with LF or CRLF; a
 * quoted field may hold separators, line ends (a CRLF inside becomes LF)
 * and doubled quotes. A UTF-8 byte order mark is skipped and blank lines
 * are left out. Rows may have fewer or more fields than the header: that
 * is for the caller to judge, row by row.
 *
 * No I/O and no globals: a text in, rows out, or the line and what is
 * wrong there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

#define CSV_BOM "\xef\xbb\xbf"

void
csv_init(struct csv *csv)
{
	memset(csv, 0, sizeof *csv);
	csv->sep = ',';
}

static void
csv_row_free(struct csv_row *row)
{
	size_t i;

	for (i = 0; i < row->nfields; i++)
		free(row->fields[i]);
	free(row->fields);
	row->fields = NULL;
	row->nfields = 0;
}

void
csv_free(struct csv *csv)
{
	size_t i;

	for (i = 0; i < csv->nrows; i++)
		csv_row_free(&csv->rows[i]);
	free(csv->rows);
	csv->rows = NULL;
	csv->nrows = csv->caprows = 0;
}

static int
csv_fail(struct csv *csv, size_t line, const char *what)
{
	csv->errline = line;
	snprintf(csv->err, sizeof csv->err, "%s", what);
	return (-1);
}

/* The separator: whichever of ',' ';' TAB occurs most outside quotes in
 * the first line that is not blank; ',' on a tie or when none does. */
static char
csv_detect(const char *d, size_t len)
{
	size_t i = 0, comma = 0, semi = 0, tab = 0;
	int    quoted = 0;

	while (i < len && (d[i] == '\n' || d[i] == '\r'))
		i++;
	for (; i < len; i++) {
		if (d[i] == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (d[i] == '\n')
			break;
		else if (d[i] == ',')
			comma++;
		else if (d[i] == ';')
			semi++;
		else if (d[i] == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return (';');
	if (tab > comma && tab > semi)
		return ('\t');
	return (',');
}

/* 1 when d[pos] ends a record: LF, CRLF, or a CR that ends the text. */
static int
csv_eol(const char *d, size_t len, size_t pos)
{
	return (d[pos] == '\n' ||
	    (d[pos] == '\r' && (pos + 1 == len || d[pos + 1] == '\n')));
}

static struct csv_row *
csv_new_row(struct csv *csv, size_t line)
{
	struct csv_row *rows, *row;

	if (csv->nrows == csv->caprows) {
		rows = reallocarray(csv->rows, csv->caprows + 256,
		    sizeof *rows);
		if (rows == NULL)
			return (NULL);
		csv->rows = rows;
		csv->caprows += 256;
	}
	row = &csv->rows[csv->nrows++];
	memset(row, 0, sizeof *row);
	row->line = line;
	return (row);
}

static int
csv_add_field(struct csv_row *row, const struct proto_buf *field, size_t *cap)
{
	char **p;

	if (field->oom)
		return (-1);
	if (row->nfields == *cap) {
		if ((p = reallocarray(row->fields, *cap + 16, sizeof *p)) ==
		    NULL)
			return (-1);
		row->fields = p;
		*cap += 16;
	}
	row->fields[row->nfields] = strndup(field->len ? field->data : "",
	    field->len);
	if (row->fields[row->nfields] == NULL)
		return (-1);
	row->nfields++;
	return (0);
}

/*
 * A quoted field from d[*pos] (the opening quote) into field; *line counts
 * the line ends inside it. -1 with the error set when the quote is not
 * closed or text follows the closing quote.
 */
static int
csv_quoted(struct csv *csv, const char *d, size_t len, size_t *pos,
    size_t *line, size_t rowline, struct proto_buf *field)
{
	size_t i = *pos + 1;

	for (;; i++) {
		if (i == len)
			return (csv_fail(csv, rowline,
			    "a quote is not "
			    "closed"));
		if (d[i] == '"') {
			if (i + 1 < len && d[i + 1] == '"')
				i++;
			else
				break;
		} else if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n')
			continue; /* CRLF in a cell: LF */
		else if (d[i] == '\n')
			(*line)++;
		proto_buf_addch(field, d[i]);
	}
	i++;
	if (i < len && d[i] != csv->sep && !csv_eol(d, len, i))
		return (csv_fail(csv, *line, "text after a closing quote"));
	*pos = i;
	return (0);
}

/*
 * Cut d[0..len) into csv->rows; 0, or -1 with errline and err set. A NUL
 * byte is refused: a field could not hold it (it would be cut there), and
 * a text full of them is UTF-16, which a spreadsheet may have written.
 */
int
csv_parse(struct csv *csv, const char *d, size_t len)
{
	struct csv_row	*row;
	struct proto_buf field;
	const char	*nul;
	size_t		 pos = 0, line = 1, cap;
	int		 rv = -1;

	if (len > 0 && (nul = memchr(d, '\0', len)) != NULL) {
		for (pos = 0; pos < (size_t)(nul - d); pos++)
			line += d[pos] == '\n';
		return (csv_fail(csv, line,
		    "a NUL byte (is the file UTF-16?)"));
	}
	proto_buf_init(&field);
	if (len >= 3 && memcmp(d, CSV_BOM, 3) == 0)
		pos = 3;
	csv->sep = csv_detect(d + pos, len - pos);
	while (pos < len) {
		if ((row = csv_new_row(csv, line)) == NULL)
			goto oom;
		cap = 0;
		for (;;) {
			proto_buf_reset(&field);
			if (pos < len && d[pos] == '"') {
				if (csv_quoted(csv, d, len, &pos, &line,
					row->line, &field) == -1)
					goto out;
			} else {
				while (pos < len && d[pos] != csv->sep &&
				    !csv_eol(d, len, pos))
					proto_buf_addch(&field, d[pos++]);
			}
			if (csv_add_field(row, &field, &cap) == -1)
				goto oom;
			if (pos < len && d[pos] == csv->sep) {
				pos++;
				continue;
			}
			if (pos < len && d[pos] == '\r')
				pos++;
			if (pos < len && d[pos] == '\n')
				pos++;
			line++;
			break;
		}
		if (row->nfields == 1 && row->fields[0][0] == '\0') {
			csv_row_free(row); /* a blank line */
			csv->nrows--;
		}
	}
	rv = 0;
	goto out;
oom:
	rv = csv_fail(csv, line, "out of memory");
out:
	proto_buf_free(&field);
	return (rv);
}
