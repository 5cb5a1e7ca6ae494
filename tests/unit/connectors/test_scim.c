/*
 * The SCIM 2.0 client (connectors/scim_core.c) and the `scim` connector
 * (connectors/scim.c, through its ops table) against
 * tests/emulators/faultserver.py, started here on loopback, with canned
 * answers set per test through its control API and the exact requests
 * read back from its log.  The client: filter literals (quotes,
 * backslashes, UTF-8, control characters) and the encoded URL a lookup
 * sends; startIndex/count paging (stop at totalResults, a server giving
 * fewer than count, an empty page, no total, no "Resources"); users
 * (primary email, active, ids as numbers, a User without userName);
 * groups (member types from "type" or "$ref"); RFC 7644 §3.12, Databricks
 * and plain-text error bodies; PatchOp bodies, headers and answers (200,
 * 204, 404 with and without an add, 401 then 200).  The connector: open
 * and its config errors, ingest (idents and emails per DESIGN §13, member
 * grants on managed groups only, one filter per exactly named group or
 * one listing for a glob) and apply_batch (one PATCH per group, each item
 * with its own outcome).  Runs from the top of the tree.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "buf.h"
#include "connector.h"
#include "diag.h"
#include "grant.h"
#include "http.h"
#include "util.h"
#include "yml.h"
#include "../../../connectors/backends.h"
#include "../../../connectors/scim.h"
#include "../../lib/tap.h"

#define PATCHOP "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define LISTRESP "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIMERR "urn:ietf:params:scim:api:messages:2.0:Error"
#define UQ "&attributes=id,userName,displayName,emails,active"
#define GQ "&attributes=id,displayName,members"
#define TOKEN_VAR "ACCORD_TEST_SCIM_TOKEN"
#define TOKEN "s3cr3t-scim-token"

static pid_t srv_pid;
static int srv_port;
static struct http *ctl;	/* talks to the server's control API */
static struct http *api;	/* the client's handle, platform "okta" */
static struct auth *bearer;	/* "Bearer tok-123" */

static void
srv_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
}

static int
srv_start(void)
{
	char pf[600], line[32];
	FILE *f;
	int i;

	snprintf(pf, sizeof(pf), "%s/port", tap_tmpdir());
	fflush(NULL);
	if ((srv_pid = fork()) == -1)
		return -1;
	if (srv_pid == 0) {
		execl("/usr/bin/python3", "python3",
		    "tests/emulators/faultserver.py", "--port-file", pf,
		    (char *)NULL);
		_exit(127);
	}
	atexit(srv_stop);
	for (i = 0; i < 200; i++) {
		if ((f = fopen(pf, "r")) != NULL) {
			if (fgets(line, sizeof(line), f) != NULL)
				srv_port = (int)strtol(line, NULL, 10);
			fclose(f);
			if (srv_port > 0)
				break;
		}
		usleep(50000);
	}
	return srv_port > 0 ? 0 : -1;
}

static struct http *
open_as(const char *platform)
{
	struct http_opts o;
	struct http *h = NULL;
	struct diag err;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv_port);
	memset(&o, 0, sizeof(o));
	o.platform = platform;
	o.base_url = url;
	o.retry_budget_ms = -1;	/* no retries: a 5xx is an answer */
	if (http_open(&h, &o, &err) == -1)
		fprintf(stderr, "# http_open: %s\n", err.msg);
	return h;
}

/* JSON from a format with ' for " (and \\' for an escaped quote). */
static json_t *
J(const char *fmt, ...)
{
	va_list ap;
	char *s, *p;
	json_t *j;
	json_error_t je;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		abort();
	va_end(ap);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if ((j = json_loads(s, 0, &je)) == NULL) {
		fprintf(stderr, "# bad test JSON: %s: %s\n", je.text, s);
		abort();
	}
	free(s);
	return j;
}

static int
ctl_do(const char *method, const char *path, json_t *body, json_t **out)
{
	struct http_req rq;
	struct http_resp rs;
	struct diag err;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = path;
	rq.body = text;
	rq.body_len = text ? strlen(text) : 0;
	rc = http_do(ctl, &rq, &rs, &err);
	if (rc == 0 && (rs.status < 200 || rs.status > 299))
		rc = -1;
	if (rc == 0 && out != NULL && (*out = http_json(&rs, "log", &err)) ==
	    NULL)
		rc = -1;
	if (rc == -1)
		fprintf(stderr, "# control %s %s failed\n", method, path);
	http_resp_release(&rs);
	free(text);
	return rc;
}

/* Install routes (taking the reference) and forget the log. */
static void
routes(json_t *r)
{
	json_t *body = json_pack("{s:o}", "routes", r);

	ctl_do("PUT", "/_fault/routes", body, NULL);
	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	json_decref(body);
}

/* Every request logged since the last routes(); a new reference. */
static json_t *
log_get(void)
{
	json_t *log = NULL;

	if (ctl_do("GET", "/_fault/log", NULL, &log) == -1 ||
	    !json_is_array(log)) {
		json_decref(log);
		return json_array();
	}
	return log;
}

/* "METHOD TARGET" of each logged request, one a line. */
static char *
requested(void)
{
	json_t *log = log_get(), *e;
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 0);
	json_array_foreach(log, i, e)
		buf_printf(&b, "%s %s\n",
		    json_string_value(json_object_get(e, "method")),
		    json_string_value(json_object_get(e, "path")));
	json_decref(log);
	return buf_detach(&b);
}

static void
requests_are(const char *want, const char *name)
{
	char *got = requested();

	is_str(got, want, name);
	free(got);
}

static size_t
nrequests(void)
{
	json_t *log = log_get();
	size_t n = json_array_size(log);

	json_decref(log);
	return n;
}

/* A header of a logged request (borrowed from e), or NULL. */
static const char *
hdr(json_t *e, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(e, "headers"), k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

/* The JSON body of logged request i; a new reference or NULL. */
static json_t *
body_of(json_t *log, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(log,
	    i), "body"));

	return s ? json_loads(s, 0, NULL) : NULL;
}

/* The "path" of the n-th operation of a PatchOp body. */
static const char *
op_path(json_t *body, size_t n)
{
	return json_string_value(json_object_get(json_array_get(
	    json_object_get(body, "Operations"), n), "path"));
}

/* A ListResponse answer; total < 0 leaves totalResults out, res NULL
 * leaves "Resources" out (res is taken). */
static json_t *
page(long total, long start, json_t *res)
{
	json_t *b = json_pack("{s:[s], s:I}", "schemas", LISTRESP,
	    "startIndex", (json_int_t)start);

	if (total >= 0)
		json_object_set_new(b, "totalResults", json_integer(total));
	json_object_set_new(b, "itemsPerPage",
	    json_integer(res ? (json_int_t)json_array_size(res) : 0));
	if (res != NULL)
		json_object_set_new(b, "Resources", res);
	return json_pack("{s:i, s:{s:s}, s:o}", "status", 200, "headers",
	    "Content-Type", "application/scim+json", "body", b);
}

static json_t *
user_j(const char *id, const char *name)
{
	return json_pack("{s:[s], s:s, s:s}", "schemas",
	    "urn:ietf:params:scim:schemas:core:2.0:User", "id", id,
	    "userName", name);
}

/* Users u1..un (userName user1..usern) from `from`. */
static json_t *
users_j(int from, int n)
{
	json_t *a = json_array();
	char id[16], name[16];
	int i;

	for (i = from; i < from + n; i++) {
		snprintf(id, sizeof(id), "u%d", i);
		snprintf(name, sizeof(name), "user%d", i);
		json_array_append_new(a, user_j(id, name));
	}
	return a;
}

/* An RFC 7644 §3.12 error answer. */
static json_t *
scim_error(int status, const char *type, const char *detail)
{
	char st[8];

	snprintf(st, sizeof(st), "%d", status);
	return json_pack("{s:i, s:{s:s}, s:{s:[s], s:s, s:s, s:s}}", "status",
	    status, "headers", "Content-Type", "application/scim+json",
	    "body", "schemas", SCIMERR, "scimType", type, "detail", detail,
	    "status", st);
}

static void
core_init(struct scim *s, long page_size)
{
	memset(s, 0, sizeof(*s));
	s->http = api;
	s->auth = bearer;
	s->platform = "okta";
	s->prefix = "/pfx";
	s->page_size = page_size;
}

/* "id=userName" of each user, comma-separated; a new string. */
static char *
user_ids(const struct scim_user *u, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", u[i].id,
		    u[i].user_name);
	return buf_detach(&b);
}

static int
has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* --- the client ---------------------------------------------------------- */

static void
test_filter(void)
{
	struct scim s;
	struct scim_group g;
	struct diag err;
	char *f;
	int rc;

	f = scim_filter_eq("displayName", "Admins");
	is_str(f, "displayName eq \"Admins\"", "filter: a plain value in "
	    "double quotes");
	free(f);
	f = scim_filter_eq("displayName", "a\"b\\c");
	is_str(f, "displayName eq \"a\\\"b\\\\c\"", "filter: \" and \\ "
	    "escaped as in a JSON string");
	free(f);
	f = scim_filter_eq("userName", "Zo\xc3\xab \xe2\x98\x83");
	is_str(f, "userName eq \"Zo\xc3\xab \xe2\x98\x83\"", "filter: UTF-8 "
	    "kept as it is");
	free(f);
	f = scim_filter_eq("displayName", "tab\there\nnl");
	is_str(f, "displayName eq \"tab\\there\\nnl\"", "filter: control "
	    "characters escaped");
	free(f);
	f = scim_filter_eq("displayName", "");
	is_str(f, "displayName eq \"\"", "filter: an empty value");
	free(f);

	/* The URL a lookup sends: the filter percent-encoded. */
	core_init(&s, 0);
	routes(json_pack("{s:o}", "/pfx/Groups", page(1, 1,
	    json_pack("[{s:s, s:s, s:[{s:s, s:s}]}]", "id", "g-1",
	    "displayName", "Data \"Eng\" \\ Zo\xc3\xab", "members", "value",
	    "u1", "type", "User"))));
	rc = scim_find_group(&s, "Data \"Eng\" \\ Zo\xc3\xab", &g, &err);
	is_int(rc, 1, "find_group: found");
	is_str(g.id, "g-1", "find_group: id");
	ok(g.nmembers == 1 && strcmp(g.members[0].id, "u1") == 0,
	    "find_group: members parsed");
	requests_are("GET /pfx/Groups?startIndex=1&count=100&filter="
	    "displayName%20eq%20%22Data%20%5C%22Eng%5C%22%20%5C%5C%20"
	    "Zo%C3%AB%22&attributes=id,displayName,members\n",
	    "find_group: filter percent-encoded, attributes asked");
	scim_group_release(&g);

	/* displayName is case-insensitive on the server: keep the exact one. */
	routes(json_pack("{s:o}", "/pfx/Groups", page(2, 1,
	    json_pack("[{s:s, s:s}, {s:s, s:s}]", "id", "a", "displayName",
	    "ADMINS", "id", "b", "displayName", "Admins"))));
	rc = scim_find_group(&s, "Admins", &g, &err);
	ok(rc == 1 && g.id != NULL && strcmp(g.id, "b") == 0,
	    "find_group: the exactly spelled one of two (%s)",
	    g.id ? g.id : "none");
	scim_group_release(&g);
	routes(json_pack("{s:o}", "/pfx/Groups", page(1, 1,
	    json_pack("[{s:s, s:s}]", "id", "a", "displayName", "ADMINS"))));
	rc = scim_find_group(&s, "Admins", &g, &err);
	ok(rc == 0 && g.id == NULL, "find_group: another spelling is not it");
	routes(json_pack("{s:o}", "/pfx/Groups", page(0, 1, NULL)));
	rc = scim_find_group(&s, "Nobody", &g, &err);
	ok(rc == 0 && g.id == NULL, "find_group: no such group gives 0");
	is_int(nrequests(), 1, "find_group: one request when none is found");
}

static void
test_paging(void)
{
	static struct scim_user sentinel;
	struct scim_user *u = NULL;
	struct scim s;
	struct diag err;
	size_t n = 0;
	char *ids;
	int rc;

	/* page_size 2, totalResults 5: 1, 3, 5 and no fourth request. */
	core_init(&s, 2);
	routes(json_pack("{s:[o, o, o, o]}", "/pfx/Users", page(5, 1,
	    users_j(1, 2)), page(5, 3, users_j(3, 2)), page(5, 5,
	    users_j(5, 1)), page(5, 7, users_j(6, 1))));
	rc = scim_list_users(&s, &u, &n, &err);
	is_int(rc, 0, "paging: listing works");
	ids = user_ids(u, n);
	is_str(ids, "u1=user1,u2=user2,u3=user3,u4=user4,u5=user5",
	    "paging: the five users in order");
	free(ids);
	scim_users_free(u, n);
	requests_are("GET /pfx/Users?startIndex=1&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=3&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=5&count=2" UQ "\n",
	    "paging: startIndex 1, 3, 5 with count 2, three requests");

	/* Fewer than count each time: advance by what came. */
	routes(json_pack("{s:[o, o, o, o, o, o]}", "/pfx/Users", page(5, 1,
	    users_j(1, 1)), page(5, 2, users_j(2, 1)), page(5, 3,
	    users_j(3, 1)), page(5, 4, users_j(4, 1)), page(5, 5,
	    users_j(5, 1)), page(5, 6, users_j(6, 1))));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == 0 && n == 5, "short pages: five users (%zu)", n);
	scim_users_free(u, n);
	requests_are("GET /pfx/Users?startIndex=1&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=2&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=3&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=4&count=2" UQ "\n"
	    "GET /pfx/Users?startIndex=5&count=2" UQ "\n",
	    "short pages: advance by one, stop at totalResults");

	/* An empty page ends the walk, whatever totalResults says. */
	routes(json_pack("{s:[o, o, o]}", "/pfx/Users", page(10, 1,
	    users_j(1, 2)), page(10, 3, json_array()), page(10, 3,
	    users_j(3, 2))));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == 0 && n == 2, "empty page: the two users before it (%zu)", n);
	scim_users_free(u, n);
	is_int(nrequests(), 2, "empty page: the walk stops there");

	/* No totalResults: a short page is the last. */
	routes(json_pack("{s:[o, o, o, o, o]}", "/pfx/Users", page(-1, 1,
	    users_j(1, 2)), page(-1, 3, users_j(3, 2)), page(-1, 5,
	    users_j(5, 1)), page(-1, 6, users_j(6, 2)), page(-1, 8,
	    json_array())));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == 0 && n == 5, "no total: five users (%zu)", n);
	scim_users_free(u, n);
	is_int(nrequests(), 3, "no total: stops at the short page");
	routes(json_pack("{s:[o, o, o]}", "/pfx/Users", page(-1, 1,
	    users_j(1, 2)), page(-1, 3, NULL), page(-1, 3, users_j(3, 2))));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == 0 && n == 2, "no total, full page then none: two users");
	scim_users_free(u, n);
	is_int(nrequests(), 2, "no total: a page without Resources ends it");

	/* A server that ignores startIndex sends page one again: the walk
	 * fails rather than count the same users over and over. */
	routes(json_pack("{s:[o, o, o]}", "/pfx/Users", page(6, 1,
	    users_j(1, 2)), page(6, 1, users_j(1, 2)), page(6, 1,
	    users_j(1, 2))));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && strstr(err.msg, "did not advance") != NULL &&
	    strstr(err.msg, "platform ") == err.msg, "startIndex ignored: "
	    "the walk fails (%s)", rc == -1 ? err.msg : "no error");
	is_int(nrequests(), 2, "startIndex ignored: stops at the repeat");

	/* An empty result may leave "Resources" out (RFC 7644 §3.4.2). */
	routes(json_pack("{s:o}", "/pfx/Users", page(0, 1, NULL)));
	u = &sentinel;	/* must be reset */
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == 0 && n == 0 && u == NULL, "no Resources: an empty list "
	    "(rc %d)", rc);
	is_int(nrequests(), 1, "no Resources: one request");
}

static void
test_users(void)
{
	struct scim_user *u = NULL;
	struct scim s;
	struct diag err;
	size_t n = 0;
	int rc;

	core_init(&s, 0);
	routes(json_pack("{s:o}", "/pfx/Users", page(4, 1, J("["
	    "{'id':'u1','userName':'alice@corp.com','displayName':'Alice',"
	    " 'active':true,'emails':[{'value':'alice.old@corp.com',"
	    " 'primary':false,'type':'home'},{'value':'alice@corp.com',"
	    " 'primary':true,'type':'work'}]},"
	    "{'id':'u2','userName':'bob'},"
	    "{'id':'u3','userName':'carol','active':false,"
	    " 'emails':[{'value':'carol@corp.com','type':'work'}]},"
	    "{'id':12345,'userName':'dave','active':null}]"))));
	rc = scim_list_users(&s, &u, &n, &err);
	if (!ok(rc == 0 && n == 4, "users: four listed (%s)",
	    rc ? err.msg : "ok")) {
		scim_users_free(u, n);
		return;
	}
	requests_are("GET /pfx/Users?startIndex=1&count=100" UQ "\n",
	    "users: page size 0 asks for 100, with the attributes");
	is_str(u[0].email, "alice@corp.com", "users: the primary email over "
	    "a first non-primary one");
	is_str(u[0].display_name, "Alice", "users: displayName");
	is_int(u[0].active, 1, "users: active true");
	ok(u[1].email == NULL, "users: userName only gives no email");
	ok(u[1].display_name == NULL, "users: no displayName gives NULL");
	is_int(u[1].active, 1, "users: active absent counts as active");
	is_int(u[2].active, 0, "users: active false parsed");
	is_str(u[2].email, "carol@corp.com", "users: no primary: the first "
	    "email (scim.h)");
	is_str(u[3].id, "12345", "users: a numeric id as a string");
	is_int(u[3].active, 1, "users: active null counts as active");
	scim_users_free(u, n);

	routes(json_pack("{s:o}", "/pfx/Users", page(2, 1, J("["
	    "{'id':'u1','userName':'alice'},"
	    "{'id':'u9','displayName':'No Name'}]"))));
	u = NULL;
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && u == NULL && n == 0, "users: a User without userName "
	    "fails the listing");
	ok(has(err.msg, "platform okta") && has(err.msg, "userName"),
	    "users: the message names the platform and userName (%s)",
	    err.msg);
}

static void
test_groups(void)
{
	struct scim_group *g = NULL;
	struct scim s;
	struct diag err;
	size_t n = 0, i;
	struct buf b = BUF_INIT;
	int rc;

	core_init(&s, 0);
	routes(json_pack("{s:o}", "/pfx/Groups", page(2, 1, J("["
	    "{'id':7,'displayName':'Admins','members':["
	    " {'value':'u1','type':'User','display':'Alice'},"
	    " {'value':'g2','$ref':"
	    "  'https://idp.example.com/scim/v2/Groups/g2'},"
	    " {'value':'sp1','$ref':"
	    "  'https://idp.example.com/scim/v2/ServicePrincipals/sp1'},"
	    " {'value':'u2','$ref':'https://idp.example.com/scim/v2/Users/u2'},"
	    " {'value':12345,'display':'Dave'},"
	    " {'display':'no value'}]},"
	    "{'id':'g2','displayName':'Data'}]"))));
	rc = scim_list_groups(&s, &g, &n, &err);
	if (!ok(rc == 0 && n == 2, "groups: two listed (%s)",
	    rc ? err.msg : "ok")) {
		scim_groups_free(g, n);
		return;
	}
	requests_are("GET /pfx/Groups?startIndex=1&count=100" GQ "\n",
	    "groups: one page, members asked for");
	is_str(g[0].id, "7", "groups: a numeric group id as a string");
	is_str(g[0].display_name, "Admins", "groups: displayName");
	buf_init(&b, 0);
	for (i = 0; i < g[0].nmembers; i++)
		buf_printf(&b, "%s:%s ", g[0].members[i].id,
		    g[0].members[i].type ? g[0].members[i].type : "-");
	is_str(buf_cstr(&b), "u1:User g2:Group sp1:ServicePrincipal u2:User "
	    "12345:- ", "groups: member types from type or $ref, numeric "
	    "values, a member without value skipped");
	buf_release(&b);
	is_int(g[1].nmembers, 0, "groups: no members");
	scim_groups_free(g, n);

	routes(json_pack("{s:o}", "/pfx/Groups", page(1, 1,
	    J("[{'id':'g3','members':[]}]"))));
	rc = scim_list_groups(&s, &g, &n, &err);
	ok(rc == -1 && g == NULL && has(err.msg, "platform okta") &&
	    has(err.msg, "displayName"), "groups: a Group without "
	    "displayName fails (%s)", err.msg);
}

static void
test_errors(void)
{
	struct scim_user *u = NULL;
	struct scim_group g;
	struct scim s;
	struct diag err;
	struct buf detail = BUF_INIT;
	char *add[] = { "u1" };
	size_t n = 0;
	int rc;

	core_init(&s, 0);
	routes(json_pack("{s:o}", "/pfx/Users", scim_error(400,
	    "invalidFilter", "Bad filter")));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && u == NULL, "error: a 400 fails the listing");
	ok(has(err.msg, "platform okta") && has(err.msg, "HTTP 400") &&
	    has(err.msg, "invalidFilter: Bad filter") &&
	    has(err.msg, "GET /pfx/Users"), "error: 400 message (%s)",
	    err.msg);

	routes(json_pack("{s:o}", "/pfx/Groups", scim_error(400,
	    "invalidFilter", "Bad filter")));
	rc = scim_find_group(&s, "x", &g, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "HTTP 400") && has(err.msg, "invalidFilter: Bad "
	    "filter"), "error: find_group's 400 (%s)", err.msg);

	routes(json_pack("{s:o}", "/pfx/Groups/g1", scim_error(409,
	    "uniqueness", "Member already exists")));
	buf_init(&detail, 0);
	rc = scim_patch_members(&s, "g1", add, 1, NULL, 0, &detail, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "PATCH /pfx/Groups/g1") && has(err.msg, "HTTP 409") &&
	    has(err.msg, "uniqueness: Member already exists"),
	    "error: 409 on PATCH (%s)", err.msg);
	ok(has(buf_cstr(&detail), "HTTP 409") &&
	    has(buf_cstr(&detail), "uniqueness"), "error: the 409 in detail "
	    "too (%s)", buf_cstr(&detail));
	buf_release(&detail);

	routes(json_pack("{s:{s:i, s:{s:s}, s:s}}", "/pfx/Users", "status",
	    403, "headers", "Content-Type", "text/html", "body",
	    "<html>Forbidden: missing scope scim.read</html>"));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "HTTP 403") &&
	    has(err.msg, "Forbidden: missing scope scim.read"),
	    "error: a non-JSON body quoted (%s)", err.msg);

	routes(json_pack("{s:{s:i, s:{s:s, s:s}}}", "/pfx/Users", "status",
	    403, "body", "error_code", "FEATURE_DISABLED", "message",
	    "SCIM is not enabled"));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "HTTP 403") &&
	    has(err.msg, "FEATURE_DISABLED: SCIM is not enabled"),
	    "error: Databricks error_code: message (%s)", err.msg);

	routes(json_pack("{s:{s:s}}", "/pfx/Users", "body", "{not json"));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "invalid JSON"), "error: a 200 that is not JSON "
	    "(%s)", err.msg);
	routes(json_pack("{s:{s:{s:s}}}", "/pfx/Users", "body", "Resources",
	    "oops"));
	rc = scim_list_users(&s, &u, &n, &err);
	ok(rc == -1 && has(err.msg, "platform okta") &&
	    has(err.msg, "not an array"), "error: Resources not an array "
	    "(%s)", err.msg);
}

static void
test_patch(void)
{
	struct scim s;
	struct diag err;
	struct buf detail = BUF_INIT;
	char *add[] = { "u1", "u2" };
	char *rm[] = { "r1", "we\"ird\\id" };
	char *bad[] = { "ok", "b\xff\xfe" };
	json_t *log, *body, *want;
	const char *v;
	int rc;

	core_init(&s, 0);
	routes(json_pack("{s:{s:i}}", "/pfx/Groups/g%2F1%20x", "status", 204));
	buf_init(&detail, 0);
	rc = scim_patch_members(&s, "g/1 x", add, 2, rm, 2, &detail, &err);
	is_int(rc, 0, "patch: 204 is success");
	is_str(buf_cstr(&detail), "HTTP 204", "patch: detail says 204");
	requests_are("PATCH /pfx/Groups/g%2F1%20x\n", "patch: one PATCH, the "
	    "group id percent-encoded in the path");
	log = log_get();
	body = body_of(log, 0);
	want = json_pack("{s:[s], s:[{s:s, s:s}, {s:s, s:s}, "
	    "{s:s, s:s, s:[{s:s}, {s:s}]}]}", "schemas", PATCHOP,
	    "Operations", "op", "remove", "path", "members[value eq \"r1\"]",
	    "op", "remove", "path", "members[value eq \"we\\\"ird\\\\id\"]",
	    "op", "add", "path", "members", "value", "value", "u1", "value",
	    "u2");
	ok(body != NULL && json_equal(body, want), "patch: PatchOp body, "
	    "removes first, one add with every value");
	if (body != NULL && !json_equal(body, want))
		printf("#   got: %s\n", json_string_value(json_object_get(
		    json_array_get(log, 0), "body")));
	is_str(op_path(body, 1), "members[value eq \"we\\\"ird\\\\id\"]",
	    "patch: the id in the remove path JSON-escaped");
	ok(json_object_size(body) == 2, "patch: schemas and Operations only");
	v = hdr(json_array_get(log, 0), "Content-Type");
	is_str(v, "application/scim+json", "patch: Content-Type");
	v = hdr(json_array_get(log, 0), "Authorization");
	is_str(v, "Bearer tok-123", "patch: the bearer token sent");
	v = hdr(json_array_get(log, 0), "Accept");
	ok(has(v, "application/scim+json"), "patch: Accept has scim+json (%s)",
	    v ? v : "none");
	json_decref(want);
	json_decref(body);
	json_decref(log);

	/* 200 with the resource, adds only. */
	routes(json_pack("{s:{s:i, s:{s:s, s:s}}}", "/pfx/Groups/g1", "status",
	    200, "body", "id", "g1", "displayName", "Admins"));
	buf_reset(&detail);
	rc = scim_patch_members(&s, "g1", add, 1, NULL, 0, &detail, &err);
	ok(rc == 0 && strcmp(buf_cstr(&detail), "HTTP 200") == 0,
	    "patch: 200 is success (%s)", buf_cstr(&detail));
	log = log_get();
	body = body_of(log, 0);
	want = J("{'schemas':['%s'],'Operations':[{'op':'add',"
	    "'path':'members','value':[{'value':'u1'}]}]}", PATCHOP);
	ok(body != NULL && json_equal(body, want), "patch: adds only, one "
	    "add op");
	json_decref(want);
	json_decref(body);
	json_decref(log);

	/* 404: the group is gone.  Only removes: success. */
	routes(json_pack("{s:o}", "/pfx/Groups/g1", scim_error(404, "noTarget",
	    "Group g1 not found")));
	buf_reset(&detail);
	rc = scim_patch_members(&s, "g1", NULL, 0, rm, 1, &detail, &err);
	ok(rc == 0, "patch: 404 with only removes is success");
	ok(has(buf_cstr(&detail), "404"), "patch: detail mentions 404 (%s)",
	    buf_cstr(&detail));
	log = log_get();
	body = body_of(log, 0);
	want = J("{'schemas':['%s'],'Operations':[{'op':'remove',"
	    "'path':'members[value eq \\'r1\\']'}]}", PATCHOP);
	ok(body != NULL && json_equal(body, want), "patch: removes only, no "
	    "add op");
	json_decref(want);
	json_decref(body);
	json_decref(log);
	buf_reset(&detail);
	rc = scim_patch_members(&s, "g1", add, 1, rm, 1, &detail, &err);
	ok(rc == -1 && has(err.msg, "HTTP 404") && has(err.msg,
	    "platform okta"), "patch: 404 with an add fails (%s)", err.msg);

	/* 401 then 200: the token renewed once, the PATCH sent again. */
	routes(json_pack("{s:[{s:i, s:{s:s}}, {s:i}]}", "/pfx/Groups/g1",
	    "status", 401, "body", "detail", "expired", "status", 200));
	buf_reset(&detail);
	rc = scim_patch_members(&s, "g1", add, 1, NULL, 0, &detail, &err);
	ok(rc == 0, "patch: 401 then 200 is success (%s)",
	    rc ? err.msg : "ok");
	requests_are("PATCH /pfx/Groups/g1\nPATCH /pfx/Groups/g1\n",
	    "patch: 401 then 200 gives exactly two requests");
	log = log_get();
	ok(json_array_size(log) == 2 &&
	    has(hdr(json_array_get(log, 1), "Authorization"), "Bearer "),
	    "patch: the second request has a bearer too");
	json_decref(log);
	routes(json_pack("{s:{s:i, s:{s:s}}}", "/pfx/Groups/g1", "status",
	    401, "body", "detail", "token expired"));
	rc = scim_patch_members(&s, "g1", add, 1, NULL, 0, &detail, &err);
	ok(rc == -1 && has(err.msg, "HTTP 401"), "patch: 401 twice fails "
	    "(%s)", err.msg);
	is_int(nrequests(), 2, "patch: 401 renews the token only once");

	/* No auth: no Authorization header. */
	s.auth = NULL;
	routes(json_pack("{s:{s:i}}", "/pfx/Groups/g1", "status", 204));
	rc = scim_patch_members(&s, "g1", add, 1, NULL, 0, NULL, &err);
	log = log_get();
	ok(rc == 0 && json_array_size(log) == 1 &&
	    hdr(json_array_get(log, 0), "Authorization") == NULL,
	    "patch: no auth, no Authorization header");
	json_decref(log);
	s.auth = bearer;

	/* An id that is not UTF-8 cannot be said in JSON: nothing is sent
	 * (not a PATCH without it, nor one removing value eq ""). */
	routes(json_pack("{s:{s:i}}", "/pfx/Groups/g1", "status", 204));
	rc = scim_patch_members(&s, "g1", NULL, 0, bad, 2, NULL, &err);
	ok(rc == -1, "patch: a remove id that is not UTF-8 fails");
	log = log_get();
	body = body_of(log, 0);
	ok(json_array_size(log) == 0, "patch: ... and nothing is sent (sent "
	    "%s)", body ? op_path(body, 1) : "nothing");
	json_decref(body);
	json_decref(log);
	routes(json_pack("{s:{s:i}}", "/pfx/Groups/g1", "status", 204));
	rc = scim_patch_members(&s, "g1", bad, 2, NULL, 0, NULL, &err);
	ok(rc == -1, "patch: an add id that is not UTF-8 fails");
	is_int(nrequests(), 0, "patch: ... and nothing is sent");
	buf_release(&detail);
}

/* --- the connector -------------------------------------------------------- */

static char *exact_managed[] = { "group:Admins", "group:Data Eng",
	"group:Ghost", "role:other" };
static char *glob_managed[] = { "group:Data*" };

static int
open_scim(struct connector **c, struct yml_doc *doc, const char *extra,
    char *const *managed, size_t nmanaged, struct diag *err)
{
	const struct connector_desc *d = connector_find("scim");
	struct connector_cfg cfg;
	char *text;
	int rc;

	*c = NULL;
	memset(doc, 0, sizeof(*doc));
	text = xasprintf("type: scim\n"
	    "url: http://127.0.0.1:%d/scim/v2\n"
	    "timeout: 10s\n"
	    "retry_budget: 1s\n"
	    "%s", srv_port, extra);
	rc = yml_parse(doc, "accord.yaml", text, strlen(text), err);
	free(text);
	if (rc != 0 || d == NULL)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "idp";
	cfg.type = "scim";
	cfg.config_path = "accord.yaml";
	cfg.node = doc->root;
	cfg.managed = managed;
	cfg.nmanaged = nmanaged;
	return d->ops->open(c, &cfg, err);
}

static void
conn_close(struct connector *c, struct yml_doc *doc)
{
	if (c != NULL)
		c->desc->ops->close(c);
	yml_doc_release(doc);
}

static void
test_open(void)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct ingest in;
	struct diag err;
	char why[128], path[700], *y;
	json_t *log;
	FILE *f;
	int rc;

	ok(connector_find("scim") == &connector_scim, "connector: scim is "
	    "registered");
	setenv(TOKEN_VAR, TOKEN, 1);
	unsetenv("ACCORD_TEST_SCIM_UNSET");
	setenv("ACCORD_TEST_SCIM_EMPTY", "", 1);
	routes(json_object());

	rc = open_scim(&c, &doc, "token_env: " TOKEN_VAR "\npage_size: 0\n",
	    exact_managed, 4, &err);
	ok(rc == -1 && c == NULL, "open: page_size 0 refused");
	ok(has(err.msg, "platform idp") && has(err.msg, "page_size") &&
	    !has(err.msg, TOKEN), "open: the message names the platform and "
	    "the key, no secret (%s)", err.msg);
	conn_close(c, &doc);
	rc = open_scim(&c, &doc, "token_env: " TOKEN_VAR
	    "\npage_size: 10001\n", exact_managed, 4, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "page_size"), "open: page_size over 10000 refused "
	    "(%s)", err.msg);
	conn_close(c, &doc);
	rc = open_scim(&c, &doc, "token_env: ACCORD_TEST_SCIM_UNSET\n",
	    exact_managed, 4, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "ACCORD_TEST_SCIM_UNSET") && !has(err.msg, TOKEN),
	    "open: a missing token variable named (%s)", err.msg);
	conn_close(c, &doc);
	rc = open_scim(&c, &doc, "token_env: ACCORD_TEST_SCIM_EMPTY\n",
	    exact_managed, 4, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "empty"), "open: an empty token variable refused "
	    "(%s)", err.msg);
	conn_close(c, &doc);
	rc = open_scim(&c, &doc, "", exact_managed, 4, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "token_env"), "open: no token setting refused (%s)",
	    err.msg);
	conn_close(c, &doc);
	rc = open_scim(&c, &doc, "token_env: " TOKEN_VAR "\n"
	    "token_file: /nonexistent\n", exact_managed, 4, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "not both"), "open: token_env and token_file "
	    "together refused (%s)", err.msg);
	conn_close(c, &doc);

	rc = open_scim(&c, &doc, "token_env: " TOKEN_VAR "\npage_size: 50\n",
	    exact_managed, 4, &err);
	ok(rc == 0 && c != NULL && c->desc == &connector_scim &&
	    strcmp(c->name, "idp") == 0, "open: a good config opens (%s)",
	    rc ? err.msg : "ok");
	is_int(nrequests(), 0, "open: no request sent");
	conn_close(c, &doc);

	/* token_file: owner-only, its trailing newline not sent. */
	snprintf(path, sizeof(path), "%s/scim.token", tap_tmpdir());
	if ((f = fopen(path, "w")) != NULL) {
		fputs("file-token-42\n", f);
		fclose(f);
	}
	chmod(path, 0644);
	y = xasprintf("token_file: %s\n", path);
	rc = open_scim(&c, &doc, y, NULL, 0, &err);
	ok(rc == -1 && c == NULL && has(err.msg, "platform idp") &&
	    has(err.msg, "chmod 600") && !has(err.msg, "file-token-42"),
	    "open: a token file readable by others refused (%s)", err.msg);
	conn_close(c, &doc);
	chmod(path, 0600);
	rc = open_scim(&c, &doc, y, NULL, 0, &err);
	ok(rc == 0 && c != NULL, "open: token_file (%s)", rc ? err.msg : "ok");
	if (c != NULL) {
		routes(json_pack("{s:o}", "/scim/v2/Users", page(0, 1, NULL)));
		memset(&in, 0, sizeof(in));
		rc = c->desc->ops->ingest(c, &in, &err);
		log = log_get();
		ok(rc == 0 && in.nidents == 0 && json_array_size(log) == 1,
		    "ingest: no managed group: users only, one request");
		is_str(hdr(json_array_get(log, 0), "Authorization"),
		    "Bearer file-token-42", "open: the file's token sent, "
		    "without its newline");
		json_decref(log);
		ingest_release(&in);
	}
	conn_close(c, &doc);
	free(y);

	ok(connector_scim.check_target("group:Data Eng", why,
	    sizeof(why)) == 0, "check_target: group:NAME accepted");
	ok(connector_scim.check_target("role:x", why, sizeof(why)) == -1 &&
	    has(why, "group:NAME"), "check_target: another kind refused");
	ok(connector_scim.check_target("group:", why, sizeof(why)) == -1,
	    "check_target: an empty name refused");
	ok(connector_scim.check_target("group:a\tb", why, sizeof(why)) == -1,
	    "check_target: a control character refused");
}

/* The users every connector test sees. */
static json_t *
idp_users(void)
{
	return page(4, 1, J("["
	    "{'id':'u-a','userName':'alice@corp.com','displayName':'Alice',"
	    " 'emails':[{'value':'a.old@corp.com','type':'home'},"
	    "  {'value':'alice.smith@corp.com','type':'work','primary':true}]},"
	    "{'id':'u-b','userName':'bob'},"
	    "{'id':'u-c','userName':'carol@corp.com'},"
	    "{'id':'u-e','userName':'erin@corp.com',"
	    " 'emails':[{'value':'erin.home@mail.example','type':'home'}]}]"));
}

#define GF(name) "/scim/v2/Groups?startIndex=1&count=50&filter=" \
	"displayName%20eq%20%22" name "%22" GQ

/* Users, and the three exactly named groups (Ghost does not exist). */
static void
exact_routes(void)
{
	routes(json_pack("{s:o, s:o, s:o, s:o, s:o}",
	    "/scim/v2/Users", idp_users(),
	    GF("Admins"), page(1, 1, J("[{'id':'g-adm','displayName':'Admins',"
	    " 'members':[{'value':'u-a','type':'User'},"
	    "  {'value':'g-eng','type':'Group'},{'value':'zz9'}]}]")),
	    GF("Data%20Eng"), page(1, 1, J("[{'id':'g-eng',"
	    " 'displayName':'Data Eng','members':[{'value':'u-b',"
	    "  '$ref':'Users/u-b'}]}]")),
	    GF("Ghost"), page(0, 1, NULL),
	    "/scim/v2/Groups", scim_error(400, "invalidFilter",
	    "listing all groups is not expected here")));
}

static const struct ident *
ident_of(const struct ingest *in, const char *name)
{
	size_t i;

	for (i = 0; i < in->nidents; i++)
		if (strcmp(in->idents[i].name, name) == 0)
			return &in->idents[i];
	return NULL;
}

static char *
grants_of(const struct ingest *in)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < in->ngrants; i++)
		buf_printf(&b, "%s > %s %s\n", in->grants[i].account,
		    in->grants[i].target, in->grants[i].privilege);
	return buf_detach(&b);
}

static int
ingested_as(struct connector *c, struct ingest *in, struct diag *err)
{
	memset(in, 0, sizeof(*in));
	return c->desc->ops->ingest(c, in, err);
}

static void
test_ingest(void)
{
	struct connector *c = NULL;
	const struct ident *id;
	struct yml_doc doc;
	struct ingest in;
	struct diag err;
	char *s;
	int rc;

	setenv(TOKEN_VAR, TOKEN, 1);
	if (!ok(open_scim(&c, &doc, "token_env: " TOKEN_VAR
	    "\npage_size: 50\n", exact_managed, 4, &err) == 0,
	    "ingest: opened")) {
		conn_close(c, &doc);
		return;
	}
	exact_routes();
	rc = ingested_as(c, &in, &err);
	ok(rc == 0, "ingest: exact names (%s)", rc ? err.msg : "ok");
	requests_are("GET /scim/v2/Users?startIndex=1&count=50" UQ "\n"
	    "GET " GF("Admins") "\n"
	    "GET " GF("Data%20Eng") "\n"
	    "GET " GF("Ghost") "\n",
	    "ingest: users, then one displayName filter per exact group, no "
	    "listing of all groups");
	is_int(in.nidents, 6, "ingest: four users and two groups");
	id = ident_of(&in, "alice@corp.com");
	ok(id != NULL && id->kind == ACCT_USER && id->email != NULL &&
	    strcmp(id->email, "alice.smith@corp.com") == 0,
	    "ingest: userName is the account, the primary email its email "
	    "(%s)", id && id->email ? id->email : "none");
	id = ident_of(&in, "bob");
	ok(id != NULL && id->kind == ACCT_USER && id->email == NULL,
	    "ingest: no email and a userName that is no address: no email");
	id = ident_of(&in, "carol@corp.com");
	ok(id != NULL && id->email != NULL &&
	    strcmp(id->email, "carol@corp.com") == 0,
	    "ingest: no email: the userName when it is an address");
	/* §13: "the primary emails value (else userName when it is an
	 * address)": a non-primary email is not the primary one. */
	id = ident_of(&in, "erin@corp.com");
	ok(id != NULL && id->email != NULL &&
	    strcmp(id->email, "erin@corp.com") == 0,
	    "ingest: no primary email: the userName address (DESIGN §13), "
	    "not a non-primary email (%s)", id && id->email ? id->email :
	    "none");
	id = ident_of(&in, "group:Admins");
	ok(id != NULL && id->kind == ACCT_GROUP && id->email == NULL,
	    "ingest: group:Admins is a group ident");
	id = ident_of(&in, "group:Data Eng");
	ok(id != NULL && id->kind == ACCT_GROUP, "ingest: group:Data Eng is "
	    "a group ident");
	ok(ident_of(&in, "group:Ghost") == NULL, "ingest: a group not found "
	    "is no ident");
	s = grants_of(&in);
	is_str(s, "alice@corp.com > group:Admins member\n"
	    "group:Data Eng > group:Admins member\n"
	    "id:zz9 > group:Admins member\n"
	    "bob > group:Data Eng member\n",
	    "ingest: member grants; a member group as group:NAME, an unknown "
	    "id as id:VALUE");
	free(s);
	ingest_release(&in);

	/* All or nothing: an error leaves nothing behind. */
	routes(json_pack("{s:o}", "/scim/v2/Users", scim_error(400,
	    "tooMany", "Too many results")));
	rc = ingested_as(c, &in, &err);
	ok(rc == -1 && in.nidents == 0 && in.ngrants == 0 &&
	    has(err.msg, "platform idp") && has(err.msg, "tooMany: Too many "
	    "results"), "ingest: an error fails it whole (%s)", err.msg);
	ingest_release(&in);
	routes(json_pack("{s:{s:i, s:s}}", "/scim/v2/Users", "status", 401,
	    "body", "invalid credentials: Bearer " TOKEN));
	rc = ingested_as(c, &in, &err);
	ok(rc == -1 && has(err.msg, "HTTP 401") && !has(err.msg, TOKEN),
	    "ingest: a 401 echoing the token does not leak it (%s)", err.msg);
	ingest_release(&in);
	conn_close(c, &doc);

	/* A glob: list every group once, member grants on managed ones. */
	if (!ok(open_scim(&c, &doc, "token_env: " TOKEN_VAR
	    "\npage_size: 50\n", glob_managed, 1, &err) == 0,
	    "ingest: opened with a glob")) {
		conn_close(c, &doc);
		return;
	}
	routes(json_pack("{s:o, s:o}", "/scim/v2/Users", idp_users(),
	    "/scim/v2/Groups", page(3, 1, J("["
	    "{'id':'g-adm','displayName':'Admins','members':["
	    " {'value':'u-a','type':'User'}]},"
	    "{'id':'g-eng','displayName':'Data Eng','members':["
	    " {'value':'u-b','type':'User'},"
	    " {'value':'g-adm','$ref':'https://idp/scim/v2/Groups/g-adm'}]},"
	    "{'id':'g-ops','displayName':'Data Ops','members':["
	    " {'value':77},{'value':'u-c','type':'User'}]}]"))));
	rc = ingested_as(c, &in, &err);
	ok(rc == 0, "ingest: glob (%s)", rc ? err.msg : "ok");
	requests_are("GET /scim/v2/Users?startIndex=1&count=50" UQ "\n"
	    "GET /scim/v2/Groups?startIndex=1&count=50" GQ "\n",
	    "ingest: a glob lists /Groups, no filter");
	is_int(in.nidents, 7, "ingest: four users and every listed group");
	id = ident_of(&in, "group:Admins");
	ok(id != NULL && id->kind == ACCT_GROUP, "ingest: an unmanaged group "
	    "is still an ident");
	s = grants_of(&in);
	is_str(s, "bob > group:Data Eng member\n"
	    "group:Admins > group:Data Eng member\n"
	    "id:77 > group:Data Ops member\n"
	    "carol@corp.com > group:Data Ops member\n",
	    "ingest: grants on managed groups only; group:NAME from $ref; "
	    "a numeric unknown id as id:VALUE");
	free(s);
	ingest_release(&in);
	conn_close(c, &doc);
}

struct batch {
	struct change_item *it;
	size_t n;
};

static void
batch_add(struct batch *b, int revoke, const char *account,
    const char *target, const char *priv)
{
	struct change_item *it;

	b->it = xrealloc(b->it, (b->n + 1) * sizeof(*b->it));
	it = &b->it[b->n++];
	memset(it, 0, sizeof(*it));
	it->revoke = revoke;
	it->g.account = (char *)account;
	it->g.target = (char *)target;
	it->g.privilege = (char *)priv;
	buf_init(&it->detail, 0);
}

static void
batch_release(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		buf_release(&b->it[i].detail);
	free(b->it);
	b->it = NULL;
	b->n = 0;
}

/* A connector opened on exact_managed and ingested; 0 or -1. */
static int
ready(struct connector **c, struct yml_doc *doc)
{
	struct ingest in;
	struct diag err;
	int rc;

	setenv(TOKEN_VAR, TOKEN, 1);
	if (open_scim(c, doc, "token_env: " TOKEN_VAR "\npage_size: 50\n",
	    exact_managed, 4, &err) != 0) {
		fprintf(stderr, "# open: %s\n", err.msg);
		return -1;
	}
	exact_routes();
	rc = ingested_as(*c, &in, &err);
	if (rc != 0)
		fprintf(stderr, "# ingest: %s\n", err.msg);
	ingest_release(&in);
	return rc;
}

static void
test_apply(void)
{
	struct connector *c = NULL;
	struct yml_doc doc;
	struct batch b = { NULL, 0 };
	json_t *log, *body, *want;
	struct buf detail = BUF_INIT;
	struct pgrant g;
	struct diag err;
	size_t i;
	int rc;

	if (!ok(ready(&c, &doc) == 0, "apply: opened and ingested")) {
		conn_close(c, &doc);
		return;
	}
	routes(json_pack("{s:{s:i}, s:{s:i, s:{s:s, s:s}}}",
	    "/scim/v2/Groups/g-adm", "status", 204,
	    "/scim/v2/Groups/g-eng", "status", 200, "body", "id", "g-eng",
	    "displayName", "Data Eng"));
	batch_add(&b, 0, "bob", "group:Admins", "member");
	batch_add(&b, 1, "alice@corp.com", "group:Admins", "member");
	batch_add(&b, 0, "carol@corp.com", "group:Admins", "member");
	batch_add(&b, 0, "alice@corp.com", "group:Data Eng", "member");
	batch_add(&b, 0, "nobody", "group:Admins", "member");
	batch_add(&b, 1, "id:zz9", "group:Admins", "member");
	batch_add(&b, 0, "id:new-1", "group:Admins", "member");
	rc = c->desc->ops->apply_batch(c, b.it, b.n);
	is_int(rc, -1, "apply: -1 when one item failed");
	requests_are("PATCH /scim/v2/Groups/g-adm\n"
	    "PATCH /scim/v2/Groups/g-eng\n",
	    "apply: exactly one PATCH per group");
	log = log_get();
	body = body_of(log, 0);
	want = J("{'schemas':['%s'],'Operations':["
	    "{'op':'remove','path':'members[value eq \\'u-a\\']'},"
	    "{'op':'remove','path':'members[value eq \\'zz9\\']'},"
	    "{'op':'add','path':'members','value':[{'value':'u-b'},"
	    " {'value':'u-c'},{'value':'new-1'}]}]}", PATCHOP);
	ok(body != NULL && json_equal(body, want), "apply: Admins: two "
	    "removes, then one add of three ids");
	if (body != NULL && !json_equal(body, want))
		printf("#   got: %s\n", json_string_value(json_object_get(
		    json_array_get(log, 0), "body")));
	json_decref(want);
	json_decref(body);
	body = body_of(log, 1);
	want = J("{'schemas':['%s'],'Operations':[{'op':'add',"
	    "'path':'members','value':[{'value':'u-a'}]}]}", PATCHOP);
	ok(body != NULL && json_equal(body, want), "apply: Data Eng: one add");
	json_decref(want);
	json_decref(body);
	ok(json_array_size(log) == 2 &&
	    has(hdr(json_array_get(log, 0), "Authorization"), "Bearer " TOKEN)
	    && has(hdr(json_array_get(log, 0), "Content-Type"),
	    "application/scim+json"), "apply: bearer from the env variable, "
	    "SCIM content type");
	json_decref(log);
	ok(b.it[0].ok && b.it[1].ok && b.it[2].ok && b.it[3].ok &&
	    b.it[5].ok && b.it[6].ok, "apply: the others went in the PATCH "
	    "and succeeded");
	ok(has(buf_cstr(&b.it[0].detail), "204") &&
	    has(buf_cstr(&b.it[3].detail), "200"), "apply: each item's detail "
	    "has its PATCH's status (%s / %s)", buf_cstr(&b.it[0].detail),
	    buf_cstr(&b.it[3].detail));
	ok(!b.it[4].ok && has(b.it[4].err.msg, "platform idp") &&
	    has(b.it[4].err.msg, "nobody") && has(b.it[4].err.msg,
	    "group:Admins"), "apply: an unknown account fails clearly (%s)",
	    b.it[4].err.msg);
	batch_release(&b);

	/* A group that does not exist: revoke is done, grant fails. */
	routes(json_object());
	batch_add(&b, 1, "bob", "group:Ghost", "member");
	batch_add(&b, 0, "bob", "group:Ghost", "member");
	batch_add(&b, 1, "nobody", "group:Admins", "member");
	batch_add(&b, 0, "bob", "group:Admins", "admin");
	rc = c->desc->ops->apply_batch(c, b.it, b.n);
	is_int(rc, -1, "apply: -1 for the failed grant");
	ok(b.it[0].ok, "apply: a revoke on a missing group is success (%s)",
	    buf_cstr(&b.it[0].detail));
	ok(!b.it[1].ok && has(b.it[1].err.msg, "platform idp") &&
	    has(b.it[1].err.msg, "group:Ghost"), "apply: a grant on a missing "
	    "group fails naming it (%s)", b.it[1].err.msg);
	ok(b.it[2].ok, "apply: a revoke of an unknown account is success");
	ok(!b.it[3].ok && has(b.it[3].err.msg, "admin"), "apply: a privilege "
	    "other than member refused (%s)", b.it[3].err.msg);
	is_int(nrequests(), 0, "apply: nothing sent for them");
	batch_release(&b);

	/* A 409 on one group fails that group's items only. */
	routes(json_pack("{s:o, s:{s:i}}", "/scim/v2/Groups/g-adm",
	    scim_error(409, "uniqueness", "bob is already a member"),
	    "/scim/v2/Groups/g-eng", "status", 204));
	batch_add(&b, 0, "bob", "group:Admins", "member");
	batch_add(&b, 0, "alice@corp.com", "group:Data Eng", "member");
	batch_add(&b, 1, "id:zz9", "group:Admins", "member");
	rc = c->desc->ops->apply_batch(c, b.it, b.n);
	is_int(rc, -1, "apply 409: -1");
	is_int(nrequests(), 2, "apply 409: two PATCH requests");
	for (i = 0; i < 3; i += 2)
		ok(!b.it[i].ok && has(b.it[i].err.msg, "platform idp") &&
		    has(b.it[i].err.msg, "HTTP 409") && has(b.it[i].err.msg,
		    "uniqueness: bob is already a member"), "apply 409: item "
		    "%zu on Admins fails with the message (%s)", i,
		    b.it[i].err.msg);
	ok(b.it[1].ok, "apply 409: the other group's item succeeds");
	batch_release(&b);

	/* grant and revoke one at a time go through the same PATCH. */
	routes(json_pack("{s:{s:i}}", "/scim/v2/Groups/g-adm", "status", 204));
	g.account = "id:zz9";
	g.target = "group:Admins";
	g.privilege = "member";
	buf_init(&detail, 0);
	rc = c->desc->ops->revoke(c, &g, &detail, &err);
	ok(rc == 0 && has(buf_cstr(&detail), "204"), "revoke: one item (%s)",
	    buf_cstr(&detail));
	log = log_get();
	body = body_of(log, 0);
	ok(json_array_size(log) == 1 && body != NULL &&
	    json_array_size(json_object_get(body, "Operations")) == 1 &&
	    has(op_path(body, 0), "members[value eq \"zz9\"]"),
	    "revoke: one PATCH with one remove");
	json_decref(body);
	json_decref(log);
	g.account = "nobody";
	buf_reset(&detail);
	rc = c->desc->ops->grant(c, &g, &detail, &err);
	ok(rc == -1 && has(err.msg, "nobody"), "grant: an unknown account "
	    "fails (%s)", err.msg);
	buf_release(&detail);
	conn_close(c, &doc);

	/* apply before ingest */
	setenv(TOKEN_VAR, TOKEN, 1);
	if (open_scim(&c, &doc, "token_env: " TOKEN_VAR "\n", exact_managed, 4,
	    &err) == 0) {
		routes(json_object());
		batch_add(&b, 1, "bob", "group:Admins", "member");
		rc = c->desc->ops->apply_batch(c, b.it, b.n);
		ok(rc == -1 && !b.it[0].ok && has(b.it[0].err.msg,
		    "not ingested"), "apply: refused before an ingest (%s)",
		    b.it[0].err.msg);
		is_int(nrequests(), 0, "apply: nothing sent before an ingest");
		batch_release(&b);
	} else
		ok(0, "apply: open for the no-ingest case (%s)", err.msg);
	conn_close(c, &doc);
}

int
main(void)
{
	struct diag err;

	if (srv_start() == -1 || (ctl = open_as("ctl")) == NULL ||
	    (api = open_as("okta")) == NULL ||
	    auth_bearer(&bearer, "tok-123", &err) != 0) {
		ok(0, "fault server started");
		return tap_done();
	}
	test_filter();
	test_paging();
	test_users();
	test_groups();
	test_errors();
	test_patch();
	test_open();
	test_ingest();
	test_apply();
	auth_free(bearer);
	http_free(api);
	http_free(ctl);
	return tap_done();
}
