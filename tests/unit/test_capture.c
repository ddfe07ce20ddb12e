/*
 * test_capture: the bounded output buffer. Under the cap everything is kept
 * and no note is added; exactly at the cap nothing is dropped; over the cap
 * the first cap bytes are kept, total counts every byte, and capture_text
 * appends "\n[arun: output truncated: kept K of T bytes]"; cap 0 keeps
 * nothing; invalid UTF-8 and NUL bytes come out as U+FFFD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

#define FFFD "\xEF\xBF\xBD"

static void test_empty(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 100);
    assert_null(c.buf);
    assert_int_equal(c.len, 0);
    assert_int_equal(c.total, 0);
    char *t = capture_text(&c);
    assert_non_null(t);
    assert_string_equal(t, "");
    free(t);
    capture_free(&c);
}

static void test_under_cap(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 100);
    assert_int_equal(capture_append(&c, "hello ", 6), 0);
    assert_int_equal(capture_append(&c, "world\n", 6), 0);
    assert_int_equal(c.len, 12);
    assert_int_equal(c.total, 12);
    char *t = capture_text(&c);
    assert_string_equal(t, "hello world\n");
    free(t);
    capture_free(&c);
    assert_null(c.buf);
}

static void test_exactly_at_cap(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 10);
    assert_int_equal(capture_append(&c, "01234", 5), 0);
    assert_int_equal(capture_append(&c, "56789", 5), 0);
    assert_int_equal(c.len, 10);
    assert_int_equal(c.total, 10);
    assert_true(c.alloc <= 10);
    char *t = capture_text(&c);
    assert_string_equal(t, "0123456789");
    free(t);
    /* an empty append at the cap drops nothing */
    assert_int_equal(capture_append(&c, "", 0), 0);
    t = capture_text(&c);
    assert_string_equal(t, "0123456789");
    free(t);
    capture_free(&c);
}

static void test_over_cap(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 10);
    assert_int_equal(capture_append(&c, "0123456", 7), 0);
    assert_int_equal(capture_append(&c, "789abcdef", 9), 0);
    assert_int_equal(capture_append(&c, "ghij", 4), 0);
    assert_int_equal(c.len, 10);
    assert_int_equal(c.total, 20);
    char *t = capture_text(&c);
    assert_string_equal(t, "0123456789\n[arun: output truncated: kept 10 of 20 bytes]");
    free(t);
    capture_free(&c);
}

static void test_large_over_cap(void **state)
{
    (void)state;
    /* several growth steps, then far more than the cap */
    enum { CAP = 10000 };
    struct capture c;
    capture_init(&c, CAP);
    char chunk[3000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 100; i++)
        assert_int_equal(capture_append(&c, chunk, sizeof chunk), 0);
    assert_int_equal(c.len, CAP);
    assert_true(c.alloc <= CAP);
    assert_int_equal(c.total, 300000);
    char *t = capture_text(&c);
    char want_note[128];
    snprintf(want_note, sizeof want_note, "\n[arun: output truncated: kept %d of %d bytes]", CAP,
             300000);
    assert_int_equal(strlen(t), CAP + strlen(want_note));
    for (size_t i = 0; i < CAP; i++)
        assert_int_equal(t[i], 'x');
    assert_string_equal(t + CAP, want_note);
    free(t);
    capture_free(&c);
}

static void test_cap_zero(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 0);
    assert_int_equal(capture_append(&c, "abc", 3), 0);
    assert_int_equal(c.len, 0);
    assert_int_equal(c.total, 3);
    char *t = capture_text(&c);
    assert_string_equal(t, "\n[arun: output truncated: kept 0 of 3 bytes]");
    free(t);
    capture_free(&c);
}

static void test_invalid_bytes(void **state)
{
    (void)state;
    struct capture c;
    capture_init(&c, 100);
    assert_int_equal(capture_append(&c, "a\0b\xFF" "c\xC3\xA9", 7), 0);
    char *t = capture_text(&c);
    assert_string_equal(t, "a" FFFD "b" FFFD "c\xC3\xA9");
    free(t);
    capture_free(&c);

    /* a multi-byte character cut by the cap: the kept half is replaced,
     * the note counts raw bytes */
    capture_init(&c, 2);
    assert_int_equal(capture_append(&c, "a\xE2\x82\xAC", 4), 0);
    t = capture_text(&c);
    assert_string_equal(t, "a" FFFD "\n[arun: output truncated: kept 2 of 4 bytes]");
    free(t);
    capture_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_under_cap),
        cmocka_unit_test(test_exactly_at_cap),
        cmocka_unit_test(test_over_cap),
        cmocka_unit_test(test_large_over_cap),
        cmocka_unit_test(test_cap_zero),
        cmocka_unit_test(test_invalid_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
