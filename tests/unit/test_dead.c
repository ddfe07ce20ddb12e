/*
 * test_dead: dead_base64 against the RFC 4648 section 10 test vectors and
 * arbitrary bytes, and dead_envelope: valid UTF-8 is kept verbatim as
 * "request" with no "request_base64"; invalid UTF-8 is kept as sanitised
 * "request" plus "request_base64" that decodes back to the exact bytes;
 * reason, queue, worker and at are carried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dead.h"

static void b64(const char *in, const char *want)
{
    char *out = dead_base64((const unsigned char *)in, strlen(in));
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    b64("", "");
    b64("f", "Zg==");
    b64("fo", "Zm8=");
    b64("foo", "Zm9v");
    b64("foob", "Zm9vYg==");
    b64("fooba", "Zm9vYmE=");
    b64("foobar", "Zm9vYmFy");
}

static void test_binary(void **state)
{
    (void)state;
    const unsigned char in[] = {0x00, 0xFF, 0xFE, 0x3E, 0x3F, 0x80};
    char *out = dead_base64(in, sizeof in);
    assert_string_equal(out, "AP/+Pj+A");
    free(out);
    out = dead_base64(in, 1);
    assert_string_equal(out, "AA==");
    free(out);
}

/* Decodes standard padded base64; returns the length or -1. */
static int unb64(const char *s, unsigned char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    if (n % 4)
        return -1;
    int o = 0;
    for (size_t i = 0; i < n; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            v <<= 6;
            if (s[i + k] == '=') {
                pad++;
                continue;
            }
            const char *p = strchr(tab, s[i + k]);
            if (!p || pad)
                return -1;
            v |= (unsigned)(p - tab);
        }
        out[o++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)v;
    }
    return o;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    if (!o)
        print_error("bad JSON: %s\n", e.text);
    assert_non_null(o);
    assert_true(json_is_object(o));
    return o;
}

static void check_common(json_t *o, const char *reason)
{
    assert_string_equal(json_string_value(json_object_get(o, "reason")), reason);
    assert_string_equal(json_string_value(json_object_get(o, "queue")), "default");
    assert_string_equal(json_string_value(json_object_get(o, "worker")), "w1");
    assert_string_equal(json_string_value(json_object_get(o, "at")),
                        "2026-11-28T09:15:02.123Z");
}

static void test_envelope_valid_utf8(void **state)
{
    (void)state;
    const char raw[] = "{\"script\": 5, \"note\": \"caf\xC3\xA9\"}";
    char *text = dead_envelope(raw, strlen(raw), "field 'script' must be a string", "default",
                               "w1", "2026-11-28T09:15:02.123Z");
    assert_non_null(text);
    json_t *o = load(text);
    check_common(o, "field 'script' must be a string");
    assert_string_equal(json_string_value(json_object_get(o, "request")), raw);
    assert_null(json_object_get(o, "request_base64"));
    json_decref(o);
    free(text);
}

static void test_envelope_invalid_utf8(void **state)
{
    (void)state;
    const char raw[] = "{\"script\":\"x\xFF\xC0\x80\"}\0tail";
    size_t len = sizeof raw - 1;
    char *text = dead_envelope(raw, len, "not JSON", "default", "w1",
                               "2026-11-28T09:15:02.123Z");
    assert_non_null(text);
    json_t *o = load(text);
    check_common(o, "not JSON");
    const char *req = json_string_value(json_object_get(o, "request"));
    assert_non_null(req);
    assert_non_null(strstr(req, "\xEF\xBF\xBD"));
    const char *b = json_string_value(json_object_get(o, "request_base64"));
    assert_non_null(b);
    unsigned char back[sizeof raw];
    int n = unb64(b, back);
    assert_int_equal(n, (int)len);
    assert_memory_equal(back, raw, len);
    json_decref(o);
    free(text);
}

static void test_envelope_with_nul(void **state)
{
    (void)state;
    /* NUL is valid UTF-8: kept as a JSON string with the NUL escaped */
    const char raw[] = "ab\0cd";
    char *text = dead_envelope(raw, 5, "not JSON", "default", "w1",
                               "2026-11-28T09:15:02.123Z");
    assert_non_null(text);
    json_error_t e;
    json_t *o = json_loads(text, JSON_ALLOW_NUL, &e);
    assert_non_null(o);
    json_t *r = json_object_get(o, "request");
    assert_int_equal(json_string_length(r), 5);
    assert_memory_equal(json_string_value(r), raw, 5);
    json_decref(o);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_envelope_valid_utf8),
        cmocka_unit_test(test_envelope_invalid_utf8),
        cmocka_unit_test(test_envelope_with_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
