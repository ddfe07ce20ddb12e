/*
 * arun-submit: the command-line producer. Pushes one job request onto a
 * Redis queue and, with --wait, follows it to its end (subscribed before
 * the push, so the event cannot be missed), replaying the job's output
 * and exit code; --cancel ID asks for a job to be cancelled. Everything
 * that touches Redis is common/client.c; this file is options and output.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "config.h"
#include "record.h"
#include "request.h"

/* exit codes besides the job's own */
enum {
    EXIT_REDIS = 1,
    EXIT_USAGE = 2,
    EXIT_WAIT_TIMEOUT = 75, /* EX_TEMPFAIL: the job is still queued or running */
};

struct submit_settings {
    const char *redis_url;
    const char *prefix;
    const char *trigger;
    const char *queue;
    const char *id;
    const char *cancel;
    int64_t timeout_ms;
    int64_t wait_timeout_ms;
    int64_t result_ttl_s;
    int wait;
    int json;
};

#define S(field) offsetof(struct submit_settings, field)

static const struct config_option options[] = {
    {"wait", 'w', NULL, CONFIG_FLAG, S(wait), NULL, 0, 0, NULL,
     "wait for the job; print its output; exit with its exit code"},
    {"json", 'j', NULL, CONFIG_FLAG, S(json), NULL, 0, 0, NULL,
     "print JSON: the whole record with --wait, else {id, queue}"},
    {"timeout", 't', NULL, CONFIG_DURATION, S(timeout_ms), "5m", REQUEST_TIMEOUT_MIN_MS,
     REQUEST_TIMEOUT_MAX_MS, "DURATION", "the job's time limit: 500ms, 30s, 5m, 1h (max 24h)"},
    {"trigger", 0, NULL, CONFIG_STRING, S(trigger), "manual", 0, 0, "TYPE",
     "recorded as trigger_type (manual, api, scheduled, ...)"},
    {"queue", 'q', NULL, CONFIG_STRING, S(queue), "default", 0, 0, "NAME", "queue to push to"},
    {"id", 0, NULL, CONFIG_STRING, S(id), NULL, 0, 0, "ID",
     "job id, 1-64 of A-Za-z0-9._:- (default: a new UUID); an id that exists attaches "
     "when it is the same script and args, else is refused"},
    {"cancel", 0, NULL, CONFIG_STRING, S(cancel), NULL, 0, 0, "ID",
     "cancel job ID instead of submitting (with --wait, then wait for its end)"},
    {"wait-timeout", 0, NULL, CONFIG_DURATION, S(wait_timeout_ms), NULL, 1, INT64_MAX / 2,
     "DURATION", "with --wait, give up waiting after this long (exit 75; the job goes on)"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"result-ttl", 0, "ARUN_RESULT_TTL", CONFIG_DURATION_S, S(result_ttl_s), "24h", 1,
     315360000, "DURATION", "how long a --cancel is kept for a job not pushed yet (bare: s)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-submit [--wait [--wait-timeout DURATION]] [--json] [--timeout DURATION]\n"
               "                   [--trigger TYPE] [--queue NAME] [--id ID]\n"
               "                   [--redis-url URL] [--prefix P] SCRIPT [ARG...]\n"
               "       arun-submit --cancel ID [--wait] [--json] [--redis-url URL] [--prefix P]\n\n"
               "Queues SCRIPT (a whitelisted analytics script, with or without .py) to run with\n"
               "ARGs; prints the job id. Everything after SCRIPT is passed to it verbatim.\n"
               "Redis is found by --redis-url, else $ARUN_REDIS_URL, else 127.0.0.1:6379.\n\n"
               "Exit codes: 0 done (or, with --wait, the job's success); with --wait, the\n"
               "job's own exit code, 128+N when a signal N killed it, 124 on its timeout,\n"
               "125 when it was rejected, cancelled or failed, 75 when --wait-timeout passed\n"
               "first; 1 when Redis cannot be reached; 2 on a usage error (or an id used by\n"
               "another job).\n\n"
               "Options:\n");
    config_print_options(f, options, NOPTIONS);
}

#define usage_error(msg) config_usage_error("arun-submit", msg)

static void on_notice(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "arun-submit: %s\n", msg);
}

/* Prints the record as asked and returns the exit code it stands for. */
static int report(const char *text, int as_json)
{
    json_t *rec = json_loads(text, 0, NULL);
    const char *status = json_string_value(json_object_get(rec, "status"));
    json_t *code = json_object_get(rec, "exit_code");
    json_t *sig = json_object_get(rec, "signal");
    if (as_json) {
        json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        json_t *out = json_object_get(rec, "stdout"), *err = json_object_get(rec, "stderr");
        if (json_is_string(out))
            fwrite(json_string_value(out), 1, json_string_length(out), stdout);
        size_t errlen = json_string_length(err);
        if (json_is_string(err))
            fwrite(json_string_value(err), 1, errlen, stderr);
        if (!status || (strcmp(status, "success") && strcmp(status, "error"))) {
            if (errlen && json_string_value(err)[errlen - 1] != '\n')
                fputc('\n', stderr);
            fprintf(stderr, "arun-submit: job %s: %s\n",
                    json_string_value(json_object_get(rec, "id")), status ? status : "?");
        }
    }
    fflush(stdout);
    int exit_code = record_exit_code(status ? status : "failed", json_is_integer(code),
                                     (int)json_integer_value(code), json_is_integer(sig),
                                     (int)json_integer_value(sig));
    json_decref(rec);
    return exit_code;
}

/* Waits for id's end and reports it. */
static int wait_and_report(struct client *cl, struct client_wait *w,
                           const struct submit_settings *s, const char *id)
{
    char *rec = NULL;
    int rc = client_wait_for(w, id, s->wait_timeout_ms ? s->wait_timeout_ms : -1, &rec);
    if (rc == CLIENT_TIMEOUT) {
        fprintf(stderr, "arun-submit: job %s has not finished after --wait-timeout; it goes "
                        "on (wait again: arun-submit --wait --id %s with the same script and "
                        "args)\n", id, id);
        return EXIT_WAIT_TIMEOUT;
    }
    if (rc != CLIENT_OK) {
        fprintf(stderr, "arun-submit: %s\n", client_errstr(cl));
        return EXIT_REDIS;
    }
    int code = report(rec, s->json);
    free(rec);
    return code;
}

/* Warns when no live worker takes from queue: the job would wait in
 * silence (a typo in --queue, or no worker started yet). */
static void warn_if_no_taker(struct client *cl, const char *queue)
{
    if (client_queue_takers(cl, queue) == 0)
        fprintf(stderr, "arun-submit: warning: no live worker takes from queue '%s'; the job "
                        "waits there until one does (arun-ctl workers lists them)\n", queue);
}

static int cancel(struct client *cl, const struct submit_settings *s)
{
    struct client_wait *w = NULL;
    if (s->wait && !(w = client_wait_open(cl))) {
        fprintf(stderr, "arun-submit: %s\n", client_errstr(cl));
        return EXIT_REDIS;
    }
    int code;
    if (client_cancel(cl, s->cancel) != CLIENT_OK) {
        fprintf(stderr, "arun-submit: %s\n", client_errstr(cl));
        code = EXIT_REDIS;
    } else if (!w) {
        if (s->json)
            printf("{\"id\":\"%s\",\"status\":\"cancelling\"}\n", s->cancel);
        code = 0;
    } else {
        code = wait_and_report(cl, w, s, s->cancel);
    }
    client_wait_close(w);
    return code;
}

static int submit(struct client *cl, const struct submit_settings *s, const struct client_job *job)
{
    struct client_wait *w = NULL;
    if (s->wait && !(w = client_wait_open(cl))) { /* before the push */
        fprintf(stderr, "arun-submit: %s\n", client_errstr(cl));
        return EXIT_REDIS;
    }
    char id[REQUEST_ID_MAX + 1];
    int code = 0;
    switch (client_submit(cl, job, CLIENT_ID_ATTACH, id, NULL)) {
    case CLIENT_OK:
        warn_if_no_taker(cl, job->queue);
        break;
    case CLIENT_ATTACHED:
        if (!s->json)
            fprintf(stderr, "arun-submit: job %s exists with the same script and args; "
                            "following it\n", id);
        break;
    case CLIENT_CONFLICT:
        fprintf(stderr, "arun-submit: the id %s is used by another job (another script or "
                        "other args)\n", id);
        code = EXIT_USAGE;
        break;
    case CLIENT_INVALID:
        code = usage_error(client_errstr(cl));
        break;
    default:
        fprintf(stderr, "arun-submit: %s\n", client_errstr(cl));
        code = EXIT_REDIS;
    }
    if (code == 0 && !w) {
        if (s->json)
            printf("{\"id\":\"%s\",\"queue\":\"%s\"}\n", id, job->queue);
        else
            printf("%s\n", id);
    } else if (code == 0) {
        code = wait_and_report(cl, w, s, id);
    }
    client_wait_close(w);
    return code;
}

int main(int argc, char **argv)
{
    struct submit_settings s = {0};
    char err[256];
    int first = argc;
    int started = config_start(options, NOPTIONS, &s, argc, argv, &first, "arun-submit", usage);
    if (started >= 0)
        return started;
    if (s.wait_timeout_ms && !s.wait)
        return usage_error("--wait-timeout goes with --wait");
    if (s.cancel && first < argc)
        return usage_error("--cancel ID takes no SCRIPT");
    if (s.cancel && !request_id_valid(s.cancel))
        return usage_error("--cancel: a job id is 1-64 of A-Za-z0-9._:-");
    if (!s.cancel && first >= argc)
        return usage_error("missing SCRIPT");
    struct client_job job = {
        .id = s.id,
        .script = s.cancel ? NULL : argv[first],
        .args = argv + first + 1,
        .nargs = s.cancel ? 0 : (size_t)(argc - first - 1),
        .timeout_ms = s.timeout_ms,
        .trigger = s.trigger,
        .queue = s.queue,
    };
    const char *field = NULL;
    if (!s.cancel && client_job_check(&job, err, &field) < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s%s", field && strcmp(field, "script") && strcmp(field, "args")
                                              ? "--" : "", err);
        return usage_error(msg);
    }
    struct client_options co = {.redis_url = s.redis_url, .prefix = s.prefix,
                                .result_ttl_s = s.result_ttl_s, .notice = on_notice};
    struct client *cl = client_new(&co, err);
    if (!cl) {
        char msg[300];
        snprintf(msg, sizeof msg, "--redis-url/--prefix: %s", err);
        return usage_error(msg);
    }
    int code = s.cancel ? cancel(cl, &s) : submit(cl, &s, &job);
    client_free(cl);
    return code;
}
