#!/bin/sh
# The Databricks workspace emulator (tests/emulators/databricks.py) behaves
# as the connector's tests assume: PAT and OAuth M2M bearers (token
# endpoint with HTTP Basic, expiry), SCIM lists with startIndex/count
# (capped), filters (eq ne co sw, and/or, escapes, invalidFilter),
# attributes, resource shapes, group PATCH (add/remove, case-insensitive
# op, idempotent, atomic, 404 body, 204 option), Unity Catalog
# permissions (pagination, empty first page, PATCH deltas, error codes),
# listings with paging, faults with Retry-After, the control API and the
# request log.  Requests are made with http.client from a client below.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
. "$TOP/tests/lib/databricks.sh"
t_init

[ -x /usr/bin/python3 ] || bail "no /usr/bin/python3"

# --- the client ----------------------------------------------------------------
# db.py METHOD PATH [BODY] [--noauth] [--bearer=TOK] [--basic=ID:SECRET]
#       [--form] [-H Name:value]: prints {status, headers, body, raw}.
cat >"$T/db.py" <<'EOF'
import base64, http.client, json, os, sys
args = sys.argv[1:]
pos, hdrs, opts = [], {}, {}
i = 0
while i < len(args):
    a = args[i]
    if a == "-H":
        k, v = args[i + 1].split(":", 1); hdrs[k] = v; i += 2; continue
    if a.startswith("--"):
        k, _, v = a[2:].partition("=")
        opts[k] = v
    else:
        pos.append(a)
    i += 1
method, path = pos[0], pos[1]
body = pos[2] if len(pos) > 2 else None
h = {"Accept": "application/json"}
if "noauth" not in opts:
    h["Authorization"] = "Bearer " + opts.get("bearer", os.environ["DB_TOKEN"])
if "basic" in opts:
    h["Authorization"] = "Basic " + base64.b64encode(opts["basic"].encode()).decode()
if body is not None:
    h["Content-Type"] = "application/x-www-form-urlencoded" if "form" in opts else "application/json"
h.update(hdrs)
port = int(open(os.environ["DB_PORTFILE"]).read())
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request(method, path, body=body, headers=h)
r = c.getresponse()
raw = r.read().decode("utf-8", "replace")
out = {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()}, "raw": raw[:4000]}
try:
    out["body"] = json.loads(raw)
except ValueError:
    out["body"] = None
print(json.dumps(out))
EOF
dbq() { R=$("$DB_PY" "$T/db.py" "$@"); }
r() { printf '%s' "$R" | jv "$1"; }

SC=/api/2.0/preview/scim/v2
UC=/api/2.1/unity-catalog

# --- seed: 25 filler users, a quote in a display name, a service
# principal, nested groups, three tables in two schemas ----------------------------
"$PY" - >"$T/seed.json" <<'EOF'
import json
users = [{"userName": "alice@example.com", "displayName": "Alice"},
         {"userName": "bob@example.com", "displayName": "Bob \"the builder\""},
         {"userName": "Carol@Example.com", "displayName": "Carol", "active": False}]
users += [{"userName": "u%02d@filler.example.org" % i} for i in range(22)]
print(json.dumps({
    "users": users,
    "service_principals": [{"applicationId": "6f1c2d3e-0000-4000-8000-0000000000a1",
                            "displayName": "etl-sp"}],
    "groups": [{"displayName": "analysts_sales", "members": ["alice@example.com",
                "service:6f1c2d3e-0000-4000-8000-0000000000a1"]},
               {"displayName": "admins", "id": "777", "members": ["group:analysts_sales"]},
               {"displayName": "finance", "members": []}],
    "securables": [{"type": "table", "full_name": "main.sales.orders"},
                   {"type": "table", "full_name": "main.sales.customers"},
                   {"type": "table", "full_name": "main.finance.ledger"},
                   {"type": "catalog", "full_name": "other"}],
    "grants": [{"securable_type": "table", "full_name": "main.sales.orders",
                "principal": "alice@example.com", "privileges": ["SELECT"]},
               {"securable_type": "table", "full_name": "main.sales.orders",
                "principal": "analysts_sales", "privileges": ["SELECT", "MODIFY"]},
               {"securable_type": "table", "full_name": "main.sales.orders",
                "principal": "6f1c2d3e-0000-4000-8000-0000000000a1", "privileges": ["SELECT"]}],
}))
EOF
db_start "$T/seed.json"
DB_PORTFILE=$DB_DIR/port
export DB_PORTFILE DB_PY
is "$(cat "$DB_PORTFILE")" "$DB_PORT" "emulator writes its port file once listening"
is "$(test -e "$DB_PORTFILE.tmp" && echo tmp)" "" "the port file was renamed into place (no .tmp left)"
STATE0=$(db_state)
uid() { printf '%s' "$STATE0" | jv "[u['id'] for u in d['users'] if u['userName'] == '$1'][0]"; }
gid() { printf '%s' "$STATE0" | jv "[g['id'] for g in d['groups'] if g['displayName'] == '$1'][0]"; }
ALICE=$(uid alice@example.com)
BOB=$(uid bob@example.com)
SALES=$(gid analysts_sales)
FIN=$(gid finance)
SP=$(printf '%s' "$STATE0" | jv 'd["service_principals"][0]["id"]')
like "$ALICE" '^[0-9]+$' "user ids are numeric strings"
is "$(gid admins)" 777 "a seeded id is kept"

# --- authentication ---------------------------------------------------------------------
dbq GET "$SC/Users" --noauth
is "$(r 'd["status"]')" 401 "no Authorization: 401"
is "$(r 'sorted(d["body"])')" '["error_code", "message"]' "401 body is {error_code, message}"
dbq GET "$SC/Users" --bearer=dapi0000
is "$(r 'd["status"]') $(r 'd["body"]["message"]')" "401 Invalid access token." "wrong PAT: 401 Invalid access token."
dbq GET "$SC/Users" -H "Authorization:Token $DB_TOKEN"
is "$(r 'd["status"]')" 401 "a non-Bearer scheme: 401"
dbq GET "$SC/Users"
is "$(r 'd["status"]')" 200 "the PAT as bearer: 200"

TOKBODY='grant_type=client_credentials&scope=all-apis'
dbq POST /oidc/v1/token "$TOKBODY" --form --basic="$DB_CLIENT_ID:$DB_CLIENT_SECRET"
is "$(r 'd["status"]')" 200 "token endpoint: right client credentials: 200"
is "$(r '[d["body"]["token_type"], d["body"]["expires_in"], len(d["body"]["access_token"]) > 20]')" \
    '["Bearer", 3600, true]' "token response: token_type Bearer, expires_in 3600, an access_token"
OTOK=$(r 'd["body"]["access_token"]')
dbq GET "$SC/Users?count=1" --bearer="$OTOK"
is "$(r 'd["status"]')" 200 "the OAuth token as bearer: 200"
dbq POST /oidc/v1/token "$TOKBODY" --form --basic="$DB_CLIENT_ID:wrong"
is "$(r '[d["status"], d["body"]["error"], bool(d["body"].get("error_description"))]')" \
    '[401, "invalid_client", true]' "wrong client secret: 401 invalid_client with error_description"
dbq POST /oidc/v1/token "$TOKBODY&client_id=$DB_CLIENT_ID&client_secret=$DB_CLIENT_SECRET" --form --noauth
is "$(r '[d["status"], d["body"]["error"]]')" '[401, "invalid_client"]' "credentials in the body instead of Basic: 401"
dbq POST /oidc/v1/token "grant_type=password&scope=all-apis" --form --basic="$DB_CLIENT_ID:$DB_CLIENT_SECRET"
is "$(r '[d["status"], d["body"]["error"]]')" '[400, "unsupported_grant_type"]' "grant_type other than client_credentials: 400"
dbq POST /oidc/v1/token "grant_type=client_credentials&scope=sql" --form --basic="$DB_CLIENT_ID:$DB_CLIENT_SECRET"
is "$(r '[d["status"], d["body"]["error"]]')" '[400, "invalid_scope"]' "scope without all-apis: 400 invalid_scope"
dbq GET "$SC/Users" --bearer="$DB_CLIENT_SECRET"
is "$(r 'd["status"]')" 401 "the client secret is not a bearer token"
db_config '{"token_ttl": 1}'
dbq POST /oidc/v1/token "$TOKBODY" --form --basic="$DB_CLIENT_ID:$DB_CLIENT_SECRET"
is "$(r 'd["body"]["expires_in"]')" 1 "token_ttl shortens expires_in"
STOK=$(r 'd["body"]["access_token"]')
sleep 1.3
dbq GET "$SC/Users" --bearer="$STOK"
is "$(r 'd["status"]')" 401 "an expired OAuth token: 401"
db_config '{"token_ttl": 3600}'

# --- SCIM lists --------------------------------------------------------------------------
dbq GET "$SC/Users"
is "$(r '[d["body"]["schemas"], d["body"]["totalResults"], d["body"]["startIndex"], d["body"]["itemsPerPage"], len(d["body"]["Resources"])]')" \
    '[["urn:ietf:params:scim:api:messages:2.0:ListResponse"], 25, 1, 25, 25]' "ListResponse: schemas, totalResults, startIndex, itemsPerPage, Resources"
is "$(r '[x for x in d["body"]["Resources"] if x["userName"] == "alice@example.com"][0]')" \
    "{\"active\": true, \"displayName\": \"Alice\", \"emails\": [{\"primary\": true, \"type\": \"work\", \"value\": \"alice@example.com\"}], \"groups\": [{\"\$ref\": \"Groups/$SALES\", \"display\": \"analysts_sales\", \"type\": \"direct\", \"value\": \"$SALES\"}], \"id\": \"$ALICE\", \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"alice@example.com\"}" \
    "a user: id, userName, displayName, active, emails, groups"
like "$(r 'd["headers"]["content-type"]')" 'application/(scim\+)?json' "SCIM answers are JSON"
db_config '{"max_count": 10}'
dbq GET "$SC/Users?startIndex=1&count=100"
is "$(r '[d["body"]["itemsPerPage"], d["body"]["totalResults"]]')" '[10, 25]' "max_count 10 caps a page at 10"
dbq GET "$SC/Users?startIndex=21&count=10"
is "$(r '[d["body"]["startIndex"], d["body"]["itemsPerPage"]]')" '[21, 5]' "startIndex 21: the last five"
P1=$(dbq GET "$SC/Users?startIndex=1&count=10"; r '[x["id"] for x in d["body"]["Resources"]]')
P2=$(dbq GET "$SC/Users?startIndex=11&count=10"; r '[x["id"] for x in d["body"]["Resources"]]')
P3=$(dbq GET "$SC/Users?startIndex=21&count=10"; r '[x["id"] for x in d["body"]["Resources"]]')
is "$(printf '%s\n%s\n%s\n' "$P1" "$P2" "$P3" | "$PY" -c 'import json,sys; v=[i for l in sys.stdin for i in json.loads(l)]; print(len(v), len(set(v)))')" \
    "25 25" "three pages give 25 distinct users"
db_config '{"max_count": 0}'
dbq GET "$SC/Users?count=500"
is "$(r 'd["body"]["itemsPerPage"]')" 25 "count above 100 is capped (25 users all fit)"
dbq GET "$SC/Users?count=0"
is "$(r '[d["body"]["totalResults"], d["body"]["itemsPerPage"], "Resources" in d["body"]]')" '[25, 0, false]' \
    "count=0: totalResults only"
dbq GET "$SC/Users?startIndex=0&count=1"
is "$(r '[d["body"]["startIndex"], d["body"]["Resources"][0]["id"]]')" "[1, \"$ALICE\"]" "startIndex 0 is treated as 1"
dbq GET "$SC/Users?startIndex=99"
is "$(r '[d["status"], d["body"]["itemsPerPage"], "Resources" in d["body"]]')" '[200, 0, false]' "past the end: an empty page"

# filters
flt() { dbq GET "$SC/$1?filter=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$2")"; }
names() { r '[x.get("userName") or x.get("displayName") for x in d["body"].get("Resources", [])]'; }
flt Users 'userName eq "alice@example.com"'
is "$(names)" '["alice@example.com"]' "filter userName eq"
flt Users 'USERNAME EQ "ALICE@EXAMPLE.COM"'
is "$(names)" '["alice@example.com"]' "filter: attribute, operator and userName value case-insensitive"
flt Users 'userName sw "u1"'
is "$(r 'd["body"]["totalResults"]')" 10 "filter sw"
flt Users 'userName co "example.com" and active eq true'
is "$(names)" '["alice@example.com", "bob@example.com"]' "filter co … and active eq true"
flt Users 'displayName eq "Alice" or userName eq "bob@example.com"'
is "$(names)" '["alice@example.com", "bob@example.com"]' "filter or"
flt Users 'userName ne "alice@example.com" and userName co "example.com"'
is "$(names)" '["bob@example.com", "Carol@Example.com"]' "filter ne"
flt Users 'displayName eq "Bob \"the builder\""'
is "$(names)" '["bob@example.com"]' "filter: a JSON string literal with \\\" escapes"
flt Users '(userName eq "alice@example.com" or userName eq "u00@filler.example.org") and active eq true'
is "$(names)" '["alice@example.com", "u00@filler.example.org"]' "filter with parentheses"
flt Users 'emails.value eq "carol@example.com"'
is "$(names)" '["Carol@Example.com"]' "filter on emails.value"
for bad in 'userName gt "a"' 'userName eq alice' 'userName eq "alice' 'not (userName eq "a")' 'nosuch eq "a"' 'userName eq "a" and'; do
	flt Users "$bad"
	is "$(r '[d["status"], d["body"]["schemas"], d["body"]["status"], d["body"]["scimType"]]')" \
	    '[400, ["urn:ietf:params:scim:api:messages:2.0:Error"], "400", "invalidFilter"]' "bad filter '$bad': 400 invalidFilter"
done
flt Groups 'displayName eq "analysts_sales"'
is "$(names)" '["analysts_sales"]' "filter groups by displayName"
flt ServicePrincipals 'applicationId eq "6f1c2d3e-0000-4000-8000-0000000000a1"'
is "$(r 'd["body"]["Resources"][0]')" \
    "{\"active\": true, \"applicationId\": \"6f1c2d3e-0000-4000-8000-0000000000a1\", \"displayName\": \"etl-sp\", \"groups\": [{\"\$ref\": \"Groups/$SALES\", \"display\": \"analysts_sales\", \"type\": \"direct\", \"value\": \"$SALES\"}], \"id\": \"$SP\", \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal\"]}" \
    "a service principal: id, applicationId, displayName, active"
dbq GET "$SC/Users?filter=userName%20eq%20%22alice%40example.com%22&attributes=userName,emails.value"
is "$(r 'd["body"]["Resources"][0]')" "{\"emails\": [{\"value\": \"alice@example.com\"}], \"id\": \"$ALICE\", \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"alice@example.com\"}" \
    "attributes=userName,emails.value: those plus id and schemas"
dbq GET "$SC/Users?filter=userName%20eq%20%22alice%40example.com%22&excludedAttributes=groups,emails"
is "$(r 'sorted(d["body"]["Resources"][0])')" '["active", "displayName", "id", "schemas", "userName"]' "excludedAttributes"

# groups
dbq GET "$SC/Groups/$SALES"
is "$(r 'd["body"]')" "{\"displayName\": \"analysts_sales\", \"id\": \"$SALES\", \"members\": [{\"\$ref\": \"Users/$ALICE\", \"display\": \"Alice\", \"value\": \"$ALICE\"}, {\"\$ref\": \"ServicePrincipals/$SP\", \"display\": \"etl-sp\", \"value\": \"$SP\"}], \"meta\": {\"resourceType\": \"WorkspaceGroup\"}, \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Group\"]}" \
    "GET /Groups/{id}: members with \$ref Users/…, ServicePrincipals/…; meta.resourceType WorkspaceGroup"
dbq GET "$SC/Groups/777"
is "$(r 'd["body"]["members"]')" "[{\"\$ref\": \"Groups/$SALES\", \"display\": \"analysts_sales\", \"value\": \"$SALES\"}]" "a nested group's \$ref is Groups/<id>"
dbq GET "$SC/Groups/424242"
is "$(r '[d["status"], d["body"]]')" '[404, {"detail": "Group with id 424242 not found.", "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}]' \
    "GET an unknown group: 404 SCIM error, status a string"

# --- SCIM PATCH ---------------------------------------------------------------------------
PO='"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$BOB\"}, {\"value\": \"$SP\"}]}]}"
is "$(r '[d["status"], [m["value"] for m in d["body"]["members"]]]')" "[200, [\"$BOB\", \"$SP\"]]" "PATCH add members: 200 with the group"
is "$(db_member finance bob@example.com):$(db_member finance service:6f1c2d3e-0000-4000-8000-0000000000a1)" t:t "state: both members added"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"ADD\", \"path\": \"members\", \"value\": [{\"value\": \"$BOB\"}]}]}"
is "$(r '[d["status"], len(d["body"]["members"])]')" '[200, 2]' "add an existing member (op ADD): 200, no change"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"Remove\", \"path\": \"members[value eq \\\"$BOB\\\"]\"}]}"
is "$(r '[d["status"], [m["value"] for m in d["body"]["members"]]]')" "[200, [\"$SP\"]]" "remove members[value eq \"ID\"] (op Remove)"
is "$(db_member finance bob@example.com)" f "state: bob removed"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"remove\", \"path\": \"members[value eq \\\"$BOB\\\"]\"}]}"
is "$(r '[d["status"], len(d["body"]["members"])]')" '[200, 1]' "remove an absent member: 200, no change"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$ALICE\"}]}, {\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"99999\"}]}]}"
is "$(r '[d["status"], d["body"]["status"], d["body"]["scimType"]]')" '[400, "400", "invalidValue"]' "add an unknown member id: 400 invalidValue"
is "$(db_member finance alice@example.com)" f "atomic: the valid add in the same PATCH did not happen"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"remove\", \"path\": \"members[value eq \\\"$SP\\\"]\"}, {\"op\": \"frobnicate\", \"path\": \"members\"}]}"
is "$(r 'd["status"]'):$(db_member finance service:6f1c2d3e-0000-4000-8000-0000000000a1)" 400:t "an unknown op: 400, and the remove before it undone"
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"remove\"}]}"
is "$(r '[d["status"], d["body"]["scimType"]]')" '[400, "noTarget"]' "remove without a path: 400 noTarget"
dbq PATCH "$SC/Groups/$FIN" "{\"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$ALICE\"}]}]}"
is "$(r 'd["status"]')" 400 "PATCH without the PatchOp schema: 400"
dbq PATCH "$SC/Groups/31337" "{$PO, \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$ALICE\"}]}]}"
is "$(r '[d["status"], d["body"]]')" '[404, {"detail": "Group with id 31337 not found.", "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}]' \
    "PATCH an unknown group: 404 SCIM error"
db_config '{"patch_204": true}'
dbq PATCH "$SC/Groups/$FIN" "{$PO, \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$ALICE\"}]}]}"
is "$(r '[d["status"], d["raw"]]')" '[204, ""]' "patch_204: 204 with no body"
is "$(db_member finance alice@example.com)" t "patch_204: the change happened"
db_config '{"patch_204": false}'
dbq PUT "$SC/Groups/$FIN" '{}'
is "$(r 'd["status"]')" 405 "PUT on a group is not emulated: 405"

# --- Unity Catalog permissions -------------------------------------------------------------
dbq GET "$UC/permissions/TABLE/main.sales.orders"
is "$(r 'd["body"]')" '{"privilege_assignments": [{"principal": "6f1c2d3e-0000-4000-8000-0000000000a1", "privileges": ["SELECT"]}, {"principal": "alice@example.com", "privileges": ["SELECT"]}, {"principal": "analysts_sales", "privileges": ["MODIFY", "SELECT"]}]}' \
    "GET permissions (type upper case): every assignment, no next_page_token"
dbq GET "$UC/permissions/table/main%2Esales%2Eorders?principal=alice%40example.com"
is "$(r 'd["body"]')" '{"privilege_assignments": [{"principal": "alice@example.com", "privileges": ["SELECT"]}]}' \
    "URL-encoded full_name; principal filter"
dbq GET "$UC/permissions/table/main.sales.customers"
is "$(r '[d["status"], d["body"]]')" '[200, {}]' "no grants: {} (empty lists are omitted)"
dbq GET "$UC/permissions/table/main.sales.nope"
is "$(r '[d["status"], d["body"]["error_code"], bool(d["body"]["message"])]')" '[404, "TABLE_DOES_NOT_EXIST", true]' "unknown table: 404 TABLE_DOES_NOT_EXIST"
dbq GET "$UC/permissions/schema/main.nope"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "SCHEMA_DOES_NOT_EXIST"]' "unknown schema: 404 SCHEMA_DOES_NOT_EXIST"
dbq GET "$UC/permissions/catalog/nope"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "CATALOG_DOES_NOT_EXIST"]' "unknown catalog: 404 CATALOG_DOES_NOT_EXIST"

db_config '{"uc_page_size": 1}'
: >"$T/pages"
TOKQ=""
n=0
while :; do
	dbq GET "$UC/permissions/table/main.sales.orders$TOKQ"
	r 'd["body"].get("privilege_assignments", [])' >>"$T/pages"
	NXT=$(r 'd["body"].get("next_page_token", "")')
	n=$((n + 1))
	[ -n "$NXT" ] && [ $n -lt 10 ] || break
	TOKQ="?page_token=$NXT"
done
is "$n" 3 "uc_page_size 1: three pages for three assignments, the last without next_page_token"
is "$("$PY" -c 'import json,sys; print(json.dumps(sorted(a["principal"] for l in open(sys.argv[1]) for a in json.loads(l))))' "$T/pages")" \
    '["6f1c2d3e-0000-4000-8000-0000000000a1", "alice@example.com", "analysts_sales"]' "the pages hold every assignment once"
dbq GET "$UC/permissions/table/main.sales.orders?page_token=garbage"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[400, "INVALID_PARAMETER_VALUE"]' "a bad page_token: 400"
db_config '{"uc_page_size": 0, "uc_empty_first_page": true}'
dbq GET "$UC/permissions/table/main.sales.orders"
is "$(r '["privilege_assignments" in d["body"], bool(d["body"].get("next_page_token"))]')" '[false, true]' \
    "uc_empty_first_page: no assignments but a next_page_token"
dbq GET "$UC/permissions/table/main.sales.orders?page_token=$(r 'd["body"]["next_page_token"]')"
is "$(r '[len(d["body"]["privilege_assignments"]), "next_page_token" in d["body"]]')" '[3, false]' "the next page holds them all"
db_config '{"uc_empty_first_page": false}'
dbq GET "$UC/permissions/table/main.sales.orders?max_results=2"
is "$(r '[len(d["body"]["privilege_assignments"]), bool(d["body"].get("next_page_token"))]')" '[2, true]' "max_results=2 pages"
dbq GET "$UC/permissions/table/main.sales.orders?max_results=-1"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[400, "INVALID_PARAMETER_VALUE"]' "negative max_results: 400"

P=$UC/permissions/table/main.sales.orders
dbq PATCH "$P" '{"changes": [{"principal": "bob@example.com", "add": ["SELECT", "MODIFY"]}, {"principal": "analysts_sales", "remove": ["MODIFY"]}, {"principal": "alice@example.com", "remove": ["SELECT"]}]}'
is "$(r '[d["status"], d["body"]]')" '[200, {"privilege_assignments": [{"principal": "6f1c2d3e-0000-4000-8000-0000000000a1", "privileges": ["SELECT"]}, {"principal": "analysts_sales", "privileges": ["SELECT"]}, {"principal": "bob@example.com", "privileges": ["MODIFY", "SELECT"]}]}]' \
    "PATCH changes: 200 with the full list after"
is "$(db_priv table main.sales.orders bob@example.com MODIFY):$(db_priv table main.sales.orders alice@example.com SELECT)" t:f "state follows the PATCH"
dbq PATCH "$P" '{"changes": [{"principal": "bob@example.com", "add": ["SELECT"]}, {"principal": "alice@example.com", "remove": ["SELECT", "MODIFY"]}]}'
is "$(r '[d["status"], len(d["body"]["privilege_assignments"]), d["body"]["privilege_assignments"][2]["privileges"]]')" '[200, 3, ["MODIFY", "SELECT"]]' \
    "adding a held privilege and removing an absent one: 200, no change"
dbq PATCH "$P" '{"changes": [{"principal": "alice@example.com", "add": ["SELECT"]}, {"principal": "bob@example.com", "add": ["USE_CATALOG"]}]}'
is "$(r '[d["status"], d["body"]["error_code"]]')" '[400, "INVALID_PARAMETER_VALUE"]' "a privilege not valid on a table: 400 INVALID_PARAMETER_VALUE"
is "$(db_priv table main.sales.orders alice@example.com SELECT)" f "atomic: the valid change in the same PATCH did not happen"
dbq PATCH "$P" '{"changes": [{"principal": "mallory@example.com", "add": ["SELECT"]}]}'
is "$(r '[d["status"], d["body"]["error_code"]]')" '[400, "INVALID_PARAMETER_VALUE"]' "an unknown principal: 400 INVALID_PARAMETER_VALUE"
dbq PATCH "$P" '{"changes": [{"principal": "bob@example.com", "add": ["select"]}]}'
is "$(r 'd["status"]')" 400 "privilege names are upper case: 'select' is refused"
dbq PATCH "$UC/permissions/table/main.sales.ghost" '{"changes": [{"principal": "bob@example.com", "add": ["SELECT"]}]}'
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "TABLE_DOES_NOT_EXIST"]' "PATCH an unknown table: 404"
dbq PATCH "$UC/permissions/schema/main.sales" '{"changes": [{"principal": "finance", "add": ["USE_SCHEMA"]}]}'
is "$(r 'd["body"]')" '{"privilege_assignments": [{"principal": "finance", "privileges": ["USE_SCHEMA"]}]}' "a group principal by displayName on a schema"
dbq PATCH "$UC/permissions/CATALOG/main" '{"changes": [{"principal": "6f1c2d3e-0000-4000-8000-0000000000a1", "add": ["USE_CATALOG"]}]}'
is "$(r 'd["status"]'):$(db_priv catalog main 6f1c2d3e-0000-4000-8000-0000000000a1 USE_CATALOG)" 200:t "a service principal by applicationId on a catalog"
dbq GET "$UC/permissions/volume/main.sales.v"
is "$(r 'd["status"]')" 400 "an unsupported securable type: 400"

# --- listings ----------------------------------------------------------------------------------
dbq GET "$UC/catalogs"
is "$(r '[(c["name"], c["full_name"]) for c in d["body"]["catalogs"]]')" '[["main", "main"], ["other", "other"]]' "catalogs: name, full_name"
dbq GET "$UC/catalogs?max_results=1"
is "$(r '[[c["name"] for c in d["body"]["catalogs"]], bool(d["body"].get("next_page_token"))]')" '[["main"], true]' "catalogs max_results=1: one and a next_page_token"
dbq GET "$UC/catalogs?max_results=1&page_token=$(r 'd["body"]["next_page_token"]')"
is "$(r '[[c["name"] for c in d["body"]["catalogs"]], "next_page_token" in d["body"]]')" '[["other"], false]' "catalogs page 2, the last"
dbq GET "$UC/schemas?catalog_name=main"
is "$(r 'd["body"]["schemas"]')" '[{"catalog_name": "main", "full_name": "main.finance", "name": "finance", "owner": "admins"}, {"catalog_name": "main", "full_name": "main.sales", "name": "sales", "owner": "admins"}]' \
    "schemas?catalog_name=main"
dbq GET "$UC/schemas"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[400, "INVALID_PARAMETER_VALUE"]' "schemas without catalog_name: 400"
dbq GET "$UC/schemas?catalog_name=nope"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "CATALOG_DOES_NOT_EXIST"]' "schemas of an unknown catalog: 404"
dbq GET "$UC/tables?catalog_name=main&schema_name=sales&max_results=1"
is "$(r '[[(t["name"], t["catalog_name"], t["schema_name"], t["full_name"], t["table_type"]) for t in d["body"]["tables"]], bool(d["body"].get("next_page_token"))]')" \
    '[[["customers", "main", "sales", "main.sales.customers", "MANAGED"]], true]' "tables: the fields, paged by max_results"
dbq GET "$UC/tables?catalog_name=main&schema_name=sales&max_results=1&page_token=$(r 'd["body"]["next_page_token"]')"
is "$(r '[[t["name"] for t in d["body"]["tables"]], "next_page_token" in d["body"]]')" '[["orders"], false]' "tables page 2, the last"
db_config '{"uc_list_page_size": 1}'
dbq GET "$UC/tables?catalog_name=main&schema_name=sales"
is "$(r '[len(d["body"]["tables"]), bool(d["body"].get("next_page_token"))]')" '[1, true]' "uc_list_page_size forces pages"
db_config '{"uc_list_page_size": 0}'
dbq GET "$UC/tables?catalog_name=other&schema_name=x"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "SCHEMA_DOES_NOT_EXIST"]' "tables of an unknown schema: 404"
dbq GET /api/2.0/clusters/list
is "$(r '[d["status"], d["body"]["error_code"]]')" '[404, "ENDPOINT_NOT_FOUND"]' "an unknown endpoint: 404 ENDPOINT_NOT_FOUND"

# --- faults ---------------------------------------------------------------------------------------
db_fault '{"method": "GET", "path": "/Users", "status": 429, "retry_after": 2, "times": 2}'
dbq GET "$SC/Users?count=1"
is "$(r '[d["status"], d["headers"].get("retry-after"), d["body"]["status"]]')" '[429, "2", "429"]' "fault: 429 with Retry-After (a SCIM error body on a SCIM path)"
dbq GET "$UC/catalogs"
is "$(r 'd["status"]')" 200 "a fault fires only where its path matches"
dbq GET "$SC/Users?count=1"
is "$(r 'd["status"]')" 429 "the fault fires twice"
dbq GET "$SC/Users?count=1"
is "$(r 'd["status"]')" 200 "then the request goes through"
db_fault '{"path": "unity-catalog/permissions", "status": 503, "times": 5}'
dbq GET "$P"
is "$(r '[d["status"], d["body"]["error_code"]]')" '[503, "TEMPORARILY_UNAVAILABLE"]' "fault: 503 with a Databricks error body"
dbq PATCH "$P" '{"changes": [{"principal": "alice@example.com", "add": ["SELECT"]}]}'
is "$(r 'd["status"]'):$(db_priv table main.sales.orders alice@example.com SELECT)" 503:f "a faulted PATCH changes nothing"
is "$(db_http GET /_emulator/faults | jv '[f["times"] for f in d["faults"]]')" '[3]' "GET faults shows the remaining times"
db_faults_clear
dbq GET "$P"
is "$(r 'd["status"]')" 200 "DELETE faults clears them"
db_fault '{"path": "/oidc/v1/token", "status": 500, "body": {"error": "server_error"}}'
dbq POST /oidc/v1/token "$TOKBODY" --form --basic="$DB_CLIENT_ID:$DB_CLIENT_SECRET"
is "$(r '[d["status"], d["body"]]')" '[500, {"error": "server_error"}]' "a fault on the token endpoint, with a given body"

# --- log and control API ------------------------------------------------------------------------------
DBLOG=$(db_log)
is "$(dblog 'all(k in e for e in L for k in ("ts", "method", "path", "query", "headers", "body", "status"))')" true \
    "every log entry has ts, method, path, query, headers, body, status"
is "$(dblog 'len([e for e in L if path(e).startswith("/_emulator")])')" 0 "the control API is not logged"
is "$(dblog 'len(scim_patches()) >= 10 and len(uc_patches()) >= 8')" true "the PATCHes were logged"
is "$(dblog 'sel(scim_patches(), status=204)[0]["body"]["Operations"][0]["value"]')" "[{\"value\": \"$ALICE\"}]" "a PATCH's JSON body is logged parsed"
is "$(dblog 'tokens()[0]["body"]')" "$TOKBODY" "the token request's form body is logged raw"
is "$(dblog 'basic(tokens()[0])')" "[\"$DB_CLIENT_ID\", \"$DB_CLIENT_SECRET\"]" "the Basic header is logged as received"
is "$(dblog 'sorted(set(e["token_kind"] for e in api() if e["status"] == 200))')" '["oauth", "pat"]' "token_kind tells PAT from OAuth"
is "$(dblog '[qry(e) for e in L if qry(e).get("startIndex") == "21"][0]')" '{"count": "10", "startIndex": "21"}' "query parameters are logged"
is "$(dblog 'sel(L, status=429)[0]["fault"]["retry_after"]')" 2 "a faulted request records its fault"
db_log_clear
is "$(db_log)" "[]" "DELETE log empties it"
is "$(wc -c <"$DB_DIR/log.jsonl" | tr -d ' ')" 0 "and truncates the log file"
dbq GET "$SC/Users?count=1"
is "$(wc -l <"$DB_DIR/log.jsonl" | tr -d ' ')" 1 "the log file gets one JSON line per request"

run db_http PUT /_emulator/state '{"groups": [{"displayName": "g", "members": ["ghost@example.com"]}]}'
is "$RC" 1 "PUT state with an unknown member: refused"
run db_http PUT /_emulator/state '{"grants": [{"securable_type": "table", "full_name": "a.b", "principal": "x", "privileges": []}]}'
is "$RC" 1 "PUT state with a malformed table name: refused"
db_put_state "$STATE0"
canon() { jv 'd'; }
is "$(db_state | canon)" "$(printf '%s' "$STATE0" | canon)" \
    "PUT the first state back: GET gives it again (ids kept)"
db_state_edit 'grp("finance")["members"].append("bob@example.com")'
is "$(db_member finance bob@example.com)" t "db_state_edit adds a hand-made member"

# --- --parent-pid ------------------------------------------------------------------------------------------
sleep 30 &
SLEEPER=$!
t_bg $SLEEPER
"$DB_PY" "$TOP/tests/emulators/databricks.py" --port-file "$T/port2" --token x --parent-pid $SLEEPER 2>/dev/null &
EMU2=$!
t_bg $EMU2
i=0
while [ ! -s "$T/port2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $SLEEPER
i=0
while kill -0 $EMU2 2>/dev/null && [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done
is "$(kill -0 $EMU2 2>/dev/null && echo alive || echo gone)" gone "the emulator exits when --parent-pid goes away"
run "$DB_PY" "$TOP/tests/emulators/databricks.py" --port-file "$T/port3"
is "$RC" 2 "no --token and no --client-id: usage error"

done_testing
