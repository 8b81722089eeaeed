/*
 * cmd-user.c -- USER ADD, USER LIST, USER SET (admin only). A new password
 * is hashed on the auth workers first; the hash, never the password, goes
 * to the SQL function in place of the password key.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "rosterd.h"

/* Index of the password key in user_add_keys and user_set_keys. */
#define USER_ADD_PASSWORD	3
#define USER_SET_PASSWORD	1

static void
cmd_user_hashed(struct auth_job *job, void *arg)
{
	struct req	*r = arg;
	const char	*over[CMD_MAX_KEYS] = { NULL };
	int		 i;

	if (req_resume(r) == -1) {
		auth_job_free(job);
		return;
	}
	if (auth_result(job) != 0) {
		auth_job_free(job);
		req_err(r, PROTO_INTERNAL, "password hashing failed");
		return;
	}
	i = r->cmd == &cmd_user_add_entry ? USER_ADD_PASSWORD :
	    USER_SET_PASSWORD;
	over[i] = auth_out_hash(job);
	cmd_exec(r, over, i + 1);	/* parameters are copied */
	auth_job_free(job);
}

/* ADD and SET: hash a given password first. */
static void
cmd_user_write(struct req *r)
{
	const struct proto_arg	*pw = proto_request_arg(&r->preq, "password");

	if (pw == NULL) {
		cmd_exec(r, NULL, 0);
		return;
	}
	r->waiting = 1;
	if (auth_hash(pw->value, cmd_user_hashed, r) == -1) {
		r->waiting = 0;
		req_err(r, PROTO_INTERNAL, "out of memory");
	}
	OPENSSL_cleanse((char *)pw->value, pw->vlen);
}

static const struct cmd_key user_add_keys[] = {
	{ "name", KEY_CODE, KEY_REQUIRED, NULL },
	{ "role", KEY_ENUM, KEY_REQUIRED, "admin|secretariat|host|focal" },
	{ "party", KEY_CODE, 0, NULL },
	{ "password", KEY_PASSWORD, KEY_REQUIRED, NULL },
	{ NULL, 0, 0, NULL }
};
static const struct cmd_key user_set_keys[] = {
	{ "name", KEY_CODE, KEY_REQUIRED, NULL },
	{ "password", KEY_PASSWORD, 0, NULL },
	{ "role", KEY_ENUM, 0, "admin|secretariat|host|focal" },
	{ "party", KEY_CODE, 0, NULL },
	{ "enabled", KEY_ENUM, 0, "yes|no" },
	{ NULL, 0, 0, NULL }
};

struct cmd_entry cmd_user_add_entry = {
	"USER ADD", user_add_keys, ROLE_ADMIN, "roster.user_add",
	CMD_REPLY_FIELDS, cmd_user_write, 0, 0
};
struct cmd_entry cmd_user_list_entry = {
	"USER LIST", NULL, ROLE_ADMIN, "roster.user_list", CMD_REPLY_RECORDS,
	NULL, 0, 0
};
struct cmd_entry cmd_user_set_entry = {
	"USER SET", user_set_keys, ROLE_ADMIN, "roster.user_set",
	CMD_REPLY_BARE, cmd_user_write, 0, 0
};
