/*
 * redis_url: the Redis URL format of the contract and connecting from it.
 */
#include "redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "parse.h"

static int fail(char err[128], const char *why)
{
    snprintf(err, 128, "%s", why);
    return -1;
}

int redis_url_parse(const char *s, struct redis_url *out, char err[128])
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(s, "unix://", 7) == 0) {
        const char *p = s + 7;
        if (*p != '/')
            return fail(err, "unix:// needs an absolute socket path");
        if (strlen(p) >= sizeof out->path)
            return fail(err, "socket path too long");
        out->is_unix = 1;
        strcpy(out->path, p);
        return 0;
    }
    if (strncmp(s, "redis://", 8) != 0)
        return fail(err, "expected redis://[:password@]host[:port][/db] or unix:///path");
    const char *p = s + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = p;
        if (*colon != ':')
            return fail(err, "credentials must be :password@ (no user names)");
        size_t n = (size_t)(at - colon - 1);
        if (n >= sizeof out->password)
            return fail(err, "password too long");
        memcpy(out->password, colon + 1, n);
        out->password[n] = '\0';
        p = at + 1;
    }
    size_t hostlen;
    const char *rest;
    if (*p == '[') { /* IPv6 literal */
        const char *close = strchr(p, ']');
        if (!close)
            return fail(err, "unterminated [ in host");
        p++;
        hostlen = (size_t)(close - p);
        rest = close + 1;
    } else {
        hostlen = strcspn(p, ":/");
        rest = p + hostlen;
    }
    if (hostlen == 0)
        return fail(err, "missing host");
    if (hostlen >= sizeof out->host)
        return fail(err, "host name too long");
    memcpy(out->host, p, hostlen);
    out->host[hostlen] = '\0';
    char num[32];
    int64_t v;
    if (*rest == ':') {
        size_t n = strcspn(rest + 1, "/");
        if (n == 0 || n >= sizeof num)
            return fail(err, "bad port");
        memcpy(num, rest + 1, n);
        num[n] = '\0';
        if (parse_int_range(num, 1, 65535, &v) < 0)
            return fail(err, "port must be 1-65535");
        out->port = (int)v;
        rest += 1 + n;
    }
    if (*rest == '/') {
        rest++;
        if (*rest) {
            if (parse_int_range(rest, 0, 100000, &v) < 0)
                return fail(err, "database must be a number");
            out->db = (int)v;
        }
    } else if (*rest) {
        return fail(err, "unexpected text after host");
    }
    return 0;
}

/* Runs one blocking command and checks for an error reply. */
static int sync_ok(redisContext *c, char err[128], const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    if (!r) {
        snprintf(err, 128, "%s", c->errstr);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, 128, "%s", r->str);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

redisContext *redis_url_connect(const struct redis_url *u,
                                const struct timeval *timeout, char err[128])
{
    redisContext *c = u->is_unix ? redisConnectUnixWithTimeout(u->path, *timeout)
                                 : redisConnectWithTimeout(u->host, u->port, *timeout);
    if (!c) {
        snprintf(err, 128, "out of memory");
        return NULL;
    }
    if (c->err) {
        snprintf(err, 128, "%s", c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, *timeout);
    char db[16];
    snprintf(db, sizeof db, "%d", u->db);
    if ((u->password[0] && sync_ok(c, err, "AUTH %s", u->password) < 0) ||
        (u->db && sync_ok(c, err, "SELECT %s", db) < 0)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

redisAsyncContext *redis_url_connect_async(const struct redis_url *u, char err[128])
{
    redisAsyncContext *ac = u->is_unix ? redisAsyncConnectUnix(u->path)
                                       : redisAsyncConnect(u->host, u->port);
    if (!ac) {
        snprintf(err, 128, "out of memory");
        return NULL;
    }
    if (ac->err) {
        snprintf(err, 128, "%s", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    /* Replies to these are checked by nobody: a wrong password or database
     * shows up as an error on the first real command, which is logged. */
    if (u->password[0])
        redisAsyncCommand(ac, NULL, NULL, "AUTH %s", u->password);
    if (u->db)
        redisAsyncCommand(ac, NULL, NULL, "SELECT %d", u->db);
    return ac;
}
