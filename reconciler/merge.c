/*
 * The merge behind approval by reaction (DESIGN §12), with libgit2 only:
 * the tree comes from git_merge_commits (a conflict leaves everything as
 * it was), the commit is written without touching any ref, then the
 * branch is moved with a compare-and-swap against the tip the caller
 * read, so that a concurrent push is never overwritten.  The push goes
 * through git_remote_push; a remote that refuses it (not a fast forward,
 * unreachable, rejected by a hook) makes us move the branch back, again
 * by compare-and-swap, so the local branch never claims a merge the
 * remote does not have.  The work tree and index are never touched:
 * accord reads only from the object database.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "buf.h"
#include "merge.h"
#include "util.h"

static const char *
lg_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static int
oid_parse(git_oid *id, const char *hex, const char *what, struct diag *err)
{
	if (hex == NULL || strlen(hex) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(id, hex) < 0)
		return diag_set(err, "merge: %s '%s' is not a commit id", what,
		    hex ? hex : "");
	return 0;
}

/* A copy of s fit for a signature or a trailer: no line breaks, no angle
 * brackets, not empty. */
static char *
clean_name(const char *s, const char *fallback)
{
	char *c, *p;

	c = xstrdup(s && *s ? s : fallback);
	for (p = c; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '<' || *p == '>')
			*p = ' ';
	return c;
}

char *
merge_message(const char *path, char *const *names, char *const *emails,
    size_t n)
{
	struct buf b;
	char *name, *email, *local;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "Merge request %s (approved by reaction)\n", path);
	if (n)
		buf_puts(&b, "\n");
	for (i = 0; i < n; i++) {
		local = email_local(emails[i]);
		name = clean_name(names ? names[i] : NULL, local);
		email = clean_name(emails[i], "");
		buf_printf(&b, "Approved-by: %s <%s>\n", name, email);
		free(local);
		free(name);
		free(email);
	}
	return buf_detach(&b);
}

/* Records what the remote said about each pushed ref. */
struct push_status {
	char msg[256];
	int rejected;
};

static int
on_push_update(const char *refname, const char *status, void *data)
{
	struct push_status *ps = data;

	if (status != NULL && !ps->rejected) {
		ps->rejected = 1;
		snprintf(ps->msg, sizeof(ps->msg), "%s: %s", refname, status);
	}
	return 0;
}

/*
 * The URL to push to for `remote`: remote.NAME.pushurl, else
 * remote.NAME.url, else `remote` itself when it looks like a URL or a
 * path.  Read from the config directly rather than through
 * git_remote_lookup, whose regular expressions leak in libgit2 1.5
 * (pcre2 match data on a miss); url.*.insteadOf is not applied.
 */
static char *
push_url(git_repository *git, const char *remote, struct diag *err)
{
	git_config *cfg = NULL;
	git_buf b = GIT_BUF_INIT;
	char *key, *url = NULL;
	const char *const kinds[] = { "pushurl", "url" };
	size_t i;

	if (git_repository_config_snapshot(&cfg, git) < 0) {
		diag_set(err, "reading git config: %s", lg_msg());
		return NULL;
	}
	for (i = 0; i < 2 && url == NULL; i++) {
		key = xasprintf("remote.%s.%s", remote, kinds[i]);
		if (git_config_get_string_buf(&b, cfg, key) == 0 && b.size)
			url = xstrdup(b.ptr);
		git_buf_dispose(&b);
		free(key);
	}
	git_config_free(cfg);
	if (url == NULL && (strchr(remote, '/') || strchr(remote, ':')))
		url = xstrdup(remote);
	if (url == NULL)
		diag_set(err, "no remote named '%s'", remote);
	return url;
}

/* Push `branch` to `remote` (a configured remote name, else a URL or a
 * path).  0 pushed, -1 with err set. */
static int
push_branch(git_repository *git, const char *remote, const char *branch,
    struct diag *err)
{
	git_remote *rem = NULL;
	git_remote_create_options co;
	git_push_options po;
	struct push_status ps;
	git_strarray specs;
	char *spec = xasprintf("%s:%s", branch, branch), *url;
	char *strs[1];
	int rc = -1;

	memset(&ps, 0, sizeof(ps));
	if ((url = push_url(git, remote, err)) == NULL)
		goto out;
	if (git_remote_create_options_init(&co,
	    GIT_REMOTE_CREATE_OPTIONS_VERSION) < 0) {
		diag_set(err, "remote options: %s", lg_msg());
		goto out;
	}
	co.repository = git;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&rem, url, &co) < 0) {
		diag_set(err, "remote '%s': %s", remote, lg_msg());
		goto out;
	}
	if (git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION) < 0) {
		diag_set(err, "push options: %s", lg_msg());
		goto out;
	}
	po.callbacks.push_update_reference = on_push_update;
	po.callbacks.payload = &ps;
	strs[0] = spec;
	specs.strings = strs;
	specs.count = 1;
	if (git_remote_push(rem, &specs, &po) < 0) {
		diag_set(err, "push of %s to '%s' failed: %s", branch, remote,
		    lg_msg());
		goto out;
	}
	if (ps.rejected) {
		diag_set(err, "push of %s to '%s' rejected: %s", branch, remote,
		    ps.msg);
		goto out;
	}
	rc = 0;
out:
	git_remote_free(rem);
	free(url);
	free(spec);
	return rc;
}

/* Move `branch` from `from` to `to` only if it still points at `from`.
 * 0 moved, 1 it had moved, -1 other error. */
static int
ref_cas(git_repository *git, const char *branch, const git_oid *to,
    const git_oid *from, const char *why, struct diag *err)
{
	git_reference *ref = NULL;
	int e;

	e = git_reference_create_matching(&ref, git, branch, to, 1, from, why);
	git_reference_free(ref);
	if (e == GIT_EMODIFIED)
		return 1;
	if (e < 0)
		return diag_set(err, "updating %s: %s", branch, lg_msg());
	return 0;
}

/*
 * Does their side change only `path`, to `blob`?  Compares the trees of
 * the merge base and of theirs.  1 yes, 0 no (err names what else
 * changed), -1 error.
 */
static int
only_change(git_repository *git, const git_oid *ours, const git_oid *theirs,
    const char *path, const char *blob, struct diag *err)
{
	git_commit *bc = NULL, *tc = NULL;
	git_tree *bt = NULL, *tt = NULL;
	git_diff *diff = NULL;
	git_oid base;
	char hex[41];
	size_t i, n;
	int rc = -1, found = 0;

	if (git_merge_base(&base, git, ours, theirs) < 0 ||
	    git_commit_lookup(&bc, git, &base) < 0 ||
	    git_commit_lookup(&tc, git, theirs) < 0 ||
	    git_commit_tree(&bt, bc) < 0 || git_commit_tree(&tt, tc) < 0 ||
	    git_diff_tree_to_tree(&diff, git, bt, tt, NULL) < 0) {
		diag_set(err, "merge: comparing with the merge base: %s",
		    lg_msg());
		goto out;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		git_oid_tostr(hex, sizeof(hex), &d->new_file.id);
		if (d->status == GIT_DELTA_MODIFIED || d->status ==
		    GIT_DELTA_ADDED) {
			if (strcmp(d->new_file.path, path) == 0 &&
			    strcmp(hex, blob) == 0) {
				found = 1;
				continue;
			}
		}
		diag_set(err, "the branch also changes %s, which nobody "
		    "approved by reacting to %s; not merged",
		    d->new_file.path ? d->new_file.path : d->old_file.path,
		    path);
		rc = 0;
		goto out;
	}
	if (!found) {
		diag_set(err, "the branch does not carry %s at the approved "
		    "version; not merged", path);
		rc = 0;
		goto out;
	}
	rc = 1;
out:
	git_diff_free(diff);
	git_tree_free(bt);
	git_tree_free(tt);
	git_commit_free(bc);
	git_commit_free(tc);
	return rc;
}

int
merge_run(struct repo *r, const struct merge_req *m, char out[41],
    struct diag *err)
{
	git_repository *git = repo_git(r);
	git_commit *ours = NULL, *theirs = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_reference *cur = NULL;
	git_merge_options mo;
	git_oid tip, their, tree_id, id;
	const git_commit *parents[2];
	char *aname = NULL, *cname = NULL, hex[41];
	int rc = -1, e;

	out[0] = '\0';
	if (oid_parse(&tip, m->tip, "tip", err) == -1 ||
	    oid_parse(&their, m->theirs, "request commit", err) == -1)
		return -1;
	/* The branch must still be where the caller read it. */
	if (git_reference_lookup(&cur, git, m->branch) < 0) {
		diag_set(err, "merge: %s: %s", m->branch, lg_msg());
		goto out;
	}
	if (git_reference_type(cur) != GIT_REFERENCE_DIRECT ||
	    !git_oid_equal(git_reference_target(cur), &tip)) {
		git_oid_tostr(hex, sizeof(hex), git_reference_target(cur) ?
		    git_reference_target(cur) : &tip);
		diag_set(err, "merge: %s moved from %.12s to %.12s since it "
		    "was read", m->branch, m->tip, hex);
		rc = MERGE_MOVED;
		goto out;
	}
	if (git_commit_lookup(&ours, git, &tip) < 0 ||
	    git_commit_lookup(&theirs, git, &their) < 0) {
		diag_set(err, "merge: %s", lg_msg());
		goto out;
	}
	if (m->only_path != NULL) {
		e = only_change(git, &tip, &their, m->only_path,
		    m->only_blob ? m->only_blob : "", err);
		if (e != 1) {
			rc = e == 0 ? MERGE_SCOPE : -1;
			goto out;
		}
	}
	if (git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION) < 0 ||
	    git_merge_commits(&idx, git, ours, theirs, &mo) < 0) {
		diag_set(err, "merge of %.12s into %s: %s", m->theirs,
		    m->branch, lg_msg());
		goto out;
	}
	if (git_index_has_conflicts(idx)) {
		diag_set(err, "merge of %.12s into %s: conflicts, not merged",
		    m->theirs, m->branch);
		rc = MERGE_CONFLICT;
		goto out;
	}
	if (git_index_write_tree_to(&tree_id, idx, git) < 0 ||
	    git_tree_lookup(&tree, git, &tree_id) < 0) {
		diag_set(err, "merge: writing tree: %s", lg_msg());
		goto out;
	}
	aname = clean_name(m->author.name, "unknown");
	cname = clean_name(m->committer.name, "accord");
	if (git_signature_new(&author, aname, m->author.email,
	    (git_time_t)m->when, 0) < 0 ||
	    git_signature_new(&committer, cname, m->committer.email,
	    (git_time_t)m->when, 0) < 0) {
		diag_set(err, "merge: signature: %s", lg_msg());
		goto out;
	}
	parents[0] = ours;
	parents[1] = theirs;
	if (git_commit_create(&id, git, NULL, author, committer, NULL,
	    m->message, tree, 2, parents) < 0) {
		diag_set(err, "merge: writing commit: %s", lg_msg());
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &id);
	e = ref_cas(git, m->branch, &id, &tip, "accord: merge by reaction", err);
	if (e == 1) {
		diag_set(err, "merge: %s moved while merging; not merged",
		    m->branch);
		rc = MERGE_MOVED;
		goto out;
	}
	if (e == -1)
		goto out;
	if (m->remote && push_branch(git, m->remote, m->branch, err) == -1) {
		struct diag rb;

		e = ref_cas(git, m->branch, &tip, &id,
		    "accord: push failed, merge undone", &rb);
		if (e != 0) {
			diag_prefix(err, "%s, and moving %s back to %.12s "
			    "failed (%s)", m->branch, m->branch, m->tip,
			    e == 1 ? "it moved again" : rb.msg);
			goto out;
		}
		diag_prefix(err, "merge %.12s undone", hex);
		rc = MERGE_PUSH_FAILED;
		goto out;
	}
	memcpy(out, hex, 41);
	rc = MERGE_DONE;
out:
	git_reference_free(cur);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_index_free(idx);
	git_commit_free(ours);
	git_commit_free(theirs);
	free(aname);
	free(cname);
	return rc;
}
