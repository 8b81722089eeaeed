/*
 * test_notify.c -- unit tests for daemon/notify.c: NOTIFY payloads (the
 * JSON objects of roster._notify) into WATCH lines "! KIND k=v ...\n".
 *
 * Table-driven: each good payload with its exact line and event code, each
 * bad one with the start of the reason it is refused for. Every payload is
 * handed over in a copy of exactly its length, so that a build with
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

#include "rosterd.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define WHYLEN	  128
#define FFFD	  "\xef\xbf\xbd"

struct good_case {
	const char *payload;
	size_t	    len; /* 0: strlen(payload) */
	const char *event;
	const char *line;
};

static const struct good_case good_cases[] = {
	/* The shapes the SQL in sql/ sends, compact and as json_build_object
	 * spaces them. */
	{ "{\"event\":\"E1\",\"kind\":\"participant.added\",\"id\":\"12\","
	  "\"party\":\"TR\",\"name\":\"Serra Albayrako\xc4\x9flu\","
	  "\"role\":\"head\"}",
	    0, "E1",
	    "! participant.added id=12 party=TR "
	    "name=\"Serra Albayrako\xc4\x9flu\" role=head\n" },
	{ "{\"event\" : \"E1\", \"kind\" : \"checkin\", \"id\" : \"7\", "
	  "\"party\" : \"TR\", \"name\" : \"Ay\xc5\x9f"
	  "e\", "
	  "\"session\" : \"S1\", \"checked_in\" : \"2025-11-26T07:00:00Z\"}",
	    0, "E1",
	    "! checkin id=7 party=TR name=Ay\xc5\x9f"
	    "e session=S1 "
	    "checked_in=2025-11-26T07:00:00Z\n" },
	{ "{\"event\":\"GFMD2025\",\"kind\":\"event.updated\","
	  "\"status\":\"open\",\"version\":\"3\"}",
	    0, "GFMD2025", "! event.updated status=open version=3\n" },
	{ "{\"event\":\"E1\",\"kind\":\"enrol\",\"session\":\"S1\","
	  "\"id\":\"4\",\"party\":\"HU\",\"name\":\"T\xc3\xad"
	  "mea\","
	  "\"status\":\"enrolled\",\"promoted\":\"1\"}",
	    0, "E1",
	    "! enrol session=S1 id=4 party=HU name=T\xc3\xad"
	    "mea "
	    "status=enrolled promoted=1\n" },
	{ "{\"event\":\"E1\",\"kind\":\"session.created\",\"session\":\"S1\","
	  "\"title\":\"Opening plenary\","
	  "\"starts\":\"2025-11-26T10:00+03:00\"}",
	    0, "E1",
	    "! session.created session=S1 title=\"Opening plenary\" "
	    "starts=2025-11-26T10:00+03:00\n" },

	/* Only event and kind; kind first whatever the order; event not
	 * written; codes keep their case. */
	{ "{\"event\":\"E1\",\"kind\":\"event.created\"}", 0, "E1",
	    "! event.created\n" },
	{ "{\"id\":\"1\",\"kind\":\"enrol\",\"status\":\"enrolled\","
	  "\"event\":\"e1\"}",
	    0, "e1", "! enrol id=1 status=enrolled\n" },
	{ "{\"kind\":\"Participant.Added\",\"event\":\"E-1_a.B\"}", 0,
	    "E-1_a.B", "! Participant.Added\n" },

	/* Null values are left out. */
	{ "{\"event\":\"E1\",\"kind\":\"enrol\",\"session\":null,\"id\":\"3\","
	  "\"was\":null}",
	    0, "E1", "! enrol id=3\n" },

	/* Non-string scalars as they are. */
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"quota\":3,\"neg\":-12,"
	  "\"zero\":0,\"big\":9223372036854775807,"
	  "\"small\":-9223372036854775808}",
	    0, "E1",
	    "! x quota=3 neg=-12 zero=0 big=9223372036854775807 "
	    "small=-9223372036854775808\n" },
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"a\":1.5,\"b\":0.1,\"c\":2.0,"
	  "\"d\":-0.25,\"e\":3.14159,\"f\":0.30000000000000004}",
	    0, "E1",
	    "! x a=1.5 b=0.1 c=2.0 d=-0.25 e=3.14159 "
	    "f=0.30000000000000004\n" },
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"a\":1.50,\"b\":1e5,"
	  "\"c\":-1.25e-7,\"d\":1E+2}",
	    0, "E1", "! x a=1.5 b=1e5 c=-1.25e-7 d=1e2\n" },
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"t\":true,\"f\":false}", 0, "E1",
	    "! x t=true f=false\n" },

	/* Strings: quoted and escaped when needed, JSON escapes decoded. */
	{ "{\"event\":\"E1\",\"kind\":\"participant.added\","
	  "\"name\":\"Anna \\\"Ani\\\" Back\\\\slash = \\u00d8re "
	  "\\ud83d\\ude00\"}",
	    0, "E1",
	    "! participant.added name=\"Anna \\\"Ani\\\" Back\\\\slash = "
	    "\xc3\x98re \xf0\x9f\x98\x80\"\n" },
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"a\":\"\\u0419\\u0432\\/\","
	  "\"b\":\"a=b\",\"c\":\"\",\"d\":\"\\u2028\"}",
	    0, "E1",
	    "! x a=\xd0\x99\xd0\xb2/ b=\"a=b\" c=\"\" d=\xe2\x80\xa8\n" },
	{ "{\"event\":\"\\u0045\\u0031\",\"kind\":\"\\u006b\"}", 0, "E1",
	    "! k\n" },

	/* Controls never reach the line raw: LF, TAB and CR as escapes,
	 * others as U+FFFD. */
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"note\":\"a\\nb\\tc\\rd\"}", 0,
	    "E1", "! x note=\"a\\nb\\tc\\rd\"\n" },
	{ "{\"event\":\"E1\",\"kind\":\"x\",\"v\":\"\\u0001\\u001f\\u007f"
	  "\\b\\f\"}",
	    0, "E1", "! x v=\"" FFFD FFFD FFFD FFFD FFFD "\"\n" },

	/* White space around and inside. */
	{ " \n\t{ \"event\" :\"E1\" ,\r\n\"kind\": \"k\" }\r\n\t ", 0, "E1",
	    "! k\n" },

	/* The length given, not a NUL, ends the payload. */
	{ "{\"event\":\"E1\",\"kind\":\"k\"}GARBAGE", 25, "E1", "! k\n" },

	/* An event code of 32 characters. */
	{ "{\"event\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\",\"kind\":\"k\"}", 0,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "! k\n" },
};

struct bad_case {
	const char *payload;
	size_t	    len; /* 0: strlen(payload) */
	const char *why; /* how the reason starts */
};

#define EK "{\"event\":\"E1\",\"kind\":\"k\","

static const struct bad_case bad_cases[] = {
	/* Truncated and broken escapes: the old decoder read past the end
	 * of the first one. */
	{ EK "\"name\":\"\\ud800\\u", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud800\\", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud800", 0, "invalid JSON" },
	{ EK "\"name\":\"\\u12", 0, "invalid JSON" },
	{ EK "\"name\":\"\\", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud800\\u\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud83d\\ude0\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\u12\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\x\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\U0041\"}", 0, "invalid JSON" },

	/* Lone surrogates, escaped or raw; other bad UTF-8. */
	{ EK "\"name\":\"\\ud800\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\udc00\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"a\\udfffb\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud800\\u0041\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\\ud800\\ud800\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\xed\xa0\x80\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\xff\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\xc0\xaf\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"\xe2\x82\"}", 0, "invalid JSON" },
	{ EK "\"n\xc3\":\"x\"}", 0, "invalid JSON" },

	/* Raw controls inside a string. */
	{ EK "\"name\":\"a\nb\"}", 0, "invalid JSON" },
	{ EK "\"name\":\"a\tb\"}", 0, "invalid JSON" },

	/* NUL: raw, escaped, after the object. */
	{ EK "\"name\":\"a\0b\"}", sizeof(EK "\"name\":\"a\0b\"}") - 1,
	    "invalid JSON" },
	{ EK "\"na\0me\":\"ab\"}", sizeof(EK "\"na\0me\":\"ab\"}") - 1,
	    "invalid JSON" },
	{ EK "\"name\":\"a\\u0000b\"}", 0, "invalid JSON" },
	{ EK "\"\\u0000\":\"x\"}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\"}\0", 26, "invalid JSON" },
	{ "\0{\"event\":\"E1\",\"kind\":\"k\"}", 26, "invalid JSON" },

	/* Trailing garbage, truncation, other bad JSON. */
	{ "{\"event\":\"E1\",\"kind\":\"k\"} x", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\"}{}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\"},", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\"}}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\"", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\",}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\" \"id\":1}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\",\"id\"}", 0, "invalid JSON" },
	{ "{\"event\":\"E1\",\"kind\":\"k\",\"id\":}", 0, "invalid JSON" },
	{ "{'event':'E1','kind':'k'}", 0, "invalid JSON" },
	{ "{event:\"E1\",kind:\"k\"}", 0, "invalid JSON" },
	{ EK "\"id\":foo}", 0, "invalid JSON" },
	{ EK "\"id\":NaN}", 0, "invalid JSON" },
	{ EK "\"id\":01}", 0, "invalid JSON" },
	{ EK "\"id\":1.}", 0, "invalid JSON" },
	{ EK "\"id\":+1}", 0, "invalid JSON" },
	{ EK "\"id\":1 /* c */}", 0, "invalid JSON" },
	{ EK "\"id\":123456789012345678901}", 0, "invalid JSON" },
	{ EK "\"id\":9223372036854775808}", 0, "invalid JSON" },
	{ EK "\"id\":1e400}", 0, "invalid JSON" },
	{ "", 0, "invalid JSON" },
	{ "   ", 0, "invalid JSON" },
	{ "{", 0, "invalid JSON" },

	/* A key twice, kind and event included. */
	{ EK "\"id\":\"1\",\"id\":\"2\"}", 0, "invalid JSON" },
	{ EK "\"kind\":\"k2\"}", 0, "invalid JSON" },
	{ EK "\"event\":\"E2\"}", 0, "invalid JSON" },

	/* Not an object. */
	{ "[]", 0, "not an object" },
	{ "[{\"event\":\"E1\",\"kind\":\"k\"}]", 0, "not an object" },
	{ "\"E1\"", 0, "not an object" },
	{ "1", 0, "not an object" },
	{ "null", 0, "not an object" },
	{ "true", 0, "not an object" },

	/* Nested values. */
	{ EK "\"a\":{\"b\":1}}", 0, "a: nested value" },
	{ EK "\"a\":{}}", 0, "a: nested value" },
	{ EK "\"a\":[1]}", 0, "a: nested value" },
	{ EK "\"a\":[]}", 0, "a: nested value" },
	{ "{\"event\":\"E1\",\"kind\":{\"x\":1}}", 0, "no kind" },
	{ "{\"event\":[\"E1\"],\"kind\":\"k\"}", 0, "no event code" },

	/* event and kind: present, strings, codes. */
	{ "{}", 0, "no event code" },
	{ "{\"kind\":\"k\"}", 0, "no event code" },
	{ "{\"event\":\"E1\"}", 0, "no kind" },
	{ "{\"event\":null,\"kind\":\"k\"}", 0, "no event code" },
	{ "{\"event\":\"E1\",\"kind\":null}", 0, "no kind" },
	{ "{\"event\":1,\"kind\":\"k\"}", 0, "no event code" },
	{ "{\"event\":\"E1\",\"kind\":true}", 0, "no kind" },
	{ "{\"event\":\"\",\"kind\":\"k\"}", 0, "no event code" },
	{ "{\"event\":\"E1\",\"kind\":\"\"}", 0, "no kind" },
	{ "{\"event\":\"E 1\",\"kind\":\"k\"}", 0, "no event code" },
	{ "{\"event\":\"E1\",\"kind\":\"a b\"}", 0, "no kind" },
	{ "{\"event\":\"E1\",\"kind\":\"a\\nb\"}", 0, "no kind" },
	{ "{\"event\":\"E1\",\"kind\":\"k\\n! forged\"}", 0, "no kind" },
	{ "{\"event\":\"E1\",\"kind\":\".k\"}", 0, "no kind" },
	{ "{\"event\":\"E1\",\"kind\":\"\xc3\xa9\"}", 0, "no kind" },
	{ "{\"event\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\",\"kind\":\"k\"}", 0,
	    "no event code" },
	{ "{\"Event\":\"E1\",\"kind\":\"k\"}", 0, "no event code" },

	/* Keys must be protocol keys: they are written unquoted. */
	{ EK "\"Name\":\"x\"}", 0, "a key not" },
	{ EK "\"a b\":\"x\"}", 0, "a key not" },
	{ EK "\"a=b\":\"x\"}", 0, "a key not" },
	{ EK "\"\":\"x\"}", 0, "a key not" },
	{ EK "\"a\\nb\":\"x\"}", 0, "a key not" },
	{ EK "\"a-b\":\"x\"}", 0, "a key not" },
	{ EK "\"\xc3\xa9\":\"x\"}", 0, "a key not" },
	{ EK "\"abcdefghijklmnopqrstuvwxyz0123456\":\"x\"}", 0, "a key not" },
	{ EK "\"Name\":null}", 0, "a key not" },
};

/* A copy of exactly len bytes (and no NUL after them). */
static char *
copy_exact(const char *s, size_t len)
{
	char *p;

	p = malloc(len > 0 ? len : 1);
	assert_non_null(p);
	if (len > 0)
		memcpy(p, s, len);
	return (p);
}

/* notify_line on a copy of payload[0..len); out starts as "old". */
static int
run(const char *payload, size_t len, struct proto_buf *out, char *event,
    size_t eventlen, char *why)
{
	char *p;
	int   rc;

	proto_buf_init(out);
	proto_buf_addstr(out, "old");
	p = copy_exact(payload, len);
	memset(event, 'x', eventlen);
	rc = notify_line(p, len, out, event, eventlen, why, WHYLEN);
	free(p);
	return (rc);
}

static void
check_good(size_t i, const char *payload, size_t len, const char *wevent,
    const char *wline)
{
	struct proto_buf   out;
	struct proto_reply rep;
	char		   event[PROTO_MAX_CODE + 1], why[WHYLEN];

	if (run(payload, len, &out, event, sizeof event, why) != 0)
		fail_msg("good case %zu [%.*s]: refused: %s", i, (int)len,
		    payload, why);
	if (strcmp(event, wevent) != 0)
		fail_msg("good case %zu: event [%s], want [%s]", i, event,
		    wevent);
	if (out.len < 3 || memcmp(out.data, "old", 3) != 0 ||
	    strcmp(out.data + 3, wline) != 0)
		fail_msg("good case %zu: line [%s], want [old%s]", i, out.data,
		    wline);
	/* The client's parser reads it as a notification. */
	if (proto_parse_reply(out.data + 3, out.len - 4, &rep) !=
	    PROTO_LINE_NOTIFY)
		fail_msg("good case %zu: [%s] is not a ! line", i, out.data);
	proto_reply_free(&rep);
	proto_buf_free(&out);
}

static void
check_bad(size_t i, const char *payload, size_t len, const char *wwhy)
{
	struct proto_buf out;
	char		 event[PROTO_MAX_CODE + 1], why[WHYLEN];
	size_t		 j;

	if (run(payload, len, &out, event, sizeof event, why) != -1)
		fail_msg("bad case %zu [%.*s]: accepted: [%s]", i, (int)len,
		    payload, out.data);
	if (strcmp(out.data, "old") != 0 || out.len != 3)
		fail_msg("bad case %zu: out changed to [%s]", i, out.data);
	if (event[0] != '\0')
		fail_msg("bad case %zu: event not emptied", i);
	if (strncmp(why, wwhy, strlen(wwhy)) != 0)
		fail_msg("bad case %zu [%.*s]: why [%s], want [%s...]", i,
		    (int)len, payload, why, wwhy);
	for (j = 0; why[j] != '\0'; j++)
		if (proto_is_ctl((unsigned char)why[j]))
			fail_msg("bad case %zu: control in why", i);
	proto_buf_free(&out);
}

static void
test_good(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good_cases); i++)
		check_good(i, good_cases[i].payload,
		    good_cases[i].len ?
			good_cases[i].len :
			strlen(good_cases[i].payload),
		    good_cases[i].event, good_cases[i].line);
}

static void
test_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad_cases); i++)
		check_bad(i, bad_cases[i].payload,
		    bad_cases[i].len ?
			bad_cases[i].len :
			strlen(bad_cases[i].payload),
		    bad_cases[i].why);
}

/* {"event":"E1","kind":"k","f3":"v",...} with n members in all. */
static void
make_members(struct proto_buf *b, int n)
{
	char s[32];
	int  i;

	proto_buf_addstr(b, "{\"event\":\"E1\",\"kind\":\"k\"");
	for (i = 3; i <= n; i++) {
		snprintf(s, sizeof s, ",\"f%d\":\"v\"", i);
		proto_buf_addstr(b, s);
	}
	proto_buf_addch(b, '}');
	assert_false(b->oom);
}

static void
test_field_limit(void **state)
{
	struct proto_buf b, want;
	char		 s[32];
	int		 i;

	(void)state;
	proto_buf_init(&b);
	proto_buf_init(&want);
	make_members(&b, NOTIFY_MAX_FIELDS);
	proto_buf_addstr(&want, "! k");
	for (i = 3; i <= NOTIFY_MAX_FIELDS; i++) {
		snprintf(s, sizeof s, " f%d=v", i);
		proto_buf_addstr(&want, s);
	}
	proto_buf_addch(&want, '\n');
	check_good(0, b.data, b.len, "E1", want.data);

	proto_buf_reset(&b);
	make_members(&b, NOTIFY_MAX_FIELDS + 1);
	check_bad(0, b.data, b.len, "more than 32 members");

	/* Nulls count too: the limit is on the payload. */
	proto_buf_reset(&b);
	make_members(&b, NOTIFY_MAX_FIELDS);
	b.data[--b.len] = '\0';
	proto_buf_addstr(&b, ",\"gone\":null}");
	check_bad(1, b.data, b.len, "more than 32 members");
	proto_buf_free(&b);
	proto_buf_free(&want);
}

/* A payload of exactly n bytes: a name of x's. */
static void
make_long(struct proto_buf *b, size_t n)
{
	const char *head = "{\"event\":\"E1\",\"kind\":\"k\",\"name\":\"";
	size_t	    i;

	proto_buf_addstr(b, head);
	for (i = strlen(head) + 2; i < n; i++)
		proto_buf_addch(b, 'x');
	proto_buf_addstr(b, "\"}");
	assert_false(b->oom);
	assert_int_equal(b->len, n);
}

static void
test_length_limit(void **state)
{
	struct proto_buf b, want;
	size_t		 i, nx;

	(void)state;
	proto_buf_init(&b);
	proto_buf_init(&want);
	make_long(&b, NOTIFY_MAX_PAYLOAD);
	nx = NOTIFY_MAX_PAYLOAD -
	    strlen("{\"event\":\"E1\",\"kind\":\"k\","
		   "\"name\":\"\"}");
	proto_buf_addstr(&want, "! k name=");
	for (i = 0; i < nx; i++)
		proto_buf_addch(&want, 'x');
	proto_buf_addch(&want, '\n');
	check_good(0, b.data, b.len, "E1", want.data);

	proto_buf_reset(&b);
	make_long(&b, NOTIFY_MAX_PAYLOAD + 1);
	check_bad(0, b.data, b.len, "payload over 8000 bytes");

	/* White space counts as well. */
	proto_buf_reset(&b);
	proto_buf_addstr(&b, "{\"event\":\"E1\",\"kind\":\"k\"}");
	while (b.len <= NOTIFY_MAX_PAYLOAD)
		proto_buf_addch(&b, ' ');
	check_bad(1, b.data, b.len, "payload over 8000 bytes");
	proto_buf_free(&b);
	proto_buf_free(&want);
}

/* An event code that does not fit the caller's buffer is refused, never
 * cut (a cut code could match another event). */
static void
test_event_buffer(void **state)
{
	const char	*p = "{\"event\":\"E123\",\"kind\":\"k\"}";
	struct proto_buf out;
	char		 event[5], why[WHYLEN];

	(void)state;
	assert_int_equal(run(p, strlen(p), &out, event, sizeof event, why), 0);
	assert_string_equal(event, "E123");
	proto_buf_free(&out);
	assert_int_equal(run(p, strlen(p), &out, event, 4, why), -1);
	assert_string_equal(event, "");
	assert_string_equal(out.data, "old");
	proto_buf_free(&out);
}

/* Signatures: HMAC-SHA256 of "CHANNEL NUMBER" (the expected values
 * computed with Python's hmac module). */
#define SIG_ROSTER \
	"20604f61c41ca4aa6ba4e8543bb9266788eb803eebfc6b790b5c81347d75bb4b"
#define SIG_USER \
	"46da6674549292923e74d576c3174e3b2b8574eac3aad623a0bd1d74a2d59b45"

static int
verify(const unsigned char *key, const char *channel, const char *payload,
    size_t *off, char *why)
{
	size_t	 len = strlen(payload);
	char	*copy = malloc(len > 0 ? len : 1);
	uint64_t number;
	int	 rc;

	assert_non_null(copy);
	memcpy(copy, payload, len);
	rc = notify_check(key, NOTIFY_KEY_LEN, channel, copy, len, &number, off,
	    why, WHYLEN);
	free(copy);
	return (rc);
}

static void
test_verify(void **state)
{
	unsigned char key[NOTIFY_KEY_LEN];
	const char   *good = SIG_ROSTER " 5 {\"event\":\"E1\",\"kind\":\"k\"}";
	char	      why[WHYLEN], bad[200];
	size_t	      i, off = 0;

	(void)state;
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	assert_int_equal(verify(key, "roster", good, &off, why), 0);
	assert_string_equal(good + off, "{\"event\":\"E1\",\"kind\":\"k\"}");
	/* the MAC is the transaction's: each of its messages carries it */
	assert_int_equal(verify(key, "roster", SIG_ROSTER " 5 {\"kind\":\"j\"}",
			     &off, why),
	    0);
	/* signed for another channel */
	assert_int_equal(verify(key, "roster_user", good, &off, why), -1);
	assert_string_equal(why, "wrong signature");
	assert_int_equal(verify(key, "roster_user", SIG_USER " 6 admin", &off,
			     why),
	    0);
	assert_string_equal(SIG_USER " 6 admin" + off, "admin");
	/* unsigned, or one bit off */
	assert_int_equal(verify(key, "roster", "{\"event\":\"E1\"}", &off, why),
	    -1);
	assert_string_equal(why, "no signature");
	snprintf(bad, sizeof bad, "%s", good);
	bad[0] = bad[0] == '9' ? '8' : '9';
	assert_int_equal(verify(key, "roster", bad, &off, why), -1);
	assert_string_equal(why, "wrong signature");
	snprintf(bad, sizeof bad, "%s", good);
	bad[65] = 'x';
	assert_int_equal(verify(key, "roster", bad, &off, why), -1);
	assert_string_equal(why, "no number");
	key[0] ^= 1;
	assert_int_equal(verify(key, "roster", good, &off, why), -1);
	assert_string_equal(why, "wrong signature");
}

/* notify_check (feed.c's): the signature, and the number handed back for
 * the caller to compare with its transaction's id; a 64-bit transaction id
 * (an epoch above 0) reads back whole. */
#define SIG_XID \
	"fba98ea9e871b846c4778ffba013a50d2933800cc01a53d5f2b5e51ca5468ae7"

static void
test_check(void **state)
{
	unsigned char key[NOTIFY_KEY_LEN];
	const char   *good = SIG_XID
	    " 4294967301 {\"event\":\"E1\",\"kind\":\"k\"}";
	char	 why[WHYLEN], bad[200];
	uint64_t number = 0;
	size_t	 i, off = 0;

	(void)state;
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	assert_int_equal(notify_check(key, sizeof key, "roster", good,
			     strlen(good), &number, &off, why, WHYLEN),
	    0);
	assert_true(number == 4294967301ULL);
	assert_true((uint32_t)number == 5);
	assert_string_equal(good + off, "{\"event\":\"E1\",\"kind\":\"k\"}");
	/* taken again: notify_check keeps no state, the caller checks */
	assert_int_equal(notify_check(key, sizeof key, "roster", good,
			     strlen(good), &number, &off, why, WHYLEN),
	    0);
	/* another number under the same signature */
	snprintf(bad, sizeof bad, "%s", good);
	bad[65 + 9] = '2';
	assert_int_equal(notify_check(key, sizeof key, "roster", bad,
			     strlen(bad), &number, &off, why, WHYLEN),
	    -1);
	assert_string_equal(why, "wrong signature");
	assert_int_equal(notify_check(key, sizeof key, "roster_web", good,
			     strlen(good), &number, &off, why, WHYLEN),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_field_limit),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_event_buffer),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_check),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
