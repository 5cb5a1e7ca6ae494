/*
 * The HTTP client every HTTP connector shares (libcurl + jansson).  One
 * struct http per connector instance: a pool of easy handles that keep
 * their connections alive, explicit connect and total timeouts, capped
 * bodies, TLS verification always on, https only except plain http to a
 * loopback address.  Retries connection errors and 408/429/500/502/503/
 * 504 with exponential backoff and jitter inside a total retry budget,
 * honouring Retry-After (seconds or HTTP-date) as a minimum.  At -vv every
 * request and response line is traced with Authorization, cookies and
 * token-bearing fields redacted.
 */
#ifndef ACCORD_HTTP_H
#define ACCORD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "yml.h"

struct http_opts {
	const char *platform;	/* names the platform in every message */
	const char *base_url;	/* "https://host[:port][/prefix]" (no trailing /) */
	const char *ca_file;	/* extra CA bundle, NULL: system store */
	long connect_timeout_ms;	/* 0: 10 s */
	long timeout_ms;	/* whole request; 0: 30 s */
	size_t max_body;	/* response cap; 0: 64 MiB */
	int64_t retry_budget_ms;	/* total waiting per run; 0: 60 s (§13) */
	int concurrency;	/* requests in flight for http_do_many; 0: 4 */
	const char *user_agent;	/* 0: "accord/VERSION" */
};

/*
 * Fill opts from a platform's settings in accord.yaml: url (required
 * unless `default_url` is given), timeout, concurrency, ca_file,
 * retry_budget.  Strings point into the yml tree.
 */
int http_opts_from_config(struct http_opts *o, const char *platform,
    const char *config_path, const struct yml_node *node,
    const char *default_url, struct diag *err);

struct http;

/* Checks the URL (https, or http to 127.0.0.0/8, ::1, localhost). */
int http_open(struct http **out, const struct http_opts *o, struct diag *err);
void http_free(struct http *h);
/* The platform name and the base URL (trailing / removed) given to
 * http_open; owned by h. */
const char *http_platform(const struct http *h);
const char *http_base_url(const struct http *h);

struct http_req {
	const char *method;	/* "GET", "POST", "PATCH", "PUT", "DELETE" */
	const char *path;	/* appended to base_url: "/api/v2/statements?x=1";
				 * an absolute "https://..." URL is used as is
				 * (same checks) */
	const char *const *headers;	/* NULL-terminated "Name: value", may be NULL */
	const char *body;	/* NULL: none */
	size_t body_len;
	const char *content_type;	/* default "application/json" with a body */
	int retry_unsafe;	/* retry a non-idempotent method too (the
				 * caller made it safe, e.g. requestId) */
	const char *retry_path;	/* path for attempts after the first, NULL:
				 * path (Snowflake adds retry=true) */
};

struct http_resp {
	long status;
	struct buf body;
	char *content_type;	/* may be NULL */
	char *link;		/* raw Link header, may be NULL */
	char *location;
	int attempts;		/* tries made */
	int64_t waited_ms;	/* backoff waited for this request */
};

/*
 * Send, retrying as described above.  Returns 0 when a response arrived
 * (whatever its status: the caller decides), -1 when none did (connection,
 * timeout, TLS, body over the cap, budget exhausted); err says which and
 * names the platform, method and path (never the query's secrets).
 * A 429 or 5xx still present when the budget runs out is returned as a
 * response, not an error.
 */
int http_do(struct http *h, const struct http_req *rq, struct http_resp *rs,
    struct diag *err);
/* Up to opts.concurrency requests in flight; out[i] for rq[i].  Returns 0
 * when all got a response, -1 at the first that did not (err set). */
int http_do_many(struct http *h, const struct http_req *rq, size_t n,
    struct http_resp *out, struct diag *err);
void http_resp_release(struct http_resp *rs);

/* Parse the body as JSON; a malformed body gives "... invalid JSON at
 * line L column C: why" with a quoted excerpt. */
json_t *http_json(const struct http_resp *rs, const char *what,
    struct diag *err);
/* Set err to "platform P: METHOD PATH: HTTP 422: <excerpt>" with the
 * body truncated to 300 bytes and secrets redacted.  Returns -1. */
int http_fail(struct diag *err, struct http *h, const struct http_req *rq,
    const struct http_resp *rs);
/* Percent-encode one path segment or query value (RFC 3986 unreserved
 * kept).  Newly allocated. */
char *http_escape(const char *s);
/* The rel="next" target of a Link header, newly allocated, or NULL. */
char *http_link_next(const char *link);
/* Retry-After as milliseconds from now: "120" or an HTTP-date; -1 bad. */
int64_t http_retry_after_ms(const char *value, int64_t now);
/* Copy s with Authorization/Cookie values, bearer tokens, "password",
 * "secret", "token" and "assertion" JSON or form fields replaced by
 * "[redacted]".  Newly allocated. */
char *http_redact(const char *s);

/*
 * Walking a paginated listing (connectors/paginate.c).  Field names may be
 * dotted paths into nested objects ("pagination.totalAvailable",
 * "response_metadata.next_cursor"); a key spelled with the dots is tried
 * first.  Counts may be JSON numbers or digit strings (Tableau).
 */
enum http_page_kind { PAGE_LINK, PAGE_TOKEN, PAGE_OFFSET, PAGE_NUMBER };

struct http_pager {
	enum http_page_kind kind;
	const char *path;	/* first page, may carry a query */
	const char *const *headers;	/* as http_req */
	/* PAGE_TOKEN: response field holding the next token
	 * ("next_page_token"), query parameter to send it in ("page_token").
	 * Absent, null or "" ends the walk; an empty page does not. */
	const char *token_field, *token_param;
	/* PAGE_OFFSET / PAGE_NUMBER: query parameter names (limit_param may
	 * be NULL: not sent) and page size; start is 0 or 1 (SCIM startIndex
	 * starts at 1).  An offset advances by the items received, a page
	 * number by one.  total_field (may be NULL) names the response's
	 * total count ("totalResults"), else the walk stops at a short page;
	 * an empty page always ends it. */
	const char *offset_param, *limit_param;
	long limit, start;
	const char *total_field;
	const char *items_field;	/* array of items in the JSON body
					 * ("Resources"); NULL: a body that is
					 * an array is counted as the items */
	long max_pages;		/* safety stop; 0: 100000 */
	long *status;		/* may be NULL: set to the HTTP status of the
				 * page that failed the walk, else 0, so a
				 * caller can tell a 401 or 404 apart */
};

/*
 * GET every page; cb gets each parsed page body and its items array
 * (NULL when items_field is NULL; an empty array when the field is absent
 * or null), both only borrowed for the call.  A non-2xx page fails the
 * walk with http_fail.  Link paging follows rel="next", resolved against
 * the page's URL; absolute URLs meet http_do's https/loopback check.  A
 * token or Link seen before, or an offset page repeating the last one,
 * fails with "pagination did not advance"; more than max_pages pages
 * fails too.  Returns 0, or -1 (err set) -- all or nothing for the caller.
 */
int http_paginate(struct http *h, const struct http_pager *pg,
    int (*cb)(void *arg, json_t *page, json_t *items, struct diag *err),
    void *arg, struct diag *err);

#endif
