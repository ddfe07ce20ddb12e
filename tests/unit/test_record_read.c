/*
 * test_record_read: record_read is the inverse of record.c. A result
 * record read back gives the row it was built from; an event gives the
 * row without output; a record with a bad or missing id or status, a
 * field of the wrong type or a text too long for its column is refused
 * with the field named, never cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_read.h"

static void fill(struct store_row *r)
{
    store_row_init(r);
    strcpy(r->id, "job-42");
    strcpy(r->script, "calibration");
    strcpy(r->trigger, "cron");
    strcpy(r->status, "error");
    r->has_exit_code = 1;
    r->exit_code = 3;
    r->stdout_text = "out \xC3\xA9\n\"quoted\"\x01";
    r->stderr_text = "warn\n";
    r->duration_ms = 1534;
    strcpy(r->created_at, "2026-11-28T09:15:02.123Z");
    strcpy(r->completed_at, "2026-11-28T09:15:03.657Z");
    r->args_json = "[\"--days\",\"7\"]";
    r->attempts = 2;
    strcpy(r->worker, "host-a:1234:abcd");
    strcpy(r->queue, "default");
    strcpy(r->started_at, "2026-11-28T09:15:02.200Z");
    r->cpu_user_ms = 120;
    r->cpu_sys_ms = 30;
    r->max_rss_kb = 9100;
}

static int read_text(const char *json, struct store_row *row, char err[128])
{
    return record_read(json, strlen(json), row, err);
}

static void result_round_trip(void **state)
{
    (void)state;
    struct store_row in, out;
    fill(&in);
    char *json = record_result_json(&in);
    char err[128];
    assert_int_equal(read_text(json, &out, err), 0);
    free(json);
    assert_string_equal(out.id, in.id);
    assert_string_equal(out.script, in.script);
    assert_string_equal(out.trigger, in.trigger);
    assert_string_equal(out.status, in.status);
    assert_true(out.has_exit_code);
    assert_int_equal(out.exit_code, 3);
    assert_false(out.has_signal);
    assert_string_equal(out.stdout_text, in.stdout_text);
    assert_string_equal(out.stderr_text, in.stderr_text);
    assert_int_equal(out.duration_ms, 1534);
    assert_string_equal(out.created_at, in.created_at);
    assert_string_equal(out.completed_at, in.completed_at);
    assert_string_equal(out.args_json, in.args_json);
    assert_int_equal(out.attempts, 2);
    assert_string_equal(out.worker, in.worker);
    assert_string_equal(out.queue, in.queue);
    assert_string_equal(out.started_at, in.started_at);
    assert_int_equal(out.cpu_user_ms, 120);
    assert_int_equal(out.cpu_sys_ms, 30);
    assert_int_equal(out.max_rss_kb, 9100);
    store_row_free(&out);
}

static void event_has_no_output(void **state)
{
    (void)state;
    struct store_row in, out;
    fill(&in);
    in.has_exit_code = 0;
    in.has_signal = 1;
    in.signal = 9;
    strcpy(in.status, "timeout");
    char *json = record_event_json(&in);
    char err[128];
    assert_int_equal(read_text(json, &out, err), 0);
    free(json);
    assert_string_equal(out.status, "timeout");
    assert_false(out.has_exit_code);
    assert_true(out.has_signal);
    assert_int_equal(out.signal, 9);
    assert_null(out.stdout_text);
    assert_null(out.stderr_text);
    assert_null(out.args_json);
    assert_string_equal(out.worker, "");
    store_row_free(&out);
}

static void defaults(void **state)
{
    (void)state;
    struct store_row out;
    char err[128];
    assert_int_equal(read_text("{\"id\":\"x\",\"status\":\"rejected\",\"extra\":[1]}", &out, err),
                     0);
    assert_string_equal(out.script, "");
    assert_string_equal(out.trigger, "manual");
    assert_int_equal(out.attempts, 1);
    assert_int_equal(out.duration_ms, -1);
    assert_string_equal(out.completed_at, "");
    store_row_free(&out);
    /* trigger_type, the result's column name, when trigger is absent */
    assert_int_equal(read_text("{\"id\":\"x\",\"status\":\"success\",\"trigger_type\":\"api\"}",
                               &out, err), 0);
    assert_string_equal(out.trigger, "api");
    store_row_free(&out);
}

static void refuse(const char *json, const char *field)
{
    struct store_row out;
    char err[128] = "";
    if (read_text(json, &out, err) == 0)
        fail_msg("accepted: %s", json);
    if (field && !strstr(err, field))
        fail_msg("reason \"%s\" does not name %s", err, field);
}

static void refusals(void **state)
{
    (void)state;
    refuse("", NULL);
    refuse("[1]", NULL);
    refuse("{\"status\":\"success\"}", "id");
    refuse("{\"id\":\"a/b\",\"status\":\"success\"}", "id");
    refuse("{\"id\":\"x\"}", "status");
    refuse("{\"id\":\"x\",\"status\":\"running\"}", "status"); /* not a final record */
    refuse("{\"id\":\"x\",\"status\":\"success\",\"exit_code\":\"0\"}", "exit_code");
    refuse("{\"id\":\"x\",\"status\":\"success\",\"stdout\":5}", "stdout");
    refuse("{\"id\":\"x\",\"status\":\"success\",\"args\":\"a\"}", "args");
    refuse("{\"id\":\"x\",\"status\":\"success\",\"attempts\":-1}", "attempts");
    refuse("{\"id\":\"x\",\"status\":\"success\",\"stdout\":\"a\\u0000b\"}", NULL);
    /* too long for its column: refused, not cut */
    char big[512];
    memset(big, 'q', 300);
    big[300] = '\0';
    char json[700];
    snprintf(json, sizeof json, "{\"id\":\"x\",\"status\":\"success\",\"script\":\"%s\"}", big);
    refuse(json, "script");
    snprintf(json, sizeof json, "{\"id\":\"x\",\"status\":\"success\",\"worker\":\"%s\"}", big);
    refuse(json, "worker");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(result_round_trip),
        cmocka_unit_test(event_has_no_output),
        cmocka_unit_test(defaults),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
