/*
 * client_wait: waiting for one job's end from a CLI (client.h). The
 * subscription to P:events is made before the request is pushed, so the
 * event cannot be missed; the result key is read after every
 * (re)subscription and every quiet stretch, so an event lost while Redis
 * was away (or published before a resubscription) is not.
 */
#include "client_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

#define WAIT_RETRY_MS 1000
/* the longest stretch without reading the result key: also notices a
 * connection that died without a word (a cut network) */
#define WAIT_SLICE_MS 15000

struct client_wait {
    struct client *cl;
    redisContext *sub;  /* subscribed to P:events, or NULL while lost */
    char channel[KEYS_MAX];
    int lost;           /* the notice "lost" was given, "back" not yet */
};

static void notice(struct client *cl, const char *msg)
{
    if (cl->notice)
        cl->notice(cl->notice_arg, msg);
}

/* Opens and subscribes w->sub. Returns 0, or -1 with cl->err set. */
static int subscribe(struct client_wait *w)
{
    if (w->sub)
        redisFree(w->sub);
    if (!(w->sub = client_connect(w->cl)))
        return -1;
    const char *argv[] = {"SUBSCRIBE", w->channel};
    redisReply *r = redisCommandArgv(w->sub, 2, argv, NULL);
    int ok = r && r->type == REDIS_REPLY_ARRAY;
    if (!ok)
        client_fail(w->cl, CLIENT_REDIS, "cannot subscribe to %s: %s", w->channel,
                    r && r->type == REDIS_REPLY_ERROR ? r->str : w->sub->errstr);
    freeReplyObject(r);
    if (!ok) {
        redisFree(w->sub);
        w->sub = NULL;
        return -1;
    }
    return 0;
}

struct client_wait *client_wait_open(struct client *cl)
{
    struct client_wait *w = calloc(1, sizeof *w);
    if (!w) {
        client_fail(cl, CLIENT_NOMEM, "out of memory");
        return NULL;
    }
    w->cl = cl;
    keys_events(w->channel, cl->prefix);
    if (subscribe(w) < 0) {
        free(w);
        return NULL;
    }
    return w;
}

void client_wait_close(struct client_wait *w)
{
    if (!w)
        return;
    if (w->sub)
        redisFree(w->sub);
    free(w);
}

/* Returns 1 if reply is a pub/sub message naming id (its payload copied
 * into *event), else 0. */
static int our_event(const redisReply *r, const char *id, char **event)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return 0;
    char evid[REQUEST_ID_MAX + 1];
    if (client_event_id(r->element[2]->str, r->element[2]->len, evid) < 0 || strcmp(evid, id) != 0)
        return 0;
    free(*event);
    *event = strndup(r->element[2]->str, r->element[2]->len);
    return 1;
}

/* Reads what arrives on w->sub for up to ms. Returns 1 when our event
 * came, 0 when the time passed, -1 when the connection was lost. */
static int listen_for(struct client_wait *w, const char *id, int64_t ms, char **event)
{
    int64_t until = timefmt_mono_ms() + ms;
    for (;;) {
        void *reply = NULL;
        /* replies already read into hiredis's buffer first */
        while (redisGetReplyFromReader(w->sub, &reply) == REDIS_OK && reply) {
            int ours = our_event(reply, id, event);
            freeReplyObject(reply);
            reply = NULL;
            if (ours)
                return 1;
        }
        if (w->sub->err)
            return -1;
        int64_t left = until - timefmt_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = w->sub->fd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && redisBufferRead(w->sub) != REDIS_OK)
            return -1;
    }
}

int client_wait_for(struct client_wait *w, const char *id, int64_t timeout_ms, char **record)
{
    struct client *cl = w->cl;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : timefmt_mono_ms() + timeout_ms;
    char *event = NULL;
    int rc;
    for (;;) {
        int up = w->sub != NULL;
        if (up) {
            rc = client_result(cl, id, record, NULL);
            if (rc != CLIENT_REDIS && w->lost) {
                w->lost = 0;
                notice(cl, "the connection to Redis is back");
            }
            if (rc == CLIENT_OK || rc == CLIENT_NOMEM)
                break;
            up = rc == CLIENT_NOTFOUND;
        }
        if (up && event) {
            /* the event came and the result is not kept: the event is all there is */
            *record = event;
            event = NULL;
            rc = CLIENT_OK;
            break;
        }
        int64_t left = deadline - timefmt_mono_ms();
        if (left <= 0) {
            rc = client_fail(cl, CLIENT_TIMEOUT, "job %s did not finish in time", id);
            break;
        }
        if (up) {
            int got = listen_for(w, id, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS, &event);
            if (got >= 0)
                continue; /* read the result (event or quiet stretch) */
            redisFree(w->sub);
            w->sub = NULL;
        }
        if (!w->lost) {
            w->lost = 1;
            char msg[sizeof cl->shown + 128];
            snprintf(msg, sizeof msg, "lost the connection to Redis at %s; waiting for it "
                     "(the job %s is safe in Redis)", cl->shown, id);
            notice(cl, msg);
        }
        int64_t pause = left < WAIT_RETRY_MS ? left : WAIT_RETRY_MS;
        struct timespec ts = {(time_t)(pause / 1000), (long)(pause % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        subscribe(w); /* on failure w->sub stays NULL: try again after a pause */
    }
    free(event);
    return rc;
}
