/*
 * contain: killing what a job left outside its process group (see
 * contain.h). The worker's children are listed by
 * /proc/self/task/TID/children (one read), or by a scan of /proc when the
 * kernel lacks that file.
 */
#include "contain.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "job.h"
#include "log.h"
#include "orphans.h"
#include "run.h"
#include "warm.h"
#include "worker.h"

#define CONTAIN_MAX_CHILDREN 4096
#define CONTAIN_RESWEEP_MS 50  /* their children come back to us in turn */
#define CONTAIN_RESWEEPS 20    /* a second's worth */

static char children_path[64]; /* /proc/self/task/PID/children, set up once */

int contain_setup(void)
{
    snprintf(children_path, sizeof children_path, "/proc/self/task/%d/children", (int)getpid());
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Reads the pids of this process's children into pids. Returns how many. */
static size_t list_children(pid_t *pids, size_t max)
{
    size_t n = 0;
    /* open, read, close: three system calls a job; stdio would add a stat */
    int fd = open(children_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        static char buf[CONTAIN_MAX_CHILDREN * 8]; /* "PID " each */
        size_t len = 0;
        ssize_t got;
        while (len < sizeof buf - 1 &&
               (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
            len += (size_t)got;
        close(fd);
        buf[len] = '\0';
        for (char *p = buf, *end; n < max; p = end) {
            long pid = strtol(p, &end, 10);
            if (end == p || (*end != ' ' && *end != '\n'))
                break; /* none left, or a number cut off by a full buffer */
            pids[n++] = (pid_t)pid;
        }
        return n;
    }
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t self = getpid();
    struct dirent *e;
    while (n < max && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (orphans_parent_of(pid) == self)
            pids[n++] = pid;
    }
    closedir(d);
    return n;
}

/* Returns 1 if pid carries the ARUN_JOB_ID of a job of w that still
 * runs (its leader not yet reaped). */
static int of_running_job(struct worker *w, pid_t pid)
{
    char id[REQUEST_ID_MAX + 1];
    if (orphans_job_id(pid, id, sizeof id) < 0)
        return 0; /* no id: nothing claims it */
    struct job *j = job_find(w, id);
    return j && j->run && run_pid(j->run) > 0;
}

static void on_resweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    contain_sweep(arg);
}

int contain_sweep(struct worker *w)
{
    static pid_t pids[CONTAIN_MAX_CHILDREN];
    size_t n = list_children(pids, CONTAIN_MAX_CHILDREN);
    int killed = 0;
    for (size_t i = 0; i < n; i++) {
        if (run_is_leader(pids[i]) || warm_is(w, pids[i]) || of_running_job(w, pids[i]))
            continue;
        if (kill(pids[i], SIGKILL) == 0)
            killed++;
    }
    if (killed) {
        log_info("killed %d processes that outlived their job", killed);
        w->contain_resweeps = CONTAIN_RESWEEPS;
    }
    if ((killed || w->contain_resweeps > 0) && w->base) {
        if (!killed)
            w->contain_resweeps--;
        if (!w->contain_timer)
            w->contain_timer = evtimer_new(w->base, on_resweep, w);
        struct timeval tv = {0, CONTAIN_RESWEEP_MS * 1000};
        if (w->contain_timer && w->contain_resweeps > 0)
            evtimer_add(w->contain_timer, &tv);
    }
    return killed;
}

void contain_free(struct worker *w)
{
    if (w->contain_timer)
        event_free(w->contain_timer);
    w->contain_timer = NULL;
}
