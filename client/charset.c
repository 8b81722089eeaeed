/*
 * charset.c -- the text of an import file as UTF-8, whatever a spreadsheet
 * wrote: UTF-8 with or without a byte order mark is taken as it is, UTF-16
 * with a byte order mark (Excel's "Unicode text") is converted, and any
 * other encoding is converted from the one the user names (--encoding
 * cp1252) through iconv. A text in none of these (not UTF-8, no encoding
 * named) is refused with the line where it stops being UTF-8.
 *
 * No I/O: bytes in, a new UTF-8 text out, or what is wrong.
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster.h"

#define CHARSET_BOM8	"\xef\xbb\xbf"
#define CHARSET_BOM16LE "\xff\xfe"
#define CHARSET_BOM16BE "\xfe\xff"

static int __attribute__((format(printf, 3, 4)))
charset_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

/* 1 when name is a spelling of UTF-8. */
static int
charset_is_utf8(const char *name)
{
	return (strcasecmp(name, "UTF-8") == 0 ||
	    strcasecmp(name, "UTF8") == 0);
}

/* The line of d[off] (1 for the first). */
static size_t
charset_line(const char *d, size_t off)
{
	size_t i, line = 1;

	for (i = 0; i < off; i++)
		line += d[i] == '\n';
	return (line);
}

/* The offset of the first line that is not UTF-8, or len when all are. */
static size_t
charset_bad_utf8(const char *d, size_t len)
{
	const char *lf;
	size_t	    off = 0, n;

	while (off < len) {
		lf = memchr(d + off, '\n', len - off);
		n = lf != NULL ? (size_t)(lf - (d + off)) : len - off;
		if (!proto_utf8_valid(d + off, n))
			return (off);
		off += n + 1;
	}
	return (len);
}

/* A copy of d[0..len) with a NUL after it. */
static int
charset_copy(const char *d, size_t len, char **out, size_t *outlen)
{
	if ((*out = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(*out, d, len);
	(*out)[len] = '\0';
	*outlen = len;
	return (0);
}

/* d[0..len) from the encoding from to UTF-8, with iconv. */
static int
charset_iconv(const char *d, size_t len, const char *from, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	iconv_t cd;
	char   *in = (char *)d, *buf, *o, *p;
	size_t	left = len, cap, room, r, done;
	int	e;

	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1)
		return (charset_fail(err, errlen,
		    "unknown encoding \"%s\" (iconv -l lists them)", from));
	cap = len * 2 + 16;
	if ((buf = malloc(cap)) == NULL) {
		iconv_close(cd);
		return (charset_fail(err, errlen, "out of memory"));
	}
	o = buf;
	room = cap - 1;
	while (left > 0) {
		r = iconv(cd, &in, &left, &o, &room);
		if (r != (size_t)-1)
			break;
		e = errno;
		if (e == E2BIG) {
			done = (size_t)(o - buf);
			cap *= 2;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				iconv_close(cd);
				return (charset_fail(err, errlen,
				    "out of memory"));
			}
			buf = p;
			o = buf + done;
			room = cap - 1 - done;
			continue;
		}
		/* Count the lines converted so far. */
		r = charset_line(buf, (size_t)(o - buf));
		free(buf);
		iconv_close(cd);
		if (e == EINVAL)
			return (charset_fail(err, errlen,
			    "the text ends inside a %s character (line %zu)",
			    from, r));
		return (charset_fail(err, errlen,
		    "line %zu: bytes that are not %s", r, from));
	}
	iconv_close(cd);
	*o = '\0';
	*outlen = (size_t)(o - buf);
	*out = buf;
	/* A byte order mark that the encoding named kept. */
	if (*outlen >= 3 && memcmp(buf, CHARSET_BOM8, 3) == 0) {
		memmove(buf, buf + 3, *outlen - 3 + 1);
		*outlen -= 3;
	}
	return (0);
}

/*
 * The text d[0..len) as UTF-8 in *out (NUL-terminated, *outlen bytes, to
 * free), read as from says (NULL: UTF-8, or UTF-16 by its byte order
 * mark). A byte order mark is never part of the result. -1 with err set
 * when the text cannot be read so.
 */
int
charset_to_utf8(const char *d, size_t len, const char *from, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	const char *nul;
	size_t	    bad;

	*out = NULL;
	*outlen = 0;
	if (len >= 3 && memcmp(d, CHARSET_BOM8, 3) == 0) {
		d += 3; /* the mark says UTF-8, whatever --encoding says */
		len -= 3;
		from = NULL;
	} else if (len >= 2 && memcmp(d, CHARSET_BOM16LE, 2) == 0)
		return (charset_iconv(d + 2, len - 2, "UTF-16LE", out, outlen,
		    err, errlen));
	else if (len >= 2 && memcmp(d, CHARSET_BOM16BE, 2) == 0)
		return (charset_iconv(d + 2, len - 2, "UTF-16BE", out, outlen,
		    err, errlen));
	if (from != NULL && !charset_is_utf8(from))
		return (charset_iconv(d, len, from, out, outlen, err, errlen));
	if ((nul = memchr(d, '\0', len)) != NULL)
		return (charset_fail(err, errlen,
		    "line %zu: NUL bytes: UTF-16 without a byte order mark? "
		    "(--encoding UTF-16LE)",
		    charset_line(d, (size_t)(nul - d))));
	if ((bad = charset_bad_utf8(d, len)) < len) {
		return (charset_fail(err, errlen,
		    "line %zu is not UTF-8; name the file's encoding, "
		    "e.g. --encoding cp1252 (Excel's \"CSV\" in Western "
		    "Europe)",
		    charset_line(d, bad)));
	}
	if (charset_copy(d, len, out, outlen) == -1)
		return (charset_fail(err, errlen, "out of memory"));
	return (0);
}
