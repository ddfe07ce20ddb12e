/*
 * test_redis_url: redis_url_parse on the contract's forms
 * "redis://[:password@]host[:port][/db]" and "unix:///path": defaults,
 * password (with '@' inside), port, db, IPv6 literals, unix sockets, and
 * every refusal (each with a reason, no trailing period). redis_url_redact
 * on parsed and unparsable URLs. Connecting, blocking and async, to a fake
 * Redis (a forked loopback server): a wrong password is reported as such
 * (Redis 6's WRONGPASS and Redis 5's "ERR invalid password"), never as the
 * NOAUTH of the commands after it; a refused SELECT ends the connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>

#include "redis_url.h"

static struct redis_url u;
static char err[128];

static void ok(const char *s)
{
    err[0] = '\0';
    int rc = redis_url_parse(s, &u, err);
    if (rc != 0)
        print_error("redis_url_parse(\"%s\") refused: %s\n", s, err);
    assert_int_equal(rc, 0);
}

/* Expects a refusal whose reason contains want. */
static void bad(const char *s, const char *want)
{
    memset(err, 0, sizeof err);
    int rc = redis_url_parse(s, &u, err);
    if (rc != -1)
        print_error("redis_url_parse(\"%.60s\") accepted\n", s);
    assert_int_equal(rc, -1);
    size_t n = strlen(err);
    assert_true(n > 0);
    assert_true(err[n - 1] != '.');
    if (!strstr(err, want))
        print_error("reason \"%s\" lacks \"%s\"\n", err, want);
    assert_non_null(strstr(err, want));
}

static void test_defaults(void **state)
{
    (void)state;
    ok("redis://localhost");
    assert_int_equal(u.is_unix, 0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.password, "");
    assert_string_equal(u.path, "");

    ok("redis://127.0.0.1/");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
}

static void test_password_port_db(void **state)
{
    (void)state;
    ok("redis://:s3cret@redis.example:6380/2");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "redis.example");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);

    ok("redis://:p@ss@h");  /* the last '@' ends the password */
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "h");

    ok("redis://h:1");
    assert_int_equal(u.port, 1);
    ok("redis://h:65535/15");
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.db, 15);
    ok("redis://h/7");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 7);
}

static void test_ipv6(void **state)
{
    (void)state;
    ok("redis://[::1]");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6379);
    ok("redis://:pw@[::1]:6390/3");
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 3);
    ok("redis://[fe80::1:2]:7000");
    assert_string_equal(u.host, "fe80::1:2");
    assert_int_equal(u.port, 7000);
}

static void test_unix(void **state)
{
    (void)state;
    ok("unix:///run/redis/redis.sock");
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_string_equal(u.password, "");
    assert_int_equal(u.db, 0);
}

static void test_errors(void **state)
{
    (void)state;
    bad("", "expected redis://");
    bad("http://localhost", "expected redis://");
    bad("localhost:6379", "expected redis://");
    bad("unix://run/redis.sock", "absolute");
    bad("redis://user@h", "credentials");
    bad("redis://[::1", "unterminated");
    bad("redis://", "missing host");
    bad("redis://:6379", "missing host");
    bad("redis://[]:6379", "missing host");
    bad("redis://:pw@/1", "missing host");
    bad("redis://h:", "bad port");
    bad("redis://h:/1", "bad port");
    bad("redis://h:0", "port must be");
    bad("redis://h:65536", "port must be");
    bad("redis://h:-1", "port must be");
    bad("redis://h:abc", "port must be");
    bad("redis://h:63 79", "port must be");
    bad("redis://h/abc", "database");
    bad("redis://h/-1", "database");
    bad("redis://h/1x", "database");
    bad("redis://[::1]x", "unexpected text");

    char longs[600];
    memset(longs, 0, sizeof longs);
    strcpy(longs, "redis://:");
    memset(longs + strlen(longs), 'p', 256);
    strcat(longs, "@h");
    bad(longs, "password too long");

    memset(longs, 0, sizeof longs);
    strcpy(longs, "redis://");
    memset(longs + strlen(longs), 'h', 256);
    bad(longs, "host name too long");

    static char longpath[PATH_MAX + 32];
    strcpy(longpath, "unix:///");
    memset(longpath + 8, 'x', PATH_MAX);
    longpath[8 + PATH_MAX] = '\0';
    bad(longpath, "too long");
}

/* The format has no user names: "user:pw@" must not silently drop the
 * user (the error text itself says "no user names"). */
static void test_user_name_refused(void **state)
{
    (void)state;
    bad("redis://alice:pw@h", "credentials");
}

/* Expects redis_url_redact(url) to give want, and never the secret. */
static void redacts(const char *url, const char *want)
{
    char out[600];
    assert_ptr_equal(redis_url_redact(url, out, sizeof out), out);
    if (strcmp(out, want) != 0)
        print_error("redact(\"%s\") = \"%s\", want \"%s\"\n", url, out, want);
    assert_string_equal(out, want);
    assert_null(strstr(out, "s3cret"));
}

static void test_redact(void **state)
{
    (void)state;
    redacts("redis://:s3cret@redis.example:6380/2", "redis://:***@redis.example:6380/2");
    redacts("redis://:s3cret@h", "redis://:***@h:6379/0");
    redacts("redis://:p@s3cret@h/4", "redis://:***@h:6379/4"); /* '@' in a password */
    redacts("redis://127.0.0.1", "redis://127.0.0.1:6379/0");
    redacts("redis://:s3cret@[::1]:7000/1", "redis://:***@[::1]:7000/1");
    redacts("unix:///run/redis.sock", "unix:///run/redis.sock");
    /* what does not parse is still hidden up to its last '@' */
    redacts("redis://alice:s3cret@h", "redis://:***@h");
    redacts("redis://:s3cret@h:99999", "redis://:***@h:99999");
    redacts("redis//:s3cret@h", ":***@h");
    redacts("http://u:s3cret@h/x", "http://:***@h/x");
    redacts("no-at-sign", "no-at-sign");
    redacts("", "");
    /* cut to the buffer, never overrun */
    char small[12];
    redis_url_redact("redis://:s3cret@a-long-host-name", small, sizeof small);
    assert_string_equal(small, "redis://:**");
    redis_url_redact("x", small, 0);
}

/* A fake Redis on a loopback port: AUTH "good" is accepted, AUTH "old"
 * gets Redis 5's "ERR invalid password", any other password Redis 6's
 * WRONGPASS; SELECT 99 is out of range; any other command gets PONG once
 * authenticated, else NOAUTH, as a real server would. */
static pid_t fake_pid = -1;
static int fake_port;

/* Parses one RESP command at buf[0..len) into up to 2 arguments. Returns
 * the bytes it used, or 0 when the command is not complete yet. */
static size_t fake_parse(const char *buf, size_t len, char args[2][64])
{
    const char *p = buf, *end = buf + len;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl || *p != '*')
        return 0;
    int n = atoi(p + 1);
    p = nl + 1;
    for (int i = 0; i < n; i++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        size_t l = (size_t)atoi(p + 1);
        p = nl + 1;
        if ((size_t)(end - p) < l + 2)
            return 0;
        if (i < 2)
            snprintf(args[i], 64, "%.*s", (int)l, p);
        p += l + 2;
    }
    return (size_t)(p - buf);
}

static void fake_serve(int fd)
{
    char buf[8192];
    size_t have = 0;
    int authed = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0)
            return;
        have += (size_t)n;
        char args[2][64];
        size_t used;
        while ((used = fake_parse(buf, have, args)) > 0) {
            const char *reply = authed ? "+PONG\r\n" : "-NOAUTH Authentication required.\r\n";
            if (strcasecmp(args[0], "AUTH") == 0) {
                authed = strcmp(args[1], "good") == 0;
                reply = authed ? "+OK\r\n"
                        : strcmp(args[1], "old") == 0
                            ? "-ERR invalid password\r\n"
                            : "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
            } else if (strcasecmp(args[0], "SELECT") == 0) {
                reply = strcmp(args[1], "99") == 0 ? "-ERR DB index is out of range\r\n"
                                                   : "+OK\r\n";
            }
            if (write(fd, reply, strlen(reply)) < 0)
                return;
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
}

static int fake_start(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 8) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) < 0)
        return -1;
    fake_port = ntohs(a.sin_port);
    fake_pid = fork();
    if (fake_pid < 0)
        return -1;
    if (fake_pid == 0) {
        for (;;) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0) {
                fake_serve(fd);
                close(fd);
            }
        }
    }
    close(ls);
    return 0;
}

static int fake_stop(void **state)
{
    (void)state;
    if (fake_pid > 0) {
        kill(fake_pid, SIGKILL);
        waitpid(fake_pid, NULL, 0);
    }
    return 0;
}

static void fake_url(const char *password, int db)
{
    char s[128];
    snprintf(s, sizeof s, "redis://:%s@127.0.0.1:%d/%d", password, fake_port, db);
    ok(s);
}

/* Expects redis_url_connect to refuse with a reason containing want. */
static void sync_refused(const char *password, int db, const char *want)
{
    struct timeval tv = {5, 0};
    fake_url(password, db);
    err[0] = '\0';
    assert_null(redis_url_connect(&u, &tv, err));
    if (!strstr(err, want))
        print_error("err \"%s\" lacks \"%s\"\n", err, want);
    assert_non_null(strstr(err, want));
    assert_null(strstr(err, password));
}

static void test_connect_sync(void **state)
{
    (void)state;
    sync_refused("s3cret", 0, "wrong password (Redis said: WRONGPASS invalid");
    sync_refused("old", 0, "wrong password (Redis said: ERR invalid password)");
    sync_refused("good", 99, "SELECT refused: ERR DB index is out of range");
    struct timeval tv = {5, 0};
    fake_url("good", 1);
    redisContext *c = redis_url_connect(&u, &tv, err);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "PING");
    assert_non_null(r);
    assert_string_equal(r->str, "PONG");
    freeReplyObject(r);
    redisFree(c);
}

/* What the async connection saw: the reply to a PING sent from the
 * connect callback (as the worker sends its first commands), and how it
 * ended. */
static struct {
    int ping_called, ping_null, ping_error, disconnected, status;
    char ping[64], errstr[128];
} seen;

static void on_ping(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)privdata;
    redisReply *r = reply;
    seen.ping_called = 1;
    seen.ping_null = r == NULL;
    if (r) {
        seen.ping_error = r->type == REDIS_REPLY_ERROR;
        snprintf(seen.ping, sizeof seen.ping, "%s", r->str ? r->str : "");
        redisAsyncDisconnect(ac);
    }
}

static void on_connected(const redisAsyncContext *ac, int status)
{
    if (status == REDIS_OK)
        redisAsyncCommand((redisAsyncContext *)ac, on_ping, NULL, "PING");
}

static void on_disconnected(const redisAsyncContext *ac, int status)
{
    seen.disconnected = 1;
    seen.status = status;
    snprintf(seen.errstr, sizeof seen.errstr, "%s", ac->errstr);
    event_base_loopbreak(ac->data); /* else the bound's timer keeps the loop */
}

/* Runs one async connection to the fake server until it ends. */
static void run_async(const char *password, int db)
{
    memset(&seen, 0, sizeof seen);
    fake_url(password, db);
    struct event_base *base = event_base_new();
    assert_non_null(base);
    redisAsyncContext *ac = redis_url_connect_async(&u, err);
    assert_non_null(ac);
    ac->data = base;
    assert_int_equal(redisLibeventAttach(ac, base), REDIS_OK);
    redisAsyncSetConnectCallback(ac, on_connected);
    redisAsyncSetDisconnectCallback(ac, on_disconnected);
    struct timeval bound = {10, 0};
    event_base_loopexit(base, &bound);
    event_base_dispatch(base);
    event_base_free(base);
    assert_true(seen.disconnected);
    assert_true(seen.ping_called);
}

static void test_connect_async(void **state)
{
    (void)state;
    /* a wrong password ends the connection saying so; the PING sent
     * meanwhile gets no NOAUTH, only the NULL of a lost connection */
    run_async("s3cret", 0);
    assert_int_equal(seen.status, REDIS_ERR);
    assert_non_null(strstr(seen.errstr, "wrong password (Redis said: WRONGPASS"));
    assert_null(strstr(seen.errstr, "s3cret"));
    assert_true(seen.ping_null);

    run_async("old", 0);
    assert_int_equal(seen.status, REDIS_ERR);
    assert_non_null(strstr(seen.errstr, "wrong password (Redis said: ERR invalid password)"));
    assert_true(seen.ping_null);

    run_async("good", 99);
    assert_int_equal(seen.status, REDIS_ERR);
    assert_non_null(strstr(seen.errstr, "SELECT refused: ERR DB index is out of range"));
    assert_true(seen.ping_null);

    run_async("good", 2);
    assert_int_equal(seen.status, REDIS_OK);
    assert_false(seen.ping_null);
    assert_false(seen.ping_error);
    assert_string_equal(seen.ping, "PONG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_password_port_db),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_user_name_refused),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_connect_sync),
        cmocka_unit_test(test_connect_async),
    };
    return cmocka_run_group_tests(tests, fake_start, fake_stop);
}
