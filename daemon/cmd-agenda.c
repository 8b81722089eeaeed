/*
 * cmd-agenda.c -- the agenda: SESSION CREATE, LIST, SHOW, SET; SPEAKER ADD,
 * LIST, REMOVE; ENROL, UNENROL (capacity, waiting list and promotion held
 * in SQL) and ROSTER. One SQL function each (sql/functions/agenda.sql).
 */
#include "rosterd.h"

static const struct cmd_key session_create_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "code", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "kind",
	    .type = KEY_ENUM,
	    .flags = KEY_REQUIRED,
	    .choices = CMD_CHOICES_SESSION_KIND },
	{ .name = "title", .type = KEY_NAME, .flags = KEY_REQUIRED },
	{ .name = "starts", .type = KEY_TIME, .flags = KEY_REQUIRED },
	{ .name = "ends", .type = KEY_TIME, .flags = KEY_REQUIRED },
	{ .name = "room", .type = KEY_NAME },
	{ .name = "capacity", .type = KEY_COUNT },
	{ .name = "theme", .type = KEY_NAME },
	{ .name = "ref", .type = KEY_REF },
	CMD_KEYS_END,
};
static const struct cmd_key session_list_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "kind",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_SESSION_KIND },
	CMD_KEYS_END,
};
static const struct cmd_key session_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "session", .type = KEY_CODE, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};
static const struct cmd_key session_set_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "session", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "kind",
	    .type = KEY_ENUM,
	    .choices = CMD_CHOICES_SESSION_KIND },
	{ .name = "title", .type = KEY_NAME },
	{ .name = "starts", .type = KEY_TIME },
	{ .name = "ends", .type = KEY_TIME },
	{ .name = "room", .type = KEY_NAME },
	{ .name = "capacity", .type = KEY_COUNT },
	{ .name = "theme", .type = KEY_NAME },
	{ .name = "version", .type = KEY_ID },
	CMD_KEYS_END,
};
static const struct cmd_key speaker_add_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "session", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "participant", .type = KEY_ID, .flags = KEY_REQUIRED },
	{ .name = "role",
	    .type = KEY_ENUM,
	    .choices = "speaker|moderator|chair|panelist" },
	{ .name = "topic", .type = KEY_TEXT },
	{ .name = "position", .type = KEY_COUNT },
	{ .name = "ref", .type = KEY_REF },
	CMD_KEYS_END,
};
static const struct cmd_key speaker_list_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "session", .type = KEY_CODE },
	CMD_KEYS_END,
};
static const struct cmd_key session_participant_keys[] = {
	CMD_KEY_EVENT,
	{ .name = "session", .type = KEY_CODE, .flags = KEY_REQUIRED },
	{ .name = "participant", .type = KEY_ID, .flags = KEY_REQUIRED },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_agenda_entries[] = {
	{
	    .name = "SESSION CREATE",
	    .keys = session_create_keys,
	    .roles = ROLES_STAFF,
	    .sql = "session_create",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "SESSION LIST",
	    .keys = session_list_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "session_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "SESSION SHOW",
	    .keys = session_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "session_show",
	    .read = 1,
	    .reply = CMD_REPLY_ONE,
	},
	{
	    .name = "SESSION SET",
	    .keys = session_set_keys,
	    .roles = ROLES_STAFF,
	    .sql = "session_set",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "SPEAKER ADD",
	    .keys = speaker_add_keys,
	    .roles = ROLES_STAFF,
	    .sql = "speaker_add",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "SPEAKER LIST",
	    .keys = speaker_list_keys,
	    .roles = ROLE_ANY_USER,
	    .sql = "speaker_list",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{
	    .name = "SPEAKER REMOVE",
	    .keys = session_participant_keys,
	    .roles = ROLES_STAFF,
	    .sql = "speaker_remove",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "ENROL",
	    .keys = session_participant_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "enrol",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "UNENROL",
	    .keys = session_participant_keys,
	    .roles = ROLES_STAFF | ROLE_FOCAL,
	    .sql = "unenrol",
	    .reply = CMD_REPLY_FIELDS,
	    .dry_run = 1,
	},
	{
	    .name = "ROSTER",
	    .keys = session_keys,
	    .roles = ROLES_STAFF,
	    .sql = "roster",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{ .name = NULL },
};
