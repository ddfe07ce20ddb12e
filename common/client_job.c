/*
 * client_job: requests as a producer sees them (client.h): checking a job,
 * pushing it, the contract's "Reused ids" (an id that exists attaches when
 * it is the same job and is refused otherwise), finding a job in Redis,
 * and pushing a finished job again (retry).
 */
#include "client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "utf8.h"

/* Looks for ARGV[1] in the result key, then in every list of KEYS[2..];
 * when it is nowhere and ARGV[2] is not empty, pushes ARGV[2] on KEYS[2].
 * One script, so the look-up and the push are one step: two producers
 * with the same id cannot both push, and a request moving from a queue to
 * a processing list (BLMOVE, atomic too) is seen in one of them. Lists
 * are read in slices so a long queue does not build one huge reply; the
 * plain-text find skips the JSON decode of requests that cannot match. */
static const char FIND_LUA[] =
    "local r = redis.call('GET', KEYS[1])\n"
    "if r then return {'result', KEYS[1], r} end\n"
    "local id = ARGV[1]\n"
    "for i = 2, #KEYS do\n"
    "  local len = redis.call('LLEN', KEYS[i])\n"
    "  local s = 0\n"
    "  while s < len do\n"
    "    local items = redis.call('LRANGE', KEYS[i], s, s + 999)\n"
    "    for _, raw in ipairs(items) do\n"
    "      if string.find(raw, id, 1, true) then\n"
    "        local ok, o = pcall(cjson.decode, raw)\n"
    "        if ok and type(o) == 'table' and o.id == id then\n"
    "          return {'list', KEYS[i], raw}\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    s = s + 1000\n"
    "  end\n"
    "end\n"
    "if ARGV[2] ~= '' then\n"
    "  return {'pushed', KEYS[2], tostring(redis.call('RPUSH', KEYS[2], ARGV[2]))}\n"
    "end\n"
    "return false\n";

static int text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n >= 1 && n <= max && utf8_valid(s, n);
}

int client_job_check(const struct client_job *job, char err[CLIENT_ERR_MAX], const char **field)
{
    const char *f = NULL;
    if (job->id && !request_id_valid(job->id)) {
        f = "id";
        snprintf(err, CLIENT_ERR_MAX, "id must be 1-%d of A-Za-z0-9._:-", REQUEST_ID_MAX);
    } else if (!job->script || !text_ok(job->script, REQUEST_SCRIPT_MAX)) {
        f = "script";
        snprintf(err, CLIENT_ERR_MAX, "script must be 1-%d bytes of UTF-8", REQUEST_SCRIPT_MAX);
    } else if (job->nargs > REQUEST_MAX_ARGS) {
        f = "args";
        snprintf(err, CLIENT_ERR_MAX, "at most %d args", REQUEST_MAX_ARGS);
    } else if (job->timeout_ms != 0 && (job->timeout_ms < REQUEST_TIMEOUT_MIN_MS ||
                                        job->timeout_ms > REQUEST_TIMEOUT_MAX_MS)) {
        f = "timeout_ms";
        snprintf(err, CLIENT_ERR_MAX, "timeout_ms must be %d-%d (24h)", REQUEST_TIMEOUT_MIN_MS,
                 REQUEST_TIMEOUT_MAX_MS);
    } else if (job->trigger && !text_ok(job->trigger, REQUEST_TRIGGER_MAX)) {
        f = "trigger";
        snprintf(err, CLIENT_ERR_MAX, "trigger must be 1-%d bytes of UTF-8", REQUEST_TRIGGER_MAX);
    } else if (job->queue && !request_queue_valid(job->queue)) {
        f = "queue";
        snprintf(err, CLIENT_ERR_MAX, "queue must be 1-%d of A-Za-z0-9._:-", REQUEST_QUEUE_MAX);
    }
    for (size_t i = 0; !f && i < job->nargs; i++) {
        size_t n = strlen(job->args[i]);
        if (n > REQUEST_MAX_ARG_BYTES || !utf8_valid(job->args[i], n)) {
            f = "args";
            snprintf(err, CLIENT_ERR_MAX, "argument %zu must be at most %d bytes of UTF-8", i + 1,
                     REQUEST_MAX_ARG_BYTES);
        }
    }
    if (field)
        *field = f;
    return f ? -1 : 0;
}

int client_script_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= 3 && strcmp(a + la - 3, ".py") == 0)
        la -= 3;
    if (lb >= 3 && strcmp(b + lb - 3, ".py") == 0)
        lb -= 3;
    return la == lb && memcmp(a, b, la) == 0;
}

int client_same_job(const char *raw, size_t len, const char *script, char *const *args,
                    size_t nargs)
{
    json_t *o = json_loadb(raw, len, JSON_ALLOW_NUL, NULL);
    const char *s = json_string_value(json_object_get(o, "script"));
    if (!json_is_object(o) || !s) {
        json_decref(o);
        return -1;
    }
    int same = client_script_equal(s, script);
    json_t *a = json_object_get(o, "args");
    if (!a || json_is_null(a)) {
        same = same && nargs == 0;
    } else if (!json_is_array(a) || json_array_size(a) != nargs) {
        same = 0;
    } else {
        for (size_t i = 0; same && i < nargs; i++) {
            json_t *v = json_array_get(a, i);
            same = json_is_string(v) && json_string_length(v) == strlen(args[i]) &&
                   memcmp(json_string_value(v), args[i], json_string_length(v)) == 0;
        }
    }
    json_decref(o);
    return same;
}

int client_request_id(const char *raw, size_t len, char out[REQUEST_ID_MAX + 1])
{
    json_t *o = json_loadb(raw, len, 0, NULL);
    json_t *id = json_object_get(o, "id");
    int rc = -1;
    if (json_is_string(id) && json_string_length(id) == strlen(json_string_value(id)) &&
        request_id_valid(json_string_value(id))) {
        strcpy(out, json_string_value(id));
        rc = 0;
    }
    json_decref(o);
    return rc;
}

int client_event_id(const char *msg, size_t len, char out[REQUEST_ID_MAX + 1])
{
    return client_request_id(msg, len, out);
}

void client_found_free(struct client_found *f)
{
    free(f->raw);
    f->raw = NULL;
}

/* Runs FIND_LUA for id with push (NULL: only look) going to queue. Fills
 * *found and returns CLIENT_OK when the id exists, CLIENT_NOTFOUND when it
 * did not (and push, if any, was pushed), or an error. */
static int find_or_push(struct client *cl, const char *id, const char *queue, const char *push,
                        struct client_found *found)
{
    char **queues = NULL;
    size_t nq = 0, nw = 0, nkeys = 0;
    char (*keys)[KEYS_MAX] = NULL;
    const char **keyv = NULL;
    redisReply *r = NULL;
    int rc = client_scan(cl, "queue", &queues, &nq);
    if (rc != CLIENT_OK)
        return rc;
    const char *argv[] = {"SMEMBERS", NULL};
    char wkey[KEYS_MAX];
    keys_workers(wkey, cl->prefix);
    argv[1] = wkey;
    redisReply *m = client_argv(cl, 2, argv, NULL);
    if (!m) {
        rc = CLIENT_REDIS;
        goto done;
    }
    nw = m->type == REDIS_REPLY_ARRAY ? m->elements : 0;
    keys = calloc(nq + nw + 2, sizeof *keys);
    keyv = calloc(nq + nw + 2, sizeof *keyv);
    if (!keys || !keyv) {
        rc = client_fail(cl, CLIENT_NOMEM, "out of memory");
        goto done;
    }
    keys_result(keys[nkeys++], cl->prefix, id);
    if (queue)
        keys_queue(keys[nkeys++], cl->prefix, queue);
    for (size_t i = 0; i < nq; i++)
        if (!queue || strcmp(queues[i], queue) != 0)
            if (keys_queue(keys[nkeys], cl->prefix, queues[i]) == 0)
                nkeys++;
    for (size_t i = 0; i < nw; i++)
        if (m->element[i]->type == REDIS_REPLY_STRING &&
            keys_processing(keys[nkeys], cl->prefix, m->element[i]->str) == 0)
            nkeys++;
    for (size_t i = 0; i < nkeys; i++)
        keyv[i] = keys[i];
    const char *args[] = {id, push ? push : ""};
    r = client_eval(cl, FIND_LUA, (int)nkeys, keyv, 2, args, NULL);
    if (!r) {
        rc = CLIENT_REDIS;
        goto done;
    }
    rc = CLIENT_NOTFOUND;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || strcmp(r->element[0]->str, "pushed") == 0)
        goto done;
    memset(found, 0, sizeof *found);
    const char *key = r->element[1]->str, *name;
    if (strcmp(r->element[0]->str, "result") == 0) {
        found->where = CLIENT_WHERE_FINISHED;
        json_t *rec = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
        const char *st = json_string_value(json_object_get(rec, "status"));
        snprintf(found->status, sizeof found->status, "%s", st ? st : "finished");
        json_decref(rec);
    } else if ((name = keys_suffix(key, cl->prefix, "queue"))) {
        found->where = CLIENT_WHERE_QUEUED;
        snprintf(found->place, sizeof found->place, "%s", name);
        strcpy(found->status, "queued");
    } else {
        name = keys_suffix(key, cl->prefix, "processing");
        found->where = CLIENT_WHERE_RUNNING;
        snprintf(found->place, sizeof found->place, "%s", name ? name : "");
        strcpy(found->status, "running");
    }
    found->len = r->element[2]->len;
    found->raw = malloc(found->len + 1);
    if (!found->raw) {
        rc = client_fail(cl, CLIENT_NOMEM, "out of memory");
        goto done;
    }
    memcpy(found->raw, r->element[2]->str, found->len);
    found->raw[found->len] = '\0';
    rc = CLIENT_OK;
done:
    freeReplyObject(r);
    freeReplyObject(m);
    free(keys);
    free(keyv);
    client_names_free(queues, nq);
    return rc;
}

int client_find(struct client *cl, const char *id, struct client_found *out)
{
    if (!request_id_valid(id))
        return CLIENT_NOTFOUND;
    return find_or_push(cl, id, NULL, NULL, out);
}

int client_submit(struct client *cl, const struct client_job *job, enum client_id_mode mode,
                  char id_out[REQUEST_ID_MAX + 1], const char **field)
{
    if (client_job_check(job, cl->err, field) < 0)
        return CLIENT_INVALID;
    if (job->id)
        snprintf(id_out, REQUEST_ID_MAX + 1, "%s", job->id);
    else if (request_new_id(id_out) < 0)
        return client_fail(cl, CLIENT_REDIS, "no random source for a job id");
    const char *queue = job->queue ? job->queue : "default";
    char *req = request_build(id_out, job->script, job->args, job->nargs,
                              job->timeout_ms ? job->timeout_ms : REQUEST_TIMEOUT_DEFAULT_MS,
                              job->trigger ? job->trigger : "manual", queue);
    if (!req)
        return client_fail(cl, CLIENT_NOMEM, "out of memory");
    if (strlen(req) > REQUEST_MAX_BYTES) {
        free(req);
        if (field)
            *field = "args";
        return client_fail(cl, CLIENT_INVALID, "the request is larger than %d bytes",
                           REQUEST_MAX_BYTES);
    }
    int rc;
    if (!job->id) {
        /* a new UUID is nobody's: no look-up */
        char key[KEYS_MAX];
        keys_queue(key, cl->prefix, queue);
        const char *argv[] = {"RPUSH", key, req};
        redisReply *r = client_argv(cl, 3, argv, NULL);
        rc = r ? CLIENT_OK : CLIENT_REDIS;
        freeReplyObject(r);
    } else {
        struct client_found f = {0};
        rc = find_or_push(cl, id_out, queue, req, &f);
        if (rc == CLIENT_NOTFOUND) {
            rc = CLIENT_OK;
        } else if (rc == CLIENT_OK) {
            int same = client_same_job(f.raw, f.len, job->script, job->args, job->nargs) == 1;
            rc = mode == CLIENT_ID_ATTACH && same ? CLIENT_ATTACHED : CLIENT_CONFLICT;
            if (rc == CLIENT_CONFLICT)
                client_fail(cl, rc, "id %s is used by another job (%s)", id_out, f.status);
            client_found_free(&f);
        }
    }
    free(req);
    return rc;
}

int client_retry(struct client *cl, const char *record, size_t len,
                 char id_out[REQUEST_ID_MAX + 1])
{
    json_t *o = json_loadb(record, len, 0, NULL);
    json_t *a = json_object_get(o, "args"), *t = json_object_get(o, "timeout_ms");
    const char *q = json_string_value(json_object_get(o, "queue"));
    struct client_job job = {
        .script = json_string_value(json_object_get(o, "script")),
        .trigger = "retry",
        .queue = q && request_queue_valid(q) ? q : NULL,
        .timeout_ms = json_is_integer(t) ? json_integer_value(t) : 0,
    };
    char **args = NULL;
    int rc = CLIENT_INVALID;
    if (!job.script) {
        client_fail(cl, rc, "the record has no script");
        goto done;
    }
    job.nargs = json_is_array(a) ? json_array_size(a) : 0;
    if (job.nargs && !(args = calloc(job.nargs, sizeof *args))) {
        rc = client_fail(cl, CLIENT_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < job.nargs; i++) {
        args[i] = (char *)json_string_value(json_array_get(a, i)); /* borrowed from o */
        if (!args[i]) {
            client_fail(cl, rc, "the record's args are not strings");
            goto done;
        }
    }
    job.args = args;
    rc = client_submit(cl, &job, CLIENT_ID_UNIQUE, id_out, NULL);
done:
    free(args);
    json_decref(o);
    return rc;
}
