/*
 * b64: standard base64 (RFC 4648, "+/" alphabet, "=" padding), for the
 * Standard Webhooks secrets ("whsec_" + base64) and signatures.
 */
#ifndef ARUN_B64_H
#define ARUN_B64_H

#include <stddef.h>

/* Bytes b64_encode writes for n input bytes, NUL included. */
#define B64_ENCODED_SIZE(n) ((((n) + 2) / 3) * 4 + 1)

/* Encodes in[0..n) with padding into out, which must hold
 * B64_ENCODED_SIZE(n) bytes; NUL-terminates. Returns the length written
 * (without the NUL). */
size_t b64_encode(const unsigned char *in, size_t n, char *out);

/* Decodes s[0..len) (padding optional, no whitespace) into out, which holds
 * cap bytes. Returns the number of bytes decoded, or -1 when s is not
 * base64 or the result does not fit. */
long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap);

#endif
