/*
 * The answers commands (DESIGN §12): access, who, check, identities,
 * history and review.  Each reads the state the last run recorded
 * (answers.h) and prints a table, CSV or one JSON document; none calls a
 * platform.  identities --unmatched also reads the access repository, to
 * know the people who need accounts.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answers.h"
#include "run.h"
#include "state.h"
#include "strmap.h"
#include "util.h"

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

/*
 * An answer that cannot be given: the message on stderr and, with
 * --json, a document on stdout too (§13: one on every exit code); check's
 * has its own fields.
 */
static int
fail(const struct opts *o, int code, int check, const char *msg)
{
	fprintf(stderr, "accord: %s\n", msg);
	if (o->json) {
		json_t *doc = json_object();
		if (check) {
			json_object_set_new(doc, "allowed", json_false());
			json_object_set_new(doc, "reason", json_string(msg));
			json_object_set_new(doc, "request", json_null());
			json_object_set_new(doc, "expires_at", json_null());
			json_object_set_new(doc, "rule", json_null());
		}
		json_object_set_new(doc, "error", json_string(msg));
		json_object_set_new(doc, "exit", json_integer(code));
		json_print(doc);
	}
	return code;
}

static int
usage(const struct opts *o, const char *text, int check)
{
	char *msg = xasprintf("usage: accord %s", text);
	int rc = fail(o, EXIT_USAGE, check, msg);

	free(msg);
	return rc;
}

/* Open the state for an answer: EXIT_OK, or the exit code to return
 * (65 when there is no state yet or it cannot be read). */
static int
answers_open(const struct opts *o, struct state **st, int check)
{
	struct diag err;

	if (answers_state_open(st, o->state, &err) == 1)
		return EXIT_OK;
	return fail(o, EXIT_NOSTATE, check, err.msg);
}

static int
parse_format(const char *v, enum fmt *f)
{
	if (strcmp(v, "table") == 0)
		*f = FMT_TABLE;
	else if (strcmp(v, "json") == 0)
		*f = FMT_JSON;
	else if (strcmp(v, "csv") == 0)
		*f = FMT_CSV;
	else
		return -1;
	return 0;
}

/* The GRANT record of §12, plus rule, via, granted_at (and a window's
 * end when `window`). */
static json_t *
grant_json(const struct answer *x, int window)
{
	json_t *g = json_object();

	json_object_set_new(g, "platform", jstr(x->platform));
	json_object_set_new(g, "account", jstr(x->account));
	json_object_set_new(g, "person", jstr(x->person));
	json_object_set_new(g, "target", jstr(x->target));
	json_object_set_new(g, "privilege", jstr(x->privilege));
	json_object_set_new(g, "request", jstr(x->request));
	json_object_set_new(g, "commit", jstr(x->commit_sha));
	json_object_set_new(g, "approved_at", jtime(x->approved_at));
	json_object_set_new(g, "approvers", japprovers(x->approvers));
	json_object_set_new(g, "expires_at", jtime(x->expires_at));
	json_object_set_new(g, "last_seen", jtime(x->last_seen));
	json_object_set_new(g, "source", json_string(x->outside ? "outside" :
	    "accord"));
	json_object_set_new(g, "rule", jstr(x->rule));
	json_object_set_new(g, "requester", jstr(x->requester));
	json_object_set_new(g, "via", jstr(x->via));
	json_object_set_new(g, "granted_at", jtime(x->granted_at));
	if (window) {
		json_object_set_new(g, "from", jtime(x->granted_at));
		json_object_set_new(g, "until", jtime(x->until));
		json_object_set_new(g, "end_reason", jstr(x->end_reason));
	}
	return g;
}

static const char *
tfmt(char *buf, size_t n, int64_t t, const char *none)
{
	return t ? time_format(buf, n, t) : none;
}

static const char *const grant_csv_cols[] = {
	"platform", "account", "person", "target", "privilege", "request",
	"commit", "approved_at", "approvers", "expires_at", "last_seen",
	"source", "rule", "via", NULL
};

static void
grant_csv_header(int window)
{
	int i;

	for (i = 0; grant_csv_cols[i]; i++)
		printf("%s%s", i ? "," : "", grant_csv_cols[i]);
	fputs(window ? ",from,until,end_reason\n" : "\n", stdout);
}

static void
grant_csv(const struct answer *x, int window)
{
	char a[TIME_STR_MAX], e[TIME_STR_MAX], l[TIME_STR_MAX];
	char f[TIME_STR_MAX], u[TIME_STR_MAX];
	const char *v[] = { x->platform, x->account, x->person, x->target,
	    x->privilege, x->request, x->commit_sha,
	    tfmt(a, sizeof(a), x->approved_at, NULL), x->approvers,
	    tfmt(e, sizeof(e), x->expires_at, NULL),
	    tfmt(l, sizeof(l), x->last_seen, NULL),
	    x->outside ? "outside" : "accord", x->rule, x->via,
	    tfmt(f, sizeof(f), x->granted_at, NULL),
	    tfmt(u, sizeof(u), x->until, NULL), x->end_reason };
	size_t i, n = window ? 17 : 14;

	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		csv_field(v[i]);
	}
	putchar('\n');
}

/* One readable line (and a provenance line) per grant. */
static void
grant_human(const struct answer *x, int show_person, int window)
{
	char a[TIME_STR_MAX], e[TIME_STR_MAX], u[TIME_STR_MAX];

	printf("  %-10s %-30s %-9s %s", x->platform, x->target, x->privilege,
	    x->account);
	if (show_person && x->person && strcmp(x->person, x->account) != 0)
		printf(" (%s)", x->person);
	if (x->via)
		printf(" via %s", x->via);
	putchar('\n');
	if (window)
		printf("      from %s until %s%s%s\n",
		    tfmt(a, sizeof(a), x->granted_at, "?"),
		    tfmt(u, sizeof(u), x->until, "now"),
		    x->end_reason ? " " : "", x->end_reason ? x->end_reason : "");
	if (x->outside) {
		printf("      outside accord: no request%s%s\n",
		    x->last_seen ? "; last seen " : "",
		    x->last_seen ? time_format(u, sizeof(u), x->last_seen) : "");
		return;
	}
	printf("      %s, approved by %s%s%s (commit %.12s%s%s), %s%s\n",
	    x->request ? x->request : "(no request)",
	    x->approvers && *x->approvers ? x->approvers : "nobody",
	    x->approved_at ? " at " : "",
	    tfmt(a, sizeof(a), x->approved_at, ""),
	    x->commit_sha ? x->commit_sha : "?", x->rule ? ", " : "",
	    x->rule ? x->rule : "", x->expires_at ? "expires " :
	    "no expiry", x->expires_at ? time_format(e, sizeof(e),
	    x->expires_at) : "");
}

/* --- access PERSON -------------------------------------------------------- */

int
cmd_access(const struct opts *o, int argc, char **argv)
{
	const char *u = "access PERSON [--format table|json|csv]";
	enum fmt fmt = o->json ? FMT_JSON : FMT_TABLE;
	const char *person = NULL;
	struct answers a = { 0 };
	struct state *st;
	struct diag err;
	size_t i, nout = 0;
	int rc, pass;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc) {
			if (parse_format(argv[++i], &fmt) == -1)
				return usage(o, u, 0);
		} else if (argv[i][0] != '-' && person == NULL)
			person = argv[i];
		else
			return usage(o, u, 0);
	}
	if (person == NULL)
		return usage(o, u, 0);
	if ((rc = answers_open(o, &st, 0)) != EXIT_OK)
		return rc;
	if (answers_access(st, person, &a, &err) == -1) {
		rc = fail(o, EXIT_ERROR, 0, err.msg);
		goto out;
	}
	for (i = 0; i < a.n; i++)
		nout += a.v[i].outside;
	if (fmt == FMT_JSON) {
		json_t *doc = json_object(), *g = json_array(),
		    *x = json_array();
		for (i = 0; i < a.n; i++)
			json_array_append_new(a.v[i].outside ? x : g,
			    grant_json(&a.v[i], 0));
		json_object_set_new(doc, "person", json_string(person));
		json_object_set_new(doc, "grants", g);
		json_object_set_new(doc, "outside", x);
		json_print(doc);
	} else if (fmt == FMT_CSV) {
		grant_csv_header(0);
		for (i = 0; i < a.n; i++)
			grant_csv(&a.v[i], 0);
	} else {
		for (pass = 0; pass < 2; pass++) {
			size_t want = pass ? nout : a.n - nout;
			printf(pass ? "\n%s: %zu held outside accord\n" :
			    "%s: %zu grant%s through accord\n", person, want,
			    pass || want == 1 ? "" : "s");
			for (i = 0; i < a.n; i++)
				if (a.v[i].outside == pass)
					grant_human(&a.v[i], 0, 0);
		}
	}
	rc = EXIT_OK;
out:
	answers_release(&a);
	state_close(st);
	return rc;
}

/* --- who PLATFORM TARGET -------------------------------------------------- */

int
cmd_who(const struct opts *o, int argc, char **argv)
{
	const char *u = "who PLATFORM TARGET [--format table|json|csv]";
	enum fmt fmt = o->json ? FMT_JSON : FMT_TABLE;
	const char *pos[2] = { NULL, NULL };
	struct answers a = { 0 };
	struct state *st;
	struct diag err;
	size_t i, np = 0;
	int rc;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc) {
			if (parse_format(argv[++i], &fmt) == -1)
				return usage(o, u, 0);
		} else if (argv[i][0] != '-' && np < 2)
			pos[np++] = argv[i];
		else
			return usage(o, u, 0);
	}
	if (np != 2)
		return usage(o, u, 0);
	if ((rc = answers_open(o, &st, 0)) != EXIT_OK)
		return rc;
	if (answers_who(st, pos[0], pos[1], &a, &err) == -1) {
		rc = fail(o, EXIT_ERROR, 0, err.msg);
		goto out;
	}
	if (fmt == FMT_JSON) {
		json_t *doc = json_object(), *g = json_array();
		for (i = 0; i < a.n; i++)
			json_array_append_new(g, grant_json(&a.v[i], 0));
		json_object_set_new(doc, "platform", json_string(pos[0]));
		json_object_set_new(doc, "target", json_string(pos[1]));
		json_object_set_new(doc, "grants", g);
		json_print(doc);
	} else if (fmt == FMT_CSV) {
		grant_csv_header(0);
		for (i = 0; i < a.n; i++)
			grant_csv(&a.v[i], 0);
	} else {
		printf("%s %s: %zu holder%s\n", pos[0], pos[1], a.n,
		    a.n == 1 ? "" : "s");
		for (i = 0; i < a.n; i++)
			grant_human(&a.v[i], 1, 0);
	}
	rc = EXIT_OK;
out:
	answers_release(&a);
	state_close(st);
	return rc;
}

/* --- check PERSON PLATFORM TARGET [PRIVILEGE] ----------------------------- */

/* "policies/FILE.yaml#N" from a policy sentence, or NULL. */
static char *
rule_of(const char *why)
{
	const char *p = why ? strstr(why, "policies/") : NULL;
	size_t n;

	if (p == NULL)
		return NULL;
	n = strcspn(p, " ,;)");
	return strchr(p, '#') && (size_t)(strchr(p, '#') - p) < n ?
	    xstrndup(p, n) : NULL;
}

int
cmd_check(const struct opts *o, int argc, char **argv)
{
	const char *u = "check PERSON PLATFORM TARGET [PRIVILEGE]";
	const char *person, *platform, *target, *privilege;
	const struct answer *x;
	struct answers a = { 0 };
	struct answer_event ev = { 0 };
	struct state *st;
	struct diag err;
	char t1[TIME_STR_MAX], what[512];
	char *reason = NULL, *rule = NULL;
	const char *request = NULL;
	int64_t expires = 0;
	int rc, found = 0, allowed = 0, i;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return usage(o, u, 1);
	if (argc < 4 || argc > 5)
		return usage(o, u, 1);
	person = argv[1];
	platform = argv[2];
	target = argv[3];
	privilege = argc == 5 ? argv[4] : NULL;
	if ((rc = answers_open(o, &st, 1)) != EXIT_OK)
		return rc;
	if (answers_access(st, person, &a, &err) == -1 ||
	    ((x = answers_best(&a, platform, target, privilege, o->now)) ==
	    NULL &&
	    answers_last_event(st, person, platform, target, privilege, &ev,
	    &found, &err) == -1)) {
		rc = fail(o, EXIT_NOSTATE, 1, err.msg);
		goto out;
	}
	snprintf(what, sizeof(what), "%s %s on %s (%s)", person,
	    privilege ? privilege : x ? x->privilege : "access", target,
	    platform);
	if (x != NULL) {
		allowed = 1;
		request = x->request;
		expires = x->expires_at;
		rule = xstrdup(x->rule);
		if (x->outside)
			reason = xasprintf("yes: %s, held by %s%s%s outside "
			    "accord (no request)", what, x->account,
			    x->via ? " via " : "", x->via ? x->via : "");
		else
			reason = xasprintf("yes: %s, held by %s%s%s through %s "
			    "approved by %s, %s%s%s", what, x->account,
			    x->via ? " via " : "", x->via ? x->via : "",
			    x->request ? x->request : "(no request)",
			    x->approvers && *x->approvers ? x->approvers :
			    "nobody", x->expires_at ? (x->expires_at <= o->now ?
			    "expired " : "until ") : "with no expiry",
			    x->expires_at ? time_format(t1, sizeof(t1),
			    x->expires_at) : "", x->expires_at &&
			    x->expires_at <= o->now ? " (the next apply "
			    "revokes it)" : "");
	} else if (!found) {
		reason = xasprintf("no: nobody asked: accord has no request "
		    "and no grant for %s", what);
	} else {
		request = ev.request;
		rule = rule_of(ev.detail);
		if (ev.expires_at)
			time_parse(&expires, ev.expires_at);
		if (strcmp(ev.action, "denied") == 0)
			reason = xasprintf("no: policy denies %s: %s (%s)", what,
			    ev.detail ? ev.detail : "denied",
			    ev.request ? ev.request : "no request");
		else if (strcmp(ev.action, "revoke") == 0)
			reason = xasprintf("no: %s was revoked at %s (%s)%s%s",
			    what, ev.at, ev.reason ? ev.reason : "revoked",
			    ev.request ? ", granted through " : "",
			    ev.request ? ev.request : "");
		else if (strcmp(ev.action, "grant_failed") == 0)
			reason = xasprintf("no: granting %s failed at %s: %s",
			    what, ev.at, ev.detail ? ev.detail : ev.reason ?
			    ev.reason : "unknown error");
		else
			reason = xasprintf("no: %s is not held now; the last "
			    "record is %s at %s%s%s", what, ev.action, ev.at,
			    ev.request ? " through " : "",
			    ev.request ? ev.request : "");
	}
	if (o->json) {
		json_t *doc = json_object();
		json_object_set_new(doc, "allowed", json_boolean(allowed));
		json_object_set_new(doc, "reason", json_string(reason));
		json_object_set_new(doc, "request", jstr(request));
		json_object_set_new(doc, "expires_at", jtime(expires));
		json_object_set_new(doc, "rule", jstr(rule));
		json_print(doc);
	} else
		puts(reason);
	rc = allowed ? EXIT_OK : EXIT_ERROR;
out:
	free(reason);
	free(rule);
	answer_event_release(&ev);
	answers_release(&a);
	state_close(st);
	return rc;
}

/* --- history PERSON | --target T [--platform P] [--at TIME] --------------- */

int
cmd_history(const struct opts *o, int argc, char **argv)
{
	const char *u = "history PERSON|--target T [--platform P] [--at TIME] "
	    "[--format table|json|csv]";
	enum fmt fmt = o->json ? FMT_JSON : FMT_TABLE;
	struct window_filter f;
	struct answers a = { 0 };
	struct state *st;
	struct diag err;
	char at[TIME_STR_MAX];
	int i, rc, have_at = 0;

	memset(&f, 0, sizeof(f));
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (argv[i][0] != '-') {
			if (f.person)
				return usage(o, u, 0);
			f.person = argv[i];
			continue;
		}
		if (v == NULL)
			return usage(o, u, 0);
		i++;
		if (strcmp(argv[i - 1], "--target") == 0)
			f.target = v;
		else if (strcmp(argv[i - 1], "--platform") == 0)
			f.platform = v;
		else if (strcmp(argv[i - 1], "--at") == 0) {
			if (time_parse(&f.at, v) == -1) {
				char *m = xasprintf("--at: '%s' is not an RFC "
				    "3339 time", v);
				rc = fail(o, EXIT_USAGE, 0, m);
				free(m);
				return rc;
			}
			have_at = 1;
		} else if (strcmp(argv[i - 1], "--format") == 0) {
			if (parse_format(v, &fmt) == -1)
				return usage(o, u, 0);
		} else
			return usage(o, u, 0);
	}
	if (f.person == NULL && f.target == NULL)
		return usage(o, u, 0);
	/* Without --at: every window, the whole history. */
	if ((rc = answers_open(o, &st, 0)) != EXIT_OK)
		return rc;
	if (answers_windows(st, &f, &a, &err) == -1) {
		rc = fail(o, EXIT_ERROR, 0, err.msg);
		goto out;
	}
	if (have_at)
		time_format(at, sizeof(at), f.at);
	else
		snprintf(at, sizeof(at), "all time");
	if (fmt == FMT_JSON) {
		json_t *doc = json_object(), *g = json_array();
		size_t k;
		for (k = 0; k < a.n; k++)
			json_array_append_new(g, grant_json(&a.v[k], 1));
		json_object_set_new(doc, "at", jtime(f.at));
		json_object_set_new(doc, "grants", g);
		json_print(doc);
	} else if (fmt == FMT_CSV) {
		size_t k;
		grant_csv_header(1);
		for (k = 0; k < a.n; k++)
			grant_csv(&a.v[k], 1);
	} else {
		size_t k;
		printf("access %s%s%s%s%s%s: %zu window%s\n", have_at ? "at " :
		    "over ", at,
		    f.person ? " of " : "", f.person ? f.person : "",
		    f.target ? " to " : "", f.target ? f.target : "", a.n,
		    a.n == 1 ? "" : "s");
		for (k = 0; k < a.n; k++)
			grant_human(&a.v[k], 1, 1);
	}
	rc = EXIT_OK;
out:
	answers_release(&a);
	state_close(st);
	return rc;
}

/* --- review [--platform P] [--format csv|json|table] ---------------------- */

static const char *const review_cols[] = {
	"platform", "account", "person", "target", "privilege", "request",
	"requester", "approvers", "approved_at", "age_days", "expires_at",
	"last_seen", NULL
};

int
cmd_review(const struct opts *o, int argc, char **argv)
{
	const char *u = "review [--platform P] [--format table|csv|json]";
	enum fmt fmt = o->json ? FMT_JSON : FMT_TABLE;
	const char *platform = NULL;
	struct answers a = { 0 };
	struct state *st;
	struct diag err;
	json_t *rows = NULL;
	size_t k;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage(o, u, 0);
		if (strcmp(argv[i], "--platform") == 0)
			platform = argv[++i];
		else if (strcmp(argv[i], "--format") == 0) {
			if (parse_format(argv[++i], &fmt) == -1)
				return usage(o, u, 0);
		} else
			return usage(o, u, 0);
	}
	if ((rc = answers_open(o, &st, 0)) != EXIT_OK)
		return rc;
	if (answers_active(st, platform, &a, &err) == -1) {
		rc = fail(o, EXIT_ERROR, 0, err.msg);
		goto out;
	}
	if (fmt == FMT_CSV)
		for (i = 0; review_cols[i]; i++)
			printf("%s%s", i ? "," : "", review_cols[i]);
	if (fmt == FMT_CSV)
		putchar('\n');
	if (fmt == FMT_JSON)
		rows = json_array();
	if (fmt == FMT_TABLE)
		printf("%-10s %-16s %-30s %-9s %5s  %-20s  %s\n", "platform",
		    "account", "target", "privilege", "age", "expires",
		    "request / approvers");
	for (k = 0; k < a.n; k++) {
		const struct answer *x = &a.v[k];
		/* Age counts from approval (when the access was decided),
		 * else from when accord granted it. */
		int64_t since = x->approved_at ? x->approved_at : x->granted_at;
		long age = since && o->now > since ?
		    (long)((o->now - since) / 86400) : 0;
		char ap[TIME_STR_MAX], ex[TIME_STR_MAX], ls[TIME_STR_MAX],
		    ag[24];

		snprintf(ag, sizeof(ag), "%ld", age);
		tfmt(ap, sizeof(ap), x->approved_at, "");
		tfmt(ex, sizeof(ex), x->expires_at, "");
		tfmt(ls, sizeof(ls), x->last_seen, "");
		if (fmt == FMT_CSV) {
			const char *v[] = { x->platform, x->account, x->person,
			    x->target, x->privilege, x->request, x->requester,
			    x->approvers, ap, ag, ex, ls };
			for (i = 0; i < 12; i++) {
				if (i)
					putchar(',');
				csv_field(v[i]);
			}
			putchar('\n');
		} else if (fmt == FMT_JSON) {
			json_t *g = grant_json(x, 0);
			json_object_set_new(g, "age_days", json_integer(age));
			json_array_append_new(rows, g);
		} else
			printf("%-10s %-16s %-30s %-9s %4ldd  %-20s  %s by %s\n",
			    x->platform, x->account, x->target, x->privilege,
			    age, *ex ? ex : "never", x->request ? x->request :
			    "-", x->approvers && *x->approvers ? x->approvers :
			    "nobody");
	}
	if (fmt == FMT_JSON) {
		json_t *doc = json_object();
		json_object_set_new(doc, "grants", rows);
		rows = NULL;
		json_print(doc);
	}
	rc = EXIT_OK;
out:
	json_decref(rows);
	answers_release(&a);
	state_close(st);
	return rc;
}

/* --- identities [--platform P] [--unmatched] ------------------------------ */

static json_t *
identity_json(const struct identity *x)
{
	json_t *j = json_object();

	json_object_set_new(j, "platform", jstr(x->platform));
	json_object_set_new(j, "account", jstr(x->account));
	json_object_set_new(j, "kind", jstr(x->kind));
	json_object_set_new(j, "person", jstr(x->person));
	json_object_set_new(j, "last_seen", jtime(x->last_seen));
	json_object_set_new(j, "email", jstr(x->email));
	return j;
}

/* A person who needs an account that no ingested identity gives them. */
struct lost {
	char *person, *platform, *source, *request;
};

struct lost_set {
	struct lost *v;
	size_t n, alloc;
	struct strmap seen;	/* "person\nplatform" lower-cased */
	struct strmap claimed;	/* "platform\naccount" some person resolves to */
};


static void
lost_release(struct lost_set *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		free(ls->v[i].person);
		free(ls->v[i].platform);
		free(ls->v[i].source);
		free(ls->v[i].request);
	}
	free(ls->v);
	strmap_release(&ls->seen);
	strmap_release(&ls->claimed);
}

#ifndef ACCORD_LIGHT
/* The light binary hands --unmatched to accord-core (main.c). */
static void
lost_add(struct lost_set *ls, const char *person, const char *platform,
    const char *source, const char *request)
{
	char *k = xasprintf("%s\n%s", person, platform ? platform : ""), *p;
	size_t dummy;

	for (p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	if (!strmap_get(&ls->seen, k, &dummy)) {
		struct lost *l;
		strmap_put(&ls->seen, k, 1);
		ls->v = xgrow(ls->v, sizeof(*ls->v), ls->n, &ls->alloc);
		l = &ls->v[ls->n++];
		l->person = xstrdup(person);
		l->platform = xstrdup(platform);
		l->source = xstrdup(source);
		l->request = xstrdup(request);
	}
	free(k);
}

/* Does `person` have an account on `platform`, by the same rule apply
 * uses?  -1: the platform was never ingested, so nobody can say. */
static int
resolves(struct lost_set *ls, const struct identities *ids,
    const struct snapshot *snap, const char *person, const char *platform)
{
	int any = 0;
	char *acct = stored_account(ids, config_platform(&snap->cfg, platform),
	    platform, person, &any), *k;

	if (acct == NULL)
		return !any ? -1 : 0;
	k = xasprintf("%s\n%s", platform, acct);
	strmap_put(&ls->claimed, k, 1);
	free(k);
	free(acct);
	return 1;
}

/* The people of the access repository at the ref who need an account
 * and have none: requesters, accounts.map keys, group members. */
static int
unmatched_people(const struct opts *o, struct state *st,
    const struct identities *ids, struct lost_set *ls,
    struct snapshot *snap, struct diag *err)
{
	struct repo *repo = NULL;
	size_t i, j, k;
	int rc = -1;

	if (repo_open(&repo, o->repo, err) == -1 ||
	    snapshot_load(snap, repo, o->ref, st, o->now, NULL, err) == -1)
		goto out;
	for (i = 0; i < snap->nreqs; i++) {
		const struct loaded_request *lr = &snap->reqs[i];
		if (!lr->valid)
			continue;
		for (j = 0; j < lr->req.ngrants; j++) {
			const struct grant_req *g = &lr->req.grants[j];
			if (g->grantee == NULL && resolves(ls, ids, snap,
			    lr->req.requester, g->platform) == 0)
				lost_add(ls, lr->req.requester, g->platform,
				    "requester", lr->entry.path);
		}
	}
	for (i = 0; i < snap->cfg.nplatforms; i++) {
		const struct platform_cfg *p = &snap->cfg.platforms[i];
		for (j = 0; j < p->nmap; j++)
			if (resolves(ls, ids, snap, p->map[j].person, p->name) == 0)
				lost_add(ls, p->map[j].person, p->name, "map",
				    NULL);
	}
	for (i = 0; i < snap->cfg.ngroups; i++) {
		const struct group *g = &snap->cfg.groups[i];
		for (j = 0; j < g->n; j++) {
			int somewhere = 0, known = 0;
			if (strpbrk(g->members[j], "*?[") != NULL)
				continue;
			for (k = 0; k < snap->cfg.nplatforms; k++) {
				int r = resolves(ls, ids, snap, g->members[j],
				    snap->cfg.platforms[k].name);
				known |= r >= 0;
				somewhere |= r == 1;
			}
			if (known && !somewhere)
				lost_add(ls, g->members[j], NULL, "group", NULL);
		}
	}
	rc = 0;
out:
	repo_free(repo);
	return rc;
}


static const struct platform_cfg *
cfg_platform(const struct snapshot *s, const char *name)
{
	size_t i;

	for (i = 0; s->have_cfg && i < s->cfg.nplatforms; i++)
		if (strcmp(s->cfg.platforms[i].name, name) == 0)
			return &s->cfg.platforms[i];
	return NULL;
}
#endif

int
cmd_identities(const struct opts *o, int argc, char **argv)
{
	const char *u = "identities [--platform P] [--unmatched] "
	    "[--format table|json|csv]";
	enum fmt fmt = o->json ? FMT_JSON : FMT_TABLE;
	const char *platform = NULL;
	struct identities ids = { 0 };
	struct lost_set ls;
	struct snapshot snap;
	struct state *st;
	struct diag err;
	json_t *acc = NULL;
	size_t k;
	int i, rc, unmatched = 0, have_snap = 0;

	memset(&ls, 0, sizeof(ls));
	memset(&snap, 0, sizeof(snap));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--unmatched") == 0)
			unmatched = 1;
		else if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc)
			platform = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			if (parse_format(argv[++i], &fmt) == -1)
				return usage(o, u, 0);
		} else
			return usage(o, u, 0);
	}
	if ((rc = answers_open(o, &st, 0)) != EXIT_OK)
		return rc;
	rc = EXIT_ERROR;
	if (answers_identities(st, platform, 0, &ids, &err) == -1)
		goto fail;
#ifndef ACCORD_LIGHT
	if (unmatched) {
		if (unmatched_people(o, st, &ids, &ls, &snap, &err) == -1) {
			have_snap = snap.commit[0] != '\0';
			goto fail;
		}
		have_snap = 1;
	}
#endif
	if (fmt == FMT_CSV)
		fputs(unmatched ? "kind_of_row,platform,account,kind,person,"
		    "last_seen,source,request\n" :
		    "platform,account,kind,person,email,last_seen\n", stdout);
	if (fmt == FMT_TABLE)
		printf("%-10s %-24s %-8s %-28s %s\n", "platform", "account",
		    "kind", "person", "last seen");
	acc = json_array();
	for (k = 0; k < ids.n; k++) {
		const struct identity *x = &ids.v[k];
		const struct platform_cfg *p;
		char ls_at[TIME_STR_MAX];

		if (unmatched) {
			/* Roles and groups resolve to nobody by nature;
			 * protected accounts are not people's. */
			char *key = xasprintf("%s\n%s", x->platform,
			    x->account);
			size_t hit;
			int claimed = strmap_get(&ls.claimed, key, &hit);
			free(key);
			if (x->person || claimed || (strcmp(x->kind, "user") != 0
			    && strcmp(x->kind, "service") != 0))
				continue;
#ifndef ACCORD_LIGHT
			p = cfg_platform(&snap, x->platform);
			if (p && config_is_protected(p, x->account))
				continue;
#else
			(void)p;
#endif
		}
		tfmt(ls_at, sizeof(ls_at), x->last_seen, "");
		if (fmt == FMT_JSON)
			json_array_append_new(acc, identity_json(x));
		else if (fmt == FMT_CSV) {
			const char *v[] = { x->platform, x->account, x->kind,
			    x->person, x->email, ls_at };
			if (unmatched) {
				v[4] = ls_at;
				fputs("account,", stdout);
			}
			for (i = 0; i < (unmatched ? 5 : 6); i++) {
				if (i)
					putchar(',');
				csv_field(v[i]);
			}
			fputs(unmatched ? ",,\n" : "\n", stdout);
		} else
			printf("%-10s %-24s %-8s %-28s %s\n", x->platform,
			    x->account, x->kind, x->person ? x->person :
			    "(nobody)", ls_at);
	}
	if (fmt == FMT_JSON) {
		json_t *doc = json_object();
		if (unmatched) {
			json_t *people = json_array();
			for (k = 0; k < ls.n; k++)
				if (!platform || !ls.v[k].platform ||
				    strcmp(platform, ls.v[k].platform) == 0)
					json_array_append_new(people, json_pack(
					    "{s:s,s:o,s:s,s:o}", "person",
					    ls.v[k].person, "platform",
					    jstr(ls.v[k].platform), "source",
					    ls.v[k].source, "request",
					    jstr(ls.v[k].request)));
			json_object_set_new(doc, "accounts", acc);
			json_object_set_new(doc, "people", people);
		} else
			json_object_set_new(doc, "identities", acc);
		acc = NULL;
		json_print(doc);
	} else if (unmatched) {
		if (fmt == FMT_TABLE && ls.n)
			printf("\npeople without an account:\n");
		for (k = 0; k < ls.n; k++) {
			if (platform && ls.v[k].platform &&
			    strcmp(platform, ls.v[k].platform) != 0)
				continue;
			if (fmt == FMT_CSV) {
				fputs("person,", stdout);
				csv_field(ls.v[k].platform);
				fputs(",,,", stdout);
				csv_field(ls.v[k].person);
				fputs(",,", stdout);
				csv_field(ls.v[k].source);
				putchar(',');
				csv_field(ls.v[k].request);
				putchar('\n');
			} else
				printf("  %-28s %-10s %s%s%s\n", ls.v[k].person,
				    ls.v[k].platform ? ls.v[k].platform :
				    "(any)", ls.v[k].source,
				    ls.v[k].request ? " " : "",
				    ls.v[k].request ? ls.v[k].request : "");
		}
	}
	rc = EXIT_OK;
	goto out;
fail:
	fail(o, rc, 0, err.msg);
out:
	json_decref(acc);
#ifndef ACCORD_LIGHT
	if (have_snap)
		snapshot_release(&snap);
#else
	(void)have_snap;
#endif
	lost_release(&ls);
	identities_release(&ids);
	state_close(st);
	return rc;
}
