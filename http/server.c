/*
 * server: evhttp with arun's limits, auth and route table (see server.h).
 *
 * Counting connections: libevent 2.1's evhttp has no connection limit and
 * no hook on accept, but it asks us for each new connection's bufferevent
 * (evhttp_set_bevcb). We count there, and on the next loop turn, once
 * evhttp has wired the bufferevent to its connection, read the connection
 * back from the bufferevent's callback argument and hang our close
 * callback on it. At the limit the listener is paused: new connections wait
 * in the kernel's accept queue until one closes.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "log.h"
#include "reply.h"

struct route {
    int methods;
    char *pattern;
    http_handler handler;
    void *arg;
};

struct conn {
    struct http_server *s;
    struct bufferevent *bev;          /* ours until adopted */
    struct evhttp_connection *evcon;  /* NULL until adopted */
    struct evbuffer_cb_entry *rewrite;
    int rewriting;
    void (*on_close)(void *);
    void *on_close_arg;
    struct conn *prev, *next;
};

struct http_server {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener;
    char *token;                      /* NULL: no auth */
    int port;
    struct http_server_limits lim;
    int nconns, paused, closing;
    struct conn *conns;
    struct route routes[HTTP_MAX_ROUTES];
    size_t nroutes;
};

/* ---- limits and connection accounting ------------------------------------ */

static void listener_update(struct http_server *s)
{
    if (s->closing)
        return;
    int full = s->nconns >= s->lim.max_connections;
    if (full && !s->paused) {
        evconnlistener_disable(s->listener);
        s->paused = 1;
        log_warn("%d connections open: not accepting more until one closes", s->nconns);
    } else if (!full && s->paused) {
        evconnlistener_enable(s->listener);
        s->paused = 0;
    }
}

static void conn_gone(struct conn *c)
{
    struct http_server *s = c->s;
    if (c->on_close)
        c->on_close(c->on_close_arg);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c);
    listener_update(s);
}

static void on_evcon_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    if (bev && c->rewrite)
        evbuffer_remove_cb_entry(bufferevent_get_output(bev), c->rewrite);
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    conn_gone(c);
}

/* Runs on the loop turn after the connection was created. */
static void adopt(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    struct bufferevent *bev = c->bev;
    bufferevent_data_cb readcb = NULL;
    void *cbarg = NULL;
    bufferevent_getcb(bev, &readcb, NULL, NULL, &cbarg);
    c->bev = NULL;
    if (!readcb) { /* evhttp already freed it (bufferevent_free clears them) */
        evbuffer_remove_cb_entry(bufferevent_get_output(bev), c->rewrite);
        conn_gone(c);
    } else {
        c->evcon = cbarg;
        evhttp_connection_set_closecb(c->evcon, on_evcon_close, c);
    }
    bufferevent_decref(bev); /* our hold; evhttp keeps its own */
}

static const char html_tail[] = "</BODY></HTML>\n";

/* evhttp answers some bad requests itself (malformed request line or
 * headers: 400; headers over HTTP_MAX_HEADERS or a body over HTTP_MAX_BODY:
 * 413) with a small HTML page. When such a page has just been queued on a
 * connection's output, it is replaced by the contract's JSON error. Our own
 * handlers never send that markup, so nothing else can match. */
static void rewrite_errors(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    size_t len = evbuffer_get_length(buf), tl = sizeof html_tail - 1;
    if (c->rewriting || info->n_added == 0 || len < tl + 16)
        return;
    char tail[sizeof html_tail];
    struct evbuffer_ptr at;
    evbuffer_ptr_set(buf, &at, len - tl, EVBUFFER_PTR_SET);
    if (evbuffer_copyout_from(buf, &at, tail, tl) != (ev_ssize_t)tl || memcmp(tail, html_tail, tl))
        return;
    /* the response starts at the last status line in the buffer */
    struct evbuffer_ptr p = evbuffer_search(buf, "HTTP/1.", 7, NULL), start = p;
    while (p.pos >= 0) {
        start = p;
        evbuffer_ptr_set(buf, &p, 1, EVBUFFER_PTR_ADD);
        p = evbuffer_search(buf, "HTTP/1.", 7, &p);
    }
    if (start.pos < 0)
        return;
    char line[16] = "";
    evbuffer_copyout_from(buf, &start, line, sizeof line - 1);
    int status = atoi(line + 9);
    const char *msg = status == 413 ? "the request is too large (a body over 1 MiB, or headers "
                                      "over 16 KiB)"
                                    : "malformed HTTP request (or headers over 16 KiB)";
    char *raw = reply_error_raw(status >= 400 && status < 600 ? status : 400, msg);
    if (!raw)
        return;
    c->rewriting = 1;
    struct evbuffer *keep = evbuffer_new();
    if (keep) {
        evbuffer_remove_buffer(buf, keep, (size_t)start.pos);
        evbuffer_drain(buf, evbuffer_get_length(buf));
        evbuffer_add_buffer(buf, keep);
        evbuffer_add(buf, raw, strlen(raw));
        evbuffer_free(keep);
    }
    c->rewriting = 0;
    free(raw);
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct http_server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct conn *c = bev ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return bev; /* uncounted, but served */
    c->s = s;
    c->bev = bev;
    c->rewrite = evbuffer_add_cb(bufferevent_get_output(bev), rewrite_errors, c);
    bufferevent_incref(bev);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    listener_update(s);
    struct timeval now = {0, 0};
    if (event_base_once(base, -1, EV_TIMEOUT, adopt, c, &now) < 0)
        log_error("cannot schedule a new connection's setup");
    return bev;
}

/* ---- auth ---------------------------------------------------------------- */

int http_server_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
    return diff == 0;
}

static int needs_token(const char *path)
{
    return !strncmp(path, "/api", 4) && (path[4] == '\0' || path[4] == '/') ? 1
           : !strncmp(path, "/mcp", 4) && (path[4] == '\0' || path[4] == '/');
}

static int authorised(const struct http_server *s, struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return http_server_token_equal(h, s->token);
}

/* ---- routing ------------------------------------------------------------- */

static int method_bit(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
        return HTTP_GET;
    case EVHTTP_REQ_POST:
        return HTTP_POST;
    case EVHTTP_REQ_DELETE:
        return HTTP_DELETE;
    case EVHTTP_REQ_OPTIONS:
        return HTTP_OPTIONS;
    default:
        return 1 << 7;
    }
}

/* Matches path against pattern; on a match fills the call's params
 * (pointing into buf, a writable copy of the path) and returns 1. */
static int match(const char *pattern, char *buf, struct http_call *call)
{
    call->nparams = 0;
    const char *p = pattern;
    char *q = buf;
    while (*p) {
        if (!strcmp(p, "/**"))
            return *q == '\0' || *q == '/';
        if (*p != '/' || *q != '/')
            return 0;
        p++, q++;
        const char *pe = strchrnul(p, '/');
        char *qe = strchrnul(q, '/');
        if (pe - p == 1 && *p == '*') {
            if (qe == q || call->nparams == HTTP_MAX_PARAMS)
                return 0;
            call->params[call->nparams++] = q;
        } else if (pe - p != qe - q || strncmp(p, q, (size_t)(pe - p)) != 0) {
            return 0;
        }
        p = pe;
        q = qe;
    }
    return *q == '\0';
}

/* Sets Allow and writes the same list into allow. */
static void allow_header(struct evhttp_request *req, int methods, char allow[64])
{
    static const struct { int bit; const char *name; } names[] = {
        {HTTP_GET, "GET, HEAD"}, {HTTP_POST, "POST"}, {HTTP_DELETE, "DELETE"},
        {HTTP_OPTIONS, "OPTIONS"}};
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit)
            snprintf(allow + strlen(allow), 64 - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", names[i].name);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
}

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    if (strlen(uri) > HTTP_MAX_URL) {
        reply_error(req, 414, NULL, NULL, NULL, "the URL is longer than %d bytes", HTTP_MAX_URL);
        return;
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *raw = u ? evhttp_uri_get_path(u) : NULL;
    size_t len = 0;
    char *path = raw ? evhttp_uridecode(raw, 0, &len) : NULL;
    if (!path || strlen(path) != len || path[0] != '/') {
        free(path);
        reply_error(req, 400, NULL, NULL, NULL, "the request's path is not valid");
        return;
    }
    struct http_call call = {.req = req, .server = s, .path = path,
                             .method = method_bit(evhttp_request_get_command(req))};
    if (s->token && needs_token(path) && !authorised(s, req)) {
        free(path);
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"arun\"");
        reply_error(req, 401, NULL, NULL, NULL, "this route needs Authorization: Bearer TOKEN");
        return;
    }
    char *buf = strdup(path);
    const struct route *hit = NULL;
    int methods = 0;
    for (size_t i = 0; buf && i < s->nroutes; i++) {
        strcpy(buf, path);
        if (!match(s->routes[i].pattern, buf, &call))
            continue;
        methods |= s->routes[i].methods;
        if (s->routes[i].methods & call.method) {
            hit = &s->routes[i];
            break;
        }
    }
    if (hit) {
        /* params point into buf: end each at its '/' */
        for (size_t i = 0; i < call.nparams; i++)
            *strchrnul((char *)call.params[i], '/') = '\0';
        hit->handler(&call, hit->arg);
    } else if (methods) {
        char allow[64];
        allow_header(req, methods, allow);
        reply_error(req, 405, NULL, NULL, NULL, "%s answers only %s", path, allow);
    } else {
        reply_error(req, 404, NULL, NULL, NULL, "no such route: %s", path);
    }
    free(buf);
    free(path);
}

int http_server_route(struct http_server *s, int methods, const char *pattern,
                      http_handler handler, void *arg)
{
    if (s->nroutes == HTTP_MAX_ROUTES)
        return -1;
    char *p = strdup(pattern);
    if (!p)
        return -1;
    s->routes[s->nroutes++] = (struct route){methods, p, handler, arg};
    return 0;
}

/* ---- life ---------------------------------------------------------------- */

int http_server_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!strcmp(host, "localhost"))
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

/* Splits "HOST:PORT" or "[V6]:PORT". Returns 0 or -1. */
static int split_listen(const char *listen, char host[256], int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return -1;
    size_t hl = (size_t)(colon - listen);
    if (listen[0] == '[') {
        if (hl < 3 || listen[hl - 1] != ']')
            return -1;
        listen++;
        hl -= 2;
    }
    if (hl >= 256)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

struct http_server *http_server_new(struct event_base *base, const char *listen,
                                    const char *token, const struct http_server_limits *lim,
                                    char err[256])
{
    char host[256];
    int port;
    if (split_listen(listen, host, &port) < 0) {
        snprintf(err, 256, "listen address '%.200s' is not HOST:PORT", listen);
        return NULL;
    }
    int with_token = token && token[0];
    if (!with_token && !http_server_is_loopback(host)) {
        snprintf(err, 256, "refusing to listen on %.64s without a token: set ARUN_HTTP_TOKEN "
                 "(--token) or listen on a loopback address", host);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s || !(s->http = evhttp_new(base)) || (with_token && !(s->token = strdup(token)))) {
        snprintf(err, 256, "out of memory");
        http_server_free(s);
        return NULL;
    }
    s->base = base;
    s->lim = *lim;
    evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(s->http, HTTP_MAX_BODY);
    evhttp_set_timeout(s->http, lim->timeout_s);
    /* on 413, read the rest of the body before closing, so the client
     * gets the answer instead of a reset in the middle of its upload */
    evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                               EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(s->http, "application/json; charset=utf-8");
    evhttp_set_bevcb(s->http, make_bev, s);
    evhttp_set_gencb(s->http, dispatch, s);
    struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(
        s->http, !strcmp(host, "localhost") ? "127.0.0.1" : host, (ev_uint16_t)port);
    if (!h) {
        snprintf(err, 256, "cannot listen on %.200s: %s", listen, strerror(errno));
        http_server_free(s);
        return NULL;
    }
    s->listener = evhttp_bound_socket_get_listener(h);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&ss, &sl) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return s;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    s->closing = 1;
    if (s->http)
        evhttp_free(s->http); /* closes connections: their close callbacks run */
    while (s->conns) {        /* created but never adopted */
        struct conn *c = s->conns;
        s->conns = c->next;
        free(c);
    }
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].pattern);
    free(s->token);
    free(s);
}

int http_server_port(const struct http_server *s) { return s->port; }

int http_server_connections(const struct http_server *s) { return s->nconns; }

int http_server_on_close(struct http_server *s, struct evhttp_request *req,
                         void (*fn)(void *arg), void *arg)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    for (struct conn *c = s->conns; c; c = c->next) {
        if (c->evcon == evcon) {
            c->on_close = fn;
            c->on_close_arg = arg;
            return 0;
        }
    }
    return -1;
}
