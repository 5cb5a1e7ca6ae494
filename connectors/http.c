/*
 * The HTTP client of every HTTP connector, on libcurl and jansson.  One
 * struct http per connector instance owns a curl multi handle (whose
 * connection cache gives keep-alive) and a pool of at most `concurrency`
 * easy handles, created when first needed and reused.  Every request,
 * single or batched, runs through the same multi loop: a request waiting
 * out its backoff gives its easy handle back, so the retries of one
 * request never hold up the others.  Waits are charged to one retry
 * budget per struct http (one run of one platform, DESIGN §13); once the
 * next wait would pass it, the last answer is returned as it is, or the
 * transport error reported.  Plain http is refused except to loopback,
 * redirects are never followed, TLS is always verified, bodies are capped,
 * and nothing that reaches a message or the -vv trace carries a secret:
 * Authorization and cookie values, bearer tokens, JWTs and token-like
 * JSON, form and query fields are replaced by "[redacted]".
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "http.h"
#include "util.h"
#include "yml.h"

#define USER_AGENT "accord/0.1"
#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define DEFAULT_BUDGET_MS 60000
#define DEFAULT_CONCURRENCY 4
#define MAX_CONCURRENCY 64
#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 10000
#define JITTER_PERCENT 20
#define EXCERPT_MAX 300
/* Redaction needs context around a cut; bodies are examined this far. */
#define EXCERPT_SCAN (16 * 1024)
#define LINK_MAX (64 * 1024)
#define REDACTED "[redacted]"

struct http {
	char *platform;
	char *base_url;
	char *ca_file;
	char *user_agent;
	long connect_timeout_ms, timeout_ms;
	size_t max_body;
	int64_t budget_ms;	/* 0: never wait, never retry */
	int64_t waited_ms;	/* every wait of every request so far */
	int concurrency;
	CURLM *multi;
	CURL *pool[MAX_CONCURRENCY];
	int busy[MAX_CONCURRENCY];
	int npool;
	uint64_t rng;
};

enum xstate { X_READY, X_RUNNING, X_WAITING, X_DONE, X_FAILED };

/* One request on its way through retries. */
struct xfer {
	struct http *h;
	const struct http_req *rq;
	struct http_resp *rs;
	enum xstate state;
	int slot;			/* pool index while running */
	int over;			/* the body passed max_body */
	int gave_up;			/* a retryable answer kept: budget spent */
	struct curl_slist *hdrs;
	char *url;			/* this attempt's URL */
	char *retry_after;
	int64_t start_ms, wake_ms;
	char errbuf[CURL_ERROR_SIZE];
	struct diag err;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
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

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t
rng_next(struct http *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 2685821657736338717ULL;
}

/* "60 s" or "1.5 s". */
static void
secs_format(char *out, size_t outsz, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(out, outsz, "%lld s", (long long)(ms / 1000));
	else
		snprintf(out, outsz, "%.1f s", (double)ms / 1000.0);
}

/* --- redaction -------------------------------------------------------- */

static size_t
prefix_ci(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(s, word, n) == 0 ? n : 0;
}

static int
contains_ci(const char *s, size_t n, const char *word)
{
	size_t m = strlen(word), i;

	for (i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, word, m) == 0)
			return 1;
	return 0;
}

/* A JSON, form or query field whose value is a credential. */
static int
secret_name(const char *s, size_t n)
{
	static const char *const words[] = {
		"password", "passwd", "secret", "token", "assertion",
		"authorization", "cookie", "api_key", "apikey", "api-key",
		"private_key", "privatekey", "credential", "signature", "jwt",
		NULL
	};
	static const char *const exact[] = { "sig", "key", "auth", NULL };
	size_t i;

	for (i = 0; words[i] != NULL; i++)
		if (contains_ci(s, n, words[i]))
			return 1;
	for (i = 0; exact[i] != NULL; i++)
		if (strlen(exact[i]) == n && strncasecmp(s, exact[i], n) == 0)
			return 1;
	return 0;
}

/* A header whose value is a credential. */
static int
secret_header(const char *name, size_t n)
{
	static const char *const names[] = { "authorization",
		"proxy-authorization", "cookie", "set-cookie", NULL };
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return 1;
	if (contains_ci(name, n, "api-key") || contains_ci(name, n, "apikey") ||
	    contains_ci(name, n, "secret") || contains_ci(name, n, "password"))
		return 1;
	return n > 6 && (strncasecmp(name + n - 6, "-token", 6) == 0 ||
	    strncasecmp(name + n - 6, "_token", 6) == 0);
}

static int
is_b64url(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

static int
is_token68(int c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~+/", c) != NULL);
}

/* Length of a JSON string starting at the quote s[0], closing quote
 * included; to the end when unterminated. */
static size_t
json_str_len(const char *s)
{
	size_t i = 1;

	while (s[i] != '\0' && s[i] != '"') {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i++;
		i++;
	}
	return s[i] == '"' ? i + 1 : i;
}

/* "Authorization: x" at the start of a line: name and separator kept. */
static size_t
try_header(const char *s, size_t i, struct buf *o)
{
	size_t n = 0, j;

	if (i > 0 && s[i - 1] != '\n')
		return 0;
	while (isalnum((unsigned char)s[i + n]) || s[i + n] == '-' ||
	    s[i + n] == '_')
		n++;
	if (n == 0 || s[i + n] != ':' || !secret_header(s + i, n))
		return 0;
	j = i + n + 1;
	while (s[j] == ' ' || s[j] == '\t')
		j++;
	buf_add(o, s + i, j - i);
	buf_puts(o, REDACTED);
	while (s[j] != '\0' && s[j] != '\r' && s[j] != '\n')
		j++;
	return j - i;
}

/* "Bearer abc" or "Basic abc=" anywhere: the scheme word kept. */
static size_t
try_scheme(const char *s, size_t i, struct buf *o)
{
	size_t n, j, k;

	if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))
		return 0;
	if ((n = prefix_ci(s + i, "bearer")) == 0 &&
	    (n = prefix_ci(s + i, "basic")) == 0)
		return 0;
	j = i + n;
	if (s[j] != ' ')
		return 0;
	while (s[j] == ' ')
		j++;
	k = j;
	while (is_token68((unsigned char)s[k]))
		k++;
	while (s[k] == '=')
		k++;
	/* "Basic" is also an English word: want something key-like. */
	if (k == j || (n == 5 && k - j < 8))
		return 0;
	buf_add(o, s + i, j - i);
	buf_puts(o, REDACTED);
	return k - i;
}

/* "eyJ...": a JWT (or any base64url JSON) with at least one dot. */
static size_t
try_jwt(const char *s, size_t i, struct buf *o)
{
	size_t j, dots = 0;

	if (strncmp(s + i, "eyJ", 3) != 0 ||
	    (i > 0 && is_b64url((unsigned char)s[i - 1])))
		return 0;
	j = i + 3;
	for (;;) {
		while (is_b64url((unsigned char)s[j]))
			j++;
		if (s[j] != '.' || !is_b64url((unsigned char)s[j + 1]))
			break;
		dots++;
		j++;
	}
	if (dots == 0)
		return 0;
	buf_puts(o, REDACTED);
	return j - i;
}

/* "key": value with a secret-looking key: the value becomes a string. */
static size_t
try_json_field(const char *s, size_t i, struct buf *o)
{
	size_t klen, j, v;

	if (s[i] != '"')
		return 0;
	klen = json_str_len(s + i);
	if (klen < 2 || s[i + klen - 1] != '"' ||
	    !secret_name(s + i + 1, klen - 2))
		return 0;
	j = i + klen;
	while (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')
		j++;
	if (s[j] != ':')
		return 0;
	j++;
	while (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')
		j++;
	if (s[j] == '{' || s[j] == '[')
		return 0;	/* nested fields are looked at one by one */
	buf_add(o, s + i, j - i);
	if (s[j] == '"')
		v = json_str_len(s + j);
	else
		for (v = 0; s[j + v] != '\0' && strchr(",}] \t\r\n", s[j + v]) ==
		    NULL; v++)
			;
	buf_puts(o, "\"" REDACTED "\"");
	return j + v - i;
}

/* name=value in a form body or query string, with a secret-looking name. */
static size_t
try_form_field(const char *s, size_t i, struct buf *o)
{
	size_t n = 0, j;

	if (i > 0 && strchr("&?; \t\r\n,", s[i - 1]) == NULL)
		return 0;
	while (isalnum((unsigned char)s[i + n]) ||
	    (s[i + n] != '\0' && strchr("_.-[]", s[i + n]) != NULL))
		n++;
	if (n == 0 || s[i + n] != '=' || !secret_name(s + i, n))
		return 0;
	j = i + n + 1;
	buf_add(o, s + i, j - i);
	while (s[j] != '\0' && strchr("& \t\r\n\"',;#", s[j]) == NULL)
		j++;
	buf_puts(o, REDACTED);
	return j - i;
}

char *
http_redact(const char *s)
{
	struct buf o = BUF_INIT;
	size_t i = 0, n;

	buf_init(&o, 0);
	if (s == NULL)
		return buf_detach(&o);
	while (s[i] != '\0') {
		if ((n = try_header(s, i, &o)) == 0 &&
		    (n = try_scheme(s, i, &o)) == 0 &&
		    (n = try_jwt(s, i, &o)) == 0 &&
		    (n = try_json_field(s, i, &o)) == 0 &&
		    (n = try_form_field(s, i, &o)) == 0) {
			buf_putc(&o, s[i]);
			n = 1;
		}
		i += n;
	}
	return buf_detach(&o);
}

/* Control characters and DEL as \n, \t, \xHH. */
static void
escape_into(struct buf *o, const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\n')
			buf_puts(o, "\\n");
		else if (c == '\r')
			buf_puts(o, "\\r");
		else if (c == '\t')
			buf_puts(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(o, "\\x%02x", c);
		else
			buf_putc(o, (char)c);
	}
}

/* Bytes [0, n) as a NUL-terminated string, NULs shown as 0x01 (escaped
 * later) so that redaction sees the whole text. */
static char *
text_copy(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = p[i] == '\0' ? '\x01' : p[i];
	s[n] = '\0';
	return s;
}

/* Do not cut a UTF-8 sequence in two. */
static size_t
utf8_cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* The first `max` bytes of a body, redacted and escaped; newly allocated. */
static char *
excerpt_head(const char *p, size_t len, size_t max)
{
	struct buf o = BUF_INIT;
	char *raw, *red;
	size_t n;

	buf_init(&o, 0);
	raw = text_copy(p, len < EXCERPT_SCAN ? len : EXCERPT_SCAN);
	red = http_redact(raw);
	n = strlen(red);
	if (n > max)
		n = utf8_cut(red, max);
	escape_into(&o, red, n);
	if (n < strlen(red) || len > EXCERPT_SCAN)
		buf_puts(&o, "...");
	free(raw);
	free(red);
	return buf_detach(&o);
}

/* The `max` bytes before offset `at`, redacted and escaped. */
static char *
excerpt_before(const char *p, size_t len, size_t at, size_t max)
{
	struct buf o = BUF_INIT;
	size_t from, end, n, start;
	char *raw, *red;

	buf_init(&o, 0);
	end = at + 16 < len ? at + 16 : len;
	from = end > EXCERPT_SCAN ? end - EXCERPT_SCAN : 0;
	raw = text_copy(p + from, end - from);
	red = http_redact(raw);
	n = strlen(red);
	start = n > max ? n - max : 0;
	while (start < n && ((unsigned char)red[start] & 0xc0) == 0x80)
		start++;
	if (start > 0 || from > 0)
		buf_puts(&o, "...");
	escape_into(&o, red + start, n - start);
	free(raw);
	free(red);
	return buf_detach(&o);
}

/* Path or URL with userinfo dropped and secret query values redacted. */
static char *
display_target(const char *s)
{
	struct buf o = BUF_INIT;
	const char *scheme_end, *auth, *auth_end, *at, *q, *v;
	char *red;

	buf_init(&o, 0);
	if (s == NULL)
		return buf_detach(&o);
	scheme_end = strstr(s, "://");
	if (scheme_end != NULL && strcspn(s, "/?#") > (size_t)(scheme_end - s)) {
		auth = scheme_end + 3;
		auth_end = auth + strcspn(auth, "/?#");
		at = NULL;
		for (v = auth; v < auth_end; v++)
			if (*v == '@')
				at = v;
		buf_add(&o, s, (size_t)(auth - s));
		s = at ? at + 1 : auth;
	}
	q = strchr(s, '?');
	if (q == NULL) {
		escape_into(&o, s, strlen(s));
		return buf_detach(&o);
	}
	buf_add(&o, s, (size_t)(q - s));
	red = http_redact(q);
	escape_into(&o, red, strlen(red));
	free(red);
	return buf_detach(&o);
}

/* --- URLs --------------------------------------------------------------- */

static int
is_loopback_host(const char *host)
{
	int part = 0, digits = 0;
	long v = 0;
	const char *p;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; ; p++) {
		if (*p >= '0' && *p <= '9') {
			v = v * 10 + (*p - '0');
			if (++digits > 3 || v > 255)
				return 0;
		} else if (*p == '.' || *p == '\0') {
			if (digits == 0)
				return 0;
			part++;
			digits = 0;
			v = 0;
			if (*p == '\0')
				break;
		} else
			return 0;
	}
	return part == 4;
}

/* https anywhere, http to loopback only; checked with curl's own parser,
 * so the host we check is the host curl connects to. */
static int
url_check(const char *platform, const char *url, struct diag *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *shown;
	const char *p;
	int rc = -1;

	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			shown = display_target(url);
			diag_set(err, "platform %s: url '%s' contains a space or "
			    "control character", platform, shown);
			free(shown);
			return -1;
		}
	if ((u = curl_url()) == NULL)
		return diag_set(err, "platform %s: out of memory", platform);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		shown = display_target(url);
		diag_set(err, "platform %s: url '%s' is not an absolute "
		    "https:// URL", platform, shown);
		free(shown);
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0 ||
	    (strcasecmp(scheme, "http") == 0 && is_loopback_host(host)))
		rc = 0;
	else {
		shown = display_target(url);
		diag_set(err, "platform %s: url '%s' must use https (plain "
		    "http is allowed only to loopback addresses)", platform,
		    shown);
		free(shown);
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int
is_absolute(const char *path)
{
	return strncasecmp(path, "https://", 8) == 0 ||
	    strncasecmp(path, "http://", 7) == 0;
}

/* --- options ------------------------------------------------------------ */

static int
opt_duration_ms(const struct yml_doc *doc, const struct yml_node *node,
    const char *key, int64_t *out, struct diag *err)
{
	const char *s = NULL;
	int64_t secs;

	if (yml_str(doc, node, key, 0, &s, err) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (duration_parse(&secs, s) == -1)
		return yml_error(doc, yml_get(node, key), err, "bad %s '%s' "
		    "(use 30s, 5m, 1h)", key, s);
	*out = secs * 1000;
	return 1;
}

int
http_opts_from_config(struct http_opts *o, const char *platform,
    const char *config_path, const struct yml_node *node,
    const char *default_url, struct diag *err)
{
	/* The yml helpers only read the path from the document. */
	struct yml_doc doc = { (char *)(config_path ? config_path : ""), NULL };
	const char *url = NULL;
	int64_t ms = 0;
	long conc = 0;
	int r;

	memset(o, 0, sizeof(*o));
	o->platform = platform;
	if (node == NULL || node->kind != YML_MAP)
		return diag_set(err, "platform %s: settings must be a map",
		    platform);
	if (yml_str(&doc, node, "url", default_url == NULL, &url, err) == -1)
		goto fail;
	if (url != NULL && url_check(platform, url, err) == -1) {
		char msg[DIAG_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return yml_error(&doc, yml_get(node, "url"), err, "%s", msg);
	}
	o->base_url = url ? url : default_url;
	if ((r = opt_duration_ms(&doc, node, "timeout", &ms, err)) == -1)
		goto fail;
	if (r == 1 && ms == 0)
		return yml_error(&doc, yml_get(node, "timeout"), err,
		    "platform %s: timeout must be longer than 0s", platform);
	if (r == 1)
		o->timeout_ms = (long)ms;
	ms = 0;
	if ((r = opt_duration_ms(&doc, node, "retry_budget", &ms, err)) == -1)
		goto fail;
	if (r == 1)
		o->retry_budget_ms = ms;
	if (yml_int(&doc, node, "concurrency", 0, 1, MAX_CONCURRENCY, &conc,
	    err) == -1)
		goto fail;
	o->concurrency = (int)conc;
	if (yml_str(&doc, node, "ca_file", 0, &o->ca_file, err) == -1)
		goto fail;
	return 0;
fail:
	return diag_prefix(err, "platform %s", platform);
}

/* --- the handle ---------------------------------------------------------- */

int
http_open(struct http **out, const struct http_opts *o, struct diag *err)
{
	const char *platform = o->platform ? o->platform : "?";
	struct http *h;
	size_t n;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return diag_set(err, "platform %s: cannot initialise libcurl: "
		    "%s", platform, curl_easy_strerror(global_rc));
	if (o->base_url == NULL || *o->base_url == '\0')
		return diag_set(err, "platform %s: no url", platform);
	if (url_check(platform, o->base_url, err) == -1)
		return -1;
	h = xcalloc(1, sizeof(*h));
	h->platform = xstrdup(platform);
	h->base_url = xstrdup(o->base_url);
	n = strlen(h->base_url);
	while (n > 0 && h->base_url[n - 1] == '/')
		h->base_url[--n] = '\0';
	h->ca_file = xstrdup(o->ca_file);
	h->user_agent = xstrdup(o->user_agent ? o->user_agent : USER_AGENT);
	h->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : DEFAULT_CONNECT_MS;
	h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	h->max_body = o->max_body > 0 ? o->max_body : DEFAULT_MAX_BODY;
	/* Negative: no waiting at all (retry_budget: 0s). */
	h->budget_ms = o->retry_budget_ms > 0 ? o->retry_budget_ms :
	    o->retry_budget_ms < 0 ? 0 : DEFAULT_BUDGET_MS;
	h->concurrency = o->concurrency > 0 ? o->concurrency :
	    DEFAULT_CONCURRENCY;
	if (h->concurrency > MAX_CONCURRENCY)
		h->concurrency = MAX_CONCURRENCY;
	h->rng = ((uint64_t)mono_ms() << 20) ^ (uint64_t)getpid() ^
	    (uint64_t)(uintptr_t)h ^ 0x9e3779b97f4a7c15ULL;
	if ((h->multi = curl_multi_init()) == NULL) {
		http_free(h);
		return diag_set(err, "platform %s: cannot create a curl multi "
		    "handle", platform);
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
	    (long)h->concurrency);
	*out = h;
	return 0;
}

void
http_free(struct http *h)
{
	int i;

	if (h == NULL)
		return;
	for (i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h->platform);
	free(h->base_url);
	free(h->ca_file);
	free(h->user_agent);
	free(h);
}

const char *
http_platform(const struct http *h)
{
	return h->platform;
}

const char *
http_base_url(const struct http *h)
{
	return h->base_url;
}

void
http_resp_release(struct http_resp *rs)
{
	if (rs == NULL)
		return;
	buf_release(&rs->body);
	free(rs->content_type);
	free(rs->link);
	free(rs->location);
	memset(rs, 0, sizeof(*rs));
}

/* --- one transfer --------------------------------------------------------- */

static int
method_idempotent(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	    strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
	    strcmp(m, "OPTIONS") == 0;
}

static int
may_retry(const struct http_req *rq)
{
	return rq->retry_unsafe || method_idempotent(rq->method);
}

static int
status_retryable(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 ||
	    st == 503 || st == 504;
}

static int
curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_add(&x->rs->body, p, size * n) == -1) {
		x->over = 1;
		return 0;	/* curl aborts the transfer */
	}
	return size * n;
}

static void
set_str(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = xstrndup(v, n);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *rs = x->rs;
	size_t len = size * n, k, vlen;
	const char *v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue): forget the last. */
		free(rs->content_type);
		free(rs->link);
		free(rs->location);
		free(x->retry_after);
		rs->content_type = rs->link = rs->location = NULL;
		x->retry_after = NULL;
		return len;
	}
	for (k = 0; k < len && p[k] != ':'; k++)
		;
	if (k == len)
		return len;
	v = p + k + 1;
	vlen = len - k - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (k == 12 && strncasecmp(p, "Content-Type", k) == 0)
		set_str(&rs->content_type, v, vlen);
	else if (k == 8 && strncasecmp(p, "Location", k) == 0)
		set_str(&rs->location, v, vlen);
	else if (k == 11 && strncasecmp(p, "Retry-After", k) == 0)
		set_str(&x->retry_after, v, vlen);
	else if (k == 4 && strncasecmp(p, "Link", k) == 0) {
		/* Several Link fields are one comma-separated list. */
		if (rs->link == NULL)
			set_str(&rs->link, v, vlen);
		else if (strlen(rs->link) + vlen < LINK_MAX) {
			char *joined = xasprintf("%s, %.*s", rs->link,
			    (int)vlen, v);

			free(rs->link);
			rs->link = joined;
		}
	}
	return len;
}

/* Trace a request header, its value hidden when it is a credential. */
static void
trace_header(const char *line)
{
	size_t n = strcspn(line, ":");
	char *red;

	if (line[n] == ':' && secret_header(line, n)) {
		log_debug("> %.*s: " REDACTED, (int)n, line);
		return;
	}
	red = http_redact(line);
	log_debug("> %s", red);
	free(red);
}

static const char *
attempt_path(const struct xfer *x)
{
	if (x->rs->attempts > 0 && x->rq->retry_path != NULL)
		return x->rq->retry_path;
	return x->rq->path;
}

static int
has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (; headers && *headers; headers++)
		if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
			return 1;
	return 0;
}

/* Prepare and hand the transfer to the multi handle.  -1: x->err set. */
static int
xfer_start(struct xfer *x, int slot)
{
	struct http *h = x->h;
	const struct http_req *rq = x->rq;
	const char *path = attempt_path(x), *const *hp, *m = rq->method;
	struct curl_slist *l;
	char *shown, *ct;
	CURL *e;

	free(x->url);
	x->url = NULL;
	if (is_absolute(path)) {
		if (url_check(h->platform, path, &x->err) == -1)
			return -1;
		x->url = xstrdup(path);
	} else
		x->url = xasprintf("%s%s%s", h->base_url,
		    *path == '/' || *path == '?' || *path == '\0' ? "" : "/",
		    path);
	/* A header with a line break would smuggle another header in. */
	for (hp = rq->headers; hp && *hp; hp++)
		if (strpbrk(*hp, "\r\n") != NULL) {
			size_t n = strcspn(*hp, ":");

			return diag_set(&x->err, "platform %s: header %.*s "
			    "contains a line break", h->platform, (int)n, *hp);
		}
	/* Fresh per attempt: the last answer is what the caller gets. */
	buf_reset(&x->rs->body);
	free(x->rs->content_type);
	free(x->rs->link);
	free(x->rs->location);
	free(x->retry_after);
	x->rs->content_type = x->rs->link = x->rs->location = NULL;
	x->retry_after = NULL;
	x->rs->status = 0;
	x->over = 0;
	x->errbuf[0] = '\0';

	e = h->pool[slot];
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (strcmp(m, "GET") == 0 && rq->body == NULL)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "DELETE") == 0 && rq->body == NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(rq->body ? rq->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}

	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	for (hp = rq->headers; hp && *hp; hp++) {
		if ((l = curl_slist_append(x->hdrs, *hp)) == NULL)
			goto oom;
		x->hdrs = l;
	}
	if (rq->body != NULL && !has_header(rq->headers, "Content-Type")) {
		ct = xasprintf("Content-Type: %s", rq->content_type ?
		    rq->content_type : "application/json");
		l = curl_slist_append(x->hdrs, ct);
		free(ct);
		if (l == NULL)
			goto oom;
		x->hdrs = l;
	}
	/* No 100-continue round trip (curl waits up to 1 s for it). */
	if ((l = curl_slist_append(x->hdrs, "Expect:")) == NULL)
		goto oom;
	x->hdrs = l;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);

	if (log_verbosity >= 2) {
		shown = display_target(x->url);
		log_debug("> %s %s", m, shown);
		free(shown);
		for (l = x->hdrs; l != NULL; l = l->next)
			if (strcmp(l->data, "Expect:") != 0)
				trace_header(l->data);
	}
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
		return diag_set(&x->err, "platform %s: cannot start a request",
		    h->platform);
	h->busy[slot] = 1;
	x->slot = slot;
	x->state = X_RUNNING;
	x->start_ms = mono_ms();
	x->rs->attempts++;
	return 0;
oom:
	return diag_set(&x->err, "platform %s: out of memory", h->platform);
}

/* Wait before the next try, or -1 when the budget cannot pay for it. */
static int64_t
next_wait(struct xfer *x)
{
	struct http *h = x->h;
	int retries = x->rs->attempts;	/* 1 before the first retry */
	int64_t base, ra, wait;

	base = (int64_t)BACKOFF_FIRST_MS << (retries > 7 ? 7 : retries - 1);
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	if (x->retry_after != NULL &&
	    (ra = http_retry_after_ms(x->retry_after, time_now())) > base)
		base = ra;
	wait = base + (int64_t)(rng_next(h) % (uint64_t)(base *
	    JITTER_PERCENT / 100 + 1));
	if (h->waited_ms + wait > h->budget_ms)
		return -1;
	return wait;
}

/* Where the error messages point: the first path, never its secrets. */
static char *
what_of(const struct xfer *x)
{
	char *t = display_target(x->rq->path), *s;

	s = xasprintf("platform %s: %s %s", x->h->platform, x->rq->method, t);
	free(t);
	return s;
}

static void
xfer_finish(struct xfer *x, CURLcode cc)
{
	struct http *h = x->h;
	struct http_resp *rs = x->rs;
	char budget[32], *what, *why;
	int64_t wait, ms = mono_ms() - x->start_ms;
	long st = 0;
	int retryable;

	curl_easy_getinfo(h->pool[x->slot], CURLINFO_RESPONSE_CODE, &st);
	curl_multi_remove_handle(h->multi, h->pool[x->slot]);
	h->busy[x->slot] = 0;
	x->slot = -1;
	rs->status = cc == CURLE_OK ? st : 0;
	if (cc == CURLE_OK) {
		log_debug("< %ld (%zu bytes, %lld ms)", st, rs->body.len,
		    (long long)ms);
		why = xasprintf("HTTP %ld", st);
		retryable = status_retryable(st);
	} else if (x->over) {
		why = xasprintf("response body over the limit of %zu bytes",
		    h->max_body);
		retryable = 0;
	} else {
		why = http_redact(x->errbuf[0] ? x->errbuf :
		    curl_easy_strerror(cc));
		log_debug("< error: %s (%lld ms)", why, (long long)ms);
		retryable = curl_retryable(cc);
	}
	if (retryable && may_retry(x->rq)) {
		if ((wait = next_wait(x)) >= 0) {
			h->waited_ms += wait;
			rs->waited_ms += wait;
			what = what_of(x);
			log_debug("%s: %s; retry %d in %lld ms", what, why,
			    rs->attempts, (long long)wait);
			free(what);
			x->wake_ms = mono_ms() + wait;
			x->state = X_WAITING;
			free(why);
			return;
		}
		secs_format(budget, sizeof(budget), h->budget_ms);
		what = what_of(x);
		diag_set(&x->err, "%s: %s (%d attempt%s; the retry budget of "
		    "%s is used up)", what, why, rs->attempts,
		    rs->attempts == 1 ? "" : "s", budget);
		free(what);
		x->gave_up = 1;
		log_info("%s", x->err.msg);
	} else if (cc != CURLE_OK) {
		what = what_of(x);
		diag_set(&x->err, "%s: %s", what, why);
		free(what);
	}
	x->state = cc == CURLE_OK ? X_DONE : X_FAILED;
	free(why);
}

static int
pool_slot(struct http *h)
{
	int i;

	for (i = 0; i < h->npool; i++)
		if (!h->busy[i])
			return i;
	if (h->npool >= h->concurrency)
		return -1;
	if ((h->pool[h->npool] = curl_easy_init()) == NULL)
		return -2;
	return h->npool++;
}

static void
xfer_release(struct xfer *x)
{
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x->retry_after);
	x->hdrs = NULL;
	x->url = x->retry_after = NULL;
}

/*
 * Drive n transfers to their end.  Returns the index of the first that
 * failed, or -1 when every one has a response.
 */
static long
run(struct http *h, struct xfer *xs, size_t n)
{
	CURLMsg *msg;
	struct xfer *x;
	int64_t now, wake;
	int running = 0, still, left, ready, slot;
	size_t i;
	long failed = -1;
	long tmo;
	char *priv;

	for (;;) {
		now = mono_ms();
		for (i = 0; i < n && failed < 0; i++) {
			x = &xs[i];
			if (x->state != X_READY && !(x->state == X_WAITING &&
			    x->wake_ms <= now))
				continue;
			if ((slot = pool_slot(h)) == -1)
				break;
			if (slot == -2) {
				diag_set(&x->err, "platform %s: cannot create a "
				    "curl handle", h->platform);
				x->state = X_FAILED;
			} else if (xfer_start(x, slot) == -1)
				x->state = X_FAILED;
			else {
				running++;
				continue;
			}
			failed = (long)i;
		}
		if (running > 0) {
			curl_multi_perform(h->multi, &still);
			while ((msg = curl_multi_info_read(h->multi, &left))) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, &priv);
				x = (struct xfer *)priv;
				running--;
				xfer_finish(x, msg->data.result);
				if (x->state == X_FAILED && failed < 0)
					failed = (long)(x - xs);
			}
		}
		if (failed >= 0)
			break;
		wake = -1;
		left = ready = 0;
		for (i = 0; i < n; i++) {
			if (xs[i].state == X_READY)
				left = ready = 1;
			if (xs[i].state == X_WAITING) {
				left = 1;
				if (wake < 0 || xs[i].wake_ms < wake)
					wake = xs[i].wake_ms;
			}
		}
		if (running == 0 && !left)
			break;
		now = mono_ms();
		/* A handle just came free: start the next request first. */
		if (ready && running < h->concurrency)
			continue;
		if (running > 0) {
			tmo = 1000;
			if (wake >= 0 && wake - now < tmo)
				tmo = wake - now < 0 ? 0 : (long)(wake - now);
			curl_multi_poll(h->multi, NULL, 0, (int)tmo, NULL);
		} else if (wake > now)
			sleep_ms(wake - now);
	}
	/* On a failure the others are abandoned where they stand. */
	for (i = 0; i < n; i++) {
		if (xs[i].state == X_RUNNING) {
			curl_multi_remove_handle(h->multi, h->pool[xs[i].slot]);
			h->busy[xs[i].slot] = 0;
		}
		xfer_release(&xs[i]);
	}
	return failed;
}

int
http_do_many(struct http *h, const struct http_req *rq, size_t n,
    struct http_resp *out, struct diag *err)
{
	struct xfer *xs;
	size_t i;
	long failed;
	int gave_up = -1;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		buf_init(&out[i].body, h->max_body);
	}
	if (n == 0)
		return 0;
	xs = xcalloc(n, sizeof(*xs));
	for (i = 0; i < n; i++) {
		xs[i].h = h;
		xs[i].rq = &rq[i];
		xs[i].rs = &out[i];
		xs[i].slot = -1;
		xs[i].state = X_READY;
		if (rq[i].method == NULL || rq[i].path == NULL) {
			free(xs);
			return diag_set(err, "platform %s: request %zu has no "
			    "method or path", h->platform, i);
		}
	}
	failed = run(h, xs, n);
	if (failed >= 0) {
		*err = xs[failed].err;
		for (i = 0; i < n; i++)
			http_resp_release(&out[i]);
		free(xs);
		return -1;
	}
	/* The caller decides about a status; say why it is still a 429. */
	for (i = 0; i < n && gave_up < 0; i++)
		if (xs[i].gave_up)
			gave_up = (int)i;
	if (gave_up >= 0)
		*err = xs[gave_up].err;
	free(xs);
	return 0;
}

int
http_do(struct http *h, const struct http_req *rq, struct http_resp *rs,
    struct diag *err)
{
	return http_do_many(h, rq, 1, rs, err);
}

/* --- answers ----------------------------------------------------------- */

json_t *
http_json(const struct http_resp *rs, const char *what, struct diag *err)
{
	json_error_t je;
	json_t *j;
	char *ex;
	size_t at;

	j = json_loadb(rs->body.ptr ? rs->body.ptr : "", rs->body.len, 0, &je);
	if (j != NULL)
		return j;
	at = je.position > 0 ? (size_t)je.position : 0;
	if (at > rs->body.len)
		at = rs->body.len;
	ex = excerpt_before(rs->body.ptr ? rs->body.ptr : "", rs->body.len, at,
	    60);
	diag_set(err, "%s: invalid JSON at line %d column %d: %s, after '%s'",
	    what ? what : "response", je.line, je.column, je.text, ex);
	free(ex);
	return NULL;
}

int
http_fail(struct diag *err, struct http *h, const struct http_req *rq,
    const struct http_resp *rs)
{
	char note[128] = "", budget[32], *where, *ex;

	where = display_target(rq->path);
	if (h != NULL && status_retryable(rs->status) && may_retry(rq) &&
	    rs->attempts > 0) {
		secs_format(budget, sizeof(budget), h->budget_ms);
		snprintf(note, sizeof(note), " (%d attempt%s; the retry "
		    "budget of %s is used up)", rs->attempts,
		    rs->attempts == 1 ? "" : "s", budget);
	}
	ex = excerpt_head(rs->body.ptr ? rs->body.ptr : "", rs->body.len,
	    EXCERPT_MAX);
	diag_set(err, "platform %s: %s %s: HTTP %ld%s%s%s",
	    h ? h->platform : "?", rq->method, where, rs->status, note,
	    *ex ? ": " : "", ex);
	free(where);
	free(ex);
	return -1;
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf o = BUF_INIT;
	unsigned char c;

	buf_init(&o, 0);
	for (; s && *s; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			buf_putc(&o, (char)c);
		else {
			buf_putc(&o, '%');
			buf_putc(&o, hex[c >> 4]);
			buf_putc(&o, hex[c & 15]);
		}
	}
	return buf_detach(&o);
}

/* --- Link (RFC 8288) ------------------------------------------------- */

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int
is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does a rel value (space-separated relation types) include "next"? */
static int
rel_has_next(const char *v, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		while (i < n && isspace((unsigned char)v[i]))
			i++;
		j = i;
		while (j < n && !isspace((unsigned char)v[j]))
			j++;
		if (j - i == 4 && strncasecmp(v + i, "next", 4) == 0)
			return 1;
		i = j;
	}
	return 0;
}

char *
http_link_next(const char *link)
{
	const char *p = link, *uri, *name, *val;
	size_t urilen, namelen, vallen;
	struct buf q = BUF_INIT;
	int next;

	if (link == NULL)
		return NULL;
	buf_init(&q, 0);
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p != '<')
			goto skip;
		uri = ++p;
		while (*p != '\0' && *p != '>')
			p++;
		if (*p != '>')
			break;
		urilen = (size_t)(p - uri);
		p++;
		next = 0;
		for (;;) {
			p = skip_ows(p);
			if (*p != ';')
				break;
			p = skip_ows(p + 1);
			name = p;
			while (is_tchar((unsigned char)*p))
				p++;
			namelen = (size_t)(p - name);
			p = skip_ows(p);
			val = "";
			vallen = 0;
			if (*p == '=') {
				p = skip_ows(p + 1);
				if (*p == '"') {
					buf_reset(&q);
					for (p++; *p != '\0' && *p != '"'; p++) {
						if (*p == '\\' && p[1] != '\0')
							p++;
						buf_putc(&q, *p);
					}
					if (*p == '"')
						p++;
					val = buf_cstr(&q);
					vallen = q.len;
				} else {
					val = p;
					while (is_tchar((unsigned char)*p))
						p++;
					vallen = (size_t)(p - val);
				}
			}
			if (namelen == 3 && strncasecmp(name, "rel", 3) == 0 &&
			    rel_has_next(val, vallen))
				next = 1;
		}
		if (next) {
			buf_release(&q);
			return xstrndup(uri, urilen);
		}
skip:
		/* Malformed or not ours: on to the next link-value. */
		while (*p != '\0' && *p != ',') {
			if (*p == '"') {
				for (p++; *p != '\0' && *p != '"'; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\0')
					break;
			}
			p++;
		}
	}
	buf_release(&q);
	return NULL;
}

/* --- Retry-After (RFC 9110 §10.2.3) ------------------------------------ */

static int
num(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
month_of(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (strncmp(s, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/* "HH:MM:SS" */
static int
clock_of(const char *s, int *h, int *m, int *sec)
{
	if (num(s, 2, h) || s[2] != ':' || num(s + 3, 2, m) || s[5] != ':' ||
	    num(s + 6, 2, sec))
		return -1;
	return 0;
}

/* An HTTP-date in any of its three forms, as seconds since the epoch. */
static int
http_date(const char *s, int64_t now, int64_t *out)
{
	char iso[40], nowstr[TIME_STR_MAX];
	int y, mo, d, hh, mi, ss, cy;
	const char *p = s;

	while (isalpha((unsigned char)*p))
		p++;
	if (p - s < 3)
		return -1;
	if (*p == ',') {
		p++;
		if (*p++ != ' ')
			return -1;
		if (strlen(p) == 24 && p[2] == ' ') {
			/* IMF-fixdate: "06 Nov 1994 08:49:37 GMT" */
			if (num(p, 2, &d) || (mo = month_of(p + 3)) == 0 ||
			    p[6] != ' ' || num(p + 7, 4, &y) || p[11] != ' ' ||
			    clock_of(p + 12, &hh, &mi, &ss) ||
			    strcmp(p + 20, " GMT") != 0)
				return -1;
		} else if (strlen(p) == 22 && p[2] == '-') {
			/* rfc850-date: "06-Nov-94 08:49:37 GMT" */
			if (num(p, 2, &d) || (mo = month_of(p + 3)) == 0 ||
			    p[6] != '-' || num(p + 7, 2, &y) || p[9] != ' ' ||
			    clock_of(p + 10, &hh, &mi, &ss) ||
			    strcmp(p + 18, " GMT") != 0)
				return -1;
			/* Two digits: the most recent such year not more
			 * than 50 years ahead. */
			time_format(nowstr, sizeof(nowstr), now);
			if (num(nowstr, 4, &cy))
				return -1;
			y += cy - cy % 100;
			if (y > cy + 50)
				y -= 100;
		} else
			return -1;
	} else if (*p == ' ' && strlen(p + 1) == 20) {
		/* asctime: "Nov  6 08:49:37 1994" */
		p++;
		if ((mo = month_of(p)) == 0 || p[3] != ' ' ||
		    (p[4] == ' ' ? num(p + 5, 1, &d) : num(p + 4, 2, &d)) ||
		    p[6] != ' ' || clock_of(p + 7, &hh, &mi, &ss) ||
		    p[15] != ' ' || num(p + 16, 4, &y))
			return -1;
	} else
		return -1;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
	    hh, mi, ss);
	return time_parse(out, iso);
}

int64_t
http_retry_after_ms(const char *value, int64_t now)
{
	char tmp[64];
	const char *p;
	int64_t secs = 0, t;
	size_t n;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, value, n);
	tmp[n] = '\0';
	if (isdigit((unsigned char)tmp[0])) {
		for (p = tmp; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			/* Anything past a day is "too long" all the same. */
			if (secs < 100000000)
				secs = secs * 10 + (*p - '0');
		}
		return secs * 1000;
	}
	if (http_date(tmp, now, &t) == -1)
		return -1;
	return t > now ? (t - now) * 1000 : 0;
}
