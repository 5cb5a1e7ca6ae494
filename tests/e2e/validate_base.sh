#!/bin/sh
# The pull-request check, `validate --base`, on real histories: a branch
# adding an allowed request (its rule as policies/FILE.yaml#N, the
# approvers with groups expanded and the requester left out, approvals
# needed, how long), one needing two approvers from two groups, a denied
# one (exit 1), a broken one (file:line:column, exit 1), an edit of a
# request already on main, a withdrawal, and unchanged requests left out
# -- even a broken one already on main.  --format github: annotations
# with escaped text and a Markdown summary in $GITHUB_STEP_SUMMARY.
# No platform is contacted and no state is written.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

POLICY='rules:
  - platform: warehouse
    targets: ["table:sales.orders", "role:analyst_*"]
    privileges: [SELECT, member]
    requesters: ["*@example.com"]
    approvers: ["group:data-owners"]
    min_approvals: 1
    default_duration: 30d
    max_duration: 90d
  - platform: warehouse
    targets: ["table:sales.customers"]
    requesters: ["*@example.com"]
    require:
      - {from: ["group:data-owners"], min: 1}
      - {from: ["group:security"], min: 1}
    max_duration: 14d
  - platform: "*"
    targets: ["role:*admin*"]
    deny: true'
ar_init "$(ar_default_config)" "$POLICY"

# On main already: one good request and one that does not parse (a later
# branch must not be blamed for it).
ar_pr old requests/bob/old.yaml 'requester: bob@example.com
reason: old
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Carol carol@example.com 2026-02-01T10:00:00Z
ar_push requests/old/broken.yaml 'requester: [not, an, email]' 2026-02-01T11:00:00Z
BASE=$(ar_head)

# --- a branch with one allowed request ------------------------------------------
ar_branch allowed
ar_write requests/carol/orders.yaml 'requester: carol@example.com
reason: "Q4 revenue: orders"
duration: 10d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
ar_commit Carol carol@example.com 2026-03-01T09:00:00Z "Request orders"

exit_is 0 "an allowed request awaiting approval passes" acc validate --base main
like "$OUT" 'requests/carol/orders.yaml \(requester carol@example.com\)' "names the request and requester"
like "$OUT" 'pending +warehouse SELECT on table:sales.orders for carol@example.com +rule policies/warehouse.yaml#1' "the grant with its rule as FILE#N"
like "$OUT" 'approvers: bob@example.com; needed: 1; duration: 10d \(at most 90d\)' "approvers expanded, requester left out, needed, duration with the cap"
unlike "$OUT" 'approvers:[^;]*carol@example.com' "the requester is not listed as an approver"
unlike "$OUT" 'requests/bob/old.yaml' "an unchanged request is not shown"
unlike "$OUT" 'broken.yaml' "a broken request already on main is not this change's fault"
like "$OUT" '^ok: 1 request checked, 0 denied, 0 invalid$' "summary line"

exit_is 0 "--ref names the branch, --base a commit" acc --ref allowed validate --base "$BASE"
like "$OUT" 'table:sales.orders' "same answer through --ref"

exit_is 1 "without --base every request counts, the broken one included" acc validate
like "$OUT" 'requests/old/broken.yaml:1:' "its error names file:line"

# --- two approvers from two groups --------------------------------------------
git -C "$AR" checkout -q main
ar_branch two
ar_write requests/erin/customers.yaml 'requester: erin@example.com
reason: customer audit
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT'
ar_commit Erin erin@example.com 2026-03-02T09:00:00Z "Request customers"
exit_is 0 "two approvers needed is still allowed" acc validate --base main
like "$OUT" 'rule policies/warehouse.yaml#2' "the second rule decides"
like "$OUT" 'approvers: bob@example.com, carol@example.com, dave@example.com; needed: 2; duration: 2w' "two groups expanded, two approvals needed, max_duration as the length"

# --- denied, broken, edited, withdrawn, all in one change ------------------------
git -C "$AR" checkout -q main
ar_branch mixed
ar_write requests/erin/admin.yaml 'requester: erin@example.com
reason: admin please
duration: 1d
grants:
  - platform: warehouse
    target: role:analyst_admin'
ar_write requests/erin/bad.yaml 'requester: erin@example.com
reason: typo
duraton: 1d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
ar_write requests/bob/old.yaml 'requester: bob@example.com
reason: old, extended
duration: 20d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT'
git -C "$AR" rm -q requests/old/broken.yaml
ar_commit Erin erin@example.com 2026-03-03T09:00:00Z "Mixed change"
exit_is 1 "a denied or invalid request fails the check" acc validate --base main
like "$OUT" 'DENIED +warehouse member on role:analyst_admin for erin@example.com:' "the denied grant"
like "$OUT" 'requests/erin/bad.yaml:3:1: .*duraton' "the unknown key with file:line:column"
like "$OUT" 'requests/bob/old.yaml \(requester bob@example.com\)' "an edited request is a new version: shown"
like "$OUT" 'duration: 20d' "with its new duration"
like "$OUT" 'requests/old/broken.yaml: withdrawn' "a deleted request is listed as withdrawn"
like "$OUT" '^FAIL: 3 requests checked, 1 denied, 1 invalid$' "summary counts"

# --- GitHub annotations and the step summary -----------------------------------
SUM=$T/summary.md
: >"$SUM"
OUT=$(GITHUB_STEP_SUMMARY=$SUM acc validate --base main --format github 2>"$T/err"); RC=$?
is "$RC" 1 "github format: same exit code"
like "$OUT" '^::error file=requests/erin/bad.yaml,line=3,col=1,title=accord%3A invalid::' "invalid: an error annotation at file, line, col"
like "$OUT" '^::error file=requests/erin/admin.yaml,line=[0-9]+,col=[0-9]+,title=accord%3A denied::' "denied: an error annotation on the grant"
like "$OUT" '^::notice file=requests/bob/old.yaml,line=[0-9]+,col=[0-9]+,title=accord%3A allowed::warehouse SELECT on table:sales.orders for bob@example.com: allowed by policies/warehouse.yaml#1; approvers: carol@example.com; approvals needed: 1; lasts 20d' "allowed: a notice with rule, approvers, needed, length"
like "$OUT" '^::notice title=accord%3A withdrawn::requests/old/broken.yaml$' "withdrawn: a notice"
unlike "$OUT" '^(ok|FAIL):' "no text summary line in github format"
like "$(cat "$SUM")" '^## accord: changes refused' "summary: a heading"
like "$(cat "$SUM")" '\| requests/erin/admin.yaml \| warehouse member on role:analyst_admin \| :x: denied \| policies/warehouse.yaml#3 \|' "summary: the denied row names the deny rule"
like "$(cat "$SUM")" '\| requests/bob/old.yaml \| warehouse SELECT on table:sales.orders \| :hourglass: awaiting approval \| policies/warehouse.yaml#1 \| carol@example.com \| 1 \| 20d \(at most 90d\) \|' "summary: the allowed row"
like "$(cat "$SUM")" 'requests/erin/bad.yaml:3:1' "summary: the error"
like "$(cat "$SUM")" '### Withdrawn' "summary: withdrawals"

# A message holding a newline, '%' or ':' cannot break an annotation.
git -C "$AR" checkout -q main
ar_branch escape
ar_write requests/erin/pct.yaml 'requester: erin@example.com
reason: "100%"
duration: 1d
grants:
  - platform: warehouse
    target: role:analyst_admin'
ar_commit Erin erin@example.com 2026-03-04T09:00:00Z "Escapes"
OUT=$(GITHUB_STEP_SUMMARY= acc validate --base main --format github 2>"$T/err"); RC=$?
is "$RC" 1 "denied again"
is "$(printf '%s\n' "$OUT" | grep -c '^::')" "$(printf '%s\n' "$OUT" | grep -c .)" "every output line is one workflow command"
unlike "$(cat "$T/err")" 'step summary' "an empty GITHUB_STEP_SUMMARY is ignored, not opened"

# A change that edits a policy is checked against the edited rules: the
# check says so, so reviewers look at the rule change itself.
git -C "$AR" checkout -q main
ar_branch loosen
ar_write policies/zz.yaml 'rules:
  - platform: warehouse
    targets: ["table:sales.invoices"]
    requesters: ["erin@example.com"]
    approvers: ["erin@example.com"]
    self_approval: true'
ar_write requests/erin/invoices.yaml 'requester: erin@example.com
reason: invoices
duration: 1d
grants:
  - platform: warehouse
    target: table:sales.invoices
    privilege: SELECT'
ar_commit Erin erin@example.com 2026-03-04T10:00:00Z "Loosen and use"
exit_is 0 "a request allowed only by the change's own policy passes" acc validate --base main
like "$OUT" '^note: this change adds policies/zz.yaml: its requests are checked against the changed rules' "the added policy is called out"
like "$OUT" 'rule policies/zz.yaml#1' "the request names the new rule"
: >"$SUM"
OUT=$(GITHUB_STEP_SUMMARY=$SUM acc validate --base main --format github 2>"$T/err")
like "$OUT" '^::warning file=policies/zz.yaml,line=1,col=1,title=accord%3A policy changed::this change adds policies/zz.yaml' "a warning annotation on the policy file"
like "$(cat "$SUM")" '### Rules changed by this change' "the summary lists rule changes"
exit_is 0 "an unchanged policy is not called out" acc --ref allowed validate --base main
unlike "$OUT" '^note:' "no note without a rule change"

# A config error is annotated at its place and fails.
git -C "$AR" checkout -q main
ar_branch badcfg
ar_write accord.yaml "$(ar_default_config | sed 's/^branch: main/branch: main\nbogus: 1/')"
ar_commit Admin admin@example.com 2026-03-05T09:00:00Z "Break config"
exit_is 1 "a config error fails the check" acc validate --base main --format github
like "$OUT" '^::error file=accord.yaml,line=3,col=1,title=accord%3A invalid::.*bogus' "and is annotated at accord.yaml:3:1"

git -C "$AR" checkout -q main
exit_is 1 "an unknown base is an error" acc validate --base no-such-ref
like "$ERR" 'no-such-ref' "naming it"
exit_is 64 "an unknown format is a usage error" acc validate --format yaml
[ ! -e "$STATE" ]
is $? 0 "validate wrote no state database"
done_testing
