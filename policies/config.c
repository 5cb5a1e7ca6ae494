/*
 * accord.yaml (DESIGN §2.1, §10): version, branch, reviewer groups,
 * platforms with their connector settings, notifications and safety
 * bounds.  The loader knows connector types only through the table the
 * caller passes, so it can reject an unknown type, a key the type does
 * not take or a managed kind it does not serve, each at its mark, without
 * this floor ever linking a connector.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "util.h"

const char *const drift_mode_names[] = { "enforce", "report" };
const char *const account_match_names[] = { "email", "email-local", "map" };

static const char *const top_keys[] = {
	"version", "branch", "groups", "platforms", "notify", "safety", NULL
};
static const char *const common_keys[] = {
	"type", "managed", "protected_accounts", "drift", "accounts",
	"timeout", "concurrency", "ca_file", "url", "retry_budget", NULL
};
static const char *const account_keys[] = { "match", "map", NULL };
static const char *const notify_keys[] = {
	"slack", "email", "events", "pull_request_url", NULL
};
static const char *const safety_keys[] = { "max_revoke", NULL };

/* The node naming item i of a string list that yml_strlist accepted:
 * a single string stands for a one-element list. */
static const struct yml_node *
list_item(const struct yml_node *list, size_t i)
{
	return list->kind == YML_SEQ && i < list->n ? list->items[i] : list;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Names that appear in "group:NAME" and as request platforms must not
 * need quoting anywhere they are printed. */
static int
is_name(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

static int
is_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int
kind_served(const struct type_info *ti, const char *kind, size_t kindlen)
{
	size_t i;

	for (i = 0; ti->target_kinds && ti->target_kinds[i]; i++)
		if (strlen(ti->target_kinds[i]) == kindlen &&
		    strncmp(ti->target_kinds[i], kind, kindlen) == 0)
			return 1;
	return 0;
}

static char *
kinds_list(const struct type_info *ti)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; ti->target_kinds && ti->target_kinds[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", ti->target_kinds[i]);
	return buf_detach(&b);
}

static const char *
found(const struct yml_node *n)
{
	if (yml_is_null(n))
		return "null";
	return n->kind == YML_MAP ? "a map" : n->kind == YML_SEQ ? "a list" :
	    "a string";
}

/* A non-null scalar value, for map values read by position. */
static int
scalar_value(const struct yml_doc *doc, const struct yml_node *n,
    const char *what, const char **out, struct diag *err)
{
	if (n->kind != YML_SCALAR || yml_is_null(n))
		return yml_error(doc, n, err, "%s must be a string, not %s",
		    what, found(n));
	*out = n->str;
	return 0;
}

static int
parse_groups(struct config *c, const struct yml_node *groups, struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	size_t i, j;

	if (groups == NULL || yml_is_null(groups))
		return 0;
	if (groups->kind != YML_MAP)
		return yml_error(doc, groups, err,
		    "'groups' must be a map of name: [emails], not %s",
		    found(groups));
	c->groups = xcalloc(groups->n ? groups->n : 1, sizeof(*c->groups));
	for (i = 0; i < groups->n; i++) {
		const struct yml_node *key = groups->keys[i];
		struct group *g = &c->groups[c->ngroups];

		if (!is_name(key->str, "_.-"))
			return yml_error(doc, key, err, "group name '%s' may use "
			    "only letters, digits, '_', '.' and '-'", key->str);
		if (yml_strlist(doc, groups, key->str, 1, &g->members, &g->n,
		    err) == -1)
			return -1;
		g->name = xstrdup(key->str);
		c->ngroups++;
		for (j = 0; j < g->n; j++) {
			const struct yml_node *it = list_item(groups->items[i], j);

			if (g->members[j][0] == '\0')
				return yml_error(doc, it, err,
				    "empty member in group '%s'", g->name);
			if (strncmp(g->members[j], "group:", 6) == 0)
				return yml_error(doc, it, err, "group '%s' names "
				    "'%s': groups cannot contain groups",
				    g->name, g->members[j]);
		}
	}
	return 0;
}

static int
parse_managed(const struct yml_doc *doc, const struct yml_node *pn,
    struct platform_cfg *p, struct diag *err)
{
	const struct yml_node *list = yml_get(pn, "managed");
	size_t i;

	if (yml_strlist(doc, pn, "managed", 0, &p->managed, &p->nmanaged,
	    err) == -1)
		return -1;
	for (i = 0; i < p->nmanaged; i++) {
		const char *m = p->managed[i], *colon = strchr(m, ':');
		const struct yml_node *it = list_item(list, i);
		char *kinds;

		if (colon == NULL || colon == m || colon[1] == '\0')
			return yml_error(doc, it, err, "managed target '%s' "
			    "must be kind:pattern, e.g. \"role:analyst_*\"", m);
		if (!kind_served(p->ti, m, (size_t)(colon - m))) {
			kinds = kinds_list(p->ti);
			yml_error(doc, it, err, "type %s has no target kind "
			    "'%.*s' (kinds: %s)", p->type, (int)(colon - m), m,
			    kinds);
			free(kinds);
			return -1;
		}
	}
	return 0;
}

static int
parse_accounts(const struct yml_doc *doc, const struct yml_node *pn,
    struct platform_cfg *p, struct diag *err)
{
	const struct yml_node *acc = yml_get(pn, "accounts"), *map, *mv;
	const char *match = NULL;
	size_t i, j;

	p->match = MATCH_EMAIL_LOCAL;
	if (acc == NULL || yml_is_null(acc))
		return 0;
	if (yml_check_keys(doc, acc, "accounts", account_keys, err) == -1 ||
	    yml_str(doc, acc, "match", 0, &match, err) == -1)
		return -1;
	if (match) {
		mv = yml_get(acc, "match");
		for (i = 0; i < 3; i++)
			if (strcmp(match, account_match_names[i]) == 0)
				break;
		if (i == 3)
			return yml_error(doc, mv, err, "accounts.match must be "
			    "email, email-local or map, not '%s'", match);
		p->match = (enum account_match)i;
	}
	map = yml_get(acc, "map");
	if (map != NULL && !yml_is_null(map)) {
		if (map->kind != YML_MAP)
			return yml_error(doc, map, err, "accounts.map must be a "
			    "map of email: account, not %s", found(map));
		p->map = xcalloc(map->n ? map->n : 1, sizeof(*p->map));
		for (i = 0; i < map->n; i++) {
			const char *person = map->keys[i]->str, *account = NULL;
			char *lower;

			if (strchr(person, '@') == NULL)
				return yml_error(doc, map->keys[i], err,
				    "accounts.map key '%s' is not an email",
				    person);
			if (scalar_value(doc, map->items[i], "an account",
			    &account, err) == -1)
				return -1;
			if (account[0] == '\0')
				return yml_error(doc, map->items[i], err,
				    "empty account for '%s'", person);
			lower = xstrdup(person);
			for (j = 0; lower[j]; j++)
				lower[j] = (char)tolower((unsigned char)lower[j]);
			for (j = 0; j < p->nmap; j++)
				if (strcmp(p->map[j].person, lower) == 0)
					break;
			if (j < p->nmap) {
				free(lower);
				return yml_error(doc, map->keys[i], err,
				    "'%s' is mapped twice in accounts.map",
				    person);
			}
			p->map[p->nmap].person = lower;
			p->map[p->nmap].account = xstrdup(account);
			p->nmap++;
		}
	}
	if (p->match == MATCH_MAP && p->nmap == 0)
		return yml_error(doc, acc, err, "accounts.match is map but "
		    "accounts.map names nobody");
	return 0;
}

/* http:// is for the loopback emulators only (§10). */
static int
url_ok(const char *u)
{
	static const char *const loop[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]", NULL
	};
	size_t i, n;

	if (strncmp(u, "https://", 8) == 0)
		return u[8] != '\0';
	for (i = 0; loop[i]; i++) {
		n = strlen(loop[i]);
		if (strncmp(u, loop[i], n) == 0 &&
		    (u[n] == '\0' || u[n] == ':' || u[n] == '/'))
			return 1;
	}
	return 0;
}

/* Settings the loader can check without knowing the connector. */
static int
parse_settings(const struct yml_doc *doc, const struct yml_node *pn,
    struct diag *err)
{
	static const char *const durations[] = { "timeout", "retry_budget", NULL };
	const char *s;
	long conc;
	int64_t secs;
	size_t i;

	for (i = 0; durations[i]; i++) {
		s = NULL;
		if (yml_str(doc, pn, durations[i], 0, &s, err) == -1)
			return -1;
		if (s && duration_parse(&secs, s) == -1)
			return yml_error(doc, yml_get(pn, durations[i]), err,
			    "bad %s '%s' (use 30s, 5m, 1h)", durations[i], s);
	}
	if (yml_int(doc, pn, "concurrency", 0, 1, 1000, &conc, err) == -1)
		return -1;
	s = NULL;
	if (yml_str(doc, pn, "url", 0, &s, err) == -1)
		return -1;
	if (s && !url_ok(s))
		return yml_error(doc, yml_get(pn, "url"), err, "url must "
		    "start with https:// (http:// only for 127.0.0.1)");
	/* Secrets are named, never written (§10). */
	for (i = 0; i < pn->n; i++) {
		const char *key = pn->keys[i]->str;
		int env = has_suffix(key, "_env");

		if (!env && !has_suffix(key, "_file"))
			continue;
		if (scalar_value(doc, pn->items[i], key, &s, err) == -1)
			return -1;
		/* The value may be the very secret that belongs elsewhere:
		 * never echo it. */
		if (env && !is_env_name(s))
			return yml_error(doc, pn->items[i], err, "%s must name "
			    "an environment variable (letters, digits, '_'); "
			    "secrets are never written here", key);
		if (!env && s[0] == '\0')
			return yml_error(doc, pn->items[i], err,
			    "%s must name a file", key);
	}
	return 0;
}

static int
parse_platform(struct config *c, const struct yml_node *key,
    const struct yml_node *pn, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	struct platform_cfg *p = &c->platforms[c->nplatforms];
	const char **allowed = NULL;
	const char *type, *drift = NULL;
	char *what = NULL;
	size_t i, n;
	int rc = -1;

	if (!is_name(key->str, "_-"))
		return yml_error(doc, key, err, "platform name '%s' may use "
		    "only letters, digits, '_' and '-'", key->str);
	if (pn->kind != YML_MAP)
		return yml_error(doc, pn, err, "platform '%s' must be a map, "
		    "not %s", key->str, found(pn));
	p->name = xstrdup(key->str);
	p->node = pn;
	p->line = key->line;
	p->column = key->column;
	c->nplatforms++;
	if (yml_str(doc, pn, "type", 1, &type, err) == -1)
		return diag_prefix(err, "platform '%s'", p->name);
	for (i = 0; i < ntypes; i++)
		if (strcmp(types[i].type, type) == 0)
			break;
	if (i == ntypes) {
		struct buf b;

		buf_init(&b, 0);
		for (i = 0; i < ntypes; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", types[i].type);
		yml_error(doc, yml_get(pn, "type"), err, "unknown platform "
		    "type '%s' (known: %s)", type, ntypes ? b.ptr : "none");
		buf_release(&b);
		return -1;
	}
	p->ti = &types[i];
	p->type = xstrdup(type);

	n = sizeof(common_keys) / sizeof(common_keys[0]);
	for (i = 0; p->ti->own_keys && p->ti->own_keys[i]; i++)
		n++;
	allowed = xcalloc(n, sizeof(*allowed));
	n = 0;
	for (i = 0; common_keys[i]; i++)
		allowed[n++] = common_keys[i];
	for (i = 0; p->ti->own_keys && p->ti->own_keys[i]; i++)
		allowed[n++] = p->ti->own_keys[i];
	allowed[n] = NULL;
	what = xasprintf("platform '%s'", p->name);
	if (yml_check_keys(doc, pn, what, allowed, err) == -1)
		goto out;

	if (parse_managed(doc, pn, p, err) == -1 ||
	    yml_strlist(doc, pn, "protected_accounts", 0,
	    &p->protected_accounts, &p->nprotected, err) == -1 ||
	    yml_str(doc, pn, "drift", 0, &drift, err) == -1)
		goto out;
	p->drift = DRIFT_ENFORCE;
	if (drift && strcmp(drift, "report") == 0)
		p->drift = DRIFT_REPORT;
	else if (drift && strcmp(drift, "enforce") != 0) {
		yml_error(doc, yml_get(pn, "drift"), err,
		    "drift must be enforce or report, not '%s'", drift);
		goto out;
	}
	if (parse_accounts(doc, pn, p, err) == -1 ||
	    parse_settings(doc, pn, err) == -1)
		goto out;
	rc = 0;
out:
	free(what);
	free(allowed);
	return rc;
}

static int
parse_root(struct config *c, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	const struct yml_doc *doc = &c->doc;
	const struct yml_node *root = doc->root, *plats, *n;
	const char *branch = "main";
	long version;
	size_t i;

	if (root == NULL)
		return diag_setat(err, doc->path, 1, 1, "empty file, expected "
		    "at least 'version: 1'");
	if (yml_check_keys(doc, root, "accord.yaml", top_keys, err) == -1 ||
	    yml_int(doc, root, "version", 1, LONG_MIN, LONG_MAX, &version,
	    err) == -1)
		return -1;
	if (version != 1)
		return yml_error(doc, yml_get(root, "version"), err,
		    "unsupported version %ld (this accord reads version 1)",
		    version);
	c->version = 1;
	if (yml_str(doc, root, "branch", 0, &branch, err) == -1)
		return -1;
	if (branch[0] == '\0')
		return yml_error(doc, yml_get(root, "branch"), err,
		    "'branch' must not be empty");
	c->branch = xstrdup(branch);
	if (parse_groups(c, yml_get(root, "groups"), err) == -1)
		return -1;

	plats = yml_get(root, "platforms");
	if (plats != NULL && !yml_is_null(plats)) {
		if (plats->kind != YML_MAP)
			return yml_error(doc, plats, err, "'platforms' must be "
			    "a map of name: settings, not %s", found(plats));
		c->platforms = xcalloc(plats->n ? plats->n : 1,
		    sizeof(*c->platforms));
		for (i = 0; i < plats->n; i++)
			if (parse_platform(c, plats->keys[i], plats->items[i],
			    types, ntypes, err) == -1)
				return -1;
	}

	n = yml_get(root, "notify");
	if (n != NULL && !yml_is_null(n)) {
		if (yml_check_keys(doc, n, "notify", notify_keys, err) == -1)
			return -1;
		c->notify = n;
	}
	c->max_revoke = 50;
	n = yml_get(root, "safety");
	if (n != NULL && !yml_is_null(n) &&
	    (yml_check_keys(doc, n, "safety", safety_keys, err) == -1 ||
	    yml_int(doc, n, "max_revoke", 0, LONG_MIN, LONG_MAX,
	    &c->max_revoke, err) == -1))
		return -1;
	if (c->max_revoke < 0)
		return yml_error(doc, yml_get(n, "max_revoke"), err,
		    "'max_revoke' must be 0 or more");
	return 0;
}

int
config_parse(struct config *cfg, const char *path, const char *data,
    size_t len, const struct type_info *types, size_t ntypes,
    struct diag *err)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	memset(cfg, 0, sizeof(*cfg));
	if (yml_parse(&c.doc, path, data, len, err) == -1)
		return -1;
	if (parse_root(&c, types, ntypes, err) == -1) {
		config_release(&c);
		return -1;
	}
	*cfg = c;
	return 0;
}

void
config_release(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].name);
		strv_free(cfg->groups[i].members, cfg->groups[i].n);
	}
	free(cfg->groups);
	for (i = 0; i < cfg->nplatforms; i++) {
		struct platform_cfg *p = &cfg->platforms[i];

		free(p->name);
		free(p->type);
		strv_free(p->managed, p->nmanaged);
		strv_free(p->protected_accounts, p->nprotected);
		for (j = 0; j < p->nmap; j++) {
			free(p->map[j].person);
			free(p->map[j].account);
		}
		free(p->map);
	}
	free(cfg->platforms);
	free(cfg->branch);
	yml_doc_release(&cfg->doc);
	memset(cfg, 0, sizeof(*cfg));
}

const struct platform_cfg *
config_platform(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && name && i < cfg->nplatforms; i++)
		if (strcmp(cfg->platforms[i].name, name) == 0)
			return &cfg->platforms[i];
	return NULL;
}

const struct group *
config_group(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && name && i < cfg->ngroups; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}
