/*
 * run: one child process of a job, from spawn to reap. A run owns
 * everything about the child: its pid and process group, both output
 * pipes and their captures, its own timer (deadline, kill grace, linger)
 * and the kill escalation. It knows nothing of Redis or the store: it is
 * started with what to run and a callback, and reports a run_result.
 *
 * Kill escalation (s6's timeout-kill): on the deadline, or when asked to
 * stop, SIGTERM and SIGCONT go to the whole group, then SIGKILL after the
 * grace. The first cause wins: a run that timed out and is then cancelled
 * stays timed out. A run is done when its leader is reaped and both pipes
 * are closed (or WORKER_LINGER_MS after the reap, when a process that left
 * the group still holds them).
 */
#ifndef ARUN_RUN_H
#define ARUN_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "spawn.h"

#define RUN_LINGER_MS 2000 /* pipes kept open after the leader is reaped */

struct event_base;
struct run;

/* Why arun ended a run, if it did. */
enum run_cause { RUN_CAUSE_NONE, RUN_CAUSE_TIMEOUT, RUN_CAUSE_CANCEL, RUN_CAUSE_ABANDON };

struct run_spec {
    const char *path;              /* absolute path of the program */
    char *const *argv;             /* NULL-terminated */
    char *const *envp;             /* NULL-terminated */
    const struct spawn_opts *opts; /* limits, user; NULL for none */
    int64_t timeout_ms;            /* deadline from the spawn */
    int64_t kill_grace_ms;         /* SIGTERM to SIGKILL */
    size_t max_output;             /* bytes kept of each stream */
    const char *label;             /* for log lines (the job id); copied */
    /* another way to start the process (warm.h), or NULL for spawn_child;
     * when it returns -1 the process is spawned the usual way */
    pid_t (*spawner)(void *ctx, const struct run_spec *spec, struct spawn_fds *fds);
    void *spawner_ctx;
};

struct run_result {
    int has_exit_code, exit_code;  /* exited normally */
    int has_signal, signal;        /* killed by a signal */
    int exec_errno;                /* 0, or why the program could not be executed */
    enum run_cause cause;
    int64_t duration_ms;           /* spawn to reap, monotonic */
    int64_t cpu_user_ms, cpu_sys_ms; /* the leader and the descendants it reaped */
    int64_t max_rss_kb;            /* the largest of those processes */
};

/* Called once when the run is done. The callback may free the run. */
typedef void run_done_fn(struct run *r, void *arg);

/* Called with each chunk of output as it is read (is_err: stderr), before
 * it is captured; for live output. */
typedef void run_output_fn(void *arg, int is_err, const char *buf, size_t n);

/* Spawns spec's program and starts watching it. Returns the run, or NULL
 * with errno set when nothing was started. The spec's strings need to
 * live only for this call. */
struct run *run_start(struct event_base *base, const struct run_spec *spec, run_done_fn *done,
                      void *arg);

/* Sets (or clears, with NULL) the output hook. */
void run_set_output_hook(struct run *r, run_output_fn *fn, void *arg);

/* Asks the run to end: SIGTERM (and SIGCONT) to the group now, SIGKILL
 * after the grace. Does nothing if a cause is already set, except that
 * RUN_CAUSE_ABANDON always escalates to SIGKILL at once. */
void run_stop(struct run *r, enum run_cause cause);

/* The child's pid (also its process group), or 0 once reaped. */
pid_t run_pid(const struct run *r);

/* The result; complete once the done callback was called. */
const struct run_result *run_result(const struct run *r);

/* The output captured so far (is_err: stderr). */
const struct capture *run_capture(const struct run *r, int is_err);

/* Takes the captured output as text (see capture_text), leaving the
 * capture empty. The caller frees it; NULL when out of memory. */
char *run_take_text(struct run *r, int is_err);

/* Frees the run. A child still running is SIGKILLed with its group and
 * reaped later by run_reap (as an unknown child). NULL is allowed. */
void run_free(struct run *r);

/* Returns 1 if pid is the leader of a run that was not reaped yet. */
int run_is_leader(pid_t pid);

/* Reaps every child that exited (call on SIGCHLD): a run's leader has its
 * group SIGKILLed while it is still a zombie (so the group id cannot have
 * been reused), then is reaped with wait4 for its usage; other children
 * (processes adopted as a subreaper, see contain.h) are reaped silently.
 * Done callbacks run from here. */
void run_reap(void);

#endif
