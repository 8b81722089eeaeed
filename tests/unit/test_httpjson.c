/*
 * test_httpjson.c -- unit tests for daemon/http-json.c: the body of
 * POST /api and the query string of a GET into the protocol line they
 * stand for, and the refusals' texts (which an HTTP answer carries in
 * JSON: one line, UTF-8).
 *
 * Every body is handed over in a copy of exactly its length, so that a
 * build with AddressSanitizer sees any read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rosterd.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

static int
body(const char *doc, size_t len, struct proto_buf *line, char *why,
    size_t whylen)
{
	char *copy;
	int   rc;

	if (len == 0)
		len = strlen(doc);
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, doc, len);
	rc = http_json_request(copy, len, line, why, whylen);
	free(copy);
	return (rc);
}

static void
test_bodies(void **state)
{
	static const struct {
		const char *doc;
		const char *line;
	} cases[] = {
		{ "{\"command\":\"PING\"}", "PING" },
		{ "{\"command\":\"participant set\",\"keys\":{\"id\":12,"
		  "\"name\":\"Ay\\u015fe \\\"Y\\\"\"}}",
		    "participant set id=12 name=\"Ay\xc5\x9f"
		    "e \\\"Y\\\"\"" },
		{ "{\"keys\":{\"note\":\"a\\nb\\tc\\rd\"},\"command\":\"X Y\"}",
		    "X Y note=\"a\\nb\\tc\\rd\"" },
		{ "{\"command\":\"X\",\"keys\":{\"n\":-3,\"e\":\"\"}}",
		    "X n=-3 e=\"\"" },
	};
	struct proto_buf line;
	char		 why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		proto_buf_init(&line);
		if (body(cases[i].doc, 0, &line, why, sizeof why) != 0)
			fail_msg("case %zu refused: %s", i, why);
		assert_string_equal(line.data, cases[i].line);
		proto_buf_free(&line);
	}
}

static void
test_bad_bodies(void **state)
{
	static const struct {
		const char *doc;
		size_t	    len;
		const char *why; /* the start of it */
	} cases[] = {
		{ "", 0, "malformed JSON" },
		{ "[1]", 0, "the body must be a JSON object" },
		{ "{\"command\":\"PING\",\"x\":1}", 0, "unknown member" },
		{ "{\"command\":\"PING\",\"command\":\"PING\"}", 0,
		    "malformed JSON" },
		{ "{\"command\":\"A B C\"}", 0, "command: a string" },
		{ "{\"command\":\"A  B\"}", 0, "command: a string" },
		{ "{\"command\":\"A1\"}", 0, "command: a string" },
		{ "{\"command\":7}", 0, "command: a string" },
		{ "{\"command\":\"X\",\"keys\":[]}", 0, "keys: must be" },
		{ "{\"command\":\"X\",\"keys\":{\"Id\":\"1\"}}", 0,
		    "bad key name" },
		{ "{\"command\":\"X\",\"keys\":{\"a\":1.5}}", 0,
		    "keys: each value" },
		{ "{\"command\":\"X\",\"keys\":{\"a\":null}}", 0,
		    "keys: each value" },
		{ "{\"command\":\"X\",\"keys\":{\"a\":\"\\u0001\"}}", 0,
		    "a: control character" },
		{ "{\"command\":\"X\",\"keys\":{\"a\":\"\\u0000\"}}", 0,
		    "malformed JSON" },
		/* jansson's text quotes the body: a control, and bytes that
		 * are not UTF-8 (found by fuzz_http) */
		{ "{\"command\":\"X\",\"keys\":{\x02}}", 0, "malformed JSON" },
		{ "{\"command\":\xff\xfe}", 0, "malformed JSON" },
		{ "{\"command\":\"X\",\"k\x01\":1}", 0, "malformed JSON" },
		{ "{\"command\":\"\x00\"}", 16, "malformed JSON" },
	};
	struct proto_buf line;
	char		 why[256];
	size_t		 i, j;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		proto_buf_init(&line);
		why[0] = '\0';
		if (body(cases[i].doc, cases[i].len, &line, why, sizeof why) !=
		    -1)
			fail_msg("case %zu taken: %s", i, line.data);
		proto_buf_free(&line);
		if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
			fail_msg("case %zu: why \"%s\"", i, why);
		for (j = 0; why[j] != '\0'; j++)
			if (proto_is_ctl((unsigned char)why[j]))
				fail_msg("case %zu: a control in why", i);
		if (!proto_utf8_valid(why, strlen(why)))
			fail_msg("case %zu: why is not UTF-8", i);
	}
}

static void
test_queries(void **state)
{
	static const struct {
		const char *query;
		int	    rc;
		const char *line; /* or the start of why */
	} cases[] = {
		{ NULL, 0, "WATCH" },
		{ "", 0, "WATCH" },
		{ "event=E1", 0, "WATCH event=E1" },
		{ "&event=E1&&x=a+b%3D%c3%a9&", 0,
		    "WATCH event=E1 x=\"a b=\xc3\xa9\"" },
		{ "x=%0a", 0, "WATCH x=\"\\n\"" },
		{ "x=", 0, "WATCH x=\"\"" },
		{ "x", -1, "query: key=value pairs" },
		{ "x=%4", -1, "query: bad % escape" },
		{ "x=%zz", -1, "query: bad % escape" },
		{ "%78%00=1", -1, "bad key name" },
		{ "X=1", -1, "bad key name" },
		{ "x=%01", -1, "x: control character" },
	};
	struct proto_buf line;
	char		 why[256];
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		proto_buf_init(&line);
		why[0] = '\0';
		rc = http_query_request("WATCH", cases[i].query, &line, why,
		    sizeof why);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_string_equal(line.data, cases[i].line);
		else if (strncmp(why, cases[i].line, strlen(cases[i].line)) !=
		    0)
			fail_msg("case %zu: why \"%s\"", i, why);
		proto_buf_free(&line);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_queries),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
