/* Unit tests for the audit log: the hash chain (checked against an
 * independent implementation of the format documented in audit.c), the
 * append-only triggers, verification against three kinds of tampering,
 * queries, and the append rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit.h"
#include "diag.h"
#include "state.h"
#include "util.h"
#include "../../lib/tap.h"

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static struct state *
fresh_db(void)
{
	static int n;
	struct state *s = NULL;
	struct diag err;
	char *path = xasprintf("%s/audit%d.db", tap_tmpdir(), ++n);

	if (state_open(&s, path, &err) < 0) {
		printf("# open %s: %s\n", path, err.msg);
		exit(99);
	}
	free(path);
	return s;
}

static int
sql(struct state *s, const char *q, char *msg, size_t msgsz)
{
	char *m = NULL;
	int rc = sqlite3_exec(state_db(s), q, NULL, NULL, &m);

	if (msg != NULL)
		snprintf(msg, msgsz, "%s", m ? m : "");
	sqlite3_free(m);
	return rc == SQLITE_OK ? 0 : -1;
}

static struct audit_row
mkrow(const char *action, const char *person, const char *target)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	r.at = "2026-03-10T12:00:00Z";
	r.run = 7;
	r.action = (char *)action;
	r.platform = "warehouse";
	r.account = "alice";
	r.person = (char *)person;
	r.target = (char *)target;
	r.privilege = "SELECT";
	r.request = "requests/alice.yaml";
	r.commit_sha = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
	r.approvers = "bob@example.com";
	r.expires_at = "2026-04-10T12:00:00Z";
	r.reason = "request";
	return r;
}

static int
append(struct state *s, struct audit_row *r)
{
	struct diag err;

	if (audit_append(s, r, &err) < 0) {
		printf("# append: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static struct state *
db_with_rows(int n)
{
	struct state *s = fresh_db();
	struct audit_row r;
	int i;

	for (i = 0; i < n; i++) {
		r = mkrow("grant", "alice@example.com", "table:sales.orders");
		append(s, &r);
	}
	return s;
}

/* --- the documented format, written again from its description --- */

static void
put_len(EVP_MD_CTX *c, char tag, uint64_t v)
{
	unsigned char b[9];
	int i;

	b[0] = (unsigned char)tag;
	for (i = 8; i >= 1; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	EVP_DigestUpdate(c, b, 9);
}

/* Recompute the hash of stored row `seq`, with column `col` replaced by
 * `value` when col is not NULL. */
static void
ref_hash(struct state *s, int64_t seq, const char *col, const char *value,
    char out[65])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int len = 0, i;
	sqlite3_stmt *st;
	int k;

	sqlite3_prepare_v2(state_db(s), "SELECT seq, at, run, action, "
	    "platform, account, person, target, privilege, request, "
	    "commit_sha, approvers, expires_at, reason, detail, prev_hash "
	    "FROM audit WHERE seq = ?", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, seq);
	out[0] = '\0';
	if (sqlite3_step(st) != SQLITE_ROW)
		goto done;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, "accord-audit-v1\n", 16);
	for (k = 0; k < 16; k++) {
		const char *v;

		if (col && strcmp(sqlite3_column_name(st, k), col) == 0) {
			put_len(c, 'T', strlen(value));
			EVP_DigestUpdate(c, value, strlen(value));
			continue;
		}
		switch (sqlite3_column_type(st, k)) {
		case SQLITE_NULL:
			EVP_DigestUpdate(c, "N", 1);
			break;
		case SQLITE_INTEGER:
			put_len(c, 'I', (uint64_t)sqlite3_column_int64(st, k));
			break;
		default:
			v = (const char *)sqlite3_column_text(st, k);
			put_len(c, 'T', strlen(v));
			EVP_DigestUpdate(c, v, strlen(v));
		}
	}
	EVP_DigestFinal_ex(c, md, &len);
	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
done:
	sqlite3_finalize(st);
	EVP_MD_CTX_free(c);
}

static int
is_hex64(const char *h)
{
	return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

static void
test_chain(void)
{
	struct state *s = fresh_db();
	struct audit_row r[3];
	char ref[65];
	int i;

	for (i = 0; i < 3; i++) {
		r[i] = mkrow(i == 1 ? "revoke" : "grant", "alice@example.com",
		    "table:sales.orders");
		ok(append(s, &r[i]) == 0, "append %d", i + 1);
		is_int(r[i].seq, i + 1, "seq assigned");
		ok(is_hex64(r[i].hash), "hash is lower-case hex");
	}
	is_str(r[0].prev_hash, zeros, "first row links to zeros");
	is_str(r[1].prev_hash, r[0].hash, "row 2 links to row 1");
	is_str(r[2].prev_hash, r[1].hash, "row 3 links to row 2");
	ok(strcmp(r[0].hash, r[2].hash) != 0, "same fields, different hash");
	ref_hash(s, 2, NULL, NULL, ref);
	is_str(r[1].hash, ref, "hash matches the documented format");
	state_close(s);
}

/* Two logs whose single rows differ only as stated must hash apart. */
static int
hash_differs(struct audit_row *a, struct audit_row *b)
{
	struct state *s1 = fresh_db(), *s2 = fresh_db();
	int d;

	append(s1, a);
	append(s2, b);
	d = strcmp(a->hash, b->hash) != 0;
	state_close(s1);
	state_close(s2);
	return d;
}

static void
test_canonical(void)
{
	struct audit_row a, b;

	a = mkrow("grant", "p", "t");
	b = mkrow("grant", "p", "t");
	ok(!hash_differs(&a, &b), "identical rows hash alike");
	b.reason = "";
	a.reason = NULL;
	ok(hash_differs(&a, &b), "NULL differs from the empty string");
	a = mkrow("grant", "p", "t");
	b = mkrow("grant", "p", "t");
	a.platform = "ab";
	a.account = "c";
	b.platform = "a";
	b.account = "bc";
	ok(hash_differs(&a, &b), "field boundaries are part of the hash");
	a = mkrow("grant", "p", "t");
	b = mkrow("grant", "p", "t");
	b.run = 8;
	ok(hash_differs(&a, &b), "run is hashed");
}

static void
test_triggers(void)
{
	struct state *s = db_with_rows(2);
	char msg[256];

	ok(sql(s, "UPDATE audit SET reason = 'x' WHERE seq = 1", msg,
	    sizeof(msg)) == -1 && strstr(msg, "append-only"),
	    "UPDATE rejected: %s", msg);
	ok(sql(s, "DELETE FROM audit WHERE seq = 2", msg, sizeof(msg)) == -1 &&
	    strstr(msg, "append-only"), "DELETE rejected: %s", msg);
	state_close(s);
}

static void
test_values(void)
{
	struct state *s = fresh_db();
	struct audit_row r;
	struct diag err;
	char *big = xmalloc(10001), *utf = xmalloc(6002), *got;
	sqlite3_stmt *st;
	int i;

	memset(big, 'x', 10000);
	big[10000] = '\0';
	r = mkrow("drift", NULL, "table:t");
	r.detail = big;
	ok(append(s, &r) == 0, "append a long detail");
	/* "x" then 3000 two-byte characters: byte 4096 is a continuation. */
	utf[0] = 'x';
	for (i = 0; i < 3000; i++) {
		utf[1 + 2 * i] = (char)0xc3;
		utf[2 + 2 * i] = (char)0xa9;
	}
	utf[6001] = '\0';
	r.detail = utf;
	r.at = "2026-03-10T14:00:00+02:00";
	r.expires_at = NULL;
	ok(append(s, &r) == 0, "append a long UTF-8 detail");
	sqlite3_prepare_v2(state_db(s), "SELECT length(CAST(detail AS BLOB)), "
	    "at, expires_at IS NULL FROM audit ORDER BY seq", -1, &st, NULL);
	ok(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 4096,
	    "detail truncated to 4 KiB");
	ok(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 4095,
	    "truncation does not split a character");
	got = xstrdup((const char *)sqlite3_column_text(st, 1));
	is_str(got, "2026-03-10T12:00:00Z", "at stored in UTC");
	ok(sqlite3_column_int(st, 2) == 1, "NULL expiry stored as NULL");
	free(got);
	sqlite3_finalize(st);

	r = mkrow("grant", "p", "t");
	r.at = "last tuesday";
	ok(audit_append(s, &r, &err) == -1 && strstr(err.msg, "last tuesday"),
	    "bad time refused: %s", err.msg);
	r = mkrow(NULL, "p", "t");
	ok(audit_append(s, &r, &err) == -1, "row without action refused");
	r = mkrow("grant", "p", "t");
	r.expires_at = "soon";
	ok(audit_append(s, &r, &err) == -1, "bad expiry refused");

	/* Inside a caller's transaction that rolls back, nothing remains
	 * and the chain continues from the last committed row. */
	ok(state_begin(s, &err) == 0, "begin");
	r = mkrow("grant", "p", "t");
	append(s, &r);
	is_int(r.seq, 3, "seq 3 inside the transaction");
	state_rollback(s);
	r = mkrow("revoke", "p", "t");
	ok(append(s, &r) == 0 && r.seq == 3, "seq 3 again after rollback");
	state_close(s);
	free(big);
	free(utf);
}

static void
test_verify(void)
{
	struct state *s;
	struct diag err;
	int64_t rows = -1, bad = -1;
	char h[65], q[512];

	s = fresh_db();
	ok(audit_verify(s, &rows, &bad, &err) == 0 && rows == 0,
	    "empty log verifies");
	state_close(s);

	s = db_with_rows(5);
	ok(audit_verify(s, &rows, &bad, &err) == 0 && rows == 5,
	    "intact log verifies (%lld rows)", (long long)rows);
	state_close(s);

	/* (a) someone drops the trigger and edits a field. */
	s = db_with_rows(5);
	sql(s, "DROP TRIGGER audit_no_update", NULL, 0);
	ok(sql(s, "UPDATE audit SET privilege = 'ALL' WHERE seq = 3", NULL,
	    0) == 0, "attacker edits row 3");
	ok(audit_verify(s, &rows, &bad, &err) == 1 && bad == 3 && rows == 2,
	    "edited field found at row 3: %s", err.msg);
	ok(strstr(err.msg, "row 3") && strstr(err.msg, "altered") &&
	    strstr(err.msg, "contents"), "message says the row's own hash");
	state_close(s);

	/* (b) a row deleted. */
	s = db_with_rows(5);
	sql(s, "DROP TRIGGER audit_no_delete", NULL, 0);
	ok(sql(s, "DELETE FROM audit WHERE seq = 3", NULL, 0) == 0,
	    "attacker deletes row 3");
	ok(audit_verify(s, &rows, &bad, &err) == 1 && bad == 3 &&
	    strstr(err.msg, "row 3 is missing"), "deleted row found: %s",
	    err.msg);
	state_close(s);

	s = db_with_rows(3);
	sql(s, "DROP TRIGGER audit_no_delete", NULL, 0);
	sql(s, "DELETE FROM audit WHERE seq = 1", NULL, 0);
	ok(audit_verify(s, &rows, &bad, &err) == 1 && bad == 1 &&
	    strstr(err.msg, "row 1 is missing"), "deleted first row found: %s",
	    err.msg);
	state_close(s);

	/* (c) a row edited with its hash recomputed: its successor's link
	 * gives it away. */
	s = db_with_rows(5);
	sql(s, "DROP TRIGGER audit_no_update", NULL, 0);
	ref_hash(s, 3, "reason", "forged", h);
	snprintf(q, sizeof(q), "UPDATE audit SET reason = 'forged', "
	    "hash = '%s' WHERE seq = 3", h);
	ok(sql(s, q, NULL, 0) == 0, "attacker rewrites row 3 and its hash");
	ok(audit_verify(s, &rows, &bad, &err) == 1 && bad == 4 && rows == 3,
	    "broken link found at row 4: %s", err.msg);
	ok(strstr(err.msg, "row 4") && strstr(err.msg, "row 3") &&
	    strstr(err.msg, "prev_hash"), "message says the link is wrong");
	state_close(s);

	/* The first row must start from zeros. */
	s = db_with_rows(2);
	sql(s, "DROP TRIGGER audit_no_update", NULL, 0);
	ref_hash(s, 1, "prev_hash", "1111", h);
	snprintf(q, sizeof(q), "UPDATE audit SET prev_hash = '1111', "
	    "hash = '%s' WHERE seq = 1", h);
	sql(s, q, NULL, 0);
	ok(audit_verify(s, &rows, &bad, &err) == 1 && bad == 1 &&
	    strstr(err.msg, "zero"), "first row's prev_hash checked: %s",
	    err.msg);
	state_close(s);
}

struct collect {
	char seqs[256];
	int stop_after;
	int n;
};

static int
collect(void *arg, const struct audit_row *r)
{
	struct collect *c = arg;
	size_t len = strlen(c->seqs);

	snprintf(c->seqs + len, sizeof(c->seqs) - len, "%s%lld",
	    len ? "," : "", (long long)r->seq);
	return c->stop_after && ++c->n >= c->stop_after;
}

static const char *
run_query(struct state *s, const struct audit_filter *f, int stop_after)
{
	static struct collect c;
	struct diag err;

	memset(&c, 0, sizeof(c));
	c.stop_after = stop_after;
	if (audit_query(s, f, collect, &c, &err) < 0)
		snprintf(c.seqs, sizeof(c.seqs), "error: %.200s", err.msg);
	return c.seqs;
}

static int
check_row(void *arg, const struct audit_row *r)
{
	int *good = arg;

	*good = r->seq == 1 && strcmp(r->action, "grant") == 0 &&
	    strcmp(r->person, "alice@example.com") == 0 &&
	    strcmp(r->expires_at, "2026-04-10T12:00:00Z") == 0 &&
	    r->run == 7 && r->detail == NULL &&
	    strcmp(r->prev_hash, zeros) == 0 && is_hex64(r->hash);
	return 1;
}

static void
test_query(void)
{
	struct state *s = fresh_db();
	struct audit_filter f;
	struct audit_row r;
	struct diag err;
	int good = 0;

	r = mkrow("grant", "alice@example.com", "table:sales.orders");
	append(s, &r);					/* 1 */
	r = mkrow("grant", "bob@example.com", "table:sales.items");
	r.at = "2026-03-20T00:00:00Z";
	append(s, &r);					/* 2 */
	r = mkrow("revoke", "alice@example.com", "table:finance.x");
	r.at = "2026-04-01T00:00:00Z";
	append(s, &r);					/* 3 */
	r = mkrow("run_started", NULL, NULL);
	r.platform = NULL;
	r.at = "2026-04-02T00:00:00Z";
	append(s, &r);					/* 4 */

	memset(&f, 0, sizeof(f));
	is_str(run_query(s, &f, 0), "1,2,3,4", "all rows in seq order");
	f.person = "alice@example.com";
	is_str(run_query(s, &f, 0), "1,3", "by person");
	memset(&f, 0, sizeof(f));
	f.target = "table:sales.*";
	is_str(run_query(s, &f, 0), "1,2", "by target glob");
	f.target = "table:finance.x";
	is_str(run_query(s, &f, 0), "3", "by exact target");
	f.target = "table:sales.[o]*";
	is_str(run_query(s, &f, 0), "1", "bracket glob");
	memset(&f, 0, sizeof(f));
	f.action = "grant";
	f.platform = "warehouse";
	is_str(run_query(s, &f, 0), "1,2", "by action and platform");
	memset(&f, 0, sizeof(f));
	time_parse(&f.since, "2026-03-20T00:00:00Z");
	time_parse(&f.until, "2026-04-02T00:00:00Z");
	is_str(run_query(s, &f, 0), "2,3", "since inclusive, until exclusive");
	memset(&f, 0, sizeof(f));
	f.limit = 3;
	f.target = "table:*";
	is_str(run_query(s, &f, 0), "1,2,3", "limit");
	f.limit = 0;
	is_str(run_query(s, &f, 2), "1,2", "callback stops the walk");
	memset(&f, 0, sizeof(f));
	f.person = "nobody";
	is_str(run_query(s, &f, 0), "", "no match");
	memset(&f, 0, sizeof(f));
	ok(audit_query(s, &f, check_row, &good, &err) == 0 && good,
	    "row fields passed to the callback");
	state_close(s);
}

static void
test_columns(void)
{
	int n = 0;

	while (audit_columns[n] != NULL)
		n++;
	is_int(n, 17, "17 audit columns");
	is_str(audit_columns[0], "seq", "first column");
	is_str(audit_columns[14], "detail", "detail column");
	is_str(audit_columns[16], "hash", "last column");
}

static void
test_rate(void)
{
	struct state *s = fresh_db();
	struct audit_row r;
	struct diag err;
	struct timespec t0, t1;
	int64_t rows = 0, bad = 0;
	double secs;
	int i, fails = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	state_begin(s, &err);
	for (i = 0; i < 10000; i++) {
		r = mkrow("grant", "alice@example.com", "table:sales.orders");
		if (audit_append(s, &r, &err) < 0)
			fails++;
	}
	ok(fails == 0 && state_commit(s, &err) == 0,
	    "10000 appends in one transaction");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# audit_append: 10000 rows in %.3f s (%.0f rows/s)\n", secs,
	    secs > 0 ? 10000 / secs : 0.0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(audit_verify(s, &rows, &bad, &err) == 0 && rows == 10000,
	    "10000-row chain verifies");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# audit_verify: 10000 rows in %.3f s\n",
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	state_close(s);
}

int
main(void)
{
	test_chain();
	test_canonical();
	test_triggers();
	test_values();
	test_verify();
	test_query();
	test_columns();
	test_rate();
	return tap_done();
}
