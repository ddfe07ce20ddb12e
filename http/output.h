/*
 * output: GET /api/analytics/jobs/ID/output, a job's stdout and stderr as
 * Server-Sent Events (event: stdout / stderr, one data: line per line of
 * text), then event: end with the completion event, then the stream
 * closes.
 *
 * A finished job is served from its record. For a queued or running job
 * the server becomes a watcher (keys.h): SET P:watch:ID 1 EX 60, refreshed
 * every 30 s, and PUBLISH P:watch ID; the worker then appends to the
 * stream P:output:ID entries {fd: stdout|stderr, data: bytes} (first all
 * output kept so far, then new output) and a final {fd: end, data: event
 * JSON}. The watcher reads that stream from its start. If P:result:ID
 * appears while no end entry came (a worker without live output, a job
 * that ended before the watch was seen), the rest comes from the result.
 */
#ifndef ARUN_HTTP_OUTPUT_H
#define ARUN_HTTP_OUTPUT_H

struct app;

/* Adds GET /api/analytics/jobs/ID/output. Returns 0 or -1. */
int output_routes(struct app *a);

#endif
