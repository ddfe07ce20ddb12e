/*
 * rconn: one async Redis connection that comes back by itself. When the
 * link fails, pending commands get a NULL reply (their callers retry or
 * forget, see job.c), and the connection is retried with capped backoff
 * (100 ms doubling to 2 s); an outage is logged once, not per attempt.
 */
#ifndef ARUN_RCONN_H
#define ARUN_RCONN_H

#include <hiredis/async.h>

#define RCONN_BACKOFF_MAX_MS 2000 /* the longest wait between two tries */

struct event_base;
struct redis_url;

struct rconn;

/* Called when the connection is up (again). */
typedef void rconn_up_fn(struct rconn *c, void *arg);

/* Creates the connection and starts connecting. name is for logs ("take",
 * "cmd"). url must outlive the connection. Returns NULL when out of memory. */
struct rconn *rconn_new(struct event_base *base, const struct redis_url *url, const char *name,
                        rconn_up_fn *on_up, void *arg);

/* Disconnects (pending callbacks get NULL) and frees. NULL is allowed. */
void rconn_free(struct rconn *c);

/* Returns 1 while connected, else 0. */
int rconn_up(const struct rconn *c);

/* Sends a command. Returns 0, or -1 when not connected (fn is then never
 * called). fn may be NULL. */
int rconn_command(struct rconn *c, redisCallbackFn *fn, void *priv, const char *fmt, ...);
/* The same with arguments: argvlen[i] bytes each, or C strings when
 * argvlen is NULL. */
int rconn_command_argv(struct rconn *c, redisCallbackFn *fn, void *priv, int argc,
                       const char **argv, const size_t *argvlen);
/* Sends a command already in the protocol's form (cmd, len bytes). */
int rconn_command_formatted(struct rconn *c, redisCallbackFn *fn, void *priv, const char *cmd,
                            size_t len);

#endif
