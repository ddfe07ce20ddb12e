/*
 * claim: what the worker asks Redis about a request it has just taken,
 * before deciding to run it.
 *
 * Naming: a request pushed without an id gets a UUID here, written into
 * the processing list in place of the original element (LPOS + LSET, one
 * script), so a crash cannot give it a second id.
 *
 * Checking: one read-only script answers three questions at once: is a
 * cancel recorded for the id (P:cancel:ID, which may predate the push), is
 * someone watching its output (P:watch:ID), and how many times recovery
 * has put this request back (P:delivery:SHA1, counted by peers.c beside
 * the request, never inside it: no field of the producer's JSON can raise
 * or lower the count).
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "job.h"
#include "keys.h"
#include "rconn.h"

/* KEYS: processing list. ARGV: the element, its replacement. */
static const char NAME_SCRIPT[] =
    "local i = redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1)\n"
    "if not i then return 0 end\n"
    "redis.call('LSET', KEYS[1], i, ARGV[2])\n"
    "return 1\n";

/* KEYS: cancel key, watch key. ARGV: delivery-count key prefix, element. */
static const char CHECK_SCRIPT[] =
    "#!lua flags=no-writes\n"
    "local d = redis.call('GET', ARGV[1] .. redis.sha1hex(ARGV[2]))\n"
    "return {redis.call('EXISTS', KEYS[1]), redis.call('EXISTS', KEYS[2]),\n"
    "        tonumber(d) or 0}\n";

static void on_named(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    redisReply *r = reply;
    if (!r)
        job_named(priv, -1);
    else
        job_named(priv, r->type == REDIS_REPLY_INTEGER && r->integer == 1);
}

void claim_name(struct job *j)
{
    const char *argv[] = {"EVAL", NAME_SCRIPT, "1", j->w->processing_key, j->raw, j->renamed};
    size_t lens[] = {4, sizeof NAME_SCRIPT - 1, 1, strlen(j->w->processing_key), j->rawlen,
                     strlen(j->renamed)};
    /* on the take connection, so it is ordered with takes and reconciles */
    if (rconn_command_argv(j->w->take, on_named, j, 6, argv, lens) < 0)
        job_named(j, -1);
}

static void on_checked(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct job *j = priv;
    redisReply *r = reply;
    if (!r) {
        job_claimed(j, 0, 0, 0, 0);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        /* a refused script (an old Redis): run it as if nothing was known */
        JLOG(LOG_WARN, j, "checking for a cancel failed: %s",
             r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        job_claimed(j, 1, 0, 0, 0);
        return;
    }
    job_claimed(j, 1, r->element[0]->integer == 1, r->element[1]->integer == 1,
                (int)r->element[2]->integer);
}

void claim_check(struct job *j)
{
    struct worker *w = j->w;
    char cancel[KEYS_MAX], watch[KEYS_MAX];
    keys_cancel(cancel, w->cfg.prefix, j->req.id);
    keys_watch(watch, w->cfg.prefix, j->req.id);
    const char *argv[] = {"EVAL", CHECK_SCRIPT, "2", cancel, watch, w->delivery_prefix, j->raw};
    size_t lens[] = {4, sizeof CHECK_SCRIPT - 1, 1, strlen(cancel), strlen(watch),
                     strlen(w->delivery_prefix), j->rawlen};
    if (rconn_command_argv(w->cmd, on_checked, j, 7, argv, lens) < 0)
        job_claimed(j, 0, 0, 0, 0);
}
