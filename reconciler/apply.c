/*
 * Apply (DESIGN §4 step 5): for each change, record and commit an intent,
 * call the connector, then record the outcome, accord's view of the grant
 * and the audit row in one transaction.  A failure of one change does not
 * stop the others.  Intents left behind by a crash are settled by the
 * next run against that run's fresh ingest, so a grant made just before a
 * crash is recorded as accord's and never mistaken for drift.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "run.h"
#include "state.h"
#include "util.h"

static void
row_init(struct audit_row *row, int64_t run, int64_t now, char *at,
    size_t atsz, const char *action)
{
	memset(row, 0, sizeof(*row));
	time_format(at, atsz, now);
	row->at = at;
	row->run = run;
	row->action = (char *)action;
}

static void
row_from_change(struct audit_row *row, const struct change *c, char *exp,
    size_t expsz)
{
	row->platform = c->platform;
	row->account = c->account;
	row->person = c->person;
	row->target = c->target;
	row->privilege = c->privilege;
	row->request = c->request;
	row->commit_sha = c->commit;
	row->approvers = c->approvers;
	if (c->expires_at)
		row->expires_at = time_format(exp, expsz, c->expires_at);
	row->reason = (char *)change_reason_names[c->reason];
}

static void
sgrant_from_change(struct sgrant *g, const struct change *c, int64_t now)
{
	memset(g, 0, sizeof(*g));
	g->platform = c->platform;
	g->account = c->account;
	g->person = c->person;
	g->target = c->target;
	g->privilege = c->privilege;
	g->request = c->request;
	g->blob = c->blob;
	g->commit_sha = c->commit;
	g->approvers = c->approvers;
	g->rule = c->rule;
	g->requester = c->requester;
	g->approved_at = c->approved_at;
	g->expires_at = c->expires_at;
	g->granted_at = now;
}

static int
holds(const struct platform_run *pr, const struct sgrant *g)
{
	size_t i;

	for (i = 0; i < pr->in.ngrants; i++) {
		const struct pgrant *a = &pr->in.grants[i];
		if (strcmp(a->account, g->account) == 0 &&
		    strcmp(a->target, g->target) == 0 &&
		    strcmp(a->privilege, g->privilege) == 0)
			return 1;
	}
	return 0;
}

void
apply_recover(struct state *st, struct platform_run *pr, size_t npr,
    int64_t run, int64_t now)
{
	struct intent *v = NULL;
	struct audit_row row;
	struct diag err;
	char at[TIME_STR_MAX], exp[TIME_STR_MAX], detail[512];
	size_t n = 0, i, j;

	if (state_intents_pending(st, &v, &n, &err) == -1) {
		log_warn("intents: %s", err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		struct intent *it = &v[i];
		const struct platform_run *p = NULL;
		int grant = strcmp(it->action, "grant") == 0, present, done;
		for (j = 0; j < npr; j++)
			if (pr[j].ok && strcmp(pr[j].cfg->name, it->g.platform) == 0)
				p = &pr[j];
		if (p == NULL)
			continue;	/* platform skipped: settle it later */
		present = holds(p, &it->g);
		done = grant ? present : !present;
		/* A change the platform did make happened during the
		 * interrupted run (its time is the intent's), not now:
		 * history's windows start and end there. */
		row_init(&row, run, done && it->g.granted_at ? it->g.granted_at :
		    now, at, sizeof(at), grant ?
		    (done ? "grant" : "grant_failed") :
		    (done ? "revoke" : "revoke_failed"));
		row.platform = it->g.platform;
		row.account = it->g.account;
		row.person = it->g.person;
		row.target = it->g.target;
		row.privilege = it->g.privilege;
		row.request = it->g.request;
		row.commit_sha = it->g.commit_sha;
		row.approvers = it->g.approvers;
		if (it->g.expires_at)
			row.expires_at = time_format(exp, sizeof(exp),
			    it->g.expires_at);
		row.reason = it->reason;
		snprintf(detail, sizeof(detail), "recovered: run %lld was "
		    "interrupted after recording its intent; the platform %s "
		    "the grant", (long long)it->run, present ? "holds" :
		    "does not hold");
		row.detail = detail;
		if (state_begin(st, &err) == -1)
			goto fail;
		if (done && grant && state_grant_put(st, &it->g, &err) == -1)
			goto fail_tx;
		if (done && !grant && state_grant_del(st, it->g.platform,
		    it->g.account, it->g.target, it->g.privilege, &err) == -1)
			goto fail_tx;
		if (audit_append(st, &row, &err) == -1 ||
		    state_intent_finish(st, it->id, "recovered", &err) == -1 ||
		    state_commit(st, &err) == -1)
			goto fail_tx;
		log_info("%s", detail);
		continue;
fail_tx:
		state_rollback(st);
fail:
		log_warn("recovering intent %lld: %s", (long long)it->id, err.msg);
	}
	intents_free(v, n);
}

static void
decision(struct state *st, int64_t run, int64_t now, const char *blob,
    const char *key, struct audit_row *row)
{
	struct diag err;
	char at[TIME_STR_MAX];

	if (state_decision_seen(st, blob, key))
		return;
	time_format(at, sizeof(at), now);
	row->at = at;
	row->run = run;
	if (state_begin(st, &err) == -1 ||
	    audit_append(st, row, &err) == -1 ||
	    state_decision_mark(st, blob, key, &err) == -1 ||
	    state_commit(st, &err) == -1) {
		state_rollback(st);
		log_warn("recording decision on %s: %s", row->request, err.msg);
	}
}

void
apply_decisions(struct state *st, const struct snapshot *s, int64_t run)
{
	struct audit_row row;
	char line[DIAG_MSG_MAX + 600], key[1024];
	size_t i, j;

	for (i = 0; i < s->nreqs; i++) {
		const struct loaded_request *lr = &s->reqs[i];
		if (!lr->valid) {
			memset(&row, 0, sizeof(row));
			row.action = "invalid";
			row.request = lr->entry.path;
			row.commit_sha = (char *)s->commit;
			row.reason = "invalid";
			diag_format(lr->error, line, sizeof(line));
			row.detail = line;
			decision(st, run, s->now, lr->entry.blob, "invalid", &row);
			continue;
		}
		for (j = 0; j < lr->req.ngrants; j++) {
			const struct grant_req *g = &lr->req.grants[j];
			if (lr->ev[j].status != GS_DENIED)
				continue;
			memset(&row, 0, sizeof(row));
			row.action = "denied";
			row.platform = g->platform;
			row.person = lr->req.requester;
			row.target = g->target;
			row.privilege = g->privilege;
			row.request = lr->req.path;
			row.commit_sha = (char *)lr->appr.commit;
			row.reason = "denied";
			row.detail = (char *)lr->ev[j].why;
			snprintf(key, sizeof(key), "denied %s %s %s", g->platform,
			    g->target, g->privilege);
			decision(st, run, s->now, lr->entry.blob, key, &row);
		}
	}
}

static struct platform_run *
find_platform(struct platform_run *pr, size_t npr, const char *name)
{
	size_t i;

	for (i = 0; i < npr; i++)
		if (strcmp(pr[i].cfg->name, name) == 0)
			return &pr[i];
	return NULL;
}

/* Bookkeeping without a platform call: adopt or forget. */
static void
apply_bookkeeping(struct change *c, struct state *st, int64_t run, int64_t now)
{
	struct audit_row row;
	struct sgrant g;
	struct diag err;
	char at[TIME_STR_MAX], exp[TIME_STR_MAX];
	int rc;

	row_init(&row, run, now, at, sizeof(at),
	    c->action == CH_ADOPT ? "grant" : "revoke");
	row_from_change(&row, c, exp, sizeof(exp));
	if (c->action == CH_ADOPT) {
		row.detail = "already held on the platform; recorded under "
		    "this request";
	} else {
		row.reason = "drift";
		row.detail = "no longer held on the platform: removed outside accord";
	}
	sgrant_from_change(&g, c, now);
	if (state_begin(st, &err) == -1)
		goto fail;
	rc = c->action == CH_ADOPT ? state_grant_put(st, &g, &err) :
	    state_grant_del(st, c->platform, c->account, c->target,
	    c->privilege, &err);
	if (rc == -1 || audit_append(st, &row, &err) == -1 ||
	    state_commit(st, &err) == -1) {
		state_rollback(st);
		goto fail;
	}
	c->done = 1;
	return;
fail:
	log_warn("recording %s of %s on %s: %s", change_action_names[c->action],
	    c->target, c->platform, err.msg);
}

/* Commit the intent for a change; never call a platform without one. */
static int
intent_record(struct change *c, struct state *st, int64_t run, int64_t now,
    int64_t *intent)
{
	struct sgrant g;
	struct diag err;

	sgrant_from_change(&g, c, now);
	if (state_begin(st, &err) == -1 ||
	    state_intent_add(st, run, c->action == CH_GRANT ? "grant" :
	    "revoke", change_reason_names[c->reason], &g, intent, &err) == -1 ||
	    state_commit(st, &err) == -1) {
		state_rollback(st);
		c->failed = 1;
		c->error = xasprintf("recording intent: %s", err.msg);
		return -1;
	}
	return 0;
}

/* A change's outcome, accord's view of the grant and the audit row, inside
 * the caller's transaction.  c->done or c->failed is already set. */
static int
outcome_write(struct change *c, struct state *st, int64_t run, int64_t now,
    int64_t intent, struct diag *err)
{
	int grant = c->action == CH_GRANT;
	struct audit_row row;
	struct sgrant g;
	char at[TIME_STR_MAX], exp[TIME_STR_MAX];

	sgrant_from_change(&g, c, now);
	row_init(&row, run, now, at, sizeof(at), grant ?
	    (c->done ? "grant" : "grant_failed") :
	    (c->done ? "revoke" : "revoke_failed"));
	row_from_change(&row, c, exp, sizeof(exp));
	row.detail = c->done ? c->detail : c->error;
	if (c->done && grant && state_grant_put(st, &g, err) == -1)
		return -1;
	if (c->done && !grant && state_grant_del(st, c->platform, c->account,
	    c->target, c->privilege, err) == -1)
		return -1;
	if (audit_append(st, &row, err) == -1)
		return -1;
	if (intent && state_intent_finish(st, intent, c->done ? "done" :
	    "failed", err) == -1)
		return -1;
	return 0;
}

/* outcome_write in a transaction of its own. */
static void
outcome_record(struct change *c, struct state *st, int64_t run, int64_t now,
    int64_t intent)
{
	struct diag err;

	if (state_begin(st, &err) == 0) {
		if (outcome_write(c, st, run, now, intent, &err) == 0 &&
		    state_commit(st, &err) == 0)
			return;
		state_rollback(st);
	}
	/* The intent stays pending; the next run settles it. */
	log_warn("recording outcome of %s %s on %s: %s", c->action ==
	    CH_GRANT ? "grant" : "revoke", c->target, c->platform, err.msg);
}

static void
test_crash_point(void)
{
	const char *test_crash = getenv("ACCORD_TEST_CRASH");

	if (test_crash && strcmp(test_crash, "after-call") == 0)
		_exit(70);
}

static void
apply_one(struct change *c, struct state *st, struct platform_run *pr,
    int64_t run, int64_t now)
{
	int grant = c->action == CH_GRANT;
	struct pgrant pg;
	struct diag perr;
	struct buf detail;
	int64_t intent = 0;
	int rc;

	if (c->account == NULL) {
		c->failed = 1;
		if (c->error == NULL)
			c->error = xstrdup("no account");
		outcome_record(c, st, run, now, 0);
		return;
	}
	if (intent_record(c, st, run, now, &intent) == -1)
		return;
	pg.account = c->account;
	pg.target = c->target;
	pg.privilege = c->privilege;
	buf_init(&detail, 4096);
	diag_clear(&perr);
	log_debug("%s: %s %s on %s %s %s", c->platform, grant ? "grant" :
	    "revoke", c->privilege, c->target, grant ? "to" : "from", c->account);
	rc = grant ? pr->desc->ops->grant(pr->conn, &pg, &detail, &perr) :
	    pr->desc->ops->revoke(pr->conn, &pg, &detail, &perr);
	log_debug("%s: -> %s", c->platform, rc == 0 ? buf_cstr(&detail) :
	    perr.msg);
	if (rc == 0)
		test_crash_point();
	if (rc == 0) {
		c->done = 1;
		c->detail = xstrdup(buf_cstr(&detail));
	} else {
		c->failed = 1;
		c->error = xstrdup(perr.msg);
	}
	buf_release(&detail);
	outcome_record(c, st, run, now, intent);
}

/*
 * A platform with apply_batch gets all its changes in one call (revokes
 * and grants; the connector keeps revokes first).  Every intent is
 * committed, in one transaction, before the call; every outcome with its
 * audit row is recorded, in one transaction, after it.  Should that
 * transaction fail, the intents stay pending and the next run settles
 * them against a fresh ingest, as after a crash.  Two transactions per
 * batch instead of two per change: the state file's fsyncs were most of
 * a large batch's cost.
 */
static void
apply_batch(struct plan *p, struct state *st, struct platform_run *pr,
    int64_t run, int64_t now)
{
	struct change_item *items;
	struct change **chg;
	int64_t *intents;
	struct diag err;
	struct sgrant g;
	size_t i, n = 0;

	items = xcalloc(p->n ? p->n : 1, sizeof(*items));
	chg = xcalloc(p->n ? p->n : 1, sizeof(*chg));
	intents = xcalloc(p->n ? p->n : 1, sizeof(*intents));
	for (i = 0; i < p->n; i++) {
		struct change *c = &p->changes[i];
		if ((c->action != CH_GRANT && c->action != CH_REVOKE) ||
		    strcmp(c->platform, pr->cfg->name))
			continue;
		if (c->account == NULL) {
			apply_one(c, st, pr, run, now);	/* no account: no call */
			continue;
		}
		chg[n++] = c;
	}
	if (n == 0)
		goto out;
	if (state_begin(st, &err) == -1)
		goto no_intents;
	for (i = 0; i < n; i++) {
		sgrant_from_change(&g, chg[i], now);
		if (state_intent_add(st, run, chg[i]->action == CH_GRANT ?
		    "grant" : "revoke", change_reason_names[chg[i]->reason],
		    &g, &intents[i], &err) == -1) {
			state_rollback(st);
			goto no_intents;
		}
	}
	if (state_commit(st, &err) == -1) {
		state_rollback(st);
		goto no_intents;
	}
	for (i = 0; i < n; i++) {
		struct change *c = chg[i];
		items[i].revoke = c->action == CH_REVOKE;
		items[i].g.account = c->account;
		items[i].g.target = c->target;
		items[i].g.privilege = c->privilege;
		buf_init(&items[i].detail, 4096);
		log_debug("%s: batch %s %s on %s %s %s", c->platform,
		    items[i].revoke ? "revoke" : "grant", c->privilege,
		    c->target, items[i].revoke ? "from" : "to", c->account);
	}
	pr->desc->ops->apply_batch(pr->conn, items, n);
	for (i = 0; i < n; i++)
		if (items[i].ok) {
			test_crash_point();
			break;
		}
	for (i = 0; i < n; i++) {
		struct change *c = chg[i];
		if (items[i].ok) {
			c->done = 1;
			c->detail = xstrdup(buf_cstr(&items[i].detail));
		} else {
			c->failed = 1;
			c->error = xstrdup(items[i].err.msg[0] ?
			    items[i].err.msg : "not applied");
		}
		buf_release(&items[i].detail);
	}
	if (state_begin(st, &err) == 0) {
		for (i = 0; i < n; i++)
			if (outcome_write(chg[i], st, run, now, intents[i],
			    &err) == -1)
				break;
		if (i == n && state_commit(st, &err) == 0)
			goto out;
		state_rollback(st);
	}
	/* The intents stay pending; the next run settles them. */
	log_warn("recording the outcomes of %zu change%s on %s: %s", n,
	    n == 1 ? "" : "s", pr->cfg->name, err.msg);
	goto out;
no_intents:
	/* Nothing was called: every change of the batch failed here. */
	for (i = 0; i < n; i++) {
		chg[i]->failed = 1;
		chg[i]->error = xasprintf("recording intent: %s", err.msg);
	}
out:
	free(items);
	free(chg);
	free(intents);
}

size_t
apply_plan(struct plan *p, struct state *st, struct platform_run *pr,
    size_t npr, int64_t run, int64_t now)
{
	size_t i, failed = 0;
	int pass;

	for (i = 0; i < npr; i++)
		if (pr[i].ok && pr[i].desc->ops->apply_batch)
			apply_batch(p, st, &pr[i], run, now);
	/* Least privilege while a run is under way: revokes first. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n; i++) {
			struct change *c = &p->changes[i];
			struct platform_run *r;
			if ((pass == 0) != (c->action == CH_REVOKE ||
			    c->action == CH_FORGET))
				continue;
			if (c->action == CH_ADOPT || c->action == CH_FORGET) {
				apply_bookkeeping(c, st, run, now);
				continue;
			}
			r = find_platform(pr, npr, c->platform);
			if (r == NULL || !r->ok || r->desc->ops->apply_batch)
				continue;
			apply_one(c, st, r, run, now);
		}
	}
	for (i = 0; i < p->n; i++)
		failed += p->changes[i].failed;
	return failed;
}
