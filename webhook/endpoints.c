/*
 * endpoints: where arun-webhook delivers. Two sources, used together:
 * ARUN_WEBHOOK_URLS (comma-separated, every one signed with
 * ARUN_WEBHOOK_SECRET) and the --config file, whose format is
 *
 *     # comment
 *     [endpoint]
 *     url = https://hooks.example.com/arun
 *     secret = whsec_...          (repeat the line to sign with several keys)
 *     scripts = calibration, regime    (default: every script)
 *     statuses = error, timeout        (default: every status)
 *     concurrency = 4                  (default: --concurrency)
 *     allow_private = yes              (default: --allow-private)
 *
 * Unknown keys and malformed values are refused with their line number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "webhook.h"

#define ENDPOINTS_FILE_MAX (1024 * 1024)
#define ENDPOINTS_LINE_MAX 4096
#define ENDPOINTS_URL_MAX 2048

void endpoints_free(struct wh_endpoint *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(eps[i].url);
        for (size_t j = 0; j < eps[i].nscripts; j++)
            free(eps[i].scripts[j]);
        free(eps[i].scripts);
        for (size_t j = 0; j < eps[i].nstatuses; j++)
            free(eps[i].statuses[j]);
        free(eps[i].statuses);
    }
    free(eps);
}

int endpoints_match(const struct wh_endpoint *ep, const char *script, const char *status)
{
    int ok = ep->nscripts == 0;
    for (size_t i = 0; !ok && script && i < ep->nscripts; i++)
        ok = strcmp(ep->scripts[i], script) == 0;
    if (!ok)
        return 0;
    ok = ep->nstatuses == 0;
    for (size_t i = 0; !ok && status && i < ep->nstatuses; i++)
        ok = strcmp(ep->statuses[i], status) == 0;
    return ok;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int url_ok(const char *u)
{
    return (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           strlen(u) < ENDPOINTS_URL_MAX && !strpbrk(u, " \t\r\n");
}

/* Appends an endpoint with the settings' defaults. Returns it, or NULL. */
static struct wh_endpoint *add(struct wh_endpoint **eps, size_t *n, const struct wh_settings *cfg)
{
    if (*n >= WH_MAX_ENDPOINTS)
        return NULL;
    struct wh_endpoint *ne = realloc(*eps, (*n + 1) * sizeof *ne);
    if (!ne)
        return NULL;
    *eps = ne;
    struct wh_endpoint *ep = &ne[(*n)++];
    memset(ep, 0, sizeof *ep);
    ep->concurrency = (int)cfg->concurrency;
    ep->allow_private = cfg->allow_private;
    return ep;
}

/* Splits a comma/space list into *out (strings owned). Returns 0 or -1. */
static int split_list(const char *v, char ***out, size_t *n)
{
    char *copy = strdup(v), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save)) {
        char **nl = realloc(*out, (*n + 1) * sizeof *nl);
        if (!nl || !(nl[*n] = strdup(t))) {
            if (nl)
                *out = nl;
            rc = -1;
            break;
        }
        *out = nl;
        (*n)++;
    }
    free(copy);
    return rc;
}

/* Adds each secret of a comma/space list to ep. Returns 0 or -1. */
static int add_secrets(struct wh_endpoint *ep, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    int rc = 0;
    for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save))
        if (ep->nkeys == WH_MAX_SECRETS || whsig_secret_parse(t, &ep->keys[ep->nkeys++]) < 0)
            rc = -1;
    free(copy);
    return rc;
}

static int bad(char err[WH_ERR_MAX], int line, const char *what)
{
    snprintf(err, WH_ERR_MAX, "line %d: %s", line, what);
    return -1;
}

/* Applies one "key = value" line to ep. Returns 0 or -1 with err set. */
static int set_key(struct wh_endpoint *ep, const char *key, const char *val, int line,
                   char err[WH_ERR_MAX])
{
    int64_t v;
    if (strcmp(key, "url") == 0) {
        if (ep->url || !url_ok(val))
            return bad(err, line, ep->url ? "a second url in one [endpoint]"
                                          : "url must be http:// or https:// without blanks");
        return (ep->url = strdup(val)) ? 0 : bad(err, line, "out of memory");
    }
    if (strcmp(key, "secret") == 0)
        return add_secrets(ep, val) < 0
                   ? bad(err, line, "secret must be whsec_ + base64 (at most 16 per endpoint)")
                   : 0;
    if (strcmp(key, "scripts") == 0)
        return split_list(val, &ep->scripts, &ep->nscripts) < 0 ? bad(err, line, "out of memory") : 0;
    if (strcmp(key, "statuses") == 0)
        return split_list(val, &ep->statuses, &ep->nstatuses) < 0 ? bad(err, line, "out of memory")
                                                                   : 0;
    if (strcmp(key, "concurrency") == 0) {
        if (parse_int_range(val, 1, 1024, &v) < 0)
            return bad(err, line, "concurrency is a whole number from 1 to 1024");
        ep->concurrency = (int)v;
        return 0;
    }
    if (strcmp(key, "allow_private") == 0) {
        if (strcmp(val, "yes") && strcmp(val, "no"))
            return bad(err, line, "allow_private is yes or no");
        ep->allow_private = strcmp(val, "yes") == 0;
        return 0;
    }
    return bad(err, line, "unknown key (url, secret, scripts, statuses, concurrency, allow_private)");
}

int endpoints_parse_config(const char *text, const struct wh_settings *cfg,
                           struct wh_endpoint **out, size_t *n, char err[WH_ERR_MAX])
{
    struct wh_endpoint *ep = NULL;
    size_t first = *n;
    int line = 0, ep_line = 0;
    char buf[ENDPOINTS_LINE_MAX];
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len >= sizeof buf)
            return bad(err, line, "line too long");
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (nl ? 1 : 0);
        char *s = trim(buf);
        if (!*s || *s == '#')
            continue;
        if (strcmp(s, "[endpoint]") == 0) {
            if (ep && !ep->url)
                return bad(err, ep_line, "[endpoint] without a url");
            if (!(ep = add(out, n, cfg)))
                return bad(err, line, "too many endpoints (256 at most)");
            ep_line = line;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return bad(err, line, "expected [endpoint] or key = value");
        if (!ep)
            return bad(err, line, "a key before the first [endpoint]");
        *eq = '\0';
        if (set_key(ep, trim(s), trim(eq + 1), line, err) < 0)
            return -1;
    }
    if (ep && !ep->url)
        return bad(err, ep_line, "[endpoint] without a url");
    if (*n == first)
        return bad(err, line, "no [endpoint] in the file");
    return 0;
}

static int load_file(struct webhook *wh, const char *path, char err[WH_ERR_MAX])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, WH_ERR_MAX, "--config %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(ENDPOINTS_FILE_MAX + 1);
    size_t len = text ? fread(text, 1, ENDPOINTS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!text || len > ENDPOINTS_FILE_MAX) {
        snprintf(err, WH_ERR_MAX, "--config %s: %s", path, text ? "larger than 1 MiB" : "out of memory");
        free(text);
        return -1;
    }
    text[len] = '\0';
    char why[WH_ERR_MAX];
    int rc = endpoints_parse_config(text, &wh->cfg, &wh->endpoints, &wh->nendpoints, why);
    if (rc < 0)
        snprintf(err, WH_ERR_MAX, "--config %.50s: %.180s", path, why);
    free(text);
    return rc;
}

int endpoints_load(struct webhook *wh, char err[WH_ERR_MAX])
{
    if (wh->cfg.config && load_file(wh, wh->cfg.config, err) < 0)
        return -1;
    if (wh->cfg.urls && *wh->cfg.urls) {
        char *copy = strdup(wh->cfg.urls), *save = NULL;
        if (!copy) {
            snprintf(err, WH_ERR_MAX, "out of memory");
            return -1;
        }
        for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
            u = trim(u);
            if (!*u)
                continue;
            struct wh_endpoint *ep = url_ok(u) ? add(&wh->endpoints, &wh->nendpoints, &wh->cfg) : NULL;
            if (!ep || !(ep->url = strdup(u)) ||
                (wh->cfg.secret && *wh->cfg.secret && add_secrets(ep, wh->cfg.secret) < 0)) {
                snprintf(err, WH_ERR_MAX, ep && ep->url ? "ARUN_WEBHOOK_SECRET/--secret: not whsec_ + base64"
                                                        : "ARUN_WEBHOOK_URLS/--urls: bad URL '%.200s'", u);
                free(copy);
                return -1;
            }
        }
        free(copy);
    }
    if (wh->nendpoints == 0) {
        snprintf(err, WH_ERR_MAX, "no endpoints: set ARUN_WEBHOOK_URLS or --config FILE");
        return -1;
    }
    return 0;
}
