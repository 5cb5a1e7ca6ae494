/*
 * What the run records about the world: runs, the grants accord made,
 * the intents written before each platform call (so that a crash between
 * the call and its outcome is found and resolved by the next run), and
 * the identities and grants of each platform's last ingest.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "statedb.h"
#include "util.h"

#define SGRANT_COLS "platform, account, person, target, privilege, " \
	"request, blob, commit_sha, approvers, approved_at, expires_at, " \
	"granted_at, rule, requester"
#define SGRANT_BINDS ":platform, :account, :person, :target, :privilege, " \
	":request, :blob, :commit_sha, :approvers, :approved_at, " \
	":expires_at, :granted_at, :rule, :requester"
#define SGRANT_NCOLS 14

void
sgrant_release(struct sgrant *g)
{
	if (g == NULL)
		return;
	free(g->platform);
	free(g->account);
	free(g->person);
	free(g->target);
	free(g->privilege);
	free(g->request);
	free(g->blob);
	free(g->commit_sha);
	free(g->approvers);
	free(g->rule);
	free(g->requester);
	memset(g, 0, sizeof(*g));
}

void
sgrants_free(struct sgrant *g, size_t n)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < n; i++)
		sgrant_release(&g[i]);
	free(g);
}

void
intents_free(struct intent *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].action);
		free(v[i].reason);
		sgrant_release(&v[i].g);
	}
	free(v);
}

static void
bind_sgrant(struct stmt *st, const struct sgrant *g)
{
	db_bind_text(st, ":platform", g->platform);
	db_bind_text(st, ":account", g->account);
	db_bind_text(st, ":person", g->person);
	db_bind_text(st, ":target", g->target);
	db_bind_text(st, ":privilege", g->privilege);
	db_bind_text(st, ":request", g->request);
	db_bind_text(st, ":blob", g->blob);
	db_bind_text(st, ":commit_sha", g->commit_sha);
	db_bind_text(st, ":approvers", g->approvers);
	db_bind_int(st, ":approved_at", g->approved_at);
	db_bind_int(st, ":expires_at", g->expires_at);
	db_bind_int(st, ":granted_at", g->granted_at);
	db_bind_text(st, ":rule", g->rule);
	db_bind_text(st, ":requester", g->requester);
}

/* The SGRANT_COLS starting at column c. */
static void
read_sgrant(struct stmt *st, int c, struct sgrant *g)
{
	g->platform = db_col_dup(st, c + 0);
	g->account = db_col_dup(st, c + 1);
	g->person = db_col_dup(st, c + 2);
	g->target = db_col_dup(st, c + 3);
	g->privilege = db_col_dup(st, c + 4);
	g->request = db_col_dup(st, c + 5);
	g->blob = db_col_dup(st, c + 6);
	g->commit_sha = db_col_dup(st, c + 7);
	g->approvers = db_col_dup(st, c + 8);
	g->approved_at = db_col_int(st, c + 9);
	g->expires_at = db_col_int(st, c + 10);
	g->granted_at = db_col_int(st, c + 11);
	g->rule = db_col_dup(st, c + 12);
	g->requester = db_col_dup(st, c + 13);
}

/* Run one statement that returns no rows and finalize it. */
static int
finish(struct stmt *st, struct diag *err)
{
	int rc = db_step(st, err);

	db_finalize(st);
	if (rc == 1)
		return diag_set(err, "sqlite: unexpected row");
	return rc;
}

int
state_run_begin(struct state *s, int64_t now, const char *command,
    const char *commit, int64_t *run_id, struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "INSERT INTO runs (started_at, command, "
	    "commit_sha) VALUES (:now, :command, :commit)", err) < 0)
		return -1;
	db_bind_int(&st, ":now", now);
	db_bind_text(&st, ":command", command);
	db_bind_text(&st, ":commit", commit);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording the run");
	*run_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
state_run_end(struct state *s, int64_t run_id, int64_t finished_at,
    int exit_code, const char *commit, const char *stats_json,
    struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "UPDATE runs SET finished_at = :at, "
	    "exit_code = :code, stats = :stats, commit_sha = "
	    "COALESCE(:commit, commit_sha) WHERE id = :id", err) < 0)
		return -1;
	db_bind_text(&st, ":commit", commit);
	db_bind_int(&st, ":at", finished_at);
	db_bind_int(&st, ":code", exit_code);
	db_bind_text(&st, ":stats", stats_json);
	db_bind_int(&st, ":id", run_id);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording the end of run %lld",
		    (long long)run_id);
	if (sqlite3_changes(s->db) != 1)
		return diag_set(err, "no run %lld to end", (long long)run_id);
	return 0;
}

int
state_grants_load(struct state *s, struct sgrant **out, size_t *n,
    struct diag *err)
{
	struct stmt st;
	struct sgrant *v = NULL;
	size_t nv = 0, av = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(s, &st, "SELECT " SGRANT_COLS " FROM grants "
	    "ORDER BY platform, account, target, privilege", err) < 0)
		return -1;
	while ((rc = db_step(&st, err)) == 1) {
		v = xgrow(v, sizeof(*v), nv, &av);
		read_sgrant(&st, 0, &v[nv++]);
	}
	db_finalize(&st);
	if (rc < 0) {
		sgrants_free(v, nv);
		return diag_prefix(err, "loading grants");
	}
	*out = v;
	*n = nv;
	return 0;
}

int
state_grant_put(struct state *s, const struct sgrant *g, struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "INSERT OR REPLACE INTO grants (" SGRANT_COLS
	    ") VALUES (" SGRANT_BINDS ")", err) < 0)
		return -1;
	bind_sgrant(&st, g);
	if (finish(&st, err) < 0)
		goto fail;
	if (db_prepare(s, &st, "INSERT OR IGNORE INTO ingested (platform, "
	    "account, target, privilege, last_seen) VALUES (:platform, "
	    ":account, :target, :privilege, :now)", err) < 0)
		goto fail;
	db_bind_text(&st, ":platform", g->platform);
	db_bind_text(&st, ":account", g->account);
	db_bind_text(&st, ":target", g->target);
	db_bind_text(&st, ":privilege", g->privilege);
	db_bind_int(&st, ":now", g->granted_at);
	if (finish(&st, err) < 0)
		goto fail;
	return 0;
fail:
	return diag_prefix(err, "recording grant %s %s on %s",
	    g->privilege ? g->privilege : "(null)",
	    g->target ? g->target : "(null)",
	    g->platform ? g->platform : "(null)");
}

int
state_grant_del(struct state *s, const char *platform, const char *account,
    const char *target, const char *privilege, struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "DELETE FROM grants WHERE platform = :platform"
	    " AND account = :account AND target = :target"
	    " AND privilege = :privilege", err) < 0)
		return -1;
	db_bind_text(&st, ":platform", platform);
	db_bind_text(&st, ":account", account);
	db_bind_text(&st, ":target", target);
	db_bind_text(&st, ":privilege", privilege);
	if (finish(&st, err) < 0)
		goto fail;
	if (db_prepare(s, &st, "DELETE FROM ingested WHERE platform = "
	    ":platform AND account = :account AND target = :target"
	    " AND privilege = :privilege", err) < 0)
		goto fail;
	db_bind_text(&st, ":platform", platform);
	db_bind_text(&st, ":account", account);
	db_bind_text(&st, ":target", target);
	db_bind_text(&st, ":privilege", privilege);
	if (finish(&st, err) < 0)
		goto fail;
	return 0;
fail:
	return diag_prefix(err, "forgetting grant %s %s on %s",
	    privilege, target, platform);
}

int
state_intent_add(struct state *s, int64_t run, const char *action,
    const char *reason, const struct sgrant *g, int64_t *id, struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "INSERT INTO intents (run, action, reason, "
	    SGRANT_COLS ", created) VALUES (:run, :action, :reason, "
	    SGRANT_BINDS ", :created)", err) < 0)
		return -1;
	/* Run 0 is "no run" (e.g. a test or a tool), not a foreign key. */
	if (run > 0)
		db_bind_int(&st, ":run", run);
	else
		db_bind_null(&st, ":run");
	db_bind_text(&st, ":action", action);
	db_bind_text(&st, ":reason", reason);
	bind_sgrant(&st, g);
	db_bind_int(&st, ":created", time_now());
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording intent to %s",
		    action ? action : "(null)");
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
state_intent_finish(struct state *s, int64_t id, const char *outcome,
    struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, "UPDATE intents SET outcome = :outcome "
	    "WHERE id = :id", err) < 0)
		return -1;
	db_bind_text(&st, ":outcome", outcome);
	db_bind_int(&st, ":id", id);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording outcome of intent %lld",
		    (long long)id);
	if (sqlite3_changes(s->db) != 1)
		return diag_set(err, "no intent %lld", (long long)id);
	return 0;
}

int
state_intents_pending(struct state *s, struct intent **out, size_t *n,
    struct diag *err)
{
	struct stmt st;
	struct intent *v = NULL;
	size_t nv = 0, av = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(s, &st, "SELECT id, run, action, reason, " SGRANT_COLS
	    " FROM intents WHERE outcome IS NULL ORDER BY id", err) < 0)
		return -1;
	while ((rc = db_step(&st, err)) == 1) {
		struct intent *it;

		v = xgrow(v, sizeof(*v), nv, &av);
		it = &v[nv++];
		it->id = db_col_int(&st, 0);
		it->run = db_col_int(&st, 1);
		it->action = db_col_dup(&st, 2);
		it->reason = db_col_dup(&st, 3);
		read_sgrant(&st, 4, &it->g);
	}
	db_finalize(&st);
	if (rc < 0) {
		intents_free(v, nv);
		return diag_prefix(err, "loading pending intents");
	}
	*out = v;
	*n = nv;
	return 0;
}

int
state_save_ingest(struct state *s, const char *platform,
    const struct ingest *in, char *const *persons, int64_t now,
    struct diag *err)
{
	struct stmt del_id = { 0 }, del_gr = { 0 }, ins_id = { 0 },
	    ins_gr = { 0 };
	struct tx tx;
	size_t i;
	int rc = -1;

	if (db_tx_begin(s, &tx, err) < 0)
		return diag_prefix(err, "saving ingest of %s", platform);
	if (db_prepare(s, &del_id, "DELETE FROM identities "
	    "WHERE platform = :platform", err) < 0 ||
	    db_prepare(s, &del_gr, "DELETE FROM ingested "
	    "WHERE platform = :platform", err) < 0 ||
	    /* A connector listing an account twice keeps its last entry. */
	    db_prepare(s, &ins_id, "INSERT OR REPLACE INTO identities "
	    "(platform, account, kind, email, login, person, last_seen) "
	    "VALUES (:platform, :account, :kind, :email, :login, :person, "
	    ":now)", err) < 0 ||
	    db_prepare(s, &ins_gr, "INSERT OR IGNORE INTO ingested "
	    "(platform, account, target, privilege, last_seen) "
	    "VALUES (:platform, :account, :target, :privilege, :now)",
	    err) < 0)
		goto out;
	db_bind_text(&del_id, ":platform", platform);
	db_bind_text(&del_gr, ":platform", platform);
	if (db_step(&del_id, err) < 0 || db_step(&del_gr, err) < 0)
		goto out;
	for (i = 0; i < in->nidents; i++) {
		const struct ident *id = &in->idents[i];

		if ((unsigned)id->kind > ACCT_SERVICE) {
			diag_set(err, "account %s has an unknown kind %d",
			    id->name, (int)id->kind);
			goto out;
		}
		db_reset(&ins_id);
		db_bind_text(&ins_id, ":platform", platform);
		db_bind_text(&ins_id, ":account", id->name);
		db_bind_text(&ins_id, ":kind", account_kind_names[id->kind]);
		db_bind_text(&ins_id, ":email", id->email);
		db_bind_text(&ins_id, ":login", id->login);
		db_bind_text(&ins_id, ":person", persons ? persons[i] : NULL);
		db_bind_int(&ins_id, ":now", now);
		if (db_step(&ins_id, err) < 0)
			goto out;
	}
	for (i = 0; i < in->ngrants; i++) {
		const struct pgrant *g = &in->grants[i];

		db_reset(&ins_gr);
		db_bind_text(&ins_gr, ":platform", platform);
		db_bind_text(&ins_gr, ":account", g->account);
		db_bind_text(&ins_gr, ":target", g->target);
		db_bind_text(&ins_gr, ":privilege", g->privilege);
		db_bind_int(&ins_gr, ":now", now);
		if (db_step(&ins_gr, err) < 0)
			goto out;
	}
	rc = 0;
out:
	db_finalize(&del_id);
	db_finalize(&del_gr);
	db_finalize(&ins_id);
	db_finalize(&ins_gr);
	if (rc == 0 && db_tx_commit(s, &tx, err) < 0)
		rc = -1;
	if (rc < 0) {
		db_tx_rollback(s, &tx);
		diag_prefix(err, "saving ingest of %s", platform);
	}
	return rc;
}
