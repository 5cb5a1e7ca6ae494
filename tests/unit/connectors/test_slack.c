/*
 * The Slack transport (connectors/slack.c) against the Slack emulator
 * (tests/emulators/slack.py), started here: chat.postMessage's exact
 * request (body, headers) from the emulator's log, ok:false errors as
 * "slack: METHOD: error" messages, a 429 with Retry-After waited out and
 * then success, a 429 whose wait would pass the budget failing at once,
 * the budget adding up over retries, reactions.get (full=true, skin
 * tones, duplicates, none at all), users.info (email, none, bot,
 * deactivated, unknown, the cache, a token without users:read.email),
 * incoming webhooks (ok, no_service, 429, a closed port), URL checks, and
 * that neither the token nor the webhook URL ever reaches a message.
 * The emulator is killed at exit and, should this program die first, by
 * a watchdog.  Runs from the top of the tree.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "http.h"
#include "slack.h"
#include "util.h"
#include "../../lib/tap.h"

#define EMULATOR "tests/emulators/slack.py"
#define TOKEN "xoxb-1234-5678-s3cretT0kenValue"
#define CH "C0123456789"

static pid_t emu_pid;
static char emu_url[64], api_url[96], hook_url[128];
static struct http *ctl_h;
/* Every message the transport gave, searched for secrets at the end. */
static struct buf said = BUF_INIT;

static void
stop_all(void)
{
	http_free(ctl_h);
	ctl_h = NULL;
	if (emu_pid > 0) {
		kill(emu_pid, SIGTERM);
		waitpid(emu_pid, NULL, 0);
		emu_pid = 0;
	}
	buf_release(&said);
}

static int64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char seed[] =
    "{\"channels\": [{\"id\": \"C0123456789\", \"name\": \"access\"},\n"
    "  {\"id\": \"C0NOTMEMBER\", \"name\": \"other\", \"is_member\": false},\n"
    "  {\"id\": \"C0ARCHIVED\", \"is_archived\": true}],\n"
    " \"users\": [{\"id\": \"U1\", \"name\": \"alice\", \"real_name\": \"Alice Adams\",\n"
    "              \"email\": \"alice@example.com\"},\n"
    "  {\"id\": \"U2\", \"name\": \"bob\", \"email\": \"bob@example.com\"},\n"
    "  {\"id\": \"U3\", \"name\": \"carol\", \"real_name\": \"Carol\"},\n"
    "  {\"id\": \"UBOT1\", \"name\": \"somebot\", \"is_bot\": true},\n"
    "  {\"id\": \"U4\", \"name\": \"gone\", \"email\": \"gone@example.com\",\n"
    "   \"deleted\": true}]}\n";

static int
emu_start(void)
{
	struct http_opts o;
	struct diag err;
	char dir[600], port[700], log[700], out[700], sf[700], cmd[256];
	char text[32];
	const char *argv[16];
	size_t n = 0;
	int fd, i, status;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/slack", tap_tmpdir());
	mkdir(dir, 0700);
	snprintf(port, sizeof(port), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/log.jsonl", dir);
	snprintf(out, sizeof(out), "%s/emulator.out", dir);
	snprintf(sf, sizeof(sf), "%s/seed.json", dir);
	if ((f = fopen(sf, "w")) == NULL)
		return -1;
	fputs(seed, f);
	fclose(f);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = EMULATOR;
	argv[n++] = "--port-file";
	argv[n++] = port;
	argv[n++] = "--token";
	argv[n++] = TOKEN;
	argv[n++] = "--seed";
	argv[n++] = sf;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n] = NULL;
	fflush(stdout);
	if ((emu_pid = fork()) < 0)
		return -1;
	if (emu_pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "sh -c 'while kill -0 %ld 2>/dev/null; do "
	    "sleep 1; done; kill %ld 2>/dev/null' </dev/null >/dev/null 2>&1 &",
	    (long)getpid(), (long)emu_pid);
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
		if (waitpid(emu_pid, &status, WNOHANG) == emu_pid) {
			emu_pid = 0;
			fprintf(stderr, "# the emulator exited; see %s\n", out);
			return -1;
		}
		usleep(50 * 1000);
	}
	if (i == 200)
		return -1;
	snprintf(emu_url, sizeof(emu_url), "http://127.0.0.1:%ld",
	    strtol(text, NULL, 10));
	snprintf(api_url, sizeof(api_url), "%s/api", emu_url);
	snprintf(hook_url, sizeof(hook_url), "%s/services/T000/B000/XXXX",
	    emu_url);
	memset(&o, 0, sizeof(o));
	o.platform = "emulator";
	o.base_url = emu_url;
	o.timeout_ms = 20000;
	o.retry_budget_ms = -1;
	if (http_open(&ctl_h, &o, &err) != 0) {
		fprintf(stderr, "# %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* One control request; the answer's JSON, or NULL. */
static json_t *
ctl(const char *method, const char *path, const char *body)
{
	struct http_req rq = { 0 };
	struct http_resp rs;
	struct diag err;
	json_t *j = NULL;

	rq.method = method;
	rq.path = path;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	if (http_do(ctl_h, &rq, &rs, &err) != 0) {
		fprintf(stderr, "# %s %s: %s\n", method, path, err.msg);
		return NULL;
	}
	if (rs.status < 200 || rs.status > 299)
		fprintf(stderr, "# %s %s: HTTP %ld: %s\n", method, path,
		    rs.status, rs.body.ptr);
	else
		j = json_loadb(rs.body.ptr, rs.body.len, 0, NULL);
	http_resp_release(&rs);
	return j;
}

static void
ctl_do(const char *method, const char *path, const char *body)
{
	json_decref(ctl(method, path, body));
}

static json_t *
emu_log(void)
{
	json_t *j = ctl("GET", "/_emulator/log", NULL);

	return j ? j : json_array();
}

static size_t
log_mark(void)
{
	json_t *l = emu_log();
	size_t n = json_array_size(l);

	json_decref(l);
	return n;
}

/* Log entries from index `from` on (a new reference). */
static json_t *
log_since(size_t from)
{
	json_t *l = emu_log(), *out = json_array();
	size_t i;

	for (i = from; i < json_array_size(l); i++)
		json_array_append(out, json_array_get(l, i));
	json_decref(l);
	return out;
}

static const char *
e_str(const json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

static const char *
e_hdr(const json_t *e, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(e, "headers"), k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

static const char *
e_q(const json_t *e, const char *name)
{
	return json_string_value(json_object_get(json_object_get(e, "query"),
	    name));
}

static void
note(const struct diag *err)
{
	buf_puts(&said, err->msg);
	buf_putc(&said, '\n');
}

static void
react(const char *ts, const char *name, const char *user)
{
	char *b = xasprintf("{\"channel\": \"%s\", \"ts\": \"%s\", \"name\": "
	    "\"%s\", \"user\": \"%s\"}", CH, ts, name, user);

	ctl_do("POST", "/_emulator/react", b);
	free(b);
}

static struct slack *
open_client(const char *token, const char *hook, int64_t max_wait_ms)
{
	struct slack_opts o;
	struct slack *s = NULL;
	struct diag err;

	memset(&o, 0, sizeof(o));
	o.api_url = api_url;
	o.token = token;
	o.webhook_url = hook;
	o.timeout_ms = 5000;
	o.max_wait_ms = max_wait_ms;
	if (slack_open(&s, &o, &err) == -1) {
		fprintf(stderr, "# slack_open: %s\n", err.msg);
		return NULL;
	}
	return s;
}

static void
test_open(void)
{
	struct slack_opts o;
	struct slack *s = NULL;
	struct diag err;

	memset(&o, 0, sizeof(o));
	o.api_url = "http://slack.example.com/api";
	o.token = TOKEN;
	ok(slack_open(&s, &o, &err) == -1 && s == NULL,
	    "plain http to a remote API is refused");
	ok(strstr(err.msg, "http") != NULL, "... and says why: %s", err.msg);
	note(&err);
	o.api_url = api_url;
	o.webhook_url = "http://hooks.example.com/services/T1/B1/HOOKSECRET";
	ok(slack_open(&s, &o, &err) == -1, "plain http to a remote webhook is "
	    "refused");
	ok(strstr(err.msg, "HOOKSECRET") == NULL && strstr(err.msg,
	    "hooks.example.com") == NULL, "... without quoting the webhook "
	    "URL: %s", err.msg);
	o.webhook_url = NULL;
	o.token = "xoxb-bad\r\nX-Injected: 1";
	ok(slack_open(&s, &o, &err) == -1, "a token with CR/LF is refused");
	ok(strstr(err.msg, "Injected") == NULL, "... without quoting it");
}

static void
test_post(struct slack *s)
{
	struct diag err;
	char *ts = NULL, *ch = NULL;
	json_t *l, *e;
	size_t m = log_mark();
	int rc;

	rc = slack_post(s, CH, "hello \"world\" \xc3\xa9\nline 2", &ts, &ch,
	    &err);
	ok(rc == 0, "chat.postMessage succeeds%s%s", rc ? ": " : "",
	    rc ? err.msg : "");
	is_str(ts, "1700000000.000100", "ts as Slack gave it (a string)");
	is_str(ch, CH, "channel id");
	free(ts);
	free(ch);
	l = log_since(m);
	is_int(json_array_size(l), 1, "one request");
	e = json_array_get(l, 0);
	is_str(e_str(e, "method"), "POST", "POST");
	is_str(e_str(e, "path"), "/api/chat.postMessage", "path");
	is_str(e_hdr(e, "Authorization"), "Bearer " TOKEN, "bearer token in "
	    "the Authorization header");
	is_str(e_hdr(e, "Content-Type"), "application/json; charset=utf-8",
	    "Content-Type with charset");
	is_str(e_str(e, "raw"), "{\"channel\":\"C0123456789\",\"text\":"
	    "\"hello \\\"world\\\" \xc3\xa9\\nline 2\",\"unfurl_links\":false}",
	    "exact JSON body");
	ok(json_object_size(json_object_get(e, "query")) == 0,
	    "nothing in the query string");
	ok(strstr(e_str(e, "raw"), TOKEN) == NULL, "no token in the body");
	is_str(e_str(e, "token_in"), "header", "the emulator saw the header "
	    "token");
	json_decref(l);

	/* By name: the answer gives the id. */
	rc = slack_post(s, "#access", "by name", &ts, &ch, &err);
	ok(rc == 0 && ch && strcmp(ch, CH) == 0, "a channel by name answers "
	    "with its id");
	free(ts);
	free(ch);
}

static void
expect_fail(int rc, const struct diag *err, const char *want,
    const char *what)
{
	ok(rc == -1, "%s fails", what);
	is_str(rc == -1 ? err->msg : "(succeeded)", want, what);
	note(err);
}

static void
test_errors(struct slack *s)
{
	struct diag err;
	struct slack *bad;
	char *ts = NULL, *ch = NULL, **users = NULL, *email = NULL;
	size_t n = 0;
	int rc;

	rc = slack_post(s, "C0NOSUCH", "x", &ts, &ch, &err);
	expect_fail(rc, &err, "slack: chat.postMessage: channel_not_found",
	    "unknown channel");
	ok(ts == NULL && ch == NULL, "no outputs on failure");
	rc = slack_post(s, "C0NOTMEMBER", "x", &ts, &ch, &err);
	expect_fail(rc, &err, "slack: chat.postMessage: not_in_channel",
	    "a channel the bot is not in");
	rc = slack_post(s, "C0ARCHIVED", "x", &ts, &ch, &err);
	expect_fail(rc, &err, "slack: chat.postMessage: is_archived",
	    "an archived channel");
	rc = slack_post(s, CH, "", &ts, &ch, &err);
	ok(rc == -1, "empty text is refused before sending");
	rc = slack_post(s, CH, "bad \xff utf-8", &ts, &ch, &err);
	ok(rc == -1 && strstr(err.msg, "UTF-8") != NULL, "invalid UTF-8 is "
	    "refused: %s", err.msg);

	/* Injected ok:false with HTTP 200. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"error\": \"fatal_error\"}]}");
	rc = slack_post(s, CH, "x", &ts, &ch, &err);
	expect_fail(rc, &err, "slack: chat.postMessage: fatal_error",
	    "an injected ok:false");

	bad = open_client("xoxb-wrong-token-value", NULL, 0);
	rc = slack_post(bad, CH, "x", &ts, &ch, &err);
	expect_fail(rc, &err, "slack: chat.postMessage: invalid_auth",
	    "a wrong token");
	ok(strstr(err.msg, "wrong-token") == NULL, "the wrong token is not "
	    "quoted");
	slack_free(bad);

	bad = open_client(NULL, NULL, 0);
	rc = slack_post(bad, CH, "x", &ts, &ch, &err);
	ok(rc == -1 && strstr(err.msg, "no bot token") != NULL,
	    "no token: %s", err.msg);
	rc = slack_webhook(bad, "x", &err);
	ok(rc == -1 && strstr(err.msg, "no webhook URL") != NULL,
	    "no webhook URL: %s", err.msg);
	slack_free(bad);

	ctl_do("PUT", "/_emulator/config", "{\"scopes\": [\"chat:write\", "
	    "\"users:read\"]}");
	rc = slack_reactions(s, CH, "1700000000.000100", "white_check_mark",
	    &users, &n, &err);
	expect_fail(rc, &err, "slack: reactions.get: missing_scope (needed "
	    "reactions:read)", "a token without reactions:read");
	ok(users == NULL && n == 0, "no users on failure");
	ctl_do("PUT", "/_emulator/config", "{\"scopes\": [\"chat:write\", "
	    "\"users:read\", \"reactions:read\"]}");
	bad = open_client(TOKEN, NULL, 0);
	rc = slack_user_email(bad, "U1", &email, &err);
	ok(rc == 0 && email == NULL, "without users:read.email the profile "
	    "has no email, and that is not an error");
	free(email);
	slack_free(bad);
	ctl_do("PUT", "/_emulator/config", "{\"scopes\": [\"chat:write\", "
	    "\"users:read\", \"reactions:read\", \"users:read.email\"]}");

	/* A 500 that stays past the budget is reported with its status. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"users.info\", \"status\": 503, \"times\": 50}]}");
	bad = open_client(TOKEN, NULL, 300);
	rc = slack_user_email(bad, "U2", &email, &err);
	ok(rc == -1 && strstr(err.msg, "HTTP 503") != NULL &&
	    strstr(err.msg, "users.info") != NULL, "a lasting 503: %s",
	    err.msg);
	note(&err);
	slack_free(bad);
	ctl_do("DELETE", "/_emulator/faults", NULL);
}

static void
test_ratelimit(void)
{
	struct slack *s;
	struct diag err;
	char *ts = NULL, *ch = NULL;
	json_t *l;
	int64_t t0, ms;
	size_t m;
	int rc;

	/* Retry-After: 1, then success. */
	s = open_client(TOKEN, NULL, 0);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"status\": 429, \"retry_after\": 1}]}");
	m = log_mark();
	t0 = mono_ms();
	rc = slack_post(s, CH, "after a 429", &ts, &ch, &err);
	ms = mono_ms() - t0;
	ok(rc == 0 && ts != NULL, "a 429 with Retry-After: 1 is waited out, "
	    "then the post succeeds%s%s", rc ? ": " : "", rc ? err.msg : "");
	ok(ms >= 1000 && ms < 5000, "... after waiting about 1 s (%lld ms)",
	    (long long)ms);
	l = log_since(m);
	ok(json_array_size(l) == 2 &&
	    json_integer_value(json_object_get(json_array_get(l, 0),
	    "status")) == 429 &&
	    json_integer_value(json_object_get(json_array_get(l, 1),
	    "status")) == 200, "the log shows the 429 then the 200");
	ok(json_equal(json_object_get(json_array_get(l, 0), "raw"),
	    json_object_get(json_array_get(l, 1), "raw")), "the same body "
	    "was sent again");
	json_decref(l);
	free(ts);
	free(ch);
	ts = ch = NULL;

	/* Retry-After: 30 would pass the 10 s budget: fail at once. */
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"status\": 429, \"retry_after\": 30, "
	    "\"times\": 5}]}");
	m = log_mark();
	t0 = mono_ms();
	rc = slack_post(s, CH, "never", &ts, &ch, &err);
	ms = mono_ms() - t0;
	ok(rc == -1, "a 429 asking for 30 s fails (budget 10 s)");
	ok(strstr(err.msg, "429") != NULL && strstr(err.msg,
	    "chat.postMessage") != NULL, "... saying so: %s", err.msg);
	note(&err);
	ok(ms < 3000, "... without waiting (%lld ms)", (long long)ms);
	l = log_since(m);
	is_int(json_array_size(l), 1, "... after one request");
	json_decref(l);
	ctl_do("DELETE", "/_emulator/faults", NULL);
	slack_free(s);

	/* The budget adds up: 1.5 s pays for one wait of 1 s, not two. */
	s = open_client(TOKEN, NULL, 1500);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"reactions.get\", \"status\": 429, \"retry_after\": 1, "
	    "\"times\": 3}]}");
	m = log_mark();
	{
		char **users = NULL;
		size_t n = 0;

		rc = slack_reactions(s, CH, "1700000000.000100",
		    "white_check_mark", &users, &n, &err);
		strv_free(users, n);
	}
	ok(rc == -1 && strstr(err.msg, "429") != NULL, "the second wait "
	    "would pass a 1.5 s budget: %s", err.msg);
	l = log_since(m);
	is_int(json_array_size(l), 2, "... so two requests were made");
	json_decref(l);
	ctl_do("DELETE", "/_emulator/faults", NULL);
	slack_free(s);

	/* A 500 on a POST is retried too (the outbox would resend anyway). */
	s = open_client(TOKEN, NULL, 0);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"status\": 500}]}");
	rc = slack_post(s, CH, "after a 500", &ts, &ch, &err);
	ok(rc == 0, "a single 500 is retried%s%s", rc ? ": " : "",
	    rc ? err.msg : "");
	free(ts);
	free(ch);
	slack_free(s);
}

/* One budget per run (§12): what a client waited, and a client opened
 * with nothing left waits for nothing. */
static void
test_budget(void)
{
	struct slack *s;
	struct diag err;
	char *ts = NULL, *ch = NULL;
	json_t *l;
	int64_t w;
	size_t m;
	int rc;

	is_int(slack_wait_left(0), SLACK_RUN_WAIT_MS, "a fresh run may wait "
	    "10 s");
	is_int(slack_wait_left(6500), SLACK_RUN_WAIT_MS - 6500, "after "
	    "6.5 s, what is left");
	is_int(slack_wait_left(SLACK_RUN_WAIT_MS), -1, "a spent budget: no "
	    "waiting at all");
	is_int(slack_wait_left(14000), -1, "an overspent one too");
	is_int(slack_waited_ms(NULL), 0, "no client waited nothing");

	s = open_client(TOKEN, NULL, 0);
	is_int(slack_waited_ms(s), 0, "a new client has waited nothing");
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"status\": 429, \"retry_after\": 1}]}");
	rc = slack_post(s, CH, "budget", &ts, &ch, &err);
	w = slack_waited_ms(s);
	ok(rc == 0 && w >= 1000 && w <= 1200, "one Retry-After: 1 is counted "
	    "(%lld ms)", (long long)w);
	free(ts);
	free(ch);
	ts = ch = NULL;
	rc = slack_post(s, CH, "budget 2", &ts, &ch, &err);
	ok(rc == 0 && slack_waited_ms(s) == w, "a call without a wait adds "
	    "nothing");
	free(ts);
	free(ch);
	ts = ch = NULL;
	slack_free(s);

	/* Nothing left: the 429 is not retried. */
	s = open_client(TOKEN, NULL, -1);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"chat.postMessage\", \"status\": 429, \"retry_after\": 1}]}");
	m = log_mark();
	rc = slack_post(s, CH, "never", &ts, &ch, &err);
	ok(rc == -1 && strstr(err.msg, "429") != NULL, "with no budget left "
	    "a 429 fails: %s", err.msg);
	l = log_since(m);
	is_int(json_array_size(l), 1, "... after one request");
	json_decref(l);
	is_int(slack_waited_ms(s), 0, "... having waited nothing");
	ctl_do("DELETE", "/_emulator/faults", NULL);
	slack_free(s);

	/* The webhook keeps its own count, in the same total. */
	s = open_client(NULL, hook_url, -1);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 429, \"retry_after\": 1}]}");
	m = log_mark();
	rc = slack_webhook(s, "never", &err);
	ok(rc == -1 && strstr(err.msg, "HTTP 429") != NULL, "a webhook with "
	    "no budget left fails on a 429: %s", err.msg);
	l = log_since(m);
	is_int(json_array_size(l), 1, "... after one request");
	json_decref(l);
	ctl_do("DELETE", "/_emulator/faults", NULL);
	slack_free(s);
	s = open_client(NULL, hook_url, 0);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 429, \"retry_after\": 1}]}");
	rc = slack_webhook(s, "after a 429", &err);
	w = slack_waited_ms(s);
	ok(rc == 0 && w >= 1000 && w < 2000, "a webhook's wait is counted "
	    "(%lld ms)", (long long)w);
	ctl_do("DELETE", "/_emulator/faults", NULL);
	slack_free(s);
}

static void
test_reactions(struct slack *s)
{
	struct diag err;
	char *ts = NULL, *ch = NULL, **users = NULL;
	json_t *l, *e;
	size_t n = 0, m;
	int rc;

	rc = slack_post(s, CH, "approve me", &ts, &ch, &err);
	ok(rc == 0, "a message to react to");
	if (rc != 0)
		return;
	rc = slack_reactions(s, CH, ts, "white_check_mark", &users, &n, &err);
	ok(rc == 0 && n == 0 && users != NULL, "no reactions: an empty list "
	    "(the answer has no \"reactions\")");
	strv_free(users, n);
	react(ts, "white_check_mark", "U1");
	react(ts, "x", "U3");
	react(ts, "white_check_mark", "U2");
	react(ts, "white_check_mark::skin-tone-3", "U4");
	react(ts, "white_check_mark::skin-tone-2", "U2");
	react(ts, "heavy_check_mark", "U3");
	/* Without full=true the emulator would list one user per emoji. */
	ctl_do("PUT", "/_emulator/config", "{\"users_without_full\": 1}");
	m = log_mark();
	rc = slack_reactions(s, CH, ts, "white_check_mark", &users, &n, &err);
	ok(rc == 0, "reactions.get succeeds%s%s", rc ? ": " : "",
	    rc ? err.msg : "");
	is_int(n, 3, "three people reacted with the emoji (skin tones "
	    "included, each once)");
	if (n == 3) {
		is_str(users[0], "U1", "in order: U1");
		is_str(users[1], "U2", "U2");
		is_str(users[2], "U4", "U4 (a skin tone)");
	}
	strv_free(users, n);
	l = log_since(m);
	e = json_array_get(l, 0);
	is_str(e_str(e, "method"), "GET", "reactions.get is a GET");
	is_str(e_str(e, "path"), "/api/reactions.get", "path");
	is_str(e_q(e, "channel"), CH, "channel=");
	is_str(e_q(e, "timestamp"), ts, "timestamp= the ts string");
	is_str(e_q(e, "full"), "true", "full=true");
	ok(e_str(e, "raw") == NULL, "no body");
	json_decref(l);
	rc = slack_reactions(s, CH, ts, ":x:", &users, &n, &err);
	ok(rc == 0 && n == 1 && strcmp(users[0], "U3") == 0, "another emoji, "
	    "with colons");
	strv_free(users, n);
	ctl_do("PUT", "/_emulator/config", "{\"users_without_full\": 50}");
	rc = slack_reactions(s, CH, "1700000099.000100", "white_check_mark",
	    &users, &n, &err);
	expect_fail(rc, &err, "slack: reactions.get: message_not_found",
	    "an unknown message");
	rc = slack_reactions(s, CH, "not-a-ts", "white_check_mark", &users,
	    &n, &err);
	expect_fail(rc, &err, "slack: reactions.get: bad_timestamp",
	    "a bad timestamp");
	free(ts);
	free(ch);
}

static void
test_users(struct slack *s)
{
	struct slack_user u;
	struct diag err;
	char *email = NULL;
	size_t m;
	json_t *l, *e;
	int rc;

	m = log_mark();
	rc = slack_user_email(s, "U1", &email, &err);
	ok(rc == 0 && email && strcmp(email, "alice@example.com") == 0,
	    "users.info gives the profile email");
	free(email);
	l = log_since(m);
	e = json_array_get(l, 0);
	is_str(e_str(e, "path"), "/api/users.info", "users.info path");
	is_str(e_q(e, "user"), "U1", "user=U1");
	is_str(e_hdr(e, "Authorization"), "Bearer " TOKEN, "with the token");
	json_decref(l);
	rc = slack_user_info(s, "U1", &u, &err);
	ok(rc == 0, "slack_user_info");
	is_str(u.real_name, "Alice Adams", "real name");
	is_str(u.email, "alice@example.com", "email again");
	slack_user_release(&u);
	is_int(log_mark() - m, 1, "asked once: the second answer came from "
	    "the cache");
	rc = slack_user_email(s, "U3", &email, &err);
	ok(rc == 0 && email == NULL, "no email in the profile: NULL");
	rc = slack_user_email(s, "UBOT1", &email, &err);
	ok(rc == 0 && email == NULL, "a bot: NULL");
	rc = slack_user_info(s, "UBOT1", &u, &err);
	ok(rc == 0 && u.is_bot, "a bot is flagged");
	slack_user_release(&u);
	rc = slack_user_email(s, "U4", &email, &err);
	ok(rc == 0 && email == NULL, "a deactivated account: NULL");
	rc = slack_user_email(s, "U9", &email, &err);
	expect_fail(rc, &err, "slack: users.info: user_not_found",
	    "an unknown user");
}

static void
test_webhook(void)
{
	struct slack *s;
	struct diag err;
	char wrong[160], closed[160];
	json_t *l, *e;
	size_t m;
	int64_t t0, ms;
	int rc;

	s = open_client(NULL, hook_url, 0);
	m = log_mark();
	rc = slack_webhook(s, "granted: \xc3\xa9 \"q\"", &err);
	ok(rc == 0, "the webhook answers ok%s%s", rc ? ": " : "",
	    rc ? err.msg : "");
	l = log_since(m);
	e = json_array_get(l, 0);
	is_int(json_array_size(l), 1, "one request");
	is_str(e_str(e, "path"), "/services/T000/B000/XXXX", "webhook path");
	is_str(e_str(e, "raw"), "{\"text\":\"granted: \xc3\xa9 \\\"q\\\"\"}",
	    "exact body {\"text\"}");
	is_str(e_hdr(e, "Content-Type"), "application/json; charset=utf-8",
	    "Content-Type");
	ok(e_hdr(e, "Authorization") == NULL, "no Authorization header");
	json_decref(l);

	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 429, \"retry_after\": 1}]}");
	t0 = mono_ms();
	rc = slack_webhook(s, "after a 429", &err);
	ms = mono_ms() - t0;
	ok(rc == 0 && ms >= 1000 && ms < 5000, "a webhook 429 with "
	    "Retry-After: 1 is waited out (%lld ms)%s%s", (long long)ms,
	    rc ? ": " : "", rc ? err.msg : "");
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 429, \"retry_after\": 60}]}");
	t0 = mono_ms();
	rc = slack_webhook(s, "never", &err);
	ms = mono_ms() - t0;
	ok(rc == -1 && strstr(err.msg, "HTTP 429") != NULL && ms < 3000,
	    "a webhook 429 for 60 s fails at once: %s", err.msg);
	note(&err);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 400}]}");
	rc = slack_webhook(s, "bad", &err);
	expect_fail(rc, &err, "slack: webhook: HTTP 400: invalid_payload",
	    "an invalid_payload answer");
	slack_free(s);

	snprintf(wrong, sizeof(wrong), "%s/services/T000/B000/WRONGSECRET",
	    emu_url);
	s = open_client(NULL, wrong, 0);
	rc = slack_webhook(s, "x", &err);
	expect_fail(rc, &err, "slack: webhook: HTTP 404: no_service",
	    "an unknown webhook");
	ok(strstr(err.msg, "WRONGSECRET") == NULL, "the URL is not quoted");
	slack_free(s);

	/* A closed port: connection refused, retried within a small budget,
	 * and the URL (its secret path) never quoted. */
	snprintf(closed, sizeof(closed), "http://127.0.0.1:9/services/T1/B1/"
	    "CLOSEDSECRET");
	s = open_client(NULL, closed, 600);
	rc = slack_webhook(s, "x", &err);
	ok(rc == -1 && strstr(err.msg, "CLOSEDSECRET") == NULL &&
	    strstr(err.msg, "slack: webhook: ") == err.msg,
	    "connection refused: %s", err.msg);
	note(&err);
	slack_free(s);
}

/* At -vv the HTTP trace shows every request: never the token, never
 * the webhook URL. */
static void
test_trace(void)
{
	struct slack *s;
	struct diag err;
	char path[700], *ts = NULL, *ch = NULL, text[65536];
	size_t n = 0;
	int fd, saved;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace.txt", tap_tmpdir());
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0) {
		ok(0, "capture stderr");
		return;
	}
	dup2(fd, 2);
	close(fd);
	log_verbosity = 2;
	s = open_client(TOKEN, hook_url, 0);
	slack_post(s, CH, "traced", &ts, &ch, &err);
	slack_webhook(s, "traced", &err);
	ctl_do("POST", "/_emulator/faults", "{\"faults\": [{\"path\": "
	    "\"^/services/\", \"status\": 500, \"retry_after\": 60}]}");
	slack_webhook(s, "traced", &err);
	slack_free(s);
	log_verbosity = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	free(ts);
	free(ch);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	ok(strstr(text, "chat.postMessage") != NULL && strstr(text,
	    "webhook") != NULL, "-vv traces both calls");
	ok(strstr(text, TOKEN) == NULL && strstr(text, "s3cretT0ken") == NULL,
	    "... without the token");
	ok(strstr(text, "/services/") == NULL && strstr(text, "XXXX") == NULL,
	    "... without the webhook URL");
}

int
main(void)
{
	struct slack *s;

	signal(SIGPIPE, SIG_IGN);
	atexit(stop_all);
	buf_init(&said, 0);
	if (emu_start() == -1) {
		ok(0, "the Slack emulator starts");
		return tap_done();
	}
	test_open();
	s = open_client(TOKEN, NULL, 0);
	ok(s != NULL, "slack_open");
	if (s == NULL)
		return tap_done();
	test_post(s);
	test_errors(s);
	test_reactions(s);
	test_users(s);
	slack_free(s);
	test_ratelimit();
	test_budget();
	test_webhook();
	test_trace();
	ok(strstr(buf_cstr(&said), TOKEN) == NULL &&
	    strstr(buf_cstr(&said), "s3cretT0ken") == NULL,
	    "the token is in no message");
	ok(strstr(buf_cstr(&said), "/services/") == NULL,
	    "no webhook URL in any message");
	return tap_done();
}
