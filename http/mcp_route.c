/*
 * mcp_route: Streamable HTTP for MCP (see mcp_route.h). Each POST is an
 * "exchange": the session's send callback writes into it. A response that
 * comes while the message is being handled goes back as one JSON body; a
 * message that comes later (a tool that waits), or any progress, turns
 * the reply into an event stream that ends with the response.
 *
 * Lifetimes. An exchange lives until its response is sent, or until its
 * client leaves (the stream hub's gone callback): then the calls it
 * carried are aborted (their answers have nowhere to go; the jobs go on)
 * from a zero-delay timer, never from inside the session's own send.
 */
#include "mcp_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "app.h"
#include "log.h"
#include "mcp.h"
#include "mcp_tools.h"
#include "server.h"
#include "sse.h"

#define SESSION_ID_LEN 32

struct route_session;

struct exchange {
    struct route_session *rs;
    struct exchange *next;       /* the session's open exchanges */
    struct evhttp_request *req;
    struct sse_stream *st;       /* NULL until the reply becomes a stream */
    char *response;              /* a response that came during input */
    struct event *later;         /* after the client left: abort its calls */
    int in_input, done, gone;
    int streamed;                /* the reply is (or was) a stream */
};

struct route_session {
    struct mcp_route *r;
    struct route_session *next;
    char id[SESSION_ID_LEN + 1];
    struct mcp_session *s;
    struct exchange *open;
    struct sse_stream *get;      /* the GET stream, if one is open */
    time_t used;
};

struct mcp_route {
    struct http_server *server;
    struct sse_hub *hub;
    struct event_base *base;
    struct mcp_server *srv;
    struct mcp_tools *tools;     /* owned when mcp_routes made them */
    struct mcp_server *own_srv;
    int any_host;                /* a token guards the server: any Host */
    struct route_session *sessions;
    size_t nsessions;
};

/* ---- answers that are not from the session ------------------------------ */

static void reply_rpc_error(struct evhttp_request *req, int status, int code, const char *msg)
{
    json_t *body = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error",
                             "code", code, "message", msg);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct evbuffer *b = evbuffer_new();
    if (b && text)
        evbuffer_add(b, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=utf-8");
    evhttp_send_reply(req, status, status == 202 ? "Accepted" : "Error", b);
    if (b)
        evbuffer_free(b);
    free(text);
}

static void reply_body(struct evhttp_request *req, int status, const char *json)
{
    struct evbuffer *b = evbuffer_new();
    if (b && json) {
        evbuffer_add(b, json, strlen(json));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json; charset=utf-8");
    }
    evhttp_send_reply(req, status, status == 202 ? "Accepted" : "OK", b);
    if (b)
        evbuffer_free(b);
}

/* ---- exchanges -------------------------------------------------------------- */

static void exchange_unlink_free(struct exchange *ex)
{
    for (struct exchange **p = &ex->rs->open; *p; p = &(*p)->next) {
        if (*p == ex) {
            *p = ex->next;
            break;
        }
    }
    if (ex->later)
        event_free(ex->later);
    free(ex->response);
    free(ex);
}

static void abort_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct exchange *ex = arg;
    size_t n = mcp_session_abort_origin(ex->rs->s, ex);
    if (n)
        log_info("mcp: a client left with %zu call(s) in flight; stopped them", n);
    exchange_unlink_free(ex);
}

/* The stream's client left (the hub frees the stream). */
static void exchange_gone(void *arg)
{
    struct exchange *ex = arg;
    ex->st = NULL;
    ex->req = NULL;
    if (ex->gone)
        return;
    ex->gone = 1;
    struct timeval now = {0, 0};
    if (!(ex->later = evtimer_new(ex->rs->r->base, abort_later, ex)) ||
        evtimer_add(ex->later, &now) < 0)
        log_error("mcp: cannot schedule the end of an exchange");
}

static void send_fn(void *transport, void *origin, const char *json, int final)
{
    (void)transport;
    struct exchange *ex = origin;
    if (!ex || ex->gone || ex->done)
        return; /* nowhere to send it (an error outside any exchange, a client gone) */
    if (!ex->st && ex->in_input && final) {
        ex->response = json ? strdup(json) : NULL;
        ex->done = 1;
        return;
    }
    if (!ex->st && json) {
        if (!(ex->st = sse_open(ex->rs->r->hub, ex->req, exchange_gone, ex))) {
            exchange_gone(ex); /* sse_open answered (503); the calls stop */
            return;
        }
        ex->streamed = 1;
    }
    if (ex->st && json && sse_send(ex->st, "message", NULL, json, strlen(json)) < 0)
        return; /* the stream closed: exchange_gone ran */
    if (!final)
        return;
    ex->done = 1;
    if (ex->st) {
        sse_close(ex->st);
        ex->st = NULL;
    } else if (ex->req) {
        reply_body(ex->req, 202, NULL); /* cancelled before anything was sent */
    }
    if (!ex->in_input)
        exchange_unlink_free(ex);
}

/* ---- sessions ----------------------------------------------------------------- */

static void on_get_gone(void *arg)
{
    struct route_session *rs = arg;
    rs->get = NULL;
}

static void session_free(struct route_session *rs)
{
    struct mcp_route *r = rs->r;
    for (struct route_session **p = &r->sessions; *p; p = &(*p)->next) {
        if (*p == rs) {
            *p = rs->next;
            r->nsessions--;
            break;
        }
    }
    mcp_session_free(rs->s); /* aborts its calls: nothing more is sent */
    while (rs->open) {
        struct exchange *ex = rs->open;
        rs->open = ex->next;
        if (ex->st)
            sse_close(ex->st);
        else if (ex->req && !ex->gone && !ex->done)
            reply_rpc_error(ex->req, 404, -32000, "the session has ended");
        if (ex->later)
            event_free(ex->later); /* its calls were aborted with the session */
        free(ex->response);
        free(ex);
    }
    if (rs->get)
        sse_close(rs->get);
    free(rs);
}

/* Ends sessions idle for MCP_ROUTE_IDLE_S (those with calls in flight or
 * a stream open are in use, not idle). */
static void sweep(struct mcp_route *r, time_t now)
{
    struct route_session *rs = r->sessions;
    while (rs) {
        struct route_session *next = rs->next;
        if (!rs->open && !rs->get && now - rs->used > MCP_ROUTE_IDLE_S) {
            log_info("mcp: session %.8s... ended after %d s idle", rs->id, MCP_ROUTE_IDLE_S);
            session_free(rs);
        }
        rs = next;
    }
}

/* Makes room for one more session. Returns 0, or -1 when every session is
 * busy. */
static int make_room(struct mcp_route *r)
{
    if (r->nsessions < MCP_ROUTE_SESSIONS_MAX)
        return 0;
    struct route_session *lru = NULL;
    for (struct route_session *rs = r->sessions; rs; rs = rs->next)
        if (!rs->open && !rs->get && (!lru || rs->used < lru->used))
            lru = rs;
    if (!lru)
        return -1;
    log_info("mcp: session %.8s... ended to make room", lru->id);
    session_free(lru);
    return 0;
}

static struct route_session *session_new(struct mcp_route *r)
{
    unsigned char raw[SESSION_ID_LEN / 2];
    if (make_room(r) < 0 || getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return NULL;
    struct route_session *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(rs->id + 2 * i, 3, "%02x", raw[i]);
    rs->r = r;
    if (!(rs->s = mcp_session_new(r->srv, send_fn, rs))) {
        free(rs);
        return NULL;
    }
    rs->next = r->sessions;
    r->sessions = rs;
    r->nsessions++;
    return rs;
}

static struct route_session *session_find(struct mcp_route *r, const char *id)
{
    for (struct route_session *rs = r->sessions; id && rs; rs = rs->next)
        if (http_server_token_equal(rs->id, id))
            return rs;
    return NULL;
}

/* ---- checks every method shares ------------------------------------------------ */

/* Returns 1 when hostport ("host", "host:port", "[v6]:port") names a
 * loopback host. */
static int loopback_host(const char *hostport, size_t len)
{
    char h[256];
    size_t n;
    if (len && *hostport == '[') {
        n = strcspn(hostport + 1, "]");
        hostport++;
    } else {
        n = strcspn(hostport, ":/");
    }
    if (n == 0 || n >= sizeof h || n > len)
        return 0;
    memcpy(h, hostport, n);
    h[n] = '\0';
    return http_server_is_loopback(h);
}

/* Returns 0 to go on, or -1 after answering 403/400. DNS rebinding: a
 * page elsewhere whose name resolves to this host must not drive the
 * tools, so without a token (loopback only) the Host must be a loopback
 * name, and an Origin must be a loopback one (or, with a token, this
 * server's own Host). */
static int check_headers(struct mcp_route *r, struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *host = evhttp_find_header(in, "Host");
    const char *origin = evhttp_find_header(in, "Origin");
    const char *o = origin ? strstr(origin, "://") : NULL;
    int bad_host = !r->any_host && host && !loopback_host(host, strlen(host));
    int bad_origin = origin && (!o || !(loopback_host(o + 3, strlen(o + 3)) ||
                                        (r->any_host && host && !strcasecmp(o + 3, host))));
    if (bad_host || bad_origin) {
        log_warn("mcp: refused a request for host %.100s from origin %.100s", host ? host : "-",
                 origin ? origin : "-");
        reply_rpc_error(req, 403, -32000, "Forbidden: this Host or Origin may not use /mcp");
        return -1;
    }
    const char *version = evhttp_find_header(in, "MCP-Protocol-Version");
    if (version && !mcp_version_supported(version)) {
        reply_rpc_error(req, 400, -32000, "Bad Request: unsupported MCP-Protocol-Version");
        return -1;
    }
    return 0;
}

/* The session a request names: NULL after answering 400 (none given) or
 * 404 (unknown or ended). */
static struct route_session *session_of(struct mcp_route *r, struct evhttp_request *req)
{
    const char *id = evhttp_find_header(evhttp_request_get_input_headers(req), "Mcp-Session-Id");
    if (!id) {
        reply_rpc_error(req, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
        return NULL;
    }
    struct route_session *rs = session_find(r, id);
    if (!rs)
        reply_rpc_error(req, 404, -32001, "Session not found");
    return rs;
}

static int accepts(struct evhttp_request *req, const char *type)
{
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
    return !a || strstr(a, type) || strstr(a, "*/*");
}

/* ---- the methods -------------------------------------------------------------------- */

static int is_initialize(const char *body, size_t len)
{
    json_t *m = json_loadb(body, len, 0, NULL);
    int yes = json_is_object(m) && json_object_get(m, "id") &&
              !strcmp(json_string_value(json_object_get(m, "method")) ?: "", "initialize");
    json_decref(m);
    return yes;
}

static void post(struct mcp_route *r, struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *ctype = evhttp_find_header(in, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16)) {
        reply_rpc_error(req, 415, -32000, "Unsupported Media Type: send application/json");
        return;
    }
    if (!accepts(req, "application/json") || !accepts(req, "text/event-stream")) {
        reply_rpc_error(req, 406, -32000,
                        "Not Acceptable: accept both application/json and text/event-stream");
        return;
    }
    struct evbuffer *b = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(b);
    const char *body = (const char *)evbuffer_pullup(b, -1);
    struct route_session *rs;
    int fresh = 0;
    if (!evhttp_find_header(in, "Mcp-Session-Id") && body && is_initialize(body, len)) {
        if (!(rs = session_new(r))) {
            reply_rpc_error(req, 503, -32000, "too many MCP sessions; try again later");
            return;
        }
        fresh = 1;
    } else if (!(rs = session_of(r, req))) {
        return;
    }
    rs->used = time(NULL);
    struct exchange *ex = calloc(1, sizeof *ex);
    if (!ex) {
        reply_rpc_error(req, 500, -32603, "out of memory");
        return;
    }
    ex->rs = rs;
    ex->req = req;
    ex->next = rs->open;
    rs->open = ex;
    ex->in_input = 1;
    enum mcp_input kind = mcp_session_input(rs->s, body ? body : "", body ? len : 0, ex);
    ex->in_input = 0;
    if (fresh && mcp_session_version(rs->s)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Mcp-Session-Id", rs->id);
        log_info("mcp: session %.8s... started", rs->id);
    }
    if (ex->gone || ex->st)
        return; /* a timer frees it, or the response ends the stream */
    if (ex->streamed) {
        /* a stream was opened and ended during input: all is sent */
    } else if (!ex->done && kind == MCP_IN_REQUEST) {
        /* the tool waits: answer with a stream that its response ends */
        if ((ex->st = sse_open(r->hub, req, exchange_gone, ex)))
            ex->streamed = 1;
        else
            exchange_gone(ex); /* sse_open answered 503 */
        return;
    } else if (kind == MCP_IN_NOTIFICATION) {
        reply_body(req, 202, NULL);
    } else {
        reply_body(req, kind == MCP_IN_ERROR ? 400 : 200, ex->response);
    }
    exchange_unlink_free(ex);
    if (fresh && !mcp_session_version(rs->s))
        session_free(rs); /* initialize failed: no session */
}

static void get(struct mcp_route *r, struct evhttp_request *req)
{
    if (!accepts(req, "text/event-stream")) {
        reply_rpc_error(req, 406, -32000, "Not Acceptable: accept text/event-stream");
        return;
    }
    struct route_session *rs = session_of(r, req);
    if (!rs)
        return;
    if (rs->get) {
        reply_rpc_error(req, 409, -32000, "Conflict: this session has an open stream already");
        return;
    }
    rs->used = time(NULL);
    rs->get = sse_open(r->hub, req, on_get_gone, rs);
}

static void handle(struct http_call *call, void *arg)
{
    struct mcp_route *r = arg;
    struct evhttp_request *req = call->req;
    sweep(r, time(NULL));
    if (check_headers(r, req) < 0)
        return;
    if (call->method == HTTP_POST)
        return post(r, req);
    if (call->method == HTTP_GET)
        return get(r, req);
    struct route_session *rs = session_of(r, req); /* DELETE */
    if (!rs)
        return;
    log_info("mcp: session %.8s... ended by its client", rs->id);
    session_free(rs);
    reply_body(req, 200, NULL);
}

struct mcp_route *mcp_route_new(struct event_base *base, struct http_server *server,
                                struct sse_hub *hub, struct mcp_server *srv)
{
    struct mcp_route *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->server = server;
    r->hub = hub;
    r->srv = srv;
    r->base = base;
    if (http_server_route(server, HTTP_GET | HTTP_POST | HTTP_DELETE, "/mcp", handle, r) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

void mcp_route_free(struct mcp_route *r)
{
    if (!r)
        return;
    while (r->sessions)
        session_free(r->sessions);
    mcp_server_free(r->own_srv);
    mcp_tools_free(r->tools);
    free(r);
}

int mcp_routes(struct app *a)
{
    struct mcp_tools_config tc = {.base = a->base, .redis_url = a->cfg.redis_url,
                                  .prefix = a->cfg.prefix, .db_path = a->cfg.db,
                                  .scripts_dir = a->cfg.scripts_dir, .queue = NULL,
                                  .progress_ms = 5000, .result_ttl_s = a->cfg.result_ttl};
    char err[256];
    size_t n;
    const struct mcp_tool *table = mcp_tools_table(&n);
    struct mcp_tools *tools = mcp_tools_new(&tc, err);
    struct mcp_server *srv = tools ? mcp_server_new(table, n, tools, err) : NULL;
    struct mcp_route *r = srv ? mcp_route_new(a->base, a->server, a->sse, srv) : NULL;
    if (!r) {
        log_error("mcp: cannot serve /mcp: %s", srv ? "out of memory" : err);
        mcp_server_free(srv);
        mcp_tools_free(tools);
        return -1;
    }
    r->tools = tools;
    r->own_srv = srv;
    r->any_host = a->cfg.token && a->cfg.token[0];
    a->mcp = r;
    return 0;
}
