/*
 * The outbox (DESIGN §7, §8, §12): every notification is queued under a
 * stable key before anyone is told, so an event is announced once across
 * runs however often the run that saw it is repeated, and a delivery that
 * failed stays owed until a later run gets it through.  Queueing and the
 * audit cursor move together in the caller's transaction; a delivery's
 * outcome is its own small unit of work.  Also the Slack messages posted
 * for pending request versions, which approval by reaction reads back.
 * Message texts are composed by the caller and never hold a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "state.h"
#include "statedb.h"
#include "util.h"

#define OUTBOX_COLS "key, event, channel, recipients, subject, body, " \
	"created_at, attempts, last_error, sent_at"
#define POSTED_COLS "path, blob, channel, ts, posted_at, merged_at, " \
	"merge_commit"

void
outbox_msg_release(struct outbox_msg *m)
{
	if (m == NULL)
		return;
	free(m->key);
	free(m->event);
	free(m->channel);
	free(m->recipients);
	free(m->subject);
	free(m->body);
	free(m->last_error);
	memset(m, 0, sizeof(*m));
}

void
outbox_msgs_free(struct outbox_msg *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		outbox_msg_release(&v[i]);
	free(v);
}

void
posted_release(struct posted *p)
{
	if (p == NULL)
		return;
	free(p->path);
	free(p->channel);
	free(p->ts);
	free(p->merge_commit);
	memset(p, 0, sizeof(*p));
}

void
posted_free(struct posted *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		posted_release(&v[i]);
	free(v);
}

/* Run one statement that returns no rows and finalize it. */
static int
finish(struct stmt *st, struct diag *err)
{
	int rc = db_step(st, err);

	db_finalize(st);
	if (rc == 1)
		return diag_set(err, "sqlite: unexpected row");
	return rc;
}

static int
empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

int
outbox_add(struct state *s, const struct outbox_msg *m, struct diag *err)
{
	struct stmt st;

	if (empty(m->key) || empty(m->event) || empty(m->channel) ||
	    empty(m->recipients) || m->body == NULL)
		return diag_set(err, "outbox: a message needs a key, event, "
		    "channel, recipients and body");
	if (strcmp(m->channel, "slack") != 0 && strcmp(m->channel, "email") != 0)
		return diag_set(err, "outbox: unknown channel '%s'", m->channel);
	if (db_prepare(s, &st, "INSERT INTO outbox (key, event, channel, "
	    "recipients, subject, body, created_at) VALUES (:key, :event, "
	    ":channel, :recipients, :subject, :body, :created_at) "
	    "ON CONFLICT (key) DO NOTHING", err) < 0)
		return -1;
	db_bind_text(&st, ":key", m->key);
	db_bind_text(&st, ":event", m->event);
	db_bind_text(&st, ":channel", m->channel);
	db_bind_text(&st, ":recipients", m->recipients);
	db_bind_text(&st, ":subject", m->subject);
	db_bind_text(&st, ":body", m->body);
	db_bind_int(&st, ":created_at", m->created_at);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "queueing notification '%s'", m->key);
	return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

int
outbox_owed(struct state *s, struct outbox_msg **out, size_t *n,
    struct diag *err)
{
	struct stmt st;
	struct outbox_msg *v = NULL, *m;
	size_t nv = 0, av = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(s, &st, "SELECT " OUTBOX_COLS " FROM outbox "
	    "WHERE sent_at = 0 ORDER BY attempts, created_at, id", err) < 0)
		return -1;
	while ((rc = db_step(&st, err)) == 1) {
		v = xgrow(v, sizeof(*v), nv, &av);
		m = &v[nv++];
		memset(m, 0, sizeof(*m));
		m->key = db_col_dup(&st, 0);
		m->event = db_col_dup(&st, 1);
		m->channel = db_col_dup(&st, 2);
		m->recipients = db_col_dup(&st, 3);
		m->subject = db_col_dup(&st, 4);
		m->body = db_col_dup(&st, 5);
		m->created_at = db_col_int(&st, 6);
		m->attempts = (int)db_col_int(&st, 7);
		m->last_error = db_col_dup(&st, 8);
		m->sent_at = db_col_int(&st, 9);
	}
	db_finalize(&st);
	if (rc < 0) {
		outbox_msgs_free(v, nv);
		return diag_prefix(err, "loading owed notifications");
	}
	*out = v;
	*n = nv;
	return 0;
}

int
outbox_result(struct state *s, const char *key, int64_t now,
    const char *error, struct diag *err)
{
	struct stmt st;

	if (db_prepare(s, &st, error == NULL ?
	    "UPDATE outbox SET attempts = attempts + 1, last_attempt = :now, "
	    "sent_at = :now WHERE key = :key AND sent_at = 0" :
	    "UPDATE outbox SET attempts = attempts + 1, last_attempt = :now, "
	    "last_error = :error WHERE key = :key AND sent_at = 0", err) < 0)
		return -1;
	/* sent_at 0 means owed: a clock at the epoch still marks it sent. */
	db_bind_int(&st, ":now", now > 0 ? now : 1);
	db_bind_text(&st, ":key", key);
	if (error)
		db_bind_text(&st, ":error", error);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording delivery of '%s'", key);
	if (sqlite3_changes(s->db) != 1)
		return diag_set(err, "recording delivery of '%s': no such "
		    "owed notification", key);
	return 0;
}

int
outbox_known(struct state *s, const char *key, struct diag *err)
{
	struct stmt st;
	int rc;

	if (db_prepare(s, &st, "SELECT 1 FROM outbox WHERE key = :key",
	    err) < 0)
		return -1;
	db_bind_text(&st, ":key", key);
	rc = db_step(&st, err);
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "looking up notification '%s'", key);
	return rc;
}

int
outbox_cursor(struct state *s, int64_t *seq, struct diag *err)
{
	struct stmt st;
	int rc;

	*seq = 0;
	if (db_prepare(s, &st, "SELECT audit_seq FROM outbox_cursor "
	    "WHERE id = 1", err) < 0)
		return -1;
	rc = db_step(&st, err);
	if (rc == 1)
		*seq = db_col_int(&st, 0);
	db_finalize(&st);
	if (rc < 0)
		return diag_prefix(err, "reading the notification cursor");
	return 0;
}

int
outbox_set_cursor(struct state *s, int64_t seq, struct diag *err)
{
	struct stmt st;

	if (seq < 0)
		return diag_set(err, "notification cursor %lld is negative",
		    (long long)seq);
	if (db_prepare(s, &st, "INSERT INTO outbox_cursor (id, audit_seq) "
	    "VALUES (1, :seq) ON CONFLICT (id) DO UPDATE SET "
	    "audit_seq = excluded.audit_seq", err) < 0)
		return -1;
	db_bind_int(&st, ":seq", seq);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "moving the notification cursor");
	return 0;
}

static int
is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[40] == '\0';
}

int
outbox_posted_add(struct state *s, const struct posted *p, struct diag *err)
{
	struct stmt st;

	if (empty(p->path) || !is_hex40(p->blob) || empty(p->channel) ||
	    empty(p->ts))
		return diag_set(err, "outbox: a posted message needs a path, "
		    "a blob id, a channel and a ts");
	/* Posted again (a retry after losing the first answer): the newest
	 * message is the one people react to. */
	if (db_prepare(s, &st, "INSERT INTO slack_posted (path, blob, "
	    "channel, ts, posted_at) VALUES (:path, :blob, :channel, :ts, "
	    ":posted_at) ON CONFLICT (path, blob) DO UPDATE SET "
	    "channel = excluded.channel, ts = excluded.ts, "
	    "posted_at = excluded.posted_at WHERE merged_at = 0", err) < 0)
		return -1;
	db_bind_text(&st, ":path", p->path);
	db_bind_text(&st, ":blob", p->blob);
	db_bind_text(&st, ":channel", p->channel);
	db_bind_text(&st, ":ts", p->ts);
	db_bind_int(&st, ":posted_at", p->posted_at);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording the Slack message for %s",
		    p->path);
	return 0;
}

int
outbox_posted_open(struct state *s, struct posted **out, size_t *n,
    struct diag *err)
{
	struct stmt st;
	struct posted *v = NULL, *p;
	const char *blob;
	size_t nv = 0, av = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (db_prepare(s, &st, "SELECT " POSTED_COLS " FROM slack_posted "
	    "WHERE merged_at = 0 ORDER BY posted_at, path, blob", err) < 0)
		return -1;
	while ((rc = db_step(&st, err)) == 1) {
		v = xgrow(v, sizeof(*v), nv, &av);
		p = &v[nv++];
		memset(p, 0, sizeof(*p));
		p->path = db_col_dup(&st, 0);
		blob = db_col_text(&st, 1);
		snprintf(p->blob, sizeof(p->blob), "%s", blob ? blob : "");
		p->channel = db_col_dup(&st, 2);
		p->ts = db_col_dup(&st, 3);
		p->posted_at = db_col_int(&st, 4);
		p->merged_at = db_col_int(&st, 5);
		p->merge_commit = db_col_dup(&st, 6);
	}
	db_finalize(&st);
	if (rc < 0) {
		posted_free(v, nv);
		return diag_prefix(err, "loading posted Slack messages");
	}
	*out = v;
	*n = nv;
	return 0;
}

int
outbox_posted_merged(struct state *s, const char *path, const char *blob,
    const char *commit, int64_t at, struct diag *err)
{
	struct stmt st;

	if (empty(commit))
		return diag_set(err, "outbox: a merge needs its commit id");
	if (db_prepare(s, &st, "UPDATE slack_posted SET merged_at = :at, "
	    "merge_commit = :commit WHERE path = :path AND blob = :blob",
	    err) < 0)
		return -1;
	db_bind_int(&st, ":at", at > 0 ? at : 1);
	db_bind_text(&st, ":commit", commit);
	db_bind_text(&st, ":path", path);
	db_bind_text(&st, ":blob", blob);
	if (finish(&st, err) < 0)
		return diag_prefix(err, "recording the merge of %s", path);
	if (sqlite3_changes(s->db) != 1)
		return diag_set(err, "recording the merge of %s: no Slack "
		    "message was posted for blob %.12s", path, blob);
	return 0;
}
