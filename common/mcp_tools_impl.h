/*
 * mcp_tools_impl: what mcp_tools.c (the table, the short tools) and
 * mcp_run.c (run_analytics_script and its waits) share. Not for other
 * modules: they use mcp_tools.h.
 */
#ifndef ARUN_MCP_TOOLS_IMPL_H
#define ARUN_MCP_TOOLS_IMPL_H

#include <jansson.h>

#include "mcp_tools.h"

struct mcp_run_wait;

struct mcp_tools {
    struct mcp_tools_config cfg;
    struct client *cl;
    struct history *hist;      /* opened on first use: the file may not exist yet */
    struct mcp_events *events;
    struct mcp_run_wait *waits;
};

/* Where job id stands: its record (history row, result, or a queued or
 * running request) as a new JSON object into *rec. Returns 1 found, 0
 * unknown, -1 when neither the database nor Redis could be asked (reason
 * in err). */
int mcp_tools_lookup(struct mcp_tools *t, const char *id, json_t **rec, char err[256]);

/* The run_analytics_script tool (mcp_run.c). */
void mcp_run_tool(struct mcp_call *call, const json_t *args, void *ctx);

/* The P:events callbacks of mcp_run.c. */
void mcp_run_on_event(void *arg, const char *id, const char *msg, size_t len);
void mcp_run_on_subscribed(void *arg);

#endif
