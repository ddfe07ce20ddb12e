/*
 * ctl_jobs: arun-ctl's commands about jobs: jobs (the history, newest
 * first), job ID (one whole record), retry ID (push a finished job again).
 * Records come from the database, else from P:result:ID (a job that ran
 * on another host), else from the queues (a job not taken yet).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "table.h"

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* "1834ms", "12.3s", "4m05s" or "-". */
static const char *fmt_duration(const json_t *v, char out[32])
{
    if (!json_is_integer(v))
        return "-";
    long long ms = json_integer_value(v);
    if (ms < 1000)
        snprintf(out, 32, "%lldms", ms);
    else if (ms < 60000)
        snprintf(out, 32, "%.1fs", (double)ms / 1000);
    else
        snprintf(out, 32, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
    return out;
}

static const char *fmt_int(const json_t *v, char out[32])
{
    if (!json_is_integer(v))
        return "-";
    snprintf(out, 32, "%lld", (long long)json_integer_value(v));
    return out;
}

struct jobs_settings {
    struct ctl base;
    char *status;
    const char *script;
    const char *trigger;
    const char *before;
    int64_t limit;
};

int ctl_jobs(struct ctl *c, int argc, char **argv)
{
#define J(f) offsetof(struct jobs_settings, f)
    static const struct config_option opts[] = {
        {"status", 's', NULL, CONFIG_STRING, J(status), NULL, 0, 0, "S[,S]",
         "only these statuses (success, error, timeout, rejected, cancelled, failed, running)"},
        {"script", 0, NULL, CONFIG_STRING, J(script), NULL, 0, 0, "NAME", "only this script"},
        {"trigger", 0, NULL, CONFIG_STRING, J(trigger), NULL, 0, 0, "TYPE",
         "only this trigger (manual, api, scheduled, retry, ...)"},
        {"limit", 'n', NULL, CONFIG_INT, J(limit), "20", 1, HISTORY_LIMIT_MAX, "N",
         "at most N jobs (1-500)"},
        {"before", 0, NULL, CONFIG_STRING, J(before), NULL, 0, 0, "CURSOR",
         "the page after the one whose \"next\" (--json) this is"},
    };
    struct jobs_settings s = {.base = *c};
    int first, rc = ctl_parse("jobs [--status S[,S]] [--script NAME] [--trigger T] [--limit N] "
                              "[--before CURSOR]",
                              opts, sizeof opts / sizeof opts[0], &s, argc, argv, &first);
    *c = s.base;
    if (rc)
        return rc;
    if (first < argc)
        return config_usage_error("arun-ctl", "jobs takes no operand");
    struct history_filter f = {.script = s.script, .trigger = s.trigger, .limit = (int)s.limit,
                               .before = s.before};
    char err[HISTORY_ERR_MAX];
    const char *field;
    if ((s.status && history_filter_statuses(&f, s.status, err) < 0) ||
        history_filter_check(&f, err, &field) < 0) {
        char msg[HISTORY_ERR_MAX + 16];
        snprintf(msg, sizeof msg, "jobs: %s", err);
        return config_usage_error("arun-ctl", msg);
    }
    struct history *h = ctl_history(c, 0);
    if (!h)
        return CTL_UNREACHABLE;
    json_t *jobs = NULL;
    char next[HISTORY_CURSOR_MAX];
    if (history_list(h, &f, &jobs, next) != HISTORY_OK)
        return ctl_say(CTL_UNREACHABLE, "reading %s: %s", c->db, history_errstr(h));
    if (c->json) {
        json_t *o = json_pack("{s:O, s:s?}", "jobs", jobs, "next", next[0] ? next : NULL);
        ctl_print_json(o);
        json_decref(o);
    } else {
        static const char *const head[] = {"ID", "SCRIPT", "STATUS", "EXIT", "DURATION",
                                           "CREATED", "TRIGGER"};
        struct table *t = table_new(7, head);
        size_t i;
        json_t *j;
        json_array_foreach(jobs, i, j) {
            char d[32], e[32];
            const char *row[] = {str(j, "id"), str(j, "script"), str(j, "status"),
                                 fmt_int(json_object_get(j, "exit_code"), e),
                                 fmt_duration(json_object_get(j, "duration_ms"), d),
                                 str(j, "created_at"), str(j, "trigger_type")};
            if (t)
                table_add(t, row);
        }
        if (t)
            table_print(t, stdout);
    }
    json_decref(jobs);
    return CTL_OK;
}

/* The key: value lines of a record, then its output. */
static void print_record(const json_t *rec)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rec, key, v) {
        if (!strcmp(key, "stdout") || !strcmp(key, "stderr") || !strcmp(key, "trigger"))
            continue;
        char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%-13s %s\n", key, text ? text : json_string_value(v));
        free(text);
    }
    static const char *const outputs[] = {"stdout", "stderr"};
    for (int k = 0; k < 2; k++) {
        const char *text = str(rec, outputs[k]);
        if (!text || !*text)
            continue;
        size_t n = strlen(text);
        printf("--- %s ---\n%s%s", outputs[k], text, text[n - 1] == '\n' ? "" : "\n");
    }
}

/* A job that Redis holds but no record names yet: queued or running. */
static int not_recorded(struct ctl *c, const char *id, json_t **out)
{
    struct client *cl = ctl_client(c);
    struct client_found f;
    if (!cl)
        return CTL_USAGE;
    int rc = client_find(cl, id, &f);
    if (rc == CLIENT_NOTFOUND)
        return CTL_NOTFOUND;
    if (rc != CLIENT_OK)
        return ctl_say(CTL_UNREACHABLE, "%s", client_errstr(cl));
    json_t *req = json_loadb(f.raw, f.len, 0, NULL);
    *out = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "status", f.status,
                     f.where == CLIENT_WHERE_QUEUED ? "queue" : "worker", f.place,
                     "request", req ? req : json_string(f.raw));
    client_found_free(&f);
    return *out ? CTL_OK : ctl_say(CTL_UNREACHABLE, "out of memory");
}

int ctl_job(struct ctl *c, int argc, char **argv)
{
    const char *id;
    json_t *rec = NULL;
    int rc = ctl_one_id(c, "job ID", argc, argv, &id);
    if (rc)
        return rc;
    rc = ctl_record(c, id, &rec);
    if (rc == CTL_NOTFOUND)
        rc = not_recorded(c, id, &rec);
    if (rc == CTL_NOTFOUND)
        return ctl_say(CTL_NOTFOUND, "no job %s (not in %s, nor in Redis)", id, c->db);
    if (rc)
        return rc;
    if (c->json)
        ctl_print_json(rec);
    else
        print_record(rec);
    json_decref(rec);
    return CTL_OK;
}

int ctl_retry(struct ctl *c, int argc, char **argv)
{
    const char *id;
    json_t *rec = NULL;
    int rc = ctl_one_id(c, "retry ID", argc, argv, &id);
    if (rc)
        return rc;
    rc = ctl_record(c, id, &rec);
    if (rc == CTL_NOTFOUND)
        return ctl_say(CTL_NOTFOUND, "no finished job %s", id);
    if (rc)
        return rc;
    const char *status = str(rec, "status");
    if (!status || !strcmp(status, "running") || !strcmp(status, "queued")) {
        json_decref(rec);
        return ctl_say(CTL_USAGE, "job %s has not finished (%s); retry takes a finished job", id,
                       status ? status : "no status");
    }
    struct client *cl = ctl_client(c);
    char *text = json_dumps(rec, JSON_COMPACT);
    char newid[REQUEST_ID_MAX + 1];
    json_decref(rec);
    if (!cl || !text) {
        free(text);
        return cl ? ctl_say(CTL_UNREACHABLE, "out of memory") : CTL_USAGE;
    }
    rc = client_retry(cl, text, strlen(text), newid);
    free(text);
    if (rc != CLIENT_OK)
        return ctl_say(rc == CLIENT_INVALID ? CTL_USAGE : CTL_UNREACHABLE, "%s", client_errstr(cl));
    if (c->json)
        printf("{\"id\": \"%s\", \"retry_of\": \"%s\"}\n", newid, id);
    else
        printf("%s\n", newid);
    return CTL_OK;
}
