/*
 * mcp_tools: the tool table with its schemas, the tools' context, and the
 * four short tools (scripts, jobs, one job, cancel). run_analytics_script,
 * which may wait, is in mcp_run.c. Schemas are JSON text here, and they
 * are both what tools/list shows and what arguments are checked against.
 */
#include "mcp_tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "history.h"
#include "keys.h"
#include "log.h"
#include "mcp_events.h"
#include "mcp_job.h"
#include "mcp_schema.h"
#include "mcp_tools_impl.h"
#include "redis_url.h"
#include "whitelist.h"

#define ID_SCHEMA                                                                     \
    "{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9._:-]{1,64}$\","                   \
    "\"description\":\"the job id (1-64 of A-Za-z0-9._:-)\"}"

#define ERROR_PROPS                                                                   \
    "\"error\":{\"type\":\"string\",\"description\":\"what went wrong (isError)\"},"  \
    "\"code\":{\"type\":\"string\",\"description\":\"not_found, unknown_script, "     \
    "bad_request or unavailable\"}"

#define JOB_SCHEMA                                                                    \
    "{\"type\":\"object\",\"properties\":{"                                           \
    "\"id\":{\"type\":\"string\"},\"script\":{\"type\":\"string\"},"                  \
    "\"status\":{\"type\":\"string\",\"description\":\"queued, running, success, "    \
    "error, timeout, rejected, cancelled or failed\"},"                               \
    "\"exit_code\":{\"type\":[\"integer\",\"null\"]},"                                \
    "\"duration_ms\":{\"type\":[\"integer\",\"null\"]},"                              \
    "\"stdout\":{\"type\":[\"string\",\"null\"],\"description\":\"the last 16 KiB, "  \
    "after a line [arun: output cut ...] when longer\"},"                             \
    "\"stderr\":{\"type\":[\"string\",\"null\"]},"                                    \
    "\"result\":{\"description\":\"stdout parsed, when it is one JSON document\"},"   \
    "\"message\":{\"type\":\"string\"}," ERROR_PROPS "}}"

static void scripts_tool(struct mcp_call *call, const json_t *args, void *ctx);
static void jobs_tool(struct mcp_call *call, const json_t *args, void *ctx);
static void get_tool(struct mcp_call *call, const json_t *args, void *ctx);
static void cancel_tool(struct mcp_call *call, const json_t *args, void *ctx);

static const struct mcp_tool tools[] = {
    {"run_analytics_script", "Run an analytics script",
     "Runs one of the approved analytics scripts (see list_analytics_scripts) as an arun "
     "job with the given argv, and by default waits for it (up to wait_timeout_ms) and "
     "returns the job: status, exit_code, duration_ms, the end of stdout and stderr, and "
     "`result`, stdout parsed when it is JSON. If the wait ends first, or is cancelled, "
     "the job goes on: follow it with get_analytics_job, stop it with "
     "cancel_analytics_job. With wait false it returns the job id at once.",
     "{\"type\":\"object\",\"properties\":{"
     "\"script\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128,"
     "\"description\":\"a whitelisted script name, with or without .py\"},"
     "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":1024,"
     "\"description\":\"the script's argv, passed verbatim (no shell)\"},"
     "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400000,"
     "\"description\":\"the job's time limit (default 300000)\"},"
     "\"wait\":{\"type\":\"boolean\",\"default\":true,"
     "\"description\":\"wait for the job to end\"},"
     "\"wait_timeout_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":86400000,"
     "\"default\":60000,\"description\":\"how long to wait before returning the job "
     "as it stands\"}},"
     "\"required\":[\"script\"],\"additionalProperties\":false}",
     JOB_SCHEMA, mcp_run_tool},
    {"list_analytics_scripts", "List analytics scripts",
     "Lists the analytics scripts arun may run (the whitelist), sorted.",
     "{\"type\":\"object\",\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"scripts\":{\"type\":\"array\","
     "\"items\":{\"type\":\"string\"}}," ERROR_PROPS "}}",
     scripts_tool},
    {"get_analytics_job", "Get an analytics job",
     "Returns one job by id: its status and, once it has ended, exit_code, duration_ms, "
     "the end of its output and its parsed JSON `result`.",
     "{\"type\":\"object\",\"properties\":{\"id\":" ID_SCHEMA "},"
     "\"required\":[\"id\"],\"additionalProperties\":false}",
     JOB_SCHEMA, get_tool},
    {"list_analytics_jobs", "List analytics jobs",
     "Lists recorded jobs, newest first, without their output.",
     "{\"type\":\"object\",\"properties\":{"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500,\"default\":20},"
     "\"script\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":128},"
     "\"status\":{\"type\":\"string\",\"pattern\":\"^[a-z]{1,15}(,[a-z]{1,15}){0,15}$\","
     "\"description\":\"one status or several, comma-separated (error,timeout)\"}},"
     "\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"jobs\":{\"type\":\"array\","
     "\"items\":{\"type\":\"object\"}}," ERROR_PROPS "}}",
     jobs_tool},
    {"cancel_analytics_job", "Cancel an analytics job",
     "Asks for a queued or running job to be cancelled: status `cancelling`, or the final "
     "status of a job that had already ended (which is left as it was).",
     "{\"type\":\"object\",\"properties\":{\"id\":" ID_SCHEMA "},"
     "\"required\":[\"id\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
     "\"status\":{\"type\":\"string\"}," ERROR_PROPS "}}",
     cancel_tool},
};


const struct mcp_tool *mcp_tools_table(size_t *n)
{
    *n = sizeof tools / sizeof tools[0];
    return tools;
}

struct mcp_tools *mcp_tools_new(const struct mcp_tools_config *cfg, char err[256])
{
    struct mcp_tools *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, 256, "out of memory");
        return NULL;
    }
    t->cfg = *cfg;
    struct client_options o = {.redis_url = cfg->redis_url, .prefix = cfg->prefix,
                               .timeout_ms = MCP_TOOLS_CLIENT_TIMEOUT_MS,
                               .result_ttl_s = cfg->result_ttl_s};
    char cerr[CLIENT_ERR_MAX];
    struct redis_url u;
    char uerr[128], channel[KEYS_MAX];
    if (!(t->cl = client_new(&o, cerr))) {
        snprintf(err, 256, "%s", cerr);
        goto fail;
    }
    if (redis_url_parse(cfg->redis_url, &u, uerr) < 0 ||
        keys_events(channel, client_prefix(t->cl)) < 0) {
        snprintf(err, 256, "%s", uerr);
        goto fail;
    }
    struct mcp_events_callbacks cb = {mcp_run_on_event, mcp_run_on_subscribed, t};
    if (!(t->events = mcp_events_new(cfg->base, &u, channel, &cb))) {
        snprintf(err, 256, "out of memory");
        goto fail;
    }
    return t;
fail:
    mcp_tools_free(t);
    return NULL;
}

void mcp_tools_free(struct mcp_tools *t)
{
    if (!t)
        return;
    mcp_events_free(t->events);
    history_close(t->hist);
    client_free(t->cl);
    free(t);
}

/* The history handle, opened now if need be; NULL when the database does
 * not exist yet (*missing = 1) or cannot be opened (reason in err). */
static struct history *history_of(struct mcp_tools *t, int *missing, char err[256])
{
    *missing = 0;
    if (t->hist)
        return t->hist;
    if (access(t->cfg.db_path, F_OK) < 0 && errno == ENOENT) {
        *missing = 1;
        return NULL;
    }
    char herr[HISTORY_ERR_MAX];
    if (!(t->hist = history_open(t->cfg.db_path, herr)))
        snprintf(err, 256, "the job database cannot be read: %.200s", herr);
    return t->hist;
}

/* A queued or running request as a job record. */
static json_t *request_record(const struct client_found *f)
{
    json_t *req = json_loadb(f->raw, f->len, 0, NULL);
    json_t *rec = json_pack("{s:s}", "status", f->status);
    if (!rec || !json_is_object(req)) {
        json_decref(req);
        return rec;
    }
    static const char *const keep[] = {"id", "script", "args", "trigger", "timeout_ms"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(req, keep[i]);
        if (v)
            json_object_set(rec, keep[i], v);
    }
    json_object_set_new(rec, f->where == CLIENT_WHERE_QUEUED ? "queue" : "worker",
                        json_string(f->place));
    json_decref(req);
    return rec;
}

int mcp_tools_lookup(struct mcp_tools *t, const char *id, json_t **rec, char err[256])
{
    *rec = NULL;
    int missing, db_ok = 0;
    struct history *h = history_of(t, &missing, err);
    if (h) {
        int rc = history_get(h, id, rec);
        if (rc == HISTORY_OK)
            return 1;
        db_ok = rc == HISTORY_NOTFOUND;
        if (!db_ok)
            snprintf(err, 256, "the job database cannot be read: %s", history_errstr(h));
    } else {
        db_ok = missing;
    }
    /* not (yet) in the database: queued, held by a worker that has not
     * written its row, or finished with only its Redis record left */
    struct client_found f = {0};
    int rc = client_find(t->cl, id, &f);
    if (rc == CLIENT_OK) {
        *rec = f.where == CLIENT_WHERE_FINISHED ? json_loadb(f.raw, f.len, 0, NULL)
                                                 : request_record(&f);
        client_found_free(&f);
        if (!*rec) {
            snprintf(err, 256, "job %s: unreadable record", id);
            return -1;
        }
        return 1;
    }
    if (rc == CLIENT_NOTFOUND && db_ok)
        return 0;
    if (rc != CLIENT_NOTFOUND)
        snprintf(err, 256, "Redis cannot be reached: %s", client_errstr(t->cl));
    return -1;
}

static void scripts_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    (void)args;
    struct mcp_tools *t = ctx;
    struct whitelist wl = {0};
    if (whitelist_load(&wl, t->cfg.scripts_dir) < 0) {
        log_warn("mcp: cannot read the scripts folder: %s", strerror(errno));
        mcp_call_finish(call, mcp_job_error("unavailable", "the scripts folder cannot be read",
                                            NULL), 1);
        return;
    }
    json_t *names = json_array();
    for (size_t i = 0; names && i < wl.n; i++)
        json_array_append_new(names, json_string(wl.names[i]));
    whitelist_free(&wl);
    mcp_call_finish(call, json_pack("{s:o}", "scripts", names), 0);
}

static void jobs_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    struct mcp_tools *t = ctx;
    struct history_filter f = {0};
    json_int_t limit = MCP_TOOLS_LIST_DEFAULT;
    mcp_schema_integer(json_object_get(args, "limit"), &limit);
    f.limit = (int)limit;
    f.script = json_string_value(json_object_get(args, "script"));
    char statuses[256] = "", err[256] = "";
    const char *st = json_string_value(json_object_get(args, "status"));
    if (st) {
        snprintf(statuses, sizeof statuses, "%s", st);
        if (history_filter_statuses(&f, statuses, err) < 0) {
            mcp_call_finish(call, mcp_job_error("bad_request", err, NULL), 1);
            return;
        }
    }
    int missing;
    struct history *h = history_of(t, &missing, err);
    if (!h) {
        if (missing)
            mcp_call_finish(call, json_pack("{s:[]}", "jobs"), 0);
        else
            mcp_call_finish(call, mcp_job_error("unavailable", err, NULL), 1);
        return;
    }
    json_t *jobs = NULL;
    char next[HISTORY_CURSOR_MAX];
    int rc = history_list(h, &f, &jobs, next);
    if (rc != HISTORY_OK) {
        mcp_call_finish(call, mcp_job_error(rc == HISTORY_INVALID ? "bad_request" : "unavailable",
                                            history_errstr(h), NULL), 1);
        return;
    }
    mcp_call_finish(call, json_pack("{s:o}", "jobs", jobs), 0);
}

static void get_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    json_t *rec;
    char err[256] = "";
    int rc = mcp_tools_lookup(ctx, id, &rec, err);
    if (rc < 0) {
        mcp_call_finish(call, mcp_job_error("unavailable", err, id), 1);
    } else if (rc == 0) {
        snprintf(err, sizeof err, "no job with id %s", id);
        mcp_call_finish(call, mcp_job_error("not_found", err, id), 1);
    } else {
        json_t *view = mcp_job_view(rec);
        json_decref(rec);
        if (view)
            mcp_call_finish(call, view, 0);
        else
            mcp_call_fail(call, MCP_INTERNAL_ERROR, "out of memory");
    }
}

static void cancel_tool(struct mcp_call *call, const json_t *args, void *ctx)
{
    struct mcp_tools *t = ctx;
    const char *id = json_string_value(json_object_get(args, "id"));
    json_t *rec;
    char err[256] = "";
    int rc = mcp_tools_lookup(t, id, &rec, err);
    const char *status = rc > 0 ? json_string_value(json_object_get(rec, "status")) : NULL;
    if (rc < 0) {
        mcp_call_finish(call, mcp_job_error("unavailable", err, id), 1);
    } else if (rc == 0) {
        snprintf(err, sizeof err, "no job with id %s", id);
        mcp_call_finish(call, mcp_job_error("not_found", err, id), 1);
    } else if (mcp_job_final(status)) {
        mcp_call_finish(call, json_pack("{s:s, s:s}", "id", id, "status", status), 0);
    } else if (client_cancel(t->cl, id) != CLIENT_OK) {
        snprintf(err, sizeof err, "the cancel could not be recorded: %s", client_errstr(t->cl));
        mcp_call_finish(call, mcp_job_error("unavailable", err, id), 1);
    } else {
        log_info("mcp: cancel recorded for job %s", id);
        mcp_call_finish(call, json_pack("{s:s, s:s}", "id", id, "status", "cancelling"), 0);
    }
    json_decref(rec);
}
