/*
 * test_httphead.c -- unit tests for proto/httphead.c: the head of an HTTP
 * request as the HTTPS face reads it (proto_http_head), the session
 * cookie (proto_http_cookie) and If-None-Match (proto_http_etag_match).
 *
 * Table-driven: each good head with what it says, each bad one with the
 * status it is answered with and the start of why. Every head is handed
 * over in a copy of exactly its length, so that a build with
 * AddressSanitizer sees any read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define TOKEN	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int
parse(const char *head, size_t len, struct proto_http_head *h, int *status,
    const char **why)
{
	char *copy;
	int   rc;

	if (len == 0)
		len = strlen(head);
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, head, len);
	rc = proto_http_head(copy, len, h, status, why);
	free(copy);
	return (rc);
}

struct good_case {
	const char *head;
	const char *method;
	const char *target;
	int	    minor;
	long long   length;
	int	    json, close, keep;
	const char *host;
};

static const struct good_case good_cases[] = {
	{ "GET / HTTP/1.1\r\n\r\n", "GET", "/", 1, -1, 0, 0, 0, "" },
	{ "GET /api/watch?event=E1 HTTP/1.0\r\nHost: a.b\r\n\r\n", "GET",
	    "/api/watch?event=E1", 0, -1, 0, 0, 0, "a.b" },
	{ "POST /api HTTP/1.1\r\nContent-Type: application/json\r\n"
	  "Content-Length: 0042\r\nConnection: keep-alive, Upgrade\r\n\r\n",
	    "POST", "/api", 1, 42, 1, 0, 1, "" },
	/* names without regard to case, values trimmed of SP and TAB */
	{ "POST /api HTTP/1.1\r\ncOnTeNt-TyPe:\t APPLICATION/JSON; "
	  "charset=utf-8 \r\nconnection: Close\r\nHOST:  h:7471\t\r\n\r\n",
	    "POST", "/api", 1, -1, 1, 1, 0, "h:7471" },
	/* not JSON: a longer type, a shorter one */
	{ "POST /api HTTP/1.1\r\nContent-Type: application/jsonx\r\n\r\n",
	    "POST", "/api", 1, -1, 0, 0, 0, "" },
	{ "POST /api HTTP/1.1\r\nContent-Type: application/js\r\n\r\n", "POST",
	    "/api", 1, -1, 0, 0, 0, "" },
	/* unknown headers, obs-text and an empty value are fine */
	{ "HEAD /x.js HTTP/1.1\r\nX-Thing: caf\xc3\xa9\r\nX-Empty:\r\n\r\n",
	    "HEAD", "/x.js", 1, -1, 0, 0, 0, "" },
	{ "OPTIONS / HTTP/1.1\r\n\r\n", "OPTIONS", "/", 1, -1, 0, 0, 0, "" },
};

static void
test_good(void **state)
{
	struct proto_http_head h;
	const char	      *why = NULL;
	size_t		       i;
	int		       status;

	(void)state;
	for (i = 0; i < nitems(good_cases); i++) {
		const struct good_case *c = &good_cases[i];

		if (parse(c->head, 0, &h, &status, &why) != 0)
			fail_msg("case %zu refused: %s", i, why);
		assert_string_equal(h.method, c->method);
		assert_string_equal(h.target, c->target);
		assert_int_equal(h.minor, c->minor);
		assert_int_equal(h.length, c->length);
		assert_int_equal(h.json, c->json);
		assert_int_equal(h.conn_close, c->close);
		assert_int_equal(h.conn_keep, c->keep);
		assert_string_equal(h.host, c->host);
	}
}

struct bad_case {
	const char *head;
	size_t	    len; /* 0: strlen(head) */
	int	    status;
	const char *why; /* the start of it */
};

static const struct bad_case bad_cases[] = {
	{ "\r\n\r\n", 0, 400, "bad request line" },
	{ "GET / HTTP/1.1\n\r\n\r\n", 0, 400, "bad request line" },
	{ "GET\r\n\r\n", 0, 400, "bad request line" },
	{ " GET / HTTP/1.1\r\n\r\n", 0, 400, "bad request line" },
	{ "get / HTTP/1.1\r\n\r\n", 0, 400, "bad method" },
	{ "GETTINGS / HTTP/1.1\r\n\r\n", 0, 400, "bad request line" },
	{ "GET x HTTP/1.1\r\n\r\n", 0, 400, "bad request target" },
	{ "GET /a\x7f HTTP/1.1\r\n\r\n", 0, 400, "bad request target" },
	{ "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", 0, 400, "bad request target" },
	{ "GET / HTTP/2.0\r\n\r\n", 0, 505, "only HTTP/1.0" },
	{ "GET / HTTP/1.2\r\n\r\n", 0, 505, "only HTTP/1.0" },
	{ "GET / HTTP/1.1 \r\n\r\n", 0, 505, "only HTTP/1.0" },
	{ "GET / HTTP/1.1\r\nHost a\r\n\r\n", 0, 400, "bad header line" },
	{ "GET / HTTP/1.1\r\n: a\r\n\r\n", 0, 400, "bad header line" },
	{ "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 0, 400, "bad header name" },
	{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, 400, "bad header name" },
	/* a folded line (obs-fold) is refused, not joined */
	{ "GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 0, 400, "bad header" },
	/* a NUL in a header's name (found by fuzz_http) */
	{ "GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n", 26, 400, "bad header name" },
	{ "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 0, 400, "control character" },
	{ "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28, 400, "control character" },
	{ "GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n", 0, 400, "bad header line" },
	{ "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
	    0, 400, "bad Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 0, 400,
	    "bad Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 0, 400,
	    "bad Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length: 1234567890123\r\n\r\n", 0, 400,
	    "bad Content-Length" },
	{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 0, 400,
	    "bad Content-Length" },
	{ "GET / HTTP/1.1\r\nX-A: a\r\n", 0, 400, "bad head" },
};

static void
test_bad(void **state)
{
	struct proto_http_head h;
	const char	      *why = NULL;
	size_t		       i;
	int		       status;

	(void)state;
	for (i = 0; i < nitems(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		why = NULL;
		if (parse(c->head, c->len, &h, &status, &why) != -1)
			fail_msg("case %zu taken", i);
		assert_non_null(why);
		if (strncmp(why, c->why, strlen(c->why)) != 0)
			fail_msg("case %zu: why \"%s\", not \"%s...\"", i, why,
			    c->why);
		assert_int_equal(status, c->status);
	}
}

/* The bounds: the target, the headers' count, Host and Origin. */
static void
test_limits(void **state)
{
	struct proto_http_head h;
	const char	      *why;
	char		       buf[PROTO_HTTP_MAX_HEAD * 2];
	size_t		       n;
	int		       status, i;

	(void)state;
	n = (size_t)snprintf(buf, sizeof buf, "GET /%0*d HTTP/1.1\r\n\r\n",
	    PROTO_HTTP_MAX_TARGET - 1, 0);
	assert_int_equal(parse(buf, n, &h, &status, &why), 0);
	assert_int_equal(strlen(h.target), PROTO_HTTP_MAX_TARGET);
	n = (size_t)snprintf(buf, sizeof buf, "GET /%0*d HTTP/1.1\r\n\r\n",
	    PROTO_HTTP_MAX_TARGET, 0);
	assert_int_equal(parse(buf, n, &h, &status, &why), -1);
	assert_int_equal(status, 414);

	for (i = 64; i <= 65; i++) {
		int k;

		n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
		for (k = 0; k < i; k++)
			n += (size_t)snprintf(buf + n, sizeof buf - n,
			    "X-%d: v\r\n", k);
		n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
		if (i == 64)
			assert_int_equal(parse(buf, n, &h, &status, &why), 0);
		else {
			assert_int_equal(parse(buf, n, &h, &status, &why), -1);
			assert_int_equal(status, 431);
		}
	}

	n = (size_t)snprintf(buf, sizeof buf,
	    "GET / HTTP/1.1\r\nHost: %0*d\r\n\r\n", 255, 0);
	assert_int_equal(parse(buf, n, &h, &status, &why), 0);
	assert_int_equal(strlen(h.host), 255);
	n = (size_t)snprintf(buf, sizeof buf,
	    "GET / HTTP/1.1\r\nOrigin: %0*d\r\n\r\n", 256, 0);
	assert_int_equal(parse(buf, n, &h, &status, &why), -1);
	assert_string_equal(why, "Origin too long");
	/* an X-CSRF-Token or If-None-Match too long is as good as none */
	n = (size_t)snprintf(buf, sizeof buf,
	    "GET / HTTP/1.1\r\nX-CSRF-Token: %s0\r\n"
	    "If-None-Match: \"%0*d\"\r\n\r\n",
	    TOKEN, 300, 0);
	assert_int_equal(parse(buf, n, &h, &status, &why), 0);
	assert_string_equal(h.csrf, "");
	assert_string_equal(h.if_none_match, "");
}

static void
test_fields(void **state)
{
	struct proto_http_head h;
	const char	      *why;
	int		       status;

	(void)state;
	assert_int_equal(
	    parse("GET / HTTP/1.1\r\nCookie: a=b; __Host-roster=" TOKEN
		  "; c=d\r\nX-CSRF-Token: " TOKEN
		  "\r\nIf-None-Match: W/\"1-2\", \"3\"\r\n"
		  "Origin: https://h\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
		0, &h, &status, &why),
	    0);
	assert_string_equal(h.token, TOKEN);
	assert_string_equal(h.csrf, TOKEN);
	assert_string_equal(h.if_none_match, "W/\"1-2\", \"3\"");
	assert_string_equal(h.origin, "https://h");
	assert_int_equal(h.chunked, 1);
	assert_int_equal(h.has_ctype, 0);
}

static void
test_cookie(void **state)
{
	static const struct {
		const char *value;
		const char *token;
	} cases[] = {
		{ "__Host-roster=" TOKEN, TOKEN },
		{ " a=1;;__Host-roster=" TOKEN "; b=2", TOKEN },
		{ "__Host-roster=" TOKEN "0", "" }, /* too long */
		{ "__Host-roster=0123456789ABCDEF0123456789abcdef0123456789"
		  "abcdef0123456789abcdef",
		    "" },			 /* upper case */
		{ "__host-roster=" TOKEN, "" },	 /* its name's case */
		{ "x__Host-roster=" TOKEN, "" }, /* another name */
		{ "__Host-roster=" TOKEN "; __Host-roster=", TOKEN },
		{ "", "" },
	};
	char   token[PROTO_HTTP_TOKEN_LEN + 1], *copy;
	size_t i, n;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		n = strlen(cases[i].value);
		copy = malloc(n + 1);
		assert_non_null(copy);
		memcpy(copy, cases[i].value, n);
		token[0] = '\0';
		proto_http_cookie(copy, n, token);
		free(copy);
		if (strcmp(token, cases[i].token) != 0)
			fail_msg("case %zu: \"%s\"", i, token);
	}
}

static void
test_etag(void **state)
{
	static const struct {
		const char *list;
		const char *etag;
		int	    match;
	} cases[] = {
		{ "\"1a-2b\"", "\"1a-2b\"", 1 },
		{ "W/\"1a-2b\"", "\"1a-2b\"", 1 }, /* weak comparison */
		{ "\"1a-2b\"", "W/\"1a-2b\"", 1 },
		{ "\"x\", \"1a-2b\"", "\"1a-2b\"", 1 },
		{ "\"x\",\"1a-2b\"", "\"1a-2b\"", 1 },
		{ "*", "\"1a-2b\"", 1 },
		{ " , *", "\"1a-2b\"", 1 },
		{ "\"1a-2\"", "\"1a-2b\"", 0 },
		{ "\"1a-2b\"x", "\"1a-2b\"", 0 },
		{ "1a-2b", "\"1a-2b\"", 0 }, /* not quoted */
		{ "\"a, b\"", "\"a\"", 0 },  /* a comma inside the quotes */
		{ "\"a, b\"", "\"a, b\"", 1 },
		{ "", "\"1a-2b\"", 0 },
		{ "\"", "\"1a-2b\"", 0 },
		{ "W/", "\"1a-2b\"", 0 },
		{ "\"1a-2b\"", "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		if (proto_http_etag_match(cases[i].list, cases[i].etag) !=
		    cases[i].match)
			fail_msg("case %zu: [%s] [%s]", i, cases[i].list,
			    cases[i].etag);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_etag),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
