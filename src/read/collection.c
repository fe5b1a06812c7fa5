/*
 * LIST, SET and MAP accessors (blob-format.md §7, §8).
 *
 * Every record's content is a range [start, end) of the shard's element
 * (LIST) or bucket (SET/MAP) array, where end is the record's pointer entry
 * and start the previous slot's (0 for slot 0). Pointers come from the
 * blob, so each access checks start <= end <= capacity of the array.
 * SET/MAP buckets hold ones(width) when empty; lookups probe linearly from
 * the home bucket `hash AND (t - 1)` and never more than t buckets, so even
 * a table whose size is not a power of two terminates.
 */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "common/hash.h"
#include "keyhash.h"

typedef struct range {
    const hollow__shard *s;
    uint64_t start, end;
    uint32_t size; /* SET/MAP size field */
} range;

static int kind_error(const hollow_type *t, const char *want)
{
    return hollow__error_set(HOLLOW_EINVAL, "type %s is not a %s",
                             t->schema->name, want);
}

/* element capacity of the shard's element/bucket array */
static uint64_t capacity(const hollow__shard *s, unsigned bits)
{
    return bits ? s->elem_words * 64 / bits : 0;
}

int hollow__coll_range(uint64_t *start, uint64_t *end, const hollow_type *t,
                       const hollow__shard *s, uint32_t j, hollow_ordinal o)
{
    unsigned P = s->ptr_bits;
    uint64_t entry = (uint64_t)P + s->size_bits;
    *end = hollow__bits_read(s->fixed, j * entry, P);
    *start = j == 0 ? 0 : hollow__bits_read(s->fixed, (j - 1) * entry, P);
    unsigned bits = t->schema->kind == HOLLOW_SCHEMA_MAP
                        ? (unsigned)s->elem_bits + s->value_bits
                        : s->elem_bits;
    uint64_t cap = capacity(s, bits);
    if (*start <= *end && *end <= cap)
        return 0;
    char who[32] = "";
    if (o != HOLLOW_ORDINAL_NONE)
        snprintf(who, sizeof who, " ordinal %d", (int)o);
    return hollow__error_set(HOLLOW_ECORRUPT, "type %s%s: pointers %llu..%llu "
                             "outside an array of %llu entries",
                             t->schema->name, who, (unsigned long long)*start,
                             (unsigned long long)*end,
                             (unsigned long long)cap);
}

/* check the caller's out parameter and t, then find record o's range */
static int get_range(range *r, const void *out, const hollow_type *t,
                     hollow_ordinal o, hollow_schema_kind want)
{
    HOLLOW__ARG_NOT_NULL(out);
    HOLLOW__ARG_NOT_NULL(t);
    if (t->schema->kind != want)
        return kind_error(t, want == HOLLOW_SCHEMA_LIST  ? "LIST"
                             : want == HOLLOW_SCHEMA_SET ? "SET"
                                                         : "MAP");
    const hollow__shard *s = NULL;
    uint32_t j = 0;
    int rc = hollow__locate(&s, &j, t, o);
    if (rc < 0)
        return rc;
    r->s = s;
    r->size = want == HOLLOW_SCHEMA_LIST
                    ? 0
                    : (uint32_t)hollow__bits_read(
                          s->fixed,
                          j * ((uint64_t)s->ptr_bits + s->size_bits) +
                              s->ptr_bits,
                          s->size_bits);
    if ((rc = hollow__coll_range(&r->start, &r->end, t, s, j, o)) < 0)
        return rc;
    if (want == HOLLOW_SCHEMA_LIST && r->end - r->start > INT32_MAX)
        return hollow__error_set(HOLLOW_ECORRUPT, "type %s ordinal %d: list too "
                                 "long", t->schema->name, (int)o);
    return 0;
}

/* a LIST's element count, or a SET's or MAP's size field */
static int size_of(uint32_t *out, const hollow_type *t, hollow_ordinal o,
                   hollow_schema_kind kind)
{
    range r;
    int rc = get_range(&r, out, t, o, kind);
    if (rc == 0)
        *out = kind == HOLLOW_SCHEMA_LIST ? (uint32_t)(r.end - r.start) : r.size;
    return rc;
}

int hollow_list_size(uint32_t *out, const hollow_type *t, hollow_ordinal o)
{
    return size_of(out, t, o, HOLLOW_SCHEMA_LIST);
}

int hollow_list_get(hollow_ordinal *out, const hollow_type *t, hollow_ordinal o,
                    uint32_t i)
{
    range r;
    int rc = get_range(&r, out, t, o, HOLLOW_SCHEMA_LIST);
    if (rc < 0)
        return rc;
    if (i >= r.end - r.start)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "list %s ordinal %d has no element %u",
                                 t->schema->name, (int)o, i);
    uint64_t e = hollow__bits_read(r.s->elems, (r.start + i) * r.s->elem_bits,
                                   r.s->elem_bits);
    if (e > INT32_MAX)
        return hollow__error_set(HOLLOW_ECORRUPT, "list %s ordinal %d: element "
                                 "ordinal too large", t->schema->name, (int)o);
    *out = (hollow_ordinal)e;
    return 0;
}

int hollow_set_size(uint32_t *out, const hollow_type *t, hollow_ordinal o)
{
    return size_of(out, t, o, HOLLOW_SCHEMA_SET);
}

int hollow_map_size(uint32_t *out, const hollow_type *t, hollow_ordinal o)
{
    return size_of(out, t, o, HOLLOW_SCHEMA_MAP);
}

/* an iterator over the buckets of SET or MAP record o */
static int iter_init(hollow_iter *it, const hollow_type *t, hollow_ordinal o,
                     hollow_schema_kind kind)
{
    HOLLOW__ARG_NOT_NULL(it);
    HOLLOW__ARG_NOT_NULL(t);
    range r;
    memset(it, 0, sizeof *it);
    int rc = get_range(&r, it, t, o, kind);
    if (rc < 0)
        return rc;
    it->shard_ = r.s;
    it->pos_ = r.start;
    it->end_ = r.end;
    return 0;
}

int hollow_set_iter_init(hollow_iter *it, const hollow_type *t, hollow_ordinal o)
{
    return iter_init(it, t, o, HOLLOW_SCHEMA_SET);
}

bool hollow_set_iter_next(hollow_iter *it, hollow_ordinal *elem)
{
    if (it == NULL || elem == NULL)
        return false;
    const hollow__shard *s = it->shard_;
    while (it->pos_ < it->end_) {
        uint64_t e = hollow__bits_read(s->elems, it->pos_ * s->elem_bits,
                                       s->elem_bits);
        it->pos_++;
        if (e != hollow__ones(s->elem_bits)) {
            *elem = e > INT32_MAX ? HOLLOW_ORDINAL_NONE : (hollow_ordinal)e;
            return true;
        }
    }
    return false;
}

int hollow_map_iter_init(hollow_iter *it, const hollow_type *t, hollow_ordinal o)
{
    return iter_init(it, t, o, HOLLOW_SCHEMA_MAP);
}

static inline void read_entry(const hollow__shard *s, uint64_t b, uint64_t *k,
                              uint64_t *v)
{
    uint64_t at = b * ((uint64_t)s->elem_bits + s->value_bits);
    *k = hollow__bits_read(s->elems, at, s->elem_bits);
    *v = hollow__bits_read(s->elems, at + s->elem_bits, s->value_bits);
}

bool hollow_map_iter_next(hollow_iter *it, hollow_ordinal *key,
                          hollow_ordinal *value)
{
    if (it == NULL || key == NULL || value == NULL)
        return false;
    const hollow__shard *s = it->shard_;
    while (it->pos_ < it->end_) {
        uint64_t k, v;
        read_entry(s, it->pos_, &k, &v);
        it->pos_++;
        if (k != hollow__ones(s->elem_bits)) {
            *key = k > INT32_MAX ? HOLLOW_ORDINAL_NONE : (hollow_ordinal)k;
            *value = v > INT32_MAX ? HOLLOW_ORDINAL_NONE : (hollow_ordinal)v;
            return true;
        }
    }
    return false;
}

/*
 * Probe the table of r from hash h for a bucket that `match` accepts; at
 * most t buckets are visited. Returns the bucket index or -1.
 */
typedef bool (*bucket_match)(const hollow__shard *s, uint64_t bucket, void *ctx);

static int64_t probe(const range *r, uint32_t h, bucket_match match, void *ctx,
                     bool is_map)
{
    uint64_t t = r->end - r->start;
    if (t == 0)
        return -1;
    const hollow__shard *s = r->s;
    uint64_t empty = hollow__ones(s->elem_bits);
    uint64_t width = is_map ? (uint64_t)s->elem_bits + s->value_bits
                            : s->elem_bits;
    bool pow2 = (t & (t - 1)) == 0;
    uint64_t b = pow2 ? (h & (t - 1)) : (h % t);
    for (uint64_t n = 0; n < t; n++) {
        uint64_t k = hollow__bits_read(s->elems, (r->start + b) * width,
                                       s->elem_bits);
        if (k == empty)
            return -1;
        if (match(s, r->start + b, ctx))
            return (int64_t)(r->start + b);
        b = b + 1 == t ? 0 : b + 1;
    }
    return -1;
}

static bool match_set_ordinal(const hollow__shard *s, uint64_t b, void *ctx)
{
    return hollow__bits_read(s->elems, b * s->elem_bits, s->elem_bits) ==
           *(uint64_t *)ctx;
}

static bool match_map_key(const hollow__shard *s, uint64_t b, void *ctx)
{
    uint64_t k, v;
    read_entry(s, b, &k, &v);
    return k == *(uint64_t *)ctx;
}

int hollow_set_contains(bool *out, const hollow_type *t, hollow_ordinal o,
                        hollow_ordinal elem)
{
    HOLLOW__ARG_NOT_NULL(out);
    range r;
    *out = false;
    int rc = get_range(&r, out, t, o, HOLLOW_SCHEMA_SET);
    if (rc < 0)
        return rc;
    if (elem < 0)
        return 0;
    uint32_t h;
    if ((rc = hollow__keyhash_of_record(&h, t, elem)) < 0) {
        /* an element ordinal without a record cannot be in the set */
        if (rc == HOLLOW_ENOTFOUND) {
            hollow_error_clear();
            return 0;
        }
        return rc;
    }
    uint64_t want = (uint64_t)elem;
    *out = probe(&r, h, match_set_ordinal, &want, false) >= 0;
    return 0;
}

int hollow_map_get(hollow_ordinal *value, const hollow_type *t,
                   hollow_ordinal o, hollow_ordinal key)
{
    HOLLOW__ARG_NOT_NULL(value);
    range r;
    *value = HOLLOW_ORDINAL_NONE;
    int rc = get_range(&r, value, t, o, HOLLOW_SCHEMA_MAP);
    if (rc < 0)
        return rc;
    uint32_t h;
    if (key < 0 || (rc = hollow__keyhash_of_record(&h, t, key)) < 0)
        return key < 0 || rc == HOLLOW_ENOTFOUND
                   ? hollow__error_set(HOLLOW_ENOTFOUND, "map %s ordinal %d has "
                                       "no key %d", t->schema->name, (int)o,
                                       (int)key)
                   : rc;
    uint64_t want = (uint64_t)key;
    int64_t b = probe(&r, h, match_map_key, &want, true);
    if (b < 0)
        return hollow__error_set(HOLLOW_ENOTFOUND, "map %s ordinal %d has no "
                                 "key %d", t->schema->name, (int)o, (int)key);
    uint64_t k, v;
    read_entry(r.s, (uint64_t)b, &k, &v);
    *value = (hollow_ordinal)v;
    return 0;
}

/* keyed lookups: compare the candidate's key fields with the probe values */
typedef struct key_ctx {
    const hollow_type *t;
    const hollow_value *keys;
    size_t count;
    bool is_map;
    int err;
} key_ctx;

static bool match_keys(const hollow__shard *s, uint64_t b, void *vctx)
{
    key_ctx *c = vctx;
    uint64_t k, v;
    if (c->is_map)
        read_entry(s, b, &k, &v);
    else
        k = hollow__bits_read(s->elems, b * s->elem_bits, s->elem_bits);
    bool eq = false;
    int rc = hollow__keyhash_equals(&eq, c->t, (hollow_ordinal)k, c->keys,
                                    c->count);
    if (rc < 0)
        c->err = rc;
    return rc >= 0 && eq;
}

static int find_keyed(int64_t *bucket, range *r, const hollow_type *t,
                      hollow_ordinal o, const hollow_value *keys, size_t n,
                      hollow_schema_kind kind)
{
    int rc = get_range(r, keys, t, o, kind);
    if (rc < 0)
        return rc;
    uint32_t h;
    if ((rc = hollow__keyhash_of_values(&h, t, keys, n)) < 0)
        return rc;
    key_ctx c = {t, keys, n, kind == HOLLOW_SCHEMA_MAP, 0};
    *bucket = probe(r, h, match_keys, &c, c.is_map);
    if (c.err < 0)
        return c.err;
    if (*bucket < 0)
        return hollow__error_set(HOLLOW_ENOTFOUND, "%s ordinal %d: no entry "
                                 "with that key", t->schema->name, (int)o);
    return 0;
}

int hollow_set_find(hollow_ordinal *elem, const hollow_type *t, hollow_ordinal o,
                    const hollow_value *keys, size_t key_count)
{
    HOLLOW__ARG_NOT_NULL(elem);
    HOLLOW__ARG_NOT_NULL(t);
    HOLLOW__ARG_NOT_NULL(keys);
    range r;
    int64_t b;
    *elem = HOLLOW_ORDINAL_NONE;
    int rc = find_keyed(&b, &r, t, o, keys, key_count, HOLLOW_SCHEMA_SET);
    if (rc < 0)
        return rc;
    *elem = (hollow_ordinal)hollow__bits_read(r.s->elems,
                                              (uint64_t)b * r.s->elem_bits,
                                              r.s->elem_bits);
    return 0;
}

int hollow_map_find(hollow_ordinal *key, hollow_ordinal *value,
                    const hollow_type *t, hollow_ordinal o,
                    const hollow_value *keys, size_t key_count)
{
    HOLLOW__ARG_NOT_NULL(key);
    HOLLOW__ARG_NOT_NULL(value);
    HOLLOW__ARG_NOT_NULL(t);
    HOLLOW__ARG_NOT_NULL(keys);
    range r;
    int64_t b;
    *key = *value = HOLLOW_ORDINAL_NONE;
    int rc = find_keyed(&b, &r, t, o, keys, key_count, HOLLOW_SCHEMA_MAP);
    if (rc < 0)
        return rc;
    uint64_t k, v;
    read_entry(r.s, (uint64_t)b, &k, &v);
    *key = (hollow_ordinal)k;
    *value = (hollow_ordinal)v;
    return 0;
}
