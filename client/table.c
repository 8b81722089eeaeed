/*
 * table.c -- records as a table for people: aligned columns under a
 * header, as wide as the terminal allows. When the natural table is wider
 * than the terminal, the widest columns are narrowed and their cells
 * wrapped inside them (at a space where there is one); when even the
 * narrowest table would not fit, or when asked (\x), each record is shown
 * as a block of "key | value" lines instead, as psql's expanded mode does.
 * A count of rows follows. Not on a terminal (width 0), columns keep their
 * natural width and nothing is wrapped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

#define TABLE_GAP	2 /* spaces between columns */
#define TABLE_MIN	8 /* columns a narrowed column keeps, or its header's */
#define TABLE_KEEP	20 /* a column this narrow is never narrowed */
#define TABLE_MIN_VALUE 16 /* of an expanded value, at least */

/* Bytes of s (len) that fill at most max columns: up to the last space
 * within them when the rest does not fit, and at least one character. */
static size_t
table_fit(const char *s, size_t len, size_t max)
{
	size_t i = 0, w = 0, cw, n, brk = 0;

	while (i < len) {
		n = output_char(s + i, len - i, &cw);
		if (w + cw > max)
			break;
		w += cw;
		i += n;
		if (s[i - n] == ' ')
			brk = i;
	}
	if (i < len && brk > 0)
		return (brk);
	if (i == 0 && len > 0)
		i = output_char(s, len, &cw);
	return (i);
}

static void
table_pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static void
table_rule(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc('-', f);
}

static const char *
table_get(const struct output_rec *rec, const char *key)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (strcmp(rec->keys[i], key) == 0)
			return (rec->values[i]);
	return (NULL);
}

/* One row: the cells of cols, each wrapped within w[j], line by line. */
static void
table_row(FILE *f, const char *const *cells, const size_t *w, size_t n,
    const char **rest, size_t *left)
{
	size_t j, last, piece, shown, pw;
	int    more;

	for (j = 0; j < n; j++) {
		rest[j] = cells[j];
		left[j] = strlen(cells[j]);
	}
	do {
		for (last = 0, j = 0; j < n; j++)
			if (left[j] > 0)
				last = j;
		more = 0;
		for (j = 0; j <= last; j++) {
			piece = table_fit(rest[j], left[j], w[j]);
			/* a line broken at a space does not end with it */
			for (shown = piece; shown < left[j] && shown > 0 &&
			     rest[j][shown - 1] == ' ';
			     shown--)
				;
			output_text(f, rest[j], shown);
			pw = output_width(rest[j], shown);
			rest[j] += piece;
			left[j] -= piece;
			/* a continuation line does not start with spaces */
			while (left[j] > 0 && rest[j][0] == ' ') {
				rest[j]++;
				left[j]--;
			}
			if (left[j] > 0)
				more = 1;
			if (j < last)
				table_pad(f, w[j] + TABLE_GAP - pw);
		}
		fputc('\n', f);
	} while (more);
}

/*
 * The widths of the columns within width, or -1 when they cannot fit:
 * the widest column is narrowed a column at a time, so that long texts
 * give way first; a column keeps at least its header's width and
 * TABLE_MIN, and one no wider than TABLE_KEEP (codes, statuses, dates)
 * keeps its own.
 */
static int
table_widths(size_t *w, const size_t *nat, const size_t *hw, size_t n,
    size_t width)
{
	size_t j, widest, min, sum = TABLE_GAP * (n > 0 ? n - 1 : 0);

	for (j = 0; j < n; j++) {
		w[j] = nat[j];
		sum += nat[j];
	}
	while (width > 0 && sum > width) {
		for (widest = n, j = 0; j < n; j++) {
			min = hw[j] > TABLE_MIN ? hw[j] : TABLE_MIN;
			if (nat[j] <= TABLE_KEEP || w[j] <= min)
				continue;
			if (widest == n || w[j] > w[widest])
				widest = j;
		}
		if (widest == n)
			return (-1);
		w[widest]--;
		sum--;
	}
	return (0);
}

/* Each record as a block of "key | value" lines, values wrapped. */
static void
table_expanded(FILE *f, char *const *cols, size_t ncols,
    const struct output_rec *recs, size_t nrecs, size_t width)
{
	const char *v;
	size_t	    i, j, kw = 0, vw = 0, len, piece, shown, hw, target;

	for (j = 0; j < ncols; j++)
		if ((hw = output_width(cols[j], strlen(cols[j]))) > kw)
			kw = hw;
	if (width > kw + 3 + TABLE_MIN_VALUE)
		vw = width - kw - 3;
	for (i = 0; i < nrecs; i++) {
		hw = (size_t)fprintf(f, "-[ RECORD %zu ]", i + 1);
		target = kw + 3 + TABLE_MIN_VALUE;
		if (width > 0 && target > width)
			target = width;
		table_rule(f, target > hw ? target - hw : 1);
		fputc('\n', f);
		for (j = 0; j < ncols; j++) {
			if ((v = table_get(&recs[i], cols[j])) == NULL)
				continue;
			output_text(f, cols[j], strlen(cols[j]));
			table_pad(f,
			    kw - output_width(cols[j], strlen(cols[j])));
			fputs(" | ", f);
			len = strlen(v);
			for (;;) {
				piece = vw > 0 ? table_fit(v, len, vw) : len;
				for (shown = piece; shown < len && shown > 0 &&
				     v[shown - 1] == ' ';
				     shown--)
					;
				output_text(f, v, shown);
				v += piece;
				len -= piece;
				while (len > 0 && *v == ' ') {
					v++;
					len--;
				}
				fputc('\n', f);
				if (len == 0)
					break;
				table_pad(f, kw);
				fputs(" | ", f);
			}
		}
	}
}

/*
 * The records under the columns cols, within width (0: no limit);
 * expanded: OUTPUT_EXPANDED_ON, _OFF or _AUTO (when it does not fit).
 * Then "(N rows)".
 */
void
table_print(FILE *f, char *const *cols, size_t ncols,
    const struct output_rec *recs, size_t nrecs, size_t width, int expanded)
{
	const char **cells = NULL, **rest = NULL, *v;
	size_t	    *nat, *hw, *w, *left = NULL, i, j;
	int	     fits;

	nat = calloc(ncols + 1, sizeof *nat);
	hw = calloc(ncols + 1, sizeof *hw);
	w = calloc(ncols + 1, sizeof *w);
	left = calloc(ncols + 1, sizeof *left);
	cells = calloc(ncols + 1, sizeof *cells);
	rest = calloc(ncols + 1, sizeof *rest);
	if (nat == NULL || hw == NULL || w == NULL || left == NULL ||
	    cells == NULL || rest == NULL) {
		fprintf(stderr, "roster: out of memory\n");
		goto out;
	}
	for (j = 0; j < ncols; j++) {
		hw[j] = nat[j] = output_width(cols[j], strlen(cols[j]));
		for (i = 0; i < nrecs; i++)
			if ((v = table_get(&recs[i], cols[j])) != NULL &&
			    output_width(v, strlen(v)) > nat[j])
				nat[j] = output_width(v, strlen(v));
	}
	fits = table_widths(w, nat, hw, ncols, width) == 0;
	if (expanded == OUTPUT_EXPANDED_ON ||
	    (expanded == OUTPUT_EXPANDED_AUTO && !fits))
		table_expanded(f, cols, ncols, recs, nrecs, width);
	else {
		if (!fits)
			for (j = 0; j < ncols; j++)
				w[j] = nat[j];
		for (j = 0; j < ncols; j++)
			cells[j] = cols[j];
		table_row(f, cells, w, ncols, rest, left);
		for (j = 0; j < ncols; j++) {
			table_rule(f, w[j]);
			if (j + 1 < ncols)
				table_pad(f, TABLE_GAP);
		}
		fputc('\n', f);
		for (i = 0; i < nrecs; i++) {
			for (j = 0; j < ncols; j++)
				if ((cells[j] = table_get(&recs[i], cols[j])) ==
				    NULL)
					cells[j] = "";
			table_row(f, cells, w, ncols, rest, left);
		}
	}
	fprintf(f, "(%zu %s)\n", nrecs, nrecs == 1 ? "row" : "rows");
out:
	free(nat);
	free(hw);
	free(w);
	free(left);
	free(cells);
	free(rest);
}
