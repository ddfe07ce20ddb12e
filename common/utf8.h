/*
 * utf8: makes captured bytes safe to store as TEXT and to put in JSON.
 * Scripts may print anything; JSON strings must be valid UTF-8.
 */
#ifndef ARUN_UTF8_H
#define ARUN_UTF8_H

#include <stddef.h>

/* Returns 1 when s[0..len) is valid UTF-8 (NUL bytes allowed), else 0. */
int utf8_valid(const char *s, size_t len);

/* Returns a new NUL-terminated copy of s[0..len) with each invalid byte
 * replaced by U+FFFD and each NUL byte by U+FFFD too (TEXT columns and C
 * strings end at NUL). *out_len gets the new length. The caller frees the
 * result; NULL only when out of memory. */
char *utf8_sanitize(const char *s, size_t len, size_t *out_len);

#endif
