/*
 * log: one JSON object per line on stderr, for the services that run arun
 * and parse its output. Fields are few and stable: time, level, msg,
 * subsystem ("analytics"), and job_id/script when a line is about a job.
 */
#ifndef ARUN_LOG_H
#define ARUN_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is written. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/* Returns non-zero when a line at this level would be written: check it
 * before building an expensive message. */
int log_enabled(enum log_level level);

/* Writes one line. job_id and script may be NULL. errno is preserved. */
void log_job(enum log_level level, const char *job_id, const char *script,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_job(LOG_DEBUG, NULL, NULL, __VA_ARGS__)
#define log_info(...)  log_job(LOG_INFO, NULL, NULL, __VA_ARGS__)
#define log_warn(...)  log_job(LOG_WARN, NULL, NULL, __VA_ARGS__)
#define log_error(...) log_job(LOG_ERROR, NULL, NULL, __VA_ARGS__)

#endif
