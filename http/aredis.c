/*
 * aredis: async Redis connections with a deferred free (aredis.h).
 */
#include "aredis.h"

#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/async.h>

#include "log.h"
#include "redis_event.h"
#include "redis_url.h"

struct aredis {
    struct event_base *base;
    redisAsyncContext *ac;  /* NULL once hiredis freed it */
    void (*lost)(void *);
    void *arg;
    int closing;
};

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct aredis *r = ac->data;
    (void)status;
    if (!r)
        return; /* aredis_close freed it */
    r->ac = NULL;
    if (!r->closing) {
        r->closing = 1;
        if (r->lost)
            r->lost(r->arg);
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK)
        on_disconnect(ac, status);
}

struct aredis *aredis_open(struct event_base *base, const struct redis_url *u,
                           void (*lost)(void *arg), void *arg)
{
    struct aredis *r = calloc(1, sizeof *r);
    char err[128];
    if (!r)
        return NULL;
    r->ac = redis_url_connect_async(u, err);
    if (!r->ac) {
        log_warn("cannot connect to Redis: %s", err);
        free(r);
        return NULL;
    }
    r->base = base;
    r->lost = lost;
    r->arg = arg;
    r->ac->data = r;
    redis_event_attach(r->ac, base);
    redisAsyncSetConnectCallback(r->ac, on_connect);
    redisAsyncSetDisconnectCallback(r->ac, on_disconnect);
    return r;
}

redisAsyncContext *aredis_ctx(struct aredis *r) { return r->ac; }

void *aredis_owner(const redisAsyncContext *ac)
{
    const struct aredis *r = ac->data;
    return r && !r->closing ? r->arg : NULL;
}

static void finish(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct aredis *r = arg;
    if (r->ac) {
        r->ac->data = NULL;
        redisAsyncFree(r->ac);
    }
    free(r);
}

void aredis_close(struct aredis *r)
{
    if (!r)
        return;
    r->closing = 1;
    r->lost = NULL;
    struct timeval now = {0, 0};
    if (event_base_once(r->base, -1, EV_TIMEOUT, finish, r, &now) < 0)
        finish(-1, 0, r);
}
