/*
 * history: reading analytics_jobs (contract: "SQLite", and the list and
 * detail of arun-http, the MCP tools and arun-ctl). One read-only
 * connection; the list is newest first by (created_at DESC, id DESC) with
 * keyset pages: a page ends with an opaque cursor that the next call takes
 * as `before`, so a page costs the same wherever it is and rows inserted
 * meanwhile neither repeat nor shift a page.
 *
 * Rows come out as JSON objects (jansson), the same fields and format as
 * the result record (common/record.h: record_result_json), plus every
 * other column of the table under its own name, so columns added by a
 * later schema (started_at, cpu_user_ms, ...) appear without a change here
 * and an older database without them still reads. List rows have no
 * stdout and stderr.
 *
 * Blocking, but bounded: SQLite's busy timeout (HISTORY_BUSY_TIMEOUT_MS)
 * and a page of at most HISTORY_LIMIT_MAX rows; fine from an event loop.
 * Not thread-safe: one handle per thread.
 */
#ifndef ARUN_HISTORY_H
#define ARUN_HISTORY_H

#include <stddef.h>

#include <jansson.h>

#define HISTORY_LIMIT_DEFAULT 50
#define HISTORY_LIMIT_MAX 500
#define HISTORY_STATUSES_MAX 16   /* statuses in one filter */
#define HISTORY_CURSOR_MAX 192    /* a cursor's text, with its NUL */
#define HISTORY_BUSY_TIMEOUT_MS 2000
#define HISTORY_ERR_MAX 256

enum history_rc {
    HISTORY_OK = 0,
    HISTORY_NOTFOUND = 1,
    HISTORY_ERR = -1,      /* the database could not be read; history_errstr says why */
    HISTORY_BUSY = -2,     /* locked past the busy timeout: try again */
    HISTORY_INVALID = -3,  /* a filter or cursor was refused; history_errstr says why */
};

struct history;

/* A list query. Pointers are borrowed for the duration of the call; a
 * zeroed struct lists the newest HISTORY_LIMIT_DEFAULT jobs. */
struct history_filter {
    const char *statuses[HISTORY_STATUSES_MAX]; /* any of them; none: all */
    size_t nstatuses;
    const char *script;    /* NULL: any; "x" and "x.py" are the same */
    const char *trigger;   /* NULL: any (matches trigger_type) */
    const char *id_prefix; /* NULL: any; ids starting with it */
    int limit;             /* 1..HISTORY_LIMIT_MAX; 0: HISTORY_LIMIT_DEFAULT */
    const char *before;    /* NULL or "": the first page; else a cursor from a page */
};

/* Opens the database at path read-only (it is never created: a missing
 * file is an error saying so). Returns the handle, or NULL with a one-line
 * reason in err. */
struct history *history_open(const char *path, char err[HISTORY_ERR_MAX]);

/* Closes h; NULL is allowed. */
void history_close(struct history *h);

/* The last error of h, one line. */
const char *history_errstr(const struct history *h);

/* Checks a filter: statuses 1-15 of a-z (not checked against a list, so a
 * status added later filters too), script/trigger/id prefix 1-128 bytes,
 * limit, and the cursor. Pure. Returns 0, or -1 with a reason in err and
 * the query parameter at fault ("status", "script", "trigger", "id",
 * "limit", "before") in *field (static; field may be NULL). */
int history_filter_check(const struct history_filter *f, char err[HISTORY_ERR_MAX],
                         const char **field);

/* Splits a comma-separated status list (e.g. "error,timeout") into
 * f->statuses, in place: commas in csv become NULs, so csv must outlive
 * the filter. Empty items are refused. Returns 0, or -1 with err set. */
int history_filter_statuses(struct history_filter *f, char *csv, char err[HISTORY_ERR_MAX]);

/* One page: rows newest first into *jobs (a new JSON array the caller
 * json_decref()s), and the cursor of the next page in next ("" when this
 * page is the last). Returns HISTORY_OK, HISTORY_INVALID (filter or
 * cursor; nothing returned), HISTORY_BUSY or HISTORY_ERR. */
int history_list(struct history *h, const struct history_filter *f, json_t **jobs,
                 char next[HISTORY_CURSOR_MAX]);

/* The whole row of id, output included, into *job (a new JSON object the
 * caller json_decref()s). Returns HISTORY_OK, HISTORY_NOTFOUND,
 * HISTORY_BUSY or HISTORY_ERR. */
int history_get(struct history *h, const char *id, json_t **job);

/* Pure: the cursor that follows a row with these created_at and id.
 * Returns 0, or -1 when they do not fit HISTORY_CURSOR_MAX. */
int history_cursor_encode(const char *created_at, const char *id,
                          char out[HISTORY_CURSOR_MAX]);

/* Pure: the created_at and id a cursor stands for. Returns 0, or -1 for
 * anything history_cursor_encode did not make. */
int history_cursor_decode(const char *cursor, char created_at[32], char id[128]);

/* Pure: the SQL history_list prepares for a filter of this shape (values
 * are bound, never written in): "SELECT * FROM analytics_jobs WHERE ...
 * ORDER BY created_at DESC, id DESC LIMIT ?". (When the statuses asked
 * for have many rows, history_list writes "+status" instead, so SQLite
 * walks created_at in order rather than sort them all.) Returns the length
 * written, or -1 when out (size outsz) is too small. For tests and EXPLAIN. */
int history_sql(const struct history_filter *f, char *out, size_t outsz);

#endif
