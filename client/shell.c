/*
 * shell.c -- roster shell: requests typed in protocol syntax, read with
 * libedit (history in ~/.roster_history, completion of command words, keys
 * and enumerated values, all from the server's HELP), sent as typed,
 * replies printed in the chosen format. Lines holding secrets never reach
 * the history.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <editline/readline.h>

#include "roster.h"

#define SHELL_HISTORY_SIZE 1000

/* The server's commands (HELP), completed from; NULL: none. */
static const struct commands *shell_set;

/* The candidates of the completion in progress. */
static char **shell_cands;
static size_t shell_ncands;
static size_t shell_capcands;

static void
shell_cands_reset(void)
{
	size_t i;

	for (i = 0; i < shell_ncands; i++)
		free(shell_cands[i]);
	free(shell_cands);
	shell_cands = NULL;
	shell_ncands = shell_capcands = 0;
}

/* Add a candidate once, in lower case when lower is set. */
static void
shell_cands_add(const char *s, size_t len, int lower)
{
	char **p, *c;
	size_t i;

	if ((c = strndup(s, len)) == NULL)
		return;
	for (i = 0; lower && i < len; i++)
		if (c[i] >= 'A' && c[i] <= 'Z')
			c[i] += 'a' - 'A';
	for (i = 0; i < shell_ncands; i++) {
		if (strcmp(shell_cands[i], c) == 0) {
			free(c);
			return;
		}
	}
	if (shell_ncands == shell_capcands) {
		p = reallocarray(shell_cands, shell_capcands + 32, sizeof *p);
		if (p == NULL) {
			free(c);
			return;
		}
		shell_cands = p;
		shell_capcands += 32;
	}
	shell_cands[shell_ncands++] = c;
}

static char *
shell_complete_gen(const char *text, int state)
{
	static size_t next;
	size_t	      len = strlen(text);

	if (state == 0)
		next = 0;
	while (next < shell_ncands) {
		if (strncmp(shell_cands[next++], text, len) == 0)
			return (strdup(shell_cands[next - 1]));
	}
	return (NULL);
}

/* Cut line[0..end) into words, honouring quotes; returns how many (at most
 * max), or -1 when end is inside a quoted value. */
static int
shell_words(const char *line, size_t end, const char **w, size_t *wlen, int max)
{
	size_t i = 0, start;
	int    n = 0, quoted;

	for (;;) {
		while (i < end && line[i] == ' ')
			i++;
		if (i >= end)
			return (n);
		start = i;
		quoted = 0;
		for (; i < end && (quoted || line[i] != ' '); i++) {
			if (line[i] == '"')
				quoted = !quoted;
			else if (quoted && line[i] == '\\' && i + 1 < end)
				i++;
		}
		if (quoted)
			return (-1);
		if (n < max) {
			w[n] = line + start;
			wlen[n] = i - start;
		}
		n++;
	}
}

/* 1 when word starts some two-word command ("USER", "EVENT", ...). */
static int
shell_family(const char *word, size_t len)
{
	const char *name;
	size_t	    i;

	for (i = 0; i < shell_set->nentries; i++) {
		name = shell_set->entries[i].name;
		if (strncasecmp(name, word, len) == 0 && name[len] == ' ')
			return (1);
	}
	return (0);
}

/* Candidates for one key: "key=" when the line does not have it yet, or
 * "key=choice" for each choice when text is "key=...". */
static void
shell_complete_key(const char *key, const char *choices, const char *text,
    const char *line, size_t end)
{
	const char *eqt = strchr(text, '='), *c, *bar;
	char	    buf[256], present[PROTO_MAX_KEY + 3];
	size_t	    klen = strlen(key);

	if (eqt != NULL) {
		if ((size_t)(eqt - text) != klen ||
		    strncmp(text, key, klen) != 0 || choices == NULL)
			return;
		for (c = choices; *c != '\0'; c = bar + (*bar == '|')) {
			bar = c + strcspn(c, "|");
			snprintf(buf, sizeof buf, "%s=%.*s", key,
			    (int)(bar - c), c);
			shell_cands_add(buf, strlen(buf), 0);
		}
		return;
	}
	/* Leave out keys the line already has. */
	snprintf(present, sizeof present, " %s=", key);
	if (memmem(line, end, present, strlen(present)) != NULL)
		return;
	snprintf(buf, sizeof buf, "%s=", key);
	shell_cands_add(buf, strlen(buf), 0);
}

/* Candidates for the command's keys not yet in the line, or for the
 * values of the key being typed. */
static void
shell_complete_keys(const struct commands_entry *cmd, const char *text,
    const char *line, size_t end)
{
	size_t i;

	for (i = 0; i < cmd->nkeys; i++)
		shell_complete_key(cmd->keys[i].name, cmd->keys[i].choices,
		    text, line, end);
	if (cmd->dry_run)
		shell_complete_key("dry_run", "yes", text, line, end);
}

static char **
shell_complete(const char *text, int start, int end)
{
	const struct commands_entry *cmd;
	const char		    *w[2], *cname;
	char			     name[PROTO_MAX_COMMAND + 1];
	size_t			     wlen[2], i, len;
	int			     n, lower;

	(void)end;
	rl_attempted_completion_over = 1;
	rl_completion_append_character = ' ';
	shell_cands_reset();
	if (shell_set == NULL)
		return (NULL);
	if ((n = shell_words(rl_line_buffer, start, w, wlen, 2)) == -1)
		return (NULL);
	lower = text[0] >= 'a' && text[0] <= 'z';
	if (n == 0) {
		for (i = 0; i < shell_set->nentries; i++) {
			cname = shell_set->entries[i].name;
			shell_cands_add(cname, strcspn(cname, " "), lower);
		}
	} else if (n == 1 && shell_family(w[0], wlen[0])) {
		len = wlen[0];
		for (i = 0; i < shell_set->nentries; i++) {
			cname = shell_set->entries[i].name;
			if (strncasecmp(cname, w[0], len) == 0 &&
			    cname[len] == ' ')
				shell_cands_add(cname + len + 1,
				    strlen(cname + len + 1), lower);
		}
	} else {
		if (shell_family(w[0], wlen[0]) && n >= 2)
			snprintf(name, sizeof name, "%.*s %.*s", (int)wlen[0],
			    w[0], (int)wlen[1], w[1]);
		else
			snprintf(name, sizeof name, "%.*s", (int)wlen[0], w[0]);
		if ((cmd = commands_find(shell_set, name)) == NULL)
			return (NULL);
		shell_complete_keys(cmd, text, rl_line_buffer, start);
		if (strchr(text, '=') == NULL)
			rl_completion_append_character = '\0';
	}
	if (shell_ncands == 0)
		return (NULL);
	return (rl_completion_matches(text, shell_complete_gen));
}

/* 1 when a line may go into the history: no secret in it. */
static int
shell_keep(const char *line, const struct proto_request *req)
{
	static const char *const secrets[] = { "password=", "old=", "new=" };
	size_t			 i, j, len = strlen(line);

	if (req != NULL) {
		for (i = 0; i < req->nargs; i++)
			if (secret_is_key(req->args[i].key))
				return (0);
	}
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		for (j = 0; j + strlen(secrets[i]) <= len; j++)
			if (strncasecmp(line + j, secrets[i],
				strlen(secrets[i])) == 0)
				return (0);
	}
	return (1);
}

static char *
shell_history_path(void)
{
	const char *home;
	char	   *path;

	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return (NULL);
	if (asprintf(&path, "%s/%s", home, ROSTER_HISTORY_FILE) == -1)
		return (NULL);
	return (path);
}

static void
shell_history_save(const char *path)
{
	int fd;

	if (path == NULL)
		return;
	/* Create it private before libedit writes it. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
		close(fd);
	if (write_history(path) != 0)
		fprintf(stderr, "roster: %s: could not save the history\n",
		    path);
}

/* One line, from libedit on a terminal, else from stdin; NULL at EOF. */
static char *
shell_read(int interactive, const char *prompt)
{
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t n;

	if (interactive)
		return (readline(prompt));
	if ((n = getline(&line, &cap, stdin)) == -1) {
		free(line);
		return (NULL);
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return (line);
}

static char *
shell_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return (s);
}

/* After a reply: USE sets the prompt's event, LOGOUT clears it. */
static void
shell_track(const char *command, const char *final, char **event)
{
	struct proto_reply	  rep;
	const struct proto_field *f;

	if (strcmp(command, "USE") != 0 && strcmp(command, "LOGOUT") != 0)
		return;
	if (proto_parse_reply(final, strlen(final), &rep) == PROTO_LINE_OK) {
		free(*event);
		*event = NULL;
		if (strcmp(command, "USE") == 0 &&
		    (f = proto_reply_field(&rep, "event")) != NULL)
			*event = strndup(f->value, f->vlen);
	}
	proto_reply_free(&rep);
}

/*
 * Run one line. Returns 0 to go on, 1 after QUIT, -1 when the connection
 * is lost.
 */
static int
shell_line(struct roster *r, struct output *o, char *line, int interactive,
    char **event)
{
	struct proto_request req;
	struct proto_buf     buf;
	const char	    *send = line;
	char		     why[256], command[PROTO_MAX_COMMAND + 1] = "";
	char		    *final = NULL, *fields = NULL;
	size_t		     len = strlen(line);
	int		     framing, parsed, rv = 0, st;

	proto_buf_init(&buf);
	parsed = proto_parse_request(line, len, &req, &framing, why,
		     sizeof why) == PROTO_OK;
	if (interactive && shell_keep(line, parsed ? &req : NULL))
		add_history(line);
	if (parsed) {
		snprintf(command, sizeof command, "%s", req.command);
		st = secret_prompt(&req, &buf);
		proto_request_free(&req);
		if (st == -1 || buf.oom)
			goto out;
		if (st == 1) {
			send = buf.data;
			len = buf.len;
		}
	}
	if (strcmp(command, "WATCH") == 0)
		st = session_watch(r, send, len);
	else if (o->format == OUTPUT_RECORDS || !parsed)
		st = session_transact(r, send, len, o, &final);
	else if (session_fields(r, command, send, len, &fields) == -1)
		st = ROSTER_EXIT_FAIL;
	else {
		o->fields = fields;
		st = session_reply(r, o, &final);
		o->fields = NULL;
	}
	if (st == ROSTER_EXIT_FAIL)
		rv = -1;
	else if (final != NULL) {
		shell_track(command, final, event);
		if (strcmp(command, "QUIT") == 0)
			rv = 1;
	}
out:
	free(final);
	free(fields);
	if (buf.data != NULL)
		explicit_bzero(buf.data, buf.cap);
	proto_buf_free(&buf);
	return (rv);
}

/* The shell's own switches, as psql's: \x [on|off|auto] (one record per
 * block), \format [table|records|csv|json], \pager [on|off], \?. */
static void
shell_switch(struct roster *r, struct output *o, const char *line)
{
	static const char *const xnames[] = { "auto", "on", "off" };
	static const char *const fnames[] = { "table", "records", "csv",
		"json" };
	enum output_format	 fmt;
	char			 word[16] = "", arg[16] = "";
	int			 i;

	sscanf(line, "\\%15s %15s", word, arg);
	if (strcmp(word, "x") == 0) {
		if (*arg == '\0')
			o->expanded = o->expanded == OUTPUT_EXPANDED_ON ?
			    OUTPUT_EXPANDED_OFF :
			    OUTPUT_EXPANDED_ON;
		else {
			for (i = 0; i < 3 && strcmp(arg, xnames[i]) != 0; i++)
				;
			if (i == 3) {
				fprintf(stderr, "\\x: on, off or auto\n");
				return;
			}
			o->expanded = i;
		}
		printf("Expanded display is %s.\n", xnames[o->expanded]);
	} else if (strcmp(word, "format") == 0) {
		if (*arg != '\0') {
			if (clicfg_format(arg, &fmt) == -1) {
				fprintf(stderr,
				    "\\format: table, records, csv or "
				    "json\n");
				return;
			}
			o->format = r->format = fmt;
		}
		printf("Output format is %s.\n", fnames[o->format]);
	} else if (strcmp(word, "pager") == 0) {
		if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)
			o->pager = strcmp(arg, "on") == 0;
		else if (*arg != '\0') {
			fprintf(stderr, "\\pager: on or off\n");
			return;
		} else
			o->pager = !o->pager;
		printf("Pager is %s.\n", o->pager ? "on" : "off");
	} else
		printf("\\x [on|off|auto]   one record per block "
		       "(auto: when a table is wider than the terminal)\n"
		       "\\format [table|records|csv|json]\n"
		       "\\pager [on|off]    long tables through $PAGER "
		       "(less -FRSX)\n");
}

int
shell_run(struct roster *r)
{
	struct output o;
	char	     *hist = NULL, *line, *s, *event = NULL, prompt[64];
	int	      interactive, rv, st;

	if ((rv = session_open(r, NULL)) == ROSTER_EXIT_FAIL)
		return (rv);
	if (rv == ROSTER_EXIT_OK && r->event != NULL)
		event = strdup(r->event);
	rv = ROSTER_EXIT_OK;
	interactive = isatty(STDIN_FILENO);
	if (interactive) {
		rl_readline_name = "roster";
		rl_basic_word_break_characters = " \t";
		rl_attempted_completion_function = shell_complete;
		/* Completion from the server's own list; none without it. */
		shell_set = session_commands(r);
		using_history();
		stifle_history(SHELL_HISTORY_SIZE);
		if ((hist = shell_history_path()) != NULL)
			read_history(hist);
	}
	output_init(&o, r->format, stdout);
	o.errprefix = "";
	o.cli_hints = 0;
	o.pager = !r->no_pager;
	o.expanded = r->expanded;
	/* Ctrl-C while waiting for a reply gives up the connection. */
	session_catch_signals(1);
	r->conn.intr = &session_interrupted;
	for (;;) {
		if (event != NULL)
			snprintf(prompt, sizeof prompt, "roster[%s]> ", event);
		else
			snprintf(prompt, sizeof prompt, "roster> ");
		session_interrupted = 0;
		if ((line = shell_read(interactive, prompt)) == NULL) {
			if (interactive && session_interrupted) {
				putchar('\n');
				continue;
			}
			if (interactive)
				putchar('\n');
			break;
		}
		s = shell_trim(line);
		st = 0;
		if (*s == '\\')
			shell_switch(r, &o, s);
		else if (*s != '\0') {
			session_interrupted = 0;
			st = shell_line(r, &o, s, interactive, &event);
			r->conn.intr = &session_interrupted;
		}
		free(line);
		if (st == -1)
			rv = ROSTER_EXIT_FAIL;
		if (st != 0)
			break;
	}
	if (interactive) {
		shell_history_save(hist);
		free(hist);
	}
	shell_cands_reset();
	shell_set = NULL;
	output_free(&o);
	free(event);
	return (rv);
}
