/*
 * metrics: the Prometheus exposition (metrics.h).
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sqlite3.h>

#include "app.h"
#include "client.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "sse.h"
#include "timefmt.h"

/* Bucket bounds of arun_job_duration_seconds, in milliseconds. */
static const long long bounds_ms[] = {100, 500, 1000, 5000, 10000, 30000, 60000, 300000, 1800000};
#define NBOUNDS (sizeof bounds_ms / sizeof bounds_ms[0])

static const char scan_sql[] =
    "SELECT script, status, COUNT(*), COALESCE(SUM(duration_ms), 0), COUNT(duration_ms),"
    " SUM(duration_ms <= 100), SUM(duration_ms <= 500), SUM(duration_ms <= 1000),"
    " SUM(duration_ms <= 5000), SUM(duration_ms <= 10000), SUM(duration_ms <= 30000),"
    " SUM(duration_ms <= 60000), SUM(duration_ms <= 300000), SUM(duration_ms <= 1800000)"
    " FROM analytics_jobs GROUP BY script, status ORDER BY script, status";

static struct {
    char *text;        /* the job part of the exposition, cached */
    int64_t at_ms;
} cache;

void metrics_free(void)
{
    free(cache.text);
    cache.text = NULL;
}

/* Label values: \ " and newline escaped. */
static void label(struct evbuffer *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            evbuffer_add_printf(b, "\\%c", *v);
        else if (*v == '\n')
            evbuffer_add(b, "\\n", 2);
        else
            evbuffer_add(b, v, 1);
    }
}

struct per_script {
    char script[129];
    long long count, sum_ms, buckets[NBOUNDS];
};

/* Scans analytics_jobs into text. Returns 0, or -1 (database unreadable). */
static int scan(const char *db, char **text)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    struct evbuffer *counts = evbuffer_new(), *hist = evbuffer_new();
    struct per_script cur = {0};
    int rc = -1, have = 0, step;
    if (!counts || !hist || sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto done;
    sqlite3_busy_timeout(h, 1000);
    if (sqlite3_prepare_v2(h, scan_sql, -1, &st, NULL) != SQLITE_OK)
        goto done;
    evbuffer_add_printf(counts, "# HELP arun_jobs_total Jobs recorded in analytics_jobs, by "
                        "script and status.\n# TYPE arun_jobs_total counter\n");
    evbuffer_add_printf(hist, "# HELP arun_job_duration_seconds Wall time of recorded jobs.\n"
                        "# TYPE arun_job_duration_seconds histogram\n");
    for (;;) {
        step = sqlite3_step(st);
        const char *script = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (have && (!script || strcmp(script, cur.script))) {
            for (size_t i = 0; i < NBOUNDS; i++) {
                evbuffer_add_printf(hist, "arun_job_duration_seconds_bucket{script=\"");
                label(hist, cur.script);
                evbuffer_add_printf(hist, "\",le=\"%g\"} %lld\n", bounds_ms[i] / 1000.0,
                                    cur.buckets[i]);
            }
            evbuffer_add_printf(hist, "arun_job_duration_seconds_bucket{script=\"");
            label(hist, cur.script);
            evbuffer_add_printf(hist, "\",le=\"+Inf\"} %lld\narun_job_duration_seconds_sum{script=\"",
                                cur.count);
            label(hist, cur.script);
            evbuffer_add_printf(hist, "\"} %.3f\narun_job_duration_seconds_count{script=\"",
                                cur.sum_ms / 1000.0);
            label(hist, cur.script);
            evbuffer_add_printf(hist, "\"} %lld\n", cur.count);
            have = 0;
        }
        if (step != SQLITE_ROW)
            break;
        if (!have) {
            memset(&cur, 0, sizeof cur);
            snprintf(cur.script, sizeof cur.script, "%s", script ? script : "");
            have = 1;
        }
        evbuffer_add_printf(counts, "arun_jobs_total{script=\"");
        label(counts, cur.script);
        evbuffer_add_printf(counts, "\",status=\"");
        label(counts, (const char *)sqlite3_column_text(st, 1));
        evbuffer_add_printf(counts, "\"} %lld\n", (long long)sqlite3_column_int64(st, 2));
        cur.sum_ms += sqlite3_column_int64(st, 3);
        cur.count += sqlite3_column_int64(st, 4);
        for (size_t i = 0; i < NBOUNDS; i++)
            cur.buckets[i] += sqlite3_column_int64(st, 5 + (int)i);
    }
    if (step != SQLITE_DONE)
        goto done;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT COUNT(*) FROM analytics_jobs WHERE status = 'running'", -1,
                           &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto done;
    evbuffer_add_printf(hist, "# HELP arun_jobs_running Jobs whose row says running.\n"
                        "# TYPE arun_jobs_running gauge\narun_jobs_running %lld\n",
                        (long long)sqlite3_column_int64(st, 0));
    evbuffer_add_buffer(counts, hist);
    size_t len = evbuffer_get_length(counts);
    *text = malloc(len + 1);
    if (*text) {
        evbuffer_remove(counts, *text, len);
        (*text)[len] = '\0';
        rc = 0;
    }
done:
    if (rc < 0 && h)
        log_warn("metrics: cannot read %s: %s", db, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_close(h);
    if (counts)
        evbuffer_free(counts);
    if (hist)
        evbuffer_free(hist);
    return rc;
}

static void expose(struct http_call *call, void *arg)
{
    struct app *a = arg;
    int64_t now = timefmt_mono_ms();
    if (!cache.text || now - cache.at_ms >= METRICS_CACHE_MS) {
        char *text = NULL;
        if (scan(a->cfg.db, &text) == 0) {
            free(cache.text);
            cache.text = text;
            cache.at_ms = now;
        }
    }
    struct client_queue *qs = NULL;
    struct client_worker *ws = NULL;
    size_t nq = 0, nw = 0;
    if (!cache.text || client_queues(a->client, &qs, &nq) != CLIENT_OK ||
        client_workers(a->client, &ws, &nw) != CLIENT_OK) {
        free(qs);
        reply_error(call->req, 503, NULL, NULL, NULL, "%s cannot be read",
                    cache.text ? "Redis" : "the database");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        free(qs);
        client_workers_free(ws, nw);
        reply_error(call->req, 503, NULL, NULL, NULL, "out of memory");
        return;
    }
    evbuffer_add(b, cache.text, strlen(cache.text));
    evbuffer_add_printf(b, "# HELP arun_queue_length Requests waiting on each queue.\n"
                        "# TYPE arun_queue_length gauge\n");
    for (size_t i = 0; i < nq; i++) {
        evbuffer_add_printf(b, "arun_queue_length{queue=\"");
        label(b, qs[i].name);
        evbuffer_add_printf(b, "\"} %lld\n", qs[i].length);
    }
    evbuffer_add_printf(b, "# HELP arun_workers Live worker processes.\n"
                        "# TYPE arun_workers gauge\narun_workers %zu\n"
                        "# HELP arun_http_connections Open HTTP connections of this server.\n"
                        "# TYPE arun_http_connections gauge\narun_http_connections %d\n"
                        "# HELP arun_http_streams Open event streams of this server.\n"
                        "# TYPE arun_http_streams gauge\narun_http_streams %d\n",
                        nw, http_server_connections(a->server), sse_hub_count(a->sse));
    free(qs);
    client_workers_free(ws, nw);
    size_t len = evbuffer_get_length(b);
    reply_bytes(call->req, 200, "text/plain; version=0.0.4; charset=utf-8",
                evbuffer_pullup(b, -1), len);
    evbuffer_free(b);
}

int metrics_routes(struct app *a)
{
    return http_server_route(a->server, HTTP_GET, "/metrics", expose, a);
}
