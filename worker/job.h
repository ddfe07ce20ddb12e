/*
 * job.h: one taken request, from arrival to acknowledgement, as one state
 * machine (job.c). Internal to worker/.
 *
 *   ARRIVED ──parse──> NAMING (no id: our UUID is written into the
 *      │                 │      processing list first) ──┐
 *      │                 v                                │
 *      └──────────────> CLAIMING (Redis: cancelled? watched? deliveries)
 *                          v
 *                       DECIDING (store + whitelist: run, refuse, re-send,
 *                          │       or wait for a twin of the same id)
 *                          v
 *                       STARTING (spawn) ──> RUNNING (run.c; running row
 *                                                 after WORKER_RUNNING_ROW_MS)
 *                                                           v
 *      refusals, cancels, spawn failures ───────────────> RECORDING (final row)
 *                                                           v
 *      finished redeliveries, dead letters ─────────────> DELIVERING (deliver.c)
 *                                                           v
 *                                                         freed
 *
 * Every path ends the same way: the row is committed, then one atomic
 * acknowledgement sets P:result:ID, appends the event to the stream,
 * publishes it and removes the request from the processing list. A crash
 * between any two steps leaves the request where recovery finds it.
 */
#ifndef ARUN_JOB_H
#define ARUN_JOB_H

#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "keys.h"
#include "request.h"
#include "sha1.h"
#include "store.h"
#include "worker.h"

enum job_state {
    JOB_ARRIVED,
    JOB_NAMING,
    JOB_CLAIMING,
    JOB_DECIDING,
    JOB_STARTING,
    JOB_RUNNING,
    JOB_RECORDING,
    JOB_DELIVERING,
};

struct event;
struct run;
struct live;

struct job {
    struct worker *w;
    struct job *next;
    enum job_state state;
    char *raw;                  /* the processing-list element, owned */
    size_t rawlen;
    char delivery_key[KEYS_MAX + SHA1_HEX_LEN]; /* P:delivery:SHA1(raw), or "" until asked */
    char queue[REQUEST_QUEUE_MAX + 1];
    struct job_request req;
    int parsed;                 /* request_parse accepted it */
    char reason[REQUEST_REASON_MAX]; /* why it did not */
    char *dead;                 /* envelope for P:dead, or NULL; owned */
    char *renamed;              /* NAMING: the element with our id; owned */
    struct store_row row;       /* the record being written; texts owned */
    struct run *run;            /* RUNNING: the child; owned */
    struct live *live;          /* live output while watched; owned */
    int holds_slot;
    int cancel_requested;       /* a cancel arrived (or was found) for this id */
    int watched;                /* someone follows its output */
    int deliveries;             /* earlier deliveries counted by recovery */
    int deliver_inflight;       /* an acknowledgement's reply is awaited */
    int store_failing;          /* consecutive permanent store errors */
    int64_t store_failing_since;
    int busy_logged;
    int lease_lost;             /* taken over by a peer while its claim was awaited */
    int rerun;                  /* an earlier run of it may have left processes */
    int running_written;        /* the running row is committed */
    int parked;                 /* STARTING: taken ahead, waits for a child slot */
    struct event *row_timer;    /* RUNNING: writes the running row (WORKER_RUNNING_ROW_MS) */
    struct event *timer;        /* retries of a step (store busy, twin) */
};

/* Logs a line about job j (with its id and script when known). */
#define JLOG(lvl, j, ...)                                                                  \
    log_job(lvl, (j)->row.id[0] ? (j)->row.id : NULL,                                     \
            (j)->row.script[0] ? (j)->row.script : NULL, __VA_ARGS__)

/* Takes the request raw[0..len) that was moved into this worker's
 * processing list from queue, and runs it to its end. holds_slot: whether
 * it counts against the concurrency (a request pulled out of its queue
 * only to be cancelled does not). Out of memory leaves the element listed
 * for the next reconcile. */
void job_arrive(struct worker *w, const char *raw, size_t len, const char *queue,
                int holds_slot);

/* Returns 1 if a job of w holds exactly this processing-list element. */
int job_holds(const struct worker *w, const char *raw, size_t len);

/* Returns the job of w with this id, or NULL. */
struct job *job_find(struct worker *w, const char *id);

/* Asks for job j to be cancelled: before it starts it ends "cancelled"
 * without running; while it runs its group gets SIGTERM, then SIGKILL
 * after the grace, and it ends "cancelled" unless it had already timed
 * out; after that, nothing changes. */
void job_cancel(struct job *j);

/* Steps every job taken ahead and waiting for a slot: when stopping they
 * are dropped (their requests stay listed for the requeue at exit). */
void job_unpark_all(struct worker *w);

/* P:delivery:SHA1(request): where recovery counts j's deliveries (claim.c
 * reads it, the acknowledgement deletes it). Computed once. */
const char *job_delivery_key(struct job *j);

/* Someone started to follow j's output: stream it (live.c). */
void job_watch(struct job *j);

/* Called by claim.c with what Redis knows of the request: cancel (1 if a
 * cancel is recorded), watched, and deliveries counted by recovery; or
 * with ok = 0 when the connection dropped (the job is then forgotten and
 * re-adopted on reconnect). */
void job_claimed(struct job *j, int ok, int cancel, int watched, int deliveries);

/* Called by claim.c when naming ended: ok = 1 if the element now carries
 * j->req.id, 0 if it could not be renamed (it runs under the id anyway),
 * -1 when the connection dropped (forgotten, re-adopted on reconnect). */
void job_named(struct job *j, int ok);

/* Called by deliver.c once the acknowledgement went through (or found
 * that the request is no longer ours): frees the job. */
void job_delivered(struct job *j);

/* Drops j without recording or announcing anything: its child (if any) is
 * SIGKILLed with its group, and its request is left where it is (in the
 * processing list, to be requeued; or already taken by a peer, after a
 * lost lease). Frees j. Not for a job awaiting a Redis reply (NAMING,
 * CLAIMING, DELIVERING): the reply's callback holds j. */
void job_drop(struct job *j);

/* Drops every job that has not started, and SIGKILLs running ones, whose
 * requests go back to their queues (shutdown deadline). */
void job_abandon_all(struct worker *w);

/* deliver.c: sends the acknowledgement of a recorded job (result, stream,
 * event, removal, dead letter), all or nothing, retried until it goes
 * through. */
void deliver_send(struct job *j);

/* deliver.c: re-sends the acknowledgement of every job waiting for one
 * (after a reconnect or a refused attempt). */
void deliver_retry_all(struct worker *w);

/* claim.c: writes j->renamed in place of j->raw in the processing list;
 * answers with job_named. */
void claim_name(struct job *j);

/* claim.c: asks Redis whether j is cancelled or watched and how often it
 * was delivered; answers with job_claimed. */
void claim_check(struct job *j);

#endif
