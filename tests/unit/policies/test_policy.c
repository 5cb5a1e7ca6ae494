/* Unit tests for policy loading, rule matching, approvals and expiry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "request.h"
#include "util.h"
#include "../../lib/tap.h"

static const char *const pg_keys[] = { "dsn_env", NULL };
static const char *const pg_kinds[] = { "role", "table", "schema", "database", NULL };
static const struct type_info types[] = {
	{ "postgres", pg_keys, pg_kinds, NULL },
};

static const char cfg_yaml[] =
    "version: 1\n"
    "groups:\n"
    "  data-owners: [bob@example.com, carol@example.com]\n"
    "  security: [\"*@sec.example.com\", bob@example.com]\n"
    "  finance: [erin@example.com]\n"
    "platforms:\n"
    "  warehouse: {type: postgres}\n"
    "  warehouse2: {type: postgres}\n";

static const char warehouse_yaml[] =
    "rules:\n"
    "  - platform: warehouse\n"
    "    targets: [\"table:sales.*\", \"role:analyst_*\"]\n"
    "    privileges: [select, member]\n"
    "    requesters: [\"*@example.com\"]\n"
    "    approvers: [\"group:data-owners\"]\n"
    "    min_approvals: 1\n"
    "    default_duration: 7d\n"
    "    max_duration: 90d\n"
    "  - platform: warehouse\n"
    "    targets: [\"table:finance.*\"]\n"
    "    requesters: [\"group:finance\"]\n"
    "    require:\n"
    "      - {from: [\"group:data-owners\"], min: 1}\n"
    "      - {from: [\"group:security\"]}\n"
    "    max_duration: 14d\n"
    "  - platform: warehouse\n"
    "    targets: \"table:sales.*\"\n"
    "    approvers: [dave@example.com, bob@example.com]\n"
    "    min_approvals: 2\n"
    "  - platform: \"ware*\"\n"
    "    targets: [\"schema:public\"]\n"
    "    min_approvals: 0\n"
    "  - platform: warehouse\n"
    "    targets: [\"table:lab.*\"]\n"
    "    approvers: [\"*@example.com\"]\n"
    "    self_approval: true\n";

static const char deny_yaml[] =
    "rules:\n"
    "  - platform: \"*\"\n"
    "    targets: [\"role:*admin*\", \"table:sales.secret*\"]\n"
    "    deny: true\n";

static struct config cfg;
static struct policy_set ps;

#define DAY 86400
static int64_t T0;	/* approved_at in the evaluation tests */

static int
index_of(const struct rule *r, const char *file)
{
	return r && strcmp(r->file, file) == 0 ? r->index : 0;
}

static void
test_parse(void)
{
	const struct rule *r;

	is_int(ps.nrules, 6, "six rules from two files");
	r = &ps.rules[2];
	is_str(r->file, "policies/warehouse.yaml", "rule file as given");
	is_int(r->index, 3, "index counts from 1 per file");
	is_int(r->line, 17, "rule line");
	is_int(r->column, 5, "rule column");
	is_int(ps.rules[5].index, 1, "index restarts in the next file");
	ok(ps.rules[5].deny, "deny rule");
	r = &ps.rules[0];
	ok(r->nsteps == 1 && r->steps[0].min == 1 && r->steps[0].nfrom == 1,
	    "approvers + min_approvals are one step");
	is_int(r->default_duration, 7 * DAY, "default_duration");
	is_int(r->max_duration, 90 * DAY, "max_duration");
	ok(ps.rules[1].nsteps == 2 && ps.rules[1].steps[1].min == 1,
	    "require steps, min defaults to 1");
	is_int(ps.rules[2].steps[0].min, 2, "min_approvals 2");
	is_int(ps.rules[3].nsteps, 0, "min_approvals: 0 means no step");
	is_str(ps.rules[3].platform, "ware*", "platform glob");
	ok(ps.rules[4].self_approval, "self_approval");
	ok(ps.rules[2].nprivileges == 0 && ps.rules[2].nrequesters == 0,
	    "absent privileges/requesters are empty");
}

static void
policy_fails_at(const char *yaml, int line, int col, const char *part,
    const char *name)
{
	struct diag err;
	char got[2048], want[64];
	size_t before = ps.nrules;
	int rc;

	diag_clear(&err);
	rc = policy_parse(&ps, "policies/bad.yaml", yaml, strlen(yaml), &err);
	diag_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), "policies/bad.yaml:%d:%d: ", line, col);
	ok(rc == -1 && strncmp(got, want, strlen(want)) == 0 &&
	    strstr(got, part) != NULL && ps.nrules == before, "%s", name);
	if (rc == -1 && (strncmp(got, want, strlen(want)) != 0 || !strstr(got, part)))
		printf("#   got: %s\n#   expected: %s...%s\n", got, want, part);
}

#define R "rules:\n  - platform: warehouse\n    targets: [\"role:x\"]\n"

static void
test_parse_errors(void)
{
	policy_fails_at("", 1, 1, "empty", "empty policy file");
	policy_fails_at("rule: []\n", 1, 1, "unknown key 'rule'", "unknown top key");
	policy_fails_at("rules: {a: 1}\n", 1, 8, "must be a list", "rules not a list");
	policy_fails_at(R, 2, 5, "needs 'approvers' or 'require'", "allow rule without approvers");
	policy_fails_at(R "    approver: [a@x.com]\n", 4, 5, "unknown key 'approver' in rule",
	    "unknown rule key");
	policy_fails_at("rules:\n  - platform: warehouse\n    approvers: [a@x.com]\n", 2, 5,
	    "missing required key 'targets'", "targets required");
	policy_fails_at("rules:\n  - platform: warehouse\n    targets: []\n    approvers: [a@x.com]\n",
	    3, 14, "at least one", "targets empty");
	policy_fails_at(R "    approvers: [a@x.com]\n    default_duration: a week\n", 5, 23,
	    "bad default_duration 'a week'", "bad duration");
	policy_fails_at(R "    approvers: [a@x.com]\n    default_duration: 30d\n    max_duration: 7d\n",
	    5, 23, "longer than 'max_duration'", "default longer than max");
	policy_fails_at(R "    deny: true\n    approvers: [a@x.com]\n", 5, 16,
	    "a deny rule takes no 'approvers'", "deny with approvers");
	policy_fails_at(R "    deny: maybe\n", 4, 11, "true or false", "deny not a bool");
	policy_fails_at(R "    approvers: [a@x.com]\n    min_approvals: -1\n", 5, 20,
	    "between 0 and", "negative min_approvals");
	policy_fails_at(R "    min_approvals: 2\n", 4, 20, "needs 'approvers'",
	    "min_approvals without approvers");
	policy_fails_at(R "    require: {from: [a@x.com]}\n", 4, 14, "must be a list",
	    "require not a list");
	policy_fails_at(R "    require:\n      - {from: [a@x.com], count: 2}\n", 5, 27,
	    "unknown key 'count' in require step", "unknown key in a step");
	policy_fails_at(R "    require:\n      - {min: 2}\n", 5, 9, "missing required key 'from'",
	    "step without from");
	policy_fails_at(R "    require:\n      - {from: [a@x.com], min: 0}\n", 5, 32,
	    "between 1 and", "step min at least 1");
	policy_fails_at(R "    approvers: [a@x.com]\n  - platform: warehouse\n    targets: [\"role:y\"]\n",
	    5, 5, "needs 'approvers'", "second rule bad: first not added either");
	{
		struct diag err;
		struct policy_set one = { NULL, 0 };
		const char *y = "rules:\n";

		ok(policy_parse(&one, "policies/empty.yaml", y, strlen(y), &err) == 0 &&
		    one.nrules == 0, "rules: with no list adds nothing");
		policy_set_release(&one);
		policy_set_release(&one);
		policy_set_release(NULL);
	}
}

/* The example of DESIGN §2.3, verbatim. */
static void
test_design_example(void)
{
	static const char y[] =
	    "rules:\n"
	    "  - platform: warehouse\n"
	    "    targets: [\"table:sales.*\", \"role:analyst_*\"]\n"
	    "    privileges: [SELECT, member]\n"
	    "    requesters: [\"*@example.com\"]\n"
	    "    approvers: [\"group:data-owners\"]\n"
	    "    min_approvals: 1\n"
	    "    default_duration: 7d\n"
	    "    max_duration: 90d\n"
	    "  - platform: warehouse\n"
	    "    targets: [\"table:finance.*\"]\n"
	    "    requesters: [\"group:finance\"]\n"
	    "    require:                      # every step must be met; one person\n"
	    "      - {from: [\"group:data-owners\"], min: 1}   # counts in one step only\n"
	    "      - {from: [\"group:security\"], min: 1}\n"
	    "    max_duration: 14d\n"
	    "  - platform: \"*\"\n"
	    "    targets: [\"role:*admin*\"]\n"
	    "    deny: true\n";
	struct policy_set set = { NULL, 0 };
	struct diag err;

	diag_clear(&err);
	if (!ok(policy_parse(&set, "policies/example.yaml", y, strlen(y), &err) == 0,
	    "DESIGN §2.3 example parses"))
		printf("#   %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
	ok(set.nrules == 3 && set.rules[1].nsteps == 2 && set.rules[2].deny,
	    "its rules");
	policy_set_release(&set);
}

static void
test_match(void)
{
	const char *W = "policies/warehouse.yaml", *D = "policies/zz-deny.yaml";

	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.orders", "SELECT",
	    "alice@example.com"), W), 1, "first matching rule decides");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.orders", "Select",
	    "alice@example.com"), W), 1, "privileges compared case-insensitively");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.orders", "INSERT",
	    "alice@example.com"), W), 3, "privilege not listed: next rule in file order");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.orders", "SELECT",
	    "mallory@evil.com"), W), 3, "requester outside the glob: next rule");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.orders", "SELECT",
	    "ALICE@EXAMPLE.COM"), W), 1, "requester glob is case-insensitive");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:sales.secret_pay", "SELECT",
	    "alice@example.com"), D), 1, "deny wins over an earlier allow");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse2", "role:db_admin", "member",
	    "alice@example.com"), D), 1, "deny on any platform");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse", "table:finance.ledger", "SELECT",
	    "Erin@Example.com"), W), 2, "requester via group, case-insensitive");
	ok(policy_match(&ps, &cfg, "warehouse", "table:finance.ledger", "SELECT",
	    "alice@example.com") == NULL, "not in the requesters group: default deny");
	ok(policy_match(&ps, &cfg, "lake", "table:sales.orders", "SELECT",
	    "alice@example.com") == NULL, "unknown platform: default deny");
	ok(policy_match(&ps, &cfg, "warehouse", "table:ops.jobs", "SELECT",
	    "alice@example.com") == NULL, "no target matches: default deny");
	is_int(index_of(policy_match(&ps, &cfg, "warehouse2", "schema:public", "USAGE",
	    "x@y.org"), W), 4, "platform glob");
	ok(policy_match(&ps, &cfg, "Warehouse2", "schema:public", "USAGE", "x@y.org") == NULL,
	    "platform glob is case-sensitive");
	ok(policy_match(&ps, &cfg, "warehouse", "Table:sales.orders", "SELECT",
	    "alice@example.com") == NULL, "target glob is case-sensitive");
	ok(policy_match(NULL, &cfg, "warehouse", "table:sales.orders", "SELECT", "a@b.c") == NULL,
	    "no policies: default deny");
}

static void
test_approvals(void)
{
	const struct rule *one = &ps.rules[0], *two = &ps.rules[2];
	const struct rule *steps = &ps.rules[1], *self = &ps.rules[4];
	char *bob[] = { "bob@example.com" };
	char *bob2[] = { "bob@example.com", "BOB@example.com" };
	char *bob_dave[] = { "bob@example.com", "dave@example.com" };
	char *alice[] = { "alice@example.com" };
	char *bob_carol[] = { "bob@example.com", "carol@example.com" };
	char *carol_sec[] = { "carol@example.com", "x@sec.example.com" };
	char *carol_dave[] = { "carol@example.com", "dave@example.com" };
	const char *req = "alice@example.com";

	is_int(policy_missing_approvals(one, &cfg, req, NULL, 0), 1, "nobody approved: 1 missing");
	is_int(policy_missing_approvals(one, &cfg, req, bob, 1), 0, "group member approves");
	is_int(policy_missing_approvals(one, &cfg, req, alice, 1), 1, "outsider does not count");
	is_int(policy_missing_approvals(two, &cfg, req, bob, 1), 1, "min_approvals 2: one short");
	is_int(policy_missing_approvals(two, &cfg, req, bob2, 2), 1, "same person twice counts once");
	is_int(policy_missing_approvals(two, &cfg, req, bob_dave, 2), 0, "min_approvals 2 met");
	is_int(policy_missing_approvals(one, &cfg, "bob@example.com", bob, 1), 1,
	    "requester's own approval refused");
	is_int(policy_missing_approvals(self, &cfg, "alice@example.com", alice, 1), 0,
	    "self_approval: true counts the requester");
	is_int(policy_missing_approvals(steps, &cfg, "erin@example.com", NULL, 0), 2,
	    "two steps, nobody: 2 missing");
	is_int(policy_missing_approvals(steps, &cfg, "erin@example.com", bob, 1), 1,
	    "one person in both groups fills one step only");
	is_int(policy_missing_approvals(steps, &cfg, "erin@example.com", bob_carol, 2), 0,
	    "two people fill both steps (bob moved to security)");
	is_int(policy_missing_approvals(steps, &cfg, "erin@example.com", carol_sec, 2), 0,
	    "owner plus security glob");
	is_int(policy_missing_approvals(steps, &cfg, "erin@example.com", carol_dave, 2), 1,
	    "security step unmet");
	is_int(policy_missing_approvals(&ps.rules[3], &cfg, req, NULL, 0), 0,
	    "min_approvals: 0 needs nobody");
}

static void
mkreq(struct request *r, const char *yaml)
{
	struct diag err;

	if (request_parse(r, "requests/x.yaml", yaml, strlen(yaml), &cfg, &err) == -1) {
		printf("# request: %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
		exit(1);
	}
}

/* Evaluate the one-grant request `yaml` approved at T0 by `who`. */
static struct grant_eval
eval1(const char *yaml, char **who, size_t n, int64_t now, int merged)
{
	struct request r;
	struct approval a;
	struct grant_eval ev;

	mkreq(&r, yaml);
	memset(&a, 0, sizeof(a));
	a.approved_at = T0;
	a.approvers = who;
	a.napprovers = n;
	policy_eval(&ev, &ps, &cfg, &r, merged ? &a : NULL, now);
	request_release(&r);
	return ev;
}

#define ALICE "requester: alice@example.com\nreason: r\n"
#define SALES "grants:\n  - {platform: warehouse, target: table:sales.orders, privilege: select}\n"

static void
test_eval(void)
{
	char *alice_bob[] = { "alice@example.com", "bob@example.com" };
	char *alice[] = { "alice@example.com" };
	char *bob[] = { "bob@example.com" };
	char *bob_carol[] = { "bob@example.com", "carol@example.com" };
	char *bob_dave[] = { "bob@example.com", "dave@example.com" };
	struct request r;
	struct grant_eval ev[3], e;

	time_parse(&T0, "2026-11-01T00:00:00Z");
	mkreq(&r, ALICE "duration: 30d\ngrants:\n"
	    "  - {platform: warehouse, target: table:sales.orders, privilege: select}\n"
	    "  - {platform: warehouse, target: table:ops.jobs, privilege: select}\n"
	    "  - {platform: warehouse, target: role:analyst_admin}\n");

	policy_eval(ev, &ps, &cfg, &r, NULL, T0);
	is_int(ev[0].status, GS_PENDING, "not merged: pending");
	is_int(ev[0].needed, 1, "needed on an empty set");
	is_str(ev[0].why, "allowed by policies/warehouse.yaml#1, not merged yet, needs 1 "
	    "approval from group:data-owners", "pending why");
	is_int(ev[1].status, GS_DENIED, "default deny");
	ok(ev[1].rule == NULL, "default deny has no rule");
	is_str(ev[1].why, "no policy rule allows platform warehouse target table:ops.jobs "
	    "privilege SELECT for alice@example.com (default deny)", "default deny why");
	is_int(ev[2].status, GS_DENIED, "deny rule");
	is_str(ev[2].why, "denied by policies/zz-deny.yaml#1", "deny why");
	policy_eval_release(ev, 3);

	{
		struct approval a = { "c0ffee", T0, alice, 1 };

		policy_eval(ev, &ps, &cfg, &r, &a, T0 + DAY);
		is_int(ev[0].status, GS_PENDING, "self-approval refused");
		is_int(ev[0].napprovers, 0, "requester not counted");
		ok(strstr(ev[0].why, "needs 1 approval from group:data-owners") &&
		    strstr(ev[0].why, "requester cannot approve"), "why says the requester cannot approve");
		policy_eval_release(ev, 3);

		a.approvers = alice_bob;
		a.napprovers = 2;
		policy_eval(ev, &ps, &cfg, &r, &a, T0 + DAY);
		is_int(ev[0].status, GS_ACTIVE, "approved by an owner: active");
		ok(ev[0].napprovers == 1 && strcmp(ev[0].approvers[0], "bob@example.com") == 0,
		    "counted approvers exclude the requester");
		is_int(ev[0].expires_at, T0 + 30 * DAY, "duration from approval");
		is_str(ev[0].why, "allowed by policies/warehouse.yaml#1, approved by bob@example.com, "
		    "expires 2026-12-01T00:00:00Z", "active why");
		is_int(ev[1].status, GS_DENIED, "approval does not override default deny");
		is_int(ev[2].status, GS_DENIED, "approval does not override a deny rule");
		policy_eval_release(ev, 3);

		policy_eval(ev, &ps, &cfg, &r, &a, T0 + 30 * DAY - 1);
		is_int(ev[0].status, GS_ACTIVE, "active one second before expiry");
		policy_eval_release(ev, 3);
		policy_eval(ev, &ps, &cfg, &r, &a, T0 + 30 * DAY);
		is_int(ev[0].status, GS_EXPIRED, "expired at exactly expires_at");
		ok(strstr(ev[0].why, "expired 2026-12-01T00:00:00Z") != NULL, "expired why");
		policy_eval_release(ev, 3);
	}
	request_release(&r);

	e = eval1(ALICE "duration: 30d\nexpires: 2026-11-11T00:00:00Z\n" SALES, bob, 1, T0, 1);
	is_int(e.expires_at, T0 + 10 * DAY, "expires earlier than duration wins");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "duration: 5d\nexpires: 2026-11-11T00:00:00Z\n" SALES, bob, 1, T0, 1);
	is_int(e.expires_at, T0 + 5 * DAY, "duration earlier than expires wins");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "duration: 200d\n" SALES, bob, 1, T0, 1);
	is_int(e.expires_at, T0 + 90 * DAY, "max_duration caps duration");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "expires: 2028-01-01T00:00:00Z\n" SALES, bob, 1, T0, 1);
	is_int(e.expires_at, T0 + 90 * DAY, "max_duration caps expires");
	policy_eval_release(&e, 1);
	e = eval1(ALICE SALES, bob, 1, T0, 1);
	is_int(e.expires_at, T0 + 7 * DAY, "default_duration without duration or expires");
	policy_eval_release(&e, 1);

	e = eval1(ALICE "grants:\n  - {platform: warehouse, target: schema:public, privilege: usage}\n",
	    NULL, 0, T0 + 400 * DAY, 1);
	is_int(e.status, GS_ACTIVE, "no approval needed: active once merged");
	is_int(e.expires_at, 0, "permanent");
	is_str(e.why, "allowed by policies/warehouse.yaml#4, no approval needed, no expiry",
	    "permanent why");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "grants:\n  - {platform: warehouse, target: schema:public, privilege: usage}\n",
	    NULL, 0, T0, 0);
	ok(e.status == GS_PENDING && e.needed == 0, "no approval needed, but not merged: pending");
	policy_eval_release(&e, 1);

	e = eval1(ALICE "starts: 2026-11-06T00:00:00Z\nduration: 2d\n" SALES, bob, 1, T0 + DAY, 1);
	is_int(e.status, GS_NOT_STARTED, "starts in the future");
	is_int(e.expires_at, T0 + 7 * DAY, "duration counts from the start");
	ok(strstr(e.why, "starts 2026-11-06T00:00:00Z") != NULL, "not started why");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "starts: 2026-11-06T00:00:00Z\nduration: 2d\n" SALES, bob, 1, T0 + 5 * DAY, 1);
	is_int(e.status, GS_ACTIVE, "active at exactly starts");
	policy_eval_release(&e, 1);
	e = eval1(ALICE "starts: 2026-10-01T00:00:00Z\nduration: 2d\n" SALES, bob, 1, T0 + DAY, 1);
	ok(e.status == GS_ACTIVE && e.expires_at == T0 + 2 * DAY,
	    "start before approval: window starts at approval");
	policy_eval_release(&e, 1);

	e = eval1("requester: erin@example.com\nreason: r\ngrants:\n"
	    "  - {platform: warehouse, target: table:finance.ledger, privilege: select}\n",
	    bob, 1, T0, 1);
	is_int(e.status, GS_PENDING, "two-step: one person is not enough");
	is_int(e.needed, 1, "one more needed");
	ok(strstr(e.why, "needs 1 more approval from group:") != NULL, "why names how many and from whom");
	policy_eval_release(&e, 1);
	e = eval1("requester: erin@example.com\nreason: r\ngrants:\n"
	    "  - {platform: warehouse, target: table:finance.ledger, privilege: select}\n",
	    bob_carol, 2, T0, 1);
	is_int(e.status, GS_ACTIVE, "two-step: two people suffice");
	is_int(e.expires_at, T0 + 14 * DAY, "max_duration bounds a request without duration");
	policy_eval_release(&e, 1);
	e = eval1("requester: erin@example.com\nreason: r\ngrants:\n"
	    "  - {platform: warehouse, target: table:finance.ledger, privilege: select}\n",
	    NULL, 0, T0, 0);
	is_str(e.why, "allowed by policies/warehouse.yaml#2, not merged yet, needs 2 approvals: "
	    "1 from group:data-owners, 1 from group:security", "two-step pending why");
	policy_eval_release(&e, 1);

	e = eval1("requester: mallory@evil.com\nreason: r\n" SALES, bob, 1, T0, 1);
	is_int(e.status, GS_PENDING, "min_approvals 2 with one approver: pending");
	is_str(e.why, "allowed by policies/warehouse.yaml#3, needs 1 more approval from "
	    "dave@example.com or bob@example.com", "min_approvals why");
	policy_eval_release(&e, 1);
	e = eval1("requester: mallory@evil.com\nreason: r\n" SALES, bob_dave, 2, T0, 1);
	ok(e.status == GS_ACTIVE && e.expires_at == 0, "min_approvals 2 met, permanent");
	ok(strstr(e.why, "approved by bob@example.com, dave@example.com") != NULL, "both named");
	policy_eval_release(&e, 1);

	e = eval1(ALICE "grants:\n  - {platform: warehouse, target: table:lab.x, privilege: select}\n",
	    alice, 1, T0, 1);
	ok(e.status == GS_ACTIVE && e.napprovers == 1, "self_approval: true counts the requester");
	policy_eval_release(&e, 1);
	policy_eval_release(NULL, 0);

	is_str(grant_status_names[GS_NOT_STARTED], "not_started", "status names");
	is_str(grant_status_names[GS_DENIED], "denied", "status names end");
}

int
main(void)
{
	struct diag err;

	if (config_parse(&cfg, "accord.yaml", cfg_yaml, strlen(cfg_yaml), types, 1, &err) == -1 ||
	    policy_parse(&ps, "policies/warehouse.yaml", warehouse_yaml, strlen(warehouse_yaml),
	    &err) == -1 ||
	    policy_parse(&ps, "policies/zz-deny.yaml", deny_yaml, strlen(deny_yaml), &err) == -1) {
		printf("# setup: %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
		return 1;
	}
	test_parse();
	test_parse_errors();
	test_design_example();
	test_match();
	test_approvals();
	test_eval();
	policy_set_release(&ps);
	config_release(&cfg);
	return tap_done();
}
