/*
 * The access repository through libgit2.  Everything is read from the
 * object database at one pinned commit, never from the working tree.
 * Approvals (DESIGN §3) come from one first-parent pass that compares
 * tree ids and descends only into subtrees whose id changed.
 */
#ifndef ACCORD_REPO_H
#define ACCORD_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy.h"

struct repo;

struct repo_entry {
	char *path;		/* "requests/a/b.yaml" */
	char blob[41];
};

/* Open the repository at path (a work tree or a bare repository). */
int repo_open(struct repo **out, const char *path, struct diag *err);
void repo_free(struct repo *r);
/* The libgit2 handle, for reconciler modules that walk refs or write
 * commits (inbox.c, merge.c).  Borrowed; a git_repository *. */
void *repo_git(struct repo *r);

/* Resolve a ref name or revision ("refs/heads/main", "main", "HEAD", a
 * sha) to a commit id. */
int repo_resolve(struct repo *r, const char *ref, char out[41], struct diag *err);

/* Blob id and contents of one file at a commit.  Returns 1 (and sets
 * nothing) when the path does not exist there.  *data is NUL-terminated,
 * free() it.  Files over max_bytes fail with a clear message. */
int repo_read(struct repo *r, const char *commit, const char *path,
    size_t max_bytes, char **data, size_t *len, char blob[41],
    struct diag *err);
/* Contents of a blob by id. */
int repo_blob(struct repo *r, const char *blob, size_t max_bytes,
    char **data, size_t *len, struct diag *err);

/* Every blob under directory `dir` at commit whose name ends in one of the
 * NULL-terminated `suffixes`, recursively, sorted by path.  Free with
 * repo_entries_free. */
int repo_list(struct repo *r, const char *commit, const char *dir,
    const char *const *suffixes, struct repo_entry **out, size_t *n,
    struct diag *err);
void repo_entries_free(struct repo_entry *e, size_t n);

/*
 * For each files[i] (present at `tip`), find the commit C on the
 * first-parent history of tip where its current blob appeared, and fill
 * out[i] (approval_release each).  One pass over history for all files.
 *
 * Cache: when `cached_tip` is non-NULL and lies on the first-parent
 * history of tip, known[i] non-NULL means files[i] had the same blob at
 * cached_tip with approval *known[i]; the walk stops at cached_tip and
 * copies known answers for files still unresolved there.
 */
int repo_approvals(struct repo *r, const char *tip,
    const struct repo_entry *files, size_t n, const char *cached_tip,
    const struct approval *const *known, struct approval *out,
    struct diag *err);

/* Is `ancestor` on the first-parent history of `commit` (or equal)? */
int repo_first_parent_contains(struct repo *r, const char *commit,
    const char *ancestor);

#endif
