#!/bin/sh
# Faults on the Snowflake SQL API emulator, which splits results into
# partitions of 4 rows here: a 429 with Retry-After is waited out and
# retried under the same requestId with retry=true; a 429 that outlasts
# retry_budget skips the platform (exit 3); an ingest that fails part way
# (a truncated first page, a truncated or failing later partition) skips
# the platform whole and nothing is granted or revoked there although
# drift is pending; a GRANT to an unknown role fails alone (422, code
# 002003, recorded as grant_failed with the platform's message) while the
# other change is done; a 503 on a GRANT is resubmitted with the same
# requestId and retry=true and applied once, and so is a REVOKE whose
# answer was lost after it ran; answers slower than the timeout skip the
# platform.  The truth is the emulator's state and log.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

"$PY" - >"$T/seed.json" <<'EOF'
import json
users = [("ALICE", "alice@example.com"), ("BOB", "bob@example.com"),
         ("CAROL", "carol@example.com"), ("DAVE", "dave@example.com")]
users += [("SVC_%02d" % i, "svc%02d@example.org" % i) for i in range(1, 9)]
print(json.dumps({
    "users": [{"name": n, "login_name": n.lower(), "email": e} for n, e in users],
    "roles": [{"name": r} for r in ("ANALYST_SALES", "ANALYST_OPS", "SYSADMIN")],
    "role_grants": [{"role": "ANALYST_SALES", "granted_to": "USER", "grantee_name": "SVC_%02d" % i}
                    for i in range(1, 9)],
    "privileges": [],
}))
EOF
sf_start "$T/seed.json" --partition-rows 4

# config TIMEOUT RETRY_BUDGET
config() {
	cat <<EOF
version: 1
branch: main
groups:
  data-owners: [bob@example.com, carol@example.com]
platforms:
  snow:
    type: snowflake
    url: $SF_URL
    account: XY12345
    user: ACCORD_SVC
    role: SECURITYADMIN
    auth: keypair
    private_key_file: $SF_KEY
    managed: ["role:ANALYST_*"]
    protected_accounts: ["SVC_*"]
    drift: enforce
    accounts:
      match: email
    timeout: $1
    retry_budget: $2
    concurrency: 4
EOF
}
POLICY='rules:
  - platform: snow
    targets: ["role:ANALYST_*"]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    default_duration: 30d'
ar_init "$(config 5s 10s)" "$POLICY"
ar_pr alice requests/alice/sales.yaml 'requester: alice@example.com
reason: sales
grants:
  - platform: snow
    target: role:ANALYST_SALES' Bob bob@example.com 2026-03-01T10:00:00Z
NOW=2026-03-02T09:00:00Z
ALICE_GRANT='[["grant", "ALICE", "role:ANALYST_SALES"]]'

# timed CMD...: run, and ELAPSED = its wall time in ms.
timed() {
	t_start=$(t_ms)
	"$@"
	ELAPSED=$(($(t_ms) - t_start))
}

# --- a normal run reads every partition ----------------------------------------------
sf_log_clear
exit_is 0 "plan with results in partitions of 4 rows" acc --now $NOW --json plan
is "$(ojv '[(c["action"], c["account"], c["target"]) for c in d["changes"]]')" "$ALICE_GRANT" \
    "plan: alice's grant, the eight SVC_ members protected"
SFLOG=$(sf_log)
is "$(sflog 'sorted((stmt(p), qry(g).get("partition")) for g in api() if g.get("method") == "GET" for p in posts() if p.get("handle") == g.get("handle"))')" \
    '[["SHOW GRANTS OF ROLE \"ANALYST_SALES\"", "1"], ["SHOW ROLES LIMIT 1000", "1"], ["SHOW USERS LIMIT 1000", "1"], ["SHOW USERS LIMIT 1000", "2"]]' \
    "emulator: every later partition fetched once (users 12 rows, roles 8, members 8)"
is "$(sflog 'len([e for e in posts() if "warehouse" in (e.get("body") or {})])')" 0 \
    "emulator: no warehouse in a body when none is configured"

# --- Retry-After -------------------------------------------------------------------------
sf_log_clear
sf_fault '{"match": "^SHOW USERS", "status": 429, "retry_after": "2", "times": 1}'
timed exit_is 0 "plan succeeds after a 429 with Retry-After: 2" acc --now $NOW --json plan
is "$(ojv '[(c["action"], c["account"], c["target"]) for c in d["changes"]]')" "$ALICE_GRANT" "plan: the full answer"
is "$(ojv 'd["skipped"]')" "[]" "plan: nothing skipped"
is "$([ "$ELAPSED" -ge 2000 ] && echo yes)" yes "the run waited Retry-After (${ELAPSED} ms >= 2000 ms)"
is "$([ "$ELAPSED" -lt 10000 ] && echo yes)" yes "but not much longer (${ELAPSED} ms)"
SFLOG=$(sf_log)
U='[e for e in posts() if stmt(e) == "SHOW USERS LIMIT 1000"]'
is "$(sflog "[str(e.get('status')) for e in $U]")" '["429", "200"]' "emulator: SHOW USERS answered 429, then 200"
is "$(sflog "len(set(qry(e).get('requestId') for e in $U))")" 1 "emulator: the retry reuses the requestId"
is "$(sflog "[qry(e).get('retry') for e in $U]")" '[null, "true"]' "emulator: only the resubmission says retry=true"
is "$(sflog "tsf($U[-1]) - tsf($U[0]) >= 1.9")" true \
    "emulator: the retry came at least Retry-After later (by its clock)"

# --- the retry budget ----------------------------------------------------------------------
ar_push accord.yaml "$(config 5s 3s)" 2026-03-02T00:00:00Z
sf_log_clear
sf_fault '{"match": "^SHOW USERS", "status": 429, "retry_after": "1", "times": 10}'
timed exit_is 3 "a 429 outlasting retry_budget: 3s skips the platform (exit 3)" acc --now $NOW --json apply
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["snow"]' "apply: snow skipped"
like "$(ojv 'd["skipped"][0]["error"]')" "429|[Bb]udget|[Rr]ate" "apply: the error says why"
is "$(ojv 'len(sel(d["changes"], outcome="done"))')" 0 "apply: nothing done"
is "$([ "$ELAPSED" -lt 9000 ] && echo yes)" yes "the budget bounded the run (${ELAPSED} ms)"
SFLOG=$(sf_log)
N=$(sflog 'len([e for e in posts() if stmt(e) == "SHOW USERS LIMIT 1000"])')
is "$([ "$N" -ge 2 ] && [ "$N" -le 5 ] && echo yes)" yes "emulator: SHOW USERS retried, then given up ($N attempts of 10 faults)"
is "$(sflog 'dcl()')" "[]" "emulator: no GRANT or REVOKE sent"
is "$(sf_member ANALYST_SALES USER ALICE)" f "emulator: alice not granted"
sf_faults_clear

# --- an ingest that fails part way --------------------------------------------------------------
ar_push accord.yaml "$(config 5s 10s)" 2026-03-02T01:00:00Z
sf_state_edit 'd["role_grants"].append({"role": "ANALYST_SALES", "granted_to": "USER", "grantee_name": "DAVE"})'
# partial NAME FAULT: apply under FAULT skips snow whole.
partial() {
	sf_log_clear
	sf_fault "$2"
	exit_is 3 "$1: apply exits 3" acc --now $NOW --json apply
	is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["snow"]' "$1: snow skipped"
	is "$(ojv 'len(sel(d["changes"], outcome="done"))')" 0 "$1: nothing done"
	SFLOG=$(sf_log)
	is "$(sflog 'dcl()')" "[]" "$1: emulator: no GRANT or REVOKE sent"
	is "$(sf_member ANALYST_SALES USER DAVE):$(sf_member ANALYST_SALES USER ALICE)" t:f \
	    "$1: emulator: DAVE's drift kept, ALICE not granted"
	sf_faults_clear
}
partial "truncated SHOW GRANTS" '{"match": "^SHOW GRANTS OF ROLE", "truncate": true, "times": 1}'
like "$(ojv 'd["skipped"][0]["error"]')" "JSON|json" "truncated SHOW GRANTS: the error says the JSON is bad"
partial "truncated second partition" \
    '{"match": "^SHOW GRANTS OF ROLE \"ANALYST_SALES\"", "partition": 1, "truncate": true, "times": 1}'
is "$(sflog 'len([e for e in api() if qry(e).get("partition") == "1"]) >= 1')" true \
    "truncated second partition: emulator: partition 1 was fetched"
partial "failing third partition" '{"match": "^SHOW USERS", "partition": 2, "status": 404, "times": 1}'
audit_json
is "$(aud 'len(sel(d["rows"], action="grant")) + len(sel(d["rows"], action="revoke"))')" 0 \
    "audit: no grant or revoke while ingest failed"

sf_log_clear
exit_is 0 "without faults, apply exits 0" acc --now $NOW --json apply
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["outcome"]) for c in d["changes"])')" \
    '[["grant", "request", "ALICE", "done"], ["revoke", "drift", "DAVE", "done"]]' \
    "apply: the grant and the drift revoke the faults held back"
is "$(sf_member ANALYST_SALES USER DAVE):$(sf_member ANALYST_SALES USER ALICE)" f:t "emulator: DAVE revoked, ALICE granted"
is "$(sf_member ANALYST_SALES USER SVC_08)" t "emulator: protected members kept"

# --- one change fails, the other is done -------------------------------------------------------
ar_pr ghost requests/bob/ghost.yaml 'requester: bob@example.com
reason: a role that does not exist
grants:
  - platform: snow
    target: role:ANALYST_GHOST' Carol carol@example.com 2026-03-02T10:00:00Z
ar_pr ops requests/carol/ops.yaml 'requester: carol@example.com
reason: operations
grants:
  - platform: snow
    target: role:ANALYST_OPS' Bob bob@example.com 2026-03-02T10:00:00Z
NOW=2026-03-02T11:00:00Z
sf_log_clear
exit_is 3 "apply with a GRANT the platform refuses exits 3" acc --now $NOW --json apply
G='sel(d["changes"], account="BOB")'
is "$(ojv "[(c['action'], c['target'], c['outcome']) for c in $G]")" '[["grant", "role:ANALYST_GHOST", "failed"]]' \
    "apply: the grant to an unknown role failed"
like "$(ojv "${G}[0]['error']")" "002003" "apply: the error carries the platform's code"
like "$(ojv "${G}[0]['error']")" "ANALYST_GHOST.*does not exist" "apply: and its message"
is "$(ojv '[(c["account"], c["target"], c["outcome"]) for c in sel(d["changes"], account="CAROL")]')" \
    '[["CAROL", "role:ANALYST_OPS", "done"]]' "apply: the other grant is done"
is "$(sf_member ANALYST_OPS USER CAROL)" t "emulator: CAROL holds ANALYST_OPS"
SFLOG=$(sf_log)
is "$(sflog '[(s, str(e.get("status"))) for e in posts() for s in [stmt(e)] if s.startswith("GRANT")]' | "$PY" -c 'import json,sys; print(sorted(map(tuple, json.load(sys.stdin))))')" \
    "[('GRANT ROLE \"ANALYST_GHOST\" TO USER \"BOB\"', '422'), ('GRANT ROLE \"ANALYST_OPS\" TO USER \"CAROL\"', '200')]" \
    "emulator: the refused GRANT answered 422 (sent once), the other 200"
audit_json --person bob@example.com
R='sel(d["rows"], action="grant_failed")'
is "$(aud "[(r['target'], r['account']) for r in $R]")" '[["role:ANALYST_GHOST", "BOB"]]' "audit: one grant_failed row"
like "$(aud "${R}[0]['detail']")" "002003" "audit: grant_failed records the platform's code"
like "$(aud "${R}[0]['detail']")" "does not exist" "audit: and its message"
audit_json --person carol@example.com --action grant
is "$(aud 'len(d["rows"])')" 1 "audit: CAROL's grant recorded"
ar_rm 2026-03-02T12:00:00Z requests/bob/ghost.yaml

# --- a 503 on a GRANT: resubmitted, applied once --------------------------------------------------
ar_pr dave requests/dave/ops.yaml 'requester: dave@example.com
reason: operations too
grants:
  - platform: snow
    target: role:ANALYST_OPS' Bob bob@example.com 2026-03-02T13:00:00Z
NOW=2026-03-02T14:00:00Z
sf_log_clear
sf_fault '{"match": "^GRANT ROLE \"ANALYST_OPS\" TO USER \"DAVE\"", "status": 503, "times": 1}'
exit_is 0 "apply through a 503 on the GRANT" acc --now $NOW --json apply
is "$(ojv '[(c["action"], c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["grant", "DAVE", "role:ANALYST_OPS", "done"]]' "apply: the grant done"
is "$(sf_member ANALYST_OPS USER DAVE)" t "emulator: DAVE holds ANALYST_OPS"
SFLOG=$(sf_log)
D='[e for e in posts() if stmt(e) == "GRANT ROLE \"ANALYST_OPS\" TO USER \"DAVE\""]'
is "$(sflog "[str(e.get('status')) for e in $D]")" '["503", "200"]' "emulator: 503, then 200: executed once"
is "$(sflog "len(set(qry(e).get('requestId') for e in $D))")" 1 "emulator: the resubmission has the same requestId"
is "$(sflog "[qry(e).get('retry') for e in $D]")" '[null, "true"]' "emulator: and retry=true"
is "$(sflog 'len(dcl())')" 2 "emulator: no other GRANT or REVOKE"
is "$(sf_http GET /_emulator/statements | jv '[r["executions"] for r in d if r["statement"] == "GRANT ROLE \"ANALYST_OPS\" TO USER \"DAVE\""]')" \
    "[1]" "emulator: the GRANT executed exactly once"
audit_json --person dave@example.com --action grant
is "$(aud '[(r["target"], r["account"]) for r in d["rows"] if r["target"] == "role:ANALYST_OPS"]')" \
    '[["role:ANALYST_OPS", "DAVE"]]' "audit: one grant row"

# The answer is lost after the statement ran ("execute": the emulator runs
# it, then answers 503): the resubmission under the same requestId with
# retry=true gets the first execution's result, not a second execution.
ar_rm 2026-03-02T14:30:00Z requests/carol/ops.yaml
NOW=2026-03-02T14:40:00Z
sf_log_clear
sf_fault '{"match": "^REVOKE ROLE \"ANALYST_OPS\" FROM USER \"CAROL\"", "status": 503, "execute": true, "times": 1}'
exit_is 0 "apply through a 503 after the REVOKE ran" acc --now $NOW --json apply
is "$(ojv '[(c["action"], c["reason"], c["account"], c["outcome"]) for c in d["changes"]]')" \
    '[["revoke", "withdrawn", "CAROL", "done"]]' "apply: the revoke done"
is "$(sf_member ANALYST_OPS USER CAROL):$(sf_member ANALYST_OPS USER DAVE)" f:t "emulator: CAROL revoked, DAVE kept"
SFLOG=$(sf_log)
D='[e for e in posts() if stmt(e) == "REVOKE ROLE \"ANALYST_OPS\" FROM USER \"CAROL\""]'
is "$(sflog "[(str(e.get('status')), qry(e).get('retry')) for e in $D]")" '[["503", null], ["200", "true"]]' \
    "emulator: 503, then 200 for the resubmission with retry=true"
is "$(sflog "len(set(qry(e).get('requestId') for e in $D))")" 1 "emulator: under the same requestId"
is "$(sf_http GET /_emulator/statements | jv '[r["executions"] for r in d if r["statement"] == "REVOKE ROLE \"ANALYST_OPS\" FROM USER \"CAROL\""]')" \
    "[1]" "emulator: the REVOKE executed exactly once"
audit_json --person carol@example.com --action revoke
is "$(aud 'len(d["rows"])')" 1 "audit: one revoke row"

# --- answers slower than the timeout ----------------------------------------------------------------
ar_push accord.yaml "$(config 2s 1s)" 2026-03-02T15:00:00Z
NOW=2026-03-02T16:00:00Z
sf_log_clear
sf_fault '{"match": "^SHOW ROLES", "delay_ms": 5000, "times": 10}'
timed exit_is 3 "answers slower than timeout: 2s skip the platform (exit 3)" acc --now $NOW --json plan
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["snow"]' "plan: snow skipped"
like "$(ojv 'd["skipped"][0]["error"]')" "[Tt]ime" "plan: the error says it timed out"
is "$([ "$ELAPSED" -ge 2000 ] && [ "$ELAPSED" -lt 15000 ] && echo yes)" yes \
    "the run waited for the timeout, and not for the emulator (${ELAPSED} ms)"
sf_faults_clear
exit_is 0 "without faults, plan exits 0" acc --now $NOW plan --detailed-exitcode
exit_is 0 "audit verify" acc audit verify

done_testing
