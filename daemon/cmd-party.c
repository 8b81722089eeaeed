/*
 * cmd-party.c -- PARTY ADD, LIST, SHOW: countries (ISO 3166-1, preloaded)
 * and organisations. One SQL function each (sql/functions/party.sql).
 */
#include "rosterd.h"

static const struct cmd_key party_add_keys[] = {
	{ .name = "code", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "kind",
	    .type = KEY_ENUM,
	    .flags = KEY_REQUIRED,
	    .choices = CMD_CHOICES_PARTY_KIND },
	{ .name = "name", .type = KEY_NAME, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key party_list_keys[] = {
	{ .name = "kind", .type = KEY_ENUM, .choices = CMD_CHOICES_PARTY_KIND },
	CMD_KEYS_END,
};
static const struct cmd_key party_show_keys[] = {
	{ .name = "party", .type = KEY_CODE, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_party_entries[] = {
	{
	    .name = "PARTY ADD",
	    .keys = party_add_keys,
	    .roles = ROLES_STAFF,
	    .sql = "party_add",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "PARTY LIST",
	    .keys = party_list_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "party_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "PARTY SHOW",
	    .keys = party_show_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "party_show",
	    .read = 1,
	    .reply = CMD_REPLY_ONE,
	},
	{ .name = NULL },
};
