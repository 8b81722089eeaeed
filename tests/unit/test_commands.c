/*
 * test_commands.c -- unit tests for client/commands.c: HELP records read
 * into the command set, from keys= (PROTOCOL.md section 4) and from the
 * args= of an older rosterd; the errors on records that cannot be read;
 * the set's lookups.
 *
 * Table-driven: each row is one record and the exact entry, or the exact
 * reason, expected. A failing row is reported with its index and record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "roster.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#define MAXKEYS	  16

#define R    COMMANDS_REQUIRED
#define U    COMMANDS_USE
#define O    COMMANDS_OWN
#define T(x) COMMANDS_TYPE_##x

struct want_key {
	const char	  *name;
	enum commands_type type;
	int		   flags;
	const char	  *choices;
};

struct record_case {
	const char     *line;
	int		rv;
	const char     *name; /* rv 0 */
	int		dry_run;
	size_t		nkeys;
	struct want_key keys[MAXKEYS];
	const char     *why; /* rv -1 */
};

static const struct record_case record_cases[] = {
	/* keys= as the new rosterd sends it, with args= beside it. */
	{ "* command=\"PARTICIPANT ADD\" args=\"[event=] party= name= "
	  "[honorific=] [title=] [email=] [role=] [ref=] [dry_run=]\" "
	  "roles=admin,secretariat,host,focal keys=\"event:code:required:use "
	  "party:code:required:own name:name:required honorific:name "
	  "title:name email:email role:enum:choices=head|member|adviser|"
	  "observer|staff ref:ref\" dry_run=yes",
	    0, "PARTICIPANT ADD", 1, 8,
	    { { "event", T(CODE), R | U, NULL },
		{ "party", T(CODE), R | O, NULL }, { "name", T(NAME), R, NULL },
		{ "honorific", T(NAME), 0, NULL },
		{ "title", T(NAME), 0, NULL }, { "email", T(EMAIL), 0, NULL },
		{ "role", T(ENUM), 0, "head|member|adviser|observer|staff" },
		{ "ref", T(REF), 0, NULL } },
	    NULL },
	/* The same command from rosterd 0.1.0: args= alone. */
	{ "* command=\"PARTICIPANT ADD\" args=\"[event=] party= name= "
	  "[honorific=] [title=] [email=] [role=] [ref=] [dry_run=]\" "
	  "roles=admin,secretariat,host,focal",
	    0, "PARTICIPANT ADD", 1, 8,
	    { { "event", T(UNKNOWN), R | U, NULL },
		{ "party", T(UNKNOWN), R, NULL },
		{ "name", T(UNKNOWN), R, NULL },
		{ "honorific", T(UNKNOWN), 0, NULL },
		{ "title", T(UNKNOWN), 0, NULL },
		{ "email", T(UNKNOWN), 0, NULL },
		{ "role", T(UNKNOWN), 0, NULL },
		{ "ref", T(UNKNOWN), 0, NULL } },
	    NULL },
	{ "* command=PING args=\"\" roles=anyone keys=\"\" dry_run=no", 0,
	    "PING", 0, 0, { { 0 } }, NULL },
	{ "* command=PING args=\"\" roles=anyone", 0, "PING", 0, 0, { { 0 } },
	    NULL },
	/* USE's event= is required and has no default. */
	{ "* command=USE args=\"event=\" roles=admin", 0, "USE", 0, 1,
	    { { "event", T(UNKNOWN), R, NULL } }, NULL },
	{ "* command=USE args=\"event=\" keys=event:code:required "
	  "dry_run=no",
	    0, "USE", 0, 1, { { "event", T(CODE), R, NULL } }, NULL },
	{ "* command=EXPORT args=\"what= [format=] [party=] [event=]\" "
	  "roles=admin",
	    0, "EXPORT", 0, 4,
	    { { "what", T(UNKNOWN), R, NULL },
		{ "format", T(UNKNOWN), 0, NULL },
		{ "party", T(UNKNOWN), 0, NULL },
		{ "event", T(UNKNOWN), R | U, NULL } },
	    NULL },
	/* Spaces around and between the words of args=. */
	{ "* command=X args=\"  a=   [b=]  \"", 0, "X", 0, 2,
	    { { "a", T(UNKNOWN), R, NULL }, { "b", T(UNKNOWN), 0, NULL } },
	    NULL },
	/* keys= wins over args=. */
	{ "* command=X args=\"b= [dry_run=]\" keys=a:code dry_run=no", 0, "X",
	    0, 1, { { "a", T(CODE), 0, NULL } }, NULL },
	/* No dry_run= beside keys=: args= says. */
	{ "* command=X args=\"a= [dry_run=]\" keys=a:code:required", 0, "X", 1,
	    1, { { "a", T(CODE), R, NULL } }, NULL },
	{ "* command=X keys=a:code dry_run=yes", 0, "X", 1, 1,
	    { { "a", T(CODE), 0, NULL } }, NULL },
	/* The fields in any order, a bare word among them. */
	{ "* dry_run=yes keys=\"id:id:required\" extra command=ROSTER", 0,
	    "ROSTER", 1, 1, { { "id", T(ID), R, NULL } }, NULL },
	/* Modifiers in any order; a type or modifier of a newer server. */
	{ "* command=X keys=\"a:code:use:own:required b:instant:later "
	  "c:enum:choices=x:required\"",
	    0, "X", 0, 3,
	    { { "a", T(CODE), R | U | O, NULL }, { "b", T(UNKNOWN), 0, NULL },
		{ "c", T(ENUM), R, "x" } },
	    NULL },
	/* dry_run is not a key, even if listed. */
	{ "* command=X keys=\"a:code dry_run:enum:choices=yes\" dry_run=yes", 0,
	    "X", 1, 1, { { "a", T(CODE), 0, NULL } }, NULL },
	{ "* command=X keys=\"a:code b:id c:count d:name e:text f:line g:date "
	  "h:time i:timestamp j:email k:tz l:ref m:password n:secret o:enum "
	  "p:command\"",
	    0, "X", 0, 16,
	    { { "a", T(CODE), 0, NULL }, { "b", T(ID), 0, NULL },
		{ "c", T(COUNT), 0, NULL }, { "d", T(NAME), 0, NULL },
		{ "e", T(TEXT), 0, NULL }, { "f", T(LINE), 0, NULL },
		{ "g", T(DATE), 0, NULL }, { "h", T(TIME), 0, NULL },
		{ "i", T(TIMESTAMP), 0, NULL }, { "j", T(EMAIL), 0, NULL },
		{ "k", T(TZ), 0, NULL }, { "l", T(REF), 0, NULL },
		{ "m", T(PASSWORD), 0, NULL }, { "n", T(SECRET), 0, NULL },
		{ "o", T(ENUM), 0, NULL }, { "p", T(COMMAND), 0, NULL } },
	    NULL },

	/* Records that cannot be read, and why. */
	{ "OK count=1", -1, NULL, 0, 0, { { 0 } }, "not a record" },
	{ "* args=\"\" roles=anyone", -1, NULL, 0, 0, { { 0 } },
	    "a record without command=" },
	{ "* command=\"\" args=\"\"", -1, NULL, 0, 0, { { 0 } },
	    "a record without command=" },
	{ "* command=PING roles=anyone", -1, NULL, 0, 0, { { 0 } },
	    "PING: neither keys= nor args=" },
	{ "* command=X keys=party", -1, NULL, 0, 0, { { 0 } },
	    "X: \"party\" has no type" },
	{ "* command=X keys=party:", -1, NULL, 0, 0, { { 0 } },
	    "X: \"party:\" has no type" },
	{ "* command=X keys=party::required", -1, NULL, 0, 0, { { 0 } },
	    "X: \"party::required\" has no type" },
	{ "* command=X keys=Party:code", -1, NULL, 0, 0, { { 0 } },
	    "X: \"Party\" is not a key name" },
	{ "* command=X keys=:code", -1, NULL, 0, 0, { { 0 } },
	    "X: \"\" is not a key name" },
	{ "* command=X keys=\"a:code a:id\"", -1, NULL, 0, 0, { { 0 } },
	    "X: key \"a\" twice" },
	{ "* command=X keys=\"a:code:choices=x|y\"", -1, NULL, 0, 0, { { 0 } },
	    "X: key \"a\": bad choices" },
	{ "* command=X keys=\"a:enum:choices=\"", -1, NULL, 0, 0, { { 0 } },
	    "X: key \"a\": bad choices" },
	{ "* command=X keys=\"a:enum:choices=x:choices=y\"", -1, NULL, 0, 0,
	    { { 0 } }, "X: key \"a\": bad choices" },
	{ "* command=X args=party", -1, NULL, 0, 0, { { 0 } },
	    "X: \"party\" is not name= or [name=]" },
	{ "* command=X args=\"[party]\"", -1, NULL, 0, 0, { { 0 } },
	    "X: \"[party]\" is not name= or [name=]" },
	{ "* command=X args=\"[=]\"", -1, NULL, 0, 0, { { 0 } },
	    "X: \"[=]\" is not name= or [name=]" },
	{ "* command=X args=\"a= [a=]\"", -1, NULL, 0, 0, { { 0 } },
	    "X: key \"a\" twice" },
	{ "* command=X args=\"A=\"", -1, NULL, 0, 0, { { 0 } },
	    "X: \"A\" is not a key name" },
	{ "* command=X args=\"\" dry_run=maybe", -1, NULL, 0, 0, { { 0 } },
	    "X: dry_run=maybe is not yes or no" },
};

static int
check_entry(size_t i, const struct record_case *c,
    const struct commands_entry *e)
{
	const struct commands_key *k;
	const struct want_key	  *w;
	size_t			   j;
	int			   failed = 0;

	if (strcmp(e->name, c->name) != 0 || e->dry_run != c->dry_run ||
	    e->nkeys != c->nkeys) {
		print_error("case %zu: %s dry_run=%d %zu keys; not %s %d %zu\n",
		    i, e->name, e->dry_run, e->nkeys, c->name, c->dry_run,
		    c->nkeys);
		return (1);
	}
	for (j = 0; j < e->nkeys; j++) {
		k = &e->keys[j];
		w = &c->keys[j];
		if (strcmp(k->name, w->name) == 0 && k->type == w->type &&
		    k->flags == w->flags &&
		    ((k->choices == NULL && w->choices == NULL) ||
			(k->choices != NULL && w->choices != NULL &&
			    strcmp(k->choices, w->choices) == 0)))
			continue;
		print_error("case %zu: key %zu: %s type %d flags %d choices "
			    "%s; not %s %d %d %s\n",
		    i, j, k->name, k->type, k->flags,
		    k->choices ? k->choices : "-", w->name, w->type, w->flags,
		    w->choices ? w->choices : "-");
		failed = 1;
	}
	return (failed);
}

static void
test_records(void **state)
{
	const struct record_case *c;
	struct commands		  set;
	char			  why[256];
	size_t			  i;
	int			  rv, failed = 0;

	(void)state;
	for (i = 0; i < nitems(record_cases); i++) {
		c = &record_cases[i];
		commands_init(&set);
		why[0] = '\0';
		rv = commands_add(&set, c->line, strlen(c->line), why,
		    sizeof why);
		if (rv != c->rv) {
			print_error("case %zu: %s: returned %d, not %d (%s)\n",
			    i, c->line, rv, c->rv, why);
			failed++;
		} else if (rv == -1) {
			if (strcmp(why, c->why) != 0) {
				print_error("case %zu: %s: \"%s\", not "
					    "\"%s\"\n",
				    i, c->line, why, c->why);
				failed++;
			}
			if (set.nentries != 0) {
				print_error("case %zu: an entry was added\n",
				    i);
				failed++;
			}
		} else if (set.nentries != 1)
			failed++;
		else
			failed += check_entry(i, c, &set.entries[0]);
		commands_free(&set);
	}
	assert_int_equal(failed, 0);
}

/* A set of several commands: lookups, a command twice, free. */
static void
test_set(void **state)
{
	static const char *const lines[] = {
		"* command=PING args=\"\" roles=anyone",
		"* command=\"PARTY ADD\" args=\"code= kind= name= [dry_run=]\"",
		"* command=\"PARTY LIST\" keys=\"kind:enum:choices=country|"
		"organisation\" dry_run=no",
	};
	const struct commands_entry *e;
	const struct commands_key   *k;
	struct commands		     set;
	char			     why[256];
	size_t			     i;

	(void)state;
	commands_init(&set);
	assert_int_equal(set.loaded, 0);
	for (i = 0; i < nitems(lines); i++)
		assert_int_equal(commands_add(&set, lines[i], strlen(lines[i]),
				     why, sizeof why),
		    0);
	assert_int_equal(set.nentries, 3);
	assert_non_null(e = commands_find(&set, "party add"));
	assert_string_equal(e->name, "PARTY ADD");
	assert_int_equal(e->dry_run, 1);
	assert_non_null(k = commands_key(e, "kind"));
	assert_int_equal(k->flags, COMMANDS_REQUIRED);
	assert_null(commands_key(e, "ref"));
	assert_null(commands_key(e, "dry_run"));
	assert_non_null(e = commands_find(&set, "PARTY LIST"));
	assert_non_null(k = commands_key(e, "kind"));
	assert_string_equal(k->choices, "country|organisation");
	assert_null(commands_find(&set, "PARTY"));
	assert_null(commands_find(&set, "PARTY ADDX"));

	/* The same command again is refused; the set is unchanged. */
	assert_int_equal(commands_add(&set, "* command=ping args=\"\"", 22, why,
			     sizeof why),
	    -1);
	assert_string_equal(why, "ping: twice");
	assert_int_equal(set.nentries, 3);

	/* A record is read to its length only. */
	assert_int_equal(commands_add(&set,
			     "* command=USE args=\"event=\" "
			     "and more",
			     27, why, sizeof why),
	    0);
	assert_non_null(e = commands_find(&set, "USE"));
	assert_int_equal(e->nkeys, 1);

	commands_free(&set);
	assert_int_equal(set.nentries, 0);
	assert_null(commands_find(&set, "PING"));
	commands_free(&set);
}

/* Many commands and many keys: the arrays grow. */
static void
test_many(void **state)
{
	struct commands set;
	char		line[2048], why[256], *p;
	size_t		i, j;

	(void)state;
	commands_init(&set);
	for (i = 0; i < 100; i++) {
		p = line + sprintf(line, "* command=C%zu keys=\"", i);
		for (j = 0; j < 30; j++)
			p += sprintf(p, "%sk%zu:text", j ? " " : "", j);
		sprintf(p, "\" dry_run=no");
		assert_int_equal(commands_add(&set, line, strlen(line), why,
				     sizeof why),
		    0);
	}
	assert_int_equal(set.nentries, 100);
	assert_int_equal(commands_find(&set, "C99")->nkeys, 30);
	assert_string_equal(commands_find(&set, "C42")->keys[29].name, "k29");
	commands_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_many),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
