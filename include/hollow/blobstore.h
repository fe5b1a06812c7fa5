/*
 * hollow/blobstore.h - where blobs live: keys, streams, the built-in
 * stores (memory, filesystem) and the generic calls on any store.
 *
 * A blob store keeps the four kinds of blob a producer publishes
 * (blob-format.md §2): snapshots, deltas, reverse deltas and header blobs,
 * each addressed by a hollow_blob_key. Bytes go in and come out as
 * hollow_stream objects (or, for stores that keep files, as a path the
 * consumer can map). Every store is safe to use from several threads at
 * once; the producer, a consumer's watcher and its readers may share one.
 *
 * The filesystem store reads and writes Java Hollow's filesystem publisher
 * layout (blob-format.md §13), so a C consumer can follow a directory a
 * Java producer writes, and the other way round. docs/blobstores.md says
 * what each store promises.
 *
 * Backends of one's own implement the vtable in hollow/sys/blobstore.h.
 */
#ifndef HOLLOW_BLOBSTORE_H
#define HOLLOW_BLOBSTORE_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Blob keys                                                           */
/* ------------------------------------------------------------------ */

/** The kind of a blob (blob-format.md §2). */
typedef enum hollow_blob_kind {
    HOLLOW_BLOB_SNAPSHOT = 0,      /**< file `snapshot-V` */
    HOLLOW_BLOB_DELTA = 1,         /**< file `delta-F-T`, F older than T */
    HOLLOW_BLOB_REVERSE_DELTA = 2, /**< file `reversedelta-F-T`, F newer */
    HOLLOW_BLOB_HEADER = 3         /**< file `header-V` */
} hollow_blob_kind;

/**
 * The address of one blob. `version` is the version the blob brings a
 * consumer to; `from_version` is the version a delta or reverse delta
 * applies to. So `delta-F-T` is {DELTA, version T, from F} and
 * `reversedelta-F-T` (F the newer version) is {REVERSE_DELTA, version T,
 * from F}: in both file names the first number is `from_version`.
 * Snapshots and headers ignore `from_version`; the stores report it as 0.
 * Versions are non-negative (Java longs printed in decimal).
 */
typedef struct hollow_blob_key {
    hollow_blob_kind kind;
    int64_t version;      /**< the version the blob leads to */
    int64_t from_version; /**< origin of a (reverse) delta, else 0 */
} hollow_blob_key;

/** A key for `snapshot-V`. */
static inline hollow_blob_key hollow_blob_key_snapshot(int64_t version)
{
    hollow_blob_key k;
    k.kind = HOLLOW_BLOB_SNAPSHOT;
    k.version = version;
    k.from_version = 0;
    return k;
}

/** A key for `header-V`. */
static inline hollow_blob_key hollow_blob_key_header(int64_t version)
{
    hollow_blob_key k;
    k.kind = HOLLOW_BLOB_HEADER;
    k.version = version;
    k.from_version = 0;
    return k;
}

/** A key for `delta-FROM-TO` (FROM older than TO). */
static inline hollow_blob_key hollow_blob_key_delta(int64_t from, int64_t to)
{
    hollow_blob_key k;
    k.kind = HOLLOW_BLOB_DELTA;
    k.version = to;
    k.from_version = from;
    return k;
}

/** A key for `reversedelta-FROM-TO` (FROM newer than TO). */
static inline hollow_blob_key hollow_blob_key_reverse_delta(int64_t from,
                                                            int64_t to)
{
    hollow_blob_key k;
    k.kind = HOLLOW_BLOB_REVERSE_DELTA;
    k.version = to;
    k.from_version = from;
    return k;
}

/** Room for any blob file name with its NUL (`reversedelta-` + 2 x 19 digits). */
#define HOLLOW_BLOB_NAME_MAX 64

/**
 * Write Java's file name of a key (blob-format.md §13) into `buf`:
 * `snapshot-V`, `delta-F-T`, `reversedelta-F-T` or `header-V`, versions in
 * decimal without leading zeros.
 *
 * @param buf  receives the NUL-terminated name
 * @param cap  size of `buf`; HOLLOW_BLOB_NAME_MAX is always enough
 * @param key  the key
 * @return 0; HOLLOW_EINVAL for an unknown kind or a negative version;
 *         HOLLOW_ERANGE if `cap` is too small.
 */
HOLLOW_API int hollow_blob_key_name(char *buf, size_t cap,
                                    const hollow_blob_key *key);

/**
 * Parse a file name of Java's layout into a key. The match is exact: the
 * whole name must be `snapshot-<digits>`, `header-<digits>`,
 * `delta-<digits>-<digits>` or `reversedelta-<digits>-<digits>`, each
 * number canonical decimal (no sign, no leading zero, at most INT64_MAX).
 * So `delta-12-13` never passes for a delta from version 1, and
 * `snapshot-7.tmp`, `snapshot_part-7`, `.snapshot-7` or
 * `announced.version` are not blob names.
 *
 * @param out   receives the key (from_version 0 for snapshot and header)
 * @param name  NUL-terminated file name, without directory
 * @return 0; HOLLOW_EPARSE if `name` is not a blob file name.
 */
HOLLOW_API int hollow_blob_key_parse(hollow_blob_key *out, const char *name);

/* ------------------------------------------------------------------ */
/* Streams                                                             */
/* ------------------------------------------------------------------ */

/**
 * A source of bytes read front to back: what a store's put() consumes and
 * its get() returns.
 *
 * Ownership: the creator owns it and ends it with hollow_stream_close().
 * Threads: one thread at a time.
 */
typedef struct hollow_stream hollow_stream;

/**
 * Read callback of a custom stream: copy up to `cap` bytes into `buf` and
 * set `*n_out` to the count; `*n_out == 0` means the end of the stream.
 * Return 0, or a negative hollow_error_code (use hollow_error_last()
 * conventions: the caller passes it on unchanged).
 */
typedef int (*hollow_stream_read_fn)(size_t *n_out, void *buf, size_t cap,
                                     void *payload);

/** Close callback of a custom stream: release `payload`. May be NULL. */
typedef void (*hollow_stream_close_fn)(void *payload);

/**
 * Make a stream from callbacks.
 *
 * @param out        receives the stream; NULL on failure
 * @param read       the read callback (required)
 * @param close      called once by hollow_stream_close(); may be NULL
 * @param payload    passed to both callbacks
 * @param size_hint  total length if known (lets a store preallocate), or -1
 * @return 0; HOLLOW_EINVAL if `read` is NULL; HOLLOW_ENOMEM. When the
 *         call fails, `close` is not called.
 */
HOLLOW_API int hollow_stream_new(hollow_stream **out, hollow_stream_read_fn read,
                                 hollow_stream_close_fn close, void *payload,
                                 int64_t size_hint);

/**
 * Make a stream over bytes in memory.
 *
 * Lifetime: `data` is borrowed and must outlive the stream.
 * @return 0; HOLLOW_EINVAL if `data` is NULL and `len` is not 0;
 *         HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_stream_from_memory(hollow_stream **out, const void *data,
                                         size_t len);

/**
 * Make a stream that reads a file. The file is opened now; its size is
 * the stream's size hint.
 *
 * @return 0; HOLLOW_ENOTFOUND if the file does not exist; HOLLOW_EIO for
 *         another OS error (errno in hollow_error_last()); HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_stream_from_file(hollow_stream **out, const char *path);

/**
 * Read up to `cap` bytes. `*n_out` is 0 only at the end of the stream.
 *
 * @return 0; HOLLOW_EIO when the source fails; whatever a custom read
 *         callback returned.
 */
HOLLOW_API int hollow_stream_read(size_t *n_out, hollow_stream *s, void *buf,
                                  size_t cap);

/** The total length of the stream if known, else -1 (also for NULL). */
HOLLOW_API int64_t hollow_stream_size(const hollow_stream *s);

/** Close the stream and free it. NULL is a no-op. */
HOLLOW_API void hollow_stream_close(hollow_stream *s);

/* ------------------------------------------------------------------ */
/* Stores                                                              */
/* ------------------------------------------------------------------ */

/**
 * A blob store: a vtable (hollow/sys/blobstore.h) with the backend's state
 * behind it.
 *
 * Ownership: created by a hollow_blobstore_*_new() call, freed with
 * hollow_blobstore_free(). Producers and consumers borrow it.
 * Threads: every call is safe from any number of threads at once.
 */
typedef struct hollow_blobstore hollow_blobstore;

/** Called once per blob by hollow_blobstore_list(); non-zero stops it. */
typedef int (*hollow_blob_key_cb)(const hollow_blob_key *key, void *payload);

/** Called once per version by hollow_blobstore_list_versions(). */
typedef int (*hollow_version_cb)(int64_t version, void *payload);

/** Options of the in-memory store (none yet). */
typedef struct hollow_blobstore_memory_options {
    unsigned int version; /**< HOLLOW_BLOBSTORE_MEMORY_OPTIONS_VERSION */
} hollow_blobstore_memory_options;

#define HOLLOW_BLOBSTORE_MEMORY_OPTIONS_VERSION 1
#define HOLLOW_BLOBSTORE_MEMORY_OPTIONS_INIT                                   \
    { HOLLOW_BLOBSTORE_MEMORY_OPTIONS_VERSION }

/**
 * Create an in-memory store: blobs live in the heap (put copies the bytes,
 * get streams them without copying them again), for tests and for a
 * producer and consumers in one process. It has no files, so
 * hollow_blobstore_get_file() returns HOLLOW_ENOTSUPPORTED.
 *
 * @param out   receives the store; NULL on failure
 * @param opts  NULL for defaults
 * @return 0; HOLLOW_EINVAL for an unknown options version; HOLLOW_ENOMEM.
 * Threads: a mutex guards the index; blob bytes are shared, reference
 *          counted, and never change once stored.
 */
HOLLOW_API int hollow_blobstore_memory_new(
    hollow_blobstore **out, const hollow_blobstore_memory_options *opts);

/**
 * Test hook of the filesystem store: called before each write(2) of blob
 * bytes with the offset about to be written. A non-zero return is taken as
 * the errno of a failed write (e.g. ENOSPC, EROFS), so tests can make any
 * write fail without filling a disk.
 */
typedef int (*hollow_write_fault_fn)(void *ctx, size_t offset);

/** Options of the filesystem store. */
typedef struct hollow_blobstore_fs_options {
    unsigned int version; /**< HOLLOW_BLOBSTORE_FS_OPTIONS_VERSION */
    const char *dir;      /**< the directory (required; copied) */
    bool create_dir;      /**< create `dir` (and parents) if missing */
    bool fsync;           /**< fsync blob and directory on put (default) */
    hollow_write_fault_fn write_fault; /**< test hook; NULL in production */
    void *write_fault_ctx;             /**< passed to `write_fault` */
} hollow_blobstore_fs_options;

#define HOLLOW_BLOBSTORE_FS_OPTIONS_VERSION 1
#define HOLLOW_BLOBSTORE_FS_OPTIONS_INIT                                       \
    { HOLLOW_BLOBSTORE_FS_OPTIONS_VERSION, NULL, false, true, NULL, NULL }

/**
 * Create a filesystem store over one directory in Java's publisher layout
 * (blob-format.md §13): `snapshot-V`, `delta-F-T`, `reversedelta-F-T` (F
 * the newer version), `header-V`, raw blob bytes in each.
 *
 * A put is atomic: the bytes go to a temporary file whose name starts with
 * `.` (Java's retriever ignores those), which is fsynced and renamed into
 * place, and then the directory is fsynced. A reader therefore sees the
 * whole blob or none, a writer killed mid-write leaves at most a `.` file,
 * and a failed write (full disk, read-only directory) removes its
 * temporary file. Listing matches names exactly (hollow_blob_key_parse())
 * and ignores every other entry of the directory.
 *
 * @param out   receives the store; NULL on failure
 * @param opts  options; `dir` is required
 * @return 0; HOLLOW_EINVAL if `opts` or `dir` is missing;
 *         HOLLOW_ENOTFOUND if `dir` does not exist and `create_dir` is
 *         off; HOLLOW_EIO if it cannot be created or opened (errno in
 *         hollow_error_last()); HOLLOW_ENOMEM.
 * Threads: every call is safe from any number of threads and processes at
 *          once; two puts of the same key race and the last rename wins,
 *          each leaving a complete blob.
 */
HOLLOW_API int hollow_blobstore_fs_new(hollow_blobstore **out,
                                       const hollow_blobstore_fs_options *opts);

/**
 * Store a blob, reading `src` to its end. A blob already stored under the
 * same key is replaced (atomically in the filesystem store).
 *
 * @param bs   the store
 * @param key  where to store it
 * @param src  the bytes; borrowed: read to the end but not closed
 * @return 0; HOLLOW_EINVAL for a bad key; HOLLOW_EIO when the OS refuses
 *         (full disk, read-only directory: errno in hollow_error_last());
 *         an error of `src` passed on unchanged; HOLLOW_ENOMEM;
 *         HOLLOW_EBACKEND for a custom backend's own failures. On failure
 *         nothing is stored and a previous blob under the key stays (one
 *         exception: when the filesystem store's final fsync of the
 *         directory fails, the new blob is in place but not known durable).
 */
HOLLOW_API int hollow_blobstore_put(hollow_blobstore *bs,
                                    const hollow_blob_key *key,
                                    hollow_stream *src);

/** As hollow_blobstore_put(), from `len` bytes at `data` (copied). */
HOLLOW_API int hollow_blobstore_put_bytes(hollow_blobstore *bs,
                                          const hollow_blob_key *key,
                                          const void *data, size_t len);

/**
 * As hollow_blobstore_put(), from the file at `path` (copied; the file is
 * left where it is).
 * @return as hollow_blobstore_put(); HOLLOW_ENOTFOUND if `path` does not
 *         exist.
 */
HOLLOW_API int hollow_blobstore_put_file(hollow_blobstore *bs,
                                         const hollow_blob_key *key,
                                         const char *path);

/**
 * Open a blob for reading.
 *
 * @param out  receives a stream over the blob's bytes; NULL on failure.
 *             The caller closes it with hollow_stream_close().
 * @return 0; HOLLOW_ENOTFOUND if no blob has this key; HOLLOW_EINVAL for a
 *         bad key; HOLLOW_EIO; HOLLOW_ENOMEM.
 * Lifetime: the stream reads the blob as it was when opened, even if it is
 *           replaced or deleted meanwhile.
 */
HOLLOW_API int hollow_blobstore_get(hollow_stream **out, hollow_blobstore *bs,
                                    const hollow_blob_key *key);

/**
 * Give the path of the file that holds a blob, for a consumer that maps it
 * (mmap memory mode) instead of reading it.
 *
 * @param path  receives the NUL-terminated absolute path
 * @param cap   size of `path` (PATH_MAX is always enough)
 * @return 0; HOLLOW_ENOTFOUND if no blob has this key; HOLLOW_ERANGE if
 *         `cap` is too small; HOLLOW_ENOTSUPPORTED for a store without
 *         files (the in-memory store): use hollow_blobstore_get() then.
 * Lifetime: a file replaced or deleted after the call stays readable
 *           through a descriptor or mapping opened before; one opened
 *           after it may fail with ENOENT or see the new blob.
 */
HOLLOW_API int hollow_blobstore_get_file(char *path, size_t cap,
                                         hollow_blobstore *bs,
                                         const hollow_blob_key *key);

/**
 * The size in bytes of a stored blob, without reading it where the store
 * can tell: the filesystem store stats the file, the in-memory store knows
 * it, the S3 store answers from its cache or with a HEAD request (the
 * blob is not downloaded). A backend of one's own without a `size` entry
 * opens the blob and reads its stream's size (or its bytes, counted).
 *
 * @return 0; HOLLOW_ENOTFOUND if no blob has this key; HOLLOW_EIO or
 *         HOLLOW_EBACKEND when the store cannot be read.
 */
HOLLOW_API int hollow_blobstore_size(int64_t *out, hollow_blobstore *bs,
                                     const hollow_blob_key *key);

/**
 * Call `cb` for every blob in the store, in ascending order of
 * (version, kind, from_version). The callback runs on the calling thread,
 * after the store has taken its listing, and may call the store.
 *
 * @return 0; the callback's non-zero return, passed back unchanged, which
 *         stops the listing; HOLLOW_EIO; HOLLOW_ENOMEM.
 */
HOLLOW_API int hollow_blobstore_list(hollow_blobstore *bs, hollow_blob_key_cb cb,
                                     void *payload);

/**
 * Call `cb` once for every version any blob names (its version, and the
 * from_version of deltas and reverse deltas), in ascending order. For a
 * directory Java wrote this is the list of published versions.
 *
 * @return as hollow_blobstore_list().
 */
HOLLOW_API int hollow_blobstore_list_versions(hollow_blobstore *bs,
                                              hollow_version_cb cb,
                                              void *payload);

/**
 * Delete a blob.
 * @return 0; HOLLOW_ENOTFOUND if no blob has this key; HOLLOW_EINVAL;
 *         HOLLOW_EIO.
 */
HOLLOW_API int hollow_blobstore_delete(hollow_blobstore *bs,
                                       const hollow_blob_key *key);

/* ------------------------------------------------------------------ */
/* The S3 store                                                        */
/* ------------------------------------------------------------------ */

/**
 * Options of the S3 store. Every NULL or 0 takes its default; string
 * fields are copied. Unset values come from the environment, then from
 * the local defaults of a MinIO on its default port (docs/blobstores.md):
 *
 *   endpoint    $AWS_ENDPOINT_URL, else "localhost:9000"
 *   region      $AWS_REGION, $AWS_DEFAULT_REGION, else "us-east-1"
 *   bucket      "hollow-test"
 *   access_key  $AWS_ACCESS_KEY_ID, else "minioadmin"
 *   secret_key  $AWS_SECRET_ACCESS_KEY, else "minioadmin"
 *   session_token  $AWS_SESSION_TOKEN, else none
 *   cache_dir   $XDG_CACHE_HOME/hollow/<endpoint>/<bucket>[/<prefix>],
 *               else ~/.cache/hollow/...
 */
typedef struct hollow_blobstore_s3_options {
    unsigned int version;  /**< HOLLOW_BLOBSTORE_S3_OPTIONS_VERSION */
    const char *endpoint;  /**< "host:port" or "http[s]://host[:port]" */
    int use_tls;           /**< -1 (default): on, except for an http:// URL
                                or a loopback/localhost endpoint; 0 off;
                                1 on. When on, certificates are always
                                verified. */
    const char *ca_file;   /**< PEM CA bundle; NULL: the system's */
    const char *region;
    const char *bucket;    /**< created if missing */
    const char *prefix;    /**< key prefix, no leading or trailing '/';
                                NULL or "" for none */
    const char *access_key;
    const char *secret_key;
    const char *session_token;
    const char *cache_dir;
    uint64_t cache_max_bytes; /**< 0: 4 GiB; pending blobs never evicted */
    bool strict;           /**< fail a put S3 does not take, instead of
                                keeping it pending */
    bool verify_cache;     /**< hash a cache file at every open (its size
                                is always checked) */
    uint64_t part_size;    /**< multipart threshold and part size; 0:
                                16 MiB; at least 5 MiB (S3's minimum) */
    uint32_t connect_timeout_ms; /**< 0: 5000 */
    uint32_t timeout_ms;   /**< per request; 0: none (a transfer stalled
                                below 1 KB/s for 30 s fails instead) */
    uint32_t retry_min_ms; /**< retrier backoff, first wait; 0: 200 */
    uint32_t retry_max_ms; /**< retrier backoff, longest wait; 0: 30000 */
} hollow_blobstore_s3_options;

#define HOLLOW_BLOBSTORE_S3_OPTIONS_VERSION 1
#define HOLLOW_BLOBSTORE_S3_OPTIONS_INIT                                       \
    { HOLLOW_BLOBSTORE_S3_OPTIONS_VERSION, NULL, -1, NULL, NULL, NULL, NULL,   \
      NULL, NULL, NULL, NULL, 0, false, false, 0, 0, 0, 0, 0 }

/**
 * Create an S3 store (libcurl, AWS Signature V4, path-style addressing).
 * Object names are the seed's folders holding Java's file names:
 * `[prefix/]snapshots/snapshot-V`, `deltas/delta-F-T`,
 * `reverse/reversedelta-F-T` (F the newer version), `headers/header-V`;
 * each object carries its SHA-256 in `x-amz-meta-sha256`.
 *
 * Cache-first: every blob put or fetched is kept in `cache_dir`; get and
 * get_file hit the cache before S3 (get_file gives the cache file, so the
 * consumer's mmap mode works). A put S3 cannot take (unreachable, 5xx)
 * lands in the cache and in a crash-safe pending journal there, succeeds
 * with a logged warning, and is uploaded by the store's retrier thread
 * when S3 returns, or by the next process that opens the same cache dir;
 * `strict` makes such a put fail instead. list merges S3 with pending
 * blobs. docs/blobstores.md says the rest.
 *
 * @return 0; HOLLOW_EINVAL for bad options; HOLLOW_EIO if the cache dir
 *         cannot be made; HOLLOW_EBACKEND when S3 refuses (bad keys, no
 *         right to create the bucket; S3's code and message in
 *         hollow_error_last()); HOLLOW_ENOMEM. An unreachable S3 is not an
 *         error here (puts queue, gets fail until it returns), except in
 *         strict mode.
 * Threads: safe from any number of threads; starts the retrier thread,
 *          which hollow_blobstore_free() stops (pending blobs stay in the
 *          journal for the next process).
 */
HOLLOW_API int hollow_blobstore_s3_new(hollow_blobstore **out,
                                       const hollow_blobstore_s3_options *opts);

/**
 * Wait until the S3 store has nothing pending (every queued blob and
 * announcement uploaded), for at most `timeout_ms` (negative: no limit).
 *
 * @return 0 when nothing is pending; HOLLOW_ENOTFOUND on timeout (the
 *         message says how many are still pending); HOLLOW_EINVAL for a
 *         store that is not an S3 store.
 */
HOLLOW_API int hollow_blobstore_s3_flush(hollow_blobstore *bs, int timeout_ms);

/** Counters of a store (hollow_blobstore_stats_get()). */
typedef struct hollow_blobstore_stats {
    uint64_t cache_hits;    /**< gets served from the cache */
    uint64_t cache_misses;  /**< gets that went to the remote store (every
                                 get of a memory or filesystem store) */
    uint64_t bytes_up;      /**< bytes uploaded */
    uint64_t bytes_down;    /**< bytes downloaded (memory, filesystem: bytes
                                 of the blobs got) */
    uint64_t uploads;       /**< objects uploaded (blobs put) */
    uint64_t retries;       /**< upload attempts of pending entries */
    uint64_t pending;       /**< entries waiting for upload now */
    uint64_t pending_bytes; /**< their bytes */
} hollow_blobstore_stats;

/**
 * Fill `out` with the store's counters.
 * @return 0; HOLLOW_EINVAL; HOLLOW_ENOTSUPPORTED for a store without
 *         counters (a backend whose vtable has no `stats`).
 */
HOLLOW_API int hollow_blobstore_stats_get(hollow_blobstore_stats *out,
                                          hollow_blobstore *bs);

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

/** Options of hollow_blobstore_gc(). */
typedef struct hollow_gc_options {
    unsigned int version;    /**< HOLLOW_GC_OPTIONS_VERSION */
    int64_t announced;       /**< the announced version (required, > 0) */
    int64_t pinned;          /**< a pinned version whose history is kept
                                  too (an announcer that stores pins); 0 none */
    uint32_t keep_snapshots; /**< keep each history from its N-th newest
                                  snapshot on; 0 keeps all of it */
    bool remove_newer;       /**< also remove blobs of versions newer than
                                  `announced`: only when no producer can be
                                  in a cycle (they may be its new version) */
    bool dry_run;            /**< report, remove nothing */
} hollow_gc_options;

#define HOLLOW_GC_OPTIONS_VERSION 1
#define HOLLOW_GC_OPTIONS_INIT { HOLLOW_GC_OPTIONS_VERSION, 0, 0, 0, false, false }

/** What hollow_blobstore_gc() did. */
typedef struct hollow_gc_result {
    size_t removed; /**< blobs removed (or, dry run, that would be) */
    size_t kept;    /**< blobs kept */
} hollow_gc_result;

/**
 * Remove the blobs that no consumer of the announced history needs (the
 * blob retention Java's producer runs for its filesystem publisher).
 *
 * The history of a version is read from the store: a version's parent is
 * the version its reverse delta leads to (else the origin of a delta into
 * it), back to the first version. Kept: every blob whose versions all lie
 * on the history of `announced` (or of `pinned`) at or after that history's
 * `keep_snapshots`-th newest snapshot; so the chain that reaches the
 * announced (and the pinned) version from its newest snapshot always
 * stays. Removed: the rest, i.e. older versions, and the leftovers of failed
 * or crashed cycles and of forked histories; blobs of versions newer than
 * `announced` only with `remove_newer`.
 *
 * @param out        receives the counts; may be NULL
 * @param on_remove  called with each blob before it is removed (a non-zero
 *                   return stops gc and is returned); may be NULL
 * @return 0; HOLLOW_EINVAL; HOLLOW_ENOTFOUND (nothing removed) when a kept
 *         history has no snapshot; errors of listing and deleting.
 * Threads: as the store's calls. Consumers may refresh meanwhile; run it
 *          only from one process at a time.
 */
HOLLOW_API int hollow_blobstore_gc(hollow_gc_result *out, hollow_blobstore *bs,
                                   const hollow_gc_options *opts,
                                   hollow_blob_key_cb on_remove, void *payload);

/**
 * Free the store (not the blobs of a filesystem store). NULL is a no-op.
 * Threads: no other call on `bs` may be running or follow. Streams
 * obtained from the store stay valid and must still be closed.
 */
HOLLOW_API void hollow_blobstore_free(hollow_blobstore *bs);

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_BLOBSTORE_H */
