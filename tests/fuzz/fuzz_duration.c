/*
 * fuzz_duration: parse_duration_ms and parse_int_range on arbitrary text.
 * Invariants: a parsed duration is non-negative; "Nms" (N printed back)
 * parses to N, and "N" to N; "Ns", "Nm", "Nh" are N times their unit or
 * refused when that overflows; parse_int_range only returns values in
 * [min, max] (bounds taken from the input) and agrees with strtoll for a
 * plain decimal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

static void round_trip(int64_t v)
{
    char buf[64];
    int64_t back = -1;
    snprintf(buf, sizeof buf, "%" PRId64 "ms", v);
    CHECK(parse_duration_ms(buf, &back) == 0 && back == v);
    snprintf(buf, sizeof buf, "%" PRId64, v);
    CHECK(parse_duration_ms(buf, &back) == 0 && back == v);
    static const struct { const char *unit; int64_t mult; } units[] = {
        {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%" PRId64 "%s", v, units[i].unit);
        int rc = parse_duration_ms(buf, &back);
        if (v <= INT64_MAX / units[i].mult)
            CHECK(rc == 0 && back == v * units[i].mult);
        else
            CHECK(rc == -1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;

    int64_t ms = -1;
    if (parse_duration_ms(s, &ms) == 0) {
        CHECK(ms >= 0);
        round_trip(ms);
    }

    /* bounds from the first 16 bytes when there are enough, else fixed */
    int64_t lo = -1000, hi = 1000;
    if (size >= 16) {
        memcpy(&lo, data, 8);
        memcpy(&hi, data + 8, 8);
        if (lo > hi) {
            int64_t t = lo; lo = hi; hi = t;
        }
    }
    int64_t v = 0;
    if (parse_int_range(s, lo, hi, &v) == 0) {
        CHECK(v >= lo && v <= hi);
        errno = 0;
        char *end;
        long long ref = strtoll(s, &end, 10);
        CHECK(errno == 0 && *end == '\0' && ref == v);
        char buf[32];
        int64_t back;
        snprintf(buf, sizeof buf, "%" PRId64, v);
        CHECK(parse_int_range(buf, lo, hi, &back) == 0 && back == v);
    }
    if (parse_int_range(s, INT64_MIN, INT64_MAX, &v) == 0) {
        char buf[32];
        int64_t back;
        snprintf(buf, sizeof buf, "%" PRId64, v);
        CHECK(parse_int_range(buf, INT64_MIN, INT64_MAX, &back) == 0 && back == v);
        if (v >= 0)
            round_trip(v);
    }
    free(s);
    return 0;
}
