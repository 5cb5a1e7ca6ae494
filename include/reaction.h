/*
 * Approval by reaction (DESIGN §12): the Slack messages posted for
 * pending request versions are read back (reactions.get, users.info);
 * when enough people the policy accepts reacted with the approve emoji,
 * accord merges the request into the branch with libgit2 (merge.h) --
 * authored by the first approver, one Approved-by: trailer per approver
 * -- and pushes it.  Git stays the single source of truth: the run that
 * follows reads those approvals from the merge commit (§3).
 */
#ifndef ACCORD_REACTION_H
#define ACCORD_REACTION_H

#include <stdint.h>

#include "diag.h"
#include "repo.h"

struct state;
struct opts;

/*
 * Run approval by reaction once.  Where to call it: in an applying run
 * only (`apply`, `run`; never `plan` or `validate`), while the caller
 * holds the state lock, after state_run_begin() and BEFORE the
 * snapshot_load() that the run plans with -- so that the plan and the
 * apply of the same run already see the merges and grant them:
 *
 *	int64_t slack_waited = 0;	(the run's, shared with notify_run)
 *	if (apply) {
 *		int merged = 0;
 *		if (reaction_run(repo, st, o, o->now, &slack_waited, &merged,
 *		    &err) == -1)
 *			log_warn("approval by reaction: %s", err.msg);
 *	}
 *	... snapshot_load(&snap, repo, o->ref, st, o->now, &tm, &err) ...
 *
 * If a caller had already loaded its snapshot, it must release and load
 * it again when *merged > 0 (the branch tip moved).
 *
 * It reads what it needs itself: the open posted messages
 * (outbox_posted_open; none: it returns at once without reading git),
 * a snapshot at o->ref (NULL: the configured branch) for config and
 * policies, the inbox at that tip, and a Slack client from
 * notify.slack (token from token_env).  o->ref must name a local branch
 * (refs/heads/X or X); anything else only earns a warning.  The merge
 * commit is dated `now`; the branch is pushed to notify.slack.push_remote
 * (default "origin").
 *
 * *slack_waited (may be NULL: a fresh budget) is the time the run's Slack
 * clients have already waited before retries; the client here may wait
 * only what is left of SLACK_RUN_WAIT_MS (slack.h, DESIGN §12), and what
 * it waited is added to it -- pass the same variable to notify_run().
 *
 * Returns 0 when all went well or there was nothing to do (including no
 * notify.slack, a webhook-only setup, an unset token variable).  Slack
 * errors, conflicts and failed pushes never make it fail: each is
 * reported on stderr and the message stays open, so the next run tries
 * again.  A snapshot that does not load is left to the run, which
 * reports it.  -1 (err set) only when the state database or reading the
 * inbox fails; the caller reports it and carries on with the run.
 * *merged is the number of requests merged (and pushed) by this call.
 */
int reaction_run(struct repo *r, struct state *st, const struct opts *o,
    int64_t now, int64_t *slack_waited, int *merged, struct diag *err);

#endif
