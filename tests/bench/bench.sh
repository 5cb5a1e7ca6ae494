#!/bin/sh
# accord benchmark: a synthetic access repository (genrepo.py: N request
# files, default 10000, in ~300 folders over ~5000 commits with merges)
# against a throwaway PostgreSQL cluster holding the 1000 login roles, 50
# analyst roles and 200 sales tables it names.  Measures cold validate,
# cold plan, warm plan, plan after one merge that changes 10 files, cold
# apply of every grant and a second apply with nothing to do; prints wall
# time, peak memory (/usr/bin/time -v) and accord's own -v timing line per
# stage.  Then ingest throughput from the Snowflake SQL API emulator
# (tests/emulators/snowflake.py): 100k role grants (BENCH_SF_GRANTS) read
# by `accord -v plan` with concurrency 1 and 8, as grants/s from the
# ingest time of the -v timing line (best of two runs each).  Then the
# Databricks workspace emulator (tests/emulators/databricks.py, seeds from
# tests/bench/gendbx.py): ingest of 10k users, 200 groups holding 50k
# memberships and 1000 tables with 2000 SELECT grants, at concurrency 1
# and 8 (best of two); one apply of 2000 memberships over 20 groups and
# 500 table SELECTs, counting the PATCH requests the emulator logged; and
# ingest from the scimmy SCIM server (5000 users, 50 groups; skipped
# without node).  Last, the answers commands (check, who, access,
# history) on a state database holding 10M audit rows
# (tests/bench/answers.sh; BENCH_AUDIT_ROWS sets the size).  Numbers are
# printed, never asserted.
#
# usage: sh tests/bench/bench.sh BINARY [FILES]      (make bench)
# env:   BENCH_COMMITS (default 5000), BENCH_MATCH (email-local | map),
#        BENCH_REPACK=1 (repack the repository before measuring),
#        BENCH_KEEP=1 (keep the work directory), BENCH_SF_GRANTS (100000),
#        BENCH_DBX_EMULATOR (another databricks.py), BENCH_SCIM_USERS (5000),
#        BENCH_NO_SCIM=1

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh tests/bench/bench.sh BINARY [FILES]" >&2
	exit 64
fi
case $1 in
/*) ACCORD=$1 ;;
*) ACCORD=$(pwd)/$1 ;;
esac
[ -x "$ACCORD" ] || { echo "bench: $ACCORD is not an executable (run make first)" >&2; exit 1; }
FILES=${2:-10000}
COMMITS=${BENCH_COMMITS:-5000}
MATCH=${BENCH_MATCH:-email-local}
PEOPLE=1000
TOP=$(cd "$(dirname "$0")/../.." && pwd)

export LC_ALL=C TZ=UTC
unset ACCORD_STATE

die() {
	echo "bench: $*" >&2
	exit 1
}

if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "bench: installing package time for /usr/bin/time" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 ||
		    { apt-get update -qq >/dev/null 2>&1 &&
		      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; }
	fi
	[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
fi

tmp=$(mktemp -d /tmp/accord-bench.XXXXXX) || exit 1
repo=$tmp/repo
pgdir=$tmp/pg
pg_started=0
sf_pid=""
dbx_pid=""
scim_pid=""
cleanup() {
	[ "$pg_started" = 1 ] && pg_stop "$pgdir" >/dev/null 2>&1
	for p in $sf_pid $dbx_pid $scim_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ms() {
	echo $(($(date +%s%N) / 1000000))
}

echo "bench: generating $FILES request files over $COMMITS commits ($MATCH)"
t0=$(ms)
NOW=$(python3 "$TOP/tests/bench/genrepo.py" --files "$FILES" --commits "$COMMITS" \
    --people "$PEOPLE" --match "$MATCH" "$repo") || die "genrepo.py failed"
NOW=${NOW#now=}
gen_ms=$(($(ms) - t0))
if [ "${BENCH_REPACK:-0}" = 1 ]; then
	git -C "$repo" repack -adfq || die "git repack failed"
	echo "bench: repository repacked"
fi
echo "bench: generated in ${gen_ms} ms; $(du -sk "$repo/.git" | cut -f1) kB; --now $NOW"

echo "bench: starting PostgreSQL"
. "$TOP/tests/lib/pg.sh" || die "cannot load tests/lib/pg.sh"
pg_started=1
pg_start "$pgdir" || die "pg_start failed"
t0=$(ms)
pg_sql "
CREATE SCHEMA sales;
DO \$\$ BEGIN
  EXECUTE (SELECT string_agg(format('CREATE ROLE %I LOGIN', 'user' || lpad(i::text, 4, '0')), '; ')
             FROM generate_series(1, $PEOPLE) i);
  EXECUTE (SELECT string_agg(format('CREATE ROLE %I NOLOGIN', 'analyst_r' || lpad(i::text, 3, '0')), '; ')
             FROM generate_series(1, 50) i);
  EXECUTE (SELECT string_agg(format('CREATE TABLE sales.%I (id int)', 't' || lpad(i::text, 4, '0')), '; ')
             FROM generate_series(1, 200) i);
END \$\$;" || die "could not create roles and tables"
echo "bench: $PEOPLE login roles, 50 analyst roles, 200 tables in $(($(ms) - t0)) ms"
WAREHOUSE_DSN=$PG_DSN
export WAREHOUSE_DSN

rows=$tmp/rows
: >"$rows"

# stage NAME STATE-DB COMMAND...: one measured accord run.
stage() {
	name=$1
	db=$2
	shift 2
	t0=$(ms)
	/usr/bin/time -v -o "$tmp/time.$name" \
	    "$ACCORD" -v -C "$repo" --state "$db" --now "$NOW" "$@" \
	    >"$tmp/out.$name" 2>"$tmp/err.$name"
	rc=$?
	wall=$(($(ms) - t0))
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.$name")
	timing=$(sed -n 's/^accord: timing: //p' "$tmp/err.$name" | tail -n 1)
	lines=$(wc -l <"$tmp/out.$name")
	printf '%s|%s|%s|%s|%s|%s\n' "$name" "$rc" "$wall" "${rss:-0}" "$lines" \
	    "${timing:--}" >>"$rows"
	echo "bench: $name: exit $rc, ${wall} ms, $lines lines of output"
	case $rc in
	0 | 2) ;;
	*)
		echo "bench: $name exited $rc; its stderr ends with:" >&2
		grep -v '^accord: timing:' "$tmp/err.$name" | tail -n 5 >&2 ;;
	esac
}

stage "a validate (cold)" "$tmp/validate.db" validate
stage "b plan (cold)" "$tmp/plan.db" plan
stage "c plan (warm)" "$tmp/plan.db" plan
python3 "$TOP/tests/bench/genrepo.py" --change 10 "$repo" || die "genrepo.py --change failed"
stage "d plan (+10 files)" "$tmp/plan.db" plan
stage "e apply (cold)" "$tmp/apply.db" apply
stage "f apply (again)" "$tmp/apply.db" apply
grants=$(pg_sql "SELECT (SELECT count(*) FROM information_schema.role_table_grants
    WHERE table_schema = 'sales' AND grantee LIKE 'user%')
  + (SELECT count(*) FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid
    WHERE r.rolname LIKE 'analyst_r%')")

echo
echo "accord bench: $FILES files, $COMMITS commits, $PEOPLE people, match $MATCH" \
    "(repository generated in ${gen_ms} ms); $grants grants on the server after apply"
printf '%-20s %4s %9s %10s %7s  %s\n' stage exit "wall ms" "maxrss MB" lines "accord -v timing"
while IFS='|' read -r name rc wall rss lines timing; do
	mb=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
	printf '%-20s %4s %9s %10s %7s  %s\n' "$name" "$rc" "$wall" "$mb" "$lines" "$timing"
done <"$rows"

# --- ingest throughput from the Snowflake SQL API emulator -------------------
# The emulator's synthetic account (--seed-generate): 1000 users, 100
# roles ANALYST_nnnn, 100k memberships (nine tenths of the generated
# grants; the table grants are outside `managed` and not read).  Every
# user is protected, so the plan stays empty: what is measured is reading
# identities and grants over HTTP, in pages and result partitions.
sf_bench() {
	emu=$TOP/tests/emulators/snowflake.py
	if [ ! -f "$emu" ]; then
		echo "bench: snowflake: no emulator at $emu; skipped"
		return 0
	fi
	sfgrants=${BENCH_SF_GRANTS:-100000}
	sfroles=100
	sfusers=$((sfgrants / sfroles))
	sfgrants=$((sfusers * sfroles))
	sfdir=$tmp/sf
	mkdir -p "$sfdir" || return 1
	{ (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$sfdir/key.pem") && openssl pkey -in "$sfdir/key.pem" -pubout \
	    -out "$sfdir/pub.pem"; } >/dev/null 2>&1 ||
	    { echo "bench: snowflake: openssl could not make a key; skipped"; return 0; }
	t0=$(ms)
	# memberships = generated - generated/10
	/usr/bin/python3 "$emu" --port-file "$sfdir/port" --public-key "$sfdir/pub.pem" \
	    --account XY12345 --user ACCORD_SVC --parent-pid $$ \
	    --seed-generate "$sfusers" "$sfroles" $((sfgrants * 10 / 9)) \
	    >"$sfdir/emulator.out" 2>&1 &
	sf_pid=$!
	i=0
	while [ ! -s "$sfdir/port" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$sf_pid" 2>/dev/null; then
			echo "bench: snowflake: the emulator did not start:" >&2
			tail -n 5 "$sfdir/emulator.out" >&2
			return 1
		fi
		sleep 0.1
	done
	sfurl=http://127.0.0.1:$(cat "$sfdir/port")
	counts=$(sed -n 's/.*listening on [^ ]* (\(.*\))$/\1/p' "$sfdir/emulator.out")
	echo "bench: snowflake emulator up in $(($(ms) - t0)) ms: $counts"
	# The memberships the emulator holds, when its banner says.
	n=$(printf '%s\n' "$counts" | sed -n 's/.*role_grants \([0-9]*\).*/\1/p')
	[ -n "$n" ] && sfgrants=$n
	for c in 1 8; do
		r=$sfdir/repo$c
		git init -q -b main "$r" || return 1
		mkdir -p "$r/policies"
		cat >"$r/accord.yaml" <<EOF
version: 1
branch: main
platforms:
  snow:
    type: snowflake
    url: $sfurl
    account: XY12345
    user: ACCORD_SVC
    role: SECURITYADMIN
    auth: keypair
    private_key_file: $sfdir/key.pem
    managed: ["role:ANALYST_*"]
    protected_accounts: ["USER_*"]
    drift: report
    accounts:
      match: email
    timeout: 120s
    concurrency: $c
EOF
		printf 'rules: []\n' >"$r/policies/none.yaml"
		git -C "$r" add -A
		GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
		GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com \
		    git -C "$r" commit -q -m config || return 1
	done
	: >"$sfdir/rows"
	for run in 1 2; do
		for c in 1 8; do
			name="snowflake c=$c #$run"
			t0=$(ms)
			/usr/bin/time -v -o "$sfdir/time" "$ACCORD" -v -C "$sfdir/repo$c" \
			    --state "$sfdir/state$c.db" plan >"$sfdir/out" 2>"$sfdir/err"
			rc=$?
			wall=$(($(ms) - t0))
			rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$sfdir/time")
			timing=$(sed -n 's/^accord: timing: //p' "$sfdir/err" | tail -n 1)
			ing=$(printf '%s\n' "$timing" | sed -n 's/.*ingest=\([0-9]*\)ms.*/\1/p')
			cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%d", s * 1000 }' \
			    "$sfdir/time")
			printf '%s|%s|%s|%s|%s|%s|%s\n' "$c" "$rc" "$wall" "${rss:-0}" "${ing:--}" \
			    "${cpu:--}" "${timing:--}" >>"$sfdir/rows"
			echo "bench: $name: exit $rc, ${wall} ms, ingest ${ing:-?} ms"
			if [ "$rc" != 0 ]; then
				echo "bench: $name exited $rc; its stderr ends with:" >&2
				grep -v '^accord: timing:' "$sfdir/err" | tail -n 5 >&2
			fi
		done
	done
	kill "$sf_pid" 2>/dev/null
	wait "$sf_pid" 2>/dev/null
	sf_pid=""

	echo
	echo "accord bench: ingest from the Snowflake SQL API emulator, $sfgrants role grants" \
	    "($sfroles roles, $sfusers users), best of two runs"
	printf '%-12s %4s %9s %10s %10s %10s %10s  %s\n' concurrency exit "wall ms" "maxrss MB" \
	    "cpu ms" "ingest ms" "grants/s" "accord -v timing"
	for c in 1 8; do
		awk -F'|' -v c="$c" -v g="$sfgrants" '
		$1 == c && $5 ~ /^[0-9]+$/ && (best == "" || $5 + 0 < best + 0) { best = $5; line = $0 }
		$1 == c && fallback == "" { fallback = $0 }
		END {
			if (line == "") line = fallback
			if (split(line, f, "|") < 7) exit
			rate = (f[5] ~ /^[0-9]+$/ && f[5] > 0) ? sprintf("%.0f", g * 1000 / f[5]) : "-"
			printf "%-12s %4s %9s %10.1f %10s %10s %10s  %s\n", f[1], f[2], f[3], f[4] / 1024, f[6], f[5], rate, f[7]
		}' "$sfdir/rows"
	done
	echo "(cpu ms: accord's own user + system time; the rest of the wall time is the emulator, one Python process)"
}
sf_bench || echo "bench: snowflake ingest stage failed" >&2

# --- shared by the Databricks and SCIM stages --------------------------------
# proc_cpu PID: the process's user + system CPU so far, in ms ("" if gone).
proc_cpu() {
	[ -r "/proc/$1/stat" ] || return 0
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" '{ printf "%d\n", ($12 + $13) * 1000 / hz }'
}

# wait_port PORT-FILE PID OUTPUT SECONDS: wait for a server's port file.
wait_port() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		if [ $i -gt $(($4 * 10)) ] || ! kill -0 "$2" 2>/dev/null; then
			tail -n 5 "$3" >&2
			return 1
		fi
		sleep 0.1
	done
}

# measure LOG EMULATOR-PID ACCORD-ARGS...: one `accord -v` run under
# /usr/bin/time (and a 300 s limit), with the requests the emulator logged
# and the CPU it used meanwhile.  Sets m_rc, m_wall, m_rss (kB), m_cpu
# (accord's user + system ms), m_ecpu (the emulator's), m_req, m_ing
# (ingest ms of the timing line), m_apply, m_timing; the output is in
# $tmp/m.out, stderr in $tmp/m.err, the new log lines in $tmp/m.log.
measure() {
	m_logf=$1
	m_epid=$2
	shift 2
	m_l0=$(wc -l <"$m_logf" 2>/dev/null || echo 0)
	m_e0=$(proc_cpu "$m_epid")
	t0=$(ms)
	timeout 300 /usr/bin/time -v -o "$tmp/m.time" "$ACCORD" -v "$@" \
	    >"$tmp/m.out" 2>"$tmp/m.err"
	m_rc=$?
	m_wall=$(($(ms) - t0))
	m_e1=$(proc_cpu "$m_epid")
	m_ecpu=-
	[ -n "$m_e0" ] && [ -n "$m_e1" ] && m_ecpu=$((m_e1 - m_e0))
	tail -n +$((m_l0 + 1)) "$m_logf" >"$tmp/m.log" 2>/dev/null
	m_req=$(wc -l <"$tmp/m.log")
	m_rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/m.time" 2>/dev/null)
	m_rss=${m_rss:-0}
	m_cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%d", s * 1000 }' \
	    "$tmp/m.time" 2>/dev/null)
	m_timing=$(sed -n 's/^accord: timing: //p' "$tmp/m.err" | tail -n 1)
	m_ing=$(printf '%s\n' "$m_timing" | sed -n 's/.*ingest=\([0-9]*\)ms.*/\1/p')
	m_apply=$(printf '%s\n' "$m_timing" | sed -n 's/.*apply=\([0-9]*\)ms.*/\1/p')
	[ "$m_rc" = 124 ] && echo "bench: accord was stopped after 300 s" >&2
	case $m_rc in
	0 | 2) ;;
	*)
		echo "bench: accord exited $m_rc; its stderr ends with:" >&2
		grep -v '^accord: timing:' "$tmp/m.err" | tail -n 5 >&2 ;;
	esac
}

# probe_ms URL TOKEN [SECONDS]: the ms one authorized GET takes, at most
# SECONDS (default 120) and then that many ms; fails on an error answer.
probe_ms() {
	python3 -c '
import socket, sys, time, urllib.request
rq = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
limit = float(sys.argv[3])
t = time.time()
try:
    urllib.request.urlopen(rq, timeout=limit).read()
except (socket.timeout, TimeoutError):
    print(int(limit * 1000))
    sys.exit(0)
except Exception as e:
    if "timed out" in str(e):
        print(int(limit * 1000))
        sys.exit(0)
    sys.stderr.write("bench: probe %s: %s\n" % (sys.argv[1], e))
    sys.exit(1)
print(int((time.time() - t) * 1000))
' "$1" "$2" "${3:-120}"
}

# git_init DIR: a repository holding accord.yaml ($2) and no requests.
git_init() {
	git init -q -b main "$1" || return 1
	mkdir -p "$1/policies"
	printf '%s\n' "$2" >"$1/accord.yaml"
	printf 'rules: []\n' >"$1/policies/none.yaml"
	git -C "$1" add -A
	GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com \
	    git -C "$1" commit -q -m config
}

# best ROWS CONCURRENCY: the row of that concurrency with the lowest
# ingest ms (rows: c|rc|wall|rss|cpu|ecpu|req|ing|timing).
best() {
	awk -F'|' -v c="$2" '
	$1 == c && $8 ~ /^[0-9]+$/ && (b == "" || $8 + 0 < b + 0) { b = $8; line = $0 }
	$1 == c && fb == "" { fb = $0 }
	END { print (line != "" ? line : fb) }' "$1"
}

# --- Databricks workspace emulator: ingest and apply batching ------------------
# The seed (gendbx.py seed): 10000 users userNNNNN@example.com, groups
# analysts_001..200 holding 50000 memberships (250 each, every user in
# five), tables main.bench.t_0001..1000 with two SELECT grants each (to
# users), and for the apply stage empty groups loaders_01..20 and tables
# main.apply.t_0001..0500.  SCIM pages of 100 (the emulator's default
# cap).  Ingest: managed analysts_* and main.bench.*, every user
# protected, so the plan is empty.  Apply: one merge holding 2000
# requests (one a user) for membership of loaders_NN, 500 of them also
# for SELECT on a main.apply table: 2500 grants, sent as one SCIM PATCH
# per group and one permissions PATCH per table.
dbx_stop() {
	[ -n "$dbx_pid" ] || return 0
	kill "$dbx_pid" 2>/dev/null
	wait "$dbx_pid" 2>/dev/null
	dbx_pid=""
}

dbx_bench() {
	emu=${BENCH_DBX_EMULATOR:-$TOP/tests/emulators/databricks.py}
	if [ ! -f "$emu" ]; then
		echo "bench: databricks: no emulator at $emu; skipped"
		return 0
	fi
	dd=$tmp/dbx
	mkdir -p "$dd" || return 1
	python3 "$TOP/tests/bench/gendbx.py" seed "$dd/seed.json" >"$dd/seed.out" ||
	    { echo "bench: databricks: gendbx.py seed failed" >&2; return 1; }
	DATABRICKS_TOKEN=dapi$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	export DATABRICKS_TOKEN
	t0=$(ms)
	/usr/bin/python3 "$emu" --port-file "$dd/port" --token "$DATABRICKS_TOKEN" \
	    --parent-pid $$ --seed "$dd/seed.json" --log "$dd/log.jsonl" \
	    >"$dd/emulator.out" 2>&1 &
	dbx_pid=$!
	wait_port "$dd/port" "$dbx_pid" "$dd/emulator.out" 120 ||
	    { echo "bench: databricks: the emulator did not start" >&2; dbx_stop; return 1; }
	dburl=http://127.0.0.1:$(cat "$dd/port")
	echo "bench: databricks emulator up in $(($(ms) - t0)) ms:" \
	    "$(sed -n 's/.*listening on [^ ]* (\(.*\))$/\1/p' "$dd/emulator.out")"
	# One page of users, the last: a run reads ~100 of them, then the
	# groups and 1000 permissions; an emulator that renders every user
	# per page would make this stage run for hours.
	p=$(probe_ms "$dburl/api/2.0/preview/scim/v2/Users?startIndex=9901&count=100&attributes=id,userName" \
	    "$DATABRICKS_TOKEN" 5) || { echo "bench: databricks: the emulator does not answer" >&2; dbx_stop; return 1; }
	echo "bench: databricks: one SCIM page of 100 users takes $p ms"
	if [ "$p" -ge 2000 ]; then
		echo "bench: databricks: the emulator takes ${p}+ ms per SCIM page at this size" \
		    "(~100 pages a run): it renders every user for each page, finding each" \
		    "one's groups by scanning every group's members; stage skipped"
		dbx_stop
		return 0
	fi
	nusers=$(sed -n 's/.*users=\([0-9]*\).*/\1/p' "$dd/seed.out")
	nmem=$(sed -n 's/.*memberships=\([0-9]*\).*/\1/p' "$dd/seed.out")
	ngrants=$(sed -n 's/.*grants=\([0-9]*\).*/\1/p' "$dd/seed.out")
	ntables=1000
	for c in 1 8; do
		git_init "$dd/repo$c" "version: 1
branch: main
platforms:
  lake:
    type: databricks
    url: $dburl
    token_env: DATABRICKS_TOKEN
    page_size: 100
    managed: [\"group:analysts_*\", \"table:main.bench.*\"]
    protected_accounts: [\"*@example.com\"]
    drift: report
    accounts: {match: email}
    timeout: 120s
    concurrency: $c" || return 1
	done
	: >"$dd/rows"
	for run in 1 2; do
		for c in 1 8; do
			measure "$dd/log.jsonl" "$dbx_pid" -C "$dd/repo$c" --state "$dd/state$c.db" plan
			printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$c" "$m_rc" "$m_wall" "$m_rss" \
			    "${m_cpu:--}" "$m_ecpu" "$m_req" "${m_ing:--}" "${m_timing:--}" >>"$dd/rows"
			echo "bench: databricks c=$c #$run: exit $m_rc, ${m_wall} ms, ingest" \
			    "${m_ing:-?} ms, $m_req requests, $(wc -l <"$tmp/m.out") lines of plan"
		done
	done

	echo
	echo "accord bench: ingest from the Databricks workspace emulator, $nusers users," \
	    "$nmem memberships (200 groups), $ntables tables with $ngrants grants; best of two runs"
	printf '%-11s %4s %8s %9s %7s %8s %8s %9s %10s %12s  %s\n' concurrency exit "wall ms" \
	    "maxrss MB" "cpu ms" "emu cpu" requests "ingest ms" "members/s" "securables/s" \
	    "accord -v timing"
	for c in 1 8; do
		best "$dd/rows" "$c" | awk -F'|' -v m="$nmem" -v t="$ntables" '
		NF >= 9 {
			r1 = r2 = "-"
			if ($8 ~ /^[0-9]+$/ && $8 > 0) {
				r1 = sprintf("%.0f", m * 1000 / $8)
				r2 = sprintf("%.0f", t * 1000 / $8)
			}
			printf "%-11s %4s %8s %9.1f %7s %8s %8s %9s %10s %12s  %s\n", $1, $2, $3,
			    $4 / 1024, $5, $6, $7, $8, r1, r2, $9
		}'
	done
	echo "(cpu ms: accord's user + system time; emu cpu: the emulator's over the same run," \
	    "one Python process)"

	# Apply batching.
	NOWDBX=$(python3 "$TOP/tests/bench/gendbx.py" applyrepo "$dd/apply" --url "$dburl" \
	    --concurrency 8) || { echo "bench: databricks: gendbx.py applyrepo failed" >&2; return 1; }
	NOWDBX=${NOWDBX#now=}
	measure "$dd/log.jsonl" "$dbx_pid" -C "$dd/apply" --state "$dd/apply.db" --now "$NOWDBX" \
	    --json apply
	a_rc=$m_rc a_wall=$m_wall a_rss=$m_rss a_cpu=$m_cpu a_ecpu=$m_ecpu a_req=$m_req
	a_ing=$m_ing a_apply=$m_apply a_timing=$m_timing
	# PATCHes the emulator logged (SCIM, UC, and how many failed), the
	# changes accord reports done, and what the emulator now holds.
	patches=$(python3 -c '
import json, sys
scim = uc = bad = 0
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("method") != "PATCH":
        continue
    p = e.get("path") or ""
    if "/scim/" in p:
        scim += 1
    elif "/unity-catalog/" in p:
        uc += 1
    if not 200 <= (e.get("status") or 0) < 300:
        bad += 1
print(scim, uc, bad)
' "$tmp/m.log")
	done_n=$(python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("-")
    sys.exit(0)
print(sum(1 for c in d.get("changes") or [] if c.get("outcome") == "done"))
' "$tmp/m.out")
	held=$(python3 -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/state", timeout=60) as r:
    d = json.load(r)
m = sum(len(g["members"]) for g in d["groups"] if g["displayName"].startswith("loaders_"))
s = sum(1 for g in d["grants"] if g["full_name"].startswith("main.apply.") and "SELECT" in g["privileges"])
print(m, s)
' "$dburl") || held="? ?"
	dbx_stop
	set -- $patches
	echo
	echo "accord bench: one Databricks apply of 2000 memberships (20 groups) and 500 table" \
	    "SELECTs, concurrency 8; the emulator now holds ${held% *} loaders_* memberships" \
	    "and ${held#* } main.apply SELECT grants"
	printf '%4s %8s %9s %7s %8s %9s %8s %10s %8s %6s %7s %9s\n' exit "wall ms" "maxrss MB" \
	    "cpu ms" "emu cpu" "ingest ms" "apply ms" "SCIM PATCH" "UC PATCH" "failed" "changes" \
	    "changes/s"
	awk -v rc="$a_rc" -v w="$a_wall" -v rss="$a_rss" -v cpu="${a_cpu:--}" -v e="$a_ecpu" \
	    -v i="${a_ing:--}" -v a="${a_apply:--}" -v s="${1:--}" -v u="${2:--}" -v b="${3:--}" \
	    -v n="$done_n" 'BEGIN {
		r = (n ~ /^[0-9]+$/ && a ~ /^[0-9]+$/ && a > 0) ? sprintf("%.0f", n * 1000 / a) : "-"
		printf "%4s %8s %9.1f %7s %8s %9s %8s %10s %8s %6s %7s %9s\n", rc, w, rss / 1024, cpu, e,
		    i, a, s, u, b, n, r
	}'
	echo "(changes: grants accord reports done; changes/s over the apply phase of the -v" \
	    "timing line; $a_req requests in all)"
	echo "accord -v timing: ${a_timing:--}"
}
dbx_bench || echo "bench: databricks stage failed" >&2

# --- scimmy SCIM 2.0 server: ingest ---------------------------------------------
# 5000 users (BENCH_SCIM_USERS), groups analysts_01..50 holding as many
# memberships, pages of 100; managed analysts_*, every user protected:
# the plan is empty.  One run, and only when a page of users (timed once
# the server is warm) says the run takes under 60 s, else at 2000 users:
# scimmy builds every resource for each page, so a page costs time in
# proportion to the users held and the run grows with their square
# (5000 users: ~70 s on 2 cores, nearly all of it the server's CPU).
# Node and the server's npm packages are needed (installed as scim_start
# in tests/lib/scim.sh does); without node the stage is skipped.
scim_bench() {
	sdir=$TOP/tests/emulators/scimmy
	if [ "${BENCH_NO_SCIM:-0}" = 1 ]; then
		echo "bench: scim: BENCH_NO_SCIM=1; skipped"
		return 0
	fi
	if [ ! -f "$sdir/server.js" ]; then
		echo "bench: scim: no server at $sdir/server.js; skipped"
		return 0
	fi
	if ! command -v node >/dev/null 2>&1; then
		echo "bench: scim: node is not installed; skipped"
		return 0
	fi
	sd=$tmp/scim
	mkdir -p "$sd" || return 1
	if [ ! -f "$sdir/node_modules/scimmy/package.json" ] ||
	    [ ! -f "$sdir/node_modules/scimmy-routers/package.json" ] ||
	    [ ! -f "$sdir/node_modules/express/package.json" ]; then
		if ! command -v npm >/dev/null 2>&1; then
			echo "bench: scim: npm is not installed (the server's packages are missing); skipped"
			return 0
		fi
		echo "bench: scim: installing the server's npm packages"
		(cd "$sdir" && npm install --no-audit --no-fund --no-package-lock) \
		    >"$sd/npm.out" 2>&1 || {
			tail -n 5 "$sd/npm.out" >&2
			echo "bench: scim: npm install failed; skipped"
			return 0
		}
	fi
	SCIM_TOKEN=scim-bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	export SCIM_TOKEN
	want=${BENCH_SCIM_USERS:-5000}
	sizes=$want
	[ "$want" -gt 2000 ] && sizes="$want 2000"
	note=""
	for susers in $sizes; do
		python3 "$TOP/tests/bench/gendbx.py" scimseed "$sd/seed.json" --users "$susers" \
		    --groups 50 --members "$susers" >"$sd/seed.out" ||
		    { echo "bench: scim: gendbx.py scimseed failed" >&2; return 1; }
		t0=$(ms)
		rm -f "$sd/port"
		node "$sdir/server.js" --port-file "$sd/port" --parent-pid $$ --seed "$sd/seed.json" \
		    --log "$sd/log.jsonl" --token "$SCIM_TOKEN" >"$sd/server.out" 2>&1 &
		scim_pid=$!
		wait_port "$sd/port" "$scim_pid" "$sd/server.out" 60 ||
		    { echo "bench: scim: the server did not start" >&2; return 1; }
		surl=http://127.0.0.1:$(cat "$sd/port")/scim/v2
		echo "bench: scim server up in $(($(ms) - t0)) ms: $(cat "$sd/seed.out")"
		# The second of two pages as accord asks for them, once warm;
		# runs have taken 1.3-1.5 times pages x that.
		for i in 1 2; do
			p=$(probe_ms "$surl/Users?startIndex=1&count=100&attributes=id,userName,displayName,emails,active" \
			    "$SCIM_TOKEN") || { echo "bench: scim: the server does not answer" >&2; return 1; }
		done
		pages=$(((susers + 99) / 100))
		est=$((p * (pages + 1) * 13 / 10000))
		echo "bench: scim: one page of 100 users takes $p ms; a run reads $pages, ~$est s"
		[ "$est" -le 60 ] && break
		kill "$scim_pid" 2>/dev/null
		wait "$scim_pid" 2>/dev/null
		scim_pid=""
		note="$susers users: ~$est s a run estimated ($p ms a page), over the 60 s budget"
		echo "bench: scim: $note; not run"
	done
	if [ -z "$scim_pid" ]; then
		echo "bench: scim: every size over budget; stage skipped"
		return 0
	fi
	git_init "$sd/repo" "version: 1
branch: main
platforms:
  idp:
    type: scim
    url: $surl
    token_env: SCIM_TOKEN
    page_size: 100
    managed: [\"group:analysts_*\"]
    protected_accounts: [\"*@example.com\"]
    drift: report
    accounts: {match: email}
    timeout: 120s" || return 1
	: >"$sd/rows"
	for run in 1; do
		measure "$sd/log.jsonl" "$scim_pid" -C "$sd/repo" --state "$sd/state.db" plan
		printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' 1 "$m_rc" "$m_wall" "$m_rss" "${m_cpu:--}" \
		    "$m_ecpu" "$m_req" "${m_ing:--}" "${m_timing:--}" >>"$sd/rows"
		echo "bench: scim #$run: exit $m_rc, ${m_wall} ms, ingest ${m_ing:-?} ms, $m_req requests"
	done
	kill "$scim_pid" 2>/dev/null
	wait "$scim_pid" 2>/dev/null
	scim_pid=""
	echo
	echo "accord bench: ingest from the scimmy SCIM server, $susers users, 50 groups holding" \
	    "$susers memberships, pages of 100; one run${note:+ ($note)}"
	printf '%4s %8s %9s %7s %8s %8s %9s %9s  %s\n' exit "wall ms" "maxrss MB" "cpu ms" \
	    "srv cpu" requests "ingest ms" "users/s" "accord -v timing"
	best "$sd/rows" 1 | awk -F'|' -v u="$susers" 'NF >= 9 {
		r = ($8 ~ /^[0-9]+$/ && $8 > 0) ? sprintf("%.0f", u * 1000 / $8) : "-"
		printf "%4s %8s %9.1f %7s %8s %8s %9s %9s  %s\n", $2, $3, $4 / 1024, $5, $6, $7, $8, r, $9
	}'
	echo "(srv cpu: the node server's CPU over the run)"
}
scim_bench || echo "bench: scim stage failed" >&2
sh "$TOP/tests/bench/answers.sh" "$ACCORD" || echo "bench: answers stage failed" >&2
