/*
 * The schema, as an ordered list of migrations: migrations[i] takes a
 * database from PRAGMA user_version i to i + 1, in its own transaction,
 * so a crash leaves it at some whole version.  Released migrations are
 * never edited; a change to the schema is a new entry at the end.
 * Times are INTEGER seconds since the epoch, except in the audit table
 * whose rows are read by people and other tools (RFC 3339 text).
 */
#include <stdio.h>

#include "state.h"
#include "statedb.h"

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  command TEXT NOT NULL,"
	"  commit_sha TEXT,"
	"  exit_code INTEGER,"
	"  stats TEXT"
	") STRICT;"

	"CREATE TABLE identities ("
	"  platform TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  email TEXT,"
	"  login TEXT,"
	"  person TEXT,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (platform, account)"
	") STRICT;"
	"CREATE INDEX identities_person ON identities(person);"

	/* The grants found at the last ingest of each platform. */
	"CREATE TABLE ingested ("
	"  platform TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  privilege TEXT NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (platform, account, target, privilege)"
	") STRICT;"
	"CREATE INDEX ingested_target ON ingested(platform, target);"

	/* The grants accord made and believes still exist. */
	"CREATE TABLE grants ("
	"  platform TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  person TEXT,"
	"  target TEXT NOT NULL,"
	"  privilege TEXT NOT NULL,"
	"  request TEXT,"
	"  blob TEXT,"
	"  commit_sha TEXT,"
	"  approvers TEXT,"
	"  approved_at INTEGER NOT NULL DEFAULT 0,"
	"  expires_at INTEGER NOT NULL DEFAULT 0,"
	"  granted_at INTEGER NOT NULL,"
	"  PRIMARY KEY (platform, account, target, privilege)"
	") STRICT;"
	"CREATE INDEX grants_person ON grants(person);"

	"CREATE TABLE intents ("
	"  id INTEGER PRIMARY KEY,"
	"  run INTEGER REFERENCES runs(id),"
	"  action TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),"
	"  reason TEXT,"
	"  platform TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  person TEXT,"
	"  target TEXT NOT NULL,"
	"  privilege TEXT NOT NULL,"
	"  request TEXT,"
	"  blob TEXT,"
	"  commit_sha TEXT,"
	"  approvers TEXT,"
	"  approved_at INTEGER NOT NULL DEFAULT 0,"
	"  expires_at INTEGER NOT NULL DEFAULT 0,"
	"  granted_at INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  outcome TEXT CHECK (outcome IN ('done', 'failed', 'recovered'))"
	") STRICT;"
	"CREATE INDEX intents_pending ON intents(id) WHERE outcome IS NULL;"

	"CREATE TABLE notifications ("
	"  key TEXT PRIMARY KEY,"
	"  sent_at INTEGER NOT NULL,"
	"  detail TEXT"
	") STRICT;"

	/* A parsed request, or the error it failed with: never both. */
	"CREATE TABLE request_cache ("
	"  blob TEXT NOT NULL,"
	"  config_blob TEXT NOT NULL,"
	"  json TEXT,"
	"  err_file TEXT,"
	"  err_line INTEGER,"
	"  err_col INTEGER,"
	"  err_msg TEXT,"
	"  PRIMARY KEY (blob, config_blob),"
	"  CHECK ((json IS NULL) <> (err_msg IS NULL))"
	") STRICT;"

	"CREATE TABLE approval_cache ("
	"  path TEXT PRIMARY KEY,"
	"  blob TEXT NOT NULL,"
	"  commit_sha TEXT NOT NULL,"
	"  approved_at INTEGER NOT NULL,"
	"  approvers TEXT NOT NULL"
	") STRICT;"

	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	") STRICT;"

	"CREATE TABLE decisions ("
	"  blob TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  PRIMARY KEY (blob, key)"
	") STRICT;"

	/* seq is assigned by audit_append (it is part of the hash). */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  run INTEGER NOT NULL,"
	"  action TEXT NOT NULL,"
	"  platform TEXT,"
	"  account TEXT,"
	"  person TEXT,"
	"  target TEXT,"
	"  privilege TEXT,"
	"  request TEXT,"
	"  commit_sha TEXT,"
	"  approvers TEXT,"
	"  expires_at TEXT,"
	"  reason TEXT,"
	"  detail TEXT,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL"
	") STRICT;"
	"CREATE INDEX audit_person ON audit(person);"
	"CREATE INDEX audit_target ON audit(platform, target);"
	"CREATE INDEX audit_at ON audit(at);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'audit log is append-only');"
	" END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'audit log is append-only');"
	" END;",

	/*
	 * 2: notifications owed and sent (outbox.h).  A message is owed
	 * while sent_at is 0.  The cursor starts at the audit log's end, so
	 * that grants made before notifications existed are not announced
	 * now.  Slack messages posted for pending request versions are
	 * what approval by reaction reads back.
	 */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL UNIQUE,"
	"  event TEXT NOT NULL,"
	"  channel TEXT NOT NULL CHECK (channel IN ('slack', 'email')),"
	"  recipients TEXT NOT NULL,"
	"  subject TEXT,"
	"  body TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  last_attempt INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX outbox_owed ON outbox(created_at, id) WHERE sent_at = 0;"

	"CREATE TABLE outbox_cursor ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  audit_seq INTEGER NOT NULL"
	") STRICT;"
	"INSERT INTO outbox_cursor (id, audit_seq)"
	"  SELECT 1, COALESCE(MAX(seq), 0) FROM audit;"

	"CREATE TABLE slack_posted ("
	"  path TEXT NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  ts TEXT NOT NULL,"
	"  posted_at INTEGER NOT NULL,"
	"  merged_at INTEGER NOT NULL DEFAULT 0,"
	"  merge_commit TEXT,"
	"  PRIMARY KEY (path, blob)"
	") STRICT;"
	"CREATE INDEX slack_posted_open ON slack_posted(posted_at)"
	"  WHERE merged_at = 0;",

	/*
	 * 3: answers (answers.h).  The rule that allowed a grant and who
	 * asked for it (also for a grant to a role) are kept beside it.
	 * People are matched case-insensitively, so their indexes are
	 * NOCASE.  history reads grant and revoke rows by person, by
	 * target (in grant-then-seq order, which is also how the row that
	 * closes a window is found) or by grantee (what a role held),
	 * check a person's rows on one target newest first, and who the
	 * holders of a target, through covering
	 * indexes (so that a platform's whole primary key is never the
	 * cheaper-looking scan).  The first-schema indexes these replace
	 * are dropped.
	 */
	"ALTER TABLE grants ADD COLUMN rule TEXT;"
	"ALTER TABLE intents ADD COLUMN rule TEXT;"
	"ALTER TABLE grants ADD COLUMN requester TEXT;"
	"ALTER TABLE intents ADD COLUMN requester TEXT;"
	"DROP INDEX grants_person;"
	"CREATE INDEX grants_person ON grants(person COLLATE NOCASE);"
	"CREATE INDEX grants_target ON grants(platform, target, account,"
	"  privilege);"
	"DROP INDEX identities_person;"
	"CREATE INDEX identities_person ON identities(person COLLATE NOCASE);"
	"CREATE INDEX identities_account ON identities(account);"
	"DROP INDEX audit_person;"
	"CREATE INDEX audit_person ON audit(person COLLATE NOCASE, platform,"
	"  target, seq);"
	"DROP INDEX audit_target;"
	"CREATE INDEX audit_target ON audit(platform, target, account,"
	"  privilege, seq);"
	"CREATE INDEX audit_account ON audit(platform, account, seq);"
	"CREATE INDEX audit_target_any ON audit(target, seq);"
	"DROP INDEX ingested_target;"
	"CREATE INDEX ingested_target ON ingested(platform, target, account,"
	"  privilege);",
};

const int db_schema_version = sizeof(migrations) / sizeof(migrations[0]);

static int
user_version(struct state *s, int64_t *v, struct diag *err)
{
	struct stmt st;
	int rc;

	if (db_prepare(s, &st, "PRAGMA user_version", err) < 0)
		return -1;
	rc = db_step(&st, err);
	if (rc == 1)
		*v = db_col_int(&st, 0);
	else if (rc == 0)
		rc = diag_set(err, "sqlite: PRAGMA user_version gave no row");
	db_finalize(&st);
	return rc < 0 ? -1 : 0;
}

int
db_migrate(struct state *s, struct diag *err)
{
	struct tx tx;
	char sql[64];
	int64_t v;

	if (user_version(s, &v, err) < 0)
		return -1;
	if (v > db_schema_version)
		return diag_set(err, "schema version %lld is newer than this "
		    "accord knows (%d); upgrade accord", (long long)v,
		    db_schema_version);
	while (v < db_schema_version) {
		if (db_tx_begin(s, &tx, err) < 0)
			return -1;
		/* Another process may have migrated while we waited. */
		if (user_version(s, &v, err) < 0)
			goto fail;
		if (v >= db_schema_version) {
			db_tx_rollback(s, &tx);
			break;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    (long long)v + 1);
		if (db_exec(s, migrations[v], err) < 0 ||
		    db_exec(s, sql, err) < 0) {
			diag_prefix(err, "migrating to version %lld",
			    (long long)v + 1);
			goto fail;
		}
		if (db_tx_commit(s, &tx, err) < 0)
			goto fail;
		v++;
	}
	return 0;
fail:
	db_tx_rollback(s, &tx);
	return -1;
}
