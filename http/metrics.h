/*
 * metrics: GET /metrics in Prometheus text format 0.0.4 (contract
 * "arun-http"): arun_jobs_total{script,status}, arun_job_duration_seconds
 * {script} (histogram), arun_queue_length{queue}, arun_jobs_running,
 * arun_workers, and this server's own arun_http_connections and
 * arun_http_streams.
 *
 * Job counts and durations are read from analytics_jobs (all hosts' jobs,
 * whatever this server saw), in one grouped scan that is cached for
 * METRICS_CACHE_MS so that scrapes cost one scan per interval at most.
 */
#ifndef ARUN_HTTP_METRICS_H
#define ARUN_HTTP_METRICS_H

#define METRICS_CACHE_MS 5000

struct app;

/* Adds GET /metrics. Returns 0 or -1. */
int metrics_routes(struct app *a);

/* Frees the cached scan (at exit). */
void metrics_free(void);

#endif
