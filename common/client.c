/*
 * client: the connection of the producer's Redis client (client.h), the
 * one place that runs its commands, and the small calls built on them:
 * ping, result, cancel. Requests, waiting, workers and queues, and dead
 * letters live in client_job.c, client_wait.c, client_info.c and
 * client_dead.c.
 */
#include "client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CLIENT_SCAN_COUNT "1000"

int client_fail(struct client *cl, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cl->err, sizeof cl->err, fmt, ap);
    va_end(ap);
    return rc;
}

static void show_url(struct client *cl)
{
    const struct redis_url *u = &cl->url;
    if (u->is_unix)
        snprintf(cl->shown, sizeof cl->shown, "unix://%s", u->path);
    else
        snprintf(cl->shown, sizeof cl->shown, "redis://%s%s:%d/%d", u->password[0] ? ":***@" : "",
                 u->host, u->port, u->db);
}

struct client *client_new(const struct client_options *o, char err[CLIENT_ERR_MAX])
{
    const char *url = o && o->redis_url ? o->redis_url : "redis://127.0.0.1:6379/0";
    const char *prefix = o && o->prefix ? o->prefix : "arun";
    if (!request_queue_valid(prefix)) {
        snprintf(err, CLIENT_ERR_MAX, "the prefix must be 1-64 of A-Za-z0-9._:-");
        return NULL;
    }
    struct client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        snprintf(err, CLIENT_ERR_MAX, "out of memory");
        return NULL;
    }
    char uerr[128];
    if (redis_url_parse(url, &cl->url, uerr) < 0) {
        snprintf(err, CLIENT_ERR_MAX, "%s", uerr);
        free(cl);
        return NULL;
    }
    snprintf(cl->prefix, sizeof cl->prefix, "%s", prefix);
    cl->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : CLIENT_TIMEOUT_DEFAULT_MS;
    cl->result_ttl_s = o && o->result_ttl_s > 0 ? o->result_ttl_s : CLIENT_RESULT_TTL_DEFAULT_S;
    if (o) {
        cl->notice = o->notice;
        cl->notice_arg = o->notice_arg;
    }
    show_url(cl);
    return cl;
}

void client_free(struct client *cl)
{
    if (!cl)
        return;
    if (cl->c)
        redisFree(cl->c);
    free(cl);
}

const char *client_errstr(const struct client *cl) { return cl->err; }
const char *client_prefix(const struct client *cl) { return cl->prefix; }
const char *client_url_shown(const struct client *cl) { return cl->shown; }

redisContext *client_connect(struct client *cl)
{
    struct timeval tv = {(time_t)(cl->timeout_ms / 1000), (suseconds_t)(cl->timeout_ms % 1000) * 1000};
    char err[128];
    redisContext *c = redis_url_connect(&cl->url, &tv, err);
    if (!c)
        client_fail(cl, CLIENT_REDIS, "cannot reach Redis at %s: %s", cl->shown, err);
    return c;
}

static void drop(struct client *cl)
{
    if (cl->c)
        redisFree(cl->c);
    cl->c = NULL;
}

redisReply *client_argv(struct client *cl, int argc, const char **argv, const size_t *lens)
{
    if (!cl->c && !(cl->c = client_connect(cl)))
        return NULL;
    redisReply *r = redisCommandArgv(cl->c, argc, argv, lens);
    if (!r) {
        client_fail(cl, CLIENT_REDIS, "Redis at %s: %s", cl->shown,
                    cl->c->errstr[0] ? cl->c->errstr : "connection lost");
        drop(cl);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        client_fail(cl, CLIENT_REDIS, "Redis at %s refused %s: %s", cl->shown, argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

redisReply *client_eval(struct client *cl, const char *script, int nkeys, const char **keys,
                        int nargs, const char **args, const size_t *arglens)
{
    int argc = 3 + nkeys + nargs;
    const char **argv = malloc(sizeof *argv * (size_t)argc);
    size_t *lens = malloc(sizeof *lens * (size_t)argc);
    char num[24];
    redisReply *r = NULL;
    if (!argv || !lens) {
        client_fail(cl, CLIENT_NOMEM, "out of memory");
        goto done;
    }
    snprintf(num, sizeof num, "%d", nkeys);
    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = num;
    for (int i = 0; i < nkeys; i++)
        argv[3 + i] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[3 + nkeys + i] = args[i];
    for (int i = 0; i < argc; i++)
        lens[i] = i >= 3 + nkeys && arglens ? arglens[i - 3 - nkeys] : strlen(argv[i]);
    r = client_argv(cl, argc, argv, lens);
done:
    free(argv);
    free(lens);
    return r;
}

void client_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static int has_name(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

int client_scan(struct client *cl, const char *kind, char ***names_out, size_t *n_out)
{
    char pattern[KEYS_MAX];
    /* the prefix is A-Za-z0-9._:- (client_new), so it holds no glob character */
    snprintf(pattern, sizeof pattern, "%s:%s:*", cl->prefix, kind);
    char cursor[32] = "0";
    char **names = NULL;
    size_t n = 0, cap = 0;
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", CLIENT_SCAN_COUNT};
        redisReply *r = client_argv(cl, 6, argv, NULL);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            if (r)
                client_fail(cl, CLIENT_REDIS, "Redis at %s: unexpected reply to SCAN", cl->shown);
            freeReplyObject(r);
            client_names_free(names, n);
            return CLIENT_REDIS;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];
            const char *name = k->type == REDIS_REPLY_STRING ? keys_suffix(k->str, cl->prefix, kind)
                                                             : NULL;
            /* SCAN may return a key twice; "P:queue:a:b" is queue "a:b" */
            if (!name || !*name || has_name(names, n, name))
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                char **nn = realloc(names, ncap * sizeof *nn);
                if (!nn)
                    goto oom;
                names = nn;
                cap = ncap;
            }
            if (!(names[n] = strdup(name)))
                goto oom;
            n++;
            continue;
        oom:
            freeReplyObject(r);
            client_names_free(names, n);
            return client_fail(cl, CLIENT_NOMEM, "out of memory");
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    *names_out = names;
    *n_out = n;
    return CLIENT_OK;
}

int client_ping(struct client *cl)
{
    const char *argv[] = {"PING"};
    redisReply *r = client_argv(cl, 1, argv, NULL);
    freeReplyObject(r);
    return r ? CLIENT_OK : CLIENT_REDIS;
}

int client_result(struct client *cl, const char *id, char **json, size_t *len)
{
    char key[KEYS_MAX];
    if (!request_id_valid(id) || keys_result(key, cl->prefix, id) < 0)
        return CLIENT_NOTFOUND; /* no job can have that id */
    const char *argv[] = {"GET", key};
    redisReply *r = client_argv(cl, 2, argv, NULL);
    if (!r)
        return CLIENT_REDIS;
    int rc = CLIENT_NOTFOUND;
    if (r->type == REDIS_REPLY_STRING) {
        *json = malloc(r->len + 1);
        if (!*json) {
            rc = client_fail(cl, CLIENT_NOMEM, "out of memory");
        } else {
            memcpy(*json, r->str, r->len);
            (*json)[r->len] = '\0';
            if (len)
                *len = r->len;
            rc = CLIENT_OK;
        }
    }
    freeReplyObject(r);
    return rc;
}

/* The key and the message in one step, so a worker that sees the message
 * finds the key, and one that starts later finds the key alone. */
static const char CANCEL_LUA[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "redis.call('PUBLISH', ARGV[3], ARGV[4])\n"
    "return 1\n";

int client_cancel(struct client *cl, const char *id)
{
    char key[KEYS_MAX], channel[KEYS_MAX];
    if (!request_id_valid(id))
        return client_fail(cl, CLIENT_INVALID, "a job id is 1-64 of A-Za-z0-9._:-");
    if (keys_cancel(key, cl->prefix, id) < 0 || keys_cancel_channel(channel, cl->prefix) < 0)
        return client_fail(cl, CLIENT_INVALID, "the key of %s is too long", id);
    struct timeval now;
    gettimeofday(&now, NULL);
    char ms[24], ttl[24];
    snprintf(ms, sizeof ms, "%lld", (long long)now.tv_sec * 1000 + now.tv_usec / 1000);
    snprintf(ttl, sizeof ttl, "%lld", (long long)cl->result_ttl_s);
    const char *keys[] = {key};
    const char *args[] = {ms, ttl, channel, id};
    redisReply *r = client_eval(cl, CANCEL_LUA, 1, keys, 4, args, NULL);
    freeReplyObject(r);
    return r ? CLIENT_OK : CLIENT_REDIS;
}
