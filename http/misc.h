/*
 * misc: GET /api/analytics/scripts, GET /healthz and the page's files.
 */
#ifndef ARUN_HTTP_MISC_H
#define ARUN_HTTP_MISC_H

struct app;

/* Adds the routes. Returns 0 or -1. */
int misc_routes(struct app *a);

#endif
