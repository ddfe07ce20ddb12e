/*
 * fuzz_redis_url: redis_url_parse on arbitrary text. Invariants: the error
 * is NUL-terminated and set on refusal; on success every field is
 * NUL-terminated, a unix URL has an absolute path, a TCP URL a non-empty
 * host and a port in 1..65535, db in 0..100000; the parse is a function of
 * the text (a second parse agrees). redis_url_redact stays in its buffer,
 * however small; a parsed URL's redacted form parses again to the same
 * place, with "***" for a password.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    static struct redis_url u, u2;
    char err[128], err2[128];
    memset(err, 'x', sizeof err);
    int rc = redis_url_parse(s, &u, err);
    if (rc != 0) {
        CHECK(rc == -1);
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(err[0] != '\0');
    } else {
        CHECK(memchr(u.host, '\0', sizeof u.host) != NULL);
        CHECK(memchr(u.path, '\0', sizeof u.path) != NULL);
        CHECK(memchr(u.password, '\0', sizeof u.password) != NULL);
        if (u.is_unix) {
            CHECK(u.path[0] == '/');
        } else {
            CHECK(u.host[0] != '\0');
            CHECK(u.port >= 1 && u.port <= 65535);
        }
        CHECK(u.db >= 0 && u.db <= 100000);
    }
    static char shown[REDIS_URL_SHOWN_MAX];
    size_t small = size % 40;
    char *tight = malloc(small + 1); /* ASan sees a write past small */
    CHECK(tight != NULL);
    redis_url_redact(s, tight, small);
    CHECK(small == 0 || memchr(tight, '\0', small) != NULL);
    free(tight);
    CHECK(redis_url_redact(s, shown, sizeof shown) == shown);
    CHECK(memchr(shown, '\0', sizeof shown) != NULL);
    if (rc == 0 && strlen(shown) + 1 < sizeof shown) {
        CHECK(redis_url_parse(shown, &u2, err2) == 0);
        CHECK(u2.is_unix == u.is_unix && u2.port == u.port && u2.db == u.db);
        CHECK(strcmp(u2.host, u.host) == 0 && strcmp(u2.path, u.path) == 0);
        CHECK(strcmp(u2.password, u.password[0] ? "***" : "") == 0);
    }
    int rc2 = redis_url_parse(s, &u2, err2);
    CHECK(rc2 == rc);
    if (rc == 0)
        CHECK(memcmp(&u, &u2, sizeof u) == 0);
    free(s);
    return 0;
}
