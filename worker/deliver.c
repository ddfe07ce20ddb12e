/*
 * deliver: the acknowledgement of a recorded job, on the cmd connection:
 * SET P:result:ID, PUBLISH the event, then remove the request from the
 * processing list (with its dead letter, in one MULTI, when it has one).
 * The row is committed before any of it, so a subscriber that reads either
 * on the event finds the final record. Every part is idempotent and the
 * whole is re-sent when any part may have failed: events are at-least-once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "job.h"
#include "log.h"
#include "rconn.h"
#include "record.h"

static int reply_ok(const redisReply *r)
{
    if (!r || r->type == REDIS_REPLY_ERROR)
        return 0;
    if (r->type == REDIS_REPLY_ARRAY) { /* EXEC: nil if aborted */
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_ERROR)
                return 0;
    }
    return r->type != REDIS_REPLY_NIL;
}

static void on_delivered(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct job *j = priv;
    redisReply *r = reply;
    j->deliver_inflight = 0;
    if (!reply_ok(r)) {
        /* NULL: the connection dropped; the reconnect re-delivers. An
         * error reply: Redis refused (OOM, read-only); retry shortly. */
        if (r)
            JLOG(LOG_WARN, j, "delivering the result failed: %s; retrying",
                 r->type == REDIS_REPLY_ERROR ? r->str : "transaction aborted");
        if (r && j->w->redeliver_timer) {
            struct timeval tv = {1, 0};
            evtimer_add(j->w->redeliver_timer, &tv);
        }
        return;
    }
    job_forget(j);
}

/* Formats SET key *result EX ttl for Redis, and frees *result: the
 * result can hold megabytes of output, and hiredis copies a command into
 * its output buffer, so only two copies live at once (not the result, a
 * formatted copy and hiredis's). Returns the command, or NULL (result
 * kept) when out of memory. */
static char *set_command(const char *key, char **result, int64_t ttl, size_t *len)
{
    size_t klen = strlen(key), rlen = strlen(*result);
    char ttl_s[24];
    int tlen = snprintf(ttl_s, sizeof ttl_s, "%lld", (long long)ttl);
    size_t cap = klen + rlen + 128;
    char *cmd = malloc(cap);
    if (!cmd)
        return NULL;
    size_t n = (size_t)snprintf(cmd, cap, "*5\r\n$3\r\nSET\r\n$%zu\r\n", klen);
    memcpy(cmd + n, key, klen);
    n += klen;
    n += (size_t)snprintf(cmd + n, cap - n, "\r\n$%zu\r\n", rlen);
    memcpy(cmd + n, *result, rlen);
    n += rlen;
    free(*result);
    *result = NULL;
    n += (size_t)snprintf(cmd + n, cap - n, "\r\n$2\r\nEX\r\n$%d\r\n%s\r\n", tlen, ttl_s);
    *len = n;
    return cmd;
}

/* Sends the acknowledgement pipeline on the cmd connection. Idempotent:
 * if any part fails it is all sent again (the event may then be seen
 * twice; events are at-least-once, like the jobs). */
void job_deliver(struct job *j)
{
    struct worker *w = j->w;
    if (j->deliver_inflight || !rconn_up(w->cmd))
        return; /* job_redeliver_all runs on reconnect */
    if (j->row.id[0]) {
        char *result = record_result_json(&j->row);
        char *event = record_event_json(&j->row);
        char key[WORKER_KEY_MAX];
        snprintf(key, sizeof key, "%s:result:%s", w->cfg.prefix, j->row.id);
        int bad = !result || !event;
        size_t setlen = 0;
        char *set = bad ? NULL : set_command(key, &result, w->cfg.result_ttl, &setlen);
        bad = bad || !set;
        if (!bad) {
            const char *pub[] = {"PUBLISH", w->events_key, event};
            size_t pub_len[] = {7, strlen(w->events_key), strlen(event)};
            rconn_command_formatted(w->cmd, NULL, NULL, set, setlen);
            rconn_command_argv(w->cmd, NULL, NULL, 3, pub, pub_len);
        }
        free(set);
        free(result);
        free(event);
        if (bad) {
            JLOG(LOG_ERROR, j, "out of memory building the result; retrying");
            struct timeval tv = {1, 0};
            evtimer_add(w->redeliver_timer, &tv);
            return;
        }
    }
    const char *lrem[] = {"LREM", w->processing_key, "1", j->raw};
    size_t lrem_len[] = {4, strlen(w->processing_key), 1, j->rawlen};
    j->deliver_inflight = 1;
    if (j->dead) {
        rconn_command(w->cmd, NULL, NULL, "MULTI");
        rconn_command(w->cmd, NULL, NULL, "LPUSH %s %s", w->dead_key, j->dead);
        rconn_command_argv(w->cmd, NULL, NULL, 4, lrem, lrem_len);
        if (rconn_command(w->cmd, on_delivered, j, "EXEC") < 0)
            j->deliver_inflight = 0;
    } else if (rconn_command_argv(w->cmd, on_delivered, j, 4, lrem, lrem_len) < 0) {
        j->deliver_inflight = 0;
    }
}

void job_redeliver_all(struct worker *w)
{
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next; /* job_deliver never frees synchronously, but be safe */
        if (j->state == JOB_DELIVERING)
            job_deliver(j);
    }
}

