/*
 * follow: one history for all hosts. A follower reads the durable
 * completion stream P:stream:events in a consumer group of its own and
 * records, in a local analytics_jobs (store.h), every job it has not seen,
 * whichever host ran it. The full record (output included) comes from
 * P:result:ID; when that has expired, the event alone is stored (no
 * output). It runs on a libevent loop over its own hiredis async
 * connection, which it reconnects with a capped backoff, and it resumes
 * where it stopped: an entry is acknowledged (XACK) only after its row is
 * committed, and on every (re)connect the entries delivered but not
 * acknowledged are read again first.
 *
 * arun-http runs one in its loop, so its database, and the page and API
 * on top of it, show the jobs of every worker host.
 */
#ifndef ARUN_FOLLOW_H
#define ARUN_FOLLOW_H

#include <stdint.h>

struct event_base;
struct redis_url;
struct store;
struct store_row;

#define FOLLOW_NAME_MAX 128

/* Called after a row is committed; the row is valid only during the call. */
typedef void follow_record_fn(const struct store_row *row, void *arg);

struct follow_options {
    const char *prefix;     /* ARUN_PREFIX */
    /* The consumer group: one per database that follows, since a group
     * shares its entries among its consumers. Followers writing one
     * database may share a group; followers with databases of their own
     * need groups of their own (e.g. "history:" + the host name). 1-128
     * characters of A-Za-z0-9._:- */
    const char *group;
    const char *consumer;   /* this follower's name in the group, same rule */
    int batch;              /* entries per read, 1-1000; 0: 100 */
    int block_ms;           /* longest wait for new entries; 0: 5000 */
    follow_record_fn *on_record; /* may be NULL */
    void *arg;
};

struct follow_stats {
    uint64_t recorded;   /* rows written from a result record */
    uint64_t from_event; /* rows written from the event alone (result expired) */
    uint64_t skipped;    /* entries of jobs whose final row was already here */
    uint64_t refused;    /* entries that were not a usable event (acknowledged) */
    uint64_t store_busy; /* times a write found the database locked (retried) */
    int connected;       /* 1 while the Redis connection is up */
};

/* Starts following: connects (asynchronously; it is not an error for
 * Redis to be down, the follower retries), creates the group at the
 * stream's start when it does not exist (XGROUP CREATE ... 0 MKSTREAM,
 * so a new follower first records what the stream still holds), then
 * reads. url, store and base must outlive the follower; the option
 * strings are copied. Returns the follower, or NULL with the reason in
 * err (bad options, out of memory). Free with follow_free. */
struct follow *follow_new(struct event_base *base, const struct redis_url *url,
                          struct store *store, const struct follow_options *opt,
                          char err[128]);

/* Stops and frees the follower (closing its connection; entries read but
 * not yet recorded are read again by the next follower of the group).
 * NULL is allowed. Not from inside its own on_record callback. */
void follow_free(struct follow *f);

/* Copies the follower's counters into *out. */
void follow_get_stats(const struct follow *f, struct follow_stats *out);

#endif
