/*
 * secret.c -- secrets are typed, never given: passwords asked on the
 * terminal without echo, for LOGIN, PASSWORD, USER ADD and USER SET, when
 * a secret key (password=, old=, new=) is given empty on the command line
 * or in the shell. A secret never comes from argv nor goes into the
 * history.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "roster.h"

/* Read a secret from the terminal without echo; -1 with a message when
 * there is no terminal or the read was interrupted. */
int
secret_getpass(const char *prompt, char *buf, size_t size)
{
	struct sigaction oldint, oldterm;
	struct termios	 old, noecho;
	size_t		 n = 0;
	ssize_t		 r;
	char		 c;
	int		 fd, rv = -1, toolong = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		fprintf(stderr,
		    "roster: no terminal to ask for a password "
		    "(set ROSTER_PASSWORD, password_file or password_dir)\n");
		return (-1);
	}
	sigaction(SIGINT, NULL, &oldint);
	sigaction(SIGTERM, NULL, &oldterm);
	session_catch_signals(1);
	session_interrupted = 0;
	if (tcgetattr(fd, &old) == -1) {
		fprintf(stderr, "roster: /dev/tty: %s\n", strerror(errno));
		goto out;
	}
	noecho = old;
	noecho.c_lflag &= ~ECHO;
	noecho.c_lflag |= ECHONL;
	/* Echo off (and what was typed ahead dropped) before the prompt:
	 * an answer typed as soon as the prompt shows is read, not flushed. */
	tcsetattr(fd, TCSAFLUSH, &noecho);
	(void)write(fd, prompt, strlen(prompt));
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR && !session_interrupted)
			continue;
		if (r != 1 || c == '\n' || c == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = c;
		else
			toolong = 1;
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	buf[n] = '\0';
	c = 0;
	if (session_interrupted) {
		(void)write(fd, "\n", 1);
		fprintf(stderr, "roster: interrupted\n");
	} else if (r == -1)
		fprintf(stderr, "roster: /dev/tty: %s\n", strerror(errno));
	else if (toolong)
		fprintf(stderr, "roster: password too long\n");
	else
		rv = 0;
out:
	if (rv == -1)
		explicit_bzero(buf, size);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGTERM, &oldterm, NULL);
	close(fd);
	return (rv);
}

/* Keys whose values are secrets and never come from argv or history. */
int
secret_is_key(const char *key)
{
	return (strcmp(key, "password") == 0 || strcmp(key, "old") == 0 ||
	    strcmp(key, "new") == 0);
}

/* Ask for the secret of key in command; new passwords twice. Appends
 * " key=secret" to buf. */
/* The current password typed for old= (PASSWORD), kept so that logging
 * in for the same command does not ask for it a second time. */
static char secret_old[PROTO_MAX_PASSWORD + 1];
static int  secret_have_old;

/* The current password typed for old=, once: 1 when there was one. */
int
secret_old_password(char *buf, size_t size)
{
	if (!secret_have_old || strlen(secret_old) >= size)
		return (0);
	memcpy(buf, secret_old, strlen(secret_old) + 1);
	explicit_bzero(secret_old, sizeof secret_old);
	secret_have_old = 0;
	return (1);
}

int
secret_ask(const char *command, const char *key, struct proto_buf *buf)
{
	char pw[PROTO_MAX_PASSWORD + 1], again[PROTO_MAX_PASSWORD + 1];
	char prompt[128];
	int  confirm, rv = -1;

	confirm = strcmp(key, "new") == 0 ||
	    (strcmp(key, "password") == 0 && strcmp(command, "LOGIN") != 0);
	snprintf(prompt, sizeof prompt, "%s: ",
	    strcmp(key, "old") == 0	? "Current password" :
		strcmp(key, "new") == 0 ? "New password" :
		confirm			? "Password to set" :
					  "Password");
	if (secret_getpass(prompt, pw, sizeof pw) == -1)
		return (-1);
	if (confirm) {
		if (secret_getpass("Again: ", again, sizeof again) == -1)
			goto out;
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "roster: the passwords differ\n");
			goto out;
		}
	}
	proto_buf_field(buf, key, pw, strlen(pw));
	if (strcmp(key, "old") == 0) {
		memcpy(secret_old, pw, sizeof secret_old);
		secret_have_old = 1;
	}
	rv = 0;
out:
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(again, sizeof again);
	return (rv);
}

/*
 * A request typed in the shell may leave secrets out: an empty password=,
 * old= or new=, or LOGIN without password=. Then rebuild the line in buf
 * with the secrets asked for and return 1; 0 when nothing was missing; -1
 * when asking failed.
 */
int
secret_prompt(struct proto_request *req, struct proto_buf *buf)
{
	const struct proto_arg *a;
	size_t			i;
	int			missing = 0, login;

	login = strcmp(req->command, "LOGIN") == 0;
	for (i = 0; i < req->nargs; i++)
		if (secret_is_key(req->args[i].key) && req->args[i].vlen == 0)
			missing = 1;
	if (login && proto_request_arg(req, "password") == NULL)
		missing = 1;
	if (!missing)
		return (0);
	proto_buf_addstr(buf, req->command);
	for (i = 0; i < req->nargs; i++) {
		a = &req->args[i];
		if (secret_is_key(a->key) && a->vlen == 0) {
			if (secret_ask(req->command, a->key, buf) == -1)
				return (-1);
		} else
			proto_buf_field(buf, a->key, a->value, a->vlen);
	}
	if (login && proto_request_arg(req, "password") == NULL &&
	    secret_ask(req->command, "password", buf) == -1)
		return (-1);
	return (1);
}
