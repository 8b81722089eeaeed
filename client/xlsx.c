/*
 * xlsx.c -- an export's CSV (as rosterd sends it, header row first) as an
 * Excel workbook, through libxlsxwriter: one sheet named after the list,
 * the header in bold and frozen, columns as wide as their content (capped).
 * Every cell is text, so that a code such as 00123 or 1E5 stays what it
 * is, except in the columns that hold times or numbers: a time there
 * becomes an Excel date-time (its wall-clock time as written; Excel has no
 * time zones, so the offset is left out), a count or an id a number. A
 * value of any other shape stays text. The ' that the export puts before
 * a free-text cell beginning with = + - or @ is taken off: a text cell of
 * a workbook is never a formula.
 *
 * The CSV is read twice from its file, a few hundred records at a time
 * (widths first, then the cells), and libxlsxwriter runs in its
 * constant_memory mode, so memory does not grow with the export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xlsxwriter.h>

#include "roster.h"

#if LXW_VERSION_ID < 110
#error "libxlsxwriter 1.1 or later is needed"
#endif

#define XLSX_CHUNK     512 /* records parsed at a time */
#define XLSX_MAX_WIDTH 60  /* characters */
#define XLSX_MIN_WIDTH 6

/* What a column holds, by its name in the export's header. */
#define XLSX_TEXT   0
#define XLSX_NUMBER 0x01
#define XLSX_TIME   0x02

static const struct {
	const char *name;
	int	    kind;
} xlsx_columns[] = {
	{ "id", XLSX_NUMBER },
	{ "participant", XLSX_NUMBER },
	{ "quota", XLSX_NUMBER },
	{ "size", XLSX_NUMBER },
	{ "confirmed", XLSX_NUMBER },
	{ "capacity", XLSX_NUMBER },
	{ "enrolled", XLSX_NUMBER },
	{ "waitlisted", XLSX_NUMBER },
	{ "position", XLSX_NUMBER },
	/* a time in attendance, a count in delegations and sessions */
	{ "checked_in", XLSX_NUMBER | XLSX_TIME },
	{ "session_checked_in", XLSX_TIME },
	{ "starts", XLSX_TIME },
	{ "ends", XLSX_TIME },
	{ "enrolled_at", XLSX_TIME },
};

/* The CSV being read: its header line, kept to head each chunk so that
 * csv_parse sees the same separator, and the records of the chunk. */
struct xlsx_reader {
	FILE		*f;
	char		*line;
	size_t		 linecap;
	struct proto_buf header;
	struct proto_buf chunk;
	struct csv	 csv;
	int		 eof;
};

/* One pass over the records; 0, or -1 with a message. */
static int
xlsx_rewind(struct xlsx_reader *x)
{
	ssize_t n;

	rewind(x->f);
	x->eof = 0;
	proto_buf_reset(&x->header);
	if ((n = getline(&x->line, &x->linecap, x->f)) <= 0)
		return (-1);
	proto_buf_add(&x->header, x->line, (size_t)n);
	return (x->header.oom ? -1 : 0);
}

/* The next records (at most XLSX_CHUNK) into x->csv, whose rows[0] is
 * the header again; *nrec: how many. 0, or -1 on an error. A record ends
 * at a line end outside quotes: one whose quotes so far are even. */
static int
xlsx_next(struct xlsx_reader *x, size_t *nrec)
{
	ssize_t n, i;
	size_t	quotes = 0;

	*nrec = 0;
	csv_free(&x->csv);
	csv_init(&x->csv);
	proto_buf_reset(&x->chunk);
	proto_buf_add(&x->chunk, x->header.data, x->header.len);
	while (*nrec < XLSX_CHUNK && !x->eof) {
		if ((n = getline(&x->line, &x->linecap, x->f)) <= 0) {
			x->eof = 1;
			break;
		}
		for (i = 0; i < n; i++)
			quotes += x->line[i] == '"';
		proto_buf_add(&x->chunk, x->line, (size_t)n);
		if (quotes % 2 == 0)
			(*nrec)++;
	}
	if (ferror(x->f) || x->chunk.oom)
		return (-1);
	if (csv_parse(&x->csv, x->chunk.data, x->chunk.len) == -1) {
		fprintf(stderr, "roster: the export's CSV: %s\n", x->csv.err);
		return (-1);
	}
	*nrec = x->csv.nrows > 0 ? x->csv.nrows - 1 : 0;
	return (0);
}

/* The cell as the workbook shows it: without the export's ' before a
 * formula character. */
static const char *
xlsx_text(const char *s)
{
	if (s[0] == '\'' && s[1] != '\0' && strchr("=+-@", s[1]) != NULL)
		return (s + 1);
	return (s);
}

static int
xlsx_kind(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof xlsx_columns / sizeof xlsx_columns[0]; i++)
		if (strcmp(xlsx_columns[i].name, name) == 0)
			return (xlsx_columns[i].kind);
	return (XLSX_TEXT);
}

/* A whole number as rosterd writes one: digits, no leading zero, at most
 * 15 of them (exact in a double). */
static int
xlsx_number(const char *s, double *v)
{
	size_t len = strspn(s, "0123456789");

	if (len == 0 || s[len] != '\0' || len > 15 || (s[0] == '0' && len > 1))
		return (0);
	*v = strtod(s, NULL);
	return (1);
}

static int
xlsx_digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		*v = *v * 10 + (s[i] - '0');
	}
	return (1);
}

/* A time as the exports write them: 2025-11-26T10:00:05Z (UTC) or
 * 2025-11-26T10:00+03:00 (an event's local time). *secs: it had seconds. */
static int
xlsx_time(const char *s, lxw_datetime *dt, int *secs)
{
	int sec = 0, tzh, tzm;

	memset(dt, 0, sizeof *dt);
	if (strlen(s) < 16 || !xlsx_digits(s, 4, &dt->year) || s[4] != '-' ||
	    !xlsx_digits(s + 5, 2, &dt->month) || s[7] != '-' ||
	    !xlsx_digits(s + 8, 2, &dt->day) || s[10] != 'T' ||
	    !xlsx_digits(s + 11, 2, &dt->hour) || s[13] != ':' ||
	    !xlsx_digits(s + 14, 2, &dt->min))
		return (0);
	s += 16;
	*secs = 0;
	if (s[0] == ':') {
		if (!xlsx_digits(s + 1, 2, &sec))
			return (0);
		*secs = 1;
		s += 3;
	}
	dt->sec = sec;
	if (strcmp(s, "Z") != 0 &&
	    ((s[0] != '+' && s[0] != '-') || !xlsx_digits(s + 1, 2, &tzh) ||
		s[3] != ':' || !xlsx_digits(s + 4, 2, &tzm) || s[6] != '\0'))
		return (0);
	return (dt->year >= 1900 && dt->month >= 1 && dt->month <= 12 &&
	    dt->day >= 1 && dt->day <= 31 && dt->hour <= 23 && dt->min <= 59 &&
	    sec <= 59);
}

/* The width of a cell, in characters, as it will be shown. */
static size_t
xlsx_width(const char *s, int kind)
{
	lxw_datetime dt;
	int	     secs;

	if ((kind & XLSX_TIME) && xlsx_time(s, &dt, &secs))
		return (secs ? 19 : 16);
	return (output_width(s, strlen(s)));
}

struct xlsx_sheet {
	lxw_workbook  *wb;
	lxw_worksheet *ws;
	lxw_format    *bold;
	lxw_format    *minutes; /* yyyy-mm-dd hh:mm */
	lxw_format    *seconds; /* yyyy-mm-dd hh:mm:ss */
	int	      *kinds;	/* per column */
	size_t	      *widths;
	size_t	       ncols;
};

static lxw_error
xlsx_cell(struct xlsx_sheet *s, lxw_row_t row, lxw_col_t col, const char *v)
{
	lxw_datetime dt;
	double	     num;
	int	     kind = col < s->ncols ? s->kinds[col] : XLSX_TEXT, secs;

	if (*v == '\0')
		return (LXW_NO_ERROR);
	if ((kind & XLSX_NUMBER) && xlsx_number(v, &num))
		return (worksheet_write_number(s->ws, row, col, num, NULL));
	if ((kind & XLSX_TIME) && xlsx_time(v, &dt, &secs))
		return (worksheet_write_datetime(s->ws, row, col, &dt,
		    secs ? s->seconds : s->minutes));
	return (worksheet_write_string(s->ws, row, col, xlsx_text(v), NULL));
}

/* Pass one: the header's kinds and every column's width. */
static int
xlsx_measure(struct xlsx_reader *x, struct xlsx_sheet *s)
{
	const struct csv_row *hdr;
	size_t		      nrec, i, j, w;
	int		      first = 1;

	for (;;) {
		if (xlsx_next(x, &nrec) == -1)
			return (-1);
		if (x->csv.nrows == 0)
			return (-1);
		if (first) {
			hdr = &x->csv.rows[0];
			s->ncols = hdr->nfields;
			s->kinds = calloc(s->ncols, sizeof *s->kinds);
			s->widths = calloc(s->ncols, sizeof *s->widths);
			if (s->kinds == NULL || s->widths == NULL)
				return (-1);
			for (j = 0; j < s->ncols; j++) {
				s->kinds[j] = xlsx_kind(hdr->fields[j]);
				s->widths[j] = output_width(hdr->fields[j],
				    strlen(hdr->fields[j]));
			}
			first = 0;
		}
		for (i = 1; i < x->csv.nrows; i++)
			for (j = 0; j < x->csv.rows[i].nfields && j < s->ncols;
			     j++) {
				w = xlsx_width(xlsx_text(x->csv.rows[i]
							     .fields[j]),
				    s->kinds[j]);
				if (w > s->widths[j])
					s->widths[j] = w;
			}
		if (nrec == 0 || x->eof)
			return (0);
	}
}

/* Pass two: the rows, in constant_memory order (row by row). */
static lxw_error
xlsx_rows(struct xlsx_reader *x, struct xlsx_sheet *s)
{
	const struct csv_row *row;
	lxw_row_t	      r = 1;
	lxw_error	      err;
	size_t		      nrec, i, j;

	if (xlsx_rewind(x) == -1 || xlsx_next(x, &nrec) == -1)
		return (LXW_ERROR_MEMORY_MALLOC_FAILED);
	if (x->csv.nrows == 0)
		return (LXW_NO_ERROR);
	row = &x->csv.rows[0];
	for (j = 0; j < row->nfields; j++)
		if ((err = worksheet_write_string(s->ws, 0, (lxw_col_t)j,
			 row->fields[j], s->bold)) != LXW_NO_ERROR)
			return (err);
	for (;;) {
		for (i = 1; i < x->csv.nrows; i++, r++) {
			row = &x->csv.rows[i];
			for (j = 0; j < row->nfields; j++)
				if ((err = xlsx_cell(s, r, (lxw_col_t)j,
					 row->fields[j])) != LXW_NO_ERROR)
					return (err);
		}
		if (x->eof)
			return (LXW_NO_ERROR);
		if (xlsx_next(x, &nrec) == -1)
			return (LXW_ERROR_MEMORY_MALLOC_FAILED);
		if (nrec == 0)
			return (LXW_NO_ERROR);
	}
}

/*
 * Write the workbook at path from the CSV in csv (read from its start):
 * one sheet named sheet. 0, or -1 with a message on stderr.
 */
int
xlsx_write(struct roster *r, FILE *csv, const char *path, const char *sheet)
{
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	struct xlsx_reader   x;
	struct xlsx_sheet    s;
	lxw_error	     err = LXW_NO_ERROR;
	size_t		     j, w;
	int		     rv = -1;

	memset(&x, 0, sizeof x);
	memset(&s, 0, sizeof s);
	x.f = csv;
	proto_buf_init(&x.header);
	proto_buf_init(&x.chunk);
	csv_init(&x.csv);
	if (xlsx_rewind(&x) == -1 || xlsx_measure(&x, &s) == -1) {
		fprintf(stderr, "roster: %s: the export could not be read\n",
		    path);
		goto out;
	}
	if ((s.wb = workbook_new_opt(path, &opt)) == NULL ||
	    (s.ws = workbook_add_worksheet(s.wb, sheet)) == NULL) {
		fprintf(stderr, "roster: %s: cannot create the workbook\n",
		    path);
		goto out;
	}
	s.bold = workbook_add_format(s.wb);
	format_set_bold(s.bold);
	s.minutes = workbook_add_format(s.wb);
	format_set_num_format(s.minutes, "yyyy-mm-dd hh:mm");
	s.seconds = workbook_add_format(s.wb);
	format_set_num_format(s.seconds, "yyyy-mm-dd hh:mm:ss");
	worksheet_freeze_panes(s.ws, 1, 0);
	for (j = 0; j < s.ncols && err == LXW_NO_ERROR; j++) {
		w = s.widths[j] + 2;
		if (w < XLSX_MIN_WIDTH)
			w = XLSX_MIN_WIDTH;
		if (w > XLSX_MAX_WIDTH)
			w = XLSX_MAX_WIDTH;
		err = worksheet_set_column(s.ws, (lxw_col_t)j, (lxw_col_t)j,
		    (double)w, NULL);
	}
	if (err == LXW_NO_ERROR)
		err = xlsx_rows(&x, &s);
	if (err != LXW_NO_ERROR)
		fprintf(stderr, "roster: %s: %s\n", path, lxw_strerror(err));
	else
		rv = 0;
	err = workbook_close(s.wb);
	s.wb = NULL;
	if (err != LXW_NO_ERROR && rv == 0) {
		fprintf(stderr, "roster: %s: %s\n", path, lxw_strerror(err));
		rv = -1;
	}
out:
	if (s.wb != NULL)
		workbook_close(s.wb);
	free(s.kinds);
	free(s.widths);
	free(x.line);
	proto_buf_free(&x.header);
	proto_buf_free(&x.chunk);
	csv_free(&x.csv);
	return (rv);
}
