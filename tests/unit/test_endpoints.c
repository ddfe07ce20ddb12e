/*
 * test_endpoints: arun-webhook's endpoints file: sections, defaults from
 * the settings, several secrets, script and status filters, and refusals
 * with their line numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "webhook.h"

static const struct wh_settings defaults = {.concurrency = 8, .allow_private = 0};

static void test_sections(void **state)
{
    (void)state;
    const char *text = "# endpoints\n"
                       "[endpoint]\n"
                       "url = https://a.example/hook\n"
                       "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
                       "secret = whsec_c2Vjb25k, whsec_dGhpcmQ=\n"
                       "\n"
                       "  [endpoint]  \n"
                       "url=http://b.example:8080/x?y=1\n"
                       "scripts = calibration, regime\n"
                       "statuses = error,timeout\n"
                       "concurrency = 2\n"
                       "allow_private = yes\n";
    struct wh_endpoint *eps = NULL;
    size_t n = 0;
    char err[WH_ERR_MAX] = "";
    if (endpoints_parse_config(text, &defaults, &eps, &n, err) < 0)
        fail_msg("refused: %s", err);
    assert_int_equal(n, 2);
    assert_string_equal(eps[0].url, "https://a.example/hook");
    assert_int_equal(eps[0].nkeys, 3);
    assert_int_equal(eps[0].keys[0].len, 24);
    assert_int_equal(eps[0].concurrency, 8);
    assert_int_equal(eps[0].allow_private, 0);
    assert_int_equal(eps[0].nscripts, 0);
    assert_string_equal(eps[1].url, "http://b.example:8080/x?y=1");
    assert_int_equal(eps[1].nkeys, 0);
    assert_int_equal(eps[1].concurrency, 2);
    assert_int_equal(eps[1].allow_private, 1);
    assert_int_equal(eps[1].nscripts, 2);
    assert_string_equal(eps[1].scripts[1], "regime");
    assert_int_equal(eps[1].nstatuses, 2);
    assert_true(endpoints_match(&eps[0], "anything", "success"));
    assert_true(endpoints_match(&eps[1], "regime", "timeout"));
    assert_false(endpoints_match(&eps[1], "regime", "success"));
    assert_false(endpoints_match(&eps[1], "holly_rules", "error"));
    assert_false(endpoints_match(&eps[1], NULL, "error"));
    endpoints_free(eps, n);
}

static void expect_refused(const char *text, const char *want)
{
    struct wh_endpoint *eps = NULL;
    size_t n = 0;
    char err[WH_ERR_MAX] = "";
    int rc = endpoints_parse_config(text, &defaults, &eps, &n, err);
    endpoints_free(eps, n);
    if (rc == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(err, want))
        fail_msg("reason '%s' lacks '%s'", err, want);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("", "no [endpoint]");
    expect_refused("# nothing\n", "no [endpoint]");
    expect_refused("url = http://x\n", "line 1: a key before the first [endpoint]");
    expect_refused("[endpoint]\nsecret = whsec_MfKQ\n[endpoint]\nurl = http://x\n",
                   "line 1: [endpoint] without a url");
    expect_refused("[endpoint]\nurl = ftp://x\n", "line 2: url must be http");
    expect_refused("[endpoint]\nurl = http://x\nurl = http://y\n", "line 3: a second url");
    expect_refused("[endpoint]\nurl = http://x\nsecret = whsec_***\n", "line 3: secret must be");
    expect_refused("[endpoint]\nurl = http://x\nconcurrency = 0\n", "line 3: concurrency");
    expect_refused("[endpoint]\nurl = http://x\nallow_private = maybe\n", "line 3: allow_private");
    expect_refused("[endpoint]\nurl = http://x\nfilter = a\n", "line 3: unknown key");
    expect_refused("[endpoint]\nurl = http://x\njust words\n", "line 3: expected [endpoint]");
    expect_refused("[endpoint]\n", "line 1: [endpoint] without a url");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
