/*
 * client: everything a producer does over Redis, in one place, so that no
 * program formats a key or a request itself (arun-submit, arun-ctl,
 * arun-http, arun-mcp and arun-cron all call this).
 *
 *   submit   build and check a request, handle a reused id, RPUSH it
 *   find     where a job is: queued, running (held by a worker), finished
 *   wait     subscribe to P:events first, then wait for one job's event
 *   cancel   SET P:cancel:ID <unix ms> EX ttl, then PUBLISH P:cancel ID
 *   result   read P:result:ID
 *   workers  live workers (heartbeat JSON) and the jobs each one holds
 *   queues   every queue with requests or with a live worker taking from it
 *   dead     the dead letters: list, requeue one, drop one
 *
 * Connections. The client is blocking (hiredis redisContext): right for
 * the one-shot CLIs. Every call connects when it has no connection and
 * drops the connection when a command fails on it, so the next call
 * reconnects: a long-lived program may keep one client across Redis
 * restarts. Every command is bounded by the client's timeout (connect and
 * reply; default CLIENT_TIMEOUT_DEFAULT_MS).
 *
 * Event-loop programs (arun-http, arun-mcp). A call blocks for at most the
 * timeout when Redis is slow or down, and for one or two round trips on
 * loopback otherwise; calling submit, find, cancel, result, workers,
 * queues or dead from a libevent callback is acceptable with a short
 * timeout (set it with client_options.timeout_ms, e.g. 2000), and said so
 * here so that callers may rely on it. Waiting for a job must not block a
 * loop: such a program subscribes to the channel keys_events() names on
 * its own async connection, picks its job's event with client_event_id(),
 * and reads the record with client_result(). client_wait_* is for CLIs.
 *
 * Errors. Calls return a CLIENT_* code; on CLIENT_REDIS and CLIENT_INVALID
 * client_errstr() says what went wrong in one line without a password.
 * Nothing here exits or prints (the notice callback is the caller's).
 *
 * Ownership. Text returned through a char ** is malloc'd and the caller's
 * to free(); arrays of structs have their own *_free function.
 */
#ifndef ARUN_CLIENT_H
#define ARUN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

#define CLIENT_TIMEOUT_DEFAULT_MS 5000
#define CLIENT_RESULT_TTL_DEFAULT_S 86400 /* ARUN_RESULT_TTL's default */
#define CLIENT_ERR_MAX 256
#define CLIENT_WORKER_ID_MAX 127
#define CLIENT_QUEUES_MAX 1024            /* the comma string a worker publishes */
#define CLIENT_STATUS_MAX 15

/* Return codes. Negative: the call did not do what was asked. */
enum client_rc {
    CLIENT_OK = 0,
    CLIENT_NOTFOUND = 1,  /* no such job / dead letter */
    CLIENT_ATTACHED = 2,  /* submit: the id exists with the same script and args */
    CLIENT_CONFLICT = 3,  /* submit: the id is used by another job (or any job, see modes) */
    CLIENT_REDIS = -1,    /* Redis unreachable, or a command failed; see client_errstr */
    CLIENT_INVALID = -2,  /* an argument was refused; see client_errstr */
    CLIENT_TIMEOUT = -3,  /* client_wait_for: the deadline passed first */
    CLIENT_NOMEM = -4,
};

struct client;

struct client_options {
    const char *redis_url;   /* NULL: ARUN_REDIS_URL's default, redis://127.0.0.1:6379/0 */
    const char *prefix;      /* NULL: "arun" */
    int64_t timeout_ms;      /* connect and reply bound; <= 0: CLIENT_TIMEOUT_DEFAULT_MS */
    int64_t result_ttl_s;    /* EX of cancel keys (ARUN_RESULT_TTL); <= 0: the default */
    /* Called (from inside client_wait_for) with a one-line message when the
     * connection is lost and when it is back; NULL: silent. */
    void (*notice)(void *arg, const char *msg);
    void *notice_arg;
};

/* Creates a client (it does not connect yet: the first call does). Returns
 * NULL with a one-line reason in err when the URL or the prefix is
 * malformed (a usage error) or memory runs out. Free with client_free. */
struct client *client_new(const struct client_options *opts, char err[CLIENT_ERR_MAX]);

/* Closes the connections and frees cl; NULL is allowed. */
void client_free(struct client *cl);

/* The last error of cl, one line, "" when none. Valid until the next call. */
const char *client_errstr(const struct client *cl);

/* The prefix cl was made with (for keys_*() in event-loop programs). */
const char *client_prefix(const struct client *cl);

/* The Redis URL with any password shown as *** (redis://:***@host:port/db),
 * for messages. */
const char *client_url_shown(const struct client *cl);

/* Connects now if not connected and sends PING. CLIENT_OK or CLIENT_REDIS
 * (for health checks and for a CLI that wants to fail early). */
int client_ping(struct client *cl);

/* ---- requests ---------------------------------------------------------- */

/* A job to submit. Pointers are borrowed for the duration of the call. */
struct client_job {
    const char *id;          /* NULL: a new UUID */
    const char *script;      /* required; "x" and "x.py" are the same script */
    char *const *args;       /* nargs strings, may be NULL when nargs is 0 */
    size_t nargs;
    int64_t timeout_ms;      /* 0: REQUEST_TIMEOUT_DEFAULT_MS */
    const char *trigger;     /* NULL: "manual" */
    const char *queue;       /* NULL: "default" */
};

/* Checks a job against the request rules (id, script 1-128 bytes without
 * NUL, args valid UTF-8 and within REQUEST_MAX_*, timeout 1..86400000,
 * trigger 1-64, queue name). Pure. Returns 0, or -1 with a one-line
 * reason in err and, when one field is at fault, its request field name
 * ("id", "script", "args", "timeout_ms", "trigger", "queue") in *field
 * (a static string; field may be NULL). Whether the script is on the
 * whitelist is not checked here: only the worker's host knows for sure. */
int client_job_check(const struct client_job *job, char err[CLIENT_ERR_MAX],
                     const char **field);

/* What submit does when the job's id already exists in Redis (queued,
 * running, or finished with P:result:ID still kept). */
enum client_id_mode {
    /* same script (x == x.py) and args: CLIENT_ATTACHED, nothing pushed
     * (an idempotent retry, contract "Reused ids"); else CLIENT_CONFLICT */
    CLIENT_ID_ATTACH = 0,
    /* any existing job: CLIENT_CONFLICT (POST /api/analytics/jobs's 409) */
    CLIENT_ID_UNIQUE = 1,
};

/* Checks job, then pushes its request on P:queue:QUEUE (RPUSH), unless its
 * id is already known (see client_id_mode; a job without an id gets a new
 * UUID and is not looked up). The look-up and the push run as one Lua
 * script, so two producers racing with one id cannot both push. The id
 * used is written to id_out. Returns CLIENT_OK (pushed), CLIENT_ATTACHED,
 * CLIENT_CONFLICT, CLIENT_INVALID (client_job_check refused; *field as
 * there, field may be NULL) or CLIENT_REDIS.
 * Limit: a finished job whose P:result:ID has expired is not found (Redis
 * no longer knows it); programs with the database check history too. */
int client_submit(struct client *cl, const struct client_job *job, enum client_id_mode mode,
                  char id_out[REQUEST_ID_MAX + 1], const char **field);

/* Pure: 1 if the request or record JSON raw[0..len) names the same script
 * (with or without ".py") and the same args as script/args, 0 if not, -1
 * if raw is not a JSON object with a string "script". Other fields do not
 * count. */
int client_same_job(const char *raw, size_t len, const char *script, char *const *args,
                    size_t nargs);

/* Pure: 1 if two script names are the same script ("ok" == "ok.py"). */
int client_script_equal(const char *a, const char *b);

/* Pure: writes the "id" of a request or event JSON into out. Returns 0, or
 * -1 when there is no valid id (not JSON, no string id, not 1-64 of the
 * id characters). */
int client_request_id(const char *raw, size_t len, char out[REQUEST_ID_MAX + 1]);

/* Pure: the id of a message published on P:events, as client_request_id
 * (an alias kept for readability at call sites that handle events). */
int client_event_id(const char *msg, size_t len, char out[REQUEST_ID_MAX + 1]);

/* ---- finding, results, cancelling ---------------------------------------- */

enum client_where {
    CLIENT_WHERE_QUEUED = 1,   /* on P:queue:NAME; place = NAME */
    CLIENT_WHERE_RUNNING = 2,  /* on P:processing:WORKER; place = WORKER */
    CLIENT_WHERE_FINISHED = 3, /* P:result:ID exists; place = "" */
};

struct client_found {
    enum client_where where;
    char place[CLIENT_WORKER_ID_MAX + 1];
    char status[CLIENT_STATUS_MAX + 1]; /* "queued", "running", or the final status */
    char *raw;  /* the request JSON (queued, running) or the record (finished); owned */
    size_t len;
};

/* Looks for job id in Redis: its result, every queue (SCAN P:queue:*), and
 * the processing list of every registered worker. Returns CLIENT_OK with
 * *out filled (free with client_found_free), CLIENT_NOTFOUND, or
 * CLIENT_REDIS. Cost: the lists are scanned inside Redis (one Lua call),
 * O(requests queued); fine for a CLI and an API call, not for a hot loop. */
int client_find(struct client *cl, const char *id, struct client_found *out);

/* Frees out->raw and sets it to NULL. */
void client_found_free(struct client_found *out);

/* Reads P:result:ID. Returns CLIENT_OK with the record JSON in *json (the
 * caller frees; *len its length when len is not NULL), CLIENT_NOTFOUND
 * when absent (not finished, or expired), or CLIENT_REDIS. */
int client_result(struct client *cl, const char *id, char **json, size_t *len);

/* Records a cancel request for id (contract "Cancelling a job"): SET
 * P:cancel:ID <unix ms> EX result_ttl_s, then PUBLISH P:cancel ID, in one
 * MULTI. Whatever the job's state (a finished job is left as it was; an id
 * no one holds yet is cancelled when it is pushed). Returns CLIENT_OK once
 * recorded, CLIENT_INVALID for a malformed id, or CLIENT_REDIS. */
int client_cancel(struct client *cl, const char *id);

/* Pushes a finished job's request again under a new id with trigger
 * "retry": script, args and queue from record (a result record or a
 * history row, JSON), default timeout unless the record has "timeout_ms".
 * Returns CLIENT_OK with the new id in id_out, CLIENT_INVALID when record
 * lacks a script, or CLIENT_REDIS. */
int client_retry(struct client *cl, const char *record, size_t len,
                 char id_out[REQUEST_ID_MAX + 1]);

/* ---- waiting (blocking; for CLIs) ------------------------------------------ */

struct client_wait;

/* Subscribes to P:events on a connection of its own. Call it BEFORE
 * client_submit, so the event cannot be missed. Returns NULL on failure
 * with the reason in client_errstr(cl). cl must outlive the waiter. */
struct client_wait *client_wait_open(struct client *cl);

/* Waits until job id has finished and returns its record in *record (JSON
 * text the caller frees): P:result:ID, read on the job's event and on
 * every (re)subscription; if the event came but the result is not kept,
 * the event itself. timeout_ms < 0 waits for ever. When Redis goes away it
 * reconnects and resubscribes every second (calling the notice callback
 * once when lost and once when back) until the deadline. Returns CLIENT_OK,
 * CLIENT_TIMEOUT, or CLIENT_NOMEM. */
int client_wait_for(struct client_wait *w, const char *id, int64_t timeout_ms, char **record);

/* Unsubscribes and frees w; NULL is allowed. */
void client_wait_close(struct client_wait *w);

/* ---- workers and queues ------------------------------------------------------ */

/* A live worker: its heartbeat JSON {id, pid, queues, concurrency,
 * running, at} and the ids of the requests in its processing list. */
struct client_worker {
    char id[CLIENT_WORKER_ID_MAX + 1];
    long long pid;                       /* 0 if not published */
    char queues[CLIENT_QUEUES_MAX + 1];  /* comma-separated, highest priority first */
    long long concurrency;
    long long running;
    char at[32];                         /* time of the heartbeat, "" if absent */
    char **jobs;                         /* ids held; requests without an id show as "?" */
    size_t njobs;
};

/* Pure: fills *out (jobs left empty) from a heartbeat JSON. Returns 0, or
 * -1 when it is not a JSON object with a string "id". */
int client_worker_parse(const char *json, size_t len, struct client_worker *out);

/* Pure: 1 if queue is one of w->queues (exact name), else 0. */
int client_worker_takes(const struct client_worker *w, const char *queue);

/* Lists the live workers (members of P:workers whose P:worker:ID heartbeat
 * exists), sorted by id, each with the jobs it holds. Returns CLIENT_OK
 * with *out (free with client_workers_free) and *n, or CLIENT_REDIS. */
int client_workers(struct client *cl, struct client_worker **out, size_t *n);

/* Frees an array from client_workers; NULL is allowed. */
void client_workers_free(struct client_worker *w, size_t n);

/* Returns how many live workers take from queue (>= 0), or CLIENT_REDIS. */
int client_queue_takers(struct client *cl, const char *queue);

struct client_queue {
    char name[REQUEST_QUEUE_MAX + 1];
    long long length;
    int takers;  /* live workers taking from it */
};

/* Lists every queue that has requests (SCAN P:queue:*) or that a live
 * worker takes from (length 0 then), sorted by name. Returns CLIENT_OK with
 * *out (the caller free()s the array) and *n, or CLIENT_REDIS. */
int client_queues(struct client *cl, struct client_queue **out, size_t *n);

/* ---- dead letters --------------------------------------------------------------- */

/* One entry of P:dead. Entries are numbered from 1 = the oldest: workers
 * add at the head, so a number stays the same entry while newer letters
 * arrive (only requeue and drop renumber the ones after it). */
struct client_dead {
    long long number;
    char *raw;       /* the envelope as stored (owned) */
    char *request;   /* the refused request text (owned; "" if absent) */
    char *reason;    /* owned; "" if absent */
    char queue[REQUEST_QUEUE_MAX + 1];  /* where it was taken from, "" if unknown */
    char at[32];
};

/* Pure: fills *out (number left as is) from an envelope (common/dead.h's
 * format). Returns 0 (an entry that is not such an envelope is kept whole
 * as request, reason ""), or -1 when out of memory. */
int client_dead_parse(const char *raw, size_t len, struct client_dead *out);

/* Lists the dead letters, oldest first, at most limit (<= 0: all). Returns
 * CLIENT_OK with *out (free with client_dead_free) and *n, or CLIENT_REDIS. */
int client_dead_list(struct client *cl, long long limit, struct client_dead **out, size_t *n);

/* Frees an array from client_dead_list; NULL is allowed. */
void client_dead_free(struct client_dead *d, size_t n);

/* Puts dead letter number back: its request (byte for byte, from
 * request_base64 when there is one) is pushed on its queue ("default" when
 * the envelope names none) and the letter removed, atomically. Returns
 * CLIENT_OK (the queue in queue_out, which may be NULL), CLIENT_NOTFOUND
 * (no such number), or CLIENT_REDIS. */
int client_dead_requeue(struct client *cl, long long number,
                        char queue_out[REQUEST_QUEUE_MAX + 1]);

/* Removes dead letter number. Returns CLIENT_OK, CLIENT_NOTFOUND, or
 * CLIENT_REDIS. */
int client_dead_drop(struct client *cl, long long number);

#endif
