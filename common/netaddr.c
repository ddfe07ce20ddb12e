/*
 * netaddr: which addresses are internal (netaddr.h). Ranges from RFC 6890
 * (special-purpose registries) that a public webhook endpoint never has.
 */
#include "netaddr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct netaddr_range4 {
    uint32_t net, mask;
    const char *what;
};

static const struct netaddr_range4 ranges4[] = {
    {0x00000000, 0xff000000, "unspecified"},  /* 0/8 */
    {0x7f000000, 0xff000000, "loopback"},     /* 127/8 */
    {0x0a000000, 0xff000000, "private"},      /* 10/8 */
    {0xac100000, 0xfff00000, "private"},      /* 172.16/12 */
    {0xc0a80000, 0xffff0000, "private"},      /* 192.168/16 */
    {0xa9fe0000, 0xffff0000, "link-local"},   /* 169.254/16 */
    {0x64400000, 0xffc00000, "shared"},       /* 100.64/10 */
    {0xc0000000, 0xffffff00, "reserved"},     /* 192.0.0/24 */
    {0xc0000200, 0xffffff00, "reserved"},     /* 192.0.2/24 TEST-NET-1 */
    {0xc6120000, 0xfffe0000, "reserved"},     /* 198.18/15 benchmarking */
    {0xc6336400, 0xffffff00, "reserved"},     /* 198.51.100/24 */
    {0xcb007100, 0xffffff00, "reserved"},     /* 203.0.113/24 */
    {0xe0000000, 0xf0000000, "multicast"},    /* 224/4 */
    {0xf0000000, 0xf0000000, "reserved"},     /* 240/4 and broadcast */
};

static const char *class4(uint32_t a)
{
    for (size_t i = 0; i < sizeof ranges4 / sizeof ranges4[0]; i++)
        if ((a & ranges4[i].mask) == ranges4[i].net)
            return ranges4[i].what;
    return NULL;
}

static const char *class6(const unsigned char *b)
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
        uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return class4(a);
    }
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? "loopback" : b[15] == 0 ? "unspecified" : "reserved";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";   /* fe80::/10 */
    if ((b[0] & 0xfe) == 0xfc)
        return "unique-local"; /* fc00::/7 */
    if (b[0] == 0xff)
        return "multicast";
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return "reserved";     /* 2001:db8::/32 documentation */
    if (memcmp(b, zero, 12) == 0)
        return "reserved";     /* IPv4-compatible (deprecated) */
    return NULL;
}

const char *netaddr_class(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return class4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return class6(in6->sin6_addr.s6_addr);
    }
    return "unknown family";
}
