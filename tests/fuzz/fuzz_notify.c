/*
 * fuzz_notify.c -- libFuzzer target for notify_line (daemon/notify.c), the
 * NOTIFY payload to WATCH line conversion.
 *
 * A refused payload must leave the output and the event code empty and
 * give a printable reason. An accepted one must give one well-formed line:
 * "! " KIND, fields, a single LF at the end, no raw control, valid UTF-8,
 * read back by proto_parse_reply as a notification whose kind, fields and
 * values are those of the payload as jansson decodes it. Any difference
 * aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rosterd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "fuzz_notify: %s: [%.*s]\n", what, (int)len, s);
	abort();
}

/* 1 when a string has controls that the line writes as U+FFFD, so that it
 * cannot read back byte for byte. */
static int
fuzz_lossy(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (proto_is_ctl((unsigned char)s[i]) && s[i] != '\n' &&
		    s[i] != '\t' && s[i] != '\r')
			return (1);
	return (0);
}

/* The value of one member, as the line should hold it; 0 when null. */
static int
fuzz_expect(const json_t *v, char *s, size_t size, const char **val,
    size_t *vlen)
{
	*val = s;
	switch (json_typeof(v)) {
	case JSON_STRING:
		*val = json_string_value(v);
		*vlen = json_string_length(v);
		return (1);
	case JSON_INTEGER:
		*vlen = (size_t)snprintf(s, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return (1);
	case JSON_TRUE:
		*val = "true";
		*vlen = 4;
		return (1);
	case JSON_FALSE:
		*val = "false";
		*vlen = 5;
		return (1);
	case JSON_REAL:
		*val = NULL;
		*vlen = 0;
		return (1);
	case JSON_NULL:
		return (0);
	default:
		fuzz_fail("nested value accepted", "", 0);
	}
	return (0);
}

/* Compare the line with the payload as jansson reads it. */
static void
fuzz_compare(const char *p, size_t len, const char *event,
    const struct proto_reply *rep)
{
	json_t			 *obj, *v;
	const json_t		 *e, *k;
	const char		 *key, *val;
	const struct proto_field *f;
	char			  s[64];
	size_t			  i = 0, vlen;

	if ((obj = json_loadb(p, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		 NULL)) == NULL ||
	    !json_is_object(obj))
		fuzz_fail("accepted but not an object", p, len);
	e = json_object_get(obj, "event");
	k = json_object_get(obj, "kind");
	if (!json_is_string(e) || strcmp(json_string_value(e), event) != 0 ||
	    !proto_valid_code(event, strlen(event)))
		fuzz_fail("event code", p, len);
	if (!json_is_string(k) || rep->textlen != json_string_length(k) ||
	    memcmp(rep->text, json_string_value(k), rep->textlen) != 0)
		fuzz_fail("kind", p, len);
	json_object_foreach(obj, key, v)
	{
		if (strcmp(key, "event") == 0 || strcmp(key, "kind") == 0 ||
		    !fuzz_expect(v, s, sizeof s, &val, &vlen))
			continue;
		if (i >= rep->nfields)
			fuzz_fail("a field missing", p, len);
		f = &rep->fields[i++];
		if (f->key == NULL || strcmp(f->key, key) != 0)
			fuzz_fail("field key or order", p, len);
		if (val == NULL) {
			if (strtod(f->value, NULL) != json_real_value(v))
				fuzz_fail("real", p, len);
		} else if (!fuzz_lossy(val, vlen) &&
		    (f->vlen != vlen || memcmp(f->value, val, vlen) != 0))
			fuzz_fail("field value", p, len);
	}
	if (i != rep->nfields)
		fuzz_fail("a field too many", p, len);
	json_decref(obj);
}

static void
fuzz_line(const char *p, size_t len, const struct proto_buf *out,
    const char *event)
{
	struct proto_reply rep;
	size_t		   i;

	if (out->len < 4 || memcmp(out->data, "! ", 2) != 0 ||
	    out->data[out->len - 1] != '\n')
		fuzz_fail("line shape", out->data, out->len);
	for (i = 0; i < out->len - 1; i++)
		if (proto_is_ctl((unsigned char)out->data[i]))
			fuzz_fail("control in line", out->data, out->len);
	if (!proto_utf8_valid(out->data, out->len))
		fuzz_fail("line not UTF-8", out->data, out->len);
	if (proto_parse_reply(out->data, out->len - 1, &rep) !=
	    PROTO_LINE_NOTIFY)
		fuzz_fail("line not read back", out->data, out->len);
	fuzz_compare(p, len, event, &rep);
	proto_reply_free(&rep);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_buf out;
	char		*p, event[PROTO_MAX_CODE + 1], why[128];
	size_t		 i;

	/* A copy of exactly size bytes, so that ASan sees any overread. */
	if ((p = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(p, data, size);
	proto_buf_init(&out);
	memset(event, 'x', sizeof event);
	if (notify_line(p, size, &out, event, sizeof event, why, sizeof why) ==
	    0)
		fuzz_line(p, size, &out, event);
	else {
		if (out.len != 0 || event[0] != '\0' || why[0] == '\0')
			fuzz_fail("refusal left something", p, size);
		for (i = 0; why[i] != '\0'; i++)
			if (proto_is_ctl((unsigned char)why[i]))
				fuzz_fail("control in why", why, i);
		if (!proto_utf8_valid(why, strlen(why)))
			fuzz_fail("why not UTF-8", why, strlen(why));
	}
	proto_buf_free(&out);
	free(p);
	return (0);
}
