/* Unit tests for request files: checks, marks, and the JSON cache form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "request.h"
#include "util.h"
#include "../../lib/tap.h"

static int
pg_check(const char *target, char *why, size_t whysz)
{
	if (strncmp(target, "table:", 6) == 0 && strchr(target + 6, '.') == NULL) {
		snprintf(why, whysz, "a table is named SCHEMA.NAME");
		return -1;
	}
	return 0;
}

static const char *const pg_keys[] = { "dsn_env", NULL };
static const char *const pg_kinds[] = { "role", "table", "schema", "database", NULL };
static const char *const scim_kinds[] = { "group", NULL };
static const char *const sf_kinds[] = { "role", "table", "warehouse", NULL };
static const struct type_info types[] = {
	{ "postgres", pg_keys, pg_kinds, pg_check },
	{ "scim", NULL, scim_kinds, NULL },
	{ "snowflake", NULL, sf_kinds, NULL },
};

static const char cfg_yaml[] =
    "version: 1\n"
    "platforms:\n"
    "  warehouse: {type: postgres, dsn_env: DSN}\n"
    "  idp: {type: scim}\n"
    "  snowflake: {type: snowflake}\n";

static struct config cfg;

static const char good[] =
    "requester: Alice@Example.com\n"
    "reason: Q4 revenue analysis\n"
    "duration: 30d\n"
    "starts: 2026-12-01T09:00:00Z\n"
    "expires: 2027-01-31T00:00:00Z\n"
    "break_glass: true\n"
    "grants:\n"
    "  - platform: warehouse\n"
    "    target: table:sales.orders\n"
    "    privilege: select\n"
    "  - platform: warehouse\n"
    "    target: role:analyst_sales\n"
    "  - platform: idp\n"
    "    target: group:finance\n"
    "    grantee: role:FINANCE_APP\n"
    "  - platform: warehouse\n"
    "    target: table:sales.orders\n"
    "    privilege: Member\n"
    "    grantee: service:etl\n";

static int
parse(struct request *r, const char *yaml, struct diag *err)
{
	return request_parse(r, "requests/alice/q4.yaml", yaml, strlen(yaml),
	    &cfg, err);
}

static void
fails_at(const char *yaml, int line, int col, const char *part,
    const char *name)
{
	struct request r;
	struct diag err;
	char got[2048], want[96];
	int rc;

	diag_clear(&err);
	rc = parse(&r, yaml, &err);
	diag_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), "requests/alice/q4.yaml:%d:%d: ", line, col);
	ok(rc == -1 && strncmp(got, want, strlen(want)) == 0 &&
	    strstr(got, part) != NULL, "%s", name);
	if (rc == 0)
		request_release(&r);
	else if (strncmp(got, want, strlen(want)) != 0 || !strstr(got, part))
		printf("#   got: %s\n#   expected: %s...%s\n", got, want, part);
}

#define HEAD "requester: a@x.com\nreason: r\ngrants:\n"

static void
test_good(void)
{
	struct request r;
	struct diag err;
	int64_t t;

	diag_clear(&err);
	if (!ok(parse(&r, good, &err) == 0, "good request parses"))
		printf("#   %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
	is_str(r.path, "requests/alice/q4.yaml", "path kept");
	is_str(r.blob, "", "no blob outside git");
	is_str(r.requester, "alice@example.com", "requester lower-cased");
	is_str(r.reason, "Q4 revenue analysis", "reason");
	is_int(r.duration, 30 * 86400, "duration");
	time_parse(&t, "2026-12-01T09:00:00Z");
	is_int(r.starts, t, "starts");
	time_parse(&t, "2027-01-31T00:00:00Z");
	is_int(r.expires, t, "duration and expires together");
	is_int(r.break_glass, 1, "break_glass stored");
	if (!is_int(r.ngrants, 4, "four grants")) {
		request_release(&r);
		return;
	}
	is_str(r.grants[0].privilege, "SELECT", "privilege upper-cased");
	is_int(r.grants[0].line, 8, "grant line");
	is_int(r.grants[0].column, 5, "grant column");
	ok(r.grants[0].grantee == NULL, "no grantee: the requester");
	is_str(r.grants[1].privilege, "member", "role defaults to member");
	is_str(r.grants[2].platform, "idp", "platform");
	is_str(r.grants[2].privilege, "member", "group defaults to member");
	is_str(r.grants[2].grantee, "role:FINANCE_APP", "grantee");
	is_str(r.grants[3].privilege, "member", "member stays lower-case");
	is_int(r.grants[3].line, 16, "fourth grant line");
	request_release(&r);
	request_release(&r);
	request_release(NULL);

	ok(parse(&r, HEAD "  - {platform: warehouse, target: database:crm, privilege: connect}\n"
	    "  - {platform: warehouse, target: database:crm, privilege: connect, grantee: role:app}\n",
	    &err) == 0 && r.ngrants == 2 && r.duration == 0 && r.expires == 0 &&
	    r.starts == 0 && r.break_glass == 0,
	    "minimal request; same target for another grantee is not a duplicate");
	request_release(&r);
}

/* The example of DESIGN §2.2, verbatim. */
static void
test_design_example(void)
{
	static const char y[] =
	    "requester: alice@example.com\n"
	    "reason: Q4 revenue analysis\n"
	    "duration: 30d                     # or expires: 2027-01-31T00:00:00Z\n"
	    "starts: 2026-12-01T09:00:00Z      # optional\n"
	    "grants:\n"
	    "  - platform: warehouse\n"
	    "    target: table:sales.orders\n"
	    "    privilege: SELECT\n"
	    "  - platform: warehouse\n"
	    "    target: role:analyst_sales    # role membership: privilege defaults to member\n"
	    "  - platform: snowflake\n"
	    "    target: role:REPORTING\n"
	    "    grantee: role:FINANCE_APP     # optional: share with a role/group/service\n"
	    "                                  # account instead of the requester\n";
	struct request r;
	struct diag err;

	diag_clear(&err);
	if (!ok(parse(&r, y, &err) == 0, "DESIGN §2.2 example parses"))
		printf("#   %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
	else {
		ok(r.ngrants == 3 && strcmp(r.grants[2].grantee, "role:FINANCE_APP") == 0 &&
		    strcmp(r.grants[1].privilege, "member") == 0, "its grants");
		request_release(&r);
	}
}

static void
test_errors(void)
{
	fails_at("", 1, 1, "empty", "empty file");
	fails_at("requester: a@x.com\nreason: r\nreasons: x\ngrants: []\n", 3, 1,
	    "unknown key 'reasons'", "unknown key");
	fails_at(HEAD "  - platform: warehouse\n    target: role:x\n    privlege: SELECT\n", 6, 5,
	    "unknown key 'privlege' in grant", "unknown key in a grant");
	fails_at("requester: a@x.com\nreason: [a]\ngrants: []\n", 2, 9,
	    "'reason' must be a string", "wrong type");
	fails_at("reason: r\ngrants:\n  - {platform: warehouse, target: role:x}\n", 1, 1,
	    "missing required key 'requester'", "missing requester");
	fails_at("requester: alice\nreason: r\ngrants:\n  - {platform: warehouse, target: role:x}\n",
	    1, 12, "not an email", "requester must be an email");
	fails_at("requester: a@x.com\nreason: ''\ngrants:\n  - {platform: warehouse, target: role:x}\n",
	    2, 9, "must not be empty", "empty reason");
	fails_at("requester: a@x.com\nreason: r\nduration: 30 days\ngrants:\n"
	    "  - {platform: warehouse, target: role:x}\n", 3, 11, "bad duration '30 days'", "bad duration");
	fails_at("requester: a@x.com\nreason: r\nexpires: tomorrow\ngrants:\n"
	    "  - {platform: warehouse, target: role:x}\n", 3, 10, "bad time 'tomorrow'", "bad expires time");
	fails_at("requester: a@x.com\nreason: r\nstarts: 2026-13-01T00:00:00Z\ngrants:\n"
	    "  - {platform: warehouse, target: role:x}\n", 3, 9, "bad time", "bad starts time");
	fails_at("requester: a@x.com\nreason: r\nstarts: 2027-01-01\nexpires: 2026-12-01\ngrants:\n"
	    "  - {platform: warehouse, target: role:x}\n", 4, 10, "not after 'starts'", "expires before starts");
	fails_at("requester: a@x.com\nreason: r\nbreak_glass: yes\ngrants:\n"
	    "  - {platform: warehouse, target: role:x}\n", 3, 14, "true or false", "break_glass is a bool");
	fails_at("requester: a@x.com\nreason: r\n", 1, 1, "'grants'", "grants required");
	fails_at(HEAD, 3, 1, "", "grants null");
	fails_at("requester: a@x.com\nreason: r\ngrants: []\n", 3, 9, "non-empty list", "empty grants");
	fails_at(HEAD "  - warehouse\n", 4, 5, "grant must be a map", "grant not a map");
	fails_at(HEAD "  - platform: lake\n    target: role:x\n", 4, 15,
	    "unknown platform 'lake' (configured: warehouse, idp, snowflake)", "unknown platform");
	fails_at(HEAD "  - target: role:x\n", 4, 5, "missing required key 'platform'", "platform required");
	fails_at(HEAD "  - platform: warehouse\n    target: view:x\n", 5, 13,
	    "no target kind 'view' (kinds: role, table, schema, database)", "unknown target kind");
	fails_at(HEAD "  - platform: idp\n    target: role:x\n", 5, 13,
	    "platform idp (scim) has no target kind 'role'", "kind of another platform's type");
	fails_at(HEAD "  - platform: warehouse\n    target: analyst\n", 5, 13,
	    "kind:name", "target without kind");
	fails_at(HEAD "  - platform: warehouse\n    target: table:sales.*\n    privilege: SELECT\n",
	    5, 13, "without wildcards", "glob in a request target");
	fails_at(HEAD "  - platform: warehouse\n    target: table:orders\n    privilege: SELECT\n",
	    5, 13, "a table is named SCHEMA.NAME", "connector's target check");
	fails_at(HEAD "  - platform: warehouse\n    target: table:sales.orders\n", 4, 5,
	    "needs a 'privilege'", "privilege required for a table");
	fails_at(HEAD "  - platform: warehouse\n    target: table:s.t\n    privilege: \"SELECT; DROP\"\n",
	    6, 16, "bad privilege", "privilege characters");
	fails_at(HEAD "  - platform: idp\n    target: group:g\n    grantee: FINANCE\n", 6, 14,
	    "grantee 'FINANCE' must be kind:name", "grantee without kind");
	fails_at(HEAD "  - platform: warehouse\n    target: table:s.t\n    privilege: select\n"
	    "  - platform: warehouse\n    target: table:s.t\n    privilege: SELECT\n", 7, 5,
	    "duplicate grant (same as line 4)", "duplicate grant at the second");
	fails_at(HEAD "  - {platform: warehouse, target: role:x}\n  - {platform: warehouse, target: role:x, privilege: member}\n",
	    5, 5, "duplicate grant", "implied member equals explicit member");
}

static void
test_json(void)
{
	struct request r, back;
	struct diag err;
	char *js, *js2;
	size_t i;
	int same;

	if (!ok(parse(&r, good, &err) == 0, "parse for JSON"))
		return;
	memcpy(r.blob, "0123456789abcdef0123456789abcdef01234567", 41);
	js = request_to_json(&r);
	ok(strchr(js, '\n') == NULL && strstr(js, "\"line\":8") != NULL &&
	    strstr(js, "\"column\":5") != NULL, "compact JSON with grant marks");
	if (!ok(request_from_json(&back, js, &err) == 0, "JSON parses back")) {
		printf("#   %s\n", err.msg);
		free(js);
		request_release(&r);
		return;
	}
	same = strcmp(back.path, r.path) == 0 && strcmp(back.blob, r.blob) == 0 &&
	    strcmp(back.requester, r.requester) == 0 &&
	    strcmp(back.reason, r.reason) == 0 && back.duration == r.duration &&
	    back.expires == r.expires && back.starts == r.starts &&
	    back.break_glass == r.break_glass && back.ngrants == r.ngrants;
	for (i = 0; same && i < r.ngrants; i++) {
		const struct grant_req *a = &r.grants[i], *b = &back.grants[i];

		same = strcmp(a->platform, b->platform) == 0 &&
		    strcmp(a->target, b->target) == 0 &&
		    strcmp(a->privilege, b->privilege) == 0 &&
		    (a->grantee ? b->grantee && strcmp(a->grantee, b->grantee) == 0 :
		    b->grantee == NULL) && a->line == b->line && a->column == b->column;
	}
	ok(same, "round trip keeps every field");
	js2 = request_to_json(&back);
	is_str(js2, js, "second serialisation identical");
	free(js);
	free(js2);
	request_release(&back);
	request_release(&r);

	ok(request_from_json(&back, "not json", &err) == -1 &&
	    strstr(err.msg, "cached request") != NULL, "bad JSON refused");
	ok(request_from_json(&back, "[]", &err) == -1, "array refused");
	ok(request_from_json(&back, "{\"requester\":\"a@x\",\"reason\":\"r\",\"duration\":0,"
	    "\"expires\":0,\"starts\":0,\"break_glass\":false}", &err) == -1 &&
	    strstr(err.msg, "grants") != NULL, "missing grants refused");
	ok(request_from_json(&back, "{\"requester\":\"a@x\",\"reason\":\"r\",\"duration\":0,"
	    "\"expires\":0,\"starts\":0,\"break_glass\":false,\"grants\":[{\"platform\":\"w\","
	    "\"target\":\"role:x\",\"privilege\":7,\"line\":1,\"column\":1}]}", &err) == -1 &&
	    strstr(err.msg, "privilege") != NULL, "wrong grant field type refused");
	ok(back.grants == NULL && back.requester == NULL, "failed load leaves nothing");
}

int
main(void)
{
	struct diag err;

	if (config_parse(&cfg, "accord.yaml", cfg_yaml, strlen(cfg_yaml), types,
	    3, &err) == -1) {
		printf("# config: %s\n", err.msg);
		return 1;
	}
	test_good();
	test_design_example();
	test_errors();
	test_json();
	config_release(&cfg);
	return tap_done();
}
