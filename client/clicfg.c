/*
 * clicfg.c -- the CLI's config file (~/.config/roster/config): "key = value"
 * lines, '#' comments and blank lines. Relative paths are taken from the
 * config file's directory. Also the small checks shared with the flags and
 * the environment, and reading a secret from a file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

enum clicfg_type {
	CLICFG_STRING,
	CLICFG_PATH,
	CLICFG_PORT,
	CLICFG_FORMAT,
	CLICFG_USER
};

struct clicfg_key {
	const char	*name;
	enum clicfg_type type;
	size_t		 off;
};

#define CLICFG_OFF(f) offsetof(struct clicfg, f)

static const struct clicfg_key clicfg_keys[] = {
	{ "host", CLICFG_STRING, CLICFG_OFF(host) },
	{ "port", CLICFG_PORT, CLICFG_OFF(port) },
	{ "ca", CLICFG_PATH, CLICFG_OFF(ca) },
	{ "cert", CLICFG_PATH, CLICFG_OFF(cert) },
	{ "key", CLICFG_PATH, CLICFG_OFF(key) },
	{ "user", CLICFG_USER, CLICFG_OFF(user) },
	{ "format", CLICFG_FORMAT, CLICFG_OFF(format) },
	{ "password_file", CLICFG_PATH, CLICFG_OFF(password_file) },
	{ "password_dir", CLICFG_PATH, CLICFG_OFF(password_dir) },
};

void
clicfg_init(struct clicfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
}

void
clicfg_free(struct clicfg *cfg)
{
	size_t i;

	for (i = 0; i < sizeof clicfg_keys / sizeof clicfg_keys[0]; i++)
		free(*(char **)((char *)cfg + clicfg_keys[i].off));
	clicfg_init(cfg);
}

/* Replace a setting with a copy of value; -1 when out of memory. */
int
clicfg_set(char **slot, const char *value)
{
	char *copy;

	if ((copy = strdup(value)) == NULL)
		return (-1);
	free(*slot);
	*slot = copy;
	return (0);
}

int
clicfg_format(const char *s, enum output_format *fmt)
{
	if (strcmp(s, "table") == 0)
		*fmt = OUTPUT_TABLE;
	else if (strcmp(s, "records") == 0)
		*fmt = OUTPUT_RECORDS;
	else if (strcmp(s, "csv") == 0)
		*fmt = OUTPUT_CSV;
	else if (strcmp(s, "json") == 0)
		*fmt = OUTPUT_JSON;
	else
		return (-1);
	return (0);
}

/* A TCP port, as digits: 1 when it is one. Service names are not taken. */
int
clicfg_valid_port(const char *s)
{
	uint64_t n;

	return (proto_valid_uint(s, strlen(s), 1, 65535, &n));
}

/* The config file's directory joined with a relative path. */
static char *
clicfg_resolve(const char *cfgpath, const char *path)
{
	const char *slash;
	char	   *out;
	int	    dirlen;

	if (path[0] == '/' || (slash = strrchr(cfgpath, '/')) == NULL)
		return (strdup(path));
	dirlen = (int)(slash - cfgpath);
	if (asprintf(&out, "%.*s/%s", dirlen, cfgpath, path) == -1)
		return (NULL);
	return (out);
}

static char *
clicfg_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
		end[-1] == '\r'))
		*--end = '\0';
	return (s);
}

/* Check and store one "key = value" line; a message in why on error. */
static int
clicfg_line(struct clicfg *cfg, const char *path, char *line,
    unsigned int *seen, char *why, size_t whylen)
{
	const struct clicfg_key *k = NULL;
	char			*eq, *key, *value, **slot, *v;
	size_t			 i, vlen;
	enum output_format	 fmt;

	if ((eq = strchr(line, '=')) == NULL) {
		snprintf(why, whylen, "expected \"key = value\"");
		return (-1);
	}
	*eq = '\0';
	key = clicfg_trim(line);
	value = clicfg_trim(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = '\0';
		value++;
		vlen -= 2;
	}
	for (i = 0; i < sizeof clicfg_keys / sizeof clicfg_keys[0]; i++) {
		if (strcmp(clicfg_keys[i].name, key) == 0) {
			k = &clicfg_keys[i];
			break;
		}
	}
	if (k == NULL) {
		snprintf(why, whylen, "unknown key \"%s\"", key);
		return (-1);
	}
	if (*seen & (1U << i)) {
		snprintf(why, whylen, "%s given twice", key);
		return (-1);
	}
	*seen |= 1U << i;
	if (vlen == 0) {
		snprintf(why, whylen, "%s: empty value", key);
		return (-1);
	}
	for (i = 0; i < vlen; i++) {
		if (proto_is_ctl((unsigned char)value[i])) {
			snprintf(why, whylen, "%s: control character in value",
			    key);
			return (-1);
		}
	}
	switch (k->type) {
	case CLICFG_PORT:
		if (!clicfg_valid_port(value)) {
			snprintf(why, whylen,
			    "port: \"%s\" is not a port "
			    "number (1-65535)",
			    value);
			return (-1);
		}
		break;
	case CLICFG_FORMAT:
		if (clicfg_format(value, &fmt) == -1) {
			snprintf(why, whylen,
			    "format: \"%s\" is not one of "
			    "table, records, csv, json",
			    value);
			return (-1);
		}
		break;
	case CLICFG_USER:
		if (!proto_valid_code(value, vlen)) {
			snprintf(why, whylen,
			    "user: \"%s\" is not a user "
			    "name",
			    value);
			return (-1);
		}
		break;
	case CLICFG_STRING:
		if (strchr(value, ' ') != NULL) {
			snprintf(why, whylen, "%s: spaces in value", key);
			return (-1);
		}
		break;
	case CLICFG_PATH:
		break;
	}
	if (k->type == CLICFG_PATH)
		v = clicfg_resolve(path, value);
	else
		v = strdup(value);
	if (v == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	slot = (char **)((char *)cfg + k->off);
	free(*slot);
	*slot = v;
	return (0);
}

/* Read a config file into cfg. On error, print "FILE:LINE: what" and
 * return -1. */
int
clicfg_load(struct clicfg *cfg, const char *path)
{
	FILE	    *f;
	char	    *line = NULL, *s, why[256];
	size_t	     cap = 0;
	ssize_t	     n;
	unsigned int lineno = 0, seen = 0;
	int	     rv = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			fprintf(stderr, "%s:%u: NUL byte in line\n", path,
			    lineno);
			rv = -1;
			break;
		}
		s = clicfg_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (clicfg_line(cfg, path, s, &seen, why, sizeof why) == -1) {
			fprintf(stderr, "%s:%u: %s\n", path, lineno, why);
			rv = -1;
			break;
		}
	}
	if (rv == 0 && ferror(f)) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		rv = -1;
	}
	free(line);
	fclose(f);
	return (rv);
}

/* $XDG_CONFIG_HOME/roster/config, else ~/.config/roster/config, when it
 * exists; else NULL. */
char *
clicfg_default_path(void)
{
	const char *home, *xdg;
	char	   *path;
	struct stat st;
	int	    n;

	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && xdg[0] == '/')
		n = asprintf(&path, "%s/roster/config", xdg);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		n = asprintf(&path, "%s/%s", home, ROSTER_CONFIG_PATH);
	else
		return (NULL);
	if (n == -1)
		return (NULL);
	if (stat(path, &st) == -1) {
		free(path);
		return (NULL);
	}
	return (path);
}

/* The first line of a file, without its line end; NULL with a message
 * printed on error. The caller clears and frees it. */
char *
clicfg_read_secret(const char *path)
{
	FILE   *f;
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "roster: password_file %s: %s\n", path,
		    strerror(errno));
		return (NULL);
	}
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		fprintf(stderr, "roster: password_file %s: empty\n", path);
		if (line != NULL)
			explicit_bzero(line, cap);
		free(line);
		return (NULL);
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return (line);
}
