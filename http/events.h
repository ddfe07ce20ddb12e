/*
 * events: GET /api/analytics/events, every completion event as Server-Sent
 * Events from the stream P:stream:events. One connection reads the stream
 * (XREAD BLOCK) for all clients and fans each entry out; a client that
 * reconnects with Last-Event-ID first gets the entries after that id
 * (XRANGE, in pages) and then joins the live feed without a gap or a
 * repeat: live entries that arrive meanwhile are held for it, and each
 * client only ever gets ids above the last one it was sent.
 */
#ifndef ARUN_HTTP_EVENTS_H
#define ARUN_HTTP_EVENTS_H

struct app;
struct events_feed;

/* Starts the feed (connecting, and reconnecting every second while Redis
 * is away). Returns NULL when out of memory. */
struct events_feed *events_feed_new(struct app *a);

/* Stops the feed. Streams are the hub's: close them first. */
void events_feed_free(struct events_feed *f);

/* Adds GET /api/analytics/events. Returns 0 or -1. */
int events_routes(struct app *a);

#endif
