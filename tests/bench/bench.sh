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
# ingest time of the -v timing line (best of two runs each).  Numbers are
# printed, never asserted.
#
# usage: sh tests/bench/bench.sh BINARY [FILES]      (make bench)
# env:   BENCH_COMMITS (default 5000), BENCH_MATCH (email-local | map),
#        BENCH_REPACK=1 (repack the repository before measuring),
#        BENCH_KEEP=1 (keep the work directory)

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
cleanup() {
	[ "$pg_started" = 1 ] && pg_stop "$pgdir" >/dev/null 2>&1
	if [ -n "$sf_pid" ]; then
		kill "$sf_pid" 2>/dev/null
		wait "$sf_pid" 2>/dev/null
	fi
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
