/*
 * test_timefmt: timefmt_iso formats a CLOCK_REALTIME timespec as the
 * contract's "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC (24 characters), truncating
 * nanoseconds to milliseconds; timefmt_now_iso has the same shape;
 * timefmt_mono_ms never goes backwards. The date arithmetic (no gmtime_r)
 * is checked against gmtime_r + strftime on every day boundary from 1970
 * to 2400 and on 200,000 random instants up to year 9999.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

static void iso(time_t sec, long nsec, const char *want)
{
    char out[TIMEFMT_ISO_LEN];
    memset(out, 'X', sizeof out);
    struct timespec ts = {.tv_sec = sec, .tv_nsec = nsec};
    timefmt_iso(&ts, out);
    assert_string_equal(out, want);
    assert_int_equal(strlen(out), 24);
}

static void test_fixed(void **state)
{
    (void)state;
    iso(1795857302, 123000000, "2026-11-28T09:15:02.123Z");
    iso(1795857302, 123999999, "2026-11-28T09:15:02.123Z"); /* truncated, not rounded */
    iso(0, 0, "1970-01-01T00:00:00.000Z");
    iso(951868799, 999999999, "2000-02-29T23:59:59.999Z");
    iso(951868799, 7000000, "2000-02-29T23:59:59.007Z");
}

static void oracle(time_t sec, long nsec, char out[64])
{
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 64 - n, ".%03ldZ", nsec / 1000000);
}

static void test_against_gmtime(void **state)
{
    (void)state;
    char want[64];
    /* the last second of each day and the first of the next, 1970-2400 */
    for (time_t day = 0; day < 157000; day++) {
        time_t t = day * 86400;
        oracle(t, 0, want);
        iso(t, 0, want);
        oracle(t + 86399, 999999999, want);
        iso(t + 86399, 999999999, want);
    }
    srand(7);
    for (int i = 0; i < 200000; i++) {
        time_t t = (time_t)(((uint64_t)rand() << 31 | (uint64_t)rand()) % 253402300800ULL);
        long ns = rand() % 1000000000L;
        oracle(t, ns, want);
        iso(t, ns, want);
    }
}

static void test_timezone_ignored(void **state)
{
    (void)state;
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "America/New_York", 1);
    tzset();
    iso(1795857302, 123000000, "2026-11-28T09:15:02.123Z");
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_now_shape(void **state)
{
    (void)state;
    char out[TIMEFMT_ISO_LEN];
    timefmt_now_iso(out);
    assert_int_equal(strlen(out), 24);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++) {
        if (shape[i] == 'd')
            assert_true(isdigit((unsigned char)out[i]));
        else
            assert_int_equal(out[i], shape[i]);
    }
    /* the current year, not 1970 */
    assert_true(strncmp(out, "2020", 4) > 0);
}

static void test_mono(void **state)
{
    (void)state;
    int64_t a = timefmt_mono_ms();
    struct timespec d = {0, 20 * 1000000};
    nanosleep(&d, NULL);
    int64_t b = timefmt_mono_ms();
    assert_true(a > 0);
    assert_true(b >= a + 19);
    assert_true(b < a + 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_against_gmtime),
        cmocka_unit_test(test_timezone_ignored),
        cmocka_unit_test(test_now_shape),
        cmocka_unit_test(test_mono),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
