/*
 * http: libcurl multi on libevent (http.h). libcurl says which sockets to
 * watch and when to call it back; each socket gets one persistent libevent
 * event (stored with curl_multi_assign), and one timer carries libcurl's
 * timeout. Finished transfers are collected after every action.
 */
#include "http.h"

#include <stdlib.h>

#include <event2/event.h>

struct wh_http {
    CURLM *multi;
    struct event_base *base;
    struct event *timer;
    wh_http_done_fn *done;
    void *arg;
};

static void collect(struct wh_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(h->multi, easy);
        h->done(easy, rc, h->arg);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct wh_http *h = arg;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, fd, action, &running);
    collect(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct wh_http *h = arg;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct wh_http *h = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(h->multi, s, NULL);
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
                         EV_PERSIST);
    if (ev) {
        event_del(ev);
        event_assign(ev, h->base, s, kind, on_socket_event, h);
    } else {
        ev = event_new(h->base, s, kind, on_socket_event, h);
        if (!ev)
            return -1;
        curl_multi_assign(h->multi, s, ev);
    }
    event_add(ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct wh_http *h = userp;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

struct wh_http *wh_http_new(struct event_base *base, wh_http_done_fn *done, void *arg)
{
    struct wh_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = base;
    h->done = done;
    h->arg = arg;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, on_timer, h);
    if (!h->multi || !h->timer) {
        wh_http_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

int wh_http_start(struct wh_http *h, CURL *easy)
{
    return curl_multi_add_handle(h->multi, easy) == CURLM_OK ? 0 : -1;
}

void wh_http_cancel(struct wh_http *h, CURL *easy)
{
    curl_multi_remove_handle(h->multi, easy);
}

void wh_http_free(struct wh_http *h)
{
    if (!h)
        return;
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->timer)
        event_free(h->timer);
    free(h);
}
