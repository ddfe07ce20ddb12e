/*
 * timefmt: the two clocks arun uses. Wall-clock UTC timestamps in the
 * contract's format (2026-11-28T09:15:02.123Z) for records, and a
 * monotonic millisecond clock for every duration and deadline.
 */
#ifndef ARUN_TIMEFMT_H
#define ARUN_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define TIMEFMT_ISO_LEN 25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

/* Formats ts (CLOCK_REALTIME) into out. Always NUL-terminates. */
void timefmt_iso(const struct timespec *ts, char out[TIMEFMT_ISO_LEN]);

/* Formats the current UTC time into out. */
void timefmt_now_iso(char out[TIMEFMT_ISO_LEN]);

/* Milliseconds on CLOCK_MONOTONIC: for durations only, never for records. */
int64_t timefmt_mono_ms(void);

#endif
