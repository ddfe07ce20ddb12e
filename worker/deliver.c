/*
 * deliver: the acknowledgement of a recorded job, all or nothing. One Lua
 * script, on the cmd connection, checks that the request is still in this
 * worker's processing list (a worker whose lease was lost announces
 * nothing for what a peer took over), then sets P:result:ID, appends the
 * event to P:stream:events, publishes it, pushes the dead letter if any,
 * and removes the request from the processing list, last.
 *
 * The script starts with a "#!lua" shebang: Redis then refuses the whole
 * script up front when it is out of memory (maxmemory + noeviction),
 * instead of failing at the first write that grows memory after earlier
 * writes went through. A refused acknowledgement is retried every second
 * until it goes through; the row was committed before any of it, so a
 * subscriber that reads either on the event finds the final record.
 *
 * The script is sent by its digest (EVALSHA): Redis then neither reads
 * nor hashes its text per job. After a NOSCRIPT (a restarted Redis, a
 * SCRIPT FLUSH) the next acknowledgement sends the text with EVAL, which
 * loads it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "job.h"
#include "keys.h"
#include "log.h"
#include "rconn.h"
#include "record.h"
#include "resp.h"
#include "sha1.h"

#define DELIVER_OUTPUT_MAXLEN "10000" /* entries kept in a live output stream */

/* KEYS: processing list, result, events stream, dead list, output stream,
 * delivery count. ARGV: request, result JSON ("" for none), TTL seconds,
 * event JSON ("" for none), events channel, stream MAXLEN, dead envelope
 * ("" for none), watched ("1": end the output stream). */
static const char ACK_SCRIPT[] =
    "#!lua\n"
    "if not redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end\n"
    "if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end\n"
    "if ARGV[4] ~= '' then\n"
    "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'event', ARGV[4])\n"
    "  if ARGV[8] == '1' then\n"
    "    redis.call('XADD', KEYS[5], 'MAXLEN', '~', " DELIVER_OUTPUT_MAXLEN ", '*',\n"
    "               'fd', 'end', 'data', ARGV[4])\n"
    "    redis.call('EXPIRE', KEYS[5], ARGV[3])\n"
    "  end\n"
    "  redis.call('PUBLISH', ARGV[5], ARGV[4])\n"
    "end\n"
    "if ARGV[7] ~= '' then redis.call('LPUSH', KEYS[4], ARGV[7]) end\n"
    "redis.call('DEL', KEYS[6])\n"
    "redis.call('LREM', KEYS[1], 1, ARGV[1])\n"
    "return 1\n";

static char ack_sha[SHA1_HEX_LEN + 1]; /* the script's digest, once computed */
static int ack_loaded;                  /* 0: send the text (EVAL) next time */

static void retry_soon(struct worker *w)
{
    struct timeval tv = {1, 0};
    evtimer_add(w->redeliver_timer, &tv);
}

static void on_delivered(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    struct job *j = priv;
    redisReply *r = reply;
    j->deliver_inflight = 0;
    if (!r)
        return; /* the connection dropped: re-sent on reconnect */
    if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
        ack_loaded = 0; /* nothing ran: send it again with the text */
        deliver_send(j);
        return;
    }
    if (r->type != REDIS_REPLY_INTEGER) {
        /* refused (OOM, read-only replica, a key of the wrong type) */
        JLOG(LOG_WARN, j, "acknowledging the job failed: %s; retrying every second",
             r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        retry_soon(j->w);
        return;
    }
    ack_loaded = 1;
    if (r->integer == 0)
        JLOG(LOG_INFO, j, "its request is no longer in this worker's processing list "
             "(already acknowledged, or taken over by a peer): nothing announced");
    job_delivered(j);
}

void deliver_send(struct job *j)
{
    struct worker *w = j->w;
    if (j->deliver_inflight || !rconn_up(w->cmd))
        return; /* deliver_retry_all runs on reconnect */
    char result_key[KEYS_MAX] = "", output_key[KEYS_MAX] = "";
    char *result = NULL, *event = NULL;
    if (j->row.id[0]) {
        keys_result(result_key, w->cfg.prefix, j->row.id);
        keys_output(output_key, w->cfg.prefix, j->row.id);
        result = record_result_json(&j->row);
        event = record_event_json(&j->row);
        if (!result || !event) {
            free(result);
            free(event);
            JLOG(LOG_ERROR, j, "out of memory building the result; retrying");
            retry_soon(w);
            return;
        }
    }
    if (!ack_sha[0])
        sha1_hex(ACK_SCRIPT, sizeof ACK_SCRIPT - 1, ack_sha);
    const char *argv[] = {ack_loaded ? "EVALSHA" : "EVAL", ack_loaded ? ack_sha : ACK_SCRIPT,
                          "6", w->processing_key, result_key, w->stream_key, w->dead_key,
                          output_key, job_delivery_key(j), j->raw, result ? result : "",
                          w->result_ttl_text, event ? event : "", w->events_channel,
                          w->stream_maxlen_text, j->dead ? j->dead : "",
                          j->watched ? "1" : "0"};
    size_t lens[sizeof argv / sizeof argv[0]];
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
        lens[i] = argv[i] == j->raw ? j->rawlen : strlen(argv[i]);
    char *cmd = NULL;
    long long len = resp_format_argv(&cmd, (int)(sizeof argv / sizeof argv[0]), argv, lens);
    /* the result can hold megabytes of output: free it before hiredis
     * copies the command into its buffer, so only two copies live at once */
    free(result);
    free(event);
    if (len < 0) {
        JLOG(LOG_ERROR, j, "out of memory formatting the acknowledgement; retrying");
        retry_soon(w);
        return;
    }
    j->deliver_inflight = 1;
    if (rconn_command_formatted(w->cmd, on_delivered, j, cmd, (size_t)len) < 0)
        j->deliver_inflight = 0;
    free(cmd);
}

void deliver_retry_all(struct worker *w)
{
    struct job *next;
    for (struct job *j = w->jobs; j; j = next) {
        next = j->next; /* deliver_send never frees synchronously, but be safe */
        if (j->state == JOB_DELIVERING)
            deliver_send(j);
    }
}
