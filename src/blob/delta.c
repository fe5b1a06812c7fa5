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
 * var-length offsets from the real byte total), so a producer whose
 * statistics are too narrow cannot make us truncate. Raw values, nulls and
 * SET/MAP bucket positions are kept exactly, so checksums (§12) and dumps
 * equal Java's.
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
#include "common/bits.h"
#include "common/error.h"
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

typedef struct build {
    const hollow_type *old;  /* the state's type (its schema rules) */
    hollow_type dt;          /* view of the delta data, for accessors */
    const hollow_schema *cs; /* consumer schema */
    const hollow_schema *ds; /* delta section schema */
    int *fmap;               /* consumer field -> delta field, or -1 */
    uint32_t n, bits;        /* target shard count */
    uint64_t seen_old;       /* old populated records met while rebuilding */
    uint64_t *left;          /* bytes rebuilt shards may still allocate */
    uint64_t *work_left;     /* slot fields they may still visit */
    uint64_t limit;          /* the whole allowance, for the message */
} build;

/*
 * Count what a rebuilt shard is about to cost against what the delta may
 * make us spend (limits.h), before the allocation or loop it pays for, so
 * that a delta that raises a max ordinal fails first. Two budgets: `bytes`
 * allocated, and slot fields visited (a rebuild visits every slot and
 * field twice whatever the widths, so records 0 or 1 bit wide could still
 * loop over 2^31 slots within the delta's bytes).
 */
static int spend(uint64_t *left, uint64_t n, const build *b, const char *verb,
                 const char *unit)
{
    if (n > *left)
        return hollow__error_set(HOLLOW_ERANGE,
                                 "type %s: the delta would %s more than its "
                                 "limit of %llu %s (%u x (origin state + delta "
                                 "bytes) + %zu)",
                                 b->old->schema->name, verb,
                                 (unsigned long long)b->limit, unit,
                                 HOLLOW__DELTA_GROWTH, HOLLOW__DELTA_SLACK);
    *left -= n;
    return 0;
}

static int charge(build *b, uint64_t bytes)
{
    return spend(b->left, bytes, b, "allocate", "bytes");
}

static int charge_work(build *b, uint64_t steps)
{
    return spend(b->work_left, steps, b, "rebuild", "slot fields");
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

static int build_object(hollow__shard *ns, build *b, const delta_shard *d,
                        uint32_t s)
{
    const hollow_schema *cs = b->cs;
    size_t nf = cs->field_count, cap = nf ? nf : 1;
    obj_ctx c = {b, ns, NULL, NULL, NULL, NULL, false};
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
    if ((rc = walk(b, d, s, obj_slot, &c)) < 0)
        goto done;
    for (size_t f = 0; f < nf; f++) {
        unsigned w;
        if (is_var(cs->fields[f].type)) {
            w = hollow__bitlen(c.var_tot[f]) + 1;
        } else {
            w = 0;
            for (uint32_t os = 0; os < b->old->shard_count; os++)
                if (b->old->shards[os]->widths != NULL &&
                    b->old->shards[os]->widths[f] > w)
                    w = b->old->shards[os]->widths[f];
            if (b->fmap[f] >= 0 && d->data->widths[b->fmap[f]] > w)
                w = d->data->widths[b->fmap[f]];
        }
        if (w > 64)
            w = 64;
        ns->widths[f] = (uint8_t)w;
        ns->offsets[f] = ns->rec_bits;
        ns->rec_bits += w;
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
    rc = walk(b, d, s, obj_slot, &c);
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

static int build_collection(hollow__shard *ns, build *b, const delta_shard *d,
                            uint32_t s)
{
    coll_ctx c = {b, ns, 0, false};
    int rc = walk(b, d, s, coll_slot, &c);
    if (rc < 0)
        return rc;
    hollow_schema_kind kind = b->cs->kind;
    ns->elem_bits = max_width(b, d, 0);
    if (kind == HOLLOW_SCHEMA_MAP)
        ns->value_bits = max_width(b, d, 1);
    if (kind != HOLLOW_SCHEMA_LIST)
        ns->size_bits = max_width(b, d, 2);
    ns->ptr_bits = (uint8_t)hollow__bitlen(c.total);
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
    ns->block = block;
    ns->fixed = block;
    ns->elems = block + ns->fixed_words * 8;
    c.total = 0;
    c.pass2 = true;
    return walk(b, d, s, coll_slot, &c);
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
    rc = set_bits(ns, b, d, s);
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

/*
 * One type section. `nt` is the new state's copy of the type (sharing the
 * old shards), or NULL if the state lacks the type (parse and drop).
 */
static int apply_section(hollow_type *nt, const hollow_type *old,
                         const hollow_schema *ds, hollow__reader *r,
                         uint64_t *left, uint64_t *work_left, uint64_t limit)
{
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
    build b;
    memset(&b, 0, sizeof b);
    hollow__shard **shards = NULL;
    delta_shard d;
    memset(&d, 0, sizeof d);
    if (old != NULL) {
        b.old = old;
        b.cs = old->schema;
        b.ds = ds;
        b.n = n;
        b.bits = (uint32_t)__builtin_ctz(n);
        b.left = left;
        b.work_left = work_left;
        b.limit = limit;
        if ((rc = map_fields(&b.fmap, old->schema, ds)) < 0)
            return rc;
        b.dt.schema = (hollow_schema *)ds;
        b.dt.shard_count = 1;
        shards = hollow__calloc(n, sizeof *shards);
        if (shards == NULL) {
            rc = hollow__error_oom();
            goto done;
        }
    }
    bool reshard = old != NULL && n != old->shard_count;
    for (uint32_t s = 0; s < n; s++) {
        if ((rc = read_delta_shard(&d, r, ds)) < 0) {
            hollow__error_prefix("type %s shard %u", ds->name, s);
            goto done;
        }
        if (n > 1 && d.m > hollow__max_shard_ordinal(M, n, s)) {
            rc = hollow__error_set(HOLLOW_ECORRUPT, "type %s shard %u: %d slots "
                                   "exceed max ordinal %d", ds->name, s,
                                   (int)d.m + 1, (int)M);
            goto done;
        }
        if (n == 1)
            M = d.m;
        if (old != NULL) {
            /* removals beyond the new slots are accounted for here */
            for (size_t i = d.nremoved; i-- > 0 && (int64_t)d.removed[i] > d.m;) {
                src unused;
                if (old_record(&unused, old,
                               ((uint64_t)d.removed[i] << b.bits) | s))
                    b.seen_old++;
            }
            b.dt.shards = &d.data;
            b.dt.max_ordinal = d.data->max;
            if (!reshard && d.nremoved == 0 && d.nadded == 0) {
                hollow__shard_retain(old->shards[s]); /* untouched: share */
                shards[s] = old->shards[s];
                b.seen_old += old->shards[s]->pop_count;
            } else if ((rc = build_shard(&shards[s], &b, &d, s)) < 0) {
                hollow__error_prefix("type %s shard %u", ds->name, s);
                goto done;
            }
        }
        delta_shard_clear(&d);
    }
    /* every old record was kept or removed: none fell outside the slots */
    if (old != NULL && b.seen_old != old->count) {
        rc = hollow__error_set(HOLLOW_ECORRUPT, "type %s: %llu populated records "
                               "have no slot after the delta", ds->name,
                               (unsigned long long)(old->count - b.seen_old));
        goto done;
    }
    if (nt != NULL) {
        for (uint32_t s = 0; s < nt->shard_count; s++)
            hollow__shard_release(nt->shards[s]);
        hollow__free(nt->shards);
        nt->shards = shards;
        shards = NULL;
        nt->shard_count = n;
        nt->shard_bits = (uint32_t)__builtin_ctz(n);
        nt->max_ordinal = M;
        nt->count = 0;
        for (uint32_t s = 0; s < n; s++)
            nt->count += nt->shards[s]->pop_count;
    }
done:
    delta_shard_clear(&d);
    if (shards != NULL) {
        for (uint32_t s = 0; s < n; s++)
            hollow__shard_release(shards[s]);
        hollow__free(shards);
    }
    hollow__free(b.fmap);
    return rc;
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

int hollow__delta_apply(hollow_read_state **out, const hollow_read_state *rs,
                        const uint8_t *data, size_t len)
{
    hollow__reader r;
    hollow__blob_header h;
    hollow_read_state *ns = NULL;
    hollow_schema *ds = NULL;
    bool *seen = NULL;
    int rc;

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
    uint64_t limit = HOLLOW__DELTA_GROWTH * (origin_size(rs) + len) +
                     HOLLOW__DELTA_SLACK;
    uint64_t left = limit, work_left = limit;
    seen = hollow__calloc(rs->type_count ? rs->type_count : 1, sizeof *seen);
    if (seen == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    for (uint32_t i = 0; i < k; i++) {
        size_t at = hollow__reader_offset(&r);
        if ((rc = hollow__schema_read(&ds, &r)) < 0)
            goto done;
        const hollow_type *old = hollow_read_state_type(rs, ds->name);
        hollow_type *nt = NULL;
        if (old != NULL) {
            size_t idx = (size_t)(old - rs->types);
            if (seen[idx]) {
                rc = hollow__error_set(HOLLOW_ECORRUPT, "second section for "
                                       "type %s at offset %zu", ds->name, at);
                goto done;
            }
            seen[idx] = true;
            nt = &ns->types[idx];
        }
        if ((rc = apply_section(nt, old, ds, &r, &left, &work_left, limit)) < 0)
            goto done;
        hollow_schema_free(ds);
        ds = NULL;
    }
    if ((rc = hollow__blob_check_end(&r)) < 0)
        goto done;
    hollow__blob_header_move_tags(ns, &h);
done:
    hollow_schema_free(ds);
    hollow__free(seen);
    hollow__blob_header_clear(&h);
    return hollow__blob_state_done(out, ns, rc);
}
