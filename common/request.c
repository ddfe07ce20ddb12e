/*
 * request: parsing and validating job requests with jansson, and building
 * them for producers.
 */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "utf8.h"

static int refuse(char reason[REQUEST_REASON_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refuse(char reason[REQUEST_REASON_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, REQUEST_REASON_MAX, fmt, ap);
    va_end(ap);
    /* jansson's messages quote the input, and the cut above may split a
     * character: a reason is stored and sent as JSON, so keep it UTF-8 */
    size_t n = strlen(reason);
    if (!utf8_valid(reason, n)) {
        char *clean = utf8_sanitize(reason, n, &n);
        if (!clean) {
            snprintf(reason, REQUEST_REASON_MAX, "request refused (reason not printable)");
            return -1;
        }
        if (n >= REQUEST_REASON_MAX) {
            n = REQUEST_REASON_MAX - 1;
            while (n > 0 && ((unsigned char)clean[n] & 0xC0) == 0x80)
                n--; /* do not end inside a character */
        }
        memcpy(reason, clean, n);
        reason[n] = '\0';
        free(clean);
    }
    return -1;
}

static int name_chars_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._:-") == n;
}

int request_id_valid(const char *id) { return name_chars_valid(id, REQUEST_ID_MAX); }

int request_queue_valid(const char *name) { return name_chars_valid(name, REQUEST_QUEUE_MAX); }

/* Reads an optional string field into out (NUL-free, < outsz bytes). */
static int get_short_string(json_t *o, const char *key, char *out, size_t outsz,
                            char reason[REQUEST_REASON_MAX])
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return refuse(reason, "field '%s' must be a string", key);
    size_t n = json_string_length(v);
    if (n >= outsz)
        return refuse(reason, "field '%s' is longer than %zu bytes", key, outsz - 1);
    if (memchr(json_string_value(v), '\0', n))
        return refuse(reason, "field '%s' contains a NUL byte", key);
    memcpy(out, json_string_value(v), n + 1);
    return 0;
}

static int parse_args(json_t *o, struct job_request *req, char reason[REQUEST_REASON_MAX])
{
    json_t *a = json_object_get(o, "args");
    if (!a)
        return 0;
    if (!json_is_array(a))
        return refuse(reason, "field 'args' must be an array of strings");
    size_t n = json_array_size(a);
    if (n > REQUEST_MAX_ARGS)
        return refuse(reason, "too many args (%zu > %d)", n, REQUEST_MAX_ARGS);
    if (n == 0)
        return 0;
    req->args = calloc(n, sizeof *req->args);
    if (!req->args)
        return refuse(reason, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s))
            return refuse(reason, "args[%zu] must be a string", i);
        size_t len = json_string_length(s);
        if (len > REQUEST_MAX_ARG_BYTES)
            return refuse(reason, "args[%zu] is longer than %d bytes", i, REQUEST_MAX_ARG_BYTES);
        if (memchr(json_string_value(s), '\0', len))
            return refuse(reason, "args[%zu] contains a NUL byte", i);
        req->args[i] = strdup(json_string_value(s));
        if (!req->args[i])
            return refuse(reason, "out of memory");
        req->nargs = i + 1;
    }
    return 0;
}

/* Sets req->id from a JSON string. Returns 0, or -1 (id left "") when id
 * is not a string of 1-64 of A-Za-z0-9._:- without NUL bytes. */
static int set_id(json_t *id, struct job_request *req)
{
    if (!json_is_string(id) || !request_id_valid(json_string_value(id)) ||
        strlen(json_string_value(id)) != json_string_length(id))
        return -1;
    strcpy(req->id, json_string_value(id));
    req->id_given = 1;
    return 0;
}

static int parse_fields(json_t *o, struct job_request *req, char reason[REQUEST_REASON_MAX])
{
    json_t *id = json_object_get(o, "id");
    if (id) {
        if (!json_is_string(id))
            return refuse(reason, "field 'id' must be a string");
        if (set_id(id, req) < 0)
            return refuse(reason, "field 'id' must be 1-%d characters of A-Za-z0-9._:-",
                          REQUEST_ID_MAX);
    }
    json_t *script = json_object_get(o, "script");
    if (!script)
        return refuse(reason, "field 'script' is required");
    if (get_short_string(o, "script", req->script, sizeof req->script, reason) < 0)
        return -1;
    if (parse_args(o, req, reason) < 0)
        return -1;
    json_t *t = json_object_get(o, "timeout_ms");
    if (t) {
        if (!json_is_integer(t))
            return refuse(reason, "field 'timeout_ms' must be an integer");
        json_int_t ms = json_integer_value(t);
        if (ms < REQUEST_TIMEOUT_MIN_MS || ms > REQUEST_TIMEOUT_MAX_MS)
            return refuse(reason, "field 'timeout_ms' must be %d-%d", REQUEST_TIMEOUT_MIN_MS,
                          REQUEST_TIMEOUT_MAX_MS);
        req->timeout_ms = ms;
    }
    if (get_short_string(o, "trigger", req->trigger, sizeof req->trigger, reason) < 0)
        return -1;
    /* queue and attempt are written by arun itself; a bad value is ignored
     * rather than refused, since the contract does not define them */
    char q[REQUEST_QUEUE_MAX + 1] = "";
    char ignored[REQUEST_REASON_MAX];
    if (get_short_string(o, "queue", q, sizeof q, ignored) == 0 && request_queue_valid(q))
        strcpy(req->queue, q);
    json_t *att = json_object_get(o, "attempt");
    if (json_is_integer(att) && json_integer_value(att) >= 1 &&
        json_integer_value(att) <= 1000000)
        req->attempt = (int)json_integer_value(att);
    return 0;
}

/* What one pass over the bytes finds before jansson sees them: whether
 * arrays and objects nest deeper than REQUEST_MAX_DEPTH (jansson would
 * build a tree 2,048 deep, and Redis's cjson, which the worker's recovery
 * script uses, refuses more than 1,000), and where the top object's last
 * "id" value is, so that a request refused for its depth can still be
 * announced under its id. Brackets inside strings do not count; for valid
 * JSON the depth is exact, and invalid JSON is refused by jansson anyway. */
struct prescan {
    int too_deep;
    const char *id_at; /* the id value's opening quote, or NULL */
    size_t id_len;     /* through its closing quote */
};

static void prescan(const char *raw, size_t len, struct prescan *ps)
{
    int depth = 0, top_object = 0, expect_key = 0, key_is_id = 0;
    memset(ps, 0, sizeof *ps);
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == '"') {
            size_t start = i++;
            while (i < len && raw[i] != '"')
                i += raw[i] == '\\' ? 2 : 1;
            if (i >= len)
                return; /* unterminated string: jansson says so */
            if (depth == 1 && top_object) {
                /* a string right after '{' or ',' is a key, else a value */
                if (expect_key)
                    key_is_id = i - start == 3 && memcmp(raw + start, "\"id", 3) == 0;
                else if (key_is_id)
                    ps->id_at = raw + start, ps->id_len = i - start + 1;
                expect_key = 0;
            }
        } else if (c == '{' || c == '[') {
            /* the scan goes on to the end: an id may come after the deep part */
            if (++depth > REQUEST_MAX_DEPTH)
                ps->too_deep = 1;
            if (depth == 1)
                top_object = expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = top_object;
        }
    }
}

/* Refuses a request nested too deep, naming its id when it has one. */
static int refuse_deep(const struct prescan *ps, struct job_request *req,
                       char reason[REQUEST_REASON_MAX])
{
    if (ps->id_at) {
        /* one string value: decoding it builds no tree */
        json_t *id = json_loadb(ps->id_at, ps->id_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        set_id(id, req);
        json_decref(id);
    }
    return refuse(reason, "request nests arrays or objects deeper than %d levels",
                  REQUEST_MAX_DEPTH);
}

int request_parse(const char *raw, size_t len, struct job_request *req,
                  char reason[REQUEST_REASON_MAX])
{
    memset(req, 0, sizeof *req);
    req->timeout_ms = REQUEST_TIMEOUT_DEFAULT_MS;
    strcpy(req->trigger, "manual");
    req->attempt = 1;
    reason[0] = '\0';
    if (len > REQUEST_MAX_BYTES)
        return refuse(reason, "request is %zu bytes, over the %d-byte limit", len,
                      REQUEST_MAX_BYTES);
    struct prescan ps;
    prescan(raw, len, &ps);
    if (ps.too_deep)
        return refuse_deep(&ps, req, reason);
    json_error_t jerr;
    /* JSON_ALLOW_NUL so that a NUL inside a string is refused by name
     * below, rather than as a confusing syntax error. Duplicate keys are
     * allowed and the last wins: recovery appends "attempt" that way. */
    json_t *o = json_loadb(raw, len, JSON_ALLOW_NUL, &jerr);
    if (!o)
        return refuse(reason, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
    int rc;
    if (!json_is_object(o)) {
        rc = refuse(reason, "request must be a JSON object");
    } else {
        /* id is parsed first and set only when valid, so on a later
         * refusal req->id still names the job for its announcement */
        rc = parse_fields(o, req, reason);
    }
    json_decref(o);
    return rc;
}

void request_free(struct job_request *req)
{
    for (size_t i = 0; i < req->nargs; i++)
        free(req->args[i]);
    free(req->args);
    req->args = NULL;
    req->nargs = 0;
}

char *request_build(const char *id, const char *script, char *const *args,
                    size_t nargs, int64_t timeout_ms, const char *trigger,
                    const char *queue)
{
    json_t *o = json_object();
    json_t *a = json_array();
    int bad = !o || !a;
    bad |= json_object_set_new(o, "id", json_string(id));
    bad |= json_object_set_new(o, "script", json_string(script));
    for (size_t i = 0; i < nargs && !bad; i++)
        bad |= json_array_append_new(a, json_string(args[i]));
    bad |= json_object_set(o, "args", a);
    bad |= json_object_set_new(o, "timeout_ms", json_integer(timeout_ms));
    bad |= json_object_set_new(o, "trigger", json_string(trigger));
    if (queue)
        bad |= json_object_set_new(o, "queue", json_string(queue));
    char *out = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    json_decref(o);
    return out;
}

char *request_with_id(const char *raw, size_t len, const char *id)
{
    struct prescan ps;
    prescan(raw, len, &ps);
    if (ps.too_deep)
        return NULL;
    json_t *o = json_loadb(raw, len, JSON_ALLOW_NUL, NULL);
    char *out = NULL;
    if (json_is_object(o) && json_object_set_new(o, "id", json_string(id)) == 0)
        out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

int request_new_id(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
    return 0;
}
