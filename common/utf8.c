/*
 * utf8: validation and repair of UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 */
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid sequence at s (1-4), or 0 if invalid. */
static size_t seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = seq_len(p + i, len - i);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

/* Walks s, calling emit for each valid sequence or replacement; returns the
 * output length. With out NULL it only measures. */
static size_t sanitize_into(const unsigned char *p, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] ? seq_len(p + i, len - i) : 0;
        if (n) {
            if (out)
                memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            if (out)
                memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    return o;
}

char *utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
    /* two passes: measure, then copy, so a clean megabyte costs a megabyte */
    const unsigned char *p = (const unsigned char *)s;
    size_t n = sanitize_into(p, len, NULL);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    sanitize_into(p, len, out);
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return out;
}
