/*
 * fuzz_keys.c -- libFuzzer target for proto_check_value (proto/keys.c),
 * the dispatcher's check of one value against its key's type.
 *
 * Input: a type selector byte, a flags byte, then the value's bytes (for
 * an enum with its own choices: the choices, a NUL, the value). The value
 * is checked as the parser would have flagged it, and with the flags
 * byte's extra bits. An accepted value must meet its type's format, checked
 * here by other means than proto/check.c's: a code its pattern, a number
 * its range, text well-formed UTF-8 of the right length without the
 * controls it may not hold. A refusal must give "k: " and a reason that
 * fits its buffer. Whether the key is required changes only what an empty
 * value does, and a value written on a request line and parsed again is
 * judged the same. Any difference aborts.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_REQUIRED	0x01
#define FUZZ_LF_TAB	0x02 /* claim an LF or TAB the value need not hold */
#define FUZZ_OTHER_CTL	0x04
#define FUZZ_QUOTED	0x08
#define FUZZ_WHYLEN	0x30 /* why's buffer: 256, 0, 1 or 16 bytes */
#define FUZZ_OWN_CHOICE 0x40 /* an enum's choices come from the input */

#define FUZZ_CHOICES "head|member|adviser|observer|staff"

static void
fuzz_fail(const char *what, int type, const char *v, size_t len)
{
	fprintf(stderr, "fuzz_keys: type %d: %s: [%.*s]\n", type, what,
	    (int)len, v);
	abort();
}

/*
 * The code points of s[0..len) when it is well-formed UTF-8, else -1:
 * decoded here, so that proto/utf8.c is not its own judge.
 */
static long
fuzz_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i = 0, n, j;
	unsigned long	     cp, min;
	long		     count = 0;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			count++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = u[i] & 0x1f;
			min = 0x80;
		} else if ((u[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = u[i] & 0x0f;
			min = 0x800;
		} else if ((u[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = u[i] & 0x07;
			min = 0x10000;
		} else
			return (-1);
		if (len - i < n)
			return (-1);
		for (j = 1; j < n; j++) {
			if ((u[i + j] & 0xc0) != 0x80)
				return (-1);
			cp = cp << 6 | (u[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (-1);
		i += n;
		count++;
	}
	return (count);
}

static int
fuzz_ctl(unsigned char c)
{
	return (c < 0x20 || c == 0x7f);
}

static int
fuzz_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/* 1 when c is a letter or digit of ASCII, or one of the bytes of more. */
static int
fuzz_in(char c, const char *more)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || fuzz_digit(c))
		return (1);
	return (c != '\0' && strchr(more, c) != NULL);
}

/* The decimal number at v[0..len), without sign or leading zero, or -1. */
static long long
fuzz_number(const char *v, size_t len)
{
	char		   s[32];
	unsigned long long n;
	size_t		   i;

	if (len == 0 || len >= sizeof s || (len > 1 && v[0] == '0'))
		return (-1);
	for (i = 0; i < len; i++)
		if (!fuzz_digit(v[i]))
			return (-1);
	memcpy(s, v, len);
	s[len] = '\0';
	errno = 0;
	n = strtoull(s, NULL, 10);
	if (errno != 0 || n > INT64_MAX)
		return (-1);
	return ((long long)n);
}

/* The two-digit number at v, or -1. */
static int
fuzz_two(const char *v)
{
	if (!fuzz_digit(v[0]) || !fuzz_digit(v[1]))
		return (-1);
	return ((v[0] - '0') * 10 + (v[1] - '0'));
}

/* YYYY-MM-DD at v[0..10), a day that exists. */
static int
fuzz_date(const char *v)
{
	int y, m, d, i, leap, days;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? v[i] != '-' : !fuzz_digit(v[i]))
			return (0);
	y = fuzz_two(v) * 100 + fuzz_two(v + 2);
	m = fuzz_two(v + 5);
	d = fuzz_two(v + 8);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2)
		days = 28 + leap;
	else
		days = 30 + ((m + (m > 7)) & 1);
	return (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days);
}

/* YYYY-MM-DDTHH:MM at v[0..16). */
static int
fuzz_time(const char *v)
{
	return (fuzz_date(v) && v[10] == 'T' && v[13] == ':' &&
	    fuzz_two(v + 11) >= 0 && fuzz_two(v + 11) <= 23 &&
	    fuzz_two(v + 14) >= 0 && fuzz_two(v + 14) <= 59);
}

/* Is v[0..len) one of the '|'-separated choices? */
static int
fuzz_choice(const char *choices, const char *v, size_t len)
{
	const char *c = choices, *bar;
	size_t	    n;

	for (;;) {
		bar = strchr(c, '|');
		n = bar != NULL ? (size_t)(bar - c) : strlen(c);
		if (n == len && (n == 0 || memcmp(c, v, n) == 0))
			return (1);
		if (bar == NULL)
			return (0);
		c = bar + 1;
	}
}

/* Does a value meet its type's format? Written from PROTOCOL.md, apart
 * from proto/check.c, so that the two can be compared. */
static int
fuzz_format(int type, const char *choices, const char *v, size_t len)
{
	const char *at, *p;
	size_t	    i, b, e;
	long	    cps = fuzz_utf8(v, len);
	long long   n;

	switch (type) {
	case KEY_CODE:
		if (len < 1 || len > PROTO_MAX_CODE || !fuzz_in(v[0], ""))
			return (0);
		for (i = 1; i < len; i++)
			if (!fuzz_in(v[i], "_.-"))
				return (0);
		return (1);
	case KEY_ID:
		return (fuzz_number(v, len) >= 1);
	case KEY_COUNT:
		n = fuzz_number(v, len);
		return (n >= 0 && n <= 1000000);
	case KEY_NAME:
		for (b = 0; b < len && v[b] == ' '; b++)
			;
		for (e = len; e > b && v[e - 1] == ' '; e--)
			;
		cps = fuzz_utf8(v + b, e - b);
		for (i = 0; i < len; i++)
			if (fuzz_ctl(v[i]))
				return (0);
		return (cps >= 1 && cps <= PROTO_MAX_NAME);
	case KEY_TEXT:
	case KEY_LINE: /* LF and TAB are refused by their flag */
		for (i = 0; i < len; i++)
			if (fuzz_ctl(v[i]) && v[i] != '\n' && v[i] != '\t')
				return (0);
		return (cps >= 0 && cps <= PROTO_MAX_TEXT);
	case KEY_DATE:
		return (len == 10 && fuzz_date(v));
	case KEY_TIME:
		return (len == 16 && fuzz_time(v));
	case KEY_TIMESTAMP:
		if (len < 16 || !fuzz_time(v))
			return (0);
		if (len == 16 || (len == 17 && v[16] == 'Z'))
			return (1);
		return ((len == 19 || (len == 20 && v[19] == 'Z')) &&
		    v[16] == ':' && fuzz_two(v + 17) >= 0 &&
		    fuzz_two(v + 17) <= 59);
	case KEY_EMAIL:
		if (len < 3 || len > PROTO_MAX_EMAIL || cps < 0 ||
		    (at = memchr(v, '@', len)) == NULL || at == v ||
		    at - v > 64 || at == v + len - 1 ||
		    memchr(at + 1, '@', len - (at - v) - 1) != NULL ||
		    at[1] == '.' || v[len - 1] == '.')
			return (0);
		for (i = 0; i < len; i++) {
			if (fuzz_ctl(v[i]) ||
			    (v[i] != '\0' &&
				strchr(" \"(),:;<>[\\]", v[i]) != NULL))
				return (0);
			if (v + i > at + 1 && v[i] == '.' && v[i - 1] == '.')
				return (0);
		}
		return (1);
	case KEY_TZ:
		if (len == 3 && memcmp(v, "UTC", 3) == 0)
			return (1);
		if (len < 3 || len > 64 || memchr(v, '/', len) == NULL)
			return (0);
		for (p = v, i = 0; i < len; i++) {
			if (v[i] == '/') {
				if (p == v + i)
					return (0); /* an empty part */
				p = v + i + 1;
			} else if (p == v + i ?
				!fuzz_in(v[i], "") || fuzz_digit(v[i]) :
				!fuzz_in(v[i], "_+-"))
				return (0);
		}
		return (p < v + len);
	case KEY_REF:
		if (len < 1 || len > PROTO_MAX_REF)
			return (0);
		for (i = 0; i < len; i++)
			if (!fuzz_in(v[i], "_.:-"))
				return (0);
		return (1);
	case KEY_PASSWORD:
		for (n = 0, i = 0; i < len; i++)
			n += ((unsigned char)v[i] & 0xc0) != 0x80;
		return (len <= PROTO_MAX_PASSWORD && n >= PROTO_MIN_PASSWORD);
	case KEY_SECRET:
		return (len >= 1 && len <= PROTO_MAX_PASSWORD);
	case KEY_ENUM:
		return (fuzz_choice(choices, v, len));
	case KEY_COMMAND:
		return (len >= 1 && len <= PROTO_MAX_COMMAND);
	default:
		return (0);
	}
}

/* Check v as its key's type; the refusal's reason must be well-formed. */
static int
fuzz_check(int type, const char *choices, int required, const char *v,
    size_t len, int flags, size_t whylen, int ascii)
{
	char   why[257]; /* one more than the most whylen asks for */
	size_t i;
	int    rv;

	memset(why, 'x', sizeof why);
	rv = proto_check_value(type, "k", choices, required, v, len, flags,
	    whylen ? why : NULL, whylen);
	if (rv == 0) {
		if (why[0] != 'x')
			fuzz_fail("why written on success", type, v, len);
		return (0);
	}
	if (rv != -1)
		fuzz_fail("neither 0 nor -1", type, v, len);
	if (whylen == 0)
		return (-1);
	if (memchr(why, '\0', whylen) == NULL || why[whylen] != 'x')
		fuzz_fail("why outside its buffer", type, v, len);
	if (whylen >= 4 && strncmp(why, "k: ", 3) != 0)
		fuzz_fail("why does not name the key", type, v, len);
	if (whylen == 256 && ascii) {
		if (strlen(why) < 5)
			fuzz_fail("why too short", type, v, len);
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] >= 0x80 ||
			    fuzz_ctl((unsigned char)why[i]))
				fuzz_fail("why not printable", type, v, len);
	}
	return (-1);
}

/* The value on a request line, parsed, and checked with the parser's flags:
 * the same verdict. Only for values that a line can carry unchanged. */
static void
fuzz_via_parser(int type, const char *choices, int required, const char *v,
    size_t len, int rv)
{
	struct proto_request req;
	struct proto_buf     b;
	char		     why[128];
	size_t		     i;
	int		     framing;

	if (len == 0 || fuzz_utf8(v, len) < 0)
		return;
	for (i = 0; i < len; i++)
		if (fuzz_ctl(v[i]) && v[i] != '\n' && v[i] != '\t' &&
		    v[i] != '\r')
			return;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "X k=");
	proto_buf_value(&b, v, len);
	if (b.oom)
		abort();
	if (proto_parse_request(b.data, b.len, &req, &framing, why,
		sizeof why) != PROTO_OK)
		fuzz_fail("not parsed back", type, b.data, b.len);
	if (req.nargs != 1 || req.args[0].vlen != len ||
	    memcmp(req.args[0].value, v, len) != 0)
		fuzz_fail("not the same value", type, b.data, b.len);
	if (proto_check_value(type, "k", choices, required, req.args[0].value,
		req.args[0].vlen, req.args[0].flags, why, sizeof why) != rv)
		fuzz_fail("another verdict with the parser's flags", type, v,
		    len);
	proto_request_free(&req);
	proto_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t whylens[] = { 256, 0, 1, 16 };
	const char	   *choices = FUZZ_CHOICES;
	char		   *own = NULL, *v;
	const uint8_t	   *nul;
	size_t		    len, i, whylen;
	int		    type, fl, flags = 0, extra = 0, required, rv;

	if (size < 2)
		return (0);
	type = data[0] % (KEY_NTYPES + 1); /* KEY_NTYPES: out of range */
	fl = data[1];
	required = (fl & FUZZ_REQUIRED) != 0;
	whylen = whylens[(fl & FUZZ_WHYLEN) >> 4];
	data += 2;
	size -= 2;
	if (type == KEY_ENUM && (fl & FUZZ_OWN_CHOICE)) {
		if ((nul = memchr(data, '\0', size)) == NULL)
			return (0);
		if ((own = strndup((const char *)data, nul - data)) == NULL)
			return (0);
		choices = own;
		size -= nul - data + 1;
		data = nul + 1;
	}
	/* A copy of exactly size bytes, so that ASan sees any overread. */
	len = size;
	if ((v = malloc(len > 0 ? len : 1)) == NULL) {
		free(own);
		return (0);
	}
	if (len > 0)
		memcpy(v, data, len);

	/* The flags the parser would set, and those the input adds. */
	for (i = 0; i < len; i++) {
		if (v[i] == '\n' || v[i] == '\t')
			flags |= PROTO_ARG_LF_TAB;
		else if (fuzz_ctl(v[i]))
			flags |= PROTO_ARG_OTHER_CTL;
	}
	if (fl & FUZZ_LF_TAB)
		extra |= PROTO_ARG_LF_TAB;
	if (fl & FUZZ_OTHER_CTL)
		extra |= PROTO_ARG_OTHER_CTL;
	if (fl & FUZZ_QUOTED)
		extra |= PROTO_ARG_QUOTED;

	rv = fuzz_check(type, choices, required, v, len, flags | extra, whylen,
	    own == NULL);
	flags |= extra;
	if ((flags & PROTO_ARG_OTHER_CTL) ||
	    ((flags & PROTO_ARG_LF_TAB) && type != KEY_TEXT)) {
		if (rv == 0)
			fuzz_fail("accepted with a control", type, v, len);
	} else if (len == 0 && !required &&
	    (type == KEY_COUNT || type == KEY_NAME || type == KEY_TEXT ||
		type == KEY_LINE || type == KEY_EMAIL)) {
		if (rv != 0)
			fuzz_fail("empty does not clear", type, v, len);
	} else if (type == KEY_ENUM && len == 0) {
		/* "a||b" holds an empty choice; whether "a|" does is moot */
		if (rv == 0 && !fuzz_choice(choices, v, 0))
			fuzz_fail("empty choice accepted", type, v, len);
	} else if ((rv == 0) != fuzz_format(type, choices, v, len))
		fuzz_fail(rv == 0 ? "accepted, not of its format" :
				    "refused, yet of its format",
		    type, v, len);
	/* Required or not, a value that is there is judged the same. */
	if (len > 0 &&
	    fuzz_check(type, choices, !required, v, len, flags, 256,
		own == NULL) != rv)
		fuzz_fail("required changes a verdict", type, v, len);
	if (extra == 0)
		fuzz_via_parser(type, choices, required, v, len, rv);
	free(v);
	free(own);
	return (0);
}
