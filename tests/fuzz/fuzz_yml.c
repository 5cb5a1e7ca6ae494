/*
 * Fuzz harness for the YAML loader.  Under libFuzzer (-DACCORD_LIBFUZZER
 * -fsanitize=fuzzer) only LLVMFuzzerTestOneInput is built; otherwise a
 * main() replays every file of a corpus directory through it, so that
 * each test run re-checks the inputs that once found a bug.  Beyond "does
 * not crash" each input is checked for the loader's promises: a tree
 * within its limits with sane marks, or an error with a mark and text.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"
#include "yml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the tree; -1 when a promise of yml.h is broken. */
static int
check_node(const struct yml_node *n, int depth, size_t *count)
{
	size_t i, j;

	if (n == NULL || n->line < 1 || n->column < 1 || ++*count > 100000)
		return -1;
	if (n->kind == YML_SCALAR)
		return n->str != NULL && n->str[n->len] == '\0' &&
		    strlen(n->str) == n->len && n->n == 0 ? 0 : -1;
	if (depth >= YML_MAX_DEPTH)
		return -1;
	for (i = 0; i < n->n; i++) {
		if (n->kind == YML_MAP) {
			if (n->keys[i]->kind != YML_SCALAR ||
			    check_node(n->keys[i], depth + 1, count) == -1)
				return -1;
			for (j = 0; j < i; j++)
				if (strcmp(n->keys[i]->str, n->keys[j]->str) == 0)
					return -1;
			if (yml_get(n, n->keys[i]->str) != n->items[i])
				return -1;
		}
		if (check_node(n->items[i], depth + 1, count) == -1)
			return -1;
	}
	return 0;
}

/* The schema helpers on whatever came out, as a request loader would. */
static void
exercise(const struct yml_doc *doc)
{
	static const char *const keys[] = { "requester", "reason",
	    "duration", "grants", NULL };
	const struct yml_node *g;
	struct diag err;
	const char *s;
	char **v;
	size_t n, i;
	long l;
	int b;

	yml_check_keys(doc, doc->root, "a request", keys, &err);
	yml_str(doc, doc->root, "requester", 1, &s, &err);
	yml_int(doc, doc->root, "reason", 0, -5, 5, &l, &err);
	yml_bool(doc, doc->root, "duration", &b, &err);
	if (yml_strlist(doc, doc->root, "requester", 0, &v, &n, &err) == 0)
		strv_free(v, n);
	g = yml_get(doc->root, "grants");
	if (g != NULL && g->kind == YML_SEQ)
		for (i = 0; i < g->n; i++)
			if (yml_strlist(doc, g->items[i], "target", 1, &v, &n,
			    &err) == 0)
				strv_free(v, n);
}

static int
fuzz_one(const uint8_t *data, size_t size)
{
	struct yml_doc doc;
	struct diag err;
	size_t count = 0;
	int rc = 0;

	diag_clear(&err);
	if (yml_parse(&doc, "fuzz.yaml", (const char *)data, size, &err) ==
	    -1) {
		/* an error always names the file and says something */
		if (doc.root != NULL || doc.path != NULL ||
		    strcmp(err.file, "fuzz.yaml") != 0 || err.msg[0] == '\0')
			return -1;
		return 0;
	}
	if (doc.root != NULL && check_node(doc.root, 0, &count) == -1)
		rc = -1;
	exercise(&doc);
	yml_doc_release(&doc);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_one(data, size) == -1)
		abort();
	return 0;
}

#ifndef ACCORD_LIBFUZZER
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = xmalloc((size_t)n + 1);
		*len = fread(p, 1, (size_t)n, f);
		if (ferror(f)) {
			free(p);
			p = NULL;
		}
	}
	fclose(f);
	return p;
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	char path[4096];
	uint8_t *data;
	size_t len;
	int i, n, pass = 0, fail = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	/* sorted, so that a failing run reads the same way twice */
	n = scandir(argv[1], &ents, NULL, alphasort);
	if (n < 0) {
		perror(argv[1]);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] == '.') {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", argv[1], ents[i]->d_name);
		free(ents[i]);
		if ((data = slurp(path, &len)) == NULL ||
		    fuzz_one(data, len) == -1) {
			printf("not ok - %s\n", path);
			fail++;
		} else
			pass++;
		free(data);
	}
	free(ents);
	if (pass + fail == 0) {
		printf("# empty corpus %s\n", argv[1]);
		fail++;
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
#endif
