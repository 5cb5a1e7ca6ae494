/*
 * Inside the state floor: the one statement wrapper every query goes
 * through (bind by name, fail on an unknown or forgotten name), nested
 * transactions for functions that must be atomic whether or not the
 * caller already opened one, and the migration entry point.  Not a
 * public header: only the files of state/ and its unit tests include it.
 */
#ifndef ACCORD_STATEDB_H
#define ACCORD_STATEDB_H

#include <stdint.h>

#include <sqlite3.h>

#include "diag.h"
#include "state.h"

struct state {
	sqlite3 *db;
	char *path;
};

/*
 * A prepared statement.  A bind that fails (unknown name, SQLite error)
 * is remembered, and the next db_step refuses to run, so call sites may
 * bind without checking each call.  db_step also refuses while a named
 * parameter is still unbound since prepare or the last db_reset: SQLite
 * keeps old bindings across a reset, which would silently reuse the
 * previous row's value in a loop.
 */
struct stmt {
	sqlite3_stmt *st;
	sqlite3 *db;
	unsigned char *bound;	/* per parameter, 1-based */
	int nparams;
	char bad[256];		/* first bind failure, "" when none */
};

int db_prepare(struct state *s, struct stmt *st, const char *sql,
    struct diag *err);
int db_bind_text(struct stmt *st, const char *name, const char *v);	/* NULL binds NULL */
int db_bind_int(struct stmt *st, const char *name, int64_t v);
int db_bind_null(struct stmt *st, const char *name);
/* 1: a row; 0: done; -1: error (err set). */
int db_step(struct stmt *st, struct diag *err);
/* Ready for new bindings; every parameter must be bound again. */
void db_reset(struct stmt *st);
void db_finalize(struct stmt *st);	/* accepts a never-prepared, zeroed stmt */
/* Column i as stored; NULL for SQL NULL. */
const char *db_col_text(struct stmt *st, int i);
char *db_col_dup(struct stmt *st, int i);	/* xstrdup of db_col_text */
int64_t db_col_int(struct stmt *st, int i);	/* NULL reads as 0 */
int db_col_null(struct stmt *st, int i);

/* Run SQL without parameters or results (schema, pragmas). */
int db_exec(struct state *s, const char *sql, struct diag *err);

/*
 * A unit of work: BEGIN IMMEDIATE when no transaction is open, else a
 * savepoint inside the caller's, so the caller's commit or rollback
 * still decides.
 */
struct tx {
	int nested;
};
int db_tx_begin(struct state *s, struct tx *tx, struct diag *err);
int db_tx_commit(struct state *s, struct tx *tx, struct diag *err);
void db_tx_rollback(struct state *s, struct tx *tx);

/* migrate.c: bring the schema to db_schema_version. */
extern const int db_schema_version;
int db_migrate(struct state *s, struct diag *err);

#endif
