/*
 * run: a job's child process while it runs. Output is drained as it comes
 * (a chatty script never blocks on a full pipe), the timeout escalates
 * SIGTERM -> SIGKILL on the whole process group, and the job is complete
 * only when the child is reaped and both pipes are closed.
 */
#include "job.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "timefmt.h"

#define RUN_READ_CHUNK 65536

static void maybe_complete(struct job *j)
{
    if (!j->exited || j->fds.out >= 0 || j->fds.err >= 0)
        return;
    if (j->timer)
        evtimer_del(j->timer);
    j->pid = 0;
    if (j->abandoned)
        job_forget(j);
    else
        job_ran(j);
}

static void close_stream(struct event **ev, int *fd)
{
    if (*ev) {
        event_free(*ev);
        *ev = NULL;
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct job *j = arg;
    int is_out = fd == j->fds.out;
    struct capture *cap = is_out ? &j->out : &j->err;
    static char buf[RUN_READ_CHUNK]; /* one loop, one reader at a time */
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        capture_append(cap, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (is_out)
        close_stream(&j->out_ev, &j->fds.out);
    else
        close_stream(&j->err_ev, &j->fds.err);
    maybe_complete(j);
}

static void signal_group(struct job *j, int sig)
{
    if (j->pid > 0 && killpg(j->pid, sig) < 0 && errno != ESRCH)
        log_job(LOG_WARN, j->row.id, j->row.script, "killpg %d: %s", sig, strerror(errno));
}

static void arm(struct job *j, int64_t ms)
{
    /* libevent measures from the time cached at the top of this loop
     * iteration; refresh it so a deadline is never shorter than asked */
    event_base_update_cache_time(j->w->base);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(j->timer, &tv);
}

/* The timer: the deadline, then the grace period, then (after exit) the
 * time we wait for pipes held open by processes outside the group. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct job *j = arg;
    if (j->exited) {
        log_job(LOG_WARN, j->row.id, j->row.script,
                "output pipes still open %d ms after exit (a process left the job's group); "
                "closing them", WORKER_LINGER_MS);
        close_stream(&j->out_ev, &j->fds.out);
        close_stream(&j->err_ev, &j->fds.err);
        maybe_complete(j);
        return;
    }
    if (j->kill_stage == 0) {
        j->timed_out = 1;
        j->kill_stage = 1;
        log_job(LOG_INFO, j->row.id, j->row.script, "timed out after %lld ms: SIGTERM",
                (long long)j->req.timeout_ms);
        signal_group(j, SIGTERM);
        signal_group(j, SIGCONT); /* a stopped process cannot act on TERM */
        arm(j, j->w->cfg.kill_grace_ms);
    } else if (j->kill_stage == 1) {
        j->kill_stage = 2;
        log_job(LOG_INFO, j->row.id, j->row.script, "still running %lld ms after SIGTERM: SIGKILL",
                (long long)j->w->cfg.kill_grace_ms);
        signal_group(j, SIGKILL);
    }
}

/* Builds "NAME=value" strings for the job's own variables. */
static char **child_env(struct job *j, char *own[3])
{
    struct worker *w = j->w;
    char **env = calloc(w->env_count + 4, sizeof *env);
    if (!env)
        return NULL;
    memcpy(env, w->env_base, w->env_count * sizeof *env);
    if (asprintf(&own[0], "ARUN_JOB_ID=%s", j->row.id) < 0)
        own[0] = NULL;
    if (asprintf(&own[1], "ARUN_DB=%s", w->db_path) < 0)
        own[1] = NULL;
    if (asprintf(&own[2], "ARUN_TRIGGER=%s", j->row.trigger) < 0)
        own[2] = NULL;
    if (!own[0] || !own[1] || !own[2]) {
        free(env);
        return NULL;
    }
    env[w->env_count] = own[0];
    env[w->env_count + 1] = own[1];
    env[w->env_count + 2] = own[2];
    return env;
}

int run_start(struct job *j)
{
    struct worker *w = j->w;
    char *script = NULL, *own[3] = {NULL, NULL, NULL};
    char **argv = calloc(j->req.nargs + 3, sizeof *argv);
    char **envp = NULL;
    int rc = -1;
    if (!argv || asprintf(&script, "%s/%s.py", w->scripts_dir, j->row.script) < 0) {
        script = NULL;
        errno = ENOMEM;
        goto done;
    }
    argv[0] = w->python;
    argv[1] = script;
    for (size_t i = 0; i < j->req.nargs; i++)
        argv[2 + i] = j->req.args[i];
    if (!(envp = child_env(j, own))) {
        errno = ENOMEM;
        goto done;
    }
    capture_init(&j->out, (size_t)w->cfg.max_output);
    capture_init(&j->err, (size_t)w->cfg.max_output);
    j->start_ms = timefmt_mono_ms();
    pid_t pid = spawn_child(w->python, argv, envp, &j->fds);
    if (pid < 0)
        goto done;
    j->pid = pid;
    j->exec_errno = j->fds.exec_errno;
    j->out_ev = event_new(w->base, j->fds.out, EV_READ | EV_PERSIST, on_output, j);
    j->err_ev = event_new(w->base, j->fds.err, EV_READ | EV_PERSIST, on_output, j);
    if (!j->timer)
        j->timer = evtimer_new(w->base, on_timer, j);
    else
        event_assign(j->timer, w->base, -1, 0, on_timer, j);
    if (!j->out_ev || !j->err_ev || !j->timer) {
        /* cannot watch it: do not let it run unwatched */
        killpg(pid, SIGKILL);
        errno = ENOMEM;
        goto done; /* reaped by job_reap; j->pid == 0 makes it unknown */
    }
    event_add(j->out_ev, NULL);
    event_add(j->err_ev, NULL);
    arm(j, j->req.timeout_ms);
    rc = 0;
done:
    if (rc < 0) {
        int saved = errno;
        j->pid = 0;
        run_free(j);
        errno = saved;
    }
    free(argv);
    free(envp);
    free(script);
    for (int i = 0; i < 3; i++)
        free(own[i]);
    return rc;
}

void run_kill(struct job *j)
{
    j->kill_stage = 2;
    signal_group(j, SIGKILL);
}

void run_exited(struct job *j, int wait_status)
{
    j->exited = 1;
    j->wait_status = wait_status;
    /* pipes still open now belong to a process that escaped the group */
    if (j->fds.out >= 0 || j->fds.err >= 0) {
        evtimer_del(j->timer);
        event_assign(j->timer, j->w->base, -1, 0, on_timer, j);
        arm(j, WORKER_LINGER_MS);
    }
    maybe_complete(j);
}

void run_free(struct job *j)
{
    close_stream(&j->out_ev, &j->fds.out);
    close_stream(&j->err_ev, &j->fds.err);
    capture_free(&j->out);
    capture_free(&j->err);
}
