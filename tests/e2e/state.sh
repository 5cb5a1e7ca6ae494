#!/bin/sh
# The state database: a crash between a platform call and its outcome is
# recovered by the next run (the grant is accord's, not drift); the run
# lock makes a second run exit 4 naming the holder; the audit filters
# select what they say; and the hash chain catches an edit made behind
# the triggers' back.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

REQ=requests/alice/orders.yaml
ar_pr orders $REQ 'requester: alice@example.com
reason: orders
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T10:00:00Z

# --- crash between intent and outcome --------------------------------------------
NOW=2026-03-02T00:00:00Z
ACCORD_TEST_CRASH=after-call
export ACCORD_TEST_CRASH
exit_is 70 "apply crashes after the platform call" acc --now $NOW apply
unset ACCORD_TEST_CRASH
is "$(pg_select alice sales.orders)" t "PostgreSQL: the call was made"

exit_is 0 "the next apply recovers" acc --now 2026-03-02T01:00:00Z --json apply
is "$(ojv 'len(sel(d["changes"], action="revoke"))')" 0 "recovery revokes nothing"
is "$(pg_select alice sales.orders)" t "PostgreSQL: the grant stays"
audit_json
is "$(aud 'len([r for r in d["rows"] if "recovered" in (r["detail"] or "")])')" 1 "audit: one row says recovered"
is "$(aud '[(r["action"], r["account"], r["target"]) for r in d["rows"] if "recovered" in (r["detail"] or "")]')" \
    '[["grant", "alice", "table:sales.orders"]]' "audit: the recovered row is alice's grant"
is "$(aud '[r["at"] for r in d["rows"] if "recovered" in (r["detail"] or "")]')" '["2026-03-02T00:00:00Z"]' \
    "audit: the recovered grant is dated when the interrupted run made it"
exit_is 0 "history between the crash and the recovery" acc --json history alice@example.com --at 2026-03-02T00:30:00Z
is "$(ojv '[(g["target"], g["from"]) for g in d["grants"]]')" '[["table:sales.orders", "2026-03-02T00:00:00Z"]]' \
    "history: alice held it from the interrupted run on"
exit_is 0 "apply after recovery" acc --now 2026-03-02T02:00:00Z --json apply
is "$(ojv 'd["changes"]')" "[]" "nothing left to do"

# accord owns the recovered grant: withdrawing the request revokes it as
# "withdrawn", not as drift.
ar_rm 2026-03-03T10:00:00Z $REQ
exit_is 0 "apply after withdrawal" acc --now 2026-03-03T12:00:00Z --json apply
is "$(ojv '[(c["action"], c["reason"], c["account"]) for c in d["changes"]]')" '[["revoke", "withdrawn", "alice"]]' \
    "the recovered grant is withdrawn as accord's"
is "$(pg_select alice sales.orders)" f "PostgreSQL: revoked"

exit_is 0 "audit verify after the crash" acc audit verify
like "$OUT" "intact" "audit verify: intact"

# --- the run lock -----------------------------------------------------------------
ar_pr carol requests/carol/analysts.yaml 'requester: carol@example.com
reason: analysts
duration: 30d
grants:
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com 2026-03-04T10:00:00Z
"$ACCORD" -C "$AR" --state "$STATE" --now 2026-03-04T12:00:00Z run --every 1h \
    >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
t_bg $BG
i=0
while [ $i -lt 100 ] && ! grep -q "pid" "$STATE.lock" 2>/dev/null; do
	kill -0 $BG 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
like "$(cat "$STATE.lock" 2>/dev/null)" "pid $BG" "the lock file names the running process"
exit_is 4 "apply while run --every holds the lock exits 4" acc --now 2026-03-04T12:00:00Z apply
like "$ERR" "$BG" "stderr names the holder's pid"
exit_is 4 "apply --json while locked exits 4" acc --now 2026-03-04T12:00:00Z --json apply
kill $BG 2>/dev/null
wait $BG 2>/dev/null
T_CMD="run --every 1h (background)"
t_sanitizer "$T/bg.err"
is "$(pg_member carol analyst_sales)" t "PostgreSQL: the background run applied carol's request"
exit_is 0 "apply once the holder is gone" acc --now 2026-03-04T13:00:00Z apply

# --- audit filters ------------------------------------------------------------------
audit_json
ALL=$(aud 'len(d["rows"])')
audit_json --person alice@example.com
is "$(aud 'len(d["rows"]) > 0 and all(r["person"] == "alice@example.com" for r in d["rows"])')" true "--person: only alice's rows"
is "$(aud 'sorted(set(r["action"] for r in d["rows"]))')" '["grant", "revoke"]' "--person: alice's grant and revoke"
audit_json --platform warehouse
is "$(aud 'len(d["rows"]) > 0 and all(r["platform"] == "warehouse" for r in d["rows"])')" true "--platform: only warehouse rows"
audit_json --action grant
is "$(aud '[(r["action"], r["person"]) for r in d["rows"]]')" \
    '[["grant", "alice@example.com"], ["grant", "carol@example.com"]]' "--action grant: the two grants"
audit_json --action revoke --person carol@example.com
is "$(aud 'd["rows"]')" "[]" "--action and --person combine"
audit_json --target 'role:*'
is "$(aud '[r["target"] for r in d["rows"]]')" '["role:analyst_sales"]' "--target glob"
audit_json --since 2026-03-03T00:00:00Z --action grant
is "$(aud '[r["person"] for r in d["rows"]]')" '["carol@example.com"]' "--since"
audit_json --until 2026-03-03T00:00:00Z --action grant
is "$(aud '[r["person"] for r in d["rows"]]')" '["alice@example.com"]' "--until"

exit_is 0 "audit --format csv" acc audit --format csv
is "$(printf '%s\n' "$OUT" | head -n 1)" \
    "seq,at,run,action,platform,account,person,target,privilege,request,commit_sha,approvers,expires_at,reason,detail,prev_hash,hash" \
    "csv header: the 17 columns"
is "$(printf '%s\n' "$OUT" | "$PY" -c 'import csv,sys; print(sum(1 for _ in csv.reader(sys.stdin)) - 1)')" "$ALL" \
    "csv: one record per row"
exit_is 0 "audit (table)" acc audit
like "$OUT" "table:sales\.orders" "table output shows the rows"

# --- tampering ------------------------------------------------------------------------
run sqlite3 "$STATE" "UPDATE audit SET person='x' WHERE seq=2"
isnt "$RC" 0 "UPDATE on audit is rejected by a trigger"
run sqlite3 "$STATE" "DELETE FROM audit WHERE seq=2"
isnt "$RC" 0 "DELETE on audit is rejected by a trigger"
exit_is 0 "audit verify: still intact" acc audit verify

TRIGGERS=$(sqlite3 "$STATE" "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit'")
isnt "$TRIGGERS" "" "the audit table has triggers"
DROP=""
for tr in $TRIGGERS; do DROP="$DROP DROP TRIGGER \"$tr\";"; done
exit_is 0 "an attacker drops the triggers and edits row 2" \
    sqlite3 "$STATE" "$DROP UPDATE audit SET person='x' WHERE seq=2"
exit_is 1 "audit verify detects the edit" acc audit verify
like "$OUT$ERR" "(seq|row)[^0-9]*2([^0-9]|$)" "audit verify names row 2"

done_testing
