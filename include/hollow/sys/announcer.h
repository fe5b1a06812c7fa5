/*
 * hollow/sys/announcer.h - the announcer backend interface (style.md B8).
 *
 * A backend is a struct whose first member is a `struct hollow_announcer`
 * filled with its functions (see hollow/sys/blobstore.h for the pattern).
 * The generic calls of hollow/announcer.h check their arguments and then
 * call the backend. Optional entries may be NULL: the generic call then
 * returns HOLLOW_ENOTSUPPORTED. A vtable lacking a required entry
 * (announce, latest, subscribe, unsubscribe, wait_for_version) makes every
 * generic call return HOLLOW_EINVAL. This interface is stable only within
 * a minor release.
 *
 * Threads: every function except free must be safe to call from any
 * thread, including from a subscriber's callback on the backend's own
 * delivery thread. A backend documents the threads it starts and joins
 * them in free.
 */
#ifndef HOLLOW_SYS_ANNOUNCER_H
#define HOLLOW_SYS_ANNOUNCER_H

#include "../announcer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of struct hollow_announcer; the generic calls check it. */
#define HOLLOW_ANNOUNCER_VERSION 1

/** The vtable of an announcer backend. */
struct hollow_announcer {
    /** HOLLOW_ANNOUNCER_VERSION */
    unsigned int version;

    /** Announce `version` (>= 0); must not block on subscribers. */
    int (*announce)(hollow_announcer *a, int64_t version);

    /** The latest (or pinned) version; HOLLOW_ENOTFOUND if none. */
    int (*latest)(int64_t *out, hollow_announcer *a);

    /** Add a callback subscriber (`cb` not NULL). */
    int (*subscribe)(hollow_subscription_id *id_out, hollow_announcer *a,
                     hollow_announcement_cb cb, void *payload);

    /** Add a descriptor subscriber. Optional. */
    int (*subscribe_fd)(int *fd_out, hollow_subscription_id *id_out,
                        hollow_announcer *a);

    /** End a subscription; HOLLOW_ENOTFOUND if unknown. */
    int (*unsubscribe)(hollow_announcer *a, hollow_subscription_id id);

    /** Pin a version. Optional. */
    int (*pin)(hollow_announcer *a, int64_t version);

    /** Remove the pin. Optional (with pin). */
    int (*unpin)(hollow_announcer *a);

    /** Wait until latest >= version, as hollow_announcer_wait_for_version(). */
    int (*wait_for_version)(hollow_announcer *a, int64_t version,
                            int timeout_ms);

    /** Wait until the queue is delivered. Optional. */
    int (*drain)(hollow_announcer *a, int timeout_ms);

    /** Fill the counters. Optional. */
    int (*stats)(hollow_announcer_stats *out, hollow_announcer *a);

    /** Stop the backend's threads and free it. */
    void (*free)(hollow_announcer *a);

    /**
     * The producer lease, as hollow_announcer_lease() (arguments checked,
     * `holder` non-NULL or `holder_cap` 0). Optional.
     */
    int (*lease)(hollow_announcer *a, hollow_lease_op op, const char *owner,
                 int64_t ttl_ms, char *holder, size_t holder_cap);

    /**
     * Compare-and-announce, as hollow_announcer_announce_if() (arguments
     * checked): the checks and the announcement must be one step against
     * every other announce_if and lease call of the backend. Optional: when
     * NULL the generic call checks and announces in separate steps. A
     * backend built before this entry existed must have zeroed the struct.
     */
    int (*announce_if)(hollow_announcer *a, int64_t expected,
                       const char *owner, int64_t version);
};

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_SYS_ANNOUNCER_H */
