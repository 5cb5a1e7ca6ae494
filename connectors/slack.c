/*
 * Slack transport (include/slack.h): the Web API methods accord needs
 * (chat.postMessage, reactions.get, users.info) through the shared HTTP
 * client, and incoming webhooks through libcurl directly.  Web API
 * answers come as HTTP 200 {"ok": false, "error": "..."} on failure;
 * those become "slack: METHOD: error" messages.  A 429 (or 5xx, or a
 * dropped connection) is retried honouring Retry-After only while the
 * total wait stays within max_wait_ms: the HTTP client's retry budget is
 * set to it, and the webhook path keeps its own count against the same
 * limit.  Both counts add up to slack_waited_ms(), which the run uses to
 * open its next client with what is left of its one budget (§12).  A POST is retried too: Slack refuses a rate-limited call
 * before doing anything, and after a 5xx the outbox would send the same
 * message again at the next run anyway.
 *
 * Secrets: the bot token travels only in the Authorization header (which
 * the HTTP client's trace redacts), and the webhook URL embeds a secret,
 * so it never goes through the HTTP client (whose messages and -vv trace
 * name the path) and never reaches a message or the trace.  Every
 * message a public function leaves in err is scrubbed of both.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "slack.h"
#include "util.h"

#define SLACK_API_DEFAULT "https://slack.com/api"
#define SLACK_TIMEOUT_MS 10000L
#define SLACK_MAX_WAIT_MS 10000
#define SLACK_BODY_MAX ((size_t)4 * 1024 * 1024)
#define HOOK_BODY_MAX ((size_t)64 * 1024)
#define HOOK_BACKOFF_FIRST_MS 500
#define HOOK_BACKOFF_MAX_MS 5000
#define ERROR_CODE_MAX 80
#define REDACTED "[redacted]"

struct slack {
	struct http *api;
	char *token;
	char *auth_header;	/* "Authorization: Bearer ..." */
	char *webhook_url;
	char *webhook_secret;	/* the URL's path: what must never show */
	char *ca_file;
	long timeout_ms;
	int64_t max_wait_ms;	/* 0: no waiting */
	int64_t api_waited_ms;	/* Web API: sum of http_resp.waited_ms */
	int64_t hook_waited_ms;
	struct slack_user *users;	/* users.info cache */
	size_t nusers, ausers;
};

/* --- secrets ------------------------------------------------------------- */

static void
scrub_one(char *msg, size_t cap, const char *secret)
{
	struct buf o = BUF_INIT;
	const char *p, *q;
	size_t n;

	if (secret == NULL || (n = strlen(secret)) < 4 ||
	    strstr(msg, secret) == NULL)
		return;
	buf_init(&o, 0);
	for (p = msg; (q = strstr(p, secret)) != NULL; p = q + n) {
		buf_add(&o, p, (size_t)(q - p));
		buf_puts(&o, REDACTED);
	}
	buf_puts(&o, p);
	snprintf(msg, cap, "%s", buf_cstr(&o));
	buf_release(&o);
}

/* Remove the token and the webhook URL from err's message. */
static int
scrub(struct slack *s, struct diag *err)
{
	scrub_one(err->msg, sizeof(err->msg), s->token);
	scrub_one(err->msg, sizeof(err->msg), s->webhook_url);
	scrub_one(err->msg, sizeof(err->msg), s->webhook_secret);
	return -1;
}

/* An error code as Slack spells them (snake_case), else "?". */
static void
error_code(char *out, size_t outsz, const char *code)
{
	size_t i;

	if (code == NULL || *code == '\0' || strlen(code) >= outsz ||
	    strlen(code) > ERROR_CODE_MAX) {
		snprintf(out, outsz, "%s", code == NULL ? "no error given" : "?");
		return;
	}
	for (i = 0; code[i]; i++)
		if (!isalnum((unsigned char)code[i]) && strchr("_.:-,",
		    code[i]) == NULL) {
			snprintf(out, outsz, "?");
			return;
		}
	snprintf(out, outsz, "%s", code);
}

/* --- URLs ------------------------------------------------------------------ */

static int
host_is_loopback(const char *host)
{
	int dots = 0;
	const char *p;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; *p; p++) {
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			return 0;
	}
	return dots == 3;
}

/* https anywhere, http to loopback; sets *path to the URL's path (a new
 * string) for scrubbing.  Messages never quote the URL. */
static int
hook_url_check(const char *url, char **path, struct diag *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *p = NULL;
	int rc = -1;

	*path = NULL;
	if ((u = curl_url()) == NULL)
		return diag_set(err, "slack: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		diag_set(err, "slack: the webhook URL is not a valid URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 && host_is_loopback(host))) {
		diag_set(err, "slack: the webhook URL must be https (plain http "
		    "is allowed only to loopback addresses)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK &&
	    strlen(p) > 1)
		*path = xstrdup(p);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

/* --- the handle ---------------------------------------------------------- */

int
slack_open(struct slack **out, const struct slack_opts *o, struct diag *err)
{
	struct http_opts ho;
	struct slack *s;
	const char *p;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : SLACK_TIMEOUT_MS;
	s->max_wait_ms = o->max_wait_ms > 0 ? o->max_wait_ms :
	    o->max_wait_ms < 0 ? 0 : SLACK_MAX_WAIT_MS;
	if (o->token != NULL && *o->token != '\0') {
		for (p = o->token; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				slack_free(s);
				return diag_set(err, "slack: the bot token holds "
				    "a space or control character");
			}
		s->token = xstrdup(o->token);
		s->auth_header = xasprintf("Authorization: Bearer %s", o->token);
	}
	s->ca_file = xstrdup(o->ca_file);
	memset(&ho, 0, sizeof(ho));
	ho.platform = "slack";
	ho.base_url = o->api_url && *o->api_url ? o->api_url : SLACK_API_DEFAULT;
	ho.ca_file = o->ca_file;
	ho.timeout_ms = s->timeout_ms;
	ho.connect_timeout_ms = s->timeout_ms;
	ho.max_body = SLACK_BODY_MAX;
	/* The HTTP client reads a negative budget as "never wait". */
	ho.retry_budget_ms = s->max_wait_ms > 0 ? s->max_wait_ms : -1;
	ho.concurrency = 1;
	if (http_open(&s->api, &ho, err) == -1) {
		slack_free(s);
		return -1;
	}
	if (o->webhook_url != NULL && *o->webhook_url != '\0') {
		if (hook_url_check(o->webhook_url, &s->webhook_secret, err)
		    == -1) {
			slack_free(s);
			return -1;
		}
		s->webhook_url = xstrdup(o->webhook_url);
	}
	*out = s;
	return 0;
}

void
slack_user_release(struct slack_user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->email);
	free(u->real_name);
	memset(u, 0, sizeof(*u));
}

int64_t
slack_wait_left(int64_t run_waited_ms)
{
	if (run_waited_ms < 0)
		run_waited_ms = 0;
	return run_waited_ms < SLACK_RUN_WAIT_MS ?
	    SLACK_RUN_WAIT_MS - run_waited_ms : -1;
}

int64_t
slack_waited_ms(const struct slack *s)
{
	return s == NULL ? 0 : s->api_waited_ms + s->hook_waited_ms;
}

void
slack_free(struct slack *s)
{
	size_t i;

	if (s == NULL)
		return;
	http_free(s->api);
	free(s->token);
	if (s->auth_header != NULL) {
		memset(s->auth_header, 0, strlen(s->auth_header));
		free(s->auth_header);
	}
	free(s->webhook_url);
	free(s->webhook_secret);
	free(s->ca_file);
	for (i = 0; i < s->nusers; i++)
		slack_user_release(&s->users[i]);
	free(s->users);
	free(s);
}

/* --- Web API ------------------------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * One Web API call.  query (may be NULL) is appended after '?'; body (may
 * be NULL) is sent as JSON.  Returns the parsed answer when it says ok,
 * else NULL with err set ("slack: METHOD: error_code").
 */
static json_t *
call(struct slack *s, const char *method, const char *verb, const char *query,
    const char *body, struct diag *err)
{
	const char *headers[3];
	struct http_req rq;
	struct http_resp rs;
	json_t *j, *v;
	char code[ERROR_CODE_MAX + 8], scope[ERROR_CODE_MAX + 8];
	char extra[ERROR_CODE_MAX + 32] = "", *path, *what;
	const char *needed;
	int64_t t0;
	size_t i;

	if (s->token == NULL) {
		diag_set(err, "slack: %s: no bot token configured", method);
		return NULL;
	}
	path = query ? xasprintf("/%s?%s", method, query) :
	    xasprintf("/%s", method);
	headers[0] = s->auth_header;
	headers[1] = "Accept: application/json";
	headers[2] = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = verb;
	rq.path = path;
	rq.headers = headers;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	rq.content_type = body ? "application/json; charset=utf-8" : NULL;
	rq.retry_unsafe = 1;
	t0 = mono_ms();
	if (http_do(s->api, &rq, &rs, err) == -1) {
		/* No answer: rs (and its waited_ms) is gone; count the
		 * whole call, an upper bound of what it waited. */
		s->api_waited_ms += mono_ms() - t0;
		free(path);
		return NULL;
	}
	s->api_waited_ms += rs.waited_ms;
	if (rs.status != 200) {
		/* A 429 past the budget lands here too: http_fail says
		 * how many attempts and that the budget is used up. */
		http_fail(err, s->api, &rq, &rs);
		http_resp_release(&rs);
		free(path);
		return NULL;
	}
	what = xasprintf("slack: %s", method);
	j = http_json(&rs, what, err);
	free(what);
	http_resp_release(&rs);
	free(path);
	if (j == NULL)
		return NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		diag_set(err, "slack: %s: the answer is not a JSON object",
		    method);
		return NULL;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		error_code(code, sizeof(code),
		    json_string_value(json_object_get(j, "error")));
		needed = json_string_value(json_object_get(j, "needed"));
		if (needed != NULL && strcmp(code, "missing_scope") == 0) {
			error_code(scope, sizeof(scope), needed);
			snprintf(extra, sizeof(extra), " (needed %s)", scope);
		}
		json_decref(j);
		diag_set(err, "slack: %s: %s%s", method, code, extra);
		return NULL;
	}
	v = json_object_get(json_object_get(j, "response_metadata"),
	    "warnings");
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
		if (json_is_string(json_array_get(v, i)))
			log_debug("slack: %s: warning: %.80s", method,
			    json_string_value(json_array_get(v, i)));
	return j;
}

int
slack_post(struct slack *s, const char *channel, const char *text,
    char **ts, char **channel_id, struct diag *err)
{
	json_t *rq, *t, *j;
	const char *vts, *vch;
	char *body;

	*ts = NULL;
	*channel_id = NULL;
	if (channel == NULL || *channel == '\0')
		return diag_set(err, "slack: chat.postMessage: no channel");
	if (text == NULL || *text == '\0')
		return diag_set(err, "slack: chat.postMessage: no text");
	if ((t = json_string(text)) == NULL)
		return diag_set(err, "slack: chat.postMessage: the text is not "
		    "valid UTF-8");
	rq = json_object();
	if (json_object_set_new(rq, "channel", json_string(channel)) == -1) {
		json_decref(t);
		json_decref(rq);
		return diag_set(err, "slack: chat.postMessage: the channel is "
		    "not valid UTF-8");
	}
	json_object_set_new(rq, "text", t);
	json_object_set_new(rq, "unfurl_links", json_false());
	body = json_dumps(rq, JSON_COMPACT);
	json_decref(rq);
	if (body == NULL)
		return diag_set(err, "slack: chat.postMessage: out of memory");
	j = call(s, "chat.postMessage", "POST", NULL, body, err);
	free(body);
	if (j == NULL)
		return scrub(s, err);
	vts = json_string_value(json_object_get(j, "ts"));
	vch = json_string_value(json_object_get(j, "channel"));
	if (vts == NULL || *vts == '\0' || vch == NULL || *vch == '\0') {
		json_decref(j);
		return diag_set(err, "slack: chat.postMessage: the answer has "
		    "no ts or channel");
	}
	*ts = xstrdup(vts);
	*channel_id = xstrdup(vch);
	json_decref(j);
	return 0;
}

/* "+1::skin-tone-2" counts as "+1": Slack lists each skin tone apart. */
static int
emoji_matches(const char *name, const char *emoji)
{
	size_t n = strlen(emoji);

	if (strcmp(name, emoji) == 0)
		return 1;
	return strncmp(name, emoji, n) == 0 &&
	    strncmp(name + n, "::skin-tone-", 12) == 0;
}

int
slack_reactions(struct slack *s, const char *channel, const char *ts,
    const char *emoji, char ***users, size_t *n, struct diag *err)
{
	json_t *j, *rs, *r, *us;
	const char *name, *u;
	char *ech, *ets, *q, *want;
	char **out = NULL;
	size_t i, k, m, cnt = 0, alloc = 0, name_len;

	*users = NULL;
	*n = 0;
	if (channel == NULL || *channel == '\0' || ts == NULL || *ts == '\0')
		return diag_set(err, "slack: reactions.get: no channel or ts");
	if (emoji == NULL || *emoji == '\0')
		return diag_set(err, "slack: reactions.get: no emoji");
	/* ":white_check_mark:" and "white_check_mark" alike. */
	name_len = strlen(emoji);
	if (name_len >= 2 && emoji[0] == ':' && emoji[name_len - 1] == ':')
		want = xstrndup(emoji + 1, name_len - 2);
	else
		want = xstrdup(emoji);
	ech = http_escape(channel);
	ets = http_escape(ts);
	q = xasprintf("channel=%s&timestamp=%s&full=true", ech, ets);
	free(ech);
	free(ets);
	j = call(s, "reactions.get", "GET", q, NULL, err);
	free(q);
	if (j == NULL) {
		free(want);
		return scrub(s, err);
	}
	/* "reactions" is absent when nobody reacted. */
	rs = json_object_get(json_object_get(j, "message"), "reactions");
	if (rs != NULL && !json_is_array(rs)) {
		json_decref(j);
		free(want);
		return diag_set(err, "slack: reactions.get: message.reactions "
		    "is not an array");
	}
	for (i = 0; rs != NULL && i < json_array_size(rs); i++) {
		r = json_array_get(rs, i);
		name = json_string_value(json_object_get(r, "name"));
		if (name == NULL) {
			json_decref(j);
			strv_free(out, cnt);
			free(want);
			return diag_set(err, "slack: reactions.get: a reaction "
			    "without a name");
		}
		if (!emoji_matches(name, want))
			continue;
		us = json_object_get(r, "users");
		for (k = 0; json_is_array(us) && k < json_array_size(us); k++) {
			if ((u = json_string_value(json_array_get(us, k))) ==
			    NULL || *u == '\0')
				continue;
			for (m = 0; m < cnt; m++)
				if (strcmp(out[m], u) == 0)
					break;
			if (m < cnt)
				continue;
			out = xgrow(out, sizeof(*out), cnt + 1, &alloc);
			out[cnt++] = xstrdup(u);
		}
	}
	json_decref(j);
	free(want);
	*users = out != NULL ? out : xcalloc(1, sizeof(*out));
	*n = cnt;
	return 0;
}

static char *
dup_nonempty(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

int
slack_user_info(struct slack *s, const char *user, struct slack_user *u,
    struct diag *err)
{
	json_t *j, *ju, *prof;
	struct slack_user *c;
	char *eu, *q;
	size_t i;

	memset(u, 0, sizeof(*u));
	if (user == NULL || *user == '\0')
		return diag_set(err, "slack: users.info: no user id");
	for (i = 0; i < s->nusers; i++)
		if (strcmp(s->users[i].id, user) == 0)
			break;
	if (i == s->nusers) {
		eu = http_escape(user);
		q = xasprintf("user=%s", eu);
		free(eu);
		j = call(s, "users.info", "GET", q, NULL, err);
		free(q);
		if (j == NULL)
			return scrub(s, err);
		ju = json_object_get(j, "user");
		if (!json_is_object(ju)) {
			json_decref(j);
			return diag_set(err, "slack: users.info: the answer has "
			    "no user");
		}
		prof = json_object_get(ju, "profile");
		s->users = xgrow(s->users, sizeof(*s->users), s->nusers + 1,
		    &s->ausers);
		c = &s->users[s->nusers++];
		memset(c, 0, sizeof(*c));
		c->id = xstrdup(user);
		c->is_bot = json_is_true(json_object_get(ju, "is_bot"));
		c->deleted = json_is_true(json_object_get(ju, "deleted"));
		if (!c->is_bot && !c->deleted)
			c->email = dup_nonempty(json_object_get(prof, "email"));
		c->real_name = dup_nonempty(json_object_get(prof, "real_name"));
		if (c->real_name == NULL)
			c->real_name = dup_nonempty(json_object_get(ju,
			    "real_name"));
		json_decref(j);
	}
	c = &s->users[i];
	u->id = xstrdup(c->id);
	u->email = xstrdup(c->email);
	u->real_name = xstrdup(c->real_name);
	u->is_bot = c->is_bot;
	u->deleted = c->deleted;
	return 0;
}

int
slack_user_email(struct slack *s, const char *user, char **email,
    struct diag *err)
{
	struct slack_user u;

	*email = NULL;
	if (slack_user_info(s, user, &u, err) == -1)
		return -1;
	*email = u.email;
	u.email = NULL;
	slack_user_release(&u);
	return 0;
}

/* --- incoming webhook ------------------------------------------------------ */

struct hook_xfer {
	struct buf body;
	char *retry_after;
};

static size_t
hook_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct hook_xfer *x = arg;

	if (buf_add(&x->body, p, size * n) == -1)
		return 0;
	return size * n;
}

static size_t
hook_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct hook_xfer *x = arg;
	size_t len = size * n, k = strlen("Retry-After:");

	if (len > k && strncasecmp(p, "Retry-After:", k) == 0) {
		p += k;
		len -= k;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
		    p[len - 1] == ' '))
			len--;
		free(x->retry_after);
		x->retry_after = xstrndup(p, len);
	}
	return size * n;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec t;

	t.tv_sec = (time_t)(ms / 1000);
	t.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

/* A short, printable excerpt of a plain-text answer. */
static void
text_excerpt(char *out, size_t outsz, const struct buf *b)
{
	size_t i, k = 0;

	for (i = 0; i < b->len && k + 1 < outsz && k < 100; i++) {
		unsigned char c = (unsigned char)b->ptr[i];
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

static int
hook_retryable(CURLcode cc, long st)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
		    cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
		    cc == CURLE_GOT_NOTHING || cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_COULDNT_RESOLVE_HOST;
	return st == 408 || st == 429 || st == 500 || st == 502 ||
	    st == 503 || st == 504;
}

int
slack_webhook(struct slack *s, const char *text, struct diag *err)
{
	struct hook_xfer x;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE], ex[128], waits[32];
	json_t *rq, *t;
	char *body = NULL;
	CURL *e = NULL;
	CURLcode cc;
	long st = 0;
	int attempt = 0, rc = -1;
	int64_t wait, ra;

	memset(&x, 0, sizeof(x));
	buf_init(&x.body, HOOK_BODY_MAX);
	if (s->webhook_url == NULL) {
		diag_set(err, "slack: webhook: no webhook URL configured");
		goto out;
	}
	if (text == NULL || *text == '\0') {
		diag_set(err, "slack: webhook: no text");
		goto out;
	}
	if ((t = json_string(text)) == NULL) {
		diag_set(err, "slack: webhook: the text is not valid UTF-8");
		goto out;
	}
	rq = json_object();
	json_object_set_new(rq, "text", t);
	body = json_dumps(rq, JSON_COMPACT);
	json_decref(rq);
	if (body == NULL || (e = curl_easy_init()) == NULL) {
		diag_set(err, "slack: webhook: out of memory");
		goto out;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json; "
	    "charset=utf-8");
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (;;) {
		attempt++;
		buf_reset(&x.body);
		free(x.retry_after);
		x.retry_after = NULL;
		errbuf[0] = '\0';
		curl_easy_reset(e);
		curl_easy_setopt(e, CURLOPT_URL, s->webhook_url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
		if (s->ca_file != NULL)
			curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->timeout_ms);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "accord/0.1");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, hook_on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, hook_on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		cc = curl_easy_perform(e);
		st = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
		log_debug("slack: webhook: POST (URL withheld): %s",
		    cc == CURLE_OK ? "answered" : curl_easy_strerror(cc));
		if (cc == CURLE_OK && st == 200) {
			/* Slack answers the plain text "ok". */
			if (x.body.len >= 2 && strncmp(x.body.ptr, "ok", 2) == 0) {
				rc = 0;
				goto out;
			}
			text_excerpt(ex, sizeof(ex), &x.body);
			diag_set(err, "slack: webhook: HTTP 200 but the answer "
			    "is not \"ok\": '%s'", ex);
			goto out;
		}
		if (!hook_retryable(cc, st))
			break;
		wait = (int64_t)HOOK_BACKOFF_FIRST_MS << (attempt > 4 ? 4 :
		    attempt - 1);
		if (wait > HOOK_BACKOFF_MAX_MS)
			wait = HOOK_BACKOFF_MAX_MS;
		if (x.retry_after != NULL &&
		    (ra = http_retry_after_ms(x.retry_after, time_now())) >= 0)
			wait = ra;
		if (s->hook_waited_ms + wait > s->max_wait_ms) {
			snprintf(waits, sizeof(waits), "%lld.%01lld s",
			    (long long)(s->max_wait_ms / 1000),
			    (long long)(s->max_wait_ms % 1000 / 100));
			if (cc == CURLE_OK) {
				text_excerpt(ex, sizeof(ex), &x.body);
				diag_set(err, "slack: webhook: HTTP %ld%s%s (%d "
				    "attempt%s; the wait budget of %s is used "
				    "up)", st, *ex ? ": " : "", ex, attempt,
				    attempt == 1 ? "" : "s", waits);
			} else
				diag_set(err, "slack: webhook: %s (%d attempt%s; "
				    "the wait budget of %s is used up)",
				    errbuf[0] ? errbuf : curl_easy_strerror(cc),
				    attempt, attempt == 1 ? "" : "s", waits);
			goto out;
		}
		s->hook_waited_ms += wait;
		sleep_ms(wait);
	}
	if (cc != CURLE_OK) {
		diag_set(err, "slack: webhook: %s", errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
	} else {
		text_excerpt(ex, sizeof(ex), &x.body);
		diag_set(err, "slack: webhook: HTTP %ld%s%s", st, *ex ? ": " :
		    "", ex);
	}
out:
	if (e != NULL)
		curl_easy_cleanup(e);
	curl_slist_free_all(hdrs);
	free(body);
	free(x.retry_after);
	buf_release(&x.body);
	if (rc == -1)
		scrub(s, err);
	return rc;
}
