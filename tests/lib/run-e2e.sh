#!/bin/sh
# Run every end-to-end scenario (tests/e2e/*.sh), each in its own
# throwaway directory, and sum their result lines.
B=$1
export LC_ALL=C TZ=UTC
ACCORD=$(cd "$B" && pwd)/accord; export ACCORD
TOP=$(pwd); export TOP
pass=0; fail=0; bad=""
for t in ${E2E:-tests/e2e/*.sh}; do
	name=$(basename "$t" .sh)
	out=$(sh "$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 30
		echo "FAIL $name: no result line (exit $rc)"; fail=$((fail + 1)); bad="$bad $name"; continue
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" != 0 ] || [ $rc != 0 ]; then
		printf '%s\n' "$out" | grep -E -A12 '^not ok' | head -n 80
		echo "FAIL $name: $line (exit $rc)"; bad="$bad $name"
		[ "$f" = 0 ] && fail=$((fail + 1))
	else
		echo "ok   $name: $line"
	fi
done
echo "e2e:$bad"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
