/*
 * cmd-audit.c -- AUDIT: the committed changes, oldest first, from the audit
 * table that every write fills in its own transaction.
 */
#include "rosterd.h"

static const struct cmd_key audit_keys[] = {
	{ .name = "since", .type = KEY_TIMESTAMP },
	{ .name = "user", .type = KEY_CODE },
	{ .name = "limit", .type = KEY_ID },
	CMD_KEYS_END,
};

const struct cmd_entry cmd_audit_entries[] = {
	{
	    .name = "AUDIT",
	    .keys = audit_keys,
	    .roles = ROLE_ADMIN | ROLE_SECRETARIAT,
	    .sql = "audit",
	    .read = 1,
	    .reply = CMD_REPLY_RECORDS,
	},
	{ .name = NULL },
};
