/*
 * capture: bounded output buffers.
 */
#include "capture.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define CAPTURE_FIRST_ALLOC 4096

void capture_init(struct capture *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->cap = cap;
}

int capture_append(struct capture *c, const char *data, size_t n)
{
    c->total += n;
    size_t room = c->cap - c->len;
    size_t keep = n < room ? n : room;
    if (!keep)
        return 0;
    if (c->len + keep > c->alloc) {
        /* grow geometrically, but never past the cap */
        size_t want = c->alloc ? c->alloc * 2 : CAPTURE_FIRST_ALLOC;
        while (want < c->len + keep)
            want *= 2;
        if (want > c->cap)
            want = c->cap;
        char *grown = realloc(c->buf, want);
        if (!grown) {
            c->cap = c->len; /* keep what we have; drop the rest */
            return -1;
        }
        c->buf = grown;
        c->alloc = want;
    }
    memcpy(c->buf + c->len, data, keep);
    c->len += keep;
    return 0;
}

char *capture_text(const struct capture *c)
{
    size_t n;
    char *text = utf8_sanitize(c->buf ? c->buf : "", c->len, &n);
    if (!text || c->total == c->len)
        return text;
    char note[96];
    int m = snprintf(note, sizeof note, "\n[arun: output truncated: kept %zu of %" PRIu64 " bytes]",
                     c->len, c->total);
    char *out = realloc(text, n + (size_t)m + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out + n, note, (size_t)m + 1);
    return out;
}

void capture_free(struct capture *c)
{
    free(c->buf);
    c->buf = NULL;
    c->len = c->alloc = 0;
}
