#!/bin/sh
# A grant's life on the clock: granted at approval, still held one second
# before it expires, revoked ("expired") at expiry; withdrawn when a pull
# request deletes the request; a request that starts in the future is
# granted only from its start.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

ALICE=requests/alice/week.yaml
CAROL=requests/carol/analysts.yaml
DAVE=requests/dave/later.yaml

APPROVED=2026-03-01T10:00:00Z
EXPIRES=$(t_add $APPROVED $((7 * 86400)))
ar_pr week $ALICE 'requester: alice@example.com
reason: one week of orders
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com $APPROVED
ar_pr analysts $CAROL 'requester: carol@example.com
reason: join the analysts
duration: 30d
grants:
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com 2026-03-02T10:00:00Z

exit_is 0 "apply grants both" acc --now 2026-03-02T12:00:00Z --json apply
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 2 "two grants done"
is "$(ojv 'sel(d["changes"], person="alice@example.com")[0]["expires_at"]')" "$EXPIRES" "alice's grant expires after 7d"
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice has SELECT"
is "$(pg_member carol analyst_sales)" t "PostgreSQL: carol is an analyst"

# --- withdrawal ---------------------------------------------------------------
ar_rm 2026-03-03T10:00:00Z $CAROL
exit_is 0 "apply after the request is deleted" acc --now 2026-03-03T12:00:00Z --json apply
is "$(ojv 'len(d["changes"])')" 1 "one change"
is "$(ojv 'd["changes"][0]["action"] + " " + d["changes"][0]["reason"] + " " + d["changes"][0]["account"]')" \
    "revoke withdrawn carol" "revoke carol, reason withdrawn"
is "$(ojv 'd["changes"][0]["outcome"]')" "done" "revoke done"
is "$(pg_member carol analyst_sales)" f "PostgreSQL: carol's membership revoked"
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice untouched"
audit_json --action revoke
is "$(aud 'len(d["rows"])')" 1 "audit: one revoke row"
is "$(aud 'd["rows"][0]["reason"] + " " + d["rows"][0]["target"]')" "withdrawn role:analyst_sales" "audit: withdrawn"
is "$(aud 'd["rows"][0]["request"]')" "$CAROL" "audit: revoke names the withdrawn request"

# --- a future start -----------------------------------------------------------
ar_pr later $DAVE 'requester: dave@example.com
reason: from the twentieth
starts: 2026-03-20T00:00:00Z
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT' Carol carol@example.com 2026-03-04T10:00:00Z

# --- expiry, to the second ----------------------------------------------------
BEFORE=$(t_add $EXPIRES -1)
exit_is 0 "plan --detailed-exitcode one second before expiry: nothing to do" \
    acc --now "$BEFORE" plan --detailed-exitcode
exit_is 0 "apply one second before expiry" acc --now "$BEFORE" --json apply
is "$(ojv 'd["changes"]')" "[]" "nothing changes one second before expiry (and dave has not started)"
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice still has SELECT at expiry - 1s"
is "$(pg_select dave sales.customers)" f "PostgreSQL: dave not granted before his start"

exit_is 2 "plan --detailed-exitcode at expiry: changes pending" acc --now "$EXPIRES" plan --detailed-exitcode
exit_is 0 "apply at expiry" acc --now "$EXPIRES" --json apply
is "$(ojv '[(c["action"], c["reason"], c["account"], c["target"]) for c in d["changes"]]')" \
    '[["revoke", "expired", "alice", "table:sales.orders"]]' "revoke alice, reason expired"
is "$(pg_select alice sales.orders)" f "PostgreSQL: alice's SELECT revoked at expiry"
audit_json --action revoke --person alice@example.com
is "$(aud 'len(d["rows"])')" 1 "audit: one revoke row for alice"
is "$(aud 'd["rows"][0]["reason"]')" expired "audit: reason expired"
is "$(aud 'd["rows"][0]["at"]')" "$EXPIRES" "audit: at is the run's clock"

exit_is 0 "apply after expiry" acc --now "$(t_add $EXPIRES 3600)" --json apply
is "$(ojv 'd["changes"]')" "[]" "an expired grant is not granted again"

exit_is 0 "apply one second before dave's start" acc --now 2026-03-19T23:59:59Z --json apply
is "$(ojv 'd["changes"]')" "[]" "nothing one second before the start"
is "$(pg_select dave sales.customers)" f "PostgreSQL: dave not yet granted"
exit_is 0 "apply at dave's start" acc --now 2026-03-20T00:00:00Z --json apply
is "$(ojv '[(c["action"], c["reason"], c["account"], c["target"]) for c in d["changes"]]')" \
    '[["grant", "request", "dave", "table:sales.customers"]]' "grant dave at his start"
is "$(pg_select dave sales.customers)" t "PostgreSQL: dave granted from his start"

exit_is 0 "audit verify" acc audit verify

done_testing
