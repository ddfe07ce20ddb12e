/*
 * record: result and event JSON from a store row.
 */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fmtint.h"
#include "utf8.h"

/* The two records are written directly rather than built as jansson
 * objects and dumped: this runs for every job, and the jansson way cost
 * more instructions than the rest of a job's bookkeeping together. The
 * output is the same bytes jansson's compact, order-preserving dump gives
 * (the unit tests parse it back; rows hold valid UTF-8). */
struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

#define PUT_LIT(b, lit) put(b, lit, sizeof lit - 1)

static void put_valid_string(struct jbuf *b, const char *s);

/* A JSON string with jansson's escapes (see put_valid_string). Text that is
 * not valid UTF-8 (a row a script wrote into the database itself) is
 * repaired first, so the record is always JSON. */
static void put_string(struct jbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (utf8_valid(s, n)) {
        put_valid_string(b, s);
        return;
    }
    char *fixed = utf8_sanitize(s, n, NULL);
    if (!fixed) {
        b->oom = 1;
        return;
    }
    put_valid_string(b, fixed);
    free(fixed);
}

/* A JSON string with jansson's escapes: \" \\ \b \f \n \r \t, other
 * control characters as \u00XX; everything else (UTF-8) as is. */
static void put_valid_string(struct jbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    put(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c >= 0x20 && *c != '"' && *c != '\\')
            continue;
        put(b, run, (size_t)((const char *)c - run));
        run = (const char *)c + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*c >> 4];
            esc[5] = hex[*c & 15];
            n = 6;
        }
        put(b, esc, n);
    }
    put(b, run, strlen(run));
    put(b, "\"", 1);
}

static void put_key(struct jbuf *b, const char *key)
{
    if (b->len > 1)
        put(b, ",", 1);
    put(b, "\"", 1);
    put(b, key, strlen(key));
    put(b, "\":", 2);
}

static void field_string(struct jbuf *b, const char *key, const char *s)
{
    put_key(b, key);
    if (s)
        put_string(b, s);
    else
        PUT_LIT(b, "null");
}

static void field_int(struct jbuf *b, const char *key, int has, long long v)
{
    put_key(b, key);
    if (!has) {
        PUT_LIT(b, "null");
        return;
    }
    char num[FMTINT_MAX];
    put(b, num, fmtint_i64(num, (int64_t)v));
}

/* The fields the event and the result share, in the contract's order. */
static void common_fields(struct jbuf *b, const struct store_row *r)
{
    field_string(b, "id", r->id);
    field_string(b, "script", r->script);
    field_string(b, "trigger", r->trigger);
    field_string(b, "status", r->status);
    field_int(b, "exit_code", r->has_exit_code, r->exit_code);
    field_int(b, "duration_ms", r->duration_ms >= 0, r->duration_ms);
    field_string(b, "created_at", r->created_at[0] ? r->created_at : NULL);
    field_string(b, "completed_at", r->completed_at[0] ? r->completed_at : NULL);
    field_int(b, "attempts", 1, r->attempts);
    field_int(b, "signal", r->has_signal, r->signal);
    field_string(b, "started_at", r->started_at[0] ? r->started_at : NULL);
    field_int(b, "cpu_user_ms", r->cpu_user_ms >= 0, r->cpu_user_ms);
    field_int(b, "cpu_sys_ms", r->cpu_sys_ms >= 0, r->cpu_sys_ms);
    field_int(b, "max_rss_kb", r->max_rss_kb >= 0, r->max_rss_kb);
}

static char *finish(struct jbuf *b)
{
    put(b, "}", 1);
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

char *record_result_json(const struct store_row *r)
{
    struct jbuf b = {0};
    put(&b, "{", 1);
    common_fields(&b, r);
    field_string(&b, "trigger_type", r->trigger);
    field_string(&b, "stdout", r->stdout_text);
    field_string(&b, "stderr", r->stderr_text);
    put_key(&b, "args");
    if (!r->args_json || strcmp(r->args_json, "[]") == 0) {
        PUT_LIT(&b, "[]");
    } else {
        /* re-dumped, so that whatever the column holds the record is JSON */
        json_t *args = json_loads(r->args_json, 0, NULL);
        char *a = args ? json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(args);
        if (a)
            put(&b, a, strlen(a));
        else
            PUT_LIT(&b, "[]");
        free(a);
    }
    field_string(&b, "worker", r->worker[0] ? r->worker : NULL);
    field_string(&b, "queue", r->queue[0] ? r->queue : NULL);
    return finish(&b);
}

char *record_event_json(const struct store_row *r)
{
    struct jbuf b = {0};
    PUT_LIT(&b, "{\"event\":\"job.completed\"");
    common_fields(&b, r);
    return finish(&b);
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
