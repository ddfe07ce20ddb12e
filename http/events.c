/*
 * events: the shared reader of P:stream:events and its subscribers
 * (events.h).
 */
#include "events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "app.h"
#include "aredis.h"
#include "keys.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "sse.h"

#define EVENTS_PAGE 500
#define EVENTS_BLOCK_MS 5000
#define EVENTS_ID_MAX 48
#define EVENTS_HELD_MAX 10000 /* live entries held for one catching-up client */

struct held {
    char id[EVENTS_ID_MAX];
    char *data;
    size_t len;
    struct held *next;
};

struct sub {
    struct events_feed *feed;
    struct sse_stream *st;    /* NULL once the client left */
    char last[EVENTS_ID_MAX]; /* the last id sent */
    int catching, waiting;    /* in catch-up; an XRANGE reply is due */
    struct held *held, **held_tail;
    size_t nheld;
    struct sub *prev, *next;
};

struct events_feed {
    struct app *app;
    char key[KEYS_MAX];
    struct aredis *rd, *cmd;
    char last[EVENTS_ID_MAX]; /* the newest id read; "" until known */
    struct sub *subs;
    struct event *retry;
};

/* Stream ids "MS-SEQ" compare as number pairs. */
static int id_cmp(const char *a, const char *b)
{
    uint64_t am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%" SCNu64 "-%" SCNu64, &am, &as);
    sscanf(b, "%" SCNu64 "-%" SCNu64, &bm, &bs);
    return am != bm ? (am < bm ? -1 : 1) : as != bs ? (as < bs ? -1 : 1) : 0;
}

static int id_valid(const char *s)
{
    uint64_t m, q;
    char end;
    return s && strlen(s) < EVENTS_ID_MAX &&
           sscanf(s, "%" SCNu64 "-%" SCNu64 "%c", &m, &q, &end) == 2;
}

/* An entry [id, [field, value, ...]]: its id and the "event" value. */
static int entry_parts(const redisReply *e, const char **id, const char **data, size_t *len)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY ||
        e->element[0]->len >= EVENTS_ID_MAX)
        return -1;
    *id = e->element[0]->str;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        if (f->element[i]->type == REDIS_REPLY_STRING && !strcmp(f->element[i]->str, "event") &&
            f->element[i + 1]->type == REDIS_REPLY_STRING) {
            *data = f->element[i + 1]->str;
            *len = f->element[i + 1]->len;
            return 0;
        }
    }
    return -1;
}

static void free_held(struct sub *s)
{
    while (s->held) {
        struct held *h = s->held;
        s->held = h->next;
        free(h->data);
        free(h);
    }
    s->held_tail = &s->held;
    s->nheld = 0;
}

static void sub_free(struct sub *s)
{
    free_held(s);
    free(s);
}

static void unlink_sub(struct sub *s)
{
    struct events_feed *f = s->feed;
    if (s->prev)
        s->prev->next = s->next;
    else if (f->subs == s)
        f->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* The client left (the hub freed its stream). */
static void sub_gone(void *arg)
{
    struct sub *s = arg;
    s->st = NULL;
    unlink_sub(s);
    if (!s->waiting) /* else the XRANGE reply frees it */
        sub_free(s);
}

static void sub_end(struct sub *s)
{
    if (s->st)
        sse_close(s->st);
    sub_gone(s);
}

/* Sends one entry if it is newer than what s has had. Returns 0, or -1
 * when the stream was dropped (s is freed). */
static int send_entry(struct sub *s, const char *id, const char *data, size_t len)
{
    if (s->last[0] && id_cmp(id, s->last) <= 0)
        return 0;
    snprintf(s->last, sizeof s->last, "%s", id);
    return sse_send(s->st, "job.completed", id, data, len);
}

static void deliver(struct events_feed *f, const char *id, const char *data, size_t len)
{
    for (struct sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (!s->catching) {
            send_entry(s, id, data, len);
            continue;
        }
        struct held *h = s->nheld < EVENTS_HELD_MAX ? calloc(1, sizeof *h) : NULL;
        if (!h || !(h->data = malloc(len + 1))) {
            free(h);
            log_warn("an event-stream client fell too far behind while catching up");
            sub_end(s);
            continue;
        }
        snprintf(h->id, sizeof h->id, "%s", id);
        memcpy(h->data, data, len);
        h->len = len;
        *s->held_tail = h;
        s->held_tail = &h->next;
        s->nheld++;
    }
}

/* ---- the shared reader ----------------------------------------------------- */

static void start(struct events_feed *f);
static void read_more(struct events_feed *f);

static void lost(void *arg)
{
    struct events_feed *f = arg;
    aredis_close(f->rd);
    aredis_close(f->cmd);
    f->rd = f->cmd = NULL;
    /* subscribers in catch-up lose their XRANGE: end them, they reconnect */
    for (struct sub *s = f->subs, *next; s; s = next) {
        next = s->next;
        if (s->catching)
            sub_end(s);
    }
    struct timeval again = {1, 0};
    event_add(f->retry, &again);
}

static void on_read(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    struct events_feed *f = aredis_owner(ac);
    redisReply *r = reply;
    if (!f || !r)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("reading %s: %s", f->key, r->str);
        lost(f);
        return;
    }
    /* nil: the block timed out; else [[key, [entries]]] */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
        r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const char *id, *data;
            size_t len;
            if (entry_parts(entries->element[i], &id, &data, &len) == 0) {
                deliver(f, id, data, len);
                snprintf(f->last, sizeof f->last, "%s", id);
            } else if (entries->element[i]->type == REDIS_REPLY_ARRAY &&
                       entries->element[i]->elements >= 1 &&
                       entries->element[i]->element[0]->type == REDIS_REPLY_STRING &&
                       entries->element[i]->element[0]->len < EVENTS_ID_MAX) {
                snprintf(f->last, sizeof f->last, "%s", entries->element[i]->element[0]->str);
            }
        }
    }
    read_more(f);
}

static void read_more(struct events_feed *f)
{
    redisAsyncCommand(aredis_ctx(f->rd), on_read, NULL, "XREAD COUNT %d BLOCK %d STREAMS %s %s",
                      EVENTS_PAGE, EVENTS_BLOCK_MS, f->key, f->last);
}

static void on_newest(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    struct events_feed *f = aredis_owner(ac);
    redisReply *r = reply;
    if (!f || !r)
        return;
    if (r->type != REDIS_REPLY_ARRAY) {
        log_error("reading %s: %s", f->key, r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
        lost(f);
        return;
    }
    if (!f->last[0]) {
        const char *id = "0-0";
        if (r->elements == 1 && r->element[0]->type == REDIS_REPLY_ARRAY &&
            r->element[0]->elements >= 1 && r->element[0]->element[0]->type == REDIS_REPLY_STRING)
            id = r->element[0]->element[0]->str;
        snprintf(f->last, sizeof f->last, "%s", id);
    }
    read_more(f);
}

static void start(struct events_feed *f)
{
    f->rd = aredis_open(f->app->base, &f->app->rurl, lost, f);
    f->cmd = f->rd ? aredis_open(f->app->base, &f->app->rurl, lost, f) : NULL;
    if (!f->rd || !f->cmd) {
        lost(f);
        return;
    }
    /* where "live" begins: after the newest entry now (kept across
     * reconnects, so nothing appended during an outage is skipped) */
    redisAsyncCommand(aredis_ctx(f->rd), on_newest, NULL, "XREVRANGE %s + - COUNT 1", f->key);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start(arg);
}

struct events_feed *events_feed_new(struct app *a)
{
    struct events_feed *f = calloc(1, sizeof *f);
    if (!f || keys_stream(f->key, a->cfg.prefix) < 0 ||
        !(f->retry = evtimer_new(a->base, on_retry, f))) {
        free(f);
        return NULL;
    }
    f->app = a;
    start(f);
    return f;
}

void events_feed_free(struct events_feed *f)
{
    if (!f)
        return;
    while (f->subs)
        sub_end(f->subs);
    aredis_close(f->rd);
    aredis_close(f->cmd);
    event_free(f->retry);
    free(f);
}

/* ---- catching up after Last-Event-ID ------------------------------------------ */

static void catch_up(struct sub *s);

static void on_range(redisAsyncContext *ac, void *reply, void *priv)
{
    struct sub *s = priv;
    s->waiting = 0;
    redisReply *r = reply;
    if (!s->st) { /* the client left meanwhile */
        sub_free(s);
        return;
    }
    if (!aredis_owner(ac) || !r || r->type != REDIS_REPLY_ARRAY) {
        sub_end(s);
        return;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const char *id, *data;
        size_t len;
        if (entry_parts(r->element[i], &id, &data, &len) < 0)
            continue;
        if (send_entry(s, id, data, len) < 0)
            return; /* dropped: gone already ran */
    }
    if (r->elements == EVENTS_PAGE) {
        catch_up(s);
        return;
    }
    s->catching = 0;
    for (struct held *h = s->held; h; h = h->next)
        if (send_entry(s, h->id, h->data, h->len) < 0)
            return;
    free_held(s);
}

static void catch_up(struct sub *s)
{
    struct events_feed *f = s->feed;
    if (!f->cmd || aredis_ctx(f->cmd) == NULL) {
        sub_end(s);
        return;
    }
    s->waiting = 1;
    redisAsyncCommand(aredis_ctx(f->cmd), on_range, s, "XRANGE %s (%s + COUNT %d", f->key, s->last,
                      EVENTS_PAGE);
}

static void subscribe(struct http_call *call, void *arg)
{
    struct app *a = arg;
    struct events_feed *f = a->events;
    struct sub *s = calloc(1, sizeof *s);
    if (!s) {
        reply_error(call->req, 503, NULL, NULL, NULL, "out of memory");
        return;
    }
    const char *from = sse_last_event_id(call->req);
    s->feed = f;
    s->held_tail = &s->held;
    if (from && !id_valid(from)) {
        free(s);
        reply_error(call->req, 400, NULL, "Last-Event-ID", NULL,
                    "Last-Event-ID must be a stream entry id (MS-SEQ)");
        return;
    }
    if (!(s->st = sse_open(a->sse, call->req, sub_gone, s))) {
        free(s);
        return;
    }
    s->next = f->subs;
    if (f->subs)
        f->subs->prev = s;
    f->subs = s;
    if (from) {
        snprintf(s->last, sizeof s->last, "%s", from);
        s->catching = 1;
        catch_up(s);
    } else {
        snprintf(s->last, sizeof s->last, "%s", f->last);
    }
}

int events_routes(struct app *a)
{
    return http_server_route(a->server, HTTP_GET, "/api/analytics/events", subscribe, a);
}
