#!/bin/sh
# accord benchmark of the answers commands (DESIGN §12): a state database
# filled by tests/bench/genaudit.py with BENCH_AUDIT_ROWS audit rows
# (default 10,000,000: three years of hourly runs, ~50k people, three
# platforms, ~20k targets, ~100k current grants, ~20k held outside
# accord, ~60k identities), then `accord check`, `who`, `access` and
# `history` run BENCH_ANSWERS_REPS times (default 30) per kind of input:
# people hot, typical and absent, targets hot, cold and absent, globs,
# history before, during and after a known window.  Prints per command
# and kind the median, p95 and max wall-clock ms (the process as a whole:
# exec, open, migrate check, query, output), the median CPU ms (user +
# system, steadier than wall time on a busy machine; cpu-base is that
# less the baseline's, roughly the cost of the answer itself) and the
# output size, first on the database as accord leaves it (accord never
# runs ANALYZE), then after ANALYZE.  The baseline row is the same
# process on a database holding one run and nothing else: the fixed cost
# of starting accord (the light front, which maps SQLite, jansson and
# libcrypto only) and opening the state.  The fill has just written the file,
# but a 5 GB database need not stay in the page cache: wall time can
# include disk reads, CPU time does not (compare the two).  Numbers are
# printed, never asserted; a command that exits other than it should
# (check: 0 yes, 1 no; the rest 0), or a history that misses the window
# it must show, is reported on a line starting "answers: FAIL".
#
# usage: sh tests/bench/answers.sh BINARY
# env:   BENCH_AUDIT_ROWS (10000000), BENCH_ANSWERS_REPS (30),
#        BENCH_KEEP=1 (keep the work directory),
#        BENCH_ANSWERS_DB=FILE (use this filled database and FILE.facts.json
#        instead of making one; it is ANALYZEd by the second pass)

if [ $# -ne 1 ]; then
	echo "usage: sh tests/bench/answers.sh BINARY" >&2
	exit 64
fi
case $1 in
/*) ACCORD=$1 ;;
*) ACCORD=$(pwd)/$1 ;;
esac
[ -x "$ACCORD" ] || { echo "answers: $ACCORD is not an executable (run make first)" >&2; exit 1; }
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${BENCH_AUDIT_ROWS:-10000000}
REPS=${BENCH_ANSWERS_REPS:-30}

export LC_ALL=C TZ=UTC
unset ACCORD_STATE

tmp=$(mktemp -d /tmp/accord-answers.XXXXXX) || exit 1
cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "answers: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mkstate FILE: an empty state database with accord's schema (an empty
# file is opened and migrated by any command that reads the state).
mkstate() {
	: >"$1" || return 1
	"$ACCORD" --state "$1" audit >/dev/null 2>"$tmp/mkstate.err" || {
		echo "answers: accord could not create $1:" >&2
		cat "$tmp/mkstate.err" >&2
		return 1
	}
}

if [ -n "${BENCH_ANSWERS_DB:-}" ]; then
	db=$BENCH_ANSWERS_DB
	facts=$db.facts.json
	[ -f "$db" ] && [ -f "$facts" ] ||
	    { echo "answers: $db or $facts is missing" >&2; exit 1; }
	echo "answers: using $db ($(du -m "$db" | cut -f1) MB)"
else
	db=$tmp/state.db
	facts=$tmp/facts.json
	mkstate "$db" || exit 1
	echo "answers: filling $db with $ROWS audit rows"
	python3 "$TOP/tests/bench/genaudit.py" --rows "$ROWS" --facts "$facts" "$db" ||
	    { echo "answers: FAIL: genaudit.py failed" >&2; exit 1; }
	echo "answers: $(du -m "$db" | cut -f1) MB on disk"
fi

# The baseline: one run recorded, nothing else.
base=$tmp/base.db
mkstate "$base" || exit 1
python3 -c '
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
d.execute("INSERT INTO runs (started_at, finished_at, command, exit_code) VALUES (1748736000, 1748736000, ?, 0)", ("apply",))
d.commit()
' "$base" || exit 1

python3 - "$ACCORD" "$db" "$facts" "$base" "$REPS" <<'EOF'
import json, os, resource, sqlite3, statistics, subprocess, sys, time

accord, db, facts_file, base, reps = sys.argv[1:6]
reps = int(reps)
f = json.load(open(facts_file))
NOW = f["now"]
fails = []
BUDGET = 30.0  # seconds per kind at most (a slow kind stops early)


def fail(msg):
    fails.append(msg)
    print("answers: FAIL: " + msg, flush=True)


def cycle(xs, n):
    return [xs[i % len(xs)] for i in range(n)] if xs else []


def cases():
    """(command, kind, [(argv, want_rc, must_contain)...])"""
    c = []
    gd = f["grants_direct"]
    gv = f["grants_via_role"]
    wc = f["windows_closed"]
    hot, typ, absent = f["people_hot"], f["people_typical"], f["people_absent"]
    c.append(("baseline", "one run, no data", [
        (["--db", base, "access", p], 0, None) for p in cycle(absent, reps)]))
    # check
    c.append(("check", "yes, direct", [
        (["check", g["person"], g["platform"], g["target"]] +
         ([g["privilege"]] if i % 2 else []), 0, None)
        for i, g in enumerate(cycle(gd, reps))]))
    c.append(("check", "yes, via a role", [
        (["check", g["person"], g["platform"], g["target"], g["privilege"]],
         0, None) for g in cycle(gv, reps)]))
    c.append(("check", "no, revoked", [
        (["check", w["person"], w["platform"], w["target"], w["privilege"]],
         1, None) for w in cycle(wc, reps)]))
    c.append(("check", "no, hot person", [
        (["check", p, "warehouse", "table:sales.t9998", "DELETE"], 1, None)
        for p in cycle(hot, reps)]))
    c.append(("check", "no, absent person, hot target", [
        (["check", p, "warehouse", "table:sales.t0001"], 1, None)
        for p in cycle(absent, reps)]))
    # who
    c.append(("who", "exact, hot target", [
        (["who", pl, t], 0, None) for pl, t in cycle(f["targets_hot"], reps)]))
    c.append(("who", "exact, cold target", [
        (["who", pl, t], 0, None) for pl, t in cycle(f["targets_cold"], reps)]))
    c.append(("who", "exact, a role", [
        (["who", pl, t], 0, None) for pl, t in cycle(f["targets_role"], reps)]))
    c.append(("who", "absent target", [
        (["who", "warehouse", "table:sales.none%02d" % i], 0, None)
        for i in range(reps)]))
    for pl, g in f["globs"]:
        c.append(("who", "glob %s %s" % (pl, g), [
            (["who", pl, g], 0, None) for _ in range(reps)]))
    # access
    c.append(("access", "hot person", [
        (["access", p], 0, None) for p in cycle(hot, reps)]))
    c.append(("access", "typical person", [
        (["access", p], 0, None) for p in cycle(typ, reps)]))
    c.append(("access", "absent person", [
        (["access", p], 0, None) for p in cycle(absent, reps)]))
    # history
    c.append(("history", "person, now, hot", [
        (["history", p], 0, None) for p in cycle(hot, reps)]))
    c.append(("history", "person, now, typical", [
        (["history", p], 0, None) for p in cycle(typ, reps)]))
    c.append(("history", "person, absent", [
        (["history", p], 0, None) for p in cycle(absent, reps)]))
    for when in ("before", "during", "after"):
        c.append(("history", "person --at %s a window" % when, [
            (["history", w["person"], "--at", w[when]], 0,
             w["target"] if when == "during" else None)
            for w in cycle(wc, reps)]))
    c.append(("history", "--target --platform --at during", [
        (["history", "--target", w["target"], "--platform", w["platform"],
          "--at", w["during"]], 0, w["target"]) for w in cycle(wc, reps)]))
    c.append(("history", "--target --at during", [
        (["history", "--target", w["target"], "--at", w["during"]], 0,
         w["target"]) for w in cycle(wc, reps)]))
    c.append(("history", "--target now, hot", [
        (["history", "--target", t, "--platform", pl], 0, None)
        for pl, t in cycle(f["targets_hot"], reps)]))
    c.append(("history", "--target glob --at (cold)", [
        (["history", "--target", "table:sales.t52*", "--platform",
          "warehouse", "--at", w["during"]], 0, None)
        for w in cycle(wc, reps)]))
    return c


def run(argv):
    if argv[0] == "--db":
        full = [accord, "--state", argv[1], "--now", NOW] + argv[2:]
    else:
        full = [accord, "--state", db, "--now", NOW] + argv
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    try:
        p = subprocess.run(full, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
    except subprocess.TimeoutExpired:
        return None, (time.perf_counter() - t) * 1000, 0, b"", b"timeout"
    t = (time.perf_counter() - t) * 1000
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    return p.returncode, t, cpu, p.stdout, p.stderr


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


def measure(label):
    rows = []
    for cmd, kind, calls in cases():
        ms, cpus, size, lines = [], [], [], []
        start = time.time()
        nfail = 0
        for argv, want, contain in calls:
            rc, t, cpu, out, err = run(argv)
            ms.append(t)
            cpus.append(cpu)
            size.append(len(out))
            lines.append(out.count(b"\n"))
            bad = None
            if rc != want:
                bad = "exited %s, not %d" % (rc, want)
            elif contain and contain.encode() not in out:
                bad = "output lacks %s" % contain
            if bad:
                nfail += 1
                if nfail <= 3:
                    fail("%s %s: accord %s: %s; stderr: %s" % (
                        label, cmd, " ".join(argv), bad,
                        err.decode(errors="replace").strip()[-300:]))
            if time.time() - start > BUDGET:
                break
        rows.append((cmd, kind, len(ms), statistics.median(ms),
                     pct(ms, 0.95), max(ms), statistics.median(cpus),
                     statistics.median(size), statistics.median(lines),
                     nfail))
    print()
    print("accord answers bench: %s" % label)
    print("%-8s %-34s %4s %9s %8s %8s %7s %8s %9s %6s %4s" % (
        "command", "input", "n", "median ms", "p95 ms", "max ms",
        "cpu ms", "cpu-base", "out bytes", "lines", "fail"))
    base_cpu = rows[0][6]
    for r in rows:
        print("%-8s %-34s %4d %9.1f %8.1f %8.1f %7.1f %8.1f %9.0f %6.0f %4d%s" % (
            r[0], r[1][:34], r[2], r[3], r[4], r[5], r[6], r[6] - base_cpu,
            r[7], r[8], r[9],
            "  <- answer > 10 ms" if r[6] - base_cpu > 10 else ""))
    print("(the baseline, starting accord and opening the state, takes %.1f "
          "ms of %.1f ms wall by itself; '<- answer > 10 ms' marks cpu-base "
          "over 10 ms)" % (rows[0][6], rows[0][3]))
    sys.stdout.flush()


con = sqlite3.connect(db)
n = con.execute("SELECT max(seq) FROM audit").fetchone()[0]
stat = con.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                   "'sqlite_stat1'").fetchone()[0]
con.close()
print("answers: %s audit rows; --now %s; %d runs per kind (at most %.0f s)"
      % (n, NOW, reps, BUDGET))

# One run of each with -v: timing lines, when accord prints them.
for argv in (["check", f["grants_direct"][0]["person"],
              f["grants_direct"][0]["platform"],
              f["grants_direct"][0]["target"]],
             ["who"] + list(f["targets_hot"][0]),
             ["access", f["people_hot"][0]],
             ["history", f["people_hot"][0]]):
    rc, t, cpu, out, err = run(["-v"] + argv)
    tl = [l for l in err.decode(errors="replace").splitlines()
          if "timing" in l]
    print("answers: -v %s: exit %s, %.1f ms; %s" % (
        argv[0], rc, t, tl[-1] if tl else "no timing line"))

if stat:
    measure("database already ANALYZEd")
else:
    measure("database as accord leaves it (no ANALYZE)")
    con = sqlite3.connect(db)
    t = time.time()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    print("\nanswers: ANALYZE took %.1f s" % (time.time() - t))
    measure("after ANALYZE")

if fails:
    print("\nanswers: FAIL: %d failed invocation(s) above" % len(fails))
    sys.exit(1)
EOF
