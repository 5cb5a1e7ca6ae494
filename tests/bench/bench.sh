#!/bin/sh
# accord benchmark: a synthetic access repository (genrepo.py: N request
# files, default 10000, in ~300 folders over ~5000 commits with merges)
# against a throwaway PostgreSQL cluster holding the 1000 login roles, 50
# analyst roles and 200 sales tables it names.  Measures cold validate,
# cold plan, warm plan, plan after one merge that changes 10 files, cold
# apply of every grant and a second apply with nothing to do; prints wall
# time, peak memory (/usr/bin/time -v) and accord's own -v timing line per
# stage.  Numbers are printed, never asserted.
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
cleanup() {
	[ "$pg_started" = 1 ] && pg_stop "$pgdir" >/dev/null 2>&1
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
