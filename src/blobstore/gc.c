/*
 * Blob retention (hollow_blobstore_gc): what Java's filesystem publisher
 * leaves to its blob-retention cleaner, for any store. The announced
 * history is recovered from the store itself: from the announced version,
 * each version's parent is the target of its reverse delta (or, without
 * one, the origin of a delta into it). Versions on that history from the
 * N-th newest snapshot on are kept, with the blobs between them; every
 * other blob is a leftover (a failed or crashed cycle, a forked history)
 * or older than what is kept, and is removed.
 */
#include <stdlib.h>
#include <string.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/error.h"

typedef struct keyvec {
    hollow_blob_key *k;
    size_t n, cap;
} keyvec;

static int collect(const hollow_blob_key *key, void *payload)
{
    keyvec *v = payload;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        hollow_blob_key *k = hollow__reallocarray(v->k, cap, sizeof *k);
        HOLLOW_CHECK_ALLOC(k);
        v->k = k;
        v->cap = cap;
    }
    v->k[v->n++] = *key;
    return 0;
}

/* the parent of `v` on its history, or -1 */
static int64_t parent_of(const keyvec *all, int64_t v)
{
    int64_t best = -1;
    for (size_t i = 0; i < all->n; i++) {
        const hollow_blob_key *k = &all->k[i];
        if (k->kind == HOLLOW_BLOB_REVERSE_DELTA && k->from_version == v &&
            k->version < v)
            return k->version;
        if (k->kind == HOLLOW_BLOB_DELTA && k->version == v &&
            k->from_version < v && k->from_version > best)
            best = k->from_version;
    }
    return best;
}

static bool has_snapshot(const keyvec *all, int64_t v)
{
    for (size_t i = 0; i < all->n; i++)
        if (all->k[i].kind == HOLLOW_BLOB_SNAPSHOT && all->k[i].version == v)
            return true;
    return false;
}

/*
 * Add to `keep` the versions of root's history from its `n`-th newest
 * snapshot on (all of it when n is 0 or it has fewer snapshots).
 * HOLLOW_ENOTFOUND when the history has no snapshot: nothing could load
 * the root, and we would not know what to keep.
 */
static int keep_history(keyvec *keep, const keyvec *all, int64_t root,
                        uint32_t n)
{
    size_t start = keep->n;
    uint32_t snaps = 0;
    int64_t v = root;
    while (v > 0) {
        hollow_blob_key k = hollow_blob_key_header(v); /* a version holder */
        HOLLOW_TRY(collect(&k, keep));
        if (has_snapshot(all, v) && ++snaps == n && n > 0)
            break;
        int64_t p = parent_of(all, v);
        bool seen = false;
        for (size_t i = start; i < keep->n && !seen; i++)
            seen = keep->k[i].version == p;
        if (p <= 0 || seen)
            break;
        v = p;
    }
    if (snaps == 0)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no snapshot on the history "
                                 "of version %lld: nothing removed",
                                 (long long)root);
    return 0;
}

static bool kept(const keyvec *keep, int64_t v)
{
    for (size_t i = 0; i < keep->n; i++)
        if (keep->k[i].version == v)
            return true;
    return false;
}

int hollow_blobstore_gc(hollow_gc_result *out, hollow_blobstore *bs,
                        const hollow_gc_options *opts, hollow_blob_key_cb on_remove,
                        void *payload)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (bs == NULL || opts == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "gc: null argument");
    if (opts->version != HOLLOW_GC_OPTIONS_VERSION)
        return hollow__error_set(HOLLOW_EINVAL, "gc: options version %u, "
                                 "expected %u", opts->version,
                                 HOLLOW_GC_OPTIONS_VERSION);
    if (opts->announced <= 0 || opts->pinned < 0)
        return hollow__error_set(HOLLOW_EINVAL, "gc: needs the announced "
                                 "version");
    keyvec all = {0}, keep = {0};
    int rc = hollow_blobstore_list(bs, collect, &all);
    if (rc == 0)
        rc = keep_history(&keep, &all, opts->announced, opts->keep_snapshots);
    if (rc == 0 && opts->pinned > 0)
        rc = keep_history(&keep, &all, opts->pinned, opts->keep_snapshots);
    hollow_gc_result res = {0, 0};
    for (size_t i = 0; rc == 0 && i < all.n; i++) {
        const hollow_blob_key *k = &all.k[i];
        bool delta = k->kind == HOLLOW_BLOB_DELTA ||
                     k->kind == HOLLOW_BLOB_REVERSE_DELTA;
        bool newer = k->version > opts->announced ||
                     (delta && k->from_version > opts->announced);
        bool keep_it = (kept(&keep, k->version) &&
                        (!delta || kept(&keep, k->from_version))) ||
                       (newer && !opts->remove_newer);
        if (keep_it) {
            res.kept++;
            continue;
        }
        if (on_remove != NULL && (rc = on_remove(k, payload)) != 0)
            break;
        if (!opts->dry_run && (rc = hollow_blobstore_delete(bs, k)) < 0) {
            if (rc != HOLLOW_ENOTFOUND)
                break; /* one removed meanwhile is fine */
            hollow_error_clear();
            rc = 0;
        }
        res.removed++;
    }
    hollow__free(all.k);
    hollow__free(keep.k);
    if (out != NULL)
        *out = res;
    return rc;
}
