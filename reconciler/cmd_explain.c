/*
 * explain [--ref-only] FILE: the whole story of one request file.
 * Whether it parsed, who asked, and for each grant the decision, the
 * rule that made it, the approval found in git, what is still missing,
 * the expiry, and what apply would do now.  The file is explained as it
 * stands at the ref (the branch apply reads), unless the working tree
 * holds another version: that one is explained with the ref's config
 * and policies, as not merged and therefore not approved.  "What apply
 * would do" is read from the state the last run recorded (DESIGN §12);
 * no platform is called, and the state database is never created here.
 *
 * The working tree is untrusted input: a request path there may be a
 * symbolic link to a file anywhere, a FIFO or a directory, and its
 * content ends up quoted in messages.  So only a regular file whose
 * directory resolves inside the working tree is read, it is opened
 * without following a final symlink (and without blocking on a FIFO
 * swapped in after the check), and anything else is refused by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "run.h"
#include "state.h"
#include "util.h"

/* What apply would do with one grant. */
struct verdict {
	const char *action;	/* grant revoke adopt none; NULL: unknown */
	char *account;		/* owned, NULL when unknown */
	const char *reason;	/* a change reason (§5) or a state word */
	char *detail;		/* owned: one sentence */
};

/* What the last run recorded, when there is a state database. */
struct recorded {
	int have;		/* a run has recorded state */
	struct sgrant *sg;	/* accord's grants */
	size_t nsg;
	struct answers outside;	/* grants held outside accord */
	struct identities ids;	/* every ingested identity */
};

/* The request being explained. */
struct subject {
	char *path;		/* repository path, "requests/a/b.yaml" */
	char blob[41];
	int worktree;		/* source: the working tree, not the ref */
	int at_ref;		/* the path exists at the ref */
	int gone_in_worktree;	/* at the ref, deleted in the work tree */
	int valid;
	struct diag error;	/* when !valid */
	const struct request *req;	/* when valid: borrowed or &own */
	const struct approval *appr;	/* NULL when not merged */
	struct grant_eval *ev;	/* req->ngrants entries */
	struct request own;	/* a working-tree request */
	int have_own;
	struct grant_eval *own_ev;
	struct verdict *v;	/* req->ngrants entries */
};

static int
is_request_path(const char *p)
{
	size_t n = strlen(p);

	return strncmp(p, "requests/", 9) == 0 && n > 9 &&
	    ((n > 5 && strcmp(p + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(p + n - 4, ".yml") == 0));
}

/* FILE as a path from the repository root, or NULL when it cannot be one
 * (absolute, or climbing out with ".."). */
static char *
root_relative(const char *file)
{
	const char *p = file;

	while (strncmp(p, "./", 2) == 0)
		p += 2;
	if (*p == '/' || *p == '\0' || strncmp(p, "../", 3) == 0 ||
	    strstr(p, "/../") != NULL || strcmp(p, "..") == 0)
		return NULL;
	return xstrdup(p);
}

/* FILE taken relative to the cwd, as a path inside the working tree
 * `root` (a realpath), or NULL when it lies outside.  The file itself
 * need not exist; its directory must. */
static char *
cwd_relative(const char *root, const char *file)
{
	const char *slash = strrchr(file, '/'), *base;
	char *dir, *real, *rel = NULL;
	size_t n = strlen(root);

	if (slash == NULL) {
		dir = xstrdup(".");
		base = file;
	} else {
		dir = slash == file ? xstrdup("/") : xstrndup(file,
		    (size_t)(slash - file));
		base = slash + 1;
	}
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL || *base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		goto out;
	if (strcmp(real, root) == 0)
		rel = xstrdup(base);
	else if (strncmp(real, root, n) == 0 && (real[n] == '/' ||
	    (n == 1 && root[0] == '/')))
		rel = xasprintf("%s/%s", real + n + (root[n - 1] != '/'), base);
out:
	free(real);
	return rel;
}

static const struct loaded_request *
find_loaded(const struct snapshot *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->nreqs; i++)
		if (strcmp(s->reqs[i].entry.path, path) == 0)
			return &s->reqs[i];
	return NULL;
}

/* Does root/path name anything in the working tree?  Never follows a
 * final symlink, never opens: a name that exists in any form counts, so
 * that it is then refused by name rather than silently passed over. */
static int
on_disk(const char *root, const char *path)
{
	struct stat st;
	char *full;
	int rc;

	if (root == NULL)
		return 0;
	full = xasprintf("%s/%s", root, path);
	rc = lstat(full, &st) == 0;
	free(full);
	return rc;
}

/*
 * Which repository path FILE names.  A path inside the working tree taken
 * from the cwd wins when it exists (or when the root-relative reading
 * names nothing); otherwise FILE is read from the repository root.
 * Returns NULL (err set) when FILE names no path in the repository.
 */
static char *
resolve_path(const struct snapshot *s, const char *root, const char *file,
    struct diag *err)
{
	char *fromroot = root_relative(file), *fromcwd = NULL;

	if (root != NULL)
		fromcwd = cwd_relative(root, file);
	if (fromcwd != NULL && fromroot != NULL &&
	    strcmp(fromcwd, fromroot) != 0) {
		if (!on_disk(root, fromcwd) && !find_loaded(s, fromcwd) &&
		    (on_disk(root, fromroot) || find_loaded(s, fromroot))) {
			free(fromcwd);
			return fromroot;
		}
	}
	if (fromcwd != NULL) {
		free(fromroot);
		return fromcwd;
	}
	if (fromroot == NULL)
		diag_set(err, "%s: not a path inside the access repository",
		    file);
	return fromroot;
}

/* The most read from a working-tree file: enough to hash any file a
 * person might take for a request (beyond YML_MAX_BYTES it is invalid,
 * but still has a blob), not a whole disk. */
#define WT_READ_MAX	(16 * YML_MAX_BYTES)

static const char *
file_kind(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "of an unknown type";
}

/*
 * What the working tree holds at root/path: 1 and *st when a regular file
 * whose directory resolves inside root, 0 when nothing is there, -1 with
 * err for anything else (a symlink, a FIFO, a directory, a directory
 * leading out of the working tree).  Nothing is opened.
 */
static int
wt_examine(const char *root, const char *path, struct stat *st,
    struct diag *err)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;
	size_t n = strlen(root);
	int rc = -1, inside;

	dir = slash ? xasprintf("%s/%.*s", root, (int)(slash - path), path) :
	    xstrdup(root);
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return diag_set(err, "%s: cannot resolve its directory: %s",
		    path, strerror(errno));
	}
	inside = strncmp(real, root, n) == 0 && (real[n] == '\0' ||
	    real[n] == '/' || (n == 1 && root[0] == '/'));
	if (!inside) {
		diag_set(err, "%s: its directory resolves to %s, outside the "
		    "working tree %s; refusing to read it", path, real, root);
		goto out;
	}
	dir = xasprintf("%s/%s", root, path);
	if (lstat(dir, st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;
		else
			diag_set(err, "%s: cannot stat: %s", path,
			    strerror(errno));
	} else if (!S_ISREG(st->st_mode))
		diag_set(err, "%s: not a regular file (%s); refusing to read "
		    "it", path, file_kind(st->st_mode));
	else
		rc = 1;
	free(dir);
out:
	free(real);
	return rc;
}

/*
 * Read the regular file full (path: its repository path, for messages)
 * that wt_examine found as *seen: all of it up to WT_READ_MAX bytes,
 * NUL-terminated (free()).  O_NOFOLLOW and O_NONBLOCK, then the same
 * inode checked again, so that a symlink or FIFO swapped in since is
 * neither followed nor waited on.
 */
static int
wt_read(const char *full, const char *path, const struct stat *seen,
    char **data, size_t *len, struct diag *err)
{
	struct stat st;
	char *p = NULL;
	size_t n = 0, cap;
	ssize_t got;
	int fd, rc = -1;

	if ((fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			return diag_set(err, "%s: not a regular file (a "
			    "symbolic link); refusing to read it", path);
		return diag_set(err, "%s: cannot open: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		diag_set(err, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != seen->st_dev ||
	    st.st_ino != seen->st_ino) {
		diag_set(err, "%s: replaced while being examined; refusing to "
		    "read it", path);
		goto out;
	}
	cap = st.st_size > 0 && st.st_size <= WT_READ_MAX ?
	    (size_t)st.st_size + 1 : 4096;
	p = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap = cap * 2 > WT_READ_MAX + 1 ? WT_READ_MAX + 1 :
			    cap * 2;
			p = xrealloc(p, cap + 1);
		}
		got = read(fd, p + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			diag_set(err, "%s: cannot read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > WT_READ_MAX) {
			diag_set(err, "%s: larger than %d bytes; refusing to "
			    "read it", path, WT_READ_MAX);
			goto out;
		}
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}

/* The blob id git would give data as path: the same filters (line
 * endings, ident) as `git hash-object PATH`, applied to the bytes read. */
static int
wt_hash(git_oid *oid, struct repo *repo, const char *path, const char *data,
    size_t len, struct diag *err)
{
	git_filter_list *fl = NULL;
	git_buf out = { 0 };
	int rc;

	if (git_filter_list_load(&fl, repo_git(repo), NULL, path,
	    GIT_FILTER_TO_ODB, GIT_FILTER_DEFAULT) != 0)
		goto fail;
	if (fl == NULL)
		rc = git_odb_hash(oid, data, len, GIT_OBJECT_BLOB);
	else if ((rc = git_filter_list_apply_to_buffer(&out, fl, data,
	    len)) == 0)
		rc = git_odb_hash(oid, out.ptr, out.size, GIT_OBJECT_BLOB);
	git_buf_dispose(&out);
	git_filter_list_free(fl);
	if (rc == 0)
		return 0;
fail:
	{
		const git_error *ge = git_error_last();
		return diag_set(err, "%s: cannot hash: %s", path,
		    ge && ge->message ? ge->message : "error");
	}
}

/* Parse and evaluate the working-tree version (data, len) with the ref's
 * config and policies, as not merged (no approval). */
static void
load_worktree(struct subject *x, const struct snapshot *s, const char *data,
    size_t len, int64_t now)
{
	diag_clear(&x->error);
	if (len > YML_MAX_BYTES) {
		diag_setat(&x->error, x->path, 1, 1, "file is larger than "
		    "%d bytes", YML_MAX_BYTES);
	} else if (request_parse(&x->own, x->path, data, len, &s->cfg,
	    &x->error) == 0) {
		memcpy(x->own.blob, x->blob, sizeof(x->own.blob));
		x->have_own = 1;
		if (request_check_managed(&s->cfg, &x->own, &x->error) == 0)
			x->valid = 1;
	}
	if (!x->valid)
		return;
	x->req = &x->own;
	x->own_ev = xcalloc(x->own.ngrants ? x->own.ngrants : 1,
	    sizeof(*x->own_ev));
	policy_eval(x->own_ev, &s->ps, &s->cfg, &x->own, NULL, now);
	x->ev = x->own_ev;
}

static void
recorded_release(struct recorded *rec)
{
	sgrants_free(rec->sg, rec->nsg);
	answers_release(&rec->outside);
	identities_release(&rec->ids);
	memset(rec, 0, sizeof(*rec));
}

/* What the last run recorded.  A missing database is no state, never an
 * error, and is not created. */
static int
recorded_load(struct recorded *rec, const char *dbpath, struct diag *err)
{
	struct state *st = NULL;
	int rc = -1;

	memset(rec, 0, sizeof(*rec));
	switch (answers_state_open(&st, dbpath, err)) {
	case 0:
		return 0;
	case -1:
		goto out;
	}
	if (state_grants_load(st, &rec->sg, &rec->nsg, err) == -1 ||
	    answers_outside(st, NULL, &rec->outside, err) == -1 ||
	    answers_identities(st, NULL, 0, &rec->ids, err) == -1)
		goto out;
	rec->have = 1;
	rc = 0;
out:
	if (rc == -1)
		diag_prefix(err, "state %s", dbpath);
	state_close(st);
	return rc;
}


static int
same_grant(const char *p1, const char *t1, const char *v1, const char *p2,
    const char *t2, const char *v2)
{
	return p1 && t1 && v1 && p2 && t2 && v2 && strcmp(p1, p2) == 0 &&
	    strcmp(t1, t2) == 0 && strcasecmp(v1, v2) == 0;
}

/* accord's own record of this grant, if any. */
static const struct sgrant *
held_by_accord(const struct recorded *rec, const struct request *r,
    const struct grant_req *g, const char *acct)
{
	size_t i;

	for (i = 0; i < rec->nsg; i++) {
		const struct sgrant *sg = &rec->sg[i];
		if (!same_grant(sg->platform, sg->target, sg->privilege,
		    g->platform, g->target, g->privilege))
			continue;
		if (acct ? strcmp(sg->account, acct) == 0 : (g->grantee ==
		    NULL && sg->person && str_eq_ci(sg->person, r->requester)))
			return sg;
	}
	return NULL;
}

/* The same grant held outside accord, if any (account known only). */
static const struct answer *
held_outside(const struct recorded *rec, const struct grant_req *g,
    const char *acct)
{
	size_t i;

	if (acct == NULL)
		return NULL;
	for (i = 0; i < rec->outside.n; i++) {
		const struct answer *a = &rec->outside.v[i];
		if (a->via == NULL && a->account &&
		    strcmp(a->account, acct) == 0 && same_grant(a->platform,
		    a->target, a->privilege, g->platform, g->target,
		    g->privilege))
			return a;
	}
	return NULL;
}

static void
verdict_set(struct verdict *v, const char *action, const char *account,
    const char *reason, char *detail)
{
	v->action = action;
	v->account = xstrdup(account);
	v->reason = reason;
	v->detail = detail;
}

/*
 * A grant that is not desired now but is held: what apply does with it.
 * Returns 1 when it decided, 0 when nothing is held.
 */
static int
undesired_held(struct verdict *v, const struct platform_cfg *pc,
    const struct sgrant *sg, const struct answer *out, const char *acct,
    const char *why, int64_t now, const char *path)
{
	char t[TIME_STR_MAX];

	if (sg == NULL && out == NULL)
		return 0;
	if (pc && config_is_protected(pc, sg ? sg->account : out->account)) {
		verdict_set(v, "none", sg ? sg->account : out->account,
		    "protected", xasprintf("none: %s is a protected account",
		    sg ? sg->account : out->account));
		return 1;
	}
	if (sg != NULL) {
		/* as plan.c's revoke_reason: a window that ended first */
		const char *r = sg->expires_at && now >= sg->expires_at ?
		    "expired" : why;
		if (sg->request && strcmp(sg->request, path) != 0 &&
		    strcmp(r, "expired") != 0) {
			verdict_set(v, "none", sg->account, "other request",
			    xasprintf("none: held since %s, granted by accord "
			    "for %s", time_format(t, sizeof(t), sg->granted_at),
			    sg->request));
			return 1;
		}
		verdict_set(v, "revoke", sg->account, r,
		    xasprintf("revoke (%s)", r));
		return 1;
	}
	if (pc && pc->drift == DRIFT_ENFORCE)
		verdict_set(v, "revoke", acct, "drift", xasprintf("revoke "
		    "(drift): held outside accord and not approved here"));
	else
		verdict_set(v, "none", acct, "drift", xasprintf("none: held "
		    "outside accord (drift: report)"));
	return 1;
}

/* What apply would do now with grant j of a valid request at the ref;
 * mine: the requester's account there (any: the platform has
 * identities). */
static void
judge_with(struct verdict *v, const struct subject *x,
    const struct snapshot *s, const struct recorded *rec, size_t j,
    const char *mine, int any)
{
	const struct request *r = x->req;
	const struct grant_req *g = &r->grants[j];
	const struct grant_eval *ev = &x->ev[j];
	const struct platform_cfg *pc = config_platform(&s->cfg, g->platform);
	const struct sgrant *sg = NULL;
	const struct answer *out = NULL;
	const char *acct = g->grantee;
	char t[TIME_STR_MAX];

	if (x->worktree) {
		if (ev->status == GS_DENIED)
			verdict_set(v, "none", acct, "denied",
			    xasprintf("none: denied by policy, even once "
			    "merged"));
		else
			verdict_set(v, "none", acct, "not merged", xasprintf(
			    "none yet: not merged; %d approval%s missing",
			    ev->needed, ev->needed == 1 ? "" : "s"));
		return;
	}
	if (rec->have) {
		if (acct == NULL)
			acct = mine;
		sg = held_by_accord(rec, r, g, acct);
		out = sg ? NULL : held_outside(rec, g, acct);
	}
	switch (ev->status) {
	case GS_PENDING:
		if (rec->have && undesired_held(v, pc, sg, out, acct,
		    "withdrawn", s->now, x->path))
			return;
		verdict_set(v, "none", acct, "pending", xasprintf("none yet: "
		    "%d approval%s missing", ev->needed, ev->needed == 1 ?
		    "" : "s"));
		return;
	case GS_NOT_STARTED:
		if (rec->have && undesired_held(v, pc, sg, out, acct,
		    "withdrawn", s->now, x->path))
			return;
		verdict_set(v, "none", acct, "not started", xasprintf("none "
		    "until %s", time_format(t, sizeof(t), r->starts)));
		return;
	case GS_EXPIRED:
	case GS_DENIED:
		if (!rec->have)
			break;
		if (!undesired_held(v, pc, sg, out, acct, ev->status ==
		    GS_EXPIRED ? "expired" : "denied", s->now, x->path))
			verdict_set(v, "none", acct, ev->status == GS_EXPIRED ?
			    "expired" : "denied", xasprintf("none: not held"));
		return;
	case GS_ACTIVE:
		if (!rec->have)
			break;
		if (sg != NULL) {
			if (sg->request && strcmp(sg->request, x->path) == 0 &&
			    (sg->blob == NULL || strcmp(sg->blob, x->blob) ||
			    sg->expires_at != ev->expires_at))
				verdict_set(v, "adopt", sg->account, "request",
				    xasprintf("adopt: held since %s (granted "
				    "by accord for an earlier version); "
				    "recorded under this version",
				    time_format(t, sizeof(t), sg->granted_at)));
			else
				verdict_set(v, "none", sg->account, "held",
				    xasprintf("none: held since %s (granted by "
				    "accord%s%s)", time_format(t, sizeof(t),
				    sg->granted_at), sg->request && strcmp(
				    sg->request, x->path) ? " for " : "",
				    sg->request && strcmp(sg->request,
				    x->path) ? sg->request : ""));
		} else if (out != NULL)
			verdict_set(v, "adopt", acct, "request", xasprintf(
			    "adopt: %s already holds it outside accord; accord "
			    "records it under this request", acct));
		else if (acct != NULL)
			verdict_set(v, "grant", acct, "request",
			    xasprintf("grant to %s", acct));
		else if (any)
			verdict_set(v, "grant", NULL, "no account", xasprintf(
			    "grant_failed: no account for %s on %s",
			    r->requester, g->platform));
		else
			verdict_set(v, "grant", NULL, "request", xasprintf(
			    "grant (account resolved at apply)"));
		return;
	}
	verdict_set(v, NULL, acct, "no state",
	    xasprintf("no state yet: apply has not run"));
}

static void
judge(struct verdict *v, const struct subject *x, const struct snapshot *s,
    const struct recorded *rec, size_t j)
{
	const struct grant_req *g = &x->req->grants[j];
	char *mine = NULL;
	int any = 0;

	if (rec->have)
		mine = stored_account(&rec->ids, config_platform(&s->cfg,
		    g->platform), g->platform, x->req->requester, &any);
	judge_with(v, x, s, rec, j, mine, any);
	free(mine);
}

static void
subject_release(struct subject *x)
{
	size_t i, n = x->req ? x->req->ngrants : 0;

	for (i = 0; x->v && i < n; i++) {
		free(x->v[i].account);
		free(x->v[i].detail);
	}
	free(x->v);
	if (x->own_ev) {
		policy_eval_release(x->own_ev, x->own.ngrants);
		free(x->own_ev);
	}
	if (x->have_own)
		request_release(&x->own);
	free(x->path);
}

/* --- output ----------------------------------------------------------- */

static int
approved_status(enum grant_status st)
{
	return st == GS_ACTIVE || st == GS_NOT_STARTED || st == GS_EXPIRED;
}

static void
show_json(const struct subject *x, const struct snapshot *s,
    const struct diag *fatal)
{
	json_t *doc = json_object(), *a, *o, *e, *ap;
	const struct diag *d = fatal ? fatal : (!x->valid ? &x->error : NULL);
	char rule[600];
	size_t j, k;

	json_object_set_new(doc, "file", jstr(x->path));
	json_object_set_new(doc, "blob", x->blob[0] ? json_string(x->blob) :
	    json_null());
	json_object_set_new(doc, "source", fatal ? json_null() :
	    json_string(x->worktree ? "worktree" : "ref"));
	json_object_set_new(doc, "ref", jstr(s ? s->ref : NULL));
	json_object_set_new(doc, "commit", s ? json_string(s->commit) :
	    json_null());
	json_object_set_new(doc, "now", jtime(s ? s->now : 0));
	json_object_set_new(doc, "valid", json_boolean(!fatal && x->valid));
	if (d != NULL) {
		e = json_object();
		json_object_set_new(e, "file", d->file[0] ? json_string(d->file)
		    : json_null());
		json_object_set_new(e, "line", d->line ? json_integer(d->line)
		    : json_null());
		json_object_set_new(e, "column", d->column ?
		    json_integer(d->column) : json_null());
		json_object_set_new(e, "message", json_string(d->msg));
		json_object_set_new(doc, "error", e);
	} else
		json_object_set_new(doc, "error", json_null());
	json_object_set_new(doc, "requester", jstr(x->valid ?
	    x->req->requester : NULL));
	json_object_set_new(doc, "reason", jstr(x->valid ? x->req->reason :
	    NULL));
	json_object_set_new(doc, "worktree_differs", json_boolean(x->worktree
	    && x->at_ref));
	json_object_set_new(doc, "deleted_in_worktree",
	    json_boolean(x->gone_in_worktree));
	a = json_array();
	for (j = 0; !fatal && x->valid && j < x->req->ngrants; j++) {
		const struct grant_req *g = &x->req->grants[j];
		const struct grant_eval *ev = &x->ev[j];
		const struct verdict *v = &x->v[j];

		o = json_object();
		json_object_set_new(o, "platform", json_string(g->platform));
		json_object_set_new(o, "target", json_string(g->target));
		json_object_set_new(o, "privilege", json_string(g->privilege));
		json_object_set_new(o, "grantee", jstr(g->grantee));
		json_object_set_new(o, "decision",
		    json_string(grant_status_names[ev->status]));
		if (ev->rule) {
			snprintf(rule, sizeof(rule), "%s#%d", ev->rule->file,
			    ev->rule->index);
			json_object_set_new(o, "rule", json_string(rule));
		} else
			json_object_set_new(o, "rule", json_null());
		json_object_set_new(o, "why", json_string(ev->why));
		e = json_array();
		for (k = 0; k < ev->napprovers; k++)
			json_array_append_new(e, json_string(ev->approvers[k]));
		json_object_set_new(o, "approvers", e);
		e = json_array();
		for (k = 0; x->appr && k < x->appr->napprovers; k++)
			json_array_append_new(e,
			    json_string(x->appr->approvers[k]));
		json_object_set_new(o, "approvers_found", e);
		json_object_set_new(o, "needed", ev->status == GS_DENIED ?
		    json_null() : json_integer(ev->status == GS_PENDING ?
		    ev->needed : 0));
		json_object_set_new(o, "approval_commit", x->appr ?
		    json_string(x->appr->commit) : json_null());
		json_object_set_new(o, "approved_at", jtime(x->appr ?
		    x->appr->approved_at : 0));
		json_object_set_new(o, "starts_at", jtime(x->req->starts));
		json_object_set_new(o, "expires_at", jtime(
		    approved_status(ev->status) ? ev->expires_at : 0));
		ap = json_object();
		json_object_set_new(ap, "action", jstr(v->action));
		json_object_set_new(ap, "account", jstr(v->account));
		json_object_set_new(ap, "reason", jstr(v->reason));
		json_object_set_new(ap, "detail", jstr(v->detail));
		json_object_set_new(o, "apply", ap);
		json_array_append_new(a, o);
	}
	json_object_set_new(doc, "grants", a);
	if (!fatal && !x->valid) {
		ap = json_object();
		json_object_set_new(ap, "action", json_string("none"));
		json_object_set_new(ap, "reason", json_string("invalid"));
		json_object_set_new(ap, "detail", json_string("nothing new; "
		    "grants already obtained are kept (§6)"));
		json_object_set_new(doc, "apply", ap);
	}
	json_print(doc);
}

static void
show_text(const struct subject *x, const struct snapshot *s)
{
	char line[DIAG_MSG_MAX + 600], t[TIME_STR_MAX];
	size_t j, k;

	printf("%s\n", x->path);
	printf("  blob:      %s\n", x->blob);
	if (x->worktree && x->at_ref)
		printf("  source:    working tree differs from %s: not merged, "
		    "so not approved\n", s->ref);
	else if (x->worktree)
		printf("  source:    working tree only, not at %s: not merged, "
		    "so not approved\n", s->ref);
	else
		printf("  source:    %s at %.12s\n", s->ref, s->commit);
	if (x->gone_in_worktree)
		printf("  note:      deleted in the working tree; merging the "
		    "deletion withdraws its grants\n");
	if (!x->valid) {
		diag_format(&x->error, line, sizeof(line));
		printf("  invalid:   %s\n", line);
		printf("  apply:     nothing new; grants already obtained are "
		    "kept (§6)\n");
		return;
	}
	printf("  requester: %s\n", x->req->requester);
	printf("  reason:    %s\n", x->req->reason ? x->req->reason : "");
	if (x->appr) {
		printf("  approval:  commit %s at %s\n", x->appr->commit,
		    time_format(t, sizeof(t), x->appr->approved_at));
		printf("  found:     ");
		for (k = 0; k < x->appr->napprovers; k++)
			printf("%s%s", k ? ", " : "", x->appr->approvers[k]);
		printf("%s\n", x->appr->napprovers ? "" : "(no approvers in "
		    "git)");
	}
	for (j = 0; j < x->req->ngrants; j++) {
		const struct grant_req *g = &x->req->grants[j];
		const struct grant_eval *ev = &x->ev[j];

		printf("grant %zu: %s %s on %s for %s\n", j + 1, g->platform,
		    g->privilege, g->target, g->grantee ? g->grantee :
		    x->req->requester);
		printf("  decision:  %s\n", grant_status_names[ev->status]);
		if (ev->rule)
			printf("  rule:      %s#%d\n", ev->rule->file,
			    ev->rule->index);
		else
			printf("  rule:      (no rule: default deny)\n");
		printf("  why:       %s\n", ev->why);
		if (ev->status != GS_DENIED) {
			printf("  approvers: ");
			for (k = 0; k < ev->napprovers; k++)
				printf("%s%s", k ? ", " : "", ev->approvers[k]);
			printf("%s (%zu counted)\n", ev->napprovers ? "" :
			    "none", ev->napprovers);
			printf("  needed:    %d more\n", ev->status ==
			    GS_PENDING ? ev->needed : 0);
		}
		if (approved_status(ev->status))
			printf("  expires:   %s\n", ev->expires_at ?
			    time_format(t, sizeof(t), ev->expires_at) :
			    "no expiry");
		else if (ev->status == GS_PENDING)
			printf("  expires:   counted from the approval\n");
		printf("  apply:     %s\n", x->v[j].detail);
	}
}

int
cmd_explain(const struct opts *o, int argc, char **argv)
{
	static const char usage[] = "usage: accord explain [--ref-only] FILE";
	const char *file = NULL, *wd;
	struct subject x;
	struct snapshot s;
	struct recorded rec;
	struct repo *repo = NULL;
	struct diag err;
	struct stat wst;
	char *root = NULL, *full = NULL, *data = NULL;
	size_t len = 0, j;
	int ref_only = 0, loaded = 0, rc = EXIT_ERROR, i, w;
	const struct loaded_request *lr;

	memset(&x, 0, sizeof(x));
	memset(&rec, 0, sizeof(rec));
	diag_clear(&err);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ref-only") == 0)
			ref_only = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			goto usage;
		else if (file == NULL)
			file = argv[i];
		else
			goto usage;
	}
	if (file == NULL || *file == '\0')
		goto usage;
	if (repo_open(&repo, o->repo, &err) == -1 ||
	    snapshot_load(&s, repo, o->ref, NULL, o->now, NULL, &err) == -1)
		goto fatal;
	loaded = 1;
	wd = git_repository_workdir(repo_git(repo));
	if (wd != NULL)
		root = realpath(wd, NULL);
	if ((x.path = resolve_path(&s, root, file, &err)) == NULL)
		goto fatal;
	if (!is_request_path(x.path)) {
		diag_set(&err, "%s: not a request file (requests/**/*.yaml)",
		    x.path);
		goto fatal;
	}
	lr = find_loaded(&s, x.path);
	x.at_ref = lr != NULL;
	if (!ref_only && root != NULL) {
		if ((w = wt_examine(root, x.path, &wst, &err)) == -1)
			goto fatal;
		if (w == 1) {
			git_oid oid;
			full = xasprintf("%s/%s", root, x.path);
			if (wt_read(full, x.path, &wst, &data, &len,
			    &err) == -1 || wt_hash(&oid, repo, x.path, data,
			    len, &err) == -1)
				goto fatal;
			git_oid_tostr(x.blob, sizeof(x.blob), &oid);
			x.worktree = lr == NULL || strcmp(x.blob,
			    lr->entry.blob) != 0;
		} else
			x.gone_in_worktree = lr != NULL;
	}
	if (x.worktree)
		load_worktree(&x, &s, data, len, o->now);
	else if (lr != NULL) {
		memcpy(x.blob, lr->entry.blob, sizeof(x.blob));
		x.valid = lr->valid;
		if (lr->valid) {
			x.req = &lr->req;
			x.appr = &lr->appr;
			x.ev = lr->ev;
		} else
			x.error = *lr->error;
	} else {
		diag_set(&err, "%s: not found at %s (%.12s)%s", x.path, s.ref,
		    s.commit, ref_only ? "" : " nor in the working tree");
		goto fatal;
	}
	if (x.valid) {
		if (recorded_load(&rec, o->state, &err) == -1)
			goto fatal;
		x.v = xcalloc(x.req->ngrants ? x.req->ngrants : 1,
		    sizeof(*x.v));
		for (j = 0; j < x.req->ngrants; j++)
			judge(&x.v[j], &x, &s, &rec, j);
	}
	if (o->json)
		show_json(&x, &s, NULL);
	else
		show_text(&x, &s);
	rc = x.valid ? EXIT_OK : EXIT_ERROR;
	goto out;
usage:
	fprintf(stderr, "%s\n", usage);
	if (o->json) {
		/* §13: the document on every exit code, usage included */
		diag_set(&err, "%s", usage);
		x.path = file && *file ? xstrdup(file) : NULL;
		show_json(&x, NULL, &err);
		free(x.path);
	}
	return EXIT_USAGE;
fatal:
	diag_print(&err, stderr);
	if (o->json) {
		if (x.path == NULL)
			x.path = xstrdup(file);
		show_json(&x, loaded ? &s : NULL, &err);
	}
	rc = EXIT_ERROR;
out:
	recorded_release(&rec);
	subject_release(&x);
	free(data);
	free(full);
	free(root);
	if (loaded)
		snapshot_release(&s);
	repo_free(repo);
	return rc;
}
