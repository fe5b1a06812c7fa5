/*
 * The S3 store's local side (s3_cache.c): the cache directory and the
 * pending journal. Nothing here talks to the network.
 *
 * Cache. Files under the cache dir named by the store's relative object
 * key ("snapshots/snapshot-5", "deltas/delta-4-5", ...), each with a
 * small sidecar recording its size and SHA-256. A file enters the cache
 * only whole (temporary file, fsync, rename) and already verified by the
 * caller. Bounded by max_bytes: least recently used first (use is
 * recorded in the file's mtime, at most once a second, so it persists
 * across processes), never
 * a file a pending journal entry names. Processes sharing the dir keep
 * the bound together: a commit re-reads the dir's sizes when another
 * process committed since (counted in `<dir>/.commits`).
 *
 * Journal. `<dir>/pending.journal`: an append-only, fsynced log of
 * entries waiting for upload, shared by every process that opens the same
 * cache dir (appends are single write(2)s under an flock). An entry is a
 * blob (its bytes are the cache file of `relkey`) or an announcement
 * (the version inline; its object is `relkey`, e.g. "announced.version").
 * Entries are uploaded in the order they were added; a done entry is
 * marked by a later record, and the log is compacted when nothing is
 * pending. A torn last line (a crash mid-append) is ignored.
 * One retrier at a time per cache dir: hollow__s3_journal_try_lock()
 * takes `<dir>/pending.lock` with flock(LOCK_EX|LOCK_NB), held until
 * close.
 *
 * Threads: every call is safe from any number of threads.
 */
#ifndef HOLLOW_SRC_BLOBSTORE_S3_CACHE_H
#define HOLLOW_SRC_BLOBSTORE_S3_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hollow__s3_cache hollow__s3_cache;

#define HOLLOW__S3_RELKEY_MAX 128

/* open (creating it and its parents) a cache dir; max_bytes 0: no bound.
 * Rebuilds the byte count from the files and removes the temporary files
 * of processes that no longer exist. */
int hollow__s3_cache_open(hollow__s3_cache **out, const char *dir,
                          uint64_t max_bytes, bool verify);
/* release the retrier lock if held; files stay */
void hollow__s3_cache_close(hollow__s3_cache *c);

/*
 * A new temporary file in the cache dir for a blob being written or
 * downloaded: *fd_out open for writing, its path in `path`.
 */
int hollow__s3_cache_tmp(hollow__s3_cache *c, int *fd_out, char *path,
                         size_t cap);
/* remove a temporary file that will not be committed (only a path that
 * hollow__s3_cache_tmp() gave; anything else is left alone) */
void hollow__s3_cache_discard(hollow__s3_cache *c, const char *tmp_path);
/*
 * Move a complete temporary file into the cache under `relkey` (fsync,
 * rename, sidecar), replacing what was there; then evict down to
 * max_bytes. `size` and `sha256_hex` describe its bytes (the file's
 * size must be `size`; the hash is 64 lower-case hex digits). On failure
 * the temporary file is removed. HOLLOW_EINVAL for a bad relkey: one
 * with "..", a leading '/', an empty component or one starting with '.',
 * a character outside [A-Za-z0-9/._-], "pending.journal"/"pending.lock".
 */
int hollow__s3_cache_commit(hollow__s3_cache *c, const char *relkey,
                            const char *tmp_path, int64_t size,
                            const char *sha256_hex);
/*
 * The path of the cache file of `relkey`: 0 on a hit (size checked
 * against the sidecar, and the hash too when `verify`; use recorded);
 * HOLLOW_ENOTFOUND on a miss; HOLLOW_ECORRUPT when the file does not match
 * its sidecar (the file is removed, so the next get downloads it again).
 * `size_out` and `sha256_out` (65 bytes) may be NULL.
 */
int hollow__s3_cache_lookup(hollow__s3_cache *c, const char *relkey,
                            char *path, size_t cap, int64_t *size_out,
                            char *sha256_out);
/* lookup() that always hashes the file (whatever `verify`): a file that
 * does not match its sidecar is removed, HOLLOW_ECORRUPT */
int hollow__s3_cache_verify(hollow__s3_cache *c, const char *relkey,
                            char *path, size_t cap, int64_t *size_out,
                            char *sha256_out);
/* the relkeys of every cache file in the dir now (re-read: other
 * processes' files too); *out hollow__malloc'd, *n_out may be 0 */
int hollow__s3_cache_list(hollow__s3_cache *c,
                          char (**out)[HOLLOW__S3_RELKEY_MAX], size_t *n_out);
/* drop `relkey` from the cache (ENOTFOUND if absent) */
int hollow__s3_cache_remove(hollow__s3_cache *c, const char *relkey);
/* total bytes of cache files */
uint64_t hollow__s3_cache_bytes(hollow__s3_cache *c);

typedef enum hollow__s3_entry_kind {
    HOLLOW__S3_ENTRY_BLOB = 0,
    HOLLOW__S3_ENTRY_ANNOUNCE = 1
} hollow__s3_entry_kind;

typedef struct hollow__s3_entry {
    uint64_t id;   /* unique across processes (assigned by journal_add) */
    hollow__s3_entry_kind kind;
    char relkey[HOLLOW__S3_RELKEY_MAX];
    int64_t size;      /* blob bytes; 0 for an announcement */
    char sha256[65];   /* blob hash; "" for an announcement */
    int64_t version;   /* announced version; 0 for a blob */
} hollow__s3_entry;

/* append an entry (fsynced before returning); e->id is assigned */
int hollow__s3_journal_add(hollow__s3_cache *c, hollow__s3_entry *e);
/* mark an entry uploaded (HOLLOW_ENOTFOUND if it is not pending) */
int hollow__s3_journal_done(hollow__s3_cache *c, uint64_t id);
/*
 * The pending entries in order, read from the file (so entries other
 * processes added are seen). *out is hollow__malloc'd (free with
 * hollow__free), *n_out may be 0.
 */
int hollow__s3_journal_pending(hollow__s3_cache *c, hollow__s3_entry **out,
                               size_t *n_out);
/* become this cache dir's retrier: true if the lock was taken (or is
 * already held by this cache object) */
bool hollow__s3_journal_try_lock(hollow__s3_cache *c);

#endif
