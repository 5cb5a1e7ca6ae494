/*
 * The SCIM 2.0 client (RFC 7643/7644) the `scim` and `databricks`
 * connectors share.  Listings walk startIndex/count pages until
 * totalResults; filters carry their values as JSON string literals;
 * group membership changes go out as one PatchOp per group, removes
 * first, so a run costs one call per group however many members change;
 * RFC 7644 §3.12 error bodies become "HTTP 409: uniqueness: detail".
 * A 401 renews the token once.  Nothing here knows about grants.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth.h"
#include "buf.h"
#include "http.h"
#include "scim.h"
#include "util.h"

#define SCIM_PAGE_DEFAULT 100
#define SCIM_PAGES_MAX 100000
#define SCIM_DETAIL_MAX 300
#define SCIM_CTYPE "application/scim+json"

/* One request with the bearer, a 401 renewing the token once. */
static int
scim_send(struct scim *s, struct http_req *rq, struct http_resp *rs,
    struct diag *err)
{
	const char *hv[16], *tok;
	char *authz = NULL;
	size_t i, n;
	int tries, rc = -1;

	for (tries = 0; tries < 2; tries++) {
		n = 0;
		if (s->auth != NULL) {
			if ((tok = auth_header(s->auth, err)) == NULL)
				return diag_prefix(err, "platform %s",
				    s->platform);
			authz = xasprintf("Authorization: %s", tok);
			hv[n++] = authz;
		}
		hv[n++] = "Accept: " SCIM_CTYPE ", application/json";
		for (i = 0; s->extra_headers && s->extra_headers[i] &&
		    n < sizeof(hv) / sizeof(hv[0]) - 1; i++)
			hv[n++] = s->extra_headers[i];
		hv[n] = NULL;
		rq->headers = hv;
		memset(rs, 0, sizeof(*rs));
		rc = http_do(s->http, rq, rs, err);
		if (authz != NULL) {
			explicit_bzero(authz, strlen(authz));
			free(authz);
			authz = NULL;
		}
		rq->headers = NULL;
		if (rc != 0 || rs->status != 401 || s->auth == NULL || tries)
			break;
		http_resp_release(rs);
		auth_invalidate(s->auth);
	}
	return rc;
}

/* A JSON string or number as a new string; NULL otherwise. */
static char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	return NULL;
}

/*
 * err for a non-2xx answer.  An RFC 7644 error body (or Databricks'
 * {"error_code","message"}) is shortened to "scimType: detail" so the
 * message carries what a person needs; anything else is quoted by
 * http_fail as it came.
 */
static int
scim_fail(struct scim *s, struct diag *err, const struct http_req *rq,
    const struct http_resp *rs)
{
	struct http_resp brief = *rs;
	const char *type, *detail;
	json_t *j, *t;
	char *text = NULL;
	int rc;

	j = json_loadb(rs->body.ptr ? rs->body.ptr : "", rs->body.len, 0, NULL);
	if (json_is_object(j)) {
		type = json_string_value(json_object_get(j, "scimType"));
		detail = json_string_value(json_object_get(j, "detail"));
		if (type == NULL && (t = json_object_get(j, "error_code")))
			type = json_string_value(t);
		if (detail == NULL)
			detail = json_string_value(json_object_get(j,
			    "message"));
		if (type != NULL || detail != NULL)
			text = xasprintf("%s%s%s", type ? type : "",
			    type && detail ? ": " : "", detail ? detail : "");
	}
	json_decref(j);
	if (text != NULL) {
		memset(&brief.body, 0, sizeof(brief.body));
		brief.body.ptr = text;
		brief.body.len = strlen(text);
	}
	rc = http_fail(err, s->http, rq, &brief);
	free(text);
	return rc;
}

static long
jlong(json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);
	const char *p;
	char *end;
	long n;

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (json_is_string(v)) {	/* some servers send digit strings */
		p = json_string_value(v);
		n = strtol(p, &end, 10);
		if (end != p && *end == '\0')
			return n;
	}
	return dflt;
}

int
scim_list(struct scim *s, const char *endpoint, const char *query,
    int (*cb)(void *arg, json_t *res, struct diag *err), void *arg,
    struct diag *err)
{
	long count = s->page_size > 0 ? s->page_size : SCIM_PAGE_DEFAULT;
	long start = 1, total, got, pages = 0;
	struct http_req rq;
	struct http_resp rs;
	json_t *page = NULL, *items, *it;
	char *path = NULL, *first = NULL, *prev = NULL;
	size_t i;
	int rc = -1;

	for (;;) {
		if (++pages > SCIM_PAGES_MAX) {
			diag_set(err, "platform %s: GET %s%s: more than %d "
			    "pages", s->platform, s->prefix, endpoint,
			    SCIM_PAGES_MAX);
			goto out;
		}
		free(path);
		path = xasprintf("%s%s?startIndex=%ld&count=%ld%s%s",
		    s->prefix, endpoint, start, count, query ? "&" : "",
		    query ? query : "");
		memset(&rq, 0, sizeof(rq));
		rq.method = "GET";
		rq.path = path;
		if (scim_send(s, &rq, &rs, err) != 0)
			goto out;
		if (rs.status < 200 || rs.status > 299) {
			scim_fail(s, err, &rq, &rs);
			http_resp_release(&rs);
			goto out;
		}
		page = http_json(&rs, NULL, err);
		http_resp_release(&rs);
		if (page == NULL) {
			diag_prefix(err, "platform %s: GET %s%s",
			    s->platform, s->prefix, endpoint);
			goto out;
		}
		items = json_object_get(page, "Resources");
		if (items == NULL || json_is_null(items))
			items = json_object_get(page, "resources");
		if (items != NULL && !json_is_null(items) &&
		    !json_is_array(items)) {
			diag_set(err, "platform %s: GET %s: \"Resources\" is "
			    "not an array", s->platform, path);
			goto out;
		}
		total = jlong(page, "totalResults", -1);
		got = items ? (long)json_array_size(items) : 0;
		free(prev);
		prev = first;
		first = got > 0 ? jstr(json_array_get(items, 0), "id") : NULL;
		if (prev != NULL && first != NULL && strcmp(prev, first) == 0) {
			diag_set(err, "platform %s: GET %s: pagination did not "
			    "advance (the page repeats the last one: is "
			    "startIndex ignored?)", s->platform, path);
			goto out;
		}
		json_array_foreach(items, i, it)
			if (json_is_object(it) && cb(arg, it, err) != 0)
				goto out;
		json_decref(page);
		page = NULL;
		/*
		 * RFC 7644 §3.4.2.4: a server may return fewer than count,
		 * so advance by what came; stop at totalResults, on an
		 * empty page, or (no total given) on a short page.
		 */
		if (got == 0 || (total >= 0 && start - 1 + got >= total) ||
		    (total < 0 && got < count))
			break;
		start += got;
	}
	rc = 0;
out:
	json_decref(page);
	free(path);
	free(first);
	free(prev);
	return rc;
}

/* The primary emails[] value, else the first, else NULL; *primary
 * says which. */
static char *
primary_email(json_t *res, int *primary)
{
	json_t *emails = json_object_get(res, "emails"), *e, *first = NULL;
	size_t i;

	json_array_foreach(emails, i, e) {
		if (!json_is_object(e) ||
		    !json_is_string(json_object_get(e, "value")))
			continue;
		if (first == NULL)
			first = e;
		if (json_is_true(json_object_get(e, "primary"))) {
			*primary = 1;
			return jstr(e, "value");
		}
	}
	*primary = 0;
	return first ? jstr(first, "value") : NULL;
}

struct users_acc {
	struct scim_user *v;
	size_t n, alloc;
	const char *platform;
};

static int
user_cb(void *arg, json_t *res, struct diag *err)
{
	struct users_acc *a = arg;
	struct scim_user *u;
	json_t *active;

	a->v = xgrow(a->v, sizeof(*a->v), a->n + 1, &a->alloc);
	u = &a->v[a->n];
	memset(u, 0, sizeof(*u));
	u->id = jstr(res, "id");
	u->user_name = jstr(res, "userName");
	if (u->id == NULL || u->user_name == NULL) {
		free(u->id);
		free(u->user_name);
		return diag_set(err, "platform %s: a User without id or "
		    "userName", a->platform);
	}
	u->email = primary_email(res, &u->email_primary);
	u->display_name = jstr(res, "displayName");
	active = json_object_get(res, "active");
	u->active = active == NULL || json_is_null(active) ||
	    json_is_true(active);
	a->n++;
	return 0;
}

int
scim_list_users(struct scim *s, struct scim_user **out, size_t *n,
    struct diag *err)
{
	struct users_acc a = { NULL, 0, 0, s->platform };

	*out = NULL;
	*n = 0;
	if (scim_list(s, "/Users", "attributes=id,userName,displayName,"
	    "emails,active", user_cb, &a, err) != 0) {
		scim_users_free(a.v, a.n);
		return -1;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

/* A member's type: "type" when given, else read off "$ref". */
static char *
member_type(json_t *m)
{
	static const char *const kinds[][2] = {
		{ "Users/", "User" }, { "Groups/", "Group" },
		{ "ServicePrincipals/", "ServicePrincipal" },
	};
	const char *ref;
	size_t i;

	if (json_is_string(json_object_get(m, "type")))
		return jstr(m, "type");
	if ((ref = json_string_value(json_object_get(m, "$ref"))) == NULL)
		return NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(ref, kinds[i][0]) != NULL)
			return xstrdup(kinds[i][1]);
	return NULL;
}

static int
group_parse(struct scim_group *g, json_t *res, const char *platform,
    struct diag *err)
{
	json_t *members, *m;
	size_t i, alloc = 0;
	char *id;

	memset(g, 0, sizeof(*g));
	g->id = jstr(res, "id");
	g->display_name = jstr(res, "displayName");
	if (g->id == NULL || g->display_name == NULL) {
		scim_group_release(g);
		return diag_set(err, "platform %s: a Group without id or "
		    "displayName", platform);
	}
	members = json_object_get(res, "members");
	json_array_foreach(members, i, m) {
		if ((id = jstr(m, "value")) == NULL)
			continue;
		g->members = xgrow(g->members, sizeof(*g->members),
		    g->nmembers + 1, &alloc);
		g->members[g->nmembers].id = id;
		g->members[g->nmembers++].type = member_type(m);
	}
	return 0;
}

struct groups_acc {
	struct scim_group *v;
	size_t n, alloc;
	const char *platform;
};

static int
group_cb(void *arg, json_t *res, struct diag *err)
{
	struct groups_acc *a = arg;

	a->v = xgrow(a->v, sizeof(*a->v), a->n + 1, &a->alloc);
	if (group_parse(&a->v[a->n], res, a->platform, err) != 0)
		return -1;
	a->n++;
	return 0;
}

int
scim_list_groups(struct scim *s, struct scim_group **out, size_t *n,
    struct diag *err)
{
	struct groups_acc a = { NULL, 0, 0, s->platform };

	*out = NULL;
	*n = 0;
	if (scim_list(s, "/Groups", "attributes=id,displayName,members",
	    group_cb, &a, err) != 0) {
		scim_groups_free(a.v, a.n);
		return -1;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

char *
scim_filter_eq(const char *attr, const char *value)
{
	json_t *lit = json_string(value ? value : "");
	char *q, *f;

	/* RFC 7644 §3.4.2.2: a string literal is a JSON string. */
	if (lit == NULL)	/* not valid UTF-8 */
		return NULL;
	q = json_dumps(lit, JSON_ENCODE_ANY);
	json_decref(lit);
	if (q == NULL)
		return NULL;
	f = xasprintf("%s eq %s", attr, q);
	free(q);
	return f;
}

int
scim_find_group(struct scim *s, const char *display_name,
    struct scim_group *out, struct diag *err)
{
	struct groups_acc a = { NULL, 0, 0, s->platform };
	char *filter, *enc, *query;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((filter = scim_filter_eq("displayName", display_name)) == NULL)
		return diag_set(err, "platform %s: group name '%s' is not "
		    "valid UTF-8", s->platform, display_name);
	enc = http_escape(filter);
	query = xasprintf("filter=%s&attributes=id,displayName,members", enc);
	if (scim_list(s, "/Groups", query, group_cb, &a, err) != 0)
		goto out;
	/* displayName is case-insensitive in RFC 7643's Group schema, but
	 * accord's targets are exact: keep the one spelled the same. */
	for (i = 0; i < a.n; i++)
		if (strcmp(a.v[i].display_name, display_name) == 0)
			break;
	if (i == a.n) {
		rc = 0;
		goto out;
	}
	*out = a.v[i];
	memmove(&a.v[i], &a.v[i + 1], (a.n - i - 1) * sizeof(*a.v));
	a.n--;
	rc = 1;
out:
	scim_groups_free(a.v, a.n);
	free(query);
	free(enc);
	free(filter);
	return rc;
}

/* ": <body>" for the audit row, short and with secrets removed. */
static void
raw_excerpt(struct buf *b, const struct http_resp *rs)
{
	char *text, *red;

	if (rs->body.len == 0)
		return;
	text = xstrndup(rs->body.ptr, rs->body.len < SCIM_DETAIL_MAX ?
	    rs->body.len : SCIM_DETAIL_MAX);
	red = http_redact(text);
	buf_printf(b, ": %s%s", red, rs->body.len > SCIM_DETAIL_MAX ?
	    "..." : "");
	free(red);
	free(text);
}

/* {"op":"remove","path":"members[value eq \"ID\"]"} */
static json_t *
op_remove(const char *id)
{
	char *f, *path;
	json_t *op;

	if ((f = scim_filter_eq("value", id)) == NULL)
		return NULL;
	path = xasprintf("members[%s]", f);
	op = json_pack("{s:s, s:s}", "op", "remove", "path", path);
	free(path);
	free(f);
	return op;
}

int
scim_patch_members(struct scim *s, const char *group_id,
    char *const *add_ids, size_t nadd, char *const *remove_ids,
    size_t nremove, struct buf *detail, struct diag *err)
{
	struct http_req rq;
	struct http_resp rs;
	json_t *body, *ops, *vals;
	char *text = NULL, *gid, *path;
	size_t i;
	int rc = -1;

	gid = http_escape(group_id);
	path = xasprintf("%s/Groups/%s", s->prefix, gid);
	free(gid);
	for (i = 0; i < nadd + nremove; i++) {
		const char *id = i < nadd ? add_ids[i] : remove_ids[i - nadd];
		json_t *t = json_string(id);

		if (t == NULL) {
			diag_set(err, "platform %s: PATCH %s: member id is "
			    "not valid UTF-8", s->platform, path);
			if (detail != NULL)
				buf_puts(detail, err->msg);
			free(path);
			return -1;
		}
		json_decref(t);
	}
	body = json_pack("{s:[s], s:[]}", "schemas",
	    "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations");
	ops = json_object_get(body, "Operations");
	for (i = 0; i < nremove; i++)
		json_array_append_new(ops, op_remove(remove_ids[i]));
	if (nadd > 0) {
		vals = json_array();
		for (i = 0; i < nadd; i++)
			json_array_append_new(vals, json_pack("{s:s}",
			    "value", add_ids[i]));
		json_array_append_new(ops, json_pack("{s:s, s:s, s:o}",
		    "op", "add", "path", "members", "value", vals));
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		diag_set(err, "platform %s: PATCH %s: the body could not be "
		    "encoded", s->platform, path);
		goto out;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "PATCH";
	rq.path = path;
	rq.body = text;
	rq.body_len = strlen(text);
	rq.content_type = SCIM_CTYPE;
	if (scim_send(s, &rq, &rs, err) != 0) {
		if (detail != NULL)
			buf_puts(detail, err->msg);
		goto out;
	}
	if (rs.status >= 200 && rs.status <= 299) {
		if (detail != NULL)
			buf_printf(detail, "HTTP %ld", rs.status);
		rc = 0;
	} else if (rs.status == 404 && nadd == 0) {
		if (detail != NULL) {
			buf_puts(detail, "HTTP 404 (the group is gone, so are "
			    "its members)");
			raw_excerpt(detail, &rs);
		}
		rc = 0;
	} else {
		scim_fail(s, err, &rq, &rs);
		if (detail != NULL)
			buf_puts(detail, err->msg);
	}
	http_resp_release(&rs);
out:
	free(text);
	free(path);
	return rc;
}

void
scim_users_free(struct scim_user *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].user_name);
		free(v[i].email);
		free(v[i].display_name);
	}
	free(v);
}

void
scim_group_release(struct scim_group *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nmembers; i++) {
		free(g->members[i].id);
		free(g->members[i].type);
	}
	free(g->members);
	free(g->id);
	free(g->display_name);
	memset(g, 0, sizeof(*g));
}

void
scim_groups_free(struct scim_group *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		scim_group_release(&v[i]);
	free(v);
}
