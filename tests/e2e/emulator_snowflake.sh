#!/bin/sh
# The Snowflake SQL API emulator (tests/emulators/snowflake.py) behaves as
# the connector's tests assume: key-pair JWT checked against the public
# key, SHOW paging with LIMIT/FROM, result partitions, async 202 then 200,
# grants and revokes that change its state once (requestId + retry=true),
# Snowflake's 422 codes, quoted identifiers, faults that fire the number of
# times asked, and a request log.  Requests are made with http.client from
# a small client written below.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

SFPY=/usr/bin/python3
EMU=$TOP/tests/emulators/snowflake.py
[ -x "$SFPY" ] || bail "no /usr/bin/python3"
"$SFPY" -c 'import cryptography' 2>/dev/null || bail "python3-cryptography missing"

# --- the client -------------------------------------------------------------
cat >"$T/sf.py" <<'EOF'
import base64, gzip, hashlib, http.client, json, os, sys, time

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def mint(argv):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    opts = dict(a.split("=", 1) for a in argv[1:])
    key = serialization.load_pem_private_key(open(argv[0], "rb").read(), None)
    fpkey = key
    if "fp_of" in opts:
        fpkey = serialization.load_pem_private_key(open(opts["fp_of"], "rb").read(), None)
    der = fpkey.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
    qual = opts.get("account", "XY12345") + "." + opts.get("user", "ACCORD_SVC")
    iat = int(time.time()) + int(opts.get("iat_offset", "0"))
    claims = {"iss": opts.get("iss", qual + "." + fp), "sub": opts.get("sub", qual),
              "iat": iat, "exp": iat + int(opts.get("life", "3540"))}
    head = {"alg": opts.get("alg", "RS256"), "typ": "JWT"}
    signing = b64u(json.dumps(head).encode()) + "." + b64u(json.dumps(claims).encode())
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    print(signing + "." + b64u(sig))

def req(method, path, body=None, hdrs=(), noauth=False, timeout=10, gz=False, ctype=True):
    port = int(open(os.environ["SF_PORTFILE"]).read())
    h = {"Accept": "application/json", "User-Agent": "accord-test/1"}
    if body is not None and ctype:
        h["Content-Type"] = "application/json"
    if not noauth:
        h["Authorization"] = "Bearer " + os.environ.get("SF_JWT", "")
        h["X-Snowflake-Authorization-Token-Type"] = os.environ.get("SF_TT", "KEYPAIR_JWT")
    if gz:
        h["Accept-Encoding"] = "gzip"
    for x in hdrs:
        k, v = x.split(":", 1)
        if v.strip():
            h[k] = v.strip()
        else:
            h.pop(k, None)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        raw = r.read()
    except TimeoutError:
        return {"status": "timeout"}
    out = {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()},
           "len": len(raw), "gzip": r.getheader("Content-Encoding") == "gzip"}
    if out["gzip"]:
        raw = gzip.decompress(raw)
    out["raw"] = raw.decode("utf-8", "replace")[:3000]
    try:
        out["body"] = json.loads(raw)
    except ValueError:
        out["body"] = None
    b = out["body"]
    if isinstance(b, dict) and "resultSetMetaData" in b:
        names = [c["name"] for c in b["resultSetMetaData"]["rowType"]]
        out["cols"] = names
        out["rows"] = [dict(zip(names, row)) for row in b["data"]]
    return out

def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mint":
        return mint(args)
    opts = {"hdrs": []}
    pos = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-H":
            opts["hdrs"].append(args[i + 1]); i += 2; continue
        if a == "--noauth":
            opts["noauth"] = True
        elif a == "--gzip":
            opts["gz"] = True
        elif a == "--no-ctype":
            opts["ctype"] = False
        elif a.startswith("--timeout="):
            opts["timeout"] = float(a.split("=", 1)[1])
        elif a.startswith("--q="):
            opts["q"] = a.split("=", 1)[1]
        elif a.startswith("--extra="):
            opts["extra"] = json.loads(a.split("=", 1)[1])
        else:
            pos.append(a)
        i += 1
    q, extra = opts.pop("q", ""), opts.pop("extra", {})
    if cmd == "sql":
        body = {"statement": pos[0], "timeout": 60, "role": "SECURITYADMIN"}
        body.update(extra)
        for k in [k for k, v in body.items() if v is None]:
            del body[k]
        path = "/api/v2/statements" + ("?" + q if q else "")
        r = req("POST", path, json.dumps(body), **opts)
    else:
        r = req(pos[0], pos[1], pos[2] if len(pos) > 2 else None, **opts)
    print(json.dumps(r))

main()
EOF

# sf ARGS: a request (see sf.py); R is its JSON summary, r EXPR reads it.
sf() { R=$("$SFPY" "$T/sf.py" "$@"); }
r() { printf '%s' "$R" | jv "$1"; }
ctl() { sf req --noauth "$@"; }
sql() { sf sql "$@"; }

# --- keys, seed, start ----------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/key.p8" 2>/dev/null &&
openssl pkey -in "$T/key.p8" -pubout -out "$T/key.pub" 2>/dev/null &&
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.p8" 2>/dev/null ||
    bail "openssl key generation"

cat >"$T/seed.json" <<'EOF'
{"users": [
  {"name": "ALICE", "login_name": "alice", "email": "alice@example.com"},
  {"name": "BOB", "login_name": "bob", "email": "bob@example.com"},
  {"name": "CAROL", "login_name": "carol", "email": "carol@example.com"},
  {"name": "DAVE", "login_name": "dave", "email": "dave@example.com"},
  {"name": "eve@example.com", "login_name": "EVE", "email": "eve@example.com"},
  {"name": "ACCORD_SVC", "default_role": "SECURITYADMIN", "type": "SERVICE"}],
 "roles": [{"name": "ANALYST_SALES"}, {"name": "ANALYST_ADMIN"},
           {"name": "FINANCE_APP"}, {"name": "He said \"hi\""}],
 "role_grants": [{"role": "ANALYST_SALES", "granted_to": "USER", "grantee_name": "BOB"}],
 "privileges": [{"privilege": "SELECT", "granted_on": "TABLE",
                 "name": "SALES.PUBLIC.ORDERS", "grantee_name": "FINANCE_APP"}],
 "objects": [{"kind": "TABLE", "name": "SALES.PUBLIC.CUSTOMERS"},
             {"kind": "TABLE", "name": "SALES.\"A.B\".T"},
             {"kind": "WAREHOUSE", "name": "REPORTING_WH"}]}
EOF

SF_PORTFILE=$T/port
export SF_PORTFILE
LOG=$T/sf.jsonl
"$SFPY" "$EMU" --port-file "$SF_PORTFILE" --public-key "$T/key.pub" --account xy12345 \
    --user accord_svc --seed "$T/seed.json" --log "$LOG" --partition-rows 4 \
    --parent-pid $$ 2>"$T/emu.err" &
t_bg $!
i=0
while [ ! -s "$SF_PORTFILE" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$SF_PORTFILE" ] || { cat "$T/emu.err" >&2; bail "emulator did not start"; }
pass "emulator writes its port file once listening"

SF_JWT=$("$SFPY" "$T/sf.py" mint "$T/key.p8") || bail "mint JWT"
export SF_JWT

# --- authentication ---------------------------------------------------------------
sf sql "SHOW USERS" --noauth
is "$(r 'd["status"]')" 401 "no Authorization: 401"
is "$(r 'd["body"]["code"]')" 390144 "401 body carries code 390144"
is "$(r 'd["body"]["message"]')" "JWT token is invalid." "401 body message"

BAD=$("$SFPY" "$T/sf.py" mint "$T/other.p8")
SF_JWT=$BAD sf sql "SHOW USERS"
is "$(r 'd["status"]')" 401 "JWT signed by another key: 401"
SF_JWT=$("$SFPY" "$T/sf.py" mint "$T/other.p8" fp_of="$T/key.p8") sf sql "SHOW USERS"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "401 390144" "right iss, signed by another key: 401"
SF_JWT=$("$SFPY" "$T/sf.py" mint "$T/key.p8" iat_offset=-7200) sf sql "SHOW USERS"
is "$(r 'd["status"]')" 401 "expired JWT: 401"
SF_JWT=$("$SFPY" "$T/sf.py" mint "$T/key.p8" life=3700) sf sql "SHOW USERS"
is "$(r 'd["status"]')" 401 "JWT living longer than an hour: 401"
SF_JWT=$("$SFPY" "$T/sf.py" mint "$T/key.p8" sub=xy12345.ACCORD_SVC) sf sql "SHOW USERS"
is "$(r 'd["status"]')" 401 "sub not upper-case ACCOUNT.USER: 401"
SF_TT=OAUTH sf sql "SHOW USERS"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "401 390303" "OAUTH token type without --token: 401 390303"
sf sql "SHOW USERS" -H "X-Snowflake-Authorization-Token-Type:"
is "$(r 'd["status"]')" 401 "no token-type header: 401"
sf sql "SHOW USERS" --no-ctype
is "$(r 'd["status"]')" 415 "POST without Content-Type application/json: 415"

# --- SHOW USERS / ROLES, LIMIT ... FROM ------------------------------------------------
sf sql "SHOW USERS LIMIT 2"
is "$(r 'd["status"]')" 200 "SHOW USERS with a valid JWT: 200"
is "$(r '[x["name"] for x in d["rows"]]')" '["ACCORD_SVC", "ALICE"]' "SHOW USERS LIMIT 2: the first two by name"
is "$(r 'all(v is None or isinstance(v, str) for row in d["body"]["data"] for v in row)')" true \
    "every value is a JSON string or null"
is "$(r '[c["type"] for c in d["body"]["resultSetMetaData"]["rowType"] if c["name"] in ("name", "created_on")]')" \
    '["text", "timestamp_ltz"]' "rowType types are lower case"
is "$(r 'sel(d["rows"], name="ALICE")[0]["email"] + " " + sel(d["rows"], name="ALICE")[0]["login_name"]')" \
    "alice@example.com alice" "login_name and email columns"
sf sql "SHOW USERS LIMIT 2 FROM 'ALICE'"
is "$(r '[x["name"] for x in d["rows"]]')" '["BOB", "CAROL"]' "LIMIT 2 FROM 'ALICE': the rows after ALICE"
sf sql "show users limit 10 from 'DAVE'"
is "$(r '[x["name"] for x in d["rows"]]')" '["eve@example.com"]' "lower-case keywords; the last page is short"
sf sql "SHOW ROLES LIKE 'analyst%'"
is "$(r '[x["name"] for x in d["rows"]]')" '["ANALYST_ADMIN", "ANALYST_SALES"]' "SHOW ROLES LIKE is case-insensitive"
is "$(r 'sel(d["rows"], name="ANALYST_SALES")[0]["assigned_to_users"]')" 1 "SHOW ROLES counts assigned users"
sf sql "SHOW USERS LIKE ?" --extra='{"bindings": {"1": {"type": "TEXT", "value": "al%"}}}'
is "$(r '[x["name"] for x in d["rows"]]')" '["ALICE"]' "a bound string literal"

# --- partitions ----------------------------------------------------------------------
sf sql "SHOW USERS"
is "$(r '[p["rowCount"] for p in d["body"]["resultSetMetaData"]["partitionInfo"]]')" '[4, 2]' \
    "6 rows at 4 per partition: partitionInfo [4, 2]"
is "$(r 'len(d["body"]["data"])')" 4 "partition 0 data comes with the metadata"
H=$(r 'd["body"]["statementHandle"]')
like "$(r 'd["headers"]["link"]')" 'partition=1>; rel="next"' "Link header names the next partition"
sf req GET "/api/v2/statements/$H?partition=1"
is "$(r 'd["status"]') $(r 'sorted(d["body"])')" '200 ["data"]' "partition 1 carries only data"
is "$(r '[row[0] for row in d["body"]["data"]]')" '["DAVE", "eve@example.com"]' "partition 1 holds the last rows"
sf req GET "/api/v2/statements/$H?partition=2"
is "$(r 'd["status"]')" 422 "a partition past the end: 422"
sf req GET "/api/v2/statements/$H"
is "$(r 'd["status"]') $(r 'd["body"]["resultSetMetaData"]["numRows"]')" "200 6" "status GET returns the result"
ctl PUT /_emulator/config '{"gzip_partitions": true}'
sf req GET "/api/v2/statements/$H?partition=1" --gzip
is "$(r 'd["gzip"]') $(r 'len(d["body"]["data"])')" "true 2" "gzip partitions when asked"
ctl PUT /_emulator/config '{"gzip_partitions": false}'

# --- grants -----------------------------------------------------------------------------
sf sql 'GRANT ROLE "ANALYST_SALES" TO USER "ALICE"'
is "$(r 'd["status"]') $(r 'd["body"]["data"]')" '200 [["Statement executed successfully."]]' "GRANT ROLE: 200"
is "$(r 'd["cols"]')" '["status"]' "DCL result has one status column"
sf sql 'SHOW GRANTS OF ROLE "ANALYST_SALES"'
is "$(r '[(x["granted_to"], x["grantee_name"]) for x in d["rows"]]')" '[["USER", "ALICE"], ["USER", "BOB"]]' \
    "SHOW GRANTS OF ROLE shows the new grant"
is "$(r 'd["cols"]')" '["created_on", "role", "granted_to", "grantee_name", "granted_by"]' "SHOW GRANTS OF columns"
sf sql 'GRANT ROLE "ANALYST_SALES" TO USER "ALICE"'
is "$(r 'd["status"]')" 200 "granting an existing grant: 200"
sf sql 'REVOKE ROLE "ANALYST_SALES" FROM USER "ALICE"'
A=$(r 'd["status"]')
sf sql 'REVOKE ROLE "ANALYST_SALES" FROM USER "ALICE"'
is "$A $(r 'd["status"]') $(r 'd["body"]["message"]')" "200 200 Statement executed successfully." "revoke twice: 200 both times"
ctl GET /_emulator/state
is "$(r '[g["grantee_name"] for g in sel(d["body"]["role_grants"], role="ANALYST_SALES")]')" '["BOB"]' "state after revoke"
ctl PUT /_emulator/config '{"strict_idempotency": true}'
sf sql 'REVOKE ROLE "ANALYST_SALES" FROM USER "ALICE"'
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "422 002003" "strict idempotency: revoking an absent grant fails"
ctl PUT /_emulator/config '{"strict_idempotency": false}'

sf sql 'GRANT ROLE "NOPE" TO USER "ALICE"'
is "$(r 'd["status"]') $(r 'd["body"]["code"]') $(r 'd["body"]["sqlState"]')" "422 002003 02000" "unknown role: 422 002003 02000"
is "$(r 'd["body"]["message"]')" "$(printf "SQL compilation error:\nRole 'NOPE' does not exist or not authorized.")" \
    "unknown role message"
like "$(r 'd["body"]["statementHandle"]')" '^01' "a failure carries a statement handle"
sf sql 'GRANT ROLE "ANALYST_SALES" TO USER "NOBODY"'
like "$(r 'd["body"]["message"]')" "User 'NOBODY' does not exist" "unknown user: 422 names the user"
sf sql "SELEC 1"
is "$(r 'd["status"]') $(r 'd["body"]["code"]') $(r 'd["body"]["sqlState"]')" "422 001003 42000" "syntax error: 422 001003 42000"
like "$(r 'd["body"]["message"]')" "syntax error line 1 at position 0 unexpected 'SELEC'" "syntax error message"
sf sql 'SHOW USERS LIKE '"'a' ESCAPE '\\\\'"
like "$(r 'd["body"]["message"]')" "position 20 unexpected 'ESCAPE'" "LIKE has no ESCAPE clause"
sf sql 'SHOW USERS' --extra='{"role": "NO_SUCH_ROLE"}'
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "422 390189" "unknown role in the body: 422"

sf sql 'GRANT SELECT ON TABLE "SALES"."PUBLIC"."CUSTOMERS" TO ROLE "FINANCE_APP"'
is "$(r 'd["status"]')" 200 "GRANT SELECT ON TABLE: 200"
sf sql 'SHOW GRANTS TO ROLE "FINANCE_APP"'
is "$(r '[(x["privilege"], x["granted_on"], x["name"]) for x in d["rows"]]')" \
    '[["SELECT", "TABLE", "SALES.PUBLIC.CUSTOMERS"], ["SELECT", "TABLE", "SALES.PUBLIC.ORDERS"]]' \
    "SHOW GRANTS TO ROLE lists object privileges"
is "$(r 'd["cols"]')" '["created_on", "privilege", "granted_on", "name", "granted_to", "grantee_name", "grant_option", "granted_by"]' \
    "SHOW GRANTS TO columns"
sf sql 'GRANT SELECT ON TABLE "SALES"."PUBLIC"."NOPE" TO ROLE "FINANCE_APP"'
is "$(r 'd["body"]["code"]') $(r 'd["body"]["message"]')" "002003 $(printf "SQL compilation error:\nTable 'SALES.PUBLIC.NOPE' does not exist or not authorized.")" \
    "unknown table: 002003"
sf sql 'GRANT SELECT ON WAREHOUSE "REPORTING_WH" TO ROLE "FINANCE_APP"'
is "$(r 'd["body"]["code"]')" 001003 "a privilege the object kind lacks is a syntax error"

# --- quoted identifiers ---------------------------------------------------------------------
sf sql 'GRANT ROLE "He said ""hi""" TO USER "eve@example.com"'
is "$(r 'd["status"]')" 200 "GRANT ROLE with an embedded quote: 200"
sf sql 'SHOW GRANTS OF ROLE "He said ""hi"""'
is "$(r 'd["rows"][0]["role"]') | $(r 'd["rows"][0]["grantee_name"]')" 'He said "hi" | "eve@example.com"' \
    "SHOW GRANTS quotes grantee names that need it"
sf sql 'GRANT SELECT ON TABLE "SALES"."A.B"."T" TO ROLE "He said ""hi"""'
sf sql 'SHOW GRANTS TO ROLE "He said ""hi"""'
is "$(r '[x["name"] + " " + x["grantee_name"] for x in d["rows"]]')" \
    '["SALES.\"A.B\".T \"He said \"\"hi\"\"\""]' "object names and grantees quoted only where needed"
sf sql "SHOW ROLES LIKE 'he said%'"
is "$(r 'd["rows"][0]["name"]')" 'He said "hi"' "SHOW ROLES returns the bare name"
sf sql 'SHOW GRANTS TO USER "eve@example.com"'
is "$(r '[(x["privilege"], x["granted_on"], x["name"]) for x in d["rows"]]')" \
    '[["USAGE", "ROLE", "\"He said \"\"hi\"\"\""]]' "SHOW GRANTS TO USER lists its roles"

# --- async ------------------------------------------------------------------------------------
sf sql "SHOW ROLES" --q="async=true"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "202 333334" "async=true: 202 333334"
URL=$(r 'd["body"]["statementStatusUrl"]')
sf req GET "$URL"
is "$(r 'd["status"]')" 200 "polling the status URL: 200"
ctl PUT /_emulator/config '{"async_ms": 4000}'
sf sql 'GRANT ROLE "ANALYST_ADMIN" TO USER "CAROL"'
is "$(r 'd["status"]')" 202 "--async-ms: the POST answers 202"
URL=$(r 'd["body"]["statementStatusUrl"]')
ctl GET /_emulator/state
is "$(r 'len(sel(d["body"]["role_grants"], role="ANALYST_ADMIN"))')" 0 "not applied before completion"
sf req GET "$URL"
is "$(r 'd["status"]')" 202 "polling before completion: 202"
# Control requests do not poll: only the emulator's own timer can apply it.
i=0
while [ $i -lt 40 ]; do
	sleep 0.25
	ctl GET /_emulator/state
	[ "$(r 'len(sel(d["body"]["role_grants"], role="ANALYST_ADMIN"))')" = 1 ] && break
	i=$((i + 1))
done
is "$(r '[g["grantee_name"] for g in sel(d["body"]["role_grants"], role="ANALYST_ADMIN")]')" '["CAROL"]' \
    "applied at completion without a poll"
sf req GET "$URL"
is "$(r 'd["status"]') $(r 'd["body"]["data"]')" '200 [["Statement executed successfully."]]' "then 200"
ctl PUT /_emulator/config '{"async_ms": 3000}'
sf sql 'GRANT ROLE "ANALYST_ADMIN" TO USER "DAVE"'
H=$(r 'd["body"]["statementHandle"]')
sf req POST "/api/v2/statements/$H/cancel"
is "$(r 'd["status"]') $(r 'd["body"]["message"]')" "200 successfully canceled" "cancel: 200"
sf req GET "/api/v2/statements/$H"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "422 000604" "a cancelled statement: 422 000604"
ctl PUT /_emulator/config '{"async_ms": 0}'
sf req GET "/api/v2/statements/01ffffff-0000-0000-0000-000000000000"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "404 000709" "unknown handle: 404 000709"

# --- requestId and retry ------------------------------------------------------------------------
RID=6a1e3c3e-9d6b-4c55-8a3e-0a0b0c0d0e0f
sf sql 'GRANT ROLE "FINANCE_APP" TO USER "DAVE"' --q="requestId=$RID"
H=$(r 'd["body"]["statementHandle"]')
is "$(r 'd["status"]') $(r 'd["body"]["requestId"]')" "200 $RID" "GRANT with a requestId: 200"
sf sql 'REVOKE ROLE "FINANCE_APP" FROM USER "DAVE"'
sf sql 'GRANT ROLE "FINANCE_APP" TO USER "DAVE"' --q="requestId=$RID&retry=true"
is "$(r 'd["status"]') $(r 'd["body"]["statementHandle"]')" "200 $H" "retry=true returns the earlier result"
ctl GET /_emulator/state
is "$(r 'len(sel(d["body"]["role_grants"], role="FINANCE_APP", grantee_name="DAVE"))')" 0 \
    "the resubmitted GRANT did not run again"
ctl GET /_emulator/statements
is "$(r 'sel(d["body"], handle="'"$H"'")[0]["executions"]')" 1 "executed once"
sf sql 'GRANT ROLE "FINANCE_APP" TO USER "DAVE"' --q="requestId=$RID"
is "$(r 'd["status"]')" 422 "a reused requestId without retry=true: 422"

# --- faults --------------------------------------------------------------------------------------
ctl POST /_emulator/faults '{"faults": [{"match": "^SHOW ROLES", "status": 429, "retry_after": "1", "times": 2}]}'
sf sql "SHOW ROLES"; A="$(r 'd["status"]') $(r 'd["headers"].get("retry-after")') $(r 'd["body"]["code"]')"
sf sql "SHOW ROLES"; B=$(r 'd["status"]')
sf sql "SHOW ROLES"; C=$(r 'd["status"]')
is "$A / $B / $C" "429 1 000429 / 429 / 200" "429 with Retry-After fires twice, then 200"
ctl GET /_emulator/faults
is "$(r 'd["body"]["faults"]')" "[]" "a spent fault disappears"
ctl POST /_emulator/faults '{"faults": [{"match": "SHOW USERS", "status": 503}]}'
sf sql "SHOW USERS LIMIT 1"
is "$(r 'd["status"]') $(r '"retry-after" in d["headers"]')" "503 false" "503 without Retry-After"
ctl POST /_emulator/faults '{"faults": [{"match": "SHOW USERS", "truncate": true}]}'
sf sql "SHOW USERS LIMIT 1"
is "$(r 'd["status"]') $(r 'd["body"]') $(r 'd["len"] == int(d["headers"]["content-length"]) > 10')" "200 null true" \
    "truncated JSON with a matching Content-Length"
sf sql "SHOW USERS"
H=$(r 'd["body"]["statementHandle"]')
ctl POST /_emulator/faults '{"faults": [{"match": "SHOW USERS", "partition": 1, "status": 500}, {"match": "SHOW USERS", "partition": 1, "truncate": true}]}'
sf req GET "/api/v2/statements/$H?partition=1"; A=$(r 'd["status"]')
sf req GET "/api/v2/statements/$H?partition=1"; B="$(r 'd["status"]') $(r 'd["body"]')"
sf req GET "/api/v2/statements/$H?partition=1"; C="$(r 'd["status"]') $(r 'len(d["body"]["data"])')"
is "$A / $B / $C" "500 / 200 null / 200 2" "a partition fails half way: 500, then truncated, then whole"
RID=0b7c5e2a-1f3d-4e6a-9b8c-7d6e5f4a3b2c
ctl POST /_emulator/faults '{"faults": [{"match": "TO USER \"CAROL\"", "delay_ms": 1500}]}'
sf sql 'GRANT ROLE "FINANCE_APP" TO USER "CAROL"' --q="requestId=$RID" --timeout=0.4
is "$(r 'd["status"]')" timeout "a slow answer outlives the client's timeout"
sf sql 'GRANT ROLE "FINANCE_APP" TO USER "CAROL"' --q="requestId=$RID&retry=true"
H=$(r 'd["body"]["statementHandle"]')
ctl GET /_emulator/statements
is "$(r 'd["body"] and sel(d["body"], handle="'"$H"'")[0]["executions"]')" 1 "the slow statement ran once; the retry got its result"
sleep 1.2

# --- multiple statements, shuffled columns, state replacement ---------------------------------------
sf sql "SHOW ROLES; SHOW USERS"
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "422 000008" "two statements without MULTI_STATEMENT_COUNT: 000008"
sf sql "SHOW ROLES; SHOW USERS" --extra='{"parameters": {"MULTI_STATEMENT_COUNT": "2"}}'
is "$(r 'd["status"]') $(r 'len(d["body"]["statementHandles"])')" "200 2" "MULTI_STATEMENT_COUNT 2: two handles"
ctl PUT /_emulator/config '{"shuffle_columns": true}'
sf sql "SHOW USERS LIMIT 1 FROM 'ACCORD_SVC'"
isnt "$(r 'd["cols"][:3]')" '["name", "created_on", "login_name"]' "--shuffle-columns reorders the columns"
is "$(r 'd["rows"][0]["name"] + " " + d["rows"][0]["email"]')" "ALICE alice@example.com" "values still match their column names"
ctl PUT /_emulator/config '{"shuffle_columns": false}'

# --- the log ------------------------------------------------------------------------------------------
ctl GET /_emulator/log
N=$(r 'len(d["body"])')
is "$(wc -l <"$LOG" | tr -d ' ')" "$N" "one log line per API request, in the file and from /_emulator/log"
is "$("$PY" -c 'import json,sys; print(all(json.loads(l)["path"].startswith("/api/") for l in open(sys.argv[1])))' "$LOG")" True \
    "every line is JSON; control requests are not logged"
is "$(r 'sel(d["body"], statement="GRANT ROLE \"He said \"\"hi\"\"\" TO USER \"eve@example.com\"")[0]["jwt"]["sub"]')" \
    "XY12345.ACCORD_SVC" "log entry keeps the statement verbatim and the JWT's sub"
like "$(r 'd["body"][-1]["jwt"]["iss"]')" '^XY12345\.ACCORD_SVC\.SHA256:[A-Za-z0-9+/]{43}=$' "log entry keeps the JWT's iss"
is "$(r 'd["body"][-1]["headers"]["Authorization"] == "Bearer " + __import__("os").environ["SF_JWT"]')" true \
    "log entry keeps the Authorization header"
is "$(r 'len([e for e in d["body"] if e["status"] == 401 and e["auth_error"]])')" 8 "401s are logged with their reason"
is "$(r 'len([e for e in d["body"] if e["fault"]])')" 7 "fired faults are marked in the log"

ctl PUT /_emulator/state '{"users": [{"name": "ZED"}], "roles": [{"name": "R1"}]}'
sf sql "SHOW USERS"
is "$(r '[x["name"] for x in d["rows"]]')" '["ZED"]' "PUT /_emulator/state replaces the state"
ctl PUT /_emulator/state '{"roles": [{"name": "R1"}], "role_grants": [{"role": "NOPE", "grantee_name": "X"}]}'
is "$(r 'd["status"]')" 400 "a bad seed is refused"

# --- a generated account and bearer tokens -------------------------------------------------------------
SF_PORTFILE=$T/port2
START=$(date +%s)
"$SFPY" "$EMU" --port-file "$SF_PORTFILE" --token s3cret --seed-generate 1000 100 100000 \
    --log "$T/sf2.jsonl" --parent-pid $$ 2>"$T/emu2.err" &
t_bg $!
i=0
while [ ! -s "$SF_PORTFILE" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$SF_PORTFILE" ] || { cat "$T/emu2.err" >&2; bail "generated emulator did not start"; }
is "$(( $(date +%s) - START < 15 ))" 1 "--seed-generate 1000 100 100000 starts quickly"
SF_TT=OAUTH SF_JWT=s3cret sf sql 'SHOW GRANTS OF ROLE "ANALYST_0001"'
is "$(r 'd["status"]') $(r 'd["body"]["resultSetMetaData"]["numRows"]')" "200 900" "OAUTH token accepted; 900 members per role"
SF_TT=PROGRAMMATIC_ACCESS_TOKEN SF_JWT=s3cret sf sql 'SHOW GRANTS TO ROLE "ANALYST_0001"'
is "$(r 'd["status"]') $(r 'len(sel(d["rows"], granted_on="TABLE"))')" "200 100" "PAT accepted; 100 table grants per role"
SF_TT=OAUTH SF_JWT=wrong sf sql 'SHOW ROLES'
is "$(r 'd["status"]') $(r 'd["body"]["code"]')" "401 390303" "a wrong token: 401 390303"
sf sql 'SHOW ROLES'
is "$(r 'd["status"]')" 401 "KEYPAIR_JWT without --public-key: 401"
ctl GET "/_emulator/state?summary=1"
is "$(r 'd["body"]["users"], d["body"]["role_grants"] + d["body"]["privileges"]')" "[1000, 100000]" \
    "1000 users and 100000 grants generated"

done_testing
