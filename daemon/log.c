/*
 * log.c -- log lines to syslog, or to stderr in the foreground, with a level
 * filter. Client bytes go through log_escape before they reach a line.
 * Lines a client can provoke at will (connections opened and closed,
 * failed requests, failed logins) go through log_limited, which writes the
 * first few of a kind from one address in a minute and then counts the
 * rest, to write "N more like this" when the minute is over.
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

#define LOG_LIMIT_SLOTS	 256 /* kinds and addresses followed at once */
#define LOG_LIMIT_BURST	 20  /* lines of a kind from an address ... */
#define LOG_LIMIT_WINDOW 60  /* ... in this many seconds */
#define LOG_LIMIT_KIND	 48
#define LOG_LIMIT_ADDR	 48

struct log_limit {
	char	 kind[LOG_LIMIT_KIND];
	char	 addr[LOG_LIMIT_ADDR];
	int	 level;
	time_t	 start; /* 0: a free slot */
	unsigned shown;
	unsigned suppressed;
};
static struct log_limit log_limits[LOG_LIMIT_SLOTS];

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

static void
log_limit_summary(struct log_limit *l, time_t now)
{
	if (l->suppressed > 0)
		log_msg(l->level,
		    "%s addr=%s: %u more like this in the last %lld s", l->kind,
		    l->addr, l->suppressed, (long long)(now - l->start));
	memset(l, 0, sizeof *l);
}

/* The slot for kind and addr: the one that follows them, else a free one,
 * else the oldest (summarised first). When the oldest is still inside its
 * minute, a flood from many addresses shares one slot, addr "*". */
static struct log_limit *
log_limit_slot(const char *kind, const char *addr, time_t now)
{
	struct log_limit *l, *free_ = NULL, *oldest = NULL, *any = NULL;
	size_t		  i;

	for (i = 0; i < LOG_LIMIT_SLOTS; i++) {
		l = &log_limits[i];
		if (l->start == 0) {
			if (free_ == NULL)
				free_ = l;
			continue;
		}
		if (strcmp(l->kind, kind) == 0) {
			if (strcmp(l->addr, addr) == 0)
				return (l);
			if (strcmp(l->addr, "*") == 0)
				any = l;
		}
		if (oldest == NULL || l->start < oldest->start)
			oldest = l;
	}
	if (free_ == NULL) {
		if (oldest->start + LOG_LIMIT_WINDOW > now) {
			if (any != NULL)
				return (any);
			addr = "*";
		}
		log_limit_summary(oldest, now);
		free_ = oldest;
	}
	snprintf(free_->kind, sizeof free_->kind, "%s", kind);
	snprintf(free_->addr, sizeof free_->addr, "%s", addr);
	return (free_);
}

/* A line a client can provoke again and again: kind names what it is
 * ("conn open"), addr where it comes from. */
void
log_limited(int level, const char *kind, const char *addr, const char *fmt, ...)
{
	struct log_limit *l;
	time_t		  now = time(NULL);
	va_list		  ap;

	if (level > log_level)
		return;
	l = log_limit_slot(kind, addr, now);
	if (l->start != 0 && l->start + LOG_LIMIT_WINDOW <= now) {
		log_limit_summary(l, now); /* frees it: taken again below */
		l = log_limit_slot(kind, addr, now);
	}
	if (l->start == 0) {
		l->start = now;
		l->level = level;
	}
	if (l->shown >= LOG_LIMIT_BURST) {
		l->suppressed++;
		return;
	}
	l->shown++;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Once a second: summarise the kinds whose minute is over. */
void
log_limit_sweep(time_t now)
{
	size_t i;

	for (i = 0; i < LOG_LIMIT_SLOTS; i++)
		if (log_limits[i].start != 0 &&
		    log_limits[i].start + LOG_LIMIT_WINDOW <= now)
			log_limit_summary(&log_limits[i], now);
}

/* At exit: what was counted and not yet said. */
void
log_limit_flush(void)
{
	time_t now = time(NULL);
	size_t i;

	for (i = 0; i < LOG_LIMIT_SLOTS; i++)
		if (log_limits[i].start != 0)
			log_limit_summary(&log_limits[i], now);
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
