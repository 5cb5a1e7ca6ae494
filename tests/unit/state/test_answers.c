/* Unit tests for the answers (answers.h) on a real state database:
 * windows paired from real audit rows (edges exclusive at the revoke,
 * renewal, a revoke row without the person), glob ranges including a
 * leading wildcard and non-ASCII names, access inherited through nested
 * roles with a cycle, case-insensitive people, and the query plans that
 * keep answers fast on a long audit log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "answers.h"
#include "audit.h"
#include "diag.h"
#include "state.h"
#include "util.h"
#include "../../lib/tap.h"

static struct state *
open_db(const char *name)
{
	char *path = xasprintf("%s/%s", tap_tmpdir(), name);
	struct state *s = NULL;
	struct diag err;

	if (state_open(&s, path, &err) < 0) {
		printf("# open %s: %s\n", path, err.msg);
		exit(99);
	}
	free(path);
	return s;
}

static void
audit(struct state *s, const char *at, const char *action, const char *person,
    const char *account, const char *target, const char *reason);

static void is_windows(struct state *s, const struct window_filter *f,
    const char *want, const char *name);
static int64_t T(const char *s);

/* Windows of roles: alice is a member of role:r from the 1st to the 4th;
 * role:r holds table:y from the 2nd on. */
static void
test_windows_via(void)
{
	struct state *s = open_db("via.db");
	struct window_filter f;

	audit(s, "2026-04-01T00:00:00Z", "grant", "alice@example.com", "alice",
	    "role:r", "request");
	audit(s, "2026-04-02T00:00:00Z", "grant", NULL, "role:r", "table:y",
	    "request");
	audit(s, "2026-04-04T00:00:00Z", "revoke", "alice@example.com", "alice",
	    "role:r", "withdrawn");
	memset(&f, 0, sizeof(f));
	f.person = "alice@example.com";
	f.at = T("2026-04-03T00:00:00Z");
	is_windows(s, &f, "alice role:r 2026-04-01T00:00:00Z.."
	    "2026-04-04T00:00:00Z withdrawn; alice table:y 2026-04-02T00:00:00Z"
	    "..2026-04-04T00:00:00Z withdrawn", "a person's history follows the "
	    "membership to what the role held then, over the overlap");
	f.target = "table:*";
	is_windows(s, &f, "alice table:y 2026-04-02T00:00:00Z.."
	    "2026-04-04T00:00:00Z withdrawn", "the target filter applies after "
	    "the roles are followed");
	f.at = T("2026-04-01T12:00:00Z");
	is_windows(s, &f, "", "before the role held it: nothing inherited");
	memset(&f, 0, sizeof(f));
	f.target = "table:y";
	f.at = T("2026-04-03T00:00:00Z");
	is_windows(s, &f, "role:r table:y 2026-04-02T00:00:00Z..open -; alice "
	    "table:y 2026-04-02T00:00:00Z..2026-04-04T00:00:00Z withdrawn",
	    "a target's history lists the role's members of that day");
	f.at = T("2026-04-05T00:00:00Z");
	is_windows(s, &f, "role:r table:y 2026-04-02T00:00:00Z..open -",
	    "after the membership ended: only the role");
	state_close(s);
}

static void
audit(struct state *s, const char *at, const char *action, const char *person,
    const char *account, const char *target, const char *reason)
{
	struct audit_row r;
	struct diag err;

	memset(&r, 0, sizeof(r));
	r.at = (char *)at;
	r.run = 1;
	r.action = (char *)action;
	r.platform = "wh";
	r.account = (char *)account;
	r.person = (char *)person;
	r.target = (char *)target;
	r.privilege = "SELECT";
	r.request = "requests/x.yaml";
	r.reason = (char *)reason;
	if (state_begin(s, &err) < 0 || audit_append(s, &r, &err) < 0 ||
	    state_commit(s, &err) < 0) {
		printf("# audit_append: %s\n", err.msg);
		exit(99);
	}
}

static int64_t
T(const char *s)
{
	int64_t t = 0;

	if (time_parse(&t, s) < 0) {
		printf("# bad time %s\n", s);
		exit(99);
	}
	return t;
}

/* Windows matching f, as "account target from..until reason" lines. */
static char *
windows(struct state *s, const struct window_filter *f)
{
	struct answers a;
	struct diag err;
	char *out = xstrdup(""), *next, t1[TIME_STR_MAX], t2[TIME_STR_MAX];
	size_t i;

	if (answers_windows(s, f, &a, &err) < 0)
		return xasprintf("ERROR %s", err.msg);
	for (i = 0; i < a.n; i++) {
		next = xasprintf("%s%s%s %s %s..%s %s", out, i ? "; " : "",
		    a.v[i].account, a.v[i].target,
		    time_format(t1, sizeof(t1), a.v[i].granted_at),
		    a.v[i].until ? time_format(t2, sizeof(t2), a.v[i].until) :
		    "open", a.v[i].end_reason ? a.v[i].end_reason : "-");
		free(out);
		out = next;
	}
	answers_release(&a);
	return out;
}

static void
is_windows(struct state *s, const struct window_filter *f, const char *want,
    const char *name)
{
	char *got = windows(s, f);

	is_str(got, want, name);
	free(got);
}

static void
test_windows(void)
{
	struct state *s = open_db("windows.db");
	struct window_filter f;

	audit(s, "2026-03-01T12:00:00Z", "grant", "alice@example.com", "alice",
	    "table:s.orders", "request");
	audit(s, "2026-03-01T12:00:00Z", "grant", "bob@example.com", "bob",
	    "table:s.orders", "request");
	audit(s, "2026-03-05T00:00:00Z", "denied", "alice@example.com",
	    "alice", "table:s.orders", "denied");
	audit(s, "2026-03-08T12:00:00Z", "revoke", "alice@example.com",
	    "alice", "table:s.orders", "expired");
	/* Renewal: a grant row while the key is open starts a new window. */
	audit(s, "2026-03-10T00:00:00Z", "grant", "alice@example.com", "alice",
	    "table:s.lines", "request");
	audit(s, "2026-03-12T00:00:00Z", "grant", "alice@example.com", "alice",
	    "table:s.lines", "request");
	/* A revoke row that lacks the person still closes the window. */
	audit(s, "2026-03-20T00:00:00Z", "revoke", NULL, "bob",
	    "table:s.orders", "drift");

	memset(&f, 0, sizeof(f));
	f.person = "ALICE@example.com";
	f.at = T("2026-03-01T11:59:59Z");
	is_windows(s, &f, "", "before the grant row: nothing");
	f.at = T("2026-03-01T12:00:00Z");
	is_windows(s, &f, "alice table:s.orders 2026-03-01T12:00:00Z.."
	    "2026-03-08T12:00:00Z expired", "at the grant row: held (start "
	    "inclusive), person matched case-insensitively");
	f.at = T("2026-03-08T11:59:59Z");
	is_windows(s, &f, "alice table:s.orders 2026-03-01T12:00:00Z.."
	    "2026-03-08T12:00:00Z expired", "a second before the revoke: held");
	f.at = T("2026-03-08T12:00:00Z");
	is_windows(s, &f, "", "at the revoke: not held (end exclusive)");
	f.at = T("2026-03-11T00:00:00Z");
	is_windows(s, &f, "alice table:s.lines 2026-03-10T00:00:00Z.."
	    "2026-03-12T00:00:00Z renewed", "a renewed grant: the first window "
	    "ends at the renewal");
	f.at = T("2026-04-01T00:00:00Z");
	is_windows(s, &f, "alice table:s.lines 2026-03-12T00:00:00Z..open -",
	    "the renewed window stays open");

	memset(&f, 0, sizeof(f));
	f.person = "bob@example.com";
	f.at = T("2026-03-15T00:00:00Z");
	is_windows(s, &f, "bob table:s.orders 2026-03-01T12:00:00Z.."
	    "2026-03-20T00:00:00Z drift", "a person's window closed by a "
	    "revoke row without the person");
	f.at = T("2026-03-20T00:00:01Z");
	is_windows(s, &f, "", "and after it: nothing");

	memset(&f, 0, sizeof(f));
	f.target = "table:s.*";
	f.at = T("2026-03-05T00:00:00Z");
	is_windows(s, &f, "alice table:s.orders 2026-03-01T12:00:00Z.."
	    "2026-03-08T12:00:00Z expired; bob table:s.orders "
	    "2026-03-01T12:00:00Z..2026-03-20T00:00:00Z drift",
	    "by target glob at an instant");
	f.target = "*lines";
	f.at = 0;
	is_windows(s, &f, "alice table:s.lines 2026-03-10T00:00:00Z.."
	    "2026-03-12T00:00:00Z renewed; alice table:s.lines "
	    "2026-03-12T00:00:00Z..open -", "a leading wildcard: every window");
	f.since = T("2026-03-13T00:00:00Z");
	is_windows(s, &f, "alice table:s.lines 2026-03-12T00:00:00Z..open -",
	    "since: windows that ended before it are left out");
	memset(&f, 0, sizeof(f));
	f.until = T("2026-03-01T12:00:00Z");
	is_windows(s, &f, "", "until: a window starting at the bound is out");
	f.platform = "lake";
	f.until = 0;
	is_windows(s, &f, "", "another platform: nothing");
	state_close(s);
}

static void
put_grant(struct state *s, const char *account, const char *person,
    const char *target, const char *privilege)
{
	struct sgrant g;
	struct diag err;

	memset(&g, 0, sizeof(g));
	g.platform = "wh";
	g.account = (char *)account;
	g.person = (char *)person;
	g.target = (char *)target;
	g.privilege = (char *)privilege;
	g.request = "requests/r.yaml";
	g.approvers = "bob@example.com";
	g.rule = "policies/p.yaml#1";
	g.granted_at = T("2026-03-01T00:00:00Z");
	if (state_grant_put(s, &g, &err) < 0) {
		printf("# grant_put: %s\n", err.msg);
		exit(99);
	}
}

/* "account target via" per answer, sorted as returned. */
static char *
list(const struct answers *a)
{
	char *out = xstrdup(""), *next;
	size_t i;

	for (i = 0; i < a->n; i++) {
		next = xasprintf("%s%s%s %s%s%s%s", out, i ? "; " : "",
		    a->v[i].account, a->v[i].target, a->v[i].via ? " via " : "",
		    a->v[i].via ? a->v[i].via : "", a->v[i].outside ?
		    " outside" : "");
		free(out);
		out = next;
	}
	return out;
}

static void
test_held(void)
{
	struct state *s = open_db("held.db");
	struct answers a;
	struct ingest in;
	struct diag err;
	char *persons[] = { "alice@example.com", NULL, NULL };
	char *got;

	/* alice -> role:a -> role:b -> table:x; role:b -> role:a (cycle). */
	put_grant(s, "alice", "Alice@Example.com", "role:a", "member");
	put_grant(s, "role:a", NULL, "role:b", "member");
	put_grant(s, "role:b", NULL, "table:x", "SELECT");
	memset(&in, 0, sizeof(in));
	ingest_add_ident(&in, "alice", "alice@example.com", NULL, ACCT_USER);
	ingest_add_ident(&in, "svc", NULL, NULL, ACCT_USER);
	ingest_add_ident(&in, "a", NULL, NULL, ACCT_ROLE);
	ingest_add_grant(&in, "alice", "role:a", "member");
	ingest_add_grant(&in, "role:a", "role:b", "member");
	ingest_add_grant(&in, "role:b", "table:x", "SELECT");
	ingest_add_grant(&in, "role:b", "role:a", "member");
	ingest_add_grant(&in, "svc", "table:x", "SELECT");
	ingest_add_grant(&in, "svc", "table:\xc3\xa9t\xc3\xa9", "SELECT");
	ok(state_save_ingest(s, "wh", &in, persons, T("2026-03-02T00:00:00Z"),
	    &err) == 0, "ingest saved");
	ingest_release(&in);


	ok(answers_access(s, "alice@EXAMPLE.com", &a, &err) == 0, "access");
	got = list(&a);
	is_str(got, "alice role:a; alice role:b via role:a; "
	    "alice table:x via role:a > role:b",
	    "access: nested roles followed, the cycle stops");
	free(got);
	is_str(a.n ? a.v[a.n - 1].request : NULL, "requests/r.yaml",
	    "inherited access carries the membership's request");
	is_str(a.n ? a.v[a.n - 1].person : NULL, "Alice@Example.com",
	    "and its person");
	answers_release(&a);

	ok(answers_who(s, "wh", "table:x", &a, &err) == 0, "who");
	got = list(&a);
	is_str(got, "alice table:x via role:a > role:b; role:a table:x via "
	    "role:b; role:b table:x; svc table:x outside",
	    "who: direct holders, then members through nested roles");
	free(got);
	answers_release(&a);

	ok(answers_who(s, "wh", "*\xc3\xa9", &a, &err) == 0, "who, glob");
	got = list(&a);
	is_str(got, "svc table:\xc3\xa9t\xc3\xa9 outside",
	    "a leading wildcard over a non-ASCII name");
	free(got);
	answers_release(&a);
	ok(answers_who(s, "wh", "table:\xc3\xa9*", &a, &err) == 0 &&
	    a.n == 1, "a non-ASCII literal prefix bounds the range correctly");
	answers_release(&a);

	ok(answers_outside(s, NULL, &a, &err) == 0 && a.n == 3,
	    "outside: the three grants accord did not make (%zu)", a.n);
	answers_release(&a);
	ok(answers_active(s, "wh", &a, &err) == 0 && a.n == 3,
	    "active: the three accord made");
	answers_release(&a);

	/* A login role: its grants are under its bare name. */
	memset(&in, 0, sizeof(in));
	ingest_add_ident(&in, "bob", NULL, NULL, ACCT_USER);
	ingest_add_ident(&in, "bot", NULL, NULL, ACCT_USER);
	ingest_add_grant(&in, "bob", "role:bot", "member");
	ingest_add_grant(&in, "bot", "table:z", "SELECT");
	persons[0] = "bob@example.com";
	ok(state_save_ingest(s, "pg", &in, persons, T("2026-03-02T00:00:00Z"),
	    &err) == 0, "a second platform's ingest");
	ingest_release(&in);
	ok(answers_access(s, "bob@example.com", &a, &err) == 0, "access bob");
	got = list(&a);
	is_str(got, "bob role:bot outside; bob table:z via role:bot outside",
	    "membership of a login role reaches what it holds as itself");
	free(got);
	answers_release(&a);
	ok(answers_who(s, "pg", "table:z", &a, &err) == 0, "who table:z");
	got = list(&a);
	is_str(got, "bob table:z via role:bot outside; bot table:z outside",
	    "who: the login role and its member");
	free(got);
	answers_release(&a);

	/* Apply keeps the ingested snapshot current. */
	ok(state_grant_del(s, "wh", "svc", "table:x", "SELECT", &err) == 0,
	    "a revoke of an outside grant");
	ok(answers_who(s, "wh", "table:x", &a, &err) == 0 && a.n == 3,
	    "who no longer lists it (%zu%s%s)", a.n, a.n ? "" : ": ",
	    a.n ? "" : err.msg);
	answers_release(&a);
	state_close(s);
}

/* The plan of a query must name the index. */
static void
uses_index(struct state *s, const char *sql, const char *index, int sort_ok)
{
	sqlite3_stmt *st;
	char *plan = xstrdup(""), *next;

	if (sqlite3_prepare_v2(state_db(s), sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			next = xasprintf("%s %s", plan,
			    (const char *)sqlite3_column_text(st, 3));
			free(plan);
			plan = next;
		}
		sqlite3_finalize(st);
	}
	ok(strstr(plan, index) != NULL && (sort_ok ||
	    strstr(plan, "TEMP B-TREE") == NULL), "%s: plan uses %s%s (%s)",
	    sql + 19, index, sort_ok ? "" : " without a sort", plan);
	free(plan);
}

static void
test_plans(void)
{
	struct state *s = open_db("plans.db");

	uses_index(s, "EXPLAIN QUERY PLAN SELECT seq FROM audit WHERE action IN "
	    "('grant', 'revoke') AND person = 'a' COLLATE NOCASE ORDER BY seq",
	    "audit_person", 1);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT seq FROM audit WHERE action IN "
	    "('grant', 'revoke') AND platform = 'p' AND target = 't' ORDER BY "
	    "seq", "audit_target", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT seq FROM audit WHERE action IN "
	    "('grant', 'revoke') AND target = 't' ORDER BY seq",
	    "audit_target_any", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT action FROM audit WHERE person "
	    "= 'a' COLLATE NOCASE AND platform = 'p' AND target = 't' ORDER BY "
	    "seq DESC LIMIT 1", "audit_person", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT platform FROM identities WHERE "
	    "person = 'a' COLLATE NOCASE", "identities_person", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT platform FROM grants WHERE "
	    "person = 'a' COLLATE NOCASE", "grants_person", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT account, privilege FROM grants "
	    "WHERE platform = 'p' AND target = 't'", "grants_target", 0);
	uses_index(s, "EXPLAIN QUERY PLAN SELECT account, privilege FROM "
	    "ingested WHERE platform = 'p' AND target = 't'", "ingested_target",
	    0);
	state_close(s);
}

static void
test_state_open(void)
{
	char *path = xasprintf("%s/open.db", tap_tmpdir());
	struct state *s = NULL;
	struct diag err;
	int64_t run;

	memset(&err, 0, sizeof(err));
	is_int(answers_state_open(&s, path, &err), 0, "no file: no state");
	ok(s == NULL && strstr(err.msg, "no state database") != NULL,
	    "no file: says so (%s)", err.msg);
	ok(access(path, F_OK) != 0, "no file: none created");
	s = open_db("open.db");
	state_close(s);
	is_int(answers_state_open(&s, path, &err), 0, "a database with no run");
	ok(s == NULL && strstr(err.msg, "no run yet") != NULL,
	    "no run: says so (%s)", err.msg);
	s = open_db("open.db");
	ok(state_run_begin(s, 100, "apply", NULL, &run, &err) == 0, "a run");
	state_close(s);
	is_int(answers_state_open(&s, path, &err), 1, "a run recorded: open");
	ok(s != NULL, "and the state handed back");
	state_close(s);
	free(path);
}

static void
test_best(void)
{
	struct answer v[4];
	struct answers a = { v, 4, 4 };
	const struct answer *b;
	int64_t now = T("2026-03-10T00:00:00Z");

	memset(v, 0, sizeof(v));
	v[0] = (struct answer){ .platform = "p", .target = "t",
	    .privilege = "SELECT", .account = "alice",
	    .expires_at = T("2026-03-02T00:00:00Z") };
	v[1] = (struct answer){ .platform = "p", .target = "t",
	    .privilege = "SELECT", .account = "alice", .via = "role:r",
	    .expires_at = T("2026-03-31T00:00:00Z") };
	v[2] = (struct answer){ .platform = "p", .target = "t",
	    .privilege = "INSERT", .account = "alice" };
	v[3] = (struct answer){ .platform = "p", .target = "t",
	    .privilege = "SELECT", .account = "alice", .outside = 1,
	    .expires_at = 0 };
	b = answers_best(&a, "p", "t", "select", now);
	ok(b == &v[3], "a permanent grant outlasts one expiring (got %d)",
	    b ? (int)(b - v) : -1);
	v[3].platform = "q";
	b = answers_best(&a, "p", "t", "SELECT", now);
	ok(b == &v[1], "one through a role that has not expired beats a "
	    "direct one that has (got %d)", b ? (int)(b - v) : -1);
	b = answers_best(&a, "p", "t", NULL, now);
	ok(b == &v[2], "no privilege: any, the permanent one (got %d)",
	    b ? (int)(b - v) : -1);
	v[1].expires_at = v[0].expires_at;
	b = answers_best(&a, "p", "t", "SELECT", now);
	ok(b == &v[0], "equal expiry: direct before inherited (got %d)",
	    b ? (int)(b - v) : -1);
	ok(answers_best(&a, "p", "u", NULL, now) == NULL, "no match: NULL");
}

int
main(void)
{
	test_windows();
	test_windows_via();
	test_best();
	test_state_open();
	test_held();
	test_plans();
	return tap_done();
}
