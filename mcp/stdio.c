/*
 * stdio: line framing for arun-mcp (see stdio.h). Input is read into an
 * evbuffer and cut at each "\n" (a trailing "\r" is dropped too); output
 * goes through an evbuffer written when the fd is writable.
 */
#include "stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "timefmt.h"

#define STDIO_READ_CHUNK 65536
#define STDIO_FLUSH_MS 2000 /* at exit, how long pending output may take */

struct stdio_link {
    int in_fd, out_fd;
    int in_flags, out_flags;   /* as found, put back at the end */
    size_t line_max;
    int dropping;              /* inside a line that is over the limit */
    int closed;                /* on_closed was called */
    int out_gone;
    struct evbuffer *in, *out;
    struct event *rd, *wr;
    struct stdio_callbacks cb;
};

static void closed(struct stdio_link *l)
{
    if (l->closed)
        return;
    l->closed = 1;
    event_del(l->rd);
    l->cb.on_closed(l->cb.arg);
}

/* Hands over every whole line in the input buffer. */
static void cut_lines(struct stdio_link *l)
{
    for (;;) {
        struct evbuffer_ptr eol = evbuffer_search(l->in, "\n", 1, NULL);
        if (eol.pos < 0) {
            if (evbuffer_get_length(l->in) > l->line_max) {
                /* never hold an over-long line: drop what has come of it */
                evbuffer_drain(l->in, evbuffer_get_length(l->in));
                l->dropping = 1;
            }
            return;
        }
        size_t len = (size_t)eol.pos;
        if (l->dropping || len > l->line_max) {
            evbuffer_drain(l->in, len + 1);
            l->dropping = 0;
            l->cb.on_too_long(l->cb.arg, l->line_max);
            continue;
        }
        char *line = (char *)evbuffer_pullup(l->in, (ev_ssize_t)len + 1);
        if (!line)
            return;
        size_t n = len;
        if (n && line[n - 1] == '\r')
            n--;
        line[n] = '\0'; /* the "\n" (or "\r") becomes the NUL */
        l->cb.on_line(l->cb.arg, line, n);
        evbuffer_drain(l->in, len + 1);
        if (l->closed)
            return;
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct stdio_link *l = arg;
    int n = evbuffer_read(l->in, fd, STDIO_READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        closed(l);
        return;
    }
    cut_lines(l);
    if (!l->closed && evbuffer_get_length(l->out) > STDIO_OUT_HIGH)
        event_del(l->rd); /* resumed when the output drains */
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct stdio_link *l = arg;
    while (evbuffer_get_length(l->out)) {
        int n = evbuffer_write(l->out, fd);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return; /* EV_PERSIST: called again when writable */
        if (n <= 0) {
            l->out_gone = 1;
            evbuffer_drain(l->out, evbuffer_get_length(l->out));
            event_del(l->wr);
            closed(l);
            return;
        }
    }
    event_del(l->wr);
    if (!l->closed)
        event_add(l->rd, NULL);
}

struct stdio_link *stdio_link_new(struct event_base *base, int in_fd, int out_fd,
                                  size_t line_max, const struct stdio_callbacks *cb)
{
    struct stdio_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->in_fd = in_fd;
    l->out_fd = out_fd;
    l->line_max = line_max;
    l->cb = *cb;
    l->in_flags = fcntl(in_fd, F_GETFL);
    l->out_flags = fcntl(out_fd, F_GETFL);
    l->in = evbuffer_new();
    l->out = evbuffer_new();
    l->rd = event_new(base, in_fd, EV_READ | EV_PERSIST, on_read, l);
    l->wr = event_new(base, out_fd, EV_WRITE | EV_PERSIST, on_write, l);
    if (l->in_flags < 0 || l->out_flags < 0 || !l->in || !l->out || !l->rd || !l->wr ||
        fcntl(in_fd, F_SETFL, l->in_flags | O_NONBLOCK) < 0 ||
        fcntl(out_fd, F_SETFL, l->out_flags | O_NONBLOCK) < 0 || event_add(l->rd, NULL) < 0) {
        int e = errno;
        stdio_link_free(l);
        errno = e;
        return NULL;
    }
    return l;
}

int stdio_link_write(struct stdio_link *l, const char *text)
{
    if (l->out_gone)
        return -1;
    if (evbuffer_add(l->out, text, strlen(text)) < 0 || evbuffer_add(l->out, "\n", 1) < 0)
        return -1;
    return event_add(l->wr, NULL);
}

void stdio_link_flush(struct stdio_link *l)
{
    /* bounded: a client that stopped reading must not keep us from exiting */
    int64_t deadline = timefmt_mono_ms() + STDIO_FLUSH_MS;
    while (!l->out_gone && evbuffer_get_length(l->out)) {
        int n = evbuffer_write(l->out, l->out_fd);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        int64_t left = deadline - timefmt_mono_ms();
        struct pollfd p = {.fd = l->out_fd, .events = POLLOUT};
        if (n == 0 || errno != EAGAIN || left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
    }
}

size_t stdio_link_pending(const struct stdio_link *l)
{
    return evbuffer_get_length(l->out);
}

void stdio_link_free(struct stdio_link *l)
{
    if (!l)
        return;
    if (l->rd)
        event_free(l->rd);
    if (l->wr)
        event_free(l->wr);
    if (l->in)
        evbuffer_free(l->in);
    if (l->out)
        evbuffer_free(l->out);
    if (l->in_flags >= 0)
        fcntl(l->in_fd, F_SETFL, l->in_flags);
    if (l->out_flags >= 0)
        fcntl(l->out_fd, F_SETFL, l->out_flags);
    free(l);
}
