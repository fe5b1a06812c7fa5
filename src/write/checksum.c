/*
 * The checksum of §12 computed on the write side, over the records of the
 * current state as the next snapshot will lay them out (its shard counts,
 * Java's bucket placement). Equal to hollow_read_state_checksum() of the
 * state a consumer reads from that snapshot: the producer's integrity
 * check and the writer tests rest on that.
 */
#include <string.h>

#include "blob/format.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/parallel.h"
#include "common/reader.h"
#include "write_int.h"

static void object_record(hollow__checksum *k, const hollow__wtype *t, uint32_t o,
                          const size_t *order, hollow__wval *vals)
{
    const hollow_schema *s = t->schema;
    size_t len;
    const uint8_t *p = hollow__wrec(t, o, &len);
    for (size_t f = 0; f < s->field_count; f++)
        p += hollow__wdecode_field(&vals[f], p, s->fields[f].type);
    for (size_t i = 0; i < s->field_count; i++) {
        size_t f = order[i];
        const hollow__wval *v = &vals[f];
        switch (s->fields[f].type) {
        case HOLLOW_FIELD_STRING:
        case HOLLOW_FIELD_BYTES:
            hollow__checksum_int(k, v->is_null ? 0xFFFFFFFFu
                                    : hollow__murmur(v->bytes ? v->bytes
                                                              : (const uint8_t *)"",
                                                     v->len));
            break;
        case HOLLOW_FIELD_FLOAT:
            hollow__checksum_long(k, v->is_null ? HOLLOW__FLOAT_NULL : v->v);
            break;
        case HOLLOW_FIELD_DOUBLE:
            hollow__checksum_long(k, v->is_null ? HOLLOW__DOUBLE_NULL : v->v);
            break;
        default: /* null is all ones of the width (§6.1) */
            if (v->is_null)
                hollow__checksum_int(k, 0x7FFFFFFFu);
            else
                hollow__checksum_long(k, v->v);
            break;
        }
    }
}

static int type_checksum(uint32_t *out, const hollow_write_state *ws,
                         hollow__wtype *t)
{
    const hollow_schema *s = t->schema;
    size_t nf = s->kind == HOLLOW_SCHEMA_OBJECT ? s->field_count : 0;
    size_t *order = hollow__calloc(nf ? nf : 1, sizeof *order);
    hollow__wval *vals = hollow__calloc(nf ? nf : 1, sizeof *vals);
    if (order == NULL || vals == NULL) {
        hollow__free(order);
        hollow__free(vals);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < nf; i++) { /* fields by ascending name */
        size_t j = i;
        while (j > 0 && strcmp(s->fields[order[j - 1]].name, s->fields[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    uint32_t n = t->shard_count ? t->shard_count : 1;
    uint32_t bits = (uint32_t)__builtin_ctz(n);
    const hollow__wbits *cur = &t->bits[t->cur_bits];
    hollow__wplacer pl = {0};
    hollow__checksum k = {0};
    int rc = 0;
    for (uint32_t sh = 0; sh < n && rc == 0; sh++) {
        for (uint64_t j = 0;; j++) {
            uint64_t o64 = (j << bits) | sh;
            if (o64 >= t->next_ordinal)
                break;
            uint32_t o = (uint32_t)o64;
            if (!hollow__wbits_has(cur, o))
                continue;
            hollow__checksum_int(&k, o);
            if (s->kind == HOLLOW_SCHEMA_OBJECT) {
                object_record(&k, t, o, order, vals);
            } else if (s->kind == HOLLOW_SCHEMA_LIST) {
                size_t len;
                const uint8_t *p = hollow__wrec(t, o, &len);
                uint32_t size, e;
                p += hollow__wvint(p, &size);
                for (uint32_t i = 0; i < size; i++) {
                    p += hollow__wvint(p, &e);
                    hollow__checksum_int(&k, e);
                }
            } else {
                uint32_t tsize;
                if ((rc = hollow__wplace(&tsize, &pl, ws, t, o)) < 0)
                    break;
                for (uint32_t b = 0; b < tsize; b++) {
                    if (pl.table[b] == UINT32_MAX)
                        continue;
                    hollow__checksum_int(&k, b);
                    hollow__checksum_int(&k, pl.keys[pl.table[b]]);
                    if (s->kind == HOLLOW_SCHEMA_MAP)
                        hollow__checksum_int(&k, pl.vals[pl.table[b]]);
                }
            }
        }
    }
    hollow__wplacer_free(&pl);
    hollow__free(order);
    hollow__free(vals);
    *out = k.c;
    return rc;
}

typedef struct sums_job {
    hollow_write_state *ws;
    uint32_t *sums; /* by type index */
} sums_job;

static int sum_task(void *ctx, size_t i)
{
    sums_job *j = ctx;
    return type_checksum(&j->sums[i], j->ws, &j->ws->types[i]);
}

int hollow_write_state_checksum(uint32_t *out, hollow_write_state *ws)
{
    if (out == NULL || ws == NULL)
        return hollow__error_set(HOLLOW_EINVAL, "null argument");
    int rc = hollow__ws_choose_shards(ws);
    if (rc < 0)
        return rc;
    /* types by ascending name */
    size_t n = ws->type_count;
    size_t *idx = hollow__calloc(n ? n : 1, sizeof *idx);
    sums_job j = {ws, hollow__calloc(n ? n : 1, sizeof *j.sums)};
    if (idx == NULL || j.sums == NULL) {
        hollow__free(idx);
        hollow__free(j.sums);
        return hollow__error_oom();
    }
    for (size_t i = 0; i < n; i++) {
        size_t k = i;
        while (k > 0 && strcmp(ws->types[idx[k - 1]].schema->name,
                               ws->types[i].schema->name) > 0) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = i;
    }
    /* each type reads its own records and those its hash keys reach, and
     * memoises into its own statistics: independent */
    rc = hollow__parallel_for(hollow__threads_or_cores(ws->opts.threads), n,
                              sum_task, &j);
    hollow__checksum k = {0};
    for (size_t i = 0; i < n && rc == 0; i++)
        hollow__checksum_int(&k, j.sums[idx[i]]);
    hollow__free(idx);
    hollow__free(j.sums);
    if (rc == 0)
        *out = k.c;
    return rc;
}
