/*
 * Hash indexes: every record of a type matching values on one or more
 * paths, which may go into LIST, SET and MAP elements.
 *
 * Layout. A record yields a set of value tuples (path.c walks its paths;
 * paths through the same collection see the same element). Each distinct
 * tuple is a group: its hash, its values (fixed-width bits, or var-length
 * bytes copied into the arena) and its members, the ordinals of the records
 * that yield it, ascending, in one CSR array:
 *
 *   ghash[g]                 hash of the tuple
 *   gkeys[g * npaths + p]    value of path p (ix_kval)
 *   members[moff[g] .. moff[g + 1])
 *
 * The open-addressing table (index_int.h) maps a hash to its groups:
 * slot = (hash << 32) | (g + 1). A lookup hashes the probe, compares the
 * stored values of the groups with that hash, and returns the members of
 * the equal one. Since groups keep their values, a group never needs the
 * record it came from.
 *
 * Derivation. The old groups, values and table are copied; the tuples of
 * each removed record are read from the old state and matched to their
 * groups, those of each added record from the new state (a new group when
 * no group has the tuple); the member lists are merged with these changes
 * in one pass, and groups left without members are dropped (the groups are
 * then renumbered and the table rebuilt from the stored hashes).
 */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"

static bool is_var(hollow_field_type t)
{
    return t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES;
}

static inline uint32_t next_slot(uint32_t i, uint32_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

/* group g's value of path p as an ix_val */
static void kval(const hollow_index *ix, uint32_t g, size_t p, ix_val *v)
{
    const ix_kval *k = &ix->gkeys[(size_t)g * ix->spec.npaths + p];
    memset(v, 0, sizeof *v);
    v->var = is_var(ix->spec.paths[p].vtype);
    v->null = k->null != 0;
    if (v->null)
        return;
    if (v->var) {
        v->ptr = k->len > 0 ? ix->arena + k->bits : NULL;
        v->have = v->bits = k->len;
    } else {
        v->bits = k->bits;
    }
}

static bool group_equals(const hollow_index *ix, uint32_t g, const ix_val *vals)
{
    for (size_t p = 0; p < ix->spec.npaths; p++) {
        ix_val v;
        kval(ix, g, p, &v);
        if (!hollow__ix_val_eq(&v, &vals[p]))
            return false;
    }
    return true;
}

/* the group holding tuple `vals` (hash h), or -1 */
static int64_t find_group(const hollow_index *ix, uint32_t h,
                          const ix_val *vals)
{
    for (uint32_t i = hollow__ix_home(h, ix->cap); ix->slots[i] != 0;
         i = next_slot(i, ix->cap)) {
        uint64_t s = ix->slots[i];
        if ((uint32_t)(s >> 32) == h && group_equals(ix, (uint32_t)s - 1, vals))
            return (int64_t)((uint32_t)s - 1);
    }
    return -1;
}

/* (re)make the table for the groups' hashes, `cap` slots */
static int table_rebuild(hollow_index *ix, uint32_t cap)
{
    uint64_t *slots = hollow__calloc(cap, sizeof *slots);
    HOLLOW_CHECK_ALLOC(slots);
    for (uint32_t g = 0; g < ix->ngroups; g++) {
        uint32_t i = hollow__ix_home(ix->ghash[g], cap);
        while (slots[i] != 0)
            i = next_slot(i, cap);
        slots[i] = hollow__ix_slot(ix->ghash[g], g);
    }
    hollow__free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    ix->used = ix->ngroups;
    return 0;
}

/* ------------------------------------------------------------ work */

typedef struct change {
    uint32_t g;
    hollow_ordinal o;
    int32_t sign; /* +1 added, -1 removed */
} change;

typedef struct hx_work {
    hollow_index *ix;
    ix_walk walk;
    size_t np;
    /* tuples of the current record */
    ix_val *tvals;
    uint32_t *th;
    size_t nt, tcap;
    /* group arrays capacity, arena capacity */
    size_t gcap;
    size_t acap;
    /* (group, record, sign) in record order */
    change *ch;
    size_t nch, chcap;
} hx_work;

static void work_free(hx_work *w)
{
    hollow__free(w->tvals);
    hollow__free(w->th);
    hollow__free(w->ch);
}

static int emit(void *ctx, const ix_val *vals)
{
    hx_work *w = ctx;
    if (w->nt == w->tcap) {
        size_t cap = w->tcap ? 2 * w->tcap : 16;
        ix_val *tv = hollow__reallocarray(w->tvals, cap * w->np, sizeof *tv);
        if (tv == NULL)
            return hollow__error_oom();
        w->tvals = tv;
        uint32_t *th = hollow__reallocarray(w->th, cap, sizeof *th);
        if (th == NULL)
            return hollow__error_oom();
        w->th = th;
        w->tcap = cap;
    }
    memcpy(w->tvals + w->nt * w->np, vals, w->np * sizeof *vals);
    w->th[w->nt] = hollow__ix_hash(vals, w->np);
    w->nt++;
    return 0;
}

static bool tuple_eq(const hx_work *w, size_t a, size_t b)
{
    if (w->th[a] != w->th[b])
        return false;
    for (size_t p = 0; p < w->np; p++)
        if (!hollow__ix_val_eq(&w->tvals[a * w->np + p],
                               &w->tvals[b * w->np + p]))
            return false;
    return true;
}

/* whether tuple i repeats an earlier tuple of the same record */
static bool tuple_seen(const hx_work *w, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (tuple_eq(w, j, i))
            return true;
    return false;
}

static int change_push(hx_work *w, uint32_t g, hollow_ordinal o, int32_t sign)
{
    HOLLOW_TRY(hollow__grow(w->ch, w->chcap, w->nch + 1, 256));
    w->ch[w->nch].g = g;
    w->ch[w->nch].o = o;
    w->ch[w->nch].sign = sign;
    w->nch++;
    return 0;
}

/* a new group for tuple `vals` with hash h */
static int new_group(hx_work *w, uint32_t h, const ix_val *vals, uint32_t *out)
{
    hollow_index *ix = w->ix;
    size_t np = w->np;
    if (ix->ngroups == UINT32_MAX - 1)
        return hollow__error_set(HOLLOW_ERANGE, "too many distinct keys");
    if (ix->ngroups == w->gcap) {
        size_t cap = w->gcap ? 2 * w->gcap : 64;
        uint32_t *gh = hollow__reallocarray(ix->ghash, cap, sizeof *gh);
        if (gh == NULL)
            return hollow__error_oom();
        ix->ghash = gh;
        ix_kval *gk = hollow__reallocarray(ix->gkeys, cap * np, sizeof *gk);
        if (gk == NULL)
            return hollow__error_oom();
        ix->gkeys = gk;
        w->gcap = cap;
    }
    uint32_t g = ix->ngroups;
    for (size_t p = 0; p < np; p++) {
        const ix_val *v = &vals[p];
        ix_kval *k = &ix->gkeys[(size_t)g * np + p];
        memset(k, 0, sizeof *k);
        if (v->null) {
            k->null = 1;
            continue;
        }
        if (!v->var) {
            k->bits = v->bits;
            continue;
        }
        size_t len = (size_t)v->bits;
        if (len > UINT32_MAX)
            return hollow__error_set(HOLLOW_ERANGE, "key value too long");
        HOLLOW_TRY(hollow__grow(ix->arena, w->acap, ix->arena_len + len, 4096));
        if (len > 0)
            memcpy(ix->arena + ix->arena_len, v->ptr, len);
        k->bits = ix->arena_len;
        k->len = (uint32_t)len;
        ix->arena_len += len;
    }
    ix->ghash[g] = h;
    ix->ngroups++;
    /* keep the table's load at most 0.7 */
    if ((uint64_t)(ix->used + 1) * 10 > (uint64_t)ix->cap * 7) {
        uint32_t cap = hollow__ix_capacity((size_t)ix->ngroups * 2);
        int rc = table_rebuild(ix, cap);
        if (rc < 0)
            return rc;
    } else {
        uint32_t i = hollow__ix_home(h, ix->cap);
        while (ix->slots[i] != 0)
            i = next_slot(i, ix->cap);
        ix->slots[i] = hollow__ix_slot(h, g);
        ix->used++;
    }
    *out = g;
    return 0;
}

/*
 * The distinct tuples of record o (walked with w->walk over its spec):
 * each one's group (created when `create`), recorded as a change.
 * @return 0; IX_REBUILD when a tuple has no group and !create; errors.
 */
static int record_tuples(hx_work *w, hollow_ordinal o, int32_t sign,
                         bool create)
{
    w->nt = 0;
    int rc = hollow__ix_walk_tuples(&w->walk, o, emit, w);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < w->nt; i++) {
        if (tuple_seen(w, i))
            continue;
        const ix_val *vals = w->tvals + i * w->np;
        int64_t g = find_group(w->ix, w->th[i], vals);
        uint32_t gid = 0;
        if (g >= 0) {
            gid = (uint32_t)g;
        } else if (!create) {
            return IX_REBUILD;
        } else if ((rc = new_group(w, w->th[i], vals, &gid)) < 0) {
            return rc;
        }
        if ((rc = change_push(w, gid, o, sign)) < 0)
            return rc;
    }
    return 0;
}

static int add_record(void *ctx, hollow_ordinal o)
{
    return record_tuples(ctx, o, 1, true);
}

static int cmp_change(const void *a, const void *b)
{
    const change *x = a, *y = b;
    if (x->g != y->g)
        return (x->g > y->g) - (x->g < y->g);
    return (x->o > y->o) - (x->o < y->o);
}

/* ------------------------------------------------------------ build */

/* the member lists from the changes of a build (records ascending) */
static int members_from_build(hollow_index *ix, const hx_work *w)
{
    ix->moff = hollow__calloc((size_t)ix->ngroups + 1, sizeof *ix->moff);
    ix->members = hollow__calloc(w->nch ? w->nch : 1, sizeof *ix->members);
    HOLLOW_CHECK_ALLOC(ix->moff);
    HOLLOW_CHECK_ALLOC(ix->members);
    for (size_t i = 0; i < w->nch; i++)
        ix->moff[w->ch[i].g + 1]++;
    for (uint32_t g = 0; g < ix->ngroups; g++)
        ix->moff[g + 1] += ix->moff[g];
    uint32_t *fill =
        hollow__calloc(ix->ngroups ? ix->ngroups : 1, sizeof *fill);
    HOLLOW_CHECK_ALLOC(fill);
    memcpy(fill, ix->moff, (size_t)ix->ngroups * sizeof *fill);
    /* changes are in record order, so each list comes out ascending */
    for (size_t i = 0; i < w->nch; i++)
        ix->members[fill[w->ch[i].g]++] = w->ch[i].o;
    hollow__free(fill);
    return 0;
}

/* trim the group arrays and arena to their use */
static void shrink(hollow_index *ix, size_t np)
{
    size_t n = ix->ngroups ? ix->ngroups : 1;
    uint32_t *gh = hollow__reallocarray(ix->ghash, n, sizeof *gh);
    if (gh != NULL)
        ix->ghash = gh;
    ix_kval *gk = hollow__reallocarray(ix->gkeys, n * np, sizeof *gk);
    if (gk != NULL)
        ix->gkeys = gk;
    if (ix->arena != NULL) {
        uint8_t *a =
            hollow__realloc(ix->arena, ix->arena_len ? ix->arena_len : 1);
        if (a != NULL)
            ix->arena = a;
    }
}

int hollow__ix_hash_build(hollow_index *ix)
{
    hx_work w;
    memset(&w, 0, sizeof w);
    w.ix = ix;
    w.np = ix->spec.npaths;
    ix_walk walk = {&ix->spec, ix->counts, ix->count_len, 1, false, false};
    w.walk = walk;
    /* the table grows with the groups (new_group) */
    ix->cap = hollow__ix_capacity(64);
    ix->slots = hollow__calloc(ix->cap, sizeof *ix->slots);
    int rc = ix->slots != NULL ? 0 : hollow__error_oom();
    if (rc == 0)
        rc = hollow__ix_walk_each(ix->spec.root, add_record, &w);
    if (rc == 0)
        rc = members_from_build(ix, &w);
    if (rc == 0)
        shrink(ix, w.np);
    ix->dangling = w.walk.dangling;
    work_free(&w);
    return rc;
}

/* ------------------------------------------------------------ patch */

/* copy the old groups, their values and table into ix */
static int copy_groups(hollow_index *ix, const hollow_index *old, hx_work *w)
{
    size_t np = w->np;
    size_t n = old->ngroups ? old->ngroups : 1;
    ix->ghash = hollow__mallocarray(n, sizeof *ix->ghash);
    ix->gkeys = hollow__mallocarray(n * np, sizeof *ix->gkeys);
    HOLLOW_CHECK_ALLOC(ix->ghash);
    HOLLOW_CHECK_ALLOC(ix->gkeys);
    if (old->ngroups > 0) {
        memcpy(ix->ghash, old->ghash, (size_t)old->ngroups * sizeof *ix->ghash);
        memcpy(ix->gkeys, old->gkeys,
               (size_t)old->ngroups * np * sizeof *ix->gkeys);
    }
    w->gcap = n;
    if (old->arena_len > 0) {
        ix->arena = hollow__malloc(old->arena_len);
        HOLLOW_CHECK_ALLOC(ix->arena);
        memcpy(ix->arena, old->arena, old->arena_len);
    }
    ix->arena_len = w->acap = old->arena_len;
    ix->ngroups = old->ngroups;
    ix->cap = old->cap;
    ix->used = old->used;
    ix->slots = hollow__mallocarray(ix->cap, sizeof *ix->slots);
    HOLLOW_CHECK_ALLOC(ix->slots);
    memcpy(ix->slots, old->slots, (size_t)ix->cap * sizeof *ix->slots);
    return 0;
}

/*
 * The new member lists: each old list merged with its group's changes
 * (sorted by group, then ordinal); then groups left empty are dropped.
 */
static int merge_members(hollow_index *ix, const hollow_index *old,
                         hx_work *w)
{
    size_t np = w->np;
    uint32_t ng = ix->ngroups;
    ix_ords out = {NULL, 0, 0};
    uint32_t *moff = hollow__calloc((size_t)ng + 1, sizeof *moff);
    uint32_t *newid = hollow__calloc(ng ? ng : 1, sizeof *newid);
    int rc = 0;
    if (moff == NULL || newid == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    size_t c = 0;
    uint32_t live = 0;
    for (uint32_t g = 0; g < ng && rc == 0; g++) {
        const hollow_ordinal *m = NULL;
        size_t nm = 0, i = 0;
        if (g < old->ngroups) {
            m = old->members + old->moff[g];
            nm = old->moff[g + 1] - old->moff[g];
        }
        size_t c1 = c;
        while (c1 < w->nch && w->ch[c1].g == g)
            c1++;
        size_t start = out.n;
        while ((i < nm || c < c1) && rc == 0) {
            if (c < c1 && (i == nm || w->ch[c].o <= m[i])) {
                if (i < nm && w->ch[c].o == m[i]) {
                    if (w->ch[c].sign > 0)
                        rc = IX_REBUILD; /* added, yet a member already */
                    i++;
                } else if (w->ch[c].sign < 0) {
                    rc = IX_REBUILD; /* removed, yet no member */
                } else {
                    rc = hollow__ix_ords_push(&out, w->ch[c].o);
                }
                c++;
            } else {
                rc = hollow__ix_ords_push(&out, m[i++]);
            }
        }
        c = c1;
        if (out.n > start) {
            newid[g] = live;
            moff[live++] = (uint32_t)start;
        } else {
            newid[g] = UINT32_MAX;
        }
    }
    if (rc != 0)
        goto done;
    moff[live] = (uint32_t)out.n;
    if (live < ng) {
        /* drop the empty groups: renumber, repack values and arena */
        uint8_t *arena = NULL;
        size_t alen = 0;
        if (ix->arena_len > 0 &&
            (arena = hollow__malloc(ix->arena_len)) == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        for (uint32_t g = 0; g < ng; g++) {
            uint32_t k = newid[g];
            if (k == UINT32_MAX)
                continue;
            ix->ghash[k] = ix->ghash[g];
            for (size_t p = 0; p < np; p++) {
                ix_kval kv = ix->gkeys[(size_t)g * np + p];
                if (!kv.null && is_var(ix->spec.paths[p].vtype)) {
                    if (kv.len > 0)
                        memcpy(arena + alen, ix->arena + kv.bits, kv.len);
                    kv.bits = alen;
                    alen += kv.len;
                }
                ix->gkeys[(size_t)k * np + p] = kv;
            }
        }
        hollow__free(ix->arena);
        ix->arena = arena;
        ix->arena_len = alen;
        ix->ngroups = live;
        if ((rc = table_rebuild(ix, hollow__ix_capacity(live))) < 0)
            goto done;
    }
    ix->moff = moff;
    moff = NULL;
    ix->members = out.v != NULL ? out.v : hollow__calloc(1, sizeof *out.v);
    out.v = NULL;
    if (ix->members == NULL)
        rc = hollow__error_oom();
done:
    hollow__free(moff);
    hollow__free(newid);
    hollow__ix_ords_free(&out);
    return rc;
}

int hollow__ix_hash_patch(hollow_index *ix, const hollow_index *old,
                          const ix_ords *removed, const ix_ords *added,
                          const ix_ords *vremoved)
{
    hx_work w;
    memset(&w, 0, sizeof w);
    w.ix = ix;
    w.np = ix->spec.npaths;
    int rc = copy_groups(ix, old, &w);

    /* removed records: tuples from the old state, in the old groups */
    ix_walk wold = {&old->spec, ix->counts, ix->count_len, -1, false, false};
    w.walk = wold;
    for (size_t i = 0; i < removed->n && rc == 0; i++)
        rc = record_tuples(&w, removed->v[i], -1, false);
    if (rc == 0 && (w.walk.broken || hollow__ix_still_reached(ix, vremoved)))
        rc = IX_REBUILD;

    /* added records: tuples from the new state */
    ix_walk wnew = {&ix->spec, ix->counts, ix->count_len, 1, false, false};
    w.walk = wnew;
    for (size_t i = 0; i < added->n && rc == 0; i++)
        rc = record_tuples(&w, added->v[i], 1, true);
    if (rc == 0 && w.walk.broken)
        rc = IX_REBUILD;
    if (rc == 0) {
        if (w.nch > 1)
            qsort(w.ch, w.nch, sizeof *w.ch, cmp_change);
        rc = merge_members(ix, old, &w);
    }
    if (rc == 0) {
        uint32_t want = hollow__ix_capacity(ix->ngroups);
        if (ix->cap > 4 * (uint64_t)want)
            rc = table_rebuild(ix, want);
    }
    if (rc == 0)
        shrink(ix, w.np);
    ix->dangling = old->dangling || w.walk.dangling;
    work_free(&w);
    return rc;
}

void hollow__ix_hash_free(hollow_index *ix)
{
    hollow__free(ix->ghash);
    hollow__free(ix->gkeys);
    hollow__free(ix->arena);
    hollow__free(ix->moff);
    hollow__free(ix->members);
    ix->ghash = NULL;
    ix->gkeys = NULL;
    ix->arena = NULL;
    ix->moff = NULL;
    ix->members = NULL;
    ix->ngroups = 0;
    ix->arena_len = 0;
}

/* ------------------------------------------------------------ lookups */

static int match(hollow_index_matches *out, const hollow_index *ix,
                 const hollow_value *keys, size_t count, bool stored)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    out->ordinals = NULL;
    out->count = 0;
    HOLLOW__ARG_NOT_NULL(ix);
    HOLLOW__ARG_NOT_NULL(keys);
    if (ix->kind != HOLLOW_INDEX_HASH)
        return hollow__error_set(HOLLOW_EINVAL, "not a hash index");
    ix_val pv[IX_MAX_PATHS];
    uint8_t heads[IX_MAX_PATHS * IX_HEAD];
    int rc = hollow__ix_probe(pv, heads, &ix->spec, keys, count, stored);
    if (rc < 0)
        return rc;
    int64_t g = find_group(ix, hollow__ix_hash(pv, count), pv);
    if (g < 0)
        return 0;
    uint32_t from = ix->moff[g], to = ix->moff[g + 1];
    out->ordinals = ix->members + from;
    out->count = to - from;
    return (int)out->count;
}

int hollow_index_match(hollow_index_matches *out, const hollow_index *ix,
                       const hollow_value *keys, size_t count)
{
    return match(out, ix, keys, count, false);
}

int hollow_index_match_stored(hollow_index_matches *out, const hollow_index *ix,
                              const hollow_value *keys, size_t count)
{
    return match(out, ix, keys, count, true);
}
