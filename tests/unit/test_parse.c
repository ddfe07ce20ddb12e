/*
 * test_parse: parse_duration_ms (units ms/s/m/h, bare milliseconds, and the
 * refusal of empty, negative, malformed, fractional, space-led and
 * overflowing values) and parse_int_range (bounds, whole-string matching,
 * overflow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"

static void expect_ms(const char *s, int64_t want)
{
    int64_t v = -12345;
    int rc = parse_duration_ms(s, &v);
    if (rc != 0)
        print_error("parse_duration_ms(\"%s\") refused\n", s);
    assert_int_equal(rc, 0);
    assert_int_equal(v, want);
}

static void expect_bad_duration(const char *s)
{
    int64_t v = -12345;
    int rc = parse_duration_ms(s, &v);
    if (rc != -1)
        print_error("parse_duration_ms(\"%s\") accepted\n", s ? s : "(null)");
    assert_int_equal(rc, -1);
    assert_int_equal(v, -12345); /* untouched on failure */
}

static void test_duration_units(void **state)
{
    (void)state;
    expect_ms("500ms", 500);
    expect_ms("30s", 30000);
    expect_ms("5m", 300000);
    expect_ms("1h", 3600000);
    expect_ms("250", 250);
    expect_ms("0", 0);
    expect_ms("0s", 0);
    expect_ms("24h", 86400000);
}

static void test_duration_rejects(void **state)
{
    (void)state;
    expect_bad_duration("");
    expect_bad_duration("-1");
    expect_bad_duration("-1s");
    expect_bad_duration("5x");
    expect_bad_duration("1.5s");
    expect_bad_duration("s");
    expect_bad_duration("ms");
    expect_bad_duration(" 5");
    expect_bad_duration("5 ");
    expect_bad_duration("5 s");
    expect_bad_duration("+5");
    expect_bad_duration("5S");
    expect_bad_duration("5sec");
    expect_bad_duration("5hh");
    expect_bad_duration("12abc");
    expect_bad_duration(NULL);
}

static void test_duration_overflow(void **state)
{
    (void)state;
    expect_bad_duration("99999999999999999999h");
    expect_bad_duration("99999999999999999999");   /* over UINT64_MAX */
    expect_bad_duration("18446744073709551615");   /* UINT64_MAX > INT64_MAX */
    expect_bad_duration("9223372036854775808");    /* INT64_MAX + 1 */
    expect_bad_duration("9223372036854775807s");   /* fits alone, not times 1000 */
    expect_bad_duration("2562047788016h");      /* just over INT64_MAX ms */
    expect_ms("9223372036854775807", INT64_MAX);
    expect_ms("2562047788015h", INT64_C(2562047788015) * 3600000);
}

static void test_int_range(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(parse_int_range("5", 1, 10, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(parse_int_range("1", 1, 10, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(parse_int_range("10", 1, 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(parse_int_range("-3", -5, 5, &v), 0);
    assert_int_equal(v, -3);

    v = 77;
    assert_int_equal(parse_int_range("0", 1, 10, &v), -1);
    assert_int_equal(parse_int_range("11", 1, 10, &v), -1);
    assert_int_equal(parse_int_range("-6", -5, 5, &v), -1);
    assert_int_equal(parse_int_range("", 0, 10, &v), -1);
    assert_int_equal(parse_int_range(" 5", 0, 10, &v), -1);
    assert_int_equal(parse_int_range("5 ", 0, 10, &v), -1);
    assert_int_equal(parse_int_range("5x", 0, 10, &v), -1);
    assert_int_equal(parse_int_range("1.0", 0, 10, &v), -1);
    assert_int_equal(parse_int_range("0x5", 0, 10, &v), -1);
    assert_int_equal(parse_int_range("abc", 0, 10, &v), -1);
    assert_int_equal(parse_int_range(NULL, 0, 10, &v), -1);
    assert_int_equal(parse_int_range("99999999999999999999", INT64_MIN, INT64_MAX, &v), -1);
    assert_int_equal(v, 77); /* untouched on failure */

    assert_int_equal(parse_int_range("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(parse_int_range("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_rejects),
        cmocka_unit_test(test_duration_overflow),
        cmocka_unit_test(test_int_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
