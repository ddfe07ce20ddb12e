/*
 * live: streaming a watched job's output to P:output:ID (see live.h).
 */
#include "live.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "keys.h"
#include "log.h"
#include "rconn.h"
#include "run.h"
#include "worker.h"

#define LIVE_MAXLEN "10000" /* entries kept in the stream */

struct live {
    struct worker *w;
    struct run *run;
    char key[KEYS_MAX];
    char *buf[2];        /* pending output of stdout, stderr */
    size_t len[2];
    size_t sent[2];      /* bytes of each stream covered so far */
    size_t cap;          /* ARUN_MAX_OUTPUT */
    int expire_set;
    struct event *timer;
};

static const char *const fd_names[2] = {"stdout", "stderr"};

static void send_chunk(struct live *l, int fd, const char *data, size_t n)
{
    if (n == 0)
        return;
    const char *argv[] = {"XADD", l->key, "MAXLEN", "~", LIVE_MAXLEN, "*",
                          "fd", fd_names[fd], "data", data};
    size_t lens[] = {4, strlen(l->key), 6, 1, strlen(LIVE_MAXLEN), 1, 2, strlen(fd_names[fd]),
                     4, n};
    rconn_command_argv(l->w->cmd, NULL, NULL, 10, argv, lens);
    if (!l->expire_set) {
        rconn_command(l->w->cmd, NULL, NULL, "EXPIRE %s %s", l->key, l->w->result_ttl_text);
        l->expire_set = 1;
    }
}

void live_flush(struct live *l)
{
    if (!l)
        return;
    for (int fd = 0; fd < 2; fd++) {
        send_chunk(l, fd, l->buf[fd], l->len[fd]);
        l->len[fd] = 0;
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    live_flush(arg);
}

static void on_output(void *arg, int is_err, const char *data, size_t n)
{
    struct live *l = arg;
    int fd = is_err ? 1 : 0;
    if (l->sent[fd] >= l->cap)
        return; /* past the cap, as in the captures */
    if (n > l->cap - l->sent[fd])
        n = l->cap - l->sent[fd];
    if (l->len[fd] + n > LIVE_BUFFER_MAX)
        live_flush(l);
    if (!l->buf[fd] && !(l->buf[fd] = malloc(LIVE_BUFFER_MAX)))
        return;
    if (n > LIVE_BUFFER_MAX) { /* one read is at most 64 KiB; be safe */
        send_chunk(l, fd, data, n);
    } else {
        memcpy(l->buf[fd] + l->len[fd], data, n);
        l->len[fd] += n;
    }
    l->sent[fd] += n;
    if (!evtimer_pending(l->timer, NULL)) {
        struct timeval tv = {0, LIVE_FLUSH_MS * 1000};
        evtimer_add(l->timer, &tv);
    }
}

struct live *live_start(struct worker *w, const char *id, struct run *run)
{
    struct live *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->w = w;
    l->run = run;
    l->cap = (size_t)w->cfg.max_output;
    keys_output(l->key, w->cfg.prefix, id);
    l->timer = evtimer_new(w->base, on_timer, l);
    if (!l->timer) {
        free(l);
        return NULL;
    }
    /* everything kept so far, so a watcher sees the output from the start */
    for (int fd = 0; fd < 2; fd++) {
        const struct capture *c = run_capture(run, fd);
        send_chunk(l, fd, c->buf, c->len);
        l->sent[fd] = c->len;
    }
    run_set_output_hook(run, on_output, l);
    return l;
}

void live_free(struct live *l)
{
    if (!l)
        return;
    event_free(l->timer);
    free(l->buf[0]);
    free(l->buf[1]);
    free(l);
}
