# Helpers for the Databricks workspace emulator (tests/emulators/
# databricks.py).  Sourced after tests/lib/e2e.sh (it uses T, PY, bail,
# t_bg, jv).  POSIX sh.
#
# db_start [SEED.json [EMULATOR-ARGS...]]: the emulator on an ephemeral
# loopback port with a fresh PAT and OAuth client.  Sets DB_DIR, DB_PID,
# DB_PORT, DB_URL, DB_TOKEN (the PAT), DB_CLIENT_ID, DB_CLIENT_SECRET.
# Stopped on exit with the other background processes, or by db_stop.
DB_PY=${DB_PY:-/usr/bin/python3}
DB_PID=""

# A random hex string of $1 bytes.
db_rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

db_start() {
	DB_DIR=$T/db
	mkdir -p "$DB_DIR" || bail "mkdir $DB_DIR"
	[ -f "$TOP/tests/emulators/databricks.py" ] || bail "no emulator at tests/emulators/databricks.py"
	[ -n "${DB_TOKEN:-}" ] || DB_TOKEN=dapi$(db_rand 16)
	[ -n "${DB_CLIENT_ID:-}" ] || DB_CLIENT_ID=$(db_rand 4)-$(db_rand 2)-$(db_rand 2)-$(db_rand 2)-$(db_rand 6)
	[ -n "${DB_CLIENT_SECRET:-}" ] || DB_CLIENT_SECRET=dose$(db_rand 20)
	d_seed=${1:-}
	[ $# -gt 0 ] && shift
	if [ -z "$d_seed" ]; then
		d_seed=$DB_DIR/empty-seed.json
		echo '{}' >"$d_seed"
	fi
	rm -f "$DB_DIR/port"
	"$DB_PY" "$TOP/tests/emulators/databricks.py" --port-file "$DB_DIR/port" \
	    --token "$DB_TOKEN" --client-id "$DB_CLIENT_ID" --client-secret "$DB_CLIENT_SECRET" \
	    --parent-pid $$ --seed "$d_seed" --log "$DB_DIR/log.jsonl" "$@" \
	    >"$DB_DIR/emulator.out" 2>&1 &
	DB_PID=$!
	t_bg "$DB_PID"
	d_i=0
	while [ ! -s "$DB_DIR/port" ]; do
		d_i=$((d_i + 1))
		if [ $d_i -gt 150 ] || ! kill -0 "$DB_PID" 2>/dev/null; then
			cat "$DB_DIR/emulator.out" >&2
			bail "the Databricks emulator did not start"
		fi
		sleep 0.1
	done
	DB_PORT=$(cat "$DB_DIR/port")
	DB_URL=http://127.0.0.1:$DB_PORT
	export DB_URL DB_TOKEN DB_CLIENT_ID DB_CLIENT_SECRET
}

db_stop() {
	[ -n "$DB_PID" ] || return 0
	kill "$DB_PID" 2>/dev/null
	wait "$DB_PID" 2>/dev/null
	d_bg=""
	for p in $T_BG; do
		[ "$p" = "$DB_PID" ] || d_bg="$d_bg $p"
	done
	T_BG=$d_bg
	DB_PID=""
}

# db_http METHOD PATH [BODY]: one request to the control API; prints the
# response body, fails on an HTTP error or no answer.
db_http() {
	"$PY" -c '
import sys, urllib.request, urllib.error
m, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
rq = urllib.request.Request(url, data=body, method=m)
if body is not None:
    rq.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(rq, timeout=30) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.stderr.write("db_http: %s %s: HTTP %d: %s\n" % (m, url, e.code, e.read()[:300]))
    sys.exit(1)
except Exception as e:
    sys.stderr.write("db_http: %s %s: %s\n" % (m, url, e))
    sys.exit(1)
' "$1" "$DB_URL$2" ${3+"$3"}
}

# db_state: the state as JSON (the seed format, ids filled in).
db_state() { db_http GET /_emulator/state; }

# db_put_state JSON|@FILE: replace the state.
db_put_state() {
	case $1 in
	@*) db_http PUT /_emulator/state "$(cat "${1#@}")" >/dev/null ;;
	*) db_http PUT /_emulator/state "$1" >/dev/null ;;
	esac
}

# db_state_edit PYTHON: run PYTHON with the state bound to d, put d back
# (hand-made changes, outside accord).  grp(NAME) is the group's dict.
db_state_edit() {
	d_new=$(db_state | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
def grp(n):
    return [g for g in d["groups"] if g["displayName"] == n][0]
exec(sys.argv[1])
print(json.dumps(d))
' "$1") || bail "db_state_edit"
	db_put_state "$d_new" || bail "db_put_state"
}

# db_config JSON: change run-time settings (max_count, uc_page_size,
# uc_empty_first_page, uc_list_page_size, patch_204, token_ttl).
db_config() { db_http PUT /_emulator/config "$1" >/dev/null || bail "db_config $1"; }

# db_log: the request log as one JSON array.
db_log() { db_http GET /_emulator/log; }
db_log_clear() { db_http DELETE /_emulator/log >/dev/null || bail "clear the emulator log"; }

# db_fault JSON: add faults; JSON is {"faults": [...]} or one fault.
db_fault() {
	case $1 in
	*'"faults"'*) db_http POST /_emulator/faults "$1" >/dev/null ;;
	*) db_http POST /_emulator/faults "{\"faults\": [$1]}" >/dev/null ;;
	esac || bail "db_fault $1"
}
db_faults_clear() { db_http DELETE /_emulator/faults >/dev/null || bail "clear faults"; }

# db_check EXPR [ARGS...]: EXPR over the live state (d), with
# member(GROUP, SPEC) and priv(TYPE, FULL_NAME, PRINCIPAL, PRIVILEGE);
# the extra arguments are sys.argv[3:].
db_check() {
	"$PY" -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/state", timeout=30) as r:
    d = json.load(r)
def member(g, m):
    return any(x["displayName"] == g and m in x["members"] for x in d["groups"])
def priv(t, n, p, v):
    return any(x["securable_type"] == t.lower() and x["full_name"].lower() == n.lower()
               and x["principal"] == p and v in x["privileges"] for x in d["grants"])
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$DB_URL" "$@"
}

# db_member GROUP USERNAME: "t" when the group holds the member (a
# userName, group:NAME or service:APPLICATION_ID), else "f".
db_member() { db_check "'t' if member(sys.argv[3], sys.argv[4]) else 'f'" "$1" "$2"; }

# db_priv SECURABLE_TYPE FULL_NAME PRINCIPAL PRIVILEGE: "t" or "f".
db_priv() { db_check "'t' if priv(*sys.argv[3:7]) else 'f'" "$1" "$2" "$3" "$4"; }

# dblog EXPR: EXPR over the log fetched into $DBLOG (`DBLOG=$(db_log)`),
# with L (every entry), path(e), qry(e), hdr(e, NAME), bearer(e),
# basic(e) ([client_id, secret] or None), api() (all but the token
# endpoint), scim(), uc(), tokens() (POSTs to /oidc/v1/token), patches()
# (every PATCH), scim_patches(), uc_patches(), gets(prefix), sel().
# Further arguments are sys.argv[2:].
dblog() {
	printf '%s' "$DBLOG" | "$PY" -c '
import base64, json, re, sys, urllib.parse
raw = sys.stdin.read()
try:
    L = json.loads(raw)
except Exception as e:
    print("BAD-JSON: %s: %r" % (e, raw[:300]))
    sys.exit(0)
def path(e):
    return (e.get("path") or "").split("?", 1)[0]
def qry(e):
    return dict(e.get("query") or {})
def hdr(e, name):
    for k, v in (e.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None
def bearer(e):
    a = hdr(e, "Authorization") or ""
    return a[7:] if a.startswith("Bearer ") else None
def basic(e):
    a = hdr(e, "Authorization") or ""
    if not a.startswith("Basic "):
        return None
    try:
        return base64.b64decode(a[6:]).decode().split(":", 1)
    except Exception:
        return None
SCIM = "/api/2.0/preview/scim/v2/"
UC = "/api/2.1/unity-catalog/"
def api():
    return [e for e in L if path(e) != "/oidc/v1/token"]
def scim():
    return [e for e in L if path(e).startswith(SCIM)]
def uc():
    return [e for e in L if path(e).startswith(UC)]
def tokens():
    return [e for e in L if path(e) == "/oidc/v1/token"]
def patches():
    return [e for e in L if e.get("method") == "PATCH"]
def scim_patches():
    return [e for e in patches() if path(e).startswith(SCIM)]
def uc_patches():
    return [e for e in patches() if path(e).startswith(UC)]
def gets(prefix):
    return [e for e in L if e.get("method") == "GET" and path(e).startswith(prefix)]
def sel(lst, **kw):
    return [x for x in (lst or []) if all(x.get(k) == v for k, v in kw.items())]
try:
    r = eval(sys.argv[1])
except Exception as e:
    print("EXPR-ERROR: %s: %s" % (type(e).__name__, e))
    sys.exit(0)
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$@"
}
