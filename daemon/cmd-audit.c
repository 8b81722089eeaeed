/*
 * cmd-audit.c -- AUDIT: the committed changes, oldest first, from the audit
 * table that every write fills in its own transaction.
 */
#include "rosterd.h"

static const struct cmd_key audit_keys[] = {
	{ "since", KEY_TIMESTAMP, 0, NULL },
	{ "user", KEY_CODE, 0, NULL },
	{ "limit", KEY_ID, 0, NULL },
	{ NULL, 0, 0, NULL }
};

struct cmd_entry cmd_audit_entry = {
	"AUDIT", audit_keys, ROLE_ADMIN | ROLE_SECRETARIAT, "roster.audit",
	CMD_REPLY_RECORDS, NULL, 0, 0
};
