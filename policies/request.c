/*
 * One access request file (DESIGN §2.2), checked against the config:
 * every key, type, platform, target kind and privilege, each error at the
 * offending node's path:line:column so that a pull-request check can
 * point at it.  Parsed requests also travel as compact JSON, the form the
 * state database caches by blob id so that a run re-parses only what
 * changed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "request.h"
#include "util.h"

static const char *const request_keys[] = {
	"requester", "reason", "duration", "expires", "starts", "break_glass",
	"grants", NULL
};
static const char *const grant_keys[] = {
	"platform", "target", "privilege", "grantee", NULL
};
/* Membership kinds: the privilege is implied (§13). */
static const char *const member_kinds[] = { "role", "group", "team", NULL };

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void
upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

static int
is_email(const char *s)
{
	const char *at = strchr(s, '@');
	const char *p;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) ||
		    strchr("*?[]<>,;:", *p))
			return 0;
	return 1;
}

static int
has_ctrl(const char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return 1;
	return 0;
}

static int
in_list(const char *const *list, const char *s, size_t n)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
			return 1;
	return 0;
}

static char *
join(const char *const *list)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; list && list[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", list[i]);
	return buf_detach(&b);
}

static int
bad_platform(const struct yml_doc *doc, const struct yml_node *n,
    const struct config *cfg, const char *name, struct diag *err)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; cfg && i < cfg->nplatforms; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", cfg->platforms[i].name);
	yml_error(doc, n, err, "unknown platform '%s' (configured: %s)", name,
	    b.len ? b.ptr : "none");
	buf_release(&b);
	return -1;
}

static int
check_target(const struct yml_doc *doc, const struct yml_node *n,
    const struct platform_cfg *p, const char *target, struct diag *err)
{
	const char *colon = strchr(target, ':');
	char why[256], *kinds;

	if (colon == NULL || colon == target || colon[1] == '\0')
		return yml_error(doc, n, err, "target '%s' must be kind:name, "
		    "e.g. \"table:sales.orders\"", target);
	if (!in_list(p->ti->target_kinds, target, (size_t)(colon - target))) {
		kinds = join(p->ti->target_kinds);
		yml_error(doc, n, err, "platform %s (%s) has no target kind "
		    "'%.*s' (kinds: %s)", p->name, p->type,
		    (int)(colon - target), target, kinds);
		free(kinds);
		return -1;
	}
	if (has_glob(colon + 1))
		return yml_error(doc, n, err, "target '%s': a request names "
		    "one target, without wildcards", target);
	if (has_ctrl(target))
		return yml_error(doc, n, err, "target contains control "
		    "characters");
	why[0] = '\0';
	if (p->ti->check_target &&
	    p->ti->check_target(target, why, sizeof(why)) != 0)
		return yml_error(doc, n, err, "bad target '%s': %s", target,
		    why[0] ? why : "rejected by the connector");
	return 0;
}

static int
privilege_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("_ .-", *s) == NULL)
			return 0;
	return 1;
}

static int
same_grant(const struct grant_req *a, const struct grant_req *b)
{
	return strcmp(a->platform, b->platform) == 0 &&
	    strcmp(a->target, b->target) == 0 &&
	    strcmp(a->privilege, b->privilege) == 0 &&
	    (a->grantee == NULL ? b->grantee == NULL :
	    b->grantee != NULL && strcmp(a->grantee, b->grantee) == 0);
}

static void
grant_clear(struct grant_req *g)
{
	free(g->platform);
	free(g->target);
	free(g->privilege);
	free(g->grantee);
}

static int
parse_grant(const struct yml_doc *doc, const struct yml_node *gn,
    const struct config *cfg, struct grant_req *g, struct diag *err)
{
	const char *platform, *target, *privilege = NULL, *grantee = NULL;
	const struct platform_cfg *p;
	const char *colon;

	g->line = gn->line;
	g->column = gn->column;
	if (yml_check_keys(doc, gn, "grant", grant_keys, err) == -1 ||
	    yml_str(doc, gn, "platform", 1, &platform, err) == -1)
		return -1;
	if ((p = config_platform(cfg, platform)) == NULL)
		return bad_platform(doc, yml_get(gn, "platform"), cfg,
		    platform, err);
	if (yml_str(doc, gn, "target", 1, &target, err) == -1 ||
	    check_target(doc, yml_get(gn, "target"), p, target, err) == -1 ||
	    yml_str(doc, gn, "privilege", 0, &privilege, err) == -1 ||
	    yml_str(doc, gn, "grantee", 0, &grantee, err) == -1)
		return -1;

	colon = strchr(target, ':');
	if (privilege == NULL) {
		if (!in_list(member_kinds, target, (size_t)(colon - target)))
			return yml_error(doc, gn, err, "grant of '%s' needs a "
			    "'privilege' (only role:, group: and team: targets "
			    "default to member)", target);
		privilege = "member";
	}
	if (!privilege_ok(privilege))
		return yml_error(doc, yml_get(gn, "privilege"), err,
		    "bad privilege '%s'", privilege);
	if (grantee) {
		const char *gc = strchr(grantee, ':'), *k;

		for (k = grantee; k < (gc ? gc : grantee); k++)
			if (!islower((unsigned char)*k) && *k != '-')
				break;
		if (gc == NULL || gc == grantee || k != gc || gc[1] == '\0' ||
		    has_glob(gc + 1) || has_ctrl(grantee))
			return yml_error(doc, yml_get(gn, "grantee"), err,
			    "grantee '%s' must be kind:name, e.g. "
			    "\"role:finance_app\"", grantee);
	}
	g->platform = xstrdup(platform);
	g->target = xstrdup(target);
	g->privilege = xstrdup(privilege);
	if (str_eq_ci(g->privilege, "member"))
		lower(g->privilege);
	else
		upper(g->privilege);
	g->grantee = xstrdup(grantee);
	return 0;
}

/* A null value has no useful mark of its own; its key has. */
static const struct yml_node *
key_of(const struct yml_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->str, key) == 0)
			return map->keys[i];
	return map;
}

static int
parse_time(const struct yml_doc *doc, const struct yml_node *root,
    const char *key, int64_t *out, struct diag *err)
{
	const char *s = NULL;

	if (yml_str(doc, root, key, 0, &s, err) == -1)
		return -1;
	if (s && time_parse(out, s) == -1)
		return yml_error(doc, yml_get(root, key), err, "bad time '%s' "
		    "for '%s' (RFC 3339, e.g. 2027-01-31T00:00:00Z)", s, key);
	return 0;
}

static int
parse_body(struct request *r, const struct yml_doc *doc,
    const struct config *cfg, struct diag *err)
{
	const struct yml_node *root = doc->root, *grants;
	const char *requester, *reason, *duration = NULL;
	size_t i, j;

	if (root == NULL)
		return diag_setat(err, doc->path, 1, 1, "empty request");
	if (yml_check_keys(doc, root, "request", request_keys, err) == -1 ||
	    yml_str(doc, root, "requester", 1, &requester, err) == -1)
		return -1;
	if (!is_email(requester))
		return yml_error(doc, yml_get(root, "requester"), err,
		    "requester '%s' is not an email address", requester);
	r->requester = xstrdup(requester);
	lower(r->requester);

	if (yml_str(doc, root, "reason", 1, &reason, err) == -1)
		return -1;
	for (i = 0; isspace((unsigned char)reason[i]); i++)
		;
	if (reason[i] == '\0')
		return yml_error(doc, yml_get(root, "reason"), err,
		    "'reason' must not be empty");
	r->reason = xstrdup(reason);

	if (yml_str(doc, root, "duration", 0, &duration, err) == -1)
		return -1;
	if (duration && duration_parse(&r->duration, duration) == -1)
		return yml_error(doc, yml_get(root, "duration"), err,
		    "bad duration '%s' (use 90m, 12h, 7d, 2w)", duration);
	if (parse_time(doc, root, "expires", &r->expires, err) == -1 ||
	    parse_time(doc, root, "starts", &r->starts, err) == -1 ||
	    yml_bool(doc, root, "break_glass", &r->break_glass, err) == -1)
		return -1;
	if (yml_get(root, "expires") && yml_get(root, "starts") &&
	    r->expires <= r->starts)
		return yml_error(doc, yml_get(root, "expires"), err,
		    "'expires' is not after 'starts'");

	grants = yml_get(root, "grants");
	if (grants == NULL)
		return yml_error(doc, root, err, "missing required key 'grants'");
	if (grants->kind != YML_SEQ || grants->n == 0)
		return yml_error(doc, yml_is_null(grants) ? key_of(root,
		    "grants") : grants, err, "'grants' must be a non-empty "
		    "list");
	r->grants = xcalloc(grants->n, sizeof(*r->grants));
	for (i = 0; i < grants->n; i++) {
		struct grant_req *g = &r->grants[i];

		if (parse_grant(doc, grants->items[i], cfg, g, err) == -1) {
			grant_clear(g);
			return -1;
		}
		r->ngrants++;
		for (j = 0; j < i; j++)
			if (same_grant(&r->grants[j], g))
				return yml_error(doc, grants->items[i], err,
				    "duplicate grant (same as line %d)",
				    r->grants[j].line);
	}
	return 0;
}

int
request_parse(struct request *r, const char *path, const char *data,
    size_t len, const struct config *cfg, struct diag *err)
{
	struct yml_doc doc;
	int rc;

	memset(r, 0, sizeof(*r));
	if (yml_parse(&doc, path, data, len, err) == -1)
		return -1;
	r->path = xstrdup(path);
	rc = parse_body(r, &doc, cfg, err);
	yml_doc_release(&doc);
	if (rc == -1)
		request_release(r);
	return rc;
}

void
request_release(struct request *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ngrants; i++)
		grant_clear(&r->grants[i]);
	free(r->grants);
	free(r->path);
	free(r->requester);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *
request_to_json(const struct request *r)
{
	json_t *o, *gs, *g;
	char *out;
	size_t i;

	o = json_object();
	json_object_set_new(o, "path", str_or_null(r->path));
	json_object_set_new(o, "blob", json_string(r->blob));
	json_object_set_new(o, "requester", str_or_null(r->requester));
	json_object_set_new(o, "reason", str_or_null(r->reason));
	json_object_set_new(o, "duration", json_integer(r->duration));
	json_object_set_new(o, "expires", json_integer(r->expires));
	json_object_set_new(o, "starts", json_integer(r->starts));
	json_object_set_new(o, "break_glass", json_boolean(r->break_glass));
	gs = json_array();
	for (i = 0; i < r->ngrants; i++) {
		const struct grant_req *q = &r->grants[i];

		g = json_object();
		json_object_set_new(g, "platform", str_or_null(q->platform));
		json_object_set_new(g, "target", str_or_null(q->target));
		json_object_set_new(g, "privilege", str_or_null(q->privilege));
		json_object_set_new(g, "grantee", str_or_null(q->grantee));
		json_object_set_new(g, "line", json_integer(q->line));
		json_object_set_new(g, "column", json_integer(q->column));
		json_array_append_new(gs, g);
	}
	json_object_set_new(o, "grants", gs);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (out == NULL)
		abort();	/* jansson fails here only when out of memory */
	return out;
}

/* Copy member `key` of `o` into *out: a string, or null when nullable. */
static int
get_str(json_t *o, const char *key, int nullable, char **out,
    struct diag *err)
{
	json_t *v = json_object_get(o, key);

	if (v != NULL && json_is_string(v)) {
		*out = xstrdup(json_string_value(v));
		return 0;
	}
	if (nullable && (v == NULL || json_is_null(v)))
		return 0;
	return diag_set(err, "cached request: '%s' must be a string", key);
}

static int
get_int(json_t *o, const char *key, int64_t *out, struct diag *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || !json_is_integer(v))
		return diag_set(err, "cached request: '%s' must be an integer",
		    key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
from_json(struct request *r, json_t *o, struct diag *err)
{
	json_t *gs, *bg, *g;
	char *blob = NULL;
	int64_t line = 0, column = 0;
	size_t i;

	if (!json_is_object(o))
		return diag_set(err, "cached request is not a JSON object");
	if (get_str(o, "path", 1, &r->path, err) == -1 ||
	    get_str(o, "blob", 1, &blob, err) == -1 ||
	    get_str(o, "requester", 0, &r->requester, err) == -1 ||
	    get_str(o, "reason", 0, &r->reason, err) == -1 ||
	    get_int(o, "duration", &r->duration, err) == -1 ||
	    get_int(o, "expires", &r->expires, err) == -1 ||
	    get_int(o, "starts", &r->starts, err) == -1)
		goto fail;
	if (blob && strlen(blob) >= sizeof(r->blob)) {
		diag_set(err, "cached request: 'blob' is too long");
		goto fail;
	}
	snprintf(r->blob, sizeof(r->blob), "%s", blob ? blob : "");
	free(blob);
	blob = NULL;
	bg = json_object_get(o, "break_glass");
	if (bg == NULL || !json_is_boolean(bg)) {
		diag_set(err, "cached request: 'break_glass' must be a boolean");
		goto fail;
	}
	r->break_glass = json_is_true(bg);
	gs = json_object_get(o, "grants");
	if (gs == NULL || !json_is_array(gs)) {
		diag_set(err, "cached request: 'grants' must be an array");
		goto fail;
	}
	r->grants = xcalloc(json_array_size(gs) + 1, sizeof(*r->grants));
	json_array_foreach(gs, i, g) {
		struct grant_req *q = &r->grants[i];

		r->ngrants++;
		if (!json_is_object(g)) {
			diag_set(err, "cached request: grant %zu is not an "
			    "object", i + 1);
			goto fail;
		}
		if (get_str(g, "platform", 0, &q->platform, err) == -1 ||
		    get_str(g, "target", 0, &q->target, err) == -1 ||
		    get_str(g, "privilege", 0, &q->privilege, err) == -1 ||
		    get_str(g, "grantee", 1, &q->grantee, err) == -1 ||
		    get_int(g, "line", &line, err) == -1 ||
		    get_int(g, "column", &column, err) == -1)
			goto fail;
		q->line = (int)line;
		q->column = (int)column;
	}
	return 0;
fail:
	free(blob);
	return -1;
}

int
request_from_json(struct request *r, const char *json, struct diag *err)
{
	json_error_t je;
	json_t *o;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((o = json_loads(json, 0, &je)) == NULL)
		return diag_set(err, "cached request: %s (line %d)", je.text,
		    je.line);
	rc = from_json(r, o, err);
	json_decref(o);
	if (rc == -1)
		request_release(r);
	return rc;
}
