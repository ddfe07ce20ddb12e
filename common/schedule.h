/*
 * schedule: arun-cron's schedule file. One entry a line,
 *
 *     NAME  SPEC  SCRIPT [ARG...]
 *
 * NAME 1-32 of A-Za-z0-9._- and unique; SPEC five cron fields or an @ form
 * (cronspec.h); arguments split on blanks, no quoting. '#' starts a comment
 * line; blank lines are ignored. Two settings lines:
 *   TZ=Area/City    the zone of every entry (tz database name); only before
 *                   the first entry; default UTC.
 *   CATCHUP=one     the entries after it ask for one catch-up run of the
 *                   latest fire time missed while no instance ran;
 *   CATCHUP=none    (the default) back to skipping missed fires.
 *   TIMEOUT=DURATION  the timeout_ms of the requests of the entries after
 *                   it (500ms, 30s, 5m, 1h; at most 24h); default 5m.
 */
#ifndef ARUN_SCHEDULE_H
#define ARUN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "cronspec.h"

#define SCHEDULE_NAME_MAX    32
#define SCHEDULE_TZ_MAX      128
#define SCHEDULE_MAX_BYTES   (1024 * 1024)
#define SCHEDULE_MAX_ENTRIES 10000
#define SCHEDULE_ERR_MAX     256

struct schedule_entry {
    char name[SCHEDULE_NAME_MAX + 1];
    char spec_text[128];  /* as written, blanks collapsed */
    struct cronspec spec;
    char *script;         /* owned */
    char **args;          /* nargs strings, owned */
    size_t nargs;
    int catchup;          /* 1: one catch-up run after downtime */
    int64_t timeout_ms;   /* the request's timeout_ms */
    int line;             /* 1-based line in the file */
};

struct schedule {
    char tz[SCHEDULE_TZ_MAX]; /* "UTC" unless the file says otherwise */
    struct schedule_entry *entries; /* n entries, owned */
    size_t n;
};

/* Parses the text of a schedule file into *out. Returns 0, or -1 with
 * "line N: reason" in err (or a reason without a line for the whole file);
 * *out is then empty. tzdir is the tz database folder used to check a TZ=
 * name (NULL: $TZDIR, else /usr/share/zoneinfo). Free with schedule_free. */
int schedule_parse(const char *text, const char *tzdir, struct schedule *out,
                   char err[SCHEDULE_ERR_MAX]);

/* Reads and parses the file at path (at most SCHEDULE_MAX_BYTES), as
 * schedule_parse does; a file that cannot be read is an error too. */
int schedule_load(const char *path, const char *tzdir, struct schedule *out,
                  char err[SCHEDULE_ERR_MAX]);

/* Frees what a parse allocated; the struct is left empty. NULL is allowed. */
void schedule_free(struct schedule *s);

/* Returns 1 if name is 1-32 of A-Za-z0-9._- else 0. */
int schedule_name_valid(const char *name);

#endif
