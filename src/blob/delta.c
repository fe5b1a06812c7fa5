/*
 * Applying a delta or reverse delta (blob-format.md §9) to an immutable
 * read state, which gives a new read state; the old one is never touched.
 *
 * Per type section of the delta: the schema, the shard envelope (n = the
 * target's shard count; 0 means "the current count", §14), [the global max
 * ordinal if n > 1], then n delta shards, each with its removed and added
 * shard ordinals (§1.6 gap lists) and the added records' data in the
 * snapshot shard layout, one slot per added record (§9.3).
 *
 * A shard the delta does not change (no removal, no addition, same shard
 * count) is shared with the old state. Every other shard is rebuilt: slot j
 * takes the added record if j was added, else the old record if the old
 * state held one at that ordinal (also when this delta removes it: Java
 * keeps removed records readable, unpopulated, for one more version, §9.6;
 * we call them ghosts), else it is empty. Records of the previous delta's
 * ghosts are dropped then. With a new shard count (§9.7) every shard is
 * rebuilt from the old records by global ordinal.
 *
 * Rebuilt shards are encoded with widths of our own choosing: wide enough
 * for every old and added value (the max of the widths they came with;
 * var-length offsets and collection pointers at least as wide as the real
 * totals need), so a producer whose statistics are too narrow cannot make
 * us truncate. Widths never shrink, so that most deltas keep a shard's
 * layout and take the bulk path (runs of kept records copied as they are,
 * below). Raw values, nulls and SET/MAP bucket positions are kept exactly,
 * so checksums (§12) and dumps equal Java's.
 *
 * Schemas (§3.2, §9.6): the state keeps the schemas of its starting
 * snapshot. A section for a type the state lacks is parsed and dropped.
 * OBJECT fields are matched by name: a field the delta lacks reads all-ones
 * of its old width in the records the delta adds (null, or NaN for
 * FLOAT/DOUBLE, as in Java). A section whose kind differs from the state's,
 * or a same-named field whose type differs, makes the whole delta fail
 * with HOLLOW_ECHAIN before anything is published (Java would misread).
 */
#include <string.h>

#include "blob_int.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/bits.h"
#include "common/error.h"
#include "common/parallel.h"
#include "limits.h"
#include "read/access.h"

/* ------------------------------------------------------- parsing */

typedef struct delta_shard {
    int32_t m;
    uint32_t *removed;
    size_t nremoved;
    uint32_t *added;
    size_t nadded;
    hollow__shard *data; /* the added records, slot i = i-th added */
} delta_shard;

static void delta_shard_clear(delta_shard *d)
{
    hollow__free(d->removed);
    hollow__free(d->added);
    hollow__shard_release(d->data);
    memset(d, 0, sizeof *d);
}

/* §1.6: vlong byte count, then ascending ordinals as vint gaps */
static int read_gap_list(uint32_t **out, size_t *count, hollow__reader *r,
                         const char *what)
{
    int64_t len;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_vlong(r, &len, what);
    if (rc < 0)
        return rc;
    if (len < 0)
        return hollow__error_set(HOLLOW_ECORRUPT, "negative %s length at offset "
                                 "%zu", what, at);
    const uint8_t *p;
    if ((uint64_t)len > hollow__reader_left(r))
        return hollow__reader_truncated(r, what, (size_t)len);
    at = hollow__reader_offset(r);
    if ((rc = hollow__reader_bytes(r, &p, (size_t)len, what)) < 0)
        return rc;
    uint32_t *v = hollow__calloc(len ? (size_t)len : 1, sizeof *v);
    HOLLOW_CHECK_ALLOC(v);
    size_t n = 0, i = 0;
    uint64_t prev = 0;
    while (i < (size_t)len) {
        uint32_t g;
        size_t k = hollow__vint_decode(p + i, (size_t)len - i, &g);
        if (k == 0 || (n > 0 && g == 0) || prev + g > INT32_MAX) {
            hollow__free(v);
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "%s: bad ordinal gap at offset %zu", what,
                                     at + i);
        }
        prev = n == 0 ? g : prev + g;
        v[n++] = (uint32_t)prev;
        i += k;
    }
    *out = v;
    *count = n;
    return 0;
}

static int read_delta_shard(delta_shard *d, hollow__reader *r,
                            const hollow_schema *ds)
{
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_vint(r, &d->m, "max shard ordinal");
    if (rc < 0)
        return rc;
    if (d->m < -1 || d->m > HOLLOW__LIMIT_MAX_ORDINAL)
        return hollow__error_set(HOLLOW_ECORRUPT, "max shard ordinal %d out of "
                                 "range [-1, %d] at offset %zu", (int)d->m,
                                 HOLLOW__LIMIT_MAX_ORDINAL, at);
    if ((rc = read_gap_list(&d->removed, &d->nremoved, r, "removed ordinals")) < 0 ||
        (rc = read_gap_list(&d->added, &d->nadded, r, "added ordinals")) < 0)
        return rc;
    if (d->nadded > 0 && (int64_t)d->added[d->nadded - 1] > d->m)
        return hollow__error_set(HOLLOW_ECORRUPT, "added ordinal %u beyond max "
                                 "shard ordinal %d at offset %zu",
                                 d->added[d->nadded - 1], (int)d->m, at);
    d->data = hollow__calloc(1, sizeof *d->data);
    HOLLOW_CHECK_ALLOC(d->data);
    atomic_init(&d->data->refs, 1);
    d->data->max = (int32_t)d->nadded - 1;
    return hollow__shard_read_body(d->data, r, ds);
}

/* ------------------------------------------------------ building */

/* what the rebuilt shards of one delta may still spend (limits.h); shared
 * by the threads that build them */
typedef struct budget {
    _Atomic uint64_t bytes; /* bytes allocated so far */
    _Atomic uint64_t work;  /* slot fields visited so far */
    uint64_t limit;         /* the allowance of each */
} budget;

typedef struct build {
    const hollow_type *old;  /* the state's type (its schema rules) */
    hollow_type dt;          /* view of the delta data, for accessors */
    const hollow_schema *cs; /* consumer schema */
    const hollow_schema *ds; /* delta section schema */
    int *fmap;               /* consumer field -> delta field, or -1 */
    uint32_t n, bits;        /* target shard count */
    uint64_t seen_old;       /* old populated records met while rebuilding */
    budget *bud;
    bool fast;               /* not the reference path */
    bool bulk;               /* may copy runs of old records as they are */
} build;

/*
 * Count what a rebuilt shard is about to cost against what the delta may
 * make us spend (limits.h), before the allocation or loop it pays for, so
 * that a delta that raises a max ordinal fails first. Two budgets: `bytes`
 * allocated, and slot fields visited (a rebuild visits every slot and
 * field twice whatever the widths, so records 0 or 1 bit wide could still
 * loop over 2^31 slots within the delta's bytes). Both paths charge the
 * same amounts, so they fail on the same deltas.
 */
static int spend(_Atomic uint64_t *used, uint64_t n, const build *b,
                 const char *verb, const char *unit)
{
    uint64_t limit = b->bud->limit;
    if (n > limit ||
        atomic_fetch_add_explicit(used, n, memory_order_relaxed) > limit - n)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "type %s: the delta would %s more than its "
                                 "limit of %llu %s (%u x (origin state + delta "
                                 "bytes) + %zu)",
                                 b->old->schema->name, verb,
                                 (unsigned long long)limit, unit,
                                 HOLLOW__DELTA_GROWTH, HOLLOW__DELTA_SLACK);
    return 0;
}

static int charge(build *b, uint64_t bytes)
{
    return spend(&b->bud->bytes, bytes, b, "allocate", "bytes");
}

static int charge_work(build *b, uint64_t steps)
{
    return spend(&b->bud->work, steps, b, "rebuild", "slot fields");
}

/* where slot j of the new shard gets its record from */
typedef struct src {
    const hollow__shard *s; /* NULL: empty slot */
    uint32_t j;
    bool delta;             /* s is the delta data (delta schema) */
} src;

/* the old record at global ordinal o, if the old state has one */
static bool old_record(src *out, const hollow_type *old, uint64_t o)
{
    if (o > (uint64_t)INT32_MAX || (int64_t)o > old->max_ordinal)
        return false;
    const hollow__shard *s = old->shards[o & (old->shard_count - 1)];
    uint32_t j = (uint32_t)(o >> old->shard_bits);
    if ((int64_t)j > s->max || !hollow__shard_has(s, j))
        return false;
    out->s = s;
    out->j = j;
    out->delta = false;
    return true;
}

static bool in_list(const uint32_t *v, size_t n, size_t *cursor, uint32_t j)
{
    while (*cursor < n && v[*cursor] < j)
        (*cursor)++;
    return *cursor < n && v[*cursor] == j;
}

/*
 * Walk the slots of new shard s, calling `fn` with each slot's source.
 * Populated and ghost bits are decided here too.
 */
typedef int (*slot_fn)(void *ctx, uint32_t j, const src *from);

static int walk(build *b, const delta_shard *d, uint32_t s, slot_fn fn,
                void *ctx)
{
    size_t ai = 0;
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    for (uint64_t j = 0; j < slots; j++) {
        src from = {NULL, 0, false};
        if (in_list(d->added, d->nadded, &ai, (uint32_t)j)) {
            from.s = d->data;
            from.j = (uint32_t)ai;
            from.delta = true;
        } else {
            old_record(&from, b->old, (j << b->bits) | s);
        }
        int rc = fn(ctx, (uint32_t)j, &from);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* populated and ghost bits of new shard `ns` */
static int set_bits(hollow__shard *ns, build *b, const delta_shard *d,
                    uint32_t s)
{
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint32_t words = (uint32_t)hollow__ceilw(slots);
    size_t nf = b->cs->kind == HOLLOW_SCHEMA_OBJECT ? b->cs->field_count : 0;
    int rc = charge_work(b, slots * (nf + 1));
    if (rc < 0 || (rc = charge(b, (uint64_t)(words ? words : 1) * 16)) < 0)
        return rc;
    ns->populated = hollow__calloc(words ? words : 1, sizeof(uint64_t));
    ns->ghosts = hollow__calloc(words ? words : 1, sizeof(uint64_t));
    if (ns->populated == NULL || ns->ghosts == NULL)
        return hollow__error_oom();
    ns->pop_words = ns->ghost_words = words;
    size_t ai = 0, ri = 0;
    for (uint64_t j = 0; j < slots; j++) {
        src from;
        bool was = old_record(&from, b->old, (j << b->bits) | s);
        bool removed = in_list(d->removed, d->nremoved, &ri, (uint32_t)j);
        bool added = in_list(d->added, d->nadded, &ai, (uint32_t)j);
        /* §9.1, §10.4: a record never changes in place; an ordinal is not
         * removed and added by one delta, nor added while populated */
        if (added && (removed || was))
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s: the delta %s shard ordinal %llu",
                                     b->old->schema->name,
                                     removed ? "removes and adds"
                                             : "adds the populated",
                                     (unsigned long long)j);
        if (added || (was && !removed)) {
            ns->populated[j >> 6] |= (uint64_t)1 << (j & 63);
            ns->pop_count++;
        } else if (was) {
            ns->ghosts[j >> 6] |= (uint64_t)1 << (j & 63);
        }
        if (was) /* an old record accounted for: kept, ghost or replaced */
            b->seen_old++;
    }
    return 0;
}

/* ---- bulk copies (Java's fastDelta idea) */

/*
 * With the shard count unchanged, slot j of new shard s is slot j of old
 * shard s, so runs of old records the delta keeps (populated in the old
 * shard, between added or dropped slots) keep their bit positions: when
 * the rebuilt shard has the old shard's layout, the fixed array is copied
 * whole, the runs' var-length bytes and collection elements are copied a
 * run at a time, and only their end offsets and pointers move, by what was
 * dropped and added before them. Every offset moved is checked as the
 * record-by-record path checks it; any failure makes the whole delta run
 * again on that path (apply_checked()), so errors read the same.
 */

/* shards the default path built by bulk copies and record by record
 * since start-up (tests) */
static _Atomic uint64_t g_bulk_shards, g_rebuilt_shards;

void hollow__delta_counts(uint64_t *bulk, uint64_t *rebuilt)
{
    *bulk = atomic_load(&g_bulk_shards);
    *rebuilt = atomic_load(&g_rebuilt_shards);
}

/* old shard s's slots below this may hold a record old_record() finds */
static uint64_t old_limit(const build *b, const hollow__shard *os, uint32_t s,
                          uint64_t slots)
{
    int64_t M = b->old->max_ordinal;
    if (M < (int64_t)s)
        return 0;
    uint64_t lim = (((uint64_t)M - s) >> b->bits) + 1;
    if ((int64_t)lim > (int64_t)os->max + 1)
        lim = (uint64_t)((int64_t)os->max + 1);
    return lim < slots ? lim : slots;
}

/* populated word w of the old shard, bits at and past lim cleared */
static uint64_t old_word(const hollow__shard *os, uint64_t w, uint64_t lim)
{
    if (w >= os->pop_words || w * 64 >= lim)
        return 0;
    uint64_t v = os->populated[w];
    if (lim - w * 64 < 64)
        v &= ((uint64_t)1 << (lim - w * 64)) - 1;
    return v;
}

/* the next run [*a, *e) of old records at or after slot j, below lim */
static bool next_run(const hollow__shard *os, uint64_t j, uint64_t lim,
                     uint64_t *a, uint64_t *e)
{
    while (j < lim) {
        uint64_t v = old_word(os, j >> 6, lim) >> (j & 63);
        if (v != 0) {
            j += (uint64_t)__builtin_ctzll(v);
            break;
        }
        j = ((j >> 6) + 1) * 64;
    }
    if (j >= lim)
        return false;
    *a = j;
    while (j < lim) {
        uint64_t v = ~old_word(os, j >> 6, lim) >> (j & 63);
        if (v != 0) {
            j += (uint64_t)__builtin_ctzll(v);
            break;
        }
        j = ((j >> 6) + 1) * 64;
    }
    *e = j < lim ? j : lim;
    return true;
}

/* zero bits [p, p + n) */
static void clear_bits(uint8_t *w, uint64_t p, uint64_t n)
{
    while (n > 0) {
        unsigned off = (unsigned)(p & 63);
        uint64_t take = 64 - off < n ? 64 - off : n;
        uint8_t *at = w + (p >> 6) * 8;
        uint64_t keep = ~(hollow__ones((unsigned)take) << off);
        hollow__put_be64(at, take == 64 ? 0 : hollow__be64(at) & keep);
        p += take;
        n -= take;
    }
}

/* the bulk path's start: the old shard's fixed words as far as both have
 * them, the bits past the new shard's `used` bits cleared */
static void copy_old_fixed(uint8_t *fixed, const hollow__shard *os,
                           const hollow__shard *ns, uint64_t used)
{
    uint64_t have = os->fixed_words < ns->fixed_words ? os->fixed_words
                                                      : ns->fixed_words;
    if (have > 0)
        memcpy(fixed, os->fixed, have * 8);
    if (have * 64 > used)
        clear_bits(fixed, used, have * 64 - used);
}

/* the bulk path between two kept runs: slots [from, to) of `width` bits
 * each are added records (from the delta) or empty, encoded one by one */
static int encode_gap(slot_fn fn, void *ctx, uint8_t *fixed, uint64_t width,
                      const delta_shard *d, size_t *ai, uint64_t from,
                      uint64_t to)
{
    clear_bits(fixed, from * width, (to - from) * width);
    for (uint64_t k = from; k < to; k++) {
        src sf = {NULL, 0, false};
        if (in_list(d->added, d->nadded, ai, (uint32_t)k)) {
            sf.s = d->data;
            sf.j = (uint32_t)*ai;
            sf.delta = true;
        }
        int rc = fn(ctx, (uint32_t)k, &sf);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* overwrite the b bits at p with v */
static void put_bits(uint8_t *w, uint64_t p, unsigned b, uint64_t v)
{
    clear_bits(w, p, b);
    hollow__bits_write(w, p, b, v);
}

/* copy n bits from bit s of `from` to bit d of dst, which are zero there:
 * up to d's word boundary, then whole words, then the rest */
static void copy_bits(uint8_t *dst, uint64_t d, const uint8_t *from,
                      uint64_t s, uint64_t n)
{
    unsigned off = (unsigned)(d & 63);
    if (n > 0 && off != 0) {
        uint64_t take = 64 - off < n ? 64 - off : n;
        uint8_t *at = dst + (d >> 6) * 8;
        uint64_t v = hollow__bits_read(from, s, (unsigned)take);
        hollow__put_be64(at, hollow__be64(at) | (v << off));
        d += take;
        s += take;
        n -= take;
    }
    uint64_t full = n >> 6;
    uint8_t *out = dst + (d >> 6) * 8;
    const uint8_t *in = from + (s >> 6) * 8;
    unsigned sh = (unsigned)(s & 63);
    if (sh == 0) {
        memcpy(out, in, full * 8);
    } else if (full > 0) {
        /* word i of the output spans source words i and i + 1, both
         * inside the source range */
        uint64_t cur = hollow__be64(in);
        for (uint64_t i = 0; i < full; i++) {
            uint64_t next = hollow__be64(in + (i + 1) * 8);
            hollow__put_be64(out + i * 8, (cur >> sh) | (next << (64 - sh)));
            cur = next;
        }
    }
    d += full * 64;
    s += full * 64;
    n -= full * 64;
    if (n > 0) {
        uint8_t *at = dst + (d >> 6) * 8;
        hollow__put_be64(at, hollow__be64(at) |
                                 hollow__bits_read(from, s, (unsigned)n));
    }
}

/* set_bits() for the bulk path: a word at a time, the same checks */
static int set_bits_bulk(hollow__shard *ns, build *b, const delta_shard *d,
                         uint32_t s)
{
    const hollow__shard *os = b->old->shards[s];
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint32_t words = (uint32_t)hollow__ceilw(slots);
    size_t nf = b->cs->kind == HOLLOW_SCHEMA_OBJECT ? b->cs->field_count : 0;
    int rc = charge_work(b, slots * (nf + 1));
    if (rc < 0 || (rc = charge(b, (uint64_t)(words ? words : 1) * 16)) < 0)
        return rc;
    ns->populated = hollow__calloc(words ? words : 1, sizeof(uint64_t));
    ns->ghosts = hollow__calloc(words ? words : 1, sizeof(uint64_t));
    if (ns->populated == NULL || ns->ghosts == NULL)
        return hollow__error_oom();
    ns->pop_words = ns->ghost_words = words;
    uint64_t lim = old_limit(b, os, s, slots);
    for (uint32_t w = 0; w < words; w++) {
        ns->populated[w] = old_word(os, w, lim);
        b->seen_old += (uint64_t)__builtin_popcountll(ns->populated[w]);
    }
    for (size_t i = 0; i < d->nremoved && d->removed[i] < slots; i++) {
        uint32_t j = d->removed[i];
        uint64_t bit = (uint64_t)1 << (j & 63);
        if (ns->populated[j >> 6] & bit) {
            ns->populated[j >> 6] &= ~bit;
            ns->ghosts[j >> 6] |= bit;
        }
    }
    size_t ri = 0;
    for (size_t i = 0; i < d->nadded; i++) {
        uint32_t j = d->added[i];
        uint64_t bit = (uint64_t)1 << (j & 63);
        bool removed = in_list(d->removed, d->nremoved, &ri, j);
        if (removed || (ns->populated[j >> 6] & bit))
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s: the delta %s shard ordinal %llu",
                                     b->old->schema->name,
                                     removed ? "removes and adds"
                                             : "adds the populated",
                                     (unsigned long long)j);
        ns->populated[j >> 6] |= bit;
    }
    for (uint32_t w = 0; w < words; w++)
        ns->pop_count += (uint32_t)__builtin_popcountll(ns->populated[w]);
    return 0;
}

/* ---- OBJECT */

typedef struct obj_ctx {
    build *b;
    hollow__shard *ns;
    uint8_t *fixed;
    uint8_t **var;     /* per consumer field, write position base */
    uint64_t *var_pos; /* bytes written so far */
    uint64_t *var_tot; /* pass 1: totals */
    bool pass2;
} obj_ctx;

static bool is_var(hollow_field_type t)
{
    return t == HOLLOW_FIELD_STRING || t == HOLLOW_FIELD_BYTES;
}

/* the field index in the source's schema for consumer field f, or -1 */
static int src_field(const build *b, const src *from, size_t f)
{
    return from->delta ? b->fmap[f] : (int)f;
}

static const hollow_type *src_type(build *b, const src *from)
{
    return from->delta ? &b->dt : b->old;
}

static int obj_slot(void *vctx, uint32_t j, const src *from)
{
    obj_ctx *c = vctx;
    build *b = c->b;
    hollow__shard *ns = c->ns;
    for (size_t f = 0; f < b->cs->field_count; f++) {
        hollow_field_type ft = b->cs->fields[f].type;
        int sf = from->s ? src_field(b, from, f) : -1;
        if (is_var(ft)) {
            const uint8_t *p = NULL;
            size_t len = 0;
            int rc = HOLLOW_NULL;
            if (sf >= 0) {
                rc = hollow__var_range(&p, &len, src_type(b, from), from->s,
                                       from->j, (size_t)sf);
                if (rc < 0)
                    return rc;
            }
            if (!c->pass2) {
                if (rc == 0)
                    c->var_tot[f] += len;
                continue;
            }
            uint64_t v = c->var_pos[f];
            if (rc == 0) {
                if (len > 0)
                    memcpy(c->var[f] + c->var_pos[f], p, len);
                c->var_pos[f] += len;
                v = c->var_pos[f];
            } else if (from->s != NULL) { /* null (or absent from the delta) */
                v |= (uint64_t)1 << (ns->widths[f] - 1);
            }
            hollow__bits_write(c->fixed,
                               (uint64_t)j * ns->rec_bits + ns->offsets[f],
                               ns->widths[f], v);
            continue;
        }
        if (!c->pass2 || from->s == NULL)
            continue;
        unsigned w = ns->widths[f];
        uint64_t v;
        if (sf < 0) {
            v = hollow__ones(w); /* §9.6: all-ones of the consumer's width */
        } else {
            unsigned sw = from->s->widths[sf];
            v = hollow__bits_read(from->s->fixed,
                                  (uint64_t)from->j * from->s->rec_bits +
                                      from->s->offsets[sf],
                                  sw);
            if (ft != HOLLOW_FIELD_FLOAT && ft != HOLLOW_FIELD_DOUBLE &&
                v == hollow__ones(sw))
                v = hollow__ones(w); /* null keeps meaning null */
        }
        hollow__bits_write(c->fixed, (uint64_t)j * ns->rec_bits + ns->offsets[f],
                           w, v);
    }
    return 0;
}

/* pass 1 of the bulk path: var-length totals of the old runs, then of the
 * added records (run ends checked; moves check each record) */
static int obj_totals_bulk(obj_ctx *c, const delta_shard *d, uint32_t s)
{
    build *b = c->b;
    const hollow__shard *os = b->old->shards[s];
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint64_t lim = old_limit(b, os, s, slots), j = 0, ra, re;
    size_t nf = b->cs->field_count;
    while (next_run(os, j, lim, &ra, &re)) {
        for (size_t f = 0; f < nf; f++) {
            unsigned w = os->widths[f];
            if (!is_var(b->cs->fields[f].type) || w == 0)
                continue;
            uint64_t mask = hollow__ones(w - 1);
            uint64_t s0 = ra == 0 ? 0
                                  : hollow__field_raw(os, (uint32_t)ra - 1, f) &
                                        mask;
            uint64_t e0 = hollow__field_raw(os, (uint32_t)re - 1, f) & mask;
            if (s0 > e0 || e0 > os->var_len[f])
                return hollow__error_set(HOLLOW_ECORRUPT,
                                         "type %s field %s: var-length offsets "
                                         "%llu..%llu outside buffer of %llu bytes",
                                         b->cs->name, b->cs->fields[f].name,
                                         (unsigned long long)s0,
                                         (unsigned long long)e0,
                                         (unsigned long long)os->var_len[f]);
            c->var_tot[f] += e0 - s0;
        }
        j = re;
    }
    for (size_t i = 0; i < d->nadded; i++) {
        src from = {d->data, (uint32_t)i, true};
        int rc = obj_slot(c, d->added[i], &from);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* move var-length field f of old run [ra, re): its bytes, its end offsets */
static int obj_move_var(obj_ctx *c, const hollow__shard *os, size_t f,
                        uint64_t ra, uint64_t re)
{
    hollow__shard *ns = c->ns;
    unsigned w = ns->widths[f];
    uint64_t mask = hollow__ones(w - 1), nul = (uint64_t)1 << (w - 1);
    uint64_t R = ns->rec_bits, at = ns->offsets[f];
    uint64_t s0 =
        ra == 0 ? 0 : hollow__field_raw(os, (uint32_t)ra - 1, f) & mask;
    uint64_t prev = s0, shift = c->var_pos[f] - s0; /* modulo 2^64 */
    for (uint64_t k = ra; k < re; k++) {
        uint64_t raw = hollow__bits_read(os->fixed, k * R + at, w);
        uint64_t end = raw & mask;
        /* a null holds no bytes: the other path would drop them */
        if (end < prev || end > os->var_len[f] || ((raw & nul) && end != prev))
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s field %s: var-length offsets "
                                     "%llu..%llu outside buffer of %llu bytes",
                                     c->b->cs->name, c->b->cs->fields[f].name,
                                     (unsigned long long)prev,
                                     (unsigned long long)end,
                                     (unsigned long long)os->var_len[f]);
        prev = end;
        if (shift != 0)
            put_bits(c->fixed, k * R + at, w, raw + shift);
    }
    uint64_t len = prev - s0;
    if (len > ns->var_len[f] - c->var_pos[f])
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s field %s: var-length "
                                 "bytes beyond their total",
                                 c->b->cs->name, c->b->cs->fields[f].name);
    if (len > 0)
        memcpy(c->var[f] + c->var_pos[f], os->var[f] + s0, len);
    c->var_pos[f] += len;
    return 0;
}

/* pass 2 of the bulk path: the old fixed array copied whole, runs moved,
 * the other slots encoded one by one */
static int obj_copy_bulk(obj_ctx *c, const delta_shard *d, uint32_t s)
{
    build *b = c->b;
    hollow__shard *ns = c->ns;
    const hollow__shard *os = b->old->shards[s];
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint64_t R = ns->rec_bits, lim = old_limit(b, os, s, slots);
    copy_old_fixed(c->fixed, os, ns, slots * R);
    size_t nf = b->cs->field_count, ai = 0;
    uint64_t j = 0;
    for (;;) {
        uint64_t ra, re;
        bool more = next_run(os, j, lim, &ra, &re);
        if (!more)
            ra = re = slots;
        if (ra > j) { /* added or empty slots */
            int rc = encode_gap(obj_slot, c, c->fixed, R, d, &ai, j, ra);
            if (rc < 0)
                return rc;
        }
        if (!more)
            return 0;
        for (size_t f = 0; f < nf; f++) {
            int rc = is_var(b->cs->fields[f].type)
                         ? obj_move_var(c, os, f, ra, re)
                         : 0;
            if (rc < 0)
                return rc;
        }
        j = re;
    }
}

/* the record layout of a rebuilt OBJECT shard, from pass 1's totals */
static void obj_layout(hollow__shard *ns, build *b, const delta_shard *d,
                       const uint64_t *var_tot)
{
    const hollow_schema *cs = b->cs;
    ns->rec_bits = 0;
    for (size_t f = 0; f < cs->field_count; f++) {
        /* never narrower than the old shards, so widths stay put and
         * the bulk path can run */
        unsigned w = 0;
        for (uint32_t os = 0; os < b->old->shard_count; os++)
            if (b->old->shards[os]->widths != NULL &&
                b->old->shards[os]->widths[f] > w)
                w = b->old->shards[os]->widths[f];
        if (is_var(cs->fields[f].type)) {
            if (hollow__bitlen(var_tot[f]) + 1 > w)
                w = hollow__bitlen(var_tot[f]) + 1;
        } else if (b->fmap[f] >= 0 && d->data->widths[b->fmap[f]] > w) {
            w = d->data->widths[b->fmap[f]];
        }
        if (w > 64)
            w = 64;
        ns->widths[f] = (uint8_t)w;
        ns->offsets[f] = ns->rec_bits;
        ns->rec_bits += w;
    }
}

static bool obj_same_layout(const hollow__shard *ns, const hollow__shard *os,
                            size_t nf)
{
    if (os->widths == NULL || os->offsets == NULL ||
        os->rec_bits != ns->rec_bits)
        return false;
    for (size_t f = 0; f < nf; f++)
        if (os->widths[f] != ns->widths[f] || os->offsets[f] != ns->offsets[f])
            return false;
    return true;
}

static int build_object(hollow__shard *ns, build *b, const delta_shard *d,
                        uint32_t s)
{
    const hollow_schema *cs = b->cs;
    size_t nf = cs->field_count, cap = nf ? nf : 1;
    obj_ctx c = {b, ns, NULL, NULL, NULL, NULL, false};
    bool bulk = b->bulk;
    ns->widths = hollow__calloc(cap, 1);
    ns->offsets = hollow__calloc(cap, sizeof *ns->offsets);
    ns->var = hollow__calloc(cap, sizeof *ns->var);
    ns->var_len = hollow__calloc(cap, sizeof *ns->var_len);
    c.var = hollow__calloc(cap, sizeof *c.var);
    c.var_pos = hollow__calloc(cap, sizeof *c.var_pos);
    c.var_tot = hollow__calloc(cap, sizeof *c.var_tot);
    int rc = 0;
    if (!ns->widths || !ns->offsets || !ns->var || !ns->var_len || !c.var ||
        !c.var_pos || !c.var_tot) {
        rc = hollow__error_oom();
        goto done;
    }
    /* pass 1: var-length totals */
    rc = bulk ? obj_totals_bulk(&c, d, s) : walk(b, d, s, obj_slot, &c);
    if (rc < 0)
        goto done;
    obj_layout(ns, b, d, c.var_tot);
    if (bulk && !obj_same_layout(ns, b->old->shards[s], nf)) {
        /* widths change: every record is re-encoded */
        bulk = false;
        memset(c.var_tot, 0, cap * sizeof *c.var_tot);
        if ((rc = walk(b, d, s, obj_slot, &c)) < 0)
            goto done;
        obj_layout(ns, b, d, c.var_tot);
    }
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    ns->fixed_words = hollow__ceilw(slots * ns->rec_bits);
    uint64_t total = ns->fixed_words * 8;
    for (size_t f = 0; f < nf; f++)
        total += c.var_tot[f];
    if ((rc = charge(b, total)) < 0)
        goto done;
    uint8_t *block = hollow__calloc(total ? total : 1, 1);
    if (block == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    hollow__prefault(block, total); /* every record is written */
    ns->block = block;
    ns->fixed = c.fixed = block;
    uint8_t *p = block + ns->fixed_words * 8;
    for (size_t f = 0; f < nf; f++) {
        if (!is_var(cs->fields[f].type))
            continue;
        c.var[f] = p;
        ns->var[f] = p;
        ns->var_len[f] = c.var_tot[f];
        p += c.var_tot[f];
    }
    /* pass 2: encode */
    c.pass2 = true;
    rc = bulk ? obj_copy_bulk(&c, d, s) : walk(b, d, s, obj_slot, &c);
    if (rc == 0 && b->fast)
        atomic_fetch_add_explicit(bulk ? &g_bulk_shards : &g_rebuilt_shards, 1,
                                  memory_order_relaxed);
done:
    hollow__free(c.var);
    hollow__free(c.var_pos);
    hollow__free(c.var_tot);
    return rc;
}

/* ---- LIST, SET, MAP */

typedef struct coll_ctx {
    build *b;
    hollow__shard *ns;
    uint64_t total;  /* elements / buckets so far */
    bool pass2;
} coll_ctx;

/* the element/bucket range of a source record, checked */
static int src_range(uint64_t *start, uint64_t *end, uint32_t *size,
                     const hollow_type *t, const hollow__shard *s, uint32_t j)
{
    bool list = t->schema->kind == HOLLOW_SCHEMA_LIST;
    unsigned P = s->ptr_bits, Z = list ? 0 : s->size_bits;
    uint64_t entry = (uint64_t)P + Z;
    *end = hollow__bits_read(s->fixed, j * entry, P);
    *start = j == 0 ? 0 : hollow__bits_read(s->fixed, (j - 1) * entry, P);
    *size = list ? 0 : (uint32_t)hollow__bits_read(s->fixed, j * entry + P, Z);
    unsigned bits = t->schema->kind == HOLLOW_SCHEMA_MAP
                        ? (unsigned)s->elem_bits + s->value_bits
                        : s->elem_bits;
    uint64_t cap = bits ? s->elem_words * 64 / bits : 0;
    if (*start > *end || *end > cap)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s: pointers %llu..%llu outside an array "
                                 "of %llu entries",
                                 t->schema->name, (unsigned long long)*start,
                                 (unsigned long long)*end,
                                 (unsigned long long)cap);
    return 0;
}

static int coll_slot(void *vctx, uint32_t j, const src *from)
{
    coll_ctx *c = vctx;
    build *b = c->b;
    hollow__shard *ns = c->ns;
    hollow_schema_kind kind = b->cs->kind;
    uint64_t start = 0, end = 0;
    uint32_t size = 0;
    if (from->s != NULL) {
        int rc = src_range(&start, &end, &size, src_type(b, from), from->s,
                           from->j);
        if (rc < 0)
            return rc;
    }
    if (!c->pass2) {
        c->total += end - start;
        return 0;
    }
    const hollow__shard *ss = from->s;
    uint8_t *elems = (uint8_t *)ns->elems;
    for (uint64_t i = start; i < end; i++, c->total++) {
        if (kind == HOLLOW_SCHEMA_MAP) {
            uint64_t sw = (uint64_t)ss->elem_bits + ss->value_bits;
            uint64_t k = hollow__bits_read(ss->elems, i * sw, ss->elem_bits);
            uint64_t v = hollow__bits_read(ss->elems, i * sw + ss->elem_bits,
                                           ss->value_bits);
            if (k == hollow__ones(ss->elem_bits)) {
                k = hollow__ones(ns->elem_bits);
                v = 0;
            }
            uint64_t dw = (uint64_t)ns->elem_bits + ns->value_bits;
            hollow__bits_write(elems, c->total * dw, ns->elem_bits, k);
            hollow__bits_write(elems, c->total * dw + ns->elem_bits,
                               ns->value_bits, v);
        } else {
            uint64_t e = hollow__bits_read(ss->elems, i * ss->elem_bits,
                                           ss->elem_bits);
            if (kind == HOLLOW_SCHEMA_SET && e == hollow__ones(ss->elem_bits))
                e = hollow__ones(ns->elem_bits);
            hollow__bits_write(elems, c->total * ns->elem_bits, ns->elem_bits, e);
        }
    }
    uint64_t entry = (uint64_t)ns->ptr_bits + ns->size_bits;
    uint8_t *fixed = (uint8_t *)ns->fixed;
    hollow__bits_write(fixed, j * entry, ns->ptr_bits, c->total);
    if (kind != HOLLOW_SCHEMA_LIST)
        hollow__bits_write(fixed, j * entry + ns->ptr_bits, ns->size_bits, size);
    return 0;
}

static uint8_t max_width(const build *b, const delta_shard *d, size_t which)
{
    uint8_t w = 0;
    for (uint32_t s = 0; s <= b->old->shard_count; s++) {
        const hollow__shard *sh = s < b->old->shard_count ? b->old->shards[s]
                                                          : d->data;
        uint8_t v = which == 0 ? sh->elem_bits
                    : which == 1 ? sh->value_bits
                                 : sh->size_bits;
        if (v > w)
            w = v;
    }
    return w;
}

/* entries the element array of old shard os holds (src_range()) */
static uint64_t coll_cap(const build *b, const hollow__shard *os)
{
    unsigned bits = b->cs->kind == HOLLOW_SCHEMA_MAP
                        ? (unsigned)os->elem_bits + os->value_bits
                        : os->elem_bits;
    return bits ? os->elem_words * 64 / bits : 0;
}

static uint64_t coll_ptr(const build *b, const hollow__shard *s, uint64_t j)
{
    unsigned Z = b->cs->kind == HOLLOW_SCHEMA_LIST ? 0 : s->size_bits;
    return hollow__bits_read(s->fixed, j * ((uint64_t)s->ptr_bits + Z),
                             s->ptr_bits);
}

/* pass 1 of the bulk path: entries of the old runs and the added records */
static int coll_totals_bulk(coll_ctx *c, const delta_shard *d, uint32_t s)
{
    build *b = c->b;
    const hollow__shard *os = b->old->shards[s];
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint64_t lim = old_limit(b, os, s, slots), j = 0, ra, re;
    uint64_t cap = coll_cap(b, os);
    while (next_run(os, j, lim, &ra, &re)) {
        uint64_t s0 = ra == 0 ? 0 : coll_ptr(b, os, ra - 1);
        uint64_t e0 = coll_ptr(b, os, re - 1);
        if (s0 > e0 || e0 > cap)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s: pointers %llu..%llu outside an "
                                     "array of %llu entries",
                                     b->cs->name, (unsigned long long)s0,
                                     (unsigned long long)e0,
                                     (unsigned long long)cap);
        c->total += e0 - s0;
        j = re;
    }
    for (size_t i = 0; i < d->nadded; i++) {
        src from = {d->data, (uint32_t)i, true};
        int rc = coll_slot(c, d->added[i], &from);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* move old run [ra, re): its elements, then its pointers */
static int coll_move(coll_ctx *c, const hollow__shard *os, uint64_t ra,
                     uint64_t re)
{
    build *b = c->b;
    hollow__shard *ns = c->ns;
    unsigned P = ns->ptr_bits;
    uint64_t entry = (uint64_t)P + ns->size_bits;
    uint64_t bw = b->cs->kind == HOLLOW_SCHEMA_MAP
                      ? (uint64_t)ns->elem_bits + ns->value_bits
                      : ns->elem_bits;
    uint64_t cap = coll_cap(b, os);
    uint64_t s0 = ra == 0 ? 0 : coll_ptr(b, os, ra - 1);
    uint64_t prev = s0, shift = c->total - s0; /* modulo 2^64 */
    for (uint64_t k = ra; k < re; k++) {
        uint64_t end = hollow__bits_read(os->fixed, k * entry, P);
        if (end < prev || end > cap)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s: pointers %llu..%llu outside an "
                                     "array of %llu entries",
                                     b->cs->name, (unsigned long long)prev,
                                     (unsigned long long)end,
                                     (unsigned long long)cap);
        prev = end;
        if (shift != 0)
            put_bits((uint8_t *)ns->fixed, k * entry, P, end + shift);
    }
    if (prev - s0 > ns->total - c->total)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: elements beyond "
                                 "their total", b->cs->name);
    copy_bits((uint8_t *)ns->elems, c->total * bw, os->elems, s0 * bw,
              (prev - s0) * bw);
    c->total += prev - s0;
    return 0;
}

/* pass 2 of the bulk path (obj_copy_bulk()'s shape) */
static int coll_copy_bulk(coll_ctx *c, const delta_shard *d, uint32_t s)
{
    build *b = c->b;
    hollow__shard *ns = c->ns;
    const hollow__shard *os = b->old->shards[s];
    uint8_t *fixed = (uint8_t *)ns->fixed;
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint64_t entry = (uint64_t)ns->ptr_bits + ns->size_bits;
    uint64_t lim = old_limit(b, os, s, slots);
    copy_old_fixed(fixed, os, ns, slots * entry);
    size_t ai = 0;
    uint64_t j = 0;
    for (;;) {
        uint64_t ra, re;
        bool more = next_run(os, j, lim, &ra, &re);
        if (!more)
            ra = re = slots;
        if (ra > j) { /* added or empty slots */
            int rc = encode_gap(coll_slot, c, fixed, entry, d, &ai, j, ra);
            if (rc < 0)
                return rc;
        }
        if (!more)
            return 0;
        int rc = coll_move(c, os, ra, re);
        if (rc < 0)
            return rc;
        j = re;
    }
}

/* pointer width: enough for `total`, never narrower than the old shards */
static uint8_t ptr_width(const build *b, uint64_t total)
{
    unsigned w = hollow__bitlen(total);
    for (uint32_t s = 0; s < b->old->shard_count; s++)
        if (b->old->shards[s]->ptr_bits > w)
            w = b->old->shards[s]->ptr_bits;
    return (uint8_t)w;
}

static bool coll_same_layout(const hollow__shard *ns, const hollow__shard *os)
{
    return ns->ptr_bits == os->ptr_bits && ns->size_bits == os->size_bits &&
           ns->elem_bits == os->elem_bits && ns->value_bits == os->value_bits;
}

static int build_collection(hollow__shard *ns, build *b, const delta_shard *d,
                            uint32_t s)
{
    coll_ctx c = {b, ns, 0, false};
    bool bulk = b->bulk;
    int rc = bulk ? coll_totals_bulk(&c, d, s) : walk(b, d, s, coll_slot, &c);
    if (rc < 0)
        return rc;
    hollow_schema_kind kind = b->cs->kind;
    ns->elem_bits = max_width(b, d, 0);
    if (kind == HOLLOW_SCHEMA_MAP)
        ns->value_bits = max_width(b, d, 1);
    if (kind != HOLLOW_SCHEMA_LIST)
        ns->size_bits = max_width(b, d, 2);
    ns->ptr_bits = ptr_width(b, c.total);
    if (bulk && !coll_same_layout(ns, b->old->shards[s])) {
        /* widths change: every record is re-encoded */
        bulk = false;
        c.total = 0;
        if ((rc = walk(b, d, s, coll_slot, &c)) < 0)
            return rc;
        ns->ptr_bits = ptr_width(b, c.total);
    }
    ns->total = c.total;
    uint64_t slots = (uint64_t)((int64_t)d->m + 1);
    uint64_t entry = (uint64_t)ns->ptr_bits + ns->size_bits;
    uint64_t bw = kind == HOLLOW_SCHEMA_MAP
                      ? (uint64_t)ns->elem_bits + ns->value_bits
                      : ns->elem_bits;
    ns->fixed_words = hollow__ceilw(slots * entry);
    ns->elem_words = hollow__ceilw(c.total * bw);
    uint64_t total = (ns->fixed_words + ns->elem_words) * 8;
    if ((rc = charge(b, total)) < 0)
        return rc;
    uint8_t *block = hollow__calloc(total ? total : 1, 1);
    HOLLOW_CHECK_ALLOC(block);
    hollow__prefault(block, total); /* every record is written */
    ns->block = block;
    ns->fixed = block;
    ns->elems = block + ns->fixed_words * 8;
    c.total = 0;
    c.pass2 = true;
    rc = bulk ? coll_copy_bulk(&c, d, s) : walk(b, d, s, coll_slot, &c);
    if (rc == 0 && b->fast)
        atomic_fetch_add_explicit(bulk ? &g_bulk_shards : &g_rebuilt_shards, 1,
                                  memory_order_relaxed);
    return rc;
}

static int build_shard(hollow__shard **out, build *b, const delta_shard *d,
                       uint32_t s)
{
    size_t nf = b->cs->kind == HOLLOW_SCHEMA_OBJECT ? b->cs->field_count : 0;
    int rc = charge(b, sizeof(hollow__shard) + (nf ? nf : 1) * 21);
    if (rc < 0)
        return rc;
    hollow__shard *ns = hollow__calloc(1, sizeof *ns);
    HOLLOW_CHECK_ALLOC(ns);
    atomic_init(&ns->refs, 1);
    ns->max = d->m;
    rc = b->bulk ? set_bits_bulk(ns, b, d, s) : set_bits(ns, b, d, s);
    if (rc >= 0)
        rc = b->cs->kind == HOLLOW_SCHEMA_OBJECT ? build_object(ns, b, d, s)
                                                 : build_collection(ns, b, d, s);
    if (rc < 0) {
        hollow__shard_release(ns);
        return rc;
    }
    *out = ns;
    return 0;
}

/* ------------------------------------------------------- sections */

/* §9.6: refuse a section that the state's schema cannot take */
static int map_fields(int **out, const hollow_schema *cs, const hollow_schema *ds)
{
    if (cs->kind != ds->kind)
        return hollow__error_set(HOLLOW_ECHAIN,
                                 "type %s changes kind in the delta; load a "
                                 "snapshot",
                                 cs->name);
    size_t nf = cs->field_count;
    int *m = hollow__calloc(nf ? nf : 1, sizeof *m);
    HOLLOW_CHECK_ALLOC(m);
    for (size_t f = 0; f < nf; f++) {
        m[f] = hollow_schema_field_index(ds, cs->fields[f].name);
        if (m[f] < 0)
            continue;
        const hollow__field *df = &ds->fields[m[f]];
        if (df->type != cs->fields[f].type ||
            (df->type == HOLLOW_FIELD_REFERENCE &&
             strcmp(df->ref_type, cs->fields[f].ref_type) != 0)) {
            hollow__free(m);
            return hollow__error_set(HOLLOW_ECHAIN,
                                     "field %s.%s changes type in the delta; "
                                     "load a snapshot",
                                     cs->name, cs->fields[f].name);
        }
    }
    *out = m;
    return 0;
}

/* one type section of the delta */
typedef struct section {
    hollow_type *nt;          /* the new state's copy of the type, or NULL */
    const hollow_type *old;   /* the state's type, or NULL (parse and drop) */
    hollow_schema *ds;        /* the section's schema */
    build b;                  /* what each of its rebuilt shards starts from */
    hollow__shard **shards;   /* the new shards, once built */
    uint32_t n;               /* target shard count */
    int32_t M;                /* target max ordinal */
    uint64_t seen_old;        /* old populated records accounted for */
    size_t index;             /* in apply()'s list, which may move */
} section;

/* one shard to rebuild */
typedef struct job {
    section *sec;             /* set from sec_index once the list is whole */
    size_t sec_index;
    uint32_t s;
    delta_shard d;
    uint64_t seen_old;
} job;

typedef hollow__array(job) job_list;

static void section_clear(section *sec)
{
    if (sec->shards != NULL) {
        for (uint32_t s = 0; s < sec->n; s++)
            hollow__shard_release(sec->shards[s]);
        hollow__free(sec->shards);
    }
    hollow__free(sec->b.fmap);
    hollow_schema_free(sec->ds);
    memset(sec, 0, sizeof *sec);
}

/* build one shard; its delta data is freed as soon as it is built */
static int run_job(job *jb)
{
    section *sec = jb->sec;
    build b = sec->b;
    b.seen_old = 0;
    b.dt.shards = &jb->d.data;
    b.dt.max_ordinal = jb->d.data->max;
    int rc = build_shard(&sec->shards[jb->s], &b, &jb->d, jb->s);
    if (rc < 0)
        hollow__error_prefix("type %s shard %u", sec->ds->name, jb->s);
    jb->seen_old = b.seen_old;
    delta_shard_clear(&jb->d);
    return rc;
}

static int job_task(void *ctx, size_t i)
{
    return run_job(&((job *)ctx)[i]);
}

/* Jobs queued before a batch runs: what they hold (delta shard headers)
 * stays a small constant times the delta's bytes. */
#define BATCH_JOBS 1024

/* run the queued jobs on up to `threads` threads and empty the queue */
static int run_batch(job_list *jobs, section *secs, unsigned threads)
{
    for (size_t j = 0; j < jobs->n; j++)
        jobs->v[j].sec = &secs[jobs->v[j].sec_index];
    int rc = hollow__parallel_for(jobs->n > 1 ? threads : 1, jobs->n, job_task,
                                  jobs->v);
    for (size_t j = 0; j < jobs->n; j++) {
        jobs->v[j].sec->seen_old += jobs->v[j].seen_old;
        delta_shard_clear(&jobs->v[j].d); /* those skipped after a failure */
    }
    jobs->n = 0;
    return rc;
}

/*
 * Parse one type section into `sec` (sec->ds, old and nt set). Shards the
 * delta changes are built at once when `jobs` is NULL, else queued there.
 */
static int apply_section(section *sec, hollow__reader *r, job_list *jobs)
{
    const hollow_type *old = sec->old;
    const hollow_schema *ds = sec->ds;
    uint32_t n;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__blob_shard_envelope(&n, r);
    if (rc < 0)
        return rc;
    if (n == 0) /* §14: 7.10.0 reverse deltas; means the current count */
        n = old ? old->shard_count : 1;
    if (n > hollow__reader_left(r) / HOLLOW__MIN_SHARD_BYTES)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: shard count %u at "
                                 "offset %zu", ds->name, n, at);
    int32_t M = -1;
    if (n > 1 && (rc = hollow__blob_max_ordinal(&M, r, ds->name)) < 0)
        return rc;
    build *b = &sec->b;
    bool reshard = old != NULL && n != old->shard_count;
    if (old != NULL) {
        b->old = old;
        b->cs = old->schema;
        b->ds = ds;
        b->n = n;
        b->bits = (uint32_t)__builtin_ctz(n);
        b->fast = jobs != NULL;
        b->bulk = b->fast && !reshard;
        if ((rc = map_fields(&b->fmap, old->schema, ds)) < 0)
            return rc;
        b->dt.schema = (hollow_schema *)ds;
        b->dt.shard_count = 1;
        if ((sec->shards = hollow__calloc(n, sizeof *sec->shards)) == NULL)
            return hollow__error_oom();
        sec->n = n;
    }
    for (uint32_t s = 0; s < n; s++) {
        job jb = {sec, sec->index, s, {0}, 0};
        if ((rc = read_delta_shard(&jb.d, r, ds)) < 0) {
            hollow__error_prefix("type %s shard %u", ds->name, s);
            goto fail;
        }
        if (n > 1 && jb.d.m > hollow__max_shard_ordinal(M, n, s)) {
            rc = hollow__error_set(HOLLOW_ECORRUPT, "type %s shard %u: %d slots "
                                   "exceed max ordinal %d", ds->name, s,
                                   (int)jb.d.m + 1, (int)M);
            goto fail;
        }
        if (n == 1)
            M = jb.d.m;
        if (old != NULL) {
            const delta_shard *d = &jb.d;
            /* removals beyond the new slots are accounted for here */
            for (size_t i = d->nremoved; i-- > 0 && (int64_t)d->removed[i] > d->m;) {
                src unused;
                if (old_record(&unused, old,
                               ((uint64_t)d->removed[i] << b->bits) | s))
                    sec->seen_old++;
            }
            if (!reshard && d->nremoved == 0 && d->nadded == 0) {
                hollow__shard_retain(old->shards[s]); /* untouched: share */
                sec->shards[s] = old->shards[s];
                sec->seen_old += old->shards[s]->pop_count;
            } else if (jobs != NULL) {
                job *q = hollow__array_push(jobs, 16);
                if (q == NULL) {
                    rc = HOLLOW_ENOMEM;
                    goto fail;
                }
                *q = jb;
                continue; /* the job owns the delta data now */
            } else {
                rc = run_job(&jb);
                sec->seen_old += jb.seen_old;
                if (rc < 0)
                    goto fail;
            }
        }
        delta_shard_clear(&jb.d);
        continue;
    fail:
        delta_shard_clear(&jb.d);
        return rc;
    }
    sec->M = M;
    return 0;
}

/* check a section's built shards and give them to the new state's type */
static int finish_section(section *sec)
{
    const hollow_type *old = sec->old;
    /* every old record was kept or removed: none fell outside the slots */
    if (old != NULL && sec->seen_old != old->count)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: %llu populated records "
                                 "have no slot after the delta", sec->ds->name,
                                 (unsigned long long)(old->count - sec->seen_old));
    hollow_type *nt = sec->nt;
    if (nt != NULL) {
        for (uint32_t s = 0; s < nt->shard_count; s++)
            hollow__shard_release(nt->shards[s]);
        hollow__free(nt->shards);
        nt->shards = sec->shards;
        sec->shards = NULL;
        nt->shard_count = sec->n;
        nt->shard_bits = (uint32_t)__builtin_ctz(sec->n);
        nt->max_ordinal = sec->M;
        nt->count = 0;
        for (uint32_t s = 0; s < sec->n; s++)
            nt->count += nt->shards[s]->pop_count;
    }
    return 0;
}

/*
 * The origin state's size for the delta's allowance (limits.h): what its
 * shards hold, whether on the heap or in a mapping (hollow_read_state_memory
 * counts only the heap).
 */
static uint64_t origin_size(const hollow_read_state *rs)
{
    uint64_t n = sizeof *rs;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = &rs->types[i];
        size_t nf = t->schema->kind == HOLLOW_SCHEMA_OBJECT
                        ? t->schema->field_count : 0;
        n += sizeof *t + (uint64_t)t->shard_count * sizeof(void *);
        for (uint32_t s = 0; s < t->shard_count; s++) {
            const hollow__shard *sh = t->shards[s];
            if (s > 0 && sh == t->shards[s - 1])
                continue; /* a shared empty shard */
            n += sizeof *sh + (uint64_t)(sh->pop_words + sh->ghost_words) * 8 +
                 (sh->fixed_words + sh->elem_words) * 8;
            for (size_t f = 0; f < nf && sh->var_len != NULL; f++)
                n += sh->var_len[f];
        }
    }
    return n;
}

/* a new state that shares every type of rs */
static int copy_state(hollow_read_state **out, const hollow_read_state *rs)
{
    hollow_read_state *ns;
    int rc = hollow__read_state_alloc(&ns, rs->type_count);
    if (rc < 0)
        return rc;
    ns->mode = rs->mode;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = &rs->types[i];
        hollow_type *nt = &ns->types[i];
        if ((rc = hollow__schema_clone(&nt->schema, t->schema)) < 0)
            goto fail;
        ns->type_count = i + 1;
        nt->shards = hollow__calloc(t->shard_count, sizeof *nt->shards);
        if (nt->shards == NULL) {
            rc = hollow__error_oom();
            goto fail;
        }
        nt->shard_count = t->shard_count;
        nt->shard_bits = t->shard_bits;
        nt->max_ordinal = t->max_ordinal;
        nt->count = t->count;
        for (uint32_t s = 0; s < t->shard_count; s++) {
            hollow__shard_retain(t->shards[s]);
            nt->shards[s] = t->shards[s];
        }
    }
    if ((rc = hollow__read_state_index(ns)) < 0)
        goto fail;
    *out = ns;
    return 0;
fail:
    hollow_read_state_release(ns);
    return rc;
}

/*
 * One application. `fast`: parse every section first, then build the
 * changed shards on up to `threads` threads, copying runs of old records
 * in bulk where the layout allows. Else build each section's shards as it
 * is parsed, record by record, on this thread: the reference path, whose
 * errors are the ones reported.
 */
static int apply(hollow_read_state **out, const hollow_read_state *rs,
                 const uint8_t *data, size_t len, bool fast, unsigned threads)
{
    hollow__reader r;
    hollow__blob_header h;
    hollow_read_state *ns = NULL;
    bool *seen = NULL;
    hollow__array(section) secs = HOLLOW__ARRAY_INIT;
    section one;
    job_list jobs = HOLLOW__ARRAY_INIT;
    int rc;

    memset(&one, 0, sizeof one);
    *out = NULL;
    hollow__reader_init(&r, data, len, 0);
    if ((rc = hollow__blob_header_read(&h, &r)) < 0)
        return rc;
    if (h.origin_tag != rs->tag) {
        rc = hollow__error_set(HOLLOW_ECHAIN,
                               "delta starts from randomized tag %lld, the state "
                               "has %lld",
                               (long long)h.origin_tag, (long long)rs->tag);
        goto done;
    }
    uint32_t k;
    if ((rc = hollow__reader_count(&r, &k,
                                   (uint32_t)(hollow__reader_left(&r) /
                                              HOLLOW__MIN_SECTION_BYTES),
                                   "type count")) < 0 ||
        (rc = copy_state(&ns, rs)) < 0)
        goto done;
    budget bud;
    atomic_init(&bud.bytes, 0);
    atomic_init(&bud.work, 0);
    bud.limit = HOLLOW__DELTA_GROWTH * (origin_size(rs) + len) +
                HOLLOW__DELTA_SLACK;
    seen = hollow__calloc(rs->type_count ? rs->type_count : 1, sizeof *seen);
    if (seen == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    unsigned t = hollow__threads_or_cores(threads);
    for (uint32_t i = 0; i < k; i++) {
        size_t at = hollow__reader_offset(&r);
        section *sec = &one;
        if (fast && (sec = hollow__array_push(&secs, 16)) == NULL) {
            rc = HOLLOW_ENOMEM;
            goto done;
        }
        memset(sec, 0, sizeof *sec);
        sec->index = fast ? secs.n - 1 : 0;
        sec->b.bud = &bud;
        if ((rc = hollow__schema_read(&sec->ds, &r)) < 0)
            goto done;
        const hollow_type *old = hollow_read_state_type(rs, sec->ds->name);
        if (old != NULL) {
            size_t idx = (size_t)(old - rs->types);
            if (seen[idx]) {
                rc = hollow__error_set(HOLLOW_ECORRUPT, "second section for "
                                       "type %s at offset %zu", sec->ds->name,
                                       at);
                goto done;
            }
            seen[idx] = true;
            sec->old = old;
            sec->nt = &ns->types[idx];
        }
        if ((rc = apply_section(sec, &r, fast ? &jobs : NULL)) < 0)
            goto done;
        if (!fast) {
            if ((rc = finish_section(sec)) < 0)
                goto done;
            section_clear(sec);
        } else if (sec->old == NULL) { /* parsed and dropped: no jobs */
            section_clear(sec);
            secs.n--;
        } else if (jobs.n >= BATCH_JOBS &&
                   (rc = run_batch(&jobs, secs.v, t)) < 0) {
            goto done;
        }
    }
    if ((rc = hollow__blob_check_end(&r)) < 0)
        goto done;
    if (fast) {
        if ((rc = run_batch(&jobs, secs.v, t)) < 0)
            goto done;
        for (size_t i = 0; i < secs.n; i++)
            if ((rc = finish_section(&secs.v[i])) < 0)
                goto done;
    }
    hollow__blob_header_move_tags(ns, &h);
done:
    for (size_t j = 0; j < jobs.n; j++)
        delta_shard_clear(&jobs.v[j].d);
    hollow__array_free(&jobs);
    for (size_t i = 0; i < secs.n; i++)
        section_clear(&secs.v[i]);
    hollow__array_free(&secs);
    section_clear(&one);
    hollow__free(seen);
    hollow__blob_header_clear(&h);
    return hollow__blob_state_done(out, ns, rc);
}

int hollow__delta_apply(hollow_read_state **out, const hollow_read_state *rs,
                        const uint8_t *data, size_t len, unsigned threads)
{
    int rc = apply(out, rs, data, len, true, threads);
    if (rc < 0) /* again, on the path whose errors users know */
        rc = apply(out, rs, data, len, false, 1);
    return rc;
}

int hollow__delta_apply_reference(hollow_read_state **out,
                                  const hollow_read_state *rs,
                                  const uint8_t *data, size_t len)
{
    return apply(out, rs, data, len, false, 1);
}
