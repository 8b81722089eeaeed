/*
 * people.c -- what the printed documents show (the List of Participants,
 * the badges): the event as EVENT SHOW gives it, with the names of the
 * parties it names (host country, chair, co-chair, secretariat: PARTY
 * SHOW), and its participants as EXPORT what=participants sends them, in
 * the export's order (countries, then organisations, each in the Unicode
 * collation; a delegation's head first, then by family name). Declined
 * participants are left out: no document shows them.
 *
 * The documents are rendered here, on the user's machine, from what
 * rosterd already sends; the daemon stays a data server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

/* The export's columns, by name, in struct people_person's order. */
static const char *const people_columns[] = {
	"party",
	"delegation",
	"kind",
	"id",
	"honorific",
	"name",
	"title",
	"email",
	"role",
	"status",
	"badge",
	"family",
	"latin",
};
#define PEOPLE_NCOLUMNS (sizeof people_columns / sizeof people_columns[0])

void
people_init(struct people *pp)
{
	memset(pp, 0, sizeof *pp);
	csv_init(&pp->csv);
}

void
people_free(struct people *pp)
{
	struct people_event *ev = &pp->event;

	free(ev->code);
	free(ev->title);
	free(ev->venue);
	free(ev->city);
	free(ev->country);
	free(ev->starts);
	free(ev->ends);
	free(ev->timezone);
	free(ev->country_name);
	free(ev->chair);
	free(ev->co_chair);
	free(ev->secretariat);
	free(pp->p);
	csv_free(&pp->csv);
	free(pp->text);
	people_init(pp);
}

/* A cell as a document shows it: without the ' the export puts before a
 * value that a spreadsheet would take for a formula. */
static const char *
people_cell(const char *s)
{
	if (s[0] == '\'' && s[1] != '\0' && strchr("=+-@", s[1]) != NULL)
		return (s + 1);
	return (s);
}

/*
 * The participants from an export's CSV (header first), read from f's
 * start. 0, or -1 with a message.
 */
int
people_read(struct people *pp, FILE *f)
{
	struct people_person *p;
	struct csv_row	     *row;
	const char	    **field;
	size_t		      col[PEOPLE_NCOLUMNS], i, j, len;
	char		     *text;

	if (export_slurp(f, &text, &len) == -1)
		return (-1);
	pp->text = text;
	if (csv_parse(&pp->csv, text, len) == -1) {
		fprintf(stderr, "roster: the export's CSV: line %zu: %s\n",
		    pp->csv.errline, pp->csv.err);
		return (-1);
	}
	if (pp->csv.nrows == 0) {
		fprintf(stderr, "roster: the export is empty\n");
		return (-1);
	}
	row = &pp->csv.rows[0];
	for (i = 0; i < PEOPLE_NCOLUMNS; i++) {
		for (j = 0; j < row->nfields; j++)
			if (strcmp(row->fields[j], people_columns[i]) == 0)
				break;
		if (j == row->nfields) {
			fprintf(stderr,
			    "roster: the export has no column "
			    "\"%s\" (is rosterd older than this roster?)\n",
			    people_columns[i]);
			return (-1);
		}
		col[i] = j;
	}
	if ((pp->p = calloc(pp->csv.nrows, sizeof *pp->p)) == NULL) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	for (i = 1; i < pp->csv.nrows; i++) {
		row = &pp->csv.rows[i];
		p = &pp->p[pp->n];
		field = &p->party;
		for (j = 0; j < PEOPLE_NCOLUMNS; j++)
			field[j] = people_cell(col[j] < row->nfields ?
				row->fields[col[j]] :
				"");
		if (strcmp(p->status, "declined") != 0)
			pp->n++;
	}
	return (0);
}

/* The first record of a request's reply, its fields copied into *dst
 * (names[i] into dst[i], NULL when absent). An exit status. */
static int
people_record(struct roster *r, const char *req, size_t len,
    const char *const *names, char **dst, size_t n)
{
	struct output o;
	size_t	      i, j;
	int	      rv;

	output_init(&o, OUTPUT_TABLE, stdout);
	o.keep = 1;
	rv = session_transact(r, req, len, &o, NULL);
	if (rv == ROSTER_EXIT_OK && o.nrecs == 0) {
		fprintf(stderr, "roster: %.*s: no record\n", (int)len, req);
		rv = ROSTER_EXIT_FAIL;
	}
	for (i = 0; rv == ROSTER_EXIT_OK && i < n; i++)
		for (j = 0; j < o.recs[0].n; j++)
			if (strcmp(o.recs[0].keys[j], names[i]) == 0 &&
			    o.recs[0].values[j][0] != '\0') {
				if ((dst[i] = strdup(o.recs[0].values[j])) ==
				    NULL)
					rv = ROSTER_EXIT_FAIL;
				break;
			}
	if (o.oom)
		rv = ROSTER_EXIT_FAIL;
	output_free(&o);
	return (rv);
}

/* A party's name by its code: PARTY SHOW; *name stays NULL for none. */
static int
people_party(struct roster *r, const char *code, char **name)
{
	static const char *const names[] = { "name" };
	struct proto_buf	 req;
	int			 rv;

	if (code == NULL)
		return (ROSTER_EXIT_OK);
	proto_buf_init(&req);
	proto_buf_addstr(&req, "PARTY SHOW");
	proto_buf_field(&req, "party", code, strlen(code));
	rv = req.oom ?
	    ROSTER_EXIT_FAIL :
	    people_record(r, req.data, req.len, names, name, 1);
	proto_buf_free(&req);
	return (rv);
}

/*
 * The event: event, or the session's USE when NULL. Its chair, co-chair
 * and secretariat (party codes in EVENT SHOW) become the parties' names.
 * An exit status.
 */
int
people_event(struct roster *r, const char *event, struct people *pp)
{
	static const char *const names[] = { "code", "title", "venue", "city",
		"country", "starts", "ends", "timezone", "chair", "co_chair",
		"secretariat" };
	struct people_event	*ev = &pp->event;
	char			*got[sizeof names / sizeof names[0]] = { NULL };
	struct proto_buf	 req;
	int			 rv;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "EVENT SHOW");
	if (event != NULL)
		proto_buf_field(&req, "event", event, strlen(event));
	rv = req.oom ?
	    ROSTER_EXIT_FAIL :
	    people_record(r, req.data, req.len, names, got,
		sizeof names / sizeof names[0]);
	proto_buf_free(&req);
	ev->code = got[0];
	ev->title = got[1];
	ev->venue = got[2];
	ev->city = got[3];
	ev->country = got[4];
	ev->starts = got[5];
	ev->ends = got[6];
	ev->timezone = got[7];
	if (rv == ROSTER_EXIT_OK)
		rv = people_party(r, ev->country, &ev->country_name);
	if (rv == ROSTER_EXIT_OK)
		rv = people_party(r, got[8], &ev->chair);
	if (rv == ROSTER_EXIT_OK)
		rv = people_party(r, got[9], &ev->co_chair);
	if (rv == ROSTER_EXIT_OK)
		rv = people_party(r, got[10], &ev->secretariat);
	free(got[8]);
	free(got[9]);
	free(got[10]);
	if (rv == ROSTER_EXIT_OK && (ev->code == NULL || ev->title == NULL)) {
		fprintf(stderr, "roster: EVENT SHOW: no code or title\n");
		rv = ROSTER_EXIT_FAIL;
	}
	return (rv);
}

/*
 * The event and its participants, through an open session: EVENT SHOW
 * (event= among args, else the session's USE), then EXPORT
 * what=participants with args (key=value: event=, party=, status=…). An
 * exit status.
 */
int
people_load(struct roster *r, int argc, char **argv, struct people *pp)
{
	struct proto_buf req;
	struct output	 o;
	const char	*event = NULL;
	FILE		*csv;
	int		 i, rv;

	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "event=", 6) == 0)
			event = argv[i] + 6;
	if ((rv = people_event(r, event, pp)) != ROSTER_EXIT_OK)
		return (rv);
	if ((csv = tmpfile()) == NULL) {
		fprintf(stderr, "roster: a temporary file: %s\n",
		    strerror(errno));
		return (ROSTER_EXIT_FAIL);
	}
	proto_buf_init(&req);
	proto_buf_addstr(&req, "EXPORT what=participants format=csv");
	if (main_args("EXPORT", argc, argv, &req) == -1 || req.oom)
		rv = ROSTER_EXIT_FAIL;
	else {
		output_init(&o, OUTPUT_TABLE, csv);
		o.keep = 1;
		rv = session_transact(r, req.data, req.len, &o, NULL);
		output_free(&o);
	}
	proto_buf_free(&req);
	if (rv == ROSTER_EXIT_OK && people_read(pp, csv) == -1)
		rv = ROSTER_EXIT_FAIL;
	fclose(csv);
	return (rv);
}
