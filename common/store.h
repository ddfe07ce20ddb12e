/*
 * store: the SQLite record of every run, table analytics_jobs (contract:
 * "SQLite"). A row is written when a job starts (status running) and
 * updated when it ends. The database is in WAL mode so that readers (the
 * analytics scripts themselves, dashboards) never block the worker.
 *
 * Schema versions live in PRAGMA user_version. To change the schema: add a
 * step to the migration list in store.c that takes version N to N+1 (only
 * ADD COLUMN or CREATE INDEX IF NOT EXISTS: the contract's columns never
 * change), and bump STORE_SCHEMA_VERSION. The steps are replayed from the
 * first on a database whose table was dropped, so each must work on the
 * table that the steps before it built.
 */
#ifndef ARUN_STORE_H
#define ARUN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

#define STORE_SCHEMA_VERSION 2

/* Results of store calls.
 * STORE_BUSY: transient. Another connection held the lock past the busy
 *   timeout (SQLITE_BUSY, SQLITE_LOCKED, or a WAL lock race): nothing was
 *   changed; the same call may succeed later. Retry for a bounded time.
 * STORE_FATAL: permanent. The database refused the statement and will
 *   refuse it again until someone acts: a corrupt page (SQLITE_CORRUPT),
 *   not a database (NOTADB), a full disk or a row over max_page_count
 *   (FULL), an I/O error or file size limit (IOERR), a value over SQLite's
 *   limits (TOOBIG), a read-only file (READONLY), ... store_errmsg() says
 *   which. A missing analytics_jobs table is not one of these: every call
 *   recreates it and runs its statement again (a script can DROP it).
 * STORE_ERR is the former name of STORE_FATAL. */
enum { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_FATAL = -1, STORE_BUSY = -2 };
#define STORE_ERR STORE_FATAL

struct store;

/* One row. Text fields are owned by the row (free with store_row_free);
 * a NULL text means SQL NULL. */
struct store_row {
    char id[REQUEST_ID_MAX + 1];
    char script[REQUEST_SCRIPT_MAX + 1];
    char trigger[REQUEST_TRIGGER_MAX + 1];
    char status[16];
    int has_exit_code, exit_code;
    int has_signal, signal;      /* the signal that ended the process */
    char *stdout_text;
    char *stderr_text;
    int64_t duration_ms;         /* -1: NULL */
    char created_at[25];         /* when first taken; kept across reruns */
    char completed_at[25];       /* "": NULL */
    char *args_json;             /* JSON array of the args */
    int attempts;
    char worker[128];
    char queue[REQUEST_QUEUE_MAX + 1];
    char started_at[25];         /* "": NULL (never ran) */
    int64_t cpu_user_ms;         /* -1: NULL; usage from wait4 */
    int64_t cpu_sys_ms;
    int64_t max_rss_kb;
};

/* Clears row to an empty record: every number NULL (-1 or has_* 0), every
 * text NULL or "". */
void store_row_init(struct store_row *row);

/* Opens (creating the file and its folder) the database at path, sets WAL
 * and the busy timeout, and creates or migrates the schema, recreating the
 * table if it is missing whatever user_version says. Every step that needs
 * the lock waits for it up to busy_timeout_ms, so that several processes
 * opening a new file at once all succeed. Returns the handle or NULL with
 * a reason in err. */
struct store *store_open(const char *path, int busy_timeout_ms, char err[256]);

/* Closes the handle; NULL is allowed. */
void store_close(struct store *s);

/* The message of the handle's last failed call, busy or fatal (for logs
 * and a failed job's reason): SQLite's own ("database disk image is
 * malformed", "database or disk is full", ...). "" before any failure. The
 * string belongs to the handle and changes with its next failure. */
const char *store_errmsg(const struct store *s);

/* Returns 1 while the store works, 0 from a call that ended STORE_FATAL
 * until a later call succeeds (busy calls change nothing). For logs and
 * health reports (/healthz); store_errmsg() says what is wrong. */
int store_healthy(const struct store *s);

/* Checks the database now, as a reader would: reads the schema and the
 * table's newest row by rowid, root to leaf (recreating a dropped table). Returns STORE_OK,
 * STORE_BUSY or STORE_FATAL and updates store_healthy(). It does not read
 * every page: corruption elsewhere is found by the calls that touch it. */
int store_probe(struct store *s);

/* Runs sql (a PRAGMA, maintenance: "PRAGMA max_page_count = N" caps the
 * file's size for this connection) on the handle's connection, discarding
 * any rows. Returns STORE_OK, STORE_BUSY or
 * STORE_FATAL, like the calls above. */
int store_exec(struct store *s, const char *sql);

/* How many times since store_open the table was found missing and
 * recreated (for a log line). */
int store_recreated(const struct store *s);

/* Reads the row of id into *row. Returns STORE_OK, STORE_NOTFOUND,
 * STORE_BUSY or STORE_FATAL. On STORE_OK the caller frees with
 * store_row_free. */
int store_get(struct store *s, const char *id, struct store_row *row);

/* Writes row as a new run (insert, or overwrite a previous delivery's row
 * of the same id). Returns STORE_OK, STORE_BUSY or STORE_FATAL. */
int store_put(struct store *s, const struct store_row *row);

/* (Lists of jobs are history.h's: a read-only connection of their own.) */

/* Frees the texts of row and sets them to NULL. */
void store_row_free(struct store_row *row);

/* Returns 1 for a final status (anything but "running", and "queued": a
 * job whose run was stopped at shutdown and whose request went back to its
 * queue), else 0. */
int store_status_final(const char *status);

#endif
