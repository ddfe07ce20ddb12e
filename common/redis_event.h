/*
 * redis_event: attaches a hiredis async context to a libevent loop, like
 * hiredis's own adapters/libevent.h but without its two system calls per
 * reply and two per command. That adapter registers a one-shot read event
 * (libevent removes it from epoll before each read and hiredis adds it
 * back after: EPOLL_CTL_DEL + ADD per reply) and asks for write readiness
 * before every write (EPOLL_CTL_MOD on, then off). Here the read event
 * persists, and a command is written as soon as the callback that queued
 * it returns (commands queued together go out in one write); only a
 * socket that is full, or still connecting, waits for EPOLLOUT.
 */
#ifndef ARUN_REDIS_EVENT_H
#define ARUN_REDIS_EVENT_H

#include <event2/event.h>
#include <hiredis/async.h>

/* Returns REDIS_OK, or REDIS_ERR if ac already has an event loop or out
 * of memory. Everything attached is freed with ac. */
int redis_event_attach(redisAsyncContext *ac, struct event_base *base);

#endif
