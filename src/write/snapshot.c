/*
 * The snapshot writer (blob-format.md §3, §5-§8) and the pieces every blob
 * shares: the header (§3.1), type sections' envelopes (§3.4), shard
 * sections (§6.5, §7.1, §8.2, §8.5), SET/MAP bucket placement (§8.3).
 *
 * Blobs are built in a buffer that is handed to the caller's sink every
 * megabyte, so memory stays bounded by the largest shard. A snapshot's
 * shards are written in chunks of records on the write threads (see
 * "shard writers"); a delta's types, each in its own buffer side by side,
 * go to the sink in order (hollow__wsections).
 */
#include <string.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/bits.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/parallel.h"
#include "common/reader.h"
#include "write_int.h"

#define FLUSH_AT (1u << 20)

/* room for n more bytes in b; what b holds is copied, not its whole
 * allocation (realloc copies that: after a flush, mostly stale bytes) */
static int room(hollow__buf *b, size_t n)
{
    if (b->oom || b->cap - b->len >= n || b->len > b->cap / 4)
        return hollow__buf_grow(b, n);
    hollow__buf nb = HOLLOW__BUF_INIT;
    if (hollow__buf_grow(&nb, b->len + n) < 0) {
        b->oom = 1;
        return -1;
    }
    hollow__buf_put(&nb, b->ptr, b->len);
    hollow__buf_free(b);
    *b = nb;
    return 0;
}

/*
 * A bit array (§1.5) written in order, word by word, straight in
 * big-endian, by one chunk of a shard. A chunk owns the words that lie
 * wholly in its bit range; the one it starts inside and the one it ends
 * inside are shared with its neighbours, so it keeps their bits aside
 * (edges) and bitw_merge OR-s them in once every chunk is done: chunks on
 * different threads never write the same word.
 */
typedef struct bitw {
    uint8_t *w;          /* the array's words */
    uint64_t word;       /* index of the word being filled */
    uint64_t acc;        /* its bits so far */
    unsigned n;          /* how many */
    uint64_t lead_at;    /* the shared word the chunk starts inside, or
                          * UINT64_MAX: its stores go to lead[] */
    uint8_t lead[8];
    uint64_t edge[2];    /* the bits of the shared first and last words */
    uint64_t edge_at[2]; /* their indexes; UINT64_MAX: none */
} bitw;

static void bitw_init(bitw *a, uint8_t *w, uint64_t bit)
{
    a->w = w;
    a->word = bit >> 6;
    a->acc = 0;
    a->n = (unsigned)(bit & 63);
    a->lead_at = a->n != 0 ? a->word : UINT64_MAX;
    memset(a->lead, 0, sizeof a->lead);
    a->edge[0] = a->edge[1] = 0;
    a->edge_at[0] = a->lead_at;
    a->edge_at[1] = UINT64_MAX;
}

/*
 * The next b bits: v, which fits in them. The word being filled is stored
 * at every put, and the stream moves on without a branch on whether it is
 * full (as good as random, with fields of odd widths).
 */
static inline void bitw_put(bitw *a, uint64_t v, unsigned b)
{
    if (b == 0)
        return;
    unsigned n = a->n, m = n + b;
    uint64_t acc = a->acc | v << n;
    uint8_t *d = a->word == a->lead_at ? a->lead : a->w + a->word * 8;
    hollow__put_be64(d, acc);
    uint64_t rest = (v >> 1) >> (63 - n); /* v >> (64 - n), 0 for n = 0 */
    a->acc = m >= 64 ? rest : acc;
    a->word += m >> 6;
    a->n = m & 63;
}

/* the words shared with the neighbours, kept aside */
static void bitw_end(bitw *a)
{
    if (a->lead_at != UINT64_MAX)
        a->edge[0] = a->word == a->lead_at ? a->acc : hollow__be64(a->lead);
    if (a->n != 0 && a->word != a->lead_at) {
        a->edge[1] = a->acc;
        a->edge_at[1] = a->word;
    }
}

/* the shared words of k chunks' streams of one array (a[0], a[stride],
 * ...): zeroed, then OR-ed */
static void bitw_merge(const bitw *a, size_t k, size_t stride)
{
    for (size_t i = 0; i < k * stride; i += stride)
        for (int e = 0; e < 2; e++)
            if (a[i].edge_at[e] != UINT64_MAX)
                hollow__put_be64(a[i].w + a[i].edge_at[e] * 8, 0);
    for (size_t i = 0; i < k * stride; i += stride)
        for (int e = 0; e < 2; e++)
            if (a[i].edge_at[e] != UINT64_MAX) {
                uint8_t *q = a[i].w + a[i].edge_at[e] * 8;
                hollow__put_be64(q, hollow__be64(q) | a[i].edge[e]);
            }
}

/* ------------------------------------------------------- the header */

hollow__wtype **hollow__ws_type_list(hollow_write_state *ws)
{
    hollow__wtype **all = hollow__calloc(ws->type_count ? ws->type_count : 1,
                                         sizeof *all);
    if (all != NULL)
        for (size_t i = 0; i < ws->type_count; i++)
            all[i] = &ws->types[i];
    return all;
}

void hollow__wheader(hollow__buf *b, hollow_write_state *ws, int64_t origin,
                     int64_t dest, hollow__wtype **types, size_t n,
                     const hollow__wtags *tags)
{
    (void)ws;
    hollow__buf_be32(b, HOLLOW__BLOB_VERSION);
    hollow__buf_be64(b, (uint64_t)origin);
    hollow__buf_be64(b, (uint64_t)dest);
    /* §3.1: E = bytes of S and the schemas, plus the forward-compat vint */
    hollow__buf env = HOLLOW__BUF_INIT;
    hollow__buf_vint(&env, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        hollow__schema_write(&env, types[i]->schema);
    hollow__buf_vint(&env, 0);
    if (env.oom)
        b->oom = 1;
    hollow__buf_vint(b, (uint32_t)env.len);
    hollow__buf_put(b, env.ptr, env.len);
    hollow__buf_free(&env);
    size_t *order = hollow__wtags_order(tags);
    if (order == NULL) {
        b->oom = 1;
        return;
    }
    hollow__buf_be16(b, (uint16_t)tags->count);
    for (size_t i = 0; i < tags->count; i++) {
        hollow__buf_mutf(b, tags->items[order[i]].key);
        hollow__buf_mutf(b, tags->items[order[i]].value);
    }
    hollow__free(order);
}

/* §3.4: A = size of (X = 0, n); X = 0; n */
void hollow__wenvelope(hollow__buf *b, uint32_t n)
{
    uint8_t tmp[5];
    size_t k = hollow__vint_encode(tmp, n);
    hollow__buf_vint(b, (uint32_t)(1 + k));
    hollow__buf_putc(b, 0);
    hollow__buf_put(b, tmp, k);
}

/* ------------------------------------------------------ bucket hashes */

static uint32_t fold64(uint64_t v) { return (uint32_t)(v ^ (v >> 32)); }

static size_t rvint(const uint8_t *p, uint32_t *v)
{
    return hollow__wvint(p, v);
}

/* field f of OBJECT record o of type t, decoded */
static void record_field(hollow__wval *v, const hollow__wtype *t, uint32_t o,
                         size_t f)
{
    size_t len;
    const uint8_t *p = hollow__wrec(t, o, &len);
    for (size_t i = 0; i <= f; i++)
        p += hollow__wdecode_field(v, p, t->schema->fields[i].type);
}

bool hollow__wbucket_hash_calc(uint32_t *out, const hollow_write_state *ws,
                               const hollow__wtype *t, uint32_t e)
{
    uint32_t h = 0;
    bool whole = true; /* every record of the key paths exists */
    for (size_t k = 0; k < t->schema->key_count; k++) {
        const hollow__wkey *key = &t->keys[k];
        uint32_t o = e;
        hollow__wval v = {0};
        const hollow__wtype *ht = NULL;
        for (size_t i = 0; i < key->hop_count; i++) {
            ht = &ws->types[key->hops[i].type];
            if (o >= ht->next_ordinal || ht->off[o] == HOLLOW__NO_RECORD) {
                v.is_null = true;
                whole = false;
                break;
            }
            record_field(&v, ht, o, key->hops[i].field);
            if (i + 1 < key->hop_count) {
                if (v.is_null)
                    break; /* Java requires non-null hops (§11.5) */
                o = (uint32_t)v.v;
            }
        }
        hollow_field_type ft = ht->schema->fields[key->hops[key->hop_count - 1].field].type;
        uint32_t fh = 0;
        switch (ft) {
        case HOLLOW_FIELD_INT:
            fh = v.is_null ? 0 : (uint32_t)hollow__unzigzag32((uint32_t)v.v);
            break;
        case HOLLOW_FIELD_LONG:
            fh = v.is_null ? 0 : fold64((uint64_t)hollow__unzigzag64(v.v));
            break;
        case HOLLOW_FIELD_BOOLEAN: fh = v.is_null ? 0 : (v.v ? 1231 : 1237); break;
        case HOLLOW_FIELD_FLOAT: fh = (uint32_t)v.v; break;
        case HOLLOW_FIELD_DOUBLE: fh = fold64(v.v); break;
        case HOLLOW_FIELD_REFERENCE: fh = v.is_null ? 0 : (uint32_t)v.v; break;
        case HOLLOW_FIELD_BYTES: fh = v.is_null ? 0 : hollow__murmur(v.bytes, v.len); break;
        case HOLLOW_FIELD_STRING: {
            uint32_t sh = 0;
            for (size_t i = 0; !v.is_null && i < v.len;) {
                uint32_t u;
                i += hollow__vint_decode(v.bytes + i, v.len - i, &u);
                sh = 31u * sh + (uint16_t)u;
            }
            fh = sh;
            break;
        }
        }
        h = (h * 31u) ^ hollow__hash_int(fh);
    }
    *out = h;
    return whole;
}

uint32_t hollow__wbucket_hash(const hollow_write_state *ws,
                              const hollow__wtype *t, uint32_t e)
{
    if (t->keys == NULL)
        return hollow__hash_int(e);
    uint32_t h = 0;
    if (hollow__wrun_hash(&h, t, e))
        return h;
    if (hollow__wbucket_hash_calc(&h, ws, t, e))
        hollow__wrun_hash_put(t, e, h,
                              ws->types[t->keys[0].hops[0].type].next_ordinal);
    return h;
}

/* the same, only reading the memo m (chunks of one type on several threads) */
static inline uint32_t bucket_hash_read(const hollow_write_state *ws,
                                        const hollow__wtype *t,
                                        const hollow__wmemo *m, uint32_t e)
{
    uint32_t h = 0;
    if (t->keys == NULL)
        return hollow__hash_int(e);
    if (e < m->cap && ((m->known[e >> 6] >> (e & 63)) & 1))
        return m->hash[e];
    hollow__wbucket_hash_calc(&h, ws, t, e);
    return h;
}

/* ------------------------------------------------------ placement */

void hollow__wplacer_free(hollow__wplacer *pl)
{
    hollow__free(pl->keys);
    hollow__free(pl->vals);
    hollow__free(pl->table);
    memset(pl, 0, sizeof *pl);
}

/* m: the memo to read only, or NULL to memoise as hashes are computed */
static int place(uint32_t *buckets, hollow__wplacer *pl,
                 const hollow_write_state *ws, const hollow__wtype *t,
                 uint32_t o, const hollow__wmemo *m)
{
    size_t len;
    const uint8_t *p = hollow__wrec(t, o, &len);
    uint32_t size;
    p += rvint(p, &size);
    uint32_t tsize = hollow__hash_table_size(size);
    if (tsize > pl->cap || size > pl->cap) {
        size_t ncap = pl->cap ? pl->cap : 64;
        while (ncap < tsize || ncap < size)
            ncap *= 2;
        uint32_t *nk = hollow__reallocarray(pl->keys, ncap, sizeof *nk);
        if (nk != NULL)
            pl->keys = nk;
        uint32_t *nv = hollow__reallocarray(pl->vals, ncap, sizeof *nv);
        if (nv != NULL)
            pl->vals = nv;
        uint32_t *nt = hollow__reallocarray(pl->table, ncap, sizeof *nt);
        if (nt != NULL)
            pl->table = nt;
        if (nk == NULL || nv == NULL || nt == NULL)
            return hollow__error_oom();
        pl->cap = ncap;
    }
    bool is_map = t->schema->kind == HOLLOW_SCHEMA_MAP;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t gap, bucket;
        p += rvint(p, &gap);
        pl->keys[i] = prev + gap;
        prev = pl->keys[i];
        pl->vals[i] = 0;
        if (is_map)
            p += rvint(p, &pl->vals[i]);
        p += rvint(p, &bucket);
    }
    /* §8.3: ascending order, linear probing from the home bucket */
    for (uint32_t i = 0; i < tsize; i++)
        pl->table[i] = UINT32_MAX;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t h = m == NULL ? hollow__wbucket_hash(ws, t, pl->keys[i])
                               : bucket_hash_read(ws, t, m, pl->keys[i]);
        uint32_t at = h & (tsize - 1);
        while (pl->table[at] != UINT32_MAX)
            at = (at + 1) & (tsize - 1);
        pl->table[at] = i;
    }
    pl->size = size;
    *buckets = tsize;
    return 0;
}

int hollow__wplace(uint32_t *buckets, hollow__wplacer *pl,
                   const hollow_write_state *ws, const hollow__wtype *t,
                   uint32_t o)
{
    return place(buckets, pl, ws, t, o, NULL);
}

/* ------------------------------------------------------ shard writers */

/*
 * A shard section's arrays are laid out in the output at once, then filled
 * by chunks of slots, in parallel when the writer splits shards: a first
 * pass counts each chunk's var-length bytes (OBJECT) or entries
 * (LIST/SET/MAP), whose prefix sums say where each chunk writes. Chunks
 * start on multiples of 64 slots, so fixed-length records and pointers of
 * different chunks never share a word; elements may (see bitw).
 */
#define CHUNK_MIN 4096 /* slots; a multiple of 64 */
#define CHUNKS_PER_THREAD 4

/* the records of a shard section: in a snapshot every slot 0..m (present
 * when populated), in a delta only the added records, one slot each (§9.3) */
typedef struct shard_job {
    const wctx *c;
    uint32_t s;
    const uint32_t *ords;  /* delta: the added ordinals; NULL: a snapshot */
    uint64_t slots;
    uint64_t grain;        /* slots per chunk */
    size_t chunks;
    size_t nf;             /* OBJECT fields */
    uint64_t *start;       /* per chunk (x nf for OBJECT): count, then start */
    uint8_t *fixed;        /* OBJECT records / collection pointers */
    uint8_t *elems;        /* collection elements */
    uint8_t **var;         /* OBJECT per field: its var-length bytes */
    bitw *streams;         /* per chunk: [0] fixed or pointers, [1] elements */
    uint64_t end;          /* entries written, by the last chunk */
    bool memo;             /* bucket hashes may be memoised: one chunk */
    hollow__wmemo view;    /* else the memo, read only */
} shard_job;

static inline bool slot_ordinal(uint32_t *o, const shard_job *J, uint64_t j)
{
    if (J->ords != NULL) {
        *o = J->ords[j];
        return true;
    }
    *o = (uint32_t)((j << J->c->bits) | J->s);
    return hollow__wbits_has(J->c->pop, *o);
}

static void chunk_range(uint64_t *j0, uint64_t *j1, const shard_job *J,
                        size_t k)
{
    *j0 = (uint64_t)k * J->grain;
    *j1 = *j0 + J->grain < J->slots ? *j0 + J->grain : J->slots;
}

static bool is_var(hollow_field_type t)
{
    return t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES;
}

/* first pass, OBJECT: the chunk's var-length bytes per field */
static int object_count(void *ctx, size_t k)
{
    shard_job *J = ctx;
    const hollow_schema *sc = J->c->t->schema;
    uint64_t *n = &J->start[k * J->nf];
    size_t last = 0; /* fields up to the last var-length one */
    for (size_t f = 0; f < J->nf; f++)
        if (is_var(sc->fields[f].type))
            last = f + 1;
    uint64_t j0, j1;
    chunk_range(&j0, &j1, J, k);
    for (uint64_t j = j0; j < j1; j++) {
        uint32_t o;
        if (!slot_ordinal(&o, J, j))
            continue;
        size_t len;
        const uint8_t *p = hollow__wrec(J->c->t, o, &len);
        for (size_t f = 0; f < last; f++) {
            hollow__wval v;
            p += hollow__wfield(&v, p, sc->fields[f].type);
            n[f] += v.len; /* 0 unless var-length and not null */
        }
    }
    return 0;
}

static int object_chunk(void *ctx, size_t k)
{
    shard_job *J = ctx;
    const hollow_schema *sc = J->c->t->schema;
    const hollow__wstats *st = J->c->st;
    uint64_t *at = &J->start[k * J->nf];
    uint64_t j0, j1;
    chunk_range(&j0, &j1, J, k);
    bitw *fx = &J->streams[2 * k];
    bitw_init(fx, J->fixed, j0 * st->rec_bits);
    for (uint64_t j = j0; j < j1; j++) {
        uint32_t o;
        const uint8_t *p = NULL;
        size_t len;
        bool present = slot_ordinal(&o, J, j);
        if (present)
            p = hollow__wrec(J->c->t, o, &len);
        for (size_t f = 0; f < J->nf; f++) {
            hollow_field_type ft = sc->fields[f].type;
            unsigned w = st->widths[f];
            uint64_t v = 0;
            hollow__wval val;
            if (present)
                p += hollow__wfield(&val, p, ft);
            if (is_var(ft)) {
                if (present && !val.is_null) {
                    memcpy(J->var[f] + at[f], val.bytes, val.len);
                    at[f] += val.len;
                }
                v = at[f];
                if (present && val.is_null)
                    v |= (uint64_t)1 << (w - 1);
            } else if (present) {
                if (!val.is_null)
                    v = val.v;
                else if (ft == HOLLOW_FIELD_FLOAT)
                    v = HOLLOW__FLOAT_NULL;
                else if (ft == HOLLOW_FIELD_DOUBLE)
                    v = HOLLOW__DOUBLE_NULL;
                else
                    v = hollow__ones(w);
            }
            bitw_put(fx, v, w);
        }
    }
    bitw_end(fx);
    return 0;
}

/* first pass, LIST/SET/MAP: the chunk's elements or buckets */
static int collection_count(void *ctx, size_t k)
{
    shard_job *J = ctx;
    bool list = J->c->t->schema->kind == HOLLOW_SCHEMA_LIST;
    uint64_t j0, j1, n = 0;
    chunk_range(&j0, &j1, J, k);
    for (uint64_t j = j0; j < j1; j++) {
        uint32_t o, size;
        size_t len;
        if (!slot_ordinal(&o, J, j))
            continue;
        rvint(hollow__wrec(J->c->t, o, &len), &size);
        n += list ? size : hollow__hash_table_size(size);
    }
    J->start[k] = n;
    return 0;
}

static int collection_chunk(void *ctx, size_t k)
{
    shard_job *J = ctx;
    const wctx *c = J->c;
    const hollow__wstats *st = c->st;
    hollow_schema_kind kind = c->t->schema->kind;
    unsigned P = st->ptr_bits, Z = st->size_bits, E = st->elem_bits,
             V = st->value_bits;
    bool map = kind == HOLLOW_SCHEMA_MAP;
    uint64_t entry = (uint64_t)P + (kind == HOLLOW_SCHEMA_LIST ? 0 : Z);
    uint64_t bw = map ? (uint64_t)E + V : E;
    uint64_t j0, j1, pos = J->start[k];
    chunk_range(&j0, &j1, J, k);
    bitw *pt = &J->streams[2 * k], *el = &J->streams[2 * k + 1];
    bitw_init(pt, J->fixed, j0 * entry);
    bitw_init(el, J->elems, pos * bw);
    hollow__wplacer pl = {0};
    int rc = 0;
    for (uint64_t j = j0; j < j1; j++) {
        uint32_t o, size = 0;
        if (slot_ordinal(&o, J, j)) {
            if (kind == HOLLOW_SCHEMA_LIST) {
                size_t len;
                const uint8_t *p = hollow__wrec(c->t, o, &len);
                p += rvint(p, &size);
                for (uint32_t i = 0; i < size; i++) {
                    uint32_t e;
                    p += rvint(p, &e);
                    bitw_put(el, e, E);
                }
                pos += size;
            } else {
                uint32_t t;
                if ((rc = place(&t, &pl, c->ws, c->t, o,
                                J->memo ? NULL : &J->view)) < 0)
                    break;
                size = pl.size;
                /* an empty bucket as entry `size` (room: t > size): no
                 * branch on emptiness, which is as good as random */
                pl.keys[size] = (uint32_t)hollow__ones(E);
                pl.vals[size] = 0;
                for (uint32_t i = 0; i < t; i++) {
                    uint32_t x = pl.table[i];
                    uint32_t none = 0u - (uint32_t)(x == UINT32_MAX);
                    x = (x & ~none) | (size & none);
                    bitw_put(el, pl.keys[x], E);
                    if (map)
                        bitw_put(el, pl.vals[x], V);
                }
                pos += t;
            }
        }
        bitw_put(pt, pos, P);
        if (kind != HOLLOW_SCHEMA_LIST)
            bitw_put(pt, size, Z);
    }
    hollow__wplacer_free(&pl);
    bitw_end(pt);
    bitw_end(el);
    if (k + 1 == J->chunks)
        J->end = pos;
    return rc;
}

/* run the chunk tasks: on the caller when there is one */
static int chunks_run(shard_job *J, hollow__task_fn fn)
{
    if (J->chunks == 1)
        return fn(J, 0);
    return hollow__parallel_for(J->c->split, J->chunks, fn, J);
}

static int object_shard(hollow__buf *b, shard_job *J)
{
    const hollow__wstats *st = J->c->st;
    size_t nf = J->nf;
    for (size_t f = 0; f < nf; f++)
        hollow__buf_vint(b, st->widths[f]);
    bool any_var = false;
    for (size_t f = 0; f < nf; f++)
        any_var = any_var || is_var(J->c->t->schema->fields[f].type);
    if (any_var)
        HOLLOW_TRY(chunks_run(J, object_count));
    /* chunk counts to chunk starts, per field; the fields' totals */
    uint64_t nwords = hollow__ceilw(J->slots * st->rec_bits);
    uint64_t need = 10 + nwords * 8;
    for (size_t f = 0; f < nf; f++) {
        uint64_t sum = 0;
        for (size_t k = 0; k < J->chunks; k++) {
            uint64_t n = J->start[k * nf + f];
            J->start[k * nf + f] = sum;
            sum += n;
        }
        J->start[J->chunks * nf + f] = sum;
        need += 10 + sum;
    }
    if (room(b, (size_t)need) < 0)
        return hollow__error_oom();
    /* the room is made: b->ptr stays */
    hollow__buf_vlong(b, nwords);
    J->fixed = b->ptr + b->len;
    b->len += (size_t)nwords * 8;
    for (size_t f = 0; f < nf; f++) {
        uint64_t n = J->start[J->chunks * nf + f];
        hollow__buf_vlong(b, n);
        J->var[f] = b->ptr + b->len;
        b->len += (size_t)n;
    }
    HOLLOW_TRY(chunks_run(J, object_chunk));
    bitw_merge(J->streams, J->chunks, 2);
    return 0;
}

/*
 * LIST/SET/MAP shard (§7.1, §8.2, §8.5): pointers of the populated slots
 * and their elements or bucket tables; the element/bucket array is sized
 * by the retained-set total T_s / B_s.
 */
static int collection_shard(hollow__buf *b, shard_job *J)
{
    const hollow__wstats *st = J->c->st;
    hollow_schema_kind kind = J->c->t->schema->kind;
    unsigned P = st->ptr_bits, Z = st->size_bits, E = st->elem_bits,
             V = st->value_bits;
    hollow__buf_vint(b, P);
    if (kind != HOLLOW_SCHEMA_LIST)
        hollow__buf_vint(b, Z);
    hollow__buf_vint(b, E);
    if (kind == HOLLOW_SCHEMA_MAP)
        hollow__buf_vint(b, V);
    uint64_t total = st->totals[J->s];
    hollow__buf_vlong(b, total);
    if (J->chunks > 1 || J->ords != NULL) {
        HOLLOW_TRY(chunks_run(J, collection_count));
        uint64_t sum = 0;
        for (size_t k = 0; k < J->chunks; k++) {
            uint64_t n = J->start[k];
            J->start[k] = sum;
            sum += n;
        }
        if (J->ords != NULL) /* a delta holds only the added entries */
            total = sum;
    }
    uint64_t entry = (uint64_t)P + (kind == HOLLOW_SCHEMA_LIST ? 0 : Z);
    uint64_t bw = kind == HOLLOW_SCHEMA_MAP ? (uint64_t)E + V : E;
    uint64_t np = hollow__ceilw(J->slots * entry);
    uint64_t ne = hollow__ceilw(total * bw);
    if (room(b, 20 + (size_t)(np + ne) * 8) < 0)
        return hollow__error_oom();
    hollow__buf_vlong(b, np);
    J->fixed = b->ptr + b->len;
    b->len += (size_t)np * 8;
    hollow__buf_vlong(b, ne);
    J->elems = b->ptr + b->len;
    b->len += (size_t)ne * 8;
    HOLLOW_TRY(chunks_run(J, collection_chunk));
    bitw_merge(J->streams, J->chunks, 2);
    bitw_merge(J->streams + 1, J->chunks, 2);
    /* a snapshot's retained-set total may exceed what it writes */
    uint64_t used = hollow__ceilw(J->end * bw);
    if (used < ne)
        memset(J->elems + used * 8, 0, (size_t)(ne - used) * 8);
    return 0;
}

/* statistics and data of a shard section (after its max ordinal, and in
 * a delta after the removed and added lists) */
void hollow__wshard_body(hollow__buf *b, const wctx *c, uint32_t s,
                         const uint32_t *ords, uint64_t count)
{
    shard_job J = {.c = c, .s = s, .ords = ords, .slots = count};
    bool object = c->t->schema->kind == HOLLOW_SCHEMA_OBJECT;
    J.nf = object ? c->t->schema->field_count : 0;
    /* chunks of a multiple of 64 slots, a few per thread */
    uint64_t want = c->split > 1 ? (uint64_t)c->split * CHUNKS_PER_THREAD : 1;
    if (want > count / CHUNK_MIN)
        want = count / CHUNK_MIN;
    if (want == 0)
        want = 1;
    J.grain = ((count + want - 1) / want + 63) & ~(uint64_t)63;
    J.chunks = J.grain ? (size_t)((count + J.grain - 1) / J.grain) : 1;
    J.memo = J.chunks == 1 && !c->filled;
    J.view = hollow__wrun_memo(c->t);
    J.start = hollow__calloc((J.chunks + 1) * (J.nf ? J.nf : 1),
                             sizeof *J.start);
    J.var = hollow__calloc(J.nf ? J.nf : 1, sizeof *J.var);
    J.streams = hollow__calloc(2 * J.chunks, sizeof *J.streams);
    int rc = 0;
    if (J.start == NULL || J.var == NULL || J.streams == NULL)
        rc = -1;
    else if (object)
        rc = object_shard(b, &J);
    else
        rc = collection_shard(b, &J);
    if (rc < 0)
        b->oom = 1;
    hollow__free(J.start);
    hollow__free(J.var);
    hollow__free(J.streams);
}

int hollow__wflush(hollow__buf *b, hollow_sink_fn fn, void *payload, bool force)
{
    int rc = hollow__buf_check(b);
    if (rc < 0)
        return rc;
    if (fn == NULL || b->len == 0 || (!force && b->len < FLUSH_AT))
        return 0;
    rc = fn(payload, b->ptr, b->len);
    b->len = 0;
    return rc;
}

typedef struct par_sections {
    hollow_write_state *ws;
    hollow__wtype **types;
    hollow__buf *bufs;
    hollow__wsection_fn section;
    bool reverse;
} par_sections;

static int section_task(void *ctx, size_t i)
{
    par_sections *p = ctx;
    return p->section(&p->bufs[i], p->ws, p->types[i], p->reverse, NULL, NULL);
}

int hollow__wsections(hollow__buf *b, hollow_write_state *ws,
                      hollow__wtype **types, size_t n, hollow__wsection_fn section,
                      bool reverse, hollow_sink_fn fn, void *payload)
{
    unsigned threads = hollow__threads_or_cores(ws->opts.threads);
    int rc = 0;
    if (threads <= 1 || n <= 1) { /* streamed: memory bounded by a shard */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = section(b, ws, types[i], reverse, fn, payload);
        return rc;
    }
    /* the types are independent: each reads only its own records, those
     * of the types its SET/MAP hash keys reach (read-only during a write)
     * and its own statistics and memo */
    par_sections p = {ws, types, hollow__calloc(n, sizeof *p.bufs), section,
                      reverse};
    HOLLOW_CHECK_ALLOC(p.bufs);
    rc = hollow__wflush(b, fn, payload, true);
    if (rc == 0)
        rc = hollow__parallel_for(threads, n, section_task, &p);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && p.bufs[i].len > 0)
            rc = fn(payload, p.bufs[i].ptr, p.bufs[i].len);
        hollow__buf_free(&p.bufs[i]);
    }
    hollow__free(p.bufs);
    return rc;
}

/* the snapshot section of one type (§3.4, §3.5), its shards split over
 * the write options' threads */
static int snapshot_section(hollow__buf *b, hollow_write_state *ws,
                            hollow__wtype *t, hollow_sink_fn fn, void *payload)
{
    uint32_t n = t->shard_count ? t->shard_count : 1;
    unsigned threads = hollow__threads_or_cores(ws->opts.threads);
    hollow__wstats st;
    int rc = hollow__wstats_compute(&st, ws, t, n, true);
    /* every element's hash at once, unless few are used */
    bool fill = false;
    if (rc == 0 && t->keys != NULL) {
        const hollow__wtype *et = &ws->types[t->keys[0].hops[0].type];
        fill = st.total >= et->table_count / 4;
        if (fill)
            rc = hollow__wrun_hash_fill(ws, t, threads);
    }
    if (rc < 0) {
        hollow__wstats_free(&st);
        return rc;
    }
    hollow__wbits *cur = hollow__wcur(t), *prev = hollow__wprev(t);
    /* Java tests cur for 0..M and prev for what cur lacks (§10.9) */
    if (st.max_ordinal >= 0) {
        hollow__wbits_cover(cur, (uint32_t)st.max_ordinal);
        for (int64_t o = st.max_ordinal; o >= 0; o--)
            if (!hollow__wbits_has(cur, (uint32_t)o)) {
                hollow__wbits_cover(prev, (uint32_t)o);
                break;
            }
    }
    if (cur->segments == 0)
        cur->segments = 1;
    hollow__schema_write(b, t->schema);
    hollow__wenvelope(b, n);
    if (n > 1)
        hollow__buf_vint(b, (uint32_t)st.max_ordinal);
    wctx c = {ws,  t,  &st, n, (uint32_t)__builtin_ctz(n), st.max_ordinal,
              cur, threads, fill};
    for (uint32_t s = 0; s < n && rc == 0; s++) {
        int32_t m = hollow__max_shard_ordinal(st.max_ordinal, n, s);
        hollow__buf_vint(b, (uint32_t)m);
        hollow__wshard_body(b, &c, s, NULL, (uint64_t)((int64_t)m + 1));
        rc = hollow__wflush(b, fn, payload, false);
    }
    if (rc == 0) { /* §1.7: the populated bit set, 256 words per segment */
        uint32_t words = 256 * cur->segments;
        hollow__buf_be32(b, words);
        for (uint32_t i = 0; i < words; i++)
            hollow__buf_be64(b, i < cur->nwords ? cur->words[i] : 0);
    }
    hollow__wstats_free(&st);
    return rc;
}

int hollow_write_state_write_snapshot(hollow_write_state *ws, hollow_sink_fn fn,
                                      void *payload)
{
    if (ws == NULL || fn == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    int rc = hollow__ws_choose_shards(ws);
    if (rc < 0)
        return rc;
    hollow__wtype **all = hollow__ws_type_list(ws);
    HOLLOW_CHECK_ALLOC(all);
    hollow__buf b = HOLLOW__BUF_INIT;
    int64_t dest = hollow_write_state_randomized_tag(ws);
    hollow__wheader(&b, ws, ws->prev_tag, dest, all, ws->type_count, &ws->tags);
    hollow__buf_vint(&b, (uint32_t)ws->type_count);
    /* streamed, type by type: memory bounded by a shard */
    for (size_t i = 0; i < ws->type_count && rc == 0; i++)
        rc = snapshot_section(&b, ws, all[i], fn, payload);
    if (rc == 0)
        rc = hollow__wflush(&b, fn, payload, true);
    hollow__buf_free(&b);
    hollow__free(all);
    ws->written = true;
    return rc;
}
