#!/bin/sh
# The requests inbox on a real history: versions on local branches,
# remote-tracking branches and refs/pull/N/head that are not merged yet,
# one entry per (path, blob) whatever the number of refs carrying it; a
# merged branch, a squash-merged copy (even one main changed since), a
# stale branch's old copy of another request, the remote copy of the main
# branch and a tag show nothing; a changed request shows its new version;
# a denied grant shows DENIED and its rule, an invalid file its
# file:line:column; --reviewer keeps what that person may approve (groups
# expanded, the requester only with self_approval); ages count from
# --now; nothing is written to the state database.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

# Rule 1 as usual; rule 2 needs a data owner and security and lets the
# requester approve; rule 3 denies admin roles.
ar_init "$(ar_default_config)" 'rules:
  - platform: warehouse
    targets: ["table:sales.orders", "table:sales.customers", "role:analyst_*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
  - platform: warehouse
    targets: ["table:sales.invoices"]
    privileges: [SELECT]
    require:
      - {from: ["group:data-owners"], min: 1}
      - {from: ["group:security"], min: 1}
    self_approval: true
  - platform: "*"
    targets: ["role:*admin*"]
    deny: true'

Q4=requests/alice/q4.yaml
OLD=requests/carol/old.yaml
CUST=requests/bob/cust.yaml
PR=requests/dave/pr.yaml
INV=requests/bob/invoices.yaml
ADM=requests/eve/admin.yaml
BAD=requests/frank/broken.yaml
SQ=requests/dave/squashed.yaml
RM=requests/zed/remote-main.yaml

req() {	# REQUESTER DURATION TARGET PRIVILEGE
	printf 'requester: %s\nreason: inbox test\nduration: %s\ngrants:\n  - platform: warehouse\n    target: %s\n    privilege: %s' \
	    "$1" "$2" "$3" "$4"
}
blob() { git -C "$AR" rev-parse "$1:$2"; }

# Merged through the button: its branch stays, contained in main.
ar_pr carol-old $OLD "$(req carol@example.com 7d table:sales.orders SELECT)" \
    Bob bob@example.com 2026-02-01T10:00:00Z

# A stale branch: forked here, main then changes carol's request.
ar_branch bob-stale
ar_write $CUST "$(req bob@example.com 7d table:sales.customers SELECT)"
ar_commit bob bob@example.com 2026-02-02T09:00:00Z "Request customers"
ar_pr carol-v2 $OLD "$(req carol@example.com 14d table:sales.orders SELECT)" \
    Bob bob@example.com 2026-02-03T10:00:00Z

# A request changed on a branch: a new version of a merged file.
ar_branch carol-extend
ar_write $OLD "$(req carol@example.com 60d table:sales.orders SELECT)"
ar_commit carol carol@example.com 2026-02-20T11:00:00Z "Extend"

# Alice's request: pushed once (origin/alice-q4 at the first commit),
# then another commit on top locally; both carry the same version.
ar_branch alice-q4
ar_write $Q4 "$(req alice@example.com 7d table:sales.orders SELECT)"
ar_commit alice alice@example.com 2026-03-01T10:00:00Z "Request q4"
git -C "$AR" update-ref refs/remotes/origin/alice-q4 HEAD
ar_write notes/alice.txt "why I need it"
ar_commit alice alice@example.com 2026-03-02T15:00:00Z "Notes"

# A forge pull-request head only (no branch): two commits, the request in
# the first.
ar_branch dave-pr
ar_write $PR "$(req dave@example.com 7d role:analyst_sales member)"
ar_commit dave dave@example.com 2026-03-02T08:00:00Z "Request analyst role"
ar_write notes/dave.txt "context"
ar_commit dave dave@example.com 2026-03-03T08:00:00Z "Context"
PR_SHA=$(git -C "$AR" rev-parse HEAD)
git -C "$AR" update-ref refs/pull/7/head "$PR_SHA"
git -C "$AR" update-ref refs/pull/7/merge "$PR_SHA"
git -C "$AR" checkout -q main
git -C "$AR" branch -q -D dave-pr

# Two grants under two rules: needed is the larger, approvers the union
# (bob may approve his own invoices grant, not his orders grant).
ar_branch bob-invoices
ar_write $INV 'requester: bob@example.com
reason: month end
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT
  - platform: warehouse
    target: table:sales.invoices
    privilege: SELECT'
ar_commit bob bob@example.com 2026-03-03T09:00:00Z "Request invoices"

# Denied by rule 3.
ar_branch eve-admin
ar_write $ADM "$(req eve@example.com 7d role:analyst_admin member)"
ar_commit eve eve@example.com 2026-03-03T10:00:00Z "Request admin"

# Invalid: an unknown key in a grant.
ar_branch frank-bad
ar_write $BAD 'requester: frank@example.com
reason: typo
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT
    colour: blue'
ar_commit frank frank@example.com 2026-03-03T11:00:00Z "Broken request"

# Squash-merged: the branch is not contained in main, but main holds the
# same blob.
ar_branch dave-squash
ar_write $SQ "$(req dave@example.com 7d table:sales.customers SELECT)"
ar_commit dave dave@example.com 2026-03-03T12:00:00Z "Request customers"
ar_squash $SQ "$(req dave@example.com 7d table:sales.customers SELECT)" \
    2026-03-03T13:00:00Z "Approved-by: Bob <bob@example.com>"

# Squash-merged, then changed on main: the branch's version was merged
# once and is not pending again.
GS=requests/gina/g.yaml
ar_branch gina-sq
ar_write $GS "$(req gina@example.com 7d table:sales.orders SELECT)"
ar_commit gina gina@example.com 2026-03-03T12:30:00Z "Request orders"
ar_squash $GS "$(req gina@example.com 7d table:sales.orders SELECT)" \
    2026-03-03T12:40:00Z "Approved-by: Bob <bob@example.com>"
ar_push $GS "$(req gina@example.com 3d table:sales.orders SELECT)" 2026-03-03T12:50:00Z

# A branch that merged main into itself since it forked: its merge base
# is the later main commit.
HK=requests/hank/h.yaml
ar_branch hank-sync
ar_write $HK "$(req hank@example.com 7d table:sales.customers SELECT)"
ar_commit hank hank@example.com 2026-03-03T13:10:00Z "Request customers"
ar_push README "access requests" 2026-03-03T13:20:00Z
git -C "$AR" checkout -q hank-sync
ar_git hank hank@example.com 2026-03-03T13:30:00Z merge -q --no-ff -m "Sync" main >/dev/null ||
    bail "merge main into hank-sync"
git -C "$AR" checkout -q main

# The remote copy of main ahead of main, an origin/HEAD symref to it,
# and a tag on the same commit: none of them is read.
ar_branch remote-main
ar_write $RM "$(req zed@example.com 7d table:sales.orders SELECT)"
ar_commit zed zed@example.com 2026-03-03T14:00:00Z "On origin/main"
RM_SHA=$(git -C "$AR" rev-parse HEAD)
git -C "$AR" checkout -q main
git -C "$AR" branch -q -D remote-main
git -C "$AR" update-ref refs/remotes/origin/main "$RM_SHA"
git -C "$AR" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
git -C "$AR" tag v-unmerged "$RM_SHA"

git -C "$AR" checkout -q main
NOW=2026-03-04T12:00:00Z

# --- text -----------------------------------------------------------------
exit_is 0 "inbox exits 0" acc --now $NOW inbox
like "$OUT" "^$Q4  \\(blob " "text: alice's request has a block"
like "$OUT" "requester: alice@example.com; age 3d \\(since 2026-03-01T10:00:00Z\\)" \
    "text: requester, age from --now, creation time"
like "$OUT" "refs: refs/heads/alice-q4, refs/remotes/origin/alice-q4$" \
    "text: both refs carrying the version"
like "$OUT" "PENDING  warehouse SELECT on table:sales.orders  rule policies/warehouse.yaml#1" \
    "text: grant with status and rule"
like "$OUT" "approvers: bob@example.com, carol@example.com; needed: 1" \
    "text: approvers (group expanded) and needed"
like "$OUT" "refs: refs/pull/7/head \\(pull request #7\\)" "text: pull-request head and number"
like "$OUT" "DENIED   warehouse member on role:analyst_admin  rule policies/warehouse.yaml#3: denied by policies/warehouse.yaml#3" \
    "text: a denied grant shows DENIED and its rule"
like "$OUT" "INVALID  $BAD:7:5: " "text: an invalid file shows file:line:column"
like "$OUT" "^8 pending requests$" "text: the count"
unlike "$OUT" "$SQ" "text: a squash-merged version is not pending"
unlike "$OUT" "$GS" "text: nor one squash-merged and since changed on main"
unlike "$OUT" "$RM|origin/HEAD|origin/main|v-unmerged" "text: origin/main, origin/HEAD and tags are not read"
unlike "$OUT" "carol-old|carol-v2" "text: merged branches show nothing"
unlike "$OUT" "refs/pull/7/merge" "text: refs/pull/N/merge is not read"

# --- JSON -----------------------------------------------------------------
exit_is 0 "inbox --json" acc --now $NOW --json inbox
is "$(ojv 'sorted(d.keys())')" '["commit", "now", "requests", "reviewer"]' "json: top-level keys"
is "$(ojv 'd["commit"]')" "$(ar_head)" "json: commit is the branch tip"
is "$(ojv '[r["path"] for r in d["requests"]]')" \
    "[\"$Q4\", \"$CUST\", \"$INV\", \"$OLD\", \"$PR\", \"$ADM\", \"$BAD\", \"$HK\"]" \
    "json: one entry per version, sorted by path; nothing merged, stale or squashed"
is "$(ojv 'sorted(sel(d["requests"], path="'$Q4'")[0].keys())')" \
    '["age", "approvers", "blob", "commit", "created_at", "error", "grants", "needed", "path", "pr_number", "reason", "refs", "requester", "valid"]' \
    "json: request keys"
is "$(ojv 'sorted(sel(d["requests"], path="'$Q4'")[0]["grants"][0].keys())')" \
    '["grantee", "needed", "platform", "privilege", "rule", "status", "target", "why"]' \
    "json: grant keys"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["refs"]')" \
    '["refs/heads/alice-q4", "refs/remotes/origin/alice-q4"]' "json: one version, two refs with different tips"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["created_at"]')" 2026-03-01T10:00:00Z \
    "json: created_at is the earliest commit holding the version, not the tip"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["blob"]')" "$(blob alice-q4 $Q4)" "json: blob id"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["commit"]')" "$(git -C "$AR" rev-parse alice-q4)" \
    "json: commit is the first ref's tip"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["pr_number"]')" null "json: no pull request number for a branch"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["grants"]')" \
    '[{"grantee": null, "needed": 1, "platform": "warehouse", "privilege": "SELECT", "rule": "policies/warehouse.yaml#1", "status": "pending", "target": "table:sales.orders", "why": "allowed by policies/warehouse.yaml#1, not merged yet, needs 1 approval from group:data-owners"}]' \
    "json: the grant, pending under rule 1"
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["approvers"]')" '["bob@example.com", "carol@example.com"]' \
    "json: approvers"
is "$(ojv '[sel(d["requests"], path="'$Q4'")[0][k] for k in ("requester", "needed", "age", "valid", "error")]')" \
    '["alice@example.com", 1, "3d", true, null]' "json: requester, needed, age, valid, error"

PRI='sel(d["requests"], path="'$PR'")[0]'
is "$(ojv "[$PRI[k] for k in ('refs', 'pr_number', 'created_at', 'commit')]")" \
    "[[\"refs/pull/7/head\"], 7, \"2026-03-02T08:00:00Z\", \"$PR_SHA\"]" \
    "json: refs/pull/7/head: number 7, created at its first commit, commit its tip"

is "$(ojv 'len(sel(d["requests"], path="'$OLD'"))')" 1 "json: the changed request is one entry"
is "$(ojv 'sel(d["requests"], path="'$OLD'")[0]["blob"]')" "$(blob carol-extend $OLD)" \
    "json: ... its new version"
isnt "$(blob carol-extend $OLD)" "$(blob main $OLD)" "setup: main holds another version"
is "$(ojv 'sel(d["requests"], path="'$OLD'")[0]["approvers"]')" '["bob@example.com"]' \
    "json: the requester is not among the approvers without self_approval"
is "$(ojv 'sel(d["requests"], path="'$CUST'")[0]["refs"]')" '["refs/heads/bob-stale"]' \
    "json: the stale branch shows its own request"
is "$(ojv 'sel(d["requests"], path="'$HK'")[0]["refs"], sel(d["requests"], path="'$HK'")[0]["created_at"]')" \
    '[["refs/heads/hank-sync"], "2026-03-03T13:10:00Z"]' \
    "json: a branch that merged main in shows only its own request"

INVI='sel(d["requests"], path="'$INV'")[0]'
is "$(ojv "[$INVI['approvers'], $INVI['needed'], [(g['target'], g['status'], g['rule'], g['needed']) for g in $INVI['grants']]]")" \
    '[["bob@example.com", "carol@example.com", "dave@example.com"], 2, [["table:sales.orders", "pending", "policies/warehouse.yaml#1", 1], ["table:sales.invoices", "pending", "policies/warehouse.yaml#2", 2]]]' \
    "json: approvers are the union over grants, needed the largest"

ADMI='sel(d["requests"], path="'$ADM'")[0]'
is "$(ojv "[$ADMI['grants'][0]['status'], $ADMI['grants'][0]['rule'], $ADMI['approvers'], $ADMI['needed']]")" \
    '["denied", "policies/warehouse.yaml#3", [], 0]' "json: denied by rule 3, nobody to ask"

BADI='sel(d["requests"], path="'$BAD'")[0]'
is "$(ojv "[$BADI['valid'], $BADI['requester'], $BADI['grants'], $BADI['error']['file'], $BADI['error']['line'], $BADI['error']['column']]")" \
    "[false, null, [], \"$BAD\", 7, 5]" "json: invalid file with its location"
like "$(ojv "$BADI['error']['message']")" "colour" "json: the error names the unknown key"

# --- ages -----------------------------------------------------------------
exit_is 0 "inbox at another time" acc --now 2026-03-01T15:30:00Z --json inbox
is "$(ojv 'sel(d["requests"], path="'$Q4'")[0]["age"]')" 5h "age in hours from --now"
is "$(ojv 'd["now"]')" 2026-03-01T15:30:00Z "json: now is --now"

# --- reviewers ------------------------------------------------------------
exit_is 0 "reviewer bob" acc --now $NOW --json inbox --reviewer bob@example.com
is "$(ojv '[r["path"] for r in d["requests"]]')" "[\"$Q4\", \"$INV\", \"$OLD\", \"$PR\", \"$HK\"]" \
    "bob (data-owners): others' requests and his own under self_approval, not his own otherwise"
is "$(ojv 'd["reviewer"]')" bob@example.com "json: the reviewer"
exit_is 0 "reviewer carol" acc --now $NOW --json inbox --reviewer CAROL@Example.com
is "$(ojv '[r["path"] for r in d["requests"]]')" "[\"$Q4\", \"$CUST\", \"$INV\", \"$PR\", \"$HK\"]" \
    "carol (data-owners, any case): not her own request (no self_approval)"
exit_is 0 "reviewer dave" acc --now $NOW --json inbox --reviewer dave@example.com
is "$(ojv '[r["path"] for r in d["requests"]]')" "[\"$INV\"]" \
    "dave (security): only the grant a security step covers"
exit_is 0 "reviewer alice" acc --now $NOW inbox --reviewer alice@example.com
is "$OUT" "0 pending requests for alice@example.com" "alice may approve nothing, not even her own"
exit_is 0 "reviewer eve (text)" acc --now $NOW inbox --reviewer eve@example.com
unlike "$OUT" "$ADM|$BAD" "denied and invalid requests are nobody's to approve"

# --- no state, usage, errors ------------------------------------------------
[ ! -e "$STATE" ]; is $? 0 "no state database was created"
exit_is 64 "unknown option" acc inbox --bogus
exit_is 64 "--reviewer without a value" acc inbox --reviewer
exit_is 1 "not a repository" "$ACCORD" -C "$T/nowhere" inbox
like "$ERR" "cannot open git repository" "the error says why"

# A repository with no other ref has an empty inbox.
ar_init
exit_is 0 "empty inbox" acc --now $NOW --json inbox
is "$(ojv 'd["requests"]')" '[]' "empty inbox: no requests"

done_testing
