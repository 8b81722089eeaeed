/*
 * attendance.c -- the attendance export as people read it. rosterd's list
 * (EXPORT what=attendance) holds each person's session check-ins in one
 * cell, "S1 2025-11-26T09:05:00+03:00; W1 …"; the CLI makes that one
 * column per session of the event (SESSION LIST, in its order), headed by
 * the session's code and holding the check-in time, or, with --long, one
 * row per person and session (columns session and session_time; a person
 * checked in to none keeps one row). The times stay rosterd's: the event's
 * time zone with its offset. Also the CSV of an export written as CSV or
 * as TSV (the way rosterd writes TSV: COPY's text format), for the
 * exports the CLI reshapes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

/* The whole of f, NUL-terminated, in *text; -1 with a message. */
int
export_slurp(FILE *f, char **text, size_t *len)
{
	char  *t, buf[8192];
	size_t n, cap = 0;

	*text = NULL;
	*len = 0;
	rewind(f);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (*len + n + 1 > cap) {
			cap = (*len + n + 1) * 2;
			if ((t = realloc(*text, cap)) == NULL) {
				free(*text);
				*text = NULL;
				fprintf(stderr, "roster: out of memory\n");
				return (-1);
			}
			*text = t;
		}
		memcpy(*text + *len, buf, n);
		*len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "roster: the export: %s\n", strerror(errno));
		free(*text);
		*text = NULL;
		return (-1);
	}
	if (*text == NULL && (*text = strdup("")) == NULL)
		return (-1);
	(*text)[*len] = '\0';
	return (0);
}

/* The export's CSV, parsed; -1 with a message. */
static int
attendance_parse(FILE *in, struct csv *csv, char **text)
{
	size_t len;

	if (export_slurp(in, text, &len) == -1)
		return (-1);
	if (csv_parse(csv, *text, len) == -1) {
		fprintf(stderr, "roster: the export's CSV: line %zu: %s\n",
		    csv->errline, csv->err);
		return (-1);
	}
	return (0);
}

/* The event's sessions' codes, in SESSION LIST's order. An exit status. */
static int
attendance_sessions(struct roster *r, const char *event, char ***codes,
    size_t *n)
{
	struct proto_buf req;
	struct output	 o;
	size_t		 i, j;
	int		 rv;

	*codes = NULL;
	*n = 0;
	proto_buf_init(&req);
	proto_buf_addstr(&req, "SESSION LIST");
	if (event != NULL)
		proto_buf_field(&req, "event", event, strlen(event));
	output_init(&o, OUTPUT_TABLE, stdout);
	o.keep = 1;
	rv = req.oom ?
	    ROSTER_EXIT_FAIL :
	    session_transact(r, req.data, req.len, &o, NULL);
	proto_buf_free(&req);
	if (rv == ROSTER_EXIT_OK &&
	    (*codes = calloc(o.nrecs + 1, sizeof **codes)) == NULL)
		rv = ROSTER_EXIT_FAIL;
	for (i = 0; rv == ROSTER_EXIT_OK && i < o.nrecs; i++)
		for (j = 0; j < o.recs[i].n; j++)
			if (strcmp(o.recs[i].keys[j], "code") == 0) {
				(*codes)[(*n)++] = o.recs[i].values[j];
				o.recs[i].values[j] = strdup("");
				break;
			}
	output_free(&o);
	return (rv);
}

/* In "S1 T1; W1 T2", the time of session code, as a pointer and length;
 * NULL when they were not checked in to it. */
static const char *
attendance_time(const char *cell, const char *code, size_t *len)
{
	const char *p = cell, *end;
	size_t	    n = strlen(code);

	while (*p != '\0') {
		end = strstr(p, "; ");
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > n + 1 && strncmp(p, code, n) == 0 &&
		    p[n] == ' ') {
			*len = end - (p + n + 1);
			return (p + n + 1);
		}
		p = *end != '\0' ? end + 2 : end;
	}
	return (NULL);
}

/* A row of the export without its column skip, fields separated by
 * commas (an empty one written as nothing, as rosterd writes it). */
static void
attendance_row(FILE *out, const struct csv_row *row, size_t skip)
{
	size_t j;
	int    first = 1;

	for (j = 0; j < row->nfields; j++) {
		if (j == skip)
			continue;
		if (!first)
			fputc(',', out);
		first = 0;
		if (row->fields[j][0] != '\0')
			output_csv_field(out, row->fields[j],
			    strlen(row->fields[j]));
	}
}

/*
 * The attendance CSV in (rosterd's) reshaped into out: one column per
 * session, or (long_form) one row per person and session. An exit status.
 */
int
attendance_shape(struct roster *r, const char *event, FILE *in, FILE *out,
    int long_form)
{
	struct csv  csv;
	const char *t, *cell;
	char	   *text = NULL, **codes = NULL;
	size_t	    ncodes = 0, i, k, col, len;
	int	    rv = ROSTER_EXIT_FAIL, any;

	csv_init(&csv);
	if (attendance_parse(in, &csv, &text) == -1 || csv.nrows == 0)
		goto out;
	for (col = 0; col < csv.rows[0].nfields; col++)
		if (strcmp(csv.rows[0].fields[col], "sessions") == 0)
			break;
	if (col == csv.rows[0].nfields) {
		fprintf(stderr,
		    "roster: the attendance export has no "
		    "sessions column\n");
		goto out;
	}
	if ((rv = attendance_sessions(r, event, &codes, &ncodes)) !=
	    ROSTER_EXIT_OK)
		goto out;
	for (i = 0; i < csv.nrows; i++) {
		attendance_row(out, &csv.rows[i], col);
		cell = csv.rows[i].fields[col];
		if (i == 0) {
			if (long_form)
				fputs(",session,session_time", out);
			else
				for (k = 0; k < ncodes; k++) {
					fputc(',', out);
					output_csv_field(out, codes[k],
					    strlen(codes[k]));
				}
			fputc('\n', out);
			continue;
		}
		if (!long_form) {
			for (k = 0; k < ncodes; k++) {
				fputc(',', out);
				if ((t = attendance_time(cell, codes[k],
					 &len)) != NULL)
					output_csv_field(out, t, len);
			}
			fputc('\n', out);
			continue;
		}
		for (any = 0, k = 0; k < ncodes; k++) {
			if ((t = attendance_time(cell, codes[k], &len)) == NULL)
				continue;
			if (any++ > 0)
				attendance_row(out, &csv.rows[i], col);
			fputc(',', out);
			output_csv_field(out, codes[k], strlen(codes[k]));
			fputc(',', out);
			output_csv_field(out, t, len);
			fputc('\n', out);
		}
		if (!any)
			fputs(",,\n", out);
	}
	rv = fflush(out) == EOF ? ROSTER_EXIT_FAIL : ROSTER_EXIT_OK;
out:
	for (k = 0; k < ncodes; k++)
		free(codes[k]);
	free(codes);
	csv_free(&csv);
	free(text);
	return (rv);
}

/* A CSV file (its header first) written to path as CSV (tsv 0) or as TSV
 * as rosterd writes it: tabs between fields, \\ \t \n \r escaped. */
static int
attendance_write(FILE *in, const char *path, int tsv)
{
	struct csv  csv;
	FILE	   *out;
	const char *s;
	char	   *text = NULL;
	size_t	    i, j;
	int	    rv = -1;

	csv_init(&csv);
	if (attendance_parse(in, &csv, &text) == -1)
		goto out;
	if ((out = fopen(path, "w")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < csv.nrows; i++) {
		for (j = 0; j < csv.rows[i].nfields; j++) {
			if (j > 0)
				fputc(tsv ? '\t' : ',', out);
			s = csv.rows[i].fields[j];
			if (!tsv) {
				if (*s != '\0')
					output_csv_field(out, s, strlen(s));
				continue;
			}
			for (; *s != '\0'; s++)
				if (*s == '\\')
					fputs("\\\\", out);
				else if (*s == '\t')
					fputs("\\t", out);
				else if (*s == '\n')
					fputs("\\n", out);
				else if (*s == '\r')
					fputs("\\r", out);
				else
					fputc(*s, out);
		}
		fputc('\n', out);
	}
	if (fclose(out) == EOF) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	csv_free(&csv);
	free(text);
	return (rv);
}

int
attendance_write_csv(struct roster *r, FILE *in, const char *path,
    const char *what)
{
	(void)r;
	(void)what;
	return (attendance_write(in, path, 0));
}

int
attendance_write_tsv(struct roster *r, FILE *in, const char *path,
    const char *what)
{
	(void)r;
	(void)what;
	return (attendance_write(in, path, 1));
}
