/*
 * deliver: from an event to its POSTs (webhook.h). Each endpoint has a
 * FIFO of deliveries waiting for one of its `concurrency` slots, so a slow
 * or dead endpoint only ever occupies its own slots and its own retry
 * timers: the others go on. A failed attempt is retried after
 * backoff_delay_ms (Retry-After as a minimum), until the event is
 * ARUN_WEBHOOK_MAX_AGE old: then it is pushed onto P:webhook:dead. Every
 * attempt's outcome goes to the delivery log stream P:webhook:log.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "rconn.h"
#include "backoff.h"
#include "http.h"
#include "log.h"
#include "netaddr.h"
#include "webhook.h"

#define DELIVER_LOG_MAXLEN "10000"
#define DELIVER_REDIS_RETRY_MS 1000
#define DELIVER_HEADER_MAX (WH_MAX_SECRETS * WHSIG_SIG_MAX + 64)

struct wh_delivery {
    struct webhook *wh;
    struct wh_entry *entry;
    struct wh_endpoint *ep;
    int attempts;
    long last_status;          /* HTTP status of the last attempt, 0 when none */
    char last_error[WH_ERR_MAX];
    char refused[160];         /* set when the address was refused */
    int dead_pending;          /* the dead letter could not be sent yet */
    struct event *timer;       /* retry */
    CURL *easy;                /* while a transfer runs */
    struct curl_slist *headers;
    struct wh_delivery *qnext; /* the endpoint's ready FIFO */
    struct wh_delivery *prev, *next; /* wh->deliveries */
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-28T09:15:02.123Z" -> Unix ms, or -1. */
static int64_t iso_ms(const char *s)
{
    struct tm t = {0};
    int ms = 0, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &t.tm_year, &t.tm_mon, &t.tm_mday,
                     &t.tm_hour, &t.tm_min, &t.tm_sec, &ms, &n) != 7 || s[n] != '\0')
        return -1;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return (int64_t)timegm(&t) * 1000 + ms;
}

static void pump(struct wh_endpoint *ep);

static void finish(struct wh_delivery *d)
{
    struct webhook *wh = d->wh;
    struct wh_entry *e = d->entry;
    if (d->prev)
        d->prev->next = d->next;
    else
        wh->deliveries = d->next;
    if (d->next)
        d->next->prev = d->prev;
    if (d->timer)
        event_free(d->timer);
    free(d);
    if (--e->pending == 0)
        relay_ack(wh, e);
}

static void enqueue(struct wh_delivery *d)
{
    struct wh_endpoint *ep = d->ep;
    d->qnext = NULL;
    if (ep->ready_tail)
        ep->ready_tail->qnext = d;
    else
        ep->ready_head = d;
    ep->ready_tail = d;
}

/* One line in the delivery log stream, and one in the program's log. */
static void log_attempt(struct wh_delivery *d, const char *outcome)
{
    struct webhook *wh = d->wh;
    char attempt[16], status[16];
    snprintf(attempt, sizeof attempt, "%d", d->attempts);
    snprintf(status, sizeof status, "%ld", d->last_status);
    const char *err = d->last_error;
    const char *argv[] = {"XADD", wh->log_key, "MAXLEN", "~", DELIVER_LOG_MAXLEN, "*",
                          "url", d->ep->url, "event", d->entry->job_id, "entry", d->entry->sid,
                          "attempt", attempt, "status", status, "outcome", outcome,
                          "error", err, "relay", wh->consumer};
    rconn_command_argv(wh->cmd, NULL, NULL, (int)(sizeof argv / sizeof argv[0]), argv, NULL);
    int worry = strcmp(outcome, "delivered") != 0;
    log_job(worry ? LOG_WARN : LOG_INFO, d->entry->job_id, NULL,
            "webhook %s: %s (attempt %d%s%s)", d->ep->url, outcome, d->attempts,
            *err ? ", " : "", err);
}

/* Pushes the dead letter; finishes d once it is sent. */
static void dead(struct wh_delivery *d)
{
    struct webhook *wh = d->wh;
    json_t *ev = json_loadb(d->entry->event, d->entry->event_len, 0, NULL);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:o}", "id", d->entry->job_id, "url", d->ep->url,
                          "attempts", d->attempts, "last_error", d->last_error, "event",
                          ev ? ev : json_stringn(d->entry->event, d->entry->event_len));
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text || rconn_command(wh->cmd, NULL, NULL, "RPUSH %s %s", wh->dead_key, text) < 0) {
        free(text);
        d->dead_pending = 1; /* Redis is down: try again, never drop it */
        struct timeval tv = {DELIVER_REDIS_RETRY_MS / 1000, 0};
        evtimer_add(d->timer, &tv);
        return;
    }
    free(text);
    d->dead_pending = 0;
    log_attempt(d, "dead");
    finish(d);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct wh_delivery *d = arg;
    if (d->dead_pending) {
        dead(d);
        return;
    }
    if (d->ep->disabled) {
        finish(d);
        return;
    }
    enqueue(d);
    pump(d->ep);
}

/* Every delivery of ep that is not in a transfer ends now (410). */
static void disable(struct webhook *wh, struct wh_endpoint *ep)
{
    ep->disabled = 1;
    ep->ready_head = ep->ready_tail = NULL;
    for (struct wh_delivery *d = wh->deliveries, *n; d; d = n) {
        n = d->next;
        if (d->ep == ep && !d->easy && !d->dead_pending)
            finish(d);
    }
}

static void failed(struct wh_delivery *d, int64_t retry_after_ms)
{
    struct webhook *wh = d->wh;
    int64_t now = wall_ms(), deadline = d->entry->completed_ms + wh->cfg.max_age_ms;
    if (now >= deadline) {
        dead(d);
        return;
    }
    int64_t delay = backoff_delay_ms(d->attempts, wh->cfg.retry_first_ms, wh->cfg.retry_max_ms,
                                     backoff_random(), retry_after_ms);
    if (now + delay > deadline)
        delay = deadline - now; /* one last try when the event comes of age */
    log_attempt(d, "retry");
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(d->timer, &tv);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    struct wh_delivery *d = arg;
    const char *cls = netaddr_class(&a->addr);
    if (cls && !d->ep->allow_private) {
        char host[INET6_ADDRSTRLEN] = "?";
        const void *src = a->family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
        inet_ntop(a->family, src, host, sizeof host);
        snprintf(d->refused, sizeof d->refused,
                 "destination %s is a %s address (allow_private is off)", host, cls);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* Builds the request. Returns 0, or -1 with last_error set. */
static int prepare(struct wh_delivery *d)
{
    struct webhook *wh = d->wh;
    struct wh_entry *e = d->entry;
    char line[DELIVER_HEADER_MAX + 32], sig[DELIVER_HEADER_MAX];
    int64_t ts = wall_ms() / 1000;
    if (whsig_header(d->ep->keys, d->ep->nkeys, e->job_id, ts, e->event, e->event_len, sig,
                     sizeof sig) < 0) {
        snprintf(d->last_error, sizeof d->last_error, "cannot sign");
        return -1;
    }
    struct curl_slist *h = NULL, *t;
    const char *fixed[] = {"content-type: application/json", "Expect:",
                           "user-agent: arun-webhook/" ARUN_VERSION};
    for (size_t i = 0; i < 3; i++)
        h = (t = curl_slist_append(h, fixed[i])) ? t : h;
    snprintf(line, sizeof line, "webhook-id: %s", e->job_id);
    h = (t = curl_slist_append(h, line)) ? t : h;
    snprintf(line, sizeof line, "webhook-timestamp: %" PRId64, ts);
    h = (t = curl_slist_append(h, line)) ? t : h;
    if (*sig) {
        snprintf(line, sizeof line, "webhook-signature: %s", sig);
        h = (t = curl_slist_append(h, line)) ? t : h;
    }
    CURL *c = curl_easy_init();
    if (!c || !h) {
        curl_slist_free_all(h);
        if (c)
            curl_easy_cleanup(c);
        snprintf(d->last_error, sizeof d->last_error, "out of memory");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, d->ep->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, e->event); /* lives as long as the entry */
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)e->event_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)wh->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)wh->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, d);
    curl_easy_setopt(c, CURLOPT_PRIVATE, d);
    d->easy = c;
    d->headers = h;
    return 0;
}

static void release(struct wh_delivery *d)
{
    if (d->easy)
        curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->headers);
    d->easy = NULL;
    d->headers = NULL;
}

static void pump(struct wh_endpoint *ep)
{
    while (ep->active < ep->concurrency && ep->ready_head) {
        struct wh_delivery *d = ep->ready_head;
        ep->ready_head = d->qnext;
        if (!ep->ready_head)
            ep->ready_tail = NULL;
        d->refused[0] = '\0';
        if (prepare(d) < 0 || wh_http_start(d->wh->http, d->easy) < 0) {
            release(d);
            d->attempts++;
            failed(d, 0);
            continue;
        }
        ep->active++;
    }
}

void deliver_done(CURL *easy, CURLcode rc, void *arg)
{
    struct webhook *wh = arg;
    struct wh_delivery *d = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&d);
    struct wh_endpoint *ep = d->ep;
    long status = 0;
    curl_off_t retry_after = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
    release(d);
    ep->active--;
    d->attempts++;
    d->last_status = status;
    if (rc != CURLE_OK)
        snprintf(d->last_error, sizeof d->last_error, "%s", d->refused[0] ? d->refused
                                                                         : curl_easy_strerror(rc));
    else
        snprintf(d->last_error, sizeof d->last_error, "HTTP %ld", status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        d->last_error[0] = '\0';
        log_attempt(d, "delivered");
        finish(d);
    } else if (rc == CURLE_OK && status == 410) {
        log_attempt(d, "disabled");
        log_error("webhook %s answered 410 Gone: endpoint disabled until arun-webhook restarts",
                  ep->url);
        finish(d);
        disable(wh, ep);
    } else {
        failed(d, retry_after > 0 ? (int64_t)retry_after * 1000 : 0);
    }
    pump(ep);
}

static struct wh_entry *held(struct webhook *wh, const char *sid)
{
    for (struct wh_entry *e = wh->entries; e; e = e->next)
        if (strcmp(e->sid, sid) == 0)
            return e;
    return NULL;
}

void deliver_entry(struct webhook *wh, const char *sid, const char *event, size_t len,
                   int maybe_held)
{
    if (strlen(sid) >= WH_SID_MAX || (maybe_held && held(wh, sid)))
        return;
    struct wh_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->event = malloc(len + 1))) {
        free(e);
        log_error("out of memory: entry %s left for a later claim", sid);
        return;
    }
    memcpy(e->event, event, len);
    e->event[len] = '\0';
    e->event_len = len;
    snprintf(e->sid, sizeof e->sid, "%s", sid);
    e->next = wh->entries;
    if (wh->entries)
        wh->entries->prev = e;
    wh->entries = e;
    wh->nentries++;
    json_t *ev = json_loadb(event, len, 0, NULL);
    const char *id = json_string_value(json_object_get(ev, "id"));
    snprintf(e->job_id, sizeof e->job_id, "%s", id && request_id_valid(id) ? id : sid);
    e->completed_ms = iso_ms(json_string_value(json_object_get(ev, "completed_at")));
    if (e->completed_ms < 0)
        e->completed_ms = strtoll(sid, NULL, 10); /* the entry's own time */
    const char *script = json_string_value(json_object_get(ev, "script"));
    const char *status = json_string_value(json_object_get(ev, "status"));
    if (!json_is_object(ev))
        log_warn("stream entry %s: the event is not a JSON object; acknowledged, not delivered",
                 sid);
    for (size_t i = 0; json_is_object(ev) && i < wh->nendpoints; i++) {
        struct wh_endpoint *ep = &wh->endpoints[i];
        if (ep->disabled || !endpoints_match(ep, script, status))
            continue;
        struct wh_delivery *d = calloc(1, sizeof *d);
        if (!d || !(d->timer = evtimer_new(wh->base, on_retry, d))) {
            free(d);
            log_error("out of memory: entry %s not delivered to %s", sid, ep->url);
            continue;
        }
        d->wh = wh;
        d->entry = e;
        d->ep = ep;
        d->next = wh->deliveries;
        if (wh->deliveries)
            wh->deliveries->prev = d;
        wh->deliveries = d;
        e->pending++;
        enqueue(d);
    }
    json_decref(ev);
    if (e->pending == 0) {
        relay_ack(wh, e);
        return;
    }
    for (size_t i = 0; i < wh->nendpoints; i++)
        pump(&wh->endpoints[i]);
}

void deliver_stop(struct webhook *wh)
{
    while (wh->deliveries) {
        struct wh_delivery *d = wh->deliveries;
        wh->deliveries = d->next;
        if (d->easy)
            wh_http_cancel(wh->http, d->easy);
        release(d);
        if (d->timer)
            event_free(d->timer);
        free(d);
    }
    for (size_t i = 0; i < wh->nendpoints; i++)
        wh->endpoints[i].ready_head = wh->endpoints[i].ready_tail = NULL;
}
