/*
 * test_request: request_parse on a full valid request, the defaults
 * (timeout 300000, trigger "manual", attempt 1), the script kept verbatim,
 * every dead-letter reason (not JSON, not an object, missing script, wrong
 * types, timeout bounds, too many args, NUL bytes, bad ids, over 1 MiB),
 * req.id kept on a later refusal and empty when the id itself is bad,
 * unknown fields ignored, duplicate keys (the last one wins), the queue and
 * attempt hints; request_build/request_parse roundtrip; request_with_id;
 * request_new_id's UUIDv4 format; request_id_valid/request_queue_valid;
 * the depth limit (64 levels fine, 65 and 1,500 refused, unknown fields
 * included, the id still found) and the scan's handling of strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "request.h"
#include "utf8.h"

static struct job_request req;
static char reason[REQUEST_REASON_MAX];

static void parse_ok(const char *raw)
{
    int rc = request_parse(raw, strlen(raw), &req, reason);
    if (rc != 0)
        print_error("refused %.80s: %s\n", raw, reason);
    assert_int_equal(rc, 0);
}

/* Expects a refusal whose reason contains want; leaves req to inspect. */
static void parse_bad(const char *raw, size_t len, const char *want)
{
    memset(reason, 0, sizeof reason);
    int rc = request_parse(raw, len, &req, reason);
    if (rc != -1)
        print_error("accepted %.80s\n", raw);
    assert_int_equal(rc, -1);
    assert_true(reason[0] != '\0');
    assert_null(strchr(reason, '\n'));
    if (!strstr(reason, want))
        print_error("reason \"%s\" lacks \"%s\"\n", reason, want);
    assert_non_null(strstr(reason, want));
}

#define BAD(lit, want) parse_bad(lit, strlen(lit), want)

static int teardown(void **state)
{
    (void)state;
    request_free(&req);
    return 0;
}

static void test_full(void **state)
{
    (void)state;
    parse_ok("{\"id\":\"job-1.a:b_c\",\"script\":\"calibration\",\"args\":[\"--days\",\"7\",\"\"],"
             "\"timeout_ms\":60000,\"trigger\":\"cron\"}");
    assert_string_equal(req.id, "job-1.a:b_c");
    assert_int_equal(req.id_given, 1);
    assert_string_equal(req.script, "calibration");
    assert_int_equal(req.nargs, 3);
    assert_string_equal(req.args[0], "--days");
    assert_string_equal(req.args[1], "7");
    assert_string_equal(req.args[2], "");
    assert_int_equal(req.timeout_ms, 60000);
    assert_string_equal(req.trigger, "cron");
    assert_string_equal(req.queue, "");
    assert_int_equal(req.attempt, 1);
}

static void test_defaults(void **state)
{
    (void)state;
    parse_ok("{\"script\":\"calibration\"}");
    assert_string_equal(req.id, "");
    assert_int_equal(req.id_given, 0);
    assert_int_equal(req.nargs, 0);
    assert_int_equal(req.timeout_ms, 300000);
    assert_int_equal(req.timeout_ms, REQUEST_TIMEOUT_DEFAULT_MS);
    assert_string_equal(req.trigger, "manual");
    assert_int_equal(req.attempt, 1);
    assert_string_equal(req.queue, "");
    request_free(&req);

    parse_ok("{\"script\":\"x\",\"args\":[]}");
    assert_int_equal(req.nargs, 0);
}

static void test_script_verbatim(void **state)
{
    (void)state;
    parse_ok("{\"script\":\"calibration.py\"}");
    assert_string_equal(req.script, "calibration.py");
    request_free(&req);
    /* not the parser's job to judge the name: the whitelist does that */
    parse_ok("{\"script\":\"../etc/passwd\"}");
    assert_string_equal(req.script, "../etc/passwd");
}

static void test_not_json(void **state)
{
    (void)state;
    BAD("{", "not JSON");
    request_free(&req);
    BAD("", "not JSON");
    request_free(&req);
    BAD("{\"script\":\"x\"} trailing", "not JSON");
    request_free(&req);
    BAD("[\"script\"]", "object");
    request_free(&req);
    BAD("[]", "object");
    request_free(&req);
    /* a scalar at the top is refused too (jansson calls it not JSON) */
    BAD("\"script\"", "");
    request_free(&req);
    BAD("42", "");
    request_free(&req);
    BAD("null", "");
}

/* jansson quotes the input in its messages, cutting characters in half:
 * the reason must still be valid UTF-8 (it is stored and sent as JSON). */
static void test_reason_is_utf8(void **state)
{
    (void)state;
    static const char raw[] = "{\"id\":\"n0\",\"script\":\"ev\\u800\xcb\x96\x93\"}";
    parse_bad(raw, sizeof raw - 1, "not JSON");
    assert_true(utf8_valid(reason, strlen(reason)));
    request_free(&req);
    char big[REQUEST_REASON_MAX * 2];
    memset(big, 0, sizeof big);
    strcpy(big, "{\"script\":\"");
    for (size_t i = strlen(big); i + 3 < sizeof big; i += 2)
        memcpy(big + i, "\xc3\xa9", 2); /* many é: the reason is cut inside one */
    parse_bad(big, strlen(big), "not JSON");
    assert_true(utf8_valid(reason, strlen(reason)));
}

static void test_missing_script(void **state)
{
    (void)state;
    BAD("{\"id\":\"job-2\"}", "script");
    assert_string_equal(req.id, "job-2");
    request_free(&req);
    BAD("{}", "script");
    assert_string_equal(req.id, "");
}

static void test_wrong_types(void **state)
{
    (void)state;
    BAD("{\"id\":5,\"script\":\"x\"}", "'id'");
    assert_string_equal(req.id, "");
    assert_int_equal(req.id_given, 0);
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":5}", "'script'");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":null}", "'script'");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"args\":\"--a\"}", "'args'");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"args\":{}}", "'args'");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"args\":[\"a\",1]}", "args[1]");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"args\":[null]}", "args[0]");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"timeout_ms\":\"5\"}", "timeout_ms");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"timeout_ms\":5.5}", "timeout_ms");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"timeout_ms\":5.0}", "timeout_ms");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"timeout_ms\":true}", "timeout_ms");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"trigger\":5}", "'trigger'");
    assert_string_equal(req.id, "j");
}

static void test_timeout_bounds(void **state)
{
    (void)state;
    BAD("{\"id\":\"j\",\"script\":\"x\",\"timeout_ms\":0}", "timeout_ms");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"script\":\"x\",\"timeout_ms\":86400001}", "timeout_ms");
    request_free(&req);
    BAD("{\"script\":\"x\",\"timeout_ms\":-1}", "timeout_ms");
    request_free(&req);
    BAD("{\"script\":\"x\",\"timeout_ms\":99999999999999999999}", "");
    request_free(&req);
    parse_ok("{\"script\":\"x\",\"timeout_ms\":1}");
    assert_int_equal(req.timeout_ms, 1);
    request_free(&req);
    parse_ok("{\"script\":\"x\",\"timeout_ms\":86400000}");
    assert_int_equal(req.timeout_ms, 86400000);
}

static char *args_request(size_t n)
{
    char *s = malloc(64 + n * 4);
    assert_non_null(s);
    strcpy(s, "{\"id\":\"many\",\"script\":\"x\",\"args\":[");
    size_t o = strlen(s);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, i ? ",\"a\"" : "\"a\"", i ? 4 : 3);
        o += i ? 4 : 3;
    }
    strcpy(s + o, "]}");
    return s;
}

static void test_arg_count(void **state)
{
    (void)state;
    char *s = args_request(REQUEST_MAX_ARGS);
    parse_ok(s);
    assert_int_equal(req.nargs, 1024);
    assert_string_equal(req.args[1023], "a");
    free(s);
    request_free(&req);

    s = args_request(REQUEST_MAX_ARGS + 1);
    BAD(s, "too many args");
    assert_string_equal(req.id, "many");
    free(s);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    BAD("{\"id\":\"j\",\"script\":\"x\",\"args\":[\"ok\",\"a\\u0000b\"]}", "NUL");
    assert_string_equal(req.id, "j");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\\u0000y\"}", "NUL");
    request_free(&req);
    BAD("{\"id\":\"j\",\"script\":\"x\",\"trigger\":\"\\u0000\"}", "NUL");
    request_free(&req);
    BAD("{\"id\":\"a\\u0000b\",\"script\":\"x\"}", "'id'");
    assert_string_equal(req.id, "");
    request_free(&req);
    /* a raw NUL byte in the text is not JSON */
    const char raw[] = "{\"script\":\"x\"}\0";
    parse_bad(raw, sizeof raw - 1, "not JSON");
}

static void test_bad_ids(void **state)
{
    (void)state;
    const char *bad[] = {"a b", "a/b", "", "é", "a\\\\b", "a*", "{x}", "\\n"};
    char buf[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"script\":\"x\"}", bad[i]);
        BAD(buf, "'id'");
        assert_string_equal(req.id, "");
        assert_int_equal(req.id_given, 0);
        request_free(&req);
    }
    char id[70];
    memset(id, 'a', 65);
    id[65] = '\0';
    snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"script\":\"x\"}", id);
    BAD(buf, "'id'");
    assert_string_equal(req.id, "");
    request_free(&req);

    id[64] = '\0';
    snprintf(buf, sizeof buf, "{\"id\":\"%s\",\"script\":\"x\"}", id);
    parse_ok(buf);
    assert_string_equal(req.id, id);
}

static void test_too_large(void **state)
{
    (void)state;
    size_t len = REQUEST_MAX_BYTES + 1;
    char *s = malloc(len + 1);
    assert_non_null(s);
    /* valid JSON, padded with spaces past the limit */
    const char *body = "{\"id\":\"big\",\"script\":\"x\"}";
    memset(s, ' ', len);
    memcpy(s, body, strlen(body));
    s[len] = '\0';
    parse_bad(s, len, "limit");
    free(s);
    request_free(&req);

    /* exactly at the limit is fine */
    s = malloc(REQUEST_MAX_BYTES);
    assert_non_null(s);
    memset(s, ' ', REQUEST_MAX_BYTES);
    memcpy(s, body, strlen(body));
    assert_int_equal(request_parse(s, REQUEST_MAX_BYTES, &req, reason), 0);
    assert_string_equal(req.id, "big");
    free(s);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    parse_ok("{\"script\":\"x\",\"priority\":9,\"meta\":{\"a\":[1,2,{\"b\":null}]},"
             "\"tags\":[\"x\"]}");
    assert_string_equal(req.script, "x");
}

static void test_duplicate_last_wins(void **state)
{
    (void)state;
    parse_ok("{\"script\":\"a\",\"script\":\"b\"}");
    assert_string_equal(req.script, "b");
    request_free(&req);
    /* what the worker's requeue does: append a later "attempt" */
    parse_ok("{\"script\":\"x\",\"attempt\":2,\"attempt\":3}");
    assert_int_equal(req.attempt, 3);
}

static void test_hints(void **state)
{
    (void)state;
    parse_ok("{\"script\":\"x\",\"queue\":\"fast\",\"attempt\":3}");
    assert_string_equal(req.queue, "fast");
    assert_int_equal(req.attempt, 3);
    request_free(&req);
    /* bad hints are ignored, not refused */
    parse_ok("{\"script\":\"x\",\"queue\":\"a b\",\"attempt\":0}");
    assert_string_equal(req.queue, "");
    assert_int_equal(req.attempt, 1);
    request_free(&req);
    parse_ok("{\"script\":\"x\",\"queue\":5,\"attempt\":\"2\"}");
    assert_string_equal(req.queue, "");
    assert_int_equal(req.attempt, 1);
    request_free(&req);
    parse_ok("{\"script\":\"x\",\"attempt\":2.5}");
    assert_int_equal(req.attempt, 1);
}

static void test_build_roundtrip(void **state)
{
    (void)state;
    char *args[] = {"--days", "7", "caf\xC3\xA9", "quote\"back\\slash\n"};
    char *s = request_build("job-9", "calibration", args, 4, 1234, "cron", "fast");
    assert_non_null(s);
    parse_ok(s);
    assert_string_equal(req.id, "job-9");
    assert_string_equal(req.script, "calibration");
    assert_int_equal(req.nargs, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(req.args[i], args[i]);
    assert_int_equal(req.timeout_ms, 1234);
    assert_string_equal(req.trigger, "cron");
    assert_string_equal(req.queue, "fast");
    free(s);
    request_free(&req);

    s = request_build("j", "x", NULL, 0, 300000, "manual", NULL);
    assert_non_null(s);
    parse_ok(s);
    assert_int_equal(req.nargs, 0);
    assert_string_equal(req.queue, "");
    free(s);

    char *badargs[] = {"ok", "\xFF"};
    assert_null(request_build("j", "x", badargs, 2, 1000, "manual", NULL));
}

static void test_with_id(void **state)
{
    (void)state;
    const char *raw = "{\"script\":\"x\",\"extra\":{\"k\":1},\"args\":[\"a\"]}";
    char *s = request_with_id(raw, strlen(raw), "new-id");
    assert_non_null(s);
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "new-id");
    assert_string_equal(json_string_value(json_object_get(o, "script")), "x");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "extra"), "k")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "args"), 0)), "a");
    json_decref(o);
    free(s);

    raw = "{\"id\":\"old\",\"script\":\"x\"}";
    s = request_with_id(raw, strlen(raw), "new");
    assert_non_null(s);
    parse_ok(s);
    assert_string_equal(req.id, "new");
    free(s);

    assert_null(request_with_id("[1]", 3, "x"));
    assert_null(request_with_id("{", 1, "x"));
}

static void test_new_id(void **state)
{
    (void)state;
    char a[37], b[37];
    assert_int_equal(request_new_id(a), 0);
    assert_int_equal(request_new_id(b), 0);
    assert_int_equal(strlen(a), 36);
    assert_true(strcmp(a, b) != 0);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_true(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));
    assert_int_equal(request_id_valid(a), 1);
    for (int k = 0; k < 200; k++) {
        assert_int_equal(request_new_id(b), 0);
        assert_int_equal(b[14], '4');
        assert_non_null(strchr("89ab", b[19]));
    }
}

static void test_name_validators(void **state)
{
    (void)state;
    assert_int_equal(request_id_valid("a"), 1);
    assert_int_equal(request_id_valid("A-z_0.9:x"), 1);
    assert_int_equal(request_id_valid(""), 0);
    assert_int_equal(request_id_valid("a b"), 0);
    assert_int_equal(request_id_valid("a/b"), 0);
    char s[70];
    memset(s, 'q', 64);
    s[64] = '\0';
    assert_int_equal(request_id_valid(s), 1);
    assert_int_equal(request_queue_valid(s), 1);
    s[64] = 'q';
    s[65] = '\0';
    assert_int_equal(request_id_valid(s), 0);
    assert_int_equal(request_queue_valid(s), 0);
    assert_int_equal(request_queue_valid("default"), 1);
    assert_int_equal(request_queue_valid("{x}"), 0);
}

/* A request whose "meta" nests arrays so that the whole request (the top
 * object being level 1) is depth levels deep. The caller frees it. */
static char *nested(const char *id, int depth, const char *inner)
{
    size_t n = (size_t)depth * 2 + strlen(inner) + 128;
    char *s = malloc(n);
    assert_non_null(s);
    int k = snprintf(s, n, "{\"id\":\"%s\",\"script\":\"echo\",\"meta\":", id);
    for (int i = 1; i < depth; i++)
        s[k++] = '[';
    k += sprintf(s + k, "%s", inner);
    for (int i = 1; i < depth; i++)
        s[k++] = ']';
    strcpy(s + k, "}");
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* 64 levels, the top object included, are fine */
    char *s = nested("d64", REQUEST_MAX_DEPTH, "1");
    parse_ok(s);
    assert_string_equal(req.id, "d64");
    free(s);
    request_free(&req);
    /* 65 are not, and the id is still known so the refusal is announced */
    s = nested("d65", REQUEST_MAX_DEPTH + 1, "1");
    parse_bad(s, strlen(s), "deeper than 64 levels");
    assert_string_equal(req.id, "d65");
    assert_int_equal(req.id_given, 1);
    free(s);
    request_free(&req);
    /* the 1,500 levels, inside an unknown field */
    s = nested("d1500", 1500, "\"x\"");
    parse_bad(s, strlen(s), "deeper than 64 levels");
    assert_string_equal(req.id, "d1500");
    free(s);
    request_free(&req);
    /* objects count as arrays do */
    char obj[1024] = "{\"script\":\"x\",\"m\":";
    for (int i = 1; i < REQUEST_MAX_DEPTH; i++)
        strcat(obj, "{\"a\":");
    strcat(obj, "1");
    for (int i = 1; i < REQUEST_MAX_DEPTH; i++)
        strcat(obj, "}");
    strcat(obj, "}");
    parse_ok(obj);
    request_free(&req);
    char deeper[1100];
    snprintf(deeper, sizeof deeper, "{\"id\":\"o\",\"m\":%s}", obj);
    BAD(deeper, "deeper than 64");
    assert_string_equal(req.id, "o");
    request_free(&req);
}

/* Brackets inside strings (escaped quotes included) are text, not nesting;
 * the id is found whatever its place, the last one winning, and not taken
 * from a nested object or from a value that is not an id. */
static void test_depth_scan_details(void **state)
{
    (void)state;
    char *many = malloc(400);
    assert_non_null(many);
    strcpy(many, "{\"script\":\"x\",\"args\":[\"");
    for (int i = 0; i < 100; i++)
        strcat(many, "[{");
    strcat(many, "\\\"[\"]}");
    parse_ok(many);
    assert_int_equal(req.nargs, 1);
    free(many);
    request_free(&req);

    /* a 70-deep value goes between head and tail; id: what the refusal names */
    static const struct { const char *head, *tail, *id; } cases[] = {
        {"{\"meta\":", ",\"id\":\"last\"}", "last"},       /* after the deep part */
        {"{\"id\":\"a\",\"x\":", ",\"id\":\"b\"}", "b"},    /* the last one wins */
        {"{\"x\":", "}", ""},                                /* only a nested id */
        {"{\"id\":\"bad id\",\"x\":", "}", ""},              /* not a valid id */
        {"{\"id\":7,\"x\":", "}", ""},                        /* not a string */
        {"{\"id\":\"a\\u0000\",\"x\":", "}", ""},           /* a NUL inside */
        {"{\"id\":\"\\u0041b\",\"x\":", "}", "Ab"},          /* escapes decoded */
    };
    char *s = nested("nested", 70, "1");
    char *t = malloc(strlen(s) + 64);
    assert_non_null(t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sprintf(t, "%s%s%s", cases[i].head, s, cases[i].tail);
        BAD(t, "deeper than");
        assert_string_equal(req.id, cases[i].id);
        assert_int_equal(req.id_given, cases[i].id[0] != '\0');
        request_free(&req);
    }
    free(t);
    free(s);

    /* a deep array at the top: no object, no id */
    s = nested("z", 80, "1");
    s[0] = '[';
    BAD(s, "deeper than");
    assert_string_equal(req.id, "");
    free(s);
    request_free(&req);

    /* request_with_id refuses to rebuild what request_parse refuses */
    s = nested("w", 65, "1");
    assert_null(request_with_id(s, strlen(s), "new"));
    free(s);
    s = nested("w", 64, "1");
    char *w = request_with_id(s, strlen(s), "new");
    assert_non_null(w);
    free(w);
    free(s);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_full),           T(test_defaults),        T(test_script_verbatim),
        T(test_reason_is_utf8),
        T(test_not_json),       T(test_missing_script),  T(test_wrong_types),
        T(test_timeout_bounds), T(test_arg_count),       T(test_nul_bytes),
        T(test_bad_ids),        T(test_too_large),       T(test_unknown_fields),
        T(test_duplicate_last_wins), T(test_hints),      T(test_build_roundtrip),
        T(test_with_id),        T(test_new_id),          T(test_name_validators),
        T(test_depth_limit),    T(test_depth_scan_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
