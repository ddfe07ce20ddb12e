/*
 * sse: event-stream replies, keep-alives and the stream bound (sse.h).
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "reply.h"
#include "server.h"

struct sse_stream {
    struct sse_hub *hub;
    struct evhttp_request *req;
    struct event *keepalive;
    void (*gone)(void *);
    void *owner;
    struct sse_stream *prev, *next;
};

struct sse_hub {
    struct event_base *base;
    struct http_server *server;
    int max, n;
    struct timeval every;
    struct sse_stream *streams;
};

struct sse_hub *sse_hub_new(struct event_base *base, struct http_server *server,
                            int max_streams, int keepalive_ms)
{
    struct sse_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = base;
    h->server = server;
    h->max = max_streams;
    h->every.tv_sec = keepalive_ms / 1000;
    h->every.tv_usec = (keepalive_ms % 1000) * 1000;
    return h;
}

static void unlink_free(struct sse_stream *st)
{
    struct sse_hub *h = st->hub;
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->n--;
    event_free(st->keepalive);
    free(st);
}

/* The client's connection closed: tell the owner, forget the stream.
 * When the connection failed (the client left), evhttp has detached the
 * unfinished request from it and leaves it to us: ending it frees it. When
 * it is still attached (drop() freed the connection), evhttp frees it. */
static void forget(struct sse_stream *st)
{
    void (*gone)(void *) = st->gone;
    void *owner = st->owner;
    unlink_free(st);
    if (gone)
        gone(owner);
}

static void on_conn_closed(void *arg)
{
    struct sse_stream *st = arg;
    if (!evhttp_request_get_connection(st->req))
        evhttp_send_reply_end(st->req);
    forget(st);
}

void sse_hub_free(struct sse_hub *h)
{
    if (!h)
        return;
    while (h->streams) {
        struct sse_stream *st = h->streams;
        http_server_on_close(h->server, st->req, NULL, NULL);
        evhttp_send_reply_end(st->req);
        forget(st);
    }
    free(h);
}

int sse_hub_count(const struct sse_hub *h) { return h->n; }

static int backlog_ok(struct sse_stream *st)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(st->req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    return !bev || evbuffer_get_length(bufferevent_get_output(bev)) <= SSE_MAX_BACKLOG;
}

/* The client is gone or hopeless: close its connection; the close
 * callback then tells the owner. */
static void drop(struct sse_stream *st)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(st->req);
    log_warn("dropping an event-stream client that does not read");
    if (evcon)
        evhttp_connection_free(evcon); /* runs on_conn_closed */
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sse_stream *st = arg;
    if (!backlog_ok(st)) {
        drop(st);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return;
    evbuffer_add(b, ": keep-alive\n\n", 14);
    evhttp_send_reply_chunk(st->req, b);
    evbuffer_free(b);
}

struct sse_stream *sse_open(struct sse_hub *h, struct evhttp_request *req,
                            void (*gone)(void *owner), void *owner)
{
    if (h->n >= h->max) {
        reply_error(req, 503, NULL, NULL, NULL, "too many open event streams (%d); try again "
                    "later", h->max);
        return NULL;
    }
    struct sse_stream *st = calloc(1, sizeof *st);
    if (!st || !(st->keepalive = event_new(h->base, -1, EV_PERSIST, on_keepalive, st)) ||
        http_server_on_close(h->server, req, on_conn_closed, st) < 0) {
        if (st)
            event_free(st->keepalive);
        free(st);
        reply_error(req, 500, NULL, NULL, NULL, "cannot open the stream");
        return NULL;
    }
    st->hub = h;
    st->req = req;
    st->gone = gone;
    st->owner = owner;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->n++;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_remove_header(out, "Content-Type");
    evhttp_add_header(out, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "X-Accel-Buffering", "no"); /* nginx: do not buffer */
    evhttp_send_reply_start(req, 200, "OK");
    /* the retry hint also makes the headers and a first chunk go out now */
    struct evbuffer *b = evbuffer_new();
    if (b) {
        evbuffer_add_printf(b, "retry: 2000\n\n");
        evhttp_send_reply_chunk(req, b);
        evbuffer_free(b);
    }
    /* a stream lives as long as the client wants; its keep-alive writes
     * make a vanished client's connection fail */
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (bev) { /* no read timeout; a write stalled for 4 intervals drops it */
        struct timeval w = {h->every.tv_sec * 4 + 1, 0};
        bufferevent_set_timeouts(bev, NULL, &w);
    }
    event_add(st->keepalive, &h->every);
    return st;
}

int sse_send(struct sse_stream *st, const char *event, const char *id, const char *data,
             size_t len)
{
    if (!backlog_ok(st)) {
        drop(st);
        return -1;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return 0;
    if (event)
        evbuffer_add_printf(b, "event: %s\n", event);
    if (id)
        evbuffer_add_printf(b, "id: %s\n", id);
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        evbuffer_add(b, "data: ", 6);
        evbuffer_add(b, p, n);
        evbuffer_add(b, "\n", 1);
        p = nl ? nl + 1 : end;
    }
    if (len == 0)
        evbuffer_add(b, "data: \n", 7);
    evbuffer_add(b, "\n", 1);
    evhttp_send_reply_chunk(st->req, b);
    evbuffer_free(b);
    return 0;
}

const char *sse_last_event_id(struct evhttp_request *req)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
}

void sse_close(struct sse_stream *st)
{
    http_server_on_close(st->hub->server, st->req, NULL, NULL);
    evhttp_send_reply_end(st->req);
    unlink_free(st);
}
