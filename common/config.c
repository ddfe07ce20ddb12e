/*
 * config: table-driven options from the environment and getopt_long.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define CONFIG_MAX_OPTIONS 64

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

void config_print_options(FILE *f, const struct config_option *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct config_option *o = &opts[i];
        char flag[96];
        if (o->short_name)
            snprintf(flag, sizeof flag, "-%c, --%s%s%s", o->short_name, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(flag, sizeof flag, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        fprintf(f, "  %-30s %s", flag, o->help);
        if (o->env || o->def) {
            fprintf(f, " [");
            if (o->env)
                fprintf(f, "$%s", o->env);
            if (o->def)
                fprintf(f, "%sdefault: %s", o->env ? ", " : "", o->def);
            fprintf(f, "]");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "  %-30s %s\n  %-30s %s\n", "-h, --help", "show this help and exit",
            "-V, --version", "show the version and exit");
}
