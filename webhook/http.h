/*
 * http: libcurl's multi interface driven by the libevent loop
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), so that any number of
 * POSTs run at once on the relay's single thread.
 */
#ifndef ARUN_WEBHOOK_HTTP_H
#define ARUN_WEBHOOK_HTTP_H

#include <curl/curl.h>

struct event_base;
struct wh_http;

/* Called once per finished transfer, with its result; the easy handle has
 * been removed from the multi handle and is the callback's to clean up. */
typedef void wh_http_done_fn(CURL *easy, CURLcode result, void *arg);

/* Creates the multi handle on base. Returns NULL when out of memory. */
struct wh_http *wh_http_new(struct event_base *base, wh_http_done_fn *done, void *arg);

/* Starts a configured easy handle. Returns 0, or -1 (the handle stays the
 * caller's). */
int wh_http_start(struct wh_http *h, CURL *easy);

/* Removes easy from the multi handle without calling done (cancelling). */
void wh_http_cancel(struct wh_http *h, CURL *easy);

/* Frees the multi handle; transfers must have been cancelled. NULL is ok. */
void wh_http_free(struct wh_http *h);

#endif
