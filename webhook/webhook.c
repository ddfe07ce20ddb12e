/*
 * arun-webhook: relays arun's completion events to HTTP endpoints, signed
 * (Standard Webhooks) and retried, reading the durable stream
 * P:stream:events in the consumer group "webhook", so that several relays
 * share the work and an event appended while every relay was down is
 * still delivered. This file: options, start-up, signals, and the
 * --deliveries command that prints the delivery log. See webhook.h for
 * the other files.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "rconn.h"
#include "config.h"
#include "log.h"
#include "webhook.h"

#define S(field) offsetof(struct wh_settings, field)

static const struct config_option options[] = {
    {"urls", 'u', "ARUN_WEBHOOK_URLS", CONFIG_STRING, S(urls), NULL, 0, 0, "URL,URL",
     "endpoints, comma-separated (signed with --secret)"},
    {"secret", 0, "ARUN_WEBHOOK_SECRET", CONFIG_STRING, S(secret), NULL, 0, 0, "whsec_...",
     "signing key(s) for --urls; several (comma-separated) sign with each (rotation)"},
    {"config", 'c', "ARUN_WEBHOOK_CONFIG", CONFIG_STRING, S(config), NULL, 0, 0, "FILE",
     "endpoints file: [endpoint] sections (url, secret, scripts, statuses, ...)"},
    {"timeout", 't', "ARUN_WEBHOOK_TIMEOUT", CONFIG_DURATION, S(timeout_ms), "10s", 100,
     3600000, "DURATION", "time limit of one attempt"},
    {"max-age", 0, "ARUN_WEBHOOK_MAX_AGE", CONFIG_DURATION, S(max_age_ms), "24h", 0,
     INT64_C(31536000000), "DURATION", "retry until the event is this old, then dead-letter it"},
    {"retry-first", 0, "ARUN_WEBHOOK_RETRY_FIRST", CONFIG_DURATION, S(retry_first_ms), "5s", 1,
     3600000, "DURATION", "the first retry comes within this; each later one about twice"},
    {"retry-max", 0, "ARUN_WEBHOOK_RETRY_MAX", CONFIG_DURATION, S(retry_max_ms), "10m", 1,
     86400000, "DURATION", "the longest wait between two attempts (Retry-After may exceed it)"},
    {"concurrency", 0, "ARUN_WEBHOOK_CONCURRENCY", CONFIG_INT, S(concurrency), "8", 1, 1024, "N",
     "POSTs in flight at once per endpoint"},
    {"allow-private", 0, "ARUN_WEBHOOK_ALLOW_PRIVATE", CONFIG_FLAG, S(allow_private), NULL, 0, 0,
     NULL, "allow loopback, private and link-local destinations"},
    {"claim-idle", 0, "ARUN_WEBHOOK_CLAIM_IDLE", CONFIG_DURATION, S(claim_idle_ms), "60s", 300,
     86400000, "DURATION", "take over another relay's entries after they sat this long"},
    {"max-inflight", 0, "ARUN_WEBHOOK_MAX_INFLIGHT", CONFIG_INT, S(max_inflight), "10000", 1,
     1000000, "N", "events held at once (read no more until some are done)"},
    {"consumer", 0, "ARUN_WEBHOOK_CONSUMER", CONFIG_STRING, S(consumer), NULL, 0, 0, "NAME",
     "this relay's name in the group (default HOST-PID)"},
    {"deliveries", 0, NULL, CONFIG_FLAG, S(deliveries), NULL, 0, 0, NULL,
     "print the delivery log (newest first, JSON lines) and exit"},
    {"limit", 'n', NULL, CONFIG_INT, S(limit), "50", 1, 10000, "N", "entries --deliveries prints"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"log-level", 0, "ARUN_LOG_LEVEL", CONFIG_CHOICE, S(log_level), "info", 0, 0,
     "debug|info|warn|error", "the least important log lines written"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-webhook [OPTION]...\n"
               "       arun-webhook --deliveries [--limit N]\n\n"
               "POSTs each completion event of P:stream:events to the endpoints whose filters\n"
               "match, signed as Standard Webhooks, retried with backoff until --max-age, then\n"
               "dead-lettered on P:webhook:dead. Several relays share the work (consumer group\n"
               "'webhook'). SIGTERM/SIGINT stop (held events are taken over by another relay,\n"
               "or by this one restarted). Exit 2: bad options; 1: cannot start or reach Redis.\n\n"
               "Options (a flag overrides its environment variable):\n");
    config_print_options(f, options, NOPTIONS);
}

/* --deliveries: the delivery log, newest first. Returns the exit code. */
static int print_deliveries(struct webhook *wh)
{
    struct timeval tv = {5, 0};
    char err[128];
    redisContext *c = redis_url_connect(&wh->url, &tv, err);
    if (!c) {
        fprintf(stderr, "arun-webhook: cannot reach Redis: %s\n", err);
        return 1;
    }
    redisReply *r = redisCommand(c, "XREVRANGE %s + - COUNT %lld", wh->log_key,
                                 (long long)wh->cfg.limit);
    int rc = r && r->type == REDIS_REPLY_ARRAY ? 0 : 1;
    for (size_t i = 0; rc == 0 && i < r->elements; i++) {
        redisReply *ent = r->element[i];
        if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2)
            continue;
        json_t *o = json_object();
        long long ms = strtoll(ent->element[0]->str, NULL, 10);
        json_object_set_new(o, "time_ms", json_integer(ms));
        redisReply *f = ent->element[1];
        for (size_t j = 0; f->type == REDIS_REPLY_ARRAY && j + 1 < f->elements; j += 2) {
            const char *k = f->element[j]->str, *v = f->element[j + 1]->str;
            if (strcmp(k, "attempt") == 0 || strcmp(k, "status") == 0)
                json_object_set_new(o, k, json_integer(strtoll(v, NULL, 10)));
            else
                json_object_set_new(o, k, json_string(v));
        }
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (line)
            puts(line);
        free(line);
        json_decref(o);
    }
    if (rc)
        fprintf(stderr, "arun-webhook: reading %s failed: %s\n", wh->log_key,
                r && r->type == REDIS_REPLY_ERROR ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct webhook *wh = arg;
    log_info("arun-webhook stopping on signal %d", (int)sig);
    event_base_loopbreak(wh->base);
}

int main(int argc, char **argv)
{
    static struct webhook wh; /* static: zeroed, and lives as long as the loop */
    int first_arg = argc;
    int started = config_start(options, NOPTIONS, &wh.cfg, argc, argv, &first_arg, "arun-webhook", usage);
    if (started >= 0)
        return started;
    if (first_arg < argc) {
        fprintf(stderr, "arun-webhook: unexpected argument '%s'\n", argv[first_arg]);
        return 2;
    }
    enum log_level level;
    if (log_level_parse(wh.cfg.log_level, &level) < 0) {
        fprintf(stderr, "arun-webhook: ARUN_LOG_LEVEL/--log-level: unknown level '%s'\n",
                wh.cfg.log_level);
        return 2;
    }
    log_set_level(level);
    char uerr[128];
    if (redis_url_parse(wh.cfg.redis_url, &wh.url, uerr) < 0) {
        fprintf(stderr, "arun-webhook: ARUN_REDIS_URL/--redis-url: %s\n", uerr);
        return 2;
    }
    if (keys_stream(wh.stream_key, wh.cfg.prefix) < 0 ||
        keys_webhook_dead(wh.dead_key, wh.cfg.prefix) < 0 ||
        keys_webhook_log(wh.log_key, wh.cfg.prefix) < 0) {
        fprintf(stderr, "arun-webhook: ARUN_PREFIX/--prefix: too long\n");
        return 2;
    }
    if (wh.cfg.deliveries)
        return print_deliveries(&wh);
    char eerr[WH_ERR_MAX];
    if (endpoints_load(&wh, eerr) < 0) {
        fprintf(stderr, "arun-webhook: %s\n", eerr);
        return 2;
    }
    if (wh.cfg.consumer) {
        if (!*wh.cfg.consumer || strlen(wh.cfg.consumer) >= sizeof wh.consumer ||
            strpbrk(wh.cfg.consumer, " \t\r\n")) {
            fprintf(stderr, "arun-webhook: --consumer: 1-127 characters without blanks\n");
            return 2;
        }
        snprintf(wh.consumer, sizeof wh.consumer, "%s", wh.cfg.consumer);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(wh.consumer, sizeof wh.consumer, "%s-%ld", host, (long)getpid());
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        return 1;
    }
    wh.base = event_base_new();
    wh.http = wh.base ? wh_http_new(wh.base, deliver_done, &wh) : NULL;
    struct event *sig_term = wh.base ? evsignal_new(wh.base, SIGTERM, on_signal, &wh) : NULL;
    struct event *sig_int = wh.base ? evsignal_new(wh.base, SIGINT, on_signal, &wh) : NULL;
    if (!wh.http || !sig_term || !sig_int || relay_start(&wh) < 0) {
        log_error("cannot start: out of memory");
        return 1;
    }
    evsignal_add(sig_term, NULL);
    evsignal_add(sig_int, NULL);
    log_info("arun-webhook %s starting: %zu endpoint(s), consumer %s in group webhook on %s",
             ARUN_VERSION, wh.nendpoints, wh.consumer, wh.stream_key);
    event_base_dispatch(wh.base);

    wh.stopping = 1;
    deliver_stop(&wh);
    relay_stop(&wh);
    wh_http_free(wh.http);
    event_free(sig_term);
    event_free(sig_int);
    event_base_free(wh.base);
    endpoints_free(wh.endpoints, wh.nendpoints);
    curl_global_cleanup();
    log_info("arun-webhook stopped");
    return 0;
}
