/* Unit tests for the outbox: the migration (STRICT tables, the cursor
 * starting at the end of an existing audit log), queueing once per key,
 * owed messages in order, delivery outcomes, the cursor moving with the
 * queue in one transaction, and the Slack messages posted for pending
 * requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "diag.h"
#include "outbox.h"
#include "state.h"
#include "util.h"
#include "../../../state/statedb.h"
#include "../../lib/tap.h"

static const char blob_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char blob_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", tap_tmpdir(), name);
}

static struct state *
open_db(const char *path)
{
	struct state *s = NULL;
	struct diag err;

	if (state_open(&s, path, &err) < 0) {
		printf("# open %s: %s\n", path, err.msg);
		exit(99);
	}
	return s;
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

static struct outbox_msg
msg(const char *key, const char *event, const char *channel, int64_t at)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.key = (char *)key;
	m.event = (char *)event;
	m.channel = (char *)channel;
	m.recipients = strcmp(channel, "slack") == 0 ? "C0123456789" :
	    "alice@example.com";
	m.subject = strcmp(channel, "slack") == 0 ? NULL : "Access granted";
	m.body = "body text\n";
	m.created_at = at;
	return m;
}

static int
add(struct state *s, const char *key, const char *event, const char *channel,
    int64_t at)
{
	struct outbox_msg m = msg(key, event, channel, at);
	struct diag err;
	int rc = outbox_add(s, &m, &err);

	if (rc < 0)
		printf("# outbox_add %s: %s\n", key, err.msg);
	return rc;
}

static void
append_audit(struct state *s, const char *action, const char *person)
{
	struct audit_row r;
	struct diag err;

	memset(&r, 0, sizeof(r));
	r.at = "2026-03-10T12:00:00Z";
	r.run = 1;
	r.action = (char *)action;
	r.person = (char *)person;
	if (state_begin(s, &err) < 0 || audit_append(s, &r, &err) < 0 ||
	    state_commit(s, &err) < 0) {
		printf("# audit_append: %s\n", err.msg);
		exit(99);
	}
}

static void
test_schema(void)
{
	static const char *const tables[] = {
		"outbox", "outbox_cursor", "slack_posted"
	};
	char *path = tmp_path("schema.db"), sql[256];
	struct state *s = open_db(path);
	struct diag err;
	int64_t seq = -1;
	size_t i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT strict FROM pragma_table_list"
		    " WHERE name = '%s'", tables[i]);
		is_int(query_int(s, sql), 1, tables[i]);
	}
	ok(outbox_cursor(s, &seq, &err) == 0 && seq == 0,
	    "the cursor starts at 0 on a new database (%lld)", (long long)seq);
	ok(sqlite3_exec(state_db(s), "INSERT INTO outbox (key, event, channel, "
	    "recipients, body, created_at) VALUES ('k', 'granted', 'sms', "
	    "'x', 'b', 1)", NULL, NULL, NULL) != SQLITE_OK,
	    "the table refuses an unknown channel");
	ok(sqlite3_exec(state_db(s), "INSERT INTO outbox (key, event, channel, "
	    "recipients, body, created_at) VALUES ('k', 'granted', 'email', "
	    "'x', 'b', 'soon')", NULL, NULL, NULL) != SQLITE_OK,
	    "STRICT: text in an INTEGER column is refused");
	ok(sqlite3_exec(state_db(s), "INSERT INTO outbox_cursor (id, audit_seq)"
	    " VALUES (2, 5)", NULL, NULL, NULL) != SQLITE_OK,
	    "there is only one cursor row");
	state_close(s);

	/* A database from before notifications, with an audit log: the
	 * migration puts the cursor at its end, so old grants are not
	 * announced by the first run that has notifications. */
	s = open_db(path);
	append_audit(s, "grant", "alice@example.com");
	append_audit(s, "revoke", "bob@example.com");
	append_audit(s, "run_finished", NULL);
	/* Undo migrations 3 and 2. */
	ok(sqlite3_exec(state_db(s), "DROP INDEX grants_target; DROP INDEX "
	    "identities_account; DROP INDEX audit_target_any; DROP INDEX "
	    "audit_account; ALTER TABLE grants DROP COLUMN rule; ALTER "
	    "TABLE grants DROP COLUMN requester; ALTER TABLE intents DROP "
	    "COLUMN rule; ALTER TABLE intents DROP COLUMN requester; "
	    "DROP TABLE outbox; DROP TABLE "
	    "outbox_cursor; DROP TABLE slack_posted; PRAGMA user_version = 1",
	    NULL, NULL, NULL) == SQLITE_OK, "back to schema version 1");
	state_close(s);
	s = open_db(path);
	is_int(query_int(s, "PRAGMA user_version"), db_schema_version,
	    "migrated again");
	ok(outbox_cursor(s, &seq, &err) == 0 && seq == 3,
	    "the cursor starts at the end of the existing audit log (%lld)",
	    (long long)seq);
	state_close(s);
	free(path);
}

static void
test_queue(void)
{
	char *path = tmp_path("queue.db");
	struct state *s = open_db(path);
	struct outbox_msg *v = NULL, m;
	struct diag err;
	size_t n = 0;

	is_int(add(s, "granted email 7", "granted", "email", 300), 1,
	    "a new key is queued");
	is_int(add(s, "granted email 7", "granted", "email", 400), 0,
	    "the same key again is known, not queued");
	is_int(add(s, "pending slack requests/a.yaml aaaa", "pending", "slack",
	    100), 1, "a second message");
	is_int(add(s, "revoked email 9", "revoked", "email", 200), 1, "a third");
	is_int(query_int(s, "SELECT count(*) FROM outbox"), 3,
	    "three rows, the duplicate not stored");
	is_int(outbox_known(s, "granted email 7", &err), 1, "known key");
	is_int(outbox_known(s, "granted email 8", &err), 0, "unknown key");

	m = msg("x", "granted", "sms", 1);
	ok(outbox_add(s, &m, &err) == -1 && strstr(err.msg, "sms"),
	    "unknown channel refused: %s", err.msg);
	m = msg("", "granted", "email", 1);
	ok(outbox_add(s, &m, &err) == -1, "empty key refused");
	m = msg("y", "granted", "email", 1);
	m.recipients = NULL;
	ok(outbox_add(s, &m, &err) == -1, "no recipients refused");

	ok(outbox_owed(s, &v, &n, &err) == 0 && n == 3, "three owed");
	if (n == 3) {
		is_str(v[0].key, "pending slack requests/a.yaml aaaa",
		    "oldest first");
		is_str(v[1].key, "revoked email 9", "then the next");
		is_str(v[2].key, "granted email 7", "then the newest");
		ok(v[0].subject == NULL && strcmp(v[0].channel, "slack") == 0 &&
		    strcmp(v[0].recipients, "C0123456789") == 0,
		    "a Slack message has no subject");
		is_str(v[2].subject, "Access granted", "subject kept");
		is_str(v[2].body, "body text\n", "body kept");
		is_int(v[2].created_at, 300,
		    "created_at of the first queueing, not the duplicate");
		ok(v[2].attempts == 0 && v[2].last_error == NULL &&
		    v[2].sent_at == 0, "never tried");
	}
	outbox_msgs_free(v, n);

	/* A failure stays owed, with its error; a success is done. */
	ok(outbox_result(s, "revoked email 9", 500, "smtp: 451 try later",
	    &err) == 0, "record a failed attempt");
	ok(outbox_result(s, "granted email 7", 500, NULL, &err) == 0,
	    "record a delivery");
	ok(outbox_result(s, "granted email 7", 600, NULL, &err) == -1,
	    "a delivered message cannot be delivered again: %s", err.msg);
	ok(outbox_result(s, "nothing", 600, "x", &err) == -1,
	    "an unknown key is an error: %s", err.msg);
	v = NULL;
	ok(outbox_owed(s, &v, &n, &err) == 0 && n == 2, "two still owed");
	if (n == 2) {
		is_str(v[1].key, "revoked email 9", "the failed one is owed");
		is_int(v[1].attempts, 1, "one attempt");
		is_str(v[1].last_error, "smtp: 451 try later", "its error");
	}
	outbox_msgs_free(v, n);
	ok(outbox_result(s, "revoked email 9", 700, NULL, &err) == 0,
	    "retried and delivered");
	is_int(query_int(s, "SELECT attempts FROM outbox WHERE key = "
	    "'revoked email 9'"), 2, "two attempts in all");
	is_int(query_int(s, "SELECT sent_at FROM outbox WHERE key = "
	    "'revoked email 9'"), 700, "sent at the run's time");
	is_int(outbox_known(s, "granted email 7", &err), 1,
	    "a delivered key is still known (never queued again)");
	is_int(add(s, "granted email 7", "granted", "email", 800), 0,
	    "and queueing it again does nothing");
	state_close(s);

	/* Across processes: the state is the database. */
	s = open_db(path);
	v = NULL;
	ok(outbox_owed(s, &v, &n, &err) == 0 && n == 1 &&
	    strcmp(v[0].key, "pending slack requests/a.yaml aaaa") == 0,
	    "after reopening, the one owed message is still owed");
	outbox_msgs_free(v, n);

	/* A message that keeps failing goes behind ones never tried, so
	 * it cannot hold a destination's queue up run after run. */
	ok(outbox_result(s, "pending slack requests/a.yaml aaaa", 900,
	    "slack: channel_not_found", &err) == 0, "the old one fails");
	is_int(add(s, "granted email 11", "granted", "email", 950), 1,
	    "a new message");
	v = NULL;
	ok(outbox_owed(s, &v, &n, &err) == 0 && n == 2, "two owed");
	if (n == 2) {
		is_str(v[0].key, "granted email 11", "the untried one first, "
		    "though newer");
		is_str(v[1].key, "pending slack requests/a.yaml aaaa",
		    "the failing one after it");
	}
	outbox_msgs_free(v, n);
	state_close(s);
	free(path);
}

static void
test_cursor(void)
{
	char *path = tmp_path("cursor.db");
	struct state *s = open_db(path);
	struct diag err;
	int64_t seq = -1;

	ok(outbox_set_cursor(s, 42, &err) == 0, "set the cursor");
	ok(outbox_cursor(s, &seq, &err) == 0 && seq == 42, "read it back");
	ok(outbox_set_cursor(s, -1, &err) == -1, "a negative cursor is refused");

	/* The queue and the cursor move together or not at all. */
	ok(state_begin(s, &err) == 0, "begin");
	add(s, "granted email 43", "granted", "email", 1);
	outbox_set_cursor(s, 43, &err);
	state_rollback(s);
	ok(outbox_cursor(s, &seq, &err) == 0 && seq == 42,
	    "a rolled back transaction leaves the cursor");
	is_int(outbox_known(s, "granted email 43", &err), 0,
	    "and the message it queued");
	ok(state_begin(s, &err) == 0 && add(s, "granted email 43", "granted",
	    "email", 1) == 1 && outbox_set_cursor(s, 43, &err) == 0 &&
	    state_commit(s, &err) == 0, "queue and move in one transaction");
	state_close(s);
	s = open_db(path);
	ok(outbox_cursor(s, &seq, &err) == 0 && seq == 43 &&
	    outbox_known(s, "granted email 43", &err) == 1,
	    "both committed");
	state_close(s);
	free(path);
}

static void
test_posted(void)
{
	char *path = tmp_path("posted.db");
	struct state *s = open_db(path);
	struct posted p, *v = NULL;
	struct diag err;
	size_t n = 0;

	memset(&p, 0, sizeof(p));
	p.path = "requests/alice/q4.yaml";
	memcpy(p.blob, blob_a, sizeof(p.blob));
	p.channel = "C0123456789";
	p.ts = "1700000000.000100";
	p.posted_at = 1000;
	ok(outbox_posted_add(s, &p, &err) == 0, "record a posted message");
	p.path = "requests/bob/x.yaml";
	memcpy(p.blob, blob_b, sizeof(p.blob));
	p.ts = "1700000000.000200";
	p.posted_at = 2000;
	ok(outbox_posted_add(s, &p, &err) == 0, "and another");
	p.ts = "1700000000.000300";
	p.posted_at = 3000;
	ok(outbox_posted_add(s, &p, &err) == 0, "posted again: replaces");
	is_int(query_int(s, "SELECT count(*) FROM slack_posted"), 2,
	    "still one row per version");
	p.ts = "";
	ok(outbox_posted_add(s, &p, &err) == -1, "an empty ts is refused");
	p.ts = "1";
	memcpy(p.blob, "not-a-blob", 11);
	ok(outbox_posted_add(s, &p, &err) == -1, "a bad blob id is refused");

	ok(outbox_posted_open(s, &v, &n, &err) == 0 && n == 2, "two open");
	if (n == 2) {
		is_str(v[0].path, "requests/alice/q4.yaml", "oldest first");
		is_str(v[0].blob, blob_a, "its blob");
		is_str(v[0].channel, "C0123456789", "its channel");
		is_str(v[0].ts, "1700000000.000100", "its ts");
		ok(v[0].merged_at == 0 && v[0].merge_commit == NULL,
		    "not merged");
		is_str(v[1].ts, "1700000000.000300", "the newest post's ts");
		is_int(v[1].posted_at, 3000, "and time");
	}
	posted_free(v, n);

	ok(outbox_posted_merged(s, "requests/alice/q4.yaml", blob_a,
	    "cccccccccccccccccccccccccccccccccccccccc", 4000, &err) == 0,
	    "record a merge by reaction");
	ok(outbox_posted_merged(s, "requests/alice/q4.yaml", blob_b,
	    "cccccccccccccccccccccccccccccccccccccccc", 4000, &err) == -1,
	    "a version never posted cannot be merged: %s", err.msg);
	v = NULL;
	ok(outbox_posted_open(s, &v, &n, &err) == 0 && n == 1 &&
	    strcmp(v[0].path, "requests/bob/x.yaml") == 0,
	    "a merged message is no longer open");
	posted_free(v, n);
	is_int(query_int(s, "SELECT merged_at FROM slack_posted WHERE path = "
	    "'requests/alice/q4.yaml'"), 4000, "merged_at stored");
	p.path = "requests/alice/q4.yaml";
	memcpy(p.blob, blob_a, sizeof(p.blob));
	p.ts = "1700000000.000900";
	ok(outbox_posted_add(s, &p, &err) == 0 &&
	    query_int(s, "SELECT merged_at FROM slack_posted WHERE path = "
	    "'requests/alice/q4.yaml'") == 4000, "a merged record is not "
	    "reopened by a late post");
	state_close(s);
	free(path);
}

int
main(void)
{
	test_schema();
	test_queue();
	test_cursor();
	test_posted();
	return tap_done();
}
