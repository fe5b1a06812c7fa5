/*
 * Snapshot decoding (blob-format.md §3, §5-§8).
 *
 * A snapshot is the header, then per type: its schema, the shard envelope,
 * [the global max ordinal if n > 1], n shard sections and the populated bit
 * set by global ordinal. Shard sections are parsed into hollow__shard
 * structs whose arrays point at the blob's bytes, which stay where they are
 * (the loaded buffer or the mapped file, kept by reference); without one,
 * each shard's arrays are copied into a block of their own.
 *
 * What is checked here, once: every count against the bytes left (so no
 * allocation exceeds what the blob could justify), widths <= 64, packed
 * arrays long enough for their slots, populated ordinals within their
 * shard's slots. What is checked later, per access: var-length offsets and
 * collection pointers (cheap compares), so loading stays a copy.
 */
#include <string.h>

#include "blob_int.h"
#include "common/alloc.h"
#include "common/bits.h"
#include "common/error.h"
#include "common/hash.h"
#include "limits.h"

/* ------------------------------------------------------------ shards */

static int read_width(uint8_t *out, hollow__reader *r, const char *what)
{
    uint32_t w;
    int rc = hollow__reader_count(r, &w, 64, what);
    if (rc == 0)
        *out = (uint8_t)w;
    return rc;
}

/* a packed array: count (vint or vlong, same bytes) then count words */
static int read_words(const uint8_t **out, uint64_t *words, hollow__reader *r,
                      uint64_t min_bits, const char *what)
{
    int64_t n;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_vlong(r, &n, what);
    if (rc < 0)
        return rc;
    if (n < 0 || (uint64_t)n > hollow__reader_left(r) / 8)
        return n < 0 ? hollow__error_set(HOLLOW_ECORRUPT,
                                         "negative word count for %s at offset "
                                         "%zu",
                                         what, at)
                     : hollow__reader_truncated(r, what,
                                                (size_t)((uint64_t)n * 8));
    if ((uint64_t)n < hollow__ceilw(min_bits))
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "%s has %lld words, needs %llu at offset %zu",
                                 what, (long long)n,
                                 (unsigned long long)hollow__ceilw(min_bits), at);
    *words = (uint64_t)n;
    return hollow__reader_bytes(r, out, (size_t)n * 8, what);
}

static int read_object_shard(hollow__shard *s, hollow__reader *r,
                             const hollow_schema *schema)
{
    size_t nf = schema->field_count;
    size_t cap = nf ? nf : 1;
    s->widths = hollow__calloc(cap, 1);
    s->offsets = hollow__calloc(cap, sizeof *s->offsets);
    s->var = hollow__calloc(cap, sizeof *s->var);
    s->var_len = hollow__calloc(cap, sizeof *s->var_len);
    if (!s->widths || !s->offsets || !s->var || !s->var_len)
        return hollow__error_oom();
    int rc;
    for (size_t f = 0; f < nf; f++) {
        if ((rc = read_width(&s->widths[f], r, "field width")) < 0)
            return rc;
        s->offsets[f] = s->rec_bits;
        s->rec_bits += s->widths[f];
    }
    uint64_t slots = (uint64_t)((int64_t)s->max + 1);
    if ((rc = read_words(&s->fixed, &s->fixed_words, r, slots * s->rec_bits,
                         "fixed-length record data")) < 0)
        return rc;
    for (size_t f = 0; f < nf; f++) {
        int64_t len;
        size_t at = hollow__reader_offset(r);
        if ((rc = hollow__reader_vlong(r, &len, "var-length buffer length")) < 0)
            return rc;
        if (len < 0)
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "negative var-length buffer length at "
                                     "offset %zu",
                                     at);
        if ((uint64_t)len > hollow__reader_left(r))
            return hollow__reader_truncated(r, "var-length buffer", (size_t)len);
        const uint8_t *p;
        if ((rc = hollow__reader_bytes(r, &p, (size_t)len,
                                       "var-length buffer")) < 0)
            return rc;
        hollow_field_type ft = schema->fields[f].type;
        if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES) {
            s->var[f] = p;
            s->var_len[f] = (uint64_t)len;
        }
    }
    return 0;
}

static int read_collection_shard(hollow__shard *s, hollow__reader *r,
                                 hollow_schema_kind kind)
{
    int rc;
    int64_t total;
    if ((rc = read_width(&s->ptr_bits, r, "pointer width")) < 0)
        return rc;
    if (kind != HOLLOW_SCHEMA_LIST &&
        (rc = read_width(&s->size_bits, r, "size width")) < 0)
        return rc;
    if ((rc = read_width(&s->elem_bits, r,
                         kind == HOLLOW_SCHEMA_MAP ? "key width"
                                                   : "element width")) < 0)
        return rc;
    if (kind == HOLLOW_SCHEMA_MAP &&
        (rc = read_width(&s->value_bits, r, "value width")) < 0)
        return rc;
    size_t at = hollow__reader_offset(r);
    if ((rc = hollow__reader_vlong(r, &total, "element total")) < 0)
        return rc;
    if (total < 0)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "negative element total at offset %zu", at);
    s->total = (uint64_t)total;
    uint64_t slots = (uint64_t)((int64_t)s->max + 1);
    uint64_t entry = (uint64_t)s->ptr_bits + s->size_bits;
    if ((rc = read_words(&s->fixed, &s->fixed_words, r, slots * entry,
                         "pointer array")) < 0)
        return rc;
    return read_words(&s->elems, &s->elem_words, r, 0,
                      kind == HOLLOW_SCHEMA_LIST ? "element array"
                                                 : "bucket array");
}

int hollow__shard_read_body(hollow__shard *s, hollow__reader *r,
                            const hollow_schema *schema)
{
    if (schema->kind == HOLLOW_SCHEMA_OBJECT)
        return read_object_shard(s, r, schema);
    return read_collection_shard(s, r, schema->kind);
}

int hollow__shard_read_snapshot(hollow__shard **out, hollow__reader *r,
                                const hollow_schema *schema)
{
    *out = NULL;
    hollow__shard *s = hollow__calloc(1, sizeof *s);
    HOLLOW_CHECK_ALLOC(s);
    atomic_init(&s->refs, 1);
    int32_t m;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__reader_vint(r, &m, "max shard ordinal");
    if (rc < 0)
        goto done;
    if (m < -1 || m > HOLLOW__LIMIT_MAX_ORDINAL) {
        rc = hollow__error_set(HOLLOW_ECORRUPT,
                               "max shard ordinal %d out of range [-1, %d] "
                               "at offset %zu",
                               (int)m, HOLLOW__LIMIT_MAX_ORDINAL, at);
        goto done;
    }
    s->max = m;
    rc = hollow__shard_read_body(s, r, schema);
done:
    if (rc < 0) {
        hollow__shard_release(s);
        return rc;
    }
    *out = s;
    return 0;
}

int hollow__shard_materialize(hollow__shard *s, const hollow_schema *schema)
{
    if (s->block != NULL)
        return 0; /* a shared shard, already copied */
    size_t total = (size_t)(s->fixed_words * 8 + s->elem_words * 8);
    size_t nf = schema->kind == HOLLOW_SCHEMA_OBJECT ? schema->field_count : 0;
    for (size_t f = 0; f < nf; f++)
        total += (size_t)s->var_len[f];
    uint8_t *block = hollow__malloc(total ? total : 1);
    HOLLOW_CHECK_ALLOC(block);
    hollow__prefault(block, total); /* filled all over below */
    uint8_t *p = block;
    /* empty arrays point at a static empty array, never into the input */
    static const uint8_t empty[8];
#define MOVE(ptr, n)                                                           \
    do {                                                                       \
        if ((n) > 0) {                                                         \
            memcpy(p, (ptr), (n));                                             \
            (ptr) = p;                                                         \
            p += (n);                                                          \
        } else {                                                               \
            (ptr) = empty;                                                     \
        }                                                                      \
    } while (0)
    MOVE(s->fixed, (size_t)s->fixed_words * 8);
    MOVE(s->elems, (size_t)s->elem_words * 8);
    for (size_t f = 0; f < nf; f++)
        MOVE(s->var[f], (size_t)s->var_len[f]);
#undef MOVE
    s->block = block;
    return 0;
}

/* ---------------------------------------------------------- types */

/*
 * The populated bit set (§1.7) by global ordinal, split into per-shard bit
 * sets by shard ordinal. A populated ordinal must have a slot.
 */
static int read_populated(hollow_type *t, hollow__reader *r)
{
    uint32_t nwords;
    size_t at;
    int rc = hollow__reader_count_i32(r, &nwords, "populated bit set length");
    if (rc < 0)
        return rc;
    const uint8_t *w;
    if ((size_t)nwords > hollow__reader_left(r) / 8)
        return hollow__reader_truncated(r, "populated bit set",
                                        (size_t)nwords * 8);
    at = hollow__reader_offset(r);
    if ((rc = hollow__reader_bytes(r, &w, (size_t)nwords * 8,
                                   "populated bit set")) < 0)
        return rc;
    uint32_t n = t->shard_count, mask = n - 1, bits = t->shard_bits;
    int64_t *top = hollow__calloc(n, sizeof *top);
    HOLLOW_CHECK_ALLOC(top);
    for (uint32_t s = 0; s < n; s++)
        top[s] = -1;
    /* pass 1: bounds and per-shard sizes */
    for (uint32_t i = 0; i < nwords; i++) {
        uint64_t word = hollow__be64(w + (size_t)i * 8);
        while (word) {
            int b = __builtin_ctzll(word);
            word &= word - 1;
            int64_t o = (int64_t)i * 64 + b;
            uint32_t s = (uint32_t)o & mask;
            int64_t j = o >> bits;
            if (o > t->max_ordinal || j > t->shards[s]->max) {
                hollow__free(top);
                return hollow__error_set(HOLLOW_ECORRUPT,
                                         "type %s: populated ordinal %lld has "
                                         "no slot (bit set at offset %zu)",
                                         t->schema->name, (long long)o, at);
            }
            top[s] = j;
        }
    }
    for (uint32_t s = 0; s < n; s++) {
        hollow__shard *sh = t->shards[s];
        if (sh->populated != NULL)
            continue; /* the shared empty shard, done once */
        sh->pop_words = (uint32_t)hollow__ceilw((uint64_t)(top[s] + 1));
        sh->populated =
            hollow__calloc(sh->pop_words ? sh->pop_words : 1, sizeof(uint64_t));
        if (sh->populated == NULL) {
            hollow__free(top);
            return hollow__error_oom();
        }
    }
    hollow__free(top);
    /* pass 2: set the bits */
    uint32_t count = 0;
    for (uint32_t i = 0; i < nwords; i++) {
        uint64_t word = hollow__be64(w + (size_t)i * 8);
        while (word) {
            int b = __builtin_ctzll(word);
            word &= word - 1;
            uint64_t o = (uint64_t)i * 64 + (uint64_t)b;
            hollow__shard *sh = t->shards[o & mask];
            uint64_t j = o >> bits;
            sh->populated[j >> 6] |= (uint64_t)1 << (j & 63);
            sh->pop_count++;
            count++;
        }
    }
    t->count = count;
    return 0;
}

/*
 * One type section of a snapshot into t (whose schema is set by the caller).
 * Shards without slots are shared as soon as they are read, so that a blob
 * of many empty shards costs a pointer each; shards with slots cost a
 * struct and arrays each, and `with_slots` counts down how many more the
 * blob may have (limits.h).
 */
static int read_type_section(hollow_type *t, hollow__reader *r,
                             const hollow__blob_source *src,
                             uint64_t *with_slots)
{
    uint32_t n;
    size_t at = hollow__reader_offset(r);
    int rc = hollow__blob_shard_envelope(&n, r);
    if (rc < 0)
        return rc;
    if (n == 0 || n > hollow__reader_left(r) / HOLLOW__MIN_SHARD_BYTES)
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s: shard count %u invalid at offset %zu "
                                 "(each shard takes %d bytes or more)",
                                 t->schema->name, n, at,
                                 HOLLOW__MIN_SHARD_BYTES);
    t->shard_count = n;
    t->shard_bits = (uint32_t)__builtin_ctz(n);
    t->shards = hollow__calloc(n, sizeof *t->shards);
    HOLLOW_CHECK_ALLOC(t->shards);
    int32_t M = -1;
    if (n > 1 && (rc = hollow__blob_max_ordinal(&M, r, t->schema->name)) < 0)
        return rc;
    hollow__shard *empty = NULL;
    for (uint32_t s = 0; s < n; s++) {
        if ((rc = hollow__shard_read_snapshot(&t->shards[s], r, t->schema)) < 0)
            return hollow__error_prefix("type %s shard %u", t->schema->name, s);
        if (n > 1 && t->shards[s]->max > hollow__max_shard_ordinal(M, n, s))
            return hollow__error_set(HOLLOW_ECORRUPT,
                                     "type %s shard %u: %d slots exceed max "
                                     "ordinal %d",
                                     t->schema->name, s,
                                     (int)t->shards[s]->max + 1, (int)M);
        if (t->shards[s]->max != -1) {
            if (*with_slots == 0)
                return hollow__error_set(
                    HOLLOW_ERANGE,
                    "type %s shard %u: over the limit of shards with slots "
                    "for a blob of %zu bytes (%u + one per %u bytes)",
                    t->schema->name, s, src->len, HOLLOW__LIMIT_SLOT_SHARDS,
                    HOLLOW__BYTES_PER_SLOT_SHARD);
            (*with_slots)--;
            continue;
        }
        if (empty == NULL) {
            empty = t->shards[s];
        } else {
            hollow__shard_release(t->shards[s]);
            hollow__shard_retain(empty);
            t->shards[s] = empty;
        }
    }
    t->max_ordinal = n == 1 ? t->shards[0]->max : M;
    if ((rc = read_populated(t, r)) < 0)
        return rc;
    for (uint32_t s = 0; s < n; s++) {
        hollow__shard *sh = t->shards[s];
        if (sh == empty && s > 0 && t->shards[s - 1] == empty)
            continue; /* done once */
        if (src->mapping == NULL) {
            if ((rc = hollow__shard_materialize(sh, t->schema)) < 0)
                return rc;
        } else if (sh->mapping == NULL) {
            hollow__mapping_retain(src->mapping);
            sh->mapping = src->mapping;
        }
    }
    return 0;
}

/* a shard with no slots and zeroed arrays for `nf` fields */
static int make_empty_shard(hollow__shard **out, size_t nf)
{
    hollow__shard *s = hollow__calloc(1, sizeof *s);
    HOLLOW_CHECK_ALLOC(s);
    atomic_init(&s->refs, 1);
    s->max = -1;
    size_t cap = nf ? nf : 1;
    s->widths = hollow__calloc(cap, 1);
    s->offsets = hollow__calloc(cap, sizeof *s->offsets);
    s->var = hollow__calloc(cap, sizeof *s->var);
    s->var_len = hollow__calloc(cap, sizeof *s->var_len);
    s->populated = hollow__calloc(1, sizeof(uint64_t));
    if (!s->widths || !s->offsets || !s->var || !s->var_len || !s->populated) {
        hollow__shard_release(s);
        return hollow__error_oom();
    }
    *out = s;
    return 0;
}

/*
 * An empty type: one shard with no slots. Every such type of a state shares
 * `empty` (arrays sized for the widest of them), so that a header listing
 * many types without sections costs a pointer per type, not a shard.
 */
static int make_empty_type(hollow_type *t, hollow__shard *empty)
{
    t->shard_count = 1;
    t->shard_bits = 0;
    t->max_ordinal = -1;
    t->shards = hollow__calloc(1, sizeof *t->shards);
    HOLLOW_CHECK_ALLOC(t->shards);
    hollow__shard_retain(empty);
    t->shards[0] = empty;
    return 0;
}

/*
 * Type names to indexes while loading: open addressing over an array of
 * named things (the state's types, or the header's schemas), so that a blob
 * of many types loads in linear time. The hash is seeded from the table's
 * address (ASLR) so that a blob cannot be crafted to collide.
 */
typedef const char *(*name_of_fn)(const void *items, size_t i);

typedef struct name_index {
    uint32_t *slots; /* item index + 1; 0 is empty */
    size_t mask;
    uint32_t seed;
    const void *items;
    name_of_fn name_of;
} name_index;

static const char *type_name_of(const void *items, size_t i)
{
    return ((const hollow_type *)items)[i].schema->name;
}

static const char *schema_name_of(const void *items, size_t i)
{
    return ((hollow_schema *const *)items)[i]->name;
}

static int name_index_init(name_index *ix, size_t n, const void *items,
                           name_of_fn name_of)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    ix->slots = hollow__calloc(cap, sizeof *ix->slots);
    HOLLOW_CHECK_ALLOC(ix->slots);
    ix->mask = cap - 1;
    ix->seed = hollow__hash_long((uint64_t)(uintptr_t)ix->slots);
    ix->items = items;
    ix->name_of = name_of;
    return 0;
}

static size_t name_slot(const name_index *ix, const char *name)
{
    size_t i = hollow__murmur_seeded((const uint8_t *)name, strlen(name),
                                     ix->seed) & ix->mask;
    while (ix->slots[i] != 0 &&
           strcmp(ix->name_of(ix->items, ix->slots[i] - 1), name) != 0)
        i = (i + 1) & ix->mask;
    return i;
}

/* the index of the item named `name`, or -1 */
static int find_name(const name_index *ix, const char *name)
{
    return (int)ix->slots[name_slot(ix, name)] - 1;
}

/* index item i (whose name is not in yet) */
static void add_name(name_index *ix, size_t i)
{
    ix->slots[name_slot(ix, ix->name_of(ix->items, i))] = (uint32_t)i + 1;
}

/*
 * The type filter: the named types and, transitively, every type they
 * reference. keep[i] for h->schemas[i]. A work list over a name index, so
 * that it is linear in the schemas and their references.
 */
static int filter_types(bool *keep, const hollow__blob_header *h,
                        const char *const *names)
{
    size_t n = h->schema_count, top = 0;
    name_index ix;
    int rc = name_index_init(&ix, n, h->schemas, schema_name_of);
    if (rc < 0)
        return rc;
    size_t *work = hollow__calloc(n ? n : 1, sizeof *work);
    if (work == NULL) {
        hollow__free(ix.slots);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < n; i++) {
        keep[i] = false;
        if (find_name(&ix, h->schemas[i]->name) >= 0) {
            rc = hollow__error_set(HOLLOW_ECORRUPT,
                                   "type %s listed twice in the header",
                                   h->schemas[i]->name);
            goto done;
        }
        add_name(&ix, i);
    }
    for (size_t k = 0; names[k] != NULL; k++) {
        int j = find_name(&ix, names[k]);
        if (j >= 0 && !keep[j]) {
            keep[j] = true;
            work[top++] = (size_t)j;
        }
    }
    while (top > 0) {
        const hollow_schema *s = h->schemas[work[--top]];
        for (size_t r = 0; r < 2 + s->field_count; r++) {
            const char *ref = r == 0   ? s->elem_type
                              : r == 1 ? s->value_type
                                       : s->fields[r - 2].ref_type;
            int j = ref != NULL ? find_name(&ix, ref) : -1;
            if (j >= 0 && !keep[j]) {
                keep[j] = true;
                work[top++] = (size_t)j;
            }
        }
    }
done:
    hollow__free(work);
    hollow__free(ix.slots);
    return rc;
}

/*
 * Each shard of a loaded type once: its shards without slots are one
 * shared shard (read_type_section). `*empty` starts NULL for each type.
 */
static bool first_use(const hollow__shard *sh, const hollow__shard **empty)
{
    if (sh->max != -1)
        return true;
    if (sh == *empty)
        return false;
    *empty = sh;
    return true;
}

static size_t shard_array_bytes(const hollow__shard *s, const hollow_schema *schema)
{
    size_t n = (size_t)(s->fixed_words + s->elem_words) * 8;
    if (schema->kind == HOLLOW_SCHEMA_OBJECT)
        for (size_t f = 0; f < schema->field_count; f++)
            n += (size_t)s->var_len[f];
    return n;
}

/* a pointer into `from` to the same offset of `to` */
#define REBASE(p, from, to) ((p) = (p) != NULL ? (to) + ((p) - (from)) : NULL)

/*
 * Heap mode, once the snapshot parsed: the shards point into m, the loaded
 * buffer, or, when m has no bytes yet, into the caller's `data`, which is
 * now copied into a buffer of m's own (only now: a blob that fails costs no
 * copy). Keeping the buffer is worth it while the state uses most of it;
 * when it does not (a type filter, sections the header does not list), the
 * shards are copied out and the buffer goes.
 */
static int settle_buffer(hollow_read_state *rs, hollow__mapping *m,
                         const uint8_t *data)
{
    size_t used = 0;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = &rs->types[i];
        const hollow__shard *empty = NULL;
        for (uint32_t s = 0; s < t->shard_count; s++)
            if (t->shards[s]->mapping == m && first_use(t->shards[s], &empty))
                used += shard_array_bytes(t->shards[s], t->schema);
    }
    if (used < m->len / 2) {
        for (size_t i = 0; i < rs->type_count; i++) {
            hollow_type *t = &rs->types[i];
            for (uint32_t s = 0; s < t->shard_count; s++) {
                hollow__shard *sh = t->shards[s];
                if (sh->mapping != m)
                    continue; /* not in it, or a shared shard already done */
                HOLLOW_TRY(hollow__shard_materialize(sh, t->schema));
                sh->mapping = NULL;
                hollow__mapping_release(m);
            }
        }
        return 0;
    }
    if (m->addr != NULL)
        return 0;
    void *base;
    size_t size;
    uint8_t *copy = hollow__malloc_huge(m->len, &base, &size);
    HOLLOW_CHECK_ALLOC(copy);
    hollow__prefault(copy, m->len); /* the memcpy fills it all */
    if (m->len > 0)
        memcpy(copy, data, m->len);
    for (size_t i = 0; i < rs->type_count; i++) {
        hollow_type *t = &rs->types[i];
        size_t nf = t->schema->kind == HOLLOW_SCHEMA_OBJECT
                        ? t->schema->field_count : 0;
        const hollow__shard *empty = NULL;
        for (uint32_t s = 0; s < t->shard_count; s++) {
            hollow__shard *sh = t->shards[s];
            if (sh->mapping != m || !first_use(sh, &empty))
                continue;
            REBASE(sh->fixed, data, copy);
            REBASE(sh->elems, data, copy);
            for (size_t f = 0; f < nf; f++)
                REBASE(sh->var[f], data, copy);
        }
    }
    m->addr = copy;
    m->base = base;
    m->base_len = size;
    return 0;
}

#undef REBASE

/* a copy of `p` (n bytes) on the heap, or NULL for NULL */
static int dup_array(void *out, const void *p, size_t n)
{
    void *d = NULL;
    if (p != NULL) {
        d = hollow__malloc(n ? n : 1);
        HOLLOW_CHECK_ALLOC(d);
        memcpy(d, p, n);
    }
    memcpy(out, &d, sizeof d);
    return 0;
}

/* a private copy of s whose arrays are on the heap, in no buffer */
static int clone_out(hollow__shard **out, const hollow__shard *s,
                     const hollow_schema *schema)
{
    hollow__shard *c = hollow__malloc(sizeof *c);
    HOLLOW_CHECK_ALLOC(c);
    memcpy(c, s, sizeof *c);
    atomic_init(&c->refs, 1);
    c->populated = NULL;
    c->ghosts = NULL;
    c->widths = NULL;
    c->offsets = NULL;
    c->var = NULL;
    c->var_len = NULL;
    c->block = NULL;
    c->mapping = NULL;
    size_t nf = schema->kind == HOLLOW_SCHEMA_OBJECT ? schema->field_count : 0;
    size_t cap = nf ? nf : 1;
    int rc;
    if ((rc = dup_array(&c->populated, s->populated,
                        (size_t)s->pop_words * 8)) < 0 ||
        (rc = dup_array(&c->ghosts, s->ghosts, (size_t)s->ghost_words * 8)) < 0 ||
        (rc = dup_array(&c->widths, s->widths, cap)) < 0 ||
        (rc = dup_array(&c->offsets, s->offsets, cap * sizeof *s->offsets)) < 0 ||
        (rc = dup_array(&c->var, s->var, cap * sizeof *s->var)) < 0 ||
        (rc = dup_array(&c->var_len, s->var_len, cap * sizeof *s->var_len)) < 0 ||
        (rc = hollow__shard_materialize(c, schema)) < 0) {
        hollow__shard_release(c);
        return rc;
    }
    *out = c;
    return 0;
}

int hollow__read_state_settle(hollow_read_state *rs)
{
    for (size_t i = 0; i < rs->type_count; i++) {
        for (uint32_t s = 0; s < rs->types[i].shard_count; s++) {
            hollow__mapping *m = rs->types[i].shards[s]->mapping;
            if (m == NULL || m->base == NULL)
                continue;
            size_t used = 0;
            for (size_t j = 0; j < rs->type_count; j++) {
                const hollow_type *t = &rs->types[j];
                const hollow__shard *empty = NULL;
                for (uint32_t k = 0; k < t->shard_count; k++)
                    if (t->shards[k]->mapping == m &&
                        first_use(t->shards[k], &empty))
                        used += shard_array_bytes(t->shards[k], t->schema);
            }
            if (used >= m->len / 2)
                return 0; /* the buffer stays, and is the only one */
            for (size_t j = i; j < rs->type_count; j++) {
                hollow_type *t = &rs->types[j];
                hollow__shard *from = NULL, *to = NULL;
                for (uint32_t k = 0; k < t->shard_count; k++) {
                    hollow__shard *sh = t->shards[k];
                    if (sh->mapping != m)
                        continue;
                    if (sh != from) {
                        from = sh;
                        HOLLOW_TRY(clone_out(&to, sh, t->schema));
                    } else {
                        hollow__shard_retain(to);
                    }
                    t->shards[k] = to;
                    hollow__shard_release(sh);
                }
            }
        }
    }
    return 0;
}

int hollow__snapshot_read(hollow_read_state **out, const hollow__blob_source *src)
{
    hollow__reader r;
    hollow__blob_header h;
    hollow_read_state *rs = NULL;
    bool *seen = NULL;
    hollow_schema *sec_schema = NULL;
    hollow__shard *empty = NULL;
    name_index names;
    memset(&names, 0, sizeof names);
    hollow_type scratch;
    memset(&scratch, 0, sizeof scratch);
    int rc;

    *out = NULL;
    hollow__reader_init(&r, src->data, src->len, 0);
    if ((rc = hollow__blob_header_read(&h, &r)) < 0)
        return rc;
    uint32_t k;
    size_t at0 = hollow__reader_offset(&r);
    if ((rc = hollow__reader_count(&r, &k, INT32_MAX, "type count")) < 0)
        goto done;
    if (k > hollow__reader_left(&r) / HOLLOW__MIN_SECTION_BYTES) {
        rc = hollow__error_set(HOLLOW_ECORRUPT, "type count %u at offset %zu: "
                               "%zu bytes left, a section takes %d or more", k,
                               at0, hollow__reader_left(&r),
                               HOLLOW__MIN_SECTION_BYTES);
        goto done;
    }
    if (k > HOLLOW__LIMIT_TYPES) {
        rc = hollow__error_set(HOLLOW_ERANGE, "type count %u over the limit of "
                               "%u types per blob at offset %zu", k,
                               HOLLOW__LIMIT_TYPES, at0);
        goto done;
    }
    uint64_t with_slots = HOLLOW__LIMIT_SLOT_SHARDS +
                          src->len / HOLLOW__BYTES_PER_SLOT_SHARD;
    /* §3.2: the header's schema list is the state's type list; a pre-2.2
     * header has none, and then the sections define the types */
    size_t ntypes = h.has_schemas ? h.schema_count : k;
    if ((rc = hollow__read_state_alloc(&rs, ntypes)) < 0 ||
        (rc = name_index_init(&names, ntypes, rs->types, type_name_of)) < 0)
        goto done;
    hollow__blob_header_move_tags(rs, &h);
    seen = hollow__calloc(ntypes ? ntypes : 1, sizeof *seen);
    if (seen == NULL) {
        rc = hollow__error_oom();
        goto done;
    }
    size_t filled = 0;
    if (h.has_schemas) {
        bool *keep = NULL;
        if (src->type_filter != NULL) {
            keep = hollow__calloc(h.schema_count ? h.schema_count : 1,
                                  sizeof *keep);
            if (keep == NULL) {
                rc = hollow__error_oom();
                goto done;
            }
            if ((rc = filter_types(keep, &h, src->type_filter)) < 0) {
                hollow__free(keep);
                goto done;
            }
        }
        for (size_t i = 0; i < h.schema_count; i++) {
            if (keep != NULL && !keep[i])
                continue; /* its section will be parsed and dropped */
            if (find_name(&names, h.schemas[i]->name) >= 0) {
                hollow__free(keep);
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "type %s listed twice in the header",
                                       h.schemas[i]->name);
                goto done;
            }
            size_t at = rs->type_count;
            rs->types[at].schema = h.schemas[i];
            rs->types[at].state = rs;
            h.schemas[i] = NULL;
            rs->type_count = at + 1;
            add_name(&names, at);
        }
        hollow__free(keep);
        filled = rs->type_count;
    }
    for (uint32_t i = 0; i < k; i++) {
        size_t at = hollow__reader_offset(&r);
        if ((rc = hollow__schema_read(&sec_schema, &r)) < 0)
            goto done;
        int idx = find_name(&names, sec_schema->name);
        hollow_type *t;
        if (!h.has_schemas) {
            if (idx >= 0) {
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "second section for type %s at offset "
                                       "%zu",
                                       sec_schema->name, at);
                goto done;
            }
            idx = (int)filled++;
            rs->type_count = filled;
        }
        if (idx < 0) {
            /* a section the header does not list: parse and discard */
            t = &scratch;
        } else {
            if (seen[idx]) {
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "second section for type %s at offset "
                                       "%zu",
                                       sec_schema->name, at);
                goto done;
            }
            seen[idx] = true;
            t = &rs->types[idx];
            if (t->schema != NULL &&
                hollow_schema_kind_of(t->schema) != sec_schema->kind) {
                rc = hollow__error_set(HOLLOW_ECORRUPT,
                                       "type %s: section kind differs from the "
                                       "header at offset %zu",
                                       sec_schema->name, at);
                goto done;
            }
        }
        /* decode with the section's own schema (§3.4) */
        hollow_schema_free(t->schema);
        t->schema = sec_schema;
        t->state = rs;
        sec_schema = NULL;
        rc = read_type_section(t, &r, src, &with_slots);
        if (t != &scratch && !h.has_schemas)
            add_name(&names, (size_t)idx);
        if (t == &scratch)
            hollow__type_clear(&scratch);
        if (rc < 0)
            goto done;
    }
    size_t widest = 0;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_schema *s = rs->types[i].schema;
        if (!seen[i] && s->kind == HOLLOW_SCHEMA_OBJECT && s->field_count > widest)
            widest = s->field_count;
    }
    for (size_t i = 0; i < rs->type_count; i++) {
        if (seen[i])
            continue;
        if ((empty == NULL && (rc = make_empty_shard(&empty, widest)) < 0) ||
            (rc = make_empty_type(&rs->types[i], empty)) < 0)
            goto done;
    }
    if ((rc = hollow__blob_check_end(&r)) < 0)
        goto done;
    if ((rc = hollow__read_state_index(rs)) < 0)
        goto done;
    if (src->mapping != NULL && (src->mapping->base != NULL ||
                                 src->mapping->addr == NULL))
        rc = settle_buffer(rs, src->mapping, src->data);
done:
    hollow__shard_release(empty);
    hollow__free(names.slots);
    hollow_schema_free(sec_schema);
    hollow__type_clear(&scratch);
    hollow__free(seen);
    hollow__blob_header_clear(&h);
    return hollow__blob_state_done(out, rs, rc);
}
