/*
 * conn.c -- one client connection: the TLS bufferevent, cutting lines,
 * framing errors, the queue of requests in flight (answered in order),
 * back-pressure, timeouts and closing. It never knows what a command means:
 * a parsed request goes to cmd_dispatch (or a line to the connection's
 * mode), and the reply comes back through req_write/req_done. A connection
 * with a face (http.c) reads its requests and writes its replies through
 * the face; limits, queue and timeouts stay the ones here.
 *
 * What a client can make us hold is bounded: its unread input (a read
 * watermark of a few max_line), its replies not yet written (reading stops
 * above CONN_OUT_HIGH, counting its requests' buffers and the socket's),
 * its connections (max_connections_per_address) and its time (handshake,
 * login, idle and write deadlines).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "rosterd.h"

#define CONN_OUT_HIGH	  (256 * 1024) /* stop reading above this */
#define CONN_OUT_LOW	  (64 * 1024)  /* resume below this */
#define CONN_MAX_REFUSING 64	       /* over-limit handshakes at once */
#define CONN_COPY_MAX	  4096	       /* replies copied, not moved */
#define CONN_MAX_LARGE	  4	       /* large replies in flight at once */
#define CONN_IN_MIN	  (32 * 1024)  /* unread input held, at least */
#define CONN_ADDR_BUCKETS 1024

/* Connections opened or freed since the last sweep: a handshake's
 * temporary memory (and a closed connection's) is free but still resident
 * in the heap, between the live objects of the connections that stay. */
static unsigned conn_churn;

/* The connections from one address (IPv4) or one /64 (IPv6). */
struct conn_addr {
	LIST_ENTRY(conn_addr) entry;
	unsigned char key[9]; /* 4 or 6, then 4 or 8 bytes */
	int	      n;
};
static LIST_HEAD(, conn_addr) conn_addrs[CONN_ADDR_BUCKETS];
static uint32_t conn_addr_seed;

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static char *conn_linebuf;
static int (*conn_on_established)(struct conn *);

static void conn_process(struct conn *);
static void conn_close(struct conn *, const char *);
static void conn_free(struct conn *, const char *);

static void
conn_addr(char *dst, size_t len, struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int  port = 0;

	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		port = ntohs(sin->sin_port);
		snprintf(dst, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		port = ntohs(sin6->sin6_port);
		snprintf(dst, len, "[%s]:%d", host, port);
	} else
		snprintf(dst, len, "unknown");
}

/* The client address without its port: what login limits count by. */
const char *
conn_host(struct conn *c, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%s", c->addr[0] == '[' ? c->addr + 1 : c->addr);
	if ((p = strrchr(buf, c->addr[0] == '[' ? ']' : ':')) != NULL)
		*p = '\0';
	return (buf);
}

/* The per-address key of sa: the IPv4 address, or the /64 of an IPv6 one
 * (an IPv4-mapped IPv6 address counts as the IPv4 address). */
static void
conn_addr_key(struct sockaddr *sa, unsigned char key[9])
{
	memset(key, 0, 9);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			key[0] = 4;
			memcpy(key + 1, a->s6_addr + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a->s6_addr, 8);
		}
	}
}

/* The count for sa's address, made when it is the first; NULL when out of
 * memory. A keyed hash: a client cannot aim at one bucket. */
static struct conn_addr *
conn_addr_get(struct sockaddr *sa)
{
	struct conn_addr *a;
	unsigned char	  key[9];
	uint32_t	  h;
	size_t		  i;

	if (conn_addr_seed == 0 &&
	    RAND_bytes((unsigned char *)&conn_addr_seed,
		sizeof conn_addr_seed) != 1)
		conn_addr_seed = (uint32_t)time(NULL);
	conn_addr_key(sa, key);
	h = 2166136261u ^ conn_addr_seed;
	for (i = 0; i < sizeof key; i++)
		h = (h ^ key[i]) * 16777619u;
	h ^= h >> 15;
	LIST_FOREACH (a, &conn_addrs[h % CONN_ADDR_BUCKETS], entry)
		if (memcmp(a->key, key, sizeof key) == 0)
			return (a);
	if ((a = calloc(1, sizeof *a)) == NULL)
		return (NULL);
	memcpy(a->key, key, sizeof key);
	LIST_INSERT_HEAD(&conn_addrs[h % CONN_ADDR_BUCKETS], a, entry);
	return (a);
}

static void
conn_addr_put(struct conn_addr *a)
{
	if (a != NULL && --a->n <= 0) {
		LIST_REMOVE(a, entry);
		free(a);
	}
}

static void
conn_set_deadline(struct conn *c, int seconds)
{
	c->deadline = time(NULL) + seconds;
}

/* A sign of life: the idle deadline starts again. */
void
conn_touch(struct conn *c)
{
	conn_set_deadline(c, rd->cfg->idle_timeout);
}

static void
conn_pause(struct conn *c)
{
	if (!c->paused) {
		c->paused = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
}

/* Bytes of replies not yet written: in its requests and in the socket's
 * output. */
static size_t
conn_unwritten(struct conn *c)
{
	return (c->queued +
	    evbuffer_get_length(bufferevent_get_output(c->bev)));
}

/*
 * Whether c may not take another request now: max_pending in flight, or
 * its replies not yet written over CONN_OUT_HIGH, each request in flight
 * counted as a reply of the size it estimates (the largest lately, halved
 * at each reply). The estimate keeps a client that pipelines large LISTs
 * and does not read from having max_pending of them built at once; and
 * whatever the estimate, at most CONN_MAX_LARGE requests whose reply may be
 * large (records: req_large) are in flight, so that a client that shrinks
 * the estimate with small requests first still cannot have more built.
 */
static int
conn_full(struct conn *c)
{
	size_t unwritten = conn_unwritten(c);

	if (c->npending >= rd->cfg->max_pending || unwritten > CONN_OUT_HIGH ||
	    c->nlarge >= CONN_MAX_LARGE)
		return (1);
	return (c->npending > 0 &&
	    unwritten + (size_t)c->npending * c->reply_est > CONN_OUT_HIGH);
}

/* Resume reading if nothing holds it back, and cut the lines that waited. */
static void
conn_maybe_resume(struct conn *c)
{
	if (!c->paused || c->state != CONN_READY || rd->draining)
		return;
	if (conn_full(c) || conn_unwritten(c) > CONN_OUT_LOW)
		return;
	c->paused = 0;
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

/* Append src to the socket's output. Short replies are copied, so that
 * they share memory blocks: moving a block per reply ("OK pong") would
 * cost far more memory than the bytes that CONN_OUT_HIGH counts. */
static void
conn_move(struct conn *c, struct evbuffer *src)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t		 len = evbuffer_get_length(src);

	if (len == 0)
		return;
	c->queued -= len < c->queued ? len : c->queued;
	if (len > CONN_COPY_MAX) {
		evbuffer_add_buffer(out, src);
		return;
	}
	evbuffer_add(out, evbuffer_pullup(src, -1), len);
	evbuffer_drain(src, len);
}

/* Move finished replies, in order, to the socket. */
static void
conn_flush(struct conn *c)
{
	struct req *r;
	int	    close_after;

	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		conn_move(c, r->out);
		if (!r->done) {
			if (r->at_head != NULL) {
				void (*fn)(struct req *) = r->at_head;

				r->at_head = NULL;
				fn(r); /* may finish r: flushes again */
			}
			return;
		}
		close_after = r->close_after;
		c->reply_est /= 2;
		if (r->written > c->reply_est)
			c->reply_est = r->written < CONN_OUT_HIGH ?
			    r->written :
			    CONN_OUT_HIGH;
		TAILQ_REMOVE(&c->reqs, r, entry);
		c->npending--;
		if (r->large)
			c->nlarge--;
		conn_set_deadline(c, rd->cfg->idle_timeout); /* from now */
		if (c->barrier == r) {
			c->barrier = NULL;
			conn_process(c); /* lines held behind it */
		}
		r->conn = NULL;
		req_free(r);
		if (close_after) {
			conn_close(c, "closed by request");
			return;
		}
	}
	if (rd->draining && c->npending == 0) {
		conn_close(c, "server stopping");
		return;
	}
	conn_maybe_resume(c);
}

struct req *
conn_new_req(struct conn *c)
{
	struct req *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return (NULL);
	if ((r->out = evbuffer_new()) == NULL) {
		free(r);
		return (NULL);
	}
	r->conn = c;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->npending++;
	return (r);
}

void
req_free(struct req *r)
{
	if (r->data_free != NULL && r->data != NULL)
		r->data_free(r->data);
	if (r->preq.store != NULL)
		proto_request_free(&r->preq);
	evbuffer_free(r->out);
	free(r);
}

/* Called first by every callback that got a request back: 0 when the
 * request is still wanted, -1 when its client left (and it is freed now). */
int
req_resume(struct req *r)
{
	r->waiting = 0;
	if (r->conn == NULL) {
		req_free(r);
		return (-1);
	}
	return (0);
}

/* An export writes as it goes: when r is first in line, move its output to
 * the socket now. Returns the bytes waiting in the socket's output, for the
 * writer to pause above CONN_OUT_HIGH (0 when the client has gone). */
size_t
req_stream(struct req *r)
{
	struct evbuffer *out;
	size_t		 waiting;

	if (r->conn == NULL || r->conn->state == CONN_DEAD)
		return (0);
	out = bufferevent_get_output(r->conn->bev);
	if (TAILQ_FIRST(&r->conn->reqs) == r)
		conn_move(r->conn, r->out);
	waiting = evbuffer_get_length(out) + evbuffer_get_length(r->out);
	if (waiting > CONN_OUT_HIGH)
		return (CONN_OUT_HIGH + 1);
	return (0);
}

/* Bytes written by r and not yet moved to the socket. */
size_t
req_pending(struct req *r)
{
	return (evbuffer_get_length(r->out));
}

/* Count n bytes added to r's reply. */
static void
req_added(struct req *r, size_t n)
{
	r->written += n;
	if (r->conn != NULL)
		r->conn->queued += n;
}

/* Bytes of r's reply as they go to the client: a face's own. */
void
req_emit(struct req *r, const void *data, size_t len)
{
	if (evbuffer_add(r->out, data, len) == 0)
		req_added(r, len);
}

/* The same for bytes that outlive the request (a file of web_root). */
void
req_emit_ref(struct req *r, const void *data, size_t len)
{
	if (evbuffer_add_reference(r->out, data, len, NULL, NULL) == 0)
		req_added(r, len);
}

void
req_write(struct req *r, const char *data, size_t len)
{
	if (r->conn != NULL && r->conn->face != NULL) {
		r->conn->face->reply(r, data, len);
		return;
	}
	req_emit(r, data, len);
}

void
req_printf(struct req *r, const char *fmt, ...)
{
	va_list ap;
	char	small[512], *p = small;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof small) {
		if ((p = malloc((size_t)n + 1)) == NULL)
			return;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	req_write(r, p, (size_t)n);
	if (p != small)
		free(p);
}

void
req_line(struct req *r, const struct proto_buf *b)
{
	req_write(r, b->data, b->len);
}

/* Finish the request with "ERR CODE text". */
void
req_err(struct req *r, enum proto_code code, const char *fmt, ...)
{
	struct proto_buf b;
	char		 text[512];
	va_list		 ap;

	text[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
	}
	proto_buf_init(&b);
	proto_buf_err(&b, code, text);
	req_line(r, &b);
	proto_buf_free(&b);
	r->result = code;
	req_done(r);
}

/* The reply is complete: log a failure, send what is in order. */
void
req_done(struct req *r)
{
	struct timespec now;
	struct conn    *c = r->conn;
	char		host[64], kind[48];
	long		ms;

	if (c != NULL && c->face != NULL && c->face->done(r))
		return; /* the face finishes it, then calls here again */
	r->done = 1;
	if (c == NULL)
		return;
	if (c->role != ROLE_NONE)
		c->logged_in = 1;
	if (r->result != PROTO_OK) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (now.tv_sec - r->started.tv_sec) * 1000 +
		    (now.tv_nsec - r->started.tv_nsec) / 1000000;
		snprintf(kind, sizeof kind, "request result=%s",
		    proto_code_name(r->result));
		log_limited(LOG_LVL_INFO, kind, conn_host(c, host, sizeof host),
		    "conn=%llu user=%s cmd=\"%s\" ms=%ld result=%s",
		    (unsigned long long)c->id, c->user[0] ? c->user : "-",
		    r->preq.command[0] ? r->preq.command : "-", ms,
		    proto_code_name(r->result));
	}
	conn_flush(c);
}

/* A line that broke the framing rules: answer it, and close at the fourth
 * in a row. */
static void
conn_framing_error(struct conn *c, enum proto_code code, const char *why)
{
	struct req *r;

	if ((r = conn_new_req(c)) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	if (++c->framing_errors >= PROTO_FRAMING_LIMIT) {
		r->close_after = 1;
		conn_pause(c);
		c->state = CONN_CLOSING;
	}
	req_err(r, code, "%s", why);
}

static void
conn_line(struct conn *c, char *line, size_t len)
{
	struct req     *r;
	enum proto_code code;
	char		why[256];
	int		framing = 0;

	if ((r = conn_new_req(c)) == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	if (c->mode != NULL) { /* the mode reads the line */
		conn_set_deadline(c, rd->cfg->idle_timeout);
		c->mode->line(r, line, len);
		return;
	}
	code = proto_parse_request(line, len, &r->preq, &framing, why,
	    sizeof why);
	if (code != PROTO_OK) {
		memset(&r->preq, 0, sizeof r->preq);
		if (framing) {
			/* not a request at all: counts toward the limit */
			TAILQ_REMOVE(&c->reqs, r, entry);
			c->npending--;
			req_free(r);
			conn_framing_error(c, PROTO_SYNTAX, why);
			return;
		}
		c->framing_errors = 0;
		conn_set_deadline(c, rd->cfg->idle_timeout);
		req_err(r, code, "%s", why);
		return;
	}
	if (r->preq.nwords == 0) { /* ignored, and no sign of life */
		TAILQ_REMOVE(&c->reqs, r, entry);
		c->npending--;
		req_free(r);
		return;
	}
	c->framing_errors = 0;
	conn_set_deadline(c, rd->cfg->idle_timeout);
	cmd_dispatch(r);
}

/* For WATCH and EXPORT: read no line past r until it is done, and run fn
 * once every earlier request has been answered (now, if none is left), so
 * that r's output goes straight to the socket. */
void
req_barrier(struct req *r, void (*fn)(struct req *))
{
	struct conn *c = r->conn;

	c->barrier = r;
	if (TAILQ_FIRST(&c->reqs) == r)
		fn(r);
	else
		r->at_head = fn;
}

/* r's reply may be large (a LIST's records): it counts toward the
 * connection's CONN_MAX_LARGE until it is written out. */
void
req_large(struct req *r)
{
	if (r->conn == NULL || r->large)
		return;
	r->large = 1;
	r->conn->nlarge++;
}

/*
 * What OpenSSL has read from the socket and not yet handed over comes
 * with no socket event: it reads ahead (tls.c), a whole segment at a time
 * (the handshake's last one may bring requests too), and libevent's
 * reader stops at the end of the record at hand (SSL_pending), or while
 * reading waits (paused, a barrier, the input's watermark). When lines
 * may be read again, have the bufferevent read on now, as if the socket
 * were readable (libevent 2.1's socket-based OpenSSL bufferevent reads
 * the socket in its ev_read's callback); a client that sends several
 * requests in one segment would otherwise get no answer past the first
 * until it sends more (test_tls.py).
 */
static void
conn_read_buffered(struct conn *c)
{
	if (c->state == CONN_READY && !c->paused && c->barrier == NULL &&
	    (bufferevent_get_enabled(c->bev) & EV_READ) &&
	    SSL_has_pending(c->ssl))
		event_active(&c->bev->ev_read, EV_READ, 1);
}

/* Cut and handle every complete line in the input, while allowed to. */
static void
conn_process(struct conn *c)
{
	struct evbuffer	   *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr eol;
	size_t		    eol_len, len, linelen, max = rd->cfg->max_line;
	char		    why[64];

	if (c->processing)
		return;
	c->processing = 1;
	while (c->face != NULL && c->state == CONN_READY &&
	    c->barrier == NULL) {
		if (conn_full(c)) {
			conn_pause(c);
			break;
		}
		if (c->face->input(c) != 1)
			break;
	}
	while (c->face == NULL && c->state == CONN_READY &&
	    c->barrier == NULL) {
		if (conn_full(c)) {
			conn_pause(c);
			break;
		}
		len = evbuffer_get_length(in);
		if (len == 0)
			break;
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (c->discarding) {
				evbuffer_drain(in, len);
				break;
			}
			if (len <= max + 1) /* max bytes and perhaps a CR */
				break;
			evbuffer_drain(in, len);
			c->discarding = 1;
			snprintf(why, sizeof why, "line longer than %zu bytes",
			    max);
			conn_framing_error(c, PROTO_TOO_LONG, why);
			continue;
		}
		linelen = (size_t)eol.pos;
		if (c->discarding) { /* the end of an over-long line */
			evbuffer_drain(in, linelen + 1);
			c->discarding = 0;
			continue;
		}
		if (linelen > max + 1 ||
		    (linelen == max + 1 &&
			evbuffer_pullup(in, (ssize_t)linelen)[max] != '\r')) {
			evbuffer_drain(in, linelen + 1);
			snprintf(why, sizeof why, "line longer than %zu bytes",
			    max);
			conn_framing_error(c, PROTO_TOO_LONG, why);
			continue;
		}
		evbuffer_remove(in, conn_linebuf, linelen + 1);
		conn_linebuf[linelen] = '\0';
		conn_line(c, conn_linebuf, linelen);
	}
	c->processing = 0;
	conn_read_buffered(c);
}

/*
 * Output added to an empty buffer: write it in this loop iteration. The
 * bufferevent (libevent 2.1's socket-based OpenSSL one) adds its write
 * event and writes when epoll next says that the socket is writable, then
 * removes the event: two epoll_ctl and a round of the loop per reply. A
 * socket with nothing queued is almost always writable, so run its write
 * event now, the bufferevent's own write path (a socket that is not
 * writable after all leaves the event waiting, as after any wakeup); the
 * event added and removed in one iteration then costs no epoll_ctl
 * (server.c's changelist).
 */
static void
conn_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;

	if (info->n_added > 0 && info->orig_size == 0)
		event_active(&c->bev->ev_write, EV_WRITE, 1);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	struct req *r;

	if (c->state == CONN_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c, c->refusing ? "refused" : "closed");
		return;
	}
	if ((r = TAILQ_FIRST(&c->reqs)) != NULL && r->on_drain != NULL)
		r->on_drain(r);
	conn_maybe_resume(c);
}

/* A live update for a watching client; a watcher that does not read is
 * dropped rather than buffered without bound. */
void
conn_notify(struct conn *c, const char *line, size_t len)
{
	struct evbuffer *b;

	if (c->state != CONN_READY)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    4 * CONN_OUT_HIGH) {
		conn_close(c, "watcher not reading");
		return;
	}
	if (c->face == NULL) {
		bufferevent_write(c->bev, line, len);
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		return;
	c->face->notify(c, line, len, b);
	bufferevent_write_buffer(c->bev, b);
	evbuffer_free(b);
}

/* Enter a mode (NULL: back to reading requests); the mode in force, if
 * any, is closed first. */
void
conn_set_mode(struct conn *c, const struct conn_mode *mode, void *data)
{
	const struct conn_mode *old = c->mode;

	c->mode = NULL;
	if (old != NULL && old->close != NULL)
		old->close(c, c->mode_data);
	c->mode = mode;
	c->mode_data = data;
}

/* The function run when a connection is established, before it is
 * greeted: it returns 1 when it will greet the connection itself (with
 * conn_greet), 0 when the connection may be greeted now. */
void
conn_established_hook(int (*fn)(struct conn *))
{
	conn_on_established = fn;
}

/* The user named by the client's verified certificate, or NULL. */
char *
conn_peer_user(struct conn *c)
{
	return (tls_peer_user(c->ssl));
}

/* Send the greeting; a client certificate may have logged a user in. */
void
conn_greet(struct conn *c, const char *user, enum role role, const char *party)
{
	struct proto_buf b;

	if (c->state != CONN_HANDSHAKE && c->state != CONN_GREETING)
		return;
	proto_buf_init(&b);
	proto_buf_addstr(&b, "OK rosterd ready");
	proto_buf_addstr(&b, " proto=1 version=" PROTO_SERVER_VERSION);
	if (user != NULL) {
		c->logged_in = 1;
		snprintf(c->user, sizeof c->user, "%s", user);
		c->role = role;
		snprintf(c->party, sizeof c->party, "%s", party ? party : "");
		proto_buf_field(&b, "user", user, strlen(user));
		proto_buf_field(&b, "role", role_name(role),
		    strlen(role_name(role)));
		log_info("conn=%llu login user=%s role=%s method=certificate",
		    (unsigned long long)c->id, user, role_name(role));
	}
	proto_buf_addch(&b, '\n');
	bufferevent_write(c->bev, b.data, b.len);
	proto_buf_free(&b);
	c->state = CONN_READY;
	conn_churn++;
	conn_set_deadline(c, rd->cfg->idle_timeout);
	conn_process(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn  *c = arg;
	unsigned long e;
	char	      reason[160];

	if (what & BEV_EVENT_CONNECTED) {
		if (c->refusing) {
			static const char busy[] =
			    "ERR BUSY too many connections, try again later\n";
			const char *msg = c->face ? c->face->busy : busy;

			bufferevent_write(bev, msg, strlen(msg));
			c->state = CONN_CLOSING;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (c->face != NULL) {
			c->state = CONN_READY;
			conn_set_deadline(c, rd->cfg->idle_timeout);
			c->face->established(c);
			conn_process(c);
			return;
		}
		c->state = CONN_GREETING;
		if (conn_on_established == NULL || !conn_on_established(c))
			conn_greet(c, NULL, ROLE_NONE, NULL);
		return;
	}
	c->broken = 1;
	if (what & BEV_EVENT_EOF)
		conn_free(c, "client closed");
	else if (what & BEV_EVENT_ERROR) {
		if ((e = bufferevent_get_openssl_error(bev)) != 0)
			snprintf(reason, sizeof reason, "tls error: %s",
			    ERR_reason_error_string(e) ?
				ERR_reason_error_string(e) :
				"unknown");
		else
			snprintf(reason, sizeof reason, "%s",
			    EVUTIL_SOCKET_ERROR() ?
				evutil_socket_error_to_string(
				    EVUTIL_SOCKET_ERROR()) :
				"connection error");
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		conn_free(c, reason);
	} else if (what & BEV_EVENT_WRITING)
		conn_free(c, "write timeout");
	else
		conn_free(c, "timeout");
}

/* The unread input a connection may hold: two whole lines at least. */
static size_t
conn_in_high(void)
{
	size_t n = 2 * ((size_t)rd->cfg->max_line + 2);

	return (n < CONN_IN_MIN ? CONN_IN_MIN : n);
}

/* A new TCP connection: start the TLS handshake. Past max_connections the
 * handshake still happens, so that the client can be told ERR BUSY. */
void
conn_accept(int fd, struct sockaddr *sa, socklen_t salen,
    const struct conn_face *face)
{
	struct conn	 *c;
	struct conn_addr *peer;
	struct timeval	  wtv = { rd->cfg->write_timeout, 0 };
	char		  addr[64], host[64];
	int		  refusing, one = 1;

	conn_addr(addr, sizeof addr, sa);
	/* the address without its port (or brackets), as conn_host has it */
	snprintf(host, sizeof host, "%s", addr[0] == '[' ? addr + 1 : addr);
	host[strcspn(host, addr[0] == '[' ? "]" : ":")] = '\0';
	if ((peer = conn_addr_get(sa)) == NULL) {
		close(fd);
		return;
	}
	if (peer->n >= rd->cfg->max_connections_per_address) {
		/* not even a handshake: that is what such a flood costs */
		log_limited(LOG_LVL_NOTICE, "conn refused per address", host,
		    "conn refused addr=%s reason=\"too many connections from "
		    "this address\" max_connections_per_address=%d",
		    addr, rd->cfg->max_connections_per_address);
		close(fd);
		return;
	}
	refusing = rd->nconns >= rd->cfg->max_connections;
	if (refusing && (rd->draining || rd->nrefusing >= CONN_MAX_REFUSING)) {
		log_limited(LOG_LVL_NOTICE, "conn refused", host,
		    "conn refused addr=%s reason=\"too many connections\"",
		    addr);
		if (peer->n == 0)
			conn_addr_put(peer);
		close(fd);
		return;
	}
	if ((conn_linebuf == NULL &&
		(conn_linebuf = malloc((size_t)rd->cfg->max_line + 2)) ==
		    NULL) ||
	    (c = calloc(1, sizeof *c)) == NULL) {
		if (peer->n == 0)
			conn_addr_put(peer);
		close(fd);
		return;
	}
	c->peer = peer;
	c->face = face;
	peer->n++;
	c->reply_est = CONN_OUT_HIGH / 4;
	c->id = ++rd->next_conn_id;
	c->fd = fd;
	/* replies go out in pieces: do not let them wait for ACKs */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	c->refusing = refusing;
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	TAILQ_INIT(&c->reqs);
	if ((c->ssl = tls_new()) == NULL) {
		conn_addr_put(peer);
		free(c);
		close(fd);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(rd->base, fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		conn_addr_put(peer);
		free(c);
		close(fd);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	if (evbuffer_add_cb(bufferevent_get_output(c->bev), conn_output_cb,
		c) == NULL) {
		bufferevent_free(c->bev); /* frees the SSL, closes fd */
		conn_addr_put(peer);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUT_LOW, 0);
	/* no more unread input than a few lines: a request that holds the
	 * connection (LOGIN, EXPORT) stops its reading */
	bufferevent_setwatermark(c->bev, EV_READ, 0, conn_in_high());
	/* a client that takes no byte of what we write for this long */
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = CONN_HANDSHAKE;
	conn_set_deadline(c, rd->cfg->handshake_timeout);
	c->login_deadline = time(NULL) + rd->cfg->login_timeout;
	TAILQ_INSERT_TAIL(&conns, c, entry);
	if (refusing) {
		rd->nrefusing++;
		log_limited(LOG_LVL_NOTICE, "conn refused", host,
		    "conn=%llu refused addr=%s reason=\"too many "
		    "connections\" max_connections=%d",
		    (unsigned long long)c->id, addr, rd->cfg->max_connections);
	} else {
		rd->nconns++;
		log_limited(LOG_LVL_INFO, "conn open", host,
		    "conn=%llu open addr=%s", (unsigned long long)c->id, addr);
	}
}

/* Stop reading, send what is queued, then free. */
static void
conn_close(struct conn *c, const char *why)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free(c, why);
		return;
	}
	c->state = CONN_CLOSING;
	conn_set_deadline(c, 10);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

static void
conn_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	/* a close_notify, if the socket takes it now; never waits */
	if (!c->broken && SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
	bufferevent_free(c->bev); /* frees the SSL and closes the socket */
	free(c);
	conn_churn++;
}

/* Detach the connection now; free it from the loop, so that no caller up
 * the stack (a callback that wrote the last reply) is left holding it. */
static void
conn_free(struct conn *c, const char *why)
{
	struct req *r;
	char	    host[64];

	if (c->state == CONN_DEAD)
		return;
	conn_set_mode(c, NULL, NULL);
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		TAILQ_REMOVE(&c->reqs, r, entry);
		r->conn = NULL;
		if (!r->waiting) {
			req_free(r);
			continue;
		}
		/* nobody will read it: free its reply now, not at its end */
		evbuffer_drain(r->out, evbuffer_get_length(r->out));
		if (r->on_gone != NULL)
			r->on_gone(r); /* e.g. cancel its statement */
		else if (r->on_drain != NULL)
			r->on_drain(r); /* a paused export reads on */
	}
	c->npending = 0;
	c->nlarge = 0;
	c->queued = 0;
	c->barrier = NULL;
	if (c->face != NULL && c->face->free != NULL)
		c->face->free(c);
	c->face_data = NULL;
	TAILQ_REMOVE(&conns, c, entry);
	conn_addr_put(c->peer);
	c->peer = NULL;
	if (c->refusing)
		rd->nrefusing--;
	else {
		rd->nconns--;
		log_limited(LOG_LVL_INFO, "conn closed",
		    conn_host(c, host, sizeof host),
		    "conn=%llu closed addr=%s user=%s reason=\"%s\"",
		    (unsigned long long)c->id, c->addr,
		    c->user[0] ? c->user : "-", why);
	}
	c->state = CONN_DEAD;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	evbuffer_remove_cb(bufferevent_get_output(c->bev), conn_output_cb, c);
	if (event_base_once(rd->base, -1, EV_TIMEOUT, conn_reap_cb, c, NULL) ==
	    -1)
		conn_reap_cb(-1, 0, c);
	server_conn_closed();
}

/* Whether c's first request is a LOGIN being checked. */
static int
conn_logging_in(struct conn *c)
{
	struct req *r = TAILQ_FIRST(&c->reqs);

	return (r != NULL && !r->done && r->cmd != NULL &&
	    strcmp(r->cmd->name, "LOGIN") == 0);
}

/* Once a second: handshake, login and idle deadlines. A connection with
 * requests in flight is not idle; one that has not logged in within
 * login_timeout is closed, busy or not (unless its LOGIN is being checked).
 * The write deadline is the bufferevent's (conn_event_cb). */
void
conn_sweep(time_t now)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->role != ROLE_NONE)
			c->logged_in = 1;
		if (c->state == CONN_READY && !c->logged_in &&
		    now >= c->login_deadline && !conn_logging_in(c)) {
			conn_free(c, "login timeout");
			continue;
		}
		if (now < c->deadline)
			continue;
		switch (c->state) {
		case CONN_HANDSHAKE:
		case CONN_GREETING:
			conn_free(c, "handshake timeout");
			break;
		case CONN_READY:
			if (c->npending == 0 && c->mode == NULL)
				conn_free(c, "idle timeout");
			break;
		case CONN_CLOSING:
			conn_free(c, "close timeout");
			break;
		case CONN_DEAD:
			break;
		}
	}
#ifdef __GLIBC__
	/* Give those pages back (glibc keeps freed memory inside the heap
	 * resident): an idle connection then costs its live objects only. */
	if (conn_churn > 0) {
		conn_churn = 0;
		malloc_trim(0);
	}
#endif
}

/* SIGTERM: stop reading everywhere; close connections as they finish. */
void
conn_close_all(void)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state != CONN_READY || c->npending == 0)
			conn_close(c, "server stopping");
		else {
			conn_pause(c);
			conn_set_deadline(c, 10);
		}
	}
}

/* Call fn for every connection with a user logged in; where it returns
 * 1, the session ends (the user was disabled or changed, on any daemon):
 * the connection is logged out (requests in flight still get their
 * answers; the next ones AUTH_REQUIRED), and a watcher, which has nothing
 * in flight, is closed. */
void
conn_each_session(int (*fn)(struct conn *, void *), void *arg)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->role == ROLE_NONE || !fn(c, arg))
			continue;
		log_notice("conn=%llu user=%s changed: logged out",
		    (unsigned long long)c->id, c->user);
		c->role = ROLE_NONE;
		c->user[0] = c->party[0] = c->event[0] = c->stamp[0] = '\0';
		if (c->mode != NULL) /* nothing in flight to answer */
			conn_close(c, "user changed");
	}
}

/* At exit, after the drain: free what is left. */
void
conn_free_all(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&conns)) != NULL)
		conn_free(c, "server stopped");
	free(conn_linebuf);
	conn_linebuf = NULL;
}
