/*
 * orphans: finding a job's leftover processes through /proc.
 */
#include "orphans.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORPHANS_ENV_MAX (256 * 1024) /* read at most this much of an environment */
#define ORPHANS_DEPTH_MAX 64

/* Reads the environment of pid (NUL-separated entries) into a static
 * buffer. Returns it with its length in *len, or NULL. */
static const char *read_environ(pid_t pid, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    static char buf[ORPHANS_ENV_MAX];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof buf && (got = read(fd, buf + n, sizeof buf - n)) > 0)
        n += (size_t)got;
    close(fd);
    *len = n;
    return buf;
}

/* Finds the whole entry starting with prefix in pid's environment.
 * Returns it (prefix included) with its length in *elen, or NULL. */
static const char *find_entry(pid_t pid, const char *prefix, size_t *elen)
{
    size_t len = 0, plen = strlen(prefix);
    const char *buf = read_environ(pid, &len);
    for (size_t i = 0; buf && i < len;) {
        size_t e = strnlen(buf + i, len - i);
        if (e >= plen && memcmp(buf + i, prefix, plen) == 0) {
            *elen = e;
            return buf + i;
        }
        i += e + 1;
    }
    return NULL;
}

/* Returns 1 if process pid has the variable entry "ARUN_JOB_ID=id". */
static int has_job(pid_t pid, const char *entry, size_t entry_len)
{
    size_t e;
    const char *found = find_entry(pid, "ARUN_JOB_ID=", &e);
    return found && e == entry_len && memcmp(found, entry, entry_len) == 0;
}

int orphans_job_id(pid_t pid, char *out, size_t size)
{
    size_t e;
    const char *found = find_entry(pid, "ARUN_JOB_ID=", &e);
    if (!found || e - 12 >= size)
        return -1;
    memcpy(out, found + 12, e - 12);
    out[e - 12] = '\0';
    return 0;
}

pid_t orphans_parent_of(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    char *close_paren = strrchr(stat, ')'); /* the name may hold spaces */
    int ppid = 0;
    if (close_paren)
        sscanf(close_paren + 1, " %*c %d", &ppid);
    return ppid;
}

static int is_worker(pid_t pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    return strcmp(comm, "arun-worker\n") == 0;
}

int orphans_kill(const char *job_id)
{
    char entry[128];
    int entry_len = snprintf(entry, sizeof entry, "ARUN_JOB_ID=%s", job_id);
    if (entry_len < 0 || entry_len >= (int)sizeof entry)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int killed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid == getpid() || !has_job(pid, entry, (size_t)entry_len))
            continue;
        /* climb to the job's topmost process: a live job hangs from a
         * worker (its script's parent); an orphan from init or a reaper */
        pid_t up = orphans_parent_of(pid);
        for (int depth = 0; up > 1 && depth < ORPHANS_DEPTH_MAX &&
                            has_job(up, entry, (size_t)entry_len); depth++)
            up = orphans_parent_of(up);
        if (up > 1 && is_worker(up))
            continue;
        if (kill(pid, SIGKILL) == 0)
            killed++;
    }
    closedir(d);
    return killed;
}
