/*
 * job: a taken request from arrival to acknowledgement. Every path ends
 * the same way: the row is committed, then P:result:ID is set and the
 * event published, and only then is the request removed from the
 * processing list, so a crash between any two steps leaves the request
 * where recovery finds it (and the store tells a redelivery that the job
 * already finished).
 */
#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "dead.h"
#include "log.h"
#include "orphans.h"
#include "rconn.h"
#include "record.h"
#include "timefmt.h"
#include "utf8.h"

static void job_classify(struct job *j);
static void job_check(struct job *j);
static void job_insert_running(struct job *j);
static void job_record(struct job *j);

static void release_slot(struct job *j)
{
    if (!j->holds_slot)
        return;
    j->holds_slot = 0;
    j->w->running--;
    take_next(j->w);
}

static void job_free(struct job *j)
{
    struct worker *w = j->w;
    for (struct job **p = &w->jobs; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    release_slot(j);
    run_free(j);
    if (j->timer)
        event_free(j->timer);
    request_free(&j->req);
    store_row_free(&j->row);
    free(j->dead);
    free(j->raw);
    free(j);
    worker_check_idle(w);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct job *j = arg;
    void (*step)(struct job *) = j->retry_step;
    j->retry_step = NULL;
    step(j);
}

/* Runs step again after WORKER_RETRY_MS (SQLite was busy, or a twin runs).
 * Nothing is lost meanwhile: the request is still in the processing list. */
static void arm_retry(struct job *j, void (*step)(struct job *))
{
    if (!j->timer)
        j->timer = evtimer_new(j->w->base, on_retry, j);
    else
        event_assign(j->timer, j->w->base, -1, 0, on_retry, j);
    j->retry_step = step;
    struct timeval tv = {0, WORKER_RETRY_MS * 1000};
    evtimer_add(j->timer, &tv);
}

static void retry_later(struct job *j, void (*step)(struct job *), const char *what)
{
    if (!j->busy_logged) {
        JLOG(LOG_WARN, j, "%s: %s; retrying every %d ms", what, store_errmsg(j->w->store),
             WORKER_RETRY_MS);
        j->busy_logged = 1;
    }
    arm_retry(j, step);
}

/* Sets text (a malloc'd string or NULL) as a row field, freeing the old. */
static void set_text(char **field, char *text)
{
    free(*field);
    *field = text;
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
    snprintf(r->id, sizeof r->id, "%s", j->req.id);
    size_t n;
    char *script = utf8_sanitize(j->req.script, strlen(j->req.script), &n);
    snprintf(r->script, sizeof r->script, "%s", script ? script : "");
    free(script);
    char *trigger = utf8_sanitize(j->req.trigger, strlen(j->req.trigger), NULL);
    snprintf(r->trigger, sizeof r->trigger, "%s", trigger ? trigger : "manual");
    free(trigger);
    r->attempts = j->req.attempt;
    r->duration_ms = -1;
    snprintf(r->worker, sizeof r->worker, "%s", j->w->id);
    snprintf(r->queue, sizeof r->queue, "%s", j->queue);
    set_text(&r->args_json, args_json(&j->req));
}

/* Ends a job that never runs: rejected (bad request, not whitelisted) or
 * failed (delivered too often). */
static void finish_unrun(struct job *j, const char *status, const char *reason)
{
    struct store_row *r = &j->row;
    snprintf(r->status, sizeof r->status, "%s", status);
    r->has_exit_code = r->has_signal = 0;
    r->duration_ms = 0;
    set_text(&r->stdout_text, strdup(""));
    char *why = utf8_sanitize(reason, strlen(reason), NULL);
    set_text(&r->stderr_text, why);
    JLOG(LOG_WARN, j, "%s: %s", status, reason);
    release_slot(j);
    job_record(j);
}

void job_arrive(struct worker *w, const char *raw, size_t len, const char *queue)
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
    j->fds = (struct spawn_fds){-1, -1, -1};
    j->holds_slot = 1;
    w->running++;
    j->next = w->jobs;
    w->jobs = j;
    timefmt_now_iso(j->row.created_at);
    job_classify(j);
}

int job_holds(const struct worker *w, const char *raw, size_t len)
{
    for (const struct job *j = w->jobs; j; j = j->next)
        if (j->rawlen == len && memcmp(j->raw, raw, len) == 0)
            return 1;
    return 0;
}

struct job *job_by_pid(struct worker *w, pid_t pid)
{
    for (struct job *j = w->jobs; j; j = j->next)
        if (j->pid == pid)
            return j;
    return NULL;
}

static void on_named(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct job *j = priv;
    redisReply *r = reply;
    if (!r) {
        /* unknown whether the rewrite happened: forget the copy; the
         * reconcile after reconnecting adopts whichever element is there */
        JLOG(LOG_WARN, j, "connection lost while naming the request; it will be re-read");
        job_free(j);
        return;
    }
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
        free(j->raw);
        j->raw = j->dead; /* job_classify left the renamed request here */
        j->rawlen = strlen(j->raw);
        j->dead = NULL;
    } else {
        JLOG(LOG_WARN, j, "could not store the assigned id in the processing list (%s)",
             r->type == REDIS_REPLY_ERROR ? r->str : "element not found");
        free(j->dead);
        j->dead = NULL;
    }
    j->state = JOB_ARRIVED;
    job_check(j);
}

/* Replaces the request's element in the processing list by one that
 * carries the id chosen here, atomically. */
static const char NAME_SCRIPT[] =
    "local i = redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1)\n"
    "if not i then return 0 end\n"
    "redis.call('LSET', KEYS[1], i, ARGV[2])\n"
    "return 1\n";

static void job_name(struct job *j)
{
    char id[37];
    if (request_new_id(id) < 0) {
        JLOG(LOG_ERROR, j, "no random id: %s", strerror(errno));
        job_free(j); /* reconcile will adopt it again */
        return;
    }
    snprintf(j->req.id, sizeof j->req.id, "%s", id);
    snprintf(j->row.id, sizeof j->row.id, "%s", id);
    char *named = request_with_id(j->raw, j->rawlen, id);
    if (!named) {
        job_free(j);
        return;
    }
    j->dead = named; /* parked here until on_named takes it */
    j->state = JOB_NAMING;
    const char *argv[] = {"EVAL", NAME_SCRIPT, "1", j->w->processing_key, j->raw, named};
    size_t lens[] = {4, sizeof NAME_SCRIPT - 1, 1, strlen(j->w->processing_key), j->rawlen,
                     strlen(named)};
    /* on the take connection, so it is ordered with takes and reconciles */
    if (rconn_command_argv(j->w->take, on_named, j, 6, argv, lens) < 0) {
        free(j->dead);
        j->dead = NULL;
        job_free(j);
    }
}

/* Returns 1 if another job of this worker with the same id has started. */
static int job_running_elsewhere(const struct job *j)
{
    for (const struct job *o = j->w->jobs; o; o = o->next)
        if (o != j && o->state >= JOB_STARTING && o->state <= JOB_RECORDING &&
            strcmp(o->row.id, j->req.id) == 0)
            return 1;
    return 0;
}

static void wait_for_twin(struct job *j)
{
    if (!j->busy_logged) {
        JLOG(LOG_INFO, j, "the same id is running in this worker: waiting for it to end");
        j->busy_logged = 1;
    }
    arm_retry(j, job_classify);
}

static void job_classify(struct job *j)
{
    char reason[REQUEST_REASON_MAX];
    request_free(&j->req);
    int ok = request_parse(j->raw, j->rawlen, &j->req, reason) == 0;
    row_begin(j);
    if (j->req.id[0]) {
        struct store_row prev;
        int rc = store_get(j->w->store, j->req.id, &prev);
        if (rc == STORE_BUSY || rc == STORE_ERR) {
            retry_later(j, job_classify, "reading the job's row");
            return;
        }
        if (rc == STORE_OK && store_status_final(prev.status)) {
            /* a redelivery of a finished job: acknowledge, do not rerun */
            store_row_free(&j->row);
            j->row = prev;
            JLOG(LOG_INFO, j, "already %s: re-sending its result", prev.status);
            release_slot(j);
            j->state = JOB_DELIVERING;
            job_deliver(j);
            return;
        }
        if (rc == STORE_OK) {
            /* a redelivery of a job that was running: if this worker runs
             * it now (the same id pushed twice), wait for that run to end */
            store_row_free(&prev);
            if (job_running_elsewhere(j)) {
                wait_for_twin(j);
                return;
            }
            int n = orphans_kill(j->req.id);
            if (n > 0)
                JLOG(LOG_WARN, j, "killed %d processes left by an earlier run of this job", n);
        }
    }
    if (!ok) {
        char at[TIMEFMT_ISO_LEN];
        timefmt_now_iso(at);
        j->dead = dead_envelope(j->raw, j->rawlen, reason, j->queue, j->w->id, at);
        if (!j->req.id[0]) {
            log_warn("dead-lettered a request without a usable id: %s", reason);
            release_slot(j);
            j->state = JOB_DELIVERING;
            job_deliver(j);
            return;
        }
        finish_unrun(j, "rejected", reason);
        return;
    }
    if (!j->req.id_given) {
        job_name(j);
        return;
    }
    job_check(j);
}

static int script_exists(const struct worker *w, const char *name)
{
    char path[PATH_MAX + WHITELIST_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s.py", w->scripts_dir, name);
    return access(path, R_OK) == 0;
}

static void job_check(struct job *j)
{
    char reason[PATH_MAX + 512];
    char name[WHITELIST_NAME_MAX + 1];
    if (j->req.attempt > WORKER_MAX_ATTEMPTS) {
        snprintf(reason, sizeof reason,
                 "delivered %d times without finishing (the worker running it died each "
                 "time); not run again", j->req.attempt - 1);
        j->row.attempts = j->req.attempt - 1;
        finish_unrun(j, "failed", reason);
        return;
    }
    char why[256];
    if (whitelist_normalise(j->req.script, name, why) < 0) {
        snprintf(reason, sizeof reason, "script refused: %s", why);
        finish_unrun(j, "rejected", reason);
        return;
    }
    snprintf(j->row.script, sizeof j->row.script, "%s", name);
    /* a listed script may have been removed since the last scan */
    if (!whitelist_contains(&j->w->wl, name) || !script_exists(j->w, name)) {
        /* it may have been added since the last scan */
        if (whitelist_load(&j->w->wl, j->w->scripts_dir) < 0)
            JLOG(LOG_ERROR, j, "cannot rescan %s: %s", j->w->scripts_dir, strerror(errno));
        if (!whitelist_contains(&j->w->wl, name)) {
            snprintf(reason, sizeof reason, "script '%s' is not on the whitelist (no %s.py in %s)",
                     name, name, j->w->scripts_dir);
            finish_unrun(j, "rejected", reason);
            return;
        }
    }
    job_insert_running(j);
}

static void job_insert_running(struct job *j)
{
    if (j->w->stopping) {
        /* taken but not started when the drain began: leave it listed,
         * so the final requeue puts it back for another worker */
        job_free(j);
        return;
    }
    j->state = JOB_STARTING;
    snprintf(j->row.status, sizeof j->row.status, "running");
    int rc = store_put(j->w->store, &j->row);
    if (rc != STORE_OK) {
        retry_later(j, job_insert_running, "writing the running row");
        return;
    }
    j->busy_logged = 0;
    if (run_start(j) < 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "cannot start the script: %s", strerror(errno));
        finish_unrun(j, "failed", reason);
        return;
    }
    j->state = JOB_RUNNING;
    JLOG(LOG_DEBUG, j, "started pid %d (attempt %d)", (int)j->pid, j->req.attempt);
}

void job_ran(struct job *j)
{
    struct store_row *r = &j->row;
    int st = j->wait_status;
    r->duration_ms = timefmt_mono_ms() - j->start_ms;
    r->has_exit_code = WIFEXITED(st);
    r->exit_code = r->has_exit_code ? WEXITSTATUS(st) : 0;
    r->has_signal = WIFSIGNALED(st);
    r->signal = r->has_signal ? WTERMSIG(st) : 0;
    const char *status = j->timed_out ? "timeout"
                         : j->exec_errno ? "failed"
                         : r->has_exit_code && r->exit_code == 0 ? "success"
                                                                  : "error";
    snprintf(r->status, sizeof r->status, "%s", status);
    set_text(&r->stdout_text, capture_text(&j->out));
    char *err = capture_text(&j->err);
    if (j->exec_errno) {
        char *msg = NULL;
        if (asprintf(&msg, "cannot execute %s: %s\n%s", j->w->python, strerror(j->exec_errno),
                     err ? err : "") < 0)
            msg = NULL;
        free(err);
        err = msg;
        r->has_exit_code = 0;
    }
    set_text(&r->stderr_text, err);
    run_free(j); /* the output now lives in the row */
    JLOG(log_enabled(LOG_DEBUG) ? LOG_DEBUG : LOG_INFO, j, "%s in %lld ms", status,
         (long long)r->duration_ms);
    release_slot(j);
    job_record(j);
}

static void job_record(struct job *j)
{
    j->state = JOB_RECORDING;
    char now[TIMEFMT_ISO_LEN];
    timefmt_now_iso(now);
    memcpy(j->row.completed_at, now, sizeof now);
    if (store_put(j->w->store, &j->row) != STORE_OK) {
        retry_later(j, job_record, "writing the final row");
        return;
    }
    j->state = JOB_DELIVERING;
    job_deliver(j);
}

void job_abandon_all(struct worker *w)
{
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next;
        if (j->state == JOB_RUNNING) {
            j->abandoned = 1;
            run_kill(j);
        } else if (j->state != JOB_NAMING && j->state != JOB_DELIVERING) {
            /* not started, or its row cannot be written (SQLite locked):
             * its request stays listed and is requeued. NAMING waits for
             * its reply, which then finds the worker stopping. */
            job_free(j);
        }
    }
}

void job_reap(struct worker *w)
{
    for (;;) {
        siginfo_t si = {0};
        /* peek first (WNOWAIT): the group is killed while its leader is
         * still a zombie, so its id cannot have been reused */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        struct job *j = job_by_pid(w, pid);
        if (j)
            killpg(pid, SIGKILL); /* no process of the job outlives the job */
        int st;
        if (waitpid(pid, &st, 0) < 0)
            continue;
        if (j)
            run_exited(j, st);
    }
}

void job_forget(struct job *j) { job_free(j); }
