/*
 * export.c -- roster export WHAT [-o FILE] [key=value ...]: EXPORT
 * what=WHAT, its payload written to stdout or to FILE. A file is written
 * beside itself (FILE.XXXXXX) and renamed into place only when the export
 * is OK, so that a failed export never leaves half a list where the last
 * good one was; a device or a pipe (/dev/null, a FIFO) is written as it
 * is, never replaced by a file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roster.h"

/* Where the payload goes. */
struct export_file {
	const char *path; /* NULL: stdout */
	FILE	   *f;
	char	   *tmp;    /* written here, then renamed */
	int	    direct; /* a device or pipe, written to */
};

/* Open the destination of -o (stdout for none or "-"); -1 with a message. */
static int
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
static int
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

int
export_run(struct roster *r)
{
	struct export_file ef;
	struct output	   o;
	struct proto_buf   req;
	int		   rv, argc = r->argc - 1;
	char		 **argv = r->argv + 1;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "EXPORT");
	if (argc > 0 && strchr(argv[0], '=') == NULL) {
		proto_buf_field(&req, "what", argv[0], strlen(argv[0]));
		argc--;
		argv++;
	}
	if (main_args("EXPORT", argc, argv, &req) == -1 || req.oom ||
	    export_open(&ef, r->output) == -1) {
		proto_buf_free(&req);
		return (ROSTER_EXIT_FAIL);
	}
	if ((rv = session_open(r, "EXPORT")) == ROSTER_EXIT_OK) {
		output_init(&o, r->format, ef.f);
		rv = session_transact(r, req.data, req.len, &o, NULL);
		output_free(&o);
	}
	rv = export_close(&ef, rv);
	proto_buf_free(&req);
	return (rv);
}
