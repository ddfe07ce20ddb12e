/*
 * dead: the envelope a refused request is kept in on P:dead. The request
 * is kept verbatim: as a JSON string when it is valid UTF-8, and also as
 * base64 ("request_base64") when it is not, so no byte is lost.
 */
#ifndef ARUN_DEAD_H
#define ARUN_DEAD_H

#include <stddef.h>

/* Returns {"reason", "request", ["request_base64",] "queue", "worker",
 * "at"} as JSON text, or NULL when out of memory. The caller frees it. */
char *dead_envelope(const char *raw, size_t len, const char *reason, const char *queue,
                    const char *worker, const char *at);

/* Encodes in[0..n) as base64 (RFC 4648, padded) into a new string the
 * caller frees; NULL when out of memory. */
char *dead_base64(const unsigned char *in, size_t n);

/* Decodes base64 (RFC 4648; padding optional, other characters skipped)
 * into a new buffer the caller frees, its length in *out_len; NULL when out
 * of memory. The inverse of dead_base64, for requeueing a letter. */
char *dead_unbase64(const char *in, size_t *out_len);

#endif
