/*
 * jobs: the job routes of the REST API (contract "arun-http"): submit,
 * list, get and cancel. Submitting goes through common/client (one Lua
 * call that refuses a known id and pushes); the history comes from
 * common/history; a job not in the database yet is looked for in Redis
 * (queued on a queue, held by a worker, or finished with its result).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "app.h"
#include "client.h"
#include "history.h"
#include "jobs.h"
#include "log.h"
#include "reply.h"
#include "request.h"
#include "server.h"
#include "store.h"

#define JOBS_ARGS_MAX REQUEST_MAX_ARGS

/* ---- submit -------------------------------------------------------------- */

/* Reads an optional string field. Returns 0 (value or NULL in *out), or -1
 * after answering 400. */
static int opt_string(struct evhttp_request *req, json_t *body, const char *name,
                      const char **out)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_error(req, 400, NULL, name, NULL, "%s must be a string", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* 1 if name is on the whitelist, rescanning the folder once if not (a
 * script added since start is found without a restart). */
static int script_known(struct app *a, const char *name)
{
    if (whitelist_contains(&a->wl, name))
        return 1;
    if (whitelist_load(&a->wl, a->cfg.scripts_dir) < 0)
        log_warn("cannot read the scripts folder %s", a->cfg.scripts_dir);
    return whitelist_contains(&a->wl, name);
}

/* 1 if the database has a row for id, 0 if not, -1 if it cannot be read. */
static int known_in_db(struct app *a, const char *id)
{
    struct history *h = app_history(a);
    json_t *row = NULL;
    int rc = h ? history_get(h, id, &row) : HISTORY_ERR;
    json_decref(row);
    if (rc == HISTORY_ERR)
        app_history_reset(a);
    return rc == HISTORY_OK ? 1 : rc == HISTORY_NOTFOUND ? 0 : -1;
}

static void submit(struct http_call *call, void *arg)
{
    struct app *a = arg;
    struct evhttp_request *req = call->req;
    json_t *body = reply_body_object(req);
    if (!body)
        return;
    const char *script, *trigger, *id, *queue;
    char **args = NULL;
    size_t nargs = 0;
    if (opt_string(req, body, "script", &script) < 0 || opt_string(req, body, "trigger", &trigger) < 0 ||
        opt_string(req, body, "id", &id) < 0 || opt_string(req, body, "queue", &queue) < 0)
        goto done;
    if (!script) {
        reply_error(req, 400, NULL, "script", NULL, "script is required");
        goto done;
    }
    json_t *t = json_object_get(body, "timeout_ms"), *av = json_object_get(body, "args");
    if (t && !json_is_null(t) && !json_is_integer(t)) {
        reply_error(req, 400, NULL, "timeout_ms", NULL, "timeout_ms must be an integer");
        goto done;
    }
    int64_t timeout_ms = t && json_is_integer(t) ? json_integer_value(t) : REQUEST_TIMEOUT_DEFAULT_MS;
    if (timeout_ms < REQUEST_TIMEOUT_MIN_MS || timeout_ms > REQUEST_TIMEOUT_MAX_MS) {
        reply_error(req, 400, NULL, "timeout_ms", NULL, "timeout_ms must be from %d to %d",
                    REQUEST_TIMEOUT_MIN_MS, REQUEST_TIMEOUT_MAX_MS);
        goto done;
    }
    if (av && !json_is_null(av)) {
        if (!json_is_array(av) || json_array_size(av) > JOBS_ARGS_MAX) {
            reply_error(req, 400, NULL, "args", NULL, "args must be an array of at most %d strings",
                        JOBS_ARGS_MAX);
            goto done;
        }
        nargs = json_array_size(av);
        args = calloc(nargs + 1, sizeof *args);
        for (size_t i = 0; args && i < nargs; i++) {
            json_t *s = json_array_get(av, i);
            if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
                reply_error(req, 400, NULL, "args", NULL, "args[%zu] must be a string without NUL", i);
                goto done;
            }
            args[i] = (char *)json_string_value(s);
        }
        if (!args) {
            reply_error(req, 503, NULL, NULL, NULL, "out of memory");
            goto done;
        }
    }
    char name[WHITELIST_NAME_MAX + 1], reason[256];
    if (whitelist_normalise(script, name, reason) < 0 || !script_known(a, name)) {
        reply_error(req, 404, "unknown_script", "script", NULL, "no script named '%s'", script);
        goto done;
    }
    struct client_job job = {.id = id, .script = name, .args = args, .nargs = nargs,
                             .timeout_ms = timeout_ms, .trigger = trigger ? trigger : "api",
                             .queue = queue ? queue : "default"};
    char err[CLIENT_ERR_MAX];
    const char *field = NULL;
    if (client_job_check(&job, err, &field) < 0) {
        reply_error(req, 400, NULL, field, NULL, "%s", err);
        goto done;
    }
    if (id) {
        int known = known_in_db(a, id);
        if (known != 0) {
            if (known > 0)
                reply_error(req, 409, NULL, "id", NULL, "a job with id %s already exists", id);
            else
                reply_error(req, 503, NULL, NULL, NULL, "the database cannot be read");
            goto done;
        }
    }
    char id_out[REQUEST_ID_MAX + 1];
    int rc = client_submit(a->client, &job, CLIENT_ID_UNIQUE, id_out, &field);
    if (rc == CLIENT_OK) {
        char loc[64 + REQUEST_ID_MAX];
        snprintf(loc, sizeof loc, "/api/analytics/jobs/%s", id_out);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
        reply_json(req, 202, json_pack("{s:s, s:s}", "id", id_out, "status", "queued"));
    } else if (rc == CLIENT_CONFLICT || rc == CLIENT_ATTACHED) {
        reply_error(req, 409, NULL, "id", NULL, "a job with id %s already exists", id_out);
    } else if (rc == CLIENT_INVALID) {
        reply_error(req, 400, NULL, field, NULL, "%s", client_errstr(a->client));
    } else {
        reply_error(req, 503, NULL, NULL, NULL, "Redis is unavailable: %s", client_errstr(a->client));
    }
done:
    free(args);
    json_decref(body);
}

/* ---- list ---------------------------------------------------------------- */

static void list(struct http_call *call, void *arg)
{
    struct app *a = arg;
    struct evhttp_request *req = call->req;
    struct evkeyvalq q;
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *query = evhttp_uri_get_query(u);
    if (evhttp_parse_query_str(query ? query : "", &q) < 0) {
        reply_error(req, 400, NULL, NULL, NULL, "the query string is malformed");
        return;
    }
    struct history_filter f = {0};
    char err[HISTORY_ERR_MAX];
    const char *field = NULL, *v;
    char *statuses = NULL;
    if ((v = evhttp_find_header(&q, "limit"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > HISTORY_LIMIT_MAX) {
            reply_error(req, 400, NULL, "limit", NULL, "limit must be from 1 to %d", HISTORY_LIMIT_MAX);
            goto done;
        }
        f.limit = (int)n;
    }
    f.script = evhttp_find_header(&q, "script");
    f.trigger = evhttp_find_header(&q, "trigger");
    f.id_prefix = evhttp_find_header(&q, "id");
    f.before = evhttp_find_header(&q, "before");
    if ((v = evhttp_find_header(&q, "status")) && *v) {
        statuses = strdup(v);
        if (!statuses || history_filter_statuses(&f, statuses, err) < 0) {
            reply_error(req, 400, NULL, "status", NULL, "%s", statuses ? err : "out of memory");
            goto done;
        }
    }
    if (history_filter_check(&f, err, &field) < 0) {
        reply_error(req, 400, NULL, field, NULL, "%s", err);
        goto done;
    }
    struct history *h = app_history(a);
    json_t *jobs = NULL;
    char next[HISTORY_CURSOR_MAX] = "";
    int rc = h ? history_list(h, &f, &jobs, next) : HISTORY_ERR;
    if (rc == HISTORY_OK) {
        reply_json(req, 200, json_pack("{s:o, s:o}", "jobs", jobs,
                                       "next", next[0] ? json_string(next) : json_null()));
    } else if (rc == HISTORY_INVALID) {
        reply_error(req, 400, NULL, "before", NULL, "%s", history_errstr(h));
    } else {
        if (rc == HISTORY_ERR)
            app_history_reset(a);
        reply_error(req, 503, NULL, NULL, NULL, "the database cannot be read");
    }
done:
    free(statuses);
    evhttp_clear_headers(&q);
}

/* ---- one job ------------------------------------------------------------- */

/* The JSON of a job that Redis knows but the database does not: queued
 * (on a queue), running (held by a worker, row not written yet), or
 * finished elsewhere (its result record). Takes found->raw's text. */
static json_t *from_redis(const char *id, const struct client_found *found)
{
    json_t *raw = json_loadb(found->raw, found->len, 0, NULL);
    if (found->where == CLIENT_WHERE_FINISHED && json_is_object(raw))
        return raw;
    json_t *job = json_pack("{s:s, s:s}", "id", id, "status",
                            found->where == CLIENT_WHERE_QUEUED ? "queued" : "running");
    if (job && json_is_object(raw)) {
        const char *keys[] = {"script", "args", "timeout_ms"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(raw, keys[i]);
            if (v)
                json_object_set(job, keys[i], v);
        }
        json_t *tr = json_object_get(raw, "trigger");
        json_object_set_new(job, "trigger_type", json_is_string(tr) ? json_copy(tr) : json_string("manual"));
        json_object_set_new(job, found->where == CLIENT_WHERE_QUEUED ? "queue" : "worker",
                            json_string(found->place));
    }
    json_decref(raw);
    return job;
}

int jobs_lookup(struct app *a, const char *id, json_t **job)
{
    *job = NULL;
    if (!request_id_valid(id))
        return 404;
    struct history *h = app_history(a);
    int rc = h ? history_get(h, id, job) : HISTORY_ERR;
    if (rc == HISTORY_OK)
        return 200;
    if (rc == HISTORY_ERR)
        app_history_reset(a);
    struct client_found found = {0};
    int crc = client_find(a->client, id, &found);
    if (crc == CLIENT_OK) {
        *job = from_redis(id, &found);
        client_found_free(&found);
        return *job ? 200 : 503;
    }
    if (crc == CLIENT_NOTFOUND && rc == HISTORY_NOTFOUND)
        return 404;
    return 503;
}

static void reply_lookup_error(struct evhttp_request *req, int status, const char *id)
{
    if (status == 404)
        reply_error(req, 404, NULL, NULL, NULL, "no job with id %s", id);
    else
        reply_error(req, 503, NULL, NULL, NULL, "the database or Redis cannot be read");
}

static void get_one(struct http_call *call, void *arg)
{
    json_t *job;
    int status = jobs_lookup(arg, call->params[0], &job);
    if (status == 200)
        reply_json(call->req, 200, job);
    else
        reply_lookup_error(call->req, status, call->params[0]);
}

static void cancel(struct http_call *call, void *arg)
{
    struct app *a = arg;
    const char *id = call->params[0];
    json_t *job;
    int status = jobs_lookup(a, id, &job);
    if (status != 200) {
        reply_lookup_error(call->req, status, id);
        return;
    }
    const char *st = json_string_value(json_object_get(job, "status"));
    if (st && strcmp(st, "queued") && store_status_final(st)) {
        reply_error(call->req, 409, NULL, NULL, json_pack("{s:s}", "status", st),
                    "job %s has already finished: %s", id, st);
    } else if (client_cancel(a->client, id) == CLIENT_OK) {
        reply_json(call->req, 202, json_pack("{s:s, s:s}", "id", id, "status", "cancelling"));
    } else {
        reply_error(call->req, 503, NULL, NULL, NULL, "Redis is unavailable: %s",
                    client_errstr(a->client));
    }
    json_decref(job);
}

int jobs_routes(struct app *a)
{
    struct http_server *s = a->server;
    return http_server_route(s, HTTP_POST, "/api/analytics/jobs", submit, a) |
           http_server_route(s, HTTP_GET, "/api/analytics/jobs", list, a) |
           http_server_route(s, HTTP_GET, "/api/analytics/jobs/*", get_one, a) |
           http_server_route(s, HTTP_POST, "/api/analytics/jobs/*/cancel", cancel, a);
}
