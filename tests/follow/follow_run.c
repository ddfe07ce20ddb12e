/*
 * follow_run: a test driver for common/follow.c, the part of arun-http
 * that keeps one history for all hosts, run alone so that the integration
 * test (tests/integration/test_follow.py) can drive it.
 *
 *   follow_run GROUP CONSUMER
 *
 * Reads ARUN_REDIS_URL, ARUN_PREFIX and ARUN_DB; follows until SIGTERM or
 * SIGINT, then prints its counters as one JSON line on stdout and exits 0.
 * It wires the follower into a libevent loop exactly as a program would.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "follow.h"
#include "redis_url.h"
#include "store.h"

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: follow_run GROUP CONSUMER\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[256];
    struct redis_url url;
    if (redis_url_parse(env_or("ARUN_REDIS_URL", "redis://127.0.0.1:6379/0"), &url, err) < 0) {
        fprintf(stderr, "follow_run: ARUN_REDIS_URL: %s\n", err);
        return 2;
    }
    struct store *store = store_open(env_or("ARUN_DB", "./var/arun.db"), 50, err);
    if (!store) {
        fprintf(stderr, "follow_run: %s\n", err);
        return 1;
    }
    struct event_base *base = event_base_new();
    struct follow_options opt = {.prefix = env_or("ARUN_PREFIX", "arun"), .group = argv[1],
                                 .consumer = argv[2], .batch = 50, .block_ms = 1000};
    struct follow *f = base ? follow_new(base, &url, store, &opt, err) : NULL;
    if (!f) {
        fprintf(stderr, "follow_run: %s\n", base ? err : "no event loop");
        return 1;
    }
    struct event *term = evsignal_new(base, SIGTERM, on_stop, base);
    struct event *intr = evsignal_new(base, SIGINT, on_stop, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_base_dispatch(base);
    struct follow_stats st;
    follow_get_stats(f, &st);
    printf("{\"recorded\":%llu,\"from_event\":%llu,\"skipped\":%llu,\"refused\":%llu,"
           "\"store_busy\":%llu,\"connected\":%d}\n",
           (unsigned long long)st.recorded, (unsigned long long)st.from_event,
           (unsigned long long)st.skipped, (unsigned long long)st.refused,
           (unsigned long long)st.store_busy, st.connected);
    follow_free(f);
    event_free(term);
    event_free(intr);
    event_base_free(base);
    store_close(store);
    return 0;
}
