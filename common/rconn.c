/*
 * rconn: a reconnecting hiredis async connection on libevent.
 */
#include "rconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "redis_event.h"
#include "redis_url.h"
#include "resp.h"

#define RCONN_BACKOFF_MIN_MS 100

struct rconn {
    struct event_base *base;
    const struct redis_url *url;
    const char *name;
    redisAsyncContext *ac;   /* NULL while down; owned by hiredis once attached */
    int connected;
    int backoff_ms;
    int in_outage;           /* an outage has been logged and not yet ended */
    struct event *retry;
    char why[128];           /* why we closed it ourselves, or "" */
    rconn_up_fn *on_up;
    void *arg;
};

static void rconn_connect(struct rconn *c);

static void schedule_retry(struct rconn *c, const char *why)
{
    if (!c->in_outage) {
        log_warn("redis unreachable (%s connection): %s; retrying every <= %d ms", c->name,
                 why, RCONN_BACKOFF_MAX_MS);
        c->in_outage = 1;
    }
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    evtimer_add(c->retry, &tv);
    c->backoff_ms *= 2;
    if (c->backoff_ms > RCONN_BACKOFF_MAX_MS)
        c->backoff_ms = RCONN_BACKOFF_MAX_MS;
}

/* The reply to the PING sent behind AUTH and SELECT: only now is the
 * connection usable (a wrong password fails the AUTH before it, and the
 * connection is then closed with that reason, see redis_url.c). */
static void on_ready(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct rconn *c = priv;
    redisReply *r = reply;
    if (!r || !c->ac)
        return; /* the disconnect callback says why and retries */
    if (r->type == REDIS_REPLY_ERROR) {
        /* LOADING (a restarted Redis reading its AOF), or a refusal:
         * close, and try again like after any failed connect */
        snprintf(c->why, sizeof c->why, "%s", r->str);
        redisAsyncDisconnect(c->ac);
        return;
    }
    c->connected = 1;
    c->backoff_ms = RCONN_BACKOFF_MIN_MS;
    if (c->in_outage)
        log_info("redis connection restored (%s connection)", c->name);
    c->in_outage = 0;
    if (c->on_up)
        c->on_up(c, c->arg);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;
    if (status != REDIS_OK) {
        c->ac = NULL; /* hiredis frees it after this callback */
        schedule_retry(c, ac->errstr);
        return;
    }
    redisAsyncCommand(c->ac, on_ready, c, "PING");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rconn *c = ac->data;
    if (!c) /* rconn_free is under way */
        return;
    c->ac = NULL;
    c->connected = 0;
    if (c->why[0]) { /* we closed it: the PING was refused */
        schedule_retry(c, c->why);
        c->why[0] = '\0';
    } else if (status != REDIS_OK) {
        schedule_retry(c, ac->errstr[0] ? ac->errstr : "connection lost");
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rconn_connect(arg);
}

static void rconn_connect(struct rconn *c)
{
    char err[128];
    redisAsyncContext *ac = redis_url_connect_async(c->url, err);
    if (!ac) {
        schedule_retry(c, err);
        return;
    }
    ac->data = c;
    if (redis_event_attach(ac, c->base) != REDIS_OK) {
        redisAsyncFree(ac);
        schedule_retry(c, "cannot attach to the event loop");
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
}

struct rconn *rconn_new(struct event_base *base, const struct redis_url *url, const char *name,
                        rconn_up_fn *on_up, void *arg)
{
    struct rconn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->url = url;
    c->name = name;
    c->on_up = on_up;
    c->arg = arg;
    c->backoff_ms = RCONN_BACKOFF_MIN_MS;
    c->retry = evtimer_new(base, on_retry, c);
    if (!c->retry) {
        free(c);
        return NULL;
    }
    rconn_connect(c);
    return c;
}

void rconn_free(struct rconn *c)
{
    if (!c)
        return;
    if (c->ac) {
        redisAsyncContext *ac = c->ac;
        c->ac = NULL;
        c->connected = 0;
        c->on_up = NULL;
        /* pending callbacks still run (with NULL replies) and may look at
         * the rconn, so it is freed after hiredis is done with it */
        redisAsyncFree(ac);
    }
    event_free(c->retry);
    free(c);
}

int rconn_up(const struct rconn *c) { return c->connected; }

int rconn_command(struct rconn *c, redisCallbackFn *fn, void *priv, const char *fmt, ...)
{
    if (!c->connected)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(c->ac, fn, priv, fmt, ap);
    va_end(ap);
    return rc == REDIS_OK ? 0 : -1;
}

int rconn_command_argv(struct rconn *c, redisCallbackFn *fn, void *priv, int argc,
                       const char **argv, const size_t *argvlen)
{
    if (!c->connected)
        return -1;
    char *cmd;
    long long len = resp_format_argv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return -1;
    int rc = redisAsyncFormattedCommand(c->ac, fn, priv, cmd, (size_t)len);
    free(cmd);
    return rc == REDIS_OK ? 0 : -1;
}

int rconn_command_formatted(struct rconn *c, redisCallbackFn *fn, void *priv, const char *cmd,
                            size_t len)
{
    if (!c->connected)
        return -1;
    return redisAsyncFormattedCommand(c->ac, fn, priv, cmd, len) == REDIS_OK ? 0 : -1;
}
