/*
 * output: a job's output as Server-Sent Events (output.h). Text is sent a
 * whole line at a time, so a chunk that splits a line or a UTF-8 sequence
 * is joined with the next one first; a line that is still open when the
 * job ends is sent then.
 */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "app.h"
#include "aredis.h"
#include "jobs.h"
#include "keys.h"
#include "log.h"
#include "reply.h"
#include "request.h"
#include "server.h"
#include "sse.h"
#include "utf8.h"

#define OUTPUT_WATCH_TTL_S 60
#define OUTPUT_REFRESH_S 30
#define OUTPUT_BLOCK_MS 2000
#define OUTPUT_LINE_MAX (64 * 1024) /* an open line longer than this is sent as is */

static const char *const fd_names[2] = {"stdout", "stderr"};

struct watch {
    struct app *app;
    struct sse_stream *st;
    struct aredis *r;
    struct event *refresh;
    char id[REQUEST_ID_MAX + 1];
    char out_key[KEYS_MAX], watch_key[KEYS_MAX], result_key[KEYS_MAX];
    char last[48];
    char *open[2];      /* the line not yet ended, per fd */
    size_t open_len[2];
    size_t got[2];      /* bytes received per fd */
};

/* Sends text as an event of fd, valid UTF-8. Returns 0 or -1 (dropped). */
static int send_text(struct sse_stream *st, int fd, const char *text, size_t len)
{
    if (len == 0)
        return 0;
    size_t clean_len;
    char *clean = utf8_sanitize(text, len, &clean_len);
    int rc = clean ? sse_send(st, fd_names[fd], NULL, clean, clean_len) : 0;
    free(clean);
    return rc;
}

/* Adds bytes to fd's open line and sends every line they complete.
 * Returns 0 or -1 (dropped). */
static int feed(struct watch *w, int fd, const char *data, size_t len)
{
    w->got[fd] += len;
    char *buf = realloc(w->open[fd], w->open_len[fd] + len + 1);
    if (!buf)
        return 0;
    memcpy(buf + w->open_len[fd], data, len);
    size_t n = w->open_len[fd] + len;
    w->open[fd] = buf;
    const char *nl = memrchr(buf, '\n', n);
    size_t upto = nl ? (size_t)(nl - buf) + 1 : n >= OUTPUT_LINE_MAX ? n : 0;
    if (upto && send_text(w->st, fd, buf, upto) < 0)
        return -1;
    memmove(buf, buf + upto, n - upto);
    w->open_len[fd] = n - upto;
    return 0;
}

static int flush_open(struct watch *w)
{
    for (int fd = 0; fd < 2; fd++) {
        if (send_text(w->st, fd, w->open[fd], w->open_len[fd]) < 0)
            return -1;
        w->open_len[fd] = 0;
    }
    return 0;
}

static void watch_free(struct watch *w)
{
    aredis_close(w->r);
    if (w->refresh)
        event_free(w->refresh);
    free(w->open[0]);
    free(w->open[1]);
    free(w);
}

/* The client left. */
static void watch_gone(void *arg) { watch_free(arg); }

static void watch_end(struct watch *w)
{
    sse_close(w->st);
    watch_free(w);
}

/* The completion event of a record (a row or P:result:ID). */
static char *event_of(json_t *rec)
{
    json_t *ev = json_object();
    const char *skip[] = {"stdout", "stderr", "args", "trigger_type"};
    const char *key;
    json_t *v;
    json_object_set_new(ev, "event", json_string("job.completed"));
    json_object_foreach(rec, key, v) {
        int drop = 0;
        for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
            drop |= !strcmp(key, skip[i]);
        if (!drop)
            json_object_set(ev, key, v);
    }
    json_t *tr = json_object_get(rec, "trigger_type");
    if (tr && !json_object_get(ev, "trigger"))
        json_object_set(ev, "trigger", tr);
    char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    return text;
}

/* Sends what rec (a finished job's record) has beyond what was received,
 * then end. Returns 0 or -1 (dropped). */
static int finish_from_record(struct watch *w, json_t *rec)
{
    for (int fd = 0; fd < 2; fd++) {
        json_t *t = json_object_get(rec, fd_names[fd]);
        size_t len = json_string_length(t);
        if (json_is_string(t) && len > w->got[fd] &&
            feed(w, fd, json_string_value(t) + w->got[fd], len - w->got[fd]) < 0)
            return -1;
    }
    if (flush_open(w) < 0)
        return -1;
    char *ev = event_of(rec);
    int rc = sse_send(w->st, "end", NULL, ev ? ev : "{}", ev ? strlen(ev) : 2);
    free(ev);
    return rc;
}

static void read_more(struct watch *w);

static void on_result(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    struct watch *w = aredis_owner(ac);
    redisReply *r = reply;
    if (!w || !r)
        return;
    if (r->type != REDIS_REPLY_STRING) {
        read_more(w);
        return;
    }
    json_t *rec = json_loadb(r->str, r->len, 0, NULL);
    int rc = rec ? finish_from_record(w, rec) : 0;
    json_decref(rec);
    if (rc == 0)
        watch_end(w);
}

static void on_entries(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)priv;
    struct watch *w = aredis_owner(ac);
    redisReply *r = reply;
    if (!w || !r)
        return;
    if (r->type == REDIS_REPLY_ERROR) {
        log_error("reading %s: %s", w->out_key, r->str);
        watch_end(w);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) { /* timed out: finished? */
        redisAsyncCommand(ac, on_result, NULL, "GET %s", w->result_key);
        return;
    }
    const redisReply *key = r->element[0];
    const redisReply *entries = key->type == REDIS_REPLY_ARRAY && key->elements == 2 &&
                                key->element[1]->type == REDIS_REPLY_ARRAY ? key->element[1] : NULL;
    for (size_t i = 0; entries && i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        snprintf(w->last, sizeof w->last, "%s", e->element[0]->str);
        const redisReply *f = e->element[1];
        const char *fd = NULL, *data = "";
        size_t len = 0;
        for (size_t k = 0; f->type == REDIS_REPLY_ARRAY && k + 1 < f->elements; k += 2) {
            const redisReply *name = f->element[k], *val = f->element[k + 1];
            if (name->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING)
                continue;
            if (!strcmp(name->str, "fd"))
                fd = val->str;
            else if (!strcmp(name->str, "data"))
                data = val->str, len = val->len;
        }
        if (!fd)
            continue;
        if (!strcmp(fd, "end")) {
            if (flush_open(w) == 0 && sse_send(w->st, "end", NULL, data, len) == 0)
                watch_end(w);
            return;
        }
        int which = !strcmp(fd, "stdout") ? 0 : !strcmp(fd, "stderr") ? 1 : -1;
        if (which >= 0 && feed(w, which, data, len) < 0)
            return;
    }
    read_more(w);
}

static void read_more(struct watch *w)
{
    redisAsyncCommand(aredis_ctx(w->r), on_entries, NULL, "XREAD COUNT 1000 BLOCK %d STREAMS %s %s",
                      OUTPUT_BLOCK_MS, w->out_key, w->last);
}

static void announce(struct watch *w)
{
    char chan[KEYS_MAX];
    keys_watch_channel(chan, w->app->cfg.prefix);
    redisAsyncContext *ac = aredis_ctx(w->r);
    redisAsyncCommand(ac, NULL, NULL, "SET %s 1 EX %d", w->watch_key, OUTPUT_WATCH_TTL_S);
    redisAsyncCommand(ac, NULL, NULL, "PUBLISH %s %s", chan, w->id);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct watch *w = arg;
    redisAsyncCommand(aredis_ctx(w->r), NULL, NULL, "SET %s 1 EX %d", w->watch_key,
                      OUTPUT_WATCH_TTL_S);
}

static void lost(void *arg)
{
    watch_end(arg); /* watch_free closes (frees) the lost connection */
}

/* A finished job: its kept output, then end. */
static void serve_finished(struct app *a, struct evhttp_request *req, json_t *job)
{
    struct watch *w = calloc(1, sizeof *w);
    if (!w) {
        reply_error(req, 503, NULL, NULL, NULL, "out of memory");
        return;
    }
    w->app = a;
    if (!(w->st = sse_open(a->sse, req, watch_gone, w))) {
        free(w);
        return;
    }
    if (finish_from_record(w, job) == 0)
        watch_end(w);
}

static void watch(struct http_call *call, void *arg)
{
    struct app *a = arg;
    const char *id = call->params[0];
    json_t *job;
    int status = jobs_lookup(a, id, &job);
    if (status != 200) {
        reply_error(call->req, status, NULL, NULL, NULL, status == 404 ? "no job with id %s"
                    : "the database or Redis cannot be read (job %s)", id);
        return;
    }
    const char *st = json_string_value(json_object_get(job, "status"));
    if (st && strcmp(st, "queued") && strcmp(st, "running")) {
        serve_finished(a, call->req, job);
        json_decref(job);
        return;
    }
    json_decref(job);
    struct watch *w = calloc(1, sizeof *w);
    if (!w || !(w->refresh = event_new(a->base, -1, EV_PERSIST, on_refresh, w))) {
        free(w);
        reply_error(call->req, 503, NULL, NULL, NULL, "out of memory");
        return;
    }
    w->app = a;
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->last, sizeof w->last, "0-0");
    keys_output(w->out_key, a->cfg.prefix, id);
    keys_watch(w->watch_key, a->cfg.prefix, id);
    keys_result(w->result_key, a->cfg.prefix, id);
    if (!(w->r = aredis_open(a->base, &a->rurl, lost, w))) {
        event_free(w->refresh);
        free(w);
        reply_error(call->req, 503, NULL, NULL, NULL, "Redis is unavailable");
        return;
    }
    if (!(w->st = sse_open(a->sse, call->req, watch_gone, w))) {
        aredis_close(w->r);
        event_free(w->refresh);
        free(w);
        return;
    }
    struct timeval every = {OUTPUT_REFRESH_S, 0};
    event_add(w->refresh, &every);
    announce(w);
    /* a job that ended before the watch was seen has its result already */
    redisAsyncCommand(aredis_ctx(w->r), on_result, NULL, "GET %s", w->result_key);
}

int output_routes(struct app *a)
{
    return http_server_route(a->server, HTTP_GET, "/api/analytics/jobs/*/output", watch, a);
}
