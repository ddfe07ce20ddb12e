/*
 * test_sha1: sha1_hex against the FIPS 180 examples and the padding
 * boundaries (55, 56, 63, 64 and 119 bytes), and against libcrypto's SHA-1
 * on random buffers of every length up to 300 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha1.h"

static void check(const char *in, size_t len, const char *want)
{
    char got[SHA1_HEX_LEN + 1];
    sha1_hex(in, len, got);
    assert_string_equal(got, want);
}

static void test_vectors(void **state)
{
    (void)state;
    check("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    check(two, strlen(two), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check("The quick brown fox jumps over the lazy dog", 43,
          "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

static void oracle(const unsigned char *in, size_t len, char out[SHA1_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(in, len, md, &n, EVP_sha1(), NULL), 1);
    assert_int_equal(n, 20);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void test_against_libcrypto(void **state)
{
    (void)state;
    unsigned char buf[300];
    srand(12345);
    for (size_t len = 0; len <= sizeof buf; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)rand();
        char got[SHA1_HEX_LEN + 1], want[SHA1_HEX_LEN + 1];
        sha1_hex(buf, len, got);
        oracle(buf, len, want);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_against_libcrypto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
