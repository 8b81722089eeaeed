/*
 * config.c -- rosterd's configuration: a typed table of keys, the parser of
 * "key = value" files, and the checks on each value. Flags on the command
 * line go through config_set too, so both are checked the same way.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rosterd.h"

enum config_type {
	CONFIG_ADDR, /* ROSTERD_MAX_LISTEN strings, then their count */
	CONFIG_PATH,
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_LEVEL,
	CONFIG_SLOT /* a replication slot's name: 1-63 of [a-z0-9_] */
};

struct config_key {
	const char	*name;
	enum config_type type;
	size_t		 offset;
	int		 min;
	int		 max;
};

#define OFF(f) offsetof(struct config, f)
static const struct config_key config_keys[] = {
	{ "listen", CONFIG_ADDR, OFF(listen), 0, 0 },
	{ "http_listen", CONFIG_ADDR, OFF(http_listen), 0, 0 },
	{ "http_session_idle", CONFIG_INT, OFF(http_session_idle), 1, 604800 },
	{ "web_root", CONFIG_PATH, OFF(web_root), 0, 0 },
	{ "cert", CONFIG_PATH, OFF(cert), 0, 0 },
	{ "key", CONFIG_PATH, OFF(key), 0, 0 },
	{ "client_ca", CONFIG_PATH, OFF(client_ca), 0, 0 },
	{ "database", CONFIG_STRING, OFF(database), 0, 0 },
	{ "db_connections", CONFIG_INT, OFF(db_connections), 1, 64 },
	{ "max_connections", CONFIG_INT, OFF(max_connections), 1, 100000 },
	{ "max_line", CONFIG_INT, OFF(max_line), 256, 1048576 },
	{ "max_pending", CONFIG_INT, OFF(max_pending), 1, 4096 },
	{ "idle_timeout", CONFIG_INT, OFF(idle_timeout), 1, 86400 },
	{ "handshake_timeout", CONFIG_INT, OFF(handshake_timeout), 1, 3600 },
	{ "login_timeout", CONFIG_INT, OFF(login_timeout), 1, 3600 },
	{ "write_timeout", CONFIG_INT, OFF(write_timeout), 1, 3600 },
	{ "max_connections_per_address", CONFIG_INT,
	    OFF(max_connections_per_address), 1, 100000 },
	{ "statement_timeout", CONFIG_INT, OFF(statement_timeout), 1, 86400 },
	{ "log_level", CONFIG_LEVEL, OFF(log_level), 0, 0 },
	{ "user", CONFIG_STRING, OFF(user), 0, 0 },
	{ "feed_slot", CONFIG_SLOT, OFF(feed_slot), 0, 0 },
};
#define NKEYS (sizeof config_keys / sizeof config_keys[0])

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->db_connections = 4;
	cfg->max_connections = 1024;
	cfg->max_line = PROTO_DEFAULT_MAX_LINE;
	cfg->max_pending = 64;
	cfg->idle_timeout = 300;
	cfg->handshake_timeout = 10;
	cfg->login_timeout = 30;
	cfg->write_timeout = 60;
	cfg->max_connections_per_address = 64;
	cfg->statement_timeout = 30;
	cfg->http_session_idle = 1800;
	cfg->log_level = LOG_LVL_INFO;
}

void
config_free(struct config *cfg)
{
	int i;

	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i]);
	for (i = 0; i < cfg->nhttp_listen; i++)
		free(cfg->http_listen[i]);
	free(cfg->cert);
	free(cfg->key);
	free(cfg->client_ca);
	free(cfg->web_root);
	free(cfg->database);
	free(cfg->user);
	free(cfg->feed_slot);
	memset(cfg, 0, sizeof *cfg);
}

const char *const *
config_key_names(void)
{
	static const char *names[NKEYS + 1];
	size_t		   i;

	for (i = 0; i < NKEYS; i++)
		names[i] = config_keys[i].name;
	names[NKEYS] = NULL;
	return (names);
}

int
config_parse_level(const char *s)
{
	static const struct {
		const char *name;
		int	    level;
	} levels[] = {
		{ "debug", LOG_LVL_DEBUG },
		{ "info", LOG_LVL_INFO },
		{ "notice", LOG_LVL_NOTICE },
		{ "warning", LOG_LVL_WARNING },
		{ "error", LOG_LVL_ERROR },
	};
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(s, levels[i].name) == 0)
			return (levels[i].level);
	return (-1);
}

/* Parse "ADDR:PORT" or "[V6ADDR]:PORT" with numeric addresses only (no DNS
 * at start-up either), into ss. Returns 0 or -1. */
int
config_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in  *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char		     host[INET6_ADDRSTRLEN + 1];
	const char	    *colon, *port, *end;
	size_t		     hlen;
	long		     p;
	char		    *ep;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return (-1);
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof host)
			return (-1);
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port = end + 2;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return (-1);
		sin6->sin6_family = AF_INET6;
		*len = sizeof *sin6;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return (-1);
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof host)
			return (-1);
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return (-1);
		sin->sin_family = AF_INET;
		*len = sizeof *sin;
	}
	if (*port == '\0' || !isdigit((unsigned char)*port))
		return (-1);
	errno = 0;
	p = strtol(port, &ep, 10);
	if (errno != 0 || *ep != '\0' || p < 1 || p > 65535)
		return (-1);
	if (ss->ss_family == AF_INET6)
		sin6->sin6_port = htons((uint16_t)p);
	else
		sin->sin_port = htons((uint16_t)p);
	return (0);
}

/* Set one key from its text; on error, write why into err. */
int
config_set(struct config *cfg, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct config_key *k = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i;
	char			*ep, **sp;
	long			 n;
	int			 level, *np;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0) {
			k = &config_keys[i];
			break;
		}
	}
	if (k == NULL) {
		snprintf(err, errlen, "unknown key \"%s\"", name);
		return (-1);
	}
	if (*value == '\0') {
		snprintf(err, errlen, "%s: empty value", name);
		return (-1);
	}
	switch (k->type) {
	case CONFIG_ADDR:
		if (config_parse_addr(value, &ss, &sslen) == -1) {
			snprintf(err, errlen,
			    "%s: \"%s\" is not ADDR:PORT "
			    "(numeric IPv4, or [IPv6]:PORT)",
			    name, value);
			return (-1);
		}
		sp = (char **)((char *)cfg + k->offset);
		np = (int *)(sp + ROSTERD_MAX_LISTEN);
		if (*np == ROSTERD_MAX_LISTEN) {
			snprintf(err, errlen, "%s: at most %d addresses", name,
			    ROSTERD_MAX_LISTEN);
			return (-1);
		}
		if ((sp[*np] = strdup(value)) == NULL)
			goto nomem;
		(*np)++;
		return (0);
	case CONFIG_SLOT:
		if (strlen(value) > FEED_SLOT_MAX ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
			strlen(value)) {
			snprintf(err, errlen,
			    "%s: \"%s\" is not 1 to %d of a-z, 0-9 and _", name,
			    value, FEED_SLOT_MAX);
			return (-1);
		}
		/* FALLTHROUGH */
	case CONFIG_PATH:
	case CONFIG_STRING:
		sp = (char **)((char *)cfg + k->offset);
		free(*sp);
		if ((*sp = strdup(value)) == NULL)
			goto nomem;
		return (0);
	case CONFIG_INT:
		errno = 0;
		n = strtol(value, &ep, 10);
		if (errno != 0 || *ep != '\0' ||
		    !isdigit((unsigned char)*value) || n < k->min ||
		    n > k->max) {
			snprintf(err, errlen,
			    "%s: \"%s\" is not a number from "
			    "%d to %d",
			    name, value, k->min, k->max);
			return (-1);
		}
		*(int *)((char *)cfg + k->offset) = (int)n;
		return (0);
	case CONFIG_LEVEL:
		if ((level = config_parse_level(value)) == -1) {
			snprintf(err, errlen,
			    "%s: \"%s\" is not one of debug, "
			    "info, notice, warning, error",
			    name, value);
			return (-1);
		}
		cfg->log_level = level;
		return (0);
	}
nomem:
	snprintf(err, errlen, "out of memory");
	return (-1);
}

static char *
config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s &&
	    (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return (s);
}

/* Read a file of "key = value" lines and "#" comments. On error, err holds
 * "FILE:LINE: what is wrong". */
int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char  line[4096], why[512], *p, *eq, *key, *value;
	int   lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto fail;
		}
		p = config_trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\"",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = config_trim(p);
		value = config_trim(eq + 1);
		if (config_set(cfg, key, value, why, sizeof why) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	return (0);
fail:
	fclose(f);
	return (-1);
}
