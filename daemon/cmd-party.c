/*
 * cmd-party.c -- PARTY ADD, LIST, SHOW: countries (ISO 3166-1, preloaded)
 * and organisations. One SQL function each (sql/003_core.sql).
 */
#include "rosterd.h"

static const struct cmd_key party_add_keys[] = {
	{ "code", KEY_CODE, KEY_REQUIRED, NULL },
	{ "kind", KEY_ENUM, KEY_REQUIRED, "country|organisation" },
	{ "name", KEY_NAME, KEY_REQUIRED, NULL },
	{ NULL, 0, 0, NULL }
};
static const struct cmd_key party_list_keys[] = {
	{ "kind", KEY_ENUM, 0, "country|organisation" },
	{ NULL, 0, 0, NULL }
};
static const struct cmd_key party_show_keys[] = {
	{ "party", KEY_CODE, KEY_REQUIRED, NULL },
	{ NULL, 0, 0, NULL }
};

struct cmd_entry cmd_party_add_entry = {
	"PARTY ADD", party_add_keys, ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST,
	"roster.party_add", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_party_list_entry = {
	"PARTY LIST", party_list_keys, ROLE_ANY_USER, "roster.party_list",
	CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_party_show_entry = {
	"PARTY SHOW", party_show_keys, ROLE_ANY_USER, "roster.party_show",
	CMD_REPLY_ONE, NULL, 0, 0
};
