/*
 * whsig: Standard Webhooks signing with libcrypto's HMAC-SHA256 (whsig.h).
 */
#include "whsig.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "b64.h"

#define WHSIG_PREFIX "whsec_"

int whsig_secret_parse(const char *secret, struct whsig_key *out)
{
    size_t pl = strlen(WHSIG_PREFIX);
    if (strncmp(secret, WHSIG_PREFIX, pl) == 0)
        secret += pl;
    long n = b64_decode(secret, strlen(secret), out->key, sizeof out->key);
    if (n <= 0)
        return -1;
    out->len = (size_t)n;
    return 0;
}

int whsig_sign(const struct whsig_key *k, const char *id, int64_t timestamp,
               const char *body, size_t body_len, char out[WHSIG_SIG_MAX])
{
    char head[160];
    int hl = snprintf(head, sizeof head, "%s.%" PRId64 ".", id, timestamp);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return -1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    int ok = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    if (ctx && EVP_MAC_init(ctx, k->key, k->len, params) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)head, (size_t)hl) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1 &&
        EVP_MAC_final(ctx, mac, &maclen, sizeof mac) == 1 && maclen == 32)
        ok = 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    if (!ok)
        return -1;
    memcpy(out, "v1,", 3);
    b64_encode(mac, maclen, out + 3);
    return 0;
}

int whsig_header(const struct whsig_key *keys, size_t nkeys, const char *id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    for (size_t i = 0; i < nkeys; i++) {
        char sig[WHSIG_SIG_MAX];
        if (whsig_sign(&keys[i], id, timestamp, body, body_len, sig) < 0)
            return -1;
        size_t sl = strlen(sig);
        if (o + (i > 0) + sl + 1 > cap)
            return -1;
        if (i > 0)
            out[o++] = ' ';
        memcpy(out + o, sig, sl + 1);
        o += sl;
    }
    return 0;
}
