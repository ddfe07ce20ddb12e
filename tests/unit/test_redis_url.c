/*
 * test_redis_url: redis_url_parse on the contract's forms
 * "redis://[:password@]host[:port][/db]" and "unix:///path": defaults,
 * password (with '@' inside), port, db, IPv6 literals, unix sockets, and
 * every refusal (each with a reason, no trailing period).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_password_port_db),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_user_name_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
