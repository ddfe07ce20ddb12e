/*
 * redis_url: parses ARUN_REDIS_URL, "redis://[:password@]host[:port][/db]"
 * or "unix:///path/to/redis.sock", and opens connections from it, both the
 * blocking kind (producers) and the libevent kind (the worker).
 */
#ifndef ARUN_REDIS_URL_H
#define ARUN_REDIS_URL_H

#include <limits.h>
#include <stddef.h>
#include <sys/time.h>

struct redisContext;
struct redisAsyncContext;

struct redis_url {
    int is_unix;          /* 1: path is set; 0: host and port are set */
    char host[256];
    int port;             /* 6379 when absent */
    char path[PATH_MAX];
    char password[256];   /* empty: no AUTH */
    int db;               /* 0 when absent */
};

/* Parses s into *out. Returns 0, or -1 with a reason in err (a sentence
 * without a trailing period). */
int redis_url_parse(const char *s, struct redis_url *out, char err[128]);

/* Writes url into out (at most outsz bytes, NUL included) for a message,
 * its password replaced by ***: "redis://:***@host:port/db" (port and db
 * filled in), "redis://host:port/db" without a password, "unix:///path".
 * A string that does not parse is shown with everything between its
 * "scheme://" (or its start) and its last '@' replaced by ":***". No
 * message shows a URL any other way. Returns out. */
const char *redis_url_redact(const char *url, char *out, size_t outsz);

/* A buffer size for redis_url_redact that fits any URL redis_url_parse
 * accepts. */
#define REDIS_URL_SHOWN_MAX (PATH_MAX + 16)

/* Connects with a blocking client, then AUTH and SELECT as the URL says.
 * Returns a context the caller frees with redisFree(), or NULL with the
 * reason in err: hiredis's ("Connection refused"), "wrong password
 * (Redis said: WRONGPASS ...)" or "AUTH refused: ..." / "SELECT refused:
 * ..." for another error reply. err never holds the password. */
struct redisContext *redis_url_connect(const struct redis_url *u,
                                       const struct timeval *timeout,
                                       char err[128]);

/* Starts a non-blocking connection and queues AUTH and SELECT on it (they
 * are sent first, once connected). Returns the context (owned by hiredis:
 * it is freed after its disconnect callback) or NULL with the reason in err.
 * An error reply to AUTH or SELECT closes the connection as if it were
 * lost: pending callbacks get NULL replies, and the disconnect callback
 * gets REDIS_ERR with ac->errstr saying "wrong password (Redis said: ...)"
 * or "SELECT refused: ...". (The connect callback has already run by then:
 * hiredis calls it when the socket connects, before any reply.) */
struct redisAsyncContext *redis_url_connect_async(const struct redis_url *u,
                                                  char err[128]);

#endif
