/*
 * take: moving requests from the queues into this worker's processing
 * list, one at a time on the "take" connection, while a slot is free (or,
 * with ARUN_TAKE_AHEAD=N, until N requests wait for one, already claimed
 * and checked, so a freed slot starts the next without a round trip).
 *
 * With one queue this is BLMOVE queue processing LEFT RIGHT. BLMOVE
 * blocks on a single key, so with several queues the worker first tries
 * each in priority order with one atomic script (LMOVE from the first
 * non-empty), and only when all are empty blocks on the first queue for
 * WORKER_TAKE_WAIT_MANY_S. A job pushed to the first queue of an idle
 * worker starts at once; one pushed to another queue within that bound.
 * Either way the request is never only in memory: Redis moves it into the
 * processing list in the same step that hands it to us.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "job.h"
#include "log.h"
#include "rconn.h"
#include "worker.h"

static const char TAKE_SCRIPT[] =
    "for i = 2, #KEYS do\n"
    "  local v = redis.call('LMOVE', KEYS[i], KEYS[1], 'LEFT', 'RIGHT')\n"
    "  if v then return {i - 1, v} end\n"
    "end\n"
    "return false\n";

static void on_blocked(redisAsyncContext *ac, void *reply, void *priv);

/* Handles a taken element (or none), then asks for the next. */
static void taken(struct worker *w, const char *raw, size_t len, size_t queue_index)
{
    w->take_busy = 0;
    if (raw && !w->stopping) /* when stopping, it is requeued at exit */
        job_arrive(w, raw, len, w->queue_names[queue_index], 1);
    take_next(w);
    worker_job_released(w);
}

static void block_on_first(struct worker *w)
{
    const char *wait = w->nqueues == 1 ? WORKER_TAKE_WAIT_ONE_S : WORKER_TAKE_WAIT_MANY_S;
    const char *argv[] = {"BLMOVE", w->queue_keys[0], w->processing_key, "LEFT", "RIGHT", wait};
    if (rconn_command_argv(w->take, on_blocked, w, 6, argv, NULL) < 0)
        w->take_busy = 0;
}

static int reply_failed(struct worker *w, const redisReply *r)
{
    if (!r) { /* disconnected: the reconnect reconciles and takes again */
        w->take_busy = 0;
        worker_job_released(w);
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* wrong type, OOM, a script error: say so and wait for the next
         * heartbeat tick (which calls take_next) rather than spin */
        log_error("taking a request failed: %s", r->str);
        w->take_busy = 0;
        worker_job_released(w);
        return 1;
    }
    return 0;
}

static void on_blocked(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (reply_failed(w, r))
        return;
    if (r->type == REDIS_REPLY_STRING)
        taken(w, r->str, r->len, 0);
    else
        taken(w, NULL, 0, 0);
}

static void on_tried(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (reply_failed(w, r))
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[0]->integer >= 1 && (size_t)r->element[0]->integer <= w->nqueues) {
        taken(w, r->element[1]->str, r->element[1]->len, (size_t)r->element[0]->integer - 1);
        return;
    }
    if (w->stopping || w->running >= w->cfg.concurrency + w->cfg.take_ahead) {
        w->take_busy = 0;
        worker_job_released(w);
        return;
    }
    block_on_first(w); /* every queue was empty */
}

void take_next(struct worker *w)
{
    if (w->take_busy || w->stopping || !w->heartbeat_ok || !rconn_up(w->take) ||
        w->running >= w->cfg.concurrency + w->cfg.take_ahead)
        return;
    w->take_busy = 1;
    if (w->nqueues == 1) {
        block_on_first(w);
        return;
    }
    const char *argv[3 + 1 + 64];
    int argc = 0;
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%zu", w->nqueues + 1);
    argv[argc++] = "EVAL";
    argv[argc++] = TAKE_SCRIPT;
    argv[argc++] = nkeys;
    argv[argc++] = w->processing_key;
    for (size_t i = 0; i < w->nqueues; i++)
        argv[argc++] = w->queue_keys[i];
    if (rconn_command_argv(w->take, on_tried, w, argc, argv, NULL) < 0)
        w->take_busy = 0;
}

/* Reply to LRANGE of our own processing list after (re)connecting: any
 * element no job holds was taken by a command whose reply was lost, or
 * dropped before it started. Adopt each as if just taken. */
static void on_reconciled(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (reply_failed(w, r))
        return;
    w->take_busy = 0;
    if (r->type == REDIS_REPLY_ARRAY && !w->stopping) {
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *e = r->element[i];
            if (e->type == REDIS_REPLY_STRING && !job_holds(w, e->str, e->len)) {
                log_info("adopting a request left in this worker's processing list");
                /* its queue is unknown here; the first is reported */
                job_arrive(w, e->str, e->len, w->queue_names[0], 1);
            }
        }
    }
    take_next(w);
}

static void on_client_id(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER)
        w->take_client_id = r->integer;
}

void take_on_up(struct rconn *c, void *arg)
{
    struct worker *w = arg;
    (void)c;
    w->take_busy = 1;
    w->take_client_id = -1;
    rconn_command(w->take, on_client_id, w, "CLIENT ID");
    if (rconn_command(w->take, on_reconciled, w, "LRANGE %s 0 -1", w->processing_key) < 0)
        w->take_busy = 0;
}

#define TAKE_UNBLOCK_RETRY_MS 50

static void on_unblock_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    take_unblock(arg);
}

/* CLIENT UNBLOCK answers 0 when the take connection is not blocked yet:
 * its BLMOVE may still be on its way to Redis (the two connections are not
 * ordered with each other). Then try again shortly, while a take is out. */
static void on_unblocked(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0 && w->take_busy) {
        struct timeval tv = {0, TAKE_UNBLOCK_RETRY_MS * 1000};
        event_base_once(w->base, -1, EV_TIMEOUT, on_unblock_retry, w, &tv);
    }
}

void take_unblock(struct worker *w)
{
    /* makes a BLMOVE in flight return nil now rather than after its
     * timeout; an element it took anyway is requeued at exit */
    if (w->take_busy && w->take_client_id >= 0)
        rconn_command(w->cmd, on_unblocked, w, "CLIENT UNBLOCK %lld", w->take_client_id);
}
