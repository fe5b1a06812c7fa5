/*
 * The snapshot writer (blob-format.md §3, §5-§8) and the pieces every blob
 * shares: the header (§3.1), type sections' envelopes (§3.4), shard
 * sections (§6.5, §7.1, §8.2, §8.5), SET/MAP bucket placement (§8.3).
 *
 * Blobs are built in a buffer that is handed to the caller's sink every
 * megabyte, so memory stays bounded by the largest shard; with several
 * threads each type's section is built in its own buffer, side by side,
 * and the sections go to the sink in order (hollow__wsections).
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

/*
 * A bit array written in place at the end of the output buffer: its vlong
 * word count, then the words, filled in host order and swapped to
 * big-endian when done (§1.5). The buffer must not grow in between.
 */
typedef struct warr {
    uint8_t *w;
    uint64_t nwords;
} warr;

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

/* the count and zeroed room for nwords words (room made by the caller) */
static void warr_open(warr *a, hollow__buf *b, uint64_t nwords)
{
    hollow__buf_vlong(b, nwords);
    a->nwords = nwords;
    a->w = NULL;
    size_t n = (size_t)nwords * 8;
    if (hollow__buf_grow(b, n) < 0)
        return;
    a->w = b->ptr + b->len;
    memset(a->w, 0, n);
    b->len += n;
}

static inline void warr_put(warr *a, uint64_t p, unsigned b, uint64_t v)
{
    if (b == 0)
        return;
    uint8_t *q = a->w + (p >> 6) * 8;
    unsigned s = (unsigned)(p & 63);
    uint64_t x;
    memcpy(&x, q, 8);
    x |= v << s;
    memcpy(q, &x, 8);
    if (s + b > 64) {
        memcpy(&x, q + 8, 8);
        x |= v >> (64 - s);
        memcpy(q + 8, &x, 8);
    }
}

static void warr_close(warr *a)
{
    for (uint64_t i = 0; i < a->nwords; i++) {
        uint64_t x;
        memcpy(&x, a->w + i * 8, 8);
        hollow__put_be64(a->w + i * 8, x);
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

uint32_t hollow__wbucket_hash(const hollow_write_state *ws, const hollow__wtype *t,
                              uint32_t e)
{
    if (t->keys == NULL)
        return hollow__hash_int(e);
    uint32_t h = 0;
    if (hollow__wrun_hash(&h, t, e))
        return h;
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
    if (whole)
        hollow__wrun_hash_put(t, e, h,
                              ws->types[t->keys[0].hops[0].type].next_ordinal);
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

int hollow__wplace(uint32_t *buckets, hollow__wplacer *pl,
                   const hollow_write_state *ws, const hollow__wtype *t,
                   uint32_t o)
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
        uint32_t at = hollow__wbucket_hash(ws, t, pl->keys[i]) & (tsize - 1);
        while (pl->table[at] != UINT32_MAX)
            at = (at + 1) & (tsize - 1);
        pl->table[at] = i;
    }
    pl->size = size;
    *buckets = tsize;
    return 0;
}

/* ------------------------------------------------------ shard writers */

/*
 * The records of a shard section: in a snapshot every slot 0..m (present
 * when populated), in a delta only the added records, one slot each (§9.3).
 */
typedef struct slots_of {
    const uint32_t *ords; /* delta: the added ordinals; NULL for a snapshot */
    uint64_t count;       /* slots written */
} slots_of;

static inline bool slot_ordinal(uint32_t *o, const wctx *c, const slots_of *so,
                                uint32_t s, uint64_t j)
{
    if (so->ords != NULL) {
        *o = so->ords[j];
        return true;
    }
    *o = (uint32_t)((j << c->bits) | s);
    return hollow__wbits_has(c->pop, *o);
}

static void object_shard(hollow__buf *b, const wctx *c, uint32_t s,
                         const slots_of *so)
{
    const hollow_schema *sc = c->t->schema;
    size_t nf = sc->field_count;
    const hollow__wstats *st = c->st;
    for (size_t f = 0; f < nf; f++)
        hollow__buf_vint(b, st->widths[f]);
    uint64_t slots = so->count;
    warr fixed;
    uint64_t nwords = hollow__ceilw(slots * st->rec_bits);
    /* room for the section at once: regrowing copies what is written */
    uint64_t var_room = 10 * (uint64_t)nf;
    for (size_t f = 0; f < nf && so->ords == NULL; f++)
        var_room += st->var_total[f] / c->n;
    hollow__buf *var = hollow__calloc(nf ? nf : 1, sizeof *var);
    if (var == NULL ||
        room(b, 10 + (size_t)(nwords * 8 + var_room)) < 0) {
        hollow__free(var);
        b->oom = 1;
        return;
    }
    warr_open(&fixed, b, nwords);
    if (fixed.w == NULL) {
        hollow__free(var);
        return;
    }
    /* a snapshot's var bytes are at most the retained set's */
    for (size_t f = 0; f < nf && so->ords == NULL; f++)
        if (st->var_total[f] > 0)
            hollow__buf_grow(&var[f], (size_t)(st->var_total[f] / c->n) + 64);
    for (uint64_t j = 0; j < slots; j++) {
        uint32_t o;
        uint64_t base = j * st->rec_bits;
        const uint8_t *p = NULL;
        size_t len;
        bool present = slot_ordinal(&o, c, so, s, j);
        if (present)
            p = hollow__wrec(c->t, o, &len);
        uint64_t bit = base;
        for (size_t f = 0; f < nf; f++) {
            hollow_field_type ft = sc->fields[f].type;
            unsigned w = st->widths[f];
            uint64_t v = 0;
            if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) {
                hollow__wval val = {0};
                if (present)
                    p += hollow__wdecode_field(&val, p, ft);
                if (present && !val.is_null)
                    hollow__buf_put(&var[f], val.bytes, val.len);
                v = var[f].len;
                if (present && val.is_null)
                    v |= (uint64_t)1 << (w - 1);
            } else if (present) {
                hollow__wval val;
                p += hollow__wdecode_field(&val, p, ft);
                if (!val.is_null)
                    v = val.v;
                else if (ft == HOLLOW_FIELD_FLOAT)
                    v = HOLLOW__FLOAT_NULL;
                else if (ft == HOLLOW_FIELD_DOUBLE)
                    v = HOLLOW__DOUBLE_NULL;
                else
                    v = hollow__ones(w);
            }
            warr_put(&fixed, bit, w, v);
            bit += w;
        }
    }
    warr_close(&fixed);
    for (size_t f = 0; f < nf; f++) {
        if (var[f].oom)
            b->oom = 1;
        hollow__buf_vlong(b, var[f].len);
        hollow__buf_put(b, var[f].ptr, var[f].len);
        hollow__buf_free(&var[f]);
    }
    hollow__free(var);
}

/*
 * LIST/SET/MAP shard (§7.1, §8.2, §8.5): pointers of the populated slots
 * and their elements or bucket tables; the element/bucket array is sized
 * by the retained-set total T_s / B_s.
 */
static void collection_shard(hollow__buf *b, const wctx *c, uint32_t s,
                             const slots_of *so)
{
    const hollow__wstats *st = c->st;
    hollow_schema_kind kind = c->t->schema->kind;
    unsigned P = st->ptr_bits, Z = st->size_bits, E = st->elem_bits,
             V = st->value_bits;
    hollow__buf_vint(b, P);
    if (kind != HOLLOW_SCHEMA_LIST)
        hollow__buf_vint(b, Z);
    hollow__buf_vint(b, E);
    if (kind == HOLLOW_SCHEMA_MAP)
        hollow__buf_vint(b, V);
    uint64_t total = st->totals[s];
    hollow__buf_vlong(b, total);
    uint64_t slots = so->count;
    if (so->ords != NULL) { /* a delta holds only the added entries */
        total = 0;
        for (uint64_t j = 0; j < slots; j++) {
            size_t len;
            uint32_t size;
            rvint(hollow__wrec(c->t, so->ords[j], &len), &size);
            total += kind == HOLLOW_SCHEMA_LIST ? size
                                                : hollow__hash_table_size(size);
        }
    }
    uint64_t entry = (uint64_t)P + (kind == HOLLOW_SCHEMA_LIST ? 0 : Z);
    uint64_t bw = kind == HOLLOW_SCHEMA_MAP ? (uint64_t)E + V : E;
    uint64_t np = hollow__ceilw(slots * entry), ne = hollow__ceilw(total * bw);
    warr ptrs, elems;
    if (room(b, 20 + (size_t)(np + ne) * 8) < 0)
        return;
    warr_open(&ptrs, b, np);
    warr_open(&elems, b, ne);
    uint64_t pos = 0;
    hollow__wplacer pl = {0};
    for (uint64_t j = 0; j < slots; j++) {
        uint32_t o;
        uint32_t size = 0;
        if (slot_ordinal(&o, c, so, s, j)) {
            if (kind == HOLLOW_SCHEMA_LIST) {
                size_t len;
                const uint8_t *p = hollow__wrec(c->t, o, &len);
                p += rvint(p, &size);
                for (uint32_t i = 0; i < size; i++) {
                    uint32_t e;
                    p += rvint(p, &e);
                    warr_put(&elems, (pos + i) * E, E, e);
                }
                pos += size;
            } else {
                uint32_t t;
                if (hollow__wplace(&t, &pl, c->ws, c->t, o) < 0) {
                    b->oom = 1;
                    break;
                }
                size = pl.size;
                for (uint32_t i = 0; i < t; i++) {
                    uint64_t at = (pos + i) * bw;
                    if (pl.table[i] == UINT32_MAX) {
                        warr_put(&elems, at, E, hollow__ones(E));
                    } else {
                        warr_put(&elems, at, E, pl.keys[pl.table[i]]);
                        if (kind == HOLLOW_SCHEMA_MAP)
                            warr_put(&elems, at + E, V,
                                             pl.vals[pl.table[i]]);
                    }
                }
                pos += t;
            }
        }
        warr_put(&ptrs, j * entry, P, pos);
        if (kind != HOLLOW_SCHEMA_LIST)
            warr_put(&ptrs, j * entry + P, Z, size);
    }
    hollow__wplacer_free(&pl);
    warr_close(&ptrs);
    warr_close(&elems);
}


/* statistics and data of a shard section (after its max ordinal, and in
 * a delta after the removed and added lists) */
void hollow__wshard_body(hollow__buf *b, const wctx *c, uint32_t s,
                         const uint32_t *ords, uint64_t count)
{
    slots_of so = {ords, count};
    if (c->t->schema->kind == HOLLOW_SCHEMA_OBJECT)
        object_shard(b, c, s, &so);
    else
        collection_shard(b, c, s, &so);
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

/* the snapshot section of one type (§3.4, §3.5) */
static int snapshot_section(hollow__buf *b, hollow_write_state *ws,
                            hollow__wtype *t, bool reverse, hollow_sink_fn fn,
                            void *payload)
{
    (void)reverse;
    uint32_t n = t->shard_count ? t->shard_count : 1;
    hollow__wstats st;
    int rc = hollow__wstats_compute(&st, ws, t, n, true);
    if (rc < 0)
        return rc;
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
    wctx c = {ws, t, &st, n, (uint32_t)__builtin_ctz(n), st.max_ordinal, cur};
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
    if (rc == 0)
        rc = hollow__wsections(&b, ws, all, ws->type_count, snapshot_section,
                               false, fn, payload);
    if (rc == 0)
        rc = hollow__wflush(&b, fn, payload, true);
    hollow__buf_free(&b);
    hollow__free(all);
    ws->written = true;
    return rc;
}
