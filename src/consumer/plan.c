/*
 * The update planner. The blob store's listing gives a graph: versions are
 * nodes, deltas and reverse deltas are edges. From the current version a
 * breadth-first search finds the shortest chain to the target; when there
 * is none, or it is longer than the double-snapshot limit, the plan starts
 * from the snapshot whose chain to the target is shortest (the target's own
 * snapshot when it has one), found by one backward search from the target.
 * Both searches run over an index of the graph, linear in its size, so
 * planning to every version of a long history (hollow-cli inspect) stays
 * quadratic at worst, not quartic.
 */
#include "plan.h"

#include <stdlib.h>
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
 * The delta graph of a catalog: versions are nodes (sorted, found by
 * binary search), each node's outgoing deltas and reverse deltas are kept
 * in catalog order, so a search visits edges in the same order as a scan
 * of the catalog would, in O(nodes + edges) instead of O(nodes x edges).
 */
typedef struct graph {
    int64_t *ver;       /* node versions, ascending, unique */
    size_t n;
    size_t *adj_start;  /* node i's edges: adj[adj_start[i] .. adj_start[i+1]) */
    size_t *adj;        /* catalog indexes */
    size_t *dst;        /* per catalog index: the node it leads to */
    size_t *src;        /* per catalog index: the node it starts from */
    size_t *radj_start; /* node i's incoming edges, as adj_start */
    size_t *radj;
    long *dist;         /* steps to the target of the last backward search */
    uint32_t *stamp;    /* seen in the search numbered `cur` */
    uint32_t cur;
    size_t *queue;
    long *prev;         /* per node: the node it was reached from */
    size_t *prev_edge;  /* per node: the catalog index that reached it */
} graph;

static bool is_edge(const hollow_blob_key *k)
{
    return k->kind == HOLLOW_BLOB_DELTA || k->kind == HOLLOW_BLOB_REVERSE_DELTA;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static long node_of(const graph *g, int64_t v)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->ver[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n && g->ver[lo] == v ? (long)lo : -1;
}

static void graph_free(graph *g)
{
    hollow__free(g->ver);
    hollow__free(g->adj_start);
    hollow__free(g->adj);
    hollow__free(g->dst);
    hollow__free(g->src);
    hollow__free(g->radj_start);
    hollow__free(g->radj);
    hollow__free(g->dist);
    hollow__free(g->stamp);
    hollow__free(g->queue);
    hollow__free(g->prev);
    hollow__free(g->prev_edge);
    memset(g, 0, sizeof *g);
}

static int graph_build(graph *g, const hollow__catalog *c)
{
    memset(g, 0, sizeof *g);
    size_t cap = 2 * c->count + 1;
    g->ver = hollow__calloc(cap, sizeof *g->ver);
    g->dst = hollow__calloc(c->count + 1, sizeof *g->dst);
    g->adj = hollow__calloc(c->count + 1, sizeof *g->adj);
    g->src = hollow__calloc(c->count + 1, sizeof *g->src);
    g->radj = hollow__calloc(c->count + 1, sizeof *g->radj);
    if (g->ver == NULL || g->dst == NULL || g->adj == NULL || g->src == NULL ||
        g->radj == NULL)
        return hollow__error_oom();
    size_t n = 0;
    for (size_t e = 0; e < c->count; e++) {
        g->ver[n++] = c->keys[e].version;
        if (is_edge(&c->keys[e]))
            g->ver[n++] = c->keys[e].from_version;
    }
    qsort(g->ver, n, sizeof *g->ver, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || g->ver[u - 1] != g->ver[i])
            g->ver[u++] = g->ver[i];
    g->n = u;
    g->adj_start = hollow__calloc(u + 2, sizeof *g->adj_start);
    g->stamp = hollow__calloc(u + 1, sizeof *g->stamp);
    g->queue = hollow__calloc(u + 1, sizeof *g->queue);
    g->prev = hollow__calloc(u + 1, sizeof *g->prev);
    g->prev_edge = hollow__calloc(u + 1, sizeof *g->prev_edge);
    g->radj_start = hollow__calloc(u + 2, sizeof *g->radj_start);
    g->dist = hollow__calloc(u + 1, sizeof *g->dist);
    if (g->adj_start == NULL || g->stamp == NULL || g->queue == NULL ||
        g->prev == NULL || g->prev_edge == NULL || g->radj_start == NULL ||
        g->dist == NULL)
        return hollow__error_oom();
    /* counting sort of the edges by origin, stable: catalog order kept */
    for (size_t e = 0; e < c->count; e++)
        if (is_edge(&c->keys[e]))
            g->adj_start[node_of(g, c->keys[e].from_version) + 2]++;
    for (size_t i = 2; i < u + 2; i++)
        g->adj_start[i] += g->adj_start[i - 1];
    for (size_t e = 0; e < c->count; e++) {
        if (!is_edge(&c->keys[e]))
            continue;
        g->dst[e] = (size_t)node_of(g, c->keys[e].version);
        g->src[e] = (size_t)node_of(g, c->keys[e].from_version);
        g->adj[g->adj_start[g->src[e] + 1]++] = e;
        g->radj_start[g->dst[e] + 2]++;
    }
    for (size_t i = 2; i < u + 2; i++)
        g->radj_start[i] += g->radj_start[i - 1];
    for (size_t e = 0; e < c->count; e++)
        if (is_edge(&c->keys[e]))
            g->radj[g->radj_start[g->dst[e] + 1]++] = e;
    return 0;
}

/* steps from every node to node `ti` (-1: no chain), searching backwards */
static void distances_to(graph *g, size_t ti)
{
    for (size_t i = 0; i < g->n; i++)
        g->dist[i] = -1;
    size_t qn = 0;
    g->queue[qn++] = ti;
    g->dist[ti] = 0;
    for (size_t head = 0; head < qn; head++) {
        size_t v = g->queue[head];
        for (size_t j = g->radj_start[v]; j < g->radj_start[v + 1]; j++) {
            size_t w = g->src[g->radj[j]];
            if (g->dist[w] >= 0)
                continue;
            g->dist[w] = g->dist[v] + 1;
            g->queue[qn++] = w;
        }
    }
}

/*
 * Breadth-first search over delta edges from `from` to `to`: the number
 * of steps, with the catalog indexes of the path in path[0..steps), or -1
 * when no chain leads there.
 */
static long bfs(size_t *path, graph *g, int64_t from, int64_t to)
{
    if (from == to)
        return 0;
    long fi = node_of(g, from), ti = node_of(g, to);
    if (fi < 0 || ti < 0)
        return -1;
    if (++g->cur == 0) { /* the stamps wrapped: start them over */
        memset(g->stamp, 0, g->n * sizeof *g->stamp);
        g->cur = 1;
    }
    size_t qn = 0;
    g->queue[qn++] = (size_t)fi;
    g->stamp[fi] = g->cur;
    g->prev[fi] = -1;
    for (size_t head = 0; head < qn; head++) {
        size_t v = g->queue[head];
        for (size_t j = g->adj_start[v]; j < g->adj_start[v + 1]; j++) {
            size_t e = g->adj[j], w = g->dst[e];
            if (g->stamp[w] == g->cur)
                continue;
            g->stamp[w] = g->cur;
            g->prev[w] = (long)v;
            g->prev_edge[w] = e;
            g->queue[qn++] = w;
            if ((long)w != ti)
                continue;
            long len = 0;
            for (long i = (long)w; g->prev[i] >= 0; i = g->prev[i])
                len++;
            long at = len;
            for (long i = (long)w; g->prev[i] >= 0; i = g->prev[i])
                path[--at] = g->prev_edge[i];
            return len;
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
    graph g;
    int rc = graph_build(&g, c);
    if (rc == 0 && (path == NULL || best == NULL))
        rc = hollow__error_oom();
    if (rc < 0)
        goto done;
    long len = -1;
    if (from > 0 && allow_chain) {
        len = bfs(path, &g, from, to);
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
    /* a snapshot, then the shortest chain from it: one backward search
     * gives every snapshot's distance, the forward search from the chosen
     * one its chain (the same as searching forwards from each) */
    long best_len = -1;
    size_t best_snap = 0;
    long ti = node_of(&g, to);
    if (ti >= 0)
        distances_to(&g, (size_t)ti);
    for (size_t i = 0; ti >= 0 && i < c->count; i++) {
        if (c->keys[i].kind != HOLLOW_BLOB_SNAPSHOT)
            continue;
        long l = g.dist[node_of(&g, c->keys[i].version)];
        if (l < 0)
            continue;
        /* fewest steps; between equals, the later snapshot */
        if (best_len < 0 || l < best_len ||
            (l == best_len && c->keys[i].version > c->keys[best_snap].version)) {
            best_len = l;
            best_snap = i;
        }
    }
    if (best_len >= 0 &&
        bfs(best, &g, c->keys[best_snap].version, to) != best_len) {
        rc = hollow__error_set(HOLLOW_ERROR, "planner: inconsistent chain "
                               "length to version %lld", (long long)to);
        goto done;
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
    graph_free(&g);
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
