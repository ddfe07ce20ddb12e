/*
 * warm: the warm interpreter (ARUN_PRELOAD). With it, each job is forked
 * from a Python process that imported the listed modules once, instead of
 * starting a new interpreter; everything else about a job is the same (see
 * arun_warm.py for the protocol and what the job process does to become a
 * fresh one). The job process is reparented to the worker (a subreaper)
 * and owned by a run like any other: reaped with wait4, its group killed.
 *
 * The warm interpreter is started at start-up and whenever it is found
 * dead, hung or grown (checked on each heartbeat tick); until it is ready,
 * and whenever a request to it fails, jobs start fresh: none waits on it.
 */
#ifndef ARUN_WARM_H
#define ARUN_WARM_H

#include <sys/types.h>

#include "spawn.h"

struct worker;
struct run_spec;

#define WARM_REPLY_TIMEOUT_MS 1000  /* a fork request answered within this */
#define WARM_MAX_JOBS 10000         /* restarted after this many forks */
#define WARM_MAX_GROWTH_KB (64 * 1024) /* ... or once its RSS grew this much */

/* Starts the warm interpreter when ARUN_PRELOAD is set (does nothing
 * otherwise). Returns 0, or -1 with a reason in err when it cannot be
 * started at all (its program is missing). */
int warm_setup(struct worker *w, char err[256]);

/* The run_spec spawner for warm jobs: asks the warm interpreter for a job
 * process (a synchronous exchange of at most WARM_REPLY_TIMEOUT_MS).
 * Returns its pid with the read ends of its pipes in fds, or -1 when the
 * warm interpreter is not ready or failed (the caller then spawns fresh). */
pid_t warm_spawn(void *w, const struct run_spec *spec, struct spawn_fds *fds);

/* Returns 1 when jobs can be forked warm now. */
int warm_ready(const struct worker *w);

/* Restarts the warm interpreter if it died, hung or grew (heartbeat tick). */
void warm_check(struct worker *w);

/* Returns 1 if pid is the warm interpreter (not a job's leftover). */
int warm_is(const struct worker *w, pid_t pid);

/* Stops it (at exit). */
void warm_stop(struct worker *w);

#endif
