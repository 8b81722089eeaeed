/*
 * test_charset.c -- unit tests for client/charset.c, an import file's
 * text as UTF-8: UTF-8 with and without a byte order mark, UTF-16LE and
 * UTF-16BE by their mark (Excel's "Unicode text"), cp1252 and latin1
 * named with --encoding, and the refusals: a text that is not UTF-8 (with
 * its line), UTF-16 without a mark, an unknown encoding, a bad sequence.
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

struct charset_case {
	const char *name;
	const char *in;
	size_t	    len;
	const char *from;
	const char *out; /* NULL: refused */
	const char *err; /* a part of the message */
};

#define T(s) s, sizeof(s) - 1

static const struct charset_case charset_cases[] = {
	{ "UTF-8 as it is", T("a;b\r\nM\xc3\xbcller;x\r\n"), NULL,
	    "a;b\r\nM\xc3\xbcller;x\r\n", NULL },
	{ "UTF-8 BOM left out",
	    T("\xef\xbb\xbf"
	      "a;b\n"),
	    NULL, "a;b\n", NULL },
	{ "a BOM wins over --encoding",
	    T("\xef\xbb\xbf"
	      "\xc3\xbc\n"),
	    "cp1252", "\xc3\xbc\n", NULL },
	{ "--encoding UTF-8 checks only", T("x\n"), "utf8", "x\n", NULL },
	{ "UTF-16LE with BOM",
	    T("\xff\xfe"
	      "a\0\t\0\xfc\0\r\0\n\0"
	      "\x30\x04\n\0"),
	    NULL, "a\t\xc3\xbc\r\n\xd0\xb0\n", NULL },
	{ "UTF-16BE with BOM",
	    T("\xfe\xff"
	      "\0a\0;\0b\0\n"),
	    NULL, "a;b\n", NULL },
	{ "cp1252", T("name;note\r\nM\xfcller;\x80 5\r\n"), "cp1252",
	    "name;note\r\nM\xc3\xbcller;\xe2\x82\xac 5\r\n", NULL },
	{ "latin1", T("Fran\xe7ois\n"), "ISO-8859-1", "Fran\xc3\xa7ois\n",
	    NULL },
	{ "empty", T(""), NULL, "", NULL },
	{ "not UTF-8: the line, and --encoding", T("a\nb\nM\xfcller\n"), NULL,
	    NULL,
	    "line 3 is not UTF-8; name the file's encoding, e.g. "
	    "--encoding cp1252" },
	{ "UTF-16 without a BOM", T("a\0b\0\n\0"), NULL, NULL,
	    "UTF-16 without a byte order mark" },
	{ "an unknown encoding", T("x\n"), "no-such-encoding", NULL,
	    "unknown encoding \"no-such-encoding\"" },
	{ "a sequence that is not of the encoding", T("ok\nok\n\x81\n"),
	    "CP1252", NULL, "line 3: bytes that are not CP1252" },
	{ "UTF-16 cut inside a character",
	    T("\xff\xfe"
	      "a\0b"),
	    NULL, NULL, "ends inside a UTF-16LE character" },
};

static void
test_charset_cases(void **state)
{
	const struct charset_case *c;
	char			   err[256], *out;
	size_t			   i, outlen;
	int			   rv, bad = 0;

	(void)state;
	for (i = 0; i < nitems(charset_cases); i++) {
		c = &charset_cases[i];
		err[0] = '\0';
		rv = charset_to_utf8(c->in, c->len, c->from, &out, &outlen, err,
		    sizeof err);
		if (c->out != NULL &&
		    (rv != 0 || outlen != strlen(c->out) ||
			memcmp(out, c->out, outlen) != 0 ||
			out[outlen] != '\0')) {
			print_error("%s: rv %d err \"%s\"\n", c->name, rv, err);
			bad++;
		} else if (c->out == NULL &&
		    (rv != -1 || out != NULL || strstr(err, c->err) == NULL)) {
			print_error("%s: rv %d err \"%s\", wanted \"%s\"\n",
			    c->name, rv, err, c->err);
			bad++;
		}
		free(out);
	}
	assert_int_equal(bad, 0);
}

/* A text bigger than the first guess of the output's size. */
static void
test_charset_grows(void **state)
{
	char  *in, *out, err[256];
	size_t i, n = 10000, outlen;

	(void)state;
	in = malloc(n);
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (char)0x80; /* the euro sign: 3 bytes each */
	assert_int_equal(charset_to_utf8(in, n, "cp1252", &out, &outlen, err,
			     sizeof err),
	    0);
	assert_int_equal(outlen, 3 * n);
	assert_memory_equal(out + 3 * (n - 1), "\xe2\x82\xac", 3);
	free(out);
	/* UTF-8 without a line end, in a buffer of exactly its bytes. */
	memset(in, 'x', n);
	assert_int_equal(charset_to_utf8(in, n, NULL, &out, &outlen, err,
			     sizeof err),
	    0);
	assert_int_equal(outlen, n);
	free(out);
	in[n - 1] = (char)0xff;
	assert_int_equal(charset_to_utf8(in, n, NULL, &out, &outlen, err,
			     sizeof err),
	    -1);
	assert_non_null(strstr(err, "line 1 is not UTF-8"));
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charset_cases),
		cmocka_unit_test(test_charset_grows),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
