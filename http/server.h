/*
 * server: arun-http's HTTP front door on libevent's evhttp. It owns the
 * listening socket and every limit that protects the process (connections,
 * header and body size, URL length, a per-connection timeout), the bearer
 * token check, and a small route table: a program adds a route with one
 * call (http_server_route), so another transport (MCP at /mcp) plugs in
 * without touching this file. Errors that evhttp produces itself (bad
 * request line, body over the limit) leave here as the contract's JSON
 * error object, like every other error.
 */
#ifndef ARUN_HTTP_SERVER_H
#define ARUN_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evhttp_request;
struct evhttp_connection;
struct http_server;

#define HTTP_MAX_BODY      (1024 * 1024) /* contract: 413 over 1 MiB */
#define HTTP_MAX_HEADERS   (16 * 1024)   /* request line + headers */
#define HTTP_MAX_URL       8192          /* longer: 414 */
#define HTTP_MAX_PARAMS    4             /* '*' segments of one route */
#define HTTP_MAX_ROUTES    32

/* Methods a route answers (bits; any other method gets 405). */
enum {
    HTTP_GET = 1 << 0,
    HTTP_POST = 1 << 1,
    HTTP_DELETE = 1 << 2,
    HTTP_OPTIONS = 1 << 3,
    HTTP_ANY = 0xff,
};

/* What a handler gets: the request, its path split into the '*' segments
 * of the route's pattern (URL-decoded, NUL-terminated), and the arg given
 * at registration. The handler must answer (or start a stream) before it
 * returns or later from the loop; every path of it answers exactly once. */
struct http_call {
    struct evhttp_request *req;
    struct http_server *server;
    int method;                          /* one HTTP_* bit */
    const char *path;                    /* decoded path without the query */
    const char *params[HTTP_MAX_PARAMS]; /* '*' segments, in order */
    size_t nparams;
};
typedef void (*http_handler)(struct http_call *call, void *arg);

struct http_server_limits {
    int max_connections;   /* past it the listener pauses until one closes */
    int timeout_s;         /* read/write timeout of a connection */
};

/* Creates a server on base, listening on "HOST:PORT". token may be NULL or
 * "" (no auth: then HOST must be a loopback address). Returns the server or
 * NULL with a one-line reason in err. */
struct http_server *http_server_new(struct event_base *base, const char *listen,
                                    const char *token, const struct http_server_limits *lim,
                                    char err[256]);

/* Stops listening, closes every connection and frees the server. */
void http_server_free(struct http_server *s);

/* Adds a route: pattern is a path whose segments may be '*' (one
 * non-empty segment, handed to the handler in order), or ends in "/" "**"
 * (any rest, including none: "/mcp/" "**" is /mcp and all under it). Routes are tried in the order added; the
 * first whose pattern matches the path answers, or gets 405 when the
 * method is not in methods. Paths under /api and /mcp need the token.
 * Returns 0, or -1 when the table is full. */
int http_server_route(struct http_server *s, int methods, const char *pattern,
                      http_handler handler, void *arg);

/* The port the server listens on (useful with port 0). */
int http_server_port(const struct http_server *s);

/* Open connections right now (for /metrics and tests). */
int http_server_connections(const struct http_server *s);

/* Registers fn(arg) to run once when the connection of req closes (for
 * streams). At most one per connection; a second call replaces it.
 * Returns 0, or -1 when the connection is not known. */
int http_server_on_close(struct http_server *s, struct evhttp_request *req,
                         void (*fn)(void *arg), void *arg);

/* Returns 1 when host (a literal address or "localhost") is loopback. */
int http_server_is_loopback(const char *host);

/* Compares a and b in time that depends only on their lengths. Returns 1
 * when equal. */
int http_server_token_equal(const char *a, const char *b);

#endif
