/*
 * dead: dead-letter envelopes for requests that could not be parsed.
 */
#include "dead.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "b64.h"
#include "utf8.h"

/* lenient decoding (dead_unbase64 skips what is not base64) */
static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *dead_base64(const unsigned char *in, size_t n)
{
    char *out = malloc(B64_ENCODED_SIZE(n));
    if (out)
        b64_encode(in, n, out);
    return out;
}

char *dead_unbase64(const char *in, size_t *out_len)
{
    size_t n = strlen(in), o = 0;
    char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        const char *p = strchr(tab, in[i]);
        if (!p)
            continue;
        v = (v << 6) | (unsigned)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xff);
        }
    }
    *out_len = o;
    return out;
}

char *dead_envelope(const char *raw, size_t len, const char *reason, const char *queue,
                    const char *worker, const char *at)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    char *why = utf8_sanitize(reason, strlen(reason), NULL); /* never lose the reason */
    json_object_set_new(o, "reason", json_string(why ? why : "(unprintable reason)"));
    free(why);
    char *out = NULL;
    if (utf8_valid(raw, len)) {
        json_object_set_new(o, "request", json_stringn(raw, len));
    } else {
        char *text = utf8_sanitize(raw, len, NULL);
        char *b64 = dead_base64((const unsigned char *)raw, len);
        if (!text || !b64) {
            free(text);
            free(b64);
            goto done;
        }
        json_object_set_new(o, "request", json_string(text));
        json_object_set_new(o, "request_base64", json_string(b64));
        free(text);
        free(b64);
    }
    json_object_set_new(o, "queue", json_string(queue));
    json_object_set_new(o, "worker", json_string(worker));
    json_object_set_new(o, "at", json_string(at));
    out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
    json_decref(o);
    return out;
}
