/*
 * redis_event: hiredis on libevent with a persistent read event and
 * writes flushed at the end of the current callback (see redis_event.h).
 */
#include "redis_event.h"

#include <stdlib.h>

#include <hiredis/hiredis.h>

struct redis_event {
    redisAsyncContext *ac;
    struct event *rev, *wev;
    int in_write; /* inside the write callback: a partial write waits for EPOLLOUT */
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct redis_event *e = arg;
    redisAsyncHandleRead(e->ac);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct redis_event *e = arg;
    e->in_write = 1;
    redisAsyncHandleWrite(e->ac); /* may free e through cleanup */
}

static void add_read(void *data)
{
    struct redis_event *e = data;
    event_add(e->rev, NULL); /* a no-op while it is registered */
}

static void del_read(void *data)
{
    struct redis_event *e = data;
    event_del(e->rev);
}

static void add_write(void *data)
{
    struct redis_event *e = data;
    if (e->in_write || !(e->ac->c.flags & REDIS_CONNECTED)) {
        /* the socket took only part of the output, or the connect is in
         * progress: wait until it is writable */
        e->in_write = 0;
        event_add(e->wev, NULL);
    } else {
        /* write right after the running callback, without epoll */
        event_active(e->wev, EV_WRITE, 1);
    }
}

static void del_write(void *data)
{
    struct redis_event *e = data;
    e->in_write = 0;
    event_del(e->wev);
}

static void cleanup(void *data)
{
    struct redis_event *e = data;
    event_free(e->rev);
    event_free(e->wev);
    free(e);
}

int redis_event_attach(redisAsyncContext *ac, struct event_base *base)
{
    if (ac->ev.data)
        return REDIS_ERR;
    struct redis_event *e = calloc(1, sizeof *e);
    if (!e)
        return REDIS_ERR;
    e->ac = ac;
    e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_read, e);
    e->wev = event_new(base, ac->c.fd, EV_WRITE, on_write, e);
    if (!e->rev || !e->wev) {
        if (e->rev)
            event_free(e->rev);
        if (e->wev)
            event_free(e->wev);
        free(e);
        return REDIS_ERR;
    }
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = e;
    event_add(e->rev, NULL);
    event_add(e->wev, NULL); /* the connect's completion */
    return REDIS_OK;
}
