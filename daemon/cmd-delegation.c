/*
 * cmd-delegation.c -- DELEGATION REGISTER, LIST, SHOW, SET, CONFIRM,
 * DECLINE. One SQL function each (sql/functions/delegation.sql), which
 * holds the rules; keys in the order of its parameters.
 */
#include "rosterd.h"

static const struct cmd_key delegation_register_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "quota", .type = KEY_COUNT },
	{ .name = "note", .type = KEY_TEXT },
	{ .name = "ref", .type = KEY_REF },
	CMD_KEYS_END,
};
static const struct cmd_key delegation_list_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "status", .type = KEY_ENUM, .choices = CMD_CHOICES_STATUS },
	{ .name = "kind", .type = KEY_ENUM, .choices = CMD_CHOICES_PARTY_KIND },
	CMD_KEYS_END,
};
static const struct cmd_key delegation_party_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party",
	    .type = KEY_CODE,
	    .flags = KEY_REQUIRED | KEY_OWN_PARTY },
	CMD_KEYS_END,
};
static const struct cmd_key delegation_set_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "quota", .type = KEY_COUNT },
	{ .name = "note", .type = KEY_TEXT },
	{ .name = "version", .type = KEY_ID },
	CMD_KEYS_END,
};
static const struct cmd_key delegation_decline_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "party",
	    .type = KEY_CODE,
	    .flags = KEY_REQUIRED | KEY_OWN_PARTY },
	{ .name = "reason", .type = KEY_TEXT },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_delegation_entries[] = {
	{
	    .name = "DELEGATION REGISTER",
	    .keys = delegation_register_keys,
	    .roles = ROLES_STAFF,
	    .sql = "delegation_register",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "DELEGATION LIST",
	    .keys = delegation_list_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "delegation_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "DELEGATION SHOW",
	    .keys = delegation_party_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "delegation_show",
	    .read = 1,
	    .reply = CMD_REPLY_ONE,
	},
	{
	    .name = "DELEGATION SET",
	    .keys = delegation_set_keys,
	    .roles = ROLES_STAFF,
	    .sql = "delegation_set",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "DELEGATION CONFIRM",
	    .keys = delegation_party_keys,
	    .roles = ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_FOCAL,
	    .sql = "delegation_confirm",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "DELEGATION DECLINE",
	    .keys = delegation_decline_keys,
	    .roles = ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_FOCAL,
	    .sql = "delegation_decline",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{ .name = NULL },
};
