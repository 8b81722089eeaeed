/*
 * reply.c -- writing values, fields and error replies (PROTOCOL.md 2-3).
 *
 * A value is written bare when it can be, else between double quotes with
 * the escapes of section 2. Whatever is written here reads back through
 * proto_parse_request and proto_parse_reply as the same bytes, except
 * controls that have no escape: those become U+FFFD.
 */
#include <string.h>

#include "proto.h"

#define REPLY_FFFD "\xef\xbf\xbd"

int
proto_needs_quote(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i;

	if (len == 0)
		return (1);
	for (i = 0; i < len; i++) {
		if (u[i] == ' ' || u[i] == '"' || u[i] == '\\' || u[i] == '=' ||
		    proto_is_ctl(u[i]))
			return (1);
	}
	return (0);
}

void
proto_buf_value(struct proto_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i, run;

	if (!proto_needs_quote(s, len)) {
		proto_buf_add(b, s, len);
		return;
	}
	proto_buf_addch(b, '"');
	for (i = 0; i < len; i = run) {
		/* Copy the longest stretch that needs no escape at once. */
		for (run = i; run < len; run++) {
			if (u[run] == '"' || u[run] == '\\' ||
			    proto_is_ctl(u[run]))
				break;
		}
		if (run > i) {
			proto_buf_add(b, s + i, run - i);
			continue;
		}
		switch (u[run]) {
		case '"':
			proto_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			proto_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			proto_buf_add(b, "\\n", 2);
			break;
		case '\t':
			proto_buf_add(b, "\\t", 2);
			break;
		case '\r':
			proto_buf_add(b, "\\r", 2);
			break;
		default:
			proto_buf_add(b, REPLY_FFFD, 3);
			break;
		}
		run++;
	}
	proto_buf_addch(b, '"');
}

/* Append " key=value"; a NULL value is an absent field and writes nothing. */
void
proto_buf_field(struct proto_buf *b, const char *key, const char *value,
    size_t vlen)
{
	if (value == NULL)
		return;
	proto_buf_addch(b, ' ');
	proto_buf_addstr(b, key);
	proto_buf_addch(b, '=');
	proto_buf_value(b, value, vlen);
}

/*
 * Append "ERR CODE text\n". A code that is not an error (PROTO_OK or out of
 * range) is written as INTERNAL: an ERR line always carries an error code.
 */
void
proto_buf_err(struct proto_buf *b, enum proto_code code, const char *text)
{
	const char *name;
	size_t	    i, len;

	name = proto_code_name(code);
	if (code == PROTO_OK || name == NULL)
		name = proto_code_name(PROTO_INTERNAL);
	proto_buf_add(b, "ERR ", 4);
	proto_buf_addstr(b, name);
	if (text != NULL && (len = strlen(text)) > 0) {
		proto_buf_addch(b, ' ');
		for (i = 0; i < len; i++) {
			if (proto_is_ctl((unsigned char)text[i]))
				proto_buf_addch(b, ' ');
			else
				proto_buf_addch(b, text[i]);
		}
	}
	proto_buf_addch(b, '\n');
}
