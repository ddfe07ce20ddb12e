/*
 * backoff: exponential retry delays with jitter (backoff.h).
 */
#include "backoff.h"

#include <stdlib.h>
#include <sys/random.h>

int64_t backoff_delay_ms(int n, int64_t first_ms, int64_t cap_ms, double r,
                         int64_t retry_after_ms)
{
    if (n < 1)
        n = 1;
    if (r < 0 || r >= 1)
        r = 0;
    int64_t nominal = first_ms;
    for (int i = 1; i < n && nominal < cap_ms; i++)
        nominal *= 2;
    if (nominal > cap_ms)
        nominal = cap_ms;
    int64_t delay = nominal / 2 + (int64_t)(r * (double)(nominal - nominal / 2));
    if (delay < 1)
        delay = 1;
    return retry_after_ms > delay ? retry_after_ms : delay;
}

double backoff_random(void)
{
    uint64_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
        v = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
    return (double)(v >> 11) / 9007199254740992.0; /* 53 bits: [0, 1) */
}
