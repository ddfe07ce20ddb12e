/*
 * store_schema: the analytics_jobs schema, its versions (PRAGMA
 * user_version) and creating or migrating it; and which SQLite results
 * are transient. Used by store.c only.
 */
#include "store_schema.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "timefmt.h"

/* Each step takes the schema from version i to i+1; see store.h. */
static const char *const migrations[] = {
    "CREATE TABLE IF NOT EXISTS analytics_jobs ("
    " id TEXT PRIMARY KEY,"
    " script TEXT NOT NULL,"
    " trigger_type TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " exit_code INTEGER,"
    " stdout TEXT,"
    " stderr TEXT,"
    " duration_ms INTEGER,"
    " created_at TEXT,"
    " completed_at TEXT,"
    " args TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 1,"
    " worker TEXT,"
    " signal INTEGER,"
    " queue TEXT);"
    /* (script, created_at) serves both "by script" and "latest of a script" */
    "CREATE INDEX IF NOT EXISTS idx_analytics_jobs_script ON analytics_jobs(script, created_at);"
    "CREATE INDEX IF NOT EXISTS idx_analytics_jobs_status ON analytics_jobs(status);"
    "CREATE INDEX IF NOT EXISTS idx_analytics_jobs_created_at ON analytics_jobs(created_at);",
    /* 2: usage of a run, and when it was spawned (created_at is when the
     * job was first taken and stays across reruns) */
    "ALTER TABLE analytics_jobs ADD COLUMN started_at TEXT;"
    "ALTER TABLE analytics_jobs ADD COLUMN cpu_user_ms INTEGER;"
    "ALTER TABLE analytics_jobs ADD COLUMN cpu_sys_ms INTEGER;"
    "ALTER TABLE analytics_jobs ADD COLUMN max_rss_kb INTEGER;",
};

int store_schema_transient(int rc)
{
    int primary = rc & 0xff;
    return primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_PROTOCOL;
}

/* SQLite does not call its busy handler everywhere: changing the journal
 * mode while another process creates the same file returns SQLITE_BUSY at
 * once, which lost one of two workers started together on a new database.
 * So the wait is done here too. */
int store_schema_exec(sqlite3 *db, const char *sql, int timeout_ms)
{
    int64_t deadline = timefmt_mono_ms() + timeout_ms;
    long pause_ms = 1;
    for (;;) {
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        if (!store_schema_transient(rc) || timefmt_mono_ms() >= deadline)
            return rc;
        struct timespec ts = {0, pause_ms * 1000000L};
        nanosleep(&ts, NULL);
        pause_ms = pause_ms < 32 ? pause_ms * 2 : 50;
    }
}

/* Returns 1 if the table exists, 0 if not, -1 (SQLite result in *rc) on error. */
static int table_exists(sqlite3 *db, int *rc)
{
    sqlite3_stmt *st;
    *rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'analytics_jobs'", -1, &st, NULL);
    if (*rc != SQLITE_OK)
        return -1;
    *rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (*rc == SQLITE_ROW || *rc == SQLITE_DONE)
        return *rc == SQLITE_ROW;
    return -1;
}

/* One write transaction, taken like every other write (waiting for the
 * lock), so that several workers started at once on a new file each see
 * the schema whole or not at all, and user_version is read under the lock
 * (read before it, a BUSY left it 0 and a replay of every step). */
int store_schema_ensure(sqlite3 *db, int timeout_ms, int *recreated, char err[256])
{
    int target = (int)(sizeof migrations / sizeof migrations[0]);
    int rc = store_schema_exec(db, "BEGIN IMMEDIATE", timeout_ms);
    if (rc != SQLITE_OK) {
        snprintf(err, 256, "schema check: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int have = version < 0 ? -1 : table_exists(db, &rc);
    if (have < 0) {
        snprintf(err, 256, "reading the schema: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (version > target) {
        snprintf(err, 256, "database schema version %d is newer than this arun (%d)", version,
                 target);
        goto fail;
    }
    for (int v = have ? version : 0; v < target; v++) {
        if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, 256, "schema migration to version %d: %s", v + 1, sqlite3_errmsg(db));
            goto fail;
        }
    }
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version = %d", target);
    if ((version != target && sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK) ||
        store_schema_exec(db, "COMMIT", timeout_ms) != SQLITE_OK) {
        snprintf(err, 256, "schema: %s", sqlite3_errmsg(db));
        goto fail;
    }
    *recreated = !have;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
