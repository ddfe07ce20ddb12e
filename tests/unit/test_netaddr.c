/*
 * test_netaddr: which IPv4 and IPv6 addresses count as internal
 * (loopback, private, link-local, ...), IPv4-mapped IPv6 included, and
 * public addresses passing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netaddr.h"

static const char *classify(const char *text)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    memset(&a6, 0, sizeof a6);
    memset(&a4, 0, sizeof a4);
    if (inet_pton(AF_INET, text, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        return netaddr_class((struct sockaddr *)&a4);
    }
    assert_int_equal(inet_pton(AF_INET6, text, &a6.sin6_addr), 1);
    a6.sin6_family = AF_INET6;
    return netaddr_class((struct sockaddr *)&a6);
}

static void expect(const char *addr, const char *want)
{
    const char *got = classify(addr);
    if (!want && got)
        fail_msg("%s: got %s, want public", addr, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("%s: got %s, want %s", addr, got ? got : "public", want);
}

static void test_ipv4(void **state)
{
    (void)state;
    expect("127.0.0.1", "loopback");
    expect("127.255.0.9", "loopback");
    expect("10.1.2.3", "private");
    expect("172.16.0.1", "private");
    expect("172.31.255.255", "private");
    expect("172.32.0.1", NULL);
    expect("192.168.1.1", "private");
    expect("169.254.169.254", "link-local"); /* cloud metadata */
    expect("100.64.0.1", "shared");
    expect("0.0.0.0", "unspecified");
    expect("224.0.0.1", "multicast");
    expect("255.255.255.255", "reserved");
    expect("192.0.2.1", "reserved");
    expect("8.8.8.8", NULL);
    expect("93.184.216.34", NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    expect("::1", "loopback");
    expect("::", "unspecified");
    expect("fe80::1", "link-local");
    expect("fd00::1", "unique-local");
    expect("fc00::1", "unique-local");
    expect("ff02::1", "multicast");
    expect("::ffff:127.0.0.1", "loopback");
    expect("::ffff:10.0.0.1", "private");
    expect("::ffff:8.8.8.8", NULL);
    expect("2001:db8::1", "reserved");
    expect("2606:4700:4700::1111", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
