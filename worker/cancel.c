/*
 * cancel: the subscriber connection, for cancels and watchers (see
 * cancel.h).
 */
#include "cancel.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "job.h"
#include "keys.h"
#include "log.h"
#include "rconn.h"
#include "worker.h"


/* KEYS: processing list, then the queues. ARGV: the id. Each queue is read
 * in chunks; a plain substring search picks candidates, and only those are
 * decoded (a request cjson cannot decode is skipped: the worker that takes
 * it finds the cancel key anyway). O(queued) per cancel. */
static const char PULL_SCRIPT[] =
    "for i = 2, #KEYS do\n"
    "  local start = 0\n"
    "  while true do\n"
    "    local items = redis.call('LRANGE', KEYS[i], start, start + " "999" ")\n"
    "    if #items == 0 then break end\n"
    "    for _, raw in ipairs(items) do\n"
    "      if string.find(raw, ARGV[1], 1, true) then\n"
    "        local ok, req = pcall(cjson.decode, raw)\n"
    "        if ok and type(req) == 'table' and req.id == ARGV[1] then\n"
    "          redis.call('LREM', KEYS[i], 1, raw)\n"
    "          redis.call('RPUSH', KEYS[1], raw)\n"
    "          return {i - 1, raw}\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    start = start + #items\n"
    "  end\n"
    "end\n"
    "return false\n";

static void on_pulled(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_STRING)
        return;
    long long i = r->element[0]->integer;
    if (i < 1 || (size_t)i > w->nqueues)
        return;
    log_info("a cancelled job was still queued in %s: ending it without running it",
             w->queue_names[i - 1]);
    /* no slot: a cancel never waits for one */
    job_arrive(w, r->element[1]->str, r->element[1]->len, w->queue_names[i - 1], 0);
}

static void pull_queued(struct worker *w, const char *id)
{
    const char *argv[3 + 1 + WORKER_MAX_QUEUES + 1];
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%zu", w->nqueues + 1);
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = PULL_SCRIPT;
    argv[argc++] = nkeys;
    argv[argc++] = w->processing_key;
    for (size_t i = 0; i < w->nqueues; i++)
        argv[argc++] = w->queue_keys[i];
    argv[argc++] = id;
    rconn_command_argv(w->cmd, on_pulled, w, argc, argv, NULL);
}

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *channel = r->element[1]->str, *id = r->element[2]->str;
    if (!request_id_valid(id))
        return;
    struct job *j = job_find(w, id);
    if (strcmp(channel, w->cancel_channel) == 0) {
        if (j)
            job_cancel(j);
        else if (!w->stopping)
            pull_queued(w, id);
    } else if (j) {
        job_watch(j);
    }
}

static void on_cancel_keys(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    /* the reply lists the ids asked for (the jobs may have ended since) */
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i + 1]->type != REDIS_REPLY_INTEGER ||
            r->element[i + 1]->integer != 1)
            continue;
        struct job *j = job_find(w, r->element[i]->str);
        if (j)
            job_cancel(j);
    }
}

/* KEYS: the cancel keys; ARGV: the ids. Returns {id, exists, ...}. */
static const char EXISTS_SCRIPT[] =
    "#!lua flags=no-writes\n"
    "local out = {}\n"
    "for i = 1, #KEYS do\n"
    "  out[#out + 1] = ARGV[i]\n"
    "  out[#out + 1] = redis.call('EXISTS', KEYS[i])\n"
    "end\n"
    "return out\n";

void cancel_check_running(struct worker *w)
{
    size_t n = 0;
    for (struct job *j = w->jobs; j; j = j->next)
        n += j->state == JOB_RUNNING;
    if (n == 0 || !rconn_up(w->cmd))
        return;
    const char **argv = calloc(3 + 2 * n, sizeof *argv);
    char (*keys)[KEYS_MAX] = calloc(n, sizeof *keys);
    char nkeys[24];
    if (argv && keys) {
        snprintf(nkeys, sizeof nkeys, "%zu", n);
        argv[0] = "EVAL";
        argv[1] = EXISTS_SCRIPT;
        argv[2] = nkeys;
        size_t k = 0;
        for (struct job *j = w->jobs; j && k < n; j = j->next) {
            if (j->state != JOB_RUNNING)
                continue;
            keys_cancel(keys[k], w->cfg.prefix, j->row.id);
            argv[3 + k] = keys[k];
            argv[3 + n + k] = j->row.id;
            k++;
        }
        rconn_command_argv(w->cmd, on_cancel_keys, w, (int)(3 + 2 * n), argv, NULL);
    }
    free(argv);
    free(keys);
}

void cancel_on_up(struct rconn *c, void *arg)
{
    struct worker *w = arg;
    rconn_command(c, on_message, w, "SUBSCRIBE %s %s", w->cancel_channel, w->watch_channel);
    cancel_check_running(w);
}
