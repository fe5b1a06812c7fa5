/*
 * hollow/sys/blobstore.h - the blob store backend interface (style.md B8).
 *
 * A backend is a struct whose first member is a `struct hollow_blobstore`
 * filled with its functions, the way libgit2's git_odb_backend works:
 *
 *     typedef struct my_store {
 *         hollow_blobstore parent;   // must come first
 *         ...backend state...
 *     } my_store;
 *
 *     my_store *s = calloc(1, sizeof *s);
 *     s->parent.version = HOLLOW_BLOBSTORE_VERSION;
 *     s->parent.put = my_put;  ...  s->parent.free = my_free;
 *     *out = &s->parent;
 *
 * The generic calls of hollow/blobstore.h check their arguments (store and
 * key present, key valid) and then call the backend, so a backend sees only
 * valid keys. put, get, list, remove and free are required: a vtable
 * lacking one of the first four makes every generic call return
 * HOLLOW_EINVAL. This interface is stable only within a minor release.
 *
 * Threads: every function of a backend must be safe to call from several
 * threads at once; producers and consumers share stores across threads.
 */
#ifndef HOLLOW_SYS_BLOBSTORE_H
#define HOLLOW_SYS_BLOBSTORE_H

#include "../blobstore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of struct hollow_blobstore; the generic calls check it. */
#define HOLLOW_BLOBSTORE_VERSION 1

/** The vtable of a blob store backend. */
struct hollow_blobstore {
    /** HOLLOW_BLOBSTORE_VERSION */
    unsigned int version;

    /**
     * Store the bytes of `src` (read to its end, not closed) under `key`,
     * replacing a blob already there. On failure nothing may be left
     * visible under `key` except the previous blob.
     */
    int (*put)(hollow_blobstore *bs, const hollow_blob_key *key,
               hollow_stream *src);

    /**
     * Store the file at `path` under `key`. May be NULL: the generic call
     * then opens the file as a stream and calls put().
     */
    int (*put_file)(hollow_blobstore *bs, const hollow_blob_key *key,
                    const char *path);

    /** Open the blob as a new stream; HOLLOW_ENOTFOUND if absent. */
    int (*get)(hollow_stream **out, hollow_blobstore *bs,
               const hollow_blob_key *key);

    /**
     * Write the path of the file holding the blob into `path` (`cap`
     * bytes). May be NULL for stores without files: the generic call then
     * returns HOLLOW_ENOTSUPPORTED.
     */
    int (*get_file)(char *path, size_t cap, hollow_blobstore *bs,
                    const hollow_blob_key *key);

    /**
     * Call `cb` for every blob, in any order (the generic call sorts).
     * A non-zero return of `cb` stops the listing and is returned. The
     * backend must not hold a lock while calling `cb`.
     */
    int (*list)(hollow_blobstore *bs, hollow_blob_key_cb cb, void *payload);

    /** Delete the blob; HOLLOW_ENOTFOUND if absent. */
    int (*remove)(hollow_blobstore *bs, const hollow_blob_key *key);

    /** Free the backend itself (the struct that embeds this one). */
    void (*free)(hollow_blobstore *bs);

    /**
     * Fill the counters, as hollow_blobstore_stats_get(). Optional: NULL
     * gives HOLLOW_ENOTSUPPORTED. A backend built before this entry existed
     * must have zeroed the struct.
     */
    int (*stats)(hollow_blobstore_stats *out, hollow_blobstore *bs);

    /**
     * The blob's size in bytes without reading it, as
     * hollow_blobstore_size(); HOLLOW_ENOTFOUND if absent. Optional: NULL
     * makes the generic call open the blob and ask its stream. A backend
     * built before this entry existed must have zeroed the struct.
     */
    int (*size)(int64_t *out, hollow_blobstore *bs, const hollow_blob_key *key);
};

#ifdef __cplusplus
}
#endif
#endif /* HOLLOW_SYS_BLOBSTORE_H */
