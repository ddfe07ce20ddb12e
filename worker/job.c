/*
 * job: a taken request from arrival to acknowledgement, as one state
 * machine (the diagram is in job.h). job_step() is the only place that
 * changes a job's state: each state's handler does its work and returns
 * the next state, or JOB_WAIT when it waits for a reply, a timer or the
 * child (whose callback then sets the state and steps again).
 */
#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "contain.h"
#include "dead.h"
#include "launch.h"
#include "live.h"
#include "log.h"
#include "orphans.h"
#include "run.h"
#include "timefmt.h"
#include "utf8.h"

#define JOB_WAIT (-1)  /* the step waits for a reply, a timer or the child */
#define JOB_FREED (-2) /* the job was freed */

static void job_step(struct job *j);

/* Gives the job's slot back (once): its run is over or will not happen. */
static void release_slot(struct job *j)
{
    if (!j->holds_slot)
        return;
    j->holds_slot = 0;
    j->w->running--;
    worker_job_released(j->w);
}

/* Frees the job's run (SIGKILLing a child still running) and gives back
 * its child slot: w->started counts the jobs that have a run. */
static void end_run(struct job *j)
{
    if (!j->run)
        return;
    run_free(j->run);
    j->run = NULL;
    j->w->started--;
}

static void start_parked(struct worker *w);

static void job_free(struct job *j)
{
    struct worker *w = j->w;
    end_run(j);
    for (struct job **p = &w->jobs; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    int had_slot = j->holds_slot;
    j->holds_slot = 0;
    if (had_slot)
        w->running--;
    live_free(j->live);
    if (j->timer)
        event_free(j->timer);
    if (j->row_timer)
        event_free(j->row_timer);
    request_free(&j->req);
    store_row_free(&j->row);
    free(j->dead);
    free(j->renamed);
    free(j->raw);
    free(j);
    worker_job_released(w);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    job_step(arg);
}

/* Steps again in WORKER_RETRY_MS. Nothing is lost meanwhile: the request
 * is still in the processing list. */
static int retry_later(struct job *j)
{
    if (!j->timer)
        j->timer = evtimer_new(j->w->base, on_retry, j);
    struct timeval tv = {0, WORKER_RETRY_MS * 1000};
    if (!j->timer || evtimer_add(j->timer, &tv) < 0)
        JLOG(LOG_ERROR, j, "cannot arm a retry timer: the job waits for the next reconnect");
    return JOB_WAIT;
}

/* Sets text (a malloc'd string or NULL) as a row field, freeing the old. */
static void set_text(char **field, char *text)
{
    free(*field);
    *field = text;
}

/* Ends a job that never runs (rejected, cancelled, failed): its row is
 * written with the reason as stderr. Returns the next state. */
static int finish_unrun(struct job *j, const char *status, const char *reason)
{
    struct store_row *r = &j->row;
    snprintf(r->status, sizeof r->status, "%s", status);
    r->has_exit_code = r->has_signal = 0;
    r->duration_ms = 0;
    set_text(&r->stdout_text, strdup(""));
    set_text(&r->stderr_text, utf8_sanitize(reason, strlen(reason), NULL));
    JLOG(LOG_WARN, j, "%s: %s", status, reason);
    release_slot(j);
    return JOB_RECORDING;
}

/* A store error on a step. Busy or locked: try again (another process
 * holds the lock; it will let go). Anything else may be permanent
 * (corrupt file, full disk): try for WORKER_STORE_GIVE_UP_MS, then end the
 * job "failed" without its row, with its result and event in Redis and
 * its request dead-lettered, so that no slot and no waiter hangs forever. */
static int store_trouble(struct job *j, int rc, const char *what)
{
    struct worker *w = j->w;
    if (rc == STORE_BUSY) {
        if (!j->busy_logged)
            JLOG(LOG_WARN, j, "%s: %s; retrying every %d ms", what, store_errmsg(w->store),
                 WORKER_RETRY_MS);
        j->busy_logged = 1;
        return retry_later(j);
    }
    int64_t now = timefmt_mono_ms();
    if (!j->store_failing++) {
        j->store_failing_since = now;
        log_error("the job store is unhealthy: %s: %s", what, store_errmsg(w->store));
    }
    if (now - j->store_failing_since < WORKER_STORE_GIVE_UP_MS)
        return retry_later(j);
    char reason[512];
    snprintf(reason, sizeof reason, "arun could not record this job: %s: %s", what,
             store_errmsg(w->store));
    JLOG(LOG_ERROR, j, "%s; giving up: the job ends failed and its request is dead-lettered",
         reason);
    char at[TIMEFMT_ISO_LEN];
    timefmt_now_iso(at);
    free(j->dead);
    j->dead = dead_envelope(j->raw, j->rawlen, reason, j->queue, w->id, at);
    struct store_row *r = &j->row;
    snprintf(r->status, sizeof r->status, "failed");
    char *err = NULL;
    if (asprintf(&err, "%s%s%s", r->stderr_text ? r->stderr_text : "",
                 r->stderr_text && *r->stderr_text ? "\n" : "", reason) < 0)
        err = NULL;
    set_text(&r->stderr_text, err);
    if (!r->stdout_text)
        r->stdout_text = strdup("");
    memcpy(r->completed_at, at, sizeof at);
    release_slot(j);
    return JOB_DELIVERING;
}

static char *args_json(const struct job_request *req)
{
    json_t *a = json_array();
    for (size_t i = 0; i < req->nargs; i++) {
        /* args are passed verbatim; the record shows them repaired */
        char *t = utf8_sanitize(req->args[i], strlen(req->args[i]), NULL);
        json_array_append_new(a, json_string(t ? t : ""));
        free(t);
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* Fills the row's identity from the request, before any decision. */
static void row_begin(struct job *j)
{
    struct store_row *r = &j->row;
    char created[TIMEFMT_ISO_LEN];
    memcpy(created, r->created_at, sizeof created);
    store_row_free(r);
    store_row_init(r);
    memcpy(r->created_at, created, sizeof created);
    snprintf(r->id, sizeof r->id, "%s", j->req.id);
    char *script = utf8_sanitize(j->req.script, strlen(j->req.script), NULL);
    snprintf(r->script, sizeof r->script, "%s", script ? script : "");
    free(script);
    char *trigger = utf8_sanitize(j->req.trigger, strlen(j->req.trigger), NULL);
    snprintf(r->trigger, sizeof r->trigger, "%s", trigger ? trigger : "manual");
    free(trigger);
    r->attempts = 1;
    snprintf(r->worker, sizeof r->worker, "%s", j->w->id);
    snprintf(r->queue, sizeof r->queue, "%s", j->queue);
    set_text(&r->args_json, args_json(&j->req));
}

/* ARRIVED -> NAMING | CLAIMING | DELIVERING (a dead letter without an id) */
static int on_arrived(struct job *j)
{
    request_free(&j->req);
    j->parsed = request_parse(j->raw, j->rawlen, &j->req, j->reason) == 0;
    row_begin(j);
    if (!j->parsed) {
        char at[TIMEFMT_ISO_LEN];
        timefmt_now_iso(at);
        j->dead = dead_envelope(j->raw, j->rawlen, j->reason, j->queue, j->w->id, at);
    }
    if (!j->req.id[0] && !j->parsed) {
        log_warn("dead-lettered a request without a usable id: %s", j->reason);
        release_slot(j);
        return JOB_DELIVERING;
    }
    if (j->req.id_given || !j->parsed)
        return JOB_CLAIMING;
    char id[37];
    if (request_new_id(id) < 0 || !(j->renamed = request_with_id(j->raw, j->rawlen, id))) {
        JLOG(LOG_ERROR, j, "cannot name the request: %s", strerror(errno ? errno : ENOMEM));
        job_free(j); /* the next reconcile adopts it again */
        return JOB_FREED;
    }
    snprintf(j->req.id, sizeof j->req.id, "%s", id);
    snprintf(j->row.id, sizeof j->row.id, "%s", id);
    return JOB_NAMING;
}

void job_named(struct job *j, int ok)
{
    if (ok < 0 || j->lease_lost) {
        /* unknown whether the rewrite happened: forget the copy; the
         * reconcile after reconnecting adopts whichever element is there */
        JLOG(LOG_WARN, j, "connection lost while naming the request; it will be re-read");
        job_free(j);
        return;
    }
    if (ok) {
        free(j->raw);
        j->raw = j->renamed;
        j->rawlen = strlen(j->raw);
        j->delivery_key[0] = '\0';
    } else {
        free(j->renamed);
        JLOG(LOG_WARN, j, "could not store the assigned id in the processing list");
    }
    j->renamed = NULL;
    j->state = JOB_CLAIMING;
    job_step(j);
}

void job_claimed(struct job *j, int ok, int cancel, int watched, int deliveries)
{
    if (!ok || j->lease_lost) {
        job_free(j); /* re-adopted from the processing list on reconnect */
        return;
    }
    j->cancel_requested |= cancel;
    j->watched |= watched;
    j->deliveries = deliveries;
    j->state = JOB_DECIDING;
    job_step(j);
}

/* Returns 1 if another job of this worker with the same id has started. */
static int twin_running(const struct job *j)
{
    for (const struct job *o = j->w->jobs; o; o = o->next)
        if (o != j && o->state >= JOB_STARTING && o->state <= JOB_RECORDING &&
            strcmp(o->row.id, j->req.id) == 0)
            return 1;
    return 0;
}

static int script_exists(const struct worker *w, const char *name)
{
    char path[PATH_MAX + WHITELIST_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s.py", w->scripts_dir, name);
    return access(path, R_OK) == 0;
}

/* Checks the script against the whitelist. Returns 0, or -1 with the
 * reason (naming the script, never the folder's path). */
static int check_script(struct job *j, char *reason, size_t size)
{
    char name[WHITELIST_NAME_MAX + 1], why[256];
    if (whitelist_normalise(j->req.script, name, why) < 0) {
        snprintf(reason, size, "script refused: %s", why);
        return -1;
    }
    snprintf(j->row.script, sizeof j->row.script, "%s", name);
    /* a listed script may have been removed, or a new one added, since
     * the last scan */
    if (!whitelist_contains(&j->w->wl, name) || !script_exists(j->w, name)) {
        if (whitelist_load(&j->w->wl, j->w->scripts_dir) < 0)
            JLOG(LOG_ERROR, j, "cannot rescan the scripts folder: %s", strerror(errno));
        if (!whitelist_contains(&j->w->wl, name)) {
            snprintf(reason, size, "script '%s' is not on the whitelist (no %s.py among the "
                     "approved scripts)", name, name);
            return -1;
        }
    }
    return 0;
}

/* DECIDING -> STARTING | RECORDING (refused, cancelled, failed) |
 * DELIVERING (already finished: re-send) | itself (store busy, twin) */
static int on_deciding(struct job *j)
{
    struct store_row prev;
    int rc = store_get(j->w->store, j->req.id, &prev);
    if (rc != STORE_OK && rc != STORE_NOTFOUND)
        return store_trouble(j, rc, "reading the job's row");
    if (rc == STORE_OK && store_status_final(prev.status)) {
        /* a redelivery of a finished job: acknowledge, do not rerun */
        store_row_free(&j->row);
        j->row = prev;
        JLOG(LOG_INFO, j, "already %s: re-sending its result", prev.status);
        release_slot(j);
        return JOB_DELIVERING;
    }
    if (rc == STORE_OK) {
        /* it ran before (on this host) and did not finish: the first take
         * stays its created_at */
        memcpy(j->row.created_at, prev.created_at, sizeof prev.created_at);
        store_row_free(&prev);
    }
    /* the same id running here now (a duplicate push, or a redelivery
     * of a run that is still being killed) is waited for: its row may
     * not be written yet (WORKER_RUNNING_ROW_MS), so ask the jobs */
    if (twin_running(j)) {
        if (!j->busy_logged)
            JLOG(LOG_INFO, j, "the same id is running in this worker: waiting for it");
        j->busy_logged = 1;
        return retry_later(j);
    }
    if (rc == STORE_OK || j->deliveries > 0) {
        /* an earlier run (with a row, or one recovery put back) */
        int n = orphans_kill(j->req.id);
        if (n > 0)
            JLOG(LOG_WARN, j, "killed %d processes left by an earlier run of this job", n);
        j->rerun = 1;
    }
    j->busy_logged = j->store_failing = 0;
    j->row.attempts = j->deliveries + 1;
    if (!j->parsed)
        return finish_unrun(j, "rejected", j->reason);
    char reason[512];
    if (j->deliveries >= WORKER_MAX_ATTEMPTS) {
        j->row.attempts = j->deliveries;
        snprintf(reason, sizeof reason, "delivered %d times without finishing (the worker "
                 "running it died each time); not run again", j->deliveries);
        return finish_unrun(j, "failed", reason);
    }
    if (j->cancel_requested)
        return finish_unrun(j, "cancelled", "cancelled before it started");
    if (check_script(j, reason, sizeof reason) < 0)
        return finish_unrun(j, "rejected", reason);
    return JOB_STARTING;
}

static void on_run_done(struct run *r, void *arg);
static void on_running_row(evutil_socket_t fd, short what, void *arg);

static void arm_running_row(struct job *j, int ms)
{
    if (!j->row_timer)
        j->row_timer = evtimer_new(j->w->base, on_running_row, j);
    struct timeval tv = {0, ms * 1000};
    if (!j->row_timer || evtimer_add(j->row_timer, &tv) < 0)
        JLOG(LOG_WARN, j, "cannot arm the running row's timer: only the final row is written");
}

/* The job has run WORKER_RUNNING_ROW_MS: readers of the database see it
 * running from now on. A busy store or an unconfirmed lease retry; a
 * failing store leaves it to the final row, which has its own retries. */
static void on_running_row(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct job *j = arg;
    if (j->state != JOB_RUNNING || j->running_written)
        return;
    if (!peers_lease_valid(j->w)) {
        arm_running_row(j, WORKER_RETRY_MS);
        return;
    }
    int rc = store_put(j->w->store, &j->row);
    if (rc == STORE_OK)
        j->running_written = 1;
    else if (rc == STORE_BUSY)
        arm_running_row(j, WORKER_RETRY_MS);
    else
        JLOG(LOG_ERROR, j, "writing the running row: %s", store_errmsg(j->w->store));
}

/* STARTING -> RUNNING | RECORDING (the spawn failed) | itself (store busy) */
static int on_starting(struct job *j)
{
    struct worker *w = j->w;
    if (w->stopping) {
        /* taken (or taken ahead) but not started when the drain began:
         * leave it listed, so the final requeue puts it back */
        job_free(j);
        return JOB_FREED;
    }
    /* a worker that may have been declared dead starts nothing until its
     * heartbeat is confirmed (or its lease found lost, see peers.c) */
    if (!peers_lease_valid(w))
        return retry_later(j);
    if (j->cancel_requested)
        return finish_unrun(j, "cancelled", "cancelled before it started");
    if (w->started >= w->cfg.concurrency) {
        j->parked = 1; /* taken ahead: start_parked steps it again */
        return JOB_WAIT;
    }
    j->parked = 0;
    snprintf(j->row.status, sizeof j->row.status, "running");
    timefmt_now_iso(j->row.started_at);
    if (!store_healthy(w->store)) {
        /* a store that failed last time must take the running row before
         * anything starts: a script is not run unrecorded */
        int rc = store_put(w->store, &j->row);
        if (rc != STORE_OK)
            return store_trouble(j, rc, "writing the running row");
        j->running_written = 1;
    }
    j->busy_logged = j->store_failing = 0;
    j->run = launch_job(w, j, on_run_done);
    if (!j->run) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot start the script: %s", strerror(errno));
        return finish_unrun(j, "failed", reason);
    }
    w->started++;
    if (!j->running_written)
        arm_running_row(j, WORKER_RUNNING_ROW_MS);
    JLOG(LOG_DEBUG, j, "started pid %d (attempt %d)", (int)run_pid(j->run), j->row.attempts);
    j->state = JOB_RUNNING;
    if (j->watched)
        job_watch(j);
    return JOB_RUNNING;
}

/* The child is reaped and its pipes are closed: the run's outcome goes
 * into the row. RUNNING -> RECORDING */
static void on_run_done(struct run *r, void *arg)
{
    struct job *j = arg;
    struct worker *w = j->w;
    const struct run_result *res = run_result(r);
    struct store_row *row = &j->row;
    row->duration_ms = res->duration_ms;
    row->has_exit_code = res->has_exit_code;
    row->exit_code = res->exit_code;
    row->has_signal = res->has_signal;
    row->signal = res->signal;
    row->cpu_user_ms = res->cpu_user_ms;
    row->cpu_sys_ms = res->cpu_sys_ms;
    row->max_rss_kb = res->max_rss_kb;
    const char *status = res->cause == RUN_CAUSE_TIMEOUT  ? "timeout"
                         : res->cause == RUN_CAUSE_CANCEL ? "cancelled"
                         : res->exec_errno                ? "failed"
                         : res->has_exit_code && res->exit_code == 0 ? "success"
                                                                     : "error";
    snprintf(row->status, sizeof row->status, "%s", status);
    set_text(&row->stdout_text, run_take_text(r, 0));
    char *err = run_take_text(r, 1);
    char *note = NULL;
    if (res->exec_errno) {
        if (asprintf(&note, "cannot execute %s: %s", w->python, strerror(res->exec_errno)) < 0)
            note = NULL;
    } else if (res->cause == RUN_CAUSE_NONE) {
        const char *limit = launch_limit_hit(&w->limits, res, err);
        if (limit && asprintf(&note, "arun: %s limit exceeded", limit) < 0)
            note = NULL;
    }
    if (note) {
        char *joined = NULL;
        int nl = err && *err && err[strlen(err) - 1] != '\n';
        if (asprintf(&joined, "%s%s%s\n", err ? err : "", nl ? "\n" : "", note) < 0)
            joined = NULL;
        if (joined) {
            free(err);
            err = joined;
        }
        free(note);
    }
    set_text(&row->stderr_text, err);
    live_flush(j->live);
    end_run(j);
    if (j->row_timer)
        evtimer_del(j->row_timer);
    start_parked(w);
    JLOG(log_enabled(LOG_DEBUG) ? LOG_DEBUG : LOG_INFO, j, "%s in %lld ms", status,
         (long long)row->duration_ms);
    contain_sweep(w); /* what the job left outside its group */
    if (j->rerun) {
        /* an earlier run's worker may have died since we looked (it was
         * alive then, paused or cut off): what its run left is orphaned now */
        int n = orphans_kill(row->id);
        if (n > 0)
            JLOG(LOG_WARN, j, "killed %d processes left by an earlier run of this job", n);
    }
    release_slot(j);
    j->state = JOB_RECORDING;
    job_step(j);
}

/* RECORDING -> DELIVERING | itself (store busy) */
static int on_recording(struct job *j)
{
    /* nothing is recorded for a request a peer may have taken over */
    if (!peers_lease_valid(j->w))
        return retry_later(j);
    timefmt_now_iso(j->row.completed_at);
    int rc = store_put(j->w->store, &j->row);
    if (rc != STORE_OK)
        return store_trouble(j, rc, "writing the final row");
    return JOB_DELIVERING;
}

static void job_step(struct job *j)
{
    for (;;) {
        int next;
        switch (j->state) {
        case JOB_ARRIVED:
            next = on_arrived(j);
            break;
        case JOB_NAMING:
            claim_name(j); /* answered by job_named */
            next = JOB_WAIT;
            break;
        case JOB_CLAIMING:
            claim_check(j); /* answered by job_claimed */
            next = JOB_WAIT;
            break;
        case JOB_DECIDING:
            next = on_deciding(j);
            break;
        case JOB_STARTING:
            next = on_starting(j);
            break;
        case JOB_RUNNING:
            next = JOB_WAIT; /* answered by on_run_done */
            break;
        case JOB_RECORDING:
            next = on_recording(j);
            break;
        case JOB_DELIVERING:
            deliver_send(j); /* answered by job_delivered */
            next = JOB_WAIT;
            break;
        default:
            next = JOB_WAIT;
        }
        if (next == JOB_WAIT || next == JOB_FREED)
            return;
        j->state = (enum job_state)next;
    }
}

void job_arrive(struct worker *w, const char *raw, size_t len, const char *queue,
                int holds_slot)
{
    struct job *j = calloc(1, sizeof *j);
    char *copy = malloc(len + 1);
    if (!j || !copy) {
        /* the element stays in the processing list; the next reconcile
         * adopts it when memory is back */
        log_error("out of memory taking a request");
        free(j);
        free(copy);
        return;
    }
    memcpy(copy, raw, len);
    copy[len] = '\0';
    j->w = w;
    j->raw = copy;
    j->rawlen = len;
    snprintf(j->queue, sizeof j->queue, "%s", queue);
    store_row_init(&j->row);
    timefmt_now_iso(j->row.created_at);
    j->holds_slot = holds_slot;
    if (holds_slot)
        w->running++;
    j->next = w->jobs;
    w->jobs = j;
    j->state = JOB_ARRIVED;
    job_step(j);
}

int job_holds(const struct worker *w, const char *raw, size_t len)
{
    for (const struct job *j = w->jobs; j; j = j->next)
        if (j->rawlen == len && memcmp(j->raw, raw, len) == 0)
            return 1;
    return 0;
}

struct job *job_find(struct worker *w, const char *id)
{
    for (struct job *j = w->jobs; j; j = j->next)
        if (j->row.id[0] && strcmp(j->row.id, id) == 0)
            return j;
    return NULL;
}

void job_cancel(struct job *j)
{
    if (j->state >= JOB_RECORDING)
        return; /* it has ended: a finished job is left as it was */
    j->cancel_requested = 1;
    if (j->parked) {
        job_step(j); /* held ahead: it ends now, without waiting for a slot */
        return;
    }
    if (j->state == JOB_RUNNING && j->run) {
        JLOG(LOG_INFO, j, "cancel requested: SIGTERM to its process group");
        run_stop(j->run, RUN_CAUSE_CANCEL);
    }
    /* before it starts, DECIDING sees the flag */
}

void job_watch(struct job *j)
{
    j->watched = 1;
    if (j->state == JOB_RUNNING && j->run && !j->live)
        j->live = live_start(j->w, j->row.id, j->run);
}

void job_delivered(struct job *j) { job_free(j); }

const char *job_delivery_key(struct job *j)
{
    if (!j->delivery_key[0]) {
        size_t plen = strlen(j->w->delivery_prefix);
        memcpy(j->delivery_key, j->w->delivery_prefix, plen);
        sha1_hex(j->raw, j->rawlen, j->delivery_key + plen);
    }
    return j->delivery_key;
}

/* Starts the job that has waited longest for a child slot, if any (the
 * list is newest first). */
static void start_parked(struct worker *w)
{
    if (w->started >= w->cfg.concurrency)
        return;
    struct job *oldest = NULL;
    for (struct job *j = w->jobs; j; j = j->next)
        if (j->parked)
            oldest = j;
    if (oldest)
        job_step(oldest);
}

void job_unpark_all(struct worker *w)
{
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next;
        if (j->parked)
            job_step(j); /* frees it when stopping */
    }
}

void job_drop(struct job *j)
{
    if (j->run)
        run_stop(j->run, RUN_CAUSE_ABANDON); /* run_free SIGKILLs the group */
    job_free(j);
}

void job_abandon_all(struct worker *w)
{
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next;
        /* NAMING and CLAIMING wait for their reply, which then finds the
         * worker stopping; DELIVERING waits for Redis (or the forced exit) */
        if (j->state == JOB_NAMING || j->state == JOB_CLAIMING || j->state == JOB_DELIVERING)
            continue;
        if (j->state == JOB_RUNNING) {
            /* its request goes back to its queue: its row must not say it
             * runs. "queued" is not final, so the next worker runs it
             * (best effort: a busy store leaves "running", which is not
             * final either) */
            snprintf(j->row.status, sizeof j->row.status, "queued");
            j->row.completed_at[0] = '\0';
            if (store_put(w->store, &j->row) != STORE_OK)
                JLOG(LOG_WARN, j, "could not mark the row queued: %s", store_errmsg(w->store));
        }
        job_drop(j);
    }
}
