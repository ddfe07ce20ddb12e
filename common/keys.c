/*
 * keys: builds arun's Redis key and channel names (see keys.h for the
 * list). One formatter, so a key's shape is written down once.
 */
#include <stdio.h>
#include <string.h>

#include "keys.h"

static int build(char out[KEYS_MAX], const char *prefix, const char *kind, const char *name)
{
    int n = name ? snprintf(out, KEYS_MAX, "%s:%s:%s", prefix, kind, name)
                 : snprintf(out, KEYS_MAX, "%s:%s", prefix, kind);
    if (n < 0 || n >= KEYS_MAX) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int keys_queue(char out[KEYS_MAX], const char *p, const char *q) { return build(out, p, "queue", q); }
int keys_processing(char out[KEYS_MAX], const char *p, const char *w) { return build(out, p, "processing", w); }
int keys_heartbeat(char out[KEYS_MAX], const char *p, const char *w) { return build(out, p, "worker", w); }
int keys_workers(char out[KEYS_MAX], const char *p) { return build(out, p, "workers", NULL); }
int keys_events(char out[KEYS_MAX], const char *p) { return build(out, p, "events", NULL); }
int keys_stream(char out[KEYS_MAX], const char *p) { return build(out, p, "stream", "events"); }
int keys_result(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "result", id); }
int keys_dead(char out[KEYS_MAX], const char *p) { return build(out, p, "dead", NULL); }
int keys_cancel(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "cancel", id); }
int keys_cancel_channel(char out[KEYS_MAX], const char *p) { return build(out, p, "cancel", NULL); }
int keys_output(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "output", id); }
int keys_watch(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "watch", id); }
int keys_watch_channel(char out[KEYS_MAX], const char *p) { return build(out, p, "watch", NULL); }
int keys_delivery(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "delivery", id); }
int keys_webhook_dead(char out[KEYS_MAX], const char *p) { return build(out, p, "webhook", "dead"); }
int keys_webhook_log(char out[KEYS_MAX], const char *p) { return build(out, p, "webhook", "log"); }
int keys_cron_fired(char out[KEYS_MAX], const char *p, const char *id) { return build(out, p, "cron:fired", id); }
int keys_cron_last(char out[KEYS_MAX], const char *p) { return build(out, p, "cron", "last"); }

const char *keys_suffix(const char *key, const char *prefix, const char *kind)
{
    size_t pl = strlen(prefix), kl = strlen(kind);
    if (strncmp(key, prefix, pl) != 0 || key[pl] != ':' || strncmp(key + pl + 1, kind, kl) != 0 ||
        key[pl + 1 + kl] != ':')
        return NULL;
    return key + pl + kl + 2;
}
