/*
 * orphans: processes that a killed worker's job left behind on this host.
 * A worker that is SIGKILLed cannot kill its jobs' process groups;
 * PR_SET_PDEATHSIG ends each job's script, but not what the script
 * started. Every process of a job inherits ARUN_JOB_ID, so before a job
 * runs again the worker kills this host's processes that carry its id and
 * no longer descend from a live arun-worker.
 */
#ifndef ARUN_ORPHANS_H
#define ARUN_ORPHANS_H

#include <stddef.h>
#include <sys/types.h>

/* SIGKILLs the orphaned processes of job_id. Returns how many were
 * killed (0 when /proc cannot be read). */
int orphans_kill(const char *job_id);

/* The parent of pid from /proc/PID/stat, or 0 when it cannot be read. */
pid_t orphans_parent_of(pid_t pid);

/* Copies the ARUN_JOB_ID of process pid into out (size bytes). Returns 0,
 * or -1 when it has none (or it cannot be read). */
int orphans_job_id(pid_t pid, char *out, size_t size);

#endif
