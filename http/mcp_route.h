/*
 * mcp_route: MCP's Streamable HTTP transport at /mcp (contract "MCP"),
 * over the same transport-free server as arun-mcp (common/mcp.c) and the
 * same tools (common/mcp_tools.c).
 *
 *   POST /mcp    one JSON-RPC message; a request is answered with one JSON
 *                body, or with an event stream (progress, then the
 *                response) when its tool waits; a notification gets 202
 *   GET /mcp     an event stream for server-initiated messages (arun sends
 *                none: it stays open with keep-alives), one per session
 *   DELETE /mcp  ends the session
 *
 * Sessions: initialize gets an Mcp-Session-Id (128 random bits); every
 * later request must carry it (400 without, 404 when unknown or expired).
 * DNS rebinding: without a token (arun-http then listens on loopback
 * only) a Host that is not a loopback name gets 403, and so does an
 * Origin that is neither a loopback one nor (with a token) this server's
 * own Host. An MCP-Protocol-Version header this server does not speak
 * gets 400. The bearer token is checked by the server (server.c)
 * for every path under /mcp.
 */
#ifndef ARUN_HTTP_MCP_ROUTE_H
#define ARUN_HTTP_MCP_ROUTE_H

#define MCP_ROUTE_SESSIONS_MAX 256   /* past it, the least recently used idle one goes */
#define MCP_ROUTE_IDLE_S 3600        /* a session unused this long is ended */

struct app;
struct event_base;
struct http_server;
struct sse_hub;
struct mcp_server;
struct mcp_route;

/* Registers /mcp on server (whose loop is base), answering with srv
 * (borrowed; it must outlive the route), streams from hub. Returns the
 * route or NULL when out of memory or the route table is full. */
struct mcp_route *mcp_route_new(struct event_base *base, struct http_server *server,
                                struct sse_hub *hub, struct mcp_server *srv);

/* Ends every session (their streams close) and frees the route, and the
 * tools and server when mcp_routes made them. NULL is allowed. */
void mcp_route_free(struct mcp_route *r);

/* For arun-http: builds arun's tools over the app's settings and registers
 * /mcp; the route is stored in a->mcp (free it with mcp_route_free).
 * Returns 0, or -1 (logged). */
int mcp_routes(struct app *a);

#endif
