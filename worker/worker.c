/*
 * arun-worker: takes job requests from Redis, runs whitelisted scripts
 * with a timeout, records each run in SQLite and publishes its event.
 * This file holds start-up (options, checks), signals and shutdown; the
 * work itself is in take.c, job.c, run.c and peers.c.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "cancel.h"
#include "config.h"
#include "contain.h"
#include "job.h"
#include "launch.h"
#include "log.h"
#include "parse.h"
#include "rconn.h"
#include "run.h"
#include "warm.h"
#include "worker.h"

#define S(field) offsetof(struct worker_settings, field)

static const struct config_option options[] = {
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "Redis to take jobs from: redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"db", 0, "ARUN_DB", CONFIG_STRING, S(db), "./var/arun.db", 0, 0, "PATH",
     "SQLite database (created with its folder)"},
    {"scripts-dir", 0, "ARUN_SCRIPTS_DIR", CONFIG_STRING, S(scripts_dir), "./analytics", 0, 0,
     "DIR", "folder whose *.py files (except __init__.py) may be run"},
    {"python", 0, "ARUN_PYTHON", CONFIG_STRING, S(python), "python3", 0, 0, "PATH",
     "interpreter to run scripts with"},
    {"concurrency", 'c', "ARUN_CONCURRENCY", CONFIG_INT, S(concurrency), NULL, 1, 4096, "N",
     "jobs run at once (default: number of CPUs)"},
    {"take-ahead", 0, "ARUN_TAKE_AHEAD", CONFIG_INT, S(take_ahead), "0", 0, 4096, "N",
     "requests taken, checked and held while every slot is busy, so a freed slot starts "
     "the next at once (default 0: take only for a free slot)"},
    {"queues", 'q', "ARUN_QUEUES", CONFIG_NAMES, S(queues), "default", 1, 64, "Q1,Q2",
     "queues to take from, highest priority first"},
    {"kill-grace-ms", 0, "ARUN_KILL_GRACE_MS", CONFIG_DURATION, S(kill_grace_ms), "5s", 0,
     3600000, "DURATION", "time between SIGTERM and SIGKILL on timeout or cancel (a bare "
     "number is ms)"},
    {"max-output", 0, "ARUN_MAX_OUTPUT", CONFIG_INT, S(max_output), "1048576", 0,
     256 * 1024 * 1024, "BYTES", "bytes kept of each of stdout and stderr per job"},
    {"result-ttl", 0, "ARUN_RESULT_TTL", CONFIG_DURATION_S, S(result_ttl), "24h", 1, 315360000,
     "DURATION", "lifetime of P:result:ID (a bare number is seconds)"},
    {"log-level", 0, "ARUN_LOG_LEVEL", CONFIG_CHOICE, S(log_level), "info", 0, 0,
     "debug|info|warn|error", "lowest level of the log lines written"},
    {"drain-timeout", 0, "ARUN_DRAIN_TIMEOUT", CONFIG_DURATION, S(drain_timeout_ms), "30s", 0,
     86400000, "DURATION", "on SIGTERM, how long running jobs may finish before being killed "
     "(a bare number is ms)"},
    {"heartbeat-ttl", 0, "ARUN_HEARTBEAT_TTL", CONFIG_DURATION, S(heartbeat_ttl_ms), "15s",
     300, 3600000, "DURATION", "life of this worker's heartbeat; peers recover its jobs after "
     "(a bare number is ms)"},
    {"busy-timeout", 0, "ARUN_BUSY_TIMEOUT", CONFIG_DURATION, S(busy_timeout_ms), "50ms", 0,
     60000, "DURATION", "SQLite busy wait per attempt (busy steps are retried, never failed; "
     "a bare number is ms)"},
    {"child-env", 0, "ARUN_CHILD_ENV", CONFIG_STRING, S(child_env), "", 0, 0, "NAME,...",
     "variables scripts get besides PATH, HOME, LANG, LC_*, TZ, TMPDIR and Python's own"},
    {"memory-limit", 0, "ARUN_MEMORY_LIMIT", CONFIG_STRING, S(memory_limit), NULL, 0, 0, "SIZE",
     "memory a job's process may use: bytes, or 512M, 2G (default: none)"},
    {"cpu-limit", 0, "ARUN_CPU_LIMIT", CONFIG_DURATION, S(cpu_limit_ms), "0", 0, 86400000 * 7LL,
     "DURATION", "CPU time a job's process may use: 30s, 5m (default 0: none)"},
    {"pids-limit", 0, "ARUN_PIDS_LIMIT", CONFIG_INT, S(pids_limit), "0", 0, 1000000, "N",
     "processes a job may have at once (default 0: none)"},
    {"run-as", 0, "ARUN_RUN_AS", CONFIG_STRING, S(run_as), NULL, 0, 0, "USER[:GROUP]",
     "run scripts as this user (the worker must be root, or be that user)"},
    {"script-db", 0, "ARUN_SCRIPT_DB", CONFIG_STRING, S(script_db), NULL, 0, 0, "PATH",
     "database scripts get as ARUN_DB, when the record must be out of their reach "
     "(default: ARUN_DB)"},
    {"preload", 0, "ARUN_PRELOAD", CONFIG_STRING, S(preload), NULL, 0, 0, "MOD,...",
     "Python modules to import once in a warm interpreter that forks each job "
     "(default: every job starts the interpreter afresh)"},
    {"stream-maxlen", 0, "ARUN_STREAM_MAXLEN", CONFIG_INT, S(stream_maxlen), "100000", 1,
     1000000000, "N", "entries kept (about) in the completion stream P:stream:events"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-worker [OPTION]...\n\n"
               "Takes job requests from Redis queues, runs whitelisted analytics scripts with\n"
               "a timeout, records each run in SQLite and publishes a completion event.\n"
               "SIGTERM/SIGINT drain (a second one forces), SIGHUP reloads the whitelist.\n\n"
               "Options (a flag overrides its environment variable):\n");
    config_print_options(f, options, NOPTIONS);
}

/* Logs why start-up failed; returns the exit code 1. */
#define die(...) (log_error(__VA_ARGS__), 1)
/* ... for a malformed setting: exit code 2. */
#define usage_error(...) (log_error(__VA_ARGS__), 2)

/* Splits the queue list into names and keys. */
static int setup_queues(struct worker *w)
{
    char *list = strdup(w->cfg.queues), *save = NULL;
    if (!list)
        return -1;
    w->queue_names = calloc(WORKER_MAX_QUEUES, sizeof *w->queue_names);
    w->queue_keys = calloc(WORKER_MAX_QUEUES, sizeof *w->queue_keys);
    int rc = w->queue_names && w->queue_keys ? 0 : -1;
    for (char *q = strtok_r(list, ",", &save); q && rc == 0; q = strtok_r(NULL, ",", &save)) {
        if (!request_queue_valid(q) || w->nqueues == WORKER_MAX_QUEUES) {
            rc = -1;
            break;
        }
        w->queue_names[w->nqueues] = strdup(q);
        char key[KEYS_MAX];
        keys_queue(key, w->cfg.prefix, q);
        w->queue_keys[w->nqueues] = strdup(key);
        if (!w->queue_names[w->nqueues] || !w->queue_keys[w->nqueues++])
            rc = -1;
    }
    free(list);
    return rc == 0 && w->nqueues > 0 ? 0 : -1;
}

/* Finds the interpreter as execvp would, once, so each spawn is a plain
 * execve of an absolute path. */
static int resolve_python(struct worker *w)
{
    const char *p = w->cfg.python;
    if (strchr(p, '/'))
        return realpath(p, w->python) && access(w->python, X_OK) == 0 ? 0 : -1;
    const char *path = getenv("PATH");
    char *dirs = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
    int rc = -1;
    for (char *d = strtok_r(dirs, ":", &save); d && rc < 0; d = strtok_r(NULL, ":", &save)) {
        if (snprintf(w->python, sizeof w->python, "%s/%s", d, p) < (int)sizeof w->python &&
            access(w->python, X_OK) == 0)
            rc = 0;
    }
    free(dirs);
    return rc;
}

/* Returns 1 if this process has CAP_SETUID and CAP_SETGID in effect (a
 * non-root worker given them by systemd's AmbientCapabilities). */
static int can_switch_users(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return 0;
    char line[256];
    unsigned long long eff = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    fclose(f);
    return (eff >> 6 & 1) && (eff >> 7 & 1); /* CAP_SETGID 6, CAP_SETUID 7 */
}

/* Resolves ARUN_RUN_AS ("user" or "user:group") into the uid and gid the
 * children switch to. Returns 0, or -1 when unknown or not allowed. */
static int setup_run_as(struct worker *w)
{
    if (!w->cfg.run_as || !*w->cfg.run_as)
        return 0;
    char name[256];
    snprintf(name, sizeof name, "%s", w->cfg.run_as);
    char *group = strchr(name, ':');
    if (group)
        *group++ = '\0';
    struct passwd *pw = getpwnam(name);
    if (!pw)
        return -1;
    w->limits.uid = pw->pw_uid;
    w->limits.gid = pw->pw_gid;
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr)
            return -1;
        w->limits.gid = gr->gr_gid;
    }
    if (geteuid() != 0 && !can_switch_users() &&
        (geteuid() != w->limits.uid || getegid() != w->limits.gid))
        return -1;
    w->limits.run_as = 1;
    return 0;
}

/* The database scripts are told about: ARUN_SCRIPT_DB, else the record. */
static int setup_script_db(struct worker *w)
{
    if (!w->cfg.script_db || !*w->cfg.script_db) {
        memcpy(w->child_db_path, w->db_path, sizeof w->db_path);
        return 0;
    }
    return realpath(w->cfg.script_db, w->child_db_path) ? 0 : -1;
}

static void setup_id(struct worker *w)
{
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == ':' || *c == ' ')
            *c = '-';
    char rnd[37];
    if (request_new_id(rnd) < 0)
        snprintf(rnd, sizeof rnd, "%08lx", (unsigned long)time(NULL));
    snprintf(w->id, sizeof w->id, "%s:%d:%.8s", host, (int)getpid(), rnd);
    keys_processing(w->processing_key, w->cfg.prefix, w->id);
    keys_heartbeat(w->heartbeat_key, w->cfg.prefix, w->id);
    keys_workers(w->workers_key, w->cfg.prefix);
    keys_cancel_channel(w->cancel_channel, w->cfg.prefix);
    keys_watch_channel(w->watch_channel, w->cfg.prefix);
    keys_events(w->events_channel, w->cfg.prefix);
    keys_stream(w->stream_key, w->cfg.prefix);
    keys_dead(w->dead_key, w->cfg.prefix);
    keys_delivery(w->delivery_prefix, w->cfg.prefix, "");
    snprintf(w->result_ttl_text, sizeof w->result_ttl_text, "%lld", (long long)w->cfg.result_ttl);
    snprintf(w->stream_maxlen_text, sizeof w->stream_maxlen_text, "%lld",
             (long long)w->cfg.stream_maxlen);
}

/* Leaves once nothing is running or being recorded and no take is in
 * flight: then requeues what is left in the processing list. */
static void check_idle(struct worker *w)
{
    if (!w->stopping || w->finishing || w->take_busy)
        return;
    for (struct job *j = w->jobs; j; j = j->next) {
        /* deliveries wait for Redis, unless shutdown was forced */
        if (j->state != JOB_DELIVERING || (w->stopping < 2 && rconn_up(w->cmd)))
            return;
    }
    if (w->drain_timer)
        evtimer_del(w->drain_timer);
    if (!rconn_up(w->cmd)) {
        log_warn("redis unreachable at exit: this worker's unfinished requests stay in %s; "
                 "peers recover them once its heartbeat expires", w->processing_key);
        event_base_loopexit(w->base, NULL);
        return;
    }
    peers_requeue_own(w);
}

void worker_job_released(struct worker *w)
{
    take_next(w);
    check_idle(w);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    log_warn("drain deadline reached: killing %d running jobs; their requests go back to "
             "their queues", w->running);
    w->stopping = 2;
    job_abandon_all(w);
    w->take_busy = 0; /* a lost take reply must not hold the exit */
    check_idle(w);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    if (sig == SIGHUP) {
        if (whitelist_load(&w->wl, w->scripts_dir) < 0)
            log_error("reloading %s: %s (keeping the old whitelist)", w->scripts_dir,
                      strerror(errno));
        else
            log_info("whitelist reloaded: %zu scripts", w->wl.n);
        return;
    }
    if (sig == SIGCHLD) {
        run_reap();
        return;
    }
    if (w->stopping) {
        log_warn("second signal: stopping now");
        on_drain_deadline(-1, 0, w);
        return;
    }
    w->stopping = 1;
    log_info("signal %d: no new jobs; letting %d running jobs finish (up to %lld ms)", (int)sig,
             w->running, (long long)w->cfg.drain_timeout_ms);
    take_unblock(w);
    job_unpark_all(w); /* held ahead, never started: left listed for the requeue */
    int64_t ms = w->cfg.drain_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    w->drain_timer = evtimer_new(w->base, on_drain_deadline, w);
    evtimer_add(w->drain_timer, &tv);
    check_idle(w);
}

static void on_redeliver(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deliver_retry_all(arg);
}

static int setup(struct worker *w)
{
    char err[256];
    enum log_level level;
    if (log_level_parse(w->cfg.log_level, &level) < 0)
        return die("ARUN_LOG_LEVEL/--log-level: '%s' is not debug, info, warn or error",
                   w->cfg.log_level);
    log_set_level(level);
    if (w->cfg.concurrency == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        w->cfg.concurrency = n > 0 ? n : 1;
    }
    char shown[REDIS_URL_SHOWN_MAX];
    if (redis_url_parse(w->cfg.redis_url, &w->url, err) < 0)
        return die("ARUN_REDIS_URL/--redis-url '%s': %s",
                   redis_url_redact(w->cfg.redis_url, shown, sizeof shown), err);
    if (!request_queue_valid(w->cfg.prefix))
        return die("ARUN_PREFIX '%s': use 1-64 of A-Za-z0-9._:-", w->cfg.prefix);
    if (setup_queues(w) < 0)
        return die("ARUN_QUEUES/--queues '%s': names are 1-64 of A-Za-z0-9._:-, "
                   "comma-separated, at most 64", w->cfg.queues);
    if (resolve_python(w) < 0)
        return die("ARUN_PYTHON/--python '%s': not found or not executable", w->cfg.python);
    if (!realpath(w->cfg.scripts_dir, w->scripts_dir) ||
        whitelist_load(&w->wl, w->scripts_dir) < 0)
        return die("ARUN_SCRIPTS_DIR/--scripts-dir '%s': %s", w->cfg.scripts_dir, strerror(errno));
    if (!(w->store = store_open(w->cfg.db, (int)w->cfg.busy_timeout_ms, err)))
        return die("ARUN_DB/--db '%s': %s", w->cfg.db, err);
    if (!realpath(w->cfg.db, w->db_path))
        return die("ARUN_DB/--db '%s': %s", w->cfg.db, strerror(errno));
    if (launch_setup_env(w, w->cfg.child_env, err) < 0)
        return usage_error("ARUN_CHILD_ENV/--child-env: %s", err);
    if (w->cfg.memory_limit && parse_size_bytes(w->cfg.memory_limit, &w->limits.memory_bytes) < 0)
        return usage_error("ARUN_MEMORY_LIMIT/--memory-limit '%s': use bytes or a size with "
                           "K, M or G (512M, 2G)", w->cfg.memory_limit);
    w->limits.cpu_ms = w->cfg.cpu_limit_ms;
    w->limits.pids = w->cfg.pids_limit;
    if (setup_run_as(w) < 0)
        return usage_error("ARUN_RUN_AS/--run-as '%s': no such user or group, or this worker "
                           "(not root) cannot switch to it", w->cfg.run_as);
    if (setup_script_db(w) < 0)
        return die("ARUN_SCRIPT_DB/--script-db '%s': %s", w->cfg.script_db, strerror(errno));
    if (contain_setup() < 0)
        log_warn("cannot become a child subreaper (%s): processes that leave a job's group "
                 "are found through /proc only when a job runs again", strerror(errno));
    setup_id(w);
    return 0;
}

int main(int argc, char **argv)
{
    static struct worker w; /* static: zeroed, and lives as long as the loop */
    char err[256];
    w.cfg.concurrency = 0;
    int first_arg = argc;
    int started = config_start(options, NOPTIONS, &w.cfg, argc, argv, &first_arg, "arun-worker", usage);
    if (started >= 0)
        return started;
    if (first_arg < argc) {
        fprintf(stderr, "arun-worker: unexpected argument '%s'\n", argv[first_arg]);
        return 2;
    }
    int rc = setup(&w);
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    /* a script of the same user must not read our environment (the Redis
     * password) or memory: /proc/self/{environ,mem} become root's */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* the default clock: CLOCK_MONOTONIC_COARSE, read for free, and no
     * timerfd_settime before each epoll_wait (3 system calls a job with
     * EVENT_BASE_FLAG_PRECISE_TIMER); run.c makes up the coarse clock's
     * jiffy where a deadline must not be short */
    w.base = event_base_new();
    if (!w.base)
        return die("cannot create the event loop");
    w.sig_term = evsignal_new(w.base, SIGTERM, on_signal, &w);
    w.sig_int = evsignal_new(w.base, SIGINT, on_signal, &w);
    w.sig_hup = evsignal_new(w.base, SIGHUP, on_signal, &w);
    w.sig_chld = evsignal_new(w.base, SIGCHLD, on_signal, &w);
    w.redeliver_timer = evtimer_new(w.base, on_redeliver, &w);
    evsignal_add(w.sig_term, NULL);
    evsignal_add(w.sig_int, NULL);
    evsignal_add(w.sig_hup, NULL);
    evsignal_add(w.sig_chld, NULL);
    log_info("arun-worker %s starting: %zu scripts in %s, database %s", ARUN_VERSION, w.wl.n,
             w.scripts_dir, w.db_path);
    w.take_client_id = -1;
    w.cmd = rconn_new(w.base, &w.url, "cmd", peers_on_up, &w);
    w.take = rconn_new(w.base, &w.url, "take", take_on_up, &w);
    w.sub = rconn_new(w.base, &w.url, "sub", cancel_on_up, &w);
    if (!w.cmd || !w.take || !w.sub)
        return die("out of memory");
    if (warm_setup(&w, err) < 0)
        return die("ARUN_PRELOAD/--preload: %s", err);
    peers_start(&w);
    event_base_dispatch(w.base);

    /* teardown: callbacks still pending see NULL replies and may free jobs */
    rconn_free(w.sub);
    rconn_free(w.take);
    rconn_free(w.cmd);
    while (w.jobs)
        job_drop(w.jobs);
    contain_free(&w);
    warm_stop(&w);
    event_free(w.sig_term);
    event_free(w.sig_int);
    event_free(w.sig_hup);
    event_free(w.sig_chld);
    event_free(w.redeliver_timer);
    event_free(w.heartbeat_timer);
    if (w.drain_timer)
        event_free(w.drain_timer);
    event_base_free(w.base);
    store_close(w.store);
    whitelist_free(&w.wl);
    for (size_t i = 0; i < w.nqueues; i++) {
        free(w.queue_names[i]);
        free(w.queue_keys[i]);
    }
    free(w.queue_names);
    free(w.queue_keys);
    launch_free_env(&w);
    log_info("arun-worker stopped");
    return 0;
}
