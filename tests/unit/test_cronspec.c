/*
 * test_cronspec: cron expressions (lists, ranges, steps, names, the Vixie
 * day-of-month OR day-of-week rule, month ends, leap years), @ forms,
 * @every at multiples of its duration since the epoch, daylight-saving
 * changes in a TZ zone, refusals; and the schedule file (entries, TZ=,
 * CATCHUP=, comments, errors with their line numbers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cronspec.h"
#include "schedule.h"

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* "2026-01-01T00:07:00Z" -> Unix seconds */
static int64_t at(const char *iso)
{
    struct tm t = {0};
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour,
                   &t.tm_min, &t.tm_sec);
    assert_int_equal(n, 6);
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return (int64_t)timegm(&t);
}

static void expect_next(const char *spec, const char *after, const char *want)
{
    struct cronspec c;
    char err[CRONSPEC_ERR_MAX] = "";
    if (cronspec_parse(spec, &c, err) < 0)
        fail_msg("'%s' refused: %s", spec, err);
    int64_t got = cronspec_next(&c, at(after));
    if (got != at(want)) {
        char buf[32] = "none";
        time_t g = (time_t)got;
        struct tm tm;
        if (got >= 0)
            strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&g, &tm));
        fail_msg("'%s' after %s: got %s, want %s", spec, after, buf, want);
    }
}

static void expect_refused(const char *spec, const char *reason_part)
{
    struct cronspec c;
    char err[CRONSPEC_ERR_MAX] = "";
    if (cronspec_parse(spec, &c, err) == 0)
        fail_msg("'%s' accepted", spec);
    if (!strstr(err, reason_part))
        fail_msg("'%s': reason '%s' lacks '%s'", spec, err, reason_part);
}

static void test_fields(void **state)
{
    (void)state;
    use_tz("UTC");
    expect_next("*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z");
    expect_next("*/15 * * * *", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"); /* strictly after */
    expect_next("*/15 * * * *", "2026-01-01T00:14:59Z", "2026-01-01T00:15:00Z");
    expect_next("30 2 * * *", "2026-03-01T03:00:00Z", "2026-03-02T02:30:00Z");
    expect_next("5/20 * * * *", "2026-01-01T00:06:00Z", "2026-01-01T00:25:00Z");
    expect_next("5/20 * * * *", "2026-01-01T00:46:00Z", "2026-01-01T01:05:00Z");
    expect_next("10-20/5 8,12 * * *", "2026-01-01T08:16:00Z", "2026-01-01T08:20:00Z");
    expect_next("10-20/5 8,12 * * *", "2026-01-01T08:20:00Z", "2026-01-01T12:10:00Z");
    expect_next("0 0 1,15 * *", "2026-01-02T00:00:00Z", "2026-01-15T00:00:00Z");
    expect_next("59 23 31 12 *", "2026-01-01T00:00:00Z", "2026-12-31T23:59:00Z");
}

static void test_names(void **state)
{
    (void)state;
    use_tz("UTC");
    /* 2026-01-03 is a Saturday */
    expect_next("0 9 * jan-mar mon-fri", "2026-01-03T00:00:00Z", "2026-01-05T09:00:00Z");
    expect_next("0 9 * JAN-MAR Mon-Fri", "2026-03-31T09:00:00Z", "2027-01-01T09:00:00Z");
    expect_next("0 0 * * sun", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z");
    expect_next("0 0 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"); /* 7 = Sunday */
    expect_next("0 0 * * 5-7", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z");
    expect_next("0 0 1 jun,dec *", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z");
}

static void test_dom_dow(void **state)
{
    (void)state;
    use_tz("UTC");
    /* both restricted: the 13th OR a Friday (2026-01-02 is a Friday) */
    expect_next("0 0 13 * fri", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    expect_next("0 0 13 * fri", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z");
    /* one of them '*': the other alone */
    expect_next("0 0 13 * *", "2026-01-01T00:00:00Z", "2026-01-13T00:00:00Z");
    expect_next("0 0 * * fri", "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z");
    /* a '*'-led step counts as unrestricted: odd days AND Mondays */
    expect_next("0 0 */2 * mon", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z");
    expect_next("0 0 */2 * mon", "2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z");
}

static void test_month_ends_and_leap_years(void **state)
{
    (void)state;
    use_tz("UTC");
    expect_next("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z");
    expect_next("0 0 31 * *", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z");
    expect_next("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
    expect_next("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"); /* 2100 is not leap */
    expect_next("0 0 28-31 2 *", "2027-02-28T00:00:00Z", "2028-02-28T00:00:00Z");
    expect_next("@monthly", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z");
    expect_next("@yearly", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z");
    expect_next("@annually", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z");
    expect_next("@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z");
    expect_next("@daily", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    expect_next("@hourly", "2026-01-01T00:59:59Z", "2026-01-01T01:00:00Z");
}

static void test_every(void **state)
{
    (void)state;
    use_tz("Europe/Berlin"); /* @every ignores the zone */
    expect_next("@every 30s", "2001-09-09T01:46:47Z", "2001-09-09T01:47:00Z");
    expect_next("@every 1s", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z");
    expect_next("@every 1h", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z");
    /* 7 s does not divide a minute: multiples since 1970, not since start */
    struct cronspec c;
    char err[CRONSPEC_ERR_MAX];
    assert_int_equal(cronspec_parse("@every 7s", &c, err), 0);
    assert_int_equal(cronspec_next(&c, 1000000000), 1000000001); /* 7 * 142857143 */
    assert_int_equal(cronspec_next(&c, 1000000001), 1000000008);
    assert_int_equal(cronspec_next(&c, -1), 0);
    use_tz("UTC");
}

static void test_daylight_saving(void **state)
{
    (void)state;
    use_tz("Europe/Berlin");
    /* 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z): 02:30 never
     * exists, so it fires at 03:00 CEST; then 02:30 CEST the next day */
    expect_next("30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z");
    expect_next("30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
    /* a '*' hour follows the clock: nothing extra at 03:00 */
    expect_next("30 * * * *", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z");
    /* 2026-10-25 03:00 CEST falls back to 02:00 CET (01:00Z): 02:30 happens
     * twice, and fires once, the first time */
    expect_next("30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z");
    expect_next("30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    expect_next("*/30 * * * *", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z");
    /* local midnight, and a zone whose offset is not whole hours */
    expect_next("0 0 * * *", "2026-07-01T00:00:00Z", "2026-07-01T22:00:00Z");
    use_tz("Asia/Kolkata");
    expect_next("0 9 * * *", "2026-01-01T00:00:00Z", "2026-01-01T03:30:00Z");
    use_tz("America/New_York"); /* 2026-03-08 02:00 EST -> 03:00 EDT */
    expect_next("15 2 8 3 *", "2026-03-01T00:00:00Z", "2026-03-08T07:00:00Z");
    use_tz("UTC");
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("* * * *", "five fields");
    expect_refused("* * * * * *", "five fields");
    expect_refused("60 * * * *", "out of range");
    expect_refused("* 24 * * *", "out of range");
    expect_refused("* * 0 * *", "out of range");
    expect_refused("* * * 13 *", "out of range");
    expect_refused("* * * * 8", "out of range");
    expect_refused("5-1 * * * *", "backwards");
    expect_refused("*/0 * * * *", "step");
    expect_refused("*/x * * * *", "step");
    expect_refused("a * * * *", "cannot read");
    expect_refused("1,,2 * * * *", "cannot read");
    expect_refused("* * * foo *", "cannot read");
    expect_refused("0 0 30 2 *", "never occurs");
    expect_refused("0 0 31 4,6 *", "never occurs");
    expect_refused("@often", "unknown schedule");
    expect_refused("@every 500ms", "whole seconds");
    expect_refused("@every 1500ms", "whole seconds");
    expect_refused("@every 0s", "whole seconds");
    expect_refused("@every", "unknown schedule");
    struct cronspec c;
    char err[CRONSPEC_ERR_MAX];
    assert_int_equal(cronspec_parse("0 0 30 2 fri", &c, err), 0); /* OR'd: Fridays */
}

static void test_schedule_file(void **state)
{
    (void)state;
    const char *text = "# comment\n\nTZ=Europe/Berlin\n"
                       "nightly-calibration  30 2 * * *     calibration --bins 10\r\n"
                       "regime-hourly        @hourly         regime\n"
                       "CATCHUP=one\nTIMEOUT=2h\n"
                       "heartbeat\t@every 30s\tholly_rules\n";
    struct schedule s;
    char err[SCHEDULE_ERR_MAX] = "";
    if (schedule_parse(text, NULL, &s, err) < 0)
        fail_msg("refused: %s", err);
    assert_string_equal(s.tz, "Europe/Berlin");
    assert_int_equal(s.n, 3);
    assert_string_equal(s.entries[0].name, "nightly-calibration");
    assert_string_equal(s.entries[0].spec_text, "30 2 * * *");
    assert_string_equal(s.entries[0].script, "calibration");
    assert_int_equal(s.entries[0].nargs, 2);
    assert_string_equal(s.entries[0].args[1], "10");
    assert_int_equal(s.entries[0].line, 4);
    assert_int_equal(s.entries[0].catchup, 0);
    assert_int_equal(s.entries[0].timeout_ms, 300000);
    assert_int_equal(s.entries[2].timeout_ms, 7200000);
    assert_int_equal(s.entries[1].nargs, 0);
    assert_string_equal(s.entries[2].spec_text, "@every 30s");
    assert_int_equal(s.entries[2].spec.every_s, 30);
    assert_int_equal(s.entries[2].catchup, 1);
    schedule_free(&s);
    assert_int_equal(schedule_parse("", NULL, &s, err), 0);
    assert_string_equal(s.tz, "UTC");
    assert_int_equal(s.n, 0);
    schedule_free(&s);
}

static void expect_bad_file(const char *text, const char *want)
{
    struct schedule s;
    char err[SCHEDULE_ERR_MAX] = "";
    if (schedule_parse(text, NULL, &s, err) == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(err, want))
        fail_msg("reason '%s' lacks '%s'", err, want);
    assert_int_equal(s.n, 0);
    assert_null(s.entries);
}

static void test_schedule_refusals(void **state)
{
    (void)state;
    expect_bad_file("a @hourly x\nb * * * x\n", "line 2: an entry is NAME SPEC SCRIPT");
    expect_bad_file("a @hourly x\nb 1 2 3 x y z\n", "line 2: month: cannot read 'x'");
    expect_bad_file("a @hourly x\na @daily y\n", "line 2: duplicate name: a");
    expect_bad_file("bad/name @hourly x\n", "line 1: a name is");
    expect_bad_file("012345678901234567890123456789012 @hourly x\n", "line 1: a name is");
    expect_bad_file("a @hourly\n", "line 1: an entry is NAME SPEC SCRIPT");
    expect_bad_file("a @hourly x\nlonely\n", "line 2: an entry is NAME SPEC SCRIPT");
    expect_bad_file("@hourly\n", "line 1: an entry is NAME SPEC SCRIPT");
    expect_bad_file("a 1 2 3 4 5\n", "line 1: an entry is NAME SPEC SCRIPT");
    expect_bad_file("a @hourly ../x\n", "line 1: not a script name");
    expect_bad_file("a @hourly x\nTZ=UTC\n", "line 2: TZ= must come before");
    expect_bad_file("TZ=Mars/Olympus\n", "line 1: unknown time zone");
    expect_bad_file("TZ=../../etc/passwd\n", "unknown time zone");
    expect_bad_file("FOO=1\n", "unknown setting");
    expect_bad_file("CATCHUP=all\n", "CATCHUP= is one or none");
    expect_bad_file("TIMEOUT=25h\n", "TIMEOUT= is a duration");
    expect_bad_file("TIMEOUT=soon\n", "TIMEOUT= is a duration");
    expect_bad_file("\n\n# x\nfeb 0 0 30 2 * x\n", "line 4: the day-of-month never occurs");
    char err[SCHEDULE_ERR_MAX];
    struct schedule s;
    assert_int_equal(schedule_load("/nonexistent/schedule", NULL, &s, err), -1);
    assert_non_null(strstr(err, "cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dom_dow),       cmocka_unit_test(test_month_ends_and_leap_years),
        cmocka_unit_test(test_every),         cmocka_unit_test(test_daylight_saving),
        cmocka_unit_test(test_refusals),      cmocka_unit_test(test_schedule_file),
        cmocka_unit_test(test_schedule_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
