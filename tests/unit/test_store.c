/*
 * test_store: the SQLite record in a mkdtemp folder. store_open creates the
 * missing folders and the file, sets WAL (checked with sqlite3 directly),
 * user_version == STORE_SCHEMA_VERSION, the table has the contract's ten
 * columns and the three indexes, and reopening an existing database works.
 * store_put/store_get roundtrip with NULL and real values, overwrite of a
 * row, STORE_NOTFOUND,
 * and STORE_BUSY while another connection holds BEGIN IMMEDIATE (quickly,
 * with a small busy timeout), with success once the lock is released.
 * Hardening: six processes opening one new file at once all succeed (60
 * rounds); a dropped table is recreated by the next call and at open; a
 * corrupt page, a file that is not a database, a full database
 * (max_page_count) and the file size limit are STORE_FATAL with SQLite's
 * message and make the handle unhealthy, busy is STORE_BUSY and does not.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

static char dir[64];
static char dbpath[256];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/arun-unit-store-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/var/lib/arun/jobs.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return unit_rmtree(dir);
}

/* Rows matching where, counted through a connection of our own. */
static int count_rows(const char *where)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM analytics_jobs WHERE %s", where);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static struct store *open_store(int busy_ms)
{
    char err[256] = "";
    struct store *s = store_open(dbpath, busy_ms, err);
    if (!s)
        print_error("store_open: %s\n", err);
    assert_non_null(s);
    return s;
}

static void fill(struct store_row *r, const char *id, const char *script, const char *created)
{
    store_row_init(r);
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->script, sizeof r->script, "%s", script);
    strcpy(r->trigger, "manual");
    strcpy(r->status, "running");
    r->duration_ms = -1;
    snprintf(r->created_at, sizeof r->created_at, "%s", created);
    r->attempts = 1;
    strcpy(r->worker, "w1");
}

/* One text value from a query on a direct sqlite3 connection. */
static void query1(sqlite3 *db, const char *sql, char *out, size_t outsz)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, outsz, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
}

static void test_open_schema(void **state)
{
    (void)state;
    struct stat st;
    struct store *s = open_store(1000);
    assert_int_equal(stat(dbpath, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    store_close(s);

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char v[64];
    query1(db, "PRAGMA journal_mode", v, sizeof v);
    assert_string_equal(v, "wal");
    query1(db, "PRAGMA user_version", v, sizeof v);
    assert_int_equal(atoi(v), STORE_SCHEMA_VERSION);

    static const char *const cols[] = {"id",         "script",       "trigger_type", "status",
                                       "exit_code",  "stdout",       "stderr",       "duration_ms",
                                       "created_at", "completed_at"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pragma_table_info('analytics_jobs') WHERE name = '%s'",
                 cols[i]);
        query1(db, sql, v, sizeof v);
        if (strcmp(v, "1") != 0)
            print_error("column %s missing\n", cols[i]);
        assert_string_equal(v, "1");
    }
    query1(db, "SELECT pk FROM pragma_table_info('analytics_jobs') WHERE name = 'id'", v,
           sizeof v);
    assert_string_equal(v, "1");

    static const char *const idx[] = {"idx_analytics_jobs_script", "idx_analytics_jobs_status",
                                      "idx_analytics_jobs_created_at"};
    for (size_t i = 0; i < 3; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                 "tbl_name = 'analytics_jobs' AND name = '%s'",
                 idx[i]);
        query1(db, sql, v, sizeof v);
        if (strcmp(v, "1") != 0)
            print_error("index %s missing\n", idx[i]);
        assert_string_equal(v, "1");
    }
    query1(db, "SELECT group_concat(name) FROM pragma_index_info('idx_analytics_jobs_script')", v,
           sizeof v);
    assert_string_equal(v, "script,created_at");
    sqlite3_close(db);

    /* reopening an existing, current database works and keeps the version */
    s = open_store(1000);
    store_close(s);
    store_close(NULL);
}

static void test_open_newer_schema_refused(void **state)
{
    (void)state;
    store_close(open_store(1000));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256] = "";
    assert_null(store_open(dbpath, 1000, err));
    assert_true(err[0] != '\0');
}

static void test_put_get(void **state)
{
    (void)state;
    struct store *s = open_store(1000);
    struct store_row r, got;
    fill(&r, "job-1", "calibration", "2026-11-28T09:15:02.123Z");
    assert_int_equal(store_put(s, &r), STORE_OK);

    assert_int_equal(store_get(s, "job-1", &got), STORE_OK);
    assert_string_equal(got.id, "job-1");
    assert_string_equal(got.script, "calibration");
    assert_string_equal(got.trigger, "manual");
    assert_string_equal(got.status, "running");
    assert_int_equal(got.has_exit_code, 0);
    assert_int_equal(got.has_signal, 0);
    assert_null(got.stdout_text);
    assert_null(got.stderr_text);
    assert_null(got.args_json);
    assert_int_equal(got.duration_ms, -1);
    assert_string_equal(got.created_at, "2026-11-28T09:15:02.123Z");
    assert_string_equal(got.completed_at, "");
    assert_int_equal(got.attempts, 1);
    assert_string_equal(got.worker, "w1");
    assert_string_equal(got.queue, "");
    assert_int_equal(store_status_final(got.status), 0);
    store_row_free(&got);

    /* the same id written again (the run finished): overwritten */
    strcpy(r.status, "error");
    r.has_exit_code = 1;
    r.exit_code = 3;
    r.has_signal = 1;
    r.signal = 0;
    r.stdout_text = "out \xC3\xA9\n";
    r.stderr_text = "";
    r.args_json = "[\"--days\",\"7\"]";
    r.duration_ms = 1534;
    strcpy(r.completed_at, "2026-11-28T09:15:03.657Z");
    r.attempts = 2;
    strcpy(r.queue, "fast");
    assert_int_equal(store_put(s, &r), STORE_OK);

    memset(&got, 0x5A, sizeof got);
    assert_int_equal(store_get(s, "job-1", &got), STORE_OK);
    assert_string_equal(got.status, "error");
    assert_int_equal(got.has_exit_code, 1);
    assert_int_equal(got.exit_code, 3);
    assert_int_equal(got.has_signal, 1);
    assert_int_equal(got.signal, 0);
    assert_string_equal(got.stdout_text, "out \xC3\xA9\n");
    assert_non_null(got.stderr_text);
    assert_string_equal(got.stderr_text, "");
    assert_string_equal(got.args_json, "[\"--days\",\"7\"]");
    assert_int_equal(got.duration_ms, 1534);
    assert_string_equal(got.completed_at, "2026-11-28T09:15:03.657Z");
    assert_int_equal(got.attempts, 2);
    assert_string_equal(got.queue, "fast");
    assert_int_equal(store_status_final(got.status), 1);
    store_row_free(&got);
    assert_null(got.stdout_text);

    /* exit code 0 is a value, not NULL */
    fill(&r, "job-0", "calibration", "2026-11-28T09:15:04.000Z");
    strcpy(r.status, "success");
    r.has_exit_code = 1;
    r.exit_code = 0;
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_get(s, "job-0", &got), STORE_OK);
    assert_int_equal(got.has_exit_code, 1);
    assert_int_equal(got.exit_code, 0);
    store_row_free(&got);

    /* only one row for job-1 */
    assert_int_equal(count_rows("1"), 2);

    assert_int_equal(store_get(s, "nope", &got), STORE_NOTFOUND);
    store_close(s);

    /* it was on disk */
    s = open_store(1000);
    assert_int_equal(store_get(s, "job-1", &got), STORE_OK);
    assert_int_equal(got.exit_code, 3);
    store_row_free(&got);
    store_close(s);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_busy(void **state)
{
    (void)state;
    struct store *s = open_store(100);
    struct store_row r, got;
    fill(&r, "before", "a", "2026-11-28T09:00:00.000Z");
    assert_int_equal(store_put(s, &r), STORE_OK);

    sqlite3 *other;
    assert_int_equal(sqlite3_open(dbpath, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    fill(&r, "job-b", "a", "2026-11-28T09:00:01.000Z");
    int64_t t0 = now_ms();
    assert_int_equal(store_put(s, &r), STORE_BUSY);
    int64_t waited = now_ms() - t0;
    assert_true(waited >= 50);   /* the busy timeout was honoured */
    assert_true(waited < 2000);  /* and no more */

    /* WAL: readers are not blocked by the writer */
    assert_int_equal(store_get(s, "before", &got), STORE_OK);
    store_row_free(&got);
    assert_int_equal(store_get(s, "job-b", &got), STORE_NOTFOUND);

    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_get(s, "job-b", &got), STORE_OK);
    assert_string_equal(got.id, "job-b");
    store_row_free(&got);

    sqlite3_close(other);
    store_close(s);
}

/* A row of another run of the same id (a redelivery, taken at another
 * time, maybe under another script name) is overwritten whole, and the
 * indexes follow it. */
static void test_put_other_run(void **state)
{
    (void)state;
    struct store *s = open_store(1000);
    struct store_row r, got;
    fill(&r, "job-r", "old_name", "2026-11-28T09:00:00.000Z");
    assert_int_equal(store_put(s, &r), STORE_OK);
    fill(&r, "job-r", "calibration", "2026-11-28T10:00:00.000Z");
    strcpy(r.worker, "w2");
    r.attempts = 2;
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_get(s, "job-r", &got), STORE_OK);
    assert_string_equal(got.script, "calibration");
    assert_string_equal(got.created_at, "2026-11-28T10:00:00.000Z");
    assert_string_equal(got.worker, "w2");
    assert_int_equal(got.attempts, 2);
    store_row_free(&got);
    assert_int_equal(count_rows("script = 'old_name'"), 0);
    assert_int_equal(count_rows("script = 'calibration'"), 1);

    /* the same run's final row: updated in place */
    strcpy(r.status, "success");
    r.has_exit_code = 1;
    strcpy(r.completed_at, "2026-11-28T10:00:01.000Z");
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_get(s, "job-r", &got), STORE_OK);
    assert_string_equal(got.status, "success");
    assert_string_equal(got.completed_at, "2026-11-28T10:00:01.000Z");
    store_row_free(&got);
    assert_int_equal(count_rows("1"), 1);
    store_close(s);
}

/* A database written by schema version 1 (before the usage columns) is
 * migrated in place: its rows stay, the new columns read as NULL, and a
 * new run's usage is stored. */
static void test_migrate_v1(void **state)
{
    (void)state;
    char err[256];
    struct store *s0 = store_open(dbpath, 100, err); /* makes the folders */
    assert_non_null(s0);
    store_close(s0);
    remove(dbpath);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE analytics_jobs (id TEXT PRIMARY KEY, script TEXT NOT NULL,"
        " trigger_type TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER, stdout TEXT,"
        " stderr TEXT, duration_ms INTEGER, created_at TEXT, completed_at TEXT, args TEXT,"
        " attempts INTEGER NOT NULL DEFAULT 1, worker TEXT, signal INTEGER, queue TEXT);"
        "INSERT INTO analytics_jobs (id, script, trigger_type, status, exit_code, created_at)"
        " VALUES ('old-1', 'calibration', 'manual', 'success', 0, '2026-01-01T00:00:00.000Z');"
        "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct store *s = open_store(100);
    struct store_row got;
    assert_int_equal(store_get(s, "old-1", &got), STORE_OK);
    assert_string_equal(got.status, "success");
    assert_string_equal(got.started_at, "");
    assert_int_equal(got.cpu_user_ms, -1);
    assert_int_equal(got.max_rss_kb, -1);
    store_row_free(&got);

    struct store_row r;
    fill(&r, "new-1", "regime", "2026-11-28T09:15:02.123Z");
    snprintf(r.started_at, sizeof r.started_at, "2026-11-28T09:15:02.200Z");
    r.cpu_user_ms = 12;
    r.cpu_sys_ms = 3;
    r.max_rss_kb = 9100;
    assert_int_equal(store_put(s, &r), STORE_OK);
    store_row_free(&r);
    assert_int_equal(store_get(s, "new-1", &got), STORE_OK);
    assert_string_equal(got.started_at, "2026-11-28T09:15:02.200Z");
    assert_int_equal(got.cpu_user_ms, 12);
    assert_int_equal(got.cpu_sys_ms, 3);
    assert_int_equal(got.max_rss_kb, 9100);
    store_row_free(&got);
    store_close(s);

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Opens the store and writes one running row, id at 09:00:00 (into *r). */
static struct store *open_with_row(struct store_row *r, const char *id)
{
    struct store *s = open_store(1000);
    fill(r, id, "a", "2026-11-28T09:00:00.000Z");
    assert_int_equal(store_put(s, r), STORE_OK);
    return s;
}

/* Several processes open the same new file at the same moment (systemd
 * starting instances, a compose scale): every one must succeed. Before
 * the schema waited for the lock, 2 openers lost one in 6 rounds. */
static void test_open_race(void **state)
{
    (void)state;
    enum { ROUNDS = 60, OPENERS = 6 };
    int failures = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char path[300];
        snprintf(path, sizeof path, "%s/race%d/jobs.db", dir, round);
        int gate[2];
        assert_int_equal(pipe(gate), 0);
        for (int i = 0; i < OPENERS; i++) {
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                char c, err[256] = "";
                close(gate[1]);
                (void)!read(gate[0], &c, 1); /* EOF for all at once */
                struct store *st = store_open(path, 5000, err);
                if (!st)
                    fprintf(stderr, "round %d: %s\n", round, err);
                store_close(st);
                _exit(st ? 0 : 1);
            }
        }
        close(gate[0]);
        close(gate[1]);
        int status;
        while (wait(&status) > 0)
            failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    assert_int_equal(failures, 0);
}

static void exec_other(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        print_error("%s: %s\n", sql, msg);
    assert_null(msg);
    sqlite3_close(db);
}

/* A script drops analytics_jobs under a running worker: the next call
 * recreates it and succeeds; a store opened later does too, although
 * user_version says the table exists. */
static void test_dropped_table(void **state)
{
    (void)state;
    struct store_row r, got;
    struct store *s = open_with_row(&r, "before");

    exec_other("DROP TABLE analytics_jobs");
    fill(&r, "after", "a", "2026-11-28T09:00:01.000Z");
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_recreated(s), 1);
    assert_int_equal(store_healthy(s), 1);
    assert_int_equal(store_get(s, "after", &got), STORE_OK);
    store_row_free(&got);
    assert_int_equal(store_get(s, "before", &got), STORE_NOTFOUND);

    exec_other("DROP TABLE analytics_jobs");
    assert_int_equal(store_get(s, "after", &got), STORE_NOTFOUND);
    exec_other("DROP TABLE analytics_jobs");
    fill(&r, "again", "a", "2026-11-28T09:00:02.000Z");
    assert_int_equal(store_put(s, &r), STORE_OK);
    store_row_free(&r);
    exec_other("DROP TABLE analytics_jobs");
    assert_int_equal(store_probe(s), STORE_OK);
    assert_int_equal(store_recreated(s), 4);
    store_close(s);

    /* at start: the version says 1, the table is gone */
    exec_other("DROP TABLE analytics_jobs");
    s = open_store(1000);
    assert_int_equal(store_recreated(s), 0);
    assert_int_equal(store_put(s, &r), STORE_OK);
    store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char v[64];
    query1(db, "PRAGMA user_version", v, sizeof v);
    assert_int_equal(atoi(v), STORE_SCHEMA_VERSION);
    query1(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
               "tbl_name = 'analytics_jobs' AND name LIKE 'idx_%'", v, sizeof v);
    assert_string_equal(v, "3");
    sqlite3_close(db);
}

/* Writes garbage over the page that is the table's root, with no
 * connection open (so the WAL is checkpointed into the file). */
static void corrupt_table_root(void)
{
    sqlite3 *db;
    char v[64];
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    query1(db, "SELECT rootpage FROM sqlite_master WHERE name = 'analytics_jobs'", v, sizeof v);
    long root = atol(v);
    query1(db, "PRAGMA page_size", v, sizeof v);
    long page = atol(v);
    sqlite3_close(db);
    assert_true(root > 1);
    FILE *f = fopen(dbpath, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (root - 1) * page, SEEK_SET), 0);
    for (long i = 0; i < page; i++)
        fputc((int)((i * 7 + 0xA5) & 0xFF), f);
    assert_int_equal(fclose(f), 0);
}

/* A corrupt page is permanent: STORE_FATAL with SQLite's message, the
 * handle unhealthy, and the same again on the next call. */
static void test_corrupt_page(void **state)
{
    (void)state;
    struct store_row r, got;
    struct store *s = open_with_row(&r, "c1");
    store_close(s);
    corrupt_table_root();

    s = open_store(1000);
    assert_int_equal(store_healthy(s), 1);
    assert_string_equal(store_errmsg(s), "");
    fill(&r, "c2", "a", "2026-11-28T09:00:01.000Z");
    assert_int_equal(store_put(s, &r), STORE_FATAL);
    assert_non_null(strstr(store_errmsg(s), "malformed"));
    assert_int_equal(store_healthy(s), 0);
    assert_int_equal(store_put(s, &r), STORE_FATAL);
    assert_int_equal(store_get(s, "c1", &got), STORE_FATAL);
    assert_int_equal(store_probe(s), STORE_FATAL);
    assert_int_equal(store_healthy(s), 0);
    assert_non_null(strstr(store_errmsg(s), "malformed"));
    store_close(s);
}

/* Not a database at all: refused at open, with SQLite's reason. */
static void test_not_a_database(void **state)
{
    (void)state;
    store_close(open_store(1000));
    remove(dbpath);
    FILE *f = fopen(dbpath, "wb");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++)
        fputc(i & 0xFF, f);
    assert_int_equal(fclose(f), 0);
    char err[256] = "";
    assert_null(store_open(dbpath, 1000, err));
    if (!strstr(err, "not a database"))
        print_error("err: %s\n", err);
    assert_non_null(strstr(err, "not a database"));
}

static char *big_text(size_t n)
{
    char *t = malloc(n + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + i % 26);
    t[n] = '\0';
    return t;
}

/* A row too big for what is left of the disk (max_page_count plays the
 * full disk): STORE_FATAL "database or disk is full"; a small row still
 * goes in and the handle is healthy again. */
static void test_full(void **state)
{
    (void)state;
    struct store_row r, got;
    struct store *s = open_with_row(&r, "small");
    assert_int_equal(store_exec(s, "PRAGMA max_page_count = 20"), STORE_OK);
    fill(&r, "big", "a", "2026-11-28T09:00:01.000Z");
    r.stdout_text = big_text(1 << 20);
    assert_int_equal(store_put(s, &r), STORE_FATAL);
    assert_non_null(strstr(store_errmsg(s), "full"));
    assert_int_equal(store_healthy(s), 0);
    assert_int_equal(store_get(s, "big", &got), STORE_NOTFOUND); /* rolled back */
    free(r.stdout_text);
    r.stdout_text = "fits";
    assert_int_equal(store_put(s, &r), STORE_OK);
    assert_int_equal(store_healthy(s), 1);
    store_close(s);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored as a service
 * manager may): writes past it fail with EFBIG, an I/O error, fatal. */
static void test_file_size_limit(void **state)
{
    (void)state;
    struct store_row r;
    struct store *s = open_with_row(&r, "small");
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    long have = file_size(dbpath) > file_size(wal) ? file_size(dbpath) : file_size(wal);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)have + 65536;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    fill(&r, "big", "a", "2026-11-28T09:00:01.000Z");
    r.stdout_text = big_text(1 << 20);
    int rc = store_put(s, &r);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    free(r.stdout_text);
    assert_int_equal(rc, STORE_FATAL);
    assert_int_equal(store_healthy(s), 0);
    assert_true(store_errmsg(s)[0] != '\0');
    store_close(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_schema), T(test_open_newer_schema_refused), T(test_put_get),
        T(test_busy),       T(test_put_other_run),
        T(test_migrate_v1),
        T(test_open_race),   T(test_dropped_table), T(test_corrupt_page),
        T(test_not_a_database), T(test_full),    T(test_file_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
