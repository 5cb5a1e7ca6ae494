#!/bin/sh
# report --html: a real history against PostgreSQL (a grant revoked at
# expiry, one withdrawn, one expiring soon, drift revoked, a protected
# account's grant kept outside accord, a hostile role and table name
# holding <script>, & and quotes, and a managed role named with <b>, &
# and both quotes that a request grants and that expires, so that a
# hostile name is part of an access window), then one self-contained HTML
# file: its sections and names, no reference other than data: and #, no
# script, every hostile string escaped, in the tables and in the
# timeline SVG's text and titles; written atomically, with the mode the
# umask allows (0644 under 022, 0600 under 077).  --json prints a
# document on every exit code.  Then headless Chromium opens it
# (tests/lib/browser.py, wrapped to also read the timeline's texts and
# titles and the page's element names): no console error, the timeline
# drawn with one bar per access window, the hostile names shown as text
# and no element made from them, no resource fetched; a PNG screenshot
# is kept as an artefact.  A deliberately broken page proves the console
# check can fail.
. "${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
t_init

ARTS=${ARTEFACTS:-$TOP/build/artefacts}
mkdir -p "$ARTS" || bail "mkdir $ARTS"
# tests/lib/browser.py with more read from the page: the timeline SVG's
# <text> and <title> contents as the DOM holds them, and the names of the
# elements in the SVG and in the whole page.
cat >"$T/browser-tl.py" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv.pop(1))
import browser
EXTRA = """return {
  tl_text: svg ? Array.from(svg.querySelectorAll('text')).map(e => e.textContent) : [],
  tl_titles: svg ? Array.from(svg.querySelectorAll('title')).map(e => e.textContent) : [],
  tl_tags: svg ? Array.from(new Set(Array.from(svg.querySelectorAll('*')).map(e => e.localName))).sort() : [],
  tags: Array.from(new Set(Array.from(document.querySelectorAll('*')).map(e => e.localName))).sort(),"""
if browser.PAGE_SCRIPT.count("return {") != 1:
    sys.exit("browser-tl.py: browser.PAGE_SCRIPT changed; update this wrapper")
browser.PAGE_SCRIPT = browser.PAGE_SCRIPT.replace("return {", EXTRA)
sys.exit(browser.main())
PYEOF
BROWSER="$PY $T/browser-tl.py $TOP/tests/lib"
# acc_umask MASK ARGS...: acc in a subshell with that umask.
acc_umask() { (u=$1; shift; umask "$u" && acc "$@"); }

# --- before any state -----------------------------------------------------
exit_is 65 "no state database: exit 65" acc --now 2026-04-15T12:00:00Z report --html "$T/r.html"
like "$ERR" "no state database" "no state database: says so"
is "$(ls "$T"/r.html "$T"/.r.html.* 2>/dev/null)" "" "no state database: no file written"
exit_is 64 "report without --html: usage" acc report
exit_is 64 "report --days 0: usage" acc report --html "$T/r.html" --days 0
exit_is 64 "report --days x: usage" acc report --html "$T/r.html" --days 12x
exit_is 64 "report with an unknown option: usage" acc report --html "$T/r.html" --pdf x
# --json prints its document on every exit code (DESIGN §13).
exit_is 65 "no state database --json: exit 65" acc --now 2026-04-15T12:00:00Z --json report --html "$T/r.html"
is "$(ojv '[d["html"], d["days"], d["now"]]')" "[\"$T/r.html\", 90, \"2026-04-15T12:00:00Z\"]" \
    "no state --json: a document with what was asked for"
like "$(ojv 'd["error"]')" "^no state database at " "no state --json: the error"
exit_is 64 "usage --json: exit 64" acc --json report
like "$(ojv 'd["error"]')" '^usage: accord report --html FILE \[--days N\]$' "usage --json: the usage as the error"
exit_is 64 "--days x --json: exit 64" acc --json report --html "$T/r.html" --days 12x
like "$(ojv 'd["error"]')" "--days: '12x' is not a number of days" "--days x --json: the error"

t_pg
ar_init

# Hostile names, as a platform could hand them to accord: a login role and
# a table in the managed schema, created with quoted identifiers.
pg_sql "CREATE ROLE \"x<script>alert(1)</script>&\"\"'\" LOGIN;
CREATE TABLE sales.\"<b>&q\" (id int);
CREATE ROLE \"analyst_<b>&\"\"x'\" NOLOGIN;" >"$T/.hostile" 2>&1 || { cat "$T/.hostile"; bail "hostile names"; }
is "$(pg_q "SELECT count(*) FROM pg_roles WHERE rolname = 'x<script>alert(1)</script>&\"'''")" 1 \
    "PostgreSQL: the hostile role exists"
# A managed role (role:analyst_* in accord.yaml and in the policy) named
# with <b>, & and both quotes: accord grants it, so it is drawn.
HROLE_SQL="analyst_<b>&\"x''"
is "$(pg_q "SELECT count(*) FROM pg_roles WHERE rolname = '$HROLE_SQL'")" 1 \
    "PostgreSQL: the hostile analyst role exists"

ALICE=requests/alice/week.yaml
CAROL=requests/carol/analysts.yaml
DAVE=requests/dave/customers.yaml
DAVE_H=requests/dave/hostile.yaml
ALICE2=requests/alice/analysts.yaml

ar_pr week $ALICE 'requester: alice@example.com
reason: one week of orders
duration: 7d
grants:
  - platform: warehouse
    target: table:sales.orders
    privilege: SELECT' Bob bob@example.com 2026-03-01T10:00:00Z
ar_pr analysts $CAROL 'requester: carol@example.com
reason: join the analysts
duration: 30d
grants:
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com 2026-03-02T10:00:00Z
exit_is 0 "apply: alice and carol granted" acc --now 2026-03-02T12:00:00Z --json apply
is "$(ojv 'len(sel(d["changes"], action="grant", outcome="done"))')" 2 "two grants done"

# Withdrawn: the request is deleted.
ar_rm 2026-03-03T10:00:00Z $CAROL
exit_is 0 "apply: carol withdrawn" acc --now 2026-03-03T12:00:00Z --json apply
is "$(ojv '[(c["reason"], c["account"]) for c in d["changes"]]')" '[["withdrawn", "carol"]]' "carol's grant withdrawn"

# Dave: 45 days from 2026-03-04, so it expires within 14 days of the report.
ar_pr customers $DAVE 'requester: dave@example.com
reason: customer list
duration: 45d
grants:
  - platform: warehouse
    target: table:sales.customers
    privilege: SELECT' Carol carol@example.com 2026-03-04T10:00:00Z
# Dave: three days in the hostile analyst role, over before the last 30
# days.
ar_pr hostile $DAVE_H 'requester: dave@example.com
reason: a role with a hostile name
duration: 3d
grants:
  - platform: warehouse
    target: "role:analyst_<b>&\"x'"'"'"' Bob bob@example.com 2026-03-04T11:00:00Z

# Outside accord: drift on managed targets (to the hostile role and to bob)
# and a protected service account's grant on the hostile table (kept).
pg_sql "GRANT SELECT ON sales.orders TO \"x<script>alert(1)</script>&\"\"'\";
GRANT analyst_sales TO bob;
GRANT SELECT ON sales.\"<b>&q\" TO etl_service;" >"$T/.drift" 2>&1 || { cat "$T/.drift"; bail "hand grants"; }
exit_is 0 "apply: dave granted, drift revoked" acc --now 2026-03-05T12:00:00Z --json apply
is "$(ojv 'sorted((c["action"], c["reason"], c["account"], c["target"]) for c in d["changes"] if c["account"] in ("dave", "bob"))')" \
    '[["grant", "request", "dave", "role:analyst_<b>&\"x'"'"'"], ["grant", "request", "dave", "table:sales.customers"], ["revoke", "drift", "bob", "role:analyst_sales"]]' \
    "dave granted the customers and the hostile role, bob revoked as drift"
is "$(pg_member dave "$HROLE_SQL")" t "PostgreSQL: dave is a member of the hostile role"
is "$(ojv 'len(sel(d["changes"], action="revoke", reason="drift", outcome="done", account="x<script>alert(1)</script>&\"" + chr(39)))')" 1 \
    "the hostile role's grant revoked as drift"
is "$(ojv 'len(d["changes"])')" 4 "four changes in all"
is "$(pg_q "SELECT has_table_privilege('x<script>alert(1)</script>&\"''', 'sales.orders', 'SELECT')")" f \
    "PostgreSQL: the hostile role's drift revoked"
is "$(pg_q "SELECT has_table_privilege('etl_service', 'sales.\"<b>&q\"', 'SELECT')")" t \
    "PostgreSQL: the protected account keeps its grant"

# Expiry of alice's week.
exit_is 0 "apply at alice's expiry" acc --now 2026-03-08T10:00:00Z --json apply
is "$(ojv 'sorted((c["reason"], c["account"], c["target"][:13]) for c in d["changes"])')" \
    '[["expired", "alice", "table:sales.o"], ["expired", "dave", "role:analyst_"]]' "alice's grant and dave's hostile role expired"
is "$(pg_member dave "$HROLE_SQL")" f "PostgreSQL: dave's membership revoked"

ar_pr alice-analysts $ALICE2 'requester: alice@example.com
reason: analyst work
duration: 60d
grants:
  - platform: warehouse
    target: role:analyst_sales' Bob bob@example.com 2026-04-01T10:00:00Z
exit_is 0 "apply: alice joins the analysts" acc --now 2026-04-01T12:00:00Z apply
exit_is 0 "last apply" acc --now 2026-04-15T11:00:00Z apply
LAST_COMMIT=$(ar_head)

# --- the report -------------------------------------------------------------
NOW=2026-04-15T12:00:00Z
H=$T/out/report.html
mkdir -p "$T/out"
t0=$(t_ms)
exit_is 0 "report --html under umask 022" acc_umask 022 --now $NOW --json report --html "$H"
diag "report took $(($(t_ms) - t0)) ms"
is "$(ojv 'd["error"]')" null "json: error null"
is "$(ojv 'd["html"]')" "$H" "json: the file"
is "$(ojv 'd["days"]')" 90 "json: 90 days by default"
is "$(ojv 'd["active"]')" 2 "json: two active grants (dave, alice's analysts)"
is "$(ojv 'd["expiring"]')" 1 "json: one expires within 14 days (dave)"
is "$(ojv 'd["windows"]')" 5 "json: five access windows in the period"
like "$(ojv 'd["outside"]')" '^[1-9][0-9]*$' "json: grants outside accord counted"
is "$(stat -c %a "$H")" 644 "umask 022: the file is 0644"
is "$(ls -A "$T/out")" "report.html" "no temporary file left beside it"
mkdir -p "$T/private"
exit_is 0 "report --html under umask 077" acc_umask 077 --now $NOW report --html "$T/private/report.html"
is "$(stat -c %a "$T/private/report.html")" 600 "umask 077: the file is 0600, as private as the state database"
exit_is 0 "report --html under umask 027" acc_umask 027 --now $NOW report --html "$T/private/report.html"
is "$(stat -c %a "$T/private/report.html")" 640 "umask 027, replacing a report: 0640"
is "$(ls -A "$T/private")" "report.html" "no temporary file left in the private directory"
HTML=$(cat "$H")
cp "$H" "$ARTS/report.html"

for s in summary timeline expiries drift events; do
	like "$HTML" "<section id=\"$s\">" "section $s"
done
like "$HTML" '<svg id="timeline-svg"' "the timeline is inline SVG"
is "$(grep -o 'class="bar w-[a-z]*"' "$H" | sort | uniq -c | awk '{print $2 $3 "=" $1}' | tr '\n' ' ')" \
    'class="barw-expired"=2 class="barw-open"=2 class="barw-withdrawn"=1 ' \
    "timeline: bars by how they ended (2 open, 2 expired, 1 withdrawn)"
for p in alice@example.com carol@example.com dave@example.com table:sales.orders \
    table:sales.customers role:analyst_sales; do
	like "$HTML" "$p" "names $p"
done
like "$HTML" '2026-04-18T10:00:00Z' "pending expiry: dave's expiry time"
like "$HTML" "$LAST_COMMIT" "summary: the last run's commit"
like "$HTML" 'Last run: <strong>#[0-9]+</strong> apply at <span class="t">2026-04-15T11:00:00Z' \
    "summary: the last run's time"
like "$HTML" 'expiring within 14 days' "summary: expiring within 14 days"
like "$HTML" 'Revoked as drift in the last 90 days' "drift: revokes in the period"
like "$HTML" '>etl_service<' "drift: the protected account's grant outside accord"

# No reference leaves the file: src/href only "#" or data:, url() only data:.
is "$(grep -oiE '(src|href)[[:space:]]*=[[:space:]]*("[^"]*"|'"'"'[^'"'"']*'"'"'|[^[:space:]>]+)' "$H" |
    grep -viE '=[[:space:]]*["'"'"']?(#|data:)' | head -n 3)" "" "no src or href other than # and data:"
is "$(grep -oiE 'url\([^)]*' "$H" | grep -viE 'url\([[:space:]]*["'"'"']?data:' | head -n 3)" "" \
    "no url() other than data:"
is "$(grep -oiE 'href="#[a-z]+"' "$H" | wc -l | tr -d ' ')" 5 "the section links are the only hrefs"
unlike "$HTML" '<script' "no script element"
unlike "$HTML" '<b>&q' "the hostile table name never appears raw"
unlike "$HTML" '<script>alert' "the hostile role name never appears raw"
like "$HTML" 'x&lt;script&gt;alert\(1\)&lt;/script&gt;&amp;&quot;&#39;' "the hostile role name is escaped"
like "$HTML" 'table:sales\.&lt;b&gt;&amp;q' "the hostile table name is escaped"
# The hostile role's window in the timeline: the row's <title> and label
# and the bar's <title>, each escaped; the name never raw anywhere.
TL=$(sed -n '/<svg id="timeline-svg"/,/<\/svg>/p' "$H")
HROLE_E='analyst_&lt;b&gt;&amp;&quot;x&#39;'
unlike "$HTML" 'analyst_<b>' "the hostile analyst role never appears raw"
like "$TL" "<g class=\"row\"><title>dave@example\\.com .* warehouse role:$HROLE_E</title>" \
    "timeline: the row's <title> names the hostile role, escaped"
like "$TL" "<text class=\"tgt\" [^>]*>warehouse .* role:$HROLE_E</text>" \
    "timeline: the row's label names the hostile role, escaped"
like "$TL" "<rect class=\"bar w-expired\" [^>]*><title>member on role:$HROLE_E \\(dave\\): 2026-03-05T12:00:00Z .* 2026-03-08T10:00:00Z, expired; request $DAVE_H</title></rect>" \
    "timeline: the window's bar and its <title>, escaped"

# Failures leave nothing behind.
exit_is 1 "report into a missing directory: exit 1" acc --now $NOW report --html "$T/missing/r.html"
like "$ERR" "report: $T/missing/r.html: No such file or directory" "missing directory: the message names the file"
: >"$T/empty.db"
exit_is 65 "a state database with no run: exit 65" "$ACCORD" -C "$AR" --state "$T/empty.db" --now $NOW report --html "$T/out/empty.html"
like "$ERR" "holds no run yet" "no run: says so"
is "$(ls -A "$T/out")" "report.html" "no file written for a failed report"

# A shorter period: only the windows that overlap it.
exit_is 0 "report --days 30" acc --now $NOW --json report --html "$T/out/30.html" --days 30
is "$(ojv 'd["windows"]')" 2 "30 days: only the two open windows"
unlike "$(sed -n '/<svg id="timeline-svg"/,/<\/svg>/p' "$T/out/30.html")" 'analyst_&lt;b' \
    "30 days: the hostile role's window, over before, is not drawn"
like "$(cat "$T/out/30.html")" 'last 30 days' "30 days: said on the page"

# The newest 1,000 audit rows, and a line for the rest: 1,200 rows added
# to a copy of the state (the copy's hash chain is no longer intact, which
# the report does not need).
cp "$STATE" "$T/big.db" || bail "copy state"
"$PY" - "$T/big.db" <<'EOF' || bail "add audit rows"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executemany("INSERT INTO audit (at, run, action, detail, prev_hash, hash) "
               "VALUES (?, 0, 'run_started', 'filler', '', '')",
               [("2026-04-10T00:%02d:%02dZ" % (i // 60, i % 60),) for i in range(1200)])
db.commit()
EOF
TOTAL=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM audit WHERE at >= ?", ("2026-01-15T12:00:00Z",)).fetchone()[0])' "$T/big.db")
exit_is 0 "report over 1,200 more rows" "$ACCORD" -C "$AR" --state "$T/big.db" --now $NOW --json report --html "$T/out/big.html"
is "$(ojv 'd["events"]')" "$TOTAL" "all rows of the period counted"
is "$(ojv 'd["events_shown"]')" 1000 "1,000 rows shown"
is "$(sed -n '/<section id="events">/,/<\/section>/p' "$T/out/big.html" | grep -c '^<tr')" 1000 "1,000 rows in the table"
like "$(cat "$T/out/big.html")" "$((TOTAL - 1000)) older rows in the period left out" "a line says how many were left out"

# Failures print a JSON document too.
exit_is 1 "report into a missing directory --json: exit 1" acc --now $NOW --json report --html "$T/missing/r.html"
is "$(ojv '[d["html"], d["days"]]')" "[\"$T/missing/r.html\", 90]" "missing directory --json: the file asked for"
like "$(ojv 'd["error"]')" "report: $T/missing/r.html: No such file or directory" "missing directory --json: the error"
exit_is 65 "a state database with no run --json: exit 65" "$ACCORD" -C "$AR" --state "$T/empty.db" --now $NOW --json report --html "$T/out/empty.html"
like "$(ojv 'd["error"]')" "holds no run yet" "no run --json: the error"

# --- in a browser -------------------------------------------------------------
for x in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x "$x" ] && pass "$x is installed" || fail "$x is installed (make deps)"
done
PNG=$ARTS/report.png
rm -f "$PNG"
t0=$(t_ms)
run $BROWSER --png "$PNG" "$H"
diag "browser took $(($(t_ms) - t0)) ms"
is "$RC" 0 "browser: page opened, no console error"
B=$OUT
bj() { printf '%s' "$B" | jv "$1"; }
is "$(bj 'd["error"]')" null "browser: driven without error"
is "$(bj 'd["severe"]')" "[]" "browser: no SEVERE console entry"
is "$(bj 'd["page"]["sections"]')" '["summary", "timeline", "expiries", "drift", "events"]' "browser: the five sections in order"
is "$(bj 'd["page"]["scripts"]')" 0 "browser: no script element in the DOM"
is "$(bj 'd["page"]["resources"]')" "[]" "browser: nothing fetched"
is "$(bj 'd["page"]["bars"]')" 5 "browser: five bars in the timeline"
is "$(bj 'd["page"]["bars_visible"]')" 5 "browser: all five bars drawn with a size"
is "$(bj 'd["page"]["timeline"]["visible"] and d["page"]["timeline"]["width"] > 800 and d["page"]["timeline"]["height"] > 100')" \
    true "browser: the timeline is visible and has a size"
is "$(bj 'd["page"]["timeline"]["x"] >= 0 and d["page"]["timeline"]["x"] + d["page"]["timeline"]["width"] <= d["page"]["width"]')" \
    true "browser: the timeline fits the page width"
is "$(bj 'all(n in d["page"]["text"] for n in ["alice@example.com", "carol@example.com", "dave@example.com", "etl_service"])')" \
    true "browser: the people are on the page"
is "$(bj '("x<script>alert(1)</script>&\"" + chr(39)) in d["page"]["text"]')" true \
    "browser: the hostile role name shows as text"
is "$(bj '"table:sales.<b>&q" in d["page"]["text"]')" true "browser: the hostile table name shows as text"
# The hostile role in the timeline as the DOM holds it: literal text in
# the label and in both titles, and no element made from it.
HR_PY='"role:analyst_<b>&\"x" + chr(39)'
is "$(bj "[t for t in d['page']['tl_text'] if t.endswith($HR_PY)] == ['warehouse \\u00b7 ' + $HR_PY]")" true \
    "browser: the timeline label shows the hostile role literally"
is "$(bj "[t for t in d['page']['tl_titles'] if t.endswith($HR_PY)] == ['dave@example.com \\u00b7 warehouse ' + $HR_PY]")" true \
    "browser: the row's title shows it literally"
is "$(bj "len([t for t in d['page']['tl_titles'] if t.startswith('member on ' + $HR_PY + ' (dave): ')])")" 1 \
    "browser: the bar's title shows it literally"
is "$(bj 'd["page"]["tl_tags"]')" '["g", "line", "rect", "text", "title"]' \
    "browser: the timeline holds only the elements accord draws"
is "$(bj '[t for t in ("b", "script", "img", "iframe", "object", "foreignObject") if t in d["page"]["tags"]]')" '[]' \
    "browser: no element made from a hostile name anywhere in the page"

# The screenshot: a PNG with a size.
is "$(head -c 8 "$PNG" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "screenshot: PNG signature"
WH=$("$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read(33)
print("%d %d" % struct.unpack(">II", b[16:24]) if b[12:16] == b"IHDR" else "no IHDR")' "$PNG" 2>&1)
like "$WH" '^[1-9][0-9]* [1-9][0-9]*$' "screenshot: IHDR width and height > 0 ($WH)"

# The console check can fail: a page whose inline script throws.
cat >"$T/broken.html" <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>broken</title></head>
<body><p>broken</p><script>throw new Error("deliberately broken page");</script></body></html>
EOF
run $BROWSER "$T/broken.html"
is "$RC" 1 "broken page: browser.py fails"
B=$OUT
like "$(bj '[e["message"] for e in d["severe"]]')" 'deliberately broken page' "broken page: the SEVERE console error is reported"
like "$ERR" 'SEVERE: .*deliberately broken page' "broken page: printed on stderr"

done_testing
