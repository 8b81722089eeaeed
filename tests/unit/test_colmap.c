/*
 * test_colmap.c -- unit tests for client/colmap.c: the fold that compares
 * headers and party names (case, accents, punctuation aside), trimming,
 * the headers known in English and French, and --map's entries and
 * refusals.
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

static void
test_colmap_fold(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "E-mail", "email" },
		{ "EMAIL ", "email" },
		{ "First name", "firstname" },
		{ "Pr\xc3\xa9nom", "prenom" },
		{ "Civilit\xc3\xa9", "civilite" },
		{ "T\xc3\xbcrkiye", "turkiye" },
		{ "T\xc3\x9c"
		  "RKIYE",
		    "turkiye" },
		{ "C\xc3\xb4te d\xe2\x80\x99Ivoire", "cotedivoire" },
		{ "C\xc3\xb4te d'Ivoire", "cotedivoire" },
		{ "\xc3\x85land Islands", "alandislands" },
		{ "Stra\xc3\x9f"
		  "e",
		    "strasse" },
		{ "\xc4\xb0stanbul \xc4\xb1", "istanbuli" },
		{ "\xc5\x81\xc3\xb3\xc4\x91\xc5\xba", "lodz" },
		{ "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd",
		    "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd" },
		{ "participant_name", "participantname" },
		{ "", "" },
	};
	char   out[64];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		colmap_fold(cases[i].in, out, sizeof out);
		assert_string_equal(out, cases[i].out);
	}
	/* Never past the buffer. */
	assert_int_equal(colmap_fold("abcdef", out, 4), 3);
	assert_string_equal(out, "abc");
}

static void
test_colmap_trim(void **state)
{
	char a[] = "  Ana  ", b[] = "\t\xc2\xa0x y\xc2\xa0 \r", c[] = "   ",
	     d[] = "";

	(void)state;
	assert_string_equal(colmap_trim(a), "Ana");
	assert_string_equal(colmap_trim(b), "x y");
	assert_string_equal(colmap_trim(c), "");
	assert_string_equal(colmap_trim(d), "");
}

static void
test_colmap_known(void **state)
{
	static const struct {
		const char *header, *key;
	} cases[] = {
		{ "First name", "given" },
		{ "Last name", "family" },
		{ "Pr\xc3\xa9nom", "given" },
		{ "Nom", "family" },
		{ "Given name", "given" },
		{ "Surname", "family" },
		{ "Family name", "family" },
		{ "Country", "party" },
		{ "Pays", "party" },
		{ "Delegation", "party" },
		{ "D\xc3\xa9l\xc3\xa9gation", "party" },
		{ "Organisation", "party" },
		{ "E-mail", "email" },
		{ "Email", "email" },
		{ "Courriel", "email" },
		{ "Mail", "email" },
		{ "Title", "title" },
		{ "Titre", "title" },
		{ "Function", "title" },
		{ "Fonction", "title" },
		{ "Honorific", "honorific" },
		{ "Civilit\xc3\xa9", "honorific" },
		{ "SALUTATION", "honorific" },
		{ "R\xc3\xb4le", "role" },
		{ "Speaker", "participant_name" },
		{ "Phone", NULL },
		{ "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		if (cases[i].key == NULL)
			assert_null(colmap_known(cases[i].header));
		else
			assert_string_equal(colmap_known(cases[i].header),
			    cases[i].key);
	}
	assert_true(colmap_same("Participant name", "participant_name"));
	assert_false(colmap_same("", ""));
}

static void
test_colmap_map(void **state)
{
	struct colmap m;
	char	      err[256];

	(void)state;
	memset(&m, 0, sizeof m);
	assert_int_equal(colmap_parse(&m,
			     "First name=given, Last name = family,"
			     "Country=party,Phone=,",
			     err, sizeof err),
	    0);
	assert_int_equal(m.n, 4);
	assert_string_equal(colmap_lookup(&m, "first NAME"), "given");
	assert_string_equal(colmap_lookup(&m, "Last name"), "family");
	assert_string_equal(colmap_lookup(&m, "COUNTRY"), "party");
	assert_string_equal(colmap_lookup(&m, "Phone"), "");
	assert_null(colmap_lookup(&m, "Email"));
	colmap_free(&m);
	assert_int_equal(m.n, 0);

	assert_int_equal(colmap_parse(&m, "Country", err, sizeof err), -1);
	assert_non_null(strstr(err, "\"Country\" is not HEADER=KEY"));
	colmap_free(&m);
	assert_int_equal(colmap_parse(&m, "Country=Party", err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "a key in lower case"));
	colmap_free(&m);
	assert_int_equal(colmap_parse(&m, "=party", err, sizeof err), -1);
	colmap_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colmap_fold),
		cmocka_unit_test(test_colmap_trim),
		cmocka_unit_test(test_colmap_known),
		cmocka_unit_test(test_colmap_map),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
