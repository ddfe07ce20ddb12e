/*
 * mcp_tools: arun's five MCP tools (contract "MCP"), over the producer
 * client (Redis), the history reader (SQLite) and the whitelist, for any
 * transport: arun-mcp (stdio) and arun-http (/mcp) build an mcp_server
 * from mcp_tools_table() with an mcp_tools as its context.
 *
 *   run_analytics_script   push a job (trigger "mcp"); by default wait for it
 *   list_analytics_scripts the whitelist
 *   get_analytics_job      one job: history, else Redis (queued, running)
 *   list_analytics_jobs    newest first, without output
 *   cancel_analytics_job   record a cancel, or say the job had finished
 *
 * Waiting never blocks the loop: one subscription to P:events serves
 * every wait. The short Redis and SQLite calls are blocking but bounded
 * (client timeout, SQLite busy timeout), as client.h and history.h allow.
 */
#ifndef ARUN_MCP_TOOLS_H
#define ARUN_MCP_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "mcp.h"

#define MCP_TOOLS_TRIGGER "mcp"
#define MCP_TOOLS_WAIT_DEFAULT_MS 60000
#define MCP_TOOLS_LIST_DEFAULT 20
#define MCP_TOOLS_CLIENT_TIMEOUT_MS 2000

struct event_base;
struct mcp_tools;

/* Settings; every string is borrowed and must outlive the tools. */
struct mcp_tools_config {
    struct event_base *base;
    const char *redis_url;
    const char *prefix;
    const char *db_path;     /* ARUN_DB */
    const char *scripts_dir; /* ARUN_SCRIPTS_DIR: checked before a push when readable */
    const char *queue;       /* where jobs are pushed; NULL: "default" */
    int64_t progress_ms;     /* between progress notifications of a wait */
    int64_t result_ttl_s;    /* ARUN_RESULT_TTL, for cancel keys */
};

/* The five tools, for mcp_server_new. *n gets the count. */
const struct mcp_tool *mcp_tools_table(size_t *n);

/* Creates the tools' context: the client, the event subscription (it
 * connects in the background). Returns NULL with a one-line reason in err
 * (a malformed Redis URL or prefix: a usage error). */
struct mcp_tools *mcp_tools_new(const struct mcp_tools_config *cfg, char err[256]);

/* Frees the context. Sessions (and so their waits) must be freed first. */
void mcp_tools_free(struct mcp_tools *t);

#endif
