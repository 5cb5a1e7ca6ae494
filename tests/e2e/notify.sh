#!/bin/sh
# Notifications (DESIGN §7, §12) against the Slack emulator and a real
# SMTP server on 127.0.0.1, with real git histories and PostgreSQL:
# a pending request version is posted to Slack once (an edited request is
# a new version, a new message; plan and validate never notify); a grant
# mails the requester (recipient, subject naming the target, body with
# the expiry as RFC 3339); the expiring notice goes out exactly once, at
# the first run inside the last three days; the revoke mails again; a
# failed delivery (Slack ok:false, 429 beyond the 10 s budget, SMTP 451)
# is reported on stderr, leaves the exit code alone and is delivered
# exactly once by the next run; notify.events routes events; config
# errors point at file:line:column; no secret reaches the output, the
# state database, Slack texts or mail.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
. "$TOP/tests/lib/notify.sh"
t_init
t_pg
slack_start
SMTP_USER=accord-mailer
SMTP_PASSWORD=pw-$(notify_rand 12)
export SMTP_USER SMTP_PASSWORD
smtpd_start --auth "$SMTP_USER:$SMTP_PASSWORD" --require-auth

PR_URL='https://forge.example.com/acme/access/pull/{number}'

# notify_config [EVENTS-YAML]: the default settings plus a notify block.
notify_config() {
	ar_default_config
	cat <<EOF
notify:
  slack:
    token_env: SLACK_BOT_TOKEN
    channel: C0123456789
    api_url: $SLACK_API_URL
  email:
    smtp_url: $SMTP_URL
    from: accord@example.com
    username_env: SMTP_USER
    password_env: SMTP_PASSWORD
  pull_request_url: $PR_URL
EOF
	[ $# -gt 0 ] && printf '%s\n' "$1"
}

# Everything accord printed, to look for secrets at the end.
ALL=$T/all-output
: >"$ALL"
nrun() {
	exit_is "$@"
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}

posts_ok() { SLACKLOG=$(slack_log); slacklog 'len(oks(posts()))'; }
posts_all() { SLACKLOG=$(slack_log); slacklog 'len(posts())'; }
mail_count() { MAILS=$(smtpd_mails); mails 'len(M)'; }
mail_count_for() { MAILS=$(smtpd_mails); mails 'len(for_rcpt(sys.argv[2]))' "$1"; }

# request FILE REQUESTER REASON TARGET: a request's YAML.
request() {
	cat <<EOF
requester: $1
reason: $2
duration: 30d
grants:
  - platform: warehouse
    target: $3
    privilege: SELECT
EOF
}

# on_branch BRANCH FILE CONTENT NAME EMAIL DATE: commit a request on a
# branch (made from main when new) and go back to main; nothing merged.
on_branch() {
	if git -C "$AR" rev-parse -q --verify "refs/heads/$1" >/dev/null; then
		git -C "$AR" checkout -q "$1" || bail "checkout $1"
	else
		ar_branch "$1"
	fi
	ar_write "$2" "$3"
	ar_commit "$4" "$5" "$6" "Request $2"
	git -C "$AR" checkout -q main || bail "checkout main"
}

ar_init "$(notify_config)"
Q4=requests/alice/q4.yaml
C1=requests/carol/c1.yaml

# --- pending: one Slack message per version ----------------------------------
N1=2026-03-01T12:00:00Z
on_branch q4 $Q4 "$(request alice@example.com 'Q4 revenue analysis' table:sales.orders)" \
    alice alice@example.com 2026-03-01T10:00:00Z
git -C "$AR" update-ref refs/pull/7/head refs/heads/q4 || bail "pull ref"
on_branch c1 $C1 "$(request carol@example.com 'customer churn study' table:sales.customers)" \
    carol carol@example.com 2026-03-01T10:30:00Z

nrun 0 "plan exits 0" acc --now $N1 plan
nrun 0 "validate exits 0" acc --now $N1 validate
is "$(posts_all)" 0 "plan and validate post nothing to Slack"

nrun 0 "apply with two pending requests exits 0" acc --now $N1 apply
is "$(posts_ok)" 2 "one Slack message per pending version"
SLACKLOG=$(slack_log)
is "$(slacklog 'sorted(set(args(e).get("channel") for e in posts()))')" '["C0123456789"]' \
    "posted in notify.slack.channel"
is "$(slacklog 'len([e for e in posts() if bearer(e) == sys.argv[2]])' "$SLACK_BOT_TOKEN")" 2 \
    "chat.postMessage authenticated with the bot token from token_env"
Q4TXT=$(slacklog '[t for t in texts() if "q4.yaml" in t][0]')
like "$Q4TXT" "requests/alice/q4\.yaml" "pending text: the request path"
like "$Q4TXT" "Requester: alice@example\.com" "pending text: who"
like "$Q4TXT" "Reason: Q4 revenue analysis" "pending text: why"
like "$Q4TXT" "SELECT on table:sales\.orders \(warehouse\)" "pending text: what (privilege, target, platform)"
like "$Q4TXT" "for 30d \(until 2026-03-31T12:00:00Z if approved now\)" "pending text: until when, RFC 3339"
like "$Q4TXT" "Approvals needed: 1 from bob@example\.com, carol@example\.com" \
    "pending text: approvals needed and who may approve"
like "$Q4TXT" ":white_check_mark:" "pending text: the approve emoji"
like "$Q4TXT" "Pull request: https://forge\.example\.com/acme/access/pull/7$" \
    "pending text: the pull request link from refs/pull/7/head"
C1TXT=$(slacklog '[t for t in texts() if "c1.yaml" in t][0]')
like "$C1TXT" "Requester: carol@example\.com" "second message names its requester"
unlike "$C1TXT" "Pull request" "no link when the pull request number is unknown"
like "$C1TXT" "Branch: c1" "the branch instead"
is "$(sqlite3 "$STATE" "SELECT count(*) FROM slack_posted")" 2 "state: both posts remembered"
is "$(sqlite3 "$STATE" "SELECT path || ' ' || channel FROM slack_posted WHERE path = '$Q4'")" \
    "$Q4 C0123456789" "state: the post's path and channel"
SLTS=$(slack_messages C0123456789 | jv '[m["ts"] for m in d if "q4.yaml" in m["text"]][0]')
is "$(sqlite3 "$STATE" "SELECT ts FROM slack_posted WHERE path = '$Q4'")" "$SLTS" \
    "state: the post's ts is the one Slack gave"

nrun 0 "apply again exits 0" acc --now 2026-03-01T13:00:00Z apply
is "$(posts_all)" 2 "the next run posts nothing again"

# An edited request is a new version: one new message.
on_branch q4 $Q4 "$(request alice@example.com 'Q4 revenue and margin analysis' table:sales.orders)" \
    alice alice@example.com 2026-03-01T14:00:00Z
git -C "$AR" update-ref refs/pull/7/head refs/heads/q4 || bail "pull ref"
nrun 0 "apply after the edit exits 0" acc --now 2026-03-01T15:00:00Z apply
is "$(posts_ok)" 3 "the new version gets one new message"
SLACKLOG=$(slack_log)
like "$(slacklog 'texts()[-1]')" "Reason: Q4 revenue and margin analysis" "the new message has the new reason"
is "$(sqlite3 "$STATE" "SELECT count(*) FROM slack_posted WHERE path = '$Q4'")" 2 \
    "state: one post per version"
is "$(mail_count)" 0 "pending goes to Slack only by default: no mail"

# --- granted: mail to the requester -------------------------------------------
MERGED=2026-03-02T10:00:00Z
ar_merge q4 Bob bob@example.com $MERGED
EXPIRES=$(t_add $MERGED $((30 * 86400)))
N2=2026-03-02T11:00:00Z
nrun 0 "apply grants the merged request" acc --now $N2 apply
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice has SELECT on sales.orders"
MAILS=$(smtpd_mails)
is "$(mails 'len(M)')" 1 "one mail"
is "$(mails 'to(M[0])')" '["alice@example.com"]' "granted: to the requester"
is "$(mails 'dec(M[0], "from")')" "accord@example.com" "From: notify.email.from"
like "$(mails 'subj(M[0])')" "^Access granted: SELECT on table:sales\.orders \(warehouse\)$" \
    "granted: the subject names the target"
BODY=$(mails 'body(M[0])')
like "$BODY" "Expires: $EXPIRES" "granted: the body gives the expiry as RFC 3339"
like "$BODY" "Approved by: bob@example\.com" "granted: who approved"
like "$BODY" "Reason: Q4 revenue and margin analysis" "granted: why"
like "$BODY" "Request: requests/alice/q4\.yaml" "granted: the request"
is "$(mails 'M[0]["auth_user"]')" "$SMTP_USER" "SMTP AUTH with the user from username_env"
is "$(mails 'len(secret_in(sys.argv[2]))' "$SMTP_PASSWORD")" 0 "no password in the mail"
is "$(posts_all)" 3 "granted goes by email only by default: no new Slack post"

nrun 0 "apply again" acc --now 2026-03-02T12:00:00Z apply
is "$(mail_count)" 1 "the grant is announced once"

# --- expiring: once, at the first run inside the last three days ------------
BEFORE=$(t_add $EXPIRES $((-3 * 86400 - 3600)))
INSIDE=$(t_add $EXPIRES $((-3 * 86400 + 3600)))
LATER=$(t_add $EXPIRES $((-86400)))
nrun 0 "apply 3 days and an hour before expiry" acc --now $BEFORE apply
is "$(mail_count)" 1 "no expiring notice before the window"
nrun 0 "apply inside the window" acc --now $INSIDE apply
MAILS=$(smtpd_mails)
is "$(mails 'len(M)')" 2 "one expiring notice"
is "$(mails 'to(M[1])')" '["alice@example.com"]' "expiring: to the requester"
like "$(mails 'subj(M[1])')" "^Access expiring: SELECT on table:sales\.orders \(warehouse\)$" \
    "expiring: the subject names the target"
like "$(mails 'body(M[1])')" "Expires: $EXPIRES \(in 2d 23h\)" "expiring: the expiry, RFC 3339"
nrun 0 "apply a day before expiry" acc --now $LATER apply
is "$(mail_count)" 2 "the expiring notice is not repeated"

# --- revoked ---------------------------------------------------------------
AFTER=$(t_add $EXPIRES 3600)
nrun 0 "apply after expiry revokes" acc --now $AFTER apply
is "$(pg_select alice sales.orders)" f "PostgreSQL: revoked"
MAILS=$(smtpd_mails)
is "$(mails 'len(M)')" 3 "one revoke notice"
is "$(mails 'to(M[2])')" '["alice@example.com"]' "revoked: to the requester"
like "$(mails 'subj(M[2])')" "^Access revoked: SELECT on table:sales\.orders \(warehouse\)$" \
    "revoked: the subject names the target"
like "$(mails 'body(M[2])')" "Why: the grant expired" "revoked: why"
like "$(mails 'body(M[2])')" "Expiry was: $EXPIRES" "revoked: the expiry, RFC 3339"
nrun 0 "apply again" acc --now $(t_add $AFTER 3600) apply
is "$(mail_count)" 3 "the revoke is announced once"

# --- failed deliveries ----------------------------------------------------------
# Slack answers ok:false: reported, exit code unchanged, posted next run.
N3=$(t_add $AFTER 7200)
on_branch d1 requests/dave/d1.yaml "$(request dave@example.com 'audit sample' table:sales.orders)" \
    dave dave@example.com $N3
slack_fault '{"path": "chat\\.postMessage", "error": "channel_not_found", "times": 1}'
nrun 0 "a Slack ok:false leaves the exit code at 0" acc --now $N3 apply
like "$ERR" "pending slack to C0123456789 not delivered, retried next run: .*channel_not_found" \
    "the failure is reported on stderr"
is "$(posts_ok)" 3 "nothing was posted"
is "$(sqlite3 "$STATE" "SELECT attempts || ' ' || (sent_at = 0) FROM outbox WHERE key LIKE 'pending slack requests/dave/%'")" \
    "1 1" "state: one failed attempt, still owed"
nrun 0 "the next run" acc --now $(t_add $N3 60) apply
unlike "$ERR" "not delivered" "no failure reported"
is "$(posts_ok)" 4 "delivered at the next run"
nrun 0 "and the run after" acc --now $(t_add $N3 120) apply
is "$(posts_ok)" 4 "exactly once"

# 429 with a Retry-After beyond the 10 s budget: not waited for.
on_branch e1 requests/erin/e1.yaml "$(request erin@example.com 'forecast' table:sales.orders)" \
    erin erin@example.com $(t_add $N3 180)
slack_fault '{"path": "chat\\.postMessage", "status": 429, "retry_after": 30, "times": 1}'
S=$(t_ms)
nrun 0 "a 429 beyond the budget leaves the exit code at 0" acc --now $(t_add $N3 240) apply
E=$(( $(t_ms) - S ))
is "$([ $E -lt 10000 ] && echo fast || echo "slow: ${E}ms")" fast "a Retry-After of 30 s is not waited for"
like "$ERR" "pending slack to C0123456789 not delivered, retried next run" "reported on stderr"
is "$(posts_ok)" 4 "nothing was posted"
nrun 0 "the next run" acc --now $(t_add $N3 300) apply
is "$(posts_ok)" 5 "delivered at the next run"
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() if "erin/e1.yaml" in t])')" 1 "exactly once"

# A short 429 is waited for inside the run.
on_branch f1 requests/frank/f1.yaml "$(request frank@example.com 'pricing' table:sales.orders)" \
    frank frank@example.com $(t_add $N3 360)
slack_fault '{"path": "chat\\.postMessage", "status": 429, "retry_after": 1, "times": 1}'
nrun 0 "a 429 with Retry-After: 1" acc --now $(t_add $N3 420) apply
unlike "$ERR" "not delivered" "retried within the run"
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() if "frank/f1.yaml" in t])')" 1 "posted once in the same run"

# SMTP 451: a new server that fails the first message.
smtpd_stop
smtpd_start --auth "$SMTP_USER:$SMTP_PASSWORD" --require-auth --fail-first 1
ar_push accord.yaml "$(notify_config)" $(t_add $N3 480)
N4=$(t_add $N3 600)
ar_merge c1 Bob bob@example.com $N4
nrun 0 "an SMTP 451 leaves the exit code at 0" acc --now $(t_add $N4 60) apply
is "$(pg_select carol sales.customers)" t "PostgreSQL: carol was granted"
like "$ERR" "granted email to carol@example\.com not delivered, retried next run: .*451" \
    "the 451 is reported on stderr"
MAILS=$(smtpd_mails)
is "$(mails 'len(for_rcpt("carol@example.com"))')" 0 "no mail kept by the server"
nrun 0 "the next run" acc --now $(t_add $N4 120) apply
unlike "$ERR" "not delivered" "no failure reported"
MAILS=$(smtpd_mails)
is "$(mails 'len(for_rcpt("carol@example.com"))')" 1 "delivered at the next run"
like "$(mails 'subj(for_rcpt("carol@example.com")[0])')" "table:sales\.customers" "the subject names carol's target"
nrun 0 "and the run after" acc --now $(t_add $N4 180) apply
MAILS=$(smtpd_mails)
is "$(mails 'len(for_rcpt("carol@example.com"))')" 1 "exactly once"

# --- extending a request re-arms the expiring notice --------------------------
CEXP=$(t_add $N4 $((30 * 86400)))
nrun 0 "apply inside carol's last three days" acc --now $(t_add $CEXP $((-3 * 86400 + 3600))) apply
MAILS=$(smtpd_mails)
is "$(mails '[subj(m) for m in for_rcpt("carol@example.com")][1:]')" \
    '["Access expiring: SELECT on table:sales.customers (warehouse)"]' "carol is warned once"
EXT=$(t_add $CEXP $((-2 * 86400)))
on_branch c1 $C1 "$(request carol@example.com 'customer churn study' table:sales.customers | sed 's/30d/60d/')" \
    carol carol@example.com $EXT
ar_merge c1 Bob bob@example.com $EXT
NEWEXP=$(t_add $EXT $((60 * 86400)))
nrun 0 "apply the extension" acc --now $(t_add $EXT 60) apply
MAILS=$(smtpd_mails)
is "$(mails 'subj(for_rcpt("carol@example.com")[-1])')" \
    "Access updated: SELECT on table:sales.customers (warehouse)" "the extension is announced as an update"
like "$(mails 'body(for_rcpt("carol@example.com")[-1])')" "Expires: $NEWEXP" "with the new expiry"
nrun 0 "apply before the new window" acc --now $(t_add $NEWEXP $((-4 * 86400))) apply
is "$(mail_count_for carol@example.com)" 3 "no new warning yet (granted, expiring, updated)"
nrun 0 "apply inside the new window" acc --now $(t_add $NEWEXP $((-3 * 86400 + 60))) apply
MAILS=$(smtpd_mails)
is "$(mails 'len(for_rcpt("carol@example.com"))')" 4 "warned again for the new expiry"
like "$(mails 'body(for_rcpt("carol@example.com")[-1])')" "Expires: $NEWEXP" "naming the new expiry"

# --- routing: notify.events ---------------------------------------------------
N5=$(t_add $NEWEXP $((-3 * 86400 + 3600)))
ar_push accord.yaml "$(notify_config '  events:
    pending: none
    granted: [slack, email]
    revoked: none')" $N5
ar_merge d1 Carol carol@example.com $(t_add $N5 120)
on_branch h1 requests/heidi/h1.yaml "$(request heidi@example.com 'sampling' table:sales.orders)" \
    heidi heidi@example.com $(t_add $N5 180)
P0=$(posts_ok)
nrun 0 "apply with granted: [slack, email]" acc --now $(t_add $N5 240) apply
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() if "heidi" in t])')" 0 "pending: none posts nothing"
is "$(slacklog 'len(texts())')" $((P0 + 1)) "one new Slack message"
like "$(slacklog 'texts()[-1]')" "^Access granted for dave@example\.com: SELECT on table:sales\.orders \(warehouse\)" \
    "granted: the Slack message"
MAILS=$(smtpd_mails)
is "$(mails 'len(for_rcpt("dave@example.com"))')" 1 "granted: and the mail"
is "$(pg_select dave sales.orders)" t "PostgreSQL: dave was granted"

# --- approvers by email ------------------------------------------------------
ar_push accord.yaml "$(notify_config '  events:
    pending: [slack, email]')" $(t_add $N5 300)
on_branch i1 requests/ivan/i1.yaml "$(request ivan@example.com 'inventory' table:sales.orders)" \
    ivan ivan@example.com $(t_add $N5 360)
nrun 0 "apply with pending: [slack, email]" acc --now $(t_add $N5 420) apply
MAILS=$(smtpd_mails)
is "$(mails 'sorted(to(M[-1]))')" '["bob@example.com", "carol@example.com"]' \
    "pending email: to the approvers"
like "$(mails 'subj(M[-1])')" "requests/ivan/i1\.yaml" "pending email: the subject names the request"
unlike "$(mails 'body(M[-1])')" "white_check_mark" "pending email: no emoji (reactions are a Slack thing)"
# Every version still pending is mailed now (pending: none queued
# nothing for heidi's); ivan's path sorts last.
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() if "ivan/i1.yaml" in t])')" 1 "and the Slack message"

# --- webhook ---------------------------------------------------------------
ar_push accord.yaml "$(ar_default_config)
notify:
  slack:
    webhook_env: SLACK_WEBHOOK_URL
  events:
    pending: slack" $(t_add $N5 480)
on_branch j1 requests/judy/j1.yaml "$(request judy@example.com 'journal' table:sales.orders)" \
    judy judy@example.com $(t_add $N5 540)
nrun 0 "apply with an incoming webhook" acc --now $(t_add $N5 600) apply
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in hook_texts() if t and "judy/j1.yaml" in t])')" 1 \
    "pending posted through the webhook"
unlike "$(slacklog '[t for t in hook_texts() if t and "judy" in t]')" "white_check_mark" \
    "no approve emoji without chat.postMessage"

# A failing webhook: reported, the exit code unchanged, the error kept in
# the outbox -- but never the webhook URL, which embeds a secret.
HOOK_SECRET=${SLACK_WEBHOOK_URL#*/services/}
on_branch k1 requests/kate/k1.yaml "$(request kate@example.com 'key accounts' table:sales.orders)" \
    kate kate@example.com $(t_add $N5 630)
slack_fault '{"path": "^/services/", "status": 404, "times": 1}'
nrun 0 "a webhook answering 404 leaves the exit code at 0" acc --now $(t_add $N5 660) apply
like "$ERR" "pending slack to webhook not delivered, retried next run: .*404.*no_service" \
    "the webhook failure is reported on stderr"
SLACKLOG=$(slack_log)
is "$(slacklog 'len([e for e in hooks() if e.get("status") == 404])')" 1 "the webhook was tried and answered 404"
is "$(slacklog 'len([t for t in hook_texts() if t and "kate/k1.yaml" in t])')" 0 "nothing was posted"
is "$(sqlite3 "$STATE" "SELECT attempts || ' ' || (sent_at = 0) || ' ' || (last_error LIKE '%404%') FROM outbox WHERE key LIKE 'pending slack requests/kate/%'")" \
    "1 1 1" "state: one failed attempt, still owed, last_error kept"
sqlite3 "$STATE" .dump >"$T/hookfail.sql" || bail "dump the state database"
is "$(grep -c -F -e "$SLACK_WEBHOOK_URL" -e "$HOOK_SECRET" "$T/hookfail.sql")" 0 \
    "the webhook URL and its secret path are not in the state database (dump)"
# The raw files too: free pages and the write-ahead log keep old bytes.
for f in "$STATE" "$STATE-wal"; do
	[ -f "$f" ] || continue
	is "$(grep -c -a -F -e "$SLACK_WEBHOOK_URL" -e "$HOOK_SECRET" "$f")" 0 \
	    "the webhook URL and its secret path are not in ${f##*/}"
done
is "$(printf '%s\n%s\n' "$OUT" "$ERR" | grep -c -F -e "$SLACK_WEBHOOK_URL" -e "$HOOK_SECRET")" 0 \
    "nor in accord's output"
nrun 0 "the next run" acc --now $(t_add $N5 720) apply
unlike "$ERR" "not delivered" "no failure reported"
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in hook_texts() if t and "kate/k1.yaml" in t])')" 1 \
    "the webhook message is delivered at the next run"
is "$(sqlite3 "$STATE" "SELECT attempts || ' ' || (sent_at > 0) FROM outbox WHERE key LIKE 'pending slack requests/kate/%'")" \
    "2 1" "state: sent on the second attempt"

# --- config errors -------------------------------------------------------------
BAD=$T/bad
mkdir -p "$BAD"
bad_config() {
	rm -rf "$BAD/repo"
	git init -q -b main "$BAD/repo" || bail "git init"
	printf '%s\n' "$1" >"$BAD/repo/accord.yaml"
	git -C "$BAD/repo" add -A
	GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.com GIT_AUTHOR_DATE=$T0 \
	GIT_COMMITTER_NAME=A GIT_COMMITTER_EMAIL=a@example.com GIT_COMMITTER_DATE=$T0 \
	    git -C "$BAD/repo" commit -q -m config || bail "commit"
	run "$ACCORD" -C "$BAD/repo" --state "$BAD/state.db" --now $N1 validate
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}
bad_config 'version: 1
notify:
  slack:
    token_env: SLACK_BOT_TOKEN
    channel: C0123456789
  events:
    granted: sms'
is "$RC" 1 "bad destination: validate exits 1"
like "$ERR" "accord\.yaml:7:14: notify\.events\.granted: unknown destination 'sms'" \
    "bad destination: file:line:column"
bad_config 'version: 1
notify:
  slack:
    token_env: SLACK_BOT_TOKEN
    channel: C0123456789
  events:
    revoked: [slack, email]'
like "$ERR" "accord\.yaml:7:22: notify\.events\.revoked goes to email, but notify\.email is not configured" \
    "routing to an unconfigured transport: file:line:column"
bad_config 'version: 1
notify:
  slack:
    token_env: xoxb-1234-abcd-secret
    channel: C0123456789'
like "$ERR" "accord\.yaml:4:16: notify\.slack\.token_env must name an environment variable" \
    "a token written in place of its variable: file:line:column"
unlike "$ERR" "xoxb-1234-abcd-secret" "and the value is not echoed"
bad_config 'version: 1
notify:
  email:
    smtp_url: smtp://127.0.0.1:25
    from: accord@example.com
    pasword_env: SMTP_PASSWORD'
like "$ERR" "accord\.yaml:6:5: .*unknown key 'pasword_env'" "a misspelt key: file:line:column"
bad_config 'version: 1
notify:
  slack:
    token_env: SLACK_BOT_TOKEN'
like "$ERR" "accord\.yaml:4:5: notify\.slack\.channel is required with token_env" \
    "chat.postMessage without a channel"
bad_config 'version: 1
notify:
  email: {smtp_url: "http://127.0.0.1:25", from: accord@example.com}'
like "$ERR" "accord\.yaml:3:21: notify\.email\.smtp_url must be smtp://" "an smtp_url that is not smtp"
bad_config 'version: 1
notify:
  slack: {webhook_env: HOOK}
  pull_request_url: "https://forge.example.com/pull/{id}"'
like "$ERR" "accord\.yaml:4:21: notify\.pull_request_url: unknown placeholder" "an unknown placeholder"

# --- no secret anywhere -----------------------------------------------------------
is "$(grep -c -F -e "$SLACK_BOT_TOKEN" -e "$SMTP_PASSWORD" -e "$SLACK_WEBHOOK_URL" "$ALL")" 0 \
    "no token, password or webhook URL in accord's output"
sqlite3 "$STATE" .dump >"$T/dump.sql" || bail "dump the state database"
is "$(grep -c -F -e "$SLACK_BOT_TOKEN" -e "$SMTP_PASSWORD" -e "$SLACK_WEBHOOK_URL" "$T/dump.sql")" 0 \
    "no token, password or webhook URL in the state database"
is "$(grep -c -F 'INSERT INTO outbox VALUES' "$T/dump.sql" | awk '{print ($1 > 10)}')" 1 \
    "(the dump does hold the outbox)"
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() + hook_texts() if t and (sys.argv[2] in t or sys.argv[3] in t)])' \
    "$SLACK_BOT_TOKEN" "$SLACK_WEBHOOK_URL")" 0 "no secret in a Slack text"
MAILS=$(smtpd_mails)
is "$(mails 'len(secret_in(sys.argv[2])) + len(secret_in(sys.argv[3]))' "$SMTP_PASSWORD" "$SLACK_BOT_TOKEN")" 0 \
    "no secret in any mail"

done_testing
