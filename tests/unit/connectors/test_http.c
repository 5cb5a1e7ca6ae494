/*
 * The shared HTTP client against tests/emulators/faultserver.py, a
 * loopback server started here that answers from a script and logs what
 * it received: URL checks, timeouts, the body cap, retries (503, 429 with
 * Retry-After in seconds and as a date, the budget running out, POST only
 * when made safe and then on retry_path), truncated bodies, malformed
 * JSON, Link headers, gzip, keep-alive, concurrent batches, and secrets
 * kept out of the -vv trace and of error messages.  Also the pure
 * helpers (redaction, escaping, Retry-After, Link, options).  Runs from
 * the top of the tree.
 */
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
#include "diag.h"
#include "http.h"
#include "util.h"
#include "yml.h"
#include "../../lib/tap.h"

static pid_t srv_pid;
static int srv_port;
static char srv_log[600];
static char base_url[64];

static const char script[] =
"{\"routes\": {\n"
" \"/echo\": {\"echo\": true},\n"
" \"/hello\": {\"body\": {\"hello\": \"world\"}},\n"
" \"/slow\": {\"delay_ms\": 3000, \"body\": \"late\"},\n"
" \"/slow2\": {\"delay_ms\": 3000, \"body\": \"late\"},\n"
" \"/big\": {\"body\": \"" "%BIG%" "\"},\n"
" \"/exact\": {\"body\": \"" "%EXACT%" "\"},\n"
" \"/flaky\": [{\"status\": 503, \"body\": \"busy\"}, {\"body\": \"fine\"}],\n"
" \"/ra\": [{\"status\": 429, \"headers\": {\"Retry-After\": \"1\"}},"
"   {\"body\": \"after\"}],\n"
" \"/radate\": [{\"status\": 503, \"retry_after_in\": 2}, {\"body\": \"after\"}],\n"
" \"/always429\": {\"status\": 429, \"headers\": {\"Retry-After\": \"1\"},"
"   \"body\": {\"message\": \"slow down\"}},\n"
" \"/post503\": {\"status\": 503},\n"
" \"/submit?requestId=r1\": {\"status\": 503},\n"
" \"/submit?requestId=r1&retry=true\": {\"echo\": true},\n"
" \"/badjson\": {\"body\": \"{\\n  \\\"a\\\": [1, 2,\\n\"},\n"
" \"/cut\": {\"body\": {\"a\": 1, \"b\": \"two\"}, \"truncate\": 5},\n"
" \"/links\": {\"headers\": [[\"Link\", \"<https://x.example/last>; rel=\\\"last\\\"\"],"
"   [\"Link\", \"<https://x.example/p2>; rel=\\\"next\\\"\"]], \"body\": \"[]\"},\n"
" \"/gz\": {\"gzip\": true, \"body\": \"%GZ%\"},\n"
" \"/many\": {\"echo\": true, \"delay_ms\": 200},\n"
" \"/ka\": {\"body\": \"alive\"}\n"
"}}\n";

static void
srv_stop(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
}

static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* The script with its placeholders filled in. */
static char *
script_text(void)
{
	struct buf b = BUF_INIT;
	const char *p = script, *q;
	char *big = repeat('x', 5000), *exact = repeat('y', 1000);
	char *gz = repeat('z', 3000);

	buf_init(&b, 0);
	while ((q = strchr(p, '%')) != NULL) {
		buf_add(&b, p, (size_t)(q - p));
		if (strncmp(q, "%BIG%", 5) == 0)
			buf_puts(&b, big), p = q + 5;
		else if (strncmp(q, "%EXACT%", 7) == 0)
			buf_puts(&b, exact), p = q + 7;
		else if (strncmp(q, "%GZ%", 4) == 0)
			buf_puts(&b, gz), p = q + 4;
		else
			buf_putc(&b, '%'), p = q + 1;
	}
	buf_puts(&b, p);
	free(big);
	free(exact);
	free(gz);
	return buf_detach(&b);
}

static int
srv_start(void)
{
	char sf[600], pf[600], line[32];
	char *text = script_text();
	FILE *f;
	int i;

	snprintf(sf, sizeof(sf), "%s/script.json", tap_tmpdir());
	snprintf(pf, sizeof(pf), "%s/port", tap_tmpdir());
	snprintf(srv_log, sizeof(srv_log), "%s/requests.jsonl", tap_tmpdir());
	if ((f = fopen(sf, "w")) == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	free(text);
	fflush(NULL);
	if ((srv_pid = fork()) == -1)
		return -1;
	if (srv_pid == 0) {
		execl("/usr/bin/python3", "python3",
		    "tests/emulators/faultserver.py", "--port-file", pf,
		    "--log", srv_log, "--script", sf, (char *)NULL);
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
	if (srv_port <= 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", srv_port);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the server logged for a path (query ignored), in order. */
static json_t *
logged(const char *path)
{
	json_t *arr = json_array(), *e;
	FILE *f = fopen(srv_log, "r");
	char *line = NULL;
	size_t cap = 0, len;
	const char *p;

	if (f == NULL)
		return arr;
	while (getline(&line, &cap, f) > 0) {
		if ((e = json_loads(line, 0, NULL)) == NULL)
			continue;
		p = json_string_value(json_object_get(e, "path"));
		len = p ? strcspn(p, "?") : 0;
		if (p && strlen(path) == len && strncmp(p, path, len) == 0)
			json_array_append(arr, e);
		json_decref(e);
	}
	free(line);
	fclose(f);
	return arr;
}

static size_t
nlogged(const char *path)
{
	json_t *a = logged(path);
	size_t n = json_array_size(a);

	json_decref(a);
	return n;
}

static const char *
entry_str(json_t *arr, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(arr, i), key));
}

/* A header of logged request i, by name in any case. */
static const char *
entry_header(json_t *arr, size_t i, const char *name)
{
	json_t *h = json_object_get(json_array_get(arr, i), "headers");
	const char *k;
	json_t *v;

	json_object_foreach(h, k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

static struct http *
open_h(long timeout_ms, int64_t budget_ms, size_t max_body, int conc)
{
	struct http_opts o;
	struct http *h = NULL;
	struct diag err;

	memset(&o, 0, sizeof(o));
	o.platform = "t";
	o.base_url = base_url;
	o.timeout_ms = timeout_ms;
	o.retry_budget_ms = budget_ms;
	o.max_body = max_body;
	o.concurrency = conc;
	if (http_open(&h, &o, &err) == -1)
		fprintf(stderr, "# http_open: %s\n", err.msg);
	return h;
}

static struct http_req
get(const char *path)
{
	struct http_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = path;
	return rq;
}

/* --- pure helpers --------------------------------------------------------- */

static void
check_open(const char *url, int want_ok, const char *want_msg)
{
	struct http_opts o;
	struct http *h = NULL;
	struct diag err;
	int rc;

	memset(&o, 0, sizeof(o));
	o.platform = "p";
	o.base_url = url;
	diag_clear(&err);
	rc = http_open(&h, &o, &err);
	ok((rc == 0) == want_ok, "http_open %s %s", url,
	    want_ok ? "accepted" : "refused");
	if (!want_ok && rc == -1 && want_msg != NULL)
		is_str(err.msg, want_msg, "message for a refused url");
	http_free(h);
}

static void
test_urls(void)
{
	struct http_opts o;
	struct http *h;
	struct http_req rq;
	struct http_resp rs;
	struct diag err;

	check_open("https://acme.snowflakecomputing.com", 1, NULL);
	check_open("https://acme.example.com:8443/api/", 1, NULL);
	check_open("http://127.0.0.1:8080", 1, NULL);
	check_open("http://127.1.2.3/x", 1, NULL);
	check_open("http://localhost:9", 1, NULL);
	check_open("http://[::1]:9", 1, NULL);
	check_open("http://example.com", 0, "platform p: url "
	    "'http://example.com' must use https (plain http is allowed only "
	    "to loopback addresses)");
	check_open("http://admin:hunter2@example.com/x", 0, "platform p: url "
	    "'http://example.com/x' must use https (plain http is allowed only "
	    "to loopback addresses)");
	check_open("http://127.0.0.1@evil.example", 0, NULL);
	check_open("http://127.0.0.1.evil.example", 0, NULL);
	check_open("http://10.0.0.1", 0, NULL);
	check_open("http://[::2]", 0, NULL);
	check_open("ftp://127.0.0.1", 0, NULL);
	check_open("file:///etc/passwd", 0, NULL);
	check_open("127.0.0.1:80", 0, NULL);
	check_open("https://exa mple.com", 0, NULL);
	check_open("", 0, NULL);

	/* An absolute path in a request meets the same rule. */
	memset(&o, 0, sizeof(o));
	o.platform = "t";
	o.base_url = "https://example.invalid";
	if (http_open(&h, &o, &err) == -1) {
		ok(0, "open: %s", err.msg);
		return;
	}
	rq = get("http://example.com/x?token=abc");
	ok(http_do(h, &rq, &rs, &err) == -1, "absolute plain-http path refused");
	ok(strstr(err.msg, "must use https") != NULL &&
	    strstr(err.msg, "token=abc") == NULL,
	    "refusal says https, hides the token: %s", err.msg);
	http_resp_release(&rs);
	http_free(h);
}

static void
test_redact(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "Authorization: Bearer abc.def\nX-Other: y",
		  "Authorization: [redacted]\nX-Other: y" },
		{ "cookie: a=b; c=d", "cookie: [redacted]" },
		{ "{\"password\": \"hunter2\", \"name\": \"bob\"}",
		  "{\"password\": \"[redacted]\", \"name\": \"bob\"}" },
		{ "{\"client_secret\":\"s\\\"3\",\"n\":1,\"refresh_token\":12345}",
		  "{\"client_secret\":\"[redacted]\",\"n\":1,"
		  "\"refresh_token\":\"[redacted]\"}" },
		{ "{\"assertion\" : \"x\"}", "{\"assertion\" : \"[redacted]\"}" },
		{ "grant_type=client_credentials&client_secret=xyz&scope=a",
		  "grant_type=client_credentials&client_secret=[redacted]&scope=a" },
		{ "/x?api_key=k1&page=2", "/x?api_key=[redacted]&page=2" },
		{ "error: invalid bearer abc-123.x", "error: invalid bearer [redacted]" },
		{ "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here",
		  "jwt [redacted] here" },
		{ "{\"message\":\"Statement executed\",\"code\":\"090001\"}",
		  "{\"message\":\"Statement executed\",\"code\":\"090001\"}" },
		{ "basic rules apply", "basic rules apply" },
		{ "", "" },
	};
	size_t i;
	char *r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = http_redact(cases[i].in);
		is_str(r, cases[i].want, "http_redact");
		free(r);
	}
}

static void
test_escape(void)
{
	char *s = http_escape("a b/c?d=\xc3\xa9~._-&");

	is_str(s, "a%20b%2Fc%3Fd%3D%C3%A9~._-%26", "http_escape");
	free(s);
	s = http_escape("");
	is_str(s, "", "http_escape of empty");
	free(s);
}

static void
test_retry_after(void)
{
	const int64_t t = 784111777;	/* 1994-11-06T08:49:37Z */

	is_int(http_retry_after_ms("120", 0), 120000, "delta seconds");
	is_int(http_retry_after_ms(" 5 ", 0), 5000, "delta with spaces");
	is_int(http_retry_after_ms("0", 0), 0, "zero");
	is_int(http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t - 30),
	    30000, "IMF-fixdate");
	is_int(http_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", t - 30),
	    30000, "RFC 850 date");
	is_int(http_retry_after_ms("Sun Nov  6 08:49:37 1994", t - 30), 30000,
	    "asctime date");
	is_int(http_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", t + 100),
	    0, "a date in the past is 0");
	is_int(http_retry_after_ms("Sun, 31 Feb 1994 08:49:37 GMT", t), -1,
	    "impossible date");
	is_int(http_retry_after_ms("soon", 0), -1, "word");
	is_int(http_retry_after_ms("-1", 0), -1, "negative");
	is_int(http_retry_after_ms("1.5", 0), -1, "fraction");
	is_int(http_retry_after_ms("", 0), -1, "empty");
	is_int(http_retry_after_ms(NULL, 0), -1, "NULL");
}

static void
link_is(const char *link, const char *want, const char *name)
{
	char *got = http_link_next(link);

	is_str(got, want, name);
	free(got);
}

static void
test_link(void)
{
	link_is("<https://api.example.com/items?page=2>; rel=\"next\", "
	    "<https://api.example.com/items?page=5>; rel=\"last\"",
	    "https://api.example.com/items?page=2", "next first");
	link_is("<https://x/p1>; rel=\"prev\", <https://x/p3>; rel=next",
	    "https://x/p3", "unquoted rel, second link");
	link_is("<https://x/a,b>; rel=\"last\", <https://x/n>; "
	    "title=\"a, \\\"rel=next\\\"\"; rel=\"prev next\"",
	    "https://x/n", "comma in URI, quoted title, several rel tokens");
	link_is("</p?cursor=abc>; REL=\"Next\"", "/p?cursor=abc",
	    "case-insensitive");
	link_is("<https://x/only>; rel=\"nextish\"", NULL, "nextish is not next");
	link_is("garbage, <https://x/z>; rel=next", "https://x/z",
	    "skips a malformed link-value");
	link_is("", NULL, "empty");
	link_is(NULL, NULL, "NULL");
}

static void
test_opts(void)
{
	struct http_opts o;
	struct yml_doc doc;
	struct diag err;
	static const char good[] = "url: https://x.example.com\n"
	    "timeout: 5s\nconcurrency: 8\nca_file: /etc/ca.pem\n"
	    "retry_budget: 2m\n";

	if (yml_parse(&doc, "accord.yaml", good, sizeof(good) - 1, &err) == -1) {
		ok(0, "parse: %s", err.msg);
		return;
	}
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == 0, "options from config");
	is_str(o.base_url, "https://x.example.com", "url");
	is_int(o.timeout_ms, 5000, "timeout");
	is_int(o.concurrency, 8, "concurrency");
	is_str(o.ca_file, "/etc/ca.pem", "ca_file");
	is_int(o.retry_budget_ms, 120000, "retry_budget");
	is_str(o.platform, "snow", "platform");
	yml_doc_release(&doc);

	yml_parse(&doc, "accord.yaml", "type: x\n", 8, &err);
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root,
	    "https://default.example", &err) == 0 &&
	    strcmp(o.base_url, "https://default.example") == 0 &&
	    o.timeout_ms == 0 && o.concurrency == 0, "default url, defaults");
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == -1 && strstr(err.msg, "url") != NULL,
	    "url required without a default: %s", err.msg);
	yml_doc_release(&doc);

	yml_parse(&doc, "accord.yaml", "type: x\nurl: http://example.com\n",
	    31, &err);
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == -1, "plain http url refused");
	ok(strcmp(err.file, "accord.yaml") == 0 && err.line == 2 &&
	    err.column == 6 && strstr(err.msg, "must use https") != NULL,
	    "at accord.yaml:%d:%d: %s", err.line, err.column, err.msg);
	yml_doc_release(&doc);

	yml_parse(&doc, "accord.yaml", "url: https://h\ntimeout: soon\n",
	    strlen("url: https://h\ntimeout: soon\n"), &err);
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == -1 && err.line == 2 && err.column == 10 &&
	    strstr(err.msg, "bad timeout 'soon'") != NULL,
	    "bad timeout at 2:10: %s", err.msg);
	yml_doc_release(&doc);

	yml_parse(&doc, "accord.yaml", "url: https://h\nconcurrency: 65\n",
	    strlen("url: https://h\nconcurrency: 65\n"), &err);
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == -1 && err.line == 2, "concurrency over 64 refused: %s",
	    err.msg);
	yml_doc_release(&doc);

	yml_parse(&doc, "accord.yaml", "url: https://h\nretry_budget: 0s\n",
	    strlen("url: https://h\nretry_budget: 0s\n"), &err);
	ok(http_opts_from_config(&o, "snow", "accord.yaml", doc.root, NULL,
	    &err) == -1 && strstr(err.msg, "bad retry_budget '0s'") != NULL,
	    "retry_budget 0s refused: %s", err.msg);
	yml_doc_release(&doc);
}

static void
test_fail_message(void)
{
	struct http *h = open_h(0, 0, 0, 1);
	struct http_req rq = get("/api/x?token=qsec&page=2");
	struct http_resp rs;
	struct diag err;
	char *filler = repeat('f', 500);
	const char *colon, *shape = "platform t: POST /api/x?token=[redacted]"
	    "&page=2: HTTP 422: {\"message\":";

	memset(&rs, 0, sizeof(rs));
	rq.method = "POST";
	rs.status = 422;
	rs.attempts = 1;
	buf_init(&rs.body, 0);
	buf_printf(&rs.body, "{\"message\":\"bad\\ngrant\",\"access_token\":"
	    "\"tok-abc-123\",\"detail\":\"Authorization: Bearer zzz-secret\","
	    "\"nl\":\"a\nb\",\"filler\":\"%s\"}", filler);
	is_int(http_fail(&err, h, &rq, &rs), -1, "http_fail returns -1");
	ok(strncmp(err.msg, shape, strlen(shape)) == 0, "message shape: %.80s",
	    err.msg);
	ok(strstr(err.msg, "tok-abc-123") == NULL &&
	    strstr(err.msg, "zzz-secret") == NULL &&
	    strstr(err.msg, "qsec") == NULL, "no secret in: %s", err.msg);
	ok(strstr(err.msg, "\"a\\nb\"") != NULL, "control character escaped");
	colon = strstr(err.msg, "HTTP 422: ") + 10;
	/* 300 bytes, then "\n" escapes and "...". */
	ok(strlen(colon) >= 300 && strlen(colon) <= 310 &&
	    strcmp(colon + strlen(colon) - 3, "...") == 0,
	    "excerpt cut to 300 bytes (%zu)", strlen(colon));
	buf_release(&rs.body);

	buf_init(&rs.body, 0);
	rs.status = 404;
	rq = get("/missing");
	http_fail(&err, h, &rq, &rs);
	is_str(err.msg, "platform t: GET /missing: HTTP 404", "empty body");
	free(filler);
	http_free(h);
}

/* --- against the fault server ------------------------------------------- */

static void
test_basic(struct http *h)
{
	struct http_req rq = get("/hello");
	struct http_resp rs;
	struct diag err;
	json_t *j;

	ok(http_do(h, &rq, &rs, &err) == 0, "GET /hello");
	is_int(rs.status, 200, "status 200");
	is_int(rs.attempts, 1, "one attempt");
	is_str(rs.content_type, "application/json", "content type captured");
	j = http_json(&rs, "hello", &err);
	is_str(json_string_value(json_object_get(j, "hello")), "world",
	    "JSON body");
	json_decref(j);
	http_resp_release(&rs);

	rq = get("/nowhere");
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 404,
	    "a 404 is a response, not an error");
	http_resp_release(&rs);
}

static void
test_timeout(void)
{
	struct http *h = open_h(400, -1, 0, 1);
	struct http_req rq = get("/slow");
	struct http_resp rs;
	struct diag err;
	int64_t t0 = now_ms(), dt;

	ok(http_do(h, &rq, &rs, &err) == -1, "slow answer: error");
	dt = now_ms() - t0;
	printf("# timeout after %lld ms\n", (long long)dt);
	ok(dt >= 350 && dt < 1500, "within about the timeout (%lld ms)",
	    (long long)dt);
	ok(strncmp(err.msg, "platform t: GET /slow: ", 23) == 0 &&
	    strstr(err.msg, "timed out") != NULL, "says so: %s", err.msg);
	is_int(nlogged("/slow"), 1, "no retry without a budget");
	http_resp_release(&rs);
	http_free(h);

	/* Budget 300 ms: one retry (200-240 ms) fits, the next does not. */
	h = open_h(300, 300, 0, 1);
	rq = get("/slow2");
	ok(http_do(h, &rq, &rs, &err) == -1, "slow twice: error");
	is_int(nlogged("/slow2"), 2, "retried once on a timeout");
	ok(strstr(err.msg, "the retry budget of 0.3 s is used up") != NULL &&
	    strstr(err.msg, "2 attempts") != NULL, "budget named: %s",
	    err.msg);
	http_resp_release(&rs);
	http_free(h);
}

static void
test_body_cap(void)
{
	struct http *h = open_h(0, 0, 1000, 1);
	struct http_req rq = get("/big");
	struct http_resp rs;
	struct diag err;

	ok(http_do(h, &rq, &rs, &err) == -1, "body over the cap: error");
	is_str(err.msg, "platform t: GET /big: response body over the limit "
	    "of 1000 bytes", "cap message");
	is_int(nlogged("/big"), 1, "not retried");
	http_resp_release(&rs);
	rq = get("/exact");
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.body.len == 1000,
	    "body at the cap is fine");
	http_resp_release(&rs);
	http_free(h);
}

static void
test_retries(void)
{
	struct http *h = open_h(0, 0, 0, 2);
	struct http_req rq = get("/flaky");
	struct http_resp rs;
	struct diag err;
	int64_t t0, dt;
	json_t *log;

	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 200,
	    "503 then 200");
	is_str(buf_cstr(&rs.body), "fine", "body of the second answer");
	is_int(rs.attempts, 2, "two attempts");
	ok(rs.waited_ms >= 200 && rs.waited_ms <= 240, "backoff 200 ms + "
	    "jitter (%lld)", (long long)rs.waited_ms);
	is_int(nlogged("/flaky"), 2, "server saw two requests");
	http_resp_release(&rs);

	rq = get("/ra");
	t0 = now_ms();
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 200,
	    "429 with Retry-After: 1, then 200");
	dt = now_ms() - t0;
	printf("# Retry-After: 1 took %lld ms\n", (long long)dt);
	ok(dt >= 1000 && dt < 1700, "waited at least 1 s (%lld ms)",
	    (long long)dt);
	ok(rs.waited_ms >= 1000 && rs.waited_ms <= 1200,
	    "wait is Retry-After plus at most 20%% (%lld)",
	    (long long)rs.waited_ms);
	http_resp_release(&rs);

	rq = get("/radate");
	t0 = now_ms();
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 200,
	    "503 with Retry-After as an HTTP-date, then 200");
	dt = now_ms() - t0;
	printf("# Retry-After date took %lld ms\n", (long long)dt);
	ok(dt >= 900 && rs.waited_ms >= 1000, "waited for the date (%lld ms)",
	    (long long)dt);
	http_resp_release(&rs);
	http_free(h);

	/* The budget pays for one wait of ~1 s, not two. */
	h = open_h(0, 1500, 0, 1);
	rq = get("/always429");
	diag_clear(&err);
	ok(http_do(h, &rq, &rs, &err) == 0, "budget spent: still a response");
	is_int(rs.status, 429, "the last 429 is returned");
	is_int(rs.attempts, 2, "two attempts");
	is_int(nlogged("/always429"), 2, "server saw two");
	ok(strstr(err.msg, "the retry budget of 1.5 s is used up") != NULL,
	    "says the budget is used up: %s", err.msg);
	http_fail(&err, h, &rq, &rs);
	ok(strstr(err.msg, "HTTP 429 (2 attempts; the retry budget of "
	    "1.5 s is used up): {\"message\": \"slow down\"}") != NULL,
	    "http_fail says so too: %s", err.msg);
	http_resp_release(&rs);
	http_free(h);

	/* POST: not retried unless made safe, then on retry_path. */
	h = open_h(0, 0, 0, 1);
	rq = get("/post503");
	rq.method = "POST";
	rq.body = "{\"statement\":\"GRANT\"}";
	rq.body_len = strlen(rq.body);
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 503 &&
	    rs.attempts == 1, "POST 503 not retried");
	is_int(nlogged("/post503"), 1, "server saw one POST");
	http_resp_release(&rs);

	rq.path = "/submit?requestId=r1";
	rq.retry_path = "/submit?requestId=r1&retry=true";
	rq.retry_unsafe = 1;
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 200 &&
	    rs.attempts == 2, "POST retried when made safe");
	log = logged("/submit");
	is_int(json_array_size(log), 2, "two POSTs");
	is_str(entry_str(log, 0, "path"), "/submit?requestId=r1",
	    "first on path");
	is_str(entry_str(log, 1, "path"), "/submit?requestId=r1&retry=true",
	    "retry on retry_path");
	is_str(entry_str(log, 0, "body"), rq.body, "first body");
	is_str(entry_str(log, 1, "body"), rq.body, "same body again");
	is_str(entry_str(log, 1, "method"), "POST", "still a POST");
	is_str(entry_header(log, 0, "Content-Type"), "application/json",
	    "default content type");
	json_decref(log);
	http_resp_release(&rs);
	http_free(h);
}

static void
test_bodies(struct http *h)
{
	struct http_req rq = get("/badjson");
	struct http_resp rs;
	struct diag err;
	struct http *hb;
	json_t *j, *log;
	char *next, *want, abs[96];

	ok(http_do(h, &rq, &rs, &err) == 0, "GET /badjson");
	j = http_json(&rs, "platform t: GET /badjson", &err);
	ok(j == NULL, "truncated JSON refused");
	ok(strncmp(err.msg, "platform t: GET /badjson: invalid JSON at line 3 "
	    "column ", 50) == 0 && strstr(err.msg, "[1, 2,") != NULL,
	    "names line, column and the place: %s", err.msg);
	http_resp_release(&rs);

	/* A body shorter than its Content-Length is a transport error. */
	hb = open_h(0, 300, 0, 1);
	rq = get("/cut");
	ok(http_do(hb, &rq, &rs, &err) == -1, "cut body: error");
	is_int(nlogged("/cut"), 2, "cut body retried");
	ok(strstr(err.msg, "platform t: GET /cut: ") == err.msg &&
	    strstr(err.msg, "retry budget") != NULL, "message: %s", err.msg);
	http_resp_release(&rs);
	http_free(hb);

	rq = get("/links");
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.link != NULL,
	    "Link headers captured");
	next = http_link_next(rs.link);
	is_str(next, "https://x.example/p2", "next of two Link fields");
	free(next);
	http_resp_release(&rs);

	rq = get("/gz");
	ok(http_do(h, &rq, &rs, &err) == 0, "GET /gz");
	want = repeat('z', 3000);
	is_str(buf_cstr(&rs.body), want, "gzip body decoded");
	free(want);
	log = logged("/gz");
	ok(entry_header(log, 0, "Accept-Encoding") != NULL &&
	    strstr(entry_header(log, 0, "Accept-Encoding"), "gzip") != NULL,
	    "gzip accepted");
	json_decref(log);
	http_resp_release(&rs);

	snprintf(abs, sizeof(abs), "%s/echo", base_url);
	rq = get(abs);
	ok(http_do(h, &rq, &rs, &err) == 0 && rs.status == 200 &&
	    strstr(rs.body.ptr, "\"path\": \"/echo\"") != NULL,
	    "absolute loopback URL as the path");
	http_resp_release(&rs);
}

static void
test_many(void)
{
	enum { N = 20 };
	struct http *h = open_h(0, 0, 0, 4);
	struct http_req rq[N];
	struct http_resp rs[N];
	char paths[N][32];
	struct diag err;
	int64_t t0, dt;
	int i, good = 0, nconn = 0, c, conns[N], seen;
	json_t *j, *log;
	size_t k;

	for (i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/many?i=%d", i);
		rq[i] = get(paths[i]);
	}
	t0 = now_ms();
	ok(http_do_many(h, rq, N, rs, &err) == 0, "20 requests, 4 at a time");
	dt = now_ms() - t0;
	printf("# http_do_many: 20 x 200 ms, concurrency 4: %lld ms\n",
	    (long long)dt);
	ok(dt < 2500, "well under 20 x 200 ms (%lld ms)", (long long)dt);
	for (i = 0; i < N; i++) {
		j = json_loadb(rs[i].body.ptr, rs[i].body.len, 0, NULL);
		if (rs[i].status == 200 && j != NULL && strcmp(paths[i],
		    json_string_value(json_object_get(j, "path"))) == 0)
			good++;
		json_decref(j);
		http_resp_release(&rs[i]);
	}
	is_int(good, N, "every answer matches its request");
	log = logged("/many");
	for (k = 0; k < json_array_size(log); k++) {
		c = (int)json_integer_value(json_object_get(
		    json_array_get(log, k), "conn"));
		for (seen = 0, i = 0; i < nconn; i++)
			seen |= conns[i] == c;
		if (!seen && nconn < N)
			conns[nconn++] = c;
	}
	is_int(json_array_size(log), N, "server saw 20");
	ok(nconn >= 2 && nconn <= 4, "%d connections: at most 4, reused",
	    nconn);
	json_decref(log);
	http_free(h);

	/* One failure fails the batch, and names the request. */
	h = open_h(0, 0, 1000, 4);
	rq[0] = get("/hello");
	rq[1] = get("/big");
	rq[2] = get("/hello");
	ok(http_do_many(h, rq, 3, rs, &err) == -1 &&
	    strstr(err.msg, "GET /big: response body over") != NULL,
	    "a failed request fails the batch: %s", err.msg);
	for (i = 0; i < 3; i++)
		http_resp_release(&rs[i]);
	http_free(h);
}

static void
test_keepalive(void)
{
	struct http *h = open_h(0, 0, 0, 4);
	struct http_req rq = get("/ka");
	struct http_resp rs;
	struct diag err;
	json_t *log;
	size_t i, before = nlogged("/ka");
	int n = 0, same = 1;

	for (i = 0; i < 5; i++) {
		if (http_do(h, &rq, &rs, &err) == 0 && rs.status == 200)
			n++;
		http_resp_release(&rs);
	}
	is_int(n, 5, "five sequential requests");
	log = logged("/ka");
	for (i = before + 1; i < json_array_size(log); i++)
		if (json_integer_value(json_object_get(json_array_get(log, i),
		    "conn")) != json_integer_value(json_object_get(
		    json_array_get(log, before), "conn")))
			same = 0;
	is_int(json_array_size(log) - before, 5, "server saw five");
	ok(same, "all on one connection (keep-alive)");
	json_decref(log);
	http_free(h);
}

static void
test_trace(struct http *h)
{
	static const char *const headers[] = {
		"Authorization: Bearer sekrit-bearer-123",
		"Cookie: session=cookiesecret",
		"X-Trace: visible",
		NULL
	};
	struct http_req rq = get("/echo?token=qsecret&x=1");
	struct http_resp rs;
	struct diag err;
	char path[600], want[128], *text;
	FILE *f;
	long len;
	int saved, fd, rc;

	rq.method = "POST";
	rq.headers = headers;
	rq.body = "{\"password\":\"bodysecret\"}";
	rq.body_len = strlen(rq.body);
	snprintf(path, sizeof(path), "%s/trace.txt", tap_tmpdir());
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	log_verbosity = 2;
	rc = http_do(h, &rq, &rs, &err);
	log_verbosity = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ok(rc == 0 && rs.status == 200, "traced request answered");
	ok(strstr(rs.body.ptr, "sekrit-bearer-123") != NULL,
	    "the real header was sent");
	http_resp_release(&rs);

	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = xcalloc(1, (size_t)len + 1);
	if (fread(text, 1, (size_t)len, f) != (size_t)len)
		text[0] = '\0';
	fclose(f);
	snprintf(want, sizeof(want), "> POST http://127.0.0.1:%d/echo?token="
	    "[redacted]&x=1\n", srv_port);
	ok(strstr(text, want) != NULL, "request line traced");
	ok(strstr(text, "> Authorization: [redacted]\n") != NULL,
	    "Authorization redacted");
	ok(strstr(text, "> Cookie: [redacted]\n") != NULL, "Cookie redacted");
	ok(strstr(text, "> X-Trace: visible\n") != NULL, "other headers shown");
	ok(strstr(text, "< 200 (") != NULL && strstr(text, " bytes, ") != NULL &&
	    strstr(text, " ms)\n") != NULL, "response line traced");
	ok(strstr(text, "sekrit") == NULL && strstr(text, "cookiesecret") ==
	    NULL && strstr(text, "qsecret") == NULL &&
	    strstr(text, "bodysecret") == NULL, "no secret in the trace");
	if (strstr(text, "sekrit") || strstr(text, "secret"))
		printf("# trace:\n%s", text);
	free(text);
}

int
main(void)
{
	struct http *h;

	test_urls();
	test_redact();
	test_escape();
	test_retry_after();
	test_link();
	test_opts();
	if (srv_start() == -1) {
		ok(0, "fault server started");
		return tap_done();
	}
	test_fail_message();
	h = open_h(0, 0, 0, 4);
	test_basic(h);
	test_bodies(h);
	test_trace(h);
	http_free(h);
	test_timeout();
	test_body_cap();
	test_retries();
	test_many();
	test_keepalive();
	return tap_done();
}
