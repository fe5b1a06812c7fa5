/*
 * The thread-local last error (libgit2 style). Each thread owns one
 * fixed-size record; messages longer than it are truncated.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_CAP 512

static _Thread_local struct {
    hollow_error err;
    char msg[MSG_CAP];
} tl_error;

static void vset(int code, int os_errno, const char *fmt, va_list ap)
    HOLLOW__PRINTF(3, 0);

static void vset(int code, int os_errno, const char *fmt, va_list ap)
{
    vsnprintf(tl_error.msg, sizeof tl_error.msg, fmt, ap);
    tl_error.err.code = code;
    tl_error.err.os_errno = os_errno;
    tl_error.err.message = tl_error.msg;
}

int hollow__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(code, 0, fmt, ap);
    va_end(ap);
    return code;
}

int hollow__error_set_os(int code, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(code, err, fmt, ap);
    va_end(ap);
    size_t n = strlen(tl_error.msg);
    if (err != 0 && n + 3 < sizeof tl_error.msg)
        snprintf(tl_error.msg + n, sizeof tl_error.msg - n, ": %s",
                 strerror(err));
    return code;
}

int hollow__error_prefix(const char *fmt, ...)
{
    char prefix[MSG_CAP], old[MSG_CAP];
    va_list ap;
    /* fmt is checked by the HOLLOW__PRINTF attribute of the declaration */
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, tl_error.msg, sizeof old);
    /* truncation is fine: messages are one line of context */
    size_t n = strlen(prefix);
    if (n > MSG_CAP - 3)
        n = MSG_CAP - 3;
    memcpy(tl_error.msg, prefix, n);
    tl_error.msg[n] = ':';
    tl_error.msg[n + 1] = ' ';
    size_t rest = MSG_CAP - n - 3;
    size_t olen = strnlen(old, sizeof old);
    if (olen > rest)
        olen = rest;
    memcpy(tl_error.msg + n + 2, old, olen);
    tl_error.msg[n + 2 + olen] = '\0';
    tl_error.err.message = tl_error.msg;
    return tl_error.err.code;
}

int hollow__error_oom(void)
{
    return hollow__error_set(HOLLOW_ENOMEM, "out of memory");
}

int hollow__error_null(const char *name)
{
    return hollow__error_set(HOLLOW_EINVAL, "null argument: %s", name);
}

const hollow_error *hollow_error_last(void)
{
    if (tl_error.err.message == NULL)
        tl_error.err.message = tl_error.msg;
    return &tl_error.err;
}

void hollow_error_clear(void)
{
    tl_error.err.code = 0;
    tl_error.err.os_errno = 0;
    tl_error.msg[0] = '\0';
    tl_error.err.message = tl_error.msg;
}

const char *hollow_strerror(int code)
{
    switch (code) {
    case HOLLOW_OK: return "success";
    case HOLLOW_ERROR: return "error";
    case HOLLOW_ENOMEM: return "out of memory";
    case HOLLOW_EINVAL: return "invalid argument";
    case HOLLOW_ENOTFOUND: return "not found";
    case HOLLOW_EEXISTS: return "already exists";
    case HOLLOW_EIO: return "i/o error";
    case HOLLOW_ECORRUPT: return "corrupt blob";
    case HOLLOW_EVERSION: return "unsupported version";
    case HOLLOW_ESTATE: return "invalid state for this call";
    case HOLLOW_EBACKEND: return "backend failure";
    case HOLLOW_ENOTSUPPORTED: return "not supported in this build";
    case HOLLOW_ERANGE: return "buffer too small or value out of range";
    case HOLLOW_EPARSE: return "parse error";
    case HOLLOW_ECHAIN: return "delta does not apply to this state";
    case HOLLOW_EUSER: return "stopped by a callback";
    default: return "unknown error";
    }
}

int hollow__check_options_version(const char *who, unsigned got, unsigned want)
{
    if (got == want)
        return 0;
    return hollow__error_set(HOLLOW_EINVAL, "%s: options version %u, expected %u",
                             who, got, want);
}
