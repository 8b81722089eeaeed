/*
 * httphead.c -- the head of an HTTP/1.x request (proto/HTTP.md section 1),
 * as the HTTPS face (daemon/http.c) reads it: the request line and the
 * headers it cares about, every byte checked, every copy bounded. Pure:
 * a buffer in, a struct out, no libraries; unit-tested by
 * tests/unit/test_httphead.c and fuzzed by tests/fuzz/fuzz_http.c.
 */
#include <string.h>
#include <strings.h>

#include "proto.h"

#define HEAD_COOKIE "__Host-roster="

/* RFC 9110's tchar; NUL is not one, though strchr finds it in any string. */
static int
head_tchar(unsigned char ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL));
}

static int
head_ishex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

/* Copy a header's value, bounded; a longer one is refused. */
static int
head_copy(char *dst, size_t len, const char *v, size_t vlen)
{
	if (vlen >= len)
		return (-1);
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return (0);
}

/* Whether a header's value names a token of its list (Connection). */
static int
head_has_token(const char *v, size_t vlen, const char *want)
{
	size_t i = 0, j, n = strlen(want);

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		j = i;
		while (j < vlen && v[j] != ',' && v[j] != ' ' && v[j] != '\t')
			j++;
		if (j - i == n && strncasecmp(v + i, want, n) == 0)
			return (1);
		i = j;
	}
	return (0);
}

void
proto_http_cookie(const char *v, size_t vlen, char *token)
{
	size_t i = 0, j, n = strlen(HEAD_COOKIE);

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == ';'))
			i++;
		j = i;
		while (j < vlen && v[j] != ';')
			j++;
		if (j - i == n + PROTO_HTTP_TOKEN_LEN &&
		    strncmp(v + i, HEAD_COOKIE, n) == 0 &&
		    head_ishex(v + i + n, PROTO_HTTP_TOKEN_LEN)) {
			memcpy(token, v + i + n, PROTO_HTTP_TOKEN_LEN);
			token[PROTO_HTTP_TOKEN_LEN] = '\0';
		}
		i = j;
	}
}

int
proto_http_etag_match(const char *list, const char *etag)
{
	size_t i = 0, j, n, len = strlen(list);

	if (etag[0] == '\0')
		return (0);
	n = strlen(etag);
	if (n > 2 && etag[0] == 'W' && etag[1] == '/') { /* weak: compare */
		etag += 2;				 /* the opaque part */
		n -= 2;
	}
	while (i < len) {
		while (i < len &&
		    (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
			i++;
		if (i < len && list[i] == '*')
			return (1);
		if (len - i > 2 && list[i] == 'W' && list[i + 1] == '/')
			i += 2;
		j = i;
		if (j < len && list[j] == '"') { /* up to its closing quote */
			for (j++; j < len && list[j] != '"'; j++)
				;
			if (j < len)
				j++;
		}
		while (j < len && list[j] != ',' && list[j] != ' ' &&
		    list[j] != '\t')
			j++;
		if (j - i == n && memcmp(list + i, etag, n) == 0)
			return (1);
		if (j == i)
			j++; /* a stray character: past it */
		i = j;
	}
	return (0);
}

/* One header of the request. */
static int
head_header(struct proto_http_head *h, const char *name, size_t nlen,
    const char *v, size_t vlen, const char **why)
{
	long long n = 0;
	size_t	  i;

#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
	if (IS("content-length")) {
		if (h->length != -1 || vlen == 0 || vlen > 12) {
			*why = "bad Content-Length";
			return (-1);
		}
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*why = "bad Content-Length";
				return (-1);
			}
			n = n * 10 + (v[i] - '0');
		}
		h->length = n;
	} else if (IS("transfer-encoding"))
		h->chunked = 1;
	else if (IS("connection")) {
		if (head_has_token(v, vlen, "close"))
			h->conn_close = 1;
		if (head_has_token(v, vlen, "keep-alive"))
			h->conn_keep = 1;
	} else if (IS("content-type")) {
		h->has_ctype = 1;
		h->json = (vlen == 16 ||
			      (vlen > 16 && (v[16] == ';' || v[16] == ' '))) &&
		    strncasecmp(v, "application/json", 16) == 0;
	} else if (IS("cookie"))
		proto_http_cookie(v, vlen, h->token);
	else if (IS("x-csrf-token")) {
		if (head_copy(h->csrf, sizeof h->csrf, v, vlen) == -1)
			h->csrf[0] = '\0';
	} else if (IS("if-none-match")) {
		/* one that does not fit is as good as none: a 200 */
		if (head_copy(h->if_none_match, sizeof h->if_none_match, v,
			vlen) == -1)
			h->if_none_match[0] = '\0';
	} else if (IS("origin")) {
		if (head_copy(h->origin, sizeof h->origin, v, vlen) == -1) {
			*why = "Origin too long";
			return (-1);
		}
	} else if (IS("host")) {
		if (head_copy(h->host, sizeof h->host, v, vlen) == -1) {
			*why = "Host too long";
			return (-1);
		}
	}
#undef IS
	return (0);
}

int
proto_http_head(const char *p, size_t len, struct proto_http_head *h,
    int *status, const char **why)
{
	const char *end = p + len, *eol, *sp, *colon, *v, *ve;
	size_t	    n;
	int	    nheaders = 0;

	memset(h, 0, sizeof *h);
	h->length = -1;
	*status = 400;
	if ((eol = memchr(p, '\n', len)) == NULL || eol == p ||
	    eol[-1] != '\r') {
		*why = "bad request line";
		return (-1);
	}
	/* METHOD SP target SP HTTP/1.x */
	if ((sp = memchr(p, ' ', (size_t)(eol - p))) == NULL ||
	    (size_t)(sp - p) >= sizeof h->method || sp == p) {
		*why = "bad request line";
		return (-1);
	}
	for (n = 0; p + n < sp; n++)
		if (p[n] < 'A' || p[n] > 'Z') {
			*why = "bad method";
			return (-1);
		}
	memcpy(h->method, p, (size_t)(sp - p));
	p = sp + 1;
	if ((sp = memchr(p, ' ', (size_t)(eol - p))) == NULL || *p != '/') {
		*why = "bad request target";
		return (-1);
	}
	if ((size_t)(sp - p) > PROTO_HTTP_MAX_TARGET) {
		*status = 414;
		*why = "request target too long";
		return (-1);
	}
	for (n = 0; p + n < sp; n++)
		if ((unsigned char)p[n] <= 0x20 ||
		    (unsigned char)p[n] >= 0x7f) {
			*why = "bad request target";
			return (-1);
		}
	memcpy(h->target, p, (size_t)(sp - p));
	p = sp + 1;
	if (eol - 1 - p != 8 || strncmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1')) {
		*status = 505;
		*why = "only HTTP/1.0 and HTTP/1.1";
		return (-1);
	}
	h->minor = p[7] - '0';
	for (p = eol + 1; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    eol == p || eol[-1] != '\r') {
			*why = "bad header line";
			return (-1);
		}
		if (eol - 1 == p) /* the blank line */
			return (0);
		if (++nheaders > PROTO_HTTP_MAX_HEADERS) {
			*status = 431;
			*why = "too many headers";
			return (-1);
		}
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p) {
			*why = "bad header line";
			return (-1);
		}
		for (n = 0; p + n < colon; n++)
			if (!head_tchar((unsigned char)p[n])) {
				*why = "bad header name";
				return (-1);
			}
		v = colon + 1;
		ve = eol - 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (n = 0; v + n < ve; n++)
			if (proto_is_ctl((unsigned char)v[n]) && v[n] != '\t') {
				*why = "control character in a header";
				return (-1);
			}
		if (head_header(h, p, (size_t)(colon - p), v, (size_t)(ve - v),
			why) == -1)
			return (-1);
	}
	*why = "bad head";
	return (-1);
}
