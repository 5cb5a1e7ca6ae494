# Sourced by every tests/e2e/*.sh scenario: a throwaway directory, TAP
# output with a counter, assertions that print the command's output when
# they fail, a fixed clock and locale, git helpers that build real access
# repository histories (pull requests merged with the button, direct
# pushes, squash merges with trailers), and a throwaway PostgreSQL cluster
# with the roles and tables every scenario uses.  POSIX sh (dash).
#
# Variables after t_init: T (the directory, also the cwd), AR (the access
# repository, $T/access), STATE ($T/accord.db), ACCORD, TOP.  After each
# `run`/`exit_is`: OUT, ERR (the command's stdout and stderr) and RC.

export LC_ALL=C TZ=UTC
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
ACCORD=${ACCORD:-$TOP/build/accord}
export TOP ACCORD

T_N=0
T_PASS=0
T_FAIL=0
T_BG=""
T_PG=""
T=""

# Isolate git from the user's configuration.
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL=/dev/null
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
    GIT_AUTHOR_DATE GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE \
    ACCORD_STATE ACCORD_TEST_CRASH 2>/dev/null

t_cleanup() {
	t_rc=$?
	for p in $T_BG; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$T_PG" ]; then
		pg_stop "$T_PG" >/dev/null 2>&1
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ -n "$E2E_KEEP" ]; then
			echo "# kept $T" >&2
		else
			cd / && rm -rf "$T"
		fi
	fi
	exit $t_rc
}

t_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/accord-e2e.XXXXXX") || exit 1
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cd "$T" || exit 1
	HOME=$T
	export HOME
	AR=$T/access
	STATE=$T/accord.db
	if [ ! -x "$ACCORD" ]; then
		echo "# no accord binary at $ACCORD" >&2
	fi
}

# Remember a background process so that cleanup stops it.
t_bg() { T_BG="$T_BG $1"; }

# --- TAP ------------------------------------------------------------------

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# Show the last command's output (truncated) under a failed test.
t_show() {
	if [ -n "$T_CMD" ]; then
		diag "command: $T_CMD (exit $RC)"
		if [ -n "$OUT" ]; then diag "stdout:"; printf '%s\n' "$OUT" | head -c 4000 | awk '{print "#   " $0}'; fi
		if [ -n "$ERR" ]; then diag "stderr:"; printf '%s\n' "$ERR" | head -c 4000 | awk '{print "#   " $0}'; fi
	fi
}

pass() {
	T_N=$((T_N + 1)); T_PASS=$((T_PASS + 1))
	echo "ok $T_N - $1"
}

fail() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $1"
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  got: '$1'" "want: '$2'"
		t_show
	fi
}

# isnt GOT UNWANTED NAME
isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3"
		diag "  got: '$1' (must differ)"
		t_show
	fi
}

# like GOT REGEX NAME (extended regular expression, any line)
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3"
		diag "  '$(printf '%s' "$1" | head -c 2000)'" "doesn't match /$2/"
		t_show
	fi
}

# unlike GOT REGEX NAME
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3"
		diag "  '$(printf '%s' "$1" | head -c 2000)'" "matches /$2/ (it must not)"
		t_show
	else
		pass "$3"
	fi
}

# run CMD...: run and keep OUT, ERR, RC (no assertion).
run() {
	T_CMD="$*"
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	t_sanitizer "$T/.err"
	return 0
}

# Under `make check` the binary carries ASan/UBSan, whose reports do not
# always change the exit code: any report is a failed test of its own.
t_sanitizer() {
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" 2>/dev/null; then
		fail "sanitizer report from: $T_CMD"
		grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1" | head -n 40 | awk '{print "#   " $0}'
	fi
}

# exit_is CODE NAME CMD...
exit_is() {
	t_want=$1 t_name=$2
	shift 2
	run "$@"
	if [ "$RC" = "$t_want" ]; then
		pass "$t_name"
	else
		fail "$t_name"
		diag "  exit $RC, want $t_want"
		t_show
	fi
}

done_testing() {
	echo "1..$T_N"
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" = 0 ] && [ "$T_N" -gt 0 ]
	exit $?
}

# Stop a scenario that cannot go on (setup failed), counting it failed.
bail() {
	fail "setup: $*"
	t_show
	done_testing
}

# --- JSON -----------------------------------------------------------------

# The interpreter itself, not a version manager's shim (which costs most
# of a second per call).
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "$PY" ] || PY=python3

# jv EXPR: evaluate a Python expression over the JSON document on stdin
# (bound to d).  sel(list, k=v...) keeps the objects whose fields equal
# the given values.  Strings print bare, everything else as JSON; a
# document that does not parse prints "BAD-JSON: ..." so that the
# assertion using it fails with a reason.
jv() {
	"$PY" -c '
import json, sys
def sel(lst, **kw):
    return [x for x in (lst or []) if all(x.get(k) == v for k, v in kw.items())]
raw = sys.stdin.read()
try:
    d = json.loads(raw)
except Exception as e:
    print("BAD-JSON: %s: %r" % (e, raw[:300]))
    sys.exit(0)
try:
    r = eval(sys.argv[1])
except Exception as e:
    print("EXPR-ERROR: %s: %s" % (type(e).__name__, e))
    sys.exit(0)
if isinstance(r, str):
    print(r)
else:
    print(json.dumps(r, sort_keys=True))
' "$1"
}

# ojv EXPR: jv over the last command's stdout.
ojv() { printf '%s' "$OUT" | jv "$1"; }

# --- time -----------------------------------------------------------------

# t_add RFC3339 SECONDS -> RFC3339
t_add() {
	date -u -d "@$(( $(date -u -d "$1" +%s) + $2 ))" +%Y-%m-%dT%H:%M:%SZ
}

# --- accord ---------------------------------------------------------------

# acc ARGS...: the binary on the scenario's repository and state.  Global
# options (--now, --json) go first, as the CLI expects.
acc() { "$ACCORD" -C "$AR" --state "$STATE" "$@"; }

# audit_json [FILTERS...]: AUD = `audit --format json` (rows).
audit_json() {
	AUD=$(acc audit --format json "$@" 2>"$T/.auderr")
	a_rc=$?
	if [ $a_rc != 0 ] || [ -z "$AUD" ]; then
		diag "audit --format json $* exited $a_rc:" "$(cat "$T/.auderr")"
		[ -n "$AUD" ] || AUD='{"rows": "AUDIT-FAILED"}'
	fi
}
# aud EXPR: jv over $AUD.
aud() { printf '%s' "$AUD" | jv "$1"; }

# --- git: the access repository -------------------------------------------

ADMIN_NAME="Ada Admin"
ADMIN_EMAIL="admin@example.com"
T0="2026-01-01T00:00:00Z"
AR_PRS=0

# The default settings: one PostgreSQL platform.  Scenarios pass their own.
ar_default_config() {
	cat <<EOF
version: 1
branch: main
groups:
  data-owners: [bob@example.com, carol@example.com]
  security: [dave@example.com]
platforms:
  warehouse:
    type: postgres
    dsn_env: WAREHOUSE_DSN
    managed: ["role:analyst_*", "table:sales.*"]
    protected_accounts: [postgres, etl_service$AR_EXTRA_PROTECTED]
    drift: enforce
    accounts:
      match: email-local
safety:
  max_revoke: 50
EOF
}

# The deny rule comes last so that only "a matching deny wins" can stop
# the allow rule before it.  table:sales.invoices is managed but no rule
# names it (default deny).
ar_default_policy() {
	cat <<'EOF'
rules:
  - platform: warehouse
    targets: ["table:sales.orders", "table:sales.customers", "role:analyst_*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d
  - platform: "*"
    targets: ["role:*admin*"]
    deny: true
EOF
}

# ar_git NAME EMAIL DATE GIT-ARGS...: git in the repository as NAME <EMAIL>
# (author and committer) at DATE.
ar_git() {
	g_name=$1 g_email=$2 g_date=$3
	shift 3
	GIT_AUTHOR_NAME=$g_name GIT_AUTHOR_EMAIL=$g_email GIT_AUTHOR_DATE=$g_date \
	GIT_COMMITTER_NAME=$g_name GIT_COMMITTER_EMAIL=$g_email GIT_COMMITTER_DATE=$g_date \
	    git -C "$AR" "$@"
}

# ar_write FILE CONTENT: write a file in the work tree (CONTENT verbatim
# plus a newline; "@PATH" copies PATH instead).
ar_write() {
	mkdir -p "$(dirname "$AR/$1")"
	case $2 in
	@*) cp "${2#@}" "$AR/$1" ;;
	*) printf '%s\n' "$2" >"$AR/$1" ;;
	esac
}

# The requester's address in a request (for the PR's author), or alice.
ar_requester() {
	r=$(printf '%s\n' "$1" | sed -n 's/^requester:[[:space:]]*\([^[:space:]#]*\).*/\1/p' | head -n 1)
	echo "${r:-alice@example.com}"
}

# ar_init [CONFIG [POLICY]]: ./access with accord.yaml and
# policies/warehouse.yaml committed on main by the admin at T0.
ar_init() {
	cfg=${1-$(ar_default_config)}
	pol=${2-$(ar_default_policy)}
	rm -rf "$AR"
	git init -q -b main "$AR" || bail "git init"
	ar_write accord.yaml "$cfg"
	ar_write policies/warehouse.yaml "$pol"
	git -C "$AR" add -A
	ar_git "$ADMIN_NAME" "$ADMIN_EMAIL" "$T0" commit -q -m "Access repository" || bail "initial commit"
}

# ar_branch BRANCH: a new branch from main, checked out.
ar_branch() {
	git -C "$AR" checkout -q -b "$1" main || bail "branch $1"
}

# ar_commit NAME EMAIL DATE MESSAGE: commit everything in the work tree.
ar_commit() {
	git -C "$AR" add -A
	ar_git "$1" "$2" "$3" commit -q --allow-empty -m "$4" || bail "commit $4"
}

# ar_merge BRANCH APPROVER_NAME APPROVER_EMAIL DATE: the merge button.
ar_merge() {
	AR_PRS=$((AR_PRS + 1))
	git -C "$AR" checkout -q main || bail "checkout main"
	ar_git "$2" "$3" "$4" merge -q --no-ff -m "Merge pull request #$AR_PRS from $1" "$1" \
	    >/dev/null || bail "merge $1"
}

# ar_pr BRANCH FILE CONTENT APPROVER_NAME APPROVER_EMAIL DATE [AUTHOR_NAME AUTHOR_EMAIL]
ar_pr() {
	a_email=${8:-$(ar_requester "$3")}
	a_name=${7:-${a_email%%@*}}
	ar_branch "$1"
	ar_write "$2" "$3"
	ar_commit "$a_name" "$a_email" "$6" "Request $2"
	ar_merge "$1" "$4" "$5" "$6"
}

# ar_push FILE CONTENT DATE: a commit straight on main by the admin.
ar_push() {
	git -C "$AR" checkout -q main || bail "checkout main"
	ar_write "$1" "$2"
	ar_commit "$ADMIN_NAME" "$ADMIN_EMAIL" "$3" "Update $1"
}

# ar_rm DATE FILE...: a pull request deleting the files, merged by Bob.
ar_rm() {
	r_date=$1
	shift
	AR_RMS=$((${AR_RMS:-0} + 1))
	ar_branch "withdraw-$AR_RMS"
	git -C "$AR" rm -q "$@" || bail "git rm $*"
	ar_commit "Alice" "alice@example.com" "$r_date" "Withdraw $*"
	ar_merge "withdraw-$AR_RMS" "Bob" "bob@example.com" "$r_date"
}

# ar_squash FILE CONTENT DATE TRAILER...: one commit on main authored by
# the requester, committed by the forge, with the trailers in its message.
ar_squash() {
	s_file=$1 s_content=$2 s_date=$3
	shift 3
	s_email=$(ar_requester "$s_content")
	git -C "$AR" checkout -q main || bail "checkout main"
	ar_write "$s_file" "$s_content"
	git -C "$AR" add -A
	s_msg="Request $s_file (#$((AR_PRS + 1)))"
	if [ $# -gt 0 ]; then
		s_msg=$(printf '%s\n\n' "$s_msg"; printf '%s\n' "$@")
	fi
	AR_PRS=$((AR_PRS + 1))
	GIT_AUTHOR_NAME=${s_email%%@*} GIT_AUTHOR_EMAIL=$s_email GIT_AUTHOR_DATE=$s_date \
	GIT_COMMITTER_NAME=Forge GIT_COMMITTER_EMAIL=noreply@forge.example.com \
	GIT_COMMITTER_DATE=$s_date \
	    git -C "$AR" commit -q -m "$s_msg" || bail "squash $s_file"
}

ar_head() { git -C "$AR" rev-parse main; }

# --- PostgreSQL -------------------------------------------------------------

# t_pg: one throwaway cluster for the scenario with the standard roles,
# schemas and tables; WAREHOUSE_DSN points accord at it.  PG_SUPER is the
# bootstrap superuser (it owns the tables and is protected).
t_pg() {
	. "$TOP/tests/lib/pg.sh"
	T_PG=$T/pg
	pg_start "$T_PG" >"$T/.pgstart" 2>&1 || { cat "$T/.pgstart" >&2; bail "pg_start"; }
	PG_SUPER=$(pg_q "SELECT current_user")
	[ -n "$PG_SUPER" ] || bail "no PostgreSQL superuser"
	pg_sql "
CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN;
CREATE ROLE dave LOGIN; CREATE ROLE etl_service LOGIN;
CREATE ROLE analyst_sales NOLOGIN; CREATE ROLE analyst_admin NOLOGIN;
CREATE ROLE finance_app NOLOGIN;
CREATE SCHEMA sales; CREATE SCHEMA finance;
CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric);
CREATE TABLE sales.customers (id int PRIMARY KEY, name text);
CREATE TABLE sales.invoices (id int PRIMARY KEY, total numeric);
CREATE TABLE finance.ledger (id int PRIMARY KEY, amount numeric);
GRANT USAGE ON SCHEMA sales, finance TO PUBLIC;
" >"$T/.pgsetup" 2>&1 || { cat "$T/.pgsetup" >&2; bail "PostgreSQL setup"; }
	AR_EXTRA_PROTECTED=""
	[ "$PG_SUPER" = postgres ] || AR_EXTRA_PROTECTED=", $PG_SUPER"
	WAREHOUSE_DSN=$PG_DSN
	export WAREHOUSE_DSN PG_SUPER
}

# pg_q SQL: one value, trimmed (pg_sql's output, first line).
pg_q() {
	pg_sql "$1" 2>&1 | sed -n '1{s/^[[:space:]]*//;s/[[:space:]]*$//;p;}'
}

# Truth from the database: "t" or "f".
pg_select() { pg_q "SELECT has_table_privilege('$1', '$2', 'SELECT')"; }
pg_member() { pg_q "SELECT pg_has_role('$1', '$2', 'MEMBER')"; }

# --- Snowflake SQL API emulator ------------------------------------------------

# sf_start [SEED.json [EMULATOR-ARGS...]]: an RSA key pair in $T/sf
# (key.pem, 0600, and pub.pem; made once per scenario) and the emulator
# (tests/emulators/snowflake.py, run by the system Python, which has
# python3-cryptography) on an ephemeral loopback port, JWT account
# XY12345 and user ACCORD_SVC.  Sets SF_DIR, SF_PID, SF_PORT, SF_URL,
# SF_KEY, SF_PUB and SF_FP (the key's "SHA256:..." fingerprint).  The
# emulator is stopped on exit with the other background processes.
SF_PY=${SF_PY:-/usr/bin/python3}
SF_PID=""
sf_start() {
	SF_DIR=$T/sf
	SF_KEY=$SF_DIR/key.pem
	SF_PUB=$SF_DIR/pub.pem
	mkdir -p "$SF_DIR" || bail "mkdir $SF_DIR"
	[ -f "$TOP/tests/emulators/snowflake.py" ] || bail "no emulator at tests/emulators/snowflake.py"
	if [ ! -f "$SF_KEY" ]; then
		(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		    -out "$SF_KEY") 2>"$SF_DIR/openssl.err" &&
		    chmod 600 "$SF_KEY" &&
		    openssl pkey -in "$SF_KEY" -pubout -out "$SF_PUB" 2>>"$SF_DIR/openssl.err" ||
		    { cat "$SF_DIR/openssl.err" >&2; bail "RSA key generation"; }
	fi
	SF_FP=SHA256:$(openssl pkey -pubin -in "$SF_PUB" -outform DER 2>/dev/null |
	    openssl dgst -sha256 -binary | openssl base64 -A)
	s_seed=${1:-}
	[ $# -gt 0 ] && shift
	if [ -z "$s_seed" ]; then
		s_seed=$SF_DIR/empty-seed.json
		echo '{"users": [], "roles": [], "role_grants": [], "privileges": []}' >"$s_seed"
	fi
	rm -f "$SF_DIR/port"
	"$SF_PY" "$TOP/tests/emulators/snowflake.py" --port-file "$SF_DIR/port" \
	    --public-key "$SF_PUB" --account XY12345 --user ACCORD_SVC \
	    --parent-pid $$ --seed "$s_seed" --log "$SF_DIR/log.jsonl" "$@" \
	    >"$SF_DIR/emulator.out" 2>&1 &
	SF_PID=$!
	t_bg "$SF_PID"
	s_i=0
	while [ ! -s "$SF_DIR/port" ]; do
		s_i=$((s_i + 1))
		if [ $s_i -gt 150 ] || ! kill -0 "$SF_PID" 2>/dev/null; then
			cat "$SF_DIR/emulator.out" >&2
			bail "the Snowflake emulator did not start"
		fi
		sleep 0.1
	done
	SF_PORT=$(cat "$SF_DIR/port")
	SF_URL=http://127.0.0.1:$SF_PORT
	export SF_URL
}

sf_stop() {
	[ -n "$SF_PID" ] || return 0
	kill "$SF_PID" 2>/dev/null
	wait "$SF_PID" 2>/dev/null
	s_bg=""
	for p in $T_BG; do
		[ "$p" = "$SF_PID" ] || s_bg="$s_bg $p"
	done
	T_BG=$s_bg
	SF_PID=""
}

# sf_http METHOD PATH [BODY]: one request to the emulator's control API;
# prints the response body, fails on an HTTP error or no answer.
sf_http() {
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
    sys.stderr.write("sf_http: %s %s: HTTP %d: %s\n" % (m, url, e.code, e.read()[:300]))
    sys.exit(1)
except Exception as e:
    sys.stderr.write("sf_http: %s %s: %s\n" % (m, url, e))
    sys.exit(1)
' "$1" "$SF_URL$2" ${3+"$3"}
}

# sf_state: the emulator's state as JSON (users, roles, role_grants,
# privileges), the truth the scenarios check.
sf_state() { sf_http GET /_emulator/state; }

# sf_put_state JSON|@FILE: replace the state with a seed document.
sf_put_state() {
	case $1 in
	@*) sf_http PUT /_emulator/state "$(cat "${1#@}")" >/dev/null ;;
	*) sf_http PUT /_emulator/state "$1" >/dev/null ;;
	esac
}

# sf_state_edit PYTHON: run PYTHON with the state bound to d, then put d
# back (hand-made grants, outside accord).
sf_state_edit() {
	s_new=$(sf_state | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
exec(sys.argv[1])
print(json.dumps(d))
' "$1") || bail "sf_state_edit"
	sf_put_state "$s_new" || bail "sf_put_state"
}

# sf_log: the request log as one JSON array, whatever the emulator's
# framing (an array, {"log"|"entries"|"requests": [...]}, or JSON lines).
sf_log() {
	"$PY" -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/log", timeout=30) as r:
    raw = r.read().decode()
try:
    d = json.loads(raw)
    if isinstance(d, dict):
        for k in ("log", "entries", "requests"):
            if isinstance(d.get(k), list):
                d = d[k]
                break
except ValueError:
    d = [json.loads(l) for l in raw.splitlines() if l.strip()]
print(json.dumps(d))
' "$SF_URL"
}

sf_log_clear() { sf_http DELETE /_emulator/log >/dev/null || bail "clear the emulator log"; }

# sf_fault JSON: add faults; JSON is {"faults": [...]} or one fault object.
sf_fault() {
	case $1 in
	*'"faults"'*) sf_http POST /_emulator/faults "$1" >/dev/null ;;
	*) sf_http POST /_emulator/faults "{\"faults\": [$1]}" >/dev/null ;;
	esac || bail "sf_fault $1"
}

sf_faults_clear() { sf_http DELETE /_emulator/faults >/dev/null || bail "clear faults"; }

# sf_check EXPR: evaluate EXPR over the emulator's live state (bound to
# d), with member(ROLE, "USER"|"ROLE", GRANTEE) and priv(PRIVILEGE, KIND,
# NAME, ROLE) true when the state holds that grant.  One process per
# call, as each is a test of its own.
sf_check() {
	"$PY" -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_emulator/state", timeout=30) as r:
    d = json.load(r)
def member(r, k, g):
    return any(x.get("role") == r and x.get("granted_to") == k and
               x.get("grantee_name") == g for x in d.get("role_grants", []))
def priv(p, k, n, g):
    return any(x.get("privilege") == p and x.get("granted_on") == k and
               x.get("name") == n and x.get("grantee_name") == g
               for x in d.get("privileges", []))
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$SF_URL" "$@"
}

# sf_member ROLE USER|ROLE GRANTEE: "t" when the emulator's state holds
# the membership, else "f".
sf_member() {
	sf_check "'t' if member(sys.argv[3], sys.argv[4], sys.argv[5]) else 'f'" "$1" "$2" "$3"
}

# sf_priv PRIVILEGE KIND NAME ROLE: "t" when ROLE holds PRIVILEGE on the
# object (KIND: TABLE, SCHEMA, DATABASE, WAREHOUSE; NAME as "DB.S.T").
sf_priv() {
	sf_check "'t' if priv(*sys.argv[3:7]) else 'f'" "$1" "$2" "$3" "$4"
}

# sflog EXPR: evaluate EXPR over the log fetched into $SFLOG (by
# `SFLOG=$(sf_log)`), with helpers: L (every entry), api() (requests to
# /api/v2/statements...), posts() (statement submissions), stmts() (their
# statements in order), dcl() (the GRANT/REVOKE ones), hdr(e, NAME)
# (case-insensitive header or None), qry(e) (query parameters as a dict,
# from "query" and from a "?" in "path"), jwt(e) (the bearer JWT's
# [header, claims] decoded, or None), bearer(e).
sflog() {
	printf '%s' "$SFLOG" | "$PY" -c '
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
    q = {}
    p = e.get("path") or ""
    if "?" in p:
        q.update(urllib.parse.parse_qsl(p.split("?", 1)[1], keep_blank_values=True))
    v = e.get("query")
    if isinstance(v, dict):
        for k, x in v.items():
            q[k] = x[0] if isinstance(x, list) and len(x) == 1 else x
    elif isinstance(v, str) and v:
        q.update(urllib.parse.parse_qsl(v.lstrip("?"), keep_blank_values=True))
    return q
def hdr(e, name):
    h = e.get("headers") or {}
    items = h.items() if isinstance(h, dict) else h
    for k, v in items:
        if k.lower() == name.lower():
            return v
    return None
def api():
    return [e for e in L if path(e).startswith("/api/v2/statements")]
def posts():
    return [e for e in api() if e.get("method") == "POST" and path(e) == "/api/v2/statements"]
def stmt(e):
    s = e.get("statement")
    if s is None and isinstance(e.get("body"), dict):
        s = e["body"].get("statement")
    return s
def stmts():
    return [stmt(e) for e in posts()]
def dcl():
    return [s for s in stmts() if s and re.match(r"(GRANT|REVOKE)\b", s)]
def bearer(e):
    a = hdr(e, "Authorization") or ""
    return a[7:] if a.startswith("Bearer ") else None
def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def jwt(e):
    t = bearer(e)
    try:
        h, c, _ = t.split(".")
        return [json.loads(b64(h)), json.loads(b64(c))]
    except Exception:
        return None
def sel(lst, **kw):
    return [x for x in (lst or []) if all(x.get(k) == v for k, v in kw.items())]
def tsf(e):
    t = e.get("ts")
    if isinstance(t, (int, float)):
        return t / 1000.0 if t > 1e11 else float(t)
    import datetime
    return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
try:
    r = eval(sys.argv[1])
except Exception as e:
    print("EXPR-ERROR: %s: %s" % (type(e).__name__, e))
    sys.exit(0)
if isinstance(r, str):
    print(r)
else:
    print(json.dumps(r, sort_keys=True))
' "$1"
}

# ms: wall clock in milliseconds.
t_ms() { echo $(($(date +%s%N) / 1000000)); }
