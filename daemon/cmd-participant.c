/*
 * cmd-participant.c -- PARTICIPANT ADD, LIST, SHOW, SET, CONFIRM, DECLINE,
 * ERASE and CHECKIN. One SQL function each (sql/004_registration.sql); a
 * participant named by id needs no event (ids are unique), but when one is
 * given or in USE, the participant must belong to it.
 */
#include "rosterd.h"

#define EVENT_KEY	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL }
#define EVENT_OPT	{ "event", KEY_CODE, KEY_EVENT, NULL }
#define END_KEYS	{ NULL, 0, 0, NULL }
#define ROLES_STAFF	(ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST)
#define PARTICIPANT_ROLES "head|member|adviser|observer|staff"

static const struct cmd_key participant_add_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_REQUIRED | KEY_OWN_PARTY, NULL },
	{ "name", KEY_NAME, KEY_REQUIRED, NULL },
	{ "honorific", KEY_NAME, 0, NULL },
	{ "title", KEY_NAME, 0, NULL },
	{ "email", KEY_EMAIL, 0, NULL },
	{ "role", KEY_ENUM, 0, PARTICIPANT_ROLES },
	{ "ref", KEY_REF, 0, NULL },
	END_KEYS
};
static const struct cmd_key participant_list_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_OWN_PARTY, NULL },
	{ "status", KEY_ENUM, 0, "registered|confirmed|declined" },
	{ "role", KEY_ENUM, 0, PARTICIPANT_ROLES },
	END_KEYS
};
static const struct cmd_key participant_id_keys[] = {
	EVENT_OPT,
	{ "id", KEY_ID, KEY_REQUIRED, NULL },
	END_KEYS
};
static const struct cmd_key participant_set_keys[] = {
	EVENT_OPT,
	{ "id", KEY_ID, KEY_REQUIRED, NULL },
	{ "name", KEY_NAME, 0, NULL },
	{ "honorific", KEY_NAME, 0, NULL },
	{ "title", KEY_NAME, 0, NULL },
	{ "email", KEY_EMAIL, 0, NULL },
	{ "role", KEY_ENUM, 0, PARTICIPANT_ROLES },
	{ "version", KEY_ID, 0, NULL },
	END_KEYS
};
static const struct cmd_key participant_decline_keys[] = {
	EVENT_OPT,
	{ "id", KEY_ID, KEY_REQUIRED, NULL },
	{ "reason", KEY_TEXT, 0, NULL },
	END_KEYS
};
static const struct cmd_key checkin_keys[] = {
	EVENT_OPT,
	{ "id", KEY_ID, 0, NULL },
	{ "badge", KEY_CODE, 0, NULL },
	{ "session", KEY_CODE, 0, NULL },
	END_KEYS
};

/* CHECKIN names the participant by id or by badge: exactly one. */
static void
cmd_checkin(struct req *r)
{
	int	have_id = cmd_arg(r, "id") != NULL;
	int	have_badge = cmd_arg(r, "badge") != NULL;

	if (have_id == have_badge) {
		req_err(r, PROTO_SYNTAX, "give id= or badge=, not both");
		return;
	}
	cmd_exec(r, NULL, 0);
}

struct cmd_entry cmd_participant_add_entry = {
	"PARTICIPANT ADD", participant_add_keys, ROLES_STAFF | ROLE_FOCAL,
	"roster.participant_add", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_participant_list_entry = {
	"PARTICIPANT LIST", participant_list_keys, ROLE_ANY_USER,
	"roster.participant_list", CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_participant_show_entry = {
	"PARTICIPANT SHOW", participant_id_keys, ROLE_ANY_USER,
	"roster.participant_show", CMD_REPLY_ONE, NULL, 0, 0
};
struct cmd_entry cmd_participant_set_entry = {
	"PARTICIPANT SET", participant_set_keys, ROLES_STAFF | ROLE_FOCAL,
	"roster.participant_set", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_participant_confirm_entry = {
	"PARTICIPANT CONFIRM", participant_id_keys, ROLES_STAFF | ROLE_FOCAL,
	"roster.participant_confirm", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_participant_decline_entry = {
	"PARTICIPANT DECLINE", participant_decline_keys,
	ROLES_STAFF | ROLE_FOCAL, "roster.participant_decline",
	CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_participant_erase_entry = {
	"PARTICIPANT ERASE", participant_id_keys, ROLE_ADMIN,
	"roster.participant_erase", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_checkin_entry = {
	"CHECKIN", checkin_keys, ROLES_STAFF, "roster.checkin",
	CMD_REPLY_FIELDS, cmd_checkin, 0, 0
};
