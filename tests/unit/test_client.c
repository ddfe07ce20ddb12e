/*
 * test_client: the pure parts of the producer's client, no Redis needed:
 * checking a job (each field refused with its name), the reused-id
 * comparison (ok == ok.py, args equal, other fields ignored, a record as
 * well as a request), ids of requests and events, heartbeat JSON of a
 * worker and which queues it takes, dead-letter envelopes, and client_new
 * refusing a bad URL or prefix and hiding a password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "client.h"

static void check_field(const struct client_job *job, const char *want)
{
    char err[CLIENT_ERR_MAX] = "";
    const char *field = "unset";
    int rc = client_job_check(job, err, &field);
    if (!want) {
        assert_int_equal(rc, 0);
        assert_null(field);
    } else {
        assert_int_equal(rc, -1);
        assert_non_null(field);
        assert_string_equal(field, want);
        assert_true(strlen(err) > 0);
    }
}

static void test_job_check(void **state)
{
    (void)state;
    char *args[] = {"--days", "30"};
    struct client_job ok = {.script = "calibration", .args = args, .nargs = 2};
    check_field(&ok, NULL);
    struct client_job j = ok;
    j.id = "bad id";
    check_field(&j, "id");
    j = ok;
    j.id = "cron:nightly:20261128T023000Z";
    check_field(&j, NULL);
    j = ok;
    j.script = "";
    check_field(&j, "script");
    j = ok;
    j.script = NULL;
    check_field(&j, "script");
    j = ok;
    j.timeout_ms = 86400001;
    check_field(&j, "timeout_ms");
    j.timeout_ms = -5;
    check_field(&j, "timeout_ms");
    j.timeout_ms = 86400000;
    check_field(&j, NULL);
    j = ok;
    j.trigger = "";
    check_field(&j, "trigger");
    j = ok;
    j.queue = "high,,default";
    check_field(&j, "queue");
    char *bad_utf8[] = {"ok", "\xff\xfe"};
    j = ok;
    j.args = bad_utf8;
    check_field(&j, "args");
    j = ok;
    j.nargs = REQUEST_MAX_ARGS + 1;
    check_field(&j, "args");
}

static void test_script_equal(void **state)
{
    (void)state;
    assert_true(client_script_equal("ok", "ok.py"));
    assert_true(client_script_equal("ok.py", "ok"));
    assert_true(client_script_equal("ok", "ok"));
    assert_false(client_script_equal("ok", "ok2"));
    assert_false(client_script_equal("ok.py.py", "ok"));
    assert_false(client_script_equal(".py", "py"));
}

static void test_same_job(void **state)
{
    (void)state;
    char *args[] = {"--days", "30"};
    const char *req = "{\"id\":\"x\",\"script\":\"calibration.py\",\"args\":[\"--days\",\"30\"],"
                      "\"timeout_ms\":5,\"trigger\":\"api\"}";
    assert_int_equal(client_same_job(req, strlen(req), "calibration", args, 2), 1);
    assert_int_equal(client_same_job(req, strlen(req), "regime", args, 2), 0);
    assert_int_equal(client_same_job(req, strlen(req), "calibration", args, 1), 0);
    char *other[] = {"--days", "31"};
    assert_int_equal(client_same_job(req, strlen(req), "calibration", other, 2), 0);
    /* no args at all equals [] */
    const char *bare = "{\"id\":\"x\",\"script\":\"regime\"}";
    assert_int_equal(client_same_job(bare, strlen(bare), "regime.py", NULL, 0), 1);
    assert_int_equal(client_same_job(bare, strlen(bare), "regime", args, 1), 0);
    /* a result record (args as stored, more fields) compares the same way */
    const char *rec = "{\"id\":\"x\",\"script\":\"regime\",\"status\":\"success\",\"args\":[\"--all\"]}";
    char *all[] = {"--all"};
    assert_int_equal(client_same_job(rec, strlen(rec), "regime", all, 1), 1);
    /* an arg with a NUL inside never equals a C string */
    const char *nul = "{\"script\":\"a\",\"args\":[\"x\\u0000y\"]}";
    char *x[] = {"x"};
    assert_int_equal(client_same_job(nul, strlen(nul), "a", x, 1), 0);
    assert_int_equal(client_same_job("nope", 4, "a", NULL, 0), -1);
    assert_int_equal(client_same_job("[1]", 3, "a", NULL, 0), -1);
}

static void test_request_id(void **state)
{
    (void)state;
    char id[REQUEST_ID_MAX + 1];
    const char *ev = "{\"event\":\"job.completed\",\"id\":\"7f1c\",\"status\":\"success\"}";
    assert_int_equal(client_event_id(ev, strlen(ev), id), 0);
    assert_string_equal(id, "7f1c");
    assert_int_equal(client_request_id("{\"id\":5}", 8, id), -1);
    assert_int_equal(client_request_id("{\"id\":\"a b\"}", 12, id), -1);
    assert_int_equal(client_request_id("{}", 2, id), -1);
    assert_int_equal(client_request_id("{", 1, id), -1);
}

static void test_worker_parse(void **state)
{
    (void)state;
    const char *hb = "{\"id\":\"host-1-abc\",\"pid\":4242,\"queues\":\"high,default\","
                     "\"concurrency\":4,\"running\":2,\"at\":\"2026-11-28T09:15:02.123Z\"}";
    struct client_worker w;
    assert_int_equal(client_worker_parse(hb, strlen(hb), &w), 0);
    assert_string_equal(w.id, "host-1-abc");
    assert_int_equal(w.pid, 4242);
    assert_string_equal(w.queues, "high,default");
    assert_int_equal(w.concurrency, 4);
    assert_int_equal(w.running, 2);
    assert_string_equal(w.at, "2026-11-28T09:15:02.123Z");
    assert_null(w.jobs);
    assert_true(client_worker_takes(&w, "high"));
    assert_true(client_worker_takes(&w, "default"));
    assert_false(client_worker_takes(&w, "hgih"));
    assert_false(client_worker_takes(&w, "hig"));
    assert_false(client_worker_takes(&w, "default,"));
    /* fields missing or of the wrong type read as zero/empty */
    const char *thin = "{\"id\":\"w\",\"pid\":\"x\"}";
    assert_int_equal(client_worker_parse(thin, strlen(thin), &w), 0);
    assert_int_equal(w.pid, 0);
    assert_string_equal(w.queues, "");
    assert_false(client_worker_takes(&w, "default"));
    assert_int_equal(client_worker_parse("{}", 2, &w), -1);
    assert_int_equal(client_worker_parse("x", 1, &w), -1);
}

static void test_dead_parse(void **state)
{
    (void)state;
    const char *env = "{\"reason\":\"not JSON\",\"request\":\"{oops\",\"queue\":\"high\","
                      "\"worker\":\"w1\",\"at\":\"2026-11-28T09:15:02.123Z\"}";
    struct client_dead d = {.number = 3};
    assert_int_equal(client_dead_parse(env, strlen(env), &d), 0);
    assert_int_equal(d.number, 3);
    assert_string_equal(d.request, "{oops");
    assert_string_equal(d.reason, "not JSON");
    assert_string_equal(d.queue, "high");
    assert_string_equal(d.at, "2026-11-28T09:15:02.123Z");
    assert_string_equal(d.raw, env);
    free(d.raw);
    free(d.request);
    free(d.reason);
    /* something else on the list is kept whole as the request */
    struct client_dead e = {0};
    assert_int_equal(client_dead_parse("garbage", 7, &e), 0);
    assert_string_equal(e.request, "garbage");
    assert_string_equal(e.reason, "");
    assert_string_equal(e.queue, "");
    free(e.raw);
    free(e.request);
    free(e.reason);
}

static void test_client_new(void **state)
{
    (void)state;
    char err[CLIENT_ERR_MAX] = "";
    struct client_options o = {.redis_url = "http://x", .prefix = "arun"};
    assert_null(client_new(&o, err));
    assert_true(strlen(err) > 0);
    o.redis_url = "redis://127.0.0.1:6379/0";
    o.prefix = "a b";
    assert_null(client_new(&o, err));
    o.prefix = NULL;
    o.redis_url = "redis://:s3cret@db.example:6380/2";
    struct client *cl = client_new(&o, err);
    assert_non_null(cl);
    assert_string_equal(client_url_shown(cl), "redis://:***@db.example:6380/2");
    assert_string_equal(client_prefix(cl), "arun");
    assert_null(strstr(client_url_shown(cl), "s3cret"));
    client_free(cl);
    cl = client_new(NULL, err);
    assert_non_null(cl);
    assert_string_equal(client_url_shown(cl), "redis://127.0.0.1:6379/0");
    client_free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_check),    cmocka_unit_test(test_script_equal),
        cmocka_unit_test(test_same_job),     cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_worker_parse), cmocka_unit_test(test_dead_parse),
        cmocka_unit_test(test_client_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
