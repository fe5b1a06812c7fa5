/*
 * Read state life cycle and type-level queries.
 *
 * A state is freed when its last reference goes; its shards are released
 * one by one, so shards shared with another state live on. Reference
 * counts are atomics: acquire is a relaxed increment, release an acq_rel
 * decrement, as for any shared immutable object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/alloc.h"
#include "common/error.h"
#include "read_int.h"

/* ------------------------------------------------------------ shards */

void hollow__shard_retain(hollow__shard *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void hollow__shard_release(hollow__shard *s)
{
    if (s == NULL ||
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    hollow__free(s->populated);
    hollow__free(s->ghosts);
    hollow__free(s->widths);
    hollow__free(s->offsets);
    hollow__free((void *)s->var);
    hollow__free(s->var_len);
    hollow__free(s->block);
    hollow__mapping_release(s->mapping);
    hollow__free(s);
}

void hollow__mapping_retain(hollow__mapping *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void hollow__mapping_release(hollow__mapping *m)
{
    if (m == NULL ||
        atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (m->base != NULL)
        hollow__free(m->base);
    else if (m->addr != NULL && m->len > 0)
        munmap(m->addr, m->len);
    hollow__free(m);
}

/* ------------------------------------------------------------- state */

int hollow__read_state_alloc(hollow_read_state **out, size_t type_count)
{
    hollow_read_state *rs = hollow__calloc(1, sizeof *rs);
    HOLLOW_CHECK_ALLOC(rs);
    atomic_init(&rs->refs, 1);
    rs->types = hollow__calloc(type_count ? type_count : 1, sizeof *rs->types);
    if (rs->types == NULL) {
        hollow__free(rs);
        return hollow__error_oom();
    }
    *out = rs;
    return 0;
}

void hollow__type_keys_free(hollow_type *t)
{
    if (t->keys != NULL)
        for (size_t i = 0; i < t->schema->key_count; i++)
            hollow__free(t->keys[i].hops);
    hollow__free(t->keys);
    t->keys = NULL;
}

/*
 * Resolve the hash key of SET/MAP type t (§4.2) with the schema module's
 * resolver over the state's schemas, and map each hop to the state's type.
 * A key that does not resolve leaves t->keys NULL: Java then places
 * buckets by ordinal (§11.5), and so do our lookups.
 */
static int resolve_keys(hollow_read_state *rs, hollow_type *t,
                        hollow_schema_list *schemas)
{
    const hollow_schema *s = t->schema;
    hollow__type_keys_free(t);
    if (s->kind == HOLLOW_SCHEMA_OBJECT || s->kind == HOLLOW_SCHEMA_LIST ||
        s->key_count == 0)
        return 0;
    hollow__schema_key_path *paths = NULL;
    int rc = hollow__schema_key_resolve_all_sorted(&paths, schemas, s);
    if (rc == HOLLOW_ENOMEM)
        return rc;
    if (rc < 0) {
        hollow_error_clear();
        return 0;
    }
    t->keys = hollow__calloc(s->key_count, sizeof *t->keys);
    if (t->keys == NULL) {
        hollow__schema_key_paths_free(paths, s->key_count);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < s->key_count && rc == 0; i++) {
        hollow__key_path *kp = &t->keys[i];
        kp->hops = hollow__calloc(paths[i].hop_count, sizeof *kp->hops);
        if (kp->hops == NULL) {
            rc = hollow__error_oom();
            break;
        }
        kp->hop_count = paths[i].hop_count;
        for (size_t h = 0; h < paths[i].hop_count; h++) {
            kp->hops[h].type =
                hollow_read_state_type(rs, paths[i].hops[h].schema->name);
            kp->hops[h].field = paths[i].hops[h].field;
        }
    }
    hollow__schema_key_paths_free(paths, s->key_count);
    if (rc < 0)
        hollow__type_keys_free(t);
    return rc;
}

/* a type's name and index, sorted by qsort (which has no context pointer) */
typedef struct name_ref {
    const char *name;
    uint32_t idx;
} name_ref;

static int name_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

/* the resolver's order (hollow__schema_key_resolve_all_sorted) */
static int schema_cmp(const void *a, const void *b)
{
    return hollow__schema_name_cmp((*(hollow_schema *const *)a)->name,
                                   (*(hollow_schema *const *)b)->name);
}

int hollow__read_state_index(hollow_read_state *rs)
{
    size_t n = rs->type_count;
    uint32_t *idx = hollow__calloc(n ? n : 1, sizeof *idx);
    HOLLOW_CHECK_ALLOC(idx);
    /* O(n log n): a blob may hold many types (docs/limits.md) */
    name_ref *refs = hollow__calloc(n ? n : 1, sizeof *refs);
    if (refs == NULL) {
        hollow__free(idx);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < n; i++) {
        refs[i].name = rs->types[i].schema->name;
        refs[i].idx = (uint32_t)i;
    }
    qsort(refs, n, sizeof *refs, name_ref_cmp);
    for (size_t i = 0; i < n; i++)
        idx[i] = refs[i].idx;
    hollow__free(refs);
    hollow__free(rs->by_name);
    rs->by_name = idx;
    for (size_t i = 0; i < n; i++)
        rs->types[i].state = rs;
    /* a borrowed view of the schemas for the resolver; never freed */
    hollow_schema **items = hollow__calloc(n ? n : 1, sizeof *items);
    HOLLOW_CHECK_ALLOC(items);
    for (size_t i = 0; i < n; i++)
        items[i] = rs->types[i].schema;
    qsort(items, n, sizeof *items, schema_cmp);
    hollow_schema_list view = {items, n, n};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = resolve_keys(rs, &rs->types[i], &view);
    hollow__free(items);
    return rc;
}

void hollow__type_clear(hollow_type *t)
{
    if (t->shards != NULL)
        for (uint32_t s = 0; s < t->shard_count; s++)
            hollow__shard_release(t->shards[s]);
    hollow__free(t->shards);
    hollow__type_keys_free(t);
    hollow_schema_free(t->schema);
    memset(t, 0, sizeof *t);
}

static void state_free(hollow_read_state *rs)
{
    for (size_t i = 0; i < rs->type_count; i++)
        hollow__type_clear(&rs->types[i]);
    for (size_t i = 0; i < rs->tag_count; i++) {
        hollow__free(rs->tag_keys[i]);
        hollow__free(rs->tag_values[i]);
    }
    hollow__free(rs->tag_keys);
    hollow__free(rs->tag_values);
    hollow__free(rs->types);
    hollow__free(rs->by_name);
    hollow__free(rs);
}

hollow_read_state *hollow_read_state_acquire(const hollow_read_state *rs)
{
    /* const in, non-const out: the reference count is the one mutable part
     * of an immutable state, and the caller now owns a reference */
    hollow_read_state *m = (hollow_read_state *)rs;
    if (m != NULL)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void hollow_read_state_release(hollow_read_state *rs)
{
    if (rs != NULL &&
        atomic_fetch_sub_explicit(&rs->refs, 1, memory_order_acq_rel) == 1)
        state_free(rs);
}

void hollow_read_state_free(hollow_read_state *rs) { hollow_read_state_release(rs); }

/* NULL states give the documented sentinels (read.h) */
int64_t hollow_read_state_randomized_tag(const hollow_read_state *rs)
{
    return rs ? rs->tag : 0;
}

int64_t hollow_read_state_version(const hollow_read_state *rs)
{
    return rs ? rs->version : 0;
}

void hollow__read_state_set_version(hollow_read_state *rs, int64_t version)
{
    rs->version = version;
}

int64_t hollow_read_state_origin_tag(const hollow_read_state *rs)
{
    return rs ? rs->origin_tag : -1;
}

size_t hollow_read_state_header_tag_count(const hollow_read_state *rs)
{
    return rs ? rs->tag_count : 0;
}

int hollow_read_state_header_tag_at(const hollow_read_state *rs, size_t i,
                                    const char **key, const char **value)
{
    HOLLOW__ARG_NOT_NULL(rs);
    if (i >= rs->tag_count)
        return hollow__error_set(HOLLOW_ENOTFOUND, "no header tag %zu", i);
    if (key != NULL)
        *key = rs->tag_keys[i];
    if (value != NULL)
        *value = rs->tag_values[i];
    return 0;
}

const char *hollow_read_state_header_tag(const hollow_read_state *rs,
                                         const char *key)
{
    if (rs == NULL || key == NULL)
        return NULL;
    /* Java keeps the last of duplicate keys (§3.1) */
    for (size_t i = rs->tag_count; i-- > 0;)
        if (strcmp(rs->tag_keys[i], key) == 0)
            return rs->tag_values[i];
    return NULL;
}

size_t hollow_read_state_type_count(const hollow_read_state *rs)
{
    return rs ? rs->type_count : 0;
}

const hollow_type *hollow_read_state_type_at(const hollow_read_state *rs, size_t i)
{
    return rs && i < rs->type_count ? &rs->types[i] : NULL;
}

const hollow_type *hollow_read_state_type_sorted(const hollow_read_state *rs,
                                                 size_t i)
{
    return rs && i < rs->type_count ? &rs->types[rs->by_name[i]] : NULL;
}

const hollow_type *hollow_read_state_type(const hollow_read_state *rs,
                                          const char *name)
{
    if (rs == NULL || name == NULL)
        return NULL;
    size_t lo = 0, hi = rs->type_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const hollow_type *t = &rs->types[rs->by_name[mid]];
        int c = strcmp(t->schema->name, name);
        if (c == 0)
            return t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool in_heap_buffer(const hollow__shard *s)
{
    return s->mapping != NULL && s->mapping->base != NULL;
}

/* `arrays`: count the record arrays of a shard in a heap buffer too */
static size_t shard_memory(const hollow__shard *s, size_t nf, bool arrays)
{
    size_t n = sizeof *s + (size_t)(s->pop_words + s->ghost_words) * 8;
    if (s->widths != NULL)
        n += (nf ? nf : 1) * (1 + sizeof(uint32_t) + sizeof(void *) +
                              sizeof(uint64_t));
    if (s->block != NULL || (arrays && in_heap_buffer(s))) {
        n += (size_t)(s->fixed_words + s->elem_words) * 8;
        for (size_t f = 0; f < nf; f++)
            n += (size_t)s->var_len[f];
    }
    return n;
}

static size_t type_memory(const hollow_type *t, bool arrays)
{
    size_t nf = t->schema->kind == HOLLOW_SCHEMA_OBJECT ? t->schema->field_count
                                                        : 0;
    size_t n = t->shard_count * sizeof(void *);
    for (uint32_t s = 0; s < t->shard_count; s++)
        n += shard_memory(t->shards[s], nf, arrays);
    return n;
}

/* does a shard before shard `si` of type `ti` point into m */
static bool buffer_seen(const hollow_read_state *rs, size_t ti, uint32_t si,
                        const hollow__mapping *m)
{
    for (size_t i = 0; i <= ti; i++) {
        const hollow_type *t = &rs->types[i];
        uint32_t end = i == ti ? si : t->shard_count;
        for (uint32_t s = 0; s < end; s++)
            if (t->shards[s]->mapping == m)
                return true;
    }
    return false;
}

/*
 * Heap buffers count whole, once, however few of their bytes the shards
 * still use (a state made by deltas keeps its snapshot's buffer alive).
 * Usually one or two: remembered in `recent`, else found by a scan.
 */
static size_t buffers_memory(const hollow_read_state *rs)
{
    const hollow__mapping *recent[8];
    size_t nrecent = 0, n = 0;
    for (size_t i = 0; i < rs->type_count; i++) {
        const hollow_type *t = &rs->types[i];
        for (uint32_t s = 0; s < t->shard_count; s++) {
            const hollow__shard *sh = t->shards[s];
            if (!in_heap_buffer(sh))
                continue;
            bool known = false;
            for (size_t k = 0; k < nrecent && !known; k++)
                known = recent[k] == sh->mapping;
            if (known)
                continue;
            if (nrecent == 8 && buffer_seen(rs, i, s, sh->mapping))
                continue;
            if (nrecent < 8)
                recent[nrecent++] = sh->mapping;
            n += sizeof *sh->mapping + sh->mapping->base_len;
        }
    }
    return n;
}

size_t hollow_read_state_memory(const hollow_read_state *rs)
{
    if (rs == NULL)
        return 0;
    size_t n = sizeof *rs + rs->type_count * (sizeof(hollow_type) + 4);
    for (size_t i = 0; i < rs->tag_count; i++)
        n += strlen(rs->tag_keys[i]) + strlen(rs->tag_values[i]) + 2 +
             2 * sizeof(char *);
    for (size_t i = 0; i < rs->type_count; i++)
        n += type_memory(&rs->types[i], false);
    return n + buffers_memory(rs);
}

size_t hollow_type_memory(const hollow_type *t)
{
    return t != NULL ? type_memory(t, true) : 0;
}

/* ------------------------------------------------------------- types */

/* NULL types give the documented sentinels (read.h) */
const char *hollow_type_name(const hollow_type *t)
{
    return t ? t->schema->name : NULL;
}
const hollow_schema *hollow_type_schema(const hollow_type *t)
{
    return t ? t->schema : NULL;
}
hollow_schema_kind hollow_type_kind(const hollow_type *t)
{
    return t ? t->schema->kind : HOLLOW_SCHEMA_OBJECT;
}
uint32_t hollow_type_shard_count(const hollow_type *t)
{
    return t ? t->shard_count : 0;
}
hollow_ordinal hollow_type_max_ordinal(const hollow_type *t)
{
    return t ? t->max_ordinal : HOLLOW_ORDINAL_NONE;
}
size_t hollow_type_record_count(const hollow_type *t) { return t ? t->count : 0; }

bool hollow_type_is_populated(const hollow_type *t, hollow_ordinal o)
{
    if (t == NULL || o < 0)
        return false;
    const hollow__shard *s = t->shards[(uint32_t)o & (t->shard_count - 1)];
    return hollow__shard_has(s, (uint32_t)o >> t->shard_bits);
}

hollow_ordinal hollow_type_next_ordinal(const hollow_type *t, hollow_ordinal from)
{
    if (t == NULL)
        return HOLLOW_ORDINAL_NONE;
    if (from < 0)
        from = 0;
    if (t->shard_count == 1) {
        const hollow__shard *s = t->shards[0];
        uint32_t w = (uint32_t)from >> 6;
        if (w >= s->pop_words)
            return HOLLOW_ORDINAL_NONE;
        uint64_t word = s->populated[w] & (~(uint64_t)0 << (from & 63));
        for (;;) {
            if (word)
                return (hollow_ordinal)(w * 64 + (uint32_t)__builtin_ctzll(word));
            if (++w >= s->pop_words)
                return HOLLOW_ORDINAL_NONE;
            word = s->populated[w];
        }
    }
    uint32_t mask = t->shard_count - 1;
    /* the largest populated ordinal is below n * 64 * max(pop_words) */
    uint64_t limit = 0;
    for (uint32_t s = 0; s < t->shard_count; s++) {
        uint64_t l = (uint64_t)t->shards[s]->pop_words * 64 * t->shard_count;
        if (l > limit)
            limit = l;
    }
    for (uint64_t o = (uint64_t)from; o < limit; o++) {
        const hollow__shard *s = t->shards[o & mask];
        if (hollow__shard_has(s, (uint32_t)(o >> t->shard_bits)))
            return (hollow_ordinal)o;
    }
    return HOLLOW_ORDINAL_NONE;
}
