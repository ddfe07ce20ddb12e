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

#include "keys.h"
#include "redis_url.h"
#include "request.h"
#include "spawn.h"
#include "store.h"
#include "whitelist.h"

#define WORKER_MAX_ATTEMPTS 3          /* deliveries before a job is failed */
#define WORKER_TAKE_WAIT_ONE_S "5"     /* BLMOVE timeout with a single queue */
#define WORKER_TAKE_WAIT_MANY_S "0.5"  /* ... and with several: the latency bound
                                          for a job on a lower-priority queue */
#define WORKER_RETRY_MS 100            /* retry of a step when SQLite is busy */
#define WORKER_RUNNING_ROW_MS 20       /* a job's running row is written once it has
                                        * run this long (a shorter job gets only its
                                        * final row: one commit instead of two) */
#define WORKER_STORE_GIVE_UP_MS 3000   /* a failing (not busy) store, before the
                                          job ends failed and is dead-lettered */
#define WORKER_MAX_QUEUES 64

struct event;
struct event_base;
struct rconn;
struct job;
struct warm;

struct worker_settings {
    const char *redis_url;
    const char *prefix;
    const char *db;
    const char *scripts_dir;
    const char *python;
    const char *queues;
    const char *log_level;
    int64_t concurrency;
    int64_t take_ahead;        /* requests held beyond the running ones (0: none) */
    int64_t kill_grace_ms;
    int64_t max_output;
    int64_t result_ttl;
    int64_t drain_timeout_ms;
    int64_t heartbeat_ttl_ms;
    int64_t busy_timeout_ms;
    const char *child_env;     /* extra variables scripts get */
    const char *memory_limit;  /* size text; parsed into limits */
    int64_t cpu_limit_ms;
    int64_t pids_limit;
    int64_t stream_maxlen;
    const char *run_as;        /* USER[:GROUP] scripts run as, or NULL */
    const char *script_db;     /* the database scripts get as ARUN_DB, or NULL */
    const char *preload;       /* modules the warm interpreter imports, or NULL */
};

struct worker {
    struct worker_settings cfg;
    struct redis_url url;
    struct event_base *base;
    char id[128];                        /* host:pid:random */
    char processing_key[KEYS_MAX];       /* P:processing:ID */
    char heartbeat_key[KEYS_MAX];        /* P:worker:ID */
    char workers_key[KEYS_MAX];          /* P:workers */
    char cancel_channel[KEYS_MAX];       /* P:cancel */
    char watch_channel[KEYS_MAX];        /* P:watch */
    char events_channel[KEYS_MAX];       /* P:events */
    char stream_key[KEYS_MAX];           /* P:stream:events */
    char dead_key[KEYS_MAX];             /* P:dead */
    char delivery_prefix[KEYS_MAX];      /* P:delivery: (+ SHA1 of a request) */
    char result_ttl_text[24];            /* cfg.result_ttl, as the acknowledgement sends it */
    char stream_maxlen_text[24];         /* cfg.stream_maxlen, likewise */
    char **queue_names;                  /* nqueues, priority order */
    char **queue_keys;                   /* P:queue:NAME */
    size_t nqueues;
    char python[PATH_MAX];               /* absolute */
    char scripts_dir[PATH_MAX];          /* absolute */
    char db_path[PATH_MAX];              /* absolute: the record */
    char child_db_path[PATH_MAX];        /* absolute: the child's ARUN_DB */
    char **env_base;                     /* what every script's environment has */
    size_t env_count;
    struct spawn_opts limits;            /* per-job limits (rlimits) */
    struct whitelist wl;
    struct store *store;
    struct rconn *take;
    struct rconn *cmd;
    struct rconn *sub;                   /* subscribed: cancels and watchers */

    struct job *jobs;                    /* every job held, any state */
    int running;                         /* jobs holding a slot (not yet finished) */
    int started;                         /* jobs with a run (at most concurrency) */
    int take_busy;                       /* a take or reconcile is in flight */
    long long take_client_id;            /* CLIENT ID of the take connection, or -1 */
    int heartbeat_ok;                    /* the heartbeat was written since start */
    int64_t cmd_up_since;                /* monotonic ms of the last cmd connect */
    int64_t lease_until_ms;              /* monotonic: our heartbeat surely exists until */
    int beats_inflight;                  /* heartbeats awaiting their reply */
    int started_recovery;                /* the start-up look at peers was sent */
    int redis_checked;                   /* the Redis settings warning was done */
    int stopping;                        /* 1 draining, 2 forced */
    int finishing;                       /* the final requeue was sent */

    struct event *sig_term, *sig_int, *sig_hup, *sig_chld;
    struct event *heartbeat_timer;
    struct event *drain_timer;
    struct event *redeliver_timer;
    struct event *contain_timer;         /* contain.c's follow-up sweeps */
    struct warm *warm;                   /* the warm interpreter, or NULL */
    int contain_resweeps;
};

/* take.c: moves a request from a queue into the processing list while a
 * slot is free and the worker is not stopping (the reply arrives as
 * job_arrive); does nothing if a take is already in flight. */
void take_next(struct worker *w);
/* take.c: the take connection's "up" callback: adopts what the processing
 * list holds that no job holds (a take whose reply was lost), then takes. */
void take_on_up(struct rconn *c, void *arg);
/* take.c: makes a blocked take return at once (shutdown). */
void take_unblock(struct worker *w);

/* peers.c: the cmd connection's "up" callback: heartbeat, the Redis
 * settings check, a look at peers, re-sent acknowledgements. */
void peers_on_up(struct rconn *c, void *arg);
/* peers.c: starts the heartbeat tick (every ARUN_HEARTBEAT_TTL / 3). */
void peers_start(struct worker *w);
/* peers.c: puts this worker's unfinished requests back on their queues
 * without counting a delivery, then ends the loop (shutdown). */
void peers_requeue_own(struct worker *w);
/* peers.c: returns 1 while this worker's heartbeat surely still exists
 * (so no peer can have taken over its requests); else sends a heartbeat
 * at once and returns 0: the caller tries again shortly. */
int peers_lease_valid(struct worker *w);

/* worker.c: called whenever a job gives back its slot or is freed: takes
 * the next request, or finishes the shutdown once nothing is left. */
void worker_job_released(struct worker *w);

#endif
