/*
 * launch: a job's argv, environment and limits (see launch.h).
 */
#include "launch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "warm.h"
#include "worker.h"

extern char **environ;

#define LAUNCH_EXTRA_MAX 64 /* names in ARUN_CHILD_ENV */

static const char *const allowed[] = {
    "PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
    "PYTHONUNBUFFERED",
};

/* Returns 1 if the entry "NAME=value" has one of the names. */
static int entry_named(const char *entry, const char *const *names, size_t n)
{
    const char *eq = strchr(entry, '=');
    if (!eq)
        return 0;
    size_t len = (size_t)(eq - entry);
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(entry, names[i], len) == 0)
            return 1;
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int launch_setup_env(struct worker *w, const char *extra, char err[256])
{
    char *names[LAUNCH_EXTRA_MAX];
    size_t nextra = 0;
    char *list = strdup(extra ? extra : ""), *save = NULL;
    if (!list) {
        snprintf(err, 256, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!valid_name(t) || nextra == LAUNCH_EXTRA_MAX) {
            snprintf(err, 256, "'%.64s' is not a variable name (or more than %d names)", t,
                     LAUNCH_EXTRA_MAX);
            rc = -1;
            break;
        }
        if (strncmp(t, "ARUN_", 5) == 0) {
            snprintf(err, 256, "%.64s is a setting of arun, never given to scripts", t);
            rc = -1;
            break;
        }
        names[nextra++] = t;
    }
    size_t n = 0;
    while (environ[n])
        n++;
    w->env_base = rc == 0 ? calloc(n + 2, sizeof *w->env_base) : NULL;
    if (rc == 0 && !w->env_base) {
        snprintf(err, 256, "out of memory");
        rc = -1;
    }
    int unbuffered = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *e = environ[i];
        if (entry_named(e, allowed, sizeof allowed / sizeof allowed[0]) ||
            strncmp(e, "LC_", 3) == 0 || entry_named(e, (const char *const *)names, nextra)) {
            w->env_base[w->env_count++] = environ[i];
            unbuffered |= strncmp(e, "PYTHONUNBUFFERED=", 17) == 0;
        }
    }
    /* output arrives as written, for live output; a setting of the
     * worker's environment wins */
    if (rc == 0 && !unbuffered)
        w->env_base[w->env_count++] = "PYTHONUNBUFFERED=1";
    free(list);
    return rc;
}

void launch_free_env(struct worker *w)
{
    free(w->env_base);
    w->env_base = NULL;
    w->env_count = 0;
}

struct run *launch_job(struct worker *w, struct job *j, run_done_fn *done)
{
    char *script = NULL, *own[3] = {NULL, NULL, NULL};
    char **argv = calloc(j->req.nargs + 3, sizeof *argv);
    char **envp = calloc(w->env_count + 4, sizeof *envp);
    struct run *r = NULL;
    if (!argv || !envp || asprintf(&script, "%s/%s.py", w->scripts_dir, j->row.script) < 0 ||
        asprintf(&own[0], "ARUN_JOB_ID=%s", j->row.id) < 0 ||
        asprintf(&own[1], "ARUN_DB=%s", w->child_db_path) < 0 ||
        asprintf(&own[2], "ARUN_TRIGGER=%s", j->row.trigger) < 0) {
        errno = ENOMEM;
        goto done;
    }
    argv[0] = w->python;
    argv[1] = script;
    for (size_t i = 0; i < j->req.nargs; i++)
        argv[2 + i] = j->req.args[i];
    memcpy(envp, w->env_base, w->env_count * sizeof *envp);
    for (int i = 0; i < 3; i++)
        envp[w->env_count + i] = own[i];
    struct run_spec spec = {
        .path = w->python,
        .argv = argv,
        .envp = envp,
        .opts = &w->limits,
        .timeout_ms = j->req.timeout_ms,
        .kill_grace_ms = w->cfg.kill_grace_ms,
        .max_output = (size_t)w->cfg.max_output,
        .label = j->row.id,
        .spawner = warm_ready(w) ? warm_spawn : NULL,
        .spawner_ctx = w,
    };
    r = run_start(w->base, &spec, done, j);
done:;
    int saved = errno;
    free(argv);
    free(envp);
    free(script);
    for (int i = 0; i < 3; i++)
        free(own[i]);
    errno = saved;
    return r;
}

const char *launch_limit_hit(const struct spawn_opts *l, const struct run_result *res,
                             const char *err)
{
    if (l->cpu_ms > 0 && res->has_signal &&
        (res->signal == SIGXCPU ||
         (res->signal == SIGKILL && res->cpu_user_ms + res->cpu_sys_ms >= l->cpu_ms)))
        return "CPU";
    if (res->has_exit_code && res->exit_code == 0)
        return NULL;
    /* rlimits make allocations and forks fail inside the script; what
     * the script then prints is all there is to go on */
    if (l->memory_bytes > 0 && err &&
        (strstr(err, "MemoryError") || strstr(err, "Cannot allocate memory") ||
         strstr(err, "cannot allocate memory")))
        return "memory";
    if (l->pids > 0 && err &&
        (strstr(err, "BlockingIOError") || strstr(err, "Resource temporarily unavailable")))
        return "process";
    return NULL;
}
