#!/bin/sh
# Answers from the state and the audit log (DESIGN §12): access, who,
# check, identities, history and review over a real history: grants,
# a grant to a role that its members inherit, a policy denial, drift
# revoked, an outside grant kept on a protected account, a requester with
# no account, expiry and withdrawal.  history --at is asked before, during
# and after a grant's window, and on its exact edges.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
# analyst_bot: a PostgreSQL role that can log in, holding grants as itself.
AR_EXTRA_PROTECTED="$AR_EXTRA_PROTECTED, analyst_bot"
ar_init

ALICE=requests/alice/week.yaml
CAROL=requests/carol/analysts.yaml
ROLE=requests/dave/role-reads-customers.yaml
ADMIN=requests/alice/admin.yaml
ZOE=requests/zoe/orders.yaml
BOT=requests/dave/bot.yaml

# Nothing recorded yet: the answers cannot answer.
exit_is 65 "check before any run: 65" acc check alice@example.com warehouse table:sales.orders
like "$ERR" "no state database" "check before any run: says why"
: >"$STATE"
exit_is 65 "access on an empty state database: 65" acc access alice@example.com
like "$ERR" "no run yet" "an empty state database: says why"
rm -f "$STATE" "$STATE-wal" "$STATE-shm"
exit_is 64 "check with two arguments: usage" acc check alice@example.com warehouse
exit_is 64 "who with one argument: usage" acc who warehouse
exit_is 64 "history with neither person nor target: usage" acc history
exit_is 64 "history --at garbage: usage" acc history alice@example.com --at yesterday
exit_is 65 "check --json before any run: 65" acc --json check alice@example.com warehouse table:sales.orders
is "$(ojv 'd["allowed"]')" false "check --json with no state: still a document, not allowed"
like "$(ojv 'd["reason"]')" "no state database" "check --json with no state: the reason"
exit_is 64 "who --json with one argument: usage" acc --json who warehouse
is "$(ojv 'd["exit"]')" 64 "who --json usage: a document with the exit code"
exit_is 64 "history --json --at garbage" acc --json history alice@example.com --at yesterday
like "$(ojv 'd["error"]')" "not an RFC 3339 time" "history --json: the error in the document"

ar_pr week $ALICE 'requester: alice@example.com
reason: one week of orders
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T10:00:00Z
ALICE_COMMIT=$(ar_head)
ar_pr analysts $CAROL 'requester: carol@example.com
reason: join the analysts
duration: 30d
grants:
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com 2026-03-02T10:00:00Z
CAROL_COMMIT=$(ar_head)
ar_pr role $ROLE 'requester: dave@example.com
reason: analysts read customers
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT
    grantee: role:analyst_sales' Carol carol@example.com 2026-03-02T11:00:00Z
ar_pr admin $ADMIN 'requester: alice@example.com
reason: admin please
grants:
  - platform: warehouse
    target: role:analyst_admin' Bob bob@example.com 2026-03-02T11:10:00Z
ar_pr zoe $ZOE 'requester: zoe@example.com
reason: zoe has no database role
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-02T11:20:00Z

ar_pr bot $BOT 'requester: dave@example.com
reason: read what the bot reads
duration: 30d
grants:
  - platform: warehouse
    target: role:analyst_bot' Bob bob@example.com 2026-03-02T11:30:00Z

# Outside accord: drift on a managed table (revoked), and a protected
# service account's grant (kept, reported as outside).
pg_sql "CREATE ROLE frank LOGIN; CREATE ROLE analyst_bot LOGIN;
GRANT SELECT ON sales.invoices TO analyst_bot; GRANT SELECT ON sales.invoices TO bob; GRANT SELECT ON sales.orders TO etl_service" \
    >/dev/null 2>&1 || bail "outside grants"

RUN1=2026-03-02T12:00:00Z
exit_is 3 "first apply: zoe has no account, the rest is done" acc --now $RUN1 --json apply
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 4 "four grants done"
is "$(ojv 'sel(d["changes"], reason="drift")[0]["account"]')" bob "bob's invoices revoked as drift"

# --- access ---------------------------------------------------------------
exit_is 0 "access alice" acc --now $RUN1 --json access alice@example.com
is "$(ojv 'd["person"]')" alice@example.com "access: person"
is "$(ojv 'len(d["grants"])')" 1 "access alice: one grant"
is "$(ojv 'len(d["outside"])')" 0 "access alice: nothing outside"
G='d["grants"][0]'
is "$(ojv "$G[\"target\"] + ' ' + $G[\"privilege\"] + ' ' + $G[\"account\"]")" \
    "table:sales.orders SELECT alice" "access alice: target, privilege, account"
is "$(ojv "$G[\"request\"]")" "$ALICE" "access alice: request file"
is "$(ojv "$G[\"commit\"]")" "$ALICE_COMMIT" "access alice: approval commit is the merge"
is "$(ojv "$G[\"approved_at\"]")" 2026-03-01T10:00:00Z "access alice: approved_at"
is "$(ojv "','.join($G[\"approvers\"])")" bob@example.com "access alice: approvers"
is "$(ojv "$G[\"expires_at\"]")" 2026-03-08T10:00:00Z "access alice: expires_at"
is "$(ojv "$G[\"last_seen\"]")" $RUN1 "access alice: last_seen is the apply"
is "$(ojv "$G[\"source\"]")" accord "access alice: source accord"
is "$(ojv "$G[\"rule\"]")" "policies/warehouse.yaml#1" "access alice: the rule that allowed it"
is "$(ojv "$G[\"via\"]")" null "access alice: held directly"
exit_is 0 "access in upper case finds the same person" acc --json access ALICE@Example.com
is "$(ojv 'len(d["grants"])')" 1 "access is case-insensitive on the person"

exit_is 0 "access carol" acc --json access carol@example.com
is "$(ojv 'len(d["grants"])')" 2 "access carol: membership and what the role holds"
is "$(ojv 'sel(d["grants"], target="role:analyst_sales")[0]["request"]')" "$CAROL" \
    "access carol: the membership's request"
C='sel(d["grants"], target="table:sales.customers")[0]'
is "$(ojv "$C[\"via\"]")" role:analyst_sales "access carol: customers via the role"
is "$(ojv "$C[\"request\"] + ' ' + $C[\"commit\"]")" "$CAROL $CAROL_COMMIT" \
    "access carol: inherited access carries the membership's provenance"
is "$(ojv "$C[\"privilege\"]")" SELECT "access carol: the inherited privilege"
exit_is 0 "access carol as text" acc access carol@example.com
like "$OUT" "table:sales.customers.*via role:analyst_sales" "access text: via shown"
like "$OUT" "$CAROL, approved by bob@example.com" "access text: provenance line"
exit_is 0 "access carol as csv" acc access carol@example.com --format csv
is "$(printf '%s\n' "$OUT" | head -n 1)" \
    "platform,account,person,target,privilege,request,commit,approved_at,approvers,expires_at,last_seen,source,rule,via" \
    "access csv: header"
is "$(printf '%s\n' "$OUT" | grep -c '^warehouse,carol,')" 2 "access csv: two rows for carol"

exit_is 0 "access of somebody with nothing" acc --json access nobody@example.com
is "$(ojv 'len(d["grants"]) + len(d["outside"])')" 0 "access nobody: empty"

# --- who ------------------------------------------------------------------
exit_is 0 "who reads customers" acc --json who warehouse table:sales.customers
is "$(ojv 'd["platform"] + " " + d["target"]')" "warehouse table:sales.customers" "who: echoes the question"
is "$(ojv '" ".join(sorted(g["account"] for g in d["grants"]))')" "carol role:analyst_sales" \
    "who customers: the role and its member"
is "$(ojv 'sel(d["grants"], account="role:analyst_sales")[0]["request"]')" "$ROLE" \
    "who customers: the role's grant names its request"
is "$(ojv 'sel(d["grants"], account="carol")[0]["via"]')" role:analyst_sales "who customers: carol via the role"
is "$(ojv 'sel(d["grants"], account="carol")[0]["person"]')" carol@example.com "who customers: carol's person"
exit_is 0 "who with a glob" acc --json who warehouse 'table:sales.*'
is "$(ojv '" ".join(sorted(g["target"] + "=" + g["account"] for g in d["grants"]))')" \
    "table:sales.customers=carol table:sales.customers=role:analyst_sales table:sales.invoices=analyst_bot table:sales.invoices=dave table:sales.orders=alice table:sales.orders=etl_service" \
    "who table:sales.*: every holder; bob's revoked invoices are gone"
is "$(ojv 'sel(d["grants"], account="etl_service")[0]["source"]')" outside "who: the service account's grant is outside accord"
is "$(ojv 'sel(d["grants"], account="etl_service")[0]["request"]')" null "who: outside grants name no request"
exit_is 0 "who reads invoices" acc --json who warehouse table:sales.invoices
is "$(ojv '" ".join(sorted(g["account"] + "/" + g["source"] + "/" + str(g["via"]) for g in d["grants"]))')" \
    "analyst_bot/outside/None dave/accord/role:analyst_bot" \
    "who invoices: bob's drift gone; the login role and, through it, dave"
is "$(ojv 'sel(d["grants"], account="dave")[0]["request"]')" "$BOT" "who invoices: dave's access names his membership's request"
exit_is 0 "check dave invoices: through a login role" acc check dave@example.com warehouse table:sales.invoices SELECT
like "$OUT" "^yes: .*held by dave via role:analyst_bot through $BOT" "check: a login role's grants reach its members"
exit_is 0 "who as text" acc who warehouse table:sales.orders
like "$OUT" "2 holders" "who text: count"
like "$OUT" "outside accord: no request" "who text: the outside grant says so"

# --- check ----------------------------------------------------------------
exit_is 0 "check alice orders: yes" acc --now $RUN1 check alice@example.com warehouse table:sales.orders SELECT
like "$OUT" "^yes: .*through $ALICE approved by bob@example.com, until 2026-03-08T10:00:00Z" \
    "check yes: request, approver, until when"
exit_is 0 "check alice orders --json" acc --now $RUN1 --json check alice@example.com warehouse table:sales.orders
is "$(ojv 'd["allowed"]')" true "check --json: allowed"
is "$(ojv 'd["request"] + " " + d["expires_at"] + " " + d["rule"]')" \
    "$ALICE 2026-03-08T10:00:00Z policies/warehouse.yaml#1" "check --json: request, expiry, rule"
exit_is 1 "check alice orders INSERT: no" acc check alice@example.com warehouse table:sales.orders INSERT
like "$OUT" "^no: nobody asked" "check: another privilege was never asked for"
exit_is 1 "check alice admin: denied" acc --json check alice@example.com warehouse role:analyst_admin
is "$(ojv 'd["allowed"]')" false "check denied: not allowed"
like "$(ojv 'd["reason"]')" "policy denies .*denied by policies/warehouse.yaml#2 \($ADMIN\)" \
    "check denied: the rule and the request"
is "$(ojv 'd["rule"]')" "policies/warehouse.yaml#2" "check denied: rule field"
exit_is 1 "check bob invoices: revoked as drift" acc check bob@example.com warehouse table:sales.invoices SELECT
like "$OUT" "^no: .* was revoked at $RUN1 \(drift\)" "check drift: when and why"
exit_is 1 "check zoe: no account" acc check zoe@example.com warehouse table:sales.orders SELECT
like "$OUT" "^no: granting .* failed at $RUN1: .*no account" "check zoe: the failure says no account"
exit_is 1 "check dave orders: nobody asked" acc check dave@example.com warehouse table:sales.orders
like "$OUT" "^no: nobody asked" "check dave: nobody asked"
exit_is 0 "check carol customers: through the role" acc check carol@example.com warehouse table:sales.customers SELECT
like "$OUT" "held by carol via role:analyst_sales through $CAROL" "check: access through a role says so"
exit_is 0 "check etl_service: outside" acc check etl_service warehouse table:sales.orders
like "$OUT" "outside accord" "check: an outside grant says so"
exit_is 0 "check at a time past expiry before the run revokes" acc --now 2026-03-08T11:00:00Z check alice@example.com warehouse table:sales.orders
like "$OUT" "expired 2026-03-08T10:00:00Z \(the next apply revokes it\)" "check: expired but still held says so"

# --- identities -----------------------------------------------------------
exit_is 0 "identities" acc --json identities --platform warehouse
is "$(ojv 'sel(d["identities"], account="alice")[0]["person"]')" alice@example.com "identities: alice resolves"
is "$(ojv 'sel(d["identities"], account="alice")[0]["kind"]')" user "identities: alice is a user"
is "$(ojv 'sel(d["identities"], account="alice")[0]["last_seen"]')" $RUN1 "identities: last seen at the run"
is "$(ojv 'sel(d["identities"], account="analyst_sales")[0]["kind"]')" role "identities: roles too"
exit_is 0 "identities --unmatched" acc --json identities --unmatched
is "$(ojv '" ".join(sorted(a["account"] for a in d["accounts"]))')" "frank" \
    "unmatched accounts: only people-less users; protected and roles left out"
is "$(ojv '" ".join(p["person"] + "@" + str(p["platform"]) + ":" + p["source"] for p in d["people"])')" \
    "zoe@example.com@warehouse:requester" "unmatched people: zoe needs an account"
is "$(ojv 'd["people"][0]["request"]')" "$ZOE" "unmatched people: the request naming them"
# frank asks after the run: his account is his by accounts.match, even
# though the run that stored the identities did not know him yet.
ar_pr frank requests/frank/orders.yaml 'requester: frank@example.com
reason: new here
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-02T13:00:00Z
exit_is 0 "identities --unmatched after a new request" acc --json identities --unmatched
is "$(ojv 'len(d["accounts"])')" 0 "unmatched accounts: frank's account is now claimed by his request"
is "$(ojv '" ".join(p["person"] for p in d["people"])')" zoe@example.com "unmatched people: frank resolves, zoe still does not"
ar_rm 2026-03-02T13:30:00Z requests/frank/orders.yaml

# --- expiry and withdrawal ------------------------------------------------
RUN2=2026-03-09T00:00:00Z
exit_is 3 "second apply: alice's week ended" acc --now $RUN2 --json apply
is "$(ojv 'sel(d["changes"], action="revoke")[0]["reason"]')" expired "alice revoked: expired"
ar_rm 2026-03-10T10:00:00Z $CAROL
RUN3=2026-03-10T12:00:00Z
exit_is 3 "third apply: carol's request withdrawn" acc --now $RUN3 --json apply
is "$(ojv 'sel(d["changes"], action="revoke")[0]["reason"]')" withdrawn "carol revoked: withdrawn"

exit_is 0 "access alice after expiry" acc --json access alice@example.com
is "$(ojv 'len(d["grants"])')" 0 "access alice: nothing now"
exit_is 1 "check alice after expiry" acc check alice@example.com warehouse table:sales.orders SELECT
like "$OUT" "^no: .*was revoked at $RUN2 \(expired\), granted through $ALICE" "check after expiry: when and why"
exit_is 0 "who customers after withdrawal" acc --json who warehouse table:sales.customers
is "$(ojv '" ".join(g["account"] for g in d["grants"])')" role:analyst_sales \
    "who customers: carol no longer inherits"

# --- history --------------------------------------------------------------
h() { acc --json history "$@"; }
exit_is 0 "history alice before the grant" h alice@example.com --at 2026-03-01T09:00:00Z
is "$(ojv 'd["at"]')" 2026-03-01T09:00:00Z "history: echoes the instant"
is "$(ojv 'len(d["grants"])')" 0 "history alice before: nothing"
exit_is 0 "history alice one second before the grant row" h alice@example.com --at 2026-03-02T11:59:59Z
is "$(ojv 'len(d["grants"])')" 0 "history alice: approved but not yet granted is not access"
exit_is 0 "history alice at the grant" h alice@example.com --at $RUN1
is "$(ojv 'len(d["grants"])')" 1 "history alice at the grant's instant: held"
exit_is 0 "history alice during" h alice@example.com --at 2026-03-05T00:00:00Z
is "$(ojv 'len(d["grants"])')" 1 "history alice during: one grant"
W='d["grants"][0]'
is "$(ojv "$W[\"target\"] + ' ' + $W[\"from\"] + ' ' + $W[\"until\"] + ' ' + $W[\"end_reason\"]")" \
    "table:sales.orders $RUN1 $RUN2 expired" "history: the window runs from the grant row to the revoke row"
is "$(ojv "$W[\"request\"] + ' ' + ','.join($W[\"approvers\"]) + ' ' + $W[\"commit\"]")" \
    "$ALICE bob@example.com $ALICE_COMMIT" "history: provenance from the grant row"
exit_is 0 "history alice just before the revoke" h alice@example.com --at 2026-03-08T23:59:59Z
is "$(ojv 'len(d["grants"])')" 1 "history: expired by policy but not yet revoked was still access"
exit_is 0 "history alice at the revoke" h alice@example.com --at $RUN2
is "$(ojv 'len(d["grants"])')" 0 "history: the revoke's instant ends the window"
exit_is 0 "history alice after" h alice@example.com --at 2026-04-01T00:00:00Z
is "$(ojv 'len(d["grants"])')" 0 "history alice after: nothing"
exit_is 0 "who could read sales.* on 5 March" h --target 'table:sales.*' --at 2026-03-05T00:00:00Z
is "$(ojv '" ".join(sorted(g["target"] + "=" + g["account"] for g in d["grants"]))')" \
    "table:sales.customers=carol table:sales.customers=role:analyst_sales table:sales.orders=alice" \
    "history --target glob: the accord grants of that day, and carol through the role"
is "$(ojv 'sel(d["grants"], account="carol")[0]["via"] + " " + sel(d["grants"], account="carol")[0]["from"] + ".." + sel(d["grants"], account="carol")[0]["until"]')" \
    "role:analyst_sales $RUN1..$RUN3" "history --target: carol's inherited window ends with her membership"
exit_is 0 "history carol at 5 March" h carol@example.com --at 2026-03-05T00:00:00Z
is "$(ojv '" ".join(sorted(g["target"] + "=" + str(g["via"]) for g in d["grants"]))')" \
    "role:analyst_sales=None table:sales.customers=role:analyst_sales" \
    "history of a person at an instant follows the role"
exit_is 0 "history carol at 5 March, customers only" h carol@example.com --target table:sales.customers --at 2026-03-05T00:00:00Z
is "$(ojv '" ".join(g["target"] for g in d["grants"])')" table:sales.customers "history person --target: filtered after following the role"
exit_is 0 "history of the role membership" h --target role:analyst_sales --platform warehouse --at 2026-03-09T12:00:00Z
is "$(ojv 'len(d["grants"])')" 1 "history carol's membership still open on 9 March"
exit_is 0 "history of the membership after withdrawal" h --target role:analyst_sales --at $RUN3
is "$(ojv 'len(d["grants"])')" 0 "history: withdrawn at the third run"
exit_is 0 "history on another platform name finds nothing" h --target role:analyst_sales --platform lake --at 2026-03-09T12:00:00Z
is "$(ojv 'len(d["grants"])')" 0 "history --platform filters"
exit_is 0 "history of carol without --at: every window" h carol@example.com
is "$(ojv 'd["at"]')" null "history without --at: at is null"
is "$(ojv '" ".join(g["target"] + "@" + g["from"] + ".." + str(g["until"]) for g in d["grants"])')" \
    "role:analyst_sales@$RUN1..$RUN3" "history carol: one window, granted at the first run, withdrawn at the third"
is "$(ojv 'd["grants"][0]["end_reason"]')" withdrawn "history carol: ended withdrawn"
exit_is 0 "history as text" acc history alice@example.com --at 2026-03-05T00:00:00Z
like "$OUT" "from $RUN1 until $RUN2 expired" "history text: the window"
exit_is 0 "history as csv" acc history alice@example.com --at 2026-03-05T00:00:00Z --format csv
like "$(printf '%s\n' "$OUT" | head -n 1)" ",from,until,end_reason$" "history csv: window columns"
is "$(printf '%s\n' "$OUT" | sed -n 2p | awk -F, '{print $NF}')" expired "history csv: end reason"

# --- review ---------------------------------------------------------------
exit_is 0 "review csv" acc --now 2026-03-12T12:00:00Z review --format csv
is "$(printf '%s\n' "$OUT" | head -n 1)" \
    "platform,account,person,target,privilege,request,requester,approvers,approved_at,age_days,expires_at,last_seen" \
    "review csv: the header of §12"
is "$(printf '%s\n' "$OUT" | sed 1d | wc -l | tr -d ' ')" 2 "review: two active grants accord made"
is "$(printf '%s\n' "$OUT" | grep '^warehouse,role:analyst_sales,')" \
    "warehouse,role:analyst_sales,,table:sales.customers,SELECT,$ROLE,dave@example.com,carol@example.com,2026-03-02T11:00:00Z,10,2026-04-01T11:00:00Z,$RUN3" \
    "review: the row, age in days from approval"
exit_is 0 "review json" acc --now 2026-03-12T12:00:00Z --json review --platform warehouse
is "$(ojv 'sel(d["grants"], account="role:analyst_sales")[0]["age_days"]')" 10 "review json: age_days"
is "$(ojv 'sel(d["grants"], account="role:analyst_sales")[0]["requester"]')" dave@example.com "review json: the requester of a grant to a role"
exit_is 0 "review of another platform" acc --json review --platform lake
is "$(ojv 'len(d["grants"])')" 0 "review --platform filters"

done_testing
