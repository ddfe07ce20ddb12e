/*
 * run: a job's child process while it runs (see run.h). Output is drained
 * as it comes (a chatty script never blocks on a full pipe), the deadline
 * escalates SIGTERM -> SIGKILL on the whole process group, and the run is
 * done only when the child is reaped and both pipes are closed.
 *
 * Live runs are kept in one list of this file, so that run_reap can find
 * the run of a pid; there is one event loop per process, hence one list.
 */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "timefmt.h"

#define RUN_READ_CHUNK 65536
#define RUN_LABEL_MAX 65

enum kill_stage { STAGE_RUNNING, STAGE_TERM_SENT, STAGE_KILL_SENT };

struct run {
    struct run *next;              /* in the list of live runs */
    struct event_base *base;
    char label[RUN_LABEL_MAX];
    pid_t pid;                     /* 0 once reaped */
    struct spawn_fds fds;          /* -1 once closed */
    struct event *out_ev, *err_ev;
    struct capture out, err;
    struct event *timer;           /* deadline, then grace, then linger */
    int64_t grace_ms;
    int64_t start_ms;
    int64_t due_us;                /* when the timer is due, CLOCK_MONOTONIC */
    enum kill_stage stage;
    int reaped;
    int done_called;
    struct run_result res;
    run_done_fn *done;
    void *done_arg;
    run_output_fn *hook;
    void *hook_arg;
};

static struct run *runs;

static void unlink_run(struct run *r)
{
    for (struct run **p = &runs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            r->next = NULL;
            return;
        }
    }
}

static struct run *find_run(pid_t pid)
{
    for (struct run *r = runs; r; r = r->next)
        if (r->pid == pid && !r->reaped)
            return r;
    return NULL;
}

int run_is_leader(pid_t pid) { return pid > 0 && find_run(pid) != NULL; }

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

static void maybe_done(struct run *r)
{
    if (!r->reaped || r->fds.out >= 0 || r->fds.err >= 0 || r->done_called)
        return;
    r->done_called = 1;
    evtimer_del(r->timer);
    r->done(r, r->done_arg); /* may free r */
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct run *r = arg;
    int is_err = fd == r->fds.err;
    static char buf[RUN_READ_CHUNK]; /* one loop, one reader at a time */
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        if (r->hook)
            r->hook(r->hook_arg, is_err, buf, (size_t)n);
        capture_append(is_err ? &r->err : &r->out, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (is_err)
        close_stream(&r->err_ev, &r->fds.err);
    else
        close_stream(&r->out_ev, &r->fds.out);
    maybe_done(r);
}

static void signal_group(struct run *r, int sig)
{
    if (r->pid > 0 && !r->reaped && killpg(r->pid, sig) < 0 && errno != ESRCH)
        log_job(LOG_WARN, r->label, NULL, "killpg %d: %s", sig, strerror(errno));
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void arm_us(struct run *r, int64_t us)
{
    /* libevent measures from the time cached at the top of this loop
     * iteration; refresh it so a deadline is never shorter than asked */
    event_base_update_cache_time(r->base);
    struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
    evtimer_add(r->timer, &tv);
}

static void arm(struct run *r, int64_t ms)
{
    r->due_us = mono_us() + ms * 1000;
    arm_us(r, ms * 1000);
}

static void escalate(struct run *r)
{
    if (r->stage == STAGE_RUNNING) {
        r->stage = STAGE_TERM_SENT;
        signal_group(r, SIGTERM);
        signal_group(r, SIGCONT); /* a stopped process cannot act on TERM */
        arm(r, r->grace_ms);
    } else if (r->stage == STAGE_TERM_SENT) {
        r->stage = STAGE_KILL_SENT;
        log_job(LOG_INFO, r->label, NULL, "still running %lld ms after SIGTERM: SIGKILL",
                (long long)r->grace_ms);
        signal_group(r, SIGKILL);
    }
}

/* The timer: the deadline, then the grace period, then (after the reap)
 * the time we wait for pipes held open by processes outside the group. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct run *r = arg;
    /* the loop's clock is CLOCK_MONOTONIC_COARSE (no timerfd per loop
     * iteration), a jiffy behind at worst: a timer that fires early waits
     * out the rest, so a deadline is never shorter than asked */
    int64_t early = r->due_us - mono_us();
    if (early > 0) {
        arm_us(r, early);
        return;
    }
    if (r->reaped) {
        log_job(LOG_WARN, r->label, NULL,
                "output pipes still open %d ms after exit (a process left the job's group); "
                "closing them", RUN_LINGER_MS);
        close_stream(&r->out_ev, &r->fds.out);
        close_stream(&r->err_ev, &r->fds.err);
        maybe_done(r);
        return;
    }
    if (r->stage == STAGE_RUNNING && r->res.cause == RUN_CAUSE_NONE) {
        r->res.cause = RUN_CAUSE_TIMEOUT;
        log_job(LOG_INFO, r->label, NULL, "timed out: SIGTERM");
    }
    escalate(r);
}

struct run *run_start(struct event_base *base, const struct run_spec *spec, run_done_fn *done,
                      void *arg)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base = base;
    r->fds = (struct spawn_fds){-1, -1, 0};
    snprintf(r->label, sizeof r->label, "%s", spec->label ? spec->label : "");
    r->grace_ms = spec->kill_grace_ms;
    r->done = done;
    r->done_arg = arg;
    capture_init(&r->out, spec->max_output);
    capture_init(&r->err, spec->max_output);
    r->timer = evtimer_new(base, on_timer, r);
    if (!r->timer) {
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    r->start_ms = timefmt_mono_ms();
    pid_t pid = spec->spawner ? spec->spawner(spec->spawner_ctx, spec, &r->fds) : -1;
    if (pid < 0)
        pid = spawn_child(spec->path, spec->argv, spec->envp, spec->opts, &r->fds);
    if (pid < 0) {
        int saved = errno;
        event_free(r->timer);
        free(r);
        errno = saved;
        return NULL;
    }
    r->pid = pid;
    r->res.exec_errno = r->fds.exec_errno;
    r->next = runs;
    runs = r; /* from here run_reap can find it */
    r->out_ev = event_new(base, r->fds.out, EV_READ | EV_PERSIST, on_output, r);
    r->err_ev = event_new(base, r->fds.err, EV_READ | EV_PERSIST, on_output, r);
    if (!r->out_ev || !r->err_ev) {
        /* cannot watch it: do not let it run unwatched */
        run_free(r);
        errno = ENOMEM;
        return NULL;
    }
    event_add(r->out_ev, NULL);
    event_add(r->err_ev, NULL);
    arm(r, spec->timeout_ms);
    return r;
}

void run_set_output_hook(struct run *r, run_output_fn *fn, void *arg)
{
    r->hook = fn;
    r->hook_arg = arg;
}

void run_stop(struct run *r, enum run_cause cause)
{
    if (r->reaped)
        return;
    if (r->res.cause == RUN_CAUSE_NONE)
        r->res.cause = cause;
    if (cause == RUN_CAUSE_ABANDON) {
        r->stage = STAGE_KILL_SENT;
        signal_group(r, SIGKILL);
        return;
    }
    if (r->stage == STAGE_RUNNING) {
        evtimer_del(r->timer);
        escalate(r);
    }
}

pid_t run_pid(const struct run *r) { return r->reaped ? 0 : r->pid; }

const struct run_result *run_result(const struct run *r) { return &r->res; }

const struct capture *run_capture(const struct run *r, int is_err)
{
    return is_err ? &r->err : &r->out;
}

char *run_take_text(struct run *r, int is_err)
{
    struct capture *c = is_err ? &r->err : &r->out;
    char *t = capture_text(c);
    capture_free(c);
    return t;
}

void run_free(struct run *r)
{
    if (!r)
        return;
    if (!r->reaped && r->pid > 0)
        killpg(r->pid, SIGKILL); /* reaped by run_reap as an unknown child */
    unlink_run(r);
    close_stream(&r->out_ev, &r->fds.out);
    close_stream(&r->err_ev, &r->fds.err);
    capture_free(&r->out);
    capture_free(&r->err);
    if (r->timer)
        event_free(r->timer);
    free(r);
}

static int64_t tv_ms(struct timeval tv) { return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000; }

static void reaped(struct run *r, int st, const struct rusage *ru)
{
    r->reaped = 1;
    r->res.duration_ms = timefmt_mono_ms() - r->start_ms;
    r->res.has_exit_code = WIFEXITED(st) && !r->res.exec_errno;
    r->res.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    r->res.has_signal = WIFSIGNALED(st);
    r->res.signal = r->res.has_signal ? WTERMSIG(st) : 0;
    r->res.cpu_user_ms = tv_ms(ru->ru_utime);
    r->res.cpu_sys_ms = tv_ms(ru->ru_stime);
    r->res.max_rss_kb = ru->ru_maxrss;
    /* pipes still open now belong to a process that escaped the group:
     * give it RUN_LINGER_MS (containment usually kills it sooner) */
    if (r->fds.out >= 0 || r->fds.err >= 0) {
        evtimer_del(r->timer);
        arm(r, RUN_LINGER_MS);
    }
    maybe_done(r);
}

void run_reap(void)
{
    for (;;) {
        siginfo_t si = {0};
        /* peek first (WNOWAIT): the group is killed while its leader is
         * still a zombie, so its id cannot have been reused */
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        struct run *r = find_run(pid);
        if (r)
            killpg(pid, SIGKILL); /* no process of the job outlives the job */
        int st;
        struct rusage ru;
        if (wait4(pid, &st, 0, &ru) < 0)
            continue;
        if (r)
            reaped(r, st, &ru);
    }
}
