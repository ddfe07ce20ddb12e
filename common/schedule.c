/*
 * schedule: parsing arun-cron's schedule file (schedule.h). Strict: every
 * line is an entry, a comment, blank, or a known setting, and the first
 * problem is reported with its line number, so a typo is refused at start
 * (or at reload) instead of silently never firing.
 */
#include "schedule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "request.h"

#define SCHEDULE_LINE_MAX 4096
#define SCHEDULE_MAX_TOKENS 1030

int schedule_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SCHEDULE_NAME_MAX)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

void schedule_free(struct schedule *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct schedule_entry *e = &s->entries[i];
        free(e->script);
        for (size_t j = 0; j < e->nargs; j++)
            free(e->args[j]);
        free(e->args);
    }
    free(s->entries);
    s->entries = NULL;
    s->n = 0;
}

/* A tz database name: relative, no "..", and a file of the database. */
static int tz_valid(const char *tz, const char *tzdir)
{
    if (strcmp(tz, "UTC") == 0)
        return 1;
    if (!tz[0] || tz[0] == '/' || strstr(tz, "..") || strlen(tz) >= SCHEDULE_TZ_MAX)
        return 0;
    if (!tzdir)
        tzdir = getenv("TZDIR");
    if (!tzdir || !*tzdir)
        tzdir = "/usr/share/zoneinfo";
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tzdir, tz);
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    int ok = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    if (f)
        fclose(f);
    return ok;
}

static int fail(char err[SCHEDULE_ERR_MAX], int line, const char *what, const char *detail)
{
    snprintf(err, SCHEDULE_ERR_MAX, "line %d: %s%s%s", line, what, detail ? ": " : "",
             detail ? detail : "");
    return -1;
}

/* Parses one entry's tokens into e. Returns 0 or -1 with err set. */
static int parse_entry(char **tok, int n, int line, struct schedule_entry *e,
                       char err[SCHEDULE_ERR_MAX])
{
    if (n < 3)
        return fail(err, line, "an entry is NAME SPEC SCRIPT [ARG...]", NULL);
    if (!schedule_name_valid(tok[0]))
        return fail(err, line, "a name is 1-32 of A-Za-z0-9._-", tok[0]);
    snprintf(e->name, sizeof e->name, "%s", tok[0]);
    e->line = line;
    int spec_tokens = tok[1][0] != '@' ? 5 : strcmp(tok[1], "@every") == 0 ? 2 : 1;
    if (n < 1 + spec_tokens + 1)
        return fail(err, line, "an entry is NAME SPEC SCRIPT [ARG...]", NULL);
    size_t o = 0;
    for (int i = 1; i <= spec_tokens; i++) {
        size_t l = strlen(tok[i]);
        if (o + l + 2 > sizeof e->spec_text)
            return fail(err, line, "the schedule is too long", NULL);
        if (i > 1)
            e->spec_text[o++] = ' ';
        memcpy(e->spec_text + o, tok[i], l + 1);
        o += l;
    }
    char why[CRONSPEC_ERR_MAX];
    if (cronspec_parse(e->spec_text, &e->spec, why) < 0)
        return fail(err, line, why, NULL);
    const char *script = tok[1 + spec_tokens];
    if (strlen(script) > 128 || strchr(script, '/') || strstr(script, ".."))
        return fail(err, line, "not a script name", script);
    e->script = strdup(script);
    size_t nargs = (size_t)(n - 2 - spec_tokens);
    e->args = calloc(nargs + 1, sizeof *e->args);
    if (!e->script || !e->args)
        return fail(err, line, "out of memory", NULL);
    e->nargs = nargs; /* schedule_free frees args[0..nargs) from now on */
    for (size_t i = 0; i < e->nargs; i++)
        if (!(e->args[i] = strdup(tok[2 + spec_tokens + i])))
            return fail(err, line, "out of memory", NULL);
    return 0;
}

/* What the settings lines say for the entries that follow them. */
struct schedule_defaults {
    int catchup;
    int64_t timeout_ms;
};

/* Handles a KEY=VALUE line. Returns 0 or -1 with err set. */
static int parse_setting(char *tok, int line, struct schedule *out, struct schedule_defaults *d,
                         const char *tzdir, char err[SCHEDULE_ERR_MAX])
{
    char *eq = strchr(tok, '=');
    *eq = '\0';
    const char *value = eq + 1;
    if (strcmp(tok, "TZ") == 0) {
        if (out->n > 0)
            return fail(err, line, "TZ= must come before the first entry", NULL);
        if (!tz_valid(value, tzdir))
            return fail(err, line, "unknown time zone", value);
        snprintf(out->tz, sizeof out->tz, "%s", value);
        return 0;
    }
    if (strcmp(tok, "CATCHUP") == 0) {
        if (strcmp(value, "one") != 0 && strcmp(value, "none") != 0)
            return fail(err, line, "CATCHUP= is one or none", value);
        d->catchup = strcmp(value, "one") == 0;
        return 0;
    }
    if (strcmp(tok, "TIMEOUT") == 0) {
        int64_t ms;
        if (parse_duration_ms(value, &ms) < 0 || ms < REQUEST_TIMEOUT_MIN_MS ||
            ms > REQUEST_TIMEOUT_MAX_MS)
            return fail(err, line, "TIMEOUT= is a duration up to 24h (500ms, 30s, 5m, 1h)", value);
        d->timeout_ms = ms;
        return 0;
    }
    return fail(err, line, "unknown setting (TZ=, CATCHUP=, TIMEOUT=)", tok);
}

int schedule_parse(const char *text, const char *tzdir, struct schedule *out,
                   char err[SCHEDULE_ERR_MAX])
{
    memset(out, 0, sizeof *out);
    snprintf(out->tz, sizeof out->tz, "UTC");
    size_t cap = 0;
    struct schedule_defaults defaults = {0, REQUEST_TIMEOUT_DEFAULT_MS};
    int line = 0, rc = 0;
    char buf[SCHEDULE_LINE_MAX];
    char *tok[SCHEDULE_MAX_TOKENS];
    for (const char *p = text; *p && rc == 0;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len >= sizeof buf) {
            rc = fail(err, line, "line too long", NULL);
            break;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (nl ? 1 : 0);
        if (len && buf[len - 1] == '\r')
            buf[len - 1] = '\0';
        int n = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, " \t", &save); t && n < SCHEDULE_MAX_TOKENS;
             t = strtok_r(NULL, " \t", &save))
            tok[n++] = t;
        if (n == 0 || tok[0][0] == '#')
            continue;
        if (n == 1 && strchr(tok[0], '=')) {
            rc = parse_setting(tok[0], line, out, &defaults, tzdir, err);
            continue;
        }
        if (n >= SCHEDULE_MAX_TOKENS) {
            rc = fail(err, line, "too many arguments", NULL);
            break;
        }
        if (out->n == SCHEDULE_MAX_ENTRIES) {
            rc = fail(err, line, "too many entries", NULL);
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct schedule_entry *ne = realloc(out->entries, ncap * sizeof *ne);
            if (!ne) {
                rc = fail(err, line, "out of memory", NULL);
                break;
            }
            out->entries = ne;
            cap = ncap;
        }
        struct schedule_entry *e = &out->entries[out->n++];
        memset(e, 0, sizeof *e);
        e->catchup = defaults.catchup;
        e->timeout_ms = defaults.timeout_ms;
        rc = parse_entry(tok, n, line, e, err);
        for (size_t i = 0; rc == 0 && i + 1 < out->n; i++)
            if (strcmp(out->entries[i].name, e->name) == 0)
                rc = fail(err, line, "duplicate name", e->name);
    }
    if (rc < 0)
        schedule_free(out);
    return rc;
}

int schedule_load(const char *path, const char *tzdir, struct schedule *out,
                  char err[SCHEDULE_ERR_MAX])
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, SCHEDULE_ERR_MAX, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(SCHEDULE_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, SCHEDULE_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!text || bad || n > SCHEDULE_MAX_BYTES) {
        snprintf(err, SCHEDULE_ERR_MAX, "cannot read %s: %s", path,
                 !text ? "out of memory" : bad ? "read error" : "larger than 1 MiB");
        free(text);
        return -1;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        snprintf(err, SCHEDULE_ERR_MAX, "%s: not a text file (NUL byte)", path);
        free(text);
        return -1;
    }
    int rc = schedule_parse(text, tzdir, out, err);
    free(text);
    return rc;
}
