/*
 * mcp_events: a reconnecting SUBSCRIBE on hiredis's libevent adapter (see
 * mcp_events.h). hiredis owns the async context: it is freed after the
 * disconnect callback, so this side only forgets its pointer there.
 */
#include "mcp_events.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "client.h"
#include "log.h"
#include "redis_url.h"

struct mcp_events {
    struct event_base *base;
    struct redis_url url;
    char *channel;
    struct mcp_events_callbacks cb;
    redisAsyncContext *ac; /* NULL while down */
    int subscribed;
    int said_down;         /* the outage was logged */
    struct event *retry;
};

static void start(struct mcp_events *ev);

static void down(struct mcp_events *ev, const char *why)
{
    ev->subscribed = 0;
    if (!ev->said_down)
        log_warn("mcp: cannot follow job events (%s); retrying every %d ms", why,
                 MCP_EVENTS_RETRY_MS);
    ev->said_down = 1;
    struct timeval tv = {MCP_EVENTS_RETRY_MS / 1000, (MCP_EVENTS_RETRY_MS % 1000) * 1000};
    evtimer_add(ev->retry, &tv);
}

static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct mcp_events *ev = priv;
    redisReply *reply = r;
    if (!reply || !ev || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const redisReply *kind = reply->element[0], *data = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING || data->type != REDIS_REPLY_STRING)
        return;
    if (!strcmp(kind->str, "subscribe")) {
        ev->subscribed = 1;
        if (ev->said_down)
            log_info("mcp: following job events again");
        ev->said_down = 0;
        if (ev->cb.on_subscribed)
            ev->cb.on_subscribed(ev->cb.arg);
        return;
    }
    char id[REQUEST_ID_MAX + 1];
    if (!strcmp(kind->str, "message") && client_event_id(data->str, data->len, id) == 0 &&
        ev->cb.on_event)
        ev->cb.on_event(ev->cb.arg, id, data->str, data->len);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct mcp_events *ev = ac->data;
    if (status != REDIS_OK) {
        ev->ac = NULL; /* hiredis frees it after this callback */
        down(ev, ac->errstr);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct mcp_events *ev = ac->data;
    if (!ev) /* mcp_events_free is under way */
        return;
    ev->ac = NULL;
    if (status != REDIS_OK)
        down(ev, ac->errstr[0] ? ac->errstr : "connection lost");
    else
        ev->subscribed = 0;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start(arg);
}

static void start(struct mcp_events *ev)
{
    char err[128];
    redisAsyncContext *ac = redis_url_connect_async(&ev->url, err);
    if (!ac) {
        down(ev, err);
        return;
    }
    ac->data = ev;
    if (redisLibeventAttach(ac, ev->base) != REDIS_OK) {
        redisAsyncFree(ac);
        down(ev, "cannot attach to the event loop");
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    ev->ac = ac;
    /* queued until connected, after the AUTH and SELECT of the URL */
    redisAsyncCommand(ac, on_message, ev, "SUBSCRIBE %s", ev->channel);
}

struct mcp_events *mcp_events_new(struct event_base *base, const struct redis_url *url,
                                  const char *channel, const struct mcp_events_callbacks *cb)
{
    struct mcp_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->base = base;
    ev->url = *url;
    ev->cb = *cb;
    ev->channel = strdup(channel);
    ev->retry = evtimer_new(base, on_retry, ev);
    if (!ev->channel || !ev->retry) {
        mcp_events_free(ev);
        return NULL;
    }
    start(ev);
    return ev;
}

int mcp_events_subscribed(const struct mcp_events *ev)
{
    return ev->subscribed;
}

void mcp_events_free(struct mcp_events *ev)
{
    if (!ev)
        return;
    if (ev->ac) {
        redisAsyncContext *ac = ev->ac;
        ac->data = NULL; /* the disconnect callback must not touch ev */
        ev->ac = NULL;
        redisAsyncFree(ac);
    }
    if (ev->retry)
        event_free(ev->retry);
    free(ev->channel);
    free(ev);
}
