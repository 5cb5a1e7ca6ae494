/*
 * Unit tests for repo.c against real repositories made with the git CLI
 * (fixed names and dates): resolving refs, reading and listing at a
 * commit, and approvals (DESIGN §3) with merges, squash trailers, direct
 * pushes, edits, deletion and re-addition, the approval cache and a
 * rewritten history.  A generated history built with git fast-import
 * checks approvals against the generator's own model and reports timing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"
#include "repo.h"
#include "util.h"
#include "../../lib/tap.h"

static const char *tmp;
static const char *const yaml[] = { ".yaml", ".yml", NULL };

/* The history of the access repository.  ids/NAME holds the commit id
 * of a named step and ids/NAME.t its committer time. */
static const char script[] =
"set -e\n"
"cd \"$1\"\n"
"export HOME=\"$PWD\" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null\n"
"export LC_ALL=C TZ=UTC GIT_MERGE_AUTOEDIT=no GIT_EDITOR=true\n"
"t=1700000000\n"
"tick() { t=$((t + 3600)); export GIT_AUTHOR_DATE=\"@$((t - 600)) +0000\""
" GIT_COMMITTER_DATE=\"@$t +0000\"; }\n"
"as() { export GIT_AUTHOR_NAME=\"$1\" GIT_AUTHOR_EMAIL=\"$2\""
" GIT_COMMITTER_NAME=\"$1\" GIT_COMMITTER_EMAIL=\"$2\"; }\n"
"put() { mkdir -p \"$(dirname \"$1\")\"; printf '%s\\n' \"$2\" > \"$1\"; git add \"$1\"; }\n"
"commit() { tick; git commit -q -m \"$1\"; }\n"
"merge() { tick; git merge -q --no-ff -F ../msg \"$1\"; }\n"
"id() { git rev-parse HEAD > ../ids/$1; git show -s --format=%ct HEAD > ../ids/$1.t; }\n"
"mkdir ids\n"
"git init -q -b main repo\n"
"cd repo\n"
"as Alice alice@example.com\n"
"put accord.yaml 'branch: main'\n"
"put requests/root.yaml 'root v1'\n"
"put requests/base.yaml 'base v1'\n"
"put docs/readme.md 'hello'\n"
"commit initial; id root\n"
/* a feature branch with two commits: only the merge is on first parent */
"git checkout -q -b f1\n"
"put requests/team/a.yaml 'a v0'\n"
"put requests/b.yml 'b v1'\n"
"put requests/notes.txt 'not yaml'\n"
"commit 'f1: add a and b'; id f1a\n"
"put requests/team/a.yaml 'a v1'\n"
"put team/a.yaml 'a v1'\n"
"put old/requests/team/a.yaml 'a v1'\n"
"commit 'f1: revise a'; id f1b\n"
"git checkout -q main\n"
"as Bob Bob@Example.COM\n"
"printf 'Merge branch f1\\n' > ../msg\n"
"merge f1; id m1\n"
/* a squash-style commit approved through trailers */
"as Carol carol@example.com\n"
"put requests/c.yaml 'c v1'\n"
"tick; git commit -q -F - <<'EOF'\n"
"Add c (#12)\n"
"\n"
"Reviewed in pull request 12.\n"
"\n"
"Approved-by: Dave <DAVE@Example.com>\n"
"Approved-by: Erin Example <erin@example.com>\n"
"approved-by: Dave Again <dave@example.com>\n"
"Signed-off-by: Carol <carol@example.com>\n"
"EOF\n"
"id squash\n"
/* a direct push: no merge, no trailer */
"as Alice alice@example.com\n"
"put requests/d.yaml 'd v1'\n"
"commit 'direct push'; id direct\n"
/* a nested folder, and a file that later becomes a directory */
"git checkout -q -b f2\n"
"put requests/x/y/z.yaml 'z v1'\n"
"put requests/p 'p is a file'\n"
"commit 'f2'\n"
"git checkout -q main\n"
"as Bob bob@example.com\n"
"printf 'Merge branch f2\\n' > ../msg\n"
"merge f2; id m2\n"
"as Alice alice@example.com\n"
"git rm -q requests/p\n"
"put requests/p/q.yaml 'q v1'\n"
"commit 'p becomes a directory'; id pdir\n"
/* an edit approved by a later merge, with a trailer in the merge */
"git checkout -q -b f3\n"
"put requests/b.yml 'b v2'\n"
"commit 'f3: edit b'\n"
"git checkout -q main\n"
"as Frank frank@example.com\n"
"printf 'Merge branch f3\\n\\nApproved-by: Gina <gina@example.com>\\n"
"Approved-by: Frank <Frank@example.com>\\n' > ../msg\n"
"merge f3; id m3\n"
/* deleted, then re-added with the same content */
"as Alice alice@example.com\n"
"git rm -q requests/base.yaml\n"
"commit 'withdraw base'; id del\n"
"put requests/base.yaml 'base v1'\n"
"commit 're-add base'; id readd\n"
/* changes outside requests/ and a commit that changes nothing */
"put team/a.yaml 'a v2'\n"
"put old/requests/team/a.yaml 'a v3'\n"
"put docs/readme.md 'hello again'\n"
"commit unrelated\n"
"tick; git commit -q --allow-empty -m empty; id t1\n"
/* after the cached tip: an edit, an edit and revert, a new file */
"put requests/d.yaml 'd v2'\n"
"commit 'edit d'; id e1\n"
"put requests/c.yaml 'c v2'\n"
"commit 'edit c'\n"
"put requests/c.yaml 'c v1'\n"
"commit 'revert c'; id crev\n"
"put requests/new.yaml 'new v1'\n"
"commit 'add new'; id t2\n"
"git tag -a -m 'release' v1 HEAD\n"
/* a rewritten history: a branch from before t1 */
"git checkout -q -b rewritten $(cat ../ids/del)\n"
"put requests/base.yaml 'base v2'\n"
"commit 'rewritten base'; id t3\n"
"git checkout -q main\n"
"git clone -q --bare . ../bare.git\n";

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL)
		return xstrdup("");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The commit id recorded by the script as `name`. */
static const char *
id(const char *name)
{
	static char ids[8][41];
	static int next;
	char *path = xasprintf("%s/ids/%s", tmp, name), *s = slurp(path);
	char *out = ids[next++ % 8];

	snprintf(out, 41, "%s", s);
	free(s);
	free(path);
	return out;
}

static int64_t
id_time(const char *name)
{
	char *path = xasprintf("%s/ids/%s.t", tmp, name), *s = slurp(path);
	int64_t t = strtoll(s, NULL, 10);

	free(s);
	free(path);
	return t;
}

static void
is_approval(const struct approval *a, const char *commit_name,
    const char *approvers, const char *what)
{
	char name[256], got[512] = "";
	size_t i, len = 0;

	for (i = 0; i < a->napprovers; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
		    i ? "," : "", a->approvers[i]);
	snprintf(name, sizeof(name), "%s: commit is %s", what, commit_name);
	is_str(a->commit, id(commit_name), name);
	snprintf(name, sizeof(name), "%s: approved_at is its committer time",
	    what);
	is_int(a->approved_at, id_time(commit_name), name);
	snprintf(name, sizeof(name), "%s: approvers", what);
	is_str(got, approvers, name);
}

static int
same_approval(const struct approval *a, const struct approval *b)
{
	size_t i;

	if (strcmp(a->commit, b->commit) || a->approved_at != b->approved_at ||
	    a->napprovers != b->napprovers)
		return 0;
	for (i = 0; i < a->napprovers; i++)
		if (strcmp(a->approvers[i], b->approvers[i]))
			return 0;
	return 1;
}

static ssize_t
find(const struct repo_entry *e, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].path, path) == 0)
			return (ssize_t)i;
	return -1;
}

static void
test_open_resolve(void)
{
	struct repo *r = NULL;
	struct diag err;
	char out[41], *path;

	path = xasprintf("%s/repo/requests/team", tmp);
	ok(repo_open(&r, path, &err) == 0, "open from a subdirectory");
	free(path);
	ok(r && repo_resolve(r, "refs/heads/main", out, &err) == 0 &&
	    strcmp(out, id("t2")) == 0, "resolve full ref name");
	ok(r && repo_resolve(r, "main", out, &err) == 0 &&
	    strcmp(out, id("t2")) == 0, "resolve short branch name");
	ok(r && repo_resolve(r, "HEAD", out, &err) == 0 &&
	    strcmp(out, id("t2")) == 0, "resolve HEAD");
	ok(r && repo_resolve(r, "rewritten", out, &err) == 0 &&
	    strcmp(out, id("t3")) == 0, "resolve another branch");
	ok(r && repo_resolve(r, id("m1"), out, &err) == 0 &&
	    strcmp(out, id("m1")) == 0, "resolve hex id");
	ok(r && repo_resolve(r, "v1", out, &err) == 0 &&
	    strcmp(out, id("t2")) == 0, "annotated tag peeled to its commit");
	ok(r && repo_resolve(r, "refs/heads/nope", out, &err) == -1,
	    "bad ref fails");
	is_str(err.msg, "ref 'refs/heads/nope' not found in repository",
	    "bad ref message");
	ok(r && repo_resolve(r, "0123456789012345678901234567890123456789",
	    out, &err) == -1, "unknown id fails");
	repo_free(r);

	path = xasprintf("%s/nope", tmp);
	r = NULL;
	ok(repo_open(&r, path, &err) == -1 && r == NULL && err.msg[0],
	    "open of a missing path fails");
	free(path);
	repo_free(NULL);
}

static void
test_read_list(void)
{
	struct repo *r = NULL;
	struct repo_entry *e = NULL;
	struct diag err;
	char blob[41], *data = NULL, *path, *want;
	size_t len = 0, n = 0, i;
	int rc;
	const char *paths[] = { "requests/b.yml", "requests/base.yaml",
	    "requests/c.yaml", "requests/d.yaml", "requests/new.yaml",
	    "requests/p/q.yaml", "requests/root.yaml",
	    "requests/team/a.yaml", "requests/x/y/z.yaml" };

	path = xasprintf("%s/repo", tmp);
	if (repo_open(&r, path, &err) == -1) {
		ok(0, "open: %s", err.msg);
		free(path);
		return;
	}
	free(path);
	/* the working tree differs from the commit and must not be read */
	sh("printf 'dirty\\n' > %s/repo/requests/c.yaml", tmp);
	ok(repo_read(r, id("t2"), "requests/c.yaml", 1024, &data, &len, blob,
	    &err) == 0, "read a file");
	is_str(data, "c v1\n", "contents from the commit, not the work tree");
	is_int(len, 5, "length");
	path = xasprintf("git -C %s/repo rev-parse %s:requests/c.yaml > "
	    "%s/ids/cblob", tmp, id("t2"), tmp);
	sh("%s", path);
	free(path);
	is_str(blob, id("cblob"), "blob id");
	free(data);
	data = NULL;
	ok(repo_read(r, id("t1"), "requests/d.yaml", 1024, &data, &len, blob,
	    &err) == 0 && strcmp(data, "d v1\n") == 0,
	    "read at an older commit");
	free(data);
	data = NULL;
	ok(repo_read(r, id("t2"), "requests/missing.yaml", 1024, &data, &len,
	    blob, &err) == 1 && data == NULL, "missing file returns 1");
	ok(repo_read(r, id("t2"), "nodir/missing.yaml", 1024, &data, &len,
	    blob, &err) == 1, "missing directory returns 1");
	ok(repo_read(r, id("del"), "requests/base.yaml", 1024, &data, &len,
	    blob, &err) == 1, "deleted file returns 1");
	ok(repo_read(r, id("t2"), "requests/c.yaml", 3, &data, &len, blob,
	    &err) == -1, "file over the limit fails");
	is_str(err.msg, "requests/c.yaml: file is 5 bytes, over the limit of 3",
	    "over-limit message");
	ok(repo_read(r, id("t2"), "requests", 1024, &data, &len, blob,
	    &err) == -1, "a directory is not a file");
	ok(repo_read(r, "HEAD", "accord.yaml", 1024, &data, &len, blob,
	    &err) == -1, "a ref is not a commit id");

	ok(repo_blob(r, id("cblob"), 1024, &data, &len, &err) == 0 &&
	    strcmp(data, "c v1\n") == 0 && len == 5, "blob by id");
	free(data);
	data = NULL;
	ok(repo_blob(r, id("cblob"), 4, &data, &len, &err) == -1,
	    "blob over the limit fails");
	is_str(err.msg, "file is 5 bytes, over the limit of 4",
	    "blob over-limit message");

	rc = repo_list(r, id("t2"), "requests", yaml, &e, &n, &err);
	ok(rc == 0, "list requests");
	is_int(n, sizeof(paths) / sizeof(paths[0]), "number of request files");
	for (i = 0; i < n && i < sizeof(paths) / sizeof(paths[0]); i++)
		is_str(e[i].path, paths[i], "listed in byte order");
	i = (size_t)find(e, n, "requests/c.yaml");
	ok(i < n && strcmp(e[i].blob, id("cblob")) == 0, "listed blob id");
	repo_entries_free(e, n);
	e = NULL;

	ok(repo_list(r, id("m2"), "requests/", yaml, &e, &n, &err) == 0 &&
	    n == 7 && find(e, n, "requests/p") < 0 &&
	    find(e, n, "requests/x/y/z.yaml") == 6,
	    "list with a trailing slash, older commit");
	repo_entries_free(e, n);
	e = NULL;
	ok(repo_list(r, id("t2"), "requests", NULL, &e, &n, &err) == 0 &&
	    n == 10 && find(e, n, "requests/notes.txt") >= 0,
	    "no suffixes: every file");
	repo_entries_free(e, n);
	e = NULL;
	ok(repo_list(r, id("t2"), "policies", yaml, &e, &n, &err) == 0 &&
	    n == 0 && e == NULL, "missing directory lists nothing");
	ok(repo_list(r, id("t2"), "accord.yaml", yaml, &e, &n, &err) == -1,
	    "a file is not a directory");
	ok(repo_list(r, id("t2"), "", yaml, &e, &n, &err) == 0 &&
	    find(e, n, "team/a.yaml") >= 0 &&
	    find(e, n, "old/requests/team/a.yaml") >= 0 &&
	    find(e, n, "accord.yaml") == 0, "list the whole tree");
	repo_entries_free(e, n);
	e = NULL;

	want = xasprintf("%s", id("m1"));
	ok(repo_first_parent_contains(r, id("t2"), want),
	    "merge is on first parent");
	free(want);
	ok(repo_first_parent_contains(r, id("t2"), id("t2")),
	    "a commit contains itself");
	ok(repo_first_parent_contains(r, id("t2"), id("root")),
	    "root is on first parent");
	ok(!repo_first_parent_contains(r, id("t2"), id("f1b")),
	    "side-branch commit is not on first parent");
	ok(!repo_first_parent_contains(r, id("t2"), id("t3")),
	    "other branch is not");
	ok(!repo_first_parent_contains(r, id("t1"), id("t2")),
	    "a descendant is not");
	repo_free(r);

	path = xasprintf("%s/bare.git", tmp);
	r = NULL;
	ok(repo_open(&r, path, &err) == 0, "open a bare repository");
	free(path);
	ok(r && repo_read(r, id("t2"), "requests/b.yml", 1024, &data, &len,
	    blob, &err) == 0 && strcmp(data, "b v2\n") == 0,
	    "read from a bare repository");
	free(data);
	repo_free(r);
}

/* All approvals at `tip` for the request files there; out and files are
 * returned to the caller. */
static int
approvals(struct repo *r, const char *tip, const char *cached,
    const struct approval *const *known, struct repo_entry **files,
    size_t *n, struct approval **out, struct diag *err)
{
	if (repo_list(r, tip, "requests", yaml, files, n, err) == -1)
		return -1;
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	return repo_approvals(r, tip, *files, *n, cached, known, *out, err);
}

static void
approvals_free(struct repo_entry *files, struct approval *out, size_t n)
{
	size_t i;

	for (i = 0; i < n && out; i++)
		approval_release(&out[i]);
	free(out);
	repo_entries_free(files, n);
}

static const struct approval *
at(const struct repo_entry *f, const struct approval *a, size_t n,
    const char *path)
{
	static const struct approval none;
	ssize_t i = find(f, n, path);

	return i < 0 ? &none : &a[i];
}

static void
test_approvals(void)
{
	struct repo *r = NULL;
	struct repo_entry *f1 = NULL, *f2 = NULL, *f3 = NULL, *fw = NULL;
	struct approval *a1 = NULL, *a2 = NULL, *a3 = NULL, *aw = NULL;
	const struct approval **known = NULL;
	struct approval fake;
	char *fake_approvers[] = { (char *)"nobody@example.com" };
	struct diag err;
	size_t n1 = 0, n2 = 0, n3 = 0, nw = 0, i, same;
	char *path;
	ssize_t k;

	path = xasprintf("%s/repo", tmp);
	if (repo_open(&r, path, &err) == -1) {
		ok(0, "open: %s", err.msg);
		free(path);
		return;
	}
	free(path);

	ok(approvals(r, id("t1"), NULL, NULL, &f1, &n1, &a1, &err) == 0,
	    "approvals at t1");
	is_int(n1, 8, "eight request files at t1");
	is_approval(at(f1, a1, n1, "requests/root.yaml"), "root", "",
	    "untouched since the root commit");
	is_approval(at(f1, a1, n1, "requests/team/a.yaml"), "m1",
	    "bob@example.com", "nested file from a merge");
	is_approval(at(f1, a1, n1, "requests/c.yaml"), "squash",
	    "dave@example.com,erin@example.com", "squash with trailers");
	is_approval(at(f1, a1, n1, "requests/d.yaml"), "direct", "",
	    "direct push");
	is_approval(at(f1, a1, n1, "requests/x/y/z.yaml"), "m2",
	    "bob@example.com", "deeply nested file");
	is_approval(at(f1, a1, n1, "requests/p/q.yaml"), "pdir", "",
	    "file under a directory that replaced a file");
	is_approval(at(f1, a1, n1, "requests/b.yml"), "m3",
	    "frank@example.com,gina@example.com", "edit in a later merge");
	is_approval(at(f1, a1, n1, "requests/base.yaml"), "readd", "",
	    "deleted and re-added");
	is_int(id_time("m1") - 1700000000, 4 * 3600, "committer date as set");

	/* at t2: cold, then warm from the t1 answers */
	ok(approvals(r, id("t2"), NULL, NULL, &f2, &n2, &a2, &err) == 0,
	    "cold approvals at t2");
	is_approval(at(f2, a2, n2, "requests/d.yaml"), "e1", "", "edited d");
	is_approval(at(f2, a2, n2, "requests/c.yaml"), "crev", "",
	    "edited and reverted c");
	is_approval(at(f2, a2, n2, "requests/new.yaml"), "t2", "", "new file");

	known = xcalloc(n2, sizeof(*known));
	for (i = 0; i < n2; i++) {
		k = find(f1, n1, f2[i].path);
		if (k >= 0 && strcmp(f1[k].blob, f2[i].blob) == 0)
			known[i] = &a1[k];
	}
	ok(known[find(f2, n2, "requests/c.yaml")] != NULL,
	    "c has the same blob at t1 and t2 (cache entry offered)");
	ok(approvals(r, id("t2"), id("t1"), known, &fw, &nw, &aw, &err) == 0,
	    "warm approvals at t2");
	for (i = 0, same = 0; i < n2 && nw == n2; i++)
		same += same_approval(&a2[i], &aw[i]);
	is_int(same, n2, "warm equals cold at t2");
	approvals_free(fw, aw, nw);

	/* a known answer is taken at the cached tip without walking further */
	memset(&fake, 0, sizeof(fake));
	memset(fake.commit, 'f', 40);
	fake.approved_at = 42;
	fake.approvers = fake_approvers;
	fake.napprovers = 1;
	known[find(f2, n2, "requests/root.yaml")] = &fake;
	known[find(f2, n2, "requests/c.yaml")] = &fake;
	ok(approvals(r, id("t2"), id("t1"), known, &fw, &nw, &aw, &err) == 0,
	    "warm approvals with a planted answer");
	ok(same_approval(at(fw, aw, nw, "requests/root.yaml"), &fake),
	    "known answer copied at the cached tip");
	is_approval(at(fw, aw, nw, "requests/c.yaml"), "crev", "",
	    "file changed after the cached tip ignores its known answer");
	is_approval(at(fw, aw, nw, "requests/team/a.yaml"), "m1",
	    "bob@example.com", "file without a known answer keeps walking");
	approvals_free(fw, aw, nw);
	ok(approvals(r, id("t2"), id("t2"), known, &fw, &nw, &aw, &err) == 0 &&
	    same_approval(at(fw, aw, nw, "requests/root.yaml"), &fake) &&
	    same_approval(at(fw, aw, nw, "requests/c.yaml"), &fake),
	    "cached tip equal to the tip");
	approvals_free(fw, aw, nw);

	/* every answer planted; a cached tip off the first-parent chain
	 * must be ignored */
	for (i = 0; i < n2; i++)
		known[i] = &fake;
	ok(approvals(r, id("t2"), id("f1b"), known, &fw, &nw, &aw, &err) == 0,
	    "cached tip on a side branch");
	for (i = 0, same = 0; i < n2 && nw == n2; i++)
		same += same_approval(&a2[i], &aw[i]);
	is_int(same, n2, "side-branch cached tip ignored");
	approvals_free(fw, aw, nw);

	ok(approvals(r, id("t3"), NULL, NULL, &f3, &n3, &a3, &err) == 0,
	    "cold approvals on the rewritten history");
	free(known);
	known = xcalloc(n3, sizeof(*known));
	for (i = 0; i < n3; i++)
		known[i] = &fake;
	ok(approvals(r, id("t3"), id("t1"), known, &fw, &nw, &aw, &err) == 0,
	    "rewritten history with a stale cached tip");
	for (i = 0, same = 0; i < n3 && nw == n3; i++)
		same += same_approval(&a3[i], &aw[i]);
	is_int(same, n3, "stale cached tip ignored");
	is_approval(at(fw, aw, nw, "requests/base.yaml"), "t3", "",
	    "rewritten base");
	approvals_free(fw, aw, nw);
	free(known);

	/* bad input */
	{
		struct repo_entry bad = { (char *)"requests/c.yaml", "" };
		struct approval out;

		memset(bad.blob, '0', 40);
		ok(repo_approvals(r, id("t2"), &bad, 1, NULL, NULL, &out,
		    &err) == -1, "a blob that is not at the tip fails");
		ok(strstr(err.msg, "requests/c.yaml") != NULL,
		    "message names the file");
		bad.path = (char *)"requests/gone.yaml";
		ok(repo_approvals(r, id("t2"), &bad, 1, NULL, NULL, &out,
		    &err) == -1, "a file that is not at the tip fails");
		ok(repo_approvals(r, id("t2"), NULL, 0, NULL, NULL, NULL,
		    &err) == 0, "no files: nothing to do");
	}
	approval_release(NULL);

	approvals_free(f1, a1, n1);
	approvals_free(f2, a2, n2);
	approvals_free(f3, a3, n3);
	repo_free(r);
}

/* A small deterministic generator (xorshift). */
static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct gen {
	FILE *f;
	int nfiles, *ver, *appr, *state;	/* state: 0 unborn 1 present 2 deleted */
	int added, mark;
	long t;
};

static void
gen_path(char *out, size_t sz, int i)
{
	snprintf(out, sz, "requests/d%03d/r%05d.yaml", i % 97, i);
}

static void
gen_put(struct gen *g, int i)
{
	char path[64], body[128];
	int n;

	gen_path(path, sizeof(path), i);
	n = snprintf(body, sizeof(body), "kind: request\nfile: %d\nversion: %d\n",
	    i, g->ver[i]);
	fprintf(g->f, "M 100644 inline %s\ndata %d\n%s\n", path, n, body);
}

/* Changes of one commit: c[k] = file, op[k] = 'M' or 'D'. */
static int
gen_changes(struct gen *g, int remaining, int *c, char *op)
{
	int n = 0, want, k, i;

	want = (g->nfiles - g->added + remaining - 1) / remaining;
	for (k = 0; k < want && g->added < g->nfiles; k++) {
		c[n] = g->added++;
		g->ver[c[n]] = 1;
		op[n++] = 'M';
	}
	for (k = 0; k < 2 && g->added > 0; k++) {
		i = (int)rnd((unsigned)g->added);
		if (g->state[i] == 2) {		/* re-add, same content */
			c[n] = i;
			op[n++] = 'M';
		} else if (rnd(10) == 0) {
			c[n] = i;
			op[n++] = 'D';
		} else if (rnd(2) == 0) {
			g->ver[i]++;
			c[n] = i;
			op[n++] = 'M';
		}
		if (n >= 2 && c[n - 1] == c[n - 2])
			n--;	/* one change per file per commit */
	}
	return n;
}

static void
gen_commit(struct gen *g, const char *branch, int from, int merge,
    const int *c, const char *op, int n, int noise)
{
	char path[64];
	int k;

	g->mark++;
	g->t += 60;
	fprintf(g->f, "commit refs/heads/%s\nmark :%d\n", branch, g->mark);
	fprintf(g->f, "author A <a@example.com> %ld +0000\n", g->t);
	fprintf(g->f, "committer A <a@example.com> %ld +0000\n", g->t);
	fprintf(g->f, "data 7\ncommit\n");
	if (from)
		fprintf(g->f, "from :%d\n", from);
	if (merge)
		fprintf(g->f, "merge :%d\n", merge);
	for (k = 0; k < n; k++) {
		if (op[k] == 'D') {
			gen_path(path, sizeof(path), c[k]);
			fprintf(g->f, "D %s\n", path);
		} else
			gen_put(g, c[k]);
	}
	if (noise)
		fprintf(g->f, "M 100644 inline other/n%d.txt\ndata 2\n%d\n\n",
		    g->mark % 50, g->mark % 10);
	fprintf(g->f, "\n");
}

static void
test_perf(int nfiles, int ncommits)
{
	struct gen g;
	struct repo *r = NULL;
	struct repo_entry *files = NULL;
	struct approval *out = NULL;
	struct diag err;
	struct timespec t0, t1;
	char *path, line[128], (*sha)[41] = NULL;
	int *c, main_mark = 0, k, i, side, good = 0, npresent = 0;
	char *op;
	size_t n = 0, j;
	FILE *m;

	memset(&g, 0, sizeof(g));
	g.nfiles = nfiles;
	g.ver = xcalloc((size_t)nfiles, sizeof(int));
	g.appr = xcalloc((size_t)nfiles, sizeof(int));
	g.state = xcalloc((size_t)nfiles, sizeof(int));
	c = xcalloc((size_t)nfiles + 8, sizeof(int));
	op = xcalloc((size_t)nfiles + 8, 1);
	g.t = 1600000000;
	path = xasprintf("%s/perf.fi", tmp);
	g.f = fopen(path, "w");
	free(path);
	if (g.f == NULL) {
		ok(0, "create the fast-import stream");
		goto out;
	}
	for (i = 0; i < ncommits; i++) {
		int nc = gen_changes(&g, ncommits - i, c, op);
		side = 0;
		if (i > 0 && rnd(2)) {	/* through a merge of a side branch */
			gen_commit(&g, "side", main_mark, 0, c, op, nc, 0);
			side = g.mark;
		}
		gen_commit(&g, "main", main_mark, side, c, op, nc, rnd(3) == 0);
		main_mark = g.mark;
		for (k = 0; k < nc; k++) {
			g.state[c[k]] = op[k] == 'D' ? 2 : 1;
			g.appr[c[k]] = main_mark;
		}
	}
	fclose(g.f);
	if (sh("cd %s && git init -q --bare perf.git && "
	    "git -C perf.git fast-import --quiet --export-marks=../perf.marks "
	    "< perf.fi", tmp) != 0) {
		ok(0, "git fast-import");
		goto out;
	}
	sha = xcalloc((size_t)g.mark + 1, sizeof(*sha));
	path = xasprintf("%s/perf.marks", tmp);
	m = fopen(path, "r");
	free(path);
	while (m && fgets(line, sizeof(line), m)) {
		long mk = strtol(line + 1, NULL, 10);
		if (mk > 0 && mk <= g.mark)
			snprintf(sha[mk], 41, "%.40s", strchr(line, ' ') + 1);
	}
	if (m)
		fclose(m);

	path = xasprintf("%s/perf.git", tmp);
	k = repo_open(&r, path, &err);
	free(path);
	if (k == -1 || repo_list(r, sha[main_mark], "requests", yaml, &files,
	    &n, &err) == -1) {
		ok(0, "open and list the generated repository: %s", err.msg);
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		npresent += g.state[i] == 1;
	is_int(n, npresent, "generated repository: files present");
	out = xcalloc(n ? n : 1, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	k = repo_approvals(r, sha[main_mark], files, n, NULL, NULL, out, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(k == 0, "approvals on the generated repository");
	printf("# repo_approvals: %zu files, %d first-parent commits "
	    "(%d in all): %.1f ms\n", n, ncommits, g.mark,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	for (j = 0; j < n && k == 0; j++) {
		i = (int)strtol(strrchr(files[j].path, 'r') + 1, NULL, 10);
		good += strcmp(out[j].commit, sha[g.appr[i]]) == 0;
	}
	is_int(good, n, "every approval commit matches the generator's model");
out:
	for (j = 0; j < n && out; j++)
		approval_release(&out[j]);
	free(out);
	repo_entries_free(files, n);
	repo_free(r);
	free(sha);
	free(c);
	free(op);
	free(g.ver);
	free(g.appr);
	free(g.state);
}

int
main(void)
{
	const char *bench = getenv("ACCORD_REPO_BENCH");
	char *path;
	int nfiles = 2000, ncommits = 1000;
	FILE *f;

	tmp = tap_tmpdir();
	path = xasprintf("%s/build.sh", tmp);
	f = fopen(path, "w");
	if (f == NULL || fputs(script, f) == EOF || fclose(f) != 0) {
		ok(0, "write the build script");
		return tap_done();
	}
	if (sh("sh %s %s > %s/build.log 2>&1", path, tmp, tmp) != 0) {
		ok(0, "build the test repository (see %s/build.log)", tmp);
		free(path);
		return tap_done();
	}
	free(path);
	test_open_resolve();
	test_read_list();
	test_approvals();
	/* ACCORD_REPO_BENCH="10000 5000" measures a larger history */
	if (bench && sscanf(bench, "%d %d", &nfiles, &ncommits) != 2)
		nfiles = 2000, ncommits = 1000;
	test_perf(nfiles, ncommits);
	return tap_done();
}
