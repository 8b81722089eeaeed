/*
 * translit.c -- a participant's name in Latin letters, derived with ICU
 * (PROTOCOL.md section 5, latin=). One transliterator, opened at start:
 * ICU's are not thread-safe, and only the event loop uses it.
 *
 * A name is "not in Latin script" when one of its code points belongs to
 * a script other than Latin, Common (digits, punctuation, spaces) and
 * Inherited (combining marks) by uscript_getScript. Such a name is
 * transliterated with "Any-Latin; Latin-ASCII; [:^ASCII:] Remove": every
 * script ICU knows to Latin (Chinese as pinyin), then accents and letters
 * like ð or ł to their ASCII forms, and what has none (the half rings
 * that stand for Arabic's ʿayn and hamza) removed, so that the result can
 * be typed on any keyboard, printed in any font and searched without a
 * collation. A script without capitals (Arabic, Chinese, Hebrew...) gives
 * a result without any: then each word gets a capital first letter, as a
 * name in Latin letters is written. Runs of white space become one space,
 * control characters are dropped, and a result that is empty or longer
 * than PROTO_MAX_NAME characters is no latin at all.
 */
#include <stdio.h>
#include <string.h>

#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>
#include <unicode/utrans.h>

#include "rosterd.h"

#define TRANSLIT_ID "Any-Latin; Latin-ASCII; [:^ASCII:] Remove"
/* UTF-16 units: a name is at most PROTO_MAX_NAME characters (2 units
 * each); what it becomes may be several times longer (one Han character
 * is a syllable of pinyin). */
#define TRANSLIT_IN  (2 * PROTO_MAX_NAME + 1)
#define TRANSLIT_OUT (16 * PROTO_MAX_NAME)

static UTransliterator *translit;

/* Open the transliterator; -1 with a message when ICU cannot. */
int
translit_init(char *err, size_t errlen)
{
	UChar	    id[64];
	UErrorCode  ec = U_ZERO_ERROR;
	UParseError pe;

	u_uastrcpy(id, TRANSLIT_ID);
	translit = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &pe, &ec);
	if (U_FAILURE(ec)) {
		snprintf(err, errlen, "ICU transliterator %s: %s", TRANSLIT_ID,
		    u_errorName(ec));
		translit = NULL;
		return (-1);
	}
	return (0);
}

/* 1 when a code point of s (UTF-16, n units) is of a script other than
 * Latin, Common and Inherited. */
static int
translit_needed(const UChar *s, int32_t n)
{
	UErrorCode  ec;
	UScriptCode sc;
	int32_t	    i = 0;
	UChar32	    ch;

	while (i < n) {
		U16_NEXT(s, i, n, ch);
		ec = U_ZERO_ERROR;
		sc = uscript_getScript(ch, &ec);
		if (U_FAILURE(ec))
			continue;
		if (sc != USCRIPT_LATIN && sc != USCRIPT_COMMON &&
		    sc != USCRIPT_INHERITED && sc != USCRIPT_UNKNOWN)
			return (1);
	}
	return (0);
}

/* White space runs to one space, controls dropped, ends trimmed; returns
 * the new length. */
static int32_t
translit_tidy(UChar *s, int32_t n)
{
	int32_t i, o = 0;
	int	space = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == 0xa0) {
			space = o > 0;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f)
			continue;
		if (space)
			s[o++] = ' ';
		space = 0;
		s[o++] = s[i];
	}
	return (o);
}

/* Without a capital letter, each word's first letter becomes one. */
static void
translit_capitals(UChar *s, int32_t n)
{
	int32_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return;
	for (i = 0; i < n; i++)
		if (s[i] >= 'a' && s[i] <= 'z' &&
		    (i == 0 || s[i - 1] == ' ' || s[i - 1] == '-'))
			s[i] -= 'a' - 'A';
}

/*
 * The Latin form of name (UTF-8, nul-terminated) into out: 1 when it was
 * derived, 0 when the name is in Latin script or nothing usable came out
 * (out is ""), -1 when ICU failed.
 */
int
translit_latin(const char *name, char *out, size_t outlen)
{
	UChar	   in[TRANSLIT_IN], buf[TRANSLIT_OUT];
	UErrorCode ec = U_ZERO_ERROR;
	int32_t	   n, limit, len, chars;

	if (outlen > 0)
		out[0] = '\0';
	if (translit == NULL || outlen == 0)
		return (-1);
	u_strFromUTF8(in, TRANSLIT_IN, &n, name, -1, &ec);
	if (U_FAILURE(ec) || ec == U_STRING_NOT_TERMINATED_WARNING)
		return (0); /* longer than a name may be */
	if (!translit_needed(in, n))
		return (0);
	u_memcpy(buf, in, n);
	len = limit = n;
	ec = U_ZERO_ERROR;
	utrans_transUChars(translit, buf, &len, TRANSLIT_OUT, 0, &limit, &ec);
	if (ec == U_BUFFER_OVERFLOW_ERROR || len >= TRANSLIT_OUT)
		return (0);
	if (U_FAILURE(ec))
		return (-1);
	len = translit_tidy(buf, len);
	translit_capitals(buf, len);
	chars = u_countChar32(buf, len);
	if (chars == 0 || chars > PROTO_MAX_NAME)
		return (0);
	ec = U_ZERO_ERROR;
	u_strToUTF8(out, (int32_t)outlen, &n, buf, len, &ec);
	if (U_FAILURE(ec) || ec == U_STRING_NOT_TERMINATED_WARNING) {
		out[0] = '\0';
		return (0);
	}
	return (1);
}
