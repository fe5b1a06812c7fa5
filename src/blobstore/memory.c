/*
 * The in-memory blob store: for tests and for a producer and consumers in
 * one process.
 *
 * Layout: an array of entries sorted by key (hollow__blob_key_cmp), each
 * pointing at an immutable, reference-counted blob:
 *
 *     mem_store { vtable | mutex | entry[n] sorted by key }
 *     entry     { key | blob* }
 *     mem_blob  { refs (atomic) | len | bytes[len] }
 *
 * Invariants: the mutex guards the array only. A blob's bytes never change
 * after put() publishes it; the array holds one reference and every open
 * stream holds one, so get() streams without copying and a blob replaced
 * or deleted while being read stays alive until its last stream closes.
 * Bytes are copied in put() (outside the lock), so the lock is held only
 * for a binary search and a memmove.
 */
#include <stdatomic.h>
#include <string.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/thread.h"

typedef struct mem_blob {
    atomic_size_t refs;
    size_t len;
    uint8_t bytes[];
} mem_blob;

typedef struct entry {
    hollow_blob_key key;
    mem_blob *blob;
} entry;

typedef struct mem_store {
    hollow_blobstore parent; /* must come first */
    hollow__mutex lock;
    entry *v;
    size_t n;
    size_t cap;
    /* hollow_blobstore_stats_get(): every get is a "miss" (no cache) */
    atomic_uint_fast64_t gets, bytes_down, uploads, bytes_up;
} mem_store;

static void blob_release(mem_blob *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
        hollow__free(b);
}

/* index of `key`, or of where it would go; *found says which */
static size_t find(const mem_store *m, const hollow_blob_key *key, bool *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = hollow__blob_key_cmp(&m->v[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* read the stream into a new blob with one reference */
static int read_blob(mem_blob **out, hollow_stream *src)
{
    *out = NULL;
    size_t cap = 64 * 1024;
    int64_t hint = hollow_stream_size(src);
    if (hint >= 0 && (uint64_t)hint < SIZE_MAX / 2)
        cap = (size_t)hint + 1; /* +1: the end is seen without regrowth */
    mem_blob *b = hollow__malloc(sizeof(mem_blob) + cap);
    HOLLOW_CHECK_ALLOC(b);
    size_t len = 0;
    int rc;
    for (;;) {
        if (len == cap) {
            size_t ncap, bytes;
            if (hollow__mul_overflow(cap, 2, &ncap) ||
                hollow__add_overflow(sizeof(mem_blob), ncap, &bytes)) {
                rc = hollow__error_oom();
                goto fail;
            }
            mem_blob *p = hollow__realloc(b, bytes);
            if (p == NULL) {
                rc = hollow__error_oom();
                goto fail;
            }
            b = p;
            cap = ncap;
        }
        size_t n;
        if ((rc = hollow_stream_read(&n, src, b->bytes + len, cap - len)) < 0)
            goto fail;
        if (n == 0)
            break;
        len += n;
    }
    if (cap > len + 4096) { /* give back a wrong hint's slack */
        mem_blob *p = hollow__realloc(b, sizeof(mem_blob) + len);
        if (p != NULL)
            b = p;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    *out = b;
    return 0;
fail:
    hollow__free(b);
    return rc;
}

static int put_blob(hollow_blobstore *bs, const hollow_blob_key *key,
                    hollow_stream *src, bool exclusive)
{
    mem_store *m = (mem_store *)bs;
    mem_blob *b;
    HOLLOW_TRY(read_blob(&b, src));
    uint64_t len = b->len; /* b may be replaced and freed once unlocked */
    mem_blob *old = NULL;
    int rc = 0;
    hollow__mutex_lock(&m->lock);
    bool found;
    size_t i = find(m, key, &found);
    if (found && exclusive) {
        rc = hollow__error_set(HOLLOW_EEXISTS, "the blob is already stored");
        old = b; /* not stored: released below */
    } else if (found) {
        old = m->v[i].blob;
        m->v[i].blob = b;
    } else {
        if ((rc = hollow__grow(m->v, m->cap, m->n + 1, 16)) < 0) {
            old = b; /* not stored: released below */
            goto unlock;
        }
        memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *m->v);
        m->v[i].key = *key;
        m->v[i].blob = b;
        m->n++;
    }
unlock:
    hollow__mutex_unlock(&m->lock);
    if (rc == 0) {
        atomic_fetch_add(&m->uploads, 1);
        atomic_fetch_add(&m->bytes_up, len);
    }
    blob_release(old);
    return rc;
}

static int mem_put(hollow_blobstore *bs, const hollow_blob_key *key,
                   hollow_stream *src)
{
    return put_blob(bs, key, src, false);
}

static void mem_free(hollow_blobstore *bs);

int hollow__mem_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                        hollow_stream *src)
{
    return bs->free == mem_free ? put_blob(bs, key, src, true)
                                : HOLLOW_ENOTSUPPORTED;
}

typedef struct mem_reader {
    mem_blob *blob;
    size_t pos;
} mem_reader;

static int reader_read(size_t *n_out, void *buf, size_t cap, void *payload)
{
    mem_reader *r = payload;
    size_t n = r->blob->len - r->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, r->blob->bytes + r->pos, n);
    r->pos += n;
    *n_out = n;
    return 0;
}

static void reader_close(void *payload)
{
    mem_reader *r = payload;
    blob_release(r->blob);
    hollow__free(r);
}

static int mem_get(hollow_stream **out, hollow_blobstore *bs,
                   const hollow_blob_key *key)
{
    mem_store *m = (mem_store *)bs;
    mem_reader *r = hollow__calloc(1, sizeof *r);
    HOLLOW_CHECK_ALLOC(r);
    hollow__mutex_lock(&m->lock);
    bool found;
    size_t i = find(m, key, &found);
    if (found) {
        r->blob = m->v[i].blob;
        atomic_fetch_add(&r->blob->refs, 1);
    }
    hollow__mutex_unlock(&m->lock);
    if (!found) {
        hollow__free(r);
        char name[HOLLOW_BLOB_NAME_MAX];
        hollow_blob_key_name(name, sizeof name, key);
        return hollow__error_set(HOLLOW_ENOTFOUND, "no blob %s", name);
    }
    atomic_fetch_add(&m->gets, 1);
    atomic_fetch_add(&m->bytes_down, (uint64_t)r->blob->len);
    int rc = hollow_stream_new(out, reader_read, reader_close, r,
                               (int64_t)r->blob->len);
    if (rc < 0)
        reader_close(r);
    return rc;
}

static int mem_size(int64_t *out, hollow_blobstore *bs,
                    const hollow_blob_key *key)
{
    mem_store *m = (mem_store *)bs;
    hollow__mutex_lock(&m->lock);
    bool found;
    size_t i = find(m, key, &found);
    if (found)
        *out = (int64_t)m->v[i].blob->len;
    hollow__mutex_unlock(&m->lock);
    if (!found) {
        char name[HOLLOW_BLOB_NAME_MAX];
        hollow_blob_key_name(name, sizeof name, key);
        return hollow__error_set(HOLLOW_ENOTFOUND, "no blob %s", name);
    }
    return 0;
}

static int mem_stats(hollow_blobstore_stats *out, hollow_blobstore *bs)
{
    mem_store *m = (mem_store *)bs;
    out->cache_misses = atomic_load(&m->gets);
    out->bytes_down = atomic_load(&m->bytes_down);
    out->uploads = atomic_load(&m->uploads);
    out->bytes_up = atomic_load(&m->bytes_up);
    return 0;
}

static int mem_list(hollow_blobstore *bs, hollow_blob_key_cb cb, void *payload)
{
    /* copy the keys so that `cb` runs without the lock */
    mem_store *m = (mem_store *)bs;
    hollow__mutex_lock(&m->lock);
    size_t n = m->n;
    hollow_blob_key *keys = hollow__mallocarray(n ? n : 1, sizeof *keys);
    if (keys != NULL)
        for (size_t i = 0; i < n; i++)
            keys[i] = m->v[i].key;
    hollow__mutex_unlock(&m->lock);
    HOLLOW_CHECK_ALLOC(keys);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cb(&keys[i], payload);
    hollow__free(keys);
    return rc;
}

static int mem_remove(hollow_blobstore *bs, const hollow_blob_key *key)
{
    mem_store *m = (mem_store *)bs;
    mem_blob *old = NULL;
    hollow__mutex_lock(&m->lock);
    bool found;
    size_t i = find(m, key, &found);
    if (found) {
        old = m->v[i].blob;
        memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
        m->n--;
    }
    hollow__mutex_unlock(&m->lock);
    if (!found) {
        char name[HOLLOW_BLOB_NAME_MAX];
        hollow_blob_key_name(name, sizeof name, key);
        return hollow__error_set(HOLLOW_ENOTFOUND, "no blob %s", name);
    }
    blob_release(old);
    return 0;
}

static void mem_free(hollow_blobstore *bs)
{
    mem_store *m = (mem_store *)bs;
    for (size_t i = 0; i < m->n; i++)
        blob_release(m->v[i].blob);
    hollow__free(m->v);
    hollow__mutex_destroy(&m->lock);
    hollow__free(m);
}

int hollow_blobstore_memory_new(hollow_blobstore **out,
                                const hollow_blobstore_memory_options *opts)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "memory store: out is NULL");
    *out = NULL;
    if (opts != NULL)
        HOLLOW_TRY(hollow__check_options_version(
            "memory store", opts->version, HOLLOW_BLOBSTORE_MEMORY_OPTIONS_VERSION));
    mem_store *m = hollow__calloc(1, sizeof *m);
    HOLLOW_CHECK_ALLOC(m);
    if (hollow__mutex_init(&m->lock) != 0) {
        hollow__free(m);
        return hollow__error_set(HOLLOW_ERROR, "memory store: mutex init failed");
    }
    m->parent.version = HOLLOW_BLOBSTORE_VERSION;
    m->parent.put = mem_put;
    m->parent.put_file = NULL;
    m->parent.get = mem_get;
    m->parent.get_file = NULL;
    m->parent.list = mem_list;
    m->parent.remove = mem_remove;
    m->parent.free = mem_free;
    m->parent.stats = mem_stats;
    m->parent.size = mem_size;
    *out = &m->parent;
    return 0;
}
