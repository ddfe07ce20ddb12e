/*
 * keys: every Redis key and channel name of arun, built in one place
 * (contract: "Redis keys", "Cancelling a job", "Durable completion stream").
 * P below is ARUN_PREFIX. Programs never format a key themselves: they call
 * one of these, and Lua scripts receive the results as KEYS or ARGV.
 *
 *   P:queue:NAME        list    pending requests, producers RPUSH
 *   P:processing:WORKER list    requests a worker holds (BLMOVE target)
 *   P:worker:WORKER     string  a live worker's heartbeat (PX), JSON info
 *   P:workers           set     ids of workers that registered
 *   P:events            channel one completion event per finished job
 *   P:stream:events     stream  the same events, durable (field "event")
 *   P:result:ID         string  a finished job's full record (EX TTL)
 *   P:dead              list    dead-lettered requests (JSON envelopes)
 *   P:cancel:ID         string  a cancel request for ID (EX TTL)
 *   P:cancel            channel the id of every new cancel request
 *   P:output:ID         stream  live output of a watched job (fields fd, data)
 *   P:watch:ID          string  someone watches ID's output (EX, refreshed)
 *   P:watch             channel the id of every job that gained a watcher
 *   P:delivery:ID       string  deliveries of ID counted by arun (not the producer)
 *   P:webhook:dead      list    webhook deliveries given up
 *   P:webhook:log       stream  arun-webhook's delivery log (one entry per attempt)
 *   P:cron:fired:ID     string  a fire time claimed by an arun-cron (SET NX EX)
 *   P:cron:last         hash    entry name -> latest fire time enqueued (Unix s)
 *
 * Cancelling (any program): SET P:cancel:ID <unix ms> EX ARUN_RESULT_TTL,
 * then PUBLISH P:cancel ID. Workers kill a held job at once, pull a queued
 * one out of its queue and end it "cancelled", and check the key when they
 * take a request, so a cancel recorded before the push still counts.
 */
#ifndef ARUN_KEYS_H
#define ARUN_KEYS_H

#include <stddef.h>

#define KEYS_MAX 512 /* longest key: prefix (<= 128) + kind + 128-byte name */

/* Each writes the key into out (KEYS_MAX bytes) and returns 0, or returns
 * -1 (out holding "") when it would not fit. */
int keys_queue(char out[KEYS_MAX], const char *prefix, const char *queue);
int keys_processing(char out[KEYS_MAX], const char *prefix, const char *worker);
int keys_heartbeat(char out[KEYS_MAX], const char *prefix, const char *worker);
int keys_workers(char out[KEYS_MAX], const char *prefix);
int keys_events(char out[KEYS_MAX], const char *prefix);
int keys_stream(char out[KEYS_MAX], const char *prefix);
int keys_result(char out[KEYS_MAX], const char *prefix, const char *id);
int keys_dead(char out[KEYS_MAX], const char *prefix);
int keys_cancel(char out[KEYS_MAX], const char *prefix, const char *id);
int keys_cancel_channel(char out[KEYS_MAX], const char *prefix);
int keys_output(char out[KEYS_MAX], const char *prefix, const char *id);
int keys_watch(char out[KEYS_MAX], const char *prefix, const char *id);
int keys_watch_channel(char out[KEYS_MAX], const char *prefix);
int keys_delivery(char out[KEYS_MAX], const char *prefix, const char *id);
int keys_webhook_dead(char out[KEYS_MAX], const char *prefix);
int keys_webhook_log(char out[KEYS_MAX], const char *prefix);
int keys_cron_fired(char out[KEYS_MAX], const char *prefix, const char *job_id);
int keys_cron_last(char out[KEYS_MAX], const char *prefix);

/* The part of a key after "P:KIND:" (e.g. the worker id of a processing
 * key), or NULL when key does not start with that. */
const char *keys_suffix(const char *key, const char *prefix, const char *kind);

#endif
