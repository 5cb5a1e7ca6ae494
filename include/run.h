/*
 * The reconcile pipeline (DESIGN §4): load the access repository at one
 * pinned commit, evaluate requests against policy and git approvals,
 * ingest platforms, plan, apply, audit.  The commands in main.c are thin
 * wrappers around these.
 */
#ifndef ACCORD_RUN_H
#define ACCORD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "policy.h"
#include "repo.h"
#include "request.h"

struct state;

/* Exit codes (§5). */
enum {
	EXIT_OK = 0, EXIT_ERROR = 1, EXIT_CHANGES = 2, EXIT_PARTIAL = 3,
	EXIT_LOCKED = 4, EXIT_USAGE = 64, EXIT_NOSTATE = 65
};

/* Global options, filled by main.c. */
struct opts {
	const char *repo;	/* -C, default "." */
	const char *ref;	/* --ref, NULL: refs/heads/<branch> */
	const char *state;	/* --state, $ACCORD_STATE, ./accord.db */
	int64_t now;		/* --now, default the clock */
	int now_fixed;		/* --now was given */
	int json;
	long max_revoke;	/* --max-revoke, -1: from config */
	int detailed_exitcode;
};

/* Milliseconds spent per stage, for -v and make bench. */
struct timing {
	double load, approvals, eval, ingest, plan, apply, total;
};

/* One request file at the tip. */
struct loaded_request {
	struct repo_entry entry;	/* path, blob */
	int valid;
	struct diag *error;	/* when !valid (a diag is 1.5 KiB: only
				 * invalid requests carry one) */
	struct request req;	/* when valid */
	struct approval appr;	/* when valid */
	struct grant_eval *ev;	/* req.ngrants entries, when valid */
};

struct snapshot {
	char commit[41];
	char *ref;
	int64_t now;
	struct type_info *types;
	size_t ntypes;
	struct config cfg;
	int have_cfg;
	struct policy_set ps;
	struct loaded_request *reqs;
	size_t nreqs;
};

/* Load and evaluate everything at `ref` (NULL: the configured branch).
 * st may be NULL (no caches).  Config or policy errors fail the load;
 * request errors are kept per request. */
int snapshot_load(struct snapshot *s, struct repo *r, const char *ref,
    struct state *st, int64_t now, struct timing *tm, struct diag *err);
void snapshot_release(struct snapshot *s);
/* A request naming a target its platform does not manage is invalid as a
 * whole: -1 with err at the grant's file:line:column. */
int request_check_managed(const struct config *cfg, const struct request *r,
    struct diag *err);
/* The table of connector types, for config_parse. */
struct type_info *snapshot_types(size_t *n);

/* Commands. Each returns an exit code. */
int cmd_validate(const struct opts *o, int argc, char **argv);
int cmd_plan(const struct opts *o, int argc, char **argv);
int cmd_apply(const struct opts *o, int argc, char **argv);
int cmd_run(const struct opts *o, int argc, char **argv);
int cmd_audit(const struct opts *o, int argc, char **argv);
int cmd_inbox(const struct opts *o, int argc, char **argv);
/* cmd_answers.c */
int cmd_access(const struct opts *o, int argc, char **argv);
int cmd_who(const struct opts *o, int argc, char **argv);
int cmd_check(const struct opts *o, int argc, char **argv);
int cmd_identities(const struct opts *o, int argc, char **argv);
int cmd_history(const struct opts *o, int argc, char **argv);
int cmd_review(const struct opts *o, int argc, char **argv);
int cmd_explain(const struct opts *o, int argc, char **argv);
int cmd_report(const struct opts *o, int argc, char **argv);

#endif

/* --- pipeline stages (plan.c, apply.c) --- */
#include "connector.h"
#include "plan.h"
#include "strmap.h"

/* One configured platform during a run. */
struct platform_run {
	const struct platform_cfg *cfg;
	const struct connector_desc *desc;
	struct connector *conn;	/* open while ok */
	struct ingest in;
	int ok;			/* ingest succeeded */
	struct diag err;	/* when !ok */
	char **persons;		/* person each in.idents[i] resolves to, or NULL */
	char **targets;		/* targets named by requests on this platform */
	size_t ntargets;
	/* user idents by lower-cased name and by lower-cased email */
	struct strmap byname, byemail;
};

/* Open every platform's connector and ingest, one thread per platform.
 * A platform that fails is marked !ok (skipped whole, §6). */
void platforms_ingest(struct platform_run **out, size_t *n,
    const struct snapshot *s);
void platforms_close(struct platform_run *pr, size_t n);

/* Index pr->in.idents (by name, by email) for platform_account; done by
 * platforms_ingest, and by callers that fill pr->in from the state. */
void platform_index(struct platform_run *pr);
/* The account a person has on a platform, or NULL.  Borrowed. */
const char *platform_account(const struct platform_run *pr, const char *person);
/*
 * The same from the identities the last run stored: the person they were
 * resolved to, else (a person new since that run) the platform's
 * accounts.match rule applied to its stored user accounts, as the next
 * apply will.  *any: the platform has identities at all.  Allocated.
 */
struct identities;
char *stored_account(const struct identities *ids,
    const struct platform_cfg *pc, const char *platform, const char *person,
    int *any);

struct sgrant;
/* Diff desired (snapshot) against actual (ingest) and accord's records. */
void plan_build(struct plan *p, const struct snapshot *s,
    struct platform_run *pr, size_t npr, const struct sgrant *sg, size_t nsg);

/* Errors of the snapshot (invalid requests, unmanaged targets) as diags. */
struct diag *snapshot_errors(const struct snapshot *s, size_t *n);

/* apply.c */
/* Settle intents left by an interrupted run against fresh ingests. */
void apply_recover(struct state *st, struct platform_run *pr, size_t npr,
    int64_t run, int64_t now);
/* Write `denied` and `invalid` audit rows, once per request blob. */
void apply_decisions(struct state *st, const struct snapshot *s, int64_t run);
/* Apply every change: revokes, then grants, per platform.  Returns the
 * number that failed (no account included). */
size_t apply_plan(struct plan *p, struct state *st, struct platform_run *pr,
    size_t npr, int64_t run, int64_t now);

/* output.c */
struct json_t;
struct json_t *jstr(const char *s);	/* NULL: JSON null */
struct json_t *jtime(int64_t t);	/* RFC 3339, 0: null */
struct json_t *japprovers(const char *csv);	/* "a,b" -> ["a","b"] */
void json_print(struct json_t *doc);	/* indented, to stdout; decrefs */
void csv_field(const char *s);	/* one RFC 4180 field to stdout */
void output_plan(const struct plan *p, const struct snapshot *s,
    const struct diag *errs, size_t nerrs, int applied, const char *refused,
    int json);
