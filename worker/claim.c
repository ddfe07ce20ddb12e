/*
 * claim: what the worker asks Redis about a request it has just taken,
 * before deciding to run it.
 *
 * Naming: a request pushed without an id gets a UUID here, written into
 * the processing list in place of the original element (LPOS + LSET, one
 * script), so a crash cannot give it a second id.
 *
 * Checking: one MGET answers three questions at once: is a cancel
 * recorded for the id (P:cancel:ID, which may predate the push), is
 * someone watching its output (P:watch:ID), and how many times recovery
 * has put this request back (P:delivery:SHA1, counted by peers.c beside
 * the request, never inside it: no field of the producer's JSON can raise
 * or lower the count). The SHA-1 is computed here; a Lua script doing the
 * same cost Redis about 20 us a job, the MGET about 1.
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

/* A value of MGET's reply: present (a string of any content) or nil. */
static int present(const redisReply *e) { return e->type == REDIS_REPLY_STRING; }

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
        JLOG(LOG_WARN, j, "checking for a cancel failed: %s",
             r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        job_claimed(j, 1, 0, 0, 0);
        return;
    }
    const redisReply *d = r->element[2];
    job_claimed(j, 1, present(r->element[0]), present(r->element[1]),
                present(d) ? atoi(d->str) : 0);
}

void claim_check(struct job *j)
{
    struct worker *w = j->w;
    char cancel[KEYS_MAX], watch[KEYS_MAX];
    keys_cancel(cancel, w->cfg.prefix, j->req.id);
    keys_watch(watch, w->cfg.prefix, j->req.id);
    const char *argv[] = {"MGET", cancel, watch, job_delivery_key(j)};
    if (rconn_command_argv(w->cmd, on_checked, j, 4, argv, NULL) < 0)
        job_claimed(j, 0, 0, 0, 0);
}
