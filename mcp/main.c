/*
 * arun-mcp: arun's MCP server on stdio, for AI agents (contract "MCP").
 * An MCP client starts it and speaks JSON-RPC over its stdin and stdout,
 * one message a line; stdout carries nothing else (logs are JSON lines on
 * stderr). One libevent loop runs the stdio framing (stdio.c), the tools
 * (common/mcp_tools.c: Redis, SQLite, the whitelist) and their waits. It
 * exits 0 at the end of its input and on SIGTERM or SIGINT, abandoning
 * the waits in flight (the jobs themselves go on).
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "mcp.h"
#include "mcp_tools.h"
#include "request.h"
#include "stdio.h"

#define MCP_LINE_MAX_DEFAULT (4 * 1024 * 1024)

struct mcp_settings {
    const char *redis_url;
    const char *prefix;
    const char *db;
    const char *scripts_dir;
    const char *queue;
    const char *log_level;
    int64_t result_ttl;
    int64_t progress_ms;
    int64_t line_max;
};

#define S(field) offsetof(struct mcp_settings, field)

static const struct config_option options[] = {
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"db", 0, "ARUN_DB", CONFIG_STRING, S(db), "./var/arun.db", 0, 0, "PATH",
     "the SQLite database the workers write (read only here)"},
    {"scripts-dir", 0, "ARUN_SCRIPTS_DIR", CONFIG_STRING, S(scripts_dir), "./analytics", 0, 0,
     "DIR", "the whitelisted scripts (checked before a push when readable here)"},
    {"queue", 'q', "ARUN_MCP_QUEUE", CONFIG_STRING, S(queue), "default", 0, 0, "NAME",
     "queue the jobs are pushed to"},
    {"result-ttl", 0, "ARUN_RESULT_TTL", CONFIG_INT, S(result_ttl), "86400", 1, 315360000, "S",
     "seconds a cancel request is kept for a job no one holds yet"},
    {"progress-interval", 0, "ARUN_MCP_PROGRESS_INTERVAL", CONFIG_DURATION, S(progress_ms), "5s",
     100, 3600000, "DURATION", "between progress notifications while a call waits for a job"},
    {"max-line", 0, "ARUN_MCP_MAX_LINE", CONFIG_INT, S(line_max), "4194304", 1024, 1073741824,
     "BYTES", "longest message line read; a longer one is refused unread"},
    {"log-level", 0, "ARUN_LOG_LEVEL", CONFIG_STRING, S(log_level), "info", 0, 0, "LEVEL",
     "debug, info, warn or error"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

struct mcp_main {
    struct event_base *base;
    struct stdio_link *link;
    struct mcp_session *session;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-mcp [OPTION...]\n\n"
               "arun's MCP server on stdio: an MCP client (an AI agent's host) starts it and\n"
               "gets the tools run_analytics_script, list_analytics_scripts, get_analytics_job,\n"
               "list_analytics_jobs and cancel_analytics_job. Protocol revision %s.\n\n",
            MCP_VERSION_LATEST);
    config_print_options(f, options, NOPTIONS);
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "arun-mcp: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "Try 'arun-mcp --help'.\n");
    return 2;
}

static void send_line(void *transport, void *origin, const char *json, int final)
{
    (void)origin;
    (void)final;
    struct mcp_main *m = transport;
    if (json && stdio_link_write(m->link, json) < 0)
        log_warn("mcp: a message could not be written to stdout");
}

static void on_line(void *arg, const char *line, size_t len)
{
    struct mcp_main *m = arg;
    if (strspn(line, " \t") == len)
        return; /* blank lines are not messages */
    mcp_session_input(m->session, line, len, NULL);
}

static void on_too_long(void *arg, size_t limit)
{
    struct mcp_main *m = arg;
    char msg[128];
    snprintf(msg, sizeof msg, "message refused: longer than %zu bytes", limit);
    log_warn("mcp: %s", msg);
    mcp_session_error(m->session, NULL, MCP_INVALID_REQUEST, msg);
}

static void on_closed(void *arg)
{
    struct mcp_main *m = arg;
    log_info("mcp: end of input, exiting");
    event_base_loopbreak(m->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct mcp_main *m = arg;
    log_info("mcp: signal %d, exiting", (int)sig);
    event_base_loopbreak(m->base);
}

/* epoll refuses regular files; a client may feed a file on stdin. */
static struct event_base *new_base(void)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) < 0 || !S_ISREG(st.st_mode))
        return event_base_new();
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    event_config_avoid_method(cfg, "epoll");
    struct event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return b;
}

int main(int argc, char **argv)
{
    struct mcp_settings s = {0};
    char err[256];
    int first = argc;
    int started = config_start(options, NOPTIONS, &s, argc, argv, &first, "arun-mcp", usage);
    if (started >= 0)
        return started;
    if (first < argc)
        return usage_error("unexpected argument", argv[first]);
    enum log_level level;
    if (log_level_parse(s.log_level, &level) < 0)
        return usage_error("ARUN_LOG_LEVEL/--log-level must be debug, info, warn or error",
                           s.log_level);
    log_set_level(level);
    if (!request_queue_valid(s.queue))
        return usage_error("ARUN_MCP_QUEUE/--queue must be 1-64 of A-Za-z0-9._:-", s.queue);
    signal(SIGPIPE, SIG_IGN);

    struct mcp_main m = {0};
    struct mcp_tools *tools = NULL;
    struct mcp_server *srv = NULL;
    struct event *sigterm = NULL, *sigint = NULL;
    int code = 1;
    if (!(m.base = new_base())) {
        log_error("mcp: cannot start an event loop");
        goto done;
    }
    struct mcp_tools_config tc = {.base = m.base, .redis_url = s.redis_url, .prefix = s.prefix,
                                  .db_path = s.db, .scripts_dir = s.scripts_dir,
                                  .queue = s.queue, .progress_ms = s.progress_ms,
                                  .result_ttl_s = s.result_ttl};
    if (!(tools = mcp_tools_new(&tc, err))) {
        code = usage_error(err, NULL);
        goto done;
    }
    size_t ntools;
    const struct mcp_tool *table = mcp_tools_table(&ntools);
    if (!(srv = mcp_server_new(table, ntools, tools, err)) ||
        !(m.session = mcp_session_new(srv, send_line, &m))) {
        log_error("mcp: %s", srv ? "out of memory" : err);
        goto done;
    }
    struct stdio_callbacks cb = {on_line, on_too_long, on_closed, &m};
    if (!(m.link = stdio_link_new(m.base, STDIN_FILENO, STDOUT_FILENO, (size_t)s.line_max, &cb))) {
        log_error("mcp: cannot use stdin and stdout: %s", strerror(errno));
        goto done;
    }
    sigterm = evsignal_new(m.base, SIGTERM, on_signal, &m);
    sigint = evsignal_new(m.base, SIGINT, on_signal, &m);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0) {
        log_error("mcp: cannot handle signals");
        goto done;
    }
    log_info("mcp: ready on stdio (protocol %s)", MCP_VERSION_LATEST);
    event_base_dispatch(m.base);
    code = 0;
done:
    mcp_session_free(m.session); /* aborts the waits in flight */
    if (m.link)
        stdio_link_flush(m.link);
    stdio_link_free(m.link);
    mcp_server_free(srv);
    mcp_tools_free(tools);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (m.base)
        event_base_free(m.base);
    return code;
}
