#!/bin/sh
# The spine's scenario against the Snowflake SQL API emulator: grants on
# merge (role membership to a user, a role to a role, SELECT on a table to
# a role) with the approver recorded; a role whose name holds a double
# quote; users past the first SHOW USERS page (the cursor a string literal
# with a quote and a backslash); self-approval and a deny rule grant
# nothing; idempotence; drift revoked on managed targets while unmanaged
# and protected grants stay; withdrawal by deletion; expiry to the second.
# The truth is the emulator's state, and its request log is asserted:
# exact statements, quoting, headers, requestId, the JWT's claims.  No
# secret (the private key, the JWT) reaches accord's output or state.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

# --- the emulator's starting state --------------------------------------------
# 1100 filler users between DAVE and ZOE put ZOE on the second SHOW USERS
# page; the 1000th user in name order, M_0993'O\K, is the cursor.
"$PY" - >"$T/seed.json" <<'EOF'
import json
users = [("ALICE", "alice", "alice@example.com"), ("BOB", "bob", "bob@example.com"),
         ("CAROL", "carol", "carol@example.com"), ("DAVE", "dave", "dave@example.com"),
         ("ERIN", "erin", "Erin@EXAMPLE.com"), ("ETL_SERVICE", "etl", "etl@example.com"),
         ("ZOE", "zoe", "zoe@example.com")]
for i in range(1100):
    n = "M_%04d" % i
    if i == 993:
        n += "'O\\K"
    users.append((n, n.lower(), "m%04d@filler.example.org" % i))
roles = ["ANALYST_SALES", "ANALYST_ADMIN", 'ANALYST_"Q"', "REPORTING", "FINANCE_APP",
         "HANDMADE", "ETL_ROLE", "FINANCE_ROLE", "SYSADMIN", "SECURITYADMIN", "PUBLIC"]
print(json.dumps({
    "users": [{"name": n, "login_name": l, "email": e} for n, l, e in users],
    "roles": [{"name": r} for r in roles],
    "role_grants": [
        {"role": "ANALYST_SALES", "granted_to": "USER", "grantee_name": "ETL_SERVICE"},
        {"role": "ANALYST_SALES", "granted_to": "ROLE", "grantee_name": "SYSADMIN"},
        {"role": "FINANCE_ROLE", "granted_to": "USER", "grantee_name": "CAROL"},
    ],
    "privileges": [
        {"privilege": "OWNERSHIP", "granted_on": "TABLE", "name": "SALES.PUBLIC.ORDERS", "grantee_name": "SYSADMIN"},
        {"privilege": "SELECT", "granted_on": "TABLE", "name": "SALES.PUBLIC.ORDERS", "grantee_name": "ETL_ROLE"},
        {"privilege": "SELECT", "granted_on": "TABLE", "name": "FINANCE.PUBLIC.LEDGER", "grantee_name": "HANDMADE"},
        {"privilege": "USAGE", "granted_on": "WAREHOUSE", "name": "ADMIN_WH", "grantee_name": "SECURITYADMIN"},
    ],
}))
EOF
sf_start "$T/seed.json"

CONFIG="version: 1
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
    warehouse: ADMIN_WH
    auth: keypair
    private_key_file: $SF_KEY
    managed: [\"role:ANALYST_*\", 'role:\"ANALYST_*', \"role:REPORTING\", \"table:SALES.PUBLIC.*\"]
    protected_accounts: [ETL_SERVICE, \"role:SYSADMIN\", \"role:ETL_*\"]
    drift: enforce
    accounts:
      match: email
    timeout: 10s
    concurrency: 4
safety:
  max_revoke: 50"
POLICY='rules:
  - platform: snow
    targets: ["role:ANALYST_*", '"'"'role:"ANALYST_*'"'"', "role:REPORTING", "table:SALES.PUBLIC.ORDERS"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d
  - platform: "*"
    targets: ["role:*ADMIN*"]
    deny: true'
ar_init "$CONFIG" "$POLICY"

: >"$T/all-output"
# keep: append the last command's stdout and stderr to the secrets log.
keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$T/all-output"; }

exit_is 0 "validate accepts a snowflake platform" acc validate; keep

APPROVED=2026-03-01T10:00:00Z
ALICE=requests/alice/sales.yaml
FIN=requests/carol/finance-app.yaml
REP=requests/carol/reporting.yaml
ar_pr alice $ALICE 'requester: alice@example.com
reason: sales analysis
duration: 7d
grants:
  - platform: snow
    target: role:ANALYST_SALES' Bob bob@example.com $APPROVED
ALICE_MERGE=$(ar_head)
ar_pr finance-app $FIN 'requester: carol@example.com
reason: the finance app reads the reports
duration: 30d
grants:
  - platform: snow
    target: role:REPORTING
    grantee: role:FINANCE_APP' Bob bob@example.com $APPROVED
ar_pr reporting $REP 'requester: carol@example.com
reason: reporting reads orders
duration: 30d
grants:
  - platform: snow
    target: table:SALES.PUBLIC.ORDERS
    privilege: SELECT
    grantee: role:REPORTING' Bob bob@example.com $APPROVED
ar_pr quote requests/erin/quote.yaml 'requester: erin@example.com
reason: a role with a quote in its name
duration: 30d
grants:
  - platform: snow
    target: '"'"'role:"ANALYST_""Q"""'"'"'' Carol carol@example.com $APPROVED
ar_pr zoe requests/zoe/sales.yaml 'requester: zoe@example.com
reason: past the first page of users
duration: 30d
grants:
  - platform: snow
    target: role:ANALYST_SALES' Carol carol@example.com $APPROVED
# Bob approves his own request: it does not count.
ar_pr self requests/bob/self.yaml 'requester: bob@example.com
reason: merged it myself
duration: 7d
grants:
  - platform: snow
    target: role:ANALYST_SALES' Bob bob@example.com $APPROVED
# Allowed by role:ANALYST_*, denied by role:*ADMIN* (listed after it).
ar_pr admin requests/carol/admin.yaml 'requester: carol@example.com
reason: administer the analysts
duration: 7d
grants:
  - platform: snow
    target: role:ANALYST_ADMIN' Bob bob@example.com $APPROVED
TIP=$(ar_head)
EXPIRES=$(t_add $APPROVED $((7 * 86400)))

# --- plan: reads, changes nothing --------------------------------------------------
NOW=2026-03-02T09:00:00Z
sf_log_clear
exit_is 0 "plan --json" acc --now $NOW --json plan; keep
is "$(ojv 'd["skipped"]')" "[]" "plan: nothing skipped"
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["privilege"]) for c in d["changes"])')" \
    '[["grant", "request", "ALICE", "role:ANALYST_SALES", "member"], ["grant", "request", "ERIN", "role:\"ANALYST_\"\"Q\"\"\"", "member"], ["grant", "request", "ZOE", "role:ANALYST_SALES", "member"], ["grant", "request", "role:FINANCE_APP", "role:REPORTING", "member"], ["grant", "request", "role:REPORTING", "table:SALES.PUBLIC.ORDERS", "SELECT"]]' \
    "plan: exactly the five approved, allowed grants"
SFLOG=$(sf_log)
is "$(sflog 'dcl()')" "[]" "emulator: plan sent no GRANT or REVOKE"
is "$(sflog '[s for s in stmts() if re.match("SHOW (USERS|ROLES)", s)]')" \
    '["SHOW USERS LIMIT 1000", "SHOW USERS LIMIT 1000 FROM '"'M_0993''O\\\\\\\\K'"'", "SHOW ROLES LIMIT 1000"]' \
    "emulator: users read in pages of 1000, the cursor a quoted string literal, then roles"
is "$(sflog 'sorted(s for s in stmts() if s.startswith("SHOW GRANTS OF"))')" \
    '["SHOW GRANTS OF ROLE \"ANALYST_\"\"Q\"\"\"", "SHOW GRANTS OF ROLE \"ANALYST_ADMIN\"", "SHOW GRANTS OF ROLE \"ANALYST_SALES\"", "SHOW GRANTS OF ROLE \"REPORTING\""]' \
    "emulator: SHOW GRANTS OF ROLE for exactly the managed roles, quoted"
NROLES=$(sf_state | jv 'len(d["roles"])')
is "$(sflog 'sorted(set(s[20:] for s in stmts() if s.startswith("SHOW GRANTS TO ROLE ")))')" \
    "$(sf_state | jv 'sorted("\"" + r["name"].replace("\"", "\"\"") + "\"" for r in d["roles"])')" \
    "emulator: SHOW GRANTS TO ROLE for each of the $NROLES roles (a table glob is managed)"
is "$(sflog 'len([s for s in stmts() if s == "SHOW GRANTS TO ROLE \"ANALYST_\"\"Q\"\"\""])')" 1 \
    "emulator: SHOW GRANTS TO ROLE quotes a name with a double quote"
is "$(sf_member ALICE USER ANALYST_SALES):$(sf_member ANALYST_SALES USER ALICE)" f:f "emulator: plan granted nothing"

exit_is 2 "plan --detailed-exitcode exits 2 with changes pending" acc --now $NOW plan --detailed-exitcode; keep

# --- apply ---------------------------------------------------------------------
sf_log_clear
exit_is 0 "apply exits 0" acc --now $NOW --json apply; keep
is "$(ojv 'd["commit"]')" "$TIP" "apply: commit is the tip"
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 5 "apply: five grants done"
is "$(ojv 'len(d["changes"])')" 5 "apply: nothing else"
C='sel(d["changes"], account="ALICE")[0]'
is "$(ojv "[${C}[k] for k in ('person', 'platform', 'request', 'approvers', 'expires_at', 'error')]")" \
    "[\"alice@example.com\", \"snow\", \"$ALICE\", [\"bob@example.com\"], \"$EXPIRES\", null]" \
    "apply: alice's grant: person, platform, request, approver, expiry"
is "$(ojv 'sel(d["changes"], account="role:FINANCE_APP")[0]["request"]')" "$FIN" \
    "apply: a role grantee's change names its request"
is "$(ojv 'sel(d["changes"], account="ERIN")[0]["person"]')" erin@example.com \
    "apply: email matched case-insensitively (Erin@EXAMPLE.com)"

# The truth is the emulator.
is "$(sf_member ANALYST_SALES USER ALICE)" t "emulator: ALICE holds ANALYST_SALES"
is "$(sf_member REPORTING ROLE FINANCE_APP)" t "emulator: FINANCE_APP holds REPORTING"
is "$(sf_priv SELECT TABLE SALES.PUBLIC.ORDERS REPORTING)" t "emulator: REPORTING has SELECT on SALES.PUBLIC.ORDERS"
is "$(sf_member 'ANALYST_"Q"' USER ERIN)" t "emulator: ERIN holds ANALYST_\"Q\""
is "$(sf_member ANALYST_SALES USER ZOE)" t "emulator: ZOE (second page of users) holds ANALYST_SALES"
is "$(sf_member ANALYST_SALES USER BOB)" f "emulator: self-approval granted nothing"
is "$(sf_member ANALYST_ADMIN USER CAROL)" f "emulator: the deny rule won"
is "$(sf_member ANALYST_SALES USER CAROL)" f "emulator: carol (requester for roles) got nothing herself"
is "$(sf_member ANALYST_SALES USER ETL_SERVICE):$(sf_member ANALYST_SALES ROLE SYSADMIN)" t:t \
    "emulator: protected holders untouched"

SFLOG=$(sf_log)
is "$(sflog 'sorted(dcl())')" \
    '["GRANT ROLE \"ANALYST_\"\"Q\"\"\" TO USER \"ERIN\"", "GRANT ROLE \"ANALYST_SALES\" TO USER \"ALICE\"", "GRANT ROLE \"ANALYST_SALES\" TO USER \"ZOE\"", "GRANT ROLE \"REPORTING\" TO ROLE \"FINANCE_APP\"", "GRANT SELECT ON TABLE \"SALES\".\"PUBLIC\".\"ORDERS\" TO ROLE \"REPORTING\""]' \
    "emulator: exactly the five GRANT statements, every identifier quoted"
is "$(sflog 'len(posts()) > 20 and len(posts()) == len(stmts())')" true "emulator: the apply's statements were logged"
is "$(sflog '[e.get("path") for e in posts() if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", qry(e).get("requestId", ""))]')" \
    "[]" "emulator: every POST carries a UUID v4 requestId"
is "$(sflog 'len(set(qry(e)["requestId"] for e in posts())) == len(posts())')" true \
    "emulator: requestIds are unique (no retries here)"
is "$(sflog '[s for e in posts() if qry(e).get("retry") for s in [stmt(e)]]')" "[]" "emulator: no retry=true without a retry"
is "$(sflog 'sorted(set(hdr(e, "X-Snowflake-Authorization-Token-Type") for e in api()))')" '["KEYPAIR_JWT"]' \
    "emulator: X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT on every request"
is "$(sflog 'len([e for e in api() if not (hdr(e, "Authorization") or "").startswith("Bearer ey")])')" 0 \
    "emulator: Authorization: Bearer <JWT> on every request"
is "$(sflog 'sorted(set(hdr(e, "Accept") for e in api()))')" '["application/json"]' "emulator: Accept: application/json"
is "$(sflog 'sorted(set((hdr(e, "Content-Type") or "").split(";")[0].strip() for e in posts()))')" '["application/json"]' \
    "emulator: Content-Type: application/json on every POST"
is "$(sflog 'sorted(set(re.sub(r"/.*", "/", hdr(e, "User-Agent") or "") for e in api()))')" '["accord/"]' \
    "emulator: User-Agent: accord/VERSION"
is "$(sflog 'sorted(set((e["body"].get("role"), e["body"].get("warehouse"), e["body"].get("timeout")) for e in posts()))')" \
    '[["SECURITYADMIN", "ADMIN_WH", 60]]' "emulator: every body has role, warehouse and timeout 60"
is "$(sflog 'sorted(set(str(e.get("status")) for e in api()))')" '["200"]' "emulator: every request answered 200"
is "$(sflog 'len(set(bearer(e) for e in api()))')" 1 "emulator: one JWT for the whole run"
is "$(sflog 'jwt(api()[0])[0]')" '{"alg": "RS256", "typ": "JWT"}' "JWT header: RS256"
is "$(sflog 'jwt(api()[0])[1]["iss"]')" "XY12345.ACCORD_SVC.$SF_FP" "JWT iss: ACCOUNT.USER.SHA256:<fingerprint>"
is "$(sflog 'jwt(api()[0])[1]["sub"]')" "XY12345.ACCORD_SVC" "JWT sub: ACCOUNT.USER"
is "$(sflog '(lambda c: 0 < c["exp"] - c["iat"] <= 3600)(jwt(api()[0])[1])')" true "JWT lifetime at most one hour"
is "$(sflog 'abs(jwt(api()[0])[1]["iat"] - __import__("time").time()) < 600')" true \
    "JWT iat is the real clock, not --now"

# --- audit -----------------------------------------------------------------------
audit_json --action grant
R='sel(d["rows"], account="ALICE")'
is "$(aud "len($R)")" 1 "audit: one grant row for ALICE"
is "$(aud "[${R}[0][k] for k in ('platform', 'target', 'privilege', 'approvers', 'commit_sha', 'request', 'expires_at', 'at')]")" \
    "[\"snow\", \"role:ANALYST_SALES\", \"member\", \"bob@example.com\", \"$ALICE_MERGE\", \"$ALICE\", \"$EXPIRES\", \"$NOW\"]" \
    "audit: ALICE's row names approver, merge commit, request and expiry"
is "$(aud 'sorted(r["account"] for r in d["rows"])')" \
    '["ALICE", "ERIN", "ZOE", "role:FINANCE_APP", "role:REPORTING"]' "audit: five grant rows"
is "$(aud 'sel(d["rows"], account="role:REPORTING")[0]["approvers"]')" bob@example.com "audit: the table grant's approver"
audit_json --action denied
is "$(aud 'sorted(r["target"] for r in d["rows"])')" '["role:ANALYST_ADMIN"]' "audit: the denied request"

# --- idempotence -------------------------------------------------------------------
LATER=2026-03-02T10:00:00Z
sf_log_clear
exit_is 0 "plan --detailed-exitcode exits 0 once applied" acc --now $LATER plan --detailed-exitcode; keep
exit_is 0 "second apply exits 0" acc --now $LATER --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "second apply changes nothing"
SFLOG=$(sf_log)
is "$(sflog 'dcl()')" "[]" "emulator: no GRANT or REVOKE sent the second time"

# --- drift -------------------------------------------------------------------------
sf_state_edit '
d["role_grants"] += [
    {"role": "ANALYST_SALES", "granted_to": "USER", "grantee_name": "DAVE"},
    {"role": "REPORTING", "granted_to": "ROLE", "grantee_name": "HANDMADE"},
    {"role": "ANALYST_SALES", "granted_to": "ROLE", "grantee_name": "ETL_ROLE"},
    {"role": "FINANCE_ROLE", "granted_to": "USER", "grantee_name": "DAVE"},
]
d["privileges"] += [
    {"privilege": "SELECT", "granted_on": "TABLE", "name": "SALES.PUBLIC.CUSTOMERS", "grantee_name": "HANDMADE"},
    {"privilege": "INSERT", "granted_on": "TABLE", "name": "FINANCE.PUBLIC.LEDGER", "grantee_name": "HANDMADE"},
]'
NOW=2026-03-03T09:00:00Z
exit_is 0 "plan --json with hand-made grants" acc --now $NOW --json plan; keep
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["privilege"]) for c in d["changes"])')" \
    '[["revoke", "drift", "DAVE", "role:ANALYST_SALES", "member"], ["revoke", "drift", "role:HANDMADE", "role:REPORTING", "member"], ["revoke", "drift", "role:HANDMADE", "table:SALES.PUBLIC.CUSTOMERS", "SELECT"]]' \
    "plan: exactly the three hand-made grants on managed targets, to revoke"
sf_log_clear
exit_is 0 "apply revokes drift" acc --now $NOW --json apply; keep
is "$(ojv 'len(sel(d["changes"], action="revoke", reason="drift", outcome="done"))')" 3 "apply: three drift revokes done"
is "$(sf_member ANALYST_SALES USER DAVE)" f "emulator: DAVE's hand-made membership revoked"
is "$(sf_member REPORTING ROLE HANDMADE)" f "emulator: HANDMADE's hand-made role revoked"
is "$(sf_priv SELECT TABLE SALES.PUBLIC.CUSTOMERS HANDMADE)" f "emulator: hand-made SELECT on a managed table revoked"
is "$(sf_member FINANCE_ROLE USER DAVE):$(sf_member FINANCE_ROLE USER CAROL)" t:t "emulator: unmanaged role untouched"
is "$(sf_priv SELECT TABLE FINANCE.PUBLIC.LEDGER HANDMADE):$(sf_priv INSERT TABLE FINANCE.PUBLIC.LEDGER HANDMADE)" t:t \
    "emulator: unmanaged table untouched"
is "$(sf_member ANALYST_SALES USER ETL_SERVICE):$(sf_member ANALYST_SALES ROLE SYSADMIN):$(sf_member ANALYST_SALES ROLE ETL_ROLE)" t:t:t \
    "emulator: protected holders of a managed role untouched"
is "$(sf_priv SELECT TABLE SALES.PUBLIC.ORDERS ETL_ROLE):$(sf_priv OWNERSHIP TABLE SALES.PUBLIC.ORDERS SYSADMIN)" t:t \
    "emulator: protected role's SELECT and the owner's OWNERSHIP untouched"
is "$(sf_member ANALYST_SALES USER ALICE):$(sf_priv SELECT TABLE SALES.PUBLIC.ORDERS REPORTING)" t:t \
    "emulator: accord's own grants untouched"
SFLOG=$(sf_log)
is "$(sflog 'sorted(dcl())')" \
    '["REVOKE ROLE \"ANALYST_SALES\" FROM USER \"DAVE\"", "REVOKE ROLE \"REPORTING\" FROM ROLE \"HANDMADE\"", "REVOKE SELECT ON TABLE \"SALES\".\"PUBLIC\".\"CUSTOMERS\" FROM ROLE \"HANDMADE\""]' \
    "emulator: exactly the three REVOKE statements"
audit_json --action revoke
is "$(aud 'sorted((r["reason"], r["account"], r["target"]) for r in d["rows"])')" \
    '[["drift", "DAVE", "role:ANALYST_SALES"], ["drift", "role:HANDMADE", "role:REPORTING"], ["drift", "role:HANDMADE", "table:SALES.PUBLIC.CUSTOMERS"]]' \
    "audit: three drift revokes"

# --- withdrawal ----------------------------------------------------------------------
ar_rm 2026-03-04T08:00:00Z $FIN $REP
NOW=2026-03-04T09:00:00Z
sf_log_clear
exit_is 0 "apply after the requests are deleted" acc --now $NOW --json apply; keep
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"])')" \
    '[["revoke", "withdrawn", "role:FINANCE_APP", "role:REPORTING", "done"], ["revoke", "withdrawn", "role:REPORTING", "table:SALES.PUBLIC.ORDERS", "done"]]' \
    "apply: both grants withdrawn"
is "$(sf_member REPORTING ROLE FINANCE_APP)" f "emulator: FINANCE_APP no longer holds REPORTING"
is "$(sf_priv SELECT TABLE SALES.PUBLIC.ORDERS REPORTING)" f "emulator: REPORTING lost SELECT on ORDERS"
is "$(sf_priv SELECT TABLE SALES.PUBLIC.ORDERS ETL_ROLE)" t "emulator: the protected role's SELECT stays"
SFLOG=$(sf_log)
is "$(sflog 'sorted(dcl())')" \
    '["REVOKE ROLE \"REPORTING\" FROM ROLE \"FINANCE_APP\"", "REVOKE SELECT ON TABLE \"SALES\".\"PUBLIC\".\"ORDERS\" FROM ROLE \"REPORTING\""]' \
    "emulator: exactly the two REVOKE statements"
audit_json --action revoke --since $NOW
is "$(aud 'sorted((r["reason"], r["request"]) for r in d["rows"])')" "[[\"withdrawn\", \"$FIN\"], [\"withdrawn\", \"$REP\"]]" \
    "audit: withdrawn revokes name their requests"

# --- expiry, to the second --------------------------------------------------------------
BEFORE=$(t_add $EXPIRES -1)
exit_is 0 "plan --detailed-exitcode one second before expiry: nothing to do" \
    acc --now "$BEFORE" plan --detailed-exitcode; keep
exit_is 2 "plan --detailed-exitcode at expiry: changes pending" acc --now "$EXPIRES" plan --detailed-exitcode; keep
sf_log_clear
exit_is 0 "apply at expiry" acc --now "$EXPIRES" --json apply; keep
is "$(ojv '[(c["action"], c["reason"], c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["revoke", "expired", "ALICE", "role:ANALYST_SALES", "done"]]' "apply: ALICE's membership expired"
is "$(sf_member ANALYST_SALES USER ALICE)" f "emulator: ALICE no longer holds ANALYST_SALES"
is "$(sf_member ANALYST_SALES USER ZOE)" t "emulator: ZOE still does"
SFLOG=$(sf_log)
is "$(sflog 'dcl()')" '["REVOKE ROLE \"ANALYST_SALES\" FROM USER \"ALICE\""]' "emulator: exactly one REVOKE"
exit_is 0 "apply after expiry" acc --now "$(t_add $EXPIRES 3600)" --json apply; keep
is "$(ojv 'd["changes"]')" "[]" "an expired grant is not granted again"
exit_is 0 "audit verify" acc audit verify; keep

# --- secrets -------------------------------------------------------------------------------
# A verbose run with one change (ERIN withdrawn) so that every path,
# grant included, is traced; then every audit format.
ar_rm 2026-03-09T08:00:00Z requests/erin/quote.yaml
sf_log_clear
exit_is 0 "plan -vv" acc --now 2026-03-09T09:00:00Z -vv plan; keep
like "$ERR" "api/v2/statements" "-vv traces the requests"
exit_is 0 "apply -vv" acc --now 2026-03-09T09:00:00Z -vv apply; keep
is "$(sf_member 'ANALYST_"Q"' USER ERIN)" f "emulator: ERIN's withdrawn membership revoked"
for f in table json csv; do
	run acc audit --format $f; keep
done
SFLOG=$(sf_log)
sflog 'sorted(set(bearer(e) for e in api() if bearer(e)))' | "$PY" -c '
import json, sys
for t in json.loads(sys.stdin.read()):
    print(t)' >"$T/jwts"
is "$(test -s "$T/jwts" && echo yes)" yes "emulator: the verbose runs' JWTs to search for"
# Every full line of the PEM body (the short last one could match by
# chance).
grep -v -- '-----' "$SF_KEY" | awk 'length($0) >= 40' >"$T/keylines"
is "$(test "$(wc -l <"$T/keylines")" -ge 20 && echo yes)" yes "the private key's lines to search for"
is "$(grep -cFf "$T/keylines" "$T/all-output")" 0 "private key in no command's output"
for f in "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"; do
	[ -e "$f" ] || continue
	is "$(grep -acFf "$T/keylines" "$f")" 0 "private key not in $(basename "$f")"
done
is "$(sqlite3 "$STATE" .dump | grep -cFf "$T/keylines")" 0 "private key not in a dump of the state database"
while read -r jwt; do
	sig=${jwt##*.}
	is "$(grep -qF -- "$sig" "$SF_DIR/log.jsonl" && echo found)" found \
	    "the search finds the JWT where it belongs (the emulator's log)"
	is "$(grep -cF -- "$sig" "$T/all-output")" 0 "the JWT (…${sig#"${sig%??????}"}) in no command's output"
	for f in "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.lock"; do
		[ -e "$f" ] || continue
		is "$(grep -acF -- "$sig" "$f")" 0 "the JWT not in $(basename "$f")"
	done
	is "$(sqlite3 "$STATE" .dump | grep -cF -- "$sig")" 0 "the JWT not in a dump of the state database"
done <"$T/jwts"
is "$(grep -cFf "$T/keylines" "$SF_DIR/log.jsonl")" 0 "the private key never reached the emulator"
is "$(sflog 'len([e for e in L if "PRIVATE KEY" in json.dumps(e)])')" 0 "no PEM in any logged request"

done_testing
