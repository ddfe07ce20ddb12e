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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_event_nulls),
        cmocka_unit_test(test_result),
        cmocka_unit_test(test_result_empty),
        cmocka_unit_test(test_exit_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
