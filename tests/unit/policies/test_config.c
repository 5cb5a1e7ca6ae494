/* Unit tests for accord.yaml loading and person/target/account matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "../../lib/tap.h"

static const char *const pg_keys[] = { "dsn_env", NULL };
static const char *const pg_kinds[] = { "role", "table", "schema", "database", NULL };
static const char *const scim_keys[] = { "token_env", NULL };
static const char *const scim_kinds[] = { "group", NULL };
static const char *const sf_keys[] = {
	"account", "user", "role", "warehouse", "auth", "private_key_file",
	"token_env", NULL
};
static const char *const sf_kinds[] = {
	"role", "table", "schema", "database", "warehouse", NULL
};
static const struct type_info types[] = {
	{ "postgres", pg_keys, pg_kinds, NULL },
	{ "scim", scim_keys, scim_kinds, NULL },
	{ "snowflake", sf_keys, sf_kinds, NULL },
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const char good[] =
    "version: 1\n"
    "branch: live\n"
    "groups:\n"
    "  data-owners: [bob@example.com, Carol@Example.com]\n"
    "  security: [\"*@sec.example.com\"]\n"
    "  oncall: dave@example.com\n"
    "platforms:\n"
    "  warehouse:\n"
    "    type: postgres\n"
    "    dsn_env: WAREHOUSE_DSN\n"
    "    managed: [\"role:analyst_*\", \"table:sales.*\"]\n"
    "    protected_accounts: [postgres, etl_service]\n"
    "    drift: report\n"
    "    accounts:\n"
    "      match: email-local\n"
    "      map: {Alice@Example.com: alice_w}\n"
    "  idp:\n"
    "    type: scim\n"
    "    url: http://127.0.0.1:8080/scim/v2\n"
    "    token_env: IDP_TOKEN\n"
    "    timeout: 30s\n"
    "    concurrency: 4\n"
    "    managed: \"group:*\"\n"
    "    accounts: {match: email}\n"
    "notify:\n"
    "  slack: {webhook_env: SLACK_WEBHOOK_URL}\n"
    "safety:\n"
    "  max_revoke: 10\n";

static int
parse(struct config *c, const char *yaml, struct diag *err)
{
	return config_parse(c, "accord.yaml", yaml, strlen(yaml), types, NTYPES,
	    err);
}

/* Parsing must fail with "accord.yaml:LINE:COL: ..." containing `part`. */
static void
fails_at(const char *yaml, int line, int col, const char *part,
    const char *name)
{
	struct config c;
	struct diag err;
	char got[2048], want[64];
	int rc;

	diag_clear(&err);
	rc = parse(&c, yaml, &err);
	diag_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), "accord.yaml:%d:%d: ", line, col);
	ok(rc == -1 && strncmp(got, want, strlen(want)) == 0 &&
	    strstr(got, part) != NULL, "%s", name);
	if (rc == 0)
		config_release(&c);
	else if (strncmp(got, want, strlen(want)) != 0 || !strstr(got, part))
		printf("#   got: %s\n#   expected: %s...%s\n", got, want, part);
	/* On failure there is nothing to release; cfg reads as empty. */
	if (rc == -1)
		ok(c.platforms == NULL && c.doc.root == NULL, "%s: cfg left empty",
		    name);
}

static void
test_good(void)
{
	struct config c;
	struct diag err;
	const struct platform_cfg *w, *idp;
	const struct group *g;

	diag_clear(&err);
	if (!ok(parse(&c, good, &err) == 0, "good config parses"))
		printf("#   %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
	is_int(c.version, 1, "version");
	is_str(c.branch, "live", "branch");
	is_int(c.max_revoke, 10, "safety.max_revoke");
	ok(c.notify != NULL && yml_get(c.notify, "slack") != NULL, "notify kept as a node");
	is_int(c.ngroups, 3, "three groups");
	g = config_group(&c, "oncall");
	ok(g && g->n == 1 && strcmp(g->members[0], "dave@example.com") == 0,
	    "a single string is a one-member group");
	ok(config_group(&c, "nobody") == NULL, "unknown group is NULL");

	is_int(c.nplatforms, 2, "two platforms");
	w = config_platform(&c, "warehouse");
	idp = config_platform(&c, "idp");
	ok(config_platform(&c, "lake") == NULL, "unknown platform is NULL");
	if (w == NULL || idp == NULL) {
		ok(0, "platforms found");
		config_release(&c);
		return;
	}
	ok(w->ti == &types[0] && strcmp(w->type, "postgres") == 0, "type resolved to the table entry");
	is_int(w->line, 8, "platform line");
	is_int(w->column, 3, "platform column");
	ok(w->node && yml_get(w->node, "dsn_env") != NULL, "platform node borrowed from doc");
	is_int(w->nmanaged, 2, "managed list");
	is_str(w->managed[1], "table:sales.*", "managed entry");
	is_int(w->drift, DRIFT_REPORT, "drift report");
	is_int(w->match, MATCH_EMAIL_LOCAL, "accounts.match");
	is_int(w->nmap, 1, "accounts.map");
	is_str(w->map[0].person, "alice@example.com", "map keys lower-cased");
	is_str(w->map[0].account, "alice_w", "map account");
	is_int(idp->drift, DRIFT_ENFORCE, "drift defaults to enforce");
	is_int(idp->match, MATCH_EMAIL, "match email");
	is_int(idp->nmanaged, 1, "single managed string");
	is_str(drift_mode_names[DRIFT_REPORT], "report", "drift names");
	is_str(account_match_names[MATCH_EMAIL_LOCAL], "email-local", "match names");

	/* matching */
	{
		char *owners[] = { "group:data-owners" };
		char *sec[] = { "group:security" };
		char *glob[] = { "*@example.com" };
		char *ghost[] = { "group:ghosts", "erin@example.com" };

		ok(config_person_matches(&c, owners, 1, "bob@example.com"), "group member");
		ok(config_person_matches(&c, owners, 1, "CAROL@example.COM"), "group member, case-insensitive");
		ok(!config_person_matches(&c, owners, 1, "dave@example.com"), "not a member");
		ok(config_person_matches(&c, sec, 1, "eve@SEC.example.com"), "glob member of a group");
		ok(!config_person_matches(&c, sec, 1, "eve@example.com"), "glob member does not over-match");
		ok(config_person_matches(&c, glob, 1, "Zed@Example.COM"), "email glob, case-insensitive");
		ok(!config_person_matches(&c, glob, 1, "zed@example.org"), "email glob misses");
		ok(!config_person_matches(&c, ghost, 1, "bob@example.com"), "unknown group matches nobody");
		ok(config_person_matches(&c, ghost, 2, "ERIN@example.com"), "later pattern still tried");
		ok(!config_person_matches(&c, glob, 1, NULL), "NULL person matches nothing");
	}
	ok(config_is_managed(w, "table:sales.orders"), "managed glob");
	ok(config_is_managed(w, "role:analyst_eu"), "managed role glob");
	ok(!config_is_managed(w, "table:finance.ledger"), "unmanaged table");
	ok(!config_is_managed(w, "Table:sales.orders"), "managed kind is case-sensitive");
	ok(config_is_protected(w, "postgres"), "protected account");
	ok(config_is_protected(w, "role:etl_service"), "protected without kind prefix");
	ok(!config_is_protected(w, "alice"), "unprotected account");
	ok(!config_is_protected(w, "etl_service2"), "protected is a whole-name match");
	config_release(&c);
	config_release(&c);	/* released twice: harmless */
	config_release(NULL);
}

/* The example of DESIGN §2.1, verbatim. */
static const char design[] =
    "version: 1\n"
    "branch: main                      # the branch whose tip is the desired state\n"
    "groups:                           # named sets of people (emails or globs)\n"
    "  data-owners: [bob@example.com, carol@example.com]\n"
    "  oncall: [dave@example.com]\n"
    "platforms:\n"
    "  warehouse:                      # platform name used in requests\n"
    "    type: postgres                # connector type\n"
    "    dsn_env: WAREHOUSE_DSN        # secrets only ever come from env or files\n"
    "    managed: [\"role:analyst_*\", \"table:sales.*\"]   # targets accord owns\n"
    "    protected_accounts: [postgres, etl_service]    # never touched\n"
    "    drift: enforce                # enforce: revoke unrequested grants on\n"
    "                                  # managed targets; report: only list them\n"
    "    accounts:                     # person -> platform account\n"
    "      match: email-local          # email | email-local | map\n"
    "      map: {alice@example.com: alice_w}\n"
    "  snowflake:\n"
    "    type: snowflake\n"
    "    url: https://xy12345.snowflakecomputing.com   # tests point this at loopback\n"
    "    token_env: SNOWFLAKE_TOKEN\n"
    "    managed: [\"role:*\"]\n"
    "notify:\n"
    "  slack: {webhook_env: SLACK_WEBHOOK_URL}\n"
    "  email: {smtp_url: \"smtp://127.0.0.1:2525\", from: accord@example.com}\n"
    "safety:\n"
    "  max_revoke: 50                  # refuse a run that would revoke more (§6)\n";

static void
test_design_example(void)
{
	struct config c;
	struct diag err;

	diag_clear(&err);
	if (!ok(parse(&c, design, &err) == 0, "DESIGN §2.1 example parses"))
		printf("#   %s:%d:%d: %s\n", err.file, err.line, err.column, err.msg);
	else {
		ok(c.nplatforms == 2 && c.platforms[1].ti == &types[2] &&
		    c.platforms[0].drift == DRIFT_ENFORCE, "its platforms");
		config_release(&c);
	}
}

static void
test_defaults(void)
{
	struct config c;
	struct diag err;
	const char *y = "version: 1\nplatforms:\n  wh:\n    type: postgres\n";

	ok(parse(&c, y, &err) == 0, "minimal config parses");
	is_str(c.branch, "main", "branch defaults to main");
	is_int(c.max_revoke, 50, "max_revoke defaults to 50");
	ok(c.notify == NULL, "no notify");
	is_int(c.ngroups, 0, "no groups");
	ok(c.nplatforms == 1 && c.platforms[0].drift == DRIFT_ENFORCE &&
	    c.platforms[0].match == MATCH_EMAIL_LOCAL && c.platforms[0].nmanaged == 0,
	    "platform defaults: enforce, email-local, nothing managed");
	config_release(&c);
	ok(parse(&c, "version: 1\nsafety: {max_revoke: 0}\n", &err) == 0 &&
	    c.max_revoke == 0, "max_revoke 0 allowed");
	config_release(&c);
}

static void
test_errors(void)
{
	fails_at("", 1, 1, "empty", "empty file");
	fails_at("version: 1\nbogus: 2\n", 2, 1, "unknown key 'bogus'", "unknown top-level key");
	fails_at("branch: main\n", 1, 1, "'version'", "version required");
	fails_at("version: 2\n", 1, 10, "unsupported version 2", "version must be 1");
	fails_at("version: one\n", 1, 10, "integer", "version wrong type");
	fails_at("version: 1\nbranch: [a]\n", 2, 9, "'branch' must be a string", "branch wrong type");
	fails_at("version: 1\ngroups: [a]\n", 2, 9, "'groups' must be a map", "groups wrong type");
	fails_at("version: 1\ngroups:\n  ops: [a@x.com, \"group:other\"]\n", 3, 18,
	    "groups cannot contain groups", "nested group refused");
	fails_at("version: 1\ngroups:\n  \"a b\": [a@x.com]\n", 3, 3, "group name", "bad group name");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: oracle\n", 4, 11,
	    "unknown platform type 'oracle' (known: postgres, scim, snowflake)", "unknown type");
	fails_at("version: 1\nplatforms:\n  wh:\n    dsn_env: X\n", 4, 5,
	    "missing required key 'type'", "type required");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    password: hunter2\n", 5, 5,
	    "unknown key 'password'", "inline secret is an unknown key");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: scim\n    dsn_env: X\n", 5, 5,
	    "unknown key 'dsn_env'", "another type's key is unknown");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    managed: [\"role:x\", \"view:y\"]\n",
	    5, 25, "no target kind 'view' (kinds: role, table, schema, database)", "bad managed kind");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    managed: [\"*\"]\n",
	    5, 15, "kind:pattern", "managed without kind");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    drift: loud\n", 5, 12,
	    "enforce or report", "bad drift");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    accounts: {match: name}\n", 5, 23,
	    "email, email-local or map", "bad accounts.match");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    accounts: {mapping: {}}\n", 5, 16,
	    "unknown key 'mapping'", "unknown key in accounts");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    accounts:\n      map: {alice: a}\n",
	    6, 13, "not an email", "accounts.map key must be an email");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    accounts:\n"
	    "      map: {a@x.com: a, A@X.com: b}\n", 6, 25, "mapped twice", "duplicate person after lower-casing");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    accounts: {match: map}\n", 5, 15,
	    "names nobody", "match: map without map");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    dsn_env: \"postgres://u:p@h/db\"\n",
	    5, 14, "environment variable", "_env must name a variable");
	{
		/* The misplaced secret must not reach the message. */
		struct config c;
		struct diag err;
		const char *y = "version: 1\nplatforms:\n  wh:\n    type: postgres\n"
		    "    dsn_env: \"postgres://u:hunter2@h/db\"\n";

		ok(parse(&c, y, &err) == -1 && strstr(err.msg, "hunter2") == NULL,
		    "inline secret not echoed in the error");
	}
	fails_at("version: 1\nplatforms:\n  wh:\n    type: postgres\n    ca_file: [a]\n", 5, 14,
	    "must be a string", "_file must be a string");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: scim\n    url: http://idp.example.com/scim\n",
	    5, 10, "https://", "plain http only for loopback");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: scim\n    timeout: soon\n", 5, 14,
	    "bad timeout", "bad timeout");
	fails_at("version: 1\nplatforms:\n  wh:\n    type: scim\n    concurrency: 0\n", 5, 18,
	    "between 1 and", "concurrency range");
	fails_at("version: 1\nplatforms:\n  ware.house:\n    type: postgres\n", 3, 3,
	    "platform name", "bad platform name");
	fails_at("version: 1\nplatforms:\n  wh: postgres\n", 3, 7, "must be a map", "platform not a map");
	fails_at("version: 1\nplatforms:\n  wh: {type: postgres}\n  wh: {type: postgres}\n", 4, 3,
	    "", "duplicate platform name (rejected by the loader)");
	fails_at("version: 1\nnotify:\n  sms: {}\n", 3, 3, "unknown key 'sms'", "unknown notify key");
	fails_at("version: 1\nsafety:\n  max_revoke: -1\n", 3, 15, "0 or more", "negative max_revoke");
}

/* The notify: block (DESIGN §10, §12): parsed, defaulted, routed. */
static void
test_notify(void)
{
	const char *full =
	    "version: 1\n"
	    "notify:\n"
	    "  slack:\n"
	    "    token_env: SLACK_BOT_TOKEN\n"
	    "    channel: C0123456789\n"
	    "    api_url: http://127.0.0.1:9/api\n"
	    "  email:\n"
	    "    smtp_url: smtps://mail.example.com:465\n"
	    "    from: accord@example.com\n"
	    "    username_env: SMTP_USER\n"
	    "    password_env: SMTP_PASSWORD\n"
	    "  pull_request_url: https://forge.example.com/acme/access/pull/{number}\n"
	    "  events:\n"
	    "    pending: [slack, email]\n"
	    "    revoked: none\n";
	const char *hook_only =
	    "version: 1\n"
	    "notify:\n"
	    "  slack: {webhook_env: SLACK_WEBHOOK_URL}\n";
	const char *head = "version: 1\nnotify:\n";
	struct config c;
	struct diag err;
	char y[1024];

	diag_clear(&err);
	ok(parse(&c, full, &err) == 0, "full notify block: %s", err.msg);
	ok(c.notify_cfg.enabled && c.notify_cfg.have_slack &&
	    c.notify_cfg.have_email, "slack and email configured");
	is_str(c.notify_cfg.slack.token_env, "SLACK_BOT_TOKEN", "token_env is a name");
	is_str(c.notify_cfg.slack.channel, "C0123456789", "channel");
	is_str(c.notify_cfg.slack.approve_emoji, "white_check_mark",
	    "approve_emoji default");
	is_str(c.notify_cfg.slack.push_remote, "origin", "push_remote default");
	is_str(c.notify_cfg.email.password_env, "SMTP_PASSWORD",
	    "password_env is a name");
	is_int(c.notify_cfg.events[NEV_PENDING], NOTIFY_SLACK | NOTIFY_EMAIL,
	    "pending to both");
	is_int(c.notify_cfg.events[NEV_GRANTED], NOTIFY_EMAIL,
	    "granted defaults to email");
	is_int(c.notify_cfg.events[NEV_EXPIRING], NOTIFY_EMAIL,
	    "expiring defaults to email");
	is_int(c.notify_cfg.events[NEV_REVOKED], 0, "revoked: none");
	config_release(&c);

	diag_clear(&err);
	ok(parse(&c, hook_only, &err) == 0, "webhook only: %s", err.msg);
	is_int(c.notify_cfg.events[NEV_PENDING], NOTIFY_SLACK,
	    "pending defaults to slack");
	is_int(c.notify_cfg.events[NEV_GRANTED], NOTIFY_SLACK,
	    "granted falls back to slack without email");
	config_release(&c);

	ok(parse(&c, "version: 1\n", &err) == 0 && !c.notify_cfg.enabled,
	    "no notify block: disabled");
	config_release(&c);

	snprintf(y, sizeof(y), "%s  slack: {token_env: T}\n", head);
	fails_at(y, 3, 10, "channel", "token_env without channel");
	snprintf(y, sizeof(y), "%s  slack: {token_env: T, webhook_env: W, "
	    "channel: C1}\n", head);
	fails_at(y, 3, 38, "not both", "token_env and webhook_env");
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: W, color: red}\n",
	    head);
	fails_at(y, 3, 27, "unknown key 'color'", "unknown slack key");
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: W}\n  events: "
	    "{granted: email}\n", head);
	fails_at(y, 4, 21, "email", "route to an unconfigured destination");
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: W}\n  events: "
	    "{granted: sms}\n", head);
	fails_at(y, 4, 21, "sms", "unknown destination");
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: W}\n  events: "
	    "{approved: slack}\n", head);
	fails_at(y, 4, 12, "unknown key 'approved'", "unknown event");
	snprintf(y, sizeof(y), "%s  email: {smtp_url: "
	    "\"smtp://u:hunter2@mail.example.com\", from: a@example.com}\n",
	    head);
	ok(parse(&c, y, &err) == -1 && strstr(err.msg, "hunter2") == NULL,
	    "credentials in smtp_url refused, not echoed: %s", err.msg);
	snprintf(y, sizeof(y), "%s  slack: {token_env: T, channel: C1, "
	    "push_remote: \"https://x:tok3n@forge.example.com/a.git\"}\n",
	    head);
	ok(parse(&c, y, &err) == -1 && strstr(err.msg, "push_remote") &&
	    strstr(err.msg, "tok3n") == NULL,
	    "credentials in push_remote refused, not echoed: %s", err.msg);
	snprintf(y, sizeof(y), "%s  slack: {token_env: T, channel: C1, "
	    "push_remote: upstream}\n", head);
	ok(parse(&c, y, &err) == 0 &&
	    strcmp(c.notify_cfg.slack.push_remote, "upstream") == 0,
	    "a remote name is fine");
	config_release(&c);
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: W}\n  "
	    "pull_request_url: \"https://f.example.com/{id}\"\n", head);
	fails_at(y, 4, 21, "{id}", "unknown placeholder in pull_request_url");
	snprintf(y, sizeof(y), "%s  slack: {webhook_env: \"https://hooks.example.com/T/B/s3cr3tpath\"}\n",
	    head);
	ok(parse(&c, y, &err) == -1 && strstr(err.msg, "s3cr3t") == NULL,
	    "a webhook URL written in place of its variable is refused, not "
	    "echoed: %s", err.msg);
}

int
main(void)
{
	test_good();
	test_defaults();
	test_design_example();
	test_errors();
	test_notify();
	return tap_done();
}
