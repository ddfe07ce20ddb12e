/*
 * whsig: Standard Webhooks signatures (https://www.standardwebhooks.com):
 * a secret is "whsec_" + base64 of the key; a signature is
 * "v1," + base64(HMAC-SHA256(key, "ID.TIMESTAMP.BODY")). Several keys (a
 * rotation) give several signatures, space-separated in one header.
 * HMAC is OpenSSL's libcrypto.
 */
#ifndef ARUN_WHSIG_H
#define ARUN_WHSIG_H

#include <stddef.h>
#include <stdint.h>

#define WHSIG_KEY_MAX 128  /* bytes of a decoded key */
#define WHSIG_SIG_MAX 48   /* "v1," + 44 base64 characters + NUL */

struct whsig_key {
    unsigned char key[WHSIG_KEY_MAX];
    size_t len;
};

/* Decodes a secret, "whsec_" + base64 (the prefix may be left out, as the
 * reference libraries allow). Returns 0, or -1 when it is not base64, is
 * empty or is longer than WHSIG_KEY_MAX bytes. */
int whsig_secret_parse(const char *secret, struct whsig_key *out);

/* Writes "v1,BASE64(HMAC-SHA256(key, "id.timestamp.body"))" into out.
 * Returns 0, or -1 if libcrypto fails. */
int whsig_sign(const struct whsig_key *k, const char *id, int64_t timestamp,
               const char *body, size_t body_len, char out[WHSIG_SIG_MAX]);

/* Writes the webhook-signature header value for nkeys keys: their
 * signatures separated by single spaces. out holds cap bytes (nkeys *
 * WHSIG_SIG_MAX is enough). Returns 0, or -1 on failure or when out is too
 * small. nkeys 0 writes "". */
int whsig_header(const struct whsig_key *keys, size_t nkeys, const char *id, int64_t timestamp,
                 const char *body, size_t body_len, char *out, size_t cap);

#endif
