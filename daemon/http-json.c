/*
 * http-json.c -- the HTTPS face's translations (proto/HTTP.md): a JSON
 * document {"command":"WORDS","keys":{...}} or a query string into the
 * protocol line it stands for, written with proto/'s quoting so that the
 * line protocol's parser checks every value; and a reply line's fields
 * into a JSON object. Nothing here knows a command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "rosterd.h"

/* A command is one or two words of letters, as the table has them. */
static int
http_json_command(const char *s, size_t len)
{
	size_t i, word = 0;
	int    words = 1;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (word == 0 || ++words > 2)
				return (0);
			word = 0;
			continue;
		}
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z')) ||
		    ++word > PROTO_MAX_WORD)
			return (0);
	}
	return (word > 0);
}

/* Append " key=value", refusing what the line protocol could not carry:
 * a key out of its grammar, a control other than LF, TAB and CR. */
static int
http_json_arg(struct proto_buf *line, const char *key, const char *v,
    size_t vlen, char *why, size_t whylen)
{
	size_t i;

	if (!proto_valid_key(key, strlen(key))) {
		snprintf(why, whylen,
		    "bad key name (lower-case letters, "
		    "digits and _)");
		return (-1);
	}
	for (i = 0; i < vlen; i++)
		if (proto_is_ctl((unsigned char)v[i]) && v[i] != '\n' &&
		    v[i] != '\t' && v[i] != '\r') {
			snprintf(why, whylen, "%s: control character", key);
			return (-1);
		}
	proto_buf_field(line, key, v, vlen);
	return (0);
}

/* An error text of jansson's quotes the body ("near '...'"): its controls,
 * and its bytes above ASCII when they are not UTF-8 (a JSON answer could
 * not carry it), become "?". */
static void
http_json_clean(char *s)
{
	size_t i, len = strlen(s);
	int    utf8 = proto_utf8_valid(s, len);

	for (i = 0; i < len; i++)
		if (proto_is_ctl((unsigned char)s[i]) ||
		    (!utf8 && (unsigned char)s[i] >= 0x80))
			s[i] = '?';
}

/*
 * The body of POST /api, body[0..len), as a request line in line. 0, or -1
 * with why: not JSON, not an object, members other than command and keys,
 * a command that is not one or two words, a value neither a string nor an
 * integer.
 */
int
http_json_request(const char *body, size_t len, struct proto_buf *line,
    char *why, size_t whylen)
{
	json_error_t jerr;
	json_t	    *doc, *cmd, *keys, *v;
	const char  *k;
	char	     num[32];
	int	     rc = -1;

	if ((doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(why, whylen, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		http_json_clean(why);
		return (-1);
	}
	if (!json_is_object(doc)) {
		snprintf(why, whylen, "the body must be a JSON object");
		goto out;
	}
	json_object_foreach(doc, k, v)
	{
		if (strcmp(k, "command") != 0 && strcmp(k, "keys") != 0) {
			snprintf(why, whylen,
			    "unknown member (only command and keys)");
			goto out;
		}
	}
	cmd = json_object_get(doc, "command");
	if (!json_is_string(cmd) ||
	    !http_json_command(json_string_value(cmd),
		json_string_length(cmd))) {
		snprintf(why, whylen,
		    "command: a string of one or two words is required");
		goto out;
	}
	proto_buf_addstr(line, json_string_value(cmd));
	keys = json_object_get(doc, "keys");
	if (keys != NULL && !json_is_object(keys)) {
		snprintf(why, whylen, "keys: must be an object");
		goto out;
	}
	json_object_foreach(keys, k, v)
	{
		if (json_is_string(v)) {
			if (http_json_arg(line, k, json_string_value(v),
				json_string_length(v), why, whylen) == -1)
				goto out;
		} else if (json_is_integer(v)) {
			snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			if (http_json_arg(line, k, num, strlen(num), why,
				whylen) == -1)
				goto out;
		} else {
			snprintf(why, whylen,
			    "keys: each value is a string or an integer");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(doc);
	return (rc);
}

static int
http_json_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Percent-decode s[0..len) ("+" is a space) into out, of at least len+1
 * bytes; the decoded length, or -1 for a broken escape. */
static ssize_t
http_json_unescape(const char *s, size_t len, char *out)
{
	size_t i, n = 0;
	int    hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] != '%')
			out[n++] = s[i];
		else {
			if (i + 2 >= len ||
			    (hi = http_json_hex((unsigned char)s[i + 1])) ==
				-1 ||
			    (lo = http_json_hex((unsigned char)s[i + 2])) == -1)
				return (-1);
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		}
	}
	out[n] = '\0';
	return ((ssize_t)n);
}

/*
 * A GET's request line: command, then the query's key=value pairs (NULL:
 * none). 0, or -1 with why.
 */
int
http_query_request(const char *command, const char *query,
    struct proto_buf *line, char *why, size_t whylen)
{
	const char *p, *amp, *eq;
	char	   *k = NULL, *v = NULL;
	ssize_t	    kl, vl;
	size_t	    n;
	int	    rc = -1;

	proto_buf_addstr(line, command);
	for (p = query; p != NULL && *p != '\0'; p = amp ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		n = amp ? (size_t)(amp - p) : strlen(p);
		if (n == 0)
			continue;
		if ((eq = memchr(p, '=', n)) == NULL) {
			snprintf(why, whylen, "query: key=value pairs");
			goto out;
		}
		free(k);
		free(v);
		if ((k = malloc((size_t)(eq - p) + 1)) == NULL ||
		    (v = malloc(n - (size_t)(eq - p))) == NULL) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		if ((kl = http_json_unescape(p, (size_t)(eq - p), k)) == -1 ||
		    (vl = http_json_unescape(eq + 1, n - (size_t)(eq - p) - 1,
			 v)) == -1) {
			snprintf(why, whylen, "query: bad %% escape");
			goto out;
		}
		if ((size_t)kl != strlen(k)) {
			snprintf(why, whylen, "bad key name");
			goto out;
		}
		if (http_json_arg(line, k, v, (size_t)vl, why, whylen) == -1)
			goto out;
	}
	rc = 0;
out:
	free(k);
	free(v);
	return (rc);
}

/*
 * The fields of a reply line ("OK ...", "* ...") as a JSON object in
 * *fields, and its bare words ("OK pong") as an array in *words (when
 * words is not NULL; NULL when there are none). 0, or -1 with why.
 */
int
http_json_fields(const char *line, size_t len, json_t **fields, json_t **words,
    char *why, size_t whylen)
{
	struct proto_reply   rep;
	enum proto_line_kind kind;
	json_t		    *o, *w = NULL, *s;
	size_t		     i;

	*fields = NULL;
	if (words != NULL)
		*words = NULL;
	kind = proto_parse_reply(line, len, &rep);
	if ((kind != PROTO_LINE_OK && kind != PROTO_LINE_RECORD) ||
	    (o = json_object()) == NULL) {
		proto_reply_free(&rep);
		snprintf(why, whylen, "not a record or an OK line");
		return (-1);
	}
	for (i = 0; i < rep.nfields; i++) {
		s = json_stringn(rep.fields[i].value, rep.fields[i].vlen);
		if (s == NULL)
			continue; /* not UTF-8: cannot be one */
		if (rep.fields[i].key != NULL) {
			json_object_set_new(o, rep.fields[i].key, s);
			continue;
		}
		if (words == NULL ||
		    (w == NULL && (w = json_array()) == NULL)) {
			json_decref(s);
			continue;
		}
		json_array_append_new(w, s);
	}
	proto_reply_free(&rep);
	*fields = o;
	if (words != NULL)
		*words = w;
	return (0);
}

static int
http_json_out_cb(const char *buf, size_t len, void *arg)
{
	return (evbuffer_add(arg, buf, len));
}

/* Append a JSON value, compact, to out. */
void
http_json_dump(struct evbuffer *out, json_t *v)
{
	json_dump_callback(v, http_json_out_cb, out,
	    JSON_COMPACT | JSON_ENCODE_ANY);
}
