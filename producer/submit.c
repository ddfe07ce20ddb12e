/*
 * arun-submit: the command-line producer. Pushes one job request onto a
 * Redis queue and, with --wait, follows it to its end: it subscribes to
 * the event channel before pushing (so the event cannot be missed), waits
 * for its job's event, reads P:result:ID and replays the job's output and
 * exit code. It needs only Redis, so it works from any host.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config.h"
#include "record.h"
#include "redis_url.h"
#include "request.h"

#define SUBMIT_CONNECT_TIMEOUT_S 5
#define SUBMIT_RETRY_S 1

/* exit codes besides the job's own */
enum { EXIT_REDIS = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 124, EXIT_REFUSED = 125 };

struct submit_settings {
    const char *redis_url;
    const char *prefix;
    const char *trigger;
    const char *queue;
    const char *id;
    int64_t timeout_ms;
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
     "job id, 1-64 of A-Za-z0-9._:- (default: a new UUID)"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-submit [--wait] [--json] [--timeout DURATION] [--trigger TYPE] "
               "[--queue NAME] [--id ID] SCRIPT [ARG...]\n\n"
               "Queues SCRIPT (a whitelisted analytics script, with or without .py) to run with\n"
               "ARGs; prints the job id. Everything after SCRIPT is passed to it verbatim.\n"
               "With --wait, exits with the job's exit code: 124 on timeout, 125 when rejected,\n"
               "cancelled or failed, 1 when Redis cannot be reached, 2 on a usage error.\n\n");
    config_print_options(f, options, NOPTIONS);
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "arun-submit: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "Try 'arun-submit --help'.\n");
    return EXIT_USAGE;
}

static redisContext *connect_or_say(const struct redis_url *u, const char *url)
{
    struct timeval tv = {SUBMIT_CONNECT_TIMEOUT_S, 0};
    char err[128];
    redisContext *c = redis_url_connect(u, &tv, err);
    char shown[REDIS_URL_SHOWN_MAX];
    if (!c)
        fprintf(stderr, "arun-submit: cannot reach Redis at %s: %s\n",
                redis_url_redact(url, shown, sizeof shown), err);
    return c;
}

/* Subscribes c to channel. Returns 0 or -1. */
static int subscribe(redisContext *c, const char *channel)
{
    redisReply *r = redisCommand(c, "SUBSCRIBE %s", channel);
    int ok = r && r->type == REDIS_REPLY_ARRAY;
    freeReplyObject(r);
    if (ok) {
        struct timeval forever = {0, 0};
        redisSetTimeout(c, forever); /* a job may take hours */
    }
    return ok ? 0 : -1;
}

/* Reads P:result:ID. Returns the parsed record, NULL if absent or on error
 * (*lost set to 1 when the connection failed). */
static json_t *read_result(redisContext *c, const char *prefix, const char *id, int *lost)
{
    redisReply *r = redisCommand(c, "GET %s:result:%s", prefix, id);
    if (!r) {
        *lost = 1;
        return NULL;
    }
    json_t *rec = r->type == REDIS_REPLY_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
    freeReplyObject(r);
    return rec;
}

/* Returns 1 if the pub/sub reply is a message whose event names id. */
static int is_our_event(const redisReply *r, const char *id)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[2]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
        return 0;
    json_t *ev = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
    const char *evid = json_string_value(json_object_get(ev, "id"));
    int match = evid && strcmp(evid, id) == 0;
    json_decref(ev);
    return match;
}

/* Prints the record as asked and returns the exit code it stands for. */
static int report(json_t *rec, int as_json)
{
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
        if (status && strcmp(status, "success") && strcmp(status, "error")) {
            if (errlen && json_string_value(err)[errlen - 1] != '\n')
                fputc('\n', stderr);
            fprintf(stderr, "arun-submit: job %s: %s\n",
                    json_string_value(json_object_get(rec, "id")), status);
        }
    }
    fflush(stdout);
    return record_exit_code(status ? status : "failed", json_is_integer(code),
                            (int)json_integer_value(code), json_is_integer(sig),
                            (int)json_integer_value(sig));
}

/* Waits for the job's end. The subscription was made before the push;
 * when the connection drops it is made again, and the result key is read
 * after every (re)subscription, so an event missed meanwhile is not. */
static int wait_for(const struct redis_url *u, const struct submit_settings *s, const char *id,
                    redisContext *cmd, redisContext *sub)
{
    char channel[256];
    snprintf(channel, sizeof channel, "%s:events", s->prefix);
    int said_lost = 0;
    for (;;) {
        int lost = 0;
        json_t *rec = read_result(cmd, s->prefix, id, &lost);
        while (!rec && !lost) {
            redisReply *r = NULL;
            if (redisGetReply(sub, (void **)&r) != REDIS_OK) {
                lost = 1;
                break;
            }
            int ours = is_our_event(r, id);
            freeReplyObject(r);
            if (ours)
                rec = read_result(cmd, s->prefix, id, &lost);
        }
        if (rec) {
            int code = report(rec, s->json);
            json_decref(rec);
            redisFree(cmd);
            redisFree(sub);
            return code;
        }
        if (!said_lost) {
            fprintf(stderr, "arun-submit: lost the connection to Redis; waiting for it (the "
                            "job %s is safe in the queue)\n", id);
            said_lost = 1;
        }
        redisFree(cmd);
        redisFree(sub);
        cmd = sub = NULL;
        while (!cmd || !sub || subscribe(sub, channel) < 0) {
            sleep(SUBMIT_RETRY_S);
            struct timeval tv = {SUBMIT_CONNECT_TIMEOUT_S, 0};
            char err[128];
            if (!cmd)
                cmd = redis_url_connect(u, &tv, err);
            if (sub)
                redisFree(sub);
            sub = redis_url_connect(u, &tv, err);
        }
    }
}

int main(int argc, char **argv)
{
    struct submit_settings s = {0};
    char err[256];
    int first = argc;
    switch (config_parse(options, NOPTIONS, &s, argc, argv, &first, err)) {
    case CONFIG_HELP:
        usage(stdout);
        return 0;
    case CONFIG_VERSION:
        printf("arun-submit %s\n", ARUN_VERSION);
        return 0;
    case CONFIG_ERROR:
        return usage_error(err, NULL);
    }
    if (first >= argc)
        return usage_error("missing SCRIPT", NULL);
    const char *script = argv[first];
    if (!*script || strlen(script) > REQUEST_SCRIPT_MAX)
        return usage_error("SCRIPT must be 1-128 characters", NULL);
    if (s.id && !request_id_valid(s.id))
        return usage_error("--id must be 1-64 of A-Za-z0-9._:-", s.id);
    if (!request_queue_valid(s.queue))
        return usage_error("--queue must be 1-64 of A-Za-z0-9._:-", s.queue);
    if (!request_queue_valid(s.prefix))
        return usage_error("ARUN_PREFIX/--prefix must be 1-64 of A-Za-z0-9._:-", s.prefix);
    if (!*s.trigger || strlen(s.trigger) > REQUEST_TRIGGER_MAX)
        return usage_error("--trigger must be 1-64 characters", s.trigger);
    struct redis_url u;
    char uerr[128];
    char shown[REDIS_URL_SHOWN_MAX];
    if (redis_url_parse(s.redis_url, &u, uerr) < 0)
        return usage_error(uerr, redis_url_redact(s.redis_url, shown, sizeof shown));
    char id[REQUEST_ID_MAX + 1];
    if (s.id) {
        snprintf(id, sizeof id, "%s", s.id);
    } else if (request_new_id(id) < 0) {
        fprintf(stderr, "arun-submit: no random source for an id\n");
        return EXIT_REDIS;
    }
    char *req = request_build(id, script, argv + first + 1, (size_t)(argc - first - 1),
                              s.timeout_ms, s.trigger, s.queue);
    if (!req)
        return usage_error("arguments must be valid UTF-8", NULL);

    int code = EXIT_REDIS;
    redisContext *cmd = connect_or_say(&u, s.redis_url), *sub = NULL;
    if (!cmd)
        goto done;
    char channel[256];
    snprintf(channel, sizeof channel, "%s:events", s.prefix);
    if (s.wait && (!(sub = connect_or_say(&u, s.redis_url)) || subscribe(sub, channel) < 0)) {
        if (sub)
            fprintf(stderr, "arun-submit: cannot subscribe to %s: %s\n", channel,
                    sub->err ? sub->errstr : "refused");
        goto done;
    }
    redisReply *r = redisCommand(cmd, "RPUSH %s:queue:%s %s", s.prefix, s.queue, req);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        fprintf(stderr, "arun-submit: pushing the job failed: %s\n",
                r ? (r->str ? r->str : "unexpected reply") : cmd->errstr);
        freeReplyObject(r);
        goto done;
    }
    freeReplyObject(r);
    if (!s.wait) {
        if (s.json)
            printf("{\"id\":\"%s\",\"queue\":\"%s\"}\n", id, s.queue);
        else
            printf("%s\n", id);
        code = 0;
        goto done;
    }
    code = wait_for(&u, &s, id, cmd, sub);
    cmd = sub = NULL; /* wait_for owns and frees them */
done:
    if (cmd)
        redisFree(cmd);
    if (sub)
        redisFree(sub);
    free(req);
    return code;
}
