/*
 * mcp_job: a job record as the MCP tools show it to a model. The record
 * (a result from P:result:ID, a history row, or a queued request) is kept
 * field for field, but stdout and stderr are cut to their last
 * MCP_JOB_OUTPUT_MAX bytes (the end of a log is where the answer or the
 * error is), with a marker line saying so, and a stdout that is one JSON
 * document is also given parsed, as "result".
 */
#ifndef ARUN_MCP_JOB_H
#define ARUN_MCP_JOB_H

#include <stddef.h>

#include <jansson.h>

#define MCP_JOB_OUTPUT_MAX (16 * 1024)    /* bytes of stdout/stderr shown */
#define MCP_JOB_RESULT_MAX (256 * 1024)   /* a larger stdout is not parsed */

/* Returns the last `max` bytes of text[0..len) (starting on a UTF-8
 * character boundary) after one line "[arun: output cut to its last K of
 * N bytes]", or a plain copy when len <= max. The caller frees; NULL when
 * out of memory. */
char *mcp_job_tail(const char *text, size_t len, size_t max);

/* Returns the model's view of record (borrowed; a JSON object): a copy
 * with stdout/stderr cut as above and "result" set when stdout parses as
 * one JSON document (of at most MCP_JOB_RESULT_MAX bytes). A new
 * reference, or NULL when out of memory. */
json_t *mcp_job_view(const json_t *record);

/* Returns 1 for a status that is final (a job that has ended), else 0. */
int mcp_job_final(const char *status);

/* Returns {"error": message, "code": code, ...}: the structured content of
 * a tool error. id may be NULL. A new reference (NULL: out of memory). */
json_t *mcp_job_error(const char *code, const char *message, const char *id);

#endif
