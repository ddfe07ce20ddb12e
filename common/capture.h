/*
 * capture: the kept part of a job's stdout or stderr. The first `cap`
 * bytes are kept; everything after is counted and dropped, so a script
 * that prints gigabytes costs the worker at most `cap` bytes per stream.
 */
#ifndef ARUN_CAPTURE_H
#define ARUN_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture {
    char *buf;      /* owned; NULL until the first byte */
    size_t len;     /* bytes kept, <= cap */
    size_t alloc;   /* bytes allocated */
    size_t cap;     /* most bytes kept */
    uint64_t total; /* bytes seen */
};

/* Starts an empty capture keeping at most cap bytes. */
void capture_init(struct capture *c, size_t cap);

/* Appends data, keeping what fits under the cap. Returns 0, or -1 when
 * memory ran out (the bytes are then counted as dropped). */
int capture_append(struct capture *c, const char *data, size_t n);

/* Returns the kept bytes as UTF-8 text (invalid bytes and NULs replaced),
 * with "\n[arun: output truncated: kept K of T bytes]" appended when bytes
 * were dropped. The caller frees it; NULL only when out of memory. */
char *capture_text(const struct capture *c);

/* Frees the buffer. */
void capture_free(struct capture *c);

#endif
