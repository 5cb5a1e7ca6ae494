/*
 * The reconcile commands: plan, apply and run --every share one pipeline
 * (DESIGN §4): lock, load at the pinned commit, ingest, settle old
 * intents, plan, guard against mass revocation, apply, record decisions,
 * record the run.  Exit codes as §5.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "notify.h"
#include "reaction.h"
#include "run.h"
#include "state.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
print_timing(const struct timing *tm)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	log_info("timing: load=%.0fms approvals=%.0fms eval=%.0fms "
	    "ingest=%.0fms plan=%.0fms apply=%.0fms total=%.0fms maxrss=%ldkB",
	    tm->load, tm->approvals, tm->eval, tm->ingest, tm->plan, tm->apply,
	    tm->total, ru.ru_maxrss);
}

static void
audit_run_row(struct state *st, int64_t run, int64_t now, const char *action,
    const char *commit, const char *detail)
{
	struct audit_row row;
	struct diag err;
	char at[TIME_STR_MAX];

	memset(&row, 0, sizeof(row));
	row.at = time_format(at, sizeof(at), now);
	row.run = run;
	row.action = (char *)action;
	row.commit_sha = (char *)commit;
	row.detail = (char *)detail;
	if (state_begin(st, &err) == -1 || audit_append(st, &row, &err) == -1 ||
	    state_commit(st, &err) == -1) {
		state_rollback(st);
		log_warn("audit: %s", err.msg);
	}
}

static void
save_ingests(struct state *st, struct platform_run *pr, size_t npr,
    int64_t now)
{
	struct diag err;
	size_t i;

	for (i = 0; i < npr; i++)
		if (pr[i].ok && state_save_ingest(st, pr[i].cfg->name,
		    &pr[i].in, pr[i].persons, now, &err) == -1)
			log_warn("saving ingest of %s: %s", pr[i].cfg->name,
			    err.msg);
}

/* One reconcile.  The caller holds the lock when apply is set. */
static int
reconcile(const struct opts *o, int apply)
{
	struct snapshot snap;
	struct platform_run *pr = NULL;
	struct sgrant *sg = NULL;
	struct plan plan;
	struct state *st = NULL;
	struct repo *repo = NULL;
	struct diag err, *errs = NULL;
	struct timing tm;
	size_t npr = 0, nsg = 0, nerrs = 0, failed = 0, i;
	int64_t run = 0;
	long limit;
	char refused[128] = "", detail[256];
	double t0 = now_ms(), t;
	int rc = EXIT_ERROR, have_snap = 0, merged = 0;
	int64_t slack_waited = 0;	/* §12: one Slack wait budget per run */

	memset(&tm, 0, sizeof(tm));
	memset(&plan, 0, sizeof(plan));
	if (state_open(&st, o->state, &err) == -1 ||
	    repo_open(&repo, o->repo, &err) == -1) {
		diag_print(&err, stderr);
		goto out;
	}
	if (apply) {
		if (state_run_begin(st, o->now, "apply", NULL, &run, &err) == -1) {
			diag_print(&err, stderr);
			goto out;
		}
		audit_run_row(st, run, o->now, "run_started", NULL, NULL);
		/* Approval by reaction merges before the snapshot is
		 * loaded, so this very run plans and applies the merges. */
		if (reaction_run(repo, st, o, o->now, &slack_waited, &merged,
		    &err) == -1)
			log_warn("approval by reaction: %s", err.msg);
	}
	if (snapshot_load(&snap, repo, o->ref, st, o->now, &tm, &err) == -1) {
		diag_print(&err, stderr);
		have_snap = -1;
		goto out;
	}
	have_snap = 1;
	t = now_ms();
	platforms_ingest(&pr, &npr, &snap);
	tm.ingest = now_ms() - t;
	for (i = 0; i < npr; i++)
		if (!pr[i].ok)
			log_warn("skipping platform %s, nothing is granted or "
			    "revoked there: %s", pr[i].cfg->name, pr[i].err.msg);
	t = now_ms();
	if (apply)
		apply_recover(st, pr, npr, run, o->now);
	if (state_grants_load(st, &sg, &nsg, &err) == -1) {
		diag_print(&err, stderr);
		goto out;
	}
	plan_build(&plan, &snap, pr, npr, sg, nsg);
	errs = snapshot_errors(&snap, &nerrs);
	tm.plan = now_ms() - t;
	limit = o->max_revoke >= 0 ? o->max_revoke : snap.cfg.max_revoke;
	if (apply && plan.nrevoke > (size_t)limit) {
		snprintf(refused, sizeof(refused), "max_revoke");
		fprintf(stderr, "accord: refusing to apply: the plan revokes %zu "
		    "grants, more than max_revoke (%ld); nothing was changed. "
		    "Review the plan, then rerun with --max-revoke %zu to "
		    "allow it\n", plan.nrevoke, limit, plan.nrevoke);
	}
	t = now_ms();
	if (apply && !refused[0]) {
		save_ingests(st, pr, npr, o->now);
		failed = apply_plan(&plan, st, pr, npr, run, o->now);
		apply_decisions(st, &snap, run);
	}
	tm.apply = now_ms() - t;
	output_plan(&plan, &snap, errs, nerrs, apply && !refused[0],
	    refused[0] ? refused : NULL, o->json);
	/* Notifications (§7, §12): after apply, under the lock, only when
	 * applying.  A failed delivery never changes the exit code. */
	if (apply)
		notify_run(st, repo, &snap, o->now, &slack_waited, NULL);
	if (refused[0])
		rc = EXIT_ERROR;
	else if (plan.nskipped || failed)
		rc = EXIT_PARTIAL;
	else if (!apply && o->detailed_exitcode && plan.ngrant + plan.nrevoke)
		rc = EXIT_CHANGES;
	else
		rc = EXIT_OK;
	if (!apply)
		for (i = 0; i < plan.n; i++)
			if (plan.changes[i].action == CH_GRANT &&
			    plan.changes[i].account == NULL)
				rc = rc == EXIT_OK || rc == EXIT_CHANGES ?
				    EXIT_PARTIAL : rc;
out:
	tm.total = now_ms() - t0;
	if (have_snap >= 0 && apply && st && run) {
		snprintf(detail, sizeof(detail), "{\"exit\":%d,\"granted\":%zu,"
		    "\"revoked\":%zu,\"failed\":%zu,\"skipped\":%zu,"
		    "\"errors\":%zu%s}", rc, plan.ngrant, plan.nrevoke, failed,
		    plan.nskipped, nerrs, refused[0] ?
		    ",\"refused\":\"max_revoke\"" : "");
		audit_run_row(st, run, o->now, "run_finished",
		    have_snap ? snap.commit : NULL, detail);
		if (state_run_end(st, run, o->now, rc, have_snap ?
		    snap.commit : NULL, detail, &err) == -1)
			log_warn("%s", err.msg);
	} else if (apply && st && run) {
		audit_run_row(st, run, o->now, "run_finished", NULL,
		    "{\"exit\":1,\"error\":\"load failed\"}");
		state_run_end(st, run, o->now, rc, NULL, NULL, &err);
	}
	if (log_verbosity)
		print_timing(&tm);
	free(errs);
	plan_release(&plan);
	sgrants_free(sg, nsg);
	if (pr)
		platforms_close(pr, npr);
	if (have_snap == 1)
		snapshot_release(&snap);
	repo_free(repo);
	state_close(st);
	return rc;
}

static int
take_lock(const struct opts *o, const char *cmd, struct state_lock **l)
{
	struct diag err;
	int rc = state_lock(l, o->state, cmd, &err);

	if (rc == 0)
		return 0;
	diag_print(&err, stderr);
	return rc == 1 ? EXIT_LOCKED : EXIT_ERROR;
}

static int
usage_error(const char *msg, const char *usage)
{
	fprintf(stderr, "accord: %s\nusage: accord %s\n", msg, usage);
	return EXIT_USAGE;
}

int
cmd_plan(const struct opts *o, int argc, char **argv)
{
	struct opts mine = *o;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--detailed-exitcode") == 0)
			mine.detailed_exitcode = 1;
		else
			return usage_error("plan: unknown argument",
			    "plan [--detailed-exitcode]");
	}
	return reconcile(&mine, 0);
}

static int
parse_count(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || end == s || *out < 0 ? -1 : 0;
}

int
cmd_apply(const struct opts *o, int argc, char **argv)
{
	struct opts mine = *o;
	struct state_lock *l = NULL;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-revoke") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &mine.max_revoke) == -1)
				return usage_error("--max-revoke takes a number "
				    "of grants", "apply [--max-revoke N]");
		} else
			return usage_error("apply: unknown argument",
			    "apply [--max-revoke N]");
	}
	if ((rc = take_lock(&mine, "apply", &l)) != 0)
		return rc;
	rc = reconcile(&mine, 1);
	state_unlock(l);
	return rc;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int
cmd_run(const struct opts *o, int argc, char **argv)
{
	const char *usage = "run --every DURATION [--count N] [--max-revoke N]";
	struct opts mine = *o;
	struct state_lock *l = NULL;
	struct sigaction sa;
	int64_t every = 0, slept;
	long count = 0, n;
	int i, rc = 0, worst = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
			if (duration_parse(&every, argv[++i]) == -1)
				return usage_error("--every takes a duration "
				    "such as 15m or 1h", usage);
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &count) == -1)
				return usage_error("--count takes a number", usage);
		} else if (strcmp(argv[i], "--max-revoke") == 0 && i + 1 < argc) {
			if (parse_count(argv[++i], &mine.max_revoke) == -1)
				return usage_error("--max-revoke takes a number",
				    usage);
		} else
			return usage_error("run: unknown argument", usage);
	}
	if (every == 0)
		return usage_error("run needs --every DURATION", usage);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The scheduler owns the state database for its whole life. */
	if ((rc = take_lock(&mine, "run", &l)) != 0)
		return rc;
	for (n = 0; !stop_requested && (count == 0 || n < count); n++) {
		if (!o->now_fixed)
			mine.now = time_now();
		else if (n > 0)
			mine.now += every;	/* a fixed clock moves with the schedule */
		rc = reconcile(&mine, 1);
		if (rc > worst && rc != EXIT_CHANGES)
			worst = rc;
		if (count && n + 1 >= count)
			break;
		for (slept = 0; slept < every && !stop_requested; slept++)
			sleep(1);
	}
	state_unlock(l);
	return count ? worst : rc;
}
