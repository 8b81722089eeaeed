/*
 * cmd-delegation.c -- DELEGATION REGISTER, LIST, SHOW, SET, CONFIRM,
 * DECLINE. One SQL function each (sql/004_registration.sql), which holds
 * the rules; keys in the order of its parameters.
 */
#include "rosterd.h"

#define EVENT_KEY	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL }
#define END_KEYS	{ NULL, 0, 0, NULL }
#define ROLES_REG	(ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST)

static const struct cmd_key delegation_register_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_REQUIRED, NULL },
	{ "quota", KEY_COUNT, 0, NULL },
	{ "note", KEY_TEXT, 0, NULL },
	{ "ref", KEY_REF, 0, NULL },
	END_KEYS
};
static const struct cmd_key delegation_list_keys[] = {
	EVENT_KEY,
	{ "status", KEY_ENUM, 0, "registered|confirmed|declined" },
	{ "kind", KEY_ENUM, 0, "country|organisation" },
	END_KEYS
};
static const struct cmd_key delegation_party_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_REQUIRED | KEY_OWN_PARTY, NULL },
	END_KEYS
};
static const struct cmd_key delegation_set_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_REQUIRED, NULL },
	{ "quota", KEY_COUNT, 0, NULL },
	{ "note", KEY_TEXT, 0, NULL },
	{ "version", KEY_ID, 0, NULL },
	END_KEYS
};
static const struct cmd_key delegation_decline_keys[] = {
	EVENT_KEY,
	{ "party", KEY_CODE, KEY_REQUIRED | KEY_OWN_PARTY, NULL },
	{ "reason", KEY_TEXT, 0, NULL },
	END_KEYS
};

struct cmd_entry cmd_delegation_register_entry = {
	"DELEGATION REGISTER", delegation_register_keys, ROLES_REG,
	"roster.delegation_register", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_delegation_list_entry = {
	"DELEGATION LIST", delegation_list_keys, ROLE_ANY_USER,
	"roster.delegation_list", CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_delegation_show_entry = {
	"DELEGATION SHOW", delegation_party_keys, ROLE_ANY_USER,
	"roster.delegation_show", CMD_REPLY_ONE, NULL, 0, 0
};
struct cmd_entry cmd_delegation_set_entry = {
	"DELEGATION SET", delegation_set_keys, ROLES_REG,
	"roster.delegation_set", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_delegation_confirm_entry = {
	"DELEGATION CONFIRM", delegation_party_keys,
	ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_FOCAL,
	"roster.delegation_confirm", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_delegation_decline_entry = {
	"DELEGATION DECLINE", delegation_decline_keys,
	ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_FOCAL,
	"roster.delegation_decline", CMD_REPLY_FIELDS, NULL, 0, 0
};
