/*
 * config: table-driven options from the environment and getopt_long.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "request.h"

#define CONFIG_MAX_OPTIONS 64

/* Checks a CONFIG_NAMES value: returns the number of names, or -1. */
static int64_t count_names(const char *value)
{
    int64_t n = 0;
    for (const char *p = value;; n++) {
        size_t len = strcspn(p, ",");
        char name[REQUEST_QUEUE_MAX + 1];
        if (len == 0 || len > REQUEST_QUEUE_MAX)
            return -1;
        memcpy(name, p, len);
        name[len] = '\0';
        if (!request_queue_valid(name))
            return -1;
        if (!p[len])
            return n + 1;
        p += len + 1;
    }
}

static int is_choice(const struct config_option *o, const char *value)
{
    size_t n = strlen(value);
    for (const char *c = o->metavar; c && *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && n && memcmp(c, value, n) == 0)
            return 1;
        c += len + (c[len] == '|');
    }
    return 0;
}

/* Stores one textual value into its field. Returns 0 or -1 with err set;
 * source names where the value came from, for the message. */
static int set_value(const struct config_option *o, void *settings, const char *value,
                     const char *source, char err[256])
{
    char *field = (char *)settings + o->offset;
    int64_t v = 0;
    switch (o->type) {
    case CONFIG_STRING:
        *(const char **)field = value;
        return 0;
    case CONFIG_NAMES:
        v = count_names(value);
        if (v < 0 || v < o->min || (o->max && v > o->max)) {
            snprintf(err, 256, "%s: '%s' is not a comma-separated list of names (each 1-64 of "
                     "A-Za-z0-9._:-, none empty)", source, value);
            return -1;
        }
        *(const char **)field = value;
        return 0;
    case CONFIG_CHOICE:
        if (!is_choice(o, value)) {
            snprintf(err, 256, "%s: '%s' is not one of %s", source, value, o->metavar);
            return -1;
        }
        *(const char **)field = value;
        return 0;
    case CONFIG_FLAG:
        *(int *)field = 1;
        return 0;
    case CONFIG_INT:
        if (parse_int_range(value, o->min, o->max, &v) < 0) {
            snprintf(err, 256, "%s: '%s' is not a whole number from %lld to %lld", source,
                     value, (long long)o->min, (long long)o->max);
            return -1;
        }
        break;
    case CONFIG_DURATION:
        if (parse_duration_ms(value, &v) < 0 || v < o->min || v > o->max) {
            snprintf(err, 256, "%s: '%s' is not a duration from %lldms to %lldms "
                     "(e.g. 500ms, 30s, 5m, 1h)", source, value, (long long)o->min,
                     (long long)o->max);
            return -1;
        }
        break;
    case CONFIG_DURATION_S: {
        /* a bare number is seconds here (ARUN_RESULT_TTL=86400) */
        int bare = *value && strspn(value, "0123456789") == strlen(value);
        int64_t ms = 0;
        int ok = bare ? parse_int_range(value, o->min, o->max, &v) == 0
                      : parse_duration_ms(value, &ms) == 0 && ms % 1000 == 0;
        if (!bare)
            v = ms / 1000;
        if (!ok || v < o->min || v > o->max) {
            snprintf(err, 256, "%s: '%s' is not a duration in whole seconds from %llds to "
                     "%llds (e.g. 3600, 90s, 15m, 24h)", source, value, (long long)o->min,
                     (long long)o->max);
            return -1;
        }
        break;
    }
    }
    *(int64_t *)field = v;
    return 0;
}

int config_parse(const struct config_option *opts, size_t n, void *settings, int argc,
                 char **argv, int *first_arg, char err[256])
{
    if (n + 3 > CONFIG_MAX_OPTIONS) {
        snprintf(err, 256, "too many options");
        return CONFIG_ERROR;
    }
    char source[128];
    for (size_t i = 0; i < n; i++) {
        const struct config_option *o = &opts[i];
        const char *env = o->env ? getenv(o->env) : NULL;
        if (o->def && o->type != CONFIG_FLAG &&
            set_value(o, settings, o->def, "default", err) < 0)
            return CONFIG_ERROR;
        if (env && *env) {
            snprintf(source, sizeof source, "%s", o->env);
            if (o->type == CONFIG_FLAG)
                *(int *)((char *)settings + o->offset) = strcmp(env, "0") != 0;
            else if (set_value(o, settings, env, source, err) < 0)
                return CONFIG_ERROR;
        }
    }
    struct option longopts[CONFIG_MAX_OPTIONS];
    char shortopts[3 * CONFIG_MAX_OPTIONS] = "+:hV";
    size_t sl = strlen(shortopts);
    for (size_t i = 0; i < n; i++) {
        int has_arg = opts[i].type == CONFIG_FLAG ? no_argument : required_argument;
        longopts[i] = (struct option){opts[i].name, has_arg, NULL, 256 + (int)i};
        if (opts[i].short_name) {
            shortopts[sl++] = opts[i].short_name;
            if (has_arg)
                shortopts[sl++] = ':';
        }
    }
    shortopts[sl] = '\0';
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[n + 2] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* 0, not 1: glibc then also forgets a half-read "-hv" */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (c == 'h')
            return CONFIG_HELP;
        if (c == 'V')
            return CONFIG_VERSION;
        if (c == '?' || c == ':') {
            const char *what = argv[optind - 1];
            snprintf(err, 256, c == ':' ? "option %s needs a value" : "unknown option %s", what);
            return CONFIG_ERROR;
        }
        const struct config_option *o = NULL;
        if (c >= 256)
            o = &opts[c - 256];
        for (size_t i = 0; !o && i < n; i++)
            if (opts[i].short_name == c)
                o = &opts[i];
        if (!o)
            continue;
        snprintf(source, sizeof source, "--%s", o->name);
        if (set_value(o, settings, optarg, source, err) < 0)
            return CONFIG_ERROR;
    }
    if (first_arg)
        *first_arg = optind;
    return CONFIG_OK;
}

int config_start(const struct config_option *opts, size_t n, void *settings, int argc,
                 char **argv, int *first_arg, const char *prog, void (*usage)(FILE *f))
{
    char err[256];
    switch (config_parse(opts, n, settings, argc, argv, first_arg, err)) {
    case CONFIG_HELP:
        usage(stdout);
        return 0;
    case CONFIG_VERSION:
        printf("%s %s\n", prog, ARUN_VERSION);
        return 0;
    case CONFIG_ERROR:
        return config_usage_error(prog, err);
    }
    return -1;
}

int config_usage_error(const char *prog, const char *err)
{
    fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, err, prog);
    return 2;
}

/* Writes text wrapped at CONFIG_WIDTH columns, continuation lines
 * indented by indent; col is where the cursor already is. */
#define CONFIG_WIDTH 79
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        int len = (int)strcspn(p, " ");
        if (col > indent && col + 1 + len > CONFIG_WIDTH) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", len, p);
        col += len;
        p += len;
    }
    fputc('\n', f);
}

void config_print_options(FILE *f, const struct config_option *opts, size_t n)
{
    enum { FLAG_COL = 32 };
    for (size_t i = 0; i < n; i++) {
        const struct config_option *o = &opts[i];
        char flag[128], text[512];
        snprintf(flag, sizeof flag, "%s%c%s--%s%s%s", o->short_name ? "-" : " ",
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
        int len = snprintf(text, sizeof text, "%s", o->help);
        if (o->env || o->def)
            snprintf(text + len, sizeof text - (size_t)len, " [%s%s%s%s]",
                     o->env ? "$" : "", o->env ? o->env : "",
                     o->def ? (o->env ? ", default: " : "default: ") : "", o->def ? o->def : "");
        int col = fprintf(f, "  %s", flag);
        if (col >= FLAG_COL) {
            fprintf(f, "\n%*s", FLAG_COL, "");
        } else {
            fprintf(f, "%*s", FLAG_COL - col, "");
        }
        print_wrapped(f, text, FLAG_COL, FLAG_COL);
    }
    fprintf(f, "  %-*s%s\n  %-*s%s\n", FLAG_COL - 2, "-h, --help", "show this help and exit",
            FLAG_COL - 2, "-V, --version", "show the version and exit");
}
