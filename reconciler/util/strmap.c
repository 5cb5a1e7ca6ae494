/*
 * Open-addressing string hash map with linear probing; grows at 50% load.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void
rehash(struct strmap *m, size_t ncap)
{
	char **ok = m->keys;
	size_t *ov = m->vals, oc = m->cap, i, j;

	m->keys = xcalloc(ncap, sizeof(*m->keys));
	m->vals = xcalloc(ncap, sizeof(*m->vals));
	m->cap = ncap;
	for (i = 0; i < oc; i++) {
		if (ok[i] == NULL)
			continue;
		j = hash(ok[i]) & (ncap - 1);
		while (m->keys[j])
			j = (j + 1) & (ncap - 1);
		m->keys[j] = ok[i];
		m->vals[j] = ov[i];
	}
	free(ok);
	free(ov);
}

void
strmap_put(struct strmap *m, const char *key, size_t val)
{
	size_t j;

	if ((m->n + 1) * 2 > m->cap)
		rehash(m, m->cap ? m->cap * 2 : 64);
	j = hash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			m->vals[j] = val;
			return;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = xstrdup(key);
	m->vals[j] = val;
	m->n++;
}

int
strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	size_t j;

	if (m->cap == 0)
		return 0;
	j = hash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			if (val)
				*val = m->vals[j];
			return 1;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}

void
strmap_release(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
