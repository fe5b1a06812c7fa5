/*
 * hollow/error.h - error codes and the thread-local last error.
 *
 * A function that can fail returns int: HOLLOW_OK (0) on success and a
 * negative hollow_error_code on failure. Positive values are never errors
 * (a read call returns HOLLOW_NULL, 1, for a null field). After a negative
 * return, hollow_error_last() on the same thread says what went wrong.
 *
 * Arguments (style.md B4.6): a NULL pointer where a handle, out parameter,
 * name or callback is required, an options struct whose `version` is not
 * the one in its header, or an enum value outside its type is refused:
 * calls that return int give HOLLOW_EINVAL ("null argument: <name>", or
 * what is wrong); calls that return a value give their empty value (NULL,
 * 0, false, or the "none" value their doc names); void calls do nothing.
 * Pointer arguments documented as optional ("may be NULL") are exempt.
 *
 * Threads: the last error is per thread; every call here is safe from any
 * thread and sees only its own thread's error.
 */
#ifndef HOLLOW_ERROR_H
#define HOLLOW_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Values are pinned: new codes are only ever appended. */
typedef enum hollow_error_code {
    HOLLOW_OK = 0,
    HOLLOW_ERROR = -1,         /**< generic failure; see hollow_error_last() */
    HOLLOW_ENOMEM = -2,        /**< an allocation failed */
    HOLLOW_EINVAL = -3,        /**< bad argument detected at run time */
    HOLLOW_ENOTFOUND = -4,     /**< type, field, key, version or blob absent */
    HOLLOW_EEXISTS = -5,       /**< name or key already defined */
    HOLLOW_EIO = -6,           /**< OS I/O error; errno in hollow_error_last() */
    HOLLOW_ECORRUPT = -7,      /**< blob bytes failed validation */
    HOLLOW_EVERSION = -8,      /**< unsupported blob or schema version */
    HOLLOW_ESTATE = -9,        /**< object state forbids this call */
    HOLLOW_EBACKEND = -10,     /**< blob store or announcer backend failed */
    HOLLOW_ENOTSUPPORTED = -11, /**< feature compiled out */
    HOLLOW_ERANGE = -12,       /**< caller's buffer too small / value out of range */
    HOLLOW_EPARSE = -13,       /**< text (schema, data) failed to parse */
    HOLLOW_ECHAIN = -14,       /**< delta does not apply to this state (origin
                                    tag or schema mismatch): load a snapshot */
    HOLLOW_EUSER = -30         /**< reserved for callbacks; passed through */
} hollow_error_code;

/** Not an error: the value read is null. */
#define HOLLOW_NULL 1

/** Detail of the last error on this thread. */
typedef struct hollow_error {
    int code;            /**< the hollow_error_code returned */
    int os_errno;        /**< errno for HOLLOW_EIO, else 0 */
    const char *message; /**< one line, lowercase, no final period */
} hollow_error;

/**
 * The last error set on the calling thread. Meaningful only right after a
 * call returned a negative code. Never NULL (after a success it may hold a
 * stale error, or code 0 and an empty message).
 *
 * Lifetime: valid until the next hollow call on this thread.
 */
HOLLOW_API const hollow_error *hollow_error_last(void);

/** Static text for a code; never NULL. */
HOLLOW_API const char *hollow_strerror(int code);

/** Forget the last error of the calling thread. */
HOLLOW_API void hollow_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_ERROR_H */
