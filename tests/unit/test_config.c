/*
 * test_config: config_parse on a small option table (a string, an int, a
 * duration and a flag): defaults, the environment over defaults, flags
 * over the environment, out-of-range and malformed values (CONFIG_ERROR
 * naming the variable or the flag), --help/-h, --version/-V, unknown
 * options, a missing value, and the stop at the first non-option with its
 * index; config_print_options lists flags, variables and defaults. The
 * other types: whole seconds with units, lists of names, choices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct settings {
    const char *name;
    int64_t count;
    int64_t wait_ms;
    int verbose;
};

static const struct config_option opts[] = {
    {"name", 'n', "ARUNT_NAME", CONFIG_STRING, offsetof(struct settings, name), "def", 0, 0,
     "NAME", "a name"},
    {"count", 'c', "ARUNT_COUNT", CONFIG_INT, offsetof(struct settings, count), "3", 1, 10, "N",
     "how many"},
    {"wait", 'w', "ARUNT_WAIT", CONFIG_DURATION, offsetof(struct settings, wait_ms), "30s", 1,
     3600000, "DURATION", "how long"},
    {"verbose", 'v', "ARUNT_VERBOSE", CONFIG_FLAG, offsetof(struct settings, verbose), NULL, 0,
     0, NULL, "say more"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static struct settings set;
static char err[256];
static int first;

static int clean_env(void **state)
{
    (void)state;
    unsetenv("ARUNT_NAME");
    unsetenv("ARUNT_COUNT");
    unsetenv("ARUNT_WAIT");
    unsetenv("ARUNT_VERBOSE");
    memset(&set, 0, sizeof set);
    memset(err, 0, sizeof err);
    first = -1;
    return 0;
}

#define PARSE(...)                                                                       \
    ({                                                                                   \
        char *argv_[] = {"prog", __VA_ARGS__, NULL};                                     \
        config_parse(opts, NOPTS, &set, (int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, \
                     &first, err);                                                       \
    })
#define PARSE0()                                                                  \
    ({                                                                            \
        char *argv_[] = {"prog", NULL};                                           \
        config_parse(opts, NOPTS, &set, 1, argv_, &first, err);                   \
    })

static void expect_error(int rc, const char *name)
{
    assert_int_equal(rc, CONFIG_ERROR);
    if (!strstr(err, name))
        print_error("error \"%s\" lacks \"%s\"\n", err, name);
    assert_non_null(strstr(err, name));
    assert_null(strchr(err, '\n'));
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(PARSE0(), CONFIG_OK);
    assert_string_equal(set.name, "def");
    assert_int_equal(set.count, 3);
    assert_int_equal(set.wait_ms, 30000);
    assert_int_equal(set.verbose, 0);
    assert_int_equal(first, 1);
}

static void test_env_overrides_default(void **state)
{
    (void)state;
    setenv("ARUNT_NAME", "from-env", 1);
    setenv("ARUNT_COUNT", "5", 1);
    setenv("ARUNT_WAIT", "5m", 1);
    setenv("ARUNT_VERBOSE", "1", 1);
    assert_int_equal(PARSE0(), CONFIG_OK);
    assert_string_equal(set.name, "from-env");
    assert_int_equal(set.count, 5);
    assert_int_equal(set.wait_ms, 300000);
    assert_int_equal(set.verbose, 1);

    /* an empty variable is as if unset; "0" turns a flag off */
    memset(&set, 0, sizeof set);
    setenv("ARUNT_COUNT", "", 1);
    setenv("ARUNT_VERBOSE", "0", 1);
    assert_int_equal(PARSE0(), CONFIG_OK);
    assert_int_equal(set.count, 3);
    assert_int_equal(set.verbose, 0);
}

static void test_flag_overrides_env(void **state)
{
    (void)state;
    setenv("ARUNT_NAME", "from-env", 1);
    setenv("ARUNT_COUNT", "5", 1);
    setenv("ARUNT_WAIT", "5m", 1);
    assert_int_equal(PARSE("--name=cli", "--count", "7", "-w", "500ms", "-v"), CONFIG_OK);
    assert_string_equal(set.name, "cli");
    assert_int_equal(set.count, 7);
    assert_int_equal(set.wait_ms, 500);
    assert_int_equal(set.verbose, 1);
    assert_int_equal(first, 7);

    assert_int_equal(PARSE("-n", "short", "-c9", "--wait=1h"), CONFIG_OK);
    assert_string_equal(set.name, "short");
    assert_int_equal(set.count, 9);
    assert_int_equal(set.wait_ms, 3600000);
}

static void test_env_errors(void **state)
{
    (void)state;
    setenv("ARUNT_COUNT", "11", 1);
    expect_error(PARSE0(), "ARUNT_COUNT");
    setenv("ARUNT_COUNT", "0", 1);
    expect_error(PARSE0(), "ARUNT_COUNT");
    setenv("ARUNT_COUNT", "3x", 1);
    expect_error(PARSE0(), "ARUNT_COUNT");
    unsetenv("ARUNT_COUNT");
    setenv("ARUNT_WAIT", "5x", 1);
    expect_error(PARSE0(), "ARUNT_WAIT");
    setenv("ARUNT_WAIT", "2h", 1);
    expect_error(PARSE0(), "ARUNT_WAIT");
    setenv("ARUNT_WAIT", "0", 1);
    expect_error(PARSE0(), "ARUNT_WAIT");
    /* a bad variable is an error even when the flag would override it */
    setenv("ARUNT_WAIT", "soon", 1);
    expect_error(PARSE("--wait", "1s"), "ARUNT_WAIT");
}

static void test_flag_errors(void **state)
{
    (void)state;
    expect_error(PARSE("--count", "0"), "--count");
    expect_error(PARSE("--count", "11"), "--count");
    expect_error(PARSE("-c", "abc"), "--count");
    expect_error(PARSE("--count="), "--count");
    expect_error(PARSE("--wait", "1.5s"), "--wait");
    expect_error(PARSE("-w", "2h"), "--wait");
    expect_error(PARSE("--wait", "-1s"), "--wait");
}

static void test_help_version(void **state)
{
    (void)state;
    assert_int_equal(PARSE("--help"), CONFIG_HELP);
    assert_int_equal(PARSE("-h"), CONFIG_HELP);
    assert_int_equal(PARSE("-v", "--help", "--bogus"), CONFIG_HELP);
    assert_int_equal(PARSE("--version"), CONFIG_VERSION);
    assert_int_equal(PARSE("-V"), CONFIG_VERSION);
}

static void test_unknown_and_missing(void **state)
{
    (void)state;
    expect_error(PARSE("--bogus"), "--bogus");
    expect_error(PARSE("-v", "--bogus=1"), "--bogus");
    expect_error(PARSE("-x"), "-x");
    expect_error(PARSE("--verbose=1"), "--verbose");
    expect_error(PARSE("--count"), "--count");
    assert_non_null(strstr(err, "value"));
    expect_error(PARSE("-c"), "-c");
}

static void test_stops_at_first_non_option(void **state)
{
    (void)state;
    char *argv[] = {"prog", "-v", "run", "--count", "9", "-x", NULL};
    assert_int_equal(config_parse(opts, NOPTS, &set, 6, argv, &first, err), CONFIG_OK);
    assert_int_equal(first, 2);
    assert_string_equal(argv[first], "run");
    assert_int_equal(set.verbose, 1);
    assert_int_equal(set.count, 3); /* the script's own --count is not ours */
    /* argv is not reordered */
    assert_string_equal(argv[3], "--count");

    memset(&set, 0, sizeof set);
    char *argv2[] = {"prog", "-c", "4", "--", "-v", NULL};
    assert_int_equal(config_parse(opts, NOPTS, &set, 5, argv2, &first, err), CONFIG_OK);
    assert_int_equal(first, 4);
    assert_int_equal(set.count, 4);
    assert_int_equal(set.verbose, 0);

    assert_int_equal(PARSE("-c", "2"), CONFIG_OK);
    assert_int_equal(first, 3);
    /* first_arg may be NULL */
    char *argv3[] = {"prog", "x", NULL};
    assert_int_equal(config_parse(opts, NOPTS, &set, 2, argv3, NULL, err), CONFIG_OK);
}

/* A parse that returns in the middle of "-hv" must not leak into the next
 * one (glibc getopt needs optind = 0 to forget its position). */
static void test_parse_again_after_early_return(void **state)
{
    (void)state;
    assert_int_equal(PARSE("-hv"), CONFIG_HELP);
    memset(&set, 0, sizeof set);
    assert_int_equal(PARSE("-c", "2"), CONFIG_OK);
    assert_int_equal(set.count, 2);
    assert_int_equal(set.verbose, 0);
}

static void test_print_options(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    config_print_options(f, opts, NOPTS);
    fclose(f);
    assert_non_null(strstr(buf, "-c, --count N"));
    assert_non_null(strstr(buf, "$ARUNT_COUNT, default: 3"));
    assert_non_null(strstr(buf, "default: 30s"));
    assert_non_null(strstr(buf, "-v, --verbose"));
    assert_non_null(strstr(buf, "--help"));
    assert_non_null(strstr(buf, "--version"));
    free(buf);
}

struct more {
    int64_t ttl_s;
    const char *queues;
    const char *level;
};

static const struct config_option more_opts[] = {
    {"ttl", 0, NULL, CONFIG_DURATION_S, offsetof(struct more, ttl_s), "24h", 1, 864000,
     "DURATION", "seconds"},
    {"queues", 0, NULL, CONFIG_NAMES, offsetof(struct more, queues), "default", 1, 3, "Q",
     "names"},
    {"level", 0, NULL, CONFIG_CHOICE, offsetof(struct more, level), "info", 0, 0,
     "debug|info|warn", "a choice"},
};

static int parse_more(struct more *m, const char *flag, const char *value)
{
    char *argv[] = {"prog", (char *)flag, (char *)value, NULL};
    memset(m, 0, sizeof *m);
    return config_parse(more_opts, 3, m, flag ? 3 : 1, argv, &first, err);
}

/* durations in seconds (a bare number is seconds), lists of names, choices */
static void test_more_types(void **state)
{
    (void)state;
    struct more m;
    assert_int_equal(parse_more(&m, NULL, NULL), CONFIG_OK);
    assert_int_equal(m.ttl_s, 86400);
    assert_string_equal(m.queues, "default");
    assert_string_equal(m.level, "info");
    assert_int_equal(parse_more(&m, "--ttl", "3600"), CONFIG_OK);
    assert_int_equal(m.ttl_s, 3600);
    assert_int_equal(parse_more(&m, "--ttl", "15m"), CONFIG_OK);
    assert_int_equal(m.ttl_s, 900);
    assert_int_equal(parse_more(&m, "--ttl", "2000ms"), CONFIG_OK);
    assert_int_equal(m.ttl_s, 2);
    expect_error(parse_more(&m, "--ttl", "1500ms"), "--ttl");
    expect_error(parse_more(&m, "--ttl", "0"), "--ttl");
    expect_error(parse_more(&m, "--ttl", "11d"), "--ttl");
    expect_error(parse_more(&m, "--ttl", ""), "--ttl");
    assert_int_equal(parse_more(&m, "--queues", "high,default,low"), CONFIG_OK);
    assert_string_equal(m.queues, "high,default,low");
    expect_error(parse_more(&m, "--queues", "high,,default"), "--queues");
    expect_error(parse_more(&m, "--queues", "high,"), "--queues");
    expect_error(parse_more(&m, "--queues", ",high"), "--queues");
    expect_error(parse_more(&m, "--queues", ""), "--queues");
    expect_error(parse_more(&m, "--queues", "a b"), "--queues");
    expect_error(parse_more(&m, "--queues", "a,b,c,d"), "--queues");
    assert_int_equal(parse_more(&m, "--level", "debug"), CONFIG_OK);
    assert_string_equal(m.level, "debug");
    assert_int_equal(parse_more(&m, "--level", "warn"), CONFIG_OK);
    expect_error(parse_more(&m, "--level", "war"), "debug|info|warn");
    expect_error(parse_more(&m, "--level", "warn|"), "--level");
    expect_error(parse_more(&m, "--level", ""), "--level");
}

#define T(f) cmocka_unit_test_setup(f, clean_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_env_overrides_default),
        T(test_flag_overrides_env),
        T(test_env_errors),
        T(test_flag_errors),
        T(test_help_version),
        T(test_unknown_and_missing),
        T(test_stops_at_first_non_option),
        T(test_parse_again_after_early_return),
        T(test_print_options),
        T(test_more_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
