/*
 * cmd-event.c -- EVENT CREATE, LIST, SHOW, SET. Each is one call of its SQL
 * function (sql/functions/event.sql); the keys are listed in the order of
 * that function's parameters.
 */
#include "rosterd.h"

static const struct cmd_key event_create_keys[] = {
	{ .name = "code", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "title", .type = KEY_NAME, .flags = KEY_REQUIRED },
	{ .name = "city", .type = KEY_NAME, .flags = KEY_REQUIRED },
	{ .name = "country", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "starts", .type = KEY_DATE, .flags = KEY_REQUIRED },
	{ .name = "ends", .type = KEY_DATE, .flags = KEY_REQUIRED },
	{ .name = "venue", .type = KEY_NAME },
	{ .name = "timezone", .type = KEY_TZ },
	{ .name = "chair", .type = KEY_CODE },
	{ .name = "co_chair", .type = KEY_CODE },
	{ .name = "secretariat", .type = KEY_CODE },
	CMD_KEYS_END,
};
static const struct cmd_key event_show_keys[] = {
	CMD_KEY_EVENT,
	CMD_KEYS_END,
};
static const struct cmd_key event_set_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "title", .type = KEY_NAME },
	{ .name = "venue", .type = KEY_NAME },
	{ .name = "city", .type = KEY_NAME },
	{ .name = "country", .type = KEY_CODE },
	{ .name = "starts", .type = KEY_DATE },
	{ .name = "ends", .type = KEY_DATE },
	{ .name = "timezone", .type = KEY_TZ },
	{ .name = "chair", .type = KEY_CODE },
	{ .name = "co_chair", .type = KEY_CODE },
	{ .name = "secretariat", .type = KEY_CODE },
	{ .name = "status", .type = KEY_ENUM, .choices = "draft|open|closed" },
	{ .name = "version", .type = KEY_ID },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_event_entries[] = {
	{
	    .name = "EVENT CREATE",
	    .keys = event_create_keys,
	    .roles = ROLE_ADMIN | ROLE_SECRETARIAT,
	    .sql = "event_create",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "EVENT LIST",
	    .roles = ROLE_ANY_USER,
	    .sql = "event_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "EVENT SHOW",
	    .keys = event_show_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "event_show",
	    .read = 1,
	    .reply = CMD_REPLY_ONE,
	},
	{
	    .name = "EVENT SET",
	    .keys = event_set_keys,
	    .roles = ROLE_ADMIN | ROLE_SECRETARIAT,
	    .sql = "event_set",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{ .name = NULL },
};
