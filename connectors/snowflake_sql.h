/*
 * The parts of the Snowflake backend that touch no network, private to the
 * connectors floor: target spelling, identifier and literal quoting, the
 * statements the backend sends, and reading SQL API result sets by column
 * name.  Kept apart from snowflake.c so that a unit test links them alone.
 */
#ifndef ACCORD_CONNECTORS_SNOWFLAKE_SQL_H
#define ACCORD_CONNECTORS_SNOWFLAKE_SQL_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "diag.h"
#include "grant.h"

#define SF_NAME_MAX 255		/* characters in one identifier */
#define SF_PAGE 1000		/* rows per SHOW ... LIMIT page */
#define SF_PARTS_MAX 3

enum sf_kind { SFK_ROLE, SFK_TABLE, SFK_SCHEMA, SFK_DATABASE, SFK_WAREHOUSE };
extern const char *const sf_kind_names[];	/* NULL-terminated */

/* A target split into its names: role, table DB.SCHEMA.NAME, ... */
struct sf_target {
	enum sf_kind kind;
	char *part[SF_PARTS_MAX];
	size_t nparts;
};

/* Kind of "kind:..." (the kind's length is n), or -1. */
int sf_kind_lookup(const char *s, size_t n);
/* Names each kind has: role 1, table 3, schema 2, database 1, warehouse 1. */
size_t sf_kind_parts(enum sf_kind kind);

int sf_parse_target(const char *target, struct sf_target *t, char *why,
    size_t whysz);
void sf_target_release(struct sf_target *t);
/* "kind:A.B.C" with a part holding '.' or '"' quoted; newly allocated. */
char *sf_spell_target(enum sf_kind kind, char *const *parts, size_t n);
/* The descriptor's check: parses, and insists on the one spelling ingest
 * reports, so that a request and the platform name a target alike. */
int sf_check_target(const char *target, char *why, size_t whysz);

/* "name" with '"' doubled. */
void sf_quote_ident(struct buf *b, const char *name);
/* 'text' with ' and \ doubled. */
void sf_quote_literal(struct buf *b, const char *s);
/* A name as SHOW GRANTS renders it ("We""ird" or BARE) as stored;
 * newly allocated. */
char *sf_unquote(const char *s);
/* DB."A.B".T into its unquoted parts (at most SF_PARTS_MAX); -1 when
 * malformed (unterminated quote, empty part, too many parts). */
int sf_split_name(const char *s, char **parts, size_t *n);

/* "SHOW USERS LIMIT 1000" or "... FROM '<after>'"; what is USERS or ROLES. */
char *sf_show_sql(const char *what, const char *after);
/* SHOW GRANTS OF ROLE "R" (of = 1) or SHOW GRANTS TO ROLE "R". */
char *sf_grants_sql(int of, const char *role);
/* The canonical spelling of a privilege accord grants on `kind`, or NULL. */
const char *sf_privilege_lookup(enum sf_kind kind, const char *priv);
/*
 * The GRANT or REVOKE for g.  0 and *sql (newly allocated), or -1 with
 * `why` saying what is wrong with the grant (unknown privilege, an
 * object privilege for a user...).
 */
int sf_change_sql(int grant, const struct pgrant *g, char **sql, char *why,
    size_t whysz);

/*
 * A result set: column names from partition 0's rowType and the rows of
 * every partition merged in order.  Cells are JSON strings or null.
 */
struct sf_result {
	char **cols;
	size_t ncols;
	json_t *data;		/* array of arrays of ncols values */
	size_t npartitions;	/* partitionInfo entries (1 when absent) */
	long long *expect;	/* rowCount per partition, -1 when unknown */
	long long numrows;	/* resultSetMetaData.numRows, or -1 */
	size_t merged;		/* partitions merged so far */
	char *handle;		/* statementHandle, may be NULL */
	char *message;		/* message, may be NULL */
};

/* Read a 200 body (partition 0).  On -1 err says what is malformed. */
int sf_result_parse(struct sf_result *r, const json_t *body, struct diag *err);
/* Append the next partition's body (only "data"); partitions must come
 * in order.  Checks the row count partitionInfo announced. */
int sf_result_merge(struct sf_result *r, const json_t *body, struct diag *err);
/* After the last merge: the total matches numRows. */
int sf_result_complete(const struct sf_result *r, struct diag *err);
void sf_result_release(struct sf_result *r);
size_t sf_result_rows(const struct sf_result *r);
/* Column index by name (ASCII case-insensitive), -1 when absent. */
int sf_result_col(const struct sf_result *r, const char *name);
/* A cell, NULL for JSON null or a column of -1. */
const char *sf_result_get(const struct sf_result *r, size_t row, int col);
/* What a DDL statement answered: the "status" cell of row 0, else the
 * message; never NULL. */
const char *sf_result_status(const struct sf_result *r);

/* "002003 (02000) message" on one line from a failure (422) body;
 * newly allocated. */
char *sf_failure_text(const json_t *body);

/*
 * One SHOW USERS / SHOW ROLES page into `in` (kind ACCT_USER or ACCT_ROLE;
 * users with login_name and email).  A first row equal to `after` (an
 * inclusive cursor) is dropped.  *rows gets the rows the page had, *last
 * the last name (newly allocated, NULL for an empty page).
 */
int sf_ingest_page(struct ingest *in, const struct sf_result *r,
    enum account_kind kind, const char *after, size_t *rows, char **last,
    struct diag *err);
/* SHOW GRANTS OF ROLE `role`: users and roles holding it, as members. */
int sf_ingest_members(struct ingest *in, const struct sf_result *r,
    const char *role, struct diag *err);
/* SHOW GRANTS TO ROLE `role`: privileges on the kinds in `kinds`
 * (1 << enum sf_kind) whose target one of `managed` matches; OWNERSHIP
 * and other object kinds are left out. */
int sf_ingest_privileges(struct ingest *in, const struct sf_result *r,
    const char *role, unsigned kinds, char *const *managed, size_t nmanaged,
    struct diag *err);
/* Whether one of the "kind:glob" entries matches target. */
int sf_managed(char *const *managed, size_t n, const char *target);

#endif
