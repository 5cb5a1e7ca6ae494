/*
 * The Snowflake connector against the SQL API emulator
 * (tests/emulators/snowflake.py), started here twice: plain, and with
 * asynchronous answers and small partitions.  Checks ingest (users with
 * email and login past the first SHOW USERS page, roles, memberships of
 * managed roles only, object privileges on managed targets), grant and
 * revoke (idempotent), a 422's message, a 503 resubmitted with retry=true,
 * a 401 on a wrong key, identifier quoting, and from the emulator's log
 * the exact statements and headers.  The emulators are killed at exit
 * and, should this program die first, by a watchdog.  Runs from the top
 * of the tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

#define EMULATOR "tests/emulators/snowflake.py"
#define NUSERS 2500

struct emu {
	pid_t pid;
	char dir[600];
	char url[64];
	struct http *ctl;	/* control API, no credentials */
};

static struct emu emus[4];
static int nemus;
static char keyfile[700], wrongkey[700], pubfile[700], seedfile[700];
/* Every message and detail the connector gave, searched for the JWT. */
static struct buf said = BUF_INIT;

static char *managed[] = {
	"role:ANALYST_*", "role:\"we\"\"ird\"", "role:lower_role",
	"role:REPORTING", "table:SALES.PUBLIC.*", "warehouse:REPORTING_WH"
};

static void
emu_stop(struct emu *e)
{
	http_free(e->ctl);
	e->ctl = NULL;
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
		e->pid = 0;
	}
}

static void
stop_all(void)
{
	int i;

	for (i = 0; i < nemus; i++)
		emu_stop(&emus[i]);
	buf_release(&said);
}

/* Start an emulator in tmp/<name>; extra arguments end with NULL. */
static struct emu *
emu_start(const char *name, const char *const *extra)
{
	struct emu *e = &emus[nemus];
	struct http_opts o;
	struct diag err;
	char port[700], log[700], out[700], cmd[256], text[32];
	const char *argv[32];
	size_t n = 0;
	int fd, i, status;
	FILE *f;

	snprintf(e->dir, sizeof(e->dir), "%s/%s", tap_tmpdir(), name);
	mkdir(e->dir, 0700);
	snprintf(port, sizeof(port), "%s/port", e->dir);
	snprintf(log, sizeof(log), "%s/log.jsonl", e->dir);
	snprintf(out, sizeof(out), "%s/emulator.out", e->dir);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = EMULATOR;
	argv[n++] = "--port-file";
	argv[n++] = port;
	argv[n++] = "--public-key";
	argv[n++] = pubfile;
	argv[n++] = "--account";
	argv[n++] = "XY12345";
	argv[n++] = "--user";
	argv[n++] = "ACCORD_SVC";
	argv[n++] = "--seed";
	argv[n++] = seedfile;
	argv[n++] = "--log";
	argv[n++] = log;
	for (i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	fflush(stdout);
	if ((e->pid = fork()) < 0)
		return NULL;
	if (e->pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	nemus++;
	/* Should we die without atexit (a sanitizer abort, a signal), the
	 * watchdog ends the emulator; its output goes nowhere so the test
	 * runner's pipe closes with us. */
	snprintf(cmd, sizeof(cmd), "sh -c 'while kill -0 %ld 2>/dev/null; do "
	    "sleep 1; done; kill %ld 2>/dev/null' </dev/null >/dev/null 2>&1 &",
	    (long)getpid(), (long)e->pid);
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
		if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
			e->pid = 0;
			fprintf(stderr, "# the emulator exited; see %s\n", out);
			return NULL;
		}
		usleep(50 * 1000);
	}
	if (i == 200)
		return NULL;
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%ld",
	    strtol(text, NULL, 10));
	memset(&o, 0, sizeof(o));
	o.platform = "emulator";
	o.base_url = e->url;
	o.timeout_ms = 20000;
	o.retry_budget_ms = -1;
	if (http_open(&e->ctl, &o, &err) != 0) {
		fprintf(stderr, "# %s\n", err.msg);
		return NULL;
	}
	return e;
}

/* One control request; the body's JSON, or NULL. */
static json_t *
ctl(struct emu *e, const char *method, const char *path, const char *body)
{
	struct http_req rq = { 0 };
	struct http_resp rs;
	struct diag err;
	json_t *j = NULL;

	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	if (http_do(e->ctl, &rq, &rs, &err) != 0) {
		fprintf(stderr, "# %s %s: %s\n", method, path, err.msg);
		return NULL;
	}
	if (rs.status < 200 || rs.status > 299)
		fprintf(stderr, "# %s %s: HTTP %ld\n", method, path, rs.status);
	else if (rs.body.len > 0)
		j = json_loadb(rs.body.ptr, rs.body.len, 0, NULL);
	else
		j = json_object();
	http_resp_release(&rs);
	return j;
}

/* The request log as one array, whatever its framing. */
static json_t *
emu_log(struct emu *e)
{
	struct http_req rq = { 0 };
	struct http_resp rs;
	struct diag err;
	json_t *j = NULL, *a, *line;
	const char *p, *nl;
	size_t i;
	static const char *const keys[] = { "log", "entries", "requests" };

	rq.method = "GET";
	rq.path = "/_emulator/log";
	if (http_do(e->ctl, &rq, &rs, &err) != 0)
		return json_array();
	j = json_loadb(rs.body.ptr, rs.body.len, 0, NULL);
	if (json_is_object(j)) {
		for (i = 0; i < 3; i++)
			if (json_is_array(a = json_object_get(j, keys[i]))) {
				json_incref(a);
				json_decref(j);
				j = a;
				break;
			}
	}
	if (!json_is_array(j)) {
		json_decref(j);
		j = json_array();
		for (p = rs.body.ptr; *p != '\0'; p = *nl ? nl + 1 : nl) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			line = json_loadb(p, (size_t)(nl - p), 0, NULL);
			if (line != NULL)
				json_array_append_new(j, line);
		}
	}
	http_resp_release(&rs);
	return j;
}

static size_t
log_mark(struct emu *e)
{
	json_t *l = emu_log(e);
	size_t n = json_array_size(l);

	json_decref(l);
	return n;
}

/* --- log entries --- */

static const char *
e_str(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

static int
field_is(const json_t *e, const char *key, const char *want)
{
	const char *v = e_str(e, key);

	return v != NULL && strcmp(v, want) == 0;
}

/* Path without the query. */
static int
e_path_is(const json_t *e, const char *want)
{
	const char *p = e_str(e, "path");
	size_t n = strlen(want);

	return p != NULL && strncmp(p, want, n) == 0 &&
	    (p[n] == '\0' || p[n] == '?');
}

static int
e_path_starts(const json_t *e, const char *prefix)
{
	const char *p = e_str(e, "path");

	return p != NULL && strncmp(p, prefix, strlen(prefix)) == 0;
}

/* A query parameter from "query" (object or string) or the path; into
 * out, "" when absent. */
static const char *
e_query(const json_t *e, const char *key, char *out, size_t outsz)
{
	const json_t *q = json_object_get(e, "query");
	const char *s = NULL, *p;
	size_t klen = strlen(key), n;

	out[0] = '\0';
	if (json_is_object(q)) {
		const json_t *v = json_object_get(q, key);

		if (json_is_array(v))
			v = json_array_get(v, 0);
		if (json_is_string(v)) {
			snprintf(out, outsz, "%s", json_string_value(v));
			return out;
		}
	}
	if (json_is_string(q))
		s = json_string_value(q);
	if ((s == NULL || *s == '\0') && (p = e_str(e, "path")) != NULL &&
	    (p = strchr(p, '?')) != NULL)
		s = p + 1;
	while (s != NULL && *s != '\0') {
		if (*s == '?' || *s == '&') {
			s++;
			continue;
		}
		if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
			s += klen + 1;
			n = strcspn(s, "&");
			snprintf(out, outsz, "%.*s", (int)n, s);
			return out;
		}
		s += strcspn(s, "&");
	}
	return out;
}

static const char *
e_hdr(const json_t *e, const char *name)
{
	const json_t *h = json_object_get(e, "headers"), *v, *pair;
	const char *k;
	size_t i;

	if (json_is_object(h)) {
		json_object_foreach((json_t *)h, k, v)
			if (strcasecmp(k, name) == 0)
				return json_string_value(v);
	} else if (json_is_array(h)) {
		json_array_foreach(h, i, pair) {
			k = json_string_value(json_array_get(pair, 0));
			if (k != NULL && strcasecmp(k, name) == 0)
				return json_string_value(json_array_get(pair,
				    1));
		}
	}
	return NULL;
}

static const char *
e_stmt(const json_t *e)
{
	const char *s = e_str(e, "statement");

	if (s == NULL)
		s = json_string_value(json_object_get(json_object_get(e,
		    "body"), "statement"));
	return s;
}

static long
e_status(const json_t *e)
{
	const json_t *s = json_object_get(e, "status");

	if (json_is_integer(s))
		return (long)json_integer_value(s);
	if (json_is_string(s))
		return strtol(json_string_value(s), NULL, 10);
	return -1;
}

static int
is_post(const json_t *e)
{
	const char *m = e_str(e, "method");

	return m != NULL && strcmp(m, "POST") == 0 &&
	    e_path_is(e, "/api/v2/statements");
}

/* The statements POSTed since entry `from`, joined by "\n". */
static char *
statements(struct emu *e, size_t from)
{
	json_t *l = emu_log(e), *x;
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 0);
	json_array_foreach(l, i, x)
		if (i >= from && is_post(x))
			buf_printf(&b, "%s%s", b.len ? "\n" : "",
			    e_stmt(x) ? e_stmt(x) : "(none)");
	json_decref(l);
	return buf_detach(&b);
}

/* Lines of s sorted, for sets of statements sent concurrently. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
sorted_lines(const char *s, const char *prefix)
{
	char **v = NULL, *copy = xstrdup(s), *p, *nl;
	size_t n = 0, alloc = 0, i;
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	for (p = copy; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (strncmp(p, prefix, strlen(prefix)) != 0)
			continue;
		v = xgrow(v, sizeof(*v), n, &alloc);
		v[n++] = p;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "\n" : "", v[i]);
	free(v);
	free(copy);
	return buf_detach(&b);
}

/* --- state --- */

static int
has_member(struct emu *e, const char *role, const char *to, const char *who)
{
	json_t *s = ctl(e, "GET", "/_emulator/state", NULL), *x;
	size_t i;
	int found = 0;

	json_array_foreach(json_object_get(s, "role_grants"), i, x)
		if (field_is(x, "role", role) && field_is(x, "granted_to", to) &&
		    field_is(x, "grantee_name", who))
			found = 1;
	json_decref(s);
	return found;
}

static int
has_priv(struct emu *e, const char *priv, const char *on, const char *name,
    const char *role)
{
	json_t *s = ctl(e, "GET", "/_emulator/state", NULL), *x;
	size_t i;
	int found = 0;

	json_array_foreach(json_object_get(s, "privileges"), i, x)
		if (field_is(x, "privilege", priv) &&
		    field_is(x, "granted_on", on) && field_is(x, "name", name) &&
		    field_is(x, "grantee_name", role))
			found = 1;
	json_decref(s);
	return found;
}

/* --- fixtures --- */

static int
make_keys(void)
{
	char cmd[8192];

	snprintf(keyfile, sizeof(keyfile), "%s/key.pem", tap_tmpdir());
	snprintf(wrongkey, sizeof(wrongkey), "%s/wrong.pem", tap_tmpdir());
	snprintf(pubfile, sizeof(pubfile), "%s/pub.pem", tap_tmpdir());
	snprintf(cmd, sizeof(cmd), "umask 077 && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out %s 2>/dev/null && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
	    "-out %s 2>/dev/null && chmod 600 %s %s && "
	    "openssl pkey -in %s -pubout -out %s 2>/dev/null",
	    keyfile, wrongkey, keyfile, wrongkey, keyfile, pubfile);
	return system(cmd) == 0 ? 0 : -1;
}

static void
add_user(json_t *users, const char *name, const char *login,
    const char *email)
{
	json_array_append_new(users, json_pack("{s:s, s:s?, s:s?}", "name",
	    name, "login_name", login, "email", email));
}

static void
add_member(json_t *a, const char *role, const char *to, const char *who)
{
	json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "role", role,
	    "granted_to", to, "grantee_name", who));
}

static void
add_priv(json_t *a, const char *priv, const char *on, const char *name,
    const char *role)
{
	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "privilege",
	    priv, "granted_on", on, "name", name, "grantee_name", role));
}

static int
make_seed(void)
{
	static const char *const roles[] = {
		"ANALYST_OPS", "ANALYST_SALES", "FINANCE_APP", "REPORTING",
		"SYSADMIN", "UNMANAGED", "we\"ird", "lower_role"
	};
	json_t *users = json_array(), *r = json_array(), *m = json_array();
	json_t *p = json_array(), *seed;
	char name[32], login[32], email[64];
	size_t i;
	int rc;

	add_user(users, "ALICE", "alice", "alice@example.com");
	add_user(users, "BOB", "bob", "bob@example.com");
	add_user(users, "CAROL", "carol", NULL);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "U_%04zu", i);
		snprintf(login, sizeof(login), "u_%04zu", i);
		snprintf(email, sizeof(email), "u%04zu@filler.example.org", i);
		add_user(users, name, login, email);
	}
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		json_array_append_new(r, json_pack("{s:s}", "name", roles[i]));
	add_member(m, "ANALYST_SALES", "USER", "ALICE");
	add_member(m, "ANALYST_SALES", "ROLE", "SYSADMIN");
	add_member(m, "UNMANAGED", "USER", "BOB");
	add_member(m, "we\"ird", "USER", "BOB");
	add_member(m, "lower_role", "USER", "CAROL");
	add_member(m, "REPORTING", "ROLE", "UNMANAGED");
	add_priv(p, "SELECT", "TABLE", "SALES.PUBLIC.ORDERS", "REPORTING");
	add_priv(p, "OWNERSHIP", "TABLE", "SALES.PUBLIC.ORDERS", "SYSADMIN");
	add_priv(p, "USAGE", "WAREHOUSE", "REPORTING_WH", "REPORTING");
	add_priv(p, "USAGE", "WAREHOUSE", "OTHER_WH", "REPORTING");
	add_priv(p, "SELECT", "TABLE", "OTHER.PUBLIC.T", "ANALYST_SALES");
	seed = json_pack("{s:o, s:o, s:o, s:o}", "users", users, "roles", r,
	    "role_grants", m, "privileges", p);
	snprintf(seedfile, sizeof(seedfile), "%s/seed.json", tap_tmpdir());
	rc = json_dump_file(seed, seedfile, 0);
	json_decref(seed);
	return rc;
}

/* Open a connector on `url` with extra YAML lines. */
static int
open_snow(struct connector **c, struct yml_doc *doc, const char *url,
    const char *timeout, const char *extra, struct diag *err)
{
	const struct connector_desc *d = connector_find("snowflake");
	struct connector_cfg cfg = { 0 };
	char *text;
	int rc;

	*c = NULL;
	memset(doc, 0, sizeof(*doc));
	text = xasprintf("type: snowflake\n"
	    "url: %s\n"
	    "user: accord_svc\n"
	    "role: SECURITYADMIN\n"
	    "warehouse: ADMIN_WH\n"
	    "timeout: %s\n"
	    "concurrency: 4\n"
	    "retry_budget: 10s\n"
	    "%s", url, timeout, extra);
	rc = yml_parse(doc, "accord.yaml", text, strlen(text), err);
	free(text);
	if (rc != 0 || d == NULL)
		return -1;
	cfg.name = "snow";
	cfg.type = "snowflake";
	cfg.config_path = "accord.yaml";
	cfg.node = doc->root;
	cfg.managed = managed;
	cfg.nmanaged = sizeof(managed) / sizeof(managed[0]);
	rc = d->ops->open(c, &cfg, err);
	if (rc != 0)
		buf_printf(&said, "%s\n", err->msg);
	return rc;
}

static char *
keypair_yaml(const char *key)
{
	return xasprintf("account: xy12345\nauth: keypair\n"
	    "private_key_file: %s\n", key);
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

/* grant (1) or revoke (0); err and detail kept for the JWT search. */
static int
change(struct connector *c, int grant, const char *account,
    const char *target, const char *priv, struct buf *detail,
    struct diag *err)
{
	struct pgrant g = mk(account, target, priv);
	int rc;

	buf_reset(detail);
	diag_clear(err);
	rc = grant ? c->desc->ops->grant(c, &g, detail, err) :
	    c->desc->ops->revoke(c, &g, detail, err);
	buf_printf(&said, "%s\n%s\n", err->msg, buf_cstr(detail));
	return rc;
}

/* The ingest's grants as sorted "account|target|privilege" lines. */
static char *
grant_lines(const struct ingest *in)
{
	struct buf b = BUF_INIT;
	char *s, *sorted;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < in->ngrants; i++)
		buf_printf(&b, "%s%s|%s|%s", i ? "\n" : "",
		    in->grants[i].account, in->grants[i].target,
		    in->grants[i].privilege);
	s = buf_detach(&b);
	sorted = sorted_lines(s, "");
	free(s);
	return sorted;
}

static const struct ident *
find_ident(const struct ingest *in, const char *name, enum account_kind k)
{
	size_t i;

	for (i = 0; i < in->nidents; i++)
		if (strcmp(in->idents[i].name, name) == 0 &&
		    in->idents[i].kind == k)
			return &in->idents[i];
	return NULL;
}

static const char want_grants[] =
    "ALICE|role:ANALYST_SALES|member\n"
    "BOB|role:\"we\"\"ird\"|member\n"
    "CAROL|role:lower_role|member\n"
    "role:REPORTING|table:SALES.PUBLIC.ORDERS|SELECT\n"
    "role:REPORTING|warehouse:REPORTING_WH|USAGE\n"
    "role:SYSADMIN|role:ANALYST_SALES|member\n"
    "role:UNMANAGED|role:REPORTING|member";

static void
check_ingest(struct connector *c, const char *label)
{
	struct ingest in = { 0 };
	struct diag err = { .line = 0 };
	const struct ident *id;
	char *s;
	int rc;

	rc = c->desc->ops->ingest(c, &in, &err);
	buf_printf(&said, "%s\n", err.msg);
	ok(rc == 0, "%s: ingest succeeds", label);
	if (rc != 0)
		printf("#   %s\n", err.msg);
	/* The emulator adds the six system roles; SYSADMIN is seeded too. */
	is_int(in.nidents, 3 + NUSERS + 8 + 5, "every user and role");
	id = find_ident(&in, "ALICE", ACCT_USER);
	ok(id && id->email && strcmp(id->email, "alice@example.com") == 0 &&
	    id->login && strcmp(id->login, "alice") == 0,
	    "%s: ALICE with email and login", label);
	id = find_ident(&in, "CAROL", ACCT_USER);
	ok(id && id->email == NULL, "%s: CAROL has no email", label);
	ok(find_ident(&in, "U_2499", ACCT_USER) != NULL,
	    "%s: a user from the third page", label);
	ok(find_ident(&in, "we\"ird", ACCT_ROLE) != NULL &&
	    find_ident(&in, "lower_role", ACCT_ROLE) != NULL,
	    "%s: roles by exact name", label);
	s = grant_lines(&in);
	is_str(s, want_grants, "memberships of managed roles, privileges on "
	    "managed targets, no OWNERSHIP");
	free(s);
	ingest_release(&in);
}

static void
check_headers(struct emu *e, size_t from)
{
	json_t *l = emu_log(e), *x, *body;
	size_t i, n = 0, bad_auth = 0, bad_type = 0, bad_accept = 0;
	size_t bad_ct = 0, bad_ua = 0, bad_id = 0, bad_body = 0;
	const char *h;
	char q[128];

	json_array_foreach(l, i, x) {
		if (i < from || !e_path_starts(x, "/api/v2/statements"))
			continue;
		n++;
		h = e_hdr(x, "Authorization");
		if (h == NULL || strncmp(h, "Bearer ey", 9) != 0)
			bad_auth++;
		h = e_hdr(x, "X-Snowflake-Authorization-Token-Type");
		if (h == NULL || strcmp(h, "KEYPAIR_JWT") != 0)
			bad_type++;
		h = e_hdr(x, "Accept");
		if (h == NULL || strcmp(h, "application/json") != 0)
			bad_accept++;
		h = e_hdr(x, "User-Agent");
		if (h == NULL || strcmp(h, "accord/0.1") != 0)
			bad_ua++;
		if (!is_post(x))
			continue;
		h = e_hdr(x, "Content-Type");
		if (h == NULL || strncmp(h, "application/json", 16) != 0)
			bad_ct++;
		e_query(x, "requestId", q, sizeof(q));
		if (strlen(q) != 36 || q[14] != '4')
			bad_id++;
		body = json_object_get(x, "body");
		if (!json_is_object(body) ||
		    json_integer_value(json_object_get(body,
		    "timeout")) != 60 ||
		    !json_is_string(json_object_get(body, "role")) ||
		    strcmp(json_string_value(json_object_get(body, "role")),
		    "SECURITYADMIN") != 0 ||
		    !json_is_string(json_object_get(body, "warehouse")))
			bad_body++;
	}
	ok(n > 10, "headers: %zu API requests logged", n);
	is_int(bad_auth, 0, "headers: Authorization: Bearer <JWT> on each");
	is_int(bad_type, 0, "headers: token type KEYPAIR_JWT");
	is_int(bad_accept, 0, "headers: Accept: application/json");
	is_int(bad_ua, 0, "headers: User-Agent: accord/0.1");
	is_int(bad_ct, 0, "headers: Content-Type: application/json on POSTs");
	is_int(bad_id, 0, "every POST has a UUID v4 requestId");
	is_int(bad_body, 0, "every body: timeout 60, role, warehouse");
	json_decref(l);
}

static void
test_plain(struct emu *e)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct diag err = { .line = 0 };
	struct buf detail = BUF_INIT;
	char *y, *s, *t;
	size_t mark;

	buf_init(&detail, 0);
	y = keypair_yaml(keyfile);
	if (open_snow(&c, &doc, e->url, "10s", y, &err) != 0) {
		ok(0, "open: %s", err.msg);
		free(y);
		yml_doc_release(&doc);
		return;
	}
	free(y);
	check_ingest(c, "plain");
	s = statements(e, 0);
	t = sorted_lines(s, "SHOW USERS");
	is_str(t, "SHOW USERS LIMIT 1000\n"
	    "SHOW USERS LIMIT 1000 FROM 'U_0996'\n"
	    "SHOW USERS LIMIT 1000 FROM 'U_1996'",
	    "users in pages of 1000, the last name the cursor");
	free(t);
	t = sorted_lines(s, "SHOW ROLES");
	is_str(t, "SHOW ROLES LIMIT 1000", "roles in one page");
	free(t);
	t = sorted_lines(s, "SHOW GRANTS OF");
	is_str(t, "SHOW GRANTS OF ROLE \"ANALYST_OPS\"\n"
	    "SHOW GRANTS OF ROLE \"ANALYST_SALES\"\n"
	    "SHOW GRANTS OF ROLE \"REPORTING\"\n"
	    "SHOW GRANTS OF ROLE \"lower_role\"\n"
	    "SHOW GRANTS OF ROLE \"we\"\"ird\"",
	    "SHOW GRANTS OF ROLE for exactly the managed roles, quoted");
	free(t);
	t = sorted_lines(s, "SHOW GRANTS TO");
	ok(strstr(t, "SHOW GRANTS TO ROLE \"SYSADMIN\"") != NULL &&
	    strstr(t, "SHOW GRANTS TO ROLE \"we\"\"ird\"") != NULL &&
	    strstr(t, "SHOW GRANTS TO ROLE \"UNMANAGED\"") != NULL,
	    "SHOW GRANTS TO ROLE for every role");
	free(t);
	free(s);

	/* Membership to a user: grant, again, revoke, again. */
	mark = log_mark(e);
	ok(change(c, 1, "ALICE", "role:ANALYST_OPS", "member", &detail,
	    &err) == 0, "grant a role to a user");
	ok(strstr(buf_cstr(&detail), "successfully") != NULL &&
	    strstr(buf_cstr(&detail), "(statement ") != NULL,
	    "detail: the answer and the statement handle (%s)",
	    buf_cstr(&detail));
	ok(has_member(e, "ANALYST_OPS", "USER", "ALICE"), "emulator: granted");
	ok(change(c, 1, "ALICE", "role:ANALYST_OPS", "member", &detail,
	    &err) == 0, "granting again succeeds");
	ok(change(c, 0, "ALICE", "role:ANALYST_OPS", "member", &detail,
	    &err) == 0, "revoke a role from a user");
	ok(!has_member(e, "ANALYST_OPS", "USER", "ALICE"), "emulator: revoked");
	ok(change(c, 0, "ALICE", "role:ANALYST_OPS", "member", &detail,
	    &err) == 0, "revoking again succeeds");
	/* Role to role, an object privilege, quoting. */
	ok(change(c, 1, "role:FINANCE_APP", "role:REPORTING", "member",
	    &detail, &err) == 0 &&
	    has_member(e, "REPORTING", "ROLE", "FINANCE_APP"),
	    "grant a role to a role");
	ok(change(c, 0, "role:FINANCE_APP", "role:REPORTING", "member",
	    &detail, &err) == 0 &&
	    !has_member(e, "REPORTING", "ROLE", "FINANCE_APP"),
	    "revoke a role from a role");
	ok(change(c, 1, "role:REPORTING", "table:SALES.PUBLIC.CUSTOMERS",
	    "SELECT", &detail, &err) == 0 && has_priv(e, "SELECT", "TABLE",
	    "SALES.PUBLIC.CUSTOMERS", "REPORTING"), "grant SELECT on a table");
	ok(change(c, 1, "role:ANALYST_OPS", "warehouse:REPORTING_WH",
	    "operate", &detail, &err) == 0 && has_priv(e, "OPERATE",
	    "WAREHOUSE", "REPORTING_WH", "ANALYST_OPS"),
	    "grant OPERATE on a warehouse");
	ok(change(c, 0, "role:REPORTING", "table:SALES.PUBLIC.CUSTOMERS",
	    "SELECT", &detail, &err) == 0 && !has_priv(e, "SELECT", "TABLE",
	    "SALES.PUBLIC.CUSTOMERS", "REPORTING"), "revoke SELECT on a table");
	ok(change(c, 1, "ALICE", "role:\"we\"\"ird\"", "member", &detail,
	    &err) == 0 && has_member(e, "we\"ird", "USER", "ALICE"),
	    "grant a role whose name holds a quote");
	ok(change(c, 1, "BOB", "role:lower_role", "member", &detail,
	    &err) == 0 && has_member(e, "lower_role", "USER", "BOB"),
	    "grant a lower-case role");
	s = statements(e, mark);
	is_str(s, "GRANT ROLE \"ANALYST_OPS\" TO USER \"ALICE\"\n"
	    "GRANT ROLE \"ANALYST_OPS\" TO USER \"ALICE\"\n"
	    "REVOKE ROLE \"ANALYST_OPS\" FROM USER \"ALICE\"\n"
	    "REVOKE ROLE \"ANALYST_OPS\" FROM USER \"ALICE\"\n"
	    "GRANT ROLE \"REPORTING\" TO ROLE \"FINANCE_APP\"\n"
	    "REVOKE ROLE \"REPORTING\" FROM ROLE \"FINANCE_APP\"\n"
	    "GRANT SELECT ON TABLE \"SALES\".\"PUBLIC\".\"CUSTOMERS\" TO ROLE "
	    "\"REPORTING\"\n"
	    "GRANT OPERATE ON WAREHOUSE \"REPORTING_WH\" TO ROLE "
	    "\"ANALYST_OPS\"\n"
	    "REVOKE SELECT ON TABLE \"SALES\".\"PUBLIC\".\"CUSTOMERS\" FROM "
	    "ROLE \"REPORTING\"\n"
	    "GRANT ROLE \"we\"\"ird\" TO USER \"ALICE\"\n"
	    "GRANT ROLE \"lower_role\" TO USER \"BOB\"",
	    "the exact statements, every identifier quoted");
	free(s);
	{
		json_t *l = emu_log(e), *x;
		size_t i, n200 = 0, n = 0;

		json_array_foreach(l, i, x)
			if (i >= mark && is_post(x)) {
				n++;
				n200 += e_status(x) == 200;
			}
		ok(n == 11 && n200 == n, "every grant and revoke answered 200 "
		    "(%zu of %zu), repeated ones too", n200, n);
		json_decref(l);
	}

	/* Refused before anything is sent. */
	mark = log_mark(e);
	ok(change(c, 1, "ALICE", "table:SALES.PUBLIC.ORDERS", "SELECT",
	    &detail, &err) == -1 && strstr(err.msg, "snowflake grants object "
	    "privileges to roles; set grantee: role:NAME") != NULL,
	    "an object privilege for a user is refused");
	ok(change(c, 1, "role:R", "table:SALES.PUBLIC.ORDERS", "OWNERSHIP",
	    &detail, &err) == -1 && strstr(err.msg, "OWNERSHIP") != NULL,
	    "a privilege outside the list is refused");
	is_int(log_mark(e), mark, "nothing was sent for them");

	/* 422. */
	ok(change(c, 1, "ALICE", "role:NOPE", "member", &detail, &err) == -1,
	    "a grant of an unknown role fails");
	ok(strncmp(err.msg, "platform snow: GRANT ROLE \"NOPE\" TO USER "
	    "\"ALICE\": 002003 (02000) ", 61) == 0 &&
	    strstr(err.msg, "NOPE") != NULL &&
	    strstr(err.msg, "does not exist") != NULL &&
	    strchr(err.msg, '\n') == NULL,
	    "422: platform, statement, code, state and message on one line");
	printf("# %s\n", err.msg);
	ok(strstr(buf_cstr(&detail), "002003") != NULL &&
	    strstr(buf_cstr(&detail), "does not exist") != NULL &&
	    strstr(buf_cstr(&detail), "(statement ") != NULL,
	    "422: detail has the answer and the handle (%s)",
	    buf_cstr(&detail));

	/* A 503 on a GRANT: resubmitted under the same requestId, with
	 * retry=true, and run once. */
	json_decref(ctl(e, "POST", "/_emulator/faults", "{\"faults\": [{"
	    "\"match\": \"^GRANT ROLE \\\"ANALYST_OPS\\\" TO USER \\\"BOB\\\"\","
	    " \"status\": 503, \"times\": 1}]}"));
	mark = log_mark(e);
	ok(change(c, 1, "BOB", "role:ANALYST_OPS", "member", &detail,
	    &err) == 0 && has_member(e, "ANALYST_OPS", "USER", "BOB"),
	    "a grant through a 503 succeeds");
	{
		json_t *l = emu_log(e), *x;
		char id[2][64], retry[2][16];
		long st[2];
		size_t i, n = 0;

		json_array_foreach(l, i, x)
			if (i >= mark && is_post(x) && n < 2) {
				e_query(x, "requestId", id[n], sizeof(id[n]));
				e_query(x, "retry", retry[n], sizeof(retry[n]));
				st[n++] = e_status(x);
			}
		ok(n == 2 && st[0] == 503 && st[1] == 200,
		    "503, then 200");
		ok(n == 2 && id[0][0] != '\0' && strcmp(id[0], id[1]) == 0,
		    "the same requestId");
		ok(n == 2 && retry[0][0] == '\0' &&
		    strcmp(retry[1], "true") == 0,
		    "only the resubmission says retry=true");
		json_decref(l);
	}
	json_decref(ctl(e, "DELETE", "/_emulator/faults", NULL));
	check_headers(e, 0);

	c->desc->ops->close(c);
	yml_doc_release(&doc);
	buf_release(&detail);
}

static void
test_wrong_key(struct emu *e)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct diag err = { .line = 0 };
	struct ingest in = { 0 };
	json_t *l, *x;
	char *y = keypair_yaml(wrongkey);
	size_t mark = log_mark(e), i, n401 = 0;

	ok(open_snow(&c, &doc, e->url, "10s", y, &err) == 0,
	    "open with a wrong key");
	free(y);
	if (c != NULL) {
		ok(c->desc->ops->ingest(c, &in, &err) == -1 &&
		    strstr(err.msg, "401") != NULL &&
		    strstr(err.msg, "SHOW USERS LIMIT 1000") != NULL,
		    "a wrong key: ingest fails with HTTP 401, naming the "
		    "statement");
		printf("# %s\n", err.msg);
		buf_printf(&said, "%s\n", err.msg);
		ok(in.nidents == 0, "nothing ingested");
		ingest_release(&in);
		c->desc->ops->close(c);
	}
	yml_doc_release(&doc);
	l = emu_log(e);
	json_array_foreach(l, i, x)
		if (i >= mark && is_post(x) && e_status(x) == 401)
			n401++;
	is_int(n401, 2, "a 401 renews the token and tries once more");
	json_decref(l);
}

static void
test_open_errors(struct emu *e)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct diag err = { .line = 0 };
	char *y, loose[800], cmd[2400];

	ok(open_snow(&c, &doc, e->url, "10s", "account: x\nauth: magic\n",
	    &err) == -1 && strstr(err.msg, "auth must be keypair, oauth or "
	    "token") != NULL && strstr(err.msg, "platform snow") != NULL,
	    "unknown auth refused (%s)", err.msg);
	yml_doc_release(&doc);
	ok(open_snow(&c, &doc, e->url, "10s",
	    "auth: keypair\nprivate_key_file: /x\n", &err) == -1 && strstr(err.msg, "account") != NULL,
	    "keypair needs an account (%s)", err.msg);
	yml_doc_release(&doc);
	snprintf(loose, sizeof(loose), "%s/loose.pem", tap_tmpdir());
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 644 %s", keyfile, loose,
	    loose);
	if (system(cmd) != 0)
		fprintf(stderr, "# cp failed\n");
	y = keypair_yaml(loose);
	ok(open_snow(&c, &doc, e->url, "10s", y, &err) == -1 &&
	    strstr(err.msg, "chmod 600") != NULL,
	    "a key readable by others refused (%s)", err.msg);
	free(y);
	yml_doc_release(&doc);
	setenv("SNOW_TEST_TOKEN", "not-a-valid-token", 1);
	ok(open_snow(&c, &doc, "https://example.com", "10s", "auth: token\n"
	    "token_env: SNOW_TEST_TOKEN\n", &err) == 0 && c != NULL,
	    "token auth opens without the network");
	if (c != NULL)
		c->desc->ops->close(c);
	yml_doc_release(&doc);
	ok(open_snow(&c, &doc, "http://example.com", "10s", "auth: token\n"
	    "token_env: SNOW_TEST_TOKEN\n", &err) == -1 && c == NULL,
	    "plain http to a non-loopback host refused");
	yml_doc_release(&doc);
}

static void
test_async(struct emu *e)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct diag err = { .line = 0 };
	struct buf detail = BUF_INIT;
	json_t *l, *x;
	char *y = keypair_yaml(keyfile), q[32];
	size_t i, n202 = 0, polls = 0, parts = 0;
	long pn, maxpart = 0;
	unsigned seen = 0;

	buf_init(&detail, 0);
	if (open_snow(&c, &doc, e->url, "10s", y, &err) != 0) {
		ok(0, "async: open: %s", err.msg);
		free(y);
		yml_doc_release(&doc);
		return;
	}
	free(y);
	check_ingest(c, "async, partitions of 100");
	ok(change(c, 1, "CAROL", "role:ANALYST_SALES", "member", &detail,
	    &err) == 0 && has_member(e, "ANALYST_SALES", "USER", "CAROL"),
	    "async: a grant is polled to its end");
	l = emu_log(e);
	json_array_foreach(l, i, x) {
		if (is_post(x) && e_status(x) == 202)
			n202++;
		if (!e_path_starts(x, "/api/v2/statements/") ||
		    strcmp(e_str(x, "method") ? e_str(x, "method") : "",
		    "GET") != 0)
			continue;
		e_query(x, "partition", q, sizeof(q));
		if (q[0] == '\0') {
			polls++;
			continue;
		}
		parts++;
		pn = strtol(q, NULL, 10);
		if (pn > maxpart)
			maxpart = pn;
		if (pn >= 0 && pn < 32)
			seen |= 1u << pn;
	}
	ok(n202 > 10, "async: statements answered 202 (%zu)", n202);
	ok(polls >= n202, "async: each polled until done (%zu polls)", polls);
	ok(maxpart == 9 && seen == 0x3feu,
	    "partitions 1..9 of a 1000-row page fetched (max %ld)", maxpart);
	ok(parts >= 9 + 9 + 5, "every page's partitions (%zu)", parts);
	json_decref(l);
	check_headers(e, 0);
	c->desc->ops->close(c);
	yml_doc_release(&doc);
	buf_release(&detail);
}

/* A statement still running when the platform's timeout is over. */
static void
test_async_timeout(struct emu *e)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct diag err = { .line = 0 };
	struct ingest in = { 0 };
	char *y = keypair_yaml(keyfile);
	int64_t t0;

	if (open_snow(&c, &doc, e->url, "1s", y, &err) == 0) {
		t0 = time_now();
		ok(c->desc->ops->ingest(c, &in, &err) == -1 &&
		    strstr(err.msg, "platform snow: SHOW USERS LIMIT 1000: "
		    "still running after") != NULL,
		    "polling stops at the platform's timeout (%s)", err.msg);
		ok(time_now() - t0 <= 3, "and does not wait much longer");
		buf_printf(&said, "%s\n", err.msg);
		ingest_release(&in);
		c->desc->ops->close(c);
	} else
		ok(0, "open: %s", err.msg);
	free(y);
	yml_doc_release(&doc);
}

/* No JWT the emulator saw appears in what the connector said. */
static void
test_no_secret(struct emu *e)
{
	json_t *l = emu_log(e), *x;
	const char *h, *sig;
	size_t i, n = 0, leaks = 0;

	json_array_foreach(l, i, x) {
		h = e_hdr(x, "Authorization");
		if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
			continue;
		sig = strrchr(h, '.');
		if (sig == NULL || strlen(sig) < 20)
			continue;
		n++;
		if (strstr(buf_cstr(&said), sig + 1) != NULL ||
		    strstr(buf_cstr(&said), h + 7) != NULL)
			leaks++;
	}
	ok(n > 0 && leaks == 0, "no JWT in any message or detail (%zu "
	    "checked)", n);
	json_decref(l);
}

int
main(void)
{
	static const char *const async_args[] = {
		"--async-ms", "300", "--partition-rows", "100", NULL
	};
	static const char *const slow_args[] = { "--async-ms", "5000", NULL };
	struct emu *plain, *async, *slow;

	signal(SIGPIPE, SIG_IGN);
	atexit(stop_all);
	buf_init(&said, 0);
	if (access(EMULATOR, R_OK) != 0) {
		ok(0, "the emulator %s exists", EMULATOR);
		return tap_done();
	}
	if (make_keys() != 0 || make_seed() != 0) {
		ok(0, "fixtures: RSA keys and seed");
		return tap_done();
	}
	plain = emu_start("plain", NULL);
	ok(plain != NULL, "the emulator starts");
	if (plain != NULL) {
		test_open_errors(plain);
		test_plain(plain);
		test_wrong_key(plain);
		test_no_secret(plain);
	}
	async = emu_start("async", async_args);
	ok(async != NULL, "the async emulator starts");
	if (async != NULL) {
		test_async(async);
		test_no_secret(async);
	}
	slow = emu_start("slow", slow_args);
	ok(slow != NULL, "the slow emulator starts");
	if (slow != NULL)
		test_async_timeout(slow);
	return tap_done();
}
