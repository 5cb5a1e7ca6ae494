/*
 * Loading the access repository at one pinned commit: accord.yaml, the
 * policies, every request (through the parse cache keyed by blob id), the
 * approvals from git (through the approval cache), and the evaluation of
 * each request's grants.  Everything is read from the object database,
 * never the working tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector.h"
#include "run.h"
#include "state.h"
#include "strmap.h"
#include "util.h"

static const char *const yaml_suffixes[] = { ".yaml", ".yml", NULL };

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

struct type_info *
snapshot_types(size_t *n)
{
	struct type_info *t;
	size_t i;

	t = xcalloc(connector_registry_len, sizeof(*t));
	for (i = 0; i < connector_registry_len; i++) {
		const struct connector_desc *d = connector_registry[i];
		t[i].type = d->type;
		t[i].own_keys = d->own_keys;
		t[i].target_kinds = d->target_kinds;
		t[i].check_target = d->check_target;
	}
	*n = connector_registry_len;
	return t;
}

/* The branch named in accord.yaml at HEAD, so that the default ref can be
 * refs/heads/<branch> before the authoritative config is read. */
static char *
default_ref(struct repo *r)
{
	char head[41], blob[41], *data = NULL, *ref = NULL;
	struct config cfg;
	struct diag ignore;
	struct type_info *types;
	size_t len, ntypes;

	if (repo_resolve(r, "HEAD", head, &ignore) == 0 &&
	    repo_read(r, head, "accord.yaml", YML_MAX_BYTES, &data, &len,
	    blob, &ignore) == 0) {
		types = snapshot_types(&ntypes);
		if (config_parse(&cfg, "accord.yaml", data, len, types, ntypes,
		    &ignore) == 0) {
			ref = xasprintf("refs/heads/%s", cfg.branch);
			config_release(&cfg);
		}
		free(types);
	}
	free(data);
	return ref ? ref : xstrdup("refs/heads/main");
}

static int
load_config(struct snapshot *s, struct repo *r, struct diag *err)
{
	char blob[41], *data = NULL;
	size_t len;
	int rc;

	rc = repo_read(r, s->commit, "accord.yaml", YML_MAX_BYTES, &data, &len,
	    blob, err);
	if (rc == 1)
		return diag_set(err, "accord.yaml not found at %.12s (%s)",
		    s->commit, s->ref);
	if (rc == -1)
		return -1;
	rc = config_parse(&s->cfg, "accord.yaml", data, len, s->types,
	    s->ntypes, err);
	free(data);
	if (rc == -1)
		return -1;
	memcpy(s->cfg.blob, blob, sizeof(blob));
	s->have_cfg = 1;
	return 0;
}

static int
load_policies(struct snapshot *s, struct repo *r, struct diag *err)
{
	struct repo_entry *e = NULL;
	size_t n = 0, i, len;
	char *data;
	int rc = -1;

	if (repo_list(r, s->commit, "policies", yaml_suffixes, &e, &n, err))
		return -1;
	for (i = 0; i < n; i++) {
		if (repo_blob(r, e[i].blob, YML_MAX_BYTES, &data, &len, err)) {
			diag_prefix(err, "%s", e[i].path);
			goto out;
		}
		rc = policy_parse(&s->ps, e[i].path, data, len, err);
		free(data);
		if (rc == -1)
			goto out;
	}
	rc = 0;
out:
	repo_entries_free(e, n);
	return rc;
}

/* The request cache of this config, loaded in one query. */
struct cache_entry {
	char *json;		/* NULL: failure */
	struct diag *failure;
};

struct cache {
	struct strmap byblob;	/* blob -> index */
	struct cache_entry *v;
	size_t n, alloc;
};

static void
cache_add(void *arg, const char *blob, const char *json,
    const struct diag *failure)
{
	struct cache *c = arg;

	c->v = xgrow(c->v, sizeof(*c->v), c->n, &c->alloc);
	c->v[c->n].json = xstrdup(json);
	c->v[c->n].failure = NULL;
	if (failure) {
		c->v[c->n].failure = xmalloc(sizeof(*failure));
		*c->v[c->n].failure = *failure;
	}
	strmap_put(&c->byblob, blob, c->n++);
}

static void
cache_release(struct cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].json);
		free(c->v[i].failure);
	}
	free(c->v);
	strmap_release(&c->byblob);
}

static void
set_error(struct loaded_request *lr, const struct diag *d)
{
	lr->error = xmalloc(sizeof(*lr->error));
	*lr->error = *d;
	/* a cached diag names the path of the blob's first sighting */
	snprintf(lr->error->file, sizeof(lr->error->file), "%s",
	    lr->entry.path);
}

/* Parse one request, through the cache when there is one. */
static void
load_request(struct snapshot *s, struct repo *r, struct state *st,
    const struct cache *cache, struct loaded_request *lr)
{
	char *json = NULL, *data = NULL;
	struct diag err, perr;
	size_t len, v;

	if (cache && strmap_get(&cache->byblob, lr->entry.blob, &v)) {
		const struct cache_entry *ce = &cache->v[v];
		if (ce->json == NULL) {
			set_error(lr, ce->failure);
			return;
		}
		if (request_from_json(&lr->req, ce->json, &err) == 0) {
			free(lr->req.path);
			lr->req.path = xstrdup(lr->entry.path);
			memcpy(lr->req.blob, lr->entry.blob, 41);
			lr->valid = 1;
			return;
		}
	}
	diag_clear(&perr);
	if (repo_blob(r, lr->entry.blob, YML_MAX_BYTES, &data, &len,
	    &perr) == -1) {
		/* the whole file is at fault (too large, unreadable) */
		perr.line = perr.column = 1;
		set_error(lr, &perr);
	} else if (request_parse(&lr->req, lr->entry.path, data, len, &s->cfg,
	    &perr) == 0) {
		memcpy(lr->req.blob, lr->entry.blob, 41);
		lr->valid = 1;
	} else
		set_error(lr, &perr);
	free(data);
	if (st) {
		json = lr->valid ? request_to_json(&lr->req) : NULL;
		if (state_cache_put(st, lr->entry.blob, s->cfg.blob, json,
		    lr->valid ? NULL : lr->error, &err) == -1)
			log_warn("request cache: %s", err.msg);
		free(json);
	}
}

/*
 * A request naming a target accord does not manage is invalid as a whole:
 * it could never be reconciled (ingest reads managed targets only), and
 * applying the rest of it would grant half of what was approved.
 */
static int
check_managed(const struct snapshot *s, struct loaded_request *lr)
{
	struct diag d;

	if (request_check_managed(&s->cfg, &lr->req, &d) == 0)
		return 0;
	set_error(lr, &d);
	return -1;
}

int
request_check_managed(const struct config *cfg, const struct request *r,
    struct diag *err)
{
	size_t j;

	for (j = 0; j < r->ngrants; j++) {
		const struct grant_req *g = &r->grants[j];
		const struct platform_cfg *pc = config_platform(cfg,
		    g->platform);
		if (pc && !config_is_managed(pc, g->target))
			return diag_setat(err, r->path, g->line, g->column,
			    "target %s is not managed by accord on platform %s "
			    "(add it to 'managed' in accord.yaml)", g->target,
			    g->platform);
	}
	return 0;
}

static int
cmp_cached(const void *a, const void *b)
{
	return strcmp(((const struct cached_approval *)a)->path,
	    ((const struct cached_approval *)b)->path);
}

static int
load_approvals(struct snapshot *s, struct repo *r, struct state *st,
    struct diag *err)
{
	struct cached_approval *cache = NULL, key, *hit, *fresh = NULL;
	const struct approval **known = NULL;
	struct repo_entry *files = NULL;
	struct approval *out = NULL;
	size_t ncache = 0, nfiles = 0, nfresh = 0, ngone = 0, i, j;
	char tip[41] = "", **gone = NULL;
	size_t *map = NULL;
	int rc = -1;

	/* Approvals are computed for every request file present, valid or
	 * not, so that the cache stays keyed by (path, blob). */
	files = xcalloc(s->nreqs, sizeof(*files));
	map = xcalloc(s->nreqs, sizeof(*map));
	for (i = 0; i < s->nreqs; i++) {
		files[nfiles] = s->reqs[i].entry;
		map[nfiles++] = i;
	}
	known = xcalloc(nfiles, sizeof(*known));
	if (st && state_approvals_load(st, tip, &cache, &ncache, err) == -1) {
		diag_prefix(err, "approval cache");
		goto out;
	}
	if (ncache)
		qsort(cache, ncache, sizeof(*cache), cmp_cached);
	for (i = 0; ncache && i < nfiles; i++) {
		key.path = files[i].path;
		hit = bsearch(&key, cache, ncache, sizeof(*cache), cmp_cached);
		if (hit && strcmp(hit->blob, files[i].blob) == 0)
			known[i] = &hit->a;
	}
	out = xcalloc(nfiles, sizeof(*out));
	if (repo_approvals(r, s->commit, files, nfiles, tip[0] ? tip : NULL,
	    known, out, err) == -1)
		goto out;
	for (i = 0; i < nfiles; i++)
		s->reqs[map[i]].appr = out[i];
	if (st && strcmp(tip, s->commit) != 0) {
		fresh = xcalloc(nfiles, sizeof(*fresh));
		for (i = 0; i < nfiles; i++) {
			if (known[i] && strcmp(known[i]->commit, out[i].commit) == 0)
				continue;
			fresh[nfresh].path = files[i].path;
			memcpy(fresh[nfresh].blob, files[i].blob, 41);
			fresh[nfresh++].a = out[i];
		}
		gone = xcalloc(ncache + 1, sizeof(*gone));
		for (j = 0; j < ncache; j++) {
			struct repo_entry *f = NULL;
			size_t lo = 0, hi = nfiles;
			while (lo < hi) {	/* files are sorted by path */
				size_t mid = (lo + hi) / 2;
				int c = strcmp(files[mid].path, cache[j].path);
				if (c == 0) {
					f = &files[mid];
					break;
				}
				if (c < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (f == NULL)
				gone[ngone++] = cache[j].path;
		}
		if (state_approvals_update(st, s->commit, fresh, nfresh, gone,
		    ngone, err) == -1)
			log_warn("approval cache: %s", err->msg);
	}
	rc = 0;
out:
	free(gone);
	free(fresh);
	free(out);
	free(known);
	free(map);
	free(files);
	cached_approvals_free(cache, ncache);
	return rc;
}

static int
load(struct snapshot *s, struct repo *r, const char *ref, struct state *st,
    int64_t now, struct timing *tm, struct diag *err)
{
	struct repo_entry *e = NULL;
	struct timespec t0;
	struct cache cache;
	size_t n = 0, i;

	memset(s, 0, sizeof(*s));
	s->now = now;
	s->types = snapshot_types(&s->ntypes);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	s->ref = ref ? xstrdup(ref) : default_ref(r);
	if (repo_resolve(r, s->ref, s->commit, err) == -1)
		return -1;
	if (load_config(s, r, err) == -1 || load_policies(s, r, err) == -1)
		return -1;
	if (repo_list(r, s->commit, "requests", yaml_suffixes, &e, &n, err))
		return -1;
	log_debug("load: config, policies and %zu request names in %.1fms", n,
	    ms_since(&t0));
	s->reqs = xcalloc(n ? n : 1, sizeof(*s->reqs));
	s->nreqs = n;
	/* One transaction for all cache writes; without it a cold run
	 * pays one fsync per request. */
	if (st && state_begin(st, err) == -1)
		return -1;
	memset(&cache, 0, sizeof(cache));
	if (st && state_cache_each(st, s->cfg.blob, cache_add, &cache, err) == -1)
		log_warn("request cache: %s", err->msg);
	log_debug("load: %zu cached requests read at %.1fms", cache.n,
	    ms_since(&t0));
	for (i = 0; i < n; i++) {
		s->reqs[i].entry = e[i];
		load_request(s, r, st, st ? &cache : NULL, &s->reqs[i]);
	}
	cache_release(&cache);
	free(e);		/* entries moved into reqs */
	if (st && state_commit(st, err) == -1) {
		log_warn("request cache: %s", err->msg);
		state_rollback(st);
	}
	if (tm)
		tm->load = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (load_approvals(s, r, st, err) == -1)
		return -1;
	if (tm)
		tm->approvals = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		struct loaded_request *lr = &s->reqs[i];
		if (lr->valid && check_managed(s, lr) == -1) {
			request_release(&lr->req);
			lr->valid = 0;
		}
		if (!lr->valid)
			continue;
		lr->ev = xcalloc(lr->req.ngrants ? lr->req.ngrants : 1,
		    sizeof(*lr->ev));
		policy_eval(lr->ev, &s->ps, &s->cfg, &lr->req, &lr->appr, now);
	}
	if (tm)
		tm->eval = ms_since(&t0);
	return 0;
}

int
snapshot_load(struct snapshot *s, struct repo *r, const char *ref,
    struct state *st, int64_t now, struct timing *tm, struct diag *err)
{
	if (load(s, r, ref, st, now, tm, err) == 0)
		return 0;
	snapshot_release(s);
	return -1;
}

void
snapshot_release(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->nreqs; i++) {
		struct loaded_request *lr = &s->reqs[i];
		free(lr->entry.path);
		free(lr->error);
		if (lr->valid) {
			policy_eval_release(lr->ev, lr->req.ngrants);
			free(lr->ev);
			request_release(&lr->req);
		}
		approval_release(&lr->appr);
	}
	free(s->reqs);
	policy_set_release(&s->ps);
	if (s->have_cfg)
		config_release(&s->cfg);
	free(s->types);
	free(s->ref);
	memset(s, 0, sizeof(*s));
}
