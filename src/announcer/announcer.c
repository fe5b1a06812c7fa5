/*
 * The generic announcer calls (hollow/announcer.h): argument checks, then
 * the backend's vtable (hollow/sys/announcer.h); an optional entry that a
 * backend left NULL gives HOLLOW_ENOTSUPPORTED. Also the reader of
 * descriptor subscriptions, which is backend-independent: the pipe carries
 * one 8-byte version (native byte order) per announcement, and writes of
 * 8 bytes to a pipe are atomic, so a read of a multiple of 8 bytes never
 * splits a record.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "hollow/sys/announcer.h"

static int check(const hollow_announcer *a)
{
    if (a == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "announcer is NULL");
    if (a->version != HOLLOW_ANNOUNCER_VERSION)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "announcer vtable version %u, expected %u",
                                 a->version, HOLLOW_ANNOUNCER_VERSION);
    /* a backend's own vtable missing a required entry: refused, not called */
    if (a->announce == NULL || a->latest == NULL || a->subscribe == NULL ||
        a->unsubscribe == NULL || a->wait_for_version == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "announcer vtable lacks a required entry "
                                 "(announce, latest, subscribe, unsubscribe, "
                                 "wait_for_version)");
    return 0;
}

static int unsupported(const char *what)
{
    return hollow__error_set(HOLLOW_ENOTSUPPORTED,
                             "this announcer does not support %s", what);
}

int hollow_announcer_announce(hollow_announcer *a, int64_t version)
{
    HOLLOW_TRY(check(a));
    if (version < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative version %lld",
                                 (long long)version);
    return a->announce(a, version);
}

int hollow_announcer_latest(int64_t *out, hollow_announcer *a)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "latest: out is NULL");
    HOLLOW_TRY(check(a));
    return a->latest(out, a);
}

int hollow_announcer_subscribe(hollow_subscription_id *id_out,
                               hollow_announcer *a, hollow_announcement_cb cb,
                               void *payload)
{
    if (id_out == NULL || cb == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "subscribe: id_out or callback is NULL");
    *id_out = 0;
    HOLLOW_TRY(check(a));
    return a->subscribe(id_out, a, cb, payload);
}

int hollow_announcer_subscribe_fd(int *fd_out, hollow_subscription_id *id_out,
                                  hollow_announcer *a)
{
    if (fd_out == NULL || id_out == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "subscribe_fd: fd_out or id_out is NULL");
    *fd_out = -1;
    *id_out = 0;
    HOLLOW_TRY(check(a));
    if (a->subscribe_fd == NULL)
        return unsupported("descriptor subscribers");
    return a->subscribe_fd(fd_out, id_out, a);
}

int hollow_announcer_unsubscribe(hollow_announcer *a, hollow_subscription_id id)
{
    HOLLOW_TRY(check(a));
    return a->unsubscribe(a, id);
}

int hollow_announcer_pin(hollow_announcer *a, int64_t version)
{
    HOLLOW_TRY(check(a));
    if (version < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative version %lld",
                                 (long long)version);
    if (a->pin == NULL)
        return unsupported("pinning");
    return a->pin(a, version);
}

int hollow_announcer_unpin(hollow_announcer *a)
{
    HOLLOW_TRY(check(a));
    if (a->unpin == NULL)
        return unsupported("pinning");
    return a->unpin(a);
}

int hollow_announcer_wait_for_version(hollow_announcer *a, int64_t version,
                                      int timeout_ms)
{
    HOLLOW_TRY(check(a));
    return a->wait_for_version(a, version, timeout_ms);
}

int hollow_announcer_drain(hollow_announcer *a, int timeout_ms)
{
    HOLLOW_TRY(check(a));
    if (a->drain == NULL)
        return unsupported("drain");
    return a->drain(a, timeout_ms);
}

int hollow_announcer_stats_get(hollow_announcer_stats *out, hollow_announcer *a)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stats: out is NULL");
    memset(out, 0, sizeof *out);
    HOLLOW_TRY(check(a));
    if (a->stats == NULL)
        return unsupported("stats");
    return a->stats(out, a);
}

int hollow_announcer_lease(hollow_announcer *a, hollow_lease_op op,
                           const char *owner, int64_t ttl_ms, char *holder,
                           size_t holder_cap)
{
    if (holder != NULL && holder_cap > 0)
        holder[0] = '\0';
    else
        holder_cap = 0;
    HOLLOW_TRY(check(a));
    if (owner == NULL || owner[0] == '\0' ||
        strlen(owner) >= HOLLOW_LEASE_OWNER_MAX || strchr(owner, '\n') != NULL)
        return hollow__error_set(HOLLOW_EINVAL, "lease: bad owner name");
    if ((int)op < 0 || (int)op > 2 || (op == HOLLOW_LEASE_ACQUIRE && ttl_ms <= 0))
        return hollow__error_set(HOLLOW_EINVAL, "lease: bad operation or ttl");
    if (a->lease == NULL)
        return unsupported("leases");
    return a->lease(a, op, owner, ttl_ms, holder_cap ? holder : NULL,
                    holder_cap);
}

static bool owner_ok(const char *owner)
{
    return owner != NULL && owner[0] != '\0' &&
           strlen(owner) < HOLLOW_LEASE_OWNER_MAX && strchr(owner, '\n') == NULL;
}

/* the announced version, pins aside; 0 when nothing was announced */
static int announced_now(int64_t *out, hollow_announcer *a)
{
    hollow_announcer_stats st;
    memset(&st, 0, sizeof st);
    if (a->stats != NULL && a->stats(&st, a) == 0 && st.pinned) {
        *out = st.has_latest ? st.latest : 0;
        return 0;
    }
    int rc = a->latest(out, a);
    if (rc == HOLLOW_ENOTFOUND) {
        hollow_error_clear();
        *out = 0;
        return 0;
    }
    return rc;
}

int hollow_announcer_announce_if(hollow_announcer *a, int64_t expected,
                                 const char *owner, int64_t version)
{
    HOLLOW_TRY(check(a));
    if (version < 0 || expected < 0)
        return hollow__error_set(HOLLOW_EINVAL, "negative version");
    if (owner != NULL && !owner_ok(owner))
        return hollow__error_set(HOLLOW_EINVAL, "announce_if: bad owner name");
    if (a->announce_if != NULL)
        return a->announce_if(a, expected, owner, version);
    if (owner != NULL) {
        if (a->lease == NULL)
            return unsupported("leases");
        HOLLOW_TRY(a->lease(a, HOLLOW_LEASE_CHECK, owner, 0, NULL, 0));
    }
    int64_t cur = 0;
    HOLLOW_TRY(announced_now(&cur, a));
    if (cur != expected)
        return hollow__error_set(HOLLOW_ESTATE, "version %lld is announced, "
                                 "not %lld: another producer announced "
                                 "meanwhile", (long long)cur,
                                 (long long)expected);
    return a->announce(a, version);
}

void hollow_announcer_free(hollow_announcer *a)
{
    if (a != NULL && a->free != NULL)
        a->free(a);
}

int hollow_announcer_fd_read(int64_t *versions, size_t cap, size_t *count_out,
                             int fd)
{
    if (count_out != NULL)
        *count_out = 0;
    if (versions == NULL || cap == 0 || count_out == NULL || fd < 0)
        return hollow__error_set(HOLLOW_EINVAL, "fd_read: bad arguments");
    if (cap > SSIZE_MAX / sizeof *versions)
        cap = SSIZE_MAX / sizeof *versions;
    ssize_t n;
    do
        n = read(fd, versions, cap * sizeof *versions);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return hollow__error_set_os(HOLLOW_EIO, errno,
                                    "read announcement descriptor %d", fd);
    }
    if (n == 0)
        return hollow__error_set(HOLLOW_ESTATE, "subscription ended");
    if ((size_t)n % sizeof *versions != 0) /* someone else read part of it */
        return hollow__error_set_os(HOLLOW_EIO, EIO,
                                    "partial announcement record on %d", fd);
    *count_out = (size_t)n / sizeof *versions;
    return 0;
}
