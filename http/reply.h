/*
 * reply: the answers arun-http sends. Every body is JSON
 * (application/json; charset=utf-8) and every error has the contract's
 * shape {"error": {"code", "message", "field"?}}, with the code that goes
 * with its HTTP status.
 */
#ifndef ARUN_HTTP_REPLY_H
#define ARUN_HTTP_REPLY_H

#include <stddef.h>

#include <jansson.h>

struct evhttp_request;

/* The contract's error code of an HTTP status ("bad_request" for 400, ...),
 * "error" for a status it does not name. */
const char *reply_code_of(int status);

/* Sends body as JSON with status. Takes the reference to body (NULL sends
 * a 500). */
void reply_json(struct evhttp_request *req, int status, json_t *body);

/* Sends an error with the code of status (or code when not NULL), the
 * message, and field when not NULL. extra (may be NULL, reference taken)
 * is merged into the error object, e.g. {"status": "success"} on 409. */
void reply_error(struct evhttp_request *req, int status, const char *code,
                 const char *field, json_t *extra, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The error response as raw bytes (status line to body), for the few
 * answers written below evhttp. Returns a string the caller frees. */
char *reply_error_raw(int status, const char *message);

/* Sends data[0..len) with status and content type as it is. */
void reply_bytes(struct evhttp_request *req, int status, const char *content_type,
                 const void *data, size_t len);

/* Parses the request body as a JSON object. Returns it (the caller owns
 * it), or NULL after answering 400 (not JSON, not an object). */
json_t *reply_body_object(struct evhttp_request *req);

#endif
