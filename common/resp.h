/*
 * resp: a Redis command in RESP (an array of bulk strings), formatted
 * without printf. hiredis's redisFormatCommandArgv calls sprintf for each
 * argument's length header; the worker sends three commands a job.
 */
#ifndef ARUN_RESP_H
#define ARUN_RESP_H

#include <stddef.h>

/* Formats argv[0..argc) (lens[i] bytes each; with lens NULL, each is a C
 * string, as with hiredis) into a malloc'd buffer at *out, owned by the
 * caller (free()). Returns its length, or -1 when out of memory (*out is
 * then NULL). */
long long resp_format_argv(char **out, int argc, const char *const *argv, const size_t *lens);

#endif
