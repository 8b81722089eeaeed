/*
 * cmd-event.c -- EVENT CREATE, LIST, SHOW, SET. Each is one call of its SQL
 * function (sql/003_core.sql); the keys are listed in the order of that
 * function's parameters.
 */
#include "rosterd.h"

static const struct cmd_key event_create_keys[] = {
	{ "code", KEY_CODE, KEY_REQUIRED, NULL },
	{ "title", KEY_NAME, KEY_REQUIRED, NULL },
	{ "city", KEY_NAME, KEY_REQUIRED, NULL },
	{ "country", KEY_CODE, KEY_REQUIRED, NULL },
	{ "starts", KEY_DATE, KEY_REQUIRED, NULL },
	{ "ends", KEY_DATE, KEY_REQUIRED, NULL },
	{ "venue", KEY_NAME, 0, NULL },
	{ "timezone", KEY_TZ, 0, NULL },
	{ "chair", KEY_CODE, 0, NULL },
	{ "co_chair", KEY_CODE, 0, NULL },
	{ "secretariat", KEY_CODE, 0, NULL },
	{ NULL, 0, 0, NULL }
};
static const struct cmd_key event_show_keys[] = {
	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL },
	{ NULL, 0, 0, NULL }
};
static const struct cmd_key event_set_keys[] = {
	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL },
	{ "title", KEY_NAME, 0, NULL },
	{ "venue", KEY_NAME, 0, NULL },
	{ "city", KEY_NAME, 0, NULL },
	{ "country", KEY_CODE, 0, NULL },
	{ "starts", KEY_DATE, 0, NULL },
	{ "ends", KEY_DATE, 0, NULL },
	{ "timezone", KEY_TZ, 0, NULL },
	{ "chair", KEY_CODE, 0, NULL },
	{ "co_chair", KEY_CODE, 0, NULL },
	{ "secretariat", KEY_CODE, 0, NULL },
	{ "status", KEY_ENUM, 0, "draft|open|closed" },
	{ "version", KEY_ID, 0, NULL },
	{ NULL, 0, 0, NULL }
};

struct cmd_entry cmd_event_create_entry = {
	"EVENT CREATE", event_create_keys, ROLE_ADMIN | ROLE_SECRETARIAT,
	"roster.event_create", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_event_list_entry = {
	"EVENT LIST", NULL, ROLE_ANY_USER, "roster.event_list",
	CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_event_show_entry = {
	"EVENT SHOW", event_show_keys, ROLE_ANY_USER, "roster.event_show",
	CMD_REPLY_ONE, NULL, 0, 0
};
struct cmd_entry cmd_event_set_entry = {
	"EVENT SET", event_set_keys, ROLE_ADMIN | ROLE_SECRETARIAT,
	"roster.event_set", CMD_REPLY_FIELDS, NULL, 0, 0
};
