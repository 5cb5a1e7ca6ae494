/*
 * The audit log: rows are only ever appended (triggers reject UPDATE and
 * DELETE), and each row carries prev_hash, the hash of the row before it,
 * and hash, a SHA-256 over its own fields and prev_hash.  The triggers
 * stop mistakes; the chain catches someone who went around them.
 *
 * The hashed bytes, so that another tool can verify the log: the ASCII
 * text "accord-audit-v1\n", then for each of seq, at, run, action,
 * platform, account, person, target, privilege, request, commit_sha,
 * approvers, expires_at, reason, detail, prev_hash in that order: 'N'
 * for NULL; 'I' and the value as 8 bytes big-endian two's complement for
 * an integer; 'T', the length in bytes as 8 bytes big-endian, and the
 * UTF-8 bytes for text.  hash is the lower-case hex digest.  The first
 * row's prev_hash is 64 zeros.
 *
 * What the chain cannot show is the loss of the newest rows: a log cut
 * short is still a valid chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "audit.h"
#include "buf.h"
#include "state.h"
#include "statedb.h"
#include "util.h"

#define DETAIL_MAX 4096
#define NHASHED 16		/* seq .. prev_hash */
#define HASH_DOMAIN "accord-audit-v1\n"

const char *const audit_columns[] = {
	"seq", "at", "run", "action", "platform", "account", "person",
	"target", "privilege", "request", "commit_sha", "approvers",
	"expires_at", "reason", "detail", "prev_hash", "hash", NULL,
};

#define AUDIT_SELECT "SELECT seq, at, run, action, platform, account, " \
	"person, target, privilege, request, commit_sha, approvers, " \
	"expires_at, reason, detail, prev_hash, hash FROM audit"

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

enum field_kind { F_NULL, F_INT, F_TEXT };

struct field {
	enum field_kind kind;
	int64_t i;
	const char *s;
	size_t len;
};

static void
field_int(struct field *f, int64_t v)
{
	f->kind = F_INT;
	f->i = v;
}

static void
field_text(struct field *f, const char *s)
{
	f->kind = s ? F_TEXT : F_NULL;
	f->s = s;
	f->len = s ? strlen(s) : 0;
}

static void
be64(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static int
hash_fields(const struct field *f, char out[65], struct diag *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], num[8];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	int ok, k;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return diag_set(err, "audit: cannot allocate a digest");
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, HASH_DOMAIN, strlen(HASH_DOMAIN));
	for (k = 0; ok && k < NHASHED; k++) {
		switch (f[k].kind) {
		case F_NULL:
			ok = EVP_DigestUpdate(ctx, "N", 1);
			break;
		case F_INT:
			be64(num, (uint64_t)f[k].i);
			ok = EVP_DigestUpdate(ctx, "I", 1) &&
			    EVP_DigestUpdate(ctx, num, 8);
			break;
		case F_TEXT:
			be64(num, (uint64_t)f[k].len);
			ok = EVP_DigestUpdate(ctx, "T", 1) &&
			    EVP_DigestUpdate(ctx, num, 8) &&
			    EVP_DigestUpdate(ctx, f[k].s, f[k].len);
			break;
		}
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return diag_set(err, "audit: SHA-256 failed");
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	return 0;
}

/* Fields of a row in hash order, from the caller's strings. */
static void
row_fields(struct field *f, int64_t seq, const char *at,
    const struct audit_row *r, const char *expires, const char *detail,
    const char *prev)
{
	field_int(&f[0], seq);
	field_text(&f[1], at);
	field_int(&f[2], r->run);
	field_text(&f[3], r->action);
	field_text(&f[4], r->platform);
	field_text(&f[5], r->account);
	field_text(&f[6], r->person);
	field_text(&f[7], r->target);
	field_text(&f[8], r->privilege);
	field_text(&f[9], r->request);
	field_text(&f[10], r->commit_sha);
	field_text(&f[11], r->approvers);
	field_text(&f[12], expires);
	field_text(&f[13], r->reason);
	field_text(&f[14], detail);
	field_text(&f[15], prev);
}

/* Fields of a stored row in hash order, typed as stored. */
static void
stored_fields(struct field *f, sqlite3_stmt *st)
{
	int k;

	for (k = 0; k < NHASHED; k++) {
		switch (sqlite3_column_type(st, k)) {
		case SQLITE_NULL:
			f[k].kind = F_NULL;
			break;
		case SQLITE_INTEGER:
			field_int(&f[k], sqlite3_column_int64(st, k));
			break;
		default:
			f[k].kind = F_TEXT;
			f[k].s = (const char *)sqlite3_column_text(st, k);
			f[k].len = (size_t)sqlite3_column_bytes(st, k);
			if (f[k].s == NULL)
				f[k].s = "";
			break;
		}
	}
}

/* "2026-12-01T11:00:00+02:00" -> "2026-12-01T09:00:00Z", so that rows
 * sort and compare as text. */
static int
canonical_time(char out[TIME_STR_MAX], const char *s)
{
	int64_t t;

	if (time_parse(&t, s) < 0)
		return -1;
	time_format(out, TIME_STR_MAX, t);
	return 0;
}

/* At most DETAIL_MAX bytes, not splitting a UTF-8 sequence. */
static char *
truncate_detail(const char *d)
{
	size_t n;

	if (d == NULL)
		return NULL;
	n = strlen(d);
	if (n <= DETAIL_MAX)
		return xstrdup(d);
	n = DETAIL_MAX;
	while (n > 0 && ((unsigned char)d[n] & 0xc0) == 0x80)
		n--;
	return xstrndup(d, n);
}

int
audit_append(struct state *s, struct audit_row *row, struct diag *err)
{
	struct stmt last = { 0 }, ins = { 0 };
	struct field f[NHASHED];
	char at[TIME_STR_MAX], expires[TIME_STR_MAX], prev[65], hash[65];
	char *detail = NULL;
	struct tx tx;
	int64_t seq = 1;
	int rc = -1, began = 0;

	if (row->action == NULL || row->action[0] == '\0')
		return diag_set(err, "audit: row without an action");
	if (row->at == NULL || canonical_time(at, row->at) < 0)
		return diag_set(err, "audit: bad time \"%s\"",
		    row->at ? row->at : "(null)");
	if (row->expires_at != NULL &&
	    canonical_time(expires, row->expires_at) < 0)
		return diag_set(err, "audit: bad expiry time \"%s\"",
		    row->expires_at);
	detail = truncate_detail(row->detail);

	if (db_tx_begin(s, &tx, err) < 0)
		goto out;
	began = 1;
	if (db_prepare(s, &last, "SELECT seq, hash FROM audit "
	    "ORDER BY seq DESC LIMIT 1", err) < 0)
		goto out;
	switch (db_step(&last, err)) {
	case -1:
		goto out;
	case 1:
		seq = db_col_int(&last, 0) + 1;
		snprintf(prev, sizeof(prev), "%s",
		    db_col_text(&last, 1) ? db_col_text(&last, 1) : "");
		break;
	default:
		memcpy(prev, zero_hash, sizeof(prev));
		break;
	}
	row_fields(f, seq, at, row, row->expires_at ? expires : NULL, detail,
	    prev);
	if (hash_fields(f, hash, err) < 0)
		goto out;
	if (db_prepare(s, &ins, "INSERT INTO audit (seq, at, run, action, "
	    "platform, account, person, target, privilege, request, "
	    "commit_sha, approvers, expires_at, reason, detail, prev_hash, "
	    "hash) VALUES (:seq, :at, :run, :action, :platform, :account, "
	    ":person, :target, :privilege, :request, :commit_sha, :approvers, "
	    ":expires_at, :reason, :detail, :prev_hash, :hash)", err) < 0)
		goto out;
	db_bind_int(&ins, ":seq", seq);
	db_bind_text(&ins, ":at", at);
	db_bind_int(&ins, ":run", row->run);
	db_bind_text(&ins, ":action", row->action);
	db_bind_text(&ins, ":platform", row->platform);
	db_bind_text(&ins, ":account", row->account);
	db_bind_text(&ins, ":person", row->person);
	db_bind_text(&ins, ":target", row->target);
	db_bind_text(&ins, ":privilege", row->privilege);
	db_bind_text(&ins, ":request", row->request);
	db_bind_text(&ins, ":commit_sha", row->commit_sha);
	db_bind_text(&ins, ":approvers", row->approvers);
	db_bind_text(&ins, ":expires_at", row->expires_at ? expires : NULL);
	db_bind_text(&ins, ":reason", row->reason);
	db_bind_text(&ins, ":detail", detail);
	db_bind_text(&ins, ":prev_hash", prev);
	db_bind_text(&ins, ":hash", hash);
	if (db_step(&ins, err) < 0)
		goto out;
	rc = 0;
out:
	db_finalize(&last);
	db_finalize(&ins);
	free(detail);
	if (rc == 0 && db_tx_commit(s, &tx, err) < 0)
		rc = -1;
	if (rc < 0) {
		if (began)
			db_tx_rollback(s, &tx);
		return diag_prefix(err, "appending to the audit log");
	}
	row->seq = seq;
	memcpy(row->prev_hash, prev, sizeof(row->prev_hash));
	memcpy(row->hash, hash, sizeof(row->hash));
	return 0;
}

int
audit_verify(struct state *s, int64_t *rows, int64_t *bad_seq,
    struct diag *err)
{
	struct stmt st;
	struct field f[NHASHED];
	char prev[65], hash[65];
	int64_t want = 1, seq, good = 0;
	const char *stored_hash, *stored_prev;
	int rc;

	*rows = 0;
	*bad_seq = 0;
	if (db_prepare(s, &st, AUDIT_SELECT " ORDER BY seq", err) < 0)
		return diag_prefix(err, "verifying the audit log");
	memcpy(prev, zero_hash, sizeof(prev));
	while ((rc = db_step(&st, err)) == 1) {
		seq = db_col_int(&st, 0);
		if (seq != want) {
			*bad_seq = seq > want ? want : seq;
			if (seq > want)
				diag_set(err, "audit row %lld is missing: the "
				    "log goes from row %lld to row %lld "
				    "(rows were deleted)", (long long)want,
				    (long long)want - 1, (long long)seq);
			else
				diag_set(err, "audit row %lld is out of "
				    "sequence (expected row %lld)",
				    (long long)seq, (long long)want);
			rc = 1;
			break;
		}
		stored_fields(f, st.st);
		if (hash_fields(f, hash, err) < 0) {
			rc = -1;
			break;
		}
		stored_hash = db_col_text(&st, NHASHED);
		stored_prev = db_col_text(&st, NHASHED - 1);
		if (stored_hash == NULL || strcmp(stored_hash, hash) != 0) {
			*bad_seq = seq;
			diag_set(err, "audit row %lld was altered: its hash "
			    "does not match its contents", (long long)seq);
			rc = 1;
			break;
		}
		if (stored_prev == NULL || strcmp(stored_prev, prev) != 0) {
			*bad_seq = seq;
			if (seq == 1)
				diag_set(err, "audit row 1 was altered: its "
				    "prev_hash is not the initial zero hash");
			else
				diag_set(err, "audit row %lld does not link to "
				    "row %lld: its prev_hash is not that row's "
				    "hash (the chain was rewritten)",
				    (long long)seq, (long long)seq - 1);
			rc = 1;
			break;
		}
		memcpy(prev, hash, sizeof(prev));
		want++;
		good++;
	}
	db_finalize(&st);
	*rows = good;
	if (rc < 0)
		return diag_prefix(err, "verifying the audit log");
	return rc;
}

int
audit_query(struct state *s, const struct audit_filter *f,
    int (*cb)(void *arg, const struct audit_row *row), void *arg,
    struct diag *err)
{
	struct stmt st = { 0 };
	struct audit_row r;
	struct buf sql;
	char since[TIME_STR_MAX], until[TIME_STR_MAX];
	const char *target_glob = NULL;
	long n = 0;
	int rc;

	buf_init(&sql, 0);
	buf_puts(&sql, AUDIT_SELECT " WHERE 1");
	if (f->person)
		/* people compare case-insensitively, as in the answers,
		 * and that is how audit_person is indexed */
		buf_puts(&sql, " AND person = :person COLLATE NOCASE");
	if (f->platform)
		buf_puts(&sql, " AND platform = :platform");
	if (f->action)
		buf_puts(&sql, " AND action = :action");
	/* A glob is matched here with glob_match, not SQLite's GLOB,
	 * so that the CLI's globs mean the same everywhere. */
	if (f->target && has_glob(f->target))
		target_glob = f->target;
	else if (f->target)
		buf_puts(&sql, " AND target = :target");
	/* `at` is stored canonical (UTC, "Z"), so text order is time order. */
	if (f->since)
		buf_puts(&sql, " AND at >= :since");
	if (f->until)
		buf_puts(&sql, " AND at < :until");
	buf_puts(&sql, " ORDER BY seq");
	rc = db_prepare(s, &st, buf_cstr(&sql), err);
	buf_release(&sql);
	if (rc < 0)
		return diag_prefix(err, "querying the audit log");
	if (f->person)
		db_bind_text(&st, ":person", f->person);
	if (f->platform)
		db_bind_text(&st, ":platform", f->platform);
	if (f->action)
		db_bind_text(&st, ":action", f->action);
	if (f->target && target_glob == NULL)
		db_bind_text(&st, ":target", f->target);
	if (f->since)
		db_bind_text(&st, ":since",
		    time_format(since, sizeof(since), f->since));
	if (f->until)
		db_bind_text(&st, ":until",
		    time_format(until, sizeof(until), f->until));
	while ((rc = db_step(&st, err)) == 1) {
		const char *tg = db_col_text(&st, 7);

		if (target_glob && (tg == NULL || !glob_match(target_glob, tg)))
			continue;
		memset(&r, 0, sizeof(r));
		r.seq = db_col_int(&st, 0);
		r.at = (char *)db_col_text(&st, 1);
		r.run = db_col_int(&st, 2);
		r.action = (char *)db_col_text(&st, 3);
		r.platform = (char *)db_col_text(&st, 4);
		r.account = (char *)db_col_text(&st, 5);
		r.person = (char *)db_col_text(&st, 6);
		r.target = (char *)db_col_text(&st, 7);
		r.privilege = (char *)db_col_text(&st, 8);
		r.request = (char *)db_col_text(&st, 9);
		r.commit_sha = (char *)db_col_text(&st, 10);
		r.approvers = (char *)db_col_text(&st, 11);
		r.expires_at = (char *)db_col_text(&st, 12);
		r.reason = (char *)db_col_text(&st, 13);
		r.detail = (char *)db_col_text(&st, 14);
		snprintf(r.prev_hash, sizeof(r.prev_hash), "%s",
		    db_col_text(&st, 15) ? db_col_text(&st, 15) : "");
		snprintf(r.hash, sizeof(r.hash), "%s",
		    db_col_text(&st, 16) ? db_col_text(&st, 16) : "");
		if (cb(arg, &r) != 0)
			break;
		if (f->limit > 0 && ++n >= f->limit)
			break;
	}
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "querying the audit log");
	return 0;
}
