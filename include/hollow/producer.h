/*
 * hollow/producer.h - the producer: cycles that publish versions.
 *
 * A producer owns a write state. Each hollow_producer_run_cycle() lets the
 * caller's populate callback add the new version's records, then, if the
 * data changed, writes the version's blobs to the blob store and announces
 * the version (architecture.md §4):
 *
 *   - a header blob, a delta and a reverse delta (except for the first
 *     version), and a snapshot on the first version and then after every
 *     `num_states_between_snapshots` versions without one;
 *   - before announcing, an integrity check (the previous state plus the
 *     delta gives the new snapshot's state, or the write state's checksum
 *     when one of the two is not written; the reverse delta leads back)
 *     and the validators, which see the new state
 *     as a consumer will; any failure rolls the write state back and
 *     nothing is announced;
 *   - an empty first cycle publishes nothing and returns 0; a cycle whose
 *     data equals the previous version publishes nothing and returns the
 *     previous version.
 *
 * Versions come from a minter; the default gives Java's shape
 * (yyyyMMddHHmmss in UTC followed by a 3-digit counter, strictly
 * increasing). Header tags are Java's producer tags (blob-format.md §10.7)
 * plus the caller's.
 *
 * One producer, one linear history (LMDB's single writer):
 *   - the lease: by default (lease_ttl_ms 0) a producer with an announcer
 *     takes a lease in the announcer's backend at each cycle (shared
 *     between processes by the filesystem announcer), renews it from a
 *     renewer thread, and announces only while it holds it; a second
 *     producer is secondary and its cycles return HOLLOW_ESTATE until the
 *     lease is released or expires. The owner is unique to each producer
 *     instance (lease_owner is only a label). lease_ttl_ms < 0 opts out.
 *   - before a cycle builds anything, a producer whose last version is not
 *     the announced one (another producer announced meanwhile) restores
 *     from the announced version, as Java's producer does on becoming
 *     primary;
 *   - it announces with hollow_announcer_announce_if(): only while its
 *     base is still the announced version (and it holds the lease);
 *   - version names are never reused: a cycle mints above the announced
 *     version (the first cycle also above every version the blob store
 *     names) and claims its name by creating the header blob only if
 *     absent (atomic in the filesystem and memory stores), minting again
 *     while it is taken; the minter's `previous` is then that floor;
 *   - a failed cycle deletes the blobs it wrote.
 *
 * Threads: one cycle at a time; populate may add records from several
 * threads. The lease renewer thread (only with a lease) is joined by
 * hollow_producer_free(). With write.threads other than 1, a cycle puts
 * the delta, the reverse delta and the snapshot from a thread of its own
 * (one put at a time, joined before the cycle announces or returns) while
 * the integrity check and the validators run: a blob store's put must
 * then work from any thread.
 */
#ifndef HOLLOW_PRODUCER_H
#define HOLLOW_PRODUCER_H

#include "announcer.h"
#include "blobstore.h"
#include "common.h" /* HOLLOW_VERSION_LATEST */
#include "read.h"
#include "write.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hollow_producer hollow_producer;

/** Fills the new version: add records to `ws`. Non-zero fails the cycle
 * (it is rolled back) and is returned by run_cycle. Runs on the thread of
 * hollow_producer_run_cycle(); it may hand `ws` to other threads to add
 * records, and must wait for them before it returns. */
typedef int (*hollow_populate_fn)(hollow_write_state *ws, void *payload);

/**
 * Checks the new state before it is announced. Return 0 to accept; any
 * other value fails the cycle (rolled back, nothing announced). Write a
 * reason into `why` (capacity `cap`, NUL-terminated) for the error message.
 * Runs on the thread of hollow_producer_run_cycle().
 * Lifetime: `state` is borrowed during the call; keep it with
 * hollow_read_state_acquire() (it takes the const pointer).
 */
typedef int (*hollow_validator_fn)(const hollow_read_state *state,
                                   int64_t version, char *why, size_t cap,
                                   void *payload);

/** Gives the next version after `previous` (0 before the first). */
typedef int64_t (*hollow_version_minter_fn)(int64_t previous, void *payload);

typedef struct hollow_producer_options {
    unsigned int version;              /**< HOLLOW_PRODUCER_OPTIONS_VERSION */
    hollow_blobstore *blobstore;       /**< borrowed; must outlive the producer */
    hollow_announcer *announcer;       /**< borrowed; may be NULL */
    const hollow_schema_list *schemas; /**< the data model (copied) */
    hollow_write_options write;        /**< shard sizes, resharding */
    /** Versions written without a snapshot between two snapshots (Java's
     * numStatesBetweenSnapshots): 0, the default, snapshots every version. */
    uint32_t num_states_between_snapshots;
    hollow_version_minter_fn minter;   /**< NULL: Java's timestamp shape */
    void *minter_payload;
    /** Lease time-to-live in ms for the single-producer lease: 0, the
     * default, is HOLLOW_PRODUCER_DEFAULT_LEASE_TTL_MS when there is an
     * announcer that keeps leases (none without one); HOLLOW_PRODUCER_NO_LEASE
     * (any negative value) opts out: several producers may then run
     * cycles, and announce_if and the version claim still keep the history
     * linear and the names distinct. */
    int64_t lease_ttl_ms;
    /** Lease owner label (NULL: "<hostname>:<pid>"); the owner is the label
     * followed by "#" and a random token of this producer instance. */
    const char *lease_owner;
} hollow_producer_options;

/** The default lease time-to-live (10 s). */
#define HOLLOW_PRODUCER_DEFAULT_LEASE_TTL_MS 10000
/** lease_ttl_ms value that opts out of the single-producer lease. */
#define HOLLOW_PRODUCER_NO_LEASE ((int64_t)-1)

/* 2: hollow_write_options grew `threads` */
#define HOLLOW_PRODUCER_OPTIONS_VERSION 2
#define HOLLOW_PRODUCER_OPTIONS_INIT                                           \
    {HOLLOW_PRODUCER_OPTIONS_VERSION, NULL, NULL, NULL,                        \
     HOLLOW_WRITE_OPTIONS_INIT, 0, NULL, NULL, 0, NULL}

/**
 * Create a producer. With a lease time-to-live, the lease is taken at the
 * first cycle, not here.
 * @return 0; HOLLOW_EINVAL without a blob store or schemas, for invalid
 *         schemas, or for options (or their `write`) of another version;
 *         HOLLOW_ENOMEM. *out is NULL on failure.
 * Ownership: free it with hollow_producer_free(). The options are copied
 * (the schemas too); the blob store and announcer are borrowed.
 */
HOLLOW_API int hollow_producer_new(hollow_producer **out,
                                   const hollow_producer_options *opts);

/** Free the producer (stopping its lease renewer and releasing its lease);
 * NULL is a no-op. States acquired from it stay valid until released.
 * Threads: no other call on `p` may run meanwhile. */
HOLLOW_API void hollow_producer_free(hollow_producer *p);

/**
 * Add a validator; they run in the order added, at every later cycle.
 * @return 0; HOLLOW_ENOMEM.
 * Lifetime: `payload` is borrowed until hollow_producer_free().
 * Threads: not during a cycle.
 */
HOLLOW_API int hollow_producer_add_validator(hollow_producer *p,
                                             hollow_validator_fn fn,
                                             void *payload);

/** Set an application header tag written with every later version
 * (replacing the value of the same key). `key` and `value` are copied.
 * @return 0; HOLLOW_ENOMEM. Threads: not during a cycle. */
HOLLOW_API int hollow_producer_set_header_tag(hollow_producer *p,
                                              const char *key,
                                              const char *value);

/**
 * Run one cycle.
 * @param version_out  the version now current: the new one, the previous
 *                     one if nothing changed, 0 if nothing was ever
 *                     published
 * @return 0; the populate callback's non-zero return (its message, or,
 *         when the callback set no error of that code on this thread,
 *         "the populate callback failed (returned N...)"); HOLLOW_ERROR for a
 *         failed validator or integrity check (message says which);
 *         HOLLOW_ESTATE when another producer holds the lease, or announced
 *         while this cycle ran (the next cycle restores from it);
 *         HOLLOW_ECORRUPT when announced.version is unreadable; errors of
 *         restoring the announced version;
 *         HOLLOW_EBACKEND / HOLLOW_EIO when the store or announcer fails;
 *         HOLLOW_ENOMEM. On failure nothing is announced, the blobs the
 *         cycle wrote are deleted, and the write state is as before the
 *         cycle.
 */
HOLLOW_API int hollow_producer_run_cycle(int64_t *version_out, hollow_producer *p,
                                         hollow_populate_fn populate,
                                         void *payload);

/**
 * Continue the chain of a version already in the blob store (a restarted
 * producer, blob-format.md §10.6): load it (`version`, or the announced
 * version when HOLLOW_VERSION_LATEST), keep its ordinals, tags and shard
 * counts; the next cycle publishes a delta from it.
 * @return 0; HOLLOW_ENOTFOUND if no blob path reaches it; HOLLOW_ESTATE if
 *         the producer already ran a cycle; errors of loading.
 */
HOLLOW_API int hollow_producer_restore(hollow_producer *p, int64_t version);

/** The version last announced (or restored), 0 if none. Threads: not
 * during a cycle. */
HOLLOW_API int64_t hollow_producer_version(const hollow_producer *p);

/**
 * The state of the last version announced (or restored), as consumers see
 * it; NULL if none. Ownership: one reference for the caller (release it
 * with hollow_read_state_release()); it stays valid after later cycles and
 * after hollow_producer_free(). Threads: not during a cycle.
 */
HOLLOW_API hollow_read_state *hollow_producer_acquire_state(hollow_producer *p);

/** Whether this producer holds the single-producer lease (always true
 * without a lease), as last seen by a cycle or the renewer; a lease lost
 * meanwhile is logged as a warning (hollow_set_log()). Threads: any. */
HOLLOW_API bool hollow_producer_is_primary(hollow_producer *p);

/** A blob a cycle published, and its size. */
typedef struct hollow_producer_blob {
    hollow_blob_key key;
    uint64_t size; /**< bytes */
} hollow_producer_blob;

/** The most blobs one cycle publishes (header, delta, reverse delta,
 * snapshot). */
#define HOLLOW_PRODUCER_MAX_BLOBS 4

/**
 * The blobs the last cycle published, in the order it wrote them (header,
 * delta, reverse delta, snapshot), for reports such as `hollow-cli produce
 * -verbose`. None after a cycle that published nothing or failed, and
 * before the first cycle.
 * @param out  receives the first min(count, cap) blobs; may be NULL if
 *             `cap` is 0
 * @return how many blobs the last cycle published (at most
 *         HOLLOW_PRODUCER_MAX_BLOBS). Threads: not during a cycle.
 */
HOLLOW_API size_t hollow_producer_last_blobs(const hollow_producer *p,
                                             hollow_producer_blob *out,
                                             size_t cap);

/** The default minter: Java's yyyyMMddHHmmss (UTC) + 3-digit counter,
 * strictly greater than `previous`. */
HOLLOW_API int64_t hollow_version_mint_default(int64_t previous, void *payload);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_PRODUCER_H */
