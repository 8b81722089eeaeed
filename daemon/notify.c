/*
 * notify.c -- a notification on channel "roster" (written by roster._notify
 * in sql/functions/core.sql, carried by daemon/feed.c) turned into the WATCH
 * line "! KIND key=value ...\n" of PROTOCOL.md section 8, and its event code.
 * Pure: jansson decodes, librosterproto writes; no sockets, no database.
 *
 * What is accepted, and how it is written:
 * - the payload is at most NOTIFY_MAX_PAYLOAD bytes of JSON (read by
 *   length; a NUL anywhere is refused), one object and nothing after it
 *   but white space, with at most NOTIFY_MAX_FIELDS members and no key
 *   twice;
 * - "event" and "kind" are strings in the format of a code (section 2);
 *   "event" is handed back, not written; KIND comes first on the line;
 * - every other key is a protocol key (1*[a-z0-9_]); the members follow in
 *   the payload's order;
 * - strings are written with proto_buf_field: quoted and escaped when
 *   needed, LF, TAB and CR as \n, \t and \r, other controls as U+FFFD, so
 *   that a value never breaks the line; jansson refuses invalid UTF-8,
 *   lone or truncated surrogates and \u0000;
 * - integers in decimal, reals in the shortest form that reads back to the
 *   same double (1.50 as 1.5, 1e+05 as 1e5), true and false as they are;
 *   integers beyond 64 bits and reals beyond a double are refused;
 * - null values are left out (as the SQL's json_strip_nulls does);
 * - nested objects and arrays are refused.
 * Anything else refuses the whole payload: it comes from our own SQL, so a
 * refusal is a bug to be logged, never something to guess around.
 *
 * Any role of the database may emit a logical decoding message, so before
 * any of that a message's signature is checked (notify_check):
 * roster._notify_emit (core.sql) sends "MAC XID BODY", MAC the hex
 * HMAC-SHA256 of "CHANNEL XID" under the key of roster.notify_key
 * (migration 011, readable only by rosterd's role), XID the id of the
 * transaction that sent it, which feed.c compares with the transaction the
 * message came in: a signed message copied into another transaction is
 * refused too. Only what runs in a transaction writes its messages, so
 * the MAC signs the transaction, once for all its messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rosterd.h"

/* Digits that always bring a double back exactly. */
#define NOTIFY_REAL_DIGITS 17

/* Write a real in the fewest digits that read back as the same double;
 * the length, or 0. */
static size_t
notify_real(const json_t *v, char *s, size_t size)
{
	double d = json_real_value(v);
	size_t n = 0;
	int    digits;

	for (digits = 1; digits <= NOTIFY_REAL_DIGITS; digits++) {
		n = json_dumpb(v, s, size - 1,
		    JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits));
		if (n == 0 || n >= size)
			return (0);
		s[n] = '\0';
		if (strtod(s, NULL) == d)
			break;
	}
	return (n);
}

/* Append " key=value" for one member; 0, 1 when the value is null and left
 * out, or -1 for a nested value. */
static int
notify_field(struct proto_buf *b, const char *key, const json_t *v)
{
	char	    s[64];
	const char *val = s;
	size_t	    vlen;

	switch (json_typeof(v)) {
	case JSON_STRING:
		val = json_string_value(v);
		vlen = json_string_length(v);
		break;
	case JSON_INTEGER:
		vlen = (size_t)snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		if ((vlen = notify_real(v, s, sizeof s)) == 0)
			return (-1);
		break;
	case JSON_TRUE:
		val = "true";
		vlen = 4;
		break;
	case JSON_FALSE:
		val = "false";
		vlen = 5;
		break;
	case JSON_NULL:
		return (1);
	default:
		return (-1);
	}
	proto_buf_field(b, key, val, vlen);
	return (0);
}

/* The code held by member "event" or "kind", or NULL. */
static const char *
notify_code(const json_t *obj, const char *key)
{
	const json_t *v;

	if ((v = json_object_get(obj, key)) == NULL || !json_is_string(v) ||
	    !proto_valid_code(json_string_value(v), json_string_length(v)))
		return (NULL);
	return (json_string_value(v));
}

/*
 * Turn payload[0..len) into "! KIND k=v ...\n", appended to out, and its
 * event code, copied into event (eventlen bytes, at least PROTO_MAX_CODE +
 * 1). Returns 0, or -1 with out unchanged, event "" and the reason in why
 * (whylen > 0; it quotes nothing of the payload but a valid key).
 */
int
notify_line(const char *payload, size_t len, struct proto_buf *out, char *event,
    size_t eventlen, char *why, size_t whylen)
{
	struct proto_buf line;
	json_error_t	 jerr;
	json_t		*obj = NULL, *v;
	const char	*key, *code, *kind;
	int		 rc = -1;

	proto_buf_init(&line);
	event[0] = '\0';
	snprintf(why, whylen, "out of memory");
	if (len > NOTIFY_MAX_PAYLOAD) {
		snprintf(why, whylen, "payload over %d bytes",
		    NOTIFY_MAX_PAYLOAD);
		goto done;
	}
	if ((obj = json_loadb(payload, len,
		 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, whylen, "invalid JSON (byte %d)", jerr.position);
		goto done;
	}
	if (!json_is_object(obj)) {
		snprintf(why, whylen, "not an object");
		goto done;
	}
	if (json_object_size(obj) > NOTIFY_MAX_FIELDS) {
		snprintf(why, whylen, "more than %d members",
		    NOTIFY_MAX_FIELDS);
		goto done;
	}
	if ((code = notify_code(obj, "event")) == NULL ||
	    strlen(code) >= eventlen) {
		snprintf(why, whylen, "no event code");
		goto done;
	}
	if ((kind = notify_code(obj, "kind")) == NULL) {
		snprintf(why, whylen, "no kind");
		goto done;
	}
	proto_buf_addstr(&line, "! ");
	proto_buf_addstr(&line, kind);
	json_object_foreach(obj, key, v)
	{
		if (strcmp(key, "event") == 0 || strcmp(key, "kind") == 0)
			continue;
		if (!proto_valid_key(key, strlen(key))) {
			snprintf(why, whylen, "a key not of 1*[a-z0-9_]");
			goto done;
		}
		if (notify_field(&line, key, v) == -1) {
			snprintf(why, whylen, "%s: nested value", key);
			goto done;
		}
		if (line.oom)
			goto done;
	}
	proto_buf_addch(&line, '\n');
	if (line.oom)
		goto done;
	proto_buf_add(out, line.data, line.len);
	if (out->oom)
		goto done;
	snprintf(event, eventlen, "%s", code);
	why[0] = '\0';
	rc = 0;
done:
	json_decref(obj);
	proto_buf_free(&line);
	return (rc);
}

/* The value of a lower-case hex digit, or -1. */
int
notify_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	return (-1);
}

/*
 * Check the signature of a payload received on channel ("MAC NUMBER BODY",
 * MAC the hex HMAC-SHA256 of "CHANNEL NUMBER"): 0 with *number its number
 * and *body the offset of its body in payload, or -1 with the reason in
 * why. What the number must be is the caller's to check: the MAC signs
 * the number (a transaction's id), and what a transaction says is what
 * the functions that run in it wrote (core.sql, _notify_emit).
 */
int
notify_check(const unsigned char *key, size_t keylen, const char *channel,
    const char *payload, size_t len, uint64_t *number, size_t *body, char *why,
    size_t whylen)
{
	unsigned char mac[EVP_MAX_MD_SIZE], want[32];
	unsigned int  maclen = 0;
	size_t	      i, clen = strlen(channel), seqlen;
	uint64_t      seq = 0;
	char	     *msg;
	int	      hi, lo, rc = -1;

	if (len < 2 * sizeof want + 3 || payload[2 * sizeof want] != ' ') {
		snprintf(why, whylen, "no signature");
		return (-1);
	}
	for (i = 0; i < sizeof want; i++) {
		hi = notify_hexval((unsigned char)payload[2 * i]);
		lo = notify_hexval((unsigned char)payload[2 * i + 1]);
		if (hi == -1 || lo == -1) {
			snprintf(why, whylen, "no signature");
			return (-1);
		}
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	payload += 2 * sizeof want + 1;
	len -= 2 * sizeof want + 1;
	for (seqlen = 0; seqlen < len && seqlen < 20 &&
	     payload[seqlen] >= '0' && payload[seqlen] <= '9';
	     seqlen++)
		seq = seq * 10 + (uint64_t)(payload[seqlen] - '0');
	if (seqlen == 0 || seqlen == 20 || seqlen >= len ||
	    payload[seqlen] != ' ') {
		snprintf(why, whylen, "no number");
		return (-1);
	}
	if ((msg = malloc(clen + 1 + seqlen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	memcpy(msg, channel, clen);
	msg[clen] = ' ';
	memcpy(msg + clen + 1, payload, seqlen);
	if (HMAC(EVP_sha256(), key, (int)keylen, (unsigned char *)msg,
		clen + 1 + seqlen, mac, &maclen) == NULL ||
	    maclen != sizeof want) {
		snprintf(why, whylen, "HMAC failed");
		goto done;
	}
	if (CRYPTO_memcmp(mac, want, sizeof want) != 0) {
		snprintf(why, whylen, "wrong signature");
		goto done;
	}
	*number = seq;
	*body = 2 * sizeof want + 1 + seqlen + 1;
	why[0] = '\0';
	rc = 0;
done:
	free(msg);
	return (rc);
}
