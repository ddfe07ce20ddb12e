/*
 * fuzz.h: what every libFuzzer target here shares: an invariant check that
 * names the target and line, and a NUL-terminated copy of the input for
 * parsers that take C strings.
 */
#ifndef ARUN_FUZZ_H
#define ARUN_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Aborts (a finding for libFuzzer) when cond is false. */
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s: invariant failed: %s (line %d)\n", __FILE__, #cond, \
                    __LINE__);                                                       \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* Returns data[0..size) as a new NUL-terminated string (the caller frees
 * it), or NULL when out of memory. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
