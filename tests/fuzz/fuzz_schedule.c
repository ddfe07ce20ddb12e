/*
 * fuzz_schedule: schedule_parse (and through it cronspec_parse) on
 * arbitrary text, then cronspec_next from instants taken from the input.
 * Invariants: a refusal says why, in one line starting "line N: " when it
 * names a line; an accepted entry has a valid name and a script; a fire
 * time is strictly after its instant, within the horizon, and the first
 * one: searching again from one second before it finds it again; @every
 * fires at multiples of its period, within one period.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cronspec.h"
#include "fuzz.h"
#include "schedule.h"

static void check_next(const struct cronspec *c, int64_t after)
{
    int64_t t = cronspec_next(c, after);
    if (t < 0) {
        CHECK(c->every_s == 0); /* @every always fires */
        return;
    }
    CHECK(t > after && t - after <= CRONSPEC_HORIZON_S);
    CHECK(cronspec_next(c, t - 1) == t);
    if (c->every_s > 0)
        CHECK(t % c->every_s == 0 && t - after <= c->every_s);
    else
        CHECK(t % 60 == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int zone_set;
    if (!zone_set) {
        setenv("TZ", "Europe/Berlin", 1); /* daylight saving in every search */
        tzset();
        zone_set = 1;
    }
    char *text = fuzz_cstring(data, size);
    if (!text)
        return 0;
    struct schedule s;
    char err[SCHEDULE_ERR_MAX] = "";
    if (schedule_parse(text, NULL, &s, err) < 0) {
        CHECK(err[0] != '\0' && !strchr(err, '\n'));
        CHECK(s.n == 0 && s.entries == NULL);
        free(text);
        return 0;
    }
    /* instants from the input's first bytes, 1970..2106 */
    uint32_t seed = 0;
    memcpy(&seed, data, size < 4 ? size : 4);
    int64_t base = (int64_t)seed;
    for (size_t i = 0; i < s.n && i < 8; i++) {
        const struct schedule_entry *e = &s.entries[i];
        CHECK(schedule_name_valid(e->name) && e->script && e->script[0]);
        CHECK(e->timeout_ms >= 1 && e->timeout_ms <= 86400000);
        check_next(&e->spec, base);
        check_next(&e->spec, base + 86399);
    }
    schedule_free(&s);
    free(text);
    return 0;
}
