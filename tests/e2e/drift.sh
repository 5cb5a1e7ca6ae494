#!/bin/sh
# Drift: grants made by hand on managed targets are revoked ("drift") with
# drift: enforce, and only listed with drift: report.  Grants on targets
# accord does not manage and grants to protected accounts are never
# touched, nor are the grants accord made itself.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

ar_pr orders requests/alice/orders.yaml 'requester: alice@example.com
reason: orders
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T10:00:00Z
exit_is 0 "apply grants alice's request" acc --now 2026-03-01T12:00:00Z apply
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice granted"

# Grants made by hand, outside accord.
pg_sql "GRANT SELECT ON sales.orders TO carol;
GRANT analyst_sales TO dave;
GRANT SELECT ON finance.ledger TO carol;
GRANT SELECT ON sales.orders TO etl_service;
GRANT analyst_sales TO etl_service;" || bail "hand grants"

NOW=2026-03-02T12:00:00Z
exit_is 0 "plan --json" acc --now $NOW --json plan
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["privilege"]) for c in d["changes"])')" \
    '[["revoke", "drift", "carol", "table:sales.orders", "SELECT"], ["revoke", "drift", "dave", "role:analyst_sales", "member"]]' \
    "plan: exactly the two drifted grants on managed targets, to revoke"
is "$(ojv 'sel(d["changes"], account="carol")[0]["request"]')" null "plan: a drift revoke has no request"
is "$(pg_select carol sales.orders)" t "PostgreSQL: plan revoked nothing"

exit_is 0 "apply" acc --now $NOW --json apply
is "$(ojv 'len(sel(d["changes"], action="revoke", reason="drift", outcome="done"))')" 2 "apply: two drift revokes done"
is "$(pg_select carol sales.orders)" f "PostgreSQL: hand grant on a managed table revoked"
is "$(pg_member dave analyst_sales)" f "PostgreSQL: hand grant of a managed role revoked"
is "$(pg_select carol finance.ledger)" t "PostgreSQL: unmanaged target untouched"
is "$(pg_select etl_service sales.orders)" t "PostgreSQL: protected account's table grant untouched"
is "$(pg_member etl_service analyst_sales)" t "PostgreSQL: protected account's membership untouched"
is "$(pg_select alice sales.orders)" t "PostgreSQL: accord's own grant untouched"

audit_json --action revoke
is "$(aud 'sorted((r["reason"], r["account"], r["target"]) for r in d["rows"])')" \
    '[["drift", "carol", "table:sales.orders"], ["drift", "dave", "role:analyst_sales"]]' "audit: two drift revokes"

exit_is 0 "apply again" acc --now 2026-03-02T13:00:00Z --json apply
is "$(ojv 'd["changes"]')" "[]" "apply again: nothing to do"

# --- drift: report --------------------------------------------------------------
ar_push accord.yaml "$(ar_default_config | sed 's/drift: enforce/drift: report/')" 2026-03-03T00:00:00Z
pg_sql "GRANT SELECT ON sales.customers TO bob;" || bail "hand grant"
exit_is 0 "apply with drift: report" acc --now 2026-03-03T12:00:00Z --json apply
is "$(ojv 'len(sel(d["changes"], action="revoke"))')" 0 "report: nothing revoked"
is "$(ojv 'len(sel(d["drift"], platform="warehouse", account="bob", target="table:sales.customers", privilege="SELECT"))')" 1 \
    "report: bob's hand grant listed in drift"
is "$(ojv 'len([x for x in d["drift"] if x["account"] in ("etl_service", "postgres", "alice")])')" 0 \
    "report: protected accounts and accord's grants are not drift"
is "$(ojv 'len([x for x in d["drift"] if x["target"].startswith("table:finance")])')" 0 "report: unmanaged targets are not drift"
is "$(pg_select bob sales.customers)" t "PostgreSQL: reported drift kept"

done_testing
