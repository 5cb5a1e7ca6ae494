#!/usr/bin/env python3
"""Fill an accord state database with a synthetic history, for the answers
benchmark (tests/bench/answers.sh).

usage: genaudit.py [--rows N] [--seed S] [--facts FILE] [--analyze] DB

DB must already hold accord's schema (make it with the accord binary: an
empty file opened by `accord --state DB audit` is migrated); its tables
are read with PRAGMA table_info, so a later migration that adds columns
does not break the fill (columns it does not know are left to their
defaults).  What is written, deterministic for a seed:

- audit: N rows (default 10,000,000) over three years of hourly runs
  ending at NOW (2025-06-01T00:00:00Z): run_started and run_finished per
  run and, between them, grant rows and the revoke rows that end them
  (reasons expired, withdrawn, drift, denied), with a few denied,
  invalid, grant_failed and drift rows.  `at` is RFC 3339 UTC text,
  non-decreasing with seq.  ~50,000 people p000123@example.com, three
  platforms: warehouse (postgres; account = the local part, tables
  table:sales.t0000-t9999, roles role:analyst_00-49), snowflake (every
  tenth person; account P000123, tables table:SALES.PUBLIC.T0000-T4999,
  roles role:ANALYST_000-199) and databricks (every tenth person, offset
  one; account = the email, tables table:main.sales.t0000-t4999, groups
  group:analysts_000-199): ~20,000 targets.  A fifth of the people and
  of each platform's tables (the first 2% of them: warehouse
  t0000-t0199) are "hot" and take a third of the grants.
- grants: the windows still open at NOW (~100k at 10M rows), with their
  provenance (request, blob, commit, approvers, approved_at, expires_at,
  granted_at and rule when the schema has it).
- ingested: every grant above, plus ~21k held outside accord: each role
  or group holds ~20 tables, users hold tables directly, service accounts
  (no person) hold many, and some users are members of roles.
- identities: ~60k users, the 450 roles and groups, a few services.
- runs: one per hour, finished, exit 0.

prev_hash and hash are deterministic placeholders ("%064x" of seq - 1
and of seq, the size of a real digest): `accord audit verify` is NOT
meaningful on this log.  The benchmark measures reads.

With --facts FILE, writes a JSON document of inputs with known answers
for the benchmark: people (hot, typical, absent), current grants (direct
and through a role), closed windows (from, until), targets (hot, cold)
and the --now to ask with (a minute after the last run).  --analyze runs
ANALYZE at the end (accord never does).  Prints one line: rows, fill seconds and the file's size.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time

NOW = 1748736000  # 2025-06-01T00:00:00Z
YEARS = 3
HOUR = 3600
DAY = 86400

PEOPLE = 50000
HOT_PEOPLE = 10000  # p000000..p009999: a fifth of the people
HOT_SHARE = 1.0 / 3

DURATIONS = [1, 3, 7, 14, 30, 30, 30, 60, 90]  # days
APPROVERS = ["owner%03d@example.com" % i for i in range(200)]
SERVICES = ["etl_service", "dbt_runner", "looker_svc", "airflow", "fivetran"]


def rfc3339(t, cache={}):
    s = cache.get(t)
    if s is None:
        s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        if len(cache) < 100000:
            cache[t] = s
    return s


class Platform:
    def __init__(self, name, ptype, tables, principals, principal_kind,
                 table_privs, people, account, rule_file, weight):
        self.name = name
        self.type = ptype
        self.tables = tables
        self.principals = principals
        self.principal_kind = principal_kind
        self.table_privs = table_privs
        self.people = people  # person indexes with an account here
        self.hot_people = [p for p in people if p < HOT_PEOPLE]
        self.account = account  # person index -> account
        self.rule_file = rule_file
        self.weight = weight
        self.hot_tables = tables[:max(1, len(tables) // 50)]


def email(p):
    return "p%06d@example.com" % p


def platforms():
    wh = Platform(
        "warehouse", "postgres",
        ["table:sales.t%04d" % i for i in range(10000)],
        ["role:analyst_%02d" % i for i in range(50)], "role",
        ["SELECT"] * 8 + ["INSERT", "UPDATE"],
        list(range(PEOPLE)), lambda p: "p%06d" % p,
        "policies/warehouse.yaml", 0.70)
    sf = Platform(
        "snowflake", "snowflake",
        ["table:SALES.PUBLIC.T%04d" % i for i in range(5000)],
        ["role:ANALYST_%03d" % i for i in range(200)], "role",
        ["SELECT"],
        list(range(0, PEOPLE, 10)), lambda p: "P%06d" % p,
        "policies/snowflake.yaml", 0.15)
    dbx = Platform(
        "databricks", "databricks",
        ["table:main.sales.t%04d" % i for i in range(5000)],
        ["group:analysts_%03d" % i for i in range(200)], "group",
        ["SELECT"] * 3 + ["MODIFY"],
        list(range(1, PEOPLE, 10)), email,
        "policies/databricks.yaml", 0.15)
    return [wh, sf, dbx]


def table_columns(db, table):
    return [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]


def inserter(db, table, row_cols):
    """An INSERT for the columns of row_cols the table has, and a function
    mapping a full row to the values of those columns."""
    have = table_columns(db, table)
    if not have:
        sys.exit("genaudit: the database has no table %s "
                 "(make it with accord first)" % table)
    use = [c for c in row_cols if c in have]
    missing = [c for c in have if c not in row_cols]
    idx = [row_cols.index(c) for c in use]
    sql = "INSERT INTO %s (%s) VALUES (%s)" % (
        table, ", ".join(use), ", ".join("?" * len(use)))
    if len(use) == len(row_cols):
        return sql, None, missing
    return sql, (lambda r: tuple(r[i] for i in idx)), missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10000000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--facts")
    ap.add_argument("--analyze", action="store_true")
    ap.add_argument("db")
    a = ap.parse_args()
    if not os.path.exists(a.db):
        sys.exit("genaudit: %s does not exist (make it with accord first)"
                 % a.db)
    rnd = random.Random(a.seed)
    rand = rnd.random

    def randrange(n):  # random.randrange costs ~1 us a call
        return int(rand() * n)
    t_start = time.time()

    db = sqlite3.connect(a.db, isolation_level=None)
    ver = db.execute("PRAGMA user_version").fetchone()[0]
    if db.execute("SELECT count(*) FROM audit").fetchone()[0]:
        sys.exit("genaudit: %s already holds audit rows" % a.db)
    # No journal for the fill (faster than WAL for one big transaction;
    # a crash leaves a file the benchmark throws away); the file is put
    # back in WAL, accord's mode, at the end.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("PRAGMA temp_store = MEMORY")

    audit_cols = ["seq", "at", "run", "action", "platform", "account",
                  "person", "target", "privilege", "request", "commit_sha",
                  "approvers", "expires_at", "reason", "detail",
                  "prev_hash", "hash"]
    audit_sql, audit_map, _ = inserter(db, "audit", audit_cols)
    if audit_map is not None:
        sys.exit("genaudit: the audit table lacks some of %s" % audit_cols)
    # The audit indexes are dropped for the fill and made again after:
    # sorting once is much faster than updating four b-trees per row.
    idx_sql = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
        "tbl_name = 'audit' AND sql IS NOT NULL").fetchall()
    db.execute("BEGIN")
    for name, _ in idx_sql:
        db.execute('DROP INDEX "%s"' % name)

    plats = platforms()
    pweights = []
    acc = 0.0
    for p in plats:
        acc += p.weight
        pweights.append(acc)

    runs = YEARS * 365 * 24
    t0 = NOW - (runs - 1) * HOUR
    # rows per grant: grant + revoke + ~3% noise; two rows per run.
    per_run = max(0.0, a.rows / runs - 2)
    gmean = max(0.0, per_run - 0.1) / 1.963
    # Business hours carry more requests (normalised to mean 1).
    busy = 50.0 / 168
    norm = busy * 1.6 + (1 - busy) * 0.7

    commits = ["%040x" % rnd.getrandbits(160) for _ in range(50000)]
    blobs = ["%040x" % rnd.getrandbits(160) for _ in range(50000)]
    reqno = {}
    ends = {}  # run -> [window]
    open_keys = set()
    retry = {}  # run -> [pending grant after a failure]
    seq = 0
    rows = []
    closed_sample = []  # reservoir of closed windows
    nclosed = 0
    counts = {}

    emit = rows.append

    def flush(force=False):
        if rows and (force or len(rows) >= 200000):
            db.executemany(audit_sql, rows)
            rows.clear()

    def pick_person(p):
        if rand() < HOT_SHARE and p.hot_people:
            return p.hot_people[randrange(len(p.hot_people))]
        return p.people[randrange(len(p.people))]

    def pick_table(p):
        if rand() < HOT_SHARE:
            return p.hot_tables[randrange(len(p.hot_tables))]
        return p.tables[randrange(len(p.tables))]

    def new_window(r, now):
        x = rand()
        p = plats[0] if x < pweights[0] else plats[1] if x < pweights[1] \
            else plats[2]
        for _ in range(5):
            person = pick_person(p)
            if rand() < 0.15:
                target = p.principals[randrange(len(p.principals))]
                priv = "member"
            else:
                target = pick_table(p)
                priv = p.table_privs[randrange(len(p.table_privs))]
            account = p.account(person)
            key = (p.name, account, target, priv)
            if key not in open_keys:
                break
        else:
            return None
        n = reqno.get(person, 0) + 1
        reqno[person] = n
        mail = email(person)
        request = "requests/team%02d/p%06d-%d.yaml" % (person % 40, person, n)
        approvers = APPROVERS[randrange(200)]
        if rand() < 0.3:
            approvers += "," + APPROVERS[randrange(200)]
        days = DURATIONS[randrange(len(DURATIONS))]
        return [p, person, mail, account, target, priv, request,
                commits[randrange(50000)], blobs[randrange(50000)],
                approvers, now - 60 - randrange(7140), now + days * DAY,
                "%s#%d" % (p.rule_file, 1 + randrange(6)), days]

    for r in range(runs):
        now = t0 + r * HOUR
        at = rfc3339(now)
        run = r + 1
        tm = time.gmtime(now)
        hot = 8 <= tm.tm_hour < 18 and tm.tm_wday < 5
        k = gmean * (1.6 if hot else 0.7) / norm
        k = int(k) + (1 if rand() < k - int(k) else 0)

        seq += 1
        emit((seq, at, run, "run_started", None, None, None, None, None,
              None, None, None, None, None, None, "%064x" % (seq - 1),
              "%064x" % seq))

        # Revokes due now.
        for w in ends.pop(r, ()):
            p, why = w[0], w[14]
            seq += 1
            emit((seq, at, run, "revoke", p.name, w[3], w[2], w[4], w[5],
                  w[6], w[7], w[9], rfc3339(w[11]), why,
                  "no longer held on the platform: removed outside accord"
                  if why == "drift" else None,
                  "%064x" % (seq - 1), "%064x" % seq))
            open_keys.discard((p.name, w[3], w[4], w[5]))
            counts[why] = counts.get(why, 0) + 1
            nclosed += 1
            if len(closed_sample) < 400:
                closed_sample.append((w, w[15], now))
            else:
                j = randrange(nclosed)
                if j < 400:
                    closed_sample[j] = (w, w[15], now)

        # New grants (and the retries of failed ones).
        todo = retry.pop(r, [])
        for _ in range(k):
            w = new_window(r, now)
            if w is not None:
                todo.append(w)
        for w in todo:
            p = w[0]
            key = (p.name, w[3], w[4], w[5])
            x = rand()
            if x < 0.015:
                seq += 1
                emit((seq, at, run, "denied", p.name, None, w[2], w[4], w[5],
                      w[6], w[7], None, None, "denied",
                      "no rule of %s allows %s on %s; a deny rule of "
                      "%s#7 matches" % (p.rule_file, w[5], w[4], p.rule_file),
                      "%064x" % (seq - 1), "%064x" % seq))
                counts["denied_rows"] = counts.get("denied_rows", 0) + 1
                continue
            if x < 0.018:
                seq += 1
                emit((seq, at, run, "invalid", None, None, None, None, None,
                      w[6], w[7], None, None, "invalid",
                      "%s:4:3: unknown key 'duraton'" % w[6],
                      "%064x" % (seq - 1), "%064x" % seq))
                counts["invalid_rows"] = counts.get("invalid_rows", 0) + 1
                continue
            if x < 0.023 and len(w) == 14:
                seq += 1
                emit((seq, at, run, "grant_failed", p.name, w[3], w[2], w[4],
                      w[5], w[6], w[7], w[9], rfc3339(w[11]), "request",
                      "platform %s: connection reset by peer" % p.name,
                      "%064x" % (seq - 1), "%064x" % seq))
                w.append("retry")
                retry.setdefault(r + 1, []).append(w)
                open_keys.add(key)
                counts["grant_failed_rows"] = \
                    counts.get("grant_failed_rows", 0) + 1
                continue
            if key in open_keys and len(w) == 14:
                continue
            open_keys.add(key)
            seq += 1
            emit((seq, at, run, "grant", p.name, w[3], w[2], w[4], w[5], w[6],
                  w[7], w[9], rfc3339(w[11]), "request", None,
                  "%064x" % (seq - 1), "%064x" % seq))
            counts["grant"] = counts.get("grant", 0) + 1
            dur = w[13] * 24
            y = rand()
            if y < 0.20:
                end, why = r + 1 + randrange(max(1, dur - 1)), "withdrawn"
            elif y < 0.22:
                end, why = r + 1 + randrange(max(1, dur - 1)), "drift"
            elif y < 0.23:
                end, why = r + 1 + randrange(max(1, dur - 1)), "denied"
            else:
                end, why = r + dur, "expired"
            # w: ... [14] = why, [15] = granted_at
            if len(w) == 15:
                w.pop()
            w.append(why)
            w.append(now)
            ends.setdefault(end, []).append(w)

        # Occasional drift reports: an outside grant seen on a managed
        # target (drift: report).
        if rand() < 0.1:
            p = plats[randrange(3)]
            person = pick_person(p)
            seq += 1
            emit((seq, at, run, "drift", p.name, p.account(person),
                  email(person), pick_table(p), "SELECT", None, None, None,
                  None, "drift", "held on the platform without a request",
                  "%064x" % (seq - 1), "%064x" % seq))
            counts["drift_rows"] = counts.get("drift_rows", 0) + 1

        seq += 1
        emit((seq, at, run, "run_finished", None, None, None, None, None,
              None, commits[r % 50000], None, None, None,
              '{"exit":0,"granted":%d,"revoked":0,"failed":0,"skipped":0,'
              '"errors":0}' % k, "%064x" % (seq - 1), "%064x" % seq))
        flush()
        if seq >= a.rows:
            break
    last_run = r
    flush(True)
    t_audit = time.time()
    db.execute("COMMIT")

    # --- current state -----------------------------------------------------
    db.execute("BEGIN")
    open_w = [w for rr, ws in ends.items() if rr > last_run for w in ws]
    gcols = ["platform", "account", "person", "target", "privilege",
             "request", "blob", "commit_sha", "approvers", "approved_at",
             "expires_at", "granted_at", "rule"]
    gsql, gmap, _ = inserter(db, "grants", gcols)
    grows = [(w[0].name, w[3], w[2], w[4], w[5], w[6], w[8], w[7], w[9],
              w[10], w[11], w[15], w[12]) for w in open_w]
    db.executemany(gsql, grows if gmap is None else map(gmap, grows))

    lastseen = t0 + last_run * HOUR
    ing = set((w[0].name, w[3], w[4], w[5]) for w in open_w)
    outside = []

    def add_out(k):
        if k not in ing:
            ing.add(k)
            outside.append(k)

    role_tables = {}
    for p in plats:
        for pr in p.principals:
            role_tables[(p.name, pr)] = []
            for _ in range(20):
                t = pick_table(p)
                role_tables[(p.name, pr)].append(t)
                add_out((p.name, pr, t, "SELECT"))
        for _ in range(int(9000 * p.weight)):
            person = pick_person(p)
            add_out((p.name, p.account(person), pick_table(p), "SELECT"))
        for s in SERVICES:
            for _ in range(400 // len(plats)):
                add_out((p.name, s, pick_table(p), "SELECT"))
        for _ in range(int(1000 * p.weight)):
            person = pick_person(p)
            add_out((p.name, p.account(person),
                     p.principals[randrange(len(p.principals))], "member"))
    db.executemany("INSERT INTO ingested (platform, account, target, "
                   "privilege, last_seen) VALUES (?, ?, ?, ?, ?)",
                   ((k[0], k[1], k[2], k[3], lastseen) for k in ing))

    icols = ["platform", "account", "kind", "email", "login", "person",
             "last_seen"]
    isql, imap, _ = inserter(db, "identities", icols)
    irows = []
    for p in plats:
        for person in p.people:
            acct = p.account(person)
            irows.append((p.name, acct, "user", email(person),
                          acct if p.type != "databricks" else email(person),
                          email(person), lastseen))
        for pr in p.principals:
            irows.append((p.name, pr, p.principal_kind, None, None, None,
                          lastseen))
        for s in SERVICES:
            irows.append((p.name, s, "service", None, s, None, lastseen))
    db.executemany(isql, irows if imap is None else map(imap, irows))

    rcols = ["id", "started_at", "finished_at", "command", "commit_sha",
             "exit_code", "stats"]
    rsql, rmap, _ = inserter(db, "runs", rcols)
    rrows = ((i + 1, t0 + i * HOUR, t0 + i * HOUR + 20, "apply",
              commits[i % 50000], 0, '{"exit":0}')
             for i in range(last_run + 1))
    db.executemany(rsql, rrows if rmap is None else map(rmap, rrows))
    if table_columns(db, "outbox_cursor"):
        db.execute("UPDATE outbox_cursor SET audit_seq = ?", (seq,))
    db.execute("COMMIT")
    t_state = time.time()

    for name, sql in idx_sql:
        db.execute(sql)
    t_index = time.time()
    # accord itself never runs ANALYZE: without --analyze the planner sees
    # what it sees in the field.
    if a.analyze:
        db.execute("ANALYZE")
    t_analyze = time.time()
    db.execute("PRAGMA journal_mode = WAL")
    db.close()

    if a.facts:
        facts = make_facts(rnd, plats, open_w, closed_sample, role_tables,
                           ing, lastseen)
        with open(a.facts, "w") as f:
            json.dump(facts, f, indent=1)
            f.write("\n")

    size = os.path.getsize(a.db)
    print("genaudit: %d audit rows (%s), %d runs, %d grants, %d ingested "
          "(%d outside), %d identities; schema v%d; audit %.1fs, state "
          "%.1fs, indexes %.1fs, analyze %.1fs, total %.1fs; %.0f MB"
          % (seq, " ".join("%s=%d" % kv for kv in sorted(counts.items())),
             last_run + 1, len(grows), len(ing), len(outside), len(irows),
             ver, t_audit - t_start, t_state - t_audit, t_index - t_state,
             t_analyze - t_index, t_analyze - t_start, size / 1e6))


def make_facts(rnd, plats, open_w, closed_sample, role_tables, ing,
               lastseen):
    by_person = {}
    for w in open_w:
        by_person.setdefault(w[1], []).append(w)
    members_of = {}  # (platform, account) -> principals it belongs to
    for k in ing:
        if k[3] == "member":
            members_of.setdefault((k[0], k[1]), []).append(k[2])

    def held(pl, account, target, priv):
        """Held now, directly or through a role or group (one level:
        the synthetic principals hold no principals)."""
        if (pl, account, target, priv) in ing:
            return True
        return any((pl, r, target, priv) in ing
                   for r in members_of.get((pl, account), ()))

    def g(w):
        return {"person": w[2], "platform": w[0].name, "account": w[3],
                "target": w[4], "privilege": w[5], "request": w[6]}

    hot = [p for p in by_person if p < HOT_PEOPLE]
    cold = [p for p in by_person if p >= HOT_PEOPLE]
    rnd.shuffle(hot)
    rnd.shuffle(cold)
    direct = [w for w in open_w if w[5] != "member"]
    rnd.shuffle(direct)
    member = [w for w in open_w if w[5] == "member"]
    rnd.shuffle(member)
    via = []
    for w in member[:20]:
        tables = role_tables.get((w[0].name, w[4])) or []
        if tables:
            x = g(w)
            x["role"] = w[4]
            x["target"] = tables[0]
            x["privilege"] = "SELECT"
            via.append(x)
    closed = []
    for w, frm, until in closed_sample:
        # Not held now by any path (`check` must say no).
        if held(w[0].name, w[3], w[4], w[5]):
            continue
        x = g(w)
        x["from"] = rfc3339(frm)
        x["until"] = rfc3339(until)
        x["during"] = rfc3339(frm + (until - frm) // 2)
        x["before"] = rfc3339(frm - 1)
        x["after"] = rfc3339(until + 1)
        x["reason"] = w[14]
        closed.append(x)
    wh = plats[0]
    return {
        "now": rfc3339(lastseen + 60),
        "last_run": rfc3339(lastseen),
        "people_hot": [email(p) for p in hot[:30]],
        "people_typical": [email(p) for p in cold[:30]],
        "people_absent": ["nobody%02d@example.com" % i for i in range(10)],
        "grants_direct": [g(w) for w in direct[:30]],
        "grants_via_role": via,
        "windows_closed": closed[:60],
        "targets_hot": [(wh.name, t) for t in wh.hot_tables[:15]] +
                       [(p.name, p.hot_tables[0]) for p in plats[1:]],
        "targets_cold": [(wh.name, t) for t in wh.tables[-15:]] +
                        [(p.name, p.tables[-1]) for p in plats[1:]],
        "targets_role": [(wh.name, t) for t in wh.principals[:10]],
        "globs": [[wh.name, "table:sales.t01*"],
                  [wh.name, "table:sales.t52*"],
                  [wh.name, "role:analyst_1*"],
                  [plats[1].name, "table:SALES.PUBLIC.T00*"],
                  [plats[2].name, "table:main.sales.t49*"]],
    }


if __name__ == "__main__":
    main()
