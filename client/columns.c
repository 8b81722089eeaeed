/*
 * columns.c -- the columns of an import: each header of the file mapped
 * to a key of the kind's command (--map, then the key's own name, then the
 * headers colmap.c knows), checked against the command's keys from HELP
 * (unknown columns named, or skipped with --ignore-unknown; required ones
 * present; --event when the command needs an event), and the rows cut
 * into cells by those columns, every cell trimmed, the name made of a
 * given name and a family name when the file has those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

/* ref= and dry_run= are the CLI's to send, never a column. */
static int
columns_own_key(const char *key)
{
	return (strcmp(key, "ref") == 0 || strcmp(key, "dry_run") == 0);
}

/* 1 when a column may give key: a key of the command, the kind's alias,
 * the id and version of a record to update, a given name. */
static int
columns_accepts(const struct import *im, const char *key)
{
	const struct import_kind *kind = im->kind;

	if (kind->alias != NULL && strcmp(key, kind->alias) == 0)
		return (1);
	if (strcmp(key, "version") == 0)
		return (im->set != NULL && commands_key(im->set, key) != NULL);
	if (strcmp(key, "id") == 0 || strcmp(key, "given") == 0)
		return (strcmp(kind->name, "participants") == 0);
	return (!columns_own_key(key) && commands_key(im->cmd, key) != NULL);
}

/* The key of a header: --map's, the key of that name, a known header. NULL
 * for none, "" for a column --map leaves out. */
static const char *
columns_key_of(const struct import *im, const struct colmap *map,
    const char *header)
{
	const char *key;
	size_t	    i;

	if ((key = colmap_lookup(map, header)) != NULL)
		return (key);
	for (i = 0; i < im->cmd->nkeys; i++)
		if (colmap_same(header, im->cmd->keys[i].name) &&
		    columns_accepts(im, im->cmd->keys[i].name))
			return (im->cmd->keys[i].name);
	if (im->kind->alias != NULL && colmap_same(header, im->kind->alias))
		return (im->kind->alias);
	if (colmap_same(header, "id") && columns_accepts(im, "id"))
		return ("id");
	if (colmap_same(header, "version") && columns_accepts(im, "version"))
		return ("version");
	if ((key = colmap_known(header)) != NULL && columns_accepts(im, key))
		return (key);
	return (NULL);
}

/* The accepted columns, for messages: the command's keys in its order,
 * the alias after the key it stands for. */
static int
columns_list(struct import *im)
{
	struct proto_buf b;
	const char	*key;
	size_t		 i;

	proto_buf_init(&b);
	for (i = 0; i < im->cmd->nkeys; i++) {
		key = im->cmd->keys[i].name;
		if (columns_own_key(key))
			continue;
		if (b.len > 0)
			proto_buf_addch(&b, ' ');
		proto_buf_addstr(&b, key);
		if (im->kind->alias_of != NULL &&
		    strcmp(key, im->kind->alias_of) == 0) {
			proto_buf_addch(&b, ' ');
			proto_buf_addstr(&b, im->kind->alias);
		}
	}
	if (columns_accepts(im, "given"))
		proto_buf_addstr(&b, " given id");
	if (columns_accepts(im, "version"))
		proto_buf_addstr(&b, " version");
	im->columns = b.oom ? NULL : strdup(b.len ? b.data : "");
	proto_buf_free(&b);
	return (im->columns == NULL ? -1 : 0);
}

/* 1 when a cell of column i of a data row is not blank. */
static int
columns_has_cells(const struct import *im, size_t i)
{
	const struct csv_row *row;
	size_t		      n;

	for (n = 1; n < im->csv.nrows; n++) {
		row = &im->csv.rows[n];
		if (i < row->nfields &&
		    row->fields[i][strspn(row->fields[i], " \t\r\n")] != '\0')
			return (1);
	}
	return (0);
}

static int
columns_add(struct import *im, const char *key)
{
	if (im->ncols == IMPORT_MAX_COLS) {
		fprintf(stderr, "%s: more than %d columns\n", im->path,
		    IMPORT_MAX_COLS);
		return (-1);
	}
	if ((im->cols[im->ncols] = strdup(key)) == NULL) {
		fprintf(stderr, "roster: out of memory\n");
		return (-1);
	}
	im->ncols++;
	return (0);
}

static int
columns_cmp(const void *a, const void *b, void *arg)
{
	const struct import *im = arg;

	return (strcmp(im->cols[*(const size_t *)a],
	    im->cols[*(const size_t *)b]));
}

/*
 * Map the header row to keys into src (the CSV field of each column, -1
 * for the name made of given and family, -2 for none) and check the
 * columns against the command's keys. -1 with a message when the file
 * cannot be imported.
 */
int
columns_header(struct import *im, ssize_t *src, ssize_t *given)
{
	struct csv_row		  *h = &im->csv.rows[0];
	const struct commands_key *k;
	const struct import_kind  *kind = im->kind;
	struct colmap		   map;
	const char		  *key, *keyof[IMPORT_MAX_COLS * 4];
	char			   err[256];
	size_t			   i, j, unknown = 0;
	int			   rv = -1, has_key, has_alias;

	memset(&map, 0, sizeof map);
	*given = -1;
	if (columns_list(im) == -1 ||
	    (im->r->map != NULL &&
		colmap_parse(&map, im->r->map, err, sizeof err) == -1)) {
		fprintf(stderr, "roster: %s\n",
		    im->columns == NULL ? "out of memory" : err);
		goto out;
	}
	if (h->nfields > sizeof keyof / sizeof keyof[0]) {
		fprintf(stderr, "%s: too many columns\n", im->path);
		goto out;
	}
	for (i = 0; i < h->nfields; i++) {
		colmap_trim(h->fields[i]);
		key = columns_key_of(im, &map, h->fields[i]);
		if (key != NULL && *key != '\0' && !columns_accepts(im, key)) {
			fprintf(stderr,
			    "%s: --map gives column \"%s\" the key \"%s\", "
			    "which %s does not take (columns: %s)\n",
			    im->path, h->fields[i], key, kind->name,
			    im->columns);
			goto out;
		}
		keyof[i] = key;
		if (key == NULL && *h->fields[i] == '\0') {
			keyof[i] = ""; /* a column without a header */
			if (columns_has_cells(im, i))
				fprintf(stderr,
				    "%s: column %zu has no header: its cells "
				    "are left out\n",
				    im->path, i + 1);
		} else if (key == NULL) {
			unknown++;
			fprintf(stderr, "%s: %s column \"%s\" for %s%s\n",
			    im->path,
			    im->r->ignore_unknown ?
				"skipping the unknown" :
				"unknown",
			    h->fields[i], kind->name,
			    im->r->ignore_unknown ?
				"" :
				" (--ignore-unknown skips it; --map "
				"\"HEADER=KEY\" names its key)");
		}
	}
	if (unknown > 0 && !im->r->ignore_unknown) {
		fprintf(stderr, "%s: the columns of %s: %s\n", im->path,
		    kind->name, im->columns);
		goto out;
	}
	for (i = 0; i < h->nfields; i++) {
		if (keyof[i] == NULL || *keyof[i] == '\0')
			continue;
		for (j = 0; j < i; j++) {
			if (keyof[j] != NULL &&
			    strcmp(keyof[i], keyof[j]) == 0) {
				fprintf(stderr,
				    "%s: columns \"%s\" and \"%s\" both "
				    "give %s\n",
				    im->path, h->fields[j], h->fields[i],
				    keyof[i]);
				goto out;
			}
		}
		if (strcmp(keyof[i], "given") == 0) {
			*given = i;
			continue;
		}
		src[im->ncols] = i;
		if (columns_add(im, keyof[i]) == -1)
			goto out;
	}
	/* A given name makes the name, with the family name if any. */
	if (*given != -1 && import_col(im, "name") == -1) {
		src[im->ncols] = -1;
		if (columns_add(im, "name") == -1)
			goto out;
	}
	for (i = 0; i < im->cmd->nkeys; i++) {
		k = &im->cmd->keys[i];
		if (!(k->flags & COMMANDS_REQUIRED) ||
		    columns_own_key(k->name) || import_col(im, k->name) != -1 ||
		    (kind->alias_of != NULL &&
			strcmp(k->name, kind->alias_of) == 0))
			continue;
		if (k->flags & COMMANDS_USE) {
			if (im->r->event != NULL)
				continue;
			fprintf(stderr,
			    "roster: import %s needs --event CODE "
			    "(or an %s column)\n",
			    kind->name, k->name);
		} else if (strcmp(k->name, "name") == 0)
			fprintf(stderr,
			    "%s: no column \"name\" (or \"First name\" and "
			    "\"Last name\")\n",
			    im->path);
		else
			fprintf(stderr, "%s: no column \"%s\"\n", im->path,
			    k->name);
		goto out;
	}
	if (kind->alias != NULL) {
		has_key = import_col(im, kind->alias_of) != -1;
		has_alias = import_col(im, kind->alias) != -1;
		if (has_key == has_alias) {
			fprintf(stderr,
			    "%s: one of the columns %s or %s is "
			    "needed\n",
			    im->path, kind->alias, kind->alias_of);
			goto out;
		}
	}
	if (im->r->dry_run && !im->cmd->dry_run) {
		fprintf(stderr, "roster: %s does not take dry_run=yes\n",
		    im->cmd->name);
		goto out;
	}
	im->ref = commands_key(im->cmd, "ref") != NULL;
	for (i = 0; i < im->ncols; i++)
		im->order[i] = i;
	qsort_r(im->order, im->ncols, sizeof *im->order, columns_cmp, im);
	rv = 0;
out:
	colmap_free(&map);
	return (rv);
}

/* A cell, trimmed, into *v. */
static int
columns_cell(char **v, const char *s)
{
	if ((*v = strdup(s)) == NULL)
		return (-1);
	colmap_trim(*v);
	return (0);
}

/* The rows of the file by the import's columns, every cell trimmed; a
 * ragged row is refused. */
int
columns_rows(struct import *im, const ssize_t *src, ssize_t given)
{
	const struct csv_row *h = &im->csv.rows[0], *c;
	struct import_row    *row;
	ssize_t		      fam = import_col(im, "family");
	size_t		      i, j, n;
	char		     *g, *f;

	if ((im->rows = calloc(im->csv.nrows, sizeof *im->rows)) == NULL)
		return (-1);
	im->nrows = im->csv.nrows;
	for (i = 1; i < im->nrows; i++) {
		row = &im->rows[i];
		c = &im->csv.rows[i];
		row->line = c->line;
		for (n = c->nfields;
		     n > h->nfields && *c->fields[n - 1] == '\0';)
			n--; /* empty cells past the header's */
		for (j = 0; j < im->ncols; j++) {
			if (src[j] >= 0 && (size_t)src[j] < c->nfields) {
				if (columns_cell(&row->v[j],
					c->fields[src[j]]) == -1)
					return (-1);
			} else if (src[j] == -1 &&
			    given < (ssize_t)c->nfields) {
				g = c->fields[given];
				f = fam != -1 && (size_t)src[fam] < c->nfields ?
				    c->fields[src[fam]] :
				    "";
				if (asprintf(&row->v[j], "%s %s", g, f) == -1) {
					row->v[j] = NULL;
					return (-1);
				}
				colmap_trim(row->v[j]);
			} else if ((row->v[j] = strdup("")) == NULL)
				return (-1);
		}
		if (n != h->nfields)
			import_refuse(row,
			    "%zu fields where the header has %zu "
			    "(not sent)",
			    c->nfields, h->nfields);
	}
	return (0);
}
