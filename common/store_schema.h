/*
 * store_schema: the analytics_jobs schema and its migrations, for store.c.
 * See store.h for the procedure to change the schema.
 */
#ifndef ARUN_STORE_SCHEMA_H
#define ARUN_STORE_SCHEMA_H

#include <sqlite3.h>

/* Returns 1 for SQLite results that go away by themselves: another
 * connection holds the lock (BUSY, LOCKED), or a WAL lock race
 * (PROTOCOL); extended codes included. Everything else (CORRUPT, NOTADB,
 * FULL, IOERR, TOOBIG, READONLY, CANTOPEN, ...) stays until someone acts. */
int store_schema_transient(int rc);

/* Runs sql on db (rows discarded), trying again while the result is
 * transient, for up to timeout_ms. Returns the last SQLite result; its
 * message is in sqlite3_errmsg(db). */
int store_schema_exec(sqlite3 *db, const char *sql, int timeout_ms);

/* Creates or migrates the schema to STORE_SCHEMA_VERSION in one write
 * transaction (BEGIN IMMEDIATE, waiting up to timeout_ms for the lock).
 * A missing table is recreated whatever user_version says (a script can
 * DROP it): every step is replayed. Sets *recreated to 1 when the table
 * was missing (also on a new file), else 0. Returns 0, or -1 with the
 * reason in err, the transaction rolled back (a newer schema version than
 * this arun knows is refused). */
int store_schema_ensure(sqlite3 *db, int timeout_ms, int *recreated, char err[256]);

#endif
