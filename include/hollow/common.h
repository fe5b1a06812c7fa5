/*
 * hollow/common.h - export macro, basic types, allocator and log hooks.
 *
 * Every other public header includes this one. Nothing here allocates; the
 * allocator must be installed before any other hollow call.
 */
#ifndef HOLLOW_COMMON_H
#define HOLLOW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HOLLOW_STATIC_DEFINE)
#define HOLLOW_API
#elif defined(__GNUC__)
#define HOLLOW_API __attribute__((visibility("default")))
#else
#define HOLLOW_API
#endif

/**
 * An ordinal: the index of a record within its type (blob-format.md §0.3).
 * Ordinals fit in 31 bits; HOLLOW_ORDINAL_NONE means "no record".
 */
typedef int32_t hollow_ordinal;
#define HOLLOW_ORDINAL_NONE ((hollow_ordinal)-1)

/**
 * A borrowed run of UTF-8 text: not NUL-terminated. When it comes from a
 * read state it stays valid while that state is pinned.
 */
typedef struct hollow_str {
    const char *ptr;
    size_t len;
} hollow_str;

/** A borrowed run of bytes; same lifetime rules as hollow_str. */
typedef struct hollow_bytes {
    const uint8_t *ptr;
    size_t len;
} hollow_bytes;

/**
 * Allocator hooks. All heap memory of the library goes through these.
 * `opaque` is passed back unchanged. The functions must be thread-safe and
 * follow malloc/realloc/free semantics (realloc(NULL, n) allocates,
 * free(NULL) is a no-op).
 */
typedef struct hollow_allocator {
    void *(*malloc_fn)(void *opaque, size_t size);
    void *(*realloc_fn)(void *opaque, void *ptr, size_t size);
    void (*free_fn)(void *opaque, void *ptr);
    void *opaque;
} hollow_allocator;

/**
 * Install an allocator; NULL restores the C library's malloc/realloc/free.
 *
 * Threads: call it before any other hollow call and never while another
 * thread uses the library.
 */
HOLLOW_API void hollow_set_allocator(const hollow_allocator *a);

/**
 * "The latest version" for calls that take a version
 * (hollow_consumer_refresh(), hollow_producer_restore()): the announced
 * version, or without an announcer the newest the blob store reaches.
 */
#define HOLLOW_VERSION_LATEST ((int64_t)-1)

/* ------------------------------------------------------------------ log */

/** How serious a log message is; smaller is more serious. */
typedef enum hollow_log_level {
    HOLLOW_LOG_NONE = 0,  /**< as a threshold only: log nothing */
    HOLLOW_LOG_ERROR = 1, /**< work the library was asked to do is lost */
    HOLLOW_LOG_WARN = 2,  /**< a background task failed and will be retried,
                               or something is wrong and was worked around */
    HOLLOW_LOG_INFO = 3,  /**< notable events (a refresh done) */
    HOLLOW_LOG_DEBUG = 4  /**< detail for finding a problem */
} hollow_log_level;

/**
 * Receives one log message: one line, lowercase, no final period and no
 * newline, at most 1023 bytes (longer ones are cut). `message` is valid
 * during the call only.
 *
 * Threads: runs on the thread that logs, which may be a library thread (a
 * consumer's watcher, a producer's lease renewer). Calls are serialized:
 * never two at once. The callback must return quickly and must not call
 * hollow_set_log() (which then returns HOLLOW_ESTATE); messages the library
 * would log from inside the callback are dropped. Other hollow calls are
 * allowed, and may change hollow_error_last() of the logging thread.
 */
typedef void (*hollow_log_fn)(hollow_log_level level, const char *message,
                              void *payload);

/**
 * Route the library's log messages: those at `level` or more serious go to
 * `fn`, the others are dropped. The library writes nothing to stdout or
 * stderr by itself except through this. By default (and after
 * hollow_set_log(HOLLOW_LOG_WARN, NULL, NULL)) warnings and errors go to
 * stderr as "hollow: warning: <message>".
 *
 * @param level    the least serious level delivered; HOLLOW_LOG_NONE
 *                 silences the library
 * @param fn       the callback, or NULL for the stderr writer
 * @param payload  passed to `fn` unchanged (borrowed: must stay valid until
 *                 another hollow_set_log() returns)
 * @return 0; HOLLOW_EINVAL for a level outside NONE..DEBUG; HOLLOW_ESTATE
 *         when called from inside a log callback. On failure nothing
 *         changes.
 *
 * Threads: any thread, at any time. Once it returns, the previous callback
 * is never called again (a message being delivered meanwhile is waited for).
 */
HOLLOW_API int hollow_set_log(hollow_log_level level, hollow_log_fn fn,
                              void *payload);

/** "error", "warning", "info", "debug", "none", or "unknown" for a value
 * outside the enum; static, never NULL. */
HOLLOW_API const char *hollow_log_level_name(hollow_log_level level);

/* -------------------------------------------------------------- version */

/** Library version as MAJOR*10000 + MINOR*100 + PATCH, at run time. */
HOLLOW_API int hollow_version_number(void);

/** Library version as "MAJOR.MINOR.PATCH", a static string. */
HOLLOW_API const char *hollow_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_COMMON_H */
