/*
 * What the Snowflake backend computes without the network: how targets
 * are spelled and split, how names and strings are quoted into SQL, the
 * exact statements it sends, and how SQL API result sets are read.  Rows
 * are read by column name, never by position, because Snowflake's
 * behaviour-change bundles add and reorder SHOW columns; partitions are
 * checked against the row counts partition 0 announced, so that a result
 * cut short is an error rather than a silently smaller set of grants.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "snowflake_sql.h"
#include "util.h"

const char *const sf_kind_names[] = {
	"role", "table", "schema", "database", "warehouse", NULL
};

/* What SHOW GRANTS TO ROLE writes in granted_on, by kind. */
static const char *const sf_object_words[] = {
	[SFK_ROLE] = "ROLE", [SFK_TABLE] = "TABLE", [SFK_SCHEMA] = "SCHEMA",
	[SFK_DATABASE] = "DATABASE", [SFK_WAREHOUSE] = "WAREHOUSE",
};

static const size_t sf_nparts[] = {
	[SFK_ROLE] = 1, [SFK_TABLE] = 3, [SFK_SCHEMA] = 2, [SFK_DATABASE] = 1,
	[SFK_WAREHOUSE] = 1,
};

static const char *const sf_shapes[] = {
	[SFK_ROLE] = "role:NAME", [SFK_TABLE] = "table:DB.SCHEMA.NAME",
	[SFK_SCHEMA] = "schema:DB.SCHEMA", [SFK_DATABASE] = "database:NAME",
	[SFK_WAREHOUSE] = "warehouse:NAME",
};

/* Privileges accord grants and revokes, per kind.  What reaches SQL is
 * always one of these constants, never a caller's string. */
static const char *const privs_table[] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", NULL
};
static const char *const privs_schema[] = { "USAGE", "MONITOR", NULL };
static const char *const privs_database[] = { "USAGE", "MONITOR", NULL };
static const char *const privs_warehouse[] = {
	"USAGE", "OPERATE", "MONITOR", NULL
};

int
sf_kind_lookup(const char *s, size_t n)
{
	int i;

	for (i = 0; sf_kind_names[i] != NULL; i++)
		if (strlen(sf_kind_names[i]) == n &&
		    strncmp(sf_kind_names[i], s, n) == 0)
			return i;
	return -1;
}

size_t
sf_kind_parts(enum sf_kind kind)
{
	return sf_nparts[kind];
}

/* Characters, not bytes: Snowflake's limit counts characters. */
static size_t
utf8_len(const char *s, size_t n)
{
	size_t i, chars = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	return chars;
}

/* One name at *p: "quoted" ("" for a quote) or bare up to '.' or end. */
static int
parse_part(const char **p, char **out, char *why, size_t whysz)
{
	const char *s = *p;
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	if (*s == '"') {
		for (s++;; s++) {
			if (*s == '\0') {
				snprintf(why, whysz, "unterminated quote");
				goto fail;
			}
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			buf_putc(&b, *s);
		}
		s++;
	} else {
		while (*s != '\0' && *s != '.')
			buf_putc(&b, *s++);
	}
	if (b.len == 0) {
		snprintf(why, whysz, "empty name");
		goto fail;
	}
	if (utf8_len(b.ptr, b.len) > SF_NAME_MAX) {
		snprintf(why, whysz, "name longer than %d characters",
		    SF_NAME_MAX);
		goto fail;
	}
	*p = s;
	*out = buf_detach(&b);
	return 0;
fail:
	buf_release(&b);
	return -1;
}

static int
has_ctrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

void
sf_target_release(struct sf_target *t)
{
	size_t i;

	for (i = 0; i < SF_PARTS_MAX; i++) {
		free(t->part[i]);
		t->part[i] = NULL;
	}
	t->nparts = 0;
}

int
sf_parse_target(const char *target, struct sf_target *t, char *why,
    size_t whysz)
{
	const char *colon, *p;
	size_t want;
	int k;

	memset(t, 0, sizeof(*t));
	if (target == NULL || (colon = strchr(target, ':')) == NULL) {
		snprintf(why, whysz, "a target is KIND:NAME");
		return -1;
	}
	if ((k = sf_kind_lookup(target, (size_t)(colon - target))) < 0) {
		snprintf(why, whysz, "snowflake has no '%.*s' targets (role, "
		    "table, schema, database, warehouse)",
		    (int)(colon - target), target);
		return -1;
	}
	if (has_ctrl(colon + 1)) {
		snprintf(why, whysz, "control character in a name");
		return -1;
	}
	t->kind = (enum sf_kind)k;
	want = sf_nparts[k];
	p = colon + 1;
	for (;;) {
		if (parse_part(&p, &t->part[t->nparts], why, whysz) != 0)
			goto fail;
		t->nparts++;
		if (*p == '\0')
			break;
		if (*p != '.' || t->nparts == want) {
			snprintf(why, whysz, "%s targets are %s (quote a name "
			    "that contains a dot)", sf_kind_names[k],
			    sf_shapes[k]);
			goto fail;
		}
		p++;
	}
	if (t->nparts != want) {
		snprintf(why, whysz, "%s targets are %s", sf_kind_names[k],
		    sf_shapes[k]);
		goto fail;
	}
	return 0;
fail:
	sf_target_release(t);
	return -1;
}

/* The inverse of parse_part. */
static void
spell_part(struct buf *b, const char *name)
{
	if (strpbrk(name, ".\"") == NULL) {
		buf_puts(b, name);
		return;
	}
	sf_quote_ident(b, name);
}

char *
sf_spell_target(enum sf_kind kind, char *const *parts, size_t n)
{
	struct buf s = BUF_INIT;
	size_t i;

	buf_init(&s, 0);
	buf_printf(&s, "%s:", sf_kind_names[kind]);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&s, '.');
		spell_part(&s, parts[i]);
	}
	return buf_detach(&s);
}

int
sf_check_target(const char *target, char *why, size_t whysz)
{
	struct sf_target t;
	char *canon;
	int rc = 0;

	if (sf_parse_target(target, &t, why, whysz) != 0)
		return -1;
	canon = sf_spell_target(t.kind, t.part, t.nparts);
	if (strcmp(canon, target) != 0) {
		snprintf(why, whysz, "write it as %s (quotes only around a "
		    "name holding '.' or '\"')", canon);
		rc = -1;
	}
	free(canon);
	sf_target_release(&t);
	return rc;
}

void
sf_quote_ident(struct buf *b, const char *name)
{
	buf_putc(b, '"');
	for (; *name != '\0'; name++) {
		if (*name == '"')
			buf_putc(b, '"');
		buf_putc(b, *name);
	}
	buf_putc(b, '"');
}

void
sf_quote_literal(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			buf_putc(b, *s);
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

/* SHOW GRANTS renders a name quoted only when it needs quotes, so a
 * quoted form is recognised by covering the whole string. */
char *
sf_unquote(const char *s)
{
	const char *p = s;
	char *out = NULL, why[64];

	if (*s == '"' && parse_part(&p, &out, why, sizeof(why)) == 0 &&
	    *p == '\0')
		return out;
	free(out);
	return xstrdup(s);
}

int
sf_split_name(const char *s, char **parts, size_t *n)
{
	const char *p = s;
	char why[64];
	size_t i;

	*n = 0;
	for (;;) {
		if (*n == SF_PARTS_MAX ||
		    parse_part(&p, &parts[*n], why, sizeof(why)) != 0)
			goto fail;
		(*n)++;
		if (*p == '\0')
			return 0;
		if (*p != '.')
			goto fail;
		p++;
	}
fail:
	for (i = 0; i < *n; i++) {
		free(parts[i]);
		parts[i] = NULL;
	}
	*n = 0;
	return -1;
}

char *
sf_show_sql(const char *what, const char *after)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	buf_printf(&b, "SHOW %s LIMIT %d", what, SF_PAGE);
	if (after != NULL) {
		buf_puts(&b, " FROM ");
		sf_quote_literal(&b, after);
	}
	return buf_detach(&b);
}

char *
sf_grants_sql(int of, const char *role)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	buf_printf(&b, "SHOW GRANTS %s ROLE ", of ? "OF" : "TO");
	sf_quote_ident(&b, role);
	return buf_detach(&b);
}

const char *
sf_privilege_lookup(enum sf_kind kind, const char *priv)
{
	const char *const *list;
	size_t i;

	switch (kind) {
	case SFK_ROLE:
		return strcmp(priv, "member") == 0 ? "member" : NULL;
	case SFK_TABLE:
		list = privs_table;
		break;
	case SFK_SCHEMA:
		list = privs_schema;
		break;
	case SFK_DATABASE:
		list = privs_database;
		break;
	case SFK_WAREHOUSE:
		list = privs_warehouse;
		break;
	default:
		return NULL;
	}
	for (i = 0; list[i] != NULL; i++)
		if (strcasecmp(list[i], priv) == 0)
			return list[i];
	return NULL;
}

static void
privilege_list(enum sf_kind kind, char *out, size_t outsz)
{
	const char *const *list = kind == SFK_TABLE ? privs_table :
	    kind == SFK_SCHEMA ? privs_schema : kind == SFK_DATABASE ?
	    privs_database : privs_warehouse;
	size_t i, len = 0;
	int n;

	out[0] = '\0';
	for (i = 0; list[i] != NULL && len < outsz; i++) {
		n = snprintf(out + len, outsz - len, "%s%s", i ? ", " : "",
		    list[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static int
grantee_ok(const char *name, char *why, size_t whysz)
{
	if (*name == '\0') {
		snprintf(why, whysz, "empty grantee");
		return -1;
	}
	if (has_ctrl(name)) {
		snprintf(why, whysz, "control character in the grantee");
		return -1;
	}
	if (utf8_len(name, strlen(name)) > SF_NAME_MAX) {
		snprintf(why, whysz, "grantee longer than %d characters",
		    SF_NAME_MAX);
		return -1;
	}
	return 0;
}

int
sf_change_sql(int grant, const struct pgrant *g, char **sql, char *why,
    size_t whysz)
{
	const char *verb = grant ? "GRANT" : "REVOKE";
	const char *prep = grant ? "TO" : "FROM";
	const char *priv, *grantee;
	struct sf_target t;
	struct buf b = BUF_INIT;
	char list[128];
	size_t i;
	int to_role, rc = -1;

	*sql = NULL;
	if (g == NULL || g->account == NULL || g->target == NULL ||
	    g->privilege == NULL) {
		snprintf(why, whysz, "incomplete grant");
		return -1;
	}
	if (sf_parse_target(g->target, &t, why, whysz) != 0)
		return -1;
	to_role = strncmp(g->account, "role:", 5) == 0;
	grantee = to_role ? g->account + 5 : g->account;
	if (grantee_ok(grantee, why, whysz) != 0)
		goto out;
	if ((priv = sf_privilege_lookup(t.kind, g->privilege)) == NULL) {
		if (t.kind == SFK_ROLE)
			snprintf(why, whysz, "the privilege on a role is "
			    "member, not '%s'", g->privilege);
		else {
			privilege_list(t.kind, list, sizeof(list));
			snprintf(why, whysz, "privilege '%s' is not one accord "
			    "grants on %s targets (%s)", g->privilege,
			    sf_kind_names[t.kind], list);
		}
		goto out;
	}
	if (t.kind != SFK_ROLE && !to_role) {
		snprintf(why, whysz, "snowflake grants object privileges to "
		    "roles; set grantee: role:NAME");
		goto out;
	}
	buf_init(&b, 0);
	if (t.kind == SFK_ROLE) {
		buf_printf(&b, "%s ROLE ", verb);
		sf_quote_ident(&b, t.part[0]);
		buf_printf(&b, " %s %s ", prep, to_role ? "ROLE" : "USER");
	} else {
		buf_printf(&b, "%s %s ON %s ", verb, priv,
		    sf_object_words[t.kind]);
		for (i = 0; i < t.nparts; i++) {
			if (i > 0)
				buf_putc(&b, '.');
			sf_quote_ident(&b, t.part[i]);
		}
		buf_printf(&b, " %s ROLE ", prep);
	}
	sf_quote_ident(&b, grantee);
	*sql = buf_detach(&b);
	rc = 0;
out:
	buf_release(&b);
	sf_target_release(&t);
	return rc;
}

/* --- result sets --- */

/* Every row an array of ncols strings or nulls. */
static int
check_rows(const struct sf_result *r, const json_t *data, size_t partition,
    struct diag *err)
{
	const json_t *row, *cell;
	size_t i, j;

	if (!json_is_array(data))
		return diag_set(err, "partition %zu: 'data' is not an array",
		    partition);
	json_array_foreach(data, i, row) {
		if (!json_is_array(row) || json_array_size(row) != r->ncols)
			return diag_set(err, "partition %zu: row %zu does not "
			    "have the %zu values rowType announced", partition,
			    i + 1, r->ncols);
		json_array_foreach(row, j, cell)
			if (!json_is_string(cell) && !json_is_null(cell))
				return diag_set(err, "partition %zu: row %zu "
				    "column %s is not a string", partition,
				    i + 1, r->cols[j]);
	}
	return 0;
}

static int
check_count(const struct sf_result *r, size_t partition, size_t got,
    struct diag *err)
{
	long long want = r->expect[partition];

	if (want >= 0 && (long long)got != want)
		return diag_set(err, "partition %zu has %zu rows, "
		    "partitionInfo announced %lld", partition, got, want);
	return 0;
}

static char *
dup_string(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

int
sf_result_parse(struct sf_result *r, const json_t *body, struct diag *err)
{
	const json_t *meta, *rowtype, *col, *name, *parts, *p, *data, *n;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->numrows = -1;
	if (!json_is_object(body))
		return diag_set(err, "the result is not a JSON object");
	meta = json_object_get(body, "resultSetMetaData");
	rowtype = json_object_get(meta, "rowType");
	if (!json_is_array(rowtype) || json_array_size(rowtype) == 0)
		return diag_set(err, "the result has no "
		    "resultSetMetaData.rowType");
	r->ncols = json_array_size(rowtype);
	r->cols = xcalloc(r->ncols, sizeof(*r->cols));
	json_array_foreach(rowtype, i, col) {
		name = json_object_get(col, "name");
		if (!json_is_string(name)) {
			diag_set(err, "rowType entry %zu has no name", i + 1);
			goto fail;
		}
		r->cols[i] = xstrdup(json_string_value(name));
	}
	n = json_object_get(meta, "numRows");
	if (json_is_integer(n))
		r->numrows = json_integer_value(n);
	parts = json_object_get(meta, "partitionInfo");
	r->npartitions = json_is_array(parts) && json_array_size(parts) > 0 ?
	    json_array_size(parts) : 1;
	r->expect = xcalloc(r->npartitions, sizeof(*r->expect));
	for (i = 0; i < r->npartitions; i++) {
		p = json_is_array(parts) ? json_array_get(parts, i) : NULL;
		n = json_object_get(p, "rowCount");
		r->expect[i] = json_is_integer(n) ? json_integer_value(n) : -1;
	}
	data = json_object_get(body, "data");
	r->data = json_array();
	if (data != NULL && !json_is_null(data)) {
		if (check_rows(r, data, 0, err) != 0)
			goto fail;
		json_array_extend(r->data, (json_t *)data);
	}
	if (check_count(r, 0, json_array_size(r->data), err) != 0)
		goto fail;
	r->merged = 1;
	r->handle = dup_string(body, "statementHandle");
	r->message = dup_string(body, "message");
	return 0;
fail:
	sf_result_release(r);
	return -1;
}

int
sf_result_merge(struct sf_result *r, const json_t *body, struct diag *err)
{
	const json_t *data = json_object_get(body, "data");
	size_t k = r->merged;

	if (k >= r->npartitions)
		return diag_set(err, "partition %zu was not announced", k);
	if (data == NULL)
		return diag_set(err, "partition %zu has no 'data'", k);
	if (check_rows(r, data, k, err) != 0 ||
	    check_count(r, k, json_array_size(data), err) != 0)
		return -1;
	json_array_extend(r->data, (json_t *)data);
	r->merged++;
	return 0;
}

int
sf_result_complete(const struct sf_result *r, struct diag *err)
{
	if (r->merged != r->npartitions)
		return diag_set(err, "%zu of %zu partitions read", r->merged,
		    r->npartitions);
	if (r->numrows >= 0 &&
	    (long long)json_array_size(r->data) != r->numrows)
		return diag_set(err, "%zu rows read, numRows announced %lld",
		    json_array_size(r->data), r->numrows);
	return 0;
}

void
sf_result_release(struct sf_result *r)
{
	if (r == NULL)
		return;
	if (r->cols != NULL)
		strv_free(r->cols, r->ncols);
	json_decref(r->data);
	free(r->expect);
	free(r->handle);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

size_t
sf_result_rows(const struct sf_result *r)
{
	return json_array_size(r->data);
}

int
sf_result_col(const struct sf_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		if (r->cols[i] != NULL && strcasecmp(r->cols[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
sf_result_get(const struct sf_result *r, size_t row, int col)
{
	if (col < 0)
		return NULL;
	return json_string_value(json_array_get(json_array_get(r->data, row),
	    (size_t)col));
}

const char *
sf_result_status(const struct sf_result *r)
{
	const char *s = NULL;

	if (sf_result_rows(r) > 0)
		s = sf_result_get(r, 0, sf_result_col(r, "status"));
	if (s == NULL)
		s = r->message;
	return s ? s : "";
}

/* Whitespace runs (the newline after "SQL compilation error:") as one
 * space, none at the ends. */
static void
one_line(struct buf *b, const char *s)
{
	int space = 0;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s)) {
			space = 1;
			continue;
		}
		if (space && b->len > 0)
			buf_putc(b, ' ');
		space = 0;
		buf_putc(b, *s);
	}
}

char *
sf_failure_text(const json_t *body)
{
	const char *code = json_string_value(json_object_get(body, "code"));
	const char *state = json_string_value(json_object_get(body,
	    "sqlState"));
	const char *msg = json_string_value(json_object_get(body, "message"));
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	if (code != NULL)
		one_line(&b, code);
	if (state != NULL) {
		buf_puts(&b, b.len ? " (" : "(");
		one_line(&b, state);
		buf_putc(&b, ')');
	}
	if (b.len > 0)
		buf_putc(&b, ' ');
	one_line(&b, msg ? msg : "(no message)");
	return buf_detach(&b);
}

/* Column `name` or -1 with err set. */
static int
need_col(const struct sf_result *r, const char *name, struct diag *err)
{
	int c = sf_result_col(r, name);

	if (c < 0)
		diag_set(err, "the result has no column '%s'", name);
	return c;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

int
sf_ingest_page(struct ingest *in, const struct sf_result *r,
    enum account_kind kind, const char *after, size_t *rows, char **last,
    struct diag *err)
{
	int cname, clogin = -1, cemail = -1;
	size_t i, n = sf_result_rows(r);
	const char *name;

	*rows = n;
	*last = NULL;
	if ((cname = need_col(r, "name", err)) < 0)
		return -1;
	if (kind == ACCT_USER) {
		clogin = sf_result_col(r, "login_name");
		cemail = sf_result_col(r, "email");
	}
	for (i = 0; i < n; i++) {
		if ((name = sf_result_get(r, i, cname)) == NULL ||
		    *name == '\0')
			return diag_set(err, "row %zu has no name", i + 1);
		if (i == 0 && after != NULL && strcmp(name, after) == 0)
			continue;
		ingest_add_ident(in, name,
		    nonempty(sf_result_get(r, i, cemail)),
		    nonempty(sf_result_get(r, i, clogin)), kind);
	}
	if (n > 0)
		*last = xstrdup(sf_result_get(r, n - 1, cname));
	return 0;
}

int
sf_ingest_members(struct ingest *in, const struct sf_result *r,
    const char *role, struct diag *err)
{
	int cto, cname;
	size_t i, n = sf_result_rows(r);
	const char *to, *name;
	char *target, *grantee, *account;

	if ((cto = need_col(r, "granted_to", err)) < 0 ||
	    (cname = need_col(r, "grantee_name", err)) < 0)
		return -1;
	target = sf_spell_target(SFK_ROLE, (char *const *)&role, 1);
	for (i = 0; i < n; i++) {
		to = sf_result_get(r, i, cto);
		name = sf_result_get(r, i, cname);
		if (to == NULL || name == NULL || *name == '\0') {
			free(target);
			return diag_set(err, "row %zu has no granted_to or "
			    "grantee_name", i + 1);
		}
		/* Shares, database roles and applications hold roles too;
		 * none of them is an account accord grants to. */
		if (strcasecmp(to, "USER") != 0 && strcasecmp(to, "ROLE") != 0)
			continue;
		grantee = sf_unquote(name);
		account = strcasecmp(to, "USER") == 0 ? xstrdup(grantee) :
		    xasprintf("role:%s", grantee);
		ingest_add_grant(in, account, target, "member");
		free(account);
		free(grantee);
	}
	free(target);
	return 0;
}

int
sf_managed(char *const *managed, size_t n, const char *target)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (glob_match(managed[i], target))
			return 1;
	return 0;
}

static int
object_kind(const char *granted_on)
{
	int k;

	for (k = SFK_TABLE; k <= SFK_WAREHOUSE; k++)
		if (strcasecmp(sf_object_words[k], granted_on) == 0)
			return k;
	return -1;
}

int
sf_ingest_privileges(struct ingest *in, const struct sf_result *r,
    const char *role, unsigned kinds, char *const *managed, size_t nmanaged,
    struct diag *err)
{
	int cpriv, con, cname, k, rc = -1;
	size_t i, j, nparts = 0, n = sf_result_rows(r);
	const char *priv, *on, *name;
	char *parts[SF_PARTS_MAX] = { 0 }, *target = NULL, *account;

	if ((cpriv = need_col(r, "privilege", err)) < 0 ||
	    (con = need_col(r, "granted_on", err)) < 0 ||
	    (cname = need_col(r, "name", err)) < 0)
		return -1;
	account = xasprintf("role:%s", role);
	for (i = 0; i < n; i++) {
		priv = sf_result_get(r, i, cpriv);
		on = sf_result_get(r, i, con);
		name = sf_result_get(r, i, cname);
		if (priv == NULL || on == NULL || name == NULL) {
			diag_set(err, "row %zu has no privilege, granted_on or "
			    "name", i + 1);
			goto out;
		}
		if ((k = object_kind(on)) < 0 || !(kinds & (1u << k)) ||
		    strcasecmp(priv, "OWNERSHIP") == 0)
			continue;
		if (sf_split_name(name, parts, &nparts) != 0 ||
		    nparts != sf_nparts[k]) {
			diag_set(err, "row %zu: cannot read the %s name '%s'",
			    i + 1, on, name);
			goto out;
		}
		target = sf_spell_target((enum sf_kind)k, parts, nparts);
		if (sf_managed(managed, nmanaged, target))
			ingest_add_grant(in, account, target, priv);
		free(target);
		target = NULL;
		for (j = 0; j < nparts; j++) {
			free(parts[j]);
			parts[j] = NULL;
		}
		nparts = 0;
	}
	rc = 0;
out:
	for (j = 0; j < nparts; j++)
		free(parts[j]);
	free(account);
	return rc;
}
