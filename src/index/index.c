/*
 * Indexes: life cycle, primary and unique key tables, derivation.
 *
 * Primary / unique key table. One 64-bit slot per distinct key:
 *
 *   63            32 31             0
 *   +---------------+---------------+
 *   |  hash of key  | ordinal + 1   |      0 = empty slot
 *   +---------------+---------------+
 *
 * in an open-addressing table of `cap` slots (load at most 0.7; home slot
 * (hash * cap) >> 32; linear probing). A lookup hashes the probe, walks the
 * run from the home slot and, for a slot with the same hash, compares the
 * record's key fields with the probe (path.c); the first equal record is
 * the answer.
 *
 * When the key is one fixed-width field of the indexed type itself (an
 * id: INT, LONG, FLOAT, DOUBLE, BOOLEAN, or a reference ordinal), each
 * slot is followed by the key's 64 canonical bits (stride 2, 16 bytes a
 * slot), and lookups compare those instead of reading the record: a table
 * of a million keys and the records are both far larger than the caches,
 * and the record read would be a second cache miss depending on the first
 * (find_fixed()). Twice the memory for about half the lookup time.
 *
 * Records that share a key with another ("duplicates", which a
 * primary key should not have) are not in the table: the table holds the
 * smallest ordinal of each key, and the groups of ordinals of duplicated
 * keys are kept beside it (ix_dups) to be reported.
 *
 * Build. Every populated record's key is read and inserted (a one-field
 * fixed-width key in table order, on several threads: fixed.c); a record
 * whose key is already in the table only marks its hash "touched" and is
 * kept as an "extra". Then every touched hash is regrouped: the records with that
 * hash (in the table, in the extras, in old duplicate groups) are split
 * into keys by comparing their key fields, the table gets each key's
 * smallest ordinal, and keys with more than one record become duplicate
 * groups.
 *
 * Derivation (hollow_index_derive, see the header for when it patches).
 * The removed and added records of the indexed type are the populated bits
 * that differ between the old and new shards (read/changed.c's walk, which
 * skips the shards the two states share). The old table is copied; each removed record's key
 * is read from the old state (which the old index holds) and its slot
 * deleted; each added record's key is read from the new state and
 * inserted; the touched hashes are regrouped as above, with the old
 * duplicate groups of those hashes. Visit counts (index_int.h) are copied
 * and updated the same way, and a removed record of a visited type that a
 * kept record still reaches makes the derivation a fresh build. The hash
 * index has its own patch (hash.c).
 */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"

#include "blob/format.h"
#include "common/alloc.h"
#include "common/error.h"
#include "read/access.h"

/* ============================================================ helpers */

int hollow__ix_ords_push(ix_ords *l, hollow_ordinal o)
{
    hollow_ordinal *slot = hollow__array_push(l, 64);
    HOLLOW_CHECK_ALLOC(slot);
    *slot = o;
    return 0;
}

void hollow__ix_ords_free(ix_ords *l)
{
    hollow__free(l->v);
    memset(l, 0, sizeof *l);
}

uint32_t hollow__ix_capacity(size_t n)
{
    uint64_t c = (uint64_t)n * 10 / 7 + 1;
    if (c < 8)
        c = 8;
    if (c > UINT32_MAX)
        c = UINT32_MAX;
    return (uint32_t)c;
}

static int cmp_ord(const void *a, const void *b)
{
    hollow_ordinal x = *(const hollow_ordinal *)a;
    hollow_ordinal y = *(const hollow_ordinal *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* sort and drop repeats */
static size_t sort_unique_u32(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static bool ords_has(const ix_ords *sorted, hollow_ordinal o)
{
    return sorted != NULL && sorted->n > 0 &&
           bsearch(&o, sorted->v, sorted->n, sizeof o, cmp_ord) != NULL;
}

typedef hollow__array(uint32_t) u32_vec;

static int u32_push(u32_vec *l, uint32_t x)
{
    uint32_t *slot = hollow__array_push(l, 64);
    HOLLOW_CHECK_ALLOC(slot);
    *slot = x;
    return 0;
}

typedef ix_hpair hpair;

typedef hollow__array(hpair) hpair_vec;

static int hpair_push(hpair_vec *l, uint32_t h, hollow_ordinal o)
{
    hpair *slot = hollow__array_push(l, 64);
    HOLLOW_CHECK_ALLOC(slot);
    slot->h = h;
    slot->o = o;
    return 0;
}

static int cmp_hpair(const void *a, const void *b)
{
    const hpair *x = a, *y = b;
    if (x->h != y->h)
        return (x->h > y->h) - (x->h < y->h);
    return (x->o > y->o) - (x->o < y->o);
}

/*
 * Call fn for every populated ordinal of t in ascending order: shard
 * ordinal j of shard s is global ordinal j * n + s.
 */
int hollow__ix_walk_each(const hollow_type *t, ix_ord_fn fn, void *ctx)
{
    int rc;
    if (t->shard_count == 1) {
        const hollow__shard *s = t->shards[0];
        for (uint32_t w = 0; w < s->pop_words; w++)
            for (uint64_t word = s->populated[w]; word != 0; word &= word - 1)
                if ((rc = fn(ctx, (hollow_ordinal)(w * 64 + (uint32_t)
                                                   __builtin_ctzll(word)))) < 0)
                    return rc;
        return 0;
    }
    int64_t slots = 0;
    for (uint32_t s = 0; s < t->shard_count; s++)
        if ((int64_t)t->shards[s]->max + 1 > slots)
            slots = (int64_t)t->shards[s]->max + 1;
    for (int64_t j = 0; j < slots; j++)
        for (uint32_t s = 0; s < t->shard_count; s++) {
            const hollow__shard *sh = t->shards[s];
            if (j <= sh->max && hollow__shard_has(sh, (uint32_t)j) &&
                (rc = fn(ctx, (hollow_ordinal)(((uint64_t)j << t->shard_bits) |
                                               s))) < 0)
                return rc;
        }
    return 0;
}

/*
 * The ordinals populated in a (old) but not in b (new), and the other way
 * round (`added` may be NULL). Shards the two share are skipped. *changed
 * tells whether any shard differs.
 */
typedef struct diff_lists {
    ix_ords *removed, *added;
} diff_lists;

static int push_changed(void *ctx, hollow_ordinal o, unsigned what)
{
    diff_lists *l = ctx;
    return hollow__ix_ords_push(what == HOLLOW__ORD_REMOVED ? l->removed
                                                            : l->added, o);
}

static int type_diff(ix_ords *removed, ix_ords *added, bool *changed,
                     const hollow_type *a, const hollow_type *b)
{
    diff_lists l = {removed, added};
    unsigned which = HOLLOW__ORD_REMOVED | (added ? HOLLOW__ORD_ADDED : 0);
    int rc = hollow__type_changed_ordinals(changed, a, b, which, push_changed,
                                           &l);
    if (rc == 0 && removed->n > 1)
        qsort(removed->v, removed->n, sizeof *removed->v, cmp_ord);
    if (rc == 0 && added != NULL && added->n > 1)
        qsort(added->v, added->n, sizeof *added->v, cmp_ord);
    return rc;
}

/*
 * Visit counts, one per ordinal of each type: zeroed for a fresh build
 * (old NULL); for a patch, the old ones, long enough for both states.
 */
static int counts_alloc(hollow_index *ix, const hollow_index *old)
{
    size_t n = ix->spec.nvtypes;
    if (n == 0)
        return 0;
    ix->counts = hollow__calloc(n, sizeof *ix->counts);
    ix->count_len = hollow__calloc(n, sizeof *ix->count_len);
    HOLLOW_CHECK_ALLOC(ix->counts);
    HOLLOW_CHECK_ALLOC(ix->count_len);
    for (size_t v = 0; v < n; v++) {
        uint32_t len = (uint32_t)(ix->spec.vtypes[v]->max_ordinal + 1);
        if (old != NULL && old->count_len[v] > len)
            len = old->count_len[v];
        ix->counts[v] = hollow__calloc(len ? len : 1, sizeof **ix->counts);
        HOLLOW_CHECK_ALLOC(ix->counts[v]);
        if (old != NULL)
            memcpy(ix->counts[v], old->counts[v],
                   (size_t)old->count_len[v] * sizeof **ix->counts);
        ix->count_len[v] = len;
    }
    return 0;
}

bool hollow__ix_still_reached(const hollow_index *ix, const ix_ords *vremoved)
{
    for (size_t v = 0; v < ix->spec.nvtypes; v++)
        for (size_t i = 0; i < vremoved[v].n; i++) {
            hollow_ordinal o = vremoved[v].v[i];
            if ((uint32_t)o < ix->count_len[v] && ix->counts[v][o] > 0)
                return true;
        }
    return false;
}

/* ====================================================== key table */

static inline uint32_t next_slot(uint32_t i, uint32_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

/*
 * Slot i of a key table is slots[i * stride]; with stride 2 (one
 * fixed-width field: see hollow__ix_inline_key()) the key's canonical
 * bits follow it in slots[i * 2 + 1], and lookups compare those instead of
 * the record.
 */
#define SLOT(sl, st, i) ((sl)[(size_t)(i) * (st)])

/* put (h, v) (and its key) in the first empty slot of its run */
static void table_place(uint64_t *slots, uint32_t cap, unsigned st, uint32_t h,
                        uint32_t v, uint64_t key)
{
    uint32_t i = hollow__ix_home(h, cap);
    while (SLOT(slots, st, i) != 0)
        i = next_slot(i, cap);
    SLOT(slots, st, i) = hollow__ix_slot(h, v);
    if (st == 2)
        slots[(size_t)i * 2 + 1] = key;
}

/* delete slot i, shifting later entries of the run back */
static void table_delete(uint64_t *slots, uint32_t cap, unsigned st, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = next_slot(j, cap);
        uint64_t s = SLOT(slots, st, j);
        if (s == 0)
            break;
        uint32_t k = hollow__ix_home((uint32_t)(s >> 32), cap);
        /* the entry at j may move to i unless its home lies in (i, j] */
        bool stay = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stay) {
            memcpy(&SLOT(slots, st, i), &SLOT(slots, st, j),
                   st * sizeof *slots);
            i = j;
        }
    }
    memset(&SLOT(slots, st, i), 0, st * sizeof *slots);
}

/* a table of capacity `cap` holding the entries of `from` */
static uint64_t *table_replace(const uint64_t *from, uint32_t from_cap,
                               uint32_t cap, unsigned st)
{
    uint64_t *slots = hollow__calloc((size_t)cap * st, sizeof *slots);
    if (slots == NULL)
        return NULL;
    for (uint32_t i = 0; i < from_cap; i++) {
        uint64_t s = SLOT(from, st, i);
        if (s != 0)
            table_place(slots, cap, st, (uint32_t)(s >> 32), (uint32_t)s - 1,
                        st == 2 ? from[(size_t)i * 2 + 1] : 0);
    }
    return slots;
}

static inline uint64_t inline_key(const ix_val *v, hollow_field_type t)
{
    return hollow__ix_inline_key(v->null, v->bits, t);
}

/* scratch of a build or patch of a key table */
typedef struct pk_work {
    hollow_index *ix;
    ix_walk walk;
    u32_vec touched;   /* hashes to regroup */
    hpair_vec extras;  /* records whose key was in the table already */
    ix_val vals[IX_MAX_PATHS];
    /* regroup_hash() scratch, reused from hash to hash */
    ix_ords cand;
    u32_vec pos;
    u32_vec cls;
    uint64_t *keys;
    size_t keys_cap;
} pk_work;

/* insert record o (key in w->vals, hash h), or note it as an extra */
static int pk_insert(pk_work *w, uint32_t h, hollow_ordinal o)
{
    hollow_index *ix = w->ix;
    unsigned st = ix->stride;
    uint64_t key =
        st == 2 ? inline_key(&w->vals[0], ix->spec.paths[0].vtype) : 0;
    uint32_t i = hollow__ix_home(h, ix->cap);
    for (;;) {
        uint64_t s = SLOT(ix->slots, st, i);
        if (s == 0) {
            if (ix->used + 1 >= ix->cap) /* never with a sane record count */
                return hollow__error_set(HOLLOW_ECORRUPT,
                                         "type %s: more records than its "
                                         "count", ix->type_name);
            SLOT(ix->slots, st, i) = hollow__ix_slot(h, (uint32_t)o);
            if (st == 2)
                ix->slots[(size_t)i * 2 + 1] = key;
            ix->used++;
            return 0;
        }
        if ((uint32_t)(s >> 32) == h &&
            (st == 2 ? ix->slots[(size_t)i * 2 + 1] == key
                     : hollow__ix_key_equals(&ix->spec,
                                             (hollow_ordinal)((uint32_t)s - 1),
                                             w->vals))) {
            int rc = u32_push(&w->touched, h);
            return rc < 0 ? rc : hpair_push(&w->extras, h, o);
        }
        i = next_slot(i, ix->cap);
    }
}

static int pk_add_record(void *ctx, hollow_ordinal o)
{
    pk_work *w = ctx;
    int rc = hollow__ix_read_key(&w->walk, o, w->vals);
    if (rc < 0)
        return rc;
    return pk_insert(w, hollow__ix_hash(w->vals, w->ix->spec.npaths), o);
}

/* duplicate groups under construction */
typedef struct group_vec {
    u32_vec off;       /* start of each group in ords */
    u32_vec hash;
    ix_ords ords;
} group_vec;

static void group_vec_free(group_vec *g)
{
    hollow__free(g->off.v);
    hollow__free(g->hash.v);
    hollow__ix_ords_free(&g->ords);
}

static int group_add(group_vec *g, uint32_t h, const hollow_ordinal *m,
                     size_t n)
{
    int rc;
    if ((rc = u32_push(&g->off, (uint32_t)g->ords.n)) < 0 ||
        (rc = u32_push(&g->hash, h)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = hollow__ix_ords_push(&g->ords, m[i])) < 0)
            return rc;
    return 0;
}

/*
 * Regroup the records of hash h (see the top of the file): candidates are
 * the table's entries with this hash, the extras with it and the members
 * of old duplicate groups with it that were not removed.
 */
static int regroup_hash(pk_work *w, uint32_t h, const hpair *extras,
                        size_t nextras, const hollow_index *old,
                        const hpair *old_by_hash, size_t nold,
                        const ix_ords *removed, group_vec *out)
{
    hollow_index *ix = w->ix;
    unsigned st = ix->stride;
    ix_ords cand = w->cand;
    u32_vec pos = w->pos;
    uint32_t *cls = NULL;
    uint64_t *keys = NULL;
    ix_val vals[IX_MAX_PATHS];
    ix_walk plain = {&ix->spec, NULL, NULL, 0, false, false};
    int rc = 0;

    cand.n = 0;
    pos.n = 0;

    for (uint32_t i = hollow__ix_home(h, ix->cap);
         SLOT(ix->slots, st, i) != 0 && rc == 0; i = next_slot(i, ix->cap)) {
        uint64_t s = SLOT(ix->slots, st, i);
        if ((uint32_t)(s >> 32) == h && (rc = u32_push(&pos, i)) == 0)
            rc = hollow__ix_ords_push(&cand, (hollow_ordinal)((uint32_t)s - 1));
    }
    for (size_t i = 0; i < nextras && rc == 0; i++)
        rc = hollow__ix_ords_push(&cand, extras[i].o);
    for (size_t g = 0; g < nold && rc == 0; g++) {
        uint32_t gi = (uint32_t)old_by_hash[g].o;
        for (uint32_t k = old->dups.off[gi];
             k < old->dups.off[gi + 1] && rc == 0; k++)
            if (!ords_has(removed, old->dups.ords[k]))
                rc = hollow__ix_ords_push(&cand, old->dups.ords[k]);
    }
    if (rc < 0)
        goto done;
    if (cand.n > 1) {
        qsort(cand.v, cand.n, sizeof *cand.v, cmp_ord);
        size_t k = 1;
        for (size_t i = 1; i < cand.n; i++)
            if (cand.v[i] != cand.v[k - 1])
                cand.v[k++] = cand.v[i];
        cand.n = k;
    }
    /* split into keys: cls[i] is the index in cand of the key's first
     * (smallest) record */
    w->cls.n = 0;
    for (size_t i = 0; i < cand.n && rc == 0; i++)
        rc = u32_push(&w->cls, 0);
    if (rc < 0)
        goto done;
    cls = w->cls.v;
    if (cand.n > w->keys_cap) {
        size_t cap = cand.n * 2;
        keys = hollow__reallocarray(w->keys, cap, sizeof *keys);
        if (keys == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        w->keys = keys;
        w->keys_cap = cap;
    }
    keys = w->keys;
    for (size_t i = 0; i < cand.n; i++) {
        cls[i] = (uint32_t)i;
        if ((rc = hollow__ix_read_key(&plain, cand.v[i], vals)) < 0)
            goto done;
        keys[i] = st == 2 ? inline_key(&vals[0], ix->spec.paths[0].vtype) : 0;
        for (size_t j = 0; j < i; j++)
            if (cls[j] == j &&
                hollow__ix_key_equals(&ix->spec, cand.v[j], vals)) {
                cls[i] = (uint32_t)j;
                break;
            }
    }
    for (size_t r = 0; r < cand.n; r++) {
        if (cls[r] != r)
            continue;
        /* the table holds the key's smallest record */
        bool placed = false;
        for (size_t p = 0; p < pos.n && !placed; p++) {
            uint64_t *slot = &SLOT(ix->slots, st, pos.v[p]);
            hollow_ordinal o = (hollow_ordinal)((uint32_t)*slot - 1);
            hollow_ordinal *at = bsearch(&o, cand.v, cand.n, sizeof o, cmp_ord);
            if (at != NULL && cls[at - cand.v] == r) {
                *slot = hollow__ix_slot(h, (uint32_t)cand.v[r]);
                placed = true;
            }
        }
        if (!placed) {
            if (ix->used + 1 >= ix->cap) {
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "type %s: more records than its count",
                                       ix->type_name);
                goto done;
            }
            table_place(ix->slots, ix->cap, st, h, (uint32_t)cand.v[r],
                        keys[r]);
            ix->used++;
        }
        size_t members = 0;
        for (size_t i = r; i < cand.n; i++)
            members += cls[i] == r;
        if (members < 2)
            continue;
        ix_ords tmp = {NULL, 0, 0};
        for (size_t i = r; i < cand.n && rc == 0; i++)
            if (cls[i] == r)
                rc = hollow__ix_ords_push(&tmp, cand.v[i]);
        if (rc == 0)
            rc = group_add(out, h, tmp.v, tmp.n);
        hollow__ix_ords_free(&tmp);
        if (rc < 0)
            goto done;
    }
done:
    w->cand = cand; /* keep the (possibly grown) scratch */
    w->pos = pos;
    return rc;
}

typedef struct group_ref {
    hollow_ordinal first;
    uint32_t g;
} group_ref;

static int cmp_group_ref(const void *a, const void *b)
{
    const group_ref *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/*
 * Regroup every touched hash; keep the old duplicate groups of the other
 * hashes; store the groups ordered by smallest ordinal.
 */
static int pk_regroup(pk_work *w, const hollow_index *old,
                      const ix_ords *removed)
{
    hollow_index *ix = w->ix;
    group_vec gv;
    hpair *old_by_hash = NULL;
    group_ref *refs = NULL;
    size_t nold = old != NULL ? old->dups.ngroups : 0;
    int rc = 0;

    memset(&gv, 0, sizeof gv);
    w->touched.n = sort_unique_u32(w->touched.v, w->touched.n);
    if (w->extras.n > 1)
        qsort(w->extras.v, w->extras.n, sizeof *w->extras.v, cmp_hpair);
    if (nold > 0) {
        old_by_hash = hollow__calloc(nold, sizeof *old_by_hash);
        if (old_by_hash == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        for (size_t g = 0; g < nold; g++) {
            old_by_hash[g].h = old->dups.hash[g];
            old_by_hash[g].o = (hollow_ordinal)g;
        }
        qsort(old_by_hash, nold, sizeof *old_by_hash, cmp_hpair);
        /* old groups of untouched hashes stay as they were */
        for (size_t g = 0; g < nold && rc == 0; g++) {
            uint32_t h = old->dups.hash[g];
            if (bsearch(&h, w->touched.v, w->touched.n, sizeof h, cmp_u32))
                continue;
            rc = group_add(&gv, h, old->dups.ords + old->dups.off[g],
                           old->dups.off[g + 1] - old->dups.off[g]);
        }
    }
    size_t e = 0, oh = 0;
    for (size_t t = 0; t < w->touched.n && rc == 0; t++) {
        uint32_t h = w->touched.v[t];
        while (e < w->extras.n && w->extras.v[e].h < h)
            e++;
        size_t e1 = e;
        while (e1 < w->extras.n && w->extras.v[e1].h == h)
            e1++;
        while (oh < nold && old_by_hash[oh].h < h)
            oh++;
        size_t oh1 = oh;
        while (oh1 < nold && old_by_hash[oh1].h == h)
            oh1++;
        /* no pointer arithmetic on a NULL list (no extras, no old groups) */
        rc = regroup_hash(w, h, w->extras.v != NULL ? w->extras.v + e : NULL,
                          e1 - e, old,
                          old_by_hash != NULL ? old_by_hash + oh : NULL,
                          oh1 - oh, removed, &gv);
        e = e1;
        oh = oh1;
    }
    if (rc < 0)
        goto done;
    /* store, ordered by each group's smallest ordinal */
    size_t ng = gv.off.n;
    ix->dups.ngroups = (uint32_t)ng;
    if (ng == 0)
        goto done;
    refs = hollow__calloc(ng, sizeof *refs);
    ix->dups.off = hollow__calloc(ng + 1, sizeof *ix->dups.off);
    ix->dups.hash = hollow__calloc(ng, sizeof *ix->dups.hash);
    ix->dups.ords = hollow__calloc(gv.ords.n, sizeof *ix->dups.ords);
    if (refs == NULL || ix->dups.off == NULL || ix->dups.hash == NULL ||
        ix->dups.ords == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (size_t g = 0; g < ng; g++) {
        refs[g].first = gv.ords.v[gv.off.v[g]];
        refs[g].g = (uint32_t)g;
    }
    qsort(refs, ng, sizeof *refs, cmp_group_ref);
    uint32_t at = 0;
    for (size_t k = 0; k < ng; k++) {
        uint32_t g = refs[k].g;
        uint32_t from = gv.off.v[g];
        uint32_t to = g + 1 < ng ? gv.off.v[g + 1] : (uint32_t)gv.ords.n;
        ix->dups.off[k] = at;
        ix->dups.hash[k] = gv.hash.v[g];
        memcpy(ix->dups.ords + at, gv.ords.v + from,
               (size_t)(to - from) * sizeof *gv.ords.v);
        at += to - from;
    }
    ix->dups.off[ng] = at;
done:
    group_vec_free(&gv);
    hollow__free(old_by_hash);
    hollow__free(refs);
    return rc;
}

static void pk_work_free(pk_work *w)
{
    hollow__free(w->touched.v);
    hollow__free(w->extras.v);
    hollow__ix_ords_free(&w->cand);
    hollow__free(w->pos.v);
    hollow__free(w->cls.v);
    hollow__free(w->keys);
}

static int pk_build(hollow_index *ix)
{
    pk_work w;
    memset(&w, 0, sizeof w);
    w.ix = ix;
    ix_walk walk = {&ix->spec, ix->counts, ix->count_len, 1, false, false};
    w.walk = walk;
    int rc = 0;
    if (ix->stride == 2) {
        hpair *extras = NULL;
        size_t nextras = 0;
        rc = hollow__ix_build_fixed(ix, 0, &extras, &nextras);
        for (size_t i = 0; i < nextras && rc == 0; i++)
            if ((rc = u32_push(&w.touched, extras[i].h)) == 0)
                rc = hpair_push(&w.extras, extras[i].h, extras[i].o);
        hollow__free(extras);
    } else {
        ix->cap = hollow__ix_capacity(ix->spec.root->count);
        ix->slots = hollow__calloc(ix->cap, sizeof *ix->slots);
        HOLLOW_CHECK_ALLOC(ix->slots);
        rc = hollow__ix_walk_each(ix->spec.root, pk_add_record, &w);
    }
    if (rc == 0)
        rc = pk_regroup(&w, NULL, NULL);
    ix->dangling = w.walk.dangling;
    ix->nkeys = ix->used;
    pk_work_free(&w);
    return rc;
}

static int pk_patch(hollow_index *ix, const hollow_index *old,
                    const ix_ords *removed, const ix_ords *added,
                    const ix_ords *vremoved)
{
    pk_work w;
    int rc = 0;
    memset(&w, 0, sizeof w);
    w.ix = ix;

    /* the old table, in place if its size still suits */
    uint64_t n = ix->spec.root->count;
    unsigned st = ix->stride;
    if (n * 10 <= (uint64_t)old->cap * 8 && n * 4 >= old->cap) {
        ix->cap = old->cap;
        ix->slots =
            hollow__mallocarray((size_t)ix->cap * st, sizeof *ix->slots);
        HOLLOW_CHECK_ALLOC(ix->slots);
        memcpy(ix->slots, old->slots,
               (size_t)ix->cap * st * sizeof *ix->slots);
    } else {
        /* room for the old entries too: they leave only below */
        ix->cap = hollow__ix_capacity(n > old->used ? n : old->used);
        ix->slots = table_replace(old->slots, old->cap, ix->cap, st);
        HOLLOW_CHECK_ALLOC(ix->slots);
    }
    ix->used = old->used;

    /* removed records: keys from the old state */
    ix_walk wold = {&old->spec, ix->counts, ix->count_len, -1, false, false};
    w.walk = wold;
    for (size_t i = 0; i < removed->n && rc == 0; i++) {
        hollow_ordinal r = removed->v[i];
        if ((rc = hollow__ix_read_key(&w.walk, r, w.vals)) < 0)
            break;
        uint32_t h = hollow__ix_hash(w.vals, ix->spec.npaths);
        if ((rc = u32_push(&w.touched, h)) < 0)
            break;
        uint64_t want = hollow__ix_slot(h, (uint32_t)r);
        for (uint32_t s = hollow__ix_home(h, ix->cap);
             SLOT(ix->slots, st, s) != 0; s = next_slot(s, ix->cap))
            if (SLOT(ix->slots, st, s) == want) {
                table_delete(ix->slots, ix->cap, st, s);
                ix->used--;
                break;
            }
    }
    if (rc == 0 && (w.walk.broken || hollow__ix_still_reached(ix, vremoved)))
        rc = IX_REBUILD;

    /* added records: keys from the new state */
    ix_walk wnew = {&ix->spec, ix->counts, ix->count_len, 1, false, false};
    w.walk = wnew;
    for (size_t i = 0; i < added->n && rc == 0; i++)
        rc = pk_add_record(&w, added->v[i]);
    if (rc == 0 && w.walk.broken)
        rc = IX_REBUILD;
    if (rc == 0)
        rc = pk_regroup(&w, old, removed);
    ix->dangling = old->dangling || w.walk.dangling;
    ix->nkeys = ix->used;
    pk_work_free(&w);
    return rc;
}

/* ====================================================== life cycle */

static void structures_free(hollow_index *ix)
{
    if (ix->counts != NULL)
        for (size_t v = 0; v < ix->spec.nvtypes; v++)
            hollow__free(ix->counts[v]);
    hollow__free(ix->counts);
    hollow__free(ix->count_len);
    ix->counts = NULL;
    ix->count_len = NULL;
    hollow__free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->used = ix->nkeys = 0;
    hollow__free(ix->dups.off);
    hollow__free(ix->dups.ords);
    hollow__free(ix->dups.hash);
    memset(&ix->dups, 0, sizeof ix->dups);
    hollow__ix_hash_free(ix);
    ix->dangling = false;
}

static void index_free(hollow_index *ix)
{
    structures_free(ix);
    hollow__ix_spec_clear(&ix->spec);
    hollow_read_state_release(ix->rs);
    hollow__free(ix->type_name);
    hollow__free(ix);
}

/* what the index holds, for hollow_index_memory() */
static void account(hollow_index *ix)
{
    size_t b = sizeof *ix + strlen(ix->type_name) + 1;
    const ix_spec *sp = &ix->spec;
    b += sp->npaths * sizeof *sp->paths + sp->nvtypes * sizeof *sp->vtypes;
    for (size_t p = 0; p < sp->npaths; p++)
        b += strlen(sp->paths[p].text) + 1 +
             sp->paths[p].nhops * sizeof *sp->paths[p].hops;
    b += sp->nnodes * sizeof *sp->nodes;
    for (size_t i = 0; i < sp->nnodes; i++)
        b += sp->nodes[i].nkids * sizeof *sp->nodes[i].kids;
    for (size_t v = 0; v < sp->nvtypes; v++)
        b += (size_t)ix->count_len[v] * sizeof **ix->counts +
             sizeof *ix->counts + sizeof *ix->count_len;
    b += (size_t)ix->cap * ix->stride * sizeof *ix->slots;
    if (ix->dups.ngroups > 0)
        b += (size_t)(ix->dups.ngroups + 1) * sizeof *ix->dups.off +
             (size_t)ix->dups.ngroups * sizeof *ix->dups.hash +
             (size_t)ix->dups.off[ix->dups.ngroups] * sizeof *ix->dups.ords;
    if (ix->kind == HOLLOW_INDEX_HASH && ix->moff != NULL)
        b += (size_t)ix->ngroups * (sizeof *ix->ghash + sizeof *ix->moff +
                                    sp->npaths * sizeof *ix->gkeys) +
             sizeof *ix->moff + ix->arena_len +
             (size_t)ix->moff[ix->ngroups] * sizeof *ix->members;
    ix->bytes = b;
}

/*
 * A new index of `kind` on `type` of rs with its paths resolved (the
 * @PrimaryKey when schema_key); nothing built yet.
 */
static int index_new(hollow_index **out, hollow_index_kind kind,
                     const hollow_read_state *rs, const char *type,
                     const char *const *paths, size_t count, bool schema_key)
{
    *out = NULL;
    if (rs == NULL || type == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (schema_key) {
        const hollow_type *t = hollow_read_state_type(rs, type);
        if (t == NULL)
            return hollow__error_set(HOLLOW_ENOTFOUND,
                                     "the state has no type %s", type);
        const hollow_schema *s = t->schema;
        if (s->kind != HOLLOW_SCHEMA_OBJECT || s->key_count == 0)
            return hollow__error_set(HOLLOW_EINVAL,
                                     "type %s has no primary key", type);
        paths = (const char *const *)s->key_paths;
        count = s->key_count;
    }
    hollow_index *ix = hollow__calloc(1, sizeof *ix);
    HOLLOW_CHECK_ALLOC(ix);
    atomic_init(&ix->refs, 1);
    ix->kind = kind;
    ix->origin = HOLLOW_INDEX_BUILT;
    ix->schema_key = schema_key;
    ix->rs = (hollow_read_state *)rs;
    hollow_read_state_acquire(ix->rs);
    ix->type_name = hollow__strdup(type);
    if (ix->type_name == NULL) {
        index_free(ix);
        return hollow__error_oom();
    }
    int rc = hollow__ix_spec_init(&ix->spec, rs, type, paths, count,
                                  kind == HOLLOW_INDEX_HASH);
    if (rc < 0) {
        index_free(ix);
        return rc;
    }
    const ix_spec *sp = &ix->spec;
    ix->fast_fixed = kind != HOLLOW_INDEX_HASH && sp->npaths == 1 &&
                     sp->paths[0].nhops == 1 &&
                     sp->paths[0].vtype != HOLLOW_FIELD_STRING &&
                     sp->paths[0].vtype != HOLLOW_FIELD_BYTES;
    ix->stride = ix->fast_fixed ? 2 : 1;
    *out = ix;
    return 0;
}

static int index_build(hollow_index *ix)
{
    int rc = counts_alloc(ix, NULL);
    if (rc == 0)
        rc = ix->kind == HOLLOW_INDEX_HASH ? hollow__ix_hash_build(ix)
                                           : pk_build(ix);
    ix->origin = HOLLOW_INDEX_BUILT;
    if (rc == 0)
        account(ix);
    return rc;
}

static int make(hollow_index **out, hollow_index_kind kind,
                const hollow_read_state *rs, const char *type,
                const char *const *paths, size_t count, bool schema_key)
{
    if (out == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    if (paths == NULL && count > 0)
        return hollow__error_null("paths");
    for (size_t i = 0; paths != NULL && i < count; i++)
        if (paths[i] == NULL)
            return hollow__error_set(HOLLOW_EINVAL, "null argument: paths[%zu]",
                                     i);
    hollow_index *ix = NULL;
    int rc = index_new(&ix, kind, rs, type, paths, count, schema_key);
    if (rc == 0 && (rc = index_build(ix)) < 0) {
        index_free(ix);
        ix = NULL;
    }
    *out = ix;
    return rc;
}

int hollow_index_primary_key_new(hollow_index **out,
                                 const hollow_read_state *rs, const char *type,
                                 const char *const *paths, size_t count)
{
    return make(out, HOLLOW_INDEX_PRIMARY_KEY, rs, type, paths, count,
                paths == NULL);
}

int hollow_index_unique_key_new(hollow_index **out, const hollow_read_state *rs,
                                const char *type, const char *const *paths,
                                size_t count)
{
    if (paths == NULL || count == 0) {
        if (out != NULL)
            *out = NULL;
        return hollow__error_set(HOLLOW_EINVAL,
                                 "a unique key index needs key paths");
    }
    return make(out, HOLLOW_INDEX_UNIQUE_KEY, rs, type, paths, count, false);
}

int hollow_index_hash_new(hollow_index **out, const hollow_read_state *rs,
                          const char *type, const char *const *paths,
                          size_t count)
{
    return make(out, HOLLOW_INDEX_HASH, rs, type, paths, count, false);
}

/*
 * Patch `ix` (resolved over the new state, nothing built) from `old`:
 * 0, IX_REBUILD when a fresh build is needed, or an error.
 */
static int patch(hollow_index *ix, const hollow_index *old)
{
    const ix_spec *sp = &ix->spec;
    ix_ords removed = {NULL, 0, 0}, added = {NULL, 0, 0};
    ix_ords vremoved[IX_MAX_NODES];
    bool changed = false, vchanged = false;
    int rc;

    if (hollow_read_state_origin_tag(ix->rs) !=
            hollow_read_state_randomized_tag(old->rs) ||
        !hollow__ix_spec_same(&old->spec, sp))
        return IX_REBUILD;
    memset(vremoved, 0, sizeof vremoved);
    rc = type_diff(&removed, &added, &changed, old->spec.root, sp->root);
    for (size_t v = 0; v < sp->nvtypes && rc == 0; v++) {
        bool c = false;
        rc = type_diff(&vremoved[v], NULL, &c, old->spec.vtypes[v],
                       sp->vtypes[v]);
        vchanged |= c;
    }
    if (rc < 0)
        goto done;
    if ((old->dangling && vchanged) ||
        removed.n + added.n > (size_t)sp->root->count) {
        rc = IX_REBUILD;
        goto done;
    }
    if ((rc = counts_alloc(ix, old)) < 0)
        goto done;
    rc = ix->kind == HOLLOW_INDEX_HASH
             ? hollow__ix_hash_patch(ix, old, &removed, &added, vremoved)
             : pk_patch(ix, old, &removed, &added, vremoved);
    if (rc == 0) {
        /* counts beyond the new types' ordinals are zero by now */
        for (size_t v = 0; v < sp->nvtypes; v++) {
            uint32_t len = (uint32_t)(sp->vtypes[v]->max_ordinal + 1);
            if (len < ix->count_len[v])
                ix->count_len[v] = len;
        }
        ix->origin = HOLLOW_INDEX_PATCHED;
        account(ix);
    }
done:
    hollow__ix_ords_free(&removed);
    hollow__ix_ords_free(&added);
    for (size_t v = 0; v < sp->nvtypes; v++)
        hollow__ix_ords_free(&vremoved[v]);
    return rc;
}

int hollow_index_derive(hollow_index **out, const hollow_index *old,
                        const hollow_read_state *rs)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || old == NULL || rs == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (rs == old->rs) {
        hollow_index_acquire((hollow_index *)old);
        *out = (hollow_index *)old;
        return 0;
    }
    const char *texts[IX_MAX_PATHS];
    for (size_t p = 0; p < old->spec.npaths; p++)
        texts[p] = old->spec.paths[p].text;
    hollow_index *ix = NULL;
    int rc = index_new(&ix, old->kind, rs, old->type_name,
                       old->schema_key ? NULL : texts, old->spec.npaths,
                       old->schema_key);
    if (rc < 0)
        return rc;
    rc = patch(ix, old);
    if (rc == IX_REBUILD || rc < 0) {
        if (rc == IX_REBUILD || rc == HOLLOW_ECORRUPT) {
            structures_free(ix);
            rc = index_build(ix);
        }
        if (rc < 0) {
            index_free(ix);
            return rc;
        }
    }
    *out = ix;
    return 0;
}

void hollow_index_acquire(hollow_index *ix)
{
    if (ix != NULL)
        atomic_fetch_add_explicit(&ix->refs, 1, memory_order_relaxed);
}

void hollow_index_release(hollow_index *ix)
{
    if (ix != NULL &&
        atomic_fetch_sub_explicit(&ix->refs, 1, memory_order_acq_rel) == 1)
        index_free(ix);
}

void hollow_index_free(hollow_index *ix) { hollow_index_release(ix); }

/* ========================================================== inspect */

const hollow_read_state *hollow_index_state(const hollow_index *ix)
{
    return ix != NULL ? ix->rs : NULL;
}

/* NULL indexes give the documented sentinels (index.h) */
hollow_index_kind hollow_index_kind_of(const hollow_index *ix)
{
    return ix ? ix->kind : HOLLOW_INDEX_PRIMARY_KEY;
}

hollow_index_origin hollow_index_origin_of(const hollow_index *ix)
{
    return ix ? ix->origin : HOLLOW_INDEX_BUILT;
}

const char *hollow_index_type_name(const hollow_index *ix)
{
    return ix ? ix->type_name : NULL;
}

size_t hollow_index_path_count(const hollow_index *ix)
{
    return ix ? ix->spec.npaths : 0;
}

const char *hollow_index_path(const hollow_index *ix, size_t i)
{
    return ix && i < ix->spec.npaths ? ix->spec.paths[i].text : NULL;
}

hollow_field_type hollow_index_path_type(const hollow_index *ix, size_t i)
{
    return ix && i < ix->spec.npaths ? ix->spec.paths[i].vtype
                                     : HOLLOW_FIELD_INT;
}

size_t hollow_index_key_count(const hollow_index *ix)
{
    if (ix == NULL)
        return 0;
    return ix->kind == HOLLOW_INDEX_HASH ? ix->ngroups : ix->nkeys;
}

size_t hollow_index_memory(const hollow_index *ix)
{
    return ix != NULL ? ix->bytes : 0;
}

size_t hollow_index_duplicate_count(const hollow_index *ix)
{
    return ix != NULL ? ix->dups.ngroups : 0;
}

int hollow_index_duplicate_at(hollow_index_matches *out, const hollow_index *ix,
                              size_t i)
{
    HOLLOW__ARG_NOT_NULL(out);
    out->ordinals = NULL;
    out->count = 0;
    HOLLOW__ARG_NOT_NULL(ix);
    if (i >= ix->dups.ngroups)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no duplicated key %zu", i);
    out->ordinals = ix->dups.ords + ix->dups.off[i];
    out->count = ix->dups.off[i + 1] - ix->dups.off[i];
    return 0;
}

int hollow_index_duplicates_of(hollow_index_matches *out,
                               const hollow_index *ix, hollow_ordinal o)
{
    HOLLOW__ARG_NOT_NULL(out);
    out->ordinals = NULL;
    out->count = 0;
    HOLLOW__ARG_NOT_NULL(ix);
    if (ix->kind == HOLLOW_INDEX_HASH)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "not a primary or unique key index");
    const ix_dups *d = &ix->dups;
    /* groups are ordered by their first (smallest) record */
    uint32_t lo = 0, hi = d->ngroups, g = UINT32_MAX;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        hollow_ordinal first = d->ords[d->off[mid]];
        if (first == o) {
            g = mid;
            break;
        }
        if (first < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (uint32_t k = 0; k < d->ngroups && g == UINT32_MAX; k++)
        for (uint32_t i = d->off[k]; i < d->off[k + 1]; i++)
            if (d->ords[i] == o)
                g = k;
    if (g == UINT32_MAX)
        return 0;
    out->ordinals = d->ords + d->off[g];
    out->count = d->off[g + 1] - d->off[g];
    return (int)out->count;
}

/* ========================================================== lookups */

/*
 * The common case, one fixed-width field of the indexed type itself (an
 * id): the table holds the key's bits beside each slot, so a lookup reads
 * one 16-byte slot per probe and never the record. At a million records
 * the table and the records are far larger than the caches; comparing
 * against the record would add a second cache miss that depends on the
 * first, while this loop stays a few dozen instructions, so that the
 * processor overlaps the misses of consecutive lookups.
 */
static inline int find_fixed(const hollow_index *ix, const hollow_value *k)
{
    hollow_field_type t = ix->spec.paths[0].vtype;
    uint64_t bits = 0;
    bool null = k->is_null;
    if (k->type != t)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "path %s has %s values, value 0 is %s",
                                 ix->spec.paths[0].text,
                                 hollow_field_type_name(t),
                                 hollow_field_type_name(k->type)
                                     ? hollow_field_type_name(k->type)
                                     : "of unknown type");
    if (!null) {
        switch (t) { /* as hollow__ix_probe() */
        case HOLLOW_FIELD_LONG: {
            null = k->u.l == INT64_MIN;
            bits = hollow__zigzag64(k->u.l);
            break;
        }
        case HOLLOW_FIELD_INT: {
            null = k->u.i == INT32_MIN;
            bits = hollow__zigzag32(k->u.i);
            break;
        }
        case HOLLOW_FIELD_FLOAT: {
            uint32_t b;
            memcpy(&b, &k->u.f, 4);
            bits = b;
            break;
        }
        case HOLLOW_FIELD_DOUBLE: memcpy(&bits, &k->u.d, 8); break;
        case HOLLOW_FIELD_BOOLEAN: bits = k->u.b ? 1 : 0; break;
        default: /* REFERENCE */
            null = k->u.ref < 0;
            bits = (uint64_t)(uint32_t)k->u.ref;
            break;
        }
    }
    ix_val pv;
    pv.null = null;
    pv.bits = null ? 0 : bits;
    uint64_t key = inline_key(&pv, t);
    uint32_t h = hollow__ix_hash_fixed(null, bits);
    const uint64_t *slots = ix->slots;
    uint32_t cap = ix->cap;
    for (uint32_t i = hollow__ix_home(h, cap);; i = next_slot(i, cap)) {
        uint64_t s = slots[(size_t)i * 2];
        if (s == 0)
            return HOLLOW_ENOTFOUND;
        if (slots[(size_t)i * 2 + 1] == key)
            return (int)((uint32_t)s - 1);
    }
}

static int find(const hollow_index *ix, const hollow_value *keys, size_t count,
                bool stored)
{
    HOLLOW__ARG_NOT_NULL(ix);
    HOLLOW__ARG_NOT_NULL(keys);
    if (ix->kind == HOLLOW_INDEX_HASH)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "not a primary or unique key index");
    if (ix->fast_fixed && count == 1 && keys != NULL)
        return find_fixed(ix, keys);
    ix_val pv[IX_MAX_PATHS];
    uint8_t heads[IX_MAX_PATHS * IX_HEAD];
    int rc = hollow__ix_probe(pv, heads, &ix->spec, keys, count, stored);
    if (rc < 0)
        return rc;
    uint32_t h = hollow__ix_hash(pv, count);
    const uint64_t *slots = ix->slots;
    uint32_t cap = ix->cap;
    for (uint32_t i = hollow__ix_home(h, cap);; i = next_slot(i, cap)) {
        uint64_t s = slots[i];
        if (s == 0)
            return HOLLOW_ENOTFOUND;
        if ((uint32_t)(s >> 32) == h) {
            hollow_ordinal o = (hollow_ordinal)((uint32_t)s - 1);
            if (hollow__ix_key_equals(&ix->spec, o, pv))
                return o;
        }
    }
}

int hollow_index_find(const hollow_index *ix, const hollow_value *keys,
                      size_t count)
{
    if (ix != NULL && ix->fast_fixed && count == 1 && keys != NULL)
        return find_fixed(ix, keys);
    return find(ix, keys, count, false);
}

int hollow_index_find_stored(const hollow_index *ix, const hollow_value *keys,
                             size_t count)
{
    return find(ix, keys, count, true);
}
