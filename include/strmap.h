/*
 * A string-keyed hash map (open addressing, FNV-1a) used wherever the
 * pipeline joins sets of grants: desired, actual, recorded.  Keys are
 * copied; values are opaque size_t (usually an index into an array).
 */
#ifndef ACCORD_STRMAP_H
#define ACCORD_STRMAP_H

#include <stddef.h>

struct strmap {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

#define STRMAP_INIT { NULL, NULL, 0, 0 }

/* Insert or replace. */
void strmap_put(struct strmap *m, const char *key, size_t val);
/* 1 and *val when found, 0 when not. */
int strmap_get(const struct strmap *m, const char *key, size_t *val);
void strmap_release(struct strmap *m);

#endif
