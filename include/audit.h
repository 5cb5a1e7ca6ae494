/*
 * The audit log: an append-only table (triggers reject UPDATE and
 * DELETE) in which every row carries the SHA-256 of the previous row and
 * of itself, so that `accord audit verify` detects any edit (§8).
 */
#ifndef ACCORD_AUDIT_H
#define ACCORD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "state.h"

/* Strings may be NULL (stored as NULL). */
struct audit_row {
	int64_t seq;		/* filled by audit_append */
	char *at;		/* RFC 3339 */
	int64_t run;
	char *action;		/* grant revoke grant_failed revoke_failed denied
				 * invalid drift run_started run_finished */
	char *platform, *account, *person, *target, *privilege;
	char *request, *commit_sha;
	char *approvers;	/* comma-separated */
	char *expires_at;	/* RFC 3339 or NULL */
	char *reason, *detail;
	char prev_hash[65], hash[65];	/* filled by audit_append */
};

extern const char *const audit_columns[];	/* "seq", "at", ... NULL */

/* Append one row inside the caller's transaction.  Secrets must never be
 * passed in; detail is truncated to 4 KiB. */
int audit_append(struct state *s, struct audit_row *row, struct diag *err);

/* 0: chain intact (*rows = rows checked); 1: broken at *bad_seq (err says
 * how); -1: could not read. */
int audit_verify(struct state *s, int64_t *rows, int64_t *bad_seq,
    struct diag *err);

struct audit_filter {
	const char *person, *platform, *action;
	const char *target;	/* glob */
	int64_t since, until;	/* 0: open */
	long limit;		/* 0: all */
};
/* Rows in seq order; the row passed to cb is only valid during the call.
 * cb returns non-zero to stop. */
int audit_query(struct state *s, const struct audit_filter *f,
    int (*cb)(void *arg, const struct audit_row *row), void *arg,
    struct diag *err);

#endif
