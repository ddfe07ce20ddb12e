/*
 * assets: the job history page's files (http/page/), compiled into the
 * binary by http/embed.cmake.
 */
#ifndef ARUN_HTTP_ASSETS_H
#define ARUN_HTTP_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path;          /* "/index.html" */
    const char *content_type;
    const unsigned char *data; /* NUL-terminated, len bytes before it */
    size_t len;
};

extern const struct asset assets[];
extern const unsigned assets_count;

#endif
