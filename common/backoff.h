/*
 * backoff: retry delays, exponential with jitter. Retry n waits about
 * twice as long as retry n-1, from first_ms up to cap_ms, and each delay is
 * drawn from the upper half of its nominal value ("equal jitter"), so
 * retries of many failed deliveries spread out instead of arriving in
 * waves, and no retry comes sooner than half its nominal delay.
 */
#ifndef ARUN_BACKOFF_H
#define ARUN_BACKOFF_H

#include <stdint.h>

/* The delay before retry n (n >= 1: the first retry is n = 1), for r, a
 * uniform random number in [0, 1): nominal = min(cap_ms, first_ms *
 * 2^(n-1)), delay = nominal/2 + r * nominal/2, so the first retry comes
 * within first_ms and no delay exceeds cap_ms. A retry_after_ms > 0 (a
 * server's Retry-After) is a minimum: the result is at least that, even
 * beyond cap_ms. */
int64_t backoff_delay_ms(int n, int64_t first_ms, int64_t cap_ms, double r,
                         int64_t retry_after_ms);

/* A uniform random number in [0, 1) from the system's random source (for
 * jitter only; falls back to rand() if that fails). */
double backoff_random(void);

#endif
