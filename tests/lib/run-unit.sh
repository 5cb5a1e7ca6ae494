#!/bin/sh
# Run every unit test program and fuzz corpus replay; sum their
# "N passed, N failed" lines into one.
B=$1; shift
export LC_ALL=C TZ=UTC
pass=0; fail=0; bad=""
run() {
	name=$1; shift
	out=$("$@" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 20
		echo "FAIL $name: no result line (exit $rc)"; fail=$((fail + 1)); bad="$bad $name"; return
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" != 0 ] || [ $rc != 0 ]; then
		printf '%s\n' "$out" | grep -E '^(not ok|#)' | head -n 40
		echo "FAIL $name: $line (exit $rc)"; bad="$bad $name"
		[ "$f" = 0 ] && fail=$((fail + 1))
	else
		echo "ok   $name: $line"
	fi
}
fuzz=0
for t in "$@"; do
	if [ "$t" = "--" ]; then fuzz=1; continue; fi
	if [ $fuzz = 1 ]; then
		n=$(basename "$t")
		run "fuzz/$n" "$t" tests/fuzz/corpus/"$n"
	else
		tmp=$(mktemp -d /tmp/accord-unit.XXXXXX)
		TMPDIR=$tmp run "${t#$B/t/}" "$t"
		rm -rf "$tmp"
	fi
done
echo "unit:$bad"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
