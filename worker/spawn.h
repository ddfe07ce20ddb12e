/*
 * spawn: starting a job's process the way a daemon should (the recipe of
 * OpenSMTPD's forkmda and s6): its own process group, stdin from
 * /dev/null, stdout and stderr on pipes, default signal dispositions, an
 * empty signal mask, no inherited descriptors, and death with the worker
 * (PR_SET_PDEATHSIG). No shell: execve of an absolute path, fixed argv.
 */
#ifndef ARUN_SPAWN_H
#define ARUN_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/* What the child gets besides argv and envp. A zero limit is no limit.
 * rlimits are per process: RLIMIT_AS for memory, RLIMIT_CPU for CPU time
 * (SIGXCPU at the limit, SIGKILL a second later), RLIMIT_NPROC for
 * processes (counted per user by the kernel, and not enforced for root). */
struct spawn_opts {
    int64_t memory_bytes;
    int64_t cpu_ms;
    int64_t pids;
    uid_t uid;      /* run as this user and group when run_as is set */
    gid_t gid;
    int run_as;
};

struct spawn_fds {
    int out;   /* read end of the child's stdout */
    int err;   /* read end of the child's stderr */
    int exec_errno; /* 0 when execve succeeded, else its errno (the
                       child then exits 127 and is reaped as usual) */
};

/* Starts path with argv and envp, applying opts (NULL: none). Returns the child's pid (which is also
 * its process group id) with the non-blocking, close-on-exec read ends in
 * *fds and the outcome of execve, known on return (vfork), or -1 with
 * errno set and no descriptor left open. */
pid_t spawn_child(const char *path, char *const argv[], char *const envp[],
                  const struct spawn_opts *opts, struct spawn_fds *fds);

#endif
