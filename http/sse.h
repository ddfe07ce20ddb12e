/*
 * sse: Server-Sent Events streams over evhttp's chunked replies. A hub
 * bounds how many streams are open at once (past it: 503 unavailable),
 * sends a keep-alive comment on each stream every interval (so a client
 * that went away is noticed by the failing write), and drops a client that
 * stops reading once SSE_MAX_BACKLOG bytes are waiting for it.
 *
 * Ownership: a stream belongs to the hub. Its owner (the events feed, an
 * output watcher) ends it with sse_close(); when the client goes first, the
 * hub calls the owner's gone(owner) once and frees the stream: the owner
 * must not touch it after that.
 */
#ifndef ARUN_HTTP_SSE_H
#define ARUN_HTTP_SSE_H

#include <stddef.h>

struct event_base;
struct evhttp_request;
struct http_server;
struct sse_hub;
struct sse_stream;

#define SSE_MAX_BACKLOG (4 * 1024 * 1024)

/* Makes a hub for at most max_streams streams. Returns NULL when out of
 * memory. */
struct sse_hub *sse_hub_new(struct event_base *base, struct http_server *server,
                            int max_streams, int keepalive_ms);

/* Closes every stream (their owners' gone callbacks run) and frees hub. */
void sse_hub_free(struct sse_hub *hub);

/* Open streams. */
int sse_hub_count(const struct sse_hub *hub);

/* Starts the event-stream reply on req. Returns the stream, or NULL after
 * answering 503 (too many streams) or 500. gone(owner) runs if the client
 * leaves before sse_close. */
struct sse_stream *sse_open(struct sse_hub *hub, struct evhttp_request *req,
                            void (*gone)(void *owner), void *owner);

/* Sends one event: "event: NAME" (NULL: none), "id: ID" (NULL: none), and
 * data[0..len) as one "data:" line per line ('\n' separated; a final
 * newline does not start an empty line). Returns 0, or -1 when the client
 * is too far behind: the stream is then closed (gone runs). */
int sse_send(struct sse_stream *st, const char *event, const char *id, const char *data,
             size_t len);

/* The Last-Event-ID the client sent (header), or NULL. */
const char *sse_last_event_id(struct evhttp_request *req);

/* Ends the reply and frees the stream (gone does not run). */
void sse_close(struct sse_stream *st);

#endif
