/*
 * fire: arun-cron's side of Redis. A fire time is claimed and enqueued in
 * one Lua script, so however many instances run, each fire time of each
 * entry is enqueued once:
 *
 *   unless the fire time is not later than P:cron:last[NAME]
 *   (the latest one enqueued) and SET P:cron:fired:ID 1 NX EX ttl succeeds:
 *     RPUSH P:queue:default REQUEST; HSET P:cron:last NAME TIME
 *
 * ID is the contract's cron:NAME:YYYYMMDDTHHMMSSZ. The connection is
 * blocking (a few commands a minute at most) and re-opened after any
 * failure.
 */
#ifndef ARUN_CRON_FIRE_H
#define ARUN_CRON_FIRE_H

#include <stdint.h>

#include "redis_url.h"
#include "schedule.h"

#define FIRE_CLAIM_TTL_S (8 * 86400) /* longer than any fire is retried */
#define FIRE_ID_MAX 64

struct fire_conn {
    const struct redis_url *url; /* borrowed */
    const char *prefix;          /* borrowed */
    struct redisContext *c;      /* NULL while disconnected */
    int down_logged;             /* an outage was logged and has not ended */
};

/* Writes the job id of entry name's fire at t (Unix seconds, UTC) into
 * out. Returns 0, or -1 if it would not be a valid request id. */
int fire_job_id(const char *name, int64_t t, char out[FIRE_ID_MAX + 1]);

/* Claims and enqueues e's fire at t. Returns 1 when this call enqueued it,
 * 0 when it was enqueued before (by any instance), -1 when Redis could not
 * be reached or refused (logged; the caller retries). */
int fire_enqueue(struct fire_conn *fc, const struct schedule_entry *e, int64_t t);

/* Reads P:cron:last[name]: the latest fire time enqueued for name. Returns
 * 1 with *t set, 0 when there is none, -1 when Redis failed. */
int fire_last(struct fire_conn *fc, const char *name, int64_t *t);

/* Closes the connection (it reopens on the next call). */
void fire_close(struct fire_conn *fc);

#endif
