/*
 * commands.c -- the server's command set as HELP describes it: each
 * command's name, its keys (type, required, defaulting to the event of
 * USE, bound to a focal point's own party, the choices of an enum) and
 * whether it takes dry_run=yes. The shell completes from it and import
 * takes its columns from it, so that the CLI keeps no list of its own.
 *
 * A record's keys= field (PROTOCOL.md section 4) is read when it is there:
 *	keys="event:code:required:use role:enum:choices=head|member"
 * An older rosterd (0.1.0) sends only args=, from which the names, what is
 * required and dry_run are taken: args="[event=] party= [dry_run=]".
 *
 * Pure: records in, a table out; session.c asks HELP and feeds it.
 * Types and modifiers this roster does not know are let through, so that a
 * newer server still completes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster.h"

static const char *const commands_types[] = {
	[COMMANDS_TYPE_CODE] = "code",
	[COMMANDS_TYPE_ID] = "id",
	[COMMANDS_TYPE_COUNT] = "count",
	[COMMANDS_TYPE_NAME] = "name",
	[COMMANDS_TYPE_TEXT] = "text",
	[COMMANDS_TYPE_LINE] = "line",
	[COMMANDS_TYPE_DATE] = "date",
	[COMMANDS_TYPE_TIME] = "time",
	[COMMANDS_TYPE_TIMESTAMP] = "timestamp",
	[COMMANDS_TYPE_EMAIL] = "email",
	[COMMANDS_TYPE_TZ] = "tz",
	[COMMANDS_TYPE_REF] = "ref",
	[COMMANDS_TYPE_PASSWORD] = "password",
	[COMMANDS_TYPE_SECRET] = "secret",
	[COMMANDS_TYPE_ENUM] = "enum",
	[COMMANDS_TYPE_COMMAND] = "command",
};
#define COMMANDS_NTYPES (sizeof commands_types / sizeof commands_types[0])

void
commands_init(struct commands *set)
{
	memset(set, 0, sizeof *set);
}

static void
commands_entry_free(struct commands_entry *e)
{
	size_t i;

	for (i = 0; i < e->nkeys; i++) {
		free(e->keys[i].name);
		free(e->keys[i].choices);
	}
	free(e->keys);
	free(e->name);
	free(e->fields);
	memset(e, 0, sizeof *e);
}

void
commands_free(struct commands *set)
{
	size_t i;

	for (i = 0; i < set->nentries; i++)
		commands_entry_free(&set->entries[i]);
	free(set->entries);
	commands_init(set);
}

const struct commands_entry *
commands_find(const struct commands *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->nentries; i++)
		if (strcasecmp(set->entries[i].name, name) == 0)
			return (&set->entries[i]);
	return (NULL);
}

const struct commands_key *
commands_key(const struct commands_entry *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nkeys; i++)
		if (strcmp(e->keys[i].name, name) == 0)
			return (&e->keys[i]);
	return (NULL);
}

static enum commands_type
commands_type(const char *s, size_t len)
{
	size_t i;

	for (i = 1; i < COMMANDS_NTYPES; i++)
		if (strlen(commands_types[i]) == len &&
		    memcmp(commands_types[i], s, len) == 0)
			return (i);
	return (COMMANDS_TYPE_UNKNOWN);
}

/* A new key named s[0..len) at the end of e; NULL with why set. */
static struct commands_key *
commands_new_key(struct commands_entry *e, const char *s, size_t len, char *why,
    size_t whylen)
{
	struct commands_key *keys, *k;
	size_t		     i;

	if (!proto_valid_key(s, len)) {
		snprintf(why, whylen, "%s: \"%.*s\" is not a key name", e->name,
		    (int)len, s);
		return (NULL);
	}
	for (i = 0; i < e->nkeys; i++) {
		if (strlen(e->keys[i].name) == len &&
		    memcmp(e->keys[i].name, s, len) == 0) {
			snprintf(why, whylen, "%s: key \"%.*s\" twice", e->name,
			    (int)len, s);
			return (NULL);
		}
	}
	if ((keys = reallocarray(e->keys, e->nkeys + 1, sizeof *keys)) == NULL)
		goto oom;
	e->keys = keys;
	k = &e->keys[e->nkeys];
	memset(k, 0, sizeof *k);
	if ((k->name = strndup(s, len)) == NULL)
		goto oom;
	e->nkeys++;
	return (k);
oom:
	snprintf(why, whylen, "out of memory");
	return (NULL);
}

/* One "NAME:TYPE[:required][:use][:own][:choices=a|b]" of keys=. */
static int
commands_spec(struct commands_entry *e, const char *s, size_t len, char *why,
    size_t whylen)
{
	struct commands_key *k;
	const char	    *end = s + len, *p, *q;
	size_t		     n;

	q = memchr(s, ':', len);
	if (q == NULL || q + 1 == end || q[1] == ':') {
		snprintf(why, whylen, "%s: \"%.*s\" has no type", e->name,
		    (int)len, s);
		return (-1);
	}
	if ((k = commands_new_key(e, s, q - s, why, whylen)) == NULL)
		return (-1);
	p = q + 1;
	q = memchr(p, ':', end - p);
	if (q == NULL)
		q = end;
	k->type = commands_type(p, q - p);
	while (q < end) {
		p = q + 1;
		if ((q = memchr(p, ':', end - p)) == NULL)
			q = end;
		n = q - p;
		if (n == 8 && memcmp(p, "required", 8) == 0)
			k->flags |= COMMANDS_REQUIRED;
		else if (n == 3 && memcmp(p, "use", 3) == 0)
			k->flags |= COMMANDS_USE;
		else if (n == 3 && memcmp(p, "own", 3) == 0)
			k->flags |= COMMANDS_OWN;
		else if (n >= 8 && memcmp(p, "choices=", 8) == 0) {
			if (k->type != COMMANDS_TYPE_ENUM || n == 8 ||
			    k->choices != NULL) {
				snprintf(why, whylen,
				    "%s: key \"%s\": bad "
				    "choices",
				    e->name, k->name);
				return (-1);
			}
			if ((k->choices = strndup(p + 8, n - 8)) == NULL) {
				snprintf(why, whylen, "out of memory");
				return (-1);
			}
		}
		/* else a modifier of a newer server: not ours to judge */
	}
	return (0);
}

/* Each space-separated word of s through fn. */
static int
commands_words(struct commands_entry *e, const char *s, size_t len,
    int (*fn)(struct commands_entry *, const char *, size_t, char *, size_t),
    char *why, size_t whylen)
{
	const char *end = s + len;
	size_t	    n;

	while (s < end) {
		if (*s == ' ') {
			s++;
			continue;
		}
		n = strcspn(s, " ");
		if (n > (size_t)(end - s))
			n = end - s;
		if (fn(e, s, n, why, whylen) == -1)
			return (-1);
		s += n;
	}
	return (0);
}

/* Only dry_run (args=) and its duplicates (keys=) are not kept as keys. */
static int
commands_spec_word(struct commands_entry *e, const char *s, size_t len,
    char *why, size_t whylen)
{
	if (len > 8 && memcmp(s, "dry_run:", 8) == 0)
		return (0);
	return (commands_spec(e, s, len, why, whylen));
}

/* One "name=" or "[name=]" of args=; [event=] is required, defaulting to
 * the event of USE. */
static int
commands_arg_word(struct commands_entry *e, const char *s, size_t len,
    char *why, size_t whylen)
{
	struct commands_key *k;
	int		     optional = 0;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		optional = 1;
		s++;
		len -= 2;
	}
	if (len < 2 || s[len - 1] != '=') {
		snprintf(why, whylen,
		    "%s: \"%.*s\" is not name= or "
		    "[name=]",
		    e->name, (int)len + 2 * optional, s - optional);
		return (-1);
	}
	len--;
	if (len == 7 && memcmp(s, "dry_run", 7) == 0) {
		e->dry_run = 1;
		return (0);
	}
	if ((k = commands_new_key(e, s, len, why, whylen)) == NULL)
		return (-1);
	if (!optional)
		k->flags = COMMANDS_REQUIRED;
	else if (strcmp(k->name, "event") == 0)
		k->flags = COMMANDS_REQUIRED | COMMANDS_USE;
	return (0);
}

/* The entry from a record's fields; -1 with why set. */
static int
commands_entry(struct commands_entry *e, const struct proto_reply *rep,
    char *why, size_t whylen)
{
	const struct proto_field *name, *keys, *args, *dry, *fields;

	if ((name = proto_reply_field(rep, "command")) == NULL ||
	    name->vlen == 0) {
		snprintf(why, whylen, "a record without command=");
		return (-1);
	}
	if ((e->name = strndup(name->value, name->vlen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	keys = proto_reply_field(rep, "keys");
	args = proto_reply_field(rep, "args");
	dry = proto_reply_field(rep, "dry_run");
	if ((fields = proto_reply_field(rep, "fields")) != NULL &&
	    (e->fields = strndup(fields->value, fields->vlen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	if (keys != NULL) {
		if (commands_words(e, keys->value, keys->vlen,
			commands_spec_word, why, whylen) == -1)
			return (-1);
	} else if (args != NULL) {
		if (commands_words(e, args->value, args->vlen,
			commands_arg_word, why, whylen) == -1)
			return (-1);
	} else {
		snprintf(why, whylen, "%s: neither keys= nor args=", e->name);
		return (-1);
	}
	if (dry != NULL) {
		if (strcmp(dry->value, "yes") == 0)
			e->dry_run = 1;
		else if (strcmp(dry->value, "no") == 0)
			e->dry_run = 0;
		else {
			snprintf(why, whylen,
			    "%s: dry_run=%s is not yes or "
			    "no",
			    e->name, dry->value);
			return (-1);
		}
	} else if (keys != NULL && args != NULL) {
		/* dry_run only in args=: read it from there */
		e->dry_run = strstr(args->value, "[dry_run=]") != NULL;
	}
	return (0);
}

/*
 * Add the command of one HELP record ("* command=... keys=..."; the line
 * without its LF). -1 with a reason in why when the record cannot be
 * read; the set is unchanged then.
 */
int
commands_add(struct commands *set, const char *line, size_t len, char *why,
    size_t whylen)
{
	struct proto_reply    rep;
	struct commands_entry e, *p;
	int		      rv = -1;

	memset(&e, 0, sizeof e);
	if (proto_parse_reply(line, len, &rep) != PROTO_LINE_RECORD) {
		snprintf(why, whylen, "not a record");
		goto out;
	}
	if (commands_entry(&e, &rep, why, whylen) == -1)
		goto out;
	if (commands_find(set, e.name) != NULL) {
		snprintf(why, whylen, "%s: twice", e.name);
		goto out;
	}
	if (set->nentries == set->cap) {
		p = reallocarray(set->entries, set->cap + 32, sizeof *p);
		if (p == NULL) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		set->entries = p;
		set->cap += 32;
	}
	set->entries[set->nentries++] = e;
	memset(&e, 0, sizeof e);
	rv = 0;
out:
	commands_entry_free(&e);
	proto_reply_free(&rep);
	return (rv);
}
