/*
 * hollow/consumer.h - the consumer: follows versions, publishes read states.
 *
 * A consumer holds the current read state of a dataset and moves it to
 * other versions by the shortest plan over the blobs of its blob store
 * (architecture.md §4): deltas forwards, reverse deltas backwards, or a
 * snapshot and then deltas when no chain reaches the target or the chain
 * is longer than the double-snapshot limit. A refresh builds the new state
 * aside and publishes it atomically; readers pin states with
 * hollow_consumer_acquire_state() and are never blocked by a refresh. When
 * a plan fails (a delta whose randomized tag does not fit the state, a
 * damaged or vanished blob) the next plan is tried: after a chain from the
 * current state, a snapshot; after a snapshot whose chain does not fit,
 * another snapshot; an unreadable blob is left out. Only when no plan is
 * left does the refresh fail, naming the first blob that failed; it keeps
 * the current state published.
 *
 * With an announcer and `follow` set, a watcher thread refreshes to every
 * announced version by itself (or to the pinned version while pinned).
 * Listeners hear about every refresh, before and after, with what changed
 * per type.
 *
 * Threads: refreshes run one at a time (hollow_consumer_refresh() from any
 * thread, or the watcher); acquire_state and version from any thread at
 * any time. The watcher thread (with `follow`) is joined by
 * hollow_consumer_free(). A failed refresh on the watcher thread is logged
 * as a warning (hollow_set_log()) and kept for
 * hollow_consumer_last_error().
 *
 * Listeners run on the refreshing thread while the consumer's refresh lock
 * is held. From a listener, these calls on the same consumer are refused
 * with HOLLOW_ESTATE (they would wait for the refresh that runs the
 * listener): hollow_consumer_refresh(), hollow_consumer_pin(),
 * hollow_consumer_add_listener(), hollow_consumer_add_index(), and
 * hollow_consumer_wait_for_version() for a version not yet published. A
 * listener must not call hollow_consumer_free() on its consumer. Every
 * other call is allowed, on this consumer and on others (unpin takes
 * effect at the next refresh). Only re-entry on the listener's own thread
 * is detected: a listener that waits for another thread which itself
 * waits for this consumer's refresh deadlocks.
 */
#ifndef HOLLOW_CONSUMER_H
#define HOLLOW_CONSUMER_H

#include "announcer.h"
#include "blobstore.h"
#include "common.h"
#include "index.h"
#include "read.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_consumer hollow_consumer;

/** Most indexes one consumer keeps (hollow_consumer_add_index()). */
#define HOLLOW_CONSUMER_MAX_INDEXES 64

/** What changed in one type by a refresh. */
typedef struct hollow_type_change {
    const char *type;   /**< borrowed: valid during the callback */
    size_t added;       /**< ordinals populated after, not before */
    size_t removed;     /**< ordinals populated before, not after */
} hollow_type_change;

/**
 * A refresh as listeners see it: once before its first blob is read
 * (`done` false) and once after it ended (`done` true), with the same
 * versions. A refresh that finds no blob path to its version is told only
 * after (with the error); one that cannot list the store or ask the
 * announcer, or finds the version already published, is not told.
 *
 * Lifetime: the event and everything it points to are borrowed and valid
 * during the listener call only. Copy `plan` and `changes` to keep them;
 * keep `state` with hollow_read_state_acquire(), which takes this const
 * pointer and returns one to release later.
 */
typedef struct hollow_refresh_event {
    int64_t from_version;            /**< 0 when nothing was loaded */
    int64_t to_version;              /**< the target */
    bool done;                       /**< false: before; true: after */
    int result;                      /**< after: 0 or the error code */
    /** The blobs, in order, e.g. "snapshot-5, delta-5-6"; "nothing to do"
     * for an empty plan. After a chain failed and the refresh started over
     * from a snapshot, the plan it took last. Borrowed, NUL-terminated,
     * valid during the call. */
    const char *plan;
    /** After a success: one entry per type of the new state (NULL before,
     * after a failure, or if there was no memory to count them). */
    const hollow_type_change *changes;
    size_t change_count;             /**< entries in `changes` */
    /** After a success: the new state, already published. NULL otherwise. */
    const hollow_read_state *state;
} hollow_refresh_event;

/**
 * A listener. Runs on the refreshing thread (the caller of
 * hollow_consumer_refresh() or hollow_consumer_pin(), or the watcher)
 * with the refresh lock held: it must return quickly, and it must not call
 * the functions the top of this header names on its own consumer (they
 * return HOLLOW_ESTATE). Listeners are called in the order they were
 * added. `ev` is valid during the call only.
 */
typedef void (*hollow_refresh_listener_fn)(const hollow_refresh_event *ev,
                                           void *payload);

typedef struct hollow_consumer_options {
    unsigned int version;            /**< HOLLOW_CONSUMER_OPTIONS_VERSION */
    hollow_blobstore *blobstore;     /**< borrowed; must outlive the consumer */
    hollow_announcer *announcer;     /**< borrowed; may be NULL */
    bool follow;                     /**< refresh on announcements (watcher) */
    hollow_memory_mode memory_mode;  /**< heap or mmap (snapshots as files) */
    /** Load only these types and the types they reference (NULL-terminated;
     * NULL = every type). Borrowed during hollow_consumer_new() only. */
    const char *const *type_filter;
    /** The longest delta chain followed before a snapshot is preferred
     * (a "double snapshot"); 0 = 32. */
    uint32_t double_snapshot_limit;
    /** A listener from the start, so that it hears the watcher's first
     * refresh (more with hollow_consumer_add_listener()); may be NULL. */
    hollow_refresh_listener_fn listener;
    void *listener_payload;
    /** Threads that apply a delta's types in parallel: 0, the default, is
     * the number of cores the process may run on; 1 applies on the
     * refreshing thread. */
    unsigned int threads;
} hollow_consumer_options;

#define HOLLOW_CONSUMER_OPTIONS_VERSION 2
#define HOLLOW_CONSUMER_OPTIONS_INIT                                           \
    {HOLLOW_CONSUMER_OPTIONS_VERSION, NULL, NULL, false, HOLLOW_MEMORY_HEAP,   \
     NULL, 0, NULL, NULL, 0}

/**
 * Create a consumer (and, with `follow`, its watcher thread, which makes a
 * first refresh to the announced version). Nothing is loaded until the
 * first refresh.
 * @return 0; HOLLOW_EINVAL without options or a blob store, `follow`
 *         without an announcer, options of another version or an unknown
 *         memory mode; HOLLOW_ENOMEM; HOLLOW_ERROR if the thread
 *         cannot start; errors of hollow_announcer_subscribe(). *out is
 *         NULL on failure.
 * Ownership: free it with hollow_consumer_free(), after every other thread
 * stopped using it. The options are copied (the type filter too); the blob
 * store and announcer are borrowed.
 */
HOLLOW_API int hollow_consumer_new(hollow_consumer **out,
                                   const hollow_consumer_options *opts);

/**
 * Unsubscribe, stop and join the watcher (waiting for its refresh to end)
 * and free the consumer. States and indexes still pinned stay valid until
 * released. NULL is a no-op.
 * Threads: no other call on `c` may run or start meanwhile; never from a
 * listener of `c`.
 */
HOLLOW_API void hollow_consumer_free(hollow_consumer *c);

/**
 * Move to `version`, or to the announced (or pinned) version with
 * HOLLOW_VERSION_LATEST (without an announcer: the newest version the
 * store reaches). Kept indexes are derived for the new state and published
 * with it. Listeners are told before and after.
 * @return 0 (also when already at `version`); HOLLOW_EINVAL if `c` is
 *         NULL; HOLLOW_ENOTFOUND if no blob path reaches it (or nothing is
 *         announced); HOLLOW_ECORRUPT / HOLLOW_ECHAIN if a blob fails (a
 *         failed chain is retried once from a snapshot); HOLLOW_EBACKEND /
 *         HOLLOW_EIO if the store fails; HOLLOW_ENOMEM; errors of deriving
 *         a kept index; HOLLOW_ESTATE from a listener of `c`. On failure
 *         the current state (and its indexes) stays published.
 * Lifetime: states pinned before the call stay valid until released.
 * Threads: any thread; waits for a running refresh (one at a time);
 * readers are never blocked.
 */
HOLLOW_API int hollow_consumer_refresh(hollow_consumer *c, int64_t version);

/** The version of the published state, 0 if none. Cannot fail.
 * Threads: any thread, never blocked by a refresh. */
HOLLOW_API int64_t hollow_consumer_version(hollow_consumer *c);

/**
 * Pin the published state: NULL if none. Cannot fail otherwise.
 * Ownership: one reference for the caller; release it with
 * hollow_read_state_release(). Lifetime: the state (and every view read
 * from it) stays valid until released, however many refreshes follow.
 * Threads: any thread, never blocked by a refresh.
 */
HOLLOW_API hollow_read_state *hollow_consumer_acquire_state(hollow_consumer *c);

/**
 * Stay at `version`: refresh to it now, and while pinned the watcher (and
 * refreshes to HOLLOW_VERSION_LATEST) stay there instead of following
 * announcements.
 * @return 0; HOLLOW_EINVAL for a version <= 0; HOLLOW_ESTATE from a
 *         listener of `c`; errors of hollow_consumer_refresh(). On failure
 *         the consumer is pinned as it was before the call (or not at all).
 * Threads: any thread; waits for a running refresh.
 */
HOLLOW_API int hollow_consumer_pin(hollow_consumer *c, int64_t version);

/**
 * Stop staying at the pinned version. With `follow`, the watcher refreshes
 * to the announced version (in the background: this call does not wait);
 * otherwise the next refresh to HOLLOW_VERSION_LATEST does.
 * @return 0 (also when not pinned).
 * Threads: any thread, also from a listener.
 */
HOLLOW_API int hollow_consumer_unpin(hollow_consumer *c);

/**
 * Add a listener; it hears every refresh that starts after the call.
 * To hear the watcher's first refresh, pass it in the options instead.
 * @return 0; HOLLOW_EINVAL if `c` or `fn` is NULL; HOLLOW_ENOMEM;
 *         HOLLOW_ESTATE from a listener of `c`.
 * Lifetime: `payload` is borrowed until hollow_consumer_free() returns;
 * there is no way to remove a listener.
 * Threads: any thread; waits for a running refresh to end.
 */
HOLLOW_API int hollow_consumer_add_listener(hollow_consumer *c,
                                            hollow_refresh_listener_fn fn,
                                            void *payload);

/**
 * Wait until the published version is at least `version` (for followers),
 * for at most `timeout_ms` milliseconds (0 or less: check once without
 * waiting).
 * @return 0; HOLLOW_ENOTFOUND on timeout; HOLLOW_ESTATE from a listener of
 *         `c` when the version is not yet published (it could only come
 *         after the listener returns).
 * Threads: any thread; any number of waiters.
 */
HOLLOW_API int hollow_consumer_wait_for_version(hollow_consumer *c,
                                                int64_t version, int timeout_ms);

/**
 * Keep an index current: built on the published state now (or at the
 * first refresh), then derived from the previous one at every refresh
 * (hollow_index_derive(): patched with the removed and added records when
 * cheaper, rebuilt otherwise) and published together with the state.
 * `paths` as for hollow_index_primary_key_new() and friends (NULL with
 * count 0: the type's @PrimaryKey, for HOLLOW_INDEX_PRIMARY_KEY).
 * @param handle  receives the index's handle for hollow_consumer_acquire_index()
 * @return 0; HOLLOW_EINVAL for a NULL argument or a `kind`
 *         outside the enum; errors of building the
 *         index on the published state (HOLLOW_ENOTFOUND, HOLLOW_EINVAL,
 *         HOLLOW_ECORRUPT); HOLLOW_ERANGE when the consumer already keeps
 *         HOLLOW_CONSUMER_MAX_INDEXES indexes; HOLLOW_ENOMEM; HOLLOW_ESTATE
 *         from a listener of `c`. On failure nothing is kept and *handle is
 *         unchanged. Later, a refresh whose index cannot be derived fails
 *         and keeps the current state.
 * Lifetime: the index is kept until hollow_consumer_free(); `type` and
 * `paths` are copied.
 * Threads: any thread; waits for a running refresh to end.
 */
HOLLOW_API int hollow_consumer_add_index(int *handle, hollow_consumer *c,
                                         hollow_index_kind kind,
                                         const char *type,
                                         const char *const *paths,
                                         size_t count);

/**
 * Pin the current index `handle`: it answers for its own state,
 * hollow_index_state(), which it keeps alive; read the records it finds
 * through that state, so the two always match. NULL if nothing is
 * published yet or the handle is unknown.
 * Ownership: one reference; release it with hollow_index_release().
 * Lifetime: the index and its state stay valid until released.
 * Threads: any thread, never blocked by a refresh.
 */
HOLLOW_API hollow_index *hollow_consumer_acquire_index(hollow_consumer *c,
                                                       int handle);

/**
 * The result of the watcher's last refresh: 0 if it succeeded (or none
 * ran), else its error code, with its message copied into `msg` (capacity
 * `cap`, cut to fit, always NUL-terminated; "" after a success). `msg`
 * may be NULL. Refreshes called directly are not recorded here: they
 * return their error.
 * Threads: any thread.
 */
HOLLOW_API int hollow_consumer_last_error(hollow_consumer *c, char *msg,
                                          size_t cap);

/* ------------------------------------------------------------ planning */

/**
 * The blobs a consumer would read to reach a version, in order: a
 * snapshot first when it starts over, then deltas and reverse deltas.
 * Filled by hollow_consumer_plan(); the caller owns `steps` and frees
 * them with hollow_update_plan_clear().
 */
typedef struct hollow_update_plan {
    hollow_blob_key *steps;
    size_t count;              /**< 0: already there */
} hollow_update_plan;

/**
 * Plan the way from version `from` (0: nothing loaded) to `to` over the
 * blobs of `bs`, as hollow_consumer_refresh() plans it, without reading
 * any blob: the shortest chain of deltas and reverse deltas from `from`
 * when one exists and has at most `double_snapshot_limit` steps (0 = 32,
 * the consumer's default), else the snapshot with the shortest chain
 * after it (the later one between equals). A refresh may still take
 * another plan when a blob of this one fails to load.
 *
 * @param out  receives the plan; zeroed on failure
 * @return 0; HOLLOW_ENOTFOUND if no snapshot and chain reaches `to` (the
 *         message says which version); HOLLOW_EINVAL for a NULL argument,
 *         `from` < 0 or `to` <= 0; errors of hollow_blobstore_list();
 *         HOLLOW_ENOMEM.
 * Threads: as hollow_blobstore_list().
 */
HOLLOW_API int hollow_consumer_plan(hollow_update_plan *out, hollow_blobstore *bs,
                                    int64_t from, int64_t to,
                                    uint32_t double_snapshot_limit);

/**
 * As hollow_consumer_plan(), over a listing the caller already holds
 * (`count` keys, as hollow_blobstore_list() gives them; borrowed during
 * the call), so that planning to many versions lists the store once.
 */
HOLLOW_API int hollow_consumer_plan_keys(hollow_update_plan *out,
                                         const hollow_blob_key *keys,
                                         size_t count, int64_t from, int64_t to,
                                         uint32_t double_snapshot_limit);

/** Free a plan's steps and zero it. NULL is a no-op. */
HOLLOW_API void hollow_update_plan_clear(hollow_update_plan *p);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_CONSUMER_H */
