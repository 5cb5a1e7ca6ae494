/* Unit tests for the bottom floor: buffers, time, durations, globs. */
#include <string.h>
#include <stdlib.h>

#include "buf.h"
#include "diag.h"
#include "strmap.h"
#include "util.h"
#include "../../lib/tap.h"

static void
test_buf(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 8);
	is_str(buf_cstr(&b), "", "empty buffer reads as empty string");
	ok(buf_puts(&b, "abcd") == 0, "append within cap");
	ok(buf_printf(&b, "%d", 1234) == 0, "printf within cap");
	is_str(buf_cstr(&b), "abcd1234", "contents");
	ok(buf_putc(&b, 'x') == -1 && b.over, "append past cap refused");
	is_int(b.len, 8, "length unchanged by refused append");
	s = buf_detach(&b);
	is_str(s, "abcd1234", "detach hands over string");
	free(s);
	buf_release(&b);
}

static void
test_time(void)
{
	int64_t t = 0;
	char out[TIME_STR_MAX];

	ok(time_parse(&t, "1970-01-01T00:00:00Z") == 0 && t == 0, "epoch");
	ok(time_parse(&t, "2026-12-01T09:00:00Z") == 0 && t == 1796115600, "rfc3339 Z");
	ok(time_parse(&t, "2026-12-01T11:00:00+02:00") == 0 && t == 1796115600, "offset");
	ok(time_parse(&t, "2026-12-01") == 0 && t == 1796083200, "bare date");
	ok(time_parse(&t, "2024-02-29T00:00:00Z") == 0, "leap day");
	ok(time_parse(&t, "2026-02-29T00:00:00Z") == -1, "not a leap year");
	ok(time_parse(&t, "2026-13-01T00:00:00Z") == -1, "month 13");
	ok(time_parse(&t, "2026-12-01T09:00:00") == -1, "missing zone");
	ok(time_parse(&t, "yesterday") == -1, "words");
	is_str(time_format(out, sizeof(out), 1796115600), "2026-12-01T09:00:00Z", "format");
	is_str(time_format(out, sizeof(out), -1), "1969-12-31T23:59:59Z", "format before epoch");
	ok(duration_parse(&t, "90m") == 0 && t == 5400, "90m");
	ok(duration_parse(&t, "2w") == 0 && t == 1209600, "2w");
	ok(duration_parse(&t, "7d") == 0 && t == 604800, "7d");
	ok(duration_parse(&t, "7") == -1, "no unit");
	ok(duration_parse(&t, "0d") == -1, "zero");
	ok(duration_parse(&t, "7dd") == -1, "trailing junk");
	ok(duration_parse(&t, "-1d") == -1, "negative");
	is_str(duration_format(out, sizeof(out), 604800 * 2), "2w", "format weeks");
	is_str(duration_format(out, sizeof(out), 86400 * 30), "30d", "format days");
}

static void
test_glob(void)
{
	ok(glob_match("table:sales.*", "table:sales.orders"), "star");
	ok(!glob_match("table:sales.*", "table:finance.x"), "star no match");
	ok(glob_match("role:*admin*", "role:db_admin_x"), "two stars");
	ok(!glob_match("role:analyst_?", "role:analyst_ab"), "question mark");
	ok(glob_match("[ab]x", "bx") && !glob_match("[!ab]x", "bx"), "brackets");
	ok(glob_match_ci("*@Example.com", "alice@EXAMPLE.com"), "case-insensitive");
	ok(!glob_match("*@example.com", "alice@EXAMPLE.com"), "case-sensitive");
	ok(!glob_match("a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "no blow-up");
	ok(has_glob("a*") && !has_glob("abc"), "has_glob");
}

static void
test_diag(void)
{
	struct diag d;
	char line[2048];

	ok(diag_setat(&d, "r.yaml", 3, 5, "bad %s", "key") == -1, "diag returns -1");
	diag_prefix(&d, "loading");
	diag_format(&d, line, sizeof(line));
	is_str(line, "r.yaml:3:5: loading: bad key", "formatted with mark");
}

static void
test_strmap(void)
{
	struct strmap m = STRMAP_INIT;
	char key[32];
	size_t v = 0, i, bad = 0;

	ok(!strmap_get(&m, "x", &v), "empty map finds nothing");
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		strmap_put(&m, key, i);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		if (!strmap_get(&m, key, &v) || v != i)
			bad++;
	}
	is_int(bad, 0, "5000 keys survive growth");
	strmap_put(&m, "k7", 99);
	ok(strmap_get(&m, "k7", &v) && v == 99, "put replaces");
	is_int(m.n, 5000, "replace does not add");
	ok(!strmap_get(&m, "k5000", NULL), "absent key");
	strmap_release(&m);
}

int
main(void)
{
	test_strmap();
	test_buf();
	test_time();
	test_glob();
	test_diag();
	return tap_done();
}
