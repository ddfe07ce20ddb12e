/*
 * mcp_schema: checks a JSON value against the small part of JSON Schema
 * (2020-12) that arun's MCP tools declare, so the inputSchema a client is
 * shown is the very thing the arguments are checked against. Keywords
 * understood: type (a name or a list), properties, required,
 * additionalProperties (false or a schema), items, enum, minimum, maximum,
 * minLength, maxLength (in code points), maxItems, pattern (POSIX ERE).
 * Every other keyword (description, default, title, ...) is ignored.
 */
#ifndef ARUN_MCP_SCHEMA_H
#define ARUN_MCP_SCHEMA_H

#include <jansson.h>

#define MCP_SCHEMA_ERR_MAX 256

/* Checks value against schema. Returns 0 when it fits, or -1 with one
 * line in err naming the first place that does not fit ("args[2]: expected
 * string"). A schema keyword with a malformed value (a pattern that does
 * not compile) counts as a misfit, never as a crash. */
int mcp_schema_check(const json_t *schema, const json_t *value, char err[MCP_SCHEMA_ERR_MAX]);

/* Returns 1 when v is an integer in JSON Schema's sense (a JSON integer,
 * or a number with no fractional part that fits an int64), with the value
 * in *out; else 0. */
int mcp_schema_integer(const json_t *v, json_int_t *out);

#endif
