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

/* The URL's own form with the password hidden; see redis_url.h. */
static void format_parsed(const struct redis_url *u, char *out, size_t outsz)
{
    if (u->is_unix) {
        snprintf(out, outsz, "unix://%s", u->path);
        return;
    }
    /* an IPv6 literal, or anything the parser only takes in brackets */
    int v6 = strpbrk(u->host, ":/") != NULL || u->host[0] == '[';
    snprintf(out, outsz, "redis://%s%s%s%s:%d/%d", u->password[0] ? ":***@" : "",
             v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, u->db);
}

const char *redis_url_redact(const char *url, char *out, size_t outsz)
{
    struct redis_url u;
    char err[128];
    if (outsz == 0)
        return out;
    if (redis_url_parse(url, &u, err) == 0) {
        format_parsed(&u, out, outsz);
        return out;
    }
    /* not a URL we understand: hide whatever may be credentials, from
     * after the scheme (or the start) to the last '@' */
    const char *at = strrchr(url, '@');
    if (!at) {
        snprintf(out, outsz, "%s", url);
        return out;
    }
    const char *scheme = strstr(url, "://");
    int keep = scheme && scheme < at ? (int)(scheme + 3 - url) : 0;
    snprintf(out, outsz, "%.*s:***%s", keep, url, at);
    return out;
}

/* Turns an error reply to the AUTH or SELECT sent at connect into a
 * reason that says what went wrong: Redis answers a wrong password with
 * "WRONGPASS invalid username-password pair" (6 and later) or "ERR invalid
 * password" (before). */
static void setup_refused(const char *cmd, const char *reply, char err[128])
{
    if (strcmp(cmd, "AUTH") == 0 &&
        (strncmp(reply, "WRONGPASS", 9) == 0 || strstr(reply, "invalid password")))
        snprintf(err, 128, "wrong password (Redis said: %s)", reply);
    else
        snprintf(err, 128, "%s refused: %s", cmd, reply);
}

/* Runs one blocking command and checks for an error reply. */
static int sync_ok(redisContext *c, char err[128], const char *cmd, const char *arg)
{
    redisReply *r = redisCommand(c, "%s %s", cmd, arg);
    if (!r) {
        snprintf(err, 128, "%s", c->errstr);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        setup_refused(cmd, r->str, err);
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
    if ((u->password[0] && sync_ok(c, err, "AUTH", u->password) < 0) ||
        (u->db && sync_ok(c, err, "SELECT", db) < 0)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* An error reply to AUTH or SELECT ends the connection with its reason:
 * an error put in the reader makes hiredis stop reading, call every
 * pending callback with a NULL reply and the disconnect callback with
 * REDIS_ERR and this reason in ac->errstr, as for a lost connection. The
 * replies after it (NOAUTH for every command) are never read. */
static void on_setup_reply(redisAsyncContext *ac, void *reply, void *cmd)
{
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ERROR)
        return;
    char why[128];
    setup_refused(cmd, r->str, why);
    redisReader *reader = ac->c.reader;
    reader->err = REDIS_ERR_OTHER;
    snprintf(reader->errstr, sizeof reader->errstr, "%s", why);
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
    /* AUTH and SELECT go first; their replies are checked by
     * on_setup_reply, so that a wrong password is reported as such (with
     * the reply ignored, every later command failed with "NOAUTH
     * Authentication required", and a refused SELECT went on in db 0) */
    if (u->password[0])
        redisAsyncCommand(ac, on_setup_reply, (void *)"AUTH", "AUTH %s", u->password);
    if (u->db)
        redisAsyncCommand(ac, on_setup_reply, (void *)"SELECT", "SELECT %d", u->db);
    return ac;
}
