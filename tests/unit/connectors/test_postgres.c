/*
 * The PostgreSQL connector against a real throwaway cluster (started here
 * through tests/lib/pg.sh, stopped at exit or, should this program die,
 * by a watchdog): ingest spelling and exclusions, idempotent grant and
 * revoke, identifier quoting against hostile names, the privilege
 * allow-list, and secrets kept out of messages.  Also the shared
 * connector helpers.  Runs from the top of the tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "connector.h"
#include "diag.h"
#include "grant.h"
#include "util.h"
#include "yml.h"
#include "../../lib/tap.h"

#define DSN_VAR "ACCORD_TEST_PG_DSN"

static char pgdir[512];
static int cluster_up;
static PGconn *admin;

static const char config_yaml[] =
    "type: postgres\n"
    "dsn_env: " DSN_VAR "\n"
    "managed: [\"role:*\", \"table:sales.*\", \"schema:*\", \"database:*\"]\n";

static char *managed_all[] = {
	"role:*", "table:sales.*", "schema:*", "database:*"
};
static char *managed_roles[] = { "role:analyst" };

static void
cluster_stop(void)
{
	char cmd[1200];

	if (admin != NULL) {
		PQfinish(admin);
		admin = NULL;
	}
	if (!cluster_up)
		return;
	cluster_up = 0;
	snprintf(cmd, sizeof(cmd), "sh -c '. tests/lib/pg.sh && pg_stop %s "
	    "&& rm -rf %s'", pgdir, pgdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not stop the cluster in %s\n", pgdir);
}

/* Fixture notices ("PID n is not a PostgreSQL backend process" from a
 * backend already exiting) are not test output. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Start the cluster; a detached watchdog stops it should we die without
 * running atexit handlers (a sanitizer abort, a signal). */
static int
cluster_start(char *dsn, size_t dsnsz)
{
	char cmd[4096], path[600];
	FILE *f;
	size_t n;
	int len;

	snprintf(pgdir, sizeof(pgdir), "%s/pg", tap_tmpdir());
	len = snprintf(cmd, sizeof(cmd),
	    "sh -c '. tests/lib/pg.sh && pg_start %s && "
	    "printf %%s \"$PG_DSN\" > %s/dsn && "
	    "{ (while kill -0 %ld 2>/dev/null; do sleep 1; done; "
	    "pg_stop %s; rm -rf %s) </dev/null >/dev/null 2>&1 & }'",
	    pgdir, pgdir, (long)getpid(), pgdir, pgdir);
	if (len < 0 || (size_t)len >= sizeof(cmd) || system(cmd) != 0)
		return -1;
	cluster_up = 1;
	atexit(cluster_stop);
	snprintf(path, sizeof(path), "%s/dsn", pgdir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(dsn, 1, dsnsz - 1, f);
	fclose(f);
	dsn[n] = '\0';
	admin = PQconnectdb(dsn);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "# admin: %s", PQerrorMessage(admin));
		return -1;
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	return 0;
}

/* Run SQL as the superuser; 0 or -1. */
static int
admin_sql(const char *sql)
{
	PGresult *res = PQexec(admin, sql);
	int st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fprintf(stderr, "# %s: %s", sql, PQerrorMessage(admin));
	PQclear(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

/* First column of the first row, into out ("" when none, "ERROR" on error). */
static const char *
admin_get(const char *sql, char *out, size_t outsz)
{
	PGresult *res = PQexec(admin, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "# %s: %s", sql, PQerrorMessage(admin));
		snprintf(out, outsz, "ERROR");
	} else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
		snprintf(out, outsz, "%s", "");
	else
		snprintf(out, outsz, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

static struct pgrant
mkgrant(const char *account, const char *target, const char *priv)
{
	struct pgrant g;

	g.account = (char *)account;
	g.target = (char *)target;
	g.privilege = (char *)priv;
	return g;
}

/* NULL matches anything. */
static int
same(const char *want, const char *got)
{
	return want == NULL || strcmp(want, got) == 0;
}

static int
count_grants(const struct ingest *in, const char *account,
    const char *target, const char *priv)
{
	size_t i;
	int n = 0;

	for (i = 0; i < in->ngrants; i++)
		if (same(account, in->grants[i].account) &&
		    same(target, in->grants[i].target) &&
		    same(priv, in->grants[i].privilege))
			n++;
	return n;
}

static int
count_prefix(const struct ingest *in, const char *prefix)
{
	size_t i;
	int n = 0;

	for (i = 0; i < in->ngrants; i++)
		if (strncmp(in->grants[i].target, prefix, strlen(prefix)) == 0)
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

static void
test_helpers(void)
{
	const struct connector_desc *d = connector_find("postgres");
	char why[256];

	ok(d != NULL && d->ops->version == CONNECTOR_OPS_VERSION,
	    "postgres is registered with the current ops version");
	ok(connector_find("nosuch") == NULL, "unknown type not found");
	ok(connector_find(NULL) == NULL, "NULL type not found");
	ok(connector_registry_len >= 1, "registry is not empty");
	is_str(connector_default_privilege("role:analyst"), "member",
	    "role default privilege");
	is_str(connector_default_privilege("group:x"), "member",
	    "group default privilege");
	is_str(connector_default_privilege("team:x"), "member",
	    "team default privilege");
	ok(connector_default_privilege("table:s.t") == NULL,
	    "table has no default privilege");
	ok(connector_default_privilege("roles:x") == NULL,
	    "kind must match whole");
	ok(connector_default_privilege("role") == NULL, "no colon, no kind");
	if (d == NULL)
		return;
	ok(d->check_target("table:sales.orders", why, sizeof(why)) == 0,
	    "table:SCHEMA.NAME accepted");
	ok(d->check_target("table:orders", why, sizeof(why)) == -1 &&
	    strstr(why, "SCHEMA.NAME") != NULL, "table without schema refused");
	ok(d->check_target("table:a.b.c", why, sizeof(why)) == -1,
	    "table with two dots refused");
	ok(d->check_target("table:\"a.b\".c", why, sizeof(why)) == 0,
	    "quoted schema with a dot accepted");
	ok(d->check_target("table:sales.\"we\"\"ird\"", why, sizeof(why)) == 0,
	    "quoted table with doubled quote accepted");
	ok(d->check_target("table:sales.\"open", why, sizeof(why)) == -1,
	    "unterminated quote refused");
	ok(d->check_target("table:.orders", why, sizeof(why)) == -1,
	    "empty schema refused");
	ok(d->check_target("role:analyst", why, sizeof(why)) == 0,
	    "role accepted");
	ok(d->check_target("role:a.b", why, sizeof(why)) == -1,
	    "role with a dot refused");
	ok(d->check_target("role:", why, sizeof(why)) == -1, "empty role refused");
	ok(d->check_target("schema:sales", why, sizeof(why)) == 0 &&
	    d->check_target("database:postgres", why, sizeof(why)) == 0,
	    "schema and database accepted");
	ok(d->check_target("warehouse:wh", why, sizeof(why)) == -1 &&
	    strstr(why, "warehouse") != NULL, "foreign kind refused");
	ok(d->check_target("role:"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    why, sizeof(why)) == -1,
	    "64-byte name refused (the server would truncate it)");
	ok(d->check_target("role:"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    why, sizeof(why)) == 0, "63-byte name accepted");
}

static void
test_secret(void)
{
	static const char yaml[] =
	    "type: postgres\n"
	    "dsn_env: WAREHOUSE_DSN\n"
	    "key_file: %s\n"
	    "bad: 1\n";
	char path[600], text[1024];
	struct yml_doc doc = { 0 };
	struct connector_cfg cfg = { 0 };
	struct diag err = { .line = 0 };
	char *s = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/key", tap_tmpdir());
	snprintf(text, sizeof(text), yaml, path);
	if (!ok(yml_parse(&doc, "accord.yaml", text, strlen(text), &err) == 0,
	    "parse secret config")) {
		printf("# %s\n", err.msg);
		return;
	}
	cfg.name = "warehouse";
	cfg.type = "postgres";
	cfg.config_path = "accord.yaml";
	cfg.node = doc.root;

	unsetenv("WAREHOUSE_DSN");
	ok(connector_secret(&cfg, "dsn_env", &s, &err) == -1 && s == NULL,
	    "unset variable refused");
	is_str(err.msg, "platform warehouse: environment variable WAREHOUSE_DSN "
	    "(dsn_env) is not set", "unset variable message");
	setenv("WAREHOUSE_DSN", "", 1);
	ok(connector_secret(&cfg, "dsn_env", &s, &err) == -1 &&
	    strstr(err.msg, "is empty") != NULL, "empty variable refused");
	setenv("WAREHOUSE_DSN", "host=x password=hunter2", 1);
	ok(connector_secret(&cfg, "dsn_env", &s, &err) == 0, "set variable read");
	is_str(s, "host=x password=hunter2", "variable value");
	free(s);
	s = NULL;
	unsetenv("WAREHOUSE_DSN");

	ok(connector_secret(&cfg, "token_env", &s, &err) == -1 &&
	    strstr(err.msg, "'token_env'") != NULL, "absent key refused");
	ok(connector_secret(&cfg, "bad", &s, &err) == -1,
	    "key that is not *_env or *_file refused");

	f = fopen(path, "w");
	fputs("s3cr3t-key\n", f);
	fclose(f);
	chmod(path, 0644);
	ok(connector_secret(&cfg, "key_file", &s, &err) == -1 && s == NULL,
	    "0644 secret file refused");
	ok(strstr(err.msg, "is readable by others; chmod 600") != NULL &&
	    strstr(err.msg, path) != NULL, "0644 message names file and fix");
	ok(strstr(err.msg, "s3cr3t") == NULL, "refusal does not show content");
	chmod(path, 0640);
	ok(connector_secret(&cfg, "key_file", &s, &err) == -1,
	    "0640 secret file refused");
	chmod(path, 0600);
	ok(connector_secret(&cfg, "key_file", &s, &err) == 0, "0600 accepted");
	is_str(s, "s3cr3t-key", "trailing newline stripped");
	free(s);
	s = NULL;
	unlink(path);
	ok(connector_secret(&cfg, "key_file", &s, &err) == -1 &&
	    strstr(err.msg, "cannot open") != NULL, "missing file refused");
	yml_doc_release(&doc);
}

/* Parse config_yaml into doc and fill cfg for platform "warehouse". */
static int
make_cfg(struct yml_doc *doc, struct connector_cfg *cfg, char **managed,
    size_t nmanaged)
{
	struct diag err = { .line = 0 };

	memset(cfg, 0, sizeof(*cfg));
	if (yml_parse(doc, "accord.yaml", config_yaml, strlen(config_yaml),
	    &err) != 0) {
		printf("# %s\n", err.msg);
		return -1;
	}
	cfg->name = "warehouse";
	cfg->type = "postgres";
	cfg->config_path = "accord.yaml";
	cfg->node = doc->root;
	cfg->managed = managed;
	cfg->nmanaged = nmanaged;
	return 0;
}

static const char setup_sql[] =
    "CREATE ROLE alice LOGIN;"
    "CREATE ROLE bob LOGIN;"
    "CREATE ROLE \"Mixed Case\" LOGIN;"
    "CREATE ROLE analyst NOLOGIN;"
    "CREATE ROLE finance_app NOLOGIN;"
    "CREATE SCHEMA sales;"
    "CREATE TABLE sales.orders (id int);"
    "CREATE TABLE sales.\"we\"\"ird\" (id int);"
    "CREATE TABLE sales.bobs (id int);"
    "ALTER TABLE sales.bobs OWNER TO bob;"
    "GRANT analyst TO alice;"
    "GRANT analyst TO finance_app;"
    "GRANT SELECT ON sales.orders TO bob;"
    "GRANT SELECT, INSERT ON sales.orders TO finance_app;"
    "GRANT SELECT ON sales.orders TO PUBLIC;"
    "GRANT SELECT ON sales.bobs TO alice;"
    "GRANT USAGE ON SCHEMA sales TO alice;"
    "GRANT USAGE ON SCHEMA sales TO PUBLIC;"
    "GRANT CONNECT ON DATABASE postgres TO bob;"
    "REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC;"
    /* Grants on system objects that ingest must leave out. */
    "GRANT SELECT ON pg_catalog.pg_class TO alice;"
    "GRANT SELECT ON information_schema.tables TO alice;";

static void
test_ingest(const struct connector_desc *d, struct connector *c)
{
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	const struct ident *id;

	if (!ok(d->ops->ingest(c, &in, &err) == 0, "ingest")) {
		printf("# %s\n", err.msg);
		return;
	}
	id = find_ident(&in, "alice");
	ok(id != NULL && id->kind == ACCT_USER && id->email == NULL,
	    "alice is a user without email");
	id = find_ident(&in, "Mixed Case");
	ok(id != NULL && id->kind == ACCT_USER, "\"Mixed Case\" read verbatim");
	id = find_ident(&in, "analyst");
	ok(id != NULL && id->kind == ACCT_ROLE, "NOLOGIN analyst is a role");
	ok(find_ident(&in, "finance_app") != NULL, "finance_app listed");
	ok(find_ident(&in, "pg_monitor") == NULL, "pg_ roles left out");

	is_int(count_grants(&in, "alice", "role:analyst", "member"), 1,
	    "login member spelled by name");
	is_int(count_grants(&in, "role:finance_app", "role:analyst", "member"),
	    1, "NOLOGIN member spelled role:NAME");
	is_int(count_grants(&in, NULL, "role:pg_monitor", NULL) +
	    count_grants(&in, NULL, "role:pg_read_all_settings", NULL), 0,
	    "pg_ memberships left out");

	is_int(count_grants(&in, "bob", "table:sales.orders", "SELECT"), 1,
	    "table grant to a user");
	is_int(count_grants(&in, "role:finance_app", "table:sales.orders",
	    "INSERT"), 1, "table grant to a role");
	is_int(count_grants(&in, NULL, "table:sales.orders", NULL), 3,
	    "no owner or PUBLIC entries on sales.orders");
	is_int(count_grants(&in, "alice", "table:sales.bobs", "SELECT"), 1,
	    "grant on a table owned by bob");
	is_int(count_grants(&in, "bob", "table:sales.bobs", NULL), 0,
	    "owner bob's own privileges left out");
	is_int(count_prefix(&in, "table:pg_catalog.") +
	    count_prefix(&in, "table:information_schema."), 0,
	    "system schemas left out");

	is_int(count_grants(&in, "alice", "schema:sales", "USAGE"), 1,
	    "schema grant");
	is_int(count_grants(&in, NULL, "schema:sales", NULL), 1,
	    "no owner or PUBLIC entries on schema sales");
	is_int(count_prefix(&in, "schema:pg_") +
	    count_prefix(&in, "schema:information_schema"), 0,
	    "system schemas' ACLs left out");
	is_int(count_grants(&in, "bob", "database:postgres", "CONNECT"), 1,
	    "database grant");
	is_int(count_grants(&in, "postgres", NULL, NULL), 0,
	    "the owner postgres holds nothing explicit");
	is_int(count_grants(&in, "PUBLIC", NULL, NULL) +
	    count_grants(&in, "role:PUBLIC", NULL, NULL) +
	    count_grants(&in, "", NULL, NULL), 0, "PUBLIC never an account");
	ingest_release(&in);
}

static int
do_grant(const struct connector_desc *d, struct connector *c, int grant,
    const char *account, const char *target, const char *priv,
    struct buf *detail, struct diag *err)
{
	struct pgrant g = mkgrant(account, target, priv);

	buf_reset(detail);
	diag_clear(err);
	return grant ? d->ops->grant(c, &g, detail, err) :
	    d->ops->revoke(c, &g, detail, err);
}

static void
test_change(const struct connector_desc *d, struct connector *c)
{
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	struct buf detail = BUF_INIT;
	char v[256];
	int rc;

	buf_init(&detail, 0);

	rc = do_grant(d, c, 1, "alice", "table:sales.orders", "SELECT",
	    &detail, &err);
	ok(rc == 0, "grant SELECT on a table");
	is_str(buf_cstr(&detail), "GRANT", "detail is the command tag");
	ok(d->ops->ingest(c, &in, &err) == 0 &&
	    count_grants(&in, "alice", "table:sales.orders", "SELECT") == 1,
	    "ingest shows the new grant");
	ingest_release(&in);
	ok(do_grant(d, c, 1, "alice", "table:sales.orders", "select", &detail,
	    &err) == 0, "granting again succeeds (privilege case folded)");

	rc = do_grant(d, c, 1, "alice", "role:analyst", "member", &detail, &err);
	ok(rc == 0, "membership granted twice succeeds");
	ok(strstr(buf_cstr(&detail), "GRANT ROLE") != NULL &&
	    strstr(buf_cstr(&detail), "already a member") != NULL,
	    "the notice is kept in detail");
	printf("# detail: %s\n", buf_cstr(&detail));
	rc = do_grant(d, c, 0, "alice", "role:analyst", "member", &detail, &err);
	ok(rc == 0 && strcmp(buf_cstr(&detail), "REVOKE ROLE") == 0,
	    "membership revoked");
	rc = do_grant(d, c, 0, "alice", "role:analyst", "member", &detail, &err);
	ok(rc == 0 && strstr(buf_cstr(&detail), "is not a member") != NULL,
	    "revoking an absent membership succeeds, warning in detail");
	is_str(admin_get("SELECT pg_has_role('alice', 'analyst', 'MEMBER')", v,
	    sizeof(v)), "f", "alice is no longer a member");
	ok(d->ops->ingest(c, &in, &err) == 0 &&
	    count_grants(&in, "alice", "role:analyst", NULL) == 0,
	    "ingest no longer shows the membership");
	ingest_release(&in);
	rc = do_grant(d, c, 0, "bob", "table:sales.orders", "UPDATE", &detail,
	    &err);
	ok(rc == 0 && strcmp(buf_cstr(&detail), "REVOKE") == 0,
	    "revoking a never-granted table privilege succeeds");

	ok(do_grant(d, c, 1, "role:finance_app", "schema:sales", "CREATE",
	    &detail, &err) == 0, "schema grant to role:finance_app");
	is_str(admin_get("SELECT has_schema_privilege('finance_app', 'sales', "
	    "'CREATE')", v, sizeof(v)), "t", "role: prefix stripped for grantee");
	ok(do_grant(d, c, 1, "bob", "database:postgres", "TEMP", &detail,
	    &err) == 0, "database TEMP grant");
	is_str(admin_get("SELECT has_database_privilege('bob', 'postgres', "
	    "'TEMPORARY')", v, sizeof(v)), "t", "TEMP is TEMPORARY");
	ok(do_grant(d, c, 0, "bob", "database:postgres", "TEMPORARY", &detail,
	    &err) == 0, "database revoke");
	is_str(admin_get("SELECT has_database_privilege('bob', 'postgres', "
	    "'TEMPORARY')", v, sizeof(v)), "f", "TEMPORARY revoked");

	/* Quoting. */
	rc = do_grant(d, c, 1, "Mixed Case", "table:sales.we\"ird", "SELECT",
	    &detail, &err);
	if (!ok(rc == 0, "grant to \"Mixed Case\" on we\"ird"))
		printf("# %s\n", err.msg);
	is_str(admin_get("SELECT has_table_privilege('Mixed Case', "
	    "'sales.\"we\"\"ird\"', 'SELECT')", v, sizeof(v)), "t",
	    "has_table_privilege confirms it");
	ok(d->ops->ingest(c, &in, &err) == 0 && count_grants(&in, "Mixed Case",
	    "table:sales.we\"ird", "SELECT") == 1,
	    "ingest spells it back the same way");
	ingest_release(&in);
	ok(do_grant(d, c, 1, "Mixed Case", "role:analyst", "member", &detail,
	    &err) == 0, "membership for \"Mixed Case\"");
	is_str(admin_get("SELECT pg_has_role('Mixed Case', 'analyst', 'MEMBER')",
	    v, sizeof(v)), "t", "pg_has_role confirms it");
	ok(do_grant(d, c, 0, "Mixed Case", "table:sales.\"we\"\"ird\"", "SELECT",
	    &detail, &err) == 0, "revoke with the quoted spelling");
	is_str(admin_get("SELECT has_table_privilege('Mixed Case', "
	    "'sales.\"we\"\"ird\"', 'SELECT')", v, sizeof(v)), "f",
	    "quoted spelling names the same table");

	/* Hostile names stay names. */
	rc = do_grant(d, c, 1, "x; DROP TABLE sales.orders; --",
	    "table:sales.orders", "SELECT", &detail, &err);
	ok(rc == -1 && strstr(err.msg, "does not exist (42704)") != NULL,
	    "hostile role name is one quoted name that does not exist");
	printf("# %s\n", err.msg);
	rc = do_grant(d, c, 1, "alice", "role:x\"; DROP ROLE analyst; --",
	    "member", &detail, &err);
	ok(rc == -1 && strstr(err.msg, "(42704)") != NULL,
	    "hostile role target with a quote is quoted too");
	rc = do_grant(d, c, 1, "alice", "schema:sales; DROP SCHEMA sales CASCADE",
	    "USAGE", &detail, &err);
	ok(rc == -1 && strstr(err.msg, "(3F000)") != NULL,
	    "hostile schema name does not exist");
	rc = do_grant(d, c, 1, "alice", "table:sales.\"orders\"\"; DROP TABLE "
	    "sales.orders; --\"", "SELECT", &detail, &err);
	ok(rc == -1 && strstr(err.msg, "(42P01)") != NULL,
	    "hostile table name does not exist");
	ok(do_grant(d, c, 1, "alice", "table:sales.orders; DROP TABLE "
	    "sales.orders", "SELECT", &detail, &err) == -1 && detail.len == 0,
	    "unquoted dots in a hostile table name refused before SQL");
	is_str(admin_get("SELECT to_regclass('sales.orders') IS NOT NULL", v,
	    sizeof(v)), "t", "sales.orders still exists");
	is_str(admin_get("SELECT count(*) FROM pg_roles WHERE rolname = "
	    "'analyst'", v, sizeof(v)), "1", "analyst still exists");

	rc = do_grant(d, c, 1, "alice", "table:sales.nosuch", "SELECT", &detail,
	    &err);
	ok(rc == -1, "grant on a missing table fails");
	is_str(err.msg, "platform warehouse: GRANT SELECT ON TABLE sales.nosuch "
	    "TO alice: relation \"sales.nosuch\" does not exist (42P01)",
	    "missing table message");
	ok(strstr(buf_cstr(&detail), "42P01") != NULL,
	    "the server's error is the detail");

	/* The allow-list: PostgreSQL would accept ALL, accord must not. */
	rc = do_grant(d, c, 1, "alice", "table:sales.orders", "ALL", &detail,
	    &err);
	ok(rc == -1 && strstr(err.msg, "'ALL'") != NULL, "ALL refused");
	ok(detail.len == 0, "refused before reaching the server");
	is_str(admin_get("SELECT has_table_privilege('alice', 'sales.orders', "
	    "'DELETE')", v, sizeof(v)), "f", "no DELETE came of it");
	ok(do_grant(d, c, 1, "alice", "table:sales.orders",
	    "SELECT, DELETE", &detail, &err) == -1 && detail.len == 0,
	    "privilege list refused");
	ok(do_grant(d, c, 1, "alice", "table:sales.orders", "member", &detail,
	    &err) == -1, "member is not a table privilege");
	ok(do_grant(d, c, 1, "alice", "role:analyst", "SELECT", &detail,
	    &err) == -1, "SELECT is not a role privilege");
	ok(do_grant(d, c, 1, "alice", "schema:sales", "SELECT", &detail,
	    &err) == -1, "SELECT is not a schema privilege");
	ok(do_grant(d, c, 1, "alice", "table:orders", "SELECT", &detail,
	    &err) == -1 && strstr(err.msg, "SCHEMA.NAME") != NULL,
	    "malformed target refused");
	ok(do_grant(d, c, 1, "role:", "role:analyst", "member", &detail,
	    &err) == -1, "empty grantee refused");
	buf_release(&detail);
}

static void
test_open_errors(const struct connector_desc *d, struct connector_cfg *cfg)
{
	static const char *const bad[] = {
		"host=/nonexistent-accord port=5 user=x password=sekrit dbname=x",
		"host=/nonexistent-accord password='sek rit' user=x",
		"postgresql://x:sekrit@%2Fnonexistent-accord/db",
		"host=/nonexistent-accord password sekrit",
		"host=/nonexistent-accord password='sekrit",
	};
	struct connector *c = NULL;
	struct diag err = { .line = 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(DSN_VAR, bad[i], 1);
		ok(d->ops->open(&c, cfg, &err) == -1 && c == NULL,
		    "bad DSN %zu: open fails", i);
		ok(strstr(err.msg, "sekrit") == NULL &&
		    strstr(err.msg, "sek rit") == NULL &&
		    strstr(err.msg, "platform warehouse: ") == err.msg,
		    "bad DSN %zu: no password in \"%s\"", i, err.msg);
	}
	unsetenv(DSN_VAR);
	ok(d->ops->open(&c, cfg, &err) == -1 && strstr(err.msg, DSN_VAR) != NULL,
	    "unset DSN variable named");
}

int
main(void)
{
	const struct connector_desc *d;
	struct connector *c = NULL, *c2 = NULL;
	struct yml_doc doc = { 0 }, doc2 = { 0 };
	struct connector_cfg cfg, cfg2;
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	char dsn[1024], v[256];

	test_helpers();
	test_secret();

	d = connector_find("postgres");
	if (!ok(d != NULL, "backend") || !ok(make_cfg(&doc, &cfg, managed_all,
	    4) == 0, "config parsed"))
		return tap_done();
	test_open_errors(d, &cfg);

	if (!ok(cluster_start(dsn, sizeof(dsn)) == 0, "cluster started"))
		return tap_done();
	if (!ok(admin_sql(setup_sql) == 0, "fixtures created"))
		return tap_done();
	setenv(DSN_VAR, dsn, 1);
	if (!ok(d->ops->open(&c, &cfg, &err) == 0 && c != NULL, "open")) {
		printf("# %s\n", err.msg);
		return tap_done();
	}
	is_str(c->name, "warehouse", "connector named after the platform");
	is_str(admin_get("SELECT count(*) FROM pg_stat_activity "
	    "WHERE application_name = 'accord'", v, sizeof(v)), "1",
	    "application_name is accord");

	test_ingest(d, c);
	test_change(d, c);

	/* Only the managed kinds are read. */
	if (ok(make_cfg(&doc2, &cfg2, managed_roles, 1) == 0 &&
	    d->ops->open(&c2, &cfg2, &err) == 0, "open with roles only")) {
		ok(d->ops->ingest(c2, &in, &err) == 0, "ingest roles only");
		ok(count_grants(&in, "role:finance_app", "role:analyst",
		    "member") == 1, "memberships read");
		is_int(count_prefix(&in, "table:") + count_prefix(&in, "schema:") +
		    count_prefix(&in, "database:"), 0, "other kinds not read");
		ingest_release(&in);
		d->ops->close(c2);
	}
	yml_doc_release(&doc2);

	/* A lost connection fails ingest whole. */
	admin_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'accord'");
	ok(d->ops->ingest(c, &in, &err) == -1 && in.nidents == 0 &&
	    in.ngrants == 0, "ingest on a dead connection fails, adds nothing");
	ok(strncmp(err.msg, "platform warehouse: ingest: ", 28) == 0 &&
	    strstr(err.msg + 1, "platform ") == NULL,
	    "ingest failure names the platform once");
	printf("# %s\n", err.msg);
	d->ops->close(c);
	d->ops->close(NULL);

	yml_doc_release(&doc);
	cluster_stop();
	rmdir(tap_tmpdir());
	return tap_done();
}
