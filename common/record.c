/*
 * record: result and event JSON from a store row.
 */
#include "record.h"

#include <string.h>

#include <jansson.h>

static json_t *text_or_null(const char *s)
{
    /* rows hold sanitised UTF-8, so json_string fails only on OOM */
    return s ? json_string(s) : json_null();
}

static json_t *int_or_null(int has, json_int_t v) { return has ? json_integer(v) : json_null(); }

/* The fields the event and the result share, in the contract's order. */
static json_t *common_fields(const struct store_row *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "script", json_string(r->script));
    json_object_set_new(o, "trigger", json_string(r->trigger));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "exit_code", int_or_null(r->has_exit_code, r->exit_code));
    json_object_set_new(o, "duration_ms", int_or_null(r->duration_ms >= 0, r->duration_ms));
    json_object_set_new(o, "created_at", text_or_null(r->created_at[0] ? r->created_at : NULL));
    json_object_set_new(o, "completed_at",
                        text_or_null(r->completed_at[0] ? r->completed_at : NULL));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "signal", int_or_null(r->has_signal, r->signal));
    return o;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

char *record_result_json(const struct store_row *r)
{
    json_t *o = common_fields(r);
    if (!o)
        return NULL;
    json_object_set_new(o, "trigger_type", json_string(r->trigger));
    json_object_set_new(o, "stdout", text_or_null(r->stdout_text));
    json_object_set_new(o, "stderr", text_or_null(r->stderr_text));
    json_t *args = r->args_json ? json_loads(r->args_json, 0, NULL) : NULL;
    json_object_set_new(o, "args", args ? args : json_array());
    json_object_set_new(o, "worker", text_or_null(r->worker[0] ? r->worker : NULL));
    json_object_set_new(o, "queue", text_or_null(r->queue[0] ? r->queue : NULL));
    return dump(o);
}

char *record_event_json(const struct store_row *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "event", json_string("job.completed"));
    json_t *rest = common_fields(r);
    if (!rest) {
        json_decref(o);
        return NULL;
    }
    json_object_update(o, rest);
    json_decref(rest);
    return dump(o);
}

int record_exit_code(const char *status, int has_exit_code, int exit_code,
                     int has_signal, int signal)
{
    if (strcmp(status, "timeout") == 0)
        return 124;
    if (strcmp(status, "success") == 0 || strcmp(status, "error") == 0) {
        if (has_exit_code)
            return exit_code;
        if (has_signal)
            return 128 + signal;
        return 1;
    }
    return 125;
}
