/*
 * cmd-participant.c -- PARTICIPANT ADD, LIST, SHOW, SET, CONFIRM, DECLINE,
 * ERASE and CHECKIN. One SQL function each (sql/functions/participant.sql);
 * a participant named by id needs no event (ids are unique), but when one
 * is given or in USE, the participant must belong to it. ADD and SET
 * derive latin= from a name in another script (daemon/translit.c).
 */
#include <string.h>

#include "rosterd.h"

static const struct cmd_key participant_add_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party",
	    .type = KEY_CODE,
	    .flags = KEY_REQUIRED | KEY_OWN_PARTY },
	{ .name = "name", .type = KEY_NAME, .flags = KEY_REQUIRED },
	{ .name = "family", .type = KEY_NAME },
	{ .name = "latin", .type = KEY_NAME },
	{ .name = "honorific", .type = KEY_NAME },
	{ .name = "title", .type = KEY_NAME },
	{ .name = "email", .type = KEY_EMAIL },
	{ .name = "role",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_PARTICIPANT_ROLE },
	{ .name = "ref", .type = KEY_REF },
	CMD_KEYS_END,
};
static const struct cmd_key participant_list_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party", .type = KEY_CODE, .flags = KEY_OWN_PARTY },
	{ .name = "status", .type = KEY_ENUM, .choices = CMD_CHOICES_STATUS },
	{ .name = "role",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_PARTICIPANT_ROLE },
	CMD_KEYS_END,
};
static const struct cmd_key participant_id_keys[] = {
	CMD_KEY_EVENT_OPT,
	{ .name = "id", .type = KEY_ID, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key participant_set_keys[] = {
	CMD_KEY_EVENT_OPT,
	{ .name = "id", .type = KEY_ID, .flags = KEY_REQUIRED },
	{ .name = "name", .type = KEY_NAME },
	{ .name = "family", .type = KEY_NAME },
	{ .name = "latin", .type = KEY_NAME },
	{ .name = "honorific", .type = KEY_NAME },
	{ .name = "title", .type = KEY_NAME },
	{ .name = "email", .type = KEY_EMAIL },
	{ .name = "role",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_PARTICIPANT_ROLE },
	{ .name = "version", .type = KEY_ID },
	CMD_KEYS_END,
};
static const struct cmd_key participant_decline_keys[] = {
	CMD_KEY_EVENT_OPT,
	{ .name = "id", .type = KEY_ID, .flags = KEY_REQUIRED },
	{ .name = "reason", .type = KEY_TEXT },
	CMD_KEYS_END,
};
static const struct cmd_key checkin_keys[] = {
	CMD_KEY_EVENT_OPT,
	{ .name = "id", .type = KEY_ID },
	{ .name = "badge", .type = KEY_CODE },
	{ .name = "session", .type = KEY_CODE },
	{ .name = "at", .type = KEY_TIMESTAMP },
	{ .name = "ref", .type = KEY_REF },
	CMD_KEYS_END,
};

/*
 * ADD and SET: a name= without latin= gets the Latin form rosterd derives
 * (PROTOCOL.md section 5). On SET, a name in Latin script clears the old
 * latin (""): the Latin form follows the name.
 */
static void
cmd_participant_write(struct req *r)
{
	const char *over[CMD_MAX_KEYS] = { NULL };
	const char *name = cmd_arg(r, "name");
	char	    latin[TRANSLIT_MAX];
	int	    i, rc;

	if (name == NULL || cmd_arg(r, "latin") != NULL) {
		cmd_exec(r, NULL, 0, NULL);
		return;
	}
	if ((rc = translit_latin(name, latin, sizeof latin)) == -1) {
		req_err(r, PROTO_INTERNAL, "transliteration failed");
		return;
	}
	i = cmd_key_index(r->cmd, "latin");
	if (rc == 1)
		over[i] = latin;
	else if (strcmp(r->cmd->name, "PARTICIPANT SET") == 0)
		over[i] = "";
	cmd_exec(r, over, i + 1, NULL); /* parameters are copied */
}

/* CHECKIN names the participant by id or by badge: exactly one. */
static void
cmd_checkin(struct req *r)
{
	int have_id = cmd_arg(r, "id") != NULL;
	int have_badge = cmd_arg(r, "badge") != NULL;

	if (have_id == have_badge) {
		req_err(r, PROTO_SYNTAX, "give id= or badge=, not both");
		return;
	}
	cmd_exec(r, NULL, 0, NULL);
}

const struct cmd_entry cmd_participant_entries[] = {
	{
	    .name = "PARTICIPANT ADD",
	    .keys = participant_add_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "participant_add",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	    .many = "participant_add_many",
	    .handler = cmd_participant_write,
	},
	{
	    .name = "PARTICIPANT LIST",
	    .keys = participant_list_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "participant_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "PARTICIPANT SHOW",
	    .keys = participant_id_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "participant_show",
	    .reply = CMD_REPLY_ONE,
	    .read = 1,
	    .many = "participant_show_many",
	},
	{
	    .name = "PARTICIPANT SET",
	    .keys = participant_set_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "participant_set",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	    .handler = cmd_participant_write,
	},
	{
	    .name = "PARTICIPANT CONFIRM",
	    .keys = participant_id_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "participant_confirm",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "PARTICIPANT DECLINE",
	    .keys = participant_decline_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "participant_decline",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "PARTICIPANT ERASE",
	    .keys = participant_id_keys,
	    .roles = ROLE_ADMIN,
	    .sql = "participant_erase",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "CHECKIN",
	    .keys = checkin_keys,
	    .roles = ROLES_STAFF,
	    .sql = "checkin",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	    .handler = cmd_checkin,
	},
	{ .name = NULL },
};
