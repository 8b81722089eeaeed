/*
 * net.c -- the CLI's TLS connection: connect to host:port (IPv4 or IPv6)
 * with a deadline, verify the server's certificate and name, then read
 * lines and write requests.
 *
 * The socket is non-blocking underneath a blocking interface: every call
 * waits with poll() until it can return, which gives deadlines, lets a
 * signal interrupt a wait, and lets a writer read at the same time, so that
 * many pipelined requests never deadlock against the replies.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "roster.h"

#define NET_INBUF_MIN 16384

static void
net_seterr(struct net_conn *c, const char *fmt, const char *a, const char *b)
{
	snprintf(c->err, sizeof c->err, fmt, a, b);
}

/* OpenSSL's first queued error after what, then clear the queue. */
static void
net_sslerr(struct net_conn *c, const char *what)
{
	unsigned long e;
	char	      buf[256] = "";

	if ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	snprintf(c->err, sizeof c->err, "%s%s%s", what, buf[0] ? ": " : "",
	    buf);
}

static long long
net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait for events on the socket until the deadline (-1: none). Returns 0
 * when ready, else NET_TIMEOUT, NET_INTR or NET_ERROR. */
static int
net_wait(struct net_conn *c, int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long     left;
	int	      n;

	for (;;) {
		if (c->intr != NULL && *c->intr)
			return (NET_INTR);
		left = -1;
		if (deadline >= 0) {
			left = deadline - net_now();
			if (left <= 0) {
				snprintf(c->err, sizeof c->err,
				    "timed out waiting for the server");
				return (NET_TIMEOUT);
			}
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (n > 0)
			return (0);
		if (n == -1 && errno != EINTR) {
			snprintf(c->err, sizeof c->err, "poll: %s",
			    strerror(errno));
			return (NET_ERROR);
		}
	}
}

/* Connect a non-blocking socket to the first address that answers. */
static int
net_dial(struct net_conn *c, const char *host, const char *port,
    long long deadline)
{
	struct addrinfo hints, *res, *ai;
	char		why[256] = "no address";
	socklen_t	len;
	int		fd, e, one = 1, rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		net_seterr(c, "%s: %s", host, gai_strerror(e));
		return (-1);
	}
	fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			snprintf(why, sizeof why, "%s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			rv = net_wait(c, fd, POLLOUT, deadline);
			if (rv == NET_INTR) {
				close(fd);
				freeaddrinfo(res);
				snprintf(c->err, sizeof c->err, "interrupted");
				return (-1);
			}
			e = ETIMEDOUT;
			len = sizeof e;
			if (rv == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) ==
				0 &&
			    e == 0)
				break;
			errno = e;
		}
		snprintf(why, sizeof why, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(c->err, sizeof c->err, "connect to %s port %s: %s",
		    host, port, why);
		return (-1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return (fd);
}

/* Trust anchors: a CA file or directory, else the system's store. */
static int
net_load_ca(struct net_conn *c, const char *ca)
{
	struct stat st;
	char	    what[300];
	int	    ok;

	if (ca == NULL) {
		if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			net_sslerr(c, "loading the system's CA store");
			return (-1);
		}
		return (0);
	}
	if (stat(ca, &st) == -1) {
		net_seterr(c, "%s: %s", ca, strerror(errno));
		return (-1);
	}
	if (S_ISDIR(st.st_mode))
		ok = SSL_CTX_load_verify_locations(c->ctx, NULL, ca);
	else
		ok = SSL_CTX_load_verify_locations(c->ctx, ca, NULL);
	if (ok != 1) {
		snprintf(what, sizeof what, "CA %s", ca);
		net_sslerr(c, what);
		return (-1);
	}
	return (0);
}

static int
net_make_ctx(struct net_conn *c, const struct net_params *p)
{
	char what[300];

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		net_sslerr(c, "SSL_CTX_new");
		return (-1);
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(c->ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (net_load_ca(c, p->ca) == -1)
		return (-1);
	if (p->cert == NULL)
		return (0);
	if (SSL_CTX_use_certificate_chain_file(c->ctx, p->cert) != 1) {
		snprintf(what, sizeof what, "certificate %s", p->cert);
		net_sslerr(c, what);
		return (-1);
	}
	if (SSL_CTX_use_PrivateKey_file(c->ctx,
		p->key != NULL ? p->key : p->cert, SSL_FILETYPE_PEM) != 1) {
		if (p->key != NULL)
			snprintf(what, sizeof what, "key %s", p->key);
		else
			snprintf(what, sizeof what,
			    "no key in %s (--key "
			    "FILE)",
			    p->cert);
		net_sslerr(c, what);
		return (-1);
	}
	if (SSL_CTX_check_private_key(c->ctx) != 1) {
		net_sslerr(c, "the key does not match the certificate");
		return (-1);
	}
	return (0);
}

/* Ask for the server's name in the certificate: an IP address for an IP
 * literal, else a DNS name (also sent as SNI). */
static int
net_set_peer(struct net_conn *c, const char *host)
{
	struct in6_addr a6;
	struct in_addr	a4;

	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
			host) != 1) {
			net_sslerr(c, "X509_VERIFY_PARAM_set1_ip_asc");
			return (-1);
		}
		return (0);
	}
	if (SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    SSL_set1_host(c->ssl, host) != 1) {
		net_sslerr(c, "SSL_set1_host");
		return (-1);
	}
	return (0);
}

static int
net_handshake(struct net_conn *c, const char *host, long long deadline)
{
	char what[300];
	long v;
	int  r, e, rv;

	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(c->ssl)) == 1)
			return (0);
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			rv = net_wait(c, c->fd,
			    e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    deadline);
			if (rv == NET_TIMEOUT)
				snprintf(c->err, sizeof c->err,
				    "TLS handshake "
				    "with %s: timed out",
				    host);
			if (rv != 0)
				return (-1);
			continue;
		}
		break;
	}
	if ((v = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
		ERR_clear_error();
		snprintf(c->err, sizeof c->err,
		    "TLS: the certificate of %s "
		    "did not verify: %s",
		    host, X509_verify_cert_error_string(v));
	} else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(c->err, sizeof c->err, "TLS handshake with %s: %s",
		    host,
		    errno != 0 ? strerror(errno) :
				 "connection closed by the server");
	else {
		snprintf(what, sizeof what, "TLS handshake with %s", host);
		net_sslerr(c, what);
	}
	return (-1);
}

/* Connect, handshake and verify. On error, c->err says why and the
 * connection is closed. */
int
net_open(struct net_conn *c, const struct net_params *p)
{
	char	  host[256];
	size_t	  len;
	long long deadline;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->timeout = ROSTER_REPLY_TIMEOUT;
	proto_buf_init(&c->out);
	/* Accept "[::1]" as well as "::1". */
	len = strlen(p->host);
	if (len >= 2 && p->host[0] == '[' && p->host[len - 1] == ']')
		snprintf(host, sizeof host, "%.*s", (int)len - 2, p->host + 1);
	else
		snprintf(host, sizeof host, "%s", p->host);

	deadline = net_now() +
	    (p->timeout > 0 ? p->timeout : ROSTER_CONNECT_TIMEOUT);
	if (net_make_ctx(c, p) == -1)
		goto fail;
	if ((c->fd = net_dial(c, host, p->port, deadline)) == -1)
		goto fail;
	if ((c->ssl = SSL_new(c->ctx)) == NULL) {
		net_sslerr(c, "SSL_new");
		goto fail;
	}
	if (SSL_set_fd(c->ssl, c->fd) != 1) {
		net_sslerr(c, "SSL_set_fd");
		goto fail;
	}
	if (net_set_peer(c, host) == -1)
		goto fail;
	if (net_handshake(c, host, deadline) == -1)
		goto fail;
	c->incap = NET_INBUF_MIN;
	if ((c->in = malloc(c->incap)) == NULL) {
		snprintf(c->err, sizeof c->err, "out of memory");
		goto fail;
	}
	return (0);
fail:
	net_close(c);
	return (-1);
}

void
net_close(struct net_conn *c)
{
	if (c->ssl != NULL) {
		if (c->fd != -1 && !c->eof)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	free(c->in);
	if (c->out.data != NULL)
		explicit_bzero(c->out.data, c->out.cap);
	proto_buf_free(&c->out);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
	c->in = NULL;
	c->inoff = c->inlen = c->incap = c->scan = 0;
	c->outoff = 0;
}

/* Append a request and its LF to the output; it is written by the next
 * net_flush or net_read_line. */
void
net_queue(struct net_conn *c, const char *line, size_t len)
{
	proto_buf_add(&c->out, line, len);
	proto_buf_addch(&c->out, '\n');
}

/* Room for more input: move unread bytes to the front, grow up to the line
 * limit. 0 when there is no room. */
static size_t
net_inroom(struct net_conn *c)
{
	size_t ncap;
	char  *p;

	if (c->inoff > 0 &&
	    (c->inoff == c->inlen || c->incap - c->inlen < c->incap / 4)) {
		memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
		c->inlen -= c->inoff;
		c->scan -= c->inoff;
		c->inoff = 0;
	}
	if (c->inlen == c->incap && c->incap < NET_MAX_LINE + 1) {
		ncap = c->incap * 2;
		if (ncap > NET_MAX_LINE + 1)
			ncap = NET_MAX_LINE + 1;
		if ((p = realloc(c->in, ncap)) != NULL) {
			c->in = p;
			c->incap = ncap;
		}
	}
	return (c->incap - c->inlen);
}

/*
 * One round of I/O: write what is queued, read what has arrived; when
 * neither moved, wait until the socket is ready or the deadline passes.
 * Returns 0, with *moved set when bytes moved, else a NET_* status.
 */
static int
net_step(struct net_conn *c, long long deadline, int *moved)
{
	short  events = 0;
	size_t room = 0, want;
	int    n, e;

	*moved = 0;
	if (c->out.len > c->outoff) {
		ERR_clear_error();
		want = c->out.len - c->outoff;
		if (want > INT_MAX)
			want = INT_MAX;
		n = SSL_write(c->ssl, c->out.data + c->outoff, (int)want);
		if (n > 0) {
			c->outoff += n;
			if (c->outoff == c->out.len) {
				explicit_bzero(c->out.data, c->out.len);
				proto_buf_reset(&c->out);
				c->outoff = 0;
			}
			*moved = 1;
		} else {
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				events |= POLLIN;
			else if (e == SSL_ERROR_WANT_WRITE)
				events |= POLLOUT;
			else if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SYSCALL &&
				(errno == EPIPE || errno == ECONNRESET))) {
				ERR_clear_error();
				snprintf(c->err, sizeof c->err,
				    "connection closed by the server");
				c->eof = 1;
				return (NET_EOF);
			} else {
				net_sslerr(c, "TLS write");
				return (NET_ERROR);
			}
		}
	}
	if (!c->eof && (room = net_inroom(c)) > 0) {
		ERR_clear_error();
		n = SSL_read(c->ssl, c->in + c->inlen, (int)room);
		if (n > 0) {
			c->inlen += n;
			*moved = 1;
		} else {
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				events |= POLLIN;
			else if (e == SSL_ERROR_WANT_WRITE)
				events |= POLLOUT;
			else if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
				/* A close without close_notify is an end too:
				 * replies are framed by lines. */
				ERR_clear_error();
				c->eof = 1;
				return (NET_EOF);
			} else {
				net_sslerr(c, "TLS read");
				return (NET_ERROR);
			}
		}
	}
	if (*moved)
		return (0);
	if (events == 0) {
		snprintf(c->err, sizeof c->err, "input buffer full");
		return (NET_ERROR);
	}
	return (net_wait(c, c->fd, events, deadline));
}

static long long
net_deadline(const struct net_conn *c)
{
	return (c->timeout < 0 ? -1 : net_now() + c->timeout);
}

/* Write everything queued (reading replies into the buffer meanwhile). */
int
net_flush(struct net_conn *c)
{
	long long deadline = net_deadline(c);
	int	  rv, moved;

	while (c->out.len > c->outoff) {
		if (c->eof) {
			snprintf(c->err, sizeof c->err,
			    "connection closed by the server");
			return (NET_EOF);
		}
		if ((rv = net_step(c, deadline, &moved)) != 0)
			return (rv);
		if (moved)
			deadline = net_deadline(c);
	}
	return (NET_DONE);
}

/*
 * Read one line; *line points into the buffer, NUL-terminated, without its
 * LF or CR, and stays valid until the next call. Queued output is written
 * meanwhile. The timeout counts silence, not the whole wait.
 */
int
net_read_line(struct net_conn *c, char **line, size_t *len)
{
	long long deadline = net_deadline(c);
	char	 *p, *nl;
	size_t	  n;
	int	  rv, moved;

	for (;;) {
		nl = memchr(c->in + c->scan, '\n', c->inlen - c->scan);
		if (nl != NULL) {
			p = c->in + c->inoff;
			n = nl - p;
			*nl = '\0';
			if (n > 0 && p[n - 1] == '\r')
				p[--n] = '\0';
			c->inoff = c->scan = nl + 1 - c->in;
			*line = p;
			*len = n;
			return (NET_LINE);
		}
		c->scan = c->inlen;
		if (c->inlen - c->inoff > NET_MAX_LINE) {
			snprintf(c->err, sizeof c->err,
			    "the server sent a "
			    "line longer than %d bytes",
			    NET_MAX_LINE);
			return (NET_ERROR);
		}
		if (c->eof) {
			if (c->inlen > c->inoff)
				snprintf(c->err, sizeof c->err,
				    "connection "
				    "closed in the middle of a line");
			else
				snprintf(c->err, sizeof c->err,
				    "connection "
				    "closed by the server");
			return (NET_EOF);
		}
		rv = net_step(c, deadline, &moved);
		if (rv == NET_EOF)
			continue; /* report it above, after any line */
		if (rv != 0)
			return (rv);
		if (moved)
			deadline = net_deadline(c);
	}
}
