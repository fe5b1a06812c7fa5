/*
 * hollow/announcer.h - telling consumers which version is current.
 *
 * A producer announces each version it publishes; consumers learn of it
 * by subscribing (a callback, or a file descriptor for event loops), by
 * asking for the latest version, or by waiting for a version. An operator
 * may pin a version: while pinned, everyone is told the pinned version and
 * later announcements are held back until unpin.
 *
 * Built-in announcers:
 *  - in-process (hollow_announcer_inproc_new): producer and consumers in
 *    one process;
 *  - filesystem (hollow_announcer_fs_new): Java's `announced.version` file
 *    in a store directory (blob-format.md §13), shared with other
 *    processes and with Java producers and consumers.
 *
 * Delivery (both): a worker thread that the announcer owns (the "delivery
 * worker", started by _new and joined by hollow_announcer_free()) hands
 * every announcement, in the order they were accepted, to every
 * subscriber. A subscriber receives the announcements accepted after it
 * subscribed. Callback subscribers run on the worker; descriptor
 * subscribers get 8-byte records written to a pipe whose read end they
 * own. A callback that returns non-zero, or a descriptor whose read end
 * was closed, removes that subscriber.
 *
 * Backends of one's own implement the vtable in hollow/sys/announcer.h.
 * docs/blobstores.md says what each announcer promises.
 */
#ifndef HOLLOW_ANNOUNCER_H
#define HOLLOW_ANNOUNCER_H

#include "common.h"
#include "error.h"
#include "blobstore.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An announcer: a vtable (hollow/sys/announcer.h) with the backend's state
 * behind it.
 *
 * Ownership: created by a hollow_announcer_*_new() call and freed with
 * hollow_announcer_free(); producers and consumers borrow it.
 * Threads: every call is safe from any thread, including from a callback
 * running on the delivery worker, except hollow_announcer_free() (never
 * from a callback, and with no other call running). The announcer owns one
 * thread, the delivery worker; the filesystem announcer owns a second one,
 * the watcher. Both are joined by hollow_announcer_free().
 */
typedef struct hollow_announcer hollow_announcer;

/** Identifies a subscription; never 0, never reused by an announcer. */
typedef uint64_t hollow_subscription_id;

/**
 * A callback subscriber: receives each version announced (or pinned). It
 * runs on the delivery worker, must return quickly and must not free the
 * announcer. Return 0 to stay subscribed; any other value unsubscribes it
 * (counted in stats.removed).
 */
typedef int (*hollow_announcement_cb)(int64_t version, void *payload);

/** Counters of an announcer (hollow_announcer_stats()). */
typedef struct hollow_announcer_stats {
    size_t subscribers;     /**< current subscribers, both kinds */
    uint64_t announced;     /**< announcements accepted */
    uint64_t dropped;       /**< announcements refused: queue full */
    uint64_t delivered;     /**< deliveries made (one per subscriber each) */
    uint64_t lost;          /**< deliveries lost: a descriptor's pipe full */
    uint64_t removed;       /**< subscribers removed: failed or closed */
    size_t queued;          /**< announcements waiting for the worker */
    bool has_latest;        /**< something was announced (or found) */
    int64_t latest;         /**< last version announced, pin aside */
    bool pinned;            /**< a version is pinned */
    int64_t pinned_version; /**< the pinned version when `pinned` */
} hollow_announcer_stats;

/** Options of the in-process announcer. */
typedef struct hollow_announcer_inproc_options {
    unsigned int version;  /**< HOLLOW_ANNOUNCER_INPROC_OPTIONS_VERSION */
    size_t queue_capacity; /**< announcements waiting for delivery (>= 1) */
    unsigned int spin_us;  /**< how long the worker polls for more work
                                before sleeping (0: sleep at once); saves
                                the wake-up latency of back-to-back
                                announcements at the cost of that much CPU
                                after each one */
} hollow_announcer_inproc_options;

#define HOLLOW_ANNOUNCER_INPROC_OPTIONS_VERSION 1
#define HOLLOW_ANNOUNCER_DEFAULT_QUEUE 1024
#define HOLLOW_ANNOUNCER_DEFAULT_SPIN_US 50
#define HOLLOW_ANNOUNCER_INPROC_OPTIONS_INIT                                   \
    { HOLLOW_ANNOUNCER_INPROC_OPTIONS_VERSION,                                 \
      HOLLOW_ANNOUNCER_DEFAULT_QUEUE, HOLLOW_ANNOUNCER_DEFAULT_SPIN_US }

/**
 * Create an in-process announcer and start its delivery worker.
 *
 * @param out   receives the announcer; NULL on failure
 * @param opts  NULL for defaults
 * @return 0; HOLLOW_EINVAL for an unknown options version or a zero
 *         queue capacity; HOLLOW_ENOMEM; HOLLOW_ERROR if the thread cannot
 *         be started.
 * Threads: starts the delivery worker; hollow_announcer_free() joins it.
 */
HOLLOW_API int hollow_announcer_inproc_new(
    hollow_announcer **out, const hollow_announcer_inproc_options *opts);

/** Options of the filesystem announcer. */
typedef struct hollow_announcer_fs_options {
    unsigned int version;  /**< HOLLOW_ANNOUNCER_FS_OPTIONS_VERSION */
    const char *dir;       /**< the store directory (required; copied) */
    size_t queue_capacity; /**< as for the in-process announcer */
    unsigned int spin_us;  /**< as for the in-process announcer */
    unsigned int poll_interval_ms; /**< polling period: the fallback when
                                        inotify is unavailable, and a
                                        safety re-check when it is (Java
                                        polls once a second) */
    bool force_polling;    /**< never use inotify (tests, NFS) */
    bool fsync;            /**< fsync the file and directory (default) */
} hollow_announcer_fs_options;

#define HOLLOW_ANNOUNCER_FS_OPTIONS_VERSION 1
#define HOLLOW_ANNOUNCER_FS_OPTIONS_INIT                                       \
    { HOLLOW_ANNOUNCER_FS_OPTIONS_VERSION, NULL,                               \
      HOLLOW_ANNOUNCER_DEFAULT_QUEUE, HOLLOW_ANNOUNCER_DEFAULT_SPIN_US, 1000,  \
      false, true }

/**
 * Create a filesystem announcer over a store directory and start its two
 * threads: the delivery worker and the watcher.
 *
 * Announcing writes the version as ASCII decimal digits, no newline, to
 * `announced.version.tmp` and renames it over `announced.version` (atomic
 * replace, as Java's HollowFilesystemAnnouncer does), then fsyncs the
 * directory. The watcher notices new versions written by anyone (this
 * announcer, another process, a Java producer) through inotify
 * (IN_MOVED_TO / IN_CLOSE_WRITE on the directory), or by re-reading the
 * file every `poll_interval_ms` when inotify is unavailable or
 * `force_polling` is set (with inotify, that re-read is a safety net), and
 * hands them to the delivery worker. A file watcher sees the file's successive contents, so
 * versions replaced faster than it looks may be skipped, but those it
 * delivers come in the order they were written; this announcer's own
 * announcements are all delivered, in order. A version already in the file
 * at creation is the latest but is not delivered.
 *
 * @param out   receives the announcer; NULL on failure
 * @param opts  options; `dir` is required and must exist
 * @return 0; HOLLOW_EINVAL for missing options or dir or a zero queue
 *         capacity; HOLLOW_ENOTFOUND if `dir` does not exist; HOLLOW_EIO;
 *         HOLLOW_ENOMEM; HOLLOW_ERROR if a thread cannot be started.
 * Threads: starts the delivery worker and the watcher;
 *          hollow_announcer_free() joins both. Pins are local to this
 *          announcer object and are not written to the file.
 */
HOLLOW_API int hollow_announcer_fs_new(hollow_announcer **out,
                                       const hollow_announcer_fs_options *opts);

/** Options of the S3 announcer. */
typedef struct hollow_announcer_s3_options {
    unsigned int version;  /**< HOLLOW_ANNOUNCER_S3_OPTIONS_VERSION */
    hollow_blobstore *store; /**< an S3 store (required; borrowed, must
                                  outlive the announcer) */
    size_t queue_capacity; /**< as for the in-process announcer */
    unsigned int spin_us;  /**< as for the in-process announcer */
    unsigned int poll_interval_ms; /**< how often the watcher asks S3;
                                        0: 1000 */
} hollow_announcer_s3_options;

#define HOLLOW_ANNOUNCER_S3_OPTIONS_VERSION 1
#define HOLLOW_ANNOUNCER_S3_OPTIONS_INIT                                       \
    { HOLLOW_ANNOUNCER_S3_OPTIONS_VERSION, NULL,                               \
      HOLLOW_ANNOUNCER_DEFAULT_QUEUE, HOLLOW_ANNOUNCER_DEFAULT_SPIN_US, 1000 }

/**
 * Create an announcer over an S3 store: the object
 * `[prefix/]announced.version` holds the announced version as decimal
 * text (as Java's filesystem announcer writes it). Announcing writes it
 * through the store, so when S3 is unreachable the announcement waits in
 * the store's pending journal after the blobs put before it, and is
 * uploaded after them. A watcher thread polls the object every
 * `poll_interval_ms` with If-None-Match and delivers new versions.
 * There is no lease over S3 (HOLLOW_ENOTSUPPORTED: a producer runs without
 * one; use the Redis announcer where several producers may run).
 *
 * @return 0; HOLLOW_EINVAL when `store` is missing or not an S3 store;
 *         HOLLOW_ENOMEM; HOLLOW_ERROR if a thread cannot be started.
 * Threads: starts the delivery worker and the watcher;
 *          hollow_announcer_free() joins both.
 */
HOLLOW_API int hollow_announcer_s3_new(hollow_announcer **out,
                                       const hollow_announcer_s3_options *opts);

/** Options of the Redis announcer. */
typedef struct hollow_announcer_redis_options {
    unsigned int version;  /**< HOLLOW_ANNOUNCER_REDIS_OPTIONS_VERSION */
    const char *url;       /**< "redis://[:password@]host[:port][/db]", or
                                NULL to use the fields below; rediss:// is
                                refused (hiredis 0.14 has no TLS) */
    const char *host;      /**< NULL: "127.0.0.1" */
    int port;              /**< 0: 6379 */
    const char *password;  /**< AUTH; NULL: none */
    int db;                /**< SELECT; 0 default */
    const char *key_prefix; /**< NULL: "hollow:" */
    unsigned int connect_timeout_ms; /**< 0: 2000 */
    unsigned int command_timeout_ms; /**< 0: 2000 */
    size_t queue_capacity; /**< as for the in-process announcer */
    unsigned int spin_us;  /**< as for the in-process announcer */
} hollow_announcer_redis_options;

#define HOLLOW_ANNOUNCER_REDIS_OPTIONS_VERSION 1
#define HOLLOW_ANNOUNCER_REDIS_OPTIONS_INIT                                    \
    { HOLLOW_ANNOUNCER_REDIS_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, NULL,   \
      0, 0, HOLLOW_ANNOUNCER_DEFAULT_QUEUE, HOLLOW_ANNOUNCER_DEFAULT_SPIN_US }

/**
 * Create a Redis announcer (hiredis). Keys (docs/announcers.md), with
 * `P` the key prefix: announce sets `P latest` and publishes on
 * `P announce` in one step, only when the version is newer than the
 * stored latest; pin sets `P pin` and publishes on `P pin` (unpin deletes
 * it and publishes 0), seen by every consumer on every machine; the lease
 * is `P lease`, set NX PX and renewed or released only by its owner.
 * A watcher thread with its own connection subscribes, delivers in order,
 * and after a lost connection reconnects with backoff and re-reads latest
 * and pin, so nothing announced meanwhile is lost.
 *
 * @return 0; HOLLOW_EINVAL for bad options (rediss://, a bad URL);
 *         HOLLOW_EBACKEND when the server refuses (wrong password: the
 *         message never contains it) or cannot be reached; HOLLOW_ENOMEM;
 *         HOLLOW_ERROR if a thread cannot be started.
 * Threads: starts the delivery worker and the watcher;
 *          hollow_announcer_free() joins both. Calls from several threads
 *          share one command connection under a mutex.
 */
HOLLOW_API int hollow_announcer_redis_new(
    hollow_announcer **out, const hollow_announcer_redis_options *opts);

/**
 * Announce `version`. It becomes the latest version at once, wakes
 * hollow_announcer_wait_for_version() callers, and is queued for delivery
 * to every subscriber (unless a version is pinned: then it is held back
 * and delivered on unpin). Never blocks on subscribers.
 *
 * @return 0; HOLLOW_EINVAL for a negative version; HOLLOW_EBACKEND if the
 *         delivery queue is full (`queue_capacity` announcements not yet
 *         taken by the worker): nothing is announced and stats.dropped
 *         counts it; HOLLOW_EIO when the filesystem announcer cannot write
 *         its file (nothing announced).
 */
HOLLOW_API int hollow_announcer_announce(hollow_announcer *a, int64_t version);

/**
 * The latest version: the pinned one while pinned, otherwise the last one
 * announced (the filesystem announcer reads its file, so it sees other
 * writers at once).
 *
 * @return 0; HOLLOW_ENOTFOUND if nothing was announced yet;
 *         HOLLOW_ECORRUPT if `announced.version` does not hold a decimal
 *         version; HOLLOW_EIO.
 */
HOLLOW_API int hollow_announcer_latest(int64_t *out, hollow_announcer *a);

/**
 * Subscribe a callback.
 *
 * @param id_out   receives the subscription id (for unsubscribe)
 * @param cb       called on the delivery worker with each version
 * @param payload  passed to `cb`; borrowed, must outlive the subscription
 * @return 0; HOLLOW_EINVAL if `cb` is NULL; HOLLOW_ENOMEM.
 * Threads: from any thread, also from a callback (the new subscriber then
 *          starts with the next announcement accepted).
 */
HOLLOW_API int hollow_announcer_subscribe(hollow_subscription_id *id_out,
                                          hollow_announcer *a,
                                          hollow_announcement_cb cb,
                                          void *payload);

/**
 * Subscribe through a file descriptor: the read end of a non-blocking,
 * close-on-exec pipe that becomes readable when versions arrive (one
 * 8-byte record each); read them with hollow_announcer_fd_read(). When
 * about 8000 records are left unread the pipe is full and further versions
 * are lost for this subscriber (stats.lost): after draining, ask
 * hollow_announcer_latest(). Closing the descriptor unsubscribes at the
 * next delivery; unsubscribing (or freeing the announcer) makes it read
 * end-of-file.
 *
 * @param fd_out  receives the descriptor; the caller owns it and closes it
 * @param id_out  receives the subscription id
 * @return 0; HOLLOW_EIO if the pipe cannot be made; HOLLOW_ENOMEM;
 *         HOLLOW_ENOTSUPPORTED for a backend without descriptors.
 */
HOLLOW_API int hollow_announcer_subscribe_fd(int *fd_out,
                                             hollow_subscription_id *id_out,
                                             hollow_announcer *a);

/**
 * Read the versions waiting on a descriptor from
 * hollow_announcer_subscribe_fd(), oldest first, without blocking.
 *
 * @param versions   receives up to `cap` versions
 * @param cap        room in `versions` (>= 1)
 * @param count_out  receives how many were read; 0 if none is waiting
 * @param fd         the descriptor
 * @return 0; HOLLOW_ESTATE when none is waiting and the subscription has
 *         ended (end of file: unsubscribed, removed or announcer freed);
 *         HOLLOW_EINVAL; HOLLOW_EIO.
 */
HOLLOW_API int hollow_announcer_fd_read(int64_t *versions, size_t cap,
                                        size_t *count_out, int fd);

/**
 * End a subscription. When it returns (on a thread other than the
 * delivery worker) the callback is not running and will not run again;
 * from a callback on the worker, it takes effect at once for later
 * deliveries. A descriptor subscriber's pipe is closed on our side.
 *
 * @return 0; HOLLOW_ENOTFOUND if `id` is not a current subscription
 *         (already removed, or never made).
 * Threads: may wait for the callback currently running to return.
 */
HOLLOW_API int hollow_announcer_unsubscribe(hollow_announcer *a,
                                            hollow_subscription_id id);

/**
 * Pin `version`: latest() returns it and subscribers are told it (as an
 * announcement of `version`) until unpin. Announcements meanwhile update
 * the real latest version but are not delivered. Pinning again moves the
 * pin.
 *
 * @return 0; HOLLOW_EINVAL for a negative version; HOLLOW_EBACKEND if the
 *         delivery queue is full (nothing changes).
 */
HOLLOW_API int hollow_announcer_pin(hollow_announcer *a, int64_t version);

/**
 * Remove the pin; subscribers are told the real latest version (if one
 * was announced).
 * @return 0; HOLLOW_ESTATE if nothing is pinned; HOLLOW_EBACKEND if the
 *         delivery queue is full (the pin stays).
 */
HOLLOW_API int hollow_announcer_unpin(hollow_announcer *a);

/**
 * Wait until latest() is at least `version`.
 *
 * @param timeout_ms  how long to wait; 0 checks once, negative waits
 *                    forever
 * @return 0 once latest() >= `version`; HOLLOW_ENOTFOUND when the timeout
 *         passes first, with the message "timed out waiting for version V
 *         (latest L)".
 * Threads: any number of threads may wait at once.
 */
HOLLOW_API int hollow_announcer_wait_for_version(hollow_announcer *a,
                                                 int64_t version,
                                                 int timeout_ms);

/**
 * Wait until every announcement accepted so far has been delivered to
 * every subscriber (the queue is empty and the worker idle).
 *
 * @return 0; HOLLOW_ENOTFOUND on timeout ("timed out draining ...");
 *         HOLLOW_ESTATE if called from a callback on the delivery worker.
 */
HOLLOW_API int hollow_announcer_drain(hollow_announcer *a, int timeout_ms);

/** What hollow_announcer_lease() does. */
typedef enum hollow_lease_op {
    HOLLOW_LEASE_ACQUIRE = 0, /**< take the lease, or renew it if ours */
    HOLLOW_LEASE_CHECK = 1,   /**< is it ours and unexpired? */
    HOLLOW_LEASE_RELEASE = 2  /**< give it up if it is ours */
} hollow_lease_op;

/** Longest lease owner name, with its NUL. */
#define HOLLOW_LEASE_OWNER_MAX 256

/**
 * The single-producer lease, kept where the announcements are, so that
 * every producer announcing through the same backend competes for it
 * (architecture.md §4: one producer at a time). A lease has an owner
 * name and an expiry `ttl_ms` after it was last acquired or renewed; an
 * expired lease belongs to nobody.
 *
 * In-process: a field of the announcer (monotonic clock). Filesystem: the
 * file `.hollow-producer.lease` beside announced.version holding
 * "<expiry, ms since the epoch> <owner>\n", read and rewritten under an
 * exclusive flock(2), so producers in different processes (or several
 * announcer objects in one process) exclude each other; Java ignores the
 * file (its name starts with '.').
 *
 * @param a           the announcer
 * @param op          acquire (or renew), check, or release
 * @param owner       the caller's name, 1..HOLLOW_LEASE_OWNER_MAX-1 bytes
 * @param ttl_ms      time to live from now (acquire; > 0)
 * @param holder      receives the current holder's name when the call
 *                    fails because another owner holds the lease; may be
 *                    NULL
 * @param holder_cap  size of `holder`
 * @return 0 when acquired or renewed, when held by `owner` (check), or
 *         when released or nobody held it (release); HOLLOW_ESTATE when
 *         another owner holds an unexpired lease, or (check) when `owner`
 *         does not hold it; HOLLOW_EINVAL for a bad owner or ttl; HOLLOW_EIO
 *         when the lease file cannot be used; HOLLOW_ENOTSUPPORTED for a
 *         backend without leases.
 * Threads: safe from any thread.
 */
HOLLOW_API int hollow_announcer_lease(hollow_announcer *a, hollow_lease_op op,
                                      const char *owner, int64_t ttl_ms,
                                      char *holder, size_t holder_cap);

/**
 * Announce `version` only if the version announced now (pins aside) is
 * `expected` (0: nothing announced yet) and, when `owner` is not NULL,
 * `owner` holds an unexpired producer lease. The producer announces this
 * way, so a producer that lost its lease, or whose base another producer
 * has replaced meanwhile, cannot fork the history.
 *
 * The filesystem announcer makes the checks and the file replacement
 * under the lease file's exclusive flock(2), the in-process one under its
 * lease mutex: one step against every other announce_if and lease call,
 * in any process. A backend without announce_if gets the checks made
 * just before announcing (not atomic).
 *
 * @return 0; HOLLOW_ESTATE (nothing announced) when the announced version
 *         is not `expected` or `owner` does not hold the lease; HOLLOW_ECORRUPT
 *         when `announced.version` does not hold a version; otherwise as
 *         hollow_announcer_announce() and hollow_announcer_lease().
 */
HOLLOW_API int hollow_announcer_announce_if(hollow_announcer *a,
                                            int64_t expected, const char *owner,
                                            int64_t version);

/**
 * Fill `out` with the announcer's counters (a consistent snapshot).
 * @return 0; HOLLOW_EINVAL.
 */
HOLLOW_API int hollow_announcer_stats_get(hollow_announcer_stats *out,
                                          hollow_announcer *a);

/**
 * Stop the threads (after delivering what was already queued), close our
 * end of every descriptor subscription and free the announcer. NULL is a
 * no-op. The file of a filesystem announcer stays.
 * Threads: never from a callback; no other call may run or follow.
 */
HOLLOW_API void hollow_announcer_free(hollow_announcer *a);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_ANNOUNCER_H */
