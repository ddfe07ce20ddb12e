/*
 * arun-cron: enqueues scheduled runs of analytics scripts, never twice.
 * It reads a schedule file (schedule.h), and at each entry's fire time
 * pushes a request (trigger "scheduled", queue "default", id
 * cron:NAME:YYYYMMDDTHHMMSSZ) through fire.c's claim script, so that any
 * number of instances can run side by side: every instance tries every
 * fire, one wins. One libevent loop: a timer set to the earliest next fire
 * (re-checked at least every 30 s, so a stepped wall clock is noticed),
 * SIGHUP reloads the file, SIGTERM/SIGINT stop.
 *
 * Missed fires: a fire time is enqueued when an instance reaches it within
 * ARUN_CRON_GRACE of the time; older ones (every instance was down, Redis
 * was unreachable, the machine slept) are skipped and logged, and an entry
 * under CATCHUP=one gets one run for the latest fire it missed. At start,
 * the fires missed since the latest one enqueued (P:cron:last) are
 * reported the same way.
 */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "client.h"
#include "config.h"
#include "cronspec.h"
#include "fire.h"
#include "log.h"
#include "redis_url.h"
#include "schedule.h"

#define CRON_UNPRIMED INT64_MIN   /* next fire not known yet (needs Redis) */
#define CRON_RECHECK_MS 30000     /* longest sleep, so a clock step is seen */
#define CRON_RETRY_MS 1000        /* after a Redis failure */
#define CRON_SKIP_WALK_MAX 100000 /* missed fires counted one by one, then jumped */
#define CRON_CHECK_FIRES 5

struct cron_settings {
    const char *schedule;
    const char *redis_url;
    const char *prefix;
    const char *log_level;
    int64_t grace_ms;
    int check;
};

struct cron {
    struct cron_settings cfg;
    struct redis_url url;
    struct fire_conn fc;
    struct schedule sched;
    int64_t *next;     /* per entry: the next fire to handle, -1 never, or CRON_UNPRIMED */
    int64_t *catchup;  /* per entry: a catch-up fire still to enqueue, or -1 */
    struct event_base *base;
    struct event *timer, *sig_hup, *sig_term, *sig_int;
};

#define S(field) offsetof(struct cron_settings, field)

static const struct config_option options[] = {
    {"schedule", 's', "ARUN_SCHEDULE", CONFIG_STRING, S(schedule), "./schedule", 0, 0, "FILE",
     "the schedule file"},
    {"check", 0, NULL, CONFIG_FLAG, S(check), NULL, 0, 0, NULL,
     "check the schedule (FILE, or --schedule), print each entry's next 5 fires, exit"},
    {"grace", 0, "ARUN_CRON_GRACE", CONFIG_DURATION, S(grace_ms), "60s", 1000, 86400000,
     "DURATION", "a fire time older than this when reached is missed, not enqueued"},
    {"redis-url", 'r', "ARUN_REDIS_URL", CONFIG_STRING, S(redis_url), "redis://127.0.0.1:6379/0",
     0, 0, "URL", "redis://[:password@]host[:port][/db] or unix:///path"},
    {"prefix", 0, "ARUN_PREFIX", CONFIG_STRING, S(prefix), "arun", 0, 0, "PREFIX",
     "prefix of every Redis key and channel"},
    {"log-level", 0, "ARUN_LOG_LEVEL", CONFIG_CHOICE, S(log_level), "info", 0, 0,
     "debug|info|warn|error", "the least important log lines written"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: arun-cron [OPTION]...\n"
               "       arun-cron --check [FILE]\n\n"
               "Enqueues the runs a schedule file asks for (NAME SPEC SCRIPT [ARG...] a line),\n"
               "each fire time once however many instances run. SIGHUP reloads the file (a\n"
               "bad file keeps the old schedule); SIGTERM/SIGINT stop. Exit 2: bad options or\n"
               "a bad schedule file; 1: cannot start.\n\n"
               "Options (a flag overrides its environment variable):\n");
    config_print_options(f, options, NOPTIONS);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void use_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void fmt_utc(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
}

/* Loads a schedule and checks every entry's request against the request
 * rules (client_job_check: script name, arguments' encoding and sizes), so
 * that a request that could never be pushed is refused with its line
 * number now, not at each fire. Returns 0, or -1 with err set and *s empty. */
static int load(const char *path, struct schedule *s, char err[SCHEDULE_ERR_MAX])
{
    if (schedule_load(path, NULL, s, err) < 0)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        const struct schedule_entry *e = &s->entries[i];
        char id[FIRE_ID_MAX + 1], why[CLIENT_ERR_MAX];
        struct client_job job = {.id = id, .script = e->script, .args = e->args,
                                 .nargs = e->nargs, .timeout_ms = e->timeout_ms,
                                 .trigger = "scheduled", .queue = "default"};
        int id_ok = fire_job_id(e->name, 0, id) == 0; /* 53 bytes at most: always */
        if (!id_ok || client_job_check(&job, why, NULL) < 0) {
            snprintf(err, SCHEDULE_ERR_MAX, "line %d: %.200s", e->line,
                     id_ok ? why : "the entry's job id would not be valid");
            schedule_free(s);
            return -1;
        }
    }
    return 0;
}

/* --check: prints each entry and its next fires. Returns the exit code. */
static int check(const char *path)
{
    struct schedule s;
    char err[SCHEDULE_ERR_MAX];
    if (load(path, &s, err) < 0) {
        fprintf(stderr, "arun-cron: %s: %s\n", path, err);
        return 2;
    }
    use_zone(s.tz);
    printf("%s: %zu entr%s, time zone %s\n", path, s.n, s.n == 1 ? "y" : "ies", s.tz);
    int64_t now = now_ms() / 1000;
    for (size_t i = 0; i < s.n; i++) {
        const struct schedule_entry *e = &s.entries[i];
        printf("%s  %s  %s", e->name, e->spec_text, e->script);
        for (size_t a = 0; a < e->nargs; a++)
            printf(" %s", e->args[a]);
        printf("   (timeout %lld ms%s)\n", (long long)e->timeout_ms,
               e->catchup ? ", CATCHUP=one" : "");
        int64_t t = now;
        for (int k = 0; k < CRON_CHECK_FIRES && (t = cronspec_next(&e->spec, t)) >= 0; k++) {
            char utc[32], local[48];
            time_t tt = (time_t)t;
            struct tm tm;
            strftime(local, sizeof local, "%Y-%m-%d %H:%M:%S %Z", localtime_r(&tt, &tm));
            fmt_utc(t, utc);
            printf("    %s   %s\n", utc, local);
        }
    }
    schedule_free(&s);
    return 0;
}

/* Works out where an entry starts: after the latest fire enqueued (so fires
 * missed while no instance ran are seen), or from now for a new entry. */
static void prime(struct cron *cr, size_t i, int64_t now)
{
    const struct schedule_entry *e = &cr->sched.entries[i];
    int64_t last;
    int rc = fire_last(&cr->fc, e->name, &last);
    if (rc < 0)
        return; /* stays unprimed; retried */
    cr->next[i] = cronspec_next(&e->spec, rc == 1 && last < now ? last : now - 1);
}

/* Handles entry i's due fires: first those too old to enqueue (skipped,
 * logged, and the latest one caught up when the entry asks), then the
 * on-time ones, in order, so the catch-up is never refused for being older
 * than a fire just enqueued. Right after start (fresh), only the latest due
 * fire may be on time: an instance that was down does not enqueue a burst
 * of the fires of the last ARUN_CRON_GRACE, and a catch-up is not needed
 * when an on-time run follows. Returns -1 when Redis failed (retry soon). */
static int run_entry(struct cron *cr, size_t i, int64_t now, int fresh)
{
    const struct schedule_entry *e = &cr->sched.entries[i];
    int64_t grace = cr->cfg.grace_ms / 1000, skipped = 0, first_skipped = -1, last_skipped = -1;
    while (cr->next[i] >= 0 && cr->next[i] <= now &&
           (now - cr->next[i] > grace ||
            (fresh && cronspec_next(&e->spec, cr->next[i]) <= now))) {
        int64_t t = cr->next[i];
        if (skipped++ == 0)
            first_skipped = t;
        last_skipped = t;
        cr->next[i] = skipped < CRON_SKIP_WALK_MAX ? cronspec_next(&e->spec, t)
                                                   : cronspec_next(&e->spec, now - grace - 1);
    }
    int on_time_follows = cr->next[i] >= 0 && cr->next[i] <= now;
    if (skipped) {
        char a[32], b[32];
        fmt_utc(first_skipped, a);
        fmt_utc(last_skipped, b);
        log_warn("entry %s: %" PRId64 "%s fire(s) missed from %s to %s, skipped%s", e->name,
                 skipped, skipped >= CRON_SKIP_WALK_MAX ? "+" : "", a, b,
                 !e->catchup ? "" : on_time_follows ? "; the run due now catches up"
                                                    : "; one catch-up run for the latest");
        if (e->catchup && !on_time_follows)
            cr->catchup[i] = last_skipped;
    }
    if (cr->catchup[i] >= 0) {
        if (fire_enqueue(&cr->fc, e, cr->catchup[i]) < 0)
            return -1;
        cr->catchup[i] = -1;
    }
    while (cr->next[i] >= 0 && cr->next[i] <= now) {
        if (fire_enqueue(&cr->fc, e, cr->next[i]) < 0)
            return -1;
        cr->next[i] = cronspec_next(&e->spec, cr->next[i]);
    }
    return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cron *cr = arg;
    int64_t ms = now_ms(), now = ms / 1000, wait_ms = CRON_RECHECK_MS;
    for (size_t i = 0; i < cr->sched.n; i++) {
        int fresh = 0;
        if (cr->next[i] == CRON_UNPRIMED) {
            prime(cr, i, now);
            fresh = cr->next[i] != CRON_UNPRIMED;
        }
        if (cr->next[i] == CRON_UNPRIMED || run_entry(cr, i, now, fresh) < 0) {
            wait_ms = CRON_RETRY_MS;
            continue;
        }
        if (cr->next[i] >= 0 && cr->next[i] * 1000 - ms < wait_ms)
            wait_ms = cr->next[i] * 1000 - ms;
    }
    if (wait_ms < 0)
        wait_ms = 0;
    struct timeval tv = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};
    evtimer_add(cr->timer, &tv);
}

/* Installs a parsed schedule: entries whose name, spec and zone are
 * unchanged keep their next fire; others start from now (a reload is not
 * downtime: nothing counts as missed). On first install every entry is
 * primed from Redis instead. */
static int install(struct cron *cr, struct schedule *s, int first)
{
    int64_t *next = calloc(s->n + 1, sizeof *next), *catchup = calloc(s->n + 1, sizeof *catchup);
    if (!next || !catchup) {
        free(next);
        free(catchup);
        return -1;
    }
    int same_zone = strcmp(s->tz, cr->sched.tz) == 0;
    use_zone(s->tz);
    int64_t now = now_ms() / 1000;
    for (size_t i = 0; i < s->n; i++) {
        catchup[i] = -1;
        next[i] = first ? CRON_UNPRIMED : cronspec_next(&s->entries[i].spec, now - 1);
        for (size_t j = 0; !first && same_zone && j < cr->sched.n; j++)
            if (strcmp(cr->sched.entries[j].name, s->entries[i].name) == 0 &&
                strcmp(cr->sched.entries[j].spec_text, s->entries[i].spec_text) == 0)
                next[i] = cr->next[j];
    }
    schedule_free(&cr->sched);
    free(cr->next);
    free(cr->catchup);
    cr->sched = *s; /* cr now owns the entries */
    memset(s, 0, sizeof *s);
    cr->next = next;
    cr->catchup = catchup;
    return 0;
}

static void reload(struct cron *cr)
{
    struct schedule s;
    char err[SCHEDULE_ERR_MAX];
    if (load(cr->cfg.schedule, &s, err) < 0) {
        log_error("reload of %s refused, the old schedule keeps running: %s", cr->cfg.schedule,
                  err);
        return;
    }
    if (install(cr, &s, 0) < 0) {
        schedule_free(&s);
        log_error("reload of %s: out of memory, the old schedule keeps running",
                  cr->cfg.schedule);
        return;
    }
    log_info("schedule %s reloaded: %zu entries, time zone %s", cr->cfg.schedule, cr->sched.n,
             cr->sched.tz);
    evtimer_del(cr->timer);
    on_tick(-1, 0, cr);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct cron *cr = arg;
    if (sig == SIGHUP) {
        reload(cr);
        return;
    }
    log_info("arun-cron stopping on signal %d", (int)sig);
    event_base_loopbreak(cr->base);
}

int main(int argc, char **argv)
{
    static struct cron cr; /* static: zeroed, and lives as long as the loop */
    int first_arg = argc;
    int started = config_start(options, NOPTIONS, &cr.cfg, argc, argv, &first_arg, "arun-cron", usage);
    if (started >= 0)
        return started;
    if (first_arg < argc && !(cr.cfg.check && first_arg == argc - 1)) {
        fprintf(stderr, "arun-cron: unexpected argument '%s'\n", argv[first_arg]);
        return 2;
    }
    if (cr.cfg.check)
        return check(first_arg < argc ? argv[first_arg] : cr.cfg.schedule);
    enum log_level level;
    if (log_level_parse(cr.cfg.log_level, &level) < 0) {
        fprintf(stderr, "arun-cron: ARUN_LOG_LEVEL/--log-level: unknown level '%s'\n",
                cr.cfg.log_level);
        return 2;
    }
    log_set_level(level);
    char uerr[128];
    if (redis_url_parse(cr.cfg.redis_url, &cr.url, uerr) < 0) {
        fprintf(stderr, "arun-cron: ARUN_REDIS_URL/--redis-url: %s\n", uerr);
        return 2;
    }
    struct schedule s;
    char serr[SCHEDULE_ERR_MAX];
    if (load(cr.cfg.schedule, &s, serr) < 0) {
        fprintf(stderr, "arun-cron: %s: %s\n", cr.cfg.schedule, serr);
        return 2;
    }
    snprintf(cr.sched.tz, sizeof cr.sched.tz, "%s", s.tz);
    if (install(&cr, &s, 1) < 0) {
        schedule_free(&s);
        log_error("out of memory");
        return 1;
    }
    cr.fc.url = &cr.url;
    cr.fc.prefix = cr.cfg.prefix;
    cr.base = event_base_new();
    if (!cr.base) {
        log_error("cannot create the event loop");
        return 1;
    }
    cr.timer = evtimer_new(cr.base, on_tick, &cr);
    cr.sig_hup = evsignal_new(cr.base, SIGHUP, on_signal, &cr);
    cr.sig_term = evsignal_new(cr.base, SIGTERM, on_signal, &cr);
    cr.sig_int = evsignal_new(cr.base, SIGINT, on_signal, &cr);
    if (!cr.timer || !cr.sig_hup || !cr.sig_term || !cr.sig_int) {
        log_error("out of memory");
        return 1;
    }
    evsignal_add(cr.sig_hup, NULL);
    evsignal_add(cr.sig_term, NULL);
    evsignal_add(cr.sig_int, NULL);
    log_info("arun-cron %s starting: %s, %zu entries, time zone %s", ARUN_VERSION,
             cr.cfg.schedule, cr.sched.n, cr.sched.tz);
    on_tick(-1, 0, &cr);
    event_base_dispatch(cr.base);

    event_free(cr.timer);
    event_free(cr.sig_hup);
    event_free(cr.sig_term);
    event_free(cr.sig_int);
    event_base_free(cr.base);
    fire_close(&cr.fc);
    schedule_free(&cr.sched);
    free(cr.next);
    free(cr.catchup);
    log_info("arun-cron stopped");
    return 0;
}
