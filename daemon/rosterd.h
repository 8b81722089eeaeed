/*
 * rosterd.h -- the daemon's one program header: shared structs and the
 * prototypes of every file, grouped under the file that defines them.
 */
#ifndef ROSTERD_H
#define ROSTERD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "proto.h"

struct event_base;
struct evbuffer;
struct bufferevent;
struct pg_result;
typedef struct ssl_st SSL;

#define ROSTERD_MAX_LISTEN 8
#define ROSTERD_NAME	   "rosterd"

/* config.c */
/* Each list of addresses is followed by its count (config.c's CONFIG_ADDR). */
struct config {
	char *listen[ROSTERD_MAX_LISTEN];
	int   nlisten;
	char *http_listen[ROSTERD_MAX_LISTEN]; /* the HTTPS face */
	int   nhttp_listen;
	int   http_session_idle;
	char *web_root;
	char *cert;
	char *key;
	char *client_ca;
	char *database;
	char *user;
	int   db_connections;
	int   max_connections;
	int   max_line;
	int   max_pending;
	int   idle_timeout;
	int   handshake_timeout;
	int   login_timeout;
	int   write_timeout;
	int   max_connections_per_address;
	int   statement_timeout;
	int   log_level;
	char *feed_slot; /* feed.c: the replication slot; NULL: derived */
};
void config_defaults(struct config *);
int  config_load(struct config *, const char *, char *, size_t);
int  config_set(struct config *, const char *, const char *, char *, size_t);
void config_free(struct config *);
int  config_parse_level(const char *);
int  config_parse_addr(const char *, struct sockaddr_storage *, socklen_t *);
const char *const *config_key_names(void);

/* log.c */
#define LOG_LVL_ERROR	3
#define LOG_LVL_WARNING 4
#define LOG_LVL_NOTICE	5
#define LOG_LVL_INFO	6
#define LOG_LVL_DEBUG	7
void log_init(int, int);
void log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int, const char *, va_list);
#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
void log_escape(char *, size_t, const char *, size_t);
void log_limited(int, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));
void			       log_limit_sweep(time_t);
void			       log_limit_flush(void);
__attribute__((noreturn)) void fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2)));

/* tls.c */
int   tls_init(const struct config *, char *, size_t);
int   tls_reload(const struct config *);
SSL  *tls_new(void);
char *tls_peer_user(SSL *);
void  tls_shutdown(void);

/* server.c */
struct rosterd {
	struct event_base *base;
	struct config	  *cfg;
	int		   nconns;
	int		   nrefusing;
	int		   draining;
	uint64_t	   next_conn_id;
};
extern struct rosterd *rd;
struct event_base     *server_base_new(void);
int		       server_listen(void);
void		       server_drop_privileges(void);
void		       server_run(void);
void		       server_conn_closed(void);

/* conn.c: one client connection, its request queue and its output */
enum conn_state {
	CONN_HANDSHAKE,
	CONN_GREETING, /* waiting for the client-certificate lookup */
	CONN_READY,
	CONN_CLOSING,
	CONN_DEAD /* detached, freed from the loop */
};

/* What a session knows of its user, to tell a change (login.sql's
 * _user_stamp): hex characters. */
#define SESSION_STAMP_LEN 32

struct conn;
struct conn_addr;
struct conn_face;
struct req {
	TAILQ_ENTRY(req) entry;
	struct conn	       *conn; /* NULL once the client has gone */
	struct evbuffer	       *out;
	struct proto_request	preq;
	const struct cmd_entry *cmd;
	int			cmdi; /* cmd's index in the command table */
	struct timespec		started;
	int			done;
	int		waiting; /* a callback (db, auth) still owns it */
	int		close_after;
	size_t		written; /* bytes of its reply so far */
	int		large;	 /* its reply may be large (records) */
	enum proto_code result;
	void	       *data; /* handler's private state */
	void (*data_free)(void *);
	void (*at_head)(struct req *);	/* run when first */
	void (*on_drain)(struct req *); /* output drained */
	void (*on_gone)(struct req *);	/* client left while waiting */
};
TAILQ_HEAD(reqq, req);

enum role {
	ROLE_NONE = 0,
	ROLE_ADMIN = 0x01,
	ROLE_SECRETARIAT = 0x02,
	ROLE_HOST = 0x04,
	ROLE_FOCAL = 0x08
};
#define ROLE_ANY_USER (ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST | ROLE_FOCAL)
#define ROLE_ANYONE   0x10 /* logged in or not */
#define ROLES_STAFF   (ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST)

/*
 * A mode replaces the reading of requests on a connection (WATCH reads
 * only DONE): each line goes to its line handler, and its close hook runs
 * when the connection leaves the mode or goes away. A connection in a mode
 * has no idle timeout.
 */
struct conn_mode {
	const char *name;
	void (*line)(struct req *, const char *, size_t);
	void (*close)(struct conn *, void *);
};

/*
 * A face replaces the line protocol's framing on a connection (the HTTPS
 * face, http.c): it reads requests from the input instead of lines, and
 * turns the reply lines that the commands write into its own bytes
 * (req_emit). NULL: the line protocol.
 */
struct conn_face {
	const char *name;
	const char *busy; /* sent past max_connections, then closed */
	void (*established)(struct conn *); /* instead of the greeting */
	int (*input)(struct conn *);	    /* 1: a request was read */
	void (*reply)(struct req *, const char *, size_t);
	int (*done)(struct req *); /* 1: it calls req_done again later */
	void (*notify)(struct conn *, const char *, size_t, struct evbuffer *);
	void (*free)(struct conn *);
};

struct conn {
	uint64_t id;
	TAILQ_ENTRY(conn) entry;
	const struct conn_face *face; /* NULL: the line protocol */
	void		       *face_data;
	struct bufferevent     *bev;
	SSL		       *ssl;
	int			fd;
	char			addr[64];
	enum conn_state		state;
	int			refusing; /* over max_connections */
	int			broken;	  /* EOF or error: no close_notify */
	time_t			deadline; /* handshake or idle */
	time_t			login_deadline;
	int			logged_in; /* has been, at some point */
	struct conn_addr       *peer;	   /* its per-address count */
	size_t			queued;	   /* bytes in its requests' out */
	size_t			reply_est; /* a reply's size, estimated */
	int			nlarge;	   /* requests in flight with one */
	int			framing_errors;
	int			discarding; /* inside an over-long line */
	int			paused;
	int			processing;
	struct req	       *barrier; /* no lines read past it */
	const struct conn_mode *mode;	 /* NULL: requests */
	void		       *mode_data;
	struct reqq		reqs;
	int			npending;
	/* the session */
	char	  user[PROTO_MAX_CODE + 1];
	enum role role;
	char	  party[PROTO_MAX_CODE + 1];
	char	  event[PROTO_MAX_CODE + 1];
	char	  stamp[SESSION_STAMP_LEN + 1]; /* the user as logged in */
};
void conn_accept(int, struct sockaddr *, socklen_t, const struct conn_face *);
struct req *conn_new_req(struct conn *);
void	    conn_close_all(void);
void	    conn_free_all(void);
void	    conn_each_session(int (*)(struct conn *, void *), void *);
const char *conn_host(struct conn *, char *, size_t);
char	   *conn_peer_user(struct conn *);
void	    conn_sweep(time_t);
void	    conn_set_mode(struct conn *, const struct conn_mode *, void *);
void	    conn_established_hook(int (*)(struct conn *));
void	    conn_notify(struct conn *, const char *, size_t);
void	    conn_greet(struct conn *, const char *, enum role, const char *);
void	    req_write(struct req *, const char *, size_t);
void	    req_emit(struct req *, const void *, size_t);
void	    req_emit_ref(struct req *, const void *, size_t);
void	    conn_touch(struct conn *);
void	    req_printf(struct req *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void req_line(struct req *, const struct proto_buf *);
void req_err(struct req *, enum proto_code, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void   req_done(struct req *);
int    req_resume(struct req *);
size_t req_stream(struct req *);
size_t req_pending(struct req *);
void   req_barrier(struct req *, void (*)(struct req *));
void   req_large(struct req *);
void   req_free(struct req *);

/* http.c: the HTTPS face (proto/HTTP.md): requests as JSON, replies as
 * JSON, exports as downloads, WATCH as Server-Sent Events */
#define HTTP_TOKEN_LEN PROTO_HTTP_TOKEN_LEN
enum http_route {
	HTTP_API,     /* POST /api: one command */
	HTTP_SESSION, /* GET /api/session: WHOAMI and the CSRF token */
	HTTP_EXPORT,  /* GET /api/export: EXPORT as a download */
	HTTP_WATCH    /* GET /api/watch: WATCH as Server-Sent Events */
};
struct json_t;
/* One HTTPS connection: the request being answered (one at a time) and
 * its reply as it is collected. */
struct http_conn {
	enum http_route	 route;
	int		 keep_alive;
	int		 closing; /* no request read after this one */
	size_t		 discard; /* bytes of a body too long still to drop */
	int		 status;  /* an HTTP status that overrides the code's */
	const char	*allow;	  /* 405: the methods allowed */
	char		 token[HTTP_TOKEN_LEN + 1]; /* the cookie's, or "" */
	char		 csrf_sent[HTTP_TOKEN_LEN + 1];
	int		 session; /* the cookie named a live session */
	char		 csrf[HTTP_TOKEN_LEN + 1];	 /* the session's */
	char		 token_hash[HTTP_TOKEN_LEN + 1]; /* its SHA-256 */
	char		 new_token[HTTP_TOKEN_LEN + 1];	 /* the cookie to set */
	int		 clear_cookie;
	char		 filename[48]; /* an export's */
	int		 tsv;
	struct evbuffer *line;	  /* reply bytes not yet a whole line */
	struct evbuffer *records; /* the records so far, as JSON */
	struct evbuffer *chunk;	  /* a stream's bytes not yet sent */
	int		 nrecords;
	struct json_t	*fields;
	struct json_t	*words;
	enum proto_code	 code;
	char		 text[512];
	int		 final;
	int		 streaming; /* its head is sent: export or SSE */
	int		 finished;
	int		 head_only; /* HEAD: the answer's head, no body */
	const char	*cache;	    /* Cache-Control; NULL: no-store */
	struct event	*expiry;    /* an SSE stream's look at its session */
};
extern const struct conn_face http_face;
void http_fail(struct req *, int, enum proto_code, const char *);
void http_finish(struct req *);
void http_dispatch(struct req *);

/* http-json.c: JSON documents to request lines, reply lines to JSON */
int http_json_request(const char *, size_t, struct proto_buf *, char *, size_t);
int http_query_request(const char *, const char *, struct proto_buf *, char *,
    size_t);
int http_json_fields(const char *, size_t, struct json_t **, struct json_t **,
    char *, size_t);
void http_json_dump(struct evbuffer *, struct json_t *);

/* http-session.c: web sessions in PostgreSQL, and CSRF tokens */
void http_session_init(void);
void http_session_load(struct req *);
int  http_session_after(struct req *);
int  http_session_csrf_ok(struct http_conn *);
void http_session_ended(const char *);
void http_session_watch(struct conn *);

/* http-static.c: the files of web_root, in memory */
struct http_file {
	char	   *path; /* "/index.html" */
	char	   *data;
	size_t	    len;
	const char *type;
	char	    etag[48]; /* "size-mtime", in hex, quoted */
};
int			http_static_load(const char *, char *, size_t);
void			http_static_free(void);
const struct http_file *http_static_find(const char *);

/* db.c: the asynchronous PostgreSQL pool */
typedef void (*db_cb)(void *, struct pg_result *, enum proto_code,
    const char *);
typedef int (*db_row_cb)(void *, const char *, int);
/* Why a statement was not queued (db_query, db_copy). */
enum db_refusal {
	DB_QUEUED = 0,
	DB_QUEUE_FULL,	    /* too many statements waiting: BUSY */
	DB_DOWN,	    /* no connection to the database: UNAVAILABLE */
	DB_NO_MEMORY,	    /* INTERNAL */
	DB_TOO_MANY_COPIES, /* every streaming connection in use: BUSY */
	DB_OWNER_FULL,	    /* this client has too many waiting: BUSY */
	DB_STOPPING	    /* the drain's deadline has passed: UNAVAILABLE */
};
/*
 * The start of the text of an ERR UNAVAILABLE whose request may have been
 * committed (its statement reached PostgreSQL, then the connection failed):
 * PROTOCOL.md section 3. Any other UNAVAILABLE committed nothing.
 */
#define DB_OUTCOME_UNKNOWN "outcome unknown: "
int		db_statement(const char *, int);
void		db_batchable(int);
void		db_mergeable(int, int);
void		db_readonly(int);
enum db_refusal db_copy(const void *, int, int, const char *const *,
    const char *, db_row_cb, db_cb, void *);
void		db_copy_resume(void *);
void		db_copy_cancel(void *);
int db_start(struct event_base *, const char *, int, int, char *, size_t);
enum db_refusal db_query(const void *, int, int, const char *const *, db_cb,
    void *);
void		db_drain(void);
void		db_abandon(void);
void		db_stop(void);
int		db_nfields(struct pg_result *);
int		db_ntuples(struct pg_result *);
const char     *db_fname(struct pg_result *, int);
const char     *db_value(struct pg_result *, int, int);
int		db_isnull(struct pg_result *, int, int);
int		db_getlength(struct pg_result *, int, int);
int		db_schema_check(const char *, char *, size_t);

/* migrate.c */
int migrate_run(const char *);
int migrate_latest(void);
int migrate_add_user(const char *, const char *, const char *, const char *,
    const char *);

/*
 * A hash of the functions in schema roster as the catalog has them now,
 * one row and column, text; the same whatever the session's search_path.
 * --migrate records it after loading the function files, and rosterd
 * compares it at start and on each new pool connection.
 */
#define MIGRATE_CATALOG_HASH_SQL                                             \
	"(SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(" \
	"coalesce(pg_catalog.string_agg(f.d, pg_catalog.chr(10) ORDER BY "   \
	"f.d COLLATE \"C\"), ''), 'UTF8')), 'hex') FROM (SELECT "            \
	"pg_catalog.concat_ws(' ', p.proname, (SELECT "                      \
	"pg_catalog.string_agg(tn.nspname || '.' || t.typname, ',' "         \
	"ORDER BY a.n) FROM pg_catalog.unnest(coalesce(p.proallargtypes, "   \
	"p.proargtypes::pg_catalog.oid[])) WITH ORDINALITY a(o, n) "         \
	"JOIN pg_catalog.pg_type t ON t.oid = a.o JOIN "                     \
	"pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace), "           \
	"p.proargmodes::text, p.proargnames::text, (SELECT "                 \
	"tn.nspname || '.' || t.typname FROM pg_catalog.pg_type t JOIN "     \
	"pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace WHERE "       \
	"t.oid = p.prorettype), p.prokind, p.proretset, p.provolatile, "     \
	"p.proparallel, p.prosecdef, p.proisstrict, p.proleakproof, "        \
	"l.lanname, p.proconfig::text, "                                     \
	"pg_catalog.pg_get_expr(p.proargdefaults, 0), p.prosrc) AS d "       \
	"FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON "        \
	"l.oid = p.prolang JOIN pg_catalog.pg_namespace n ON "               \
	"n.oid = p.pronamespace WHERE n.nspname = 'roster') f)"

/* migrations.c (generated from sql/ by sql/embed.sh) */
struct migration {
	int	    version;
	const char *name;
	const char *sql;
};
extern const struct migration migrations[];
extern const int	      nmigrations;
struct function_file {
	const char *name;
	const char *sql;
};
extern const struct function_file function_files[];
extern const int		  nfunction_files;
extern const char		  function_files_sha256[];

/* A function's record fields (its RETURNS TABLE columns), for HELP. */
struct function_fields {
	const char *name;   /* "participant_list" */
	const char *fields; /* "id event party ...", space-separated */
};
extern const struct function_fields function_fields[];
extern const int		    nfunction_fields;

/* auth.c: password hashing on worker threads, shared fairly */
struct auth_job;
typedef void (*auth_cb)(struct auth_job *, void *);
/* Why a job was not queued (auth_hash, auth_verify). */
enum auth_refusal {
	AUTH_QUEUED = 0,
	AUTH_BUSY,     /* too many jobs waiting: BUSY */
	AUTH_NO_MEMORY /* INTERNAL */
};
int		  auth_init(struct event_base *, int);
void		  auth_stop(void);
enum auth_refusal auth_hash(uint64_t, const char *, auth_cb, void *);
enum auth_refusal auth_verify(uint64_t, const char *, const char *, auth_cb,
    void *);
int		  auth_result(struct auth_job *);
const char	 *auth_out_hash(struct auth_job *);
void		  auth_job_free(struct auth_job *);
int		  auth_hash_now(const char *, char *, size_t);

/* cmd.c: the command table */
/* The key types (enum proto_key_type, KEY_CODE ...) are proto.h's. */
#define KEY_REQUIRED  0x01
#define KEY_EVENT     0x02 /* defaults to the session's USE event */
#define KEY_OWN_PARTY 0x04 /* a focal point may only name its own party */

struct cmd_key {
	const char	   *name;
	enum proto_key_type type;
	int		    flags;
	const char	   *choices; /* KEY_ENUM: "a|b|c" */
};

/* Keys and choices that several commands share. */
#define CMD_KEY_EVENT                              \
	{                                          \
		.name = "event", .type = KEY_CODE, \
		.flags = KEY_REQUIRED | KEY_EVENT  \
	}
#define CMD_KEY_EVENT_OPT                                             \
	{                                                             \
		.name = "event", .type = KEY_CODE, .flags = KEY_EVENT \
	}
#define CMD_KEYS_END         \
	{                    \
		.name = NULL \
	}
#define CMD_CHOICES_PARTY_KIND	     "country|organisation"
#define CMD_CHOICES_PARTICIPANT_ROLE "head|member|adviser|observer|staff"
#define CMD_CHOICES_STATUS	     "registered|confirmed|declined"
#define CMD_CHOICES_SESSION_KIND     "plenary|panel|working_group|side_event"
#define CMD_CHOICES_USER_ROLE	     "admin|secretariat|host|focal"

enum cmd_reply {
	CMD_REPLY_CUSTOM,  /* the handler writes the reply */
	CMD_REPLY_RECORDS, /* each row a "*" record, then OK count=N */
	CMD_REPLY_ONE,	   /* exactly one row, else NOT_FOUND */
	CMD_REPLY_FIELDS,  /* OK with the first row's fields */
	CMD_REPLY_BARE	   /* OK */
};

#define CMD_MAX_KEYS 24

/*
 * One command. When sql is set, the command's statement is
 * SELECT * FROM roster.<sql>(actor, actor_role, actor_party, key...), one
 * parameter per key in the order of keys; sql is the command's words in
 * lower case joined by "_". handler, when set, runs instead of sending it
 * (and may send it with cmd_exec). dry_run: the command takes dry_run=yes.
 */
struct cmd_entry {
	const char	     *name;
	const struct cmd_key *keys;
	int		      roles;
	const char	     *sql;
	enum cmd_reply	      reply;
	int		      dry_run;
	/* a function that takes many calls of sql at once, as arrays: the
	 * pool sends the calls of clients that wait together as one, in the
	 * group commit of writes or in a segment of reads (db_mergeable) */
	const char *many;
	/* its function only reads (STABLE, and so is what it calls): calls
	 * of different clients may share a segment (db_readonly);
	 * test_read_groups.py checks the functions */
	int read;
	void (*handler)(struct req *);
};
void	    cmd_init(void);
void	    cmd_dispatch(struct req *);
const char *cmd_arg(struct req *, const char *);
int	    cmd_key_index(const struct cmd_entry *, const char *);
const char *role_name(enum role);
enum role   role_from_name(const char *);
void	    cmd_exec(struct req *, const char *const *, int, db_cb);
void	    cmd_query(struct req *, int, int, const char *const *, db_cb);
void	    cmd_copy(struct req *, int, int, const char *const *, const char *,
	   db_row_cb, db_cb);
void	    cmd_help(struct req *);
int	    cmd_result(struct req *, enum proto_code, const char *);
void	    cmd_write_row(struct req *, struct pg_result *, int, const char *);

/* The command families: each file exports its entries, ended by one with
 * no name, and may have an init function that registers its statements. */
/* cmd-session.c */
extern const struct cmd_entry cmd_session_entries[];
void			      cmd_session_init(void);
void			      cmd_session_user_changed(const char *);
void			      cmd_session_recheck(void);
/* cmd-user.c */
extern const struct cmd_entry cmd_user_entries[];
/* cmd-event.c */
extern const struct cmd_entry cmd_event_entries[];
/* cmd-party.c */
extern const struct cmd_entry cmd_party_entries[];
/* cmd-delegation.c */
extern const struct cmd_entry cmd_delegation_entries[];
/* cmd-participant.c */
extern const struct cmd_entry cmd_participant_entries[];
/* cmd-agenda.c */
extern const struct cmd_entry cmd_agenda_entries[];
/* cmd-export.c */
extern const struct cmd_entry cmd_export_entries[];
void			      cmd_export_init(void);
/* cmd-audit.c */
extern const struct cmd_entry cmd_audit_entries[];
/* cmd-watch.c */
extern const struct cmd_entry cmd_watch_entries[];
void			      cmd_watch_init(void);

/* translit.c */
#define TRANSLIT_MAX 1024 /* bytes of a derived latin, with its nul */
int translit_init(char *, size_t);
int translit_latin(const char *, char *, size_t);

/* notify.c */
#define NOTIFY_MAX_PAYLOAD 8000 /* bytes; PostgreSQL's own limit */
#define NOTIFY_MAX_FIELDS  32	/* members, event and kind included */
#define NOTIFY_KEY_LEN	   32	/* bytes of the HMAC-SHA256 key */
int notify_line(const char *, size_t, struct proto_buf *, char *, size_t,
    char *, size_t);
int notify_hexval(int);
int notify_check(const unsigned char *, size_t, const char *, const char *,
    size_t, uint64_t *, size_t *, char *, size_t);

/* feed.c: the notifications of every daemon, from logical decoding */
#define FEED_SLOT_MAX 63 /* characters of a replication slot's name */
typedef void (*feed_cb)(const char *, const char *);
void	    feed_listen(feed_cb);
void	    feed_slot_default(const struct config *, char *, size_t);
int	    feed_check(const char *, const char *, char *, size_t);
void	    feed_start(struct event_base *, const char *, const char *);
void	    feed_stop(void);
const char *db_conninfo_resolved(void); /* db.c: the connection string */

#endif /* ROSTERD_H */
