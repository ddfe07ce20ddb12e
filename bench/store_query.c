/*
 * store_query: times the "latest 50" reads that arun-http, arun-mcp and
 * arun-ctl serve (history_list: keyset pages on the created_at and script
 * indexes) on a big table: all jobs, one script, a rare script.
 *
 *   store_query [-g ROWS] [-r REPS] DB
 *
 * With -g, DB is created with the worker's own schema (store_open) and
 * filled with ROWS finished jobs in one transaction (11 scripts, one of
 * them rare, created_at one second apart, a line of output each). Then the
 * database is opened again as the worker does and each query is timed
 * REPS times (the first call separately: it reads pages from the OS
 * cache). Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "history.h"

#include "store.h"
#include "timefmt.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *const scripts[] = {"calibration", "regime", "backtest", "signals",
                                      "stats", "logistic", "hmm", "db_loader",
                                      "turnover", "drawdown", "rare_report"};

static int generate(const char *path, long rows)
{
    char err[256];
    unlink(path);
    struct store *s = store_open(path, 1000, err);
    if (!s) {
        fprintf(stderr, "store_query: %s\n", err);
        return -1;
    }
    store_close(s);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN;", NULL, NULL, NULL);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO analytics_jobs (id, script, trigger_type, status, "
                           "exit_code, stdout, stderr, duration_ms, created_at, completed_at, "
                           "args, attempts, worker, signal, queue) VALUES "
                           "(?1,?2,'api','success',0,?3,'',?4,?5,?6,'[]',1,"
                           "'bench-host:4242:abcdef01',NULL,'default')",
                           -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "store_query: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    srand(42);
    time_t base = 1735689600; /* 2025-01-01T00:00:00Z */
    for (long i = 0; i < rows; i++) {
        char id[40], out[64], created[TIMEFMT_ISO_LEN], completed[TIMEFMT_ISO_LEN];
        snprintf(id, sizeof id, "job-%08lx-%04x", (unsigned long)i, rand() & 0xffff);
        /* 1% of rows are the rare script, the rest spread over ten */
        int r = rand() % 100;
        const char *script = r == 0 ? scripts[10] : scripts[r % 10];
        snprintf(out, sizeof out, "result %ld: ok\n", i);
        struct timespec t0 = {base + i, (long)(rand() % 1000) * 1000000L};
        struct timespec t1 = {base + i, t0.tv_nsec};
        int dur = 15 + rand() % 200;
        t1.tv_nsec += (long)dur * 1000000L;
        if (t1.tv_nsec >= 1000000000L) {
            t1.tv_sec++;
            t1.tv_nsec -= 1000000000L;
        }
        timefmt_iso(&t0, created);
        timefmt_iso(&t1, completed);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, script, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, out, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, dur);
        sqlite3_bind_text(st, 5, created, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, completed, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "store_query: insert: %s\n", sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

static int time_query(struct history *h, const char *script, int reps, double *first,
                      double *p50, double *p99)
{
    struct history_filter f = {.script = script, .limit = 50};
    double *t = calloc((size_t)reps, sizeof *t);
    for (int i = 0; i <= reps; i++) {
        json_t *jobs = NULL;
        char next[HISTORY_CURSOR_MAX];
        double a = now_ms();
        int rc = history_list(h, &f, &jobs, next);
        double b = now_ms();
        size_t n = rc == HISTORY_OK ? json_array_size(jobs) : 0;
        json_decref(jobs);
        if (n != 50) {
            fprintf(stderr, "store_query: history_list(%s) returned %zu rows (%s)\n",
                    script ? script : "all", n, history_errstr(h));
            free(t);
            return -1;
        }
        if (i == 0)
            *first = b - a;
        else
            t[i - 1] = b - a;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *p50 = t[reps / 2];
    *p99 = t[(int)(0.99 * (reps - 1) + 0.5)];
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    long gen = 0;
    int reps = 200, opt;
    while ((opt = getopt(argc, argv, "g:r:")) != -1) {
        if (opt == 'g')
            gen = atol(optarg);
        else if (opt == 'r')
            reps = atoi(optarg);
        else
            return 2;
    }
    if (optind != argc - 1 || reps < 1) {
        fprintf(stderr, "usage: store_query [-g ROWS] [-r REPS] DB\n");
        return 2;
    }
    const char *path = argv[optind];
    double gen_s = 0;
    if (gen > 0) {
        double a = now_ms();
        if (generate(path, gen) < 0)
            return 1;
        gen_s = (now_ms() - a) / 1000;
    }
    char err[HISTORY_ERR_MAX];
    struct history *h = history_open(path, err);
    if (!h) {
        fprintf(stderr, "store_query: %s\n", err);
        return 1;
    }
    double a_first, a50, a99, s_first, s50, s99, r_first, r50, r99;
    if (time_query(h, NULL, reps, &a_first, &a50, &a99) < 0 ||
        time_query(h, "calibration", reps, &s_first, &s50, &s99) < 0 ||
        time_query(h, "rare_report", reps, &r_first, &r50, &r99) < 0)
        return 1;
    history_close(h);
    printf("{\"rows_generated\": %ld, \"generate_s\": %.2f, \"reps\": %d, "
           "\"latest_all\": {\"first_ms\": %.4f, \"p50_ms\": %.4f, \"p99_ms\": %.4f}, "
           "\"latest_script\": {\"script\": \"calibration\", \"first_ms\": %.4f, "
           "\"p50_ms\": %.4f, \"p99_ms\": %.4f}, "
           "\"latest_rare_script\": {\"script\": \"rare_report\", \"first_ms\": %.4f, "
           "\"p50_ms\": %.4f, \"p99_ms\": %.4f}}\n",
           gen, gen_s, reps, a_first, a50, a99, s_first, s50, s99, r_first, r50, r99);
    return 0;
}
