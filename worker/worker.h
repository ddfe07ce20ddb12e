/*
 * worker.h: the state of one arun-worker process, shared by the files of
 * worker/. One libevent loop drives everything: two Redis connections
 * ("take" for the blocking pop, "cmd" for the rest, since a connection
 * blocked in BLMOVE can do nothing else), child pipes, timers and signals.
 *
 * The processing list is the truth about what this worker holds. A request
 * is in memory only as a copy of an element of that list; any doubt before
 * a job starts is settled by forgetting the copy and adopting the list's
 * element again (take.c).
 */
#ifndef ARUN_WORKER_H
#define ARUN_WORKER_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "redis_url.h"
#include "request.h"
#include "store.h"
#include "whitelist.h"

#define WORKER_MAX_ATTEMPTS 3          /* deliveries before a job is failed */
#define WORKER_TAKE_WAIT_ONE_S "5"     /* BLMOVE timeout with a single queue */
#define WORKER_TAKE_WAIT_MANY_S "0.5"  /* ... and with several: the latency bound
                                          for a job on a lower-priority queue */
#define WORKER_RETRY_MS 100            /* retry of a step when SQLite is busy */
#define WORKER_LINGER_MS 2000          /* pipes kept open after the child exits */
#define WORKER_KEY_MAX 512
#define WORKER_MAX_QUEUES 64

struct event;
struct event_base;
struct rconn;
struct job;

struct worker_settings {
    const char *redis_url;
    const char *prefix;
    const char *db;
    const char *scripts_dir;
    const char *python;
    const char *queues;
    const char *log_level;
    int64_t concurrency;
    int64_t kill_grace_ms;
    int64_t max_output;
    int64_t result_ttl;
    int64_t drain_timeout_ms;
    int64_t heartbeat_ttl_ms;
    int64_t busy_timeout_ms;
};

struct worker {
    struct worker_settings cfg;
    struct redis_url url;
    struct event_base *base;
    char id[128];                        /* host:pid:random */
    char processing_key[WORKER_KEY_MAX]; /* P:processing:ID */
    char heartbeat_key[WORKER_KEY_MAX];  /* P:worker:ID */
    char events_key[WORKER_KEY_MAX];     /* P:events */
    char dead_key[WORKER_KEY_MAX];       /* P:dead */
    char **queue_names;                  /* nqueues, priority order */
    char **queue_keys;                   /* P:queue:NAME */
    size_t nqueues;
    char python[PATH_MAX];               /* absolute */
    char scripts_dir[PATH_MAX];          /* absolute */
    char db_path[PATH_MAX];              /* absolute, for the child's ARUN_DB */
    char **env_base;                     /* environ minus the per-job variables */
    size_t env_count;
    struct whitelist wl;
    struct store *store;
    struct rconn *take;
    struct rconn *cmd;

    struct job *jobs;                    /* every job held, any state */
    int running;                         /* jobs holding a slot (not yet finished) */
    int take_busy;                       /* a take or reconcile is in flight */
    long long take_client_id;            /* CLIENT ID of the take connection, or -1 */
    int heartbeat_ok;                    /* the heartbeat was written since start */
    int64_t cmd_up_since;                /* monotonic ms of the last cmd connect */
    int started_recovery;                /* the start-up look at peers was sent */
    int redis_checked;                   /* the Redis settings warning was done */
    int stopping;                        /* 1 draining, 2 forced */
    int finishing;                       /* the final requeue was sent */

    struct event *sig_term, *sig_int, *sig_hup, *sig_chld;
    struct event *heartbeat_timer;
    struct event *drain_timer;
    struct event *redeliver_timer;
};

/* take.c: take requests while slots are free; reconcile on reconnect. */
void take_on_up(struct rconn *c, void *arg);
void take_next(struct worker *w);
void take_unblock(struct worker *w);

/* job.c: a taken request from arrival to acknowledgement. */
void job_arrive(struct worker *w, const char *raw, size_t len, const char *queue);
int job_holds(const struct worker *w, const char *raw, size_t len);
void job_redeliver_all(struct worker *w);
void job_abandon_all(struct worker *w);
void job_reap(struct worker *w);

/* peers.c: heartbeat, recovery of dead workers' requests, shutdown. */
void peers_on_up(struct rconn *c, void *arg);
void peers_start(struct worker *w);
void peers_requeue_own(struct worker *w);

/* worker.c */
void worker_check_idle(struct worker *w);

#endif
