/*
 * launch: what a job's child gets. Its argv (the interpreter, the script's
 * path, the request's args verbatim), its environment (an allowlist of the
 * worker's own, never ARUN_REDIS_URL or another setting of the worker, plus
 * ARUN_JOB_ID, ARUN_DB, ARUN_TRIGGER), its limits and its user; and, after
 * it ends, which limit stopped it when arun can tell.
 */
#ifndef ARUN_LAUNCH_H
#define ARUN_LAUNCH_H

#include <stddef.h>

#include "run.h"

struct worker;
struct job;

/* Builds the environment every job shares from the worker's environ: the
 * allowlisted names (PATH, HOME, LANG, LC_*, TZ, TMPDIR, PYTHONPATH,
 * PYTHONHOME, VIRTUAL_ENV, PYTHONUNBUFFERED) and those listed in extra
 * (comma-separated; NULL or "" for none), with PYTHONUNBUFFERED=1 added
 * when the worker has none. Returns 0, or -1 with a reason in err when
 * extra names an ARUN_* variable or is malformed. */
int launch_setup_env(struct worker *w, const char *extra, char err[256]);

/* Frees what launch_setup_env built. */
void launch_free_env(struct worker *w);

/* Starts job j's script as a run whose done callback is done(run, j).
 * Returns the run, or NULL with errno set. */
struct run *launch_job(struct worker *w, struct job *j, run_done_fn *done);

/* Which limit ended a run, when arun can tell: "memory", "CPU",
 * "process", or NULL. err is the run's stderr (or NULL). */
const char *launch_limit_hit(const struct spawn_opts *limits, const struct run_result *res,
                             const char *err);

#endif
