/*
 * Answers (answers.h): what is held now, by whom and why, and what was
 * held at a past instant.  "Held now" is the union of the grants accord
 * made (the `grants` table, with their provenance) and the grants found
 * at the last ingest (`ingested`, which apply keeps current), the latter
 * marked outside when accord did not make them.  Access through a role,
 * group or team is followed to what that grantee holds, at most
 * VIA_DEPTH levels deep, with the membership's provenance.  Past access
 * comes from the audit log alone: a window is a grant row up to the next
 * revoke row of the same key.  Each query reads by an index (migration
 * 3), so answers stay in milliseconds at millions of audit rows.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answers.h"
#include "buf.h"
#include "state.h"
#include "statedb.h"
#include "strmap.h"
#include "util.h"

#define VIA_DEPTH 8

/*
 * The held grants, with provenance, person and last sight.  Callers add
 * a WHERE fragment over the aliases h (platform, account, target,
 * privilege).  person: accord's record first, else the identity.
 */
#define HELD_SELECT \
	"SELECT h.platform, h.account, COALESCE(g.person, i.person), " \
	"h.target, h.privilege, g.request, g.commit_sha, g.approvers, " \
	"g.rule, COALESCE(g.approved_at, 0), COALESCE(g.expires_at, 0), " \
	"COALESCE(g.granted_at, 0), COALESCE(n.last_seen, 0), " \
	"g.platform IS NULL, g.requester " \
	"FROM (SELECT platform, account, target, privilege FROM grants " \
	"      WHERE %s " \
	"      UNION " \
	"      SELECT platform, account, target, privilege FROM ingested " \
	"      WHERE %s) AS h " \
	"LEFT JOIN grants g ON g.platform = h.platform " \
	"  AND g.account = h.account AND g.target = h.target " \
	"  AND g.privilege = h.privilege " \
	"LEFT JOIN ingested n ON n.platform = h.platform " \
	"  AND n.account = h.account AND n.target = h.target " \
	"  AND n.privilege = h.privilege " \
	"LEFT JOIN identities i ON i.platform = h.platform " \
	"  AND i.account = h.account "

static void
answer_clear(struct answer *x)
{
	free(x->platform); free(x->account); free(x->person);
	free(x->target); free(x->privilege); free(x->request);
	free(x->commit_sha); free(x->approvers); free(x->rule);
	free(x->via); free(x->end_reason); free(x->requester);
	memset(x, 0, sizeof(*x));
}

void
answers_release(struct answers *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		answer_clear(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void
identities_release(struct identities *ids)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < ids->n; i++) {
		struct identity *x = &ids->v[i];
		free(x->platform); free(x->account); free(x->kind);
		free(x->email); free(x->person);
	}
	free(ids->v);
	memset(ids, 0, sizeof(*ids));
}

static struct answer *
answers_add(struct answers *a)
{
	struct answer *x;

	a->v = xgrow(a->v, sizeof(*a->v), a->n, &a->alloc);
	x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	return x;
}

int
answers_state_open(struct state **out, const char *path, struct diag *err)
{
	struct stmt st;
	int rc;

	*out = NULL;
	if (access(path, F_OK) != 0) {
		diag_set(err, "no state database at %s (run accord apply "
		    "first)", path);
		return 0;
	}
	if (state_open(out, path, err) == -1)
		return -1;
	if (db_prepare(*out, &st, "SELECT 1 FROM runs LIMIT 1", err) < 0)
		rc = -1;
	else {
		rc = db_step(&st, err);
		db_finalize(&st);
	}
	if (rc == 0)
		diag_set(err, "%s holds no run yet (run accord apply first)",
		    path);
	if (rc != 1) {
		state_close(*out);
		*out = NULL;
	}
	return rc;
}

/* The HELD_SELECT columns into x. */
static void
read_held(struct stmt *st, struct answer *x)
{
	x->platform = db_col_dup(st, 0);
	x->account = db_col_dup(st, 1);
	x->person = db_col_dup(st, 2);
	x->target = db_col_dup(st, 3);
	x->privilege = db_col_dup(st, 4);
	x->request = db_col_dup(st, 5);
	x->commit_sha = db_col_dup(st, 6);
	x->approvers = db_col_dup(st, 7);
	x->rule = db_col_dup(st, 8);
	x->approved_at = db_col_int(st, 9);
	x->expires_at = db_col_int(st, 10);
	x->granted_at = db_col_int(st, 11);
	x->last_seen = db_col_int(st, 12);
	x->outside = db_col_int(st, 13) != 0;
	x->requester = db_col_dup(st, 14);
}

/*
 * Run HELD_SELECT with `where` applied to both sides of the union (it may
 * use :platform, :account, :target, :lo, :hi; unused names are not
 * bound) and `outer` (NULL: none) to the joined rows.  Rows whose target
 * does not match `glob` (NULL: all) are dropped.
 */
static int
held_select(struct state *s, const char *where, const char *outer,
    const char *platform, const char *account, const char *target,
    const char *lo, const char *hi, const char *glob, struct answers *out,
    struct diag *err)
{
	struct stmt st;
	char *sql;
	int rc;

	sql = xasprintf(HELD_SELECT "%s%s ORDER BY h.platform, h.target, "
	    "h.privilege, h.account", where, where, outer ? "WHERE " : "",
	    outer ? outer : "");
	rc = db_prepare(s, &st, sql, err);
	free(sql);
	if (rc < 0)
		return -1;
	if (platform)
		db_bind_text(&st, ":platform", platform);
	if (account)
		db_bind_text(&st, ":account", account);
	if (target)
		db_bind_text(&st, ":target", target);
	if (lo)
		db_bind_text(&st, ":lo", lo);
	if (hi)
		db_bind_text(&st, ":hi", hi);
	while ((rc = db_step(&st, err)) == 1) {
		if (glob && !glob_match(glob, db_col_text(&st, 3)))
			continue;
		read_held(&st, answers_add(out));
	}
	db_finalize(&st);
	return rc < 0 ? -1 : 0;
}

static int
held_query(struct state *s, const char *where, const char *platform,
    const char *account, const char *target, const char *lo, const char *hi,
    const char *glob, struct answers *out, struct diag *err)
{
	return held_select(s, where, NULL, platform, account, target, lo, hi,
	    glob, out, err);
}

/* A target through which its holders reach what it holds. */
static int
is_principal(const char *target)
{
	return strncmp(target, "role:", 5) == 0 ||
	    strncmp(target, "group:", 6) == 0 ||
	    strncmp(target, "team:", 5) == 0;
}

/*
 * The literal prefix of a glob and the first string past every string
 * with that prefix, as an index range [lo, hi).  hi is NULL when the
 * prefix is empty or cannot be incremented (then only lo bounds).
 */
static void
glob_range(const char *glob, char **lo, char **hi)
{
	size_t n = strcspn(glob, "*?[\\");

	*lo = xstrdup(glob);
	(*lo)[n] = '\0';
	*hi = NULL;
	while (n > 0 && (unsigned char)(*lo)[n - 1] == 0xff)
		n--;
	if (n > 0) {
		*hi = xstrdup(*lo);
		(*hi)[n] = '\0';
		(*hi)[n - 1]++;
	}
}

/* Is `name` one of the grantees of a "role:a > role:b" chain? */
static int
in_chain(const char *chain, const char *name)
{
	size_t n = strlen(name);
	const char *p = chain;

	while (p && *p) {
		if (strncmp(p, name, n) == 0 && (p[n] == '\0' ||
		    strncmp(p + n, " > ", 3) == 0))
			return 1;
		p = strstr(p, " > ");
		if (p)
			p += 3;
	}
	return 0;
}

static char *
join_path(const char *via, const char *hop)
{
	return via ? xasprintf("%s > %s", via, hop) : xstrdup(hop);
}

/*
 * A copy of the member's provenance with the reached grant's target.  For
 * windows (`windows`), the inherited window is where both overlap, and it
 * ends the way the first of them ended.
 */
static void
inherit(struct answers *out, const struct answer *member,
    const struct answer *held, const char *via, int windows)
{
	struct answer *x = answers_add(out);
	const struct answer *ends = member;

	x->platform = xstrdup(member->platform);
	x->account = xstrdup(member->account);
	x->person = xstrdup(member->person);
	x->target = xstrdup(held->target);
	x->privilege = xstrdup(held->privilege);
	x->request = xstrdup(member->request);
	x->commit_sha = xstrdup(member->commit_sha);
	x->approvers = xstrdup(member->approvers);
	x->rule = xstrdup(member->rule);
	x->requester = xstrdup(member->requester);
	x->via = xstrdup(via);
	x->approved_at = member->approved_at;
	x->expires_at = member->expires_at;
	x->granted_at = member->granted_at;
	x->last_seen = member->last_seen;
	x->outside = member->outside;
	if (windows) {
		if (held->granted_at > x->granted_at)
			x->granted_at = held->granted_at;
		if (held->until && (member->until == 0 ||
		    held->until < member->until))
			ends = held;
		x->until = ends->until;
		x->end_reason = xstrdup(ends->end_reason);
	}
}

/*
 * How expansion reads the grants of a grantee (account) or the holders
 * of a target: held now, or windows open at an instant.
 */
struct reach {
	struct state *s;
	int64_t at;		/* 0: held now; else windows at this instant */
	struct strmap login_roles;	/* "platform\nrole:X" -> is_login_role */
	/* members fetched per "platform\ngrantee": a role holding many
	 * of the targets asked about is read once */
	struct strmap members_at;
	struct answers *members;
	size_t nmembers, amembers;
};

static int windows_scan(struct state *s, const struct window_filter *f,
    const char *account, struct answers *out, struct diag *err);

static int
reach_query(struct reach *r, const char *platform, const char *account,
    const char *target, struct answers *got, struct diag *err)
{
	struct window_filter f;

	if (r->at == 0)
		return account ? held_query(r->s, "platform = :platform AND "
		    "account = :account", platform, account, NULL, NULL, NULL,
		    NULL, got, err) : held_query(r->s, "platform = :platform "
		    "AND target = :target", platform, NULL, target, NULL, NULL,
		    NULL, got, err);
	memset(&f, 0, sizeof(f));
	f.platform = platform;
	f.target = target;
	f.at = r->at;
	return windows_scan(r->s, &f, account, got, err);
}

/*
 * A PostgreSQL role that can log in is an account like any user: its own
 * grants are recorded under its bare name X, while membership of it is
 * the target role:X.  "role:X" is such a login role when X is a user or
 * service identity on the platform and role:X has members.  Two point
 * lookups, remembered per platform and name (0 no, 1 yes).
 */
static int
is_login_role(struct reach *r, const char *platform, const char *name,
    struct diag *err)
{
	struct stmt st;
	char *k = xasprintf("%s\nrole:%s", platform, name);
	size_t v;
	int rc;

	if (strmap_get(&r->login_roles, k, &v)) {
		free(k);
		return (int)v;
	}
	rc = db_prepare(r->s, &st, "SELECT 1 FROM identities WHERE platform = "
	    ":platform AND account = :name AND kind IN ('user', 'service') AND "
	    "EXISTS (SELECT 1 FROM ingested WHERE platform = :platform AND "
	    "target = 'role:' || :name)", err);
	if (rc == 0) {
		db_bind_text(&st, ":platform", platform);
		db_bind_text(&st, ":name", name);
		rc = db_step(&st, err);
		db_finalize(&st);
	}
	if (rc >= 0)
		strmap_put(&r->login_roles, k, (size_t)rc);
	free(k);
	return rc;
}

/*
 * For out->v[from..], follow role/group/team memberships down to what
 * those grantees hold.  The queue is `out` itself: entries appended by
 * one level are expanded by the next; a membership back into the chain
 * is a cycle and is not followed.
 */
static int
expand_down(struct reach *r, struct answers *out, size_t from,
    struct diag *err)
{
	size_t lo = from, hi, i, j, depth;
	int rc = 0, login;

	for (depth = 0; depth < VIA_DEPTH && lo < out->n && rc == 0; depth++) {
		hi = out->n;
		for (i = lo; i < hi && rc == 0; i++) {
			struct answers got = { 0 };
			char *via;

			if (!is_principal(out->v[i].target) ||
			    in_chain(out->v[i].via, out->v[i].target))
				continue;
			rc = reach_query(r, out->v[i].platform,
			    out->v[i].target, NULL, &got, err);
			login = rc == 0 && strncmp(out->v[i].target, "role:",
			    5) == 0 ? is_login_role(r, out->v[i].platform,
			    out->v[i].target + 5, err) : 0;
			if (login < 0)
				rc = -1;
			else if (login)
				rc = reach_query(r, out->v[i].platform,
				    out->v[i].target + 5, NULL, &got, err);
			via = join_path(out->v[i].via, out->v[i].target);
			for (j = 0; rc == 0 && j < got.n; j++) {
				/* out may move: copy the member first. */
				struct answer m = out->v[i];
				if (in_chain(via, got.v[j].target) ||
				    strcmp(got.v[j].target, m.account) == 0)
					continue;
				inherit(out, &m, &got.v[j], via, r->at != 0);
			}
			free(via);
			answers_release(&got);
		}
		lo = hi;
	}
	return rc;
}

/*
 * For out->v[from..] held by a role, group or team grantee ("role:X", or
 * a login role's bare name), add each member of that grantee,
 * recursively, as holding it via the grantee.
 */
static int
expand_up(struct reach *r, struct answers *out, size_t from, struct diag *err)
{
	size_t lo = from, hi, i, j, depth;
	int rc = 0, login;

	for (depth = 0; depth < VIA_DEPTH && lo < out->n && rc == 0; depth++) {
		hi = out->n;
		for (i = lo; i < hi && rc == 0; i++) {
			struct answers got = { 0 };
			char *grantee = NULL, *via, *k;
			size_t v;

			if (is_principal(out->v[i].account))
				grantee = xstrdup(out->v[i].account);
			else if ((login = is_login_role(r, out->v[i].platform,
			    out->v[i].account, err)) < 0) {
				rc = -1;
				break;
			} else if (login)
				grantee = xasprintf("role:%s",
				    out->v[i].account);
			if (grantee == NULL || in_chain(out->v[i].via,
			    grantee)) {
				free(grantee);
				continue;
			}
			k = xasprintf("%s\n%s", out->v[i].platform, grantee);
			if (!strmap_get(&r->members_at, k, &v)) {
				rc = reach_query(r, out->v[i].platform, NULL,
				    grantee, &got, err);
				r->members = xgrow(r->members,
				    sizeof(*r->members), r->nmembers,
				    &r->amembers);
				r->members[r->nmembers] = got;
				memset(&got, 0, sizeof(got));
				v = r->nmembers++;
				strmap_put(&r->members_at, k, v);
			}
			free(k);
			/* via names the chain from the member down. */
			via = out->v[i].via ? xasprintf("%s > %s", grantee,
			    out->v[i].via) : xstrdup(grantee);
			for (j = 0; rc == 0 && j < r->members[v].n; j++) {
				struct answer held = out->v[i];
				const struct answer *m = &r->members[v].v[j];
				if (in_chain(via, m->account) ||
				    strcmp(m->account, held.account) == 0)
					continue;
				inherit(out, m, &held, via, r->at != 0);
			}
			free(grantee);
			free(via);
		}
		lo = hi;
	}
	return rc;
}

static void
reach_release(struct reach *r)
{
	size_t i;

	strmap_release(&r->login_roles);
	strmap_release(&r->members_at);
	for (i = 0; i < r->nmembers; i++)
		answers_release(&r->members[i]);
	free(r->members);
}

static int
cmp_answer(const void *a, const void *b)
{
	const struct answer *x = a, *y = b;
	int c;

	if ((c = strcmp(x->platform, y->platform)) != 0 ||
	    (c = strcmp(x->target, y->target)) != 0 ||
	    (c = strcmp(x->privilege, y->privilege)) != 0 ||
	    (c = strcmp(x->account, y->account)) != 0)
		return c;
	if ((x->via == NULL) != (y->via == NULL))
		return x->via == NULL ? -1 : 1;
	return x->via ? strcmp(x->via, y->via) : 0;
}

int
answers_access(struct state *s, const char *person, struct answers *out,
    struct diag *err)
{
	struct stmt st;
	char **plat = NULL, **acct = NULL;
	size_t n = 0, a = 0, a2 = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	/* The person's accounts: resolved identities and accord's records. */
	if (db_prepare(s, &st, "SELECT platform, account FROM identities "
	    "WHERE person = :person COLLATE NOCASE UNION SELECT platform, "
	    "account FROM grants WHERE person = :person COLLATE NOCASE "
	    /* an account name answers for itself (service accounts) */
	    "UNION SELECT platform, account FROM identities "
	    "WHERE account = :person",
	    err) < 0)
		return -1;
	db_bind_text(&st, ":person", person);
	while ((rc = db_step(&st, err)) == 1) {
		plat = xgrow(plat, sizeof(*plat), n, &a);
		acct = xgrow(acct, sizeof(*acct), n, &a2);
		plat[n] = db_col_dup(&st, 0);
		acct[n++] = db_col_dup(&st, 1);
	}
	db_finalize(&st);
	for (i = 0; rc == 0 && i < n; i++)
		rc = held_query(s, "platform = :platform AND "
		    "account = :account", plat[i], acct[i], NULL, NULL, NULL,
		    NULL, out, err);
	if (rc == 0) {
		struct reach r;
		memset(&r, 0, sizeof(r));
		r.s = s;
		rc = expand_down(&r, out, 0, err);
		reach_release(&r);
	}
	for (i = 0; i < n; i++) {
		free(plat[i]);
		free(acct[i]);
	}
	free(plat);
	free(acct);
	if (rc < 0) {
		answers_release(out);
		return diag_prefix(err, "access of %s", person);
	}
	/* A grant inherited from an account's own grantee keeps its person. */
	for (i = 0; i < out->n; i++)
		if (out->v[i].person == NULL)
			out->v[i].person = xstrdup(person);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_answer);
	return 0;
}

/* 1 when x answers better than y (answers_best's order). */
static int
better(const struct answer *x, const struct answer *y, int64_t now)
{
	int xe = x->expires_at && x->expires_at <= now;
	int ye = y->expires_at && y->expires_at <= now;

	if (xe != ye)
		return !xe;
	if (x->expires_at != y->expires_at)
		return x->expires_at == 0 || (y->expires_at != 0 &&
		    x->expires_at > y->expires_at);
	if (x->outside != y->outside)
		return !x->outside;
	return x->via == NULL && y->via != NULL;
}

const struct answer *
answers_best(const struct answers *a, const char *platform, const char *target,
    const char *privilege, int64_t now)
{
	const struct answer *best = NULL;
	size_t i;

	for (i = 0; i < a->n; i++) {
		const struct answer *x = &a->v[i];
		if (strcmp(x->platform, platform) != 0 ||
		    strcmp(x->target, target) != 0 ||
		    (privilege && !str_eq_ci(x->privilege, privilege)))
			continue;
		if (best == NULL || better(x, best, now))
			best = x;
	}
	return best;
}

int
answers_who(struct state *s, const char *platform, const char *target_glob,
    struct answers *out, struct diag *err)
{
	char *lo, *hi;
	int rc;

	memset(out, 0, sizeof(*out));
	glob_range(target_glob, &lo, &hi);
	if (strcmp(lo, target_glob) == 0)
		rc = held_query(s, "platform = :platform AND target = :target",
		    platform, NULL, target_glob, NULL, NULL, NULL, out, err);
	else
		rc = held_query(s, hi ? "platform = :platform AND target >= :lo"
		    " AND target < :hi" : "platform = :platform AND "
		    "target >= :lo", platform, NULL, NULL, lo, hi, target_glob,
		    out, err);
	free(lo);
	free(hi);
	if (rc == 0) {
		struct reach r;
		memset(&r, 0, sizeof(r));
		r.s = s;
		rc = expand_up(&r, out, 0, err);
		reach_release(&r);
	}
	if (rc < 0) {
		answers_release(out);
		return diag_prefix(err, "holders of %s on %s", target_glob,
		    platform);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_answer);
	return 0;
}

/* Held grants of one source, platform NULL for all. */
static int
held_source(struct state *s, const char *platform, int outside,
    struct answers *out, struct diag *err)
{
	memset(out, 0, sizeof(*out));
	if (held_select(s, platform ? "platform = :platform" : "1", outside ?
	    "g.platform IS NULL" : "g.platform IS NOT NULL", platform, NULL,
	    NULL, NULL, NULL, NULL, out, err) < 0) {
		answers_release(out);
		return -1;
	}
	return 0;
}

int
answers_active(struct state *s, const char *platform, struct answers *out,
    struct diag *err)
{
	return held_source(s, platform, 0, out, err);
}

int
answers_outside(struct state *s, const char *platform, struct answers *out,
    struct diag *err)
{
	return held_source(s, platform, 1, out, err);
}

/* --- windows ------------------------------------------------------------- */

/*
 * Rows arrive ordered by grant (platform, target, account, privilege) and
 * then seq, so a window is complete when its grant's rows end: pairing is
 * a stream that holds one open window, and only the windows the filter
 * wants are kept, however long the audit log.
 */
#define AUDIT_WINDOW_COLS "seq, at, action, platform, account, person, " \
	"target, privilege, request, commit_sha, approvers, expires_at, reason"

static int64_t
parse_at(const char *s)
{
	int64_t t = 0;

	if (s == NULL || time_parse(&t, s) == -1)
		return 0;
	return t;
}

struct wscan {
	const struct window_filter *f;
	struct answers *out;
	struct answer cur;	/* the open window; platform NULL: none */
	int64_t cur_seq;	/* its grant row */
	struct stmt after;	/* the closing row of a grant, by key */
	int lookup_end;		/* the scan may not see every closing row */
};

static int
window_wanted(const struct window_filter *f, const struct answer *x)
{
	if (f->target && !glob_match(f->target, x->target))
		return 0;
	if (f->at)
		return x->granted_at <= f->at && (x->until == 0 ||
		    f->at < x->until);
	if (f->until && x->granted_at >= f->until)
		return 0;
	if (f->since && x->until != 0 && x->until <= f->since)
		return 0;
	return 1;
}


/*
 * A person scan sees only the person's rows; the row that closes a
 * window may lack the person (a grantee's grant), so an open window is
 * checked against the grant's own rows by target.
 */
static int
close_by_target(struct wscan *w, struct diag *err)
{
	struct answer *x = &w->cur;
	int rc;

	db_reset(&w->after);
	db_bind_text(&w->after, ":platform", x->platform);
	db_bind_text(&w->after, ":target", x->target);
	db_bind_text(&w->after, ":account", x->account);
	db_bind_text(&w->after, ":privilege", x->privilege);
	db_bind_int(&w->after, ":seq", w->cur_seq);
	rc = db_step(&w->after, err);
	if (rc == 1) {
		const char *action = db_col_text(&w->after, 2);
		x->until = parse_at(db_col_text(&w->after, 0));
		x->end_reason = xstrdup(strcmp(action, "grant") == 0 ?
		    "renewed" : db_col_text(&w->after, 1) ?
		    db_col_text(&w->after, 1) : "revoked");
	}
	return rc < 0 ? -1 : 0;
}

/* The open window is complete: keep it if wanted. */
static int
wscan_flush(struct wscan *w, struct diag *err)
{
	if (w->cur.platform == NULL)
		return 0;
	if (w->cur.end_reason == NULL && w->lookup_end &&
	    close_by_target(w, err) < 0)
		return -1;
	if (window_wanted(w->f, &w->cur)) {
		struct answer *x;
		w->out->v = xgrow(w->out->v, sizeof(*w->out->v), w->out->n,
		    &w->out->alloc);
		x = &w->out->v[w->out->n++];
		*x = w->cur;
		memset(&w->cur, 0, sizeof(w->cur));
	} else
		answer_clear(&w->cur);
	return 0;
}

static int
same_grant(const struct answer *x, struct stmt *st)
{
	return strcmp(x->platform, db_col_text(st, 3)) == 0 &&
	    strcmp(x->target, db_col_text(st, 6)) == 0 &&
	    strcmp(x->account, db_col_text(st, 4)) == 0 &&
	    strcmp(x->privilege, db_col_text(st, 7)) == 0;
}

/* Feed one audit row (AUDIT_WINDOW_COLS) into the scan. */
static int
wscan_row(struct wscan *w, struct stmt *st, struct diag *err)
{
	const char *action = db_col_text(st, 2);
	int64_t at = parse_at(db_col_text(st, 1));

	if (db_col_null(st, 3) || db_col_null(st, 4) || db_col_null(st, 6) ||
	    db_col_null(st, 7))
		return 0;	/* not a grant's row */
	if (w->cur.platform && !same_grant(&w->cur, st) &&
	    wscan_flush(w, err) < 0)
		return -1;
	if (w->cur.platform) {
		/* A grant row while open ends the earlier window (its
		 * provenance changed); a revoke row ends it. */
		w->cur.until = at;
		w->cur.end_reason = xstrdup(strcmp(action, "grant") == 0 ?
		    "renewed" : db_col_text(st, 12) ? db_col_text(st, 12) :
		    "revoked");
		if (wscan_flush(w, err) < 0)
			return -1;
	}
	if (strcmp(action, "grant") == 0) {
		struct answer *x = &w->cur;
		w->cur_seq = db_col_int(st, 0);
		x->platform = db_col_dup(st, 3);
		x->account = db_col_dup(st, 4);
		x->person = db_col_dup(st, 5);
		x->target = db_col_dup(st, 6);
		x->privilege = db_col_dup(st, 7);
		x->request = db_col_dup(st, 8);
		x->commit_sha = db_col_dup(st, 9);
		x->approvers = db_col_dup(st, 10);
		x->expires_at = parse_at(db_col_text(st, 11));
		x->granted_at = at;
	}
	return 0;
}

/* The windows of f (and of one grantee account when not NULL), direct
 * only. */
static int
windows_scan(struct state *s, const struct window_filter *f,
    const char *account, struct answers *out, struct diag *err)
{
	struct wscan w;
	struct stmt st = { 0 };
	struct buf sql;
	char *lo = NULL, *hi = NULL;
	int rc;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.out = out;
	/* A person scan misses closing rows without the person; a scan
	 * at an instant reads no row after it (a window open then is one
	 * whose key's last row up to the instant is a grant). */
	w.lookup_end = f->person != NULL || f->at != 0;
	buf_init(&sql, 0);
	/*
	 * The index is named: without statistics (accord never runs
	 * ANALYZE) SQLite may take `at <= ?` or the ORDER BY as the better
	 * index and read millions of rows; each filter below has one
	 * index that answers it by a seek (migration 3).
	 */
	buf_puts(&sql, "SELECT " AUDIT_WINDOW_COLS " FROM audit");
	if (f->person)
		buf_puts(&sql, " INDEXED BY audit_person");
	else if (account && f->platform)
		buf_puts(&sql, " INDEXED BY audit_account");
	else if (f->target && f->platform)
		buf_puts(&sql, " INDEXED BY audit_target");
	else if (f->target)
		buf_puts(&sql, " INDEXED BY audit_target_any");
	buf_puts(&sql, " WHERE action IN ('grant', 'revoke')");
	if (f->person)
		buf_puts(&sql, " AND person = :person COLLATE NOCASE");
	if (f->platform)
		buf_puts(&sql, " AND platform = :platform");
	if (account)
		buf_puts(&sql, " AND account = :account");
	if (f->target) {
		glob_range(f->target, &lo, &hi);
		if (strcmp(lo, f->target) == 0)
			buf_puts(&sql, " AND target = :lo");
		else {
			buf_puts(&sql, " AND target >= :lo");
			if (hi)
				buf_puts(&sql, " AND target < :hi");
		}
	}
	if (f->at)
		buf_puts(&sql, " AND at <= :at");
	buf_puts(&sql, " ORDER BY platform, target, account, privilege, seq");
	rc = db_prepare(s, &st, buf_cstr(&sql), err);
	buf_release(&sql);
	if (rc == 0 && w.lookup_end)
		rc = db_prepare(s, &w.after, "SELECT at, reason, action FROM "
		    "audit WHERE platform = :platform AND target = :target AND "
		    "seq > :seq AND action IN ('grant', 'revoke') AND "
		    "account = :account AND privilege = :privilege ORDER BY seq "
		    "LIMIT 1", err);
	if (rc < 0)
		goto out;
	if (f->person)
		db_bind_text(&st, ":person", f->person);
	if (f->platform)
		db_bind_text(&st, ":platform", f->platform);
	if (account)
		db_bind_text(&st, ":account", account);
	if (lo)
		db_bind_text(&st, ":lo", lo);
	if (hi && strcmp(lo, f->target) != 0)
		db_bind_text(&st, ":hi", hi);
	if (f->at) {
		char at[TIME_STR_MAX];
		/* RFC 3339 UTC text sorts as time. */
		db_bind_text(&st, ":at", time_format(at, sizeof(at), f->at));
	}
	while ((rc = db_step(&st, err)) == 1)
		if (wscan_row(&w, &st, err) < 0) {
			rc = -1;
			break;
		}
	if (rc == 0)
		rc = wscan_flush(&w, err);
out:
	db_finalize(&st);
	db_finalize(&w.after);
	answer_clear(&w.cur);
	free(lo);
	free(hi);
	return rc < 0 ? -1 : 0;
}

int
answers_windows(struct state *s, const struct window_filter *f,
    struct answers *out, struct diag *err)
{
	struct window_filter direct = *f;
	struct reach r;
	size_t i, n;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.at = f->at;
	/* At an instant, access through roles is followed as for `access`
	 * and `who`: a person's memberships down to what the roles held
	 * then (the target filter applies after), a target's role holders
	 * up to their members then. */
	if (f->at && f->person)
		direct.target = NULL;
	rc = windows_scan(s, &direct, NULL, out, err);
	if (rc == 0 && f->at && f->person)
		rc = expand_down(&r, out, 0, err);
	else if (rc == 0 && f->at && f->target)
		rc = expand_up(&r, out, 0, err);
	reach_release(&r);
	if (rc < 0) {
		answers_release(out);
		return diag_prefix(err, "reading access windows");
	}
	if (f->at && f->person && f->target) {
		for (i = n = 0; i < out->n; i++) {
			if (glob_match(f->target, out->v[i].target))
				out->v[n++] = out->v[i];
			else
				answer_clear(&out->v[i]);
		}
		out->n = n;
	}
	return 0;
}

/* --- the last decision ---------------------------------------------------- */

void
answer_event_release(struct answer_event *e)
{
	if (e == NULL)
		return;
	free(e->action); free(e->at); free(e->privilege); free(e->request);
	free(e->expires_at); free(e->reason); free(e->detail);
	memset(e, 0, sizeof(*e));
}

int
answers_last_event(struct state *s, const char *person, const char *platform,
    const char *target, const char *privilege, struct answer_event *out,
    int *found, struct diag *err)
{
	struct stmt st;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = 0;
	/* The person's rows newest first (audit_person), filtered. */
	if (db_prepare(s, &st, privilege ?
	    "SELECT action, at, privilege, request, expires_at, reason, detail "
	    "FROM audit INDEXED BY audit_person WHERE person = :person "
	    "COLLATE NOCASE AND "
	    "platform = :platform AND target = :target AND privilege = "
	    ":privilege COLLATE NOCASE AND action IN ('grant', 'revoke', "
	    "'denied', 'grant_failed', 'revoke_failed') ORDER BY seq DESC "
	    "LIMIT 1" :
	    "SELECT action, at, privilege, request, expires_at, reason, detail "
	    "FROM audit INDEXED BY audit_person WHERE person = :person "
	    "COLLATE NOCASE AND "
	    "platform = :platform AND target = :target AND action IN "
	    "('grant', 'revoke', 'denied', 'grant_failed', 'revoke_failed') "
	    "ORDER BY seq DESC LIMIT 1", err) < 0)
		return -1;
	db_bind_text(&st, ":person", person);
	db_bind_text(&st, ":platform", platform);
	db_bind_text(&st, ":target", target);
	if (privilege)
		db_bind_text(&st, ":privilege", privilege);
	rc = db_step(&st, err);
	if (rc == 1) {
		out->action = db_col_dup(&st, 0);
		out->at = db_col_dup(&st, 1);
		out->privilege = db_col_dup(&st, 2);
		out->request = db_col_dup(&st, 3);
		out->expires_at = db_col_dup(&st, 4);
		out->reason = db_col_dup(&st, 5);
		out->detail = db_col_dup(&st, 6);
		*found = 1;
	}
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "reading the audit log");
	return 0;
}

/* --- identities ---------------------------------------------------------- */

int
answers_identities(struct state *s, const char *platform, int unmatched,
    struct identities *out, struct diag *err)
{
	struct stmt st;
	struct buf sql;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&sql, 0);
	buf_puts(&sql, "SELECT platform, account, kind, email, person, "
	    "last_seen FROM identities WHERE 1");
	if (platform)
		buf_puts(&sql, " AND platform = :platform");
	/* Roles and groups resolve to nobody by nature. */
	if (unmatched)
		buf_puts(&sql, " AND person IS NULL AND kind IN ('user', "
		    "'service')");
	buf_puts(&sql, " ORDER BY platform, account");
	rc = db_prepare(s, &st, buf_cstr(&sql), err);
	buf_release(&sql);
	if (rc < 0)
		return -1;
	if (platform)
		db_bind_text(&st, ":platform", platform);
	while ((rc = db_step(&st, err)) == 1) {
		struct identity *x;

		out->v = xgrow(out->v, sizeof(*out->v), out->n, &out->alloc);
		x = &out->v[out->n++];
		x->platform = db_col_dup(&st, 0);
		x->account = db_col_dup(&st, 1);
		x->kind = db_col_dup(&st, 2);
		x->email = db_col_dup(&st, 3);
		x->person = db_col_dup(&st, 4);
		x->last_seen = db_col_int(&st, 5);
	}
	db_finalize(&st);
	if (rc < 0) {
		identities_release(out);
		return diag_prefix(err, "reading identities");
	}
	return 0;
}
