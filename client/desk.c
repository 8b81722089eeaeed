/*
 * desk.c -- roster checkin-desk: the laptop at the door. A QR scanner types
 * a badge code and Enter like a keyboard; each line read from stdin (a
 * terminal or a pipe) is a CHECKIN of the --event (and of session=CODE when
 * given), answered with one line a person reads from a metre away:
 *
 *	✓ Ivan PETROV — Russian Federation
 *	ALREADY checked in at 09:12 — Ivan PETROV
 *	✗ unknown badge K7Q2MNBX4P			(with the bell on a terminal)
 *	… queued K7Q2MNBX4P (3 waiting)			(the server is away)
 *
 * Times are shown in the event's time zone (EVENT SHOW's timezone), the
 * delegation by its party's name (PARTY LIST), both asked once per
 * connection. A line is trimmed, upper-cased and rid of spaces and '-'; what
 * is then not 10 characters of A-Z 2-7 (a badge, sql/001_schema.sql) is
 * answered ✗ at once and not sent.
 *
 * Every scan gets a ref= of its own, "desk-" and 32 hex digits of
 * RAND_bytes (unique across desks), and at= the time of the scan (UTC), and
 * is appended to the journal and fsync'd BEFORE it is sent. CHECKIN's ref=
 * makes a scan sent twice one check-in, and at= keeps the time of the scan
 * (the earliest scan known wins: PROTOCOL.md section 5). When the server
 * answers (OK, or an ERR that a retry would not change), a DONE line is
 * appended; ERR UNAVAILABLE, BUSY, AUTH_REQUIRED and RATE_LIMITED, and a
 * connection lost, leave the scan pending. While the server cannot be
 * reached the desk goes on reading scans, queues them, and tries to
 * connect every 2 s (a 2 s connect timeout) and at the next scan; when it
 * answers, the pending scans are sent in journal order. A desk started
 * again with the same journal sends only what is pending there.
 *
 * The journal: UTF-8 text, one record per LF-terminated line, each a line
 * of the protocol's request grammar (PROTOCOL.md section 2):
 *
 *	SCAN ref=desk-<32 hex> at=YYYY-MM-DDTHH:MM:SSZ event=CODE badge=BADGE
 *	    [session=CODE]
 *	DONE ref=desk-<32 hex> result=checked_in|already|replay|refused
 *
 * (a SCAN is one line). A scan is pending until a DONE names its ref. A last
 * line without its LF (a write cut short by a crash) is cut off when the
 * desk opens the journal (--replay only skips it); other lines that are not
 * records are skipped with a warning. Default path:
 * $XDG_STATE_HOME/roster/desk-EVENT.journal, else
 * ~/.local/state/roster/desk-EVENT.journal (directories made 0700, the file
 * 0600: badge codes are in it).
 *
 * At EOF of stdin (or the first SIGINT/SIGTERM) the desk tries to send what
 * is pending for 10 s more, then exits: 0 nothing pending, 3 scans still
 * wait in the journal (it says how many and where), 2 a usage, journal or
 * first-login error. A second Ctrl-C ends it at once; the journal is safe.
 *
 * --replay FILE sends every scan of a journal (done or not: refs make it
 * idempotent), reading the file only, and reports how many were checked
 * in, already checked in, replayed (sent before) and refused: exit 0, 1
 * when one was refused, 2 when the server could not be reached or was lost.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "roster.h"

#define DESK_BADGE_LEN	 10
#define DESK_REF_PREFIX	 "desk-"
#define DESK_AT_LEN	 20    /* YYYY-MM-DDTHH:MM:SSZ */
#define DESK_CONNECT_MS	 2000  /* connect, handshake, greeting */
#define DESK_RETRY_MS	 2000  /* between connection attempts */
#define DESK_RELOGIN_MS	 30000 /* after a refused login */
#define DESK_REPLY_MS	 15000 /* of silence while a reply is due */
#define DESK_EOF_WAIT_MS 10000 /* trying to send at the end */
#define DESK_MAX_INPUT	 256   /* bytes of one scanned line */

struct desk_scan {
	char ref[PROTO_MAX_REF + 1];
	char at[DESK_AT_LEN + 1];
	char event[PROTO_MAX_CODE + 1];
	char badge[DESK_BADGE_LEN + 1];
	char session[PROTO_MAX_CODE + 1]; /* "": the event */
	int  done;
};

struct desk_party {
	char *code;
	char *name;
};

/* What one CHECKIN came to. */
enum desk_result {
	DESK_LOST, /* no answer, or one to retry: still pending */
	DESK_CHECKED_IN,
	DESK_ALREADY,
	DESK_REPLAYED, /* the ref was done before (replay=1) */
	DESK_REFUSED
};

struct desk {
	struct roster	  *r;
	char		  *path;
	int		   fd; /* the journal, appending; -1: none */
	struct desk_scan  *scans;
	size_t		   nscans;
	size_t		   cap;
	size_t		   first; /* no scan before it is pending */
	size_t		   npending;
	int		   online;
	int		   said_offline;
	long long	   retry_at; /* monotonic ms: next connect attempt */
	char		   tz[64];   /* the event's time zone; "": unknown */
	struct desk_party *parties;
	size_t		   nparties;
	int		   bell;
	char		   pw[PROTO_MAX_PASSWORD + 1];
	size_t		   inlen;    /* bytes of the line being read */
	int		   skipping; /* the line is too long: to its LF */
	char		   in[DESK_MAX_INPUT + 1];
};

static long long
desk_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
desk_valid_badge(const char *s, size_t len)
{
	size_t i;

	if (len != DESK_BADGE_LEN)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '2' && s[i] <= '7')))
			return (0);
	return (1);
}

/* A scanned line as a badge code: trimmed, upper case, without spaces,
 * tabs and '-'. 0 when it is one. */
static int
desk_normalise(const char *line, char *badge, size_t size)
{
	size_t i, n = 0;
	char   c;

	for (i = 0; line[i] != '\0'; i++) {
		c = line[i];
		if (c == ' ' || c == '\t' || c == '-' || c == '\r')
			continue;
		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (n + 1 >= size)
			return (-1);
		badge[n++] = c;
	}
	badge[n] = '\0';
	return (desk_valid_badge(badge, n) ? 0 : -1);
}

/* --- the journal --- */

/* Append one record; SCANs are fsync'd (a DONE lost only means a scan
 * sent again, which its ref makes harmless). */
static int
desk_journal_write(struct desk *d, const char *line, size_t len, int sync)
{
	ssize_t n;
	size_t	off = 0;

	if (d->fd == -1)
		return (-1);
	while (off < len) {
		if ((n = write(d->fd, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "roster: %s: %s\n", d->path,
			    strerror(errno));
			return (-1);
		}
		off += n;
	}
	if (sync && fsync(d->fd) == -1) {
		fprintf(stderr, "roster: %s: fsync: %s\n", d->path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static int
desk_journal_scan(struct desk *d, const struct desk_scan *s)
{
	struct proto_buf b;
	int		 rv;

	proto_buf_init(&b);
	proto_buf_addstr(&b, "SCAN");
	proto_buf_field(&b, "ref", s->ref, strlen(s->ref));
	proto_buf_field(&b, "at", s->at, strlen(s->at));
	proto_buf_field(&b, "event", s->event, strlen(s->event));
	proto_buf_field(&b, "badge", s->badge, strlen(s->badge));
	if (s->session[0] != '\0')
		proto_buf_field(&b, "session", s->session, strlen(s->session));
	proto_buf_addch(&b, '\n');
	rv = b.oom ? -1 : desk_journal_write(d, b.data, b.len, 1);
	proto_buf_free(&b);
	return (rv);
}

static const char *
desk_result_name(enum desk_result res)
{
	switch (res) {
	case DESK_CHECKED_IN:
		return ("checked_in");
	case DESK_ALREADY:
		return ("already");
	case DESK_REPLAYED:
		return ("replay");
	default:
		return ("refused");
	}
}

static void
desk_journal_done(struct desk *d, const struct desk_scan *s,
    enum desk_result res)
{
	char line[PROTO_MAX_REF + 64];
	int  n;

	n = snprintf(line, sizeof line, "DONE ref=%s result=%s\n", s->ref,
	    desk_result_name(res));
	desk_journal_write(d, line, n, 0);
}

static struct desk_scan *
desk_add(struct desk *d)
{
	struct desk_scan *p;
	size_t		  ncap;

	if (d->nscans == d->cap) {
		ncap = d->cap == 0 ? 64 : d->cap * 2;
		if ((p = reallocarray(d->scans, ncap, sizeof *p)) == NULL) {
			fprintf(stderr, "roster: out of memory\n");
			return (NULL);
		}
		d->scans = p;
		d->cap = ncap;
	}
	p = &d->scans[d->nscans++];
	memset(p, 0, sizeof *p);
	return (p);
}

/* Copy a request's value of key into buf if it passes valid. */
static int
desk_arg(const struct proto_request *req, const char *key, char *buf,
    size_t size, int (*valid)(const char *, size_t), int optional)
{
	const struct proto_arg *a;

	if ((a = proto_request_arg(req, key)) == NULL)
		return (optional ? 0 : -1);
	if (a->vlen >= size || !valid(a->value, a->vlen))
		return (-1);
	memcpy(buf, a->value, a->vlen + 1);
	return (0);
}

static int
desk_valid_at(const char *s, size_t len)
{
	return (len == DESK_AT_LEN && proto_valid_timestamp(s, len));
}

/* One journal line: a SCAN added, a DONE marking its scans done. */
static int
desk_journal_line(struct desk *d, const char *line, size_t len)
{
	struct proto_request req;
	struct desk_scan    *s;
	char		     ref[PROTO_MAX_REF + 1], why[128];
	size_t		     i;
	int		     framing, rv = -1;

	if (proto_parse_request(line, len, &req, &framing, why, sizeof why) !=
	    PROTO_OK)
		return (-1);
	if (strcmp(req.command, "SCAN") == 0) {
		if ((s = desk_add(d)) == NULL)
			goto out;
		if (desk_arg(&req, "ref", s->ref, sizeof s->ref,
			proto_valid_ref, 0) == -1 ||
		    desk_arg(&req, "at", s->at, sizeof s->at, desk_valid_at,
			0) == -1 ||
		    desk_arg(&req, "event", s->event, sizeof s->event,
			proto_valid_code, 0) == -1 ||
		    desk_arg(&req, "badge", s->badge, sizeof s->badge,
			desk_valid_badge, 0) == -1 ||
		    desk_arg(&req, "session", s->session, sizeof s->session,
			proto_valid_code, 1) == -1) {
			d->nscans--;
			goto out;
		}
		rv = 0;
	} else if (strcmp(req.command, "DONE") == 0) {
		if (desk_arg(&req, "ref", ref, sizeof ref, proto_valid_ref,
			0) == -1)
			goto out;
		/* Its scan is near the end, usually the last. */
		for (i = d->nscans; i > 0; i--)
			if (strcmp(d->scans[i - 1].ref, ref) == 0)
				d->scans[i - 1].done = 1;
		rv = 0;
	}
out:
	proto_request_free(&req);
	return (rv);
}

/*
 * Read the journal at d->path. With cut (the desk's own journal, open in
 * d->fd), a last line without its LF is cut off the file; else it is
 * skipped. Then count what is pending.
 */
static int
desk_journal_load(struct desk *d, int cut)
{
	FILE   *f;
	char   *line = NULL;
	size_t	cap = 0, lineno = 0, i;
	ssize_t n;
	off_t	good = 0;
	int	rv = -1;

	if ((f = fopen(d->path, "r")) == NULL) {
		fprintf(stderr, "roster: %s: %s\n", d->path, strerror(errno));
		return (-1);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (line[n - 1] != '\n') {
			fprintf(stderr,
			    "roster: %s:%zu: a last line cut short "
			    "(a crash while writing it)%s\n",
			    d->path, lineno, cut ? ": removed" : ": skipped");
			if (cut && ftruncate(d->fd, good) == -1) {
				fprintf(stderr, "roster: %s: %s\n", d->path,
				    strerror(errno));
				goto out;
			}
			break;
		}
		good += n;
		line[--n] = '\0';
		if (n == 0)
			continue;
		if (desk_journal_line(d, line, n) == -1)
			fprintf(stderr,
			    "roster: %s:%zu: not a journal record, "
			    "skipped\n",
			    d->path, lineno);
	}
	if (ferror(f)) {
		fprintf(stderr, "roster: %s: %s\n", d->path, strerror(errno));
		goto out;
	}
	d->npending = 0;
	d->first = d->nscans;
	for (i = d->nscans; i > 0; i--)
		if (!d->scans[i - 1].done) {
			d->npending++;
			d->first = i - 1;
		}
	rv = 0;
out:
	free(line);
	fclose(f);
	return (rv);
}

/* mkdir -p of path's directories, 0700. */
static int
desk_mkdirs(char *path)
{
	char *p;

	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			fprintf(stderr, "roster: %s: %s\n", path,
			    strerror(errno));
			*p = '/';
			return (-1);
		}
		*p = '/';
	}
	return (0);
}

/* $XDG_STATE_HOME/roster/desk-EVENT.journal or under ~/.local/state. */
static char *
desk_default_path(const char *event)
{
	const char *base, *home;
	char	   *path, ev[PROTO_MAX_CODE + 1];
	size_t	    i;
	int	    n;

	for (i = 0; event[i] != '\0' && i < PROTO_MAX_CODE; i++)
		ev[i] = (event[i] >= 'A' && event[i] <= 'Z') ?
		    event[i] + ('a' - 'A') :
		    event[i];
	ev[i] = '\0';
	if ((base = getenv("XDG_STATE_HOME")) != NULL && base[0] == '/')
		n = asprintf(&path, "%s/roster/desk-%s.journal", base, ev);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/')
		n = asprintf(&path, "%s/.local/state/roster/desk-%s.journal",
		    home, ev);
	else {
		fprintf(stderr,
		    "roster: no $HOME for the journal: give "
		    "--journal FILE\n");
		return (NULL);
	}
	if (n == -1) {
		fprintf(stderr, "roster: out of memory\n");
		return (NULL);
	}
	if (desk_mkdirs(path) == -1) {
		free(path);
		return (NULL);
	}
	return (path);
}

/* Open the journal for appending (made 0600, its directory synced),
 * locked: two desks never share one journal. */
static int
desk_journal_open(struct desk *d)
{
	char *dir, *slash;
	int   dfd, created;

	created = access(d->path, F_OK) == -1;
	d->fd = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (d->fd == -1) {
		fprintf(stderr, "roster: %s: %s\n", d->path, strerror(errno));
		return (-1);
	}
	if (flock(d->fd, LOCK_EX | LOCK_NB) == -1) {
		fprintf(stderr, "roster: %s: %s\n", d->path,
		    errno == EWOULDBLOCK ?
			"in use by another desk" :
			strerror(errno));
		return (-1);
	}
	if (created && (dir = strdup(d->path)) != NULL) {
		if ((slash = strrchr(dir, '/')) != NULL)
			slash[slash == dir ? 1 : 0] = '\0';
		else
			strcpy(dir, ".");
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
		    -1) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	return (0);
}

/* --- talking to the server --- */

/*
 * Send one request and read its reply: records through rec (may be NULL),
 * the final line returned (the caller frees it). NULL when the connection
 * failed.
 */
static char *
desk_request(struct desk *d, const char *req, size_t len,
    void (*rec)(struct desk *, const struct proto_reply *))
{
	struct proto_reply rep;
	char		  *line;
	size_t		   n;

	net_queue(&d->r->conn, req, len);
	for (;;) {
		if (net_read_line(&d->r->conn, &line, &n) != NET_LINE)
			return (NULL);
		if (output_is_final(line, n))
			return (strndup(line, n));
		if (rec != NULL &&
		    proto_parse_reply(line, n, &rep) == PROTO_LINE_RECORD)
			rec(d, &rep);
		if (rec != NULL)
			proto_reply_free(&rep);
	}
}

static void
desk_event_rec(struct desk *d, const struct proto_reply *rep)
{
	const struct proto_field *f;

	if ((f = proto_reply_field(rep, "timezone")) != NULL &&
	    f->vlen < sizeof d->tz)
		memcpy(d->tz, f->value, f->vlen + 1);
}

static void
desk_party_rec(struct desk *d, const struct proto_reply *rep)
{
	const struct proto_field *code, *name;
	struct desk_party	 *p;

	code = proto_reply_field(rep, "code");
	name = proto_reply_field(rep, "name");
	if (code == NULL || name == NULL)
		return;
	if ((p = reallocarray(d->parties, d->nparties + 1, sizeof *p)) == NULL)
		return;
	d->parties = p;
	p = &d->parties[d->nparties];
	if ((p->code = strdup(code->value)) == NULL ||
	    (p->name = strdup(name->value)) == NULL) {
		free(p->code);
		return;
	}
	d->nparties++;
}

static void
desk_free_parties(struct desk *d)
{
	size_t i;

	for (i = 0; i < d->nparties; i++) {
		free(d->parties[i].code);
		free(d->parties[i].name);
	}
	free(d->parties);
	d->parties = NULL;
	d->nparties = 0;
}

/* The event's time zone and the parties' names, once per connection.
 * -1 when the connection failed, 1 when EVENT SHOW was refused. */
static int
desk_learn(struct desk *d)
{
	char *final;
	int   rv = 0;

	if ((final = desk_request(d, "EVENT SHOW", 10, desk_event_rec)) == NULL)
		return (-1);
	if (strncmp(final, "ERR", 3) == 0) {
		fprintf(stderr, "roster: EVENT SHOW: %s\n", final);
		rv = 1;
	}
	free(final);
	if (d->tz[0] != '\0' && setenv("TZ", d->tz, 1) == 0)
		tzset();
	desk_free_parties(d);
	if ((final = desk_request(d, "PARTY LIST", 10, desk_party_rec)) == NULL)
		return (-1);
	free(final);
	return (rv);
}

static void
desk_disconnect(struct desk *d)
{
	if (d->r->connected)
		session_close(d->r);
	d->online = 0;
}

/*
 * Connect, log in, USE the event and learn it. 0 when online; -1 when the
 * server cannot be reached (or was lost meanwhile); -2 when it refused the
 * login or the event.
 */
static int
desk_connect(struct desk *d, int learn)
{
	struct roster *r = d->r;
	int	       rv;

	desk_disconnect(d);
	d->retry_at = desk_now() + DESK_RETRY_MS;
	memcpy(r->pw, d->pw, sizeof r->pw);
	if (session_connect(r, "CHECKIN") != ROSTER_EXIT_OK) {
		desk_disconnect(d);
		r->quiet_connect = 1; /* said once */
		return (-1);
	}
	if ((rv = session_start(r)) != ROSTER_EXIT_OK) {
		desk_disconnect(d);
		d->retry_at = desk_now() + DESK_RELOGIN_MS;
		return (rv == ROSTER_EXIT_ERR || r->conn.eof == 0 ? -2 : -1);
	}
	r->conn.timeout = DESK_REPLY_MS;
	r->conn.intr = &session_interrupted;
	if (learn && (rv = desk_learn(d)) != 0) {
		desk_disconnect(d);
		return (rv == -1 ? -1 : -2);
	}
	d->online = 1;
	if (d->said_offline) {
		fprintf(stderr, "roster: the server answers again\n");
		d->said_offline = 0;
	}
	return (0);
}

static const char *
desk_party_name(const struct desk *d, const char *code)
{
	size_t i;

	for (i = 0; i < d->nparties; i++)
		if (strcasecmp(d->parties[i].code, code) == 0)
			return (d->parties[i].name);
	return (code);
}

/* A UTC timestamp as the event's local "HH:MM", with the date in front
 * when it is not today's. */
static void
desk_local_time(const char *ts, char *buf, size_t size)
{
	struct tm tm, now;
	time_t	  t, tnow;

	memset(&tm, 0, sizeof tm);
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
		snprintf(buf, size, "%s", ts != NULL ? ts : "?");
		return;
	}
	t = timegm(&tm);
	tnow = time(NULL);
	localtime_r(&t, &tm);
	localtime_r(&tnow, &now);
	if (tm.tm_year == now.tm_year && tm.tm_yday == now.tm_yday)
		strftime(buf, size, "%H:%M", &tm);
	else
		strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

/* The field's value, or "?". */
static const char *
desk_field(const struct proto_reply *rep, const char *key)
{
	const struct proto_field *f = proto_reply_field(rep, key);

	return (f != NULL ? f->value : "?");
}

/* After a name in another script, its Latin form: " (Ivan Petrov)". */
static void
desk_say_latin(const struct proto_reply *rep)
{
	const struct proto_field *latin = proto_reply_field(rep, "latin");

	if (latin != NULL && latin->vlen > 0)
		printf(" (%s)", latin->value);
}

/* The end of a ✓ or ALREADY line: said plainly when the person's coming
 * was never confirmed (status=registered; rosterd 0.1 sends no status). */
static void
desk_say_status(struct desk *d, const struct proto_reply *rep)
{
	if (strcmp(desk_field(rep, "status"), "registered") == 0)
		printf(" — NOT CONFIRMED (registered only)%s\n",
		    d->bell ? "\a" : "");
	else
		putchar('\n');
}

/* The one line a scan's answer is shown as; prefix for a queued scan. */
static void
desk_say(struct desk *d, const struct desk_scan *s, const char *prefix,
    const struct proto_reply *rep, enum desk_result res)
{
	char when[32];

	printf("%s", prefix);
	switch (res) {
	case DESK_CHECKED_IN:
		printf("✓ %s", desk_field(rep, "name"));
		desk_say_latin(rep);
		printf(" — %s", desk_party_name(d, desk_field(rep, "party")));
		desk_say_status(d, rep);
		break;
	case DESK_ALREADY:
		desk_local_time(desk_field(rep, "checked_in"), when,
		    sizeof when);
		printf("ALREADY checked in at %s — %s", when,
		    desk_field(rep, "name"));
		desk_say_latin(rep);
		desk_say_status(d, rep);
		break;
	default:
		if (rep->code == PROTO_NOT_FOUND && rep->text != NULL &&
		    strncmp(rep->text, "badge", 5) == 0)
			printf("✗ unknown badge %s", s->badge);
		else if (rep->code == PROTO_CONFLICT && rep->text != NULL &&
		    strstr(rep->text, "declined") != NULL)
			printf("✗ declined badge %s (%.*s)", s->badge,
			    (int)rep->textlen, rep->text);
		else
			printf("✗ %s refused: %s %.*s", s->badge,
			    proto_code_name(rep->code), (int)rep->textlen,
			    rep->text != NULL ? rep->text : "");
		printf("%s\n", d->bell ? "\a" : "");
		break;
	}
	fflush(stdout);
}

/*
 * Send one scan, mark it done in the journal when it is answered for good,
 * then show the answer, with prefix before the line (with only_refused,
 * the other answers are not shown). Returns what it came to; DESK_LOST
 * when it is still pending.
 */
static enum desk_result
desk_send(struct desk *d, struct desk_scan *s, const char *prefix,
    int only_refused)
{
	struct proto_reply rep;
	struct proto_buf   req;
	enum desk_result   res = DESK_LOST, shown;
	char		  *final;

	proto_buf_init(&req);
	proto_buf_addstr(&req, "CHECKIN");
	proto_buf_field(&req, "event", s->event, strlen(s->event));
	proto_buf_field(&req, "badge", s->badge, strlen(s->badge));
	if (s->session[0] != '\0')
		proto_buf_field(&req, "session", s->session,
		    strlen(s->session));
	proto_buf_field(&req, "at", s->at, strlen(s->at));
	proto_buf_field(&req, "ref", s->ref, strlen(s->ref));
	if (req.oom) {
		proto_buf_free(&req);
		return (DESK_LOST);
	}
	final = desk_request(d, req.data, req.len, NULL);
	proto_buf_free(&req);
	if (final == NULL)
		return (DESK_LOST);
	switch (proto_parse_reply(final, strlen(final), &rep)) {
	case PROTO_LINE_OK:
		if (strcmp(desk_field(&rep, "already"), "1") == 0)
			shown = DESK_ALREADY;
		else
			shown = DESK_CHECKED_IN;
		res = strcmp(desk_field(&rep, "replay"), "1") == 0 ?
		    DESK_REPLAYED :
		    shown;
		desk_journal_done(d, s, res);
		if (!only_refused)
			desk_say(d, s, prefix, &rep, shown);
		break;
	case PROTO_LINE_ERR:
		switch (rep.code) {
		case PROTO_UNAVAILABLE:
		case PROTO_BUSY:
		case PROTO_AUTH_REQUIRED:
		case PROTO_RATE_LIMITED:
			fprintf(stderr, "roster: %s: %s (kept, sent again)\n",
			    s->badge, final);
			break;
		default:
			res = DESK_REFUSED;
			desk_journal_done(d, s, res);
			desk_say(d, s, prefix, &rep, res);
			break;
		}
		break;
	default:
		fprintf(stderr, "roster: unexpected reply: %s\n", final);
		break;
	}
	proto_reply_free(&rep);
	free(final);
	return (res);
}

static void
desk_mark_done(struct desk *d, size_t i)
{
	d->scans[i].done = 1;
	d->npending--;
	while (d->first < d->nscans && d->scans[d->first].done)
		d->first++;
}

static void
desk_offline(struct desk *d)
{
	desk_disconnect(d);
	if (!d->said_offline) {
		fprintf(stderr,
		    "roster: cannot reach the server (%s): scans are kept "
		    "in %s and sent when it answers\n",
		    d->r->conn.err[0] != '\0' ? d->r->conn.err : "no answer",
		    d->path);
		d->said_offline = 1;
	}
}

/*
 * Send the pending scans in journal order, connecting first when the time
 * for an attempt has come (a connection found dead is tried again at once
 * when the last attempt is old enough). fresh: the scan just read, shown
 * without a prefix; the others are shown as queued scans.
 */
static void
desk_flush(struct desk *d, size_t fresh)
{
	struct desk_scan *s;
	enum desk_result  res;
	char		  prefix[64], when[32];
	size_t		  i, queued = 0;
	int		  tries;

	for (tries = 0; tries < 2 && d->npending > 0; tries++) {
		if (!d->online) {
			if (desk_now() < d->retry_at)
				break;
			if (desk_connect(d, 1) != 0) {
				desk_offline(d);
				break;
			}
		}
		for (i = d->first; i < d->nscans; i++) {
			s = &d->scans[i];
			if (s->done)
				continue;
			prefix[0] = '\0';
			if (i != fresh) {
				desk_local_time(s->at, when, sizeof when);
				snprintf(prefix, sizeof prefix, "[queued %s] ",
				    when);
			}
			if ((res = desk_send(d, s, prefix, 0)) == DESK_LOST)
				break;
			desk_mark_done(d, i);
			if (i != fresh)
				queued++;
		}
		if (i < d->nscans)
			desk_offline(d);
	}
	if (queued > 0) {
		printf("replayed %zu queued scan%s", queued,
		    queued == 1 ? "" : "s");
		if (d->npending > 0)
			printf("; %zu still waiting", d->npending);
		printf("\n");
		fflush(stdout);
	}
}

/* A random ref and the time: a new scan of badge. */
static int
desk_new_scan(struct desk *d, const char *badge, size_t *idx)
{
	static const char hex[] = "0123456789abcdef";
	struct desk_scan *s;
	unsigned char	  rnd[16];
	struct tm	  tm;
	time_t		  now = time(NULL);
	size_t		  i, n;

	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		fprintf(stderr, "roster: RAND_bytes failed\n");
		return (-1);
	}
	if ((s = desk_add(d)) == NULL)
		return (-1);
	n = strlen(DESK_REF_PREFIX);
	memcpy(s->ref, DESK_REF_PREFIX, n);
	for (i = 0; i < sizeof rnd; i++) {
		s->ref[n++] = hex[rnd[i] >> 4];
		s->ref[n++] = hex[rnd[i] & 15];
	}
	s->ref[n] = '\0';
	gmtime_r(&now, &tm);
	strftime(s->at, sizeof s->at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(s->event, sizeof s->event, "%s", d->r->event);
	memcpy(s->badge, badge, DESK_BADGE_LEN); /* checked: 10 */
	if (d->r->argc > 1)
		snprintf(s->session, sizeof s->session, "%s",
		    d->r->argv[1] + strlen("session="));
	*idx = d->nscans - 1;
	return (0);
}

/* What was typed, for a line that is no badge: controls as '?', cut. */
static void
desk_say_not_badge(struct desk *d, const char *line)
{
	size_t i;

	printf("✗ not a badge code: \"");
	/* At most 40 bytes, not cutting a UTF-8 sequence. */
	for (i = 0; line[i] != '\0' &&
	     (i < 40 || ((unsigned char)line[i] & 0xc0) == 0x80);
	     i++)
		putchar(proto_is_ctl((unsigned char)line[i]) ? '?' : line[i]);
	printf("%s\"%s\n", line[i] != '\0' ? "…" : "", d->bell ? "\a" : "");
	fflush(stdout);
}

/* One line from the scanner. */
static void
desk_line(struct desk *d, char *line)
{
	char   badge[DESK_MAX_INPUT + 1];
	size_t idx, b, e;

	b = strspn(line, " \t\r");
	e = strlen(line);
	while (e > b && strchr(" \t\r", line[e - 1]) != NULL)
		e--;
	line[e] = '\0';
	line += b;
	if (*line == '\0')
		return;
	if (desk_normalise(line, badge, sizeof badge) == -1) {
		desk_say_not_badge(d, line);
		return;
	}
	if (desk_new_scan(d, badge, &idx) == -1)
		return;
	if (desk_journal_scan(d, &d->scans[idx]) == -1)
		fprintf(stderr,
		    "roster: the scan of %s is NOT in the journal; it is "
		    "kept in memory only\n",
		    badge);
	d->npending++;
	if (d->first > idx)
		d->first = idx;
	desk_flush(d, idx);
	if (!d->scans[idx].done) {
		printf("… queued %s (%zu waiting)\n", badge, d->npending);
		fflush(stdout);
	}
}

/* Read what stdin has; lines go to desk_line. 0 at EOF. */
static int
desk_read_input(struct desk *d)
{
	char	buf[4096], *p, *nl;
	ssize_t n;
	size_t	len;

	if ((n = read(STDIN_FILENO, buf, sizeof buf)) == -1)
		return (errno == EINTR || errno == EAGAIN ? 1 : 0);
	if (n == 0) {
		if (d->inlen > 0 && !d->skipping) {
			d->in[d->inlen] = '\0';
			desk_line(d, d->in);
		}
		return (0);
	}
	for (p = buf; p < buf + n; p = nl + 1) {
		nl = memchr(p, '\n', buf + n - p);
		len = (nl != NULL ? nl : buf + n) - p;
		if (!d->skipping) {
			if (d->inlen + len > DESK_MAX_INPUT) {
				d->skipping = 1;
				printf(
				    "✗ not a badge code: a line too long%s\n",
				    d->bell ? "\a" : "");
				fflush(stdout);
			} else {
				memcpy(d->in + d->inlen, p, len);
				d->inlen += len;
			}
		}
		if (nl == NULL)
			break;
		if (!d->skipping) {
			d->in[d->inlen] = '\0';
			desk_line(d, d->in);
		}
		d->inlen = 0;
		d->skipping = 0;
	}
	return (1);
}

/* At the end: try to send what is pending for a while. */
static int
desk_finish(struct desk *d)
{
	long long deadline, left;

	if (d->npending == 0)
		return (ROSTER_EXIT_OK);
	session_catch_signals(0); /* a second Ctrl-C ends it at once */
	session_interrupted = 0;
	fprintf(stderr, "roster: %zu scan%s to send; trying for %d s\n",
	    d->npending, d->npending == 1 ? "" : "s", DESK_EOF_WAIT_MS / 1000);
	deadline = desk_now() + DESK_EOF_WAIT_MS;
	for (;;) {
		desk_flush(d, SIZE_MAX);
		if (d->npending == 0)
			return (ROSTER_EXIT_OK);
		if ((left = deadline - desk_now()) <= 0)
			break;
		if (d->retry_at - desk_now() < left)
			left = d->retry_at - desk_now();
		if (left > 0)
			poll(NULL, 0, (int)left);
	}
	fprintf(stderr,
	    "roster: %zu scan%s still wait in %s: run roster checkin-desk "
	    "again with this journal, or roster checkin-desk --replay %s\n",
	    d->npending, d->npending == 1 ? "" : "s", d->path, d->path);
	return (ROSTER_EXIT_PENDING);
}

/*
 * Wait for input, or until the next attempt to connect when scans wait.
 * SIGINT and SIGTERM are blocked but in ppoll, so that one that comes just
 * before the wait is not missed. 1: input, 0: time to try, -1: interrupted
 * or an error.
 */
static int
desk_wait(struct desk *d)
{
	struct timespec ts, *tsp = NULL;
	struct pollfd	pfd;
	sigset_t	block, old;
	long long	left;
	int		rv;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (session_interrupted) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return (-1);
	}
	if (d->npending > 0 && !d->online) {
		left = d->retry_at - desk_now();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		tsp = &ts;
	}
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	rv = ppoll(&pfd, 1, tsp, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (session_interrupted)
		return (-1);
	if (rv == -1 && errno != EINTR) {
		fprintf(stderr, "roster: poll: %s\n", strerror(errno));
		return (-1);
	}
	return (rv > 0 ? 1 : 0);
}

static int
desk_interactive(struct desk *d)
{
	int rv;

	if (d->r->event == NULL) {
		fprintf(stderr,
		    "roster: checkin-desk needs --event CODE (-e)\n");
		return (ROSTER_EXIT_FAIL);
	}
	if (d->r->journal != NULL)
		d->path = strdup(d->r->journal);
	else
		d->path = desk_default_path(d->r->event);
	if (d->path == NULL || desk_journal_open(d) == -1 ||
	    desk_journal_load(d, 1) == -1)
		return (ROSTER_EXIT_FAIL);
	fprintf(stderr, "roster: journal %s: %zu scans, %zu pending\n", d->path,
	    d->nscans, d->npending);
	session_interrupted = 0;
	session_catch_signals(1);
	if ((rv = desk_connect(d, 1)) == -2)
		return (ROSTER_EXIT_FAIL);
	if (rv == -1)
		desk_offline(d);
	desk_flush(d, SIZE_MAX);
	fprintf(stderr, "roster: ready: scan badges for %s%s%s\n", d->r->event,
	    d->r->argc > 1 ? ", " : "", d->r->argc > 1 ? d->r->argv[1] : "");
	while ((rv = desk_wait(d)) != -1) {
		if (rv == 0)
			desk_flush(d, SIZE_MAX);
		else if (desk_read_input(d) == 0)
			break;
	}
	return (desk_finish(d));
}

/* --replay FILE: every scan of it, done or not, with counts. */
static int
desk_replay(struct desk *d)
{
	size_t		 counts[DESK_REFUSED + 1] = { 0 }, i;
	char		 prefix[64];
	enum desk_result res;

	if (d->r->event != NULL) {
		fprintf(stderr,
		    "roster: --replay takes the events of the journal's "
		    "scans; no --event\n");
		return (ROSTER_EXIT_FAIL);
	}
	if ((d->path = strdup(d->r->replay)) == NULL ||
	    desk_journal_load(d, 0) == -1)
		return (ROSTER_EXIT_FAIL);
	session_interrupted = 0;
	session_catch_signals(1);
	if (desk_connect(d, 0) != 0)
		return (ROSTER_EXIT_FAIL);
	for (i = 0; i < d->nscans; i++) {
		snprintf(prefix, sizeof prefix, "[scanned %s] ",
		    d->scans[i].at);
		if ((res = desk_send(d, &d->scans[i], prefix, 1)) ==
		    DESK_LOST) {
			fprintf(stderr,
			    "roster: %s: the server was lost after %zu of "
			    "%zu scans (%s); replay the file again\n",
			    d->path, i, d->nscans,
			    d->r->conn.err[0] != '\0' ?
				d->r->conn.err :
				"no answer");
			return (ROSTER_EXIT_FAIL);
		}
		counts[res]++;
	}
	printf("replayed %s: %zu scans: %zu checked in, %zu already checked "
	       "in, %zu replayed (sent before), %zu refused\n",
	    d->path, d->nscans, counts[DESK_CHECKED_IN], counts[DESK_ALREADY],
	    counts[DESK_REPLAYED], counts[DESK_REFUSED]);
	return (counts[DESK_REFUSED] > 0 ? ROSTER_EXIT_ERR : ROSTER_EXIT_OK);
}

/* roster checkin-desk [session=CODE] [--journal FILE] | --replay FILE */
int
desk_run(struct roster *r)
{
	struct desk d;
	const char *arg;
	int	    rv;

	memset(&d, 0, sizeof d);
	d.r = r;
	d.fd = -1;
	d.bell = isatty(STDOUT_FILENO);
	if (r->argc > 1) {
		arg = r->argv[1];
		if (strncmp(arg, "session=", 8) != 0 ||
		    !proto_valid_code(arg + 8, strlen(arg + 8)) ||
		    r->replay != NULL) {
			fprintf(stderr,
			    "roster: checkin-desk takes session=CODE (not "
			    "with --replay)\n");
			return (ROSTER_EXIT_FAIL);
		}
	}
	if (r->replay != NULL && r->journal != NULL) {
		fprintf(stderr, "roster: --replay or --journal, not both\n");
		return (ROSTER_EXIT_FAIL);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	r->connect_timeout = DESK_CONNECT_MS;
	if (r->cfg.user != NULL && r->cfg.cert == NULL &&
	    session_password(r, d.pw, sizeof d.pw) == -1)
		return (ROSTER_EXIT_FAIL);
	if (r->replay != NULL)
		rv = desk_replay(&d);
	else
		rv = desk_interactive(&d);
	session_catch_signals(0);
	desk_disconnect(&d);
	if (d.fd != -1 && close(d.fd) == -1) {
		fprintf(stderr, "roster: %s: %s\n", d.path, strerror(errno));
		rv = ROSTER_EXIT_FAIL;
	}
	explicit_bzero(d.pw, sizeof d.pw);
	explicit_bzero(r->pw, sizeof r->pw);
	desk_free_parties(&d);
	free(d.scans);
	free(d.path);
	return (rv);
}
