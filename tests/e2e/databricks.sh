#!/bin/sh
# accord's databricks connector against the workspace emulator
# (tests/emulators/databricks.py, SCIM pages capped at 10, every Unity
# Catalog permissions read starting with an empty page): group membership
# (SCIM PATCH) and UC privileges (SELECT on tables, to users, a group and
# a service principal) granted on merge with the approver recorded; users
# past the first SCIM pages; one PATCH per group and per securable per
# run although several members and principals change at once; idempotence;
# drift revoked on managed targets (group, table, schema, catalog) while
# unmanaged targets and protected accounts stay; withdrawal by deletion;
# 429 with Retry-After waited out; an ingest failure (503 past the retry
# budget, 403) skips the platform with nothing changed; OAuth M2M (one
# token per run from /oidc/v1/token with HTTP Basic, used as bearer);
# expiry to the second; no secret (PAT, client secret, OAuth token) in
# accord's output or state.  The truth is the emulator's state and log.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
. "$TOP/tests/lib/databricks.sh"
t_init

APP=5e1f0c2a-1b2c-4d3e-8f40-0000000000a7
# --- the workspace: 30 users (zoe last, on the third page of 10) ------------------
"$PY" - "$APP" >"$T/seed.json" <<'EOF'
import json, sys
app = sys.argv[1]
users = [("alice@example.com", "Alice"), ("bob@example.com", "Bob"),
         ("carol@example.com", "Carol"), ("dave@example.com", "Dave"),
         ("erin@example.com", "Erin"), ("etl@example.com", "ETL")]
users += [("f%02d@filler.example.org" % i, "Filler %d" % i) for i in range(23)]
users.append(("zoe@example.com", "Zoe"))
print(json.dumps({
    "users": [{"userName": u, "displayName": n} for u, n in users],
    "service_principals": [{"applicationId": app, "displayName": "reporting-app"}],
    "groups": [{"displayName": "analysts_sales", "members": ["etl@example.com"]},
               {"displayName": "analysts_ops", "members": []},
               {"displayName": "finance", "members": ["carol@example.com"]},
               {"displayName": "hr_private", "members": ["dave@example.com"]}],
    "securables": [{"type": "table", "full_name": "main.sales.orders"},
                   {"type": "table", "full_name": "main.sales.customers"},
                   {"type": "table", "full_name": "main.finance.ledger"}],
    "grants": [{"securable_type": "table", "full_name": "main.sales.orders",
                "principal": "etl@example.com", "privileges": ["SELECT", "MODIFY"]},
               {"securable_type": "table", "full_name": "main.finance.ledger",
                "principal": "dave@example.com", "privileges": ["SELECT"]}],
}))
EOF
db_start "$T/seed.json" --max-count 10 --uc-empty-first-page
DATABRICKS_TOKEN=$DB_TOKEN
export DATABRICKS_TOKEN

# config AUTH-LINES
config() {
	cat <<EOF
version: 1
branch: main
groups:
  data-owners: [bob@example.com, carol@example.com]
platforms:
  lakehouse:
    type: databricks
    url: $DB_URL
$1
    page_size: 100
    managed: ["group:analysts*", "table:main.sales.*", "schema:main.sales", "catalog:main"]
    protected_accounts: ["etl@example.com"]
    drift: enforce
    accounts: {match: email}
    timeout: 10s
    retry_budget: 4s
safety:
  max_revoke: 50
EOF
}
PAT_AUTH='    token_env: DATABRICKS_TOKEN'
OAUTH_AUTH='    client_id_env: DATABRICKS_CLIENT_ID
    client_secret_env: DATABRICKS_CLIENT_SECRET'
POLICY='rules:
  - platform: lakehouse
    targets: ["group:analysts*", "table:main.sales.*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d'
ar_init "$(config "$PAT_AUTH")" "$POLICY"

: >"$T/all-output"
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$T/all-output"; }

exit_is 0 "validate accepts a databricks platform" acc validate; keep

APPROVED=2026-03-01T10:00:00Z
ALICE=requests/alice/sales.yaml
ZOE=requests/zoe/sales.yaml
FIN=requests/carol/finance.yaml
ERIN=requests/erin/ops.yaml
APPREQ=requests/carol/reporting-app.yaml
ar_pr alice $ALICE 'requester: alice@example.com
reason: sales analysis
duration: 7d
grants:
  - platform: lakehouse
    target: group:analysts_sales
  - platform: lakehouse
    target: table:main.sales.orders
    privilege: SELECT' Bob bob@example.com $APPROVED
ALICE_MERGE=$(ar_head)
ar_pr zoe $ZOE 'requester: zoe@example.com
reason: past the first SCIM pages
duration: 30d
grants:
  - platform: lakehouse
    target: group:analysts_sales
  - platform: lakehouse
    target: table:main.sales.orders
    privilege: SELECT' Carol carol@example.com $APPROVED
ar_pr finance $FIN 'requester: carol@example.com
reason: finance reads customers
duration: 30d
grants:
  - platform: lakehouse
    target: table:main.sales.customers
    privilege: SELECT
    grantee: group:finance' Bob bob@example.com $APPROVED
ar_pr erin $ERIN 'requester: erin@example.com
reason: operations
duration: 30d
grants:
  - platform: lakehouse
    target: group:analysts_ops' Carol carol@example.com $APPROVED
ar_pr app $APPREQ "requester: carol@example.com
reason: the reporting app reads orders
duration: 30d
grants:
  - platform: lakehouse
    target: table:main.sales.orders
    privilege: SELECT
    grantee: service:$APP" Bob bob@example.com $APPROVED
TIP=$(ar_head)
EXPIRES=$(t_add $APPROVED $((7 * 86400)))
STATE0=$(db_state)
idof() { printf '%s' "$STATE0" | jv "[u['id'] for u in d['users'] if u['userName'] == '$1'][0]"; }
ALICE_ID=$(idof alice@example.com)
ZOE_ID=$(idof zoe@example.com)
DAVE_ID=$(idof dave@example.com)
ERIN_ID=$(idof erin@example.com)

# The UC PATCHes of the log, as [securable, [[principal, add, remove], ...]].
UCP='sorted([urllib.parse.unquote(path(e)).split("/permissions/", 1)[1], sorted([c["principal"], sorted(c.get("add") or []), sorted(c.get("remove") or [])] for c in e["body"]["changes"])] for e in uc_patches())'
# The SCIM PATCHes, as [group id, [[op, path, [values]], ...]].
SCP='sorted([path(e).rsplit("/", 1)[1], [[o["op"].lower(), o.get("path"), sorted(v["value"] for v in (o.get("value") or []))] for o in e["body"]["Operations"]]] for e in scim_patches())'
gid() { db_state | jv "[g['id'] for g in d['groups'] if g['displayName'] == '$1'][0]"; }
SALES_G=$(gid analysts_sales)
OPS_G=$(gid analysts_ops)
CHANGES='sorted((c["action"], c["reason"], c["account"], c["target"], c["privilege"]) for c in d["changes"])'

# --- plan: reads, changes nothing ------------------------------------------------------
NOW=2026-03-02T09:00:00Z
db_log_clear
exit_is 0 "plan --json" acc --now $NOW --json plan; keep
is "$(ojv 'd["skipped"]')" "[]" "plan: nothing skipped"
is "$(ojv "$CHANGES")" \
    "[[\"grant\", \"request\", \"alice@example.com\", \"group:analysts_sales\", \"member\"], [\"grant\", \"request\", \"alice@example.com\", \"table:main.sales.orders\", \"SELECT\"], [\"grant\", \"request\", \"erin@example.com\", \"group:analysts_ops\", \"member\"], [\"grant\", \"request\", \"group:finance\", \"table:main.sales.customers\", \"SELECT\"], [\"grant\", \"request\", \"service:$APP\", \"table:main.sales.orders\", \"SELECT\"], [\"grant\", \"request\", \"zoe@example.com\", \"group:analysts_sales\", \"member\"], [\"grant\", \"request\", \"zoe@example.com\", \"table:main.sales.orders\", \"SELECT\"]]" \
    "plan: exactly the seven approved grants"
DBLOG=$(db_log)
is "$(dblog 'len(patches())')" 0 "emulator: plan sent no PATCH"
is "$(dblog '[qry(e).get("startIndex") for e in gets("/api/2.0/preview/scim/v2/Users")]')" '["1", "11", "21"]' \
    "emulator: users read in three pages (startIndex 1, 11, 21; the server caps count at 10)"
is "$(dblog 'sorted(set(qry(e).get("count") for e in gets("/api/2.0/preview/scim/v2/Users")))')" '["100"]' \
    "emulator: page_size 100 sent as count"
is "$(dblog 'sorted(set(urllib.parse.unquote(path(e)).split("/permissions/", 1)[1].lower() for e in gets("/api/2.1/unity-catalog/permissions/")))')" \
    '["catalog/main", "schema/main.sales", "table/main.sales.customers", "table/main.sales.orders"]' \
    "emulator: permissions read for exactly the managed securables (globs expanded by listing)"
is "$(dblog 'sorted(urllib.parse.unquote(path(e)).split("/permissions/", 1)[1].lower() for e in gets("/api/2.1/unity-catalog/permissions/") if qry(e).get("page_token"))')" \
    '["catalog/main", "schema/main.sales", "table/main.sales.customers", "table/main.sales.orders"]' \
    "emulator: every empty first permissions page was followed by its next_page_token"
is "$(dblog 'len(gets("/api/2.1/unity-catalog/tables")) >= 1')" true "emulator: tables listed to expand table:main.sales.*"
is "$(dblog 'len([e for e in api() if bearer(e) != sys.argv[2]])' "$DB_TOKEN")" 0 "emulator: every request carries the PAT as bearer"
is "$(dblog 'len(tokens())')" 0 "emulator: no token endpoint call with a PAT"
is "$(dblog 'sorted(set(e["status"] for e in L))')" '[200]' "emulator: every request answered 200"
exit_is 2 "plan --detailed-exitcode exits 2 with changes pending" acc --now $NOW plan --detailed-exitcode; keep

# --- apply -----------------------------------------------------------------------------------
db_log_clear
exit_is 0 "apply exits 0" acc --now $NOW --json apply; keep
is "$(ojv 'd["commit"]')" "$TIP" "apply: commit is the tip"
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 7 "apply: seven grants done"
is "$(ojv 'len(d["changes"])')" 7 "apply: nothing else"
C='[c for c in d["changes"] if c["account"] == "alice@example.com" and c["target"] == "group:analysts_sales"][0]'
is "$(ojv "[${C}[k] for k in ('person', 'platform', 'request', 'approvers', 'expires_at', 'error')]")" \
    "[\"alice@example.com\", \"lakehouse\", \"$ALICE\", [\"bob@example.com\"], \"$EXPIRES\", null]" \
    "apply: alice's membership: person, platform, request, approver, expiry"
is "$(db_member analysts_sales alice@example.com):$(db_member analysts_sales zoe@example.com)" t:t \
    "emulator: alice and zoe (third page) are members of analysts_sales"
is "$(db_member analysts_ops erin@example.com)" t "emulator: erin is a member of analysts_ops"
is "$(db_priv table main.sales.orders alice@example.com SELECT):$(db_priv table main.sales.orders zoe@example.com SELECT)" t:t \
    "emulator: alice and zoe have SELECT on main.sales.orders"
is "$(db_priv table main.sales.customers finance SELECT)" t "emulator: group finance has SELECT on main.sales.customers"
is "$(db_priv table main.sales.orders "$APP" SELECT)" t "emulator: the service principal has SELECT on main.sales.orders"
is "$(db_member analysts_sales etl@example.com):$(db_priv table main.sales.orders etl@example.com MODIFY)" t:t \
    "emulator: the protected account's membership and privileges stay"
DBLOG=$(db_log)
is "$(dblog "$SCP")" \
    "$(printf '%s' "[[\"$OPS_G\", [[\"add\", \"members\", [\"$ERIN_ID\"]]]], [\"$SALES_G\", [[\"add\", \"members\", [\"$ALICE_ID\", \"$ZOE_ID\"]]]]]" | jv 'sorted(d)')" \
    "emulator: one SCIM PATCH per group; both analysts_sales members in one add"
is "$(dblog "$UCP")" \
    "[[\"table/main.sales.customers\", [[\"finance\", [\"SELECT\"], []]]], [\"table/main.sales.orders\", [[\"$APP\", [\"SELECT\"], []], [\"alice@example.com\", [\"SELECT\"], []], [\"zoe@example.com\", [\"SELECT\"], []]]]]" \
    "emulator: one UC PATCH per securable, changes grouped by principal (group by displayName, SP by applicationId)"
is "$(dblog 'sorted(set(e["body"]["schemas"][0] for e in scim_patches()))')" '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]' \
    "emulator: SCIM PATCHes carry the PatchOp schema"
is "$(dblog 'sorted(set((hdr(e, "Content-Type") or "").split(";")[0] for e in uc_patches()))')" '["application/json"]' \
    "emulator: UC PATCH bodies are application/json"
is "$(dblog 'sorted(set((hdr(e, "Content-Type") or "").split(";")[0] in ("application/scim+json", "application/json") for e in scim_patches()))')" '[true]' \
    "emulator: SCIM PATCH bodies are application/scim+json or application/json"
is "$(dblog 'sorted(set(e["status"] for e in patches()))')" '[200]' "emulator: every PATCH answered 200"

# --- audit ----------------------------------------------------------------------------------
audit_json --action grant
R='[r for r in d["rows"] if r["account"] == "alice@example.com" and r["target"] == "group:analysts_sales"]'
is "$(aud "len($R)")" 1 "audit: one grant row for alice's membership"
is "$(aud "[${R}[0][k] for k in ('platform', 'privilege', 'approvers', 'commit_sha', 'request', 'expires_at', 'at')]")" \
    "[\"lakehouse\", \"member\", \"bob@example.com\", \"$ALICE_MERGE\", \"$ALICE\", \"$EXPIRES\", \"$NOW\"]" \
    "audit: the row names approver, merge commit, request and expiry"
is "$(aud 'len(d["rows"])')" 7 "audit: seven grant rows"

# --- idempotence -------------------------------------------------------------------------------
LATER=2026-03-02T10:00:00Z
db_log_clear
exit_is 0 "plan --detailed-exitcode exits 0 once applied" acc --now $LATER plan --detailed-exitcode; keep
exit_is 0 "second apply exits 0" acc --now $LATER --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "second apply changes nothing"
DBLOG=$(db_log)
is "$(dblog 'len(patches())')" 0 "emulator: no PATCH sent the second time"

# --- drift, with a request merged at the same time ----------------------------------------------
db_state_edit "
grp('analysts_sales')['members'].append('dave@example.com')
grp('hr_private')['members'].append('bob@example.com')
d['grants'] += [
  {'securable_type': 'table', 'full_name': 'main.sales.orders', 'principal': 'bob@example.com', 'privileges': ['SELECT']},
  {'securable_type': 'schema', 'full_name': 'main.sales', 'principal': 'bob@example.com', 'privileges': ['USE_SCHEMA']},
  {'securable_type': 'catalog', 'full_name': 'main', 'principal': 'bob@example.com', 'privileges': ['USE_CATALOG']},
  {'securable_type': 'table', 'full_name': 'main.finance.ledger', 'principal': 'bob@example.com', 'privileges': ['SELECT']},
  {'securable_type': 'table', 'full_name': 'main.sales.orders', 'principal': 'etl@example.com', 'privileges': ['APPLY_TAG']},
]"
ERIN2=requests/erin/sales.yaml
ar_pr erin-sales $ERIN2 'requester: erin@example.com
reason: sales too
duration: 30d
grants:
  - platform: lakehouse
    target: group:analysts_sales
  - platform: lakehouse
    target: table:main.sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-03T08:00:00Z
NOW=2026-03-03T09:00:00Z
exit_is 0 "plan --json with hand-made grants" acc --now $NOW --json plan; keep
is "$(ojv "$CHANGES")" \
    '[["grant", "request", "erin@example.com", "group:analysts_sales", "member"], ["grant", "request", "erin@example.com", "table:main.sales.orders", "SELECT"], ["revoke", "drift", "bob@example.com", "catalog:main", "USE_CATALOG"], ["revoke", "drift", "bob@example.com", "schema:main.sales", "USE_SCHEMA"], ["revoke", "drift", "bob@example.com", "table:main.sales.orders", "SELECT"], ["revoke", "drift", "dave@example.com", "group:analysts_sales", "member"]]' \
    "plan: erin's two grants, and the four hand-made grants on managed targets to revoke"
db_log_clear
exit_is 0 "apply revokes drift and grants erin" acc --now $NOW --json apply; keep
is "$(ojv 'sorted((c["action"], c["outcome"]) for c in d["changes"])')" \
    '[["grant", "done"], ["grant", "done"], ["revoke", "done"], ["revoke", "done"], ["revoke", "done"], ["revoke", "done"]]' "apply: six changes done"
is "$(db_member analysts_sales dave@example.com):$(db_member analysts_sales erin@example.com)" f:t \
    "emulator: dave's hand-added membership revoked, erin added"
is "$(db_priv table main.sales.orders bob@example.com SELECT):$(db_priv schema main.sales bob@example.com USE_SCHEMA):$(db_priv catalog main bob@example.com USE_CATALOG)" f:f:f \
    "emulator: hand-made SELECT, USE_SCHEMA and USE_CATALOG revoked"
is "$(db_priv table main.sales.orders erin@example.com SELECT)" t "emulator: erin has SELECT on orders"
is "$(db_member hr_private bob@example.com):$(db_member hr_private dave@example.com)" t:t "emulator: unmanaged group untouched"
is "$(db_priv table main.finance.ledger bob@example.com SELECT):$(db_priv table main.finance.ledger dave@example.com SELECT)" t:t \
    "emulator: unmanaged table untouched"
is "$(db_member analysts_sales etl@example.com):$(db_priv table main.sales.orders etl@example.com APPLY_TAG):$(db_priv table main.sales.orders etl@example.com SELECT)" t:t:t \
    "emulator: protected account's membership and privileges (a hand-made one too) untouched"
is "$(db_member analysts_sales alice@example.com):$(db_priv table main.sales.orders alice@example.com SELECT)" t:t "emulator: accord's own grants untouched"
DBLOG=$(db_log)
is "$(dblog "$SCP")" \
    "[[\"$SALES_G\", [[\"remove\", \"members[value eq \\\"$DAVE_ID\\\"]\", []], [\"add\", \"members\", [\"$ERIN_ID\"]]]]]" \
    "emulator: one SCIM PATCH for analysts_sales: remove dave by members[value eq \"ID\"], add erin"
is "$(dblog "$UCP")" \
    '[["catalog/main", [["bob@example.com", [], ["USE_CATALOG"]]]], ["schema/main.sales", [["bob@example.com", [], ["USE_SCHEMA"]]]], ["table/main.sales.orders", [["bob@example.com", [], ["SELECT"]], ["erin@example.com", ["SELECT"], []]]]]' \
    "emulator: one UC PATCH per securable; orders' PATCH both removes and adds"
audit_json --action revoke
is "$(aud 'sorted((r["reason"], r["account"], r["target"]) for r in d["rows"])')" \
    '[["drift", "bob@example.com", "catalog:main"], ["drift", "bob@example.com", "schema:main.sales"], ["drift", "bob@example.com", "table:main.sales.orders"], ["drift", "dave@example.com", "group:analysts_sales"]]' \
    "audit: four drift revokes"

# --- withdrawal ---------------------------------------------------------------------------------------
ar_rm 2026-03-04T08:00:00Z $FIN $ERIN
NOW=2026-03-04T09:00:00Z
db_log_clear
db_config '{"patch_204": true}'
exit_is 0 "apply after the requests are deleted" acc --now $NOW --json apply; keep
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"])')" \
    '[["revoke", "withdrawn", "erin@example.com", "group:analysts_ops", "done"], ["revoke", "withdrawn", "group:finance", "table:main.sales.customers", "done"]]' \
    "apply: both grants withdrawn"
is "$(db_member analysts_ops erin@example.com):$(db_priv table main.sales.customers finance SELECT)" f:f \
    "emulator: erin left analysts_ops, finance lost SELECT on customers"
is "$(db_member analysts_sales erin@example.com):$(db_member finance carol@example.com)" t:t "emulator: erin's other grant and finance's members stay"
DBLOG=$(db_log)
is "$(dblog "$SCP")" "[[\"$OPS_G\", [[\"remove\", \"members[value eq \\\"$ERIN_ID\\\"]\", []]]]]" "emulator: one SCIM PATCH removing erin"
is "$(dblog "$UCP")" '[["table/main.sales.customers", [["finance", [], ["SELECT"]]]]]' "emulator: one UC PATCH removing finance's SELECT"
is "$(dblog '[e["status"] for e in scim_patches()]')" '[204]' "emulator: the SCIM PATCH answered 204 with no body (accepted as success)"
db_config '{"patch_204": false}'
audit_json --action revoke --since $NOW
is "$(aud 'sorted((r["reason"], r["request"]) for r in d["rows"])')" "[[\"withdrawn\", \"$FIN\"], [\"withdrawn\", \"$ERIN\"]]" \
    "audit: withdrawn revokes name their requests"

# --- 429 with Retry-After ---------------------------------------------------------------------------------
timed() {
	t_start=$(t_ms)
	"$@"
	ELAPSED=$(($(t_ms) - t_start))
}
NOW=2026-03-05T09:00:00Z
db_log_clear
db_fault '{"method": "GET", "path": "/scim/v2/Users", "status": 429, "retry_after": 2, "times": 1}'
timed exit_is 0 "plan succeeds after a 429 with Retry-After: 2" acc --now $NOW --json plan; keep
is "$(ojv 'd["skipped"]'):$(ojv 'd["changes"]')" "[]:[]" "plan: nothing skipped, nothing to do"
is "$([ "$ELAPSED" -ge 2000 ] && echo yes)" yes "the run waited Retry-After (${ELAPSED} ms >= 2000 ms)"
DBLOG=$(db_log)
U='gets("/api/2.0/preview/scim/v2/Users")'
is "$(dblog "[e['status'] for e in $U][:2]")" '[429, 200]' "emulator: the Users page answered 429, then 200"
is "$(dblog "(lambda u: u[1]['t'] - u[0]['t'] >= 1.95 and qry(u[0]) == qry(u[1]))($U)")" true \
    "emulator: the same page asked again at least 2 s later"

# --- ingest failures: nothing changes -----------------------------------------------------------------------
db_state_edit "grp('analysts_sales')['members'].append('dave@example.com')"
STATE_BEFORE=$(db_state | jv d)
db_log_clear
db_fault '{"path": "/unity-catalog/permissions/", "status": 503, "retry_after": 1, "times": 100}'
timed exit_is 3 "a 503 outlasting retry_budget skips the platform (exit 3)" acc --now $NOW --json apply; keep
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["lakehouse"]' "apply: lakehouse skipped"
is "$(ojv 'd["changes"]')" "[]" "apply: no change although drift is pending"
is "$([ "$ELAPSED" -lt 15000 ] && echo yes)" yes "the run gave up within the budget (${ELAPSED} ms)"
DBLOG=$(db_log)
is "$(dblog 'len(patches())')" 0 "emulator: no PATCH sent"
is "$(dblog 'len([e for e in L if e["status"] == 503]) >= 2')" true "emulator: the 503 was retried"
is "$(db_state | jv d)" "$STATE_BEFORE" "emulator: state unchanged"
db_faults_clear
db_log_clear
db_fault '{"method": "GET", "path": "/scim/v2/Groups", "status": 403, "body": {"error_code": "PERMISSION_DENIED", "message": "User is not a workspace admin."}, "times": 5}'
exit_is 3 "a 403 on the groups read skips the platform (exit 3)" acc --now $NOW --json apply; keep
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["lakehouse"]' "apply: lakehouse skipped"
like "$(ojv 'd["skipped"][0]["error"]')" '403' "the skip reason names the 403"
DBLOG=$(db_log)
is "$(dblog 'len(patches())')" 0 "emulator: no PATCH sent after the 403"
is "$(dblog 'len([e for e in L if e["status"] == 403])')" 1 "emulator: a 403 is not retried"
is "$(db_state | jv d)" "$STATE_BEFORE" "emulator: state unchanged"
db_faults_clear

# --- OAuth M2M --------------------------------------------------------------------------------------------------
ar_push accord.yaml "$(config "$OAUTH_AUTH")" 2026-03-06T08:00:00Z
DATABRICKS_CLIENT_ID=$DB_CLIENT_ID
DATABRICKS_CLIENT_SECRET=$DB_CLIENT_SECRET
export DATABRICKS_CLIENT_ID DATABRICKS_CLIENT_SECRET
NOW=2026-03-06T09:00:00Z
exit_is 0 "validate with OAuth M2M" acc validate; keep
db_log_clear
exit_is 0 "apply with OAuth M2M revokes dave's new hand-made membership" acc --now $NOW --json apply; keep
is "$(ojv "$CHANGES")" '[["revoke", "drift", "dave@example.com", "group:analysts_sales", "member"]]' "apply: one drift revoke"
is "$(db_member analysts_sales dave@example.com)" f "emulator: dave removed again"
DBLOG=$(db_log)
is "$(dblog 'len(tokens())')" 1 "emulator: one token request for the run"
is "$(dblog '[tokens()[0]["method"], tokens()[0]["status"], dict(urllib.parse.parse_qsl(tokens()[0]["body"]))]')" \
    '["POST", 200, {"grant_type": "client_credentials", "scope": "all-apis"}]' \
    "emulator: POST /oidc/v1/token grant_type=client_credentials scope=all-apis"
is "$(dblog 'basic(tokens()[0])')" "[\"$DB_CLIENT_ID\", \"$DB_CLIENT_SECRET\"]" "emulator: client id and secret sent with HTTP Basic"
is "$(dblog '(hdr(tokens()[0], "Content-Type") or "").split(";")[0]')" application/x-www-form-urlencoded "emulator: the token request is form-encoded"
is "$(dblog 'L[0] is tokens()[0]')" true "emulator: the token is fetched before any API call"
is "$(dblog 'sorted(set(e["token_kind"] for e in api()))')" '["oauth"]' "emulator: every API request used the issued OAuth token"
is "$(dblog 'len(set(bearer(e) for e in api()))')" 1 "emulator: one bearer for the whole run"
is "$(dblog 'len([e for e in api() if bearer(e) == sys.argv[2]])' "$DB_TOKEN")" 0 "emulator: the PAT is not used"
is "$(dblog 'len(scim_patches())'):$(dblog 'len(uc_patches())')" 1:0 "emulator: one SCIM PATCH, no UC PATCH"
exit_is 0 "plan --detailed-exitcode with OAuth: nothing to do" acc --now $NOW plan --detailed-exitcode; keep
db_http GET /_emulator/log >"$T/oauth-log.json"

# --- expiry, to the second ------------------------------------------------------------------------------------------
BEFORE=$(t_add $EXPIRES -1)
exit_is 0 "plan --detailed-exitcode one second before expiry: nothing to do" acc --now "$BEFORE" plan --detailed-exitcode; keep
exit_is 2 "plan --detailed-exitcode at expiry: changes pending" acc --now "$EXPIRES" plan --detailed-exitcode; keep
db_log_clear
exit_is 0 "apply at expiry" acc --now "$EXPIRES" --json apply; keep
is "$(ojv "$CHANGES")" \
    '[["revoke", "expired", "alice@example.com", "group:analysts_sales", "member"], ["revoke", "expired", "alice@example.com", "table:main.sales.orders", "SELECT"]]' \
    "apply: alice's membership and SELECT expired"
is "$(db_member analysts_sales alice@example.com):$(db_priv table main.sales.orders alice@example.com SELECT)" f:f "emulator: alice lost both"
is "$(db_member analysts_sales zoe@example.com):$(db_priv table main.sales.orders zoe@example.com SELECT)" t:t "emulator: zoe keeps both"
DBLOG=$(db_log)
is "$(dblog "$SCP")" "[[\"$SALES_G\", [[\"remove\", \"members[value eq \\\"$ALICE_ID\\\"]\", []]]]]" "emulator: one SCIM PATCH removing alice"
is "$(dblog "$UCP")" '[["table/main.sales.orders", [["alice@example.com", [], ["SELECT"]]]]]' "emulator: one UC PATCH removing alice's SELECT"
exit_is 0 "apply after expiry" acc --now "$(t_add $EXPIRES 3600)" --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "an expired grant is not granted again"
exit_is 0 "audit verify" acc audit verify; keep

# --- a removal answered 404 counts as done -----------------------------------------------------------------------------
# The table vanishes between the read and the PATCH that withdraws the
# app's SELECT.
ar_rm 2026-03-10T08:00:00Z $APPREQ
db_log_clear
db_fault '{"method": "PATCH", "path": "/permissions/table/main.sales.orders", "status": 404, "body": {"error_code": "TABLE_DOES_NOT_EXIST", "message": "Table '"'"'main.sales.orders'"'"' does not exist."}}'
exit_is 0 "apply whose removal answers 404 exits 0" acc --now 2026-03-10T09:00:00Z --json apply; keep
is "$(ojv '[(c["action"], c["reason"], c["account"], c["outcome"]) for c in d["changes"]]')" \
    "[[\"revoke\", \"withdrawn\", \"service:$APP\", \"done\"]]" "the withdrawal answered 404 counts as done"
DBLOG=$(db_log)
is "$(dblog '[e["status"] for e in uc_patches()]')" '[404]' "emulator: the one UC PATCH got 404"
db_faults_clear

# --- secrets ------------------------------------------------------------------------------------------------------------
exit_is 0 "plan -vv" acc --now 2026-03-10T10:00:00Z -vv plan; keep
like "$ERR" "unity-catalog|scim" "-vv traces the requests"
for f in table json csv; do
	run acc audit --format $f; keep
done
"$PY" -c '
import json, sys
seen = set()
for e in json.load(open(sys.argv[1])):
    a = (e.get("headers") or {}).get("Authorization", "")
    if a.startswith("Bearer ") and e.get("token_kind") == "oauth":
        seen.add(a[7:])
print("\n".join(sorted(seen)))' "$T/oauth-log.json" >"$T/oauth-tokens"
DBLOG=$(db_log)
dblog 'sorted(set(bearer(e) for e in api() if e.get("token_kind") == "oauth"))' | "$PY" -c '
import json, sys
for t in json.loads(sys.stdin.read()):
    print(t)' >>"$T/oauth-tokens"
sort -u "$T/oauth-tokens" -o "$T/oauth-tokens"
is "$(test "$(wc -l <"$T/oauth-tokens")" -ge 2 && echo yes)" yes "OAuth tokens of several runs to search for"
while read -r s; do
	short="…${s#"${s%??????}"}"
	is "$(grep -qF -- "$s" "$DB_DIR/log.jsonl" "$T/oauth-log.json" && echo found)" found \
	    "the search finds the OAuth token $short where it belongs (the emulator's log)"
done <"$T/oauth-tokens"
BASIC=$(printf '%s:%s' "$DB_CLIENT_ID" "$DB_CLIENT_SECRET" | base64 | tr -d '\n')
is "$(grep -qF -- "$BASIC" "$DB_DIR/log.jsonl" "$T/oauth-log.json" && echo found)" found \
    "the search finds the Basic credential where it belongs (the emulator's log)"
printf '%s\n%s\n%s\n' "$DB_TOKEN" "$DB_CLIENT_SECRET" "$BASIC" >>"$T/oauth-tokens"
while read -r s; do
	[ -n "$s" ] || continue
	short="…${s#"${s%??????}"}"
	is "$(grep -cF -- "$s" "$T/all-output")" 0 "secret $short in no command's output"
	for f in "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"; do
		[ -e "$f" ] || continue
		is "$(grep -acF -- "$s" "$f")" 0 "secret $short not in $(basename "$f")"
	done
	is "$(sqlite3 "$STATE" .dump | grep -cF -- "$s")" 0 "secret $short not in a dump of the state database"
done <"$T/oauth-tokens"

done_testing
