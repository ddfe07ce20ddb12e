/*
 * cronspec: parsing cron expressions and finding the next fire time
 * (cronspec.h). The search walks forward from the instant, jumping a whole
 * month, day, hour or to the next listed minute as soon as a field does not
 * match, so even a yearly spec costs a few dozen steps. Local fields come
 * from localtime_r and day starts from mktime, so the tz database decides
 * every offset; the daylight-saving rules are applied at the two kinds of
 * transition (a gap and a repeated hour), detected by a change of
 * tm_gmtoff.
 */
#include "cronspec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "parse.h"

struct cronspec_field {
    const char *what;
    int lo, hi;
    const char *const *names; /* index lo.. */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cronspec_field fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, dow_names},
};

/* Reads a number or a name at *p. Returns 0 and advances, or -1. */
static int read_value(const char **p, const struct cronspec_field *f, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *p = s;
        *out = (int)v;
        return 0;
    }
    if (f->names) {
        for (int i = 0; f->names[i]; i++)
            if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
                *p = s + 3;
                *out = i + (f == &fields[3] ? 1 : 0);
                return 0;
            }
    }
    return -1;
}

/* Parses one field into a bit set. Returns 0 or -1 with err set. */
static int parse_field(const char *text, const struct cronspec_field *f, uint64_t *bits,
                       int *star, char err[CRONSPEC_ERR_MAX])
{
    *bits = 0;
    *star = text[0] == '*';
    const char *p = text;
    for (;;) {
        int lo, hi, step = 1, single = 0;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi == 7 ? 6 : f->hi;
            p++;
        } else {
            if (read_value(&p, f, &lo) < 0)
                goto bad;
            hi = lo;
            single = *p != '-';
            if (*p == '-') {
                p++;
                if (read_value(&p, f, &hi) < 0)
                    goto bad;
            }
            if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi) {
                snprintf(err, CRONSPEC_ERR_MAX, "%s: '%s' is out of range %d-%d", f->what, text,
                         f->lo, f->hi);
                return -1;
            }
            if (hi < lo) {
                snprintf(err, CRONSPEC_ERR_MAX, "%s: range '%s' runs backwards", f->what, text);
                return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p) || read_value(&p, f, &step) < 0 || step < 1 ||
                step > f->hi) {
                snprintf(err, CRONSPEC_ERR_MAX, "%s: bad step in '%s'", f->what, text);
                return -1;
            }
            if (single)
                hi = f->hi == 7 ? 6 : f->hi; /* "a/n": from a to the end */
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << (f->hi == 7 && v == 7 ? 0 : v);
        if (*p == '\0')
            return 0;
        if (*p != ',')
            goto bad;
        p++;
    }
bad:
    snprintf(err, CRONSPEC_ERR_MAX, "%s: cannot read '%s'", f->what, text);
    return -1;
}

static const struct {
    const char *name, *fields;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int parse_every(const char *arg, struct cronspec *out, char err[CRONSPEC_ERR_MAX])
{
    int64_t ms;
    while (*arg == ' ' || *arg == '\t')
        arg++;
    if (parse_duration_ms(arg, &ms) < 0 || ms < 1000 || ms % 1000 != 0 ||
        ms / 1000 > CRONSPEC_EVERY_MAX_S) {
        snprintf(err, CRONSPEC_ERR_MAX,
                 "@every needs a duration of whole seconds from 1s to 366 days (30s, 5m, 1h): '%s'",
                 arg);
        return -1;
    }
    out->every_s = ms / 1000;
    return 0;
}

/* Refuses a restricted day-of-month that no listed month has. */
static int check_days(const struct cronspec *c, char err[CRONSPEC_ERR_MAX])
{
    static const int mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (c->dom_star || !c->dow_star)
        return 0; /* every day, or OR'd with a weekday that always comes */
    for (int m = 1; m <= 12; m++)
        if (c->month >> m & 1)
            for (int d = 1; d <= mdays[m]; d++)
                if (c->dom >> d & 1)
                    return 0;
    snprintf(err, CRONSPEC_ERR_MAX, "the day-of-month never occurs in the months given");
    return -1;
}

int cronspec_parse(const char *text, struct cronspec *out, char err[CRONSPEC_ERR_MAX])
{
    memset(out, 0, sizeof *out);
    while (*text == ' ' || *text == '\t')
        text++;
    if (strncmp(text, "@every", 6) == 0 && (text[6] == ' ' || text[6] == '\t'))
        return parse_every(text + 6, out, err);
    if (text[0] == '@') {
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
            if (strcasecmp(text, macros[i].name) == 0)
                return cronspec_parse(macros[i].fields, out, err);
        snprintf(err, CRONSPEC_ERR_MAX, "unknown schedule '%s' (@hourly, @daily, @weekly, "
                 "@monthly, @yearly, @every DURATION)", text);
        return -1;
    }
    char buf[256];
    if (strlen(text) >= sizeof buf) {
        snprintf(err, CRONSPEC_ERR_MAX, "schedule too long");
        return -1;
    }
    strcpy(buf, text);
    char *save = NULL, *tok[6];
    int n = 0;
    for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
        if (n < 6)
            tok[n++] = t;
        else
            n = 7;
    if (n != 5) {
        snprintf(err, CRONSPEC_ERR_MAX, "a schedule has five fields (minute hour "
                 "day-of-month month day-of-week) or is an @ form");
        return -1;
    }
    uint64_t bits[5];
    int star[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(tok[i], &fields[i], &bits[i], &star[i], err) < 0)
            return -1;
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint32_t)bits[3];
    out->dow = (uint32_t)bits[4];
    out->hour_star = star[1];
    out->dom_star = star[2];
    out->dow_star = star[4];
    return check_days(out, err);
}

static int day_matches(const struct cronspec *c, const struct tm *t)
{
    int dom = c->dom >> t->tm_mday & 1, dow = c->dow >> t->tm_wday & 1;
    if (c->dom_star || c->dow_star)
        return dom && dow;
    return dom || dow;
}

static int all_match(const struct cronspec *c, const struct tm *t)
{
    return (c->month >> (t->tm_mon + 1) & 1) && day_matches(c, t) && (c->hour >> t->tm_hour & 1) &&
           (c->minute >> t->tm_min & 1);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The first instant of local day year/mon/mday (mon 0-based, may
 * overflow: mktime normalises), or t + 60 when that is not after t. */
static int64_t local_day_start(int year, int mon, int mday, int64_t t)
{
    struct tm x = {0};
    x.tm_year = year;
    x.tm_mon = mon;
    x.tm_mday = mday;
    x.tm_isdst = -1;
    time_t r = mktime(&x);
    return r == (time_t)-1 || r <= t ? t + 60 : (int64_t)r;
}

/* Spring forward: t is the first minute after a gap, and a local minute
 * that the clock skipped matches. */
static int fires_after_gap(const struct cronspec *c, int64_t t, const struct tm *lt)
{
    struct tm prev;
    time_t tp = (time_t)(t - 60);
    localtime_r(&tp, &prev);
    if (lt->tm_gmtoff <= prev.tm_gmtoff)
        return 0;
    /* walk the skipped wall-clock minutes as if they were UTC */
    struct tm w = prev;
    time_t wall = timegm(&w);
    long skipped = (lt->tm_gmtoff - prev.tm_gmtoff) / 60;
    for (long k = 1; k <= skipped; k++) {
        time_t m = wall + 60 * k;
        struct tm f;
        gmtime_r(&m, &f);
        if (all_match(c, &f))
            return 1;
    }
    return 0;
}

/* Fall back: the wall-clock time of t already occurred shortly before. */
static int is_repeat(int64_t t, const struct tm *lt)
{
    struct tm before, twin;
    time_t tb = (time_t)(t - 3 * 3600);
    localtime_r(&tb, &before);
    if (before.tm_gmtoff <= lt->tm_gmtoff)
        return 0;
    time_t tt = (time_t)(t - (before.tm_gmtoff - lt->tm_gmtoff));
    localtime_r(&tt, &twin);
    return twin.tm_year == lt->tm_year && twin.tm_yday == lt->tm_yday &&
           twin.tm_hour == lt->tm_hour && twin.tm_min == lt->tm_min;
}

int64_t cronspec_next(const struct cronspec *c, int64_t after)
{
    if (c->every_s > 0)
        return (floordiv(after, c->every_s) + 1) * c->every_s;
    int64_t t = (floordiv(after, 60) + 1) * 60;
    int64_t limit = after + CRONSPEC_HORIZON_S;
    while (t <= limit) {
        struct tm lt;
        time_t tt = (time_t)t;
        localtime_r(&tt, &lt);
        if (!c->hour_star && fires_after_gap(c, t, &lt))
            return t;
        if (!(c->month >> (lt.tm_mon + 1) & 1)) {
            t = local_day_start(lt.tm_year, lt.tm_mon + 1, 1, t);
            continue;
        }
        if (!day_matches(c, &lt)) {
            t = local_day_start(lt.tm_year, lt.tm_mon, lt.tm_mday + 1, t);
            continue;
        }
        int64_t to_hour_end = (60 - lt.tm_min) * 60 - lt.tm_sec;
        if (!(c->hour >> lt.tm_hour & 1)) {
            t += to_hour_end;
            continue;
        }
        if (!(c->minute >> lt.tm_min & 1)) {
            int m = lt.tm_min + 1;
            while (m < 60 && !(c->minute >> m & 1))
                m++;
            t += m < 60 ? (m - lt.tm_min) * 60 - lt.tm_sec : to_hour_end;
            continue;
        }
        if (!c->hour_star && is_repeat(t, &lt)) {
            t += 60;
            continue;
        }
        return t;
    }
    return -1;
}
