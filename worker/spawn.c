/*
 * spawn: vfork and exec one job's child process.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    p[0] = p[1] = -1;
}

/* Runs in the child between vfork and exec, in the worker's memory, with
 * every signal blocked: only system calls, no writes but errno and, when
 * exec fails, *exec_errno, which the parent reads once it resumes. */
static int set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    return setrlimit(resource, &rl);
}

/* Applies the limits and the user (in the child, before exec). */
static int apply_opts(const struct spawn_opts *o)
{
    if (!o)
        return 0;
    if (o->memory_bytes > 0 && set_limit(RLIMIT_AS, (rlim_t)o->memory_bytes,
                                         (rlim_t)o->memory_bytes) < 0)
        return -1;
    if (o->cpu_ms > 0) {
        /* whole seconds, rounded up; SIGXCPU at the soft limit, SIGKILL at
         * the hard one for a process that catches SIGXCPU */
        rlim_t s = (rlim_t)((o->cpu_ms + 999) / 1000);
        if (set_limit(RLIMIT_CPU, s, s + 1) < 0)
            return -1;
    }
    if (o->pids > 0 && set_limit(RLIMIT_NPROC, (rlim_t)o->pids, (rlim_t)o->pids) < 0)
        return -1;
    if (o->run_as && (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0))
        return -1;
    return 0;
}

static void __attribute__((noreturn))
child_exec(pid_t parent, const char *path, char *const argv[], char *const envp[],
           const struct spawn_opts *opts, int out[2], int err[2], volatile int *exec_errno)
{
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(127); /* the worker is already gone: do not run orphaned */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP, RT gaps */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
        goto fail;
    /* everything above 2 closes on exec: the worker's sockets, the
     * database, other jobs' pipes */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0 || apply_opts(opts) < 0)
        goto fail;
    execve(path, argv, envp);
fail:
    *exec_errno = errno ? errno : ENOEXEC;
    _exit(127);
}

pid_t spawn_child(const char *path, char *const argv[], char *const envp[],
                  const struct spawn_opts *opts, struct spawn_fds *fds)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    volatile int exec_errno = 0;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        goto fail;
    static pid_t parent; /* the worker never forks: its pid, asked once */
    if (!parent)
        parent = getpid();
    /* vfork, not fork: the child borrows the worker's memory until it
     * execs, so no page tables are copied and the worker takes no
     * copy-on-write faults afterwards (most of a job's cost in the worker
     * with fork). The child must not run a handler of ours in that
     * borrowed memory: every signal is blocked across vfork, and the
     * child resets each disposition before unblocking. The parent
     * resumes once the child has exec'd or exited, so the outcome of
     * execve is known here, without a status pipe. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0)
        child_exec(parent, path, argv, envp, opts, out, err, &exec_errno);
    int vfork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        errno = vfork_errno;
        goto fail;
    }
    /* the child made its own group before exec: killpg works from here */
    close(out[1]);
    close(err[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    fds->out = out[0];
    fds->err = err[0];
    fds->exec_errno = exec_errno;
    return pid;
fail:;
    int saved = errno;
    close_pair(out);
    close_pair(err);
    errno = saved;
    return -1;
}
