/*
 * test_whsig: base64 (RFC 4648 vectors, strict decoding) and Standard
 * Webhooks signatures: the specification's published test vector, secrets
 * with and without "whsec_", and several keys giving several signatures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"
#include "whsig.h"

static void test_b64_vectors(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                      "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char out[16];
        size_t n = strlen(plain[i]);
        assert_int_equal(b64_encode((const unsigned char *)plain[i], n, out), strlen(enc[i]));
        assert_string_equal(out, enc[i]);
        unsigned char back[16];
        assert_int_equal(b64_decode(enc[i], strlen(enc[i]), back, sizeof back), (long)n);
        assert_memory_equal(back, plain[i], n);
    }
    unsigned char all[256], back[256];
    char out[B64_ENCODED_SIZE(256)];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    size_t l = b64_encode(all, 256, out);
    assert_int_equal(b64_decode(out, l, back, sizeof back), 256);
    assert_memory_equal(all, back, 256);
}

static void test_b64_refusals(void **state)
{
    (void)state;
    unsigned char out[16];
    assert_int_equal(b64_decode("Zm9v!", 5, out, sizeof out), -1);
    assert_int_equal(b64_decode("Z", 1, out, sizeof out), -1);
    assert_int_equal(b64_decode("Zh==", 4, out, sizeof out), -1); /* non-zero spare bits */
    assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5), -1);     /* does not fit */
    assert_int_equal(b64_decode("Zm9v", 4, out, 3), 3);
}

/* https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md */
static void test_spec_vector(void **state)
{
    (void)state;
    struct whsig_key k;
    assert_int_equal(whsig_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k), 0);
    assert_int_equal(k.len, 24);
    const char *body = "{\"test\": 2432232314}";
    char sig[WHSIG_SIG_MAX];
    assert_int_equal(whsig_sign(&k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                strlen(body), sig), 0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    struct whsig_key bare;
    assert_int_equal(whsig_secret_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &bare), 0);
    assert_int_equal(bare.len, k.len);
    assert_memory_equal(bare.key, k.key, k.len);
}

static void test_rotation(void **state)
{
    (void)state;
    struct whsig_key keys[2];
    assert_int_equal(whsig_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &keys[0]), 0);
    assert_int_equal(whsig_secret_parse("whsec_c2Vjb25kIHNlY3JldCBrZXk=", &keys[1]), 0);
    const char *body = "{\"test\": 2432232314}";
    char hdr[2 * WHSIG_SIG_MAX], one[WHSIG_SIG_MAX], two[WHSIG_SIG_MAX];
    assert_int_equal(whsig_header(keys, 2, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                  strlen(body), hdr, sizeof hdr), 0);
    whsig_sign(&keys[0], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), one);
    whsig_sign(&keys[1], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), two);
    char want[2 * WHSIG_SIG_MAX];
    snprintf(want, sizeof want, "%s %s", one, two);
    assert_string_equal(hdr, want);
    assert_string_not_equal(one, two);
    assert_int_equal(whsig_header(keys, 2, "x", 1, body, strlen(body), hdr, 20), -1);
    assert_int_equal(whsig_header(keys, 0, "x", 1, body, strlen(body), hdr, sizeof hdr), 0);
    assert_string_equal(hdr, "");
}

static void test_bad_secrets(void **state)
{
    (void)state;
    struct whsig_key k;
    assert_int_equal(whsig_secret_parse("whsec_", &k), -1);
    assert_int_equal(whsig_secret_parse("whsec_not base64!", &k), -1);
    char big[400];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(whsig_secret_parse(big, &k), -1); /* 299 bytes > WHSIG_KEY_MAX */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors), cmocka_unit_test(test_b64_refusals),
        cmocka_unit_test(test_spec_vector), cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_bad_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
