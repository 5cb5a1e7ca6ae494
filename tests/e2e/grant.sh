#!/bin/sh
# Grant on merge: a pull request merged by Bob gives Alice SELECT on
# sales.orders and membership in analyst_sales, and a grant to a role
# (grantee) lands on that role.  plan changes nothing and says what
# apply would do; apply is idempotent; the audit rows name the approver,
# the merge commit and the request.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

APPROVED=2026-03-01T10:00:00Z
NOW=2026-03-02T09:00:00Z
REQ=requests/alice/q4.yaml
ar_pr q4 $REQ 'requester: alice@example.com
reason: Q4 revenue analysis
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com $APPROVED
Q4_MERGE=$(ar_head)
BRANCH_COMMIT=$(git -C "$AR" rev-parse "$Q4_MERGE^2")
ar_pr finance-app requests/carol/finance-app.yaml 'requester: carol@example.com
reason: nightly export job
duration: 14d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT
    grantee: role:finance_app' Bob bob@example.com $APPROVED
TIP=$(ar_head)
EXPIRES=$(t_add $APPROVED $((30 * 86400)))

# --- plan: says what apply would do, changes nothing ------------------------
exit_is 0 "plan exits 0" acc --now $NOW plan
like "$OUT" "$REQ" "human plan names the request path"
like "$OUT" "\[request\]" "human plan gives the change's reason"
like "$OUT" "sales\.orders" "human plan names the target"

exit_is 0 "plan -v" acc --now $NOW -v plan
like "$ERR" "^accord: timing: load=[0-9]+ms approvals=[0-9]+ms eval=[0-9]+ms ingest=[0-9]+ms plan=[0-9]+ms apply=[0-9]+ms total=[0-9]+ms maxrss=[0-9]+kB$" \
    "plan -v prints the timing line"

exit_is 2 "plan --detailed-exitcode exits 2 with changes pending" acc --now $NOW plan --detailed-exitcode

exit_is 0 "plan --json exits 0" acc --now $NOW --json plan
is "$(ojv 'd["commit"]')" "$TIP" "plan: commit is the branch tip"
is "$(ojv 'len(d["changes"])')" 3 "plan: three changes"
is "$(ojv 'len(sel(d["changes"], action="grant", reason="request"))')" 3 "plan: all are grants for a request"
is "$(ojv 'd["errors"]')" "[]" "plan: no errors"
is "$(ojv 'd["skipped"]')" "[]" "plan: nothing skipped"
is "$(ojv 'sel(d["changes"], target="table:sales.orders")[0]["account"]')" alice "plan: account for alice@example.com is alice"
is "$(ojv 'sel(d["changes"], target="role:analyst_sales")[0]["privilege"]')" member "plan: role target defaults to member"

is "$(pg_select alice sales.orders)" f "plan did not grant SELECT"
is "$(pg_member alice analyst_sales)" f "plan did not grant membership"
is "$(pg_select finance_app sales.customers)" f "plan did not grant to finance_app"
audit_json --action grant
is "$(aud 'len(d["rows"])')" 0 "plan wrote no grant audit row"

# --- apply ------------------------------------------------------------------
exit_is 0 "apply exits 0" acc --now $NOW --json apply
is "$(ojv 'd["commit"]')" "$TIP" "apply: commit"
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 3 "apply: three grants done"
is "$(ojv 'len(sel(d["changes"], outcome="failed"))')" 0 "apply: none failed"
C='sel(d["changes"], target="table:sales.orders")[0]'
is "$(ojv "${C}[\"account\"]")" alice "apply: account"
is "$(ojv "${C}[\"person\"]")" alice@example.com "apply: person"
is "$(ojv "${C}[\"privilege\"]")" SELECT "apply: privilege"
is "$(ojv "${C}[\"platform\"]")" warehouse "apply: platform"
is "$(ojv "${C}[\"request\"]")" $REQ "apply: request path"
is "$(ojv "${C}[\"approvers\"]")" '["bob@example.com"]' "apply: approvers"
is "$(ojv "${C}[\"expires_at\"]")" "$EXPIRES" "apply: expires_at = merge time + 30d"
is "$(ojv "${C}[\"error\"]")" null "apply: error is null"
is "$(ojv 'sel(d["changes"], target="table:sales.customers")[0]["account"]')" "role:finance_app" \
    "apply: a role grantee is spelled role:NAME"

# The truth is the database.
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice has SELECT on sales.orders"
is "$(pg_member alice analyst_sales)" t "PostgreSQL: alice is a member of analyst_sales"
is "$(pg_select finance_app sales.customers)" t "PostgreSQL: finance_app has SELECT on sales.customers"
is "$(pg_select alice sales.customers)" f "PostgreSQL: alice has nothing she did not ask for"
is "$(pg_select bob sales.orders)" f "PostgreSQL: the approver got nothing"
is "$(pg_member carol analyst_sales)" f "PostgreSQL: carol (grantee request) got nothing herself"

# --- audit ------------------------------------------------------------------
audit_json
R='sel(d["rows"], action="grant", target="table:sales.orders")'
is "$(aud "len($R)")" 1 "audit: one grant row for sales.orders"
is "$(aud "${R}[0]['approvers']")" bob@example.com "audit: approvers"
is "$(aud "${R}[0]['commit_sha']")" "$Q4_MERGE" "audit: commit_sha is the request's merge commit"
isnt "$(aud "${R}[0]['commit_sha']")" "$BRANCH_COMMIT" "audit: not the requester's commit"
is "$(aud "${R}[0]['request']")" $REQ "audit: request path"
is "$(aud "${R}[0]['person']")" alice@example.com "audit: person"
is "$(aud "${R}[0]['account']")" alice "audit: account"
is "$(aud "${R}[0]['privilege']")" SELECT "audit: privilege"
is "$(aud "${R}[0]['expires_at']")" "$EXPIRES" "audit: expires_at"
is "$(aud "${R}[0]['at']")" $NOW "audit: at is the run's clock"
R='sel(d["rows"], action="grant", target="role:analyst_sales")'
is "$(aud "${R}[0]['approvers'] + ' ' + ${R}[0]['commit_sha']")" "bob@example.com $Q4_MERGE" "audit: membership row too"
is "$(aud 'len(sel(d["rows"], action="grant"))')" 3 "audit: three grant rows"
is "$(aud 'len(sel(d["rows"], action="run_started")) >= 1 and len(sel(d["rows"], action="run_finished")) >= 1')" true \
    "audit: run_started and run_finished rows"
is "$(aud '[r["seq"] for r in d["rows"]] == sorted(r["seq"] for r in d["rows"])')" true "audit: rows in seq order"

# --- idempotence -------------------------------------------------------------
LATER=2026-03-03T09:00:00Z
exit_is 0 "plan --detailed-exitcode exits 0 once applied" acc --now $LATER plan --detailed-exitcode
exit_is 0 "second apply exits 0" acc --now $LATER --json apply
is "$(ojv 'd["changes"]')" "[]" "second apply changes nothing"
audit_json --action grant
is "$(aud 'len(d["rows"])')" 3 "second apply wrote no grant row"
is "$(pg_select alice sales.orders)" t "PostgreSQL: still granted"

exit_is 0 "audit verify" acc audit verify
like "$OUT" "intact" "audit verify says the chain is intact"

done_testing
