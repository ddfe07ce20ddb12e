/*
 * mcp_events: a reconnecting SUBSCRIBE for the MCP tools' waits (see
 * mcp_events.h), on rconn (the reconnecting connection the worker and the
 * webhook relay use): each time the connection is up, SUBSCRIBE again.
 */
#include "mcp_events.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "log.h"
#include "rconn.h"
#include "redis_url.h"

struct mcp_events {
    struct redis_url url;  /* rconn keeps a pointer to it */
    char *channel;
    struct mcp_events_callbacks cb;
    struct rconn *conn;
    int subscribed;
};

static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct mcp_events *ev = priv;
    redisReply *reply = r;
    if (!reply) { /* the connection dropped: rconn reconnects, on_up subscribes */
        ev->subscribed = 0;
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const redisReply *kind = reply->element[0], *data = reply->element[2];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (!strcmp(kind->str, "subscribe")) {
        ev->subscribed = 1;
        if (ev->cb.on_subscribed)
            ev->cb.on_subscribed(ev->cb.arg);
        return;
    }
    char id[REQUEST_ID_MAX + 1];
    if (!strcmp(kind->str, "message") && data->type == REDIS_REPLY_STRING &&
        client_event_id(data->str, data->len, id) == 0 && ev->cb.on_event)
        ev->cb.on_event(ev->cb.arg, id, data->str, data->len);
}

static void on_up(struct rconn *c, void *arg)
{
    struct mcp_events *ev = arg;
    if (rconn_command(c, on_message, ev, "SUBSCRIBE %s", ev->channel) < 0)
        log_warn("mcp: cannot subscribe to %s", ev->channel);
}

struct mcp_events *mcp_events_new(struct event_base *base, const struct redis_url *url,
                                  const char *channel, const struct mcp_events_callbacks *cb)
{
    struct mcp_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->url = *url;
    ev->cb = *cb;
    ev->channel = strdup(channel);
    if (!ev->channel || !(ev->conn = rconn_new(base, &ev->url, "mcp events", on_up, ev))) {
        mcp_events_free(ev);
        return NULL;
    }
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
    rconn_free(ev->conn); /* pending callbacks run now, with ev still valid */
    free(ev->channel);
    free(ev);
}
