/*
 * server.c -- the listening sockets, signals (SIGHUP reload, SIGTERM and
 * SIGINT drain), the once-a-second sweep, dropping root, and the loop.
 */
#include <sys/socket.h>

#include <errno.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "rosterd.h"

#define SERVER_DRAIN_SECONDS  10
#define SERVER_CANCEL_SECONDS 5 /* for cancelled statements to end */
#define SERVER_MMAP_THRESHOLD (128 * 1024)

struct rosterd		     *rd;
static struct evconnlistener *server_listeners[2 * ROSTERD_MAX_LISTEN];
static int		      server_nlisteners;
static struct event	     *server_sweep_ev;
static struct event	     *server_drain_ev;
static struct event	     *server_sig_ev[3];

/*
 * The event loop. libevent batches its epoll changes (the changelist) and
 * makes them once per loop iteration, so that a write event added and
 * removed within one iteration costs no epoll_ctl: that is every reply
 * conn.c writes at once (two epoll_ctl per request without it). libevent
 * documents the changelist as unsafe when a watched descriptor has been
 * cloned by dup(); rosterd watches none (daemon() puts /dev/null on 0-2
 * before the loop exists; libpq, OpenSSL and libevent dup nothing).
 */
struct event_base *
server_base_new(void)
{
	struct event_config *ec;
	struct event_base   *base;

	if ((ec = event_config_new()) == NULL)
		return (NULL);
	if (event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) ==
	    -1) {
		event_config_free(ec);
		return (NULL);
	}
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return (base);
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	conn_accept(fd, sa, (socklen_t)salen, arg);
}

static void
server_reenable_cb(evutil_socket_t fd, short what, void *arg)
{
	if (!rd->draining)
		evconnlistener_enable(arg);
}

static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	log_warnx("accept: %s", evutil_socket_error_to_string(e));
	/* out of descriptors: stop accepting for a second */
	if (e == EMFILE || e == ENFILE) {
		struct timeval tv = { 1, 0 };

		evconnlistener_disable(l);
		event_base_once(rd->base, -1, EV_TIMEOUT, server_reenable_cb, l,
		    &tv);
	}
}

/* Bind the addresses of one face (NULL: the line protocol). */
static int
server_listen_face(char *const *addrs, int n, const char *what,
    const struct conn_face *face)
{
	struct sockaddr_storage ss;
	socklen_t		sslen;
	struct evconnlistener  *l;
	int			i;

	for (i = 0; i < n; i++) {
		if (config_parse_addr(addrs[i], &ss, &sslen) == -1) {
			log_error("%s %s: bad address", what, addrs[i]);
			return (-1);
		}
		l = evconnlistener_new_bind(rd->base, server_accept_cb,
		    (void *)face,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
			LEV_OPT_REUSEABLE |
			(ss.ss_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
		    511, (struct sockaddr *)&ss, (int)sslen);
		if (l == NULL) {
			log_error("%s %s: %s", what, addrs[i], strerror(errno));
			return (-1);
		}
		evconnlistener_set_error_cb(l, server_accept_error_cb);
		server_listeners[server_nlisteners++] = l;
		log_notice("listening on %s%s", addrs[i],
		    face != NULL ? " (https)" : "");
	}
	return (0);
}

/* Bind every configured address; 0, or -1 after logging why. */
int
server_listen(void)
{
	if (server_listen_face(rd->cfg->listen, rd->cfg->nlisten, "listen",
		NULL) == -1)
		return (-1);
	return (server_listen_face(rd->cfg->http_listen, rd->cfg->nhttp_listen,
	    "http_listen", &http_face));
}

/* Become the configured user once the ports are bound. */
void
server_drop_privileges(void)
{
	struct passwd *pw;

	if (rd->cfg->user == NULL)
		return;
	if ((pw = getpwnam(rd->cfg->user)) == NULL)
		fatalx("user %s: no such user", rd->cfg->user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatalx("cannot become user %s: %s", rd->cfg->user,
		    strerror(errno));
	log_notice("running as user %s", rd->cfg->user);
}

static void
server_stop_listening(void)
{
	int i;

	for (i = 0; i < server_nlisteners; i++)
		evconnlistener_free(server_listeners[i]);
	server_nlisteners = 0;
}

static void
server_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	time_t now = time(NULL);

	conn_sweep(now);
	log_limit_sweep(now);
}

/*
 * The drain's deadlines: at SERVER_DRAIN_SECONDS, what still waits for the
 * database is answered and what runs there is cancelled (db_drain); a few
 * seconds on, a statement that is still running is answered as of unknown
 * outcome (db_abandon); a second later, with those answers sent, the loop
 * ends whatever is left.
 */
static void
server_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	static int     step;
	struct timeval tv = { SERVER_CANCEL_SECONDS, 0 };

	switch (step++) {
	case 0:
		log_warnx("drain: %d connections still busy after %d s, "
			  "cancelling their statements",
		    rd->nconns, SERVER_DRAIN_SECONDS);
		db_drain();
		break;
	case 1:
		db_abandon();
		tv.tv_sec = 1;
		break;
	default:
		log_warnx("drain: %d connections still open, closing",
		    rd->nconns);
		event_base_loopbreak(rd->base);
		return;
	}
	evtimer_add(server_drain_ev, &tv);
}

/* When draining, the last connection to close ends the loop. */
void
server_conn_closed(void)
{
	if (rd->draining && rd->nconns == 0 && rd->nrefusing == 0)
		event_base_loopbreak(rd->base);
}

static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { SERVER_DRAIN_SECONDS, 0 };

	if (sig == SIGHUP) {
		tls_reload(rd->cfg);
		return;
	}
	if (rd->draining)
		return;
	log_notice("signal %d: stopping, finishing %d connections", (int)sig,
	    rd->nconns);
	rd->draining = 1;
	server_stop_listening();
	server_drain_ev = evtimer_new(rd->base, server_drain_timeout_cb, NULL);
	evtimer_add(server_drain_ev, &tv);
	conn_close_all();
	server_conn_closed();
}

void
server_run(void)
{
	struct timeval tv = { 1, 0 };
	int	       sigs[3] = { SIGHUP, SIGTERM, SIGINT };
	int	       i;

	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/* Blocks above this are mapped, and unmapped when freed. Without a
	 * fixed threshold glibc raises it to the largest block freed, and the
	 * password workers' Argon2 memory (auth.c: 19 MiB a hash) would come
	 * from their arenas, where it stays resident after the hash:
	 * tests/bench/idle's rosterd, after one password login, 38.8 MB of
	 * VmRSS with the moving threshold, 19.4 MB with this one. */
	mallopt(M_MMAP_THRESHOLD, SERVER_MMAP_THRESHOLD);
#endif
	for (i = 0; i < 3; i++) {
		server_sig_ev[i] = evsignal_new(rd->base, sigs[i],
		    server_signal_cb, NULL);
		if (server_sig_ev[i] == NULL ||
		    event_add(server_sig_ev[i], NULL) == -1)
			fatalx("evsignal_new");
	}
	server_sweep_ev = event_new(rd->base, -1, EV_PERSIST, server_sweep_cb,
	    NULL);
	if (server_sweep_ev == NULL || event_add(server_sweep_ev, &tv) == -1)
		fatalx("event_add");

	event_base_dispatch(rd->base);

	/* stopped: free everything, in an order where nothing dangles */
	server_stop_listening();
	conn_free_all();
	auth_stop();
	db_stop();
	feed_stop();
	for (i = 0; i < 3; i++)
		event_free(server_sig_ev[i]);
	event_free(server_sweep_ev);
	if (server_drain_ev != NULL)
		event_free(server_drain_ev);
	/* with no event left but the connections' reaps and libevent's own
	 * finalizers, this runs them and returns */
	event_base_dispatch(rd->base);
	log_limit_flush();
	log_notice("stopped");
}
