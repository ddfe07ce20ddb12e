/*
 * ctl_redis: arun-ctl's commands that read or change Redis: queues,
 * workers, dead letters (list, requeue, drop) and cancel.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "table.h"

static int redis_down(struct client *cl) { return ctl_say(CTL_UNREACHABLE, "%s", client_errstr(cl)); }

int ctl_queues(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_no_operand(c, "queues", argc, argv);
    struct client *cl = rc ? NULL : ctl_client(c);
    if (rc || !cl)
        return rc ? rc : CTL_USAGE;
    struct client_queue *q;
    size_t n;
    if (client_queues(cl, &q, &n) != CLIENT_OK)
        return redis_down(cl);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:I, s:i}", "name", q[i].name, "length",
                                                 (json_int_t)q[i].length, "workers", q[i].takers));
        json_t *o = json_pack("{s:o}", "queues", arr);
        ctl_print_json(o);
        json_decref(o);
    } else {
        static const char *const head[] = {"QUEUE", "LENGTH", "WORKERS"};
        struct table *t = table_new(3, head);
        for (size_t i = 0; t && i < n; i++) {
            char len[24], takers[24];
            snprintf(len, sizeof len, "%lld", q[i].length);
            snprintf(takers, sizeof takers, "%d", q[i].takers);
            const char *row[] = {q[i].name, len, takers};
            table_add(t, row);
        }
        if (t)
            table_print(t, stdout);
    }
    free(q);
    return CTL_OK;
}

/* "a,b" as a JSON array of names. */
static json_t *names_array(const char *csv)
{
    json_t *arr = json_array();
    for (const char *p = csv; *p;) {
        size_t len = strcspn(p, ",");
        if (len)
            json_array_append_new(arr, json_stringn(p, len));
        p += len + (p[len] == ',');
    }
    return arr;
}

int ctl_workers(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_no_operand(c, "workers", argc, argv);
    struct client *cl = rc ? NULL : ctl_client(c);
    if (rc || !cl)
        return rc ? rc : CTL_USAGE;
    struct client_worker *w;
    size_t n;
    if (client_workers(cl, &w, &n) != CLIENT_OK)
        return redis_down(cl);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *jobs = json_array();
            for (size_t k = 0; k < w[i].njobs; k++)
                json_array_append_new(jobs, json_string(w[i].jobs[k]));
            json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:o, s:I, s:I, s:s}", "id",
                                                 w[i].id, "queues", names_array(w[i].queues),
                                                 "concurrency", (json_int_t)w[i].concurrency,
                                                 "jobs", jobs, "running",
                                                 (json_int_t)w[i].running, "pid",
                                                 (json_int_t)w[i].pid, "at", w[i].at));
        }
        json_t *o = json_pack("{s:o}", "workers", arr);
        ctl_print_json(o);
        json_decref(o);
    } else {
        static const char *const head[] = {"WORKER", "PID", "QUEUES", "CONCURRENCY", "JOBS"};
        struct table *t = table_new(5, head);
        for (size_t i = 0; t && i < n; i++) {
            char pid[24], conc[24], jobs[TABLE_CELL_MAX + 1] = "";
            snprintf(pid, sizeof pid, "%lld", w[i].pid);
            snprintf(conc, sizeof conc, "%lld", w[i].concurrency);
            for (size_t k = 0; k < w[i].njobs; k++) {
                size_t at = strlen(jobs);
                snprintf(jobs + at, sizeof jobs - at, "%s%s", k ? "," : "", w[i].jobs[k]);
            }
            const char *row[] = {w[i].id, pid, w[i].queues, conc, w[i].njobs ? jobs : "-"};
            table_add(t, row);
        }
        if (t)
            table_print(t, stdout);
    }
    client_workers_free(w, n);
    return CTL_OK;
}

static int dead_list(struct ctl *c, struct client *cl)
{
    struct client_dead *d;
    size_t n;
    if (client_dead_list(cl, 0, &d, &n) != CLIENT_OK)
        return redis_down(cl);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s}", "number",
                                                 (json_int_t)d[i].number, "request", d[i].request,
                                                 "reason", d[i].reason, "queue", d[i].queue,
                                                 "at", d[i].at));
        json_t *o = json_pack("{s:o}", "dead", arr);
        ctl_print_json(o);
        json_decref(o);
    } else {
        static const char *const head[] = {"N", "AT", "QUEUE", "REASON", "REQUEST"};
        struct table *t = table_new(5, head);
        for (size_t i = 0; t && i < n; i++) {
            char num[24];
            snprintf(num, sizeof num, "%lld", d[i].number);
            const char *row[] = {num, d[i].at[0] ? d[i].at : NULL,
                                 d[i].queue[0] ? d[i].queue : NULL, d[i].reason, d[i].request};
            table_add(t, row);
        }
        if (t)
            table_print(t, stdout);
    }
    client_dead_free(d, n);
    return CTL_OK;
}

struct dead_settings {
    struct ctl base;
    int64_t requeue;
    int64_t drop;
};

int ctl_dead(struct ctl *c, int argc, char **argv)
{
#define D(f) offsetof(struct dead_settings, f)
    static const struct config_option opts[] = {
        {"requeue", 0, NULL, CONFIG_INT, D(requeue), NULL, 1, INT64_MAX / 2, "N",
         "put letter N back on its queue (its delivery count starts again)"},
        {"drop", 0, NULL, CONFIG_INT, D(drop), NULL, 1, INT64_MAX / 2, "N", "delete letter N"},
    };
    struct dead_settings s = {.base = *c};
    int first, rc = ctl_parse("dead [--requeue N | --drop N]", opts, 2, &s, argc, argv, &first);
    *c = s.base;
    if (rc)
        return rc;
    if (first < argc || (s.requeue && s.drop))
        return config_usage_error("arun-ctl", "dead takes --requeue N or --drop N, not both");
    struct client *cl = ctl_client(c);
    if (!cl)
        return CTL_USAGE;
    if (!s.requeue && !s.drop)
        return dead_list(c, cl);
    char queue[REQUEST_QUEUE_MAX + 1] = "";
    long long number = s.requeue ? s.requeue : s.drop;
    rc = s.requeue ? client_dead_requeue(cl, number, queue) : client_dead_drop(cl, number);
    if (rc == CLIENT_NOTFOUND)
        return ctl_say(CTL_NOTFOUND, "%s", client_errstr(cl));
    if (rc != CLIENT_OK)
        return redis_down(cl);
    if (c->json && s.requeue)
        printf("{\"requeued\": %lld, \"queue\": \"%s\"}\n", number, queue);
    else if (c->json)
        printf("{\"dropped\": %lld}\n", number);
    else if (s.requeue)
        printf("dead letter %lld is back on queue %s\n", number, queue);
    else
        printf("dead letter %lld dropped\n", number);
    return CTL_OK;
}

int ctl_cancel(struct ctl *c, int argc, char **argv)
{
    const char *id;
    int rc = ctl_one_id(c, "cancel ID", argc, argv, &id);
    if (rc)
        return rc;
    struct client *cl = ctl_client(c);
    if (!cl)
        return CTL_USAGE;
    if (client_cancel(cl, id) != CLIENT_OK)
        return redis_down(cl);
    if (c->json)
        printf("{\"id\": \"%s\", \"status\": \"cancelling\"}\n", id);
    else
        printf("cancel of %s recorded\n", id);
    return CTL_OK;
}
