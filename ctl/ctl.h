/*
 * ctl: what the files of arun-ctl share: its settings, its connections
 * (opened when a command first needs them), and one function per command.
 */
#ifndef ARUN_CTL_H
#define ARUN_CTL_H

#include <stdint.h>

#include <jansson.h>

#include "client.h"
#include "history.h"

/* exit codes (contract: arun-ctl) */
enum { CTL_OK = 0, CTL_UNREACHABLE = 1, CTL_USAGE = 2, CTL_NOTFOUND = 3 };

struct ctl {
    const char *redis_url;
    const char *prefix;
    const char *db;
    int json;
    struct client *client;    /* NULL until ctl_client() */
    struct history *history;  /* NULL until ctl_history() */
};

/* The Redis client, made on first use. Returns NULL (after printing why)
 * when the URL or prefix is malformed. */
struct client *ctl_client(struct ctl *c);

/* The history, opened on first use. Returns NULL (after printing why when
 * quiet is 0) when the database cannot be opened. */
struct history *ctl_history(struct ctl *c, int quiet);

/* Prints "arun-ctl: MSG" on stderr and returns code. */
int ctl_say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a JSON value on stdout (indented, one trailing newline). */
void ctl_print_json(const json_t *v);

/* Parses a command's own options (argv[0] is the command) with table opts,
 * and the global ones again, into settings, a struct whose first member is
 * the struct ctl (copy it in before, and back after); *first is the index
 * of the first operand. Returns CTL_OK, or a usage exit code after
 * printing the reason, or -1 after printing --help or --version (the
 * caller exits 0). */
struct config_option;
int ctl_parse(const char *cmd_usage, const struct config_option *opts, size_t n,
              void *settings, int argc, char **argv, int *first);

/* Parses a command whose one operand is a job id (usage names it):
 * *id points into argv. Returns as ctl_parse; a malformed id is a usage
 * error. */
int ctl_one_id(struct ctl *c, const char *usage, int argc, char **argv, const char **id);

/* Parses a command that takes no operand. Returns as ctl_parse. */
int ctl_no_operand(struct ctl *c, const char *usage, int argc, char **argv);

/* The commands: argv[0] is the command's name. Each returns an exit code. */
int ctl_jobs(struct ctl *c, int argc, char **argv);
int ctl_job(struct ctl *c, int argc, char **argv);
int ctl_queues(struct ctl *c, int argc, char **argv);
int ctl_workers(struct ctl *c, int argc, char **argv);
int ctl_dead(struct ctl *c, int argc, char **argv);
int ctl_cancel(struct ctl *c, int argc, char **argv);
int ctl_retry(struct ctl *c, int argc, char **argv);

/* Reads the whole record of id: the database row, else P:result:ID.
 * Returns CTL_OK with *rec (json_decref), CTL_NOTFOUND, or CTL_UNREACHABLE
 * (printed) when neither source could be read and Redis is down. */
int ctl_record(struct ctl *c, const char *id, json_t **rec);

#endif
