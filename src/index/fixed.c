/*
 * The table of a one-field fixed-width key (stride 2, index.c) built in
 * table order, on several threads.
 *
 * Inserting a million records one by one into a table far larger than the
 * caches misses once per record. Instead the records are bucketed by the
 * top bits of their hash (a home slot grows with the hash), so that the
 * inserts sweep the table region by region:
 *
 *   1. count    each piece (a run of populated words of the type's shards)
 *               counts its records per bucket;
 *   2. scatter  each piece reads its records again and writes
 *               (key, hash, ordinal) at its own place in the bucket order;
 *   3. insert   each region (a run of buckets) owns the slots its homes
 *               start in: it zeroes them and inserts its entries there; an
 *               entry whose home or run reaches past the region is left
 *               for step 4;
 *   4. spill    the left entries are inserted one by one, in region order.
 *
 * Reading the records twice costs less than keeping them: one scratch
 * array (16 bytes a record) besides the table. Pieces and regions are
 * fixed by the type alone, so the table is the same for any thread count.
 * Each step runs on up to `threads` threads (hollow__parallel_for); every
 * piece and region writes only its own memory.
 */
#include <string.h>

#include "index_int.h"

#include "common/alloc.h"
#include "common/error.h"
#include "common/parallel.h"
#include "read/access.h"

/* populated words per piece, at least (64 Ki records) */
#define PIECE_WORDS 1024
#define MAX_PIECES 64
#define MAX_REGIONS 64
/* below this many records one thread does it all */
#define THREADS_MIN 65536

typedef struct fx_entry {
    uint64_t key;
    uint32_t h;
    hollow_ordinal o;
} fx_entry;

/* one region's entries that spilled, and its duplicates */
typedef struct fx_region {
    hollow__array(fx_entry) spill;
    hollow__array(ix_hpair) extras;
    uint32_t used;
} fx_region;

typedef struct fx_job {
    const hollow_index *ix;
    const hollow_type *t;
    uint32_t field;
    hollow_field_type ft;
    uint64_t null_key;
    uint32_t cap;
    uint64_t *slots;
    unsigned b;           /* bucket bits */
    uint32_t nb;          /* buckets */
    uint64_t total_words; /* populated words of all shards, in order */
    uint64_t piece_words;
    size_t npieces;
    uint32_t *at;     /* npieces * nb: counts, then write positions */
    fx_entry *sorted; /* in bucket order */
    uint32_t *bstart; /* nb + 1: each bucket's first entry */
    size_t nregions;
    fx_region *regions;
} fx_job;

static inline uint32_t bucket_of(const fx_job *J, uint32_t h)
{
    return J->b ? h >> (32 - J->b) : 0;
}

/*
 * Each populated record of piece p (the populated words [p * piece_words,
 * (p + 1) * piece_words) of the shards taken one after the other) takes
 * the next position of its bucket in J->at: counting when !scatter, else
 * writing its entry there. Inlined twice, once for each.
 */
static inline __attribute__((always_inline)) int
each_record(fx_job *J, size_t p, bool scatter)
{
    uint32_t *at = J->at + p * J->nb;
    uint64_t from = (uint64_t)p * J->piece_words;
    uint64_t to = from + J->piece_words < J->total_words ? from + J->piece_words
                                                         : J->total_words;
    uint64_t base = 0;
    for (uint32_t s = 0; s < J->t->shard_count && base < to; s++) {
        const hollow__shard *sh = J->t->shards[s];
        uint64_t w0 = from > base ? from - base : 0;
        uint64_t w1 = to - base < sh->pop_words ? to - base : sh->pop_words;
        base += sh->pop_words;
        if (w0 >= w1)
            continue;
        unsigned fw = sh->max >= 0 ? sh->widths[J->field] : 0;
        for (uint64_t w = w0; w < w1; w++)
            for (uint64_t word = sh->populated[w]; word != 0;
                 word &= word - 1) {
                uint32_t j =
                    (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(word));
                hollow_ordinal o =
                    (hollow_ordinal)(((uint64_t)j << J->t->shard_bits) | s);
                if ((int64_t)j > sh->max)
                    return hollow__error_set(HOLLOW_ECORRUPT,
                                             "type %s: populated ordinal %d "
                                             "has no slot",
                                             J->t->schema->name, (int)o);
                uint64_t raw = hollow__field_raw(sh, j, J->field);
                uint64_t bits;
                int r = hollow__ix_fixed_decode(&bits, raw, fw, J->ft);
                if (r < 0)
                    return hollow__ix_bad_fixed(J->t, o, J->ft, raw);
                uint32_t h = hollow__ix_hash_fixed(r == 1, bits);
                uint32_t pos = at[bucket_of(J, h)]++;
                if (scatter) {
                    fx_entry *e = &J->sorted[pos];
                    e->key = r ? J->null_key : bits;
                    e->h = h;
                    e->o = o;
                }
            }
    }
    return 0;
}

static int count_piece(void *ctx, size_t p)
{
    return each_record(ctx, p, false);
}

static int scatter_piece(void *ctx, size_t p)
{
    return each_record(ctx, p, true);
}

/* the first slot a hash of bucket k may start in */
static inline uint32_t bucket_slot(const fx_job *J, uint32_t k)
{
    if (k >= J->nb)
        return J->cap;
    return hollow__ix_home(J->b ? k << (32 - J->b) : 0, J->cap);
}

static int insert_region(void *ctx, size_t r)
{
    fx_job *J = ctx;
    fx_region *R = &J->regions[r];
    uint32_t k0 = (uint32_t)(r * J->nb / J->nregions);
    uint32_t k1 = (uint32_t)((r + 1) * J->nb / J->nregions);
    uint32_t lo = bucket_slot(J, k0), hi = bucket_slot(J, k1);
    uint64_t *slots = J->slots;
    size_t bytes = (size_t)(hi - lo) * 2 * sizeof *slots;
    hollow__prefault(slots + (size_t)lo * 2, bytes);
    memset(slots + (size_t)lo * 2, 0, bytes);
    for (uint32_t i = J->bstart[k0]; i < J->bstart[k1]; i++) {
        const fx_entry *e = &J->sorted[i];
        uint32_t j = hollow__ix_home(e->h, J->cap);
        for (;; j++) {
            if (j >= hi) { /* past the region: step 4 */
                fx_entry *x = hollow__array_push(&R->spill, 64);
                HOLLOW_CHECK_ALLOC(x);
                *x = *e;
                break;
            }
            uint64_t *slot = &slots[(size_t)j * 2];
            if (slot[0] == 0) {
                slot[0] = hollow__ix_slot(e->h, (uint32_t)e->o);
                slot[1] = e->key;
                R->used++;
                break;
            }
            if (slot[1] == e->key) {
                ix_hpair *x = hollow__array_push(&R->extras, 64);
                HOLLOW_CHECK_ALLOC(x);
                x->h = e->h;
                x->o = e->o;
                break;
            }
        }
    }
    return 0;
}

/* step 4 for one entry: probe from its home, wrapping round */
static int spill_insert(hollow_index *ix, const fx_entry *e, fx_region *R)
{
    uint32_t j = hollow__ix_home(e->h, ix->cap);
    for (;;) {
        uint64_t *slot = &ix->slots[(size_t)j * 2];
        if (slot[0] == 0) {
            if (ix->used + 1 >= ix->cap)
                return hollow__error_set(HOLLOW_ECORRUPT,
                                         "type %s: more records than its "
                                         "count",
                                         ix->type_name);
            slot[0] = hollow__ix_slot(e->h, (uint32_t)e->o);
            slot[1] = e->key;
            ix->used++;
            return 0;
        }
        if (slot[1] == e->key) {
            ix_hpair *x = hollow__array_push(&R->extras, 64);
            HOLLOW_CHECK_ALLOC(x);
            x->h = e->h;
            x->o = e->o;
            return 0;
        }
        j = j + 1 == ix->cap ? 0 : j + 1;
    }
}

int hollow__ix_build_fixed(hollow_index *ix, unsigned threads,
                           ix_hpair **extras, size_t *nextras)
{
    const ix_hop *hop = &ix->spec.paths[0].hops[0];
    const hollow_type *t = ix->spec.root;
    fx_job J;
    int rc = 0;

    *extras = NULL;
    *nextras = 0;
    memset(&J, 0, sizeof J);
    J.ix = ix;
    J.t = t;
    J.field = hop->field;
    J.ft = ix->spec.paths[0].vtype;
    J.null_key = hollow__ix_inline_key(true, 0, J.ft);
    J.cap = ix->cap = hollow__ix_capacity(t->count);
    ix->used = 0;
    if (t->count < THREADS_MIN)
        threads = 1;
    /* buckets of 256 to 511 slots: a region of the table the caches hold */
    while (J.b < 16 && ((uint64_t)J.cap >> (J.b + 8)) > 0)
        J.b++;
    J.nb = 1u << J.b;
    for (uint32_t s = 0; s < t->shard_count; s++)
        J.total_words += t->shards[s]->pop_words;
    J.piece_words = (J.total_words + MAX_PIECES - 1) / MAX_PIECES;
    if (J.piece_words < PIECE_WORDS)
        J.piece_words = PIECE_WORDS;
    J.npieces = (size_t)((J.total_words + J.piece_words - 1) / J.piece_words);
    J.nregions = J.nb < MAX_REGIONS ? J.nb : MAX_REGIONS;

    size_t tsize = (size_t)J.cap * 2;
    ix->slots = hollow__mallocarray(tsize, sizeof *ix->slots);
    J.slots = ix->slots;
    J.at = hollow__calloc(J.npieces ? J.npieces * J.nb : 1, sizeof *J.at);
    J.bstart = hollow__calloc((size_t)J.nb + 1, sizeof *J.bstart);
    J.regions = hollow__calloc(J.nregions, sizeof *J.regions);
    if (ix->slots == NULL || J.at == NULL || J.bstart == NULL ||
        J.regions == NULL) {
        rc = hollow__error_oom();
        goto done;
    }

    /* 1. count */
    if ((rc = hollow__parallel_for(threads, J.npieces, count_piece, &J)) < 0)
        goto done;
    /* positions: bucket by bucket, piece by piece within a bucket */
    uint64_t n = 0;
    for (uint32_t k = 0; k < J.nb; k++) {
        J.bstart[k] = (uint32_t)n;
        for (size_t p = 0; p < J.npieces; p++) {
            uint32_t c = J.at[p * J.nb + k];
            J.at[p * J.nb + k] = (uint32_t)n;
            n += c;
        }
        if (n > t->count) /* the table has room for count records only */
            break;
    }
    if (n > t->count) {
        rc = hollow__error_set(HOLLOW_ECORRUPT,
                               "type %s: more records than its count",
                               t->schema->name);
        goto done;
    }
    J.bstart[J.nb] = (uint32_t)n;

    /* 2. scatter */
    J.sorted = hollow__mallocarray(n ? n : 1, sizeof *J.sorted);
    if (J.sorted == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    hollow__prefault(J.sorted, n * sizeof *J.sorted);
    if ((rc = hollow__parallel_for(threads, J.npieces, scatter_piece, &J)) < 0)
        goto done;

    /* 3. insert, region by region */
    if ((rc = hollow__parallel_for(threads, J.nregions, insert_region, &J)) < 0)
        goto done;
    for (size_t r = 0; r < J.nregions; r++)
        ix->used += J.regions[r].used;

    /* 4. spill, in region order */
    for (size_t r = 0; r < J.nregions && rc == 0; r++)
        for (size_t i = 0; i < J.regions[r].spill.n && rc == 0; i++)
            rc = spill_insert(ix, &J.regions[r].spill.v[i], &J.regions[r]);
    if (rc < 0)
        goto done;

    size_t ne = 0;
    for (size_t r = 0; r < J.nregions; r++)
        ne += J.regions[r].extras.n;
    if (ne > 0) {
        *extras = hollow__mallocarray(ne, sizeof **extras);
        if (*extras == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
        for (size_t r = 0; r < J.nregions; r++) {
            if (J.regions[r].extras.n == 0)
                continue; /* its array was never allocated */
            memcpy(*extras + *nextras, J.regions[r].extras.v,
                   J.regions[r].extras.n * sizeof **extras);
            *nextras += J.regions[r].extras.n;
        }
    }
done:
    if (J.regions != NULL)
        for (size_t r = 0; r < J.nregions; r++) {
            hollow__array_free(&J.regions[r].spill);
            hollow__array_free(&J.regions[r].extras);
        }
    hollow__free(J.regions);
    hollow__free(J.at);
    hollow__free(J.bstart);
    hollow__free(J.sorted);
    if (rc < 0) {
        hollow__free(ix->slots); /* unzeroed: never left behind */
        ix->slots = NULL;
        ix->cap = ix->used = 0;
    }
    return rc;
}
