/*
 * app: the state every route of arun-http shares: settings, the Redis
 * client (blocking, short timeout: see common/client.h on event loops), the
 * history reader, the whitelist, and the stream hubs. One per process,
 * made in main.c; handlers get it as their route argument.
 */
#ifndef ARUN_HTTP_APP_H
#define ARUN_HTTP_APP_H

#include <stdint.h>

#include "redis_url.h"
#include "whitelist.h"

struct event_base;
struct client;
struct history;
struct http_server;
struct sse_hub;
struct events_feed;
struct mcp_route;

struct http_settings {
    const char *listen;
    const char *token;
    const char *redis_url;
    const char *prefix;
    const char *db;
    const char *scripts_dir;
    const char *log_level;
    int64_t result_ttl;
    int64_t max_connections;
    int64_t max_streams;
    int64_t timeout_ms;       /* a connection's read/write timeout */
    int64_t keepalive_ms;     /* SSE comment interval */
    int64_t redis_timeout_ms; /* bound of one blocking Redis call */
    const char *history_group; /* the follower's consumer group; "off": none */
};

struct app {
    struct event_base *base;
    struct http_settings cfg;
    struct redis_url rurl;
    struct client *client;
    struct history *history;   /* NULL until the database can be opened */
    struct whitelist wl;
    struct http_server *server;
    struct sse_hub *sse;
    struct events_feed *events;
    struct mcp_route *mcp;     /* /mcp (mcp_route.h) */
    struct store *follow_store; /* the follower's read-write handle on ARUN_DB */
    struct follow *follow;     /* every host's jobs into ARUN_DB (follow.h) */
};

/* The history reader, opened on first use (the database may not exist
 * when arun-http starts). Returns NULL when it cannot be opened; the
 * reason is logged once per outage. */
struct history *app_history(struct app *a);

/* Drops the history handle after an error, so the next call reopens it. */
void app_history_reset(struct app *a);

/* Registers every route of the API, the page, /healthz and /metrics.
 * Returns 0 or -1. */
int app_routes(struct app *a);

#endif
