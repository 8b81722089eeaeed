/*
 * keys.c -- the types of a command's keys and the check of one value
 * (PROTOCOL.md sections 2 and 4): each type's name in HELP, its format,
 * the message a client gets when a value does not match, and whether an
 * empty value clears an optional field. The daemon's dispatcher calls
 * proto_check_value for every key a request gives; the fuzz target
 * tests/fuzz/fuzz_keys.c calls it with anything.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

#define KEYS_STR(x)  KEYS_STR1(x)
#define KEYS_STR1(x) #x

static int
keys_valid_id(const char *v, size_t n)
{
	return (proto_valid_uint(v, n, 1, INT64_MAX, NULL));
}

static int
keys_valid_count(const char *v, size_t n)
{
	return (proto_valid_uint(v, n, 0, PROTO_MAX_COUNT, NULL));
}

static int
keys_valid_text(const char *v, size_t n)
{
	return (proto_valid_text(v, n, PROTO_MAX_TEXT));
}

static int
keys_valid_password(const char *v, size_t n)
{
	return (n <= PROTO_MAX_PASSWORD &&
	    proto_utf8_count(v, n) >= PROTO_MIN_PASSWORD);
}

static int
keys_valid_secret(const char *v, size_t n)
{
	return (n > 0 && n <= PROTO_MAX_PASSWORD);
}

static int
keys_valid_command(const char *v, size_t n)
{
	return (n > 0 && n <= PROTO_MAX_COMMAND);
}

/*
 * Each type: its name in HELP, its check (none for KEY_ENUM: the key's
 * choices are), the message that follows the key's name when the check
 * fails, and whether an empty value is taken for an optional key (an
 * update clears the field).
 */
static const struct keys_type {
	const char *name;
	int (*valid)(const char *, size_t);
	const char *message;
	int	    clears;
} keys_types[] = {
	[KEY_CODE] = { "code", proto_valid_code,
	    "a code is 1-32 of A-Z a-z "
	    "0-9 _ . - starting with a letter or digit",
	    0 },
	[KEY_ID] = { "id", keys_valid_id, "must be a positive integer", 0 },
	[KEY_COUNT] = { "count", keys_valid_count,
	    "must be an integer from 0 "
	    "to " KEYS_STR(PROTO_MAX_COUNT),
	    1 },
	[KEY_NAME] = { "name", proto_valid_name,
	    "must be 1-" KEYS_STR(PROTO_MAX_NAME) " characters", 1 },
	[KEY_TEXT] = { "text", keys_valid_text,
	    "at most " KEYS_STR(PROTO_MAX_TEXT) " characters", 1 },
	[KEY_LINE] = { "line", keys_valid_text,
	    "at most " KEYS_STR(PROTO_MAX_TEXT) " characters", 1 },
	[KEY_DATE] = { "date", proto_valid_date, "must be a date YYYY-MM-DD",
	    0 },
	[KEY_TIME] = { "time", proto_valid_time,
	    "must be a time "
	    "YYYY-MM-DDTHH:MM",
	    0 },
	[KEY_TIMESTAMP] = { "timestamp", proto_valid_timestamp,
	    "must be a "
	    "UTC time YYYY-MM-DDTHH:MM:SSZ",
	    0 },
	[KEY_EMAIL] = { "email", proto_valid_email, "not an e-mail address",
	    1 },
	[KEY_TZ] = { "tz", proto_valid_timezone,
	    "must be a time zone such "
	    "as Europe/Istanbul",
	    0 },
	[KEY_REF] = { "ref", proto_valid_ref, "1-64 of A-Z a-z 0-9 _ . : -",
	    0 },
	[KEY_PASSWORD] = { "password", keys_valid_password,
	    "a password has at "
	    "least " KEYS_STR(PROTO_MIN_PASSWORD) " characters",
	    0 },
	[KEY_SECRET] = { "secret", keys_valid_secret,
	    "must be 1-" KEYS_STR(PROTO_MAX_PASSWORD) " bytes", 0 },
	[KEY_ENUM] = { "enum", NULL, "must be one of ", 0 },
	[KEY_COMMAND] = { "command", keys_valid_command, "not a command", 0 },
};

const char *
proto_key_type_name(enum proto_key_type type)
{
	if ((unsigned int)type >= KEY_NTYPES)
		return (NULL);
	return (keys_types[type].name);
}

/* Is v (n bytes) one of "a|b|c"? */
static int
keys_valid_choice(const char *choices, const char *v, size_t n)
{
	const char *c, *e;

	for (c = choices; *c != '\0'; c = *e ? e + 1 : e) {
		e = c + strcspn(c, "|");
		if ((size_t)(e - c) == n && (n == 0 || memcmp(c, v, n) == 0))
			return (1);
	}
	return (0);
}

int
proto_check_value(enum proto_key_type type, const char *key,
    const char *choices, int required, const char *value, size_t len, int flags,
    char *why, size_t whylen)
{
	const struct keys_type *t;
	int			ok;

	if ((unsigned int)type >= KEY_NTYPES) {
		snprintf(why, whylen, "%s: a key of no known type", key);
		return (-1);
	}
	t = &keys_types[type];
	if (choices == NULL)
		choices = "";
	if ((flags & PROTO_ARG_OTHER_CTL) ||
	    ((flags & PROTO_ARG_LF_TAB) && type != KEY_TEXT)) {
		snprintf(why, whylen,
		    "%s: control characters are not allowed "
		    "here",
		    key);
		return (-1);
	}
	if (len == 0 && t->clears && !required)
		return (0);
	if (type == KEY_ENUM)
		ok = keys_valid_choice(choices, value, len);
	else
		ok = t->valid(value, len);
	if (ok)
		return (0);
	snprintf(why, whylen, "%s: %s%s", key, t->message,
	    type == KEY_ENUM ? choices : "");
	return (-1);
}
