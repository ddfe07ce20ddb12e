/*
 * jobs: the job routes (submit, list, get, cancel) and the look-up of one
 * job that the output stream shares.
 */
#ifndef ARUN_HTTP_JOBS_H
#define ARUN_HTTP_JOBS_H

#include <jansson.h>

struct app;

/* Finds job id: its row in the database, else what Redis knows (queued,
 * held by a worker before its row exists, or its result). Returns 200 with
 * the job in *job (the caller json_decref()s), 404 when unknown (or the id
 * is malformed), or 503 when neither store could be read. */
int jobs_lookup(struct app *a, const char *id, json_t **job);

/* Adds the routes of /api/analytics/jobs. Returns 0 or -1. */
int jobs_routes(struct app *a);

#endif
