#!/bin/sh
# The `scim` connector against the SCIM 2.0 test server (scimmy): grants
# on merge with the approver recorded; self-approval refused; users read
# in pages of 50 (the matched user on the last page, matched by primary
# email); a group granted as a member of a group; one PatchOp per group
# per run (removes first, then one add); idempotence; drift revoked on
# managed groups while unmanaged groups and protected accounts stay;
# exactly named groups read by `displayName eq` filters (a quote in the
# name); errors: 409 on a PATCH (grant_failed, the other groups done),
# 400 during ingest (the platform skipped, nothing changed), 404 on a
# remove-only PATCH (done) and on an add (grant_failed); withdrawal;
# expiry to the second.  The truth is the server's state, and its request
# log is asserted.  The bearer token reaches nothing but the server.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
. "$TOP/tests/lib/scim.sh"
t_init

# --- the server's starting state ----------------------------------------------
# 120 filler users put zoe (userName zoe.z, primary email zoe@example.com
# listed after another address) at position 128: the third page of 50.
"$PY" - >"$T/seed.json" <<'EOF'
import json
users = [{"userName": n + "@example.com", "displayName": n.title(),
          "emails": [{"value": n + "@example.com", "type": "work", "primary": True}]}
         for n in ("alice", "bob", "carol", "dave", "frank")]
users.append({"userName": "erin@example.com", "displayName": "Erin"})   # no emails
users.append({"userName": "svc-etl", "emails": [{"value": "etl@example.com", "primary": True}]})
users += [{"userName": "u%03d@filler.example.org" % i} for i in range(1, 121)]
users.append({"userName": "zoe.z", "displayName": "Zoe",
              "emails": [{"value": "zoe@other.example.org", "type": "home"},
                         {"value": "zoe@example.com", "type": "work", "primary": True}]})
groups = [
    {"displayName": "analysts-sales", "members": ["svc-etl"]},
    {"displayName": "analysts-eu", "members": ["dave@example.com"]},
    {"displayName": "reporting", "members": []},
    {"displayName": "finance", "members": ["dave@example.com", "svc-etl"]},
    {"displayName": "ops", "members": []},
    {"displayName": 'ops "night"', "members": []},
]
print(json.dumps({"users": users, "groups": groups}))
EOF
scim_start "$T/seed.json"
NUSERS=$(scim_check 'len(d["users"])')
is "$NUSERS" 128 "server: 128 users"
is "$(scim_check '[u["userName"] for u in d["users"]].index("zoe.z") + 1')" 128 "server: zoe.z is user 128 (page 3 of 50)"

CONFIG="version: 1
branch: main
groups:
  data-owners: [bob@example.com, carol@example.com]
platforms:
  idp:
    type: scim
    url: $SCIM_URL
    token_env: SCIM_TOKEN
    page_size: 50
    managed: [\"group:analysts*\", \"group:reporting\"]
    protected_accounts: [\"svc-*\"]
    drift: enforce
    accounts: {match: email}
  ops:
    type: scim
    url: $SCIM_URL
    token_env: SCIM_TOKEN
    page_size: 50
    managed: [\"group:ops\", 'group:ops \"night\"']
    protected_accounts: [\"svc-*\"]
    drift: enforce
    accounts: {match: email}
safety:
  max_revoke: 50"
POLICY='rules:
  - platform: idp
    targets: ["group:analysts*", "group:reporting"]
    privileges: [member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d
  - platform: ops
    targets: ["group:ops*"]
    privileges: [member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d'
ar_init "$CONFIG" "$POLICY"

: >"$T/all-output"
# keep: append the last command's stdout and stderr to the secrets log.
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$T/all-output"; }

exit_is 0 "validate accepts scim platforms" acc validate; keep

ALICE_ID=$(scim_uid alice@example.com)
BOB_ID=$(scim_uid bob@example.com)
CAROL_ID=$(scim_uid carol@example.com)
DAVE_ID=$(scim_uid dave@example.com)
ERIN_ID=$(scim_uid erin@example.com)
FRANK_ID=$(scim_uid frank@example.com)
ZOE_ID=$(scim_uid zoe.z)
SALES=$(scim_gid analysts-sales)
EU=$(scim_gid analysts-eu)
REPORTING=$(scim_gid reporting)
FINANCE=$(scim_gid finance)
NIGHT=$(scim_gid 'ops "night"')
OPS=$(scim_gid ops)
# ids "a" "b" ...: the JSON list of those ids, sorted (as opsum() gives them).
ids() { printf '%s\n' "$@" | "$PY" -c 'import json,sys; print(json.dumps(sorted(l.strip() for l in sys.stdin if l.strip())))'; }
rm_op() { printf '["remove", "members[value eq \\"%s\\"]", null]' "$1"; }

APPROVED=2026-03-01T10:00:00Z
ALICE=requests/alice/sales.yaml
ar_pr alice $ALICE 'requester: alice@example.com
reason: sales analysis
duration: 7d
grants:
  - platform: idp
    target: group:analysts-sales' Bob bob@example.com $APPROVED
ALICE_MERGE=$(ar_head)
ar_pr zoe requests/zoe/sales.yaml 'requester: zoe@example.com
reason: on the last page of users
grants:
  - platform: idp
    target: group:analysts-sales' Carol carol@example.com $APPROVED
ERIN=requests/erin/reporting.yaml
ar_pr erin $ERIN 'requester: erin@example.com
reason: reports
grants:
  - platform: idp
    target: group:reporting' Bob bob@example.com $APPROVED
CAROL_EU=requests/carol/eu.yaml
ar_pr carol-eu $CAROL_EU 'requester: carol@example.com
reason: EU analysis
grants:
  - platform: idp
    target: group:analysts-eu' Bob bob@example.com $APPROVED
FRANK_EU=requests/frank/eu.yaml
ar_pr frank-eu $FRANK_EU 'requester: frank@example.com
reason: EU analysis too
grants:
  - platform: idp
    target: group:analysts-eu' Bob bob@example.com $APPROVED
FIN=requests/carol/finance-reporting.yaml
ar_pr finance $FIN 'requester: carol@example.com
reason: the finance group reads the reports
grants:
  - platform: idp
    target: group:reporting
    grantee: group:finance' Bob bob@example.com $APPROVED
ar_pr night requests/dave/night.yaml 'requester: dave@example.com
reason: night shift
grants:
  - platform: ops
    target: '"'"'group:ops "night"'"'"'' Carol carol@example.com $APPROVED
# Bob approves his own request: it does not count.
ar_pr self requests/bob/self.yaml 'requester: bob@example.com
reason: merged it myself
grants:
  - platform: idp
    target: group:analysts-sales' Bob bob@example.com $APPROVED
TIP=$(ar_head)
EXPIRES=$(t_add $APPROVED $((7 * 86400)))

# --- plan: reads everything, changes nothing ------------------------------------
NOW=2026-03-02T09:00:00Z
scim_log_clear
exit_is 0 "plan --json" acc --now $NOW --json plan; keep
is "$(ojv 'd["skipped"]')" "[]" "plan: nothing skipped"
is "$(ojv 'sorted((c["platform"], c["action"], c["reason"], c["account"], c["target"], c["privilege"]) for c in d["changes"])')" \
    '[["idp", "grant", "request", "alice@example.com", "group:analysts-sales", "member"], ["idp", "grant", "request", "carol@example.com", "group:analysts-eu", "member"], ["idp", "grant", "request", "erin@example.com", "group:reporting", "member"], ["idp", "grant", "request", "frank@example.com", "group:analysts-eu", "member"], ["idp", "grant", "request", "group:finance", "group:reporting", "member"], ["idp", "grant", "request", "zoe.z", "group:analysts-sales", "member"], ["idp", "revoke", "drift", "dave@example.com", "group:analysts-eu", "member"], ["ops", "grant", "request", "dave@example.com", "group:ops \"night\"", "member"]]' \
    "plan: seven approved grants (zoe.z by primary email) and dave's hand-made membership"
SCIMLOG=$(scim_log)
is "$(scimlog 'len(patches())')" 0 "server: plan sent no PATCH"
is "$(scimlog 'sorted(set(e["method"] for e in scim()))')" '["GET"]' "server: plan only read"
is "$(scimlog 'sorted(starts("Users"))')" '[1, 1, 51, 51, 101, 101]' \
    "server: each platform read Users at startIndex 1, 51 and 101"
is "$(scimlog 'sorted(set(qry(e).get("count") for e in gets()))')" '["50"]' "server: count=50 (page_size) on every list"
is "$(scimlog '[e["status"] for e in gets("Users")]')" '[200, 200, 200, 200, 200, 200]' "server: every page answered 200"
is "$(scimlog 'len([e for e in gets("Users") if "filter" in qry(e)])')" 0 "server: Users are listed, not filtered"
is "$(scimlog 'sorted(filters())')" '["displayName eq \"ops \\\"night\\\"\"", "displayName eq \"ops\""]' \
    'server: the exactly named groups read with displayName eq, the quote escaped JSON-style'
is "$(scimlog 'len([e for e in gets("Groups") if "filter" not in qry(e)])')" 1 \
    "server: a glob (group:analysts*) lists all groups once (one page)"
is "$(scimlog 'sorted(set(bearer(e) for e in scim()))')" "[\"$SCIM_TOKEN\"]" "server: the bearer on every request"
is "$(scim_members analysts-sales)" '["svc-etl"]' "server: plan granted nothing"
exit_is 2 "plan --detailed-exitcode exits 2 with changes pending" acc --now $NOW plan --detailed-exitcode; keep

# --- apply ---------------------------------------------------------------------------
scim_log_clear
exit_is 0 "apply exits 0" acc --now $NOW --json apply; keep
is "$(ojv 'd["commit"]')" "$TIP" "apply: commit is the tip"
is "$(ojv '[len(d["changes"]), len(sel(d["changes"], outcome="done"))]')" "[8, 8]" "apply: eight changes, all done"
C='sel(d["changes"], account="alice@example.com")[0]'
is "$(ojv "[${C}[k] for k in ('person', 'platform', 'request', 'approvers', 'expires_at', 'error')]")" \
    "[\"alice@example.com\", \"idp\", \"$ALICE\", [\"bob@example.com\"], \"$EXPIRES\", null]" \
    "apply: alice's grant: person, platform, request, approver, expiry"
is "$(ojv 'sel(d["changes"], account="zoe.z")[0]["person"]')" zoe@example.com "apply: zoe.z is zoe@example.com (primary email)"
is "$(ojv 'sel(d["changes"], account="erin@example.com")[0]["person"]')" erin@example.com \
    "apply: erin (no emails) matched by her userName"

is "$(scim_members analysts-sales)" '["alice@example.com", "svc-etl", "zoe.z"]' \
    "server: alice and zoe.z in analysts-sales; bob (self-approved) not; svc-etl kept"
is "$(scim_members analysts-eu)" '["carol@example.com", "frank@example.com"]' "server: analysts-eu: carol and frank, dave removed"
is "$(scim_members reporting)" '["erin@example.com", "group:finance"]' "server: reporting: erin and the group finance"
is "$(scim_members 'ops "night"')" '["dave@example.com"]' 'server: dave in ops "night"'
is "$(scim_members finance)" '["dave@example.com", "svc-etl"]' "server: finance (unmanaged) untouched"

SCIMLOG=$(scim_log)
is "$(scimlog 'sorted(pgid(e) for e in patches())')" "$(ids $SALES $EU $REPORTING $NIGHT)" \
    "server: exactly one PATCH for each of the four groups"
is "$(scimlog 'opsum(patches("'"$EU"'")[0])')" "[$(rm_op $DAVE_ID), [\"add\", \"members\", $(ids $CAROL_ID $FRANK_ID)]]" \
    "server: analysts-eu's PATCH: the remove first, then one add with both new members"
is "$(scimlog 'opsum(patches("'"$SALES"'")[0])')" "[[\"add\", \"members\", $(ids $ALICE_ID $ZOE_ID)]]" \
    "server: analysts-sales's PATCH: one add with alice and zoe.z"
is "$(scimlog 'opsum(patches("'"$REPORTING"'")[0])')" "[[\"add\", \"members\", $(ids $ERIN_ID $FINANCE)]]" \
    "server: reporting's PATCH adds erin and the finance group by id"
is "$(scimlog 'opsum(patches("'"$NIGHT"'")[0])')" "[[\"add\", \"members\", [\"$DAVE_ID\"]]]" "server: ops \"night\"'s PATCH"
is "$(scimlog 'sorted(set(json.dumps(patches()[i]["body"]["schemas"]) for i in range(len(patches()))))')" \
    '["[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"]"]' "server: every PATCH carries the PatchOp schema"
is "$(scimlog 'sorted(set(o["op"] for e in patches() for o in ops(e)))')" '["add", "remove"]' "server: op names in lower case"
is "$(scimlog 'sorted(set(list(v.keys()) == ["value"] for e in patches() for o in ops(e) if o["op"] == "add" for v in o["value"]))')" \
    '[true]' 'server: add values are {"value": id}'
is "$(scimlog 'sorted(set((hdr(e, "Content-Type") or "").split(";")[0].strip() for e in patches()))')" \
    '["application/scim+json"]' "server: PATCH bodies sent as application/scim+json"
is "$(scimlog 'sorted(set(e["status"] for e in patches()))')" '[200]' "server: every PATCH answered 200"

audit_json --action grant
R='sel(d["rows"], account="alice@example.com")'
is "$(aud "len($R)")" 1 "audit: one grant row for alice"
is "$(aud "[${R}[0][k] for k in ('platform', 'target', 'privilege', 'approvers', 'commit_sha', 'request', 'expires_at', 'at')]")" \
    "[\"idp\", \"group:analysts-sales\", \"member\", \"bob@example.com\", \"$ALICE_MERGE\", \"$ALICE\", \"$EXPIRES\", \"$NOW\"]" \
    "audit: alice's row names the approver, merge commit, request and expiry"
is "$(aud 'sorted(r["account"] for r in d["rows"])')" \
    '["alice@example.com", "carol@example.com", "dave@example.com", "erin@example.com", "frank@example.com", "group:finance", "zoe.z"]' \
    "audit: seven grant rows (not bob's)"
audit_json --action revoke
is "$(aud '[(r["reason"], r["account"], r["target"]) for r in d["rows"]]')" \
    '[["drift", "dave@example.com", "group:analysts-eu"]]' "audit: the drift revoke"

# --- idempotence ------------------------------------------------------------------------
LATER=2026-03-02T10:00:00Z
scim_log_clear
exit_is 0 "plan --detailed-exitcode exits 0 once applied" acc --now $LATER plan --detailed-exitcode; keep
exit_is 0 "second apply exits 0" acc --now $LATER --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "second apply changes nothing"
SCIMLOG=$(scim_log)
is "$(scimlog 'len(patches())')" 0 "server: no PATCH the second time"
is "$(scimlog 'len(gets("Users")) >= 6')" true "server: ... though it read again"

# --- drift -----------------------------------------------------------------------------------
scim_state_edit '
d["users"].append({"userName": "svc-backup"})
group("analysts-sales")["members"] += [{"value": user("dave@example.com")["id"]}, {"userName": "svc-backup"}]
group("reporting")["members"].append({"value": user("bob@example.com")["id"]})
group("finance")["members"].append({"value": user("erin@example.com")["id"]})
group("ops")["members"].append({"value": user("frank@example.com")["id"]})'
is "$(scim_members analysts-sales)" '["alice@example.com", "dave@example.com", "svc-backup", "svc-etl", "zoe.z"]' \
    "hand-made: dave and svc-backup in analysts-sales"
NOW=2026-03-03T09:00:00Z
exit_is 0 "plan --json with hand-made members" acc --now $NOW --json plan; keep
is "$(ojv 'sorted((c["platform"], c["action"], c["reason"], c["account"], c["target"]) for c in d["changes"])')" \
    '[["idp", "revoke", "drift", "bob@example.com", "group:reporting"], ["idp", "revoke", "drift", "dave@example.com", "group:analysts-sales"], ["ops", "revoke", "drift", "frank@example.com", "group:ops"]]' \
    "plan: the three hand-made members of managed groups, to revoke"
scim_log_clear
exit_is 0 "apply revokes drift" acc --now $NOW --json apply; keep
is "$(ojv 'len(sel(d["changes"], action="revoke", reason="drift", outcome="done"))')" 3 "apply: three drift revokes done"
is "$(scim_members analysts-sales)" '["alice@example.com", "svc-backup", "svc-etl", "zoe.z"]' \
    "server: dave revoked from analysts-sales; svc-backup (protected, svc-*) stays"
is "$(scim_members reporting)" '["erin@example.com", "group:finance"]' "server: bob revoked from reporting"
is "$(scim_members ops)" '[]' "server: frank revoked from ops"
is "$(scim_members finance)" '["dave@example.com", "erin@example.com", "svc-etl"]' "server: unmanaged finance untouched"
SCIMLOG=$(scim_log)
is "$(scimlog 'sorted([pgid(e), opsum(e)] for e in patches())')" \
    "$("$PY" -c 'import json,sys; a=sys.argv[1:]; print(json.dumps(sorted([[a[i], [["remove", "members[value eq \"%s\"]" % a[i+1], None]]] for i in (0, 2, 4)])))' \
    "$SALES" "$DAVE_ID" "$REPORTING" "$BOB_ID" "$OPS" "$FRANK_ID")" \
    "server: one remove-only PATCH per group"

# --- 409 on a PATCH ------------------------------------------------------------------------------
ar_pr erin-sales requests/erin/sales.yaml 'requester: erin@example.com
reason: sales too
grants:
  - platform: idp
    target: group:analysts-sales' Carol carol@example.com 2026-03-04T08:00:00Z
ar_pr frank-rep requests/frank/reporting.yaml 'requester: frank@example.com
reason: reports too
grants:
  - platform: idp
    target: group:reporting' Carol carol@example.com 2026-03-04T08:00:00Z
NOW=2026-03-04T09:00:00Z
scim_log_clear
scim_fault '{"method": "PATCH", "path": "/Groups/'"$SALES"'$", "status": 409, "scimType": "uniqueness", "detail": "member conflict on analysts-sales", "times": 1}'
exit_is 3 "apply with a 409 on one group's PATCH exits 3" acc --now $NOW --json apply; keep
is "$(ojv 'sorted((c["account"], c["target"], c["outcome"]) for c in d["changes"])')" \
    '[["erin@example.com", "group:analysts-sales", "failed"], ["frank@example.com", "group:reporting", "done"]]' \
    "apply: erin's grant failed, frank's (another group) done"
E=$(ojv 'sel(d["changes"], account="erin@example.com")[0]["error"] or ""')
like "$E" '409' "apply: the error names HTTP 409"
like "$E" 'uniqueness' "apply: ... the scimType"
like "$E" 'member conflict on analysts-sales' "apply: ... and the detail"
is "$(scim_member analysts-sales erin@example.com):$(scim_member reporting frank@example.com)" f:t \
    "server: erin not added, frank added"
SCIMLOG=$(scim_log)
is "$(scimlog '[(pgid(e), e["status"]) for e in patches("'"$SALES"'")]')" "[[\"$SALES\", 409]]" \
    "server: the one PATCH to analysts-sales got the 409 (not retried)"
audit_json --action grant_failed
is "$(aud '[(r["account"], r["target"]) for r in d["rows"]]')" '[["erin@example.com", "group:analysts-sales"]]' \
    "audit: a grant_failed row for erin"
like "$(aud 'd["rows"][0]["detail"] or ""')" '409.*uniqueness.*member conflict on analysts-sales|uniqueness.*409' \
    "audit: its detail holds the status, scimType and detail"
scim_log_clear
exit_is 0 "the next apply grants it" acc --now 2026-03-04T10:00:00Z --json apply; keep
is "$(ojv '[(c["account"], c["outcome"]) for c in d["changes"]]')" '[["erin@example.com", "done"]]' "apply: only erin's grant, done"
is "$(scim_member analysts-sales erin@example.com)" t "server: erin added"

# --- 400 during ingest: skipped, nothing changed --------------------------------------------------
ar_pr bob-rep requests/bob/reporting.yaml 'requester: bob@example.com
reason: reports
grants:
  - platform: idp
    target: group:reporting' Carol carol@example.com 2026-03-05T08:00:00Z
ar_pr carol-ops requests/carol/ops.yaml 'requester: carol@example.com
reason: operations
grants:
  - platform: ops
    target: group:ops' Bob bob@example.com 2026-03-05T08:00:00Z
NOW=2026-03-05T09:00:00Z
BEFORE_STATE=$(scim_check '[(g["displayName"], sorted(m["value"] for m in g["members"])) for g in d["groups"]]')
scim_log_clear
scim_fault '{"method": "GET", "path": "/Users$", "query": "startIndex=51", "status": 400, "scimType": "invalidFilter", "detail": "page two refused", "times": 10}'
exit_is 3 "apply with a 400 on page two of Users exits 3" acc --now $NOW --json apply; keep
is "$(ojv 'sorted(s["platform"] for s in d["skipped"])')" '["idp", "ops"]' "apply: both platforms skipped"
like "$(ojv '" ".join(s["error"] for s in d["skipped"])')" '400' "apply: the skip names HTTP 400"
like "$(ojv '" ".join(s["error"] for s in d["skipped"])')" 'invalidFilter' "apply: ... and invalidFilter"
is "$(ojv 'len([c for c in d["changes"] if c.get("outcome") == "done"])')" 0 "apply: nothing done"
SCIMLOG=$(scim_log)
is "$(scimlog 'len(patches())')" 0 "server: no PATCH"
is "$(scim_check '[(g["displayName"], sorted(m["value"] for m in g["members"])) for g in d["groups"]]')" "$BEFORE_STATE" \
    "server: no group changed"
scim_faults_clear

# A 400 invalidFilter on the displayName filter: only the platform that
# filters (ops) is skipped.
scim_log_clear
scim_fault '{"method": "GET", "path": "/Groups$", "query": "filter=", "status": 400, "scimType": "invalidFilter", "detail": "filter refused", "times": 10}'
exit_is 3 "apply with a 400 invalidFilter on the group filter exits 3" acc --now $NOW --json apply; keep
is "$(ojv '[s["platform"] for s in d["skipped"]]')" '["ops"]' "apply: ops skipped"
like "$(ojv '" ".join(s["error"] for s in d["skipped"])')" 'invalidFilter' "apply: the skip names invalidFilter"
is "$(ojv '[(c["platform"], c["account"], c["target"], c.get("outcome")) for c in d["changes"]]')" \
    '[["idp", "bob@example.com", "group:reporting", "done"]]' "apply: idp's change done, nothing on ops"
is "$(scim_member ops carol@example.com):$(scim_member reporting bob@example.com)" f:t "server: carol not in ops; bob in reporting"
SCIMLOG=$(scim_log)
is "$(scimlog '[pgid(e) for e in patches()]')" "[\"$REPORTING\"]" "server: the one PATCH went to reporting"
scim_faults_clear
exit_is 0 "then ops is applied" acc --now $NOW --json apply; keep
is "$(scim_member ops carol@example.com)" t "server: carol in ops"

# --- withdrawal ----------------------------------------------------------------------------------------
# The server answers this PATCH 204 No Content (RFC 7644 §3.5.2 allows
# 200 with the resource or 204).
ar_rm 2026-03-06T08:00:00Z $ERIN
NOW=2026-03-06T09:00:00Z
scim_log_clear
scim_config '{"patch_status": 204}'
exit_is 0 "apply after a request is deleted" acc --now $NOW --json apply; keep
scim_config '{"patch_status": null}'
is "$(ojv '[(c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["revoke", "withdrawn", "erin@example.com", "group:reporting", "done"]]' "apply: erin's reporting grant withdrawn"
is "$(scim_members reporting)" '["bob@example.com", "frank@example.com", "group:finance"]' "server: erin no longer in reporting"
SCIMLOG=$(scim_log)
is "$(scimlog '[[pgid(e), e["status"], opsum(e)] for e in patches()]')" "[[\"$REPORTING\", 204, [$(rm_op $ERIN_ID)]]]" \
    "server: exactly one PATCH removing erin, answered 204"
audit_json --action revoke --since $NOW
is "$(aud '[(r["reason"], r["request"]) for r in d["rows"]]')" "[[\"withdrawn\", \"$ERIN\"]]" "audit: the withdrawn revoke names its request"

# --- expiry, to the second ----------------------------------------------------------------------------------
BEFORE=$(t_add $EXPIRES -1)
exit_is 0 "plan --detailed-exitcode one second before expiry: nothing to do" \
    acc --now "$BEFORE" plan --detailed-exitcode; keep
exit_is 2 "plan --detailed-exitcode at expiry: changes pending" acc --now "$EXPIRES" plan --detailed-exitcode; keep
scim_log_clear
exit_is 0 "apply at expiry" acc --now "$EXPIRES" --json apply; keep
is "$(ojv '[(c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["revoke", "expired", "alice@example.com", "group:analysts-sales", "done"]]' "apply: alice's membership expired"
is "$(scim_member analysts-sales alice@example.com):$(scim_member analysts-sales zoe.z)" f:t "server: alice removed, zoe.z stays"
SCIMLOG=$(scim_log)
is "$(scimlog '[[pgid(e), opsum(e)] for e in patches()]')" "[[\"$SALES\", [$(rm_op $ALICE_ID)]]]" "server: exactly one PATCH removing alice"
exit_is 0 "apply after expiry" acc --now "$(t_add $EXPIRES 3600)" --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "an expired grant is not granted again"

# --- 404 on a remove-only PATCH: done; on an add: grant_failed ------------------------------------------------
# Both analysts-eu requests withdrawn: one PATCH with two removes, answered
# 404 as though the group were deleted in between.
ar_rm 2026-03-09T08:00:00Z $CAROL_EU $FRANK_EU
NOW=2026-03-09T09:00:00Z
scim_log_clear
scim_fault '{"method": "PATCH", "path": "/Groups/'"$EU"'$", "status": 404, "detail": "Resource '"$EU"' not found", "times": 1}'
exit_is 0 "apply: a 404 on a remove-only PATCH is success" acc --now $NOW --json apply; keep
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"])')" \
    '[["revoke", "withdrawn", "carol@example.com", "group:analysts-eu", "done"], ["revoke", "withdrawn", "frank@example.com", "group:analysts-eu", "done"]]' \
    "apply: both removes done"
SCIMLOG=$(scim_log)
is "$(scimlog '[[pgid(e), e["status"], opsum(e)] for e in patches()]')" \
    "[[\"$EU\", 404, [$(rm_op $CAROL_ID), $(rm_op $FRANK_ID)]]]" "server: one PATCH with both removes, answered 404" 
# Make the server agree: the group is gone.
scim_state_edit 'd["groups"] = [g for g in d["groups"] if g["displayName"] != "analysts-eu"]'
exit_is 0 "plan --detailed-exitcode: nothing left to do for the deleted group" acc --now $NOW plan --detailed-exitcode; keep

ar_pr dave-sales requests/dave/sales.yaml 'requester: dave@example.com
reason: sales
grants:
  - platform: idp
    target: group:analysts-sales' Bob bob@example.com 2026-03-09T10:00:00Z
NOW=2026-03-09T11:00:00Z
scim_log_clear
scim_fault '{"method": "PATCH", "path": "/Groups/'"$SALES"'$", "status": 404, "detail": "Resource '"$SALES"' not found", "times": 1}'
exit_is 3 "apply: a 404 on a PATCH that adds exits 3" acc --now $NOW --json apply; keep
is "$(ojv '[(c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["dave@example.com", "group:analysts-sales", "failed"]]' "apply: dave's grant failed"
like "$(ojv 'd["changes"][0]["error"] or ""')" '404' "apply: the error names HTTP 404"
audit_json --action grant_failed --since $NOW
is "$(aud '[(r["account"], r["target"]) for r in d["rows"]]')" '[["dave@example.com", "group:analysts-sales"]]' \
    "audit: grant_failed for dave"
is "$(scim_member analysts-sales dave@example.com)" f "server: dave not added"
exit_is 0 "the next apply grants it" acc --now 2026-03-09T12:00:00Z apply; keep
is "$(scim_member analysts-sales dave@example.com)" t "server: dave added"
exit_is 0 "audit verify" acc audit verify; keep

# --- a crash after the batch call: the intents are settled by the next run ---------------------------
# Two changes go out in one PATCH, their intents committed together
# beforehand; the process dies before recording the outcomes.
ar_pr crash requests/carol/crash.yaml 'requester: carol@example.com
reason: two groups at once
duration: 30d
grants:
  - platform: idp
    target: group:analysts-sales
  - platform: idp
    target: group:reporting' Bob bob@example.com 2026-03-09T13:00:00Z
ACCORD_TEST_CRASH=after-call
export ACCORD_TEST_CRASH
exit_is 70 "apply dies right after the batch call" acc --now 2026-03-09T14:00:00Z apply; keep
unset ACCORD_TEST_CRASH
is "$(scim_member analysts-sales carol@example.com)$(scim_member reporting carol@example.com)" tt \
    "server: both memberships were made"
is "$(sqlite3 "$STATE" "SELECT count(*) FROM intents WHERE outcome IS NULL OR outcome = ''" 2>/dev/null || echo "?")" 2 \
    "state: two intents left pending"
exit_is 0 "the next apply settles them" acc --now 2026-03-09T15:00:00Z --json apply; keep
is "$(ojv '[c for c in d["changes"] if c["account"] == "carol@example.com"]')" "[]" \
    "nothing revoked or granted again for carol"
audit_json --since 2026-03-09T14:00:00Z
is "$(aud 'sorted((r["action"], r["target"], r["at"]) for r in d["rows"] if "recovered" in (r["detail"] or ""))')" \
    '[["grant", "group:analysts-sales", "2026-03-09T14:00:00Z"], ["grant", "group:reporting", "2026-03-09T14:00:00Z"]]' \
    "audit: both grants recorded as recovered, dated when the interrupted run made them"
is "$(scim_member analysts-sales carol@example.com)$(scim_member reporting carol@example.com)" tt \
    "server: both memberships stay"

# --- secrets ---------------------------------------------------------------------------------------------------
ar_rm 2026-03-10T08:00:00Z requests/bob/reporting.yaml
exit_is 0 "plan -vv" acc --now 2026-03-10T09:00:00Z -vv plan; keep
like "$ERR" 'Users|Groups' "-vv traces the requests"
exit_is 0 "apply -vv" acc --now 2026-03-10T09:00:00Z -vv apply; keep
is "$(scim_member reporting bob@example.com)" f "server: bob's withdrawn membership revoked"
for f in table json csv; do
	run acc audit --format $f; keep
done
is "$(grep -cF -- "$SCIM_TOKEN" "$T/all-output")" 0 "the token in no command's output"
for f in "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"; do
	[ -e "$f" ] || continue
	is "$(grep -acF -- "$SCIM_TOKEN" "$f")" 0 "the token not in $(basename "$f")"
done
is "$(sqlite3 "$STATE" .dump | grep -cF -- "$SCIM_TOKEN")" 0 "the token not in a dump of the state database"
is "$(grep -rlF -- "$SCIM_TOKEN" "$AR" | wc -l | tr -d ' ')" 0 "the token not in the access repository"
is "$(grep -qF -- "$SCIM_TOKEN" "$SCIM_DIR/log.jsonl" && echo found)" found \
    "the search finds the token where it belongs (the server's log)"
# Every request of the scenario, not only those since the last clear.
SCIMLOG=$(cat "$SCIM_DIR/log-all.jsonl" "$SCIM_DIR/log.jsonl" | "$PY" -c 'import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin if l.strip()]))')
is "$(scimlog 'len(L) > 100 and len(patches()) > 15')" true "the whole scenario's log: $(scimlog 'len(L)') requests"
is "$(scimlog 'len([e for e in L if hdr(e, "Authorization") != "Bearer " + sys.argv[3]])' "$SCIM_TOKEN")" 0 \
    "server: every request carried exactly the bearer" 
is "$(scimlog 'len([e for e in L if sys.argv[3] in json.dumps({k: v for k, v in e.items() if k != "headers"}) or sys.argv[3] in json.dumps({k: v for k, v in (e.get("headers") or {}).items() if k.lower() != "authorization"})])' "$SCIM_TOKEN")" 0 \
    "server: the token nowhere but the Authorization header"

done_testing
