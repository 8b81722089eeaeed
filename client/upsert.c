/*
 * upsert.c -- what an import's rows are against what the server has: the
 * parties (PARTY LIST) to read a party given by its name, the participants
 * by name for speakers, and the kind's records (its LIST for each event of
 * the rows). A row that matches a record is left unchanged when no cell of
 * it differs from the record, and becomes a SET of the cells that differ
 * (under the record's version=, or the row's version column) when some
 * do; a row that matches none is added. What matches:
 *
 *   participants  the id column when given; else the e-mail address
 *                 (in any case) of a participant of the same party and
 *                 event, else the same name (of one without an e-mail
 *                 address when the row has one)
 *   delegations   the party;  sessions  the code;  parties  the code
 *   speakers      the session and the participant
 *
 * An empty cell is a key left out: it is never compared, and never
 * clears anything. Parties cannot be changed (PARTY ADD only), nor
 * speakers (no SPEAKER SET): a speaker row that differs is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "roster.h"

void
upsert_recs_free(struct import_recs *rs)
{
	size_t i, j;

	for (i = 0; i < rs->n; i++) {
		for (j = 0; j < rs->r[i].n; j++) {
			free(rs->r[i].keys[j]);
			free(rs->r[i].values[j]);
		}
		free(rs->r[i].keys);
		free(rs->r[i].values);
		free(rs->r[i].event);
	}
	free(rs->r);
	memset(rs, 0, sizeof *rs);
}

/* A field of a record, or NULL when absent. */
const char *
upsert_field(const struct import_rec *rec, const char *key)
{
	size_t i;

	for (i = 0; rec != NULL && i < rec->n; i++)
		if (strcmp(rec->keys[i], key) == 0)
			return (rec->values[i]);
	return (NULL);
}

static int
upsert_keep(struct import_recs *rs, const struct proto_reply *rep,
    const char *event)
{
	struct import_rec *rec;
	size_t		   i;

	if (rs->n == rs->cap) {
		rec = reallocarray(rs->r, rs->cap + 256, sizeof *rec);
		if (rec == NULL)
			return (-1);
		rs->r = rec;
		rs->cap += 256;
	}
	rec = &rs->r[rs->n];
	memset(rec, 0, sizeof *rec);
	rs->n++;
	if ((event != NULL && (rec->event = strdup(event)) == NULL) ||
	    (rec->keys = calloc(rep->nfields + 1, sizeof *rec->keys)) == NULL ||
	    (rec->values = calloc(rep->nfields + 1, sizeof *rec->values)) ==
		NULL)
		return (-1);
	for (i = 0; i < rep->nfields; i++) {
		if (rep->fields[i].key == NULL)
			continue;
		rec->keys[rec->n] = strdup(rep->fields[i].key);
		rec->values[rec->n] = strndup(rep->fields[i].value,
		    rep->fields[i].vlen);
		rec->n++;
		if (rec->keys[rec->n - 1] == NULL ||
		    rec->values[rec->n - 1] == NULL)
			return (-1);
	}
	return (0);
}

/* The records of a list (one request, event= when event is not NULL)
 * into rs. -1 on failure. */
static int
upsert_list(struct import *im, const char *command, const char *event,
    struct import_recs *rs)
{
	struct net_conn	  *c = &im->r->conn;
	struct proto_buf   req;
	struct proto_reply rep;
	char		  *line;
	size_t		   len;
	int		   kind, rv;

	proto_buf_init(&req);
	proto_buf_addstr(&req, command);
	if (event != NULL)
		proto_buf_field(&req, "event", event, strlen(event));
	if (req.oom) {
		proto_buf_free(&req);
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	net_queue(c, req.data, req.len);
	proto_buf_free(&req);
	for (;;) {
		if (net_read_line(c, &line, &len) != NET_LINE) {
			fprintf(stderr, "roster: %s\n", c->err);
			return (-1);
		}
		kind = proto_parse_reply(line, len, &rep);
		rv = kind == PROTO_LINE_RECORD ?
		    upsert_keep(rs, &rep, event) :
		    0;
		proto_reply_free(&rep);
		if (rv == -1) {
			fprintf(stderr, "roster: out of memory\n");
			return (-1);
		}
		if (kind == PROTO_LINE_OK)
			return (0);
		/* An event that is not there has nothing to compare with;
		 * its rows are refused one by one. */
		if (kind == PROTO_LINE_ERR && event != NULL &&
		    strncmp(line, "ERR NOT_FOUND", 13) == 0)
			return (0);
		if (kind == PROTO_LINE_ERR) {
			fprintf(stderr, "roster: %s%s%s: %.*s\n", command,
			    event ? " event=" : "", event ? event : "",
			    (int)len, line);
			return (-1);
		}
	}
}

/*
 * Names of countries that the installation (sql/002_countries.sql) spells
 * otherwise: ISO 3166-1's short names where it uses the common one, and
 * Turkey, ISO's name for TR until 2022, which spreadsheets still have.
 */
static const struct {
	const char *code;
	const char *name;
} upsert_iso_names[] = {
	{ "BO", "Bolivia, Plurinational State of" },
	{ "IR", "Iran, Islamic Republic of" },
	{ "KP", "Korea, Democratic People's Republic of" },
	{ "KR", "Korea, Republic of" },
	{ "LA", "Lao People's Democratic Republic" },
	{ "MD", "Moldova, Republic of" },
	{ "SY", "Syrian Arab Republic" },
	{ "TR", "Turkey" },
	{ "TW", "Taiwan, Province of China" },
	{ "TZ", "Tanzania, United Republic of" },
	{ "VE", "Venezuela, Bolivarian Republic of" },
	{ "VN", "Viet Nam" },
};

/* The code of a party the installation has, or NULL. */
static const char *
upsert_code(const struct import *im, const char *v)
{
	const char *code;
	size_t	    i;

	for (i = 0; i < im->parties.n; i++) {
		code = upsert_field(&im->parties.r[i], "code");
		if (code != NULL && strcasecmp(code, v) == 0)
			return (code);
	}
	return (NULL);
}

/* 1 when the event of rec is ev. */
static int
upsert_same_event(const struct import_rec *rec, const char *ev)
{
	return (rec->event == NULL || ev == NULL ||
	    strcasecmp(rec->event, ev) == 0);
}

/*
 * The party a cell names: a party's code in any case, else a party's name
 * as the installation spells it, compared folded (case, accents and
 * punctuation aside: "Türkiye", "turkiye", "TÜRKIYE"), else an ISO name
 * of a country above. NULL (the row refused) when none or more than
 * one.
 */
static const char *
upsert_party(struct import *im, struct import_row *row, const char *v)
{
	const char *code, *name, *found = NULL;
	char	    want[256], got[256];
	size_t	    i, n = 0;

	if ((code = upsert_code(im, v)) != NULL)
		return (code);
	colmap_fold(v, want, sizeof want);
	for (i = 0; *want != '\0' && i < im->parties.n; i++) {
		code = upsert_field(&im->parties.r[i], "code");
		name = upsert_field(&im->parties.r[i], "name");
		if (code == NULL || name == NULL)
			continue;
		colmap_fold(name, got, sizeof got);
		if (strcmp(want, got) == 0) {
			found = code;
			n++;
		}
	}
	for (i = 0;
	     n == 0 && i < sizeof upsert_iso_names / sizeof upsert_iso_names[0];
	     i++) {
		colmap_fold(upsert_iso_names[i].name, got, sizeof got);
		if (strcmp(want, got) == 0 &&
		    (found = upsert_code(im, upsert_iso_names[i].code)) != NULL)
			n++;
	}
	if (n == 1)
		return (found);
	if (n == 0)
		import_refuse(row,
		    "party: \"%s\" is no party's code or name (PARTY LIST "
		    "has them)",
		    v);
	else
		import_refuse(row,
		    "party: \"%s\" is the name of %zu parties; give the code",
		    v, n);
	return (NULL);
}

/* The id of the participant with this name, for speakers; NULL (row
 * refused) when there is none or more than one. */
static const char *
upsert_person(struct import *im, struct import_row *row, const char *name)
{
	const struct import_rec *rec, *live = NULL, *gone = NULL;
	const char		*v, *st;
	size_t			 i, nlive = 0, ngone = 0;

	for (i = 0; i < im->people.n; i++) {
		rec = &im->people.r[i];
		if ((v = upsert_field(rec, "name")) == NULL ||
		    strcmp(v, name) != 0 || upsert_field(rec, "id") == NULL)
			continue;
		st = upsert_field(rec, "status");
		if (st != NULL && strcmp(st, "declined") == 0) {
			gone = rec;
			ngone++;
		} else {
			live = rec;
			nlive++;
		}
	}
	/* Someone who declined does not hide a namesake who did not. */
	if (nlive == 1)
		return (upsert_field(live, "id"));
	if (nlive == 0 && ngone == 1)
		return (upsert_field(gone, "id"));
	import_refuse(row,
	    nlive + ngone == 0 ?
		"no participant named \"%s\" (not sent)" :
		"more than one participant named \"%s\" "
		"(not sent)",
	    name);
	return (NULL);
}

/*
 * Read what the rows are compared with: the parties (when a column names
 * one), the participants (speakers by name), the kind's records for each
 * event of the rows. -1 when a list fails.
 */
int
upsert_load(struct import *im)
{
	const char *ev, *seen[64];
	size_t	    i, j, nseen = 0;

	if ((import_col(im, "party") != -1 ||
		strcmp(im->kind->name, "parties") == 0) &&
	    upsert_list(im, "PARTY LIST", NULL, &im->parties) == -1)
		return (-1);
	if (strcmp(im->kind->name, "parties") == 0)
		return (upsert_list(im, im->kind->list, NULL, &im->recs));
	for (i = 1; i < im->nrows; i++) {
		if ((ev = import_event(im, &im->rows[i])) == NULL)
			continue;
		for (j = 0; j < nseen; j++)
			if (strcasecmp(seen[j], ev) == 0)
				break;
		if (j < nseen)
			continue;
		if (nseen == sizeof seen / sizeof seen[0]) {
			fprintf(stderr,
			    "roster: %s: rows of more than %zu "
			    "events\n",
			    im->path, nseen);
			return (-1);
		}
		seen[nseen++] = ev;
		if (upsert_list(im, im->kind->list, ev, &im->recs) == -1)
			return (-1);
		if (im->kind->alias != NULL &&
		    import_col(im, im->kind->alias) != -1 &&
		    upsert_list(im, "PARTICIPANT LIST", ev, &im->people) == -1)
			return (-1);
	}
	return (0);
}

/* The cells of a column as the server has them: e-mail addresses in any
 * case, times without the offset the server adds, counts as numbers. */
static int
upsert_equal(const struct commands_key *k, const char *cell, const char *have)
{
	size_t n = strlen(cell);

	if (have == NULL)
		return (0);
	if (k == NULL)
		return (strcmp(cell, have) == 0);
	switch (k->type) {
	case COMMANDS_TYPE_EMAIL:
	case COMMANDS_TYPE_CODE:
		return (strcasecmp(cell, have) == 0);
	case COMMANDS_TYPE_TIME:
		return (strncmp(cell, have, n) == 0 &&
		    (have[n] == '\0' || have[n] == '+' || have[n] == '-' ||
			have[n] == 'Z'));
	case COMMANDS_TYPE_COUNT:
	case COMMANDS_TYPE_ID:
		return (strtoll(cell, NULL, 10) == strtoll(have, NULL, 10) &&
		    strspn(cell, "0123456789") == n);
	default:
		return (strcmp(cell, have) == 0);
	}
}

/* The participant a row names, or NULL; refuses the row when it is
 * ambiguous. */
static const struct import_rec *
upsert_match_person(struct import *im, struct import_row *row)
{
	const struct import_rec *rec, *found = NULL;
	const char		*ev = import_event(im, row), *v, *party;
	ssize_t			 idc = import_col(im, "id");
	ssize_t			 ec = import_col(im, "email");
	ssize_t			 pc = import_col(im, "party");
	ssize_t			 nc = import_col(im, "name");
	const char		*email = ec != -1 ? row->v[ec] : "";
	size_t			 i, n = 0;
	int			 pass;

	party = pc != -1 ? row->v[pc] : "";
	if (idc != -1 && *row->v[idc] != '\0') {
		for (i = 0; i < im->recs.n; i++) {
			rec = &im->recs.r[i];
			if ((v = upsert_field(rec, "id")) != NULL &&
			    strcmp(v, row->v[idc]) == 0)
				found = rec;
		}
		if (found == NULL)
			import_refuse(row,
			    "id: no participant %s in this event", row->v[idc]);
		else if ((v = upsert_field(found, "party")) != NULL &&
		    *party != '\0' && strcasecmp(v, party) != 0) {
			import_refuse(row,
			    "id: participant %s is of %s, not %s (the party "
			    "cannot be changed)",
			    row->v[idc], v, party);
			found = NULL;
		}
		return (found);
	}
	/* By e-mail address, then by name (of one without an address). */
	for (pass = 0; pass < 2 && n == 0; pass++) {
		for (i = 0; i < im->recs.n; i++) {
			rec = &im->recs.r[i];
			if (!upsert_same_event(rec, ev) ||
			    (v = upsert_field(rec, "party")) == NULL ||
			    strcasecmp(v, party) != 0)
				continue;
			v = upsert_field(rec, pass == 0 ? "email" : "name");
			if (pass == 0 &&
			    (*email == '\0' || v == NULL ||
				strcasecmp(v, email) != 0))
				continue;
			if (pass == 1 &&
			    (nc == -1 || v == NULL ||
				strcmp(v, row->v[nc]) != 0 ||
				(*email != '\0' &&
				    upsert_field(rec, "email") != NULL)))
				continue;
			found = rec;
			n++;
		}
	}
	if (n > 1) {
		import_refuse(row,
		    pass == 1 ?
			"email: %zu participants of %s have \"%s\"; "
			"give an id column" :
			"name: %zu participants of %s are named \"%s\"; "
			"give an e-mail or id column",
		    n, party, pass == 1 ? email : row->v[nc]);
		return (NULL);
	}
	return (found);
}

/* The record a row names by its identifying column, or NULL. */
static const struct import_rec *
upsert_match(struct import *im, struct import_row *row)
{
	const struct import_rec *rec;
	const char		*ev = import_event(im, row), *v, *s, *p;
	ssize_t			 col, sc, pc;
	size_t			 i;

	if (im->kind->ident == NULL && im->kind->alias != NULL) {
		/* speakers: the session and the participant */
		sc = import_col(im, "session");
		pc = import_col(im, "participant");
		s = sc != -1 ? row->v[sc] : "";
		p = pc != -1 ? row->v[pc] : row->person;
		for (i = 0; i < im->recs.n; i++) {
			rec = &im->recs.r[i];
			if (upsert_same_event(rec, ev) &&
			    (v = upsert_field(rec, "session")) != NULL &&
			    strcasecmp(v, s) == 0 &&
			    (v = upsert_field(rec, "participant")) != NULL &&
			    p != NULL && strcmp(v, p) == 0)
				return (rec);
		}
		return (NULL);
	}
	if (im->kind->ident == NULL)
		return (upsert_match_person(im, row));
	if ((col = import_col(im, im->kind->ident)) == -1)
		return (NULL);
	for (i = 0; i < im->recs.n; i++) {
		rec = &im->recs.r[i];
		if (upsert_same_event(rec, ev) &&
		    (v = upsert_field(rec, im->kind->ident)) != NULL &&
		    strcasecmp(v, row->v[col]) == 0)
			return (rec);
	}
	return (NULL);
}

/* 1 for a column that names the record rather than a field of it. */
static int
upsert_ident(const struct import *im, const char *key)
{
	return (strcmp(key, "event") == 0 || strcmp(key, "id") == 0 ||
	    strcmp(key, "version") == 0 || strcmp(key, "party") == 0 ||
	    (im->kind->ident != NULL && strcmp(key, im->kind->ident) == 0) ||
	    (im->kind->alias != NULL &&
		(strcmp(key, im->kind->alias) == 0 ||
		    strcmp(key, im->kind->alias_of) == 0 ||
		    strcmp(key, "session") == 0)));
}

/* Which columns of a matched row differ from its record. */
static void
upsert_compare(struct import *im, struct import_row *row)
{
	const struct commands_key *k;
	size_t			   i;

	row->changed = 0;
	for (i = 0; i < im->ncols; i++) {
		if (*row->v[i] == '\0' || upsert_ident(im, im->cols[i]))
			continue;
		k = im->set != NULL ? commands_key(im->set, im->cols[i]) : NULL;
		if (k == NULL)
			k = commands_key(im->cmd, im->cols[i]);
		if (!upsert_equal(k, row->v[i],
			upsert_field(row->rec, im->cols[i])))
			row->changed |= 1UL << i;
	}
}

/* The first column of changed, by name. */
static const char *
upsert_first(const struct import *im, unsigned long changed)
{
	size_t i;

	for (i = 0; i < im->ncols; i++)
		if (changed & (1UL << i))
			return (im->cols[i]);
	return ("");
}

/* A row that matched: unchanged, a SET, or refused. */
static void
upsert_matched(struct import *im, struct import_row *row, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (im->rows[i].rec == row->rec &&
		    im->rows[i].state != IMPORT_REFUSED) {
			import_refuse(row,
			    "the same one as line %zu (not sent)",
			    im->rows[i].line);
			return;
		}
	}
	upsert_compare(im, row);
	if (row->changed == 0)
		row->state = IMPORT_UNCHANGED;
	else if (strcmp(im->kind->name, "parties") == 0)
		row->state = IMPORT_UNCHANGED; /* a party that exists */
	else if (im->set == NULL)
		import_refuse(row,
		    "already there with another %s, which the server cannot "
		    "change (not sent)",
		    upsert_first(im, row->changed));
	else
		row->state = IMPORT_SET;
}

/* A row to add whose e-mail address an earlier row to add has. */
static void
upsert_twice(struct import *im, struct import_row *row, size_t n)
{
	ssize_t ec = import_col(im, "email"), pc = import_col(im, "party");
	size_t	i;

	if (ec == -1 || *row->v[ec] == '\0' || im->kind->ident != NULL)
		return;
	for (i = 1; i < n; i++) {
		if (im->rows[i].state == IMPORT_ADD &&
		    strcasecmp(im->rows[i].v[ec], row->v[ec]) == 0 &&
		    (pc == -1 ||
			strcasecmp(im->rows[i].v[pc], row->v[pc]) == 0)) {
			import_refuse(row,
			    "email: \"%s\" is on line %zu too (not sent)",
			    row->v[ec], im->rows[i].line);
			return;
		}
	}
}

/* What each row is to be: added, a SET, unchanged, or refused. */
void
upsert_classify(struct import *im)
{
	struct import_row *row;
	const char	  *v;
	ssize_t		   pc = import_col(im, "party");
	ssize_t		   ac = im->kind->alias != NULL ?
		       import_col(im, im->kind->alias) :
		       -1;
	size_t		   i;

	for (i = 1; i < im->nrows; i++) {
		row = &im->rows[i];
		if (row->state != IMPORT_PENDING)
			continue;
		if (pc != -1 && *row->v[pc] != '\0') {
			if ((v = upsert_party(im, row, row->v[pc])) == NULL)
				continue;
			if (strcmp(v, row->v[pc]) != 0) {
				free(row->v[pc]);
				if ((row->v[pc] = strdup(v)) == NULL) {
					row->v[pc] = strdup("");
					import_refuse(row, "out of memory");
					continue;
				}
			}
		}
		if (ac != -1 && *row->v[ac] != '\0' &&
		    (row->person = upsert_person(im, row, row->v[ac])) == NULL)
			continue;
		if ((row->rec = upsert_match(im, row)) != NULL)
			upsert_matched(im, row, i);
		else if (row->state != IMPORT_REFUSED) {
			row->state = IMPORT_ADD;
			upsert_twice(im, row, i);
		}
	}
}
