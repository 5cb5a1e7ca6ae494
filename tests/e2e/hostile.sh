#!/bin/sh
# Hostile request files (tests/data/hostile/: alias bomb, anchor, tag,
# duplicate key, deep nesting, bad UTF-8, two documents; plus a file over
# 1 MiB and a target outside `managed`) merged in one pull request beside
# a good request: the good one is granted, each bad one is reported at
# its file:line:column and grants nothing, and the run is not partial
# (exit 0) while `validate` fails.  An invalid edit of a granted request
# keeps its grant until the request is fixed or deleted.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init
t_pg
ar_init

H=$TOP/tests/data/hostile
[ -f "$H/anchor.yaml" ] || bail "no hostile corpus in $H"
GOOD=requests/good/dave.yaml
GOOD_REQ='requester: dave@example.com
reason: customer list
duration: 30d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT'

# Over 1 MiB, otherwise a valid request for alice.
{
	printf 'requester: alice@example.com\nreason: '
	head -c 1200000 /dev/zero | tr '\0' x
	printf '\nduration: 7d\ngrants:\n  - platform: warehouse\n    target: table:sales.orders\n    privilege: SELECT\n'
} >"$T/huge.yaml"
cat >"$T/unmanaged.yaml" <<'EOF'
requester: alice@example.com
reason: the ledger too
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT
  - platform: warehouse
    target: table:finance.ledger
    privilege: SELECT
EOF

ar_branch hostile
NAMES=""
for f in "$H"/*.yaml "$T/huge.yaml" "$T/unmanaged.yaml"; do
	n=$(basename "$f" .yaml)
	NAMES="$NAMES $n"
	ar_write "requests/hostile/$n.yaml" "@$f"
done
ar_write $GOOD "$GOOD_REQ"
ar_commit Mallory mallory@example.com 2026-03-01T10:00:00Z "Requests"
ar_merge hostile Bob bob@example.com 2026-03-01T10:00:00Z

# The line each error must point at, read off the files themselves.
first_line() { grep -n -- "$2" "$1" | grep -v '^[0-9]*:#' | head -n 1 | cut -d: -f1; }
ANCHOR_LINE=$(first_line "$H/anchor.yaml" '&')
TAG_LINE=$(first_line "$H/tag.yaml" '!')
DUP_LINE=$(awk -F: '/^[a-z_]+:/ { if (seen[$1]++) { print NR; exit } }' "$H/duplicate-key.yaml")
# The grant's list item ("- platform: ...") holding the unmanaged target.
UNMANAGED_LINE=$(awk '/^  - / { item = NR } /finance\.ledger/ { print item; exit }' "$T/unmanaged.yaml")
[ -n "$ANCHOR_LINE" ] && [ -n "$TAG_LINE" ] && [ -n "$DUP_LINE" ] && [ -n "$UNMANAGED_LINE" ] || bail "expected lines not found in the corpus"

NOW=2026-03-02T00:00:00Z
exit_is 0 "apply exits 0: invalid requests are reported, the run is not partial" acc --now $NOW --json apply
is "$(ojv '[(c["action"], c["account"], c["target"], c["outcome"]) for c in d["changes"]]')" \
    '[["grant", "dave", "table:sales.customers", "done"]]' "the good request alone is granted"
is "$(pg_select dave sales.customers)" t "PostgreSQL: the good request granted"
is "$(pg_select alice sales.orders)" f "PostgreSQL: no hostile file granted alice anything"
is "$(pg_member alice analyst_sales)" f "PostgreSQL: nor membership"

for n in $NAMES; do
	E="sel(d['errors'], file='requests/hostile/$n.yaml')"
	is "$(ojv "len($E)")" 1 "$n: one error for its file"
	is "$(ojv "len($E) == 1 and ${E}[0]['line'] >= 1 and ${E}[0]['column'] >= 1")" true "$n: line and column are set"
	is "$(ojv "len($E) == 1 and len(${E}[0]['message']) > 0")" true "$n: a message"
done
is "$(ojv "sel(d['errors'], file='requests/hostile/anchor.yaml')[0]['line']")" "$ANCHOR_LINE" "anchor: the anchor's line"
is "$(ojv "sel(d['errors'], file='requests/hostile/tag.yaml')[0]['line']")" "$TAG_LINE" "tag: the tag's line"
is "$(ojv "sel(d['errors'], file='requests/hostile/duplicate-key.yaml')[0]['line']")" "$DUP_LINE" \
    "duplicate-key: the second key's line"
is "$(ojv "sel(d['errors'], file='requests/hostile/unmanaged.yaml')[0]['line']")" "$UNMANAGED_LINE" \
    "unmanaged: the grant's line"
like "$(ojv "sel(d['errors'], file='requests/hostile/huge.yaml')[0]['message']")" "MiB|large|size|big|bytes" \
    "huge: the message says it is too big"
is "$(ojv "len(sel(d['errors'], file='$GOOD'))")" 0 "no error for the good request"

audit_json --action invalid
is "$(aud 'len(d["rows"])')" "$(echo $NAMES | wc -w)" "audit: one invalid row per bad file"
exit_is 0 "apply again" acc --now 2026-03-02T01:00:00Z --json apply
is "$(ojv 'len(d["errors"])')" "$(echo $NAMES | wc -w)" "every run reports the bad files"
audit_json --action invalid
is "$(aud 'len(d["rows"])')" "$(echo $NAMES | wc -w)" "audit: invalid recorded once per blob"

exit_is 1 "validate exits 1" acc validate
for n in anchor tag duplicate-key alias-bomb huge; do
	like "$OUT$ERR" "requests/hostile/$n\.yaml:[1-9][0-9]*:[1-9]" "validate: $n at file:line:column"
done
like "$OUT$ERR" "requests/hostile/anchor\.yaml:$ANCHOR_LINE:" "validate: the anchor's line"

# --- an invalid edit of a granted request keeps its grant ------------------------
ar_pr break-dave $GOOD "$(printf '%s\n' "$GOOD_REQ" | sed '2a\
colour: blue')" Bob bob@example.com 2026-03-03T10:00:00Z
exit_is 0 "apply with the granted request now invalid" acc --now 2026-03-03T12:00:00Z --json apply
is "$(ojv "[(e['file'], e['line']) for e in sel(d['errors'], file='$GOOD')]")" "[[\"$GOOD\", 3]]" \
    "the edited request is reported at the unknown key"
is "$(ojv 'len(sel(d["changes"], action="revoke"))')" 0 "nothing revoked"
is "$(pg_select dave sales.customers)" t "PostgreSQL: the grant it had is kept"
audit_json --action invalid
is "$(aud "len(sel(d['rows'], request='$GOOD'))")" 1 "audit: the invalid version recorded"

# Deleting it withdraws the grant.
ar_rm 2026-03-04T10:00:00Z $GOOD
exit_is 0 "apply after deleting it" acc --now 2026-03-04T12:00:00Z --json apply
is "$(ojv '[(c["action"], c["reason"], c["account"]) for c in d["changes"]]')" '[["revoke", "withdrawn", "dave"]]' \
    "the grant is withdrawn"
is "$(pg_select dave sales.customers)" f "PostgreSQL: revoked"

done_testing
