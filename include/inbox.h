/*
 * The requests inbox (DESIGN §5 `inbox`, §12): request versions that live
 * on refs not yet merged into the branch -- local branches, remote-
 * tracking branches (refs/remotes/REMOTE/NAME) and forge pull-request
 * heads (refs/pull/N/head) -- read straight from git.  A version is a (path,
 * blob) pair under requests/ that the ref added or changed since its merge
 * base with the branch tip and that the branch does not hold and never
 * held on its first-parent history (a squash merge since changed); one
 * entry per version however many refs carry it.  Each is evaluated
 * against the tip's config and policies as not yet approved.
 */
#ifndef ACCORD_INBOX_H
#define ACCORD_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "repo.h"
#include "request.h"

struct snapshot;

struct inbox_item {
	char *path;		/* "requests/alice/q4.yaml" */
	char blob[41];
	char **refs;		/* full ref names carrying it, sorted */
	size_t nrefs;
	char commit[41];	/* tip commit of the first ref (for a merge) */
	long pr_number;		/* from refs/pull/N/head (the largest N
				 * when several carry it), else 0 */
	int64_t created_at;	/* committer time of the earliest commit on
				 * the ref's side that holds this blob,
				 * the earliest over its refs */
	int valid;
	struct diag *error;	/* when !valid */
	struct request req;	/* when valid */
	struct grant_eval *ev;	/* req.ngrants entries, evaluated with no
				 * approval at s->now */
	char **approvers;	/* who may approve any of its grants,
				 * groups expanded, requester excluded unless
				 * self_approval; lower-cased, sorted */
	size_t napprovers;
	int needed;		/* approvals needed (the largest over its
				 * allowed grants) */
};

/* Every pending version, sorted by path then blob.  s is the snapshot at
 * the branch tip (its config, policies and commit); refs other than the
 * configured branch (s->cfg.branch, locally and on every remote) and s->ref
 * are read.  The items borrow rules from s->ps (ev[i].rule): free them
 * with inbox_free before snapshot_release.  An invalid request file is an
 * item (valid = 0); a ref that cannot be read is skipped with a warning on
 * stderr.  Writes nothing. */
int inbox_collect(struct repo *r, const struct snapshot *s,
    struct inbox_item **out, size_t *n, struct diag *err);
void inbox_free(struct inbox_item *v, size_t n);

/* May `reviewer` approve at least one allowed grant of the item (a step
 * of its rule matches, groups expanded; the requester only with
 * self_approval)?  0 for an invalid item. */
int inbox_may_approve(const struct snapshot *s, const struct inbox_item *it,
    const char *reviewer);

#endif
