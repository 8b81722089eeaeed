/*
 * proto.h -- the roster protocol's grammar (proto/PROTOCOL.md, sections 2-3).
 *
 * Pure functions over buffers: cutting a request line into a command and
 * key=value arguments, quoting and writing values and replies, UTF-8 and
 * control-character checks, value formats, error codes and limits. Nothing
 * here knows about sockets, libevent, OpenSSL or libpq. Linked by rosterd,
 * roster, the unit tests and the fuzz targets.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Wire constants. */
#define PROTO_VERSION	       1
#define PROTO_SERVER_VERSION   "0.1.0"
#define PROTO_DEFAULT_PORT     7470
#define PROTO_DEFAULT_MAX_LINE 16384
#define PROTO_MAX_ARGS	       32 /* arguments in one request */
#define PROTO_MAX_KEY	       32 /* bytes in a key */
#define PROTO_MAX_WORD	       32 /* bytes in a command word */
#define PROTO_MAX_COMMAND      (2 * PROTO_MAX_WORD + 1)
#define PROTO_MAX_CODE	       32  /* characters in a code */
#define PROTO_MAX_NAME	       200 /* characters in a name, after trimming */
#define PROTO_MAX_REF	       64
#define PROTO_MIN_PASSWORD     12
#define PROTO_MAX_PASSWORD     1024 /* bytes */
#define PROTO_MAX_TEXT	       4000 /* characters in note, reason, topic */
#define PROTO_MAX_EMAIL	       254
#define PROTO_MAX_COUNT	       1000000 /* a count key: 0 to this */
#define PROTO_FRAMING_LIMIT    4 /* the 4th framing error in a row closes */
#define PROTO_MAX_REPLY_FIELDS 64

/* Error codes: the complete set of section 3. PROTO_OK is not an error. */
enum proto_code {
	PROTO_OK = 0,
	PROTO_SYNTAX,
	PROTO_INVALID,
	PROTO_TOO_LONG,
	PROTO_AUTH_REQUIRED,
	PROTO_AUTH_FAILED,
	PROTO_RATE_LIMITED,
	PROTO_FORBIDDEN,
	PROTO_NOT_FOUND,
	PROTO_CONFLICT,
	PROTO_QUOTA,
	PROTO_CLOSED,
	PROTO_BUSY,
	PROTO_UNAVAILABLE,
	PROTO_INTERNAL,
	PROTO_NCODES
};

/* "SYNTAX", "INVALID", ...; "OK" for PROTO_OK; NULL when out of range. */
const char *proto_code_name(enum proto_code);
/* Name to code; -1 when the name is not one of the set. */
int proto_code_from_name(const char *, size_t, enum proto_code *);

/* --- growable byte buffer (utf8.c users, reply writers) --- */
struct proto_buf {
	char  *data; /* always NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
	int    oom; /* an allocation failed; contents truncated */
};
void proto_buf_init(struct proto_buf *);
void proto_buf_free(struct proto_buf *);
void proto_buf_reset(struct proto_buf *);
void proto_buf_add(struct proto_buf *, const void *, size_t);
void proto_buf_addstr(struct proto_buf *, const char *);
void proto_buf_addch(struct proto_buf *, char);

/* --- UTF-8 and controls --- */
/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF, nothing truncated), else 0. */
int proto_utf8_valid(const char *, size_t);
/* Offset of the first byte of the first ill-formed sequence; len when the
 * whole of s[0..len) is well-formed. */
size_t proto_utf8_invalid(const char *, size_t);
/* Number of code points in well-formed UTF-8. */
size_t proto_utf8_count(const char *, size_t);
/* 1 when the byte is a control character of section 2 (0x00-0x1F, 0x7F). */
int proto_is_ctl(unsigned char);

/* --- requests --- */
#define PROTO_ARG_LF_TAB    0x01 /* decoded value holds LF or TAB */
#define PROTO_ARG_OTHER_CTL 0x02 /* decoded value holds another control (CR) */
#define PROTO_ARG_QUOTED    0x04 /* value was written quoted */

struct proto_arg {
	const char *key;   /* NUL-terminated, lower case */
	const char *value; /* decoded, NUL-terminated */
	size_t	    vlen;  /* bytes in value, without the NUL */
	int	    flags; /* PROTO_ARG_* */
};

struct proto_request {
	char		 command[PROTO_MAX_COMMAND +
		1]; /* upper case, words joined by one SP; "" for an empty line */
	int		 nwords;
	size_t		 nargs;
	struct proto_arg args[PROTO_MAX_ARGS];
	char		*store; /* owns the decoded keys and values */
};

/*
 * Parse one request line: line[0..len) without its LF (a trailing CR is
 * dropped here). Returns PROTO_OK, or an error with a one-line explanation in
 * why: PROTO_SYNTAX for grammar errors (bad UTF-8 and raw controls too; then
 * *framing is set to 1, else 0). Duplicate keys are PROTO_SYNTAX. An empty
 * (or all-space) line is PROTO_OK with command "" and nwords 0. Does not know
 * which keys a command accepts; that is the caller's table. On PROTO_OK the
 * request must be released with proto_request_free; on error it need not be.
 */
enum proto_code proto_parse_request(const char *line, size_t len,
    struct proto_request *, int *framing, char *why, size_t whylen);
void		proto_request_free(struct proto_request *);
/* The argument with that key, or NULL. */
const struct proto_arg *proto_request_arg(const struct proto_request *,
    const char *key);

/* --- writing values and replies --- */
/* 1 when a value must be quoted: empty, or holds SP, DQUOTE, '\', '=' or a
 * control character. */
int proto_needs_quote(const char *, size_t);
/* Append the value, quoted and escaped when needed. Controls without an
 * escape (other than LF, TAB, CR) are written as U+FFFD. */
void proto_buf_value(struct proto_buf *, const char *, size_t);
/* Append " key=value" (leading space). */
void proto_buf_field(struct proto_buf *, const char *key, const char *value,
    size_t vlen);
/* Append "ERR CODE text\n"; text may be NULL; its controls become spaces. */
void proto_buf_err(struct proto_buf *, enum proto_code, const char *text);

/* --- reading replies (client side) --- */
enum proto_line_kind {
	PROTO_LINE_OK,	   /* "OK ..." final */
	PROTO_LINE_ERR,	   /* "ERR CODE text" final */
	PROTO_LINE_RECORD, /* "* k=v ..." */
	PROTO_LINE_DATA,   /* "= text" (export payload) */
	PROTO_LINE_NOTIFY, /* "! kind k=v ..." */
	PROTO_LINE_BAD	   /* none of the above */
};

struct proto_field {
	const char *key; /* NULL for a bare word such as "pong" */
	const char *value;
	size_t	    vlen;
};

struct proto_reply {
	enum proto_line_kind kind;
	enum proto_code code; /* ERR: the code (PROTO_INTERNAL if unknown) */
	const char
	      *text; /* ERR: the text; DATA: the payload; NOTIFY: the kind */
	size_t textlen;
	size_t nfields;
	struct proto_field fields[PROTO_MAX_REPLY_FIELDS];
	char		  *store;
};
/* Parse one reply line (without LF). Returns the kind; the reply must be
 * released with proto_reply_free whatever the kind. */
enum proto_line_kind	  proto_parse_reply(const char *, size_t,
	 struct proto_reply *);
void			  proto_reply_free(struct proto_reply *);
const struct proto_field *proto_reply_field(const struct proto_reply *,
    const char *key);

/* --- value formats (section 2); each returns 1 when valid --- */
int proto_valid_code(const char *,
    size_t);				   /* [A-Za-z0-9][A-Za-z0-9_.-]{0,31} */
int proto_valid_key(const char *, size_t); /* 1*[a-z0-9_], <= PROTO_MAX_KEY */
int proto_valid_ref(const char *, size_t); /* 1-64 of [A-Za-z0-9_.:-] */
int proto_valid_date(const char *, size_t); /* YYYY-MM-DD, a real day */
int proto_valid_time(const char *, size_t); /* YYYY-MM-DDTHH:MM */
int proto_valid_timestamp(const char *,
    size_t); /* YYYY-MM-DDTHH:MM[:SS]Z or same as time */
int proto_valid_name(const char *,
    size_t); /* 1-200 chars after trimming spaces, no controls */
int proto_valid_text(const char *, size_t,
    size_t maxchars); /* no controls but LF, TAB */
int proto_valid_email(const char *,
    size_t); /* local@domain, no spaces, <= 254 */
int proto_valid_timezone(const char *, size_t); /* Area/City shape, or UTC */
/* Decimal integer without sign or leading zero ("0" itself is fine),
 * min <= n <= max; out may be NULL. */
int proto_valid_uint(const char *, size_t, uint64_t min, uint64_t max,
    uint64_t *out);

/* --- the types of a command's keys (keys.c; PROTOCOL.md 2 and 4) --- */
/* The names are short because every command table spells them. */
enum proto_key_type {
	KEY_CODE,  /* event, party, session codes; user names */
	KEY_ID,	   /* positive integer */
	KEY_COUNT, /* integer 0 to PROTO_MAX_COUNT (quota, capacity, version) */
	KEY_NAME,  /* 1-200 characters after trimming */
	KEY_TEXT,  /* free text: LF and TAB allowed */
	KEY_LINE,  /* one line of text, no controls */
	KEY_DATE,
	KEY_TIME,
	KEY_TIMESTAMP,
	KEY_EMAIL,
	KEY_TZ,
	KEY_REF,
	KEY_PASSWORD, /* a new password: at least 12 characters */
	KEY_SECRET,   /* a password to check */
	KEY_ENUM,     /* one of the key's choices, "a|b|c" */
	KEY_COMMAND,  /* HELP's command=WORDS */
	KEY_NTYPES
};
/* The type's name in HELP's keys= ("code", "id", ...); NULL when out of
 * range. */
const char *proto_key_type_name(enum proto_key_type);
/*
 * Check one decoded value of the key named key: value[0..len), flags the
 * PROTO_ARG_* bits the parser set, choices the "a|b|c" of a KEY_ENUM key
 * (NULL: none), required whether the command needs the key (then an empty
 * value does not clear the field). Returns 0 when the value will do, else
 * -1 with "key: what is wrong" in why; why is not written on success.
 */
int proto_check_value(enum proto_key_type, const char *key, const char *choices,
    int required, const char *value, size_t len, int flags, char *why,
    size_t whylen);

/* --- the head of an HTTP/1.x request (httphead.c; proto/HTTP.md) --- */
#define PROTO_HTTP_MAX_HEAD    8192 /* bytes of a request line and headers */
#define PROTO_HTTP_MAX_HEADERS 64
#define PROTO_HTTP_MAX_TARGET  4096
#define PROTO_HTTP_TOKEN_LEN   64 /* hex digits of a session or CSRF token */

/* What the head of a request says, as far as the HTTPS face cares. */
struct proto_http_head {
	char	  method[8]; /* 1-7 of A-Z */
	char	  target[PROTO_HTTP_MAX_TARGET + 1];
	int	  minor;   /* HTTP/1.minor */
	long long length;  /* Content-Length, -1 when none */
	int	  chunked; /* any Transfer-Encoding */
	int	  conn_close;
	int	  conn_keep;
	int	  json; /* Content-Type application/json */
	int	  has_ctype;
	char	  token[PROTO_HTTP_TOKEN_LEN + 1]; /* the cookie's, or "" */
	char	  csrf[PROTO_HTTP_TOKEN_LEN + 1];  /* X-CSRF-Token, or "" */
	char	  if_none_match[256];		   /* or "" */
	char	  origin[256];
	char	  host[256];
};
/*
 * Parse a request's head, p[0..len) up to and with its blank line (CR LF
 * CR LF). 0, or -1 with the HTTP status to answer (400, 414, 431, 505) and
 * why. Headers other than those of the struct are checked, then ignored.
 */
int proto_http_head(const char *p, size_t len, struct proto_http_head *h,
    int *status, const char **why);
/* The session token of a Cookie header's value v[0..vlen) (the cookie
 * __Host-roster of PROTO_HTTP_TOKEN_LEN lower-case hex digits) into token
 * (PROTO_HTTP_TOKEN_LEN + 1 bytes); left as it is when there is none. */
void proto_http_cookie(const char *v, size_t vlen, char *token);
/* 1 when an If-None-Match list ("*", or entity tags with or without W/)
 * names etag (weak comparison), else 0. */
int proto_http_etag_match(const char *list, const char *etag);

#endif /* PROTO_H */
