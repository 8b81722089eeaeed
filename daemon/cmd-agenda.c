/*
 * cmd-agenda.c -- the agenda: SESSION CREATE, LIST, SHOW, SET; SPEAKER ADD,
 * LIST, REMOVE; ENROL, UNENROL (capacity, waiting list and promotion held
 * in SQL) and ROSTER. One SQL function each (sql/005_agenda.sql).
 */
#include "rosterd.h"

#define EVENT_KEY	{ "event", KEY_CODE, KEY_REQUIRED | KEY_EVENT, NULL }
#define END_KEYS	{ NULL, 0, 0, NULL }
#define ROLES_STAFF	(ROLE_ADMIN | ROLE_SECRETARIAT | ROLE_HOST)
#define SESSION_KINDS	"plenary|panel|working_group|side_event"

static const struct cmd_key session_create_keys[] = {
	EVENT_KEY,
	{ "code", KEY_CODE, KEY_REQUIRED, NULL },
	{ "kind", KEY_ENUM, KEY_REQUIRED, SESSION_KINDS },
	{ "title", KEY_NAME, KEY_REQUIRED, NULL },
	{ "starts", KEY_TIME, KEY_REQUIRED, NULL },
	{ "ends", KEY_TIME, KEY_REQUIRED, NULL },
	{ "room", KEY_NAME, 0, NULL },
	{ "capacity", KEY_COUNT, 0, NULL },
	{ "theme", KEY_NAME, 0, NULL },
	{ "ref", KEY_REF, 0, NULL },
	END_KEYS
};
static const struct cmd_key session_list_keys[] = {
	EVENT_KEY,
	{ "kind", KEY_ENUM, 0, SESSION_KINDS },
	END_KEYS
};
static const struct cmd_key session_keys[] = {
	EVENT_KEY,
	{ "session", KEY_CODE, KEY_REQUIRED, NULL },
	END_KEYS
};
static const struct cmd_key session_set_keys[] = {
	EVENT_KEY,
	{ "session", KEY_CODE, KEY_REQUIRED, NULL },
	{ "kind", KEY_ENUM, 0, SESSION_KINDS },
	{ "title", KEY_NAME, 0, NULL },
	{ "starts", KEY_TIME, 0, NULL },
	{ "ends", KEY_TIME, 0, NULL },
	{ "room", KEY_NAME, 0, NULL },
	{ "capacity", KEY_COUNT, 0, NULL },
	{ "theme", KEY_NAME, 0, NULL },
	{ "version", KEY_ID, 0, NULL },
	END_KEYS
};
static const struct cmd_key speaker_add_keys[] = {
	EVENT_KEY,
	{ "session", KEY_CODE, KEY_REQUIRED, NULL },
	{ "participant", KEY_ID, KEY_REQUIRED, NULL },
	{ "role", KEY_ENUM, 0, "speaker|moderator|chair|panelist" },
	{ "topic", KEY_TEXT, 0, NULL },
	{ "position", KEY_COUNT, 0, NULL },
	{ "ref", KEY_REF, 0, NULL },
	END_KEYS
};
static const struct cmd_key speaker_list_keys[] = {
	EVENT_KEY,
	{ "session", KEY_CODE, 0, NULL },
	END_KEYS
};
static const struct cmd_key session_participant_keys[] = {
	EVENT_KEY,
	{ "session", KEY_CODE, KEY_REQUIRED, NULL },
	{ "participant", KEY_ID, KEY_REQUIRED, NULL },
	END_KEYS
};

struct cmd_entry cmd_session_create_entry = {
	"SESSION CREATE", session_create_keys, ROLES_STAFF,
	"roster.session_create", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_session_list_entry = {
	"SESSION LIST", session_list_keys, ROLE_ANY_USER,
	"roster.session_list", CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_session_show_entry = {
	"SESSION SHOW", session_keys, ROLE_ANY_USER, "roster.session_show",
	CMD_REPLY_ONE, NULL, 0, 0
};
struct cmd_entry cmd_session_set_entry = {
	"SESSION SET", session_set_keys, ROLES_STAFF, "roster.session_set",
	CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_speaker_add_entry = {
	"SPEAKER ADD", speaker_add_keys, ROLES_STAFF, "roster.speaker_add",
	CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_speaker_list_entry = {
	"SPEAKER LIST", speaker_list_keys, ROLE_ANY_USER,
	"roster.speaker_list", CMD_REPLY_RECORDS, NULL, 0, 0
};
struct cmd_entry cmd_speaker_remove_entry = {
	"SPEAKER REMOVE", session_participant_keys, ROLES_STAFF,
	"roster.speaker_remove", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_enrol_entry = {
	"ENROL", session_participant_keys, ROLES_STAFF | ROLE_FOCAL,
	"roster.enrol", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_unenrol_entry = {
	"UNENROL", session_participant_keys, ROLES_STAFF | ROLE_FOCAL,
	"roster.unenrol", CMD_REPLY_FIELDS, NULL, 0, 0
};
struct cmd_entry cmd_roster_entry = {
	"ROSTER", session_keys, ROLES_STAFF, "roster.roster",
	CMD_REPLY_RECORDS, NULL, 0, 0
};
