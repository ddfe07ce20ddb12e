/*
 * test_job: worker/job.c's state machine driven through seams. job.c is
 * linked with fakes of everything it calls outside itself and common/
 * (the spawn, Redis, the subscriber, containment), the way beanstalkd's
 * tests swap falloc: the fake spawn succeeds or fails on demand and the
 * test decides when the child "exits"; Redis replies are answered by the
 * test. The store is a real SQLite file, locked by a second connection to
 * make it busy. Covered: the whole path of a successful job (its running
 * row once it has run WORKER_RUNNING_ROW_MS), a job shorter than that
 * (only its final row), a spawn failure, a busy store (retried, then on),
 * a cancel before the start, the delivery cap, a script off the whitelist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "contain.h"
#include "job.h"
#include "launch.h"
#include "live.h"
#include "orphans.h"
#include "run.h"

/* ---- the fakes -------------------------------------------------------- */

struct run {
    struct run_result res;
    run_done_fn *done;
    void *arg;
    enum run_cause stopped;
};

static struct {
    int spawn_fails;
    struct run *run;       /* the last run started */
    struct job *run_job;   /* whose it is */
    struct job *claiming;  /* claim_check was asked for it */
    struct job *naming;
    struct job *delivering;
    int released;
    int lease_valid;
} fake;

struct run *launch_job(struct worker *w, struct job *j, run_done_fn *done)
{
    (void)w;
    if (fake.spawn_fails) {
        errno = EAGAIN;
        return NULL;
    }
    struct run *r = calloc(1, sizeof *r);
    r->done = done;
    r->arg = j;
    fake.run = r;
    fake.run_job = j;
    return r;
}

/* The child "exits" with code (or is killed by sig when sig > 0). */
static void fake_exit(int code, int sig)
{
    struct run *r = fake.run;
    r->res.has_exit_code = sig == 0;
    r->res.exit_code = code;
    r->res.has_signal = sig > 0;
    r->res.signal = sig;
    r->res.duration_ms = 7;
    r->res.cpu_user_ms = 3;
    r->res.cpu_sys_ms = 1;
    r->res.max_rss_kb = 4096;
    r->res.cause = r->stopped;
    fake.run = NULL;
    r->done(r, r->arg);
}

const char *launch_limit_hit(const struct spawn_opts *l, const struct run_result *res,
                             const char *err)
{
    (void)l;
    (void)res;
    (void)err;
    return NULL;
}

const struct run_result *run_result(const struct run *r) { return &r->res; }
char *run_take_text(struct run *r, int is_err)
{
    (void)r;
    return strdup(is_err ? "" : "hello\n");
}
void run_free(struct run *r) { free(r); }
void run_stop(struct run *r, enum run_cause cause)
{
    if (!r->stopped)
        r->stopped = cause;
}
pid_t run_pid(const struct run *r)
{
    (void)r;
    return 4242;
}
struct live *live_start(struct worker *w, const char *id, struct run *run)
{
    (void)w;
    (void)id;
    (void)run;
    return NULL;
}
void live_flush(struct live *l) { (void)l; }
void live_free(struct live *l) { (void)l; }
int contain_sweep(struct worker *w)
{
    (void)w;
    return 0;
}
int orphans_kill(const char *job_id)
{
    (void)job_id;
    return 0;
}
void claim_name(struct job *j) { fake.naming = j; }
void claim_check(struct job *j) { fake.claiming = j; }
void deliver_send(struct job *j) { fake.delivering = j; }
int peers_lease_valid(struct worker *w)
{
    (void)w;
    return fake.lease_valid;
}
void worker_job_released(struct worker *w)
{
    (void)w;
    fake.released++;
}

/* ---- the fixture ------------------------------------------------------ */

static char dir[64], dbpath[128], scripts[128];
static struct worker w;

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof fake);
    fake.lease_valid = 1;
    memset(&w, 0, sizeof w);
    strcpy(dir, "/tmp/arun-unit-job-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/arun.db", dir);
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    mkdir(scripts, 0755);
    char path[256];
    snprintf(path, sizeof path, "%s/calibration.py", scripts);
    FILE *f = fopen(path, "w");
    fputs("print('hello')\n", f);
    fclose(f);
    char err[256];
    w.base = event_base_new();
    w.store = store_open(dbpath, 10, err);
    snprintf(w.scripts_dir, sizeof w.scripts_dir, "%s", scripts);
    snprintf(w.id, sizeof w.id, "host:1:test");
    w.cfg.prefix = "t";
    w.cfg.concurrency = 2;
    log_set_level(LOG_ERROR);
    return w.base && w.store && whitelist_load(&w.wl, scripts) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    while (w.jobs)
        job_drop(w.jobs);
    whitelist_free(&w.wl);
    store_close(w.store);
    event_base_free(w.base);
    return unit_rmtree(dir);
}

static struct job *arrive(const char *raw)
{
    job_arrive(&w, raw, strlen(raw), "default", 1);
    return w.jobs;
}

static void expect_no_row(const char *id)
{
    struct store_row r;
    assert_int_equal(store_get(w.store, id, &r), STORE_NOTFOUND);
}

/* Runs the loop until the running row's timer has fired. */
static void wait_running_row(void)
{
    struct timeval tv = {0, (WORKER_RUNNING_ROW_MS + 5) * 1000};
    event_base_loopexit(w.base, &tv);
    event_base_dispatch(w.base);
}

static void expect_row(const char *id, const char *status)
{
    struct store_row r;
    assert_int_equal(store_get(w.store, id, &r), STORE_OK);
    assert_string_equal(r.status, status);
    store_row_free(&r);
}

/* ---- the tests -------------------------------------------------------- */

static void test_success_path(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j1\",\"script\":\"calibration\"}");
    assert_int_equal(j->state, JOB_CLAIMING);
    assert_ptr_equal(fake.claiming, j);
    assert_int_equal(w.running, 1);
    job_claimed(j, 1, 0, 0, 0);
    assert_int_equal(j->state, JOB_RUNNING);
    assert_non_null(fake.run);
    expect_no_row("j1"); /* spawned first, */
    wait_running_row();
    expect_row("j1", "running"); /* then seen running */
    fake_exit(0, 0);
    assert_int_equal(j->state, JOB_DELIVERING);
    assert_ptr_equal(fake.delivering, j);
    assert_int_equal(w.running, 0);
    struct store_row r;
    assert_int_equal(store_get(w.store, "j1", &r), STORE_OK);
    assert_string_equal(r.status, "success");
    assert_string_equal(r.stdout_text, "hello\n");
    assert_int_equal(r.cpu_user_ms, 3);
    assert_int_equal(r.max_rss_kb, 4096);
    assert_true(r.started_at[0] != '\0');
    assert_true(r.completed_at[0] != '\0');
    store_row_free(&r);
    job_delivered(j);
    assert_null(w.jobs);
    assert_true(fake.released >= 2); /* the slot, then the job */
}

static void test_spawn_failure(void **state)
{
    (void)state;
    fake.spawn_fails = 1;
    struct job *j = arrive("{\"id\":\"j2\",\"script\":\"calibration\"}");
    job_claimed(j, 1, 0, 0, 0);
    assert_int_equal(j->state, JOB_DELIVERING);
    assert_int_equal(w.running, 0);
    struct store_row r;
    assert_int_equal(store_get(w.store, "j2", &r), STORE_OK);
    assert_string_equal(r.status, "failed");
    assert_non_null(strstr(r.stderr_text, "cannot start the script"));
    assert_false(r.has_exit_code);
    store_row_free(&r);
}

/* A job that ends before WORKER_RUNNING_ROW_MS is written once, final,
 * and the running row's timer does not overwrite it afterwards. */
static void test_short_job_gets_only_its_final_row(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j8\",\"script\":\"calibration\"}");
    job_claimed(j, 1, 0, 0, 0);
    assert_int_equal(j->state, JOB_RUNNING);
    expect_no_row("j8");
    fake_exit(0, 0);
    expect_row("j8", "success");
    wait_running_row();
    expect_row("j8", "success");
    job_delivered(j);
}

static void test_busy_store_is_retried(void **state)
{
    (void)state;
    sqlite3 *other;
    assert_int_equal(sqlite3_open(dbpath, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct job *j = arrive("{\"id\":\"j3\",\"script\":\"calibration\"}");
    job_claimed(j, 1, 0, 0, 0);
    assert_int_equal(j->state, JOB_RUNNING); /* reading is not blocked by a writer */
    wait_running_row();                      /* the running row: busy, retried */
    expect_no_row("j3");
    fake_exit(3, 0);
    assert_int_equal(j->state, JOB_RECORDING); /* the final row waits */
    event_base_loop(w.base, EVLOOP_ONCE);      /* a retry, still locked */
    assert_int_equal(j->state, JOB_RECORDING);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    event_base_loop(w.base, EVLOOP_ONCE);
    assert_int_equal(j->state, JOB_DELIVERING);
    expect_row("j3", "error");
}

/* ARUN_TAKE_AHEAD: a request taken while every slot is busy is checked
 * and held; a cancel ends it at once; a freed slot starts the oldest. */
static void test_taken_ahead_waits_for_a_slot(void **state)
{
    (void)state;
    w.cfg.concurrency = 1;
    w.cfg.take_ahead = 2;
    struct job *a = arrive("{\"id\":\"ta\",\"script\":\"calibration\"}");
    job_claimed(a, 1, 0, 0, 0);
    assert_int_equal(a->state, JOB_RUNNING);
    struct job *b = arrive("{\"id\":\"tb\",\"script\":\"calibration\"}");
    job_claimed(b, 1, 0, 0, 0);
    assert_int_equal(b->state, JOB_STARTING);
    assert_true(b->parked);
    assert_ptr_equal(fake.run_job, a); /* nothing else spawned */
    struct job *c = arrive("{\"id\":\"tc\",\"script\":\"calibration\"}");
    job_claimed(c, 1, 0, 0, 0);
    assert_true(c->parked);
    assert_int_equal(w.running, 3);
    assert_int_equal(w.started, 1);
    job_cancel(c); /* held ahead: ends now */
    assert_int_equal(c->state, JOB_DELIVERING);
    expect_row("tc", "cancelled");
    job_delivered(c);
    fake_exit(0, 0); /* a's slot frees: b, the oldest held, starts */
    assert_int_equal(b->state, JOB_RUNNING);
    assert_false(b->parked);
    assert_ptr_equal(fake.run_job, b);
    assert_int_equal(w.started, 1);
    job_delivered(a);
    fake_exit(0, 0);
    job_delivered(b);
    assert_int_equal(w.started, 0);
    assert_int_equal(w.running, 0);
    w.cfg.concurrency = 2;
    w.cfg.take_ahead = 0;
}

static void test_cancel_before_start(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j4\",\"script\":\"calibration\"}");
    job_claimed(j, 1, 1, 0, 0);
    assert_null(fake.run);
    assert_int_equal(j->state, JOB_DELIVERING);
    expect_row("j4", "cancelled");
}

static void test_cancel_while_running(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j5\",\"script\":\"calibration\"}");
    job_claimed(j, 1, 0, 0, 0);
    struct run *r = fake.run;
    job_cancel(j);
    assert_int_equal(r->stopped, RUN_CAUSE_CANCEL);
    fake_exit(0, 15);
    expect_row("j5", "cancelled");
}

static void test_delivery_cap(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j6\",\"script\":\"calibration\",\"attempt\":1}");
    job_claimed(j, 1, 0, 0, 3);
    assert_null(fake.run);
    struct store_row r;
    assert_int_equal(store_get(w.store, "j6", &r), STORE_OK);
    assert_string_equal(r.status, "failed");
    assert_int_equal(r.attempts, 3);
    store_row_free(&r);
}

static void test_not_whitelisted(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j7\",\"script\":\"../etc/passwd\"}");
    job_claimed(j, 1, 0, 0, 0);
    assert_null(fake.run);
    expect_row("j7", "rejected");
    j = arrive("{\"id\":\"j8\",\"script\":\"missing\"}");
    job_claimed(j, 1, 0, 0, 0);
    struct store_row r;
    assert_int_equal(store_get(w.store, "j8", &r), STORE_OK);
    assert_string_equal(r.status, "rejected");
    assert_null(strstr(r.stderr_text, dir)); /* never the folder's path */
    store_row_free(&r);
}

static void test_request_without_id_is_named_first(void **state)
{
    (void)state;
    struct job *j = arrive("{\"script\":\"calibration\"}");
    assert_int_equal(j->state, JOB_NAMING);
    assert_ptr_equal(fake.naming, j);
    assert_int_equal(strlen(j->req.id), 36);
    job_named(j, 1);
    assert_int_equal(j->state, JOB_CLAIMING);
    assert_non_null(strstr(j->raw, j->req.id));
}

static void test_lost_connection_while_claiming_forgets(void **state)
{
    (void)state;
    struct job *j = arrive("{\"id\":\"j9\",\"script\":\"calibration\"}");
    job_claimed(j, 0, 0, 0, 0);
    assert_null(w.jobs);
    assert_int_equal(w.running, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_success_path),        T(test_spawn_failure),
        T(test_busy_store_is_retried), T(test_short_job_gets_only_its_final_row),
        T(test_taken_ahead_waits_for_a_slot),
        T(test_cancel_before_start),
        T(test_cancel_while_running), T(test_delivery_cap),
        T(test_not_whitelisted),     T(test_request_without_id_is_named_first),
        T(test_lost_connection_while_claiming_forgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
