/*
 * Merging a request branch into the main branch with libgit2, for
 * approval by reaction (DESIGN §12): a merge commit of (branch tip,
 * request commit) with the tree of libgit2's three-way merge, the branch
 * moved only if it still points at the tip read (compare-and-swap), then
 * pushed; a failed push moves the branch back.  Git stays the single
 * source of truth: DESIGN §3 then reads the merge author and its
 * Approved-by trailers as the approvers.
 */
#ifndef ACCORD_MERGE_H
#define ACCORD_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "repo.h"

struct merge_person {
	const char *name;
	const char *email;
};

struct merge_req {
	const char *branch;	/* full ref name, "refs/heads/main" */
	const char *tip;	/* hex id the branch must still point at */
	const char *theirs;	/* hex id of the commit to merge */
	const char *message;	/* full commit message */
	struct merge_person author, committer;
	int64_t when;		/* author and committer time, UTC */
	const char *remote;	/* remote name, or a URL or path; NULL: no push */
	/* When set, their side (merge base .. theirs) may change nothing but
	 * this path, to this blob: a reaction approves one request version,
	 * never the rest of a branch (other requests, policies, config). */
	const char *only_path, *only_blob;
};

/* What merge_run did. */
enum merge_result {
	MERGE_DONE = 0,		/* committed, branch moved (and pushed) */
	MERGE_CONFLICT = 1,	/* the trees conflict: nothing changed */
	MERGE_MOVED = 2,	/* the branch no longer points at tip: nothing changed */
	MERGE_PUSH_FAILED = 3,	/* push failed; the branch was moved back */
	MERGE_SCOPE = 4,	/* their side changes more than only_path:
				 * nothing changed */
};

/*
 * Merge m->theirs into m->branch.  Returns one of enum merge_result, or
 * -1 on any other error (err set; the branch is left at m->tip unless
 * the rollback itself failed, which err then says).  For MERGE_CONFLICT,
 * MERGE_MOVED, MERGE_PUSH_FAILED and MERGE_SCOPE err holds a one-line
 * explanation.
 * On MERGE_DONE, out holds the new commit id.
 */
int merge_run(struct repo *r, const struct merge_req *m, char out[41],
    struct diag *err);

/* "Merge request PATH (approved by reaction)\n\nApproved-by: NAME
 * <EMAIL>\n..." one trailer per approver, in order; names[i] NULL means
 * the local part of emails[i].  Newly allocated; CR and LF in names are
 * replaced so that a trailer stays one line. */
char *merge_message(const char *path, char *const *names,
    char *const *emails, size_t n);

#endif
