/*
 * Approval by reaction (DESIGN §12).  For every Slack message accord
 * posted for a pending request version that is still pending, read who
 * reacted with the approve emoji, map them to emails, keep only the
 * people the item's rules accept as approvers (the requester never
 * counts unless the rule allows self-approval), and when every allowed
 * grant has its approvals, merge the request into the branch (merge.c)
 * and push it.  Slack is only a way to collect approvals: the approvals
 * themselves land in git as the merge author and Approved-by trailers,
 * and the run reads them from there like any other merge (§3).
 *
 * Nothing here fails the run for Slack's sake: an error from Slack, a
 * conflict or a refused push is reported on stderr and the message
 * stays open, so the next run tries again.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "merge.h"
#include "outbox.h"
#include "reaction.h"
#include "run.h"
#include "slack.h"
#include "strmap.h"
#include "util.h"

/* Slack user id -> email, looked up once per run. */
struct user_cache {
	struct strmap idx;	/* user id -> index into emails */
	char **emails;		/* NULL: no usable email */
	char **names;		/* Slack real name, NULL: none or unusable */
	size_t n, alloc, nalloc;
};

static void
user_cache_release(struct user_cache *c)
{
	strmap_release(&c->idx);
	strv_free(c->emails, c->n);
	strv_free(c->names, c->n);
	memset(c, 0, sizeof(*c));
}

/* An address we can write into a trailer and compare against policy:
 * one token with an @, no spaces, brackets or control characters. */
static int
email_usable(const char *e)
{
	const unsigned char *p;
	const char *at = strchr(e, '@');

	if (at == NULL || at == e || at[1] == '\0' || strlen(e) > 254)
		return 0;
	for (p = (const unsigned char *)e; *p; p++)
		if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f ||
		    *p == ',' || *p == '"')
			return 0;
	return 1;
}

/* The Slack real name of the user whose email is `email`, or NULL. */
static const char *
user_name(const struct user_cache *c, const char *email)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->emails[i] != NULL && strcmp(c->emails[i], email) == 0)
			return c->names[i];
	return NULL;
}

/* The email of Slack user `uid`: 0 with *email (borrowed, NULL when the
 * profile has none), -1 on a Slack error (err set). */
static int
user_email(struct slack *sl, struct user_cache *c, const char *uid,
    const char **email, struct diag *err)
{
	struct slack_user u;
	char *e = NULL, *name = NULL, *p;
	size_t i;

	if (strmap_get(&c->idx, uid, &i)) {
		*email = c->emails[i];
		return 0;
	}
	memset(&u, 0, sizeof(u));
	if (slack_user_info(sl, uid, &u, err) == -1)
		return -1;
	/* A bot or a deactivated account approves nothing. */
	if (!u.is_bot && !u.deleted) {
		e = u.email;
		u.email = NULL;
		name = u.real_name;
		u.real_name = NULL;
	}
	slack_user_release(&u);
	/* A name becomes a git signature and a trailer: no brackets or
	 * control characters, else the email's local part stands in. */
	for (p = name; p && *p; p++)
		if ((unsigned char)*p < ' ' || *p == '<' || *p == '>') {
			free(name);
			name = NULL;
			break;
		}
	if (e && !email_usable(e)) {
		log_warn("approval by reaction: Slack user %s has an email "
		    "address accord cannot use; ignoring their reaction", uid);
		free(e);
		e = NULL;
	}
	for (p = e; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	c->emails = xgrow(c->emails, sizeof(*c->emails), c->n, &c->alloc);
	c->names = xgrow(c->names, sizeof(*c->names), c->n, &c->nalloc);
	c->emails[c->n] = e;
	c->names[c->n] = e ? name : NULL;
	if (e == NULL)
		free(name);
	strmap_put(&c->idx, uid, c->n);
	c->n++;
	*email = e;
	return 0;
}

static int
grant_allowed(const struct grant_eval *ev)
{
	return ev->status != GS_DENIED && ev->rule != NULL && !ev->rule->deny;
}

/* Does the rule accept `who` as one of its approvers for requester? */
static int
rule_accepts(const struct rule *ru, const struct config *cfg,
    const char *requester, const char *who)
{
	size_t i;

	if (!ru->self_approval && str_eq_ci(who, requester))
		return 0;
	for (i = 0; i < ru->nsteps; i++)
		if (config_person_matches(cfg, ru->steps[i].from,
		    ru->steps[i].nfrom, who))
			return 1;
	return 0;
}

/* May `who` approve at least one allowed grant of the item? */
static int
item_accepts(const struct snapshot *s, const struct inbox_item *it,
    const char *who)
{
	size_t j;

	for (j = 0; j < it->req.ngrants; j++)
		if (grant_allowed(&it->ev[j]) && rule_accepts(it->ev[j].rule,
		    &s->cfg, it->req.requester, who))
			return 1;
	return 0;
}

/* Do the approvers satisfy every allowed grant (and is there one)? */
static int
item_approved(const struct snapshot *s, const struct inbox_item *it,
    char *const *approvers, size_t n)
{
	size_t j, allowed = 0;

	for (j = 0; j < it->req.ngrants; j++) {
		if (!grant_allowed(&it->ev[j]))
			continue;
		allowed++;
		if (policy_missing_approvals(it->ev[j].rule, &s->cfg,
		    it->req.requester, approvers, n) != 0)
			return 0;
	}
	return allowed > 0;
}

static const struct inbox_item *
find_item(const struct inbox_item *v, size_t n, const struct posted *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].path, p->path) == 0 &&
		    strcmp(v[i].blob, p->blob) == 0)
			return &v[i];
	return NULL;
}

/* The local branch the run reconciles, as a full ref name, or NULL. */
static char *
branch_ref(struct repo *r, const struct snapshot *s)
{
	char id[41], *full;
	struct diag ignore;

	if (strncmp(s->ref, "refs/heads/", 11) == 0)
		return xstrdup(s->ref);
	full = xasprintf("refs/heads/%s", s->ref);
	if (repo_resolve(r, full, id, &ignore) == 0 &&
	    strcmp(id, s->commit) == 0)
		return full;
	free(full);
	return NULL;
}

struct run_ctx {
	struct repo *r;
	struct state *st;
	const struct snapshot *s;
	struct slack *sl;
	struct user_cache users;
	const char *emoji, *remote, *branch, *from;
	char tip[41];		/* the branch tip, moved by each merge */
	int64_t now;
};

/*
 * One posted message.  Returns 1 when it merged, 0 when not (reported
 * on stderr when something went wrong), -1 when the state database
 * failed (err set).
 */
static int
one(struct run_ctx *c, const struct posted *p, const struct inbox_item *it,
    struct diag *err)
{
	struct merge_req m;
	struct diag e;
	char **users = NULL, **appr = NULL, *msg = NULL, *author = NULL;
	char **names = NULL;	/* borrowed from c->users */
	char id[41];
	const char *email;
	size_t nusers = 0, nappr = 0, i, k;
	int rc = 0, mr;

	if (slack_reactions(c->sl, p->channel, p->ts, c->emoji, &users,
	    &nusers, &e) == -1) {
		log_warn("approval by reaction: %s: reading reactions: %s; "
		    "trying again next run", p->path, e.msg);
		goto out;
	}
	appr = xcalloc(nusers + 1, sizeof(*appr));
	for (i = 0; i < nusers; i++) {
		if (user_email(c->sl, &c->users, users[i], &email, &e) == -1) {
			log_warn("approval by reaction: %s: looking up Slack "
			    "user %s: %s; trying again next run", p->path,
			    users[i], e.msg);
			goto out;
		}
		if (email == NULL) {
			log_info("approval by reaction: %s: Slack user %s has "
			    "no email, reaction ignored", p->path, users[i]);
			continue;
		}
		if (!item_accepts(c->s, it, email)) {
			log_info("approval by reaction: %s: %s may not approve "
			    "it, reaction ignored", p->path, email);
			continue;
		}
		for (k = 0; k < nappr; k++)
			if (strcmp(appr[k], email) == 0)
				break;
		if (k == nappr)
			appr[nappr++] = xstrdup(email);
	}
	if (nappr == 0 || !item_approved(c->s, it, appr, nappr)) {
		log_info("approval by reaction: %s: %zu accepted reaction%s, "
		    "not enough yet", p->path, nappr, nappr == 1 ? "" : "s");
		goto out;
	}
	names = xcalloc(nappr, sizeof(*names));
	for (k = 0; k < nappr; k++)
		names[k] = (char *)user_name(&c->users, appr[k]);
	msg = merge_message(p->path, names, appr, nappr);
	author = names[0] ? xstrdup(names[0]) : email_local(appr[0]);
	memset(&m, 0, sizeof(m));
	m.branch = c->branch;
	m.tip = c->tip;
	m.theirs = it->commit;
	m.only_path = it->path;
	m.only_blob = it->blob;
	m.message = msg;
	m.author.name = author;
	m.author.email = appr[0];
	m.committer.name = "accord";
	m.committer.email = c->from;
	m.when = c->now;
	m.remote = c->remote;
	mr = merge_run(c->r, &m, id, &e);
	if (mr != MERGE_DONE) {
		k = strlen(e.msg);	/* libgit2's messages end in a period */
		if (k && e.msg[k - 1] == '.')
			e.msg[k - 1] = '\0';
		log_warn("approval by reaction: %s: %s%s", p->path, e.msg,
		    mr == MERGE_CONFLICT || mr == MERGE_SCOPE ?
		    "; merge it by hand" :
		    "; trying again next run");
		goto out;
	}
	memcpy(c->tip, id, sizeof(c->tip));
	rc = 1;
	log_info("approval by reaction: merged %s as %.12s and pushed %s to %s",
	    p->path, id, c->branch, c->remote);
	if (outbox_posted_merged(c->st, p->path, p->blob, id, c->now,
	    err) == -1)
		rc = -1;
out:
	strv_free(users, nusers);
	strv_free(appr, nappr);
	free(msg);
	free(author);
	free(names);
	return rc;
}

int
reaction_run(struct repo *r, struct state *st, const struct opts *o,
    int64_t now, int64_t *slack_waited, int *merged, struct diag *err)
{
	struct posted *posted = NULL;
	struct inbox_item *items = NULL;
	struct snapshot snap;
	struct slack_opts so;
	struct run_ctx c;
	const struct notify_cfg *nc;
	const struct inbox_item *it;
	const char *token;
	size_t nposted = 0, nitems = 0, i;
	int rc = -1, have_snap = 0, k;

	*merged = 0;
	memset(&c, 0, sizeof(c));
	if (outbox_posted_open(st, &posted, &nposted, err) == -1) {
		diag_prefix(err, "approval by reaction");
		return -1;
	}
	if (nposted == 0) {
		rc = 0;
		goto out;
	}
	rc = 0;
	if (snapshot_load(&snap, r, o->ref, st, now, NULL, err) == -1) {
		/* The run's own load reports this; nothing to add. */
		log_info("approval by reaction: %s", err->msg);
		goto out;
	}
	have_snap = 1;
	nc = &snap.cfg.notify_cfg;
	if (!nc->have_slack || nc->slack.token_env == NULL)
		goto out;	/* no Slack API, nothing to read back */
	token = getenv(nc->slack.token_env);
	if (token == NULL || *token == '\0') {
		log_warn("approval by reaction: $%s is not set; reactions are "
		    "not read", nc->slack.token_env);
		goto out;
	}
	if ((c.branch = branch_ref(r, &snap)) == NULL) {
		log_warn("approval by reaction: %s is not a local branch; "
		    "nothing is merged", snap.ref);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.api_url = nc->slack.api_url;
	so.token = token;
	so.ca_file = nc->slack.ca_file;
	so.max_wait_ms = slack_wait_left(slack_waited ? *slack_waited : 0);
	if (slack_open(&c.sl, &so, err) == -1) {
		log_warn("approval by reaction: %s", err->msg);
		goto out;
	}
	if (inbox_collect(r, &snap, &items, &nitems, err) == -1) {
		diag_prefix(err, "approval by reaction");
		rc = -1;
		goto out;
	}
	c.r = r;
	c.st = st;
	c.s = &snap;
	c.now = now;
	c.emoji = nc->slack.approve_emoji ? nc->slack.approve_emoji :
	    "white_check_mark";
	c.remote = nc->slack.push_remote ? nc->slack.push_remote : "origin";
	c.from = nc->have_email && nc->email.from ? nc->email.from :
	    "accord@localhost";
	memcpy(c.tip, snap.commit, sizeof(c.tip));
	for (i = 0; i < nposted; i++) {
		it = find_item(items, nitems, &posted[i]);
		if (it == NULL || !it->valid)
			continue;	/* merged, edited or withdrawn meanwhile */
		k = one(&c, &posted[i], it, err);
		if (k == 1)
			(*merged)++;
		if (k == -1) {
			rc = -1;
			break;
		}
	}
out:
	if (slack_waited != NULL)
		*slack_waited += slack_waited_ms(c.sl);
	user_cache_release(&c.users);
	slack_free(c.sl);
	free((char *)c.branch);
	inbox_free(items, nitems);
	if (have_snap)
		snapshot_release(&snap);
	posted_free(posted, nposted);
	return rc;
}
