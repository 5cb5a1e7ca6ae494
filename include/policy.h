/*
 * Policies (DESIGN §2.3) and evaluation of requests against them and
 * against the approvals found in git (§3).  Matching: a matching deny
 * rule wins; otherwise the first matching rule in file-name then file
 * order; no rule matches: denied.
 */
#ifndef ACCORD_POLICY_H
#define ACCORD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "request.h"
#include "diag.h"

struct approval_step {
	char **from;		/* emails, globs, group:NAME */
	size_t nfrom;
	int min;
};

struct rule {
	char *file;		/* "policies/warehouse.yaml" */
	int index;		/* 1-based within its file: file#index */
	int line, column;
	char *platform;		/* glob */
	char **targets;		/* globs over "kind:name" */
	size_t ntargets;
	char **privileges;	/* NULL/0: any; compared case-insensitively */
	size_t nprivileges;
	char **requesters;	/* NULL/0: anyone */
	size_t nrequesters;
	/* approvers + min_approvals become one step; require: adds steps. */
	struct approval_step *steps;
	size_t nsteps;
	int64_t default_duration;	/* 0: none */
	int64_t max_duration;	/* 0: none */
	int deny;
	int self_approval;
};

struct policy_set {
	struct rule *rules;	/* in file-name, then file order */
	size_t nrules;
};

/* Parse one policies/NAME.yaml file and append its rules.  Call in file-name
 * order.  On error the set is unchanged. */
int policy_parse(struct policy_set *ps, const char *path, const char *data,
    size_t len, struct diag *err);
void policy_set_release(struct policy_set *ps);

/* The deciding rule for one grant, or NULL (default deny).  A matching
 * deny rule is returned in preference to any allow rule. */
const struct rule *policy_match(const struct policy_set *ps,
    const struct config *cfg, const char *platform, const char *target,
    const char *privilege, const char *requester);

/* Approval facts for one request version, from git (§3). */
struct approval {
	char commit[41];	/* where the current blob appeared */
	int64_t approved_at;	/* committer time of that commit */
	char **approvers;	/* emails, lower-cased, distinct */
	size_t napprovers;
};

enum grant_status {
	GS_ACTIVE,		/* approved, started, not expired: desired */
	GS_PENDING,		/* allowed but not enough approvals */
	GS_NOT_STARTED,		/* approved; starts in the future */
	GS_EXPIRED,		/* approved; window ended */
	GS_DENIED,		/* no rule allows it, or a deny rule matched */
};
extern const char *const grant_status_names[];

struct grant_eval {
	enum grant_status status;
	const struct rule *rule;	/* NULL when default-denied */
	int64_t expires_at;	/* 0: permanent */
	char **approvers;	/* counted approvers (requester excluded unless allowed) */
	size_t napprovers;
	int needed;		/* approvals still missing, for GS_PENDING */
	char why[256];		/* one sentence */
};

/*
 * Evaluate every grant of request r (out[i] for r->grants[i]; out has
 * r->ngrants entries) at time `now`.  `a` may be NULL for a request that
 * is not on the branch (pending review).  Free with policy_eval_release.
 */
void policy_eval(struct grant_eval *out, const struct policy_set *ps,
    const struct config *cfg, const struct request *r,
    const struct approval *a, int64_t now);
void policy_eval_release(struct grant_eval *ev, size_t n);

/* Does the approver set satisfy the rule's steps?  One person counts in
 * one step only.  Returns the number of approvals still missing (0 = ok). */
int policy_missing_approvals(const struct rule *rule, const struct config *cfg,
    const char *requester, char *const *approvers, size_t n);

void approval_release(struct approval *a);

#endif
