/*
 * request: the job request a producer pushes (contract: "Job request").
 * Parsing is bounded (size, depth, counts) and strict about types; every
 * refusal comes with a one-line reason that is stored and shown to users.
 */
#ifndef ARUN_REQUEST_H
#define ARUN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQUEST_MAX_BYTES      (1024 * 1024) /* a larger request is dead-lettered */
#define REQUEST_MAX_DEPTH      64  /* nesting of arrays and objects, the top object being 1 */
#define REQUEST_MAX_ARGS       1024
#define REQUEST_MAX_ARG_BYTES  (64 * 1024)
#define REQUEST_ID_MAX         64
#define REQUEST_SCRIPT_MAX     128
#define REQUEST_TRIGGER_MAX    64
#define REQUEST_QUEUE_MAX      64
#define REQUEST_REASON_MAX     256
#define REQUEST_TIMEOUT_MIN_MS 1
#define REQUEST_TIMEOUT_MAX_MS 86400000
#define REQUEST_TIMEOUT_DEFAULT_MS 300000

struct job_request {
    char id[REQUEST_ID_MAX + 1];        /* "" when the request had no usable id */
    int id_given;                       /* 1: the producer set id */
    char script[REQUEST_SCRIPT_MAX + 1]; /* verbatim from the request (may be invalid) */
    char **args;                        /* nargs strings, NUL-free, owned */
    size_t nargs;
    int64_t timeout_ms;
    char trigger[REQUEST_TRIGGER_MAX + 1];
    char queue[REQUEST_QUEUE_MAX + 1];  /* optional origin hint, "" if none */
    int attempt;                        /* delivery number, 1 on first delivery */
};

/* Parses raw[0..len) into *req. Returns 0 when the request is well formed,
 * or -1 when it must be dead-lettered, with the reason in reason: over
 * REQUEST_MAX_BYTES, nested deeper than REQUEST_MAX_DEPTH anywhere (unknown
 * fields included; found by a scan before any tree is built), not JSON, or
 * a field of the wrong type or range. Even on -1, req->id is set when the
 * request carried a valid id (so the refusal can be announced) and every
 * field is safe to read. Free with request_free() in both cases. */
int request_parse(const char *raw, size_t len, struct job_request *req,
                  char reason[REQUEST_REASON_MAX]);

/* Frees what request_parse allocated (not req itself). */
void request_free(struct job_request *req);

/* Returns 1 if id is 1-64 characters of A-Za-z0-9._:- else 0. */
int request_id_valid(const char *id);

/* Returns 1 if a queue name is usable in a key: 1-64 characters of
 * A-Za-z0-9._:- else 0. */
int request_queue_valid(const char *name);

/* Builds a request as JSON text (the contract's format). args may be NULL
 * when nargs is 0; queue may be NULL. Returns a string the caller frees, or
 * NULL when an argument is not valid UTF-8 or memory runs out. */
char *request_build(const char *id, const char *script, char *const *args,
                    size_t nargs, int64_t timeout_ms, const char *trigger,
                    const char *queue);

/* Returns a copy of the request raw[0..len) with "id" set to id, other
 * fields (unknown ones included) kept. The caller frees it; NULL if raw is
 * not a JSON object or nests deeper than REQUEST_MAX_DEPTH. */
char *request_with_id(const char *raw, size_t len, const char *id);

/* Writes a random (version 4) UUID into out. Returns 0, or -1 if the
 * system's random source failed. */
int request_new_id(char out[37]);

#endif
