/*
 * record_read: a store row from a result record or a completion event.
 * Text too long for its column of the row is refused, not cut: a cut id
 * would name another job.
 */
#include "record_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "request.h"

/* Copies the string member key of o into out (outsz bytes). A missing or
 * null member leaves out "" and returns 0; a non-string or one too long
 * returns -1. */
static int copy_text(json_t *o, const char *key, char *out, size_t outsz)
{
    json_t *v = json_object_get(o, key);
    out[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= outsz)
        return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return strlen(out) == json_string_length(v) ? 0 : -1; /* no NUL inside */
}

/* Duplicates the string member key of o into *out (NULL when missing or
 * null). Returns -1 on a non-string or out of memory. */
static int dup_text(json_t *o, const char *key, char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = strdup(json_string_value(v));
    return *out ? 0 : -1;
}

/* Reads the integer member key of o: *has 0 when missing or null. */
static int get_int(json_t *o, const char *key, int *has, long long *v)
{
    json_t *j = json_object_get(o, key);
    *has = 0;
    *v = 0;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_integer(j))
        return -1;
    *has = 1;
    *v = json_integer_value(j);
    return 0;
}

static int fail(struct store_row *row, char err[128], const char *why, const char *field)
{
    store_row_free(row);
    snprintf(err, 128, "%s%s%s", why, field ? ": " : "", field ? field : "");
    return -1;
}

int record_read(const char *json, size_t len, struct store_row *row, char err[128])
{
    store_row_init(row);
    if (len > RECORD_READ_MAX_BYTES)
        return fail(row, err, "record too large", NULL);
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return fail(row, err, "record is not a JSON object", NULL);
    }
    int rc = -1;
    const char *bad = NULL;
    int has;
    long long v;
    if (copy_text(o, "id", row->id, sizeof row->id) < 0 || !request_id_valid(row->id))
        bad = "id";
    else if (copy_text(o, "script", row->script, sizeof row->script) < 0)
        bad = "script"; /* may be "": a rejected request that named none */
    else if (copy_text(o, "status", row->status, sizeof row->status) < 0 || !row->status[0] ||
             !store_status_final(row->status))
        bad = "status";
    else if (copy_text(o, "trigger", row->trigger, sizeof row->trigger) < 0 ||
             (!row->trigger[0] &&
              copy_text(o, "trigger_type", row->trigger, sizeof row->trigger) < 0))
        bad = "trigger";
    else if (copy_text(o, "created_at", row->created_at, sizeof row->created_at) < 0)
        bad = "created_at";
    else if (copy_text(o, "completed_at", row->completed_at, sizeof row->completed_at) < 0)
        bad = "completed_at";
    else if (copy_text(o, "worker", row->worker, sizeof row->worker) < 0)
        bad = "worker";
    else if (copy_text(o, "queue", row->queue, sizeof row->queue) < 0)
        bad = "queue";
    else if (copy_text(o, "started_at", row->started_at, sizeof row->started_at) < 0)
        bad = "started_at";
    else if (dup_text(o, "stdout", &row->stdout_text) < 0)
        bad = "stdout";
    else if (dup_text(o, "stderr", &row->stderr_text) < 0)
        bad = "stderr";
    if (bad)
        goto out;
    if (get_int(o, "exit_code", &has, &v) < 0 || v < -1024 || v > 1024) {
        bad = "exit_code";
        goto out;
    }
    row->has_exit_code = has;
    row->exit_code = (int)v;
    if (get_int(o, "signal", &has, &v) < 0 || v < 0 || v > 1024) {
        bad = "signal";
        goto out;
    }
    row->has_signal = has;
    row->signal = (int)v;
    if (get_int(o, "duration_ms", &has, &v) < 0 || v < 0) {
        bad = "duration_ms";
        goto out;
    }
    row->duration_ms = has ? v : -1;
    if (get_int(o, "attempts", &has, &v) < 0 || v < 0 || v > 1000000) {
        bad = "attempts";
        goto out;
    }
    row->attempts = has ? (int)v : 1;
    /* usage (schema 2): null for a job that never ran, absent from an older worker's */
    static const char *const usage[] = {"cpu_user_ms", "cpu_sys_ms", "max_rss_kb"};
    int64_t *fields[] = {&row->cpu_user_ms, &row->cpu_sys_ms, &row->max_rss_kb};
    for (size_t i = 0; i < 3; i++) {
        if (get_int(o, usage[i], &has, &v) < 0 || v < 0) {
            bad = usage[i];
            goto out;
        }
        *fields[i] = has ? v : -1;
    }
    if (!row->trigger[0])
        snprintf(row->trigger, sizeof row->trigger, "manual");
    json_t *args = json_object_get(o, "args");
    if (args && !json_is_null(args)) {
        if (!json_is_array(args)) {
            bad = "args";
            goto out;
        }
        row->args_json = json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!row->args_json) {
            bad = "args";
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(o);
    if (rc < 0)
        return fail(row, err, "bad or missing field", bad);
    return 0;
}
