/*
 * test_resp: resp_format_argv against hiredis's redisFormatCommandArgv,
 * byte for byte, on fixed commands (no argument, empty arguments, NUL and
 * CR/LF bytes inside one, C strings without lengths) and on 20,000 random
 * argument lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

static void same(int argc, const char **argv, const size_t *lens)
{
    char *want = NULL, *got = NULL;
    long long wn = redisFormatCommandArgv(&want, argc, argv, lens);
    long long gn = resp_format_argv(&got, argc, argv, lens);
    assert_true(wn >= 0);
    assert_int_equal(gn, wn);
    assert_memory_equal(got, want, (size_t)wn);
    redisFreeCommand(want);
    free(got);
}

static void test_fixed(void **state)
{
    (void)state;
    same(0, NULL, NULL);
    const char *a[] = {"MGET", "", "k\r\n\0x"};
    size_t l[] = {4, 0, 6};
    same(3, a, l);
    char *got = NULL;
    const char *ping[] = {"PING"};
    size_t pl[] = {4};
    assert_int_equal(resp_format_argv(&got, 1, ping, pl), 14);
    assert_string_equal(got, "*1\r\n$4\r\nPING\r\n");
    free(got);
    const char *strs[] = {"XACK", "stream", "group", "1-0"};
    same(4, strs, NULL); /* no lengths: C strings */
}

static void test_random(void **state)
{
    (void)state;
    static char pool[70000];
    srand(99);
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (char)rand();
    for (int round = 0; round < 20000; round++) {
        int argc = rand() % 20;
        const char *argv[20];
        size_t lens[20];
        for (int i = 0; i < argc; i++) {
            lens[i] = rand() % 8 == 0 ? (size_t)(rand() % 66000) : (size_t)(rand() % 40);
            argv[i] = pool + rand() % (int)(sizeof pool - lens[i]);
        }
        same(argc, argv, lens);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
