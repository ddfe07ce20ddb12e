/*
 * history: analytics_jobs read-only, for lists and details (history.h).
 * The list statement depends only on the filter's shape (how many
 * statuses, which filters are set), so each shape is prepared once and
 * kept; values are always bound.
 */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "record.h"
#include "request.h"
#include "store.h"
#include "utf8.h"

enum { F_SCRIPT = 1, F_TRIGGER = 2, F_PREFIX = 4, F_BEFORE = 8, F_WALK = 16 };
#define NSHAPES ((HISTORY_STATUSES_MAX + 1) * 32)
/* Above this many rows of the statuses asked for, a page walks the
 * created_at index (skipping other statuses) rather than sorting them all:
 * on 200,000 rows, 90% success, "status=success" took 365 ms through the
 * status index and 0.2 ms along created_at, while an absent status takes
 * 0.04 ms through the index and 58 ms along created_at. Counting up to
 * this bound in the status index costs at most a few ms. */
#define HISTORY_SORT_MAX 2000
#define HISTORY_SQL_MAX 1024
#define HISTORY_TEXT_MAX 128

struct history {
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *list[NSHAPES]; /* by shape(), prepared on first use */
    sqlite3_stmt *count[HISTORY_STATUSES_MAX + 1]; /* by nstatuses: rows, up to a bound */
    char err[HISTORY_ERR_MAX];
};

static int shape(const struct history_filter *f, int walk)
{
    int flags = (f->script ? F_SCRIPT : 0) | (f->trigger ? F_TRIGGER : 0) |
                (f->id_prefix ? F_PREFIX : 0) | (f->before && *f->before ? F_BEFORE : 0) |
                (walk ? F_WALK : 0);
    return (int)f->nstatuses * 32 + flags;
}

/* The list SQL; walk: "+status" keeps the planner off the status index,
 * so it walks created_at in order (see HISTORY_SORT_MAX). */
static int build_sql(const struct history_filter *f, int walk, char *out, size_t outsz)
{
    char sql[HISTORY_SQL_MAX];
    int n = snprintf(sql, sizeof sql, "SELECT * FROM analytics_jobs WHERE 1");
    if (f->nstatuses) {
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND %sstatus IN (?", walk ? "+" : "");
        for (size_t i = 1; i < f->nstatuses; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ",?");
        n += snprintf(sql + n, sizeof sql - (size_t)n, ")");
    }
    if (f->script)
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND script = ?");
    if (f->trigger)
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND trigger_type = ?");
    if (f->id_prefix)
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND id GLOB ?");
    /* the first term lets the created_at index serve a range */
    if (f->before && *f->before)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      " AND created_at <= ? AND (created_at < ? OR id < ?)");
    n += snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY created_at DESC, id DESC LIMIT ?");
    if ((size_t)n >= outsz)
        return -1;
    memcpy(out, sql, (size_t)n + 1);
    return n;
}

int history_sql(const struct history_filter *f, char *out, size_t outsz)
{
    return build_sql(f, 0, out, outsz);
}

struct history *history_open(const char *path, char err[HISTORY_ERR_MAX])
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, HISTORY_ERR_MAX, "no database at %s (a worker creates it)", path);
        return NULL;
    }
    struct history *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, HISTORY_ERR_MAX, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, HISTORY_ERR_MAX, "cannot open %s: %s", path,
                 h->db ? sqlite3_errmsg(h->db) : "out of memory");
        history_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h->db, HISTORY_BUSY_TIMEOUT_MS);
    return h;
}

void history_close(struct history *h)
{
    if (!h)
        return;
    sqlite3_finalize(h->get);
    for (int i = 0; i < NSHAPES; i++)
        sqlite3_finalize(h->list[i]);
    for (int i = 0; i <= HISTORY_STATUSES_MAX; i++)
        sqlite3_finalize(h->count[i]);
    sqlite3_close(h->db);
    free(h);
}

const char *history_errstr(const struct history *h) { return h->err; }

static int fail(char err[HISTORY_ERR_MAX], const char **field, const char *name, const char *msg)
{
    snprintf(err, HISTORY_ERR_MAX, "%s", msg);
    if (field)
        *field = name;
    return -1;
}

static int text_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= HISTORY_TEXT_MAX && utf8_valid(s, n);
}

int history_filter_check(const struct history_filter *f, char err[HISTORY_ERR_MAX],
                         const char **field)
{
    if (f->nstatuses > HISTORY_STATUSES_MAX)
        return fail(err, field, "status", "too many statuses");
    for (size_t i = 0; i < f->nstatuses; i++) {
        const char *s = f->statuses[i];
        size_t n = s ? strlen(s) : 0;
        if (n < 1 || n > 15 || strspn(s, "abcdefghijklmnopqrstuvwxyz") != n)
            return fail(err, field, "status", "a status is 1-15 of a-z (success, error, ...)");
    }
    if (f->script && !text_ok(f->script))
        return fail(err, field, "script", "script must be 1-128 bytes of UTF-8");
    if (f->trigger && !text_ok(f->trigger))
        return fail(err, field, "trigger", "trigger must be 1-128 bytes of UTF-8");
    /* the id characters hold no GLOB character, so a valid prefix is literal */
    if (f->id_prefix && !request_id_valid(f->id_prefix))
        return fail(err, field, "id", "an id prefix is 1-64 of A-Za-z0-9._:-");
    if (f->limit < 0 || f->limit > HISTORY_LIMIT_MAX)
        return fail(err, field, "limit", "limit must be 1-500");
    char c[32], id[128];
    if (f->before && *f->before && history_cursor_decode(f->before, c, id) < 0)
        return fail(err, field, "before", "before is not a cursor this server gave");
    if (field)
        *field = NULL;
    return 0;
}

int history_filter_statuses(struct history_filter *f, char *csv, char err[HISTORY_ERR_MAX])
{
    f->nstatuses = 0;
    for (char *p = csv;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p)
            return fail(err, NULL, NULL, "an empty status in the list");
        if (f->nstatuses == HISTORY_STATUSES_MAX)
            return fail(err, NULL, NULL, "too many statuses");
        f->statuses[f->nstatuses++] = p;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* ---- cursors: base64url of "created_at|id", no padding ---- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int history_cursor_encode(const char *created_at, const char *id, char out[HISTORY_CURSOR_MAX])
{
    char plain[HISTORY_CURSOR_MAX];
    int n = snprintf(plain, sizeof plain, "%s|%s", created_at, id);
    if (n < 0 || (size_t)n >= sizeof plain || ((size_t)n + 2) / 3 * 4 >= HISTORY_CURSOR_MAX)
        return -1;
    size_t o = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)plain[i] << 16;
        int k = n - i < 3 ? n - i : 3;
        if (k > 1)
            v |= (unsigned)(unsigned char)plain[i + 1] << 8;
        if (k > 2)
            v |= (unsigned char)plain[i + 2];
        for (int j = 0; j <= k; j++)
            out[o++] = B64URL[(v >> (18 - 6 * j)) & 63];
    }
    out[o] = '\0';
    return 0;
}

int history_cursor_decode(const char *cursor, char created_at[32], char id[128])
{
    size_t n = strlen(cursor);
    if (n == 0 || n >= HISTORY_CURSOR_MAX || n % 4 == 1)
        return -1;
    char plain[HISTORY_CURSOR_MAX];
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(B64URL, cursor[i], 64);
        if (!p)
            return -1;
        v = (v << 6) | (unsigned)(p - B64URL);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            plain[o++] = (char)((v >> bits) & 0xff);
        }
    }
    plain[o] = '\0';
    char *bar = memchr(plain, '|', o);
    if (!bar || strlen(plain) != o)
        return -1;
    *bar = '\0';
    size_t cl = (size_t)(bar - plain);
    if (cl > 31 || strspn(plain, "0123456789-T:.Z") != cl || !request_id_valid(bar + 1))
        return -1;
    memcpy(created_at, plain, cl + 1);
    snprintf(id, 128, "%s", bar + 1);
    return 0;
}

/* ---- rows ---- */

static void copy_text(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, outsz, "%s", t ? (const char *)t : "");
}

static char *dup_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* A column that the record does not write, as JSON by its SQLite type. */
static json_t *column_json(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        char *clean = utf8_sanitize(t, n, &n);
        json_t *s = clean ? json_stringn(clean, n) : NULL;
        free(clean);
        return s ? s : json_null();
    }
    default:
        return json_null();
    }
}

/* Reads the current row of st into a JSON object: the record's fields
 * (record_result_json, so the format is the result's) and then every
 * column the record does not name, by its own name. NULL: out of memory. */
static json_t *row_json(sqlite3_stmt *st, int with_output)
{
    struct store_row r;
    memset(&r, 0, sizeof r);
    r.duration_ms = -1;
    int ncol = sqlite3_column_count(st);
    unsigned char extra[256] = {0};
    for (int i = 0; i < ncol && i < 256; i++) {
        const char *name = sqlite3_column_name(st, i);
        int null = sqlite3_column_type(st, i) == SQLITE_NULL;
        if (strcmp(name, "id") == 0) copy_text(st, i, r.id, sizeof r.id);
        else if (strcmp(name, "script") == 0) copy_text(st, i, r.script, sizeof r.script);
        else if (strcmp(name, "trigger_type") == 0) copy_text(st, i, r.trigger, sizeof r.trigger);
        else if (strcmp(name, "status") == 0) copy_text(st, i, r.status, sizeof r.status);
        else if (strcmp(name, "exit_code") == 0) { r.has_exit_code = !null; r.exit_code = sqlite3_column_int(st, i); }
        else if (strcmp(name, "signal") == 0) { r.has_signal = !null; r.signal = sqlite3_column_int(st, i); }
        else if (strcmp(name, "stdout") == 0) { if (with_output) r.stdout_text = dup_text(st, i); }
        else if (strcmp(name, "stderr") == 0) { if (with_output) r.stderr_text = dup_text(st, i); }
        else if (strcmp(name, "duration_ms") == 0) r.duration_ms = null ? -1 : sqlite3_column_int64(st, i);
        else if (strcmp(name, "created_at") == 0) copy_text(st, i, r.created_at, sizeof r.created_at);
        else if (strcmp(name, "completed_at") == 0) copy_text(st, i, r.completed_at, sizeof r.completed_at);
        else if (strcmp(name, "args") == 0) r.args_json = dup_text(st, i);
        else if (strcmp(name, "attempts") == 0) r.attempts = sqlite3_column_int(st, i);
        else if (strcmp(name, "worker") == 0) copy_text(st, i, r.worker, sizeof r.worker);
        else if (strcmp(name, "queue") == 0) copy_text(st, i, r.queue, sizeof r.queue);
        else extra[i] = 1;
    }
    char *text = record_result_json(&r);
    store_row_free(&r);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!o)
        return NULL;
    if (!with_output) {
        json_object_del(o, "stdout");
        json_object_del(o, "stderr");
    }
    /* set, not added: when record.c learns a newer column it may write it
     * as null from a row struct that this reader does not fill */
    for (int i = 0; i < ncol && i < 256; i++)
        if (extra[i])
            json_object_set_new(o, sqlite3_column_name(st, i), column_json(st, i));
    return o;
}

static int map_rc(struct history *h, int rc)
{
    snprintf(h->err, sizeof h->err, "%s", sqlite3_errmsg(h->db));
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? HISTORY_BUSY : HISTORY_ERR;
}

/* Prepares sql into *st once. A database that no worker has written to
 * yet has no table: that is an empty history, not an error (*empty). */
static int prepare(struct history *h, sqlite3_stmt **st, const char *sql, int *empty)
{
    *empty = 0;
    if (*st)
        return HISTORY_OK;
    int rc = sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc == SQLITE_OK)
        return HISTORY_OK;
    if (strstr(sqlite3_errmsg(h->db), "no such table")) {
        *empty = 1;
        return HISTORY_OK;
    }
    return map_rc(h, rc);
}

/* Sets *walk when the statuses asked for have more than HISTORY_SORT_MAX
 * rows (counted in the status index, up to that bound). A filter on the
 * script does not need it: (script, created_at) is already in order. */
static int statuses_common(struct history *h, const struct history_filter *f, int *walk)
{
    char sql[HISTORY_SQL_MAX];
    int n = snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM analytics_jobs "
                     "WHERE status IN (?");
    for (size_t i = 1; i < f->nstatuses; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ",?");
    snprintf(sql + n, sizeof sql - (size_t)n, ") LIMIT %d)", HISTORY_SORT_MAX + 1);
    int empty, rc = prepare(h, &h->count[f->nstatuses], sql, &empty);
    if (rc != HISTORY_OK || empty)
        return rc;
    sqlite3_stmt *st = h->count[f->nstatuses];
    for (size_t i = 0; i < f->nstatuses; i++)
        sqlite3_bind_text(st, (int)i + 1, f->statuses[i], -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *walk = sqlite3_column_int(st, 0) > HISTORY_SORT_MAX;
    rc = rc == SQLITE_ROW ? HISTORY_OK : map_rc(h, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int history_list(struct history *h, const struct history_filter *f, json_t **jobs,
                 char next[HISTORY_CURSOR_MAX])
{
    const char *field;
    next[0] = '\0';
    if (history_filter_check(f, h->err, &field) < 0)
        return HISTORY_INVALID;
    int walk = 0, empty, rc;
    if (f->nstatuses && !f->script && (rc = statuses_common(h, f, &walk)) != HISTORY_OK)
        return rc;
    char sql[HISTORY_SQL_MAX];
    build_sql(f, walk, sql, sizeof sql);
    sqlite3_stmt **slot = &h->list[shape(f, walk)];
    rc = prepare(h, slot, sql, &empty);
    if (rc != HISTORY_OK)
        return rc;
    json_t *arr = json_array();
    if (!arr)
        return HISTORY_ERR;
    if (empty) {
        *jobs = arr;
        return HISTORY_OK;
    }
    sqlite3_stmt *st = *slot;
    int p = 1, limit = f->limit ? f->limit : HISTORY_LIMIT_DEFAULT;
    for (size_t i = 0; i < f->nstatuses; i++)
        sqlite3_bind_text(st, p++, f->statuses[i], -1, SQLITE_STATIC);
    char script[HISTORY_TEXT_MAX + 1], prefix[REQUEST_ID_MAX + 2], c[32], id[128];
    if (f->script) {
        size_t n = strlen(f->script);
        if (n > 3 && strcmp(f->script + n - 3, ".py") == 0)
            n -= 3;
        snprintf(script, sizeof script, "%.*s", (int)n, f->script);
        sqlite3_bind_text(st, p++, script, -1, SQLITE_STATIC);
    }
    if (f->trigger)
        sqlite3_bind_text(st, p++, f->trigger, -1, SQLITE_STATIC);
    if (f->id_prefix) {
        snprintf(prefix, sizeof prefix, "%s*", f->id_prefix);
        sqlite3_bind_text(st, p++, prefix, -1, SQLITE_STATIC);
    }
    if (f->before && *f->before) {
        history_cursor_decode(f->before, c, id);
        sqlite3_bind_text(st, p++, c, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, p++, c, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, p++, id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, p, limit + 1); /* one more tells whether a next page exists */
    int n = 0, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            json_t *last = json_array_get(arr, (size_t)n - 1);
            const char *lc = json_string_value(json_object_get(last, "created_at"));
            history_cursor_encode(lc ? lc : "", json_string_value(json_object_get(last, "id")),
                                  next);
            break;
        }
        json_t *row = row_json(st, 0);
        if (!row || json_array_append_new(arr, row) < 0) {
            oom = 1;
            break;
        }
        n++;
    }
    rc = oom ? HISTORY_ERR : rc == SQLITE_ROW || rc == SQLITE_DONE ? HISTORY_OK : map_rc(h, rc);
    if (oom)
        snprintf(h->err, sizeof h->err, "out of memory");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != HISTORY_OK) {
        json_decref(arr);
        return rc;
    }
    *jobs = arr;
    return HISTORY_OK;
}

int history_get(struct history *h, const char *id, json_t **job)
{
    int empty, rc = prepare(h, &h->get, "SELECT * FROM analytics_jobs WHERE id = ?1", &empty);
    if (rc != HISTORY_OK || empty)
        return empty ? HISTORY_NOTFOUND : rc;
    sqlite3_bind_text(h->get, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(h->get);
    if (rc == SQLITE_ROW) {
        *job = row_json(h->get, 1);
        rc = *job ? HISTORY_OK : HISTORY_ERR;
        if (!*job)
            snprintf(h->err, sizeof h->err, "out of memory");
    } else {
        rc = rc == SQLITE_DONE ? HISTORY_NOTFOUND : map_rc(h, rc);
    }
    sqlite3_reset(h->get);
    sqlite3_clear_bindings(h->get);
    return rc;
}
