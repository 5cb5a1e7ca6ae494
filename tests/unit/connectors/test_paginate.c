/*
 * http_paginate against tests/emulators/faultserver.py, started here on
 * loopback, with routes set per test through its control API and the
 * exact requests read back from its log: Link paging (absolute, absolute-
 * path, query-only and relative references, a base URL with a prefix, a
 * loop, an off-loopback http link), next-page tokens (encoding, empty
 * pages, the three ways a walk ends, dotted fields, numbers, a repeated
 * and a cycling token), offset/limit (short-page stop, empty-page stop,
 * a server ignoring the offset), SCIM startIndex from 1 with totalResults
 * (stop at the total, a short page not mistaken for the last), Tableau
 * page numbers with string counts, an error page in the middle, a
 * callback error, max_pages, and pager settings refused before any
 * request.  Runs from the top of the tree.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "http.h"
#include "util.h"
#include "../../lib/tap.h"

static pid_t srv_pid;
static int srv_port;
static struct http *ctl;	/* talks to the server's control API */

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
open_at(const char *prefix)
{
	struct http_opts o;
	struct http *h = NULL;
	struct diag err;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv_port, prefix);
	memset(&o, 0, sizeof(o));
	o.platform = "t";
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

/* The request targets logged since the last routes(), one a line. */
static char *
requested(void)
{
	json_t *log = NULL, *e;
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 0);
	if (ctl_do("GET", "/_fault/log", NULL, &log) == 0)
		json_array_foreach(log, i, e)
			buf_printf(&b, "%s\n",
			    json_string_value(json_object_get(e, "path")));
	json_decref(log);
	return buf_detach(&b);
}

/* Every logged request carried this header value. */
static int
all_have_header(const char *name, const char *want)
{
	json_t *log = NULL, *e, *v;
	const char *k;
	size_t i;
	int found, all = 1;

	if (ctl_do("GET", "/_fault/log", NULL, &log) == -1)
		return 0;
	json_array_foreach(log, i, e) {
		found = 0;
		json_object_foreach(json_object_get(e, "headers"), k, v)
			if (strcasecmp(k, name) == 0 &&
			    strcmp(json_string_value(v), want) == 0)
				found = 1;
		all &= found;
	}
	all &= json_array_size(log) > 0;
	json_decref(log);
	return all;
}

static void
requests_are(const char *want, const char *name)
{
	char *got = requested();

	is_str(got, want, name);
	free(got);
}

/* What the callback saw. */
struct seen {
	int pages;
	int null_items;		/* calls with items == NULL */
	int fail_at;		/* page to fail on, 0: none */
	struct buf ids;		/* "a,b,c," */
};

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->ids, 0);
}

static int
collect(void *arg, json_t *page, json_t *items, struct diag *err)
{
	struct seen *s = arg;
	json_t *list = items ? items : json_is_array(page) ? page : NULL, *e;
	size_t i;

	s->pages++;
	if (items == NULL)
		s->null_items++;
	json_array_foreach(list, i, e)
		buf_printf(&s->ids, "%s,",
		    json_string_value(json_object_get(e, "id")));
	if (s->fail_at == s->pages)
		return diag_set(err, "callback stops at page %d", s->pages);
	return 0;
}

static int
walk(struct http *h, const struct http_pager *pg, struct seen *s,
    struct diag *err)
{
	diag_clear(err);
	return http_paginate(h, pg, collect, s, err);
}

/* A response: body (JSON with ' for "), with a Link header unless NULL. */
static json_t *
page_of(const char *link, const char *body)
{
	json_t *r = json_pack("{s:o}", "body", J("%s", body));

	if (link != NULL)
		json_object_set_new(r, "headers", json_pack("[[s,s]]", "Link",
		    link));
	return r;
}

static void
add(json_t *r, const char *target, json_t *resp)
{
	json_object_set_new(r, target, resp);
}

/* "http://127.0.0.1:PORT" + rest, for absolute links. */
static char *
here(const char *rest)
{
	return xasprintf("http://127.0.0.1:%d%s", srv_port, rest);
}

static void
pager_init(struct http_pager *pg, enum http_page_kind kind, const char *path)
{
	memset(pg, 0, sizeof(*pg));
	pg->kind = kind;
	pg->path = path;
}

/* --- Link -------------------------------------------------------------- */

static void
test_link(struct http *h)
{
	static const char *const hdrs[] = { "X-Api-Version: 7", NULL };
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();
	char *abs2 = here("/gh/items?per_page=2&page=2");
	char *abs4 = here("/gh/items?per_page=2&page=4");
	char *l1 = xasprintf("<%s>; rel=\"next\", <%s>; rel=\"last\"", abs2, abs4);

	/* An absolute link, an absolute path, a query only, no next. */
	add(r, "/gh/items?per_page=2", page_of(l1, "[{'id':'a'},{'id':'b'}]"));
	add(r, "/gh/items?per_page=2&page=2", page_of("</gh/items?per_page=2"
	    "&page=3>; rel=next", "[{'id':'c'},{'id':'d'}]"));
	add(r, "/gh/items?per_page=2&page=3", page_of("<?per_page=2&page=4>; "
	    "rel=\"next\"", "[{'id':'e'},{'id':'f'}]"));
	add(r, "/gh/items?per_page=2&page=4", page_of("</gh/items?per_page=2"
	    "&page=3>; rel=\"prev\"", "[{'id':'g'}]"));
	routes(r);
	pager_init(&pg, PAGE_LINK, "/gh/items?per_page=2");
	pg.headers = hdrs;
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "Link walk: %s", err.msg);
	requests_are("/gh/items?per_page=2\n/gh/items?per_page=2&page=2\n"
	    "/gh/items?per_page=2&page=3\n/gh/items?per_page=2&page=4\n",
	    "Link: absolute, absolute-path and query-only next followed");
	is_str(buf_cstr(&s.ids), "a,b,c,d,e,f,g,", "Link: every item seen once");
	is_int(s.pages, 4, "Link: four pages");
	is_int(s.null_items, 4, "Link: items NULL without items_field");
	ok(all_have_header("X-Api-Version", "7"), "pager headers on every page");
	buf_release(&s.ids);
	free(abs2);
	free(abs4);
	free(l1);
}

/* A base URL with a prefix: links resolve against the page's URL. */
static void
test_link_prefix(void)
{
	struct http *h = open_at("/api");
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/api/v1/list", page_of("</api/v1/list?page=2>; rel=next",
	    "[{'id':'a'}]"));
	add(r, "/api/v1/list?page=2", page_of("<more?page=3#frag>; rel=next",
	    "[{'id':'b'}]"));
	add(r, "/api/v1/more?page=3", page_of(NULL, "[{'id':'c'}]"));
	routes(r);
	pager_init(&pg, PAGE_LINK, "/v1/list");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "prefixed Link walk: %s", err.msg);
	requests_are("/api/v1/list\n/api/v1/list?page=2\n/api/v1/more?page=3\n",
	    "Link under a base prefix: not doubled; relative reference "
	    "resolved, fragment dropped");
	is_str(buf_cstr(&s.ids), "a,b,c,", "prefixed Link: items");
	buf_release(&s.ids);
	http_free(h);
}

static void
test_link_loop(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();
	char *back = here("/loop/a#again"), *l = xasprintf("<%s>; rel=next",
	    back);

	add(r, "/loop/a", page_of("</loop/b>; rel=next", "[{'id':'a'}]"));
	add(r, "/loop/b", page_of(l, "[{'id':'b'}]"));
	add(r, "/self", page_of("</self>; rel=next", "[{'id':'s'}]"));
	routes(r);
	pager_init(&pg, PAGE_LINK, "/loop/a");
	pg.max_pages = 10;	/* a missing guard fails, not hangs */
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "a Link back to page 1 fails");
	is_str(err.msg, "platform t: GET /loop/b: pagination did not advance: "
	    "page 2 links to a page already fetched", "Link loop message");
	requests_are("/loop/a\n/loop/b\n", "Link loop: page 1 not fetched again");
	is_int(s.pages, 1, "Link loop: the looping page is not handed over");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pg.path = "/self";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "did not advance"),
	    "a page linking to itself fails: %s", err.msg);
	requests_are("/self\n", "self link: one request");
	buf_release(&s.ids);
	free(back);
	free(l);
}

static void
test_link_insecure(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/ext", page_of("<http://example.com/next?token=s3cret>; "
	    "rel=next", "[{'id':'x'}]"));
	routes(r);
	pager_init(&pg, PAGE_LINK, "/ext");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "a Link to another origin fails");
	ok(strstr(err.msg, "leaves http://127.0.0.1:") != NULL &&
	    strstr(err.msg, "s3cret") == NULL,
	    "refused before any request carries credentials there, secret "
	    "hidden: %s", err.msg);
	requests_are("/ext\n", "insecure Link: not followed");
	buf_release(&s.ids);
}

/* --- tokens ------------------------------------------------------------ */

static void
test_token(struct http *h)
{
	static const char *const ends[] = {
		"{'items':[{'id':'c'}],'next_page_token':''}",
		"{'items':[{'id':'c'}],'next_page_token':null}",
		"{'items':[{'id':'c'}]}",
	};
	static const char *const names[] = { "empty", "null", "absent" };
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r;
	size_t i;
	char name[80];

	pager_init(&pg, PAGE_TOKEN, "/dbx/perms?max_results=0");
	pg.token_field = "next_page_token";
	pg.token_param = "page_token";
	pg.items_field = "items";
	for (i = 0; i < 3; i++) {
		r = json_object();
		add(r, "/dbx/perms?max_results=0", page_of(NULL,
		    "{'items':[{'id':'a'}],'next_page_token':'a+b/c= d&e'}"));
		/* Databricks: an empty page with a token is not the end. */
		add(r, "/dbx/perms?max_results=0&page_token=a%2Bb%2Fc%3D%20d%26e",
		    page_of(NULL, "{'items':[],'next_page_token':'t2'}"));
		add(r, "/dbx/perms?max_results=0&page_token=t2",
		    page_of(NULL, ends[i]));
		routes(r);
		seen_init(&s);
		snprintf(name, sizeof(name), "token walk, %s token at the end",
		    names[i]);
		ok(walk(h, &pg, &s, &err) == 0, "%s: %s", name, err.msg);
		requests_are("/dbx/perms?max_results=0\n"
		    "/dbx/perms?max_results=0&page_token=a%2Bb%2Fc%3D%20d%26e\n"
		    "/dbx/perms?max_results=0&page_token=t2\n", name);
		is_str(buf_cstr(&s.ids), "a,c,", "token walk: items");
		is_int(s.pages, 3, "token walk: the empty page is handed over");
		buf_release(&s.ids);
	}
}

/* Slack's nested cursor on a path without a query; Sigma's number. */
static void
test_token_shapes(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/slack/reactions.list", page_of(NULL, "{'ok':true,'items':"
	    "[{'id':'r1'}],'response_metadata':{'next_cursor':'dXNlcjpVMEc5V0ZYTlo='}}"));
	add(r, "/slack/reactions.list?cursor=dXNlcjpVMEc5V0ZYTlo%3D",
	    page_of(NULL, "{'ok':true,'items':[{'id':'r2'}],"
	    "'response_metadata':{'next_cursor':'b2'}}"));
	add(r, "/slack/reactions.list?cursor=b2", page_of(NULL, "{'ok':true,"
	    "'items':[{'id':'r3'}],'response_metadata':{'next_cursor':''}}"));
	add(r, "/v2/members?limit=2", page_of(NULL,
	    "{'entries':[{'id':'m1'}],'nextPage':7}"));
	add(r, "/v2/members?limit=2&page=7", page_of(NULL,
	    "{'entries':[{'id':'m2'}],'nextPage':8}"));
	add(r, "/v2/members?limit=2&page=8", page_of(NULL,
	    "{'entries':[{'id':'m3'}],'nextPage':null}"));
	routes(r);
	pager_init(&pg, PAGE_TOKEN, "/slack/reactions.list");
	pg.token_field = "response_metadata.next_cursor";
	pg.token_param = "cursor";
	pg.items_field = "items";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "dotted token field: %s", err.msg);
	requests_are("/slack/reactions.list\n"
	    "/slack/reactions.list?cursor=dXNlcjpVMEc5V0ZYTlo%3D\n"
	    "/slack/reactions.list?cursor=b2\n",
	    "dotted token: '?' added, '=' encoded");
	is_str(buf_cstr(&s.ids), "r1,r2,r3,", "dotted token: items");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pager_init(&pg, PAGE_TOKEN, "/v2/members?limit=2");
	pg.token_field = "nextPage";
	pg.token_param = "page";
	pg.items_field = "entries";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "numeric token: %s", err.msg);
	requests_are("/v2/members?limit=2\n/v2/members?limit=2&page=7\n"
	    "/v2/members?limit=2&page=8\n", "numeric token sent as digits");
	is_str(buf_cstr(&s.ids), "m1,m2,m3,", "numeric token: items");
	buf_release(&s.ids);
}

static void
test_token_repeat(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/rep", page_of(NULL, "{'items':[{'id':'x'}],'next':'k'}"));
	add(r, "/rep?t=k", page_of(NULL, "{'items':[{'id':'y'}],'next':'k'}"));
	add(r, "/cyc", page_of(NULL, "{'items':[],'next':'A'}"));
	add(r, "/cyc?t=A", page_of(NULL, "{'items':[],'next':'B'}"));
	add(r, "/cyc?t=B", page_of(NULL, "{'items':[],'next':'A'}"));
	routes(r);
	pager_init(&pg, PAGE_TOKEN, "/rep");
	pg.token_field = "next";
	pg.token_param = "t";
	pg.items_field = "items";
	pg.max_pages = 10;	/* a missing guard fails, not hangs */
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "a repeated token fails");
	is_str(err.msg, "platform t: GET /rep?t=k: pagination did not advance: "
	    "page 2 repeats the next of an earlier page", "repeated token message");
	requests_are("/rep\n/rep?t=k\n", "repeated token: not sent twice");
	is_int(s.pages, 1, "repeated token: that page is not handed over");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pg.path = "/cyc";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "did not advance"),
	    "a token cycle A, B, A fails: %s", err.msg);
	requests_are("/cyc\n/cyc?t=A\n/cyc?t=B\n", "token cycle: three requests");
	buf_release(&s.ids);
}

/* --- offsets and page numbers ----------------------------------------- */

static void
test_offset(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	/* Looker: bare arrays, no total: a short page is the last. */
	add(r, "/looker/users?fields=id&offset=0&limit=2", page_of(NULL,
	    "[{'id':'a'},{'id':'b'}]"));
	add(r, "/looker/users?fields=id&offset=2&limit=2", page_of(NULL,
	    "[{'id':'c'},{'id':'d'}]"));
	add(r, "/looker/users?fields=id&offset=4&limit=2", page_of(NULL,
	    "[{'id':'e'}]"));
	add(r, "/looker/roles?offset=0&limit=2", page_of(NULL,
	    "[{'id':'a'},{'id':'b'}]"));
	add(r, "/looker/roles?offset=2&limit=2", page_of(NULL,
	    "[{'id':'c'},{'id':'d'}]"));
	add(r, "/looker/roles?offset=4&limit=2", page_of(NULL, "[]"));
	add(r, "/ign", page_of(NULL, "[{'id':'a'},{'id':'b'}]"));
	routes(r);
	pager_init(&pg, PAGE_OFFSET, "/looker/users?fields=id");
	pg.offset_param = "offset";
	pg.limit_param = "limit";
	pg.limit = 2;
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "offset walk: %s", err.msg);
	requests_are("/looker/users?fields=id&offset=0&limit=2\n"
	    "/looker/users?fields=id&offset=2&limit=2\n"
	    "/looker/users?fields=id&offset=4&limit=2\n",
	    "offset: stops at the short page");
	is_str(buf_cstr(&s.ids), "a,b,c,d,e,", "offset: items");
	is_int(s.null_items, 3, "offset: items NULL without items_field");
	buf_release(&s.ids);

	/* A full last page: the empty one after it ends the walk. */
	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pg.path = "/looker/roles";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "offset walk to an empty page: %s",
	    err.msg);
	requests_are("/looker/roles?offset=0&limit=2\n"
	    "/looker/roles?offset=2&limit=2\n/looker/roles?offset=4&limit=2\n",
	    "offset: stops at the empty page");
	is_int(s.pages, 3, "offset: the empty page is handed over");
	buf_release(&s.ids);

	/* A server that ignores offset sends page 1 forever. */
	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pg.path = "/ign";
	pg.max_pages = 10;	/* a missing guard fails, not hangs */
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "an ignored offset fails");
	is_str(err.msg, "platform t: GET /ign?offset=2&limit=2: pagination did "
	    "not advance: page 2 holds the same items as the page before (is "
	    "offset ignored?)", "ignored offset message");
	requests_are("/ign?offset=0&limit=2\n/ign?offset=2&limit=2\n",
	    "ignored offset: stopped at page 2");
	buf_release(&s.ids);
}

static void
scim_pager(struct http_pager *pg, const char *path, const char *total)
{
	pager_init(pg, PAGE_OFFSET, path);
	pg->offset_param = "startIndex";
	pg->limit_param = "count";
	pg->start = 1;
	pg->limit = 2;
	pg->total_field = total;
	pg->items_field = "Resources";
}

static void
test_scim(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/scim/Users?attributes=id&startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':5,'itemsPerPage':2,'startIndex':1,"
	    "'Resources':[{'id':'u1'},{'id':'u2'}]}"));
	add(r, "/scim/Users?attributes=id&startIndex=3&count=2", page_of(NULL,
	    "{'totalResults':5,'Resources':[{'id':'u3'},{'id':'u4'}]}"));
	add(r, "/scim/Users?attributes=id&startIndex=5&count=2", page_of(NULL,
	    "{'totalResults':5,'Resources':[{'id':'u5'}]}"));
	/* Exactly two full pages: no third request for nothing. */
	add(r, "/scim/Four?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':4,'Resources':[{'id':'f1'},{'id':'f2'}]}"));
	add(r, "/scim/Four?startIndex=3&count=2", page_of(NULL,
	    "{'totalResults':4,'Resources':[{'id':'f3'},{'id':'f4'}]}"));
	/* The server sends fewer than asked though more remain. */
	add(r, "/scim/Groups?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':3,'Resources':[{'id':'g1'}]}"));
	add(r, "/scim/Groups?startIndex=2&count=2", page_of(NULL,
	    "{'totalResults':3,'Resources':[{'id':'g2'},{'id':'g3'}]}"));
	add(r, "/scim/None?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':0,'itemsPerPage':0,'startIndex':1}"));
	routes(r);

	scim_pager(&pg, "/scim/Users?attributes=id", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "SCIM walk: %s", err.msg);
	requests_are("/scim/Users?attributes=id&startIndex=1&count=2\n"
	    "/scim/Users?attributes=id&startIndex=3&count=2\n"
	    "/scim/Users?attributes=id&startIndex=5&count=2\n",
	    "SCIM: startIndex 1, 3, 5");
	is_str(buf_cstr(&s.ids), "u1,u2,u3,u4,u5,", "SCIM: items");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	scim_pager(&pg, "/scim/Four", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "SCIM, total on a page edge: %s",
	    err.msg);
	requests_are("/scim/Four?startIndex=1&count=2\n"
	    "/scim/Four?startIndex=3&count=2\n",
	    "total reached: no request past it");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	scim_pager(&pg, "/scim/Groups", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "SCIM, short first page: %s", err.msg);
	requests_are("/scim/Groups?startIndex=1&count=2\n"
	    "/scim/Groups?startIndex=2&count=2\n",
	    "with a total, a short page is not the end; startIndex advances "
	    "by the items received");
	is_str(buf_cstr(&s.ids), "g1,g2,g3,", "short page with total: items");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	scim_pager(&pg, "/scim/Groups", NULL);
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "no total: %s", err.msg);
	requests_are("/scim/Groups?startIndex=1&count=2\n",
	    "without a total, the short page is the end");
	is_str(buf_cstr(&s.ids), "g1,", "short page without total: items");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	scim_pager(&pg, "/scim/None", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "SCIM, no results: %s", err.msg);
	ok(s.pages == 1 && s.null_items == 0 && s.ids.len == 0,
	    "absent Resources: one page, an empty items array");
	buf_release(&s.ids);
}

static void
test_number(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *r = json_object();

	add(r, "/sites/s1/users?pageNumber=1&pageSize=2", page_of(NULL,
	    "{'pagination':{'pageNumber':'1','pageSize':'2','totalAvailable':'5'},"
	    "'users':{'user':[{'id':'t1'},{'id':'t2'}]}}"));
	add(r, "/sites/s1/users?pageNumber=2&pageSize=2", page_of(NULL,
	    "{'pagination':{'pageNumber':'2','pageSize':'2','totalAvailable':'5'},"
	    "'users':{'user':[{'id':'t3'},{'id':'t4'}]}}"));
	add(r, "/sites/s1/users?pageNumber=3&pageSize=2", page_of(NULL,
	    "{'pagination':{'pageNumber':'3','pageSize':'2','totalAvailable':'5'},"
	    "'users':{'user':[{'id':'t5'}]}}"));
	add(r, "/num?q=a%20b&page=0&size=3", page_of(NULL,
	    "{'data':[{'id':'n1'},{'id':'n2'},{'id':'n3'}]}"));
	add(r, "/num?q=a%20b&page=1&size=3", page_of(NULL,
	    "{'data':[{'id':'n4'}]}"));
	routes(r);
	pager_init(&pg, PAGE_NUMBER, "/sites/s1/users");
	pg.offset_param = "pageNumber";
	pg.limit_param = "pageSize";
	pg.limit = 2;
	pg.start = 1;
	pg.total_field = "pagination.totalAvailable";
	pg.items_field = "users.user";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "page-number walk: %s", err.msg);
	requests_are("/sites/s1/users?pageNumber=1&pageSize=2\n"
	    "/sites/s1/users?pageNumber=2&pageSize=2\n"
	    "/sites/s1/users?pageNumber=3&pageSize=2\n",
	    "page numbers 1, 2, 3; string total, nested items");
	is_str(buf_cstr(&s.ids), "t1,t2,t3,t4,t5,", "page numbers: items");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pager_init(&pg, PAGE_NUMBER, "/num?q=a%20b");
	pg.offset_param = "page";
	pg.limit_param = "size";
	pg.limit = 3;
	pg.items_field = "data";
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "page numbers from 0: %s", err.msg);
	requests_are("/num?q=a%20b&page=0&size=3\n/num?q=a%20b&page=1&size=3\n",
	    "page numbers from 0, '&' after a query, short page ends it");
	buf_release(&s.ids);
}

/* --- failures ----------------------------------------------------------- */

static void
test_errors(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	long status;
	struct diag err;
	json_t *r = json_object();

	add(r, "/e/Users?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':6,'Resources':[{'id':'u1'},{'id':'u2'}]}"));
	add(r, "/e/Users?startIndex=3&count=2", J("{'status':403,'body':"
	    "{'detail':'no access to page 2'}}"));
	add(r, "/e/Users?startIndex=5&count=2", page_of(NULL,
	    "{'totalResults':6,'Resources':[{'id':'u5'},{'id':'u6'}]}"));
	add(r, "/e/tok", page_of(NULL, "{'items':[{'id':'a'}],'next':'n'}"));
	add(r, "/e/tok?t=n", J("{'body':'{oops'}"));
	add(r, "/e/tok?t=m", page_of(NULL, "{'items':[],'next':'o'}"));
	add(r, "/e/badtotal?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':'many','Resources':[{'id':'a'},{'id':'b'}]}"));
	add(r, "/e/notarray?startIndex=1&count=2", page_of(NULL,
	    "{'totalResults':1,'Resources':{'id':'a'}}"));
	add(r, "/e/cb?offset=0&limit=1", page_of(NULL, "[{'id':'a'}]"));
	add(r, "/e/cb?offset=1&limit=1", page_of(NULL, "[{'id':'b'}]"));
	add(r, "/e/cb?offset=2&limit=1", page_of(NULL, "[{'id':'c'}]"));
	routes(r);

	scim_pager(&pg, "/e/Users", "totalResults");
	status = -1;
	pg.status = &status;
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "an error page in the middle fails "
	    "the walk");
	is_int(status, 403, "the failing page's status is handed back");
	pg.status = NULL;
	is_str(err.msg, "platform t: GET /e/Users?startIndex=3&count=2: HTTP "
	    "403: {\"detail\": \"no access to page 2\"}", "error page message");
	requests_are("/e/Users?startIndex=1&count=2\n"
	    "/e/Users?startIndex=3&count=2\n", "nothing after the error page");
	is_int(s.pages, 1, "only the good page was handed over");
	buf_release(&s.ids);

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pager_init(&pg, PAGE_TOKEN, "/e/tok");
	pg.token_field = "next";
	pg.token_param = "t";
	pg.items_field = "items";
	seen_init(&s);
	status = -1;
	pg.status = &status;
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "platform t: GET "
	    "/e/tok?t=n: invalid JSON at line 1") == err.msg,
	    "malformed page in the middle: %s", err.msg);
	is_int(status, 0, "a 200 with a bad body leaves the status 0");
	pg.status = NULL;
	requests_are("/e/tok\n/e/tok?t=n\n", "malformed page: walk stopped");
	buf_release(&s.ids);

	scim_pager(&pg, "/e/badtotal", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "a total that is not a count fails");
	is_str(err.msg, "platform t: GET /e/badtotal?startIndex=1&count=2: "
	    "field totalResults is not a count", "bad total message");
	buf_release(&s.ids);

	scim_pager(&pg, "/e/notarray", "totalResults");
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "field Resources "
	    "is not an array") != NULL, "items not an array: %s", err.msg);
	is_int(s.pages, 0, "items not an array: nothing handed over");
	buf_release(&s.ids);

	/* The callback's own error comes back as it is. */
	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	pager_init(&pg, PAGE_OFFSET, "/e/cb");
	pg.offset_param = "offset";
	pg.limit_param = "limit";
	pg.limit = 1;
	seen_init(&s);
	s.fail_at = 2;
	ok(walk(h, &pg, &s, &err) == -1, "a callback error ends the walk");
	is_str(err.msg, "callback stops at page 2", "callback message kept");
	requests_are("/e/cb?offset=0&limit=1\n/e/cb?offset=1&limit=1\n",
	    "callback error: no further request");
	buf_release(&s.ids);
}

static void
test_max_pages(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	json_t *five = J("[{'body':{'items':[{'id':'1'}],'next':'p1'}},"
	    "{'body':{'items':[{'id':'2'}],'next':'p2'}},"
	    "{'body':{'items':[{'id':'3'}],'next':'p3'}},"
	    "{'body':{'items':[{'id':'4'}],'next':'p4'}},"
	    "{'body':{'items':[{'id':'5'}],'next':''}}]");

	pager_init(&pg, PAGE_TOKEN, "/inf");
	pg.token_field = "next";
	pg.token_param = "t";
	pg.items_field = "items";
	pg.max_pages = 3;
	routes(json_pack("{s:O}", "/inf", five));
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == -1, "more pages than max_pages fails");
	is_str(err.msg, "platform t: GET /inf?t=p2: more pages after 3 "
	    "(max_pages); the listing is incomplete", "max_pages message");
	requests_are("/inf\n/inf?t=p1\n/inf?t=p2\n", "max_pages: 3 requests");
	is_int(s.pages, 3, "max_pages: 3 pages handed over");
	buf_release(&s.ids);

	pg.max_pages = 5;
	routes(json_pack("{s:O}", "/inf", five));
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0, "exactly max_pages pages is fine: %s",
	    err.msg);
	is_str(buf_cstr(&s.ids), "1,2,3,4,5,", "max_pages 5: all five pages");
	buf_release(&s.ids);

	pg.max_pages = 0;
	routes(json_pack("{s:O}", "/inf", five));
	seen_init(&s);
	ok(walk(h, &pg, &s, &err) == 0 && s.pages == 5,
	    "max_pages 0 is the large default");
	buf_release(&s.ids);
	json_decref(five);
}

static void
test_config(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;

	ctl_do("DELETE", "/_fault/log", NULL, NULL);
	seen_init(&s);
	pager_init(&pg, PAGE_TOKEN, "/cfg");
	pg.token_field = "next";
	ok(walk(h, &pg, &s, &err) == -1, "PAGE_TOKEN without token_param");
	is_str(err.msg, "platform t: GET /cfg: PAGE_TOKEN needs token_field "
	    "and token_param", "token settings message");
	pager_init(&pg, PAGE_OFFSET, "/cfg");
	pg.offset_param = "offset";
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "PAGE_OFFSET needs")
	    != NULL, "PAGE_OFFSET without a limit: %s", err.msg);
	pager_init(&pg, PAGE_NUMBER, "/cfg");
	pg.limit = 10;
	ok(walk(h, &pg, &s, &err) == -1 && strstr(err.msg, "PAGE_NUMBER needs")
	    != NULL, "PAGE_NUMBER without offset_param: %s", err.msg);
	pager_init(&pg, (enum http_page_kind)9, "/cfg");
	ok(walk(h, &pg, &s, &err) == -1, "unknown kind refused");
	pager_init(&pg, PAGE_LINK, NULL);
	ok(walk(h, &pg, &s, &err) == -1, "no path refused");
	requests_are("", "bad settings: no request sent");
	is_int(s.pages, 0, "bad settings: no callback");
	buf_release(&s.ids);
}

int
main(void)
{
	if (srv_start() == -1 || (ctl = open_at("")) == NULL) {
		ok(0, "fault server started");
		return tap_done();
	}
	test_link(ctl);
	test_link_prefix();
	test_link_loop(ctl);
	test_link_insecure(ctl);
	test_token(ctl);
	test_token_shapes(ctl);
	test_token_repeat(ctl);
	test_offset(ctl);
	test_scim(ctl);
	test_number(ctl);
	test_errors(ctl);
	test_max_pages(ctl);
	test_config(ctl);
	http_free(ctl);
	return tap_done();
}
