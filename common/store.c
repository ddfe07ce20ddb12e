/*
 * store: analytics_jobs in SQLite, with statements prepared once and kept.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store_schema.h"

struct store {
    sqlite3 *db;
    int busy_timeout_ms;
    int healthy;            /* 0 after a STORE_FATAL, 1 again after a success */
    int recreated;          /* times the table was found missing and recreated */
    char errmsg[256];       /* the last failure's message; "" before any */
    sqlite3_stmt *get;
    sqlite3_stmt *put;      /* insert, or update the same run's row in place */
    sqlite3_stmt *replace;  /* overwrite another run's row of the same id */
};

/* A row whose texts are bigger than this is written by a statement of its
 * own, finalized after: a statement keeps the buffer of the biggest record
 * it built, and a worker should not hold a megabyte for one chatty job. */
#define STORE_BIG_ROW (64 * 1024)

#define ROW_COLUMNS \
    "id, script, trigger_type, status, exit_code, stdout, stderr, duration_ms, " \
    "created_at, completed_at, args, attempts, worker, signal, queue, " \
    "started_at, cpu_user_ms, cpu_sys_ms, max_rss_kb"

/* A job's final row updates its running row in place, leaving the
 * identity columns alone, so only the table and the status index are
 * written, not every index (REPLACE deletes and reinserts). Another run's
 * row of the same id (a redelivery taken at another time) fails the WHERE
 * and is overwritten by REPLACE_SQL. */
#define PUT_SQL                                                                            \
    "INSERT INTO analytics_jobs (" ROW_COLUMNS ") "                                        \
    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19) "         \
    "ON CONFLICT(id) DO UPDATE SET trigger_type = ?3, status = ?4, "                       \
    "exit_code = ?5, stdout = ?6, stderr = ?7, duration_ms = ?8, "                         \
    "completed_at = ?10, args = ?11, attempts = ?12, worker = ?13, "                       \
    "signal = ?14, queue = ?15, started_at = ?16, cpu_user_ms = ?17, "                     \
    "cpu_sys_ms = ?18, max_rss_kb = ?19 "                                                  \
    "WHERE script = ?2 AND created_at IS ?9"
#define REPLACE_SQL                                                                        \
    "INSERT OR REPLACE INTO analytics_jobs (" ROW_COLUMNS ") "                             \
    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"

static int mkdir_parents(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

struct store *store_open(const char *path, int busy_timeout_ms, char err[256])
{
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, 256, "out of memory");
        return NULL;
    }
    if (mkdir_parents(path) < 0) {
        snprintf(err, 256, "cannot create the folder of %s: %s", path, strerror(errno));
        goto fail;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, 256, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    s->busy_timeout_ms = busy_timeout_ms;
    s->healthy = 1;
    sqlite3_busy_timeout(s->db, busy_timeout_ms);
    /* NORMAL is durable across process crashes in WAL mode; only a power
     * loss can drop the last commits, which Redis still holds */
    /* cache_size: the worker appends; the pages it touches per job are
     * the right edges of the table and its indexes, and a leaf of the id
     * index, so 512 KiB (not the default 2 MiB) keeps its RSS small */
    if (store_schema_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA cache_size=-512;", busy_timeout_ms) != SQLITE_OK) {
        snprintf(err, 256, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    int created;
    if (store_schema_ensure(s->db, busy_timeout_ms, &created, err) < 0)
        goto fail;
    if (sqlite3_prepare_v3(s->db, "SELECT " ROW_COLUMNS " FROM analytics_jobs WHERE id = ?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &s->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(s->db, PUT_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->put, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(s->db, REPLACE_SQL, -1, SQLITE_PREPARE_PERSISTENT, &s->replace,
                           NULL) != SQLITE_OK) {
        snprintf(err, 256, "%s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->replace);
    sqlite3_close(s->db);
    free(s);
}

const char *store_errmsg(const struct store *s) { return s->errmsg; }

int store_healthy(const struct store *s) { return s->healthy; }

int store_recreated(const struct store *s) { return s->recreated; }

/* Turns a statement's SQLite result into a store result and the handle's
 * health; the failure's message is already in s->errmsg (see step()). */
static int outcome(struct store *s, int rc)
{
    if (rc == SQLITE_DONE || rc == SQLITE_OK || rc == SQLITE_ROW) {
        s->healthy = 1;
        return STORE_OK;
    }
    if (store_schema_transient(rc))
        return STORE_BUSY;
    s->healthy = 0;
    return STORE_FATAL;
}

/* Returns 1 when rc says the table is gone (a script dropped it), after
 * recreating it; the caller then runs its statement once more. */
static int table_recreated(struct store *s, int rc)
{
    if (rc != SQLITE_ERROR || !strstr(s->errmsg, "no such table"))
        return 0;
    char err[256];
    int created;
    if (store_schema_ensure(s->db, s->busy_timeout_ms, &created, err) < 0) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s", err);
        return 0;
    }
    s->recreated += created;
    return 1;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

void store_row_init(struct store_row *r)
{
    memset(r, 0, sizeof *r);
    r->duration_ms = r->cpu_user_ms = r->cpu_sys_ms = r->max_rss_kb = -1;
}

static int64_t column_int64_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static void read_row(sqlite3_stmt *st, struct store_row *r)
{
    store_row_init(r);
    column_copy(st, 0, r->id, sizeof r->id);
    column_copy(st, 1, r->script, sizeof r->script);
    column_copy(st, 2, r->trigger, sizeof r->trigger);
    column_copy(st, 3, r->status, sizeof r->status);
    r->has_exit_code = sqlite3_column_type(st, 4) != SQLITE_NULL;
    r->exit_code = sqlite3_column_int(st, 4);
    r->stdout_text = column_dup(st, 5);
    r->stderr_text = column_dup(st, 6);
    r->duration_ms = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
    column_copy(st, 8, r->created_at, sizeof r->created_at);
    column_copy(st, 9, r->completed_at, sizeof r->completed_at);
    r->args_json = column_dup(st, 10);
    r->attempts = sqlite3_column_int(st, 11);
    column_copy(st, 12, r->worker, sizeof r->worker);
    r->has_signal = sqlite3_column_type(st, 13) != SQLITE_NULL;
    r->signal = sqlite3_column_int(st, 13);
    column_copy(st, 14, r->queue, sizeof r->queue);
    column_copy(st, 15, r->started_at, sizeof r->started_at);
    r->cpu_user_ms = column_int64_or_null(st, 16);
    r->cpu_sys_ms = column_int64_or_null(st, 17);
    r->max_rss_kb = column_int64_or_null(st, 18);
}

/* Steps st once, keeping the message of a failure before a reset. */
static int step(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
    return rc;
}

static int get_once(struct store *s, const char *id, struct store_row *row)
{
    sqlite3_stmt *st = s->get;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = step(s, st);
    if (rc == SQLITE_ROW)
        read_row(st, row);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int store_get(struct store *s, const char *id, struct store_row *row)
{
    int rc = get_once(s, id, row);
    if (table_recreated(s, rc))
        rc = get_once(s, id, row);
    if (rc == SQLITE_DONE) {
        outcome(s, rc);
        return STORE_NOTFOUND;
    }
    return outcome(s, rc);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s, int empty_is_null)
{
    if (!s || (empty_is_null && !*s))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void bind_int64_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int put_with(struct store *s, sqlite3_stmt *st, const struct store_row *r)
{
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->script, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->status, -1, SQLITE_STATIC);
    if (r->has_exit_code)
        sqlite3_bind_int(st, 5, r->exit_code);
    else
        sqlite3_bind_null(st, 5);
    bind_text_or_null(st, 6, r->stdout_text, 0);
    bind_text_or_null(st, 7, r->stderr_text, 0);
    if (r->duration_ms >= 0)
        sqlite3_bind_int64(st, 8, r->duration_ms);
    else
        sqlite3_bind_null(st, 8);
    bind_text_or_null(st, 9, r->created_at, 1);
    bind_text_or_null(st, 10, r->completed_at, 1);
    bind_text_or_null(st, 11, r->args_json, 0);
    sqlite3_bind_int(st, 12, r->attempts);
    bind_text_or_null(st, 13, r->worker, 1);
    if (r->has_signal)
        sqlite3_bind_int(st, 14, r->signal);
    else
        sqlite3_bind_null(st, 14);
    bind_text_or_null(st, 15, r->queue, 1);
    bind_text_or_null(st, 16, r->started_at, 1);
    bind_int64_or_null(st, 17, r->cpu_user_ms);
    bind_int64_or_null(st, 18, r->cpu_sys_ms);
    bind_int64_or_null(st, 19, r->max_rss_kb);
    int rc = step(s, st);
    if (rc == SQLITE_DONE && sqlite3_changes(s->db) == 0)
        rc = SQLITE_EMPTY; /* the upsert's WHERE refused the update */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static size_t text_len(const char *t) { return t ? strlen(t) : 0; }

static int put_once(struct store *s, const struct store_row *r)
{
    sqlite3_stmt *put = s->put, *replace = s->replace, *own = NULL;
    int big = text_len(r->stdout_text) + text_len(r->stderr_text) + text_len(r->args_json) >
              STORE_BIG_ROW;
    if (big && sqlite3_prepare_v2(s->db, PUT_SQL, -1, &own, NULL) == SQLITE_OK)
        put = own;
    int rc = put_with(s, put, r);
    if (rc == SQLITE_EMPTY) {
        sqlite3_finalize(own);
        own = NULL;
        if (big && sqlite3_prepare_v2(s->db, REPLACE_SQL, -1, &own, NULL) == SQLITE_OK)
            replace = own;
        rc = put_with(s, replace, r);
    }
    sqlite3_finalize(own);
    if (rc == SQLITE_EMPTY) { /* cannot happen unless the table is not ours */
        snprintf(s->errmsg, sizeof s->errmsg, "the row of %s was not written", r->id);
        rc = SQLITE_ERROR;
    }
    return rc;
}

int store_put(struct store *s, const struct store_row *r)
{
    int rc = put_once(s, r);
    if (table_recreated(s, rc))
        rc = put_once(s, r);
    return outcome(s, rc);
}

static int probe_once(struct store *s)
{
    sqlite3_stmt *st = NULL;
    /* prepared each time: the schema is read again, as a new reader would.
     * The table itself, from its root down its right edge, where appends go
     * (without NOT INDEXED the planner would read a small index instead). */
    int rc = sqlite3_prepare_v2(s->db, "SELECT * FROM analytics_jobs NOT INDEXED "
                                "ORDER BY rowid DESC LIMIT 1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
    else
        rc = step(s, st);
    sqlite3_finalize(st);
    return rc;
}

int store_exec(struct store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        snprintf(s->errmsg, sizeof s->errmsg, "%s", sqlite3_errmsg(s->db));
    return outcome(s, rc);
}

int store_probe(struct store *s)
{
    int rc = probe_once(s);
    if (table_recreated(s, rc))
        rc = probe_once(s);
    return outcome(s, rc);
}

void store_row_free(struct store_row *row)
{
    free(row->stdout_text);
    free(row->stderr_text);
    free(row->args_json);
    row->stdout_text = row->stderr_text = row->args_json = NULL;
}

int store_status_final(const char *status)
{
    return strcmp(status, "running") != 0 && strcmp(status, "queued") != 0;
}
