/*
 * misc: the small routes: GET /api/analytics/scripts (the whitelist, read
 * again on each call so a script added to the folder shows at once),
 * GET /healthz (Redis and the database), and the page's files at / .
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "app.h"
#include "assets.h"
#include "client.h"
#include "history.h"
#include "log.h"
#include "misc.h"
#include "reply.h"
#include "server.h"

static void scripts(struct http_call *call, void *arg)
{
    struct app *a = arg;
    if (whitelist_load(&a->wl, a->cfg.scripts_dir) < 0)
        log_warn("cannot read the scripts folder %s", a->cfg.scripts_dir);
    json_t *names = json_array();
    for (size_t i = 0; names && i < a->wl.n; i++)
        json_array_append_new(names, json_string(a->wl.names[i]));
    reply_json(call->req, 200, names ? json_pack("{s:o}", "scripts", names) : NULL);
}

static void healthz(struct http_call *call, void *arg)
{
    struct app *a = arg;
    int redis_ok = client_ping(a->client) == CLIENT_OK;
    struct history *h = app_history(a);
    json_t *probe = NULL;
    int db_ok = h && history_get(h, "healthz-probe", &probe) == HISTORY_NOTFOUND;
    json_decref(probe);
    if (h && !db_ok)
        app_history_reset(a);
    int ok = redis_ok && db_ok;
    reply_json(call->req, ok ? 200 : 503,
               json_pack("{s:s, s:s, s:s}", "status", ok ? "ok" : "unavailable",
                         "redis", redis_ok ? "ok" : "down", "db", db_ok ? "ok" : "down"));
}

static void page(struct http_call *call, void *arg)
{
    (void)arg;
    const char *path = !strcmp(call->path, "/") ? "/index.html" : call->path;
    for (unsigned i = 0; i < assets_count; i++) {
        if (!strcmp(assets[i].path, path)) {
            struct evkeyvalq *h = evhttp_request_get_output_headers(call->req);
            evhttp_add_header(h, "Cache-Control", "no-cache");
            evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
            evhttp_add_header(h, "Content-Security-Policy",
                              "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                              "script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
            reply_bytes(call->req, 200, assets[i].content_type, assets[i].data, assets[i].len);
            return;
        }
    }
    reply_error(call->req, 404, NULL, NULL, NULL, "no such route: %s", call->path);
}

int misc_routes(struct app *a)
{
    struct http_server *s = a->server;
    int rc = http_server_route(s, HTTP_GET, "/api/analytics/scripts", scripts, a) |
             http_server_route(s, HTTP_GET, "/healthz", healthz, a) |
             http_server_route(s, HTTP_GET, "/", page, a);
    for (unsigned i = 0; i < assets_count; i++)
        rc |= http_server_route(s, HTTP_GET, assets[i].path, page, a);
    return rc;
}
