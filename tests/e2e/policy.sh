#!/bin/sh
# Policy decisions on real histories: self-approval does not count (by
# merge or by trailer), a matching deny rule wins over an allow rule before
# it, a target no rule names is denied by default, max_duration caps a
# long request, and a squash commit is approved by its Approved-by
# trailer.  Denials are audited once per request version.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

SELF=requests/alice/self.yaml
ADMIN=requests/bob/admin.yaml
INVOICES=requests/carol/invoices.yaml
LONG=requests/dave/long.yaml
SQUASH=requests/bob/customers.yaml
SELFSQ=requests/carol/orders.yaml

# Alice merges her own pull request.
ar_pr self $SELF 'requester: alice@example.com
reason: merged it myself
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Alice alice@example.com 2026-03-01T10:00:00Z
# Allowed by "role:analyst_*", denied by "role:*admin*" (listed after it).
ar_pr admin $ADMIN 'requester: bob@example.com
reason: administer the analysts
duration: 7d
grants:
  - platform: warehouse
    target: role:analyst_admin' Carol carol@example.com 2026-03-01T11:00:00Z
# Managed, but no rule names sales.invoices.
ar_pr invoices $INVOICES 'requester: carol@example.com
reason: invoices audit
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.invoices
    privilege: SELECT' Bob bob@example.com 2026-03-01T12:00:00Z
LONG_AT=2026-03-01T13:00:00Z
ar_pr long $LONG 'requester: dave@example.com
reason: a whole year please
duration: 365d
grants:
  - platform: warehouse
    target: role:analyst_sales' Carol carol@example.com $LONG_AT
# Squash merges: the trailer approves; a requester's own trailer does not.
SQUASH_AT=2026-03-01T14:00:00Z
ar_squash $SQUASH 'requester: bob@example.com
reason: customer list
duration: 10d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT' $SQUASH_AT "Approved-by: Carol <carol@example.com>"
SQUASH_SHA=$(ar_head)
ar_squash $SELFSQ 'requester: carol@example.com
reason: approving my own trailer
duration: 10d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' 2026-03-01T15:00:00Z "Approved-by: Carol <carol@example.com>"

NOW=2026-03-02T00:00:00Z
exit_is 0 "plan" acc --now $NOW plan
like "$OUT" "pending" "plan: lists requests pending approval"
like "$OUT" "$SELF" "plan: the self-approved request is pending"
exit_is 0 "plan --json" acc --now $NOW --json plan
is "$(ojv "[(p['request'], p['needed']) for p in d.get('pending', []) if p['request'] == '$SELF']")" "[[\"$SELF\", 1]]" \
    "plan: pending, one approval needed"
is "$(ojv 'len(sel(d["changes"], person="alice@example.com"))')" 0 "plan: nothing for a self-approved request"
is "$(ojv 'len(sel(d["changes"], action="grant", target="role:analyst_admin"))')" 0 "plan: no grant of a denied role"
is "$(ojv 'len(sel(d["changes"], action="grant", target="table:sales.invoices"))')" 0 "plan: no grant of an unmatched target"
is "$(ojv 'len(sel(d["changes"], person="carol@example.com"))')" 0 "plan: nothing for a self-trailer squash"
is "$(ojv 'sorted((c["person"], c["target"]) for c in d["changes"])')" \
    '[["bob@example.com", "table:sales.customers"], ["dave@example.com", "role:analyst_sales"]]' \
    "plan: exactly the two approved, allowed grants"

exit_is 0 "apply exits 0 (denials are not failures)" acc --now $NOW --json apply
is "$(pg_select alice sales.orders)" f "PostgreSQL: self-approval granted nothing"
is "$(pg_member bob analyst_admin)" f "PostgreSQL: deny rule won"
is "$(pg_select carol sales.invoices)" f "PostgreSQL: default deny"
is "$(pg_select carol sales.orders)" f "PostgreSQL: own trailer granted nothing"
is "$(pg_member dave analyst_sales)" t "PostgreSQL: dave's capped request granted"
is "$(pg_select bob sales.customers)" t "PostgreSQL: squash with Approved-by granted"

CAP=$(t_add $LONG_AT $((90 * 86400)))
is "$(ojv 'sel(d["changes"], person="dave@example.com")[0]["expires_at"]')" "$CAP" "max_duration: expires_at = approved_at + 90d"
is "$(ojv 'sel(d["changes"], person="bob@example.com")[0]["approvers"]')" '["carol@example.com"]' "squash: the trailer is the approver"

audit_json
is "$(aud 'sel(d["rows"], action="grant", person="dave@example.com")[0]["expires_at"]')" "$CAP" "audit: capped expires_at"
is "$(aud 'sel(d["rows"], action="grant", person="bob@example.com")[0]["commit_sha"]')" "$SQUASH_SHA" "audit: squash commit is the approval commit"
is "$(aud 'sel(d["rows"], action="grant", person="bob@example.com")[0]["approvers"]')" carol@example.com "audit: squash approver"
is "$(aud 'len(sel(d["rows"], action="denied", target="role:analyst_admin"))')" 1 "audit: one denied row for the admin role"
is "$(aud 'sel(d["rows"], action="denied", target="role:analyst_admin")[0]["request"]')" $ADMIN "audit: denied row names the request"
is "$(aud 'len(sel(d["rows"], action="denied", target="table:sales.invoices"))')" 1 "audit: one denied row for the unmatched target"
is "$(aud 'len(sel(d["rows"], action="grant"))')" 2 "audit: two grant rows"

NOW2=2026-03-02T06:00:00Z
exit_is 0 "second apply" acc --now $NOW2 --json apply
is "$(ojv 'd["changes"]')" "[]" "second apply: no changes"
audit_json --action denied
is "$(aud 'len(sel(d["rows"], target="role:analyst_admin"))')" 1 "audit: denied recorded once per blob, not per run"
is "$(aud 'len(sel(d["rows"], target="table:sales.invoices"))')" 1 "audit: default deny recorded once"
is "$(pg_member bob analyst_admin)" f "PostgreSQL: still denied"

exit_is 1 "validate exits 1 when a request is denied" acc validate
like "$OUT$ERR" "$ADMIN" "validate names the denied request"

# The same request approved by someone else is granted, with only Bob
# counted.
ar_pr self-approved $SELF 'requester: alice@example.com
reason: merged it myself, now reviewed
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-02T08:00:00Z
exit_is 0 "apply after Bob approves" acc --now 2026-03-02T09:00:00Z --json apply
is "$(ojv 'sel(d["changes"], person="alice@example.com")[0]["approvers"]')" '["bob@example.com"]' \
    "approvers: Bob, never the requester"
is "$(pg_select alice sales.orders)" t "PostgreSQL: granted once approved"

done_testing
