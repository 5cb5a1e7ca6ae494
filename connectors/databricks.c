/*
 * Databricks backend: workspace SCIM for identities and group membership,
 * Unity Catalog for privileges on catalogs, schemas and tables.  Accounts
 * are users (userName), groups ("group:NAME") and service principals
 * ("service:APPLICATION_ID"); targets are group:NAME (member), and
 * catalog:C, schema:C.S and table:C.S.T with UPPER_SNAKE privileges, each
 * name part exact, never quoted, never holding '.' or '`'.  Ingest lists
 * users, service principals and groups (memberships of managed groups
 * become grants), expands the managed catalog/schema/table globs by
 * listing only what they can reach, and reads each securable's direct
 * permissions, first pages concurrently, every page to the end; it is all
 * or nothing.  apply_batch sends one SCIM PATCH per group and one
 * permissions PATCH per securable, each item with its own outcome; a 404
 * on a request that only removes is success.  A 401 renews the token
 * once.  Secrets never reach a message or a log.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "auth.h"
#include "backends.h"
#include "buf.h"
#include "connector.h"
#include "databricks.h"
#include "grant.h"
#include "http.h"
#include "scim.h"
#include "strmap.h"
#include "util.h"

#define DBX_USER_AGENT "accord/0.1"
#define DBX_SCIM_PREFIX "/api/2.0/preview/scim/v2"
#define DBX_UC "/api/2.1/unity-catalog"
#define DBX_BATCH 256		/* permission reads per http_do_many round */
#define DBX_MAX_PAGES 10000	/* pages of one securable's permissions */
#define DBX_ANSWER_MAX 200	/* bytes of an answer quoted in a detail */

enum dbx_kind { DK_GROUP, DK_CATALOG, DK_SCHEMA, DK_TABLE };

static const char *const dbx_kind_names[] = {
	"group", "catalog", "schema", "table", NULL
};
static const size_t dbx_nparts[] = { 1, 1, 2, 3 };


/* Identities found at ingest: what apply needs to turn accounts into
 * SCIM ids and UC principals into accounts. */
struct dbx_ids {
	size_t n, alloc;
	char **id;		/* SCIM id */
	char **acct;		/* "user@x", "group:G", "service:APPID" */
	char **principal;	/* userName, displayName, applicationId */
	enum account_kind *kind;
	struct strmap by_id, by_acct, by_principal;
};

struct dbx_conn {
	struct connector base;
	struct http *http;
	struct auth *auth;
	struct scim scim;
	char **managed;
	size_t nmanaged;
	char **targets;
	size_t ntargets;
	struct dbx_ids ids;
	int have_ids;
	char *authz;		/* "Authorization: Bearer ...", while sending
				 * only */
	const char *hdrs[3];
};

/* --- names --- */

static int
kind_lookup(const char *s, size_t n)
{
	int k;

	for (k = 0; dbx_kind_names[k] != NULL; k++)
		if (strlen(dbx_kind_names[k]) == n &&
		    strncmp(dbx_kind_names[k], s, n) == 0)
			return k;
	return -1;
}

static int
has_ctrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A UC name part as a listing returns it: usable in a target? */
static int
part_ok(const char *s)
{
	return s != NULL && *s != '\0' && !has_ctrl(s) &&
	    strchr(s, '.') == NULL && strchr(s, '`') == NULL;
}

/* Split a target into its kind and name (borrowed from target). */
static int
parse_target(const char *target, enum dbx_kind *kind, const char **name,
    char *why, size_t whysz)
{
	const char *colon, *p, *dot;
	size_t parts = 0;
	int k;

	if (target == NULL || (colon = strchr(target, ':')) == NULL) {
		snprintf(why, whysz, "a target is kind:name");
		return -1;
	}
	if ((k = kind_lookup(target, (size_t)(colon - target))) < 0) {
		snprintf(why, whysz, "unknown kind '%.*s' (group, catalog, "
		    "schema, table)", (int)(colon - target), target);
		return -1;
	}
	p = colon + 1;
	if (*p == '\0') {
		snprintf(why, whysz, "the name is empty");
		return -1;
	}
	if (has_ctrl(p)) {
		snprintf(why, whysz, "the name contains control characters");
		return -1;
	}
	*kind = (enum dbx_kind)k;
	*name = p;
	if (k == DK_GROUP)
		return 0;
	if (strchr(p, '`') != NULL) {
		snprintf(why, whysz, "write names without backticks: "
		    "%s:CATALOG%s", dbx_kind_names[k], k == DK_CATALOG ? "" :
		    k == DK_SCHEMA ? ".SCHEMA" : ".SCHEMA.TABLE");
		return -1;
	}
	for (;;) {
		dot = strchr(p, '.');
		if ((dot ? (size_t)(dot - p) : strlen(p)) == 0) {
			snprintf(why, whysz, "a part of the name is empty");
			return -1;
		}
		parts++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (parts != dbx_nparts[k]) {
		snprintf(why, whysz, "a %s is named %s (%zu part%s, not %zu)",
		    dbx_kind_names[k], k == DK_CATALOG ? "CATALOG" :
		    k == DK_SCHEMA ? "CATALOG.SCHEMA" : "CATALOG.SCHEMA.TABLE",
		    dbx_nparts[k], dbx_nparts[k] == 1 ? "" : "s", parts);
		return -1;
	}
	return 0;
}

int
dbx_check_target(const char *target, char *why, size_t whysz)
{
	enum dbx_kind k;
	const char *name;

	return parse_target(target, &k, &name, why, whysz);
}

/* Unity Catalog privileges are UPPER_SNAKE; which ones exist is the
 * platform's to say. */
int
dbx_privilege_ok(const char *p)
{
	if (p == NULL || *p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!(*p >= 'A' && *p <= 'Z') && *p != '_')
			return 0;
	return 1;
}

/* "/api/2.1/unity-catalog/permissions/table/main.sales.orders", each part
 * percent-encoded; NULL for a group or a bad target.  Newly allocated. */
char *
dbx_permissions_path(const char *target)
{
	struct buf b = BUF_INIT;
	enum dbx_kind k;
	const char *name, *p, *dot;
	char why[128], *part, *esc;

	if (parse_target(target, &k, &name, why, sizeof(why)) != 0 ||
	    k == DK_GROUP)
		return NULL;
	buf_init(&b, 0);
	buf_printf(&b, DBX_UC "/permissions/%s/", dbx_kind_names[k]);
	for (p = name;; p = dot + 1) {
		dot = strchr(p, '.');
		part = dot ? xstrndup(p, (size_t)(dot - p)) : xstrdup(p);
		esc = http_escape(part);
		buf_puts(&b, esc);
		free(esc);
		free(part);
		if (dot == NULL)
			break;
		buf_putc(&b, '.');
	}
	return buf_detach(&b);
}

/* The UC principal of an account: a user's userName as is, "group:X" X,
 * "service:A" A; NULL for an account no principal can name ("id:..."). */
char *
dbx_uc_principal(const char *account)
{
	if (account == NULL || *account == '\0')
		return NULL;
	if (strncmp(account, "group:", 6) == 0)
		return account[6] ? xstrdup(account + 6) : NULL;
	if (strncmp(account, "service:", 8) == 0)
		return account[8] ? xstrdup(account + 8) : NULL;
	if (strncmp(account, "id:", 3) == 0 ||
	    strncmp(account, "role:", 5) == 0)
		return NULL;
	return xstrdup(account);
}

static json_t *
changes_find(json_t *changes, const char *principal)
{
	json_t *ch;
	size_t i;

	json_array_foreach(changes, i, ch)
		if (strcmp(json_string_value(json_object_get(ch,
		    "principal")), principal) == 0)
			return ch;
	return NULL;
}

static void
add_unique(json_t *ch, const char *key, const char *priv)
{
	json_t *a = json_object_get(ch, key), *v;
	size_t i;

	if (a == NULL) {
		a = json_array();
		json_object_set_new(ch, key, a);
	}
	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), priv) == 0)
			return;
	json_array_append_new(a, json_string(priv));
}

/*
 * {"changes":[{"principal":P,"add":[...],"remove":[...]},...]} for one
 * securable, one change per principal in the order first seen.  Items
 * must have checked privileges and accounts with a principal; NULL when
 * a principal is not UTF-8.  Newly allocated.
 */
char *
dbx_uc_body(const struct change_item *const *items, size_t n)
{
	json_t *o, *changes, *ch;
	char *principal, *s = NULL;
	size_t i;

	o = json_object();
	changes = json_array();
	json_object_set_new(o, "changes", changes);
	for (i = 0; i < n; i++) {
		if ((principal = dbx_uc_principal(items[i]->g.account)) ==
		    NULL)
			goto out;
		if ((ch = changes_find(changes, principal)) == NULL) {
			json_t *p = json_string(principal);

			if (p == NULL) {
				free(principal);
				goto out;
			}
			ch = json_object();
			json_object_set_new(ch, "principal", p);
			json_array_append_new(changes, ch);
		}
		free(principal);
		add_unique(ch, items[i]->revoke ? "remove" : "add",
		    items[i]->g.privilege);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(o);
	return s;
}

static char *
clip(const char *s, size_t max)
{
	size_t n = strlen(s);
	char *o;

	if (n <= max)
		return xstrdup(s);
	o = xmalloc(max + 4);
	memcpy(o, s, max);
	memcpy(o + max, "...", 4);
	return o;
}

/*
 * "HTTP 400 INVALID_PARAMETER_VALUE: message" from a Databricks error body
 * {"error_code","message"}, "HTTP 404 invalidValue: detail" from a SCIM one
 * {"detail","status","scimType"}, "HTTP 400: error" from a legacy
 * {"error"}; NULL when the body is none of these.  Newly allocated.
 */
char *
dbx_error_text(long status, const char *body, size_t len)
{
	json_t *j;
	const char *code, *msg, *detail, *type, *legacy;
	char *m = NULL, *out = NULL;

	if (body == NULL || len == 0 ||
	    (j = json_loadb(body, len, 0, NULL)) == NULL)
		return NULL;
	if (!json_is_object(j))
		goto done;
	code = json_string_value(json_object_get(j, "error_code"));
	msg = json_string_value(json_object_get(j, "message"));
	detail = json_string_value(json_object_get(j, "detail"));
	type = json_string_value(json_object_get(j, "scimType"));
	legacy = json_string_value(json_object_get(j, "error"));
	if (code != NULL || msg != NULL) {
		m = clip(msg ? msg : "", 300);
		out = xasprintf("HTTP %ld%s%s%s%s", status, code ? " " : "",
		    code ? code : "", *m ? ": " : "", m);
	} else if (detail != NULL || type != NULL) {
		m = clip(detail ? detail : "", 300);
		out = xasprintf("HTTP %ld%s%s%s%s", status, type ? " " : "",
		    type ? type : "", *m ? ": " : "", m);
	} else if (legacy != NULL) {
		m = clip(legacy, 300);
		out = xasprintf("HTTP %ld: %s", status, m);
	}
	if (out != NULL && has_ctrl(out)) {
		char *p;

		for (p = out; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	}
done:
	free(m);
	json_decref(j);
	return out;
}

/*
 * Could `pattern` match some string that starts with `prefix`?  Errs on
 * the side of yes (a '*' ends the question), so that pruning a listing
 * never hides a securable the glob reaches.
 */
int
dbx_prefix_possible(const char *pattern, const char *prefix)
{
	const char *p = pattern, *s = prefix, *q;

	while (*s != '\0') {
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '[' && (q = strchr(p + 2, ']')) != NULL) {
			/* A bracket: taken to match any one character. */
			p = q + 1;
			s++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return 1;
}

static int
is_managed(struct dbx_conn *c, const char *target)
{
	size_t i;

	for (i = 0; i < c->nmanaged; i++)
		if (glob_match(c->managed[i], target))
			return 1;
	return 0;
}

/* --- identities --- */

static void
ids_release(struct dbx_ids *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->id[i]);
		free(d->acct[i]);
		free(d->principal[i]);
	}
	free(d->id);
	free(d->acct);
	free(d->principal);
	free(d->kind);
	strmap_release(&d->by_id);
	strmap_release(&d->by_acct);
	strmap_release(&d->by_principal);
	memset(d, 0, sizeof(*d));
}

static void
ids_add(struct dbx_ids *d, const char *id, const char *acct,
    const char *principal, enum account_kind kind)
{
	size_t a = d->alloc;

	if (d->n == d->alloc) {
		d->id = xgrow(d->id, sizeof(*d->id), d->n, &a);
		a = d->alloc;
		d->acct = xgrow(d->acct, sizeof(*d->acct), d->n, &a);
		a = d->alloc;
		d->principal = xgrow(d->principal, sizeof(*d->principal),
		    d->n, &a);
		a = d->alloc;
		d->kind = xgrow(d->kind, sizeof(*d->kind), d->n, &a);
		d->alloc = a;
	}
	d->id[d->n] = xstrdup(id);
	d->acct[d->n] = xstrdup(acct);
	d->principal[d->n] = xstrdup(principal);
	d->kind[d->n] = kind;
	strmap_put(&d->by_id, id, d->n);
	strmap_put(&d->by_acct, acct, d->n);
	d->n++;
}

/* UC names a user by userName, a group by displayName, a service
 * principal by applicationId; should two coincide, a user wins over a
 * group and a group over a service principal (later puts replace). */
static void
ids_index_principals(struct dbx_ids *d)
{
	static const enum account_kind order[] = {
		ACCT_SERVICE, ACCT_GROUP, ACCT_USER
	};
	size_t i, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < d->n; i++)
			if (d->kind[i] == order[k])
				strmap_put(&d->by_principal, d->principal[i],
				    i);
}

/* --- sending --- */

static void
headers_drop(struct dbx_conn *c)
{
	if (c->authz != NULL) {
		explicit_bzero(c->authz, strlen(c->authz));
		free(c->authz);
		c->authz = NULL;
	}
	c->hdrs[0] = NULL;
}

static int
headers_make(struct dbx_conn *c, struct diag *err)
{
	const char *h;

	headers_drop(c);
	if ((h = auth_header(c->auth, err)) == NULL)
		return diag_prefix(err, "platform %s", c->base.name);
	c->authz = xasprintf("Authorization: %s", h);
	c->hdrs[0] = c->authz;
	c->hdrs[1] = "Accept: application/json";
	c->hdrs[2] = NULL;
	return 0;
}

/*
 * Send n requests (concurrently when n > 1); a 401 renews the token and
 * sends that request once more.  On 0 every rs[i] holds a response, which
 * the caller releases; on -1 none is left to release.
 */
static int
dbx_send(struct dbx_conn *c, struct http_req *rq, size_t n,
    struct http_resp *rs, struct diag *err)
{
	size_t i;
	int again = 0, rc = -1;

	memset(rs, 0, n * sizeof(*rs));
	if (headers_make(c, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		rq[i].headers = c->hdrs;
	if ((n == 1 ? http_do(c->http, rq, rs, err) :
	    http_do_many(c->http, rq, n, rs, err)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (rs[i].status == 401)
			again = 1;
	if (again) {
		log_debug("platform %s: HTTP 401, renewing the token",
		    c->base.name);
		auth_invalidate(c->auth);
		if (headers_make(c, err) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if (rs[i].status != 401)
				continue;
			http_resp_release(&rs[i]);
			memset(&rs[i], 0, sizeof(rs[i]));
			rq[i].headers = c->hdrs;
			if (http_do(c->http, &rq[i], &rs[i], err) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	headers_drop(c);
	if (rc != 0)
		for (i = 0; i < n; i++) {
			http_resp_release(&rs[i]);
			memset(&rs[i], 0, sizeof(rs[i]));
		}
	return rc;
}

static int
collect_items(void *arg, json_t *page, json_t *items, struct diag *err)
{
	(void)page;
	(void)err;
	return json_array_extend((json_t *)arg, items) == 0 ? 0 : -1;
}

/*
 * Every item of a listing into acc (emptied first).  A walk refused with
 * a 401 is walked again, once, with a renewed token.
 */
static int
dbx_list(struct dbx_conn *c, struct http_pager *pg, json_t *acc,
    struct diag *err)
{
	long status = 0, *keep = pg->status;
	int attempt, rc = -1;

	pg->status = &status;
	for (attempt = 0; attempt < 2; attempt++) {
		json_array_clear(acc);
		if (headers_make(c, err) != 0)
			return -1;
		pg->headers = c->hdrs;
		rc = http_paginate(c->http, pg, collect_items, acc, err);
		headers_drop(c);
		pg->headers = NULL;
		if (rc == 0 || attempt > 0 || status != 401)
			break;
		log_debug("platform %s: HTTP 401, renewing the token",
		    c->base.name);
		auth_invalidate(c->auth);
	}
	pg->status = keep;
	if (keep != NULL)
		*keep = status;
	return rc;
}

/* One ServicePrincipals resource into in and ids. */
struct sp_acc {
	struct dbx_conn *c;
	struct ingest *in;
	struct dbx_ids *ids;
};

static int
sp_cb(void *arg, json_t *res, struct diag *err)
{
	struct sp_acc *a = arg;
	const char *id, *app;
	char *acct;

	id = json_string_value(json_object_get(res, "id"));
	app = json_string_value(json_object_get(res, "applicationId"));
	if (id == NULL || *id == '\0' || app == NULL || *app == '\0')
		return diag_set(err, "platform %s: GET %s/ServicePrincipals: a "
		    "service principal without id or applicationId",
		    a->c->base.name, DBX_SCIM_PREFIX);
	acct = xasprintf("service:%s", app);
	ingest_add_ident(a->in, acct, NULL, NULL, ACCT_SERVICE);
	ids_add(a->ids, id, acct, app, ACCT_SERVICE);
	free(acct);
	return 0;
}

/*
 * Users, service principals and groups into in (as idents) and ids; the
 * groups, with their members, into *groups (scim_groups_free).
 */
static int
load_idents(struct dbx_conn *c, struct ingest *in, struct dbx_ids *ids,
    struct scim_group **groups, size_t *ngroups, struct diag *err)
{
	struct scim_user *users = NULL;
	size_t nusers = 0, i;
	struct sp_acc sa = { c, in, ids };
	char *acct;
	int rc = -1;

	*groups = NULL;
	*ngroups = 0;
	if (scim_list_users(&c->scim, &users, &nusers, err) != 0)
		goto out;
	for (i = 0; i < nusers; i++) {
		const struct scim_user *u = &users[i];

		if (u->id == NULL || u->user_name == NULL ||
		    *u->user_name == '\0') {
			diag_set(err, "platform %s: GET %s/Users: a user without "
			    "id or userName", c->base.name, DBX_SCIM_PREFIX);
			goto out;
		}
		/* DESIGN §13: Databricks matches email against userName. */
		ingest_add_ident(in, u->user_name, strchr(u->user_name, '@') ?
		    u->user_name : u->email, NULL, ACCT_USER);
		ids_add(ids, u->id, u->user_name, u->user_name, ACCT_USER);
	}
	if (scim_list(&c->scim, "/ServicePrincipals",
	    "attributes=id,applicationId,displayName", sp_cb, &sa, err) != 0)
		goto out;
	if (scim_list_groups(&c->scim, groups, ngroups, err) != 0)
		goto out;
	for (i = 0; i < *ngroups; i++) {
		const struct scim_group *g = &(*groups)[i];

		if (g->id == NULL || g->display_name == NULL ||
		    *g->display_name == '\0') {
			diag_set(err, "platform %s: GET %s/Groups: a group "
			    "without id or displayName", c->base.name,
			    DBX_SCIM_PREFIX);
			goto out;
		}
		acct = xasprintf("group:%s", g->display_name);
		ingest_add_ident(in, acct, NULL, NULL, ACCT_GROUP);
		ids_add(ids, g->id, acct, g->display_name, ACCT_GROUP);
		free(acct);
	}
	ids_index_principals(ids);
	rc = 0;
out:
	if (rc != 0) {
		scim_groups_free(*groups, *ngroups);
		*groups = NULL;
		*ngroups = 0;
	}
	scim_users_free(users, nusers);
	return rc;
}

/* Memberships of managed groups as grants. */
static void
ingest_members(struct dbx_conn *c, struct ingest *in,
    const struct dbx_ids *ids, const struct scim_group *groups, size_t n)
{
	size_t i, j, at;
	char *target, *unknown;

	for (i = 0; i < n; i++) {
		target = xasprintf("group:%s", groups[i].display_name);
		if (!is_managed(c, target)) {
			free(target);
			continue;
		}
		for (j = 0; j < groups[i].nmembers; j++) {
			const char *mid = groups[i].members[j].id;

			if (mid == NULL)
				continue;
			if (strmap_get(&ids->by_id, mid, &at))
				ingest_add_grant(in, ids->acct[at], target,
				    "member");
			else {
				unknown = xasprintf("id:%s", mid);
				ingest_add_grant(in, unknown, target, "member");
				free(unknown);
			}
		}
		free(target);
	}
}

/* --- Unity Catalog: which securables --- */

struct uc_set {
	char **target;		/* "kind:full name" */
	size_t n, alloc;
	struct strmap seen;
	json_t *listed;		/* parent ("" for the metastore) -> names */
};

static void
uc_set_add(struct uc_set *s, const char *target)
{
	if (strmap_get(&s->seen, target, NULL))
		return;
	strmap_put(&s->seen, target, s->n);
	s->target = xgrow(s->target, sizeof(*s->target), s->n, &s->alloc);
	s->target[s->n++] = xstrdup(target);
}

static void
uc_set_release(struct uc_set *s)
{
	strv_free(s->target, s->n);
	strmap_release(&s->seen);
	json_decref(s->listed);
	memset(s, 0, sizeof(*s));
}

/* A listing of what does not exist is empty, not a failure: a managed
 * catalog may not have been created yet. */
static int
missing(long status, const struct diag *err)
{
	return status == 404 &&
	    strstr(err->msg, "DOES_NOT_EXIST") != NULL;
}

/*
 * The names of the children of parent: catalogs (level 0, parent ""),
 * schemas of "C" (1), tables of "C.S" (2).  Each listed once per ingest;
 * *names is borrowed from s->listed.
 */
static int
uc_children(struct dbx_conn *c, struct uc_set *s, int level,
    const char *parent, json_t **names, struct diag *err)
{
	static const char *const fields[] = { "catalogs", "schemas", "tables" };
	struct http_pager pg;
	long status = 0;
	json_t *acc = NULL, *out, *it;
	char *path = NULL, *cat = NULL, *e1 = NULL, *e2 = NULL;
	const char *dot, *name;
	size_t i;
	int rc = -1;

	if ((*names = json_object_get(s->listed, parent)) != NULL)
		return 0;
	if (level == 0)
		path = xstrdup(DBX_UC "/catalogs?max_results=0");
	else if (level == 1) {
		e1 = http_escape(parent);
		path = xasprintf(DBX_UC "/schemas?catalog_name=%s"
		    "&max_results=0", e1);
	} else {
		dot = strchr(parent, '.');
		cat = xstrndup(parent, (size_t)(dot - parent));
		e1 = http_escape(cat);
		e2 = http_escape(dot + 1);
		path = xasprintf(DBX_UC "/tables?catalog_name=%s"
		    "&schema_name=%s&max_results=0", e1, e2);
	}
	memset(&pg, 0, sizeof(pg));
	pg.kind = PAGE_TOKEN;
	pg.path = path;
	pg.token_field = "next_page_token";
	pg.token_param = "page_token";
	pg.items_field = fields[level];
	pg.status = &status;
	acc = json_array();
	out = json_array();
	if (dbx_list(c, &pg, acc, err) != 0) {
		if (level == 0 || !missing(status, err)) {
			json_decref(out);
			goto out;
		}
		log_debug("platform %s: %s does not exist", c->base.name,
		    parent);
		json_array_clear(acc);
	}
	json_array_foreach(acc, i, it) {
		name = json_string_value(json_object_get(it, "name"));
		if (!part_ok(name)) {
			log_debug("platform %s: GET %s: skipping a name accord "
			    "cannot spell", c->base.name, path);
			continue;
		}
		json_array_append_new(out, json_string(name));
	}
	json_object_set_new(s->listed, parent, out);
	*names = out;
	rc = 0;
out:
	json_decref(acc);
	free(path);
	free(cat);
	free(e1);
	free(e2);
	return rc;
}

/*
 * Securables of kind k under parent (level parts) that pattern (a whole
 * "kind:glob") matches, listing only the branches it can reach.
 */
static int
uc_expand(struct dbx_conn *c, struct uc_set *s, enum dbx_kind k,
    const char *pattern, int level, const char *parent, struct diag *err)
{
	json_t *names, *v;
	char *full, *target;
	size_t i;
	int rc = 0;

	if (uc_children(c, s, level, parent, &names, err) != 0)
		return -1;
	json_incref(names);
	json_array_foreach(names, i, v) {
		full = level == 0 ? xstrdup(json_string_value(v)) :
		    xasprintf("%s.%s", parent, json_string_value(v));
		if ((size_t)level + 1 == dbx_nparts[k]) {
			target = xasprintf("%s:%s", dbx_kind_names[k], full);
			if (glob_match(pattern, target))
				uc_set_add(s, target);
		} else {
			target = xasprintf("%s:%s.", dbx_kind_names[k], full);
			if (dbx_prefix_possible(pattern, target))
				rc = uc_expand(c, s, k, pattern, level + 1,
				    full, err);
		}
		free(target);
		free(full);
		if (rc != 0)
			break;
	}
	json_decref(names);
	return rc;
}

/* One managed entry: exact names as they are, globs expanded from the
 * deepest parent their literal beginning fixes. */
static int
uc_managed(struct dbx_conn *c, struct uc_set *s, const char *pattern,
    struct diag *err)
{
	const char *colon = strchr(pattern, ':'), *name, *g, *p;
	char why[256], *parent;
	size_t lit = 0;
	int k;

	if (colon == NULL || (k = kind_lookup(pattern,
	    (size_t)(colon - pattern))) < 0 || k == DK_GROUP)
		return 0;
	name = colon + 1;
	if (!has_glob(name)) {
		if (dbx_check_target(pattern, why, sizeof(why)) != 0)
			return diag_set(err, "platform %s: managed '%s': %s",
			    c->base.name, pattern, why);
		uc_set_add(s, pattern);
		return 0;
	}
	g = name + strcspn(name, "*?[");
	for (p = name; p < g; p++)
		if (*p == '.')
			lit++;
	if (lit >= dbx_nparts[k])
		return 0;	/* reaches nothing a name can be */
	if (lit == 0)
		return uc_expand(c, s, (enum dbx_kind)k, pattern, 0, "", err);
	/* The parts before the last '.' ahead of the first wildcard. */
	for (p = g; *p != '.'; p--)
		;
	parent = xstrndup(name, (size_t)(p - name));
	k = uc_expand(c, s, (enum dbx_kind)k, pattern, (int)lit, parent, err);
	free(parent);
	return k;
}

static int
uc_securables(struct dbx_conn *c, struct uc_set *s, struct diag *err)
{
	enum dbx_kind k;
	const char *name;
	char why[256];
	size_t i;

	s->listed = json_object();
	for (i = 0; i < c->nmanaged; i++)
		if (uc_managed(c, s, c->managed[i], err) != 0)
			return -1;
	for (i = 0; i < c->ntargets; i++)
		if (parse_target(c->targets[i], &k, &name, why,
		    sizeof(why)) == 0 && k != DK_GROUP &&
		    is_managed(c, c->targets[i]))
			uc_set_add(s, c->targets[i]);
	return 0;
}

/* --- Unity Catalog: permissions --- */

static char *
principal_account(const struct dbx_ids *ids, const char *principal)
{
	size_t at;

	if (strmap_get(&ids->by_principal, principal, &at))
		return xstrdup(ids->acct[at]);
	return xstrdup(principal);
}

/* One page of GET permissions into in; *next the next page's token. */
static int
uc_page(struct dbx_conn *c, struct ingest *in, const struct dbx_ids *ids,
    const char *target, const struct http_req *rq,
    const struct http_resp *rs, char **next, struct diag *err)
{
	json_t *body, *pa, *a, *privs, *pv, *tok;
	const char *principal, *priv;
	char *acct, *text;
	size_t i, j;
	int rc = -1;

	*next = NULL;
	if (rs->status == 404 && (text = dbx_error_text(rs->status,
	    rs->body.ptr, rs->body.len)) != NULL) {
		int gone = strstr(text, "DOES_NOT_EXIST") != NULL;

		free(text);
		if (gone) {
			log_debug("platform %s: %s does not exist",
			    c->base.name, target);
			return 0;
		}
	}
	if (rs->status != 200) {
		if ((text = dbx_error_text(rs->status, rs->body.ptr,
		    rs->body.len)) != NULL) {
			diag_set(err, "platform %s: GET %s: %s", c->base.name,
			    rq->path, text);
			free(text);
			return -1;
		}
		return http_fail(err, c->http, rq, rs);
	}
	if ((body = http_json(rs, rq->path, err)) == NULL)
		return diag_prefix(err, "platform %s: %s", c->base.name,
		    target);
	if (!json_is_object(body)) {
		diag_set(err, "platform %s: GET %s: the answer is not an "
		    "object", c->base.name, rq->path);
		goto out;
	}
	pa = json_object_get(body, "privilege_assignments");
	if (pa != NULL && !json_is_null(pa) && !json_is_array(pa)) {
		diag_set(err, "platform %s: GET %s: privilege_assignments is "
		    "not a list", c->base.name, rq->path);
		goto out;
	}
	json_array_foreach(pa, i, a) {
		principal = json_string_value(json_object_get(a, "principal"));
		privs = json_object_get(a, "privileges");
		if (principal == NULL || *principal == '\0' ||
		    (privs != NULL && !json_is_array(privs) &&
		    !json_is_null(privs))) {
			diag_set(err, "platform %s: GET %s: assignment %zu has "
			    "no principal or a bad privileges list",
			    c->base.name, rq->path, i + 1);
			goto out;
		}
		acct = principal_account(ids, principal);
		json_array_foreach(privs, j, pv) {
			/* Strings here; objects {"privilege": ...} in the
			 * effective-permissions shape. */
			priv = json_is_string(pv) ? json_string_value(pv) :
			    json_string_value(json_object_get(pv, "privilege"));
			if (priv == NULL || *priv == '\0') {
				free(acct);
				diag_set(err, "platform %s: GET %s: assignment "
				    "%zu holds a privilege that is not a name",
				    c->base.name, rq->path, i + 1);
				goto out;
			}
			ingest_add_grant(in, acct, target, priv);
		}
		free(acct);
	}
	tok = json_object_get(body, "next_page_token");
	if (json_is_string(tok) && json_string_length(tok) > 0)
		*next = xstrdup(json_string_value(tok));
	else if (tok != NULL && !json_is_null(tok) && !json_is_string(tok)) {
		diag_set(err, "platform %s: GET %s: next_page_token is not a "
		    "string", c->base.name, rq->path);
		goto out;
	}
	rc = 0;
out:
	json_decref(body);
	return rc;
}

/* The pages after the first of one securable, one at a time. */
static int
uc_rest(struct dbx_conn *c, struct ingest *in, const struct dbx_ids *ids,
    const char *target, const char *first, char *token, struct diag *err)
{
	struct http_req rq;
	struct http_resp rs;
	json_t *seen = json_object();
	char *esc, *path = NULL, *next = NULL;
	long pages = 1;
	int rc = -1;

	while (token != NULL) {
		if (json_object_get(seen, token) != NULL) {
			diag_set(err, "platform %s: GET %s: pagination did not "
			    "advance: page %ld repeats an earlier "
			    "next_page_token", c->base.name, first, pages);
			goto out;
		}
		if (++pages > DBX_MAX_PAGES) {
			diag_set(err, "platform %s: GET %s: more than %d pages",
			    c->base.name, first, DBX_MAX_PAGES);
			goto out;
		}
		json_object_set_new(seen, token, json_null());
		esc = http_escape(token);
		free(path);
		path = xasprintf("%s&page_token=%s", first, esc);
		free(esc);
		memset(&rq, 0, sizeof(rq));
		rq.method = "GET";
		rq.path = path;
		if (dbx_send(c, &rq, 1, &rs, err) != 0)
			goto out;
		rc = uc_page(c, in, ids, target, &rq, &rs, &next, err);
		http_resp_release(&rs);
		if (rc != 0)
			goto out;
		rc = -1;
		free(token);
		token = next;
		next = NULL;
	}
	rc = 0;
out:
	free(token);
	free(path);
	json_decref(seen);
	return rc;
}

static int
uc_permissions(struct dbx_conn *c, struct ingest *in,
    const struct dbx_ids *ids, const struct uc_set *s, struct diag *err)
{
	struct http_req *rq;
	struct http_resp *rs;
	char **base, *token;
	size_t i, j, m;
	int sent = 0, rc = -1;

	if (s->n == 0)
		return 0;
	rq = xcalloc(DBX_BATCH, sizeof(*rq));
	rs = xcalloc(DBX_BATCH, sizeof(*rs));
	base = xcalloc(DBX_BATCH, sizeof(*base));
	for (i = 0; i < s->n; i += m) {
		m = s->n - i < DBX_BATCH ? s->n - i : DBX_BATCH;
		for (j = 0; j < m; j++) {
			char *p = dbx_permissions_path(s->target[i + j]);

			base[j] = xasprintf("%s?max_results=0", p);
			free(p);
			memset(&rq[j], 0, sizeof(rq[j]));
			rq[j].method = "GET";
			rq[j].path = base[j];
		}
		if (dbx_send(c, rq, m, rs, err) != 0)
			goto out;
		sent = 1;
		for (j = 0; j < m; j++) {
			if (uc_page(c, in, ids, s->target[i + j], &rq[j],
			    &rs[j], &token, err) != 0 ||
			    uc_rest(c, in, ids, s->target[i + j], base[j],
			    token, err) != 0)
				goto out;
		}
		for (j = 0; j < m; j++) {
			http_resp_release(&rs[j]);
			memset(&rs[j], 0, sizeof(rs[j]));
			free(base[j]);
			base[j] = NULL;
		}
		sent = 0;
	}
	rc = 0;
out:
	for (j = 0; j < DBX_BATCH; j++) {
		if (sent)
			http_resp_release(&rs[j]);
		free(base[j]);
	}
	free(rq);
	free(rs);
	free(base);
	return rc;
}

static int
databricks_ingest(struct connector *base, struct ingest *out,
    struct diag *err)
{
	struct dbx_conn *c = (struct dbx_conn *)base;
	struct ingest in = { 0 };
	struct dbx_ids ids;
	struct scim_group *groups = NULL;
	struct uc_set s;
	size_t i, ngroups = 0;
	int rc = -1;

	memset(&ids, 0, sizeof(ids));
	memset(&s, 0, sizeof(s));
	if (load_idents(c, &in, &ids, &groups, &ngroups, err) != 0)
		goto out;
	ingest_members(c, &in, &ids, groups, ngroups);
	if (uc_securables(c, &s, err) != 0 ||
	    uc_permissions(c, &in, &ids, &s, err) != 0)
		goto out;
	log_debug("platform %s: %zu identities, %zu securables read",
	    c->base.name, in.nidents, s.n);
	for (i = 0; i < in.nidents; i++)
		ingest_add_ident(out, in.idents[i].name, in.idents[i].email,
		    in.idents[i].login, in.idents[i].kind);
	for (i = 0; i < in.ngrants; i++)
		ingest_add_grant(out, in.grants[i].account, in.grants[i].target,
		    in.grants[i].privilege);
	ids_release(&c->ids);
	c->ids = ids;
	memset(&ids, 0, sizeof(ids));
	c->have_ids = 1;
	rc = 0;
out:
	ids_release(&ids);
	scim_groups_free(groups, ngroups);
	uc_set_release(&s);
	ingest_release(&in);
	return rc;
}

/* --- apply --- */

static void
item_fail(struct change_item *it, const char *msg)
{
	it->ok = 0;
	diag_set(&it->err, "%s", msg);
}

static void
item_ok(struct change_item *it, const char *detail)
{
	it->ok = 1;
	diag_clear(&it->err);
	buf_reset(&it->detail);
	buf_puts(&it->detail, detail);
}

/* "HTTP 200: <answer, clipped>" for a detail. */
static char *
answer_text(const struct http_resp *rs)
{
	char *red, *cl, *out, *p;

	if (rs->body.len == 0)
		return xasprintf("HTTP %ld", rs->status);
	red = http_redact(rs->body.ptr);
	cl = clip(red, DBX_ANSWER_MAX);
	for (p = cl; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	out = xasprintf("HTTP %ld: %s", rs->status, cl);
	free(red);
	free(cl);
	return out;
}

/* The identity maps for apply, when no ingest ran on this instance. */
static int
ensure_ids(struct dbx_conn *c, struct diag *err)
{
	struct ingest in = { 0 };
	struct dbx_ids ids;
	struct scim_group *groups = NULL;
	size_t ngroups = 0;

	if (c->have_ids)
		return 0;
	memset(&ids, 0, sizeof(ids));
	if (load_idents(c, &in, &ids, &groups, &ngroups, err) != 0) {
		ids_release(&ids);
		ingest_release(&in);
		return -1;
	}
	scim_groups_free(groups, ngroups);
	ingest_release(&in);
	ids_release(&c->ids);
	c->ids = ids;
	c->have_ids = 1;
	return 0;
}

/* The SCIM id of a member account; NULL when the workspace has none. */
static const char *
member_id(struct dbx_conn *c, const char *account)
{
	size_t at;

	if (strncmp(account, "id:", 3) == 0 && account[3] != '\0')
		return account + 3;
	if (strmap_get(&c->ids.by_acct, account, &at))
		return c->ids.id[at];
	return NULL;
}

/* One SCIM PATCH for the items on group `name` (indexes idx[0..n)). */
static void
apply_group(struct dbx_conn *c, struct change_item *items, const size_t *idx,
    size_t n, const char *name)
{
	struct scim_group g;
	struct diag err;
	struct buf detail = BUF_INIT;
	char **add, **rem, *msg, *acct;
	const char *gid = NULL, *mid;
	size_t i, nadd = 0, nrem = 0, at, *live;
	size_t nlive = 0;
	int found, rc;

	memset(&g, 0, sizeof(g));
	add = xcalloc(n, sizeof(*add));
	rem = xcalloc(n, sizeof(*rem));
	live = xcalloc(n, sizeof(*live));
	buf_init(&detail, 4096);
	acct = xasprintf("group:%s", name);
	if (strmap_get(&c->ids.by_acct, acct, &at))
		gid = c->ids.id[at];
	else {
		memset(&err, 0, sizeof(err));
		if ((found = scim_find_group(&c->scim, name, &g, &err)) < 0) {
			for (i = 0; i < n; i++)
				item_fail(&items[idx[i]], err.msg);
			goto out;
		}
		gid = found ? g.id : NULL;
	}
	for (i = 0; i < n; i++) {
		struct change_item *it = &items[idx[i]];

		if (strcmp(it->g.privilege, "member") != 0) {
			msg = xasprintf("platform %s: %s: the only privilege "
			    "on a group is member, not '%s'", c->base.name,
			    it->g.target, it->g.privilege);
			item_fail(it, msg);
			free(msg);
			continue;
		}
		if (gid == NULL) {
			if (it->revoke)
				item_ok(it, "group not found: nothing to "
				    "remove");
			else {
				msg = xasprintf("platform %s: %s: no such group "
				    "in the workspace", c->base.name,
				    it->g.target);
				item_fail(it, msg);
				free(msg);
			}
			continue;
		}
		if ((mid = member_id(c, it->g.account)) == NULL) {
			msg = xasprintf("platform %s: %s %s %s %s: no user, group "
			    "or service principal '%s' in the workspace",
			    c->base.name, it->revoke ? "remove" : "add",
			    it->g.account, it->revoke ? "from" : "to",
			    it->g.target, it->g.account);
			item_fail(it, msg);
			free(msg);
			continue;
		}
		if (it->revoke)
			rem[nrem++] = (char *)mid;
		else
			add[nadd++] = (char *)mid;
		live[nlive++] = idx[i];
	}
	if (nlive == 0)
		goto out;
	memset(&err, 0, sizeof(err));
	log_debug("platform %s: PATCH group %s: %zu to add, %zu to remove",
	    c->base.name, name, nadd, nrem);
	rc = scim_patch_members(&c->scim, gid, add, nadd, rem, nrem, &detail,
	    &err);
	for (i = 0; i < nlive; i++) {
		struct change_item *it = &items[live[i]];

		/* scim_patch_members counts a 404 on removals alone as
		 * success (§13). */
		if (rc == 0)
			item_ok(it, buf_cstr(&detail));
		else {
			buf_reset(&it->detail);
			buf_puts(&it->detail, buf_cstr(&detail));
			item_fail(it, err.msg);
		}
	}
out:
	scim_group_release(&g);
	buf_release(&detail);
	free(acct);
	free(add);
	free(rem);
	free(live);
}

/* A UC securable's items, checked: 0 when the item can go in the body. */
static int
uc_item_check(struct dbx_conn *c, struct change_item *it)
{
	char *p, *msg;

	if (!dbx_privilege_ok(it->g.privilege)) {
		msg = xasprintf("platform %s: %s: privilege '%s' is not an "
		    "UPPER_SNAKE Unity Catalog privilege", c->base.name,
		    it->g.target, it->g.privilege ? it->g.privilege : "");
		item_fail(it, msg);
		free(msg);
		return -1;
	}
	if ((p = dbx_uc_principal(it->g.account)) == NULL) {
		msg = xasprintf("platform %s: %s: account '%s' names no Unity "
		    "Catalog principal", c->base.name, it->g.target,
		    it->g.account ? it->g.account : "");
		item_fail(it, msg);
		free(msg);
		return -1;
	}
	free(p);
	return 0;
}

struct uc_patch {
	char *path, *body;
	const struct change_item **items;	/* the live ones */
	size_t *idx, n;
	int only_removes;
};

/* One PATCH per securable, all sent concurrently. */
static void
apply_uc(struct dbx_conn *c, struct change_item *items, size_t **groups,
    size_t *ngroup, size_t nsec)
{
	struct uc_patch *pt = xcalloc(nsec ? nsec : 1, sizeof(*pt));
	struct http_req *rq = xcalloc(nsec ? nsec : 1, sizeof(*rq));
	struct http_resp *rs = xcalloc(nsec ? nsec : 1, sizeof(*rs));
	size_t *map = xcalloc(nsec ? nsec : 1, sizeof(*map));
	struct diag err;
	char *msg, *ans, *text;
	size_t s, i, m = 0;

	for (s = 0; s < nsec; s++) {
		struct uc_patch *p = &pt[s];

		p->items = xcalloc(ngroup[s], sizeof(*p->items));
		p->idx = xcalloc(ngroup[s], sizeof(*p->idx));
		p->only_removes = 1;
		for (i = 0; i < ngroup[s]; i++) {
			struct change_item *it = &items[groups[s][i]];

			if (uc_item_check(c, it) != 0)
				continue;
			p->items[p->n] = it;
			p->idx[p->n++] = groups[s][i];
			if (!it->revoke)
				p->only_removes = 0;
		}
		if (p->n == 0)
			continue;
		p->path = dbx_permissions_path(p->items[0]->g.target);
		if ((p->body = dbx_uc_body(p->items, p->n)) == NULL) {
			msg = xasprintf("platform %s: PATCH %s: a principal is "
			    "not valid UTF-8", c->base.name, p->path);
			for (i = 0; i < p->n; i++)
				item_fail(&items[p->idx[i]], msg);
			free(msg);
			p->n = 0;
			continue;
		}
		log_debug("platform %s: PATCH %s %s", c->base.name, p->path,
		    p->body);
		rq[m].method = "PATCH";
		rq[m].path = p->path;
		rq[m].body = p->body;
		rq[m].body_len = strlen(p->body);
		rq[m].content_type = "application/json";
		/* Adding a privilege held or removing one absent changes
		 * nothing, so a resent PATCH is harmless. */
		rq[m].retry_unsafe = 1;
		map[m++] = s;
	}
	if (m == 0)
		goto out;
	memset(&err, 0, sizeof(err));
	if (dbx_send(c, rq, m, rs, &err) != 0) {
		for (i = 0; i < m; i++)
			for (s = 0; s < pt[map[i]].n; s++)
				item_fail(&items[pt[map[i]].idx[s]], err.msg);
		goto out;
	}
	for (i = 0; i < m; i++) {
		struct uc_patch *p = &pt[map[i]];
		int good = (rs[i].status >= 200 && rs[i].status <= 299) ||
		    (rs[i].status == 404 && p->only_removes);

		ans = answer_text(&rs[i]);
		memset(&err, 0, sizeof(err));
		if (!good) {
			if ((text = dbx_error_text(rs[i].status, rs[i].body.ptr,
			    rs[i].body.len)) != NULL) {
				diag_set(&err, "platform %s: PATCH %s: %s",
				    c->base.name, p->path, text);
				free(text);
			} else
				http_fail(&err, c->http, &rq[i], &rs[i]);
		}
		for (s = 0; s < p->n; s++) {
			struct change_item *it = &items[p->idx[s]];

			if (good)
				item_ok(it, ans);
			else {
				buf_reset(&it->detail);
				buf_puts(&it->detail, ans);
				item_fail(it, err.msg);
			}
		}
		free(ans);
		http_resp_release(&rs[i]);
	}
out:
	for (s = 0; s < nsec; s++) {
		free(pt[s].path);
		free(pt[s].body);
		free(pt[s].items);
		free(pt[s].idx);
	}
	free(pt);
	free(rq);
	free(rs);
	free(map);
}

static int
databricks_apply_batch(struct connector *base, struct change_item *items,
    size_t n)
{
	struct dbx_conn *c = (struct dbx_conn *)base;
	struct strmap where = STRMAP_INIT;
	struct diag err;
	size_t i, at, nobj = 0, nuc = 0, *nin, **in, *ucn, **uc;
	char **names, why[256], *msg;
	enum dbx_kind *kinds, k;
	const char *name;
	int need_ids = 0, failed = 0;

	nin = xcalloc(n ? n : 1, sizeof(*nin));
	in = xcalloc(n ? n : 1, sizeof(*in));
	names = xcalloc(n ? n : 1, sizeof(*names));
	kinds = xcalloc(n ? n : 1, sizeof(*kinds));
	/* Items grouped by target, in the order first seen. */
	for (i = 0; i < n; i++) {
		struct change_item *it = &items[i];

		it->ok = 0;
		diag_clear(&it->err);
		if (it->g.account == NULL || it->g.privilege == NULL ||
		    parse_target(it->g.target, &k, &name, why,
		    sizeof(why)) != 0) {
			msg = xasprintf("platform %s: bad target '%s': %s",
			    c->base.name, it->g.target ? it->g.target : "",
			    it->g.target ? why : "none");
			item_fail(it, msg);
			free(msg);
			continue;
		}
		if (!strmap_get(&where, it->g.target, &at)) {
			at = nobj++;
			strmap_put(&where, it->g.target, at);
			names[at] = xstrdup(name);
			kinds[at] = k;
			in[at] = xcalloc(n, sizeof(**in));
		}
		in[at][nin[at]++] = i;
		if (k == DK_GROUP)
			need_ids = 1;
	}
	if (need_ids) {
		memset(&err, 0, sizeof(err));
		if (ensure_ids(c, &err) != 0)
			failed = 1;
		for (at = 0; at < nobj; at++) {
			if (kinds[at] != DK_GROUP)
				continue;
			if (failed)
				for (i = 0; i < nin[at]; i++)
					item_fail(&items[in[at][i]], err.msg);
			else
				apply_group(c, items, in[at], nin[at],
				    names[at]);
		}
	}
	ucn = xcalloc(nobj ? nobj : 1, sizeof(*ucn));
	uc = xcalloc(nobj ? nobj : 1, sizeof(*uc));
	for (at = 0; at < nobj; at++)
		if (kinds[at] != DK_GROUP) {
			uc[nuc] = in[at];
			ucn[nuc++] = nin[at];
		}
	apply_uc(c, items, uc, ucn, nuc);
	for (at = 0; at < nobj; at++) {
		free(in[at]);
		free(names[at]);
	}
	free(ucn);
	free(uc);
	free(nin);
	free(in);
	free(names);
	free(kinds);
	strmap_release(&where);
	for (i = 0; i < n; i++)
		if (!items[i].ok)
			return -1;
	return 0;
}

static int
change_one(struct dbx_conn *c, int revoke, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	struct change_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.revoke = revoke;
	it.g = *g;
	buf_init(&it.detail, 4096);
	databricks_apply_batch(&c->base, &it, 1);
	if (detail != NULL)
		buf_puts(detail, buf_cstr(&it.detail));
	rc = it.ok ? 0 : -1;
	if (!it.ok)
		*err = it.err;
	buf_release(&it.detail);
	return rc;
}

static int
databricks_grant(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change_one((struct dbx_conn *)base, 0, g, detail, err);
}

static int
databricks_revoke(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return change_one((struct dbx_conn *)base, 1, g, detail, err);
}

/* --- open / close --- */

static void
databricks_close(struct connector *base)
{
	struct dbx_conn *c = (struct dbx_conn *)base;

	if (c == NULL)
		return;
	headers_drop(c);
	ids_release(&c->ids);
	auth_free(c->auth);
	http_free(c->http);
	if (c->managed != NULL)
		strv_free(c->managed, c->nmanaged);
	if (c->targets != NULL)
		strv_free(c->targets, c->ntargets);
	free(c->base.name);
	free(c);
}

static void
wipe(char **s)
{
	if (*s != NULL) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* Exactly one of token_env, or client_id_env with client_secret_env. */
static int
open_auth(struct dbx_conn *c, const struct connector_cfg *cfg,
    const struct yml_doc *doc, struct diag *err)
{
	const struct yml_node *tok, *id, *sec;
	char *token = NULL, *cid = NULL, *csec = NULL, *url = NULL;
	int rc = -1;

	tok = yml_get(cfg->node, "token_env");
	id = yml_get(cfg->node, "client_id_env");
	sec = yml_get(cfg->node, "client_secret_env");
	if (tok != NULL && (id != NULL || sec != NULL))
		return yml_error(doc, id ? id : sec, err, "platform %s: set "
		    "token_env, or client_id_env and client_secret_env, not "
		    "both", c->base.name);
	if (tok == NULL && id == NULL && sec == NULL)
		return yml_error(doc, cfg->node, err, "platform %s: set "
		    "token_env (a personal access token), or client_id_env "
		    "and client_secret_env (OAuth for a service principal)",
		    c->base.name);
	if (tok == NULL && (id == NULL || sec == NULL))
		return yml_error(doc, id ? id : sec, err, "platform %s: "
		    "client_id_env and client_secret_env go together",
		    c->base.name);
	if (tok != NULL) {
		if (connector_secret(cfg, "token_env", &token, err) != 0)
			goto out;
		if (auth_bearer(&c->auth, token, err) != 0) {
			diag_prefix(err, "platform %s: token_env",
			    c->base.name);
			goto out;
		}
	} else {
		if (connector_secret(cfg, "client_id_env", &cid, err) != 0 ||
		    connector_secret(cfg, "client_secret_env", &csec,
		    err) != 0)
			goto out;
		url = xasprintf("%s/oidc/v1/token", http_base_url(c->http));
		if (auth_oauth_client(&c->auth, c->http, url, cid, csec,
		    "all-apis", err) != 0) {
			diag_prefix(err, "platform %s", c->base.name);
			goto out;
		}
	}
	rc = 0;
out:
	wipe(&token);
	wipe(&cid);
	wipe(&csec);
	free(url);
	return rc;
}

static int
databricks_open(struct connector **out, const struct connector_cfg *cfg,
    struct diag *err)
{
	struct yml_doc doc = { (char *)cfg->config_path, NULL };
	struct http_opts o;
	struct dbx_conn *c;
	long page_size = 100;
	size_t i;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->base.desc = &connector_databricks;
	c->base.name = xstrdup(cfg->name ? cfg->name : "?");
	memset(&o, 0, sizeof(o));
	if (http_opts_from_config(&o, c->base.name, cfg->config_path,
	    cfg->node, NULL, err) != 0)
		goto fail;
	o.user_agent = DBX_USER_AGENT;
	if (yml_int(&doc, cfg->node, "page_size", 0, 1, 10000, &page_size,
	    err) != 0) {
		diag_prefix(err, "platform %s", c->base.name);
		goto fail;
	}
	if (http_open(&c->http, &o, err) != 0)
		goto fail;
	if (open_auth(c, cfg, &doc, err) != 0)
		goto fail;
	c->scim.http = c->http;
	c->scim.auth = c->auth;
	c->scim.platform = c->base.name;
	c->scim.prefix = DBX_SCIM_PREFIX;
	c->scim.page_size = page_size;
	c->managed = xcalloc(cfg->nmanaged + 1, sizeof(*c->managed));
	for (i = 0; i < cfg->nmanaged; i++)
		c->managed[c->nmanaged++] = xstrdup(cfg->managed[i]);
	c->targets = xcalloc(cfg->ntargets + 1, sizeof(*c->targets));
	for (i = 0; i < cfg->ntargets; i++)
		c->targets[c->ntargets++] = xstrdup(cfg->targets[i]);
	*out = &c->base;
	return 0;
fail:
	databricks_close(&c->base);
	return -1;
}

static const struct connector_ops databricks_ops = {
	.version = CONNECTOR_OPS_VERSION,
	.open = databricks_open,
	.ingest = databricks_ingest,
	.grant = databricks_grant,
	.revoke = databricks_revoke,
	.close = databricks_close,
	.apply_batch = databricks_apply_batch,
};

static const char *const databricks_keys[] = {
	"token_env", "client_id_env", "client_secret_env", "page_size", NULL
};

const struct connector_desc connector_databricks = {
	.type = "databricks",
	.caps = CAP_ENUMERATE_TARGETS | CAP_PARALLEL_INGEST,
	.own_keys = databricks_keys,
	.target_kinds = dbx_kind_names,
	.check_target = dbx_check_target,
	.ops = &databricks_ops,
};
