/*
 * validate [--base REF] [--format text|github]: check config, policies
 * and requests at a ref (default HEAD) without touching any platform or
 * the state database.  With --base, only requests that are new or
 * changed since BASE are reported: the pull-request check (§12).  Each
 * grant names its rule as policies/FILE.yaml#N, who may approve, how
 * many approvals are needed and for how long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "strmap.h"
#include "util.h"

static const char *const yaml_suffixes[] = { ".yaml", ".yml", NULL };

/* Who may approve under rule r, requester excluded, comma-separated. */
static char *
who_may_approve(const struct config *cfg, const struct rule *r,
    const char *requester)
{
	struct strmap seen = STRMAP_INIT;
	struct buf b;
	size_t i, j, k;

	buf_init(&b, 0);
	for (i = 0; i < r->nsteps; i++)
		for (j = 0; j < r->steps[i].nfrom; j++) {
			const char *f = r->steps[i].from[j];
			const struct group *g;
			if (strncmp(f, "group:", 6) != 0) {
				if (!str_eq_ci(f, requester) || r->self_approval)
					if (!strmap_get(&seen, f, NULL)) {
						strmap_put(&seen, f, 0);
						buf_printf(&b, "%s%s", b.len ? ", " : "", f);
					}
				continue;
			}
			if ((g = config_group(cfg, f + 6)) == NULL)
				continue;
			for (k = 0; k < g->n; k++) {
				if ((str_eq_ci(g->members[k], requester) &&
				    !r->self_approval) ||
				    strmap_get(&seen, g->members[k], NULL))
					continue;
				strmap_put(&seen, g->members[k], 0);
				buf_printf(&b, "%s%s", b.len ? ", " : "",
				    g->members[k]);
			}
		}
	strmap_release(&seen);
	return buf_detach(&b);
}

static void
annotate(int github, const char *level, const struct diag *d)
{
	char line[DIAG_MSG_MAX + 600];

	if (github) {
		printf("::%s file=%s,line=%d,col=%d::%s\n", level, d->file,
		    d->line ? d->line : 1, d->column ? d->column : 1, d->msg);
		return;
	}
	diag_format(d, line, sizeof(line));
	printf("%s: %s\n", level, line);
}

int
cmd_validate(const struct opts *o, int argc, char **argv)
{
	const char *usage = "validate [--base REF] [--format text|github]";
	const char *base = NULL, *ref = o->ref ? o->ref : "HEAD";
	struct repo_entry *be = NULL;
	struct strmap basemap = STRMAP_INIT;
	struct snapshot s;
	struct repo *repo = NULL;
	struct diag err, *errs = NULL;
	size_t nbe = 0, nerrs = 0, i, j, shown = 0;
	char basecommit[41], exp[TIME_STR_MAX], dur[32];
	int github = 0, bad = 0, rc = EXIT_ERROR, loaded = 0;
	struct timing tm;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--base") == 0 && i + 1 < (size_t)argc)
			base = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc) {
			i++;
			if (strcmp(argv[i], "github") == 0)
				github = 1;
			else if (strcmp(argv[i], "text") != 0)
				goto usage;
		} else
			goto usage;
	}
	if (repo_open(&repo, o->repo, &err) == -1)
		goto fail;
	memset(&tm, 0, sizeof(tm));
	if (snapshot_load(&s, repo, ref, NULL, o->now, &tm, &err) == -1) {
		if (github && err.file[0])
			annotate(1, "error", &err);
		goto fail;
	}
	loaded = 1;
	if (base) {
		if (repo_resolve(repo, base, basecommit, &err) == -1 ||
		    repo_list(repo, basecommit, "requests", yaml_suffixes, &be,
		    &nbe, &err) == -1)
			goto fail;
		for (i = 0; i < nbe; i++) {
			char *k = xasprintf("%s\x1f%s", be[i].path, be[i].blob);
			strmap_put(&basemap, k, 0);
			free(k);
		}
	}
	errs = snapshot_errors(&s, &nerrs);
	for (i = 0; i < nerrs; i++) {
		annotate(github, "error", &errs[i]);
		bad = 1;
	}
	for (i = 0; i < s.nreqs; i++) {
		const struct loaded_request *lr = &s.reqs[i];
		if (!lr->valid)
			continue;
		if (base) {
			char *k = xasprintf("%s\x1f%s", lr->entry.path,
			    lr->entry.blob);
			int old = strmap_get(&basemap, k, NULL);
			free(k);
			if (old)
				continue;
		}
		shown++;
		if (!github)
			printf("%s (requester %s)\n", lr->req.path,
			    lr->req.requester);
		for (j = 0; j < lr->req.ngrants; j++) {
			const struct grant_req *g = &lr->req.grants[j];
			const struct grant_eval *ev = &lr->ev[j];
			struct diag d;
			char *who;
			if (ev->status == GS_DENIED) {
				bad = 1;
				diag_setat(&d, lr->req.path, g->line, g->column,
				    "%s", ev->why);
				if (github)
					annotate(1, "error", &d);
				else
					printf("  DENIED  %s %s on %s: %s\n",
					    g->platform, g->privilege, g->target,
					    ev->why);
				continue;
			}
			if (github)
				continue;
			who = who_may_approve(&s.cfg, ev->rule, lr->req.requester);
			if (lr->req.duration)
				duration_format(dur, sizeof(dur), lr->req.duration);
			else if (lr->req.expires)
				snprintf(dur, sizeof(dur), "until expiry");
			else if (ev->rule->default_duration)
				duration_format(dur, sizeof(dur),
				    ev->rule->default_duration);
			else
				snprintf(dur, sizeof(dur), "%s",
				    lr->req.expires ? "until expiry" : "permanent");
			printf("  %-8s %s %s on %s  rule %s#%d\n",
			    grant_status_names[ev->status], g->platform,
			    g->privilege, g->target, ev->rule->file,
			    ev->rule->index);
			printf("           approvers: %s; needed: %d; duration: %s",
			    *who ? who : "(none)", ev->status == GS_PENDING ?
			    ev->needed : 0, dur);
			if (ev->expires_at)
				printf("; expires %s", time_format(exp, sizeof(exp),
				    ev->expires_at));
			if (lr->req.expires && ev->rule->max_duration)
				printf("; at most %s", duration_format(dur,
				    sizeof(dur), ev->rule->max_duration));
			putchar('\n');
			free(who);
		}
	}
	if (!github)
		printf("%s: %zu request%s checked, %zu error%s\n",
		    bad ? "FAIL" : "ok", base ? shown : s.nreqs,
		    (base ? shown : s.nreqs) == 1 ? "" : "s", nerrs,
		    nerrs == 1 ? "" : "s");
	rc = bad ? EXIT_ERROR : EXIT_OK;
	log_info("timing: load=%.0fms approvals=%.0fms eval=%.0fms", tm.load,
	    tm.approvals, tm.eval);
	goto out;
usage:
	fprintf(stderr, "usage: accord %s\n", usage);
	rc = EXIT_USAGE;
	goto out;
fail:
	diag_print(&err, stderr);
	rc = EXIT_ERROR;
out:
	free(errs);
	strmap_release(&basemap);
	repo_entries_free(be, nbe);
	if (loaded)
		snapshot_release(&s);
	repo_free(repo);
	return rc;
}
