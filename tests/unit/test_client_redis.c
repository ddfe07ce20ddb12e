/*
 * test_client_redis: the client against a real redis-server, started here
 * on a unix socket in a mkdtemp folder (no TCP port: nothing to collide
 * with), or the server of ARUN_TEST_REDIS_URL when CI gives one. Each test
 * uses a prefix of its own. Workers are played by hand (heartbeat keys,
 * processing lists), so each client call is checked against the exact
 * keys it must read or write: submit and reused ids in every place a job
 * can be, find, cancel (key, TTL, message), result, retry, workers and
 * queues, dead letters (numbering, requeue byte for byte, drop), waiting
 * (result first, event without result, timeout), and Redis unreachable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "client.h"
#include "keys.h"
#include "redis_url.h"

static char dir[64];
static char url[256];
static pid_t server = -1;
static char prefix[64];
static redisContext *raw; /* the test's own connection, to look behind the client */
static struct client *cl;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static redisContext *connect_raw(void)
{
    struct redis_url u;
    char err[128];
    struct timeval tv = {5, 0};
    if (redis_url_parse(url, &u, err) < 0)
        return NULL;
    return redis_url_connect(&u, &tv, err);
}

static int start_server(void **state)
{
    (void)state;
    const char *given = getenv("ARUN_TEST_REDIS_URL");
    if (given && *given) {
        snprintf(url, sizeof url, "%s", given);
        return 0;
    }
    strcpy(dir, "/tmp/arun-unit-client-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char sock[128], unixsocket[160];
    snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    snprintf(unixsocket, sizeof unixsocket, "%s", sock);
    server = fork();
    if (server == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", unixsocket,
               "--save", "", "--appendonly", "no", "--dir", dir, (char *)NULL);
        _exit(127);
    }
    snprintf(url, sizeof url, "unix://%s", sock);
    for (int i = 0; i < 1000; i++) { /* up to 10 s for the socket to answer */
        redisContext *c = connect_raw();
        if (c) {
            redisFree(c);
            return 0;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redis-server did not start\n");
    return -1;
}

static int stop_server(void **state)
{
    (void)state;
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    static int n;
    snprintf(prefix, sizeof prefix, "t%d-%d", (int)getpid(), ++n);
    char err[CLIENT_ERR_MAX];
    struct client_options o = {.redis_url = url, .prefix = prefix, .result_ttl_s = 600};
    cl = client_new(&o, err);
    raw = connect_raw();
    return cl && raw ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    client_free(cl);
    redisFree(raw);
    return 0;
}

/* Runs a command on the test's connection; the caller frees the reply. */
static redisReply *run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static long long run_int(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void test_submit_and_reuse(void **state)
{
    (void)state;
    char q[KEYS_MAX], id[REQUEST_ID_MAX + 1], id2[REQUEST_ID_MAX + 1];
    keys_queue(q, prefix, "default");
    char *args[] = {"--days", "30"};
    struct client_job job = {.script = "calibration", .args = args, .nargs = 2};
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id, NULL), CLIENT_OK);
    assert_int_equal(strlen(id), 36);
    redisReply *r = run("LINDEX %s 0", q);
    json_t *req = json_loads(r->str, 0, NULL);
    freeReplyObject(r);
    assert_string_equal(json_string_value(json_object_get(req, "id")), id);
    assert_string_equal(json_string_value(json_object_get(req, "trigger")), "manual");
    assert_int_equal(json_integer_value(json_object_get(req, "timeout_ms")), 300000);
    json_decref(req);

    /* the same id again: queued */
    job.id = id;
    job.script = "calibration.py";
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_ATTACHED);
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_UNIQUE, id2, NULL), CLIENT_CONFLICT);
    job.nargs = 1;
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_CONFLICT);
    assert_non_null(strstr(client_errstr(cl), "used by another job"));
    assert_int_equal(run_int("LLEN %s", q), 1);

    /* running: a worker took it */
    char p[KEYS_MAX], w[KEYS_MAX];
    keys_processing(p, prefix, "w1");
    keys_workers(w, prefix);
    freeReplyObject(run("LMOVE %s %s LEFT RIGHT", q, p));
    run_int("SADD %s w1", w);
    struct client_found f;
    assert_int_equal(client_find(cl, id, &f), CLIENT_OK);
    assert_int_equal(f.where, CLIENT_WHERE_RUNNING);
    assert_string_equal(f.place, "w1");
    assert_string_equal(f.status, "running");
    client_found_free(&f);
    job.nargs = 2;
    job.queue = "other"; /* the queue does not count */
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_ATTACHED);

    /* finished */
    char res[KEYS_MAX];
    keys_result(res, prefix, id);
    freeReplyObject(run("DEL %s", p));
    freeReplyObject(run("SET %s %s", res,
                        "{\"id\":\"x\",\"script\":\"calibration\",\"status\":\"error\","
                        "\"args\":[\"--days\",\"30\"]}"));
    assert_int_equal(client_find(cl, id, &f), CLIENT_OK);
    assert_int_equal(f.where, CLIENT_WHERE_FINISHED);
    assert_string_equal(f.status, "error");
    client_found_free(&f);
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_ATTACHED);
    job.script = "regime";
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_CONFLICT);

    /* an id no one has is pushed on the job's queue */
    job.id = "fresh-1";
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, NULL), CLIENT_OK);
    assert_string_equal(id2, "fresh-1");
    char oq[KEYS_MAX];
    keys_queue(oq, prefix, "other");
    assert_int_equal(run_int("LLEN %s", oq), 1);
    assert_int_equal(client_find(cl, "fresh-1", &f), CLIENT_OK);
    assert_int_equal(f.where, CLIENT_WHERE_QUEUED);
    assert_string_equal(f.place, "other");
    client_found_free(&f);
    assert_int_equal(client_find(cl, "nobody", &f), CLIENT_NOTFOUND);

    const char *field = NULL;
    job.queue = "a,,b";
    assert_int_equal(client_submit(cl, &job, CLIENT_ID_ATTACH, id2, &field), CLIENT_INVALID);
    assert_string_equal(field, "queue");
}

static void test_cancel_result_retry(void **state)
{
    (void)state;
    char ch[KEYS_MAX], key[KEYS_MAX];
    keys_cancel_channel(ch, prefix);
    keys_cancel(key, prefix, "job-9");
    redisContext *sub = connect_raw();
    redisReply *r = redisCommand(sub, "SUBSCRIBE %s", ch);
    freeReplyObject(r);
    assert_int_equal(client_cancel(cl, "job-9"), CLIENT_OK);
    assert_int_equal(redisGetReply(sub, (void **)&r), REDIS_OK);
    assert_string_equal(r->element[2]->str, "job-9");
    freeReplyObject(r);
    redisFree(sub);
    long long ttl = run_int("TTL %s", key);
    assert_true(ttl > 590 && ttl <= 600);
    r = run("GET %s", key);
    assert_true(atoll(r->str) > 1700000000000LL); /* unix ms */
    freeReplyObject(r);
    assert_int_equal(client_cancel(cl, "bad id"), CLIENT_INVALID);

    char *json = NULL;
    size_t len = 0;
    assert_int_equal(client_result(cl, "job-9", &json, &len), CLIENT_NOTFOUND);
    const char *rec = "{\"id\":\"job-9\",\"script\":\"regime\",\"status\":\"success\","
                      "\"args\":[\"--all\"],\"queue\":\"high\"}";
    char res[KEYS_MAX];
    keys_result(res, prefix, "job-9");
    freeReplyObject(run("SET %s %s", res, rec));
    assert_int_equal(client_result(cl, "job-9", &json, &len), CLIENT_OK);
    assert_string_equal(json, rec);
    assert_int_equal(len, strlen(rec));
    char id[REQUEST_ID_MAX + 1];
    assert_int_equal(client_retry(cl, json, len, id), CLIENT_OK);
    free(json);
    assert_string_not_equal(id, "job-9");
    char hq[KEYS_MAX];
    keys_queue(hq, prefix, "high");
    r = run("LINDEX %s 0", hq);
    json_t *req = json_loads(r->str, 0, NULL);
    freeReplyObject(r);
    assert_string_equal(json_string_value(json_object_get(req, "id")), id);
    assert_string_equal(json_string_value(json_object_get(req, "trigger")), "retry");
    assert_string_equal(json_string_value(json_object_get(req, "script")), "regime");
    assert_string_equal(json_string_value(json_array_get(json_object_get(req, "args"), 0)),
                        "--all");
    json_decref(req);
    assert_int_equal(client_retry(cl, "{}", 2, id), CLIENT_INVALID);
}

static void test_workers_queues(void **state)
{
    (void)state;
    char w[KEYS_MAX], hb[KEYS_MAX], p[KEYS_MAX], q[KEYS_MAX];
    keys_workers(w, prefix);
    keys_heartbeat(hb, prefix, "w1");
    keys_processing(p, prefix, "w1");
    keys_queue(q, prefix, "bulk");
    run_int("SADD %s w1 w2", w); /* w2 registered, heartbeat gone: dead */
    freeReplyObject(run("SET %s %s PX 60000", hb,
                        "{\"id\":\"w1\",\"pid\":7,\"queues\":\"high,default\","
                        "\"concurrency\":2,\"running\":1,\"at\":\"2026-11-28T09:15:02.123Z\"}"));
    run_int("RPUSH %s %s %s", p, "{\"id\":\"a1\",\"script\":\"x\"}", "not json");
    run_int("RPUSH %s %s %s %s", q, "1", "2", "3");
    struct client_worker *ws;
    size_t n;
    assert_int_equal(client_workers(cl, &ws, &n), CLIENT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ws[0].id, "w1");
    assert_int_equal(ws[0].concurrency, 2);
    assert_int_equal(ws[0].njobs, 2);
    assert_string_equal(ws[0].jobs[0], "a1");
    assert_string_equal(ws[0].jobs[1], "?");
    client_workers_free(ws, n);
    assert_int_equal(client_queue_takers(cl, "default"), 1);
    assert_int_equal(client_queue_takers(cl, "hgih"), 0);
    struct client_queue *qs;
    assert_int_equal(client_queues(cl, &qs, &n), CLIENT_OK);
    assert_int_equal(n, 3);
    assert_string_equal(qs[0].name, "bulk");
    assert_int_equal(qs[0].length, 3);
    assert_int_equal(qs[0].takers, 0);
    assert_string_equal(qs[1].name, "default");
    assert_int_equal(qs[1].length, 0);
    assert_int_equal(qs[1].takers, 1);
    assert_string_equal(qs[2].name, "high");
    free(qs);
}

static void test_dead(void **state)
{
    (void)state;
    char d[KEYS_MAX], q[KEYS_MAX], del[KEYS_MAX];
    keys_dead(d, prefix);
    keys_queue(q, prefix, "high");
    keys_delivery(del, prefix, "r1");
    /* workers LPUSH: the first pushed is the oldest, number 1 */
    run_int("LPUSH %s %s", d, "{\"reason\":\"too many deliveries\",\"request\":"
                              "\"{\\\"id\\\":\\\"r1\\\",\\\"script\\\":\\\"x\\\"}\","
                              "\"queue\":\"high\",\"worker\":\"w\",\"at\":\"t1\"}");
    /* "\xff{" is not UTF-8: kept as base64 "/3s=" */
    run_int("LPUSH %s %s", d, "{\"reason\":\"not JSON\",\"request\":\"\xef\xbf\xbd{\","
                              "\"request_base64\":\"/3s=\",\"at\":\"t2\"}");
    run_int("LPUSH %s %s", d, "{\"reason\":\"third\",\"request\":\"3\"}");
    freeReplyObject(run("SET %s 3", del));
    struct client_dead *dl;
    size_t n;
    assert_int_equal(client_dead_list(cl, 0, &dl, &n), CLIENT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(dl[0].number, 1);
    assert_string_equal(dl[0].reason, "too many deliveries");
    assert_string_equal(dl[0].queue, "high");
    assert_string_equal(dl[2].reason, "third");
    client_dead_free(dl, n);
    assert_int_equal(client_dead_list(cl, 1, &dl, &n), CLIENT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(dl[0].reason, "too many deliveries");
    client_dead_free(dl, n);

    char queue[REQUEST_QUEUE_MAX + 1];
    assert_int_equal(client_dead_requeue(cl, 1, queue), CLIENT_OK);
    assert_string_equal(queue, "high");
    assert_int_equal(run_int("EXISTS %s", del), 0); /* the delivery count starts again */
    redisReply *r = run("LINDEX %s 0", q);
    assert_string_equal(r->str, "{\"id\":\"r1\",\"script\":\"x\"}");
    freeReplyObject(r);
    /* numbers after it shift down by one: the base64 letter is 1 now */
    assert_int_equal(client_dead_requeue(cl, 1, queue), CLIENT_OK);
    assert_string_equal(queue, "default");
    char dq[KEYS_MAX];
    keys_queue(dq, prefix, "default");
    r = run("LINDEX %s 0", dq);
    assert_int_equal(r->len, 2);
    assert_memory_equal(r->str, "\xff{", 2);
    freeReplyObject(r);
    assert_int_equal(client_dead_drop(cl, 5), CLIENT_NOTFOUND);
    assert_int_equal(client_dead_drop(cl, 0), CLIENT_NOTFOUND);
    assert_int_equal(client_dead_drop(cl, 1), CLIENT_OK);
    assert_int_equal(run_int("LLEN %s", d), 0);
}

static void test_wait(void **state)
{
    (void)state;
    struct client_wait *w = client_wait_open(cl);
    assert_non_null(w);
    char *rec = NULL;
    assert_int_equal(client_wait_for(w, "j1", 50, &rec), CLIENT_TIMEOUT);
    /* the result is read first */
    char res[KEYS_MAX], ev[KEYS_MAX];
    keys_result(res, prefix, "j1");
    keys_events(ev, prefix);
    freeReplyObject(run("SET %s %s", res, "{\"id\":\"j1\",\"status\":\"success\"}"));
    assert_int_equal(client_wait_for(w, "j1", 1000, &rec), CLIENT_OK);
    assert_string_equal(rec, "{\"id\":\"j1\",\"status\":\"success\"}");
    free(rec);
    /* an event without a kept result: the event is the record; others' events are skipped */
    run_int("PUBLISH %s %s", ev, "{\"event\":\"job.completed\",\"id\":\"other\"}");
    run_int("PUBLISH %s %s", ev, "{\"event\":\"job.completed\",\"id\":\"j2\",\"status\":\"failed\"}");
    assert_int_equal(client_wait_for(w, "j2", 5000, &rec), CLIENT_OK);
    assert_non_null(strstr(rec, "\"failed\""));
    free(rec);
    client_wait_close(w);
}

static void test_unreachable(void **state)
{
    (void)state;
    char err[CLIENT_ERR_MAX];
    struct client_options o = {.redis_url = "unix:///nonexistent/redis.sock", .timeout_ms = 200};
    struct client *c = client_new(&o, err);
    assert_non_null(c);
    assert_int_equal(client_ping(c), CLIENT_REDIS);
    assert_non_null(strstr(client_errstr(c), "cannot reach Redis"));
    assert_int_equal(client_cancel(c, "x"), CLIENT_REDIS);
    char id[REQUEST_ID_MAX + 1];
    struct client_job job = {.script = "x"};
    assert_int_equal(client_submit(c, &job, CLIENT_ID_ATTACH, id, NULL), CLIENT_REDIS);
    assert_null(client_wait_open(c));
    client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_result_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workers_queues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
