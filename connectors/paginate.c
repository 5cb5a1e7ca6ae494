/*
 * Walking a paginated listing over the shared HTTP client: the four
 * schemes the platforms use (a Link rel="next" header, a next-page token
 * in the body, offset/limit, page number/size), one GET at a time, each
 * page handed to the caller's callback and then dropped, so a listing of
 * any length costs one page of memory.  A walk either reads every page or
 * fails: a non-2xx page, a malformed body, a server that sends a token or
 * Link already followed, or ignores the offset it was sent, and a walk
 * longer than max_pages all end it with an error, because a connector
 * that ingests half a listing would revoke what it did not see.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "http.h"
#include "util.h"

#define DEFAULT_MAX_PAGES 100000L

static const char *const kind_names[] = {
	[PAGE_LINK] = "PAGE_LINK",
	[PAGE_TOKEN] = "PAGE_TOKEN",
	[PAGE_OFFSET] = "PAGE_OFFSET",
	[PAGE_NUMBER] = "PAGE_NUMBER",
};

/* One walk's state; everything here is owned by the walk. */
struct walk {
	struct http *h;
	const struct http_pager *pg;
	long pages;		/* fetched so far */
	long pos;		/* offset or page number of the next page */
	long counted;		/* items received so far */
	json_t *seen;		/* tokens or URLs already requested */
	json_t *prev_items;	/* offset kinds: the last page's items */
	char *what;		/* "platform P: GET <path>" of this page */
};

/* A field of obj: the key as spelled, else a dotted path through nested
 * objects.  Borrowed; NULL when absent. */
static json_t *
field_get(json_t *obj, const char *name)
{
	const char *p = name, *dot;
	json_t *v;

	if ((v = json_object_get(obj, name)) != NULL)
		return v;
	v = obj;
	while (v != NULL && (dot = strchr(p, '.')) != NULL) {
		v = json_object_getn(v, p, (size_t)(dot - p));
		p = dot + 1;
	}
	return p == name ? NULL : json_object_get(v, p);
}

/* A count: a non-negative integer, or digits in a string (Tableau). */
static int
count_of(json_t *v, long *out)
{
	const char *s;
	long n = 0;

	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 1000000000000LL) {
		*out = (long)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || *(s = json_string_value(v)) == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000000L)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return 0;
}

/* Append name=value, both percent-encoded, with '?' or '&' as needed. */
static void
add_param(struct buf *b, const char *name, const char *value)
{
	char *n = http_escape(name), *v = http_escape(value);
	const char *s = buf_cstr(b);

	if (strchr(s, '?') == NULL)
		buf_putc(b, '?');
	else if (b->len > 0 && s[b->len - 1] != '?' && s[b->len - 1] != '&')
		buf_putc(b, '&');
	buf_printf(b, "%s=%s", n, v);
	free(n);
	free(v);
}

/* The path of the page at pos (offset or page number). */
static char *
offset_target(const struct http_pager *pg, long pos)
{
	struct buf b = BUF_INIT;
	char num[32];

	buf_init(&b, 0);
	buf_puts(&b, pg->path);
	snprintf(num, sizeof(num), "%ld", pos);
	add_param(&b, pg->offset_param, num);
	if (pg->limit_param != NULL) {
		snprintf(num, sizeof(num), "%ld", pg->limit);
		add_param(&b, pg->limit_param, num);
	}
	return buf_detach(&b);
}

static char *
token_target(const struct http_pager *pg, const char *token)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	buf_puts(&b, pg->path);
	add_param(&b, pg->token_param, token);
	return buf_detach(&b);
}

/*
 * Resolve ref (NULL: none) against target, itself a path under the base
 * URL or an absolute URL, as an absolute URL without its fragment.  The
 * absolute form is what pages are told apart by; *path gets what to hand
 * to http_do: the part after the base URL when the result lies under it,
 * else the absolute URL (which http_do then checks).
 */
static int
url_resolve(struct walk *w, const char *target, const char *ref,
    char **abs, char **path, struct diag *err)
{
	const char *base = http_base_url(w->h);
	size_t blen = strlen(base);
	char *full, *got = NULL;
	CURLU *u;
	int rc = -1;

	*abs = *path = NULL;
	if (strncasecmp(target, "https://", 8) == 0 ||
	    strncasecmp(target, "http://", 7) == 0)
		full = xstrdup(target);
	else
		full = xasprintf("%s%s%s", base, *target == '/' ||
		    *target == '?' || *target == '\0' ? "" : "/", target);
	if ((u = curl_url()) == NULL) {
		diag_set(err, "%s: out of memory", w->what);
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, full, 0) != CURLUE_OK ||
	    (ref != NULL && curl_url_set(u, CURLUPART_URL, ref, 0) !=
	    CURLUE_OK) ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &got, 0) != CURLUE_OK) {
		char *shown = http_redact(ref ? ref : target);

		diag_set(err, "%s: cannot resolve %s '%s'", w->what,
		    ref ? "the Link rel=\"next\" target" : "the path", shown);
		free(shown);
		goto out;
	}
	*abs = xstrdup(got);
	if (strncmp(got, base, blen) == 0 && (got[blen] == '/' ||
	    got[blen] == '?' || got[blen] == '\0'))
		*path = xstrdup(got + blen);
	else
		*path = xstrdup(got);
	rc = 0;
out:
	curl_free(got);
	curl_url_cleanup(u);
	free(full);
	return rc;
}

/* Do two absolute URLs share scheme, host and port? */
static int
same_origin(const char *a, const char *b)
{
	const char *ea = strstr(a, "://"), *eb = strstr(b, "://");
	size_t la, lb;

	if (ea == NULL || eb == NULL)
		return 0;
	la = (size_t)(ea - a) + 3 + strcspn(ea + 3, "/?#");
	lb = (size_t)(eb - b) + 3 + strcspn(eb + 3, "/?#");
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Remember key; 1 when it was there already. */
static int
seen_before(struct walk *w, const char *key, size_t len)
{
	if (json_object_getn(w->seen, key, len) != NULL)
		return 1;
	json_object_setn_nocheck(w->seen, key, len, json_null());
	return 0;
}

static int
pager_check(struct http *h, const struct http_pager *pg, struct diag *err)
{
	const char *platform = http_platform(h);
	const char *kind;

	if (pg->path == NULL)
		return diag_set(err, "platform %s: pager without a path",
		    platform);
	if ((unsigned)pg->kind > PAGE_NUMBER)
		return diag_set(err, "platform %s: GET %s: unknown pager kind "
		    "%d", platform, pg->path, (int)pg->kind);
	kind = kind_names[pg->kind];
	switch (pg->kind) {
	case PAGE_LINK:
		break;
	case PAGE_TOKEN:
		if (pg->token_field == NULL || pg->token_param == NULL)
			return diag_set(err, "platform %s: GET %s: %s needs "
			    "token_field and token_param", platform, pg->path,
			    kind);
		break;
	case PAGE_OFFSET:
	case PAGE_NUMBER:
		if (pg->offset_param == NULL || pg->limit <= 0 ||
		    pg->start < 0)
			return diag_set(err, "platform %s: GET %s: %s needs "
			    "offset_param, a limit above 0 and a start of 0 or "
			    "more", platform, pg->path, kind);
		break;
	}
	return 0;
}

/* The page's items: *items for the callback (owned), *counted what the
 * offset kinds count (borrowed; NULL when the page has nothing to count). */
static int
page_items(struct walk *w, json_t *page, json_t **items, json_t **counted,
    struct diag *err)
{
	const char *f = w->pg->items_field;
	json_t *v;

	*items = *counted = NULL;
	if (f == NULL) {
		if (json_is_array(page))
			*counted = page;
		return 0;
	}
	v = field_get(page, f);
	if (v == NULL || json_is_null(v))
		*items = json_array();
	else if (json_is_array(v))
		*items = json_incref(v);
	else
		return diag_set(err, "%s: field %s is not an array", w->what, f);
	*counted = *items;
	return 0;
}

/* The next page after a Link-paged one, or NULL at the end. */
static int
next_link(struct walk *w, const char *target, const struct http_resp *rs,
    char **next, struct diag *err)
{
	char *ref, *abs = NULL;
	int rc = -1;

	*next = NULL;
	if ((ref = http_link_next(rs->link)) == NULL)
		return 0;
	if (url_resolve(w, target, ref, &abs, next, err) == -1)
		goto out;
	if (!same_origin(http_base_url(w->h), abs)) {
		/* The page requests carry the caller's Authorization header:
		 * never follow a link to another origin with it. */
		char *shown = http_redact(abs);
		diag_set(err, "%s: the Link rel=\"next\" target '%s' leaves %s; "
		    "refused", w->what, shown, http_base_url(w->h));
		free(shown);
		goto out;
	}
	if (seen_before(w, abs, strlen(abs))) {
		diag_set(err, "%s: pagination did not advance: page %ld links "
		    "to a page already fetched", w->what, w->pages);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		free(*next);
		*next = NULL;
	}
	free(abs);
	free(ref);
	return rc;
}

static int
next_token(struct walk *w, json_t *page, char **next, struct diag *err)
{
	const struct http_pager *pg = w->pg;
	json_t *v = field_get(page, pg->token_field);
	char num[32];
	const char *tok;
	size_t len;

	*next = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		tok = json_string_value(v);
		len = json_string_length(v);
		if (len != strlen(tok))
			return diag_set(err, "%s: field %s holds a NUL byte",
			    w->what, pg->token_field);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		tok = num;
		len = strlen(num);
	} else
		return diag_set(err, "%s: field %s is neither a string nor a "
		    "number", w->what, pg->token_field);
	if (len == 0)
		return 0;
	if (seen_before(w, tok, len))
		return diag_set(err, "%s: pagination did not advance: page %ld "
		    "repeats the %s of an earlier page", w->what, w->pages,
		    pg->token_field);
	*next = token_target(pg, tok);
	return 0;
}

static int
next_offset(struct walk *w, json_t *page, json_t *counted, char **next,
    struct diag *err)
{
	const struct http_pager *pg = w->pg;
	json_t *v;
	long n, total;
	int done;

	*next = NULL;
	if (counted == NULL)
		return diag_set(err, "%s: the page is not an array and no "
		    "items_field says where its items are", w->what);
	if ((n = (long)json_array_size(counted)) == 0)
		return 0;
	/* A server that ignores the offset sends the same page forever. */
	if (w->prev_items != NULL && json_equal(w->prev_items, counted))
		return diag_set(err, "%s: pagination did not advance: page %ld "
		    "holds the same items as the page before (is %s "
		    "ignored?)", w->what, w->pages, pg->offset_param);
	json_decref(w->prev_items);
	w->prev_items = json_incref(counted);
	w->counted += n;
	w->pos += pg->kind == PAGE_OFFSET ? n : 1;
	if (pg->total_field != NULL) {
		if ((v = field_get(page, pg->total_field)) == NULL)
			return diag_set(err, "%s: no field %s in the response",
			    w->what, pg->total_field);
		if (count_of(v, &total) == -1)
			return diag_set(err, "%s: field %s is not a count",
			    w->what, pg->total_field);
		/* Page numbers count pages of the size asked for; offsets
		 * count items, and a server may send fewer than asked. */
		done = pg->kind == PAGE_OFFSET ? w->counted >= total :
		    w->pages * pg->limit >= total;
	} else
		done = n < pg->limit;
	if (!done)
		*next = offset_target(pg, w->pos);
	return 0;
}

int
http_paginate(struct http *h, const struct http_pager *pg,
    int (*cb)(void *arg, json_t *page, json_t *items, struct diag *err),
    void *arg, struct diag *err)
{
	struct walk w;
	struct http_req rq;
	struct http_resp rs;
	json_t *page = NULL, *items = NULL, *counted;
	char *target = NULL, *next = NULL, *abs = NULL, *shown;
	long max;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	memset(&rs, 0, sizeof(rs));
	if (pg->status != NULL)
		*pg->status = 0;
	if (pager_check(h, pg, err) == -1)
		return -1;
	w.h = h;
	w.pg = pg;
	w.seen = json_object();
	w.pos = pg->start;
	max = pg->max_pages > 0 ? pg->max_pages : DEFAULT_MAX_PAGES;
	if (pg->kind == PAGE_OFFSET || pg->kind == PAGE_NUMBER)
		target = offset_target(pg, w.pos);
	else
		target = xstrdup(pg->path);
	if (pg->kind == PAGE_LINK) {
		shown = http_redact(target);
		w.what = xasprintf("platform %s: GET %s", http_platform(h),
		    shown);
		free(shown);
		if (url_resolve(&w, target, NULL, &abs, &next, err) == -1)
			goto out;
		seen_before(&w, abs, strlen(abs));
		free(next);
		next = NULL;
	}
	for (;;) {
		memset(&rq, 0, sizeof(rq));
		rq.method = "GET";
		rq.path = target;
		rq.headers = pg->headers;
		free(w.what);
		shown = http_redact(target);
		w.what = xasprintf("platform %s: GET %s", http_platform(h),
		    shown);
		free(shown);
		if (http_do(h, &rq, &rs, err) == -1)
			goto out;
		w.pages++;
		if (rs.status < 200 || rs.status > 299) {
			if (pg->status != NULL)
				*pg->status = rs.status;
			http_fail(err, h, &rq, &rs);
			goto out;
		}
		if ((page = http_json(&rs, w.what, err)) == NULL ||
		    page_items(&w, page, &items, &counted, err) == -1)
			goto out;
		switch (pg->kind) {
		case PAGE_LINK:
			if (next_link(&w, target, &rs, &next, err) == -1)
				goto out;
			break;
		case PAGE_TOKEN:
			if (next_token(&w, page, &next, err) == -1)
				goto out;
			break;
		case PAGE_OFFSET:
		case PAGE_NUMBER:
			if (next_offset(&w, page, counted, &next, err) == -1)
				goto out;
			break;
		}
		if (cb != NULL && cb(arg, page, items, err) == -1)
			goto out;
		json_decref(page);
		json_decref(items);
		page = items = NULL;
		http_resp_release(&rs);
		if (next == NULL)
			break;
		if (w.pages >= max) {
			diag_set(err, "%s: more pages after %ld (max_pages); "
			    "the listing is incomplete", w.what, w.pages);
			goto out;
		}
		free(target);
		target = next;
		next = NULL;
	}
	rc = 0;
out:
	json_decref(page);
	json_decref(items);
	json_decref(w.seen);
	json_decref(w.prev_items);
	http_resp_release(&rs);
	free(w.what);
	free(target);
	free(next);
	free(abs);
	return rc;
}
