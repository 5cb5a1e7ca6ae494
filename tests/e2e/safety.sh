#!/bin/sh
# The safety rules of DESIGN §6 against a real PostgreSQL: the mass-revoke
# guard refuses a run (and applies nothing) until --max-revoke raises it;
# a platform whose ingest fails is skipped whole while the others are
# applied (exit 3); an unresolvable account is a grant_failed (exit 3);
# and the DSN's password never shows in output, the state database or
# the audit.  `keep` after each accord command saves its output for the
# final secrets check.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg

SECRET=S3cretPW
# Trust authentication ignores the password; accord must still hide it.
WAREHOUSE_DSN="$PG_DSN password=$SECRET"
BROKEN_DSN="host=$T/no-such-dir port=5432 user=postgres dbname=postgres password=$SECRET connect_timeout=2"
export WAREHOUSE_DSN BROKEN_DSN

: >"$T/all-output"
# keep: append the last command's stdout and stderr to the secrets log.
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$T/all-output"; }

CONFIG=$(ar_default_config | sed 's/max_revoke: 50/max_revoke: 2/')
ar_init "$CONFIG"

# --- mass-revoke guard ----------------------------------------------------------
ar_pr orders requests/alice/orders.yaml 'requester: alice@example.com
reason: orders
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T10:00:00Z
pg_sql "GRANT SELECT ON sales.orders TO carol;
GRANT SELECT ON sales.orders TO dave;
GRANT SELECT ON sales.customers TO carol;" || bail "hand grants"

NOW=2026-03-02T00:00:00Z
exit_is 1 "apply refuses 3 revokes with max_revoke: 2" acc --now $NOW --json apply; keep
is "$(ojv 'd["refused"]')" max_revoke "json: refused is max_revoke"
like "$ERR" "max.revoke" "stderr says why"
is "$(pg_select carol sales.orders):$(pg_select dave sales.orders):$(pg_select carol sales.customers)" t:t:t \
    "PostgreSQL: nothing revoked"
is "$(pg_select alice sales.orders)" f "PostgreSQL: nothing granted either"
audit_json --action revoke
is "$(aud 'len(d["rows"])')" 0 "audit: no revoke rows"

exit_is 0 "apply --max-revoke 5" acc --now $NOW --json apply --max-revoke 5; keep
is "$(ojv 'd["refused"]')" null "json: not refused"
is "$(ojv 'len(sel(d["changes"], action="revoke", reason="drift", outcome="done"))')" 3 "three drift revokes done"
is "$(pg_select carol sales.orders):$(pg_select dave sales.orders):$(pg_select carol sales.customers)" f:f:f \
    "PostgreSQL: all three revoked"
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice granted"

# --- a platform whose ingest fails -------------------------------------------------
cat >"$T/broken.yaml" <<'EOF'
  broken:
    type: postgres
    dsn_env: BROKEN_DSN
    managed: ["role:analyst_*"]
    accounts:
      match: email-local
EOF
CONFIG2=$(printf '%s\n' "$CONFIG" | sed "/^platforms:/r $T/broken.yaml")
ar_push accord.yaml "$CONFIG2" 2026-03-02T01:00:00Z
ar_push policies/broken.yaml 'rules:
  - platform: broken
    targets: ["role:analyst_*"]
    approvers: ["group:data-owners"]
    max_duration: 30d' 2026-03-02T01:00:00Z
ar_pr sales requests/bob/sales.yaml 'requester: bob@example.com
reason: analysts
duration: 7d
grants:
  - platform: warehouse
    target: role:analyst_sales' Carol carol@example.com 2026-03-02T02:00:00Z
ar_pr broken requests/bob/broken.yaml 'requester: bob@example.com
reason: the broken platform
duration: 7d
grants:
  - platform: broken
    target: role:analyst_sales' Carol carol@example.com 2026-03-02T02:00:00Z

NOW=2026-03-02T03:00:00Z
exit_is 0 "validate accepts the two-platform repository" acc validate; keep
exit_is 3 "apply with a broken platform exits 3 (partial)" acc --now $NOW --json apply; keep
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["broken"]' "skipped names the broken platform"
is "$(ojv 'len(d["skipped"][0]["error"]) > 0')" true "skipped gives an error"
is "$(ojv 'len(sel(d["changes"], platform="broken", outcome="done"))')" 0 "nothing done on the broken platform"
is "$(ojv 'len(sel(d["changes"], platform="warehouse", account="bob", outcome="done"))')" 1 "the good platform applied"
is "$(pg_member bob analyst_sales)" t "PostgreSQL: bob's warehouse grant applied"
audit_json --platform broken
is "$(aud 'len(sel(d["rows"], action="grant")) + len(sel(d["rows"], action="revoke"))')" 0 \
    "audit: no grant or revoke on the broken platform"
exit_is 3 "plan -vv with the broken platform" acc --now $NOW -vv plan; keep
like "$ERR" "broken" "plan's stderr names the broken platform"

# --- an account that cannot be resolved ----------------------------------------------
# Back to one platform; the broken platform's request and policy go too.
ar_rm 2026-03-02T04:00:00Z requests/bob/broken.yaml
git -C "$AR" rm -q policies/broken.yaml
ar_push accord.yaml "$CONFIG" 2026-03-02T04:00:00Z
ar_pr zed requests/zed/orders.yaml 'requester: zed@example.com
reason: I have no role
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-02T05:00:00Z
NOW=2026-03-02T06:00:00Z
run acc --now $NOW --json plan; keep
Z='sel(d["changes"], person="zed@example.com")'
is "$(ojv "[(c['action'], c['account'], c.get('error')) for c in $Z]")" '[["grant", null, "no account"]]' \
    "plan: zed's grant has account null and error no account"
exit_is 3 "apply with an unresolvable account exits 3" acc --now $NOW --json apply; keep
is "$(ojv "[(c['action'], c['outcome'], c['error']) for c in $Z]")" '[["grant", "failed", "no account"]]' \
    "apply: zed's grant failed with no account"
is "$(ojv 'len(sel(d["changes"], outcome="failed"))')" 1 "only zed's change failed"
audit_json --person zed@example.com
is "$(aud 'len(sel(d["rows"], action="grant_failed"))')" 1 "audit: one grant_failed row for zed"
like "$(aud 'sel(d["rows"], action="grant_failed")[0]')" "no account" "audit: grant_failed says no account"
exit_is 0 "audit verify" acc audit verify; keep

# --- secrets ------------------------------------------------------------------------
# Everything any command printed, the state database and its WAL, a dump
# of it and the whole audit in every format.
for f in table json csv; do
	run acc audit --format $f; keep
done
run acc audit verify; keep
like "$WAREHOUSE_DSN" "$SECRET" "the DSN really carries the secret"
isnt "$(wc -c <"$T/all-output")" 0 "commands produced output to search"
is "$(grep -c "$SECRET" "$T/all-output")" 0 "secret in no command's stdout or stderr"
is "$(test -s "$STATE" && echo yes)" yes "the state database exists"
for f in "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"; do
	[ -e "$f" ] || continue
	is "$(grep -ac "$SECRET" "$f")" 0 "secret not in $(basename "$f")"
done
is "$(sqlite3 "$STATE" .dump | grep -c "$SECRET")" 0 "secret not in a dump of the state database"

done_testing
