/*
 * client_info: what an operator looks at (client.h): the live workers, from
 * their heartbeat JSON and processing lists, and the queues with their
 * lengths. A worker is live while its heartbeat key exists; one that is
 * registered in P:workers without it is dead (its peers recover its jobs).
 */
#include "client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void copy_string(json_t *o, const char *key, char *out, size_t outsz)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(out, outsz, "%s", s ? s : "");
}

static long long get_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

int client_worker_parse(const char *json, size_t len, struct client_worker *out)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!json_is_string(json_object_get(o, "id"))) {
        json_decref(o);
        return -1;
    }
    copy_string(o, "id", out->id, sizeof out->id);
    copy_string(o, "queues", out->queues, sizeof out->queues);
    copy_string(o, "at", out->at, sizeof out->at);
    out->pid = get_int(o, "pid");
    out->concurrency = get_int(o, "concurrency");
    out->running = get_int(o, "running");
    json_decref(o);
    return 0;
}

int client_worker_takes(const struct client_worker *w, const char *queue)
{
    size_t n = strlen(queue);
    for (const char *p = w->queues; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, queue, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void client_workers_free(struct client_worker *w, size_t n)
{
    for (size_t i = 0; w && i < n; i++)
        client_names_free(w[i].jobs, w[i].njobs);
    free(w);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct client_worker *)a)->id, ((const struct client_worker *)b)->id);
}

/* Fills w->jobs from a LRANGE reply of its processing list. */
static int held_jobs(struct client_worker *w, const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return 0;
    if (!(w->jobs = calloc(r->elements, sizeof *w->jobs)))
        return -1;
    for (size_t i = 0; i < r->elements; i++) {
        char id[REQUEST_ID_MAX + 1] = "?";
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && client_request_id(e->str, e->len, id) < 0)
            strcpy(id, "?");
        if (!(w->jobs[i] = strdup(id)))
            return -1;
        w->njobs = i + 1;
    }
    return 0;
}

/* Reads the heartbeats of registered workers (MGET) and, for the live
 * ones, their processing lists (pipelined LRANGE). */
int client_workers(struct client *cl, struct client_worker **out, size_t *n_out)
{
    char key[KEYS_MAX];
    keys_workers(key, cl->prefix);
    const char *argv[] = {"SMEMBERS", key};
    redisReply *m = client_argv(cl, 2, argv, NULL), *hb = NULL;
    struct client_worker *w = NULL;
    const char **mget = NULL;
    char (*keys)[KEYS_MAX] = NULL;
    size_t n = 0, nm = m && m->type == REDIS_REPLY_ARRAY ? m->elements : 0;
    int rc = CLIENT_REDIS;
    if (!m)
        goto done;
    rc = CLIENT_NOMEM;
    w = calloc(nm + 1, sizeof *w);
    mget = calloc(nm + 1, sizeof *mget);
    keys = calloc(nm + 1, sizeof *keys);
    if (!w || !mget || !keys)
        goto fail;
    mget[0] = "MGET";
    for (size_t i = 0; i < nm; i++) {
        keys_heartbeat(keys[i], cl->prefix, m->element[i]->str);
        mget[i + 1] = keys[i];
    }
    if (nm) {
        rc = CLIENT_REDIS;
        if (!(hb = client_argv(cl, (int)nm + 1, mget, NULL)) || hb->type != REDIS_REPLY_ARRAY ||
            hb->elements != nm)
            goto fail;
    }
    for (size_t i = 0; i < nm; i++) {
        const redisReply *h = hb->element[i];
        if (h->type != REDIS_REPLY_STRING)
            continue; /* registered, but its heartbeat is gone: dead */
        if (client_worker_parse(h->str, h->len, &w[n]) < 0) {
            memset(&w[n], 0, sizeof w[n]);
            snprintf(w[n].id, sizeof w[n].id, "%s", m->element[i]->str);
        }
        /* the set member names the worker: trust it over the JSON */
        snprintf(w[n].id, sizeof w[n].id, "%s", m->element[i]->str);
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        keys_processing(keys[i], cl->prefix, w[i].id);
        const char *lr[] = {"LRANGE", keys[i], "0", "-1"};
        if (!cl->c || redisAppendCommandArgv(cl->c, 4, lr, NULL) != REDIS_OK)
            goto lost;
    }
    rc = CLIENT_NOMEM;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(cl->c, (void **)&r) != REDIS_OK)
            goto lost;
        int bad = held_jobs(&w[i], r);
        freeReplyObject(r);
        if (bad)
            goto fail;
    }
    qsort(w, n, sizeof *w, by_id);
    *out = w;
    *n_out = n;
    w = NULL;
    rc = CLIENT_OK;
    goto done;
lost:
    rc = client_fail(cl, CLIENT_REDIS, "Redis at %s: %s", cl->shown,
                     cl->c && cl->c->errstr[0] ? cl->c->errstr : "connection lost");
    if (cl->c)
        redisFree(cl->c);
    cl->c = NULL;
fail:
    if (rc == CLIENT_NOMEM)
        client_fail(cl, rc, "out of memory");
    client_workers_free(w, n);
    w = NULL;
done:
    client_workers_free(w, n);
    freeReplyObject(m);
    freeReplyObject(hb);
    free(mget);
    free(keys);
    return rc;
}

int client_queue_takers(struct client *cl, const char *queue)
{
    struct client_worker *w;
    size_t n;
    if (client_workers(cl, &w, &n) != CLIENT_OK)
        return CLIENT_REDIS;
    int takers = 0;
    for (size_t i = 0; i < n; i++)
        takers += client_worker_takes(&w[i], queue);
    client_workers_free(w, n);
    return takers;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct client_queue *)a)->name, ((const struct client_queue *)b)->name);
}

/* Adds name to q[0..*n) unless there; returns its index, or -1 if full. */
static long add_queue(struct client_queue *q, size_t *n, size_t cap, const char *name, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen(q[i].name) == len && memcmp(q[i].name, name, len) == 0)
            return (long)i;
    if (*n == cap || len > REQUEST_QUEUE_MAX)
        return -1;
    memcpy(q[*n].name, name, len);
    q[*n].name[len] = '\0';
    return (long)(*n)++;
}

int client_queues(struct client *cl, struct client_queue **out, size_t *n_out)
{
    char **names = NULL;
    size_t nn = 0, nw = 0, n = 0, cap;
    struct client_worker *w = NULL;
    struct client_queue *q = NULL;
    int rc = client_scan(cl, "queue", &names, &nn);
    if (rc != CLIENT_OK || (rc = client_workers(cl, &w, &nw)) != CLIENT_OK)
        goto done;
    cap = nn;
    for (size_t i = 0; i < nw; i++)
        cap += strlen(w[i].queues) / 2 + 1; /* at most this many names */
    if (!(q = calloc(cap + 1, sizeof *q))) {
        rc = client_fail(cl, CLIENT_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nn; i++)
        add_queue(q, &n, cap, names[i], strlen(names[i]));
    for (size_t i = 0; i < nw; i++)
        for (const char *p = w[i].queues; *p;) {
            size_t len = strcspn(p, ",");
            long at = len ? add_queue(q, &n, cap, p, len) : -1;
            if (at >= 0)
                q[at].takers++;
            p += len + (p[len] == ',');
        }
    for (size_t i = 0; i < n; i++) {
        char key[KEYS_MAX];
        keys_queue(key, cl->prefix, q[i].name);
        const char *argv[] = {"LLEN", key};
        redisReply *r = client_argv(cl, 2, argv, NULL);
        if (!r) {
            rc = CLIENT_REDIS;
            goto done;
        }
        q[i].length = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
    }
    qsort(q, n, sizeof *q, by_name);
    *out = q;
    *n_out = n;
    q = NULL;
done:
    free(q);
    client_workers_free(w, nw);
    client_names_free(names, nn);
    return rc;
}
