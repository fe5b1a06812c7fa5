/*
 * The generic blob store calls (hollow/blobstore.h) and blob keys.
 *
 * Every public call checks its arguments here, once, and then goes
 * through the backend's vtable (hollow/sys/blobstore.h), so backends see
 * only a present store of the right vtable version and valid, normalised
 * keys (from_version 0 for snapshots and headers). Listing is two-phase:
 * the backend hands every key to a collector, then this file sorts them by
 * (version, kind, from_version) and calls the user's callback with no
 * backend lock held, so the callback may call the store.
 *
 * File names follow Java's filesystem publisher (blob-format.md §13):
 *
 *     snapshot-<v>   delta-<from>-<to>   reversedelta-<from>-<to>   header-<v>
 *
 * and are matched exactly: the whole name, canonical decimal numbers (no
 * sign, no leading zero, at most INT64_MAX). Java's retriever matches
 * `delta-<c>` as a prefix, which can pick up `delta-<c>5-...` for another
 * version; we never do (§13 asks a C implementation not to).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore_int.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

/* ------------------------------------------------------------------ */
/* Keys and names                                                      */
/* ------------------------------------------------------------------ */

static const char *const kind_prefix[] = {"snapshot-", "delta-",
                                          "reversedelta-", "header-"};

static bool kind_has_origin(hollow_blob_kind k)
{
    return k == HOLLOW_BLOB_DELTA || k == HOLLOW_BLOB_REVERSE_DELTA;
}

bool hollow__blob_key_is_valid(const hollow_blob_key *k)
{
    if (k == NULL || (int)k->kind < 0 || (int)k->kind > 3 || k->version < 0)
        return false;
    return !kind_has_origin(k->kind) || k->from_version >= 0;
}

hollow_blob_key hollow__blob_key_normal(const hollow_blob_key *k)
{
    hollow_blob_key n = *k;
    if (!kind_has_origin(n.kind))
        n.from_version = 0;
    return n;
}

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

int hollow__blob_key_cmp(const hollow_blob_key *a, const hollow_blob_key *b)
{
    int c = cmp_i64(a->version, b->version);
    if (c == 0)
        c = cmp_i64((int64_t)a->kind, (int64_t)b->kind);
    if (c == 0)
        c = cmp_i64(a->from_version, b->from_version);
    return c;
}

int hollow_blob_key_name(char *buf, size_t cap, const hollow_blob_key *key)
{
    if (buf == NULL || !hollow__blob_key_is_valid(key))
        return hollow__error_set(HOLLOW_EINVAL, "invalid blob key");
    int n;
    if (kind_has_origin(key->kind))
        n = snprintf(buf, cap, "%s%lld-%lld", kind_prefix[key->kind],
                     (long long)key->from_version, (long long)key->version);
    else
        n = snprintf(buf, cap, "%s%lld", kind_prefix[key->kind],
                     (long long)key->version);
    if (n < 0 || (size_t)n >= cap)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "blob name needs %d bytes, buffer has %zu",
                                 n + 1, cap);
    return 0;
}

/* canonical decimal digits at p; the end of them, or NULL */
static const char *parse_version(const char *p, int64_t *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return NULL; /* leading zero: not a name we would write */
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    *out = v;
    return p;
}

bool hollow__blob_key_match(hollow_blob_key *out, const char *name)
{
    for (int k = 0; k < 4; k++) {
        size_t plen = strlen(kind_prefix[k]);
        if (strncmp(name, kind_prefix[k], plen) != 0)
            continue;
        hollow_blob_key key;
        key.kind = (hollow_blob_kind)k;
        key.from_version = 0;
        const char *p = parse_version(name + plen, &key.version);
        if (p != NULL && kind_has_origin(key.kind)) {
            key.from_version = key.version;
            p = *p == '-' ? parse_version(p + 1, &key.version) : NULL;
        }
        if (p == NULL || *p != '\0')
            return false;
        *out = key;
        return true;
    }
    return false;
}

int hollow_blob_key_parse(hollow_blob_key *out, const char *name)
{
    if (out == NULL || name == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "blob key parse: NULL argument");
    if (!hollow__blob_key_match(out, name))
        return hollow__error_set(HOLLOW_EPARSE, "not a blob file name: %.200s",
                                 name);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static int check_store(const hollow_blobstore *bs)
{
    if (bs == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "blob store is NULL");
    if (bs->version != HOLLOW_BLOBSTORE_VERSION)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "blob store vtable version %u, expected %u",
                                 bs->version, HOLLOW_BLOBSTORE_VERSION);
    /* a backend's own vtable missing a required entry: refused, not called */
    if (bs->put == NULL || bs->get == NULL || bs->list == NULL ||
        bs->remove == NULL)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "blob store vtable lacks a required entry "
                                 "(put, get, list, remove)");
    return 0;
}

/* check store and key; *norm receives the normalised key */
static int check_args(hollow_blob_key *norm, const hollow_blobstore *bs,
                      const hollow_blob_key *key)
{
    HOLLOW_TRY(check_store(bs));
    if (!hollow__blob_key_is_valid(key))
        return hollow__error_set(HOLLOW_EINVAL, "invalid blob key");
    *norm = hollow__blob_key_normal(key);
    return 0;
}

int hollow_blobstore_put(hollow_blobstore *bs, const hollow_blob_key *key,
                         hollow_stream *src)
{
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    if (src == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "put: stream is NULL");
    return bs->put(bs, &k, src);
}

/* check store and key, and open a stream over the bytes to put */
static int bytes_args(hollow_blob_key *norm, hollow_stream **s,
                      const hollow_blobstore *bs, const hollow_blob_key *key,
                      const void *data, size_t len)
{
    HOLLOW_TRY(check_args(norm, bs, key));
    return hollow_stream_from_memory(s, data, len);
}

int hollow_blobstore_put_bytes(hollow_blobstore *bs, const hollow_blob_key *key,
                               const void *data, size_t len)
{
    hollow_blob_key k;
    hollow_stream *s;
    HOLLOW_TRY(bytes_args(&k, &s, bs, key, data, len));
    int rc = bs->put(bs, &k, s);
    hollow_stream_close(s);
    return rc;
}

int hollow__blobstore_put_new(hollow_blobstore *bs, const hollow_blob_key *key,
                              const void *data, size_t len)
{
    hollow_blob_key k;
    hollow_stream *s;
    HOLLOW_TRY(bytes_args(&k, &s, bs, key, data, len));
    int rc = hollow__fs_put_new(bs, &k, s);
    if (rc == HOLLOW_ENOTSUPPORTED)
        rc = hollow__mem_put_new(bs, &k, s);
    if (rc == HOLLOW_ENOTSUPPORTED)
        rc = hollow__s3_put_new(bs, &k, s);
    if (rc == HOLLOW_ENOTSUPPORTED) {
        hollow_stream *g = NULL;
        rc = bs->get(&g, bs, &k);
        hollow_stream_close(g);
        if (rc == 0) {
            char name[HOLLOW_BLOB_NAME_MAX];
            hollow_blob_key_name(name, sizeof name, &k);
            rc = hollow__error_set(HOLLOW_EEXISTS, "%s is already stored", name);
        } else if (rc == HOLLOW_ENOTFOUND) {
            hollow_error_clear();
            rc = bs->put(bs, &k, s);
        }
    }
    hollow_stream_close(s);
    return rc;
}

int hollow_blobstore_put_file(hollow_blobstore *bs, const hollow_blob_key *key,
                              const char *path)
{
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    if (path == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "put: path is NULL");
    if (bs->put_file)
        return bs->put_file(bs, &k, path);
    hollow_stream *s;
    HOLLOW_TRY(hollow_stream_from_file(&s, path));
    int rc = bs->put(bs, &k, s);
    hollow_stream_close(s);
    return rc;
}

int hollow_blobstore_get(hollow_stream **out, hollow_blobstore *bs,
                         const hollow_blob_key *key)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "get: out is NULL");
    *out = NULL;
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    return bs->get(out, bs, &k);
}

int hollow_blobstore_get_file(char *path, size_t cap, hollow_blobstore *bs,
                              const hollow_blob_key *key)
{
    if (path == NULL || cap == 0)
        return hollow__error_set(HOLLOW_EINVAL, "get_file: no path buffer");
    path[0] = '\0';
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    if (bs->get_file == NULL)
        return hollow__error_set(HOLLOW_ENOTSUPPORTED,
                                 "this blob store keeps no files; use get");
    return bs->get_file(path, cap, bs, &k);
}

int hollow_blobstore_size(int64_t *out, hollow_blobstore *bs,
                          const hollow_blob_key *key)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "size: out is NULL");
    *out = -1;
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    if (bs->size != NULL)
        return bs->size(out, bs, &k);
    hollow_stream *s = NULL;
    HOLLOW_TRY(bs->get(&s, bs, &k));
    int64_t n = hollow_stream_size(s);
    int rc = 0;
    if (n < 0) { /* a stream that does not know: count its bytes */
        uint8_t buf[1 << 14];
        size_t got = 0;
        n = 0;
        while ((rc = hollow_stream_read(&got, s, buf, sizeof buf)) == 0 &&
               got > 0)
            n += (int64_t)got;
    }
    hollow_stream_close(s);
    if (rc == 0)
        *out = n;
    return rc;
}

int hollow_blobstore_delete(hollow_blobstore *bs, const hollow_blob_key *key)
{
    hollow_blob_key k;
    HOLLOW_TRY(check_args(&k, bs, key));
    return bs->remove(bs, &k);
}

int hollow_blobstore_stats_get(hollow_blobstore_stats *out,
                               hollow_blobstore *bs)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "stats: out is NULL");
    memset(out, 0, sizeof *out);
    HOLLOW_TRY(check_store(bs));
    if (bs->stats == NULL)
        return hollow__error_set(HOLLOW_ENOTSUPPORTED,
                                 "this blob store keeps no counters");
    return bs->stats(out, bs);
}

void hollow_blobstore_free(hollow_blobstore *bs)
{
    if (bs != NULL && bs->free != NULL)
        bs->free(bs);
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */
/* ------------------------------------------------------------------ */

typedef hollow__array(hollow_blob_key) keyvec;

static int collect(const hollow_blob_key *key, void *payload)
{
    keyvec *kv = payload;
    if (!hollow__blob_key_is_valid(key))
        return 0; /* a custom backend's junk is not listed */
    hollow_blob_key *slot = hollow__array_push(kv, 64);
    HOLLOW_CHECK_ALLOC(slot);
    *slot = hollow__blob_key_normal(key);
    return 0;
}

static int qsort_key_cmp(const void *a, const void *b)
{
    return hollow__blob_key_cmp(a, b);
}

/* every key of the store, sorted and without duplicates */
static int collect_sorted(keyvec *kv, hollow_blobstore *bs)
{
    memset(kv, 0, sizeof *kv);
    int rc = bs->list(bs, collect, kv);
    if (rc != 0) {
        hollow__free(kv->v);
        kv->v = NULL;
        return rc;
    }
    if (kv->n > 1) {
        qsort(kv->v, kv->n, sizeof *kv->v, qsort_key_cmp);
        size_t w = 1;
        for (size_t r = 1; r < kv->n; r++)
            if (hollow__blob_key_cmp(&kv->v[w - 1], &kv->v[r]) != 0)
                kv->v[w++] = kv->v[r];
        kv->n = w;
    }
    return 0;
}

/* the checks of both listings, then the sorted keys */
static int list_start(keyvec *kv, hollow_blobstore *bs, bool have_cb)
{
    kv->v = NULL;
    kv->n = 0;
    HOLLOW_TRY(check_store(bs));
    if (!have_cb)
        return hollow__error_set(HOLLOW_EINVAL, "list: callback is NULL");
    return collect_sorted(kv, bs);
}

int hollow_blobstore_list(hollow_blobstore *bs, hollow_blob_key_cb cb,
                          void *payload)
{
    keyvec kv;
    int rc = list_start(&kv, bs, cb != NULL);
    for (size_t i = 0; rc == 0 && i < kv.n; i++)
        rc = cb(&kv.v[i], payload);
    hollow__free(kv.v);
    return rc;
}

static int qsort_i64_cmp(const void *a, const void *b)
{
    return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

int hollow_blobstore_list_versions(hollow_blobstore *bs, hollow_version_cb cb,
                                   void *payload)
{
    keyvec kv;
    HOLLOW_TRY(list_start(&kv, bs, cb != NULL));
    int rc = 0;
    int64_t *vs = hollow__mallocarray(kv.n * 2 + 1, sizeof *vs);
    if (vs == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    size_t n = 0;
    for (size_t i = 0; i < kv.n; i++) {
        vs[n++] = kv.v[i].version;
        if (kind_has_origin(kv.v[i].kind))
            vs[n++] = kv.v[i].from_version;
    }
    qsort(vs, n, sizeof *vs, qsort_i64_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (i == 0 || vs[i] != vs[i - 1])
            rc = cb(vs[i], payload);
done:
    hollow__free(vs);
    hollow__free(kv.v);
    return rc;
}
