/*
 * The notify step (DESIGN §7, §12).  Two halves, so that an event is
 * announced once however runs fail:
 *
 *   queue    in one transaction: one message per pending request version
 *            (inbox.h), per grant or revoke row of the audit log after
 *            the outbox cursor (the cursor moves in the same
 *            transaction), and per grant within three days of its
 *            expiry (keyed with expires_at, so an extension re-arms it);
 *            each under a stable key, so a key already known is skipped.
 *   deliver  every message still owed, oldest first; a failure is kept
 *            on the message and reported on stderr, and the next run
 *            tries again.  A transport that fails three times in a row
 *            is left alone for the rest of the run.
 *
 * An owed message that no longer means anything -- a version no longer
 * pending, a grant no longer expiring, a destination the config no
 * longer routes the event to -- is settled without being sent.
 *
 * Texts are short: who, what (platform, target, privilege), why (the
 * request's reason), until when (RFC 3339), approvals needed, the
 * approve emoji and the pull request link.  They are built from the
 * repository and the audit log only; secrets are read from the
 * environment just before a delivery and go nowhere else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "inbox.h"
#include "notify.h"
#include "outbox.h"
#include "run.h"
#include "slack.h"
#include "smtp.h"
#include "state.h"
#include "strmap.h"
#include "util.h"

#define LIST_MAX 10		/* approvers or grants named in one message */
#define FAILS_MAX 3		/* consecutive failures before a transport
				 * is left alone until the next run */
#define BODY_MAX (16 * 1024)

enum { CH_SLACK, CH_EMAIL };

struct nctx {
	struct state *st;
	struct repo *repo;
	const struct snapshot *s;
	const struct notify_cfg *nc;
	int64_t now;
	struct notify_stats *stats;

	struct inbox_item *items;
	size_t nitems;
	int have_inbox;		/* pending keys are known this run */
	struct sgrant *sg;
	size_t nsg;
	int have_grants;	/* expiring keys are known this run */
	struct strmap live;	/* pending and expiring keys still current */

	struct slack *slack;
	int64_t slack_waited;	/* the run's Slack waits before this step */
	int slack_state;	/* 0 not opened, 1 open, -1 cannot open */
	struct diag slack_err;
	int fails[2];		/* consecutive failures per channel */
	size_t postponed[2];
};

/* --- small text helpers ------------------------------------------------- */

/* Slack's mrkdwn gives &, < and > meaning; everything else is literal. */
static void
put_text(struct buf *b, int slack, const char *s)
{
	if (s == NULL)
		return;
	if (!slack) {
		buf_puts(b, s);
		return;
	}
	for (; *s; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else
			buf_putc(b, *s);
	}
}

/* "%s"-only printf whose arguments are escaped for Slack. */
static void
put_fmt(struct buf *b, int slack, const char *fmt, ...)
{
	va_list ap;
	const char *p;

	va_start(ap, fmt);
	for (p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			put_text(b, slack, va_arg(ap, const char *));
			p++;
		} else
			buf_putc(b, *p);
	}
	va_end(ap);
}

/* A request's reason on one line (a YAML block scalar may have several). */
static char *
one_line(const char *s)
{
	char *o, *p;

	o = xstrdup(s ? s : "");
	for (p = o; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (p = o + strlen(o); p > o && p[-1] == ' '; p--)
		p[-1] = '\0';
	return o;
}

/* "2d 23h", "5h", "40m": a rough distance for people. */
static void
fmt_in(char *out, size_t outsz, int64_t secs)
{
	int64_t d, h, m;

	if (secs < 0)
		secs = 0;
	d = secs / 86400;
	h = secs % 86400 / 3600;
	m = secs % 3600 / 60;
	if (d > 0 && h > 0)
		snprintf(out, outsz, "%lldd %lldh", (long long)d, (long long)h);
	else if (d > 0)
		snprintf(out, outsz, "%lldd", (long long)d);
	else if (h > 0)
		snprintf(out, outsz, "%lldh", (long long)h);
	else
		snprintf(out, outsz, "%lldm", (long long)m);
}

/* An address a message may go to: one mailbox, nothing a header or the
 * recipients list could split on, no glob. */
static int
is_mailbox(const char *s)
{
	const char *at;

	if (s == NULL || (at = strchr(s, '@')) == NULL || at == s ||
	    at[1] == '\0' || has_glob(s) || strpbrk(s, ",;<>\"() ") != NULL)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* The branch a ref names: refs/heads/X and refs/remotes/R/X give X. */
static const char *
ref_branch(const char *ref)
{
	const char *p;

	if (strncmp(ref, "refs/heads/", 11) == 0)
		return ref + 11;
	if (strncmp(ref, "refs/remotes/", 13) == 0 &&
	    (p = strchr(ref + 13, '/')) != NULL && p[1])
		return p + 1;
	return NULL;
}

/*
 * notify.pull_request_url with {number}, {branch} and {path} filled in,
 * or NULL when there is no template or it needs a value not known here
 * (a link to the wrong pull request is worse than none).
 */
static char *
pr_link(const struct notify_cfg *nc, const char *path, long number,
    const char *branch)
{
	struct buf b;
	const char *p = nc->pull_request_url;
	char num[32];

	if (p == NULL)
		return NULL;
	buf_init(&b, 4096);
	while (*p) {
		if (strncmp(p, "{number}", 8) == 0) {
			if (number <= 0)
				goto unknown;
			snprintf(num, sizeof(num), "%ld", number);
			buf_puts(&b, num);
			p += 8;
		} else if (strncmp(p, "{branch}", 8) == 0) {
			if (branch == NULL)
				goto unknown;
			buf_puts(&b, branch);
			p += 8;
		} else if (strncmp(p, "{path}", 6) == 0) {
			if (path == NULL)
				goto unknown;
			buf_puts(&b, path);
			p += 6;
		} else
			buf_putc(&b, *p++);
	}
	if (b.over)
		goto unknown;
	return buf_detach(&b);
unknown:
	buf_release(&b);
	return NULL;
}

static const struct loaded_request *
snap_request(const struct snapshot *s, const char *path)
{
	size_t i;

	for (i = 0; path && i < s->nreqs; i++)
		if (s->reqs[i].valid && strcmp(s->reqs[i].entry.path, path) == 0)
			return &s->reqs[i];
	return NULL;
}

/* --- queueing ------------------------------------------------------------ */

static void
queue(struct nctx *c, const char *key, const char *event, const char *channel,
    const char *recipients, const char *subject, const char *body,
    int live)
{
	struct outbox_msg m;
	struct diag err;
	int rc;

	if (live)
		strmap_put(&c->live, key, 1);
	memset(&m, 0, sizeof(m));
	m.key = (char *)key;
	m.event = (char *)event;
	m.channel = (char *)channel;
	m.recipients = (char *)recipients;
	m.subject = (char *)subject;
	m.body = (char *)body;
	m.created_at = c->now;
	rc = outbox_add(c->st, &m, &err);
	if (rc == 1)
		c->stats->queued++;
	else if (rc == -1)
		log_warn("notify: %s", err.msg);
}

static const char *
slack_recipient(const struct notify_cfg *nc)
{
	return nc->slack.token_env ? nc->slack.channel : "webhook";
}

/* How long a pending grant would last if approved now. */
static void
put_term(struct buf *b, int slack, const struct request *r,
    const struct grant_eval *ev, int64_t now)
{
	char t[TIME_STR_MAX], d[32];
	int64_t dur = r->duration;

	if (r->expires) {
		put_fmt(b, slack, " until %s", time_format(t, sizeof(t),
		    r->expires));
		return;
	}
	if (dur == 0 && ev->rule)
		dur = ev->rule->default_duration;
	if (dur == 0) {
		buf_puts(b, ", no expiry");
		return;
	}
	duration_format(d, sizeof(d), dur);
	put_fmt(b, slack, " for %s (until %s if approved now)", d,
	    time_format(t, sizeof(t), now + dur));
}

static void
pending_text(struct buf *b, int slack, const struct nctx *c,
    const struct inbox_item *it, const char *link, const char *branch)
{
	const struct request *r = &it->req;
	char *why = one_line(r->reason);
	char need[32];
	size_t i, shown = 0;

	put_fmt(b, slack, "Access request awaiting approval: %s\n", it->path);
	put_fmt(b, slack, "Requester: %s\n", r->requester);
	put_fmt(b, slack, "Reason: %s\n", why[0] ? why : "(none given)");
	buf_puts(b, "Grants:\n");
	for (i = 0; i < r->ngrants && i < LIST_MAX; i++) {
		const struct grant_req *g = &r->grants[i];

		put_fmt(b, slack, "- %s on %s (%s)", g->privilege, g->target,
		    g->platform);
		if (g->grantee)
			put_fmt(b, slack, " to %s", g->grantee);
		if (it->ev[i].status == GS_DENIED)
			put_fmt(b, slack, ": denied by policy (%s)",
			    it->ev[i].why);
		else
			put_term(b, slack, r, &it->ev[i], c->now);
		buf_putc(b, '\n');
	}
	if (r->ngrants > LIST_MAX)
		buf_printf(b, "- and %zu more\n", r->ngrants - LIST_MAX);
	snprintf(need, sizeof(need), "%d", it->needed);
	put_fmt(b, slack, "Approvals needed: %s", need);
	for (i = 0; i < it->napprovers; i++) {
		if (!is_mailbox(it->approvers[i]) && !has_glob(it->approvers[i]))
			continue;
		if (shown == LIST_MAX) {
			buf_puts(b, ", ...");
			break;
		}
		put_fmt(b, slack, "%s%s", shown ? ", " : " from ",
		    it->approvers[i]);
		shown++;
	}
	buf_putc(b, '\n');
	if (slack && c->nc->slack.token_env)
		put_fmt(b, slack, "Approve: react to this message with :%s:\n",
		    c->nc->slack.approve_emoji);
	if (link)
		put_fmt(b, slack, "Pull request: %s\n", link);
	else if (branch)
		put_fmt(b, slack, "Branch: %s\n", branch);
	free(why);
}

static void
queue_pending(struct nctx *c)
{
	const struct notify_cfg *nc = c->nc;
	unsigned route = nc->events[NEV_PENDING];
	struct buf body, subj, to;
	struct diag err;
	char *key, *link;
	const char *branch;
	size_t i, j;

	if (route == 0)
		return;
	if (inbox_collect(c->repo, c->s, &c->items, &c->nitems, &err) == -1) {
		log_warn("notify: reading pending requests: %s", err.msg);
		return;
	}
	c->have_inbox = 1;
	for (i = 0; i < c->nitems; i++) {
		const struct inbox_item *it = &c->items[i];

		/* Nothing to approve: invalid, or every grant denied. */
		if (!it->valid || it->needed <= 0)
			continue;
		branch = NULL;
		for (j = 0; j < it->nrefs && branch == NULL; j++)
			branch = ref_branch(it->refs[j]);
		link = pr_link(nc, it->path, it->pr_number, branch);
		if (route & NOTIFY_SLACK) {
			buf_init(&body, BODY_MAX);
			pending_text(&body, 1, c, it, link, branch);
			key = xasprintf("pending slack %s %s", it->path, it->blob);
			queue(c, key, "pending", "slack", slack_recipient(nc),
			    NULL, buf_cstr(&body), 1);
			free(key);
			buf_release(&body);
		}
		if (route & NOTIFY_EMAIL) {
			buf_init(&to, 0);
			for (j = 0; j < it->napprovers; j++)
				if (is_mailbox(it->approvers[j]))
					buf_printf(&to, "%s%s", to.len ? "," : "",
					    it->approvers[j]);
			key = xasprintf("pending email %s %s", it->path, it->blob);
			if (to.len == 0) {
				/* Only globs: nobody to write to. */
				log_info("notify: no approver address for %s",
				    it->path);
			} else {
				buf_init(&body, BODY_MAX);
				buf_init(&subj, 0);
				pending_text(&body, 0, c, it, link, branch);
				buf_printf(&subj, "Approval requested: %s "
				    "for %s", it->path, it->req.requester);
				queue(c, key, "pending", "email", buf_cstr(&to),
				    buf_cstr(&subj), buf_cstr(&body), 1);
				buf_release(&body);
				buf_release(&subj);
			}
			free(key);
			buf_release(&to);
		}
		free(link);
	}
}

/* One grant or revoke row of the audit log (columns as selected). */
struct arow {
	int64_t seq;
	const char *action, *platform, *account, *person, *target, *privilege;
	const char *request, *approvers, *expires_at, *reason, *detail;
};

static const char *
revoke_why(const struct arow *a)
{
	const char *r = a->reason ? a->reason : "";

	if (strcmp(r, "expired") == 0)
		return "the grant expired";
	if (strcmp(r, "withdrawn") == 0)
		return "the request was withdrawn";
	if (strcmp(r, "denied") == 0)
		return "policy no longer allows it";
	if (strcmp(r, "invalid") == 0)
		return "the request is no longer valid";
	if (strcmp(r, "drift") == 0)
		return a->request ? "it was removed outside accord" :
		    "it was not granted through accord";
	return r[0] ? r : "revoked";
}

/*
 * A grant row is either a new grant or the adoption of one already held
 * (apply.c: an extended request, or access that existed before a request
 * covered it); people see the second as an update.
 */
static const char *
grant_verb(const struct arow *a)
{
	if (strcmp(a->action, "revoke") == 0)
		return "revoked";
	return a->detail && strncmp(a->detail, "already held", 12) == 0 ?
	    "updated" : "granted";
}

static void
audit_text(struct buf *b, int slack, const struct nctx *c,
    const struct arow *a, int grant)
{
	const struct loaded_request *lr = snap_request(c->s, a->request);
	char *why = lr ? one_line(lr->req.reason) : NULL;
	char *link = a->request ? pr_link(c->nc, a->request, 0, NULL) : NULL;

	if (slack)
		put_fmt(b, 1, "Access %s for %s: %s on %s (%s)\n",
		    grant_verb(a), a->person, a->privilege, a->target,
		    a->platform);
	else if (strcmp(grant_verb(a), "updated") == 0)
		put_fmt(b, 0, "Hello %s,\n\nyour access is now held under "
		    "this request:\n\n", a->person);
	else
		put_fmt(b, 0, "Hello %s,\n\naccord %s access:\n\n", a->person,
		    grant ? "granted you" : "revoked your");
	put_fmt(b, slack, "Platform: %s\n", a->platform);
	if (a->account)
		put_fmt(b, slack, "Account: %s\n", a->account);
	put_fmt(b, slack, "Target: %s\nPrivilege: %s\n", a->target,
	    a->privilege);
	if (a->request)
		put_fmt(b, slack, "Request: %s\n", a->request);
	if (why && why[0])
		put_fmt(b, slack, "Reason: %s\n", why);
	if (grant && a->approvers && a->approvers[0])
		put_fmt(b, slack, "Approved by: %s\n", a->approvers);
	if (grant)
		put_fmt(b, slack, "Expires: %s\n", a->expires_at ?
		    a->expires_at : "never (no expiry)");
	else {
		put_fmt(b, slack, "Why: %s\n", revoke_why(a));
		if (a->expires_at)
			put_fmt(b, slack, "Expiry was: %s\n", a->expires_at);
	}
	if (link)
		put_fmt(b, slack, "Pull request: %s\n", link);
	if (grant && a->expires_at && !slack)
		buf_puts(b, "\nTo keep access past the expiry, extend the "
		    "request and have the change approved.\n");
	free(why);
	free(link);
}

static void
queue_audit_row(struct nctx *c, const struct arow *a)
{
	int grant = strcmp(a->action, "grant") == 0;
	enum notify_event e = grant ? NEV_GRANTED : NEV_REVOKED;
	const char *ev = notify_event_names[e];
	unsigned route = c->nc->events[e];
	struct buf body, subj;
	char *key;

	if (route & NOTIFY_EMAIL && is_mailbox(a->person)) {
		buf_init(&body, BODY_MAX);
		buf_init(&subj, 0);
		audit_text(&body, 0, c, a, grant);
		buf_printf(&subj, "Access %s: %s on %s (%s)", grant_verb(a),
		    a->privilege, a->target, a->platform);
		key = xasprintf("%s email %lld", ev, (long long)a->seq);
		queue(c, key, ev, "email", a->person, buf_cstr(&subj),
		    buf_cstr(&body), 0);
		free(key);
		buf_release(&body);
		buf_release(&subj);
	}
	if (route & NOTIFY_SLACK) {
		buf_init(&body, BODY_MAX);
		audit_text(&body, 1, c, a, grant);
		key = xasprintf("%s slack %lld", ev, (long long)a->seq);
		queue(c, key, ev, "slack", slack_recipient(c->nc), NULL,
		    buf_cstr(&body), 0);
		free(key);
		buf_release(&body);
	}
}

static const char *
col(sqlite3_stmt *q, int i)
{
	return (const char *)sqlite3_column_text(q, i);
}

/*
 * The grant and revoke rows after the cursor, then the cursor to the end
 * of the log.  Read-only SQL on the audit table through state_db(); the
 * caller's transaction makes the read and the cursor move one unit.
 */
static int
queue_audit(struct nctx *c, struct diag *err)
{
	sqlite3 *db = state_db(c->st);
	sqlite3_stmt *q = NULL;
	struct arow a;
	int64_t cursor, last = 0;
	int rc;

	if (outbox_cursor(c->st, &cursor, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(seq), 0) FROM audit",
	    -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
		diag_set(err, "sqlite: reading the audit log: %s",
		    sqlite3_errmsg(db));
		sqlite3_finalize(q);
		return -1;
	}
	last = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (last <= cursor)
		return last < cursor ? outbox_set_cursor(c->st, last, err) : 0;
	if ((c->nc->events[NEV_GRANTED] | c->nc->events[NEV_REVOKED]) == 0)
		return outbox_set_cursor(c->st, last, err);
	if (sqlite3_prepare_v2(db, "SELECT seq, action, platform, account, "
	    "person, target, privilege, request, approvers, expires_at, "
	    "reason, detail FROM audit WHERE seq > ?1 AND seq <= ?2 AND "
	    "action IN ('grant', 'revoke') AND person IS NOT NULL "
	    "ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
		diag_set(err, "sqlite: reading the audit log: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(q, 1, cursor);
	sqlite3_bind_int64(q, 2, last);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		a.seq = sqlite3_column_int64(q, 0);
		a.action = col(q, 1);
		a.platform = col(q, 2);
		a.account = col(q, 3);
		a.person = col(q, 4);
		a.target = col(q, 5);
		a.privilege = col(q, 6);
		a.request = col(q, 7);
		a.approvers = col(q, 8);
		a.expires_at = col(q, 9);
		a.reason = col(q, 10);
		a.detail = col(q, 11);
		if (a.platform == NULL || a.target == NULL ||
		    a.privilege == NULL)
			continue;
		queue_audit_row(c, &a);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return diag_set(err, "sqlite: reading the audit log: %s",
		    sqlite3_errmsg(db));
	return outbox_set_cursor(c->st, last, err);
}

static void
expiring_text(struct buf *b, int slack, const struct nctx *c,
    const struct sgrant *g)
{
	const struct loaded_request *lr = snap_request(c->s, g->request);
	char *why = lr ? one_line(lr->req.reason) : NULL;
	char t[TIME_STR_MAX], in[32];

	time_format(t, sizeof(t), g->expires_at);
	fmt_in(in, sizeof(in), g->expires_at - c->now);
	if (slack)
		put_fmt(b, 1, "Access expiring for %s: %s on %s (%s)\n",
		    g->person, g->privilege, g->target, g->platform);
	else
		put_fmt(b, 0, "Hello %s,\n\nyour access expires in %s:\n\n",
		    g->person, in);
	put_fmt(b, slack, "Platform: %s\nAccount: %s\nTarget: %s\n"
	    "Privilege: %s\n", g->platform, g->account, g->target,
	    g->privilege);
	if (g->request)
		put_fmt(b, slack, "Request: %s\n", g->request);
	if (why && why[0])
		put_fmt(b, slack, "Reason: %s\n", why);
	put_fmt(b, slack, "Expires: %s (in %s)\n", t, in);
	put_fmt(b, slack, "\nTo keep it, extend %s (duration or expires) "
	    "and have the change approved; otherwise accord revokes it "
	    "then.\n", g->request ? g->request : "the request");
	free(why);
}

static void
queue_expiring(struct nctx *c)
{
	unsigned route = c->nc->events[NEV_EXPIRING];
	struct buf body, subj;
	struct diag err;
	char *id, *key;
	size_t i;

	if (route == 0)
		return;
	if (state_grants_load(c->st, &c->sg, &c->nsg, &err) == -1) {
		log_warn("notify: %s", err.msg);
		return;
	}
	c->have_grants = 1;
	for (i = 0; i < c->nsg; i++) {
		const struct sgrant *g = &c->sg[i];
		int64_t from = g->expires_at - NOTIFY_EXPIRING_AHEAD;

		/* §12: once per grant, at the first run with now at or
		 * after expires_at - 3d (a short grant gets it at once). */
		if (g->expires_at == 0 || g->person == NULL ||
		    c->now < from || c->now >= g->expires_at)
			continue;
		id = xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%lld", g->platform,
		    g->account, g->target, g->privilege,
		    (long long)g->expires_at);
		if (route & NOTIFY_EMAIL && is_mailbox(g->person)) {
			buf_init(&body, BODY_MAX);
			buf_init(&subj, 0);
			expiring_text(&body, 0, c, g);
			buf_printf(&subj, "Access expiring: %s on %s (%s)",
			    g->privilege, g->target, g->platform);
			key = xasprintf("expiring email %s", id);
			queue(c, key, "expiring", "email", g->person,
			    buf_cstr(&subj), buf_cstr(&body), 1);
			free(key);
			buf_release(&body);
			buf_release(&subj);
		}
		if (route & NOTIFY_SLACK) {
			buf_init(&body, BODY_MAX);
			expiring_text(&body, 1, c, g);
			key = xasprintf("expiring slack %s", id);
			queue(c, key, "expiring", "slack",
			    slack_recipient(c->nc), NULL, buf_cstr(&body), 1);
			free(key);
			buf_release(&body);
		}
		free(id);
	}
}

/* --- delivery ------------------------------------------------------------ */

static int
slack_ready(struct nctx *c, struct diag *err)
{
	const struct notify_slack *sl = &c->nc->slack;
	struct slack_opts o;
	const char *var = sl->token_env ? sl->token_env : sl->webhook_env;
	const char *secret = var ? getenv(var) : NULL;

	if (c->slack_state == 1)
		return 0;
	if (c->slack_state == 0) {
		memset(&o, 0, sizeof(o));
		o.api_url = sl->api_url;
		o.ca_file = sl->ca_file;
		o.max_wait_ms = slack_wait_left(c->slack_waited);
		if (secret == NULL || secret[0] == '\0')
			diag_set(&c->slack_err, "notify.slack.%s names %s, "
			    "which is not set", sl->token_env ? "token_env" :
			    "webhook_env", var ? var : "nothing");
		else {
			if (sl->token_env)
				o.token = secret;
			else
				o.webhook_url = secret;
			if (slack_open(&c->slack, &o, &c->slack_err) == 0) {
				c->slack_state = 1;
				return 0;
			}
		}
		c->slack_state = -1;
	}
	*err = c->slack_err;
	return -1;
}

/* "pending slack PATH BLOB": the version a posted message stands for. */
static int
key_version(const char *key, char **path, char blob[41])
{
	const char *p = key + strlen("pending slack "), *sp = strrchr(key, ' ');

	if (strncmp(key, "pending slack ", 14) != 0 || sp == NULL || sp < p ||
	    strlen(sp + 1) != 40)
		return -1;
	memcpy(blob, sp + 1, 41);
	*path = xstrndup(p, (size_t)(sp - p));
	return 0;
}

static int
deliver_slack(struct nctx *c, const struct outbox_msg *m, struct diag *err)
{
	struct posted p;
	struct diag e2;
	char *ts = NULL, *chan = NULL;
	int rc;

	if (slack_ready(c, err) == -1)
		return -1;
	if (c->nc->slack.token_env == NULL)
		return slack_webhook(c->slack, m->body, err) == -1 ? -1 : 1;
	if (slack_post(c->slack, m->recipients, m->body, &ts, &chan, err) == -1)
		return -1;
	memset(&p, 0, sizeof(p));
	rc = 1;
	if (strcmp(m->event, "pending") == 0 &&
	    key_version(m->key, &p.path, p.blob) == 0) {
		/* The message and the fact that it was sent, in one unit:
		 * approval by reaction reads it back. */
		p.channel = chan ? chan : m->recipients;
		p.ts = ts;
		p.posted_at = c->now;
		if (state_begin(c->st, &e2) == -1 ||
		    outbox_posted_add(c->st, &p, &e2) == -1 ||
		    outbox_result(c->st, m->key, c->now, NULL, &e2) == -1 ||
		    state_commit(c->st, &e2) == -1) {
			state_rollback(c->st);
			/* Never post it twice: settle the message even
			 * though approval by reaction will not see it. */
			if (outbox_result(c->st, m->key, c->now, NULL,
			    &e2) == -1)
				log_warn("notify: %s was posted but could not "
				    "be recorded as sent: %s", m->key, e2.msg);
			else
				log_warn("notify: %s was posted, but its "
				    "message could not be recorded, so "
				    "reactions to it will not be read",
				    m->key);
		}
		rc = 2;		/* recorded already */
		p.channel = NULL;
		p.ts = NULL;
		posted_release(&p);
	}
	free(ts);
	free(chan);
	return rc;
}

static int
deliver_email(struct nctx *c, const struct outbox_msg *m, struct diag *err)
{
	const struct notify_email *em = &c->nc->email;
	struct smtp_opts o;
	struct smtp_mail mail;
	char **to = NULL, *list, *p, *tok;
	size_t nto = 0, ato = 0;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	o.url = em->smtp_url;
	o.from = em->from;
	o.ca_file = em->ca_file;
	if (em->password_env) {
		o.password = getenv(em->password_env);
		if (o.password == NULL || o.password[0] == '\0')
			return diag_set(err, "notify.email.password_env names "
			    "%s, which is not set", em->password_env);
		o.username = em->from;
		if (em->username_env) {
			o.username = getenv(em->username_env);
			if (o.username == NULL || o.username[0] == '\0')
				return diag_set(err, "notify.email."
				    "username_env names %s, which is not set",
				    em->username_env);
		}
	}
	list = xstrdup(m->recipients);
	for (tok = list; tok; tok = p) {
		if ((p = strchr(tok, ',')) != NULL)
			*p++ = '\0';
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		to = xgrow(to, sizeof(*to), nto, &ato);
		to[nto++] = tok;
	}
	if (nto == 0) {
		diag_set(err, "no recipient");
		goto out;
	}
	memset(&mail, 0, sizeof(mail));
	mail.to = to;
	mail.nto = nto;
	mail.subject = m->subject ? m->subject : "accord";
	mail.body = m->body;
	rc = smtp_send(&o, &mail, c->now, err) == -1 ? -1 : 1;
out:
	free(to);
	free(list);
	return rc;
}

/* Does this run's config still route the event to the message's channel,
 * and is the event still current? */
static const char *
obsolete(const struct nctx *c, const struct outbox_msg *m, int ch)
{
	size_t i, v;

	if ((ch == CH_SLACK && !c->nc->have_slack) ||
	    (ch == CH_EMAIL && !c->nc->have_email))
		return "its destination is no longer configured";
	for (i = 0; i < NEV_COUNT; i++)
		if (strcmp(m->event, notify_event_names[i]) == 0)
			break;
	if (i < NEV_COUNT && !(c->nc->events[i] &
	    (ch == CH_SLACK ? NOTIFY_SLACK : NOTIFY_EMAIL)))
		return "notify.events no longer sends it there";
	if (i == NEV_PENDING && c->have_inbox &&
	    !strmap_get(&c->live, m->key, &v))
		return "the request version is no longer pending";
	if (i == NEV_EXPIRING && c->have_grants &&
	    !strmap_get(&c->live, m->key, &v))
		return "the grant is no longer about to expire";
	return NULL;
}

static void
settle(struct nctx *c, const struct outbox_msg *m, const char *error)
{
	struct diag err;

	if (outbox_result(c->st, m->key, c->now, error, &err) == -1)
		log_warn("notify: %s", err.msg);
}

static void
deliver(struct nctx *c)
{
	struct outbox_msg *v = NULL;
	struct diag err;
	const char *why;
	size_t n = 0, i;
	int ch, rc;

	if (outbox_owed(c->st, &v, &n, &err) == -1) {
		log_warn("notify: %s", err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		const struct outbox_msg *m = &v[i];

		ch = strcmp(m->channel, "slack") == 0 ? CH_SLACK : CH_EMAIL;
		if ((why = obsolete(c, m, ch)) != NULL) {
			log_info("notify: not sending %s %s to %s: %s",
			    m->event, m->channel, m->recipients, why);
			settle(c, m, NULL);
			c->stats->dropped++;
			continue;
		}
		if (c->fails[ch] >= FAILS_MAX) {
			c->postponed[ch]++;
			c->stats->postponed++;
			continue;
		}
		diag_clear(&err);
		rc = ch == CH_SLACK ? deliver_slack(c, m, &err) :
		    deliver_email(c, m, &err);
		if (rc == -1) {
			c->fails[ch]++;
			c->stats->failed++;
			log_warn("notify: %s %s to %s not delivered, retried "
			    "next run: %s", m->event, m->channel,
			    m->recipients, err.msg);
			settle(c, m, err.msg);
			continue;
		}
		c->fails[ch] = 0;
		c->stats->sent++;
		if (rc == 1)
			settle(c, m, NULL);
	}
	for (ch = CH_SLACK; ch <= CH_EMAIL; ch++)
		if (c->postponed[ch])
			log_warn("notify: %zu more %s notifications left for "
			    "the next run after %d failures in a row",
			    c->postponed[ch], ch == CH_SLACK ? "slack" :
			    "email", FAILS_MAX);
	outbox_msgs_free(v, n);
}

/* --- the step --------------------------------------------------------- */

void
notify_run(struct state *st, struct repo *r, const struct snapshot *s,
    int64_t now, int64_t *slack_waited, struct notify_stats *stats)
{
	struct notify_stats mine;
	struct nctx c;
	struct diag err;
	static const struct notify_cfg off;

	memset(&mine, 0, sizeof(mine));
	if (stats == NULL)
		stats = &mine;
	memset(stats, 0, sizeof(*stats));
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.repo = r;
	c.s = s;
	c.nc = s->have_cfg ? &s->cfg.notify_cfg : &off;
	c.now = now;
	c.stats = stats;
	c.slack_waited = slack_waited ? *slack_waited : 0;

	/* Only the parts of the run that read from state and git; the
	 * network comes after the commit. */
	if (state_begin(st, &err) == -1) {
		log_warn("notify: %s", err.msg);
		return;
	}
	if (c.nc->enabled) {
		queue_pending(&c);
		queue_expiring(&c);
	}
	if (queue_audit(&c, &err) == -1) {
		state_rollback(st);
		log_warn("notify: %s", err.msg);
		stats->queued = 0;
		goto out;
	}
	if (state_commit(st, &err) == -1) {
		state_rollback(st);
		log_warn("notify: %s", err.msg);
		stats->queued = 0;
		goto out;
	}
	if (c.nc->enabled)
		deliver(&c);
	log_info("notify: %zu queued, %zu sent, %zu failed, %zu postponed, "
	    "%zu dropped", stats->queued, stats->sent, stats->failed,
	    stats->postponed, stats->dropped);
out:
	if (slack_waited != NULL)
		*slack_waited += slack_waited_ms(c.slack);
	slack_free(c.slack);
	inbox_free(c.items, c.nitems);
	sgrants_free(c.sg, c.nsg);
	strmap_release(&c.live);
}
