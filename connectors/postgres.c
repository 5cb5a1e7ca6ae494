/*
 * PostgreSQL backend over libpq.  Accounts are roles; targets are
 * role:NAME (membership), table:SCHEMA.NAME, schema:NAME and
 * database:NAME, each spelled with the exact, case-sensitive names the
 * catalogs hold.  A name part containing a dot, or starting with a double
 * quote, is written in double quotes with "" for a quote, so every target
 * splits back into the names it came from.  Ingest reads the catalogs in
 * one read-only repeatable-read transaction; grant and revoke build one
 * statement each with every name quoted by PQescapeIdentifier and the
 * privilege taken from a fixed list, and succeed on the result status
 * alone: the notices PostgreSQL sends for an existing membership or an
 * absent one are kept as the answer, not treated as failures.  The DSN
 * and its password never reach a message or a log.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "backends.h"
#include "buf.h"
#include "connector.h"
#include "util.h"

/* NAMEDATALEN - 1: longer names are silently truncated by the server,
 * which would grant on some other object. */
#define PG_NAME_MAX 63

enum pg_kind { PGK_ROLE, PGK_TABLE, PGK_SCHEMA, PGK_DATABASE };

static const char *const pg_kind_names[] = {
	"role", "table", "schema", "database", NULL
};

struct pg_conn {
	struct connector base;
	PGconn *conn;
	unsigned kinds;		/* 1 << enum pg_kind, from managed */
	int collect;		/* inside grant/revoke: keep notices */
	char *last_notice;	/* "NOTICE: text", newly allocated */
};

/* A target split into its names: a = role, schema or database (or the
 * table's schema), b = the table. */
struct pg_target {
	enum pg_kind kind;
	char *a, *b;
};

static void
target_release(struct pg_target *t)
{
	free(t->a);
	free(t->b);
	t->a = t->b = NULL;
}

static int
kind_lookup(const char *s, size_t n)
{
	int i;

	for (i = 0; pg_kind_names[i] != NULL; i++)
		if (strlen(pg_kind_names[i]) == n &&
		    strncmp(pg_kind_names[i], s, n) == 0)
			return i;
	return -1;
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
	if (b.len > PG_NAME_MAX) {
		snprintf(why, whysz, "name longer than %d bytes", PG_NAME_MAX);
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
parse_target(const char *target, struct pg_target *t, char *why,
    size_t whysz)
{
	const char *colon, *p;
	int k;

	t->a = t->b = NULL;
	if (target == NULL || (colon = strchr(target, ':')) == NULL) {
		snprintf(why, whysz, "a target is KIND:NAME");
		return -1;
	}
	if ((k = kind_lookup(target, (size_t)(colon - target))) < 0) {
		snprintf(why, whysz, "postgres has no '%.*s' targets "
		    "(role, table, schema, database)", (int)(colon - target),
		    target);
		return -1;
	}
	t->kind = (enum pg_kind)k;
	p = colon + 1;
	if (parse_part(&p, &t->a, why, whysz) != 0)
		goto fail;
	if (t->kind == PGK_TABLE) {
		if (*p != '.') {
			snprintf(why, whysz, "table targets are SCHEMA.NAME");
			goto fail;
		}
		p++;
		if (parse_part(&p, &t->b, why, whysz) != 0)
			goto fail;
	}
	if (*p != '\0') {
		snprintf(why, whysz, t->kind == PGK_TABLE ?
		    "table targets are SCHEMA.NAME (quote a name that "
		    "contains a dot)" : "%s names contain no dot (quote a name "
		    "that does)", pg_kind_names[t->kind]);
		goto fail;
	}
	return 0;
fail:
	target_release(t);
	return -1;
}

static int
postgres_check_target(const char *target, char *why, size_t whysz)
{
	struct pg_target t;

	if (parse_target(target, &t, why, whysz) != 0)
		return -1;
	target_release(&t);
	return 0;
}

/* The inverse of parse_part. */
static void
spell_part(struct buf *b, const char *name)
{
	const char *s;

	if (strchr(name, '.') == NULL && name[0] != '"') {
		buf_puts(b, name);
		return;
	}
	buf_putc(b, '"');
	for (s = name; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* "kind:name" or "table:schema.name", newly allocated. */
static char *
spell_target(enum pg_kind kind, const char *a, const char *b)
{
	struct buf s = BUF_INIT;

	buf_init(&s, 0);
	buf_printf(&s, "%s:", pg_kind_names[kind]);
	spell_part(&s, a);
	if (b != NULL) {
		buf_putc(&s, '.');
		spell_part(&s, b);
	}
	return buf_detach(&s);
}

/* A grantee as accord spells it: a person's login role by name, any
 * other role as "role:NAME" (§13). */
static char *
spell_account(const char *rolname, int canlogin)
{
	return canlogin ? xstrdup(rolname) : xasprintf("role:%s", rolname);
}

/* libpq messages end in a newline and may span lines ("\n\tHINT"); make
 * one line of them, whitespace runs collapsed. */
static void
one_line(char *s)
{
	char *r, *w;
	int space = 0;

	for (r = w = s; *r != '\0'; r++) {
		if (isspace((unsigned char)*r)) {
			space = 1;
			continue;
		}
		if (space && w != s)
			*w++ = ' ';
		space = 0;
		*w++ = *r;
	}
	*w = '\0';
}

/*
 * Remove a password from a libpq message: every occurrence of its value
 * and any "password=..." spelled in it.  Newly allocated.
 */
static char *
scrub(const char *msg, const char *password)
{
	struct buf b = BUF_INIT;
	const char *p = msg;
	size_t plen = password ? strlen(password) : 0;

	buf_init(&b, 0);
	while (*p != '\0') {
		if (plen > 0 && strncmp(p, password, plen) == 0) {
			buf_puts(&b, "***");
			p += plen;
		} else if (strncasecmp(p, "password=", 9) == 0) {
			buf_puts(&b, "password=***");
			p += 9;
			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\''; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\'')
					p++;
			} else {
				while (*p != '\0' &&
				    !isspace((unsigned char)*p))
					p++;
			}
		} else
			buf_putc(&b, *p++);
	}
	return buf_detach(&b);
}

static void
postgres_on_notice(void *arg, const PGresult *res)
{
	struct pg_conn *c = arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char *text;

	text = xasprintf("%s: %s", sev ? sev : "NOTICE",
	    msg ? msg : PQresultErrorMessage(res));
	one_line(text);
	log_debug("platform %s: %s", c->base.name, text);
	if (c->collect) {
		free(c->last_notice);
		c->last_notice = text;
	} else
		free(text);
}

/* The server's message for a failed result (or the connection's when res
 * is NULL) as one line, newly allocated; *state gets the SQLSTATE or NULL. */
static char *
result_message(struct pg_conn *c, const PGresult *res, const char **state)
{
	const char *msg = NULL;
	char *line;

	*state = NULL;
	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	}
	if (msg == NULL)
		msg = res ? PQresultErrorMessage(res) : "";
	if (*msg == '\0')
		msg = PQerrorMessage(c->conn);
	if (*msg == '\0')
		msg = res ? PQresStatus(PQresultStatus(res)) : "no result";
	line = xstrdup(msg);
	one_line(line);
	return line;
}

/* "platform P: WHAT: message (SQLSTATE)". */
static int
pg_error(struct pg_conn *c, const PGresult *res, const char *what,
    struct diag *err)
{
	const char *state;
	char *line = result_message(c, res, &state);

	if (state != NULL)
		diag_set(err, "platform %s: %s: %s (%s)", c->base.name, what,
		    line, state);
	else
		diag_set(err, "platform %s: %s: %s", c->base.name, what, line);
	free(line);
	return -1;
}

/* Allocated copy of PQescapeIdentifier's answer, or NULL with err set. */
static char *
quote_ident(struct pg_conn *c, const char *name, struct diag *err)
{
	char *q = PQescapeIdentifier(c->conn, name, strlen(name)), *r;
	char *line;

	if (q == NULL) {
		line = xstrdup(PQerrorMessage(c->conn));
		one_line(line);
		diag_set(err, "platform %s: cannot quote a name: %s",
		    c->base.name, line);
		free(line);
		return NULL;
	}
	r = xstrdup(q);
	PQfreemem(q);
	return r;
}

static int
postgres_open(struct connector **out, const struct connector_cfg *cfg,
    struct diag *err)
{
	const char *keys[5], *vals[5];
	PQconninfoOption *opts = NULL, *o;
	const struct yml_node *var;
	const char *password = NULL;
	struct pg_conn *c = NULL;
	char *dsn = NULL, *parse_err = NULL, *msg = NULL;
	size_t i;
	int k, rc = -1;

	*out = NULL;
	if (connector_secret(cfg, "dsn_env", &dsn, err) != 0)
		return -1;
	/* libpq's parse errors quote the DSN, so they are never shown. */
	opts = PQconninfoParse(dsn, &parse_err);
	if (opts == NULL) {
		var = yml_get(cfg->node, "dsn_env");
		diag_set(err, "platform %s: the connection string in %s "
		    "(dsn_env) is malformed", cfg->name,
		    var && var->str ? var->str : "?");
		goto out;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0)
			password = o->val;

	c = xcalloc(1, sizeof(*c));
	c->base.desc = &connector_postgres;
	c->base.name = xstrdup(cfg->name ? cfg->name : "?");
	for (i = 0; i < cfg->nmanaged; i++) {
		const char *m = cfg->managed[i], *colon = strchr(m, ':');

		if (colon != NULL &&
		    (k = kind_lookup(m, (size_t)(colon - m))) >= 0)
			c->kinds |= 1u << k;
	}

	/* Later keywords override what the DSN says; earlier ones are
	 * defaults it may override. */
	keys[0] = "connect_timeout";	vals[0] = "10";
	keys[1] = "dbname";		vals[1] = dsn;
	keys[2] = "application_name";	vals[2] = "accord";
	keys[3] = "client_encoding";	vals[3] = "UTF8";
	keys[4] = NULL;			vals[4] = NULL;
	c->conn = PQconnectdbParams(keys, vals, 1);
	if (c->conn == NULL) {
		diag_set(err, "platform %s: cannot connect: out of memory",
		    c->base.name);
		goto out;
	}
	if (PQstatus(c->conn) != CONNECTION_OK) {
		msg = scrub(PQerrorMessage(c->conn), password);
		one_line(msg);
		diag_set(err, "platform %s: cannot connect: %s", c->base.name,
		    msg);
		goto out;
	}
	PQsetNoticeReceiver(c->conn, postgres_on_notice, c);
	log_debug("platform %s: connected to PostgreSQL %d", c->base.name,
	    PQserverVersion(c->conn));
	*out = &c->base;
	c = NULL;
	rc = 0;
out:
	if (opts != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (o->val != NULL)
				explicit_bzero(o->val, strlen(o->val));
		PQconninfoFree(opts);
	}
	if (parse_err != NULL)
		PQfreemem(parse_err);
	if (dsn != NULL) {
		explicit_bzero(dsn, strlen(dsn));
		free(dsn);
	}
	free(msg);
	if (c != NULL) {
		PQfinish(c->conn);
		free(c->base.name);
		free(c);
	}
	return rc;
}

static void
postgres_close(struct connector *base)
{
	struct pg_conn *c = (struct pg_conn *)base;

	if (c == NULL)
		return;
	PQfinish(c->conn);
	free(c->last_notice);
	free(c->base.name);
	free(c);
}

/* Run a statement that returns rows; NULL with err set on failure. */
static PGresult *
query(struct pg_conn *c, const char *what, const char *sql, int nfields,
    struct diag *err)
{
	PGresult *res = PQexec(c->conn, sql);

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_error(c, res, what, err);
		PQclear(res);
		return NULL;
	}
	if (PQnfields(res) != nfields) {
		diag_set(err, "platform %s: %s: expected %d columns, got %d",
		    c->base.name, what, nfields, PQnfields(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

static int
command(struct pg_conn *c, const char *what, const char *sql,
    struct diag *err)
{
	PGresult *res = PQexec(c->conn, sql);
	int rc = 0;

	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_error(c, res, what, err);
	PQclear(res);
	return rc;
}

static int
is_true(const PGresult *res, int row, int col)
{
	return strcmp(PQgetvalue(res, row, col), "t") == 0;
}

/* Schemas that are PostgreSQL's own: pg_catalog, pg_toast*, pg_temp_*
 * (user schemas cannot start with pg_) and information_schema. */
#define USER_SCHEMA(col) \
	"(" col " !~ '^pg_' AND " col " <> 'information_schema')"

static const char sql_idents[] =
    "SELECT rolname, rolcanlogin FROM pg_roles "
    "WHERE rolname !~ '^pg_' ORDER BY rolname";

/* DISTINCT: from PostgreSQL 16 one membership may exist per grantor. */
static const char sql_members[] =
    "SELECT DISTINCT r.rolname, m.rolname, m.rolcanlogin "
    "FROM pg_auth_members am "
    "JOIN pg_roles r ON r.oid = am.roleid "
    "JOIN pg_roles m ON m.oid = am.member "
    "WHERE r.rolname !~ '^pg_' AND m.rolname !~ '^pg_' "
    "ORDER BY 1, 2";

/* The owner's own privileges are implicit, PUBLIC (grantee 0) is nobody's
 * account; neither is a grant accord could hold.  DISTINCT: the same
 * privilege may come from several grantors. */
static const char sql_tables[] =
    "SELECT DISTINCT n.nspname, c.relname, g.rolname, g.rolcanlogin, "
    "a.privilege_type "
    "FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL aclexplode(c.relacl) a "
    "JOIN pg_roles g ON g.oid = a.grantee "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "AND " USER_SCHEMA("n.nspname") " "
    "AND a.grantee <> 0 AND a.grantee <> c.relowner "
    "AND g.rolname !~ '^pg_' "
    "ORDER BY 1, 2, 3, 5";

static const char sql_schemas[] =
    "SELECT DISTINCT n.nspname, g.rolname, g.rolcanlogin, a.privilege_type "
    "FROM pg_namespace n "
    "CROSS JOIN LATERAL aclexplode(n.nspacl) a "
    "JOIN pg_roles g ON g.oid = a.grantee "
    "WHERE " USER_SCHEMA("n.nspname") " "
    "AND a.grantee <> 0 AND a.grantee <> n.nspowner "
    "AND g.rolname !~ '^pg_' "
    "ORDER BY 1, 2, 4";

static const char sql_databases[] =
    "SELECT DISTINCT d.datname, g.rolname, g.rolcanlogin, a.privilege_type "
    "FROM pg_database d "
    "CROSS JOIN LATERAL aclexplode(d.datacl) a "
    "JOIN pg_roles g ON g.oid = a.grantee "
    "WHERE a.grantee <> 0 AND a.grantee <> d.datdba "
    "AND g.rolname !~ '^pg_' "
    "ORDER BY 1, 2, 4";

/* Rows of (object name, [table name,] grantee, can login, privilege). */
static int
ingest_acl(struct pg_conn *c, struct ingest *in, enum pg_kind kind,
    const char *what, const char *sql, struct diag *err)
{
	int two = kind == PGK_TABLE, i, nrows;
	int col = two ? 2 : 1;
	PGresult *res;
	char *target, *account;

	if ((res = query(c, what, sql, two ? 5 : 4, err)) == NULL)
		return -1;
	nrows = PQntuples(res);
	for (i = 0; i < nrows; i++) {
		target = spell_target(kind, PQgetvalue(res, i, 0),
		    two ? PQgetvalue(res, i, 1) : NULL);
		account = spell_account(PQgetvalue(res, i, col),
		    is_true(res, i, col + 1));
		ingest_add_grant(in, account, target,
		    PQgetvalue(res, i, col + 2));
		free(target);
		free(account);
	}
	PQclear(res);
	return 0;
}

static int
ingest_read(struct pg_conn *c, struct ingest *in, struct diag *err)
{
	PGresult *res;
	char *target, *account;
	int i, nrows;

	res = query(c, "ingest: reading roles", sql_idents, 2, err);
	if (res == NULL)
		return -1;
	nrows = PQntuples(res);
	for (i = 0; i < nrows; i++)
		ingest_add_ident(in, PQgetvalue(res, i, 0), NULL, NULL,
		    is_true(res, i, 1) ? ACCT_USER : ACCT_ROLE);
	PQclear(res);

	if (c->kinds & (1u << PGK_ROLE)) {
		res = query(c, "ingest: reading role memberships",
		    sql_members, 3, err);
		if (res == NULL)
			return -1;
		nrows = PQntuples(res);
		for (i = 0; i < nrows; i++) {
			target = spell_target(PGK_ROLE, PQgetvalue(res, i, 0),
			    NULL);
			account = spell_account(PQgetvalue(res, i, 1),
			    is_true(res, i, 2));
			ingest_add_grant(in, account, target, "member");
			free(target);
			free(account);
		}
		PQclear(res);
	}
	if ((c->kinds & (1u << PGK_TABLE)) && ingest_acl(c, in, PGK_TABLE,
	    "ingest: reading table privileges", sql_tables, err) != 0)
		return -1;
	if ((c->kinds & (1u << PGK_SCHEMA)) && ingest_acl(c, in, PGK_SCHEMA,
	    "ingest: reading schema privileges", sql_schemas, err) != 0)
		return -1;
	if ((c->kinds & (1u << PGK_DATABASE)) && ingest_acl(c, in,
	    PGK_DATABASE, "ingest: reading database privileges", sql_databases,
	    err) != 0)
		return -1;
	return 0;
}

static int
postgres_ingest(struct connector *base, struct ingest *out, struct diag *err)
{
	struct pg_conn *c = (struct pg_conn *)base;
	struct ingest in = { 0 };
	size_t i;
	int rc = -1;

	/* One snapshot for every catalog read. */
	if (command(c, "ingest: starting a read-only transaction",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) != 0)
		goto out;
	if (ingest_read(c, &in, err) != 0)
		goto out;
	if (command(c, "ingest: ending the transaction", "COMMIT", err) != 0)
		goto out;
	for (i = 0; i < in.nidents; i++)
		ingest_add_ident(out, in.idents[i].name, in.idents[i].email,
		    in.idents[i].login, in.idents[i].kind);
	for (i = 0; i < in.ngrants; i++)
		ingest_add_grant(out, in.grants[i].account, in.grants[i].target,
		    in.grants[i].privilege);
	rc = 0;
out:
	if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		PQclear(PQexec(c->conn, "ROLLBACK"));
	ingest_release(&in);
	return rc;
}

static const char *const privs_table[] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES",
	"TRIGGER", NULL
};
static const char *const privs_schema[] = { "USAGE", "CREATE", NULL };
static const char *const privs_database[] = {
	"CONNECT", "CREATE", "TEMPORARY", NULL
};

/* The canonical spelling of an allowed privilege, or NULL.  What reaches
 * SQL is always one of these constants, never the caller's string. */
static const char *
privilege_lookup(enum pg_kind kind, const char *priv)
{
	const char *const *list;
	size_t i;

	switch (kind) {
	case PGK_ROLE:
		return strcmp(priv, "member") == 0 ? "member" : NULL;
	case PGK_TABLE:
		list = privs_table;
		break;
	case PGK_SCHEMA:
		list = privs_schema;
		break;
	case PGK_DATABASE:
		if (strcasecmp(priv, "TEMP") == 0)
			return "TEMPORARY";
		list = privs_database;
		break;
	default:
		return NULL;
	}
	for (i = 0; list[i] != NULL; i++)
		if (strcasecmp(list[i], priv) == 0)
			return list[i];
	return NULL;
}

static int
change(struct pg_conn *c, int grant, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	static const char *const on_kind[] = {
		[PGK_TABLE] = "TABLE", [PGK_SCHEMA] = "SCHEMA",
		[PGK_DATABASE] = "DATABASE",
	};
	const char *verb = grant ? "GRANT" : "REVOKE";
	const char *prep = grant ? "TO" : "FROM";
	const char *priv, *grantee, *name;
	struct pg_target t = { 0 };
	char why[256], *qa = NULL, *qb = NULL, *qg = NULL, *sql = NULL;
	char *human = NULL, *line = NULL;
	const char *state;
	PGresult *res = NULL;
	int rc = -1;

	if (g == NULL || g->account == NULL || g->target == NULL ||
	    g->privilege == NULL)
		return diag_set(err, "platform %s: %s: incomplete grant",
		    c->base.name, verb);
	name = strchr(g->target, ':');
	if (parse_target(g->target, &t, why, sizeof(why)) != 0) {
		diag_set(err, "platform %s: %s %s: %s", c->base.name, verb,
		    g->target, why);
		goto out;
	}
	grantee = strncmp(g->account, "role:", 5) == 0 ? g->account + 5 :
	    g->account;
	if (*grantee == '\0' || strlen(grantee) > PG_NAME_MAX) {
		diag_set(err, "platform %s: %s %s: account '%s' is not a "
		    "PostgreSQL role name", c->base.name, verb, g->target,
		    g->account);
		goto out;
	}
	if ((priv = privilege_lookup(t.kind, g->privilege)) == NULL) {
		diag_set(err, "platform %s: %s %s on %s: privilege '%s' is not "
		    "one accord grants on %s targets", c->base.name, verb,
		    g->privilege, g->target, g->privilege,
		    pg_kind_names[t.kind]);
		goto out;
	}
	if ((qa = quote_ident(c, t.a, err)) == NULL ||
	    (t.b != NULL && (qb = quote_ident(c, t.b, err)) == NULL) ||
	    (qg = quote_ident(c, grantee, err)) == NULL)
		goto out;
	name++;
	if (t.kind == PGK_ROLE) {
		sql = xasprintf("%s %s %s %s", verb, qa, prep, qg);
		human = xasprintf("%s %s %s %s", verb, name, prep, grantee);
	} else {
		sql = xasprintf("%s %s ON %s %s%s%s %s %s", verb, priv,
		    on_kind[t.kind], qa, qb ? "." : "", qb ? qb : "", prep, qg);
		human = xasprintf("%s %s ON %s %s %s %s", verb, priv,
		    on_kind[t.kind], name, prep, grantee);
	}
	log_debug("platform %s: %s", c->base.name, sql);

	free(c->last_notice);
	c->last_notice = NULL;
	c->collect = 1;
	res = PQexec(c->conn, sql);
	c->collect = 0;
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
		if (detail != NULL) {
			buf_puts(detail, PQcmdStatus(res));
			if (c->last_notice != NULL)
				buf_printf(detail, "; %s", c->last_notice);
		}
		rc = 0;
		goto out;
	}
	line = result_message(c, res, &state);
	if (state != NULL)
		diag_set(err, "platform %s: %s: %s (%s)", c->base.name, human,
		    line, state);
	else
		diag_set(err, "platform %s: %s: %s", c->base.name, human, line);
	if (detail != NULL)
		buf_printf(detail, "ERROR%s%s: %s", state ? " " : "",
		    state ? state : "", line);
out:
	PQclear(res);
	target_release(&t);
	free(qa);
	free(qb);
	free(qg);
	free(sql);
	free(human);
	free(line);
	return rc;
}

static int
postgres_grant(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change((struct pg_conn *)base, 1, g, detail, err);
}

static int
postgres_revoke(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change((struct pg_conn *)base, 0, g, detail, err);
}

static const struct connector_ops postgres_ops = {
	.version = CONNECTOR_OPS_VERSION,
	.open = postgres_open,
	.ingest = postgres_ingest,
	.grant = postgres_grant,
	.revoke = postgres_revoke,
	.close = postgres_close,
};

static const char *const postgres_keys[] = { "dsn_env", NULL };

const struct connector_desc connector_postgres = {
	.type = "postgres",
	.caps = CAP_ENUMERATE_TARGETS | CAP_PARALLEL_INGEST,
	.own_keys = postgres_keys,
	.target_kinds = pg_kind_names,
	.check_target = postgres_check_target,
	.ops = &postgres_ops,
};
