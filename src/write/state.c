/*
 * The write state: types with their ordinal maps, header tags and
 * randomized tags (blob-format.md §10.1-§10.4, §10.10, §3.9).
 *
 * Adding a record: encode its identity bytes (record.c), then under the
 * type's mutex look them up in the type's table; a hit returns the
 * existing ordinal, a miss takes the smallest free ordinal (or the next
 * never-used one) and stores the bytes. Either way the ordinal becomes
 * populated in the current state.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/array.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/text.h"
#include "write_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---------------------------------------------------------- bit sets */

static int wbits_grow(hollow__wbits *b, uint32_t o)
{
    uint32_t need = (o >> 6) + 1;
    if (need <= b->nwords)
        return 0;
    uint32_t n = b->nwords ? b->nwords : 256;
    while (n < need)
        n *= 2;
    uint64_t *w = hollow__reallocarray(b->words, n, sizeof *w);
    HOLLOW_CHECK_ALLOC(w);
    memset(w + b->nwords, 0, (size_t)(n - b->nwords) * sizeof *w);
    b->words = w;
    b->nwords = n;
    return 0;
}

void hollow__wbits_cover(hollow__wbits *b, uint32_t o)
{
    uint32_t seg = o / HOLLOW__SEGMENT_BITS + 1;
    if (seg > b->segments)
        b->segments = seg;
}

int hollow__wbits_set(hollow__wbits *b, uint32_t o)
{
    int rc = wbits_grow(b, o);
    if (rc < 0)
        return rc;
    b->words[o >> 6] |= (uint64_t)1 << (o & 63);
    hollow__wbits_cover(b, o);
    return 0;
}

/*
 * The current bit set while adds run. Adds to a type set its bits under
 * the type's lock; adds to other types test them without it (check_refs:
 * taking the referenced type's lock for every reference made threads
 * adding different types wait on each other). So the set only ever gains
 * bits during a cycle, each set with an atomic OR, and a grown word array
 * is published whole (release) while the old one is kept until the state
 * is freed: a reader sees either array, and every bit that was set
 * before the ordinal reached it. Doubling bounds what is kept by the size
 * of the array itself.
 */
static int wbits_set_shared(hollow__wtype *t, uint32_t o)
{
    hollow__wbits *b = hollow__wcur(t);
    uint32_t need = (o >> 6) + 1;
    if (need > b->nwords) {
        uint32_t n = b->nwords ? b->nwords : 256;
        while (n < need)
            n *= 2;
        HOLLOW_TRY(hollow__grow(t->retired, t->retired_cap,
                                t->retired_count + 1, 8));
        uint64_t *w = hollow__mallocarray(n, sizeof *w);
        HOLLOW_CHECK_ALLOC(w);
        if (b->nwords > 0)
            memcpy(w, b->words, (size_t)b->nwords * sizeof *w);
        memset(w + b->nwords, 0, (size_t)(n - b->nwords) * sizeof *w);
        if (b->words != NULL)
            t->retired[t->retired_count++] = b->words;
        /* the words first: a reader that sees the new count sees them */
        __atomic_store_n(&b->words, w, __ATOMIC_RELEASE);
        __atomic_store_n(&b->nwords, n, __ATOMIC_RELEASE);
    }
    /* a load and a store, not a locked OR: only the lock holder writes */
    uint64_t *w = &b->words[o >> 6], bit = (uint64_t)1 << (o & 63);
    uint64_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
    if (!(v & bit))
        __atomic_store_n(w, v | bit, __ATOMIC_RELAXED);
    hollow__wbits_cover(b, o);
    return 0;
}

/* whether o is set in t's current bits, racing with adds to t */
static inline bool wbits_has_shared(const hollow__wtype *t, uint32_t o)
{
    const hollow__wbits *b = &t->bits[t->cur_bits];
    uint32_t n = __atomic_load_n(&b->nwords, __ATOMIC_ACQUIRE);
    const uint64_t *w = __atomic_load_n(&b->words, __ATOMIC_ACQUIRE);
    return (o >> 6) < n &&
           ((__atomic_load_n(&w[o >> 6], __ATOMIC_RELAXED) >> (o & 63)) & 1);
}

bool hollow__wbits_differ(const hollow__wbits *a, const hollow__wbits *b)
{
    uint32_t n = a->nwords > b->nwords ? a->nwords : b->nwords;
    for (uint32_t w = 0; w < n; w++) {
        uint64_t x = w < a->nwords ? a->words[w] : 0;
        uint64_t y = w < b->nwords ? b->words[w] : 0;
        if (x != y)
            return true;
    }
    return false;
}

void hollow__wbits_clear_all(hollow__wbits *b)
{
    if (b->words != NULL)
        memset(b->words, 0, (size_t)b->nwords * sizeof *b->words);
}

/* ------------------------------------------------------- the state */

hollow__wtype *hollow__ws_type(const hollow_write_state *ws, const char *name)
{
    for (size_t i = 0; i < ws->type_count; i++)
        if (strcmp(ws->types[i].schema->name, name) == 0)
            return &ws->types[i];
    return NULL;
}

/* resolve SET/MAP hash keys against the state's schemas (§4.2, §11.5) */
static int resolve_keys(hollow_write_state *ws, hollow__wtype *t)
{
    const hollow_schema *s = t->schema;
    if (s->kind != HOLLOW_SCHEMA_SET && s->kind != HOLLOW_SCHEMA_MAP)
        return 0;
    if (s->key_count == 0)
        return 0;
    hollow__schema_key_path *paths = NULL;
    int rc = hollow__schema_key_resolve_all(&paths, ws->schemas, s);
    if (rc == HOLLOW_ENOMEM)
        return rc;
    if (rc < 0) { /* Java falls back to ordinal buckets (§11.5) */
        hollow_error_clear();
        return 0;
    }
    t->keys = hollow__calloc(s->key_count, sizeof *t->keys);
    for (size_t i = 0; t->keys != NULL && i < s->key_count; i++) {
        hollow__wkey *k = &t->keys[i];
        k->hops = hollow__calloc(paths[i].hop_count, sizeof *k->hops);
        if (k->hops == NULL) {
            rc = hollow__error_oom();
            break;
        }
        k->hop_count = paths[i].hop_count;
        for (size_t h = 0; h < k->hop_count; h++) {
            k->hops[h].type =
                hollow__ws_type(ws, paths[i].hops[h].schema->name)->index;
            k->hops[h].field = paths[i].hops[h].field;
        }
    }
    if (t->keys == NULL)
        rc = hollow__error_oom();
    hollow__schema_key_paths_free(paths, s->key_count);
    return rc;
}

/* the type index of every reference of t's records (validated schemas:
 * each referenced type exists) */
static int resolve_ref_types(hollow_write_state *ws, hollow__wtype *t)
{
    const hollow_schema *s = t->schema;
    size_t n = s->kind == HOLLOW_SCHEMA_OBJECT ? s->field_count
               : s->kind == HOLLOW_SCHEMA_MAP  ? 2
                                               : 1;
    t->ref_types = hollow__mallocarray(n ? n : 1, sizeof *t->ref_types);
    HOLLOW_CHECK_ALLOC(t->ref_types);
    for (size_t i = 0; i < n; i++) {
        const char *name =
            s->kind == HOLLOW_SCHEMA_OBJECT
                ? (s->fields[i].type == HOLLOW_FIELD_REFERENCE
                       ? s->fields[i].ref_type
                       : NULL)
                : (i == 0 ? s->elem_type : s->value_type);
        const hollow__wtype *rt = name ? hollow__ws_type(ws, name) : NULL;
        t->ref_types[i] = rt ? rt->index : UINT32_MAX;
    }
    return 0;
}

static uint64_t seed_rng(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
    /* mix in an address so that two states made at once differ */
    x ^= (uint64_t)(uintptr_t)&ts;
    return x ? x : 0x9E3779B97F4A7C15ull;
}

int hollow_write_state_new(hollow_write_state **out,
                           const hollow_schema_list *schemas,
                           const hollow_write_options *opts)
{
    if (out == NULL || schemas == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = NULL;
    if (opts != NULL && opts->version != HOLLOW_WRITE_OPTIONS_VERSION)
        return hollow__check_options_version("write", opts->version,
                                             HOLLOW_WRITE_OPTIONS_VERSION);
    int rc = hollow_schema_list_validate(schemas);
    if (rc < 0)
        return rc;
    hollow_write_state *ws = hollow__calloc(1, sizeof *ws);
    HOLLOW_CHECK_ALLOC(ws);
    hollow_write_options def = HOLLOW_WRITE_OPTIONS_INIT;
    ws->opts = opts ? *opts : def;
    ws->prev_tag = -1;
    ws->rng = seed_rng();
    if ((rc = hollow_schema_list_new(&ws->schemas)) < 0)
        goto fail;
    for (size_t i = 0; i < schemas->count; i++) {
        hollow_schema *copy;
        if ((rc = hollow__schema_clone(&copy, schemas->items[i])) < 0 ||
            (rc = hollow_schema_list_add(ws->schemas, copy)) < 0)
            goto fail;
    }
    /* Java writes types in its schema sorter's order (§3.8) */
    if ((rc = hollow_schema_list_sort(ws->schemas)) < 0)
        goto fail;
    ws->types = hollow__calloc(schemas->count ? schemas->count : 1,
                               sizeof *ws->types);
    if (ws->types == NULL) {
        rc = hollow__error_oom();
        goto fail;
    }
    for (size_t i = 0; i < ws->schemas->count; i++) {
        hollow__wtype *t = &ws->types[i];
        t->schema = ws->schemas->items[i];
        t->index = (uint32_t)i;
        if (hollow__mutex_init(&t->mu) != 0) {
            rc = hollow__error_set(HOLLOW_ERROR, "cannot create a mutex");
            goto fail;
        }
        ws->type_count = i + 1;
    }
    for (size_t i = 0; i < ws->type_count; i++)
        if ((rc = resolve_keys(ws, &ws->types[i])) < 0 ||
            (rc = resolve_ref_types(ws, &ws->types[i])) < 0)
            goto fail;
    *out = ws;
    return 0;
fail:
    hollow_write_state_free(ws);
    return rc;
}

void hollow__wtags_clear(hollow__wtags *t)
{
    for (size_t i = 0; i < t->count; i++) {
        hollow__free(t->items[i].key);
        hollow__free(t->items[i].value);
    }
    hollow__free(t->items);
    memset(t, 0, sizeof *t);
}

void hollow_write_state_free(hollow_write_state *ws)
{
    if (ws == NULL)
        return;
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        hollow__mutex_destroy(&t->mu);
        hollow__free(t->pool_base);
        hollow__free(t->off_base);
        hollow__free(t->len_base);
        hollow__free(t->table_base);
        hollow__free(t->free_list);
        hollow__free(t->new_base);
        hollow__free(t->saved_free);
        hollow__free(t->saved_prev.words);
        hollow__free(t->bits[0].words);
        hollow__free(t->bits[1].words);
        if (t->keys != NULL)
            for (size_t k = 0; k < t->schema->key_count; k++)
                hollow__free(t->keys[k].hops);
        hollow__free(t->keys);
        hollow__free(t->ref_types);
        hollow__wtype_restore_free(t);
        hollow__wrun_free(t);
        for (size_t k = 0; k < t->retired_count; k++)
            hollow__free(t->retired[k]);
        hollow__free(t->retired);
    }
    hollow__free(ws->types);
    hollow_schema_list_free(ws->schemas);
    hollow__wtags_clear(&ws->tags);
    hollow__wtags_clear(&ws->prev_tags);
    hollow__free(ws);
}

const hollow_schema_list *hollow_write_state_schemas(const hollow_write_state *ws)
{
    if (ws == NULL)
        return NULL;
    return ws->schemas;
}

int hollow_write_state_set_shard_count(hollow_write_state *ws, const char *type,
                                       uint32_t n)
{
    HOLLOW__ARG_NOT_NULL(ws);
    HOLLOW__ARG_NOT_NULL(type);
    hollow__wtype *t = hollow__ws_type(ws, type);
    if (t == NULL)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no type %s", type);
    if (n == 0 || (n & (n - 1)) != 0 || n > (1u << 30))
        return hollow__error_set(HOLLOW_EINVAL, "shard count %u is not a power "
                                 "of two in 1..2^30", n);
    t->shard_count = n;
    t->shards_fixed = true;
    return 0;
}

int hollow_write_state_shard_counts(uint32_t *now, uint32_t *before,
                                    hollow_write_state *ws, const char *type)
{
    HOLLOW__ARG_NOT_NULL(now);
    HOLLOW__ARG_NOT_NULL(before);
    HOLLOW__ARG_NOT_NULL(ws);
    HOLLOW__ARG_NOT_NULL(type);
    hollow__wtype *t = hollow__ws_type(ws, type);
    if (t == NULL)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no type %s", type);
    int rc = hollow__ws_choose_shards(ws);
    if (rc < 0)
        return rc;
    *now = t->shard_count;
    *before = ws->has_history ? t->prev_shard_count : 0;
    return 0;
}

/* ----------------------------------------------------- ordinal maps */

/* the dedup tables' hash: internal (nothing written depends on it), so
 * the fastest good one for short keys, XXH3 (Debian's libxxhash-dev,
 * inlined: records are a few dozen bytes, a call would cost as much) */
static inline uint32_t bytes_hash(const uint8_t *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

uint32_t hollow__ws_hash(const uint8_t *p, size_t n)
{
    return bytes_hash(p, n);
}

/*
 * Grow a block of `had` bytes (allocated at *base) to `want`. A large one
 * is copied into a new block rather than realloc'ed, starting on a 2 MiB
 * boundary: huge pages are advised before anything touches it (alloc.c),
 * where a realloc that moves the block writes the copy first, faulting it
 * in 4 KiB pages, and an unaligned block faults its ends in 4 KiB pages
 * (measured, 1M movies: 34 500 faults in the populate before, 16 000
 * with copies, on a VM where each costs 10-25 us).
 */
#define GROW_COPY_MIN ((size_t)2 << 20)
static void *grow_block(void **base, void *p, size_t had, size_t want)
{
    if (want < GROW_COPY_MIN) { /* p is *base: it never was large */
        void *q = hollow__realloc(p, want);
        if (q != NULL)
            *base = q;
        return q;
    }
    void *nb;
    size_t size;
    void *q = hollow__malloc_huge_from(want, GROW_COPY_MIN, &nb, &size);
    if (q == NULL)
        return NULL;
    if (had > 0)
        memcpy(q, p, had);
    hollow__free(*base);
    *base = nb;
    return q;
}

static int table_insert(hollow__wtype *t, uint32_t h, int32_t o);

static int table_grow(hollow__wtype *t)
{
    uint32_t ncap = t->table_cap ? t->table_cap * 2 : 1024;
    struct hollow__wslot *old = t->table;
    void *old_base = t->table_base;
    uint32_t ocap = t->table_cap;
    void *nbase = NULL;
    struct hollow__wslot *nt = grow_block(&nbase, NULL, 0,
                                          (size_t)ncap * sizeof *nt);
    if (nt == NULL)
        return hollow__error_oom();
    t->table_base = nbase;
    memset(nt, 0xFF, (size_t)ncap * sizeof *nt);
    /* atomic stores: add_batch reads both, unlocked, for a prefetch */
    __atomic_store_n(&t->table, nt, __ATOMIC_RELAXED);
    __atomic_store_n(&t->table_cap, ncap, __ATOMIC_RELAXED);
    t->table_count = 0;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i].ord >= 0)
            table_insert(t, old[i].hash, old[i].ord);
    hollow__free(old_base);
    return 0;
}

static int table_insert(hollow__wtype *t, uint32_t h, int32_t o)
{
    if ((t->table_count + 1) * 10 > (uint64_t)t->table_cap * 7) {
        int rc = table_grow(t);
        if (rc < 0)
            return rc;
    }
    uint32_t i = h & (t->table_cap - 1);
    while (t->table[i].ord >= 0)
        i = (i + 1) & (t->table_cap - 1);
    t->table[i].ord = o;
    t->table[i].hash = h;
    t->table_count++;
    return 0;
}

/* a == b for n bytes; records are short: most compare in a few loads
 * without a call */
static inline bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x, y, u, v;
    if (n >= 8 && n <= 16) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + n - 8, 8);
        memcpy(&v, b + n - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (n < 8) {
        uint32_t x4, y4, u4, v4;
        if (n >= 4) {
            memcpy(&x4, a, 4);
            memcpy(&y4, b, 4);
            memcpy(&u4, a + n - 4, 4);
            memcpy(&v4, b + n - 4, 4);
            return ((x4 ^ y4) | (u4 ^ v4)) == 0;
        }
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

static int32_t table_find(const hollow__wtype *t, uint32_t h, const uint8_t *p,
                          size_t n)
{
    if (t->table_cap == 0)
        return -1;
    uint32_t i = h & (t->table_cap - 1);
    while (t->table[i].ord >= 0) {
        int32_t o = t->table[i].ord;
        if (t->table[i].hash == h && t->len[o] == n &&
            bytes_equal(t->pool.ptr + t->off[o], p, n))
            return o;
        i = (i + 1) & (t->table_cap - 1);
    }
    return -1;
}

void hollow__ws_table_remove(hollow__wtype *t, uint32_t o)
{
    if (t->table_cap == 0)
        return;
    uint32_t mask = t->table_cap - 1;
    uint32_t i = bytes_hash(t->pool.ptr + t->off[o], t->len[o]) & mask;
    while (t->table[i].ord != (int32_t)o) {
        if (t->table[i].ord < 0)
            return; /* not in the table */
        i = (i + 1) & mask;
    }
    /* backward shift: an entry after the gap moves into it unless its
     * home slot lies cyclically in (gap, j], where it would be lost */
    uint32_t gap = i;
    for (uint32_t j = (i + 1) & mask; t->table[j].ord >= 0; j = (j + 1) & mask) {
        uint32_t home = t->table[j].hash & mask;
        bool stays = gap <= j ? home > gap && home <= j : home > gap || home <= j;
        if (!stays) {
            t->table[gap] = t->table[j];
            gap = j;
        }
    }
    t->table[gap].ord = -1;
    t->table[gap].hash = UINT32_MAX;
    t->table_count--;
}

/* room for n more bytes in t's pool */
static int pool_reserve(hollow__wtype *t, size_t n)
{
    hollow__buf *b = &t->pool;
    size_t need;
    if (b->oom || hollow__add_overflow(b->len, n, &need))
        return hollow__error_oom();
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *q = grow_block(&t->pool_base, b->ptr, b->len, cap);
    if (q == NULL)
        return hollow__error_oom();
    b->ptr = q;
    b->cap = cap;
    return 0;
}

static int ensure_ordinal(hollow__wtype *t, uint32_t o)
{
    if (o < t->ord_cap)
        return 0;
    uint32_t cap = t->ord_cap ? t->ord_cap : 1024;
    while (cap <= o)
        cap *= 2;
    uint64_t *off = grow_block(&t->off_base, t->off,
                               (size_t)t->ord_cap * sizeof *off,
                               (size_t)cap * sizeof *off);
    if (off == NULL)
        return hollow__error_oom();
    t->off = off;
    uint32_t *len = grow_block(&t->len_base, t->len,
                               (size_t)t->ord_cap * sizeof *len,
                               (size_t)cap * sizeof *len);
    if (len == NULL)
        return hollow__error_oom();
    t->len = len;
    for (uint32_t i = t->ord_cap; i < cap; i++) {
        t->off[i] = HOLLOW__NO_RECORD;
        t->len[i] = 0;
    }
    t->ord_cap = cap;
    return 0;
}

/* store bytes at ordinal o (which is free) and index them */
static int store(hollow__wtype *t, uint32_t h, const uint8_t *p, size_t n,
                 uint32_t o)
{
    int rc = ensure_ordinal(t, o);
    if (rc < 0)
        return rc;
    size_t at = t->pool.len;
    /* the pool always exists, even for records of no bytes (an OBJECT
     * type without fields), so record pointers are never NULL + offset */
    if ((rc = pool_reserve(t, n ? n : 1)) < 0)
        return rc;
    hollow__buf_put(&t->pool, p, n);
    if ((rc = hollow__buf_check(&t->pool)) < 0)
        return rc;
    t->off[o] = at;
    t->len[o] = (uint32_t)n;
    if ((rc = table_insert(t, h, (int32_t)o)) < 0) {
        t->off[o] = HOLLOW__NO_RECORD;
        t->pool.len = at;
        return rc;
    }
    if (o >= t->next_ordinal)
        t->next_ordinal = o + 1;
    /* remember it for a rollback of this cycle */
    if (t->new_count == t->new_cap) {
        size_t cap = t->new_cap ? t->new_cap * 2 : 256;
        uint32_t *q = cap > SIZE_MAX / sizeof *q
                          ? NULL
                          : grow_block(&t->new_base, t->new_ords,
                                       t->new_cap * sizeof *q,
                                       cap * sizeof *q);
        if (q == NULL)
            return hollow__error_oom();
        t->new_ords = q;
        t->new_cap = cap;
    }
    t->new_ords[t->new_count++] = o;
    return 0;
}

/* the next ordinal for a new record (§10.4, §10.6) */
static int take_ordinal(hollow__wtype *t, uint32_t *o)
{
    while (t->free_head < t->free_count) {
        uint32_t c = t->free_from_back ? t->free_list[--t->free_count]
                                       : t->free_list[t->free_head++];
        if (c < t->ord_cap && t->off[c] == HOLLOW__NO_RECORD) {
            *o = c;
            return 0;
        }
    }
    if (t->next_ordinal >= HOLLOW__ORDINAL_LIMIT)
        return hollow__error_set(HOLLOW_ERANGE, "type %s: ordinals exhausted "
                                 "(%d)", t->schema->name, HOLLOW__ORDINAL_LIMIT);
    *o = t->next_ordinal;
    return 0;
}

/* whether ordinals e[0], e[step], ... (n of them) are records of type
 * `to` added in this cycle (without `to`'s lock: wbits_set_shared) */
static int refs_added(hollow_write_state *ws, const hollow_record *r,
                      uint32_t to, const int32_t *e, size_t n, size_t step,
                      const char *what, const char *field)
{
    if (to == UINT32_MAX || n == 0) /* validated schemas: never unresolved */
        return 0;
    hollow__wtype *t = &ws->types[to];
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!wbits_has_shared(t, (uint32_t)e[i * step]))
            bad = i;
    if (bad == n)
        return 0;
    return hollow__error_set(HOLLOW_EINVAL, "%s %s%s%s references %s ordinal "
                             "%d, which was not added in this cycle",
                             r->schema->name, what, field ? " " : "",
                             field ? field : "", t->schema->name,
                             (int)e[bad * step]);
}

/* write.h: a record may reference only records added in this cycle, or
 * the state written would hold dangling references */
static int check_refs(hollow_write_state *ws, const hollow_record *r)
{
    const hollow_schema *s = r->schema;
    const uint32_t *to = ws->types[r->type].ref_types;
    int rc = 0;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < s->field_count && rc == 0; f++) {
            const hollow__rfield *v = &r->fields[f];
            if (to[f] == UINT32_MAX || !v->set || v->is_null)
                continue;
            int32_t o = (int32_t)v->v;
            rc = refs_added(ws, r, to[f], &o, 1, 1, "field", s->fields[f].name);
        }
        break;
    case HOLLOW_SCHEMA_LIST:
    case HOLLOW_SCHEMA_SET:
        rc = refs_added(ws, r, to[0], r->elems, r->elem_count, 1, "element",
                        NULL);
        break;
    case HOLLOW_SCHEMA_MAP:
        rc = refs_added(ws, r, to[0], r->elems, r->elem_count / 2, 2, "key",
                        NULL);
        if (rc == 0 && r->elem_count > 0)
            rc = refs_added(ws, r, to[1], r->elems + 1, r->elem_count / 2, 2,
                            "value", NULL);
        break;
    }
    return rc;
}

/* the record's type in ws, or an error if it was made for another state */
static int record_type(hollow__wtype **out, hollow_write_state *ws,
                       const hollow_record *rec)
{
    if (rec == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    if (rec->type >= ws->type_count ||
        ws->types[rec->type].schema != rec->schema)
        return hollow__error_set(HOLLOW_EINVAL,
                                 "record was made for another write state");
    *out = &ws->types[rec->type];
    return 0;
}

/* find or store identity bytes p[0..n) of hash h; under t's lock */
static int add_encoded(uint32_t *out, hollow__wtype *t, uint32_t h,
                       const uint8_t *p, size_t n)
{
    int rc = 0;
    int32_t found = table_find(t, h, p, n);
    uint32_t o = 0;
    if (found < 0 && t->proj != NULL) {
        /* §10.6 rule 1: equal on the shared fields to a restored record
         * that no earlier record of this cycle took: take its ordinal */
        hollow__buf pb = HOLLOW__BUF_INIT;
        int32_t took = hollow__wproj_find(t, p, &pb);
        hollow__buf_free(&pb);
        if (took >= 0 && !hollow__wbits_has(hollow__wcur(t), (uint32_t)took)) {
            t->off[took] = HOLLOW__NO_RECORD;
            found = took;
            rc = store(t, h, p, n, (uint32_t)took);
        }
    }
    if (found >= 0) {
        o = (uint32_t)found;
    } else if ((rc = take_ordinal(t, &o)) >= 0) {
        rc = store(t, h, p, n, o);
    }
    if (rc >= 0)
        rc = wbits_set_shared(t, o);
    *out = o;
    return rc;
}

int hollow_write_state_add(hollow_ordinal *out, hollow_write_state *ws,
                           const hollow_record *rec)
{
    if (out == NULL || ws == NULL || rec == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    *out = HOLLOW_ORDINAL_NONE;
    hollow__wtype *t;
    HOLLOW_TRY(record_type(&t, ws, rec));
    hollow_record *r = (hollow_record *)rec; /* scratch space only */
    int rc = check_refs(ws, rec);
    if (rc < 0)
        return rc;
    rc = hollow__record_encode(r);
    if (rc < 0)
        return rc;
    const uint8_t *p = r->scratch.ptr;
    size_t n = r->scratch.len;
    uint32_t h = bytes_hash(p, n);
    uint32_t o;
    hollow__mutex_lock(&t->mu);
    rc = add_encoded(&o, t, h, p, n);
    hollow__mutex_unlock(&t->mu);
    if (rc < 0)
        return rc;
    *out = (hollow_ordinal)o;
    return 0;
}

/*
 * A batch goes in runs of up to BATCH_RUN records of one type, each in
 * stages. A lookup that hits waits on memory three times, one wait
 * depending on the other: the record's slot in the table, its offset and
 * length, its bytes. Each wait is mostly a page walk and a cache miss,
 * and a prefetch waits for its walk: prefetches issued one after the
 * other overlap their walks, those spread between encodings do not
 * (measured: the prefetch instruction was 20% of a populate). So a run
 * is encoded and hashed whole; then its slots are prefetched together;
 * then, under the type's lock taken once, the offsets and lengths of the
 * records the slots hold, then their bytes; then the records are looked
 * up and stored in order, so ordinals are those of sequential adds. The
 * stages only fetch: each lookup is made in full.
 */
#define BATCH_RUN 64

/* the ordinal in record hash h's first slot if its hash matches, or -1 */
static inline int32_t peek_slot(const hollow__wtype *t, uint32_t h)
{
    const struct hollow__wslot *s = &t->table[h & (t->table_cap - 1)];
    return s->ord >= 0 && s->hash == h ? s->ord : -1;
}

/* add the encoded records of one run (type t, hashes h) in order */
static int add_run(hollow_ordinal *out, hollow_write_state *ws,
                   hollow__wtype *t, hollow_record *const *recs,
                   const uint32_t *h, size_t m)
{
    int rc = 0;
    hollow__mutex_lock(&t->mu);
    if (t->table_cap > 0) {
        int32_t cand[BATCH_RUN];
        for (size_t i = 0; i < m; i++) {
            cand[i] = peek_slot(t, h[i]);
            if (cand[i] >= 0) {
                __builtin_prefetch(&t->off[cand[i]]);
                __builtin_prefetch(&t->len[cand[i]]);
            }
        }
        for (size_t i = 0; i < m; i++)
            if (cand[i] >= 0 && t->off[cand[i]] != HOLLOW__NO_RECORD)
                __builtin_prefetch(t->pool.ptr + t->off[cand[i]]);
    }
    for (size_t i = 0; i < m; i++) {
        uint32_t o;
        if ((rc = check_refs(ws, recs[i])) < 0 ||
            (rc = add_encoded(&o, t, h[i], recs[i]->scratch.ptr,
                              recs[i]->scratch.len)) < 0)
            break;
        out[i] = (hollow_ordinal)o;
    }
    hollow__mutex_unlock(&t->mu);
    return rc;
}

int hollow_write_state_add_batch(hollow_ordinal *out, hollow_write_state *ws,
                                 hollow_record *const *recs, size_t n)
{
    if (out == NULL || ws == NULL || (recs == NULL && n > 0))
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    for (size_t i = 0; i < n; i++)
        out[i] = HOLLOW_ORDINAL_NONE;
    uint32_t hash[BATCH_RUN];
    for (size_t start = 0; start < n;) {
        hollow__wtype *t = NULL;
        size_t m = 0;
        int prc = 0;
        for (; start + m < n && m < BATCH_RUN; m++) {
            hollow_record *r = recs[start + m];
            hollow__wtype *rt;
            if ((prc = record_type(&rt, ws, r)) < 0)
                break;
            if (t != NULL && rt != t)
                break; /* the next run */
            t = rt;
            if ((prc = hollow__record_encode(r)) < 0)
                break;
            hash[m] = bytes_hash(r->scratch.ptr, r->scratch.len);
        }
        /* racy reads of a hint: the slots are read again under the lock */
        uint32_t cap = m ? __atomic_load_n(&t->table_cap, __ATOMIC_RELAXED) : 0;
        struct hollow__wslot *tab = cap ? __atomic_load_n(&t->table, __ATOMIC_RELAXED)
                                        : NULL;
        for (size_t i = 0; i < m && cap > 0; i++)
            __builtin_prefetch(&tab[hash[i] & (cap - 1)]);
        /* an error is reported when its record's turn comes, as
         * sequential adds would (an encode error leaves no state) */
        if (m > 0)
            HOLLOW_TRY(add_run(out + start, ws, t, recs + start, hash, m));
        if (prc < 0)
            return prc;
        start += m;
    }
    return 0;
}

int hollow__ws_restore_at(hollow__wtype *t, const uint8_t *p, size_t n,
                          uint32_t ordinal)
{
    /* restored records may project onto equal bytes (§10.6): keep each at
     * its ordinal; lookups find the first */
    return store(t, bytes_hash(p, n), p, n, ordinal);
}

int hollow__ws_add_at(hollow__wtype *t, const uint8_t *p, size_t n,
                      uint32_t ordinal)
{
    uint32_t h = bytes_hash(p, n);
    int32_t found = table_find(t, h, p, n);
    int rc;
    if (found >= 0 && (uint32_t)found != ordinal)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s: ordinals %d and %u "
                                 "hold the same record", t->schema->name,
                                 (int)found, ordinal);
    if (found < 0) {
        if ((rc = ensure_ordinal(t, ordinal)) < 0)
            return rc;
        if (t->off[ordinal] != HOLLOW__NO_RECORD)
            return hollow__error_set(HOLLOW_EINVAL, "type %s: ordinal %u is "
                                     "taken", t->schema->name, ordinal);
        if ((rc = store(t, h, p, n, ordinal)) < 0)
            return rc;
    }
    return wbits_set_shared(t, ordinal);
}

/* -------------------------------------------------------------- tags */

/* §10.10: Java's HashMap bucket of a key for a table of n buckets */
static uint32_t tag_bucket(const char *key, uint32_t n)
{
    size_t len = strlen(key);
    uint16_t stackbuf[128];
    uint16_t *u = len <= 128 ? stackbuf : hollow__mallocarray(len, sizeof *u);
    uint32_t h = 0;
    if (u != NULL) {
        long k = hollow__utf8_to_utf16(u, key, len);
        if (k > 0)
            h = hollow__java_string_hash(u, (size_t)k);
        if (u != stackbuf)
            hollow__free(u);
    }
    uint32_t spread = (h ^ (h >> 16)) & 0x7FFFFFFFu;
    return spread & (n - 1);
}

int hollow__wtags_put(hollow__wtags *t, const char *key, const char *value)
{
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->items[i].key, key) == 0) {
            char *v = hollow__strdup(value);
            HOLLOW_CHECK_ALLOC(v);
            hollow__free(t->items[i].value);
            t->items[i].value = v;
            return 0;
        }
    HOLLOW_TRY(hollow__grow(t->items, t->cap, t->count + 1, 8));
    char *k = hollow__strdup(key), *v = hollow__strdup(value);
    if (k == NULL || v == NULL) {
        hollow__free(k);
        hollow__free(v);
        return hollow__error_oom();
    }
    t->items[t->count].key = k;
    t->items[t->count].value = v;
    t->count++;
    /* 16 buckets at first, doubling when 3/4 full; never shrinking */
    if (t->table_size == 0)
        t->table_size = 16;
    while (t->count >= t->table_size - t->table_size / 4)
        t->table_size *= 2;
    return 0;
}

int hollow_write_state_set_header_tag(hollow_write_state *ws, const char *key,
                                      const char *value)
{
    if (ws == NULL || key == NULL || value == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    return hollow__wtags_put(&ws->tags, key, value);
}

int hollow_write_state_remove_header_tag(hollow_write_state *ws,
                                         const char *key)
{
    HOLLOW__ARG_NOT_NULL(ws);
    HOLLOW__ARG_NOT_NULL(key);
    hollow__wtags *t = &ws->tags;
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->items[i].key, key) == 0) {
            hollow__free(t->items[i].key);
            hollow__free(t->items[i].value);
            memmove(t->items + i, t->items + i + 1,
                    (t->count - i - 1) * sizeof *t->items);
            t->count--;
            return 0;
        }
    return 0;
}

/* indexes of tags in the order Java iterates them (§10.10) */

size_t *hollow__wtags_order(const hollow__wtags *t)
{
    size_t *idx = hollow__calloc(t->count ? t->count : 1, sizeof *idx);
    if (idx == NULL)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        idx[i] = i;
    if (t->verbatim || t->count < 2)
        return idx;
    uint32_t n = t->table_size ? t->table_size : 16;
    /* stable insertion sort by bucket */
    for (size_t i = 1; i < t->count; i++) {
        size_t v = idx[i], j = i;
        uint32_t bv = tag_bucket(t->items[v].key, n);
        while (j > 0 && tag_bucket(t->items[idx[j - 1]].key, n) > bv) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    return idx;
}

/* ---------------------------------------------------- randomized tags */

static uint64_t next_random(uint64_t *s)
{
    return hollow__mix64(*s += 0x9E3779B97F4A7C15ull);
}

void hollow_write_state_set_randomized_tag(hollow_write_state *ws, int64_t tag)
{
    if (ws == NULL)
        return;
    ws->tag = tag;
    ws->tag_set = true;
}

int64_t hollow_write_state_randomized_tag(hollow_write_state *ws)
{
    if (ws == NULL)
        return 0;
    if (!ws->tag_set) {
        /* §3.9: redraw while the upper half is all zero, all one, or that
         * of the previous tag */
        uint32_t prev_hi = (uint32_t)((uint64_t)ws->prev_tag >> 32);
        uint64_t t;
        do {
            t = next_random(&ws->rng);
        } while ((uint32_t)(t >> 32) == 0 || (uint32_t)(t >> 32) == 0xFFFFFFFFu ||
                 (ws->has_history && (uint32_t)(t >> 32) == prev_hi));
        ws->tag = (int64_t)t;
        ws->tag_set = true;
    }
    return ws->tag;
}

/* ------------------------------------------------------- copy_from */

/* the identity bytes of record o of read type t (§10.2) */
int hollow__encode_read_record(hollow__buf *b, const hollow_type *t,
                               hollow_ordinal o, int32_t **scratch,
                               size_t *scap);

int hollow__encode_read_record(hollow__buf *b, const hollow_type *t,
                              hollow_ordinal o, int32_t **scratch,
                              size_t *scap)
{
    const hollow_schema *s = hollow_type_schema(t);
    b->len = 0;
    int rc;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < s->field_count; f++) {
            hollow_value v;
            if ((rc = hollow_object_value(&v, t, o, f)) < 0)
                return rc;
            hollow_field_type ft = s->fields[f].type;
            if (v.is_null) {
                if (ft == HOLLOW_FIELD_FLOAT)
                    hollow__buf_be32(b, HOLLOW__FLOAT_NULL);
                else if (ft == HOLLOW_FIELD_DOUBLE)
                    hollow__buf_be64(b, HOLLOW__DOUBLE_NULL);
                else
                    hollow__buf_putc(b, 0x80);
                continue;
            }
            uint32_t u;
            uint64_t l;
            switch (ft) {
            case HOLLOW_FIELD_INT:
                hollow__buf_vint(b, hollow__zigzag32(v.u.i));
                break;
            case HOLLOW_FIELD_LONG:
                hollow__buf_vlong(b, hollow__zigzag64(v.u.l));
                break;
            case HOLLOW_FIELD_REFERENCE: hollow__buf_vint(b, (uint32_t)v.u.ref); break;
            case HOLLOW_FIELD_BOOLEAN: hollow__buf_putc(b, v.u.b ? 1 : 0); break;
            case HOLLOW_FIELD_FLOAT:
                memcpy(&u, &v.u.f, 4);
                hollow__buf_be32(b, u);
                break;
            case HOLLOW_FIELD_DOUBLE:
                memcpy(&l, &v.u.d, 8);
                hollow__buf_be64(b, l);
                break;
            case HOLLOW_FIELD_STRING:
            case HOLLOW_FIELD_BYTES:
                hollow__buf_vint(b, (uint32_t)v.u.bytes.len);
                hollow__buf_put(b, v.u.bytes.ptr, v.u.bytes.len);
                break;
            }
        }
        break;
    case HOLLOW_SCHEMA_LIST: {
        uint32_t n;
        if ((rc = hollow_list_size(&n, t, o)) < 0)
            return rc;
        hollow__buf_vint(b, n);
        for (uint32_t i = 0; i < n; i++) {
            hollow_ordinal e;
            if ((rc = hollow_list_get(&e, t, o, i)) < 0)
                return rc;
            hollow__buf_vint(b, (uint32_t)e);
        }
        break;
    }
    case HOLLOW_SCHEMA_SET:
    case HOLLOW_SCHEMA_MAP: {
        bool is_map = s->kind == HOLLOW_SCHEMA_MAP;
        hollow_iter it;
        rc = is_map ? hollow_map_iter_init(&it, t, o) : hollow_set_iter_init(&it, t, o);
        if (rc < 0)
            return rc;
        size_t n = 0;
        hollow_ordinal k, v;
        while (is_map ? hollow_map_iter_next(&it, &k, &v)
                      : hollow_set_iter_next(&it, &k)) {
            HOLLOW_TRY(hollow__grow(*scratch, *scap, (n + 1) * 2, 64));
            (*scratch)[2 * n] = k;
            (*scratch)[2 * n + 1] = is_map ? v : 0;
            n++;
        }
        /* sort by key, then value (insertion sort is fine: sets are small
         * on average, and this path is for copying only) */
        int32_t *a = *scratch;
        for (size_t i = 1; i < n; i++) {
            int32_t k0 = a[2 * i], v0 = a[2 * i + 1];
            size_t j = i;
            while (j > 0 && (a[2 * (j - 1)] > k0 ||
                             (a[2 * (j - 1)] == k0 && a[2 * (j - 1) + 1] > v0))) {
                a[2 * j] = a[2 * (j - 1)];
                a[2 * j + 1] = a[2 * (j - 1) + 1];
                j--;
            }
            a[2 * j] = k0;
            a[2 * j + 1] = v0;
        }
        uint32_t tsize = hollow__hash_table_size((uint32_t)n);
        hollow__buf_vint(b, (uint32_t)n);
        int32_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            hollow__buf_vint(b, (uint32_t)(a[2 * i] - prev));
            if (is_map)
                hollow__buf_vint(b, (uint32_t)a[2 * i + 1]);
            hollow__buf_vint(b, hollow__hash_int((uint32_t)a[2 * i]) & (tsize - 1));
            prev = a[2 * i];
        }
        break;
    }
    }
    return hollow__buf_check(b);
}

int hollow__ws_check_unused(const hollow_write_state *ws)
{
    for (size_t i = 0; i < ws->type_count; i++)
        if (ws->types[i].next_ordinal > 0 || ws->has_history)
            return hollow__error_set(HOLLOW_ESTATE,
                                     "the write state already holds records");
    return 0;
}

int hollow_write_state_copy_from(hollow_write_state *ws,
                                 const hollow_read_state *rs)
{
    if (ws == NULL || rs == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    HOLLOW_TRY(hollow__ws_check_unused(ws));
    hollow__buf b = HOLLOW__BUF_INIT;
    int32_t *scratch = NULL;
    size_t scap = 0;
    int rc = 0;
    for (size_t i = 0; i < ws->type_count && rc >= 0; i++) {
        hollow__wtype *wt = &ws->types[i];
        const hollow_type *t = hollow_read_state_type(rs, wt->schema->name);
        if (t == NULL)
            continue;
        if (!hollow_schema_equal(hollow_type_schema(t), wt->schema)) {
            rc = hollow__error_set(HOLLOW_EINVAL, "type %s: schema differs from "
                                   "the write state's", wt->schema->name);
            break;
        }
        for (hollow_ordinal o = hollow_type_next_ordinal(t, 0); o >= 0 && rc >= 0;
             o = hollow_type_next_ordinal(t, o + 1)) {
            if ((rc = hollow__encode_read_record(&b, t, o, &scratch, &scap)) < 0 ||
                (rc = hollow__ws_add_at(wt, b.ptr, b.len, (uint32_t)o)) < 0)
                hollow__error_prefix("type %s ordinal %d", wt->schema->name,
                                     (int)o);
        }
        wt->shard_count = hollow_type_shard_count(t);
        wt->shards_fixed = true;
    }
    hollow__buf_free(&b);
    hollow__free(scratch);
    if (rc < 0)
        return rc;
    /* the same tags: the snapshot written is the same state */
    hollow__wtags_clear(&ws->tags);
    for (size_t i = 0; i < hollow_read_state_header_tag_count(rs) && rc >= 0; i++) {
        const char *k, *v;
        hollow_read_state_header_tag_at(rs, i, &k, &v);
        rc = hollow__wtags_put(&ws->tags, k, v);
    }
    ws->tags.verbatim = true;
    ws->prev_tag = hollow_read_state_origin_tag(rs);
    hollow_write_state_set_randomized_tag(ws, hollow_read_state_randomized_tag(rs));
    return rc;
}
