/*
 * validate [--base REF] [--format text|github]: check config, policies
 * and requests at a ref (default HEAD) without touching any platform or
 * the state database.  With --base, only requests that are new or
 * changed since BASE are checked and shown, and requests the change
 * deletes are listed as withdrawals: the pull-request check (§12).  Each
 * grant names its rule as policies/FILE.yaml#N, who may approve, how
 * many approvals are needed and for how long.  --format github writes
 * workflow annotations to stdout and, when $GITHUB_STEP_SUMMARY names a
 * file, appends a Markdown summary to it.
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

/*
 * GitHub workflow commands: '%', CR and LF are escaped in the message,
 * and ':' and ',' too in property values, or the runner cuts them.
 */
static void
gh_escape(struct buf *b, const char *s, int property)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '%': buf_puts(b, "%25"); break;
		case '\r': buf_puts(b, "%0D"); break;
		case '\n': buf_puts(b, "%0A"); break;
		case ':': buf_puts(b, property ? "%3A" : ":"); break;
		case ',': buf_puts(b, property ? "%2C" : ","); break;
		default: buf_putc(b, *s);
		}
}

static void
gh_annotate(const char *level, const char *file, int line, int column,
    const char *title, const char *msg)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	buf_printf(&b, "::%s ", level);
	if (file != NULL && *file != '\0') {
		buf_puts(&b, "file=");
		gh_escape(&b, file, 1);
		buf_printf(&b, ",line=%d,col=%d,", line ? line : 1,
		    column ? column : 1);
	}
	buf_puts(&b, "title=");
	gh_escape(&b, title, 1);
	buf_puts(&b, "::");
	gh_escape(&b, msg, 0);
	puts(buf_cstr(&b));
	buf_release(&b);
}

/* Markdown table cells: no newlines, and '|' escaped. */
static void
md_cell(struct buf *b, const char *s)
{
	buf_puts(b, "| ");
	for (; s && *s; s++)
		if (*s == '|')
			buf_puts(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			buf_putc(b, ' ');
		else
			buf_putc(b, *s);
	buf_putc(b, ' ');
}

/* How long a grant would last, in words. */
static void
lasts(char *out, size_t outsz, const struct request *r,
    const struct grant_eval *ev)
{
	char d[32];

	if (r->duration)
		duration_format(out, outsz, r->duration);
	else if (r->expires)
		snprintf(out, outsz, "until %s", time_format(d, sizeof(d),
		    r->expires));
	else if (ev->rule && ev->rule->default_duration)
		duration_format(out, outsz, ev->rule->default_duration);
	else if (ev->rule && ev->rule->max_duration)
		duration_format(out, outsz, ev->rule->max_duration);
	else
		snprintf(out, outsz, "permanent");
	if (ev->rule && ev->rule->max_duration && (r->duration ||
	    r->expires)) {
		size_t n = strlen(out);
		snprintf(out + n, outsz - n, " (at most %s)",
		    duration_format(d, sizeof(d), ev->rule->max_duration));
	}
}

struct tally {
	size_t requests, grants, denied, invalid, withdrawn;
};

static void
show_invalid(int github, struct buf *md, const struct diag *d,
    struct tally *t)
{
	char line[DIAG_MSG_MAX + 600];

	t->invalid++;
	if (github)
		gh_annotate("error", d->file, d->line, d->column,
		    "accord: invalid", d->msg);
	else {
		diag_format(d, line, sizeof(line));
		printf("error: %s\n", line);
	}
	if (md != NULL) {
		diag_format(d, line, sizeof(line));
		buf_puts(md, "- :x: `");
		buf_puts(md, line);
		buf_puts(md, "`\n");
	}
}

/* One valid request: its grants, with rule, approvers, needed, length. */
static void
show_request(int github, struct buf *md, const struct snapshot *s,
    const struct loaded_request *lr, struct tally *t)
{
	const struct request *r = &lr->req;
	char dur[96], exp[TIME_STR_MAX], rule[300], text[1200];
	struct diag d;
	size_t j;

	t->requests++;
	if (!github)
		printf("%s (requester %s)\n", r->path, r->requester);
	for (j = 0; j < r->ngrants; j++) {
		const struct grant_req *g = &r->grants[j];
		const struct grant_eval *ev = &lr->ev[j];
		const char *whom = g->grantee ? g->grantee : r->requester;
		char *who;
		int needed;

		t->grants++;
		if (ev->rule != NULL)
			snprintf(rule, sizeof(rule), "%s#%d", ev->rule->file,
			    ev->rule->index);
		else
			snprintf(rule, sizeof(rule), "(no rule)");
		if (ev->status == GS_DENIED) {
			t->denied++;
			diag_setat(&d, r->path, g->line, g->column, "%s",
			    ev->why);
			if (github)
				gh_annotate("error", r->path, g->line,
				    g->column, "accord: denied", ev->why);
			else
				printf("  DENIED   %s %s on %s for %s: %s\n",
				    g->platform, g->privilege, g->target, whom,
				    ev->why);
			if (md != NULL) {
				md_cell(md, r->path);
				snprintf(text, sizeof(text), "%s %s on %s",
				    g->platform, g->privilege, g->target);
				md_cell(md, text);
				md_cell(md, ":x: denied");
				md_cell(md, rule);
				md_cell(md, ev->why);
				md_cell(md, "");
				md_cell(md, "");
				buf_puts(md, "|\n");
			}
			continue;
		}
		who = who_may_approve(&s->cfg, ev->rule, r->requester);
		lasts(dur, sizeof(dur), r, ev);
		needed = ev->status == GS_PENDING ? ev->needed : 0;
		if (github) {
			snprintf(text, sizeof(text), "%s %s on %s for %s: "
			    "%s by %s; approvers: %s; approvals needed: %d; "
			    "lasts %s", g->platform, g->privilege, g->target,
			    whom, ev->status == GS_PENDING ? "allowed" :
			    grant_status_names[ev->status], rule,
			    *who ? who : "(none)", needed, dur);
			gh_annotate("notice", r->path, g->line, g->column,
			    "accord: allowed", text);
		} else {
			printf("  %-8s %s %s on %s for %s  rule %s\n",
			    grant_status_names[ev->status], g->platform,
			    g->privilege, g->target, whom, rule);
			printf("           approvers: %s; needed: %d; "
			    "duration: %s", *who ? who : "(none)", needed,
			    dur);
			if (ev->expires_at)
				printf("; expires %s", time_format(exp,
				    sizeof(exp), ev->expires_at));
			putchar('\n');
		}
		if (md != NULL) {
			md_cell(md, r->path);
			snprintf(text, sizeof(text), "%s %s on %s", g->platform,
			    g->privilege, g->target);
			md_cell(md, text);
			md_cell(md, ev->status == GS_PENDING ?
			    ":hourglass: awaiting approval" :
			    grant_status_names[ev->status]);
			md_cell(md, rule);
			md_cell(md, *who ? who : "(none)");
			snprintf(text, sizeof(text), "%d", needed);
			md_cell(md, text);
			md_cell(md, dur);
			buf_puts(md, "|\n");
		}
		free(who);
	}
}

/* Append the summary to $GITHUB_STEP_SUMMARY; a failure is only a warning. */
static void
write_summary(const char *path, const char *commit, const char *base,
    const struct tally *t, int bad, const struct buf *rows,
    const struct buf *errs, const struct buf *gone, const struct buf *rules)
{
	FILE *f;

	if ((f = fopen(path, "a")) == NULL) {
		log_warn("cannot write the step summary to %s", path);
		return;
	}
	fprintf(f, "## accord: %s\n\n", bad ? "changes refused" :
	    "access request check passed");
	fprintf(f, "Checked %zu request%s (%zu grant%s) at `%.12s`%s%s%s: "
	    "%zu denied, %zu invalid.\n\n", t->requests, t->requests == 1 ?
	    "" : "s", t->grants, t->grants == 1 ? "" : "s", commit,
	    base ? " against `" : "", base ? base : "", base ? "`" : "",
	    t->denied, t->invalid);
	if (rows->len > 0)
		fprintf(f, "| Request | Grant | Status | Rule | Approvers | "
		    "Needed | Lasts |\n|---|---|---|---|---|---|---|\n%s\n",
		    rows->ptr);
	if (errs->len > 0)
		fprintf(f, "### Errors\n\n%s\n", errs->ptr);
	if (gone->len > 0)
		fprintf(f, "### Withdrawn\n\n%s\n", gone->ptr);
	if (rules->len > 0)
		fprintf(f, "### Rules changed by this change\n\nThe requests "
		    "above were checked against these edited files; review "
		    "them as changes to who may approve what.\n\n%s\n",
		    rules->ptr);
	if (fclose(f) != 0)
		log_warn("cannot write the step summary to %s", path);
}

/*
 * Files that decide (accord.yaml, policies/) changed by this change: its
 * requests are checked against the changed rules, so a pull request that
 * loosens a policy passes its own check.  Say so loudly, so reviewers
 * review the rule change itself.  Returns the number found, -1 on error.
 */
static int
show_rule_changes(struct repo *repo, const char *base, const char *tip,
    int github, struct buf *md, struct diag *err)
{
	struct repo_entry *a = NULL, *b = NULL;
	struct strmap am = STRMAP_INIT, bm = STRMAP_INIT;
	size_t na = 0, nb = 0, i, k;
	char ab[41], bb[41], *d1 = NULL, *d2 = NULL, *msg;
	size_t l1, l2;
	int ra, rb, found = 0, rc = -1;

	if (repo_list(repo, base, "policies", yaml_suffixes, &a, &na,
	    err) == -1 || repo_list(repo, tip, "policies", yaml_suffixes, &b,
	    &nb, err) == -1)
		goto out;
	if ((ra = repo_read(repo, base, "accord.yaml", YML_MAX_BYTES, &d1,
	    &l1, ab, err)) == -1 || (rb = repo_read(repo, tip, "accord.yaml",
	    YML_MAX_BYTES, &d2, &l2, bb, err)) == -1)
		goto out;
	if (ra != rb || (ra == 0 && strcmp(ab, bb) != 0)) {
		found++;
		msg = xasprintf("this change edits accord.yaml (groups, "
		    "platforms, settings): review it as a change to who may "
		    "approve what");
		if (github)
			gh_annotate("warning", "accord.yaml", 1, 1,
			    "accord: settings changed", msg);
		else
			printf("note: %s\n", msg);
		free(msg);
		if (md != NULL)
			buf_puts(md, "- `accord.yaml`\n");
	}
	for (i = 0; i < na; i++)
		strmap_put(&am, a[i].path, i);
	for (i = 0; i < nb; i++)
		strmap_put(&bm, b[i].path, i);
	for (i = 0; i < na + nb; i++) {
		const struct repo_entry *e = i < na ? &a[i] : &b[i - na];
		int other = i < na ? strmap_get(&bm, e->path, &k) :
		    strmap_get(&am, e->path, &k);

		if (i >= na && other)
			continue;	/* seen from the base side */
		if (other && strcmp(e->blob, b[k].blob) == 0)
			continue;
		found++;
		msg = xasprintf("this change %s %s: its requests are checked "
		    "against the changed rules; review the rule change itself",
		    !other ? (i < na ? "deletes" : "adds") : "edits", e->path);
		if (github)
			gh_annotate("warning", i < na && !other ? NULL : e->path,
			    1, 1, "accord: policy changed", msg);
		else
			printf("note: %s\n", msg);
		free(msg);
		if (md != NULL)
			buf_printf(md, "- `%s`\n", e->path);
	}
	rc = found;
out:
	free(d1);
	free(d2);
	strmap_release(&am);
	strmap_release(&bm);
	repo_entries_free(a, na);
	repo_entries_free(b, nb);
	return rc;
}

int
cmd_validate(const struct opts *o, int argc, char **argv)
{
	const char *usage = "validate [--base REF] [--format text|github]";
	const char *base = NULL, *ref = o->ref ? o->ref : "HEAD", *sum;
	struct repo_entry *be = NULL;
	struct strmap basemap = STRMAP_INIT, paths = STRMAP_INIT;
	struct buf rows = BUF_INIT, errs = BUF_INIT, gone = BUF_INIT;
	struct buf rules = BUF_INIT;
	struct tally t;
	struct snapshot s;
	struct repo *repo = NULL;
	struct diag err;
	size_t nbe = 0, i;
	char basecommit[41];
	int github = 0, rc = EXIT_ERROR, loaded = 0, bad;
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
	sum = github ? getenv("GITHUB_STEP_SUMMARY") : NULL;
	if (sum != NULL && *sum == '\0')
		sum = NULL;
	buf_init(&rows, 0);
	buf_init(&errs, 0);
	buf_init(&gone, 0);
	buf_init(&rules, 0);
	memset(&t, 0, sizeof(t));
	if (repo_open(&repo, o->repo, &err) == -1)
		goto fail;
	memset(&tm, 0, sizeof(tm));
	if (snapshot_load(&s, repo, ref, NULL, o->now, &tm, &err) == -1) {
		if (github)
			gh_annotate("error", err.file, err.line, err.column,
			    "accord: invalid", err.msg);
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
	if (base && show_rule_changes(repo, basecommit, s.commit, github,
	    sum ? &rules : NULL, &err) == -1)
		goto fail;
	for (i = 0; i < s.nreqs; i++) {
		const struct loaded_request *lr = &s.reqs[i];

		strmap_put(&paths, lr->entry.path, 0);
		if (base) {
			char *k = xasprintf("%s\x1f%s", lr->entry.path,
			    lr->entry.blob);
			int old = strmap_get(&basemap, k, NULL);
			free(k);
			if (old)
				continue;	/* unchanged by this change */
		}
		if (!lr->valid)
			show_invalid(github, sum ? &errs : NULL, lr->error, &t);
		else
			show_request(github, sum ? &rows : NULL, &s, lr, &t);
	}
	for (i = 0; i < nbe; i++) {
		if (strmap_get(&paths, be[i].path, NULL))
			continue;
		t.withdrawn++;
		if (github)
			gh_annotate("notice", NULL, 0, 0, "accord: withdrawn",
			    be[i].path);
		else
			printf("%s: withdrawn (its grants are revoked at the "
			    "next run after the merge)\n", be[i].path);
		buf_printf(&gone, "- `%s`\n", be[i].path);
	}
	bad = t.denied > 0 || t.invalid > 0;
	if (!github)
		printf("%s: %zu request%s checked, %zu denied, %zu invalid\n",
		    bad ? "FAIL" : "ok", t.requests + t.invalid,
		    t.requests + t.invalid == 1 ? "" : "s", t.denied,
		    t.invalid);
	if (sum != NULL)
		write_summary(sum, s.commit, base, &t, bad, &rows, &errs,
		    &gone, &rules);
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
	buf_release(&rows);
	buf_release(&errs);
	buf_release(&gone);
	buf_release(&rules);
	strmap_release(&basemap);
	strmap_release(&paths);
	repo_entries_free(be, nbe);
	if (loaded)
		snapshot_release(&s);
	repo_free(repo);
	return rc;
}
