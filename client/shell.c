/*
 * shell.c -- roster shell: requests typed in protocol syntax, read with
 * libedit (history in ~/.roster_history, completion of command words, keys
 * and enumerated values), sent as typed, replies printed in the chosen
 * format. Lines holding secrets never reach the history.
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

#define SHELL_HISTORY_SIZE	1000

/* Every command of PROTOCOL.md with its keys; "key=a|b" lists a key's
 * values for completion. */
struct shell_cmd {
	const char	*name;
	const char	*keys;
};

#define SHELL_PROLE	"role=head|member|adviser|observer|staff"
#define SHELL_PSTATUS	"status=registered|confirmed|declined"
#define SHELL_UROLE	"role=admin|secretariat|host|focal"
#define SHELL_KIND	"kind=country|organisation"
#define SHELL_SKIND	"kind=plenary|panel|working_group|side_event"

static const struct shell_cmd shell_cmds[] = {
	{ "PING", "" },
	{ "HELP", "command" },
	{ "LOGIN", "user password" },
	{ "LOGOUT", "" },
	{ "WHOAMI", "" },
	{ "PASSWORD", "old new" },
	{ "USE", "event" },
	{ "QUIT", "" },
	{ "USER ADD", "name " SHELL_UROLE " password party" },
	{ "USER LIST", "" },
	{ "USER SET", "name password " SHELL_UROLE " party enabled=yes|no" },
	{ "EVENT CREATE", "code title city country starts ends venue timezone "
	    "chair co_chair secretariat" },
	{ "EVENT LIST", "" },
	{ "EVENT SHOW", "event" },
	{ "EVENT SET", "event title venue city country starts ends timezone "
	    "chair co_chair secretariat status=draft|open|closed version" },
	{ "PARTY ADD", "code " SHELL_KIND " name" },
	{ "PARTY LIST", SHELL_KIND },
	{ "PARTY SHOW", "party" },
	{ "DELEGATION REGISTER", "event party quota note ref" },
	{ "DELEGATION LIST", "event " SHELL_PSTATUS " " SHELL_KIND },
	{ "DELEGATION SHOW", "event party" },
	{ "DELEGATION SET", "event party quota note version" },
	{ "DELEGATION CONFIRM", "event party" },
	{ "DELEGATION DECLINE", "event party reason" },
	{ "PARTICIPANT ADD", "event party name honorific title email "
	    SHELL_PROLE " ref" },
	{ "PARTICIPANT LIST", "event party " SHELL_PSTATUS " " SHELL_PROLE },
	{ "PARTICIPANT SHOW", "event id" },
	{ "PARTICIPANT SET", "event id name honorific title email "
	    SHELL_PROLE " version" },
	{ "PARTICIPANT CONFIRM", "event id" },
	{ "PARTICIPANT DECLINE", "event id reason" },
	{ "PARTICIPANT ERASE", "event id" },
	{ "CHECKIN", "event id badge session" },
	{ "SESSION CREATE", "event code " SHELL_SKIND " title starts ends room "
	    "capacity theme ref" },
	{ "SESSION LIST", "event " SHELL_SKIND },
	{ "SESSION SHOW", "event session" },
	{ "SESSION SET", "event session " SHELL_SKIND " title starts ends room "
	    "capacity theme version" },
	{ "SPEAKER ADD", "event session participant "
	    "role=speaker|moderator|chair|panelist topic position ref" },
	{ "SPEAKER LIST", "event session" },
	{ "SPEAKER REMOVE", "event session participant" },
	{ "ENROL", "event session participant" },
	{ "UNENROL", "event session participant" },
	{ "ROSTER", "event session" },
	{ "EXPORT", "event what=participants|attendance|delegations|speakers|"
	    "sessions|enrolments format=csv|tsv party session status" },
	{ "AUDIT", "since user limit" },
	{ "WATCH", "event" },
};
#define SHELL_NCMDS	(sizeof shell_cmds / sizeof shell_cmds[0])

/* The candidates of the completion in progress. */
static char	**shell_cands;
static size_t	  shell_ncands;
static size_t	  shell_capcands;

static void
shell_cands_reset(void)
{
	size_t	 i;

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
	char	**p, *c;
	size_t	  i;

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
		p = reallocarray(shell_cands, shell_capcands + 32,
		    sizeof *p);
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
	static size_t	 next;
	size_t		 len = strlen(text);

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
shell_words(const char *line, size_t end, const char **w, size_t *wlen,
    int max)
{
	size_t	 i = 0, start;
	int	 n = 0, quoted;

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

static const struct shell_cmd *
shell_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < SHELL_NCMDS; i++)
		if (strcasecmp(shell_cmds[i].name, name) == 0)
			return (&shell_cmds[i]);
	return (NULL);
}

/* 1 when word starts some two-word command ("USER", "EVENT", ...). */
static int
shell_family(const char *word, size_t len)
{
	size_t	 i;

	for (i = 0; i < SHELL_NCMDS; i++)
		if (strncasecmp(shell_cmds[i].name, word, len) == 0 &&
		    shell_cmds[i].name[len] == ' ')
			return (1);
	return (0);
}

/* Candidates for the command's keys not yet in the line, or for the
 * values of the key being typed. */
static void
shell_complete_keys(const struct shell_cmd *cmd, const char *text,
    const char *line, size_t end)
{
	const char	*k, *eq, *bar, *keyend;
	const char	*eqt = strchr(text, '=');
	char		 buf[128], present[128];
	size_t		 klen, vlen;

	for (k = cmd->keys; *k != '\0'; k = keyend) {
		while (*k == ' ')
			k++;
		if (*k == '\0')
			break;
		keyend = k + strcspn(k, " ");
		eq = memchr(k, '=', keyend - k);
		klen = (eq != NULL ? eq : keyend) - k;
		if (eqt != NULL) {
			/* Values of this key, as "key=value". */
			if (eq == NULL || (size_t)(eqt - text) != klen ||
			    strncmp(text, k, klen) != 0)
				continue;
			for (eq++; eq < keyend; eq = bar + (bar < keyend)) {
				bar = memchr(eq, '|', keyend - eq);
				if (bar == NULL)
					bar = keyend;
				vlen = bar - eq;
				snprintf(buf, sizeof buf, "%.*s=%.*s",
				    (int)klen, k, (int)vlen, eq);
				shell_cands_add(buf, strlen(buf), 0);
			}
			continue;
		}
		/* Leave out keys the line already has. */
		snprintf(present, sizeof present, " %.*s=", (int)klen, k);
		if (memmem(line, end, present, strlen(present)) != NULL)
			continue;
		snprintf(buf, sizeof buf, "%.*s=", (int)klen, k);
		shell_cands_add(buf, strlen(buf), 0);
	}
}

static char **
shell_complete(const char *text, int start, int end)
{
	const struct shell_cmd	*cmd;
	const char		*w[2];
	char			 name[PROTO_MAX_COMMAND + 1];
	size_t			 wlen[2], i, len;
	int			 n, lower;

	(void)end;
	rl_attempted_completion_over = 1;
	rl_completion_append_character = ' ';
	shell_cands_reset();
	if ((n = shell_words(rl_line_buffer, start, w, wlen, 2)) == -1)
		return (NULL);
	lower = text[0] >= 'a' && text[0] <= 'z';
	if (n == 0) {
		for (i = 0; i < SHELL_NCMDS; i++)
			shell_cands_add(shell_cmds[i].name,
			    strcspn(shell_cmds[i].name, " "), lower);
	} else if (n == 1 && shell_family(w[0], wlen[0])) {
		for (i = 0; i < SHELL_NCMDS; i++) {
			len = wlen[0];
			if (strncasecmp(shell_cmds[i].name, w[0], len) == 0 &&
			    shell_cmds[i].name[len] == ' ')
				shell_cands_add(shell_cmds[i].name + len + 1,
				    strlen(shell_cmds[i].name + len + 1),
				    lower);
		}
	} else {
		if (shell_family(w[0], wlen[0]) && n >= 2)
			snprintf(name, sizeof name, "%.*s %.*s", (int)wlen[0],
			    w[0], (int)wlen[1], w[1]);
		else
			snprintf(name, sizeof name, "%.*s", (int)wlen[0],
			    w[0]);
		if ((cmd = shell_find(name)) == NULL)
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
	size_t	 i, j, len = strlen(line);

	if (req != NULL) {
		for (i = 0; i < req->nargs; i++)
			if (main_is_secret_key(req->args[i].key))
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
	const char	*home;
	char		*path;

	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return (NULL);
	if (asprintf(&path, "%s/%s", home, ROSTER_HISTORY_FILE) == -1)
		return (NULL);
	return (path);
}

static void
shell_history_save(const char *path)
{
	int	 fd;

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
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

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
	char	*end;

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
	struct proto_reply		 rep;
	const struct proto_field	*f;

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
	struct proto_request	 req;
	struct proto_buf	 buf;
	const char		*send = line;
	char			 why[256], command[PROTO_MAX_COMMAND + 1] = "";
	char			*final = NULL;
	size_t			 len = strlen(line);
	int			 framing, parsed, rv = 0, st;

	proto_buf_init(&buf);
	parsed = proto_parse_request(line, len, &req, &framing, why,
	    sizeof why) == PROTO_OK;
	if (interactive && shell_keep(line, parsed ? &req : NULL))
		add_history(line);
	if (parsed) {
		snprintf(command, sizeof command, "%s", req.command);
		st = main_prompt_secrets(&req, &buf);
		proto_request_free(&req);
		if (st == -1 || buf.oom)
			goto out;
		if (st == 1) {
			send = buf.data;
			len = buf.len;
		}
	}
	if (strcmp(command, "WATCH") == 0)
		st = main_watch(r, send, len);
	else
		st = main_transact(r, send, len, o, &final);
	if (st == ROSTER_EXIT_FAIL)
		rv = -1;
	else if (final != NULL) {
		shell_track(command, final, event);
		if (strcmp(command, "QUIT") == 0)
			rv = 1;
	}
out:
	free(final);
	if (buf.data != NULL)
		explicit_bzero(buf.data, buf.cap);
	proto_buf_free(&buf);
	return (rv);
}

int
shell_run(struct roster *r)
{
	struct output	 o;
	char		*hist = NULL, *line, *s, *event = NULL, prompt[64];
	int		 interactive, rv, st;

	if ((rv = main_open(r, NULL)) == ROSTER_EXIT_FAIL)
		return (rv);
	if (rv == ROSTER_EXIT_OK && r->event != NULL)
		event = strdup(r->event);
	rv = ROSTER_EXIT_OK;
	interactive = isatty(STDIN_FILENO);
	if (interactive) {
		rl_readline_name = "roster";
		rl_basic_word_break_characters = " \t";
		rl_attempted_completion_function = shell_complete;
		using_history();
		stifle_history(SHELL_HISTORY_SIZE);
		if ((hist = shell_history_path()) != NULL)
			read_history(hist);
	}
	output_init(&o, r->format, stdout);
	o.errprefix = "";
	/* Ctrl-C while waiting for a reply gives up the connection. */
	main_catch_signals(1);
	r->conn.intr = &main_interrupted;
	for (;;) {
		if (event != NULL)
			snprintf(prompt, sizeof prompt, "roster[%s]> ", event);
		else
			snprintf(prompt, sizeof prompt, "roster> ");
		main_interrupted = 0;
		if ((line = shell_read(interactive, prompt)) == NULL) {
			if (interactive && main_interrupted) {
				putchar('\n');
				continue;
			}
			if (interactive)
				putchar('\n');
			break;
		}
		s = shell_trim(line);
		st = 0;
		if (*s != '\0') {
			main_interrupted = 0;
			st = shell_line(r, &o, s, interactive, &event);
			r->conn.intr = &main_interrupted;
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
	output_free(&o);
	free(event);
	return (rv);
}
