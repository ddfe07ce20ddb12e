/*
 * fire: claiming and enqueuing fire times in Redis (fire.h).
 */
#include "fire.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "keys.h"
#include "log.h"
#include "request.h"

#define FIRE_TIMEOUT_S 3

/* KEYS: claim marker, queue, last-fire hash. ARGV: request, ttl, name, t. */
static const char claim_script[] =
    "local last = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '-1')\n"
    "if tonumber(ARGV[4]) <= last then return 0 end\n"
    "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end\n"
    "redis.call('RPUSH', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])\n"
    "return 1\n";

int fire_job_id(const char *name, int64_t t, char out[FIRE_ID_MAX + 1])
{
    time_t tt = (time_t)t;
    struct tm tm;
    char stamp[32];
    if (!gmtime_r(&tt, &tm) || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
        return -1;
    int n = snprintf(out, FIRE_ID_MAX + 1, "cron:%s:%s", name, stamp);
    return n > 0 && n <= FIRE_ID_MAX && request_id_valid(out) ? 0 : -1;
}

static redisContext *conn(struct fire_conn *fc)
{
    if (fc->c)
        return fc->c;
    struct timeval tv = {FIRE_TIMEOUT_S, 0};
    char err[128];
    fc->c = redis_url_connect(fc->url, &tv, err);
    if (!fc->c) {
        if (!fc->down_logged)
            log_warn("redis unreachable: %s; retrying", err);
        fc->down_logged = 1;
        return NULL;
    }
    if (fc->down_logged)
        log_info("redis connection restored");
    fc->down_logged = 0;
    return fc->c;
}

/* Logs a failed command and drops the connection. Returns -1. */
static int failed(struct fire_conn *fc, redisReply *r, const char *what)
{
    log_warn("%s failed: %s", what,
             r && r->type == REDIS_REPLY_ERROR ? r->str : fc->c->errstr[0] ? fc->c->errstr
                                                                         : "no reply");
    freeReplyObject(r);
    fire_close(fc);
    return -1;
}

int fire_enqueue(struct fire_conn *fc, const struct schedule_entry *e, int64_t t)
{
    char id[FIRE_ID_MAX + 1], marker[KEYS_MAX], queue[KEYS_MAX], last[KEYS_MAX];
    if (fire_job_id(e->name, t, id) < 0 || keys_cron_fired(marker, fc->prefix, id) < 0 ||
        keys_queue(queue, fc->prefix, "default") < 0 || keys_cron_last(last, fc->prefix) < 0) {
        log_error("entry %s: cannot build its job id or keys", e->name);
        return -1;
    }
    char *req = request_build(id, e->script, e->args, e->nargs, e->timeout_ms,
                              "scheduled", "default");
    if (!req) {
        log_error("entry %s: cannot build the request (arguments not UTF-8?)", e->name);
        return -1;
    }
    redisContext *c = conn(fc);
    if (!c) {
        free(req);
        return -1;
    }
    char ttl[24], ts[24];
    snprintf(ttl, sizeof ttl, "%d", FIRE_CLAIM_TTL_S);
    snprintf(ts, sizeof ts, "%" PRId64, t);
    const char *argv[] = {"EVAL", claim_script, "3", marker, queue, last, req, ttl, e->name, ts};
    redisReply *r = redisCommandArgv(c, 10, argv, NULL);
    free(req);
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return failed(fc, r, "enqueueing a fire");
    int won = r->integer == 1;
    freeReplyObject(r);
    log_job(won ? LOG_INFO : LOG_DEBUG, id, e->script,
            won ? "entry %s fired: enqueued" : "entry %s: fire already enqueued", e->name);
    return won;
}

int fire_last(struct fire_conn *fc, const char *name, int64_t *t)
{
    char last[KEYS_MAX];
    redisContext *c = conn(fc);
    if (!c || keys_cron_last(last, fc->prefix) < 0)
        return -1;
    redisReply *r = redisCommand(c, "HGET %s %s", last, name);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL))
        return failed(fc, r, "reading the last fire time");
    int found = r->type == REDIS_REPLY_STRING;
    if (found)
        *t = strtoll(r->str, NULL, 10);
    freeReplyObject(r);
    return found;
}

void fire_close(struct fire_conn *fc)
{
    if (fc->c)
        redisFree(fc->c);
    fc->c = NULL;
}
