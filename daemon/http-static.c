/*
 * http-static.c -- the web pages' files (web_root, proto/HTTP.md section
 * 8), read once at start into a table in memory: serving one never touches
 * the disk (nothing blocks the loop), and a request's path is only ever
 * looked up in the table, never opened, so that no path can name a file
 * outside it. Only regular files with plain names are taken (no dot
 * files, no symbolic links), within bounds of count and size.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rosterd.h"

#define STATIC_MAX_FILES 512
#define STATIC_MAX_BYTES (32 * 1024 * 1024)
#define STATIC_MAX_DEPTH 8
#define STATIC_MAX_PATH	 256

static struct http_file static_files[STATIC_MAX_FILES];
static int		static_nfiles;
static size_t		static_bytes;

static const struct {
	const char *ext;
	const char *type;
} static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *
static_type(const char *name)
{
	size_t n = strlen(name), i, e;

	for (i = 0; i < sizeof static_types / sizeof static_types[0]; i++) {
		e = strlen(static_types[i].ext);
		if (n > e && strcmp(name + n - e, static_types[i].ext) == 0)
			return (static_types[i].type);
	}
	return ("application/octet-stream");
}

/* A name the table takes: letters, digits, ".", "_", "-", not first ".". */
static int
static_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.')
		return (0);
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '_' || s[i] == '-'))
			return (0);
	return (1);
}

static int
static_read(int dirfd, const char *name, const char *path, char *err,
    size_t errlen)
{
	struct http_file *f;
	struct stat	  st;
	ssize_t		  n;
	size_t		  got = 0;
	int		  fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (0); /* changed under us: not a file any more */
	}
	if (static_nfiles == STATIC_MAX_FILES ||
	    (size_t)st.st_size > STATIC_MAX_BYTES - static_bytes) {
		close(fd);
		snprintf(err, errlen,
		    "web_root: more than %d files or %d bytes",
		    STATIC_MAX_FILES, STATIC_MAX_BYTES);
		return (-1);
	}
	f = &static_files[static_nfiles];
	if ((f->data = malloc((size_t)st.st_size + 1)) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f->data);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, f->data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	f->len = got;
	f->type = static_type(name);
	/* a file changes, its size or its time does: the browser's copy is
	 * revalidated (Cache-Control: no-cache) against this */
	snprintf(f->etag, sizeof f->etag, "\"%zx-%llx.%lx\"", got,
	    (unsigned long long)st.st_mtim.tv_sec,
	    (unsigned long)st.st_mtim.tv_nsec);
	static_bytes += got;
	static_nfiles++;
	return (0);
}

/* Take the files under dirfd, whose path in URLs is prefix. */
static int
static_walk(int dirfd, const char *prefix, int depth, char *err, size_t errlen)
{
	DIR	      *d;
	struct dirent *de;
	struct stat    st;
	char	       path[STATIC_MAX_PATH];
	int	       fd, rc = 0;

	if ((d = fdopendir(dirfd)) == NULL) {
		snprintf(err, errlen, "web_root%s: %s", prefix,
		    strerror(errno));
		close(dirfd);
		return (-1);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!static_name_ok(de->d_name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", prefix,
			de->d_name) >= sizeof path)
			continue;
		if (S_ISREG(st.st_mode))
			rc = static_read(dirfd, de->d_name, path, err, errlen);
		else if (S_ISDIR(st.st_mode) && depth < STATIC_MAX_DEPTH) {
			fd = openat(dirfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd != -1)
				rc = static_walk(fd, path, depth + 1, err,
				    errlen);
		}
	}
	closedir(d); /* closes dirfd */
	return (rc);
}

/* Read web_root's files; 0, or -1 with why. */
int
http_static_load(const char *root, char *err, size_t errlen)
{
	int fd;

	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "web_root %s: %s", root, strerror(errno));
		return (-1);
	}
	if (static_walk(fd, "", 0, err, errlen) == -1) {
		http_static_free();
		return (-1);
	}
	log_notice("web_root %s: %d files, %zu bytes", root, static_nfiles,
	    static_bytes);
	return (0);
}

void
http_static_free(void)
{
	int i;

	for (i = 0; i < static_nfiles; i++) {
		free(static_files[i].path);
		free(static_files[i].data);
	}
	memset(static_files, 0, sizeof static_files);
	static_nfiles = 0;
	static_bytes = 0;
}

/* The file a request's path names ("/" and ".../" are their index.html),
 * or NULL. */
const struct http_file *
http_static_find(const char *path)
{
	char want[STATIC_MAX_PATH + 16];
	int  i;

	if (static_nfiles == 0 || path[0] != '/')
		return (NULL);
	snprintf(want, sizeof want, "%s%s", path,
	    path[strlen(path) - 1] == '/' ? "index.html" : "");
	for (i = 0; i < static_nfiles; i++)
		if (strcmp(static_files[i].path, want) == 0)
			return (&static_files[i]);
	return (NULL);
}
