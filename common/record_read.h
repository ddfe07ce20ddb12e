/*
 * record_read: a store row from the JSON of a finished job, the inverse of
 * record.c. A follower on another host (follow.c) reads P:result:ID (the
 * full record) or, when that has expired, the completion event itself,
 * and stores what it finds in its own analytics_jobs.
 */
#ifndef ARUN_RECORD_READ_H
#define ARUN_RECORD_READ_H

#include <stddef.h>

#include "store.h"

#define RECORD_READ_MAX_BYTES (16 * 1024 * 1024) /* a larger record is refused */

/* Parses json[0..len), a result record or a completion event, into *row
 * (zeroed first). Required: "id" (a valid job id) and "status" (a final
 * status); the rest is taken when present and of the right type: script,
 * trigger (or trigger_type; default "manual"), exit_code, signal,
 * duration_ms, created_at, completed_at, attempts (default 1), stdout,
 * stderr, args (kept as JSON), worker, queue. Unknown fields are ignored. Returns 0, or -1 with a
 * one-line reason in err (row then holds nothing to free). On 0 the
 * caller frees the row's texts with store_row_free. */
int record_read(const char *json, size_t len, struct store_row *row, char err[128]);

#endif
