/*
 * parse: strict parsers for the numbers users type: durations with units
 * and bounded integers. Whole-string matches only; "12abc" is an error.
 */
#ifndef ARUN_PARSE_H
#define ARUN_PARSE_H

#include <stdint.h>

/* Parses a duration into milliseconds: a bare number is milliseconds, or a
 * number with a unit "ms", "s", "m" or "h" ("500ms", "30s", "5m", "1h").
 * Returns 0, or -1 for an empty, negative, malformed or overflowing value. */
int parse_duration_ms(const char *s, int64_t *out_ms);

/* Parses a decimal integer in [min, max]. Returns 0, or -1 when s is not a
 * whole decimal number or is out of range. */
int parse_int_range(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a size in bytes: a bare number, or a number with "K", "M" or "G"
 * (powers of 1024: "512M", "2G"). Returns 0, or -1 for an empty,
 * negative, malformed or overflowing value. */
int parse_size_bytes(const char *s, int64_t *out);

#endif
