/*
 * check.c -- the value formats of PROTOCOL.md section 2.
 *
 * Each proto_valid_* function looks at s[0..len) and returns 1 when it is
 * well-formed, else 0. They check shape only (a date is a real day, a code
 * has the right characters); whether the thing exists is the database's
 * business.
 */
#include <stdint.h>
#include <string.h>

#include "proto.h"

#define CHECK_MAX_TIMEZONE 64

static int
check_is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

static int
check_is_alpha(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static int
check_is_alnum(unsigned char c)
{
	return (check_is_alpha(c) || check_is_digit(c));
}

/* The n-digit number at s, or -1 when one of them is not a digit. */
static int
check_digits(const char *s, size_t n)
{
	size_t i;
	int    v = 0;

	for (i = 0; i < n; i++) {
		if (!check_is_digit((unsigned char)s[i]))
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

int
proto_valid_code(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > PROTO_MAX_CODE || !check_is_alnum(s[0]))
		return (0);
	for (i = 1; i < len; i++) {
		if (!check_is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return (0);
	}
	return (1);
}

int
proto_valid_key(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > PROTO_MAX_KEY)
		return (0);
	for (i = 0; i < len; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') && !check_is_digit(s[i]) &&
		    s[i] != '_')
			return (0);
	}
	return (1);
}

int
proto_valid_ref(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > PROTO_MAX_REF)
		return (0);
	for (i = 0; i < len; i++) {
		if (!check_is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != ':' && s[i] != '-')
			return (0);
	}
	return (1);
}

/* YYYY-MM-DD at s[0..10): a real day of the Gregorian calendar, year >= 1. */
static int
check_date(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int		 y, m, d, max;

	if (s[4] != '-' || s[7] != '-')
		return (0);
	if ((y = check_digits(s, 4)) < 1 || (m = check_digits(s + 5, 2)) < 1 ||
	    m > 12 || (d = check_digits(s + 8, 2)) < 1)
		return (0);
	max = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		max = 29;
	return (d <= max);
}

/* YYYY-MM-DDTHH:MM at s[0..16). */
static int
check_time(const char *s)
{
	int h, mi;

	if (!check_date(s) || s[10] != 'T' || s[13] != ':')
		return (0);
	if ((h = check_digits(s + 11, 2)) < 0 || h > 23 ||
	    (mi = check_digits(s + 14, 2)) < 0 || mi > 59)
		return (0);
	return (1);
}

int
proto_valid_date(const char *s, size_t len)
{
	return (len == 10 && check_date(s));
}

int
proto_valid_time(const char *s, size_t len)
{
	return (len == 16 && check_time(s));
}

/* YYYY-MM-DDTHH:MM, then optionally ":SS", then optionally "Z". */
int
proto_valid_timestamp(const char *s, size_t len)
{
	int sec;

	if (len < 16 || !check_time(s))
		return (0);
	s += 16;
	len -= 16;
	if (len >= 3 && s[0] == ':') {
		if ((sec = check_digits(s + 1, 2)) < 0 || sec > 59)
			return (0);
		s += 3;
		len -= 3;
	}
	if (len == 1 && s[0] == 'Z')
		len = 0;
	return (len == 0);
}

/* 1-200 code points after trimming spaces at both ends, no controls. */
int
proto_valid_name(const char *s, size_t len)
{
	size_t i;

	while (len > 0 && s[0] == ' ') {
		s++;
		len--;
	}
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0 || !proto_utf8_valid(s, len))
		return (0);
	for (i = 0; i < len; i++)
		if (proto_is_ctl((unsigned char)s[i]))
			return (0);
	return (proto_utf8_count(s, len) <= PROTO_MAX_NAME);
}

/* Free text: at most maxchars code points; LF and TAB are the only controls. */
int
proto_valid_text(const char *s, size_t len, size_t maxchars)
{
	size_t i;

	if (!proto_utf8_valid(s, len))
		return (0);
	for (i = 0; i < len; i++) {
		if (proto_is_ctl((unsigned char)s[i]) && s[i] != '\n' &&
		    s[i] != '\t')
			return (0);
	}
	return (proto_utf8_count(s, len) <= maxchars);
}

/*
 * local@domain: one '@', a local part of 1-64 bytes, a domain of dot-separated
 * non-empty labels, no spaces, controls or characters that need quoting.
 */
int
proto_valid_email(const char *s, size_t len)
{
	const char *at, *dom;
	size_t	    i, dlen;

	if (len < 3 || len > PROTO_MAX_EMAIL || !proto_utf8_valid(s, len))
		return (0);
	for (i = 0; i < len; i++) {
		if (proto_is_ctl((unsigned char)s[i]) ||
		    strchr(" \"(),:;<>[\\]", s[i]) != NULL)
			return (0);
	}
	if ((at = memchr(s, '@', len)) == NULL ||
	    memchr(at + 1, '@', len - (at - s) - 1) != NULL)
		return (0);
	if (at == s || at - s > 64)
		return (0);
	dom = at + 1;
	dlen = len - (dom - s);
	if (dlen == 0 || dom[0] == '.' || dom[dlen - 1] == '.')
		return (0);
	for (i = 1; i < dlen; i++)
		if (dom[i] == '.' && dom[i - 1] == '.')
			return (0);
	return (1);
}

/* "UTC", or at least two '/'-separated parts of [A-Za-z0-9_+-] starting
 * with a letter: Europe/Istanbul, America/Argentina/Buenos_Aires, Etc/GMT+3. */
int
proto_valid_timezone(const char *s, size_t len)
{
	size_t i, parts = 1;
	int    start = 1;

	if (len == 3 && memcmp(s, "UTC", 3) == 0)
		return (1);
	if (len < 3 || len > CHECK_MAX_TIMEZONE)
		return (0);
	for (i = 0; i < len; i++) {
		if (start) {
			if (!check_is_alpha(s[i]))
				return (0);
			start = 0;
		} else if (s[i] == '/') {
			parts++;
			start = 1;
		} else if (!check_is_alnum(s[i]) && s[i] != '_' &&
		    s[i] != '+' && s[i] != '-')
			return (0);
	}
	return (!start && parts >= 2);
}

int
proto_valid_uint(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t     v = 0;
	size_t	     i;
	unsigned int d;

	if (len < 1 || (len > 1 && s[0] == '0'))
		return (0);
	for (i = 0; i < len; i++) {
		if (!check_is_digit(s[i]))
			return (0);
		d = s[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return (0);
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return (0);
	if (out != NULL)
		*out = v;
	return (1);
}
