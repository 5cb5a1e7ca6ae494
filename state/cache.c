/*
 * Memory between runs that saves work or repetition: parsed requests by
 * blob (with the error a bad one failed with, so it is reported again
 * without re-parsing), approvals found in git as of a branch tip (so a
 * run walks only the history added since), and decisions such as
 * "denied" that are recorded once per request version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "state.h"
#include "statedb.h"
#include "util.h"

int
state_cache_get(struct state *s, const char *blob, const char *config_blob,
    char **json, struct diag *failure, int *found, struct diag *err)
{
	struct stmt st;
	int rc;

	*json = NULL;
	*found = 0;
	if (db_prepare(s, &st, "SELECT json, err_file, err_line, err_col, "
	    "err_msg FROM request_cache WHERE blob = :blob "
	    "AND config_blob = :config", err) < 0)
		return -1;
	db_bind_text(&st, ":blob", blob);
	db_bind_text(&st, ":config", config_blob);
	rc = db_step(&st, err);
	if (rc == 1) {
		*found = 1;
		*json = db_col_dup(&st, 0);
		if (*json == NULL && failure != NULL) {
			const char *file = db_col_text(&st, 1);
			const char *msg = db_col_text(&st, 4);

			diag_setat(failure, file ? file : "",
			    (int)db_col_int(&st, 2), (int)db_col_int(&st, 3),
			    "%s", msg ? msg : "");
		}
	}
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "reading the request cache");
	return 0;
}

int
state_cache_each(struct state *s, const char *config_blob,
    void (*cb)(void *arg, const char *blob, const char *json,
    const struct diag *failure), void *arg, struct diag *err)
{
	struct stmt st;
	struct diag failure;
	int rc;

	if (db_prepare(s, &st, "SELECT blob, json, err_file, err_line, "
	    "err_col, err_msg FROM request_cache WHERE config_blob = :config",
	    err) < 0)
		return -1;
	db_bind_text(&st, ":config", config_blob);
	while ((rc = db_step(&st, err)) == 1) {
		const char *json = db_col_text(&st, 1);
		if (json == NULL) {
			const char *file = db_col_text(&st, 2);
			const char *msg = db_col_text(&st, 5);
			diag_setat(&failure, file ? file : "",
			    (int)db_col_int(&st, 3), (int)db_col_int(&st, 4),
			    "%s", msg ? msg : "");
		}
		cb(arg, db_col_text(&st, 0), json, json ? NULL : &failure);
	}
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "reading the request cache");
	return 0;
}

int
state_cache_put(struct state *s, const char *blob, const char *config_blob,
    const char *json, const struct diag *failure, struct diag *err)
{
	struct stmt st;
	int rc;

	if (json == NULL && failure == NULL)
		return diag_set(err, "request cache: neither a request nor "
		    "an error for blob %s", blob);
	if (db_prepare(s, &st, "INSERT OR REPLACE INTO request_cache (blob, "
	    "config_blob, json, err_file, err_line, err_col, err_msg) VALUES "
	    "(:blob, :config, :json, :file, :line, :col, :msg)", err) < 0)
		return -1;
	db_bind_text(&st, ":blob", blob);
	db_bind_text(&st, ":config", config_blob);
	db_bind_text(&st, ":json", json);
	if (json != NULL) {
		db_bind_null(&st, ":file");
		db_bind_null(&st, ":line");
		db_bind_null(&st, ":col");
		db_bind_null(&st, ":msg");
	} else {
		db_bind_text(&st, ":file", failure->file);
		db_bind_int(&st, ":line", failure->line);
		db_bind_int(&st, ":col", failure->column);
		db_bind_text(&st, ":msg", failure->msg);
	}
	rc = db_step(&st, err);
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "writing the request cache");
	return 0;
}

/* The approval's own strings; approval_release lives on an upper floor. */
static void
approval_strings_free(struct approval *a)
{
	strv_free(a->approvers, a->napprovers);
	a->approvers = NULL;
	a->napprovers = 0;
}

void
cached_approvals_free(struct cached_approval *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].path);
		approval_strings_free(&v[i].a);
	}
	free(v);
}

static void
split_approvers(struct approval *a, const char *s)
{
	size_t alloc = 0;
	const char *p = s, *comma;

	a->approvers = NULL;
	a->napprovers = 0;
	if (s == NULL || *s == '\0')
		return;
	for (;;) {
		comma = strchr(p, ',');
		a->approvers = xgrow(a->approvers, sizeof(*a->approvers),
		    a->napprovers, &alloc);
		a->approvers[a->napprovers++] = comma ?
		    xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

/* Copy at most dstsz - 1 bytes; the rest of a too-long id is dropped. */
static void
copy_id(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

int
state_approvals_load(struct state *s, char tip[41],
    struct cached_approval **out, size_t *n, struct diag *err)
{
	struct stmt st = { 0 };
	struct cached_approval *v = NULL;
	size_t nv = 0, av = 0;
	int rc;

	tip[0] = '\0';
	*out = NULL;
	*n = 0;
	if (db_prepare(s, &st, "SELECT value FROM meta "
	    "WHERE key = 'approval_tip'", err) < 0)
		goto fail;
	if ((rc = db_step(&st, err)) < 0)
		goto fail;
	if (rc == 1)
		copy_id(tip, 41, db_col_text(&st, 0));
	db_finalize(&st);
	if (db_prepare(s, &st, "SELECT path, blob, commit_sha, approved_at, "
	    "approvers FROM approval_cache ORDER BY path", err) < 0)
		goto fail;
	while ((rc = db_step(&st, err)) == 1) {
		struct cached_approval *c;

		v = xgrow(v, sizeof(*v), nv, &av);
		c = &v[nv++];
		c->path = db_col_dup(&st, 0);
		copy_id(c->blob, sizeof(c->blob), db_col_text(&st, 1));
		copy_id(c->a.commit, sizeof(c->a.commit), db_col_text(&st, 2));
		c->a.approved_at = db_col_int(&st, 3);
		split_approvers(&c->a, db_col_text(&st, 4));
	}
	if (rc < 0)
		goto fail;
	db_finalize(&st);
	*out = v;
	*n = nv;
	return 0;
fail:
	db_finalize(&st);
	cached_approvals_free(v, nv);
	tip[0] = '\0';
	return diag_prefix(err, "loading the approval cache");
}

/*
 * Approvers are stored joined by commas, so an address holding a comma
 * would come back as two approvers: refuse it instead.
 */
static int
join_approvers(struct buf *b, const struct approval *a, struct diag *err)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < a->napprovers; i++) {
		if (strchr(a->approvers[i], ',') != NULL)
			return diag_set(err, "approver \"%s\" contains a comma",
			    a->approvers[i]);
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, a->approvers[i]);
	}
	return 0;
}

int
state_approvals_update(struct state *s, const char *tip,
    const struct cached_approval *fresh, size_t nfresh,
    char *const *gone, size_t ngone, struct diag *err)
{
	struct stmt put = { 0 }, del = { 0 }, meta = { 0 };
	struct buf who;
	struct tx tx;
	size_t i;
	int rc = -1;

	buf_init(&who, 0);
	if (db_tx_begin(s, &tx, err) < 0) {
		buf_release(&who);
		return diag_prefix(err, "updating the approval cache");
	}
	if (db_prepare(s, &put, "INSERT OR REPLACE INTO approval_cache (path, "
	    "blob, commit_sha, approved_at, approvers) VALUES (:path, :blob, "
	    ":commit, :at, :approvers)", err) < 0 ||
	    db_prepare(s, &del, "DELETE FROM approval_cache WHERE path = :path",
	    err) < 0 ||
	    db_prepare(s, &meta, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES ('approval_tip', :tip)", err) < 0)
		goto out;
	for (i = 0; i < nfresh; i++) {
		const struct cached_approval *c = &fresh[i];

		if (join_approvers(&who, &c->a, err) < 0) {
			diag_prefix(err, "%s", c->path);
			goto out;
		}
		db_reset(&put);
		db_bind_text(&put, ":path", c->path);
		db_bind_text(&put, ":blob", c->blob);
		db_bind_text(&put, ":commit", c->a.commit);
		db_bind_int(&put, ":at", c->a.approved_at);
		db_bind_text(&put, ":approvers", buf_cstr(&who));
		if (db_step(&put, err) < 0)
			goto out;
	}
	for (i = 0; i < ngone; i++) {
		db_reset(&del);
		db_bind_text(&del, ":path", gone[i]);
		if (db_step(&del, err) < 0)
			goto out;
	}
	db_bind_text(&meta, ":tip", tip);
	if (db_step(&meta, err) < 0)
		goto out;
	rc = 0;
out:
	db_finalize(&put);
	db_finalize(&del);
	db_finalize(&meta);
	buf_release(&who);
	if (rc == 0 && db_tx_commit(s, &tx, err) < 0)
		rc = -1;
	if (rc < 0) {
		db_tx_rollback(s, &tx);
		diag_prefix(err, "updating the approval cache");
	}
	return rc;
}

int
state_decision_seen(struct state *s, const char *blob, const char *key)
{
	struct stmt st;
	int rc;

	if (db_prepare(s, &st, "SELECT 1 FROM decisions WHERE blob = :blob "
	    "AND key = :key", NULL) < 0)
		return 0;
	db_bind_text(&st, ":blob", blob);
	db_bind_text(&st, ":key", key);
	rc = db_step(&st, NULL);
	db_finalize(&st);
	return rc == 1;
}

int
state_decision_mark(struct state *s, const char *blob, const char *key,
    struct diag *err)
{
	struct stmt st;
	int rc;

	if (db_prepare(s, &st, "INSERT OR IGNORE INTO decisions (blob, key) "
	    "VALUES (:blob, :key)", err) < 0)
		return -1;
	db_bind_text(&st, ":blob", blob);
	db_bind_text(&st, ":key", key);
	rc = db_step(&st, err);
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "recording decision %s", key);
	return 0;
}
