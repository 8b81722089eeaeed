/*
 * test_proto.c -- unit tests for proto/: the grammar of PROTOCOL.md
 * sections 2 and 3 (requests, values, replies, UTF-8, formats, codes).
 *
 * Table-driven: each table row is one input and its exact expected output.
 * A failing row is reported with its index and input.
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
#define WHYLEN	  256

/* ------------------------------------------------------------------ */
/* Requests */

struct want_arg {
	const char *key;
	const char *value;
	int	    flags;
};

struct req_case {
	const char     *line;
	size_t		len; /* 0: strlen(line) */
	enum proto_code code;
	int		framing;
	const char     *command; /* on PROTO_OK */
	int		nwords;
	size_t		nargs;
	struct want_arg args[4];
	const char     *why; /* exact reason on error */
};

#define Q  PROTO_ARG_QUOTED
#define LT PROTO_ARG_LF_TAB
#define OC PROTO_ARG_OTHER_CTL

static const struct req_case req_ok_cases[] = {
	/* Command words: one or two, case-insensitive, upper-cased. */
	{ "PING", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "ping", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "PiNg", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "participant add", 0, PROTO_OK, 0, "PARTICIPANT ADD", 2, 0, { { 0 } },
	    NULL },
	{ "Participant Add", 0, PROTO_OK, 0, "PARTICIPANT ADD", 2, 0, { { 0 } },
	    NULL },
	{ "USER   LIST", 0, PROTO_OK, 0, "USER LIST", 2, 0, { { 0 } }, NULL },
	{ "   PING", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "PING   ", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "PING\r", 0, PROTO_OK, 0, "PING", 1, 0, { { 0 } }, NULL },
	{ "USER LIST \r", 0, PROTO_OK, 0, "USER LIST", 2, 0, { { 0 } }, NULL },
	{ "abcdefghijklmnopqrstuvwxyzABCDEF", 0, PROTO_OK, 0,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", 1, 0, { { 0 } }, NULL },
	{ "abcdefghijklmnopqrstuvwxyzABCDEF abcdefghijklmnopqrstuvwxyzABCDEF",
	    0, PROTO_OK, 0,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF",
	    2, 0, { { 0 } }, NULL },

	/* Empty and all-space lines: command "". */
	{ "", 0, PROTO_OK, 0, "", 0, 0, { { 0 } }, NULL },
	{ "     ", 0, PROTO_OK, 0, "", 0, 0, { { 0 } }, NULL },
	{ "\r", 0, PROTO_OK, 0, "", 0, 0, { { 0 } }, NULL },
	{ "  \r", 0, PROTO_OK, 0, "", 0, 0, { { 0 } }, NULL },

	/* Arguments. */
	{ "USE event=GFMD2025", 0, PROTO_OK, 0, "USE", 1, 1,
	    { { "event", "GFMD2025", 0 } }, NULL },
	{ "LOGIN user=admin password=s3cret-pass!", 0, PROTO_OK, 0, "LOGIN", 1,
	    2, { { "user", "admin", 0 }, { "password", "s3cret-pass!", 0 } },
	    NULL },
	{ "participant add  party=TR   name=\"Ayşe Yılmaz\"  ", 0, PROTO_OK, 0,
	    "PARTICIPANT ADD", 2, 2,
	    { { "party", "TR", 0 }, { "name", "Ayşe Yılmaz", Q } }, NULL },
	{ "X co_chair=HU n0te_2=x", 0, PROTO_OK, 0, "X", 1, 2,
	    { { "co_chair", "HU", 0 }, { "n0te_2", "x", 0 } }, NULL },
	{ "X abcdefghijklmnopqrstuvwxyz_01234=v", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "abcdefghijklmnopqrstuvwxyz_01234", "v", 0 } }, NULL },
	{ "X k=v\r", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "v", 0 } }, NULL },

	/* '=' inside bare values. */
	{ "X note=a=b", 0, PROTO_OK, 0, "X", 1, 1, { { "note", "a=b", 0 } },
	    NULL },
	{ "X note==", 0, PROTO_OK, 0, "X", 1, 1, { { "note", "=", 0 } }, NULL },
	{ "X note==a==", 0, PROTO_OK, 0, "X", 1, 1, { { "note", "=a==", 0 } },
	    NULL },

	/* Bare values with UTF-8 and punctuation. */
	{ "X name=Ğüç€😀", 0, PROTO_OK, 0, "X", 1, 1, { { "name", "Ğüç€😀", 0 } },
	    NULL },
	{ "X since=2025-11-26T07:00:00Z ref=a.b:c-d_e", 0, PROTO_OK, 0, "X", 1,
	    2,
	    { { "since", "2025-11-26T07:00:00Z", 0 },
		{ "ref", "a.b:c-d_e", 0 } },
	    NULL },

	/* Quoted values and every escape. */
	{ "X k=\"\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "", Q } }, NULL },
	{ "X k=\"\" j=1", 0, PROTO_OK, 0, "X", 1, 2,
	    { { "k", "", Q }, { "j", "1", 0 } }, NULL },
	{ "X k=\"a b\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "a b", Q } },
	    NULL },
	{ "X k=\"  \"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "  ", Q } }, NULL },
	{ "X k=\"a=b\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "a=b", Q } },
	    NULL },
	{ "X k=\"\\\"\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\"", Q } },
	    NULL },
	{ "X k=\"\\\\\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\\", Q } },
	    NULL },
	{ "X k=\"\\n\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\n", Q | LT } },
	    NULL },
	{ "X k=\"\\t\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\t", Q | LT } },
	    NULL },
	{ "X k=\"\\r\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\r", Q | OC } },
	    NULL },
	{ "X k=\"a\\nb\\rc\\td\"", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "k", "a\nb\rc\td", Q | LT | OC } }, NULL },
	{ "X k=\"say \\\"hi\\\" \\\\o/\"", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "k", "say \"hi\" \\o/", Q } }, NULL },
	{ "X k=\"\\\\n\"", 0, PROTO_OK, 0, "X", 1, 1, { { "k", "\\n", Q } },
	    NULL },
	{ "X a=\"1\" b=\"2\"", 0, PROTO_OK, 0, "X", 1, 2,
	    { { "a", "1", Q }, { "b", "2", Q } }, NULL },
	{ "X a=\"x y\"   ", 0, PROTO_OK, 0, "X", 1, 1, { { "a", "x y", Q } },
	    NULL },

	/* Edges of well-formed UTF-8 (C1 U+0080 is not a control here). */
	{ "X v=\xc2\x80", 0, PROTO_OK, 0, "X", 1, 1, { { "v", "\xc2\x80", 0 } },
	    NULL },
	{ "X v=\xdf\xbf", 0, PROTO_OK, 0, "X", 1, 1, { { "v", "\xdf\xbf", 0 } },
	    NULL },
	{ "X v=\xe0\xa0\x80", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xe0\xa0\x80", 0 } }, NULL },
	{ "X v=\xed\x9f\xbf", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xed\x9f\xbf", 0 } }, NULL },
	{ "X v=\xee\x80\x80", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xee\x80\x80", 0 } }, NULL },
	{ "X v=\xef\xbf\xbf", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xef\xbf\xbf", 0 } }, NULL },
	{ "X v=\xf0\x90\x80\x80", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xf0\x90\x80\x80", 0 } }, NULL },
	{ "X v=\xf4\x8f\xbf\xbf", 0, PROTO_OK, 0, "X", 1, 1,
	    { { "v", "\xf4\x8f\xbf\xbf", 0 } }, NULL },
};

static const struct req_case req_err_cases[] = {
	/* Command words. */
	{ "PING2", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad command word \"PING2\"" },
	{ "PI_NG", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad command word \"PI_NG\"" },
	{ "ÜSER LIST", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad command word \"ÜSER\"" },
	{ "USER AD-D", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad command word \"AD-D\"" },
	{ "PING \"x\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad command word \"\"x\"\"" },
	{ "abcdefghijklmnopqrstuvwxyzABCDEFG", 0, PROTO_SYNTAX, 0, NULL, 0, 0,
	    { { 0 } }, "command word too long (max 32 bytes)" },
	{ "USER abcdefghijklmnopqrstuvwxyzABCDEFG", 0, PROTO_SYNTAX, 0, NULL, 0,
	    0, { { 0 } }, "command word too long (max 32 bytes)" },
	{ "USER ADD EXTRA", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unexpected word \"EXTRA\" (arguments are key=value)" },
	{ "USER ADD name=x EXTRA", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unexpected word \"EXTRA\" (arguments are key=value)" },
	{ "PING x=1 y", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unexpected word \"y\" (arguments are key=value)" },
	{ "USER name=x ADD", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unexpected word \"ADD\" (arguments are key=value)" },
	{ "k=v", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "missing command before the arguments" },
	{ "  =", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "missing command before the arguments" },

	/* Keys. */
	{ "X Party=TR", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad key \"Party\" (keys are lower case a-z, 0-9, _)" },
	{ "X PARTY=TR", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad key \"PARTY\" (keys are lower case a-z, 0-9, _)" },
	{ "X co-chair=TR", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad key \"co-chair\" (keys are lower case a-z, 0-9, _)" },
	{ "X ğ=1", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad key \"ğ\" (keys are lower case a-z, 0-9, _)" },
	{ "X \"k\"=1", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "bad key \"\"k\"\" (keys are lower case a-z, 0-9, _)" },
	{ "X =v", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "missing key before '='" },
	{ "X abcdefghijklmnopqrstuvwxyz_012345=v", 0, PROTO_SYNTAX, 0, NULL, 0,
	    0, { { 0 } }, "key too long (max 32 bytes)" },
	{ "X party=TR party=HU", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "duplicate key \"party\"" },
	{ "X party=TR note=\"\" party=\"TR\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0,
	    { { 0 } }, "duplicate key \"party\"" },

	/* Empty values must be quoted. */
	{ "X k=", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "empty value for key \"k\" (write k=\"\")" },
	{ "X k= j=1", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "empty value for key \"k\" (write k=\"\")" },
	{ "X k=\r", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "empty value for key \"k\" (write k=\"\")" },

	/* Bare values may not hold '"' or '\'. */
	{ "X k=a\"b", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "'\"' in the bare value of key \"k\" (quote the value)" },
	{ "X k=a\\b", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "'\\' in the bare value of key \"k\" (quote the value)" },
	{ "X k=a\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "'\"' in the bare value of key \"k\" (quote the value)" },

	/* Escapes. */
	{ "X k=\"\\x\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\x in value of key \"k\"" },
	{ "X k=\"\\0\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\0 in value of key \"k\"" },
	{ "X k=\"\\N\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\N in value of key \"k\"" },
	{ "X k=\"\\u0041\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\u in value of key \"k\"" },
	{ "X k=\"\\ \"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\  in value of key \"k\"" },
	{ "X k=\"\\ğ\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unknown escape \\ğ in value of key \"k\"" },
	{ "X k=\"abc\\", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "backslash at end of line in value of key \"k\"" },
	{ "X k=\"\\", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "backslash at end of line in value of key \"k\"" },
	{ "X k=\"abc\\\r", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "backslash at end of line in value of key \"k\"" },

	/* Quotes. */
	{ "X k=\"abc", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unterminated quote in value of key \"k\"" },
	{ "X k=\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unterminated quote in value of key \"k\"" },
	{ "X k=\"a\\\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unterminated quote in value of key \"k\"" },
	{ "X k=\"a b j=1", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "unterminated quote in value of key \"k\"" },
	{ "X k=\"a\"b", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "no space after the quoted value of key \"k\"" },
	{ "X k=\"a\"\"b\"", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "no space after the quoted value of key \"k\"" },
	{ "X k=\"a\"=", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "no space after the quoted value of key \"k\"" },
	{ "X k=\"\"j=1", 0, PROTO_SYNTAX, 0, NULL, 0, 0, { { 0 } },
	    "no space after the quoted value of key \"k\"" },

	/* Raw controls anywhere are framing errors (TAB, NUL, DEL too). */
	{ "PI\0NG", 5, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x00 at byte 3" },
	{ "\0", 1, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x00 at byte 1" },
	{ "PING\x7f", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x7F at byte 5" },
	{ "PING\tx=1", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x09 at byte 5" },
	{ "X k=\"a\tb\"", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x09 at byte 7" },
	{ "X k=\"a\nb\"", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x0A at byte 7" },
	{ "X k=\"a\rb\"", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x0D at byte 7" },
	{ "PI\rNG", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x0D at byte 3" },
	{ "PING\r\r", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x0D at byte 5" },
	{ "\x1b[2JPING", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x1B at byte 1" },
	{ "X k=\x1f", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x1F at byte 5" },
	{ "X k=\x01", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x01 at byte 5" },
	/* The first problem is reported, whichever kind it is. */
	{ "\xff\x01", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "invalid UTF-8 at byte 1" },
	{ "\x01\xff", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x01 at byte 1" },
	/* A framing error wins over a grammar error earlier in the line. */
	{ "x=1 \x02", 0, PROTO_SYNTAX, 1, NULL, 0, 0, { { 0 } },
	    "control character 0x02 at byte 5" },
};

/* Every kind of ill-formed UTF-8, placed after "X note=" (byte 8 on). */
struct utf8_case {
	const char *bytes;
	size_t	    len;
	size_t	    at; /* 1-based byte of the error */
};

#define U8(s, at)                    \
	{                            \
		s, sizeof(s) - 1, at \
	}
static const struct utf8_case utf8_bad_cases[] = {
	U8("\xc0\x80", 8),     /* overlong NUL, 2 bytes */
	U8("\xc0\xaf", 8),     /* overlong '/' */
	U8("\xc1\xbf", 8),     /* overlong U+007F */
	U8("\xe0\x80\x80", 8), /* overlong, 3 bytes */
	U8("\xe0\x80\xaf", 8),
	U8("\xe0\x9f\xbf", 8),	   /* overlong U+07FF */
	U8("\xf0\x80\x80\x80", 8), /* overlong, 4 bytes */
	U8("\xf0\x80\x80\xaf", 8),
	U8("\xf0\x8f\xbf\xbf", 8),	   /* overlong U+FFFF */
	U8("\xed\xa0\x80", 8),		   /* U+D800 */
	U8("\xed\xad\xbf", 8),		   /* U+DB7F */
	U8("\xed\xb0\x80", 8),		   /* U+DC00 */
	U8("\xed\xbf\xbf", 8),		   /* U+DFFF */
	U8("\xed\xa0\x80\xed\xb0\x80", 8), /* CESU-8 surrogate pair */
	U8("\xf4\x90\x80\x80", 8),	   /* U+110000 */
	U8("\xf4\xbf\xbf\xbf", 8),	   /* U+13FFFF */
	U8("\xf5\x80\x80\x80", 8),	   /* F5 lead byte */
	U8("\xf7\xbf\xbf\xbf", 8),	   /* U+1FFFFF */
	U8("\xf8\x88\x80\x80\x80", 8),	   /* 5-byte form */
	U8("\xfc\x84\x80\x80\x80\x80", 8), /* 6-byte form */
	U8("\xc0", 8),
	U8("\xc1", 8),
	U8("\xf5", 8),
	U8("\xf8", 8),
	U8("\xfe", 8),
	U8("\xff", 8),
	U8("\xfe\xfe\xff\xff", 8),
	U8("\x80", 8), /* stray continuation bytes */
	U8("\xbf", 8),
	U8("a\x80", 9),
	U8("\xc3\xa9\x80", 10),	    /* é then a stray continuation */
	U8("\xe2\x82\xac\xbf", 11), /* € then a stray continuation */
	U8("\xc3", 8),		    /* truncated at the end of the line */
	U8("\xe2\x82", 8),
	U8("\xe2", 8),
	U8("\xf0\x9f\x98", 8),
	U8("\xf0\x9f", 8),
	U8("\xf0", 8),
	U8("\xc3 x=1", 8), /* truncated in the middle */
	U8("\xe2\x82x", 8),
	U8("\xe2x\xac", 8),
	U8("\xf0\x9f\x98x", 8),
	U8("\xf0\x9f\x98\xc3\xa9", 8),
	U8("\xc3\xc3\xa9", 8),
	U8("ok\xe2\x82\xac\xe2\x82", 13),
};

static void
check_request(size_t idx, const struct req_case *c)
{
	struct proto_request req;
	char		     why[WHYLEN];
	enum proto_code	     code;
	size_t		     len, i;
	int		     framing = -1;

	len = c->len != 0 ? c->len : strlen(c->line);
	memset(&req, 0xa5, sizeof req);
	code = proto_parse_request(c->line, len, &req, &framing, why,
	    sizeof why);
	if (code != c->code || framing != c->framing)
		fail_msg("case %zu \"%s\": code %d framing %d (why \"%s\"), "
			 "want code %d framing %d",
		    idx, c->line, code, framing, code == PROTO_OK ? "" : why,
		    c->code, c->framing);
	if (code != PROTO_OK) {
		if (c->why != NULL && strcmp(why, c->why) != 0)
			fail_msg("case %zu \"%s\": why \"%s\", want \"%s\"",
			    idx, c->line, why, c->why);
		/* Safe to free after an error too. */
		proto_request_free(&req);
		return;
	}
	if (strcmp(req.command, c->command) != 0 || req.nwords != c->nwords ||
	    req.nargs != c->nargs)
		fail_msg("case %zu \"%s\": command \"%s\" nwords %d nargs %zu, "
			 "want \"%s\" %d %zu",
		    idx, c->line, req.command, req.nwords, req.nargs,
		    c->command, c->nwords, c->nargs);
	for (i = 0; i < c->nargs; i++) {
		const struct proto_arg *a = &req.args[i];
		const struct want_arg  *w = &c->args[i];

		if (strcmp(a->key, w->key) != 0 ||
		    a->vlen != strlen(w->value) ||
		    memcmp(a->value, w->value, a->vlen) != 0 ||
		    a->value[a->vlen] != '\0' || a->flags != w->flags)
			fail_msg("case %zu \"%s\": arg %zu %s=\"%s\" (%zu) "
				 "flags %d, want %s=\"%s\" flags %d",
			    idx, c->line, i, a->key, a->value, a->vlen,
			    a->flags, w->key, w->value, w->flags);
		assert_ptr_equal(proto_request_arg(&req, w->key), a);
	}
	assert_null(proto_request_arg(&req, "nosuchkey"));
	assert_null(proto_request_arg(&req, NULL));
	proto_request_free(&req);
	assert_null(req.store);
}

static void
test_request_ok(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(req_ok_cases); i++)
		check_request(i, &req_ok_cases[i]);
}

static void
test_request_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(req_err_cases); i++)
		check_request(i, &req_err_cases[i]);
}

static void
test_request_utf8_invalid(void **state)
{
	struct proto_request req;
	char		     line[64], why[WHYLEN], want[64];
	size_t		     i, len;
	int		     framing;

	(void)state;
	for (i = 0; i < nitems(utf8_bad_cases); i++) {
		const struct utf8_case *c = &utf8_bad_cases[i];

		len = (size_t)snprintf(line, sizeof line, "X note=");
		memcpy(line + len, c->bytes, c->len);
		len += c->len;
		framing = -1;
		if (proto_parse_request(line, len, &req, &framing, why,
			sizeof why) != PROTO_SYNTAX ||
		    framing != 1)
			fail_msg("utf8 case %zu: not a framing error", i);
		snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", c->at);
		if (strcmp(why, want) != 0)
			fail_msg("utf8 case %zu: why \"%s\", want \"%s\"", i,
			    why, want);
		/* The same bytes inside quotes are no better. */
		len = (size_t)snprintf(line, sizeof line, "X note=\"");
		memcpy(line + len, c->bytes, c->len);
		len += c->len;
		line[len++] = '"';
		framing = -1;
		if (proto_parse_request(line, len, &req, &framing, why,
			sizeof why) != PROTO_SYNTAX ||
		    framing != 1)
			fail_msg("utf8 case %zu quoted: not framing", i);
		/* And proto_utf8_valid agrees. */
		assert_false(proto_utf8_valid(c->bytes, c->len));
		assert_int_equal(proto_utf8_invalid(line, len), c->at);
	}
}

/* Every control byte, raw, anywhere in a line: framing SYNTAX. */
static void
test_request_raw_controls(void **state)
{
	struct proto_request req;
	char		     line[32], why[WHYLEN];
	unsigned int	     c;
	int		     framing;

	(void)state;
	for (c = 0; c < 256; c++) {
		if (!proto_is_ctl(c))
			continue;
		/* After the CR-dropping, a CR only at the very end is fine. */
		memcpy(line, "X k=\"a?b\"", 10);
		line[6] = (char)c;
		framing = -1;
		assert_int_equal(proto_parse_request(line, 9, &req, &framing,
				     why, sizeof why),
		    PROTO_SYNTAX);
		assert_int_equal(framing, 1);
		memcpy(line, "X?", 2);
		line[1] = (char)c;
		framing = -1;
		if (c == '\r') {
			assert_int_equal(proto_parse_request(line, 2, &req,
					     &framing, why, sizeof why),
			    PROTO_OK);
			assert_int_equal(framing, 0);
			assert_string_equal(req.command, "X");
			proto_request_free(&req);
			continue;
		}
		assert_int_equal(proto_parse_request(line, 2, &req, &framing,
				     why, sizeof why),
		    PROTO_SYNTAX);
		assert_int_equal(framing, 1);
	}
}

/* PROTO_MAX_ARGS arguments are fine; one more is SYNTAX. */
static void
test_request_max_args(void **state)
{
	struct proto_request req;
	struct proto_buf     b;
	char		     why[WHYLEN], key[32];
	int		     i, framing;

	(void)state;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "PARTICIPANT LIST");
	for (i = 0; i < PROTO_MAX_ARGS; i++) {
		snprintf(key, sizeof key, " k%d=", i);
		proto_buf_addstr(&b, key);
		proto_buf_addstr(&b, i % 2 ? "\"v v\"" : "v");
	}
	assert_int_equal(proto_parse_request(b.data, b.len, &req, &framing, why,
			     sizeof why),
	    PROTO_OK);
	assert_int_equal(req.nargs, PROTO_MAX_ARGS);
	assert_string_equal(req.args[31].key, "k31");
	assert_string_equal(req.args[31].value, "v v");
	proto_request_free(&req);

	proto_buf_addstr(&b, " one=more");
	assert_int_equal(proto_parse_request(b.data, b.len, &req, &framing, why,
			     sizeof why),
	    PROTO_SYNTAX);
	assert_int_equal(framing, 0);
	assert_string_equal(why, "too many arguments (max 32)");
	proto_buf_free(&b);
}

/* A long line of many short arguments: the store must be large enough. */
static void
test_request_store_bound(void **state)
{
	struct proto_request req;
	char		     line[256], why[WHYLEN];
	size_t		     len = 0;
	int		     i, framing;

	(void)state;
	/* 26 letters and 6 digits as keys: 32 short arguments. */
	len = (size_t)snprintf(line, sizeof line, "X");
	for (i = 0; i < 26; i++)
		len += (size_t)snprintf(line + len, sizeof line - len, " %c=v",
		    'a' + i);
	for (i = 0; i < 6; i++)
		len += (size_t)snprintf(line + len, sizeof line - len,
		    " %d=\"\"", i);
	assert_int_equal(proto_parse_request(line, len, &req, &framing, why,
			     sizeof why),
	    PROTO_OK);
	assert_int_equal(req.nargs, 32);
	assert_string_equal(req.args[25].key, "z");
	assert_string_equal(req.args[31].key, "5");
	assert_int_equal(req.args[31].vlen, 0);
	proto_request_free(&req);
}

/* NULL framing and why, and a tiny why buffer, are all fine. */
static void
test_request_why_buffers(void **state)
{
	struct proto_request req;
	char		     why[WHYLEN], line[64];
	size_t		     len;

	(void)state;
	assert_int_equal(proto_parse_request("X k=", 4, &req, NULL, NULL, 0),
	    PROTO_SYNTAX);
	assert_int_equal(proto_parse_request("X\x01", 2, &req, NULL, why, 0),
	    PROTO_SYNTAX);
	/* Cut to fit, and never in the middle of a UTF-8 character. */
	assert_int_equal(proto_parse_request("X ğğ=1", 8, &req, NULL, why, 12),
	    PROTO_SYNTAX);
	assert_string_equal(why, "bad key \"ğ");
	assert_int_equal(proto_parse_request("X ğğ=1", 8, &req, NULL, why, 11),
	    PROTO_SYNTAX);
	assert_string_equal(why, "bad key \"");
	assert_int_equal(proto_parse_request("X ğğ=1", 8, &req, NULL, why, 1),
	    PROTO_SYNTAX);
	assert_string_equal(why, "");
	/* A long bad word is quoted in part, cut on a character. */
	memset(line, 0, sizeof line);
	line[0] = 'X';
	line[1] = ' ';
	memset(line + 2, 'a', 31);
	len = 33;
	while (len < 45) {
		memcpy(line + len, "ğ", 2);
		len += 2;
	}
	assert_int_equal(proto_parse_request(line, len, &req, NULL, why,
			     sizeof why),
	    PROTO_SYNTAX);
	assert_string_equal(why,
	    "bad command word "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
	assert_int_equal(strlen(why), strlen("bad command word \"...\"") + 31);
	/* A NULL line is an empty line. */
	assert_int_equal(proto_parse_request(NULL, 0, &req, NULL, NULL, 0),
	    PROTO_OK);
	assert_string_equal(req.command, "");
	assert_int_equal(req.nwords, 0);
	proto_request_free(&req);
	proto_request_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Writing values: quoting and the round trip through the parser */

struct quote_case {
	const char *in;
	size_t	    len; /* 0: strlen, except for "" */
	int	    quote;
	const char *out; /* exact bytes written by proto_buf_value */
};

static const struct quote_case quote_cases[] = {
	{ "", 0, 1, "\"\"" },
	{ "plain", 0, 0, "plain" },
	{ "GFMD2025", 0, 0, "GFMD2025" },
	{ "Ayşe", 0, 0, "Ayşe" },
	{ "2025-11-26T10:00+03:00", 0, 0, "2025-11-26T10:00+03:00" },
	{ "a b", 0, 1, "\"a b\"" },
	{ " ", 0, 1, "\" \"" },
	{ "a=b", 0, 1, "\"a=b\"" },
	{ "=", 0, 1, "\"=\"" },
	{ "a\"b", 0, 1, "\"a\\\"b\"" },
	{ "\"", 0, 1, "\"\\\"\"" },
	{ "a\\b", 0, 1, "\"a\\\\b\"" },
	{ "\\", 0, 1, "\"\\\\\"" },
	{ "a\nb", 0, 1, "\"a\\nb\"" },
	{ "\t", 0, 1, "\"\\t\"" },
	{ "\r", 0, 1, "\"\\r\"" },
	{ "x\r\n", 0, 1, "\"x\\r\\n\"" },
	{ "\\n", 0, 1, "\"\\\\n\"" },
	{ "\x01", 0, 1, "\"\xef\xbf\xbd\"" },
	{ "\x1b[31m", 0, 1, "\"\xef\xbf\xbd[31m\"" },
	{ "a\x7f", 0, 1, "\"a\xef\xbf\xbd\"" },
	{ "a\0b", 3, 1,
	    "\"a\xef\xbf\xbd"
	    "b\"" },
	{ "\x1f\x0b\x0c", 0, 1, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
};

static void
test_needs_quote_and_value(void **state)
{
	struct proto_buf b;
	size_t		 i, len;

	(void)state;
	proto_buf_init(&b);
	for (i = 0; i < nitems(quote_cases); i++) {
		const struct quote_case *c = &quote_cases[i];

		len = c->len != 0 ? c->len : strlen(c->in);
		if (proto_needs_quote(c->in, len) != c->quote)
			fail_msg("quote case %zu: needs_quote %d", i,
			    !c->quote);
		proto_buf_reset(&b);
		proto_buf_value(&b, c->in, len);
		if (b.len != strlen(c->out) || strcmp(b.data, c->out) != 0)
			fail_msg("quote case %zu: wrote [%s], want [%s]", i,
			    b.data, c->out);
	}
	proto_buf_free(&b);
}

struct rt_case {
	const char *s;
	size_t	    len; /* 0: strlen */
};

static const struct rt_case rt_cases[] = {
	{ "", 0 },
	{ "a", 0 },
	{ "0", 0 },
	{ "TR", 0 },
	{ " ", 0 },
	{ "  ", 0 },
	{ " leading", 0 },
	{ "trailing ", 0 },
	{ "two words", 0 },
	{ "\"", 0 },
	{ "\"\"", 0 },
	{ "\"quoted\"", 0 },
	{ "\\", 0 },
	{ "\\\\", 0 },
	{ "\\\"", 0 },
	{ "\"\\", 0 },
	{ "C:\\Temp\\new", 0 },
	{ "=", 0 },
	{ "==", 0 },
	{ "a=b", 0 },
	{ "k=\"v\"", 0 },
	{ "\n", 0 },
	{ "\t", 0 },
	{ "\r", 0 },
	{ "\r\n", 0 },
	{ "line one\nline two\n", 0 },
	{ "col\tcol", 0 },
	{ "a \"b\" \\c\\ =d\te\nf\rg", 0 },
	{ "\\n is not a newline", 0 },
	{ "Ayşe Yılmaz", 0 },
	{ "Ğüç€😀 \"ş\"", 0 },
	{ "\xc2\x80", 0 },
	{ "\xf4\x8f\xbf\xbf", 0 },
	{ "'single'", 0 },
	{ "a'b", 0 },
	{ "*", 0 },
	{ "!", 0 },
	{ "OK", 0 },
	{ "ERR SYNTAX x", 0 },
	{ "x=", 0 },
	{ "=x", 0 },
	{ " \" ", 0 },
	{ "end\\", 0 },
};

static void
test_value_round_trip(void **state)
{
	struct proto_request req;
	struct proto_reply   rep;
	struct proto_buf     b;
	char		     why[WHYLEN];
	size_t		     i, len;
	int		     framing;

	(void)state;
	proto_buf_init(&b);
	for (i = 0; i < nitems(rt_cases); i++) {
		len = rt_cases[i].len != 0 ?
		    rt_cases[i].len :
		    strlen(rt_cases[i].s);

		/* As a request argument. */
		proto_buf_reset(&b);
		proto_buf_addstr(&b, "PARTICIPANT SET id=1 note=");
		proto_buf_value(&b, rt_cases[i].s, len);
		proto_buf_addstr(&b, " version=2");
		if (proto_parse_request(b.data, b.len, &req, &framing, why,
			sizeof why) != PROTO_OK)
			fail_msg("rt case %zu: [%s] does not parse: %s", i,
			    b.data, why);
		assert_int_equal(req.nargs, 3);
		assert_string_equal(req.args[1].key, "note");
		if (req.args[1].vlen != len ||
		    memcmp(req.args[1].value, rt_cases[i].s, len) != 0)
			fail_msg("rt case %zu: got [%s]", i, req.args[1].value);
		assert_string_equal(req.args[2].value, "2");
		proto_request_free(&req);

		/* As a reply field. */
		proto_buf_reset(&b);
		proto_buf_addstr(&b, "*");
		proto_buf_field(&b, "note", rt_cases[i].s, len);
		proto_buf_field(&b, "id", "7", 1);
		if (proto_parse_reply(b.data, b.len, &rep) != PROTO_LINE_RECORD)
			fail_msg("rt case %zu: record [%s] does not parse", i,
			    b.data);
		assert_int_equal(rep.nfields, 2);
		assert_string_equal(rep.fields[0].key, "note");
		if (rep.fields[0].vlen != len ||
		    memcmp(rep.fields[0].value, rt_cases[i].s, len) != 0)
			fail_msg("rt case %zu: record got [%s]", i,
			    rep.fields[0].value);
		assert_string_equal(proto_reply_field(&rep, "id")->value, "7");
		proto_reply_free(&rep);
	}
	proto_buf_free(&b);
}

/* Controls without an escape do not round-trip: they come back as U+FFFD. */
static void
test_value_lossy_controls(void **state)
{
	struct proto_request req;
	struct proto_buf     b;
	char		     why[WHYLEN];
	int		     framing;

	(void)state;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "X k=");
	proto_buf_value(&b,
	    "a\0\x01\x7f"
	    "b",
	    5);
	assert_int_equal(proto_parse_request(b.data, b.len, &req, &framing, why,
			     sizeof why),
	    PROTO_OK);
	assert_string_equal(req.args[0].value,
	    "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "b");
	assert_int_equal(req.args[0].flags, PROTO_ARG_QUOTED);
	proto_request_free(&req);
	proto_buf_free(&b);
}

static void
test_buf_field(void **state)
{
	struct proto_buf b;

	(void)state;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK");
	proto_buf_field(&b, "id", "42", 2);
	proto_buf_field(&b, "venue", NULL, 0); /* absent: left out */
	proto_buf_field(&b, "name", "Ayşe Yılmaz", strlen("Ayşe Yılmaz"));
	proto_buf_field(&b, "note", "", 0);
	proto_buf_field(&b, "eq", "a=b", 3);
	assert_string_equal(b.data,
	    "OK id=42 name=\"Ayşe Yılmaz\" note=\"\" eq=\"a=b\"");
	assert_int_equal(b.len, strlen(b.data));
	proto_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Error replies and code names */

static const char *code_names[PROTO_NCODES] = {
	"OK",
	"SYNTAX",
	"INVALID",
	"TOO_LONG",
	"AUTH_REQUIRED",
	"AUTH_FAILED",
	"RATE_LIMITED",
	"FORBIDDEN",
	"NOT_FOUND",
	"CONFLICT",
	"QUOTA",
	"CLOSED",
	"BUSY",
	"UNAVAILABLE",
	"INTERNAL",
};

static void
test_code_names(void **state)
{
	enum proto_code c, out;

	(void)state;
	for (c = PROTO_OK; c < PROTO_NCODES; c++) {
		assert_string_equal(proto_code_name(c), code_names[c]);
		out = PROTO_NCODES;
		assert_int_equal(proto_code_from_name(code_names[c],
				     strlen(code_names[c]), &out),
		    0);
		assert_int_equal(out, c);
	}
	assert_null(proto_code_name(PROTO_NCODES));
	assert_null(proto_code_name((enum proto_code) - 1));
	assert_null(proto_code_name((enum proto_code)1000));
	assert_int_equal(proto_code_from_name("syntax", 6, &out), -1);
	assert_int_equal(proto_code_from_name("SYNTA", 5, &out), -1);
	assert_int_equal(proto_code_from_name("SYNTAXX", 7, &out), -1);
	assert_int_equal(proto_code_from_name("SYNTAX ", 7, &out), -1);
	assert_int_equal(proto_code_from_name("", 0, &out), -1);
	assert_int_equal(proto_code_from_name("NOPE", 4, &out), -1);
	/* Length, not the NUL, ends the name. */
	assert_int_equal(proto_code_from_name("BUSY text", 4, &out), 0);
	assert_int_equal(out, PROTO_BUSY);
	assert_int_equal(proto_code_from_name("QUOTA", 5, NULL), 0);
}

struct err_case {
	enum proto_code code;
	const char     *text;
	const char     *out;
	const char     *rtext; /* text read back */
};

static const struct err_case err_cases[] = {
	{ PROTO_SYNTAX, "unknown command FOO",
	    "ERR SYNTAX unknown command FOO\n", "unknown command FOO" },
	{ PROTO_BUSY, NULL, "ERR BUSY\n", "" },
	{ PROTO_BUSY, "", "ERR BUSY\n", "" },
	{ PROTO_INVALID, "bad date\nstarts=x",
	    "ERR INVALID bad date starts=x\n", "bad date starts=x" },
	{ PROTO_INVALID, "\t\r\x01\x7f", "ERR INVALID     \n", "    " },
	{ PROTO_NOT_FOUND, "no \"party\" TR = here",
	    "ERR NOT_FOUND no \"party\" TR = here\n",
	    "no \"party\" TR = here" },
	{ PROTO_TOO_LONG, "line over 16384 bytes",
	    "ERR TOO_LONG line over 16384 bytes\n", "line over 16384 bytes" },
	{ PROTO_OK, "x", "ERR INTERNAL x\n", "x" },
	{ PROTO_NCODES, "x", "ERR INTERNAL x\n", "x" },
};

static void
test_buf_err(void **state)
{
	struct proto_reply rep;
	struct proto_buf   b;
	enum proto_code	   c;
	size_t		   i;

	(void)state;
	proto_buf_init(&b);
	for (i = 0; i < nitems(err_cases); i++) {
		const struct err_case *e = &err_cases[i];

		proto_buf_reset(&b);
		proto_buf_err(&b, e->code, e->text);
		if (strcmp(b.data, e->out) != 0)
			fail_msg("err case %zu: wrote [%s]", i, b.data);
		/* Read back, without the LF. */
		assert_int_equal(proto_parse_reply(b.data, b.len - 1, &rep),
		    PROTO_LINE_ERR);
		assert_int_equal(rep.code,
		    e->code == PROTO_OK || e->code == PROTO_NCODES ?
			PROTO_INTERNAL :
			e->code);
		assert_string_equal(rep.text, e->rtext);
		assert_int_equal(rep.textlen, strlen(e->rtext));
		proto_reply_free(&rep);
	}
	/* Every code round-trips through an ERR line. */
	for (c = PROTO_SYNTAX; c < PROTO_NCODES; c++) {
		proto_buf_reset(&b);
		proto_buf_err(&b, c, "why not");
		assert_int_equal(proto_parse_reply(b.data, b.len - 1, &rep),
		    PROTO_LINE_ERR);
		assert_int_equal(rep.code, c);
		assert_string_equal(rep.text, "why not");
		proto_reply_free(&rep);
	}
	proto_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Replies */

struct want_field {
	const char *key; /* NULL: a bare word */
	const char *value;
};

struct reply_case {
	const char	    *line;
	size_t		     len; /* 0: strlen */
	enum proto_line_kind kind;
	enum proto_code	     code;
	const char	    *text; /* NULL: want text NULL */
	size_t		     nfields;
	struct want_field    fields[6];
};

static const struct reply_case reply_cases[] = {
	/* Final OK lines. */
	{ "OK", 0, PROTO_LINE_OK, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK\r", 0, PROTO_LINE_OK, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK ", 0, PROTO_LINE_OK, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK pong", 0, PROTO_LINE_OK, PROTO_OK, NULL, 1,
	    { { NULL, "pong" } } },
	{ "OK id=42 version=1", 0, PROTO_LINE_OK, PROTO_OK, NULL, 2,
	    { { "id", "42" }, { "version", "1" } } },
	{ "OK rosterd ready proto=1 version=0.1.0", 0, PROTO_LINE_OK, PROTO_OK,
	    NULL, 4,
	    { { NULL, "rosterd" }, { NULL, "ready" }, { "proto", "1" },
		{ "version", "0.1.0" } } },
	{ "OK status=waitlisted position=3 already=1", 0, PROTO_LINE_OK,
	    PROTO_OK, NULL, 3,
	    { { "status", "waitlisted" }, { "position", "3" },
		{ "already", "1" } } },
	{ "OK user=-", 0, PROTO_LINE_OK, PROTO_OK, NULL, 1,
	    { { "user", "-" } } },
	{ "OK   name=\"a b\"   note=\"\"  ", 0, PROTO_LINE_OK, PROTO_OK, NULL,
	    2, { { "name", "a b" }, { "note", "" } } },
	{ "OK note=a=b k=", 0, PROTO_LINE_OK, PROTO_OK, NULL, 2,
	    { { "note", "a=b" }, { "k", "" } } },
	{ "OK \"two words\" x", 0, PROTO_LINE_OK, PROTO_OK, NULL, 2,
	    { { NULL, "two words" }, { NULL, "x" } } },
	{ "OK watching", 0, PROTO_LINE_OK, PROTO_OK, NULL, 1,
	    { { NULL, "watching" } } },

	/* Records. */
	{ "* id=1 name=\"Ayşe Yılmaz\" note=\"a\\nb\\t\\\"c\\\"\\\\\"", 0,
	    PROTO_LINE_RECORD, PROTO_OK, NULL, 3,
	    { { "id", "1" }, { "name", "Ayşe Yılmaz" },
		{ "note", "a\nb\t\"c\"\\" } } },
	{ "* command=\"PARTICIPANT ADD\" args=\"party name\" roles=admin", 0,
	    PROTO_LINE_RECORD, PROTO_OK, NULL, 3,
	    { { "command", "PARTICIPANT ADD" }, { "args", "party name" },
		{ "roles", "admin" } } },
	{ "* cr=\"\\r\"", 0, PROTO_LINE_RECORD, PROTO_OK, NULL, 1,
	    { { "cr", "\r" } } },
	{ "*", 0, PROTO_LINE_RECORD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "* ", 0, PROTO_LINE_RECORD, PROTO_OK, NULL, 0, { { 0 } } },

	/* Errors. */
	{ "ERR SYNTAX duplicate key \"party\"", 0, PROTO_LINE_ERR, PROTO_SYNTAX,
	    "duplicate key \"party\"", 0, { { 0 } } },
	{ "ERR BUSY", 0, PROTO_LINE_ERR, PROTO_BUSY, "", 0, { { 0 } } },
	{ "ERR BUSY ", 0, PROTO_LINE_ERR, PROTO_BUSY, "", 0, { { 0 } } },
	{ "ERR UNAVAILABLE  two  spaces ", 0, PROTO_LINE_ERR, PROTO_UNAVAILABLE,
	    " two  spaces ", 0, { { 0 } } },
	{ "ERR NOT_FOUND\r", 0, PROTO_LINE_ERR, PROTO_NOT_FOUND, "", 0,
	    { { 0 } } },
	{ "ERR WHATEVER text", 0, PROTO_LINE_ERR, PROTO_INTERNAL, "text", 0,
	    { { 0 } } },
	{ "ERR OK text", 0, PROTO_LINE_ERR, PROTO_INTERNAL, "text", 0,
	    { { 0 } } },
	{ "ERR syntax x", 0, PROTO_LINE_ERR, PROTO_INTERNAL, "x", 0,
	    { { 0 } } },

	/* Export payload: everything after "= ", verbatim. */
	{ "= ", 0, PROTO_LINE_DATA, PROTO_OK, "", 0, { { 0 } } },
	{ "=", 0, PROTO_LINE_DATA, PROTO_OK, "", 0, { { 0 } } },
	{ "= id,name,party", 0, PROTO_LINE_DATA, PROTO_OK, "id,name,party", 0,
	    { { 0 } } },
	{ "=   spaced \"quoted\" \\x k=v  ", 0, PROTO_LINE_DATA, PROTO_OK,
	    "  spaced \"quoted\" \\x k=v  ", 0, { { 0 } } },
	{ "= 1\tAyşe\tTR", 0, PROTO_LINE_DATA, PROTO_OK, "1\tAyşe\tTR", 0,
	    { { 0 } } },
	{ "= = ", 0, PROTO_LINE_DATA, PROTO_OK, "= ", 0, { { 0 } } },
	{ "= a,b\r", 0, PROTO_LINE_DATA, PROTO_OK, "a,b", 0, { { 0 } } },

	/* Notifications. */
	{ "! checkin id=17 party=TR name=\"Ayşe Yılmaz\"", 0, PROTO_LINE_NOTIFY,
	    PROTO_OK, "checkin", 3,
	    { { "id", "17" }, { "party", "TR" }, { "name", "Ayşe Yılmaz" } } },
	{ "! participant.added", 0, PROTO_LINE_NOTIFY, PROTO_OK,
	    "participant.added", 0, { { 0 } } },

	/* Not a reply line. */
	{ "", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ok", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OKAY", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ " OK", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ERR", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ERR ", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ERR  SYNTAX", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ERRSYNTAX", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "*x=1", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "=x", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "!", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "! ", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "!  checkin", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "!checkin", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "HELLO", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK a=\"unterminated", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0,
	    { { 0 } } },
	{ "OK a=\"x\"y", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK a=\"\\q\"", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK a=b\"c", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK =v", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK a=\x01", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK a=\t", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "* a=\xff", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "ERR SYNTAX \xc0\x80", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0,
	    { { 0 } } },
	{ "OK\0", 3, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
	{ "OK\r\r", 0, PROTO_LINE_BAD, PROTO_OK, NULL, 0, { { 0 } } },
};

static void
check_reply(size_t idx, const struct reply_case *c)
{
	struct proto_reply   rep;
	enum proto_line_kind kind;
	size_t		     len, i;

	len = c->len != 0 ? c->len : strlen(c->line);
	memset(&rep, 0xa5, sizeof rep);
	kind = proto_parse_reply(c->line, len, &rep);
	if (kind != c->kind || rep.kind != c->kind)
		fail_msg("reply case %zu \"%s\": kind %d, want %d", idx,
		    c->line, kind, c->kind);
	if (rep.code != c->code)
		fail_msg("reply case %zu \"%s\": code %d, want %d", idx,
		    c->line, rep.code, c->code);
	if (c->text == NULL)
		assert_null(rep.text);
	else if (rep.text == NULL || rep.textlen != strlen(c->text) ||
	    strcmp(rep.text, c->text) != 0)
		fail_msg("reply case %zu \"%s\": text [%s], want [%s]", idx,
		    c->line, rep.text ? rep.text : "(null)", c->text);
	if (rep.nfields != c->nfields)
		fail_msg("reply case %zu \"%s\": %zu fields, want %zu", idx,
		    c->line, rep.nfields, c->nfields);
	for (i = 0; i < c->nfields; i++) {
		const struct proto_field *f = &rep.fields[i];
		const struct want_field	 *w = &c->fields[i];

		if ((w->key == NULL) != (f->key == NULL) ||
		    (w->key != NULL && strcmp(w->key, f->key) != 0) ||
		    f->vlen != strlen(w->value) ||
		    strcmp(f->value, w->value) != 0)
			fail_msg("reply case %zu \"%s\": field %zu %s=[%s]",
			    idx, c->line, i, f->key ? f->key : "(null)",
			    f->value);
		if (w->key != NULL)
			assert_ptr_equal(proto_reply_field(&rep, w->key), f);
	}
	assert_null(proto_reply_field(&rep, "nosuchkey"));
	assert_null(proto_reply_field(&rep, NULL));
	proto_reply_free(&rep);
	assert_null(rep.store);
}

static void
test_reply_lines(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(reply_cases); i++)
		check_reply(i, &reply_cases[i]);
}

static void
test_reply_max_fields(void **state)
{
	struct proto_reply rep;
	struct proto_buf   b;
	char		   f[32];
	int		   i;

	(void)state;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "*");
	for (i = 0; i < PROTO_MAX_REPLY_FIELDS; i++) {
		snprintf(f, sizeof f, " f%d=%d", i, i);
		proto_buf_addstr(&b, f);
	}
	assert_int_equal(proto_parse_reply(b.data, b.len, &rep),
	    PROTO_LINE_RECORD);
	assert_int_equal(rep.nfields, PROTO_MAX_REPLY_FIELDS);
	assert_string_equal(proto_reply_field(&rep, "f63")->value, "63");
	proto_reply_free(&rep);
	proto_buf_addstr(&b, " x");
	assert_int_equal(proto_parse_reply(b.data, b.len, &rep),
	    PROTO_LINE_BAD);
	assert_int_equal(rep.nfields, 0);
	proto_reply_free(&rep);
	/* Duplicate keys in a reply: the first wins. */
	assert_int_equal(proto_parse_reply("OK a=1 a=2", 10, &rep),
	    PROTO_LINE_OK);
	assert_string_equal(proto_reply_field(&rep, "a")->value, "1");
	proto_reply_free(&rep);
	/* A NULL line is a bad line, not a crash. */
	assert_int_equal(proto_parse_reply(NULL, 0, &rep), PROTO_LINE_BAD);
	proto_reply_free(&rep);
	proto_reply_free(NULL);
	proto_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* UTF-8 helpers */

static void
test_utf8(void **state)
{
	char   buf[800];
	size_t i;

	(void)state;
	assert_true(proto_utf8_valid("", 0));
	assert_true(proto_utf8_valid(NULL, 0));
	assert_true(proto_utf8_valid("plain ascii \x01\x7f", 14));
	assert_true(proto_utf8_valid("\0", 1));
	assert_true(proto_utf8_valid("Ğüç€😀", strlen("Ğüç€😀")));
	assert_true(proto_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	assert_false(proto_utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(proto_utf8_valid("\xed\xa0\x80", 3));
	assert_int_equal(proto_utf8_invalid("ab\xc3", 3), 2);
	assert_int_equal(proto_utf8_invalid("ab", 2), 2);
	assert_int_equal(proto_utf8_invalid("\xc3\xa9\xc3", 3), 2);

	assert_int_equal(proto_utf8_count("", 0), 0);
	assert_int_equal(proto_utf8_count("abc", 3), 3);
	assert_int_equal(proto_utf8_count("a€😀", strlen("a€😀")), 3);
	assert_int_equal(proto_utf8_count("Ğüç€😀", strlen("Ğüç€😀")), 5);
	for (i = 0; i < 200; i++)
		memcpy(buf + 2 * i, "ğ", 2);
	assert_int_equal(proto_utf8_count(buf, 400), 200);

	for (i = 0; i < 256; i++)
		assert_int_equal(proto_is_ctl((unsigned char)i),
		    i < 0x20 || i == 0x7f);
}

/* ------------------------------------------------------------------ */
/* The byte buffer */

static void
test_buf(void **state)
{
	struct proto_buf b;
	size_t		 i;

	(void)state;
	proto_buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	proto_buf_addstr(&b, "OK");
	proto_buf_addch(&b, ' ');
	proto_buf_add(&b, "id=42xyz", 5);
	proto_buf_addstr(&b, NULL);
	proto_buf_add(&b, NULL, 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "OK id=42");
	assert_true(b.cap > b.len);
	assert_int_equal(b.oom, 0);

	proto_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	for (i = 0; i < 100000; i++)
		proto_buf_addch(&b, (char)('a' + i % 26));
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(b.data[99999], 'a' + 99999 % 26);
	assert_true(b.cap > b.len);

	/* An impossible size sets oom and later appends are ignored. */
	proto_buf_add(&b, "x", SIZE_MAX - 2);
	assert_int_equal(b.oom, 1);
	assert_int_equal(b.len, 100000);
	proto_buf_addstr(&b, "more");
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.data[b.len], '\0');
	proto_buf_reset(&b);
	assert_int_equal(b.oom, 0);
	proto_buf_addstr(&b, "again");
	assert_string_equal(b.data, "again");
	proto_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	proto_buf_free(&b);
	proto_buf_reset(&b);
}

/* ------------------------------------------------------------------ */
/* Value formats */

struct fmt_case {
	const char *s;
	int	    ok;
};

static void
check_fmt(const char	  *what, int (*fn)(const char *, size_t),
    const struct fmt_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fn(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("%s(\"%s\") != %d", what, cases[i].s,
			    cases[i].ok);
	}
}

static const struct fmt_case code_cases[] = {
	{ "TR", 1 },
	{ "GFMD2025", 1 },
	{ "a", 1 },
	{ "0", 1 },
	{ "ICMPD", 1 },
	{ "gfmd-2025.side_1", 1 },
	{ "A.", 1 },
	{ "a-", 1 },
	{ "abcdefghijklmnopqrstuvwxyz012345", 1 },  /* 32 */
	{ "abcdefghijklmnopqrstuvwxyz0123456", 0 }, /* 33 */
	{ "", 0 },
	{ "-a", 0 },
	{ "_a", 0 },
	{ ".a", 0 },
	{ "a b", 0 },
	{ "a/b", 0 },
	{ "a:b", 0 },
	{ "ğ", 0 },
	{ "a\n", 0 },
	{ " TR", 0 },
};

static const struct fmt_case key_cases[] = {
	{ "party", 1 },
	{ "co_chair", 1 },
	{ "a", 1 },
	{ "0", 1 },
	{ "_", 1 },
	{ "abcdefghijklmnopqrstuvwxyz_01234", 1 },  /* 32 */
	{ "abcdefghijklmnopqrstuvwxyz_012345", 0 }, /* 33 */
	{ "", 0 },
	{ "Party", 0 },
	{ "PARTY", 0 },
	{ "co-chair", 0 },
	{ "a.b", 0 },
	{ "a b", 0 },
	{ "ğ", 0 },
	{ "a=", 0 },
};

static const struct fmt_case ref_cases[] = {
	{ "a", 1 },
	{ "retry-1:2025.11_26", 1 },
	{ ":", 1 },
	{ "-", 1 },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	    1 }, /* 64 */
	{ "01234567890123456789012345678901234567890123456789012345678901234",
	    0 }, /* 65 */
	{ "", 0 },
	{ "a b", 0 },
	{ "a/b", 0 },
	{ "a=b", 0 },
	{ "ğ", 0 },
	{ "a\"", 0 },
};

static const struct fmt_case date_cases[] = {
	{ "2024-02-29", 1 },
	{ "2000-02-29", 1 },
	{ "2025-11-26", 1 },
	{ "2025-01-31", 1 },
	{ "2025-12-31", 1 },
	{ "2025-04-30", 1 },
	{ "0001-01-01", 1 },
	{ "9999-12-31", 1 },
	{ "2023-02-29", 0 },
	{ "1900-02-29", 0 },
	{ "2100-02-29", 0 },
	{ "2025-13-01", 0 },
	{ "2025-00-10", 0 },
	{ "2025-01-00", 0 },
	{ "2025-01-32", 0 },
	{ "2025-04-31", 0 },
	{ "2025-06-31", 0 },
	{ "0000-01-01", 0 },
	{ "2025-1-01", 0 },
	{ "2025-01-1", 0 },
	{ "25-01-01", 0 },
	{ "2025/01/01", 0 },
	{ "2025-01-01 ", 0 },
	{ "2025-01-01T10:00", 0 },
	{ "2025-0a-01", 0 },
	{ "+025-01-01", 0 },
	{ "2025--1-01", 0 },
	{ "", 0 },
};

static const struct fmt_case time_cases[] = {
	{ "2025-11-26T10:00", 1 },
	{ "2025-11-26T00:00", 1 },
	{ "2025-11-26T23:59", 1 },
	{ "2024-02-29T12:30", 1 },
	{ "2025-11-26T24:00", 0 },
	{ "2025-11-26T10:60", 0 },
	{ "2023-02-29T10:00", 0 },
	{ "2025-11-26 10:00", 0 },
	{ "2025-11-26t10:00", 0 },
	{ "2025-11-26T10:00Z", 0 },
	{ "2025-11-26T10:00:00", 0 },
	{ "2025-11-26T10:00+03:00", 0 },
	{ "2025-11-26T1:00", 0 },
	{ "2025-11-26T10-00", 0 },
	{ "2025-11-26", 0 },
	{ "", 0 },
};

static const struct fmt_case timestamp_cases[] = {
	{ "2025-11-26T07:00:00Z", 1 },
	{ "2025-11-26T07:00Z", 1 },
	{ "2025-11-26T07:00", 1 },
	{ "2025-11-26T07:00:59", 1 },
	{ "2025-11-26T23:59:59Z", 1 },
	{ "2025-11-26T07:00:60Z", 0 },
	{ "2025-11-26T07:00:0Z", 0 },
	{ "2025-11-26T07:00:00ZZ", 0 },
	{ "2025-11-26T07:00:00+03:00", 0 },
	{ "2025-11-26T07:00:00.5Z", 0 },
	{ "2025-11-26T07:00:", 0 },
	{ "2025-11-26T07:00z", 0 },
	{ "2025-11-26", 0 },
	{ "2025-02-30T07:00:00Z", 0 },
	{ "", 0 },
};

static const struct fmt_case tz_cases[] = {
	{ "UTC", 1 }, { "Europe/Istanbul", 1 }, { "Europe/Budapest", 1 },
	{ "America/Argentina/Buenos_Aires", 1 }, { "Etc/GMT+3", 1 },
	{ "America/Port-au-Prince", 1 }, { "Etc/UTC", 1 }, { "", 0 },
	{ "utc", 0 }, { "Europe", 0 }, { "Europe/", 0 }, { "/Istanbul", 0 },
	{ "Europe//Istanbul", 0 }, { "Europe/Ist anbul", 0 },
	{ "../etc/passwd", 0 }, { "Europe/../x", 0 }, { "+03:00", 0 },
	{ "Europe/İstanbul", 0 },
	{ "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    0 }, /* 65 */
};

static const struct fmt_case email_cases[] = {
	{ "a@b", 1 }, { "ayse.yilmaz@mfa.gov.tr", 1 },
	{ "x+tag@ex-ample.org", 1 }, { "ğ@example.com", 1 }, { "", 0 },
	{ "a", 0 }, { "@b.c", 0 }, { "a@", 0 }, { "a@@b", 0 }, { "a@b@c", 0 },
	{ "a b@c.d", 0 }, { "a@b c.d", 0 }, { "a@.b", 0 }, { "a@b.", 0 },
	{ "a@b..c", 0 }, { "a\n@b.c", 0 }, { "\"a\"@b.c", 0 },
	{ "a@[1.2.3.4]", 0 }, { "a,b@c.d", 0 },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "4@b.c",
	    0 }, /* local 65 */
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "@b.c",
	    1 }, /* local 64 */
};

static int
fmt_name(const char *s, size_t len)
{
	return (proto_valid_name(s, len));
}

static int
fmt_text20(const char *s, size_t len)
{
	return (proto_valid_text(s, len, 20));
}

static void
test_valid_simple(void **state)
{
	(void)state;
	check_fmt("code", proto_valid_code, code_cases, nitems(code_cases));
	check_fmt("key", proto_valid_key, key_cases, nitems(key_cases));
	check_fmt("ref", proto_valid_ref, ref_cases, nitems(ref_cases));
	check_fmt("date", proto_valid_date, date_cases, nitems(date_cases));
	check_fmt("time", proto_valid_time, time_cases, nitems(time_cases));
	check_fmt("timestamp", proto_valid_timestamp, timestamp_cases,
	    nitems(timestamp_cases));
	check_fmt("timezone", proto_valid_timezone, tz_cases, nitems(tz_cases));
	check_fmt("email", proto_valid_email, email_cases, nitems(email_cases));
	/* Length, not the NUL, ends the value. */
	assert_true(proto_valid_date("2025-11-26junk", 10));
	assert_true(proto_valid_code("TR ", 2));
	assert_false(proto_valid_code(NULL, 0));
	assert_false(proto_valid_date("2025-11-2", 9));
}

static const struct fmt_case name_cases[] = {
	{ "Ayşe Yılmaz", 1 },
	{ "X", 1 },
	{ "  padded  ", 1 },
	{ "ICMPD", 1 },
	{ "O'Brien-Smith, Jr.", 1 },
	{ "a \"q\" = b", 1 },
	{ "", 0 },
	{ " ", 0 },
	{ "     ", 0 },
	{ "a\tb", 0 },
	{ "a\nb", 0 },
	{ "a\rb", 0 },
	{ "a\x7f", 0 },
	{ "\tx", 0 },
	{ "x\xff", 0 },
	{ "\xed\xa0\x80", 0 },
};

static const struct fmt_case text_cases[] = {
	{ "", 1 },
	{ "free text", 1 },
	{ "line\nline\ttab", 1 },
	{ "12345678901234567890", 1 },
	{ "ğğğğğğğğğğğğğğğğğğğğ", 1 },
	{ "123456789012345678901", 0 },
	{ "ğğğğğğğğğğğğğğğğğğğğğ", 0 },
	{ "cr\r", 0 },
	{ "nul\x01", 0 },
	{ "del\x7f", 0 },
	{ "\xc0\x80", 0 },
};

static void
test_valid_name_text(void **state)
{
	char   buf[1024];
	size_t i;

	(void)state;
	check_fmt("name", fmt_name, name_cases, nitems(name_cases));
	check_fmt("text", fmt_text20, text_cases, nitems(text_cases));

	/* 200 characters are fine, 201 are not: code points, not bytes. */
	for (i = 0; i < 201; i++)
		memcpy(buf + 2 * i, "ğ", 2);
	assert_true(proto_valid_name(buf, 400));
	assert_false(proto_valid_name(buf, 402));
	memset(buf, 'a', 201);
	assert_true(proto_valid_name(buf, 200));
	assert_false(proto_valid_name(buf, 201));
	for (i = 0; i < 200; i++)
		memcpy(buf + 4 * i, "😀", 4);
	assert_true(proto_valid_name(buf, 800));
	/* Spaces around do not count. */
	buf[0] = ' ';
	buf[1] = ' ';
	for (i = 0; i < 200; i++)
		buf[2 + i] = 'b';
	buf[202] = ' ';
	assert_true(proto_valid_name(buf, 203));
	buf[202] = 'b';
	assert_false(proto_valid_name(buf, 203));
	/* Text limit in characters. */
	assert_true(proto_valid_text("abc", 3, 3));
	assert_false(proto_valid_text("abcd", 4, 3));
	assert_true(proto_valid_text(NULL, 0, 0));
}

struct uint_case {
	const char *s;
	uint64_t    min, max;
	int	    ok;
	uint64_t    value;
};

static const struct uint_case uint_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "1", 1, 10, 1, 1 },
	{ "10", 1, 10, 1, 10 },
	{ "42", 0, UINT64_MAX, 1, 42 },
	{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
	{ "9223372036854775807", 1, INT64_MAX, 1, INT64_MAX },
	{ "18446744073709551616", 0, UINT64_MAX, 0, 0 }, /* overflow */
	{ "99999999999999999999", 0, UINT64_MAX, 0, 0 },
	{ "184467440737095516150", 0, UINT64_MAX, 0, 0 },
	{ "9223372036854775808", 1, INT64_MAX, 0, 0 },
	{ "0", 1, 10, 0, 0 },  /* below min */
	{ "11", 1, 10, 0, 0 }, /* above max */
	{ "00", 0, 10, 0, 0 }, /* leading zeros */
	{ "01", 0, 10, 0, 0 },
	{ "007", 0, 10, 0, 0 },
	{ "", 0, 10, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "1a", 0, 10, 0, 0 },
	{ "0x1", 0, 10, 0, 0 },
	{ "1.0", 0, 10, 0, 0 },
	{ "1e3", 0, 10000, 0, 0 },
	{ "٣", 0, 10, 0, 0 },
};

static void
test_valid_uint(void **state)
{
	uint64_t v;
	size_t	 i;
	int	 ok;

	(void)state;
	for (i = 0; i < nitems(uint_cases); i++) {
		const struct uint_case *c = &uint_cases[i];

		v = 12345;
		ok = proto_valid_uint(c->s, strlen(c->s), c->min, c->max, &v);
		if (ok != c->ok)
			fail_msg("uint case %zu \"%s\": %d", i, c->s, ok);
		if (ok && v != c->value)
			fail_msg("uint case %zu \"%s\": value %llu", i, c->s,
			    (unsigned long long)v);
		if (!ok && v != 12345)
			fail_msg("uint case %zu: out written on failure", i);
		assert_int_equal(proto_valid_uint(c->s, strlen(c->s), c->min,
				     c->max, NULL),
		    c->ok);
	}
}

/* ------------------------------------------------------------------ */
/* Key types: proto_check_value and proto_key_type_name */

struct check_case {
	enum proto_key_type type;
	const char	   *choices;
	int		    required;
	const char	   *value;
	size_t		    repeat; /* value written this many times; 0: once */
	int		    flags;
	const char	   *why; /* NULL: accepted; else the exact reason */
};

#define WHY_CODE                                                         \
	"k: a code is 1-32 of A-Z a-z 0-9 _ . - starting with a letter " \
	"or digit"
#define WHY_ID	      "k: must be a positive integer"
#define WHY_COUNT     "k: must be an integer from 0 to 1000000"
#define WHY_NAME      "k: must be 1-200 characters"
#define WHY_TEXT      "k: at most 4000 characters"
#define WHY_DATE      "k: must be a date YYYY-MM-DD"
#define WHY_TIME      "k: must be a time YYYY-MM-DDTHH:MM"
#define WHY_TIMESTAMP "k: must be a UTC time YYYY-MM-DDTHH:MM:SSZ"
#define WHY_EMAIL     "k: not an e-mail address"
#define WHY_TZ	      "k: must be a time zone such as Europe/Istanbul"
#define WHY_REF	      "k: 1-64 of A-Z a-z 0-9 _ . : -"
#define WHY_PASSWORD  "k: a password has at least 12 characters"
#define WHY_SECRET    "k: must be 1-1024 bytes"
#define WHY_ENUM      "k: must be one of a|bb|c"
#define WHY_COMMAND   "k: not a command"
#define WHY_CTL	      "k: control characters are not allowed here"
#define LF_TAB	      PROTO_ARG_LF_TAB
#define OTHER_CTL     PROTO_ARG_OTHER_CTL
#define QUOTED	      PROTO_ARG_QUOTED

static const struct check_case check_cases[] = {
	/* code: good, bad, 32 and 33 characters, empty never clears */
	{ KEY_CODE, NULL, 1, "SOM-37", 0, 0, NULL },
	{ KEY_CODE, NULL, 0, "a_b.c-d", 0, 0, NULL },
	{ KEY_CODE, NULL, 1, "9", 0, 0, NULL },
	{ KEY_CODE, NULL, 1, "-x", 0, 0, WHY_CODE },
	{ KEY_CODE, NULL, 1, "a b", 0, QUOTED, WHY_CODE },
	{ KEY_CODE, NULL, 1, "ş", 0, 0, WHY_CODE },
	{ KEY_CODE, NULL, 1, "a", 32, 0, NULL },
	{ KEY_CODE, NULL, 1, "a", 33, 0, WHY_CODE },
	{ KEY_CODE, NULL, 0, "", 0, QUOTED, WHY_CODE },
	{ KEY_CODE, NULL, 1, "", 0, QUOTED, WHY_CODE },

	/* id: 1 to INT64_MAX */
	{ KEY_ID, NULL, 1, "1", 0, 0, NULL },
	{ KEY_ID, NULL, 1, "9223372036854775807", 0, 0, NULL },
	{ KEY_ID, NULL, 1, "9223372036854775808", 0, 0, WHY_ID },
	{ KEY_ID, NULL, 1, "0", 0, 0, WHY_ID },
	{ KEY_ID, NULL, 1, "01", 0, 0, WHY_ID },
	{ KEY_ID, NULL, 1, "-1", 0, 0, WHY_ID },
	{ KEY_ID, NULL, 1, "1x", 0, 0, WHY_ID },
	{ KEY_ID, NULL, 0, "", 0, QUOTED, WHY_ID },

	/* count: 0 to 1000000; empty clears an optional one */
	{ KEY_COUNT, NULL, 1, "0", 0, 0, NULL },
	{ KEY_COUNT, NULL, 1, "1000000", 0, 0, NULL },
	{ KEY_COUNT, NULL, 1, "1000001", 0, 0, WHY_COUNT },
	{ KEY_COUNT, NULL, 1, "00", 0, 0, WHY_COUNT },
	{ KEY_COUNT, NULL, 1, "+5", 0, 0, WHY_COUNT },
	{ KEY_COUNT, NULL, 0, "", 0, QUOTED, NULL },
	{ KEY_COUNT, NULL, 1, "", 0, QUOTED, WHY_COUNT },

	/* name: 1-200 code points after trimming; empty clears */
	{ KEY_NAME, NULL, 1, "Ayşe Yılmaz", 0, QUOTED, NULL },
	{ KEY_NAME, NULL, 1, " x ", 0, QUOTED, NULL },
	{ KEY_NAME, NULL, 1, "ğ", 200, 0, NULL },
	{ KEY_NAME, NULL, 1, "ğ", 201, 0, WHY_NAME },
	{ KEY_NAME, NULL, 1, " ", 0, QUOTED, WHY_NAME },
	{ KEY_NAME, NULL, 1, "a\tb", 0, LF_TAB, WHY_CTL },
	{ KEY_NAME, NULL, 1, "a\rb", 0, OTHER_CTL, WHY_CTL },
	{ KEY_NAME, NULL, 0, "", 0, QUOTED, NULL },
	{ KEY_NAME, NULL, 1, "", 0, QUOTED, WHY_NAME },

	/* text: LF and TAB allowed, 4000 code points; empty is text */
	{ KEY_TEXT, NULL, 1, "two\nlines\tand a tab", 0, LF_TAB, NULL },
	{ KEY_TEXT, NULL, 1, "ş", 4000, 0, NULL },
	{ KEY_TEXT, NULL, 1, "ş", 4001, 0, WHY_TEXT },
	{ KEY_TEXT, NULL, 1, "cr\r", 0, OTHER_CTL, WHY_CTL },
	{ KEY_TEXT, NULL, 0, "", 0, QUOTED, NULL },
	{ KEY_TEXT, NULL, 1, "", 0, QUOTED, NULL },

	/* line: text without LF or TAB */
	{ KEY_LINE, NULL, 1, "one line", 0, QUOTED, NULL },
	{ KEY_LINE, NULL, 1, "x", 4000, 0, NULL },
	{ KEY_LINE, NULL, 1, "x", 4001, 0, WHY_TEXT },
	{ KEY_LINE, NULL, 1, "two\nlines", 0, LF_TAB, WHY_CTL },
	{ KEY_LINE, NULL, 1, "a\tb", 0, LF_TAB, WHY_CTL },
	{ KEY_LINE, NULL, 0, "", 0, QUOTED, NULL },
	{ KEY_LINE, NULL, 1, "", 0, QUOTED, NULL },

	/* date, time, timestamp */
	{ KEY_DATE, NULL, 1, "2024-02-29", 0, 0, NULL },
	{ KEY_DATE, NULL, 1, "2025-02-29", 0, 0, WHY_DATE },
	{ KEY_DATE, NULL, 1, "2025-11-26T10:00", 0, 0, WHY_DATE },
	{ KEY_DATE, NULL, 0, "", 0, QUOTED, WHY_DATE },
	{ KEY_TIME, NULL, 1, "2025-11-26T23:59", 0, 0, NULL },
	{ KEY_TIME, NULL, 1, "2025-11-26T24:00", 0, 0, WHY_TIME },
	{ KEY_TIME, NULL, 1, "2025-11-26T10:00Z", 0, 0, WHY_TIME },
	{ KEY_TIME, NULL, 0, "", 0, QUOTED, WHY_TIME },
	{ KEY_TIMESTAMP, NULL, 1, "2025-11-26T07:00:00Z", 0, 0, NULL },
	{ KEY_TIMESTAMP, NULL, 1, "2025-11-26T07:00", 0, 0, NULL },
	{ KEY_TIMESTAMP, NULL, 1, "2025-11-26T07:00:60Z", 0, 0, WHY_TIMESTAMP },
	{ KEY_TIMESTAMP, NULL, 1, "2025-11-26T07:00:00+03:00", 0, 0,
	    WHY_TIMESTAMP },
	{ KEY_TIMESTAMP, NULL, 0, "", 0, QUOTED, WHY_TIMESTAMP },

	/* email: empty clears */
	{ KEY_EMAIL, NULL, 1, "ayse@example.org", 0, 0, NULL },
	{ KEY_EMAIL, NULL, 1, "a@b", 0, 0, NULL },
	{ KEY_EMAIL, NULL, 1, "no-at.example.org", 0, 0, WHY_EMAIL },
	{ KEY_EMAIL, NULL, 1, "a@@b", 0, 0, WHY_EMAIL },
	{ KEY_EMAIL, NULL, 1, "a b@c", 0, QUOTED, WHY_EMAIL },
	{ KEY_EMAIL, NULL, 0, "", 0, QUOTED, NULL },
	{ KEY_EMAIL, NULL, 1, "", 0, QUOTED, WHY_EMAIL },

	/* tz, ref */
	{ KEY_TZ, NULL, 1, "Europe/Istanbul", 0, 0, NULL },
	{ KEY_TZ, NULL, 1, "UTC", 0, 0, NULL },
	{ KEY_TZ, NULL, 1, "Istanbul", 0, 0, WHY_TZ },
	{ KEY_TZ, NULL, 1, "Europe/", 0, 0, WHY_TZ },
	{ KEY_TZ, NULL, 0, "", 0, QUOTED, WHY_TZ },
	{ KEY_REF, NULL, 1, "form:2025-11.a_b", 0, 0, NULL },
	{ KEY_REF, NULL, 1, "r", 64, 0, NULL },
	{ KEY_REF, NULL, 1, "r", 65, 0, WHY_REF },
	{ KEY_REF, NULL, 1, "a/b", 0, 0, WHY_REF },
	{ KEY_REF, NULL, 0, "", 0, QUOTED, WHY_REF },

	/* password: 12 code points to 1024 bytes; secret: 1-1024 bytes */
	{ KEY_PASSWORD, NULL, 1, "ş", 12, 0, NULL },
	{ KEY_PASSWORD, NULL, 1, "ş", 11, 0, WHY_PASSWORD },
	{ KEY_PASSWORD, NULL, 1, "x", 1024, 0, NULL },
	{ KEY_PASSWORD, NULL, 1, "x", 1025, 0, WHY_PASSWORD },
	{ KEY_PASSWORD, NULL, 1, "with spaces", 2, QUOTED, NULL },
	{ KEY_PASSWORD, NULL, 1, "tab\there-long", 0, LF_TAB, WHY_CTL },
	{ KEY_PASSWORD, NULL, 0, "", 0, QUOTED, WHY_PASSWORD },
	{ KEY_SECRET, NULL, 1, "x", 0, 0, NULL },
	{ KEY_SECRET, NULL, 1, "x", 1024, 0, NULL },
	{ KEY_SECRET, NULL, 1, "x", 1025, 0, WHY_SECRET },
	{ KEY_SECRET, NULL, 0, "", 0, QUOTED, WHY_SECRET },

	/* enum: one of the choices, whole */
	{ KEY_ENUM, "a|bb|c", 1, "a", 0, 0, NULL },
	{ KEY_ENUM, "a|bb|c", 1, "bb", 0, 0, NULL },
	{ KEY_ENUM, "a|bb|c", 1, "c", 0, 0, NULL },
	{ KEY_ENUM, "a|bb|c", 1, "b", 0, 0, WHY_ENUM },
	{ KEY_ENUM, "a|bb|c", 1, "a|bb", 0, 0, WHY_ENUM },
	{ KEY_ENUM, "a|bb|c", 1, "A", 0, 0, WHY_ENUM },
	{ KEY_ENUM, "a|bb|c", 0, "", 0, QUOTED, WHY_ENUM },
	{ KEY_ENUM, "a||c", 1, "", 0, QUOTED, NULL },
	{ KEY_ENUM, NULL, 1, "a", 0, 0, "k: must be one of " },

	/* command: 1 to 65 bytes */
	{ KEY_COMMAND, NULL, 1, "participant add", 0, QUOTED, NULL },
	{ KEY_COMMAND, NULL, 1, "w", 65, 0, NULL },
	{ KEY_COMMAND, NULL, 1, "w", 66, 0, WHY_COMMAND },
	{ KEY_COMMAND, NULL, 0, "", 0, QUOTED, WHY_COMMAND },

	/* a type out of range */
	{ KEY_NTYPES, NULL, 1, "x", 0, 0, "k: a key of no known type" },
};

static void
test_check_value(void **state)
{
	const struct check_case *c;
	char			 why[WHYLEN], *v;
	size_t			 i, j, n, vlen;
	int			 rv, failed = 0;

	(void)state;
	for (i = 0; i < nitems(check_cases); i++) {
		c = &check_cases[i];
		n = c->repeat ? c->repeat : 1;
		vlen = strlen(c->value) * n;
		/* exactly vlen bytes and no NUL: the length ends the value */
		assert_non_null(v = malloc(vlen + 1));
		for (j = 0; j < n; j++)
			memcpy(v + j * strlen(c->value), c->value,
			    strlen(c->value));
		snprintf(why, sizeof why, "untouched");
		rv = proto_check_value(c->type, "k", c->choices, c->required, v,
		    vlen, c->flags, why, sizeof why);
		if (c->why == NULL && (rv != 0 || strcmp(why, "untouched"))) {
			print_error("check case %zu (type %d \"%s\" x%zu): "
				    "refused: %s\n",
			    i, c->type, c->value, n, why);
			failed++;
		} else if (c->why != NULL &&
		    (rv != -1 || strcmp(why, c->why) != 0)) {
			print_error("check case %zu (type %d \"%s\" x%zu): "
				    "%d \"%s\", not \"%s\"\n",
			    i, c->type, c->value, n, rv, why, c->why);
			failed++;
		}
		free(v);
	}
	assert_int_equal(failed, 0);

	/* why is cut to its buffer, and may be NULL with no room. */
	assert_int_equal(proto_check_value(KEY_ID, "key", NULL, 1, "x", 1, 0,
			     why, 5),
	    -1);
	assert_string_equal(why, "key:");
	assert_int_equal(proto_check_value(KEY_ID, "key", NULL, 1, "x", 1, 0,
			     NULL, 0),
	    -1);
	/* An empty value may have no bytes at all. */
	assert_int_equal(proto_check_value(KEY_NAME, "k", NULL, 0, NULL, 0, 0,
			     why, sizeof why),
	    0);
	assert_int_equal(proto_check_value(KEY_ENUM, "k", "a||b", 1, NULL, 0, 0,
			     why, sizeof why),
	    0);
}

static void
test_key_type_names(void **state)
{
	static const char *const names[] = { "code", "id", "count", "name",
		"text", "line", "date", "time", "timestamp", "email", "tz",
		"ref", "password", "secret", "enum", "command" };
	size_t			 i;

	(void)state;
	assert_int_equal(nitems(names), KEY_NTYPES);
	for (i = 0; i < nitems(names); i++)
		assert_string_equal(proto_key_type_name(i), names[i]);
	assert_null(proto_key_type_name(KEY_NTYPES));
	assert_null(proto_key_type_name((enum proto_key_type) - 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_request_utf8_invalid),
		cmocka_unit_test(test_request_raw_controls),
		cmocka_unit_test(test_request_max_args),
		cmocka_unit_test(test_request_store_bound),
		cmocka_unit_test(test_request_why_buffers),
		cmocka_unit_test(test_needs_quote_and_value),
		cmocka_unit_test(test_value_round_trip),
		cmocka_unit_test(test_value_lossy_controls),
		cmocka_unit_test(test_buf_field),
		cmocka_unit_test(test_code_names),
		cmocka_unit_test(test_buf_err),
		cmocka_unit_test(test_reply_lines),
		cmocka_unit_test(test_reply_max_fields),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_valid_simple),
		cmocka_unit_test(test_valid_name_text),
		cmocka_unit_test(test_valid_uint),
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_key_type_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
