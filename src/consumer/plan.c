/*
 * The update planner. The blob store's listing gives a graph: versions are
 * nodes, deltas and reverse deltas are edges. From the current version a
 * breadth-first search finds the shortest chain to the target; when there
 * is none, or it is longer than the double-snapshot limit, the plan starts
 * from the snapshot whose chain to the target is shortest (the target's own
 * snapshot when it has one).
 */
#include "plan.h"

#include <string.h>

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "hollow/consumer.h"

static int collect(const hollow_blob_key *key, void *payload)
{
    hollow__catalog *c = payload;
    HOLLOW_TRY(hollow__grow(c->keys, c->cap, c->count + 1, 64));
    c->keys[c->count++] = *key;
    return 0;
}

int hollow__catalog_load(hollow__catalog *c, hollow_blobstore *bs)
{
    memset(c, 0, sizeof *c);
    int rc = hollow_blobstore_list(bs, collect, c);
    if (rc < 0)
        hollow__catalog_free(c);
    return rc;
}

void hollow__catalog_free(hollow__catalog *c)
{
    hollow__free(c->keys);
    memset(c, 0, sizeof *c);
}

void hollow__catalog_remove(hollow__catalog *c, const hollow_blob_key *key)
{
    size_t j = 0;
    for (size_t i = 0; i < c->count; i++)
        if (c->keys[i].kind != key->kind || c->keys[i].version != key->version ||
            c->keys[i].from_version != key->from_version)
            c->keys[j++] = c->keys[i];
    c->count = j;
}

int64_t hollow__catalog_latest(const hollow__catalog *c)
{
    int64_t v = 0;
    for (size_t i = 0; i < c->count; i++)
        if (c->keys[i].kind != HOLLOW_BLOB_HEADER && c->keys[i].version > v)
            v = c->keys[i].version;
    return v;
}

void hollow__plan_free(hollow__plan *p)
{
    hollow__free(p->steps);
    memset(p, 0, sizeof *p);
}

/*
 * Breadth-first search over delta edges from `from` to `to`. Returns the
 * number of steps (edge indexes into path[], reversed order written from
 * the end) or -1. `prev` and `queue` are scratch of c->count entries.
 */
static long bfs(size_t *path, const hollow__catalog *c, int64_t from, int64_t to,
                int64_t *node_ver, long *node_prev_edge, long *node_prev, size_t cap)
{
    if (from == to)
        return 0;
    size_t n = 0;
    node_ver[n] = from;
    node_prev_edge[n] = -1;
    node_prev[n] = -1;
    n++;
    for (size_t head = 0; head < n; head++) {
        int64_t v = node_ver[head];
        for (size_t e = 0; e < c->count; e++) {
            const hollow_blob_key *k = &c->keys[e];
            if ((k->kind != HOLLOW_BLOB_DELTA && k->kind != HOLLOW_BLOB_REVERSE_DELTA) ||
                k->from_version != v)
                continue;
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = node_ver[i] == k->version;
            if (seen || n == cap)
                continue;
            node_ver[n] = k->version;
            node_prev_edge[n] = (long)e;
            node_prev[n] = (long)head;
            if (k->version == to) {
                long len = 0;
                for (long i = (long)n; node_prev[i] >= 0; i = node_prev[i])
                    len++;
                long at = len;
                for (long i = (long)n; node_prev[i] >= 0; i = node_prev[i])
                    path[--at] = (size_t)node_prev_edge[i];
                return len;
            }
            n++;
        }
    }
    return -1;
}

int hollow__plan_make(hollow__plan *out, const hollow__catalog *c, int64_t from,
                      int64_t to, uint32_t limit, bool allow_chain)
{
    memset(out, 0, sizeof *out);
    size_t cap = c->count + 2;
    size_t *path = hollow__calloc(cap, sizeof *path);
    size_t *best = hollow__calloc(cap, sizeof *best);
    int64_t *ver = hollow__calloc(cap, sizeof *ver);
    long *pe = hollow__calloc(cap, sizeof *pe);
    long *pn = hollow__calloc(cap, sizeof *pn);
    int rc = 0;
    if (!path || !best || !ver || !pe || !pn) {
        rc = hollow__error_oom();
        goto done;
    }
    long len = -1;
    if (from > 0 && allow_chain) {
        len = bfs(path, c, from, to, ver, pe, pn, cap);
        if (len >= 0 && (uint32_t)len <= limit) {
            out->steps = hollow__calloc((size_t)len + 1, sizeof *out->steps);
            if (out->steps == NULL) {
                rc = hollow__error_oom();
                goto done;
            }
            for (long i = 0; i < len; i++)
                out->steps[i] = c->keys[path[i]];
            out->count = (size_t)len;
            goto done;
        }
    }
    /* a snapshot, then the shortest chain from it */
    long best_len = -1;
    size_t best_snap = 0;
    for (size_t i = 0; i < c->count; i++) {
        if (c->keys[i].kind != HOLLOW_BLOB_SNAPSHOT)
            continue;
        long l = bfs(path, c, c->keys[i].version, to, ver, pe, pn, cap);
        if (l < 0)
            continue;
        /* fewest steps; between equals, the later snapshot */
        if (best_len < 0 || l < best_len ||
            (l == best_len && c->keys[i].version > c->keys[best_snap].version)) {
            best_len = l;
            best_snap = i;
            memcpy(best, path, (size_t)l * sizeof *best);
        }
    }
    if (best_len < 0) {
        rc = hollow__error_set(HOLLOW_ENOTFOUND,
                               "no snapshot and delta chain in the blob store "
                               "reaches version %lld", (long long)to);
        goto done;
    }
    out->steps = hollow__calloc((size_t)best_len + 1, sizeof *out->steps);
    if (out->steps == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    out->steps[0] = c->keys[best_snap];
    for (long i = 0; i < best_len; i++)
        out->steps[i + 1] = c->keys[best[i]];
    out->count = (size_t)best_len + 1;
done:
    hollow__free(path);
    hollow__free(best);
    hollow__free(ver);
    hollow__free(pe);
    hollow__free(pn);
    return rc;
}

/* ------------------------------------------------------- public planning */

int hollow_consumer_plan_keys(hollow_update_plan *out, const hollow_blob_key *keys,
                              size_t count, int64_t from, int64_t to,
                              uint32_t double_snapshot_limit)
{
    if (out == NULL || (keys == NULL && count > 0))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    memset(out, 0, sizeof *out);
    if (from < 0 || to <= 0)
        return hollow__error_set(HOLLOW_EINVAL, "cannot plan from version %lld "
                                 "to %lld", (long long)from, (long long)to);
    /* the planner only reads the catalog */
    hollow__catalog c = {(hollow_blob_key *)keys, count, count};
    hollow__plan p;
    int rc = hollow__plan_make(&p, &c, from, to,
                               double_snapshot_limit ? double_snapshot_limit : 32,
                               true);
    if (rc < 0)
        return rc;
    out->steps = p.steps;
    out->count = p.count;
    return 0;
}

int hollow_consumer_plan(hollow_update_plan *out, hollow_blobstore *bs,
                         int64_t from, int64_t to, uint32_t double_snapshot_limit)
{
    if (out == NULL || bs == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    memset(out, 0, sizeof *out);
    hollow__catalog c;
    HOLLOW_TRY(hollow__catalog_load(&c, bs));
    int rc = hollow_consumer_plan_keys(out, c.keys, c.count, from, to,
                                       double_snapshot_limit);
    hollow__catalog_free(&c);
    return rc;
}

void hollow_update_plan_clear(hollow_update_plan *p)
{
    if (p == NULL)
        return;
    hollow__free(p->steps);
    memset(p, 0, sizeof *p);
}
