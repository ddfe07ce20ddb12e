/*
 * spawn_bare: the baseline every arun figure is compared with. Runs N
 * copies of argv, K at a time, with no queue and no database: stdin from
 * /dev/null, stdout and stderr on pipes that are drained (and counted, not
 * kept), each child reaped. This is what any runner must do at the least,
 * so arun's throughput can at best match it.
 *
 *   spawn_bare [-n N] [-k K] [-m posix_spawn|fork] -- CMD [ARG...]
 *
 * Prints one JSON object on stdout: jobs, k, wall_s, jobs_per_s, the
 * spawner's own CPU (user+sys) and its children's, per-job latency
 * (spawn start -> reaped and both pipes at EOF) p50/p99 in ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct slot {
    pid_t pid;
    int out, err;      /* -1 once at EOF */
    double t0;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static int use_fork;

static pid_t start(char **argv, int *out, int *err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        perror("pipe2");
        exit(1);
    }
    pid_t pid;
    if (use_fork) {
        pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(po[1], 1);
            dup2(pe[1], 2);
            execv(argv[0], argv);
            _exit(127);
        }
    } else {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, po[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
        int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            errno = rc;
            pid = -1;
        }
    }
    if (pid < 0) {
        perror("spawn");
        exit(1);
    }
    close(po[1]);
    close(pe[1]);
    *out = po[0];
    *err = pe[0];
    return pid;
}

int main(int argc, char **argv)
{
    long n = 100, k = 2;
    int opt;
    while ((opt = getopt(argc, argv, "+n:k:m:")) != -1) {
        switch (opt) {
        case 'n': n = atol(optarg); break;
        case 'k': k = atol(optarg); break;
        case 'm': use_fork = strcmp(optarg, "fork") == 0; break;
        default:
            fprintf(stderr, "usage: spawn_bare [-n N] [-k K] [-m posix_spawn|fork] -- CMD [ARG...]\n");
            return 2;
        }
    }
    if (optind >= argc || n < 1 || k < 1) {
        fprintf(stderr, "spawn_bare: a command is required\n");
        return 2;
    }
    char **cmd = argv + optind;
    struct slot *slots = calloc((size_t)k, sizeof *slots);
    struct pollfd *pfd = calloc((size_t)k * 2, sizeof *pfd);
    double *lat = calloc((size_t)n, sizeof *lat);
    static char buf[65536];
    long started = 0, done = 0, failed = 0;
    for (long i = 0; i < k; i++)
        slots[i].pid = 0;
    double t_begin = now_s();
    while (done < n) {
        for (long i = 0; i < k && started < n; i++) {
            if (slots[i].pid)
                continue;
            slots[i].t0 = now_s();
            slots[i].pid = start(cmd, &slots[i].out, &slots[i].err);
            started++;
        }
        long np = 0;
        for (long i = 0; i < k; i++) {
            if (!slots[i].pid)
                continue;
            if (slots[i].out >= 0)
                pfd[np++] = (struct pollfd){.fd = slots[i].out, .events = POLLIN};
            if (slots[i].err >= 0)
                pfd[np++] = (struct pollfd){.fd = slots[i].err, .events = POLLIN};
        }
        if (poll(pfd, (nfds_t)np, -1) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (long p = 0; p < np; p++) {
            if (!pfd[p].revents)
                continue;
            ssize_t r = read(pfd[p].fd, buf, sizeof buf);
            if (r > 0 || (r < 0 && errno == EINTR))
                continue;
            for (long i = 0; i < k; i++) {
                if (slots[i].out == pfd[p].fd)
                    slots[i].out = -1;
                else if (slots[i].err == pfd[p].fd)
                    slots[i].err = -1;
                else
                    continue;
                close(pfd[p].fd);
                if (slots[i].out < 0 && slots[i].err < 0) {
                    int st;
                    waitpid(slots[i].pid, &st, 0);
                    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        failed++;
                    lat[done++] = now_s() - slots[i].t0;
                    slots[i].pid = 0;
                }
                break;
            }
        }
    }
    double wall = now_s() - t_begin;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    struct rusage rc;
    getrusage(RUSAGE_CHILDREN, &rc);
    double children = (double)rc.ru_utime.tv_sec + (double)rc.ru_utime.tv_usec / 1e6 +
                      (double)rc.ru_stime.tv_sec + (double)rc.ru_stime.tv_usec / 1e6;
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("{\"jobs\": %ld, \"k\": %ld, \"method\": \"%s\", \"failed\": %ld, \"wall_s\": %.6f, "
           "\"jobs_per_s\": %.3f, \"cpu_s\": %.6f, \"cpu_ms_per_job\": %.4f, "
           "\"children_cpu_s\": %.6f, \"lat_p50_ms\": %.3f, \"lat_p99_ms\": %.3f}\n",
           n, k, use_fork ? "fork" : "posix_spawn", failed, wall, (double)n / wall, cpu,
           cpu * 1000 / (double)n, children, pct(lat, n, 0.5) * 1000, pct(lat, n, 0.99) * 1000);
    free(slots);
    free(pfd);
    free(lat);
    return failed ? 1 : 0;
}
