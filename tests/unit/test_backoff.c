/*
 * test_backoff: retry delays double from the first up to the cap, stay in
 * the upper half of their nominal value whatever the jitter, and honour a
 * Retry-After as a minimum; the random source stays in [0, 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

static void test_doubling_and_cap(void **state)
{
    (void)state;
    const int64_t first = 5000, cap = 600000;
    int64_t nominal = first;
    for (int n = 1; n <= 40; n++) {
        int64_t lo = backoff_delay_ms(n, first, cap, 0.0, 0);
        int64_t hi = backoff_delay_ms(n, first, cap, 0.999999, 0);
        assert_int_equal(lo, nominal / 2);
        assert_true(hi <= nominal && hi >= nominal - 1);
        nominal = nominal * 2 > cap ? cap : nominal * 2;
    }
    /* the first retry comes within first_ms: 5 s */
    assert_true(backoff_delay_ms(1, first, cap, 0.999999, 0) <= 5000);
    assert_int_equal(backoff_delay_ms(3, first, cap, 0.0, 0), 10000);
    assert_int_equal(backoff_delay_ms(1000, first, cap, 0.0, 0), 300000);
    assert_int_equal(backoff_delay_ms(0, first, cap, 0.0, 0), 2500); /* n < 1 is n = 1 */
}

static void test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(backoff_delay_ms(1, 5000, 600000, 0.0, 30000), 30000);
    assert_int_equal(backoff_delay_ms(1, 5000, 600000, 0.0, 1000), 2500); /* smaller: ours */
    assert_int_equal(backoff_delay_ms(30, 5000, 600000, 0.0, 3600000), 3600000); /* beyond cap */
}

static void test_random(void **state)
{
    (void)state;
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double r = backoff_random();
        assert_true(r >= 0 && r < 1);
        lo = r < lo ? r : lo;
        hi = r > hi ? r : hi;
    }
    assert_true(lo < 0.01 && hi > 0.99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubling_and_cap),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
