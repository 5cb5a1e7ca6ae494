/*
 * Snowflake backend over the SQL API v2.  Accounts are users (by name) and
 * roles ("role:NAME"); targets are role:NAME (membership), and
 * table:DB.SCHEMA.NAME, schema:DB.SCHEMA, database:NAME and warehouse:NAME
 * (object privileges, granted to roles only), each name exact and
 * case-sensitive as SHOW returns it, quoted in the target only when it
 * holds '.' or '"'.  Ingest pages through SHOW USERS and SHOW ROLES, then
 * runs SHOW GRANTS OF ROLE for each managed role and, when objects are
 * managed, SHOW GRANTS TO ROLE for every role, those concurrently; it is
 * all or nothing.  Grant and revoke send one statement with every name a
 * quoted identifier and the privilege taken from a fixed list per kind:
 * table SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES; schema and
 * database USAGE MONITOR; warehouse USAGE OPERATE MONITOR.  Ingest reports
 * every privilege but OWNERSHIP, so one outside the list on a managed
 * target shows as drift whose revoke fails loudly rather than running a
 * name accord never vetted.  Every statement carries a requestId, and a
 * resubmission says retry=true so Snowflake never runs it twice; a 202 is
 * polled, partitions are fetched concurrently, a 401 renews the token
 * once.  The bearer token never reaches a message or a log.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "auth.h"
#include "backends.h"
#include "buf.h"
#include "connector.h"
#include "http.h"
#include "snowflake_sql.h"
#include "util.h"

#define SF_USER_AGENT "accord/0.1"
#define SF_STATEMENT_TIMEOUT 60	/* seconds, the body's "timeout" */
#define SF_BATCH 64		/* SHOW GRANTS statements per round */
#define SF_POLL_FIRST_MS 100
#define SF_POLL_MAX_MS 2000
#define SF_PARTITIONS_MAX 100000

struct sf_conn {
	struct connector base;
	struct http *http;
	struct auth *auth;
	char *role, *warehouse;	/* NULL: the user's defaults */
	char **managed;
	size_t nmanaged;
	unsigned kinds;		/* 1 << enum sf_kind, from managed */
	int64_t timeout_ms;	/* bounds the polling of one statement */
	char *token_type;	/* the X-Snowflake-Authorization-Token-Type
				 * header line */
	char *authz;		/* "Authorization: Bearer ...", while
				 * sending only */
	const char *hdrs[4];
};

/* One statement in flight and what came of it. */
struct sf_stmt {
	char *sql;
	char *role;		/* borrowed: what a SHOW GRANTS is about */
	int of;			/* SHOW GRANTS OF (1) or TO (0) */
	char *path, *retry_path, *body;
	struct sf_result res;
	char *failure;		/* a 422's "code (state) message" */
	char *failed_handle;	/* and its statementHandle */
};

static void
stmt_release(struct sf_stmt *st)
{
	free(st->sql);
	free(st->path);
	free(st->retry_path);
	free(st->body);
	free(st->failure);
	free(st->failed_handle);
	sf_result_release(&st->res);
	memset(st, 0, sizeof(*st));
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* A random (version 4) UUID into out[37]. */
static int
uuid4(char *out, size_t outsz)
{
	unsigned char r[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(r)) {
		n = getrandom(r + got, sizeof(r) - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, outsz, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

/*
 * Name the statement in a lower layer's message: "platform P: <rest>"
 * becomes "platform P: SQL: <rest>", so that every failure says which
 * statement it was about.  Returns -1.
 */
static int
sf_context(struct sf_conn *c, const char *sql, struct diag *err)
{
	char prefix[300], rest[DIAG_MSG_MAX];
	size_t n;

	if (strstr(err->msg, sql) != NULL)
		return -1;
	snprintf(prefix, sizeof(prefix), "platform %s: ", c->base.name);
	n = strlen(prefix);
	if (strncmp(err->msg, prefix, n) == 0) {
		snprintf(rest, sizeof(rest), "%s", err->msg + n);
		diag_set(err, "%s", rest);
	}
	return diag_prefix(err, "platform %s: %s", c->base.name, sql);
}

static void
headers_drop(struct sf_conn *c)
{
	if (c->authz != NULL) {
		explicit_bzero(c->authz, strlen(c->authz));
		free(c->authz);
		c->authz = NULL;
	}
	c->hdrs[0] = NULL;
}

static int
headers_make(struct sf_conn *c, struct diag *err)
{
	const char *h;

	headers_drop(c);
	if ((h = auth_header(c->auth, err)) == NULL)
		return diag_prefix(err, "platform %s", c->base.name);
	c->authz = xasprintf("Authorization: %s", h);
	c->hdrs[0] = c->authz;
	c->hdrs[1] = c->token_type;
	c->hdrs[2] = "Accept: application/json";
	c->hdrs[3] = NULL;
	return 0;
}

/*
 * Send n requests (concurrently when n > 1); a 401 renews the token and
 * sends that request once more.  On 0 every rs[i] holds a response, which
 * the caller releases; on -1 none is left to release.
 */
static int
sf_send(struct sf_conn *c, struct http_req *rq, size_t n,
    struct http_resp *rs, struct diag *err)
{
	size_t i;
	int again = 0, rc = -1;

	memset(rs, 0, n * sizeof(*rs));
	if (headers_make(c, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		rq[i].headers = c->hdrs;
	if ((n == 1 ? http_do(c->http, rq, rs, err) :
	    http_do_many(c->http, rq, n, rs, err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (rs[i].status == 401)
			again = 1;
	if (again) {
		/* An expired or revoked token: never ran, so resending the
		 * same request (same requestId) is safe. */
		log_debug("platform %s: HTTP 401, renewing the token",
		    c->base.name);
		auth_invalidate(c->auth);
		if (headers_make(c, err) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if (rs[i].status != 401)
				continue;
			http_resp_release(&rs[i]);
			memset(&rs[i], 0, sizeof(rs[i]));
			if (http_do(c->http, &rq[i], &rs[i], err) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	headers_drop(c);
	if (rc != 0)
		for (i = 0; i < n; i++) {
			http_resp_release(&rs[i]);
			memset(&rs[i], 0, sizeof(rs[i]));
		}
	return rc;
}

/* Where to poll a running statement: statementStatusUrl when it is a path
 * on this server (a token is never sent elsewhere), else built from the
 * handle.  Newly allocated, or NULL. */
static char *
status_path(const json_t *body)
{
	static const char base[] = "/api/v2/statements/";
	const char *url, *handle, *s;
	char *esc, *path;

	url = json_string_value(json_object_get(body, "statementStatusUrl"));
	if (url != NULL && strncmp(url, base, sizeof(base) - 1) == 0) {
		for (s = url; *s != '\0'; s++)
			if (!(*s >= 'a' && *s <= 'z') &&
			    !(*s >= 'A' && *s <= 'Z') &&
			    !(*s >= '0' && *s <= '9') &&
			    strchr("-_./?=&%", *s) == NULL)
				break;
		if (*s == '\0')
			return xstrdup(url);
	}
	handle = json_string_value(json_object_get(body, "statementHandle"));
	if (handle == NULL || *handle == '\0')
		return NULL;
	esc = http_escape(handle);
	path = xasprintf("%s%s", base, esc);
	free(esc);
	return path;
}

/* Fetch partitions 1.. of a result and merge them in order. */
static int
sf_partitions(struct sf_conn *c, struct sf_stmt *st, struct diag *err)
{
	size_t i, n = st->res.npartitions - 1;
	struct http_req *rq = NULL;
	struct http_resp *rs = NULL;
	json_t *body;
	char *esc = NULL;
	int sent = 0, rc = -1;

	if (n == 0)
		return 0;
	if (st->res.handle == NULL || n >= SF_PARTITIONS_MAX) {
		diag_set(err, "platform %s: %s: %s", c->base.name, st->sql,
		    st->res.handle ? "too many partitions" :
		    "partitions without a statement handle");
		return -1;
	}
	esc = http_escape(st->res.handle);
	rq = xcalloc(n, sizeof(*rq));
	rs = xcalloc(n, sizeof(*rs));
	for (i = 0; i < n; i++) {
		rq[i].method = "GET";
		rq[i].path = xasprintf("/api/v2/statements/%s?partition=%zu",
		    esc, i + 1);
	}
	if (sf_send(c, rq, n, rs, err) != 0) {
		sf_context(c, st->sql, err);
		goto out;
	}
	sent = 1;
	for (i = 0; i < n; i++) {
		if (rs[i].status != 200) {
			http_fail(err, c->http, &rq[i], &rs[i]);
			sf_context(c, st->sql, err);
			goto out;
		}
		if ((body = http_json(&rs[i], rq[i].path, err)) == NULL) {
			sf_context(c, st->sql, err);
			goto out;
		}
		if (sf_result_merge(&st->res, body, err) != 0) {
			json_decref(body);
			diag_prefix(err, "platform %s: %s", c->base.name,
			    st->sql);
			goto out;
		}
		json_decref(body);
	}
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free((char *)rq[i].path);
		if (sent)
			http_resp_release(&rs[i]);
	}
	free(rq);
	free(rs);
	free(esc);
	return rc;
}

/* The GET that polls a statement a 202 answered. */
static int
poll_request(struct sf_conn *c, const struct sf_stmt *st,
    const struct http_resp *rs, const struct http_req *src,
    struct http_req *get, struct diag *err)
{
	json_t *body;

	if ((body = http_json(rs, src->path, err)) == NULL)
		return sf_context(c, st->sql, err);
	get->method = "GET";
	get->path = status_path(body);
	json_decref(body);
	if (get->path == NULL)
		return diag_set(err, "platform %s: %s: HTTP 202 without a "
		    "statement handle", c->base.name, st->sql);
	return 0;
}

/*
 * Poll the statements still running (202), all of them at once each
 * round, 100 ms doubling to 2 s, within the platform's timeout.  rs[i]
 * ends holding each statement's final answer and src[i] the request it
 * answered; get[i].path (newly allocated) is the status path polled.
 */
static int
sf_poll(struct sf_conn *c, struct sf_stmt *st, size_t n, struct http_resp *rs,
    const struct http_req **src, struct http_req *get, struct diag *err)
{
	struct http_req *rq = xcalloc(n, sizeof(*rq));
	struct http_resp *ans = xcalloc(n, sizeof(*ans));
	size_t *idx = xcalloc(n, sizeof(*idx));
	size_t i, k, m;
	int64_t start = mono_ms(), delay = SF_POLL_FIRST_MS;
	int rc = -1;

	for (;;) {
		for (i = m = 0; i < n; i++) {
			if (rs[i].status != 202)
				continue;
			if (get[i].path == NULL && poll_request(c, &st[i],
			    &rs[i], src[i], &get[i], err) != 0)
				goto out;
			idx[m] = i;
			rq[m++] = get[i];
		}
		if (m == 0)
			break;
		if (mono_ms() - start + delay > c->timeout_ms) {
			diag_set(err, "platform %s: %s: still running after "
			    "%lld ms (%s)", c->base.name, st[idx[0]].sql,
			    (long long)(mono_ms() - start), get[idx[0]].path);
			goto out;
		}
		sleep_ms(delay);
		delay = delay * 2 > SF_POLL_MAX_MS ? SF_POLL_MAX_MS : delay * 2;
		if (sf_send(c, rq, m, ans, err) != 0) {
			sf_context(c, st[idx[0]].sql, err);
			goto out;
		}
		for (k = 0; k < m; k++) {
			i = idx[k];
			http_resp_release(&rs[i]);
			rs[i] = ans[k];
			memset(&ans[k], 0, sizeof(ans[k]));
			src[i] = &get[i];
		}
	}
	rc = 0;
out:
	free(rq);
	free(ans);
	free(idx);
	return rc;
}

/* One statement's final answer: a 200 read with its partitions, a 422
 * turned into "code (state) message", anything else a failure. */
static int
sf_finish(struct sf_conn *c, struct sf_stmt *st, const struct http_req *rq,
    const struct http_resp *rs, struct diag *err)
{
	struct diag jerr;
	json_t *body = NULL;
	int rc = -1;

	if (rs->status == 200) {
		if ((body = http_json(rs, rq->path, err)) == NULL) {
			sf_context(c, st->sql, err);
			goto out;
		}
		if (sf_result_parse(&st->res, body, err) != 0) {
			diag_prefix(err, "platform %s: %s", c->base.name,
			    st->sql);
			goto out;
		}
		if (sf_partitions(c, st, err) != 0)
			goto out;
		if (sf_result_complete(&st->res, err) != 0) {
			diag_prefix(err, "platform %s: %s", c->base.name,
			    st->sql);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (rs->status == 422 &&
	    (body = http_json(rs, rq->path, &jerr)) != NULL &&
	    json_is_object(body)) {
		st->failure = sf_failure_text(body);
		st->failed_handle = xstrdup(json_string_value(
		    json_object_get(body, "statementHandle")));
		diag_set(err, "platform %s: %s: %s", c->base.name, st->sql,
		    st->failure);
		goto out;
	}
	http_fail(err, c->http, rq, rs);
	sf_context(c, st->sql, err);
out:
	json_decref(body);
	return rc;
}

/* {"statement", "timeout", "role", "warehouse"}, newly allocated. */
static char *
statement_body(struct sf_conn *c, const char *sql)
{
	json_t *o, *stmt = json_string(sql);
	char *s;

	if (stmt == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "statement", stmt);
	json_object_set_new(o, "timeout", json_integer(SF_STATEMENT_TIMEOUT));
	if (c->role != NULL)
		json_object_set_new(o, "role", json_string(c->role));
	if (c->warehouse != NULL)
		json_object_set_new(o, "warehouse", json_string(c->warehouse));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/*
 * Submit n statements (concurrently when n > 1) and carry each to its
 * end.  On -1 err names the failing statement; the results of the others
 * are released by stmt_release.
 */
static int
sf_run(struct sf_conn *c, struct sf_stmt *st, size_t n, struct diag *err)
{
	struct http_req *rq = xcalloc(n, sizeof(*rq));
	struct http_req *get = xcalloc(n, sizeof(*get));
	const struct http_req **src = xcalloc(n, sizeof(*src));
	struct http_resp *rs = xcalloc(n, sizeof(*rs));
	char id[40], *s;
	size_t i;
	int sent = 0, rc = -1;

	for (i = 0; i < n; i++) {
		if (uuid4(id, sizeof(id)) != 0) {
			diag_set(err, "platform %s: %s: no random bytes for a "
			    "requestId", c->base.name, st[i].sql);
			goto out;
		}
		st[i].path = xasprintf("/api/v2/statements?requestId=%s", id);
		st[i].retry_path = xasprintf("%s&retry=true", st[i].path);
		/* json_string refuses what is not UTF-8. */
		if ((s = statement_body(c, st[i].sql)) == NULL) {
			diag_set(err, "platform %s: %s: not valid UTF-8",
			    c->base.name, st[i].sql);
			goto out;
		}
		st[i].body = xstrdup(s);
		free(s);
		rq[i].method = "POST";
		rq[i].path = st[i].path;
		rq[i].body = st[i].body;
		rq[i].body_len = strlen(st[i].body);
		rq[i].content_type = "application/json";
		rq[i].retry_unsafe = 1;
		rq[i].retry_path = st[i].retry_path;
		src[i] = &rq[i];
		log_debug("platform %s: %s", c->base.name, st[i].sql);
	}
	if (sf_send(c, rq, n, rs, err) != 0) {
		if (n == 1)
			sf_context(c, st[0].sql, err);
		else {
			s = xasprintf("%s (and %zu more statements)", st[0].sql,
			    n - 1);
			sf_context(c, s, err);
			free(s);
		}
		goto out;
	}
	sent = 1;
	if (sf_poll(c, st, n, rs, src, get, err) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (sf_finish(c, &st[i], src[i], &rs[i], err) != 0)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		if (sent)
			http_resp_release(&rs[i]);
		free((char *)get[i].path);
	}
	free(rq);
	free(get);
	free(src);
	free(rs);
	return rc;
}

/* --- open / close --- */

static void
snowflake_close(struct connector *base)
{
	struct sf_conn *c = (struct sf_conn *)base;

	if (c == NULL)
		return;
	headers_drop(c);
	auth_free(c->auth);
	http_free(c->http);
	free(c->role);
	free(c->warehouse);
	if (c->managed != NULL)
		strv_free(c->managed, c->nmanaged);
	free(c->token_type);
	free(c->base.name);
	free(c);
}

static int
open_auth(struct sf_conn *c, const struct connector_cfg *cfg,
    const struct yml_doc *doc, struct diag *err)
{
	const char *kind = NULL, *account = NULL, *user = NULL, *key = NULL;
	const char *type;
	char *token = NULL;
	int rc = -1;

	if (yml_str(doc, cfg->node, "auth", 0, &kind, err) != 0 ||
	    yml_str(doc, cfg->node, "private_key_file", 0, &key, err) != 0)
		return -1;
	if (kind == NULL)
		kind = key != NULL ? "keypair" :
		    yml_get(cfg->node, "token_env") != NULL ? "token" : NULL;
	if (kind == NULL)
		return yml_error(doc, cfg->node, err, "set auth: keypair (with "
		    "account, user, private_key_file), oauth or token (with "
		    "token_env)");
	if (strcmp(kind, "keypair") == 0) {
		if (yml_str(doc, cfg->node, "account", 1, &account, err) != 0 ||
		    yml_str(doc, cfg->node, "user", 1, &user, err) != 0 ||
		    yml_str(doc, cfg->node, "private_key_file", 1, &key,
		    err) != 0)
			return -1;
		if (auth_snowflake_jwt(&c->auth, account, user, key, 0,
		    err) != 0)
			return -1;
		type = "KEYPAIR_JWT";
	} else if (strcmp(kind, "oauth") == 0 || strcmp(kind, "token") == 0) {
		if (connector_secret(cfg, "token_env", &token, err) != 0)
			return -1;
		if (auth_bearer(&c->auth, token, err) != 0)
			goto out;
		type = strcmp(kind, "oauth") == 0 ? "OAUTH" :
		    "PROGRAMMATIC_ACCESS_TOKEN";
	} else
		return yml_error(doc, yml_get(cfg->node, "auth"), err,
		    "auth must be keypair, oauth or token, not '%s'", kind);
	c->token_type = xasprintf("X-Snowflake-Authorization-Token-Type: %s",
	    type);
	rc = 0;
out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rc;
}

static int
snowflake_open(struct connector **out, const struct connector_cfg *cfg,
    struct diag *err)
{
	struct yml_doc doc = { (char *)cfg->config_path, NULL };
	struct http_opts o;
	const char *role = NULL, *wh = NULL;
	struct sf_conn *c;
	size_t i;
	int k;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->base.desc = &connector_snowflake;
	c->base.name = xstrdup(cfg->name ? cfg->name : "?");
	memset(&o, 0, sizeof(o));
	if (http_opts_from_config(&o, c->base.name, cfg->config_path,
	    cfg->node, NULL, err) != 0)
		goto fail;
	o.user_agent = SF_USER_AGENT;
	c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : 30000;
	if (yml_str(&doc, cfg->node, "role", 0, &role, err) != 0 ||
	    yml_str(&doc, cfg->node, "warehouse", 0, &wh, err) != 0) {
		diag_prefix(err, "platform %s", c->base.name);
		goto fail;
	}
	c->role = xstrdup(role);
	c->warehouse = xstrdup(wh);
	if (open_auth(c, cfg, &doc, err) != 0) {
		if (strncmp(err->msg, "platform ", 9) != 0)
			diag_prefix(err, "platform %s", c->base.name);
		goto fail;
	}
	if (http_open(&c->http, &o, err) != 0)
		goto fail;
	c->managed = xcalloc(cfg->nmanaged + 1, sizeof(*c->managed));
	for (i = 0; i < cfg->nmanaged; i++) {
		const char *m = cfg->managed[i], *colon = strchr(m, ':');

		c->managed[c->nmanaged++] = xstrdup(m);
		if (colon != NULL &&
		    (k = sf_kind_lookup(m, (size_t)(colon - m))) >= 0)
			c->kinds |= 1u << k;
	}
	*out = &c->base;
	return 0;
fail:
	snowflake_close(&c->base);
	return -1;
}

/* --- ingest --- */

/* SHOW USERS / SHOW ROLES, a page of SF_PAGE at a time. */
static int
ingest_list(struct sf_conn *c, struct ingest *in, const char *what,
    enum account_kind kind, struct diag *err)
{
	struct sf_stmt st = { 0 };
	char *last = NULL, *next = NULL;
	size_t rows;
	int rc = -1;

	for (;;) {
		st.sql = sf_show_sql(what, last);
		if (sf_run(c, &st, 1, err) != 0)
			goto out;
		if (sf_ingest_page(in, &st.res, kind, last, &rows, &next,
		    err) != 0) {
			diag_prefix(err, "platform %s: %s", c->base.name,
			    st.sql);
			goto out;
		}
		if (rows < SF_PAGE)
			break;
		if (last != NULL && strcmp(next, last) == 0) {
			diag_set(err, "platform %s: %s: the page did not move "
			    "past '%s'", c->base.name, st.sql, last);
			goto out;
		}
		free(last);
		last = next;
		next = NULL;
		stmt_release(&st);
	}
	rc = 0;
out:
	stmt_release(&st);
	free(last);
	free(next);
	return rc;
}

/* Run the SHOW GRANTS statements in rounds of SF_BATCH. */
static int
ingest_grants(struct sf_conn *c, struct ingest *in, struct sf_stmt *all,
    size_t n, struct diag *err)
{
	size_t i, j, m;
	int rc;

	for (i = 0; i < n; i += m) {
		m = n - i < SF_BATCH ? n - i : SF_BATCH;
		if (sf_run(c, all + i, m, err) != 0)
			return -1;
		for (j = i; j < i + m; j++) {
			rc = all[j].of ? sf_ingest_members(in, &all[j].res,
			    all[j].role, err) : sf_ingest_privileges(in,
			    &all[j].res, all[j].role, c->kinds, c->managed,
			    c->nmanaged, err);
			if (rc != 0)
				return diag_prefix(err, "platform %s: %s",
				    c->base.name, all[j].sql);
			sf_result_release(&all[j].res);
		}
	}
	return 0;
}

static int
snowflake_ingest(struct connector *base, struct ingest *out,
    struct diag *err)
{
	const unsigned objects = (1u << SFK_TABLE) | (1u << SFK_SCHEMA) |
	    (1u << SFK_DATABASE) | (1u << SFK_WAREHOUSE);
	struct sf_conn *c = (struct sf_conn *)base;
	struct ingest in = { 0 };
	struct sf_stmt *st = NULL;
	size_t i, n = 0, nroles = 0;
	char *target;
	int rc = -1;

	if (ingest_list(c, &in, "USERS", ACCT_USER, err) != 0 ||
	    ingest_list(c, &in, "ROLES", ACCT_ROLE, err) != 0)
		goto out;
	for (i = 0; i < in.nidents; i++)
		if (in.idents[i].kind == ACCT_ROLE)
			nroles++;
	/* No idents are added from here on, so role names are borrowed. */
	st = xcalloc(2 * nroles + 1, sizeof(*st));
	for (i = 0; i < in.nidents; i++) {
		if (in.idents[i].kind != ACCT_ROLE)
			continue;
		target = sf_spell_target(SFK_ROLE, &in.idents[i].name, 1);
		if ((c->kinds & (1u << SFK_ROLE)) &&
		    sf_managed(c->managed, c->nmanaged, target)) {
			st[n].role = in.idents[i].name;
			st[n].of = 1;
			st[n++].sql = sf_grants_sql(1, in.idents[i].name);
		}
		free(target);
		if (c->kinds & objects) {
			st[n].role = in.idents[i].name;
			st[n++].sql = sf_grants_sql(0, in.idents[i].name);
		}
	}
	if (ingest_grants(c, &in, st, n, err) != 0)
		goto out;
	for (i = 0; i < in.nidents; i++)
		ingest_add_ident(out, in.idents[i].name, in.idents[i].email,
		    in.idents[i].login, in.idents[i].kind);
	for (i = 0; i < in.ngrants; i++)
		ingest_add_grant(out, in.grants[i].account, in.grants[i].target,
		    in.grants[i].privilege);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		stmt_release(&st[i]);
	free(st);
	ingest_release(&in);
	return rc;
}

/* --- grant / revoke --- */

static int
change(struct sf_conn *c, int grant, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	struct sf_stmt st = { 0 };
	char why[512];
	int rc = -1;

	if (sf_change_sql(grant, g, &st.sql, why, sizeof(why)) != 0)
		return diag_set(err, "platform %s: %s %s %s %s: %s",
		    c->base.name, grant ? "GRANT" : "REVOKE",
		    g && g->target ? g->target : "?", grant ? "TO" : "FROM",
		    g && g->account ? g->account : "?", why);
	if (sf_run(c, &st, 1, err) != 0) {
		if (detail != NULL && st.failure != NULL) {
			buf_puts(detail, st.failure);
			if (st.failed_handle != NULL)
				buf_printf(detail, " (statement %s)",
				    st.failed_handle);
		} else if (detail != NULL)
			buf_puts(detail, err->msg);
		goto out;
	}
	if (detail != NULL) {
		buf_puts(detail, sf_result_status(&st.res));
		if (st.res.handle != NULL)
			buf_printf(detail, " (statement %s)", st.res.handle);
	}
	rc = 0;
out:
	stmt_release(&st);
	return rc;
}

static int
snowflake_grant(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change((struct sf_conn *)base, 1, g, detail, err);
}

static int
snowflake_revoke(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change((struct sf_conn *)base, 0, g, detail, err);
}

static const struct connector_ops snowflake_ops = {
	.version = CONNECTOR_OPS_VERSION,
	.open = snowflake_open,
	.ingest = snowflake_ingest,
	.grant = snowflake_grant,
	.revoke = snowflake_revoke,
	.close = snowflake_close,
};

static const char *const snowflake_keys[] = {
	"account", "user", "role", "warehouse", "auth", "private_key_file",
	"token_env", NULL
};

const struct connector_desc connector_snowflake = {
	.type = "snowflake",
	.caps = CAP_ENUMERATE_TARGETS | CAP_PARALLEL_INGEST,
	.own_keys = snowflake_keys,
	.target_kinds = sf_kind_names,
	.check_target = sf_check_target,
	.ops = &snowflake_ops,
};
