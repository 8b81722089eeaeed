/*
 * test_config.c -- unit tests of rosterd's configuration parser: defaults,
 * every key's checks, and the FILE:LINE messages of bad files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rosterd.h"

/* Write text to a temporary file; returns its path (static buffer). */
static const char *
write_file(const char *text)
{
	static char path[64];
	int	    fd;

	snprintf(path, sizeof path, "/tmp/roster-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return (path);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_int_equal(cfg.db_connections, 4);
	assert_int_equal(cfg.max_connections, 1024);
	assert_int_equal(cfg.max_line, 16384);
	assert_int_equal(cfg.max_pending, 64);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_int_equal(cfg.handshake_timeout, 10);
	assert_int_equal(cfg.login_timeout, 30);
	assert_int_equal(cfg.write_timeout, 60);
	assert_int_equal(cfg.max_connections_per_address, 64);
	assert_int_equal(cfg.log_level, LOG_LVL_INFO);
	assert_int_equal(cfg.nlisten, 0);
	assert_null(cfg.cert);
	config_free(&cfg);
}

static void
test_good_file(void **state)
{
	struct config cfg;
	char	      err[256];
	const char   *path = write_file(
	      "# a comment\n"
		"\n"
		"listen = 127.0.0.1:7470\n"
		"listen=[::1]:7471\n"
		"  cert = /etc/roster/server.crt  \n"
		"key = /etc/roster/server.key\n"
		"client_ca = /etc/roster/ca.crt\n"
		"database = host=/run/postgresql dbname=roster\n"
		"db_connections = 8\n"
		"max_connections = 2000\n"
		"max_line = 4096\n"
		"max_pending = 16\n"
		"idle_timeout = 60\n"
		"handshake_timeout = 5\n"
		"log_level = debug\n"
		"user = roster\n");

	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, path, err, sizeof err), 0);
	unlink(path);
	assert_int_equal(cfg.nlisten, 2);
	assert_string_equal(cfg.listen[0], "127.0.0.1:7470");
	assert_string_equal(cfg.listen[1], "[::1]:7471");
	assert_string_equal(cfg.cert, "/etc/roster/server.crt");
	assert_string_equal(cfg.key, "/etc/roster/server.key");
	assert_string_equal(cfg.client_ca, "/etc/roster/ca.crt");
	/* "=" inside the value belongs to the value */
	assert_string_equal(cfg.database, "host=/run/postgresql dbname=roster");
	assert_int_equal(cfg.db_connections, 8);
	assert_int_equal(cfg.max_connections, 2000);
	assert_int_equal(cfg.max_line, 4096);
	assert_int_equal(cfg.max_pending, 16);
	assert_int_equal(cfg.idle_timeout, 60);
	assert_int_equal(cfg.handshake_timeout, 5);
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_string_equal(cfg.user, "roster");
	config_free(&cfg);
}

/* Each bad file is refused with FILE:LINE: and a message. */
static void
test_bad_files(void **state)
{
	static const struct {
		const char *text;
		int	    line;
		const char *want;
	} cases[] = {
		{ "listen = 127.0.0.1:7470\nbogus = 1\n", 2,
		    "unknown key \"bogus\"" },
		{ "max_connections = lots\n", 1, "max_connections: \"lots\"" },
		{ "max_connections = 0\n", 1, "max_connections: \"0\"" },
		{ "max_connections = -5\n", 1, "max_connections: \"-5\"" },
		{ "max_line = 99999999999999999999\n", 1, "max_line:" },
		{ "idle_timeout = 10s\n", 1, "idle_timeout:" },
		{ "\n\nlisten = localhost:7470\n", 3, "listen:" },
		{ "listen = 127.0.0.1\n", 1, "listen:" },
		{ "listen = 127.0.0.1:70000\n", 1, "listen:" },
		{ "listen = [::1]7470\n", 1, "listen:" },
		{ "log_level = loud\n", 1, "log_level:" },
		{ "cert =\n", 1, "cert: empty value" },
		{ "just words\n", 1, "expected \"key = value\"" },
	};
	struct config cfg;
	char	      err[256], want[512];
	const char   *path;
	size_t	      i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		path = write_file(cases[i].text);
		config_defaults(&cfg);
		assert_int_equal(config_load(&cfg, path, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s:%d: %s", path, cases[i].line,
		    cases[i].want);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i,
			    err, want);
		config_free(&cfg);
		unlink(path);
	}
}

static void
test_missing_file(void **state)
{
	struct config cfg;
	char	      err[256];

	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/rosterd.conf", err,
			     sizeof err),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/rosterd.conf"));
	config_free(&cfg);
}

static void
test_set_and_addr(void **state)
{
	struct config		cfg;
	struct sockaddr_storage ss;
	socklen_t		len;
	char			err[256];
	int			i;

	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "db_connections", "64", err,
			     sizeof err),
	    0);
	assert_int_equal(config_set(&cfg, "db_connections", "65", err,
			     sizeof err),
	    -1);
	assert_int_equal(config_set(&cfg, "nope", "1", err, sizeof err), -1);
	assert_string_equal(err, "unknown key \"nope\"");
	for (i = 0; i < ROSTERD_MAX_LISTEN; i++)
		assert_int_equal(config_set(&cfg, "listen", "127.0.0.1:1", err,
				     sizeof err),
		    0);
	assert_int_equal(config_set(&cfg, "listen", "127.0.0.1:1", err,
			     sizeof err),
	    -1);
	config_free(&cfg);

	assert_int_equal(config_parse_addr("0.0.0.0:7470", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(config_parse_addr("[::]:7470", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(config_parse_addr("[::1]:0", &ss, &len), -1);
	assert_int_equal(config_parse_addr(":7470", &ss, &len), -1);
	assert_int_equal(config_parse_addr("1.2.3.4:+80", &ss, &len), -1);
	assert_int_equal(config_parse_level("warning"), LOG_LVL_WARNING);
	assert_int_equal(config_parse_level("WARNING"), -1);
}

/* Every key of the table has a name, and the names are unique. */
static void
test_key_names(void **state)
{
	const char *const *names = config_key_names();
	int		   i, j, n = 0;

	for (i = 0; names[i] != NULL; i++, n++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	assert_int_equal(n, 21);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_set_and_addr),
		cmocka_unit_test(test_key_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
