/*
 * The requests inbox (DESIGN §12): request versions that wait on refs not
 * yet merged into the branch.  One walk lists the commits of the branch;
 * a candidate ref -- local branch, remote-tracking branch, refs/pull/N/head
 * -- whose tip is among them is merged.  For the others, a walk of the
 * ref's own side (stopping at the branch's commits) gives the merge base
 * and the commits that date each version; the request files the ref added
 * or changed since that base are found by comparing tree ids from
 * requests/ down, reading only subtrees whose id differs.  Refs that share
 * a tip are examined once.  A version the branch held at any commit of its
 * first-parent history (a squash merge since changed or withdrawn) is not
 * pending; one more walk answers that for all versions.  Each remaining
 * version is parsed with the tip's config and evaluated against the tip's
 * policies as not yet approved, with the same request_parse and
 * policy_eval the run uses.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "inbox.h"
#include "run.h"
#include "strmap.h"
#include "util.h"

static const char *
lg_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* One pending version as seen from one ref tip. */
struct cand {
	char *path;
	git_oid blob;
	int64_t created_at;
};

/* The pending versions of one ref tip (shared by refs with that tip). */
struct tipres {
	struct cand *c;
	size_t n, alloc;
};

static void
tipres_release(struct tipres *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->c[i].path);
	free(t->c);
	memset(t, 0, sizeof(*t));
}

static int
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* --- which refs --- */

/* Does `ref` name a ref the inbox reads?  `branch` is the configured
 * branch, excluded locally and on every remote. */
static int
ref_wanted(const char *ref, const char *branch, const char *tipref)
{
	const char *p, *slash;
	size_t i;

	if (tipref && strcmp(ref, tipref) == 0)
		return 0;
	if (strncmp(ref, "refs/heads/", 11) == 0)
		return strcmp(ref + 11, branch) != 0;
	if (strncmp(ref, "refs/remotes/", 13) == 0) {
		p = ref + 13;
		if ((slash = strchr(p, '/')) == NULL || slash == p ||
		    slash[1] == '\0')
			return 0;
		return strcmp(slash + 1, "HEAD") != 0 &&
		    strcmp(slash + 1, branch) != 0;
	}
	if (strncmp(ref, "refs/pull/", 10) == 0) {
		p = ref + 10;
		for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
			;
		return i > 0 && strcmp(p + i, "/head") == 0;
	}
	return 0;
}

static long
pull_number(const char *ref)
{
	long n = 0;
	const char *p;

	if (strncmp(ref, "refs/pull/", 10) != 0)
		return 0;
	for (p = ref + 10; *p >= '0' && *p <= '9'; p++) {
		if (n > (LONG_MAX - 9) / 10)
			return 0;
		n = n * 10 + (*p - '0');
	}
	return strcmp(p, "/head") == 0 ? n : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of every wanted direct ref, sorted. */
static int
refs_list(git_repository *git, const struct snapshot *s, char ***out,
    size_t *n, struct diag *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	char **v = NULL;
	size_t nv = 0, alloc = 0;
	int e;

	*out = NULL;
	*n = 0;
	if (git_reference_iterator_new(&it, git) < 0)
		return diag_set(err, "inbox: listing refs: %s", lg_msg());
	while ((e = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		/* symbolic refs (origin/HEAD) are aliases of another ref */
		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    ref_wanted(name, s->cfg.branch, s->ref)) {
			v = xgrow(v, sizeof(*v), nv, &alloc);
			v[nv++] = xstrdup(name);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (e != GIT_ITEROVER) {
		strv_free(v, nv);
		return diag_set(err, "inbox: listing refs: %s", lg_msg());
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_str);
	*out = v;
	*n = nv;
	return 0;
}

/* --- what one ref adds --- */

/* The subtree `name` of t (NULL when t is NULL or has no such tree). */
static int
subtree(git_repository *git, git_tree *t, const char *name, git_tree **out)
{
	const git_tree_entry *ent;

	*out = NULL;
	if (t == NULL || (ent = git_tree_entry_byname(t, name)) == NULL ||
	    git_tree_entry_type(ent) != GIT_OBJECT_TREE)
		return 0;
	return git_tree_lookup(out, git, git_tree_entry_id(ent)) < 0 ? -1 : 0;
}

/*
 * Request files of tree t (at `prefix`) whose blob differs from base's
 * (NULL: nothing there), descending only into subtrees whose id differs,
 * and that the tip does not hold with the same blob.
 */
static int
tree_changes(git_repository *git, git_tree *base, git_tree *t,
    const char *prefix, git_tree *tip, struct tipres *out, struct diag *err)
{
	size_t i, n = git_tree_entrycount(t);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *ent = git_tree_entry_byindex(t, i);
		const git_tree_entry *old = NULL;
		const char *name = git_tree_entry_name(ent);
		git_tree_entry *held = NULL;
		git_tree *sub = NULL, *bsub = NULL;
		char *path;

		if (base)
			old = git_tree_entry_byname(base, name);
		if (old && git_tree_entry_type(old) ==
		    git_tree_entry_type(ent) &&
		    git_oid_equal(git_tree_entry_id(old), git_tree_entry_id(ent)))
			continue;
		switch (git_tree_entry_type(ent)) {
		case GIT_OBJECT_TREE:
			path = xasprintf("%s%s/", prefix, name);
			if (git_tree_lookup(&sub, git, git_tree_entry_id(ent)) < 0 ||
			    subtree(git, base, name, &bsub) == -1)
				rc = diag_set(err, "%s: %s", path, lg_msg());
			else
				rc = tree_changes(git, bsub, sub, path, tip, out,
				    err);
			git_tree_free(sub);
			git_tree_free(bsub);
			free(path);
			break;
		case GIT_OBJECT_BLOB:
			/* a symbolic link is not a request file (repo_list) */
			if (git_tree_entry_filemode(ent) == GIT_FILEMODE_LINK ||
			    !is_yaml(name))
				break;
			path = xasprintf("%s%s", prefix, name);
			if (git_tree_entry_bypath(&held, tip, path) == 0 &&
			    git_tree_entry_type(held) == GIT_OBJECT_BLOB &&
			    git_oid_equal(git_tree_entry_id(held),
			    git_tree_entry_id(ent))) {
				/* already on the branch (a squash, a
				 * cherry-pick): nothing to approve */
				git_tree_entry_free(held);
				free(path);
				break;
			}
			git_tree_entry_free(held);
			out->c = xgrow(out->c, sizeof(*out->c), out->n,
			    &out->alloc);
			out->c[out->n].path = path;
			git_oid_cpy(&out->c[out->n].blob, git_tree_entry_id(ent));
			out->c[out->n].created_at = INT64_MAX;
			out->n++;
			break;
		default:	/* submodules */
			break;
		}
	}
	return rc;
}

/*
 * The commits reachable from the branch tip, as a set of ids, built with
 * one walk; every "is this ref merged" and "where does its side end"
 * question is then a lookup instead of a merge-base search per ref.
 */
static int
reach_build(git_repository *git, const git_oid *branch, struct strmap *set,
    struct diag *err)
{
	git_revwalk *w = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	int rc = -1, e;

	if (git_revwalk_new(&w, git) < 0 || git_revwalk_push(w, branch) < 0) {
		diag_set(err, "history walk: %s", lg_msg());
		goto out;
	}
	while ((e = git_revwalk_next(&id, w)) == 0) {
		git_oid_tostr(hex, sizeof(hex), &id);
		strmap_put(set, hex, 0);
	}
	if (e != GIT_ITEROVER) {
		diag_set(err, "history walk: %s", lg_msg());
		goto out;
	}
	rc = 0;
out:
	git_revwalk_free(w);
	return rc;
}

/*
 * The ref's side: the commits reachable from id and not from the branch
 * (into *side), and the branch commits where it ends (into *bound).
 */
static int
side_walk(git_repository *git, const struct strmap *reach, const git_oid *id,
    git_oid **side, size_t *nside, git_oid **bound, size_t *nbound,
    struct diag *err)
{
	struct strmap seen = STRMAP_INIT;
	git_oid *stack = NULL, cur;
	size_t nstack = 0, astack = 0, aside = 0, abound = 0, i, np;
	char hex[GIT_OID_HEXSZ + 1];
	git_commit *c = NULL;
	int rc = -1;

	*side = *bound = NULL;
	*nside = *nbound = 0;
	stack = xgrow(stack, sizeof(*stack), nstack, &astack);
	git_oid_cpy(&stack[nstack++], id);
	while (nstack) {
		git_oid_cpy(&cur, &stack[--nstack]);
		git_oid_tostr(hex, sizeof(hex), &cur);
		if (strmap_get(&seen, hex, NULL))
			continue;
		strmap_put(&seen, hex, 0);
		if (strmap_get(reach, hex, NULL)) {
			*bound = xgrow(*bound, sizeof(**bound), *nbound, &abound);
			git_oid_cpy(&(*bound)[(*nbound)++], &cur);
			continue;
		}
		*side = xgrow(*side, sizeof(**side), *nside, &aside);
		git_oid_cpy(&(*side)[(*nside)++], &cur);
		if (git_commit_lookup(&c, git, &cur) < 0) {
			diag_set(err, "commit %s: %s", hex, lg_msg());
			goto out;
		}
		np = git_commit_parentcount(c);
		for (i = 0; i < np; i++) {
			stack = xgrow(stack, sizeof(*stack), nstack, &astack);
			git_oid_cpy(&stack[nstack++], git_commit_parent_id(c,
			    (unsigned int)i));
		}
		git_commit_free(c);
		c = NULL;
	}
	rc = 0;
out:
	git_commit_free(c);
	free(stack);
	strmap_release(&seen);
	return rc;
}

/*
 * created_at of each candidate: the earliest committer time among the
 * commits on the ref's side whose tree holds that blob at that path.
 */
static int
created_times(git_repository *git, const git_oid *side, size_t nside,
    struct tipres *tr, struct diag *err)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	size_t i, k;
	int rc = -1;

	for (k = 0; k < nside; k++) {
		int64_t when;
		if (git_commit_lookup(&c, git, &side[k]) < 0 ||
		    git_commit_tree(&t, c) < 0) {
			diag_set(err, "commit %s: %s", git_oid_tostr_s(&side[k]),
			    lg_msg());
			goto out;
		}
		when = (int64_t)git_commit_time(c);
		for (i = 0; i < tr->n; i++) {
			git_tree_entry *ent = NULL;
			if (when >= tr->c[i].created_at)
				continue;
			if (git_tree_entry_bypath(&ent, t, tr->c[i].path) == 0 &&
			    git_oid_equal(git_tree_entry_id(ent), &tr->c[i].blob))
				tr->c[i].created_at = when;
			git_tree_entry_free(ent);
		}
		git_tree_free(t);
		git_commit_free(c);
		t = NULL;
		c = NULL;
	}
	rc = 0;
out:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/* The pending versions at one ref tip (not contained in the branch). */
static int
tip_pending(git_repository *git, const git_oid *branch,
    const struct strmap *reach, git_tree *tiptree, const git_oid *id,
    struct tipres *out, struct diag *err)
{
	git_oid base, *side = NULL, *bound = NULL;
	size_t nside = 0, nbound = 0;
	git_commit *c = NULL, *bc = NULL;
	git_tree *t = NULL, *bt = NULL, *req = NULL, *breq = NULL;
	int have_base = 0, rc = -1;

	if (side_walk(git, reach, id, &side, &nside, &bound, &nbound,
	    err) == -1)
		goto out;
	if (nbound == 1) {	/* forked once: the usual branch */
		git_oid_cpy(&base, &bound[0]);
		have_base = 1;
	} else if (nbound > 1) {	/* it merged the branch in since */
		if (git_merge_base(&base, git, branch, id) < 0) {
			diag_set(err, "merge base: %s", lg_msg());
			goto out;
		}
		have_base = 1;
	}			/* else unrelated histories: no base */
	if (git_commit_lookup(&c, git, id) < 0 || git_commit_tree(&t, c) < 0 ||
	    (have_base && (git_commit_lookup(&bc, git, &base) < 0 ||
	    git_commit_tree(&bt, bc) < 0))) {
		diag_set(err, "%s", lg_msg());
		goto out;
	}
	if (subtree(git, t, "requests", &req) == -1 ||
	    subtree(git, bt, "requests", &breq) == -1) {
		diag_set(err, "requests/: %s", lg_msg());
		goto out;
	}
	if (req && (breq == NULL || !git_oid_equal(git_tree_id(req),
	    git_tree_id(breq))) &&
	    tree_changes(git, breq, req, "requests/", tiptree, out, err) == -1)
		goto out;
	if (out->n && created_times(git, side, nside, out, err) == -1)
		goto out;
	rc = 0;
out:
	free(side);
	free(bound);
	git_tree_free(req);
	git_tree_free(breq);
	git_tree_free(t);
	git_tree_free(bt);
	git_commit_free(c);
	git_commit_free(bc);
	return rc;
}

/*
 * Which versions did the branch ever hold, at any commit of its
 * first-parent history?  A version squash-merged and since changed or
 * withdrawn was merged once and waits for nobody, though the forge keeps
 * its pull-request head forever.  One walk for all versions; at each
 * commit only the requests/ tree is read when it changed, and a version's
 * own subtree only when the id of its top directory changed.
 */
static int
branch_held(git_repository *git, const git_oid *branch,
    const struct inbox_item *v, size_t n, unsigned char *held,
    struct diag *err)
{
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_tree *root = NULL, *req = NULL, *top = NULL;
	git_oid id, lastreq, *lasttop, *blobs;
	const git_tree_entry *ent;
	size_t i, nheld = 0;
	int rc = -1, e = GIT_ITEROVER, have_last = 0;

	lasttop = xcalloc(n ? n : 1, sizeof(*lasttop));
	blobs = xcalloc(n ? n : 1, sizeof(*blobs));
	for (i = 0; i < n; i++)
		if (git_oid_fromstr(&blobs[i], v[i].blob) < 0) {
			diag_set(err, "%s: bad blob id", v[i].path);
			goto out;
		}
	if (git_revwalk_new(&w, git) < 0 || git_revwalk_push(w, branch) < 0 ||
	    git_revwalk_simplify_first_parent(w) < 0) {
		diag_set(err, "history walk: %s", lg_msg());
		goto out;
	}
	while (nheld < n && (e = git_revwalk_next(&id, w)) == 0) {
		if (git_commit_lookup(&c, git, &id) < 0 ||
		    git_commit_tree(&root, c) < 0) {
			diag_set(err, "commit %s: %s", git_oid_tostr_s(&id),
			    lg_msg());
			goto out;
		}
		ent = git_tree_entry_byname(root, "requests");
		if (ent == NULL || git_tree_entry_type(ent) != GIT_OBJECT_TREE)
			goto next;
		if (have_last && git_oid_equal(&lastreq, git_tree_entry_id(ent)))
			goto next;	/* nothing under requests/ changed */
		git_oid_cpy(&lastreq, git_tree_entry_id(ent));
		have_last = 1;
		if (git_tree_lookup(&req, git, &lastreq) < 0) {
			diag_set(err, "requests/: %s", lg_msg());
			goto out;
		}
		for (i = 0; i < n; i++) {
			const char *rel = v[i].path + 9;	/* "requests/" */
			const char *slash = strchr(rel, '/');
			git_tree_entry *fe = NULL;
			char *name;
			if (held[i])
				continue;
			name = xstrndup(rel, slash ? (size_t)(slash - rel) :
			    strlen(rel));
			ent = git_tree_entry_byname(req, name);
			free(name);
			if (ent == NULL || git_oid_equal(&lasttop[i],
			    git_tree_entry_id(ent)))
				continue;
			git_oid_cpy(&lasttop[i], git_tree_entry_id(ent));
			if (slash == NULL) {
				held[i] = git_oid_equal(git_tree_entry_id(ent),
				    &blobs[i]);
			} else if (git_tree_entry_type(ent) == GIT_OBJECT_TREE) {
				if (git_tree_lookup(&top, git,
				    git_tree_entry_id(ent)) < 0) {
					diag_set(err, "%s: %s", v[i].path,
					    lg_msg());
					goto out;
				}
				held[i] = git_tree_entry_bypath(&fe, top,
				    slash + 1) == 0 && git_oid_equal(
				    git_tree_entry_id(fe), &blobs[i]);
				git_tree_entry_free(fe);
				git_tree_free(top);
				top = NULL;
			}
			nheld += held[i];
		}
next:
		git_tree_free(req);
		git_tree_free(root);
		git_commit_free(c);
		req = root = NULL;
		c = NULL;
	}
	if (nheld < n && e != GIT_ITEROVER) {
		diag_set(err, "history walk: %s", lg_msg());
		goto out;
	}
	rc = 0;
out:
	free(lasttop);
	free(blobs);
	git_tree_free(top);
	git_tree_free(req);
	git_tree_free(root);
	git_commit_free(c);
	git_revwalk_free(w);
	return rc;
}

static void inbox_free_one(struct inbox_item *it);

/* --- evaluation --- */

/* Add who may approve under rule ru to the set (lower-cased). */
static void
add_approvers(struct strmap *seen, char ***v, size_t *n, size_t *alloc,
    const struct config *cfg, const struct rule *ru, const char *requester)
{
	size_t i, j, k, ng;
	char *const *members;

	for (i = 0; i < ru->nsteps; i++)
		for (j = 0; j < ru->steps[i].nfrom; j++) {
			const char *f = ru->steps[i].from[j];
			const struct group *g = NULL;
			if (strncmp(f, "group:", 6) == 0) {
				if ((g = config_group(cfg, f + 6)) == NULL)
					continue;
				members = g->members;
				ng = g->n;
			} else {
				members = (char *const *)&ru->steps[i].from[j];
				ng = 1;
			}
			for (k = 0; k < ng; k++) {
				char *who;
				size_t c;
				if (!ru->self_approval &&
				    str_eq_ci(members[k], requester))
					continue;
				who = xstrdup(members[k]);
				for (c = 0; who[c]; c++)
					if (who[c] >= 'A' && who[c] <= 'Z')
						who[c] = (char)(who[c] - 'A' + 'a');
				if (strmap_get(seen, who, NULL)) {
					free(who);
					continue;
				}
				strmap_put(seen, who, 0);
				*v = xgrow(*v, sizeof(**v), *n, alloc);
				(*v)[(*n)++] = who;
			}
		}
}

static int
grant_allowed(const struct grant_eval *ev)
{
	return ev->status != GS_DENIED && ev->rule != NULL && !ev->rule->deny;
}

static void
set_error(struct inbox_item *it, const struct diag *d)
{
	it->error = xmalloc(sizeof(*it->error));
	*it->error = *d;
	snprintf(it->error->file, sizeof(it->error->file), "%s", it->path);
}

/* Parse and evaluate one version; problems make it invalid, never fail. */
static void
item_eval(struct repo *r, const struct snapshot *s, struct inbox_item *it)
{
	struct strmap seen = STRMAP_INIT;
	struct diag perr;
	size_t len, j, alloc = 0;
	char *data = NULL;

	diag_clear(&perr);
	if (repo_blob(r, it->blob, YML_MAX_BYTES, &data, &len, &perr) == -1) {
		perr.line = perr.column = 1;
		set_error(it, &perr);
		return;
	}
	if (request_parse(&it->req, it->path, data, len, &s->cfg, &perr) == -1) {
		free(data);
		set_error(it, &perr);
		return;
	}
	free(data);
	memcpy(it->req.blob, it->blob, sizeof(it->req.blob));
	/* as snapshot_load: a target accord does not manage makes the whole
	 * request invalid */
	if (request_check_managed(&s->cfg, &it->req, &perr) == -1) {
		set_error(it, &perr);
		request_release(&it->req);
		return;
	}
	it->valid = 1;
	it->ev = xcalloc(it->req.ngrants ? it->req.ngrants : 1,
	    sizeof(*it->ev));
	policy_eval(it->ev, &s->ps, &s->cfg, &it->req, NULL, s->now);
	for (j = 0; j < it->req.ngrants; j++) {
		if (!grant_allowed(&it->ev[j]))
			continue;
		add_approvers(&seen, &it->approvers, &it->napprovers, &alloc,
		    &s->cfg, it->ev[j].rule, it->req.requester);
		if (it->ev[j].needed > it->needed)
			it->needed = it->ev[j].needed;
	}
	if (it->napprovers)
		qsort(it->approvers, it->napprovers, sizeof(char *), cmp_str);
	strmap_release(&seen);
}

static int
cmp_item(const void *a, const void *b)
{
	const struct inbox_item *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : strcmp(x->blob, y->blob);
}

struct collect {
	struct inbox_item *v;
	size_t n, alloc;
	struct strmap byversion;	/* "path\x1fblob" -> index */
};

static void
collect_add(struct collect *co, const struct cand *c, const char *ref,
    const git_oid *tip)
{
	struct inbox_item *it;
	char blob[41], *key;
	size_t i;
	long pr;

	git_oid_tostr(blob, sizeof(blob), &c->blob);
	key = xasprintf("%s\x1f%s", c->path, blob);
	if (!strmap_get(&co->byversion, key, &i)) {
		co->v = xgrow(co->v, sizeof(*co->v), co->n, &co->alloc);
		i = co->n++;
		it = &co->v[i];
		memset(it, 0, sizeof(*it));
		it->path = xstrdup(c->path);
		memcpy(it->blob, blob, sizeof(blob));
		git_oid_tostr(it->commit, sizeof(it->commit), tip);
		it->created_at = c->created_at;
		strmap_put(&co->byversion, key, i);
	}
	free(key);
	it = &co->v[i];
	it->refs = xrealloc(it->refs, (it->nrefs + 1) * sizeof(char *));
	it->refs[it->nrefs++] = xstrdup(ref);
	if (c->created_at < it->created_at)
		it->created_at = c->created_at;
	/* The newest pull request carrying it: a closed one keeps its ref
	 * forever on most forges. */
	if ((pr = pull_number(ref)) > it->pr_number)
		it->pr_number = pr;
}

int
inbox_collect(struct repo *r, const struct snapshot *s,
    struct inbox_item **out, size_t *n, struct diag *err)
{
	git_repository *git = repo_git(r);
	struct collect co;
	struct strmap bytip = STRMAP_INIT;	/* tip hex -> index in tips */
	struct strmap reach = STRMAP_INIT;	/* commits of the branch */
	unsigned char *held = NULL;
	int have_reach = 0;
	struct tipres *tips = NULL;
	size_t ntips = 0, tips_alloc = 0, nrefs = 0, i, j, k;
	git_commit *tipc = NULL;
	git_tree *tiptree = NULL;
	git_oid branch;
	char **refs = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	memset(&co, 0, sizeof(co));
	if (git == NULL || !s->have_cfg)
		return diag_set(err, "inbox: no repository or config");
	if (git_oid_fromstr(&branch, s->commit) < 0 ||
	    git_commit_lookup(&tipc, git, &branch) < 0 ||
	    git_commit_tree(&tiptree, tipc) < 0) {
		diag_set(err, "inbox: commit %s: %s", s->commit, lg_msg());
		goto out;
	}
	if (refs_list(git, s, &refs, &nrefs, err) == -1)
		goto out;
	for (i = 0; i < nrefs; i++) {
		git_reference *ref = NULL;
		git_object *obj = NULL;
		git_oid id;
		char hex[41];

		if (git_reference_lookup(&ref, git, refs[i]) < 0 ||
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
			/* a ref to a tree or a missing object asks for
			 * nothing; say so and read the others */
			log_warn("inbox: %s: %s", refs[i], lg_msg());
			git_reference_free(ref);
			continue;
		}
		git_oid_cpy(&id, git_object_id(obj));
		git_object_free(obj);
		git_reference_free(ref);
		if (git_oid_equal(&id, &branch))
			continue;
		if (!have_reach) {
			if (reach_build(git, &branch, &reach, err) == -1)
				goto out;
			have_reach = 1;
		}
		git_oid_tostr(hex, sizeof(hex), &id);
		if (strmap_get(&reach, hex, NULL))
			continue;	/* merged */
		if (!strmap_get(&bytip, hex, &j)) {
			tips = xgrow(tips, sizeof(*tips), ntips, &tips_alloc);
			j = ntips++;
			memset(&tips[j], 0, sizeof(tips[j]));
			strmap_put(&bytip, hex, j);
			if (tip_pending(git, &branch, &reach, tiptree, &id,
			    &tips[j], err) == -1) {
				log_warn("inbox: %s: %s", refs[i], err->msg);
				tipres_release(&tips[j]);
				continue;
			}
			log_debug("inbox: %s at %.12s: %zu pending", refs[i],
			    hex, tips[j].n);
		}
		for (k = 0; k < tips[j].n; k++)
			collect_add(&co, &tips[j].c[k], refs[i], &id);
	}
	if (co.n) {
		held = xcalloc(co.n, 1);
		if (branch_held(git, &branch, co.v, co.n, held, err) == -1)
			goto out;
		for (i = j = 0; i < co.n; i++) {
			if (held[i])
				inbox_free_one(&co.v[i]);
			else
				co.v[j++] = co.v[i];
		}
		co.n = j;
		qsort(co.v, co.n, sizeof(*co.v), cmp_item);
	}
	for (i = 0; i < co.n; i++)
		item_eval(r, s, &co.v[i]);
	*out = co.v;
	*n = co.n;
	co.v = NULL;
	co.n = 0;
	rc = 0;
out:
	inbox_free(co.v, co.n);
	strmap_release(&co.byversion);
	for (i = 0; i < ntips; i++)
		tipres_release(&tips[i]);
	free(tips);
	strmap_release(&bytip);
	strmap_release(&reach);
	free(held);
	strv_free(refs, nrefs);
	git_tree_free(tiptree);
	git_commit_free(tipc);
	return rc;
}

static void
inbox_free_one(struct inbox_item *it)
{
	free(it->path);
	strv_free(it->refs, it->nrefs);
	free(it->error);
	if (it->valid) {
		policy_eval_release(it->ev, it->req.ngrants);
		request_release(&it->req);
	}
	free(it->ev);
	strv_free(it->approvers, it->napprovers);
	memset(it, 0, sizeof(*it));
}

void
inbox_free(struct inbox_item *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		inbox_free_one(&v[i]);
	free(v);
}

int
inbox_may_approve(const struct snapshot *s, const struct inbox_item *it,
    const char *reviewer)
{
	size_t j, k;

	if (!it->valid || reviewer == NULL || *reviewer == '\0')
		return 0;
	for (j = 0; j < it->req.ngrants; j++) {
		const struct rule *ru = it->ev[j].rule;
		if (!grant_allowed(&it->ev[j]))
			continue;
		if (!ru->self_approval && str_eq_ci(reviewer, it->req.requester))
			continue;
		for (k = 0; k < ru->nsteps; k++)
			if (config_person_matches(&s->cfg, ru->steps[k].from,
			    ru->steps[k].nfrom, reviewer))
				return 1;
	}
	return 0;
}
