/*
 * contain: no process of a job outlives the job, including processes that
 * left its process group (setsid, a double fork). The worker is a child
 * subreaper (PR_SET_CHILD_SUBREAPER): a descendant whose parent dies is
 * reparented to the worker instead of init. So every process that escaped
 * a job and outlived its parent is a child of the worker that is not the
 * leader of a live run; each carries its job's ARUN_JOB_ID. After a job
 * ends, and on every heartbeat tick, the worker SIGKILLs the children that
 * belong to no running job, and reaps them.
 */
#ifndef ARUN_CONTAIN_H
#define ARUN_CONTAIN_H

struct worker;

/* Makes this process a child subreaper. Returns 0, or -1 with errno. */
int contain_setup(void);

/* Kills this process's children that are not the leader of a running
 * job's run and do not carry the ARUN_JOB_ID of a running job (escaped
 * processes whose job has ended), and sweeps again shortly while it
 * killed something (their own children are reparented here in turn).
 * Returns how many it killed now. */
int contain_sweep(struct worker *w);

/* Frees the sweep's timer (at exit). */
void contain_free(struct worker *w);

#endif
