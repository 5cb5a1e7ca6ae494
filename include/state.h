/*
 * The state database (SQLite): runs, ingested identities and grants, the
 * grants accord made, intents, caches, decisions recorded once per blob,
 * and the audit log (audit.h).  WAL, busy_timeout, foreign keys, STRICT
 * tables, migrations keyed by PRAGMA user_version.  Secrets never reach
 * it.  Only the run writes here.
 */
#ifndef ACCORD_STATE_H
#define ACCORD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "grant.h"
#include "policy.h"

struct state;
struct sqlite3;

/* Open (creating and migrating as needed).  Free with state_close. */
int state_open(struct state **out, const char *path, struct diag *err);
void state_close(struct state *s);
struct sqlite3 *state_db(struct state *s);	/* for read-only answers */

/* One transaction per unit of work; BEGIN IMMEDIATE. */
int state_begin(struct state *s, struct diag *err);
int state_commit(struct state *s, struct diag *err);
void state_rollback(struct state *s);

/*
 * The run lock: an flock(2) on "<db>.lock" holding "pid P on HOST since
 * TIME (COMMAND)".  Returns 0 when taken, 1 when another process holds
 * it (err names the holder), -1 on error.  Released by state_unlock or
 * by the process ending, so a crash never leaves it stuck.
 */
struct state_lock;
int state_lock(struct state_lock **out, const char *dbpath,
    const char *command, struct diag *err);
void state_unlock(struct state_lock *l);

/* Runs. */
int state_run_begin(struct state *s, int64_t now, const char *command,
    const char *commit, int64_t *run_id, struct diag *err);
/* commit: the tip the run worked at (NULL: not loaded, left as is). */
int state_run_end(struct state *s, int64_t run_id, int64_t finished_at,
    int exit_code, const char *commit, const char *stats_json,
    struct diag *err);

/*
 * A grant accord made (and believes still exists), or an intent to make
 * or remove one.  Strings are owned by the struct when returned from the
 * state layer (sgrant_release), borrowed when passed in.
 */
struct sgrant {
	char *platform, *account, *person, *target, *privilege;
	char *request;		/* path at the time, may be NULL */
	char *blob;		/* request blob, may be NULL */
	char *commit_sha;	/* approval commit, may be NULL */
	char *approvers;	/* comma-separated emails, may be NULL/"" */
	char *rule;		/* "policies/FILE.yaml#N", may be NULL */
	char *requester;	/* who asked (person is NULL for a grantee) */
	int64_t approved_at;	/* 0 unknown */
	int64_t expires_at;	/* 0 permanent */
	int64_t granted_at;
};
void sgrant_release(struct sgrant *g);
void sgrants_free(struct sgrant *g, size_t n);

int state_grants_load(struct state *s, struct sgrant **out, size_t *n,
    struct diag *err);
/*
 * Insert or replace by (platform, account, target, privilege).  The
 * ingested snapshot follows (a grant made is held; a grant removed is
 * not), so that answers between runs reflect what apply did.
 */
int state_grant_put(struct state *s, const struct sgrant *g, struct diag *err);
int state_grant_del(struct state *s, const char *platform, const char *account,
    const char *target, const char *privilege, struct diag *err);

/* Intents: written and committed before the platform is called. */
struct intent {
	int64_t id, run;
	char *action;		/* "grant" | "revoke" */
	char *reason;
	struct sgrant g;
};
int state_intent_add(struct state *s, int64_t run, const char *action,
    const char *reason, const struct sgrant *g, int64_t *id, struct diag *err);
/* outcome: "done" | "failed" | "recovered" */
int state_intent_finish(struct state *s, int64_t id, const char *outcome,
    struct diag *err);
int state_intents_pending(struct state *s, struct intent **out, size_t *n,
    struct diag *err);
void intents_free(struct intent *v, size_t n);

/*
 * Ingest snapshot of one platform, replacing the previous one, in one
 * transaction.  persons[i] is the person idents[i] resolves to, or NULL.
 */
int state_save_ingest(struct state *s, const char *platform,
    const struct ingest *in, char *const *persons, int64_t now,
    struct diag *err);

/*
 * Parsed-request cache keyed by (blob, config blob).  A hit gives either
 * the request as JSON (request_from_json) or the error it failed with.
 */
int state_cache_get(struct state *s, const char *blob, const char *config_blob,
    char **json, struct diag *failure, int *found, struct diag *err);
/* Every cached entry for one config blob, in one query: cb gets each
 * blob with its JSON or (json NULL) its failure. */
int state_cache_each(struct state *s, const char *config_blob,
    void (*cb)(void *arg, const char *blob, const char *json,
    const struct diag *failure), void *arg, struct diag *err);
int state_cache_put(struct state *s, const char *blob, const char *config_blob,
    const char *json, const struct diag *failure, struct diag *err);

/* Approval cache: (path, blob) -> approval, valid as of `tip`. */
struct cached_approval {
	char *path;
	char blob[41];
	struct approval a;
};
/* Loads every entry and the tip they hold for ("" when empty). */
int state_approvals_load(struct state *s, char tip[41],
    struct cached_approval **out, size_t *n, struct diag *err);
/* Record tip; upsert `fresh` entries; delete every cached path in `gone`. */
int state_approvals_update(struct state *s, const char *tip,
    const struct cached_approval *fresh, size_t nfresh,
    char *const *gone, size_t ngone, struct diag *err);
void cached_approvals_free(struct cached_approval *v, size_t n);

/* Decisions recorded once per request blob (§8: denied, invalid).
 * key is e.g. "denied warehouse table:x SELECT".  Returns 1 when already
 * recorded, 0 when not. */
int state_decision_seen(struct state *s, const char *blob, const char *key);
int state_decision_mark(struct state *s, const char *blob, const char *key,
    struct diag *err);

#endif
