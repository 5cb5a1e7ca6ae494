/*
 * Opening the state database and talking to it: the file is created
 * owner-only (it records who may access what), the connection gets WAL,
 * a busy timeout and foreign keys, and then the schema is migrated.
 * Every statement of the floor goes through the wrapper here, which
 * binds by name and refuses an unknown or forgotten parameter name
 * rather than let SQLite treat it as NULL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state.h"
#include "statedb.h"
#include "util.h"

#define SQL_EXCERPT 60

static void
sql_excerpt(char *out, size_t outsz, sqlite3_stmt *st)
{
	const char *sql = st ? sqlite3_sql(st) : NULL;
	size_t n;

	if (sql == NULL)
		sql = "";
	while (*sql == ' ' || *sql == '\t' || *sql == '\n')
		sql++;
	n = strcspn(sql, "\n");
	if (n > SQL_EXCERPT)
		n = SQL_EXCERPT;
	snprintf(out, outsz, "%.*s%s", (int)n, sql, sql[n] ? "..." : "");
}

int
db_prepare(struct state *s, struct stmt *st, const char *sql,
    struct diag *err)
{
	memset(st, 0, sizeof(*st));
	st->db = s->db;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st->st, NULL) != SQLITE_OK) {
		diag_set(err, "sqlite: %s (preparing %.60s)",
		    sqlite3_errmsg(s->db), sql);
		sqlite3_finalize(st->st);
		st->st = NULL;
		return -1;
	}
	st->nparams = sqlite3_bind_parameter_count(st->st);
	st->bound = xcalloc((size_t)st->nparams + 1, 1);
	return 0;
}

/* The parameter's index, or 0 after recording why there is none. */
static int
bind_index(struct stmt *st, const char *name)
{
	char sql[SQL_EXCERPT + 8];
	int i;

	if (st->st == NULL) {
		if (st->bad[0] == '\0')
			snprintf(st->bad, sizeof(st->bad),
			    "bind %s on an unprepared statement", name);
		return 0;
	}
	i = sqlite3_bind_parameter_index(st->st, name);
	if (i == 0 && st->bad[0] == '\0') {
		sql_excerpt(sql, sizeof(sql), st->st);
		snprintf(st->bad, sizeof(st->bad),
		    "unknown bind parameter %s in \"%s\"", name, sql);
	}
	return i;
}

static int
bind_done(struct stmt *st, int i, int rc, const char *name)
{
	if (rc != SQLITE_OK) {
		if (st->bad[0] == '\0')
			snprintf(st->bad, sizeof(st->bad), "binding %s: %s",
			    name, sqlite3_errstr(rc));
		return -1;
	}
	st->bound[i] = 1;
	return 0;
}

int
db_bind_text(struct stmt *st, const char *name, const char *v)
{
	int i = bind_index(st, name);

	if (i == 0)
		return -1;
	if (v == NULL)
		return bind_done(st, i, sqlite3_bind_null(st->st, i), name);
	return bind_done(st, i,
	    sqlite3_bind_text(st->st, i, v, -1, SQLITE_TRANSIENT), name);
}

int
db_bind_int(struct stmt *st, const char *name, int64_t v)
{
	int i = bind_index(st, name);

	if (i == 0)
		return -1;
	return bind_done(st, i, sqlite3_bind_int64(st->st, i, v), name);
}

int
db_bind_null(struct stmt *st, const char *name)
{
	int i = bind_index(st, name);

	if (i == 0)
		return -1;
	return bind_done(st, i, sqlite3_bind_null(st->st, i), name);
}

int
db_step(struct stmt *st, struct diag *err)
{
	char sql[SQL_EXCERPT + 8];
	int i, rc;

	if (st->bad[0])
		return diag_set(err, "sqlite: %s", st->bad);
	if (st->st == NULL)
		return diag_set(err, "sqlite: step on an unprepared statement");
	for (i = 1; i <= st->nparams; i++) {
		if (!st->bound[i]) {
			const char *name = sqlite3_bind_parameter_name(st->st, i);

			sql_excerpt(sql, sizeof(sql), st->st);
			return diag_set(err, "sqlite: parameter %s not bound "
			    "in \"%s\"", name ? name : "?", sql);
		}
	}
	rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	sql_excerpt(sql, sizeof(sql), st->st);
	diag_set(err, "sqlite: %s (in \"%s\")", sqlite3_errmsg(st->db), sql);
	/* Leave the statement usable by a later reset. */
	sqlite3_reset(st->st);
	return -1;
}

void
db_reset(struct stmt *st)
{
	if (st->st == NULL)
		return;
	sqlite3_reset(st->st);
	memset(st->bound, 0, (size_t)st->nparams + 1);
	st->bad[0] = '\0';
}

void
db_finalize(struct stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->st);
	free(st->bound);
	st->st = NULL;
	st->bound = NULL;
}

const char *
db_col_text(struct stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->st, i);
}

char *
db_col_dup(struct stmt *st, int i)
{
	return xstrdup(db_col_text(st, i));
}

int64_t
db_col_int(struct stmt *st, int i)
{
	return sqlite3_column_int64(st->st, i);
}

int
db_col_null(struct stmt *st, int i)
{
	return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

int
db_exec(struct state *s, const char *sql, struct diag *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		diag_set(err, "sqlite: %s (in \"%.60s\")",
		    msg ? msg : sqlite3_errmsg(s->db), sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
db_tx_begin(struct state *s, struct tx *tx, struct diag *err)
{
	tx->nested = !sqlite3_get_autocommit(s->db);
	return db_exec(s, tx->nested ? "SAVEPOINT accord_unit" :
	    "BEGIN IMMEDIATE", err);
}

int
db_tx_commit(struct state *s, struct tx *tx, struct diag *err)
{
	return db_exec(s, tx->nested ? "RELEASE accord_unit" : "COMMIT", err);
}

void
db_tx_rollback(struct state *s, struct tx *tx)
{
	if (tx->nested)
		db_exec(s, "ROLLBACK TO accord_unit; RELEASE accord_unit",
		    NULL);
	else if (!sqlite3_get_autocommit(s->db))
		db_exec(s, "ROLLBACK", NULL);
}

/*
 * Create the file owner-only before SQLite sees it: SQLite would create
 * it with the umask's permissions, and its -wal and -shm files copy the
 * database file's mode.  An existing file keeps the mode its owner gave it.
 */
static int
create_private(const char *path, struct diag *err)
{
	int fd;

	if (strcmp(path, ":memory:") == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return diag_set(err, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

int
state_open(struct state **out, const char *path, struct diag *err)
{
	struct state *s;
	int rc;

	*out = NULL;
	if (create_private(path, err) < 0)
		return -1;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		diag_set(err, "sqlite: %s", s->db ? sqlite3_errmsg(s->db) :
		    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* busy_timeout first: switching to WAL itself needs a lock. */
	if (db_exec(s, "PRAGMA busy_timeout = 5000", err) < 0 ||
	    db_exec(s, "PRAGMA journal_mode = WAL", err) < 0 ||
	    db_exec(s, "PRAGMA synchronous = NORMAL", err) < 0 ||
	    db_exec(s, "PRAGMA foreign_keys = ON", err) < 0)
		goto fail;
	if (db_migrate(s, err) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	diag_prefix(err, "state database %s", path);
	state_close(s);
	return -1;
}

void
state_close(struct state *s)
{
	if (s == NULL)
		return;
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

struct sqlite3 *
state_db(struct state *s)
{
	return s->db;
}

int
state_begin(struct state *s, struct diag *err)
{
	return db_exec(s, "BEGIN IMMEDIATE", err);
}

/* On failure (e.g. SQLITE_BUSY) the transaction stays open: roll back. */
int
state_commit(struct state *s, struct diag *err)
{
	return db_exec(s, "COMMIT", err);
}

void
state_rollback(struct state *s)
{
	if (s != NULL && !sqlite3_get_autocommit(s->db))
		db_exec(s, "ROLLBACK", NULL);
}
