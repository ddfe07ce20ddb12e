/*
 * peers: what workers do for each other through Redis. Each worker keeps a
 * heartbeat key (P:worker:ID, with an expiry) and its id in the set
 * P:workers. At start and on every heartbeat tick it looks for workers
 * whose heartbeat is gone and puts their in-flight requests back at the
 * head of their queues, counting one more delivery in each ("attempt"),
 * so that a request that kills every worker that runs it ends "failed"
 * after WORKER_MAX_ATTEMPTS instead of looping. At shutdown a worker
 * requeues its own leftovers the same way, without counting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cancel.h"
#include "contain.h"
#include "job.h"
#include "keys.h"
#include "log.h"
#include "rconn.h"
#include "warm.h"
#include "timefmt.h"
#include "worker.h"

/* KEYS: the peer's heartbeat, its processing list, the workers set.
 * ARGV: the peer's id, the queue key prefix ("P:queue:"), the fallback
 * queue, count a delivery (1/0), force (1: the caller is that worker,
 * leaving), the delivery-count key prefix. The request's own "queue"
 * field, which arun-submit sets, says where it goes back; a request
 * without one (or that cjson cannot read) goes to the caller's first
 * queue. Deliveries are counted beside the request, in
 * P:delivery:SHA1(request) (claim.c reads it), never inside it. */
static const char RECOVER_SCRIPT[] =
    "if ARGV[5] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end\n"
    "local n = 0\n"
    "while true do\n"
    "  local raw = redis.call('RPOP', KEYS[2])\n"
    "  if not raw then break end\n"
    "  local q = ARGV[3]\n"
    "  local ok, req = pcall(cjson.decode, raw)\n"
    "  if ok and type(req) == 'table' and type(req.queue) == 'string' and\n"
    "     #req.queue <= 64 and string.find(req.queue, '^[%w%._:%-]+$') then q = req.queue end\n"
    "  if ARGV[4] == '1' then\n"
    "    local k = ARGV[6] .. redis.sha1hex(raw)\n"
    "    redis.call('INCR', k)\n"
    "    redis.call('EXPIRE', k, 604800)\n"
    "  end\n"
    "  redis.call('LPUSH', ARGV[2] .. q, raw)\n"
    "  n = n + 1\n"
    "end\n"
    "redis.call('SREM', KEYS[3], ARGV[1])\n"
    "if ARGV[5] == '1' then redis.call('DEL', KEYS[1]) end\n"
    "return n\n";

static void send_recover(struct worker *w, const char *peer, int force, redisCallbackFn *fn,
                         void *priv)
{
    char hb[KEYS_MAX], list[KEYS_MAX], queue_prefix[KEYS_MAX];
    keys_heartbeat(hb, w->cfg.prefix, peer);
    keys_processing(list, w->cfg.prefix, peer);
    keys_queue(queue_prefix, w->cfg.prefix, "");
    const char *argv[] = {"EVAL", RECOVER_SCRIPT, "3", hb, list, w->workers_key, peer,
                          queue_prefix, w->queue_names[0], force ? "0" : "1", force ? "1" : "0",
                          w->delivery_prefix};
    if (rconn_command_argv(w->cmd, fn, priv, 12, argv, NULL) < 0 && fn)
        fn(NULL, NULL, priv);
}

static void on_recovered(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    char *peer = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
        log_warn("worker %s is gone: put %lld of its requests back on their queues", peer,
                 r->integer);
    else if (r && r->type == REDIS_REPLY_ERROR)
        log_error("recovering worker %s: %s", peer, r->str);
    free(peer);
}

static void on_members(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || strcmp(e->str, w->id) == 0)
            continue;
        char *peer = strdup(e->str);
        if (peer)
            send_recover(w, peer, 0, on_recovered, peer);
    }
}

static void on_scan(redisAsyncContext *ac, void *reply, void *priv);

static void scan_processing(struct worker *w, const char *cursor)
{
    char pattern[KEYS_MAX];
    keys_processing(pattern, w->cfg.prefix, "*");
    rconn_command(w->cmd, on_scan, w, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
}

/* Registers in P:workers the owners of processing lists found by SCAN
 * (workers that never registered, or were removed), on each connect; the
 * heartbeat tick then checks them like any peer. */
static void on_scan(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return;
    redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING)
            continue;
        const char *peer = keys_suffix(keys->element[i]->str, w->cfg.prefix, "processing");
        if (!peer || !*peer || strcmp(peer, w->id) == 0)
            continue;
        rconn_command(w->cmd, NULL, NULL, "SADD %s %s", w->workers_key, peer);
    }
    const char *cursor = r->element[0]->str;
    if (r->element[0]->type == REDIS_REPLY_STRING && strcmp(cursor, "0") != 0) {
        scan_processing(w, cursor);
    } else if (!w->started_recovery) {
        /* at process start, look at peers at once; after a reconnect the
         * heartbeat tick waits a TTL first (see heartbeat()) */
        w->started_recovery = 1;
        rconn_command(w->cmd, on_members, w, "SMEMBERS %s", w->workers_key);
    }
}

/* The reply to LRANGE of our processing list after our heartbeat was
 * found gone: peers may have taken over our requests. What we hold in
 * memory and is no longer listed is no longer ours: kill its run, record
 * and announce nothing (the worker that took it over owns it). */
static void on_lease_list(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    int dropped = 0;
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next;
        /* DELIVERING is fenced by its acknowledgement script, which
         * announces nothing for it */
        if (j->state == JOB_DELIVERING)
            continue;
        /* NAMING may find either form of its element */
        int listed = 0;
        for (size_t i = 0; i < r->elements && !listed; i++) {
            const redisReply *e = r->element[i];
            listed = e->type == REDIS_REPLY_STRING &&
                     ((e->len == j->rawlen && memcmp(e->str, j->raw, j->rawlen) == 0) ||
                      (j->renamed && e->len == strlen(j->renamed) &&
                       memcmp(e->str, j->renamed, e->len) == 0));
        }
        if (!listed) {
            JLOG(LOG_WARN, j, "this worker was declared dead and the job was taken over: "
                 "stopping its run here, recording nothing");
            if (j->state == JOB_CLAIMING || j->state == JOB_NAMING)
                j->lease_lost = 1; /* its reply is awaited: dropped on arrival */
            else
                job_drop(j);
            dropped++;
        }
    }
    if (dropped)
        log_warn("lease lost: dropped %d jobs that peers took over", dropped);
}

/* One heartbeat in flight: the lease it renews runs from when it was sent. */
struct beat {
    struct worker *w;
    int64_t sent_ms;
};

static void on_heartbeat_set(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct beat b = *(struct beat *)priv;
    free(priv);
    struct worker *w = b.w;
    w->beats_inflight--;
    redisReply *r = reply;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        if (r)
            log_error("writing the heartbeat: %s", r->str);
        return;
    }
    if (r->type == REDIS_REPLY_NIL && w->heartbeat_ok) {
        /* our key was gone: expired while we were paused or cut off, or
         * deleted; peers may have recovered our requests */
        log_warn("this worker's heartbeat had expired: checking which requests it still holds");
        rconn_command(w->cmd, on_lease_list, w, "LRANGE %s 0 -1", w->processing_key);
    }
    if (b.sent_ms + w->cfg.heartbeat_ttl_ms > w->lease_until_ms)
        w->lease_until_ms = b.sent_ms + w->cfg.heartbeat_ttl_ms;
    if (!w->heartbeat_ok) {
        w->heartbeat_ok = 1;
        log_info("worker %s taking from %s (concurrency %lld)", w->id, w->cfg.queues,
                 (long long)w->cfg.concurrency);
    }
    take_next(w);
}

static void heartbeat(struct worker *w)
{
    if (!rconn_up(w->cmd) || w->finishing)
        return;
    char started[TIMEFMT_ISO_LEN];
    timefmt_now_iso(started);
    json_t *info = json_pack("{s:s, s:i, s:s, s:I, s:i, s:s}", "id", w->id, "pid", (int)getpid(),
                             "queues", w->cfg.queues, "concurrency",
                             (json_int_t)w->cfg.concurrency, "running", w->running, "at", started);
    char *text = info ? json_dumps(info, JSON_COMPACT) : NULL;
    json_decref(info);
    rconn_command(w->cmd, NULL, NULL, "SADD %s %s", w->workers_key, w->id);
    struct beat *b = malloc(sizeof *b);
    if (b) {
        b->w = w;
        b->sent_ms = timefmt_mono_ms();
        if (rconn_command(w->cmd, on_heartbeat_set, b, "SET %s %s PX %lld GET", w->heartbeat_key,
                          text ? text : "{}", (long long)w->cfg.heartbeat_ttl_ms) < 0)
            free(b);
        else
            w->beats_inflight++;
    }
    free(text);
    /* after an outage, peers get one heartbeat period plus their longest
     * reconnect delay to come back before their requests are taken */
    if (!w->stopping &&
        timefmt_mono_ms() - w->cmd_up_since >= w->cfg.heartbeat_ttl_ms + RCONN_BACKOFF_MAX_MS)
        rconn_command(w->cmd, on_members, w, "SMEMBERS %s", w->workers_key);
}

int peers_lease_valid(struct worker *w)
{
    if (timefmt_mono_ms() < w->lease_until_ms)
        return 1;
    if (!w->beats_inflight)
        heartbeat(w); /* renew (or learn that it was lost) now */
    return 0;
}

static void on_heartbeat_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    heartbeat(w);
    take_next(w); /* also restarts taking after an error reply */
    cancel_check_running(w); /* a cancel missed while unsubscribed */
    contain_sweep(w);        /* what escaped a job and outlived its parent */
    warm_check(w);           /* the warm interpreter: dead, hung, grown? */
}

/* Warns once when Redis may lose queued requests. */
static void on_config(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || w->redis_checked)
        return; /* CONFIG may be disabled: nothing to say then */
    w->redis_checked = 1;
    const char *policy = NULL, *aof = NULL, *save = NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (!k || !v)
            continue;
        if (strcmp(k, "maxmemory-policy") == 0)
            policy = v;
        else if (strcmp(k, "appendonly") == 0)
            aof = v;
        else if (strcmp(k, "save") == 0)
            save = v;
    }
    if (policy && strcmp(policy, "noeviction") != 0)
        log_warn("redis maxmemory-policy is %s, not noeviction: Redis may evict queued jobs", policy);
    if (aof && strcmp(aof, "no") == 0 && save && !*save)
        log_warn("redis persistence is off (appendonly no, no save points): a Redis restart "
                 "loses every queued job; use appendonly yes");
}

void peers_on_up(struct rconn *c, void *arg)
{
    (void)c;
    struct worker *w = arg;
    w->cmd_up_since = timefmt_mono_ms();
    if (!w->redis_checked)
        rconn_command(w->cmd, on_config, w, "CONFIG GET maxmemory-policy appendonly save");
    heartbeat(w);
    if (!w->stopping)
        scan_processing(w, "0");
    deliver_retry_all(w);
}

void peers_start(struct worker *w)
{
    int64_t every = w->cfg.heartbeat_ttl_ms / 3;
    struct timeval tv = {(time_t)(every / 1000), (suseconds_t)(every % 1000) * 1000};
    w->heartbeat_timer = event_new(w->base, -1, EV_PERSIST, on_heartbeat_tick, w);
    event_add(w->heartbeat_timer, &tv);
}

static void on_requeued_own(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct worker *w = priv;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_INTEGER) {
        if (r->integer > 0)
            log_info("put %lld unfinished requests back on their queues", r->integer);
    } else {
        log_warn("could not requeue this worker's unfinished requests (%s); peers recover "
                 "them once its heartbeat expires", r && r->str ? r->str : "redis unreachable");
    }
    event_base_loopexit(w->base, NULL);
}

void peers_requeue_own(struct worker *w)
{
    w->finishing = 1;
    send_recover(w, w->id, 1, on_requeued_own, w);
}
