/*
 * sha1: SHA-1 (FIPS 180-4) of a buffer, as lowercase hex. Used only to
 * name keys the way Redis's Lua redis.sha1hex() does (P:delivery:SHA1 of
 * a request, a script's EVALSHA digest), never for security: the worker
 * computes them itself instead of asking a script to.
 */
#ifndef ARUN_SHA1_H
#define ARUN_SHA1_H

#include <stddef.h>

#define SHA1_HEX_LEN 40

/* Writes the 40 hex digits of SHA-1(data[0..len)) and a NUL to out. */
void sha1_hex(const void *data, size_t len, char out[SHA1_HEX_LEN + 1]);

#endif
