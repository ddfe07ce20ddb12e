/*
 * keys: builds arun's Redis key and channel names (see keys.h for the
 * list). One formatter, so a key's shape is written down once.
 */
#include <string.h>

#include "keys.h"

/* Appends src to out at *len, keeping room for the NUL; 0 if it fit. */
static int append(char out[KEYS_MAX], size_t *len, const char *src)
{
    size_t n = strlen(src);
    if (n >= KEYS_MAX - *len)
        return -1;
    memcpy(out + *len, src, n + 1);
    *len += n;
    return 0;
}

/* prefix:kind or prefix:kind:name (several per job: concatenation, not
 * snprintf, which cost about 1,100 instructions a key) */
static int build(char out[KEYS_MAX], const char *prefix, const char *kind, const char *name)
{
    size_t len = 0;
    if (append(out, &len, prefix) < 0 || append(out, &len, ":") < 0 ||
        append(out, &len, kind) < 0 ||
        (name && (append(out, &len, ":") < 0 || append(out, &len, name) < 0))) {
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
