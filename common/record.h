/*
 * record: the JSON forms of a finished job (contract: "Completion event"
 * and P:result:ID). Both are built from the stored row, so the event, the
 * result and the database can never disagree.
 */
#ifndef ARUN_RECORD_H
#define ARUN_RECORD_H

#include "store.h"

/* The full record: every column of the row, output included, args as an
 * array. Returns a string the caller frees, or NULL when out of memory. */
char *record_result_json(const struct store_row *row);

/* The completion event: {"event":"job.completed", id, script, trigger,
 * status, exit_code, duration_ms, created_at, completed_at, attempts,
 * signal, started_at, cpu_user_ms, cpu_sys_ms, max_rss_kb}.
 * Returns a string the caller frees, or NULL when out of memory. */
char *record_event_json(const struct store_row *row);

/* The exit code arun-submit --wait reports for a finished record: the
 * job's own code on success/error, 128+N when killed by signal N, 124 on
 * timeout, 125 when rejected, cancelled or failed. */
int record_exit_code(const char *status, int has_exit_code, int exit_code,
                     int has_signal, int signal);

#endif
