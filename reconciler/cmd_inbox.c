/*
 * inbox [--reviewer EMAIL]: the request versions waiting on unmerged refs
 * (inbox.c), with requester, age, the refs that carry each, every grant's
 * decision and rule, who may approve and how many approvals are needed.
 * With --reviewer, only what that person may approve.  Reads git only:
 * no platform, no state database.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "run.h"
#include "util.h"

/* "3d", "5h", "12m": the largest whole unit of now - t. */
static char *
age_format(char *out, size_t outsz, int64_t t, int64_t now)
{
	int64_t a = now > t ? now - t : 0;

	if (a >= 86400)
		snprintf(out, outsz, "%lldd", (long long)(a / 86400));
	else if (a >= 3600)
		snprintf(out, outsz, "%lldh", (long long)(a / 3600));
	else
		snprintf(out, outsz, "%lldm", (long long)(a / 60));
	return out;
}

static json_t *
jstrv(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
jrule(const struct rule *ru)
{
	char *s;
	json_t *j;

	if (ru == NULL)
		return json_null();
	s = xasprintf("%s#%d", ru->file, ru->index);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
item_json(const struct inbox_item *it, int64_t now)
{
	json_t *o = json_object(), *g;
	char tbuf[TIME_STR_MAX], age[32];
	size_t j;

	json_object_set_new(o, "path", json_string(it->path));
	json_object_set_new(o, "blob", json_string(it->blob));
	json_object_set_new(o, "refs", jstrv(it->refs, it->nrefs));
	json_object_set_new(o, "commit", json_string(it->commit));
	json_object_set_new(o, "pr_number", it->pr_number ?
	    json_integer(it->pr_number) : json_null());
	json_object_set_new(o, "requester", jstr(it->valid ?
	    it->req.requester : NULL));
	json_object_set_new(o, "reason", jstr(it->valid ? it->req.reason :
	    NULL));
	json_object_set_new(o, "created_at", json_string(time_format(tbuf,
	    sizeof(tbuf), it->created_at)));
	json_object_set_new(o, "age", json_string(age_format(age, sizeof(age),
	    it->created_at, now)));
	json_object_set_new(o, "valid", json_boolean(it->valid));
	if (it->valid)
		json_object_set_new(o, "error", json_null());
	else
		json_object_set_new(o, "error", json_pack("{s:s,s:i,s:i,s:s}",
		    "file", it->error->file, "line", it->error->line,
		    "column", it->error->column, "message", it->error->msg));
	g = json_array();
	for (j = 0; it->valid && j < it->req.ngrants; j++) {
		const struct grant_req *gr = &it->req.grants[j];
		const struct grant_eval *ev = &it->ev[j];
		json_t *x = json_object();
		json_object_set_new(x, "platform", json_string(gr->platform));
		json_object_set_new(x, "target", json_string(gr->target));
		json_object_set_new(x, "privilege", jstr(gr->privilege));
		json_object_set_new(x, "grantee", jstr(gr->grantee));
		json_object_set_new(x, "status",
		    json_string(grant_status_names[ev->status]));
		json_object_set_new(x, "rule", jrule(ev->rule));
		json_object_set_new(x, "needed", json_integer(
		    ev->status == GS_PENDING ? ev->needed : 0));
		json_object_set_new(x, "why", json_string(ev->why));
		json_array_append_new(g, x);
	}
	json_object_set_new(o, "grants", g);
	json_object_set_new(o, "approvers", jstrv(it->approvers,
	    it->napprovers));
	json_object_set_new(o, "needed", json_integer(it->needed));
	return o;
}

static void
item_text(const struct inbox_item *it, int64_t now)
{
	char tbuf[TIME_STR_MAX], age[32], loc[DIAG_MSG_MAX + 600];
	size_t j;

	printf("%s  (blob %.12s)\n", it->path, it->blob);
	printf("  requester: %s; age %s (since %s)\n", it->valid ?
	    it->req.requester : "?", age_format(age, sizeof(age),
	    it->created_at, now), time_format(tbuf, sizeof(tbuf),
	    it->created_at));
	printf("  refs:");
	for (j = 0; j < it->nrefs; j++)
		printf("%s %s", j ? "," : "", it->refs[j]);
	if (it->pr_number)
		printf(" (pull request #%ld)", it->pr_number);
	putchar('\n');
	if (!it->valid) {
		diag_format(it->error, loc, sizeof(loc));
		printf("  INVALID  %s\n", loc);
		return;
	}
	if (it->req.reason)
		printf("  reason: %s\n", it->req.reason);
	for (j = 0; j < it->req.ngrants; j++) {
		const struct grant_req *g = &it->req.grants[j];
		const struct grant_eval *ev = &it->ev[j];
		printf("  %-8s %s %s on %s", ev->status == GS_DENIED ?
		    "DENIED" : "PENDING", g->platform, g->privilege, g->target);
		if (g->grantee)
			printf(" for %s", g->grantee);
		if (ev->rule)
			printf("  rule %s#%d", ev->rule->file, ev->rule->index);
		if (ev->status == GS_DENIED)
			printf(": %s", ev->why);
		else if (ev->needed > 0)
			printf("; needs %d", ev->needed);
		putchar('\n');
	}
	printf("  approvers: ");
	for (j = 0; j < it->napprovers; j++)
		printf("%s%s", j ? ", " : "", it->approvers[j]);
	printf("%s; needed: %d\n", it->napprovers ? "" : "(none)", it->needed);
}

int
cmd_inbox(const struct opts *o, int argc, char **argv)
{
	const char *reviewer = NULL;
	struct inbox_item *items = NULL;
	struct repo *repo = NULL;
	struct snapshot s;
	struct diag err;
	size_t n = 0, i, shown = 0;
	int rc = EXIT_ERROR, loaded = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--reviewer") == 0 && i + 1 < (size_t)argc &&
		    argv[i + 1][0] != '\0')
			reviewer = argv[++i];
		else {
			fprintf(stderr, "usage: accord inbox [--reviewer EMAIL]\n");
			return EXIT_USAGE;
		}
	}
	if (repo_open(&repo, o->repo, &err) == -1)
		goto fail;
	if (snapshot_load(&s, repo, o->ref, NULL, o->now, NULL, &err) == -1)
		goto fail;
	loaded = 1;
	if (inbox_collect(repo, &s, &items, &n, &err) == -1)
		goto fail;
	if (o->json) {
		json_t *doc = json_object(), *a = json_array();
		char tbuf[TIME_STR_MAX], *txt;
		json_object_set_new(doc, "commit", json_string(s.commit));
		json_object_set_new(doc, "now", json_string(time_format(tbuf,
		    sizeof(tbuf), s.now)));
		json_object_set_new(doc, "reviewer", jstr(reviewer));
		for (i = 0; i < n; i++)
			if (reviewer == NULL ||
			    inbox_may_approve(&s, &items[i], reviewer))
				json_array_append_new(a, item_json(&items[i],
				    s.now));
		json_object_set_new(doc, "requests", a);
		txt = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(txt);
		free(txt);
		json_decref(doc);
	} else {
		for (i = 0; i < n; i++) {
			if (reviewer && !inbox_may_approve(&s, &items[i],
			    reviewer))
				continue;
			if (shown++)
				putchar('\n');
			item_text(&items[i], s.now);
		}
		if (shown)
			putchar('\n');
		printf("%zu pending request%s%s%s\n", shown, shown == 1 ? "" :
		    "s", reviewer ? " for " : "", reviewer ? reviewer : "");
	}
	rc = EXIT_OK;
	goto out;
fail:
	diag_print(&err, stderr);
	rc = EXIT_ERROR;
out:
	inbox_free(items, n);
	if (loaded)
		snapshot_release(&s);
	repo_free(repo);
	return rc;
}
