/*
 * log.c -- log lines to syslog, or to stderr in the foreground, with a level
 * filter. Client bytes go through log_escape before they reach a line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "rosterd.h"

static int log_foreground = 1;
static int log_level = LOG_LVL_INFO;

static const char *const log_names[] = { "emerg", "alert", "crit", "error",
	"warning", "notice", "info", "debug" };

void
log_init(int foreground, int level)
{
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog(ROSTERD_NAME, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char		line[2048];
	struct timespec ts;
	struct tm	tm;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (!log_foreground) {
		syslog(level, "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000L, log_names[level & 7], line);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Write bytes a client sent into dst, printable ASCII as is, the rest as
 * \xNN, always NUL-terminated and truncated with "..." when it does not fit. */
void
log_escape(char *dst, size_t dstlen, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i, o = 0;
	unsigned char	  c;

	if (dstlen == 0)
		return;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (i < len && dstlen > 4) {
		if (o > dstlen - 4)
			o = dstlen - 4;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
