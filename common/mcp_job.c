/*
 * mcp_job: shaping job records for the MCP tools (see mcp_job.h).
 */
#include "mcp_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mcp_job_tail(const char *text, size_t len, size_t max)
{
    if (len <= max) {
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, text, len);
            copy[len] = '\0';
        }
        return copy;
    }
    size_t start = len - max;
    while (start < len && ((unsigned char)text[start] & 0xC0) == 0x80)
        start++; /* never begin inside a character */
    char head[96];
    int n = snprintf(head, sizeof head, "[arun: output cut to its last %zu of %zu bytes]\n",
                     len - start, len);
    char *out = malloc((size_t)n + (len - start) + 1);
    if (!out)
        return NULL;
    memcpy(out, head, (size_t)n);
    memcpy(out + n, text + start, len - start);
    out[(size_t)n + (len - start)] = '\0';
    return out;
}

/* Replaces the string field key of obj by its tail. Returns 0 or -1. */
static int cut_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) <= MCP_JOB_OUTPUT_MAX)
        return 0;
    char *tail = mcp_job_tail(json_string_value(v), json_string_length(v), MCP_JOB_OUTPUT_MAX);
    if (!tail)
        return -1;
    int rc = json_object_set_new(obj, key, json_string(tail));
    free(tail);
    return rc;
}

json_t *mcp_job_view(const json_t *record)
{
    json_t *view = json_copy((json_t *)record); /* shallow: fields are replaced, not edited */
    if (!view)
        return NULL;
    json_t *out = json_object_get(view, "stdout");
    if (json_is_string(out) && json_string_length(out) <= MCP_JOB_RESULT_MAX) {
        json_t *parsed = json_loadb(json_string_value(out), json_string_length(out),
                                    JSON_DECODE_ANY, NULL);
        if (parsed && json_object_set_new(view, "result", parsed) < 0) {
            json_decref(view);
            return NULL;
        }
    }
    if (cut_field(view, "stdout") < 0 || cut_field(view, "stderr") < 0) {
        json_decref(view);
        return NULL;
    }
    return view;
}

int mcp_job_final(const char *status)
{
    return status && strcmp(status, "queued") && strcmp(status, "running");
}

json_t *mcp_job_error(const char *code, const char *message, const char *id)
{
    json_t *e = json_pack("{s:s, s:s}", "error", message, "code", code);
    if (e && id)
        json_object_set_new(e, "id", json_string(id));
    return e;
}
