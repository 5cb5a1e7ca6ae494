/*
 * The access repository through libgit2: resolving the branch to one
 * commit, reading files and listing request files from the object database
 * at that commit (never the working tree), and finding, for every request
 * file, the first-parent commit where its current blob appeared (DESIGN
 * §3).  The approval search is one walk down the first-parent chain for
 * all files at once; each step compares the two commits' trees by id and
 * descends only into changed subtrees that still hold an unresolved file,
 * which keeps the cost proportional to what changed (see PERF.md).
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "policy.h"
#include "repo.h"
#include "strmap.h"
#include "util.h"

struct repo {
	git_repository *git;
};

/* libgit2's message for the call that just failed. */
static const char *
lg_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static void
oid_hex(char out[41], const git_oid *id)
{
	git_oid_tostr(out, 41, id);
}

void
approval_release(struct approval *a)
{
	if (a == NULL)
		return;
	strv_free(a->approvers, a->napprovers);
	memset(a, 0, sizeof(*a));
}

static void
approval_copy(struct approval *dst, const struct approval *src)
{
	size_t i;

	memcpy(dst->commit, src->commit, sizeof(dst->commit));
	dst->approved_at = src->approved_at;
	dst->napprovers = src->napprovers;
	dst->approvers = NULL;
	if (src->napprovers) {
		dst->approvers = xcalloc(src->napprovers, sizeof(char *));
		for (i = 0; i < src->napprovers; i++)
			dst->approvers[i] = xstrdup(src->approvers[i]);
	}
}

int
repo_open(struct repo **out, const char *path, struct diag *err)
{
	git_repository *git = NULL;

	*out = NULL;
	git_libgit2_init();	/* refcounted by libgit2; repo_free shuts down */
	if (git_repository_open_ext(&git, path, 0, NULL) < 0) {
		diag_set(err, "cannot open git repository at %s: %s", path,
		    lg_msg());
		git_libgit2_shutdown();
		return -1;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->git = git;
	return 0;
}

void
repo_free(struct repo *r)
{
	if (r == NULL)
		return;
	git_repository_free(r->git);
	free(r);
	git_libgit2_shutdown();
}

int
repo_resolve(struct repo *r, const char *ref, char out[41], struct diag *err)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc = -1, e;

	/* revparse applies git's own rules: a full hex id first, then
	 * refs/<name>, refs/tags/, refs/heads/, refs/remotes/, then an
	 * abbreviated id. */
	e = git_revparse_single(&obj, r->git, ref);
	if (e == GIT_ENOTFOUND) {
		diag_set(err, "ref '%s' not found in repository", ref);
		goto out;
	}
	if (e < 0) {
		diag_set(err, "ref '%s': %s", ref, lg_msg());
		goto out;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		diag_set(err, "ref '%s' does not name a commit", ref);
		goto out;
	}
	oid_hex(out, git_object_id(peeled));
	rc = 0;
out:
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

static int
commit_lookup(struct repo *r, const char *hex, git_commit **c,
    struct diag *err)
{
	git_oid id;

	*c = NULL;
	if (strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&id, hex) < 0)
		return diag_set(err, "'%s' is not a commit id", hex);
	if (git_commit_lookup(c, r->git, &id) < 0)
		return diag_set(err, "commit %s: %s", hex, lg_msg());
	return 0;
}

static int
tree_at(struct repo *r, const char *commit, git_tree **t, struct diag *err)
{
	git_commit *c = NULL;
	int rc = 0;

	*t = NULL;
	if (commit_lookup(r, commit, &c, err) == -1)
		return -1;
	if (git_commit_tree(t, c) < 0)
		rc = diag_set(err, "tree of commit %s: %s", commit, lg_msg());
	git_commit_free(c);
	return rc;
}

/* Copy a blob into a NUL-terminated heap buffer; `what` names it in the
 * message ("" for none). */
static int
blob_copy(git_blob *b, const char *what, size_t max_bytes, char **data,
    size_t *len, struct diag *err)
{
	git_object_size_t size = git_blob_rawsize(b);

	if (size > (git_object_size_t)max_bytes)
		return diag_set(err, "%s%sfile is %llu bytes, over the limit of %zu",
		    what, *what ? ": " : "", (unsigned long long)size, max_bytes);
	*data = xmalloc((size_t)size + 1);
	memcpy(*data, git_blob_rawcontent(b), (size_t)size);
	(*data)[size] = '\0';
	*len = (size_t)size;
	return 0;
}

int
repo_read(struct repo *r, const char *commit, const char *path,
    size_t max_bytes, char **data, size_t *len, char blob[41],
    struct diag *err)
{
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	git_blob *b = NULL;
	int rc = -1, e;

	if (tree_at(r, commit, &tree, err) == -1)
		return -1;
	e = git_tree_entry_bypath(&ent, tree, path);
	if (e == GIT_ENOTFOUND) {
		rc = 1;
		goto out;
	}
	if (e < 0) {
		diag_set(err, "%s: %s", path, lg_msg());
		goto out;
	}
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		diag_set(err, "%s: not a file", path);
		goto out;
	}
	if (git_blob_lookup(&b, r->git, git_tree_entry_id(ent)) < 0) {
		diag_set(err, "%s: %s", path, lg_msg());
		goto out;
	}
	if (blob_copy(b, path, max_bytes, data, len, err) == -1)
		goto out;
	oid_hex(blob, git_tree_entry_id(ent));
	rc = 0;
out:
	git_blob_free(b);
	git_tree_entry_free(ent);
	git_tree_free(tree);
	return rc;
}

int
repo_blob(struct repo *r, const char *blob, size_t max_bytes, char **data,
    size_t *len, struct diag *err)
{
	git_blob *b = NULL;
	git_oid id;
	int rc;

	if (strlen(blob) != GIT_OID_HEXSZ || git_oid_fromstr(&id, blob) < 0)
		return diag_set(err, "'%s' is not a blob id", blob);
	if (git_blob_lookup(&b, r->git, &id) < 0)
		return diag_set(err, "blob %s: %s", blob, lg_msg());
	rc = blob_copy(b, "", max_bytes, data, len, err);
	git_blob_free(b);
	return rc;
}

/* A growable path: "dir/sub/" prefixes plus one name. */
struct path {
	char *p;
	size_t alloc;
};

/* Put name (with a trailing '/' when slash) at offset len; returns the
 * new length. */
static size_t
path_set(struct path *pa, size_t len, const char *name, int slash)
{
	size_t n = strlen(name);

	pa->p = xgrow(pa->p, 1, len + n + 2, &pa->alloc);
	memcpy(pa->p + len, name, n);
	len += n;
	if (slash)
		pa->p[len++] = '/';
	pa->p[len] = '\0';
	return len;
}

struct list {
	const char *const *suffixes;
	struct repo_entry *e;
	size_t n, alloc;
	struct path path;
};

static int
has_suffix(const char *name, const char *const *suffixes)
{
	size_t n = strlen(name), k;

	if (suffixes == NULL)
		return 1;
	for (; *suffixes; suffixes++) {
		k = strlen(*suffixes);
		if (n >= k && memcmp(name + n - k, *suffixes, k) == 0)
			return 1;
	}
	return 0;
}

static int
list_tree(struct repo *r, struct list *l, git_tree *t, size_t plen,
    struct diag *err)
{
	size_t i, n = git_tree_entrycount(t), len;

	for (i = 0; i < n; i++) {
		const git_tree_entry *ent = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(ent);
		git_tree *sub = NULL;
		int rc;

		switch (git_tree_entry_type(ent)) {
		case GIT_OBJECT_TREE:
			len = path_set(&l->path, plen, name, 1);
			if (git_tree_lookup(&sub, r->git,
			    git_tree_entry_id(ent)) < 0) {
				l->path.p[len - 1] = '\0';
				return diag_set(err, "%s: %s", l->path.p,
				    lg_msg());
			}
			rc = list_tree(r, l, sub, len, err);
			git_tree_free(sub);
			if (rc == -1)
				return -1;
			break;
		case GIT_OBJECT_BLOB:
			/* a symbolic link is not a request file */
			if (git_tree_entry_filemode(ent) == GIT_FILEMODE_LINK ||
			    !has_suffix(name, l->suffixes))
				break;
			path_set(&l->path, plen, name, 0);
			l->e = xgrow(l->e, sizeof(*l->e), l->n, &l->alloc);
			l->e[l->n].path = xstrdup(l->path.p);
			oid_hex(l->e[l->n].blob, git_tree_entry_id(ent));
			l->n++;
			break;
		default:	/* submodules */
			break;
		}
	}
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct repo_entry *)a)->path,
	    ((const struct repo_entry *)b)->path);
}

int
repo_list(struct repo *r, const char *commit, const char *dir,
    const char *const *suffixes, struct repo_entry **out, size_t *n,
    struct diag *err)
{
	struct list l = { suffixes, NULL, 0, 0, { NULL, 0 } };
	git_tree *root = NULL, *t = NULL;
	git_tree_entry *ent = NULL;
	size_t plen = 0;
	int rc = -1, e;

	*out = NULL;
	*n = 0;
	if (tree_at(r, commit, &root, err) == -1)
		return -1;
	if (dir == NULL || *dir == '\0') {
		t = root;
		root = NULL;
	} else {
		e = git_tree_entry_bypath(&ent, root, dir);
		if (e == GIT_ENOTFOUND) {
			rc = 0;		/* no such directory: nothing in it */
			goto out;
		}
		if (e < 0) {
			diag_set(err, "%s: %s", dir, lg_msg());
			goto out;
		}
		if (git_tree_entry_type(ent) != GIT_OBJECT_TREE) {
			diag_set(err, "%s: not a directory", dir);
			goto out;
		}
		if (git_tree_lookup(&t, r->git, git_tree_entry_id(ent)) < 0) {
			diag_set(err, "%s: %s", dir, lg_msg());
			goto out;
		}
		plen = path_set(&l.path, 0, dir, dir[strlen(dir) - 1] != '/');
	}
	if (list_tree(r, &l, t, plen, err) == -1)
		goto out;
	qsort(l.e, l.n, sizeof(*l.e), cmp_entry);
	*out = l.e;
	*n = l.n;
	l.e = NULL;
	l.n = 0;
	rc = 0;
out:
	repo_entries_free(l.e, l.n);
	free(l.path.p);
	git_tree_entry_free(ent);
	git_tree_free(t);
	git_tree_free(root);
	return rc;
}

void
repo_entries_free(struct repo_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

/*
 * Trees loaded during one step of the walk.  The parent's trees of one
 * step are the child's trees of the next, so each step keeps what it
 * loaded for the following one and frees the rest: every tree on the
 * walk is read from the object database once.
 */
struct memo {
	git_tree **t;
	size_t n, alloc;
};

static void
memo_clear(struct memo *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		git_tree_free(m->t[i]);
	m->n = 0;
}

/*
 * State of the approval walk.  A file is open while its blob in the
 * commit being visited equals its blob at the tip.  Every directory that
 * holds a file counts the open files beneath it, so that a changed
 * subtree without any is never read.
 */
struct walk {
	struct repo *r;
	const struct repo_entry *files;
	size_t n;
	struct approval *out;
	struct strmap paths;	/* file path -> index in files */
	struct strmap dirs;	/* "requests/team" -> index in dir_open */
	size_t *dir_open;	/* open files under each directory */
	size_t *dir_parent;	/* parent directory; SIZE_MAX for the root */
	size_t ndirs, dirs_alloc;
	size_t *file_dir;	/* directory of each file */
	unsigned char *open;
	size_t nopen;
	unsigned char *seen;	/* check_tip: found at the tip */
	struct path path;
	struct memo prev, next;	/* trees of the last step and this one */
	git_commit *child;	/* the commit files close with */
	struct approval cur;	/* its approval facts, once computed */
	int have_cur;
};

static size_t
walk_dir(struct walk *w, const char *dir)
{
	size_t d, parent = SIZE_MAX;
	char *slash, *up;

	if (strmap_get(&w->dirs, dir, &d))
		return d;
	if (*dir) {
		up = xstrdup(dir);
		slash = strrchr(up, '/');
		if (slash)
			*slash = '\0';
		else
			*up = '\0';
		parent = walk_dir(w, up);
		free(up);
	}
	w->dir_open = xgrow(w->dir_open, sizeof(size_t), w->ndirs,
	    &w->dirs_alloc);
	w->dir_parent = xrealloc(w->dir_parent, w->dirs_alloc * sizeof(size_t));
	d = w->ndirs++;
	w->dir_open[d] = 0;
	w->dir_parent[d] = parent;
	strmap_put(&w->dirs, dir, d);
	return d;
}

static int
walk_init(struct walk *w, struct repo *r, const struct repo_entry *files,
    size_t n, struct approval *out, struct diag *err)
{
	size_t i, d;
	char *dir, *slash;

	memset(w, 0, sizeof(*w));
	w->r = r;
	w->files = files;
	w->n = n;
	w->out = out;
	w->file_dir = xcalloc(n ? n : 1, sizeof(size_t));
	w->open = xcalloc(n ? n : 1, 1);
	w->seen = xcalloc(n ? n : 1, 1);
	walk_dir(w, "");
	for (i = 0; i < n; i++) {
		if (strmap_get(&w->paths, files[i].path, &d))
			return diag_set(err, "%s: listed twice", files[i].path);
		strmap_put(&w->paths, files[i].path, i);
		dir = xstrdup(files[i].path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			*dir = '\0';
		w->file_dir[i] = walk_dir(w, dir);
		free(dir);
		for (d = w->file_dir[i]; d != SIZE_MAX; d = w->dir_parent[d])
			w->dir_open[d]++;
		w->open[i] = 1;
		w->nopen++;
	}
	return 0;
}

static void
walk_release(struct walk *w)
{
	strmap_release(&w->paths);
	strmap_release(&w->dirs);
	free(w->dir_open);
	free(w->dir_parent);
	free(w->file_dir);
	free(w->open);
	free(w->seen);
	free(w->path.p);
	memo_clear(&w->prev);
	memo_clear(&w->next);
	free(w->prev.t);
	free(w->next.t);
	approval_release(&w->cur);
}

/* The tree with id `id`, owned by the walk until the step after next. */
static int
walk_tree(struct walk *w, const git_oid *id, git_tree **out)
{
	size_t i;

	for (i = 0; i < w->next.n; i++)
		if (git_oid_equal(git_tree_id(w->next.t[i]), id)) {
			*out = w->next.t[i];
			return 0;
		}
	w->next.t = xgrow(w->next.t, sizeof(git_tree *), w->next.n,
	    &w->next.alloc);
	for (i = 0; i < w->prev.n; i++)
		if (git_oid_equal(git_tree_id(w->prev.t[i]), id)) {
			*out = w->prev.t[i];
			w->prev.t[i] = w->prev.t[--w->prev.n];
			w->next.t[w->next.n++] = *out;
			return 0;
		}
	if (git_tree_lookup(out, w->r->git, id) < 0)
		return -1;
	w->next.t[w->next.n++] = *out;
	return 0;
}

/* End of a step: what this step loaded is kept for the next one. */
static void
walk_step(struct walk *w)
{
	struct memo m;

	memo_clear(&w->prev);
	m = w->prev;
	w->prev = w->next;
	w->next = m;
}

static void
add_approver(struct approval *a, const char *s, size_t n)
{
	char *email;
	size_t i;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	email = xstrndup(s, n);
	for (i = 0; i < n; i++)
		if (email[i] >= 'A' && email[i] <= 'Z')
			email[i] = (char)(email[i] - 'A' + 'a');
	for (i = 0; i < a->napprovers; i++) {
		if (strcmp(a->approvers[i], email) == 0) {
			free(email);
			return;
		}
	}
	a->approvers = xrealloc(a->approvers,
	    (a->napprovers + 1) * sizeof(char *));
	a->approvers[a->napprovers++] = email;
}

/* "Name <email>" or a bare "email". */
static void
add_trailer(struct approval *a, const char *value)
{
	const char *lt = strchr(value, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) != NULL)
		add_approver(a, lt + 1, (size_t)(gt - lt - 1));
	else if (lt == NULL && strchr(value, '@'))
		add_approver(a, value, strlen(value));
}

/* The approval facts of w->child, computed once per commit however many
 * files close there. */
static const struct approval *
walk_approval(struct walk *w)
{
	git_message_trailer_array tr = { 0 };
	const git_signature *author;
	const char *msg;
	size_t i;

	if (w->have_cur)
		return &w->cur;
	oid_hex(w->cur.commit, git_commit_id(w->child));
	w->cur.approved_at = (int64_t)git_commit_time(w->child);
	if (git_commit_parentcount(w->child) > 1) {
		author = git_commit_author(w->child);
		if (author && author->email)
			add_approver(&w->cur, author->email,
			    strlen(author->email));
	}
	msg = git_commit_message(w->child);
	/* a message whose trailers cannot be parsed simply has none */
	if (msg && git_message_trailers(&tr, msg) == 0) {
		for (i = 0; i < tr.count; i++)
			if (str_eq_ci(tr.trailers[i].key, "Approved-by"))
				add_trailer(&w->cur, tr.trailers[i].value);
	}
	git_message_trailer_array_free(&tr);
	w->have_cur = 1;
	return &w->cur;
}

static void
walk_close(struct walk *w, size_t i, const struct approval *a)
{
	size_t d;

	approval_copy(&w->out[i], a);
	w->open[i] = 0;
	w->nopen--;
	for (d = w->file_dir[i]; d != SIZE_MAX; d = w->dir_parent[d])
		w->dir_open[d]--;
}

/* Is there an open file under the directory at path[0..len) ("" for the
 * root)? */
static int
dir_has_open(struct walk *w, size_t len)
{
	size_t d;
	char c = w->path.p[len];
	int found;

	w->path.p[len] = '\0';
	found = strmap_get(&w->dirs, w->path.p, &d);
	w->path.p[len] = c;
	return found && w->dir_open[d] > 0;
}

/*
 * Compare tree a (of the child) with b (the same directory in its first
 * parent; NULL when absent there) under the prefix path[0..plen), and
 * close every open file whose entry differs.  Both trees are sorted in
 * git's order, so one merge pass pairs the entries; equal ids are skipped
 * without building a path.
 */
static int
walk_diff(struct walk *w, git_tree *a, git_tree *b, size_t plen,
    struct diag *err)
{
	size_t na = git_tree_entrycount(a), nb = b ? git_tree_entrycount(b) : 0;
	size_t i, j = 0, k, len;

	for (i = 0; i < na && w->nopen; i++) {
		const git_tree_entry *ea = git_tree_entry_byindex(a, i);
		const git_tree_entry *eb = NULL;
		git_object_t type = git_tree_entry_type(ea);
		git_tree *sa = NULL, *sb = NULL;

		while (j < nb) {
			const git_tree_entry *e = git_tree_entry_byindex(b, j);
			int c = git_tree_entry_cmp(e, ea);
			if (c < 0) {
				j++;
				continue;
			}
			if (c == 0) {
				eb = e;
				j++;
			}
			break;
		}
		if (eb && git_tree_entry_type(eb) == type &&
		    git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)))
			continue;
		if (type == GIT_OBJECT_BLOB) {
			path_set(&w->path, plen, git_tree_entry_name(ea), 0);
			if (strmap_get(&w->paths, w->path.p, &k) && w->open[k])
				walk_close(w, k, walk_approval(w));
			continue;
		}
		if (type != GIT_OBJECT_TREE)
			continue;
		len = path_set(&w->path, plen, git_tree_entry_name(ea), 1);
		if (!dir_has_open(w, len - 1))
			continue;
		if (walk_tree(w, git_tree_entry_id(ea), &sa) < 0 ||
		    (eb && git_tree_entry_type(eb) == GIT_OBJECT_TREE &&
		    walk_tree(w, git_tree_entry_id(eb), &sb) < 0)) {
			w->path.p[len - 1] = '\0';
			return diag_set(err, "%s: %s", w->path.p, lg_msg());
		}
		if (walk_diff(w, sa, sb, len, err) == -1)
			return -1;
	}
	return 0;
}

/* Mark the files present at the tip with the blob the caller gave; only
 * directories holding files are read. */
static int
walk_check_tip(struct walk *w, git_tree *t, size_t plen, struct diag *err)
{
	size_t i, n = git_tree_entrycount(t), k, len;
	char hex[41];
	git_tree *sub;

	for (i = 0; i < n; i++) {
		const git_tree_entry *ent = git_tree_entry_byindex(t, i);
		git_object_t type = git_tree_entry_type(ent);

		if (type == GIT_OBJECT_BLOB) {
			path_set(&w->path, plen, git_tree_entry_name(ent), 0);
			if (!strmap_get(&w->paths, w->path.p, &k))
				continue;
			oid_hex(hex, git_tree_entry_id(ent));
			if (strcmp(hex, w->files[k].blob) == 0)
				w->seen[k] = 1;
			continue;
		}
		if (type != GIT_OBJECT_TREE)
			continue;
		len = path_set(&w->path, plen, git_tree_entry_name(ent), 1);
		if (!dir_has_open(w, len - 1))
			continue;
		if (walk_tree(w, git_tree_entry_id(ent), &sub) < 0) {
			w->path.p[len - 1] = '\0';
			return diag_set(err, "%s: %s", w->path.p, lg_msg());
		}
		if (walk_check_tip(w, sub, len, err) == -1)
			return -1;
	}
	return 0;
}

int
repo_approvals(struct repo *r, const char *tip,
    const struct repo_entry *files, size_t n, const char *cached_tip,
    const struct approval *const *known, struct approval *out,
    struct diag *err)
{
	struct walk w;
	git_commit *c = NULL, *p = NULL;
	git_tree *ct, *pt;
	git_oid cached;
	char hex[41];
	int have_cached = 0, rc = -1;
	size_t i;

	for (i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (walk_init(&w, r, files, n, out, err) == -1)
		goto out;
	if (cached_tip && known && strlen(cached_tip) == GIT_OID_HEXSZ &&
	    git_oid_fromstr(&cached, cached_tip) == 0)
		have_cached = 1;
	if (commit_lookup(r, tip, &c, err) == -1)
		goto out;
	if (walk_tree(&w, git_commit_tree_id(c), &ct) < 0) {
		diag_set(err, "tree of commit %s: %s", tip, lg_msg());
		goto out;
	}
	if (walk_check_tip(&w, ct, 0, err) == -1)
		goto out;
	for (i = 0; i < n; i++)
		if (!w.seen[i]) {
			diag_set(err, "%s: no blob %.12s there at commit %.12s",
			    files[i].path, files[i].blob, tip);
			goto out;
		}
	walk_step(&w);
	while (w.nopen) {
		w.child = c;
		if (have_cached && git_oid_equal(git_commit_id(c), &cached)) {
			for (i = 0; i < n; i++)
				if (w.open[i] && known[i])
					walk_close(&w, i, known[i]);
			have_cached = 0;
			if (w.nopen == 0)
				break;
		}
		if (git_commit_parentcount(c) == 0) {
			const struct approval *a = walk_approval(&w);
			for (i = 0; i < n; i++)
				if (w.open[i])
					walk_close(&w, i, a);
			break;
		}
		if (git_commit_parent(&p, c, 0) < 0) {
			oid_hex(hex, git_commit_id(c));
			diag_set(err, "first parent of commit %s: %s", hex,
			    lg_msg());
			goto out;
		}
		/* equal root trees: nothing changed, nothing to read */
		if (!git_oid_equal(git_commit_tree_id(c),
		    git_commit_tree_id(p))) {
			if (walk_tree(&w, git_commit_tree_id(c), &ct) < 0 ||
			    walk_tree(&w, git_commit_tree_id(p), &pt) < 0) {
				oid_hex(hex, git_commit_id(c));
				diag_set(err, "trees of commit %s and its parent: "
				    "%s", hex, lg_msg());
				goto out;
			}
			if (walk_diff(&w, ct, pt, 0, err) == -1)
				goto out;
		}
		walk_step(&w);
		git_commit_free(c);
		c = p;
		p = NULL;
		approval_release(&w.cur);
		w.have_cur = 0;
	}
	rc = 0;
out:
	if (rc == -1)
		for (i = 0; i < n; i++)
			approval_release(&out[i]);
	git_commit_free(p);
	git_commit_free(c);
	walk_release(&w);
	return rc;
}

int
repo_first_parent_contains(struct repo *r, const char *commit,
    const char *ancestor)
{
	git_commit *c = NULL, *p;
	git_oid want;
	struct diag ignore;
	int found = 0;

	if (strlen(ancestor) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(&want, ancestor) < 0 ||
	    commit_lookup(r, commit, &c, &ignore) == -1)
		return 0;
	for (;;) {
		if (git_oid_equal(git_commit_id(c), &want)) {
			found = 1;
			break;
		}
		if (git_commit_parentcount(c) == 0 ||
		    git_commit_parent(&p, c, 0) < 0)
			break;
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	return found;
}
