/*
 * Unit tests for the YAML loader: trees and marks of good documents,
 * every refusal DESIGN §6 asks for at its exact line and column (the
 * hostile files are read from tests/data/hostile/, so run from the
 * repository root), and the schema helpers' values and messages.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"
#include "yml.h"
#include "../../lib/tap.h"

#define HOSTILE "tests/data/hostile/"

static char msgbuf[DIAG_MSG_MAX + 600];

/* The formatted error of parsing src, or "OK". */
static const char *
perr_len(const char *src, size_t len)
{
	struct yml_doc doc;
	struct diag err;

	diag_clear(&err);
	if (yml_parse(&doc, "t.yaml", src, len, &err) == 0) {
		yml_doc_release(&doc);
		return "OK";
	}
	if (doc.root != NULL || doc.path != NULL)
		return "failed parse left a tree behind";
	diag_format(&err, msgbuf, sizeof(msgbuf));
	return msgbuf;
}

static const char *
perr(const char *src)
{
	return perr_len(src, strlen(src));
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = xmalloc((size_t)n + 1);
		*len = fread(p, 1, (size_t)n, f);
		p[*len] = '\0';
	}
	fclose(f);
	return p;
}

/* The formatted error of parsing a file, under its own path. */
static const char *
ferr(const char *path)
{
	struct yml_doc doc;
	struct diag err;
	size_t len;
	char *data = slurp(path, &len);

	if (data == NULL)
		return "cannot read file";
	diag_clear(&err);
	if (yml_parse(&doc, path, data, len, &err) == 0) {
		yml_doc_release(&doc);
		free(data);
		return "OK";
	}
	free(data);
	diag_format(&err, msgbuf, sizeof(msgbuf));
	return msgbuf;
}

static int
at(const struct yml_node *n, enum yml_kind kind, int line, int column)
{
	return n != NULL && n->kind == kind && n->line == line &&
	    n->column == column;
}

static void
test_request(void)
{
	static const char src[] =
	    "# a request\n"
	    "requester: alice@example.com\n"
	    "reason: \"Q4: revenue\"\n"
	    "duration: 30d\n"
	    "grants:\n"
	    "  - platform: warehouse\n"
	    "    target: 'table:sales.orders'\n"
	    "    privilege: SELECT\n"
	    "  - {platform: snowflake, target: role:REPORTING}\n"
	    "note: |\n"
	    "  two\n"
	    "  lines\n";
	struct yml_doc doc;
	struct diag err;
	const struct yml_node *r, *g, *g0, *g1;

	ok(yml_parse(&doc, "req.yaml", src, strlen(src), &err) == 0,
	    "request parses");
	is_str(doc.path, "req.yaml", "doc keeps its path");
	r = doc.root;
	ok(at(r, YML_MAP, 2, 1), "root map at 2:1");
	is_int(r->n, 5, "five keys");
	ok(at(r->keys[0], YML_SCALAR, 2, 1) &&
	    strcmp(r->keys[0]->str, "requester") == 0, "first key and mark");
	ok(at(yml_get(r, "requester"), YML_SCALAR, 2, 12), "value mark 2:12");
	is_str(yml_get(r, "requester")->str, "alice@example.com", "plain value");
	ok(yml_get(r, "requester")->plain, "plain flagged");
	is_str(yml_get(r, "reason")->str, "Q4: revenue", "double-quoted value");
	ok(!yml_get(r, "reason")->plain, "quoted not plain");
	ok(at(yml_get(r, "reason"), YML_SCALAR, 3, 9), "quoted mark at quote");
	is_int(yml_get(r, "reason")->len, 11, "length");
	g = yml_get(r, "grants");
	ok(at(g, YML_SEQ, 6, 3), "grants list at its first dash");
	is_int(g->n, 2, "two grants");
	g0 = g->items[0];
	g1 = g->items[1];
	ok(at(g0, YML_MAP, 6, 5), "block map in list at 6:5");
	ok(at(yml_get(g0, "target"), YML_SCALAR, 7, 13), "single-quoted mark");
	is_str(yml_get(g0, "target")->str, "table:sales.orders", "single-quoted");
	ok(at(g1, YML_MAP, 9, 5), "flow map at its brace");
	ok(at(yml_get(g1, "target"), YML_SCALAR, 9, 35), "flow value mark");
	is_str(yml_get(g1, "target")->str, "role:REPORTING", "flow value");
	is_str(yml_get(r, "note")->str, "two\nlines\n", "literal block");
	ok(!yml_get(r, "note")->plain, "block scalar not plain");
	ok(yml_get(r, "absent") == NULL, "absent key");
	ok(yml_get(g, "grants") == NULL, "yml_get on a list");
	ok(yml_get(NULL, "x") == NULL, "yml_get on NULL");
	ok(yml_get(r->keys[0], "x") == NULL, "yml_get on a scalar");
	yml_doc_release(&doc);
	ok(doc.root == NULL && doc.path == NULL, "release clears");
	yml_doc_release(&doc);		/* twice is harmless */
	yml_doc_release(NULL);
}

static void
test_shapes(void)
{
	struct yml_doc doc;
	struct diag err;
	const char *s;
	char *deep;
	size_t i;

	ok(yml_parse(&doc, "e.yaml", "", 0, &err) == 0 && doc.root == NULL &&
	    doc.path != NULL, "empty input: no root");
	yml_doc_release(&doc);
	ok(yml_parse(&doc, "e.yaml", NULL, 0, &err) == 0 && doc.root == NULL,
	    "NULL data of length 0");
	yml_doc_release(&doc);
	s = "# only\n\n   # comments\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0 &&
	    doc.root == NULL, "comments only: no root");
	yml_doc_release(&doc);
	s = "---\n# nothing\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0 &&
	    doc.root == NULL, "bare document marker: no root");
	yml_doc_release(&doc);
	s = "--- ~\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0 &&
	    at(doc.root, YML_SCALAR, 1, 5) && yml_is_null(doc.root),
	    "explicit null document is a null scalar");
	yml_doc_release(&doc);
	s = "- a\n- [b, {c: d}]\n- - e\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0 &&
	    at(doc.root, YML_SEQ, 1, 1) && doc.root->n == 3, "list root");
	ok(at(doc.root->items[1], YML_SEQ, 2, 3) &&
	    at(doc.root->items[1]->items[1], YML_MAP, 2, 7) &&
	    at(doc.root->items[2], YML_SEQ, 3, 3), "nested marks");
	is_str(yml_get(doc.root->items[1]->items[1], "c")->str, "d",
	    "nested flow map");
	yml_doc_release(&doc);

	/* marks: CR LF and lone CR end a line; columns count characters */
	s = "a: 1\r\nb: 2\rc: 3\n\xc3\xa9t\xc3\xa9: x\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0, "CR LF, CR");
	ok(at(yml_get(doc.root, "b"), YML_SCALAR, 2, 4), "after CR LF");
	ok(at(yml_get(doc.root, "c"), YML_SCALAR, 3, 4), "after lone CR");
	ok(at(yml_get(doc.root, "\xc3\xa9t\xc3\xa9"), YML_SCALAR, 4, 6),
	    "column counts characters, not bytes");
	yml_doc_release(&doc);
	s = "\xef\xbb\xbf" "a: 1\n";
	ok(yml_parse(&doc, "e.yaml", s, strlen(s), &err) == 0 &&
	    at(doc.root, YML_MAP, 1, 1) &&
	    at(yml_get(doc.root, "a"), YML_SCALAR, 1, 4),
	    "a byte order mark takes no column");
	yml_doc_release(&doc);

	/* exactly YML_MAX_DEPTH levels are fine */
	deep = xmalloc(2 * YML_MAX_DEPTH + 2);
	for (i = 0; i < YML_MAX_DEPTH; i++) {
		deep[i] = '[';
		deep[YML_MAX_DEPTH + 1 + i] = ']';
	}
	deep[YML_MAX_DEPTH] = 'x';
	deep[2 * YML_MAX_DEPTH + 1] = '\0';
	is_str(perr(deep), "OK", "32 levels of nesting accepted");
	free(deep);

	/* the same key in two maps is not a duplicate */
	is_str(perr("a: {x: 1}\nb: {x: 1}\nc: [{x: 1}, {x: 2}]\n"), "OK",
	    "same key in sibling maps");
	/* empty keys and values are scalars too */
	is_str(perr("? \n: 1\n"), "OK", "empty key");
}

static void
test_null(void)
{
	struct yml_doc doc;
	struct diag err;
	const char *s = "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: \"null\"\n"
	    "g: nULL\nh: ''\ni: []\n";

	ok(yml_parse(&doc, "n.yaml", s, strlen(s), &err) == 0, "nulls parse");
	ok(yml_is_null(yml_get(doc.root, "a")), "empty is null");
	ok(yml_is_null(yml_get(doc.root, "b")), "~ is null");
	ok(yml_is_null(yml_get(doc.root, "c")), "null is null");
	ok(yml_is_null(yml_get(doc.root, "d")), "Null is null");
	ok(yml_is_null(yml_get(doc.root, "e")), "NULL is null");
	ok(!yml_is_null(yml_get(doc.root, "f")), "quoted null is a string");
	ok(!yml_is_null(yml_get(doc.root, "g")), "nULL is a string");
	ok(!yml_is_null(yml_get(doc.root, "h")), "quoted empty is a string");
	ok(!yml_is_null(yml_get(doc.root, "i")), "empty list is not null");
	ok(yml_is_null(NULL), "absent counts as null");
	yml_doc_release(&doc);
	is_str(yml_kind_name(YML_SCALAR), "scalar", "kind name scalar");
	is_str(yml_kind_name(YML_SEQ), "list", "kind name list");
	is_str(yml_kind_name(YML_MAP), "map", "kind name map");
}

static void
test_hostile_files(void)
{
	is_str(ferr(HOSTILE "alias-bomb.yaml"),
	    HOSTILE "alias-bomb.yaml:3:9: anchors and aliases are not allowed",
	    "alias bomb refused at its first anchor");
	is_str(ferr(HOSTILE "anchor.yaml"),
	    HOSTILE "anchor.yaml:6:5: anchors and aliases are not allowed",
	    "unused anchor refused");
	is_str(ferr(HOSTILE "tag.yaml"),
	    HOSTILE "tag.yaml:3:9: tags are not allowed (found '!!str')",
	    "tag refused");
	is_str(ferr(HOSTILE "duplicate-key.yaml"),
	    HOSTILE "duplicate-key.yaml:9:1: duplicate key 'requester' "
	    "(first at line 2)", "duplicate key refused");
	is_str(ferr(HOSTILE "deep-nesting.yaml"),
	    HOSTILE "deep-nesting.yaml:4:40: nesting deeper than 32 levels "
	    "is not allowed", "33rd level refused");
	is_str(ferr(HOSTILE "bad-utf8.yaml"),
	    HOSTILE "bad-utf8.yaml:3:19: invalid UTF-8 byte 0xe9",
	    "bad UTF-8 refused at its character column");
	is_str(ferr(HOSTILE "two-documents.yaml"),
	    HOSTILE "two-documents.yaml:9:1: more than one document in a "
	    "file is not allowed", "second document refused");
}

static void
test_huge(void)
{
	char path[512], want[700];
	const char *head = "requester: mallory@example.com\nreason: ";
	size_t i, n = YML_MAX_BYTES + 4096, len;
	char *data;
	FILE *f;

	snprintf(path, sizeof(path), "%s/huge-scalar.yaml", tap_tmpdir());
	f = fopen(path, "wb");
	ok(f != NULL, "create huge file");
	if (f == NULL)
		return;
	fputs(head, f);
	for (i = strlen(head); i < n - 1; i++)
		fputc('x', f);
	fputc('\n', f);
	fclose(f);
	snprintf(want, sizeof(want), "%s:1:1: file is %zu bytes, over the "
	    "limit of 1048576 bytes", path, n);
	is_str(ferr(path), want, "file over 1 MiB refused at 1:1");

	/* the limit itself is allowed */
	data = xmalloc(YML_MAX_BYTES);
	memcpy(data, head, strlen(head));
	memset(data + strlen(head), 'x', YML_MAX_BYTES - strlen(head) - 1);
	data[YML_MAX_BYTES - 1] = '\n';
	is_str(perr_len(data, YML_MAX_BYTES), "OK", "exactly 1 MiB accepted");
	/* and one byte more is not, before any look at the content */
	len = YML_MAX_BYTES + 1;
	data = xrealloc(data, len);
	data[len - 1] = '\xff';
	is_str(perr_len(data, len), "t.yaml:1:1: file is 1048577 bytes, "
	    "over the limit of 1048576 bytes", "limit checked before bytes");
	free(data);
}

static void
test_refusals(void)
{
	char *s, *p;
	size_t i, n, len;

	/* anchors, aliases, tags */
	is_str(perr("a: *x\n"), "t.yaml:1:4: anchors and aliases are not "
	    "allowed", "alias alone");
	is_str(perr("a:\n  - &x {b: 1}\n"), "t.yaml:2:5: anchors and "
	    "aliases are not allowed", "anchor on a map");
	is_str(perr("a: !foo x\n"), "t.yaml:1:4: tags are not allowed "
	    "(found '!foo')", "local tag");
	is_str(perr("a: ! x\n"), "t.yaml:1:4: tags are not allowed "
	    "(found '!')", "non-specific tag");
	is_str(perr("a: !!map {}\n"), "t.yaml:1:4: tags are not allowed "
	    "(found '!!map')", "tag on a collection");
	is_str(perr("%TAG !e! tag:example.com,2000:\n---\na: 1\n"),
	    "t.yaml:1:1: tags are not allowed (found a %TAG directive)",
	    "TAG directive");
	is_str(perr("%YAML 1.1\n---\na: 1\n"), "OK", "YAML directive");

	/* duplicates, collection keys */
	is_str(perr("{a: 1, \"a\": 2}"), "t.yaml:1:8: duplicate key 'a' "
	    "(first at line 1)", "quoted and plain key are the same key");
	is_str(perr("x:\n  a: 1\n  b:\n    a: 2\n  a: 3\n"),
	    "t.yaml:5:3: duplicate key 'a' (first at line 2)",
	    "duplicate after a nested map");
	is_str(perr("[a]: 1\n"), "t.yaml:1:1: a mapping key must be a "
	    "scalar, not a list", "list as key");
	is_str(perr("? {a: 1}\n: x\n"), "t.yaml:1:3: a mapping key must be "
	    "a scalar, not a map", "map as key");

	/* a map with many keys: the duplicate check still finds one */
	len = 0;
	p = xmalloc(300 * 16);
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(p + len, 16, "k%zu: %zu\n", i, i);
	is_str(perr(p), "OK", "300 distinct keys");
	snprintf(p + len, 16, "k17: x\n");
	is_str(perr(p), "t.yaml:301:1: duplicate key 'k17' (first at "
	    "line 18)", "duplicate among 300 keys");
	free(p);

	/* documents */
	is_str(perr("a: 1\n--- \nb: 2\n"), "t.yaml:2:1: more than one "
	    "document in a file is not allowed", "second explicit document");
	is_str(perr("---\n---\n"), "t.yaml:2:1: more than one document in "
	    "a file is not allowed", "two empty documents");

	/* depth in block style too */
	n = YML_MAX_DEPTH + 1;
	s = xmalloc(n * 2 + 2);
	for (i = 0; i < n; i++) {
		s[2 * i] = '-';
		s[2 * i + 1] = ' ';
	}
	s[2 * n] = 'x';
	s[2 * n + 1] = '\0';
	is_str(perr(s), "t.yaml:1:65: nesting deeper than 32 levels is not "
	    "allowed", "33 block lists");
	free(s);
	/* 1 MiB of '[' stops at the 33rd */
	s = xmalloc(YML_MAX_BYTES + 1);
	memset(s, '[', YML_MAX_BYTES);
	s[YML_MAX_BYTES] = '\0';
	is_str(perr(s), "t.yaml:1:33: nesting deeper than 32 levels is not "
	    "allowed", "1 MiB of brackets");
	/* a huge flat list stops at the node limit */
	n = 100000;
	s[0] = '[';
	for (i = 0; i < n; i++) {
		s[1 + 2 * i] = 'a';
		s[2 + 2 * i] = ',';
	}
	s[1 + 2 * n] = ']';
	s[2 + 2 * n] = '\0';
	is_str(perr(s), "t.yaml:1:200000: more than 100000 nodes in one file "
	    "is not allowed", "node limit");
	free(s);

	/* bytes */
	is_str(perr_len("a: b\0c\n", 7), "t.yaml:1:5: NUL byte is not allowed",
	    "NUL byte");
	is_str(perr("a: x\n\x07\n"), "t.yaml:2:1: control character U+0007 "
	    "is not allowed", "control character");
	is_str(perr("a: \xc2\x9b\n"), "t.yaml:1:4: control character "
	    "U+009B is not allowed", "C1 control character");
	is_str(perr("a: \xef\xbf\xbe\n"), "t.yaml:1:4: control character "
	    "U+FFFE is not allowed", "noncharacter U+FFFE");
	is_str(perr("a: \xc0\x80\n"), "t.yaml:1:4: invalid UTF-8 byte 0xc0",
	    "overlong NUL");
	is_str(perr("a: \xe0\x80\xaf\n"), "t.yaml:1:4: invalid UTF-8 byte "
	    "0xe0", "overlong slash");
	is_str(perr("a: \xed\xa0\x80\n"), "t.yaml:1:4: invalid UTF-8 byte "
	    "0xed", "surrogate");
	is_str(perr("a: \xf4\x90\x80\x80\n"), "t.yaml:1:4: invalid UTF-8 "
	    "byte 0xf4", "above U+10FFFF");
	is_str(perr("a: \xe2\x82"), "t.yaml:1:4: invalid UTF-8 byte 0xe2",
	    "truncated at end of input");
	is_str(perr("a: x\r\n\xe2\x80\xa8" "b: \x80\n"), "t.yaml:3:4: invalid "
	    "UTF-8 byte 0x80", "stray continuation; CR LF and U+2028 "
	    "each end a line");
	is_str(perr("\xff\xfe" "a\0:\0"), "t.yaml:1:1: invalid UTF-8 byte "
	    "0xff", "UTF-16 is not taken");
	is_str(perr("a: \"x\\0y\"\n"), "t.yaml:1:4: a NUL character in a "
	    "string is not allowed", "escaped NUL");

	/* libyaml's own errors */
	is_str(perr("a: b: c\n"), "t.yaml:1:5: mapping values are not "
	    "allowed in this context", "syntax error mark");
	is_str(perr("a: [1, 2\n"), "t.yaml:2:1: did not find expected ',' "
	    "or ']' (while parsing a flow sequence at line 1, column 4)",
	    "unclosed flow with context");
	is_str(perr("a:\n\tb: 1\n"), "t.yaml:2:1: found character that "
	    "cannot start any token (a tab cannot indent YAML; use spaces)",
	    "tab indentation explained");
	is_str(perr("a: \"x\n"), "t.yaml:2:1: found unexpected end of "
	    "stream (while scanning a quoted scalar at line 1, column 4)",
	    "unterminated quote");
}

static void
test_helpers(void)
{
	static const char src[] =
	    "name: alice\n"
	    "count: 42\n"
	    "neg: -7\n"
	    "octal: 010\n"
	    "hex: 0x10\n"
	    "qint: \"5\"\n"
	    "big: 99999999999999999999\n"
	    "min: -9223372036854775808\n"
	    "yes: true\n"
	    "no: false\n"
	    "word: yes\n"
	    "qbool: \"true\"\n"
	    "list: [a, b]\n"
	    "one: solo\n"
	    "badlist: [a, {b: c}]\n"
	    "nullitem: [a, ~]\n"
	    "empty:\n"
	    "emptylist: []\n"
	    "map: {k: v}\n"
	    "\"\\e[31mkey\": 1\n";
	static const char *const allowed[] = { "name", "count", NULL };
	static const char *const all[] = { "name", "count", "neg", "octal",
	    "hex", "qint", "big", "min", "yes", "no", "word", "qbool", "list",
	    "one", "badlist", "nullitem", "empty", "emptylist", "map",
	    "\x1b[31mkey", NULL };
	struct yml_doc doc;
	struct diag err;
	const struct yml_node *r;
	const char *str;
	long l;
	int b;
	char **v;
	size_t n;

	if (yml_parse(&doc, "h.yaml", src, strlen(src), &err) != 0) {
		ok(0, "helper document parses");
		return;
	}
	r = doc.root;

	ok(yml_check_keys(&doc, r, "the test", all, &err) == 0,
	    "check_keys: all known");
	ok(yml_check_keys(&doc, r, "the test", allowed, &err) == -1,
	    "check_keys: unknown key");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:3:1: unknown key 'neg' in the test; expected "
	    "one of: name, count", "check_keys message and mark");
	ok(yml_check_keys(&doc, yml_get(r, "list"), "a grant", allowed,
	    &err) == -1, "check_keys on a list");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:13:7: a grant must be a map, not a list",
	    "check_keys wants a map");
	ok(yml_check_keys(&doc, NULL, "the request", allowed, &err) == -1,
	    "check_keys on nothing");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml: the request must be a map, not null",
	    "no mark without a node");
	{
		static const char *const only_key[] = { "name", "count", "neg",
		    "octal", "hex", "qint", "big", "min", "yes", "no", "word",
		    "qbool", "list", "one", "badlist", "nullitem", "empty",
		    "emptylist", "map", NULL };
		ok(yml_check_keys(&doc, r, "x", only_key, &err) == -1,
		    "escape in key");
		diag_format(&err, msgbuf, sizeof(msgbuf));
		is_str(msgbuf, "h.yaml:20:1: unknown key '\\x1b[31mkey' in x; "
		    "expected one of: name, count, neg, octal, hex, qint, big, "
		    "min, yes, no, word, qbool, list, one, badlist, nullitem, "
		    "empty, emptylist, map", "control bytes escaped in message");
	}

	str = NULL;
	ok(yml_str(&doc, r, "name", 1, &str, &err) == 0 && str &&
	    strcmp(str, "alice") == 0, "str: present");
	ok(yml_str(&doc, r, "count", 1, &str, &err) == 0 &&
	    strcmp(str, "42") == 0, "str: a number is a string");
	str = "default";
	ok(yml_str(&doc, r, "absent", 0, &str, &err) == 0 &&
	    strcmp(str, "default") == 0, "str: optional absent untouched");
	ok(yml_str(&doc, r, "empty", 0, &str, &err) == 0 &&
	    strcmp(str, "default") == 0, "str: optional null untouched");
	ok(yml_str(&doc, r, "absent", 1, &str, &err) == -1, "str: required");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:1:1: missing required key 'absent'",
	    "str: missing message at the map");
	ok(yml_str(&doc, r, "empty", 1, &str, &err) == -1, "str: required null");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:17:7: 'empty' must be a string, not null",
	    "str: null message");
	ok(yml_str(&doc, r, "list", 0, &str, &err) == -1, "str: list");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:13:7: 'list' must be a string, not a list",
	    "str: type message");
	ok(yml_str(&doc, r, "map", 0, &str, &err) == -1 &&
	    strstr(err.msg, "not a map") != NULL, "str: map");

	l = 0;
	ok(yml_int(&doc, r, "count", 1, 0, 100, &l, &err) == 0 && l == 42,
	    "int: 42");
	ok(yml_int(&doc, r, "neg", 1, -10, 10, &l, &err) == 0 && l == -7,
	    "int: negative");
	ok(yml_int(&doc, r, "min", 1, LONG_MIN, 0, &l, &err) == 0 &&
	    l == LONG_MIN, "int: LONG_MIN");
	l = 5;
	ok(yml_int(&doc, r, "absent", 0, 0, 9, &l, &err) == 0 && l == 5,
	    "int: absent untouched");
	ok(yml_int(&doc, r, "absent", 1, 0, 9, &l, &err) == -1,
	    "int: required absent");
	ok(yml_int(&doc, r, "count", 1, 0, 10, &l, &err) == -1 && l == 5,
	    "int: above max");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:2:8: 'count' must be between 0 and 10, not 42",
	    "int: range message");
	ok(yml_int(&doc, r, "neg", 1, 0, 10, &l, &err) == -1, "int: below min");
	ok(yml_int(&doc, r, "big", 1, 0, LONG_MAX, &l, &err) == -1 &&
	    strstr(err.msg, "must be between") != NULL, "int: overflow");
	ok(yml_int(&doc, r, "octal", 1, 0, 100, &l, &err) == -1,
	    "int: leading zero");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:4:8: 'octal' must be an integer, not '010'",
	    "int: decimal only message");
	ok(yml_int(&doc, r, "hex", 1, 0, 100, &l, &err) == -1, "int: hex");
	ok(yml_int(&doc, r, "qint", 1, 0, 100, &l, &err) == -1, "int: quoted");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:6:7: 'qint' must be an integer, not the "
	    "string '5'", "int: quoted message");
	ok(yml_int(&doc, r, "list", 1, 0, 100, &l, &err) == -1 &&
	    strstr(err.msg, "not a list") != NULL, "int: list");

	b = -1;
	ok(yml_bool(&doc, r, "yes", &b, &err) == 0 && b == 1, "bool: true");
	ok(yml_bool(&doc, r, "no", &b, &err) == 0 && b == 0, "bool: false");
	b = 7;
	ok(yml_bool(&doc, r, "absent", &b, &err) == 0 && b == 7,
	    "bool: absent untouched");
	ok(yml_bool(&doc, r, "word", &b, &err) == -1, "bool: yes refused");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:11:7: 'word' must be true or false, not 'yes'",
	    "bool: message");
	ok(yml_bool(&doc, r, "qbool", &b, &err) == -1 &&
	    strstr(err.msg, "not the string 'true'") != NULL,
	    "bool: quoted refused");

	ok(yml_strlist(&doc, r, "list", 1, &v, &n, &err) == 0 && n == 2 &&
	    strcmp(v[0], "a") == 0 && strcmp(v[1], "b") == 0, "strlist: list");
	strv_free(v, n);
	ok(yml_strlist(&doc, r, "one", 1, &v, &n, &err) == 0 && n == 1 &&
	    strcmp(v[0], "solo") == 0, "strlist: single string");
	strv_free(v, n);
	ok(yml_strlist(&doc, r, "absent", 0, &v, &n, &err) == 0 && n == 0 &&
	    v == NULL, "strlist: absent");
	ok(yml_strlist(&doc, r, "emptylist", 1, &v, &n, &err) == 0 && n == 0 &&
	    v == NULL, "strlist: empty list");
	ok(yml_strlist(&doc, r, "absent", 1, &v, &n, &err) == -1,
	    "strlist: required absent");
	ok(yml_strlist(&doc, r, "badlist", 1, &v, &n, &err) == -1 &&
	    v == NULL && n == 0, "strlist: map item");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:15:14: 'badlist' item 2 must be a string, not "
	    "a map", "strlist: item message");
	ok(yml_strlist(&doc, r, "nullitem", 1, &v, &n, &err) == -1 &&
	    strstr(err.msg, "item 2 must be a string, not null") != NULL,
	    "strlist: null item");
	ok(yml_strlist(&doc, r, "map", 1, &v, &n, &err) == -1, "strlist: map");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:19:6: 'map' must be a list of strings, not a map",
	    "strlist: type message");

	ok(yml_error(&doc, yml_get(r, "one"), &err, "bad %s %d", "thing", 3) ==
	    -1, "yml_error returns -1");
	diag_format(&err, msgbuf, sizeof(msgbuf));
	is_str(msgbuf, "h.yaml:14:6: bad thing 3", "yml_error at node");
	yml_doc_release(&doc);
}

static void
test_long_key(void)
{
	char key[201], cut[65], src[500], want[300];

	/* two equal 200-byte keys: the message quotes only the first 64 */
	memset(key, 'k', 200);
	key[200] = '\0';
	memcpy(cut, key, 64);
	cut[64] = '\0';
	snprintf(src, sizeof(src), "{%s: 1, %s: 2}", key, key);
	snprintf(want, sizeof(want), "t.yaml:1:207: duplicate key '%s...' "
	    "(first at line 1)", cut);
	is_str(perr(src), want, "long key cut in the message");
}

int
main(void)
{
	test_request();
	test_shapes();
	test_null();
	test_hostile_files();
	test_huge();
	test_refusals();
	test_helpers();
	test_long_key();
	return tap_done();
}
