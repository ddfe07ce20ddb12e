/*
 * cancel: what the worker hears on its subscriber connection. Anyone
 * cancels job ID by SET P:cancel:ID (EX ARUN_RESULT_TTL) and PUBLISH
 * P:cancel ID, and asks for its live output by SET P:watch:ID and PUBLISH
 * P:watch ID (keys.h). Every worker subscribes to both channels:
 *  - a cancelled job this worker holds is cancelled (job_cancel);
 *  - a cancelled job still queued in one of this worker's queues is moved
 *    by one script from its queue into this worker's processing list and
 *    ends "cancelled" there without a slot, so it never waits behind the
 *    jobs queued before it (workers race for it; the script is atomic, so
 *    one wins);
 *  - a job held and watched starts streaming its output (live.h).
 * A message missed while the subscriber was down is made up for: on
 * reconnect and on every heartbeat tick, the held running jobs' cancel
 * keys are read.
 */
#ifndef ARUN_CANCEL_H
#define ARUN_CANCEL_H

struct rconn;
struct worker;

/* The subscriber connection's "up" callback: subscribes again, and reads
 * the cancel keys of the jobs held. */
void cancel_on_up(struct rconn *c, void *arg);

/* Reads the cancel keys of the jobs this worker runs, and cancels those
 * that have one (on the cmd connection). */
void cancel_check_running(struct worker *w);

#endif
