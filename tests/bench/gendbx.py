#!/usr/bin/env python3
"""Seeds and an access repository for the Databricks and SCIM stages of
accord's benchmark (tests/bench/bench.sh).

    gendbx.py seed OUT.json [--users U] [--groups G] [--members M]
                            [--tables T] [--grants-per-table K]
                            [--apply-groups AG] [--apply-tables AT]
        A tests/emulators/databricks.py seed: U users userNNNNN@example.com,
        G groups analysts_NNN holding M memberships in all (spread evenly,
        each user in M/U groups), T tables main.bench.t_NNNN with K SELECT
        grants each (to users), and for the apply stage AG empty groups
        loaders_NN and AT tables main.apply.t_NNNN without grants.

    gendbx.py scimseed OUT.json [--users U] [--groups G] [--members M]
        A tests/emulators/scimmy seed: U users, G groups analysts_NNN, M
        memberships (userName strings).

    gendbx.py applyrepo DIR --url URL [--members M] [--apply-groups AG]
                            [--selects S] [--concurrency C]
        An access repository (git CLI, fixed authors and dates) whose tip
        asks for M memberships spread over the AG groups loaders_NN and S
        SELECTs on main.apply.t_NNNN: one request file per user (M files;
        the first S also ask for a table), added on a branch and merged
        into main with one --no-ff merge authored by a data owner (the
        approval).  Prints `now=RFC3339` for `accord --now`.

Everything is deterministic.  Standard library only.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

T0 = 1767225600  # 2026-01-01T00:00:00Z
OWNER = ("Olivia Owner", "owner@example.com")
ADMIN = ("Bench Admin", "admin@example.com")


def user(i):
    return "user%05d@example.com" % i


def spread(users, groups, members):
    """members memberships over groups, each user in about members/users
    groups: group g gets the users g*step, g*step+1, ... (mod users)."""
    per = members // groups
    extra = members - per * groups
    out = []
    start = 0
    for g in range(groups):
        n = per + (1 if g < extra else 0)
        out.append([user(1 + (start + k) % users) for k in range(min(n, users))])
        start += n
    return out


def seed(a):
    users = [{"userName": user(i), "displayName": "User %d" % i}
             for i in range(1, a.users + 1)]
    groups = [{"displayName": "analysts_%03d" % (g + 1), "members": m}
              for g, m in enumerate(spread(a.users, a.groups, a.members))]
    groups += [{"displayName": "loaders_%02d" % (g + 1), "members": []}
               for g in range(a.apply_groups)]
    securables, grants = [], []
    for t in range(1, a.tables + 1):
        name = "main.bench.t_%04d" % t
        securables.append({"type": "table", "full_name": name})
        for k in range(a.grants_per_table):
            grants.append({"securable_type": "table", "full_name": name,
                           "principal": user(1 + (t * 7 + k * 3331) % a.users),
                           "privileges": ["SELECT"]})
    for t in range(1, a.apply_tables + 1):
        securables.append({"type": "table", "full_name": "main.apply.t_%04d" % t})
    return {"users": users, "service_principals": [], "groups": groups,
            "securables": securables, "grants": grants}


def scimseed(a):
    users = [{"userName": user(i), "displayName": "User %d" % i,
              "emails": [{"value": user(i), "type": "work", "primary": True}]}
             for i in range(1, a.users + 1)]
    groups = [{"displayName": "analysts_%03d" % (g + 1), "members": m}
              for g, m in enumerate(spread(a.users, a.groups, a.members))]
    return {"users": users, "groups": groups}


def git(repo, who, when, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME=who[0], GIT_AUTHOR_EMAIL=who[1],
               GIT_COMMITTER_NAME=who[0], GIT_COMMITTER_EMAIL=who[1],
               GIT_AUTHOR_DATE="%d +0000" % when, GIT_COMMITTER_DATE="%d +0000" % when,
               GIT_CONFIG_NOSYSTEM="1", HOME=repo)
    subprocess.run(["git", "-C", repo] + list(args), env=env, check=True,
                   stdout=subprocess.DEVNULL)


def write(repo, rel, text):
    p = os.path.join(repo, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)


def applyrepo(a):
    repo = a.dir
    os.makedirs(repo)
    git(repo, ADMIN, T0, "init", "-q", "-b", "main")
    write(repo, "accord.yaml", """version: 1
branch: main
groups:
  data-owners: [%s]
platforms:
  lake:
    type: databricks
    url: %s
    token_env: DATABRICKS_TOKEN
    page_size: 100
    managed: ["group:loaders_*", "table:main.apply.*"]
    drift: enforce
    accounts: {match: email}
    timeout: 120s
    concurrency: %d
safety:
  max_revoke: 50
""" % (OWNER[1], a.url, a.concurrency))
    write(repo, "policies/lake.yaml", """rules:
  - platform: lake
    targets: ["group:loaders_*", "table:main.apply.*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d
""")
    git(repo, ADMIN, T0, "add", "-A")
    git(repo, ADMIN, T0, "commit", "-q", "-m", "Access repository")
    git(repo, ADMIN, T0, "checkout", "-q", "-b", "bulk")
    for i in range(1, a.members + 1):
        lines = ["requester: %s" % user(i), "reason: benchmark bulk onboarding",
                 "duration: 30d", "grants:", "  - platform: lake",
                 "    target: group:loaders_%02d" % (1 + (i - 1) % a.apply_groups)]
        if i <= a.selects:
            lines += ["  - platform: lake", "    target: table:main.apply.t_%04d" % i,
                      "    privilege: SELECT"]
        write(repo, "requests/%03d/%s.yaml" % ((i - 1) // 100, user(i).split("@")[0]),
              "\n".join(lines) + "\n")
    t1 = T0 + 3600
    git(repo, ("Bench Requester", "requester@example.com"), t1, "add", "-A")
    git(repo, ("Bench Requester", "requester@example.com"), t1, "commit", "-q",
        "-m", "Bulk access requests")
    t2 = T0 + 7200
    git(repo, OWNER, t2, "checkout", "-q", "main")
    git(repo, OWNER, t2, "merge", "-q", "--no-ff", "-m",
        "Merge pull request #1 from bulk", "bulk")
    print("now=" + datetime.datetime.fromtimestamp(
        t2 + 86400, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("out")
    s.add_argument("--users", type=int, default=10000)
    s.add_argument("--groups", type=int, default=200)
    s.add_argument("--members", type=int, default=50000)
    s.add_argument("--tables", type=int, default=1000)
    s.add_argument("--grants-per-table", type=int, default=2)
    s.add_argument("--apply-groups", type=int, default=20)
    s.add_argument("--apply-tables", type=int, default=500)
    c = sub.add_parser("scimseed")
    c.add_argument("out")
    c.add_argument("--users", type=int, default=5000)
    c.add_argument("--groups", type=int, default=50)
    c.add_argument("--members", type=int, default=5000)
    r = sub.add_parser("applyrepo")
    r.add_argument("dir")
    r.add_argument("--url", required=True)
    r.add_argument("--members", type=int, default=2000)
    r.add_argument("--apply-groups", type=int, default=20)
    r.add_argument("--selects", type=int, default=500)
    r.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    if a.cmd in ("seed", "scimseed"):
        if a.users < 1 or a.groups < 1 or a.members < 0:
            ap.error("--users and --groups must be positive")
        d = seed(a) if a.cmd == "seed" else scimseed(a)
        with open(a.out, "w") as f:
            json.dump(d, f)
        print("users=%d groups=%d memberships=%d grants=%d" % (
            len(d["users"]), len(d["groups"]),
            sum(len(g["members"]) for g in d["groups"]), len(d.get("grants", []))))
    else:
        if a.selects > a.members or a.apply_groups < 1:
            ap.error("--selects must not exceed --members; --apply-groups >= 1")
        applyrepo(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
