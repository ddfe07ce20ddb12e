/*
 * arun-http: the REST API, the job history page, live events and output,
 * and metrics, for services and people that should not talk to Redis
 * directly. One libevent loop: evhttp for HTTP, hiredis's libevent adapter
 * for the streams; short blocking Redis and SQLite calls for the rest
 * (common/client.h and common/history.h say why that is fine). This file
 * holds the options, start-up, signals and shutdown.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "app.h"
#include "mcp_route.h"
#include "client.h"
#include "config.h"
#include "events.h"
#include "history.h"
#include "jobs.h"
#include "follow.h"
#include "log.h"
#include "metrics.h"
#include "misc.h"
#include "output.h"
#include "server.h"
#include "sse.h"
#include "store.h"

#define S(field) offsetof(struct http_settings, field)

static const struct config_option options[] = {
    {"listen", 'l', "ARUN_HTTP_LISTEN", CONFIG_STRING, S(listen), "127.0.0.1:8080", 0, 0,
     "HOST:PORT", "address to listen on (without a token: loopback only)"},
    {"token", 0, "ARUN_HTTP_TOKEN", CONFIG_STRING, S(token), NULL, 0, 0, "TOKEN",
     "bearer token every /api and /mcp request must carry"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"db", 0, "ARUN_DB", CONFIG_STRING, S(db), "./var/arun.db", 0, 0, "PATH",
     "SQLite database of the job history (created with its folder)"},
    {"scripts-dir", 0, "ARUN_SCRIPTS_DIR", CONFIG_STRING, S(scripts_dir), "./analytics", 0, 0,
     "DIR", "folder whose *.py files (but __init__.py) are the whitelist"},
    {"result-ttl", 0, "ARUN_RESULT_TTL", CONFIG_DURATION_S, S(result_ttl), "86400", 1, 315360000,
     "DURATION", "lifetime of cancel requests, as of the worker's results (86400, 24h)"},
    {"log-level", 0, "ARUN_LOG_LEVEL", CONFIG_CHOICE, S(log_level), "info", 0, 0,
     "debug|info|warn|error", "lowest level logged"},
    {"max-connections", 0, "ARUN_HTTP_MAX_CONNECTIONS", CONFIG_INT, S(max_connections), "512", 1,
     65536, "N", "open connections; past it new ones wait in the accept queue"},
    {"max-streams", 0, "ARUN_HTTP_MAX_STREAMS", CONFIG_INT, S(max_streams), "256", 1, 65536, "N",
     "open event streams (events and output); past it: 503"},
    {"request-timeout", 0, "ARUN_HTTP_REQUEST_TIMEOUT", CONFIG_DURATION, S(timeout_ms), "10s",
     1000, 3600000, "DURATION", "time a client has to send a request, and to take an answer"},
    {"keepalive", 0, "ARUN_HTTP_KEEPALIVE", CONFIG_DURATION, S(keepalive_ms), "15s", 100,
     3600000, "DURATION", "interval of the keep-alive comment on event streams"},
    {"redis-timeout", 0, "ARUN_HTTP_REDIS_TIMEOUT", CONFIG_DURATION, S(redis_timeout_ms), "2s",
     100, 60000, "DURATION", "bound of one Redis call made while answering a request"},
    {"history-group", 0, "ARUN_HTTP_HISTORY_GROUP", CONFIG_STRING, S(history_group), "", 0, 0,
     "NAME", "consumer group in which every host's finished jobs are copied into ARUN_DB "
     "(default: history:HOSTNAME; \"off\": only this host's database is shown)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-http [OPTION]...\n\n"
               "Serves arun's REST API (/api/analytics/...), the job history page (/), live\n"
               "events and output (Server-Sent Events), /healthz and /metrics.\n"
               "SIGTERM/SIGINT stop it.\n\n"
               "Options (a flag overrides its environment variable):\n");
    config_print_options(f, options, NOPTIONS);
}

static int history_said_down;

struct history *app_history(struct app *a)
{
    if (a->history)
        return a->history;
    char err[HISTORY_ERR_MAX];
    a->history = history_open(a->cfg.db, err);
    if (!a->history && !history_said_down) {
        log_warn("the database cannot be opened: %s", err);
        history_said_down = 1;
    } else if (a->history) {
        history_said_down = 0;
    }
    return a->history;
}

void app_history_reset(struct app *a)
{
    history_close(a->history);
    a->history = NULL;
}

int app_routes(struct app *a)
{
    return jobs_routes(a) | output_routes(a) | events_routes(a) | misc_routes(a) |
           metrics_routes(a) | mcp_routes(a);
}

/* The database is created (with its schema) if it does not exist yet, so
 * the API works before the first worker ran. */
static void ensure_db(const char *path)
{
    char err[256];
    struct store *s = store_open(path, 1000, err);
    if (!s)
        log_warn("cannot create the database %s: %s", path, err);
    store_close(s);
}

/* One history for all hosts: a follower of P:stream:events records every
 * host's finished jobs in ARUN_DB (common/follow.h), so the API and the
 * page show them all. One consumer group per database: by default
 * "history:" + this host's name. Returns 0, or -1 (logged) for bad
 * options; a database that cannot be opened only stops the following. */
static int start_follower(struct app *a)
{
    const char *group = a->cfg.history_group;
    if (group && strcmp(group, "off") == 0)
        return 0;
    char host[64] = "host", def[FOLLOW_NAME_MAX];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
            *c = '-';
    snprintf(def, sizeof def, "history:%s", host);
    char err[256];
    if (!(a->follow_store = store_open(a->cfg.db, 1000, err))) {
        /* the API still answers (503 for the database); only this host's
         * jobs are missing until a restart finds the database usable */
        log_error("history follower not started: %s", err);
        return 0;
    }
    struct follow_options fo = {.prefix = a->cfg.prefix, .group = group && *group ? group : def,
                                .consumer = host};
    char ferr[128];
    if (!(a->follow = follow_new(a->base, &a->rurl, a->follow_store, &fo, ferr))) {
        log_error("history follower (--history-group %s): %s", fo.group, ferr);
        return -1;
    }
    return 0;
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: stopping", (int)sig);
    event_base_loopexit(arg, NULL);
}

/* Streams and connections need file descriptors: take the hard limit. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct app a = {0};
    char err[256];
    int first = 0;
    int started = config_start(options, NOPTIONS, &a.cfg, argc, argv, &first, "arun-http", usage);
    if (started >= 0)
        return started;
    enum log_level level = LOG_INFO;
    log_level_parse(a.cfg.log_level, &level); /* a CONFIG_CHOICE: always one of them */
    if (first < argc)
        return config_usage_error("arun-http", "unexpected argument (arun-http takes options only)");
    if (redis_url_parse(a.cfg.redis_url, &a.rurl, err) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "--redis-url: %.200s", err);
        return config_usage_error("arun-http", msg);
    }
    log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    struct client_options co = {.redis_url = a.cfg.redis_url, .prefix = a.cfg.prefix,
                                .timeout_ms = a.cfg.redis_timeout_ms,
                                .result_ttl_s = a.cfg.result_ttl};
    char cerr[CLIENT_ERR_MAX];
    if (!(a.client = client_new(&co, cerr))) {
        fprintf(stderr, "arun-http: %s\n", cerr);
        return 2;
    }
    int rc = 1;
    struct event *sigs[2] = {NULL, NULL};
    if (!(a.base = event_base_new()))
        goto out;
    struct http_server_limits lim = {.max_connections = (int)a.cfg.max_connections,
                                     .timeout_s = (int)((a.cfg.timeout_ms + 999) / 1000)};
    if (!(a.server = http_server_new(a.base, a.cfg.listen, a.cfg.token, &lim, err))) {
        fprintf(stderr, "arun-http: %s\n", err);
        rc = 2;
        goto out;
    }
    if (whitelist_load(&a.wl, a.cfg.scripts_dir) < 0)
        log_warn("cannot read the scripts folder %s", a.cfg.scripts_dir);
    ensure_db(a.cfg.db);
    if (start_follower(&a) < 0)
        goto out;
    a.sse = sse_hub_new(a.base, a.server, (int)a.cfg.max_streams, (int)a.cfg.keepalive_ms);
    a.events = a.sse ? events_feed_new(&a) : NULL;
    if (!a.events || app_routes(&a) < 0) {
        log_error("out of memory at start");
        goto out;
    }
    sigs[0] = evsignal_new(a.base, SIGTERM, on_stop, a.base);
    sigs[1] = evsignal_new(a.base, SIGINT, on_stop, a.base);
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_add(sigs[i], NULL);
    log_info("listening on %s (port %d)%s; redis %s; db %s", a.cfg.listen,
             http_server_port(a.server), a.cfg.token && a.cfg.token[0] ? ", token required" : "",
             client_url_shown(a.client), a.cfg.db);
    event_base_dispatch(a.base);
    rc = 0;
out:
    follow_free(a.follow);        /* before its store */
    store_close(a.follow_store);
    mcp_route_free(a.mcp);        /* its sessions' streams, before the hub */
    sse_hub_free(a.sse);          /* streams first: their owners are the feeds */
    events_feed_free(a.events);
    http_server_free(a.server);
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_free(sigs[i]);
    if (a.base)
        event_base_loop(a.base, EVLOOP_NONBLOCK); /* deferred frees (aredis) */
    history_close(a.history);
    whitelist_free(&a.wl);
    metrics_free();
    client_free(a.client);
    if (a.base)
        event_base_free(a.base);
    return rc;
}
