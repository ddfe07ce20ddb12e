/*
 * store: the SQLite record of every run, table analytics_jobs (contract:
 * "SQLite"). A row is written when a job starts (status running) and
 * updated when it ends. The database is in WAL mode so that readers (the
 * analytics scripts themselves, dashboards) never block the worker.
 *
 * Schema versions live in PRAGMA user_version. To change the schema: add a
 * step to the migration list in store.c that takes version N to N+1 (only
 * ADD COLUMN or CREATE INDEX: the contract's columns never change), and
 * bump STORE_SCHEMA_VERSION.
 */
#ifndef ARUN_STORE_H
#define ARUN_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 2

/* Results of store calls. STORE_BUSY means another connection holds the
 * lock past the busy timeout: nothing was changed, try again later. */
enum { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_ERR = -1, STORE_BUSY = -2 };

struct store;

/* One row. Text fields are owned by the row (free with store_row_free);
 * a NULL text means SQL NULL. */
struct store_row {
    char id[65];
    char script[129];
    char trigger[65];
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
    char queue[65];
    char started_at[25];         /* "": NULL (never ran) */
    int64_t cpu_user_ms;         /* -1: NULL; usage from wait4 */
    int64_t cpu_sys_ms;
    int64_t max_rss_kb;
};

/* Clears row to an empty record: every number NULL (-1 or has_* 0), every
 * text NULL or "". */
void store_row_init(struct store_row *row);

/* Opens (creating the file and its folder) the database at path, sets WAL
 * and the busy timeout, and creates or migrates the schema. Returns the
 * handle or NULL with a reason in err. */
struct store *store_open(const char *path, int busy_timeout_ms, char err[256]);

/* Closes the handle; NULL is allowed. */
void store_close(struct store *s);

/* The last error message of the handle (for logs). */
const char *store_errmsg(struct store *s);

/* Reads the row of id into *row. Returns STORE_OK, STORE_NOTFOUND,
 * STORE_BUSY or STORE_ERR. On STORE_OK the caller frees with
 * store_row_free. */
int store_get(struct store *s, const char *id, struct store_row *row);

/* Writes row as a new run (insert, or overwrite a previous delivery's row
 * of the same id). Returns STORE_OK, STORE_BUSY or STORE_ERR. */
int store_put(struct store *s, const struct store_row *row);

/* Reads the latest rows, newest first, of one script (or all when script
 * is NULL). Returns the number read (<= limit) into rows, or STORE_BUSY or
 * STORE_ERR. The caller frees each row. */
int store_recent(struct store *s, const char *script, int limit, struct store_row *rows);

/* Frees the texts of row and sets them to NULL. */
void store_row_free(struct store_row *row);

/* Returns 1 for a final status (anything but "running"), else 0. */
int store_status_final(const char *status);

#endif
