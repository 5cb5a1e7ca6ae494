/*
 * The network-free parts of the Snowflake connector: target spelling and
 * check_target, identifier and string literal quoting, the exact
 * statements sent, and SQL API result sets read by column name from
 * canned JSON (shuffled and upper-case columns, quoted names in SHOW
 * GRANTS output, partitions merged and checked against partitionInfo).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "grant.h"
#include "util.h"
#include "../../../connectors/snowflake_sql.h"
#include "../../lib/tap.h"

static json_t *
js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL) {
		fprintf(stderr, "# bad canned JSON line %d: %s\n", e.line,
		    e.text);
		exit(99);
	}
	return j;
}

static char *
quote_ident(const char *s)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	sf_quote_ident(&b, s);
	return buf_detach(&b);
}

static char *
quote_literal(const char *s)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	sf_quote_literal(&b, s);
	return buf_detach(&b);
}

static void
test_quoting(void)
{
	char *s;

	s = quote_ident("ANALYST");
	is_str(s, "\"ANALYST\"", "plain identifier quoted");
	free(s);
	s = quote_ident("we\"ird");
	is_str(s, "\"we\"\"ird\"", "embedded quote doubled");
	free(s);
	s = quote_ident("\"\"");
	is_str(s, "\"\"\"\"\"\"", "a name of two quotes");
	free(s);
	s = quote_literal("O'Brien");
	is_str(s, "'O''Brien'", "literal: quote doubled");
	free(s);
	s = quote_literal("a\\'b");
	is_str(s, "'a\\\\''b'", "literal: backslash doubled too");
	free(s);

	s = sf_unquote("\"He said \"\"hi\"\"\"");
	is_str(s, "He said \"hi\"", "unquote a rendered name");
	free(s);
	s = sf_unquote("ANALYST");
	is_str(s, "ANALYST", "bare name kept");
	free(s);
	s = sf_unquote("\"analyst\"");
	is_str(s, "analyst", "quoted lower-case name");
	free(s);
	s = sf_unquote("\"a\"b");
	is_str(s, "\"a\"b", "quotes not covering the name are kept");
	free(s);
	s = sf_unquote("\"open");
	is_str(s, "\"open", "unterminated quote kept as is");
	free(s);
}

static void
test_split(void)
{
	char *p[SF_PARTS_MAX] = { 0 };
	size_t n, i;

	ok(sf_split_name("SALES.PUBLIC.\"we\"\"ird\"", p, &n) == 0 && n == 3,
	    "three parts, last quoted");
	is_str(p[2], "we\"ird", "quoted part unquoted");
	is_str(p[0], "SALES", "first part bare");
	for (i = 0; i < n; i++)
		free(p[i]);
	ok(sf_split_name("DB.\"A.B\"", p, &n) == 0 && n == 2,
	    "a dot inside quotes does not split");
	is_str(p[1], "A.B", "dotted part");
	for (i = 0; i < n; i++)
		free(p[i]);
	ok(sf_split_name("A..B", p, &n) == -1 && n == 0, "empty part refused");
	ok(sf_split_name("A.B.C.D", p, &n) == -1 && p[0] == NULL,
	    "four parts refused, nothing left allocated");
	ok(sf_split_name("DB.\"open", p, &n) == -1, "unterminated refused");
	ok(sf_split_name("DB.\"X\"Y", p, &n) == -1,
	    "text after a closing quote refused");
}

static void
test_targets(void)
{
	char why[256], *s;
	struct sf_target t;
	char *parts[] = { "DB", "A.B", "we\"ird" };
	char name255[300], name256[300], wide[600];
	int i;

	ok(sf_check_target("role:ANALYST", why, sizeof(why)) == 0, "role");
	ok(sf_check_target("role:analyst", why, sizeof(why)) == 0,
	    "lower-case role (exact, case-sensitive)");
	ok(sf_check_target("table:SALES.PUBLIC.ORDERS", why, sizeof(why)) == 0,
	    "table DB.SCHEMA.NAME");
	ok(sf_check_target("schema:SALES.PUBLIC", why, sizeof(why)) == 0,
	    "schema DB.SCHEMA");
	ok(sf_check_target("database:SALES", why, sizeof(why)) == 0 &&
	    sf_check_target("warehouse:REPORTING_WH", why, sizeof(why)) == 0,
	    "database and warehouse");
	ok(sf_check_target("role:\"we\"\"ird\"", why, sizeof(why)) == 0,
	    "role with a quote, quoted");
	ok(sf_check_target("table:DB.\"A.B\".T", why, sizeof(why)) == 0,
	    "dotted schema quoted");
	ok(sf_check_target("table:SALES.PUBLIC", why, sizeof(why)) == -1 &&
	    strstr(why, "table:DB.SCHEMA.NAME") != NULL,
	    "table with two parts refused, shape named");
	ok(sf_check_target("table:A.B.C.D", why, sizeof(why)) == -1,
	    "table with four parts refused");
	ok(sf_check_target("schema:SALES", why, sizeof(why)) == -1 &&
	    strstr(why, "schema:DB.SCHEMA") != NULL, "schema needs DB");
	ok(sf_check_target("role:A.B", why, sizeof(why)) == -1 &&
	    strstr(why, "quote") != NULL, "role with a bare dot refused");
	ok(sf_check_target("role:\"A.B\"", why, sizeof(why)) == 0,
	    "role with a quoted dot accepted");
	ok(sf_check_target("role:\"ANALYST\"", why, sizeof(why)) == -1 &&
	    strstr(why, "write it as role:ANALYST") != NULL,
	    "needless quotes refused with the one spelling");
	ok(sf_check_target("role:we\"ird", why, sizeof(why)) == -1 &&
	    strstr(why, "role:\"we\"\"ird\"") != NULL,
	    "bare quote refused with the quoted spelling");
	ok(sf_check_target("role:\"open", why, sizeof(why)) == -1 &&
	    strstr(why, "unterminated") != NULL, "unterminated quote");
	ok(sf_check_target("role:", why, sizeof(why)) == -1 &&
	    strstr(why, "empty") != NULL, "empty role");
	ok(sf_check_target("table:.S.T", why, sizeof(why)) == -1,
	    "empty database part");
	ok(sf_check_target("group:X", why, sizeof(why)) == -1 &&
	    strstr(why, "warehouse") != NULL, "foreign kind refused, kinds named");
	ok(sf_check_target("ANALYST", why, sizeof(why)) == -1, "no kind");
	ok(sf_check_target("role:A\tB", why, sizeof(why)) == -1 &&
	    strstr(why, "control") != NULL, "control character refused");
	memset(name255, 'A', 255);
	name255[255] = '\0';
	memset(name256, 'A', 256);
	name256[256] = '\0';
	s = xasprintf("role:%s", name255);
	ok(sf_check_target(s, why, sizeof(why)) == 0, "255 characters");
	free(s);
	s = xasprintf("role:%s", name256);
	ok(sf_check_target(s, why, sizeof(why)) == -1 &&
	    strstr(why, "255") != NULL, "256 characters refused");
	free(s);
	for (i = 0; i < 255; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	wide[510] = '\0';
	s = xasprintf("role:%s", wide);
	ok(sf_check_target(s, why, sizeof(why)) == 0,
	    "255 two-byte characters are 255 characters");
	free(s);

	ok(sf_parse_target("table:DB.\"A.B\".\"we\"\"ird\"", &t, why,
	    sizeof(why)) == 0 && t.kind == SFK_TABLE && t.nparts == 3,
	    "parse a quoted table");
	is_str(t.part[1], "A.B", "schema part");
	is_str(t.part[2], "we\"ird", "table part");
	sf_target_release(&t);
	s = sf_spell_target(SFK_TABLE, parts, 3);
	is_str(s, "table:DB.\"A.B\".\"we\"\"ird\"", "spelling round-trips");
	free(s);
	is_int(sf_kind_lookup("warehouse", 9), SFK_WAREHOUSE, "kind lookup");
	is_int(sf_kind_lookup("ware", 4), -1, "kind lookup whole word");
	is_int(sf_kind_parts(SFK_SCHEMA), 2, "schema has two parts");
}

static struct pgrant
mk(const char *account, const char *target, const char *priv)
{
	struct pgrant g;

	g.account = (char *)account;
	g.target = (char *)target;
	g.privilege = (char *)priv;
	return g;
}

/* The statement for a grant (grant=1) or revoke, or "ERR: why". */
static char *
change(int grant, const char *account, const char *target, const char *priv)
{
	struct pgrant g = mk(account, target, priv);
	char why[512], *sql;

	if (sf_change_sql(grant, &g, &sql, why, sizeof(why)) != 0)
		return xasprintf("ERR: %s", why);
	return sql;
}

static void
check_change(int grant, const char *account, const char *target,
    const char *priv, const char *want, const char *name)
{
	char *got = change(grant, account, target, priv);

	if (strncmp(want, "ERR: ", 5) == 0 && strncmp(got, "ERR: ", 5) == 0) {
		ok(strstr(got, want + 5) != NULL, "%s", name);
		if (strstr(got, want + 5) == NULL)
			printf("#   got: '%s'\n", got);
	} else
		is_str(got, want, name);
	free(got);
}

static void
test_statements(void)
{
	char *s;

	s = sf_show_sql("USERS", NULL);
	is_str(s, "SHOW USERS LIMIT 1000", "first users page");
	free(s);
	s = sf_show_sql("ROLES", "ZED'S\\ROLE");
	is_str(s, "SHOW ROLES LIMIT 1000 FROM 'ZED''S\\\\ROLE'",
	    "next page: cursor as an escaped literal");
	free(s);
	s = sf_grants_sql(1, "ANALYST");
	is_str(s, "SHOW GRANTS OF ROLE \"ANALYST\"", "grants of role");
	free(s);
	s = sf_grants_sql(0, "we\"ird");
	is_str(s, "SHOW GRANTS TO ROLE \"we\"\"ird\"", "grants to role quoted");
	free(s);

	check_change(1, "ALICE", "role:ANALYST", "member",
	    "GRANT ROLE \"ANALYST\" TO USER \"ALICE\"", "grant role to user");
	check_change(0, "ALICE", "role:ANALYST", "member",
	    "REVOKE ROLE \"ANALYST\" FROM USER \"ALICE\"", "revoke from user");
	check_change(1, "role:FINANCE_APP", "role:REPORTING", "member",
	    "GRANT ROLE \"REPORTING\" TO ROLE \"FINANCE_APP\"",
	    "grant role to role");
	check_change(0, "role:FINANCE_APP", "role:REPORTING", "member",
	    "REVOKE ROLE \"REPORTING\" FROM ROLE \"FINANCE_APP\"",
	    "revoke role from role");
	check_change(1, "role:R", "table:DB.S.T", "SELECT",
	    "GRANT SELECT ON TABLE \"DB\".\"S\".\"T\" TO ROLE \"R\"",
	    "table privilege");
	check_change(0, "role:R", "table:DB.S.T", "select",
	    "REVOKE SELECT ON TABLE \"DB\".\"S\".\"T\" FROM ROLE \"R\"",
	    "privilege case folded to the canonical spelling");
	check_change(1, "role:R", "schema:DB.S", "USAGE",
	    "GRANT USAGE ON SCHEMA \"DB\".\"S\" TO ROLE \"R\"", "schema");
	check_change(1, "role:R", "database:DB", "MONITOR",
	    "GRANT MONITOR ON DATABASE \"DB\" TO ROLE \"R\"", "database");
	check_change(0, "role:R", "warehouse:W", "OPERATE",
	    "REVOKE OPERATE ON WAREHOUSE \"W\" FROM ROLE \"R\"", "warehouse");
	check_change(1, "role:we\"ird", "table:DB.\"A.B\".\"x\"\"y\"",
	    "INSERT", "GRANT INSERT ON TABLE \"DB\".\"A.B\".\"x\"\"y\" TO "
	    "ROLE \"we\"\"ird\"", "hostile names quoted everywhere");
	check_change(1, "bob\"; DROP USER x; --", "role:analyst", "member",
	    "GRANT ROLE \"analyst\" TO USER \"bob\"\"; DROP USER x; --\"",
	    "injection stays inside one identifier");
	check_change(1, "ALICE", "table:DB.S.T", "SELECT",
	    "ERR: snowflake grants object privileges to roles; set grantee: "
	    "role:NAME", "object privilege to a user refused");
	check_change(1, "role:R", "table:DB.S.T", "OWNERSHIP",
	    "ERR: privilege 'OWNERSHIP' is not one accord grants on table "
	    "targets (SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES)",
	    "privilege outside the list refused, list named");
	check_change(1, "role:R", "table:DB.S.T",
	    "SELECT ON TABLE X TO ROLE Y; --", "ERR: is not one accord grants",
	    "privilege text never pasted");
	check_change(1, "role:R", "schema:DB.S", "CREATE TABLE",
	    "ERR: (USAGE, MONITOR)", "schema list");
	check_change(1, "role:R", "warehouse:W", "SELECT",
	    "ERR: (USAGE, OPERATE, MONITOR)", "warehouse list");
	check_change(1, "ALICE", "role:ANALYST", "SELECT",
	    "ERR: member, not 'SELECT'", "role privilege must be member");
	check_change(1, "role:", "role:ANALYST", "member", "ERR: empty grantee",
	    "empty role grantee refused");
	check_change(1, "ALICE", "role:A.B", "member", "ERR: quote a name",
	    "unparseable target refused");
	check_change(1, "AL\nICE", "role:A", "member", "ERR: control",
	    "control character in grantee refused");
	ok(sf_privilege_lookup(SFK_WAREHOUSE, "usage") != NULL &&
	    strcmp(sf_privilege_lookup(SFK_WAREHOUSE, "usage"), "USAGE") == 0,
	    "lookup returns the constant");
	ok(sf_privilege_lookup(SFK_ROLE, "MEMBER") == NULL,
	    "member is lower-case only");
	{
		struct pgrant g = mk(NULL, "role:A", "member");
		char why[64], *sql = (char *)"x";

		ok(sf_change_sql(1, &g, &sql, why, sizeof(why)) == -1 &&
		    sql == NULL, "incomplete grant refused");
	}
}

/* SHOW USERS with columns in an order no real bundle uses, one of them
 * upper-case: parsing goes by name. */
static const char users_page[] =
    "{\"resultSetMetaData\": {\"numRows\": 4, \"format\": \"jsonv2\","
    "  \"partitionInfo\": [{\"rowCount\": 4, \"uncompressedSize\": 99}],"
    "  \"rowType\": ["
    "   {\"name\": \"email\", \"type\": \"text\"},"
    "   {\"name\": \"created_on\", \"type\": \"timestamp_ltz\"},"
    "   {\"name\": \"disabled\", \"type\": \"text\"},"
    "   {\"name\": \"LOGIN_NAME\", \"type\": \"text\"},"
    "   {\"name\": \"name\", \"type\": \"text\"}]},"
    " \"data\": ["
    "  [\"zed@example.com\", \"1716000000.0\", \"false\", \"ZED\", \"ZACK\"],"
    "  [\"alice@example.com\", \"1716000000.0\", \"false\", \"ALICE_L\", "
    "   \"ALICE\"],"
    "  [null, \"1716000000.0\", \"false\", \"\", \"BOB\"],"
    "  [\"\", \"1716000000.0\", \"false\", null, \"we\\\"ird\"]],"
    " \"code\": \"090001\", \"statementHandle\": \"h-users\","
    " \"message\": \"Statement executed successfully.\"}";

static const struct ident *
find_ident(const struct ingest *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nidents; i++)
		if (strcmp(in->idents[i].name, name) == 0)
			return &in->idents[i];
	return NULL;
}

static int
has_grant(const struct ingest *in, const char *account, const char *target,
    const char *priv)
{
	size_t i;

	for (i = 0; i < in->ngrants; i++)
		if (strcmp(in->grants[i].account, account) == 0 &&
		    strcmp(in->grants[i].target, target) == 0 &&
		    strcmp(in->grants[i].privilege, priv) == 0)
			return 1;
	return 0;
}

static void
test_users(void)
{
	struct sf_result r;
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	const struct ident *id;
	json_t *j = js(users_page);
	size_t rows;
	char *last = NULL;

	ok(sf_result_parse(&r, j, &err) == 0, "users page parses");
	is_int(sf_result_col(&r, "login_name"), 3,
	    "column found by name, case-insensitively");
	is_int(sf_result_col(&r, "nosuch"), -1, "absent column");
	ok(sf_result_complete(&r, &err) == 0, "one partition, complete");
	is_str(r.handle, "h-users", "statement handle kept");
	ok(sf_ingest_page(&in, &r, ACCT_USER, "ZACK", &rows, &last,
	    &err) == 0, "users page ingested");
	is_int(rows, 4, "rows counted including the cursor row");
	is_int(in.nidents, 3, "a first row equal to the cursor dropped");
	is_str(last, "we\"ird", "last name for the next cursor");
	id = find_ident(&in, "ALICE");
	ok(id != NULL && id->kind == ACCT_USER, "ALICE is a user");
	is_str(id ? id->email : NULL, "alice@example.com", "email by name");
	is_str(id ? id->login : NULL, "ALICE_L", "login by name");
	id = find_ident(&in, "BOB");
	ok(id != NULL && id->email == NULL && id->login == NULL,
	    "null and empty cells are no value");
	ok(find_ident(&in, "ZACK") == NULL, "cursor row not added");
	free(last);
	ingest_release(&in);

	/* Without a cursor, the first row is kept. */
	ok(sf_ingest_page(&in, &r, ACCT_ROLE, NULL, &rows, &last, &err) == 0 &&
	    in.nidents == 4 && in.idents[0].kind == ACCT_ROLE &&
	    in.idents[0].email == NULL, "roles page: names only");
	free(last);
	ingest_release(&in);
	sf_result_release(&r);
	json_decref(j);

	j = js("{\"resultSetMetaData\": {\"rowType\": "
	    "[{\"name\": \"login_name\"}]}, \"data\": [[\"X\"]]}");
	ok(sf_result_parse(&r, j, &err) == 0, "parses without numRows");
	ok(sf_ingest_page(&in, &r, ACCT_USER, NULL, &rows, &last, &err) == -1 &&
	    strstr(err.msg, "no column 'name'") != NULL,
	    "missing name column is an error");
	ingest_release(&in);
	sf_result_release(&r);
	json_decref(j);

	j = js("{\"resultSetMetaData\": {\"rowType\": [{\"name\": \"name\"}]},"
	    " \"data\": []}");
	ok(sf_result_parse(&r, j, &err) == 0 && sf_result_rows(&r) == 0,
	    "empty page");
	ok(sf_ingest_page(&in, &r, ACCT_USER, "X", &rows, &last, &err) == 0 &&
	    rows == 0 && last == NULL, "empty page: no rows, no cursor");
	sf_result_release(&r);
	json_decref(j);
}

static const char part0[] =
    "{\"resultSetMetaData\": {\"numRows\": 5,"
    "  \"partitionInfo\": [{\"rowCount\": 2}, {\"rowCount\": 2},"
    "   {\"rowCount\": 1}],"
    "  \"rowType\": [{\"name\": \"name\"}, {\"name\": \"n\"}]},"
    " \"data\": [[\"A\", \"1\"], [\"B\", \"2\"]],"
    " \"statementHandle\": \"h-parts\"}";

static void
test_partitions(void)
{
	struct sf_result r;
	struct diag err = { .line = 0 };
	json_t *j0 = js(part0);
	json_t *j1 = js("{\"data\": [[\"C\", \"3\"], [\"D\", null]]}");
	json_t *j2 = js("{\"data\": [[\"E\", \"5\"]]}");
	json_t *short1 = js("{\"data\": [[\"C\", \"3\"]]}");
	json_t *wide = js("{\"data\": [[\"C\", \"3\", \"x\"], [\"D\", \"4\"]]}");
	json_t *num = js("{\"data\": [[\"C\", 3], [\"D\", \"4\"]]}");
	json_t *nodata = js("{\"resultSetMetaData\": {}}");

	ok(sf_result_parse(&r, j0, &err) == 0 && r.npartitions == 3,
	    "three partitions announced");
	ok(sf_result_complete(&r, &err) == -1 &&
	    strstr(err.msg, "1 of 3 partitions") != NULL,
	    "incomplete before the others are merged");
	ok(sf_result_merge(&r, j1, &err) == 0, "partition 1 merged");
	ok(sf_result_merge(&r, j2, &err) == 0, "partition 2 merged");
	ok(sf_result_complete(&r, &err) == 0, "complete");
	is_int(sf_result_rows(&r), 5, "five rows");
	is_str(sf_result_get(&r, 2, 0), "C", "partition 1 follows partition 0");
	is_str(sf_result_get(&r, 4, sf_result_col(&r, "name")), "E",
	    "partition 2 last");
	ok(sf_result_get(&r, 3, 1) == NULL, "null cell");
	ok(sf_result_get(&r, 9, 0) == NULL && sf_result_get(&r, 0, -1) == NULL,
	    "out of range is NULL");
	ok(sf_result_merge(&r, j2, &err) == -1 &&
	    strstr(err.msg, "not announced") != NULL, "extra partition refused");
	sf_result_release(&r);

	sf_result_parse(&r, j0, &err);
	ok(sf_result_merge(&r, short1, &err) == -1 &&
	    strstr(err.msg, "partition 1 has 1 rows, partitionInfo announced 2")
	    != NULL, "a partition cut short is an error");
	sf_result_release(&r);
	sf_result_parse(&r, j0, &err);
	ok(sf_result_merge(&r, wide, &err) == -1 &&
	    strstr(err.msg, "row 1") != NULL, "a row of the wrong width refused");
	sf_result_release(&r);
	sf_result_parse(&r, j0, &err);
	ok(sf_result_merge(&r, num, &err) == -1 &&
	    strstr(err.msg, "column n") != NULL, "a non-string cell refused");
	ok(sf_result_merge(&r, nodata, &err) == -1 &&
	    strstr(err.msg, "no 'data'") != NULL, "partition without data");
	sf_result_release(&r);

	ok(sf_result_parse(&r, nodata, &err) == -1 &&
	    strstr(err.msg, "rowType") != NULL, "no rowType refused");
	sf_result_release(&r);
	json_decref(j0);
	j0 = js("{\"resultSetMetaData\": {\"numRows\": 3, \"rowType\": "
	    "[{\"name\": \"a\"}]}, \"data\": [[\"x\"]]}");
	ok(sf_result_parse(&r, j0, &err) == 0 &&
	    sf_result_complete(&r, &err) == -1 &&
	    strstr(err.msg, "numRows announced 3") != NULL,
	    "fewer rows than numRows is an error");
	sf_result_release(&r);
	sf_result_release(NULL);
	json_decref(j0);
	j0 = js("{\"resultSetMetaData\": {\"partitionInfo\": [{\"rowCount\": 2}],"
	    " \"rowType\": [{\"name\": \"a\"}]}, \"data\": [[\"x\"]]}");
	ok(sf_result_parse(&r, j0, &err) == -1 &&
	    strstr(err.msg, "partition 0 has 1 rows") != NULL,
	    "partition 0 checked too");
	json_decref(j0);
	json_decref(j1);
	json_decref(j2);
	json_decref(short1);
	json_decref(wide);
	json_decref(num);
	json_decref(nodata);
}

static void
test_members(void)
{
	struct sf_result r;
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	json_t *j = js("{\"resultSetMetaData\": {\"rowType\": ["
	    " {\"name\": \"grantee_name\"}, {\"name\": \"granted_by\"},"
	    " {\"name\": \"Granted_To\"}, {\"name\": \"role\"},"
	    " {\"name\": \"created_on\"}]},"
	    " \"data\": ["
	    "  [\"ALICE\", \"SECURITYADMIN\", \"USER\", \"A.B\", \"1\"],"
	    "  [\"\\\"we\\\"\\\"ird\\\"\", \"SECURITYADMIN\", \"ROLE\", \"A.B\","
	    "   \"1\"],"
	    "  [\"\\\"bob\\\"\", \"SECURITYADMIN\", \"USER\", \"A.B\", \"1\"],"
	    "  [\"SOME_SHARE\", \"SECURITYADMIN\", \"SHARE\", \"A.B\", \"1\"]]}");

	ok(sf_result_parse(&r, j, &err) == 0, "grants-of result parses");
	ok(sf_ingest_members(&in, &r, "A.B", &err) == 0, "members ingested");
	is_int(in.ngrants, 3, "shares are not accounts");
	ok(has_grant(&in, "ALICE", "role:\"A.B\"", "member"),
	    "user member, dotted role quoted in the target");
	ok(has_grant(&in, "role:we\"ird", "role:\"A.B\"", "member"),
	    "role member, rendered quotes removed");
	ok(has_grant(&in, "bob", "role:\"A.B\"", "member"),
	    "lower-case user unquoted");
	ingest_release(&in);
	sf_result_release(&r);
	json_decref(j);

	j = js("{\"resultSetMetaData\": {\"rowType\": [{\"name\": \"role\"}]},"
	    " \"data\": [[\"X\"]]}");
	sf_result_parse(&r, j, &err);
	ok(sf_ingest_members(&in, &r, "X", &err) == -1 &&
	    strstr(err.msg, "granted_to") != NULL, "missing column refused");
	sf_result_release(&r);
	json_decref(j);
}

static void
test_privileges(void)
{
	static char *managed[] = {
		"table:SALES.PUBLIC.*", "schema:SALES.*", "warehouse:REPORTING_WH",
		"database:*", "role:*"
	};
	const unsigned kinds = (1u << SFK_TABLE) | (1u << SFK_SCHEMA) |
	    (1u << SFK_WAREHOUSE);
	struct sf_result r;
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	json_t *j = js("{\"resultSetMetaData\": {\"rowType\": ["
	    " {\"name\": \"name\"}, {\"name\": \"grant_option\"},"
	    " {\"name\": \"privilege\"}, {\"name\": \"granted_on\"},"
	    " {\"name\": \"granted_to\"}, {\"name\": \"grantee_name\"}]},"
	    " \"data\": ["
	    "  [\"SALES.PUBLIC.ORDERS\", \"false\", \"SELECT\", \"TABLE\","
	    "   \"ROLE\", \"ANALYST\"],"
	    "  [\"SALES.PUBLIC.ORDERS\", \"false\", \"OWNERSHIP\", \"TABLE\","
	    "   \"ROLE\", \"ANALYST\"],"
	    "  [\"SALES.PUBLIC.\\\"we\\\"\\\"ird\\\"\", \"false\", \"INSERT\","
	    "   \"TABLE\", \"ROLE\", \"ANALYST\"],"
	    "  [\"SALES.PUBLIC\", \"false\", \"USAGE\", \"SCHEMA\", \"ROLE\","
	    "   \"ANALYST\"],"
	    "  [\"REPORTING_WH\", \"false\", \"USAGE\", \"WAREHOUSE\", \"ROLE\","
	    "   \"ANALYST\"],"
	    "  [\"SALES\", \"false\", \"USAGE\", \"DATABASE\", \"ROLE\","
	    "   \"ANALYST\"],"
	    "  [\"OTHER_WH\", \"false\", \"USAGE\", \"WAREHOUSE\", \"ROLE\","
	    "   \"ANALYST\"],"
	    "  [\"SALES.PUBLIC.V\", \"false\", \"SELECT\", \"VIEW\", \"ROLE\","
	    "   \"ANALYST\"],"
	    "  [\"OTHER\", \"false\", \"USAGE\", \"ROLE\", \"ROLE\","
	    "   \"ANALYST\"]]}");

	ok(sf_result_parse(&r, j, &err) == 0, "grants-to result parses");
	ok(sf_ingest_privileges(&in, &r, "ANALYST", kinds, managed, 5,
	    &err) == 0, "privileges ingested");
	is_int(in.ngrants, 4, "only managed kinds and targets, no OWNERSHIP");
	ok(has_grant(&in, "role:ANALYST", "table:SALES.PUBLIC.ORDERS", "SELECT"),
	    "table privilege to the role");
	ok(has_grant(&in, "role:ANALYST", "table:SALES.PUBLIC.\"we\"\"ird\"",
	    "INSERT"), "quoted table name respelled");
	ok(has_grant(&in, "role:ANALYST", "schema:SALES.PUBLIC", "USAGE"),
	    "schema privilege");
	ok(has_grant(&in, "role:ANALYST", "warehouse:REPORTING_WH", "USAGE"),
	    "warehouse privilege");
	ok(!has_grant(&in, "role:ANALYST", "database:SALES", "USAGE"),
	    "database kind not managed: left out");
	ok(!has_grant(&in, "role:ANALYST", "warehouse:OTHER_WH", "USAGE"),
	    "unmanaged warehouse left out");
	ok(!has_grant(&in, "role:ANALYST", "table:SALES.PUBLIC.ORDERS",
	    "OWNERSHIP"), "OWNERSHIP never reported");
	ingest_release(&in);
	sf_result_release(&r);
	json_decref(j);

	j = js("{\"resultSetMetaData\": {\"rowType\": ["
	    " {\"name\": \"privilege\"}, {\"name\": \"granted_on\"},"
	    " {\"name\": \"name\"}]},"
	    " \"data\": [[\"SELECT\", \"TABLE\", \"SALES.ORDERS\"]]}");
	sf_result_parse(&r, j, &err);
	ok(sf_ingest_privileges(&in, &r, "ANALYST", kinds, managed, 5,
	    &err) == -1 && strstr(err.msg, "SALES.ORDERS") != NULL,
	    "a table name without three parts is an error");
	ingest_release(&in);
	sf_result_release(&r);
	json_decref(j);
}

static void
test_answers(void)
{
	struct sf_result r;
	struct diag err = { .line = 0 };
	json_t *j;
	char *s;

	j = js("{\"code\": \"002003\", \"sqlState\": \"02000\", \"message\": "
	    "\"SQL compilation error:\\nRole 'NOPE' does not exist or not "
	    "authorized.\", \"statementHandle\": \"h-fail\"}");
	s = sf_failure_text(j);
	is_str(s, "002003 (02000) SQL compilation error: Role 'NOPE' does not "
	    "exist or not authorized.", "failure as one line with code and state");
	free(s);
	json_decref(j);
	j = js("{\"message\": \"  odd \"}");
	s = sf_failure_text(j);
	is_str(s, "odd", "failure without code");
	free(s);
	json_decref(j);

	j = js("{\"resultSetMetaData\": {\"numRows\": 1, \"rowType\": "
	    "[{\"name\": \"status\", \"type\": \"text\"}]}, \"data\": "
	    "[[\"Statement executed successfully.\"]], \"message\": "
	    "\"successfully executed\", \"statementHandle\": \"h1\"}");
	ok(sf_result_parse(&r, j, &err) == 0, "DDL answer parses");
	is_str(sf_result_status(&r), "Statement executed successfully.",
	    "status cell is the answer");
	sf_result_release(&r);
	json_decref(j);
	j = js("{\"resultSetMetaData\": {\"rowType\": [{\"name\": \"x\"}]}, "
	    "\"data\": [], \"message\": \"done\"}");
	sf_result_parse(&r, j, &err);
	is_str(sf_result_status(&r), "done", "message when no status cell");
	sf_result_release(&r);
	json_decref(j);
}

static void
test_managed(void)
{
	static char *managed[] = { "role:ANALYST_*", "warehouse:WH" };

	ok(sf_managed(managed, 2, "role:ANALYST_SALES"), "glob matches");
	ok(!sf_managed(managed, 2, "role:analyst_sales"),
	    "globs are case-sensitive like names");
	ok(!sf_managed(managed, 2, "role:SYSADMIN"), "other role not managed");
	ok(!sf_managed(managed, 0, "warehouse:WH"), "nothing managed");
}

int
main(void)
{
	test_quoting();
	test_split();
	test_targets();
	test_statements();
	test_users();
	test_partitions();
	test_members();
	test_privileges();
	test_answers();
	test_managed();
	return tap_done();
}
