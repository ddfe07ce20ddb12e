/*
 * relay: arun-webhook's place in the consumer group "webhook" on
 * P:stream:events (webhook.h).
 *
 *   reading   XREADGROUP on its own connection ("read"), because BLOCK
 *             holds the connection. After each (re)connect it first
 *             re-reads its own pending entries (id 0 onwards), then new
 *             ones (">"), at most max_inflight held at once.
 *   claiming  every claim_idle/2, XAUTOCLAIM takes entries idle longer
 *             than claim_idle (a relay that died or stopped holding them).
 *             Redis 7's reply has three elements (cursor, entries, deleted
 *             ids), 6.2's two; entries deleted from the stream come back
 *             as nil in 6.2 and are acknowledged.
 *   keeping   every claim_idle/3, XCLAIM ... 0 ID... JUSTID resets the idle
 *             time of every entry held here (some wait hours for retries),
 *             so no other relay takes them while this one lives.
 *   acking    XACK once an entry's deliveries are all done.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "rconn.h"
#include "log.h"
#include "webhook.h"

#define RELAY_GROUP "webhook"
#define RELAY_BATCH 100
#define RELAY_BLOCK_MS 5000
#define RELAY_KEEP_CHUNK 500
#define RELAY_RETRY_MS 1000

static void read_next(struct webhook *wh);

static long room(const struct webhook *wh)
{
    long r = (long)(wh->cfg.max_inflight - (int64_t)wh->nentries);
    return r > RELAY_BATCH ? RELAY_BATCH : r;
}

/* Takes the entries of an XREADGROUP/XAUTOCLAIM reply list. Returns how many. */
static size_t take_entries(struct webhook *wh, const redisReply *list, int maybe_held,
                           char last_id[WH_SID_MAX])
{
    size_t n = 0;
    for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        const redisReply *ent = list->element[i];
        if (ent->type != REDIS_REPLY_ARRAY || ent->elements < 1 ||
            ent->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const char *sid = ent->element[0]->str;
        if (last_id && strlen(sid) < WH_SID_MAX)
            strcpy(last_id, sid);
        n++;
        const redisReply *f = ent->elements > 1 ? ent->element[1] : NULL;
        const redisReply *event = NULL;
        for (size_t j = 0; f && f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2)
            if (f->element[j]->type == REDIS_REPLY_STRING && strcmp(f->element[j]->str, "event") == 0 &&
                f->element[j + 1]->type == REDIS_REPLY_STRING)
                event = f->element[j + 1];
        if (!event) {
            /* deleted from the stream (trimmed), or not an arun event */
            if (f && f->type == REDIS_REPLY_ARRAY)
                log_warn("stream entry %s has no field 'event'; acknowledged", sid);
            rconn_command(wh->cmd, NULL, NULL, "XACK %s %s %s", wh->stream_key, RELAY_GROUP, sid);
            continue;
        }
        deliver_entry(wh, sid, event->str, event->len, maybe_held);
    }
    return n;
}

static void retry_read_later(struct webhook *wh)
{
    struct timeval tv = {RELAY_RETRY_MS / 1000, 0};
    evtimer_add(wh->read_retry, &tv);
}

static void create_group(struct webhook *wh)
{
    /* "$": a new group starts at the stream's end; BUSYGROUP when it exists */
    rconn_command(wh->read, NULL, NULL, "XGROUP CREATE %s %s $ MKSTREAM", wh->stream_key,
                  RELAY_GROUP);
}

static void on_read(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct webhook *wh = priv;
    redisReply *reply = r;
    wh->reading = 0;
    if (!reply || wh->stopping)
        return; /* disconnected: on_read_up starts again */
    wh->reading = 1; /* no new read while this reply is taken (acks make room) */
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "NOGROUP", 7) == 0) {
            log_warn("the consumer group is gone (stream deleted?); creating it again");
            create_group(wh);
            wh->reading = 0;
        } else {
            log_error("XREADGROUP failed: %s", reply->str);
        }
        wh->reading = 0;
        retry_read_later(wh);
        return;
    }
    size_t n = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        n = take_entries(wh, reply->element[0]->element[1], wh->read_pending_first,
                         wh->read_pending_first ? wh->pending_from : NULL);
    if (wh->read_pending_first && n == 0) {
        wh->read_pending_first = 0; /* own backlog done: new entries from now on */
        log_debug("own pending entries read; reading new ones");
    }
    wh->reading = 0;
    read_next(wh);
}

static void read_next(struct webhook *wh)
{
    long n = room(wh);
    if (wh->reading || wh->stopping || !rconn_up(wh->read) || n <= 0)
        return;
    int rc;
    if (wh->read_pending_first)
        rc = rconn_command(wh->read, on_read, wh, "XREADGROUP GROUP %s %s COUNT %ld STREAMS %s %s",
                           RELAY_GROUP, wh->consumer, n, wh->stream_key, wh->pending_from);
    else
        rc = rconn_command(wh->read, on_read, wh,
                           "XREADGROUP GROUP %s %s COUNT %ld BLOCK %d STREAMS %s >", RELAY_GROUP,
                           wh->consumer, n, RELAY_BLOCK_MS, wh->stream_key);
    wh->reading = rc == 0;
}

static void on_read_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_next(arg);
}

static void on_read_up(struct rconn *c, void *arg)
{
    (void)c;
    struct webhook *wh = arg;
    wh->reading = 0;
    wh->read_pending_first = 1;
    strcpy(wh->pending_from, "0");
    create_group(wh);
    read_next(wh);
}

static void claim_next(struct webhook *wh);

static void on_claim(redisAsyncContext *ac, void *r, void *priv)
{
    (void)ac;
    struct webhook *wh = priv;
    redisReply *reply = r;
    wh->claiming = 0;
    if (!reply || wh->stopping)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strncmp(reply->str, "NOGROUP", 7) != 0)
            log_error("XAUTOCLAIM failed: %s", reply->str);
        strcpy(wh->claim_cursor, "0-0");
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    size_t n = take_entries(wh, reply->element[1], 1, NULL);
    if (n)
        log_info("claimed %zu stream entries idle for over %lld ms (a relay stopped)", n,
                 (long long)wh->cfg.claim_idle_ms);
    snprintf(wh->claim_cursor, sizeof wh->claim_cursor, "%s", reply->element[0]->str);
    if (strcmp(wh->claim_cursor, "0-0") != 0)
        claim_next(wh); /* more to look at */
}

static void claim_next(struct webhook *wh)
{
    long n = room(wh);
    if (wh->claiming || wh->stopping || !rconn_up(wh->cmd) || n <= 0)
        return;
    char idle[24];
    snprintf(idle, sizeof idle, "%lld", (long long)wh->cfg.claim_idle_ms);
    wh->claiming = rconn_command(wh->cmd, on_claim, wh, "XAUTOCLAIM %s %s %s %s %s COUNT %ld",
                                 wh->stream_key, RELAY_GROUP, wh->consumer, idle,
                                 wh->claim_cursor, n) == 0;
}

static void on_claim_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct webhook *wh = arg;
    strcpy(wh->claim_cursor, "0-0");
    claim_next(wh);
}

/* Resets the idle time of every entry held, RELAY_KEEP_CHUNK at a time. */
static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct webhook *wh = arg;
    const char *argv[6 + RELAY_KEEP_CHUNK + 1] = {"XCLAIM", wh->stream_key, RELAY_GROUP,
                                                  wh->consumer, "0"};
    struct wh_entry *e = wh->entries;
    while (e && rconn_up(wh->cmd)) {
        int argc = 5;
        for (; e && argc < 5 + RELAY_KEEP_CHUNK; e = e->next)
            argv[argc++] = e->sid;
        argv[argc++] = "JUSTID";
        rconn_command_argv(wh->cmd, NULL, NULL, argc, argv, NULL);
    }
}

void relay_ack(struct webhook *wh, struct wh_entry *e)
{
    if (rconn_command(wh->cmd, NULL, NULL, "XACK %s %s %s", wh->stream_key, RELAY_GROUP, e->sid) < 0)
        log_warn("stream entry %s done but Redis is down: it will be claimed and sent again",
                 e->sid);
    if (e->prev)
        e->prev->next = e->next;
    else
        wh->entries = e->next;
    if (e->next)
        e->next->prev = e->prev;
    wh->nentries--;
    free(e->event);
    free(e);
    read_next(wh);
}

void relay_room(struct webhook *wh) { read_next(wh); }

int relay_start(struct webhook *wh)
{
    strcpy(wh->claim_cursor, "0-0");
    wh->claim_timer = event_new(wh->base, -1, EV_PERSIST, on_claim_timer, wh);
    wh->refresh_timer = event_new(wh->base, -1, EV_PERSIST, on_refresh_timer, wh);
    wh->read_retry = evtimer_new(wh->base, on_read_retry, wh);
    wh->cmd = rconn_new(wh->base, &wh->url, "cmd", NULL, wh);
    wh->read = rconn_new(wh->base, &wh->url, "read", on_read_up, wh);
    if (!wh->claim_timer || !wh->refresh_timer || !wh->read_retry || !wh->cmd || !wh->read)
        return -1;
    int64_t every = wh->cfg.claim_idle_ms / 2, keep = wh->cfg.claim_idle_ms / 3;
    struct timeval tc = {(time_t)(every / 1000), (suseconds_t)(every % 1000) * 1000};
    struct timeval tk = {(time_t)(keep / 1000), (suseconds_t)(keep % 1000) * 1000};
    event_add(wh->claim_timer, &tc);
    event_add(wh->refresh_timer, &tk);
    return 0;
}

void relay_stop(struct webhook *wh)
{
    wh->stopping = 1;
    rconn_free(wh->read);
    rconn_free(wh->cmd);
    wh->read = wh->cmd = NULL;
    if (wh->claim_timer)
        event_free(wh->claim_timer);
    if (wh->refresh_timer)
        event_free(wh->refresh_timer);
    if (wh->read_retry)
        event_free(wh->read_retry);
    while (wh->entries) {
        struct wh_entry *e = wh->entries;
        wh->entries = e->next;
        free(e->event);
        free(e);
    }
    wh->nentries = 0;
}
