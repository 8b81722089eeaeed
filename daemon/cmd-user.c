/*
 * cmd-user.c -- USER ADD, USER LIST, USER SET (admin only). A new password
 * is hashed on the auth workers first; the hash, never the password, goes
 * to the SQL function in place of the password key. A password set ends
 * the user's sessions on every daemon (the trigger of migration 013).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "rosterd.h"

static void
cmd_user_hashed(struct auth_job *job, void *arg)
{
	struct req *r = arg;
	const char *over[CMD_MAX_KEYS] = { NULL };
	int	    i;

	if (req_resume(r) == -1) {
		auth_job_free(job);
		return;
	}
	if (auth_result(job) != 0) {
		auth_job_free(job);
		req_err(r, PROTO_INTERNAL, "password hashing failed");
		return;
	}
	i = cmd_key_index(r->cmd, "password");
	over[i] = auth_out_hash(job);
	cmd_exec(r, over, i + 1, NULL); /* parameters are copied */
	auth_job_free(job);
}

/* ADD and SET: hash a given password first (one of the connection's
 * jobs: the workers serve connections in turn). */
static void
cmd_user_write(struct req *r)
{
	const struct proto_arg *pw = proto_request_arg(&r->preq, "password");
	enum auth_refusal	why;

	if (pw == NULL) {
		cmd_exec(r, NULL, 0, NULL);
		return;
	}
	r->waiting = 1;
	why = auth_hash(r->conn->id, pw->value, cmd_user_hashed, r);
	OPENSSL_cleanse((char *)pw->value, pw->vlen);
	if (why != AUTH_QUEUED) {
		r->waiting = 0;
		if (why == AUTH_BUSY)
			req_err(r, PROTO_BUSY,
			    "too many password checks waiting; try again "
			    "shortly");
		else
			req_err(r, PROTO_INTERNAL, "out of memory");
	}
}

static const struct cmd_key user_add_keys[] = {
	{ .name = "name", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "role",
	    .type = KEY_ENUM,
	    .flags = KEY_REQUIRED,
	    .choices = CMD_CHOICES_USER_ROLE },
	{ .name = "party", .type = KEY_CODE },
	{ .name = "password", .type = KEY_PASSWORD, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key user_set_keys[] = {
	{ .name = "name", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "password", .type = KEY_PASSWORD },
	{ .name = "role", .type = KEY_ENUM, .choices = CMD_CHOICES_USER_ROLE },
	{ .name = "party", .type = KEY_CODE },
	{ .name = "enabled", .type = KEY_ENUM, .choices = "yes|no" },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_user_entries[] = {
	{
	    .name = "USER ADD",
	    .keys = user_add_keys,
	    .roles = ROLE_ADMIN,
	    .sql = "user_add",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	    .handler = cmd_user_write,
	},
	{
	    .name = "USER LIST",
	    .roles = ROLE_ADMIN,
	    .sql = "user_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "USER SET",
	    .keys = user_set_keys,
	    .roles = ROLE_ADMIN,
	    .sql = "user_set",
	    .reply = CMD_REPLY_BARE,
	    .handler = cmd_user_write,
	},
	{ .name = NULL },
};
