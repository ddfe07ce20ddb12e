/*
 * config: every option of a program declared once, in a table (name, flag,
 * environment variable, type, default, range, help), from which the
 * parser, the --help text and the docs follow. Precedence: default, then
 * the environment, then the command line (contract: "a command-line flag
 * overrides the variable of the same meaning").
 */
#ifndef ARUN_CONFIG_H
#define ARUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_type {
    CONFIG_STRING,   /* const char *: points into argv, environ or the default */
    CONFIG_INT,      /* int64_t in [min, max] */
    CONFIG_DURATION, /* int64_t milliseconds in [min, max]: "500ms", "30s", "5m", "1h" */
    CONFIG_FLAG,     /* int, set to 1 by the flag; takes no value */
    CONFIG_DURATION_S, /* int64_t whole seconds in [min, max]: a bare number is seconds,
                        * or "90s", "15m", "1h", "1500ms" is refused (not whole) */
    CONFIG_NAMES,    /* const char *: comma-separated names, each 1-64 of A-Za-z0-9._:-,
                      * none empty ("high,,default" is refused), at most min..max names
                      * (0 for max: no bound) */
    CONFIG_CHOICE,   /* const char *: one of the choices that metavar lists, separated
                      * by '|' ("debug|info|warn|error"), exactly */
};

struct config_option {
    const char *name;   /* long flag without "--" */
    char short_name;    /* 0 for none */
    const char *env;    /* environment variable, or NULL */
    enum config_type type;
    size_t offset;      /* of the field in the settings struct */
    const char *def;    /* default as text, or NULL for none */
    int64_t min, max;   /* for CONFIG_INT and CONFIG_DURATION */
    const char *metavar;
    const char *help;
};

enum { CONFIG_OK = 0, CONFIG_HELP = 1, CONFIG_VERSION = 2, CONFIG_ERROR = -1 };

/* Fills settings from defaults, the environment and argv (getopt_long;
 * parsing stops at the first non-option, whose index goes to *first_arg).
 * Returns CONFIG_OK, CONFIG_HELP (--help), CONFIG_VERSION (--version), or
 * CONFIG_ERROR with a one-line reason in err. */
int config_parse(const struct config_option *opts, size_t n, void *settings, int argc,
                 char **argv, int *first_arg, char err[256]);

/* Prints "PROG: ERR" and "Try 'PROG --help'." on stderr (a usage error
 * is one line, not the whole help) and returns 2, the usage exit code. */
int config_usage_error(const char *prog, const char *err);

/* Prints the options part of a usage text: flag, variable, default, help. */
void config_print_options(FILE *f, const struct config_option *opts, size_t n);

/* The start of a program's main: parses argv (config_parse); on --help
 * prints usage to stdout, on --version "PROG VERSION", and returns 0; on
 * a bad option prints config_usage_error's line and returns 2; else
 * returns -1: go on. */
int config_start(const struct config_option *opts, size_t n, void *settings, int argc,
                 char **argv, int *first_arg, const char *prog, void (*usage)(FILE *f));

#endif
