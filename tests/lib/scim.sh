# SCIM 2.0 test server helpers (tests/emulators/scimmy: scimmy 1.3.5 and
# scimmy-routers 1.3.2 on Express), sourced by e2e scenarios after
# tests/lib/e2e.sh.  Modelled on the sf_* helpers there.  POSIX sh.
#
# After scim_start: SCIM_DIR ($T/scim: port, log.jsonl, server.out),
# SCIM_PID, SCIM_PORT, SCIM_URL (the SCIM base, http://127.0.0.1:PORT/scim/v2),
# SCIM_CTL (http://127.0.0.1:PORT, for /_emulator/...) and SCIM_TOKEN (the
# bearer the server requires), all exported.

SCIM_EMU=$TOP/tests/emulators/scimmy
SCIM_PID=""
# A token nobody could mistake for another string: the scenarios grep for it.
SCIM_TOKEN=${SCIM_TOKEN:-scim-test-bearer-4d9c2e7a1f06b583}
export SCIM_TOKEN

# scim_deps: node_modules in tests/emulators/scimmy, installed with npm
# when one of the three packages is missing (a fresh checkout).
scim_deps() {
	command -v node >/dev/null 2>&1 || bail "node is not installed (the SCIM test server needs it)"
	if [ -f "$SCIM_EMU/node_modules/scimmy/package.json" ] &&
	    [ -f "$SCIM_EMU/node_modules/scimmy-routers/package.json" ] &&
	    [ -f "$SCIM_EMU/node_modules/express/package.json" ]; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || bail "npm is not installed (the SCIM test server's packages are missing)"
	mkdir -p "$T/scim"
	(cd "$SCIM_EMU" && npm install --no-audit --no-fund --no-package-lock) \
	    >"$T/scim/npm.out" 2>&1 || {
		cat "$T/scim/npm.out" >&2
		bail "npm install in tests/emulators/scimmy failed"
	}
	[ -f "$SCIM_EMU/node_modules/scimmy-routers/package.json" ] || {
		cat "$T/scim/npm.out" >&2
		bail "npm install left no scimmy-routers in tests/emulators/scimmy/node_modules"
	}
}

# scim_start [SEED.json [SERVER-ARGS...]]: the server on an ephemeral
# loopback port with the scenario's token, logging to $SCIM_DIR/log.jsonl.
# It is stopped on exit with the other background processes (and exits by
# itself when this shell goes away).
scim_start() {
	SCIM_DIR=$T/scim
	mkdir -p "$SCIM_DIR" || bail "mkdir $SCIM_DIR"
	[ -f "$SCIM_EMU/server.js" ] || bail "no server at tests/emulators/scimmy/server.js"
	scim_deps
	c_seed=${1:-}
	[ $# -gt 0 ] && shift
	if [ -z "$c_seed" ]; then
		c_seed=$SCIM_DIR/empty-seed.json
		echo '{"users": [], "groups": []}' >"$c_seed"
	fi
	rm -f "$SCIM_DIR/port"
	node "$SCIM_EMU/server.js" --port-file "$SCIM_DIR/port" --parent-pid $$ \
	    --seed "$c_seed" --log "$SCIM_DIR/log.jsonl" --token "$SCIM_TOKEN" "$@" \
	    >"$SCIM_DIR/server.out" 2>&1 &
	SCIM_PID=$!
	t_bg "$SCIM_PID"
	c_i=0
	while [ ! -s "$SCIM_DIR/port" ]; do
		c_i=$((c_i + 1))
		if [ $c_i -gt 150 ] || ! kill -0 "$SCIM_PID" 2>/dev/null; then
			cat "$SCIM_DIR/server.out" >&2
			bail "the SCIM test server did not start"
		fi
		sleep 0.1
	done
	SCIM_PORT=$(cat "$SCIM_DIR/port")
	SCIM_CTL=http://127.0.0.1:$SCIM_PORT
	SCIM_URL=$SCIM_CTL/scim/v2
	c_prev=""
	for c_a in "$@"; do
		case $c_prev in --base) SCIM_URL=$SCIM_CTL/${c_a#/} ;; esac
		c_prev=$c_a
	done
	c_prev=""
	export SCIM_PORT SCIM_URL SCIM_CTL
}

scim_stop() {
	[ -n "$SCIM_PID" ] || return 0
	kill "$SCIM_PID" 2>/dev/null
	wait "$SCIM_PID" 2>/dev/null
	c_bg=""
	for p in $T_BG; do
		[ "$p" = "$SCIM_PID" ] || c_bg="$c_bg $p"
	done
	T_BG=$c_bg
	SCIM_PID=""
}

# scim_http METHOD PATH [BODY]: one request to the control API (PATH under
# $SCIM_CTL, e.g. /_emulator/state); prints the response body, fails on an
# HTTP error or no answer.
scim_http() {
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
    sys.stderr.write("scim_http: %s %s: HTTP %d: %s\n" % (m, url, e.code, e.read()[:300]))
    sys.exit(1)
except Exception as e:
    sys.stderr.write("scim_http: %s %s: %s\n" % (m, url, e))
    sys.exit(1)
' "$1" "$SCIM_CTL$2" ${3+"$3"}
}

# scim_state: {"users": [...], "groups": [...]} with ids, the truth.
scim_state() { scim_http GET /_emulator/state; }

# scim_put_state JSON|@FILE: replace the state (seed format: ids optional,
# members by "userName", "value" (an id) or "group" (a displayName)).
scim_put_state() {
	case $1 in
	@*) scim_http PUT /_emulator/state "$(cat "${1#@}")" >/dev/null ;;
	*) scim_http PUT /_emulator/state "$1" >/dev/null ;;
	esac
}

# scim_state_edit PYTHON: run PYTHON with the state bound to d (with the
# helpers user(USERNAME) and group(NAME) returning the objects in d), then
# put d back: changes made by hand, outside accord.
scim_state_edit() {
	c_new=$(scim_state | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
def user(n):
    return [u for u in d["users"] if u["userName"] == n][0]
def group(n):
    return [g for g in d["groups"] if g["displayName"] == n][0]
exec(sys.argv[1])
print(json.dumps(d))
' "$1") || bail "scim_state_edit"
	scim_put_state "$c_new" || bail "scim_put_state"
}

# scim_log: the request log as one JSON array.  scim_log_clear empties
# it (and log.jsonl), first appending log.jsonl to $SCIM_DIR/log-all.jsonl,
# which so holds every request of the scenario (with log.jsonl).
scim_log() { scim_http GET /_emulator/log; }
scim_log_clear() {
	cat "$SCIM_DIR/log.jsonl" >>"$SCIM_DIR/log-all.jsonl" 2>/dev/null
	scim_http DELETE /_emulator/log >/dev/null || bail "clear the SCIM server's log"
}

# scim_config JSON: change the server's settings at run time
# ({"patch_status": 204|null, "raw_filters": true|false}).
scim_config() { scim_http PUT /_emulator/config "$1" >/dev/null || bail "scim_config $1"; }

# scim_fault JSON: add faults; JSON is {"faults": [...]} or one fault.
scim_fault() {
	case $1 in
	*'"faults"'*) scim_http POST /_emulator/faults "$1" >/dev/null ;;
	*) scim_http POST /_emulator/faults "{\"faults\": [$1]}" >/dev/null ;;
	esac || bail "scim_fault $1"
}
scim_faults_clear() { scim_http DELETE /_emulator/faults >/dev/null || bail "clear faults"; }

# scim_check EXPR [ARGS...]: EXPR over the live state (d), with
# user(USERNAME) and group(NAME) (the object or None), uid(USERNAME) and
# gid(NAME) (the id or None), members(NAME) (the sorted userNames, and
# "group:NAME" for groups, of a group's members), member(GROUP, USERNAME).
# ARGS are sys.argv[3:].
scim_check() {
	"$PY" -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/state", timeout=30) as r:
    d = json.load(r)
def user(n):
    return next((u for u in d["users"] if u["userName"] == n), None)
def group(n):
    return next((g for g in d["groups"] if g["displayName"] == n), None)
def uid(n):
    return (user(n) or {}).get("id")
def gid(n):
    return (group(n) or {}).get("id")
def members(n):
    byid = {u["id"]: u["userName"] for u in d["users"]}
    byid.update({g["id"]: "group:" + g["displayName"] for g in d["groups"]})
    return sorted(byid.get(m["value"], "?" + m["value"]) for m in (group(n) or {}).get("members", []))
def member(g, u):
    return u in members(g)
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$SCIM_CTL" "$@"
}

# scim_member GROUP USERNAME: "t" when the group has the user (or, for
# USERNAME "group:NAME", that group) as a member, else "f".
scim_member() { scim_check "'t' if member(sys.argv[3], sys.argv[4]) else 'f'" "$1" "$2"; }
# scim_members GROUP: JSON list of the members' userNames, sorted.
scim_members() { scim_check "members(sys.argv[3])" "$1"; }
# scim_uid USERNAME, scim_gid GROUP: the server-assigned ids ("None" if absent).
scim_uid() { scim_check "str(uid(sys.argv[3]))" "$1"; }
scim_gid() { scim_check "str(gid(sys.argv[3]))" "$1"; }

# scimlog EXPR: evaluate EXPR over the log fetched into $SCIMLOG (by
# `SCIMLOG=$(scim_log)`), with helpers: L (every entry), path(e) (without
# the query), qry(e) (query parameters as a dict), hdr(e, NAME)
# (case-insensitive header or None), bearer(e), scim() (requests under
# the SCIM base), gets(KIND) (GETs of /Users or /Groups lists; KIND
# "Users"/"Groups" or None for both), starts(KIND) (their startIndex
# values as ints, in order), patches(GID) (PATCHes of /Groups/..., or of
# that group id), pgid(e) (the group id a PATCH names), ops(e) (its
# Operations), opsum(e) (its Operations as [op, path, sorted value ids]),
# filters() (the filter parameters sent), sel(list, k=v...).  Further
# arguments are sys.argv[3:].
scimlog() {
	c_expr=$1
	shift
	printf '%s' "$SCIMLOG" | "$PY" -c '
import json, re, sys, urllib.parse
raw = sys.stdin.read()
try:
    L = json.loads(raw)
except Exception as e:
    print("BAD-JSON: %s: %r" % (e, raw[:300]))
    sys.exit(0)
BASE = urllib.parse.urlparse(sys.argv[2]).path.rstrip("/")
def path(e):
    return (e.get("path") or "").split("?", 1)[0]
def qry(e):
    q = {}
    p = e.get("path") or ""
    if "?" in p:
        q.update(urllib.parse.parse_qsl(p.split("?", 1)[1], keep_blank_values=True))
    v = e.get("query")
    if isinstance(v, dict):
        for k, x in v.items():
            q[k] = x[0] if isinstance(x, list) and len(x) == 1 else x
    return q
def hdr(e, name):
    for k, v in (e.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None
def bearer(e):
    a = hdr(e, "Authorization") or ""
    return a[7:] if a.startswith("Bearer ") else None
def scim():
    return [e for e in L if path(e).startswith(BASE + "/")]
def gets(kind=None):
    ks = [kind] if kind else ["Users", "Groups"]
    return [e for e in scim() if e.get("method") == "GET" and path(e) in [BASE + "/" + k for k in ks]]
def starts(kind=None):
    return [int(qry(e).get("startIndex", "1")) for e in gets(kind)]
def patches(gid=None):
    return [e for e in scim() if e.get("method") == "PATCH" and path(e).startswith(BASE + "/Groups/")
            and (gid is None or path(e) == BASE + "/Groups/" + gid)]
def pgid(e):
    return path(e)[len(BASE + "/Groups/"):]
def ops(e):
    b = e.get("body")
    return b.get("Operations") if isinstance(b, dict) else None
def opsum(e):
    out = []
    for o in ops(e) or []:
        v = o.get("value")
        ids = sorted(x.get("value") for x in v) if isinstance(v, list) else v
        out.append([o.get("op"), o.get("path"), ids])
    return out
def filters():
    return [qry(e)["filter"] for e in scim() if "filter" in qry(e)]
def sel(lst, **kw):
    return [x for x in (lst or []) if all(x.get(k) == v for k, v in kw.items())]
try:
    r = eval(sys.argv[1])
except Exception as e:
    print("EXPR-ERROR: %s: %s" % (type(e).__name__, e))
    sys.exit(0)
if isinstance(r, str):
    print(r)
else:
    print(json.dumps(r, sort_keys=True))
' "$c_expr" "${SCIM_URL:-http://127.0.0.1/scim/v2}" "$@"
}

# scim_req METHOD PATH [BODY [HEADER...]]: one request to the SCIM API
# itself (PATH under $SCIM_URL), with "Authorization: Bearer $SCIM_TOKEN"
# unless HEADERs (each "Name: value") hold an Authorization header or
# "-" (no Authorization at all).  A BODY gets Content-Type
# application/scim+json unless a header sets one.  Sets RC (the HTTP
# status, 0 for no answer), OUT (the response body), HDRS (the response
# headers, "name: value" a line, names lower-case) and ERR; never fails.
scim_req() {
	c_m=$1 c_p=$2
	shift 2
	c_b=""
	if [ $# -gt 0 ]; then c_b=$1; shift; fi
	T_CMD="scim_req $c_m $c_p${c_b:+ $c_b}"
	RC=$("$PY" -c '
import os, sys, urllib.request, urllib.error
m, url, body, out, hdrs = sys.argv[1:6]
body = body.encode() if body else None
rq = urllib.request.Request(url, data=body, method=m)
auth = True
for h in sys.argv[6:]:
    if h == "-":
        auth = False
        continue
    k, v = h.split(":", 1)
    rq.add_header(k.strip(), v.strip())
    if k.strip().lower() == "authorization":
        auth = False
if auth:
    rq.add_header("Authorization", "Bearer " + os.environ["SCIM_TOKEN"])
if body is not None and not rq.has_header("Content-type"):
    rq.add_header("Content-Type", "application/scim+json")
try:
    with urllib.request.urlopen(rq, timeout=30) as r:
        st, hd, b = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    st, hd, b = e.code, e.headers, e.read()
except Exception as e:
    st, hd, b = 0, {}, str(e).encode()
open(out, "wb").write(b)
open(hdrs, "w").write("".join("%s: %s\n" % (k.lower(), v) for k, v in hd.items()))
print(st)
' "$c_m" "$SCIM_URL$c_p" "$c_b" "$T/.out" "$T/.hdrs" "$@")
	OUT=$(cat "$T/.out" 2>/dev/null)
	HDRS=$(cat "$T/.hdrs" 2>/dev/null)
	ERR=""
	return 0
}

# scim_q PARAMS...: a URL query string from NAME=VALUE pairs, each value
# percent-encoded (filters with quotes and spaces).
scim_q() {
	"$PY" -c '
import sys, urllib.parse
print(urllib.parse.urlencode([tuple(a.split("=", 1)) for a in sys.argv[1:]], quote_via=urllib.parse.quote))
' "$@"
}
