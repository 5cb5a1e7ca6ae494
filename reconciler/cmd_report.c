/*
 * report --html FILE [--days N]: one self-contained HTML page for people
 * who review access (DESIGN §12): a summary, a timeline of access windows
 * per person and target, pending expiries, drift, and the audit events
 * of the last N days.  Everything comes from the state database as of
 * --now; nothing calls a platform or reads the access repository.
 *
 * The page must open anywhere, offline, and must not become a vector:
 * account and target names come from the platforms and may be hostile.
 * So it has no script, no `src`, `href` or `url()` other than `#`, CSS
 * inline, the timeline as inline SVG, and every string from the database
 * HTML-escaped.  Strings from the database never reach an attribute other
 * than through the escaper, and never reach a class name or CSS at all.
 * The file is written to a temporary file in the target directory and
 * renamed into place, so a reader never sees half a report.  Its mode is
 * what the umask allows, as for any file a program creates: the page
 * names every grant and approver, and whoever keeps the state database
 * private (0600) keeps the report private with umask 077.
 */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answers.h"
#include "audit.h"
#include "run.h"
#include "state.h"
#include "util.h"

#define DAY		86400
#define SOON		(14 * DAY)	/* "expiring soon" in the summary */
#define EVENTS_MAX	1000		/* audit rows shown */
#define TABLE_MAX	1000		/* rows of any other table */
#define ROWS_MAX	400		/* timeline rows */

/* Timeline geometry (SVG user units; the SVG scales to the page). */
#define TL_W		1200
#define TL_PERSON_X	8
#define TL_TARGET_X	196
#define TL_PLOT_X	390
#define TL_PLOT_W	(TL_W - TL_PLOT_X - 24)
#define TL_TOP		34
#define TL_ROW_H	24
#define TL_LABEL_CHARS	30

/* One audit row kept for the page (owned copies). */
struct ev {
	int64_t seq, run;
	char *at, *action, *platform, *account, *person, *target, *privilege;
	char *request, *reason, *detail, *commit_sha;
};

struct scan {
	struct ev *ring;	/* EVENTS_MAX, the newest rows */
	size_t n;		/* rows seen in the period */
	struct ev *drift;	/* revokes with reason drift, oldest first */
	size_t ndrift, adrift, drift_more;
};

struct last_run {
	int found;
	int64_t id, started_at, finished_at, exit_code;
	int have_exit;
	char *command, *commit_sha;
};

struct report {
	const struct opts *o;
	int64_t now, since;
	int days;
	struct answers active, outside, windows;
	struct scan sc;
	struct last_run run;
	size_t people, platforms, expiring;
};

static void
ev_release(struct ev *e)
{
	free(e->at); free(e->action); free(e->platform); free(e->account);
	free(e->person); free(e->target); free(e->privilege);
	free(e->request); free(e->reason); free(e->detail);
	free(e->commit_sha);
	memset(e, 0, sizeof(*e));
}

static void
ev_copy(struct ev *e, const struct audit_row *r)
{
	e->seq = r->seq;
	e->run = r->run;
	e->at = xstrdup(r->at);
	e->action = xstrdup(r->action);
	e->platform = xstrdup(r->platform);
	e->account = xstrdup(r->account);
	e->person = xstrdup(r->person);
	e->target = xstrdup(r->target);
	e->privilege = xstrdup(r->privilege);
	e->request = xstrdup(r->request);
	e->reason = xstrdup(r->reason);
	e->detail = xstrdup(r->detail);
	e->commit_sha = xstrdup(r->commit_sha);
}

/* audit_query callback: count, keep the newest EVENTS_MAX, collect drift
 * revokes. */
static int
scan_row(void *arg, const struct audit_row *r)
{
	struct scan *sc = arg;
	struct ev *e = &sc->ring[sc->n % EVENTS_MAX];

	ev_release(e);
	ev_copy(e, r);
	sc->n++;
	if (strcmp(r->action, "revoke") == 0 && r->reason &&
	    strcmp(r->reason, "drift") == 0) {
		if (sc->ndrift < TABLE_MAX) {
			sc->drift = xgrow(sc->drift, sizeof(*sc->drift),
			    sc->ndrift, &sc->adrift);
			memset(&sc->drift[sc->ndrift], 0, sizeof(*sc->drift));
			ev_copy(&sc->drift[sc->ndrift++], r);
		} else
			sc->drift_more++;
	}
	return 0;
}

static void
scan_release(struct scan *sc)
{
	size_t i;

	if (sc->ring)
		for (i = 0; i < EVENTS_MAX; i++)
			ev_release(&sc->ring[i]);
	for (i = 0; i < sc->ndrift; i++)
		ev_release(&sc->drift[i]);
	free(sc->ring);
	free(sc->drift);
	memset(sc, 0, sizeof(*sc));
}

/*
 * The last run started at or before now.  Its commit is runs.commit_sha,
 * which apply records when the run ends (state_run_end, since 51022e0);
 * a run recorded before that has none there, and its run_finished audit
 * row names the commit instead (among the run's last rows, so the
 * backward scan by seq stops at once).
 */
static int
last_run_load(struct state *st, int64_t now, struct last_run *lr,
    struct diag *err)
{
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s = NULL;
	int rc;

	memset(lr, 0, sizeof(*lr));
	rc = sqlite3_prepare_v2(db,
	    "SELECT r.id, r.started_at, COALESCE(r.finished_at, 0), "
	    "r.exit_code, r.command, COALESCE(r.commit_sha, "
	    "(SELECT a.commit_sha FROM audit a WHERE a.run = r.id AND "
	    "a.action = 'run_finished' ORDER BY a.seq DESC LIMIT 1)) "
	    "FROM runs r WHERE r.started_at <= ?1 ORDER BY r.id DESC LIMIT 1",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return diag_set(err, "reading the last run: %s",
		    sqlite3_errmsg(db));
	sqlite3_bind_int64(s, 1, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		lr->found = 1;
		lr->id = sqlite3_column_int64(s, 0);
		lr->started_at = sqlite3_column_int64(s, 1);
		lr->finished_at = sqlite3_column_int64(s, 2);
		lr->have_exit = sqlite3_column_type(s, 3) != SQLITE_NULL;
		lr->exit_code = sqlite3_column_int64(s, 3);
		lr->command = xstrdup((const char *)sqlite3_column_text(s, 4));
		lr->commit_sha = xstrdup((const char *)sqlite3_column_text(s,
		    5));
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return diag_set(err, "reading the last run: %s",
		    sqlite3_errmsg(db));
	return 0;
}

static void
last_run_release(struct last_run *lr)
{
	free(lr->command);
	free(lr->commit_sha);
	memset(lr, 0, sizeof(*lr));
}

/* --- output helpers ------------------------------------------------------ */

static void
put(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

/*
 * HTML-escape s (NULL: nothing), at most max characters (0: all; a cut
 * string ends in an ellipsis).  Fit for text and for quoted attribute
 * values.  C0 controls become U+FFFD: they mean nothing on a page.
 */
static void
esc_n(FILE *f, const char *s, size_t max)
{
	size_t chars = 0;

	if (s == NULL)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* Count characters by their lead bytes, so that a cut never
		 * splits a UTF-8 sequence. */
		if ((c & 0xc0) != 0x80 && max && chars++ == max) {
			fputs("\xe2\x80\xa6", f);
			return;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				putc(c, f);
		}
	}
}

static void
esc(FILE *f, const char *s)
{
	esc_n(f, s, 0);
}

/* A table cell: the escaped string, or a muted dash when there is none. */
static void
td(FILE *f, const char *s)
{
	if (s == NULL || *s == '\0')
		fputs("<td class=\"none\">&#8211;</td>", f);
	else {
		fputs("<td>", f);
		esc(f, s);
		fputs("</td>", f);
	}
}

static void
td_time(FILE *f, int64_t t)
{
	char b[TIME_STR_MAX];

	if (t == 0)
		fputs("<td class=\"none\">&#8211;</td>", f);
	else
		put(f, "<td class=\"t\">%s</td>", time_format(b, sizeof(b), t));
}

/* "3d 4h", "5h 10m", "12m": the two largest units of a span. */
static char *
span_format(char *out, size_t outsz, int64_t secs)
{
	int64_t d = secs / DAY, h = secs % DAY / 3600, m = secs % 3600 / 60;

	if (d > 0)
		snprintf(out, outsz, "%lldd %lldh", (long long)d, (long long)h);
	else if (h > 0)
		snprintf(out, outsz, "%lldh %lldm", (long long)h, (long long)m);
	else
		snprintf(out, outsz, "%lldm", (long long)(m > 0 ? m : 0));
	return out;
}

/* The person a grant belongs to, or its account (grantees, unmatched). */
static const char *
who(const struct answer *a)
{
	return a->person && *a->person ? a->person : a->account;
}

static int
cmp_ci_ptr(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct strings, case-insensitively. */
static size_t
count_distinct(const char **v, size_t n)
{
	size_t i, d = 0;

	qsort(v, n, sizeof(*v), cmp_ci_ptr);
	for (i = 0; i < n; i++)
		if (i == 0 || strcasecmp(v[i - 1], v[i]) != 0)
			d++;
	return d;
}

static int
cmp_expiry(const void *a, const void *b)
{
	const struct answer *x = *(const struct answer *const *)a;
	const struct answer *y = *(const struct answer *const *)b;

	if (x->expires_at != y->expires_at)
		return x->expires_at < y->expires_at ? -1 : 1;
	return strcmp(x->target, y->target);
}

static int
cmp_window(const void *a, const void *b)
{
	const struct answer *x = a, *y = b;
	int c;

	if ((c = strcasecmp(who(x), who(y))) != 0 ||
	    (c = strcmp(x->platform, y->platform)) != 0 ||
	    (c = strcmp(x->target, y->target)) != 0)
		return c;
	if (x->granted_at != y->granted_at)
		return x->granted_at < y->granted_at ? -1 : 1;
	return strcmp(x->privilege, y->privilege);
}

static int
same_row(const struct answer *x, const struct answer *y)
{
	return strcasecmp(who(x), who(y)) == 0 &&
	    strcmp(x->platform, y->platform) == 0 &&
	    strcmp(x->target, y->target) == 0;
}

/* The CSS class for how a window ended: a fixed set, never a database
 * string. */
static const char *
window_class(const struct answer *w, int64_t now)
{
	static const char *const known[] = {
		"expired", "withdrawn", "drift", "denied", "renewed", NULL
	};
	size_t i;

	if (w->until == 0 || w->until > now)
		return "open";
	for (i = 0; w->end_reason && known[i]; i++)
		if (strcmp(w->end_reason, known[i]) == 0)
			return known[i];
	return "other";
}

/* --- sections ------------------------------------------------------------ */

static const char style[] =
	":root{--fg:#1d2430;--muted:#5c6675;--line:#d9dee5;--bg:#f6f7f9;"
	"--card:#fff;--accent:#24589e}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--fg);"
	"font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"'Helvetica Neue',Arial,sans-serif}"
	"header{background:#1d2430;color:#fff;padding:18px 32px}"
	"header h1{margin:0;font-size:22px;font-weight:600}"
	"header p{margin:4px 0 0;color:#c7cdd6}"
	"nav{padding:8px 32px;background:#2a3342}"
	"nav a{color:#dfe6f0;text-decoration:none;margin-right:18px;"
	"font-size:13px}"
	"main{max-width:1320px;margin:0 auto;padding:8px 32px 40px}"
	"section{background:var(--card);border:1px solid var(--line);"
	"border-radius:8px;padding:16px 20px;margin:18px 0}"
	"h2{font-size:17px;margin:0 0 10px}"
	"h3{font-size:14px;margin:16px 0 6px}"
	"p.note{color:var(--muted);margin:4px 0 10px;font-size:13px}"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,"
	"minmax(180px,1fr));gap:12px}"
	".card{border:1px solid var(--line);border-radius:6px;"
	"padding:10px 14px}"
	".card .n{font-size:26px;font-weight:600}"
	".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;"
	"letter-spacing:.03em}"
	".card.warn .n{color:#b3261e}"
	".run{margin-top:12px;font-size:13px}"
	"code,.t{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
	"monospace;font-size:12px}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th{text-align:left;color:var(--muted);font-weight:600;"
	"border-bottom:2px solid var(--line);padding:5px 8px;"
	"white-space:nowrap}"
	"td{border-bottom:1px solid var(--line);padding:4px 8px;"
	"vertical-align:top;overflow-wrap:break-word}"
	"td code{word-break:break-all;color:var(--muted)}"
	".wrap{overflow-x:auto}"
	"tr:nth-child(even) td{background:#fafbfc}"
	"td.none{color:#a0a8b4}"
	"td.t{white-space:nowrap}"
	"tr.soon td{background:#fff4e5}"
	"tr.overdue td{background:#fdecea}"
	"tr.runrow td{color:var(--muted)}"
	".tag{display:inline-block;padding:0 6px;border-radius:4px;"
	"white-space:nowrap;"
	"font-size:12px;background:#e8edf3}"
	".tag.grant{background:#e3f1e4;color:#1b5e20}"
	".tag.revoke{background:#fdecea;color:#8e1b14}"
	".tag.fail{background:#b3261e;color:#fff}"
	".legend{display:flex;flex-wrap:wrap;gap:16px;font-size:12px;"
	"color:var(--muted);margin:6px 0 8px}"
	".legend i{display:inline-block;width:14px;height:10px;"
	"border-radius:2px;margin-right:5px;vertical-align:middle}"
	"svg{display:block;width:100%;height:auto}"
	"svg text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,"
	"Arial,sans-serif;font-size:12px;fill:#1d2430}"
	"svg .ax{fill:#5c6675;font-size:11px}"
	"svg .grid{stroke:#e3e7ec;stroke-width:1}"
	"svg .band{fill:#f5f7fa}"
	"svg .nowl{stroke:#24589e;stroke-width:1.5;stroke-dasharray:4 3}"
	"svg .tgt,svg .again{fill:#5c6675}"
	"svg .again{opacity:.55}"
	".w-open{fill:#2e7d32;background:#2e7d32}"
	".w-expired{fill:#8d99a8;background:#8d99a8}"
	".w-withdrawn{fill:#e0a100;background:#e0a100}"
	".w-drift{fill:#c62828;background:#c62828}"
	".w-denied{fill:#7b1fa2;background:#7b1fa2}"
	".w-renewed{fill:#81c784;background:#81c784}"
	".w-other{fill:#546e7a;background:#546e7a}"
	"footer{color:var(--muted);font-size:12px;text-align:center;"
	"padding:0 0 24px}";

static void
section_summary(FILE *f, const struct report *r)
{
	char b[TIME_STR_MAX];

	put(f, "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">"
	    "\n");
	put(f, "<div class=\"card\"><div class=\"n\">%zu</div><div class=\"k\">"
	    "active grants made by accord</div></div>\n", r->active.n);
	put(f, "<div class=\"card\"><div class=\"n\">%zu</div><div class=\"k\">"
	    "people</div></div>\n", r->people);
	put(f, "<div class=\"card\"><div class=\"n\">%zu</div><div class=\"k\">"
	    "platforms</div></div>\n", r->platforms);
	put(f, "<div class=\"card%s\"><div class=\"n\">%zu</div><div "
	    "class=\"k\">grants held outside accord</div></div>\n",
	    r->outside.n ? " warn" : "", r->outside.n);
	put(f, "<div class=\"card%s\"><div class=\"n\">%zu</div><div "
	    "class=\"k\">expiring within 14 days</div></div>\n",
	    r->expiring ? " warn" : "", r->expiring);
	put(f, "<div class=\"card\"><div class=\"n\">%zu</div><div class=\"k\">"
	    "audit rows, last %d days</div></div>\n</div>\n", r->sc.n,
	    r->days);
	put(f, "<p class=\"run\">");
	if (!r->run.found)
		put(f, "No run recorded at or before this time.");
	else {
		put(f, "Last run: <strong>#%lld</strong> ",
		    (long long)r->run.id);
		esc(f, r->run.command);
		put(f, " at <span class=\"t\">%s</span>", time_format(b,
		    sizeof(b), r->run.started_at));
		if (r->run.have_exit)
			put(f, ", exit %lld", (long long)r->run.exit_code);
		else
			put(f, ", not finished");
		put(f, ", commit <code>");
		if (r->run.commit_sha)
			esc(f, r->run.commit_sha);
		else
			put(f, "none");
		put(f, "</code>");
	}
	put(f, "</p></section>\n");
}

/* Tick marks: whole days, Monday-aligned weeks, or month starts, as many
 * as fit one label per ~100 units. */
static void
timeline_ticks(FILE *f, const struct report *r, int height)
{
	static const int steps[] = { 1, 2, 7, 14 };
	int64_t span = r->now - r->since, t;
	int maxticks = TL_PLOT_W / 100, step = 0, months = 0;
	size_t i;
	char b[TIME_STR_MAX];

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / ((int64_t)steps[i] * DAY) <= maxticks) {
			step = steps[i];
			break;
		}
	if (step == 0) {
		static const int msteps[] = { 1, 2, 3, 6, 12, 24, 60, 120 };
		for (i = 0; i < sizeof(msteps) / sizeof(msteps[0]); i++) {
			months = msteps[i];
			if (span / ((int64_t)months * 30 * DAY) <= maxticks)
				break;
		}
	}
	t = (r->since + DAY - 1) / DAY * DAY;
	if (step >= 7)
		while ((t / DAY + 3) % 7 != 0 || (step == 14 &&
		    (t / DAY + 3) / 7 % 2 != 0))
			t += DAY;
	if (months) {
		struct tm tm;
		time_t tt = (time_t)r->since;

		gmtime_r(&tt, &tm);
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_mon += 1;
		while ((tm.tm_year * 12 + tm.tm_mon) % months != 0)
			tm.tm_mon++;
		t = (int64_t)timegm(&tm);
	}
	while (t <= r->now) {
		double x = TL_PLOT_X + (double)(t - r->since) * TL_PLOT_W /
		    (double)span;

		put(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\"/>", x, TL_TOP - 6, x, height - 4);
		/* Keep labels clear of the "now" label at the right end. */
		if (x < TL_PLOT_X + TL_PLOT_W - 70)
			put(f, "<text class=\"ax\" x=\"%.1f\" y=\"%d\" "
			    "text-anchor=\"middle\">%.10s</text>\n", x,
			    TL_TOP - 12, time_format(b, sizeof(b), t));
		if (months) {
			struct tm tm;
			time_t tt = (time_t)t;

			gmtime_r(&tt, &tm);
			tm.tm_mon += months;
			t = (int64_t)timegm(&tm);
		} else
			t += (int64_t)step * DAY;
	}
}

static void
section_timeline(FILE *f, const struct report *r, size_t *nbars)
{
	const struct answers *w = &r->windows;
	char b1[TIME_STR_MAX], b2[TIME_STR_MAX];
	size_t i, rows = 0, more = 0, row;
	int height;
	double scale = (double)TL_PLOT_W / (double)(r->now - r->since);

	*nbars = 0;
	for (i = 0; i < w->n; i++)
		if (i == 0 || !same_row(&w->v[i - 1], &w->v[i]))
			rows++;
	if (rows > ROWS_MAX) {
		more = rows - ROWS_MAX;
		rows = ROWS_MAX;
	}
	height = TL_TOP + (int)(rows ? rows : 1) * TL_ROW_H + 8;
	put(f, "<section id=\"timeline\"><h2>Access timeline</h2>\n"
	    "<p class=\"note\">Windows of access per person and target from "
	    "<span class=\"t\">%s</span> to <span class=\"t\">%s</span> (now), "
	    "from the audit log. A bar runs from the grant to its revoke; "
	    "open windows run to now.</p>\n", time_format(b1, sizeof(b1),
	    r->since), time_format(b2, sizeof(b2), r->now));
	put(f, "<div class=\"legend\"><span><i class=\"w-open\"></i>held now"
	    "</span><span><i class=\"w-expired\"></i>expired</span><span>"
	    "<i class=\"w-withdrawn\"></i>withdrawn</span><span><i "
	    "class=\"w-drift\"></i>revoked as drift</span><span><i "
	    "class=\"w-denied\"></i>denied by policy</span><span><i "
	    "class=\"w-renewed\"></i>renewed</span><span><i class=\"w-other\">"
	    "</i>other</span></div>\n");
	put(f, "<svg id=\"timeline-svg\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"Access timeline\">\n", TL_W, height);
	put(f, "<text class=\"ax\" x=\"%d\" y=\"%d\">person</text><text "
	    "class=\"ax\" x=\"%d\" y=\"%d\">platform / target</text>\n",
	    TL_PERSON_X, TL_TOP - 12, TL_TARGET_X, TL_TOP - 12);
	for (row = 1; row < rows; row += 2)
		put(f, "<rect class=\"band\" x=\"0\" y=\"%d\" width=\"%d\" "
		    "height=\"%d\"/>", TL_TOP + (int)row * TL_ROW_H, TL_W,
		    TL_ROW_H);
	put(f, "\n");
	timeline_ticks(f, r, height);
	row = 0;
	for (i = 0; i < w->n; i++) {
		const struct answer *x = &w->v[i];
		int64_t from = x->granted_at, to = x->until;
		int first = i == 0 || !same_row(&w->v[i - 1], x), y;
		double x0, x1;

		if (i > 0 && first)
			row++;
		if (row >= rows)
			break;
		y = TL_TOP + (int)row * TL_ROW_H;
		if (first) {
			put(f, "<g class=\"row\"><title>");
			esc(f, who(x));
			put(f, " \xc2\xb7 ");
			esc(f, x->platform);
			put(f, " ");
			esc(f, x->target);
			put(f, "</title><text%s x=\"%d\" y=\"%d\">", i > 0 &&
			    strcasecmp(who(&w->v[i - 1]), who(x)) == 0 ?
			    " class=\"again\"" : "", TL_PERSON_X, y + 16);
			esc_n(f, who(x), TL_LABEL_CHARS);
			put(f, "</text><text class=\"tgt\" x=\"%d\" y=\"%d\">",
			    TL_TARGET_X, y + 16);
			esc_n(f, x->platform, 10);
			put(f, " \xc2\xb7 ");
			esc_n(f, x->target, TL_LABEL_CHARS - 2);
			put(f, "</text></g>\n");
		}
		if (from < r->since)
			from = r->since;
		if (to == 0 || to > r->now)
			to = r->now;
		x0 = TL_PLOT_X + (double)(from - r->since) * scale;
		x1 = TL_PLOT_X + (double)(to - r->since) * scale;
		if (x1 - x0 < 3)
			x1 = x0 + 3;	/* a short window stays visible */
		put(f, "<rect class=\"bar w-%s\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"%d\" rx=\"3\"><title>",
		    window_class(x, r->now), x0, y + 5, x1 - x0, TL_ROW_H - 10);
		esc(f, x->privilege);
		put(f, " on ");
		esc(f, x->target);
		put(f, " (");
		esc(f, x->account);
		put(f, "): %s \xe2\x80\x93 ", time_format(b1, sizeof(b1),
		    x->granted_at));
		if (x->until == 0 || x->until > r->now)
			put(f, "now (held)");
		else {
			put(f, "%s, ", time_format(b2, sizeof(b2), x->until));
			esc(f, x->end_reason);
		}
		if (x->request) {
			put(f, "; request ");
			esc(f, x->request);
		}
		put(f, "</title></rect>\n");
		(*nbars)++;
	}
	put(f, "<line class=\"nowl\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	    "<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"end\">now"
	    "</text>\n", TL_PLOT_X + TL_PLOT_W, TL_TOP - 6, TL_PLOT_X +
	    TL_PLOT_W, height - 4, TL_PLOT_X + TL_PLOT_W, TL_TOP - 12);
	if (rows == 0)
		put(f, "<text class=\"ax\" x=\"%d\" y=\"%d\">No access windows "
		    "in this period.</text>\n", TL_PLOT_X + 12, TL_TOP + 16);
	put(f, "</svg>\n");
	if (more)
		put(f, "<p class=\"note\">%zu more rows not shown; use accord "
		    "history or accord audit for them.</p>\n", more);
	put(f, "</section>\n");
}

static void
section_expiries(FILE *f, const struct report *r)
{
	const struct answer **v;
	char b[32];
	size_t i, n = 0;

	v = xcalloc(r->active.n + 1, sizeof(*v));
	for (i = 0; i < r->active.n; i++)
		if (r->active.v[i].expires_at != 0)
			v[n++] = &r->active.v[i];
	qsort(v, n, sizeof(*v), cmp_expiry);
	put(f, "<section id=\"expiries\"><h2>Pending expiries</h2>\n"
	    "<p class=\"note\">Active grants accord made that have an expiry, "
	    "soonest first; within 14 days highlighted. %zu of %zu active "
	    "grants expire%s.</p>\n", n, r->active.n, n < r->active.n ?
	    "; the others are permanent" : "");
	if (n == 0) {
		put(f, "<p>None.</p></section>\n");
		free(v);
		return;
	}
	put(f, "<div class=\"wrap\">");
	put(f, "<table><thead><tr><th>expires</th><th>in</th><th>person</th>"
	    "<th>account</th><th>platform</th><th>target</th><th>privilege"
	    "</th><th>request</th><th>approvers</th></tr></thead><tbody>\n");
	for (i = 0; i < n && i < TABLE_MAX; i++) {
		const struct answer *a = v[i];
		int64_t left = a->expires_at - r->now;

		put(f, "<tr%s>", left <= 0 ? " class=\"overdue\"" :
		    left <= SOON ? " class=\"soon\"" : "");
		td_time(f, a->expires_at);
		if (left <= 0)
			put(f, "<td>overdue</td>");
		else
			put(f, "<td>%s</td>", span_format(b, sizeof(b), left));
		td(f, a->person);
		td(f, a->account);
		td(f, a->platform);
		td(f, a->target);
		td(f, a->privilege);
		td(f, a->request);
		td(f, a->approvers);
		put(f, "</tr>\n");
	}
	put(f, "</tbody></table></div>\n");
	if (n > TABLE_MAX)
		put(f, "<p class=\"note\">%zu more not shown.</p>\n",
		    n - TABLE_MAX);
	put(f, "</section>\n");
	free(v);
}

static void
section_drift(FILE *f, const struct report *r)
{
	size_t i;

	put(f, "<section id=\"drift\"><h2>Drift</h2>\n"
	    "<h3>Held outside accord now</h3>\n<p class=\"note\">Grants the "
	    "last run found on the platforms that accord did not make: on "
	    "managed targets they are revoked as drift (drift: enforce) or "
	    "only listed (drift: report); grants to protected accounts are "
	    "never touched.</p>\n");
	if (r->outside.n == 0)
		put(f, "<p>None.</p>\n");
	else {
		put(f, "<div class=\"wrap\">");
		put(f, "<table><thead><tr><th>platform</th><th>account</th>"
		    "<th>person</th><th>target</th><th>privilege</th><th>via"
		    "</th><th>last seen</th></tr></thead><tbody>\n");
		for (i = 0; i < r->outside.n && i < TABLE_MAX; i++) {
			const struct answer *a = &r->outside.v[i];

			put(f, "<tr>");
			td(f, a->platform);
			td(f, a->account);
			td(f, a->person);
			td(f, a->target);
			td(f, a->privilege);
			td(f, a->via);
			td_time(f, a->last_seen);
			put(f, "</tr>\n");
		}
		put(f, "</tbody></table></div>\n");
		if (r->outside.n > TABLE_MAX)
			put(f, "<p class=\"note\">%zu more not shown.</p>\n",
			    r->outside.n - TABLE_MAX);
	}
	put(f, "<h3>Revoked as drift in the last %d days</h3>\n", r->days);
	if (r->sc.ndrift == 0)
		put(f, "<p>None.</p>\n");
	else {
		put(f, "<div class=\"wrap\">");
		put(f, "<table><thead><tr><th>at</th><th>platform</th><th>"
		    "account</th><th>target</th><th>privilege</th><th>run</th>"
		    "</tr></thead><tbody>\n");
		for (i = r->sc.ndrift; i-- > 0;) {
			const struct ev *e = &r->sc.drift[i];

			put(f, "<tr><td class=\"t\">");
			esc(f, e->at);
			put(f, "</td>");
			td(f, e->platform);
			td(f, e->account);
			td(f, e->target);
			td(f, e->privilege);
			put(f, "<td>%lld</td></tr>\n", (long long)e->run);
		}
		put(f, "</tbody></table></div>\n");
		if (r->sc.drift_more)
			put(f, "<p class=\"note\">%zu more not shown.</p>\n",
			    r->sc.drift_more);
	}
	put(f, "</section>\n");
}

static const char *
action_class(const char *action)
{
	if (strcmp(action, "grant") == 0)
		return "grant";
	if (strcmp(action, "revoke") == 0)
		return "revoke";
	if (strstr(action, "failed") != NULL)
		return "fail";
	return "other";
}

static void
section_events(FILE *f, const struct report *r, size_t *shown)
{
	size_t i, n = r->sc.n < EVENTS_MAX ? r->sc.n : EVENTS_MAX;

	*shown = n;
	put(f, "<section id=\"events\"><h2>Audit events, last %d days</h2>\n"
	    "<p class=\"note\">%zu rows in the period, newest first.</p>\n",
	    r->days, r->sc.n);
	if (n == 0) {
		put(f, "<p>None.</p></section>\n");
		return;
	}
	put(f, "<div class=\"wrap\">");
	put(f, "<table><thead><tr><th>seq</th><th>at</th><th>action</th>"
	    "<th>person</th><th>account</th><th>platform</th><th>target</th>"
	    "<th>privilege</th><th>reason</th><th>request / detail</th></tr>"
	    "</thead><tbody>\n");
	for (i = 0; i < n; i++) {
		const struct ev *e;
		int runrow;

		e = &r->sc.ring[(r->sc.n - 1 - i) % EVENTS_MAX];
		runrow = strncmp(e->action, "run_", 4) == 0;

		put(f, "<tr%s><td>%lld</td><td class=\"t\">", runrow ?
		    " class=\"runrow\"" : "", (long long)e->seq);
		esc(f, e->at);
		put(f, "</td><td><span class=\"tag %s\">",
		    action_class(e->action));
		esc(f, e->action);
		put(f, "</span></td>");
		td(f, e->person);
		td(f, e->account);
		td(f, e->platform);
		td(f, e->target);
		td(f, e->privilege);
		td(f, e->reason);
		if (e->request)
			td(f, e->request);
		else if (e->detail) {
			put(f, "<td><code>");
			esc_n(f, e->detail, 200);
			put(f, "</code></td>");
		} else
			td(f, NULL);
		put(f, "</tr>\n");
	}
	put(f, "</tbody></table></div>\n");
	if (r->sc.n > n)
		put(f, "<p class=\"note\">%zu older rows in the period left "
		    "out (the newest %d are shown); accord audit --since "
		    "lists them all.</p>\n", r->sc.n - n, EVENTS_MAX);
	put(f, "</section>\n");
}

static void
report_write(FILE *f, const struct report *r, size_t *nbars, size_t *shown)
{
	char b[TIME_STR_MAX];

	put(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	    "<title>accord access report %s</title>\n<style>%s</style>\n"
	    "</head>\n<body>\n", time_format(b, sizeof(b), r->now), style);
	put(f, "<header><h1>accord access report</h1><p>As of <span "
	    "class=\"t\">%s</span>; period: last %d days.</p></header>\n",
	    b, r->days);
	put(f, "<nav><a href=\"#summary\">Summary</a><a href=\"#timeline\">"
	    "Timeline</a><a href=\"#expiries\">Expiries</a><a href=\"#drift\">"
	    "Drift</a><a href=\"#events\">Audit events</a></nav>\n<main>\n");
	section_summary(f, r);
	section_timeline(f, r, nbars);
	section_expiries(f, r);
	section_drift(f, r);
	section_events(f, r, shown);
	put(f, "</main>\n<footer>Generated by accord from its state "
	    "database; answers reflect the last run, not a fresh look at the "
	    "platforms.</footer>\n</body>\n</html>\n");
}

/*
 * Write the page to a temporary file beside path, then rename it into
 * place, with the mode open(2) would give a new file: 0666 less the
 * umask (mkstemp's 0600 is a choice this command should not make for the
 * user, in either direction).  On failure nothing is left behind.
 */
static int
report_save(const char *path, const struct report *r, size_t *nbars,
    size_t *shown, struct diag *err)
{
	const char *slash = strrchr(path, '/');
	char *tmp;
	FILE *f = NULL;
	mode_t mask;
	int fd, e = 0;

	/* umask(2) only reads by writing: set it and put it back at once. */
	mask = umask(077);
	umask(mask);
	if (slash)
		tmp = xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path,
		    slash + 1);
	else
		tmp = xasprintf(".%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		diag_set(err, "report: %s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0666 & ~mask) == -1 || (f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		goto fail;
	}
	report_write(f, r, nbars, shown);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) == -1) {
		e = errno ? errno : EIO;
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0) {
		e = errno;
		goto fail;
	}
	if (rename(tmp, path) == -1) {
		e = errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return diag_set(err, "report: %s: %s", path, strerror(e));
}

/* The document --json prints when the report fails (DESIGN §13: on every
 * exit code): the error and what was asked for. */
static void
report_json_error(const struct report *r, const char *html,
    const char *msg)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "error", json_string(msg));
	json_object_set_new(doc, "html", jstr(html));
	json_object_set_new(doc, "now", jtime(r->now));
	json_object_set_new(doc, "days", json_integer(r->days));
	json_print(doc);
}

/* A diagnostic to stderr and, with --json, the error document. */
static void
report_fail(const struct report *r, const char *html, const struct diag *err)
{
	char msg[DIAG_MSG_MAX + 600];

	diag_print(err, stderr);
	if (r->o->json) {
		diag_format(err, msg, sizeof(msg));
		report_json_error(r, html, msg);
	}
}

static int
load(struct report *r, struct state *st, struct diag *err)
{
	struct window_filter wf;
	struct audit_filter af;
	const char **names;
	size_t i, n;

	if (answers_active(st, NULL, &r->active, err) == -1 ||
	    answers_outside(st, NULL, &r->outside, err) == -1)
		return -1;
	memset(&wf, 0, sizeof(wf));
	wf.since = r->since;
	wf.until = r->now + 1;	/* a grant made at now is in the period */
	if (answers_windows(st, &wf, &r->windows, err) == -1)
		return -1;
	qsort(r->windows.v, r->windows.n, sizeof(*r->windows.v), cmp_window);
	memset(&af, 0, sizeof(af));
	af.since = r->since;
	af.until = r->now + 1;	/* until is exclusive */
	r->sc.ring = xcalloc(EVENTS_MAX, sizeof(*r->sc.ring));
	if (audit_query(st, &af, scan_row, &r->sc, err) == -1)
		return -1;
	if (last_run_load(st, r->now, &r->run, err) == -1)
		return -1;

	names = xcalloc(r->active.n + r->outside.n + 1, sizeof(*names));
	for (i = n = 0; i < r->active.n; i++)
		if (r->active.v[i].person)
			names[n++] = r->active.v[i].person;
	r->people = count_distinct(names, n);
	for (i = n = 0; i < r->active.n; i++)
		names[n++] = r->active.v[i].platform;
	for (i = 0; i < r->outside.n; i++)
		names[n++] = r->outside.v[i].platform;
	r->platforms = count_distinct(names, n);
	free(names);
	for (i = 0; i < r->active.n; i++)
		if (r->active.v[i].expires_at != 0 &&
		    r->active.v[i].expires_at <= r->now + SOON)
			r->expiring++;
	return 0;
}

int
cmd_report(const struct opts *o, int argc, char **argv)
{
	static const char usage[] =
	    "usage: accord report --html FILE [--days N]";
	const char *html = NULL;
	struct report r;
	struct state *st = NULL;
	struct diag err;
	size_t nbars = 0, shown = 0;
	int i, rc = EXIT_ERROR;

	memset(&r, 0, sizeof(r));
	diag_clear(&err);
	r.o = o;
	r.now = o->now;
	r.days = 90;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		long n;

		if (v == NULL)
			goto usage;
		i++;
		if (strcmp(a, "--html") == 0 && *v)
			html = v;
		else if (strcmp(a, "--days") == 0) {
			errno = 0;
			n = strtol(v, &end, 10);
			if (errno || end == v || *end || n < 1 || n > 36500) {
				diag_set(&err, "report: --days: '%s' is not a "
				    "number of days (1 to 36500)", v);
				report_fail(&r, html, &err);
				return EXIT_USAGE;
			}
			r.days = (int)n;
		} else
			goto usage;
	}
	if (html == NULL)
		goto usage;
	r.since = o->now - (int64_t)r.days * DAY;
	switch (answers_state_open(&st, o->state, &err)) {
	case 0:
		report_fail(&r, html, &err);
		return EXIT_NOSTATE;
	case -1:
		report_fail(&r, html, &err);
		return EXIT_ERROR;
	}
	if (load(&r, st, &err) == -1 ||
	    report_save(html, &r, &nbars, &shown, &err) == -1) {
		report_fail(&r, html, &err);
		goto out;
	}
	if (o->json) {
		json_t *doc = json_object();

		json_object_set_new(doc, "error", json_null());
		json_object_set_new(doc, "html", json_string(html));
		json_object_set_new(doc, "now", jtime(r.now));
		json_object_set_new(doc, "days", json_integer(r.days));
		json_object_set_new(doc, "active", json_integer(
		    (json_int_t)r.active.n));
		json_object_set_new(doc, "outside", json_integer(
		    (json_int_t)r.outside.n));
		json_object_set_new(doc, "expiring", json_integer(
		    (json_int_t)r.expiring));
		json_object_set_new(doc, "windows", json_integer(
		    (json_int_t)nbars));
		json_object_set_new(doc, "events", json_integer(
		    (json_int_t)r.sc.n));
		json_object_set_new(doc, "events_shown", json_integer(
		    (json_int_t)shown));
		json_print(doc);
	} else
		printf("wrote %s: %zu active grants, %zu outside accord, %zu "
		    "access windows, %zu audit rows in the last %d days\n",
		    html, r.active.n, r.outside.n, nbars, r.sc.n, r.days);
	rc = EXIT_OK;
	goto out;
usage:
	fprintf(stderr, "%s\n", usage);
	if (o->json)
		report_json_error(&r, html, usage);
	return EXIT_USAGE;
out:
	answers_release(&r.active);
	answers_release(&r.outside);
	answers_release(&r.windows);
	scan_release(&r.sc);
	last_run_release(&r.run);
	state_close(st);
	return rc;
}
