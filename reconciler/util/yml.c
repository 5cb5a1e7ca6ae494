/*
 * The YAML loader.  Every file accord reads (accord.yaml, policies,
 * requests) passes through here, and most of them are written by people
 * who only need commit access to the access repository, so the loader
 * treats its input as hostile: the bytes are checked for UTF-8 and
 * control characters before libyaml sees them (so that the error has a
 * line and column), libyaml's event stream is turned into a small tree
 * of nodes with 1-based marks, and everything DESIGN §6 forbids is
 * refused at the first event that shows it rather than after a tree has
 * been built.  Size, depth and node count are bounded so that no input
 * under the size limit can make the tree large.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "diag.h"
#include "util.h"
#include "yml.h"

/* A 1 MiB flow list of one-letter items would hold half a million nodes;
 * no real request or policy comes near this. */
#define YML_MAX_NODES 100000

/* How much of a key or value a message quotes. */
#define QUOTE_MAX 64

static const char *const kind_names[] = {
	[YML_SCALAR] = "scalar",
	[YML_SEQ] = "list",
	[YML_MAP] = "map",
};

const char *
yml_kind_name(enum yml_kind k)
{
	if ((size_t)k < sizeof(kind_names) / sizeof(kind_names[0]))
		return kind_names[k];
	return "unknown";
}

/* --- nodes --- */

static void
node_free(struct yml_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n);	/* a scalar's string lives in the same block */
}

void
yml_doc_release(struct yml_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->path);
	doc->root = NULL;
	doc->path = NULL;
}

static struct yml_node *
scalar_new(const char *s, size_t len, int plain, int line, int column)
{
	struct yml_node *n;

	/* One block for node and string: scalars are most of a tree. */
	n = xcalloc(1, sizeof(*n) + len + 1);
	n->kind = YML_SCALAR;
	n->line = line;
	n->column = column;
	n->str = (char *)(n + 1);
	memcpy(n->str, s, len);
	n->str[len] = '\0';
	n->len = len;
	n->plain = plain;
	return n;
}

static struct yml_node *
collection_new(enum yml_kind kind, int line, int column)
{
	struct yml_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = line;
	n->column = column;
	return n;
}

/*
 * A printable rendering of a key or value for a message: at most
 * QUOTE_MAX bytes, cut on a character boundary, with control characters
 * escaped so that a hostile file cannot write to the terminal through
 * our diagnostics.
 */
static void
quote_str(char *out, size_t outsz, const char *s, size_t len)
{
	size_t i = 0, o = 0;
	unsigned char c;

	while (i < len && o + 8 < outsz) {
		c = (unsigned char)s[i];
		if (i >= QUOTE_MAX && (c & 0xC0) != 0x80) {
			snprintf(out + o, outsz - o, "...");
			return;
		}
		if (c < 0x20 || c == 0x7F) {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		} else if (c == 0xC2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9F) {
			/* C1 controls, U+0080..U+009F */
			o += (size_t)snprintf(out + o, outsz - o, "\\u%04x",
			    (unsigned char)s[i + 1]);
			i++;
		} else
			out[o++] = (char)c;
		i++;
	}
	out[o] = '\0';
}

/* --- byte checks before libyaml --- */

/* Mirrors libyaml's reader: what it would refuse as a control character. */
static int
printable(uint32_t cp)
{
	return cp == 0x09 || cp == 0x0A || cp == 0x0D ||
	    (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
	    (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
	    (cp >= 0x10000 && cp <= 0x10FFFF);
}

/*
 * Decode one UTF-8 character at s[0..len).  Returns its width, or 0 when
 * the bytes are not UTF-8 (overlong forms and surrogates included).
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t w, k;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		w = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		w = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		w = 4, c &= 0x07;
	else
		return 0;
	if (w > len)
		return 0;
	for (k = 1; k < w; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3F);
	}
	if ((w == 3 && c < 0x800) || (w == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return w;
}

/* libyaml's reader drops a byte order mark before counting columns. */
static size_t
bom_len(const unsigned char *s, size_t len)
{
	return len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
}

/*
 * Line breaks as libyaml counts them (CR LF is one), so that our marks
 * and libyaml's agree.  Columns count characters, as libyaml's do.
 */
static void
advance(int *line, int *column, uint32_t cp, const unsigned char *next,
    size_t nleft)
{
	if (cp == '\r' && nleft > 0 && next[0] == '\n')
		return;		/* the LF that follows ends the line */
	if (cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 ||
	    cp == 0x2029) {
		(*line)++;
		*column = 1;
	} else if (*column < INT_MAX)
		(*column)++;
}

static int
check_bytes(const char *path, const char *data, size_t len,
    struct diag *err)
{
	const unsigned char *s = (const unsigned char *)data;
	int line = 1, column = 1;
	size_t i = bom_len(s, len), w;
	uint32_t cp;

	while (i < len) {
		w = utf8_decode(s + i, len - i, &cp);
		if (w == 0)
			return diag_setat(err, path, line, column,
			    "invalid UTF-8 byte 0x%02x", s[i]);
		if (cp == 0)
			return diag_setat(err, path, line, column,
			    "NUL byte is not allowed");
		if (!printable(cp))
			return diag_setat(err, path, line, column,
			    "control character U+%04X is not allowed",
			    (unsigned)cp);
		i += w;
		advance(&line, &column, cp, s + i, len - i);
	}
	return 0;
}

/* The mark of byte `offset`, for libyaml's reader errors (which give
 * only an offset).  The bytes have been checked already. */
static void
mark_at(const char *data, size_t len, size_t offset, int *line, int *column)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, w;
	uint32_t cp;

	*line = *column = 1;
	i = bom_len(s, len);
	while (i < len && i < offset) {
		w = utf8_decode(s + i, len - i, &cp);
		if (w == 0)
			w = 1, cp = s[i];
		i += w;
		advance(line, column, cp, s + i, len - i);
	}
}

/* --- duplicate keys: one hash set of (map, key) for the whole file --- */

struct keyent {
	const struct yml_node *map, *key;
};

struct keyset {
	struct keyent *v;
	size_t cap, n;		/* cap is 0 or a power of two */
};

static uint64_t
key_hash(const struct yml_node *map, const struct yml_node *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)map;
	size_t i;

	for (i = 0; i < key->len; i++)
		h = (h ^ (unsigned char)key->str[i]) * 0x100000001b3ULL;
	/* Finish so that every input bit reaches the low bits we index by:
	 * a file full of keys colliding there would make this quadratic. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int
key_same(const struct keyent *e, const struct yml_node *map,
    const struct yml_node *key)
{
	return e->map == map && e->key->len == key->len &&
	    memcmp(e->key->str, key->str, key->len) == 0;
}

static void
keyset_grow(struct keyset *ks)
{
	struct keyent *old = ks->v;
	size_t oldcap = ks->cap, i, j;

	ks->cap = oldcap ? oldcap * 2 : 64;
	ks->v = xcalloc(ks->cap, sizeof(*ks->v));
	for (i = 0; i < oldcap; i++) {
		if (old[i].map == NULL)
			continue;
		j = key_hash(old[i].map, old[i].key) & (ks->cap - 1);
		while (ks->v[j].map != NULL)
			j = (j + 1) & (ks->cap - 1);
		ks->v[j] = old[i];
	}
	free(old);
}

/* Add key to map's set; returns the earlier key when it is a duplicate. */
static const struct yml_node *
keyset_add(struct keyset *ks, const struct yml_node *map,
    const struct yml_node *key)
{
	size_t j;

	if (ks->n * 2 >= ks->cap)
		keyset_grow(ks);
	j = key_hash(map, key) & (ks->cap - 1);
	while (ks->v[j].map != NULL) {
		if (key_same(&ks->v[j], map, key))
			return ks->v[j].key;
		j = (j + 1) & (ks->cap - 1);
	}
	ks->v[j].map = map;
	ks->v[j].key = key;
	ks->n++;
	return NULL;
}

/* --- events to tree --- */

struct frame {
	struct yml_node *node;
	struct yml_node *key;	/* map: a key whose value has not come yet */
	size_t ialloc, kalloc;
};

struct loader {
	const char *path;
	struct yml_node *root;
	struct frame stack[YML_MAX_DEPTH];
	int depth;
	size_t nodes;
	int docs;
	struct keyset keys;
	struct diag *err;
};

static int
mark_int(size_t v)
{
	return v >= INT_MAX ? INT_MAX : (int)v + 1;
}

static int
load_error(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
load_error(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_setat(ld->err, ld->path, mark_int(m->line),
	    mark_int(m->column), "%s", msg);
}

/* Hang n on the open collection (or make it the root).  Takes n. */
static int
attach(struct loader *ld, struct yml_node *n, const yaml_mark_t *m)
{
	struct frame *f;
	const struct yml_node *first;
	char q[QUOTE_MAX * 4 + 8];

	if (ld->depth == 0) {
		ld->root = n;
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	if (f->node->kind == YML_SEQ) {
		f->node->items = xgrow(f->node->items, sizeof(*f->node->items),
		    f->node->n, &f->ialloc);
		f->node->items[f->node->n++] = n;
		return 0;
	}
	if (f->key == NULL) {
		/* the caller refuses collections as keys */
		if ((first = keyset_add(&ld->keys, f->node, n)) != NULL) {
			quote_str(q, sizeof(q), n->str, n->len);
			node_free(n);
			return load_error(ld, m,
			    "duplicate key '%s' (first at line %d)", q,
			    first->line);
		}
		f->key = n;
		return 0;
	}
	f->node->keys = xgrow(f->node->keys, sizeof(*f->node->keys),
	    f->node->n, &f->kalloc);
	f->node->items = xgrow(f->node->items, sizeof(*f->node->items),
	    f->node->n, &f->ialloc);
	f->node->keys[f->node->n] = f->key;
	f->node->items[f->node->n++] = n;
	f->key = NULL;
	return 0;
}

static int
awaiting_key(const struct loader *ld)
{
	const struct frame *f;

	if (ld->depth == 0)
		return 0;
	f = &ld->stack[ld->depth - 1];
	return f->node->kind == YML_MAP && f->key == NULL;
}

/* Anchors, tags and the node budget: what every node event is checked for. */
static int
check_node(struct loader *ld, const yaml_mark_t *m, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *t;

	if (anchor != NULL)
		return load_error(ld, m, "anchors and aliases are not allowed");
	if (tag != NULL) {
		/* libyaml hands over "!!str" resolved; show what was written */
		t = (const char *)tag;
		if (strncmp(t, "tag:yaml.org,2002:", 18) == 0) {
			q[0] = q[1] = '!';
			quote_str(q + 2, sizeof(q) - 2, t + 18, strlen(t + 18));
		} else
			quote_str(q, sizeof(q), t, strlen(t));
		return load_error(ld, m, "tags are not allowed (found '%s')",
		    q);
	}
	if (ld->nodes >= YML_MAX_NODES)
		return load_error(ld, m,
		    "more than %d nodes in one file is not allowed",
		    YML_MAX_NODES);
	ld->nodes++;
	return 0;
}

static void
shrink(struct frame *f)
{
	struct yml_node *n = f->node;

	/* Parsing grows by doubling; the tree keeps what it uses. */
	if (n->n > 0 && f->ialloc > n->n)
		n->items = xrealloc(n->items, n->n * sizeof(*n->items));
	if (n->n > 0 && f->kalloc > n->n)
		n->keys = xrealloc(n->keys, n->n * sizeof(*n->keys));
}

static int
load_event(struct loader *ld, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor, *tag;
	struct yml_node *n;
	enum yml_kind kind;
	struct frame *f;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (ld->docs++ > 0)
			return load_error(ld, m, "more than one document in "
			    "a file is not allowed");
		if (ev->data.document_start.tag_directives.start !=
		    ev->data.document_start.tag_directives.end)
			return load_error(ld, m, "tags are not allowed "
			    "(found a %%TAG directive)");
		return 0;
	case YAML_ALIAS_EVENT:
		return load_error(ld, m, "anchors and aliases are not allowed");
	case YAML_SCALAR_EVENT:
		if (check_node(ld, m, ev->data.scalar.anchor,
		    ev->data.scalar.tag) == -1)
			return -1;
		if (memchr(ev->data.scalar.value, '\0',
		    ev->data.scalar.length) != NULL)
			return load_error(ld, m,
			    "a NUL character in a string is not allowed");
		n = scalar_new((const char *)ev->data.scalar.value,
		    ev->data.scalar.length,
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
		    mark_int(m->line), mark_int(m->column));
		return attach(ld, n, m);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			kind = YML_SEQ;
			anchor = ev->data.sequence_start.anchor;
			tag = ev->data.sequence_start.tag;
		} else {
			kind = YML_MAP;
			anchor = ev->data.mapping_start.anchor;
			tag = ev->data.mapping_start.tag;
		}
		if (check_node(ld, m, anchor, tag) == -1)
			return -1;
		if (awaiting_key(ld))
			return load_error(ld, m, "a mapping key must be a "
			    "scalar, not a %s", yml_kind_name(kind));
		if (ld->depth >= YML_MAX_DEPTH)
			return load_error(ld, m, "nesting deeper than %d "
			    "levels is not allowed", YML_MAX_DEPTH);
		n = collection_new(kind, mark_int(m->line),
		    mark_int(m->column));
		if (attach(ld, n, m) == -1)
			return -1;
		f = &ld->stack[ld->depth++];
		memset(f, 0, sizeof(*f));
		f->node = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (ld->depth > 0)
			shrink(&ld->stack[--ld->depth]);
		return 0;
	default:
		return 0;
	}
}

/* Whether the character at 0-based (line, column) is a tab: libyaml's
 * message for a tab in indentation does not say so. */
static int
tab_at(const char *data, size_t len, const yaml_mark_t *m)
{
	const unsigned char *s = (const unsigned char *)data;
	int line = 1, column = 1;
	size_t i = bom_len(s, len), w;
	uint32_t cp;

	while (i < len) {
		if ((size_t)line == m->line + 1 &&
		    (size_t)column == m->column + 1)
			return s[i] == '\t';
		w = utf8_decode(s + i, len - i, &cp);
		if (w == 0)
			w = 1, cp = s[i];
		i += w;
		advance(&line, &column, cp, s + i, len - i);
	}
	return 0;
}

/* libyaml's own complaint, at its mark. */
static int
syntax_error(struct loader *ld, const yaml_parser_t *p, const char *data,
    size_t len)
{
	int line, column;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return diag_setat(ld->err, ld->path, 0, 0,
		    "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		mark_at(data, len, p->problem_offset, &line, &column);
		return diag_setat(ld->err, ld->path, line, column, "%s",
		    p->problem ? p->problem : "unreadable input");
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (tab_at(data, len, &p->problem_mark))
			return load_error(ld, &p->problem_mark, "%s (a tab "
			    "cannot indent YAML; use spaces)",
			    p->problem ? p->problem : "syntax error");
		if (p->context != NULL)
			return load_error(ld, &p->problem_mark,
			    "%s (%s at line %d, column %d)",
			    p->problem ? p->problem : "syntax error",
			    p->context, mark_int(p->context_mark.line),
			    mark_int(p->context_mark.column));
		return load_error(ld, &p->problem_mark, "%s",
		    p->problem ? p->problem : "syntax error");
	default:
		return diag_setat(ld->err, ld->path, 0, 0,
		    "YAML parser failed");
	}
}

int
yml_parse(struct yml_doc *doc, const char *path, const char *data,
    size_t len, struct diag *err)
{
	struct loader ld;
	yaml_parser_t parser;
	yaml_event_t event;
	int rc = -1, inited = 0, done = 0, i;

	memset(doc, 0, sizeof(*doc));
	memset(&ld, 0, sizeof(ld));
	ld.path = path ? path : "(input)";
	ld.err = err;
	if (data == NULL)
		data = "";
	/* Before anything else: a large file is refused without a look. */
	if (len > YML_MAX_BYTES) {
		diag_setat(err, ld.path, 1, 1,
		    "file is %zu bytes, over the limit of %d bytes", len,
		    YML_MAX_BYTES);
		goto out;
	}
	if (check_bytes(ld.path, data, len, err) == -1)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		diag_setat(err, ld.path, 0, 0, "cannot start the YAML parser");
		goto out;
	}
	inited = 1;
	/* The encoding is left to libyaml so that it drops a leading BOM;
	 * check_bytes has made sure that it can only find UTF-8. */
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			syntax_error(&ld, &parser, data, len);
			goto out;
		}
		done = event.type == YAML_STREAM_END_EVENT;
		if (load_event(&ld, &event) == -1) {
			yaml_event_delete(&event);
			goto out;
		}
		yaml_event_delete(&event);
	}
	/* A document of nothing ("---" alone) is an empty document. */
	if (ld.root != NULL && ld.root->kind == YML_SCALAR &&
	    ld.root->plain && ld.root->len == 0) {
		node_free(ld.root);
		ld.root = NULL;
	}
	doc->path = xstrdup(ld.path);
	doc->root = ld.root;
	ld.root = NULL;
	rc = 0;
out:
	for (i = 0; i < ld.depth; i++)
		node_free(ld.stack[i].key);
	node_free(ld.root);
	free(ld.keys.v);
	if (inited)
		yaml_parser_delete(&parser);
	return rc;
}

/* --- lookups --- */

const struct yml_node *
yml_get(const struct yml_node *map, const char *key)
{
	size_t i, klen;

	if (map == NULL || map->kind != YML_MAP || key == NULL)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < map->n; i++)
		if (map->keys[i]->len == klen &&
		    memcmp(map->keys[i]->str, key, klen) == 0)
			return map->items[i];
	return NULL;
}

/* An absent node (NULL) counts as null: "key:" and no key read alike. */
int
yml_is_null(const struct yml_node *n)
{
	if (n == NULL)
		return 1;
	if (n->kind != YML_SCALAR || !n->plain)
		return 0;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

/* --- schema helpers --- */

int
yml_error(const struct yml_doc *doc, const struct yml_node *n,
    struct diag *err, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_setat(err, doc && doc->path ? doc->path : "",
	    n ? n->line : 0, n ? n->column : 0, "%s", msg);
}

/* "a list", "null", "the string 'x'": what was found, for messages. */
static void
describe(char *out, size_t outsz, const struct yml_node *n)
{
	char q[QUOTE_MAX * 4 + 8];

	if (yml_is_null(n))
		snprintf(out, outsz, "null");
	else if (n->kind == YML_SEQ)
		snprintf(out, outsz, "a list");
	else if (n->kind == YML_MAP)
		snprintf(out, outsz, "a map");
	else {
		quote_str(q, sizeof(q), n->str, n->len);
		snprintf(out, outsz, "%s'%s'", n->plain ? "" : "the string ",
		    q);
	}
}

int
yml_check_keys(const struct yml_doc *doc, const struct yml_node *map,
    const char *what, const char *const *allowed, struct diag *err)
{
	char q[QUOTE_MAX * 4 + 8], found[QUOTE_MAX * 4 + 32];
	struct buf expected;
	size_t i, j;
	int rc = 0;

	if (map == NULL || map->kind != YML_MAP) {
		describe(found, sizeof(found), map);
		return yml_error(doc, map, err, "%s must be a map, not %s",
		    what, found);
	}
	for (i = 0; i < map->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(map->keys[i]->str, allowed[j]) == 0)
				break;
		if (allowed[j] != NULL)
			continue;
		buf_init(&expected, 0);
		for (j = 0; allowed[j] != NULL; j++)
			buf_printf(&expected, "%s%s", j ? ", " : "",
			    allowed[j]);
		quote_str(q, sizeof(q), map->keys[i]->str, map->keys[i]->len);
		rc = yml_error(doc, map->keys[i], err,
		    "unknown key '%s' in %s; expected one of: %s", q, what,
		    buf_cstr(&expected));
		buf_release(&expected);
		break;
	}
	return rc;
}

/* Present and not null: *v set.  Absent or null: 0 with *v NULL, or an
 * error when required; `expected` names the type for that message. */
static int
lookup(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, const char *expected,
    const struct yml_node **v, struct diag *err)
{
	*v = yml_get(map, key);
	if (!yml_is_null(*v))
		return 0;
	if (!required) {
		*v = NULL;
		return 0;
	}
	if (*v != NULL)
		return yml_error(doc, *v, err, "'%s' must be %s, not null",
		    key, expected);
	return yml_error(doc, map, err, "missing required key '%s'", key);
}

int
yml_str(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, const char **out, struct diag *err)
{
	const struct yml_node *v;
	char found[QUOTE_MAX * 4 + 32];

	if (lookup(doc, map, key, required, "a string", &v, err) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (v->kind != YML_SCALAR) {
		describe(found, sizeof(found), v);
		return yml_error(doc, v, err, "'%s' must be a string, not %s",
		    key, found);
	}
	*out = v->str;
	return 0;
}

int
yml_int(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, long min, long max, long *out,
    struct diag *err)
{
	const struct yml_node *v;
	char found[QUOTE_MAX * 4 + 32];
	const char *s;
	unsigned long mag = 0, lim;
	int neg = 0, over = 0;

	if (lookup(doc, map, key, required, "an integer", &v, err) == -1)
		return -1;
	if (v == NULL)
		return 0;
	describe(found, sizeof(found), v);
	if (v->kind != YML_SCALAR || !v->plain)
		goto bad;
	s = v->str;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	/* Decimal only: YAML 1.1 would read 010 as octal, 0x10 as hex. */
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		goto bad;
	lim = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		if (mag > (lim - (unsigned long)(*s - '0')) / 10)
			over = 1;
		else
			mag = mag * 10 + (unsigned long)(*s - '0');
	}
	if (!over) {
		long val = neg ? (mag == (unsigned long)LONG_MAX + 1 ?
		    LONG_MIN : -(long)mag) : (long)mag;
		if (val >= min && val <= max) {
			*out = val;
			return 0;
		}
	}
	return yml_error(doc, v, err, "'%s' must be between %ld and %ld, "
	    "not %s", key, min, max, v->str);
bad:
	return yml_error(doc, v, err, "'%s' must be an integer, not %s",
	    key, found);
}

int
yml_bool(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int *out, struct diag *err)
{
	const struct yml_node *v;
	char found[QUOTE_MAX * 4 + 32];

	if (lookup(doc, map, key, 0, "true or false", &v, err) == -1)
		return -1;
	if (v == NULL)
		return 0;
	/* Only the two words: YAML 1.1's yes/no/on/off are not booleans here. */
	if (v->kind == YML_SCALAR && v->plain) {
		if (strcmp(v->str, "true") == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v->str, "false") == 0) {
			*out = 0;
			return 0;
		}
	}
	describe(found, sizeof(found), v);
	return yml_error(doc, v, err, "'%s' must be true or false, not %s",
	    key, found);
}

int
yml_strlist(const struct yml_doc *doc, const struct yml_node *map,
    const char *key, int required, char ***out, size_t *n, struct diag *err)
{
	const struct yml_node *v, *it;
	char found[QUOTE_MAX * 4 + 32];
	char **list;
	size_t i;

	*out = NULL;
	*n = 0;
	if (lookup(doc, map, key, required, "a list of strings", &v,
	    err) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (v->kind == YML_SCALAR) {
		*out = xcalloc(1, sizeof(**out));
		(*out)[0] = xstrdup(v->str);
		*n = 1;
		return 0;
	}
	if (v->kind != YML_SEQ) {
		describe(found, sizeof(found), v);
		return yml_error(doc, v, err, "'%s' must be a list of strings, "
		    "not %s", key, found);
	}
	for (i = 0; i < v->n; i++) {
		it = v->items[i];
		if (it->kind != YML_SCALAR || yml_is_null(it)) {
			describe(found, sizeof(found), it);
			return yml_error(doc, it, err, "'%s' item %zu must be "
			    "a string, not %s", key, i + 1, found);
		}
	}
	if (v->n == 0)
		return 0;
	list = xcalloc(v->n, sizeof(*list));
	for (i = 0; i < v->n; i++)
		list[i] = xstrdup(v->items[i]->str);
	*out = list;
	*n = v->n;
	return 0;
}
