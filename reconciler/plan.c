/*
 * Ingest and plan (DESIGN §4 steps 3-4).  Platforms are ingested in
 * parallel, one thread each; a platform whose ingest fails is skipped
 * whole.  The plan joins three sets keyed by (account, target,
 * privilege) per platform: desired (active grants of valid requests),
 * actual (what the platform holds on managed targets) and recorded (what
 * accord granted), and gives every change its reason (§13).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "answers.h"
#include "run.h"
#include "state.h"
#include "strmap.h"
#include "util.h"

const char *const change_action_names[] = { "grant", "revoke", "adopt", "forget" };
const char *const change_reason_names[] = {
	"request", "expired", "withdrawn", "denied", "drift", "invalid"
};

struct change *
plan_add(struct plan *p, enum change_action a, enum change_reason r)
{
	struct change *c;

	p->changes = xgrow(p->changes, sizeof(*p->changes), p->n, &p->alloc);
	c = &p->changes[p->n++];
	memset(c, 0, sizeof(*c));
	c->action = a;
	c->reason = r;
	if (a == CH_GRANT)
		p->ngrant++;
	else if (a == CH_REVOKE)
		p->nrevoke++;
	return c;
}

void
plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct change *c = &p->changes[i];
		free(c->platform); free(c->account); free(c->person);
		free(c->target); free(c->privilege); free(c->request);
		free(c->blob); free(c->commit); free(c->approvers);
		free(c->rule); free(c->requester); free(c->error); free(c->detail);
	}
	for (i = 0; i < p->ndrift; i++) {
		free(p->drift[i].platform); free(p->drift[i].account);
		free(p->drift[i].target); free(p->drift[i].privilege);
	}
	for (i = 0; i < p->nskipped; i++) {
		free(p->skipped[i].platform);
		free(p->skipped[i].error);
	}
	for (i = 0; i < p->npending; i++) {
		free(p->pending[i].request); free(p->pending[i].platform);
		free(p->pending[i].target); free(p->pending[i].privilege);
		free(p->pending[i].why);
	}
	free(p->changes);
	free(p->drift);
	free(p->skipped);
	free(p->pending);
	memset(p, 0, sizeof(*p));
}

/* --- ingest --- */

static void *
ingest_one(void *arg)
{
	struct platform_run *pr = arg;
	struct connector_cfg cc;

	memset(&cc, 0, sizeof(cc));
	cc.name = pr->cfg->name;
	cc.type = pr->cfg->type;
	cc.config_path = "accord.yaml";
	cc.node = pr->cfg->node;
	cc.managed = pr->cfg->managed;
	cc.nmanaged = pr->cfg->nmanaged;
	cc.targets = pr->targets;
	cc.ntargets = pr->ntargets;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	log_debug("%s: %s open", cc.name, cc.type);
	if (pr->desc->ops->open(&pr->conn, &cc, &pr->err) == -1) {
		log_debug("%s: open failed: %s", cc.name, pr->err.msg);
		pr->conn = NULL;
		return NULL;
	}
	if (pr->desc->ops->ingest(pr->conn, &pr->in, &pr->err) == -1) {
		log_debug("%s: ingest failed: %s", cc.name, pr->err.msg);
		ingest_release(&pr->in);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("%s: ingest: %zu identities, %zu grants in %.0f ms", cc.name,
	    pr->in.nidents, pr->in.ngrants, (double)(t1.tv_sec - t0.tv_sec) *
	    1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	pr->ok = 1;
	return NULL;
}

/* People the snapshot knows by email: requesters, group members and
 * accounts.map keys (no globs). */
static void
known_people(const struct snapshot *s, struct strmap *people)
{
	size_t i, j;

	for (i = 0; i < s->nreqs; i++)
		if (s->reqs[i].valid)
			strmap_put(people, s->reqs[i].req.requester, 0);
	for (i = 0; i < s->cfg.ngroups; i++)
		for (j = 0; j < s->cfg.groups[i].n; j++)
			if (!has_glob(s->cfg.groups[i].members[j]))
				strmap_put(people, s->cfg.groups[i].members[j], 0);
	for (i = 0; i < s->cfg.nplatforms; i++)
		for (j = 0; j < s->cfg.platforms[i].nmap; j++)
			strmap_put(people, s->cfg.platforms[i].map[j].person, 0);
}

static char *
lower(const char *s)
{
	char *l = xstrdup(s), *p;

	for (p = l; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

/* Index user identities so that resolving a person is O(1). */
void
platform_index(struct platform_run *pr)
{
	size_t i;
	char *k;

	for (i = 0; i < pr->in.nidents; i++) {
		const struct ident *id = &pr->in.idents[i];
		if (id->kind != ACCT_USER)
			continue;
		k = lower(id->name);
		if (!strmap_get(&pr->byname, k, NULL))
			strmap_put(&pr->byname, k, i);
		free(k);
		if (id->email) {
			k = lower(id->email);
			if (!strmap_get(&pr->byemail, k, NULL))
				strmap_put(&pr->byemail, k, i);
			free(k);
		}
	}
}

/* Index into pr->in.idents of the person's account; 1 found, 0 not. */
static int
account_index(const struct platform_run *pr, const char *person, size_t *idx)
{
	const struct platform_cfg *p = pr->cfg;
	const char *acct = NULL;
	char *k = NULL;
	size_t i, v;
	int found = 0;

	switch (p->match) {
	case MATCH_MAP:
		for (i = 0; i < p->nmap && acct == NULL; i++)
			if (str_eq_ci(p->map[i].person, person))
				acct = p->map[i].account;
		if (acct == NULL)
			return 0;
		/* the mapped account must exist on the platform, exactly */
		k = lower(acct);
		found = strmap_get(&pr->byname, k, &v) &&
		    strcmp(pr->in.idents[v].name, acct) == 0;
		break;
	case MATCH_EMAIL:
		k = lower(person);
		found = strmap_get(&pr->byemail, k, &v) ||
		    strmap_get(&pr->byname, k, &v);
		break;
	case MATCH_EMAIL_LOCAL: {
		char *local = email_local(person);
		k = lower(local);
		free(local);
		found = strmap_get(&pr->byname, k, &v);
		break;
	}
	}
	free(k);
	if (found)
		*idx = v;
	return found;
}

const char *
platform_account(const struct platform_run *pr, const char *person)
{
	size_t i;

	return account_index(pr, person, &i) ? pr->in.idents[i].name : NULL;
}

char *
stored_account(const struct identities *ids, const struct platform_cfg *pc,
    const char *platform, const char *person, int *any)
{
	struct platform_run pr;
	const char *found;
	char *acct;
	size_t i;

	*any = 0;
	for (i = 0; i < ids->n; i++) {
		const struct identity *id = &ids->v[i];
		if (id->platform == NULL || strcmp(id->platform, platform) ||
		    id->account == NULL)
			continue;
		*any = 1;
		if (id->person && str_eq_ci(id->person, person))
			return xstrdup(id->account);
	}
	if (pc == NULL || !*any)
		return NULL;
	memset(&pr, 0, sizeof(pr));
	pr.cfg = pc;
	for (i = 0; i < ids->n; i++) {
		const struct identity *id = &ids->v[i];
		if (id->platform && strcmp(id->platform, platform) == 0 &&
		    id->account && id->kind && strcmp(id->kind, "user") == 0)
			ingest_add_ident(&pr.in, id->account, id->email, NULL,
			    ACCT_USER);
	}
	platform_index(&pr);
	found = platform_account(&pr, person);
	acct = found ? xstrdup(found) : NULL;
	strmap_release(&pr.byname);
	strmap_release(&pr.byemail);
	ingest_release(&pr.in);
	return acct;
}

static void
resolve_persons(struct platform_run *pr, const struct strmap *people)
{
	size_t i, k;

	pr->persons = xcalloc(pr->in.nidents ? pr->in.nidents : 1,
	    sizeof(*pr->persons));
	for (i = 0; i < people->cap; i++)
		if (people->keys[i] && account_index(pr, people->keys[i], &k) &&
		    !pr->persons[k])
			pr->persons[k] = xstrdup(people->keys[i]);
}

void
platforms_ingest(struct platform_run **out, size_t *n, const struct snapshot *s)
{
	struct platform_run *pr;
	struct strmap people = STRMAP_INIT, seen;
	pthread_t *th;
	int *started;
	size_t i, j, k;

	pr = xcalloc(s->cfg.nplatforms ? s->cfg.nplatforms : 1, sizeof(*pr));
	th = xcalloc(s->cfg.nplatforms ? s->cfg.nplatforms : 1, sizeof(*th));
	started = xcalloc(s->cfg.nplatforms ? s->cfg.nplatforms : 1,
	    sizeof(*started));
	for (i = 0; i < s->cfg.nplatforms; i++) {
		pr[i].cfg = &s->cfg.platforms[i];
		pr[i].desc = connector_find(pr[i].cfg->type);
		memset(&seen, 0, sizeof(seen));
		for (j = 0; j < s->nreqs; j++) {
			const struct request *r = &s->reqs[j].req;
			if (!s->reqs[j].valid)
				continue;
			for (k = 0; k < r->ngrants; k++) {
				if (strcmp(r->grants[k].platform, pr[i].cfg->name) ||
				    strmap_get(&seen, r->grants[k].target, NULL))
					continue;
				strmap_put(&seen, r->grants[k].target, 0);
				pr[i].targets = xrealloc(pr[i].targets,
				    (pr[i].ntargets + 1) * sizeof(char *));
				pr[i].targets[pr[i].ntargets++] =
				    xstrdup(r->grants[k].target);
			}
		}
		strmap_release(&seen);
		if (pr[i].desc == NULL) {
			diag_set(&pr[i].err, "no connector for type '%s'",
			    pr[i].cfg->type);
			continue;
		}
		started[i] = pthread_create(&th[i], NULL, ingest_one, &pr[i]) == 0;
		if (!started[i])
			ingest_one(&pr[i]);
	}
	for (i = 0; i < s->cfg.nplatforms; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	known_people(s, &people);
	for (i = 0; i < s->cfg.nplatforms; i++)
		if (pr[i].ok) {
			platform_index(&pr[i]);
			resolve_persons(&pr[i], &people);
		}
	strmap_release(&people);
	free(th);
	free(started);
	*out = pr;
	*n = s->cfg.nplatforms;
}

void
platforms_close(struct platform_run *pr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (pr[i].conn)
			pr[i].desc->ops->close(pr[i].conn);
		if (pr[i].persons)
			strv_free(pr[i].persons, pr[i].in.nidents);
		strv_free(pr[i].targets, pr[i].ntargets);
		strmap_release(&pr[i].byname);
		strmap_release(&pr[i].byemail);
		ingest_release(&pr[i].in);
	}
	free(pr);
}

/* --- plan --- */

static char *
gkey(const char *account, const char *target, const char *privilege)
{
	return xasprintf("%s\x1f%s\x1f%s", account, target, privilege);
}

/* A desired grant and where it comes from. */
struct want {
	const struct loaded_request *lr;
	size_t gi;
	const char *account;	/* borrowed */
	int64_t expires_at;
};

static char *
join_approvers(char *const *v, size_t n)
{
	struct buf b;
	size_t i;

	if (n == 0)
		return NULL;
	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", v[i]);
	return buf_detach(&b);
}

static void
fill_from_want(struct change *c, const struct platform_run *pr,
    const struct want *w)
{
	const struct request *r = &w->lr->req;
	const struct grant_req *g = &r->grants[w->gi];
	const struct grant_eval *ev = &w->lr->ev[w->gi];

	c->platform = xstrdup(pr->cfg->name);
	c->account = xstrdup(w->account);
	c->person = g->grantee ? NULL : xstrdup(r->requester);
	c->target = xstrdup(g->target);
	c->privilege = xstrdup(g->privilege);
	c->request = xstrdup(r->path);
	c->blob = xstrdup(w->lr->entry.blob);
	c->commit = xstrdup(w->lr->appr.commit);
	c->approvers = join_approvers(ev->approvers, ev->napprovers);
	c->requester = xstrdup(r->requester);
	if (ev->rule != NULL)
		c->rule = xasprintf("%s#%d", ev->rule->file, ev->rule->index);
	c->approved_at = w->lr->appr.approved_at;
	c->expires_at = ev->expires_at;
}

static void
fill_from_sgrant(struct change *c, const struct sgrant *g)
{
	c->platform = xstrdup(g->platform);
	c->account = xstrdup(g->account);
	c->person = xstrdup(g->person);
	c->target = xstrdup(g->target);
	c->privilege = xstrdup(g->privilege);
	c->request = xstrdup(g->request);
	c->blob = xstrdup(g->blob);
	c->commit = xstrdup(g->commit_sha);
	c->approvers = xstrdup(g->approvers);
	c->rule = xstrdup(g->rule);
	c->requester = xstrdup(g->requester);
	c->approved_at = g->approved_at;
	c->expires_at = g->expires_at;
}

static const struct loaded_request *
find_request(const struct snapshot *s, const char *path)
{
	size_t lo = 0, hi = s->nreqs;

	if (path == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->reqs[mid].entry.path, path);
		if (c == 0)
			return &s->reqs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The grant's account as a request names it. */
static const char *
want_account(const struct platform_run *pr, const struct request *r,
    const struct grant_req *g)
{
	return g->grantee ? g->grantee : platform_account(pr, r->requester);
}

/*
 * Why accord's own grant is no longer desired.  Returns -1 to keep it: its
 * request is present but invalid (§6: kept until fixed or deleted).
 */
static int
revoke_reason(const struct snapshot *s, const struct platform_run *pr,
    const struct sgrant *g)
{
	const struct loaded_request *lr;
	size_t i;

	if (g->expires_at && s->now >= g->expires_at)
		return R_EXPIRED;
	lr = find_request(s, g->request);
	if (lr == NULL)
		return R_WITHDRAWN;
	if (!lr->valid)
		return -1;
	for (i = 0; i < lr->req.ngrants; i++) {
		const struct grant_req *q = &lr->req.grants[i];
		const char *acct;
		if (strcmp(q->platform, g->platform) || strcmp(q->target,
		    g->target) || strcasecmp(q->privilege, g->privilege))
			continue;
		acct = want_account(pr, &lr->req, q);
		if (acct == NULL || strcmp(acct, g->account))
			continue;
		if (lr->ev[i].status == GS_DENIED)
			return R_DENIED;
		if (lr->ev[i].status == GS_EXPIRED)
			return R_EXPIRED;
	}
	return R_WITHDRAWN;
}

static void
plan_platform(struct plan *p, const struct snapshot *s,
    struct platform_run *pr, const struct sgrant *sg, size_t nsg)
{
	struct strmap desired = STRMAP_INIT, actual = STRMAP_INIT,
	    recorded = STRMAP_INIT, noacct = STRMAP_INIT;
	struct want *wants = NULL;
	size_t nw = 0, aw = 0, i, j, v;
	const char *name = pr->cfg->name;
	struct change *c;
	char *k, *k2;

	/* desired */
	for (i = 0; i < s->nreqs; i++) {
		const struct loaded_request *lr = &s->reqs[i];
		if (!lr->valid)
			continue;
		for (j = 0; j < lr->req.ngrants; j++) {
			const struct grant_req *g = &lr->req.grants[j];
			const char *acct;
			if (strcmp(g->platform, name) ||
			    lr->ev[j].status != GS_ACTIVE ||
			    !config_is_managed(pr->cfg, g->target))
				continue;
			acct = want_account(pr, &lr->req, g);
			if (acct == NULL) {
				k = xasprintf("%s\x1f%s\x1f%s", lr->req.requester,
				    g->target, g->privilege);
				if (!strmap_get(&noacct, k, NULL)) {
					struct want w = { lr, j, NULL, 0 };
					strmap_put(&noacct, k, 0);
					c = plan_add(p, CH_GRANT, R_REQUEST);
					fill_from_want(c, pr, &w);
					c->error = xstrdup("no account");
				}
				free(k);
				continue;
			}
			k = gkey(acct, g->target, g->privilege);
			if (strmap_get(&desired, k, &v)) {
				/* the longest-lasting request wins */
				int64_t e = lr->ev[j].expires_at;
				if (wants[v].expires_at && (e == 0 ||
				    e > wants[v].expires_at)) {
					wants[v].lr = lr;
					wants[v].gi = j;
					wants[v].expires_at = e;
				}
			} else {
				wants = xgrow(wants, sizeof(*wants), nw, &aw);
				wants[nw].lr = lr;
				wants[nw].gi = j;
				wants[nw].account = acct;
				wants[nw].expires_at = lr->ev[j].expires_at;
				strmap_put(&desired, k, nw++);
			}
			free(k);
		}
	}
	/* actual, within managed scope */
	for (i = 0; i < pr->in.ngrants; i++) {
		const struct pgrant *g = &pr->in.grants[i];
		if (!config_is_managed(pr->cfg, g->target))
			continue;
		k = gkey(g->account, g->target, g->privilege);
		strmap_put(&actual, k, i);
		free(k);
	}
	for (i = 0; i < nsg; i++) {
		if (strcmp(sg[i].platform, name))
			continue;
		k = gkey(sg[i].account, sg[i].target, sg[i].privilege);
		strmap_put(&recorded, k, i);
		free(k);
	}
	/* to grant, or to adopt as accord's */
	for (i = 0; i < nw; i++) {
		const struct grant_req *g = &wants[i].lr->req.grants[wants[i].gi];
		k = gkey(wants[i].account, g->target, g->privilege);
		if (!strmap_get(&actual, k, NULL)) {
			c = plan_add(p, CH_GRANT, R_REQUEST);
			fill_from_want(c, pr, &wants[i]);
		} else if (!strmap_get(&recorded, k, &v) || sg[v].blob == NULL ||
		    strcmp(sg[v].blob, wants[i].lr->entry.blob) ||
		    sg[v].expires_at != wants[i].expires_at ||
		    strcmp(sg[v].request ? sg[v].request : "",
		    wants[i].lr->req.path)) {
			c = plan_add(p, CH_ADOPT, R_REQUEST);
			fill_from_want(c, pr, &wants[i]);
		}
		free(k);
	}
	/* to revoke */
	for (i = 0; i < pr->in.ngrants; i++) {
		const struct pgrant *g = &pr->in.grants[i];
		int reason;
		if (!config_is_managed(pr->cfg, g->target) ||
		    config_is_protected(pr->cfg, g->account))
			continue;
		k = gkey(g->account, g->target, g->privilege);
		if (strmap_get(&desired, k, NULL)) {
			free(k);
			continue;
		}
		if (strmap_get(&recorded, k, &v)) {
			reason = revoke_reason(s, pr, &sg[v]);
			if (reason >= 0) {
				c = plan_add(p, CH_REVOKE, (enum change_reason)reason);
				fill_from_sgrant(c, &sg[v]);
			}
		} else if (pr->cfg->drift == DRIFT_ENFORCE) {
			c = plan_add(p, CH_REVOKE, R_DRIFT);
			c->platform = xstrdup(name);
			c->account = xstrdup(g->account);
			k2 = lower(g->account);
			if (strmap_get(&pr->byname, k2, &v) &&
			    strcmp(pr->in.idents[v].name, g->account) == 0)
				c->person = xstrdup(pr->persons[v]);
			free(k2);
			c->target = xstrdup(g->target);
			c->privilege = xstrdup(g->privilege);
		} else {
			struct drift_item *d;
			p->drift = xgrow(p->drift, sizeof(*p->drift), p->ndrift,
			    &p->adrift);
			d = &p->drift[p->ndrift++];
			d->platform = xstrdup(name);
			d->account = xstrdup(g->account);
			d->target = xstrdup(g->target);
			d->privilege = xstrdup(g->privilege);
		}
		free(k);
	}
	/* accord's records of grants that are gone and not wanted */
	for (i = 0; i < nsg; i++) {
		if (strcmp(sg[i].platform, name))
			continue;
		k = gkey(sg[i].account, sg[i].target, sg[i].privilege);
		if (!strmap_get(&actual, k, NULL) && !strmap_get(&desired, k, NULL)) {
			c = plan_add(p, CH_FORGET, R_WITHDRAWN);
			fill_from_sgrant(c, &sg[i]);
		}
		free(k);
	}
	free(wants);
	strmap_release(&desired);
	strmap_release(&actual);
	strmap_release(&recorded);
	strmap_release(&noacct);
}

void
plan_build(struct plan *p, const struct snapshot *s, struct platform_run *pr,
    size_t npr, const struct sgrant *sg, size_t nsg)
{
	size_t i, j;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < npr; i++) {
		if (!pr[i].ok) {
			p->skipped = xgrow(p->skipped, sizeof(*p->skipped),
			    p->nskipped, &p->askipped);
			p->skipped[p->nskipped].platform = xstrdup(pr[i].cfg->name);
			p->skipped[p->nskipped++].error = xstrdup(pr[i].err.msg);
			continue;
		}
		plan_platform(p, s, &pr[i], sg, nsg);
	}
	for (i = 0; i < s->nreqs; i++) {
		const struct loaded_request *lr = &s->reqs[i];
		if (!lr->valid)
			continue;
		for (j = 0; j < lr->req.ngrants; j++) {
			struct pending *q;
			if (lr->ev[j].status != GS_PENDING)
				continue;
			p->pending = xgrow(p->pending, sizeof(*p->pending),
			    p->npending, &p->apending);
			q = &p->pending[p->npending++];
			q->request = xstrdup(lr->req.path);
			q->platform = xstrdup(lr->req.grants[j].platform);
			q->target = xstrdup(lr->req.grants[j].target);
			q->privilege = xstrdup(lr->req.grants[j].privilege);
			q->why = xstrdup(lr->ev[j].why);
			q->needed = lr->ev[j].needed;
		}
	}
}

struct diag *
snapshot_errors(const struct snapshot *s, size_t *n)
{
	struct diag *d = NULL;
	size_t nd = 0, ad = 0, i;

	for (i = 0; i < s->nreqs; i++) {
		const struct loaded_request *lr = &s->reqs[i];
		if (!lr->valid) {
			d = xgrow(d, sizeof(*d), nd, &ad);
			d[nd++] = *lr->error;
		}
	}
	*n = nd;
	return d;
}
