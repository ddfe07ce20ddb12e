/*
 * cronspec: the schedule expressions of arun-cron, parsed by hand (Debian
 * has no C cron library), and the next fire time after an instant.
 *
 *   five fields  minute hour day-of-month month day-of-week, each "*", a
 *                number, a range "a-b", a list "a,b-c", a step "*" "/n",
 *                "a-b/n" or "a/n" (a to the end); month and day names
 *                (jan-dec, sun-sat, any case); day-of-week 7 is Sunday.
 *                Day-of-month and day-of-week are OR'd when both are
 *                restricted, as in Vixie cron (a field starting with "*"
 *                is unrestricted, so "*" "/2" in one of them means AND).
 *   @hourly @daily (@midnight) @weekly @monthly @yearly (@annually)
 *   @every DURATION  the multiples of DURATION (whole seconds, at least 1s)
 *                since the Unix epoch, independent of the time zone.
 *
 * Local time is the process's time zone (TZ, tzset; the system tz database):
 * the caller selects the zone before calling cronspec_next. Across a
 * daylight-saving change, a spec whose hour field is restricted behaves as
 * Vixie cron does with fixed-time jobs: a fire time that the clock skips
 * (spring forward) fires at the first instant after the gap, and a wall-clock
 * time that repeats (fall back) fires once, at its first occurrence. A spec
 * with "*" in the hour field follows the clock: it simply fires at every
 * matching instant that exists.
 */
#ifndef ARUN_CRONSPEC_H
#define ARUN_CRONSPEC_H

#include <stdint.h>

#define CRONSPEC_ERR_MAX 128
#define CRONSPEC_HORIZON_S (9LL * 366 * 86400) /* a spec fires within 9 years or never */
#define CRONSPEC_EVERY_MAX_S (366LL * 86400)

struct cronspec {
    uint64_t minute;  /* bit m: minute m, 0-59 */
    uint32_t hour;    /* bit h: 0-23 */
    uint32_t dom;     /* bit d: day of month 1-31 */
    uint32_t month;   /* bit m: 1-12 */
    uint32_t dow;     /* bit d: 0-6, Sunday 0 */
    int hour_star, dom_star, dow_star; /* the field started with '*' */
    int64_t every_s;  /* > 0: an @every spec (the fields are unused) */
};

/* Parses text (five fields separated by blanks, or one @ form) into *out.
 * Returns 0, or -1 with a one-line reason in err. A spec that can never fire
 * (e.g. day 30 of February) is refused. */
int cronspec_parse(const char *text, struct cronspec *out, char err[CRONSPEC_ERR_MAX]);

/* Returns the first fire time strictly after `after` (Unix seconds, from
 * -1 on: fire times before 1970 are not representable), in the process's
 * current time zone, or -1 when there is none within CRONSPEC_HORIZON_S. */
int64_t cronspec_next(const struct cronspec *c, int64_t after);

#endif
