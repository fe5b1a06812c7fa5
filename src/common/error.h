/*
 * Internal error helpers (style.md B4). hollow__error_set() records the
 * detail in the thread-local last error and returns the code, so a failing
 * path reads `return hollow__error_set(HOLLOW_ECORRUPT, "...", ...);`.
 */
#ifndef HOLLOW_SRC_COMMON_ERROR_H
#define HOLLOW_SRC_COMMON_ERROR_H

#include "hollow/error.h"

#if defined(__GNUC__)
#define HOLLOW__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HOLLOW__COLD __attribute__((cold))
#define HOLLOW__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define HOLLOW__PRINTF(a, b)
#define HOLLOW__COLD
#define HOLLOW__UNLIKELY(x) (x)
#endif

int hollow__error_set(int code, const char *fmt, ...) HOLLOW__PRINTF(2, 3);
/* like hollow__error_set, with errno recorded (code is usually HOLLOW_EIO) */
int hollow__error_set_os(int code, int err, const char *fmt, ...)
    HOLLOW__PRINTF(3, 4);
/* prefix the current message with "<prefix>: " and return the current code */
int hollow__error_prefix(const char *fmt, ...) HOLLOW__PRINTF(1, 2);
int hollow__error_oom(void);
/* a NULL argument at a public entry point (style.md B4.6): sets
 * HOLLOW_EINVAL, "null argument: <name>", and returns it */
int hollow__error_null(const char *name) HOLLOW__COLD;
/* return HOLLOW_EINVAL from a public entry point when `p` is NULL; the
 * branch is predicted not taken, so hot accessors can afford it */
#define HOLLOW__ARG_NOT_NULL(p)                                                \
    do {                                                                       \
        if (HOLLOW__UNLIKELY((p) == NULL))                                     \
            return hollow__error_null(#p);                                     \
    } while (0)
/* 0 if an options struct has the version we know, else HOLLOW_EINVAL
 * "<who>: options version <got>, expected <want>" */
int hollow__check_options_version(const char *who, unsigned got,
                                  unsigned want);

#define HOLLOW_TRY(expr)                                                       \
    do {                                                                       \
        int hollow__rc = (expr);                                               \
        if (hollow__rc < 0)                                                    \
            return hollow__rc;                                                 \
    } while (0)

#define HOLLOW_CHECK_ALLOC(p)                                                  \
    do {                                                                       \
        if ((p) == NULL)                                                       \
            return hollow__error_oom();                                        \
    } while (0)

#endif
