/*
 * fmtint: integers as decimal text, without printf. The worker writes a
 * dozen numbers per job (the record's fields, RESP length headers, the
 * timestamps' digits); through snprintf they were a fifth of its own
 * instructions per job.
 */
#ifndef ARUN_FMTINT_H
#define ARUN_FMTINT_H

#include <stddef.h>
#include <stdint.h>

#define FMTINT_MAX 20 /* digits of UINT64_MAX, or a sign and those of INT64_MIN */

/* Writes v in decimal at out (no NUL); returns the length, at most 20. */
static inline size_t fmtint_u64(char *out, uint64_t v)
{
    char tmp[FMTINT_MAX];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Writes v in decimal, with a '-' when negative (no NUL); returns the length. */
static inline size_t fmtint_i64(char *out, int64_t v)
{
    if (v >= 0)
        return fmtint_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + fmtint_u64(out + 1, (uint64_t)0 - (uint64_t)v);
}

/* Writes the last `width` digits of v, zero-padded (no NUL). */
static inline void fmtint_pad(char *out, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

#endif
