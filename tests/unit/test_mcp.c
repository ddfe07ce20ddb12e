/*
 * test_mcp: the transport-free MCP server (common/mcp.c) with fake tools:
 * JSON-RPC errors (-32700 for a line that is not JSON, -32600 for a batch
 * or a message that is not JSON-RPC, -32601 for an unknown method, -32602
 * for an unknown tool or arguments outside the schema), version
 * negotiation, the lifecycle, a tool that finishes later, progress,
 * notifications/cancelled; and mcp_schema and mcp_job on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mcp.h"
#include "mcp_job.h"
#include "mcp_schema.h"

/* ---- a fake transport: every message sent, in order ---------------------- */

#define MAX_SENT 16
static json_t *sent[MAX_SENT];
static int finals[MAX_SENT];
static size_t nsent;

static void reset(void)
{
    for (size_t i = 0; i < nsent; i++)
        json_decref(sent[i]);
    nsent = 0;
}

static void send_fn(void *transport, void *origin, const char *json, int final)
{
    (void)transport;
    (void)origin;
    assert_true(nsent < MAX_SENT);
    if (json) {
        assert_null(strchr(json, '\n')); /* stdio: one message a line */
        sent[nsent] = json_loads(json, 0, NULL);
        assert_non_null(sent[nsent]);
    } else {
        sent[nsent] = json_null();
    }
    finals[nsent++] = final;
}

/* ---- fake tools ------------------------------------------------------------- */

static struct mcp_call *held; /* the call "later" has not finished yet */
static int aborted;

static void echo_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    (void)ctx;
    mcp_call_finish(call, json_pack("{s:O}", "echo", (json_t *)args), 0);
}

static void on_abort(void *arg)
{
    (void)arg;
    aborted++;
    held = NULL;
}

static void later_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    (void)args;
    (void)ctx;
    held = call;
    mcp_call_on_abort(call, on_abort, NULL);
}

static const struct mcp_tool tools[] = {
    {"echo", "Echo", "returns its arguments",
     "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":3},"
     "\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5},"
     "\"a\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
     "\"id\":{\"type\":\"string\",\"pattern\":\"^[a-z]{1,4}$\"}},"
     "\"required\":[\"s\"],\"additionalProperties\":false}",
     "{\"type\":\"object\"}", echo_tool},
    {"later", "Later", "finishes when the test says", "{\"type\":\"object\"}", NULL, later_tool},
};

static struct mcp_server *srv;
static struct mcp_session *ses;

static int setup(void **state)
{
    (void)state;
    char err[256];
    srv = mcp_server_new(tools, 2, NULL, err);
    assert_non_null(srv);
    ses = mcp_session_new(srv, send_fn, NULL);
    assert_non_null(ses);
    held = NULL;
    aborted = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mcp_session_free(ses);
    mcp_server_free(srv);
    reset();
    return 0;
}

static enum mcp_input in(const char *text)
{
    return mcp_session_input(ses, text, strlen(text), NULL);
}

static int error_code(size_t i)
{
    return (int)json_integer_value(json_object_get(json_object_get(sent[i], "error"), "code"));
}

static void init(const char *version)
{
    char msg[256];
    snprintf(msg, sizeof msg,
             "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
             "{\"protocolVersion\":\"%s\",\"capabilities\":{},"
             "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}",
             version);
    assert_int_equal(in(msg), MCP_IN_REQUEST);
    assert_int_equal(in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
                     MCP_IN_NOTIFICATION);
}

static void negotiation(void **state)
{
    (void)state;
    init("2025-03-26");
    assert_int_equal(nsent, 1);
    json_t *r = json_object_get(sent[0], "result");
    assert_string_equal(json_string_value(json_object_get(r, "protocolVersion")), "2025-03-26");
    assert_non_null(json_object_get(json_object_get(r, "capabilities"), "tools"));
    assert_string_equal(mcp_session_version(ses), "2025-03-26");
    /* a second initialize is refused */
    in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
       "{\"protocolVersion\":\"2025-11-25\"}}");
    assert_int_equal(error_code(1), MCP_INVALID_REQUEST);

    /* an unknown revision gets our latest */
    mcp_session_free(ses);
    ses = mcp_session_new(srv, send_fn, NULL);
    init("1999-01-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sent[2], "result"),
                                                          "protocolVersion")),
                        MCP_VERSION_LATEST);
    assert_true(mcp_version_supported("2025-06-18"));
    assert_false(mcp_version_supported("2024-11-05"));
}

static void protocol_errors(void **state)
{
    (void)state;
    /* before initialize: only ping */
    assert_int_equal(in("{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}"), MCP_IN_REQUEST);
    assert_int_equal(json_object_size(json_object_get(sent[0], "result")), 0);
    in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    assert_int_equal(error_code(1), MCP_INVALID_REQUEST);
    reset();
    init("2025-11-25");
    reset();
    assert_int_equal(in("{not json"), MCP_IN_ERROR);
    assert_int_equal(error_code(0), MCP_PARSE_ERROR);
    assert_true(json_is_null(json_object_get(sent[0], "id")));
    assert_int_equal(in("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"), MCP_IN_ERROR);
    assert_int_equal(error_code(1), MCP_INVALID_REQUEST);
    assert_int_equal(in("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"), MCP_IN_ERROR);
    assert_int_equal(error_code(2), MCP_INVALID_REQUEST);
    assert_int_equal(in("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"resources/list\"}"),
                     MCP_IN_REQUEST);
    assert_int_equal(error_code(3), MCP_METHOD_NOT_FOUND);
    assert_int_equal(json_integer_value(json_object_get(sent[3], "id")), 7);
    in("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}");
    assert_int_equal(error_code(4), MCP_INVALID_PARAMS);
    in("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":[1]}");
    assert_int_equal(error_code(5), MCP_INVALID_PARAMS);
    /* unknown notifications and responses are taken silently */
    assert_int_equal(in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}"),
                     MCP_IN_NOTIFICATION);
    assert_int_equal(in("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}"), MCP_IN_NOTIFICATION);
    assert_int_equal(nsent, 6);
    for (size_t i = 0; i < nsent; i++)
        assert_true(finals[i]);
}

static void call_with(const char *args)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":"
             "{\"name\":\"echo\",\"arguments\":%s}}",
             args);
    reset();
    in(msg);
    assert_int_equal(nsent, 1);
}

static void tools_list_and_arguments(void **state)
{
    (void)state;
    init("2025-11-25");
    reset();
    in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    json_t *list = json_object_get(json_object_get(sent[0], "result"), "tools");
    assert_int_equal(json_array_size(list), 2);
    json_t *echo = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(echo, "name")), "echo");
    assert_true(json_is_object(json_object_get(echo, "inputSchema")));
    assert_true(json_is_object(json_object_get(echo, "outputSchema")));

    call_with("{\"s\":\"abc\",\"n\":2.0,\"a\":[\"x\"],\"id\":\"ok\"}");
    json_t *r = json_object_get(sent[0], "result");
    assert_true(json_is_false(json_object_get(r, "isError")));
    json_t *sc = json_object_get(r, "structuredContent");
    assert_string_equal(json_string_value(json_object_get(json_object_get(sc, "echo"), "s")),
                        "abc");
    /* the same JSON as a text block */
    const char *text = json_string_value(
        json_object_get(json_array_get(json_object_get(r, "content"), 0), "text"));
    json_t *again = json_loads(text, 0, NULL);
    assert_true(json_equal(again, sc));
    json_decref(again);

    static const char *const bad[] = {
        "{}",                          /* s missing */
        "{\"s\":1}",                   /* wrong type */
        "{\"s\":\"abcd\"}",            /* too long */
        "{\"s\":\"a\",\"n\":0}",       /* below minimum */
        "{\"s\":\"a\",\"n\":1.5}",     /* not an integer */
        "{\"s\":\"a\",\"a\":[1]}",     /* wrong item type */
        "{\"s\":\"a\",\"id\":\"A\"}",  /* pattern */
        "{\"s\":\"a\",\"x\":1}",       /* unknown property */
        "[]",                          /* not an object */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call_with(bad[i]);
        assert_int_equal(error_code(0), MCP_INVALID_PARAMS);
        assert_string_equal(json_string_value(json_object_get(sent[0], "id")), "c");
    }
}

static void later_progress_cancel(void **state)
{
    (void)state;
    init("2025-11-25");
    reset();
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
                       "{\"name\":\"later\",\"_meta\":{\"progressToken\":\"tok\"}}}";
    assert_int_equal(in(call), MCP_IN_REQUEST);
    assert_int_equal(nsent, 0);
    assert_non_null(held);
    assert_int_equal(mcp_session_pending(ses), 1);
    assert_true(mcp_call_wants_progress(held));
    /* the same id again while in flight is refused */
    in(call);
    assert_int_equal(error_code(0), MCP_INVALID_REQUEST);
    reset();
    mcp_call_progress(held, 1, 10, "one");
    mcp_call_progress(held, 1, 10, "not more: dropped");
    mcp_call_progress(held, 2, 0, NULL);
    assert_int_equal(nsent, 2);
    assert_string_equal(json_string_value(json_object_get(sent[0], "method")),
                        "notifications/progress");
    json_t *p = json_object_get(sent[0], "params");
    assert_string_equal(json_string_value(json_object_get(p, "progressToken")), "tok");
    assert_false(finals[0]);
    assert_null(json_object_get(json_object_get(sent[1], "params"), "total"));
    reset();
    /* a cancel for another id is ignored; for ours it aborts, no response */
    in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":6}}");
    assert_int_equal(aborted, 0);
    in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
       "{\"requestId\":5,\"reason\":\"user\"}}");
    assert_int_equal(aborted, 1);
    assert_int_equal(mcp_session_pending(ses), 0);
    assert_int_equal(nsent, 1);
    assert_true(json_is_null(sent[0]) && finals[0]); /* the transport is told: no response */

    /* a call that finishes later answers then */
    reset();
    in("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/call\",\"params\":{\"name\":\"later\"}}");
    assert_false(mcp_call_wants_progress(held));
    mcp_call_finish(held, json_pack("{s:s}", "status", "error"), 1);
    assert_true(json_is_true(json_object_get(json_object_get(sent[0], "result"), "isError")));
    /* the session ending aborts what is left */
    in("{\"jsonrpc\":\"2.0\",\"id\":\"y\",\"method\":\"tools/call\",\"params\":{\"name\":\"later\"}}");
    mcp_session_free(ses);
    ses = NULL;
    assert_int_equal(aborted, 2);
}

static void batches(void **state)
{
    (void)state;
    init("2025-11-25");
    reset();
    const char *b1 = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]";
    assert_int_equal(in(b1), MCP_IN_ERROR); /* not in this revision */
    assert_int_equal(error_code(0), MCP_INVALID_REQUEST);
    mcp_session_free(ses);
    ses = mcp_session_new(srv, send_fn, NULL);
    init("2025-03-26");
    reset();
    assert_int_equal(in("[]"), MCP_IN_ERROR);
    reset();
    /* answered at once: one array, notifications leave no entry */
    assert_int_equal(in("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                        "{\"name\":\"echo\",\"arguments\":{\"s\":\"a\"}}},5]"),
                     MCP_IN_REQUEST);
    assert_int_equal(nsent, 1);
    assert_true(json_is_array(sent[0]) && finals[0]);
    assert_int_equal(json_array_size(sent[0]), 3);
    assert_null(json_object_get(sent[0], "error"));
    json_t *bad = json_array_get(sent[0], 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(bad, "error"), "code")),
                     MCP_INVALID_REQUEST);
    reset();
    /* only notifications: nothing at all */
    assert_int_equal(in("[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}]"),
                     MCP_IN_NOTIFICATION);
    assert_int_equal(nsent, 0);
    /* a call that answers later holds the array; its progress goes at once */
    in("[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":4,"
       "\"method\":\"tools/call\",\"params\":{\"name\":\"later\",\"_meta\":"
       "{\"progressToken\":7}}}]");
    assert_int_equal(nsent, 0);
    mcp_call_progress(held, 1, 0, NULL);
    assert_int_equal(nsent, 1);
    assert_false(finals[0]);
    mcp_call_finish(held, json_pack("{s:i}", "n", 1), 0);
    assert_int_equal(nsent, 2);
    assert_true(finals[1]);
    assert_int_equal(json_array_size(sent[1]), 2);
    reset();
    /* cancelled inside a batch: the array carries the rest */
    in("[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":6,"
       "\"method\":\"tools/call\",\"params\":{\"name\":\"later\"}}]");
    in("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":6}}");
    assert_int_equal(nsent, 1);
    assert_int_equal(json_array_size(sent[0]), 1);
    /* a session that ends with a batch in flight frees it */
    in("[{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"later\"}}]");
}

static void job_view(void **state)
{
    (void)state;
    size_t big = MCP_JOB_OUTPUT_MAX + 100;
    char *out = malloc(big + 1);
    memset(out, 'x', big);
    out[big] = '\0';
    memcpy(out + big - 4, "\xC3\xA9!\n", 4);
    out[MCP_JOB_OUTPUT_MAX > 100 ? 99 : 0] = '\xC3'; /* a split character near the cut */
    out[100] = '\xA9';
    char *tail = mcp_job_tail(out, big, MCP_JOB_OUTPUT_MAX);
    assert_non_null(strstr(tail, "[arun: output cut to its last"));
    assert_non_null(strstr(tail, "\xC3\xA9!\n"));
    assert_int_not_equal((unsigned char)strchr(tail, '\n')[1], 0xA9);
    free(tail);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:n}", "id", "j", "status", "success", "stdout",
                            out, "exit_code");
    json_t *v = mcp_job_view(rec);
    assert_true(json_string_length(json_object_get(v, "stdout")) < MCP_JOB_OUTPUT_MAX + 100);
    assert_null(json_object_get(v, "result"));
    json_decref(v);
    json_object_set_new(rec, "stdout", json_string("{\"auc\": 0.71}\n"));
    v = mcp_job_view(rec);
    assert_true(json_real_value(json_object_get(json_object_get(v, "result"), "auc")) > 0.7);
    json_decref(v);
    json_decref(rec);
    free(out);
    assert_true(mcp_job_final("cancelled"));
    assert_false(mcp_job_final("running"));
}

static void schema_integer(void **state)
{
    (void)state;
    json_int_t i;
    json_t *r = json_real(3.0), *f = json_real(3.5), *big = json_real(1e300);
    assert_true(mcp_schema_integer(r, &i) && i == 3);
    assert_false(mcp_schema_integer(f, &i));
    assert_false(mcp_schema_integer(big, &i));
    json_decref(r);
    json_decref(f);
    json_decref(big);
    char err[MCP_SCHEMA_ERR_MAX];
    json_t *s = json_loads("{\"type\":[\"integer\",\"null\"]}", 0, NULL);
    assert_int_equal(mcp_schema_check(s, json_null(), err), 0);
    json_t *str = json_string("x");
    assert_int_equal(mcp_schema_check(s, str, err), -1);
    json_decref(str);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(tools_list_and_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(later_progress_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(batches, setup, teardown),
        cmocka_unit_test(job_view),
        cmocka_unit_test(schema_integer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
