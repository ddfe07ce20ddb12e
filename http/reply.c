/*
 * reply: JSON answers and the contract's error objects.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#define REPLY_JSON_TYPE "application/json; charset=utf-8"

static const struct {
    int status;
    const char *code, *reason;
} statuses[] = {
    {200, NULL, "OK"},
    {202, NULL, "Accepted"},
    {400, "bad_request", "Bad Request"},
    {401, "unauthorized", "Unauthorized"},
    {404, "not_found", "Not Found"},
    {405, "method_not_allowed", "Method Not Allowed"},
    {409, "conflict", "Conflict"},
    {413, "too_large", "Payload Too Large"},
    {414, "too_large", "URI Too Long"},
    {500, "internal", "Internal Server Error"},
    {503, "unavailable", "Service Unavailable"},
};

const char *reply_code_of(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status && statuses[i].code)
            return statuses[i].code;
    return status >= 500 ? "internal" : "bad_request";
}

static const char *reason_of(int status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].status == status)
            return statuses[i].reason;
    return "Error";
}

void reply_bytes(struct evhttp_request *req, int status, const char *content_type,
                 const void *data, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_remove_header(h, "Content-Type");
    evhttp_add_header(h, "Content-Type", content_type);
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, data, len);
    evhttp_send_reply(req, status, reason_of(status), b);
    if (b)
        evbuffer_free(b);
}

void reply_json(struct evhttp_request *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        reply_bytes(req, 500, REPLY_JSON_TYPE, oom, sizeof oom - 1);
        return;
    }
    reply_bytes(req, status, REPLY_JSON_TYPE, text, strlen(text));
    free(text);
}

/* The error object {"error": {...}}; NULL when out of memory. */
static json_t *error_object(int status, const char *code, const char *field, json_t *extra,
                            const char *message)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code ? code : reply_code_of(status),
                          "message", message);
    if (e && field)
        json_object_set_new(e, "field", json_string(field));
    if (e && extra)
        json_object_update(e, extra);
    json_decref(extra);
    return e ? json_pack("{s:o}", "error", e) : NULL;
}

void reply_error(struct evhttp_request *req, int status, const char *code, const char *field,
                 json_t *extra, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(req, status, error_object(status, code, field, extra, msg));
}

char *reply_error_raw(int status, const char *message)
{
    json_t *e = error_object(status, NULL, NULL, NULL, message);
    char *body = e ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(e);
    if (!body)
        return NULL;
    char *out = NULL;
    if (asprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: " REPLY_JSON_TYPE "\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 status, reason_of(status), strlen(body), body) < 0)
        out = NULL;
    free(body);
    return out;
}

json_t *reply_body_object(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len > 1024 * 1024) { /* evhttp enforces the limit; this is a backstop */
        reply_error(req, 413, NULL, NULL, NULL, "the body is larger than 1 MiB");
        return NULL;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_error_t je;
    json_t *v = len ? json_loadb(data, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!v) {
        reply_error(req, 400, NULL, NULL, NULL, "the body is not JSON%s%s", len ? ": " : "",
                    len ? je.text : "");
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        reply_error(req, 400, NULL, NULL, NULL, "the body must be a JSON object");
        return NULL;
    }
    return v;
}
