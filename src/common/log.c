/*
 * The log hook (hollow_set_log). One process-wide sink: a threshold read
 * without a lock on the fast path, and a mutex that guards the callback
 * and serializes deliveries, so that once hollow_set_log() returns the old
 * callback is never entered again and its payload may be freed. A
 * thread-local flag marks a delivery in progress: messages logged from
 * inside the callback are dropped instead of deadlocking on the mutex.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "thread.h"

#define LOG_CAP 1024

static hollow__mutex log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_level = HOLLOW_LOG_WARN;
static hollow_log_fn log_fn;      /* NULL: stderr; guarded by log_mu */
static void *log_payload;         /* guarded by log_mu */
static _Thread_local bool tl_in_log;

const char *hollow_log_level_name(hollow_log_level level)
{
    switch (level) {
    case HOLLOW_LOG_NONE: return "none";
    case HOLLOW_LOG_ERROR: return "error";
    case HOLLOW_LOG_WARN: return "warning";
    case HOLLOW_LOG_INFO: return "info";
    case HOLLOW_LOG_DEBUG: return "debug";
    }
    return "unknown";
}

int hollow_set_log(hollow_log_level level, hollow_log_fn fn, void *payload)
{
    if ((int)level < HOLLOW_LOG_NONE || (int)level > HOLLOW_LOG_DEBUG)
        return hollow__error_set(HOLLOW_EINVAL, "log level %d", (int)level);
    if (tl_in_log)
        return hollow__error_set(HOLLOW_ESTATE, "hollow_set_log called from "
                                 "a log callback");
    hollow__mutex_lock(&log_mu);
    log_fn = fn;
    log_payload = payload;
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
    hollow__mutex_unlock(&log_mu);
    return 0;
}

bool hollow__log_enabled(hollow_log_level level)
{
    return level != HOLLOW_LOG_NONE &&
           (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static void to_stderr(hollow_log_level level, const char *msg)
{
    char line[LOG_CAP + 32];
    /* one write per line, so lines of several threads do not interleave */
    int n = snprintf(line, sizeof line, "hollow: %s: %s\n",
                     hollow_log_level_name(level), msg);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
               stderr);
}

void hollow__log(hollow_log_level level, const char *fmt, ...)
{
    if (!hollow__log_enabled(level) || tl_in_log)
        return;
    char msg[LOG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hollow__mutex_lock(&log_mu);
    /* the threshold may have changed while we formatted */
    if (hollow__log_enabled(level)) {
        tl_in_log = true;
        if (log_fn != NULL)
            log_fn(level, msg, log_payload);
        else
            to_stderr(level, msg);
        tl_in_log = false;
    }
    hollow__mutex_unlock(&log_mu);
}
