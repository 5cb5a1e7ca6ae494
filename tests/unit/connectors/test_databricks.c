/*
 * The Databricks connector.  First the network-free parts: target
 * checking, privileges, the permissions path with its escaping, account
 * to principal, the PATCH body grouped by principal, Databricks and SCIM
 * error bodies, glob pruning, and the config errors with their marks.
 * Then against the workspace emulator (tests/emulators/databricks.py),
 * started here with small SCIM and UC pages and an empty first
 * permissions page: ingest (users, service principals, groups and their
 * members, managed globs expanded by listing only what they reach,
 * permissions of each securable), apply_batch (one SCIM PATCH per group,
 * one permissions PATCH per securable, each item with its outcome, a 404
 * on removals alone as success), a 401 renewing the token, OAuth M2M,
 * and from the emulator's log the exact requests and that no secret
 * leaks.  The emulator is killed at exit and, should this program die
 * first, by a watchdog and its --parent-pid.  Runs from the top of the
 * tree.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "connector.h"
#include "diag.h"
#include "grant.h"
#include "http.h"
#include "util.h"
#include "yml.h"
#include "../../lib/tap.h"

#include "../../../connectors/databricks.h"

#define EMULATOR "tests/emulators/databricks.py"
#define PAT "dapi0123456789abcdef0123456789abcdef"
#define CLIENT_ID "6f1c2a33-accord-sp"
#define CLIENT_SECRET "dose0123456789secretsecret"

/* --- pure parts --- */

static void
test_targets(void)
{
	static const char *const good[] = {
		"group:analysts", "group:data eng (EU)", "group:a.b",
		"catalog:main", "schema:main.sales", "table:main.sales.orders",
		"table:my cat.s-1.t_2", NULL
	};
	static const struct { const char *t, *why; } bad[] = {
		{ "catalog:main.sales", "a catalog is named CATALOG (1 part, "
		    "not 2)" },
		{ "schema:main", "a schema is named CATALOG.SCHEMA (2 parts, "
		    "not 1)" },
		{ "table:main.sales.orders.x", "a table is named "
		    "CATALOG.SCHEMA.TABLE (3 parts, not 4)" },
		{ "table:main..orders", "a part of the name is empty" },
		{ "schema:.sales", "a part of the name is empty" },
		{ "schema:main.", "a part of the name is empty" },
		{ "table:`main`.sales.orders", "write names without backticks: "
		    "table:CATALOG.SCHEMA.TABLE" },
		{ "catalog:", "the name is empty" },
		{ "group:", "the name is empty" },
		{ "group:a\nb", "the name contains control characters" },
		{ "table:main.sa\tles.x", "the name contains control "
		    "characters" },
		{ "volume:main.s.v", "unknown kind 'volume' (group, catalog, "
		    "schema, table)" },
		{ "main", "a target is kind:name" },
	};
	const struct connector_desc *d = connector_find("databricks");
	char why[256];
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		why[0] = '\0';
		ok(dbx_check_target(good[i], why, sizeof(why)) == 0,
		    "target %s accepted %s", good[i], why);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ok(dbx_check_target(bad[i].t, why, sizeof(why)) == -1,
		    "bad target %zu refused", i + 1);
		is_str(why, bad[i].why, "why it is refused");
	}
	ok(d != NULL, "databricks is in the registry");
	if (d == NULL)
		return;
	ok(d->check_target == dbx_check_target, "descriptor's check_target");
	is_int(d->caps, CAP_ENUMERATE_TARGETS | CAP_PARALLEL_INGEST, "caps");
	ok(d->ops->version == CONNECTOR_OPS_VERSION && d->ops->apply_batch,
	    "ops v2 with apply_batch");
	for (i = 0; d->target_kinds[i] != NULL; i++)
		;
	is_int(i, 4, "four target kinds");
	is_str(d->target_kinds[3], "table", "kinds end with table");
	for (i = 0; d->own_keys[i] != NULL; i++)
		;
	is_int(i, 4, "own keys: token_env, client_id_env, client_secret_env, "
	    "page_size");
	is_str(connector_default_privilege("group:x"), "member",
	    "group: defaults to member");
}

static void
test_privileges(void)
{
	ok(dbx_privilege_ok("SELECT"), "SELECT");
	ok(dbx_privilege_ok("USE_CATALOG"), "USE_CATALOG");
	ok(dbx_privilege_ok("ALL_PRIVILEGES"), "ALL_PRIVILEGES");
	ok(!dbx_privilege_ok("select"), "lower case refused");
	ok(!dbx_privilege_ok("ALL PRIVILEGES"), "a space refused");
	ok(!dbx_privilege_ok("SELECT;DROP"), "punctuation refused");
	ok(!dbx_privilege_ok("USE2"), "digits refused");
	ok(!dbx_privilege_ok(""), "empty refused");
	ok(!dbx_privilege_ok(NULL), "NULL refused");
}

static void
test_paths(void)
{
	char *p;

	p = dbx_permissions_path("table:main.sales.orders");
	is_str(p, "/api/2.1/unity-catalog/permissions/table/main.sales.orders",
	    "table path");
	free(p);
	p = dbx_permissions_path("catalog:main");
	is_str(p, "/api/2.1/unity-catalog/permissions/catalog/main",
	    "catalog path");
	free(p);
	p = dbx_permissions_path("schema:my cat.50%/x?");
	is_str(p, "/api/2.1/unity-catalog/permissions/schema/"
	    "my%20cat.50%25%2Fx%3F", "each part escaped, the dot kept");
	free(p);
	p = dbx_permissions_path("schema:caf\xc3\xa9.s");
	is_str(p, "/api/2.1/unity-catalog/permissions/schema/caf%C3%A9.s",
	    "UTF-8 escaped byte by byte");
	free(p);
	ok(dbx_permissions_path("group:analysts") == NULL, "no path for a "
	    "group");
	ok(dbx_permissions_path("table:a.b") == NULL, "no path for a bad "
	    "target");
}

static void
test_principals(void)
{
	static const char *const cases[][2] = {
		{ "alice@acme.com", "alice@acme.com" },
		{ "group:data eng", "data eng" },
		{ "service:6f1c-22", "6f1c-22" },
		{ "svc-user", "svc-user" },
	};
	static const char *const none[] = { "id:12345", "role:R", "group:",
		"service:", "" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = dbx_uc_principal(cases[i][0]);
		is_str(p, cases[i][1], cases[i][0]);
		free(p);
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ok(dbx_uc_principal(none[i]) == NULL, "no principal for '%s'",
		    none[i]);
}

static void
item(struct change_item *it, int revoke, const char *account,
    const char *target, const char *privilege)
{
	memset(it, 0, sizeof(*it));
	it->revoke = revoke;
	it->g.account = (char *)account;
	it->g.target = (char *)target;
	it->g.privilege = (char *)privilege;
	buf_init(&it->detail, 4096);
}

static void
test_body(void)
{
	struct change_item it[6];
	const struct change_item *v[6];
	char *s;
	size_t i;

	item(&it[0], 0, "alice@acme.com", "table:m.s.t", "SELECT");
	item(&it[1], 0, "group:analysts", "table:m.s.t", "MODIFY");
	item(&it[2], 1, "alice@acme.com", "table:m.s.t", "MODIFY");
	item(&it[3], 0, "alice@acme.com", "table:m.s.t", "SELECT");
	item(&it[4], 1, "service:app-1", "table:m.s.t", "SELECT");
	item(&it[5], 0, "alice@acme.com", "table:m.s.t", "APPLY_TAG");
	for (i = 0; i < 6; i++)
		v[i] = &it[i];
	s = dbx_uc_body(v, 6);
	is_str(s, "{\"changes\":[{\"principal\":\"alice@acme.com\",\"add\":"
	    "[\"SELECT\",\"APPLY_TAG\"],\"remove\":[\"MODIFY\"]},"
	    "{\"principal\":\"analysts\",\"add\":[\"MODIFY\"]},"
	    "{\"principal\":\"app-1\",\"remove\":[\"SELECT\"]}]}",
	    "one change per principal, duplicates dropped, order kept");
	free(s);
	item(&it[0], 0, "caf\xe9", "table:m.s.t", "SELECT");
	ok(dbx_uc_body(v, 1) == NULL, "a principal that is not UTF-8");
	item(&it[0], 0, "id:1", "table:m.s.t", "SELECT");
	ok(dbx_uc_body(v, 1) == NULL, "an account without a principal");
	for (i = 0; i < 6; i++)
		buf_release(&it[i].detail);
}

static void
test_errors(void)
{
	static const struct { long st; const char *body, *want; } cases[] = {
		{ 400, "{\"message\":\"Privilege BOGUS is not applicable\","
		    "\"error_code\":\"INVALID_PARAMETER_VALUE\",\"details\":[]}",
		    "HTTP 400 INVALID_PARAMETER_VALUE: Privilege BOGUS is not "
		    "applicable" },
		{ 404, "{\"error_code\":\"TABLE_DOES_NOT_EXIST\"}",
		    "HTTP 404 TABLE_DOES_NOT_EXIST" },
		{ 404, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
		    "Error\"],\"detail\":\"Group with id 12 not found.\","
		    "\"status\":\"404\"}",
		    "HTTP 404: Group with id 12 not found." },
		{ 400, "{\"status\":\"400\",\"scimType\":\"invalidValue\","
		    "\"detail\":\"bad\\nvalue\"}",
		    "HTTP 400 invalidValue: bad value" },
		{ 500, "{\"error\":\"legacy failure\"}",
		    "HTTP 500: legacy failure" },
	};
	static const char *const none[] = { "", "<html>oops</html>", "[1]",
		"{\"other\":1}", "{\"message\":" };
	char *s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = dbx_error_text(cases[i].st, cases[i].body,
		    strlen(cases[i].body));
		is_str(s, cases[i].want, "error body read");
		free(s);
	}
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ok(dbx_error_text(400, none[i], strlen(none[i])) == NULL,
		    "not an error body: '%s'", none[i]);
}

static void
test_prefix(void)
{
	ok(dbx_prefix_possible("table:main.sales.*", "table:main."),
	    "literal catalog reached");
	ok(!dbx_prefix_possible("table:main.sales.*", "table:dev."),
	    "other catalog pruned");
	ok(dbx_prefix_possible("table:main.sales.*", "table:main.sales."),
	    "literal schema reached");
	ok(!dbx_prefix_possible("table:main.sales.*", "table:main.hr."),
	    "other schema pruned");
	ok(dbx_prefix_possible("schema:d*.sales", "schema:dev."), "star");
	ok(!dbx_prefix_possible("schema:d*.sales", "schema:main."),
	    "before the star");
	ok(dbx_prefix_possible("table:m?in.*", "table:main."), "question "
	    "mark");
	ok(dbx_prefix_possible("table:[dm]*", "table:main."), "bracket");
	ok(!dbx_prefix_possible("table:main", "table:main."), "pattern too "
	    "short");
}

/* --- config --- */

struct cfgdoc {
	struct yml_doc doc;
	struct connector_cfg cc;
};

static int
cfg_load(struct cfgdoc *d, const char *text, char **managed, size_t nmanaged,
    char **targets, size_t ntargets)
{
	struct diag err;
	const struct yml_node *n;

	memset(d, 0, sizeof(*d));
	if (yml_parse(&d->doc, "accord.yaml", text, strlen(text), &err) != 0) {
		fprintf(stderr, "# yaml: %s\n", err.msg);
		return -1;
	}
	n = yml_get(yml_get(d->doc.root, "platforms"), "lakehouse");
	d->cc.name = "lakehouse";
	d->cc.type = "databricks";
	d->cc.config_path = "accord.yaml";
	d->cc.node = n;
	d->cc.managed = managed;
	d->cc.nmanaged = nmanaged;
	d->cc.targets = targets;
	d->cc.ntargets = ntargets;
	return n != NULL ? 0 : -1;
}

/* Open with settings `body` (indented under the platform); 0 or -1 with
 * err. */
static int
try_open(const char *url, const char *body, struct connector **c,
    struct diag *err)
{
	const struct connector_desc *d = connector_find("databricks");
	struct cfgdoc cd;
	char text[2048];
	int rc;

	*c = NULL;
	memset(err, 0, sizeof(*err));
	snprintf(text, sizeof(text), "platforms:\n  lakehouse:\n"
	    "    type: databricks\n    url: %s\n%s", url, body);
	if (d == NULL || cfg_load(&cd, text, NULL, 0, NULL, 0) != 0)
		return diag_set(err, "test setup");
	rc = d->ops->open(c, &cd.cc, err);
	yml_doc_release(&cd.doc);
	return rc;
}

static void
config_refused(const char *body, int line, int column, const char *want,
    const char *name)
{
	struct connector *c;
	struct diag err;
	char shown[1200];

	ok(try_open("http://127.0.0.1:9", body, &c, &err) == -1 && c == NULL,
	    "%s: refused", name);
	diag_format(&err, shown, sizeof(shown));
	ok(strstr(shown, want) != NULL, "%s: message (%s)", name, shown);
	if (line > 0) {
		is_str(err.file, "accord.yaml", "file of the mark");
		is_int(err.line, line, "line of the mark");
		is_int(err.column, column, "column of the mark");
	}
}

static void
test_config(void)
{
	struct connector *c;
	struct diag err;

	unsetenv("DBX_UNSET");
	setenv("DBX_PAT", PAT, 1);
	config_refused("", 3, 5, "platform lakehouse: set token_env (a "
	    "personal access token), or client_id_env and client_secret_env",
	    "no credentials");
	config_refused("    token_env: DBX_PAT\n    client_id_env: X\n", 6, 20,
	    "set token_env, or client_id_env and client_secret_env, not both",
	    "both kinds");
	config_refused("    client_secret_env: S\n", 5, 24,
	    "client_id_env and client_secret_env go together",
	    "a secret without an id");
	config_refused("    token_env: DBX_UNSET\n", 0, 0,
	    "platform lakehouse: environment variable DBX_UNSET (token_env) "
	    "is not set", "unset variable");
	config_refused("    token_env: DBX_PAT\n    page_size: 0\n", 6, 16,
	    "page_size", "page_size 0");
	ok(try_open("https://127.0.0.1:9", "    token_env: DBX_PAT\n    "
	    "page_size: 50\n", &c, &err) == 0 && c != NULL,
	    "a good config opens (%s)", err.msg);
	if (c != NULL) {
		is_str(c->name, "lakehouse", "the platform's name");
		c->desc->ops->close(c);
	}
}

/* --- the emulator --- */

struct emu {
	pid_t pid;
	char dir[600];
	char url[64];
	struct http *ctl;
};

static struct emu emu;
static char seedfile[700];
/* Every message and detail the connector gave, searched for secrets. */
static struct buf said = BUF_INIT;

static void
emu_stop(void)
{
	http_free(emu.ctl);
	emu.ctl = NULL;
	if (emu.pid > 0) {
		kill(emu.pid, SIGTERM);
		waitpid(emu.pid, NULL, 0);
		emu.pid = 0;
	}
	buf_release(&said);
}

static const char seed[] =
"{\"users\": ["
"  {\"id\": \"101\", \"userName\": \"alice@acme.com\"},"
"  {\"id\": \"102\", \"userName\": \"bob@acme.com\"},"
"  {\"id\": \"103\", \"userName\": \"svc-user\", \"emails\": ["
"    {\"value\": \"other@acme.com\", \"primary\": false},"
"    {\"value\": \"svc@acme.com\", \"primary\": true}]},"
"  {\"id\": \"104\", \"userName\": \"carol@acme.com\"},"
"  {\"id\": \"105\", \"userName\": \"dan@acme.com\"}],"
" \"service_principals\": ["
"  {\"id\": \"201\", \"applicationId\": \"app-1234\", "
"   \"displayName\": \"etl\"}],"
" \"groups\": ["
"  {\"id\": \"301\", \"displayName\": \"analysts\", \"members\": "
"    [\"alice@acme.com\", \"service:app-1234\", \"group:nested\"]},"
"  {\"id\": \"302\", \"displayName\": \"analysts-eu\", \"members\": "
"    [\"bob@acme.com\"]},"
"  {\"id\": \"303\", \"displayName\": \"other\", \"members\": "
"    [\"bob@acme.com\"]},"
"  {\"id\": \"304\", \"displayName\": \"nested\", \"members\": "
"    [\"carol@acme.com\"]}],"
" \"securables\": ["
"  {\"type\": \"table\", \"full_name\": \"main.sales.customers\"},"
"  {\"type\": \"table\", \"full_name\": \"main.hr.people\"},"
"  {\"type\": \"catalog\", \"full_name\": \"other\"}],"
" \"grants\": ["
"  {\"securable_type\": \"table\", \"full_name\": \"main.sales.orders\","
"   \"principal\": \"analysts\", \"privileges\": [\"SELECT\"]},"
"  {\"securable_type\": \"table\", \"full_name\": \"main.sales.orders\","
"   \"principal\": \"alice@acme.com\", \"privileges\": [\"MODIFY\", "
"   \"SELECT\"]},"
"  {\"securable_type\": \"table\", \"full_name\": \"main.sales.orders\","
"   \"principal\": \"app-1234\", \"privileges\": [\"SELECT\"]},"
"  {\"securable_type\": \"schema\", \"full_name\": \"main.sales\","
"   \"principal\": \"analysts\", \"privileges\": [\"USE_SCHEMA\"]},"
"  {\"securable_type\": \"catalog\", \"full_name\": \"main\","
"   \"principal\": \"analysts\", \"privileges\": [\"USE_CATALOG\"]},"
"  {\"securable_type\": \"schema\", \"full_name\": \"dev.sales\","
"   \"principal\": \"svc-user\", \"privileges\": [\"USE_SCHEMA\"]},"
"  {\"securable_type\": \"table\", \"full_name\": \"main.hr.people\","
"   \"principal\": \"bob@acme.com\", \"privileges\": [\"SELECT\"]},"
"  {\"securable_type\": \"table\", \"full_name\": \"dev.sales.orders\","
"   \"principal\": \"alice@acme.com\", \"privileges\": [\"SELECT\"]}]}";

static int
emu_start(void)
{
	struct http_opts o;
	struct diag err;
	char port[700], log[700], out[700], cmd[256], text[32], ppid[32];
	const char *argv[32];
	size_t n = 0;
	int fd, i, status;
	FILE *f;

	snprintf(emu.dir, sizeof(emu.dir), "%s/emu", tap_tmpdir());
	mkdir(emu.dir, 0700);
	snprintf(port, sizeof(port), "%s/port", emu.dir);
	snprintf(log, sizeof(log), "%s/log.jsonl", emu.dir);
	snprintf(out, sizeof(out), "%s/emulator.out", emu.dir);
	snprintf(seedfile, sizeof(seedfile), "%s/seed.json", emu.dir);
	snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
	if ((f = fopen(seedfile, "w")) == NULL)
		return -1;
	fputs(seed, f);
	fclose(f);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = EMULATOR;
	argv[n++] = "--port-file";
	argv[n++] = port;
	argv[n++] = "--token";
	argv[n++] = PAT;
	argv[n++] = "--client-id";
	argv[n++] = CLIENT_ID;
	argv[n++] = "--client-secret";
	argv[n++] = CLIENT_SECRET;
	argv[n++] = "--seed";
	argv[n++] = seedfile;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--max-count";
	argv[n++] = "2";
	argv[n++] = "--uc-page-size";
	argv[n++] = "1";
	argv[n++] = "--uc-list-page-size";
	argv[n++] = "1";
	argv[n++] = "--uc-empty-first-page";
	argv[n++] = "--parent-pid";
	argv[n++] = ppid;
	argv[n] = NULL;
	fflush(stdout);
	if ((emu.pid = fork()) < 0)
		return -1;
	if (emu.pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "sh -c 'while kill -0 %ld 2>/dev/null; do "
	    "sleep 1; done; kill %ld 2>/dev/null' </dev/null >/dev/null 2>&1 &",
	    (long)getpid(), (long)emu.pid);
	if (system(cmd) != 0)
		fprintf(stderr, "# no watchdog for the emulator\n");
	for (i = 0; i < 200; i++) {
		if ((f = fopen(port, "r")) != NULL) {
			n = fread(text, 1, sizeof(text) - 1, f);
			fclose(f);
			text[n] = '\0';
			if (strtol(text, NULL, 10) > 0)
				break;
		}
		if (waitpid(emu.pid, &status, WNOHANG) == emu.pid) {
			emu.pid = 0;
			fprintf(stderr, "# the emulator exited; see %s\n", out);
			return -1;
		}
		usleep(50 * 1000);
	}
	if (i == 200)
		return -1;
	snprintf(emu.url, sizeof(emu.url), "http://127.0.0.1:%ld",
	    strtol(text, NULL, 10));
	memset(&o, 0, sizeof(o));
	o.platform = "emulator";
	o.base_url = emu.url;
	o.timeout_ms = 20000;
	o.retry_budget_ms = -1;
	if (http_open(&emu.ctl, &o, &err) != 0) {
		fprintf(stderr, "# %s\n", err.msg);
		return -1;
	}
	return 0;
}

static json_t *
ctl(const char *method, const char *path, const char *body)
{
	struct http_req rq = { 0 };
	struct http_resp rs;
	struct diag err;
	json_t *j = NULL;

	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	if (http_do(emu.ctl, &rq, &rs, &err) != 0) {
		fprintf(stderr, "# %s %s: %s\n", method, path, err.msg);
		return NULL;
	}
	if (rs.status < 200 || rs.status > 299)
		fprintf(stderr, "# %s %s: HTTP %ld: %s\n", method, path,
		    rs.status, rs.body.ptr);
	else
		j = json_loadb(rs.body.ptr, rs.body.len, 0, NULL);
	http_resp_release(&rs);
	return j;
}

static void
ctl_do(const char *method, const char *path, const char *body)
{
	json_decref(ctl(method, path, body));
}

/* The log since the last clear. */
static json_t *
emu_log(void)
{
	json_t *j = ctl("GET", "/_emulator/log", NULL);

	return json_is_array(j) ? j : json_array();
}

static const char *
e_str(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

static const char *
e_q(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(json_object_get(e, "query"),
	    key));
}

/* Entries with this method and path (query aside). */
static size_t
count_req(const json_t *log, const char *method, const char *path)
{
	const json_t *e;
	size_t i, n = 0;

	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "method"), method) == 0 &&
		    strcmp(e_str(e, "path"), path) == 0)
			n++;
	return n;
}

static const json_t *
find_req(const json_t *log, const char *method, const char *path)
{
	const json_t *e;
	size_t i;

	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "method"), method) == 0 &&
		    strcmp(e_str(e, "path"), path) == 0)
			return e;
	return NULL;
}

static int
has_grant(const struct ingest *in, const char *account, const char *target,
    const char *privilege)
{
	size_t i;

	for (i = 0; i < in->ngrants; i++)
		if (strcmp(in->grants[i].account, account) == 0 &&
		    strcmp(in->grants[i].target, target) == 0 &&
		    strcmp(in->grants[i].privilege, privilege) == 0)
			return 1;
	return 0;
}

static size_t
grants_on(const struct ingest *in, const char *target)
{
	size_t i, n = 0;

	for (i = 0; i < in->ngrants; i++)
		if (strcmp(in->grants[i].target, target) == 0)
			n++;
	return n;
}

static const struct ident *
find_ident(const struct ingest *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nidents; i++)
		if (strcmp(in->idents[i].name, name) == 0)
			return &in->idents[i];
	return NULL;
}

static char *managed[] = {
	"group:analysts*", "table:main.sales.*", "schema:main.sales",
	"catalog:main", "schema:d*.sales", "table:ghost.sales.*"
};
static char *targets[] = {
	"table:main.sales.new_table", "table:main.hr.people", "group:analysts"
};

static struct connector *
open_live(const char *auth, struct diag *err)
{
	const struct connector_desc *d = connector_find("databricks");
	struct connector *c = NULL;
	struct cfgdoc cd;
	char text[2048];

	snprintf(text, sizeof(text), "platforms:\n  lakehouse:\n"
	    "    type: databricks\n    url: %s/\n%s    page_size: 2\n"
	    "    retry_budget: 5s\n", emu.url, auth);
	if (d == NULL || cfg_load(&cd, text, managed,
	    sizeof(managed) / sizeof(managed[0]), targets,
	    sizeof(targets) / sizeof(targets[0])) != 0) {
		diag_set(err, "test setup");
		return NULL;
	}
	if (d->ops->open(&c, &cd.cc, err) != 0)
		c = NULL;
	yml_doc_release(&cd.doc);
	return c;
}

static void
test_ingest(struct connector *c)
{
	struct ingest in = { 0 };
	const struct ident *id;
	struct diag err;
	json_t *log, *e;
	size_t i, n;
	int rc;

	ctl_do("DELETE", "/_emulator/log", NULL);
	memset(&err, 0, sizeof(err));
	rc = c->desc->ops->ingest(c, &in, &err);
	buf_printf(&said, "%s\n", err.msg);
	ok(rc == 0, "ingest (%s)", err.msg);
	id = find_ident(&in, "alice@acme.com");
	ok(id && id->kind == ACCT_USER && id->email &&
	    strcmp(id->email, "alice@acme.com") == 0, "a user, email = "
	    "userName");
	id = find_ident(&in, "svc-user");
	ok(id && id->kind == ACCT_USER && id->email &&
	    strcmp(id->email, "svc@acme.com") == 0, "a userName that is no "
	    "address: the primary email");
	id = find_ident(&in, "service:app-1234");
	ok(id && id->kind == ACCT_SERVICE, "a service principal");
	id = find_ident(&in, "group:other");
	ok(id && id->kind == ACCT_GROUP, "an unmanaged group is an identity");
	ok(find_ident(&in, "dan@acme.com") != NULL, "the last user (page 3)");
	is_int(in.nidents, 5 + 1 + 4, "identities: 5 users, 1 SP, 4 groups");

	ok(has_grant(&in, "alice@acme.com", "group:analysts", "member"),
	    "member: user");
	ok(has_grant(&in, "service:app-1234", "group:analysts", "member"),
	    "member: service principal");
	ok(has_grant(&in, "group:nested", "group:analysts", "member"),
	    "member: group");
	ok(has_grant(&in, "bob@acme.com", "group:analysts-eu", "member"),
	    "member of the other managed group");
	is_int(grants_on(&in, "group:other"), 0, "unmanaged group: no grants");
	is_int(grants_on(&in, "group:nested"), 0, "group:nested unmanaged");

	ok(has_grant(&in, "group:analysts", "table:main.sales.orders",
	    "SELECT"), "UC: group principal");
	ok(has_grant(&in, "alice@acme.com", "table:main.sales.orders",
	    "MODIFY") && has_grant(&in, "alice@acme.com",
	    "table:main.sales.orders", "SELECT"), "UC: user principal, two "
	    "privileges");
	ok(has_grant(&in, "service:app-1234", "table:main.sales.orders",
	    "SELECT"), "UC: service principal by applicationId");
	is_int(grants_on(&in, "table:main.sales.orders"), 4, "four grants on "
	    "main.sales.orders, over empty and one-item pages");
	ok(has_grant(&in, "group:analysts", "schema:main.sales", "USE_SCHEMA"),
	    "UC: schema");
	ok(has_grant(&in, "group:analysts", "catalog:main", "USE_CATALOG"),
	    "UC: catalog");
	ok(has_grant(&in, "svc-user", "schema:dev.sales", "USE_SCHEMA"),
	    "UC: schema by a catalog glob");
	is_int(grants_on(&in, "table:main.hr.people"), 0, "unmanaged table "
	    "named in a request: not read");
	is_int(grants_on(&in, "table:dev.sales.orders"), 0, "unmanaged table");
	is_int(grants_on(&in, "table:main.sales.customers"), 0, "customers: "
	    "none");

	log = emu_log();
	n = 0;
	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "path"), "/api/2.0/preview/scim/v2/Users")
		    == 0 && e_q(e, "count") && strcmp(e_q(e, "count"), "2")
		    == 0)
			n++;
	is_int(n, 3, "users in three pages of count=2");
	is_int(count_req(log, "GET",
	    "/api/2.0/preview/scim/v2/ServicePrincipals"), 1, "SPs listed");
	ok(count_req(log, "GET", "/api/2.0/preview/scim/v2/Groups") >= 2,
	    "groups listed over pages");
	is_int(count_req(log, "GET", "/api/2.1/unity-catalog/catalogs"), 3,
	    "catalogs listed once (3 one-item pages) for schema:d*.sales");
	n = 0;
	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "path"), "/api/2.1/unity-catalog/schemas")
		    == 0) {
			n++;
			ok(strcmp(e_q(e, "catalog_name"), "dev") == 0,
			    "schemas listed of dev only");
		}
	ok(n >= 1, "schemas listed");
	n = 0;
	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "path"), "/api/2.1/unity-catalog/tables")
		    == 0 && strcmp(e_q(e, "catalog_name"), "ghost") == 0) {
			n++;
			ok(json_integer_value(json_object_get(e, "status")) ==
			    404, "tables of a missing catalog: 404");
		}
	is_int(n, 1, "a managed glob under a missing catalog: listed once, "
	    "empty");
	n = 0;
	json_array_foreach(log, i, e)
		if (strcmp(e_str(e, "path"), "/api/2.1/unity-catalog/tables")
		    == 0 && strcmp(e_q(e, "catalog_name"), "ghost") != 0) {
			n++;
			ok(strcmp(e_q(e, "catalog_name"), "main") == 0 &&
			    strcmp(e_q(e, "schema_name"), "sales") == 0,
			    "tables listed of main.sales only");
		}
	ok(n >= 2, "tables listed over pages");
	ok(count_req(log, "GET", "/api/2.1/unity-catalog/permissions/table/"
	    "main.hr.people") == 0, "no permissions read of main.hr.people");
	ok(count_req(log, "GET", "/api/2.1/unity-catalog/permissions/table/"
	    "main.sales.new_table") == 1, "a requested, managed, missing "
	    "table read once (404 is no grants)");
	is_int(count_req(log, "GET", "/api/2.1/unity-catalog/permissions/"
	    "table/main.sales.orders"), 4, "orders: the empty first page, then "
	    "three pages of one principal each");
	e = (json_t *)find_req(log, "GET", "/api/2.1/unity-catalog/"
	    "permissions/catalog/main");
	ok(e && e_q(e, "max_results") && strcmp(e_q(e, "max_results"), "0")
	    == 0, "max_results=0 asks for pages");
	n = 0;
	json_array_foreach(log, i, e) {
		const char *a = json_string_value(json_object_get(
		    json_object_get(e, "headers"), "Authorization"));

		if (a == NULL || strcmp(a, "Bearer " PAT) != 0)
			n++;
	}
	is_int(n, 0, "every request carries the PAT as bearer");
	json_decref(log);
	ingest_release(&in);
}

/* Apply `n` items; outcomes in it[]. */
static void
run_batch(struct connector *c, struct change_item *it, size_t n)
{
	size_t i;

	c->desc->ops->apply_batch(c, it, n);
	for (i = 0; i < n; i++)
		buf_printf(&said, "%s\n%s\n", it[i].err.msg,
		    buf_cstr(&it[i].detail));
}

static int
has_state_grant(json_t *st, const char *full, const char *principal,
    const char *priv)
{
	json_t *g, *p;
	size_t i, j;

	json_array_foreach(json_object_get(st, "grants"), i, g) {
		if (strcmp(e_str(g, "full_name"), full) != 0 ||
		    strcmp(e_str(g, "principal"), principal) != 0)
			continue;
		json_array_foreach(json_object_get(g, "privileges"), j, p)
			if (strcmp(json_string_value(p), priv) == 0)
				return 1;
	}
	return 0;
}

static int
group_has(json_t *st, const char *group, const char *member)
{
	json_t *g, *m;
	size_t i, j;

	json_array_foreach(json_object_get(st, "groups"), i, g) {
		if (strcmp(e_str(g, "displayName"), group) != 0)
			continue;
		json_array_foreach(json_object_get(g, "members"), j, m)
			if (strcmp(json_string_value(m), member) == 0)
				return 1;
	}
	return 0;
}

static void
test_apply(struct connector *c)
{
	struct change_item it[11];
	struct buf detail = BUF_INIT;
	struct pgrant g;
	struct diag err;
	json_t *log, *st, *want;
	const json_t *p;
	size_t i;
	int rc;

	item(&it[0], 0, "bob@acme.com", "group:analysts", "member");
	item(&it[1], 1, "alice@acme.com", "group:analysts", "member");
	item(&it[2], 0, "nobody@acme.com", "group:analysts", "member");
	item(&it[3], 0, "bob@acme.com", "table:main.sales.orders", "SELECT");
	item(&it[4], 1, "alice@acme.com", "table:main.sales.orders", "MODIFY");
	item(&it[5], 0, "group:analysts-eu", "table:main.sales.orders",
	    "SELECT");
	item(&it[6], 0, "bob@acme.com", "table:main.sales.customers",
	    "USE_CATALOG");
	item(&it[7], 1, "bob@acme.com", "table:main.sales.gone", "SELECT");
	item(&it[8], 0, "bob@acme.com", "table:main.sales.orders", "select");
	item(&it[9], 0, "bob@acme.com", "group:analysts-eu", "SELECT");
	item(&it[10], 1, "id:999", "group:analysts-eu", "member");
	ctl_do("DELETE", "/_emulator/log", NULL);
	run_batch(c, it, 11);
	ok(it[0].ok, "add bob to analysts (%s)", it[0].err.msg);
	ok(it[1].ok, "remove alice from analysts (%s)", it[1].err.msg);
	ok(strncmp(buf_cstr(&it[0].detail), "HTTP 20", 7) == 0,
	    "detail holds the status (%s)", buf_cstr(&it[0].detail));
	ok(!it[2].ok, "an unknown user fails");
	is_str(it[2].err.msg, "platform lakehouse: add nobody@acme.com to "
	    "group:analysts: no user, group or service principal "
	    "'nobody@acme.com' in the workspace", "and says why");
	ok(it[3].ok && it[4].ok && it[5].ok, "three changes on orders (%s)",
	    it[3].err.msg);
	ok(!it[6].ok, "a privilege the table does not take fails");
	is_str(it[6].err.msg, "platform lakehouse: PATCH /api/2.1/"
	    "unity-catalog/permissions/table/main.sales.customers: HTTP 400 "
	    "INVALID_PARAMETER_VALUE: Privilege USE_CATALOG is not applicable "
	    "to this entity [main.sales.customers:TABLE].",
	    "the Databricks error in the message");
	ok(strncmp(buf_cstr(&it[6].detail), "HTTP 400: ", 10) == 0,
	    "and the raw answer in the detail");
	ok(it[7].ok, "removing from a table that is gone: success (%s)",
	    it[7].err.msg);
	ok(strstr(buf_cstr(&it[7].detail), "HTTP 404") != NULL &&
	    strstr(buf_cstr(&it[7].detail), "TABLE_DOES_NOT_EXIST") != NULL,
	    "with the 404 in the detail (%s)", buf_cstr(&it[7].detail));
	ok(!it[8].ok && strstr(it[8].err.msg, "UPPER_SNAKE") != NULL,
	    "a lower-case privilege fails before sending (%s)", it[8].err.msg);
	ok(!it[9].ok && strstr(it[9].err.msg, "only privilege on a group is "
	    "member") != NULL, "a group privilege other than member");
	ok(it[10].ok, "remove an id: member from analysts-eu (%s)",
	    it[10].err.msg);

	log = emu_log();
	is_int(count_req(log, "PATCH", "/api/2.0/preview/scim/v2/Groups/301"),
	    1, "one SCIM PATCH for analysts");
	is_int(count_req(log, "PATCH", "/api/2.0/preview/scim/v2/Groups/302"),
	    1, "one SCIM PATCH for analysts-eu");
	p = find_req(log, "PATCH", "/api/2.0/preview/scim/v2/Groups/301");
	want = json_loads("{\"schemas\":[\"urn:ietf:params:scim:api:messages:"
	    "2.0:PatchOp\"],\"Operations\":[{\"op\":\"remove\",\"path\":"
	    "\"members[value eq \\\"101\\\"]\"},{\"op\":\"add\",\"path\":"
	    "\"members\",\"value\":[{\"value\":\"102\"}]}]}", 0, NULL);
	ok(p && json_equal(json_object_get(p, "body"), want),
	    "the SCIM PatchOp: remove alice, add bob");
	json_decref(want);
	is_int(count_req(log, "PATCH", "/api/2.1/unity-catalog/permissions/"
	    "table/main.sales.orders"), 1, "one PATCH for orders");
	p = find_req(log, "PATCH", "/api/2.1/unity-catalog/permissions/table/"
	    "main.sales.orders");
	want = json_loads("{\"changes\":[{\"principal\":\"bob@acme.com\","
	    "\"add\":[\"SELECT\"]},{\"principal\":\"alice@acme.com\","
	    "\"remove\":[\"MODIFY\"]},{\"principal\":\"analysts-eu\",\"add\":"
	    "[\"SELECT\"]}]}", 0, NULL);
	ok(p && json_equal(json_object_get(p, "body"), want),
	    "the permissions body, grouped by principal");
	json_decref(want);
	is_int(json_array_size(log), 5, "five requests in all");
	json_decref(log);

	st = ctl("GET", "/_emulator/state", NULL);
	ok(group_has(st, "analysts", "bob@acme.com") &&
	    !group_has(st, "analysts", "alice@acme.com"), "analysts changed");
	ok(has_state_grant(st, "main.sales.orders", "bob@acme.com", "SELECT")
	    && has_state_grant(st, "main.sales.orders", "analysts-eu",
	    "SELECT") && !has_state_grant(st, "main.sales.orders",
	    "alice@acme.com", "MODIFY") && has_state_grant(st,
	    "main.sales.orders", "alice@acme.com", "SELECT"),
	    "orders changed");
	json_decref(st);
	for (i = 0; i < 11; i++)
		buf_release(&it[i].detail);

	/* Idempotent single ops through grant/revoke. */
	memset(&g, 0, sizeof(g));
	g.account = "bob@acme.com";
	g.target = "table:main.sales.orders";
	g.privilege = "SELECT";
	buf_init(&detail, 4096);
	memset(&err, 0, sizeof(err));
	rc = c->desc->ops->grant(c, &g, &detail, &err);
	ok(rc == 0 && strncmp(buf_cstr(&detail), "HTTP 200", 8) == 0,
	    "grant again: success (%s)", err.msg);
	buf_reset(&detail);
	g.privilege = "MODIFY";
	rc = c->desc->ops->revoke(c, &g, &detail, &err);
	ok(rc == 0, "revoke what is absent: success (%s)", err.msg);
	buf_reset(&detail);
	g.account = "bob@acme.com";
	g.target = "group:analysts";
	g.privilege = "member";
	rc = c->desc->ops->grant(c, &g, &detail, &err);
	ok(rc == 0, "add a member again: success (%s)", err.msg);
	buf_reset(&detail);
	g.target = "group:no-such-group";
	rc = c->desc->ops->revoke(c, &g, &detail, &err);
	ok(rc == 0, "remove from a group that does not exist: success (%s)",
	    err.msg);
	buf_reset(&detail);
	rc = c->desc->ops->grant(c, &g, &detail, &err);
	ok(rc == -1 && strstr(err.msg, "no such group") != NULL,
	    "add to a group that does not exist fails (%s)", err.msg);
	buf_printf(&said, "%s\n%s\n", err.msg, buf_cstr(&detail));
	buf_release(&detail);

	/* A 401 on a PATCH: the token is asked for again and the PATCH sent
	 * once more. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\":[{\"method\":"
	    "\"PATCH\",\"path\":\"permissions/table\",\"status\":401}]}");
	ctl_do("DELETE", "/_emulator/log", NULL);
	item(&it[0], 1, "bob@acme.com", "table:main.sales.orders", "SELECT");
	run_batch(c, it, 1);
	ok(it[0].ok, "a 401 is retried once (%s)", it[0].err.msg);
	log = emu_log();
	is_int(count_req(log, "PATCH", "/api/2.1/unity-catalog/permissions/"
	    "table/main.sales.orders"), 2, "the PATCH sent twice");
	json_decref(log);
	buf_release(&it[0].detail);
}

static void
test_failures(struct connector *c)
{
	struct ingest in = { 0 };
	struct diag err;
	json_t *log;
	int rc;

	/* An unknown member id in a group listing. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\":[{\"method\":\"GET\","
	    "\"path\":\"/Groups\",\"status\":200,\"body\":{\"schemas\":[\"urn:"
	    "ietf:params:scim:api:messages:2.0:ListResponse\"],"
	    "\"totalResults\":1,\"startIndex\":1,\"itemsPerPage\":1,"
	    "\"Resources\":[{\"id\":\"301\",\"displayName\":\"analysts\","
	    "\"members\":[{\"value\":\"999\"},{\"value\":\"102\"}]}]}}]}");
	memset(&err, 0, sizeof(err));
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == 0, "ingest with a member nobody knows (%s)", err.msg);
	ok(has_grant(&in, "id:999", "group:analysts", "member"),
	    "unknown member id: id:VALUE");
	ok(has_grant(&in, "bob@acme.com", "group:analysts", "member"),
	    "known member id: userName");
	ingest_release(&in);

	/* A 429 with Retry-After on a permissions read is waited out. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\":[{\"method\":\"GET\","
	    "\"path\":\"permissions/catalog/main\",\"status\":429,"
	    "\"retry_after\":1}]}");
	ctl_do("DELETE", "/_emulator/log", NULL);
	memset(&in, 0, sizeof(in));
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == 0 && has_grant(&in, "group:analysts", "catalog:main",
	    "USE_CATALOG"), "a 429 is retried (%s)", err.msg);
	log = emu_log();
	is_int(count_req(log, "GET", "/api/2.1/unity-catalog/permissions/"
	    "catalog/main"), 3, "catalog main: the 429, its retry, the "
	    "second page");
	json_decref(log);
	ingest_release(&in);

	/* All or nothing. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\":[{\"method\":\"GET\","
	    "\"path\":\"/tables\",\"status\":403}]}");
	memset(&in, 0, sizeof(in));
	memset(&err, 0, sizeof(err));
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == -1, "a 403 on a listing fails the ingest");
	ok(strncmp(err.msg, "platform lakehouse: GET /api/2.1/unity-catalog/"
	    "tables?catalog_name=main&schema_name=sales", 66) == 0 &&
	    strstr(err.msg, "HTTP 403") != NULL, "and names the request (%s)",
	    err.msg);
	is_int(in.nidents + in.ngrants, 0, "nothing ingested");
	buf_printf(&said, "%s\n", err.msg);
	ingest_release(&in);

	ctl_do("POST", "/_emulator/faults", "{\"faults\":[{\"method\":\"GET\","
	    "\"path\":\"permissions/schema/dev.sales\",\"status\":400,"
	    "\"body\":{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":"
	    "\"bad page\"}}]}");
	memset(&in, 0, sizeof(in));
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == -1, "a 400 on a permissions read fails the ingest");
	is_str(err.msg, "platform lakehouse: GET /api/2.1/unity-catalog/"
	    "permissions/schema/dev.sales?max_results=0: HTTP 400 "
	    "INVALID_PARAMETER_VALUE: bad page", "with the Databricks error");
	is_int(in.nidents + in.ngrants, 0, "nothing ingested");
	ingest_release(&in);
	ctl_do("DELETE", "/_emulator/faults", NULL);
}

static void
test_oauth(void)
{
	struct connector *c;
	struct ingest in = { 0 };
	struct change_item it;
	struct diag err;
	json_t *log, *e, *st;
	const char *a, *body;
	size_t i, bad = 0;
	int rc;

	setenv("DBX_CLIENT_ID", CLIENT_ID, 1);
	setenv("DBX_CLIENT_SECRET", CLIENT_SECRET, 1);
	memset(&err, 0, sizeof(err));
	c = open_live("    client_id_env: DBX_CLIENT_ID\n"
	    "    client_secret_env: DBX_CLIENT_SECRET\n", &err);
	ok(c != NULL, "open with OAuth M2M (%s)", err.msg);
	if (c == NULL)
		return;
	/* apply before any ingest: the identities are read first. */
	item(&it, 0, "service:app-1234", "group:analysts-eu", "member");
	ctl_do("DELETE", "/_emulator/log", NULL);
	run_batch(c, &it, 1);
	ok(it.ok, "apply on a fresh instance (%s)", it.err.msg);
	buf_release(&it.detail);
	log = emu_log();
	ok(count_req(log, "GET", "/api/2.0/preview/scim/v2/Users") > 0 &&
	    count_req(log, "PATCH", "/api/2.0/preview/scim/v2/Groups/302") == 1,
	    "users listed, then the PATCH");
	is_int(count_req(log, "POST", "/oidc/v1/token"), 1, "one token asked "
	    "for");
	e = (json_t *)find_req(log, "POST", "/oidc/v1/token");
	body = e ? e_str(e, "body") : NULL;
	ok(body && strstr(body, "grant_type=client_credentials") &&
	    strstr(body, "scope=all-apis"), "client credentials, scope "
	    "all-apis (%s)", body ? body : "");
	ok(e && strcmp(e_str(e, "client_id"), CLIENT_ID) == 0,
	    "client id in HTTP Basic");
	json_decref(log);
	st = ctl("GET", "/_emulator/state", NULL);
	ok(group_has(st, "analysts-eu", "service:app-1234"), "the SP was "
	    "added");
	json_decref(st);
	ctl_do("DELETE", "/_emulator/log", NULL);
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == 0 && in.nidents == 10, "ingest with an OAuth token (%s)",
	    err.msg);
	ingest_release(&in);
	log = emu_log();
	is_int(count_req(log, "POST", "/oidc/v1/token"), 0, "the token "
	    "from before is kept");
	json_array_foreach(log, i, e) {
		if (strcmp(e_str(e, "path"), "/oidc/v1/token") == 0)
			continue;
		a = e_str(e, "token_kind");
		if (a == NULL || strcmp(a, "oauth") != 0)
			bad++;
	}
	is_int(bad, 0, "every API call with the OAuth token");
	json_decref(log);

	/* The emulator forgets its tokens: a 401, a new token, a retry. */
	ctl_do("DELETE", "/_emulator/tokens", NULL);
	ctl_do("DELETE", "/_emulator/log", NULL);
	memset(&in, 0, sizeof(in));
	rc = c->desc->ops->ingest(c, &in, &err);
	ok(rc == 0 && in.nidents == 10, "a revoked token is renewed (%s)",
	    err.msg);
	buf_printf(&said, "%s\n", err.msg);
	ingest_release(&in);
	log = emu_log();
	is_int(count_req(log, "POST", "/oidc/v1/token"), 1, "a new token");
	e = json_array_get(log, 0);
	ok(e && json_integer_value(json_object_get(e, "status")) == 401,
	    "after a 401");
	json_decref(log);
	c->desc->ops->close(c);
}

static void
test_live(void)
{
	struct connector *c;
	struct diag err;

	if (emu_start() != 0) {
		ok(0, "the emulator starts (%s)", EMULATOR);
		return;
	}
	ok(1, "the emulator starts");
	setenv("DBX_PAT", PAT, 1);
	memset(&err, 0, sizeof(err));
	c = open_live("    token_env: DBX_PAT\n", &err);
	ok(c != NULL, "open with a PAT (%s)", err.msg);
	if (c == NULL)
		return;
	test_ingest(c);
	test_apply(c);
	test_failures(c);
	c->desc->ops->close(c);
	test_oauth();
	ok(strstr(buf_cstr(&said), PAT) == NULL &&
	    strstr(buf_cstr(&said), CLIENT_SECRET) == NULL,
	    "no secret in any message or detail");
}

int
main(void)
{
	atexit(emu_stop);
	test_targets();
	test_privileges();
	test_paths();
	test_principals();
	test_body();
	test_errors();
	test_prefix();
	test_config();
	test_live();
	return tap_done();
}
