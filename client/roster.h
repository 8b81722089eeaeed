/*
 * roster.h -- the roster CLI: one request from the command line, an
 * interactive shell, bulk import, export and live updates, all over one
 * blocking TLS connection to rosterd. The CLI's one header: its types, then
 * the prototypes of each file under its name.
 */
#ifndef ROSTER_H
#define ROSTER_H

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "proto.h"

#define ROSTER_DEFAULT_HOST    "127.0.0.1"
#define ROSTER_CONFIG_PATH     ".config/roster/config" /* under $HOME */
#define ROSTER_HISTORY_FILE    ".roster_history"       /* under $HOME */
#define ROSTER_CONNECT_TIMEOUT 10000  /* ms: connect, handshake, greeting */
#define ROSTER_REPLY_TIMEOUT   120000 /* ms of silence while a reply is due */

/* Exit statuses. */
#define ROSTER_EXIT_OK	    0
#define ROSTER_EXIT_ERR	    1 /* the server answered ERR */
#define ROSTER_EXIT_FAIL    2 /* usage, configuration or connection */
#define ROSTER_EXIT_PENDING 3 /* checkin-desk: scans wait to be sent */

enum output_format {
	OUTPUT_TABLE,
	OUTPUT_RECORDS,
	OUTPUT_CSV,
	OUTPUT_JSON
};

/* Connection settings and preferences, from the config file, the
 * environment and the flags, in rising order of precedence. */
struct clicfg {
	char *host;
	char *port;
	char *ca;
	char *cert;
	char *key;
	char *user;
	char *format;
	char *password_file; /* the config's user's password */
	char *password_dir;  /* DIR/USER: each user's password */
};

/* One TLS connection. The input buffer holds at most NET_MAX_LINE bytes of
 * an unfinished line; output is queued and written while reading, so that
 * pipelined requests never deadlock against the server's replies. */
#define NET_MAX_LINE (256 * 1024)

enum net_status {
	NET_LINE,  /* a line was read */
	NET_DONE,  /* everything queued was written */
	NET_EOF,   /* the server closed the connection */
	NET_ERROR, /* see err */
	NET_TIMEOUT,
	NET_INTR /* *intr became non-zero while waiting */
};

struct net_params {
	const char *host;
	const char *port;
	const char *ca;	     /* file or directory; NULL: system's */
	const char *cert;    /* client certificate chain, PEM */
	const char *key;     /* its private key, PEM */
	int	    timeout; /* ms to connect and handshake; 0: the default */
};

struct net_conn {
	int		       fd;
	SSL_CTX		      *ctx;
	SSL		      *ssl;
	char		      *in;
	size_t		       inoff; /* start of unread input */
	size_t		       inlen; /* end of input */
	size_t		       incap;
	size_t		       scan; /* no LF in input before */
	struct proto_buf       out;
	size_t		       outoff; /* bytes of out written */
	int		       eof;
	int		       timeout; /* ms of silence; -1: none */
	volatile sig_atomic_t *intr;	/* may be NULL */
	char		       err[512];
};

/* The type of a command's key, as HELP's keys= names it. */
enum commands_type {
	COMMANDS_TYPE_UNKNOWN, /* from args=, or a type new to this roster */
	COMMANDS_TYPE_CODE,
	COMMANDS_TYPE_ID,
	COMMANDS_TYPE_COUNT,
	COMMANDS_TYPE_NAME,
	COMMANDS_TYPE_TEXT,
	COMMANDS_TYPE_LINE,
	COMMANDS_TYPE_DATE,
	COMMANDS_TYPE_TIME,
	COMMANDS_TYPE_TIMESTAMP,
	COMMANDS_TYPE_EMAIL,
	COMMANDS_TYPE_TZ,
	COMMANDS_TYPE_REF,
	COMMANDS_TYPE_PASSWORD,
	COMMANDS_TYPE_SECRET,
	COMMANDS_TYPE_ENUM,
	COMMANDS_TYPE_COMMAND
};

#define COMMANDS_REQUIRED 0x01
#define COMMANDS_USE	  0x02 /* defaults to the event of USE */
#define COMMANDS_OWN	  0x04 /* a focal point names only its party */

struct commands_key {
	char		  *name;
	enum commands_type type;
	int		   flags;   /* COMMANDS_* */
	char		  *choices; /* enum: "a|b|c"; else NULL */
};

/* One command the server knows, from one HELP record. */
struct commands_entry {
	char		    *name; /* "PARTICIPANT ADD" */
	struct commands_key *keys; /* in the server's order */
	size_t		     nkeys;
	int		     dry_run; /* takes dry_run=yes */
	char		    *fields;  /* its records' fields, in order; NULL */
};

/* The command set of one connection (session_commands). */
struct commands {
	struct commands_entry *entries;
	size_t		       nentries;
	size_t		       cap;
	int		       loaded; /* HELP answered OK */
};

/* What the program was asked to do, and the open session. */
struct roster {
	struct clicfg	   cfg;
	enum output_format format;
	const char	  *event;     /* --event: USE after login */
	const char	  *output;    /* export -o */
	const char	  *journal;   /* checkin-desk --journal */
	const char	  *replay;    /* checkin-desk --replay */
	const char	  *title;     /* export to PDF: --title */
	const char	  *layout;    /* badges --layout */
	int		   no_email;  /* and --no-email */
	int		   long_form; /* export attendance --long */
	int		   dry_run;
	const char	  *encoding;	    /* import --encoding */
	const char	  *map;		    /* import --map */
	int		   ignore_unknown;  /* import --ignore-unknown */
	int		   connect_timeout; /* ms; 0: ROSTER_CONNECT_TIMEOUT */
	int		   quiet_connect; /* no message when a connect fails */
	int		   argc;	  /* command and arguments */
	char		 **argv;
	struct net_conn	   conn;
	int		   connected;
	char		  *user;  /* logged in as, or NULL */
	int		   login; /* LOGIN due */
	char		   pw[PROTO_MAX_PASSWORD + 1]; /* for it */
	struct commands	   cmds;     /* HELP, once per connection */
	int		   no_pager; /* --no-pager */
	int		   expanded; /* -x: OUTPUT_EXPANDED_* */
};

/* A CSV text cut into rows of fields (csv.c). */
struct csv_row {
	size_t line; /* its first line in the text */
	char **fields;
	size_t nfields;
};

struct csv {
	struct csv_row *rows; /* [0]: the header */
	size_t		nrows;
	size_t		caprows;
	char		sep;	  /* ',', ';' or TAB, from the header */
	size_t		errline;  /* on failure: the line */
	char		err[128]; /* and what is wrong there */
};

/* The entries of import --map (colmap.c). */
struct colmap {
	char **from; /* headers */
	char **to;   /* keys; "": leave the column out */
	size_t n;
};

/* An import being run (import.c, upsert.c). */
#define IMPORT_MAX_COLS 32

enum import_state {
	IMPORT_PENDING, /* not classified yet */
	IMPORT_ADD,	/* to be sent: the kind's ADD */
	IMPORT_SET,	/* to be sent: the kind's SET of what it matched */
	IMPORT_ADDED,
	IMPORT_UPDATED,
	IMPORT_UNCHANGED,
	IMPORT_REFUSED
};

/* A record the server has (a LIST's), and the event it was listed for. */
struct import_rec {
	char  *event;
	char **keys;
	char **values;
	size_t n;
};

struct import_recs {
	struct import_rec *r;
	size_t		   n;
	size_t		   cap;
};

/* A row of the file, its cells by the import's columns. */
struct import_row {
	enum import_state	 state;
	size_t			 line;
	char			*v[IMPORT_MAX_COLS]; /* "" when empty */
	const char		*person;  /* speakers: participant_name's id */
	const struct import_rec *rec;	  /* what it matches */
	unsigned long		 changed; /* bits: columns that differ */
	int			 set;	  /* it was sent as a SET */
	char			*error;	  /* when refused */
	int			 retry;	  /* BUSY or UNAVAILABLE */
};

struct import_kind {
	const char *name;
	const char *command;  /* adds a row */
	const char *alias;    /* a column the CLI turns into ... */
	const char *alias_of; /* ... this key */
	const char *list;     /* what there is already */
	int	    per_event;
	const char *set;   /* changes it; NULL: none */
	const char *ident; /* the column that names it (NULL: participants) */
	const char *set_ident; /* its key in set */
	const char *label;     /* the column that names it in messages */
};

struct import {
	struct roster		    *r;
	const struct import_kind    *kind;
	const struct commands_entry *cmd; /* from HELP */
	const struct commands_entry *set; /* NULL: the server has none */
	const char		    *path;
	struct csv		     csv; /* [0]: the header */
	char			    *cols[IMPORT_MAX_COLS]; /* keys */
	size_t			     ncols;
	size_t			     order[IMPORT_MAX_COLS]; /* by key */
	struct import_row	    *rows; /* [0] unused: the header */
	size_t			     nrows;
	char			    *columns; /* for messages */
	int			     ref;     /* cmd takes ref= */
	struct import_recs	     recs;    /* the kind's, from its list */
	struct import_recs	     parties; /* PARTY LIST */
	struct import_recs	     people;  /* speakers: PARTICIPANT LIST */
	struct import_key	    *keys;
	size_t			     nkeys;
	int			     bar; /* show progress */
	long long		     lastbar;
	size_t			     total;
};

/* Replies being printed. */
struct output_rec {
	size_t n;
	char **keys;
	char **values;
};

struct output {
	enum output_format format;
	FILE		  *data;      /* export payload lines */
	const char	  *errprefix; /* before "ERR CODE text" */
	struct output_rec *recs;
	size_t		   nrecs;
	size_t		   caprecs;
	char		 **keys; /* union of record keys */
	size_t		   nkeys;
	size_t		   capkeys;
	size_t		   ndata; /* payload lines so far */
	int		   oom;
	int		   keep; /* records kept for the caller, not printed */
	const char	  *fields;    /* HELP's fields=: the columns' order */
	int		   expanded;  /* OUTPUT_EXPANDED_* */
	int		   pager;     /* a long table may go through $PAGER */
	int		   cli_hints; /* errors in the CLI's terms (not the
					 shell's) */
};

#define OUTPUT_EXPANDED_AUTO 0 /* when the table is wider than the terminal */
#define OUTPUT_EXPANDED_ON   1
#define OUTPUT_EXPANDED_OFF  2

/* The event and the participants a printed document shows (people.c).
 * Strings are NULL when absent; a person's fields point into the CSV
 * and are "" when empty. */
struct people_event {
	char *code;
	char *title;
	char *venue;
	char *city;
	char *country; /* its code */
	char *starts;  /* YYYY-MM-DD */
	char *ends;
	char *timezone;
	char *country_name; /* the host country, by name */
	char *chair;	    /* parties, by name */
	char *co_chair;
	char *secretariat;
};

struct people_person {		/* the export's columns, in this order */
	const char *party;	/* its code */
	const char *delegation; /* the party's name */
	const char *kind;	/* country or organisation */
	const char *id;
	const char *honorific;
	const char *name;
	const char *title;
	const char *email;
	const char *role; /* head, member, adviser, observer, staff */
	const char *status;
	const char *badge;
	const char *family;
	const char *latin;
};

struct people {
	struct people_event   event;
	struct people_person *p; /* in the export's order, none declined */
	size_t		      n;
	struct csv	      csv;
	char		     *text;
};

/* Where an export (or a document) goes: -o FILE, written beside itself
 * and renamed into place on success (export.c). */
struct export_file {
	const char *path; /* NULL: stdout */
	FILE	   *f;
	char	   *tmp;    /* written here, then renamed */
	int	    direct; /* a device or pipe, written to */
};

/* How badges are laid out on paper (badges.c). */
enum badges_layout {
	BADGES_A6,  /* one A6 page (105 x 148 mm) each */
	BADGES_A4_8 /* eight 105 x 74 mm cards to an A4 sheet, cut marks */
};

/* A PDF document being drawn, a font, a paragraph (pdf.c); opaque. */
struct pdf;
struct pdf_font;
struct pdf_text;

/*
 * The documents' fonts: Noto Sans, and for the scripts it lacks the Noto
 * font of each. fontconfig alone would fall back from Noto Sans to DejaVu
 * Sans for those that DejaVu also covers (Arabic, Hebrew, Armenian,
 * Georgian, Lao); the others it finds among the Noto fonts by itself
 * (Devanagari, Chinese, Japanese, Korean, Thai …).
 */
#define PDF_FAMILY                                                        \
	"Noto Sans,Noto Sans Arabic,Noto Sans Hebrew,Noto Sans Armenian," \
	"Noto Sans Georgian,Noto Sans Lao"

#define PDF_A4_WIDTH  595.28 /* points */
#define PDF_A4_HEIGHT 841.89

/* A paragraph's alignment. */
#define PDF_LEFT   0
#define PDF_CENTER 1
#define PDF_RIGHT  2

/* The style of a run of text. */
#define PDF_BOLD   0x01
#define PDF_ITALIC 0x02
#define PDF_GREY   0x04
#define PDF_SMALL  0x08

/* What output_line says of a line. */
#define OUTPUT_MORE 0 /* the reply goes on */
#define OUTPUT_OK   1 /* final OK */
#define OUTPUT_ERR  2 /* final ERR */
#define OUTPUT_BAD  3 /* not a reply line */

/* main.c */
int main_args(const char *, int, char **, struct proto_buf *);

/* session.c */
extern volatile sig_atomic_t session_interrupted;
void			     session_catch_signals(int);
int  session_password(const struct roster *, char *, size_t);
int  session_connect(struct roster *, const char *command);
int  session_start(struct roster *);
int  session_open(struct roster *, const char *command);
void session_close(struct roster *);
int  session_transact(struct roster *, const char *, size_t, struct output *,
     char **);
int  session_reply(struct roster *, struct output *, char **);
int  session_fields(struct roster *, const char *, const char *, size_t,
     char **);
int  session_watch(struct roster *, const char *, size_t);
const struct commands *session_commands(struct roster *);

/* secret.c */
int secret_getpass(const char *, char *, size_t);
int secret_is_key(const char *);
int secret_ask(const char *, const char *, struct proto_buf *);
int secret_old_password(char *, size_t);
int secret_prompt(struct proto_request *, struct proto_buf *);

/* commands.c */
void commands_init(struct commands *);
void commands_free(struct commands *);
int  commands_add(struct commands *, const char *, size_t, char *, size_t);
const struct commands_entry *commands_find(const struct commands *,
    const char *);
const struct commands_key   *commands_key(const struct commands_entry *,
      const char *);

/* net.c */
int  net_open(struct net_conn *, const struct net_params *);
void net_close(struct net_conn *);
void net_queue(struct net_conn *, const char *, size_t);
int  net_flush(struct net_conn *);
int  net_read_line(struct net_conn *, char **, size_t *);

/* output.c */
void   output_init(struct output *, enum output_format, FILE *);
void   output_free(struct output *);
int    output_line(struct output *, const char *, size_t);
int    output_is_final(const char *, size_t);
void   output_notify(struct output *, const char *, size_t);
size_t output_width(const char *, size_t);
size_t output_char(const char *, size_t, size_t *);
void   output_text(FILE *, const char *, size_t);
void   output_json_string(FILE *, const char *, size_t);
void   output_csv_field(FILE *, const char *, size_t);

/* table.c */
void table_print(FILE *, char *const *, size_t, const struct output_rec *,
    size_t, size_t, int);

/* shell.c */
int shell_run(struct roster *);

/* clicfg.c */
void  clicfg_init(struct clicfg *);
void  clicfg_free(struct clicfg *);
int   clicfg_load(struct clicfg *, const char *);
char *clicfg_default_path(void);
int   clicfg_set(char **, const char *);
int   clicfg_format(const char *, enum output_format *);
int   clicfg_valid_port(const char *);
char *clicfg_read_secret(const char *);

/* csv.c */
void csv_init(struct csv *);
int  csv_parse(struct csv *, const char *, size_t);
void csv_free(struct csv *);

/* people.c */
void people_init(struct people *);
void people_free(struct people *);
int  people_read(struct people *, FILE *);
int  people_event(struct roster *, const char *, struct people *);
int  people_load(struct roster *, int, char **, struct people *);

/* charset.c */
int charset_to_utf8(const char *, size_t, const char *, char **, size_t *,
    char *, size_t);

/* colmap.c */
size_t	    colmap_fold(const char *, char *, size_t);
char	   *colmap_trim(char *);
const char *colmap_known(const char *);
int	    colmap_same(const char *, const char *);
int	    colmap_parse(struct colmap *, const char *, char *, size_t);
const char *colmap_lookup(const struct colmap *, const char *);
void	    colmap_free(struct colmap *);

/* import.c */
int	    import_run(struct roster *);
ssize_t	    import_col(const struct import *, const char *);
const char *import_event(const struct import *, const struct import_row *);
void	    import_refuse(struct import_row *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* columns.c */
int columns_header(struct import *, ssize_t *, ssize_t *);
int columns_rows(struct import *, const ssize_t *, ssize_t);

/* upsert.c */
int	    upsert_load(struct import *);
void	    upsert_classify(struct import *);
void	    upsert_recs_free(struct import_recs *);
const char *upsert_field(const struct import_rec *, const char *);

/* export.c */
int export_open(struct export_file *, const char *);
int export_close(struct export_file *, int);
int export_run(struct roster *);

/* desk.c */
int desk_run(struct roster *);

/* badges.c */
int badges_write(FILE *, const struct people_event *,
    const struct people_person *const *, size_t, enum badges_layout);
int badges_run(struct roster *);

/* attendance.c */
int export_slurp(FILE *, char **, size_t *);
int attendance_shape(struct roster *, const char *, FILE *, FILE *, int);
int attendance_write_csv(struct roster *, FILE *, const char *, const char *);
int attendance_write_tsv(struct roster *, FILE *, const char *, const char *);

/* xlsx.c */
int xlsx_write(struct roster *, FILE *, const char *, const char *);

/* pdf.c */
struct pdf *pdf_open(const char *, double, double, const char *);
int	    pdf_close(struct pdf *);
void	    pdf_page(struct pdf *);
void pdf_line(struct pdf *, double, double, double, double, double, double);
struct pdf_font *pdf_font(const char *, double);
void		 pdf_font_free(struct pdf_font *);
struct pdf_text *pdf_text(struct pdf *, const struct pdf_font *, double, int);
void		 pdf_text_free(struct pdf_text *);
void		 pdf_text_add(struct pdf_text *, const char *, int);
void		 pdf_text_language(struct pdf_text *, const char *);
double		 pdf_text_height(struct pdf_text *);
double		 pdf_text_width(struct pdf_text *);
void		 pdf_text_draw(struct pdf *, struct pdf_text *, double, double);

/* lop.c */
int lop_render(const struct people *, const char *, int, const char *);
int lop_write(struct roster *, FILE *, const char *, const char *);

#endif /* ROSTER_H */
