/*
 * The generic `scim` backend: group membership on any SCIM 2.0 service
 * (RFC 7643/7644).  Accounts are userName (DESIGN §13), groups are
 * "group:NAME", and the only target kind is group:NAME with privilege
 * member.  Ingest lists every user, then the managed groups: by one
 * `displayName eq` filter each when every managed pattern is an exact
 * name (an identity provider may hold many thousands of groups), else by
 * listing all groups.  A member that is neither a listed user nor a known
 * group is written "id:VALUE", so drift on it can still be revoked.
 * Apply sends one PatchOp per group per run, whatever the number of
 * members changing; the ids come from the ingest of the same run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "backends.h"
#include "buf.h"
#include "connector.h"
#include "http.h"
#include "scim.h"
#include "strmap.h"
#include "util.h"

struct scim_conn {
	struct connector base;
	struct http *http;
	struct auth *auth;
	struct scim scim;
	char **managed;		/* group patterns only, "group:..." */
	size_t nmanaged;
	int exact;		/* every managed group is named exactly */
	/* From the last ingest: */
	struct scim_user *users;
	size_t nusers;
	struct scim_group *groups;
	size_t ngroups;
	struct strmap by_user_id, by_user_name;	/* -> index in users */
	struct strmap by_group_id, by_group_name;	/* -> index in groups */
	int ingested;
};

static void
forget(struct scim_conn *c)
{
	scim_users_free(c->users, c->nusers);
	scim_groups_free(c->groups, c->ngroups);
	c->users = NULL;
	c->groups = NULL;
	c->nusers = c->ngroups = 0;
	strmap_release(&c->by_user_id);
	strmap_release(&c->by_user_name);
	strmap_release(&c->by_group_id);
	strmap_release(&c->by_group_name);
	c->ingested = 0;
}

static void
scim_close(struct connector *base)
{
	struct scim_conn *c = (struct scim_conn *)base;

	if (c == NULL)
		return;
	forget(c);
	auth_free(c->auth);
	http_free(c->http);
	if (c->managed != NULL)
		strv_free(c->managed, c->nmanaged);
	free(c->base.name);
	free(c);
}

static int
scim_check_target(const char *target, char *why, size_t whysz)
{
	const char *p;

	if (strncmp(target, "group:", 6) != 0 || target[6] == '\0') {
		snprintf(why, whysz, "write it as group:NAME");
		return -1;
	}
	for (p = target + 6; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, whysz, "a group name holds no control "
			    "characters");
			return -1;
		}
	return 0;
}

static int
open_token(struct scim_conn *c, const struct connector_cfg *cfg,
    struct diag *err)
{
	const char *key = yml_get(cfg->node, "token_file") != NULL ?
	    "token_file" : "token_env";
	char *token = NULL;
	int rc;

	if (yml_get(cfg->node, "token_env") != NULL &&
	    yml_get(cfg->node, "token_file") != NULL)
		return yml_error(&(struct yml_doc){ (char *)cfg->config_path,
		    NULL }, yml_get(cfg->node, "token_file"), err,
		    "platform %s: set token_env or token_file, not both",
		    c->base.name);
	if (connector_secret(cfg, key, &token, err) != 0)
		return -1;
	rc = auth_bearer(&c->auth, token, err);
	explicit_bzero(token, strlen(token));
	free(token);
	return rc;
}

static int
scim_open(struct connector **out, const struct connector_cfg *cfg,
    struct diag *err)
{
	struct yml_doc doc = { (char *)cfg->config_path, NULL };
	struct http_opts o;
	struct scim_conn *c;
	long page = 100;
	size_t i;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->base.desc = &connector_scim;
	c->base.name = xstrdup(cfg->name ? cfg->name : "?");
	memset(&o, 0, sizeof(o));
	if (http_opts_from_config(&o, c->base.name, cfg->config_path,
	    cfg->node, NULL, err) != 0)
		goto fail;
	if (yml_int(&doc, cfg->node, "page_size", 0, 1, 10000, &page,
	    err) != 0) {
		diag_prefix(err, "platform %s", c->base.name);
		goto fail;
	}
	if (open_token(c, cfg, err) != 0 || http_open(&c->http, &o, err) != 0)
		goto fail;
	c->scim.http = c->http;
	c->scim.auth = c->auth;
	c->scim.platform = c->base.name;
	c->scim.prefix = "";
	c->scim.page_size = page;
	c->managed = xcalloc(cfg->nmanaged + 1, sizeof(*c->managed));
	c->exact = 1;
	for (i = 0; i < cfg->nmanaged; i++) {
		const char *m = cfg->managed[i];

		if (!glob_match(m, "group:") && strncmp(m, "group:", 6) != 0)
			continue;	/* another kind: nothing of ours */
		c->managed[c->nmanaged++] = xstrdup(m);
		if (strncmp(m, "group:", 6) != 0 || has_glob(m + 6))
			c->exact = 0;
	}
	*out = &c->base;
	return 0;
fail:
	scim_close(&c->base);
	return -1;
}

static int
managed(const struct scim_conn *c, const char *target)
{
	size_t i;

	for (i = 0; i < c->nmanaged; i++)
		if (glob_match(c->managed[i], target))
			return 1;
	return 0;
}

/* The exactly named managed groups, one filter each. */
static int
find_groups(struct scim_conn *c, struct diag *err)
{
	size_t i, alloc = 0;
	struct scim_group g;
	int rc;

	for (i = 0; i < c->nmanaged; i++) {
		rc = scim_find_group(&c->scim, c->managed[i] + 6, &g, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		c->groups = xgrow(c->groups, sizeof(*c->groups),
		    c->ngroups + 1, &alloc);
		c->groups[c->ngroups++] = g;
	}
	return 0;
}

/* The account a member id stands for; a new string. */
static char *
member_account(const struct scim_conn *c, const char *id)
{
	size_t k;

	if (strmap_get(&c->by_user_id, id, &k))
		return xstrdup(c->users[k].user_name);
	if (strmap_get(&c->by_group_id, id, &k))
		return xasprintf("group:%s", c->groups[k].display_name);
	return xasprintf("id:%s", id);
}

static int
scim_ingest(struct connector *base, struct ingest *out, struct diag *err)
{
	struct scim_conn *c = (struct scim_conn *)base;
	struct scim_user *u;
	char *target, *account;
	size_t i, j;
	int rc;

	forget(c);
	if (scim_list_users(&c->scim, &c->users, &c->nusers, err) != 0)
		goto fail;
	if (c->nmanaged == 0)
		rc = 0;
	else if (c->exact)
		rc = find_groups(c, err);
	else
		rc = scim_list_groups(&c->scim, &c->groups, &c->ngroups, err);
	if (rc != 0)
		goto fail;
	for (i = 0; i < c->nusers; i++) {
		u = &c->users[i];
		strmap_put(&c->by_user_id, u->id, i);
		strmap_put(&c->by_user_name, u->user_name, i);
		/* §13: the primary email, else userName when it is an
		 * address, else the only address there is. */
		ingest_add_ident(out, u->user_name, u->email_primary ?
		    u->email : strchr(u->user_name, '@') ? u->user_name :
		    u->email, NULL, ACCT_USER);
	}
	for (i = 0; i < c->ngroups; i++) {
		strmap_put(&c->by_group_id, c->groups[i].id, i);
		strmap_put(&c->by_group_name, c->groups[i].display_name, i);
	}
	for (i = 0; i < c->ngroups; i++) {
		target = xasprintf("group:%s", c->groups[i].display_name);
		ingest_add_ident(out, target, NULL, NULL, ACCT_GROUP);
		if (managed(c, target))
			for (j = 0; j < c->groups[i].nmembers; j++) {
				account = member_account(c,
				    c->groups[i].members[j].id);
				ingest_add_grant(out, account, target,
				    "member");
				free(account);
			}
		free(target);
	}
	c->ingested = 1;
	return 0;
fail:
	forget(c);
	return -1;
}

/* The member id an account stands for, or NULL. */
static const char *
account_id(const struct scim_conn *c, const char *account)
{
	size_t k;

	if (strncmp(account, "id:", 3) == 0)
		return account + 3;
	if (strncmp(account, "group:", 6) == 0)
		return strmap_get(&c->by_group_name, account + 6, &k) ?
		    c->groups[k].id : NULL;
	return strmap_get(&c->by_user_name, account, &k) ?
	    c->users[k].id : NULL;
}

static void __attribute__((format(printf, 2, 3)))
item_fail(struct change_item *it, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	it->ok = 0;
	diag_set(&it->err, "%s", msg);
	buf_puts(&it->detail, msg);
}

static void
item_ok(struct change_item *it, const char *detail)
{
	it->ok = 1;
	buf_puts(&it->detail, detail);
}

/* Add s to v[0..*n) unless present. */
static void
ids_add(char **v, size_t *n, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(v[i], s) == 0)
			return;
	v[(*n)++] = (char *)s;
}

/* One PATCH for the items on group `target` (those with g == target). */
static void
patch_group(struct scim_conn *c, struct change_item *items, size_t n,
    const char *target)
{
	char **add = xcalloc(n, sizeof(*add)), **rm = xcalloc(n, sizeof(*rm));
	struct buf detail = BUF_INIT;
	struct diag err = { 0 };
	const char *gid = NULL, *id;
	size_t i, k, nadd = 0, nrm = 0, nmine = 0;
	int rc;

	if (strmap_get(&c->by_group_name, target + 6, &k))
		gid = c->groups[k].id;
	for (i = 0; i < n; i++) {
		struct change_item *it = &items[i];

		if (strcmp(it->g.target, target) != 0)
			continue;
		if (strcmp(it->g.privilege, "member") != 0) {
			item_fail(it, "platform %s: %s: privilege '%s' is not "
			    "'member'", c->base.name, target, it->g.privilege);
			continue;
		}
		id = account_id(c, it->g.account);
		if (gid == NULL || id == NULL) {
			/* Nothing to remove where the group or the account
			 * does not exist; nothing can be added either. */
			if (it->revoke)
				item_ok(it, gid == NULL ? "no such group: "
				    "nothing to remove" : "no such account: "
				    "nothing to remove");
			else if (gid == NULL)
				item_fail(it, "platform %s: %s does not exist",
				    c->base.name, target);
			else
				item_fail(it, "platform %s: no user or group "
				    "'%s' to add to %s", c->base.name,
				    it->g.account, target);
			continue;
		}
		ids_add(it->revoke ? rm : add, it->revoke ? &nrm : &nadd, id);
		items[i].ok = 2;	/* in this PATCH */
		nmine++;
	}
	if (nmine == 0)
		goto out;
	buf_init(&detail, 4096);
	rc = scim_patch_members(&c->scim, gid, add, nadd, rm, nrm, &detail,
	    &err);
	for (i = 0; i < n; i++) {
		if (items[i].ok != 2)
			continue;
		items[i].ok = rc == 0;
		buf_puts(&items[i].detail, buf_cstr(&detail));
		if (rc != 0)
			items[i].err = err;
	}
out:
	buf_release(&detail);
	free(add);
	free(rm);
}

static int
scim_apply_batch(struct connector *base, struct change_item *items, size_t n)
{
	struct scim_conn *c = (struct scim_conn *)base;
	size_t i, j;
	int seen;

	for (i = 0; i < n; i++) {
		items[i].ok = 0;
		diag_clear(&items[i].err);
	}
	if (!c->ingested) {
		for (i = 0; i < n; i++)
			item_fail(&items[i], "platform %s: not ingested in "
			    "this run", c->base.name);
		return -1;
	}
	for (i = 0; i < n; i++) {
		seen = 0;
		for (j = 0; j < i && !seen; j++)
			seen = strcmp(items[j].g.target, items[i].g.target) == 0;
		if (!seen)
			patch_group(c, items, n, items[i].g.target);
	}
	for (i = 0; i < n; i++)
		if (!items[i].ok)
			return -1;
	return 0;
}

static int
one(struct connector *base, int revoke, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	struct change_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.revoke = revoke;
	it.g = *g;
	buf_init(&it.detail, 4096);
	rc = scim_apply_batch(base, &it, 1);
	if (detail != NULL)
		buf_puts(detail, buf_cstr(&it.detail));
	if (rc != 0)
		*err = it.err;
	buf_release(&it.detail);
	return rc;
}

static int
scim_grant(struct connector *base, const struct pgrant *g, struct buf *detail,
    struct diag *err)
{
	return one(base, 0, g, detail, err);
}

static int
scim_revoke(struct connector *base, const struct pgrant *g,
    struct buf *detail, struct diag *err)
{
	return one(base, 1, g, detail, err);
}

static const struct connector_ops scim_ops = {
	.version = CONNECTOR_OPS_VERSION,
	.open = scim_open,
	.ingest = scim_ingest,
	.grant = scim_grant,
	.revoke = scim_revoke,
	.close = scim_close,
	.apply_batch = scim_apply_batch,
};

static const char *const scim_keys[] = {
	"token_env", "token_file", "page_size", NULL
};

static const char *const scim_kinds[] = { "group", NULL };

const struct connector_desc connector_scim = {
	.type = "scim",
	.caps = CAP_ENUMERATE_TARGETS | CAP_PARALLEL_INGEST,
	.own_keys = scim_keys,
	.target_kinds = scim_kinds,
	.check_target = scim_check_target,
	.ops = &scim_ops,
};
