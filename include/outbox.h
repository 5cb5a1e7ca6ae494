/*
 * Notifications owed and sent (DESIGN §7, §8, §12), on the state floor.
 * Every notification has a stable key, so an event is delivered once
 * across runs, and a failed delivery stays owed and is retried by the next
 * run.  Also the Slack messages posted for pending requests, which
 * approval by reaction reads back.  Only the run writes here.
 */
#ifndef ACCORD_OUTBOX_H
#define ACCORD_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct state;

/*
 * One notification.  key is stable per event and channel, e.g.
 * "pending slack requests/a.yaml BLOB", "granted email AUDITSEQ",
 * "expiring email PLATFORM\x1fACCOUNT\x1fTARGET\x1fPRIV\x1fEXPIRES_AT",
 * "revoked email AUDITSEQ".  channel is "slack" or "email"; recipients a
 * comma-separated list (emails, or a Slack channel id); subject may be
 * NULL for Slack.
 */
struct outbox_msg {
	char *key, *event, *channel, *recipients, *subject, *body;
	int64_t created_at;
	int attempts;
	char *last_error;	/* NULL when never failed */
	int64_t sent_at;	/* 0: still owed */
};
void outbox_msg_release(struct outbox_msg *m);
void outbox_msgs_free(struct outbox_msg *v, size_t n);

/* Queue m unless its key is already known (sent or owed): 1 queued, 0
 * known, -1 error. */
int outbox_add(struct state *s, const struct outbox_msg *m, struct diag *err);
/* Every owed message: the least tried first, then the oldest, so that
 * messages that keep failing do not hold back new ones. */
int outbox_owed(struct state *s, struct outbox_msg **out, size_t *n,
    struct diag *err);
/* Record a delivery (error NULL: sent at `now`) or a failed attempt. */
int outbox_result(struct state *s, const char *key, int64_t now,
    const char *error, struct diag *err);
/* Has the key ever been queued? 1 yes, 0 no, -1 error. */
int outbox_known(struct state *s, const char *key, struct diag *err);

/* The highest audit seq whose grant/revoke rows were turned into
 * notifications; 0 at first.  Set it in the same transaction as the
 * outbox_add calls it covers. */
int outbox_cursor(struct state *s, int64_t *seq, struct diag *err);
int outbox_set_cursor(struct state *s, int64_t seq, struct diag *err);

/* A Slack message posted for a pending request version. */
struct posted {
	char *path;
	char blob[41];
	char *channel, *ts;
	int64_t posted_at;
	int64_t merged_at;	/* 0: not merged by reaction yet */
	char *merge_commit;	/* NULL until merged */
};
void posted_release(struct posted *p);
void posted_free(struct posted *v, size_t n);
int outbox_posted_add(struct state *s, const struct posted *p,
    struct diag *err);
/* Every posted message not yet merged. */
int outbox_posted_open(struct state *s, struct posted **out, size_t *n,
    struct diag *err);
int outbox_posted_merged(struct state *s, const char *path, const char *blob,
    const char *commit, int64_t at, struct diag *err);

#endif
