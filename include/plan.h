/*
 * The plan: what to grant and revoke, each with its reason (§4), plus the
 * bookkeeping a run does without touching a platform (adopting a grant
 * that a request now covers, forgetting one that vanished).
 */
#ifndef ACCORD_PLAN_H
#define ACCORD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "grant.h"

enum change_action {
	CH_GRANT, CH_REVOKE,
	CH_ADOPT,		/* held already; record it as accord's */
	CH_FORGET,		/* accord's record of a grant that is gone */
};
enum change_reason {
	R_REQUEST, R_EXPIRED, R_WITHDRAWN, R_DENIED, R_DRIFT, R_INVALID
};
extern const char *const change_action_names[];
extern const char *const change_reason_names[];

struct change {
	enum change_action action;
	enum change_reason reason;
	char *platform;
	char *account;		/* NULL: no account for the person */
	char *person;		/* may be NULL (drift) */
	char *target, *privilege;
	char *request, *blob, *commit;	/* provenance, may be NULL */
	char *approvers;	/* comma-separated, may be NULL */
	char *rule;		/* "policies/FILE.yaml#N", may be NULL */
	char *requester;	/* who asked, may be NULL */
	int64_t approved_at, expires_at;
	/* filled by apply */
	int done, failed;
	char *error;
	char *detail;
};

struct drift_item {
	char *platform, *account, *target, *privilege;
};

struct skipped {
	char *platform;
	char *error;
};

struct pending {
	char *request, *platform, *target, *privilege, *why;
	int needed;
};

struct plan {
	struct change *changes;
	size_t n, alloc;
	struct drift_item *drift;	/* drift: report */
	size_t ndrift, adrift;
	struct skipped *skipped;
	size_t nskipped, askipped;
	struct pending *pending;
	size_t npending, apending;
	size_t ngrant, nrevoke;	/* platform changes, for summaries */
};

struct change *plan_add(struct plan *p, enum change_action a,
    enum change_reason r);
void plan_release(struct plan *p);

#endif
