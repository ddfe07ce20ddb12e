/*
 * resp: RESP arrays of bulk strings (see resp.h):
 * "*ARGC\r\n" then "$LEN\r\nBYTES\r\n" per argument.
 */
#include "resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmtint.h"

static size_t digits(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

long long resp_format_argv(char **out, int argc, const char *const *argv, const size_t *lens)
{
    *out = NULL;
    if (argc < 0)
        return -1;
    size_t total = 1 + digits((uint64_t)argc) + 2;
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        total += 1 + digits(len) + 2 + len + 2;
    }
    char *buf = malloc(total + 1);
    if (!buf)
        return -1;
    char *p = buf;
    *p++ = '*';
    p += fmtint_u64(p, (uint64_t)argc);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        size_t len = lens ? lens[i] : strlen(argv[i]);
        *p++ = '$';
        p += fmtint_u64(p, len);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    *p = '\0';
    *out = buf;
    return (long long)total;
}
