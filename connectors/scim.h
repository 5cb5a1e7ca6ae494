/*
 * A SCIM 2.0 client (RFC 7643/7644) shared by the `scim` and `databricks`
 * connectors: users and groups listed with startIndex/count until
 * totalResults, filters with quoted string literals, group membership
 * changed with one PatchOp per group, and RFC 7644 §3.12 error bodies
 * turned into diagnostics.  Private to the connectors floor.
 */
#ifndef ACCORD_SCIM_H
#define ACCORD_SCIM_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"

struct http;
struct auth;

struct scim {
	struct http *http;	/* borrowed */
	struct auth *auth;	/* borrowed; NULL: no Authorization header */
	const char *platform;	/* for messages */
	const char *prefix;	/* before /Users and /Groups: "" or
				 * "/api/2.0/preview/scim/v2" */
	long page_size;		/* count per page; 0: 100 */
	const char *const *extra_headers;	/* NULL-terminated, may be NULL */
};

struct scim_user {
	char *id, *user_name, *email;	/* email: primary emails[] value, else
					 * the first, else NULL */
	char *display_name;
	int email_primary;	/* email was marked primary */
	int active;
};

struct scim_member {
	char *id;
	char *type;		/* "User", "Group", "ServicePrincipal" or NULL */
};

struct scim_group {
	char *id, *display_name;
	struct scim_member *members;
	size_t nmembers;
};

/*
 * Walk every resource of an endpoint ("/Users", "/ServicePrincipals"),
 * startIndex from 1 with `count` page_size, until totalResults is reached
 * or a page comes back empty; a page that starts with the resource the
 * previous one started with fails the walk (a server ignoring
 * startIndex).  `query` (may be NULL) is added to each
 * page's query string, already encoded ("attributes=id,userName").  cb gets
 * each resource, borrowed for the call.  A 401 renews the token once.
 * Non-2xx answers fail with "platform P: GET PATH: HTTP S: scimType:
 * detail" when the body is an RFC 7644 error.
 */
int scim_list(struct scim *s, const char *endpoint, const char *query,
    int (*cb)(void *arg, json_t *res, struct diag *err), void *arg,
    struct diag *err);
/* Every user (all pages).  Free with scim_users_free. */
int scim_list_users(struct scim *s, struct scim_user **out, size_t *n,
    struct diag *err);
/* Every group with its members (all pages). */
int scim_list_groups(struct scim *s, struct scim_group **out, size_t *n,
    struct diag *err);
/* One group by displayName (filter displayName eq "..."): 1 found, 0 not. */
int scim_find_group(struct scim *s, const char *display_name,
    struct scim_group *out, struct diag *err);
/* `attr eq "value"` with the value as a JSON string literal; new string,
 * or NULL when value is not valid UTF-8. */
char *scim_filter_eq(const char *attr, const char *value);
/*
 * One PATCH for a group: add members add_ids, remove members remove_ids
 * (remove by `members[value eq "id"]`), removes first.  200 with the
 * resource and 204 are both success.  A 404 on a PATCH that only removes
 * is success too: the group is gone, and its memberships with it (§13).
 * detail gets the HTTP status and a short answer, failure or not.
 */
int scim_patch_members(struct scim *s, const char *group_id,
    char *const *add_ids, size_t nadd, char *const *remove_ids,
    size_t nremove, struct buf *detail, struct diag *err);
void scim_users_free(struct scim_user *v, size_t n);
void scim_groups_free(struct scim_group *v, size_t n);
void scim_group_release(struct scim_group *g);

#endif
