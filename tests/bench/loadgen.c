/*
 * loadgen.c -- a load generator for rosterd. Opens N TLS connections, logs
 * each in (with -u), sends USE (with --event), then keeps W copies of one
 * request line in flight on each (pipelined: W at first, then one more for
 * each final reply) for D seconds, and prints one line of figures:
 *
 *   PING conns=16 window=8 secs=10 requests=123456 rps=12345.6 errors=0
 *       p50_ms=0.42 p99_ms=1.8 max_ms=12.3
 *
 * Latency is per request, from the moment it is queued for sending to its
 * final line ("OK ..." or "ERR ..."; "*", "=" and "!" lines before it are
 * skipped). With --rate R each connection sends instead a request every
 * 1/R seconds (the connections evenly staggered), at most W in flight:
 * an offered load rather than as many as the server answers. A request
 * that waits for a free place in the window counts from the moment it
 * was due, so that a server that falls behind shows in the latency (no
 * coordinated omission). With --idle N it opens N connections, reads each greeting and
 * holds them open, idle, for D seconds instead.
 *
 * In the request line, {n} stands for a number counted up across all
 * connections (each request its own), and {v} for a line of the --values
 * file, a different one for each request (spread over the file), so that
 * e.g. PARTICIPANT ADD can spread over delegations and PARTICIPANT SHOW
 * over existing ids.
 *
 * Non-blocking sockets and OpenSSL driven by poll(); the connections are
 * split over -t threads (default 1), each with its own poll loop.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LG_READ_CHUNK	 16384
#define LG_SETUP_SECONDS 120 /* connect, handshake, login, USE */
#define LG_DRAIN_SECONDS 5   /* wait for replies still in flight */
#define LG_MAX_THREADS	 64

enum lg_state {
	LG_CONNECTING,
	LG_HANDSHAKE,
	LG_SETUP, /* greeting, LOGIN and USE replies awaited */
	LG_READY, /* waiting for the start */
	LG_RUNNING,
	LG_DRAINING, /* past the end: reading what is in flight */
	LG_CLOSED
};

struct lg_conn {
	int	      fd;
	SSL	     *ssl;
	enum lg_state state;
	int	      want_write; /* the last TLS call needs POLLOUT */
	int	      setup_left; /* final lines owed during setup */
	const char   *setup_step; /* what the next setup reply is for */
	char	     *rbuf;
	size_t	      rlen, rcap;
	char	     *wbuf;
	size_t	      woff, wlen, wcap;
	uint64_t     *sent; /* ring of send times, one per request */
	size_t	      shead, scount, scap;
	uint64_t      next_ns; /* --rate: when the next request is due */
};

struct lg_worker {
	pthread_t	thread;
	SSL_CTX	       *ctx; /* one per thread: nothing shared */
	struct lg_conn *conns;
	int		nconns;
	struct pollfd  *pfd;
	int	       *pidx;
	uint64_t	replies;
	uint64_t	errors;
	uint64_t	lost;  /* connections closed during the run */
	int		index; /* of the threads */
	uint64_t       *lat;   /* latencies in ns, of measured replies */
	size_t		nlat, caplat;
	char		first_err[256];
};

static struct {
	const char *host;
	const char *port;
	const char *ca;
	const char *cert; /* a client certificate that logs its user in */
	const char *key;
	const char *user;
	const char *password_env;
	const char *event;
	char	   *request; /* the request line, without LF */
	size_t	    request_len;
	int	    conns;
	int	    window;
	int	    threads;
	int	    idle;
	double	    secs;
	double	    rate;      /* --rate: requests per second per connection */
	double	    start_at;  /* --start-at: when to start, Unix time */
	uint64_t    period_ns; /* 1/rate */
	const char *values_file;
	int	    templated; /* the request holds {n} or {v} */
} opt;

static char	   **lg_values; /* the lines of --values */
static size_t	     lg_nvalues;
static atomic_ullong lg_seq; /* {n} */

static struct addrinfo *lg_addr;
static int		lg_host_is_ip;
static char	       *lg_login; /* "LOGIN user=... password=...\n" */
static char	       *lg_use;	  /* "USE event=...\n" */

static atomic_int lg_ready;		  /* connections past setup */
static atomic_int lg_failed;		  /* connections that failed setup */
static atomic_int lg_go;		  /* 1: run; 2: abort */
static uint64_t	  lg_start_ns, lg_end_ns; /* set before lg_go */

static void
lg_usage(FILE *f)
{
	/* clang-format off */
	fprintf(f,
	    "usage: loadgen [-h HOST] [-p PORT] [--ca FILE] [--cert FILE [--key FILE]]\n"
	    "               [-c CONNS] [-w WINDOW] [--rate R]\n"
	    "               [-d SECONDS] [-t THREADS] [-u USER] [--password-env VAR]\n"
	    "               [--event CODE] REQUEST-LINE\n"
	    "       loadgen [-h HOST] [-p PORT] [--ca FILE] [-d SECONDS] --idle N\n"
	    "\n"
	    "  -h HOST             rosterd's address (default 127.0.0.1)\n"
	    "  -p PORT             its port (default 7470)\n"
	    "  --ca FILE           CA to verify the server with (default: the system's)\n"
	    "  --cert FILE         a client certificate (its CN logs in; no -u needed)\n"
	    "  --key FILE          its key (default: in the --cert file)\n"
	    "  -c N                connections (default 1)\n"
	    "  -w W                requests in flight on each connection (default 1)\n"
	    "  --rate R            each connection sends R requests a second (at most\n"
	    "                      W in flight) instead of one for each reply\n"
	    "  --start-at T        once set up, wait for Unix time T (several loadgens\n"
	    "                      measuring the same seconds)\n"
	    "  -d SECONDS          how long to measure, or to hold idle (default 10)\n"
	    "  -t THREADS          poll loops the connections are split over (default 1)\n"
	    "  -u USER             LOGIN as USER on every connection first\n"
	    "  --password-env VAR  the environment variable holding the password\n"
	    "                      (default ROSTER_PASSWORD)\n"
	    "  --event CODE        send USE event=CODE on every connection first\n"
	    "  --idle N            open N connections, read the greetings, hold them\n"
	    "                      open idle for -d seconds; prints \"idle: N open\"\n"
	    "                      when all are open\n"
	    "  --values FILE       the values of {v}, one a line\n"
	    "  --seq-start N       the first {n} (default 1)\n"
	    "\n"
	    "REQUEST-LINE is sent as given (several words are joined by spaces);\n"
	    "{n} becomes a number of its own in each request, {v} a line of the\n"
	    "--values file (a different one each time, spread over the file),\n"
	    "e.g.  loadgen -c 16 -w 8 -d 10 PING\n"
	    "      loadgen -c 16 -u bench --event bench EVENT SHOW\n"
	    "      loadgen -c 32 --cert c.crt --event bench --values parties \\\n"
	    "          PARTICIPANT ADD 'party={v}' 'name=\"Bench {n}\"'\n");
	/* clang-format on */
}

static void lg_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
lg_fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
lg_xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n)) == NULL)
		lg_fatal("out of memory");
	return (p);
}

static uint64_t
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static int
lg_int_arg(const char *s, const char *what, int min, int max)
{
	char *ep;
	long  n;

	errno = 0;
	n = strtol(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || ep == s || n < min || n > max)
		lg_fatal("%s: \"%s\" is not a number from %d to %d", what, s,
		    min, max);
	return ((int)n);
}

/* A value quoted for the wire when it must be (PROTOCOL.md section 2). */
static char *
lg_quote(const char *v)
{
	const char *p;
	char	   *out, *o;
	int	    bare = *v != '\0';

	for (p = v; *p != '\0'; p++) {
		if (*p == ' ' || *p == '"' || *p == '\\' || *p == '=' ||
		    (unsigned char)*p < 0x20 || *p == 0x7f)
			bare = 0;
		if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' &&
			*p != '\r') ||
		    *p == 0x7f)
			lg_fatal("a control character cannot be sent in a "
				 "value");
	}
	if (bare)
		return (strdup(v));
	o = out = lg_xmalloc(2 * strlen(v) + 3);
	*o++ = '"';
	for (p = v; *p != '\0'; p++) {
		switch (*p) {
		case '"':
		case '\\':
			*o++ = '\\';
			*o++ = *p;
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		default:
			*o++ = *p;
		}
	}
	*o++ = '"';
	*o = '\0';
	return (out);
}

static void
lg_ssl_error(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char	      msg[200] = "";

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof msg);
	else if (errno != 0)
		snprintf(msg, sizeof msg, "%s", strerror(errno));
	else
		snprintf(msg, sizeof msg, "connection closed");
	ERR_clear_error();
	snprintf(buf, len, "%s: %s", what, msg);
}

static void lg_note_error(struct lg_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the first error a worker saw, for the report. */
static void
lg_note_error(struct lg_worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->first_err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->first_err, sizeof w->first_err, fmt, ap);
	va_end(ap);
}

static void
lg_close(struct lg_conn *c)
{
	if (c->state == LG_CLOSED)
		return;
	if (c->ssl != NULL) {
		if (c->state >= LG_SETUP)
			(void)SSL_shutdown(c->ssl); /* close_notify, once */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = LG_CLOSED;
	ERR_clear_error();
}

/* A connection failed or was closed by the server. */
static void
lg_lost(struct lg_worker *w, struct lg_conn *c, const char *why)
{
	if (c->state == LG_CLOSED)
		return;
	lg_note_error(w, "%s", why);
	if (c->state < LG_READY)
		atomic_fetch_add(&lg_failed, 1);
	else {
		w->lost++;
		w->errors += c->scount; /* requests never answered */
		c->scount = 0;
	}
	lg_close(c);
}

static void
lg_append(struct lg_conn *c, const char *s, size_t len)
{
	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + len > c->wcap) {
		if (c->woff > 0) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		if (c->wlen + len > c->wcap) {
			c->wcap = (c->wlen + len) * 2;
			if ((c->wbuf = realloc(c->wbuf, c->wcap)) == NULL)
				lg_fatal("out of memory");
		}
	}
	memcpy(c->wbuf + c->wlen, s, len);
	c->wlen += len;
}

/* Append the request with {n} and {v} replaced. */
static void
lg_append_templated(struct lg_conn *c)
{
	unsigned long long n = atomic_fetch_add(&lg_seq, 1);
	const char	  *p = opt.request, *q;
	char		   num[32];
	size_t		   k;

	while ((q = strchr(p, '{')) != NULL) {
		lg_append(c, p, (size_t)(q - p));
		if (strncmp(q, "{n}", 3) == 0) {
			k = (size_t)snprintf(num, sizeof num, "%llu", n);
			lg_append(c, num, k);
			p = q + 3;
		} else if (strncmp(q, "{v}", 3) == 0 && lg_nvalues > 0) {
			/* a multiplicative hash: neighbours far apart */
			k = (size_t)((n * 2654435761ULL) % lg_nvalues);
			lg_append(c, lg_values[k], strlen(lg_values[k]));
			p = q + 3;
		} else {
			lg_append(c, q, 1);
			p = q + 1;
		}
	}
	lg_append(c, p, strlen(p));
}

/* The lines of the --values file. */
static void
lg_read_values(const char *path)
{
	FILE   *f;
	char   *line = NULL;
	size_t	cap = 0, alloc = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL)
		lg_fatal("%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (lg_nvalues == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			lg_values = realloc(lg_values,
			    alloc * sizeof *lg_values);
			if (lg_values == NULL)
				lg_fatal("out of memory");
		}
		if ((lg_values[lg_nvalues++] = strdup(line)) == NULL)
			lg_fatal("out of memory");
	}
	free(line);
	fclose(f);
	if (lg_nvalues == 0)
		lg_fatal("%s: no values", path);
}

/* Queue one copy of the request and note when. */
static void
lg_send_request(struct lg_conn *c, uint64_t now)
{
	if (opt.templated)
		lg_append_templated(c);
	else
		lg_append(c, opt.request, opt.request_len);
	c->sent[(c->shead + c->scount) % c->scap] = now;
	c->scount++;
}

static void
lg_record(struct lg_worker *w, uint64_t ns)
{
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 65536;
		if ((w->lat = realloc(w->lat, w->caplat * sizeof *w->lat)) ==
		    NULL)
			lg_fatal("out of memory");
	}
	w->lat[w->nlat++] = ns;
}

/* One final line arrived on c. Returns -1 when c was closed. */
static int
lg_final(struct lg_worker *w, struct lg_conn *c, const char *line, int ok)
{
	uint64_t now, t;

	switch (c->state) {
	case LG_SETUP:
		if (!ok) {
			char why[300];

			snprintf(why, sizeof why, "%s: %.200s", c->setup_step,
			    line);
			lg_lost(w, c, why);
			return (-1);
		}
		if (--c->setup_left == 0) {
			c->state = LG_READY;
			atomic_fetch_add(&lg_ready, 1);
		} else if (c->setup_step[0] == 'g')
			c->setup_step = lg_login != NULL ? "LOGIN" : "USE";
		else {
			/* USE only once LOGIN has answered: a request is
			 * checked against the session it was read in */
			c->setup_step = "USE";
			lg_append(c, lg_use, strlen(lg_use));
		}
		return (0);
	case LG_RUNNING:
	case LG_DRAINING:
		if (c->scount == 0) {
			lg_lost(w, c, "a reply to no request");
			return (-1);
		}
		now = lg_now();
		t = c->sent[c->shead];
		c->shead = (c->shead + 1) % c->scap;
		c->scount--;
		if (now <= lg_end_ns) {
			w->replies++;
			if (!ok) {
				w->errors++;
				lg_note_error(w, "%.200s", line);
			}
			lg_record(w, now - t);
			if (c->state == LG_RUNNING && opt.rate == 0)
				lg_send_request(c, now);
		} else
			c->state = LG_DRAINING;
		if (c->state == LG_DRAINING && c->scount == 0)
			lg_close(c);
		return (0);
	default:
		/* an idle connection got an unasked reply: the server is
		 * telling us something (a timeout, a shutdown) */
		if (!ok)
			lg_note_error(w, "%.200s", line);
		return (0);
	}
}

/* Cut the buffered input into lines and act on the final ones. */
static int
lg_lines(struct lg_worker *w, struct lg_conn *c)
{
	char  *p = c->rbuf, *end = c->rbuf + c->rlen, *nl;
	size_t len;
	int    ok;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		p[len] = '\0';
		ok = len >= 2 && p[0] == 'O' && p[1] == 'K' &&
		    (len == 2 || p[2] == ' ');
		if (ok || (len >= 4 && memcmp(p, "ERR ", 4) == 0) ||
		    (len == 3 && memcmp(p, "ERR", 3) == 0)) {
			if (lg_final(w, c, p, ok) == -1)
				return (-1);
		}
		p = nl + 1;
	}
	c->rlen = (size_t)(end - p);
	if (c->rlen > 0 && p != c->rbuf)
		memmove(c->rbuf, p, c->rlen);
	return (0);
}

/* Read all TLS has for us. -1 when the connection was closed. */
static int
lg_read(struct lg_worker *w, struct lg_conn *c)
{
	char why[300];
	int  n, e;

	for (;;) {
		if (c->rcap - c->rlen < LG_READ_CHUNK) {
			c->rcap = c->rlen + 2 * LG_READ_CHUNK;
			if ((c->rbuf = realloc(c->rbuf, c->rcap)) == NULL)
				lg_fatal("out of memory");
		}
		errno = 0;
		n = SSL_read(c->ssl, c->rbuf + c->rlen,
		    (int)(c->rcap - c->rlen));
		if (n > 0) {
			c->rlen += (size_t)n;
			if (lg_lines(w, c) == -1 || c->state == LG_CLOSED)
				return (-1);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return (0);
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = 1;
			return (0);
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			snprintf(why, sizeof why,
			    "the server closed the "
			    "connection");
		else
			lg_ssl_error(why, sizeof why, "read");
		lg_lost(w, c, why);
		return (-1);
	}
}

/* Write what is queued. -1 when the connection was closed. */
static int
lg_flush(struct lg_worker *w, struct lg_conn *c)
{
	char why[300];
	int  n, e;

	c->want_write = 0;
	while (c->woff < c->wlen) {
		errno = 0;
		n = SSL_write(c->ssl, c->wbuf + c->woff,
		    (int)(c->wlen - c->woff));
		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE) {
			c->want_write = 1;
			return (0);
		}
		if (e == SSL_ERROR_WANT_READ)
			return (0);
		lg_ssl_error(why, sizeof why, "write");
		lg_lost(w, c, why);
		return (-1);
	}
	c->woff = c->wlen = 0;
	return (0);
}

static int
lg_start_tls(struct lg_worker *w, struct lg_conn *c)
{
	char	  why[300];
	int	  err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, sizeof why, "connect to %s port %s: %s", opt.host,
		    opt.port, strerror(err));
		lg_lost(w, c, why);
		return (-1);
	}
	if ((c->ssl = SSL_new(w->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		lg_fatal("SSL_new failed");
	if (lg_host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
			opt.host) != 1)
			lg_fatal("cannot check the address %s", opt.host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, opt.host);
		if (SSL_set1_host(c->ssl, opt.host) != 1)
			lg_fatal("cannot check the name %s", opt.host);
	}
	c->state = LG_HANDSHAKE;
	return (0);
}

static int
lg_handshake(struct lg_worker *w, struct lg_conn *c)
{
	char why[300];
	int  n, e;
	long v;

	errno = 0;
	if ((n = SSL_connect(c->ssl)) == 1) {
		c->state = LG_SETUP;
		c->setup_step = "greeting";
		c->setup_left = 1;
		/* the first request may go before the greeting arrives */
		if (lg_login != NULL) {
			lg_append(c, lg_login, strlen(lg_login));
			c->setup_left++;
		}
		if (lg_use != NULL) {
			if (lg_login == NULL)
				lg_append(c, lg_use, strlen(lg_use));
			c->setup_left++;
		}
		return (0);
	}
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return (1);
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = 1;
		return (1);
	}
	if ((v = SSL_get_verify_result(c->ssl)) != X509_V_OK)
		snprintf(why, sizeof why, "TLS handshake: certificate: %s",
		    X509_verify_cert_error_string(v));
	else
		lg_ssl_error(why, sizeof why, "TLS handshake");
	lg_lost(w, c, why);
	return (-1);
}

/* Everything a connection can do now, without blocking. */
static void
lg_service(struct lg_worker *w, struct lg_conn *c)
{
	if (c->state == LG_CONNECTING) {
		if (lg_start_tls(w, c) == -1)
			return;
	}
	if (c->state == LG_HANDSHAKE) {
		if (lg_handshake(w, c) != 0)
			return;
	}
	if (c->wlen > c->woff && lg_flush(w, c) == -1)
		return;
	if (lg_read(w, c) == -1)
		return;
	if (c->wlen > c->woff)
		(void)lg_flush(w, c);
}

static int
lg_open(struct lg_worker *w, struct lg_conn *c)
{
	int one = 1;

	memset(c, 0, sizeof *c);
	c->scap = (size_t)opt.window;
	c->sent = lg_xmalloc(c->scap * sizeof *c->sent);
	c->state = LG_CONNECTING;
	c->fd = socket(lg_addr->ai_family,
	    lg_addr->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    lg_addr->ai_protocol);
	if (c->fd == -1) {
		char why[300];

		snprintf(why, sizeof why, "socket: %s", strerror(errno));
		lg_lost(w, c, why);
		return (-1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, lg_addr->ai_addr, lg_addr->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		char why[300];

		snprintf(why, sizeof why, "connect to %s port %s: %s", opt.host,
		    opt.port, strerror(errno));
		lg_lost(w, c, why);
		return (-1);
	}
	return (0);
}

/* Send the first window of requests on every ready connection; with
 * --rate, set when each one's first request is due instead (spread over
 * one period, the threads' connections interleaved). */
static void
lg_begin(struct lg_worker *w, int nth)
{
	uint64_t now = lg_now();
	int	 i, j;

	for (i = 0; i < w->nconns; i++) {
		struct lg_conn *c = &w->conns[i];

		if (c->state != LG_READY)
			continue;
		if (opt.idle > 0)
			continue;
		c->state = LG_RUNNING;
		if (opt.rate > 0) {
			c->next_ns = now +
			    opt.period_ns * (uint64_t)(i * opt.threads + nth) /
				(uint64_t)(w->nconns * opt.threads);
			continue;
		}
		for (j = 0; j < opt.window; j++)
			lg_send_request(c, now);
		(void)lg_flush(w, c);
	}
}

/* --rate: send the requests that are due and have a place in the window;
 * returns the milliseconds until the next one is due (at most cap). */
static int
lg_pace(struct lg_worker *w, uint64_t now, int cap)
{
	uint64_t next = UINT64_MAX;
	int	 i, sent;

	for (i = 0; i < w->nconns; i++) {
		struct lg_conn *c = &w->conns[i];

		if (c->state != LG_RUNNING)
			continue;
		sent = 0;
		while (c->next_ns <= now && c->scount < (size_t)opt.window) {
			lg_send_request(c, c->next_ns);
			c->next_ns += opt.period_ns;
			sent = 1;
		}
		if (sent && lg_flush(w, c) == -1)
			continue;
		if (c->scount < (size_t)opt.window && c->next_ns < next)
			next = c->next_ns;
	}
	if (next == UINT64_MAX || next <= now)
		return (next == UINT64_MAX ? cap : 0);
	return ((next - now) / 1000000ULL < (uint64_t)cap ?
		(int)((next - now) / 1000000ULL) :
		cap);
}

static void *
lg_worker_main(void *arg)
{
	struct lg_worker *w = arg;
	uint64_t	  now, drain_end = 0;
	int		  i, n, timeout, go, begun = 0, live;

	for (i = 0; i < w->nconns; i++)
		lg_open(w, &w->conns[i]);
	for (;;) {
		go = atomic_load(&lg_go);
		if (go == 2)
			break;
		now = lg_now();
		if (go == 1 && !begun) {
			begun = 1;
			lg_begin(w, w->index);
		}
		if (begun && now > lg_end_ns) {
			if (drain_end == 0) {
				drain_end = now +
				    LG_DRAIN_SECONDS * 1000000000ULL;
				for (i = 0; i < w->nconns; i++) {
					struct lg_conn *c = &w->conns[i];

					if (c->state == LG_RUNNING)
						c->state = LG_DRAINING;
					if (c->state == LG_READY ||
					    (c->state == LG_DRAINING &&
						c->scount == 0))
						lg_close(c);
				}
			}
			if (now > drain_end)
				break;
		}
		live = 0;
		for (i = 0; i < w->nconns; i++) {
			struct lg_conn *c = &w->conns[i];
			short		ev;

			if (c->state == LG_CLOSED)
				continue;
			if (c->state == LG_CONNECTING)
				ev = POLLOUT;
			else
				ev = POLLIN | (c->want_write ? POLLOUT : 0);
			w->pfd[live].fd = c->fd;
			w->pfd[live].events = ev;
			w->pfd[live].revents = 0;
			w->pidx[live++] = i;
		}
		if (live == 0 && begun)
			break;
		if (!begun)
			timeout = 10;
		else {
			uint64_t until = now <= lg_end_ns ?
			    lg_end_ns :
			    drain_end;

			timeout = (int)((until - now) / 1000000ULL) + 1;
			if (timeout > 100)
				timeout = 100;
			if (opt.rate > 0 && now <= lg_end_ns)
				timeout = lg_pace(w, now, timeout);
		}
		n = poll(w->pfd, (nfds_t)live, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			lg_fatal("poll: %s", strerror(errno));
		}
		for (i = 0; i < live && n > 0; i++) {
			if (w->pfd[i].revents == 0)
				continue;
			n--;
			lg_service(w, &w->conns[w->pidx[i]]);
		}
	}
	for (i = 0; i < w->nconns; i++) {
		struct lg_conn *c = &w->conns[i];

		if (c->state == LG_DRAINING)
			w->errors += c->scount; /* never answered */
		lg_close(c);
		free(c->rbuf);
		free(c->wbuf);
		free(c->sent);
	}
	return (NULL);
}

static int
lg_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static double
lg_ms(uint64_t ns)
{
	return ((double)ns / 1e6);
}

static void
lg_raise_nofile(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= (rlim_t)need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		rl.rlim_max >= (rlim_t)need ?
	    (rlim_t)need :
	    rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < (rlim_t)need)
		fprintf(stderr,
		    "loadgen: warning: only %llu file descriptors "
		    "(ulimit -n); %d wanted\n",
		    (unsigned long long)rl.rlim_cur, need);
}

static SSL_CTX *
lg_tls_context(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		lg_fatal("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (opt.ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1) {
			char why[300];

			lg_ssl_error(why, sizeof why, opt.ca);
			lg_fatal("%s", why);
		}
	} else
		SSL_CTX_set_default_verify_paths(ctx);
	if (opt.cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, opt.cert) != 1 ||
		SSL_CTX_use_PrivateKey_file(ctx, opt.key ? opt.key : opt.cert,
		    SSL_FILETYPE_PEM) != 1)) {
		char why[300];

		lg_ssl_error(why, sizeof why, opt.cert);
		lg_fatal("%s", why);
	}
	return (ctx);
}

static void
lg_setup_session(void)
{
	const char *pw;
	char	   *qu, *qp, *qe;
	size_t	    len;

	if (opt.user != NULL) {
		if ((pw = getenv(opt.password_env)) == NULL || *pw == '\0')
			lg_fatal("-u %s: set the password in $%s", opt.user,
			    opt.password_env);
		qu = lg_quote(opt.user);
		qp = lg_quote(pw);
		len = strlen(qu) + strlen(qp) + 32;
		lg_login = lg_xmalloc(len);
		snprintf(lg_login, len, "LOGIN user=%s password=%s\n", qu, qp);
		free(qu);
		free(qp);
	}
	if (opt.event != NULL) {
		qe = lg_quote(opt.event);
		len = strlen(qe) + 16;
		lg_use = lg_xmalloc(len);
		snprintf(lg_use, len, "USE event=%s\n", qe);
		free(qe);
	}
}

static void
lg_parse_args(int argc, char **argv)
{
	enum {
		OPT_CA = 256,
		OPT_CERT,
		OPT_KEY,
		OPT_PASSWORD_ENV,
		OPT_EVENT,
		OPT_IDLE,
		OPT_VALUES,
		OPT_SEQ_START,
		OPT_RATE,
		OPT_START_AT,
		OPT_HELP
	};
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "conns", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-env", required_argument, NULL, OPT_PASSWORD_ENV },
		{ "event", required_argument, NULL, OPT_EVENT },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "values", required_argument, NULL, OPT_VALUES },
		{ "seq-start", required_argument, NULL, OPT_SEQ_START },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "start-at", required_argument, NULL, OPT_START_AT },
		{ "help", no_argument, NULL, OPT_HELP }, { NULL, 0, NULL, 0 }
	};
	char  *ep;
	size_t len;
	int    ch, i;

	opt.host = "127.0.0.1";
	opt.port = "7470";
	opt.conns = 1;
	opt.window = 1;
	opt.threads = 1;
	opt.secs = 10;
	opt.password_env = "ROSTER_PASSWORD";
	atomic_store(&lg_seq, 1);
	while ((ch = getopt_long(argc, argv, "+h:p:c:w:d:t:u:", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'h':
			opt.host = optarg;
			break;
		case 'p':
			lg_int_arg(optarg, "-p", 1, 65535);
			opt.port = optarg;
			break;
		case 'c':
			opt.conns = lg_int_arg(optarg, "-c", 1, 1000000);
			break;
		case 'w':
			opt.window = lg_int_arg(optarg, "-w", 1, 100000);
			break;
		case 'd':
			errno = 0;
			opt.secs = strtod(optarg, &ep);
			if (errno != 0 || *ep != '\0' || ep == optarg ||
			    !(opt.secs > 0 && opt.secs <= 86400))
				lg_fatal("-d: \"%s\" is not a number of "
					 "seconds (0 to 86400)",
				    optarg);
			break;
		case 't':
			opt.threads = lg_int_arg(optarg, "-t", 1,
			    LG_MAX_THREADS);
			break;
		case 'u':
			opt.user = optarg;
			break;
		case OPT_CA:
			opt.ca = optarg;
			break;
		case OPT_CERT:
			opt.cert = optarg;
			break;
		case OPT_KEY:
			opt.key = optarg;
			break;
		case OPT_PASSWORD_ENV:
			opt.password_env = optarg;
			break;
		case OPT_EVENT:
			opt.event = optarg;
			break;
		case OPT_IDLE:
			opt.idle = lg_int_arg(optarg, "--idle", 1, 1000000);
			break;
		case OPT_VALUES:
			opt.values_file = optarg;
			break;
		case OPT_SEQ_START:
			errno = 0;
			atomic_store(&lg_seq, strtoull(optarg, &ep, 10));
			if (errno != 0 || *ep != '\0' || ep == optarg)
				lg_fatal("--seq-start: \"%s\" is not a number",
				    optarg);
			break;
		case OPT_RATE:
			errno = 0;
			opt.rate = strtod(optarg, &ep);
			if (errno != 0 || *ep != '\0' || ep == optarg ||
			    !(opt.rate >= 0.01 && opt.rate <= 1e6))
				lg_fatal("--rate: \"%s\" is not a number of "
					 "requests a second (0.01 to 1000000)",
				    optarg);
			opt.period_ns = (uint64_t)(1e9 / opt.rate);
			break;
		case OPT_START_AT:
			errno = 0;
			opt.start_at = strtod(optarg, &ep);
			if (errno != 0 || *ep != '\0' || ep == optarg ||
			    !(opt.start_at > 0))
				lg_fatal(
				    "--start-at: \"%s\" is not a Unix time",
				    optarg);
			break;
		case OPT_HELP:
			lg_usage(stdout);
			exit(0);
		default:
			lg_usage(stderr);
			exit(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (opt.idle > 0) {
		if (argc != 0) {
			lg_usage(stderr);
			exit(2);
		}
		opt.conns = opt.idle;
		opt.window = 1;
		return;
	}
	if (argc == 0) {
		lg_usage(stderr);
		exit(2);
	}
	for (len = 1, i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	opt.request = lg_xmalloc(len + 1);
	opt.request[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (strpbrk(argv[i], "\r\n") != NULL)
			lg_fatal("the request line may not hold a line end");
		if (i > 0)
			strcat(opt.request, " ");
		strcat(opt.request, argv[i]);
	}
	strcat(opt.request, "\n");
	opt.request_len = strlen(opt.request);
	opt.templated = strstr(opt.request, "{n}") != NULL ||
	    strstr(opt.request, "{v}") != NULL;
	if (opt.values_file != NULL)
		lg_read_values(opt.values_file);
	else if (strstr(opt.request, "{v}") != NULL)
		lg_fatal("{v} needs --values FILE");
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
}

static void
lg_report(struct lg_worker *workers, int nworkers, uint64_t setup_ns)
{
	uint64_t    replies = 0, errors = 0, lost = 0, *all, max = 0;
	size_t	    nlat = 0, k;
	double	    p50 = 0, p99 = 0;
	int	    i;
	const char *label = opt.request;
	char	   *cut;

	for (i = 0; i < nworkers; i++) {
		replies += workers[i].replies;
		errors += workers[i].errors;
		lost += workers[i].lost;
		nlat += workers[i].nlat;
	}
	all = lg_xmalloc((nlat ? nlat : 1) * sizeof *all);
	for (k = 0, i = 0; i < nworkers; i++) {
		if (workers[i].nlat > 0)
			memcpy(all + k, workers[i].lat,
			    workers[i].nlat * sizeof *all);
		k += workers[i].nlat;
	}
	if (nlat > 0) {
		qsort(all, nlat, sizeof *all, lg_cmp);
		p50 = lg_ms(all[(nlat - 1) / 2]);
		p99 = lg_ms(all[(size_t)((double)(nlat - 1) * 0.99)]);
		max = all[nlat - 1];
	}
	free(all);
	if ((cut = strchr(opt.request, '\n')) != NULL)
		*cut = '\0';
	if (strchr(label, ' ') != NULL)
		printf("\"%s\"", label);
	else
		printf("%s", label);
	printf(" conns=%d window=%d secs=%g requests=%llu rps=%.1f errors=%llu"
	       " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
	    opt.conns, opt.window, opt.secs, (unsigned long long)replies,
	    (double)replies / opt.secs, (unsigned long long)(errors + lost),
	    p50, p99, lg_ms(max));
	if (opt.rate > 0)
		printf(" rate=%g", opt.rate);
	if (lost > 0)
		printf(" lost_conns=%llu", (unsigned long long)lost);
	printf(" setup_ms=%.0f\n", lg_ms(setup_ns));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct lg_worker *workers;
	struct addrinfo	  hints;
	struct in6_addr	  a6;
	struct in_addr	  a4;
	uint64_t	  t0, setup_ns;
	int		  i, rc, nw, per, extra, failed;
	size_t		  k;

	lg_parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	lg_raise_nofile(opt.conns + 64);
	lg_setup_session();
	lg_host_is_ip = inet_pton(AF_INET, opt.host, &a4) == 1 ||
	    inet_pton(AF_INET6, opt.host, &a6) == 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &lg_addr)) != 0)
		lg_fatal("%s: %s", opt.host, gai_strerror(rc));

	nw = opt.threads;
	workers = calloc((size_t)nw, sizeof *workers);
	if (workers == NULL)
		lg_fatal("out of memory");
	per = opt.conns / nw;
	extra = opt.conns % nw;
	t0 = lg_now();
	for (i = 0; i < nw; i++) {
		struct lg_worker *w = &workers[i];

		w->nconns = per + (i < extra);
		w->index = i;
		w->ctx = lg_tls_context();
		w->conns = calloc((size_t)w->nconns, sizeof *w->conns);
		w->pfd = calloc((size_t)w->nconns, sizeof *w->pfd);
		w->pidx = calloc((size_t)w->nconns, sizeof *w->pidx);
		if (w->conns == NULL || w->pfd == NULL || w->pidx == NULL)
			lg_fatal("out of memory");
		if ((rc = pthread_create(&w->thread, NULL, lg_worker_main,
			 w)) != 0)
			lg_fatal("pthread_create: %s", strerror(rc));
	}

	/* wait until every connection is ready or has failed */
	for (;;) {
		int done = atomic_load(&lg_ready) + atomic_load(&lg_failed);

		if (done >= opt.conns)
			break;
		if (lg_now() - t0 > LG_SETUP_SECONDS * 1000000000ULL) {
			fprintf(stderr,
			    "loadgen: only %d of %d connections "
			    "ready after %d s\n",
			    atomic_load(&lg_ready), opt.conns,
			    LG_SETUP_SECONDS);
			break;
		}
		usleep(2000);
	}
	setup_ns = lg_now() - t0;
	failed = opt.conns - atomic_load(&lg_ready);
	if (failed > 0 && opt.idle == 0) {
		atomic_store(&lg_go, 2);
		for (i = 0; i < nw; i++)
			pthread_join(workers[i].thread, NULL);
		for (i = 0; i < nw; i++)
			if (workers[i].first_err[0] != '\0') {
				fprintf(stderr, "loadgen: %s\n",
				    workers[i].first_err);
				break;
			}
		lg_fatal("%d of %d connections failed to set up", failed,
		    opt.conns);
	}
	if (opt.start_at > 0) {
		struct timespec ts;
		double		left;

		clock_gettime(CLOCK_REALTIME, &ts);
		left = opt.start_at - ((double)ts.tv_sec + ts.tv_nsec / 1e9);
		if (left > 0) {
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		} else
			fprintf(stderr,
			    "loadgen: set up %.1f s after "
			    "--start-at\n",
			    -left);
	}
	lg_start_ns = lg_now();
	lg_end_ns = lg_start_ns + (uint64_t)(opt.secs * 1e9);
	atomic_store(&lg_go, 1);
	if (opt.idle > 0) {
		printf("idle: %d open, %d failed, setup_ms=%.0f\n",
		    atomic_load(&lg_ready), failed, lg_ms(setup_ns));
		fflush(stdout);
	}
	for (i = 0; i < nw; i++)
		pthread_join(workers[i].thread, NULL);

	for (i = 0; i < nw; i++)
		if (workers[i].first_err[0] != '\0') {
			fprintf(stderr, "loadgen: first error: %s\n",
			    workers[i].first_err);
			break;
		}
	if (opt.idle > 0) {
		uint64_t lost = 0;

		for (i = 0; i < nw; i++)
			lost += workers[i].lost;
		printf("IDLE conns=%d open=%d secs=%g failed=%d "
		       "closed_by_server=%llu setup_ms=%.0f\n",
		    opt.idle, atomic_load(&lg_ready), opt.secs, failed,
		    (unsigned long long)lost, lg_ms(setup_ns));
		rc = failed > 0 || lost > 0;
	} else {
		uint64_t lost = 0;

		for (i = 0; i < nw; i++)
			lost += workers[i].lost;
		lg_report(workers, nw, setup_ns);
		rc = lost > 0; /* the figures are suspect */
	}
	for (i = 0; i < nw; i++) {
		free(workers[i].conns);
		free(workers[i].pfd);
		free(workers[i].pidx);
		free(workers[i].lat);
		SSL_CTX_free(workers[i].ctx);
	}
	free(workers);
	freeaddrinfo(lg_addr);
	free(opt.request);
	for (k = 0; k < lg_nvalues; k++)
		free(lg_values[k]);
	free(lg_values);
	free(lg_login);
	free(lg_use);
	return (rc);
}
