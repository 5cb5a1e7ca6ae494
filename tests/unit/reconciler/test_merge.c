/*
 * Unit tests for merge.c against real repositories made with the git CLI
 * (fixed names and dates) and a bare remote: a merge by reaction gives a
 * commit with the right parents, tree, author, committer, date and
 * Approved-by trailers that DESIGN §3 then reads as approvers; a
 * conflict, a branch that moved, and every kind of failed push leave the
 * branch (and the remote) where they were.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "policy.h"
#include "repo.h"
#include "util.h"
#include "../../lib/tap.h"

static const char *tmp;

#define NOW 1767225600		/* 2026-01-01T00:00:00Z */

static const char script[] =
"set -e\n"
"cd \"$1\"\n"
"export HOME=\"$PWD\" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null\n"
"export LC_ALL=C TZ=UTC GIT_MERGE_AUTOEDIT=no GIT_EDITOR=true\n"
"t=1700000000\n"
"tick() { t=$((t + 3600)); export GIT_AUTHOR_DATE=\"@$t +0000\""
" GIT_COMMITTER_DATE=\"@$t +0000\"; }\n"
"as() { export GIT_AUTHOR_NAME=\"$1\" GIT_AUTHOR_EMAIL=\"$2\""
" GIT_COMMITTER_NAME=\"$1\" GIT_COMMITTER_EMAIL=\"$2\"; }\n"
"put() { mkdir -p \"$(dirname \"$1\")\"; printf '%s\\n' \"$2\" > \"$1\"; git add \"$1\"; }\n"
"commit() { tick; git commit -q -m \"$1\"; }\n"
"git init -q --bare -b main remote.git\n"
"git init -q -b main repo\n"
"cd repo\n"
"git remote add origin \"$PWD/../remote.git\"\n"
"as Alice alice@example.com\n"
"put accord.yaml 'branch: main'\n"
"put requests/base.yaml 'base v1'\n"
"put shared.txt 'shared v1'\n"
"commit initial\n"
/* a request branch, and a branch that conflicts with main */
"git checkout -q -b req\n"
"as Rita rita@example.com\n"
"put requests/rita.yaml 'rita v1'\n"
"commit 'request access'\n"
"git checkout -q -b clash main\n"
"put shared.txt 'shared from clash'\n"
"commit 'clash'\n"
"git checkout -q -b req2 main\n"
"put requests/sam.yaml 'sam v1'\n"
"commit 'another request'\n"
/* main moves on after the branches forked: a true three-way merge */
"git checkout -q main\n"
"as Alice alice@example.com\n"
"put shared.txt 'shared v2'\n"
"put docs.md 'docs'\n"
"commit 'main moves on'\n"
"git push -q origin main req req2 clash\n"
"git rev-parse main > ../main.0\n";

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

/* The standard output of a shell command, trailing newlines cut. */
static char *
out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
out(const char *fmt, ...)
{
	va_list ap;
	char *cmd, buf[8192];
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	p = popen(cmd, "r");
	free(cmd);
	if (p == NULL)
		return xstrdup("");
	n = fread(buf, 1, sizeof(buf) - 1, p);
	pclose(p);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Rev-parse in the work repository (or the remote when remote is set). */
static char *
rev(int remote, const char *what)
{
	return out("git -C %s/%s rev-parse --verify -q '%s' 2>/dev/null", tmp,
	    remote ? "remote.git" : "repo", what);
}

static void
fill(struct merge_req *m, const char *tip, const char *theirs,
    const char *msg, const char *remote)
{
	memset(m, 0, sizeof(*m));
	m->branch = "refs/heads/main";
	m->tip = tip;
	m->theirs = theirs;
	m->message = msg;
	m->author.name = "Ann Approver";
	m->author.email = "ann@example.com";
	m->committer.name = "accord";
	m->committer.email = "accord@example.com";
	m->when = NOW;
	m->remote = remote;
}

static void
test_message(void)
{
	char *names[] = { "Ann Approver", NULL, "Evil\nApproved-by: X <x@y>" };
	char *emails[] = { "ann@example.com", "bob.b@example.com",
	    "eve@example.com" };
	char *m;

	m = merge_message("requests/rita.yaml", names, emails, 3);
	is_str(m, "Merge request requests/rita.yaml (approved by reaction)\n"
	    "\n"
	    "Approved-by: Ann Approver <ann@example.com>\n"
	    "Approved-by: bob.b <bob.b@example.com>\n"
	    "Approved-by: Evil Approved-by: X  x@y  <eve@example.com>\n",
	    "message: one trailer per approver in order; local part when no "
	    "name; a name cannot add a line");
	free(m);
	m = merge_message("requests/a.yaml", NULL, emails, 1);
	is_str(m, "Merge request requests/a.yaml (approved by reaction)\n\n"
	    "Approved-by: ann <ann@example.com>\n", "message: no names at all");
	free(m);
}

static void
test_merge_and_push(struct repo *r)
{
	struct merge_req m;
	struct diag err;
	struct approval a;
	struct repo_entry files[1];
	char id[41], *tip = rev(0, "main"), *req = rev(0, "req"), *s, *msg;
	char *names[] = { "Ann Approver", NULL };
	char *emails[] = { "ann@example.com", "bob@example.com" };
	int rc;

	msg = merge_message("requests/rita.yaml", names, emails, 2);
	fill(&m, tip, req, msg, "origin");
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_DONE, "merge: done");
	if (rc != MERGE_DONE)
		diag_print(&err, stderr);
	s = rev(0, "main");
	is_str(s, id, "merge: refs/heads/main is the new commit");
	free(s);
	s = rev(0, "main^1");
	is_str(s, tip, "merge: first parent is the old tip");
	free(s);
	s = rev(0, "main^2");
	is_str(s, req, "merge: second parent is the request commit");
	free(s);
	s = out("git -C %s/repo show -s --format='%%an <%%ae> %%at %%ad|"
	    "%%cn <%%ce> %%ct' --date=iso-strict main", tmp);
	is_str(s, "Ann Approver <ann@example.com> 1767225600 "
	    "2026-01-01T00:00:00+00:00|accord <accord@example.com> 1767225600",
	    "merge: author, committer and date (UTC)");
	free(s);
	s = out("git -C %s/repo show -s --format=%%B main", tmp);
	is_str(s, "Merge request requests/rita.yaml (approved by reaction)\n\n"
	    "Approved-by: Ann Approver <ann@example.com>\n"
	    "Approved-by: bob <bob@example.com>", "merge: message and trailers");
	free(s);
	s = out("git -C %s/repo show main:requests/rita.yaml main:shared.txt "
	    "main:docs.md main:requests/base.yaml", tmp);
	is_str(s, "rita v1\nshared v2\ndocs\nbase v1",
	    "merge: tree holds both sides");
	free(s);
	s = out("git -C %s/repo ls-tree -r --name-only main | tr '\\n' ' '",
	    tmp);
	is_str(s, "accord.yaml docs.md requests/base.yaml requests/rita.yaml "
	    "shared.txt ", "merge: tree has nothing else");
	free(s);
	s = out("git -C %s/repo fsck --no-dangling 2>&1; echo rc=$?", tmp);
	is_str(s, "rc=0", "merge: repository passes fsck");
	free(s);
	s = rev(1, "main");
	is_str(s, id, "push: the bare remote's main is the merge");
	free(s);
	s = out("git -C %s/repo log --first-parent --format=%%s main | head -1",
	    tmp);
	is_str(s, "Merge request requests/rita.yaml (approved by reaction)",
	    "push: first-parent history starts with the merge");
	free(s);

	/* DESIGN §3 reads the reactors back as approvers. */
	files[0].path = "requests/rita.yaml";
	s = rev(0, "main:requests/rita.yaml");
	snprintf(files[0].blob, sizeof(files[0].blob), "%s", s);
	free(s);
	memset(&a, 0, sizeof(a));
	ok(repo_approvals(r, id, files, 1, NULL, NULL, &a, &err) == 0,
	    "approvals at the merge");
	is_str(a.commit, id, "approvals: approved by the merge commit");
	is_int(a.approved_at, NOW, "approvals: approved_at is the run time");
	is_int(a.napprovers, 2, "approvals: two approvers");
	if (a.napprovers == 2) {
		is_str(a.approvers[0], "ann@example.com", "approvals: ann");
		is_str(a.approvers[1], "bob@example.com", "approvals: bob");
	}
	approval_release(&a);
	free(msg);
	free(tip);
	free(req);
}

static void
test_conflict(struct repo *r)
{
	struct merge_req m;
	struct diag err;
	char id[41], *tip = rev(0, "main"), *clash = rev(0, "clash"), *s;
	char *rtip = rev(1, "main");
	int rc;

	fill(&m, tip, clash, "Merge request x (approved by reaction)\n",
	    "origin");
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_CONFLICT, "conflict: not merged");
	ok(strstr(err.msg, "conflict") != NULL, "conflict: reported (%s)",
	    err.msg);
	is_str(id, "", "conflict: no commit id");
	s = rev(0, "main");
	is_str(s, tip, "conflict: branch unchanged");
	free(s);
	s = rev(1, "main");
	is_str(s, rtip, "conflict: remote unchanged");
	free(s);
	free(rtip);
	free(tip);
	free(clash);
}

static void
test_moved(struct repo *r)
{
	struct merge_req m;
	struct diag err;
	char id[41], *tip = rev(0, "main"), *old = rev(0, "main^1");
	char *req2 = rev(0, "req2"), *s;
	int rc;

	/* The caller read main at its parent: someone pushed since. */
	fill(&m, old, req2, "Merge request requests/sam.yaml\n", "origin");
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_MOVED, "moved: not merged");
	ok(strstr(err.msg, "moved") != NULL, "moved: reported (%s)", err.msg);
	s = rev(0, "main");
	is_str(s, tip, "moved: branch unchanged");
	free(s);
	/* Bad ids are errors, not merges. */
	fill(&m, "nothex", req2, "x\n", NULL);
	is_int(merge_run(r, &m, id, &err), -1, "bad tip id: error");
	fill(&m, tip, "0123456789012345678901234567890123456789", "x\n", NULL);
	is_int(merge_run(r, &m, id, &err), -1, "unknown commit: error");
	s = rev(0, "main");
	is_str(s, tip, "errors: branch unchanged");
	free(s);
	free(req2);
	free(tip);
	free(old);
}

static void
test_push_failures(struct repo *r)
{
	struct merge_req m;
	struct diag err;
	char id[41], *tip = rev(0, "main"), *req2 = rev(0, "req2");
	char *rtip, *s, *bad;
	int rc;

	/* Someone else pushed to the remote: not a fast forward. */
	ok(sh("cd %s && git clone -q remote.git other && cd other && "
	    "git -c user.name=O -c user.email=o@example.com commit -q "
	    "--allow-empty -m elsewhere && git push -q origin main", tmp) == 0,
	    "another clone pushes to the remote");
	rtip = rev(1, "main");
	fill(&m, tip, req2, "Merge request requests/sam.yaml\n", "origin");
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_PUSH_FAILED, "non-fast-forward push: push failed");
	ok(strstr(err.msg, "undone") != NULL && strstr(err.msg, "push") != NULL,
	    "non-fast-forward push: reported (%s)", err.msg);
	s = rev(0, "main");
	is_str(s, tip, "non-fast-forward push: branch rolled back");
	free(s);
	s = rev(1, "main");
	is_str(s, rtip, "non-fast-forward push: remote unchanged");
	free(s);

	/* A remote that does not exist. */
	bad = xasprintf("%s/nowhere.git", tmp);
	fill(&m, tip, req2, "Merge request requests/sam.yaml\n", bad);
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_PUSH_FAILED, "missing remote path: push failed");
	s = rev(0, "main");
	is_str(s, tip, "missing remote path: branch rolled back");
	free(s);
	free(bad);
	fill(&m, tip, req2, "Merge request requests/sam.yaml\n", "upstream");
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_PUSH_FAILED, "unknown remote name: push failed");
	ok(strstr(err.msg, "upstream") != NULL, "unknown remote name: "
	    "reported (%s)", err.msg);
	s = rev(0, "main");
	is_str(s, tip, "unknown remote name: branch rolled back");
	free(s);

	/* A remote given as a path, and no push at all. */
	ok(sh("git init -q --bare %s/mirror.git", tmp) == 0, "a second bare "
	    "remote");
	bad = xasprintf("%s/mirror.git", tmp);
	fill(&m, tip, req2, "Merge request requests/sam.yaml\n", bad);
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_DONE, "remote as a path: merged");
	s = rev(0, "main");
	is_str(s, id, "remote as a path: branch moved");
	free(s);
	s = out("git -C %s rev-parse main", bad);
	is_str(s, id, "remote as a path: pushed");
	free(s);
	free(bad);
	free(tip);
	tip = rev(0, "main");
	/* Merge the other clone's commit without pushing anywhere. */
	ok(sh("git -C %s/repo fetch -q origin main:refs/remotes/origin/main",
	    tmp) == 0, "fetch the remote's main");
	fill(&m, tip, rtip, "x\n", NULL);
	rc = merge_run(r, &m, id, &err);
	is_int(rc, MERGE_DONE, "no remote: merged locally");
	s = rev(0, "main");
	is_str(s, id, "no remote: branch moved");
	free(s);
	s = rev(1, "main");
	is_str(s, rtip, "no remote: remote untouched");
	free(s);
	free(rtip);
	free(req2);
	free(tip);
}

int
main(void)
{
	struct repo *r = NULL;
	struct diag err;
	char *path;
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
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	test_message();
	path = xasprintf("%s/repo", tmp);
	if (repo_open(&r, path, &err) == -1) {
		ok(0, "open: %s", err.msg);
		free(path);
		return tap_done();
	}
	free(path);
	test_merge_and_push(r);
	test_conflict(r);
	test_moved(r);
	test_push_failures(r);
	repo_free(r);
	return tap_done();
}
