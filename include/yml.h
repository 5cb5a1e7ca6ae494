/*
 * A bounded YAML loader over libyaml's event API.  It builds a small tree
 * of nodes, each with its 1-based line and column, and rejects what
 * accord never accepts (DESIGN §6): anchors and aliases, tags, duplicate
 * keys, input over YML_MAX_BYTES, nesting deeper than YML_MAX_DEPTH,
 * more than one document, bytes that are not UTF-8.  Every error names
 * path:line:column.
 */
#ifndef ACCORD_YML_H
#define ACCORD_YML_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define YML_MAX_BYTES (1024 * 1024)
#define YML_MAX_DEPTH 32

enum yml_kind { YML_SCALAR, YML_SEQ, YML_MAP };

struct yml_node {
	enum yml_kind kind;
	int line, column;	/* where the node starts, 1-based */
	/* YML_SCALAR */
	char *str;		/* NUL-terminated */
	size_t len;
	int plain;		/* unquoted: "null", "~", "" mean null */
	/* YML_SEQ: items[0..n); YML_MAP: keys[i] (scalars) -> items[i] */
	size_t n;
	struct yml_node **items;
	struct yml_node **keys;
};

/* A parsed file: the tree plus the path its marks refer to. */
struct yml_doc {
	char *path;
	struct yml_node *root;	/* NULL for an empty document */
};

/* Parse data (len bytes) named `path` in diagnostics.  On success *doc is
 * filled; release it with yml_doc_release(). */
int yml_parse(struct yml_doc *doc, const char *path, const char *data,
    size_t len, struct diag *err);
void yml_doc_release(struct yml_doc *doc);

/* Lookup in a map; NULL when absent or when `map` is not a map. */
const struct yml_node *yml_get(const struct yml_node *map, const char *key);
int yml_is_null(const struct yml_node *n);
const char *yml_kind_name(enum yml_kind k);

/*
 * Schema helpers: each returns 0, or -1 with err set at the node's mark
 * and a message naming the key ("accord.yaml:3:5: 'branch' must be a
 * string, not a list").  `what` names the thing being read, for context.
 */
/* Every key of `map` is in the NULL-terminated `allowed`; map must be a map. */
int yml_check_keys(const struct yml_doc *doc, const struct yml_node *map,
    const char *what, const char *const *allowed, struct diag *err);
/* Required or optional string (non-null scalar).  *out is borrowed. */
int yml_str(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, const char **out, struct diag *err);
/* Integer scalar in [min, max]; *out left untouched when absent and optional. */
int yml_int(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, long min, long max, long *out,
    struct diag *err);
/* true/false. */
int yml_bool(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int *out, struct diag *err);
/* A list of strings, or a single string taken as a one-element list.
 * *out is a new array of new strings (strv_free); absent: *n = 0. */
int yml_strlist(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, char ***out, size_t *n, struct diag *err);
/* Set err at node n: "path:line:col: fmt". Returns -1. */
int yml_error(const struct yml_doc *doc, const struct yml_node *n,
    struct diag *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
