/*
 * main.c -- roster, the command-line client of rosterd: settings from the
 * config file, the environment and the flags; the session (greeting, LOGIN,
 * USE); one request built from the arguments; export and watch. The shell
 * is in shell.c, bulk import in import.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "roster.h"

volatile sig_atomic_t	 main_interrupted;

static void
main_usage(FILE *f)
{
	fprintf(f,
"usage: roster [options] COMMAND [WORD] [key=value ...]\n"
"       roster [options] shell\n"
"       roster [options] import KIND FILE.csv\n"
"       roster [options] export WHAT [key=value ...]\n"
"       roster [options] watch [event=CODE]\n");
}

static void
main_help(void)
{
	main_usage(stdout);
	printf(
"\n"
"Sends one request of the roster protocol to rosterd over TLS and prints\n"
"the reply, e.g. roster --user ana PARTICIPANT LIST party=TR\n"
"The command words come first, then key=value arguments; each value is\n"
"quoted for the wire as needed (title=\"A b\" arrives right).\n"
"\n"
"Options:\n"
"  -H, --host HOST      server (default %s; env ROSTER_HOST)\n"
"  -p, --port PORT      port (default %d; env ROSTER_PORT)\n"
"      --ca FILE        CA certificate(s) to verify the server with\n"
"                       (default: the system's store; env ROSTER_CA)\n"
"      --cert FILE      client certificate (may log a user in)\n"
"      --key FILE       its private key (default: in the --cert file)\n"
"  -u, --user NAME      log in as NAME (env ROSTER_USER)\n"
"  -c, --config FILE    config file (default, if it exists:\n"
"                       ~/%s or $XDG_CONFIG_HOME/roster/config)\n"
"  -f, --format FMT     table, records, csv or json (default: table on a\n"
"                       terminal, else records: the lines as received)\n"
"  -e, --event CODE     send USE event=CODE first\n"
"  -o, --output FILE    export: write the file here (default: stdout)\n"
"  -n, --dry-run        import: have the server check every row against\n"
"                       its rules (dry_run=yes); nothing is added\n"
"  -h, --help           this help\n"
"  -V, --version        the version\n"
"\n"
"The password comes from ROSTER_PASSWORD, from the config's password_file,\n"
"or from a prompt on the terminal; never from the command line. A secret\n"
"argument (password=, old=, new=) must be given empty: roster asks for it.\n"
"Commands other than PING and HELP log in first when a user is set and no\n"
"client certificate logged one in.\n"
"\n"
"Config file: \"key = value\" lines, # comments; keys: host, port, ca,\n"
"cert, key, user, format, password_file (relative paths are taken from the\n"
"config file's directory). Flags override the environment, which overrides\n"
"the config file.\n"
"\n"
"shell    read requests typed in protocol syntax, with history\n"
"         (~/%s) and completion of command words and keys;\n"
"         exit with QUIT or EOF.\n"
"         LOGIN user=NAME without password=, or a secret given as \"\"\n"
"         (password=\"\"), is asked for; lines with secrets are not kept.\n"
"import   add every row of a CSV file (RFC 4180, header row), pipelined;\n"
"         KIND and columns:\n"
"           parties       code,kind,name (PARTY ADD; codes that exist are\n"
"                         skipped)\n"
"           delegations   party,quota,note (DELEGATION REGISTER)\n"
"           participants  party,honorific,name,title,email,role\n"
"                         (PARTICIPANT ADD)\n"
"           sessions      code,kind,title,starts,ends,room,capacity,theme\n"
"                         (SESSION CREATE)\n"
"           speakers      session,participant_name,role,topic,position\n"
"                         (SPEAKER ADD; names looked up with PARTICIPANT\n"
"                         LIST; a participant column of ids works too)\n"
"         All kinds but parties need --event CODE (or an event column).\n"
"         Each row is sent with ref=imp-HASH of its content, so running an\n"
"         import again adds nothing twice. An empty cell leaves its key\n"
"         out. Refused rows are listed at the end (exit status 1). With\n"
"         --dry-run each row is checked by the server and nothing is\n"
"         added (rows are checked one by one, not against each other).\n"
"export   EXPORT what=WHAT, the payload written to -o FILE or stdout;\n"
"         other keys (format=csv/tsv, party=, session=, status=) pass on.\n"
"watch    WATCH, printing live updates until Ctrl-C.\n"
"\n"
"Exit status: 0 OK; 1 the server answered ERR (import: a row was\n"
"refused); 2 usage, configuration, connection, TLS or login error.\n",
	    ROSTER_DEFAULT_HOST, PROTO_DEFAULT_PORT, ROSTER_CONFIG_PATH,
	    ROSTER_HISTORY_FILE);
}

static void
main_signal(int sig)
{
	(void)sig;
	main_interrupted = 1;
}

/* Let SIGINT and SIGTERM interrupt blocking calls and set
 * main_interrupted (on), or restore their default (off). */
void
main_catch_signals(int on)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? main_signal : SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Read a secret from the terminal without echo; -1 with a message when
 * there is no terminal or the read was interrupted. */
int
main_getpass(const char *prompt, char *buf, size_t size)
{
	struct sigaction	 sa, oldint, oldterm;
	struct termios		 old, noecho;
	size_t			 n = 0;
	ssize_t			 r;
	char			 c;
	int			 fd, rv = -1, toolong = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		fprintf(stderr, "roster: no terminal to ask for a password "
		    "(set ROSTER_PASSWORD or password_file)\n");
		return (-1);
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = main_signal;
	sigaction(SIGINT, &sa, &oldint);
	sigaction(SIGTERM, &sa, &oldterm);
	main_interrupted = 0;
	if (tcgetattr(fd, &old) == -1) {
		fprintf(stderr, "roster: /dev/tty: %s\n", strerror(errno));
		goto out;
	}
	noecho = old;
	noecho.c_lflag &= ~ECHO;
	noecho.c_lflag |= ECHONL;
	(void)write(fd, prompt, strlen(prompt));
	tcsetattr(fd, TCSAFLUSH, &noecho);
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR && !main_interrupted)
			continue;
		if (r != 1 || c == '\n' || c == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = c;
		else
			toolong = 1;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	buf[n] = '\0';
	c = 0;
	if (main_interrupted) {
		(void)write(fd, "\n", 1);
		fprintf(stderr, "roster: interrupted\n");
	} else if (r == -1)
		fprintf(stderr, "roster: /dev/tty: %s\n", strerror(errno));
	else if (toolong)
		fprintf(stderr, "roster: password too long\n");
	else
		rv = 0;
out:
	if (rv == -1)
		explicit_bzero(buf, size);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGTERM, &oldterm, NULL);
	close(fd);
	return (rv);
}

/* The login password: ROSTER_PASSWORD, password_file, or the terminal. */
static int
main_password(const struct roster *r, char *buf, size_t size)
{
	const char	*env;
	char		*line, prompt[300];
	size_t		 len;

	if ((env = getenv("ROSTER_PASSWORD")) != NULL && *env != '\0') {
		if ((size_t)snprintf(buf, size, "%s", env) >= size) {
			fprintf(stderr, "roster: ROSTER_PASSWORD too long\n");
			return (-1);
		}
		return (0);
	}
	if (r->cfg.password_file != NULL) {
		if ((line = clicfg_read_secret(r->cfg.password_file)) == NULL)
			return (-1);
		len = snprintf(buf, size, "%s", line);
		explicit_bzero(line, strlen(line));
		free(line);
		if (len >= size) {
			explicit_bzero(buf, size);
			fprintf(stderr, "roster: password_file: password too "
			    "long\n");
			return (-1);
		}
		return (0);
	}
	snprintf(prompt, sizeof prompt, "Password for %s@%s: ", r->cfg.user,
	    r->cfg.host);
	return (main_getpass(prompt, buf, size));
}

/* Keys whose values are secrets and never come from argv or history. */
int
main_is_secret_key(const char *key)
{
	return (strcmp(key, "password") == 0 || strcmp(key, "old") == 0 ||
	    strcmp(key, "new") == 0);
}

/* Ask for one secret; new passwords twice. Appends it quoted to buf. */
static int
main_ask_secret(const char *command, const char *key, struct proto_buf *buf)
{
	char	 pw[PROTO_MAX_PASSWORD + 1], again[PROTO_MAX_PASSWORD + 1];
	char	 prompt[128];
	int	 confirm, rv = -1;

	confirm = strcmp(key, "new") == 0 || (strcmp(key, "password") == 0 &&
	    strcmp(command, "LOGIN") != 0);
	snprintf(prompt, sizeof prompt, "%s: ", strcmp(key, "old") == 0 ?
	    "Current password" : strcmp(key, "new") == 0 ? "New password" :
	    confirm ? "Password to set" : "Password");
	if (main_getpass(prompt, pw, sizeof pw) == -1)
		return (-1);
	if (confirm) {
		if (main_getpass("Again: ", again, sizeof again) == -1)
			goto out;
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "roster: the passwords differ\n");
			goto out;
		}
	}
	proto_buf_field(buf, key, pw, strlen(pw));
	rv = 0;
out:
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(again, sizeof again);
	return (rv);
}

/*
 * A request typed in the shell may leave secrets out: an empty password=,
 * old= or new=, or LOGIN without password=. Then rebuild the line in buf
 * with the secrets asked for and return 1; 0 when nothing was missing; -1
 * when asking failed.
 */
int
main_prompt_secrets(struct proto_request *req, struct proto_buf *buf)
{
	const struct proto_arg	*a;
	size_t			 i;
	int			 missing = 0, login;

	login = strcmp(req->command, "LOGIN") == 0;
	for (i = 0; i < req->nargs; i++)
		if (main_is_secret_key(req->args[i].key) &&
		    req->args[i].vlen == 0)
			missing = 1;
	if (login && proto_request_arg(req, "password") == NULL)
		missing = 1;
	if (!missing)
		return (0);
	proto_buf_addstr(buf, req->command);
	for (i = 0; i < req->nargs; i++) {
		a = &req->args[i];
		if (main_is_secret_key(a->key) && a->vlen == 0) {
			if (main_ask_secret(req->command, a->key, buf) == -1)
				return (-1);
		} else
			proto_buf_field(buf, a->key, a->value, a->vlen);
	}
	if (login && proto_request_arg(req, "password") == NULL &&
	    main_ask_secret(req->command, "password", buf) == -1)
		return (-1);
	return (1);
}

/* Read the final line of a request that has no records; NULL and a message
 * on a connection error. The caller frees it. */
static char *
main_final(struct roster *r)
{
	char	*line;
	size_t	 len;
	int	 rv;

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
main_greeting(struct roster *r)
{
	struct proto_reply	 rep;
	const struct proto_field *f;
	char			*line;
	int			 rv = -1;

	if ((line = main_final(r)) == NULL)
		return (-1);
	switch (proto_parse_reply(line, strlen(line), &rep)) {
	case PROTO_LINE_OK:
		f = proto_reply_field(&rep, "proto");
		if (f == NULL || strcmp(f->value, "1") != 0) {
			fprintf(stderr, "roster: the server speaks protocol "
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
		fprintf(stderr, "roster: the server refused the connection: "
		    "%s\n", line);
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
main_login(struct roster *r, char *pw, size_t pwsize)
{
	struct proto_buf	 req;
	char			*line;
	int			 rv = -1;

	if (*pw == '\0' && main_password(r, pw, pwsize) == -1)
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
	if ((line = main_final(r)) == NULL)
		goto out;
	if (strncmp(line, "OK", 2) == 0) {
		r->user = strdup(r->cfg.user);
		rv = 0;
	} else
		fprintf(stderr, "roster: login as %s failed: %s\n",
		    r->cfg.user, line);
	free(line);
out:
	if (req.data != NULL)
		explicit_bzero(req.data, req.cap);
	proto_buf_free(&req);
	return (rv);
}

/*
 * Connect, read the greeting, log in when a user is set and the greeting
 * did not log one in (not for PING, HELP or LOGIN, unless there is an
 * --event to USE), and USE the --event.
 * Returns an exit status: 0, 1 when USE was refused, 2 on other errors.
 */
int
main_open(struct roster *r, const char *command)
{
	struct net_params	 p;
	struct proto_buf	 use;
	char			*line, pw[PROTO_MAX_PASSWORD + 1] = "";
	int			 rv, login;

	login = r->cfg.user != NULL && (command == NULL || r->event != NULL ||
	    (strcasecmp(command, "PING") != 0 &&
	    strcasecmp(command, "HELP") != 0 &&
	    strcasecmp(command, "LOGIN") != 0));
	/* Ask before connecting, so that typing is not raced by the server's
	 * login deadline; with a certificate, only when it did not log in. */
	if (login && r->cfg.cert == NULL &&
	    main_password(r, pw, sizeof pw) == -1)
		return (ROSTER_EXIT_FAIL);
	memset(&p, 0, sizeof p);
	p.host = r->cfg.host;
	p.port = r->cfg.port;
	p.ca = r->cfg.ca;
	p.cert = r->cfg.cert;
	p.key = r->cfg.key;
	if (net_open(&r->conn, &p) == -1) {
		fprintf(stderr, "roster: %s\n", r->conn.err);
		explicit_bzero(pw, sizeof pw);
		return (ROSTER_EXIT_FAIL);
	}
	r->connected = 1;
	r->conn.timeout = ROSTER_CONNECT_TIMEOUT;
	if (main_greeting(r) == -1) {
		explicit_bzero(pw, sizeof pw);
		return (ROSTER_EXIT_FAIL);
	}
	r->conn.timeout = ROSTER_REPLY_TIMEOUT;
	if (login && r->user == NULL && main_login(r, pw, sizeof pw) == -1)
		return (ROSTER_EXIT_FAIL);
	explicit_bzero(pw, sizeof pw);
	if (r->event == NULL)
		return (ROSTER_EXIT_OK);
	proto_buf_init(&use);
	proto_buf_addstr(&use, "USE");
	proto_buf_field(&use, "event", r->event, strlen(r->event));
	net_queue(&r->conn, use.data, use.len);
	proto_buf_free(&use);
	if ((line = main_final(r)) == NULL)
		return (ROSTER_EXIT_FAIL);
	rv = ROSTER_EXIT_OK;
	if (strncmp(line, "ERR", 3) == 0) {
		fprintf(stderr, "roster: USE event=%s: %s\n", r->event, line);
		rv = ROSTER_EXIT_ERR;
	}
	free(line);
	return (rv);
}

void
main_close(struct roster *r)
{
	if (r->connected)
		net_close(&r->conn);
	r->connected = 0;
	free(r->user);
	r->user = NULL;
}

/*
 * Send one request and print its reply through o. Returns an exit status;
 * with final non-NULL, a copy of the final line is kept there.
 */
int
main_transact(struct roster *r, const char *req, size_t len,
    struct output *o, char **final)
{
	char	*line;
	size_t	 n;
	int	 rv;

	if (final != NULL)
		*final = NULL;
	net_queue(&r->conn, req, len);
	for (;;) {
		rv = net_read_line(&r->conn, &line, &n);
		if (rv != NET_LINE) {
			fflush(stdout);
			fprintf(stderr, "roster: %s\n", rv == NET_INTR ?
			    "interrupted" : r->conn.err);
			return (ROSTER_EXIT_FAIL);
		}
		switch (output_line(o, line, n)) {
		case OUTPUT_MORE:
			continue;
		case OUTPUT_BAD:
			fprintf(stderr, "roster: unexpected line from the "
			    "server: %.*s\n", (int)n, line);
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

/* Command words from argv (at most two, letters only) into buf. Returns how
 * many arguments they took, or -1. */
static int
main_words(int argc, char **argv, struct proto_buf *buf)
{
	int	 i;
	size_t	 j, len;

	for (i = 0; i < argc && strchr(argv[i], '=') == NULL; i++) {
		len = strlen(argv[i]);
		if (i == 2 || len == 0 || len > PROTO_MAX_WORD) {
			fprintf(stderr, "roster: %s: a command is one or two "
			    "words, then key=value arguments\n", argv[i]);
			return (-1);
		}
		for (j = 0; j < len; j++) {
			if (!((argv[i][j] >= 'A' && argv[i][j] <= 'Z') ||
			    (argv[i][j] >= 'a' && argv[i][j] <= 'z'))) {
				fprintf(stderr, "roster: %s: not a command "
				    "word\n", argv[i]);
				return (-1);
			}
			if (argv[i][j] >= 'a')
				argv[i][j] -= 'a' - 'A';
		}
		if (i > 0)
			proto_buf_addch(buf, ' ');
		proto_buf_addstr(buf, argv[i]);
	}
	return (i);
}

/* key=value arguments from argv, each value quoted for the wire; secrets
 * must be empty and are asked for. */
static int
main_args(const char *command, int argc, char **argv, struct proto_buf *buf)
{
	const char	*eq, *arg;
	char		 key[PROTO_MAX_KEY + 1];
	int		 i;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if ((eq = strchr(arg, '=')) == NULL) {
			fprintf(stderr, "roster: %s: expected key=value\n",
			    arg);
			return (-1);
		}
		if (!proto_valid_key(arg, eq - arg)) {
			fprintf(stderr, "roster: %.*s: not a key (lower case "
			    "letters, digits, _)\n", (int)(eq - arg), arg);
			return (-1);
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
		if (main_is_secret_key(key)) {
			if (eq[1] != '\0') {
				fprintf(stderr, "roster: %s= on the command "
				    "line would show the secret to others; "
				    "give %s= empty to be asked for it\n", key,
				    key);
				return (-1);
			}
			if (main_ask_secret(command, key, buf) == -1)
				return (-1);
			continue;
		}
		if (!proto_utf8_valid(eq + 1, strlen(eq + 1))) {
			fprintf(stderr, "roster: %s: the value is not UTF-8\n",
			    key);
			return (-1);
		}
		proto_buf_field(buf, key, eq + 1, strlen(eq + 1));
	}
	return (0);
}

/* The request line from argv: words, then key=value. */
static int
main_build(int argc, char **argv, struct proto_buf *buf)
{
	int	 nw;

	if ((nw = main_words(argc, argv, buf)) == -1)
		return (-1);
	if (nw == 0) {
		fprintf(stderr, "roster: no command word\n");
		return (-1);
	}
	if (main_args(buf->data, argc - nw, argv + nw, buf) == -1)
		return (-1);
	if (buf->oom) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	return (0);
}

/* roster COMMAND ...: one request, its reply, an exit status. */
static int
main_command(struct roster *r)
{
	struct output		 o;
	struct proto_buf	 req;
	char			 cmd[PROTO_MAX_COMMAND + 1];
	int			 rv;

	proto_buf_init(&req);
	if (main_build(r->argc, r->argv, &req) == -1) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(req.data, " "),
	    req.data);
	if ((rv = main_open(r, cmd)) != ROSTER_EXIT_OK)
		goto out;
	output_init(&o, r->format, stdout);
	rv = main_transact(r, req.data, req.len, &o, NULL);
	output_free(&o);
out:
	if (req.data != NULL)
		explicit_bzero(req.data, req.cap);
	proto_buf_free(&req);
	return (rv);
}

/* roster export WHAT [-o FILE] [key=value ...]: the payload into a file,
 * written beside it and renamed into place only when the export is OK. */
static int
main_export(struct roster *r)
{
	struct output		 o;
	struct proto_buf	 req;
	FILE			*f = stdout;
	struct stat		 st;
	char			*tmp = NULL;
	int			 fd, rv, argc = r->argc - 1, direct = 0;
	char			**argv = r->argv + 1;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "EXPORT");
	if (argc > 0 && strchr(argv[0], '=') == NULL) {
		proto_buf_field(&req, "what", argv[0], strlen(argv[0]));
		argc--;
		argv++;
	}
	if (main_args("EXPORT", argc, argv, &req) == -1 || req.oom) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	if (r->output != NULL && strcmp(r->output, "-") != 0 &&
	    stat(r->output, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or a pipe (/dev/null, a FIFO): written as it is,
		 * never replaced by a file */
		if ((f = fopen(r->output, "w")) == NULL) {
			fprintf(stderr, "roster: %s: %s\n", r->output,
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
			goto out;
		}
		direct = 1;
	} else if (r->output != NULL && strcmp(r->output, "-") != 0) {
		if (asprintf(&tmp, "%s.XXXXXX", r->output) == -1) {
			tmp = NULL;
			rv = ROSTER_EXIT_FAIL;
			goto out;
		}
		if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) ==
		    NULL) {
			fprintf(stderr, "roster: %s: %s\n", r->output,
			    strerror(errno));
			if (fd != -1) {
				close(fd);
				unlink(tmp);
			}
			free(tmp);
			tmp = NULL;
			rv = ROSTER_EXIT_FAIL;
			goto out;
		}
	}
	if ((rv = main_open(r, "EXPORT")) == ROSTER_EXIT_OK) {
		output_init(&o, r->format, f);
		rv = main_transact(r, req.data, req.len, &o, NULL);
		output_free(&o);
	}
	if (tmp != NULL) {
		if (fclose(f) == EOF && rv == ROSTER_EXIT_OK) {
			fprintf(stderr, "roster: %s: %s\n", r->output,
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
		}
		if (rv == ROSTER_EXIT_OK && rename(tmp, r->output) == -1) {
			fprintf(stderr, "roster: %s: %s\n", r->output,
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
		}
		if (rv != ROSTER_EXIT_OK)
			unlink(tmp);
	} else if (direct) {
		if (fclose(f) == EOF && rv == ROSTER_EXIT_OK) {
			fprintf(stderr, "roster: %s: %s\n", r->output,
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
		}
	}
out:
	free(tmp);
	proto_buf_free(&req);
	return (rv);
}

/* After DONE: print what is still coming until the final line. */
static int
main_watch_done(struct roster *r, struct output *o)
{
	char	*line;
	size_t	 n;
	int	 rv;

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
main_watch(struct roster *r, const char *req, size_t len)
{
	struct output	 o;
	char		*line;
	size_t		 n;
	int		 rv;

	output_init(&o, r->format, stdout);
	rv = main_transact(r, req, len, &o, NULL);
	if (rv != ROSTER_EXIT_OK)
		goto out;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "roster: watching; Ctrl-C to stop\n");
	main_interrupted = 0;
	main_catch_signals(1);
	r->conn.intr = &main_interrupted;
	r->conn.timeout = -1;
	for (;;) {
		rv = net_read_line(&r->conn, &line, &n);
		if (rv == NET_INTR) {
			rv = main_watch_done(r, &o);
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
	main_interrupted = 0;
out:
	output_free(&o);
	return (rv);
}

static int
main_watch_cmd(struct roster *r)
{
	struct proto_buf	 req;
	int			 rv;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "WATCH");
	if (main_args("WATCH", r->argc - 1, r->argv + 1, &req) == -1 ||
	    req.oom) {
		proto_buf_free(&req);
		return (ROSTER_EXIT_FAIL);
	}
	if ((rv = main_open(r, "WATCH")) == ROSTER_EXIT_OK)
		rv = main_watch(r, req.data, req.len);
	proto_buf_free(&req);
	return (rv);
}

/* Settings: the config file, then the environment, then the flags. */
static int
main_settings(struct roster *r, const char *cfgpath, struct clicfg *flags,
    const char *format)
{
	static const struct {
		const char	*env;
		size_t		 off;
	} envs[] = {
		{ "ROSTER_HOST", offsetof(struct clicfg, host) },
		{ "ROSTER_PORT", offsetof(struct clicfg, port) },
		{ "ROSTER_USER", offsetof(struct clicfg, user) },
		{ "ROSTER_CA", offsetof(struct clicfg, ca) },
	};
	char		*def = NULL, **slot, port[16];
	const char	*v;
	size_t		 i;

	if (cfgpath == NULL)
		cfgpath = def = clicfg_default_path();
	if (cfgpath != NULL && clicfg_load(&r->cfg, cfgpath) == -1) {
		free(def);
		return (-1);
	}
	free(def);
	for (i = 0; i < sizeof envs / sizeof envs[0]; i++) {
		if ((v = getenv(envs[i].env)) == NULL || *v == '\0')
			continue;
		slot = (char **)((char *)&r->cfg + envs[i].off);
		if (clicfg_set(slot, v) == -1)
			return (-1);
	}
	if (r->cfg.port != NULL && getenv("ROSTER_PORT") != NULL &&
	    flags->port == NULL && !clicfg_valid_port(r->cfg.port)) {
		fprintf(stderr, "roster: ROSTER_PORT: \"%s\" is not a port "
		    "number\n", r->cfg.port);
		return (-1);
	}
	if (r->cfg.user != NULL && flags->user == NULL &&
	    !proto_valid_code(r->cfg.user, strlen(r->cfg.user))) {
		fprintf(stderr, "roster: ROSTER_USER: \"%s\" is not a user "
		    "name\n", r->cfg.user);
		return (-1);
	}
	/* The flags, already checked. */
	if ((flags->host != NULL && clicfg_set(&r->cfg.host, flags->host)) ||
	    (flags->port != NULL && clicfg_set(&r->cfg.port, flags->port)) ||
	    (flags->ca != NULL && clicfg_set(&r->cfg.ca, flags->ca)) ||
	    (flags->cert != NULL && clicfg_set(&r->cfg.cert, flags->cert)) ||
	    (flags->key != NULL && clicfg_set(&r->cfg.key, flags->key)) ||
	    (flags->user != NULL && clicfg_set(&r->cfg.user, flags->user)))
		return (-1);
	if (r->cfg.key != NULL && r->cfg.cert == NULL) {
		fprintf(stderr, "roster: a key without a certificate\n");
		return (-1);
	}
	if (r->cfg.host == NULL && clicfg_set(&r->cfg.host,
	    ROSTER_DEFAULT_HOST) == -1)
		return (-1);
	if (r->cfg.port == NULL) {
		snprintf(port, sizeof port, "%d", PROTO_DEFAULT_PORT);
		if (clicfg_set(&r->cfg.port, port) == -1)
			return (-1);
	}
	if (format == NULL)
		format = r->cfg.format;
	if (format == NULL)
		r->format = isatty(STDOUT_FILENO) ? OUTPUT_TABLE :
		    OUTPUT_RECORDS;
	else
		clicfg_format(format, &r->format);
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host",	required_argument,	NULL, 'H' },
		{ "port",	required_argument,	NULL, 'p' },
		{ "ca",		required_argument,	NULL, 'A' },
		{ "cert",	required_argument,	NULL, 'C' },
		{ "key",	required_argument,	NULL, 'K' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "format",	required_argument,	NULL, 'f' },
		{ "event",	required_argument,	NULL, 'e' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct roster		 r;
	struct clicfg		 flags;
	enum output_format	 fmt;
	const char		*cfgpath = NULL, *format = NULL, *sub;
	int			 ch, rv = ROSTER_EXIT_FAIL;

	memset(&r, 0, sizeof r);
	clicfg_init(&r.cfg);
	clicfg_init(&flags);
	signal(SIGPIPE, SIG_IGN);

	while ((ch = getopt_long(argc, argv, "H:p:u:c:f:e:o:nhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (*optarg == '\0' || clicfg_set(&flags.host,
			    optarg) == -1)
				goto usage;
			break;
		case 'p':
			if (!clicfg_valid_port(optarg)) {
				fprintf(stderr, "roster: --port: \"%s\" is not "
				    "a port number\n", optarg);
				goto fail;
			}
			clicfg_set(&flags.port, optarg);
			break;
		case 'A':
			clicfg_set(&flags.ca, optarg);
			break;
		case 'C':
			clicfg_set(&flags.cert, optarg);
			break;
		case 'K':
			clicfg_set(&flags.key, optarg);
			break;
		case 'u':
			if (!proto_valid_code(optarg, strlen(optarg))) {
				fprintf(stderr, "roster: --user: \"%s\" is not "
				    "a user name\n", optarg);
				goto fail;
			}
			clicfg_set(&flags.user, optarg);
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'f':
			if (clicfg_format(optarg, &fmt) == -1) {
				fprintf(stderr, "roster: --format: one of "
				    "table, records, csv, json\n");
				goto fail;
			}
			format = optarg;
			break;
		case 'e':
			if (!proto_valid_code(optarg, strlen(optarg))) {
				fprintf(stderr, "roster: --event: \"%s\" is "
				    "not an event code\n", optarg);
				goto fail;
			}
			r.event = optarg;
			break;
		case 'o':
			r.output = optarg;
			break;
		case 'n':
			r.dry_run = 1;
			break;
		case 'h':
			main_help();
			rv = ROSTER_EXIT_OK;
			goto fail;
		case 'V':
			printf("roster %s (protocol %d)\n", PACKAGE_VERSION,
			    PROTO_VERSION);
			rv = ROSTER_EXIT_OK;
			goto fail;
		default:
			goto usage;
		}
	}
	r.argc = argc - optind;
	r.argv = argv + optind;
	if (r.argc == 0)
		goto usage;
	sub = r.argv[0];
	if (r.output != NULL && strcasecmp(sub, "export") != 0) {
		fprintf(stderr, "roster: -o is for export\n");
		goto fail;
	}
	if (r.dry_run && strcasecmp(sub, "import") != 0) {
		fprintf(stderr, "roster: --dry-run is for import\n");
		goto fail;
	}
	if (main_settings(&r, cfgpath, &flags, format) == -1)
		goto fail;

	if (strcasecmp(sub, "shell") == 0) {
		if (r.argc != 1)
			goto usage;
		rv = shell_run(&r);
	}
	else if (strcasecmp(sub, "import") == 0)
		rv = import_run(&r);
	else if (strcasecmp(sub, "export") == 0)
		rv = main_export(&r);
	else if (strcasecmp(sub, "watch") == 0)
		rv = main_watch_cmd(&r);
	else
		rv = main_command(&r);
	main_close(&r);
	fflush(stdout);
	if (ferror(stdout) && rv == ROSTER_EXIT_OK)
		rv = ROSTER_EXIT_FAIL;
	goto fail;
usage:
	main_usage(stderr);
fail:
	clicfg_free(&r.cfg);
	clicfg_free(&flags);
	return (rv);
}
