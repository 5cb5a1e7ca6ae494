#!/bin/sh
# accord explain FILE over a real history and a real PostgreSQL: the
# decision, rule, approval commit, approvers, approvals missing and
# expiry of each grant, and what apply would do according to the state
# the last run recorded (nothing before a run; grant before the first
# apply that sees the request; none once held; revoke at expiry).  A
# deny rule and default deny name their rule; a request short of
# approvals is pending; a working-tree edit is explained as not merged;
# invalid and missing files exit 1.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init
# sales.invoices is named by no rule in warehouse.yaml: this file decides
# it, with two approvals.
ar_push policies/strict.yaml 'rules:
  - platform: warehouse
    targets: ["table:sales.invoices"]
    privileges: [SELECT]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 2
    default_duration: 14d' 2026-01-02T00:00:00Z
BEFORE_REQS=$(ar_head)

ALICE=requests/alice/week.yaml
ADMIN=requests/bob/admin.yaml
EVE=requests/eve/orders.yaml
INV=requests/carol/invoices.yaml
ZOE=requests/zoe/orders.yaml
BAD=requests/bad/typo.yaml

APPROVED=2026-03-01T10:00:00Z
EXPIRES=$(t_add $APPROVED $((7 * 86400)))
ALICE_YAML='requester: alice@example.com
reason: one week of orders
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
ar_pr week $ALICE "$ALICE_YAML" Bob bob@example.com $APPROVED
MERGE=$(ar_head)
ALICE_BLOB=$(git -C "$AR" rev-parse "main:$ALICE")
ar_pr zoe $ZOE 'requester: zoe@example.com
reason: no account on the warehouse
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T11:00:00Z
NOW=2026-03-02T00:00:00Z

# --- before any run: no state -----------------------------------------------
exit_is 0 "explain before any run exits 0" acc --now $NOW explain $ALICE
like "$OUT" "^  decision: +active$" "active"
like "$OUT" "^  rule: +policies/warehouse.yaml#1$" "rule warehouse.yaml#1"
like "$OUT" "^  apply: +no state yet: apply has not run$" "no state yet"
like "$OUT" "^  approval: +commit $MERGE at $APPROVED$" "approval commit is the merge commit, at its time"
like "$OUT" "^  expires: +$EXPIRES$" "expires approved_at + 7d"
like "$OUT" "^  requester: alice@example.com$" "requester"
is "$(test -e "$STATE" && echo exists || echo absent)" absent "explain does not create the state database"
exit_is 0 "explain --json before any run" acc --now $NOW --json explain $ALICE
is "$(ojv '[d["grants"][0]["apply"]["action"], d["grants"][0]["apply"]["detail"]]')" \
    '[null, "no state yet: apply has not run"]' "json: action null, no state"

# --- a run that has not seen the request: apply would grant -----------------
exit_is 0 "apply at the commit before the requests" acc --ref "$BEFORE_REQS" --now $NOW apply
is "$(pg_select alice sales.orders)" f "PostgreSQL: not granted yet"
exit_is 0 "explain after a run that predates the request" acc --now $NOW explain $ALICE
like "$OUT" "^  apply: +grant to alice$" "apply would grant to alice (resolved by email-local)"
exit_is 0 "explain --json: apply would grant" acc --now $NOW --json explain $ALICE
is "$(ojv '[d["grants"][0]["apply"][k] for k in ("action", "account", "reason")]')" \
    '["grant", "alice", "request"]' "json: grant to alice, reason request"
exit_is 3 "plan agrees: a grant to alice (zoe has no account: partial)" acc --now $NOW --json plan
is "$(ojv 'len(sel(d["changes"], action="grant", account="alice", target="table:sales.orders"))')" 1 "plan: grant to alice"
exit_is 0 "explain zoe (no account on the platform)" acc --now $NOW explain $ZOE
like "$OUT" "^  apply: +grant_failed: no account for zoe@example.com on warehouse$" "no account: grant_failed"

# --- applied: held -------------------------------------------------------------
exit_is 3 "apply grants alice (zoe has no account: partial)" acc --now $NOW --json apply
is "$(pg_select alice sales.orders)" t "PostgreSQL: alice has SELECT"
exit_is 0 "explain --json after apply" acc --now $NOW --json explain $ALICE
is "$(ojv 'd["file"]')" "$ALICE" "json: file"
is "$(ojv 'd["blob"]')" "$ALICE_BLOB" "json: blob is the ref's blob"
is "$(ojv 'd["source"]')" ref "json: source ref"
is "$(ojv 'd["commit"]')" "$(ar_head)" "json: commit is the ref's tip"
is "$(ojv 'd["valid"]')" true "json: valid"
is "$(ojv 'd["error"]')" null "json: error null"
is "$(ojv 'd["requester"]')" alice@example.com "json: requester"
is "$(ojv 'd["reason"]')" "one week of orders" "json: reason"
is "$(ojv 'len(d["grants"])')" 1 "json: one grant"
is "$(ojv '[d["grants"][0][k] for k in ("platform", "target", "privilege", "decision", "rule")]')" \
    '["warehouse", "table:sales.orders", "SELECT", "active", "policies/warehouse.yaml#1"]' "json: grant, decision, rule"
is "$(ojv 'd["grants"][0]["approvers"]')" '["bob@example.com"]' "json: approvers counted"
is "$(ojv 'd["grants"][0]["needed"]')" 0 "json: nothing needed"
is "$(ojv 'd["grants"][0]["approval_commit"]')" "$MERGE" "json: approval commit = merge commit"
is "$(ojv 'd["grants"][0]["approved_at"]')" "$APPROVED" "json: approved_at"
is "$(ojv 'd["grants"][0]["expires_at"]')" "$EXPIRES" "json: expires_at exact"
like "$(ojv 'd["grants"][0]["why"]')" "^allowed by policies/warehouse.yaml#1, approved by bob@example.com" "json: why"
is "$(ojv '[d["grants"][0]["apply"][k] for k in ("action", "account", "reason")]')" \
    '["none", "alice", "held"]' "json: apply none, held"
is "$(ojv 'd["grants"][0]["apply"]["detail"]')" "none: held since $NOW (granted by accord)" "json: held since the run"
exit_is 0 "explain after apply (text)" acc --now $NOW explain $ALICE
like "$OUT" "^  apply: +none: held since $NOW \\(granted by accord\\)$" "text: held since"

# --- past expiry: revoke ------------------------------------------------------
exit_is 0 "explain at expiry" acc --now "$EXPIRES" --json explain $ALICE
is "$(ojv 'd["grants"][0]["decision"]')" expired "expired at expires_at"
is "$(ojv '[d["grants"][0]["apply"][k] for k in ("action", "reason", "detail")]')" \
    '["revoke", "expired", "revoke (expired)"]' "apply would revoke (expired)"
exit_is 0 "explain one second before expiry" acc --now "$(t_add $EXPIRES -1)" --json explain $ALICE
is "$(ojv 'd["grants"][0]["decision"] + " " + d["grants"][0]["apply"]["action"]')" "active none" "still active and held at expiry - 1s"

# --- denied: a deny rule, and default deny -------------------------------------
ar_pr admin $ADMIN 'requester: bob@example.com
reason: administer the analysts
duration: 7d
grants:
  - platform: warehouse
    target: role:analyst_admin' Carol carol@example.com 2026-03-02T10:00:00Z
ar_pr eve $EVE 'requester: eve@other.org
reason: not one of us
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-02T11:00:00Z
NOW2=2026-03-03T00:00:00Z
exit_is 0 "explain a denied request" acc --now $NOW2 explain $ADMIN
like "$OUT" "^  decision: +denied$" "denied"
like "$OUT" "^  rule: +policies/warehouse.yaml#2$" "the deny rule, #2"
like "$OUT" "^  why: +denied by policies/warehouse.yaml#2$" "why names the deny rule"
like "$OUT" "^  apply: +none: not held$" "apply: nothing held, nothing to do"
exit_is 0 "explain a default-denied request" acc --now $NOW2 --json explain $EVE
is "$(ojv '[d["grants"][0]["decision"], d["grants"][0]["rule"]]')" '["denied", null]' "default deny: no rule"
like "$(ojv 'd["grants"][0]["why"]')" "default deny" "why says default deny"
run acc --now $NOW2 explain $EVE
like "$OUT" "^  rule: +\\(no rule: default deny\\)$" "text: (no rule: default deny)"

# --- pending: two approvals needed, one given -----------------------------------
ar_pr invoices $INV 'requester: carol@example.com
reason: invoices audit
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.invoices
    privilege: SELECT' Bob bob@example.com 2026-03-03T10:00:00Z
INV_MERGE=$(ar_head)
NOW3=2026-03-04T00:00:00Z
exit_is 0 "explain a pending request" acc --now $NOW3 --json explain $INV
is "$(ojv '[d["grants"][0][k] for k in ("decision", "rule", "needed")]')" \
    '["pending", "policies/strict.yaml#1", 1]' "pending under strict.yaml#1, one more approval"
is "$(ojv 'd["grants"][0]["approvers"]')" '["bob@example.com"]' "bob counted"
is "$(ojv 'd["grants"][0]["approval_commit"]')" "$INV_MERGE" "its merge commit"
is "$(ojv 'd["grants"][0]["expires_at"]')" null "no expiry before approval"
is "$(ojv 'd["grants"][0]["apply"]["detail"]')" "none yet: 1 approval missing" "apply: none yet"

# --- the working tree ---------------------------------------------------------
ar_write $ALICE 'requester: alice@example.com
reason: three days will do
duration: 3d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
WT_BLOB=$(git -C "$AR" hash-object "$ALICE")
exit_is 0 "explain a working-tree edit" acc --now $NOW3 explain $ALICE
like "$OUT" "working tree differs from refs/heads/main: not merged, so not approved" "says it is not merged"
like "$OUT" "^  reason: +three days will do$" "explains the working-tree version"
like "$OUT" "^  decision: +pending$" "not approved: pending"
unlike "$OUT" "^  approval:" "no approval commit"
exit_is 0 "explain --json a working-tree edit" acc --now $NOW3 --json explain $ALICE
is "$(ojv '[d["source"], d["blob"], d["grants"][0]["approval_commit"], d["grants"][0]["decision"]]')" \
    "[\"worktree\", \"$WT_BLOB\", null, \"pending\"]" "json: source worktree, its blob, no approval"
is "$(ojv 'd["grants"][0]["apply"]["action"]')" none "json: apply none for an unmerged version"
exit_is 0 "--ref-only explains the ref's version" acc --now $NOW3 --json explain --ref-only $ALICE
is "$(ojv '[d["source"], d["blob"], d["reason"], d["grants"][0]["decision"]]')" \
    "[\"ref\", \"$ALICE_BLOB\", \"one week of orders\", \"active\"]" "--ref-only: the merged version"
printf '%s\n' "$ALICE_YAML" >"$AR/$ALICE"
exit_is 0 "an identical working-tree copy" acc --now $NOW3 --json explain $ALICE
is "$(ojv 'd["source"] + " " + d["grants"][0]["decision"]')" "ref active" "identical copy: the ref version"
ar_write requests/zed/new.yaml 'requester: bob@example.com
reason: only on my disk
grants:
  - platform: warehouse
    target: role:analyst_sales'
exit_is 0 "a file only in the working tree" acc --now $NOW3 explain requests/zed/new.yaml
like "$OUT" "working tree only, not at refs/heads/main: not merged, so not approved" "says so"
like "$OUT" "^  decision: +pending$" "pending"
rm -f "$AR/requests/zed/new.yaml"

exit_is 0 "at a ref without the file, the working-tree copy is explained" \
    acc --ref "$BEFORE_REQS" --now $NOW3 --json explain $ALICE
is "$(ojv '[d["source"], d["worktree_differs"], d["grants"][0]["decision"]]')" '["worktree", false, "pending"]' \
    "--ref: only in the working tree there, so not approved"
exit_is 1 "--ref-only at a ref without the file: not found" acc --ref "$BEFORE_REQS" --now $NOW3 explain --ref-only $ALICE
like "$ERR" "not found at $BEFORE_REQS" "names the ref it looked at"
rm -f "$AR/$ALICE"
exit_is 0 "a file deleted in the working tree: the ref version" acc --now $NOW3 explain $ALICE
like "$OUT" "^  note: +deleted in the working tree" "says it is deleted there"
like "$OUT" "^  decision: +active$" "still active at the ref"
printf '%s\n' "$ALICE_YAML" >"$AR/$ALICE"

# --- paths relative to the cwd -------------------------------------------------
run sh -c "cd '$AR/requests/alice' && '$ACCORD' -C '$AR' --state '$STATE' --now $NOW3 --json explain week.yaml"
is "$RC $(ojv 'd["file"]')" "0 $ALICE" "a path relative to a cwd inside the working tree"
run "$ACCORD" -C "$AR" --state "$STATE" --now $NOW3 --json explain "access/$ALICE"
is "$RC $(ojv 'd["file"]')" "0 $ALICE" "a cwd-relative path from outside the repository"

# --- an edit on the branch without approval: the held grant is withdrawn ---
ar_squash $ALICE 'requester: alice@example.com
reason: edited without review
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' 2026-03-04T01:00:00Z
NOW4=2026-03-04T02:00:00Z
exit_is 0 "explain an unreviewed edit" acc --now $NOW4 --json explain $ALICE
is "$(ojv '[d["source"], d["grants"][0]["decision"], d["grants"][0]["needed"], d["grants"][0]["approvers"]]')" \
    '["ref", "pending", 1, []]' "pending: the squash has no approver"
is "$(ojv '[d["grants"][0]["apply"][k] for k in ("action", "account", "reason")]')" \
    '["revoke", "alice", "withdrawn"]' "apply would revoke alice's grant (withdrawn)"
exit_is 3 "plan agrees (zoe still has no account)" acc --now $NOW4 --json plan
is "$(ojv '[(c["action"], c["reason"]) for c in sel(d["changes"], account="alice")]')" '[["revoke", "withdrawn"]]' \
    "plan: revoke alice, withdrawn"

# --- invalid, missing, usage -------------------------------------------------
ar_push $BAD 'requester: alice@example.com
reason: a typo
durationn: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' 2026-03-04T10:00:00Z
exit_is 1 "an invalid request exits 1" acc --now $NOW3 explain $BAD
like "$OUT" "^  invalid: +$BAD:3:1: .*durationn" "file:line:column of the error"
like "$OUT" "grants already obtained are kept" "apply: nothing new (§6)"
exit_is 1 "an invalid request --json exits 1" acc --now $NOW3 --json explain $BAD
is "$(ojv '[d["valid"], d["error"]["file"], d["error"]["line"], d["error"]["column"]]')" \
    "[false, \"$BAD\", 3, 1]" "json: error file:line:column"
like "$(ojv 'd["error"]["message"]')" durationn "json: error message"
exit_is 1 "a missing file exits 1" acc --now $NOW3 explain requests/nobody/none.yaml
like "$ERR" "requests/nobody/none.yaml: not found at refs/heads/main .* nor in the working tree" "says it was not found"
exit_is 1 "a missing file --json exits 1" acc --now $NOW3 --json explain requests/nobody/none.yaml
is "$(ojv '[d["valid"], d["file"]]')" '[false, "requests/nobody/none.yaml"]' "json: valid false"
like "$(ojv 'd["error"]["message"]')" "not found" "json: error message"
exit_is 1 "a file that is not a request" acc explain accord.yaml
like "$ERR" "not a request file" "says it is not a request"
exit_is 64 "no file: usage" acc explain
like "$ERR" "usage: accord explain \\[--ref-only\\] FILE" "usage text"
exit_is 64 "two files: usage" acc explain $ALICE $INV
exit_is 64 "unknown option: usage" acc explain --bogus $ALICE
# --json prints its document on every exit code (DESIGN §13), usage too.
exit_is 64 "usage with --json: exit 64" acc --json explain
is "$(ojv '[d["valid"], d["file"], d["grants"]]')" '[false, null, []]' "usage --json: a document, not valid"
like "$(ojv 'd["error"]["message"]')" "^usage: accord explain \\[--ref-only\\] FILE$" "usage --json: the usage text as the error"
exit_is 64 "unknown option with --json: exit 64" acc --json explain --bogus $ALICE
like "$(ojv 'd["error"]["message"]')" "^usage: " "unknown option --json: a document with the usage"
exit_is 1 "a file that is not a request, --json: exit 1" acc --json explain accord.yaml
is "$(ojv '[d["valid"], d["file"]]')" '[false, "accord.yaml"]' "not a request --json: a document naming the file"
like "$(ojv 'd["error"]["message"]')" "not a request file" "not a request --json: the error"

# --- the working tree is read only through regular files inside it ----------
# A request path that is a symlink to a file outside the repository, a
# directory that leads outside, a FIFO and a directory: each refused with
# exit 1 and a message naming the path; nothing outside is ever read (the
# secret appears nowhere) and a FIFO is never opened (no hang: the
# command runs under a timeout that would exit 124).
mkdir -p "$T/outside" "$AR/requests/evil"
printf 'requester: hunter2-SECRET\nreason: hunter2-SECRET\ngrants: hunter2-SECRET\n' >"$T/outside/secret.yaml"
ln -s "$T/outside/secret.yaml" "$AR/requests/evil/evil.yaml"
exit_is 1 "a symlink to a file outside the repository: exit 1" acc --now $NOW3 explain requests/evil/evil.yaml
like "$ERR" "requests/evil/evil.yaml: not a regular file \\(a symbolic link\\)" "says it is a symlink, not a regular file"
unlike "$OUT$ERR" "hunter2" "the outside file's content appears nowhere"
exit_is 1 "the symlink with --json: exit 1" acc --now $NOW3 --json explain requests/evil/evil.yaml
is "$(ojv '[d["valid"], d["file"], d["source"]]')" '[false, "requests/evil/evil.yaml", null]' "json: not valid, no source"
like "$(ojv 'd["error"]["message"]')" "not a regular file \\(a symbolic link\\)" "json: the error says symlink"
unlike "$OUT$ERR" "hunter2" "json: the outside file's content appears nowhere"
run sh -c "cd '$AR/requests/evil' && '$ACCORD' -C '$AR' --state '$STATE' --now $NOW3 explain evil.yaml"
is "$RC" 1 "the symlink named from a cwd inside the repository: exit 1"
unlike "$OUT$ERR" "hunter2" "cwd-relative: the content appears nowhere"
ln -s "$T/outside" "$AR/requests/outdir"
exit_is 1 "a directory that is a symlink out of the repository: exit 1" acc --now $NOW3 explain requests/outdir/secret.yaml
like "$ERR" "requests/outdir/secret.yaml: .*outside the working tree" "says the directory lies outside"
unlike "$OUT$ERR" "hunter2" "outside directory: the content appears nowhere"
exit_is 0 "--ref-only is unaffected by symlinks elsewhere in the working tree" acc --now $NOW3 explain --ref-only $ALICE
mv "$AR/$ALICE" "$T/alice.keep"
ln -s "$T/alice.keep" "$AR/$ALICE"
exit_is 1 "a request at the ref replaced by a symlink in the working tree: exit 1" acc --now $NOW3 explain $ALICE
like "$ERR" "$ALICE: not a regular file \\(a symbolic link\\)" "refused, though the file it points to is a valid request"
exit_is 0 "--ref-only explains the ref's version and reads nothing" acc --now $NOW3 --json explain --ref-only $ALICE
is "$(ojv 'd["source"]')" ref "--ref-only: the ref"
rm -f "$AR/$ALICE"
mv "$T/alice.keep" "$AR/$ALICE"
mkfifo "$AR/requests/evil/fifo.yaml" || bail mkfifo
exit_is 1 "a FIFO named like a request: exit 1, no hang" timeout 20 "$ACCORD" -C "$AR" --state "$STATE" --now $NOW3 explain requests/evil/fifo.yaml
like "$ERR" "requests/evil/fifo.yaml: not a regular file \\(a FIFO\\)" "says it is a FIFO"
exit_is 1 "a FIFO with --json: exit 1, no hang" timeout 20 "$ACCORD" -C "$AR" --state "$STATE" --now $NOW3 --json explain requests/evil/fifo.yaml
like "$(ojv 'd["error"]["message"]')" "not a regular file" "json: the FIFO's error"
mkdir -p "$AR/requests/evil/dir.yaml"
exit_is 1 "a directory named like a request: exit 1" acc --now $NOW3 explain requests/evil/dir.yaml
like "$ERR" "requests/evil/dir.yaml: not a regular file \\(a directory\\)" "says it is a directory"
rm -rf "$AR/requests/evil" "$AR/requests/outdir"

done_testing
