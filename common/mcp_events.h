/*
 * mcp_events: one subscription to the completion channel (P:events) on a
 * libevent loop, for a program that waits for many jobs at once without
 * blocking (arun-mcp, arun-http's /mcp). It reconnects by itself (rconn.h:
 * capped backoff), and says when it is subscribed again, because
 * events published while it was down are lost: whoever waits must then
 * read the results it may have missed.
 */
#ifndef ARUN_MCP_EVENTS_H
#define ARUN_MCP_EVENTS_H

#include <stddef.h>


struct event_base;
struct redis_url;
struct mcp_events;

struct mcp_events_callbacks {
    /* an event for job id arrived (msg: the event JSON, len bytes) */
    void (*on_event)(void *arg, const char *id, const char *msg, size_t len);
    /* the subscription is (again) in place: look for what was missed */
    void (*on_subscribed)(void *arg);
    void *arg;
};

/* Starts subscribing to channel (copied) over url (copied). Returns NULL
 * when out of memory or the loop refuses a timer. */
struct mcp_events *mcp_events_new(struct event_base *base, const struct redis_url *url,
                                  const char *channel, const struct mcp_events_callbacks *cb);

/* Returns 1 while subscribed, else 0. */
int mcp_events_subscribed(const struct mcp_events *ev);

/* Disconnects and frees; no callback runs afterwards. NULL is allowed. */
void mcp_events_free(struct mcp_events *ev);

#endif
