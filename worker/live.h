/*
 * live: the output of a job that someone watches, streamed to Redis while
 * the job runs. A watcher sets P:watch:ID and publishes the id on P:watch
 * (cancel.c hears it; claim.c finds the key of a job not yet started);
 * from then on the job's output goes to the stream P:output:ID as entries
 * {fd: "stdout"|"stderr", data: bytes}: first everything kept so far, then
 * new output at most every LIVE_FLUSH_MS. The acknowledgement appends
 * {fd: "end", data: the completion event} (deliver.c). Unwatched jobs
 * cost nothing: no buffer, no timer, no command.
 *
 * Like the captures, at most ARUN_MAX_OUTPUT bytes of each stream are
 * sent; the stream expires with the result.
 */
#ifndef ARUN_LIVE_H
#define ARUN_LIVE_H

#define LIVE_FLUSH_MS 200
#define LIVE_BUFFER_MAX (256 * 1024) /* flushed early when a buffer fills */

struct worker;
struct run;
struct live;

/* Starts streaming run's output for job id. Returns the state (owned by
 * the caller, freed with live_free) or NULL when out of memory (the job
 * then just is not streamed). */
struct live *live_start(struct worker *w, const char *id, struct run *run);

/* Sends what is buffered now. NULL is allowed. */
void live_flush(struct live *l);

/* Stops streaming (the run's output hook is cleared by the caller freeing
 * the run first, or here when the run is still set) and frees. NULL is
 * allowed. */
void live_free(struct live *l);

#endif
