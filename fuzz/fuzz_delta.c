/*
 * Fuzz target: applying a hostile delta to a valid state (blob-format.md
 * §9; style.md B10).
 *
 * The first input byte picks the base state, a golden snapshot that Java
 * wrote (every kind, sharding, resharding, schema changes); the rest is the
 * delta. The seed corpus holds the real deltas of those snapshots behind
 * their selector byte, so mutations get past the origin-tag check and into
 * the section decoding; hostile seeds (tests/unit/test_hostile.c writes
 * them) raise max ordinals and shard counts. The mutator of blob_mutator.h
 * rewrites those counts.
 *
 * The oracle is cheap, so that an input costs about what its delta does
 * (not a dump of whole states): when a delta applies, the checksum of one
 * type of the new state (chosen by the input) and a walk of the first
 * records of every type through the accessors; the base state must be
 * unchanged either way (every type's counts, and the checksum of one type
 * against the one computed at start). Run it with a memory limit
 * (docs/limits.md), so that an amplification is a finding:
 *
 *   fuzz_delta -rss_limit_mb=2048 -malloc_limit_mb=256 corpus/
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob_mutator.h"
#include "hollow/error.h"
#include "hollow/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* records of each type walked per applied delta */
#define WALK_RECORDS 64

#ifndef HOLLOW_GOLDEN_DIR
#error "HOLLOW_GOLDEN_DIR must point at tests/golden"
#endif

static const char *BASES[] = {
    "a_primitives/snapshot-20250101000000001",
    "b_collections/snapshot-20250101000000001",
    "c_primary_keys/snapshot-20250101000000002",
    "d_sharding/snapshot-20250101000000001",
    "d2_resharding/snapshot-20250101000000002",
    "e_schema_change/snapshot-20250101000000002",
};
#define NBASES (sizeof BASES / sizeof *BASES)

static hollow_read_state *base[NBASES];

/* what must not change in a base state: per type, counts and checksum */
typedef struct type_print {
    hollow_ordinal max;
    size_t count;
    uint32_t shards;
    uint32_t checksum;
} type_print;
static type_print *base_print[NBASES];

static void print_type(type_print *p, const hollow_type *t)
{
    p->max = hollow_type_max_ordinal(t);
    p->count = hollow_type_record_count(t);
    p->shards = hollow_type_shard_count(t);
    if (hollow_type_checksum(&p->checksum, t) < 0)
        abort();
}

/* read every field of the first records of each type; any documented
 * result is fine, a crash or a sanitizer report is not */
static void walk(const hollow_read_state *rs)
{
    for (size_t i = 0; i < hollow_read_state_type_count(rs); i++) {
        const hollow_type *t = hollow_read_state_type_at(rs, i);
        const hollow_schema *s = hollow_type_schema(t);
        hollow_ordinal o = hollow_type_next_ordinal(t, 0);
        for (int k = 0; k < WALK_RECORDS && o != HOLLOW_ORDINAL_NONE; k++) {
            uint32_t n;
            hollow_ordinal e;
            switch (hollow_type_kind(t)) {
            case HOLLOW_SCHEMA_OBJECT:
                for (size_t f = 0; f < hollow_schema_field_count(s); f++) {
                    hollow_value v;
                    (void)hollow_object_value(&v, t, o, f);
                }
                break;
            case HOLLOW_SCHEMA_LIST:
                if (hollow_list_size(&n, t, o) == HOLLOW_OK && n > 0)
                    (void)hollow_list_get(&e, t, o, n - 1);
                break;
            case HOLLOW_SCHEMA_SET:
                (void)hollow_set_size(&n, t, o);
                break;
            default:
                (void)hollow_map_size(&n, t, o);
                break;
            }
            o = hollow_type_next_ordinal(t, o + 1);
        }
    }
}

static void init(void)
{
    for (size_t i = 0; i < NBASES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", HOLLOW_GOLDEN_DIR, BASES[i]);
        if (hollow_read_state_open(&base[i], path, NULL) < 0) {
            fprintf(stderr, "fuzz_delta: cannot load %s: %s\n", path,
                    hollow_error_last()->message);
            abort();
        }
        size_t nt = hollow_read_state_type_count(base[i]);
        base_print[i] = calloc(nt ? nt : 1, sizeof *base_print[i]);
        if (base_print[i] == NULL)
            abort();
        for (size_t t = 0; t < nt; t++)
            print_type(&base_print[i][t],
                       hollow_read_state_type_at(base[i], t));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base[0] == NULL)
        init();
    if (size < 1)
        return 0;
    size_t which = data[0] % NBASES;
    hollow_read_state *next = NULL;
    int rc = hollow_read_state_apply_delta(&next, base[which], data + 1,
                                           size - 1);
    if (rc < 0) {
        if (next != NULL || hollow_error_last()->message[0] == '\0' ||
            hollow_error_last()->code != rc)
            abort();
    } else {
        size_t nt = hollow_read_state_type_count(next);
        uint32_t c;
        if (nt > 0)
            (void)hollow_type_checksum(
                &c, hollow_read_state_type_at(next, size % nt));
        walk(next);
        hollow_read_state_release(next);
    }
    /* the base state must never change */
    size_t nt = hollow_read_state_type_count(base[which]);
    for (size_t t = 0; t < nt; t++) {
        const hollow_type *bt = hollow_read_state_type_at(base[which], t);
        type_print p = base_print[which][t];
        if (hollow_type_max_ordinal(bt) != p.max ||
            hollow_type_record_count(bt) != p.count ||
            hollow_type_shard_count(bt) != p.shards)
            abort();
    }
    type_print now;
    if (nt > 0) {
        print_type(&now, hollow_read_state_type_at(base[which], size % nt));
        if (now.checksum != base_print[which][size % nt].checksum)
            abort();
    }
    return 0;
}

#ifdef HOLLOW_LIBFUZZER
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

/* byte 0 (the base) is left to libFuzzer's own mutations */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    return hollow_fuzz_blob_mutate(data, size, max_size, seed, 1);
}
#endif
