/*
 * mcp_run: run_analytics_script. The job is pushed through the client
 * (trigger "mcp"); a waiting call is then a small record on a list that
 * the one P:events subscription (mcp_events) ends when the job's event
 * arrives. Each wait has a deadline (wait_timeout_ms: the job is then
 * returned as it stands and goes on) and, when the client sent a progress
 * token, a timer that sends notifications/progress, so that a client that
 * times out requests without progress (the official SDK's 60 s) keeps
 * waiting. A cancelled call stops waiting; the job itself is left alone.
 *
 * Race: events published while the subscription is down are lost, so on
 * every (re)subscription each wait reads its job's result once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client.h"
#include "history.h"
#include "log.h"
#include "mcp_events.h"
#include "mcp_job.h"
#include "mcp_schema.h"
#include "mcp_tools_impl.h"
#include "timefmt.h"
#include "whitelist.h"

struct mcp_run_wait {
    struct mcp_tools *t;
    struct mcp_call *call;
    struct mcp_run_wait *next;
    char id[REQUEST_ID_MAX + 1];
    int64_t started_ms, wait_ms;
    struct event *deadline, *tick;
};

static void wait_free(struct mcp_run_wait *w)
{
    for (struct mcp_run_wait **p = &w->t->waits; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    if (w->deadline)
        event_free(w->deadline);
    if (w->tick)
        event_free(w->tick);
    free(w);
}

/* The client cancelled the call or the session ended: stop waiting. */
static void wait_abort(void *arg)
{
    struct mcp_run_wait *w = arg;
    log_info("mcp: stopped waiting for job %s (the job goes on)", w->id);
    wait_free(w);
}

/* Ends the call with the job record rec (stolen). */
static void wait_end(struct mcp_run_wait *w, json_t *rec, const char *message)
{
    struct mcp_call *call = w->call;
    const char *status = json_string_value(json_object_get(rec, "status"));
    int is_error = !status || strcmp(status, "success") != 0;
    json_t *view = rec ? mcp_job_view(rec) : NULL;
    json_decref(rec);
    wait_free(w);
    if (!view) {
        mcp_call_fail(call, MCP_INTERNAL_ERROR, "out of memory");
        return;
    }
    if (message)
        json_object_set_new(view, "message", json_string(message));
    mcp_call_finish(call, view, is_error);
}

/* Reads the job's final record. Returns it, or NULL when the job has not
 * ended (or its record cannot be read now: the next event or deadline
 * tries again). event is the completion event, when one arrived. */
static json_t *final_record(struct mcp_run_wait *w, const char *event, size_t len)
{
    char *raw = NULL;
    size_t n = 0;
    if (client_result(w->t->cl, w->id, &raw, &n) == CLIENT_OK) {
        json_t *rec = json_loadb(raw, n, 0, NULL);
        free(raw);
        if (rec)
            return rec;
    }
    if (!event)
        return NULL;
    /* the event came but the result is not kept (a TTL of 0, or Redis
     * restarted): the database has the row, else the event says enough */
    json_t *rec = NULL;
    char err[256];
    if (mcp_tools_lookup(w->t, w->id, &rec, err) > 0 &&
        mcp_job_final(json_string_value(json_object_get(rec, "status"))))
        return rec;
    json_decref(rec);
    return json_loadb(event, len, 0, NULL);
}

void mcp_run_on_event(void *arg, const char *id, const char *msg, size_t len)
{
    struct mcp_tools *t = arg;
    struct mcp_run_wait *w = t->waits;
    while (w && strcmp(w->id, id))
        w = w->next;
    if (!w)
        return;
    json_t *rec = final_record(w, msg, len);
    if (rec)
        wait_end(w, rec, NULL);
}

void mcp_run_on_subscribed(void *arg)
{
    struct mcp_tools *t = arg;
    struct mcp_run_wait *w = t->waits;
    while (w) {
        struct mcp_run_wait *next = w->next; /* wait_end frees w */
        json_t *rec = final_record(w, NULL, 0);
        if (rec)
            wait_end(w, rec, NULL);
        w = next;
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mcp_run_wait *w = arg;
    json_t *rec = final_record(w, NULL, 0);
    if (rec) {
        wait_end(w, rec, NULL);
        return;
    }
    char err[256], msg[256];
    if (mcp_tools_lookup(w->t, w->id, &rec, err) <= 0)
        rec = json_pack("{s:s, s:s}", "id", w->id, "status", "queued");
    snprintf(msg, sizeof msg,
             "stopped waiting after %lld ms; the job goes on: follow it with "
             "get_analytics_job, stop it with cancel_analytics_job",
             (long long)w->wait_ms);
    wait_end(w, rec, msg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mcp_run_wait *w = arg;
    int64_t elapsed = timefmt_mono_ms() - w->started_ms;
    char msg[160];
    snprintf(msg, sizeof msg, "job %s: waiting for it to end (%lld s)", w->id,
             (long long)(elapsed / 1000));
    mcp_call_progress(w->call, (double)elapsed, (double)w->wait_ms, msg);
}

static struct timeval tv_ms(int64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

/* Starts waiting for id. Returns 0, or -1 when out of memory. */
static int wait_start(struct mcp_tools *t, struct mcp_call *call, const char *id, int64_t wait_ms)
{
    struct mcp_run_wait *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->t = t;
    w->call = call;
    snprintf(w->id, sizeof w->id, "%s", id);
    w->started_ms = timefmt_mono_ms();
    w->wait_ms = wait_ms;
    w->next = t->waits;
    t->waits = w;
    w->deadline = evtimer_new(t->cfg.base, on_deadline, w);
    struct timeval dl = tv_ms(wait_ms);
    if (!w->deadline || evtimer_add(w->deadline, &dl) < 0) {
        wait_free(w);
        return -1;
    }
    if (mcp_call_wants_progress(call)) {
        w->tick = event_new(t->cfg.base, -1, EV_PERSIST, on_tick, w);
        struct timeval every = tv_ms(t->cfg.progress_ms > 0 ? t->cfg.progress_ms : 5000);
        if (!w->tick || evtimer_add(w->tick, &every) < 0) {
            wait_free(w);
            return -1;
        }
        char msg[160];
        snprintf(msg, sizeof msg, "job %s queued", id);
        mcp_call_progress(call, 0, (double)wait_ms, msg);
    }
    mcp_call_on_abort(call, wait_abort, w);
    return 0;
}

/* Refuses a script that the local whitelist does not have, when the
 * folder can be read here (the worker's host has the last word anyway).
 * Returns 0 to go on, -1 when the call was finished with an error. */
static int check_script(struct mcp_tools *t, struct mcp_call *call, const char *script)
{
    char name[WHITELIST_NAME_MAX + 1], reason[256];
    if (whitelist_normalise(script, name, reason) < 0) {
        mcp_call_finish(call, mcp_job_error("unknown_script", reason, NULL), 1);
        return -1;
    }
    struct whitelist wl = {0};
    if (whitelist_load(&wl, t->cfg.scripts_dir) < 0)
        return 0;
    int known = whitelist_contains(&wl, name);
    whitelist_free(&wl);
    if (known)
        return 0;
    char msg[300];
    snprintf(msg, sizeof msg, "%.128s is not an approved script: see list_analytics_scripts",
             name);
    mcp_call_finish(call, mcp_job_error("unknown_script", msg, NULL), 1);
    return -1;
}

void mcp_run_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    struct mcp_tools *t = ctx;
    const char *script = json_string_value(json_object_get(args, "script"));
    if (check_script(t, call, script) < 0)
        return;
    const json_t *jargs = json_object_get(args, "args");
    size_t nargs = json_array_size(jargs);
    char **argv = calloc(nargs ? nargs : 1, sizeof *argv);
    if (!argv) {
        mcp_call_fail(call, MCP_INTERNAL_ERROR, "out of memory");
        return;
    }
    for (size_t i = 0; i < nargs; i++)
        argv[i] = (char *)json_string_value(json_array_get(jargs, i)); /* borrowed */
    json_int_t timeout_ms = 0, wait_ms = MCP_TOOLS_WAIT_DEFAULT_MS;
    mcp_schema_integer(json_object_get(args, "timeout_ms"), &timeout_ms);
    mcp_schema_integer(json_object_get(args, "wait_timeout_ms"), &wait_ms);
    const json_t *wait = json_object_get(args, "wait");
    struct client_job job = {.script = script, .args = argv, .nargs = nargs,
                             .timeout_ms = timeout_ms, .trigger = MCP_TOOLS_TRIGGER,
                             .queue = t->cfg.queue};
    char id[REQUEST_ID_MAX + 1];
    const char *field = NULL;
    int rc = client_submit(t->cl, &job, CLIENT_ID_UNIQUE, id, &field);
    free(argv);
    if (rc == CLIENT_INVALID) {
        mcp_call_finish(call, mcp_job_error("bad_request", client_errstr(t->cl), NULL), 1);
        return;
    }
    if (rc != CLIENT_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "the job could not be queued: %s", client_errstr(t->cl));
        mcp_call_finish(call, mcp_job_error("unavailable", msg, NULL), 1);
        return;
    }
    log_job(LOG_INFO, id, script, "mcp: job queued");
    if (json_is_false(wait)) {
        mcp_call_finish(call, json_pack("{s:s, s:s, s:s}", "id", id, "script", script, "status",
                                        "queued"),
                        0);
        return;
    }
    if (wait_start(t, call, id, wait_ms) < 0)
        mcp_call_fail(call, MCP_INTERNAL_ERROR, "out of memory");
}
