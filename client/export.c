/*
 * export.c -- roster export WHAT [-o FILE] [key=value ...]: EXPORT
 * what=WHAT, its payload written to stdout or to FILE. A file is written
 * beside itself (FILE.XXXXXX) and renamed into place only when the export
 * is OK, so that a failed export never leaves half a list where the last
 * good one was; a device or a pipe (/dev/null, a FIFO) is written as it
 * is, never replaced by a file.
 *
 * The file's format is format= when given, else FILE's extension (.csv,
 * .tsv, .xlsx, .pdf), else CSV. CSV and TSV are rosterd's payload as it
 * is; a format with a writer (XLSX, xlsx.c; PDF, the list of participants,
 * lop.c) has rosterd send CSV, kept in a temporary file until the OK, then
 * made into FILE by the writer (for stdout, a device or a pipe: into a
 * temporary file, then copied). A writer has the session too, for what
 * else it asks the server (the event a list of participants is of).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roster.h"

/* The formats of an export file. */
struct export_format {
	const char *name; /* format= and the file's extension */
	const char *wire; /* the format= rosterd sends */
	/* (session, csv, path, what); NULL: the payload as it is */
	int (*write)(struct roster *, FILE *, const char *, const char *);
	const char *only;     /* the one what= it writes; NULL: any */
	int	    document; /* takes --title and --no-email */
};

static const struct export_format export_formats[] = {
	{ "csv", "csv", NULL, NULL, 0 },
	{ "tsv", "tsv", NULL, NULL, 0 },
	{ "xlsx", "csv", xlsx_write, NULL, 0 },
	{ "pdf", "csv", lop_write, "participants", 1 },
};
#define EXPORT_NFORMATS (sizeof export_formats / sizeof export_formats[0])

/* CSV and TSV of the attendance, which the CLI reshapes (attendance.c). */
static const struct export_format export_attendance_csv = { "csv", "csv",
	attendance_write_csv, NULL, 0 };
static const struct export_format export_attendance_tsv = { "tsv", "csv",
	attendance_write_tsv, NULL, 0 };

static const struct export_format *
export_format(const char *name)
{
	size_t i;

	for (i = 0; i < EXPORT_NFORMATS; i++)
		if (strcasecmp(export_formats[i].name, name) == 0)
			return (&export_formats[i]);
	return (NULL);
}

/* The format: format= (*value), else path's extension, else CSV. NULL
 * with a message when it is not one roster writes, or not of what, or
 * not with the options given. */
static const struct export_format *
export_choose(struct roster *r, const char *value, const char *path,
    const char *what)
{
	const struct export_format *f;
	const char		   *dot, *slash;

	if (value != NULL) {
		if ((f = export_format(value)) == NULL) {
			fprintf(stderr,
			    "roster: format=%s: one of csv, tsv, "
			    "xlsx, pdf\n",
			    value);
			return (NULL);
		}
	} else if (path != NULL && (dot = strrchr(path, '.')) != NULL &&
	    ((slash = strrchr(path, '/')) == NULL || slash < dot) &&
	    (f = export_format(dot + 1)) != NULL)
		;
	else
		f = &export_formats[0];
	if (f->only != NULL && (what == NULL || strcmp(what, f->only) != 0)) {
		fprintf(stderr,
		    "roster: export to %s: only of %s (not of %s)\n", f->name,
		    f->only, what != NULL ? what : "no what=");
		return (NULL);
	}
	if (!f->document && (r->title != NULL || r->no_email)) {
		fprintf(stderr,
		    "roster: --title and --no-email are for a "
		    "document (export participants to .pdf)\n");
		return (NULL);
	}
	if (f->write != NULL && (path == NULL || strcmp(path, "-") == 0) &&
	    isatty(STDOUT_FILENO)) {
		fprintf(stderr,
		    "roster: export to %s: not to a terminal; "
		    "give -o FILE\n",
		    f->name);
		return (NULL);
	}
	return (f);
}

/* Open the destination of -o (stdout for none or "-"); -1 with a message.
 * badges.c writes its PDF through it too. */
int
export_open(struct export_file *ef, const char *path)
{
	struct stat st;
	int	    fd;

	memset(ef, 0, sizeof *ef);
	ef->f = stdout;
	if (path == NULL || strcmp(path, "-") == 0)
		return (0);
	ef->path = path;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((ef->f = fopen(path, "w")) == NULL) {
			fprintf(stderr, "roster: %s: %s\n", path,
			    strerror(errno));
			return (-1);
		}
		ef->direct = 1;
		return (0);
	}
	if (asprintf(&ef->tmp, "%s.XXXXXX", path) == -1) {
		ef->tmp = NULL;
		return (-1);
	}
	if ((fd = mkstemp(ef->tmp)) == -1 ||
	    (ef->f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(ef->tmp);
		}
		free(ef->tmp);
		ef->tmp = NULL;
		return (-1);
	}
	return (0);
}

/* Close the destination: the file renamed into place when rv is OK, else
 * removed. Returns rv, or ROSTER_EXIT_FAIL when closing or renaming
 * failed. */
int
export_close(struct export_file *ef, int rv)
{
	if (ef->path == NULL)
		return (rv);
	if (fclose(ef->f) == EOF && rv == ROSTER_EXIT_OK) {
		fprintf(stderr, "roster: %s: %s\n", ef->path, strerror(errno));
		rv = ROSTER_EXIT_FAIL;
	}
	if (ef->tmp != NULL) {
		if (rv == ROSTER_EXIT_OK && rename(ef->tmp, ef->path) == -1) {
			fprintf(stderr, "roster: %s: %s\n", ef->path,
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
		}
		if (rv != ROSTER_EXIT_OK)
			unlink(ef->tmp);
		free(ef->tmp);
		ef->tmp = NULL;
	}
	return (rv);
}

/* Copy the file at path to f; -1 with a message. */
static int
export_copy(const char *path, FILE *f, const char *to)
{
	FILE  *in;
	char   buf[16384];
	size_t n;
	int    rv = 0;

	if ((in = fopen(path, "r")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, f) != n) {
			fprintf(stderr, "roster: %s: %s\n", to,
			    strerror(errno));
			rv = -1;
			break;
		}
	if (rv == 0 && ferror(in)) {
		fprintf(stderr, "roster: %s: %s\n", path, strerror(errno));
		rv = -1;
	}
	fclose(in);
	return (rv);
}

/*
 * The payload of a format with a writer: into a temporary file, then, on
 * OK, through the writer into the destination; for stdout, a device or a
 * pipe, into a temporary file of its own first, then copied there (the
 * writer takes a path).
 */
static int
export_written(struct roster *r, struct export_file *ef,
    const struct export_format *f, const char *req, size_t len,
    const char *what, const char *event)
{
	struct output o;
	FILE	     *csv, *shaped;
	const char   *tmpdir;
	char	     *own = NULL;
	int	      rv, fd;

	if ((csv = tmpfile()) == NULL) {
		fprintf(stderr, "roster: a temporary file: %s\n",
		    strerror(errno));
		return (ROSTER_EXIT_FAIL);
	}
	output_init(&o, r->format, csv);
	/* When the file goes to stdout, the final OK is not printed there. */
	o.keep = ef->path == NULL;
	rv = session_transact(r, req, len, &o, NULL);
	output_free(&o);
	if (rv == ROSTER_EXIT_OK && fflush(csv) == EOF) {
		fprintf(stderr, "roster: a temporary file: %s\n",
		    strerror(errno));
		rv = ROSTER_EXIT_FAIL;
	}
	/* Attendance: a column per session (or, --long, a row each). */
	if (rv == ROSTER_EXIT_OK && strcmp(what, "attendance") == 0) {
		if ((shaped = tmpfile()) == NULL) {
			fprintf(stderr, "roster: a temporary file: %s\n",
			    strerror(errno));
			rv = ROSTER_EXIT_FAIL;
		} else {
			rv = attendance_shape(r, event, csv, shaped,
			    r->long_form);
			fclose(csv);
			csv = shaped;
		}
	}
	if (rv == ROSTER_EXIT_OK && ef->tmp == NULL) {
		if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
			tmpdir = "/tmp";
		if (asprintf(&own, "%s/roster-export.XXXXXX", tmpdir) == -1) {
			own = NULL;
			rv = ROSTER_EXIT_FAIL;
		} else if ((fd = mkstemp(own)) == -1) {
			fprintf(stderr, "roster: %s: %s\n", own,
			    strerror(errno));
			free(own);
			own = NULL;
			rv = ROSTER_EXIT_FAIL;
		} else
			close(fd);
	}
	if (rv == ROSTER_EXIT_OK &&
	    f->write(r, csv, own != NULL ? own : ef->tmp, what) == -1)
		rv = ROSTER_EXIT_FAIL;
	if (rv == ROSTER_EXIT_OK && own != NULL &&
	    export_copy(own, ef->f, ef->path != NULL ? ef->path : "stdout") ==
		-1)
		rv = ROSTER_EXIT_FAIL;
	if (own != NULL) {
		unlink(own);
		free(own);
	}
	fclose(csv);
	return (rv);
}

int
export_run(struct roster *r)
{
	const struct export_format *f;
	struct export_file	    ef;
	struct output		    o;
	struct proto_buf	    req;
	const char		   *what = NULL, *fmt = NULL, *event = NULL;
	int			    rv = ROSTER_EXIT_FAIL, i, n = 0, shape;
	int			    argc = r->argc - 1;
	char			  **argv = r->argv + 1, **args;

	proto_buf_init(&req);
	if ((args = calloc(argc + 1, sizeof *args)) == NULL)
		return (ROSTER_EXIT_FAIL);
	proto_buf_addstr(&req, "EXPORT");
	if (argc > 0 && strchr(argv[0], '=') == NULL) {
		what = argv[0];
		proto_buf_field(&req, "what", argv[0], strlen(argv[0]));
		argc--;
		argv++;
	}
	/* format= is the file's; rosterd is sent the format it writes. */
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "event=", 6) == 0)
			event = argv[i] + 6;
		if (strncmp(argv[i], "format=", 7) == 0)
			fmt = argv[i] + 7;
		else if (strncmp(argv[i], "what=", 5) == 0 && what == NULL) {
			what = argv[i] + 5;
			args[n++] = argv[i];
		} else
			args[n++] = argv[i];
	}
	if ((f = export_choose(r, fmt, r->output, what)) == NULL)
		goto out;
	/* The CLI reshapes attendance: rosterd sends it CSV, and the format
	 * asked for is written from the shaped CSV. */
	shape = what != NULL && strcmp(what, "attendance") == 0;
	if (shape && f->write == NULL)
		f = strcmp(f->name, "tsv") == 0 ?
		    &export_attendance_tsv :
		    &export_attendance_csv;
	if (r->long_form && !shape) {
		fprintf(stderr, "roster: --long is for export attendance\n");
		goto out;
	}
	proto_buf_field(&req, "format", f->wire, strlen(f->wire));
	if (main_args("EXPORT", n, args, &req) == -1 || req.oom ||
	    export_open(&ef, r->output) == -1)
		goto out;
	if ((rv = session_open(r, "EXPORT")) == ROSTER_EXIT_OK) {
		if (f->write != NULL)
			rv = export_written(r, &ef, f, req.data, req.len,
			    what != NULL ? what : "export", event);
		else {
			output_init(&o, r->format, ef.f);
			rv = session_transact(r, req.data, req.len, &o, NULL);
			output_free(&o);
		}
	}
	rv = export_close(&ef, rv);
out:
	free(args);
	proto_buf_free(&req);
	return (rv);
}
