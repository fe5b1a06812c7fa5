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
 * hollow_consumer_free().
 */
#ifndef HOLLOW_CONSUMER_H
#define HOLLOW_CONSUMER_H

#include "announcer.h"
#include "blobstore.h"
#include "index.h"
#include "producer.h"
#include "read.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_consumer hollow_consumer;

/** What changed in one type by a refresh. */
typedef struct hollow_type_change {
    const char *type;   /**< borrowed: valid during the callback */
    size_t added;       /**< ordinals populated after, not before */
    size_t removed;     /**< ordinals populated before, not after */
} hollow_type_change;

/** A refresh as listeners see it. */
typedef struct hollow_refresh_event {
    int64_t from_version;            /**< 0 when nothing was loaded */
    int64_t to_version;              /**< the target */
    bool done;                       /**< false: before; true: after */
    int result;                      /**< after: 0 or the error code */
    const char *plan;                /**< e.g. "snapshot 5, delta 5->6" */
    const hollow_type_change *changes; /**< after a success: per type */
    size_t change_count;
    const hollow_read_state *state;  /**< after a success: the new state */
} hollow_refresh_event;

/** A listener; runs on the refreshing thread, must return quickly. */
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
} hollow_consumer_options;

#define HOLLOW_CONSUMER_OPTIONS_VERSION 1
#define HOLLOW_CONSUMER_OPTIONS_INIT                                           \
    {HOLLOW_CONSUMER_OPTIONS_VERSION, NULL, NULL, false, HOLLOW_MEMORY_HEAP,   \
     NULL, 0, NULL, NULL}

/**
 * Create a consumer (and, with `follow`, its watcher thread, which makes a
 * first refresh to the announced version).
 * @return 0; HOLLOW_EINVAL without a blob store, or `follow` without an
 *         announcer; HOLLOW_ENOMEM; HOLLOW_ERROR if the thread cannot start.
 */
HOLLOW_API int hollow_consumer_new(hollow_consumer **out,
                                   const hollow_consumer_options *opts);

/** Stop the watcher and free the consumer. States still pinned stay valid
 * until released. NULL is a no-op. */
HOLLOW_API void hollow_consumer_free(hollow_consumer *c);

/**
 * Move to `version`, or to the announced (or pinned) version with
 * HOLLOW_VERSION_LATEST.
 * @return 0; HOLLOW_ENOTFOUND if no blob path reaches it (or nothing is
 *         announced); HOLLOW_ECORRUPT / HOLLOW_ECHAIN if a blob fails;
 *         HOLLOW_EBACKEND / HOLLOW_EIO if the store fails. On failure the
 *         current state stays published.
 */
HOLLOW_API int hollow_consumer_refresh(hollow_consumer *c, int64_t version);

/** The version of the published state, 0 if none. */
HOLLOW_API int64_t hollow_consumer_version(hollow_consumer *c);

/**
 * Pin the published state: NULL if none. Ownership: one reference for the
 * caller; release it with hollow_read_state_release().
 */
HOLLOW_API hollow_read_state *hollow_consumer_acquire_state(hollow_consumer *c);

/**
 * Stay at `version`: refresh to it now, and while pinned the watcher does
 * not follow announcements. If the refresh fails, the consumer is not
 * pinned (to it) and says why. hollow_consumer_unpin() resumes following
 * (and refreshes to the announced version when following).
 */
HOLLOW_API int hollow_consumer_pin(hollow_consumer *c, int64_t version);
HOLLOW_API int hollow_consumer_unpin(hollow_consumer *c);

/**
 * Add a listener. @return 0; HOLLOW_ENOMEM.
 * Threads: any thread; waits for a running refresh to end.
 */
HOLLOW_API int hollow_consumer_add_listener(hollow_consumer *c,
                                            hollow_refresh_listener_fn fn,
                                            void *payload);

/**
 * Wait until the published version is at least `version` (for followers).
 * @return 0; HOLLOW_ENOTFOUND on timeout.
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
 * @return 0; errors of building the index (HOLLOW_ENOTFOUND, HOLLOW_EINVAL);
 *         HOLLOW_ENOMEM. A refresh whose index cannot be derived fails and
 *         keeps the current state.
 * Threads: not during a refresh (it waits for the running one).
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
 * Threads: any thread, never blocked by a refresh.
 */
HOLLOW_API hollow_index *hollow_consumer_acquire_index(hollow_consumer *c,
                                                       int handle);

/** The result of the watcher's last refresh (0 if none failed). */
HOLLOW_API int hollow_consumer_last_error(hollow_consumer *c, char *msg,
                                          size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_CONSUMER_H */
