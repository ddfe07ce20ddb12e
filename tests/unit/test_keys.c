/*
 * test_keys: the key and channel names of the contract (P:queue:Q,
 * P:result:ID, P:stream:events, ...), and a name that does not fit in
 * KEYS_MAX refused with an empty key, never cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "keys.h"

static void test_shapes(void **state)
{
    (void)state;
    char k[KEYS_MAX];
    assert_int_equal(keys_queue(k, "arun", "default"), 0);
    assert_string_equal(k, "arun:queue:default");
    assert_int_equal(keys_result(k, "p", "7f1c"), 0);
    assert_string_equal(k, "p:result:7f1c");
    assert_int_equal(keys_stream(k, "arun"), 0);
    assert_string_equal(k, "arun:stream:events");
    assert_int_equal(keys_events(k, "arun"), 0);
    assert_string_equal(k, "arun:events");
    assert_int_equal(keys_delivery(k, "arun", ""), 0);
    assert_string_equal(k, "arun:delivery:");
    assert_int_equal(keys_cron_fired(k, "arun", "x"), 0);
    assert_string_equal(k, "arun:cron:fired:x");
}

static void test_too_long(void **state)
{
    (void)state;
    char k[KEYS_MAX], name[KEYS_MAX];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(keys_result(k, "arun", name), -1);
    assert_string_equal(k, "");
    /* the longest that fits: "arun:result:" + name = KEYS_MAX - 1 */
    name[KEYS_MAX - 1 - strlen("arun:result:")] = '\0';
    assert_int_equal(keys_result(k, "arun", name), 0);
    assert_int_equal(strlen(k), KEYS_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
