/*
 * fuzz_request: request_parse on arbitrary bytes, then request_with_id and
 * dead_envelope on the same input. Invariants (abort() on violation, so
 * libFuzzer keeps the input):
 *   - the reason is always NUL-terminated; empty on success, set on refusal;
 *   - on success: script is 1..128 bytes with no NUL, every arg is a
 *     NUL-free string of at most 64 KiB, nargs <= 1024, timeout_ms in
 *     [1, 86400000], trigger <= 64 bytes, queue "" or valid, attempt >= 1;
 *   - an id, when set (success or refusal), is a valid id;
 *   - the depth limit agrees with jansson's own tree: an accepted request
 *     nests at most REQUEST_MAX_DEPTH levels, and a JSON object that nests
 *     deeper is refused for its depth;
 *   - request_with_id on a JSON object gives a request whose id is the new
 *     one, and which parses when the original parsed, with the same fields;
 *   - dead_envelope is valid JSON that keeps the request byte for byte
 *     (as "request" or, when not UTF-8, as "request_base64") and a reason.
 * Leaks and memory errors are found by ASan/LSan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "dead.h"
#include "request.h"
#include "utf8.h"

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes padded base64; returns the length, or (size_t)-1 if malformed. */
static size_t b64decode(const char *s, unsigned char *out)
{
    size_t n = strlen(s), o = 0;
    if (n % 4)
        return (size_t)-1;
    for (size_t i = 0; i < n; i += 4) {
        int a = b64val(s[i]), b = b64val(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : b64val(s[i + 2]);
        int d = s[i + 3] == '=' ? 0 : b64val(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            return (size_t)-1;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        out[o++] = (unsigned char)(v >> 16);
        if (s[i + 2] != '=')
            out[o++] = (unsigned char)(v >> 8);
        if (s[i + 3] != '=')
            out[o++] = (unsigned char)v;
    }
    return o;
}

static void check_request(const struct job_request *req, int rc, const char *reason)
{
    CHECK(memchr(reason, '\0', REQUEST_REASON_MAX) != NULL);
    CHECK(memchr(req->id, '\0', sizeof req->id) != NULL);
    if (req->id[0])
        CHECK(request_id_valid(req->id));
    if (rc != 0) {
        CHECK(rc == -1);
        CHECK(reason[0] != '\0');
        return;
    }
    CHECK(reason[0] == '\0');
    CHECK(memchr(req->script, '\0', sizeof req->script) != NULL);
    CHECK(strlen(req->script) <= REQUEST_SCRIPT_MAX);
    CHECK(req->timeout_ms >= REQUEST_TIMEOUT_MIN_MS && req->timeout_ms <= REQUEST_TIMEOUT_MAX_MS);
    CHECK(req->nargs <= REQUEST_MAX_ARGS);
    CHECK(req->nargs == 0 || req->args != NULL);
    for (size_t i = 0; i < req->nargs; i++) {
        CHECK(req->args[i] != NULL);
        CHECK(strlen(req->args[i]) <= REQUEST_MAX_ARG_BYTES);
    }
    CHECK(memchr(req->trigger, '\0', sizeof req->trigger) != NULL);
    CHECK(memchr(req->queue, '\0', sizeof req->queue) != NULL);
    CHECK(req->queue[0] == '\0' || request_queue_valid(req->queue));
    CHECK(req->attempt >= 1);
    CHECK(req->id_given == (req->id[0] != '\0'));
}

/* Levels of arrays and objects in v, v itself included (0 for a scalar). */
static int tree_depth(json_t *v)
{
    int deepest = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) {
            int d = tree_depth(m);
            deepest = d > deepest ? d : deepest;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            int d = tree_depth(m);
            deepest = d > deepest ? d : deepest;
        }
    } else {
        return 0;
    }
    return deepest + 1;
}

static void check_depth(const uint8_t *data, size_t size, int rc, const char *reason)
{
    if (size > REQUEST_MAX_BYTES)
        return;
    json_t *o = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (!o) {
        CHECK(rc == -1);
        return;
    }
    int d = tree_depth(o);
    if (rc == 0)
        CHECK(d <= REQUEST_MAX_DEPTH);
    if (d > REQUEST_MAX_DEPTH)
        CHECK(rc == -1 && strstr(reason, "deeper than") != NULL);
    json_decref(o);
}

static void check_with_id(const uint8_t *data, size_t size, int rc0, const struct job_request *r0)
{
    static const char new_id[] = "fuzz-id_1.2:3";
    char *w = request_with_id((const char *)data, size, new_id);
    if (!w)
        return; /* not a JSON object */
    CHECK(strlen(w) <= REQUEST_MAX_BYTES * 8);
    struct job_request r1;
    char reason[REQUEST_REASON_MAX];
    int rc1 = request_parse(w, strlen(w), &r1, reason);
    check_request(&r1, rc1, reason);
    if (strlen(w) <= REQUEST_MAX_BYTES) {
        /* the id is parsed first, so it is set even when a later field is refused */
        CHECK(strcmp(r1.id, new_id) == 0);
        if (rc0 == 0) {
            CHECK(rc1 == 0);
            CHECK(strcmp(r0->script, r1.script) == 0);
            CHECK(r0->nargs == r1.nargs);
            for (size_t i = 0; i < r0->nargs; i++)
                CHECK(strcmp(r0->args[i], r1.args[i]) == 0);
            CHECK(r0->timeout_ms == r1.timeout_ms);
            CHECK(strcmp(r0->trigger, r1.trigger) == 0);
            CHECK(strcmp(r0->queue, r1.queue) == 0);
            CHECK(r0->attempt == r1.attempt);
        }
    }
    request_free(&r1);
    free(w);
}

static void check_dead(const uint8_t *data, size_t size, const char *reason)
{
    char *env = dead_envelope((const char *)data, size, reason, "default", "host:1:abc",
                              "2026-11-28T09:15:02.123Z");
    CHECK(env != NULL);
    json_error_t jerr;
    json_t *o = json_loads(env, JSON_ALLOW_NUL, &jerr); /* "\u0000" is valid JSON */
    CHECK(o != NULL && json_is_object(o));
    CHECK(json_is_string(json_object_get(o, "reason")));
    CHECK(strcmp(json_string_value(json_object_get(o, "reason")), reason) == 0);
    CHECK(json_is_string(json_object_get(o, "request")));
    json_t *b = json_object_get(o, "request_base64");
    if (utf8_valid((const char *)data, size)) {
        json_t *r = json_object_get(o, "request");
        CHECK(b == NULL);
        CHECK(json_string_length(r) == size);
        CHECK(size == 0 || memcmp(json_string_value(r), data, size) == 0);
    } else {
        CHECK(json_is_string(b));
        unsigned char *dec = malloc(size + 4);
        CHECK(dec != NULL);
        size_t n = b64decode(json_string_value(b), dec);
        CHECK(n == size);
        CHECK(memcmp(dec, data, size) == 0);
        free(dec);
        /* the readable copy is valid UTF-8 without NULs */
        json_t *r = json_object_get(o, "request");
        CHECK(strlen(json_string_value(r)) == json_string_length(r));
    }
    json_decref(o);
    free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct job_request req;
    char reason[REQUEST_REASON_MAX];
    memset(reason, 'x', sizeof reason);
    int rc = request_parse((const char *)data, size, &req, reason);
    check_request(&req, rc, reason);
    check_depth(data, size, rc, reason);
    check_with_id(data, size, rc, &req);
    check_dead(data, size, rc == 0 ? "fuzz: accepted" : reason);
    request_free(&req);
    return 0;
}
