/*
 * follow: records every job of the completion stream in a local store.
 *
 * One async connection carries everything, in order: XGROUP CREATE,
 * XREADGROUP (blocking while idle), then for a batch the GETs of the
 * results it needs, then one XACK and the next read. Pending entries
 * (read before a crash or a lost connection, never acknowledged) are read
 * first on every connect, with ids from "0", until none is left; then new
 * ones with ">". A row is committed before its entry is acknowledged, so
 * nothing read is lost; an entry read twice finds its final row and is
 * skipped. hiredis 0.14 has no command timeout, so a watchdog drops a
 * connection that stays silent past the blocking read's own deadline (a
 * cut network otherwise leaves it hanging for the kernel's minutes).
 */
#include "follow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "keys.h"
#include "log.h"
#include "record_read.h"
#include "redis_event.h"
#include "redis_url.h"
#include "store.h"

#define FOLLOW_BACKOFF_MIN_MS 100
#define FOLLOW_BACKOFF_MAX_MS 2000
#define FOLLOW_WATCHDOG_SLACK_MS 10000 /* beyond block_ms, for a loaded Redis */
#define FOLLOW_CLAIM_IDLE_MS "60000"  /* another consumer's entry this idle is ours */
#define FOLLOW_SID_MAX 48             /* "ms-seq": two 20-digit numbers */

enum entry_state { E_ACK, E_NEED, E_RETRY };
enum next_step { STEP_CONNECT, STEP_CREATE, STEP_READ };

struct batch;

struct entry {
    struct batch *b;
    char sid[FOLLOW_SID_MAX];
    enum entry_state state;
    struct store_row ev;     /* the event's fields (texts owned) */
    char *result;            /* P:result:ID, or NULL (expired, not asked) */
    size_t result_len;
};

struct batch {
    struct follow *f;
    int n, waiting, failed;
    struct entry e[];
};

struct follow {
    struct event_base *base;
    const struct redis_url *url;
    struct store *store;
    char group[FOLLOW_NAME_MAX + 1], consumer[FOLLOW_NAME_MAX + 1];
    char prefix[KEYS_MAX], stream[KEYS_MAX];
    char count[16], block[16];
    follow_record_fn *on_record;
    void *arg;
    redisAsyncContext *ac;   /* NULL while down; freed by hiredis */
    int closing, dropping, in_outage;
    int backoff_ms;
    enum next_step next;     /* what the retry timer does */
    struct event *retry, *watchdog;
    int block_ms;
    int pending;             /* 1: reading entries delivered before, from cursor */
    char cursor[FOLLOW_SID_MAX];
    struct follow_stats st;
};

static void follow_connect(struct follow *f);
static void send_read(struct follow *f);
static void send_create(struct follow *f);

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > FOLLOW_NAME_MAX)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

static void arm_watchdog(struct follow *f, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(f->watchdog, &tv);
}

/* Runs f->next after the current backoff, which then doubles (capped). */
static void later(struct follow *f, enum next_step next, const char *why)
{
    if (why && !f->in_outage) {
        log_warn("history follower: %s; retrying every <= %d ms", why, FOLLOW_BACKOFF_MAX_MS);
        f->in_outage = 1;
    }
    f->next = next;
    struct timeval tv = {f->backoff_ms / 1000, (f->backoff_ms % 1000) * 1000};
    evtimer_add(f->retry, &tv);
    f->backoff_ms = f->backoff_ms * 2 > FOLLOW_BACKOFF_MAX_MS ? FOLLOW_BACKOFF_MAX_MS
                                                              : f->backoff_ms * 2;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct follow *f = arg;
    switch (f->next) {
    case STEP_CONNECT: follow_connect(f); break;
    case STEP_CREATE: send_create(f); break;
    case STEP_READ: send_read(f); break;
    }
}

/* Drops the connection (a silent Redis, a cut network) and reconnects. */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct follow *f = arg;
    redisAsyncContext *ac = f->ac;
    f->ac = NULL;
    f->st.connected = 0;
    if (ac) {
        f->dropping = 1; /* pending callbacks run now, with NULL replies */
        redisAsyncFree(ac);
        f->dropping = 0;
    }
    later(f, STEP_CONNECT, "no reply from Redis in time");
}

/* ---- batches ------------------------------------------------------------- */

static void batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++) {
        store_row_free(&b->e[i].ev);
        free(b->e[i].result);
    }
    free(b);
}

/* The row to store for e: the result record when it reads well and is
 * the same job, else the event alone. Returns 1 when from the record. */
static int entry_row(struct entry *e, struct store_row *row)
{
    char err[128];
    if (e->result && record_read(e->result, e->result_len, row, err) == 0) {
        if (strcmp(row->id, e->ev.id) == 0)
            return 1;
        store_row_free(row);
    } else if (e->result) {
        log_job(LOG_WARN, e->ev.id, e->ev.script, "history follower: result record unusable (%s); "
                "storing the event alone", err);
    }
    *row = e->ev;
    return 0;
}

/* Writes the rows the batch needs, acknowledges what is done, and goes
 * on reading (at once, or after a backoff when the store was busy). */
static void batch_finish(struct batch *b)
{
    struct follow *f = b->f;
    int retry = 0;
    for (int i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (e->state == E_RETRY)
            retry = 1;
        if (e->state != E_NEED)
            continue;
        if (retry) { /* the store is busy: keep the rest for the re-read */
            e->state = E_RETRY;
            continue;
        }
        struct store_row row;
        int full = entry_row(e, &row);
        int rc = store_put(f->store, &row);
        if (rc == STORE_OK) {
            e->state = E_ACK;
            full ? f->st.recorded++ : f->st.from_event++;
            if (f->on_record)
                f->on_record(&row, f->arg);
        } else {
            if (rc == STORE_BUSY)
                f->st.store_busy++;
            else
                log_job(LOG_ERROR, e->ev.id, e->ev.script, "history follower: storing: %s",
                        store_errmsg(f->store));
            e->state = E_RETRY;
            retry = 1;
        }
        if (full)
            store_row_free(&row);
    }
    const char **argv = malloc(sizeof *argv * (size_t)(b->n + 3));
    int argc = 3;
    if (argv) {
        argv[0] = "XACK";
        argv[1] = f->stream;
        argv[2] = f->group;
        for (int i = 0; i < b->n; i++)
            if (b->e[i].state == E_ACK)
                argv[argc++] = b->e[i].sid;
        if (argc > 3)
            redisAsyncCommandArgv(f->ac, NULL, NULL, argc, argv, NULL);
        free(argv);
    } else {
        retry = 1; /* nothing acknowledged: all of it is read again */
    }
    batch_free(b);
    if (retry) {
        f->pending = 1;
        snprintf(f->cursor, sizeof f->cursor, "0");
        later(f, STEP_READ, NULL);
    } else {
        f->backoff_ms = FOLLOW_BACKOFF_MIN_MS;
        send_read(f);
    }
}

static void on_result(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct entry *e = priv;
    struct batch *b = e->b;
    redisReply *r = reply;
    if (!r)
        b->failed = 1; /* the connection is gone; the batch is read again */
    else if (r->type == REDIS_REPLY_STRING && (e->result = malloc(r->len + 1))) {
        memcpy(e->result, r->str, r->len + 1);
        e->result_len = r->len;
    }
    if (--b->waiting > 0)
        return;
    evtimer_del(b->f->watchdog);
    if (b->failed || b->f->closing || !b->f->ac)
        batch_free(b);
    else
        batch_finish(b);
}

/* Fills e from one stream entry [id, [field, value, ...]] and decides
 * what it needs: nothing (acknowledge), the result (E_NEED), or a later
 * try (the store is locked). */
static void entry_classify(struct follow *f, struct entry *e, const redisReply *x)
{
    e->state = E_ACK;
    const redisReply *fields = x->element[1];
    const redisReply *event = NULL;
    if (fields && fields->type == REDIS_REPLY_ARRAY)
        for (size_t k = 0; k + 1 < fields->elements; k += 2)
            if (fields->element[k]->type == REDIS_REPLY_STRING &&
                strcmp(fields->element[k]->str, "event") == 0 &&
                fields->element[k + 1]->type == REDIS_REPLY_STRING)
                event = fields->element[k + 1];
    if (!fields || fields->type != REDIS_REPLY_ARRAY)
        return; /* trimmed from the stream while pending: nothing to read */
    char err[128];
    if (!event || record_read(event->str, event->len, &e->ev, err) < 0) {
        f->st.refused++;
        log_warn("history follower: stream entry %s is not a usable event (%s); skipped",
                 e->sid, event ? err : "no field \"event\"");
        return;
    }
    struct store_row have;
    int rc = store_get(f->store, e->ev.id, &have);
    if (rc == STORE_OK) {
        int final = store_status_final(have.status);
        store_row_free(&have);
        if (final) {
            f->st.skipped++;
            return;
        }
    } else if (rc != STORE_NOTFOUND) {
        if (rc == STORE_BUSY)
            f->st.store_busy++;
        e->state = E_RETRY;
        return;
    }
    e->state = E_NEED;
}

static void batch_start(struct follow *f, const redisReply *entries)
{
    size_t n = entries->elements;
    struct batch *b = calloc(1, sizeof *b + n * sizeof b->e[0]);
    if (!b) {
        log_error("history follower: out of memory; retrying");
        f->pending = 1;
        snprintf(f->cursor, sizeof f->cursor, "0");
        later(f, STEP_READ, NULL);
        return;
    }
    b->f = f;
    for (size_t i = 0; i < n; i++) {
        const redisReply *x = entries->element[i];
        if (x->type != REDIS_REPLY_ARRAY || x->elements < 2 ||
            x->element[0]->type != REDIS_REPLY_STRING || x->element[0]->len >= FOLLOW_SID_MAX)
            continue;
        struct entry *e = &b->e[b->n++];
        e->b = b;
        memcpy(e->sid, x->element[0]->str, x->element[0]->len + 1);
        entry_classify(f, e, x);
        for (int k = 0; e->state == E_NEED && k < b->n - 1; k++)
            if (b->e[k].state == E_NEED && strcmp(b->e[k].ev.id, e->ev.id) == 0) {
                e->state = E_ACK; /* announced twice in one batch */
                f->st.skipped++;
            }
        if (f->pending)
            snprintf(f->cursor, sizeof f->cursor, "%s", e->sid);
    }
    /* the GETs go out together; their replies come back in order */
    b->waiting = 1; /* held until every GET is sent */
    for (int i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        char key[KEYS_MAX];
        if (e->state != E_NEED || keys_result(key, f->prefix, e->ev.id) < 0)
            continue;
        const char *argv[] = {"GET", key};
        if (redisAsyncCommandArgv(f->ac, on_result, e, 2, argv, NULL) == REDIS_OK)
            b->waiting++;
        else
            e->state = E_RETRY; /* not stored from the event alone: the output exists */
    }
    if (--b->waiting == 0)
        batch_finish(b);
    else
        arm_watchdog(f, FOLLOW_WATCHDOG_SLACK_MS);
}

/* ---- reading --------------------------------------------------------------- */

static void on_read(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct follow *f = priv;
    redisReply *r = reply;
    if (!r || f->closing || !f->ac)
        return; /* the disconnect handler reconnects */
    evtimer_del(f->watchdog);
    if (r->type == REDIS_REPLY_ERROR) {
        if (strncmp(r->str, "NOGROUP", 7) == 0) { /* the stream or group was deleted */
            later(f, STEP_CREATE, NULL);
            return;
        }
        later(f, STEP_READ, r->str);
        return;
    }
    f->in_outage = 0;
    const redisReply *entries = NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
        r->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
        entries = r->element[0]->element[1];
    if (!entries || entries->elements == 0) {
        f->pending = 0; /* nothing (more) pending, or the block timed out */
        send_read(f);
        return;
    }
    batch_start(f, entries);
}

static void send_read(struct follow *f)
{
    if (!f->ac || !f->st.connected)
        return;
    const char *argv[] = {"XREADGROUP", "GROUP", f->group, f->consumer, "COUNT", f->count,
                          "BLOCK", f->block, "STREAMS", f->stream, ">"};
    if (f->pending) { /* no BLOCK: pending entries are there or not */
        argv[6] = "STREAMS";
        argv[7] = f->stream;
        argv[8] = f->cursor;
    }
    int argc = f->pending ? 9 : 11;
    if (redisAsyncCommandArgv(f->ac, on_read, f, argc, argv, NULL) != REDIS_OK)
        return;
    arm_watchdog(f, (f->pending ? 0 : f->block_ms) + FOLLOW_WATCHDOG_SLACK_MS);
}

static void on_created(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct follow *f = priv;
    redisReply *r = reply;
    if (!r || f->closing || !f->ac)
        return;
    evtimer_del(f->watchdog);
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        later(f, STEP_CREATE, r->str);
        return;
    }
    /* entries another consumer of the group read and left unacknowledged
     * for a minute (it died) become ours, then read as our pending ones */
    const char *claim[] = {"XAUTOCLAIM", f->stream, f->group, f->consumer,
                           FOLLOW_CLAIM_IDLE_MS, "0-0", "COUNT", "1000", "JUSTID"};
    redisAsyncCommandArgv(f->ac, NULL, NULL, 9, claim, NULL);
    f->pending = 1;
    snprintf(f->cursor, sizeof f->cursor, "0");
    send_read(f);
}

static void send_create(struct follow *f)
{
    if (!f->ac || !f->st.connected)
        return;
    const char *argv[] = {"XGROUP", "CREATE", f->stream, f->group, "0", "MKSTREAM"};
    if (redisAsyncCommandArgv(f->ac, on_created, f, 6, argv, NULL) == REDIS_OK)
        arm_watchdog(f, FOLLOW_WATCHDOG_SLACK_MS);
}

/* ---- connection ------------------------------------------------------------ */

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct follow *f = ac->data;
    evtimer_del(f->watchdog);
    if (status != REDIS_OK) {
        f->ac = NULL; /* hiredis frees it after this callback */
        later(f, STEP_CONNECT, ac->errstr);
        return;
    }
    f->st.connected = 1;
    if (f->in_outage)
        log_info("history follower: connected to Redis again");
    f->backoff_ms = FOLLOW_BACKOFF_MIN_MS;
    send_create(f);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct follow *f = ac->data;
    if (f->closing || f->dropping)
        return;
    evtimer_del(f->watchdog);
    f->ac = NULL;
    f->st.connected = 0;
    later(f, STEP_CONNECT, ac->errstr[0] ? ac->errstr : "connection lost");
}

static void follow_connect(struct follow *f)
{
    char err[128];
    redisAsyncContext *ac = redis_url_connect_async(f->url, err);
    if (!ac) {
        later(f, STEP_CONNECT, err);
        return;
    }
    ac->data = f;
    if (redis_event_attach(ac, f->base) != REDIS_OK) {
        redisAsyncFree(ac);
        later(f, STEP_CONNECT, "cannot attach to the event loop");
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    f->ac = ac;
    arm_watchdog(f, FOLLOW_WATCHDOG_SLACK_MS); /* a connect that never completes */
}

/* ---- life ---------------------------------------------------------------------- */

struct follow *follow_new(struct event_base *base, const struct redis_url *url,
                          struct store *store, const struct follow_options *opt,
                          char err[128])
{
    if (!name_ok(opt->group) || !name_ok(opt->consumer)) {
        snprintf(err, 128, "the follower's group and consumer names must be 1-%d characters "
                 "of A-Za-z0-9._:-", FOLLOW_NAME_MAX);
        return NULL;
    }
    int batch = opt->batch ? opt->batch : 100, block_ms = opt->block_ms ? opt->block_ms : 5000;
    if (batch < 1 || batch > 1000 || block_ms < 1 || block_ms > 600000) {
        snprintf(err, 128, "follower batch must be 1-1000 and block 1-600000 ms");
        return NULL;
    }
    struct follow *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, 128, "out of memory");
        return NULL;
    }
    f->base = base;
    f->url = url;
    f->store = store;
    f->on_record = opt->on_record;
    f->arg = opt->arg;
    f->block_ms = block_ms;
    f->backoff_ms = FOLLOW_BACKOFF_MIN_MS;
    snprintf(f->group, sizeof f->group, "%s", opt->group);
    snprintf(f->consumer, sizeof f->consumer, "%s", opt->consumer);
    snprintf(f->count, sizeof f->count, "%d", batch);
    snprintf(f->block, sizeof f->block, "%d", block_ms);
    if (snprintf(f->prefix, sizeof f->prefix, "%s", opt->prefix) >= (int)sizeof f->prefix ||
        keys_stream(f->stream, opt->prefix) < 0) {
        snprintf(err, 128, "prefix too long");
        free(f);
        return NULL;
    }
    f->retry = evtimer_new(base, on_retry, f);
    f->watchdog = evtimer_new(base, on_watchdog, f);
    if (!f->retry || !f->watchdog) {
        snprintf(err, 128, "out of memory");
        follow_free(f);
        return NULL;
    }
    follow_connect(f);
    return f;
}

void follow_free(struct follow *f)
{
    if (!f)
        return;
    f->closing = 1;
    if (f->ac) {
        redisAsyncContext *ac = f->ac;
        f->ac = NULL;
        redisAsyncFree(ac); /* pending callbacks run, with NULL replies */
    }
    if (f->retry)
        event_free(f->retry);
    if (f->watchdog)
        event_free(f->watchdog);
    free(f);
}

void follow_get_stats(const struct follow *f, struct follow_stats *out) { *out = f->st; }
