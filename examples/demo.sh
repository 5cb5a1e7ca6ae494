#!/bin/sh
# accord demo: turn examples/access-repo into a real git history (an
# admin's first commit, then one feature branch per request merged with
# --no-ff by an approver, fixed names and dates, and one pull request left
# open), start a throwaway PostgreSQL cluster with the roles and tables the
# example needs plus one hand-made grant that nobody requested, and walk
# through validate, the pull-request check, the inbox, plan, apply, audit,
# an expiry a few days later, and the audit chain check.
# Every accord call passes --now so the output is the same on every run.
#
# usage: sh examples/demo.sh BINARY      (make demo)

if [ $# -ne 1 ]; then
	echo "usage: sh examples/demo.sh BINARY" >&2
	exit 64
fi
case $1 in
/*) ACCORD=$1 ;;
*) ACCORD=$(pwd)/$1 ;;
esac
if [ ! -x "$ACCORD" ]; then
	echo "demo: $ACCORD is not an executable (run make first)" >&2
	exit 1
fi
TOP=$(cd "$(dirname "$0")/.." && pwd)
EXAMPLE=$TOP/examples/access-repo

export LC_ALL=C TZ=UTC
unset ACCORD_STATE WAREHOUSE_DSN
# The example history must not depend on the caller's git configuration.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

NOW=2026-01-10T12:00:00Z	# every request approved, grace's not yet expired
LATER=2026-01-13T12:00:00Z	# grace's 3-day grant has run out

tmp=$(mktemp -d /tmp/accord-demo.XXXXXX) || exit 1
repo=$tmp/access
db=$tmp/accord.db
pgdir=$tmp/pg
pg_started=0

cleanup() {
	if [ "$pg_started" = 1 ]; then
		pg_stop "$pgdir" >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
	echo "demo: $*" >&2
	exit 1
}

header() {
	echo
	echo "==> $*"
}

# step EXPECTED-EXIT TITLE COMMAND...: show, run, and stop the demo when
# the command's exit status is not the one this step expects.
step() {
	want=$1
	title=$2
	shift 2
	header "$title"
	echo "\$ $*"
	"$@"
	rc=$?
	[ "$rc" = "$want" ] || die "step failed (exit $rc, expected $want): $title"
}

accord() {
	"$ACCORD" -C "$repo" --state "$db" "$@"
}

# as NAME EMAIL DATE COMMAND...: run a git command as one person at one
# fixed time, both as author and committer.
as() {
	_n=$1 _e=$2 _d=$3
	shift 3
	GIT_AUTHOR_NAME=$_n GIT_AUTHOR_EMAIL=$_e GIT_AUTHOR_DATE=$_d \
	GIT_COMMITTER_NAME=$_n GIT_COMMITTER_EMAIL=$_e GIT_COMMITTER_DATE=$_d \
	    git -C "$repo" "$@"
}

# request FILE REQUESTER EMAIL DATE APPROVER EMAIL DATE [TRAILER]: a pull
# request that adds FILE, merged by the approver (the merge author is the
# approval, DESIGN §3), with an optional Approved-by trailer.
request() {
	file=$1
	branch=request/$(basename "$(dirname "$file")")
	git -C "$repo" checkout -q -b "$branch" main || return 1
	mkdir -p "$repo/$(dirname "$file")" &&
	cp "$EXAMPLE/$file" "$repo/$file" &&
	git -C "$repo" add "$file" &&
	as "$2" "$3" "$4" commit -q -m "Request access: $file" || return 1
	git -C "$repo" checkout -q main || return 1
	if [ -n "${8:-}" ]; then
		as "$5" "$6" "$7" merge -q --no-ff -m "Merge branch '$branch'" -m "$8" "$branch"
	else
		as "$5" "$6" "$7" merge -q --no-ff -m "Merge branch '$branch'" "$branch"
	fi
}

build_history() {
	git init -q -b main "$repo" || return 1
	git -C "$repo" config commit.gpgsign false
	cp "$EXAMPLE/accord.yaml" "$EXAMPLE/README.md" "$repo/" &&
	cp -R "$EXAMPLE/policies" "$repo/" &&
	git -C "$repo" add accord.yaml README.md policies &&
	as "Ada Admin" admin@example.com "2026-01-05 09:00:00 +0000" \
	    commit -q -m "Access repository: warehouse platform and policies" || return 1
	request requests/alice/q4-revenue.yaml \
	    "Alice Archer" alice@example.com "2026-01-06 09:30:00 +0000" \
	    "Bob Baker" bob@example.com "2026-01-06 10:00:00 +0000" || return 1
	request requests/erin/sales-analyst.yaml \
	    "Erin Evans" erin@example.com "2026-01-07 08:15:00 +0000" \
	    "Bob Baker" bob@example.com "2026-01-07 09:00:00 +0000" || return 1
	# analyst_finance needs a data owner and security: Carol merges, Dave's
	# approval travels as a trailer in the merge message.
	request requests/frank/finance.yaml \
	    "Frank Fischer" frank@example.com "2026-01-08 11:00:00 +0000" \
	    "Carol Chen" carol@example.com "2026-01-08 14:00:00 +0000" \
	    "Approved-by: Dave Diaz <dave@example.com>" || return 1
	request requests/grace/customer-check.yaml \
	    "Grace Gomez" grace@example.com "2026-01-09 10:00:00 +0000" \
	    "Carol Chen" carol@example.com "2026-01-09 12:00:00 +0000" || return 1
	# An open pull request, not merged: it waits in the inbox.
	git -C "$repo" checkout -q -b request/henry main || return 1
	mkdir -p "$repo/requests/henry" &&
	printf '%s\n' "requester: henry@example.com" \
	    "reason: Refund analysis for the Q1 close" "duration: 14d" "grants:" \
	    "  - platform: warehouse" "    target: table:sales.refunds" \
	    "    privilege: SELECT" >"$repo/requests/henry/refunds.yaml" &&
	git -C "$repo" add requests/henry &&
	as "Henry Hill" henry@example.com "2026-01-09 15:00:00 +0000" \
	    commit -q -m "Request access: requests/henry/refunds.yaml" || return 1
	git -C "$repo" checkout -q main
}

# The cluster: requesters' login roles, the analyst roles, the sales
# schema and tables, a protected service account with its own grants, and
# one grant made by hand outside accord (mallory on sales.orders: drift).
# mallory's grant on public.audit_log is outside `managed` and stays.
setup_sql() {
	cat <<'EOF'
CREATE ROLE alice LOGIN;
CREATE ROLE erin LOGIN;
CREATE ROLE frank LOGIN;
CREATE ROLE grace LOGIN;
CREATE ROLE mallory LOGIN;
CREATE ROLE etl_service LOGIN;
CREATE ROLE analyst_sales NOLOGIN;
CREATE ROLE analyst_finance NOLOGIN;
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id int PRIMARY KEY, customer_id int, amount numeric);
CREATE TABLE sales.customers (id int PRIMARY KEY, name text);
CREATE TABLE sales.refunds (id int PRIMARY KEY, order_id int, amount numeric);
CREATE TABLE public.audit_log (id int, note text);
GRANT USAGE ON SCHEMA sales TO etl_service;
GRANT SELECT, INSERT ON sales.orders TO etl_service;
GRANT SELECT ON sales.orders TO mallory;
GRANT SELECT ON public.audit_log TO mallory;
EOF
}

# What the server really holds on the sales schema and the analyst roles.
grants_sql() {
	cat <<'EOF'
SELECT grantee, object, privilege FROM (
  SELECT grantee::text, 'table ' || table_schema || '.' || table_name AS object,
         privilege_type::text AS privilege
    FROM information_schema.role_table_grants
   WHERE grantee <> 'postgres' AND table_schema IN ('sales', 'public')
  UNION ALL
  SELECT a.grantee::regrole::text, 'schema ' || n.nspname, a.privilege_type
    FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
   WHERE n.nspname = 'sales' AND a.grantee <> n.nspowner
  UNION ALL
  SELECT m.rolname::text, 'role ' || r.rolname, 'MEMBER'
    FROM pg_auth_members am
    JOIN pg_roles r ON r.oid = am.roleid
    JOIN pg_roles m ON m.oid = am.member
   WHERE r.rolname LIKE 'analyst%'
) g ORDER BY 1, 2, 3;
EOF
}

psql_q() {
	psql "$PG_DSN" -X -q -v ON_ERROR_STOP=1 "$@"
}

header "building the access repository's history in $repo"
build_history || die "could not build the git history"
git -C "$repo" log --graph --date=iso-strict \
    --format='%h %an <%ae> %ad %s' main || die "git log failed"

header "starting a throwaway PostgreSQL cluster"
. "$TOP/tests/lib/pg.sh" || die "cannot load tests/lib/pg.sh"
pg_started=1
pg_start "$pgdir" || die "pg_start failed"
[ -n "${PG_DSN:-}" ] || die "pg_start did not export PG_DSN"
setup_sql | psql_q >/dev/null || die "could not create the example's roles and tables"
WAREHOUSE_DSN=$PG_DSN
export WAREHOUSE_DSN
echo "roles, schema sales, tables orders/customers/refunds created;"
echo "hand-made drift: GRANT SELECT ON sales.orders TO mallory"
echo "(each accord below runs as: $ACCORD -C $repo --state $db ...)"

step 0 "accord validate   (config, policies and every request on main)" \
    accord --now "$NOW" validate
step 0 "accord validate --base main   (the pull-request check of henry's open request)" \
    accord --now "$NOW" --ref request/henry validate --base main
step 0 "accord inbox   (requests waiting for approval, and who may give it)" \
    accord --now "$NOW" inbox
step 0 "accord plan   (what apply would do at $NOW)" \
    accord --now "$NOW" plan
step 0 "accord apply   (grant the approved requests, revoke mallory's drift)" \
    accord --now "$NOW" apply
step 0 "accord plan --detailed-exitcode   (nothing left to do: exit 0)" \
    accord --now "$NOW" plan --detailed-exitcode
step 0 "accord audit --format table" \
    accord audit --format table
header "the grants PostgreSQL really holds now (etl_service is protected, public.audit_log unmanaged)"
grants_sql | psql_q || die "grant query failed"
step 2 "accord plan --detailed-exitcode at $LATER   (grace's 3-day grant expired: exit 2)" \
    accord --now "$LATER" plan --detailed-exitcode
step 0 "accord apply at $LATER   (revoke the expired grant)" \
    accord --now "$LATER" apply
header "the grants PostgreSQL really holds at $LATER"
grants_sql | psql_q || die "grant query failed"
step 0 "accord audit --action revoke --format table   (drift and expiry, with reasons)" \
    accord audit --action revoke --format table
step 0 "accord audit verify   (the hash chain over every audit row)" \
    accord audit verify
step 0 "accord access alice@example.com   (what alice holds now, and why)" \
    accord access alice@example.com
step 0 "accord who warehouse 'table:sales.*'   (every holder of the sales tables)" \
    accord who warehouse 'table:sales.*'
step 0 "accord check alice@example.com warehouse table:sales.orders SELECT   (yes: exit 0)" \
    accord --now "$LATER" check alice@example.com warehouse table:sales.orders SELECT
step 1 "accord check grace@example.com warehouse table:sales.customers SELECT   (no more: exit 1)" \
    accord --now "$LATER" check grace@example.com warehouse table:sales.customers SELECT
step 0 "accord explain requests/grace/customer-check.yaml   (each grant: rule, approvers, expiry, next step)" \
    accord --now "$LATER" explain requests/grace/customer-check.yaml
step 0 "accord history --target table:sales.customers --at $NOW   (who could read it then)" \
    accord history --target table:sales.customers --at "$NOW"
step 0 "accord review --format csv   (the access review export)" \
    accord --now "$LATER" review --format csv
report=$(dirname "$ACCORD")/demo-report.html
step 0 "accord report --html $report   (one self-contained page; kept)" \
    accord --now "$LATER" report --html "$report"

echo
echo "demo: done"
