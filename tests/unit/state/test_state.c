/* Unit tests for the state database: schema and migrations, the
 * statement wrapper, runs, grants, intents, ingest, caches, decisions
 * and the run lock. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "diag.h"
#include "grant.h"
#include "state.h"
#include "util.h"
#include "../../../state/statedb.h"
#include "../../lib/tap.h"

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tap_tmpdir(), name);
}

static int64_t
query_int(struct state *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(state_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
query_text(struct state *s, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(state_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_open(void)
{
	static const char *const tables[] = { "runs", "identities",
	    "ingested", "grants", "intents", "notifications",
	    "request_cache", "approval_cache", "meta", "decisions", "audit" };
	struct state *s = NULL;
	struct diag err = { 0 };
	struct stat sb;
	char *path = tmp_path("open.db"), *wal = xasprintf("%s-wal", path);
	char *mode, sql[256];
	int64_t run;
	size_t i;
	int fd;

	/* With the usual umask SQLite alone would create 0644. */
	umask(022);
	memset(&sb, 0, sizeof(sb));
	ok(state_open(&s, path, &err) == 0, "open creates: %s", err.msg);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "database file is 0600 (got %o)", (unsigned)(sb.st_mode & 0777));
	is_int(query_int(s, "PRAGMA user_version"), db_schema_version,
	    "migrated to the current version");
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT strict FROM pragma_table_list"
		    " WHERE name = '%s'", tables[i]);
		is_int(query_int(s, sql), 1, tables[i]);
	}
	mode = query_text(s, "PRAGMA journal_mode");
	is_str(mode, "wal", "WAL journal");
	free(mode);
	is_int(query_int(s, "PRAGMA foreign_keys"), 1, "foreign keys on");
	is_int(query_int(s, "PRAGMA busy_timeout"), 5000, "busy timeout");
	is_int(query_int(s, "PRAGMA synchronous"), 1, "synchronous NORMAL");
	ok(state_run_begin(s, 1000, "apply", "abc", &run, &err) == 0,
	    "write a run");
	ok(stat(wal, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "WAL file is 0600 too (got %o)", (unsigned)(sb.st_mode & 0777));
	state_close(s);

	s = NULL;
	ok(state_open(&s, path, &err) == 0, "reopen at the current version: %s",
	    err.msg);
	is_int(query_int(s, "PRAGMA user_version"), db_schema_version,
	    "version unchanged");
	is_int(query_int(s, "SELECT count(*) FROM runs"), 1,
	    "data kept across reopen");
	/* A later accord's database is refused, not downgraded. */
	sqlite3_exec(state_db(s), "PRAGMA user_version = 99", NULL, NULL, NULL);
	state_close(s);
	s = NULL;
	ok(state_open(&s, path, &err) == -1 && strstr(err.msg, "newer") &&
	    strstr(err.msg, path) && s == NULL,
	    "newer schema refused: %s", err.msg);

	free(path);
	path = tmp_path("empty.db");
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ok(state_open(&s, path, &err) == 0, "migrate an empty file: %s",
	    err.msg);
	is_int(query_int(s, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'trigger' AND tbl_name = 'audit'"), 2, "audit triggers");
	state_close(s);
	free(path);

	ok(state_open(&s, "/nonexistent-dir/x.db", &err) == -1 &&
	    strstr(err.msg, "/nonexistent-dir/x.db"), "bad path: %s", err.msg);
	free(wal);
	state_close(NULL);
}

static void
test_bind(struct state *s)
{
	struct stmt st;
	struct diag err = { 0 };

	ok(db_prepare(s, &st, "SELECT :a || :b", &err) == 0, "prepare");
	is_int(db_bind_text(&st, ":a", "x"), 0, "bind a known name");
	is_int(db_bind_text(&st, ":c", "y"), -1, "bind an unknown name fails");
	db_bind_text(&st, ":b", "z");
	ok(db_step(&st, &err) == -1 && strstr(err.msg, ":c"),
	    "step refuses after an unknown name: %s", err.msg);
	db_reset(&st);
	db_bind_text(&st, ":a", "x");
	ok(db_step(&st, &err) == -1 && strstr(err.msg, ":b") &&
	    strstr(err.msg, "not bound"), "step refuses an unbound name: %s",
	    err.msg);
	db_reset(&st);
	db_bind_text(&st, ":a", "x");
	db_bind_text(&st, ":b", "y");
	ok(db_step(&st, &err) == 1 && strcmp(db_col_text(&st, 0), "xy") == 0,
	    "step with every name bound");
	db_finalize(&st);
	db_finalize(&st);	/* twice is harmless */
	ok(db_prepare(s, &st, "SELEC 1", &err) == -1 &&
	    strstr(err.msg, "syntax"), "bad SQL: %s", err.msg);
	db_finalize(&st);
}

static void
test_runs(struct state *s)
{
	struct diag err = { 0 };
	int64_t id = 0;

	ok(state_run_begin(s, 100, "plan", NULL, &id, &err) == 0 && id > 0,
	    "run begins");
	ok(state_run_end(s, id, 160, 3, "0123456789012345678901234567890123456789",
	    "{\"granted\":1}", &err) == 0, "run ends");
	is_int(query_int(s, "SELECT exit_code FROM runs ORDER BY id DESC"), 3,
	    "exit code stored");
	is_int(query_int(s, "SELECT count(*) FROM runs WHERE commit_sha = "
	    "'0123456789012345678901234567890123456789'"), 1,
	    "the run's commit stored");
	ok(state_run_end(s, id + 1000, 160, 0, NULL, NULL, &err) == -1,
	    "ending an unknown run fails: %s", err.msg);
}

static struct sgrant
mkgrant(const char *account, const char *target, const char *privilege,
    int64_t expires)
{
	struct sgrant g;

	memset(&g, 0, sizeof(g));
	g.platform = "warehouse";
	g.account = (char *)account;
	g.person = "alice@example.com";
	g.target = (char *)target;
	g.privilege = (char *)privilege;
	g.request = "requests/alice.yaml";
	g.blob = "0123456789012345678901234567890123456789";
	g.commit_sha = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
	g.approvers = "bob@example.com,carol@example.com";
	g.approved_at = 1000;
	g.expires_at = expires;
	g.granted_at = 1001;
	return g;
}

static void
test_grants(struct state *s)
{
	struct sgrant a = mkgrant("alice", "table:sales.orders", "SELECT", 5000);
	struct sgrant b = mkgrant("alice", "role:analyst", "member", 0);
	struct sgrant *v = NULL;
	struct diag err = { 0 };
	size_t n = 0;

	b.request = b.blob = b.commit_sha = b.approvers = NULL;
	b.person = NULL;
	ok(state_grant_put(s, &a, &err) == 0, "put a");
	ok(state_grant_put(s, &b, &err) == 0, "put b");
	ok(state_grants_load(s, &v, &n, &err) == 0 && n == 2, "load two");
	if (n == 2) {
		/* Ordered by key: role:analyst before table:... */
		is_str(v[0].target, "role:analyst", "order");
		ok(v[0].request == NULL && v[0].person == NULL,
		    "NULLs stay NULL");
		is_str(v[1].approvers, "bob@example.com,carol@example.com",
		    "approvers");
		is_int(v[1].expires_at, 5000, "expires_at");
		is_int(v[1].approved_at, 1000, "approved_at");
		is_int(v[1].granted_at, 1001, "granted_at");
		is_str(v[1].commit_sha, a.commit_sha, "commit");
	}
	sgrants_free(v, n);

	a.expires_at = 9000;
	ok(state_grant_put(s, &a, &err) == 0, "put again replaces");
	ok(state_grant_del(s, "warehouse", "alice", "role:analyst", "member",
	    &err) == 0, "del");
	ok(state_grants_load(s, &v, &n, &err) == 0 && n == 1 &&
	    v[0].expires_at == 9000, "one left, replaced");
	sgrants_free(v, n);
	b.privilege = NULL;
	ok(state_grant_put(s, &b, &err) == -1 && strstr(err.msg, "NOT NULL"),
	    "a grant without privilege is refused: %s", err.msg);
	sgrants_free(NULL, 0);
	sgrant_release(NULL);
}

static void
test_intents(struct state *s)
{
	struct sgrant g = mkgrant("bob", "table:x", "SELECT", 0);
	struct intent *v = NULL;
	struct diag err = { 0 };
	int64_t run, id1, id2, id3;
	size_t n = 0;

	ok(state_run_begin(s, 2000, "apply", "abc", &run, &err) == 0, "run");
	ok(state_intent_add(s, run, "grant", "request", &g, &id1, &err) == 0,
	    "intent 1");
	g.account = "carol";
	ok(state_intent_add(s, run, "revoke", "expired", &g, &id2, &err) == 0,
	    "intent 2");
	g.account = "dave";
	ok(state_intent_add(s, 0, "revoke", "drift", &g, &id3, &err) == 0,
	    "intent 3 outside a run: %s", err.msg);
	ok(id1 < id2 && id2 < id3, "ids increase");
	ok(state_intent_add(s, run, "erase", "x", &g, NULL, &err) == -1,
	    "unknown action refused");
	ok(state_intent_add(s, run + 100, "grant", "x", &g, NULL, &err) == -1,
	    "unknown run refused (foreign key): %s", err.msg);
	ok(state_intent_finish(s, id2, "done", &err) == 0, "finish 2");
	ok(state_intent_finish(s, id1, "exploded", &err) == -1,
	    "unknown outcome refused");
	ok(state_intent_finish(s, id3 + 100, "done", &err) == -1,
	    "unknown intent: %s", err.msg);
	ok(state_intents_pending(s, &v, &n, &err) == 0 && n == 2,
	    "two pending");
	if (n == 2) {
		is_int(v[0].id, id1, "first by id");
		is_int(v[1].id, id3, "second by id");
		is_str(v[0].action, "grant", "action");
		is_str(v[0].reason, "request", "reason");
		is_str(v[0].g.account, "bob", "grant fields");
		is_str(v[1].g.account, "dave", "grant fields 2");
		is_int(v[0].run, run, "run");
		is_int(v[1].run, 0, "no run reads as 0");
	}
	intents_free(v, n);
	ok(state_intent_finish(s, id1, "failed", &err) == 0 &&
	    state_intent_finish(s, id3, "recovered", &err) == 0, "finish all");
	ok(state_intents_pending(s, &v, &n, &err) == 0 && n == 0 && v == NULL,
	    "none pending");
	intents_free(NULL, 0);
}

static void
test_ingest(struct state *s)
{
	struct ingest a = { 0 }, b = { 0 }, big = { 0 };
	char *persons[] = { "alice@example.com", NULL };
	char **bigp, name[32];
	struct diag err = { 0 };
	struct timespec t0;
	double secs;
	int i;

	ingest_add_ident(&a, "alice", "alice@example.com", NULL, ACCT_USER);
	ingest_add_ident(&a, "analyst", NULL, NULL, ACCT_ROLE);
	ingest_add_grant(&a, "alice", "role:analyst", "member");
	ingest_add_grant(&a, "alice", "table:t", "SELECT");
	ingest_add_grant(&a, "alice", "table:t", "SELECT");	/* duplicate */
	ok(state_save_ingest(s, "warehouse", &a, persons, 100, &err) == 0,
	    "save warehouse: %s", err.msg);
	ok(state_save_ingest(s, "snowflake", &a, NULL, 100, &err) == 0,
	    "save snowflake without persons");
	is_int(query_int(s, "SELECT count(*) FROM ingested WHERE "
	    "platform = 'warehouse'"), 2, "duplicate grant stored once");
	is_int(query_int(s, "SELECT count(*) FROM identities WHERE person = "
	    "'alice@example.com' AND platform = 'warehouse' AND kind = 'user'"),
	    1, "person and kind stored");

	ingest_add_ident(&b, "bob", NULL, "bob", ACCT_SERVICE);
	ingest_add_grant(&b, "bob", "table:u", "INSERT");
	ok(state_save_ingest(s, "warehouse", &b, NULL, 200, &err) == 0,
	    "save warehouse again");
	is_int(query_int(s, "SELECT count(*) FROM identities WHERE "
	    "platform = 'warehouse'"), 1, "identities replaced");
	is_int(query_int(s, "SELECT count(*) FROM ingested WHERE "
	    "platform = 'warehouse' AND account = 'bob' AND last_seen = 200"),
	    1, "grants replaced");
	is_int(query_int(s, "SELECT count(*) FROM ingested WHERE "
	    "platform = 'warehouse'"), 1, "old grants gone");
	is_int(query_int(s, "SELECT count(*) FROM ingested WHERE "
	    "platform = 'snowflake'"), 2, "other platform untouched");

	/* A failure part-way leaves the previous snapshot whole. */
	ingest_add_ident(&b, "weird", NULL, NULL, (enum account_kind)7);
	ok(state_save_ingest(s, "warehouse", &b, NULL, 300, &err) == -1 &&
	    strstr(err.msg, "warehouse"), "bad kind fails: %s", err.msg);
	is_int(query_int(s, "SELECT count(*) FROM identities WHERE "
	    "platform = 'warehouse' AND last_seen = 200"), 1,
	    "rolled back to the previous snapshot");

	bigp = xcalloc(100000, sizeof(*bigp));
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "user%06d", i);
		ingest_add_ident(&big, name, NULL, NULL, ACCT_USER);
		ingest_add_grant(&big, name, "table:big", "SELECT");
		bigp[i] = i % 2 ? "someone@example.com" : NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(state_save_ingest(s, "big", &big, bigp, 400, &err) == 0,
	    "save 100k identities and 100k grants");
	secs = seconds_since(&t0);
	printf("# state_save_ingest: 100000 identities + 100000 grants "
	    "in %.2f s\n", secs);
	is_int(query_int(s, "SELECT count(*) FROM ingested WHERE "
	    "platform = 'big'"), 100000, "all stored");
	free(bigp);
	ingest_release(&a);
	ingest_release(&b);
	ingest_release(&big);
}

static void
test_request_cache(struct state *s)
{
	struct diag err, fail, got;
	char *json = NULL;
	int found = -1;

	ok(state_cache_get(s, "b1", "c1", &json, &got, &found, &err) == 0 &&
	    found == 0 && json == NULL, "miss");
	ok(state_cache_put(s, "b1", "c1", "{\"a\":1}", NULL, &err) == 0,
	    "put json");
	ok(state_cache_get(s, "b1", "c1", &json, &got, &found, &err) == 0 &&
	    found == 1, "hit");
	is_str(json, "{\"a\":1}", "json round-trip");
	free(json);
	ok(state_cache_get(s, "b1", "c2", &json, &got, &found, &err) == 0 &&
	    found == 0, "other config blob misses");

	diag_setat(&fail, "requests/x.yaml", 4, 7, "unknown key \"durtion\"");
	ok(state_cache_put(s, "b2", "c1", NULL, &fail, &err) == 0,
	    "put failure");
	memset(&got, 0, sizeof(got));
	ok(state_cache_get(s, "b2", "c1", &json, &got, &found, &err) == 0 &&
	    found == 1 && json == NULL, "failure hit has no json");
	is_str(got.file, "requests/x.yaml", "failure file");
	is_int(got.line, 4, "failure line");
	is_int(got.column, 7, "failure column");
	is_str(got.msg, "unknown key \"durtion\"", "failure message");
	ok(state_cache_put(s, "b3", "c1", NULL, NULL, &err) == -1,
	    "neither json nor failure refused");
	/* Fixing the config turns the failure into a request. */
	ok(state_cache_put(s, "b2", "c1", "{}", NULL, &err) == 0 &&
	    state_cache_get(s, "b2", "c1", &json, &got, &found, &err) == 0 &&
	    json && strcmp(json, "{}") == 0, "put replaces");
	free(json);
}

static void
test_approval_cache(struct state *s)
{
	char *who1[] = { "bob@example.com", "carol@example.com" };
	char *bad[] = { "x@example.com,mallory@example.com" };
	char *gone[] = { "requests/a.yaml" };
	struct cached_approval fresh[2], *v = NULL;
	struct diag err = { 0 };
	char tip[41] = "junk";
	size_t n = 99;

	ok(state_approvals_load(s, tip, &v, &n, &err) == 0 && n == 0 &&
	    tip[0] == '\0' && v == NULL, "empty cache");
	memset(fresh, 0, sizeof(fresh));
	fresh[0].path = "requests/a.yaml";
	snprintf(fresh[0].blob, sizeof(fresh[0].blob), "%040d", 1);
	snprintf(fresh[0].a.commit, sizeof(fresh[0].a.commit), "%040d", 2);
	fresh[0].a.approved_at = 1234;
	fresh[0].a.approvers = who1;
	fresh[0].a.napprovers = 2;
	fresh[1].path = "requests/b.yaml";
	snprintf(fresh[1].blob, sizeof(fresh[1].blob), "%040d", 3);
	snprintf(fresh[1].a.commit, sizeof(fresh[1].a.commit), "%040d", 4);
	fresh[1].a.approved_at = 99;
	ok(state_approvals_update(s, "1111111111111111111111111111111111111111",
	    fresh, 2, NULL, 0, &err) == 0, "update: %s", err.msg);
	ok(state_approvals_load(s, tip, &v, &n, &err) == 0 && n == 2,
	    "two cached");
	is_str(tip, "1111111111111111111111111111111111111111", "tip");
	if (n == 2) {
		is_str(v[0].path, "requests/a.yaml", "path");
		is_str(v[0].blob, fresh[0].blob, "blob");
		is_str(v[0].a.commit, fresh[0].a.commit, "commit");
		is_int(v[0].a.approved_at, 1234, "approved_at");
		ok(v[0].a.napprovers == 2 &&
		    strcmp(v[0].a.approvers[0], "bob@example.com") == 0 &&
		    strcmp(v[0].a.approvers[1], "carol@example.com") == 0,
		    "approvers split");
		ok(v[1].a.napprovers == 0 && v[1].a.approvers == NULL,
		    "no approvers");
	}
	cached_approvals_free(v, n);

	fresh[1].a.approved_at = 100;
	ok(state_approvals_update(s, "2222222222222222222222222222222222222222",
	    &fresh[1], 1, gone, 1, &err) == 0, "update with gone");
	ok(state_approvals_load(s, tip, &v, &n, &err) == 0 && n == 1 &&
	    strcmp(v[0].path, "requests/b.yaml") == 0 &&
	    v[0].a.approved_at == 100, "gone deleted, fresh upserted");
	is_str(tip, "2222222222222222222222222222222222222222", "tip moved");
	cached_approvals_free(v, n);

	/* A comma inside an address would split into two approvers. */
	fresh[0].a.approvers = bad;
	fresh[0].a.napprovers = 1;
	ok(state_approvals_update(s, "3333333333333333333333333333333333333333",
	    fresh, 2, NULL, 0, &err) == -1 && strstr(err.msg, "comma"),
	    "comma in an approver refused: %s", err.msg);
	ok(state_approvals_load(s, tip, &v, &n, &err) == 0 && n == 1,
	    "nothing written");
	is_str(tip, "2222222222222222222222222222222222222222",
	    "tip unchanged after a failed update");
	cached_approvals_free(v, n);
	cached_approvals_free(NULL, 0);
}

static void
test_decisions(struct state *s)
{
	struct diag err = { 0 };

	is_int(state_decision_seen(s, "b1", "denied warehouse table:x SELECT"),
	    0, "not yet seen");
	ok(state_decision_mark(s, "b1", "denied warehouse table:x SELECT",
	    &err) == 0, "mark");
	is_int(state_decision_seen(s, "b1", "denied warehouse table:x SELECT"),
	    1, "seen");
	ok(state_decision_mark(s, "b1", "denied warehouse table:x SELECT",
	    &err) == 0, "mark twice is fine");
	is_int(query_int(s, "SELECT count(*) FROM decisions"), 1, "one row");
	is_int(state_decision_seen(s, "b2", "denied warehouse table:x SELECT"),
	    0, "other blob not seen");
	is_int(state_decision_seen(s, "b1", "invalid"), 0, "other key");
}

/* A transaction of ours rolls back as a whole; ours nest in the caller's. */
static void
test_transactions(struct state *s)
{
	struct diag err = { 0 };

	ok(state_begin(s, &err) == 0, "begin");
	state_decision_mark(s, "tx", "k", &err);
	state_rollback(s);
	is_int(state_decision_seen(s, "tx", "k"), 0, "rolled back");
	ok(state_begin(s, &err) == 0, "begin again");
	ok(state_approvals_update(s, "4444444444444444444444444444444444444444",
	    NULL, 0, NULL, 0, &err) == 0, "nested unit of work");
	state_rollback(s);
	is_int(query_int(s, "SELECT count(*) FROM meta WHERE value = "
	    "'4444444444444444444444444444444444444444'"), 0,
	    "the caller's rollback undoes a nested unit");
	ok(state_commit(s, &err) == -1, "commit without a transaction fails");
	state_rollback(s);	/* harmless */
}

static char *
read_file(const char *path)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static void
test_lock(void)
{
	char *db = tmp_path("lock.db"), *lockf = xasprintf("%s.lock", db);
	char want[64], *text, c;
	struct state_lock *l = NULL, *l2 = NULL;
	struct diag err = { 0 };
	struct stat sb;
	int status, up[2], go[2];
	pid_t pid;

	ok(state_lock(&l, db, "apply", &err) == 0 && l != NULL, "lock taken");
	ok(stat(lockf, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "lock file is 0600");
	text = read_file(lockf);
	snprintf(want, sizeof(want), "pid %ld on ", (long)getpid());
	ok(text && strncmp(text, want, strlen(want)) == 0 &&
	    strstr(text, " since ") && strstr(text, "(apply)\n"),
	    "holder described: %.*s", text ? (int)strcspn(text, "\n") : 6,
	    text ? text : "(none)");
	free(text);

	/* A child is another process: it must be refused, naming us. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc = state_lock(&l2, db, "plan", &err);
		char pidstr[32];

		snprintf(pidstr, sizeof(pidstr), "pid %ld on", (long)getppid());
		rc = rc == 1 && l2 == NULL && strstr(err.msg, pidstr) &&
		    strstr(err.msg, "is locked by") && strstr(err.msg, db) &&
		    strstr(err.msg, "(apply)") ? 0 : 1;
		free(db);	/* the child's copies, for valgrind */
		free(lockf);
		_exit(rc);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "second lock in a child returns 1 "
	    "naming the parent's pid");
	state_unlock(l);
	text = read_file(lockf);
	ok(text && text[0] == '\0', "description cleared on unlock");
	free(text);

	/* A holder that exits without unlocking frees the lock. */
	if (pipe(up) < 0 || pipe(go) < 0) {
		ok(0, "pipe");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(go[1]);
		int rc = state_lock(&l2, db, "apply", &err) != 0 ? 1 : 0;

		free(db);	/* the child's copies, for valgrind */
		free(lockf);
		if (rc != 0)
			_exit(1);
		if (write(up[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);	/* no state_unlock */
	}
	close(up[1]);
	close(go[0]);
	ok(read(up[0], &c, 1) == 1, "child holds the lock");
	snprintf(want, sizeof(want), "pid %ld on ", (long)pid);
	ok(state_lock(&l, db, "apply", &err) == 1 && l == NULL &&
	    strstr(err.msg, want), "refused while the child holds it: %s",
	    err.msg);
	if (write(go[1], "x", 1) != 1)
		ok(0, "signal child");
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "child exited without unlocking");
	ok(state_lock(&l, db, "apply", &err) == 0, "lock free after the "
	    "holder died: %s", err.msg);
	state_unlock(l);
	state_unlock(NULL);
	close(up[0]);
	close(go[1]);
	ok(state_lock(&l, "/nonexistent-dir/x.db", "apply", &err) == -1 &&
	    strstr(err.msg, "/nonexistent-dir/x.db.lock"),
	    "unwritable lock path: %s", err.msg);
	free(db);
	free(lockf);
}

int
main(void)
{
	struct state *s = NULL;
	struct diag err = { 0 };
	char *path;

	test_open();
	path = tmp_path("state.db");
	if (state_open(&s, path, &err) < 0) {
		ok(0, "open: %s", err.msg);
		return tap_done();
	}
	test_bind(s);
	test_runs(s);
	test_grants(s);
	test_intents(s);
	test_ingest(s);
	test_request_cache(s);
	test_approval_cache(s);
	test_decisions(s);
	test_transactions(s);
	state_close(s);
	free(path);
	test_lock();
	return tap_done();
}
