/*
 * stdio: the MCP stdio transport's framing on a libevent loop: messages
 * are lines (one JSON object each) read from one fd and written to
 * another, both non-blocking. A line longer than its limit is never held
 * whole: its bytes are dropped as they arrive, and it is reported once its
 * end is seen. Output is buffered; reading pauses while more than
 * STDIO_OUT_HIGH bytes wait to be written (a client that does not read).
 */
#ifndef ARUN_MCP_STDIO_H
#define ARUN_MCP_STDIO_H

#include <stddef.h>

#define STDIO_OUT_HIGH (8 * 1024 * 1024)

struct event_base;
struct stdio_link;

struct stdio_callbacks {
    void (*on_line)(void *arg, const char *line, size_t len); /* without the newline */
    void (*on_too_long)(void *arg, size_t limit);             /* a line was dropped */
    void (*on_closed)(void *arg); /* end of input, or output gone; pending output is flushed */
    void *arg;
};

/* Starts reading in_fd and writing out_fd (both made non-blocking; their
 * flags are put back by stdio_link_free). Returns NULL with errno set. */
struct stdio_link *stdio_link_new(struct event_base *base, int in_fd, int out_fd,
                                  size_t line_max, const struct stdio_callbacks *cb);

/* Queues text and a newline for output. Returns 0, or -1 when out of
 * memory or the output is gone. */
int stdio_link_write(struct stdio_link *l, const char *text);

/* Writes the pending output, waiting at most a couple of seconds for a
 * slow reader: for the end of the program. */
void stdio_link_flush(struct stdio_link *l);

/* Bytes waiting to be written. */
size_t stdio_link_pending(const struct stdio_link *l);

/* Stops, restores the fds' flags and frees. NULL is allowed. */
void stdio_link_free(struct stdio_link *l);

#endif
