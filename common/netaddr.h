/*
 * netaddr: classifies a socket address as public or as one of the ranges
 * a webhook relay must not reach unless told to (loopback, private,
 * link-local, ...), so that a URL cannot turn the relay into a way into the
 * internal network. The check is made on the address actually connected
 * to, after name resolution.
 */
#ifndef ARUN_NETADDR_H
#define ARUN_NETADDR_H

struct sockaddr;

/* Returns NULL for a public unicast address, else the name of its class:
 * "loopback", "private", "link-local", "unspecified", "multicast",
 * "shared" (100.64/10), "reserved" (240/4, broadcast, documentation and
 * other non-routable ranges), "unique-local" (fc00::/7), or "unknown
 * family". IPv4-mapped IPv6 addresses are judged as the IPv4 address. */
const char *netaddr_class(const struct sockaddr *sa);

#endif
