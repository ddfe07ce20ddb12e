/*
 * fuzz_whitelist_name: whitelist_normalise on arbitrary text. An accepted
 * name is 1..128 bytes of A-Za-z0-9_.-, never contains '/', '\\' or "..",
 * never starts with '.', is never "__init__", has no trailing ".py" left
 * when the input had one stripped, and is a prefix of the input; the
 * reason is set on refusal. Normalising an accepted name again gives the
 * same name (idempotent) unless it itself ends in ".py".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    if (!s)
        return 0;
    char out[WHITELIST_NAME_MAX + 1];
    char reason[256];
    memset(reason, 'x', sizeof reason);
    if (whitelist_normalise(s, out, reason) == 0) {
        size_t n = strlen(out);
        CHECK(n >= 1 && n <= WHITELIST_NAME_MAX);
        CHECK(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n);
        CHECK(!strchr(out, '/') && !strchr(out, '\\'));
        CHECK(!strstr(out, ".."));
        CHECK(out[0] != '.');
        CHECK(strcmp(out, "__init__") != 0);
        CHECK(strncmp(s, out, n) == 0);
        CHECK(strcmp(s + n, "") == 0 || strcmp(s + n, ".py") == 0);
        /* the file that would run: NAME.py, inside the folder */
        char file[WHITELIST_NAME_MAX + 4];
        snprintf(file, sizeof file, "%s.py", out);
        CHECK(strcmp(file, "__init__.py") != 0);
        char again[WHITELIST_NAME_MAX + 1], r2[256];
        if (n < 3 || strcmp(out + n - 3, ".py") != 0) {
            CHECK(whitelist_normalise(out, again, r2) == 0);
            CHECK(strcmp(again, out) == 0);
        }
    } else {
        CHECK(memchr(reason, '\0', sizeof reason) != NULL);
        CHECK(reason[0] != '\0');
    }
    free(s);
    return 0;
}
