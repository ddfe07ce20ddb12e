/*
 * fuzz_redis_url: redis_url_parse on arbitrary text. Invariants: the error
 * is NUL-terminated and set on refusal; on success every field is
 * NUL-terminated, a unix URL has an absolute path, a TCP URL a non-empty
 * host and a port in 1..65535, db in 0..100000; the parse is a function of
 * the text (a second parse agrees).
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
    int rc2 = redis_url_parse(s, &u2, err2);
    CHECK(rc2 == rc);
    if (rc == 0)
        CHECK(memcmp(&u, &u2, sizeof u) == 0);
    free(s);
    return 0;
}
