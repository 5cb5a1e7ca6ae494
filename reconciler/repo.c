/*
 * The access repository through libgit2: resolving the branch to one
 * commit, reading files and listing request files from the object database
 * at that commit (never the working tree), and finding, for every request
 * file, the first-parent commit where its current blob appeared (DESIGN
 * §3).  The approval search is one walk down the first-parent chain for
 * all files at once; each step compares tree ids and descends only into
 * changed subtrees that still hold an unresolved file, which keeps the
 * cost proportional to what changed (see PERF.md: no per-file history
 * walks, no git_diff_tree_to_tree).
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

void *
repo_git(struct repo *r)
{
	return r ? r->git : NULL;
}

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
	/*
	 * accord reads each object about once per run, so libgit2's object
	 * cache only grows memory (130 MB for the approval walk over 5k
	 * commits) and costs time; and git itself does not re-hash objects
	 * on read (zlib's checksum still catches corruption).  Together
	 * these halve the approval walk.  Both are process-wide, and set
	 * here rather than once in case the program initialised libgit2
	 * before.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
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
 * The approval walk keeps, for every directory that holds a requested
 * file, the id of its tree in the commit being visited (the child).  One
 * step reads the first parent's root tree and, where a directory's id in
 * the parent differs from the remembered one, that directory's tree in
 * the parent, and so on down; a file whose entry there is not its tip
 * blob closes with the child.  The child's trees are never read again:
 * the ids remembered from the previous step stand for them, so every
 * tree on the walk is read once.  A file is open while its blob in the
 * visited commit equals its blob at the tip.
 */
struct wdir {
	char *name;		/* last path component; "" for the root */
	git_oid id;		/* tree id in the visited commit */
	size_t *files, nfiles, files_alloc;	/* indices into walk.files */
	size_t *subs, nsubs, subs_alloc;	/* indices into walk.dirs */
	size_t open;		/* open files beneath */
	size_t parent;		/* SIZE_MAX for the root */
};

struct walk {
	struct repo *r;
	const struct repo_entry *files;
	size_t n;
	struct approval *out;
	git_oid *blob;		/* files[i].blob, parsed */
	const char **base;	/* name of files[i] within its directory */
	size_t *file_dir;	/* directory of files[i] */
	unsigned char *open;
	size_t nopen;
	struct wdir *dirs;	/* dirs[0] is the root */
	size_t ndirs, dirs_alloc;
	git_commit *child;	/* the commit files close with */
	struct approval cur;	/* its approval facts, once computed */
	int have_cur;
};

/* The directory for path (created with its ancestors), via a map that
 * lives only while the walk is set up. */
static size_t
walk_dir(struct walk *w, struct strmap *map, const char *path)
{
	const char *slash;
	char *up;
	size_t d, parent;

	if (strmap_get(map, path, &d))
		return d;
	slash = strrchr(path, '/');
	up = xstrndup(path, slash ? (size_t)(slash - path) : 0);
	parent = walk_dir(w, map, up);
	free(up);
	w->dirs = xgrow(w->dirs, sizeof(*w->dirs), w->ndirs, &w->dirs_alloc);
	d = w->ndirs++;
	memset(&w->dirs[d], 0, sizeof(w->dirs[d]));
	w->dirs[d].name = xstrdup(slash ? slash + 1 : path);
	w->dirs[d].parent = parent;
	w->dirs[parent].subs = xgrow(w->dirs[parent].subs, sizeof(size_t),
	    w->dirs[parent].nsubs, &w->dirs[parent].subs_alloc);
	w->dirs[parent].subs[w->dirs[parent].nsubs++] = d;
	strmap_put(map, path, d);
	return d;
}

static int
walk_init(struct walk *w, struct repo *r, const struct repo_entry *files,
    size_t n, struct approval *out, struct diag *err)
{
	struct strmap map = STRMAP_INIT;
	const char *slash;
	char *dir;
	size_t i, d;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	w->r = r;
	w->files = files;
	w->n = n;
	w->out = out;
	w->blob = xcalloc(n ? n : 1, sizeof(*w->blob));
	w->base = xcalloc(n ? n : 1, sizeof(*w->base));
	w->file_dir = xcalloc(n ? n : 1, sizeof(*w->file_dir));
	w->open = xcalloc(n ? n : 1, 1);
	w->dirs = xgrow(NULL, sizeof(*w->dirs), 0, &w->dirs_alloc);
	memset(&w->dirs[0], 0, sizeof(w->dirs[0]));
	w->dirs[0].name = xstrdup("");
	w->dirs[0].parent = SIZE_MAX;
	w->ndirs = 1;
	strmap_put(&map, "", 0);
	for (i = 0; i < n; i++) {
		if (strlen(files[i].blob) != GIT_OID_HEXSZ ||
		    git_oid_fromstr(&w->blob[i], files[i].blob) < 0) {
			diag_set(err, "%s: bad blob id '%s'", files[i].path,
			    files[i].blob);
			goto out;
		}
		slash = strrchr(files[i].path, '/');
		dir = xstrndup(files[i].path,
		    slash ? (size_t)(slash - files[i].path) : 0);
		w->file_dir[i] = d = walk_dir(w, &map, dir);
		free(dir);
		w->base[i] = slash ? slash + 1 : files[i].path;
		w->dirs[d].files = xgrow(w->dirs[d].files, sizeof(size_t),
		    w->dirs[d].nfiles, &w->dirs[d].files_alloc);
		w->dirs[d].files[w->dirs[d].nfiles++] = i;
		for (; d != SIZE_MAX; d = w->dirs[d].parent)
			w->dirs[d].open++;
		w->open[i] = 1;
		w->nopen++;
	}
	rc = 0;
out:
	strmap_release(&map);
	return rc;
}

static void
walk_release(struct walk *w)
{
	size_t d;

	for (d = 0; d < w->ndirs; d++) {
		free(w->dirs[d].name);
		free(w->dirs[d].files);
		free(w->dirs[d].subs);
	}
	free(w->dirs);
	free(w->blob);
	free(w->base);
	free(w->file_dir);
	free(w->open);
	approval_release(&w->cur);
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
	for (d = w->file_dir[i]; d != SIZE_MAX; d = w->dirs[d].parent)
		w->dirs[d].open--;
}

/* Close every open file under directory d with the child. */
static void
walk_close_dir(struct walk *w, size_t d)
{
	struct wdir *dir = &w->dirs[d];
	size_t i;

	for (i = 0; i < dir->nfiles && dir->open; i++)
		if (w->open[dir->files[i]])
			walk_close(w, dir->files[i], walk_approval(w));
	for (i = 0; i < dir->nsubs && dir->open; i++)
		if (w->dirs[dir->subs[i]].open)
			walk_close_dir(w, dir->subs[i]);
}

/* "requests/team" for error messages. */
static char *
walk_dir_path(const struct walk *w, size_t d)
{
	char *p = xstrdup(""), *q;

	for (; d != 0 && d != SIZE_MAX; d = w->dirs[d].parent) {
		q = *p ? xasprintf("%s/%s", w->dirs[d].name, p) :
		    xstrdup(w->dirs[d].name);
		free(p);
		p = q;
	}
	return p;
}

static int
walk_subtree(struct walk *w, size_t d, const git_oid *id, git_tree **out,
    struct diag *err)
{
	char *path;

	if (git_tree_lookup(out, w->r->git, id) == 0)
		return 0;
	path = walk_dir_path(w, d);
	diag_set(err, "%s/: %s", path, lg_msg());
	free(path);
	return -1;
}

/*
 * t is directory d's tree in the first parent of the child, whose id
 * differs from the remembered dirs[d].id.  Close the open files it does
 * not hold with their tip blob, descend where a subdirectory's id
 * changed, and remember the parent's ids.
 */
static int
walk_diff(struct walk *w, size_t d, git_tree *t, struct diag *err)
{
	const git_tree_entry *e;
	git_tree *sub;
	size_t i, f, s;
	int rc;

	for (i = 0; i < w->dirs[d].nfiles && w->dirs[d].open; i++) {
		f = w->dirs[d].files[i];
		if (!w->open[f])
			continue;
		e = git_tree_entry_byname(t, w->base[f]);
		if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
		    !git_oid_equal(git_tree_entry_id(e), &w->blob[f]))
			walk_close(w, f, walk_approval(w));
	}
	for (i = 0; i < w->dirs[d].nsubs && w->dirs[d].open; i++) {
		s = w->dirs[d].subs[i];
		if (w->dirs[s].open == 0)
			continue;
		e = git_tree_entry_byname(t, w->dirs[s].name);
		if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			walk_close_dir(w, s);
			continue;
		}
		if (git_oid_equal(git_tree_entry_id(e), &w->dirs[s].id))
			continue;
		if (walk_subtree(w, s, git_tree_entry_id(e), &sub, err) == -1)
			return -1;
		rc = walk_diff(w, s, sub, err);
		git_tree_free(sub);
		if (rc == -1)
			return -1;
	}
	git_oid_cpy(&w->dirs[d].id, git_tree_id(t));
	return 0;
}

/* Check that directory d's tree t at the tip holds every file with the
 * blob the caller gave, and remember the tree ids. */
static int
walk_tip(struct walk *w, size_t d, git_tree *t, const char *tip,
    struct diag *err)
{
	const git_tree_entry *e;
	git_tree *sub;
	size_t i, f, s;
	int rc;

	git_oid_cpy(&w->dirs[d].id, git_tree_id(t));
	for (i = 0; i < w->dirs[d].nfiles; i++) {
		f = w->dirs[d].files[i];
		e = git_tree_entry_byname(t, w->base[f]);
		if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
		    !git_oid_equal(git_tree_entry_id(e), &w->blob[f]))
			return diag_set(err, "%s: no blob %.12s there at "
			    "commit %.12s", w->files[f].path, w->files[f].blob,
			    tip);
	}
	for (i = 0; i < w->dirs[d].nsubs; i++) {
		s = w->dirs[d].subs[i];
		e = git_tree_entry_byname(t, w->dirs[s].name);
		if (e == NULL || git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			char *path = walk_dir_path(w, s);
			diag_set(err, "%s/: no such directory at commit %.12s",
			    path, tip);
			free(path);
			return -1;
		}
		if (walk_subtree(w, s, git_tree_entry_id(e), &sub, err) == -1)
			return -1;
		rc = walk_tip(w, s, sub, tip, err);
		git_tree_free(sub);
		if (rc == -1)
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
	git_tree *t = NULL;
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
	if (git_commit_tree(&t, c) < 0) {
		diag_set(err, "tree of commit %s: %s", tip, lg_msg());
		goto out;
	}
	if (walk_tip(&w, 0, t, tip, err) == -1)
		goto out;
	git_tree_free(t);
	t = NULL;
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
			walk_close_dir(&w, 0);
			break;
		}
		if (git_commit_parent(&p, c, 0) < 0) {
			oid_hex(hex, git_commit_id(c));
			diag_set(err, "first parent of commit %s: %s", hex,
			    lg_msg());
			goto out;
		}
		/* an equal root tree: nothing changed, nothing to read */
		if (!git_oid_equal(git_commit_tree_id(p), &w.dirs[0].id)) {
			if (git_commit_tree(&t, p) < 0) {
				oid_hex(hex, git_commit_id(p));
				diag_set(err, "tree of commit %s: %s", hex,
				    lg_msg());
				goto out;
			}
			if (walk_diff(&w, 0, t, err) == -1)
				goto out;
			git_tree_free(t);
			t = NULL;
		}
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
	git_tree_free(t);
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
