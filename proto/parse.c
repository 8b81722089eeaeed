/*
 * parse.c -- reading request and reply lines (PROTOCOL.md 2-3), and the
 * error code names.
 *
 * Both parsers work on a buffer and a length, never recurse, and make one
 * allocation no larger than the line (plus two bytes) that holds every
 * decoded key and value.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define PARSE_EXCERPT 32 /* bytes of client text quoted in a message */

struct parse {
	const unsigned char *s;
	size_t		     len;
	size_t		     pos;
	char		    *out; /* next free byte of the store */
	char		    *why;
	size_t		     whylen;
};

static const char *parse_codes[PROTO_NCODES] = {
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

const char *
proto_code_name(enum proto_code code)
{
	if ((unsigned int)code >= PROTO_NCODES)
		return (NULL);
	return (parse_codes[code]);
}

int
proto_code_from_name(const char *name, size_t len, enum proto_code *out)
{
	unsigned int i;

	for (i = 0; i < PROTO_NCODES; i++) {
		if (strlen(parse_codes[i]) == len &&
		    memcmp(parse_codes[i], name, len) == 0) {
			if (out != NULL)
				*out = i;
			return (0);
		}
	}
	return (-1);
}

/* Bytes in the UTF-8 sequence that starts with c (1 for a stray byte). */
static size_t
parse_seqlen(unsigned char c)
{
	if (c >= 0xf0)
		return (4);
	if (c >= 0xe0)
		return (3);
	if (c >= 0xc0)
		return (2);
	return (1);
}

/* Cut a NUL-terminated string back so that it ends on a whole character. */
static void
parse_trim_utf8(char *s)
{
	size_t n, i;

	n = strlen(s);
	i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && ((unsigned char)s[i - 1] & 0x80) &&
	    parse_seqlen(s[i - 1]) > n - (i - 1))
		s[i - 1] = '\0';
}

static void
parse_why(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why == NULL || p->whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, p->whylen, fmt, ap);
	va_end(ap);
	parse_trim_utf8(p->why);
}

/*
 * Copy at most PARSE_EXCERPT bytes of client text (already checked to be
 * UTF-8 without controls) into dst, cut on a character, "..." when cut.
 */
static void
parse_excerpt(char *dst, size_t dstlen, const unsigned char *s, size_t n)
{
	size_t cut = n;

	if (n > PARSE_EXCERPT) {
		cut = PARSE_EXCERPT;
		while (cut > 0 && (s[cut] & 0xc0) == 0x80)
			cut--;
	}
	snprintf(dst, dstlen, "%.*s%s", (int)cut, (const char *)s,
	    cut < n ? "..." : "");
}

static size_t
parse_skip_sp(const struct parse *p, size_t pos)
{
	while (pos < p->len && p->s[pos] == ' ')
		pos++;
	return (pos);
}

/*
 * Check the raw line: UTF-8 and no control characters. Returns 0, or -1 with
 * the reason (these are the framing errors).
 */
static int
parse_check_raw(struct parse *p)
{
	size_t bad, i;

	bad = proto_utf8_invalid((const char *)p->s, p->len);
	for (i = 0; i < bad; i++) {
		if (proto_is_ctl(p->s[i])) {
			parse_why(p, "control character 0x%02X at byte %zu",
			    p->s[i], i + 1);
			return (-1);
		}
	}
	if (bad < p->len) {
		parse_why(p, "invalid UTF-8 at byte %zu", bad + 1);
		return (-1);
	}
	return (0);
}

/*
 * Decode the value at p->pos into the store (bare, or quoted with escapes),
 * NUL-terminate it and leave p->pos after it. When empty_ok, an empty bare
 * value is accepted (replies only). Returns 0, or -1 with a reason.
 */
static int
parse_value(struct parse *p, const char *key, int empty_ok, int *flags)
{
	const unsigned char *s = p->s;
	char		     esc[8];
	unsigned char	     c;

	*flags = 0;
	if (p->pos < p->len && s[p->pos] == '"') {
		*flags |= PROTO_ARG_QUOTED;
		p->pos++;
		for (;;) {
			if (p->pos == p->len) {
				parse_why(p,
				    "unterminated quote in value of "
				    "key \"%s\"",
				    key);
				return (-1);
			}
			c = s[p->pos];
			if (c == '"') {
				p->pos++;
				break;
			}
			if (c != '\\') {
				*p->out++ = c;
				p->pos++;
				continue;
			}
			if (p->pos + 1 == p->len) {
				parse_why(p,
				    "backslash at end of line in "
				    "value of key \"%s\"",
				    key);
				return (-1);
			}
			switch (s[p->pos + 1]) {
			case '"':
				*p->out++ = '"';
				break;
			case '\\':
				*p->out++ = '\\';
				break;
			case 'n':
				*p->out++ = '\n';
				*flags |= PROTO_ARG_LF_TAB;
				break;
			case 't':
				*p->out++ = '\t';
				*flags |= PROTO_ARG_LF_TAB;
				break;
			case 'r':
				*p->out++ = '\r';
				*flags |= PROTO_ARG_OTHER_CTL;
				break;
			default:
				/* The line is UTF-8, so a whole character. */
				snprintf(esc, sizeof esc, "%.*s",
				    (int)parse_seqlen(s[p->pos + 1]),
				    (const char *)s + p->pos + 1);
				parse_why(p,
				    "unknown escape \\%s in value "
				    "of key \"%s\"",
				    esc, key);
				return (-1);
			}
			p->pos += 2;
		}
		if (p->pos < p->len && s[p->pos] != ' ') {
			parse_why(p,
			    "no space after the quoted value of key "
			    "\"%s\"",
			    key);
			return (-1);
		}
	} else {
		if (!empty_ok && (p->pos == p->len || s[p->pos] == ' ')) {
			parse_why(p,
			    "empty value for key \"%s\" (write "
			    "%s=\"\")",
			    key, key);
			return (-1);
		}
		while (p->pos < p->len && (c = s[p->pos]) != ' ') {
			if (c == '"' || c == '\\') {
				parse_why(p,
				    "'%c' in the bare value of key "
				    "\"%s\" (quote the value)",
				    c, key);
				return (-1);
			}
			*p->out++ = c;
			p->pos++;
		}
	}
	*p->out++ = '\0';
	return (0);
}

/* Add the command word s[start..end) to the request, upper-cased. */
static int
parse_word(struct parse *p, struct proto_request *req, size_t start, size_t end)
{
	char   ex[PARSE_EXCERPT + 8];
	size_t i, n = end - start, clen;
	char   c;

	for (i = start; i < end; i++) {
		c = p->s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
			parse_excerpt(ex, sizeof ex, p->s + start, n);
			parse_why(p, "bad command word \"%s\"", ex);
			return (-1);
		}
	}
	if (n > PROTO_MAX_WORD) {
		parse_why(p, "command word too long (max %d bytes)",
		    PROTO_MAX_WORD);
		return (-1);
	}
	clen = strlen(req->command);
	if (clen > 0)
		req->command[clen++] = ' ';
	for (i = 0; i < n; i++) {
		c = p->s[start + i];
		req->command[clen++] = (c >= 'a' && c <= 'z') ?
		    c - 'a' + 'A' :
		    c;
	}
	req->command[clen] = '\0';
	req->nwords++;
	return (0);
}

/* Check the key s[start..end) and that it is new; 0 or -1. */
static int
parse_key(struct parse *p, const struct proto_request *req, size_t start,
    size_t end)
{
	char   ex[PARSE_EXCERPT + 8];
	size_t i, n = end - start;

	if (n == 0) {
		parse_why(p, "missing key before '='");
		return (-1);
	}
	if (n > PROTO_MAX_KEY) {
		parse_why(p, "key too long (max %d bytes)", PROTO_MAX_KEY);
		return (-1);
	}
	if (!proto_valid_key((const char *)p->s + start, n)) {
		parse_excerpt(ex, sizeof ex, p->s + start, n);
		parse_why(p, "bad key \"%s\" (keys are lower case a-z, 0-9, _)",
		    ex);
		return (-1);
	}
	for (i = 0; i < req->nargs; i++) {
		if (strlen(req->args[i].key) == n &&
		    memcmp(req->args[i].key, p->s + start, n) == 0) {
			parse_why(p, "duplicate key \"%s\"", req->args[i].key);
			return (-1);
		}
	}
	if (req->nargs == PROTO_MAX_ARGS) {
		parse_why(p, "too many arguments (max %d)", PROTO_MAX_ARGS);
		return (-1);
	}
	return (0);
}

static int
parse_request_tokens(struct parse *p, struct proto_request *req)
{
	struct proto_arg *arg;
	char		  ex[PARSE_EXCERPT + 8];
	size_t		  start;

	/* The first token is a command word. */
	start = p->pos;
	while (p->pos < p->len && p->s[p->pos] != ' ')
		p->pos++;
	if (memchr(p->s + start, '=', p->pos - start) != NULL) {
		parse_why(p, "missing command before the arguments");
		return (-1);
	}
	if (parse_word(p, req, start, p->pos) == -1)
		return (-1);

	for (;;) {
		p->pos = parse_skip_sp(p, p->pos);
		if (p->pos == p->len)
			return (0);
		start = p->pos;
		while (p->pos < p->len && p->s[p->pos] != ' ' &&
		    p->s[p->pos] != '=')
			p->pos++;
		if (p->pos == p->len || p->s[p->pos] == ' ') {
			/* No '=': the second command word, or an error. */
			if (req->nwords == 1 && req->nargs == 0) {
				if (parse_word(p, req, start, p->pos) == -1)
					return (-1);
				continue;
			}
			parse_excerpt(ex, sizeof ex, p->s + start,
			    p->pos - start);
			parse_why(p,
			    "unexpected word \"%s\" (arguments are "
			    "key=value)",
			    ex);
			return (-1);
		}
		if (parse_key(p, req, start, p->pos) == -1)
			return (-1);
		arg = &req->args[req->nargs];
		memcpy(p->out, p->s + start, p->pos - start);
		arg->key = p->out;
		p->out += p->pos - start;
		*p->out++ = '\0';
		p->pos++; /* '=' */
		arg->value = p->out;
		if (parse_value(p, arg->key, 0, &arg->flags) == -1)
			return (-1);
		arg->vlen = p->out - 1 - arg->value;
		req->nargs++;
	}
}

enum proto_code
proto_parse_request(const char *line, size_t len, struct proto_request *req,
    int *framing, char *why, size_t whylen)
{
	struct parse p;
	int	     dummy;

	if (framing == NULL)
		framing = &dummy;
	*framing = 0;
	req->command[0] = '\0';
	req->nwords = 0;
	req->nargs = 0;
	req->store = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (line == NULL)
		len = 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;

	memset(&p, 0, sizeof p);
	p.s = (const unsigned char *)line;
	p.len = len;
	p.why = why;
	p.whylen = whylen;

	if (parse_check_raw(&p) == -1) {
		*framing = 1;
		return (PROTO_SYNTAX);
	}
	p.pos = parse_skip_sp(&p, 0);
	if (p.pos == len)
		return (PROTO_OK); /* an empty line */

	/* Decoded keys and values, with their NULs, never outgrow the line:
	 * each arg is preceded by at least one space. */
	if ((req->store = malloc(len + 2)) == NULL) {
		parse_why(&p, "out of memory");
		return (PROTO_INTERNAL);
	}
	p.out = req->store;
	if (parse_request_tokens(&p, req) == -1) {
		proto_request_free(req);
		req->command[0] = '\0';
		req->nwords = 0;
		return (PROTO_SYNTAX);
	}
	return (PROTO_OK);
}

void
proto_request_free(struct proto_request *req)
{
	if (req == NULL)
		return;
	free(req->store);
	req->store = NULL;
	req->nargs = 0;
}

const struct proto_arg *
proto_request_arg(const struct proto_request *req, const char *key)
{
	size_t i;

	if (key == NULL)
		return (NULL);
	for (i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return (&req->args[i]);
	return (NULL);
}

/*
 * Reply fields: bare words (key NULL), quoted words (key NULL) and key=value
 * pairs, separated by spaces. Replies are read leniently: a key is anything
 * up to '=' and "k=" is an empty value. Returns 0 or -1.
 */
static int
parse_fields(struct parse *p, struct proto_reply *rep)
{
	struct proto_field *f;
	size_t		    start;
	int		    flags;

	for (;;) {
		p->pos = parse_skip_sp(p, p->pos);
		if (p->pos == p->len)
			return (0);
		if (rep->nfields == PROTO_MAX_REPLY_FIELDS)
			return (-1);
		f = &rep->fields[rep->nfields];
		f->key = NULL;
		start = p->pos;
		if (p->s[p->pos] != '"') {
			while (p->pos < p->len && p->s[p->pos] != ' ' &&
			    p->s[p->pos] != '=')
				p->pos++;
			if (p->pos == p->len || p->s[p->pos] == ' ') {
				/* A bare word such as "pong". */
				memcpy(p->out, p->s + start, p->pos - start);
				f->value = p->out;
				f->vlen = p->pos - start;
				p->out += f->vlen;
				*p->out++ = '\0';
				rep->nfields++;
				continue;
			}
			if (p->pos == start)
				return (-1); /* "=value" */
			memcpy(p->out, p->s + start, p->pos - start);
			f->key = p->out;
			p->out += p->pos - start;
			*p->out++ = '\0';
			p->pos++; /* '=' */
		}
		f->value = p->out;
		if (parse_value(p, f->key != NULL ? f->key : "", 1, &flags) ==
		    -1)
			return (-1);
		f->vlen = p->out - 1 - f->value;
		rep->nfields++;
	}
}

/* Copy s[start..len) into the store as the reply's text. */
static void
parse_text(struct parse *p, struct proto_reply *rep, size_t start)
{
	rep->text = p->out;
	rep->textlen = p->len - start;
	memcpy(p->out, p->s + start, rep->textlen);
	p->out += rep->textlen;
	*p->out++ = '\0';
}

static enum proto_line_kind
parse_reply_line(struct parse *p, struct proto_reply *rep)
{
	const unsigned char *s = p->s;
	size_t		     len = p->len, start;

	/* An export's payload line is passed on as it is (TSV holds TABs). */
	if (len >= 1 && s[0] == '=' && (len == 1 || s[1] == ' ')) {
		parse_text(p, rep, len == 1 ? 1 : 2);
		return (PROTO_LINE_DATA);
	}
	if (parse_check_raw(p) == -1)
		return (PROTO_LINE_BAD);

	if (len >= 2 && memcmp(s, "OK", 2) == 0 && (len == 2 || s[2] == ' ')) {
		p->pos = 2;
		return (parse_fields(p, rep) == 0 ?
			PROTO_LINE_OK :
			PROTO_LINE_BAD);
	}
	if (len >= 1 && s[0] == '*' && (len == 1 || s[1] == ' ')) {
		p->pos = 1;
		return (parse_fields(p, rep) == 0 ?
			PROTO_LINE_RECORD :
			PROTO_LINE_BAD);
	}
	if (len > 4 && memcmp(s, "ERR ", 4) == 0) {
		start = p->pos = 4;
		while (p->pos < len && s[p->pos] != ' ')
			p->pos++;
		if (p->pos == start)
			return (PROTO_LINE_BAD);
		if (proto_code_from_name((const char *)s + start,
			p->pos - start, &rep->code) == -1 ||
		    rep->code == PROTO_OK)
			rep->code = PROTO_INTERNAL;
		parse_text(p, rep, p->pos < len ? p->pos + 1 : len);
		return (PROTO_LINE_ERR);
	}
	if (len > 2 && memcmp(s, "! ", 2) == 0 && s[2] != ' ') {
		start = p->pos = 2;
		while (p->pos < len && s[p->pos] != ' ')
			p->pos++;
		rep->text = p->out;
		rep->textlen = p->pos - start;
		memcpy(p->out, s + start, rep->textlen);
		p->out += rep->textlen;
		*p->out++ = '\0';
		return (parse_fields(p, rep) == 0 ?
			PROTO_LINE_NOTIFY :
			PROTO_LINE_BAD);
	}
	return (PROTO_LINE_BAD);
}

enum proto_line_kind
proto_parse_reply(const char *line, size_t len, struct proto_reply *rep)
{
	struct parse p;

	rep->kind = PROTO_LINE_BAD;
	rep->code = PROTO_OK;
	rep->text = NULL;
	rep->textlen = 0;
	rep->nfields = 0;
	rep->store = NULL;
	if (line == NULL)
		len = 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;

	memset(&p, 0, sizeof p);
	p.s = (const unsigned char *)line;
	p.len = len;
	if ((rep->store = malloc(len + 2)) == NULL)
		return (PROTO_LINE_BAD);
	p.out = rep->store;
	rep->kind = parse_reply_line(&p, rep);
	if (rep->kind == PROTO_LINE_BAD) {
		proto_reply_free(rep);
		rep->code = PROTO_OK;
		rep->text = NULL;
		rep->textlen = 0;
	}
	return (rep->kind);
}

void
proto_reply_free(struct proto_reply *rep)
{
	if (rep == NULL)
		return;
	free(rep->store);
	rep->store = NULL;
	rep->nfields = 0;
}

const struct proto_field *
proto_reply_field(const struct proto_reply *rep, const char *key)
{
	size_t i;

	if (key == NULL)
		return (NULL);
	for (i = 0; i < rep->nfields; i++) {
		if (rep->fields[i].key != NULL &&
		    strcmp(rep->fields[i].key, key) == 0)
			return (&rep->fields[i]);
	}
	return (NULL);
}
