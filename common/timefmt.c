/*
 * timefmt: UTC ISO-8601 timestamps with milliseconds and a monotonic clock.
 */
#include "timefmt.h"

#include <stdio.h>

void timefmt_iso(const struct timespec *ts, char out[TIMEFMT_ISO_LEN])
{
    struct tm tm;
    time_t secs = ts->tv_sec;
    gmtime_r(&secs, &tm);
    /* unsigned and masked ranges let the compiler prove the 24 bytes fit */
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, TIMEFMT_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(ts->tv_nsec / 1000000) % 1000u);
}

void timefmt_now_iso(char out[TIMEFMT_ISO_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    timefmt_iso(&ts, out);
}

int64_t timefmt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
