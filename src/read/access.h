/*
 * Shared inline helpers of the accessors: find the slot of an ordinal,
 * read a field's raw bits, read a var-length value's byte range.
 */
#ifndef HOLLOW_SRC_READ_ACCESS_H
#define HOLLOW_SRC_READ_ACCESS_H

#include "common/bits.h"
#include "common/error.h"
#include "read_int.h"

/* The shard and slot of ordinal o, or HOLLOW_ENOTFOUND. */
static inline int hollow__locate(const hollow__shard **sh, uint32_t *slot,
                                 const hollow_type *t, hollow_ordinal o)
{
    if (o < 0 || o > t->max_ordinal)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "type %s has no ordinal %d", t->schema->name,
                                 (int)o);
    const hollow__shard *s = t->shards[(uint32_t)o & (t->shard_count - 1)];
    uint32_t j = (uint32_t)o >> t->shard_bits;
    if ((int64_t)j > s->max)
        return hollow__error_set(HOLLOW_ENOTFOUND,
                                 "type %s has no slot for ordinal %d",
                                 t->schema->name, (int)o);
    *sh = s;
    *slot = j;
    return 0;
}

static inline uint64_t hollow__field_raw(const hollow__shard *s, uint32_t j,
                                         size_t f)
{
    return hollow__bits_read(s->fixed, (uint64_t)j * s->rec_bits + s->offsets[f],
                             s->widths[f]);
}

/*
 * The bytes of var-length field f in slot j (§6.4): HOLLOW_NULL, 0, or
 * HOLLOW_ECORRUPT if the end offsets are out of order or past the buffer.
 */
static inline int hollow__var_range(const uint8_t **p, size_t *len,
                                    const hollow_type *t, const hollow__shard *s,
                                    uint32_t j, size_t f)
{
    unsigned w = s->widths[f];
    if (w == 0)
        return HOLLOW_NULL;
    uint64_t raw = hollow__field_raw(s, j, f);
    uint64_t mask = hollow__ones(w - 1);
    uint64_t end = raw & mask;
    uint64_t start = j == 0 ? 0 : (hollow__field_raw(s, j - 1, f) & mask);
    if (start > end || end > s->var_len[f])
        return hollow__error_set(HOLLOW_ECORRUPT,
                                 "type %s field %s: var-length offsets %llu..%llu "
                                 "outside buffer of %llu bytes",
                                 t->schema->name, t->schema->fields[f].name,
                                 (unsigned long long)start,
                                 (unsigned long long)end,
                                 (unsigned long long)s->var_len[f]);
    if ((raw >> (w - 1)) & 1)
        return HOLLOW_NULL;
    *p = s->var[f] + start;
    *len = (size_t)(end - start);
    return 0;
}

#endif
