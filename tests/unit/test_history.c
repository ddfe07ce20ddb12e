/*
 * test_history: the history reader on real SQLite files in a mkdtemp
 * folder. Pure parts: cursors round-trip and refuse what they did not
 * make, filters are checked field by field, status lists split, and the
 * SQL of each filter shape. Against a database written by store.c: pages
 * walk every row once, newest first, ties on created_at broken by id;
 * filters (several statuses, script with .py, trigger, id prefix); rows
 * without output in lists and with it in history_get; a column added by a
 * later schema shows by its name; a missing file is an error and a file
 * without the table an empty history.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "history.h"
#include "store.h"

static char dir[64];
static char dbpath[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/arun-unit-history-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/arun.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_cursor(void **state)
{
    (void)state;
    char cur[HISTORY_CURSOR_MAX], c[32], id[128];
    assert_int_equal(history_cursor_encode("2026-11-28T09:15:02.123Z", "cron:x:1", cur), 0);
    assert_null(strchr(cur, '='));
    assert_null(strchr(cur, '+'));
    assert_null(strchr(cur, '/'));
    assert_int_equal(history_cursor_decode(cur, c, id), 0);
    assert_string_equal(c, "2026-11-28T09:15:02.123Z");
    assert_string_equal(id, "cron:x:1");
    char longid[65];
    memset(longid, 'a', 64);
    longid[64] = '\0';
    assert_int_equal(history_cursor_encode("2026-11-28T09:15:02.123Z", longid, cur), 0);
    assert_int_equal(history_cursor_decode(cur, c, id), 0);
    assert_string_equal(id, longid);
    /* lengths 1..3 of the last group */
    for (const char *s = "abc"; *s; s++) {
        assert_int_equal(history_cursor_encode("", s, cur), 0);
        assert_int_equal(history_cursor_decode(cur, c, id), 0);
        assert_string_equal(id, s);
        assert_string_equal(c, "");
    }
    assert_int_equal(history_cursor_decode("", c, id), -1);
    assert_int_equal(history_cursor_decode("!!!!", c, id), -1);
    assert_int_equal(history_cursor_decode("a", c, id), -1);
    assert_int_equal(history_cursor_encode("x';DROP", "a b", cur), 0); /* encodes anything... */
    assert_int_equal(history_cursor_decode(cur, c, id), -1);           /* ...accepts only rows' */
}

static void test_filter_check(void **state)
{
    (void)state;
    char err[HISTORY_ERR_MAX];
    const char *field;
    struct history_filter f = {0};
    assert_int_equal(history_filter_check(&f, err, &field), 0);
    f.limit = 501;
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    assert_string_equal(field, "limit");
    f.limit = -1;
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    f.limit = 500;
    assert_int_equal(history_filter_check(&f, err, &field), 0);
    f.id_prefix = "a*";
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    assert_string_equal(field, "id");
    f.id_prefix = NULL;
    f.before = "not a cursor";
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    assert_string_equal(field, "before");
    f.before = NULL;
    f.statuses[0] = "Success";
    f.nstatuses = 1;
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    assert_string_equal(field, "status");
    f.script = "";
    f.nstatuses = 0;
    assert_int_equal(history_filter_check(&f, err, &field), -1);
    assert_string_equal(field, "script");

    char csv[] = "error,timeout";
    struct history_filter g = {0};
    assert_int_equal(history_filter_statuses(&g, csv, err), 0);
    assert_int_equal(g.nstatuses, 2);
    assert_string_equal(g.statuses[0], "error");
    assert_string_equal(g.statuses[1], "timeout");
    char bad[] = "error,,timeout";
    assert_int_equal(history_filter_statuses(&g, bad, err), -1);
    char trailing[] = "error,";
    assert_int_equal(history_filter_statuses(&g, trailing, err), -1);
}

static void test_sql(void **state)
{
    (void)state;
    char sql[1024];
    struct history_filter f = {0};
    assert_true(history_sql(&f, sql, sizeof sql) > 0);
    assert_string_equal(sql, "SELECT * FROM analytics_jobs WHERE 1 ORDER BY created_at DESC, "
                             "id DESC LIMIT ?");
    f.statuses[0] = "error";
    f.statuses[1] = "timeout";
    f.nstatuses = 2;
    f.script = "x";
    f.trigger = "api";
    f.id_prefix = "cron:";
    f.before = "abcd";
    assert_true(history_sql(&f, sql, sizeof sql) > 0);
    assert_string_equal(sql, "SELECT * FROM analytics_jobs WHERE 1 AND status IN (?,?) AND "
                             "script = ? AND trigger_type = ? AND id GLOB ? AND created_at <= ? "
                             "AND (created_at < ? OR id < ?) ORDER BY created_at DESC, id DESC "
                             "LIMIT ?");
    assert_int_equal(history_sql(&f, sql, 10), -1);
}

/* Writes n rows: ids j000.., script a/b alternating, statuses cycling,
 * created_at in pairs (two rows per millisecond, to test the id tiebreak). */
static void fill(int n)
{
    char err[256];
    struct store *s = store_open(dbpath, 1000, err);
    assert_non_null(s);
    static const char *statuses[] = {"success", "error", "timeout", "running"};
    for (int i = 0; i < n; i++) {
        struct store_row r;
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "j%03d", i);
        strcpy(r.script, i % 2 ? "b" : "a");
        strcpy(r.trigger, i % 3 ? "manual" : "api");
        strcpy(r.status, statuses[i % 4]);
        r.has_exit_code = 1;
        r.exit_code = i % 4 == 1;
        r.stdout_text = "out";
        r.stderr_text = "err";
        r.duration_ms = i;
        snprintf(r.created_at, sizeof r.created_at, "2026-11-28T09:15:%02d.000Z", (i / 2) % 60);
        r.args_json = "[\"--n\"]";
        r.attempts = 1;
        assert_int_equal(store_put(s, &r), STORE_OK);
    }
    store_close(s);
}

static struct history *open_history(void)
{
    char err[HISTORY_ERR_MAX] = "";
    struct history *h = history_open(dbpath, err);
    if (!h)
        fail_msg("history_open: %s", err);
    return h;
}

static void test_pages(void **state)
{
    (void)state;
    fill(25);
    struct history *h = open_history();
    struct history_filter f = {.limit = 7};
    char next[HISTORY_CURSOR_MAX], before[HISTORY_CURSOR_MAX] = "";
    int seen = 0, pages = 0;
    char last_id[16] = "j999";
    do {
        json_t *jobs = NULL;
        f.before = before;
        assert_int_equal(history_list(h, &f, &jobs, next), HISTORY_OK);
        for (size_t i = 0; i < json_array_size(jobs); i++) {
            json_t *j = json_array_get(jobs, i);
            const char *id = json_string_value(json_object_get(j, "id"));
            assert_true(strcmp(id, last_id) < 0); /* newest first: ids descend here */
            snprintf(last_id, sizeof last_id, "%s", id);
            assert_null(json_object_get(j, "stdout"));
            assert_null(json_object_get(j, "stderr"));
            assert_non_null(json_object_get(j, "created_at"));
            assert_true(json_is_array(json_object_get(j, "args")));
            seen++;
        }
        json_decref(jobs);
        strcpy(before, next);
        pages++;
    } while (next[0]);
    assert_int_equal(seen, 25);
    assert_int_equal(pages, 4);
    history_close(h);
}

static size_t count(struct history *h, struct history_filter *f)
{
    json_t *jobs = NULL;
    char next[HISTORY_CURSOR_MAX];
    assert_int_equal(history_list(h, f, &jobs, next), HISTORY_OK);
    size_t n = json_array_size(jobs);
    json_decref(jobs);
    return n;
}

static void test_filters(void **state)
{
    (void)state;
    fill(40);
    struct history *h = open_history();
    struct history_filter f = {.limit = 500};
    assert_int_equal(count(h, &f), 40);
    f.statuses[0] = "error";
    f.statuses[1] = "timeout";
    f.nstatuses = 2;
    assert_int_equal(count(h, &f), 20);
    f.script = "a.py";
    assert_int_equal(count(h, &f), 10); /* a = even i: error never, timeout i%4==2 */
    f.nstatuses = 0;
    f.script = NULL;
    f.trigger = "api";
    assert_int_equal(count(h, &f), 14);
    f.trigger = NULL;
    f.id_prefix = "j01";
    assert_int_equal(count(h, &f), 10);
    f.id_prefix = "j_";
    assert_int_equal(count(h, &f), 0);
    f.id_prefix = NULL;
    f.limit = 0;
    assert_int_equal(count(h, &f), 40 < HISTORY_LIMIT_DEFAULT ? 40 : HISTORY_LIMIT_DEFAULT);
    f.limit = 501;
    json_t *jobs = NULL;
    char next[HISTORY_CURSOR_MAX];
    assert_int_equal(history_list(h, &f, &jobs, next), HISTORY_INVALID);
    assert_true(strlen(history_errstr(h)) > 0);

    json_t *job = NULL;
    assert_int_equal(history_get(h, "j007", &job), HISTORY_OK);
    assert_string_equal(json_string_value(json_object_get(job, "stdout")), "out");
    assert_string_equal(json_string_value(json_object_get(job, "stderr")), "err");
    assert_string_equal(json_string_value(json_object_get(job, "script")), "b");
    assert_string_equal(json_string_value(json_object_get(job, "trigger_type")), "manual");
    json_decref(job);
    assert_int_equal(history_get(h, "nope", &job), HISTORY_NOTFOUND);
    history_close(h);
}

static void test_newer_columns(void **state)
{
    (void)state;
    fill(2);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE analytics_jobs ADD COLUMN started_at TEXT;"
                                      "ALTER TABLE analytics_jobs ADD COLUMN cpu_user_ms INTEGER;"
                                      "UPDATE analytics_jobs SET cpu_user_ms = 12, "
                                      "started_at = '2026-11-28T09:15:00.500Z' WHERE id = 'j001';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct history *h = open_history();
    json_t *job = NULL;
    assert_int_equal(history_get(h, "j001", &job), HISTORY_OK);
    assert_int_equal(json_integer_value(json_object_get(job, "cpu_user_ms")), 12);
    assert_string_equal(json_string_value(json_object_get(job, "started_at")),
                        "2026-11-28T09:15:00.500Z");
    json_decref(job);
    assert_int_equal(history_get(h, "j000", &job), HISTORY_OK);
    assert_true(json_is_null(json_object_get(job, "cpu_user_ms")));
    json_decref(job);
    history_close(h);
}

/* More rows of a status than HISTORY_SORT_MAX (2000): the list walks the
 * created_at index instead of sorting; the pages are the same. */
static void test_common_status(void **state)
{
    (void)state;
    fill(1);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN;"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) "
        "INSERT INTO analytics_jobs (id, script, trigger_type, status, created_at, attempts) "
        "SELECT printf('k%05d', i), 's', 'manual', CASE WHEN i % 100 = 0 THEN 'error' "
        "ELSE 'success' END, printf('2026-11-29T00:%02d:%02d.000Z', i / 60 % 60, i % 60), 1 "
        "FROM n; COMMIT;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct history *h = open_history();
    struct history_filter f = {.limit = 500};
    f.statuses[0] = "success";
    f.nstatuses = 1;
    char next[HISTORY_CURSOR_MAX], before[HISTORY_CURSOR_MAX] = "";
    size_t seen = 0;
    do {
        json_t *jobs = NULL;
        f.before = before;
        assert_int_equal(history_list(h, &f, &jobs, next), HISTORY_OK);
        for (size_t i = 0; i < json_array_size(jobs); i++)
            assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, i),
                                                                  "status")), "success");
        seen += json_array_size(jobs);
        json_decref(jobs);
        strcpy(before, next);
    } while (next[0]);
    assert_int_equal(seen, 2475 + 1); /* and j000 from fill(1) */
    f.statuses[0] = "error";
    f.before = NULL;
    assert_int_equal(count(h, &f), 25);
    history_close(h);
}

static void test_missing(void **state)
{
    (void)state;
    char err[HISTORY_ERR_MAX] = "";
    assert_null(history_open(dbpath, err));
    assert_non_null(strstr(err, "no database"));
    sqlite3 *db; /* a file, but no worker has made the table yet */
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0; CREATE TABLE t(x);", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    struct history *h = open_history();
    struct history_filter f = {0};
    assert_int_equal(count(h, &f), 0);
    json_t *job;
    assert_int_equal(history_get(h, "x", &job), HISTORY_NOTFOUND);
    history_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_filter_check),
        cmocka_unit_test(test_sql),
        cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_common_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
