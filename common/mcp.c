/*
 * mcp: JSON-RPC dispatch and the MCP lifecycle for one session (see
 * mcp.h). A session keeps the calls in flight in a list, so that
 * notifications/cancelled can find one by its request id and a session
 * that ends can abort the rest. Nothing here knows about stdio or HTTP.
 */
#include "mcp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_impl.h"
#include "mcp_schema.h"

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

#define MCP_INSTRUCTIONS                                                                   \
    "arun runs approved (whitelisted) analytics scripts as jobs. list_analytics_scripts " \
    "names them; run_analytics_script runs one and, by default, waits for its result "    \
    "(stdout parsed into `result` when it is JSON); get_analytics_job, "                  \
    "list_analytics_jobs and cancel_analytics_job follow jobs up."

int mcp_version_supported(const char *v)
{
    for (size_t i = 0; v && i < sizeof versions / sizeof versions[0]; i++)
        if (!strcmp(v, versions[i]))
            return 1;
    return 0;
}

struct mcp_server *mcp_server_new(const struct mcp_tool *tools, size_t n, void *ctx,
                                  char err[256])
{
    struct mcp_server *srv = calloc(1, sizeof *srv);
    json_t *arr = json_array();
    if (!srv || !arr || !(srv->input = calloc(n ? n : 1, sizeof *srv->input))) {
        snprintf(err, 256, "out of memory");
        goto fail;
    }
    srv->tools = tools;
    srv->n = n;
    srv->ctx = ctx;
    for (size_t i = 0; i < n; i++) {
        json_error_t je;
        json_t *in = json_loads(tools[i].input_schema, 0, &je);
        json_t *out = tools[i].output_schema ? json_loads(tools[i].output_schema, 0, &je) : NULL;
        if (!json_is_object(in) || (tools[i].output_schema && !json_is_object(out))) {
            snprintf(err, 256, "tool %s: schema is not a JSON object: %s", tools[i].name, je.text);
            json_decref(in);
            json_decref(out);
            goto fail;
        }
        srv->input[i] = in;
        json_t *t = json_pack("{s:s, s:s, s:s, s:O}", "name", tools[i].name, "title",
                              tools[i].title, "description", tools[i].description,
                              "inputSchema", in);
        if (out)
            json_object_set_new(t, "outputSchema", out);
        if (!t || json_array_append_new(arr, t) < 0) {
            snprintf(err, 256, "out of memory");
            goto fail;
        }
    }
    srv->list = json_pack("{s:o}", "tools", arr);
    arr = NULL;
    if (!srv->list) {
        snprintf(err, 256, "out of memory");
        goto fail;
    }
    return srv;
fail:
    json_decref(arr);
    mcp_server_free(srv);
    return NULL;
}

void mcp_server_free(struct mcp_server *srv)
{
    if (!srv)
        return;
    for (size_t i = 0; srv->input && i < srv->n; i++)
        json_decref(srv->input[i]);
    free(srv->input);
    json_decref(srv->list);
    free(srv);
}

struct mcp_session *mcp_session_new(struct mcp_server *srv, mcp_send_fn send, void *transport)
{
    struct mcp_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->srv = srv;
    s->send = send;
    s->transport = transport;
    return s;
}

static void batch_free(struct mcp_session *s, struct mcp_batch *b);

void mcp_impl_call_unlink_free(struct mcp_call *c)
{
    struct mcp_session *s = c->s;
    for (struct mcp_call **p = &s->calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            s->ncalls--;
            break;
        }
    }
    json_decref(c->id);
    json_decref(c->progress);
    free(c);
}

void mcp_session_free(struct mcp_session *s)
{
    if (!s)
        return;
    while (s->calls) {
        struct mcp_call *c = s->calls;
        if (c->abort)
            c->abort(c->abort_arg);
        mcp_impl_call_unlink_free(c);
    }
    while (s->batches)
        batch_free(s, s->batches);
    free(s);
}

static struct mcp_batch *batch_of(const struct mcp_session *s, const void *origin)
{
    for (struct mcp_batch *b = s->batches; b; b = b->next)
        if ((const void *)b == origin)
            return b;
    return NULL;
}

static void batch_free(struct mcp_session *s, struct mcp_batch *b)
{
    for (struct mcp_batch **p = &s->batches; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    json_decref(b->responses);
    free(b);
}

/* One answer of batch b is in (or will never come, when quiet): once none
 * is owed, the array goes out. */
static void batch_done(struct mcp_session *s, struct mcp_batch *b, int quiet)
{
    if (--b->pending)
        return;
    if (!quiet && json_array_size(b->responses)) {
        char *text = json_dumps(b->responses, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (text)
            s->send(s->transport, b->origin, text, 1);
        else
            log_error("mcp: out of memory sending a batch's responses");
        free(text);
    } else if (!quiet && b->owes) {
        s->send(s->transport, b->origin, NULL, 1); /* every request was cancelled */
    }
    batch_free(s, b);
}

size_t mcp_session_abort_origin(struct mcp_session *s, void *origin)
{
    size_t n = 0;
    struct mcp_call *c = s->calls;
    while (c) {
        struct mcp_call *next = c->next;
        struct mcp_batch *b = batch_of(s, c->origin);
        if (c->origin == origin || (b && b->origin == origin)) {
            if (c->abort)
                c->abort(c->abort_arg);
            mcp_impl_call_unlink_free(c);
            if (b)
                batch_done(s, b, 1);
            n++;
        }
        c = next;
    }
    return n;
}

const char *mcp_session_version(const struct mcp_session *s)
{
    return s->version[0] ? s->version : NULL;
}

size_t mcp_session_pending(const struct mcp_session *s)
{
    return s->ncalls;
}

/* Sends msg (stolen; NULL with final: a request that gets no response). */
void mcp_impl_emit(struct mcp_session *s, void *origin, json_t *msg, int final)
{
    struct mcp_batch *b = batch_of(s, origin);
    if (b && final) {
        if (msg)
            json_array_append_new(b->responses, msg);
        batch_done(s, b, 0);
        return;
    }
    if (b)
        origin = b->origin; /* progress goes out at once, outside the array */
    if (!msg) {
        s->send(s->transport, origin, NULL, final);
        return;
    }
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(msg);
    if (!text) {
        log_error("mcp: out of memory building a message");
        text = strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
                      "\"message\":\"out of memory\"}}");
        if (!text)
            return;
    }
    s->send(s->transport, origin, text, final);
    free(text);
}

void mcp_impl_error(struct mcp_session *s, void *origin, const json_t *id, int code,
                    const char *message, json_t *data)
{
    json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
    if (err && data)
        json_object_set_new(err, "data", data);
    else
        json_decref(data);
    json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                            id ? (json_t *)id : json_null(), "error", err);
    mcp_impl_emit(s, origin, msg, 1);
}

void mcp_impl_result(struct mcp_session *s, void *origin, const json_t *id, json_t *result)
{
    json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", (json_t *)id, "result",
                            result);
    mcp_impl_emit(s, origin, msg, 1);
}

void mcp_session_error(struct mcp_session *s, void *origin, int code, const char *message)
{
    mcp_impl_error(s, origin, NULL, code, message, NULL);
}

static void do_initialize(struct mcp_session *s, void *origin, const json_t *id,
                          const json_t *params)
{
    const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
    if (!asked) {
        mcp_impl_error(s, origin, id, MCP_INVALID_PARAMS, "initialize: protocolVersion is required",
                       NULL);
        return;
    }
    if (s->version[0]) {
        mcp_impl_error(s, origin, id, MCP_INVALID_REQUEST, "the session is already initialized",
                       NULL);
        return;
    }
    /* the client's revision when we speak it, else our latest: the client
     * then decides whether it can go on */
    snprintf(s->version, sizeof s->version, "%s",
             mcp_version_supported(asked) ? asked : MCP_VERSION_LATEST);
    const char *client = json_string_value(
        json_object_get(json_object_get(params, "clientInfo"), "name"));
    log_info("mcp: session initialized by %s, protocol %s (asked %.32s)",
             client ? client : "an unnamed client", s->version, asked);
    json_t *result = json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}", "protocolVersion",
                               s->version, "capabilities", "tools", "listChanged", 0,
                               "serverInfo", "name", "arun", "title", "arun analytics runner",
                               "version", ARUN_VERSION, "instructions", MCP_INSTRUCTIONS);
    mcp_impl_result(s, origin, id, result);
}

static struct mcp_call *find_call(struct mcp_session *s, const json_t *id)
{
    for (struct mcp_call *c = s->calls; c; c = c->next)
        if (json_equal(c->id, (json_t *)id))
            return c;
    return NULL;
}

static void do_call(struct mcp_session *s, void *origin, const json_t *id, const json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    if (!name) {
        mcp_impl_error(s, origin, id, MCP_INVALID_PARAMS, "tools/call: name is required", NULL);
        return;
    }
    size_t i = 0;
    while (i < s->srv->n && strcmp(s->srv->tools[i].name, name))
        i++;
    if (i == s->srv->n) {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown tool: %.100s", name);
        mcp_impl_error(s, origin, id, MCP_INVALID_PARAMS, msg, NULL);
        return;
    }
    json_t *args = json_object_get(params, "arguments");
    json_t *empty = NULL;
    if (!args || json_is_null(args))
        args = empty = json_object();
    char why[MCP_SCHEMA_ERR_MAX];
    if (mcp_schema_check(s->srv->input[i], args, why) < 0) {
        json_decref(empty);
        char msg[MCP_SCHEMA_ERR_MAX + 64];
        snprintf(msg, sizeof msg, "Invalid arguments for tool %s: %s", name, why);
        mcp_impl_error(s, origin, id, MCP_INVALID_PARAMS, msg, NULL);
        return;
    }
    struct mcp_call *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(empty);
        mcp_impl_error(s, origin, id, MCP_INTERNAL_ERROR, "out of memory", NULL);
        return;
    }
    c->s = s;
    c->id = json_incref((json_t *)id);
    json_t *tok = json_object_get(json_object_get(params, "_meta"), "progressToken");
    if (json_is_string(tok) || json_is_integer(tok))
        c->progress = json_incref(tok);
    c->last_progress = -INFINITY;
    c->origin = origin;
    c->next = s->calls;
    s->calls = c;
    s->ncalls++;
    s->srv->tools[i].run(c, args, s->srv->ctx); /* may finish c at once */
    json_decref(empty);
}

static void do_cancelled(struct mcp_session *s, const json_t *params)
{
    const json_t *rid = json_object_get(params, "requestId");
    struct mcp_call *c = rid ? find_call(s, rid) : NULL;
    if (!c)
        return; /* finished already, or never ours: the protocol says ignore */
    const char *reason = json_string_value(json_object_get(params, "reason"));
    log_info("mcp: request cancelled by the client%s%.200s", reason ? ": " : "",
             reason ? reason : "");
    if (c->abort)
        c->abort(c->abort_arg);
    void *origin = c->origin;
    mcp_impl_call_unlink_free(c);
    mcp_impl_emit(s, origin, NULL, 1); /* no response: the transport may close */
}

static void do_request(struct mcp_session *s, void *origin, const char *method,
                       const json_t *id, const json_t *params)
{
    if (!strcmp(method, "initialize"))
        return do_initialize(s, origin, id, params);
    if (!strcmp(method, "ping"))
        return mcp_impl_result(s, origin, id, json_object());
    if (!s->version[0]) {
        mcp_impl_error(s, origin, id, MCP_INVALID_REQUEST,
                       "the session is not initialized: send initialize first", NULL);
        return;
    }
    if (!strcmp(method, "tools/list"))
        return mcp_impl_result(s, origin, id, json_deep_copy(s->srv->list));
    if (!strcmp(method, "tools/call"))
        return do_call(s, origin, id, params);
    char msg[160];
    snprintf(msg, sizeof msg, "Method not found: %.100s", method);
    mcp_impl_error(s, origin, id, MCP_METHOD_NOT_FOUND, msg, NULL);
}

/* Handles one parsed message (not a batch). */
static enum mcp_input handle_one(struct mcp_session *s, const json_t *msg, void *origin)
{
    const json_t *id = json_object_get(msg, "id");
    const json_t *method = json_object_get(msg, "method");
    const json_t *params = json_object_get(msg, "params");
    if (!json_is_object(msg) ||
        strcmp(json_string_value(json_object_get(msg, "jsonrpc")) ?: "", "2.0")) {
        mcp_impl_error(s, origin, NULL, MCP_INVALID_REQUEST, "not a JSON-RPC 2.0 message", NULL);
    } else if (!method) {
        /* a response: we send no requests, so there is nothing to match */
        if (id && (json_object_get(msg, "result") || json_object_get(msg, "error")))
            return MCP_IN_NOTIFICATION;
        mcp_impl_error(s, origin, NULL, MCP_INVALID_REQUEST, "neither a request nor a response",
                       NULL);
    } else if (!json_is_string(method) ||
               (id && !json_is_string(id) && !json_is_integer(id))) {
        mcp_impl_error(s, origin, NULL, MCP_INVALID_REQUEST,
                       "method must be a string and id a string or an integer", NULL);
    } else if (params && !json_is_object(params)) {
        if (!id)
            return MCP_IN_NOTIFICATION;
        mcp_impl_error(s, origin, id, MCP_INVALID_PARAMS, "params must be an object", NULL);
    } else if (!id) {
        const char *m = json_string_value(method);
        if (!strcmp(m, "notifications/initialized"))
            s->initialized = 1;
        else if (!strcmp(m, "notifications/cancelled"))
            do_cancelled(s, params);
        return MCP_IN_NOTIFICATION; /* unknown notifications are ignored */
    } else if (find_call(s, id)) {
        mcp_impl_error(s, origin, id, MCP_INVALID_REQUEST, "a request with this id is in progress",
                       NULL);
    } else {
        do_request(s, origin, json_string_value(method), id, params);
        return MCP_IN_REQUEST;
    }
    return MCP_IN_ERROR;
}

/* A batch: each element handled with the batch as its origin. */
static enum mcp_input handle_batch(struct mcp_session *s, const json_t *msgs, void *origin)
{
    struct mcp_batch *b = calloc(1, sizeof *b);
    if (!b || !(b->responses = json_array())) {
        free(b);
        mcp_impl_error(s, origin, NULL, MCP_INTERNAL_ERROR, "out of memory", NULL);
        return MCP_IN_ERROR;
    }
    b->origin = origin;
    b->pending = 1; /* held while the elements are read */
    b->next = s->batches;
    s->batches = b;
    size_t i;
    const json_t *one;
    json_array_foreach(msgs, i, one) {
        b->pending++;
        if (handle_one(s, one, b) == MCP_IN_NOTIFICATION)
            b->pending--; /* nothing owed for it */
        else
            b->owes = 1;
    }
    int owes = b->owes;
    batch_done(s, b, 0); /* the hold: the array goes now if all answered */
    return owes ? MCP_IN_REQUEST : MCP_IN_NOTIFICATION;
}

enum mcp_input mcp_session_input(struct mcp_session *s, const char *text, size_t len,
                                 void *origin)
{
    json_error_t je;
    json_t *msg = json_loadb(text, len, 0, &je);
    if (!msg) {
        char why[200];
        snprintf(why, sizeof why, "Parse error: %s", je.text);
        mcp_impl_error(s, origin, NULL, MCP_PARSE_ERROR, why, NULL);
        return MCP_IN_ERROR;
    }
    enum mcp_input kind = MCP_IN_ERROR;
    if (!json_is_array(msg))
        kind = handle_one(s, msg, origin);
    else if (!json_array_size(msg))
        mcp_impl_error(s, origin, NULL, MCP_INVALID_REQUEST, "an empty batch", NULL);
    else if (strcmp(s->version, "2025-03-26"))
        mcp_impl_error(s, origin, NULL, MCP_INVALID_REQUEST,
                       "batches are part of protocol revision 2025-03-26 only", NULL);
    else
        kind = handle_batch(s, msg, origin);
    json_decref(msg);
    return kind;
}
