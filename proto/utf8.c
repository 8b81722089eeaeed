/*
 * utf8.c -- UTF-8 well-formedness and control characters (PROTOCOL.md 2).
 *
 * Well-formed is the Unicode definition (table 3-7 of the standard): no
 * overlong forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF,
 * no stray continuation bytes, no truncated sequences.
 */
#include "proto.h"

/* Length of the well-formed sequence at s[0..len), or 0 when ill-formed. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t	      n, i;

	if (c < 0x80)
		return (1);
	if (c < 0xc2) /* continuation, or overlong C0/C1 */
		return (0);
	if (c < 0xe0)
		n = 2;
	else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0) /* overlong */
			lo = 0xa0;
		else if (c == 0xed) /* surrogates */
			hi = 0x9f;
	} else if (c < 0xf5) {
		n = 4;
		if (c == 0xf0) /* overlong */
			lo = 0x90;
		else if (c == 0xf4) /* above U+10FFFF */
			hi = 0x8f;
	} else
		return (0);
	if (len < n)
		return (0);
	if (s[1] < lo || s[1] > hi)
		return (0);
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return (0);
	return (n);
}

size_t
proto_utf8_invalid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(u + i, len - i)) == 0)
			return (i);
		i += n;
	}
	return (len);
}

int
proto_utf8_valid(const char *s, size_t len)
{
	return (proto_utf8_invalid(s, len) == len);
}

size_t
proto_utf8_count(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i, n = 0;

	for (i = 0; i < len; i++)
		if ((u[i] & 0xc0) != 0x80)
			n++;
	return (n);
}

int
proto_is_ctl(unsigned char c)
{
	return (c < 0x20 || c == 0x7f);
}
