/*
 * mcp_impl: what the two halves of the MCP server share: mcp.c (sessions,
 * dispatch, lifecycle, batches) and mcp_call.c (the tool-call API that
 * tools use). Not for other modules: they use mcp.h.
 */
#ifndef ARUN_MCP_IMPL_H
#define ARUN_MCP_IMPL_H

#include "mcp.h"

struct mcp_server {
    const struct mcp_tool *tools;
    size_t n;
    json_t **input; /* parsed input schemas, one per tool */
    json_t *list;   /* the tools/list result */
    void *ctx;
};

struct mcp_call {
    struct mcp_session *s;
    struct mcp_call *next;
    json_t *id;       /* the request id */
    json_t *progress; /* the progress token, or NULL */
    double last_progress;
    void *origin;
    void (*abort)(void *arg);
    void *abort_arg;
};

/* A JSON-RPC batch (2025-03-26 only): its responses are gathered and sent
 * as one array once the last of its requests has answered. Its address is
 * the origin its requests carry inside the session. */
struct mcp_batch {
    struct mcp_batch *next;
    void *origin;       /* the transport's origin of the whole batch */
    json_t *responses;
    size_t pending;     /* answers still owed, + 1 while the batch is read */
    int owes;           /* some element was a request (or invalid) */
};

struct mcp_session {
    struct mcp_server *srv;
    mcp_send_fn send;
    void *transport;
    char version[16]; /* "" before initialize */
    int initialized;  /* notifications/initialized seen */
    struct mcp_call *calls;
    size_t ncalls;
    struct mcp_batch *batches;
};

/* Unlinks c from its session and frees it. */
void mcp_impl_call_unlink_free(struct mcp_call *c);

/* Sends msg (stolen; NULL with final: a request that gets no response)
 * to origin, or into its batch. */
void mcp_impl_emit(struct mcp_session *s, void *origin, json_t *msg, int final);

/* Sends an error response (data stolen, may be NULL; id NULL: null). */
void mcp_impl_error(struct mcp_session *s, void *origin, const json_t *id, int code,
                    const char *message, json_t *data);

/* Sends a result response (result stolen). */
void mcp_impl_result(struct mcp_session *s, void *origin, const json_t *id,
                     json_t *result);

#endif
