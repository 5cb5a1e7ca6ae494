/*
 * The notify step of an applying run (DESIGN §7, §12): after apply,
 * under the run lock, the events of this and earlier runs become outbox
 * messages (outbox.h) under stable keys -- a pending request version,
 * the grant and revoke rows of the audit log after the outbox cursor, a
 * grant three days before it expires -- and every message still owed is
 * delivered through Slack (slack.h) or email (smtp.h), as accord.yaml's
 * notify.events routes them.  A failed delivery is reported on stderr,
 * stays owed for the next run and never changes the run's exit code.
 * Secrets (tokens, webhook URL, SMTP password) are read from the
 * environment at send time and never reach a message, the state or the
 * output.
 */
#ifndef ACCORD_NOTIFY_H
#define ACCORD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct repo;
struct snapshot;
struct state;

/* What one notify step did, for -v and the run's statistics. */
struct notify_stats {
	size_t queued;		/* new messages this run */
	size_t sent;		/* delivered this run */
	size_t failed;		/* attempts that failed (still owed) */
	size_t postponed;	/* not tried: their transport kept failing */
	size_t dropped;		/* owed but obsolete (no longer pending,
				 * grant gone, transport unconfigured) */
};

/* Expiring notices go out this long before expires_at. */
#define NOTIFY_EXPIRING_AHEAD (3 * 86400)

/*
 * Queue and deliver.  s is the snapshot the run applied (its config's
 * notify block, policies and commit); r the repository, for the inbox.
 * Without a notify block it only moves the cursor past the audit log,
 * so that enabling notifications later never announces old grants.
 * Never fails: problems are reported on stderr.  stats may be NULL.
 * *slack_waited (may be NULL: a fresh budget) is what the run's earlier
 * Slack clients (reaction_run) waited before retries: the Slack client
 * here may wait only what is left of SLACK_RUN_WAIT_MS (slack.h,
 * DESIGN §12), and adds what it waited.
 */
void notify_run(struct state *st, struct repo *r, const struct snapshot *s,
    int64_t now, int64_t *slack_waited, struct notify_stats *stats);

#endif
