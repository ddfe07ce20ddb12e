/*
 * client_dead: the dead letters on P:dead (client.h). Workers LPUSH, so
 * the oldest is at the tail and letter number N is LINDEX -N: a number
 * keeps naming the same letter while newer ones arrive. Requeue and drop
 * check, in the same Lua step that acts, that the letter at N is still the
 * one that was read, so a letter dropped meanwhile by someone else never
 * makes them act on its neighbour.
 */
#include "client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dead.h"

/* KEYS[1] P:dead, KEYS[2] the queue ("" to drop), KEYS[3] the delivery
 * counter of the request's id (or P:dead again when it has none);
 * ARGV[1] -N, ARGV[2] the letter as read, ARGV[3] the request. LSET marks
 * the letter and LREM removes that mark, as a list has no "remove at". */
static const char ACT_LUA[] =
    "if redis.call('LINDEX', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end\n"
    "local mark = '\\0arun-dead-removed'\n"
    "redis.call('LSET', KEYS[1], ARGV[1], mark)\n"
    "redis.call('LREM', KEYS[1], -1, mark)\n"
    "if KEYS[2] ~= '' then\n"
    "  redis.call('RPUSH', KEYS[2], ARGV[3])\n"
    "  if KEYS[3] ~= KEYS[1] then redis.call('DEL', KEYS[3]) end\n"
    "end\n"
    "return 1\n";

static char *dup_or_empty(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s ? s : "", s ? n : 0);
        d[s ? n : 0] = '\0';
    }
    return d;
}

static void dead_clear(struct client_dead *d)
{
    free(d->raw);
    free(d->request);
    free(d->reason);
    d->raw = d->request = d->reason = NULL;
}

int client_dead_parse(const char *raw, size_t len, struct client_dead *out)
{
    long long number = out->number;
    memset(out, 0, sizeof *out);
    out->number = number;
    json_t *o = json_loadb(raw, len, 0, NULL);
    json_t *req = json_object_get(o, "request"), *why = json_object_get(o, "reason");
    int envelope = json_is_object(o) && json_is_string(req);
    out->raw = dup_or_empty(raw, len);
    out->request = envelope ? dup_or_empty(json_string_value(req), json_string_length(req))
                            : dup_or_empty(raw, len);
    out->reason = dup_or_empty(json_string_value(why), json_string_length(why));
    if (envelope) {
        const char *q = json_string_value(json_object_get(o, "queue"));
        const char *at = json_string_value(json_object_get(o, "at"));
        snprintf(out->queue, sizeof out->queue, "%s", q && request_queue_valid(q) ? q : "");
        snprintf(out->at, sizeof out->at, "%s", at ? at : "");
    }
    json_decref(o);
    if (!out->raw || !out->request || !out->reason) {
        dead_clear(out);
        return -1;
    }
    return 0;
}

void client_dead_free(struct client_dead *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        dead_clear(&d[i]);
    free(d);
}

int client_dead_list(struct client *cl, long long limit, struct client_dead **out, size_t *n_out)
{
    char key[KEYS_MAX], from[24];
    keys_dead(key, cl->prefix);
    snprintf(from, sizeof from, "%lld", limit > 0 ? -limit : 0LL);
    const char *argv[] = {"LRANGE", key, from, "-1"};
    redisReply *r = client_argv(cl, 4, argv, NULL);
    if (!r)
        return CLIENT_REDIS;
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    struct client_dead *d = calloc(n + 1, sizeof *d);
    if (!d) {
        freeReplyObject(r);
        return client_fail(cl, CLIENT_NOMEM, "out of memory");
    }
    /* r holds newest first; the last element is number 1 */
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[n - 1 - i];
        d[i].number = (long long)i + 1;
        if (e->type != REDIS_REPLY_STRING || client_dead_parse(e->str, e->len, &d[i]) < 0) {
            client_dead_free(d, i);
            freeReplyObject(r);
            return client_fail(cl, CLIENT_NOMEM, "out of memory");
        }
    }
    freeReplyObject(r);
    *out = d;
    *n_out = n;
    return CLIENT_OK;
}

/* The request bytes to push again: request_base64 decoded when present
 * (the request was not UTF-8), else the request text. */
static char *request_bytes(const char *raw, size_t len, size_t *out_len)
{
    json_t *o = json_loadb(raw, len, 0, NULL);
    const char *b64 = json_string_value(json_object_get(o, "request_base64"));
    json_t *req = json_object_get(o, "request");
    char *out = NULL;
    if (b64) {
        out = dead_unbase64(b64, out_len);
    } else if (json_is_string(req)) {
        out = dup_or_empty(json_string_value(req), json_string_length(req));
        *out_len = json_string_length(req);
    } else {
        out = dup_or_empty(raw, len); /* not an envelope: the entry is the request */
        *out_len = len;
    }
    json_decref(o);
    return out;
}

/* Requeues (requeue 1) or drops (0) letter number. */
static int act(struct client *cl, long long number, int requeue,
               char queue_out[REQUEST_QUEUE_MAX + 1])
{
    if (number < 1)
        return client_fail(cl, CLIENT_NOTFOUND, "no dead letter %lld", number);
    char key[KEYS_MAX], qkey[KEYS_MAX] = "", dkey[KEYS_MAX], idx[24];
    keys_dead(key, cl->prefix);
    snprintf(idx, sizeof idx, "%lld", -number);
    const char *argv[] = {"LINDEX", key, idx};
    redisReply *r = client_argv(cl, 3, argv, NULL);
    if (!r)
        return CLIENT_REDIS;
    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return client_fail(cl, CLIENT_NOTFOUND, "no dead letter %lld", number);
    }
    size_t reqlen = 0;
    char *req = request_bytes(r->str, r->len, &reqlen);
    struct client_dead d = {0};
    int rc = CLIENT_NOMEM;
    if (!req || client_dead_parse(r->str, r->len, &d) < 0)
        goto done;
    const char *queue = d.queue[0] ? d.queue : "default";
    char id[REQUEST_ID_MAX + 1];
    strcpy(dkey, key);
    if (requeue) {
        keys_queue(qkey, cl->prefix, queue);
        if (client_request_id(req, reqlen, id) == 0)
            keys_delivery(dkey, cl->prefix, id); /* an operator's requeue starts the count again */
    }
    const char *keys[] = {key, qkey, dkey};
    const char *args[] = {idx, r->str, req};
    size_t lens[] = {strlen(idx), r->len, reqlen};
    redisReply *a = client_eval(cl, ACT_LUA, 3, keys, 3, args, lens);
    if (!a) {
        rc = CLIENT_REDIS;
    } else if (a->type == REDIS_REPLY_INTEGER && a->integer == 1) {
        rc = CLIENT_OK;
        if (queue_out)
            snprintf(queue_out, REQUEST_QUEUE_MAX + 1, "%s", queue);
    } else {
        rc = client_fail(cl, CLIENT_NOTFOUND, "dead letter %lld changed meanwhile; list again",
                         number);
    }
    freeReplyObject(a);
done:
    if (rc == CLIENT_NOMEM)
        client_fail(cl, rc, "out of memory");
    dead_clear(&d);
    free(req);
    freeReplyObject(r);
    return rc;
}

int client_dead_requeue(struct client *cl, long long number, char queue_out[REQUEST_QUEUE_MAX + 1])
{
    return act(cl, number, 1, queue_out);
}

int client_dead_drop(struct client *cl, long long number) { return act(cl, number, 0, NULL); }
