/*
 * job.h: one taken request, shared by job.c (deciding, recording,
 * acknowledging) and run.c (the child process). Internal to worker/.
 *
 * Life of a job: ARRIVED (parsed, checked against the store and the
 * whitelist) -> NAMING (only when the producer gave no id: the element in
 * the processing list is rewritten with the id we chose, so a crash cannot
 * give it a second one) -> STARTING (the running row is written) ->
 * RUNNING (child, pipes, timers) -> RECORDING (the final row) ->
 * DELIVERING (result, event, removal from the processing list) -> freed.
 * Refused and already-finished requests go from ARRIVED straight to
 * RECORDING or DELIVERING.
 */
#ifndef ARUN_JOB_H
#define ARUN_JOB_H

#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "log.h"
#include "request.h"
#include "spawn.h"
#include "store.h"
#include "worker.h"

enum job_state { JOB_ARRIVED, JOB_NAMING, JOB_STARTING, JOB_RUNNING, JOB_RECORDING,
                 JOB_DELIVERING };

struct event;

struct job {
    struct worker *w;
    struct job *next;
    enum job_state state;
    char *raw;                  /* the processing-list element, owned */
    size_t rawlen;
    char queue[REQUEST_QUEUE_MAX + 1];
    struct job_request req;
    char *dead;                 /* envelope for P:dead, or NULL; owned */
    struct store_row row;       /* the record being written; texts owned */
    int holds_slot;
    int abandoned;              /* killed at shutdown: leave it for a peer */
    int deliver_inflight;       /* a delivery's replies are awaited */
    int busy_logged;
    struct event *timer;        /* retries, timeout, grace, linger */
    void (*retry_step)(struct job *); /* what the timer retries, if retrying */

    /* run.c */
    pid_t pid;                  /* 0 when no child */
    struct spawn_fds fds;       /* -1 once closed */
    struct event *out_ev, *err_ev;
    struct capture out, err;
    int exec_errno;
    int64_t start_ms;
    int exited;
    int wait_status;
    int timed_out;
    int kill_stage;             /* 0, 1 TERM sent, 2 KILL sent */
};

/* Logs a line about job j (with its id and script when known). */
#define JLOG(lvl, j, ...)                                                                  \
    log_job(lvl, (j)->row.id[0] ? (j)->row.id : NULL,                                     \
            (j)->row.script[0] ? (j)->row.script : NULL, __VA_ARGS__)

/* run.c: starts the child. Returns 0, or -1 with errno (nothing started). */
int run_start(struct job *j);
/* run.c: SIGKILLs the job's process group now. */
void run_kill(struct job *j);
/* run.c: frees what run_start set up (events, fds, captures). */
void run_free(struct job *j);
/* run.c: called for a reaped child of this job. */
void run_exited(struct job *j, int wait_status);

/* job.c: called by run.c once the child has exited and its pipes closed. */
void job_ran(struct job *j);
/* deliver.c: sends the result, the event and the acknowledgement. */
void job_deliver(struct job *j);

/* job.c: drops a job without recording it (abandoned at shutdown: its
 * request stays in the processing list and is requeued). */
void job_forget(struct job *j);
/* job.c: finds the job whose child is pid, or NULL. */
struct job *job_by_pid(struct worker *w, pid_t pid);

#endif
