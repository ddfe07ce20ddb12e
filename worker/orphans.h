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

/* SIGKILLs the orphaned processes of job_id. Returns how many were
 * killed (0 when /proc cannot be read). */
int orphans_kill(const char *job_id);

#endif
