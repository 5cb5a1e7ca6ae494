/*
 * The pure parts of the databricks backend (connectors/databricks.c):
 * target checking, Unity Catalog paths, principals and PATCH bodies,
 * error texts.  Private to the connectors floor and its unit test.
 */
#ifndef ACCORD_DATABRICKS_H
#define ACCORD_DATABRICKS_H

#include <stddef.h>

#include "connector.h"

/* group:NAME, catalog:C, schema:C.S, table:C.S.T; 0 or -1 with why. */
int dbx_check_target(const char *target, char *why, size_t whysz);
/* An UPPER_SNAKE privilege name. */
int dbx_privilege_ok(const char *p);
/* "/api/2.1/unity-catalog/permissions/TYPE/FULL_NAME", segments encoded;
 * NULL for a group target.  New string. */
char *dbx_permissions_path(const char *target);
/* The UC principal of an account: "group:X" -> X, "service:A" -> A. */
char *dbx_uc_principal(const char *account);
/* {"changes":[...]} for the items on one securable, by principal. */
char *dbx_uc_body(const struct change_item *const *items, size_t n);
/* "ERROR_CODE: message" or the SCIM "scimType: detail" of a body. */
char *dbx_error_text(long status, const char *body, size_t len);
/* Whether a glob pattern can match something under prefix. */
int dbx_prefix_possible(const char *pattern, const char *prefix);

#endif
