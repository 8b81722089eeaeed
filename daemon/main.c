/*
 * main.c -- rosterd's command line: run the daemon, or one of the start-up
 * commands (--migrate, --add-user, --version, --help).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "rosterd.h"

#define AUTH_WORKERS 2

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: rosterd [-c FILE] [-f] [--listen ADDR:PORT] [--cert FILE] "
	    "[--key FILE]\n"
	    "               [--client-ca FILE] [--database CONNINFO] "
	    "[--log-level LEVEL]\n"
	    "       rosterd -c FILE --migrate\n"
	    "       rosterd -c FILE --add-user NAME --role ROLE "
	    "[--party CODE]\n"
	    "       rosterd --version | --help\n"
	    "\n"
	    "  -c FILE              configuration file (key = value lines)\n"
	    "  -f                   stay in the foreground, log to stderr\n"
	    "  --listen ADDR:PORT   address to listen on (default "
	    "127.0.0.1:%d)\n"
	    "  --cert, --key FILE   server certificate chain and key (PEM)\n"
	    "  --client-ca FILE     CA for client certificates (optional)\n"
	    "  --database CONNINFO  libpq connection string\n"
	    "  --log-level LEVEL    debug, info, notice, warning or error\n"
	    "  --migrate            apply the migrations, load the SQL functions, exit\n"
	    "  --add-user NAME      create a user and exit; the password "
	    "comes from\n"
	    "                       ROSTER_PASSWORD or a prompt\n",
	    PROTO_DEFAULT_PORT);
}

/* The password for --add-user: ROSTER_PASSWORD, or asked twice without
 * echo on the terminal. */
static char *
read_password(void)
{
	struct termios t, saved;
	char	       a[PROTO_MAX_PASSWORD + 2], b[PROTO_MAX_PASSWORD + 2];
	const char    *env = getenv("ROSTER_PASSWORD");
	FILE	      *in, *out;
	char	      *p = NULL;

	if (env != NULL)
		return (strdup(env));
	if ((in = fopen("/dev/tty", "r")) == NULL ||
	    (out = fopen("/dev/tty", "w")) == NULL) {
		if (in != NULL)
			fclose(in);
		fprintf(stderr,
		    "rosterd: set ROSTER_PASSWORD or run on a "
		    "terminal\n");
		return (NULL);
	}
	tcgetattr(fileno(in), &saved);
	t = saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(in), TCSAFLUSH, &t);
	fputs("Password: ", out);
	fflush(out);
	if (fgets(a, sizeof a, in) != NULL) {
		fputs("\nAgain: ", out);
		fflush(out);
		if (fgets(b, sizeof b, in) != NULL) {
			a[strcspn(a, "\n")] = '\0';
			b[strcspn(b, "\n")] = '\0';
			if (strcmp(a, b) == 0)
				p = strdup(a);
			else
				fprintf(stderr,
				    "\nrosterd: the passwords "
				    "differ\n");
		}
	}
	fputs("\n", out);
	tcsetattr(fileno(in), TCSAFLUSH, &saved);
	fclose(in);
	fclose(out);
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	return (p);
}

static int
add_user(struct config *cfg, const char *name, const char *role,
    const char *party)
{
	char *pw;
	int   rc;

	if (!proto_valid_code(name, strlen(name))) {
		fprintf(stderr, "rosterd: %s: not a valid user name\n", name);
		return (2);
	}
	if (role == NULL || role_from_name(role) == ROLE_NONE) {
		fprintf(stderr,
		    "rosterd: --role must be admin, secretariat, "
		    "host or focal\n");
		return (2);
	}
	if ((pw = read_password()) == NULL)
		return (1);
	if (proto_utf8_count(pw, strlen(pw)) < PROTO_MIN_PASSWORD ||
	    !proto_utf8_valid(pw, strlen(pw))) {
		fprintf(stderr,
		    "rosterd: a password has at least %d "
		    "characters\n",
		    PROTO_MIN_PASSWORD);
		OPENSSL_cleanse(pw, strlen(pw));
		free(pw);
		return (1);
	}
	rc = migrate_add_user(cfg->database, name, role, party, pw);
	OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	return (rc == 0 ? 0 : 1);
}

static void
main_event_log_cb(int severity, const char *msg)
{
	log_msg(severity >= EVENT_LOG_ERR ?
		LOG_LVL_ERROR :
		severity == EVENT_LOG_WARN ?
		LOG_LVL_WARNING :
		LOG_LVL_DEBUG,
	    "libevent: %s", msg);
}

int
main(int argc, char **argv)
{
	enum {
		OPT_LISTEN = 256,
		OPT_CERT,
		OPT_KEY,
		OPT_CLIENT_CA,
		OPT_DATABASE,
		OPT_LOG_LEVEL,
		OPT_MIGRATE,
		OPT_ADD_USER,
		OPT_ROLE,
		OPT_PARTY,
		OPT_VERSION,
		OPT_HELP
	};
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "client-ca", required_argument, NULL, OPT_CLIENT_CA },
		{ "database", required_argument, NULL, OPT_DATABASE },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "add-user", required_argument, NULL, OPT_ADD_USER },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "party", required_argument, NULL, OPT_PARTY },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP }, { NULL, 0, NULL, 0 }
	};
	struct {
		const char *key;
		const char *value;
	} flags[16];
	static struct rosterd server;
	struct config	      cfg;
	const char	     *conffile = NULL, *add = NULL, *role = NULL;
	const char	     *party = NULL;
	char		      err[1024], slot[FEED_SLOT_MAX + 1];
	int		      ch, foreground = 0, migrate = 0, nflags = 0;
	int		      i, listen_flag = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:f", longopts, NULL)) != -1) {
		const char *key = NULL;

		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case OPT_LISTEN:
			key = "listen";
			break;
		case OPT_CERT:
			key = "cert";
			break;
		case OPT_KEY:
			key = "key";
			break;
		case OPT_CLIENT_CA:
			key = "client_ca";
			break;
		case OPT_DATABASE:
			key = "database";
			break;
		case OPT_LOG_LEVEL:
			key = "log_level";
			break;
		case OPT_MIGRATE:
			migrate = 1;
			break;
		case OPT_ADD_USER:
			add = optarg;
			break;
		case OPT_ROLE:
			role = optarg;
			break;
		case OPT_PARTY:
			party = optarg;
			break;
		case OPT_VERSION:
			printf("rosterd %s (protocol %d)\n",
			    PROTO_SERVER_VERSION, PROTO_VERSION);
			return (0);
		case OPT_HELP:
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
		if (key != NULL) {
			if (nflags == 16) {
				fprintf(stderr, "rosterd: too many flags\n");
				return (2);
			}
			flags[nflags].key = key;
			flags[nflags++].value = optarg;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}

	/* the file first, then the flags over it */
	config_defaults(&cfg);
	if (conffile != NULL &&
	    config_load(&cfg, conffile, err, sizeof err) == -1) {
		fprintf(stderr, "rosterd: %s\n", err);
		goto fail;
	}
	for (i = 0; i < nflags; i++) {
		if (strcmp(flags[i].key, "listen") == 0 && !listen_flag) {
			while (cfg.nlisten > 0)
				free(cfg.listen[--cfg.nlisten]);
			listen_flag = 1;
		}
		if (config_set(&cfg, flags[i].key, flags[i].value, err,
			sizeof err) == -1) {
			fprintf(stderr, "rosterd: %s\n", err);
			goto fail;
		}
	}
	if (cfg.nlisten == 0)
		config_set(&cfg, "listen", "127.0.0.1:7470", err, sizeof err);
	if (cfg.database == NULL) {
		if (getenv("ROSTER_DATABASE") != NULL)
			cfg.database = strdup(getenv("ROSTER_DATABASE"));
		else {
			fprintf(stderr,
			    "rosterd: no database configured "
			    "(database = CONNINFO)\n");
			goto fail;
		}
	}

	if (migrate) {
		rc = migrate_run(cfg.database) == 0 ? 0 : 1;
		config_free(&cfg);
		return (rc);
	}
	if (add != NULL) {
		rc = add_user(&cfg, add, role, party);
		config_free(&cfg);
		return (rc);
	}

	log_init(foreground, cfg.log_level);
	rc = db_schema_check(cfg.database, err, sizeof err);
	if (rc == -1) {
		log_error("%s", err);
		goto fail;
	}
	if (rc == 1)
		log_warnx("database not reachable yet, will keep trying: %s",
		    err);
	if (cfg.feed_slot == NULL) {
		feed_slot_default(&cfg, slot, sizeof slot);
		if ((cfg.feed_slot = strdup(slot)) == NULL)
			fatalx("out of memory");
	}
	if (rc == 0 &&
	    (rc = feed_check(cfg.database, cfg.feed_slot, err, sizeof err)) !=
		0) {
		if (rc == -1) {
			log_error("%s", err);
			goto fail;
		}
		log_warnx("feed: %s", err);
	}
	if (tls_init(&cfg, err, sizeof err) == -1) {
		log_error("tls: %s", err);
		goto fail;
	}
	if (!foreground && daemon(0, 0) == -1) {
		log_error("daemon: %s", strerror(errno));
		goto fail;
	}
	event_set_log_callback(main_event_log_cb);
	server.cfg = &cfg;
	rd = &server;
	if ((rd->base = server_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (server_listen() == -1)
		goto fail;
	server_drop_privileges();
	if (auth_init(rd->base, AUTH_WORKERS) == -1)
		fatalx("cannot start the password workers");
	if (translit_init(err, sizeof err) == -1) {
		log_error("%s", err);
		goto fail;
	}
	cmd_init();
	http_session_init();
	if (cfg.web_root != NULL &&
	    http_static_load(cfg.web_root, err, sizeof err) == -1) {
		log_error("%s", err);
		goto fail;
	}
	if (db_start(rd->base, cfg.database, cfg.db_connections,
		cfg.statement_timeout, err, sizeof err) == -1) {
		log_error("%s", err);
		goto fail;
	}
	feed_start(rd->base, db_conninfo_resolved(), cfg.feed_slot);
	log_notice("rosterd %s ready", PROTO_SERVER_VERSION);

	server_run();

	tls_shutdown();
	http_static_free();
	event_base_free(rd->base);
	config_free(&cfg);
	return (0);
fail:
	config_free(&cfg);
	return (1);
}
