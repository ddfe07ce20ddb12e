/*
 * parse: durations, sizes and bounded integers from command lines and environment.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_int_range(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct unit {
    const char *name;
    unsigned long long mult;
};

/* A whole decimal number followed by one of units (n of them). */
static int parse_with_units(const char *s, const struct unit *units, size_t n, int64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(end, units[i].name) == 0) {
            if (v > (unsigned long long)INT64_MAX / units[i].mult)
                return -1;
            *out = (int64_t)(v * units[i].mult);
            return 0;
        }
    }
    return -1;
}

int parse_duration_ms(const char *s, int64_t *out_ms)
{
    static const struct unit units[] = {
        {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    };
    return parse_with_units(s, units, sizeof units / sizeof units[0], out_ms);
}

int parse_size_bytes(const char *s, int64_t *out)
{
    static const struct unit units[] = {
        {"", 1}, {"K", 1024ULL}, {"M", 1024ULL * 1024}, {"G", 1024ULL * 1024 * 1024},
    };
    return parse_with_units(s, units, sizeof units / sizeof units[0], out);
}
