/*
 * warm: starting, asking and restarting the warm interpreter (see warm.h
 * and arun_warm.py).
 */
#include "warm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "run.h"
#include "timefmt.h"
#include "worker.h"

#define WARM_RETRY_MS 5000            /* after a failed start, before trying again */
#define WARM_START_TIMEOUT_MS 120000  /* for its imports */

struct warm {
    pid_t pid;             /* 0 when not running */
    int ctl;               /* our end of the control socket, -1 when none */
    struct event *ev;      /* "ready", "err" or EOF while idle */
    int ready;
    long jobs;             /* forks since it started */
    long rss_ready_kb;     /* its RSS once ready */
    int64_t failed_at_ms;  /* monotonic: when it last failed to start */
    int64_t started_ms;    /* monotonic: when it was started */
    char program[PATH_MAX];
};

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void warm_close(struct worker *w, const char *why)
{
    struct warm *m = w->warm;
    if (m->ev) {
        event_free(m->ev);
        m->ev = NULL;
    }
    if (m->ctl >= 0)
        close(m->ctl); /* it exits when it reads the end of its socket */
    m->ctl = -1;
    if (m->pid > 0)
        kill(m->pid, SIGKILL); /* reaped by run_reap as an unknown child */
    if (why)
        log_warn("warm interpreter (pid %d) stopped: %s; jobs start fresh until it is back",
                 (int)m->pid, why);
    m->pid = 0;
    m->ready = 0;
}

static void on_ctl(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    struct warm *m = w->warm;
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        warm_close(w, "it exited");
        m->failed_at_ms = timefmt_mono_ms();
        return;
    }
    buf[n] = '\0';
    if (strcmp(buf, "ready") == 0) {
        m->ready = 1;
        m->jobs = 0;
        m->rss_ready_kb = rss_kb(m->pid);
        log_info("warm interpreter ready (pid %d, %ld kB): jobs fork from it",
                 (int)m->pid, m->rss_ready_kb);
        return;
    }
    log_error("warm interpreter: %s", strncmp(buf, "err ", 4) == 0 ? buf + 4 : buf);
    warm_close(w, "it refused to start");
    m->failed_at_ms = timefmt_mono_ms();
}

static int warm_start(struct worker *w)
{
    struct warm *m = w->warm;
    int sv[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    if (sv[1] == 3) { /* dup2(3, 3) would keep close-on-exec */
        int other = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
        close(sv[1]);
        sv[1] = other;
    }
    char *preload = NULL;
    char **envp = calloc(w->env_count + 2, sizeof *envp);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    int rc = -1;
    if (sv[1] < 0 || !envp || asprintf(&preload, "ARUN_PRELOAD=%s", w->cfg.preload) < 0) {
        preload = NULL;
        goto done;
    }
    memcpy(envp, w->env_base, w->env_count * sizeof *envp);
    envp[w->env_count] = preload;
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* its own group: a terminal's ^C for the worker must not reach it */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    char *argv[] = {w->python, m->program, w->scripts_dir, NULL};
    pid_t pid;
    if ((errno = posix_spawn(&pid, w->python, &fa, &attr, argv, envp)) != 0)
        goto done;
    m->pid = pid;
    m->started_ms = timefmt_mono_ms();
    m->ctl = sv[0];
    sv[0] = -1;
    m->ev = event_new(w->base, m->ctl, EV_READ | EV_PERSIST, on_ctl, w);
    if (!m->ev || event_add(m->ev, NULL) < 0) {
        warm_close(w, "out of memory");
        goto done;
    }
    log_info("warm interpreter starting (pid %d): importing %s", (int)pid, w->cfg.preload);
    rc = 0;
done:
    if (rc < 0)
        m->failed_at_ms = timefmt_mono_ms();
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    free(envp);
    free(preload);
    return rc;
}

int warm_setup(struct worker *w, char err[256])
{
    if (!w->cfg.preload || !*w->cfg.preload)
        return 0;
    struct warm *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, 256, "out of memory");
        return -1;
    }
    m->ctl = -1;
    w->warm = m;
    /* next to the sources when run from a build tree, else installed */
    const char *where[] = {ARUN_WARM_SOURCE, ARUN_WARM_INSTALLED};
    for (size_t i = 0; i < 2 && !m->program[0]; i++)
        if (access(where[i], R_OK) == 0)
            snprintf(m->program, sizeof m->program, "%s", where[i]);
    if (!m->program[0]) {
        snprintf(err, 256, "the warm interpreter's program is missing (%s)",
                 ARUN_WARM_INSTALLED);
        return -1;
    }
    if (warm_start(w) < 0)
        log_warn("cannot start the warm interpreter: %s; jobs start fresh", strerror(errno));
    return 0;
}

int warm_ready(const struct worker *w) { return w->warm && w->warm->ready; }

int warm_is(const struct worker *w, pid_t pid) { return w->warm && pid > 0 && w->warm->pid == pid; }

/* Appends s and its NUL to the buffer at *p (of *cap bytes, *len used). */
static int put_field(char **p, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s) + 1;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n)
            c *= 2;
        char *q = realloc(*p, c);
        if (!q)
            return -1;
        *p = q;
        *cap = c;
    }
    memcpy(*p + *len, s, n);
    *len += n;
    return 0;
}

/* The request, NUL-terminated fields (args and environment are bytes, not
 * necessarily UTF-8): worker pid, RLIMIT_AS bytes, RLIMIT_CPU seconds,
 * RLIMIT_NPROC, uid and gid (-1: unchanged), argc, the argv, then the
 * environment entries. */
static char *request_fields(const struct run_spec *spec, size_t *len)
{
    const struct spawn_opts *o = spec->opts;
    long long nums[7];
    size_t argc = 0;
    while (spec->argv[argc])
        argc++;
    nums[0] = getpid();
    nums[1] = o ? o->memory_bytes : 0;
    nums[2] = o && o->cpu_ms > 0 ? (o->cpu_ms + 999) / 1000 : 0;
    nums[3] = o ? o->pids : 0;
    nums[4] = o && o->run_as ? (long long)o->uid : -1;
    nums[5] = o && o->run_as ? (long long)o->gid : -1;
    nums[6] = (long long)argc;
    char *p = NULL, num[32];
    size_t cap = 0;
    *len = 0;
    int rc = 0;
    for (int i = 0; i < 7 && rc == 0; i++) {
        snprintf(num, sizeof num, "%lld", nums[i]);
        rc = put_field(&p, len, &cap, num);
    }
    for (size_t i = 0; i < argc && rc == 0; i++)
        rc = put_field(&p, len, &cap, spec->argv[i]);
    for (char *const *e = spec->envp; *e && rc == 0; e++)
        rc = put_field(&p, len, &cap, *e);
    if (rc < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static int send_request(int ctl, const char *text, size_t len, int out_w, int err_w)
{
    struct iovec iov = {(void *)text, len};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {out_w, err_w};
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    return sendmsg(ctl, &msg, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Waits up to WARM_REPLY_TIMEOUT_MS for one reply (a signal, SIGCHLD of a
 * finished job most often, does not cut the wait short). Returns its
 * length, 0 when the warm interpreter closed its end, -1 on timeout. */
static ssize_t recv_reply(int ctl, char *buf, size_t size)
{
    int64_t deadline = timefmt_mono_ms() + WARM_REPLY_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - timefmt_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {ctl, POLLIN, 0};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc <= 0)
            continue;
        ssize_t n = recv(ctl, buf, size - 1, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR))
            return n;
    }
}

pid_t warm_spawn(void *arg, const struct run_spec *spec, struct spawn_fds *fds)
{
    struct worker *w = arg;
    struct warm *m = w->warm;
    if (!m || !m->ready)
        return -1;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    size_t len = 0;
    char *text = request_fields(spec, &len);
    pid_t pid = -1;
    const char *why = NULL;
    if (!text || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        why = "no pipes or memory";
        goto done;
    }
    if (send_request(m->ctl, text, len, out[1], err[1]) < 0) {
        why = "the request could not be sent";
        goto done;
    }
    close(out[1]);
    close(err[1]);
    out[1] = err[1] = -1;
    /* synchronous: the job cannot be reaped before its run exists, since
     * SIGCHLD is handled in the loop, after this returns */
    char buf[512];
    ssize_t n = recv_reply(m->ctl, buf, sizeof buf);
    if (n <= 0) {
        why = n == 0 ? "it exited" : "it did not answer in time";
        goto done;
    }
    buf[n] = '\0';
    int got;
    if (sscanf(buf, "pid %d", &got) != 1 || got <= 0) {
        why = buf;
        goto done;
    }
    pid = got;
    m->jobs++;
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    fds->out = out[0];
    fds->err = err[0];
    fds->exec_errno = 0;
    out[0] = err[0] = -1;
done:
    if (why) {
        log_warn("warm interpreter: %s; this job starts fresh", why);
        warm_close(w, NULL);
        m->failed_at_ms = timefmt_mono_ms();
    }
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    free(text);
    return pid;
}

void warm_check(struct worker *w)
{
    struct warm *m = w->warm;
    if (!m)
        return;
    if (m->ready) {
        long kb = rss_kb(m->pid);
        if (m->jobs >= WARM_MAX_JOBS || (kb > 0 && kb - m->rss_ready_kb > WARM_MAX_GROWTH_KB)) {
            log_info("restarting the warm interpreter after %ld jobs (%ld kB, %ld at start)",
                     m->jobs, kb, m->rss_ready_kb);
            warm_close(w, NULL);
            warm_start(w);
        }
        return;
    }
    if (m->pid > 0 && timefmt_mono_ms() - m->started_ms > WARM_START_TIMEOUT_MS) {
        warm_close(w, "its imports did not finish in time");
        m->failed_at_ms = timefmt_mono_ms();
    }
    if (m->pid == 0 && !w->stopping && timefmt_mono_ms() - m->failed_at_ms >= WARM_RETRY_MS)
        warm_start(w);
}

void warm_stop(struct worker *w)
{
    if (!w->warm)
        return;
    warm_close(w, NULL);
    free(w->warm);
    w->warm = NULL;
}
