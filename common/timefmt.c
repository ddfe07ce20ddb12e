/*
 * timefmt: UTC ISO-8601 timestamps with milliseconds and a monotonic clock.
 */
#include "timefmt.h"

#include "fmtint.h"

/* The proleptic Gregorian date of a day count since 1970-01-01 (Howard
 * Hinnant's days-to-civil algorithm): no gmtime_r, which takes the
 * time-zone lock on every call. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                             /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;    /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                       /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void timefmt_iso(const struct timespec *ts, char out[TIMEFMT_ISO_LEN])
{
    int64_t secs = (int64_t)ts->tv_sec;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    unsigned rem = (unsigned)(secs - days * 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ": the year's last four digits, as before */
    fmtint_pad(out, (unsigned)(((y % 10000) + 10000) % 10000), 4);
    out[4] = '-';
    fmtint_pad(out + 5, m, 2);
    out[7] = '-';
    fmtint_pad(out + 8, d, 2);
    out[10] = 'T';
    fmtint_pad(out + 11, rem / 3600, 2);
    out[13] = ':';
    fmtint_pad(out + 14, rem / 60 % 60, 2);
    out[16] = ':';
    fmtint_pad(out + 17, rem % 60, 2);
    out[19] = '.';
    fmtint_pad(out + 20, (unsigned)(ts->tv_nsec / 1000000) % 1000u, 3);
    out[23] = 'Z';
    out[24] = '\0';
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
