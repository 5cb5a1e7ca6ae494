# Helpers for the notification test servers: the Slack emulator
# (tests/emulators/slack.py) and the SMTP server (tests/emulators/
# smtpd.py, on python3-aiosmtpd).  Sourced after tests/lib/e2e.sh (it
# uses T, TOP, PY, bail, t_bg).  POSIX sh.
#
# slack_start [SEED.json [EMULATOR-ARGS...]]: the emulator on an
# ephemeral loopback port with a fresh bot token.  Sets and exports
# SLACK_URL (http://127.0.0.1:PORT), SLACK_API_URL ($SLACK_URL/api),
# SLACK_WEBHOOK_URL ($SLACK_URL/services/T000/B000/XXXX), SLACK_BOT_TOKEN
# (xoxb-...); sets SLACK_DIR, SLACK_PID, SLACK_PORT.  Without a seed the
# workspace has channel C0123456789 ("access-requests"), no users.
#
# smtpd_start [SMTPD-ARGS...]: the SMTP server on an ephemeral loopback
# port, saving messages in $SMTPD_DIR/mail.  Sets and exports SMTP_URL
# (smtp://127.0.0.1:PORT, or smtps:// with --smtps); sets SMTPD_DIR,
# SMTPD_PID, SMTPD_PORT, SMTPD_MAILDIR.  smtpd_cert makes the
# self-signed certificate for --starttls/--smtps first.
#
# Both are stopped on exit with the other background processes.
NOTIFY_PY=${NOTIFY_PY:-/usr/bin/python3}
SLACK_PID=""
SMTPD_PID=""

# A random alphanumeric string of $1 bytes, hex-encoded.
notify_rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# notify_wait_port PID PORTFILE OUTFILE WHAT: wait for the port file.
notify_wait_port() {
	n_i=0
	while [ ! -s "$2" ]; do
		n_i=$((n_i + 1))
		if [ $n_i -gt 150 ] || ! kill -0 "$1" 2>/dev/null; then
			cat "$3" >&2
			bail "$4 did not start"
		fi
		sleep 0.1
	done
}

# notify_unbg PID: forget a background process (it was stopped).
notify_unbg() {
	n_bg=""
	for p in $T_BG; do
		[ "$p" = "$1" ] || n_bg="$n_bg $p"
	done
	T_BG=$n_bg
}

# --- Slack -------------------------------------------------------------------

slack_start() {
	SLACK_DIR=$T/slack
	mkdir -p "$SLACK_DIR" || bail "mkdir $SLACK_DIR"
	[ -f "$TOP/tests/emulators/slack.py" ] || bail "no emulator at tests/emulators/slack.py"
	[ -n "${SLACK_BOT_TOKEN:-}" ] || SLACK_BOT_TOKEN=xoxb-$(notify_rand 5)-$(notify_rand 6)-$(notify_rand 12)
	sl_seed=${1:-}
	[ $# -gt 0 ] && shift
	if [ -z "$sl_seed" ]; then
		sl_seed=$SLACK_DIR/empty-seed.json
		echo '{}' >"$sl_seed"
	fi
	rm -f "$SLACK_DIR/port"
	"$NOTIFY_PY" "$TOP/tests/emulators/slack.py" --port-file "$SLACK_DIR/port" \
	    --token "$SLACK_BOT_TOKEN" --parent-pid $$ --seed "$sl_seed" \
	    --log "$SLACK_DIR/log.jsonl" "$@" >"$SLACK_DIR/emulator.out" 2>&1 &
	SLACK_PID=$!
	t_bg "$SLACK_PID"
	notify_wait_port "$SLACK_PID" "$SLACK_DIR/port" "$SLACK_DIR/emulator.out" \
	    "the Slack emulator"
	SLACK_PORT=$(cat "$SLACK_DIR/port")
	SLACK_URL=http://127.0.0.1:$SLACK_PORT
	SLACK_API_URL=$SLACK_URL/api
	SLACK_WEBHOOK_URL=$SLACK_URL/services/T000/B000/XXXX
	export SLACK_URL SLACK_API_URL SLACK_WEBHOOK_URL SLACK_BOT_TOKEN
}

slack_stop() {
	[ -n "$SLACK_PID" ] || return 0
	kill "$SLACK_PID" 2>/dev/null
	wait "$SLACK_PID" 2>/dev/null
	notify_unbg "$SLACK_PID"
	SLACK_PID=""
}

# slack_http METHOD PATH [BODY]: one request to the emulator (control
# API or any path); prints the response body, fails on an HTTP error or
# no answer.
slack_http() {
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
    sys.stderr.write("slack_http: %s %s: HTTP %d: %s\n" % (m, url, e.code, e.read()[:300]))
    sys.exit(1)
except Exception as e:
    sys.stderr.write("slack_http: %s %s: %s\n" % (m, url, e))
    sys.exit(1)
' "$1" "$SLACK_URL$2" ${3+"$3"}
}

# slack_state: the workspace as JSON (bot, channels, users, webhooks,
# messages with their reactions and the arguments they were posted with).
slack_state() { slack_http GET /_emulator/state; }

# slack_put_state JSON|@FILE: replace the workspace (the seed format).
slack_put_state() {
	case $1 in
	@*) slack_http PUT /_emulator/state "$(cat "${1#@}")" >/dev/null ;;
	*) slack_http PUT /_emulator/state "$1" >/dev/null ;;
	esac || bail "slack_put_state"
}

# slack_messages [CHANNEL]: the messages (all channels, or one) as a JSON
# array of {channel, ts, text, user, reactions, args[, webhook]}.
slack_messages() {
	if [ $# -gt 0 ]; then
		slack_http GET "/_emulator/messages?channel=$1"
	else
		slack_http GET /_emulator/messages
	fi
}

# slack_react CHANNEL TS NAME USER: USER reacts to the message with the
# emoji NAME (no colons), as in the Slack client.  slack_unreact undoes it.
slack_react() {
	slack_http POST /_emulator/react "{\"channel\": \"$1\", \"ts\": \"$2\", \"name\": \"$3\", \"user\": \"$4\"}" \
	    >/dev/null || bail "slack_react $*"
}
slack_unreact() {
	slack_http POST /_emulator/react "{\"channel\": \"$1\", \"ts\": \"$2\", \"name\": \"$3\", \"user\": \"$4\", \"remove\": true}" \
	    >/dev/null || bail "slack_unreact $*"
}

# slack_log: the request log as one JSON array.
slack_log() { slack_http GET /_emulator/log; }
slack_log_clear() { slack_http DELETE /_emulator/log >/dev/null || bail "clear the Slack log"; }

# slack_fault JSON: add faults; JSON is {"faults": [...]} or one fault:
# {"path": REGEX, "method", "status", "error", "body", "retry_after",
# "times", "delay_ms"}.  {"error": "channel_not_found"} answers HTTP 200
# ok:false; {"status": 429} adds Retry-After: 1 unless retry_after says.
slack_fault() {
	case $1 in
	*'"faults"'*) slack_http POST /_emulator/faults "$1" >/dev/null ;;
	*) slack_http POST /_emulator/faults "{\"faults\": [$1]}" >/dev/null ;;
	esac || bail "slack_fault $1"
}
slack_faults_clear() { slack_http DELETE /_emulator/faults >/dev/null || bail "clear Slack faults"; }

# slack_config JSON: {"scopes": [...], "users_without_full": N} at run time.
slack_config() { slack_http PUT /_emulator/config "$1" >/dev/null || bail "slack_config $1"; }

# slacklog EXPR [ARGS...]: EXPR over the log fetched into $SLACKLOG
# (`SLACKLOG=$(slack_log)`), with L (every entry), path(e), qry(e),
# hdr(e, NAME) (case-insensitive), bearer(e), args(e) (the arguments the
# method saw: query plus form or JSON body), calls(METHOD) (entries of
# one Web API method, e.g. "chat.postMessage"), posts() (chat.postMessage
# calls), oks(lst) (those answered ok), texts() (texts of the messages
# posted ok), hooks() (incoming webhook requests), hook_texts(),
# secret_in(s) (entries whose path, query or body contain s), sel(lst,
# **kw).  Further arguments are sys.argv[2:].
slacklog() {
	printf '%s' "$SLACKLOG" | "$PY" -c '
import json, sys
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
def args(e):
    a = qry(e)
    if isinstance(e.get("body"), dict):
        a.update(e["body"])
    return a
def calls(m):
    return [e for e in L if e.get("api_method") == m]
def posts():
    return calls("chat.postMessage")
def oks(lst):
    return [e for e in lst if e.get("ok") is True]
def texts():
    return [args(e).get("text") for e in oks(posts())]
def hooks():
    return [e for e in L if path(e).startswith("/services/")]
def hook_texts():
    return [(e.get("body") or {}).get("text") if isinstance(e.get("body"), dict) else None
            for e in hooks() if e.get("status") == 200]
def secret_in(s):
    return [e for e in L if s in (e.get("path") or "") + json.dumps(e.get("query")) +
            (e.get("raw") or "")]
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

# --- SMTP --------------------------------------------------------------------

# smtpd_cert: a self-signed certificate for 127.0.0.1 and localhost in
# $T/smtpd (cert.pem, key.pem; made once).  Sets SMTPD_CERT, SMTPD_KEY
# (pass SMTPD_CERT as the client's ca_file).
smtpd_cert() {
	SMTPD_DIR=$T/smtpd
	mkdir -p "$SMTPD_DIR" || bail "mkdir $SMTPD_DIR"
	SMTPD_CERT=$SMTPD_DIR/cert.pem
	SMTPD_KEY=$SMTPD_DIR/key.pem
	[ -f "$SMTPD_CERT" ] && return 0
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -keyout "$SMTPD_KEY" -out "$SMTPD_CERT" -subj /CN=127.0.0.1 \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost") \
	    >"$SMTPD_DIR/openssl.err" 2>&1 ||
	    { cat "$SMTPD_DIR/openssl.err" >&2; bail "self-signed certificate"; }
}

smtpd_start() {
	SMTPD_DIR=$T/smtpd
	SMTPD_MAILDIR=$SMTPD_DIR/mail
	mkdir -p "$SMTPD_MAILDIR" || bail "mkdir $SMTPD_MAILDIR"
	[ -f "$TOP/tests/emulators/smtpd.py" ] || bail "no server at tests/emulators/smtpd.py"
	rm -f "$SMTPD_DIR/port"
	"$NOTIFY_PY" "$TOP/tests/emulators/smtpd.py" --port-file "$SMTPD_DIR/port" \
	    --maildir "$SMTPD_MAILDIR" --log "$SMTPD_DIR/log.jsonl" --parent-pid $$ "$@" \
	    >"$SMTPD_DIR/server.out" 2>&1 &
	SMTPD_PID=$!
	t_bg "$SMTPD_PID"
	notify_wait_port "$SMTPD_PID" "$SMTPD_DIR/port" "$SMTPD_DIR/server.out" \
	    "the SMTP server"
	SMTPD_PORT=$(cat "$SMTPD_DIR/port")
	SMTP_URL=smtp://127.0.0.1:$SMTPD_PORT
	for sm_a in "$@"; do
		[ "$sm_a" = "--smtps" ] && SMTP_URL=smtps://127.0.0.1:$SMTPD_PORT
	done
	export SMTP_URL
}

smtpd_stop() {
	[ -n "$SMTPD_PID" ] || return 0
	kill "$SMTPD_PID" 2>/dev/null
	wait "$SMTPD_PID" 2>/dev/null
	notify_unbg "$SMTPD_PID"
	SMTPD_PID=""
}

# smtpd_mails: every message received so far, in order, as one JSON array
# (the fields are described in tests/emulators/smtpd.py).
smtpd_mails() {
	"$PY" -c '
import json, os, re, sys
d = sys.argv[1]
names = sorted(f for f in os.listdir(d) if re.match(r"\d{4,}\.json\Z", f)) \
    if os.path.isdir(d) else []
out = []
for f in names:
    with open(os.path.join(d, f), encoding="utf-8") as fh:
        out.append(json.load(fh))
print(json.dumps(out))
' "${SMTPD_MAILDIR:-$T/smtpd/mail}"
}

# smtpd_clear: forget the messages received so far.
smtpd_clear() { rm -f "${SMTPD_MAILDIR:-$T/smtpd/mail}"/*.json; }

# smtpd_log: the session events (ehlo, starttls, auth, mail, rcpt, data)
# as one JSON array.
smtpd_log() {
	"$PY" -c '
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        print(json.dumps([json.loads(l) for l in f if l.strip()]))
except FileNotFoundError:
    print("[]")
' "$SMTPD_DIR/log.jsonl"
}

# mails EXPR [ARGS...]: EXPR over $MAILS (`MAILS=$(smtpd_mails)`), with
# M (every message), to(m) (envelope recipients), subj(m) (the decoded
# Subject), hdr(m, NAME) (raw header value), dec(m, NAME) (decoded),
# body(m) (the text, CRLF turned into LF), raw(m) (the whole DATA),
# for_rcpt(ADDR) (messages with that envelope recipient), sel(lst, **kw),
# secret_in(s) (messages whose DATA contains s).
mails() {
	printf '%s' "$MAILS" | "$PY" -c '
import json, sys
raw_in = sys.stdin.read()
try:
    M = json.loads(raw_in)
except Exception as e:
    print("BAD-JSON: %s: %r" % (e, raw_in[:300]))
    sys.exit(0)
def to(m):
    return m.get("rcpt_tos") or []
def hdr(m, name):
    return (m.get("headers") or {}).get(name.lower())
def dec(m, name):
    return (m.get("decoded") or {}).get(name.lower())
def subj(m):
    return dec(m, "subject")
def body(m):
    t = m.get("text")
    return (t if t is not None else m.get("body") or "").replace("\r\n", "\n")
def raw(m):
    return m.get("data") or ""
def for_rcpt(a):
    return [m for m in M if a in to(m)]
def secret_in(s):
    return [m for m in M if s in raw(m)]
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
