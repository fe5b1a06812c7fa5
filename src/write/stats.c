/*
 * Statistics of a type over the retained set (blob-format.md §6.2, §7.1,
 * §8.2, §8.5, §10.5) and Java's choice of shard counts (§10.8).
 *
 * The retained set is every record in the type's ordinal map: the records
 * of the previous state and of the current one (the map drops the others
 * at each cycle start). One pass over it gives every width and total.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/bits.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/reader.h"
#include "write_int.h"

void hollow__wstats_free(hollow__wstats *s)
{
    hollow__free(s->widths);
    hollow__free(s->var_total);
    hollow__free(s->totals);
    memset(s, 0, sizeof *s);
}

static size_t read_vint(const uint8_t *p, uint32_t *v)
{
    return hollow__vint_decode(p, 5, v);
}

int hollow__wstats_compute(hollow__wstats *out, hollow_write_state *ws,
                           hollow__wtype *t, uint32_t shards, bool use_prev)
{
    (void)ws;
    (void)use_prev;
    memset(out, 0, sizeof *out);
    const hollow_schema *s = t->schema;
    size_t nf = s->kind == HOLLOW_SCHEMA_OBJECT ? s->field_count : 0;
    out->shards = shards;
    out->widths = hollow__calloc(nf ? nf : 1, 1);
    out->var_total = hollow__calloc(nf ? nf : 1, sizeof *out->var_total);
    out->totals = hollow__calloc(shards, sizeof *out->totals);
    if (!out->widths || !out->var_total || !out->totals) {
        hollow__wstats_free(out);
        return hollow__error_oom();
    }
    int32_t M = -1;
    uint64_t max_elem = 0, max_value = 0, max_size = 0;
    uint8_t *w = out->widths;
    for (uint32_t o = 0; o < t->next_ordinal; o++) {
        if (t->off[o] == HOLLOW__NO_RECORD)
            continue;
        M = (int32_t)o;
        size_t len;
        const uint8_t *p = hollow__wrec(t, o, &len);
        uint32_t shard = o & (shards - 1);
        if (s->kind == HOLLOW_SCHEMA_OBJECT) {
            for (size_t f = 0; f < nf; f++) {
                hollow__wval v;
                hollow_field_type ft = s->fields[f].type;
                p += hollow__wdecode_field(&v, p, ft);
                unsigned n;
                switch (ft) {
                case HOLLOW_FIELD_STRING:
                case HOLLOW_FIELD_BYTES:
                    out->var_total[f] += v.is_null ? 0 : v.len;
                    continue;
                case HOLLOW_FIELD_BOOLEAN: n = 2; break;
                case HOLLOW_FIELD_FLOAT: n = 32; break;
                case HOLLOW_FIELD_DOUBLE: n = 64; break;
                default: /* INT, LONG, REFERENCE: bitlen(value + 1), 64-bit */
                    n = v.is_null ? 1 : hollow__bitlen(v.v + 1);
                    break;
                }
                if (n > w[f])
                    w[f] = (uint8_t)n;
            }
            continue;
        }
        uint32_t size;
        p += read_vint(p, &size);
        if (size > max_size)
            max_size = size;
        if (s->kind == HOLLOW_SCHEMA_LIST) {
            out->totals[shard] += size;
            for (uint32_t i = 0; i < size; i++) {
                uint32_t e;
                p += read_vint(p, &e);
                if (e > max_elem)
                    max_elem = e;
            }
            continue;
        }
        out->totals[shard] += hollow__hash_table_size(size);
        uint32_t prev = 0;
        for (uint32_t i = 0; i < size; i++) {
            uint32_t gap, val, bucket;
            p += read_vint(p, &gap);
            uint32_t e = prev + gap;
            prev = e;
            if (s->kind == HOLLOW_SCHEMA_MAP) {
                p += read_vint(p, &val);
                if (val > max_value)
                    max_value = val;
            }
            p += read_vint(p, &bucket);
            if (e > max_elem)
                max_elem = e;
        }
    }
    out->max_ordinal = M;
    uint64_t max_total = 0;
    for (uint32_t i = 0; i < shards; i++) {
        out->total += out->totals[i];
        if (out->totals[i] > max_total)
            max_total = out->totals[i];
    }
    bool empty = M < 0;
    switch (s->kind) {
    case HOLLOW_SCHEMA_OBJECT:
        for (size_t f = 0; f < nf; f++) {
            hollow_field_type ft = s->fields[f].type;
            if (ft == HOLLOW_FIELD_STRING || ft == HOLLOW_FIELD_BYTES)
                w[f] = (uint8_t)(hollow__bitlen(out->var_total[f] + 1) + 1);
            else if (empty)
                w[f] = 0;
            out->rec_bits += w[f];
        }
        break;
    case HOLLOW_SCHEMA_LIST:
        out->elem_bits = (uint8_t)(max_elem == 0 ? 1 : hollow__bitlen(max_elem));
        out->ptr_bits = (uint8_t)(max_total == 0 ? 1 : hollow__bitlen(max_total));
        break;
    case HOLLOW_SCHEMA_SET:
        out->elem_bits = (uint8_t)hollow__bitlen(max_elem + 1);
        out->size_bits = (uint8_t)hollow__bitlen(max_size);
        out->ptr_bits = (uint8_t)hollow__bitlen(max_total);
        break;
    case HOLLOW_SCHEMA_MAP:
        out->elem_bits = (uint8_t)hollow__bitlen(max_elem + 1);
        out->value_bits =
            (uint8_t)(max_value == 0 ? 1 : hollow__bitlen(max_value));
        out->size_bits = (uint8_t)hollow__bitlen(max_size);
        out->ptr_bits = (uint8_t)hollow__bitlen(max_total);
        break;
    }
    return 0;
}

uint64_t hollow__wstats_projected(const hollow__wstats *s, const hollow__wtype *t)
{
    uint64_t slots = (uint64_t)((int64_t)s->max_ordinal + 1);
    switch (t->schema->kind) {
    case HOLLOW_SCHEMA_OBJECT: {
        uint64_t v = (uint64_t)s->rec_bits * slots / 8;
        for (size_t f = 0; f < t->schema->field_count; f++)
            v += s->var_total[f];
        return v;
    }
    case HOLLOW_SCHEMA_LIST: {
        uint64_t c = s->total;
        uint64_t pg = c == 0 ? 1 : hollow__bitlen(c);
        /* (sic: +1 inside, and M, not M+1, §10.8) */
        return (uint64_t)s->elem_bits * c / 8 +
               (uint64_t)((int64_t)pg * s->max_ordinal + 1) / 8;
    }
    case HOLLOW_SCHEMA_SET:
        return ((uint64_t)s->size_bits + hollow__bitlen(s->total)) * slots / 8 +
               (uint64_t)s->elem_bits * s->total / 8;
    default:
        return ((uint64_t)s->size_bits + hollow__bitlen(s->total)) * slots / 8 +
               ((uint64_t)s->elem_bits + s->value_bits) * s->total / 8;
    }
}

/* §10.8: the smallest power of two n with target * n >= projected */
static uint32_t shards_for(uint64_t projected, uint64_t target)
{
    uint32_t n = 1;
    while (n < (1u << 30) && (__uint128_t)target * n < projected)
        n *= 2;
    return n;
}

int hollow__ws_choose_shards(hollow_write_state *ws)
{
    if (ws->shards_chosen) /* once per cycle: resharding moves one step */
        return 0;
    uint64_t target = ws->opts.target_shard_size ? ws->opts.target_shard_size
                                                 : 16u * 1024 * 1024;
    for (size_t i = 0; i < ws->type_count; i++) {
        hollow__wtype *t = &ws->types[i];
        if (t->shards_fixed && t->shard_count != 0)
            continue;
        if (t->shard_count != 0 && !ws->opts.resharding)
            continue;
        if (target == UINT64_MAX) {
            t->shard_count = 1;
            continue;
        }
        hollow__wstats st;
        int rc = hollow__wstats_compute(&st, ws, t, 1, true);
        if (rc < 0)
            return rc;
        uint32_t want = shards_for(hollow__wstats_projected(&st, t), target);
        hollow__wstats_free(&st);
        if (t->shard_count == 0)
            t->shard_count = want;
        else if (want > t->shard_count) /* one step per version */
            t->shard_count *= 2;
        else if (want < t->shard_count)
            t->shard_count /= 2;
    }
    for (size_t i = 0; i < ws->type_count; i++)
        ws->types[i].cycle_shards = ws->types[i].shard_count;
    ws->shards_chosen = true;
    return 0;
}
