/*
 * main.c -- roster, the command-line client of rosterd: settings from the
 * config file, the environment and the flags; the table of the CLI's verbs
 * (a one-shot command, shell, import, export, badges, watch,
 * checkin-desk), each with its handler and usage; a request built from
 * the arguments. The session with the server is in session.c, the shell
 * in shell.c, bulk import in import.c, export in export.c, badges in
 * badges.c, the check-in desk in desk.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "roster.h"

static int main_command(struct roster *);
static int main_watch(struct roster *);

/* What roster does with its arguments: the first word names the verb,
 * any other word starts a request for the server. */
struct main_verb {
	const char *name;  /* NULL: a one-shot command */
	const char *usage; /* after "roster [options] " */
	int (*run)(struct roster *);
	int maxargs; /* after the verb; -1: any */
	int flags;
};
#define MAIN_OUTPUT  0x01 /* takes -o FILE, --title, --no-email */
#define MAIN_DRY_RUN 0x02 /* takes --dry-run */
#define MAIN_JOURNAL 0x04 /* takes --journal FILE and --replay FILE */
#define MAIN_IMPORT  0x08 /* takes --encoding, --map, --ignore-unknown */
#define MAIN_LAYOUT  0x10 /* takes -o FILE and --layout (badges) */

/* Long options without a letter. */
#define MAIN_OPT_TITLE	  256
#define MAIN_OPT_NO_EMAIL 257
#define MAIN_OPT_LONG	  259
#define MAIN_OPT_LAYOUT	  258

static const struct main_verb main_verbs[] = {
	{ NULL, "COMMAND [WORD] [key=value ...]", main_command, -1, 0 },
	{ "shell", "shell", shell_run, 0, 0 },
	{ "import",
	    "import [--encoding ENC] [--map MAP] [--ignore-unknown] KIND FILE",
	    import_run, -1, MAIN_DRY_RUN | MAIN_IMPORT },
	{ "export", "export WHAT [key=value ...]", export_run, -1,
	    MAIN_OUTPUT },
	{ "badges",
	    "badges [party=CODE] [id=N ...] [--layout a6|a4-8] -o FILE.pdf",
	    badges_run, -1, MAIN_LAYOUT },
	{ "watch", "watch [event=CODE]", main_watch, -1, 0 },
	{ "checkin-desk",
	    "-e EVENT checkin-desk [session=CODE] [--journal FILE]\n"
	    "       roster [options] checkin-desk --replay FILE",
	    desk_run, 1, MAIN_JOURNAL },
};
#define MAIN_NVERBS (sizeof main_verbs / sizeof main_verbs[0])

static void
main_usage(FILE *f)
{
	size_t i;

	for (i = 0; i < MAIN_NVERBS; i++)
		fprintf(f, "%s roster [options] %s\n",
		    i == 0 ? "usage:" : "      ", main_verbs[i].usage);
}

/* The verb of argv[0]: a row with that name, else the one-shot row. */
static const struct main_verb *
main_verb(const char *word)
{
	size_t i;

	for (i = 0; i < MAIN_NVERBS; i++)
		if (main_verbs[i].name != NULL &&
		    strcasecmp(main_verbs[i].name, word) == 0)
			return (&main_verbs[i]);
	return (&main_verbs[0]);
}

static void
main_help(void)
{
	main_usage(stdout);
	/* clang-format off */
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
	    "  -x, --expanded       a table as one block per record (by default only\n"
	    "                       when it is wider than the terminal)\n"
	    "      --no-pager       never page (default: a table longer than the\n"
	    "                       terminal goes through $PAGER, or less -FRSX)\n"
	    "  -e, --event CODE     send USE event=CODE first\n"
	    "  -o, --output FILE    export, badges: write the file here (default:\n"
	    "                       stdout)\n"
	    "      --title TEXT     export to PDF: the list's title (default: List of\n"
	    "                       participants)\n"
	    "      --no-email       export to PDF: leave the e-mail addresses out\n"
	    "      --long           export attendance: a row per person and session\n"
	    "                       (default: a column per session)\n"
	    "      --layout LAYOUT  badges: a6 (one badge a page, the default) or\n"
	    "                       a4-8 (eight to an A4 sheet, with cut marks)\n"
	    "  -n, --dry-run        import: have the server check every row against\n"
	    "                       its rules (dry_run=yes); nothing is added\n"
	    "      --journal FILE   checkin-desk: the journal of its scans\n"
	    "      --replay FILE    checkin-desk: send every scan of a journal\n"
	    "      --encoding ENC   import: the file's encoding when it is not UTF-8\n"
	    "                       or UTF-16 with a byte order mark (cp1252 ...)\n"
	    "      --map MAP        import: \"HEADER=KEY,HEADER=KEY\", the key of a\n"
	    "                       column (an empty KEY leaves the column out)\n"
	    "      --ignore-unknown import: skip columns of no known key\n"
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
	    "cert, key, user, format, password_file (the config's user's password),\n"
	    "password_dir (DIR/USER: each user's) (relative paths are taken from the\n"
	    "config file's directory). Flags override the environment, which overrides\n"
	    "the config file.\n"
	    "\n"
	    "shell    read requests typed in protocol syntax, with history\n"
	    "         (~/%s) and completion of command words and keys;\n"
	    "         exit with QUIT or EOF.\n"
	    "         LOGIN user=NAME without password=, or a secret given as \"\"\n"
	    "         (password=\"\"), is asked for; lines with secrets are not kept.\n"
	    "import   add or update every row of a spreadsheet saved as CSV (a\n"
	    "         header row; ',' ';' or TAB between fields; UTF-8, UTF-16 with\n"
	    "         a byte order mark as Excel's \"Unicode text\", or --encoding),\n"
	    "         pipelined. KIND and columns (the server's HELP has the keys):\n"
	    "           parties       code,kind,name (PARTY ADD; codes that exist are\n"
	    "                         left unchanged)\n"
	    "           delegations   party,quota,note (DELEGATION REGISTER / SET)\n"
	    "           participants  party,honorific,name,title,email,role, or\n"
	    "                         given and family for the name; id, version\n"
	    "                         (PARTICIPANT ADD / SET)\n"
	    "           sessions      code,kind,title,starts,ends,room,capacity,theme\n"
	    "                         (SESSION CREATE / SET)\n"
	    "           speakers      session,participant_name,role,topic,position\n"
	    "                         (SPEAKER ADD; names looked up with PARTICIPANT\n"
	    "                         LIST; a participant column of ids works too)\n"
	    "         Headers such as \"First name\", \"E-mail\", \"Country\", \"Pays\"\n"
	    "         are known in English and French (README); others need --map.\n"
	    "         A party is its code or its name (Turkiye, HUNGARY). Cells are\n"
	    "         trimmed; an empty cell leaves its key out. A row that matches\n"
	    "         what the server has (a participant by id, else e-mail, else\n"
	    "         name; a delegation by party; a session by code) is updated\n"
	    "         where it differs (SET ... version=) or left unchanged; others\n"
	    "         are added with ref=imp-HASH of their content, so running an\n"
	    "         import again adds nothing twice. All kinds but parties need\n"
	    "         --event CODE (or an event column). Prints \"added N, updated\n"
	    "         M, unchanged K, refused R\", then each refused row with its\n"
	    "         line, name and value (exit status 1). With --dry-run the\n"
	    "         server checks each row and nothing changes (\"would add N,\n"
	    "         update M, leave K unchanged, refuse R\").\n"
	    "export   EXPORT what=WHAT, the payload written to -o FILE or stdout;\n"
	    "         other keys (party=, session=, status=) pass on. The file is\n"
	    "         format=csv/tsv/xlsx/pdf, else as FILE's extension (.csv, .tsv,\n"
	    "         .xlsx, .pdf), else CSV. XLSX (not to a terminal): one sheet, the\n"
	    "         header bold and frozen, codes as text, times as dates.\n"
	    "         PDF (participants only, not to a terminal): the List of\n"
	    "         Participants, A4, by delegation, declined participants left\n"
	    "         out, e.g. roster -e som37 export participants -o lop.pdf\n"
	    "         --title \"Provisional list of participants\" --no-email\n"
	    "badges   a PDF of badges (not to a terminal; give -o FILE.pdf): one\n"
	    "         for each participant who has not declined (EXPORT\n"
	    "         what=participants: party=, status=, session= pass on; id=N,\n"
	    "         repeated, keeps those participants): the meeting, the name\n"
	    "         (shrunk to fit, its Latin form under it), title, delegation,\n"
	    "         the role's coloured band and a QR code of the badge code.\n"
	    "watch    WATCH, printing live updates until Ctrl-C.\n"
	    "checkin-desk\n"
	    "         the laptop at the door: each line read (a QR scanner types\n"
	    "         a badge code and Enter) is a CHECKIN of --event, answered with\n"
	    "         one line. Every scan is written to the journal (--journal FILE,\n"
	    "         default $XDG_STATE_HOME/roster/desk-EVENT.journal) before it is\n"
	    "         sent; while the server cannot be reached scans are queued there\n"
	    "         and sent, in order and once each, when it answers again. At\n"
	    "         EOF it tries 10 s more; exit 3 when scans still wait.\n"
	    "         --replay FILE sends every scan of a journal carried from\n"
	    "         another desk (exit 1 when one was refused).\n"
	    "\n"
	    "Exit status: 0 OK; 1 the server answered ERR (import: a row was\n"
	    "refused; badges: nobody to print); 2 usage, configuration,\n"
	    "connection, TLS or login error; 3 checkin-desk: scans still wait\n"
	    "in the journal.\n",
	    ROSTER_DEFAULT_HOST, PROTO_DEFAULT_PORT, ROSTER_CONFIG_PATH,
	    ROSTER_HISTORY_FILE);
	/* clang-format on */
}

/* Command words from argv (at most two, letters only) into buf. Returns how
 * many arguments they took, or -1. */
static int
main_words(int argc, char **argv, struct proto_buf *buf)
{
	int    i;
	size_t j, len;

	for (i = 0; i < argc && strchr(argv[i], '=') == NULL; i++) {
		len = strlen(argv[i]);
		if (i == 2 || len == 0 || len > PROTO_MAX_WORD) {
			fprintf(stderr,
			    "roster: %s: a command is one or two "
			    "words, then key=value arguments\n",
			    argv[i]);
			return (-1);
		}
		for (j = 0; j < len; j++) {
			if (!((argv[i][j] >= 'A' && argv[i][j] <= 'Z') ||
				(argv[i][j] >= 'a' && argv[i][j] <= 'z'))) {
				fprintf(stderr,
				    "roster: %s: not a command "
				    "word\n",
				    argv[i]);
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
int
main_args(const char *command, int argc, char **argv, struct proto_buf *buf)
{
	const char *eq, *arg;
	char	    key[PROTO_MAX_KEY + 1];
	int	    i;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if ((eq = strchr(arg, '=')) == NULL) {
			fprintf(stderr, "roster: %s: expected key=value\n",
			    arg);
			return (-1);
		}
		if (!proto_valid_key(arg, eq - arg)) {
			fprintf(stderr,
			    "roster: %.*s: not a key (lower case "
			    "letters, digits, _)\n",
			    (int)(eq - arg), arg);
			return (-1);
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
		if (secret_is_key(key)) {
			if (eq[1] != '\0') {
				fprintf(stderr,
				    "roster: %s= on the command "
				    "line would show the secret to others; "
				    "give %s= empty to be asked for it\n",
				    key, key);
				return (-1);
			}
			if (secret_ask(command, key, buf) == -1)
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
	int nw;

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
	struct output	 o;
	struct proto_buf req;
	char		 cmd[PROTO_MAX_COMMAND + 1], *fields = NULL;
	char		 words[PROTO_MAX_COMMAND + 1];
	size_t		 n, w;
	int		 rv;

	proto_buf_init(&req);
	if (main_build(r->argc, r->argv, &req) == -1) {
		rv = ROSTER_EXIT_FAIL;
		goto out;
	}
	snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(req.data, " "),
	    req.data);
	/* the command's words: those before the first key= */
	for (n = 0; n < req.len && n < sizeof words - 1; n += w + 1) {
		w = strcspn(req.data + n, " ");
		if (memchr(req.data + n, '=', w) != NULL)
			break;
	}
	snprintf(words, sizeof words, "%.*s", (int)(n > 0 ? n - 1 : 0),
	    req.data);
	if ((rv = session_open(r, cmd)) != ROSTER_EXIT_OK)
		goto out;
	output_init(&o, r->format, stdout);
	o.pager = !r->no_pager;
	o.expanded = r->expanded;
	if (r->format == OUTPUT_RECORDS)
		rv = session_transact(r, req.data, req.len, &o, NULL);
	else if (session_fields(r, words, req.data, req.len, &fields) == -1)
		rv = ROSTER_EXIT_FAIL;
	else {
		/* the columns in the order the command defines */
		o.fields = fields;
		rv = session_reply(r, &o, NULL);
	}
	output_free(&o);
	free(fields);
out:
	if (req.data != NULL)
		explicit_bzero(req.data, req.cap);
	proto_buf_free(&req);
	return (rv);
}

/* roster watch [event=CODE]: WATCH until Ctrl-C. */
static int
main_watch(struct roster *r)
{
	struct proto_buf req;
	int		 rv;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "WATCH");
	if (main_args("WATCH", r->argc - 1, r->argv + 1, &req) == -1 ||
	    req.oom) {
		proto_buf_free(&req);
		return (ROSTER_EXIT_FAIL);
	}
	if ((rv = session_open(r, "WATCH")) == ROSTER_EXIT_OK)
		rv = session_watch(r, req.data, req.len);
	proto_buf_free(&req);
	return (rv);
}

/* Settings: the config file, then the environment, then the flags. */
static int
main_settings(struct roster *r, const char *cfgpath, struct clicfg *flags,
    const char *format)
{
	static const struct {
		const char *env;
		size_t	    off;
	} envs[] = {
		{ "ROSTER_HOST", offsetof(struct clicfg, host) },
		{ "ROSTER_PORT", offsetof(struct clicfg, port) },
		{ "ROSTER_USER", offsetof(struct clicfg, user) },
		{ "ROSTER_CA", offsetof(struct clicfg, ca) },
	};
	char	   *def = NULL, **slot, port[16];
	const char *v, *user;
	size_t	    i;

	if (cfgpath == NULL)
		cfgpath = def = clicfg_default_path();
	if (cfgpath != NULL && clicfg_load(&r->cfg, cfgpath) == -1) {
		free(def);
		return (-1);
	}
	free(def);
	/* The config's password_file is its user's, never another's. */
	if ((user = flags->user) == NULL &&
	    ((user = getenv("ROSTER_USER")) == NULL || *user == '\0'))
		user = r->cfg.user;
	if (r->cfg.password_file != NULL && r->cfg.user != NULL &&
	    (user == NULL || strcmp(user, r->cfg.user) != 0)) {
		free(r->cfg.password_file);
		r->cfg.password_file = NULL;
	}
	for (i = 0; i < sizeof envs / sizeof envs[0]; i++) {
		if ((v = getenv(envs[i].env)) == NULL || *v == '\0')
			continue;
		slot = (char **)((char *)&r->cfg + envs[i].off);
		if (clicfg_set(slot, v) == -1)
			return (-1);
	}
	if (r->cfg.port != NULL && getenv("ROSTER_PORT") != NULL &&
	    flags->port == NULL && !clicfg_valid_port(r->cfg.port)) {
		fprintf(stderr,
		    "roster: ROSTER_PORT: \"%s\" is not a port "
		    "number\n",
		    r->cfg.port);
		return (-1);
	}
	if (r->cfg.user != NULL && flags->user == NULL &&
	    !proto_valid_code(r->cfg.user, strlen(r->cfg.user))) {
		fprintf(stderr,
		    "roster: ROSTER_USER: \"%s\" is not a user "
		    "name\n",
		    r->cfg.user);
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
	if (r->cfg.host == NULL &&
	    clicfg_set(&r->cfg.host, ROSTER_DEFAULT_HOST) == -1)
		return (-1);
	if (r->cfg.port == NULL) {
		snprintf(port, sizeof port, "%d", PROTO_DEFAULT_PORT);
		if (clicfg_set(&r->cfg.port, port) == -1)
			return (-1);
	}
	if (format == NULL)
		format = r->cfg.format;
	if (format == NULL)
		r->format = isatty(STDOUT_FILENO) ?
		    OUTPUT_TABLE :
		    OUTPUT_RECORDS;
	else
		clicfg_format(format, &r->format);
	return (0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "user", required_argument, NULL, 'u' },
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "event", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "layout", required_argument, NULL, MAIN_OPT_LAYOUT },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "title", required_argument, NULL, MAIN_OPT_TITLE },
		{ "no-email", no_argument, NULL, MAIN_OPT_NO_EMAIL },
		{ "long", no_argument, NULL, MAIN_OPT_LONG },
		{ "expanded", no_argument, NULL, 'x' },
		{ "no-pager", no_argument, NULL, 'P' },
		{ "journal", required_argument, NULL, 'J' },
		{ "replay", required_argument, NULL, 'R' },
		{ "encoding", required_argument, NULL, 'E' },
		{ "map", required_argument, NULL, 'M' },
		{ "ignore-unknown", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	struct roster		r;
	struct clicfg		flags;
	enum output_format	fmt;
	const struct main_verb *verb;
	const char	       *cfgpath = NULL, *format = NULL;
	int			ch, rv = ROSTER_EXIT_FAIL;

	memset(&r, 0, sizeof r);
	clicfg_init(&r.cfg);
	clicfg_init(&flags);
	signal(SIGPIPE, SIG_IGN);

	while ((ch = getopt_long(argc, argv, "H:p:u:c:f:e:o:nxhV", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (*optarg == '\0') {
				fprintf(stderr, "roster: --host: empty\n");
				goto usage;
			}
			if (clicfg_set(&flags.host, optarg) == -1)
				goto fail;
			break;
		case 'p':
			if (!clicfg_valid_port(optarg)) {
				fprintf(stderr,
				    "roster: --port: \"%s\" is not "
				    "a port number\n",
				    optarg);
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
				fprintf(stderr,
				    "roster: --user: \"%s\" is not "
				    "a user name\n",
				    optarg);
				goto fail;
			}
			clicfg_set(&flags.user, optarg);
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'f':
			if (clicfg_format(optarg, &fmt) == -1) {
				fprintf(stderr,
				    "roster: --format: one of "
				    "table, records, csv, json\n");
				goto fail;
			}
			format = optarg;
			break;
		case 'e':
			if (!proto_valid_code(optarg, strlen(optarg))) {
				fprintf(stderr,
				    "roster: --event: \"%s\" is "
				    "not an event code\n",
				    optarg);
				goto fail;
			}
			r.event = optarg;
			break;
		case 'o':
			r.output = optarg;
			break;
		case MAIN_OPT_LAYOUT:
			r.layout = optarg;
			break;
		case 'n':
			r.dry_run = 1;
			break;
		case MAIN_OPT_TITLE:
			if (*optarg == '\0' ||
			    !proto_utf8_valid(optarg, strlen(optarg))) {
				fprintf(stderr,
				    "roster: --title: not empty, and "
				    "UTF-8\n");
				goto fail;
			}
			r.title = optarg;
			break;
		case MAIN_OPT_NO_EMAIL:
			r.no_email = 1;
			break;
		case MAIN_OPT_LONG:
			r.long_form = 1;
			break;
		case 'x':
			r.expanded = OUTPUT_EXPANDED_ON;
			break;
		case 'P':
			r.no_pager = 1;
			break;
		case 'J':
			r.journal = optarg;
			break;
		case 'R':
			r.replay = optarg;
			break;
		case 'E':
			r.encoding = optarg;
			break;
		case 'M':
			r.map = optarg;
			break;
		case 'I':
			r.ignore_unknown = 1;
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
	if (r.argc == 0) {
		fprintf(stderr, "roster: no command given\n");
		goto usage;
	}
	verb = main_verb(r.argv[0]);
	if (r.output != NULL && !(verb->flags & (MAIN_OUTPUT | MAIN_LAYOUT))) {
		fprintf(stderr, "roster: -o is for export and badges\n");
		goto fail;
	}
	if ((r.title != NULL || r.no_email || r.long_form) &&
	    !(verb->flags & MAIN_OUTPUT)) {
		fprintf(stderr,
		    "roster: --title, --no-email and --long are for "
		    "export\n");
		goto fail;
	}
	if (r.layout != NULL && !(verb->flags & MAIN_LAYOUT)) {
		fprintf(stderr, "roster: --layout is for badges\n");
		goto fail;
	}
	if (r.dry_run && !(verb->flags & MAIN_DRY_RUN)) {
		fprintf(stderr, "roster: --dry-run is for import\n");
		goto fail;
	}
	if ((r.journal != NULL || r.replay != NULL) &&
	    !(verb->flags & MAIN_JOURNAL)) {
		fprintf(stderr,
		    "roster: --journal and --replay are for "
		    "checkin-desk\n");
		goto fail;
	}
	if ((r.encoding != NULL || r.map != NULL || r.ignore_unknown) &&
	    !(verb->flags & MAIN_IMPORT)) {
		fprintf(stderr,
		    "roster: --encoding, --map and --ignore-unknown are for "
		    "import\n");
		goto fail;
	}
	if (main_settings(&r, cfgpath, &flags, format) == -1)
		goto fail;
	if (verb->maxargs != -1 && r.argc - 1 > verb->maxargs) {
		fprintf(stderr,
		    "roster: %s: too many arguments (usage: roster "
		    "[options] %s)\n",
		    r.argv[0], verb->usage);
		goto usage;
	}
	rv = verb->run(&r);
	session_close(&r);
	fflush(stdout);
	if (ferror(stdout) && rv == ROSTER_EXIT_OK)
		rv = ROSTER_EXIT_FAIL;
	goto fail;
usage:
	/* GNU's way: what is wrong (said above), then where to read more. */
	fprintf(stderr, "Try 'roster --help' for more information.\n");
fail:
	clicfg_free(&r.cfg);
	clicfg_free(&flags);
	return (rv);
}
