/*
 * test_csv.c -- unit tests for client/csv.c, the CSV reader of roster
 * import: separators (',' ';' TAB, seen in the header), LF and CRLF, a
 * byte order mark, quoted fields with separators, line ends and doubled
 * quotes, blank lines, ragged rows, and the errors with their lines (a NUL
 * byte among them).
 *
 * Table-driven: each row is one text and the exact rows, or the exact
 * error, expected. A failing row is reported with its name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "roster.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define MAXROWS	  5
#define MAXFIELDS 4

struct want_row {
	size_t	    line;
	size_t	    nfields;
	const char *fields[MAXFIELDS];
};

struct csv_case {
	const char     *name;
	const char     *text;
	int		rv;
	char		sep;
	size_t		nrows;
	struct want_row rows[MAXROWS];
	size_t		errline; /* rv -1 */
	const char     *err;
};

#define BOM "\xef\xbb\xbf"

static const struct csv_case csv_cases[] = {
	{ "LF", "a,b\n1,2\n", 0, ',', 2,
	    { { 1, 2, { "a", "b" } }, { 2, 2, { "1", "2" } } }, 0, NULL },
	{ "CRLF", "a,b\r\n1,2\r\n", 0, ',', 2,
	    { { 1, 2, { "a", "b" } }, { 2, 2, { "1", "2" } } }, 0, NULL },
	{ "no line end at the end", "a,b\n1,2", 0, ',', 2,
	    { { 1, 2, { "a", "b" } }, { 2, 2, { "1", "2" } } }, 0, NULL },
	{ "a CR at the very end ends the record", "a\r\n1\r", 0, ',', 2,
	    { { 1, 1, { "a" } }, { 2, 1, { "1" } } }, 0, NULL },
	{ "Excel: BOM, ';', CRLF, a quoted line end",
	    BOM "name;note\r\n\"Ayşe\";\"two\nlines\"\r\nx;y\r\n", 0, ';', 3,
	    { { 1, 2, { "name", "note" } }, { 2, 2, { "Ayşe", "two\nlines" } },
		{ 4, 2, { "x", "y" } } },
	    0, NULL },
	{ "TAB", "a\tb\n1\t2\n", 0, '\t', 2,
	    { { 1, 2, { "a", "b" } }, { 2, 2, { "1", "2" } } }, 0, NULL },
	{ "';' in the header, ',' only inside quotes", "\"a,b\";c\n1,2;3\n", 0,
	    ';', 2, { { 1, 2, { "a,b", "c" } }, { 2, 2, { "1,2", "3" } } }, 0,
	    NULL },
	{ "',' when it occurs most", "a,b,c;d\n1,2,3\n", 0, ',', 2,
	    { { 1, 3, { "a", "b", "c;d" } }, { 2, 3, { "1", "2", "3" } } }, 0,
	    NULL },
	{ "',' on a tie", "a,b;c\n", 0, ',', 1, { { 1, 2, { "a", "b;c" } } }, 0,
	    NULL },
	{ "one column: ','", "name\nx;y\n", 0, ',', 2,
	    { { 1, 1, { "name" } }, { 2, 1, { "x;y" } } }, 0, NULL },
	{ "the header after blank lines", "\r\n\na;b\n1;2\n", 0, ';', 2,
	    { { 3, 2, { "a", "b" } }, { 4, 2, { "1", "2" } } }, 0, NULL },
	{ "doubled quotes", "a\n\"say \"\"hi\"\"\"\n\"\"\"\"\n", 0, ',', 3,
	    { { 1, 1, { "a" } }, { 2, 1, { "say \"hi\"" } },
		{ 3, 1, { "\"" } } },
	    0, NULL },
	{ "a separator inside quotes", "a,b\n\"x,y\",z\n", 0, ',', 2,
	    { { 1, 2, { "a", "b" } }, { 2, 2, { "x,y", "z" } } }, 0, NULL },
	{ "CRLF inside quotes becomes LF", "a\r\n\"x\r\ny\"\r\nz\r\n", 0, ',',
	    3, { { 1, 1, { "a" } }, { 2, 1, { "x\ny" } }, { 4, 1, { "z" } } },
	    0, NULL },
	{ "a bare CR inside a field is kept", "a\n1\r2\n", 0, ',', 2,
	    { { 1, 1, { "a" } }, { 2, 1, { "1\r2" } } }, 0, NULL },
	{ "blank lines are left out", "a\n\n1\n\r\n2\n", 0, ',', 3,
	    { { 1, 1, { "a" } }, { 3, 1, { "1" } }, { 5, 1, { "2" } } }, 0,
	    NULL },
	{ "a lone empty quoted field is a blank line", "a\n\"\"\n1\n", 0, ',',
	    2, { { 1, 1, { "a" } }, { 3, 1, { "1" } } }, 0, NULL },
	{ "empty fields", "a,b,\n,,\n", 0, ',', 2,
	    { { 1, 3, { "a", "b", "" } }, { 2, 3, { "", "", "" } } }, 0, NULL },
	{ "ragged rows are kept as they are", "a,b\n1\n1,2,3\n", 0, ',', 3,
	    { { 1, 2, { "a", "b" } }, { 2, 1, { "1" } },
		{ 3, 3, { "1", "2", "3" } } },
	    0, NULL },
	{ "a quoted field at the end", "a\n\"x\"", 0, ',', 2,
	    { { 1, 1, { "a" } }, { 2, 1, { "x" } } }, 0, NULL },
	{ "an empty text", "", 0, ',', 0, { { 0 } }, 0, NULL },
	{ "a BOM alone", BOM, 0, ',', 0, { { 0 } }, 0, NULL },
	{ "blank lines alone", "\n\r\n\n", 0, ',', 0, { { 0 } }, 0, NULL },

	/* Errors: the line, and what is wrong. */
	{ "a quote not closed", "a\n\"xy\n", -1, 0, 0, { { 0 } }, 2,
	    "a quote is not closed" },
	{ "a quote not closed: the line it opens", "a\n1\n\"x\ny\nz", -1, 0, 0,
	    { { 0 } }, 3, "a quote is not closed" },
	{ "text after a closing quote", "a\n\"x\"y\n", -1, 0, 0, { { 0 } }, 2,
	    "text after a closing quote" },
	{ "text after a closing quote, lines later", "a\n\"x\ny\"z\n", -1, 0, 0,
	    { { 0 } }, 3, "text after a closing quote" },
	{ "a ',' after a quote in a ';' file", "a;b\n\"x\",y\n", -1, 0, 0,
	    { { 0 } }, 2, "text after a closing quote" },
};

static void
test_csv_cases(void **state)
{
	const struct csv_case *c;
	struct csv	       csv;
	size_t		       i, j, k;
	int		       rv, failed = 0;

	(void)state;
	for (i = 0; i < nitems(csv_cases); i++) {
		c = &csv_cases[i];
		csv_init(&csv);
		rv = csv_parse(&csv, c->text, strlen(c->text));
		if (rv != c->rv) {
			print_error("case %zu (%s): returned %d, not %d "
				    "(%zu: %s)\n",
			    i, c->name, rv, c->rv, csv.errline, csv.err);
			failed++;
		} else if (rv == -1) {
			if (csv.errline != c->errline ||
			    strcmp(csv.err, c->err) != 0) {
				print_error("case %zu (%s): error %zu: %s, "
					    "not %zu: %s\n",
				    i, c->name, csv.errline, csv.err,
				    c->errline, c->err);
				failed++;
			}
		} else if (csv.sep != c->sep || csv.nrows != c->nrows) {
			print_error("case %zu (%s): sep %d, %zu rows; not %d, "
				    "%zu\n",
			    i, c->name, csv.sep, csv.nrows, c->sep, c->nrows);
			failed++;
		} else {
			for (j = 0; j < csv.nrows; j++) {
				if (csv.rows[j].line != c->rows[j].line ||
				    csv.rows[j].nfields != c->rows[j].nfields) {
					print_error(
					    "case %zu (%s): row %zu: "
					    "line %zu, %zu fields; not %zu, "
					    "%zu\n",
					    i, c->name, j, csv.rows[j].line,
					    csv.rows[j].nfields,
					    c->rows[j].line,
					    c->rows[j].nfields);
					failed++;
					break;
				}
				for (k = 0; k < csv.rows[j].nfields; k++) {
					if (strcmp(csv.rows[j].fields[k],
						c->rows[j].fields[k]) == 0)
						continue;
					print_error(
					    "case %zu (%s): row %zu "
					    "field %zu: \"%s\", not \"%s\"\n",
					    i, c->name, j, k,
					    csv.rows[j].fields[k],
					    c->rows[j].fields[k]);
					failed++;
				}
			}
		}
		csv_free(&csv);
	}
	assert_int_equal(failed, 0);
}

/* A text that is not NUL-terminated is read to its length only. */
static void
test_csv_length(void **state)
{
	struct csv csv;
	const char text[] = "a,b\n1,2\nnot this";

	(void)state;
	csv_init(&csv);
	assert_int_equal(csv_parse(&csv, text, 8), 0);
	assert_int_equal(csv.nrows, 2);
	assert_string_equal(csv.rows[1].fields[1], "2");
	csv_free(&csv);
	csv_free(&csv); /* twice is harmless */
}

/* A NUL byte is refused on its line, not kept as the end of a shorter
 * field; UTF-16 from a spreadsheet is full of them. */
static void
test_csv_nul(void **state)
{
	struct csv csv;
	const char text[] = "a,b\n\"1\n2\",x\0y\n";
	const char utf16[] =
	    "\xff\xfe"
	    "a\0,\0b\0\n\0";

	(void)state;
	csv_init(&csv);
	assert_int_equal(csv_parse(&csv, text, sizeof text - 1), -1);
	assert_int_equal(csv.errline, 3);
	assert_string_equal(csv.err, "a NUL byte (is the file UTF-16?)");
	csv_free(&csv);
	csv_init(&csv);
	assert_int_equal(csv_parse(&csv, utf16, sizeof utf16 - 1), -1);
	assert_int_equal(csv.errline, 1);
	csv_free(&csv);
}

/* Many rows and many fields: the arrays grow. */
static void
test_csv_large(void **state)
{
	struct csv csv;
	char	  *text, *p;
	size_t	   i, j, len;

	(void)state;
	len = 1000 * (40 * 3) + 1;
	assert_non_null(text = malloc(len));
	p = text;
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < 40; j++)
			p += sprintf(p, "%c%c", j == 0 ? ' ' + 1 : ';',
			    'a' + (int)(j % 26));
		*p++ = '\n';
	}
	csv_init(&csv);
	assert_int_equal(csv_parse(&csv, text, p - text), 0);
	assert_int_equal(csv.sep, ';');
	assert_int_equal(csv.nrows, 1000);
	assert_int_equal(csv.rows[999].nfields, 40);
	assert_int_equal(csv.rows[999].line, 1000);
	assert_string_equal(csv.rows[999].fields[39], "n");
	csv_free(&csv);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_cases),
		cmocka_unit_test(test_csv_length),
		cmocka_unit_test(test_csv_nul),
		cmocka_unit_test(test_csv_large),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
