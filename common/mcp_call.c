/*
 * mcp_call: the API a tool uses on its call (mcp.h): finish it with a
 * result or an error, send progress, set the hook that stops it.
 */
#include <stdlib.h>

#include "mcp_impl.h"

void mcp_call_finish(struct mcp_call *c, json_t *structured, int is_error)
{
    char *text = structured ? json_dumps(structured, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_t *result = text ? json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type", "text",
                                      "text", text, "structuredContent", structured, "isError",
                                      is_error)
                          : NULL;
    if (!text)
        json_decref(structured); /* not stolen by json_pack */
    free(text);
    struct mcp_session *s = c->s;
    void *origin = c->origin;
    json_t *id = json_incref(c->id);
    mcp_impl_call_unlink_free(c);
    if (!result) {
        mcp_impl_error(s, origin, id, MCP_INTERNAL_ERROR, "out of memory", NULL);
    } else {
        mcp_impl_result(s, origin, id, result);
    }
    json_decref(id);
}

void mcp_call_fail(struct mcp_call *c, int code, const char *message)
{
    struct mcp_session *s = c->s;
    void *origin = c->origin;
    json_t *id = json_incref(c->id);
    mcp_impl_call_unlink_free(c);
    mcp_impl_error(s, origin, id, code, message, NULL);
    json_decref(id);
}

int mcp_call_wants_progress(const struct mcp_call *c)
{
    return c->progress != NULL;
}

void mcp_call_progress(struct mcp_call *c, double progress, double total, const char *message)
{
    if (!c->progress || !(progress > c->last_progress))
        return;
    c->last_progress = progress;
    json_t *p = json_pack("{s:O, s:f}", "progressToken", c->progress, "progress", progress);
    if (p && total > 0)
        json_object_set_new(p, "total", json_real(total));
    if (p && message)
        json_object_set_new(p, "message", json_string(message));
    json_t *msg = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method",
                            "notifications/progress", "params", p);
    mcp_impl_emit(c->s, c->origin, msg, 0);
}

void mcp_call_on_abort(struct mcp_call *c, void (*abort)(void *arg), void *arg)
{
    c->abort = abort;
    c->abort_arg = arg;
}

struct mcp_session *mcp_call_session(const struct mcp_call *c)
{
    return c->s;
}
