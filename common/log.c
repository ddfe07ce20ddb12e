/*
 * log: JSON-lines logging on stderr. Each line is built in one buffer and
 * written with a single write(2), so lines from one process never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "timefmt.h"

static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level) { log_min = level; }

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_enabled(enum log_level level) { return level >= log_min; }

void log_job(enum log_level level, const char *job_id, const char *script,
             const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    int saved = errno;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char ts[TIMEFMT_ISO_LEN];
    timefmt_now_iso(ts);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "level", json_string(level_names[level]));
    /* vsnprintf may cut a multi-byte character: never lose the line for it */
    json_t *m = json_string(msg);
    json_object_set_new(o, "msg", m ? m : json_string("(message not valid UTF-8)"));
    json_object_set_new(o, "subsystem", json_string("analytics"));
    if (job_id)
        json_object_set_new(o, "job_id", json_string(job_id));
    if (script)
        json_object_set_new(o, "script", json_string(script));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line) {
        size_t n = strlen(line);
        line[n] = '\n'; /* overwrite the NUL: one write for the whole line */
        ssize_t w = write(STDERR_FILENO, line, n + 1);
        (void)w;
        free(line);
    }
    errno = saved;
}
