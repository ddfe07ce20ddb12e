/*
 * test_record: record_event_json and record_result_json parse back with
 * jansson and carry the contract's fields (event: "event":"job.completed",
 * id, script, trigger, status, exit_code (null when absent), duration_ms,
 * created_at, completed_at, attempts; result: also stdout, stderr, args as
 * an array, trigger_type); record_exit_code maps statuses to the exit code
 * of arun-submit --wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "utf8.h"

static void fill(struct store_row *r)
{
    store_row_init(r);
    strcpy(r->id, "job-42");
    strcpy(r->script, "calibration");
    strcpy(r->trigger, "cron");
    strcpy(r->status, "success");
    r->has_exit_code = 1;
    r->exit_code = 0;
    r->stdout_text = "out \xC3\xA9\n";
    r->stderr_text = "warn\n";
    r->duration_ms = 1534;
    strcpy(r->created_at, "2026-11-28T09:15:02.123Z");
    strcpy(r->completed_at, "2026-11-28T09:15:03.657Z");
    r->args_json = "[\"--days\",\"7\"]";
    r->attempts = 1;
    strcpy(r->worker, "w1");
    strcpy(r->queue, "default");
}

static json_t *load(char *text)
{
    assert_non_null(text);
    json_error_t e;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (!o)
        print_error("bad JSON (%s): %s\n", e.text, text);
    assert_non_null(o);
    assert_true(json_is_object(o));
    free(text);
    return o;
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        print_error("field %s is not a string\n", k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        print_error("field %s is not an integer\n", k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_event(void **state)
{
    (void)state;
    struct store_row r;
    fill(&r);
    json_t *o = load(record_event_json(&r));
    assert_string_equal(str(o, "event"), "job.completed");
    assert_string_equal(str(o, "id"), "job-42");
    assert_string_equal(str(o, "script"), "calibration");
    assert_string_equal(str(o, "trigger"), "cron");
    assert_string_equal(str(o, "status"), "success");
    assert_int_equal(num(o, "exit_code"), 0);
    assert_int_equal(num(o, "duration_ms"), 1534);
    assert_string_equal(str(o, "created_at"), "2026-11-28T09:15:02.123Z");
    assert_string_equal(str(o, "completed_at"), "2026-11-28T09:15:03.657Z");
    assert_int_equal(num(o, "attempts"), 1);
    /* the event is small: no output in it */
    assert_null(json_object_get(o, "stdout"));
    assert_null(json_object_get(o, "stderr"));
    json_decref(o);
}

static void test_event_nulls(void **state)
{
    (void)state;
    struct store_row r;
    fill(&r);
    strcpy(r.status, "timeout");
    r.has_exit_code = 0;
    r.duration_ms = -1;
    r.completed_at[0] = '\0';
    json_t *o = load(record_event_json(&r));
    assert_string_equal(str(o, "status"), "timeout");
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_true(json_is_null(json_object_get(o, "duration_ms")));
    assert_true(json_is_null(json_object_get(o, "completed_at")));
    json_decref(o);
}

static void test_result(void **state)
{
    (void)state;
    struct store_row r;
    fill(&r);
    strcpy(r.status, "error");
    r.exit_code = 3;
    json_t *o = load(record_result_json(&r));
    assert_string_equal(str(o, "id"), "job-42");
    assert_string_equal(str(o, "script"), "calibration");
    assert_string_equal(str(o, "status"), "error");
    assert_int_equal(num(o, "exit_code"), 3);
    assert_string_equal(str(o, "trigger_type"), "cron");
    assert_string_equal(str(o, "stdout"), "out \xC3\xA9\n");
    assert_string_equal(str(o, "stderr"), "warn\n");
    assert_int_equal(num(o, "duration_ms"), 1534);
    assert_string_equal(str(o, "created_at"), "2026-11-28T09:15:02.123Z");
    assert_string_equal(str(o, "completed_at"), "2026-11-28T09:15:03.657Z");
    json_t *a = json_object_get(o, "args");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "--days");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "7");
    assert_null(json_object_get(o, "event"));
    json_decref(o);
}

static void test_result_empty(void **state)
{
    (void)state;
    struct store_row r;
    fill(&r);
    r.stdout_text = NULL;
    r.stderr_text = NULL;
    r.args_json = NULL;
    r.has_exit_code = 0;
    json_t *o = load(record_result_json(&r));
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    json_t *a = json_object_get(o, "args");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 0);
    json_t *so = json_object_get(o, "stdout");
    assert_true(json_is_null(so)); /* SQL NULL output is JSON null, not "" */
    json_decref(o);
}

static void test_exit_code(void **state)
{
    (void)state;
    assert_int_equal(record_exit_code("success", 1, 0, 0, 0), 0);
    assert_int_equal(record_exit_code("error", 1, 3, 0, 0), 3);
    assert_int_equal(record_exit_code("error", 0, 0, 1, 9), 137);
    assert_int_equal(record_exit_code("error", 0, 0, 1, 15), 143);
    assert_int_equal(record_exit_code("timeout", 0, 0, 1, 9), 124);
    assert_int_equal(record_exit_code("timeout", 1, 0, 0, 0), 124);
    assert_int_equal(record_exit_code("rejected", 0, 0, 0, 0), 125);
    assert_int_equal(record_exit_code("cancelled", 0, 0, 0, 0), 125);
    assert_int_equal(record_exit_code("failed", 0, 0, 0, 0), 125);
}

/* ---- differential: record's writer against jansson's json_dumps ------ */

static unsigned rnd_state = 20261130;
static unsigned rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) & 0xFFFFFF;
}

/* A random text of awkward pieces: quotes, backslashes, every control
 * character, DEL, multibyte UTF-8, and bytes that are not UTF-8. */
static char *rnd_text(size_t max)
{
    static const char *const pieces[] = {
        "a", "Z", " ", "\"", "\\", "/", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xff", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
    };
    size_t n = rnd() % max, len = 0;
    char *t = malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        char ctl[2] = {0, 0};
        if (rnd() % 4 == 0) {
            ctl[0] = (char)(1 + rnd() % 31); /* 0x01..0x1f */
            p = ctl;
        } else {
            p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
        }
        memcpy(t + len, p, strlen(p));
        len += strlen(p);
    }
    t[len] = '\0';
    return t;
}

static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *fixed = utf8_sanitize(s, strlen(s), NULL);
    json_t *v = json_string(fixed);
    free(fixed);
    return v;
}

static json_t *jint(int has, long long v) { return has ? json_integer(v) : json_null(); }

static void add_common(json_t *o, const struct store_row *r)
{
    json_object_set_new(o, "id", jstr(r->id));
    json_object_set_new(o, "script", jstr(r->script));
    json_object_set_new(o, "trigger", jstr(r->trigger));
    json_object_set_new(o, "status", jstr(r->status));
    json_object_set_new(o, "exit_code", jint(r->has_exit_code, r->exit_code));
    json_object_set_new(o, "duration_ms", jint(r->duration_ms >= 0, r->duration_ms));
    json_object_set_new(o, "created_at", jstr(r->created_at[0] ? r->created_at : NULL));
    json_object_set_new(o, "completed_at", jstr(r->completed_at[0] ? r->completed_at : NULL));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "signal", jint(r->has_signal, r->signal));
    json_object_set_new(o, "started_at", jstr(r->started_at[0] ? r->started_at : NULL));
    json_object_set_new(o, "cpu_user_ms", jint(r->cpu_user_ms >= 0, r->cpu_user_ms));
    json_object_set_new(o, "cpu_sys_ms", jint(r->cpu_sys_ms >= 0, r->cpu_sys_ms));
    json_object_set_new(o, "max_rss_kb", jint(r->max_rss_kb >= 0, r->max_rss_kb));
}

static void copy_field(char *dst, size_t size, size_t max)
{
    char *t = rnd_text(max);
    snprintf(dst, size, "%s", t);
    /* a cut may leave half a character: that is what the repair is for */
    free(t);
}

static void test_differential_against_jansson(void **state)
{
    (void)state;
    for (int round = 0; round < 20000; round++) {
        struct store_row r;
        store_row_init(&r);
        copy_field(r.id, sizeof r.id, 20);
        copy_field(r.script, sizeof r.script, 20);
        copy_field(r.trigger, sizeof r.trigger, 10);
        copy_field(r.status, sizeof r.status, 4);
        copy_field(r.worker, sizeof r.worker, 10);
        copy_field(r.queue, sizeof r.queue, 10);
        if (rnd() % 2)
            copy_field(r.created_at, sizeof r.created_at, 8);
        if (rnd() % 2)
            copy_field(r.completed_at, sizeof r.completed_at, 8);
        if (rnd() % 2)
            copy_field(r.started_at, sizeof r.started_at, 8);
        r.has_exit_code = rnd() % 2;
        r.exit_code = (int)(rnd() % 256);
        r.has_signal = rnd() % 2;
        r.signal = (int)(rnd() % 64);
        r.duration_ms = rnd() % 3 ? (int64_t)rnd() : -1;
        r.cpu_user_ms = rnd() % 3 ? (int64_t)rnd() : -1;
        r.cpu_sys_ms = rnd() % 3 ? (int64_t)rnd() : -1;
        r.max_rss_kb = rnd() % 3 ? (int64_t)rnd() : -1;
        r.attempts = (int)(rnd() % 5);
        r.stdout_text = rnd() % 5 ? rnd_text(200) : NULL;
        r.stderr_text = rnd() % 5 ? rnd_text(200) : NULL;
        json_t *args = json_array();
        for (unsigned i = 0, n = rnd() % 4; i < n; i++) {
            char *t = rnd_text(12);
            json_array_append_new(args, jstr(t));
            free(t);
        }
        r.args_json = json_dumps(args, JSON_COMPACT);

        json_t *ev = json_object();
        json_object_set_new(ev, "event", json_string("job.completed"));
        add_common(ev, &r);
        json_t *res = json_object();
        add_common(res, &r);
        json_object_set_new(res, "trigger_type", jstr(r.trigger));
        json_object_set_new(res, "stdout", jstr(r.stdout_text));
        json_object_set_new(res, "stderr", jstr(r.stderr_text));
        json_object_set_new(res, "args", args);
        json_object_set_new(res, "worker", jstr(r.worker[0] ? r.worker : NULL));
        json_object_set_new(res, "queue", jstr(r.queue[0] ? r.queue : NULL));

        int flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
        char *want_ev = json_dumps(ev, flags), *want_res = json_dumps(res, flags);
        char *got_ev = record_event_json(&r), *got_res = record_result_json(&r);
        if (strcmp(want_ev, got_ev) || strcmp(want_res, got_res))
            print_error("round %d differs:\n want %s\n  got %s\n want %s\n  got %s\n", round,
                        want_ev, got_ev, want_res, got_res);
        assert_string_equal(got_ev, want_ev);
        assert_string_equal(got_res, want_res);
        free(want_ev);
        free(want_res);
        free(got_ev);
        free(got_res);
        json_decref(ev);
        json_decref(res);
        free(r.stdout_text);
        free(r.stderr_text);
        free(r.args_json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_event_nulls),
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_result_empty),
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test(test_differential_against_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
