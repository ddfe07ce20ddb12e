/*
 * test_utf8: utf8_valid (RFC 3629: ASCII, 2/3/4-byte forms and their
 * boundaries, NUL allowed; overlongs, surrogates, bytes F5-FF, lone
 * continuation bytes, truncated sequences and code points over U+10FFFF
 * refused) and utf8_sanitize (valid text copied, each invalid byte and each
 * NUL replaced by U+FFFD, the result NUL-terminated, out_len exact).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define FFFD "\xEF\xBF\xBD"
#define V(lit) utf8_valid(lit, sizeof(lit) - 1)

static void test_valid(void **state)
{
    (void)state;
    assert_int_equal(utf8_valid("", 0), 1);
    assert_int_equal(V("hello"), 1);
    assert_int_equal(V("a\0b"), 1); /* NUL is valid UTF-8 */
    assert_int_equal(V("\xC2\x80"), 1);         /* U+0080 */
    assert_int_equal(V("\xC3\xA9t\xC3\xA9"), 1); /* été */
    assert_int_equal(V("\xDF\xBF"), 1);         /* U+07FF */
    assert_int_equal(V("\xE0\xA0\x80"), 1);     /* U+0800 */
    assert_int_equal(V("\xE2\x82\xAC"), 1);     /* € */
    assert_int_equal(V("\xED\x9F\xBF"), 1);     /* U+D7FF */
    assert_int_equal(V("\xEE\x80\x80"), 1);     /* U+E000 */
    assert_int_equal(V("\xEF\xBF\xBF"), 1);     /* U+FFFF */
    assert_int_equal(V("\xF0\x90\x80\x80"), 1); /* U+10000 */
    assert_int_equal(V("\xF0\x9F\x98\x80"), 1); /* emoji */
    assert_int_equal(V("\xF4\x8F\xBF\xBF"), 1); /* U+10FFFF */
}

static void test_invalid(void **state)
{
    (void)state;
    assert_int_equal(V("\xC0\x80"), 0);         /* overlong NUL */
    assert_int_equal(V("\xC1\xBF"), 0);         /* overlong */
    assert_int_equal(V("\xE0\x80\x80"), 0);     /* overlong 3-byte */
    assert_int_equal(V("\xE0\x9F\xBF"), 0);     /* overlong 3-byte */
    assert_int_equal(V("\xF0\x80\x80\x80"), 0); /* overlong 4-byte */
    assert_int_equal(V("\xF0\x8F\xBF\xBF"), 0); /* overlong 4-byte */
    assert_int_equal(V("\xED\xA0\x80"), 0);     /* U+D800 surrogate */
    assert_int_equal(V("\xED\xBF\xBF"), 0);     /* U+DFFF surrogate */
    assert_int_equal(V("\xF4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(V("\xF5\x80\x80\x80"), 0);
    assert_int_equal(V("\xF8\x88\x80\x80\x80"), 0);
    assert_int_equal(V("\xFE"), 0);
    assert_int_equal(V("\xFF"), 0);
    assert_int_equal(V("\x80"), 0);             /* lone continuation */
    assert_int_equal(V("a\xBF" "b"), 0);
    assert_int_equal(V("\xC3"), 0);             /* truncated 2-byte */
    assert_int_equal(V("\xE2\x82"), 0);         /* truncated 3-byte */
    assert_int_equal(V("\xF0\x9F\x98"), 0);     /* truncated 4-byte */
    assert_int_equal(V("\xE2\x82" "a"), 0);     /* interrupted */
    assert_int_equal(V("\xF0\x9F" "ab"), 0);
    assert_int_equal(V("\xC3\xC3\xA9"), 0);
    /* a valid sequence cut by len */
    assert_int_equal(utf8_valid("\xE2\x82\xAC", 2), 0);
}

static void expect_sanitized(const char *in, size_t inlen, const char *want, size_t wantlen)
{
    size_t n = 9999;
    char *out = utf8_sanitize(in, inlen, &n);
    assert_non_null(out);
    assert_int_equal(n, wantlen);
    assert_memory_equal(out, want, wantlen);
    assert_int_equal(out[n], '\0');
    assert_int_equal(utf8_valid(out, n), 1);
    assert_null(memchr(out, '\0', n));
    free(out);
}

#define S(in, want) expect_sanitized(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_sanitize(void **state)
{
    (void)state;
    S("", "");
    S("plain text\n", "plain text\n");
    S("\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");
    S("a\0b", "a" FFFD "b");
    S("\0", FFFD);
    S("\xC0\x80", FFFD FFFD);
    S("\xED\xA0\x80", FFFD FFFD FFFD);
    S("x\xF5y", "x" FFFD "y");
    S("\xFF\xFE", FFFD FFFD);
    S("ab\xE2\x82", "ab" FFFD FFFD);
    S("\xE2\x82" "c", FFFD FFFD "c");
    S("\xC3" "\xC3\xA9", FFFD "\xC3\xA9");
    S(FFFD, FFFD); /* a real U+FFFD is kept as is */

    /* out_len may be NULL */
    char *out = utf8_sanitize("a\x80", 2, NULL);
    assert_non_null(out);
    assert_string_equal(out, "a" FFFD);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
