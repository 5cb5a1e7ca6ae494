#!/usr/bin/env python3
"""Generate a synthetic access repository for accord's benchmark.

The repository is written as one `git fast-import` stream, so its size
costs no git process per commit: an admin's first commit (accord.yaml, one
policy), then pull requests, each a feature commit by its requester merged
into main with a merge commit authored by a data owner (the approval, DESIGN
§3).  Request files of 300-600 bytes spread over ~300 folders, written by
~1000 people, ask for SELECT on table:sales.tNNNN and membership of
role:analyst_rNNN.  One pull request in ten also edits an earlier request,
so "where did this blob first appear" is not always the commit that added
the file.  Everything is drawn from a seeded generator: the same arguments
give the same repository.

    genrepo.py [options] DIR            create DIR (must not exist)
    genrepo.py --change K DIR           append one merge that changes K files

Prints `now=RFC3339` on stdout, a time a little after the last merge, for
`accord --now`.  Standard library only.
"""

import argparse
import datetime
import os
import random
import subprocess
import sys
import time

START = 1735689600  # 2025-01-01T00:00:00Z
PR_GAP = 3600  # one pull request an hour
NOW_AFTER_TIP = 7 * 86400
OWNERS = ["owner%02d@example.com" % i for i in range(1, 6)]
DURATIONS = ["30d", "60d", "90d", "180d", "365d"]
TOPICS = [
    "quarterly revenue analysis by region and product line",
    "churn model features for the retention squad",
    "reconciliation of refunds against the payment processor export",
    "pipeline forecast for the sales leadership offsite",
    "data quality investigation of duplicate customer records",
    "ad-hoc pricing experiment readout for the growth team",
    "support escalation: verifying an enterprise customer's invoices",
    "building the weekly executive dashboard extracts",
]


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def person(i):
    return "user%04d" % i


class Stream:
    """A fast-import stream written straight into git's stdin."""

    def __init__(self, repo):
        # fast-import allocates and frees large buffers per commit; with
        # glibc's default trim threshold that is ~90k brk calls and 6x the
        # run time.  Keeping the heap top padded avoids the churn.
        env = dict(os.environ, MALLOC_TOP_PAD_="268435456",
                   MALLOC_TRIM_THRESHOLD_="268435456",
                   MALLOC_MMAP_THRESHOLD_="268435456")
        self.proc = subprocess.Popen(
            ["git", "-C", repo, "fast-import", "--quiet", "--done"],
            stdin=subprocess.PIPE, env=env)
        self.out = self.proc.stdin
        self.mark = 0
        self.commits = 0
        self.merges = 0

    def _data(self, payload):
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def blob(self, text):
        self.mark += 1
        self.out.write(b"blob\nmark :%d\n" % self.mark)
        self._data(text.encode())
        return self.mark

    def commit(self, ref, who, when, message, parent, changes, merge=None):
        """changes: list of (path, blob mark) to write or (path, None) to
        delete; parent and merge are ":N" marks or full commit ids."""
        self.mark += 1
        ident = ("%s <%s> %d +0000" % (who.split("@")[0], who, when)).encode()
        self.out.write(b"commit %s\nmark :%d\n" % (ref.encode(), self.mark))
        self.out.write(b"author " + ident + b"\ncommitter " + ident + b"\n")
        self._data(message.encode())
        if parent:
            self.out.write(b"from %s\n" % parent.encode())
        if merge:
            self.out.write(b"merge %s\n" % merge.encode())
            self.merges += 1
        for path, m in changes:
            if m is None:
                self.out.write(b"D %s\n" % path.encode())
            else:
                self.out.write(b"M 100644 :%d %s\n" % (m, path.encode()))
        self.out.write(b"\n")
        self.commits += 1
        return ":%d" % self.mark

    def finish(self):
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            sys.exit("genrepo: git fast-import failed")


def config_yaml(args):
    lines = [
        "version: 1",
        "branch: main",
        "groups:",
        "  data-owners: [%s]" % ", ".join(OWNERS),
        "platforms:",
        "  warehouse:",
        "    type: postgres",
        "    dsn_env: WAREHOUSE_DSN",
        '    managed: ["table:sales.*", "role:analyst_*"]',
        "    protected_accounts: [postgres]",
        "    drift: enforce",
        "    accounts:",
        "      match: %s" % args.match,
    ]
    if args.match == "map":
        lines.append("      map:")
        for i in range(1, args.people + 1):
            lines.append("        %s@example.com: %s" % (person(i), person(i)))
    lines += ["safety:", "  max_revoke: 50", ""]
    return "\n".join(lines)


POLICY = """# Everything under the managed globs, approved by one data owner.
rules:
  - platform: warehouse
    targets: ["table:sales.*", "role:analyst_*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
"""


def request_yaml(rng, args, who, serial, edit=0):
    topic = rng.choice(TOPICS)
    lines = [
        "requester: %s@example.com" % who,
        "reason: >-",
        "  Request %d%s: %s, needed for the next reporting cycle and"
        % (serial, " (revised %d)" % edit if edit else "", topic),
        "  reviewed with the team lead before opening this pull request.",
        "  Ticket DATA-%05d." % rng.randint(1, 99999),
    ]
    if rng.random() < 0.2:
        lines.append("duration: %s" % rng.choice(DURATIONS))
    lines.append("grants:")
    # Distinct targets: accord rejects a request that repeats a grant.
    targets = set()
    n = rng.choice((1, 1, 2, 2, 3))
    while len(targets) < n:
        if rng.random() < 0.7:
            targets.add(("table:sales.t%04d" % rng.randint(1, args.tables), "SELECT"))
        else:
            targets.add(("role:analyst_r%03d" % rng.randint(1, args.roles), "member"))
    for target, privilege in sorted(targets):
        lines += [
            "  - platform: warehouse",
            "    target: %s" % target,
            "    privilege: %s" % privilege,
        ]
    return "\n".join(lines) + "\n"


def path_for(args, who_i, serial):
    return "requests/team-%03d/%s-%05d.yaml" % (
        who_i % args.folders, person(who_i), serial)


def generate(args):
    if os.path.exists(args.dir):
        sys.exit("genrepo: %s already exists" % args.dir)
    subprocess.run(["git", "init", "-q", "-b", "main", args.dir], check=True)
    rng = random.Random(args.seed)
    s = Stream(args.dir)
    t = START
    cfg = s.blob(config_yaml(args))
    pol = s.blob(POLICY)
    tip = s.commit("refs/heads/main", "admin@example.com", t,
                   "Access repository: warehouse platform and policy\n", None,
                   [("accord.yaml", cfg), ("policies/warehouse.yaml", pol)])

    nprs = max(1, min(args.files, (args.commits - 1) // 2))
    cuts = sorted(rng.sample(range(1, args.files), nprs - 1)) if nprs > 1 else []
    bounds = [0] + cuts + [args.files]
    existing = []  # (path, requester index)
    serial = 0
    for pr in range(nprs):
        t += PR_GAP
        count = bounds[pr + 1] - bounds[pr]
        who_i = rng.randint(1, args.people)
        changes = []
        for _ in range(count):
            serial += 1
            p = path_for(args, who_i, serial)
            changes.append((p, s.blob(request_yaml(rng, args, person(who_i), serial))))
            existing.append((p, who_i))
        if pr % 10 == 9 and len(existing) > count:
            p, owner_i = existing[rng.randrange(len(existing) - count)]
            changes.append((p, s.blob(request_yaml(rng, args, person(owner_i),
                                                   serial, edit=pr))))
        feature = s.commit("refs/heads/pr", "%s@example.com" % person(who_i),
                           t - 1800, "Request access for %s (%d files)\n"
                           % (person(who_i), count), tip, changes)
        tip = s.commit("refs/heads/main", rng.choice(OWNERS), t,
                       "Merge pull request #%d from %s/request-%d\n"
                       % (pr + 1, person(who_i), pr + 1), tip, changes,
                       merge=feature)
    s.finish()
    subprocess.run(["git", "-C", args.dir, "update-ref", "-d", "refs/heads/pr"],
                   check=True)
    return s, t


def change(args):
    """One pull request that edits, adds and deletes K request files in
    total (60/20/20), merged on top of main."""
    def git(*a):
        return subprocess.run(["git", "-C", args.dir] + list(a), check=True,
                              capture_output=True, text=True).stdout
    head = git("rev-parse", "refs/heads/main").strip()
    t = int(git("log", "-1", "--format=%ct", head).strip()) + PR_GAP
    paths = [p for p in git("ls-tree", "-r", "--name-only", head,
                            "requests").split("\n") if p]
    rng = random.Random(args.seed + 1 + len(paths))
    k = args.change
    nedit = max(1, k * 6 // 10)
    ndel = min(k - nedit, k * 2 // 10)
    nadd = k - nedit - ndel
    picked = rng.sample(paths, nedit + ndel)
    s = Stream(args.dir)
    changes = []
    serial = 900000 + len(paths)
    for p in picked[:nedit]:
        who = os.path.basename(p).split("-")[0]
        serial += 1
        changes.append((p, s.blob(request_yaml(rng, args, who, serial, edit=1))))
    for p in picked[nedit:]:
        changes.append((p, None))
    who_i = rng.randint(1, args.people)
    for _ in range(nadd):
        serial += 1
        changes.append((path_for(args, who_i, serial),
                        s.blob(request_yaml(rng, args, person(who_i), serial))))
    feature = s.commit("refs/heads/pr", "%s@example.com" % person(who_i),
                       t - 1800, "Update %d requests\n" % k, head, changes)
    s.commit("refs/heads/main", OWNERS[0], t,
             "Merge pull request: update %d requests\n" % k, head, changes,
             merge=feature)
    s.finish()
    git("update-ref", "-d", "refs/heads/pr")
    print("changed: %d edited, %d added, %d deleted" % (nedit, nadd, ndel),
          file=sys.stderr)
    return s, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--folders", type=int, default=300)
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--tables", type=int, default=200)
    ap.add_argument("--roles", type=int, default=50)
    ap.add_argument("--match", choices=("email-local", "map"),
                    default="email-local")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--change", type=int, default=0, metavar="K",
                    help="append one merge changing K files of DIR")
    args = ap.parse_args()
    if args.files < 1 or args.commits < 3 or args.folders < 1 or args.people < 1:
        ap.error("--files, --folders and --people must be >= 1, --commits >= 3")
    t0 = time.monotonic()
    s, last = change(args) if args.change else generate(args)
    print("genrepo: %s: %d commits (%d merges), %d blobs in %.2fs"
          % (args.dir, s.commits, s.merges, s.mark - s.commits,
             time.monotonic() - t0), file=sys.stderr)
    if not args.change:
        print("now=%s" % rfc3339(last + NOW_AFTER_TIP))


if __name__ == "__main__":
    main()
