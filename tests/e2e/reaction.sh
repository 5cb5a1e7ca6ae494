#!/bin/sh
# Approval by reaction (DESIGN §12): accord posts each pending request in
# Slack; reactions with the approve emoji by people the policy accepts
# make a later `accord apply` merge the request branch into main with
# libgit2 (author = first approver, one Approved-by trailer each), push
# it to the bare remote and, in the same run, grant the access with the
# reactors recorded as approvers.  The requester's own reaction, a
# reaction by someone the policy does not accept, a wrong emoji and too
# few reactions approve nothing; Slack errors (ok:false, 429) and a
# refused push merge nothing, do not fail the run, and are retried.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
. "$TOP/tests/lib/notify.sh"
t_pg

CH=C0123456789
cat >"$T/seed.json" <<'EOF'
{"users": [
  {"id": "U0ALICE", "name": "alice", "real_name": "Alice Analyst", "email": "alice@example.com"},
  {"id": "U0BOB", "name": "bob", "real_name": "Bob Owner", "email": "bob@example.com"},
  {"id": "U0CAROL", "name": "carol", "real_name": "Carol Owner", "email": "Carol@Example.com"},
  {"id": "U0ERIN", "name": "erin", "real_name": "Erin Owner", "email": "erin@example.com"},
  {"id": "U0DAVE", "name": "dave", "real_name": "Dave Security", "email": "dave@example.com"},
  {"id": "U0NOMAIL", "name": "ghost", "real_name": "No Mail"}
]}
EOF
slack_start "$T/seed.json"

CONFIG="version: 1
branch: main
groups:
  data-owners: [bob@example.com, carol@example.com, erin@example.com]
  security: [dave@example.com]
platforms:
  warehouse:
    type: postgres
    dsn_env: WAREHOUSE_DSN
    managed: [\"role:analyst_*\", \"table:sales.*\"]
    protected_accounts: [postgres, etl_service$AR_EXTRA_PROTECTED]
    drift: enforce
    accounts:
      match: email-local
notify:
  slack:
    token_env: SLACK_BOT_TOKEN
    channel: $CH
    api_url: $SLACK_API_URL
    approve_emoji: white_check_mark
  email:
    smtp_url: smtp://127.0.0.1:9
    from: accord@example.com
  events:
    pending: slack
    granted: none
    expiring: none
    revoked: none"
POLICY='rules:
  - platform: warehouse
    targets: ["table:sales.*", "role:analyst_*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 2
    default_duration: 30d'
ar_init "$CONFIG" "$POLICY"

# origin: a bare repository; main is pushed there.
git clone -q --bare "$AR" "$T/remote.git" || bail "bare remote"
git -C "$AR" remote add origin "$T/remote.git" || bail "remote add"
remote_main() { git -C "$T/remote.git" rev-parse main; }

# Two requests on branches, not merged.
Q4=requests/alice/q4.yaml
ar_branch q4
ar_write $Q4 'requester: alice@example.com
reason: Q4 revenue analysis
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT
  - platform: warehouse
    target: role:analyst_sales'
ar_commit alice alice@example.com 2026-03-01T08:00:00Z "Request $Q4"
Q4_COMMIT=$(git -C "$AR" rev-parse q4)
BOBREQ=requests/bob/customers.yaml
ar_branch bob-req
ar_write $BOBREQ 'requester: bob@example.com
reason: customer list clean-up
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT'
ar_commit bob bob@example.com 2026-03-01T08:30:00Z "Request $BOBREQ"
BOB_COMMIT=$(git -C "$AR" rev-parse bob-req)
git -C "$AR" checkout -q main
MAIN0=$(ar_head)

# --- run 1: the pending requests are posted, nothing is merged ---------------
N1=2026-03-01T09:00:00Z
exit_is 0 "run 1: apply exits 0" acc --now $N1 apply
MSGS=$(slack_messages $CH)
ts_of() {
	printf '%s' "$MSGS" | jv "[m['ts'] for m in d if '$1' in m['text']][0] if [m for m in d if '$1' in m['text']] else 'NONE'"
}
Q4_TS=$(ts_of $Q4)
BOB_TS=$(ts_of $BOBREQ)
isnt "$Q4_TS" NONE "run 1: a Slack message was posted for $Q4"
isnt "$BOB_TS" NONE "run 1: a Slack message was posted for $BOBREQ"
like "$(printf '%s' "$MSGS" | jv "[m['text'] for m in d if '$Q4' in m['text']][0]")" \
    "white_check_mark" "run 1: the message names the approve emoji"
is "$(ar_head)" "$MAIN0" "run 1: main unchanged"
is "$(remote_main)" "$MAIN0" "run 1: remote unchanged"
is "$(pg_select alice sales.orders)" f "run 1: nothing granted"

# --- run 2: reactions that do not make two allowed approvals -----------------
# q4: the requester, someone policy does not allow, a user with no
# email, a wrong emoji, and one data owner: one approval of two.
slack_react $CH "$Q4_TS" white_check_mark U0ALICE
slack_react $CH "$Q4_TS" white_check_mark U0DAVE
slack_react $CH "$Q4_TS" white_check_mark U0NOMAIL
slack_react $CH "$Q4_TS" eyes U0ERIN
slack_react $CH "$Q4_TS" white_check_mark U0BOB
# bob's own request: bob (the requester) and carol: one approval of two.
slack_react $CH "$BOB_TS" white_check_mark U0BOB
slack_react $CH "$BOB_TS" white_check_mark U0CAROL
slack_log_clear
N2=2026-03-01T10:00:00Z
exit_is 0 "run 2: apply exits 0" acc --now $N2 apply
is "$(ar_head)" "$MAIN0" "run 2: not enough approvals, main unchanged"
is "$(remote_main)" "$MAIN0" "run 2: remote unchanged"
is "$(pg_select alice sales.orders)" f "run 2: alice has nothing"
is "$(pg_select bob sales.customers)" f "run 2: bob has nothing"
SLACKLOG=$(slack_log)
is "$(slacklog 'len(calls("reactions.get"))')" 2 "run 2: reactions.get once per open message"
is "$(slacklog 'sorted(args(e).get("timestamp") for e in calls("reactions.get")) == sorted(sys.argv[2:])' "$Q4_TS" "$BOB_TS")" \
    true "run 2: reactions.get for each posted message"
is "$(slacklog 'sorted(set(args(e).get("channel") for e in calls("reactions.get")))')" "[\"$CH\"]" \
    "run 2: reactions.get in the posting channel"
is "$(slacklog 'all(str(args(e).get("full")).lower() in ("true", "1") for e in calls("reactions.get"))')" true \
    "run 2: reactions.get asks for full=true"
is "$(slacklog 'sorted(set(args(e).get("user") for e in calls("users.info")))')" \
    '["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0NOMAIL"]' \
    "run 2: users.info for the reactors with the approve emoji only"
is "$(slacklog 'len(calls("users.info"))')" 5 "run 2: each user looked up once per run"
is "$(slacklog 'len(secret_in("'"$SLACK_BOT_TOKEN"'")) - 0')" 0 "run 2: the token is never in a path, query or body"

# --- run 3: enough approvals, but Slack fails: nothing merged, retried -------
slack_react $CH "$Q4_TS" white_check_mark U0CAROL
slack_fault '{"path": "reactions\\.get", "error": "internal_error", "times": 10}'
N3=2026-03-01T11:00:00Z
exit_is 0 "run 3: Slack ok:false on reactions.get does not fail the run" acc --now $N3 apply
like "$ERR" "internal_error" "run 3: the Slack error is reported on stderr"
is "$(ar_head)" "$MAIN0" "run 3: nothing merged"
is "$(pg_select alice sales.orders)" f "run 3: nothing granted"
slack_faults_clear
slack_fault '{"path": "reactions\\.get", "status": 429, "retry_after": 30, "times": 10}'
N3B=2026-03-01T11:30:00Z
S=$(date +%s)
exit_is 0 "run 3b: 429 on reactions.get does not fail the run" acc --now $N3B apply
E=$(date +%s)
like "$ERR" "429|rate" "run 3b: the rate limit is reported on stderr"
ok_fast=$([ $((E - S)) -lt 10 ] && echo yes || echo "no ($((E - S))s)")
is "$ok_fast" yes "run 3b: a Retry-After past the 10 s budget is not waited for"
is "$(ar_head)" "$MAIN0" "run 3b: nothing merged"
is "$(remote_main)" "$MAIN0" "run 3b: remote unchanged"
slack_faults_clear

# --- run 4: merged by reaction, pushed, granted in the same run --------------
N4=2026-03-01T12:00:00Z
exit_is 0 "run 4: apply exits 0" acc --now $N4 --json apply
M=$(ar_head)
isnt "$M" "$MAIN0" "run 4: main moved"
is "$(remote_main)" "$M" "run 4: the merge was pushed to the bare remote"
is "$(git -C "$T/remote.git" rev-parse "$M^1")" "$MAIN0" "run 4: first parent is the old main"
is "$(git -C "$T/remote.git" rev-parse "$M^2")" "$Q4_COMMIT" "run 4: second parent is the request commit"
is "$(git -C "$T/remote.git" log -1 --format='%an <%ae>|%cn <%ce>|%aI|%cI' main)" \
    "Bob Owner <bob@example.com>|accord <accord@example.com>|2026-03-01T12:00:00+00:00|2026-03-01T12:00:00+00:00" \
    "run 4: author is the first allowed approver under their Slack name, committer accord, dated --now"
is "$(git -C "$T/remote.git" log -1 --format=%B main)" "Merge request $Q4 (approved by reaction)

Approved-by: Bob Owner <bob@example.com>
Approved-by: Carol Owner <carol@example.com>" "run 4: one Approved-by trailer per allowed reactor, in reaction order"
is "$(git -C "$T/remote.git" show main:$Q4 | head -1)" "requester: alice@example.com" \
    "run 4: the request is on main"
is "$(ojv 'd["commit"]')" "$M" "run 4: the run planned at the merge"
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 2 "run 4: two grants done"
is "$(ojv 'sel(d["changes"], target="table:sales.orders")[0]["approvers"]')" \
    '["bob@example.com", "carol@example.com"]' "run 4: the plan's approvers are the reactors"
is "$(pg_select alice sales.orders)" t "run 4: PostgreSQL: alice has SELECT on sales.orders"
is "$(pg_member alice analyst_sales)" t "run 4: PostgreSQL: alice is in analyst_sales"
is "$(pg_select bob sales.customers)" f "run 4: bob's own reaction still approves nothing"
is "$(git -C "$AR" show main:$BOBREQ 2>/dev/null | head -1)" "" "run 4: bob's request is not merged"
audit_json --action grant
R='sel(d["rows"], target="table:sales.orders")'
is "$(aud "len($R)")" 1 "audit: one grant row for sales.orders"
like "$(aud "${R}[0]['approvers']")" "^bob@example.com,? ?carol@example.com$" "audit: the reactors are the approvers"
is "$(aud "${R}[0]['commit_sha']")" "$M" "audit: the merge commit"
is "$(aud "${R}[0]['person']")" alice@example.com "audit: person"

# --- run 5: a refused push merges nothing and is retried ---------------------
slack_react $CH "$BOB_TS" white_check_mark U0ERIN
git clone -q "$T/remote.git" "$T/other" || bail "clone"
git -C "$T/other" -c user.name=Ada -c user.email=admin@example.com \
    commit -q --allow-empty -m "elsewhere" || bail "other commit"
git -C "$T/other" push -q origin main || bail "other push"
OTHER=$(remote_main)
N5=2026-03-01T13:00:00Z
exit_is 0 "run 5: a refused push does not fail the run" acc --now $N5 apply
like "$ERR" "push" "run 5: the failed push is reported"
is "$(ar_head)" "$M" "run 5: main moved back"
is "$(remote_main)" "$OTHER" "run 5: remote keeps its own commit"
is "$(pg_select bob sales.customers)" f "run 5: nothing granted"

# The operator brings the clone up to date; the next run merges.
# (accord moved refs/heads/main without touching the work tree.)
git -C "$AR" reset -q --hard main || bail "reset"
git -C "$AR" pull -q --ff-only origin main || bail "pull"
N6=2026-03-01T14:00:00Z
exit_is 0 "run 6: apply exits 0" acc --now $N6 apply
M6=$(ar_head)
is "$(remote_main)" "$M6" "run 6: merged and pushed"
is "$(git -C "$AR" rev-parse "$M6^2")" "$BOB_COMMIT" "run 6: merges bob's request"
is "$(git -C "$AR" log -1 --format='%an <%ae>%n%b' main)" "Carol Owner <carol@example.com>
Approved-by: Carol Owner <carol@example.com>
Approved-by: Erin Owner <erin@example.com>" "run 6: the requester is no approver; carol and erin are"
is "$(pg_select bob sales.customers)" t "run 6: PostgreSQL: bob has SELECT on sales.customers"

# --- run 7: nothing left to read ---------------------------------------------
slack_log_clear
exit_is 0 "run 7: apply exits 0" acc --now 2026-03-01T15:00:00Z apply
SLACKLOG=$(slack_log)
is "$(slacklog 'len(calls("reactions.get"))')" 0 "run 7: merged messages are not read again"
is "$(ar_head)" "$M6" "run 7: nothing merged"


# --- runs 8-9: a reaction approves one request version, not its branch -------
# Approvals land on dave's request; then more is pushed to her branch:
# another request and a policy letting him approve himself.  Merging the
# branch would make the reactors approve what they never saw: refused.
DAVEREQ=requests/dave/orders.yaml
git -C "$AR" checkout -q main
ar_branch dave-req
ar_write $DAVEREQ 'requester: dave@example.com
reason: orders for the audit
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
ar_commit dave dave@example.com 2026-03-02T08:00:00Z "Request $DAVEREQ"
git -C "$AR" checkout -q main
exit_is 0 "run 8: apply posts dave's request" acc --now 2026-03-02T09:00:00Z apply
MSGS=$(slack_messages $CH)
DAVE_TS=$(ts_of $DAVEREQ)
isnt "$DAVE_TS" NONE "run 8: posted"
slack_react $CH "$DAVE_TS" white_check_mark U0BOB
slack_react $CH "$DAVE_TS" white_check_mark U0CAROL
git -C "$AR" checkout -q dave-req
ar_write requests/dave/extra.yaml 'requester: dave@example.com
reason: nobody reacted to this
grants:
  - platform: warehouse
    target: table:sales.invoices
    privilege: SELECT'
ar_write policies/zz.yaml 'rules:
  - platform: warehouse
    targets: ["table:sales.*"]
    privileges: [SELECT]
    requesters: ["dave@example.com"]
    approvers: ["dave@example.com"]
    self_approval: true
    min_approvals: 1'
ar_commit dave dave@example.com 2026-03-02T09:30:00Z "More on the branch"
git -C "$AR" checkout -q main
M8=$(ar_head)
exit_is 0 "run 9: a refused merge does not fail the run" acc --now 2026-03-02T10:00:00Z apply
like "$ERR" "also changes (policies/zz.yaml|requests/dave/extra.yaml)" "run 9: the refusal names what else the branch changes"
is "$(ar_head)" "$M8" "run 9: main unchanged"
is "$(remote_main)" "$M8" "run 9: remote unchanged"
is "$(git -C "$AR" show main:policies/zz.yaml 2>/dev/null | head -1)" "" "run 9: the policy edit did not reach main"
is "$(pg_select dave sales.invoices)" f "run 9: nothing granted that nobody approved"
is "$(pg_select dave sales.orders)" f "run 9: nor the approved request, whose branch carries more"

# --- runs 10-11: one Slack wait budget per run (§12) -------------------------
# reactions.get (approval by reaction) and chat.postMessage (notify) use
# two Slack clients in one run; a 429 is retried only while the run's
# total wait stays under 10 s.  reactions.get's Retry-After: 6 is waited
# out; chat.postMessage's Retry-After: 6 would make 12 s: not retried,
# the message is owed and goes out at the next run.
ERINREQ=requests/erin/customers.yaml
ar_branch erin-req
ar_write $ERINREQ 'requester: erin@example.com
reason: budget check
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT'
ar_commit erin erin@example.com 2026-03-03T08:00:00Z "Request $ERINREQ"
git -C "$AR" checkout -q main
slack_faults_clear
slack_fault '{"faults": [{"path": "reactions\\.get", "status": 429, "retry_after": 6, "times": 1},
    {"path": "chat\\.postMessage", "status": 429, "retry_after": 6, "times": 1}]}'
slack_log_clear
S=$(date +%s)
exit_is 0 "run 10: 429s in both Slack steps do not fail the run" acc --now 2026-03-03T09:00:00Z apply
E=$(date +%s)
SLACKLOG=$(slack_log)
is "$(slacklog '[e["status"] for e in calls("reactions.get")][:2]')" "[429, 200]" \
    "run 10: reactions.get's 429 is retried"
is "$(slacklog '[e["status"] for e in posts()]')" "[429]" \
    "run 10: chat.postMessage's 429 is not retried: the run's 10 s would be passed"
is "$(slacklog 'L[-1]["t"] - L[0]["t"] < 10')" true \
    "run 10: the run waited under 10 s for Slack (emulator log)"
is "$(slacklog 'round(calls("reactions.get")[1]["t"] - calls("reactions.get")[0]["t"]) >= 6')" true \
    "run 10: the Retry-After of reactions.get was honoured"
ok_fast=$([ $((E - S)) -lt 14 ] && echo yes || echo "no ($((E - S))s)")
is "$ok_fast" yes "run 10: the whole run took less than 14 s"
like "$ERR" "chat\.postMessage.*429" "run 10: the undelivered message is reported on stderr"
MSGS=$(slack_messages $CH)
is "$(ts_of $ERINREQ)" NONE "run 10: erin's request is not posted yet"
slack_faults_clear
slack_log_clear
exit_is 0 "run 11: apply exits 0" acc --now 2026-03-03T10:00:00Z apply
SLACKLOG=$(slack_log)
is "$(slacklog 'len([t for t in texts() if sys.argv[2] in t])' "$ERINREQ")" 1 \
    "run 11: the owed message is delivered, once"
MSGS=$(slack_messages $CH)
isnt "$(ts_of $ERINREQ)" NONE "run 11: erin's request is posted"

done_testing
