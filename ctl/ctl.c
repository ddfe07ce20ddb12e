/*
 * arun-ctl: the operator's command-line tool. This file holds the global
 * options, the dispatch to a command, and what the commands share
 * (connections opened on first use, messages, JSON output, a command's own
 * options). The commands are in ctl_jobs.c (from the database) and
 * ctl_redis.c (from Redis); both go through common/client and
 * common/history, never a key or a query of their own.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define S(field) offsetof(struct ctl, field)

static const struct config_option options[] = {
    {"json", 'j', NULL, CONFIG_FLAG, S(json), NULL, 0, 0, NULL, "print JSON for programs"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"db", 0, "ARUN_DB", CONFIG_STRING, S(db), "./var/arun.db", 0, 0, "PATH",
     "the SQLite database the workers write (read only)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const struct {
    const char *name;
    int (*run)(struct ctl *, int, char **);
} commands[] = {
    {"jobs", ctl_jobs},       {"job", ctl_job},       {"queues", ctl_queues},
    {"workers", ctl_workers}, {"dead", ctl_dead},     {"cancel", ctl_cancel},
    {"retry", ctl_retry},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: arun-ctl [--json] [--redis-url URL] [--prefix P] [--db PATH] COMMAND [ARGS]\n\n"
            "Commands:\n"
            "  jobs [--status S[,S]] [--script NAME] [--trigger T] [--limit N] [--before C]\n"
            "                       newest jobs first, from the database (--before: the\n"
            "                       \"next\" cursor of a page, for the page after it)\n"
            "  job ID               the whole record (database, else Redis), output included\n"
            "  queues               each queue, its length and the live workers taking from it\n"
            "  workers              live workers: id, queues, concurrency, jobs held\n"
            "  dead [--requeue N | --drop N]\n"
            "                       the dead letters, oldest first, numbered from 1; put\n"
            "                       letter N back on its queue, or delete it\n"
            "  cancel ID            cancel a job (as arun-submit --cancel)\n"
            "  retry ID             push a finished job's request again: new id, trigger retry\n\n"
            "Exit codes: 0 done; 1 Redis or the database cannot be reached; 2 usage error;\n"
            "3 the job (or dead letter) asked for does not exist.\n\n"
            "Options (also accepted after COMMAND):\n");
    config_print_options(f, options, NOPTIONS);
}

int ctl_say(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "arun-ctl: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

void ctl_print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

struct client *ctl_client(struct ctl *c)
{
    if (c->client)
        return c->client;
    char err[CLIENT_ERR_MAX];
    struct client_options o = {.redis_url = c->redis_url, .prefix = c->prefix};
    if (!(c->client = client_new(&o, err)))
        config_usage_error("arun-ctl", err);
    return c->client;
}

struct history *ctl_history(struct ctl *c, int quiet)
{
    if (c->history)
        return c->history;
    char err[HISTORY_ERR_MAX];
    if (!(c->history = history_open(c->db, err)) && !quiet)
        ctl_say(CTL_UNREACHABLE, "%s", err);
    return c->history;
}

/* A command's options: its own table plus the global ones, so that
 * "arun-ctl jobs --json" works as "arun-ctl --json jobs" does. */
int ctl_parse(const char *cmd_usage, const struct config_option *opts, size_t n,
              void *settings, int argc, char **argv, int *first)
{
    /* settings start with a struct ctl (the globals' offsets point there) */
    struct config_option all[32];
    if (n + NOPTIONS > sizeof all / sizeof all[0])
        return CTL_USAGE;
    if (n)
        memcpy(all, opts, n * sizeof *opts);
    /* the globals were set already: no defaults or environment again */
    for (size_t i = 0; i < NOPTIONS; i++) {
        all[n + i] = options[i];
        all[n + i].def = NULL;
        all[n + i].env = NULL;
    }
    char err[256];
    switch (config_parse(all, n + NOPTIONS, settings, argc, argv, first, err)) {
    case CONFIG_HELP:
        printf("usage: arun-ctl [OPTIONS] %s\n\nOptions:\n", cmd_usage);
        config_print_options(stdout, all, n + NOPTIONS);
        return -1;
    case CONFIG_VERSION:
        printf("arun-ctl %s\n", ARUN_VERSION);
        return -1;
    case CONFIG_ERROR:
        return config_usage_error("arun-ctl", err);
    }
    return CTL_OK;
}

int ctl_one_id(struct ctl *c, const char *usage, int argc, char **argv, const char **id)
{
    struct ctl s = *c;
    int first, rc = ctl_parse(usage, NULL, 0, &s, argc, argv, &first);
    *c = s;
    if (rc)
        return rc;
    if (first + 1 != argc) {
        char msg[128];
        snprintf(msg, sizeof msg, "usage: arun-ctl %s", usage);
        return config_usage_error("arun-ctl", msg);
    }
    *id = argv[first];
    if (!request_id_valid(*id))
        return config_usage_error("arun-ctl", "a job id is 1-64 of A-Za-z0-9._:-");
    return CTL_OK;
}

int ctl_no_operand(struct ctl *c, const char *usage, int argc, char **argv)
{
    struct ctl s = *c;
    int first, rc = ctl_parse(usage, NULL, 0, &s, argc, argv, &first);
    *c = s;
    if (rc == CTL_OK && first < argc) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s takes no operand", argv[0]);
        return config_usage_error("arun-ctl", msg);
    }
    return rc;
}

int ctl_record(struct ctl *c, const char *id, json_t **rec)
{
    struct history *h = ctl_history(c, 1);
    if (h) {
        int rc = history_get(h, id, rec);
        if (rc == HISTORY_OK)
            return CTL_OK;
        if (rc != HISTORY_NOTFOUND)
            ctl_say(0, "reading the database: %s", history_errstr(h));
    }
    struct client *cl = ctl_client(c);
    if (!cl)
        return CTL_USAGE;
    char *text = NULL;
    size_t len = 0;
    switch (client_result(cl, id, &text, &len)) {
    case CLIENT_OK:
        *rec = json_loadb(text, len, 0, NULL);
        free(text);
        return *rec ? CTL_OK : ctl_say(CTL_UNREACHABLE, "the result of %s is not JSON", id);
    case CLIENT_NOTFOUND:
        return CTL_NOTFOUND;
    default:
        return ctl_say(CTL_UNREACHABLE, "%s", client_errstr(cl));
    }
}

int main(int argc, char **argv)
{
    struct ctl c = {0};
    char err[256];
    int first = argc;
    switch (config_parse(options, NOPTIONS, &c, argc, argv, &first, err)) {
    case CONFIG_HELP:
        usage(stdout);
        return 0;
    case CONFIG_VERSION:
        printf("arun-ctl %s\n", ARUN_VERSION);
        return 0;
    case CONFIG_ERROR:
        return config_usage_error("arun-ctl", err);
    }
    if (first >= argc)
        return config_usage_error("arun-ctl", "missing COMMAND (jobs, job, queues, workers, "
                                              "dead, cancel, retry)");
    int code = -2;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[first], commands[i].name) == 0)
            code = commands[i].run(&c, argc - first, argv + first);
    if (code == -2) {
        snprintf(err, sizeof err, "unknown command '%s'", argv[first]);
        code = config_usage_error("arun-ctl", err);
    }
    client_free(c.client);
    history_close(c.history);
    return code < 0 ? 0 : code;
}
