/*
 * fuzz_parse.c -- libFuzzer target for the request and reply parsers.
 *
 * Feeds the input to proto_parse_request and proto_parse_reply. When a line
 * parses, it is written again with proto_buf_value / proto_buf_field and
 * parsed again: the result must be the same command, keys and values, byte
 * for byte. Any difference aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *line, size_t len)
{
	fprintf(stderr, "fuzz_parse: %s: [%.*s]\n", what, (int)len, line);
	abort();
}

/* One value alone: write it, parse "X k=<written>", compare. */
static void
fuzz_value(const struct proto_arg *a)
{
	struct proto_request req;
	struct proto_buf     b;
	char		     why[128];
	int		     framing;

	proto_buf_init(&b);
	proto_buf_addstr(&b, "X k=");
	proto_buf_value(&b, a->value, a->vlen);
	if (b.oom)
		abort();
	if (proto_parse_request(b.data, b.len, &req, &framing, why,
		sizeof why) != PROTO_OK)
		fuzz_fail(why, b.data, b.len);
	if (req.nargs != 1 || req.args[0].vlen != a->vlen ||
	    memcmp(req.args[0].value, a->value, a->vlen) != 0)
		fuzz_fail("value round trip", b.data, b.len);
	/* Decoded controls are exactly the ones with an escape. */
	if ((req.args[0].flags & ~PROTO_ARG_QUOTED) !=
	    (a->flags & ~PROTO_ARG_QUOTED))
		fuzz_fail("flags round trip", b.data, b.len);
	proto_request_free(&req);
	proto_buf_free(&b);
}

/* The whole request: write command and arguments again, parse, compare. */
static void
fuzz_request_again(const struct proto_request *req)
{
	struct proto_request again;
	struct proto_buf     b;
	char		     why[128];
	size_t		     i;
	int		     framing;

	proto_buf_init(&b);
	proto_buf_addstr(&b, req->command);
	for (i = 0; i < req->nargs; i++)
		proto_buf_field(&b, req->args[i].key, req->args[i].value,
		    req->args[i].vlen);
	if (b.oom)
		abort();
	if (proto_parse_request(b.data, b.len, &again, &framing, why,
		sizeof why) != PROTO_OK)
		fuzz_fail(why, b.data, b.len);
	if (strcmp(again.command, req->command) != 0 ||
	    again.nwords != req->nwords || again.nargs != req->nargs)
		fuzz_fail("request round trip", b.data, b.len);
	for (i = 0; i < req->nargs; i++) {
		if (strcmp(again.args[i].key, req->args[i].key) != 0 ||
		    again.args[i].vlen != req->args[i].vlen ||
		    memcmp(again.args[i].value, req->args[i].value,
			req->args[i].vlen) != 0)
			fuzz_fail("argument round trip", b.data, b.len);
	}
	proto_request_free(&again);
	proto_buf_free(&b);
}

static void
fuzz_request(const char *line, size_t len)
{
	struct proto_request req;
	char		     why[128];
	size_t		     i;
	int		     framing = -1;
	enum proto_code	     code;

	code = proto_parse_request(line, len, &req, &framing, why, sizeof why);
	if (framing != 0 && framing != 1)
		fuzz_fail("framing not set", line, len);
	if (code != PROTO_OK) {
		if (code != PROTO_SYNTAX || why[0] == '\0' ||
		    !proto_utf8_valid(why, strlen(why)))
			fuzz_fail("bad error", line, len);
		for (i = 0; why[i] != '\0'; i++)
			if (proto_is_ctl((unsigned char)why[i]))
				fuzz_fail("control in why", line, len);
		return;
	}
	if (framing != 0)
		fuzz_fail("framing set on success", line, len);
	for (i = 0; i < req.nargs; i++) {
		if (!proto_valid_key(req.args[i].key,
			strlen(req.args[i].key)) ||
		    strlen(req.args[i].value) != req.args[i].vlen ||
		    proto_request_arg(&req, req.args[i].key) != &req.args[i])
			fuzz_fail("bad argument", line, len);
		fuzz_value(&req.args[i]);
	}
	fuzz_request_again(&req);
	proto_request_free(&req);
}

/* Records and OK lines: write the fields again, parse, compare. */
static void
fuzz_reply(const char *line, size_t len)
{
	struct proto_reply	  rep, again;
	struct proto_buf	  b;
	const struct proto_field *f, *g;
	size_t			  i;

	if (proto_parse_reply(line, len, &rep) == PROTO_LINE_BAD ||
	    (rep.kind != PROTO_LINE_RECORD && rep.kind != PROTO_LINE_OK)) {
		if (rep.kind == PROTO_LINE_ERR && rep.code == PROTO_OK)
			fuzz_fail("ERR with code OK", line, len);
		proto_reply_free(&rep);
		return;
	}
	proto_buf_init(&b);
	proto_buf_addstr(&b, rep.kind == PROTO_LINE_OK ? "OK" : "*");
	for (i = 0; i < rep.nfields; i++) {
		f = &rep.fields[i];
		if (f->key != NULL)
			proto_buf_field(&b, f->key, f->value, f->vlen);
		else {
			proto_buf_addch(&b, ' ');
			proto_buf_value(&b, f->value, f->vlen);
		}
	}
	if (b.oom)
		abort();
	if (proto_parse_reply(b.data, b.len, &again) != rep.kind ||
	    again.nfields != rep.nfields)
		fuzz_fail("reply round trip", b.data, b.len);
	for (i = 0; i < rep.nfields; i++) {
		f = &rep.fields[i];
		g = &again.fields[i];
		if ((f->key == NULL) != (g->key == NULL) ||
		    (f->key != NULL && strcmp(f->key, g->key) != 0) ||
		    f->vlen != g->vlen ||
		    memcmp(f->value, g->value, f->vlen) != 0)
			fuzz_fail("field round trip", b.data, b.len);
	}
	proto_reply_free(&again);
	proto_reply_free(&rep);
	proto_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;

	/* A copy of exactly size bytes, so that ASan sees any overread. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return (0);
	if (size > 0)
		memcpy(line, data, size);
	fuzz_request(line, size);
	fuzz_reply(line, size);
	free(line);
	return (0);
}
