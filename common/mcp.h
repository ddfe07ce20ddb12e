/*
 * mcp: the Model Context Protocol server side, without a transport.
 * JSON-RPC 2.0 messages go in as text (one stdio line, one HTTP POST
 * body); responses and notifications come out through a send callback.
 * It does the lifecycle (initialize with version negotiation, initialized,
 * ping), tools/list and tools/call (arguments checked against each tool's
 * inputSchema), progress notifications and notifications/cancelled.
 * Tools run asynchronously: a tool may finish its call at once or later,
 * from an event callback, and may send progress meanwhile.
 *
 * Protocol revisions: 2025-11-25 (latest), 2025-06-18, 2025-03-26.
 */
#ifndef ARUN_MCP_H
#define ARUN_MCP_H

#include <stddef.h>

#include <jansson.h>

#define MCP_VERSION_LATEST "2025-11-25"

/* JSON-RPC error codes */
enum {
    MCP_PARSE_ERROR = -32700,
    MCP_INVALID_REQUEST = -32600,
    MCP_METHOD_NOT_FOUND = -32601,
    MCP_INVALID_PARAMS = -32602,
    MCP_INTERNAL_ERROR = -32603,
};

struct mcp_call;    /* one tools/call in flight */
struct mcp_server;  /* the tools, shared by every session */
struct mcp_session; /* one client's conversation */

/* A tool: called with the checked arguments (borrowed for the call only).
 * It must end the call exactly once, with mcp_call_finish, now or later
 * (unless the call is aborted first: see mcp_call_on_abort). */
typedef void (*mcp_tool_fn)(struct mcp_call *call, const json_t *args, void *ctx);

struct mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    const char *input_schema;  /* JSON text */
    const char *output_schema; /* JSON text, or NULL */
    mcp_tool_fn run;
};

/* Sends one message (NUL-terminated JSON text without a newline). origin
 * is what mcp_session_input was given with the request the message
 * belongs to (NULL for messages that belong to none). final is 1 for the
 * last message of a request: its response, or json NULL when the request
 * was cancelled and gets no response. */
typedef void (*mcp_send_fn)(void *transport, void *origin, const char *json, int final);

/* Builds a server over tools[0..n) (the array and its strings must
 * outlive the server); ctx is passed to every tool. Returns NULL with a
 * reason in err when a schema is not valid JSON or out of memory. */
struct mcp_server *mcp_server_new(const struct mcp_tool *tools, size_t n, void *ctx,
                                  char err[256]);

/* Frees the server; its sessions must have been freed first. */
void mcp_server_free(struct mcp_server *srv);

/* Starts a session that sends through send(transport, ...). Returns NULL
 * when out of memory. */
struct mcp_session *mcp_session_new(struct mcp_server *srv, mcp_send_fn send, void *transport);

/* Aborts every call in flight (their abort hooks run, nothing is sent)
 * and frees the session. NULL is allowed. */
void mcp_session_free(struct mcp_session *s);

/* Aborts the calls in flight that came in with origin (their abort hooks
 * run; nothing is sent): a transport whose client left (an HTTP stream
 * closed) calls it, since their answers have nowhere to go. Returns how
 * many were aborted. */
size_t mcp_session_abort_origin(struct mcp_session *s, void *origin);

/* What one input was. */
enum mcp_input {
    MCP_IN_REQUEST,      /* a request: its response goes out with final=1 */
    MCP_IN_NOTIFICATION, /* a notification or a response: nothing goes out */
    MCP_IN_ERROR,        /* not a valid message: an error response went out */
};

/* Handles one message text[0..len). Responses may be sent before this
 * returns (most do) or later (a tool that waits). */
enum mcp_input mcp_session_input(struct mcp_session *s, const char *text, size_t len,
                                 void *origin);

/* Sends an error response with a null id (a line too long to read, ...). */
void mcp_session_error(struct mcp_session *s, void *origin, int code, const char *message);

/* The negotiated protocol revision, or NULL before initialize. */
const char *mcp_session_version(const struct mcp_session *s);

/* Returns 1 when v is a protocol revision this server speaks. */
int mcp_version_supported(const char *v);

/* Number of calls in flight. */
size_t mcp_session_pending(const struct mcp_session *s);

/* Ends a call with a tool result: structured (stolen; an object) goes in
 * structuredContent and as a JSON text block in content; isError as told.
 * The call is freed. */
void mcp_call_finish(struct mcp_call *call, json_t *structured, int is_error);

/* Ends a call with a JSON-RPC error instead of a result. Frees the call. */
void mcp_call_fail(struct mcp_call *call, int code, const char *message);

/* Returns 1 when the client asked for progress on this call. */
int mcp_call_wants_progress(const struct mcp_call *call);

/* Sends notifications/progress when the client asked for it and progress
 * is above the last one sent (the protocol wants it to increase). total
 * <= 0 means unknown; message may be NULL. */
void mcp_call_progress(struct mcp_call *call, double progress, double total,
                       const char *message);

/* Sets the hook run when the call is aborted (the client cancelled it, or
 * the session ends) instead of finished: it must stop what the tool
 * started and must not touch the call again. */
void mcp_call_on_abort(struct mcp_call *call, void (*abort)(void *arg), void *arg);

/* The session a call belongs to (for logs). */
struct mcp_session *mcp_call_session(const struct mcp_call *call);

#endif
