/*
 * webhook: the state arun-webhook shares between its files.
 *
 *   webhook.c    options, start-up, signals, the --deliveries command
 *   endpoints.c  endpoints from the environment and the --config file
 *   relay.c      the consumer group: reading, claiming, keeping claims, XACK
 *   deliver.c    per-endpoint queues, attempts, retries, dead letters, log
 *   http.c       libcurl's multi interface on the libevent loop
 *
 * An event (a stream entry) is held in memory from the moment it is read
 * until every endpoint it goes to has had it delivered, disabled (410) or
 * dead-lettered; only then is it acknowledged (XACK). While it is held, the
 * relay keeps it claimed (XCLAIM resets its idle time), so other relays
 * only take over the entries of a relay that stopped.
 */
#ifndef ARUN_WEBHOOK_H
#define ARUN_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "keys.h"
#include "redis_url.h"
#include "request.h"
#include "whsig.h"

#define WH_SID_MAX 48          /* a stream id "ms-seq" */
#define WH_ERR_MAX 256
#define WH_MAX_ENDPOINTS 256
#define WH_MAX_SECRETS 16

struct event_base;
struct rconn;
struct wh_http;
struct wh_delivery;

struct wh_endpoint {
    char *url;
    struct whsig_key keys[WH_MAX_SECRETS];
    size_t nkeys;
    char **scripts;   /* filter; nscripts 0: every script */
    size_t nscripts;
    char **statuses;  /* filter; nstatuses 0: every status */
    size_t nstatuses;
    int concurrency;  /* transfers at once */
    int allow_private;
    /* runtime */
    int active;       /* transfers in flight */
    int disabled;     /* answered 410 */
    struct wh_delivery *ready_head, *ready_tail; /* waiting for a slot, FIFO */
};

struct wh_entry {
    char sid[WH_SID_MAX];
    char *event;              /* the event JSON as read, owned */
    size_t event_len;
    char job_id[REQUEST_ID_MAX + 1]; /* webhook-id */
    int64_t completed_ms;     /* when the event's job completed (max age counts from it) */
    int pending;              /* deliveries not finished */
    struct wh_entry *prev, *next;
};

struct wh_settings {
    const char *redis_url;
    const char *prefix;
    const char *urls;
    const char *secret;
    const char *config;
    const char *consumer;
    const char *log_level;
    int64_t timeout_ms;
    int64_t max_age_ms;
    int64_t retry_first_ms;
    int64_t retry_max_ms;
    int64_t claim_idle_ms;
    int64_t concurrency;
    int64_t max_inflight;
    int64_t limit;
    int allow_private;
    int deliveries;
};

struct webhook {
    struct wh_settings cfg;
    struct redis_url url;
    char consumer[128];
    char stream_key[KEYS_MAX], dead_key[KEYS_MAX], log_key[KEYS_MAX];
    struct wh_endpoint *endpoints;
    size_t nendpoints;
    struct event_base *base;
    struct rconn *read;       /* XREADGROUP, which blocks */
    struct rconn *cmd;        /* everything else */
    struct wh_http *http;
    struct wh_entry *entries; /* in flight */
    struct wh_delivery *deliveries; /* every unfinished delivery */
    size_t nentries;
    int reading;              /* an XREADGROUP is outstanding */
    int read_pending_first;   /* 1: re-reading this consumer's own pending entries */
    char pending_from[WH_SID_MAX];
    int claiming;             /* an XAUTOCLAIM is outstanding */
    char claim_cursor[WH_SID_MAX];
    struct event *claim_timer, *refresh_timer, *read_retry;
    int stopping;
};

/* relay.c */
/* Connects and starts reading and claiming. Returns 0 or -1 (out of memory). */
int relay_start(struct webhook *wh);
/* Tells the reader that room was made for more entries. */
void relay_room(struct webhook *wh);
/* Acknowledges entry e and frees it (it leaves wh->entries). */
void relay_ack(struct webhook *wh, struct wh_entry *e);
/* Frees what relay_start made; in-flight entries are dropped unacknowledged. */
void relay_stop(struct webhook *wh);

/* deliver.c */
/* Takes a new entry into wh->entries and queues its deliveries;
 * acknowledges at once one that goes nowhere (or whose event is not JSON).
 * With maybe_held, an entry already held is ignored (re-read or claimed
 * entries). The event text is copied. */
void deliver_entry(struct webhook *wh, const char *sid, const char *event, size_t len,
                   int maybe_held);
/* The http.c callback: a transfer ended; retry, finish or dead-letter. */
wh_http_done_fn deliver_done;
/* Cancels every delivery of every entry (shutdown). */
void deliver_stop(struct webhook *wh);

/* endpoints.c */
/* Builds wh->endpoints from --config and ARUN_WEBHOOK_URLS/SECRET.
 * Returns 0, or -1 with a one-line reason in err. */
int endpoints_load(struct webhook *wh, char err[WH_ERR_MAX]);
/* Parses config text (file contents) into *out and *n, appending; defaults
 * from the settings. Returns 0, or -1 with "line N: reason" in err. */
int endpoints_parse_config(const char *text, const struct wh_settings *cfg,
                           struct wh_endpoint **out, size_t *n, char err[WH_ERR_MAX]);
/* Returns 1 when the event (script, status) passes ep's filters. */
int endpoints_match(const struct wh_endpoint *ep, const char *script, const char *status);
/* Frees every endpoint and the array. */
void endpoints_free(struct wh_endpoint *eps, size_t n);

#endif
