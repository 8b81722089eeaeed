/*
 * fuzz_http.c -- libFuzzer target for what the HTTPS face reads before
 * the protocol's parser: the head of a request (proto_http_head,
 * proto/httphead.c), the JSON body of POST /api (http_json_request) and
 * the query string of a GET (http_query_request, daemon/http-json.c).
 *
 * Byte 0 picks which (modulo 3), the rest is the input:
 *
 * 0, a head, cut at its first CR LF CR LF as http.c cuts it (none: nothing
 *    to do). Its verdict must be the one of a second, plainer reading of
 *    RFC 9112's grammar written here (request line, header lines, their
 *    count, Content-Length, the bounded copies), and what it took out of
 *    it (method, target, version, Content-Length, Host, Origin) the same;
 *    a cookie token is 64 lower-case hex digits or none.
 * 1, a body. When it gives a line, the line must parse, and to the JSON's
 *    command and keys, each value byte for byte (jansson reads the body
 *    again here), unless the parser refuses it for one of its own limits.
 * 2, a query string for WATCH. When it gives a line that parses, each
 *    key=value must be the query's pair, percent-decoded here again.
 *
 * Every refusal's why is one line of text in UTF-8. A broken invariant aborts
 * after printing the input on stderr.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "rosterd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *in, size_t len)
{
	size_t i;

	fprintf(stderr, "fuzz_http: %s: [", what);
	for (i = 0; i < len; i++)
		if (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\\')
			fputc(in[i], stderr);
		else
			fprintf(stderr, "\\x%02x", (unsigned char)in[i]);
	fprintf(stderr, "]\n");
	abort();
}

static void
fuzz_why(const char *why, const char *in, size_t len)
{
	size_t i;

	if (why == NULL || why[0] == '\0')
		fuzz_fail("a refusal without why", in, len);
	for (i = 0; why[i] != '\0'; i++)
		if (proto_is_ctl((unsigned char)why[i]))
			fuzz_fail("a control character in why", in, len);
	/* it is an answer's text, in JSON */
	if (!proto_utf8_valid(why, strlen(why)))
		fuzz_fail("why is not UTF-8", in, len);
}

/* RFC 9110's tchar, spelled out. */
static int
ref_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t		  i;

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	for (i = 0; i < sizeof extra - 1; i++)
		if (c == (unsigned char)extra[i])
			return (1);
	return (0);
}

struct ref_head {
	char	  method[8];
	char	  target[PROTO_HTTP_MAX_TARGET + 1];
	int	  minor;
	long long length;
	char	  host[256], origin[256];
};

/* The plainer reading: one line at a time, split at CR LF. */
static int
ref_head(const char *p, size_t len, struct ref_head *r)
{
	size_t i, ls, le, n, a, b, nh = 0, line = 0;

	memset(r, 0, sizeof *r);
	r->length = -1;
	for (ls = 0; ls < len; ls = le + 2, line++) {
		for (le = ls; le + 1 < len; le++) {
			if (p[le] == '\r' && p[le + 1] == '\n')
				break;
			if (p[le] == '\n')
				return (-1); /* a bare LF */
		}
		if (le + 1 >= len)
			return (-1);
		if (line == 0) {
			/* METHOD SP "/" target SP "HTTP/1." [01] */
			for (i = ls; i < le && p[i] >= 'A' && p[i] <= 'Z'; i++)
				;
			if (i == ls || i - ls > 7 || i >= le || p[i] != ' ')
				return (-1);
			memcpy(r->method, p + ls, i - ls);
			a = ++i;
			if (a >= le || p[a] != '/')
				return (-1);
			for (; i < le && (unsigned char)p[i] > 0x20 &&
			     (unsigned char)p[i] < 0x7f;
			     i++)
				;
			if (i - a > PROTO_HTTP_MAX_TARGET || i >= le ||
			    p[i] != ' ')
				return (-1);
			memcpy(r->target, p + a, i - a);
			i++;
			if (le - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 ||
			    (p[i + 7] != '0' && p[i + 7] != '1'))
				return (-1);
			r->minor = p[i + 7] - '0';
			continue;
		}
		if (le == ls)
			return (0); /* the blank line */
		if (++nh > PROTO_HTTP_MAX_HEADERS)
			return (-1);
		for (i = ls; i < le && ref_tchar((unsigned char)p[i]); i++)
			;
		if (i == ls || i >= le || p[i] != ':')
			return (-1);
		n = i - ls;
		for (a = i + 1; a < le && (p[a] == ' ' || p[a] == '\t'); a++)
			;
		for (b = le; b > a && (p[b - 1] == ' ' || p[b - 1] == '\t');
		     b--)
			;
		for (i = a; i < b; i++)
			if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
			    p[i] == 0x7f)
				return (-1);
		if (n == 14 && strncasecmp(p + ls, "content-length", 14) == 0) {
			if (r->length != -1 || b == a || b - a > 12)
				return (-1);
			r->length = 0;
			for (i = a; i < b; i++) {
				if (p[i] < '0' || p[i] > '9')
					return (-1);
				r->length = r->length * 10 + (p[i] - '0');
			}
		} else if ((n == 4 && strncasecmp(p + ls, "host", 4) == 0) ||
		    (n == 6 && strncasecmp(p + ls, "origin", 6) == 0)) {
			char *dst = n == 4 ? r->host : r->origin;

			if (b - a > 255)
				return (-1);
			memcpy(dst, p + a, b - a);
			dst[b - a] = '\0';
		}
	}
	return (-1);
}

static void
fuzz_head(const char *in, size_t len)
{
	struct proto_http_head h;
	struct ref_head	       r;
	const char	      *why = NULL;
	size_t		       i, n;
	int		       status = 0, rc, ref;
	char		      *head;

	for (n = 0; n + 4 <= len; n++)
		if (memcmp(in + n, "\r\n\r\n", 4) == 0)
			break;
	if (n + 4 > len || n + 4 > PROTO_HTTP_MAX_HEAD)
		return;
	n += 4;
	if ((head = malloc(n)) == NULL)
		return;
	memcpy(head, in, n); /* exactly its length: ASan sees past it */
	rc = proto_http_head(head, n, &h, &status, &why);
	ref = ref_head(head, n, &r);
	if (rc != ref)
		fuzz_fail(rc == 0 ? "taken, but the grammar refuses it" :
				    "refused, but the grammar takes it",
		    head, n);
	if (rc == -1) {
		fuzz_why(why, head, n);
		if (status != 400 && status != 414 && status != 431 &&
		    status != 505)
			fuzz_fail("a refusal's status", head, n);
		free(head);
		return;
	}
	if (strcmp(h.method, r.method) != 0 ||
	    strcmp(h.target, r.target) != 0 || h.minor != r.minor ||
	    h.length != r.length || strcmp(h.host, r.host) != 0 ||
	    strcmp(h.origin, r.origin) != 0)
		fuzz_fail("a field differs from the grammar's", head, n);
	if (h.token[0] != '\0') {
		if (strlen(h.token) != PROTO_HTTP_TOKEN_LEN)
			fuzz_fail("a token's length", head, n);
		for (i = 0; i < PROTO_HTTP_TOKEN_LEN; i++)
			if (!((h.token[i] >= '0' && h.token[i] <= '9') ||
				(h.token[i] >= 'a' && h.token[i] <= 'f')))
				fuzz_fail("a token not in hex", head, n);
	}
	for (i = 0; h.csrf[i] != '\0'; i++)
		if (proto_is_ctl((unsigned char)h.csrf[i]) && h.csrf[i] != '\t')
			fuzz_fail("a control in the CSRF token", head, n);
	free(head);
}

static void
fuzz_json(const char *in, size_t len)
{
	struct proto_request	req;
	struct proto_buf	line;
	json_t		       *doc, *keys, *v;
	const char	       *k, *cmd;
	const struct proto_arg *a;
	char   why[256], cwhy[128], num[32], want[PROTO_MAX_COMMAND + 1];
	size_t i;
	int    framing;

	proto_buf_init(&line);
	why[0] = '\0';
	if (http_json_request(in, len, &line, why, sizeof why) == -1) {
		fuzz_why(why, in, len);
		proto_buf_free(&line);
		return;
	}
	if (line.oom) {
		proto_buf_free(&line);
		return;
	}
	if ((doc = json_loadb(in, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		fuzz_fail("a line from a body jansson refuses", in, len);
	if (proto_parse_request(line.data, line.len, &req, &framing, cwhy,
		sizeof cwhy) != PROTO_OK) {
		/* only the parser's own limits may refuse it */
		if (strstr(cwhy, "too many") == NULL &&
		    strstr(cwhy, "too long") == NULL &&
		    strstr(cwhy, "longer") == NULL)
			fuzz_fail(cwhy, line.data, line.len);
		json_decref(doc);
		proto_buf_free(&line);
		return;
	}
	cmd = json_string_value(json_object_get(doc, "command"));
	for (i = 0; cmd[i] != '\0' && i < sizeof want - 1; i++)
		want[i] = cmd[i] >= 'a' && cmd[i] <= 'z' ? cmd[i] - 32 : cmd[i];
	want[i] = '\0';
	if (strcmp(req.command, want) != 0)
		fuzz_fail("another command", line.data, line.len);
	keys = json_object_get(doc, "keys");
	if (req.nargs != (keys != NULL ? json_object_size(keys) : 0))
		fuzz_fail("another number of keys", line.data, line.len);
	json_object_foreach(keys, k, v)
	{
		const char *s = json_string_value(v);
		size_t	    sl = s != NULL ? json_string_length(v) : 0;

		if (s == NULL) {
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			s = num;
			sl = strlen(num);
		}
		if ((a = proto_request_arg(&req, k)) == NULL || a->vlen != sl ||
		    memcmp(a->value, s, sl) != 0)
			fuzz_fail("a key's value differs", line.data, line.len);
	}
	proto_request_free(&req);
	json_decref(doc);
	proto_buf_free(&line);
}

static int
ref_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Percent-decode s[0..n) into out; its length (the caller checked it). */
static size_t
ref_unescape(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && ref_hex(s[i + 1]) >= 0 &&
		    ref_hex(s[i + 2]) >= 0) {
			out[o++] = (char)(ref_hex(s[i + 1]) * 16 +
			    ref_hex(s[i + 2]));
			i += 2;
		} else
			out[o++] = s[i] == '+' ? ' ' : s[i];
	}
	return (o);
}

static void
fuzz_query(const char *in, size_t len)
{
	struct proto_request	req;
	struct proto_buf	line;
	char		       *q, *dec, why[256], cwhy[128];
	const char	       *p, *amp, *eq;
	size_t			n, kl, vl, pairs = 0;
	const struct proto_arg *a;
	int			framing;

	if ((q = malloc(len + 1)) == NULL)
		return;
	memcpy(q, in, len);
	q[len] = '\0';
	if ((dec = malloc(len + 1)) == NULL) {
		free(q);
		return;
	}
	proto_buf_init(&line);
	why[0] = '\0';
	if (http_query_request("WATCH", q, &line, why, sizeof why) == -1) {
		fuzz_why(why, q, strlen(q));
		goto out;
	}
	if (line.oom ||
	    proto_parse_request(line.data, line.len, &req, &framing, cwhy,
		sizeof cwhy) != PROTO_OK)
		goto out;
	if (strcmp(req.command, "WATCH") != 0)
		fuzz_fail("another command", line.data, line.len);
	for (p = q; *p != '\0'; p = amp != NULL ? amp + 1 : p + strlen(p)) {
		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (n == 0)
			continue;
		if ((eq = memchr(p, '=', n)) == NULL)
			fuzz_fail("a pair without = taken", q, strlen(q));
		kl = ref_unescape(p, (size_t)(eq - p), dec);
		dec[kl] = '\0';
		if ((a = proto_request_arg(&req, dec)) == NULL)
			fuzz_fail("a key missing", line.data, line.len);
		vl = ref_unescape(eq + 1, n - (size_t)(eq - p) - 1, dec);
		if (a->vlen != vl || memcmp(a->value, dec, vl) != 0)
			fuzz_fail("a value differs", line.data, line.len);
		pairs++;
	}
	if (pairs != req.nargs)
		fuzz_fail("another number of keys", line.data, line.len);
	proto_request_free(&req);
out:
	proto_buf_free(&line);
	free(dec);
	free(q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	switch (data[0] % 3) {
	case 0:
		fuzz_head((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_json((const char *)data + 1, size - 1);
		break;
	default:
		fuzz_query((const char *)data + 1, size - 1);
		break;
	}
	return (0);
}
