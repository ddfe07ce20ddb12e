/*
 * client_int: what the files of the client module (client.c,
 * client_wait.c, client_info.c, client_dead.c) share and no other program
 * sees: the client struct and the one function that runs a command.
 */
#ifndef ARUN_CLIENT_INT_H
#define ARUN_CLIENT_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "client.h"
#include "keys.h"
#include "redis_url.h"

struct client {
    struct redis_url url;
    char prefix[REQUEST_QUEUE_MAX + 1];
    char shown[PATH_MAX + 300];   /* the URL without its password */
    int64_t timeout_ms;
    int64_t result_ttl_s;
    void (*notice)(void *arg, const char *msg);
    void *notice_arg;
    redisContext *c;              /* NULL while not connected */
    char err[CLIENT_ERR_MAX];
};

/* Sets cl->err from a printf format; returns rc, for `return fail(...)`. */
int client_fail(struct client *cl, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens a new blocking connection with cl's URL and timeout. Returns it,
 * or NULL with cl->err set. */
redisContext *client_connect(struct client *cl);

/* Runs one command (argv form; lens may be NULL for C strings) on cl's
 * connection, connecting first when needed. Returns the reply (the caller
 * freeReplyObject()s it), or NULL with cl->err set when the connection
 * failed (it is then dropped, so the next call reconnects) or Redis
 * answered an error. */
redisReply *client_argv(struct client *cl, int argc, const char **argv, const size_t *lens);

/* Runs a Lua script: EVAL script nkeys keys... args... . Like client_argv. */
redisReply *client_eval(struct client *cl, const char *script, int nkeys, const char **keys,
                        int nargs, const char **args, const size_t *arglens);

/* The names of every key of a kind, the part after "P:KIND:" (SCAN MATCH
 * P:KIND:*), unsorted, without duplicates. Returns CLIENT_OK with *names
 * (free with client_names_free) and *n, or CLIENT_REDIS / CLIENT_NOMEM. */
int client_scan(struct client *cl, const char *kind, char ***names, size_t *n);

/* Frees an array of n strings; NULL is allowed. */
void client_names_free(char **names, size_t n);

/* The ids of registered workers that are alive (heartbeat key present),
 * with their heartbeat JSON: parallel arrays of n entries owned by the
 * reply in *heartbeats (MGET) and *members (SMEMBERS); entries of dead
 * workers have a NIL heartbeat. Returns CLIENT_OK or CLIENT_REDIS. */
int client_members(struct client *cl, redisReply **members, redisReply **heartbeats);

#endif
