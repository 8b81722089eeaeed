/*
 * session.c -- one session with rosterd: connect, read the greeting, log
 * in (the password from ROSTER_PASSWORD, the config's password_file or the
 * terminal), USE the --event, then send requests and read their replies,
 * WATCH until Ctrl-C, and ask HELP once for the command set. Used by the
 * one-shot commands, the shell, import, export and the check-in desk.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "roster.h"

volatile sig_atomic_t session_interrupted;

static void
session_signal(int sig)
{
	(void)sig;
	session_interrupted = 1;
}

/* Let SIGINT and SIGTERM interrupt blocking calls and set
 * session_interrupted (on), or restore their default (off). */
void
session_catch_signals(int on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? session_signal : SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The password in the first line of the file path into buf; 0, or -1
 * with a message naming what (the config key). */
static int
session_password_from(const char *path, const char *what, char *buf,
    size_t size)
{
	char  *line;
	size_t len;

	if ((line = clicfg_read_secret(path)) == NULL)
		return (-1);
	len = snprintf(buf, size, "%s", line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (len >= size) {
		explicit_bzero(buf, size);
		fprintf(stderr, "roster: %s: password too long\n", what);
		return (-1);
	}
	return (0);
}

/* The login password: ROSTER_PASSWORD, password_file (the config's user
 * only), password_dir/USER when there is such a file, the current one
 * PASSWORD asked for, or the terminal. */
int
session_password(const struct roster *r, char *buf, size_t size)
{
	struct stat st;
	const char *env;
	char	   *path, prompt[300];
	int	    rv;

	if ((env = getenv("ROSTER_PASSWORD")) != NULL && *env != '\0') {
		if ((size_t)snprintf(buf, size, "%s", env) >= size) {
			fprintf(stderr, "roster: ROSTER_PASSWORD too long\n");
			return (-1);
		}
		return (0);
	}
	if (r->cfg.password_file != NULL)
		return (session_password_from(r->cfg.password_file,
		    "password_file", buf, size));
	if (r->cfg.password_dir != NULL && r->cfg.user != NULL) {
		if (asprintf(&path, "%s/%s", r->cfg.password_dir,
			r->cfg.user) == -1)
			return (-1);
		if (stat(path, &st) == 0 || errno != ENOENT) {
			rv = session_password_from(path, "password_dir", buf,
			    size);
			free(path);
			return (rv);
		}
		free(path);
	}
	/* PASSWORD asked for the current one already: it is the same. */
	if (secret_old_password(buf, size))
		return (0);
	snprintf(prompt, sizeof prompt, "Password for %s@%s: ", r->cfg.user,
	    r->cfg.host);
	return (secret_getpass(prompt, buf, size));
}

/* Read the final line of a request that has no records; NULL and a message
 * on a connection error. The caller frees it. */
static char *
session_final(struct roster *r)
{
	char  *line;
	size_t len;
	int    rv;

	for (;;) {
		rv = net_read_line(&r->conn, &line, &len);
		if (rv != NET_LINE) {
			fprintf(stderr, "roster: %s\n", r->conn.err);
			return (NULL);
		}
		if (output_is_final(line, len))
			return (strndup(line, len));
	}
}

static int
session_greeting(struct roster *r)
{
	struct proto_reply	  rep;
	const struct proto_field *f;
	char			 *line;
	int			  rv = -1;

	if ((line = session_final(r)) == NULL)
		return (-1);
	switch (proto_parse_reply(line, strlen(line), &rep)) {
	case PROTO_LINE_OK:
		f = proto_reply_field(&rep, "proto");
		if (f == NULL || strcmp(f->value, "1") != 0) {
			fprintf(stderr,
			    "roster: the server speaks protocol "
			    "%s, this roster speaks %d\n",
			    f != NULL ? f->value : "(none)", PROTO_VERSION);
			break;
		}
		if ((f = proto_reply_field(&rep, "user")) != NULL &&
		    strcmp(f->value, "-") != 0)
			r->user = strdup(f->value);
		rv = 0;
		break;
	case PROTO_LINE_ERR:
		fprintf(stderr,
		    "roster: the server refused the connection: "
		    "%s\n",
		    line);
		break;
	default:
		fprintf(stderr, "roster: unexpected greeting: %s\n", line);
		break;
	}
	proto_reply_free(&rep);
	free(line);
	return (rv);
}

/* LOGIN with the password in pw (asked for now when pw is empty). */
static int
session_login(struct roster *r, char *pw, size_t pwsize)
{
	struct proto_buf req;
	char		*line;
	int		 rv = -1;

	if (*pw == '\0' && session_password(r, pw, pwsize) == -1)
		return (-1);
	proto_buf_init(&req);
	proto_buf_addstr(&req, "LOGIN");
	proto_buf_field(&req, "user", r->cfg.user, strlen(r->cfg.user));
	proto_buf_field(&req, "password", pw, strlen(pw));
	explicit_bzero(pw, pwsize);
	if (req.oom) {
		fprintf(stderr, "roster: out of memory\n");
		goto out;
	}
	net_queue(&r->conn, req.data, req.len);
	if ((line = session_final(r)) == NULL)
		goto out;
	if (strncmp(line, "OK", 2) == 0) {
		r->user = strdup(r->cfg.user);
		rv = 0;
	} else
		fprintf(stderr, "roster: login as %s failed: %s\n", r->cfg.user,
		    line);
	free(line);
out:
	if (req.data != NULL)
		explicit_bzero(req.data, req.cap);
	proto_buf_free(&req);
	return (rv);
}

/*
 * Connect and read the greeting. The password is asked for now when a
 * LOGIN will be due (a user is set, the greeting does not log one in by
 * certificate, and command is not PING, HELP or LOGIN, unless there is an
 * --event to USE), so that typing is not raced by the server's login
 * deadline; session_start sends it. Returns an exit status.
 */
int
session_connect(struct roster *r, const char *command)
{
	struct net_params p;

	r->login = r->cfg.user != NULL &&
	    (command == NULL || r->event != NULL ||
		(strcasecmp(command, "PING") != 0 &&
		    strcasecmp(command, "HELP") != 0 &&
		    strcasecmp(command, "LOGIN") != 0));
	/* With a certificate, only when it did not log in; a password the
	 * caller put in r->pw (the desk, connecting again) is used as it is. */
	if (r->login && r->cfg.cert == NULL && r->pw[0] == '\0' &&
	    session_password(r, r->pw, sizeof r->pw) == -1)
		return (ROSTER_EXIT_FAIL);
	memset(&p, 0, sizeof p);
	p.host = r->cfg.host;
	p.port = r->cfg.port;
	p.ca = r->cfg.ca;
	p.cert = r->cfg.cert;
	p.key = r->cfg.key;
	p.timeout = r->connect_timeout;
	if (net_open(&r->conn, &p) == -1) {
		if (!r->quiet_connect)
			fprintf(stderr, "roster: %s\n", r->conn.err);
		explicit_bzero(r->pw, sizeof r->pw);
		return (ROSTER_EXIT_FAIL);
	}
	r->connected = 1;
	r->conn.timeout = r->connect_timeout > 0 ?
	    r->connect_timeout :
	    ROSTER_CONNECT_TIMEOUT;
	if (session_greeting(r) == -1) {
		explicit_bzero(r->pw, sizeof r->pw);
		return (ROSTER_EXIT_FAIL);
	}
	r->conn.timeout = ROSTER_REPLY_TIMEOUT;
	return (ROSTER_EXIT_OK);
}

/*
 * After session_connect: LOGIN when it is due, then USE the --event.
 * Returns an exit status: 0, 1 when USE was refused, 2 on other errors.
 */
int
session_start(struct roster *r)
{
	struct proto_buf use;
	char		*line;
	int		 rv;

	if (r->login && r->user == NULL &&
	    session_login(r, r->pw, sizeof r->pw) == -1)
		return (ROSTER_EXIT_FAIL);
	explicit_bzero(r->pw, sizeof r->pw);
	r->login = 0;
	if (r->event == NULL)
		return (ROSTER_EXIT_OK);
	proto_buf_init(&use);
	proto_buf_addstr(&use, "USE");
	proto_buf_field(&use, "event", r->event, strlen(r->event));
	net_queue(&r->conn, use.data, use.len);
	proto_buf_free(&use);
	if ((line = session_final(r)) == NULL)
		return (ROSTER_EXIT_FAIL);
	rv = ROSTER_EXIT_OK;
	if (strncmp(line, "ERR", 3) == 0) {
		fprintf(stderr, "roster: USE event=%s: %s\n", r->event, line);
		rv = ROSTER_EXIT_ERR;
	}
	free(line);
	return (rv);
}

/* Connect, log in and USE, for a session that will send command (NULL:
 * the shell, any). Returns an exit status as session_start does. */
int
session_open(struct roster *r, const char *command)
{
	int rv;

	if ((rv = session_connect(r, command)) != ROSTER_EXIT_OK)
		return (rv);
	return (session_start(r));
}

void
session_close(struct roster *r)
{
	if (r->connected)
		net_close(&r->conn);
	r->connected = 0;
	free(r->user);
	r->user = NULL;
	explicit_bzero(r->pw, sizeof r->pw);
	r->login = 0;
	commands_free(&r->cmds);
}

/*
 * Send one request and print its reply through o. Returns an exit status;
 * with final non-NULL, a copy of the final line is kept there.
 */
int
session_transact(struct roster *r, const char *req, size_t len,
    struct output *o, char **final)
{
	net_queue(&r->conn, req, len);
	return (session_reply(r, o, final));
}

/* Read the reply of a request already queued, as session_transact. */
int
session_reply(struct roster *r, struct output *o, char **final)
{
	char  *line;
	size_t n;
	int    rv;

	if (final != NULL)
		*final = NULL;
	for (;;) {
		rv = net_read_line(&r->conn, &line, &n);
		if (rv != NET_LINE) {
			fflush(stdout);
			fprintf(stderr, "roster: %s\n",
			    rv == NET_INTR ? "interrupted" : r->conn.err);
			return (ROSTER_EXIT_FAIL);
		}
		switch (output_line(o, line, n)) {
		case OUTPUT_MORE:
			continue;
		case OUTPUT_BAD:
			fprintf(stderr,
			    "roster: unexpected line from the "
			    "server: %.*s\n",
			    (int)n, line);
			continue;
		case OUTPUT_OK:
			rv = ROSTER_EXIT_OK;
			break;
		default:
			rv = ROSTER_EXIT_ERR;
			break;
		}
		if (final != NULL)
			*final = strndup(line, n);
		return (rv);
	}
}

/* After DONE: print what is still coming until the final line. */
static int
session_watch_done(struct roster *r, struct output *o)
{
	char  *line;
	size_t n;
	int    rv;

	r->conn.intr = NULL;
	r->conn.timeout = ROSTER_REPLY_TIMEOUT;
	net_queue(&r->conn, "DONE", 4);
	for (;;) {
		if ((rv = net_read_line(&r->conn, &line, &n)) != NET_LINE) {
			fprintf(stderr, "roster: %s\n", r->conn.err);
			return (ROSTER_EXIT_FAIL);
		}
		switch (output_line(o, line, n)) {
		case OUTPUT_OK:
			return (ROSTER_EXIT_OK);
		case OUTPUT_ERR:
			return (ROSTER_EXIT_ERR);
		default:
			break;
		}
	}
}

/*
 * WATCH until Ctrl-C (or SIGTERM), then DONE. Notifications are printed as
 * they come. Used by roster watch and by WATCH typed in the shell.
 */
int
session_watch(struct roster *r, const char *req, size_t len)
{
	struct output o;
	char	     *line;
	size_t	      n;
	int	      rv;

	output_init(&o, r->format, stdout);
	rv = session_transact(r, req, len, &o, NULL);
	if (rv != ROSTER_EXIT_OK)
		goto out;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "roster: watching; Ctrl-C to stop\n");
	session_interrupted = 0;
	session_catch_signals(1);
	r->conn.intr = &session_interrupted;
	r->conn.timeout = -1;
	for (;;) {
		rv = net_read_line(&r->conn, &line, &n);
		if (rv == NET_INTR) {
			rv = session_watch_done(r, &o);
			break;
		}
		if (rv != NET_LINE) {
			fprintf(stderr, "roster: %s\n", r->conn.err);
			rv = ROSTER_EXIT_FAIL;
			break;
		}
		rv = output_line(&o, line, n);
		if (rv == OUTPUT_OK || rv == OUTPUT_ERR) {
			/* The server ended the watch by itself. */
			rv = rv == OUTPUT_OK ? ROSTER_EXIT_OK : ROSTER_EXIT_ERR;
			break;
		}
	}
	r->conn.intr = NULL;
	r->conn.timeout = ROSTER_REPLY_TIMEOUT;
	session_interrupted = 0;
out:
	output_free(&o);
	return (rv);
}

/*
 * The fields= of command's HELP record (a copy, or NULL when it has none):
 * HELP command=... is sent with the request req (when not NULL) queued
 * behind it, so that asking costs no round trip; the caller then reads
 * the request's reply with session_reply. From the command set when it
 * is loaded already. -1 when the connection fails.
 */
int
session_fields(struct roster *r, const char *command, const char *req,
    size_t len, char **fields)
{
	const struct commands_entry *e;
	const struct proto_field    *f;
	struct proto_buf	     help;
	struct proto_reply	     rep;
	char			    *line;
	size_t			     n;
	int			     rv;

	*fields = NULL;
	if (r->cmds.loaded) {
		if ((e = commands_find(&r->cmds, command)) != NULL &&
		    e->fields != NULL && (*fields = strdup(e->fields)) == NULL)
			return (-1);
		if (req != NULL)
			net_queue(&r->conn, req, len);
		return (0);
	}
	proto_buf_init(&help);
	proto_buf_addstr(&help, "HELP");
	proto_buf_field(&help, "command", command, strlen(command));
	if (help.oom) {
		proto_buf_free(&help);
		return (-1);
	}
	net_queue(&r->conn, help.data, help.len);
	proto_buf_free(&help);
	if (req != NULL)
		net_queue(&r->conn, req, len);
	for (;;) {
		if ((rv = net_read_line(&r->conn, &line, &n)) != NET_LINE) {
			fprintf(stderr, "roster: %s\n",
			    rv == NET_INTR ? "interrupted" : r->conn.err);
			return (-1);
		}
		if (output_is_final(line, n))
			return (0);
		if (proto_parse_reply(line, n, &rep) == PROTO_LINE_RECORD &&
		    *fields == NULL &&
		    (f = proto_reply_field(&rep, "fields")) &&
		    (*fields = strndup(f->value, f->vlen)) == NULL) {
			proto_reply_free(&rep);
			return (-1);
		}
		proto_reply_free(&rep);
	}
}

/*
 * The server's command set, from HELP: asked once per connection, then
 * kept until session_close. A record this roster cannot read is left out
 * with a warning. NULL with a message when HELP fails.
 */
const struct commands *
session_commands(struct roster *r)
{
	char  *line, why[256];
	size_t len;
	int    rv;

	if (r->cmds.loaded)
		return (&r->cmds);
	commands_free(&r->cmds);
	net_queue(&r->conn, "HELP", 4);
	for (;;) {
		if ((rv = net_read_line(&r->conn, &line, &len)) != NET_LINE) {
			fprintf(stderr, "roster: %s\n",
			    rv == NET_INTR ? "interrupted" : r->conn.err);
			return (NULL);
		}
		if (len >= 2 && line[0] == '*' && line[1] == ' ') {
			if (commands_add(&r->cmds, line, len, why,
				sizeof why) == -1)
				fprintf(stderr, "roster: HELP: %s\n", why);
			continue;
		}
		if (!output_is_final(line, len))
			continue;
		if (line[0] == 'E') {
			fprintf(stderr, "roster: HELP: %.*s\n", (int)len, line);
			commands_free(&r->cmds);
			return (NULL);
		}
		r->cmds.loaded = 1;
		return (&r->cmds);
	}
}
